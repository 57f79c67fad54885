// elementwise.cl: bias add and bias gradient, the sum reduction, fill, copy and scale (see
// src/cpu/cpu_elementwise.c).

// y[r][c] += bias[c]; a 2D launch over rows x cols
kernel void nncl_bias_add(ulong rows, ulong cols, global float *y, ulong y_off, global const float *bias,
                          ulong bias_off) {
    ROW_COL(r, c, rows, cols);
    y[y_off + r * cols + c] = OUT(y[y_off + r * cols + c] + bias[bias_off + c]);
}

// dbias[c] = alpha sum_r dy[r][c] + beta dbias[c]; one work-item per column
kernel void nncl_bias_grad(ulong rows, ulong cols, float alpha, float beta, global const float *dy,
                           ulong dy_off, global float *dbias, ulong dbias_off) {
    GRID_STRIDE_LOOP(c, cols) {
        float acc = 0.0f;
        for (ulong r = 0; r < rows; r++) acc += dy[dy_off + r * cols + c];
        AXPBY_STORE(dbias[dbias_off + c], alpha * acc, beta);
    }
}

// out[0] = alpha sum(x) + beta out[0]. Launched as exactly one work-group of NNCL_SUM_GROUP items: each
// item sums a strided slice, then the group reduces in local memory. One launch, no host round trip.
#ifndef NNCL_SUM_GROUP // the host passes OCL_SUM_GROUP (ocl_program.c build_options); this default is for reading
#define NNCL_SUM_GROUP 256
#endif
kernel __attribute__((reqd_work_group_size(NNCL_SUM_GROUP, 1, 1)))
void nncl_sum(ulong n, float alpha, float beta, global const float *x, ulong x_off, global float *out,
              ulong out_off) {
    local float partial[NNCL_SUM_GROUP];
    const uint lid = get_local_id(0);
    float acc = 0.0f;
    for (ulong i = lid + NNCL_PERTURB_SHIFT; i < n; i += NNCL_SUM_GROUP) acc += x[x_off + i];
    partial[lid] = acc;
    BARRIER(CLK_LOCAL_MEM_FENCE);
    for (uint stride = NNCL_SUM_GROUP / 2; stride > 0; stride /= 2) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        BARRIER(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) AXPBY_STORE(out[out_off], alpha * partial[0], beta);
}

// Stage 1 of a large sum: each of the launched groups of NNCL_SUM_GROUP items sums a strided share of x
// into partials[group]; nncl_sum then adds the partials. Fixed group count and order: deterministic.
kernel __attribute__((reqd_work_group_size(NNCL_SUM_GROUP, 1, 1)))
void nncl_sum_partial(ulong n, global const float *x, ulong x_off, global float *partials) {
    local float partial[NNCL_SUM_GROUP];
    const uint lid = get_local_id(0);
    float acc = 0.0f;
    for (ulong i = get_global_id(0) + NNCL_PERTURB_SHIFT; i < n; i += get_global_size(0)) acc += x[x_off + i];
    partial[lid] = acc;
    BARRIER(CLK_LOCAL_MEM_FENCE);
    for (uint stride = NNCL_SUM_GROUP / 2; stride > 0; stride /= 2) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        BARRIER(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partials[get_group_id(0)] = OUT(partial[0]);
}

kernel void nncl_fill(ulong n, float value, global float *x, ulong x_off) {
    ELEMENT(i, n);
    x[x_off + i] = OUT(value);
}

kernel void nncl_copy(ulong n, global const float *src, ulong src_off, global float *dst, ulong dst_off) {
    ELEMENT(i, n);
    dst[dst_off + i] = OUT(src[src_off + i]);
}

kernel void nncl_scale(ulong n, float alpha, global float *x, ulong x_off) {
    ELEMENT(i, n);
    x[x_off + i] = OUT(x[x_off + i] * alpha);
}

// dst[b][c] = src[idx[b]][c]; a row whose index is not an integer in [0, n) becomes NaN. A 2D launch over
// rows x cols (rows = the batch).
kernel void nncl_gather_rows(ulong n, ulong rows, ulong cols, global const float *src, ulong src_off,
                             global const float *idx, ulong idx_off, global float *dst, ulong dst_off) {
    ROW_COL(b, c, rows, cols);
    const float r = idx[idx_off + b];
    const int valid = r >= 0.0f && r < (float)n && floor(r) == r;
    dst[dst_off + b * cols + c] = OUT(valid ? src[src_off + (ulong)r * cols + c] : NAN);
}

// Inverted dropout, forward (x = the activation's output) and backward (x = the delta), one work-item per
// element: y = keep ? x * scale : 0. keep: word 0 of Philox4x32-10 (key0, key1; counter e0 + i, ctr2, ctr3) below
// the host's threshold, an integer comparison; scale = 1 / (1 - p) from the host. The rounds are those of
// src/philox_impl.h, with its constants as build options (NNCL_PHILOX_*, src/opencl/ocl_program.c).
#ifndef NNCL_PHILOX_M0
#error "build with the options of src/opencl/ocl_program.c: -DNNCL_PHILOX_M0 and the other Philox constants"
#endif
inline uint nncl_philox_word0(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += NNCL_PHILOX_W0;
            k1 += NNCL_PHILOX_W1;
        }
        const ulong p0 = (ulong)NNCL_PHILOX_M0 * c0, p1 = (ulong)NNCL_PHILOX_M1 * c2;
        const uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0, n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint)p1;
        c3 = (uint)p0;
        c0 = n0;
        c2 = n2;
    }
    return c0;
}

kernel void nncl_dropout(ulong n, ulong threshold, float scale, uint key0, uint key1, uint ctr2, uint ctr3, ulong e0,
                         global const float *x, ulong x_off, global float *y, ulong y_off) {
    ELEMENT(i, n);
    const ulong e = e0 + i;
    const uint bits = nncl_philox_word0((uint)e, (uint)(e >> 32), ctr2, ctr3, key0, key1);
    y[y_off + i] = OUT((ulong)bits < threshold ? x[x_off + i] * scale : 0.0f);
}
