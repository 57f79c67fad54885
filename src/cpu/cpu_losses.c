/*
 * cpu_losses.c: binary cross-entropy (fused with the sigmoid), squared error and classification error.
 *
 * Losses are written per example, one value per row; NNCL_OP_SUM turns them into a batch total.
 */
#include <math.h>

#include "cpu_impl.h"

/*
 * z, t, p (N x C), loss (N x 1):
 *   p = sigmoid(z),  loss_n = sum_c -t log p - (1 - t) log(1 - p)
 *                          = sum_c max(z, 0) - z t + log(1 + e^-|z|)
 * The second form is exact for any z: at z = +-100, p rounds to 0 or 1 but the loss stays finite.
 */
enum nncl_status cpu_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *z = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *p = cpu_data(&call->t[2]), *loss = cpu_data(&call->t[3]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        double l = 0.0;
        for (size_t c = 0; c < cols; c++) {
            const size_t i = r * cols + c;
            const double zi = z[i];
            p[i] = (float)(zi >= 0.0 ? 1.0 / (1.0 + exp(-zi)) : exp(zi) / (1.0 + exp(zi)));
            l += (zi > 0.0 ? zi : 0.0) - zi * t[i] + log1p(exp(-fabs(zi)));
        }
        loss[r] = (float)l;
    }
    return NNCL_OK;
}

/* p, t, dz (N x C): dz = scale (p - t) + beta dz, the seed's P(y=1|x) - y */
enum nncl_status cpu_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *p = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *dz = cpu_data(&call->t[2]);
    const float scale = call->p[0], beta = call->p[1];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) {
        const float g = scale * (p[i] - t[i]);
        dz[i] = beta == 0.0f ? g : g + beta * dz[i];
    }
    return NNCL_OK;
}

/* y, t (N x C), loss (N x 1): loss_n = sum_c (y_c - t_c)^2, the seed's e(w) = (x - y)^2 per output */
enum nncl_status cpu_mse_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *y = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *loss = cpu_data(&call->t[2]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        double l = 0.0;
        for (size_t c = 0; c < cols; c++) {
            const double d = (double)y[r * cols + c] - t[r * cols + c];
            l += d * d;
        }
        loss[r] = (float)l;
    }
    return NNCL_OK;
}

/* y, t, dy (N x C): dy = scale 2 (y - t) + beta dy */
enum nncl_status cpu_mse_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *y = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *dy = cpu_data(&call->t[2]);
    const float scale = call->p[0], beta = call->p[1];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) {
        const float g = scale * 2.0f * (y[i] - t[i]);
        dy[i] = beta == 0.0f ? g : g + beta * dy[i];
    }
    return NNCL_OK;
}

/* Index of the first largest value of a row. */
static size_t argmax(const float *x, size_t cols) {
    size_t best = 0;
    for (size_t c = 1; c < cols; c++) {
        if (x[c] > x[best]) best = c;
    }
    return best;
}

/*
 * y, t (N x C), err (N x 1): err_n = 1 when the predicted class differs from the target class, else 0.
 * With C > 1 the class is the row's argmax (first on ties); with C == 1 it is y >= 0.5 (a sigmoid
 * output or 0/1 target).
 */
enum nncl_status cpu_class_error(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *y = cpu_data(&call->t[0]), *t = cpu_data(&call->t[1]);
    float *err = cpu_data(&call->t[2]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        if (cols == 1) {
            err[r] = (y[r] >= 0.5f) != (t[r] >= 0.5f) ? 1.0f : 0.0f;
        } else {
            err[r] = argmax(y + r * cols, cols) != argmax(t + r * cols, cols) ? 1.0f : 0.0f;
        }
    }
    return NNCL_OK;
}
