/*
 * cpu_optim.c: parameter updates. Each runs over any tensor, typically the whole parameter arena of a
 * model at once. Weight decay is L2: its gradient wd * w is added to g.
 *
 * Every update is element by element, so the fast ops only split the range over the backend's threads
 * (above CPU_PARALLEL_MIN elements) and mark the pointers restrict so that the loops vectorise; the
 * plain loops (`*_plain`) stay as the oracle.
 */
#include <math.h>

#include "cpu_impl.h"

/* w, g: w -= lr (g + wd w), the seed's w <- w - eta grad */
enum nncl_status cpu_sgd_update_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], wd = call->p[1];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) w[i] -= lr * (g[i] + wd * w[i]);
    return NNCL_OK;
}

/* w, g, v: v = mu v + (g + wd w); w -= lr v (the form PyTorch's SGD uses) */
enum nncl_status cpu_momentum_update_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]), *v = cpu_data(&call->t[2]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], mu = call->p[1], wd = call->p[2];
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) {
        v[i] = mu * v[i] + (g[i] + wd * w[i]);
        w[i] -= lr * v[i];
    }
    return NNCL_OK;
}

/*
 * w, g, m, v; lr, beta1, beta2, eps, wd, bc1 = 1 - beta1^t, bc2 = 1 - beta2^t:
 *   g' = g + wd w;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
 *   w -= lr (m / bc1) / (sqrt(v / bc2) + eps)
 */
static void adam_range(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, float lr,
                       float b1, float b2, float eps, float wd, float bc1, float bc2, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
        const float gi = g[i] + wd * w[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        w[i] -= lr * (m[i] / bc1) / (sqrtf(v[i] / bc2) + eps);
    }
}

enum nncl_status cpu_adam_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    float *w = cpu_data(&call->t[0]), *m = cpu_data(&call->t[2]), *v = cpu_data(&call->t[3]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], b1 = call->p[1], b2 = call->p[2], eps = call->p[3], wd = call->p[4];
    const float bc1 = call->p[5], bc2 = call->p[6];
    const size_t count = nncl_tensor_count(&call->t[0]);
    /* element by element, so splitting the range over threads changes nothing in the results */
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi, adam_range(w, g, m, v, lr, b1, b2, eps, wd, bc1, bc2, lo, hi));
    return NNCL_OK;
}

/* ---- the fast paths ------------------------------------------------------------------------------ */

static void sgd_range(float *restrict w, const float *restrict g, float lr, float wd, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) w[i] -= lr * (g[i] + wd * w[i]);
}

enum nncl_status cpu_sgd_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    float *w = cpu_data(&call->t[0]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], wd = call->p[1];
    const size_t count = nncl_tensor_count(&call->t[0]);
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi, sgd_range(w, g, lr, wd, lo, hi));
    return NNCL_OK;
}

static void momentum_range(float *restrict w, const float *restrict g, float *restrict v, float lr, float mu, float wd,
                           size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
        v[i] = mu * v[i] + (g[i] + wd * w[i]);
        w[i] -= lr * v[i];
    }
}

enum nncl_status cpu_momentum_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    float *w = cpu_data(&call->t[0]), *v = cpu_data(&call->t[2]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], mu = call->p[1], wd = call->p[2];
    const size_t count = nncl_tensor_count(&call->t[0]);
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi, momentum_range(w, g, v, lr, mu, wd, lo, hi));
    return NNCL_OK;
}
