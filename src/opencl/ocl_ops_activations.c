/*
 * ocl_ops_activations.c: enqueueing the activation kernels of kernels/activations.cl.
 */
#include "ocl_impl.h"

/* s (N x C, in-out), bias (1 x C), y (N x C): s += bias; y = f(s) */
enum nncl_status ocl_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols;
    cl_ulong s_off = call->t[0].offset, b_off = call->t[1].offset, y_off = call->t[2].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0];
    cl_mem s = ocl_mem_of(&call->t[0]), bias = ocl_mem_of(&call->t[1]), y = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols),  OCL_ARG(act),   OCL_ARG(a), OCL_ARG(s),
                                  OCL_ARG(s_off), OCL_ARG(bias), OCL_ARG(b_off), OCL_ARG(y), OCL_ARG(y_off)};
    return ocl_launch_2d(be, "bias_act_fwd", OCL_KERNEL_BIAS_ACT_FWD, rows, cols, args, 10);
}

/* x, y (N x C): y = f(x) */
enum nncl_status ocl_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, y_off = call->t[1].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0];
    cl_mem x = ocl_mem_of(&call->t[0]), y = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(act), OCL_ARG(a), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(y), OCL_ARG(y_off)};
    return ocl_launch(be, "act_fwd", OCL_KERNEL_ACT_FWD, n, args, 7);
}

/* x, y, dy, dx (N x C): dx = dy f'(x) + beta dx */
enum nncl_status ocl_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong x_off = call->t[0].offset, y_off = call->t[1].offset, dy_off = call->t[2].offset,
             dx_off = call->t[3].offset;
    cl_int act = call->ip[0];
    cl_float a = call->p[0], beta = call->p[1];
    cl_mem x = ocl_mem_of(&call->t[0]), y = ocl_mem_of(&call->t[1]), dy = ocl_mem_of(&call->t[2]),
           dx = ocl_mem_of(&call->t[3]);
    const struct ocl_arg args[] = {OCL_ARG(n),  OCL_ARG(act),    OCL_ARG(a), OCL_ARG(beta),   OCL_ARG(x),
                                  OCL_ARG(x_off), OCL_ARG(y),   OCL_ARG(y_off), OCL_ARG(dy), OCL_ARG(dy_off),
                                  OCL_ARG(dx), OCL_ARG(dx_off)};
    return ocl_launch(be, "act_bwd", OCL_KERNEL_ACT_BWD, n, args, 12);
}
