#define _POSIX_C_SOURCE 200809L /* mkdtemp */
/*
 * test_pinned.c: the trainer's arithmetic pinned where it is exact. Convergence tests only say that
 * training goes somewhere good; these say which update it makes: one SGD, momentum and Adam step against
 * the closed form built from nncl_compute_gradient at the same weights; how many steps an epoch takes
 * when the batch size does not divide the data, and which rows the last, partial batch holds; that
 * shuffling happens when asked (and differs between seeds), and that no shuffling keeps the file order.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
#include "test_util.h"

#define IN 3
#define OUT 2
#define ROWS 10

/* Ten rows of a small regression problem, every value distinct. */
static struct nncl_dataset data(void) {
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = ROWS, ds.n_inputs = IN, ds.n_outputs = OUT;
    ds.x = malloc(ROWS * IN * sizeof(float));
    ds.y = malloc(ROWS * OUT * sizeof(float));
    cr_assert(ds.x && ds.y);
    struct tu_rng rng = {42};
    tu_fill_uniform(&rng, ds.x, ROWS * IN, -1.0f, 1.0f);
    tu_fill_uniform(&rng, ds.y, ROWS * OUT, -1.0f, 1.0f);
    snprintf(ds.source, sizeof ds.source, "pinned");
    return ds;
}

/* Rows [first, first + n) of `ds` as a data set of their own (pointing into ds; not to be freed). */
static struct nncl_dataset rows_of(const struct nncl_dataset *ds, size_t first, size_t n) {
    struct nncl_dataset sub = *ds;
    sub.n = n;
    sub.x = ds->x + first * ds->n_inputs;
    sub.y = ds->y + first * ds->n_outputs;
    return sub;
}

static struct nncl_model *model(struct nncl_backend *be) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = IN;
    tu_ok(nncl_parse_hidden("4:tanh", &s), "hidden");
    s.layers[s.n_layers++] = (struct nncl_layer_spec){OUT, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    s.loss = NNCL_LOSS_MSE;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 7, &m), "model_init");
    return m;
}

static float *params(const struct nncl_model *m) {
    const size_t n = nncl_model_param_count(m);
    float *p = malloc(n * sizeof(float));
    cr_assert(p);
    tu_ok(nncl_model_get_params(m, p, n), "get_params");
    return p;
}

/* The gradient of the mean loss over `ds` at the weights `w` (n floats), computed by a model of its own. */
static float *gradient_at(struct nncl_backend *be, const float *w, const struct nncl_dataset *ds) {
    struct nncl_model *g = model(be);
    const size_t n = nncl_model_param_count(g);
    tu_ok(nncl_model_set_params(g, w, n), "set_params");
    double loss;
    tu_ok(nncl_compute_gradient(g, ds, ds->n, &loss), "compute_gradient");
    float *out = malloc(n * sizeof(float));
    cr_assert(out);
    struct nncl_tensor grads = nncl_model_grads(g);
    tu_get(&grads, out);
    nncl_model_free(g);
    return out;
}

static struct nncl_train_options plain(enum nncl_optimizer opt, size_t batch, size_t epochs) {
    struct nncl_train_options o = nncl_train_defaults();
    o.optimizer = opt, o.batch_size = batch, o.epochs = epochs, o.lr = 0.05f, o.shuffle = 0, o.patience = 0;
    return o;
}

/* Float updates of a few ulps: the trainer and the closed form round the same operations, but the
 * compiler may contract a multiply-add in one and not the other. */
static const struct tu_tol update_tol = {1e-7, 4e-7};

Test(pinned, one_sgd_step_is_w_minus_lr_g) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    const size_t n = nncl_model_param_count(m);
    float *w0 = params(m), *g = gradient_at(be, w0, &ds), *want = malloc(n * sizeof(float));
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 0, 1);
    o.weight_decay = 0.01f;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert_eq(r.steps, 1, "a full-batch epoch is one step, got %zu", r.steps);
    for (size_t i = 0; i < n; i++) want[i] = w0[i] - o.lr * (g[i] + o.weight_decay * w0[i]);
    float *w1 = params(m);
    tu_assert_close(want, w1, n, n, update_tol, "SGD step with weight decay");
    free(w0), free(g), free(want), free(w1);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(pinned, two_momentum_steps_accumulate_velocity) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    const size_t n = nncl_model_param_count(m);
    struct nncl_train_options o = plain(NNCL_OPT_MOMENTUM, 0, 2);
    o.momentum = 0.8f;
    float *w0 = params(m), *g0 = gradient_at(be, w0, &ds);
    float *w1 = malloc(n * sizeof(float)), *v = malloc(n * sizeof(float)), *w2 = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = g0[i], w1[i] = w0[i] - o.lr * v[i];
    float *g1 = gradient_at(be, w1, &ds);
    for (size_t i = 0; i < n; i++) v[i] = o.momentum * v[i] + g1[i], w2[i] = w1[i] - o.lr * v[i];
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert_eq(r.steps, 2);
    float *got = params(m);
    tu_assert_close(w2, got, n, n, update_tol, "two momentum steps");
    free(w0), free(g0), free(w1), free(v), free(w2), free(g1), free(got);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(pinned, two_adam_steps_with_bias_correction) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    const size_t n = nncl_model_param_count(m);
    struct nncl_train_options o = plain(NNCL_OPT_ADAM, 0, 2);
    o.lr = 0.01f;
    float *w = params(m), *mom = calloc(n, sizeof(float)), *vel = calloc(n, sizeof(float));
    for (int t = 1; t <= 2; t++) {
        float *g = gradient_at(be, w, &ds);
        const float bc1 = (float)(1.0 - pow(o.beta1, t)), bc2 = (float)(1.0 - pow(o.beta2, t));
        for (size_t i = 0; i < n; i++) {
            mom[i] = o.beta1 * mom[i] + (1.0f - o.beta1) * g[i];
            vel[i] = o.beta2 * vel[i] + (1.0f - o.beta2) * g[i] * g[i];
            w[i] -= o.lr * (mom[i] / bc1) / (sqrtf(vel[i] / bc2) + o.eps);
        }
        free(g);
    }
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    float *got = params(m);
    /* Adam's first steps move each weight by about lr whatever the gradient's size: compare at lr's scale */
    tu_assert_close(w, got, n, n, (struct tu_tol){1e-6, 1e-5}, "two Adam steps");
    free(w), free(mom), free(vel), free(got);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* Unshuffled mini-batches of 3 over 10 rows: steps on rows 0-2, 3-5, 6-8 and then 9 alone, in that order. */
Test(pinned, partial_last_batch_and_file_order_without_shuffle) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    const size_t n = nncl_model_param_count(m);
    float *w = params(m);
    const size_t first[] = {0, 3, 6, 9}, count[] = {3, 3, 3, 1};
    for (int s = 0; s < 4; s++) {
        struct nncl_dataset part = rows_of(&ds, first[s], count[s]);
        float *g = gradient_at(be, w, &part);
        for (size_t i = 0; i < n; i++) w[i] -= 0.05f * g[i];
        free(g);
    }
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 3, 1);
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert_eq(r.steps, 4, "10 rows in batches of 3 take 4 steps, got %zu", r.steps);
    cr_assert_eq(r.last.steps, 4);
    float *got = params(m);
    tu_assert_close(w, got, n, n, update_tol, "batches 0-2, 3-5, 6-8, 9 in file order");
    free(w), free(got);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(pinned, steps_per_epoch_for_sizes_that_do_not_divide) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    const size_t batch[] = {1, 3, 4, 9, 10, 11, 0}, want[] = {10, 4, 3, 2, 1, 1, 1};
    for (size_t k = 0; k < sizeof batch / sizeof batch[0]; k++) {
        struct nncl_model *m = model(be);
        struct nncl_train_options o = plain(NNCL_OPT_SGD, batch[k], 2);
        struct nncl_train_result r;
        tu_ok(nncl_train(m, &ds, &o, &r), "train");
        cr_assert_eq(r.steps, 2 * want[k], "batch %zu over 10 rows: %zu steps in 2 epochs, want %zu", batch[k],
                     r.steps, 2 * want[k]);
        nncl_model_free(m);
    }
    /* with a validation split the epoch runs over the training rows only: 10 rows, 20% held out -> 8 */
    struct nncl_model *m = model(be);
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 3, 1);
    o.val_fraction = 0.2f;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert_eq(r.steps, 3, "8 training rows in batches of 3: 3 steps, got %zu", r.steps);
    cr_assert(r.last.has_val);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* Stochastic gradient descent (batch 1) visits rows in an order the final weights reveal. */
static float *train_sgd1(struct nncl_backend *be, const struct nncl_dataset *ds, int shuffle, uint64_t seed) {
    struct nncl_model *m = model(be);
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 1, 1);
    o.shuffle = shuffle, o.seed = seed;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, ds, &o, &r), "train");
    float *w = params(m);
    nncl_model_free(m);
    return w;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

Test(pinned, shuffling_changes_the_order_and_depends_on_the_seed) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *probe = model(be);
    const size_t n = nncl_model_param_count(probe);
    nncl_model_free(probe);
    float *plain_order = train_sgd1(be, &ds, 0, 1), *s1 = train_sgd1(be, &ds, 1, 1), *s1b = train_sgd1(be, &ds, 1, 1);
    float *s2 = train_sgd1(be, &ds, 1, 2);
    cr_assert_eq(memcmp(s1, s1b, n * sizeof(float)), 0, "the same seed must shuffle the same way");
    cr_assert_gt(max_diff(plain_order, s1, n), 1e-4, "shuffle on gave the file order's weights: no shuffling happened");
    cr_assert_gt(max_diff(s1, s2, n), 1e-4, "seeds 1 and 2 gave the same order");
    /* and the unshuffled run is exactly the sequence of single-row steps in file order */
    float *w = train_sgd1(be, &ds, 0, 99);
    cr_assert_eq(memcmp(w, plain_order, n * sizeof(float)), 0, "without shuffling the seed must not matter");
    struct nncl_model *m = model(be);
    float *want = params(m);
    nncl_model_free(m);
    for (size_t row = 0; row < ROWS; row++) {
        struct nncl_dataset one = rows_of(&ds, row, 1);
        float *g = gradient_at(be, want, &one);
        for (size_t i = 0; i < n; i++) want[i] -= 0.05f * g[i];
        free(g);
    }
    tu_assert_close(want, plain_order, n, n, update_tol, "ten single-row steps in file order");
    free(plain_order), free(s1), free(s1b), free(s2), free(w), free(want);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* ---- activation parameters other than the defaults, forward and backward ----------------------- */

/* Closed forms in double: leaky ReLU f = x > 0 ? x : a x, f' = x > 0 ? 1 : a; ELU f = x > 0 ? x : a (e^x - 1),
 * f' = x > 0 ? 1 : f + a. A bug shared by both backends is invisible to parity; this is not. */
static double closed_f(enum nncl_act act, double a, double x) {
    return x > 0 ? x : (act == NNCL_ACT_LEAKY_RELU ? a * x : a * expm1(x));
}
static double closed_d(enum nncl_act act, double a, double x) {
    return x > 0 ? 1.0 : (act == NNCL_ACT_LEAKY_RELU ? a : a * expm1(x) + a);
}

static void check_param(enum nncl_act act, float a) {
    struct nncl_backend *be = tu_backend("cpu");
    enum { N = 41 };
    float x[N], dy[N], y[N], dx[N], want_y[N], want_dx[N];
    for (int i = 0; i < N; i++) {
        x[i] = -4.0f + 0.2f * (float)i + 0.013f; /* never exactly 0: the kink's side is then unambiguous */
        dy[i] = 0.5f + 0.01f * (float)i;
        want_y[i] = (float)closed_f(act, a, x[i]);
        want_dx[i] = (float)(dy[i] * closed_d(act, a, x[i]));
    }
    struct nncl_tensor tx = tu_tensor(be, 1, N, x), ty = tu_tensor(be, 1, N, NULL), tdy = tu_tensor(be, 1, N, dy);
    struct nncl_tensor tdx = tu_tensor(be, 1, N, NULL);
    tu_ok(nncl_op_act_fwd(be, act, a, &tx, &ty), "act_fwd");
    tu_ok(nncl_op_act_bwd(be, act, a, &tx, &ty, &tdy, 0.0f, &tdx), "act_bwd");
    tu_get(&ty, y);
    tu_get(&tdx, dx);
    char what[96];
    snprintf(what, sizeof what, "%s with parameter %g, forward", nncl_act_name(act), (double)a);
    tu_assert_close(want_y, y, N, N, (struct tu_tol){1e-7, 1e-6}, what);
    snprintf(what, sizeof what, "%s with parameter %g, backward", nncl_act_name(act), (double)a);
    tu_assert_close(want_dx, dx, N, N, (struct tu_tol){1e-7, 1e-6}, what);
    /* the fused bias + activation takes the same parameter */
    float zero[N] = {0}, y2[N];
    struct nncl_tensor s = tu_tensor(be, 1, N, x), bias = tu_tensor(be, 1, N, zero), y_fused = tu_tensor(be, 1, N, NULL);
    tu_ok(nncl_op_bias_act_fwd(be, act, a, &s, &bias, &y_fused), "bias_act_fwd");
    tu_get(&y_fused, y2);
    snprintf(what, sizeof what, "%s with parameter %g, bias_act_fwd", nncl_act_name(act), (double)a);
    tu_assert_close(want_y, y2, N, N, (struct tu_tol){1e-7, 1e-6}, what);
    tu_free_all();
}

Test(pinned, leaky_relu_slope_other_than_the_default) {
    check_param(NNCL_ACT_LEAKY_RELU, 0.3f);
    check_param(NNCL_ACT_LEAKY_RELU, 0.01f);
}

Test(pinned, elu_alpha_other_than_the_default) {
    check_param(NNCL_ACT_ELU, 0.5f);
    check_param(NNCL_ACT_ELU, 2.0f);
}

/* ---- pinned by the mutation run (docs/testing.md 5.5): each of these let a one-line bug through ---- */

Test(pinned, train_defaults_are_the_documented_ones) {
    const struct nncl_train_options o = nncl_train_defaults();
    cr_assert_eq(o.batch_size, 128);
    cr_assert_eq(o.epochs, 10);
    cr_assert_eq(o.optimizer, NNCL_OPT_ADAM);
    cr_assert_float_eq(o.lr, 1e-3f, 0.0f);
    cr_assert_float_eq(o.beta1, 0.9f, 0.0f);
    cr_assert_float_eq(o.beta2, 0.999f, 0.0f);
    cr_assert_float_eq(o.eps, 1e-8f, 0.0f);
    cr_assert_eq(o.shuffle, 1);
    cr_assert_eq(o.seed, 1);
    cr_assert_eq(o.patience, 0);
    cr_assert_float_eq(o.val_fraction, 0.0f, 0.0f);
    cr_assert_eq(o.verify_gemm, 1);
}

/* The epoch's reported loss is the mean over its examples: with a partial last batch (10 rows in batches
 * of 3) and a rate too small to move any weight, it equals the mean loss nncl_evaluate measures. */
Test(pinned, epoch_loss_is_the_mean_over_the_examples_with_a_partial_batch) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    double loss = 0, err = 0;
    tu_ok(nncl_evaluate(m, &ds, 0, &loss, &err), "evaluate");
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 3, 1);
    o.lr = 1e-30f; /* w - 1e-30 g == w for every weight of this size: the epoch sees fixed weights */
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "train");
    cr_assert(fabs(r.last.train_loss - loss) <= 1e-6 * fabs(loss), "epoch loss %.9g, the data's mean loss %.9g",
              r.last.train_loss, loss);
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

static size_t reported_first_epoch;
static void note_first_epoch(const struct nncl_step_report *r, void *user) {
    (void)user;
    reported_first_epoch = r->first_epoch;
}

/* A resumed run says where it started: the result's and every step report's first_epoch is the epoch after
 * the checkpoint's (the CLI prints "(resumed)" from it), 1 for a run from the start. */
Test(pinned, a_resumed_run_reports_the_epoch_it_started_in) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    char dir[] = "/tmp/nncl_pinned_XXXXXX", ckpt[64];
    cr_assert(mkdtemp(dir));
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    struct nncl_model *m = model(be);
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 3, 3);
    o.checkpoint_path = ckpt, o.checkpoint_every = 1, o.on_step = note_first_epoch;
    struct nncl_train_result r;
    tu_ok(nncl_train(m, &ds, &o, &r), "three epochs");
    cr_assert_eq(r.first_epoch, 1);
    cr_assert_eq(reported_first_epoch, 1);
    nncl_model_free(m);
    m = model(be);
    o.epochs = 5, o.resume_from = ckpt, o.checkpoint_path = NULL;
    tu_ok(nncl_train(m, &ds, &o, &r), "resumed to five");
    cr_assert_eq(r.first_epoch, 4, "resumed after epoch 3: first_epoch %zu", r.first_epoch);
    cr_assert_eq(reported_first_epoch, 4, "the step reports' first_epoch %zu", reported_first_epoch);
    cr_assert_eq(r.epochs, 5);
    nncl_model_free(m);
    unlink(ckpt);
    cr_assert_eq(rmdir(dir), 0, "the checkpoint is the only file left");
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* The memory plan's workspace: s, x and delta of every layer at the batch's rows (3-4-2 at 3 rows). */
Test(pinned, workspace_is_three_tensors_per_layer) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    struct nncl_model *m = model(be);
    struct nncl_train_options o = plain(NNCL_OPT_SGD, 3, 1);
    struct nncl_memory_plan plan;
    tu_ok(nncl_train_plan(m, &ds, &o, &plan), "plan");
    cr_assert_eq(plan.activations, 3 * 3 * (4 + 2) * sizeof(float), "workspace %zu bytes, want %zu",
                 plan.activations, 3 * 3 * (4 + 2) * sizeof(float));
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* A BCE model predicts probabilities: the sigmoid of the same net's raw outputs (an identity-output MSE
 * model with the same weights), not the raw outputs themselves. */
Test(pinned, bce_predictions_are_the_sigmoid_of_the_outputs) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = data();
    ds.n_outputs = 1;
    for (size_t i = 0; i < ROWS; i++) ds.y[i] = (float)(i % 2);
    struct nncl_model *raw = NULL, *bce = NULL;
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = IN;
    tu_ok(nncl_parse_hidden("4:tanh", &s), "hidden");
    s.layers[s.n_layers++] = (struct nncl_layer_spec){1, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    s.loss = NNCL_LOSS_MSE;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 5, &raw), "raw");
    s.loss = NNCL_LOSS_BCE;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 9, &bce), "bce");
    float *w = params(raw);
    tu_ok(nncl_model_set_params(bce, w, nncl_model_param_count(raw)), "set_params");
    float z[ROWS], p[ROWS], want[ROWS];
    tu_ok(nncl_predict(raw, &ds, 0, z), "predict raw");
    tu_ok(nncl_predict(bce, &ds, 0, p), "predict bce");
    for (size_t i = 0; i < ROWS; i++) want[i] = (float)(1.0 / (1.0 + exp(-(double)z[i])));
    tu_assert_close(want, p, ROWS, ROWS, (struct tu_tol){1e-7, 1e-6}, "BCE predictions");
    free(w);
    nncl_model_free(raw);
    nncl_model_free(bce);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* gemm with alpha = 0 and beta = 0 writes zeros, never reading c (which may hold NaN). */
Test(pinned, gemm_with_alpha_and_beta_zero_writes_zeros) {
    struct nncl_backend *be = tu_backend("cpu");
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 1, 0, 1, 0}, nan4[4] = {NAN, NAN, NAN, NAN}, c[4];
    struct nncl_tensor ta = tu_tensor(be, 2, 3, a), tb = tu_tensor(be, 3, 2, b), tc = tu_tensor(be, 2, 2, nan4);
    tu_ok(nncl_op_gemm(be, 0, 0, 0.0f, &ta, &tb, 0.0f, &tc), "gemm");
    tu_get(&tc, c);
    for (int i = 0; i < 4; i++) cr_assert(c[i] == 0.0f, "c[%d] = %g, want 0", i, (double)c[i]);
    tu_free_all();
}
