/*
 * ocl_ops_optim2.c: enqueueing the second half of kernels/optim.cl: the squared global norm, gradient
 * clipping and the Nesterov, RMSprop, AdamW and iRPROP- updates, one launch each over all parameters.
 * The updates read the 1x1 squared norm on the device (nncl_clip_factor), so clipping needs no read-back.
 */
#include "ocl_impl.h"

/* x (any), out (1 x 1). As ocl_sum: one group up to 65536 values; above, OCL_SUM_PARTS fixed partials of
 * squares first (into the sum scratch), then nncl_sum adds them. Deterministic either way. */
enum nncl_status ocl_sumsq(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, o_off = call->t[1].offset;
    cl_mem x = ocl_mem_of(&call->t[0]), out = ocl_mem_of(&call->t[1]);
    if (n <= 65536) {
        const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(out), OCL_ARG(o_off)};
        return ocl_launch(be, "sumsq", OCL_KERNEL_SUMSQ, OCL_SUM_GROUP, args, 5);
    }
    struct ocl_state *st = ocl_state_of(be);
    if (!st->sum_scratch) {
        cl_int err = CL_SUCCESS;
        st->sum_scratch = clCreateBuffer(st->context, CL_MEM_READ_WRITE, OCL_SUM_PARTS * sizeof(float), NULL, &err);
        NNCL_CL_CHECK(err);
    }
    const struct ocl_arg stage1[] = {OCL_ARG(n), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(st->sum_scratch)};
    enum nncl_status s = ocl_launch(be, "sumsq", OCL_KERNEL_SUMSQ_PARTIAL, OCL_SUM_GROUP * OCL_SUM_PARTS, stage1, 4);
    if (s) return s;
    cl_ulong parts = OCL_SUM_PARTS, zero_off = 0;
    cl_float alpha = 1.0f, beta = 0.0f;
    const struct ocl_arg args[] = {OCL_ARG(parts), OCL_ARG(alpha), OCL_ARG(beta), OCL_ARG(st->sum_scratch),
                                  OCL_ARG(zero_off), OCL_ARG(out), OCL_ARG(o_off)};
    return ocl_launch(be, "sumsq", OCL_KERNEL_SUM, OCL_SUM_GROUP, args, 7);
}

enum nncl_status ocl_clip_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), g_off = call->t[0].offset, s_off = call->t[1].offset;
    cl_float max_norm = call->p[0];
    cl_mem g = ocl_mem_of(&call->t[0]), ss = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(max_norm), OCL_ARG(g), OCL_ARG(g_off), OCL_ARG(ss), OCL_ARG(s_off)};
    return ocl_launch(be, "clip_grad", OCL_KERNEL_CLIP_GRAD, n, args, 6);
}

/* The (cl_mem, offset) pairs of an update's tensors, in call order, after its float parameters. */
struct ocl_update_args {
    cl_ulong n;
    cl_float p[NNCL_OP_MAX_PARAMS];
    cl_mem mem[NNCL_OP_MAX_TENSORS];
    cl_ulong off[NNCL_OP_MAX_TENSORS];
};

/* Launches an update kernel whose arguments are (n, its n_params floats, its n_tensors (buffer, offset)). */
static enum nncl_status launch_update(struct nncl_backend *be, const char *op, enum ocl_kernel_id id,
                                      const struct nncl_op_call *call, int n_params, int n_tensors) {
    struct ocl_update_args a;
    struct ocl_arg args[1 + NNCL_OP_MAX_PARAMS + 2 * NNCL_OP_MAX_TENSORS];
    int k = 0;
    a.n = nncl_tensor_count(&call->t[0]);
    args[k++] = OCL_ARG(a.n);
    for (int i = 0; i < n_params; i++) {
        a.p[i] = call->p[i];
        args[k++] = OCL_ARG(a.p[i]);
    }
    for (int i = 0; i < n_tensors; i++) {
        a.mem[i] = ocl_mem_of(&call->t[i]);
        a.off[i] = call->t[i].offset;
        args[k++] = OCL_ARG(a.mem[i]);
        args[k++] = OCL_ARG(a.off[i]);
    }
    return ocl_launch(be, op, id, a.n, args, k);
}

enum nncl_status ocl_nesterov_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    return launch_update(be, "nesterov_update", OCL_KERNEL_NESTEROV_UPDATE, call, 4, 4);
}

enum nncl_status ocl_rmsprop_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    return launch_update(be, "rmsprop_update", OCL_KERNEL_RMSPROP_UPDATE, call, 6, 5);
}

enum nncl_status ocl_adamw_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    return launch_update(be, "adamw_update", OCL_KERNEL_ADAMW_UPDATE, call, 8, 5);
}

enum nncl_status ocl_irprop_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    return launch_update(be, "irprop_update", OCL_KERNEL_IRPROP_UPDATE, call, 6, 5);
}
