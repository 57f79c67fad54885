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

// ---- gradient clipping and the newer optimizers (src/cpu/cpu_optim2.c has the same maths) ----------

#ifndef NNCL_SUM_GROUP // the host passes OCL_SUM_GROUP (ocl_program.c build_options); this default is for reading
#define NNCL_SUM_GROUP 256
#endif

// The clip factor every update below applies to g: max_norm > 0 && ss > max_norm^2 ? max_norm / sqrt(ss)
// : 1, with ss = ||g||^2 from nncl_sumsq (a 1x1 tensor on the device: no host round trip). Not read at 0.
inline float nncl_clip_factor(global const float *ss, ulong ss_off, float max_norm) {
    if (!(max_norm > 0.0f)) return 1.0f;
    const float s = ss[ss_off];
    return s > max_norm * max_norm ? max_norm / sqrt(s) : 1.0f;
}

// out = sum x^2 in one group of NNCL_SUM_GROUP items (as nncl_sum); above 65536 values the host first runs
// nncl_sumsq_partial into fixed per-group partials, then nncl_sum adds those (squares are already taken).
kernel __attribute__((reqd_work_group_size(NNCL_SUM_GROUP, 1, 1)))
void nncl_sumsq(ulong n, global const float *x, ulong x_off, global float *out, ulong out_off) {
    local float partial[NNCL_SUM_GROUP];
    const uint lid = get_local_id(0);
    float acc = 0.0f;
    for (ulong i = lid; i < n; i += NNCL_SUM_GROUP) {
        const float xi = x[x_off + i];
        acc += xi * xi;
    }
    partial[lid] = acc;
    BARRIER(CLK_LOCAL_MEM_FENCE);
    for (uint stride = NNCL_SUM_GROUP / 2; stride > 0; stride /= 2) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        BARRIER(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[out_off] = OUT(partial[0]);
}

kernel __attribute__((reqd_work_group_size(NNCL_SUM_GROUP, 1, 1)))
void nncl_sumsq_partial(ulong n, global const float *x, ulong x_off, global float *partials) {
    local float partial[NNCL_SUM_GROUP];
    const uint lid = get_local_id(0);
    float acc = 0.0f;
    for (ulong i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float xi = x[x_off + i];
        acc += xi * xi;
    }
    partial[lid] = acc;
    BARRIER(CLK_LOCAL_MEM_FENCE);
    for (uint stride = NNCL_SUM_GROUP / 2; stride > 0; stride /= 2) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        BARRIER(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partials[get_group_id(0)] = OUT(partial[0]);
}

// g = c g
kernel void nncl_clip_grad(ulong n, float max_norm, global float *g, ulong g_off, global const float *ss,
                           ulong ss_off) {
    ELEMENT(i, n);
    g[g_off + i] = OUT(g[g_off + i] * nncl_clip_factor(ss, ss_off, max_norm));
}

// g' = c g + wd w; v = mu v + g'; w -= lr (g' + mu v)
kernel void nncl_nesterov_update(ulong n, float lr, float mu, float wd, float max_norm, global float *w,
                                 ulong w_off, global const float *g, ulong g_off, global float *v, ulong v_off,
                                 global const float *ss, ulong ss_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    const float gi = nncl_clip_factor(ss, ss_off, max_norm) * g[g_off + i] + wd * wi;
    const float vi = mu * v[v_off + i] + gi;
    v[v_off + i] = OUT(vi);
    w[w_off + i] = OUT(wi - lr * (gi + mu * vi));
}

// g' = c g + wd w; sq = a sq + (1 - a) g'^2; u = g' / (sqrt(sq) + eps); mu > 0: buf = mu buf + u, w -= lr buf;
// else w -= lr u
kernel void nncl_rmsprop_update(ulong n, float lr, float a, float eps, float wd, float mu, float max_norm,
                                global float *w, ulong w_off, global const float *g, ulong g_off, global float *sq,
                                ulong sq_off, global float *buf, ulong buf_off, global const float *ss,
                                ulong ss_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    const float gi = nncl_clip_factor(ss, ss_off, max_norm) * g[g_off + i] + wd * wi;
    const float si = a * sq[sq_off + i] + (1.0f - a) * gi * gi;
    sq[sq_off + i] = OUT(si);
    const float u = gi / (sqrt(si) + eps);
    if (mu > 0.0f) {
        const float bi = mu * buf[buf_off + i] + u;
        buf[buf_off + i] = OUT(bi);
        w[w_off + i] = OUT(wi - lr * bi);
    } else {
        w[w_off + i] = OUT(wi - lr * u);
    }
}

// w = w (1 - lr wd); g' = c g; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
// w -= lr (m / bc1) / (sqrt(v / bc2) + eps)
kernel void nncl_adamw_update(ulong n, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2,
                              float max_norm, global float *w, ulong w_off, global const float *g, ulong g_off,
                              global float *m, ulong m_off, global float *v, ulong v_off, global const float *ss,
                              ulong ss_off) {
    ELEMENT(i, n);
    const float gi = nncl_clip_factor(ss, ss_off, max_norm) * g[g_off + i];
    const float mi = b1 * m[m_off + i] + (1.0f - b1) * gi;
    const float vi = b2 * v[v_off + i] + (1.0f - b2) * gi * gi;
    m[m_off + i] = OUT(mi);
    v[v_off + i] = OUT(vi);
    w[w_off + i] = OUT(w[w_off + i] * (1.0f - lr * wd) - lr * (mi / bc1) / (sqrt(vi / bc2) + eps));
}

// iRPROP-: g' = c g + wd w; s = g' gprev; s > 0: delta = min(delta inc, dmax); s < 0: delta = max(delta dec,
// dmin), g' = 0; w -= sign(g') delta; gprev = g'
kernel void nncl_irprop_update(ulong n, float inc, float dec, float dmin, float dmax, float wd, float max_norm,
                               global float *w, ulong w_off, global const float *g, ulong g_off, global float *gp,
                               ulong gp_off, global float *d, ulong d_off, global const float *ss, ulong ss_off) {
    ELEMENT(i, n);
    const float wi = w[w_off + i];
    float gi = nncl_clip_factor(ss, ss_off, max_norm) * g[g_off + i] + wd * wi, di = d[d_off + i];
    const float s = gi * gp[gp_off + i];
    if (s > 0.0f) {
        di = fmin(di * inc, dmax);
    } else if (s < 0.0f) {
        di = fmax(di * dec, dmin);
        gi = 0.0f;
    }
    d[d_off + i] = OUT(di);
    gp[gp_off + i] = OUT(gi);
    w[w_off + i] = OUT(wi - (gi > 0.0f ? di : gi < 0.0f ? -di : 0.0f));
}
