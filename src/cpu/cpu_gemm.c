/*
 * cpu_gemm.c: the reference matrix product C = alpha op(A) op(B) + beta C, row-major.
 *
 * Two versions live here: cpu_gemm_naive, the plain triple loop that defines the result, and the
 * cache-blocked cpu_gemm the backend uses, which tests check against the naive loop. The blocked
 * version packs a KC x NC panel of op(B) and an MC x KC panel of alpha op(A) into contiguous memory
 * (so transposes cost nothing in the inner loop), then updates four rows of C at a time with an inner
 * loop over columns that compilers vectorise without reordering any sum: each C element still
 * accumulates its K products in order, so results do not depend on the thread count.
 */
#include <stdlib.h>
#include <string.h>

#include "../status_impl.h"
#include "cpu_impl.h"

/* a is (M x K), or (K x M) when trans_a; b is (K x N), or (N x K) when trans_b; c is (M x N). */
void cpu_gemm_naive(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a,
                    const float *b, float beta, float *c) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t p = 0; p < k; p++) {
                float av = trans_a ? a[p * m + i] : a[i * k + p];
                float bv = trans_b ? b[j * k + p] : b[p * n + j];
                acc += (double)av * (double)bv;
            }
            /* beta == 0 never reads c, as in BLAS: c may hold NaN. */
            c[i * n + j] = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * c[i * n + j]));
        }
    }
}

enum { MC = 64, KC = 256, NC = 1024 };

/* ap (mc x kc) = alpha * op(A)[i0:i0+mc, p0:p0+kc] */
static void pack_a(int trans_a, size_t m, size_t k, const float *a, size_t i0, size_t p0, size_t mc,
                   size_t kc, float alpha, float *restrict ap) {
    for (size_t i = 0; i < mc; i++) {
        for (size_t p = 0; p < kc; p++) {
            float v = trans_a ? a[(p0 + p) * m + i0 + i] : a[(i0 + i) * k + p0 + p];
            ap[i * kc + p] = alpha * v;
        }
    }
}

/* bp (kc x nc) = op(B)[p0:p0+kc, j0:j0+nc] */
static void pack_b(int trans_b, size_t n, size_t k, const float *b, size_t p0, size_t j0, size_t kc,
                   size_t nc, float *restrict bp) {
    for (size_t p = 0; p < kc; p++) {
        for (size_t j = 0; j < nc; j++) {
            bp[p * nc + j] = trans_b ? b[(j0 + j) * k + p0 + p] : b[(p0 + p) * n + j0 + j];
        }
    }
}

/* c[i0.., j0..] += ap (mc x kc) * bp (kc x nc); c has row stride ldc. */
static void block_update(size_t mc, size_t nc, size_t kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, size_t ldc) {
    size_t i = 0;
    for (; i + 4 <= mc; i += 4) {
        float *restrict c0 = c + i * ldc, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,
                        *restrict c3 = c2 + ldc;
        for (size_t p = 0; p < kc; p++) {
            const float a0 = ap[i * kc + p], a1 = ap[(i + 1) * kc + p], a2 = ap[(i + 2) * kc + p],
                        a3 = ap[(i + 3) * kc + p];
            const float *restrict brow = bp + p * nc;
            for (size_t j = 0; j < nc; j++) {
                c0[j] += a0 * brow[j];
                c1[j] += a1 * brow[j];
                c2[j] += a2 * brow[j];
                c3[j] += a3 * brow[j];
            }
        }
    }
    for (; i < mc; i++) {
        float *restrict ci = c + i * ldc;
        for (size_t p = 0; p < kc; p++) {
            const float av = ap[i * kc + p];
            const float *restrict brow = bp + p * nc;
            for (size_t j = 0; j < nc; j++) ci[j] += av * brow[j];
        }
    }
}

static size_t min_size(size_t x, size_t y) { return x < y ? x : y; }

enum nncl_status cpu_gemm(struct nncl_backend *be, const struct nncl_op_call *call) {
    (void)be;
    const int trans_a = call->ip[0], trans_b = call->ip[1];
    const float alpha = call->p[0], beta = call->p[1];
    const float *a = cpu_data(&call->t[0]), *b = cpu_data(&call->t[1]);
    float *c = cpu_data(&call->t[2]);
    const size_t m = call->t[2].rows, n = call->t[2].cols;
    const size_t k = trans_a ? call->t[0].rows : call->t[0].cols;

    /* c = beta c first; beta == 0 overwrites without reading (c may hold NaN). */
    if (beta == 0.0f) {
        memset(c, 0, m * n * sizeof *c);
    } else if (beta != 1.0f) {
        for (size_t i = 0; i < m * n; i++) c[i] *= beta;
    }
    if (alpha == 0.0f) return NNCL_OK;

    float *bp = malloc(sizeof(float) * KC * min_size(n, NC));
    if (!bp) return nncl_set_error(NNCL_ERR_OOM, "gemm: out of host memory for a %dx%zu packing panel", KC, n);
    for (size_t j0 = 0; j0 < n; j0 += NC) {
        const size_t nc = min_size(NC, n - j0);
        for (size_t p0 = 0; p0 < k; p0 += KC) {
            const size_t kc = min_size(KC, k - p0);
            pack_b(trans_b, n, k, b, p0, j0, kc, nc, bp);
            const long blocks = (long)((m + MC - 1) / MC);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (m * nc * kc > 32768)
#endif
            for (long blk = 0; blk < blocks; blk++) {
                const size_t i0 = (size_t)blk * MC, mc = min_size(MC, m - i0);
                float ap[MC * KC]; /* 64 KiB: per thread, on its stack */
                pack_a(trans_a, m, k, a, i0, p0, mc, kc, alpha, ap);
                block_update(mc, nc, kc, ap, bp, c + i0 * n + j0, n);
            }
        }
    }
    free(bp);
    return NNCL_OK;
}
