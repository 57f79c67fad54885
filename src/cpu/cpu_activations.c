/*
 * cpu_activations.c: activation functions forward and backward, element by element.
 *
 * The backward of each is written in terms of the forward's input x and output y, whichever is
 * cheaper and more accurate (tanh' = 1 - y^2 as in the seed's delta formula). The switches have a case
 * per NNCL_ACT_LIST entry and no default, so -Wall names a new activation that lacks its maths here.
 */
#include <math.h>

#include "cpu_impl.h"
#include "../status_impl.h"

/* y = f(x) */
static float act_forward(enum nncl_act act, float a, float x) {
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
static float act_derivative(enum nncl_act act, float a, float x, float y) {
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

/* x (N x C), y (N x C): y = f(x); x and y may be the same tensor */
enum nncl_status cpu_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
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
enum nncl_status cpu_bias_act_fwd(struct nncl_backend *be, const struct nncl_op_call *call) {
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
enum nncl_status cpu_act_bwd(struct nncl_backend *be, const struct nncl_op_call *call) {
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
