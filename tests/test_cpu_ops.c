/*
 * test_cpu_ops.c: every op of the CPU reference against values computed by hand, including the
 * seed lecture's worked examples (softmax of (5, 2, -1, 3), the NN1/NN2 table of classification error,
 * mean squared error and cross-entropy, and the gradients of f(x, y, z) = (x + y) z).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "check/check.h"
#include "test_util.h"

static struct nncl_backend *be;

static void setup(void) { be = tu_backend("cpu"); }
static void teardown(void) { tu_free_all(); }

TestSuite(cpu_ops, .init = setup, .fini = teardown);

static const struct tu_tol exact = {1e-6, 1e-6};

#define ASSERT_TENSOR(t, ...)                                                                                 \
    do {                                                                                                     \
        const float want_[] = {__VA_ARGS__};                                                                 \
        float got_[sizeof want_ / sizeof want_[0]];                                                          \
        cr_assert_eq(nncl_tensor_count(&(t)), sizeof want_ / sizeof want_[0], "element count of " #t);       \
        tu_get(&(t), got_);                                                                                  \
        tu_assert_close(want_, got_, sizeof want_ / sizeof want_[0], (t).cols, exact, #t);                   \
    } while (0)

Test(cpu_ops, gemm_all_transposes_alpha_beta) {
    /* A = [1 2 3; 4 5 6] (2x3), B = [1 0; 0 1; 1 1] (3x2): A B = [4 5; 10 11] */
    const float a[] = {1, 2, 3, 4, 5, 6}, at[] = {1, 4, 2, 5, 3, 6};
    const float b[] = {1, 0, 0, 1, 1, 1}, bt[] = {1, 0, 1, 0, 1, 1};
    struct nncl_tensor ta = tu_tensor(be, 2, 3, a), tat = tu_tensor(be, 3, 2, at);
    struct nncl_tensor tb = tu_tensor(be, 3, 2, b), tbt = tu_tensor(be, 2, 3, bt);
    const float c0[] = {1, 1, 1, 1};
    for (int trans_a = 0; trans_a < 2; trans_a++) {
        for (int trans_b = 0; trans_b < 2; trans_b++) {
            struct nncl_tensor c = tu_tensor(be, 2, 2, c0);
            /* c = 2 A B + 0.5 c */
            tu_ok(nncl_op_gemm(be, trans_a, trans_b, 2.0f, trans_a ? &tat : &ta, trans_b ? &tbt : &tb, 0.5f, &c),
                  "gemm");
            ASSERT_TENSOR(c, 8.5f, 10.5f, 20.5f, 22.5f);
        }
    }
}

Test(cpu_ops, gemm_beta_zero_ignores_nan) {
    const float a[] = {2}, b[] = {3}, c0[] = {NAN};
    struct nncl_tensor ta = tu_tensor(be, 1, 1, a), tb = tu_tensor(be, 1, 1, b), tc = tu_tensor(be, 1, 1, c0);
    tu_ok(nncl_op_gemm(be, 0, 0, 1.0f, &ta, &tb, 0.0f, &tc), "gemm");
    ASSERT_TENSOR(tc, 6.0f);
}

Test(cpu_ops, bias_add_and_grad) {
    const float y0[] = {1, 2, 3, 4, 5, 6}, bias[] = {10, 20, 30}, db0[] = {1, 1, 1};
    struct nncl_tensor y = tu_tensor(be, 2, 3, y0), b = tu_tensor(be, 1, 3, bias), db = tu_tensor(be, 1, 3, db0);
    tu_ok(nncl_op_bias_add(be, &y, &b), "bias_add");
    ASSERT_TENSOR(y, 11, 22, 33, 14, 25, 36);
    /* column sums of y0 are (5, 7, 9); db = 2 sums + 3 db */
    struct nncl_tensor dy = tu_tensor(be, 2, 3, y0);
    tu_ok(nncl_op_bias_grad(be, 2.0f, &dy, 3.0f, &db), "bias_grad");
    ASSERT_TENSOR(db, 13, 17, 21);
}

/* The fused bias + activation is bias_add then act_fwd, bit for bit, for every activation; s keeps s + b. */
Test(cpu_ops, bias_act_fwd_is_bias_add_then_act_fwd) {
    const float s0[] = {-2.0f, -0.5f, 0.25f, 0.5f, 1.5f, 3.0f}, bias[] = {0.75f, -1.25f, 0.5f};
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        const float a = nncl_act_default_param((enum nncl_act)act);
        struct nncl_tensor s = tu_tensor(be, 2, 3, s0), b = tu_tensor(be, 1, 3, bias), y = tu_tensor(be, 2, 3, NULL);
        struct nncl_tensor s2 = tu_tensor(be, 2, 3, s0), y2 = tu_tensor(be, 2, 3, NULL);
        tu_ok(nncl_op_bias_act_fwd(be, (enum nncl_act)act, a, &s, &b, &y), "bias_act_fwd");
        tu_ok(nncl_op_bias_add(be, &s2, &b), "bias_add");
        tu_ok(nncl_op_act_fwd(be, (enum nncl_act)act, a, &s2, &y2), "act_fwd");
        float got_s[6], got_y[6], want_s[6], want_y[6];
        tu_get(&s, got_s), tu_get(&y, got_y), tu_get(&s2, want_s), tu_get(&y2, want_y);
        cr_assert(memcmp(got_s, want_s, sizeof got_s) == 0, "%s: s differs from bias_add", nncl_act_name(act));
        cr_assert(memcmp(got_y, want_y, sizeof got_y) == 0, "%s: y differs from act_fwd", nncl_act_name(act));
        cr_assert_float_eq(got_s[0], -1.25f, 0.0f, "s holds s + b");
    }
}

/* Forward and derivative of every activation at x = -2, -0.5, 0.5, 2 against the closed forms of the
 * float64 oracle (check_act_f, check_act_d), in double. */
Test(cpu_ops, activations_forward_and_backward) {
    const float xs[] = {-2.0f, -0.5f, 0.5f, 2.0f};
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        const float a = act == NNCL_ACT_ELU ? 0.7f : nncl_act_default_param((enum nncl_act)act);
        float want_y[4], want_d[4];
        for (int i = 0; i < 4; i++) {
            const double x = xs[i];
            const double y = check_act_f((enum nncl_act)act, a, x), d = check_act_d((enum nncl_act)act, a, x, y);
            want_y[i] = (float)y;
            want_d[i] = (float)(3.0 * d + 0.5); /* dy = 3, beta = 1 on dx pre-filled with 0.5 */
        }
        const float threes[] = {3, 3, 3, 3}, halves[] = {0.5f, 0.5f, 0.5f, 0.5f};
        struct nncl_tensor x = tu_tensor(be, 1, 4, xs), y = tu_tensor(be, 1, 4, NULL);
        struct nncl_tensor dy = tu_tensor(be, 1, 4, threes), dx = tu_tensor(be, 1, 4, halves);
        tu_ok(nncl_op_act_fwd(be, (enum nncl_act)act, a, &x, &y), "act_fwd");
        tu_ok(nncl_op_act_bwd(be, (enum nncl_act)act, a, &x, &y, &dy, 1.0f, &dx), "act_bwd");
        float got_y[4], got_d[4];
        tu_get(&y, got_y);
        tu_get(&dx, got_d);
        tu_assert_close(want_y, got_y, 4, 4, exact, nncl_act_name((enum nncl_act)act));
        tu_assert_close(want_d, got_d, 4, 4, exact, nncl_act_name((enum nncl_act)act));
    }
}

Test(cpu_ops, leaky_relu_default_slope_is_a_tenth) {
    cr_assert_float_eq(nncl_act_default_param(NNCL_ACT_LEAKY_RELU), 0.1f, 1e-9);
    cr_assert_float_eq(nncl_act_default_param(NNCL_ACT_ELU), 1.0f, 1e-9);
    enum nncl_act act;
    tu_ok(nncl_act_from_name("tanh", &act), "act_from_name");
    cr_assert_eq(act, NNCL_ACT_TANH);
    cr_assert_eq(nncl_act_from_name("swish", &act), NNCL_ERR_INVALID_ARG);
}

/* The seed: z = (5, 2, -1, 3) gives y = (0.842, 0.042, 0.002, 0.114). */
Test(cpu_ops, softmax_seed_example) {
    const float z[] = {5, 2, -1, 3};
    struct nncl_tensor x = tu_tensor(be, 1, 4, z), y = tu_tensor(be, 1, 4, NULL);
    tu_ok(nncl_op_softmax_fwd(be, &x, &y), "softmax_fwd");
    float got[4];
    tu_get(&y, got);
    const float want[] = {0.842f, 0.042f, 0.002f, 0.114f};
    tu_assert_close(want, got, 4, 4, (struct tu_tol){5e-4, 0}, "softmax(5, 2, -1, 3) to 3 decimals");
}

Test(cpu_ops, softmax_backward_is_jacobian_product) {
    /* y = (0.5, 0.25, 0.25), dy = (1, 0, 0): dx = y * (dy - <dy, y>) = (0.25, -0.125, -0.125) */
    const float y0[] = {0.5f, 0.25f, 0.25f}, dy0[] = {1, 0, 0}, nan3[] = {NAN, NAN, NAN};
    struct nncl_tensor y = tu_tensor(be, 1, 3, y0), dy = tu_tensor(be, 1, 3, dy0), dx = tu_tensor(be, 1, 3, nan3);
    tu_ok(nncl_op_softmax_bwd(be, &y, &dy, 0.0f, &dx), "softmax_bwd");
    ASSERT_TENSOR(dx, 0.25f, -0.125f, -0.125f);
}

/*
 * The seed's comparison of two networks on three examples (dog, cat, dog):
 *            classification error   MSE    cross-entropy
 *   NN1            1/3              0.25       0.38
 *   NN2            1/3              0.71       1.06
 */
static void seed_table(const float *pred, float want_err, float want_mse, float want_xent) {
    const float target[] = {1, 0, 0, 1, 1, 0};
    struct nncl_tensor p = tu_tensor(be, 3, 2, pred), t = tu_tensor(be, 3, 2, target);
    struct nncl_tensor rows = tu_tensor(be, 3, 1, NULL), total = tu_tensor(be, 1, 1, NULL);
    struct nncl_tensor logits = tu_tensor(be, 3, 2, NULL), prob = tu_tensor(be, 3, 2, NULL);

    tu_ok(nncl_op_class_error(be, &p, &t, &rows), "class_error");
    tu_ok(nncl_op_sum(be, 1.0f / 3, &rows, 0.0f, &total), "sum");
    cr_assert_float_eq(tu_get1(&total), want_err, 1e-6, "classification error");

    tu_ok(nncl_op_mse_fwd(be, &p, &t, &rows), "mse_fwd");
    tu_ok(nncl_op_sum(be, 1.0f / 3, &rows, 0.0f, &total), "sum");
    cr_assert_float_eq(tu_get1(&total), want_mse, 5e-3, "mean squared error");

    /* Cross-entropy through the fused op: logits log(p) have softmax p because each row sums to 1. */
    float lp[6];
    for (int i = 0; i < 6; i++) lp[i] = logf(pred[i]);
    tu_ok(nncl_tensor_set(&logits, lp, 6), "set logits");
    tu_ok(nncl_op_softmax_xent_fwd(be, &logits, &t, &prob, &rows), "softmax_xent_fwd");
    tu_ok(nncl_op_sum(be, 1.0f / 3, &rows, 0.0f, &total), "sum");
    cr_assert_float_eq(tu_get1(&total), want_xent, 5e-3, "cross-entropy");
    float got_p[6];
    tu_get(&prob, got_p);
    tu_assert_close(pred, got_p, 6, 2, (struct tu_tol){1e-6, 1e-5}, "softmax(log p) = p");
}

Test(cpu_ops, seed_nn1_table) {
    const float nn1[] = {0.9f, 0.1f, 0.1f, 0.9f, 0.4f, 0.6f};
    seed_table(nn1, 1.0f / 3, 0.25f, 0.38f);
}

Test(cpu_ops, seed_nn2_table) {
    const float nn2[] = {0.6f, 0.4f, 0.3f, 0.7f, 0.1f, 0.9f};
    seed_table(nn2, 1.0f / 3, 0.71f, 1.06f);
}

/* f(x, y, z) = (x + y) z at (-2, 5, -4): df/dx = -4, df/dy = -4, df/dz = 3, through backward ops only. */
Test(cpu_ops, seed_backprop_example) {
    const float xv[] = {-2}, yv[] = {5}, zv[] = {-4}, one[] = {1};
    struct nncl_tensor x = tu_tensor(be, 1, 1, xv), y = tu_tensor(be, 1, 1, yv), z = tu_tensor(be, 1, 1, zv);
    struct nncl_tensor q = tu_tensor(be, 1, 1, NULL), f = tu_tensor(be, 1, 1, NULL);
    struct nncl_tensor df = tu_tensor(be, 1, 1, one), dq = tu_tensor(be, 1, 1, NULL);
    struct nncl_tensor dx = tu_tensor(be, 1, 1, NULL), dy = tu_tensor(be, 1, 1, NULL), dz = tu_tensor(be, 1, 1, NULL);
    /* forward: q = x + y (copy, then y as a bias), f = q z (gemm) */
    tu_ok(nncl_op_copy(be, &x, &q), "copy");
    tu_ok(nncl_op_bias_add(be, &q, &y), "bias_add");
    tu_ok(nncl_op_gemm(be, 0, 0, 1.0f, &q, &z, 0.0f, &f), "gemm");
    cr_assert_float_eq(tu_get1(&f), -12.0f, 1e-6);
    /* backward: dq = df z^T, dz = q^T df; through q = x + y: dx = dq (identity), dy = bias_grad(dq) */
    tu_ok(nncl_op_gemm(be, 0, 1, 1.0f, &df, &z, 0.0f, &dq), "gemm dq");
    tu_ok(nncl_op_gemm(be, 1, 0, 1.0f, &q, &df, 0.0f, &dz), "gemm dz");
    tu_ok(nncl_op_act_bwd(be, NNCL_ACT_IDENTITY, 0.0f, &q, &q, &dq, 0.0f, &dx), "act_bwd identity");
    tu_ok(nncl_op_bias_grad(be, 1.0f, &dq, 0.0f, &dy), "bias_grad");
    cr_assert_float_eq(tu_get1(&dx), -4.0f, 1e-6, "df/dx");
    cr_assert_float_eq(tu_get1(&dy), -4.0f, 1e-6, "df/dy");
    cr_assert_float_eq(tu_get1(&dz), 3.0f, 1e-6, "df/dz");
}

Test(cpu_ops, softmax_xent_backward) {
    /* p = (0.7, 0.2, 0.1), t = (0, 1, 0), scale 0.5: dz = 0.5 (p - t) + 1 * dz0 */
    const float p0[] = {0.7f, 0.2f, 0.1f}, t0[] = {0, 1, 0}, dz0[] = {1, 2, 3};
    struct nncl_tensor p = tu_tensor(be, 1, 3, p0), t = tu_tensor(be, 1, 3, t0), dz = tu_tensor(be, 1, 3, dz0);
    tu_ok(nncl_op_softmax_xent_bwd(be, &p, &t, 0.5f, 1.0f, &dz), "softmax_xent_bwd");
    ASSERT_TENSOR(dz, 1.35f, 1.6f, 3.05f);
}

Test(cpu_ops, sigmoid_bce_values_and_extremes) {
    /* z = 0, t = 1: p = 0.5, loss = log 2. z = +-100 with wrong targets: loss = 100, no NaN or Inf. */
    const float z0[] = {0, 100, -100, 100}, t0[] = {1, 0, 1, 1};
    struct nncl_tensor z = tu_tensor(be, 4, 1, z0), t = tu_tensor(be, 4, 1, t0);
    struct nncl_tensor p = tu_tensor(be, 4, 1, NULL), loss = tu_tensor(be, 4, 1, NULL), dz = tu_tensor(be, 4, 1, NULL);
    tu_ok(nncl_op_sigmoid_bce_fwd(be, &z, &t, &p, &loss), "sigmoid_bce_fwd");
    ASSERT_TENSOR(loss, logf(2.0f), 100.0f, 100.0f, 0.0f);
    ASSERT_TENSOR(p, 0.5f, 1.0f, 0.0f, 1.0f);
    tu_ok(nncl_op_sigmoid_bce_bwd(be, &p, &t, 1.0f, 0.0f, &dz), "sigmoid_bce_bwd");
    ASSERT_TENSOR(dz, -0.5f, 1.0f, -1.0f, 0.0f);
}

Test(cpu_ops, softmax_xent_extreme_logits_stay_finite) {
    const float z0[] = {100, -100, 0, -100, 100, 100}, t0[] = {0, 1, 0, 1, 0, 0};
    struct nncl_tensor z = tu_tensor(be, 2, 3, z0), t = tu_tensor(be, 2, 3, t0);
    struct nncl_tensor p = tu_tensor(be, 2, 3, NULL), loss = tu_tensor(be, 2, 1, NULL);
    tu_ok(nncl_op_softmax_xent_fwd(be, &z, &t, &p, &loss), "softmax_xent_fwd");
    /* row 0: lse = 100, target logit -100: loss 200; row 1: lse = 100 + log 2, target logit -100 */
    ASSERT_TENSOR(loss, 200.0f, 200.0f + logf(2.0f));
    ASSERT_TENSOR(p, 1, 0, 0, 0, 0.5f, 0.5f);
}

Test(cpu_ops, mse_backward) {
    const float y0[] = {1, 2}, t0[] = {0, 4}, dy0[] = {NAN, NAN};
    struct nncl_tensor y = tu_tensor(be, 1, 2, y0), t = tu_tensor(be, 1, 2, t0), dy = tu_tensor(be, 1, 2, dy0);
    tu_ok(nncl_op_mse_bwd(be, &y, &t, 0.5f, 0.0f, &dy), "mse_bwd");
    ASSERT_TENSOR(dy, 1.0f, -2.0f);
}

Test(cpu_ops, class_error_single_output_thresholds_at_half) {
    const float y0[] = {0.2f, 0.7f, 0.5f, 0.49f}, t0[] = {0, 0, 1, 1};
    struct nncl_tensor y = tu_tensor(be, 4, 1, y0), t = tu_tensor(be, 4, 1, t0), e = tu_tensor(be, 4, 1, NULL);
    tu_ok(nncl_op_class_error(be, &y, &t, &e), "class_error");
    ASSERT_TENSOR(e, 0, 1, 0, 1);
}

Test(cpu_ops, sum_accumulates) {
    const float x0[] = {1, 2, 3, 4, 5, 6}, out0[] = {10};
    struct nncl_tensor x = tu_tensor(be, 2, 3, x0), out = tu_tensor(be, 1, 1, out0);
    tu_ok(nncl_op_sum(be, 2.0f, &x, 1.0f, &out), "sum");
    ASSERT_TENSOR(out, 52.0f);
}

Test(cpu_ops, optimizer_updates) {
    const float w0[] = {1, -2}, g0[] = {0.5f, 1.0f}, v0[] = {1, 1}, zero[] = {0, 0};
    /* SGD: w -= 0.1 (g + 0.01 w) */
    struct nncl_tensor w = tu_tensor(be, 1, 2, w0), g = tu_tensor(be, 1, 2, g0);
    tu_ok(nncl_op_sgd_update(be, 0.1f, 0.01f, &w, &g), "sgd_update");
    ASSERT_TENSOR(w, 1 - 0.1f * (0.5f + 0.01f), -2 - 0.1f * (1.0f - 0.02f));
    /* momentum: v = 0.9 v + g; w -= 0.1 v */
    struct nncl_tensor w2 = tu_tensor(be, 1, 2, w0), v = tu_tensor(be, 1, 2, v0);
    tu_ok(nncl_op_momentum_update(be, 0.1f, 0.9f, 0.0f, &w2, &g, &v), "momentum_update");
    ASSERT_TENSOR(v, 1.4f, 1.9f);
    ASSERT_TENSOR(w2, 1 - 0.14f, -2 - 0.19f);
    /* Adam, first step: m/bc1 = g, v/bc2 = g^2, so w -= lr g / (|g| + eps) = lr sign(g) (almost) */
    struct nncl_tensor w3 = tu_tensor(be, 1, 2, w0), m = tu_tensor(be, 1, 2, zero), va = tu_tensor(be, 1, 2, zero);
    tu_ok(nncl_op_adam_update(be, 0.01f, 0.9f, 0.999f, 1e-8f, 0.0f, 1, &w3, &g, &m, &va), "adam_update");
    ASSERT_TENSOR(w3, 0.99f, -2.01f);
    ASSERT_TENSOR(m, 0.05f, 0.1f);
    ASSERT_TENSOR(va, 0.00025f, 0.001f);
}

Test(cpu_ops, fill_copy_scale) {
    struct nncl_tensor x = tu_tensor(be, 2, 2, NULL), y = tu_tensor(be, 2, 2, NULL);
    tu_ok(nncl_op_fill(be, 1.5f, &x), "fill");
    tu_ok(nncl_op_scale(be, -2.0f, &x), "scale");
    tu_ok(nncl_op_copy(be, &x, &y), "copy");
    ASSERT_TENSOR(y, -3, -3, -3, -3);
}

/* Many tensors share one allocation: views at offsets do not disturb each other. */
Test(cpu_ops, views_share_a_buffer) {
    struct nncl_buffer *buf = NULL;
    tu_ok(nncl_buffer_alloc(be, 10 * sizeof(float), &buf), "buffer_alloc");
    struct nncl_tensor a = nncl_tensor_view(buf, 0, 1, 4), b = nncl_tensor_view(buf, 4, 2, 3);
    tu_ok(nncl_op_fill(be, 0.0f, &a), "fill a");
    tu_ok(nncl_op_fill(be, 7.0f, &b), "fill b");
    tu_ok(nncl_op_scale(be, 2.0f, &b), "scale b");
    ASSERT_TENSOR(a, 0, 0, 0, 0);
    ASSERT_TENSOR(b, 14, 14, 14, 14, 14, 14);
    nncl_buffer_free(buf);
}
