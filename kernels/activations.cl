// activations.cl: activation functions forward and backward, element by element (see
// src/cpu/cpu_activations.c for the reference these must match). A case per NNCL_ACT_LIST entry; an unknown
// activation gives NaN, so a missing case fails the parity cases loudly instead of computing identity.

inline float act_forward(int act, float a, float x) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return x;
    case NNCL_ACT_SIGMOID: return nncl_sigmoid(x);
    case NNCL_ACT_TANH: return tanh(x);
    case NNCL_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case NNCL_ACT_LEAKY_RELU: return x > 0.0f ? x : a * x;
    case NNCL_ACT_ELU: return x > 0.0f ? x : a * expm1(x);
    default: return NAN; // not an activation this file knows
    }
}

// f'(x) given y = f(x)
inline float act_derivative(int act, float a, float x, float y) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return 1.0f;
    case NNCL_ACT_SIGMOID: return y * (1.0f - y);
    case NNCL_ACT_TANH: return 1.0f - y * y;
    case NNCL_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case NNCL_ACT_LEAKY_RELU: return x > 0.0f ? 1.0f : a;
    case NNCL_ACT_ELU: return x > 0.0f ? 1.0f : y + a;
    default: return NAN; // not an activation this file knows
    }
}

// y = f(x); n elements
kernel void nncl_act_fwd(ulong n, int act, float a, global const float *x, ulong x_off, global float *y,
                         ulong y_off) {
    ELEMENT(i, n);
    y[y_off + i] = OUT(act_forward(act, a, x[x_off + i]));
}

// s[r][c] += bias[c]; y = f(s): a hidden layer after its product, in one pass; a 2D launch over rows x cols
kernel void nncl_bias_act_fwd(ulong rows, ulong cols, int act, float a, global float *s, ulong s_off,
                              global const float *bias, ulong bias_off, global float *y, ulong y_off) {
    ROW_COL(r, c, rows, cols);
    const float v = s[s_off + r * cols + c] + bias[bias_off + c];
    s[s_off + r * cols + c] = OUT(v);
    y[y_off + r * cols + c] = OUT(act_forward(act, a, v));
}

// dx = dy f'(x) + beta dx; n elements
kernel void nncl_act_bwd(ulong n, int act, float a, float beta, global const float *x, ulong x_off,
                         global const float *y, ulong y_off, global const float *dy, ulong dy_off,
                         global float *dx, ulong dx_off) {
    ELEMENT(i, n);
    const float g = dy[dy_off + i] * act_derivative(act, a, x[x_off + i], y[y_off + i]);
    AXPBY_STORE(dx[dx_off + i], g, beta);
}
