// softmax.cl: row-wise softmax forward and backward and the fused softmax + cross-entropy loss.
// One work-item per row: rows are short (classes), and a row's sums then stay in one thread's order.
// Each row subtracts its maximum before exp, so logits of +-100 are safe.

// y = softmax(x) for one row; returns log sum exp(x)
inline float softmax_row(global const float *x, global float *y, ulong cols) {
    float mx = x[0];
    for (ulong c = 1; c < cols; c++) mx = fmax(mx, x[c]);
    float sum = 0.0f;
    for (ulong c = 0; c < cols; c++) sum += exp(x[c] - mx);
    const float inv = 1.0f / sum;
    for (ulong c = 0; c < cols; c++) y[c] = OUT(exp(x[c] - mx) * inv);
    return mx + log(sum);
}

kernel void nncl_softmax_fwd(ulong rows, ulong cols, global const float *x, ulong x_off, global float *y,
                             ulong y_off) {
    GRID_STRIDE_LOOP(r, rows) { softmax_row(x + x_off + r * cols, y + y_off + r * cols, cols); }
}

// dx = y (dy - <dy, y>) + beta dx, per row
kernel void nncl_softmax_bwd(ulong rows, ulong cols, float beta, global const float *y, ulong y_off,
                             global const float *dy, ulong dy_off, global float *dx, ulong dx_off) {
    GRID_STRIDE_LOOP(r, rows) {
        global const float *yr = y + y_off + r * cols, *dyr = dy + dy_off + r * cols;
        global float *dxr = dx + dx_off + r * cols;
        float dot = 0.0f;
        for (ulong c = 0; c < cols; c++) dot += dyr[c] * yr[c];
        for (ulong c = 0; c < cols; c++) AXPBY_STORE(dxr[c], yr[c] * (dyr[c] - dot), beta);
    }
}

// p = softmax(z); loss_r = sum_c t_c (logsumexp(z) - z_c)
kernel void nncl_softmax_xent_fwd(ulong rows, ulong cols, global const float *z, ulong z_off,
                                  global const float *t, ulong t_off, global float *p, ulong p_off,
                                  global float *loss, ulong loss_off) {
    GRID_STRIDE_LOOP(r, rows) {
        global const float *zr = z + z_off + r * cols, *tr = t + t_off + r * cols;
        const float lse = softmax_row(zr, p + p_off + r * cols, cols);
        float l = 0.0f;
        for (ulong c = 0; c < cols; c++) {
            if (tr[c] != 0.0f) l += tr[c] * (lse - zr[c]);
        }
        loss[loss_off + r] = OUT(l);
    }
}

// dz = scale (p sum(t) - t) + beta dz, per row
kernel void nncl_softmax_xent_bwd(ulong rows, ulong cols, float scale, float beta, global const float *p,
                                  ulong p_off, global const float *t, ulong t_off, global float *dz,
                                  ulong dz_off) {
    GRID_STRIDE_LOOP(r, rows) {
        global const float *pr = p + p_off + r * cols, *tr = t + t_off + r * cols;
        global float *dzr = dz + dz_off + r * cols;
        float tsum = 0.0f;
        for (ulong c = 0; c < cols; c++) tsum += tr[c];
        for (ulong c = 0; c < cols; c++) AXPBY_STORE(dzr[c], scale * (pr[c] * tsum - tr[c]), beta);
    }
}
