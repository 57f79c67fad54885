/*
 * bench_gemm.c: GFLOP/s of NNCL_OP_GEMM on each backend for square and MLP-shaped products.
 *
 *   bench_gemm [--backend cpu|opencl] [--repeat R] [--json FILE] [M N K ... | MxNxK[:ab] ...]
 *
 * A shape is three numbers M N K (C = A B), or one word MxNxK with an optional :ab suffix giving op(A)
 * and op(B), each n (as stored) or t (transposed), as bench_cpu_gemm takes them: the large net's forward
 * product is 256x4096x1024:nt (X W^T). Each shape runs once to warm up (on OpenCL that compiles CLBlast's
 * kernel; the time is reported apart), then R times; the clock stops after nncl_backend_synchronize().
 * --json FILE writes the same rows as JSON (bench/device/run.sh reads them).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/nncl.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, enum nncl_status st) {
    fprintf(stderr, "bench_gemm: %s: %s: %s\n", what, nncl_status_string(st), nncl_last_error());
    return 1;
}

struct shape {
    size_t m, n, k;
    int ta, tb; /* op(A), op(B): 1 = transposed */
};

/* "MxNxK" or "MxNxK:ab" with a, b in {n, t}; 0 on success. */
static int parse_shape(const char *arg, struct shape *s) {
    int used = 0;
    memset(s, 0, sizeof *s);
    if (sscanf(arg, "%zux%zux%zu%n", &s->m, &s->n, &s->k, &used) != 3 || !s->m || !s->n || !s->k) return 1;
    const char *op = arg + used;
    if (op[0] == '\0') return 0;
    const int a_ok = op[1] == 'n' || op[1] == 't', b_ok = a_ok && (op[2] == 'n' || op[2] == 't');
    if (op[0] != ':' || !b_ok || op[3] != '\0') return 1;
    s->ta = op[1] == 't', s->tb = op[2] == 't';
    return 0;
}

static int bench_shape(struct nncl_backend *be, const struct shape *s, int repeat, FILE *jf, int *first_row) {
    const size_t m = s->m, n = s->n, k = s->k;
    struct nncl_buffer *buf = NULL;
    enum nncl_status st = nncl_buffer_alloc(be, (m * k + k * n + m * n) * sizeof(float), &buf);
    if (st) return fail("buffer_alloc", st);
    /* A is stored (m, k), or (k, m) when op(A) transposes it; B likewise (k, n) or (n, k) */
    struct nncl_tensor a = s->ta ? nncl_tensor_view(buf, 0, k, m) : nncl_tensor_view(buf, 0, m, k);
    struct nncl_tensor b = s->tb ? nncl_tensor_view(buf, m * k, n, k) : nncl_tensor_view(buf, m * k, k, n);
    struct nncl_tensor c = nncl_tensor_view(buf, m * k + k * n, m, n);
    if ((st = nncl_op_fill(be, 0.5f, &a)) || (st = nncl_op_fill(be, 0.25f, &b))) return fail("fill", st);
    double t0 = now_seconds();
    if ((st = nncl_op_gemm(be, s->ta, s->tb, 1.0f, &a, &b, 0.0f, &c)) || (st = nncl_backend_synchronize(be))) {
        return fail("gemm", st);
    }
    const double first = now_seconds() - t0;
    t0 = now_seconds();
    for (int r = 0; r < repeat; r++) {
        if ((st = nncl_op_gemm(be, s->ta, s->tb, 1.0f, &a, &b, 0.0f, &c))) return fail("gemm", st);
    }
    if ((st = nncl_backend_synchronize(be))) return fail("synchronize", st);
    const double each = (now_seconds() - t0) / repeat;
    const double gflops = 2.0 * (double)m * (double)n * (double)k / each * 1e-9;
    const char op[3] = {s->ta ? 't' : 'n', s->tb ? 't' : 'n', '\0'};
    printf("%-8s %6zu %6zu %6zu %3s %12.3f %10.4f %10.1f\n", nncl_backend_name(be), m, n, k, op, first * 1e3,
           each * 1e3, gflops);
    if (jf) {
        fprintf(jf, "%s  {\"m\": %zu, \"n\": %zu, \"k\": %zu, \"op\": \"%s\", \"first_ms\": %.4f, \"ms\": %.5f, "
                    "\"gflops\": %.3f, \"repeat\": %d}",
                *first_row ? "" : ",\n", m, n, k, op, first * 1e3, each * 1e3, gflops, repeat);
        *first_row = 0;
    }
    nncl_buffer_free(buf);
    return 0;
}

/* one JSON string value: quotes and backslashes escaped, control characters dropped */
static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s >= 0x20) fputc(*s, f);
    }
    fputc('"', f);
}

int main(int argc, char **argv) {
    const char *backend = "cpu", *json = NULL;
    int repeat = 10, first_shape = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            backend = argv[++i];
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: bench_gemm [--backend cpu|opencl] [--repeat R] [--json FILE] [M N K ... | MxNxK[:ab] ...]\n");
            return 0;
        } else {
            first_shape = i;
            break;
        }
    }
    /* the shapes: M N K triples, or MxNxK[:ab] words, or the defaults */
    static const struct shape defaults[] = {
        {128, 256, 784, 0, 0}, {128, 128, 256, 0, 0}, {128, 10, 128, 0, 0}, {256, 256, 256, 0, 0}, {1024, 1024, 1024, 0, 0},
    };
    const int max_shapes = argc > 1 ? argc : 1;
    struct shape *shapes = calloc((size_t)max_shapes, sizeof *shapes);
    int count = 0, bad = repeat < 1 || !shapes;
    for (int i = first_shape; i < argc && !bad; i++) {
        if (strchr(argv[i], 'x')) {
            bad = parse_shape(argv[i], &shapes[count++]);
        } else if (i + 2 < argc) {
            shapes[count++] = (struct shape){strtoul(argv[i], NULL, 10), strtoul(argv[i + 1], NULL, 10),
                                             strtoul(argv[i + 2], NULL, 10), 0, 0};
            bad = !shapes[count - 1].m || !shapes[count - 1].n || !shapes[count - 1].k;
            i += 2;
        } else {
            bad = 1;
        }
    }
    if (bad) {
        fprintf(stderr, "bench_gemm: give shapes as M N K triples or MxNxK[:ab] words, and --repeat >= 1 (see --help)\n");
        free(shapes);
        return 2;
    }
    if (!count) {
        count = (int)(sizeof defaults / sizeof defaults[0]);
        memcpy(shapes, defaults, sizeof defaults);
    }
    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init(backend, &be);
    if (st) {
        free(shapes);
        return fail(backend, st);
    }
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_gemm: cannot write %s\n", json);
        nncl_backend_free(be);
        free(shapes);
        return 1;
    }
    printf("# %s\n%-8s %6s %6s %6s %3s %12s %10s %10s\n", nncl_backend_device(be), "backend", "M", "N", "K", "op",
           "first_ms", "ms", "GFLOP/s");
    if (jf) {
        fprintf(jf, "{\"backend\": ");
        json_string(jf, nncl_backend_name(be));
        fprintf(jf, ", \"device\": ");
        json_string(jf, nncl_backend_device(be));
        fprintf(jf, ", \"versions\": ");
        json_string(jf, nncl_backend_versions(be));
        fprintf(jf, ", \"shapes\": [\n");
    }
    int rc = 0, first_row = 1;
    for (int i = 0; i < count && !rc; i++) rc = bench_shape(be, &shapes[i], repeat, jf, &first_row);
    if (jf) {
        fprintf(jf, "\n], \"complete\": %s}\n", rc ? "false" : "true");
        fclose(jf);
    }
    nncl_backend_free(be);
    free(shapes);
    return rc;
}
