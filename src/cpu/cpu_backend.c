/*
 * cpu_backend.c: the CPU reference backend: its vtable, its op table and its host-memory buffers.
 * Ops run synchronously on the calling thread (gemm may use OpenMP threads).
 */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../status_impl.h"
#include "cpu_impl.h"

static const nncl_op_fn cpu_ops[NNCL_OP_COUNT] = {
    [NNCL_OP_GEMM] = cpu_gemm,
    [NNCL_OP_BIAS_ADD] = cpu_bias_add,
    [NNCL_OP_BIAS_GRAD] = cpu_bias_grad,
    [NNCL_OP_ACT_FWD] = cpu_act_fwd,
    [NNCL_OP_BIAS_ACT_FWD] = cpu_bias_act_fwd,
    [NNCL_OP_ACT_BWD] = cpu_act_bwd,
    [NNCL_OP_SOFTMAX_FWD] = cpu_softmax_fwd,
    [NNCL_OP_SOFTMAX_BWD] = cpu_softmax_bwd,
    [NNCL_OP_SOFTMAX_XENT_FWD] = cpu_softmax_xent_fwd,
    [NNCL_OP_SOFTMAX_XENT_BWD] = cpu_softmax_xent_bwd,
    [NNCL_OP_SIGMOID_BCE_FWD] = cpu_sigmoid_bce_fwd,
    [NNCL_OP_SIGMOID_BCE_BWD] = cpu_sigmoid_bce_bwd,
    [NNCL_OP_MSE_FWD] = cpu_mse_fwd,
    [NNCL_OP_MSE_BWD] = cpu_mse_bwd,
    [NNCL_OP_CLASS_ERROR] = cpu_class_error,
    [NNCL_OP_SUM] = cpu_sum,
    [NNCL_OP_SGD_UPDATE] = cpu_sgd_update,
    [NNCL_OP_MOMENTUM_UPDATE] = cpu_momentum_update,
    [NNCL_OP_ADAM_UPDATE] = cpu_adam_update,
    [NNCL_OP_FILL] = cpu_fill,
    [NNCL_OP_COPY] = cpu_copy,
    [NNCL_OP_SCALE] = cpu_scale,
    [NNCL_OP_GATHER_ROWS] = cpu_gather_rows,
    [NNCL_OP_SUMSQ] = cpu_sumsq,
    [NNCL_OP_CLIP_GRAD] = cpu_clip_grad,
    [NNCL_OP_NESTEROV_UPDATE] = cpu_nesterov_update,
    [NNCL_OP_RMSPROP_UPDATE] = cpu_rmsprop_update,
    [NNCL_OP_ADAMW_UPDATE] = cpu_adamw_update,
    [NNCL_OP_IRPROP_UPDATE] = cpu_irprop_update,
    [NNCL_OP_DROPOUT] = cpu_dropout,
};

static void cpu_free(struct nncl_backend *be) { free(be); }

static enum nncl_status cpu_buffer_alloc(struct nncl_backend *be, struct nncl_buffer *buf) {
    (void)be;
    buf->handle = malloc(buf->size);
    if (!buf->handle) {
        return nncl_set_error(NNCL_ERR_OOM, "cpu: could not allocate %zu bytes of host memory; use a smaller "
                                            "batch or net", buf->size);
    }
    return NNCL_OK;
}

static void cpu_buffer_free(struct nncl_backend *be, struct nncl_buffer *buf) {
    (void)be;
    free(buf->handle);
}

static enum nncl_status cpu_buffer_write(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                         const void *src, size_t nbytes) {
    (void)be;
    memmove((char *)buf->handle + byte_offset, src, nbytes);
    return NNCL_OK;
}

static enum nncl_status cpu_buffer_read(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                        void *dst, size_t nbytes) {
    (void)be;
    memmove(dst, (const char *)buf->handle + byte_offset, nbytes);
    return NNCL_OK;
}

/* The machine's physical memory: the reference's buffers are ordinary host memory. */
static enum nncl_status cpu_memory(struct nncl_backend *be, size_t *total, size_t *max_alloc) {
    (void)be;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *total = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : SIZE_MAX;
    *max_alloc = *total;
    return NNCL_OK;
}

static const struct nncl_backend_i cpu_iface = {
    .name = "cpu",
    .free = cpu_free,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .synchronize = NULL, /* optional: every op has finished when it returns */
    .memory = cpu_memory,
    .ops = cpu_ops,
};

enum nncl_status nncl_cpu_backend_init(struct nncl_backend **out) {
    struct nncl_backend *be = calloc(1, sizeof *be);
    if (!be) return nncl_set_error(NNCL_ERR_OOM, "cpu: out of host memory creating the backend");
    be->iface = cpu_iface;
    be->context = NULL;
    be->threads = nncl_default_threads();
    strcpy(be->device, "CPU reference (pure C)");
    snprintf(be->versions, sizeof be->versions, "nncl %s, backend cpu (CPU reference, pure C)%s", NNCL_VERSION_STRING,
#ifdef _OPENMP
             ", OpenMP"
#else
             ""
#endif
    );
    *out = be;
    return NNCL_OK;
}
