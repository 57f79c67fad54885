/*
 * ocl_buffer.c: device buffers (one cl_mem each) and the blocking host transfers.
 */
#include <stdlib.h>
#include <string.h>

#include "ocl_impl.h"

/*
 * Oclgrind 21.10 (the simulated device of `nncl check --simulate`) keeps, per buffer, which bytes were
 * written, and gets it wrong in three ways, each shown without nncl by tests/check/oclgrind_host_write.c:
 *   offset   a clEnqueueWriteBuffer at a non-zero offset leaves the bytes it wrote marked uninitialised;
 *   partial  after a host write of only the first S bytes of a buffer, kernel stores past S are not
 *            marked written (a batch written next to its targets, then the targets stored by a kernel);
 *   reuse    in a buffer created after a smaller one was released, kernel stores past the released size
 *            are not marked written (a product's output in the workspace of a new model).
 * Each showed as "uninitialized value" in whatever kernel read those bytes next: about 300 reports in a
 * training run, and the reports of `nncl check`'s whole-network step that looked like CLBlast's. On that
 * device only (st->oclgrind_workaround), therefore, a host write of part of a buffer goes to a scratch
 * buffer written whole and our own nncl_copy moves it into place, and a freed buffer is kept until the
 * backend is freed (a simulated run is small). Every other device takes the direct write and releases at
 * once. A real uninitialised read still shows: only bytes that were written are marked.
 * NNCL_OCLGRIND_WORKAROUND=off (or 0) switches the workaround off on Oclgrind too (ocl_device.c), to
 * reproduce the false reports it avoids: docs/validation.md, "Simulated device", has the command.
 */
void ocl_mem_release(struct ocl_state *st, cl_mem mem) {
    if (!mem) return;
    if (st->oclgrind_workaround) {
        if (st->n_retired == st->cap_retired) {
            const size_t cap = st->cap_retired ? 2 * st->cap_retired : 64;
            cl_mem *grown = realloc(st->retired, cap * sizeof *grown);
            if (!grown) {
                clReleaseMemObject(mem); /* out of host memory: the simulator's report is the lesser harm */
                return;
            }
            st->retired = grown, st->cap_retired = cap;
        }
        st->retired[st->n_retired++] = mem;
        return;
    }
    clReleaseMemObject(mem);
}

void ocl_retired_release(struct ocl_state *st) {
    for (size_t i = 0; i < st->n_retired; i++) clReleaseMemObject(st->retired[i]);
    free(st->retired);
    st->retired = NULL, st->n_retired = st->cap_retired = 0;
}

static enum nncl_status oclgrind_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                       const void *src, size_t nbytes) {
    struct ocl_state *st = ocl_state_of(be);
    cl_int err = CL_SUCCESS;
    cl_mem tmp = clCreateBuffer(st->context, CL_MEM_READ_WRITE, nbytes, NULL, &err);
    NNCL_CL_CHECK(err);
    err = clEnqueueWriteBuffer(st->queue, tmp, CL_TRUE, 0, nbytes, src, 0, NULL, NULL);
    enum nncl_status s = err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clEnqueueWriteBuffer", __FILE__, __LINE__);
    if (!s) {
        cl_ulong n = nbytes / sizeof(float), s_off = 0, d_off = byte_offset / sizeof(float);
        cl_mem dst = (cl_mem)buf->handle;
        const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(tmp), OCL_ARG(s_off), OCL_ARG(dst), OCL_ARG(d_off)};
        s = ocl_launch(be, "copy", OCL_KERNEL_COPY, n, args, 5);
    }
    if (!s && (err = clFinish(st->queue)) != CL_SUCCESS) s = nncl_cl_fail(err, "clFinish", __FILE__, __LINE__);
    ocl_mem_release(st, tmp);
    return s;
}

enum nncl_status ocl_buffer_alloc(struct nncl_backend *be, struct nncl_buffer *buf) {
    struct ocl_state *st = ocl_state_of(be);
    cl_int err = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(st->context, CL_MEM_READ_WRITE, buf->size, NULL, &err);
    if (err != CL_SUCCESS) {
        if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES || err == CL_INVALID_BUFFER_SIZE ||
            err == CL_OUT_OF_HOST_MEMORY) {
            return nncl_set_error(NNCL_ERR_OOM, "OpenCL: could not allocate %zu bytes on \"%s\" (%s); use a "
                                  "smaller batch or net, or another device (NNCL_OPENCL_DEVICE)",
                                  buf->size, st->device_name, nncl_cl_error_name(err));
        }
        return nncl_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
    }
    buf->handle = mem;
    return NNCL_OK;
}

void ocl_buffer_free(struct nncl_backend *be, struct nncl_buffer *buf) {
    ocl_mem_release(ocl_state_of(be), (cl_mem)buf->handle);
}

/* Blocking writes: the host array may be reused as soon as this returns. */
enum nncl_status ocl_buffer_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                 const void *src, size_t nbytes) {
    struct ocl_state *st = ocl_state_of(be);
    if (st->oclgrind_workaround && (byte_offset || nbytes != buf->size) && nbytes % sizeof(float) == 0 &&
        byte_offset % sizeof(float) == 0) {
        return oclgrind_write(be, buf, byte_offset, src, nbytes);
    }
    cl_event *slot = ocl_profile_slot(st);
    NNCL_CL_CHECK(clEnqueueWriteBuffer(st->queue, (cl_mem)buf->handle, CL_TRUE, byte_offset, nbytes, src, 0, NULL, slot));
    ocl_profile_record(st, slot, OCL_CMD_TRANSFER, "transfer");
    return NNCL_OK;
}

/* Blocking reads: the in-order queue finishes every op queued before, so the data is current. */
enum nncl_status ocl_buffer_read(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset, void *dst,
                                size_t nbytes) {
    struct ocl_state *st = ocl_state_of(be);
    cl_event *slot = ocl_profile_slot(st);
    NNCL_CL_CHECK(clEnqueueReadBuffer(st->queue, (cl_mem)buf->handle, CL_TRUE, byte_offset, nbytes, dst, 0, NULL, slot));
    ocl_profile_record(st, slot, OCL_CMD_TRANSFER, "transfer");
    return NNCL_OK;
}
