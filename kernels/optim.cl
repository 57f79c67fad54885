// optim.cl: parameter updates over any tensor, typically a model's whole parameter arena in one launch
// (see src/cpu/cpu_optim.c).

// w -= lr (g + wd w)
kernel void nncl_sgd_update(ulong n, float lr, float wd, global float *w, ulong w_off, global const float *g,
                            ulong g_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    w[w_off + i] = OUT(wi - lr * (g[g_off + i] + wd * wi));
}

// v = mu v + (g + wd w); w -= lr v
kernel void nncl_momentum_update(ulong n, float lr, float mu, float wd, global float *w, ulong w_off,
                                 global const float *g, ulong g_off, global float *v, ulong v_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    const float vi = mu * v[v_off + i] + (g[g_off + i] + wd * wi);
    v[v_off + i] = OUT(vi);
    w[w_off + i] = OUT(wi - lr * vi);
}

// g' = g + wd w; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2; w -= lr (m / bc1) / (sqrt(v / bc2) + eps)
kernel void nncl_adam_update(ulong n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2,
                             global float *w, ulong w_off, global const float *g, ulong g_off, global float *m,
                             ulong m_off, global float *v, ulong v_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    const float gi = g[g_off + i] + wd * wi;
    const float mi = b1 * m[m_off + i] + (1.0f - b1) * gi;
    const float vi = b2 * v[v_off + i] + (1.0f - b2) * gi * gi;
    m[m_off + i] = OUT(mi);
    v[v_off + i] = OUT(vi);
    w[w_off + i] = OUT(wi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps));
}
