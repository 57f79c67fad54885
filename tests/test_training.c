/*
 * test_training.c: training converges on the lecture's problems: XOR with a tanh net, linear
 * regression that recovers known weights, logistic regression, and the Income table; plus the stop
 * rule and the batch/stochastic/mini-batch modes; and the training plan's geometry, which the trainer
 * and its CLBlast guard read, for sizes that do not divide.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl_model.h"
#include "check/op_cases.h"
#include "nncl/nncl_train.h"
#include "test_util.h"
#include "train_impl.h"

static struct nncl_dataset alloc_data(size_t n, size_t in, size_t out) {
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n, ds.n_inputs = in, ds.n_outputs = out;
    ds.x = calloc(n * in, sizeof(float));
    ds.y = calloc(n * out, sizeof(float));
    cr_assert(ds.x && ds.y);
    snprintf(ds.source, sizeof ds.source, "generated");
    return ds;
}

static struct nncl_model *net(struct nncl_backend *be, size_t in, const char *hidden, size_t out, enum nncl_loss loss,
                              enum nncl_act out_act, uint64_t seed) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = in;
    tu_ok(nncl_parse_hidden(hidden, &s), "hidden");
    s.layers[s.n_layers++] = (struct nncl_layer_spec){out, out_act, 0.0f, 0.0f};
    s.loss = loss;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, seed, &m), "model_init");
    return m;
}

/* XOR with the lecture's tanh network: tanh hidden units, tanh output, squared error, targets -1/+1. */
Test(training, xor_with_tanh) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(4, 2, 1);
    const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {-1, 1, 1, -1};
    memcpy(ds.x, x, sizeof x);
    memcpy(ds.y, y, sizeof y);
    struct nncl_model *m = net(be, 2, "4:tanh", 1, NNCL_LOSS_MSE, NNCL_ACT_TANH, 2);
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 0; /* batch gradient descent */
    o.optimizer = NNCL_OPT_SGD, o.lr = 0.2f, o.epochs = 2000;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    float out[4];
    tu_ok(nncl_predict(m, &ds, 0, out), "predict");
    for (int i = 0; i < 4; i++) cr_assert(out[i] * y[i] > 0.5f, "XOR example %d: output %g, target %g", i, out[i], y[i]);
    cr_assert(r.last.train_loss < 0.1, "final loss %g", r.last.train_loss);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* y = 2 x1 - 3 x2 + 0.5: a linear model (no hidden layer) recovers the weights and the bias. */
Test(training, linear_regression_recovers_weights) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(200, 2, 1);
    struct tu_rng rng = {4};
    for (size_t i = 0; i < ds.n; i++) {
        ds.x[2 * i] = tu_uniform(&rng, -1, 1), ds.x[2 * i + 1] = tu_uniform(&rng, -1, 1);
        ds.y[i] = 2.0f * ds.x[2 * i] - 3.0f * ds.x[2 * i + 1] + 0.5f;
    }
    ds.task = NNCL_TASK_REGRESSION;
    struct nncl_model *m = net(be, 2, "", 1, NNCL_LOSS_MSE, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 20, o.optimizer = NNCL_OPT_SGD, o.lr = 0.1f, o.epochs = 200;
    tu_ok(nncl_train(m, &ds, &o, NULL), "train");
    float p[3];
    tu_ok(nncl_model_get_params(m, p, 3), "params");
    cr_assert_float_eq(p[0], 2.0f, 1e-3, "w1 = %g", p[0]);
    cr_assert_float_eq(p[1], -3.0f, 1e-3, "w2 = %g", p[1]);
    cr_assert_float_eq(p[2], 0.5f, 1e-3, "bias (the x0 = 1 weight) = %g", p[2]);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* Logistic regression (sigmoid + binary cross-entropy) on linearly separable data, stochastic GD. */
Test(training, logistic_regression) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(300, 2, 1);
    struct tu_rng rng = {8};
    for (size_t i = 0; i < ds.n; i++) {
        const float a = tu_uniform(&rng, -2, 2), b = tu_uniform(&rng, -2, 2);
        ds.x[2 * i] = a, ds.x[2 * i + 1] = b;
        ds.y[i] = 1.5f * a - 2.0f * b + 0.3f > 0 ? 1.0f : 0.0f;
    }
    ds.task = NNCL_TASK_BINARY;
    struct nncl_model *m = net(be, 2, "", 1, NNCL_LOSS_BCE, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 1, o.optimizer = NNCL_OPT_SGD, o.lr = 0.1f, o.epochs = 20; /* stochastic, as in the lecture */
    tu_ok(nncl_train(m, &ds, &o, NULL), "train");
    double loss = 0, err = 0;
    tu_ok(nncl_model_set_data_info(m, &ds), "info");
    tu_ok(nncl_evaluate(m, &ds, 64, &loss, &err), "evaluate");
    cr_assert(err <= 0.02, "classification error %g", err);
    float p[3];
    tu_ok(nncl_model_get_params(m, p, 3), "params");
    cr_assert(p[0] > 0 && p[1] < 0 && fabsf(p[1] / p[0] + 2.0f / 1.5f) < 0.3f, "w = (%g, %g)", p[0], p[1]);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* The seed's Income table: predict high/low income from age, education, marital status and major. */
Test(training, income_table) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds;
    struct nncl_csv_options copts = {.target = "income_class", .require_target = 1};
    tu_ok(nncl_dataset_load_csv(NNCL_TEST_DATA_DIR "/income.csv", &copts, &ds), "load income.csv");
    cr_assert_eq(ds.n, 9);
    cr_assert_eq(ds.task, NNCL_TASK_BINARY);
    struct nncl_model *m = net(be, ds.n_inputs, "4:tanh", 1, NNCL_LOSS_BCE, NNCL_ACT_IDENTITY, 3);
    tu_ok(nncl_model_set_data_info(m, &ds), "info");
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 0, o.optimizer = NNCL_OPT_ADAM, o.lr = 0.05f, o.epochs = 300;
    tu_ok(nncl_train(m, &ds, &o, NULL), "train");
    double loss = 0, err = 0;
    tu_ok(nncl_evaluate(m, &ds, 0, &loss, &err), "evaluate");
    cr_assert_eq(err, 0.0, "the 9 rows are learnable; error %g", err);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

struct count {
    size_t epochs;
};

static int count_epochs(const struct nncl_epoch_report *r, void *user) {
    ((struct count *)user)->epochs = r->epoch;
    return 0;
}

/* The stop rule: a converged problem stops long before the epoch limit. */
Test(training, stops_when_converged) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(50, 1, 1);
    for (size_t i = 0; i < ds.n; i++) ds.x[i] = (float)i / 50.0f, ds.y[i] = 3.0f * ds.x[i];
    struct nncl_model *m = net(be, 1, "", 1, NNCL_LOSS_MSE, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    struct count c = {0};
    o.batch_size = 0, o.optimizer = NNCL_OPT_SGD, o.lr = 0.5f, o.epochs = 100000, o.tol = 1e-12, o.patience = 10;
    o.on_epoch = count_epochs, o.user_data = &c;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert(r.converged, "did not converge in %zu epochs", r.epochs);
    cr_assert(r.epochs < 100000 && c.epochs == r.epochs);
    cr_assert(r.last.train_loss < 1e-6, "loss %g", r.last.train_loss);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* A diverging run (huge learning rate) stops with a message naming the epoch, the step and the layer,
 * and leaves the model at the last good state (finite parameters). */
Test(training, divergence_names_epoch_step_and_layer) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(50, 1, 1);
    for (size_t i = 0; i < ds.n; i++) ds.x[i] = (float)i, ds.y[i] = 3.0f * ds.x[i];
    struct nncl_model *m = net(be, 1, "3:relu", 1, NNCL_LOSS_MSE, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 10, o.optimizer = NNCL_OPT_SGD, o.lr = 10.0f, o.epochs = 200;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_NUMERIC, "epoch ", "step ", "layer ", "smaller learning rate");
    float p[20];
    const size_t n = nncl_model_param_count(m);
    tu_ok(nncl_model_get_params(m, p, n), "params");
    for (size_t i = 0; i < n; i++) cr_assert(isfinite(p[i]), "parameter %zu is %g after divergence", i, p[i]);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

static struct nncl_dataset blobs(void) {
    struct nncl_dataset ds = alloc_data(240, 4, 3);
    struct tu_rng rng = {12};
    for (size_t i = 0; i < ds.n; i++) {
        const size_t k = i % 3;
        for (size_t j = 0; j < 4; j++) ds.x[i * 4 + j] = tu_uniform(&rng, -1, 1) + (j == k ? 2.0f : 0.0f);
        ds.y[i * 3 + k] = 1.0f;
    }
    ds.task = NNCL_TASK_CLASSIFICATION;
    return ds;
}

/* A data set that does not fit the device is streamed from host memory, with the same result. */
Test(training, streaming_gives_the_same_result) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = blobs();
    float params[2][64] = {{0}};
    int streamed[2];
    for (int run = 0; run < 2; run++) {
        struct nncl_model *m = net(be, 4, "6:tanh", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 4);
        struct nncl_train_options o = nncl_train_defaults();
        o.epochs = 3, o.batch_size = 16, o.val_fraction = 0.25f;
        struct nncl_memory_plan plan;
        tu_ok(nncl_train_plan(m, &ds, &o, &plan), "plan");
        /* the second run gets just enough memory for the net, not for the data set */
        if (run == 1) o.memory_limit = plan.parameters + plan.gradients + plan.optimizer_state + plan.snapshot +
                                       plan.best + plan.activations + plan.batch + 64;
        struct nncl_train_result r;
        tu_ok(nncl_train(m, &ds, &o, &r), "train");
        streamed[run] = r.streamed;
        tu_ok(nncl_model_get_params(m, params[run], nncl_model_param_count(m)), "params");
        nncl_model_free(m);
    }
    cr_assert(!streamed[0] && streamed[1], "streamed: %d %d", streamed[0], streamed[1]);
    cr_assert(memcmp(params[0], params[1], sizeof params[0]) == 0, "streaming changed the result");
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* Early stopping keeps the best epoch's parameters: the plan counts that buffer, so a limit that fits the
 * net without --patience refuses it with one. */
Test(training, the_memory_plan_counts_the_best_epoch_buffer) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = blobs();
    struct nncl_model *m = net(be, 4, "6:tanh", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 4);
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 2, o.batch_size = 16, o.val_fraction = 0.25f;
    struct nncl_memory_plan plain, patient, kept;
    tu_ok(nncl_train_plan(m, &ds, &o, &plain), "plan");
    cr_assert_eq(plain.best, 0);
    o.patience = 3;
    tu_ok(nncl_train_plan(m, &ds, &o, &patient), "plan with patience");
    cr_assert_eq(patient.best, nncl_model_param_count(m) * sizeof(float));
    o.keep_last = 1;
    tu_ok(nncl_train_plan(m, &ds, &o, &kept), "plan with patience and keep_last");
    cr_assert_eq(kept.best, 0, "keep_last keeps no best epoch");
    o.keep_last = 0;
    o.memory_limit = plain.parameters + plain.gradients + plain.optimizer_state + plain.snapshot + plain.activations +
                     plain.batch + patient.best / 2; /* the data set is streamed; the best buffer does not fit */
    ASSERT_ERROR(nncl_train_plan(m, &ds, &o, &patient), NNCL_ERR_OOM, "best epoch");
    o.patience = 0;
    tu_ok(nncl_train_plan(m, &ds, &o, &plain), "the same limit without patience");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* A net that cannot fit is refused before training, with the sizes involved. */
Test(training, net_too_large_is_refused) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = blobs();
    struct nncl_model *m = net(be, 4, "6:tanh", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 4);
    struct nncl_train_options o = nncl_train_defaults();
    o.memory_limit = 1000;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_OOM, "does not fit", "parameters", "activations", "MiB");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

static volatile sig_atomic_t stop_flag;

static int stop_after_first(const struct nncl_epoch_report *r, void *user) {
    (void)user;
    if (r->epoch == 1) stop_flag = 1;
    return 0;
}

/* The stop flag (what nncl's SIGINT handler sets) ends training after the current step. */
Test(training, stop_flag_interrupts) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = blobs();
    struct nncl_model *m = net(be, 4, "6:tanh", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 4);
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 50, o.batch_size = 16, o.stop = &stop_flag, o.on_epoch = stop_after_first;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert(r.interrupted, "not interrupted");
    cr_assert_eq(r.steps, 15, "one epoch of 15 steps ran, then the flag stopped it (steps %zu)", r.steps);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* ---- the training plan ------------------------------------------------------------------------- */

static struct nncl_train_geometry plan_of(size_t n, float val_fraction, size_t batch, enum nncl_optimizer opt) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(n, 5, 3);
    struct nncl_model *m = net(be, 5, "7:relu", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    o.val_fraction = val_fraction, o.batch_size = batch, o.optimizer = opt;
    struct nncl_memory_plan plan;
    tu_ok(nncl_train_plan(m, &ds, &o, &plan), "plan");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    return plan.geometry;
}

#define ASSERT_ROWS(list, count, ...)                                                                          \
    do {                                                                                                       \
        const size_t want_[] = {__VA_ARGS__, 0}; /* a spare last element: no empty-array bounds warning */    \
        cr_assert_eq(count, sizeof want_ / sizeof want_[0] - 2, #list ": %zu row counts", (size_t)(count));   \
        for (size_t i_ = 0; i_ < (count); i_++) cr_assert_eq((list)[i_], want_[i_ + 1], #list "[%zu]", i_); \
    } while (0)

/* 10 examples, 0.2 held out, batches of 3: 8 to train in 3 steps (3, 3, 2), one validation batch of 2. */
Test(training, plan_geometry_for_sizes_that_do_not_divide) {
    struct nncl_train_geometry g = plan_of(10, 0.2f, 3, NNCL_OPT_ADAM);
    cr_assert_eq(g.n_val, 2);
    cr_assert_eq(g.n_train, 8);
    cr_assert_eq(g.batch_rows, 3);
    cr_assert_eq(g.steps_per_epoch, 3);
    cr_assert_eq(g.last_batch_rows, 2);
    cr_assert_eq(g.val_batches, 1);
    cr_assert_eq(g.val_batch_rows, 2);
    cr_assert_eq(g.val_last_batch_rows, 2);
    cr_assert_eq(g.optimizer_slots, 2);
    ASSERT_ROWS(g.step_rows, g.n_step_rows, 0, 3, 2);
    ASSERT_ROWS(g.forward_rows, g.n_forward_rows, 0); /* 2 rows: a training step has them already */

    /* 23 examples, 0.3 held out (floor 6.9 = 6), batches of 4: steps 4, 4, 4, 4, 1; validation 4, 2 */
    g = plan_of(23, 0.3f, 4, NNCL_OPT_MOMENTUM);
    cr_assert_eq(g.n_val, 6);
    cr_assert_eq(g.n_train, 17);
    cr_assert_eq(g.steps_per_epoch, 5);
    cr_assert_eq(g.last_batch_rows, 1);
    cr_assert_eq(g.val_batches, 2);
    cr_assert_eq(g.val_batch_rows, 4);
    cr_assert_eq(g.val_last_batch_rows, 2);
    cr_assert_eq(g.optimizer_slots, 1);
    ASSERT_ROWS(g.step_rows, g.n_step_rows, 0, 4, 1);
    ASSERT_ROWS(g.forward_rows, g.n_forward_rows, 0, 2);

    /* batch 0 is the whole training set, not the whole file: 8 rows, and validation in one batch of 2 */
    g = plan_of(10, 0.2f, 0, NNCL_OPT_SGD);
    cr_assert_eq(g.batch_rows, 8);
    cr_assert_eq(g.steps_per_epoch, 1);
    cr_assert_eq(g.last_batch_rows, 8);
    cr_assert_eq(g.val_batches, 1);
    cr_assert_eq(g.val_batch_rows, 2);
    cr_assert_eq(g.optimizer_slots, 0);
    ASSERT_ROWS(g.step_rows, g.n_step_rows, 0, 8);
    ASSERT_ROWS(g.forward_rows, g.n_forward_rows, 0, 2);

    /* a batch larger than the training set, no validation: one step of every example */
    g = plan_of(10, 0.0f, 64, NNCL_OPT_ADAM);
    cr_assert_eq(g.batch_rows, 10);
    cr_assert_eq(g.steps_per_epoch, 1);
    cr_assert_eq(g.val_batches, 0);
    ASSERT_ROWS(g.step_rows, g.n_step_rows, 0, 10);
    ASSERT_ROWS(g.forward_rows, g.n_forward_rows, 0);
    tu_free_all();
}

/* The plan refuses the options nncl_train refuses, with the same message. */
Test(training, plan_checks_the_options) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(4, 5, 3);
    struct nncl_model *m = net(be, 5, "7:relu", 3, NNCL_LOSS_XENT, NNCL_ACT_IDENTITY, 1);
    struct nncl_train_options o = nncl_train_defaults();
    o.val_fraction = 1.5f;
    struct nncl_memory_plan plan;
    ASSERT_ERROR(nncl_train_plan(m, &ds, &o, &plan), NNCL_ERR_INVALID_ARG, "validation fraction");
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_INVALID_ARG, "validation fraction");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

static int has_case(const struct op_case *c, size_t n, size_t rows, size_t cols, size_t k, int ta, int tb) {
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        count += c[i].op == NNCL_OP_GEMM && c[i].rows == rows && c[i].cols == cols && c[i].k == k && c[i].ip[0] == ta &&
                 c[i].ip[1] == tb;
    }
    return count;
}

/* The guard checks every product the run executes: the full and the last partial training batch (forward
 * and backward), and the validation batches (forward only), each shape once. */
Test(training, guard_checks_every_shape_the_run_executes) {
    const struct nncl_train_geometry g = plan_of(23, 0.3f, 4, NNCL_OPT_ADAM); /* steps 4 and 1 rows, val 4 and 2 */
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = 5;
    tu_ok(nncl_parse_hidden("7:relu", &spec), "hidden");
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){3, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = NNCL_LOSS_XENT;
    struct op_case cases[TRAIN_MAX_GEMM_CASES];
    const size_t n = train_gemm_cases(&spec, &g, cases, TRAIN_MAX_GEMM_CASES);
    /* 5 products per training row count (2 forward, 2 weight gradients, 1 input gradient), 2 for rows 2 */
    cr_assert_eq(n, 12, "%zu shapes", n);
    const size_t step_rows[] = {4, 1};
    for (size_t i = 0; i < 2; i++) {
        const size_t r = step_rows[i];
        cr_assert_eq(has_case(cases, n, r, 7, 5, 0, 1), 1, "layer 1 forward at %zu rows", r);
        cr_assert_eq(has_case(cases, n, r, 3, 7, 0, 1), 1, "layer 2 forward at %zu rows", r);
        cr_assert_eq(has_case(cases, n, 7, 5, r, 1, 0), 1, "layer 1 weight gradient at %zu rows", r);
        cr_assert_eq(has_case(cases, n, 3, 7, r, 1, 0), 1, "layer 2 weight gradient at %zu rows", r);
        cr_assert_eq(has_case(cases, n, r, 7, 3, 0, 0), 1, "layer 2 input gradient at %zu rows", r);
    }
    /* the last validation batch (2 rows) runs forward only */
    cr_assert_eq(has_case(cases, n, 2, 7, 5, 0, 1), 1, "layer 1 forward at the validation batch's 2 rows");
    cr_assert_eq(has_case(cases, n, 2, 3, 7, 0, 1), 1, "layer 2 forward at the validation batch's 2 rows");
    cr_assert_eq(has_case(cases, n, 7, 5, 2, 1, 0), 0, "no backward product at validation rows");
    /* a short cap still counts every shape */
    cr_assert_eq(train_gemm_cases(&spec, &g, cases, 3), 12);
    cr_assert(nncl_train_defaults().verify_gemm, "the guard is on by default");
    tu_free_all();
}
