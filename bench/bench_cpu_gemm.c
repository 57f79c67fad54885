/*
 * bench_cpu_gemm.c: the CPU reference's gemm (NNCL_OP_GEMM on the "cpu" backend, through the public
 * API) against OpenBLAS's cblas_sgemm, on the same shapes, in the same run, with the same thread count.
 *
 *   bench_cpu_gemm [--threads T] [--rounds N] [--repeat R] [--json FILE] [--peak] [SHAPE ...]
 *
 * SHAPE is MxNxK with an optional :ab suffix giving op(A) and op(B), each n (as stored) or t
 * (transposed), e.g. 256x4096x1024:nt. Without shapes the default list below runs: square 1024, the
 * large net's (1024-4096-4096-1024-10) three biggest products at batch 256 and the Fashion-MNIST net's
 * (784-256-128-10) eight at batch 128.
 *
 * Timing: per shape and library, two warm-up runs, then R timed runs (default: as many as fit in about
 * 0.3 s, 3 to 200) whose median counts. The libraries alternate N times (default 3) and each keeps its
 * best median, so a burst of other load on the machine hurts neither side alone; a 0.2 s pause after
 * each library lets its idle worker threads stop spinning before the other one starts. The two
 * results are compared too (max |nncl - OpenBLAS| / (1 + |OpenBLAS|)), so a fast wrong answer shows.
 *
 * The table's last column is nncl's GFLOP/s as a share of the FMA ceiling measured first (fma_peak.h: T
 * threads of independent fused multiply-adds on the gemm's vectors, no memory traffic), which no product
 * can pass. The ceiling is measured again after the table and printed below it: on a shared machine the
 * other core can be taken for a while, which shows as a ceiling well under the other one. --peak
 * measures and prints the ceiling alone.
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

#include "fma_peak.h"
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

/* How many timed runs: `repeat` when given, else enough for about 0.3 s (3 at least, MAX_RUNS at most). */
enum { MAX_RUNS = 200 };
static int runs_for(int repeat, double warm_seconds) {
    if (repeat > 0) return repeat < MAX_RUNS ? repeat : MAX_RUNS;
    int r = warm_seconds > 0 ? (int)(0.3 / warm_seconds) : MAX_RUNS;
    return r < 3 ? 3 : r > MAX_RUNS ? MAX_RUNS : r;
}

struct problem {
    const struct shape *s;
    struct nncl_backend *be;
    struct nncl_tensor ta, tb, tc; /* nncl's operands, in a buffer of the CPU backend */
    const float *a, *b;            /* OpenBLAS's, on the host, laid out the same way */
    float *c;
};

/* One run of either library; nncl's status is returned (OpenBLAS has none). */
static enum nncl_status run_once(const struct problem *pr, int blas) {
    const struct shape *s = pr->s;
    if (!blas) return nncl_op_gemm(pr->be, s->trans_a, s->trans_b, 1.0f, &pr->ta, &pr->tb, 0.0f, &pr->tc);
    cblas_sgemm(CblasRowMajor, s->trans_a ? CblasTrans : CblasNoTrans, s->trans_b ? CblasTrans : CblasNoTrans,
                (int)s->m, (int)s->n, (int)s->k, 1.0f, pr->a, (int)(s->trans_a ? s->m : s->k), pr->b,
                (int)(s->trans_b ? s->k : s->n), 0.0f, pr->c, (int)s->n);
    return NNCL_OK;
}

/*
 * Two warm-up runs, then *ms = the median of the timed runs in milliseconds. A timed run of a product
 * under SAMPLE_S is that many calls back to back, timed together: a 3 us product timed alone moved by 20%
 * from the clock reads and the loop around it.
 */
#define SAMPLE_S 50e-6
static enum nncl_status time_ms(const struct problem *pr, int blas, int repeat, double *ms) {
    double t[MAX_RUNS];
    enum nncl_status st;
    double t0 = now_seconds();
    for (int w = 0; w < 2; w++) {
        if ((st = run_once(pr, blas))) return st;
    }
    const double warm = (now_seconds() - t0) / 2;
    const int calls = warm > 0 && warm < SAMPLE_S ? (int)ceil(SAMPLE_S / warm) : 1;
    const int runs = runs_for(repeat, warm * calls);
    for (int r = 0; r < runs; r++) {
        t0 = now_seconds();
        for (int i = 0; i < calls; i++) {
            if ((st = run_once(pr, blas))) return st;
        }
        t[r] = (now_seconds() - t0) / calls;
    }
    pause_briefly();
    *ms = 1e3 * median(t, runs);
    return NNCL_OK;
}

/* Times both libraries `rounds` times, alternating, and keeps each one's best median. */
static int bench_shape(struct nncl_backend *be, const struct shape *s, int repeat, int rounds, struct result *out) {
    const size_t m = s->m, n = s->n, k = s->k;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c_nncl = malloc(sizeof(float) * m * n), *c_blas = malloc(sizeof(float) * m * n);
    struct nncl_buffer *buf = NULL;
    int rc = 1;
    if (!a || !b || !c_nncl || !c_blas) {
        fprintf(stderr, "bench_cpu_gemm: out of memory for %zux%zux%zu\n", m, n, k);
        goto done;
    }
    fill(a, m * k, 1);
    fill(b, k * n, 2);
    enum nncl_status st = nncl_buffer_alloc(be, (m * k + k * n + m * n) * sizeof(float), &buf);
    if (st) {
        rc = fail("buffer_alloc", st);
        goto done;
    }
    struct problem pr = {
        .s = s,
        .be = be,
        .ta = s->trans_a ? nncl_tensor_view(buf, 0, k, m) : nncl_tensor_view(buf, 0, m, k),
        .tb = s->trans_b ? nncl_tensor_view(buf, m * k, n, k) : nncl_tensor_view(buf, m * k, k, n),
        .tc = nncl_tensor_view(buf, m * k + k * n, m, n),
        .a = a,
        .b = b,
        .c = c_blas,
    };
    if ((st = nncl_tensor_set(&pr.ta, a, m * k)) || (st = nncl_tensor_set(&pr.tb, b, k * n))) {
        rc = fail("tensor_set", st);
        goto done;
    }
    out->nncl_ms = out->blas_ms = HUGE_VAL;
    for (int r = 0; r < rounds; r++) {
        double t_nncl = 0.0, t_blas = 0.0;
        if ((st = time_ms(&pr, 0, repeat, &t_nncl)) || (st = time_ms(&pr, 1, repeat, &t_blas))) {
            rc = fail("gemm", st);
            goto done;
        }
        out->nncl_ms = fmin(out->nncl_ms, t_nncl);
        out->blas_ms = fmin(out->blas_ms, t_blas);
    }
    if ((st = nncl_tensor_get(&pr.tc, c_nncl, m * n))) {
        rc = fail("tensor_get", st);
        goto done;
    }
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
    return rc;
}

static double gflops(const struct shape *s, double ms) {
    return 2.0 * (double)s->m * (double)s->n * (double)s->k / ms * 1e-6;
}

static int write_json(const char *path, int threads, double peak, double peak_after, const struct result *res,
                      size_t count) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f,
            "{\n  \"threads\": %d,\n  \"openblas_core\": \"%s\",\n  \"fma_peak_gflops\": %.1f,\n"
            "  \"fma_peak_gflops_after\": %.1f,\n  \"results\": [\n",
            threads, openblas_get_corename(), peak, peak_after);
    for (size_t i = 0; i < count; i++) {
        const struct result *r = &res[i];
        fprintf(f,
                "    {\"name\": \"%s\", \"m\": %zu, \"n\": %zu, \"k\": %zu, \"trans_a\": %d, \"trans_b\": %d, "
                "\"nncl_ms\": %.4f, \"nncl_gflops\": %.2f, \"openblas_ms\": %.4f, \"openblas_gflops\": %.2f, "
                "\"ratio\": %.3f, \"max_rel_diff\": %.3g}%s\n",
                r->s.name, r->s.m, r->s.n, r->s.k, r->s.trans_a, r->s.trans_b, r->nncl_ms, gflops(&r->s, r->nncl_ms),
                r->blas_ms, gflops(&r->s, r->blas_ms), r->blas_ms / r->nncl_ms, r->max_diff, i + 1 < count ? "," : "");
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
    fprintf(f, "usage: bench_cpu_gemm [--threads T] [--rounds N] [--repeat R] [--json FILE] [--peak] [MxNxK[:ab] ...]\n"
               "  a, b: n or t, op(A) and op(B) (default nn)\n"
               "  --peak: print the FMA ceiling of T threads only\n");
}

int main(int argc, char **argv) {
    int threads = 0, repeat = 0, rounds = 3, peak_only = 0;
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
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--peak") == 0) {
            peak_only = 1;
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
    if (repeat < 0 || rounds < 1 || threads < 1) {
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
    int peak_vl = 0;
    const double peak = fma_peak_gflops(threads, &peak_vl);
    if (peak_only) {
        printf("fma_peak_gflops %.1f threads %d vector_floats %d\n", peak, threads, peak_vl);
        free(shapes);
        return 0;
    }

    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init("cpu", &be);
    if (st) {
        free(shapes);
        return fail("cpu backend", st);
    }
    printf("# nncl cpu (%s) vs OpenBLAS %s, %d thread%s, best of %d rounds of each library's median time\n",
           nncl_backend_device(be), openblas_get_corename(), threads, threads == 1 ? "" : "s", rounds);
    printf("# FMA ceiling (fma_peak.h): %.1f GFLOP/s on %d thread%s, %d-float vectors\n", peak, threads,
           threads == 1 ? "" : "s", peak_vl);
    printf("%-18s %5s %5s %5s %2s %10s %10s %10s %10s %6s %9s %6s\n", "shape", "M", "N", "K", "op", "nncl_ms",
           "nncl_GF/s", "blas_ms", "blas_GF/s", "ratio", "max_diff", "%peak");
    struct result *res = calloc(count, sizeof *res);
    int rc = res ? 0 : 1;
    for (size_t i = 0; i < count && !rc; i++) {
        rc = bench_shape(be, &shapes[i], repeat, rounds, &res[i]);
        if (rc) break;
        const struct result *r = &res[i];
        printf("%-18s %5zu %5zu %5zu %c%c %10.3f %10.1f %10.3f %10.1f %6.2f %9.1e %6.1f\n", r->s.name, r->s.m, r->s.n,
               r->s.k, r->s.trans_a ? 't' : 'n', r->s.trans_b ? 't' : 'n', r->nncl_ms, gflops(&r->s, r->nncl_ms),
               r->blas_ms, gflops(&r->s, r->blas_ms), r->blas_ms / r->nncl_ms, r->max_diff,
               100.0 * gflops(&r->s, r->nncl_ms) / peak);
        fflush(stdout);
    }
    if (!rc) {
        const double peak_after = fma_peak_gflops(threads, NULL);
        printf("# FMA ceiling measured again after the table: %.1f GFLOP/s\n", peak_after);
        if (json) rc = write_json(json, threads, peak, peak_after, res, count);
    }
    free(res);
    free(shapes);
    nncl_backend_free(be);
    return rc;
}
