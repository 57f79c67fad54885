/*
 * test_network_parity.c: whole networks on every non-CPU backend against the CPU reference:
 * the gradient of the mean loss for every head and every activation on nets of 1 to 4 layers
 * (including the lecture's 2-layer tanh net), and a short training run whose per-epoch losses must
 * agree, with the CLBlast guard that nncl_train runs on OpenCL. Tolerances are in docs/testing.md.
 * Skipped without an OpenCL device, except under CI=true.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
#include "test_util.h"

static void fill_data(struct nncl_dataset *ds, size_t n, size_t in, size_t out, enum nncl_loss loss, uint64_t seed) {
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->n_inputs = in, ds->n_outputs = out;
    ds->x = malloc(n * in * sizeof(float));
    ds->y = calloc(n * out, sizeof(float));
    cr_assert(ds->x && ds->y);
    struct tu_rng rng = {seed};
    tu_fill_uniform(&rng, ds->x, n * in, -2, 2);
    for (size_t i = 0; i < n; i++) {
        if (loss == NNCL_LOSS_XENT) {
            ds->y[i * out + (size_t)tu_uniform(&rng, 0, (float)out) % out] = 1.0f;
        } else {
            for (size_t k = 0; k < out; k++) {
                ds->y[i * out + k] = loss == NNCL_LOSS_BCE ? (tu_uniform(&rng, 0, 1) < 0.5f) : tu_uniform(&rng, -1, 1);
            }
        }
    }
    snprintf(ds->source, sizeof ds->source, "generated");
}

/* One network's gradient on `be`. */
static void gradient_on(struct nncl_backend *be, const struct nncl_model_spec *spec, const struct nncl_dataset *ds,
                        float *g, double *loss) {
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, spec, NNCL_INIT_UNIFORM, 1234, &m), "model_init");
    tu_ok(nncl_compute_gradient(m, ds, 0, loss), "compute_gradient");
    struct nncl_tensor gt = nncl_model_grads(m);
    tu_get(&gt, g);
    nncl_model_free(m);
}

Test(network_parity, every_head_and_activation_depth_1_to_4) {
    struct nncl_backend *dev = tu_device_or_skip();
    struct nncl_backend *cpu = tu_backend("cpu");
    const enum nncl_loss losses[] = {NNCL_LOSS_MSE, NNCL_LOSS_BCE, NNCL_LOSS_XENT};
    int checked = 0;
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        for (size_t depth = 1; depth <= 4; depth++) {
            for (size_t li = 0; li < 3; li++) {
                struct nncl_model_spec spec;
                memset(&spec, 0, sizeof spec);
                spec.n_inputs = 13;
                for (size_t l = 0; l + 1 < depth; l++) {
                    spec.layers[l] = (struct nncl_layer_spec){17 + 4 * l, (enum nncl_act)act,
                                                              nncl_act_default_param((enum nncl_act)act), 0.0f};
                }
                /* the output: mse heads use the activation too (tanh + mse is the lecture's net) */
                spec.layers[depth - 1] = (struct nncl_layer_spec){5, (enum nncl_act)act,
                                                                  nncl_act_default_param((enum nncl_act)act), 0.0f};
                spec.n_layers = depth;
                spec.loss = losses[li];
                struct nncl_dataset ds;
                fill_data(&ds, 67, 13, 5, spec.loss, 100u + (unsigned)(act * 16 + (int)depth * 4 + (int)li));
                size_t p = 0;
                for (size_t l = 0; l < depth; l++) {
                    p += (spec.layers[l].units) * ((l ? spec.layers[l - 1].units : 13) + 1);
                }
                float *ref = malloc(p * sizeof(float)), *got = malloc(p * sizeof(float));
                cr_assert(ref && got);
                double loss_ref = 0, loss_got = 0;
                gradient_on(cpu, &spec, &ds, ref, &loss_ref);
                gradient_on(dev, &spec, &ds, got, &loss_got);
                char what[200];
                snprintf(what, sizeof what, "network gradient: %zu layers, activation %s, loss %s, on %s", depth,
                         nncl_act_name((enum nncl_act)act), nncl_loss_name(spec.loss), nncl_backend_device(dev));
                cr_expect(fabs(loss_ref - loss_got) <= 1e-5 + 1e-5 * fabs(loss_ref), "%s: loss %.9g vs %.9g", what,
                          loss_ref, loss_got);
                double scale = 0;
                for (size_t i = 0; i < p; i++) scale = fmax(scale, fabs(ref[i]));
                /* relative to the largest gradient element: float sums over the batch and the layers */
                tu_assert_close(ref, got, p, 0, (struct tu_tol){1e-4 * scale + 1e-7, 1e-3}, what);
                free(ref), free(got);
                nncl_dataset_free(&ds);
                checked++;
            }
        }
    }
    cr_assert_eq(checked, NNCL_ACT_COUNT * 4 * 3);
    nncl_backend_free(dev);
    tu_free_all();
}

struct losses {
    double v[8];
    size_t n;
};

static int record(const struct nncl_epoch_report *r, void *user) {
    struct losses *l = user;
    if (l->n < 8) l->v[l->n++] = r->train_loss;
    return 0;
}

/* The same run (seed, batches, optimizer) on both backends: per-epoch losses agree within 1e-3 relative. */
Test(network_parity, training_runs_agree) {
    struct nncl_backend *dev = tu_device_or_skip();
    struct nncl_backend *cpu = tu_backend("cpu");
    struct nncl_dataset ds;
    fill_data(&ds, 500, 20, 4, NNCL_LOSS_XENT, 77);
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = 20;
    tu_ok(nncl_parse_hidden("32:relu,16:tanh", &spec), "hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){4, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = NNCL_LOSS_XENT;
    struct losses runs[2] = {{{0}, 0}, {{0}, 0}};
    struct nncl_backend *bes[2] = {cpu, dev};
    for (int i = 0; i < 2; i++) {
        struct nncl_model *m = NULL;
        tu_ok(nncl_model_init(bes[i], &spec, NNCL_INIT_UNIFORM, 5, &m), "model_init");
        struct nncl_train_options o = nncl_train_defaults();
        o.epochs = 6, o.batch_size = 32, o.seed = 3, o.on_epoch = record, o.user_data = &runs[i];
        tu_ok(nncl_train(m, &ds, &o, NULL), "train");
        nncl_model_free(m);
    }
    cr_assert_eq(runs[0].n, 6);
    cr_assert_eq(runs[1].n, 6);
    for (size_t e = 0; e < 6; e++) {
        cr_expect(fabs(runs[0].v[e] - runs[1].v[e]) <= 1e-3 * fabs(runs[0].v[e]),
                  "epoch %zu: cpu loss %.9g, %s loss %.9g", e + 1, runs[0].v[e], nncl_backend_device(dev), runs[1].v[e]);
    }
    cr_assert(runs[0].v[5] < runs[0].v[0], "the loss went down (%g -> %g)", runs[0].v[0], runs[0].v[5]);
    nncl_dataset_free(&ds);
    nncl_backend_free(dev);
    tu_free_all();
}

/* Files named clblast-verified-* in $XDG_CACHE_HOME/nncl: the guard's record of a passing check. */
static size_t guard_records(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/nncl", getenv("XDG_CACHE_HOME"));
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strncmp(e->d_name, "clblast-verified-", 17) == 0;
    if (d) closedir(d);
    return n;
}

/* A library caller of nncl_train gets the CLBlast guard on OpenCL (verify_gemm, on by default): it checks
 * the run's products and remembers the pass, so the same run does not check again; verify_gemm = 0 skips it. */
Test(network_parity, train_runs_the_clblast_guard) {
    struct nncl_backend *dev = tu_device_or_skip();
    static char cache[] = "/tmp/nncl-test-guard-XXXXXX";
    cr_assert(mkdtemp(cache), "mkdtemp");
    setenv("XDG_CACHE_HOME", cache, 1); /* this test's own process: Criterion forks one per test */
    struct nncl_dataset ds;
    fill_data(&ds, 23, 5, 3, NNCL_LOSS_XENT, 11);
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = 5;
    tu_ok(nncl_parse_hidden("7:relu", &spec), "hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){3, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = NNCL_LOSS_XENT;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(dev, &spec, NNCL_INIT_UNIFORM, 5, &m), "model_init");
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 1, o.batch_size = 4, o.val_fraction = 0.3f, o.verify_gemm = 0;
    tu_ok(nncl_train(m, &ds, &o, NULL), "train without the guard");
    cr_assert_eq(guard_records(), 0, "verify_gemm = 0 ran the guard");
    o.verify_gemm = 1;
    tu_ok(nncl_train(m, &ds, &o, NULL), "train with the guard");
    cr_assert_eq(guard_records(), 1, "the guard left no record of its pass");
    tu_ok(nncl_train(m, &ds, &o, NULL), "train again");
    cr_assert_eq(guard_records(), 1, "the same run's shapes were recorded twice");
    o.batch_size = 5; /* other shapes: checked and recorded again */
    tu_ok(nncl_train(m, &ds, &o, NULL), "train with other batches");
    cr_assert_eq(guard_records(), 2, "new shapes were not checked");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    nncl_backend_free(dev);
    tu_free_all();
}
