/*
 * test_dropout.c: dropout. The Philox4x32-10 generator against its published known answers; the op's mask
 * against the generator element by element, on any CPU thread count and on the OpenCL backend bit for bit; the
 * fraction kept near 1 - p and the inverted scaling (kept values exactly x / (1 - p)); p = 0 the identity; the
 * model: no dropout outside a training step (evaluation, prediction), the backward's gradient against central
 * differences of the forward with the same (fixed) mask, the rate parsed, checked, saved and loaded.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/nncl.h"
#include "philox_impl.h"
#include "test_util.h"

/* Random123's kat_vectors for philox4x32 10: counter, key, the four output words. */
Test(dropout, philox_known_answers) {
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        nncl_philox4x32_10(kat[v], kat[v] + 4, out);
        for (int w = 0; w < 4; w++) {
            cr_assert_eq(out[w], kat[v][6 + w], "vector %d word %d: %08x, expected %08x", v, w, out[w], kat[v][6 + w]);
        }
    }
}

Test(dropout, threshold_and_scale) {
    cr_assert_eq(nncl_dropout_threshold(0.0f), 4294967296ull, "p = 0 keeps every 32-bit value");
    cr_assert_eq(nncl_dropout_threshold(0.5f), 2147483648ull);
    cr_assert_eq(nncl_dropout_threshold(0.75f), 1073741824ull);
    cr_assert_eq(nncl_dropout_scale(0.5f), 2.0f);
    cr_assert_eq(nncl_dropout_scale(0.0f), 1.0f);
    cr_assert_eq(nncl_dropout_scale(0.2f), (float)(1.0 / (1.0 - (double)0.2f)));
    for (int v = -3; v <= 3; v++) cr_assert_eq(nncl_ip_to_u32(nncl_u32_to_ip(0x80000000u + (uint32_t)v)), 0x80000000u + (uint32_t)v);
}

/* Runs dropout on `be` over rows x cols values of x (host), into y (host). */
static void run_dropout(struct nncl_backend *be, float p, uint64_t seed, uint64_t step, int layer, size_t row0,
                        size_t rows, size_t cols, const float *x, float *y) {
    struct nncl_tensor tx = tu_tensor(be, rows, cols, x), ty = tu_tensor(be, rows, cols, NULL);
    tu_ok(nncl_op_dropout(be, p, seed, step, layer, row0, &tx, &ty), "dropout");
    tu_get(&ty, y);
}

static float *random_values(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof(float));
    cr_assert(x);
    struct tu_rng rng = {seed};
    tu_fill_uniform(&rng, x, n, -2, 2);
    for (size_t i = 0; i < n; i++) x[i] = x[i] == 0.0f ? 1.0f : x[i]; /* a kept 0 would look dropped */
    return x;
}

/* Element i of the result is x[i] * scale where the generator keeps (row0 cols + i), else exactly 0; the fraction
 * kept is within 5 standard deviations of 1 - p. */
Test(dropout, cpu_mask_is_the_generators_and_keeps_1_minus_p) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t rows = 61, cols = 997, n = rows * cols, row0 = 3;
    const uint64_t seed = 0x123456789abcdefull, step = (1ull << 33) + 5;
    const float rates[] = {0.1f, 0.5f, 0.8f};
    float *x = random_values(n, 1), *y = malloc(n * sizeof(float));
    cr_assert(y);
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        const float p = rates[r], scale = nncl_dropout_scale(p);
        run_dropout(cpu, p, seed, step, 2, row0, rows, cols, x, y);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            const int keep = nncl_dropout_bits(seed, step, 2, row0 * cols + i) < nncl_dropout_threshold(p);
            const float want = keep ? x[i] * scale : 0.0f;
            cr_assert(memcmp(&y[i], &want, sizeof want) == 0, "p %g element %zu: %a, expected %a", (double)p, i,
                      (double)y[i], (double)want);
            kept += keep;
        }
        const double frac = (double)kept / (double)n, sd = sqrt((1.0 - p) * p / (double)n);
        cr_assert(fabs(frac - (1.0 - p)) < 5.0 * sd, "p %g: kept %g of the units, expected %g +- %g", (double)p, frac,
                  1.0 - p, 5.0 * sd);
    }
    free(x), free(y);
    tu_free_all();
}

/* Inverted scaling: on all-ones input every output is 0 or exactly 1 / (1 - p), their sum is kept / (1 - p), and
 * their mean is 1 (the mean of the input) up to the sampling error. */
Test(dropout, inverted_scaling_preserves_the_mean) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t n = 200003;
    const float p = 0.3f, scale = nncl_dropout_scale(p);
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    cr_assert(x && y);
    for (size_t i = 0; i < n; i++) x[i] = 1.0f;
    run_dropout(cpu, p, 99, 17, 0, 0, 1, n, x, y);
    size_t kept = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert(y[i] == 0.0f || y[i] == scale, "element %zu is %g, neither 0 nor %g", i, (double)y[i], (double)scale);
        kept += y[i] != 0.0f;
        sum += y[i];
    }
    cr_assert_eq(sum, (double)kept * (double)scale, "the sum is kept x scale exactly");
    const double sd = sqrt(p / (1.0 - p) / (double)n); /* of the mean of n values 0 or 1/(1-p) with mean 1 */
    cr_assert(fabs(sum / (double)n - 1.0) < 5.0 * sd, "mean %g, expected 1 +- %g", sum / (double)n, 5.0 * sd);
    cr_assert(kept > 0 && kept < n);
    free(x), free(y);
    tu_free_all();
}

Test(dropout, p_zero_is_the_identity) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t n = 4099;
    float *x = random_values(n, 5), *y = malloc(n * sizeof(float));
    cr_assert(y);
    x[7] = -0.0f, x[8] = 1e-40f, x[9] = -3e38f;
    run_dropout(cpu, 0.0f, 1, 2, 3, 4, 1, n, x, y);
    cr_assert(memcmp(x, y, n * sizeof(float)) == 0, "p = 0 changed a value");
    free(x), free(y);
    tu_free_all();
}

/* The mask depends on the key only: another step, layer, seed or row offset draws another mask; the same key the
 * same one; and the rows of a split batch (row0) are the rows of the whole batch. */
Test(dropout, mask_is_keyed_by_seed_step_layer_and_row) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t rows = 8, cols = 257, n = rows * cols;
    float *x = random_values(n, 2), *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    cr_assert(a && b);
    run_dropout(cpu, 0.5f, 7, 3, 1, 0, rows, cols, x, a);
    run_dropout(cpu, 0.5f, 7, 3, 1, 0, rows, cols, x, b);
    cr_assert(memcmp(a, b, n * sizeof(float)) == 0, "the same key drew another mask");
    const struct { uint64_t seed, step; int layer; } others[] = {{8, 3, 1}, {7, 4, 1}, {7, 3, 2}, {7 + (1ull << 32), 3, 1}};
    for (size_t k = 0; k < sizeof others / sizeof others[0]; k++) {
        run_dropout(cpu, 0.5f, others[k].seed, others[k].step, others[k].layer, 0, rows, cols, x, b);
        cr_assert(memcmp(a, b, n * sizeof(float)) != 0, "key %zu drew the same mask", k);
    }
    /* rows 3..7 of the batch as a part starting at row0 = 3 */
    run_dropout(cpu, 0.5f, 7, 3, 1, 3, rows - 3, cols, x + 3 * cols, b);
    cr_assert(memcmp(a + 3 * cols, b, (rows - 3) * cols * sizeof(float)) == 0, "a part's rows differ from the batch's");
    free(x), free(a), free(b);
    tu_free_all();
}

Test(dropout, mask_does_not_depend_on_the_thread_count) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t rows = 100, cols = 1001, n = rows * cols; /* above the op's threading threshold */
    float *x = random_values(n, 3), *one = malloc(n * sizeof(float)), *many = malloc(n * sizeof(float));
    cr_assert(one && many);
    tu_ok(nncl_backend_set_threads(cpu, 1), "threads 1");
    run_dropout(cpu, 0.4f, 11, 12, 5, 0, rows, cols, x, one);
    for (int t = 2; t <= 7; t += 5) {
        tu_ok(nncl_backend_set_threads(cpu, t), "threads");
        run_dropout(cpu, 0.4f, 11, 12, 5, 0, rows, cols, x, many);
        cr_assert(memcmp(one, many, n * sizeof(float)) == 0, "%d threads drew another mask than 1", t);
    }
    free(x), free(one), free(many);
    tu_free_all();
}

/* The OpenCL kernel draws the CPU reference's masks bit for bit, over shapes around the work-group size, high key
 * and step words, row offsets, in place. */
Test(dropout, opencl_mask_is_the_cpus_bit_for_bit) {
    struct nncl_backend *dev = tu_device_or_skip();
    struct nncl_backend *cpu = tu_backend("cpu");
    const struct { size_t rows, cols, row0; float p; uint64_t seed, step; int layer; } cases[] = {
        {1, 1, 0, 0.5f, 2, 0, 0},
        {7, 13, 5, 0.2f, 0xffffffff00000007ull, (1ull << 40) + 12345, 3},
        {65, 63, 0, 0.9f, 1, 77, 14},
        {300, 129, 1000, 0.5f, 0xdeadbeefull, 999999, 255},
        {1, 70001, 0, 0.05f, 42, 3, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const size_t n = cases[k].rows * cases[k].cols;
        float *x = random_values(n, 10 + k), *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        cr_assert(ref && got);
        run_dropout(cpu, cases[k].p, cases[k].seed, cases[k].step, cases[k].layer, cases[k].row0, cases[k].rows,
                    cases[k].cols, x, ref);
        run_dropout(dev, cases[k].p, cases[k].seed, cases[k].step, cases[k].layer, cases[k].row0, cases[k].rows,
                    cases[k].cols, x, got);
        for (size_t i = 0; i < n; i++) {
            cr_assert(memcmp(&ref[i], &got[i], sizeof(float)) == 0, "case %zu element %zu: cpu %a, opencl %a", k, i,
                      (double)ref[i], (double)got[i]);
        }
        /* in place, as the backward runs it on a delta */
        struct nncl_tensor t = tu_tensor(dev, cases[k].rows, cases[k].cols, x);
        tu_ok(nncl_op_dropout(dev, cases[k].p, cases[k].seed, cases[k].step, cases[k].layer, cases[k].row0, &t, &t),
              "in place");
        tu_get(&t, got);
        cr_assert(memcmp(ref, got, n * sizeof(float)) == 0, "case %zu: in place differs", k);
        free(x), free(ref), free(got);
    }
    tu_free_all();
}

Test(dropout, bad_parameters_are_refused) {
    struct nncl_backend *cpu = tu_backend("cpu");
    struct nncl_tensor x = tu_tensor(cpu, 2, 3, NULL), y = tu_tensor(cpu, 2, 3, NULL), z = tu_tensor(cpu, 3, 2, NULL);
    ASSERT_ERROR(nncl_op_dropout(cpu, 1.0f, 1, 0, 0, 0, &x, &y), NNCL_ERR_INVALID_ARG, "dropout", "[0, 1)");
    ASSERT_ERROR(nncl_op_dropout(cpu, -0.1f, 1, 0, 0, 0, &x, &y), NNCL_ERR_INVALID_ARG, "dropout", "[0, 1)");
    ASSERT_ERROR(nncl_op_dropout(cpu, NAN, 1, 0, 0, 0, &x, &y), NNCL_ERR_NUMERIC, "dropout");
    ASSERT_ERROR(nncl_op_dropout(cpu, 0.5f, 1, 0, 256, 0, &x, &y), NNCL_ERR_INVALID_ARG, "layer");
    ASSERT_ERROR(nncl_op_dropout(cpu, 0.5f, 1, 1ull << 56, 0, 0, &x, &y), NNCL_ERR_INVALID_ARG, "step");
    ASSERT_ERROR(nncl_op_dropout(cpu, 0.5f, 1, 0, 0, 0, &x, &z), NNCL_ERR_SHAPE, "dropout");
    tu_free_all();
}

/* ---- the model ------------------------------------------------------------------------------------------ */

static struct nncl_model_spec spec_of(const char *hidden, size_t in, size_t out, enum nncl_loss loss) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = in;
    tu_ok(nncl_parse_hidden(hidden, &s), hidden);
    s.layers[s.n_layers].units = out;
    s.layers[s.n_layers].act = NNCL_ACT_IDENTITY;
    s.n_layers++;
    s.loss = loss;
    return s;
}

Test(dropout, hidden_spec_parses_the_rate_and_refuses_bad_ones) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    tu_ok(nncl_parse_hidden("256:relu:dropout=0.2,8:elu:1.5:dropout=0.5,4:dropout=0.25,3:tanh", &s), "parse");
    cr_assert_eq(s.n_layers, 4);
    cr_assert_eq(s.layers[0].act, NNCL_ACT_RELU);
    cr_assert_eq(s.layers[0].dropout, 0.2f);
    cr_assert_eq(s.layers[1].act, NNCL_ACT_ELU);
    cr_assert_eq(s.layers[1].act_param, 1.5f, "the activation parameter still parses before the rate");
    cr_assert_eq(s.layers[1].dropout, 0.5f);
    cr_assert_eq(s.layers[2].act, NNCL_ACT_TANH, "units alone still mean tanh");
    cr_assert_eq(s.layers[2].dropout, 0.25f);
    cr_assert_eq(s.layers[3].dropout, 0.0f, "no rate: no dropout");
    const char *bad[][2] = {{"4:relu:dropout=1.5", "[0, 1)"}, {"4:relu:dropout=1", "[0, 1)"},
                            {"4:relu:dropout=-0.1", "[0, 1)"}, {"4:relu:dropout=", "dropout"},
                            {"4:relu:dropout=0.2:0.5", "last"},  {"4:relu:dropout=x", "dropout"},
                            {"4:relu,dropout=0.2", "dropout"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&s, 0, sizeof s);
        ASSERT_ERROR(nncl_parse_hidden(bad[i][0], &s), NNCL_ERR_FORMAT, "--hidden", bad[i][1]);
    }
    /* the output layer takes none */
    s = spec_of("4:relu", 3, 2, NNCL_LOSS_XENT);
    s.layers[1].dropout = 0.5f;
    ASSERT_ERROR(nncl_model_spec_check(&s), NNCL_ERR_INVALID_ARG, "output layer", "dropout");
}

/* x (n x 3) and one-hot targets (n x 2) as a data set and as CPU tensors. */
struct toy {
    struct nncl_dataset ds;
    struct nncl_tensor x, t;
};

static struct toy make_toy(struct nncl_backend *be, size_t n) {
    struct toy d;
    memset(&d, 0, sizeof d);
    d.ds.n = n, d.ds.n_inputs = 3, d.ds.n_outputs = 2, d.ds.task = NNCL_TASK_CLASSIFICATION;
    d.ds.x = malloc(n * 3 * sizeof(float));
    d.ds.y = calloc(n * 2, sizeof(float));
    cr_assert(d.ds.x && d.ds.y);
    struct tu_rng rng = {77};
    tu_fill_uniform(&rng, d.ds.x, n * 3, -1, 1);
    for (size_t i = 0; i < n; i++) d.ds.y[i * 2 + (d.ds.x[i * 3] > 0.0f)] = 1.0f;
    snprintf(d.ds.source, sizeof d.ds.source, "generated");
    d.x = tu_tensor(be, n, 3, d.ds.x);
    d.t = tu_tensor(be, n, 2, d.ds.y);
    return d;
}

/* The mean loss of one forward pass in the model's current dropout state. */
static double forward_loss(struct nncl_model *m, const struct toy *d, const struct nncl_tensor *loss_rows) {
    tu_ok(nncl_model_forward(m, &d->x, &d->t, loss_rows, NULL), "forward");
    float l[64];
    tu_get(loss_rows, l);
    double sum = 0;
    for (size_t i = 0; i < loss_rows->rows; i++) sum += l[i];
    return sum / (double)loss_rows->rows;
}

/* forward_loss as a tu_loss_fn (user: a struct toy_loss), for tu_central_differences. */
struct toy_loss {
    const struct toy *d;
    const struct nncl_tensor *loss_rows;
};
static double toy_loss_of(struct nncl_model *m, void *user) {
    const struct toy_loss *at = user;
    return forward_loss(m, at->d, at->loss_rows);
}

/* With dropout on, the mask is fixed by (seed, step, layer, element): the backward's gradient is the gradient of
 * that forward, so central differences of the forward (same step, same mask) match it. */
Test(dropout, gradient_matches_finite_differences_with_a_fixed_mask) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t n = 9;
    struct toy d = make_toy(cpu, n);
    struct nncl_tensor loss_rows = tu_tensor(cpu, n, 1, NULL);
    struct nncl_model_spec spec = spec_of("6:tanh:dropout=0.4,5:elu:dropout=0.3", 3, 2, NNCL_LOSS_XENT);
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(cpu, &spec, NNCL_INIT_XAVIER, 3, &m), "init");
    tu_ok(nncl_model_set_dropout(m, 1, 1234, 6, 0), "dropout on");
    const double dropped = forward_loss(m, &d, &loss_rows);
    tu_ok(nncl_model_backward(m, &d.x, &d.t), "backward");
    const size_t p = nncl_model_param_count(m);
    float *g = malloc(p * sizeof(float)), *num = malloc(p * sizeof(float));
    cr_assert(g && num);
    struct nncl_tensor gt = nncl_model_grads(m);
    tu_get(&gt, g);
    struct toy_loss at = {&d, &loss_rows};
    tu_central_differences(m, 1e-2f, toy_loss_of, &at, num);
    double sum_abs = 0;
    for (size_t i = 0; i < p; i++) sum_abs += fabs(g[i]);
    cr_assert(sum_abs > 1e-3, "the gradient is trivially zero");
    tu_assert_close(num, g, p, 0, (struct tu_tol){2e-3, 2e-2}, "gradient with dropout");
    /* and it is another function than the undropped one, with another gradient */
    tu_ok(nncl_model_set_dropout(m, 0, 0, 0, 0), "dropout off");
    cr_assert(fabs(forward_loss(m, &d, &loss_rows) - dropped) > 1e-6, "dropout changed nothing");
    tu_ok(nncl_model_backward(m, &d.x, &d.t), "backward");
    tu_get(&gt, num);
    double diff = 0;
    for (size_t i = 0; i < p; i++) diff = fmax(diff, fabs((double)num[i] - g[i]));
    cr_assert(diff > 1e-4, "the gradient without dropout is the gradient with it (max difference %g)", diff);
    free(g), free(num);
    nncl_model_free(m);
    tu_free_all();
}

/* Evaluation and prediction never drop: a model with rates gives the outputs of the same weights without them,
 * even when dropout was left on; a training step's forward does drop. */
Test(dropout, eval_and_predict_do_not_drop) {
    struct nncl_backend *cpu = tu_backend("cpu");
    const size_t n = 16;
    struct toy d = make_toy(cpu, n);
    struct nncl_model_spec with = spec_of("8:relu:dropout=0.5", 3, 2, NNCL_LOSS_XENT);
    struct nncl_model_spec without = spec_of("8:relu", 3, 2, NNCL_LOSS_XENT);
    struct nncl_model *a = NULL, *b = NULL;
    tu_ok(nncl_model_init(cpu, &with, NNCL_INIT_UNIFORM, 9, &a), "init");
    tu_ok(nncl_model_init(cpu, &without, NNCL_INIT_UNIFORM, 9, &b), "init");
    float pa[32], pb[32];
    tu_ok(nncl_model_set_dropout(a, 1, 1, 0, 0), "left on");
    tu_ok(nncl_predict(a, &d.ds, 0, pa), "predict");
    tu_ok(nncl_predict(b, &d.ds, 0, pb), "predict");
    cr_assert(memcmp(pa, pb, sizeof pa) == 0, "predict dropped units");
    double la, lb;
    tu_ok(nncl_model_set_dropout(a, 1, 1, 0, 0), "left on");
    tu_ok(nncl_evaluate(a, &d.ds, 0, &la, NULL), "evaluate");
    tu_ok(nncl_evaluate(b, &d.ds, 0, &lb, NULL), "evaluate");
    cr_assert_eq(la, lb, "evaluate dropped units");
    struct nncl_tensor loss_rows = tu_tensor(cpu, n, 1, NULL);
    tu_ok(nncl_model_set_dropout(a, 1, 1, 0, 0), "on");
    cr_assert(forward_loss(a, &d, &loss_rows) != lb, "a training step's forward did not drop");
    nncl_model_free(a), nncl_model_free(b);
    tu_free_all();
}

/* Training with rate 0 is training without dropout, bit for bit (the seed's examples and the zero-init symmetry
 * tests run unchanged); with a rate it is another run, the same on every repeat. */
Test(dropout, rate_zero_trains_as_before_and_a_rate_trains_reproducibly) {
    struct nncl_backend *cpu = tu_backend("cpu");
    struct toy d = make_toy(cpu, 40);
    struct nncl_train_options o = nncl_train_defaults();
    o.batch_size = 8, o.epochs = 3, o.optimizer = NNCL_OPT_SGD, o.lr = 0.1f, o.verify_gemm = 0;
    const char *hidden[] = {"7:tanh,5:relu", "7:tanh:dropout=0,5:relu", "7:tanh:dropout=0.3,5:relu",
                            "7:tanh:dropout=0.3,5:relu"};
    float w[4][128];
    size_t p = 0;
    for (int k = 0; k < 4; k++) {
        struct nncl_model_spec s = spec_of(hidden[k], 3, 2, NNCL_LOSS_XENT);
        struct nncl_model *m = NULL;
        tu_ok(nncl_model_init(cpu, &s, NNCL_INIT_UNIFORM, 4, &m), "init");
        struct nncl_train_result r;
        tu_ok(nncl_train(m, &d.ds, &o, &r), "train");
        p = nncl_model_param_count(m);
        cr_assert(p <= 128);
        tu_ok(nncl_model_get_params(m, w[k], p), "params");
        nncl_model_free(m);
    }
    cr_assert(memcmp(w[0], w[1], p * sizeof(float)) == 0, "dropout=0 changed training");
    cr_assert(memcmp(w[2], w[3], p * sizeof(float)) == 0, "a dropout run is not reproducible");
    cr_assert(memcmp(w[0], w[2], p * sizeof(float)) != 0, "dropout=0.3 trained as no dropout");
    tu_free_all();
}

/* The rate is part of the model file's architecture; a file without it (written with rate 0, or before dropout
 * existed) loads with rate 0. */
Test(dropout, rate_survives_save_and_load) {
    struct nncl_backend *cpu = tu_backend("cpu");
    char dir[] = "/tmp/nncl_dropout_XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    const char *hidden[] = {"6:relu:dropout=0.35,4:tanh", "6:relu,4:tanh"};
    const float want[][2] = {{0.35f, 0.0f}, {0.0f, 0.0f}};
    for (int k = 0; k < 2; k++) {
        struct nncl_model_spec s = spec_of(hidden[k], 3, 2, NNCL_LOSS_XENT);
        struct nncl_model *m = NULL, *back = NULL;
        tu_ok(nncl_model_init(cpu, &s, NNCL_INIT_UNIFORM, 1, &m), "init");
        tu_ok(nncl_model_save(m, path), "save");
        tu_ok(nncl_model_load(cpu, path, &back), "load");
        for (int l = 0; l < 2; l++) cr_assert_eq(nncl_model_get_spec(back)->layers[l].dropout, want[k][l]);
        cr_assert_eq(nncl_model_get_spec(back)->layers[2].dropout, 0.0f);
        /* the file names the rate only where there is one */
        FILE *f = fopen(path, "rb");
        cr_assert(f);
        char head[4096] = "";
        size_t got = fread(head, 1, sizeof head - 1, f);
        fclose(f);
        head[got] = '\0';
        for (size_t i = 0; i < got; i++) head[i] = head[i] ? head[i] : ' ';
        cr_assert_eq(strstr(head, "dropout") != NULL, k == 0, "model %d: \"dropout\" in the header: %d", k, k == 0);
        nncl_model_free(m), nncl_model_free(back);
    }
    unlink(path);
    rmdir(dir);
    tu_free_all();
}
