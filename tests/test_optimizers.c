/*
 * test_optimizers.c: the newer optimizer updates (Nesterov, RMSprop, AdamW, iRPROP-) and clipping by global
 * norm, against values derived by hand for a few steps and against a float64 reference over 300 steps of a
 * separable quadratic (g = a (w - t), recomputed from w on the host each step), on the CPU and on the OpenCL
 * device; and the trainer's rules around them (iRPROP- is full-batch only; every optimizer trains).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
#include "test_util.h"

/* ---- one optimizer step through the public ops ---------------------------------------------------- */

struct opt_case {
    enum nncl_optimizer opt;
    float lr, mu, wd, alpha, eps, b1, b2, clip;
    float inc, dec, dmin, dmax, d0;
};

struct opt_run {
    struct nncl_backend *be;
    struct nncl_tensor w, g, s0, s1, ss;
    long step;
};

static void run_init(struct opt_run *r, struct nncl_backend *be, const struct opt_case *c, size_t n, const float *w0) {
    memset(r, 0, sizeof *r);
    r->be = be;
    float *zeros = calloc(n, sizeof(float)), *d0 = malloc(n * sizeof(float));
    cr_assert(zeros && d0);
    for (size_t i = 0; i < n; i++) d0[i] = c->d0;
    r->w = tu_tensor(be, 1, n, w0);
    r->g = tu_tensor(be, 1, n, zeros);
    r->s0 = tu_tensor(be, 1, n, zeros);
    r->s1 = tu_tensor(be, 1, n, c->opt == NNCL_OPT_IRPROP ? d0 : zeros);
    r->ss = tu_tensor(be, 1, 1, zeros);
    free(zeros);
    free(d0);
}

static void run_step(struct opt_run *r, const struct opt_case *c, const float *g, size_t n) {
    tu_ok(nncl_tensor_set(&r->g, g, n), "set g");
    r->step++;
    if (c->clip > 0.0f) tu_ok(nncl_op_sumsq(r->be, &r->g, &r->ss), "sumsq");
    enum nncl_status st = NNCL_OK;
    switch (c->opt) {
    case NNCL_OPT_NESTEROV: st = nncl_op_nesterov_update(r->be, c->lr, c->mu, c->wd, c->clip, &r->w, &r->g, &r->s0, &r->ss); break;
    case NNCL_OPT_RMSPROP:
        st = nncl_op_rmsprop_update(r->be, c->lr, c->alpha, c->eps, c->wd, c->mu, c->clip, &r->w, &r->g, &r->s0, &r->s1,
                                    &r->ss);
        break;
    case NNCL_OPT_ADAMW:
        st = nncl_op_adamw_update(r->be, c->lr, c->b1, c->b2, c->eps, c->wd, r->step, c->clip, &r->w, &r->g, &r->s0,
                                  &r->s1, &r->ss);
        break;
    case NNCL_OPT_IRPROP:
        st = nncl_op_irprop_update(r->be, c->inc, c->dec, c->dmin, c->dmax, c->wd, c->clip, &r->w, &r->g, &r->s0, &r->s1,
                                   &r->ss);
        break;
    case NNCL_OPT_SGD:
    case NNCL_OPT_MOMENTUM:
    case NNCL_OPT_ADAM:
    case NNCL_OPT_COUNT: cr_assert_fail("not one of the newer optimizers"); break;
    }
    tu_ok(st, nncl_optimizer_name(c->opt));
}

static float read1(struct opt_run *r) {
    float w = 0;
    tu_get(&r->w, &w);
    return w;
}

#define NEAR(got, want) cr_assert(fabsf((got) - (want)) <= 1e-6f + 1e-6f * fabsf(want), "got %.9g, want %.9g", \
                                  (double)(got), (double)(want))

/* ---- by hand: w0 = 1, a constant gradient 1 unless said otherwise -------------------------------- */

Test(by_hand, nesterov) {
    /* v1 = 1, w1 = 1 - 0.1 (1 + 0.9 * 1) = 0.81; v2 = 0.9 + 1 = 1.9, w2 = 0.81 - 0.1 (1 + 0.9 * 1.9) = 0.539 */
    const struct opt_case c = {.opt = NNCL_OPT_NESTEROV, .lr = 0.1f, .mu = 0.9f};
    struct opt_run r;
    const float w0 = 1.0f, g = 1.0f;
    run_init(&r, tu_backend("cpu"), &c, 1, &w0);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), 0.81f);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), 0.539f);
    tu_free_all();
}

Test(by_hand, rmsprop) {
    /* sq1 = 0.01, w1 = 1 - 0.01 * 1 / 0.1 = 0.9; sq2 = 0.0099 + 0.01 = 0.0199, w2 = 0.9 - 0.01 / sqrt(0.0199) */
    const struct opt_case c = {.opt = NNCL_OPT_RMSPROP, .lr = 0.01f, .alpha = 0.99f, .eps = 1e-8f};
    struct opt_run r;
    const float w0 = 1.0f, g = 1.0f;
    run_init(&r, tu_backend("cpu"), &c, 1, &w0);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), 0.9f);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), (float)(0.9 - 0.01 / sqrt(0.0199)));
    /* with momentum 0.5: buf1 = 10, w1 = 1 - 0.1; buf2 = 5 + 7.0888, w2 = 0.9 - 0.01 * 12.0888 */
    const struct opt_case cm = {.opt = NNCL_OPT_RMSPROP, .lr = 0.01f, .alpha = 0.99f, .eps = 1e-8f, .mu = 0.5f};
    run_init(&r, tu_backend("cpu"), &cm, 1, &w0);
    run_step(&r, &cm, &g, 1);
    NEAR(read1(&r), 0.9f);
    run_step(&r, &cm, &g, 1);
    NEAR(read1(&r), (float)(0.9 - 0.01 * (5.0 + 1.0 / sqrt(0.0199))));
    tu_free_all();
}

Test(by_hand, adamw_decay_is_decoupled) {
    /* step 1: w = 0.99 (decay), m^ = v^ = 1, w1 = 0.99 - 0.1 = 0.89; step 2: w = 0.8811, m^ = v^ = 1, w2 = 0.7811 */
    const struct opt_case c = {.opt = NNCL_OPT_ADAMW, .lr = 0.1f, .wd = 0.1f, .b1 = 0.9f, .b2 = 0.999f, .eps = 1e-8f};
    struct opt_run r;
    const float w0 = 1.0f, g = 1.0f;
    run_init(&r, tu_backend("cpu"), &c, 1, &w0);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), 0.89f);
    run_step(&r, &c, &g, 1);
    NEAR(read1(&r), 0.7811f);
    /* a zero gradient still decays the weight: 0.7811 (1 - 0.01), and the step is m^ / (sqrt v^) of the past */
    tu_free_all();
}

Test(by_hand, irprop_minus) {
    /* g = +1, +1, -1, +1, delta0 0.1: w 0.9 (delta 0.1), 0.78 (0.12), 0.78 (sign change: 0.06, no step, g
     * forgotten), 0.72 (previous g 0: delta kept at 0.06) */
    const struct opt_case c = {.opt = NNCL_OPT_IRPROP, .inc = 1.2f, .dec = 0.5f, .dmin = 0.0f, .dmax = 50.0f, .d0 = 0.1f};
    struct opt_run r;
    const float w0 = 1.0f, gs[] = {1.0f, 1.0f, -1.0f, 1.0f}, want[] = {0.9f, 0.78f, 0.78f, 0.72f};
    run_init(&r, tu_backend("cpu"), &c, 1, &w0);
    for (int s = 0; s < 4; s++) {
        run_step(&r, &c, &gs[s], 1);
        NEAR(read1(&r), want[s]);
    }
    /* delta_max caps the growth: 0.1 * 1.2^k stops at 0.15 */
    const struct opt_case capped = {.opt = NNCL_OPT_IRPROP, .inc = 1.2f, .dec = 0.5f, .dmax = 0.15f, .d0 = 0.1f};
    run_init(&r, tu_backend("cpu"), &capped, 1, &w0);
    for (int s = 0; s < 4; s++) run_step(&r, &capped, &gs[0], 1);
    NEAR(read1(&r), 1.0f - 0.1f - 0.12f - 0.144f - 0.15f);
    tu_free_all();
}

Test(by_hand, clipping_scales_to_the_norm) {
    /* g = (3, 4), ||g|| = 5, clip 1: g' = (0.6, 0.8); Nesterov with mu 0 and lr 1 is w -= g' */
    const struct opt_case c = {.opt = NNCL_OPT_NESTEROV, .lr = 1.0f, .clip = 1.0f};
    struct opt_run r;
    const float w0[2] = {0, 0}, g[2] = {3, 4};
    float w[2];
    run_init(&r, tu_backend("cpu"), &c, 2, w0);
    run_step(&r, &c, g, 2);
    tu_get(&r.w, w);
    NEAR(w[0], -0.6f);
    NEAR(w[1], -0.8f);
    /* a norm below the threshold is left alone */
    const struct opt_case loose = {.opt = NNCL_OPT_NESTEROV, .lr = 1.0f, .clip = 10.0f};
    run_init(&r, tu_backend("cpu"), &loose, 2, w0);
    run_step(&r, &loose, g, 2);
    tu_get(&r.w, w);
    NEAR(w[0], -3.0f);
    NEAR(w[1], -4.0f);
    /* clip_grad, the path of sgd, momentum and adam, gives the same g' */
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_tensor gt = tu_tensor(be, 1, 2, g), ss = tu_tensor(be, 1, 1, NULL);
    tu_ok(nncl_op_sumsq(be, &gt, &ss), "sumsq");
    NEAR(tu_get1(&ss), 25.0f);
    tu_ok(nncl_op_clip_grad(be, 1.0f, &gt, &ss), "clip_grad");
    tu_get(&gt, w);
    NEAR(w[0], 0.6f);
    NEAR(w[1], 0.8f);
    tu_free_all();
}

/* ---- float64 reference over 300 steps -------------------------------------------------------------- */

struct ref_state {
    double w, s0, s1;
};

static double clip_of(const double *g, size_t n, double clip) {
    if (!(clip > 0)) return 1.0;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += g[i] * g[i];
    return ss > clip * clip ? clip / sqrt(ss) : 1.0;
}

static void ref_step(struct ref_state *x, const struct opt_case *c, double graw, double cf, long step) {
    double g = cf * graw;
    switch (c->opt) {
    case NNCL_OPT_NESTEROV:
        g += c->wd * x->w;
        x->s0 = c->mu * x->s0 + g;
        x->w -= c->lr * (g + c->mu * x->s0);
        break;
    case NNCL_OPT_RMSPROP: {
        g += c->wd * x->w;
        x->s0 = c->alpha * x->s0 + (1 - c->alpha) * g * g;
        const double u = g / (sqrt(x->s0) + c->eps);
        if (c->mu > 0) {
            x->s1 = c->mu * x->s1 + u;
            x->w -= c->lr * x->s1;
        } else {
            x->w -= c->lr * u;
        }
        break;
    }
    case NNCL_OPT_ADAMW: {
        x->w *= 1 - (double)c->lr * c->wd;
        x->s0 = c->b1 * x->s0 + (1 - c->b1) * g;
        x->s1 = c->b2 * x->s1 + (1 - c->b2) * g * g;
        const double bc1 = 1 - pow(c->b1, (double)step), bc2 = 1 - pow(c->b2, (double)step);
        x->w -= c->lr * (x->s0 / bc1) / (sqrt(x->s1 / bc2) + c->eps);
        break;
    }
    case NNCL_OPT_IRPROP: {
        g += c->wd * x->w;
        const double s = g * x->s0;
        if (s > 0) x->s1 = fmin(x->s1 * c->inc, c->dmax);
        if (s < 0) x->s1 = fmax(x->s1 * c->dec, c->dmin), g = 0;
        x->s0 = g;
        x->w -= g > 0 ? x->s1 : g < 0 ? -x->s1 : 0;
        break;
    }
    case NNCL_OPT_SGD:
    case NNCL_OPT_MOMENTUM:
    case NNCL_OPT_ADAM:
    case NNCL_OPT_COUNT: cr_assert_fail("not one of the newer optimizers"); break;
    }
}

enum { N_REF = 37, REF_STEPS = 300 };

/* g_i = a_i (w_i - t_i): the optimizer on backend `be` in float against the same in double. */
static void against_reference(struct nncl_backend *be, const struct opt_case *c) {
    struct tu_rng rng = {42};
    float a[N_REF], t[N_REF], w0[N_REF], w[N_REF], g[N_REF];
    double gd[N_REF];
    struct ref_state ref[N_REF];
    tu_fill_uniform(&rng, a, N_REF, 0.5f, 2.0f);
    tu_fill_uniform(&rng, t, N_REF, -1.0f, 1.0f);
    tu_fill_uniform(&rng, w0, N_REF, -2.0f, 2.0f);
    for (size_t i = 0; i < N_REF; i++) ref[i] = (struct ref_state){w0[i], 0.0, c->opt == NNCL_OPT_IRPROP ? c->d0 : 0.0};
    struct opt_run r;
    run_init(&r, be, c, N_REF, w0);
    for (long s = 1; s <= REF_STEPS; s++) {
        tu_get(&r.w, w);
        for (size_t i = 0; i < N_REF; i++) {
            g[i] = a[i] * (w[i] - t[i]);
            gd[i] = (double)a[i] * (ref[i].w - (double)t[i]);
        }
        run_step(&r, c, g, N_REF);
        const double cf = clip_of(gd, N_REF, c->clip);
        for (size_t i = 0; i < N_REF; i++) ref_step(&ref[i], c, gd[i], cf, s);
    }
    tu_get(&r.w, w);
    float want[N_REF];
    for (size_t i = 0; i < N_REF; i++) want[i] = (float)ref[i].w;
    char what[96];
    snprintf(what, sizeof what, "%s after %d steps on %s", nncl_optimizer_name(c->opt), REF_STEPS, nncl_backend_name(be));
    /* float against double after 300 steps of a contracting map: rounding does not build up */
    tu_assert_close(want, w, N_REF, N_REF, (struct tu_tol){2e-4, 1e-3}, what);
}

static const struct opt_case ref_cases[] = {
    {.opt = NNCL_OPT_NESTEROV, .lr = 0.05f, .mu = 0.9f},
    {.opt = NNCL_OPT_NESTEROV, .lr = 0.05f, .mu = 0.9f, .wd = 0.01f, .clip = 1.0f},
    /* RMSprop's steps do not shrink near the minimum (g / rms(g) stays about 1): small rates keep the float and
     * double trajectories from parting by a step where w crosses t */
    {.opt = NNCL_OPT_RMSPROP, .lr = 0.001f, .alpha = 0.99f, .eps = 1e-8f},
    {.opt = NNCL_OPT_RMSPROP, .lr = 0.0005f, .alpha = 0.9f, .eps = 1e-8f, .mu = 0.5f, .wd = 0.01f, .clip = 1.0f},
    {.opt = NNCL_OPT_ADAMW, .lr = 0.01f, .b1 = 0.9f, .b2 = 0.999f, .eps = 1e-8f, .wd = 0.01f},
    {.opt = NNCL_OPT_ADAMW, .lr = 0.01f, .b1 = 0.9f, .b2 = 0.999f, .eps = 1e-8f, .wd = 0.1f, .clip = 0.5f},
    {.opt = NNCL_OPT_IRPROP, .inc = 1.2f, .dec = 0.5f, .dmin = 0.0f, .dmax = 50.0f, .d0 = 0.1f},
    {.opt = NNCL_OPT_IRPROP, .inc = 1.2f, .dec = 0.5f, .dmin = 1e-6f, .dmax = 1.0f, .d0 = 0.1f, .wd = 0.01f, .clip = 1.0f},
};

Test(reference, float64_300_steps_cpu) {
    for (size_t i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) against_reference(tu_backend("cpu"), &ref_cases[i]);
    tu_free_all();
}

Test(reference, float64_300_steps_opencl) {
    struct nncl_backend *be = tu_device_or_skip();
    for (size_t i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) against_reference(be, &ref_cases[i]);
    tu_free_all();
}

/* ---- the trainer ---------------------------------------------------------------------------------- */

static struct nncl_dataset xor_data(void) {
    static float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, y[] = {0, 1, 1, 0};
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = 4, ds.n_inputs = 2, ds.n_outputs = 1, ds.x = x, ds.y = y;
    snprintf(ds.source, sizeof ds.source, "xor");
    return ds;
}

static struct nncl_model *xor_net(struct nncl_backend *be) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = 2;
    tu_ok(nncl_parse_hidden("4:tanh", &s), "hidden");
    s.layers[s.n_layers++] = (struct nncl_layer_spec){1, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    s.loss = NNCL_LOSS_MSE;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 3, &m), "model_init");
    return m;
}

Test(trainer, irprop_refuses_mini_batches) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_model *m = xor_net(be);
    struct nncl_dataset ds = xor_data();
    struct nncl_train_options o = nncl_train_defaults();
    o.optimizer = NNCL_OPT_IRPROP, o.batch_size = 2, o.epochs = 1;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_INVALID_ARG, "irprop is a full-batch optimizer", "--batch-size 0");
    nncl_model_free(m);
    tu_free_all();
}

Test(trainer, every_optimizer_learns_xor) {
    static const float lrs[NNCL_OPT_COUNT] = {
        [NNCL_OPT_SGD] = 0.2f, [NNCL_OPT_MOMENTUM] = 0.05f, [NNCL_OPT_ADAM] = 0.02f, [NNCL_OPT_NESTEROV] = 0.05f,
        [NNCL_OPT_RMSPROP] = 0.01f, [NNCL_OPT_ADAMW] = 0.02f, [NNCL_OPT_IRPROP] = 1.0f,
    };
    for (int opt = 0; opt < NNCL_OPT_COUNT; opt++) {
        for (int clip = 0; clip < 2; clip++) {
            struct nncl_backend *be = tu_backend("cpu");
            struct nncl_model *m = xor_net(be);
            struct nncl_dataset ds = xor_data();
            struct nncl_train_options o = nncl_train_defaults();
            o.optimizer = (enum nncl_optimizer)opt, o.batch_size = 0, o.epochs = 2000, o.lr = lrs[opt];
            o.clip_norm = clip ? 1.0f : 0.0f;
            struct nncl_train_result res;
            tu_ok(nncl_train(m, &ds, &o, &res), nncl_optimizer_name(o.optimizer));
            cr_assert_lt(res.last.train_loss, 0.05, "%s (clip %g): loss %g after 2000 full-batch steps",
                         nncl_optimizer_name(o.optimizer), (double)o.clip_norm, res.last.train_loss);
            nncl_model_free(m);
            tu_free_all();
        }
    }
}

Test(trainer, names_come_from_the_list) {
    for (int opt = 0; opt < NNCL_OPT_COUNT; opt++) {
        enum nncl_optimizer back = NNCL_OPT_COUNT;
        tu_ok(nncl_optimizer_from_name(nncl_optimizer_name((enum nncl_optimizer)opt), &back), "from_name");
        cr_assert_eq(back, opt);
    }
    cr_assert_eq(nncl_optimizer_state_slots(NNCL_OPT_ADAMW), 2);
    cr_assert_eq(nncl_optimizer_state_slots(NNCL_OPT_NESTEROV), 1);
    enum nncl_optimizer o;
    ASSERT_ERROR(nncl_optimizer_from_name("lbfgs", &o), NNCL_ERR_INVALID_ARG, "sgd|momentum|adam|nesterov|rmsprop|adamw|irprop");
}
