/*
 * ocl_backend.c: the OpenCL backend: its vtable and op table, creating and releasing the context and
 * queue, and the one function that sets kernel arguments and enqueues a launch.
 */
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "ocl_impl.h"
#include "ocl_tuning.h"

static const nncl_op_fn ocl_ops[NNCL_OP_COUNT] = {
    [NNCL_OP_GEMM] = ocl_gemm,
    [NNCL_OP_BIAS_ADD] = ocl_bias_add,
    [NNCL_OP_BIAS_GRAD] = ocl_bias_grad,
    [NNCL_OP_ACT_FWD] = ocl_act_fwd,
    [NNCL_OP_BIAS_ACT_FWD] = ocl_bias_act_fwd,
    [NNCL_OP_ACT_BWD] = ocl_act_bwd,
    [NNCL_OP_SOFTMAX_FWD] = ocl_softmax_fwd,
    [NNCL_OP_SOFTMAX_BWD] = ocl_softmax_bwd,
    [NNCL_OP_SOFTMAX_XENT_FWD] = ocl_softmax_xent_fwd,
    [NNCL_OP_SOFTMAX_XENT_BWD] = ocl_softmax_xent_bwd,
    [NNCL_OP_SIGMOID_BCE_FWD] = ocl_sigmoid_bce_fwd,
    [NNCL_OP_SIGMOID_BCE_BWD] = ocl_sigmoid_bce_bwd,
    [NNCL_OP_MSE_FWD] = ocl_mse_fwd,
    [NNCL_OP_MSE_BWD] = ocl_mse_bwd,
    [NNCL_OP_CLASS_ERROR] = ocl_class_error,
    [NNCL_OP_SUM] = ocl_sum,
    [NNCL_OP_SGD_UPDATE] = ocl_sgd_update,
    [NNCL_OP_MOMENTUM_UPDATE] = ocl_momentum_update,
    [NNCL_OP_ADAM_UPDATE] = ocl_adam_update,
    [NNCL_OP_FILL] = ocl_fill,
    [NNCL_OP_COPY] = ocl_copy,
    [NNCL_OP_SCALE] = ocl_scale,
    [NNCL_OP_GATHER_ROWS] = ocl_gather_rows,
    [NNCL_OP_SUMSQ] = ocl_sumsq,
    [NNCL_OP_CLIP_GRAD] = ocl_clip_grad,
    [NNCL_OP_NESTEROV_UPDATE] = ocl_nesterov_update,
    [NNCL_OP_RMSPROP_UPDATE] = ocl_rmsprop_update,
    [NNCL_OP_ADAMW_UPDATE] = ocl_adamw_update,
    [NNCL_OP_IRPROP_UPDATE] = ocl_irprop_update,
    [NNCL_OP_DROPOUT] = ocl_dropout,
};

/* Launches: work-groups of LAUNCH_GROUP items (along the columns in a 2D launch) covering all the work-items
 * asked for: element-wise kernels take one element per work-item with no loop, which CPU drivers vectorise
 * (kernels/common.cl). A launch past LAUNCH_MAX_ITEMS is refused rather than risked: some devices take at
 * most 2^32 work-items per dimension, and a tensor that large is 16 GiB of floats. */
enum { LAUNCH_GROUP = 64 };
#define LAUNCH_MAX_ITEMS 0xFFFFFF00ull

static enum nncl_status launch(struct nncl_backend *be, const char *op, enum ocl_kernel_id id, cl_uint dims,
                               const size_t *work_items, const struct ocl_arg *args, int n_args) {
    struct ocl_state *st = ocl_state_of(be);
    cl_kernel kernel = NULL;
    enum nncl_status s = ocl_kernel_get(st, id, &kernel);
    if (s) return s;
    for (int i = 0; i < n_args; i++) {
        cl_int err = clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            return nncl_set_error(NNCL_ERR_OPENCL, "OpenCL: %s: clSetKernelArg(%d) failed with %s; the kernel "
                                  "signature and its enqueue code disagree", op, i, nncl_cl_error_name(err));
        }
    }
    size_t local[2] = {LAUNCH_GROUP < st->max_group_size ? LAUNCH_GROUP : st->max_group_size, 1};
    size_t items[2] = {work_items[0], dims > 1 ? work_items[1] : 1};
    if (id == OCL_KERNEL_SUM || id == OCL_KERNEL_SUMSQ) {
        local[0] = OCL_SUM_GROUP; /* one group; the kernel requires exactly this size */
        items[0] = OCL_SUM_GROUP;
    } else if (id == OCL_KERNEL_SUM_PARTIAL || id == OCL_KERNEL_SUMSQ_PARTIAL) {
        local[0] = OCL_SUM_GROUP; /* OCL_SUM_PARTS groups of exactly this size */
        items[0] = OCL_SUM_GROUP * OCL_SUM_PARTS;
    }
    if (items[0] > LAUNCH_MAX_ITEMS || items[1] > LAUNCH_MAX_ITEMS) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "%s: %zu x %zu work-items is more than one launch may have "
                              "(2^32 per dimension); use smaller tensors", op, items[0], items[1]);
    }
    if (items[0] == 0 || items[1] == 0) return NNCL_OK; /* an empty tensor: nothing to do */
    if (dims == 2) {
        /* narrow rows (a batch's 10 targets): groups of LAUNCH_GROUP items made of several rows each */
        while (local[0] > 1 && local[0] / 2 >= items[0]) local[0] /= 2;
        local[1] = LAUNCH_GROUP / local[0];
        while (local[1] > 1 && local[0] * local[1] > st->max_group_size) local[1] /= 2;
    }
    size_t global[2] = {(items[0] + local[0] - 1) / local[0] * local[0],
                        (items[1] + local[1] - 1) / local[1] * local[1]};
    cl_event *slot = ocl_profile_slot(st);
    cl_int err = clEnqueueNDRangeKernel(st->queue, kernel, dims, NULL, global, local, 0, NULL, slot);
    if (err == CL_SUCCESS) ocl_profile_record(st, slot, OCL_CMD_KERNEL, op);
    if (err != CL_SUCCESS) {
        s = nncl_cl_fail(err, "clEnqueueNDRangeKernel", __FILE__, __LINE__);
        return nncl_prefix_error(s, "%s on \"%s\": ", op, st->device_name);
    }
    return NNCL_OK;
}

enum nncl_status ocl_launch(struct nncl_backend *be, const char *op, enum ocl_kernel_id id, size_t work_items,
                           const struct ocl_arg *args, int n_args) {
    return launch(be, op, id, 1, &work_items, args, n_args);
}

enum nncl_status ocl_launch_2d(struct nncl_backend *be, const char *op, enum ocl_kernel_id id, size_t rows,
                              size_t cols, const struct ocl_arg *args, int n_args) {
    const size_t items[2] = {cols, rows};
    return launch(be, op, id, 2, items, args, n_args);
}

static enum nncl_status ocl_synchronize(struct nncl_backend *be) {
    NNCL_CL_CHECK(clFinish(ocl_state_of(be)->queue));
    return NNCL_OK;
}

static enum nncl_status ocl_memory(struct nncl_backend *be, size_t *total, size_t *max_alloc) {
    const struct ocl_state *st = ocl_state_of(be);
    *total = (size_t)st->global_mem;
    *max_alloc = (size_t)st->max_alloc;
    return NNCL_OK;
}

static void ocl_free(struct nncl_backend *be) {
    struct ocl_state *st = ocl_state_of(be);
    if (st) {
        if (st->queue) clFinish(st->queue);
        ocl_programs_release(st);
        ocl_profile_release(st);
        if (st->sum_scratch) clReleaseMemObject(st->sum_scratch);
        ocl_retired_release(st);
        free(st->profiled);
        /* CLBlast caches programs per context; drop them before the context goes. */
        CLBlastClearCache();
        if (st->queue) clReleaseCommandQueue(st->queue);
        if (st->context) clReleaseContext(st->context);
        free(st);
    }
    free(be);
}

static const struct nncl_backend_i ocl_iface = {
    .name = "opencl",
    .free = ocl_free,
    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .buffer_write = ocl_buffer_write,
    .buffer_read = ocl_buffer_read,
    .synchronize = ocl_synchronize,
    .memory = ocl_memory,
    .profile_start = ocl_profile_start,
    .profile_stop = ocl_profile_stop,
    .ops = ocl_ops,
};

static enum nncl_status create_context(struct ocl_state *st) {
    enum nncl_status s = ocl_device_select(st);
    if (s) return s;
    cl_int err = CL_SUCCESS;
    st->context = clCreateContext(NULL, 1, &st->device, NULL, NULL, &err);
    NNCL_CL_CHECK(err);
    /* In order: launches need no events between them. Profiling is enabled on the queue, but events are
     * only requested while a benchmark profiles (nncl_backend_profile_start). */
    st->queue = clCreateCommandQueue(st->context, st->device, CL_QUEUE_PROFILING_ENABLE, &err);
    NNCL_CL_CHECK(err);
    return NNCL_OK;
}

enum nncl_status nncl_opencl_backend_init(struct nncl_backend **out) {
    struct nncl_backend *be = calloc(1, sizeof *be);
    struct ocl_state *st = calloc(1, sizeof *st);
    if (!be || !st) {
        free(be);
        free(st);
        return nncl_set_error(NNCL_ERR_OOM, "opencl: out of host memory creating the backend");
    }
    be->iface = ocl_iface;
    be->context = st;
    be->threads = nncl_default_threads(); /* unused by the device; reported as set */
    enum nncl_status s = create_context(st);
    int tuned = 0;
    if (!s) s = ocl_tuning_apply(st, &tuned); /* the device's `nncl tune` parameters, before any CLBlast call */
    if (s) {
        s = nncl_prefix_error(s, "backend opencl: ");
        ocl_free(be);
        return s;
    }
    snprintf(be->device, sizeof be->device, "%s (%s, driver %s)", st->device_name, st->platform_name,
             st->driver_version);
    char tuning[64];
    ocl_tuning_describe(st, tuning, sizeof tuning);
    snprintf(be->versions, sizeof be->versions, "nncl %s, backend opencl, device \"%s\" (%s), platform \"%s\", "
             "driver %s, CLBlast %s %s, kernels fnv1a:%016llx", NNCL_VERSION_STRING, st->device_name, st->device_version,
             st->platform_name, st->driver_version, NNCL_CLBLAST_VERSION, tuning,
             (unsigned long long)ocl_kernel_sources_hash());
    *out = be;
    return NNCL_OK;
}

int nncl_opencl_backend_is_gpu(const struct nncl_backend *be) {
    return be && strcmp(be->iface.name, "opencl") == 0 && ((const struct ocl_state *)be->context)->is_gpu;
}
