/*
 * cl_ops_elementwise.c: enqueueing kernels/elementwise.cl: bias, sum, fill, copy, scale.
 */
#include "cl_impl.h"

/* y (N x C), bias (1 x C) */
enum nncl_status cl_bias_add(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, y_off = call->t[0].offset, b_off = call->t[1].offset;
    cl_mem y = cl_mem_of(&call->t[0]), bias = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols), CL_ARG(y), CL_ARG(y_off), CL_ARG(bias), CL_ARG(b_off)};
    return cl_launch_2d(be, "bias_add", CL_KERNEL_BIAS_ADD, rows, cols, args, 6);
}

/* dy (N x C), dbias (1 x C); alpha, beta */
enum nncl_status cl_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, dy_off = call->t[0].offset, db_off = call->t[1].offset;
    cl_float alpha = call->p[0], beta = call->p[1];
    cl_mem dy = cl_mem_of(&call->t[0]), db = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(rows), CL_ARG(cols),   CL_ARG(alpha), CL_ARG(beta),
                                  CL_ARG(dy),   CL_ARG(dy_off), CL_ARG(db),    CL_ARG(db_off)};
    return cl_launch(be, "bias_grad", CL_KERNEL_BIAS_GRAD, cols, args, 8);
}

/* x (any), out (1 x 1); alpha, beta. Up to 65536 values one group sums them; above, CL_SUM_PARTS groups
 * sum shares into a scratch buffer first (one group over millions of values leaves the device idle). */
enum nncl_status cl_sum(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, o_off = call->t[1].offset;
    cl_float alpha = call->p[0], beta = call->p[1];
    cl_mem x = cl_mem_of(&call->t[0]), out = cl_mem_of(&call->t[1]);
    if (n > 65536) {
        struct cl_state *st = cl_state_of(be);
        if (!st->sum_scratch) {
            cl_int err = CL_SUCCESS;
            st->sum_scratch = clCreateBuffer(st->context, CL_MEM_READ_WRITE, CL_SUM_PARTS * sizeof(float), NULL, &err);
            NNCL_CL_CHECK(err);
        }
        const struct cl_arg stage1[] = {CL_ARG(n), CL_ARG(x), CL_ARG(x_off), CL_ARG(st->sum_scratch)};
        enum nncl_status s = cl_launch(be, "sum", CL_KERNEL_SUM_PARTIAL, CL_SUM_GROUP * CL_SUM_PARTS, stage1, 4);
        if (s) return s;
        n = CL_SUM_PARTS, x = st->sum_scratch, x_off = 0;
    }
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(alpha), CL_ARG(beta), CL_ARG(x), CL_ARG(x_off), CL_ARG(out),
                                  CL_ARG(o_off)};
    return cl_launch(be, "sum", CL_KERNEL_SUM, CL_SUM_GROUP, args, 7);
}

enum nncl_status cl_fill(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset;
    cl_float value = call->p[0];
    cl_mem x = cl_mem_of(&call->t[0]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(value), CL_ARG(x), CL_ARG(x_off)};
    return cl_launch(be, "fill", CL_KERNEL_FILL, n, args, 4);
}

/* src, dst (same shape). Overlapping views of one buffer are not supported on the device. */
enum nncl_status cl_copy(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), s_off = call->t[0].offset, d_off = call->t[1].offset;
    cl_mem src = cl_mem_of(&call->t[0]), dst = cl_mem_of(&call->t[1]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(src), CL_ARG(s_off), CL_ARG(dst), CL_ARG(d_off)};
    return cl_launch(be, "copy", CL_KERNEL_COPY, n, args, 5);
}

enum nncl_status cl_scale(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset;
    cl_float alpha = call->p[0];
    cl_mem x = cl_mem_of(&call->t[0]);
    const struct cl_arg args[] = {CL_ARG(n), CL_ARG(alpha), CL_ARG(x), CL_ARG(x_off)};
    return cl_launch(be, "scale", CL_KERNEL_SCALE, n, args, 4);
}

/* src (N x C), idx (B x 1), dst (B x C); one work-item per element of dst */
enum nncl_status cl_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = call->t[0].rows, cols = call->t[0].cols, rows = call->t[1].rows;
    cl_ulong s_off = call->t[0].offset, i_off = call->t[1].offset, d_off = call->t[2].offset;
    cl_mem src = cl_mem_of(&call->t[0]), idx = cl_mem_of(&call->t[1]), dst = cl_mem_of(&call->t[2]);
    const struct cl_arg args[] = {CL_ARG(n),     CL_ARG(rows), CL_ARG(cols),  CL_ARG(src), CL_ARG(s_off),
                                  CL_ARG(idx),   CL_ARG(i_off), CL_ARG(dst), CL_ARG(d_off)};
    return cl_launch_2d(be, "gather_rows", CL_KERNEL_GATHER_ROWS, rows, cols, args, 9);
}
