/*
 * test_model.c: whole networks. Gradients of every head and activation against finite differences on
 * the CPU reference and against the CPU reference on every other backend; zero initialisation keeps
 * hidden units identical; save -> load gives identical predictions; reproducibility by seed.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
#include "test_util.h"

/* A data set in host memory from a generator: n examples, targets fitting the head. */
static struct nncl_dataset make_data(size_t n, size_t in, size_t out, enum nncl_loss loss, uint64_t seed) {
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n, ds.n_inputs = in, ds.n_outputs = out;
    ds.x = malloc(n * in * sizeof(float));
    ds.y = calloc(n * out, sizeof(float));
    cr_assert(ds.x && ds.y);
    struct tu_rng rng = {seed};
    tu_fill_uniform(&rng, ds.x, n * in, -1, 1);
    for (size_t i = 0; i < n; i++) {
        if (loss == NNCL_LOSS_XENT) {
            ds.y[i * out + (size_t)tu_uniform(&rng, 0, (float)out) % out] = 1.0f;
        } else if (loss == NNCL_LOSS_BCE) {
            for (size_t k = 0; k < out; k++) ds.y[i * out + k] = tu_uniform(&rng, 0, 1) < 0.5f ? 0.0f : 1.0f;
        } else {
            for (size_t k = 0; k < out; k++) ds.y[i * out + k] = tu_uniform(&rng, -1, 1);
        }
    }
    ds.task = loss == NNCL_LOSS_XENT ? NNCL_TASK_CLASSIFICATION : loss == NNCL_LOSS_BCE ? NNCL_TASK_BINARY
                                                                                       : NNCL_TASK_REGRESSION;
    snprintf(ds.source, sizeof ds.source, "generated");
    return ds;
}

static struct nncl_model_spec make_spec(size_t in, const char *hidden, size_t out, enum nncl_loss loss,
                                        enum nncl_act out_act, int softmax) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = in;
    tu_ok(nncl_parse_hidden(hidden, &s), hidden);
    s.layers[s.n_layers].units = out;
    s.layers[s.n_layers].act = out_act;
    s.layers[s.n_layers].act_param = nncl_act_default_param(out_act);
    s.n_layers++;
    s.loss = loss;
    s.output_softmax = softmax;
    return s;
}

struct head {
    enum nncl_loss loss;
    enum nncl_act out_act;
    int softmax;
    const char *name;
};

static const struct head heads[] = {
    {NNCL_LOSS_MSE, NNCL_ACT_IDENTITY, 0, "identity + mse"}, {NNCL_LOSS_MSE, NNCL_ACT_TANH, 0, "tanh + mse (the seed)"},
    {NNCL_LOSS_MSE, NNCL_ACT_IDENTITY, 1, "softmax + mse"},  {NNCL_LOSS_BCE, NNCL_ACT_IDENTITY, 0, "sigmoid + bce"},
    {NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 0, "softmax + xent"},
};

/* The mean loss over the whole data set `ds` (a struct nncl_dataset), for tu_central_differences. */
static double evaluated_loss(struct nncl_model *m, void *ds) {
    double loss = 0;
    tu_ok(nncl_evaluate(m, ds, 0, &loss, NULL), "evaluate");
    return loss;
}

/* Whole-network finite differences on the CPU: every parameter of a 3-layer net with smooth activations. */
Test(model, gradient_matches_finite_differences_for_every_head) {
    struct nncl_backend *be = tu_backend("cpu");
    for (size_t h = 0; h < sizeof heads / sizeof heads[0]; h++) {
        const struct head *hd = &heads[h];
        struct nncl_dataset ds = make_data(6, 4, 3, hd->loss, 11 + h);
        struct nncl_model_spec spec = make_spec(4, "5:tanh,4:elu", 3, hd->loss, hd->out_act, hd->softmax);
        struct nncl_model *m = NULL;
        tu_ok(nncl_model_init(be, &spec, NNCL_INIT_XAVIER, 5, &m), "model_init");
        double loss = 0;
        tu_ok(nncl_compute_gradient(m, &ds, 0, &loss), "compute_gradient");
        const size_t p = nncl_model_param_count(m);
        float *g = malloc(p * sizeof(float)), *num = malloc(p * sizeof(float));
        cr_assert(g && num);
        struct nncl_tensor gt = nncl_model_grads(m);
        tu_get(&gt, g);
        tu_central_differences(m, 1e-2f, evaluated_loss, &ds, num);
        double sum_abs = 0;
        for (size_t i = 0; i < p; i++) sum_abs += fabs(g[i]);
        cr_assert(sum_abs > 1e-3, "%s: the gradient is trivially zero", hd->name);
        char what[96];
        snprintf(what, sizeof what, "whole-network gradient, head %s", hd->name);
        tu_assert_close(num, g, p, 0, (struct tu_tol){2e-3, 2e-2}, what);
        free(g), free(num);
        nncl_model_free(m);
        nncl_dataset_free(&ds);
    }
    tu_free_all();
}

/* Zero initialisation: every hidden unit of a layer computes the same function, gets the same
 * gradient, and so stays identical after any number of steps (the lecture's "what happens when W = 0"). */
Test(model, zero_init_never_breaks_symmetry) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = make_data(32, 3, 2, NNCL_LOSS_XENT, 3);
    struct nncl_model_spec spec = make_spec(3, "6:tanh,5:sigmoid", 2, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 0);
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &spec, NNCL_INIT_ZERO, 1, &m), "model_init");
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 5, o.batch_size = 8, o.optimizer = NNCL_OPT_SGD, o.lr = 0.5f;
    tu_ok(nncl_train(m, &ds, &o, NULL), "train");
    for (size_t l = 0; l + 1 < spec.n_layers; l++) {
        struct nncl_tensor w = nncl_model_weight(m, l), b = nncl_model_bias(m, l);
        float wv[64], bv[8];
        tu_get(&w, wv);
        tu_get(&b, bv);
        for (size_t u = 1; u < w.rows; u++) {
            cr_assert_eq(bv[u], bv[0], "layer %zu: unit %zu's bias differs from unit 0's", l, u);
            for (size_t i = 0; i < w.cols; i++) {
                cr_assert_eq(wv[u * w.cols + i], wv[i], "layer %zu: unit %zu's weights differ from unit 0's", l, u);
            }
        }
    }
    /* and with random init they do differ */
    struct nncl_model *r = NULL;
    tu_ok(nncl_model_init(be, &spec, NNCL_INIT_UNIFORM, 1, &r), "model_init");
    struct nncl_tensor w = nncl_model_weight(r, 0);
    float wv[64];
    tu_get(&w, wv);
    cr_assert(wv[0] != wv[w.cols], "random init gives different units");
    nncl_model_free(m), nncl_model_free(r);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(model, same_seed_same_result) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = make_data(64, 5, 3, NNCL_LOSS_XENT, 9);
    struct nncl_model_spec spec = make_spec(5, "8:relu", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 0);
    float params[2][200] = {{0}};
    for (int run = 0; run < 2; run++) {
        struct nncl_model *m = NULL;
        tu_ok(nncl_model_init(be, &spec, NNCL_INIT_UNIFORM, 42, &m), "model_init");
        struct nncl_train_options o = nncl_train_defaults();
        o.epochs = 3, o.batch_size = 10, o.seed = 7;
        tu_ok(nncl_train(m, &ds, &o, NULL), "train");
        cr_assert(nncl_model_param_count(m) <= 200);
        tu_ok(nncl_model_get_params(m, params[run], nncl_model_param_count(m)), "get_params");
        nncl_model_free(m);
    }
    cr_assert(memcmp(params[0], params[1], sizeof params[0]) == 0, "two runs with one seed differ");
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(model, save_load_gives_identical_predictions) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = make_data(20, 4, 3, NNCL_LOSS_XENT, 21);
    struct nncl_model_spec spec = make_spec(4, "7:leaky_relu:0.2,5:elu", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 0);
    struct nncl_model *m = NULL, *back = NULL;
    tu_ok(nncl_model_init(be, &spec, NNCL_INIT_HE, 3, &m), "model_init");
    tu_ok(nncl_model_set_data_info(m, &ds), "set_data_info");
    char dir[] = "/tmp/nncl_test_model_XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tu_ok(nncl_model_save(m, path), "save");
    tu_ok(nncl_model_load(be, path, &back), "load");
    const struct nncl_model_spec *s2 = nncl_model_get_spec(back);
    cr_assert_eq(s2->n_layers, 3);
    cr_assert_eq(s2->layers[0].act, NNCL_ACT_LEAKY_RELU);
    cr_assert_float_eq(s2->layers[0].act_param, 0.2f, 1e-7);
    float p1[60 * 3], p2[60 * 3];
    tu_ok(nncl_predict(m, &ds, 7, p1), "predict");
    tu_ok(nncl_predict(back, &ds, 7, p2), "predict");
    cr_assert(memcmp(p1, p2, sizeof(float) * 60) == 0, "predictions differ after save and load");
    unlink(path);
    rmdir(dir);
    nncl_model_free(m), nncl_model_free(back);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(model, hidden_spec_parsing) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    ASSERT_ERROR(nncl_parse_hidden(NULL, &s), NNCL_ERR_INVALID_ARG, "nncl_parse_hidden", "NULL");
    ASSERT_ERROR(nncl_parse_hidden("4:tanh", NULL), NNCL_ERR_INVALID_ARG, "nncl_parse_hidden", "NULL");
    tu_ok(nncl_parse_hidden("256:relu,128:leaky_relu:0.2,64", &s), "parse");
    cr_assert_eq(s.n_layers, 3);
    cr_assert_eq(s.layers[0].units, 256);
    cr_assert_eq(s.layers[1].act, NNCL_ACT_LEAKY_RELU);
    cr_assert_float_eq(s.layers[1].act_param, 0.2f, 1e-7);
    cr_assert_eq(s.layers[2].act, NNCL_ACT_TANH, "tanh is the default, as in the lecture");
    const char *bad[] = {"0:relu", "x:relu", "12:swish", "12:relu,", ",12", "12:elu:abc", "12:relu:1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&s, 0, sizeof s);
        cr_assert_neq(nncl_parse_hidden(bad[i], &s), NNCL_OK, "\"%s\" was accepted", bad[i]);
        cr_assert(strstr(nncl_last_error(), bad[i]) || strstr(nncl_last_error(), "--hidden"), "%s", nncl_last_error());
    }
}
