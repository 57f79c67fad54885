/*
 * ocl_buffer.c: device buffers (one cl_mem each) and the blocking host transfers.
 */
#include <string.h>

#include "ocl_impl.h"

/*
 * Oclgrind 21.10 (the simulated device of `nncl check --simulate`) marks the bytes of a clEnqueueWriteBuffer
 * at a non-zero offset as still uninitialised, so every tensor uploaded into a shared buffer (a batch next to
 * its targets, one layer's weights after another's) showed as "uninitialized value" in whatever kernel read
 * it: tests/check/oclgrind_host_write.c is the minimal case, without nncl. Kernel stores are tracked
 * correctly, so on that device a write at an offset goes to a scratch buffer at offset 0 and our own
 * nncl_copy moves it into place. Every other device takes the direct write; a real uninitialised read
 * still shows, since only bytes the host did write are marked.
 */
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
    clReleaseMemObject(tmp);
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
    (void)be;
    if (buf->handle) clReleaseMemObject((cl_mem)buf->handle);
}

/* Blocking writes: the host array may be reused as soon as this returns. */
enum nncl_status ocl_buffer_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                 const void *src, size_t nbytes) {
    struct ocl_state *st = ocl_state_of(be);
    if (byte_offset && nbytes % sizeof(float) == 0 && byte_offset % sizeof(float) == 0 &&
        strncmp(st->platform_name, "Oclgrind", 8) == 0) {
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
