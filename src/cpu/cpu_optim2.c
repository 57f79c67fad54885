/*
 * cpu_optim2.c: gradient clipping by global norm and the newer optimizers (Nesterov, RMSprop, AdamW,
 * iRPROP-). Each update runs over any tensor, typically a model's whole parameter arena at once, element
 * by element, so splitting the range over threads changes nothing in the results.
 *
 * Clipping: sumsq (1 x 1) holds ||g||^2 (cpu_sumsq); every update scales g by clip_factor() itself, so a
 * clipped step is one reduction plus the update. The maths of each is in include/nncl/nncl_oplist.h.
 */
#include <math.h>

#include "cpu_impl.h"

/* c = max_norm > 0 && ss > max_norm^2 ? max_norm / sqrt(ss) : 1, in float as the kernels compute it. A NaN
 * norm gives 1: the NaN gradient then reaches the weights, where divergence detection finds it. */
static float clip_factor(const struct nncl_tensor *sumsq, float max_norm) {
    if (!(max_norm > 0.0f)) return 1.0f;
    const float ss = *cpu_data(sumsq);
    return ss > max_norm * max_norm ? max_norm / sqrtf(ss) : 1.0f;
}

/* x (any), out (1 x 1): out = sum x^2, accumulated in double */
enum nncl_status cpu_sumsq(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const float *x = cpu_data(&call->t[0]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    double acc = 0.0;
    for (size_t i = 0; i < count; i++) acc += (double)x[i] * (double)x[i];
    *cpu_data(&call->t[1]) = (float)acc;
    return NNCL_OK;
}

/* g (any), sumsq (1 x 1); max_norm: g = c g */
enum nncl_status cpu_clip_grad(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *g = cpu_data(&call->t[0]);
    const float c = clip_factor(&call->t[1], call->p[0]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) g[i] *= c;
    return NNCL_OK;
}

/* w, g, v, sumsq; lr, mu, wd, max_norm:  g' = c g + wd w; v = mu v + g'; w -= lr (g' + mu v) (PyTorch's
 * SGD with nesterov=True; v starts at 0, so the first step's v is g' as PyTorch's first-step copy) */
enum nncl_status cpu_nesterov_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]), *v = cpu_data(&call->t[2]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], mu = call->p[1], wd = call->p[2], c = clip_factor(&call->t[3], call->p[3]);
    const size_t count = nncl_tensor_count(&call->t[0]);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (count > 65536)
#endif
    for (size_t i = 0; i < count; i++) {
        const float gi = c * g[i] + wd * w[i];
        const float vi = mu * v[i] + gi;
        v[i] = vi;
        w[i] -= lr * (gi + mu * vi);
    }
    return NNCL_OK;
}

/* w, g, sq, buf, sumsq; lr, alpha, eps, wd, mu, max_norm:  g' = c g + wd w; sq = a sq + (1 - a) g'^2;
 * u = g' / (sqrt(sq) + eps); mu > 0: buf = mu buf + u, w -= lr buf; else w -= lr u (PyTorch's RMSprop,
 * centered=False) */
enum nncl_status cpu_rmsprop_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]), *sq = cpu_data(&call->t[2]), *buf = cpu_data(&call->t[3]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], a = call->p[1], eps = call->p[2], wd = call->p[3], mu = call->p[4];
    const float c = clip_factor(&call->t[4], call->p[5]);
    const size_t count = nncl_tensor_count(&call->t[0]);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (count > 65536)
#endif
    for (size_t i = 0; i < count; i++) {
        const float gi = c * g[i] + wd * w[i];
        const float si = a * sq[i] + (1.0f - a) * gi * gi;
        sq[i] = si;
        const float u = gi / (sqrtf(si) + eps);
        if (mu > 0.0f) {
            const float bi = mu * buf[i] + u;
            buf[i] = bi;
            w[i] -= lr * bi;
        } else {
            w[i] -= lr * u;
        }
    }
    return NNCL_OK;
}

/* w, g, m, v, sumsq; lr, b1, b2, eps, wd, bc1, bc2, max_norm:  w = w (1 - lr wd); g' = c g;
 * m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2; w -= lr (m / bc1) / (sqrt(v / bc2) + eps) */
enum nncl_status cpu_adamw_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]), *m = cpu_data(&call->t[2]), *v = cpu_data(&call->t[3]);
    const float *g = cpu_data(&call->t[1]);
    const float lr = call->p[0], b1 = call->p[1], b2 = call->p[2], eps = call->p[3], wd = call->p[4];
    const float bc1 = call->p[5], bc2 = call->p[6], c = clip_factor(&call->t[4], call->p[7]);
    const float keep = 1.0f - lr * wd;
    const size_t count = nncl_tensor_count(&call->t[0]);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (count > 65536)
#endif
    for (size_t i = 0; i < count; i++) {
        const float gi = c * g[i];
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * keep - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
    return NNCL_OK;
}

/* w, g, gprev, delta, sumsq; inc, dec, dmin, dmax, wd, max_norm (iRPROP-, Igel and Huesken 2000):
 *   g' = c g + wd w; s = g' gprev
 *   s > 0: delta = min(delta inc, dmax);  s < 0: delta = max(delta dec, dmin), g' = 0;  s = 0: delta kept
 *   w -= sign(g') delta;  gprev = g' */
enum nncl_status cpu_irprop_update(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    float *w = cpu_data(&call->t[0]), *gp = cpu_data(&call->t[2]), *d = cpu_data(&call->t[3]);
    const float *g = cpu_data(&call->t[1]);
    const float inc = call->p[0], dec = call->p[1], dmin = call->p[2], dmax = call->p[3], wd = call->p[4];
    const float c = clip_factor(&call->t[4], call->p[5]);
    const size_t count = nncl_tensor_count(&call->t[0]);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (count > 65536)
#endif
    for (size_t i = 0; i < count; i++) {
        float gi = c * g[i] + wd * w[i], di = d[i];
        const float s = gi * gp[i];
        if (s > 0.0f) {
            di = fminf(di * inc, dmax);
        } else if (s < 0.0f) {
            di = fmaxf(di * dec, dmin);
            gi = 0.0f;
        }
        d[i] = di;
        gp[i] = gi;
        w[i] -= gi > 0.0f ? di : gi < 0.0f ? -di : 0.0f;
    }
    return NNCL_OK;
}
