/*
 * bench_gemm.c: GFLOP/s of NNCL_OP_GEMM on each backend for square and MLP-shaped products.
 *
 *   bench_gemm [--backend cpu|opencl] [--repeat R] [M N K ...]
 *
 * Each shape runs once to warm up (on OpenCL that compiles CLBlast's kernel; the time is reported
 * apart), then R times; the clock stops after nncl_backend_synchronize().
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

static int bench_shape(struct nncl_backend *be, size_t m, size_t n, size_t k, int repeat) {
    struct nncl_buffer *buf = NULL;
    enum nncl_status st = nncl_buffer_alloc(be, (m * k + k * n + m * n) * sizeof(float), &buf);
    if (st) return fail("buffer_alloc", st);
    struct nncl_tensor a = nncl_tensor_view(buf, 0, m, k), b = nncl_tensor_view(buf, m * k, k, n);
    struct nncl_tensor c = nncl_tensor_view(buf, m * k + k * n, m, n);
    if ((st = nncl_op_fill(be, 0.5f, &a)) || (st = nncl_op_fill(be, 0.25f, &b))) return fail("fill", st);
    double t0 = now_seconds();
    if ((st = nncl_op_gemm(be, 0, 0, 1.0f, &a, &b, 0.0f, &c)) || (st = nncl_backend_synchronize(be))) {
        return fail("gemm", st);
    }
    const double first = now_seconds() - t0;
    t0 = now_seconds();
    for (int r = 0; r < repeat; r++) {
        if ((st = nncl_op_gemm(be, 0, 0, 1.0f, &a, &b, 0.0f, &c))) return fail("gemm", st);
    }
    if ((st = nncl_backend_synchronize(be))) return fail("synchronize", st);
    const double each = (now_seconds() - t0) / repeat;
    printf("%-8s %6zu %6zu %6zu %12.3f %10.3f %10.1f\n", nncl_backend_name(be), m, n, k, first * 1e3, each * 1e3,
           2.0 * (double)m * (double)n * (double)k / each * 1e-9);
    nncl_buffer_free(buf);
    return 0;
}

int main(int argc, char **argv) {
    const char *backend = "cpu";
    int repeat = 10, first_shape = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            backend = argv[++i];
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: bench_gemm [--backend cpu|opencl] [--repeat R] [M N K ...]\n");
            return 0;
        } else {
            first_shape = i;
            break;
        }
    }
    if (repeat < 1 || (argc - first_shape) % 3 != 0) {
        fprintf(stderr, "bench_gemm: give shapes as M N K triples and --repeat >= 1 (see --help)\n");
        return 2;
    }
    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init(backend, &be);
    if (st) return fail(backend, st);
    printf("# %s\n%-8s %6s %6s %6s %12s %10s %10s\n", nncl_backend_device(be), "backend", "M", "N", "K", "first_ms",
           "ms", "GFLOP/s");
    static const size_t defaults[] = {128, 256, 784, 128, 128, 256, 128, 10, 128, 256, 256, 256, 1024, 1024, 1024};
    int rc = 0;
    if (first_shape < argc) {
        for (int i = first_shape; i + 2 < argc && !rc; i += 3) {
            rc = bench_shape(be, strtoul(argv[i], NULL, 10), strtoul(argv[i + 1], NULL, 10),
                             strtoul(argv[i + 2], NULL, 10), repeat);
        }
    } else {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] && !rc; i += 3) {
            rc = bench_shape(be, defaults[i], defaults[i + 1], defaults[i + 2], repeat);
        }
    }
    nncl_backend_free(be);
    return rc;
}
