/*
 * ocl_ops_softmax.c: enqueueing the row-wise kernels of kernels/softmax.cl (one work-item per row).
 */
#include "ocl_impl.h"

/* x, y (N x C) */
enum nncl_status ocl_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, x_off = call->t[0].offset, y_off = call->t[1].offset;
    cl_mem x = ocl_mem_of(&call->t[0]), y = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(y), OCL_ARG(y_off)};
    return ocl_launch(be, "softmax_fwd", OCL_KERNEL_SOFTMAX_FWD, rows, args, 6);
}

/* y, dy, dx (N x C); beta */
enum nncl_status ocl_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong y_off = call->t[0].offset, dy_off = call->t[1].offset, dx_off = call->t[2].offset;
    cl_float beta = call->p[0];
    cl_mem y = ocl_mem_of(&call->t[0]), dy = ocl_mem_of(&call->t[1]), dx = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols), OCL_ARG(beta), OCL_ARG(y),  OCL_ARG(y_off),
                                  OCL_ARG(dy),   OCL_ARG(dy_off), OCL_ARG(dx), OCL_ARG(dx_off)};
    return ocl_launch(be, "softmax_bwd", OCL_KERNEL_SOFTMAX_BWD, rows, args, 9);
}

/* z, t, p (N x C), loss (N x 1) */
enum nncl_status ocl_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return ocl_fused_loss_fwd(be, "softmax_xent_fwd", OCL_KERNEL_SOFTMAX_XENT_FWD, call);
}

/* p, t, dz (N x C); scale, beta */
enum nncl_status ocl_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong p_off = call->t[0].offset, t_off = call->t[1].offset, dz_off = call->t[2].offset;
    cl_float scale = call->p[0], beta = call->p[1];
    cl_mem p = ocl_mem_of(&call->t[0]), t = ocl_mem_of(&call->t[1]), dz = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols), OCL_ARG(scale), OCL_ARG(beta), OCL_ARG(p),
                                  OCL_ARG(p_off), OCL_ARG(t),   OCL_ARG(t_off), OCL_ARG(dz),   OCL_ARG(dz_off)};
    return ocl_launch(be, "softmax_xent_bwd", OCL_KERNEL_SOFTMAX_XENT_BWD, rows, args, 10);
}
