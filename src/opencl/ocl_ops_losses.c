/*
 * ocl_ops_losses.c: enqueueing kernels/losses.cl: sigmoid + BCE, squared error, classification error.
 */
#include "ocl_impl.h"

/* The fused activation + loss forward ops (sigmoid_bce_fwd here, softmax_xent_fwd in ocl_ops_softmax.c):
 * z, t, p (N x C), loss (N x 1) as (rows, cols, z, z_off, t, t_off, p, p_off, loss, loss_off), a row each. */
enum nncl_status ocl_fused_loss_fwd(struct nncl_backend *be, const char *op, enum ocl_kernel_id id,
                                   const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong z_off = call->t[0].offset, t_off = call->t[1].offset, p_off = call->t[2].offset,
             l_off = call->t[3].offset;
    cl_mem z = ocl_mem_of(&call->t[0]), t = ocl_mem_of(&call->t[1]), p = ocl_mem_of(&call->t[2]),
           loss = ocl_mem_of(&call->t[3]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols), OCL_ARG(z),    OCL_ARG(z_off), OCL_ARG(t),
                                  OCL_ARG(t_off), OCL_ARG(p),   OCL_ARG(p_off), OCL_ARG(loss), OCL_ARG(l_off)};
    return ocl_launch(be, op, id, rows, args, 10);
}

enum nncl_status ocl_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return ocl_fused_loss_fwd(be, "sigmoid_bce_fwd", OCL_KERNEL_SIGMOID_BCE_FWD, call);
}

/* The element-wise loss gradients: (n, scale, beta, a, a_off, t, t_off, out, out_off). */
static enum nncl_status loss_bwd(struct nncl_backend *be, const char *op, enum ocl_kernel_id id,
                                 const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong a_off = call->t[0].offset, t_off = call->t[1].offset, o_off = call->t[2].offset;
    cl_float scale = call->p[0], beta = call->p[1];
    cl_mem a = ocl_mem_of(&call->t[0]), t = ocl_mem_of(&call->t[1]), out = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(scale), OCL_ARG(beta), OCL_ARG(a),   OCL_ARG(a_off),
                                  OCL_ARG(t), OCL_ARG(t_off), OCL_ARG(out),  OCL_ARG(o_off)};
    return ocl_launch(be, op, id, n, args, 9);
}

enum nncl_status ocl_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return loss_bwd(be, "sigmoid_bce_bwd", OCL_KERNEL_SIGMOID_BCE_BWD, call);
}

enum nncl_status ocl_mse_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return loss_bwd(be, "mse_bwd", OCL_KERNEL_MSE_BWD, call);
}

/* Per-row outputs from two (N x C) inputs: (rows, cols, y, y_off, t, t_off, out, out_off). */
static enum nncl_status per_row(struct nncl_backend *be, const char *op, enum ocl_kernel_id id,
                                const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong y_off = call->t[0].offset, t_off = call->t[1].offset, o_off = call->t[2].offset;
    cl_mem y = ocl_mem_of(&call->t[0]), t = ocl_mem_of(&call->t[1]), out = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols),  OCL_ARG(y),   OCL_ARG(y_off),
                                  OCL_ARG(t),    OCL_ARG(t_off), OCL_ARG(out), OCL_ARG(o_off)};
    return ocl_launch(be, op, id, rows, args, 8);
}

enum nncl_status ocl_mse_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return per_row(be, "mse_fwd", OCL_KERNEL_MSE_FWD, call);
}

enum nncl_status ocl_class_error(struct nncl_backend *be, const struct nncl_op_call *call) {
    return per_row(be, "class_error", OCL_KERNEL_CLASS_ERROR, call);
}
