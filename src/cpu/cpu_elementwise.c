/*
 * cpu_elementwise.c: bias add and bias gradient, the sum reduction, the fill/copy/scale helpers and the
 * row gather.
 *
 * bias_add, bias_grad and gather_rows come twice: the plain loop (`*_plain`, the oracle) and the op the
 * backend runs, which computes each element with the same expression, in loops the compiler vectorises,
 * split over the backend's threads above CPU_PARALLEL_MIN elements. bias_grad's fast path sums a block
 * of columns at a time reading dy row by row (the plain loop walks down a column, one cache line per
 * element); each column is still summed from row 0 to row N-1 into its own double, so the result is the
 * plain loop's, bit for bit, for any thread count.
 */
#include <math.h>
#include <string.h>

#include "cpu_impl.h"

/* y (N x C), bias (1 x C): y[n][c] += bias[c] (the seed's x0 = 1 input times its weights w_0c) */
enum nncl_status cpu_bias_add_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
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
enum nncl_status cpu_bias_grad_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
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
enum nncl_status cpu_gather_rows_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
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

/* ---- the fast paths ------------------------------------------------------------------------------ */

static size_t min_size(size_t x, size_t y) { return x < y ? x : y; }

static void bias_add_rows(float *restrict y, const float *restrict bias, size_t cols, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
        float *restrict yr = y + r * cols;
        for (size_t c = 0; c < cols; c++) yr[c] += bias[c];
    }
}

enum nncl_status cpu_bias_add(struct nncl_backend *be, const struct nncl_op_call *call) {
    float *y = cpu_data(&call->t[0]);
    const float *bias = cpu_data(&call->t[1]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    CPU_SPLIT(rows, cpu_threads_for(be, rows * cols), r0, r1, bias_add_rows(y, bias, cols, r0, r1));
    return NNCL_OK;
}

/* dbias[c0..c1) from columns c0..c1 of dy, CB columns at a time: acc[j] += dy[r][c + j] for r = 0..N-1 */
static void bias_grad_cols(const float *restrict dy, float *restrict dbias, size_t rows, size_t cols, size_t c0,
                           size_t c1, float alpha, float beta) {
    enum { CB = 64 };
    for (size_t cb = c0; cb < c1; cb += CB) {
        const size_t w = min_size(CB, c1 - cb);
        double acc[CB] = {0};
        for (size_t r = 0; r < rows; r++) {
            const float *restrict dyr = dy + r * cols + cb;
            for (size_t j = 0; j < w; j++) acc[j] += dyr[j];
        }
        for (size_t j = 0; j < w; j++) {
            const float g = (float)(alpha * acc[j]);
            dbias[cb + j] = beta == 0.0f ? g : g + beta * dbias[cb + j];
        }
    }
}

enum nncl_status cpu_bias_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    const float *dy = cpu_data(&call->t[0]);
    float *dbias = cpu_data(&call->t[1]);
    const float alpha = call->p[0], beta = call->p[1];
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    /* threads split the columns; a thread needs a few blocks of them to pay for itself */
    const int threads = cols >= 128 ? cpu_threads_for(be, rows * cols) : 1;
    CPU_SPLIT(cols, threads, c0, c1, bias_grad_cols(dy, dbias, rows, cols, c0, c1, alpha, beta));
    return NNCL_OK;
}

static void gather_rows_range(const float *restrict src, const float *restrict idx, float *restrict dst, size_t n,
                              size_t cols, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
        const float i = idx[b];
        if (i >= 0.0f && i < (float)n && floorf(i) == i) {
            memcpy(dst + b * cols, src + (size_t)i * cols, cols * sizeof *dst);
        } else {
            for (size_t c = 0; c < cols; c++) dst[b * cols + c] = NAN;
        }
    }
}

enum nncl_status cpu_gather_rows(struct nncl_backend *be, const struct nncl_op_call *call) {
    const float *src = cpu_data(&call->t[0]), *idx = cpu_data(&call->t[1]);
    float *dst = cpu_data(&call->t[2]);
    const size_t n = call->t[0].rows, cols = call->t[0].cols, rows = call->t[1].rows;
    CPU_SPLIT(rows, cpu_threads_for(be, rows * cols), b0, b1, gather_rows_range(src, idx, dst, n, cols, b0, b1));
    return NNCL_OK;
}
