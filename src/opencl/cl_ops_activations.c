/*
 * cl_ops_activations.c: enqueueing the activation kernels of kernels/activations.cl.
 */
#include "cl_impl.h"

/* s (N x C, in-out), bias (1 x C), y (N x C): s += bias; y = f(s) */
enum nncl_status cl_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong s_off = call->t[0].offset, b_off = call->t[1].offset, y_off = call->t[2].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0];
    cl_mem s = cl_mem_of(&call->t[0]), bias = cl_mem_of(&call->t[1]), y = cl_mem_of(&call->t[2]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols),  CL_ARG(act),   CL_ARG(a), CL_ARG(s),
                                  CL_ARG(s_off), CL_ARG(bias), CL_ARG(b_off), CL_ARG(y), CL_ARG(y_off)};
    return cl_launch_2d(be, "bias_act_fwd", CL_KERNEL_BIAS_ACT_FWD, rows, cols, args, 10);
}

/* x, y (N x C): y = f(x) */
enum nncl_status cl_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, y_off = call->t[1].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0];
    cl_mem x = cl_mem_of(&call->t[0]), y = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(act), CL_ARG(a), CL_ARG(x), CL_ARG(x_off), CL_ARG(y), CL_ARG(y_off)};
    return cl_launch(be, "act_fwd", CL_KERNEL_ACT_FWD, n, args, 7);
}

/* x, y, dy, dx (N x C): dx = dy f'(x) + beta dx */
enum nncl_status cl_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong x_off = call->t[0].offset, y_off = call->t[1].offset, dy_off = call->t[2].offset,
             dx_off = call->t[3].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0], beta = call->p[1];
    cl_mem x = cl_mem_of(&call->t[0]), y = cl_mem_of(&call->t[1]), dy = cl_mem_of(&call->t[2]),
           dx = cl_mem_of(&call->t[3]);
    const struct cl_arg args[] = {CL_ARG(n),  CL_ARG(act),    CL_ARG(a), CL_ARG(beta),   CL_ARG(x),
                                  CL_ARG(x_off), CL_ARG(y),   CL_ARG(y_off), CL_ARG(dy), CL_ARG(dy_off),
                                  CL_ARG(dx), CL_ARG(dx_off)};
    return cl_launch(be, "act_bwd", CL_KERNEL_ACT_BWD, n, args, 12);
}
