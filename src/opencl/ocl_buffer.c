/*
 * ocl_buffer.c: device buffers (one cl_mem each) and the blocking host transfers.
 */
#include "ocl_impl.h"

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
