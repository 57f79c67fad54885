/*
 * cpu_activations.c: activation functions forward and backward, element by element.
 *
 * The backward of each is written in terms of the forward's input x and output y, whichever is
 * cheaper and more accurate (tanh' = 1 - y^2 as in the seed's delta formula).
 *
 * Each op comes twice: the plain loop (`*_plain`, the oracle tests/test_cpu_fast.c checks against) and
 * the op the backend runs, which computes every element with the same expression but (1) switches on the
 * activation once per call, not per element, so that the compiler inlines one activation into a
 * branch-free loop it can vectorise (ReLU on random signs was a mispredicted branch per element), and
 * (2) above CPU_PARALLEL_MIN elements splits the rows over the backend's threads. An element's value
 * depends on that element alone, so the split changes no bit.
 *
 * The switches have a case per NNCL_ACT_LIST entry and no default, so -Wall names a new activation that
 * lacks its maths here.
 */
#include <math.h>

#include "cpu_impl.h"
#include "../status_impl.h"

/* y = f(x) (always inlined: the fast loops below rely on a constant `act` folding the switch away) */
static inline __attribute__((always_inline)) float act_forward(enum nncl_act act, float a, float x) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return x;
    /* two branches so that exp never overflows: both are exact for their half */
    case NNCL_ACT_SIGMOID: return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case NNCL_ACT_TANH: return tanhf(x);
    case NNCL_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case NNCL_ACT_LEAKY_RELU: return x > 0.0f ? x : a * x;
    case NNCL_ACT_ELU: return x > 0.0f ? x : a * expm1f(x);
    case NNCL_ACT_COUNT: break;
    }
    NNCL_ASSERT(!"act_forward: not an enum nncl_act value (ops.c checks it; a case is missing here)");
    return NAN;
}

/* f'(x), given y = f(x) */
static inline __attribute__((always_inline)) float act_derivative(enum nncl_act act, float a, float x, float y) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return 1.0f;
    case NNCL_ACT_SIGMOID: return y * (1.0f - y);
    case NNCL_ACT_TANH: return 1.0f - y * y;
    case NNCL_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case NNCL_ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : a;
    case NNCL_ACT_ELU: return x > 0.0f ? 1.0f : y + a; /* d/dx a(e^x - 1) = a e^x = y + a */
    case NNCL_ACT_COUNT: break;
    }
    NNCL_ASSERT(!"act_derivative: not an enum nncl_act value (ops.c checks it; a case is missing here)");
    return NAN;
}

/* ---- the plain loops: the oracle ----------------------------------------------------------------- */

/* x (N x C), y (N x C): y = f(x); x and y may be the same tensor */
enum nncl_status cpu_act_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0];
    const float *x = cpu_data(&call->t[0]);
    float *y = cpu_data(&call->t[1]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) y[i] = act_forward(act, a, x[i]);
    return NNCL_OK;
}

/* s (N x C), bias (1 x C), y (N x C): s += bias, then y = f(s); the same float operations as bias_add
 * followed by act_fwd, so the fused op and the pair agree bit for bit */
enum nncl_status cpu_bias_act_fwd_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0];
    float *s = cpu_data(&call->t[0]), *y = cpu_data(&call->t[2]);
    const float *bias = cpu_data(&call->t[1]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            const float v = s[r * cols + c] + bias[c];
            s[r * cols + c] = v;
            y[r * cols + c] = act_forward(act, a, v);
        }
    }
    return NNCL_OK;
}

/* x, y, dy, dx (N x C): dx = dy f'(x) + beta dx; dx may be the same tensor as dy */
enum nncl_status cpu_act_bwd_plain(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0], beta = call->p[1];
    const float *x = cpu_data(&call->t[0]), *y = cpu_data(&call->t[1]), *dy = cpu_data(&call->t[2]);
    float *dx = cpu_data(&call->t[3]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    for (size_t i = 0; i < count; i++) {
        const float g = dy[i] * act_derivative(act, a, x[i], y[i]);
        dx[i] = beta == 0.0f ? g : g + beta * dx[i];
    }
    return NNCL_OK;
}

/* ---- the fast paths ------------------------------------------------------------------------------ */

/* One `case` per activation, each running BODY with a compile-time constant ACT. */
#define ACT_SWITCH(act, BODY)                                                                                 \
    switch (act) {                                                                                           \
    case NNCL_ACT_IDENTITY: { const enum nncl_act ACT = NNCL_ACT_IDENTITY; BODY; } break;                      \
    case NNCL_ACT_SIGMOID: { const enum nncl_act ACT = NNCL_ACT_SIGMOID; BODY; } break;                        \
    case NNCL_ACT_TANH: { const enum nncl_act ACT = NNCL_ACT_TANH; BODY; } break;                              \
    case NNCL_ACT_RELU: { const enum nncl_act ACT = NNCL_ACT_RELU; BODY; } break;                              \
    case NNCL_ACT_LEAKY_RELU: { const enum nncl_act ACT = NNCL_ACT_LEAKY_RELU; BODY; } break;                  \
    case NNCL_ACT_ELU: { const enum nncl_act ACT = NNCL_ACT_ELU; BODY; } break;                                \
    case NNCL_ACT_COUNT: break;                                                                              \
    }

/* y[0..n) = f(x[0..n)); x == y is allowed (then the loop runs in place, which vectorises too) */
static void act_fwd_range(enum nncl_act act, float a, const float *x, float *y, size_t n) {
    if (x == y) {
        ACT_SWITCH(act, for (size_t i = 0; i < n; i++) y[i] = act_forward(ACT, a, y[i]))
        return;
    }
    const float *restrict xr = x;
    float *restrict yr = y;
    ACT_SWITCH(act, for (size_t i = 0; i < n; i++) yr[i] = act_forward(ACT, a, xr[i]))
}

/* rows r0..r1 of s (N x C): s += bias; y = f(s) */
static void bias_act_rows(enum nncl_act act, float a, float *restrict s, const float *restrict bias, float *restrict y,
                          size_t cols, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
        float *restrict sr = s + r * cols, *restrict yr = y + r * cols;
        for (size_t c = 0; c < cols; c++) sr[c] += bias[c];
        ACT_SWITCH(act, for (size_t c = 0; c < cols; c++) yr[c] = act_forward(ACT, a, sr[c]))
    }
}

/* dx[0..n) = dy f'(x) + beta dx; dx == dy is allowed (the backward pass runs it in place) */
static void act_bwd_range(enum nncl_act act, float a, float beta, const float *restrict x, const float *restrict y,
                          const float *dy, float *dx, size_t n) {
    if (dx == dy) {
        float *restrict d = dx;
        if (beta == 0.0f) {
            ACT_SWITCH(act, for (size_t i = 0; i < n; i++) d[i] = d[i] * act_derivative(ACT, a, x[i], y[i]))
        } else {
            ACT_SWITCH(act, for (size_t i = 0; i < n; i++) {
                const float g = d[i] * act_derivative(ACT, a, x[i], y[i]);
                d[i] = g + beta * d[i];
            })
        }
        return;
    }
    const float *restrict dyr = dy;
    float *restrict dxr = dx;
    if (beta == 0.0f) {
        ACT_SWITCH(act, for (size_t i = 0; i < n; i++) dxr[i] = dyr[i] * act_derivative(ACT, a, x[i], y[i]))
    } else {
        ACT_SWITCH(act, for (size_t i = 0; i < n; i++) dxr[i] = dyr[i] * act_derivative(ACT, a, x[i], y[i]) + beta * dxr[i])
    }
}

enum nncl_status cpu_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0];
    const float *x = cpu_data(&call->t[0]);
    float *y = cpu_data(&call->t[1]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi, act_fwd_range(act, a, x + lo, y + lo, hi - lo));
    return NNCL_OK;
}

enum nncl_status cpu_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0];
    float *s = cpu_data(&call->t[0]), *y = cpu_data(&call->t[2]);
    const float *bias = cpu_data(&call->t[1]);
    const size_t rows = call->t[0].rows, cols = call->t[0].cols;
    if (s == y) return cpu_bias_act_fwd_plain(be, call); /* (the model never asks for this) */
    CPU_SPLIT(rows, cpu_threads_for(be, rows * cols), r0, r1, bias_act_rows(act, a, s, bias, y, cols, r0, r1));
    return NNCL_OK;
}

enum nncl_status cpu_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
    const enum nncl_act act = (enum nncl_act)call->ip[0];
    const float a = call->p[0], beta = call->p[1];
    const float *x = cpu_data(&call->t[0]), *y = cpu_data(&call->t[1]), *dy = cpu_data(&call->t[2]);
    float *dx = cpu_data(&call->t[3]);
    const size_t count = nncl_tensor_count(&call->t[0]);
    /* x or y aliasing dx is legal but unusual: the plain loop handles it */
    if (dx == x || dx == y) return cpu_act_bwd_plain(be, call);
    CPU_SPLIT(count, cpu_threads_for(be, count), lo, hi,
              act_bwd_range(act, a, beta, x + lo, y + lo, dy + lo, dx + lo, hi - lo));
    return NNCL_OK;
}
