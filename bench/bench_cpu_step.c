/*
 * bench_cpu_step.c: a CPU training step against its own matrix products, in the same run.
 *
 *   bench_cpu_step [--net fashion|large|all] [--threads LIST] [--steps S] [--epochs E] [--rounds R]
 *                  [--json FILE]
 *
 * For each net and each thread count of LIST (default "1,2"), on the CPU backend:
 *   step  the steady-state training step through the real trainer (nncl_train: gather, forward, loss,
 *         error count, backward, SGD update), the fastest of E epochs of S steps after a warm-up epoch;
 *   gemm  the same step's products alone (per layer: forward X W^T, weight gradient dS^T X, and but for
 *         the first layer the input gradient dS W), the same shapes, operands laid out as the model lays
 *         them out, the same thread count; the fastest of E runs of S passes over the list;
 * and prints step / gemm, which the CPU backend is meant to keep at or below 1.3. The two measurements
 * alternate R times (default 3) and each keeps its best, so a burst of other load on a shared machine
 * decides neither alone.
 *
 * Nets: "fashion" 784-256-128-10 (ReLU, softmax + cross-entropy) at batch 128, SGD lr 0.1 (the
 * Fashion-MNIST setting of docs/benchmarks.md); "large" 1024-4096-4096-1024-10 (ReLU) at batch 256, SGD
 * lr 0.01. Data is synthetic (uniform inputs, one-hot targets): the speed does not depend on the values.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/nncl.h"
#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"

struct net {
    const char *name, *hidden;
    size_t inputs, outputs, batch, steps;
    float lr;
};

static const struct net nets[] = {
    {"fashion", "256:relu,128:relu", 784, 10, 128, 60, 0.1f},
    {"large", "4096:relu,4096:relu,1024:relu", 1024, 10, 256, 4, 0.01f},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what) {
    fprintf(stderr, "bench_cpu_step: %s: %s\n", what, nncl_last_error());
    return 1;
}

static void fill(float *x, size_t n, uint64_t s) {
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0) - 0.5f;
    }
}

/* ---- the step, through the trainer --------------------------------------------------------------- */

struct epoch_times {
    double best;
    size_t seen;
};

static int on_epoch(const struct nncl_epoch_report *r, void *user) {
    struct epoch_times *t = user;
    if (r->epoch > 1 && r->seconds < t->best) t->best = r->seconds; /* epoch 1 is the warm-up */
    t->seen++;
    return 0;
}

struct step_bench {
    struct nncl_model *m;
    struct nncl_dataset ds;
    struct nncl_train_options o;
};

static int step_init(struct nncl_backend *be, const struct net *n, size_t steps, struct step_bench *sb) {
    memset(sb, 0, sizeof *sb);
    struct nncl_model_spec spec = {.n_inputs = n->inputs, .loss = NNCL_LOSS_XENT};
    if (nncl_parse_hidden(n->hidden, &spec)) return fail("hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){n->outputs, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    if (nncl_model_init(be, &spec, NNCL_INIT_HE, 1, &sb->m)) return fail("model");
    struct nncl_dataset *ds = &sb->ds;
    ds->n = steps * n->batch, ds->n_inputs = n->inputs, ds->n_outputs = n->outputs;
    ds->x = malloc(ds->n * ds->n_inputs * sizeof(float));
    ds->y = calloc(ds->n * ds->n_outputs, sizeof(float));
    if (!ds->x || !ds->y) return fail("out of memory");
    fill(ds->x, ds->n * ds->n_inputs, 88172645463325252ull);
    for (size_t i = 0; i < ds->n * ds->n_inputs; i++) ds->x[i] += 0.5f; /* in [0, 1), like pixels */
    for (size_t i = 0; i < ds->n; i++) ds->y[i * ds->n_outputs + (i * 7) % ds->n_outputs] = 1.0f;
    snprintf(ds->source, sizeof ds->source, "synthetic");
    ds->task = NNCL_TASK_CLASSIFICATION;
    sb->o = nncl_train_defaults();
    sb->o.batch_size = n->batch, sb->o.optimizer = NNCL_OPT_SGD, sb->o.lr = n->lr;
    return 0;
}

/* ms per step: the fastest of `epochs` epochs after a warm-up one */
static int step_time(struct step_bench *sb, size_t steps, size_t epochs, double *ms) {
    struct epoch_times t = {HUGE_VAL, 0};
    sb->o.epochs = epochs + 1, sb->o.on_epoch = on_epoch, sb->o.user_data = &t;
    if (nncl_train(sb->m, &sb->ds, &sb->o, NULL)) return fail("train");
    *ms = 1e3 * t.best / (double)steps;
    return 0;
}

static void step_free(struct step_bench *sb) {
    nncl_model_free(sb->m);
    free(sb->ds.x);
    free(sb->ds.y);
}

/* ---- the step's products alone ------------------------------------------------------------------- */

enum { MAX_LAYERS = 8, MAX_GEMMS = 3 * MAX_LAYERS };

struct gemm_call {
    int trans_a, trans_b;
    struct nncl_tensor a, b, c;
};

struct gemm_bench {
    struct nncl_buffer *buf;
    struct gemm_call calls[MAX_GEMMS];
    size_t n_calls;
    double flops;
};

/* Per layer l (inputs i, units o, batch B): X (B x i) the layer's input, W (o x i), dW (o x i),
 * S (B x o) and dS (B x o); the previous layer's dS (B x i) receives the input gradient. */
static int gemm_init(struct nncl_backend *be, const struct net *n, struct gemm_bench *gb) {
    memset(gb, 0, sizeof *gb);
    struct nncl_model_spec spec = {.n_inputs = n->inputs};
    if (nncl_parse_hidden(n->hidden, &spec)) return fail("hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){n->outputs, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    const size_t layers = spec.n_layers, batch = n->batch;
    size_t width[MAX_LAYERS + 1], total = 0;
    width[0] = n->inputs;
    for (size_t l = 0; l < layers; l++) width[l + 1] = spec.layers[l].units;
    total += batch * width[0]; /* the batch */
    for (size_t l = 0; l < layers; l++) total += 2 * width[l + 1] * width[l] + 3 * batch * width[l + 1];
    if (nncl_buffer_alloc(be, total * sizeof(float), &gb->buf)) return fail("buffer");
    float *host = malloc(total * sizeof(float));
    if (!host) return fail("out of memory");
    fill(host, total, 12345);
    struct nncl_tensor all = nncl_tensor_view(gb->buf, 0, 1, total);
    if (nncl_tensor_set(&all, host, total)) return fail("tensor_set");
    free(host);
    size_t off = 0;
    struct nncl_tensor x = nncl_tensor_view(gb->buf, off, batch, width[0]), w[MAX_LAYERS], dw[MAX_LAYERS];
    struct nncl_tensor s[MAX_LAYERS], xo[MAX_LAYERS], d[MAX_LAYERS];
    off += batch * width[0];
    for (size_t l = 0; l < layers; l++) {
        const size_t i = width[l], o = width[l + 1];
        w[l] = nncl_tensor_view(gb->buf, off, o, i), off += o * i;
        dw[l] = nncl_tensor_view(gb->buf, off, o, i), off += o * i;
        s[l] = nncl_tensor_view(gb->buf, off, batch, o), off += batch * o;
        xo[l] = nncl_tensor_view(gb->buf, off, batch, o), off += batch * o;
        d[l] = nncl_tensor_view(gb->buf, off, batch, o), off += batch * o;
    }
    /* in the order the step runs them: forward layer by layer, then backward from the last layer */
    for (size_t l = 0; l < layers; l++) {
        gb->calls[gb->n_calls++] = (struct gemm_call){0, 1, l ? xo[l - 1] : x, w[l], s[l]};
        gb->flops += 2.0 * (double)(batch * width[l] * width[l + 1]);
    }
    for (size_t l = layers; l-- > 0;) {
        gb->calls[gb->n_calls++] = (struct gemm_call){1, 0, d[l], l ? xo[l - 1] : x, dw[l]};
        gb->flops += 2.0 * (double)(batch * width[l] * width[l + 1]);
        if (l > 0) {
            gb->calls[gb->n_calls++] = (struct gemm_call){0, 0, d[l], w[l], d[l - 1]};
            gb->flops += 2.0 * (double)(batch * width[l] * width[l + 1]);
        }
    }
    return 0;
}

/* ms per pass over the step's products: the fastest of `runs` runs of `passes` passes, after one pass */
static int gemm_time(struct nncl_backend *be, const struct gemm_bench *gb, size_t passes, size_t runs, double *ms) {
    double best = HUGE_VAL;
    for (size_t r = 0; r <= runs; r++) {
        const double t0 = now();
        for (size_t p = 0; p < (r ? passes : 1); p++) {
            for (size_t i = 0; i < gb->n_calls; i++) {
                const struct gemm_call *c = &gb->calls[i];
                if (nncl_op_gemm(be, c->trans_a, c->trans_b, 1.0f, &c->a, &c->b, 0.0f, &c->c)) return fail("gemm");
            }
        }
        const double t = (now() - t0) / (double)passes;
        if (r && t < best) best = t;
    }
    *ms = 1e3 * best;
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f, "usage: bench_cpu_step [--net fashion|large|all] [--threads LIST] [--steps S] [--epochs E] "
               "[--rounds R] [--json FILE]\n  LIST: thread counts, comma-separated (default 1,2)\n");
}

int main(int argc, char **argv) {
    const char *net = "all", *threads_list = "1,2", *json = NULL;
    size_t steps = 0, epochs = 3, rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--net") && i + 1 < argc) net = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads_list = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
        else {
            usage(strcmp(argv[i], "--help") ? stderr : stdout);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    int threads[16], n_threads = 0;
    for (const char *p = threads_list; *p && n_threads < 16;) {
        char *end = NULL;
        const long t = strtol(p, &end, 10);
        if (end == p || t < 1) {
            usage(stderr);
            return 2;
        }
        threads[n_threads++] = (int)t;
        p = *end == ',' ? end + 1 : end;
    }
    if (epochs < 1 || rounds < 1 || n_threads == 0) {
        usage(stderr);
        return 2;
    }
    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        fprintf(stderr, "bench_cpu_step: cannot write %s\n", json);
        return 1;
    }
    struct nncl_backend *be = NULL;
    if (nncl_backend_init("cpu", &be)) return fail("cpu backend");
    printf("# nncl cpu step vs its GEMMs; best of %zu alternating rounds; %s\n", rounds, nncl_backend_versions(be));
    printf("%-8s %5s %7s %6s %10s %10s %9s %10s\n", "net", "batch", "threads", "steps", "step_ms", "gemm_ms",
           "step/gemm", "gemm_GF/s");
    if (jf) fprintf(jf, "[\n");
    int rc = 0, first = 1;
    for (size_t k = 0; k < sizeof nets / sizeof nets[0] && !rc; k++) {
        const struct net *n = &nets[k];
        if (strcmp(net, "all") && strcmp(net, n->name)) continue;
        const size_t s = steps ? steps : n->steps;
        struct step_bench sb;
        struct gemm_bench gb;
        if (step_init(be, n, s, &sb) || gemm_init(be, n, &gb)) return 1;
        for (int t = 0; t < n_threads && !rc; t++) {
            if (nncl_backend_set_threads(be, threads[t])) return fail("threads");
            double step_ms = HUGE_VAL, gemm_ms = HUGE_VAL;
            for (size_t r = 0; r < rounds && !rc; r++) {
                double a = 0, b = 0;
                rc = step_time(&sb, s, epochs, &a) || gemm_time(be, &gb, s, epochs, &b);
                step_ms = fmin(step_ms, a), gemm_ms = fmin(gemm_ms, b);
            }
            if (rc) break;
            printf("%-8s %5zu %7d %6zu %10.3f %10.3f %9.2f %10.1f\n", n->name, n->batch, nncl_backend_threads(be), s,
                   step_ms, gemm_ms, step_ms / gemm_ms, gb.flops / (gemm_ms * 1e6));
            fflush(stdout);
            if (jf) {
                fprintf(jf, "%s  {\"net\": \"%s\", \"batch\": %zu, \"threads\": %d, \"steps\": %zu, \"step_ms\": %.4f, "
                        "\"gemm_ms\": %.4f, \"step_over_gemm\": %.3f}", first ? "" : ",\n", n->name, n->batch,
                        nncl_backend_threads(be), s, step_ms, gemm_ms, step_ms / gemm_ms);
                first = 0;
            }
        }
        step_free(&sb);
        nncl_buffer_free(gb.buf);
    }
    if (jf) {
        fprintf(jf, "\n]\n");
        fclose(jf);
    }
    nncl_backend_free(be);
    return rc;
}
