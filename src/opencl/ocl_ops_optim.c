/*
 * ocl_ops_optim.c: enqueueing kernels/optim.cl: SGD, momentum and Adam updates in one launch each.
 */
#include "ocl_impl.h"

enum nncl_status ocl_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), w_off = call->t[0].offset, g_off = call->t[1].offset;
    cl_float lr = call->p[0], wd = call->p[1];
    cl_mem w = ocl_mem_of(&call->t[0]), g = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(lr), OCL_ARG(wd), OCL_ARG(w), OCL_ARG(w_off), OCL_ARG(g), OCL_ARG(g_off)};
    return ocl_launch(be, "sgd_update", OCL_KERNEL_SGD_UPDATE, n, args, 7);
}

enum nncl_status ocl_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong w_off = call->t[0].offset, g_off = call->t[1].offset, v_off = call->t[2].offset;
    cl_float lr = call->p[0], mu = call->p[1], wd = call->p[2];
    cl_mem w = ocl_mem_of(&call->t[0]), g = ocl_mem_of(&call->t[1]), v = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(lr),    OCL_ARG(mu), OCL_ARG(wd),    OCL_ARG(w),
                                  OCL_ARG(w_off), OCL_ARG(g), OCL_ARG(g_off), OCL_ARG(v), OCL_ARG(v_off)};
    return ocl_launch(be, "momentum_update", OCL_KERNEL_MOMENTUM_UPDATE, n, args, 10);
}

enum nncl_status ocl_adam_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong w_off = call->t[0].offset, g_off = call->t[1].offset, m_off = call->t[2].offset,
             v_off = call->t[3].offset;
    cl_float lr = call->p[0], b1 = call->p[1], b2 = call->p[2], eps = call->p[3], wd = call->p[4];
    cl_float bc1 = call->p[5], bc2 = call->p[6];
    cl_mem w = ocl_mem_of(&call->t[0]), g = ocl_mem_of(&call->t[1]), m = ocl_mem_of(&call->t[2]),
           v = ocl_mem_of(&call->t[3]);
    const struct ocl_arg args[] = {OCL_ARG(n),   OCL_ARG(lr),    OCL_ARG(b1), OCL_ARG(b2),    OCL_ARG(eps), OCL_ARG(wd),
                                  OCL_ARG(bc1), OCL_ARG(bc2),   OCL_ARG(w),  OCL_ARG(w_off), OCL_ARG(g),   OCL_ARG(g_off),
                                  OCL_ARG(m),   OCL_ARG(m_off), OCL_ARG(v),  OCL_ARG(v_off)};
    return ocl_launch(be, "adam_update", OCL_KERNEL_ADAM_UPDATE, n, args, 16);
}
