/*
 * cl_ops_optim.c: enqueueing kernels/optim.cl: SGD, momentum and Adam updates in one launch each.
 */
#include "cl_impl.h"

enum nncl_status cl_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), w_off = call->t[0].offset, g_off = call->t[1].offset;
    cl_float lr = call->p[0], wd = call->p[1];
    cl_mem w = cl_mem_of(&call->t[0]), g = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(lr), CL_ARG(wd), CL_ARG(w), CL_ARG(w_off), CL_ARG(g), CL_ARG(g_off)};
    return cl_launch(be, "sgd_update", CL_KERNEL_SGD_UPDATE, n, args, 7);
}

enum nncl_status cl_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong w_off = call->t[0].offset, g_off = call->t[1].offset, v_off = call->t[2].offset;
    cl_float lr = call->p[0], mu = call->p[1], wd = call->p[2];
    cl_mem w = cl_mem_of(&call->t[0]), g = cl_mem_of(&call->t[1]), v = cl_mem_of(&call->t[2]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(lr),    CL_ARG(mu), CL_ARG(wd),    CL_ARG(w),
                                  CL_ARG(w_off), CL_ARG(g), CL_ARG(g_off), CL_ARG(v), CL_ARG(v_off)};
    return cl_launch(be, "momentum_update", CL_KERNEL_MOMENTUM_UPDATE, n, args, 10);
}

enum nncl_status cl_adam_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]);
    cl_ulong w_off = call->t[0].offset, g_off = call->t[1].offset, m_off = call->t[2].offset,
             v_off = call->t[3].offset;
    cl_float lr = call->p[0], b1 = call->p[1], b2 = call->p[2], eps = call->p[3], wd = call->p[4];
    cl_float bc1 = call->p[5], bc2 = call->p[6];
    cl_mem w = cl_mem_of(&call->t[0]), g = cl_mem_of(&call->t[1]), m = cl_mem_of(&call->t[2]),
           v = cl_mem_of(&call->t[3]);
    const struct cl_arg args[] = {CL_ARG(n),   CL_ARG(lr),    CL_ARG(b1), CL_ARG(b2),    CL_ARG(eps), CL_ARG(wd),
                                  CL_ARG(bc1), CL_ARG(bc2),   CL_ARG(w),  CL_ARG(w_off), CL_ARG(g),   CL_ARG(g_off),
                                  CL_ARG(m),   CL_ARG(m_off), CL_ARG(v),  CL_ARG(v_off)};
    return cl_launch(be, "adam_update", CL_KERNEL_ADAM_UPDATE, n, args, 16);
}
