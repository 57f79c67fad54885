/*
 * cl_ops_softmax.c: enqueueing the row-wise kernels of kernels/softmax.cl (one work-item per row).
 */
#include "cl_impl.h"

/* x, y (N x C) */
enum nncl_status cl_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, x_off = call->t[0].offset, y_off = call->t[1].offset;
    cl_mem x = cl_mem_of(&call->t[0]), y = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols), CL_ARG(x), CL_ARG(x_off), CL_ARG(y), CL_ARG(y_off)};
    return cl_launch(be, "softmax_fwd", CL_KERNEL_SOFTMAX_FWD, rows, args, 6);
}

/* y, dy, dx (N x C); beta */
enum nncl_status cl_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong y_off = call->t[0].offset, dy_off = call->t[1].offset, dx_off = call->t[2].offset;
    cl_float beta = call->p[0];
    cl_mem y = cl_mem_of(&call->t[0]), dy = cl_mem_of(&call->t[1]), dx = cl_mem_of(&call->t[2]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols), CL_ARG(beta), CL_ARG(y),  CL_ARG(y_off),
                                  CL_ARG(dy),   CL_ARG(dy_off), CL_ARG(dx), CL_ARG(dx_off)};
    return cl_launch(be, "softmax_bwd", CL_KERNEL_SOFTMAX_BWD, rows, args, 9);
}

/* z, t, p (N x C), loss (N x 1) */
enum nncl_status cl_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    return cl_fused_loss_fwd(be, "softmax_xent_fwd", CL_KERNEL_SOFTMAX_XENT_FWD, call);
}

/* p, t, dz (N x C); scale, beta */
enum nncl_status cl_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong p_off = call->t[0].offset, t_off = call->t[1].offset, dz_off = call->t[2].offset;
    cl_float scale = call->p[0], beta = call->p[1];
    cl_mem p = cl_mem_of(&call->t[0]), t = cl_mem_of(&call->t[1]), dz = cl_mem_of(&call->t[2]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols), CL_ARG(scale), CL_ARG(beta), CL_ARG(p),
                                  CL_ARG(p_off), CL_ARG(t),   CL_ARG(t_off), CL_ARG(dz),   CL_ARG(dz_off)};
    return cl_launch(be, "softmax_xent_bwd", CL_KERNEL_SOFTMAX_XENT_BWD, rows, args, 10);
}
