/*
 * bench_ops.c: every op of the backend interface on every backend, over the op-case table the parity
 * tests use (src/check/op_cases.c) plus the GEMM shapes of the preset nets: time per call, and GB/s
 * (every tensor read or written once) or, for gemm, GFLOP/s.
 *
 *   bench_ops [--backend cpu|opencl|all] [--repeat R] [--json FILE]
 *
 * One untimed run first (on OpenCL it builds the program), then R runs; the clock stops after
 * nncl_backend_synchronize().
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "nncl/nncl.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Times one case on `be`: inputs from the case's generator, `repeat` runs after a warm-up. */
static int time_case(struct nncl_backend *be, const struct op_case *c, int repeat, double *ms, double *bytes) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    struct nncl_buffer *bufs[NNCL_OP_MAX_TENSORS] = {0};
    struct nncl_op_call call = {.op = c->op};
    memcpy(call.p, c->p, sizeof call.p);
    memcpy(call.ip, c->ip, sizeof call.ip);
    uint64_t rng = 1;
    int rc = 0;
    *bytes = 0;
    for (int i = 0; i < info->n_tensors && !rc; i++) {
        const size_t n = rows[i] * cols[i];
        float *host = malloc(n * sizeof(float));
        rc = !host || nncl_buffer_alloc(be, n * sizeof(float), &bufs[i]);
        if (!rc) {
            op_case_fill(c, i, host, rows[i], cols[i], &rng);
            call.t[i] = nncl_tensor_view(bufs[i], 0, rows[i], cols[i]);
            rc = nncl_tensor_set(&call.t[i], host, n) != NNCL_OK;
        }
        free(host);
        *bytes += (double)n * sizeof(float);
    }
    if (c->inplace) call.t[c->op == NNCL_OP_ACT_FWD ? 1 : 3] = call.t[c->op == NNCL_OP_ACT_FWD ? 0 : 2];
    if (!rc) rc = nncl_op_run(be, &call) || nncl_backend_synchronize(be);
    const double t0 = now();
    for (int r = 0; r < repeat && !rc; r++) rc = nncl_op_run(be, &call) != NNCL_OK;
    if (!rc) rc = nncl_backend_synchronize(be) != NNCL_OK;
    *ms = 1e3 * (now() - t0) / repeat;
    for (int i = 0; i < info->n_tensors; i++) nncl_buffer_free(bufs[i]);
    if (rc) fprintf(stderr, "bench_ops: %s on %s: %s\n", info->name, nncl_backend_name(be), nncl_last_error());
    return rc;
}

int main(int argc, char **argv) {
    const char *backend = "all", *json = NULL;
    int repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else {
            printf("usage: bench_ops [--backend cpu|opencl|all] [--repeat R] [--json FILE]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (repeat < 1) return fprintf(stderr, "bench_ops: --repeat must be at least 1\n"), 2;
    /* the op table, then the GEMMs of the preset nets (fashion at batch 128, large at 256) */
    struct op_case cases[256];
    size_t n = 0;
    for (size_t i = 0; i < op_case_count && n < 256; i++) cases[n++] = op_cases[i];
    struct nncl_model_spec fashion = {.n_inputs = 784, .loss = NNCL_LOSS_XENT}, large = {.n_inputs = 1024};
    nncl_parse_hidden("256:relu,128:relu,10:identity", &fashion);
    nncl_parse_hidden("4096:relu,4096:relu,1024:relu,10:identity", &large);
    n += check_net_gemm_cases(&fashion, 128, cases + n, 256 - n);
    n += check_net_gemm_cases(&large, 256, cases + n, 256 - n);
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) return fprintf(stderr, "bench_ops: cannot write %s\n", json), 1;
    if (jf) fprintf(jf, "[\n");
    const char *names[] = {"cpu", "opencl"};
    int rc = 0, first = 1;
    printf("%-8s %-80s %10s %10s %10s\n", "backend", "op case", "ms", "GB/s", "GFLOP/s");
    for (int b = 0; b < 2; b++) {
        if (strcmp(backend, "all") && strcmp(backend, names[b])) continue;
        struct nncl_backend *be = NULL;
        if (nncl_backend_init(names[b], &be)) {
            fprintf(stderr, "bench_ops: %s: %s\n", names[b], nncl_last_error());
            rc = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char what[384];
            double ms = 0, bytes = 0;
            op_case_describe(&cases[i], what, sizeof what);
            if (time_case(be, &cases[i], repeat, &ms, &bytes)) {
                rc = 1;
                continue;
            }
            const double gflops = cases[i].op == NNCL_OP_GEMM
                                      ? 2.0 * (double)cases[i].rows * (double)cases[i].cols * (double)cases[i].k / (ms * 1e6)
                                      : 0.0;
            printf("%-8s %-80.80s %10.4f %10.2f %10.2f\n", names[b], what, ms, bytes / (ms * 1e6), gflops);
            if (jf) {
                fprintf(jf, "%s  {\"backend\": \"%s\", \"case\": \"", first ? "" : ",\n", names[b]);
                for (const char *p = what; *p; p++) fprintf(jf, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
                fprintf(jf, "\", \"ms\": %.6f, \"gb_per_s\": %.4f, \"gflops\": %.4f}", ms, bytes / (ms * 1e6), gflops);
                first = 0;
            }
        }
        nncl_backend_free(be);
    }
    if (jf) fprintf(jf, "\n]\n"), fclose(jf);
    return rc;
}
