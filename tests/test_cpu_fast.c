/*
 * test_cpu_fast.c: the CPU backend's fast element-wise ops against their plain loops, bit for bit, at 1,
 * 2 and 3 threads; and a short training run that must give the same parameters, bit for bit, for any
 * thread count (the products and every sum keep one order whatever the split).
 *
 * Shapes: one element, primes, and sizes above CPU_PARALLEL_MIN so the threaded split really runs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_impl.h"
#include "nncl/nncl_train.h"
#include "test_util.h"

static struct nncl_backend *be;

static void setup(void) { be = tu_backend("cpu"); }
static void teardown(void) { tu_free_all(); }

TestSuite(cpu_fast, .init = setup, .fini = teardown);

static const size_t shapes[][2] = {{1, 1}, {7, 13}, {128, 10}, {131, 257}, {256, 130}};
static const int thread_counts[] = {1, 2, 3};

/* Random tensors t[0..n) of the given shapes, written by fill; a copy of each in `saved`. */
static struct nncl_tensor random_tensor(size_t rows, size_t cols, float lo, float hi, uint64_t seed) {
    float *x = malloc(rows * cols * sizeof *x);
    cr_assert(x);
    struct tu_rng rng = {seed};
    tu_fill_uniform(&rng, x, rows * cols, lo, hi);
    struct nncl_tensor t = tu_tensor(be, rows, cols, x);
    free(x);
    return t;
}

static float *snapshot(const struct nncl_tensor *t) {
    float *x = malloc(nncl_tensor_count(t) * sizeof *x);
    cr_assert(x);
    tu_get(t, x);
    return x;
}

static void restore(const struct nncl_tensor *t, const float *x) { tu_ok(nncl_tensor_set(t, x, nncl_tensor_count(t)), "set"); }

/*
 * Runs `call` through the plain loop and through the backend's op at each thread count, from the same
 * inputs (the written tensors, mask `written`, are restored before each run), and compares every written
 * tensor byte for byte.
 */
static void check_call(nncl_op_fn plain, struct nncl_op_call *call, int n_tensors, unsigned written, const char *what) {
    float *before[NNCL_OP_MAX_TENSORS] = {0}, *want[NNCL_OP_MAX_TENSORS] = {0};
    for (int i = 0; i < n_tensors; i++) before[i] = snapshot(&call->t[i]);
    tu_ok(plain(be, call), "plain");
    for (int i = 0; i < n_tensors; i++) want[i] = snapshot(&call->t[i]);
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++) {
        for (int i = 0; i < n_tensors; i++) restore(&call->t[i], before[i]);
        tu_ok(nncl_backend_set_threads(be, thread_counts[k]), "threads");
        tu_ok(nncl_op_run(be, call), what);
        for (int i = 0; i < n_tensors; i++) {
            if (!(written >> i & 1)) continue;
            float *got = snapshot(&call->t[i]);
            const size_t n = nncl_tensor_count(&call->t[i]);
            cr_assert(memcmp(got, want[i], n * sizeof *got) == 0, "%s (%zux%zu), %d threads: tensor %d differs from the "
                      "plain loop", what, call->t[0].rows, call->t[0].cols, thread_counts[k], i);
            free(got);
        }
    }
    for (int i = 0; i < n_tensors; i++) free(before[i]), free(want[i]);
}

Test(cpu_fast, activations_match_plain_loops) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t r = shapes[s][0], c = shapes[s][1];
        for (int act = 0; act < NNCL_ACT_COUNT; act++) {
            const float a = nncl_act_default_param((enum nncl_act)act);
            struct nncl_tensor x = random_tensor(r, c, -3, 3, 1 + s), y = random_tensor(r, c, -1, 1, 2 + s);
            struct nncl_tensor dy = random_tensor(r, c, -1, 1, 3 + s), dx = random_tensor(r, c, -1, 1, 4 + s);
            struct nncl_tensor bias = random_tensor(1, c, -1, 1, 5 + s);
            struct nncl_op_call fwd = {.op = NNCL_OP_ACT_FWD, .t = {x, y}, .p = {a}, .ip = {act}};
            check_call(cpu_act_fwd_plain, &fwd, 2, 2u, "act_fwd");
            struct nncl_op_call inplace = {.op = NNCL_OP_ACT_FWD, .t = {y, y}, .p = {a}, .ip = {act}};
            check_call(cpu_act_fwd_plain, &inplace, 1, 1u, "act_fwd in place");
            struct nncl_op_call bfwd = {.op = NNCL_OP_BIAS_ACT_FWD, .t = {x, bias, y}, .p = {a}, .ip = {act}};
            check_call(cpu_bias_act_fwd_plain, &bfwd, 3, 5u, "bias_act_fwd");
            for (int b = 0; b < 2; b++) {
                const float beta = b ? 0.5f : 0.0f;
                struct nncl_op_call bwd = {.op = NNCL_OP_ACT_BWD, .t = {x, y, dy, dx}, .p = {a, beta}, .ip = {act}};
                check_call(cpu_act_bwd_plain, &bwd, 4, 8u, "act_bwd");
                struct nncl_op_call bwd_in = {.op = NNCL_OP_ACT_BWD, .t = {x, y, dx, dx}, .p = {a, beta}, .ip = {act}};
                check_call(cpu_act_bwd_plain, &bwd_in, 4, 8u, "act_bwd in place");
            }
        }
    }
}

Test(cpu_fast, bias_gather_and_updates_match_plain_loops) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t r = shapes[s][0], c = shapes[s][1];
        struct nncl_tensor y = random_tensor(r, c, -1, 1, 10 + s), bias = random_tensor(1, c, -1, 1, 11 + s);
        struct nncl_op_call add = {.op = NNCL_OP_BIAS_ADD, .t = {y, bias}};
        check_call(cpu_bias_add_plain, &add, 2, 1u, "bias_add");
        for (int b = 0; b < 2; b++) {
            struct nncl_op_call grad = {.op = NNCL_OP_BIAS_GRAD, .t = {y, bias}, .p = {0.25f, b ? 0.5f : 0.0f}};
            check_call(cpu_bias_grad_plain, &grad, 2, 2u, "bias_grad");
        }
        /* gather: rows in a shuffled order, one invalid index (a NaN row) when there is room */
        const size_t n_src = r + 3;
        struct nncl_tensor src = random_tensor(n_src, c, -1, 1, 12 + s), dst = random_tensor(r, c, -1, 1, 13 + s);
        float *idx = malloc(r * sizeof *idx);
        cr_assert(idx);
        for (size_t i = 0; i < r; i++) idx[i] = (float)((i * 7 + 3) % n_src);
        if (r > 2) idx[1] = (float)n_src, idx[2] = 0.5f;
        struct nncl_tensor ti = tu_tensor(be, r, 1, idx);
        free(idx);
        struct nncl_op_call gather = {.op = NNCL_OP_GATHER_ROWS, .t = {src, ti, dst}};
        check_call(cpu_gather_rows_plain, &gather, 3, 4u, "gather_rows");
        struct nncl_tensor w = random_tensor(r, c, -1, 1, 14 + s), g = random_tensor(r, c, -1, 1, 15 + s);
        struct nncl_tensor v = random_tensor(r, c, -1, 1, 16 + s);
        struct nncl_op_call sgd = {.op = NNCL_OP_SGD_UPDATE, .t = {w, g}, .p = {0.1f, 0.01f}};
        check_call(cpu_sgd_update_plain, &sgd, 2, 1u, "sgd_update");
        struct nncl_op_call mom = {.op = NNCL_OP_MOMENTUM_UPDATE, .t = {w, g, v}, .p = {0.1f, 0.9f, 0.01f}};
        check_call(cpu_momentum_update_plain, &mom, 3, 5u, "momentum_update");
        struct nncl_tensor z = random_tensor(r, c, -30, 30, 17 + s), t = random_tensor(r, c, 0, 1, 18 + s);
        struct nncl_tensor p = random_tensor(r, c, 0, 1, 19 + s), loss = random_tensor(r, 1, 0, 1, 20 + s);
        struct nncl_op_call xent = {.op = NNCL_OP_SOFTMAX_XENT_FWD, .t = {z, t, p, loss}};
        check_call(cpu_softmax_xent_fwd_plain, &xent, 4, 12u, "softmax_xent_fwd");
    }
}

/* Small GEMMs through the backend against the plain triple loop is test_cpu_gemm's job; here: a few
 * training steps of a net with a wide layer and a 10-unit output, at 1, 2 and 3 threads, must end with
 * the same parameters bit for bit. */
Test(cpu_fast, training_is_bit_identical_for_any_thread_count) {
    const size_t n = 300, inputs = 97;
    float *x = malloc(n * inputs * sizeof *x), *y = calloc(n * 10, sizeof *y);
    cr_assert(x && y);
    struct tu_rng rng = {7};
    tu_fill_uniform(&rng, x, n * inputs, 0, 1);
    for (size_t i = 0; i < n; i++) y[i * 10 + (i * 3) % 10] = 1.0f;
    struct nncl_dataset ds = {.x = x, .y = y, .n = n, .n_inputs = inputs, .n_outputs = 10,
                              .task = NNCL_TASK_CLASSIFICATION};
    float *want = NULL;
    size_t n_params = 0;
    for (size_t k = 0; k < sizeof thread_counts / sizeof thread_counts[0]; k++) {
        struct nncl_backend *b = tu_backend("cpu");
        tu_ok(nncl_backend_set_threads(b, thread_counts[k]), "threads");
        struct nncl_model_spec spec = {.n_inputs = inputs, .loss = NNCL_LOSS_XENT};
        tu_ok(nncl_parse_hidden("300:relu,64:tanh", &spec), "hidden");
        spec.layers[spec.n_layers++] = (struct nncl_layer_spec){10, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
        struct nncl_model *m = NULL;
        tu_ok(nncl_model_init(b, &spec, NNCL_INIT_HE, 3, &m), "model");
        for (int opt = 0; opt < NNCL_OPT_COUNT; opt++) {
            struct nncl_train_options o = nncl_train_defaults();
            o.batch_size = 128, o.epochs = 2, o.optimizer = (enum nncl_optimizer)opt, o.lr = 0.05f;
            if (o.optimizer == NNCL_OPT_IRPROP) o.batch_size = 0; /* a full-batch optimizer */
            tu_ok(nncl_train(m, &ds, &o, NULL), "train");
        }
        struct nncl_tensor params = nncl_model_params(m);
        float *got = snapshot(&params);
        if (!want) {
            want = got, n_params = nncl_tensor_count(&params);
        } else {
            cr_assert_eq(nncl_tensor_count(&params), n_params);
            cr_assert(memcmp(got, want, n_params * sizeof *got) == 0,
                      "parameters after training differ between 1 and %d threads", thread_counts[k]);
            free(got);
        }
        nncl_model_free(m);
    }
    free(want);
    free(x);
    free(y);
}
