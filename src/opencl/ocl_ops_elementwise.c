/*
 * ocl_ops_elementwise.c: enqueueing kernels/elementwise.cl: bias, sum, fill, copy, scale, gather, dropout.
 */
#include "ocl_impl.h"
#include "philox_impl.h"

/* y (N x C), bias (1 x C) */
enum nncl_status ocl_bias_add(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, y_off = call->t[0].offset, b_off = call->t[1].offset;
    cl_mem y = ocl_mem_of(&call->t[0]), bias = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols), OCL_ARG(y), OCL_ARG(y_off), OCL_ARG(bias), OCL_ARG(b_off)};
    return ocl_launch_2d(be, "bias_add", OCL_KERNEL_BIAS_ADD, rows, cols, args, 6);
}

/* dy (N x C), dbias (1 x C); alpha, beta */
enum nncl_status ocl_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong rows = call->t[0].rows, cols = call->t[0].cols, dy_off = call->t[0].offset, db_off = call->t[1].offset;
    cl_float alpha = call->p[0], beta = call->p[1];
    cl_mem dy = ocl_mem_of(&call->t[0]), db = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(rows), OCL_ARG(cols),   OCL_ARG(alpha), OCL_ARG(beta),
                                  OCL_ARG(dy),   OCL_ARG(dy_off), OCL_ARG(db),    OCL_ARG(db_off)};
    return ocl_launch(be, "bias_grad", OCL_KERNEL_BIAS_GRAD, cols, args, 8);
}

/* x (any), out (1 x 1); alpha, beta. Up to 65536 values one group sums them; above, OCL_SUM_PARTS groups
 * sum shares into a scratch buffer first (one group over millions of values leaves the device idle). */
enum nncl_status ocl_sum(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, o_off = call->t[1].offset;
    cl_float alpha = call->p[0], beta = call->p[1];
    cl_mem x = ocl_mem_of(&call->t[0]), out = ocl_mem_of(&call->t[1]);
    if (n > 65536) {
        struct ocl_state *st = ocl_state_of(be);
        if (!st->sum_scratch) {
            cl_int err = CL_SUCCESS;
            st->sum_scratch = clCreateBuffer(st->context, CL_MEM_READ_WRITE, OCL_SUM_PARTS * sizeof(float), NULL, &err);
            NNCL_CL_CHECK(err);
        }
        const struct ocl_arg stage1[] = {OCL_ARG(n), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(st->sum_scratch)};
        enum nncl_status s = ocl_launch(be, "sum", OCL_KERNEL_SUM_PARTIAL, OCL_SUM_GROUP * OCL_SUM_PARTS, stage1, 4);
        if (s) return s;
        n = OCL_SUM_PARTS, x = st->sum_scratch, x_off = 0;
    }
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(alpha), OCL_ARG(beta), OCL_ARG(x), OCL_ARG(x_off), OCL_ARG(out),
                                  OCL_ARG(o_off)};
    return ocl_launch(be, "sum", OCL_KERNEL_SUM, OCL_SUM_GROUP, args, 7);
}

enum nncl_status ocl_fill(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset;
    cl_float value = call->p[0];
    cl_mem x = ocl_mem_of(&call->t[0]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(value), OCL_ARG(x), OCL_ARG(x_off)};
    return ocl_launch(be, "fill", OCL_KERNEL_FILL, n, args, 4);
}

/* src, dst (same shape). Overlapping views of one buffer are not supported on the device. */
enum nncl_status ocl_copy(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), s_off = call->t[0].offset, d_off = call->t[1].offset;
    cl_mem src = ocl_mem_of(&call->t[0]), dst = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(src), OCL_ARG(s_off), OCL_ARG(dst), OCL_ARG(d_off)};
    return ocl_launch(be, "copy", OCL_KERNEL_COPY, n, args, 5);
}

enum nncl_status ocl_scale(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset;
    cl_float alpha = call->p[0];
    cl_mem x = ocl_mem_of(&call->t[0]);
    const struct ocl_arg args[] = {OCL_ARG(n), OCL_ARG(alpha), OCL_ARG(x), OCL_ARG(x_off)};
    return ocl_launch(be, "scale", OCL_KERNEL_SCALE, n, args, 4);
}

/* src (N x C), idx (B x 1), dst (B x C); one work-item per element of dst */
enum nncl_status ocl_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = call->t[0].rows, cols = call->t[0].cols, rows = call->t[1].rows;
    cl_ulong s_off = call->t[0].offset, i_off = call->t[1].offset, d_off = call->t[2].offset;
    cl_mem src = ocl_mem_of(&call->t[0]), idx = ocl_mem_of(&call->t[1]), dst = ocl_mem_of(&call->t[2]);
    const struct ocl_arg args[] = {OCL_ARG(n),     OCL_ARG(rows), OCL_ARG(cols),  OCL_ARG(src), OCL_ARG(s_off),
                                  OCL_ARG(idx),   OCL_ARG(i_off), OCL_ARG(dst), OCL_ARG(d_off)};
    return ocl_launch_2d(be, "gather_rows", OCL_KERNEL_GATHER_ROWS, rows, cols, args, 9);
}

/* x, y (same; y may be x). The keep threshold and the scale are computed here, on the host, by the helpers the
 * CPU reference uses (src/philox_impl.h), so the kernel compares the same integer and multiplies by the same
 * float; the Philox key and counter words reach it as they are. */
enum nncl_status ocl_dropout(struct nncl_backend *be, const struct nncl_op_call *call) {
    cl_ulong n = nncl_tensor_count(&call->t[0]), x_off = call->t[0].offset, y_off = call->t[1].offset;
    cl_ulong threshold = nncl_dropout_threshold(call->p[0]), e0 = (cl_ulong)call->ip[5] * call->t[0].cols;
    cl_float scale = nncl_dropout_scale(call->p[0]);
    cl_uint key0 = nncl_ip_to_u32(call->ip[0]), key1 = nncl_ip_to_u32(call->ip[1]);
    cl_uint ctr2 = nncl_ip_to_u32(call->ip[2]), ctr3 = nncl_ip_to_u32(call->ip[3]) | (cl_uint)call->ip[4] << 24;
    cl_mem x = ocl_mem_of(&call->t[0]), y = ocl_mem_of(&call->t[1]);
    const struct ocl_arg args[] = {OCL_ARG(n),    OCL_ARG(threshold), OCL_ARG(scale), OCL_ARG(key0),
                                  OCL_ARG(key1), OCL_ARG(ctr2),      OCL_ARG(ctr3),  OCL_ARG(e0),
                                  OCL_ARG(x),    OCL_ARG(x_off),     OCL_ARG(y),     OCL_ARG(y_off)};
    return ocl_launch(be, "dropout", OCL_KERNEL_DROPOUT, n, args, 12);
}
