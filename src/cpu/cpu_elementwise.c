/*
 * cpu_elementwise.c: bias add and bias gradient, the sum reduction, and the fill/copy/scale helpers.
 */
#include <math.h>
#include <string.h>

#include "cpu_impl.h"

/* y (N x C), bias (1 x C): y[n][c] += bias[c] (the seed's x0 = 1 input times its weights w_0c) */
enum nncl_status cpu_bias_add(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *y = cpu_data(&call->t[0]);
    const float *bias = cpu_data(&call->t[1]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) y[r * cols + c] += bias[c];
    }
    return NNCL_OK;
}

/* dy (N x C), dbias (1 x C): dbias[c] = alpha sum_n dy[n][c] + beta dbias[c] */
enum nncl_status cpu_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *dy = cpu_data(&call->t[0]);
    float *dbias = cpu_data(&call->t[1]);
    const float alpha = call->p[0], beta = call->p[1];
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t c = 0; c < cols; c++) {
        double acc = 0.0;
        for (size_t r = 0; r < rows; r++) acc += dy[r * cols + c];
        const float g = (float)(alpha * acc);
        dbias[c] = beta == 0.0f ? g : g + beta * dbias[c];
    }
    return NNCL_OK;
}

/* x (any shape), out (1 x 1): out = alpha sum(x) + beta out */
enum nncl_status cpu_sum(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *x = cpu_data(&call->t[0]);
    float *out = cpu_data(&call->t[1]);
    const float alpha = call->p[0], beta = call->p[1];
    const size_t count = nncl_tensor_count(&call->t[0]);
    double acc = 0.0;
    for (size_t i = 0; i < count; i++) acc += x[i];
    const float s = (float)(alpha * acc);
    out[0] = beta == 0.0f ? s : s + beta * out[0];
    return NNCL_OK;
}

/* x = value */
enum nncl_status cpu_fill(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *x = cpu_data(&call->t[0]);
    const float value = call->p[0];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) x[i] = value;
    return NNCL_OK;
}

/* dst = src (same shape; overlapping views are allowed) */
enum nncl_status cpu_copy(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    memmove(cpu_data(&call->t[1]), cpu_data(&call->t[0]), nncl_tensor_count(&call->t[0]) * sizeof(float));
    return NNCL_OK;
}

/* x = alpha x */
enum nncl_status cpu_scale(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *x = cpu_data(&call->t[0]);
    const float alpha = call->p[0];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) x[i] *= alpha;
    return NNCL_OK;
}

/* src (N x C), idx (B x 1), dst (B x C): dst[b] = src[idx[b]]; a row with an invalid index becomes NaN */
enum nncl_status cpu_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *src = cpu_data(&call->t[0]), *idx = cpu_data(&call->t[1]);
    float *dst = cpu_data(&call->t[2]);
    const size_t n = call->t[0].rows, cols = call->t[0].cols, rows = call->t[1].rows;
    for (size_t b = 0; b < rows; b++) {
        const float i = idx[b];
        const int valid = i >= 0.0f && i < (float)n && floorf(i) == i;
        for (size_t c = 0; c < cols; c++) dst[b * cols + c] = valid ? src[(size_t)i * cols + c] : NAN;
    }
    return NNCL_OK;
}
