/*
 * bench_cpu_gemm.c: the CPU reference's gemm (NNCL_OP_GEMM on the "cpu" backend, through the public
 * API) against OpenBLAS's cblas_sgemm, on the same shapes, in the same run, with the same thread count.
 *
 *   bench_cpu_gemm [--threads T] [--repeat R] [--json FILE] [SHAPE ...]
 *
 * SHAPE is MxNxK with an optional :ab suffix giving op(A) and op(B), each n (as stored) or t
 * (transposed), e.g. 256x4096x1024:nt; without shapes the default list below runs: square 1024, the
 * three products of the large net (1024-4096-4096-1024-10) at batch 256 and those of the Fashion-MNIST
 * net (784-256-128-10) at batch 128. Each shape runs twice to warm up, then R times (default: as many
 * as fit in about half a second, at least 3) on each library; the median time is reported. The two
 * results are also compared (max |nncl - OpenBLAS| / (1 + |OpenBLAS|)), so a fast wrong answer shows.
 *
 * T defaults to OpenMP's default (OMP_NUM_THREADS, else the core count); both libraries get T.
 * OpenBLAS is linked into this program only. OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE in the environment
 * make OpenBLAS pick an older, slower kernel on some machines; the program warns when either is set.
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nncl/nncl.h"

struct shape {
    const char *name;
    size_t m, n, k;
    int trans_a, trans_b;
};

static const struct shape default_shapes[] = {
    {"square 1024", 1024, 1024, 1024, 0, 0},
    /* the large net at batch 256: forward of 1024->4096, weight gradient of 4096->4096, input
     * gradient of 1024->4096 */
    {"large fwd X W^T", 256, 4096, 1024, 0, 1},
    {"large dW dS^T X", 4096, 4096, 256, 1, 0},
    {"large dX dS W", 256, 1024, 4096, 0, 0},
    /* the Fashion-MNIST net at batch 128: forward, weight gradient, input gradient of each layer */
    {"fmnist fwd 1", 128, 256, 784, 0, 1},
    {"fmnist fwd 2", 128, 128, 256, 0, 1},
    {"fmnist fwd 3", 128, 10, 128, 0, 1},
    {"fmnist dW 1", 256, 784, 128, 1, 0},
    {"fmnist dW 2", 128, 256, 128, 1, 0},
    {"fmnist dW 3", 10, 128, 128, 1, 0},
    {"fmnist dX 2", 128, 256, 128, 0, 0},
    {"fmnist dX 3", 128, 128, 10, 0, 0},
};

struct result {
    struct shape s;
    double nncl_ms, blas_ms, max_diff;
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Lets the other library's worker threads stop spinning before the clock starts on this one. */
static void pause_briefly(void) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *x, const void *y) {
    const double u = *(const double *)x, v = *(const double *)y;
    return (u > v) - (u < v);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void fill(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)((double)(seed >> 40) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

static int fail(const char *what, enum nncl_status st) {
    fprintf(stderr, "bench_cpu_gemm: %s: %s: %s\n", what, nncl_status_string(st), nncl_last_error());
    return 1;
}

/* How many timed runs: `repeat` when given, else enough for about 0.5 s (3 at least, 200 at most). */
static int runs_for(int repeat, double warm_seconds) {
    if (repeat > 0) return repeat;
    int r = warm_seconds > 0 ? (int)(0.5 / warm_seconds) : 200;
    return r < 3 ? 3 : r > 200 ? 200 : r;
}

static int bench_shape(struct nncl_backend *be, const struct shape *s, int repeat, struct result *out) {
    const size_t m = s->m, n = s->n, k = s->k;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c_nncl = malloc(sizeof(float) * m * n), *c_blas = malloc(sizeof(float) * m * n);
    double *t = malloc(sizeof(double) * 200);
    struct nncl_buffer *buf = NULL;
    int rc = 1;
    if (!a || !b || !c_nncl || !c_blas || !t) {
        fprintf(stderr, "bench_cpu_gemm: out of memory for %zux%zux%zu\n", m, n, k);
        goto done;
    }
    fill(a, m * k, 1);
    fill(b, k * n, 2);

    /* nncl: a, b, c in one buffer of the CPU backend */
    enum nncl_status st = nncl_buffer_alloc(be, (m * k + k * n + m * n) * sizeof(float), &buf);
    if (st) {
        rc = fail("buffer_alloc", st);
        goto done;
    }
    struct nncl_tensor ta = s->trans_a ? nncl_tensor_view(buf, 0, k, m) : nncl_tensor_view(buf, 0, m, k);
    struct nncl_tensor tb = s->trans_b ? nncl_tensor_view(buf, m * k, n, k) : nncl_tensor_view(buf, m * k, k, n);
    struct nncl_tensor tc = nncl_tensor_view(buf, m * k + k * n, m, n);
    if ((st = nncl_tensor_set(&ta, a, m * k)) || (st = nncl_tensor_set(&tb, b, k * n))) {
        rc = fail("tensor_set", st);
        goto done;
    }
    double t0 = now_seconds();
    for (int w = 0; w < 2; w++) {
        if ((st = nncl_op_gemm(be, s->trans_a, s->trans_b, 1.0f, &ta, &tb, 0.0f, &tc))) {
            rc = fail("gemm", st);
            goto done;
        }
    }
    int runs = runs_for(repeat, (now_seconds() - t0) / 2);
    for (int r = 0; r < runs; r++) {
        t0 = now_seconds();
        st = nncl_op_gemm(be, s->trans_a, s->trans_b, 1.0f, &ta, &tb, 0.0f, &tc);
        t[r] = now_seconds() - t0;
        if (st) {
            rc = fail("gemm", st);
            goto done;
        }
    }
    out->nncl_ms = 1e3 * median(t, runs);
    if ((st = nncl_tensor_get(&tc, c_nncl, m * n))) {
        rc = fail("tensor_get", st);
        goto done;
    }
    pause_briefly();

    /* OpenBLAS on host arrays laid out the same way */
    const enum CBLAS_TRANSPOSE op_a = s->trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE op_b = s->trans_b ? CblasTrans : CblasNoTrans;
    const int lda = (int)(s->trans_a ? m : k), ldb = (int)(s->trans_b ? k : n);
    t0 = now_seconds();
    for (int w = 0; w < 2; w++) {
        cblas_sgemm(CblasRowMajor, op_a, op_b, (int)m, (int)n, (int)k, 1.0f, a, lda, b, ldb, 0.0f, c_blas, (int)n);
    }
    runs = runs_for(repeat, (now_seconds() - t0) / 2);
    for (int r = 0; r < runs; r++) {
        t0 = now_seconds();
        cblas_sgemm(CblasRowMajor, op_a, op_b, (int)m, (int)n, (int)k, 1.0f, a, lda, b, ldb, 0.0f, c_blas, (int)n);
        t[r] = now_seconds() - t0;
    }
    out->blas_ms = 1e3 * median(t, runs);
    pause_briefly();

    out->max_diff = 0.0;
    for (size_t i = 0; i < m * n; i++) {
        const double d = fabs((double)c_nncl[i] - c_blas[i]) / (1.0 + fabs((double)c_blas[i]));
        if (!(d <= out->max_diff)) out->max_diff = d; /* NaN sticks */
    }
    out->s = *s;
    rc = 0;
done:
    nncl_buffer_free(buf);
    free(a);
    free(b);
    free(c_nncl);
    free(c_blas);
    free(t);
    return rc;
}

static double gflops(const struct shape *s, double ms) { return 2.0 * (double)s->m * (double)s->n * (double)s->k / ms * 1e-6; }

static int write_json(const char *path, int threads, const struct result *res, size_t count) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "{\n  \"threads\": %d,\n  \"openblas_core\": \"%s\",\n  \"results\": [\n", threads, openblas_get_corename());
    for (size_t i = 0; i < count; i++) {
        const struct result *r = &res[i];
        fprintf(f,
                "    {\"name\": \"%s\", \"m\": %zu, \"n\": %zu, \"k\": %zu, \"trans_a\": %d, \"trans_b\": %d, "
                "\"nncl_ms\": %.4f, \"nncl_gflops\": %.2f, \"openblas_ms\": %.4f, \"openblas_gflops\": %.2f, "
                "\"ratio\": %.3f, \"max_rel_diff\": %.3g}%s\n",
                r->s.name, r->s.m, r->s.n, r->s.k, r->s.trans_a, r->s.trans_b, r->nncl_ms, gflops(&r->s, r->nncl_ms),
                r->blas_ms, gflops(&r->s, r->blas_ms), r->blas_ms / r->nncl_ms, r->max_diff,
                i + 1 < count ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* "MxNxK" or "MxNxK:ab" with a, b in {n, t}. */
static int parse_shape(const char *arg, struct shape *s) {
    char ops[3] = "nn";
    int used = 0;
    if (sscanf(arg, "%zux%zux%zu%n", &s->m, &s->n, &s->k, &used) != 3 || s->m == 0 || s->n == 0 || s->k == 0) return 1;
    if (arg[used] == ':') {
        if (strlen(arg + used + 1) != 2) return 1;
        memcpy(ops, arg + used + 1, 2);
    } else if (arg[used] != '\0') {
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        if (ops[i] != 'n' && ops[i] != 't') return 1;
    }
    s->name = arg;
    s->trans_a = ops[0] == 't';
    s->trans_b = ops[1] == 't';
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: bench_cpu_gemm [--threads T] [--repeat R] [--json FILE] [MxNxK[:ab] ...]\n"
               "  a, b: n or t, op(A) and op(B) (default nn)\n");
}

int main(int argc, char **argv) {
    int threads = 0, repeat = 0;
    const char *json = NULL;
    const size_t n_defaults = sizeof default_shapes / sizeof default_shapes[0];
    struct shape *shapes = malloc(sizeof *shapes * ((size_t)argc + n_defaults));
    size_t count = 0;
    if (!shapes) return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            free(shapes);
            return 0;
        } else if (parse_shape(argv[i], &shapes[count]) == 0) {
            count++;
        } else {
            fprintf(stderr, "bench_cpu_gemm: bad argument \"%s\"\n", argv[i]);
            usage(stderr);
            free(shapes);
            return 2;
        }
    }
    if (count == 0) {
        count = n_defaults;
        memcpy(shapes, default_shapes, sizeof default_shapes);
    }
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
    omp_set_num_threads(threads);
#else
    if (threads > 1) fprintf(stderr, "bench_cpu_gemm: built without OpenMP: nncl runs on 1 thread\n");
    threads = 1;
#endif
    openblas_set_num_threads(threads);
    if (repeat < 0 || threads < 1) {
        usage(stderr);
        free(shapes);
        return 2;
    }
    const char *vars[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v) {
            printf("# warning: %s=%s is set: OpenBLAS may pick an older, slower kernel (unset it for a fair "
                   "comparison)\n",
                   vars[i], v);
        }
    }

    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init("cpu", &be);
    if (st) {
        free(shapes);
        return fail("cpu backend", st);
    }
    printf("# nncl cpu (%s) vs OpenBLAS %s, %d thread%s, median of timed runs\n", nncl_backend_device(be),
           openblas_get_corename(), threads, threads == 1 ? "" : "s");
    printf("%-18s %5s %5s %5s %2s %10s %10s %10s %10s %6s %9s\n", "shape", "M", "N", "K", "op", "nncl_ms",
           "nncl_GF/s", "blas_ms", "blas_GF/s", "ratio", "max_diff");
    struct result *res = calloc(count, sizeof *res);
    int rc = res ? 0 : 1;
    for (size_t i = 0; i < count && !rc; i++) {
        rc = bench_shape(be, &shapes[i], repeat, &res[i]);
        if (rc) break;
        const struct result *r = &res[i];
        printf("%-18s %5zu %5zu %5zu %c%c %10.3f %10.1f %10.3f %10.1f %6.2f %9.1e\n", r->s.name, r->s.m, r->s.n,
               r->s.k, r->s.trans_a ? 't' : 'n', r->s.trans_b ? 't' : 'n', r->nncl_ms, gflops(&r->s, r->nncl_ms),
               r->blas_ms, gflops(&r->s, r->blas_ms), r->blas_ms / r->nncl_ms, r->max_diff);
        fflush(stdout);
    }
    if (!rc && json) rc = write_json(json, threads, res, count);
    free(res);
    free(shapes);
    nncl_backend_free(be);
    return rc;
}
