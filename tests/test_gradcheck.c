/*
 * test_gradcheck.c: the CPU reference's backward ops against central finite differences.
 *
 * Two backends can agree on a wrong gradient; this test is what makes the CPU reference an oracle.
 * For each op the scalar objective is L(x) = sum_i w_i out_i(x) with fixed random weights w (or the
 * summed loss for loss ops), so dL/dx is what the backward op returns for dy = w. Differences are
 * taken in double from float forward ops with step h; the tolerance covers float rounding of L over
 * 2h. Every check also demands that the gradient is not trivially zero (genann's guard).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

#define ROWS 3
#define COLS 5
#define N (ROWS * COLS)

static struct nncl_backend *be;
static void setup(void) { be = tu_backend("cpu"); }
static void teardown(void) { tu_free_all(); }
TestSuite(gradcheck, .init = setup, .fini = teardown);

/* A forward function of x (N floats) returning the scalar objective. */
typedef double (*objective_fn)(const float *x, const void *ctx);

static void check_gradient(objective_fn f, const void *ctx, const float *x0, const float *analytic, const char *what) {
    const float h = 1e-2f;
    float x[N], numeric[N];
    double sum_abs = 0.0;
    for (int i = 0; i < N; i++) x[i] = x0[i];
    for (int i = 0; i < N; i++) {
        x[i] = x0[i] + h;
        const double up = f(x, ctx);
        x[i] = x0[i] - h;
        const double down = f(x, ctx);
        x[i] = x0[i];
        numeric[i] = (float)((up - down) / (2.0 * h));
        sum_abs += fabs(analytic[i]);
    }
    cr_assert(sum_abs > 1e-3, "%s: the analytic gradient is trivially zero (sum |g| = %g)", what, sum_abs);
    /* central differences are exact to O(h^2 f'''): 2e-2 relative is ample for smooth ops at h = 1e-2 */
    tu_assert_close(numeric, analytic, N, COLS, (struct tu_tol){2e-3, 2e-2}, what);
}

/* Inputs kept 0.1 away from 0, where ReLU, leaky ReLU and ELU have their kink. */
static void kink_free_inputs(struct tu_rng *rng, float *x) {
    for (int i = 0; i < N; i++) {
        float v = tu_uniform(rng, 0.1f, 2.0f);
        x[i] = (i % 2) ? v : -v;
    }
}

struct act_ctx {
    enum nncl_act act;
    float param;
    const float *w;
};

static double act_objective(const float *xv, const void *vctx) {
    const struct act_ctx *ctx = vctx;
    struct nncl_tensor x = tu_tensor(be, ROWS, COLS, xv), y = tu_tensor(be, ROWS, COLS, NULL);
    tu_ok(nncl_op_act_fwd(be, ctx->act, ctx->param, &x, &y), "act_fwd");
    float out[N];
    tu_get(&y, out);
    double l = 0.0;
    for (int i = 0; i < N; i++) l += (double)ctx->w[i] * out[i];
    return l;
}

Test(gradcheck, every_activation) {
    for (int a = 0; a < NNCL_ACT_COUNT; a++) {
        struct tu_rng rng = {42u + (unsigned)a};
        float x0[N], w[N], dx[N];
        kink_free_inputs(&rng, x0);
        tu_fill_uniform(&rng, w, N, -1, 1);
        struct act_ctx ctx = {(enum nncl_act)a, a == NNCL_ACT_ELU ? 0.7f : nncl_act_default_param((enum nncl_act)a), w};
        struct nncl_tensor x = tu_tensor(be, ROWS, COLS, x0), y = tu_tensor(be, ROWS, COLS, NULL);
        struct nncl_tensor dy = tu_tensor(be, ROWS, COLS, w), g = tu_tensor(be, ROWS, COLS, NULL);
        tu_ok(nncl_op_act_fwd(be, ctx.act, ctx.param, &x, &y), "act_fwd");
        tu_ok(nncl_op_act_bwd(be, ctx.act, ctx.param, &x, &y, &dy, 0.0f, &g), "act_bwd");
        tu_get(&g, dx);
        check_gradient(act_objective, &ctx, x0, dx, nncl_act_name(ctx.act));
    }
}

static double softmax_objective(const float *xv, const void *w) {
    struct nncl_tensor x = tu_tensor(be, ROWS, COLS, xv), y = tu_tensor(be, ROWS, COLS, NULL);
    tu_ok(nncl_op_softmax_fwd(be, &x, &y), "softmax_fwd");
    float out[N];
    tu_get(&y, out);
    double l = 0.0;
    for (int i = 0; i < N; i++) l += (double)((const float *)w)[i] * out[i];
    return l;
}

Test(gradcheck, softmax) {
    struct tu_rng rng = {7};
    float x0[N], w[N], dx[N];
    tu_fill_uniform(&rng, x0, N, -2, 2);
    tu_fill_uniform(&rng, w, N, -1, 1);
    struct nncl_tensor x = tu_tensor(be, ROWS, COLS, x0), y = tu_tensor(be, ROWS, COLS, NULL);
    struct nncl_tensor dy = tu_tensor(be, ROWS, COLS, w), g = tu_tensor(be, ROWS, COLS, NULL);
    tu_ok(nncl_op_softmax_fwd(be, &x, &y), "softmax_fwd");
    tu_ok(nncl_op_softmax_bwd(be, &y, &dy, 0.0f, &g), "softmax_bwd");
    tu_get(&g, dx);
    check_gradient(softmax_objective, w, x0, dx, "softmax");
}

/* The three losses: objective = sum over rows of the per-row loss, gradient from the bwd op, scale 1. */
struct loss_ctx {
    enum nncl_op fwd;
    const float *target;
};

static double loss_objective(const float *zv, const void *vctx) {
    const struct loss_ctx *ctx = vctx;
    struct nncl_tensor z = tu_tensor(be, ROWS, COLS, zv), t = tu_tensor(be, ROWS, COLS, ctx->target);
    struct nncl_tensor p = tu_tensor(be, ROWS, COLS, NULL), loss = tu_tensor(be, ROWS, 1, NULL);
    struct nncl_tensor total = tu_tensor(be, 1, 1, NULL);
    if (ctx->fwd == NNCL_OP_MSE_FWD) {
        tu_ok(nncl_op_mse_fwd(be, &z, &t, &loss), "mse_fwd");
    } else if (ctx->fwd == NNCL_OP_SOFTMAX_XENT_FWD) {
        tu_ok(nncl_op_softmax_xent_fwd(be, &z, &t, &p, &loss), "softmax_xent_fwd");
    } else {
        tu_ok(nncl_op_sigmoid_bce_fwd(be, &z, &t, &p, &loss), "sigmoid_bce_fwd");
    }
    tu_ok(nncl_op_sum(be, 1.0f, &loss, 0.0f, &total), "sum");
    return tu_get1(&total);
}

static void check_loss(enum nncl_op fwd, const float *target, const char *what) {
    struct tu_rng rng = {99u + (unsigned)fwd};
    float z0[N], dz[N];
    tu_fill_uniform(&rng, z0, N, -3, 3);
    struct loss_ctx ctx = {fwd, target};
    struct nncl_tensor z = tu_tensor(be, ROWS, COLS, z0), t = tu_tensor(be, ROWS, COLS, target);
    struct nncl_tensor p = tu_tensor(be, ROWS, COLS, NULL), loss = tu_tensor(be, ROWS, 1, NULL);
    struct nncl_tensor g = tu_tensor(be, ROWS, COLS, NULL);
    if (fwd == NNCL_OP_MSE_FWD) {
        tu_ok(nncl_op_mse_bwd(be, &z, &t, 1.0f, 0.0f, &g), "mse_bwd");
    } else if (fwd == NNCL_OP_SOFTMAX_XENT_FWD) {
        tu_ok(nncl_op_softmax_xent_fwd(be, &z, &t, &p, &loss), "softmax_xent_fwd");
        tu_ok(nncl_op_softmax_xent_bwd(be, &p, &t, 1.0f, 0.0f, &g), "softmax_xent_bwd");
    } else {
        tu_ok(nncl_op_sigmoid_bce_fwd(be, &z, &t, &p, &loss), "sigmoid_bce_fwd");
        tu_ok(nncl_op_sigmoid_bce_bwd(be, &p, &t, 1.0f, 0.0f, &g), "sigmoid_bce_bwd");
    }
    tu_get(&g, dz);
    check_gradient(loss_objective, &ctx, z0, dz, what);
}

Test(gradcheck, mean_squared_error) {
    struct tu_rng rng = {5};
    float t[N];
    tu_fill_uniform(&rng, t, N, -1, 1);
    check_loss(NNCL_OP_MSE_FWD, t, "mse");
}

Test(gradcheck, softmax_cross_entropy) {
    float t[N] = {0};
    for (int r = 0; r < ROWS; r++) t[r * COLS + (r * 2) % COLS] = 1.0f; /* one-hot */
    check_loss(NNCL_OP_SOFTMAX_XENT_FWD, t, "softmax_xent");
}

Test(gradcheck, softmax_cross_entropy_soft_targets) {
    struct tu_rng rng = {11};
    float t[N];
    tu_fill_uniform(&rng, t, N, 0, 0.4f); /* rows need not sum to 1: the gradient is p sum(t) - t */
    check_loss(NNCL_OP_SOFTMAX_XENT_FWD, t, "softmax_xent soft targets");
}

Test(gradcheck, sigmoid_binary_cross_entropy) {
    struct tu_rng rng = {3};
    float t[N];
    for (int i = 0; i < N; i++) t[i] = tu_uniform(&rng, 0, 1) > 0.5f ? 1.0f : 0.0f;
    check_loss(NNCL_OP_SIGMOID_BCE_FWD, t, "sigmoid_bce");
}
