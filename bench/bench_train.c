/*
 * bench_train.c: training speed of preset nets on each backend, through the real trainer (nncl_train).
 *
 *   bench_train [--backend cpu|opencl|all] [--net fashion|large|seed|all] [--steps N] [--epochs E]
 *               [--batch B] [--tuning both] [--json FILE]
 *
 * Presets: "fashion" 784-256-128-10 (ReLU, softmax + cross-entropy) at batch 128; "large"
 * 1024-4096-4096-1024-10 (ReLU) at batch 256; "seed" the lecture's 2-4-1 tanh net (squared error) at
 * batch 4; `--batch B` replaces the preset's batch size for every net run. Data is synthetic (the speed
 * does not depend on the values), `--steps` batches per epoch.
 * For each net and backend: the time to create the backend and the model, the first epoch (which on
 * OpenCL includes compiling our kernels and CLBlast's, or loading them from the driver's cache) apart
 * from the steady state (the mean of the next `--epochs` epochs), steps per second, and on OpenCL the
 * device-side breakdown of a step from profiling events: CLBlast GEMM, our kernels, transfers, idle
 * gaps, and the ratio of the step to its GEMM time.
 *
 * --tuning both runs every OpenCL row twice in the same process: first with CLBlast's own parameters
 * (NNCL_CLBLAST_TUNING=off, row "opencl-untuned"), then with the device's `nncl tune` file, if any
 * ("opencl-tuned"). Untuned first, because CLBlast keeps applied parameters for the rest of the process.
 */
#define _POSIX_C_SOURCE 200112L /* clock_gettime, setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/nncl.h"
#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"

struct preset {
    const char *name, *hidden;
    size_t inputs, outputs, batch;
    enum nncl_loss loss;
    enum nncl_act out_act;
};

static const struct preset presets[] = {
    {"fashion", "256:relu,128:relu", 784, 10, 128, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY},
    {"large", "4096:relu,4096:relu,1024:relu", 1024, 10, 256, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY},
    {"seed", "4:tanh", 2, 1, 4, NNCL_LOSS_MSE, NNCL_ACT_TANH},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what) {
    fprintf(stderr, "bench_train: %s: %s\n", what, nncl_last_error());
    return 1;
}

/* FLOPs of one training step: 3 GEMMs per layer (2 for the first), 2 flops per multiply-add. */
static double step_flops(const struct nncl_model_spec *s, size_t batch) {
    double f = 0;
    for (size_t l = 0; l < s->n_layers; l++) {
        const double in = (double)(l ? s->layers[l - 1].units : s->n_inputs), out = (double)s->layers[l].units;
        f += 2.0 * (double)batch * in * out * (l ? 3.0 : 2.0);
    }
    return f;
}

struct result {
    char versions[800]; /* what produced the numbers: nncl_backend_versions() */
    double setup_ms, first_epoch_ms, step_ms, steps_per_s, gflops;
    int profiled;
    struct nncl_profile prof; /* per step */
};

static int bench(const struct preset *p, const char *backend, size_t steps, size_t epochs, struct result *r) {
    memset(r, 0, sizeof *r);
    const double t0 = now();
    struct nncl_backend *be = NULL;
    if (nncl_backend_init(backend, &be)) return fail(backend);
    struct nncl_model_spec spec = {.n_inputs = p->inputs, .loss = p->loss};
    if (nncl_parse_hidden(p->hidden, &spec)) return fail("hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){p->outputs, p->out_act, 0.0f, 0.0f};
    struct nncl_model *m = NULL;
    if (nncl_model_init(be, &spec, NNCL_INIT_HE, 1, &m)) return fail("model");
    r->setup_ms = 1e3 * (now() - t0);
    snprintf(r->versions, sizeof r->versions, "%s", nncl_backend_versions(be));

    struct nncl_dataset ds = {.n = steps * p->batch, .n_inputs = p->inputs, .n_outputs = p->outputs};
    ds.x = malloc(ds.n * ds.n_inputs * sizeof(float));
    ds.y = calloc(ds.n * ds.n_outputs, sizeof(float));
    if (!ds.x || !ds.y) return fail("out of memory");
    snprintf(ds.source, sizeof ds.source, "synthetic");
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < ds.n * ds.n_inputs; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        ds.x[i] = (float)((double)(s >> 11) / 9007199254740992.0);
    }
    for (size_t i = 0; i < ds.n; i++) ds.y[i * ds.n_outputs + i % ds.n_outputs] = 1.0f;
    ds.task = p->loss == NNCL_LOSS_XENT ? NNCL_TASK_CLASSIFICATION : NNCL_TASK_REGRESSION;

    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = p->batch, o.epochs = 1;
    double t1 = now();
    if (nncl_train(m, &ds, &o, NULL)) return fail("first epoch");
    r->first_epoch_ms = 1e3 * (now() - t1);
    o.epochs = epochs;
    t1 = now();
    if (nncl_train(m, &ds, &o, NULL)) return fail("steady epochs");
    r->step_ms = 1e3 * (now() - t1) / (double)(epochs * steps);
    r->steps_per_s = 1e3 / r->step_ms;
    r->gflops = step_flops(&spec, p->batch) / (r->step_ms * 1e6);
    /* one more epoch with profiling events on: the device-side breakdown (it perturbs timing slightly) */
    if (nncl_backend_profile_start(be) == NNCL_OK) {
        o.epochs = 1;
        if (nncl_train(m, &ds, &o, NULL) || nncl_backend_profile_stop(be, &r->prof)) return fail("profiled epoch");
        r->profiled = 1;
        r->prof.gemm_ms /= (double)steps, r->prof.kernel_ms /= (double)steps, r->prof.transfer_ms /= (double)steps;
        r->prof.idle_ms /= (double)steps, r->prof.span_ms /= (double)steps;
    }
    nncl_clear_error();
    free(ds.x), free(ds.y);
    nncl_model_free(m);
    nncl_backend_free(be);
    return 0;
}

int main(int argc, char **argv) {
    const char *backend = "all", *net = "all", *json = NULL;
    size_t steps = 20, epochs = 3, batch = 0;
    int tuning_both = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!strcmp(argv[i], "--net") && i + 1 < argc) net = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = strtoul(argv[++i], NULL, 10);
            if (!batch) {
                fprintf(stderr, "bench_train: --batch must be at least 1\n");
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else if (!strcmp(argv[i], "--tuning") && i + 1 < argc && !strcmp(argv[i + 1], "both")) tuning_both = 1, i++;
        else {
            printf("usage: bench_train [--backend cpu|opencl|all] [--net fashion|large|seed|all] [--steps N] "
                   "[--epochs E] [--batch B] [--tuning both] [--json FILE]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (steps < 1 || epochs < 1) {
        fprintf(stderr, "bench_train: --steps and --epochs must be at least 1\n");
        return 2;
    }
    /* the backend to open, the name printed, and the NNCL_CLBLAST_TUNING setting while it runs */
    struct run {
        const char *backend, *label, *tuning;
    };
    const struct run plain[] = {{"cpu", "cpu", NULL}, {"opencl", "opencl", NULL}};
    const struct run both[] = {{"cpu", "cpu", NULL}, {"opencl", "opencl-untuned", "off"}, {"opencl", "opencl-tuned", NULL}};
    const struct run *runs = tuning_both ? both : plain;
    const size_t n_runs = tuning_both ? 3 : 2;
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_train: cannot write %s\n", json);
        return 1;
    }
    if (jf) fprintf(jf, "[\n");
    printf("%-8s %-14s %6s %10s %12s %10s %9s %9s | %9s %9s %9s %9s %10s\n", "net", "backend", "batch", "setup_ms",
           "1st_epoch_ms", "step_ms", "steps/s", "GFLOP/s", "gemm_ms", "ours_ms", "xfer_ms", "idle_ms", "step/gemm");
    int rc = 0, first = 1;
    /* backends outside, nets inside: every untuned OpenCL row must run before the first tuned one */
    for (size_t b = 0; b < n_runs; b++) {
        if (strcmp(backend, "all") && strcmp(backend, runs[b].backend)) continue;
        for (size_t n = 0; n < sizeof presets / sizeof presets[0]; n++) {
            if (strcmp(net, "all") && strcmp(net, presets[n].name)) continue;
            struct preset p = presets[n];
            if (batch) p.batch = batch;
            struct result r;
            if (runs[b].tuning) setenv("NNCL_CLBLAST_TUNING", runs[b].tuning, 1);
            const int failed = bench(&p, runs[b].backend, steps, epochs, &r);
            if (runs[b].tuning) unsetenv("NNCL_CLBLAST_TUNING");
            if (failed) {
                rc = 1;
                continue;
            }
            printf("%-8s %-14s %6zu %10.1f %12.1f %10.3f %9.1f %9.1f", presets[n].name, runs[b].label, p.batch,
                   r.setup_ms, r.first_epoch_ms, r.step_ms, r.steps_per_s, r.gflops);
            if (r.profiled) {
                printf(" | %9.3f %9.3f %9.3f %9.3f %10.2f\n", r.prof.gemm_ms, r.prof.kernel_ms, r.prof.transfer_ms,
                       r.prof.idle_ms, r.prof.gemm_ms > 0 ? r.step_ms / r.prof.gemm_ms : NAN);
            } else {
                printf(" | %9s %9s %9s %9s %10s\n", "-", "-", "-", "-", "-");
            }
            if (jf) {
                fprintf(jf, "%s  {\"net\": \"%s\", \"backend\": \"%s\", \"batch\": %zu, \"steps_per_epoch\": %zu, "
                        "\"setup_ms\": %.3f, \"first_epoch_ms\": %.3f, \"step_ms\": %.4f, \"steps_per_s\": %.3f, "
                        "\"gflops\": %.3f, \"versions\": \"", first ? "" : ",\n", presets[n].name, runs[b].label,
                        p.batch, steps, r.setup_ms, r.first_epoch_ms, r.step_ms, r.steps_per_s, r.gflops);
                for (const char *c = r.versions; *c; c++) fprintf(jf, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
                fprintf(jf, "\"");
                if (r.profiled) {
                    fprintf(jf, ", \"gemm_ms\": %.4f, \"kernels_ms\": %.4f, \"transfers_ms\": %.4f, \"idle_ms\": %.4f",
                            r.prof.gemm_ms, r.prof.kernel_ms, r.prof.transfer_ms, r.prof.idle_ms);
                }
                fprintf(jf, "}");
                first = 0;
            }
        }
    }
    if (jf) {
        fprintf(jf, "\n]\n");
        fclose(jf);
    }
    return rc;
}
