/*
 * tune_bench.c: timing a net's matrix products on a backend for nncl_opencl_tune (see tune_impl.h). Only
 * the public op API: the products run as training runs them, through nncl_op_gemm.
 */
#include <stdint.h>
#include <stdlib.h>

#include "random_impl.h"
#include "tune/tune_impl.h"
#include "util/util.h"

/* The fastest of n runs: on a machine shared with other work, noise only ever adds time, so the minimum is
 * the steadiest estimate of what the device can do, for the untuned and the tuned runs alike. */
static double fastest(const double *v, size_t n) {
    double m = v[0];
    for (size_t i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}

void tune_bench_free(struct tune_bench *b) {
    for (size_t i = 0; i < b->n; i++) nncl_buffer_free(b->buf[i]);
    b->n = 0;
}

enum nncl_status tune_bench_add(struct nncl_backend *be, struct tune_bench *bn, const struct nncl_gemm_shape *s,
                                uint64_t *rng) {
    const size_t i = bn->n;
    const size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
    enum nncl_status st = nncl_buffer_alloc(be, (na + nb + nc) * sizeof(float), &bn->buf[i]);
    if (st) return st;
    bn->n++;
    bn->a[i] = s->trans_a ? nncl_tensor_view(bn->buf[i], 0, s->k, s->m) : nncl_tensor_view(bn->buf[i], 0, s->m, s->k);
    bn->b[i] = s->trans_b ? nncl_tensor_view(bn->buf[i], na, s->n, s->k) : nncl_tensor_view(bn->buf[i], na, s->k, s->n);
    bn->c[i] = nncl_tensor_view(bn->buf[i], na + nb, s->m, s->n);
    bn->ta[i] = s->trans_a, bn->tb[i] = s->trans_b;
    float *host = malloc((na + nb) * sizeof(float));
    if (!host) return nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    for (size_t j = 0; j < na + nb; j++) {
        host[j] = (float)(nncl_random_unit(rng) - 0.5); /* [-0.5, 0.5) */
    }
    st = nncl_tensor_set(&bn->a[i], host, na);
    if (!st) st = nncl_tensor_set(&bn->b[i], host + na, nb);
    free(host);
    return st;
}

static enum nncl_status bench_gemm(struct nncl_backend *be, const struct tune_bench *bn, size_t i) {
    return nncl_op_gemm(be, bn->ta[i], bn->tb[i], 1.0f, &bn->a[i], &bn->b[i], 0.0f, &bn->c[i]);
}

enum nncl_status tune_bench_time(struct nncl_backend *be, const struct tune_bench *bn, size_t first, size_t last,
                                 int repeats, double *pass_ms, double *each_ms) {
    enum nncl_status st = NNCL_OK;
    double *samples = malloc((size_t)repeats * sizeof(double));
    if (!samples) return nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    for (size_t i = first; !st && i < last; i++) st = bench_gemm(be, bn, i);
    if (!st) st = nncl_backend_synchronize(be);
    for (int r = 0; !st && r < repeats; r++) {
        const double t0 = nncl_now_ms();
        for (size_t i = first; !st && i < last; i++) st = bench_gemm(be, bn, i);
        if (!st) st = nncl_backend_synchronize(be);
        samples[r] = nncl_now_ms() - t0;
    }
    if (!st) *pass_ms = fastest(samples, (size_t)repeats);
    for (size_t i = first; each_ms && !st && i < last; i++) {
        for (int r = 0; !st && r < repeats; r++) {
            const double t0 = nncl_now_ms();
            st = bench_gemm(be, bn, i);
            if (!st) st = nncl_backend_synchronize(be);
            samples[r] = nncl_now_ms() - t0;
        }
        if (!st) each_ms[i - first] = fastest(samples, (size_t)repeats);
    }
    free(samples);
    return st;
}
