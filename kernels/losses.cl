// losses.cl: sigmoid + binary cross-entropy, squared error and classification error (see
// src/cpu/cpu_losses.c). Per-row losses use one work-item per row; gradients are element-wise.

// p = sigmoid(z); loss_r = sum_c max(z, 0) - z t + log(1 + e^-|z|)
kernel void nncl_sigmoid_bce_fwd(ulong rows, ulong cols, global const float *z, ulong z_off,
                                 global const float *t, ulong t_off, global float *p, ulong p_off,
                                 global float *loss, ulong loss_off) {
    GRID_STRIDE_LOOP(r, rows) {
        float l = 0.0f;
        for (ulong c = 0; c < cols; c++) {
            const ulong i = r * cols + c;
            const float zi = z[z_off + i];
            p[p_off + i] = OUT(nncl_sigmoid(zi));
            l += fmax(zi, 0.0f) - zi * t[t_off + i] + log1p(exp(-fabs(zi)));
        }
        loss[loss_off + r] = OUT(l);
    }
}

// dz = scale (p - t) + beta dz; n elements
kernel void nncl_sigmoid_bce_bwd(ulong n, float scale, float beta, global const float *p, ulong p_off,
                                 global const float *t, ulong t_off, global float *dz, ulong dz_off) {
    ELEMENT(i, n);
    AXPBY_STORE(dz[dz_off + i], scale * (p[p_off + i] - t[t_off + i]), beta);
}

// loss_r = sum_c (y - t)^2
kernel void nncl_mse_fwd(ulong rows, ulong cols, global const float *y, ulong y_off, global const float *t,
                         ulong t_off, global float *loss, ulong loss_off) {
    GRID_STRIDE_LOOP(r, rows) {
        float l = 0.0f;
        for (ulong c = 0; c < cols; c++) {
            const float d = y[y_off + r * cols + c] - t[t_off + r * cols + c];
            l += d * d;
        }
        loss[loss_off + r] = OUT(l);
    }
}

// dy = scale 2 (y - t) + beta dy; n elements
kernel void nncl_mse_bwd(ulong n, float scale, float beta, global const float *y, ulong y_off,
                         global const float *t, ulong t_off, global float *dy, ulong dy_off) {
    ELEMENT(i, n);
    AXPBY_STORE(dy[dy_off + i], scale * 2.0f * (y[y_off + i] - t[t_off + i]), beta);
}

inline ulong row_argmax(global const float *x, ulong cols) {
    ulong best = 0;
    for (ulong c = 1; c < cols; c++) {
        if (x[c] > x[best]) best = c;
    }
    return best;
}

// err_r = 1 when the predicted class differs from the target's (argmax; threshold 0.5 for one column)
kernel void nncl_class_error(ulong rows, ulong cols, global const float *y, ulong y_off, global const float *t,
                             ulong t_off, global float *err, ulong err_off) {
    GRID_STRIDE_LOOP(r, rows) {
        int wrong;
        if (cols == 1) {
            wrong = (y[y_off + r] >= 0.5f) != (t[t_off + r] >= 0.5f);
        } else {
            wrong = row_argmax(y + y_off + r * cols, cols) != row_argmax(t + t_off + r * cols, cols);
        }
        err[err_off + r] = OUT(wrong ? 1.0f : 0.0f);
    }
}
