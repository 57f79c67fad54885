/*
 * cpu_softmax.c: row-wise softmax forward and backward, and the fused softmax + cross-entropy loss.
 *
 * Softmax subtracts each row's maximum before exponentiating, so logits of +-100 (or +-1e30) neither
 * overflow nor produce NaN. Sums are accumulated in double.
 */
#include <math.h>

#include "cpu_impl.h"

static double softmax_row_plain(const float *x, float *y, size_t cols);

/* x (C), y (C): y = exp(x - max) / sum exp(x - max); returns log sum exp(x). Each exp is computed
 * once and kept (in double, so the quotient is the same) when the row is short enough for the stack:
 * the same values as softmax_row_plain, half the calls to exp. */
static double softmax_row(const float *x, float *y, size_t cols) {
    enum { KEEP = 256 };
    if (cols > KEEP) return softmax_row_plain(x, y, cols);
    double e[KEEP];
    float mx = x[0];
    for (size_t c = 1; c < cols; c++) mx = x[c] > mx ? x[c] : mx;
    double sum = 0.0;
    for (size_t c = 0; c < cols; c++) sum += e[c] = exp((double)x[c] - mx);
    for (size_t c = 0; c < cols; c++) y[c] = (float)(e[c] / sum);
    return mx + log(sum);
}

/* the same, computing each exp twice */
static double softmax_row_plain(const float *x, float *y, size_t cols) {
    float mx = x[0];
    for (size_t c = 1; c < cols; c++) mx = x[c] > mx ? x[c] : mx;
    double sum = 0.0;
    for (size_t c = 0; c < cols; c++) sum += exp((double)x[c] - mx);
    for (size_t c = 0; c < cols; c++) y[c] = (float)(exp((double)x[c] - mx) / sum);
    return mx + log(sum);
}

/* x (N x C), y (N x C): each row of y is the softmax of that row of x */
enum nncl_status cpu_softmax_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *x = cpu_data(&call->t[0]);
    float *y = cpu_data(&call->t[1]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) softmax_row(x + r * cols, y + r * cols, cols);
    return NNCL_OK;
}

/* y, dy, dx (N x C): dx_c = y_c (dy_c - sum_k dy_k y_k) + beta dx_c, row by row */
enum nncl_status cpu_softmax_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *y = cpu_data(&call->t[0]), *dy = cpu_data(&call->t[1]);
    float *dx = cpu_data(&call->t[2]);
    const float beta = call->p[0];
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        double dot = 0.0;
        for (size_t c = 0; c < cols; c++) dot += (double)dyr[c] * yr[c];
        for (size_t c = 0; c < cols; c++) {
            const float g = (float)(yr[c] * ((double)dyr[c] - dot));
            dxr[c] = beta == 0.0f ? g : g + beta * dxr[c];
        }
    }
    return NNCL_OK;
}

/*
 * z (N x C) logits, t (N x C) targets, p (N x C) out, loss (N x 1) out:
 *   p = softmax(z),  loss_n = -sum_c t_c log p_c = sum_c t_c (logsumexp(z) - z_c)
 * The second form never takes the log of an underflowed probability.
 */
enum nncl_status cpu_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *z = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *p = cpu_data(&call->t[2]), *loss = cpu_data(&call->t[3]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        const double lse = softmax_row(z + r * cols, p + r * cols, cols);
        double l = 0.0;
        for (size_t c = 0; c < cols; c++) {
            const double tc = t[r * cols + c];
            if (tc != 0.0) l += tc * (lse - z[r * cols + c]);
        }
        loss[r] = (float)l;
    }
    return NNCL_OK;
}

/* the same with softmax_row_plain: the oracle */
enum nncl_status cpu_softmax_xent_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *z = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *p = cpu_data(&call->t[2]), *loss = cpu_data(&call->t[3]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        const double lse = softmax_row_plain(z + r * cols, p + r * cols, cols);
        double l = 0.0;
        for (size_t c = 0; c < cols; c++) {
            const double tc = t[r * cols + c];
            if (tc != 0.0) l += tc * (lse - z[r * cols + c]);
        }
        loss[r] = (float)l;
    }
    return NNCL_OK;
}

/*
 * p, t, dz (N x C): dz = scale (p sum_c t_c - t) + beta dz
 * (d loss_n / d z_c = p_c sum_k t_k - t_c; with one-hot or probability targets sum_k t_k = 1.)
 */
enum nncl_status cpu_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *p = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *dz = cpu_data(&call->t[2]);
    const float scale = call->p[0], beta = call->p[1];
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        double tsum = 0.0;
        for (size_t c = 0; c < cols; c++) tsum += t[r * cols + c];
        for (size_t c = 0; c < cols; c++) {
            const size_t i = r * cols + c;
            const float g = (float)(scale * ((double)p[i] * tsum - t[i]));
            dz[i] = beta == 0.0f ? g : g + beta * dz[i];
        }
    }
    return NNCL_OK;
}
