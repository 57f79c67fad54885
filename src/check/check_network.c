/*
 * check_network.c: whole-network validation of a device against the CPU reference. One training step
 * compared tensor by tensor (with an optional float64 oracle computed here, on the host, to tell which
 * side drifted), and many steps in lockstep to tell slow float drift from a kernel bug.
 *
 * Tolerances (docs/validation.md): a value of the step depends on chains of float sums; the longest,
 * L = sum of the layers' fan-ins + fan-outs + the batch, bounds the accumulated rounding by
 * 4 u L max|t| for a tensor t (u = 2^-24, the unit roundoff), plus 2e-5 |t| for the transcendental
 * functions; the device and the reference may each be off by that, hence the factor 4 rather than 2.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "model_impl.h"
#include "optimizer_impl.h"
#include "philox_impl.h"
#include "random_impl.h"
#include "status_impl.h"
#include "util/util.h"

static const double unit_roundoff = 5.9604644775390625e-8; /* 2^-24 */

/* The longest chain of float sums any value of a step goes through. */
static double chain_length(const struct nncl_model_spec *s, size_t batch) {
    double n = (double)batch;
    for (size_t l = 0; l < s->n_layers; l++) n += (double)nncl_layer_in(s, l) + (double)nncl_layer_out(s, l);
    return n;
}

static double max_abs(const float *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs((double)v[i]) > m ? fabs((double)v[i]) : m;
    return m;
}

/* ---- the float64 oracle ------------------------------------------------------------------------ */

struct oracle_layer {
    double *s, *x, *d, *dw, *db, *w_after; /* rows x out, rows x out, rows x out, out x in, out, out x in */
};

/* The oracle's activation maths, the float64 twin of src/cpu/cpu_activations.c: a case per NNCL_ACT_LIST
 * entry and no default, so -Wall names a new activation that lacks its maths here. */
double check_act_f(enum nncl_act act, double a, double x) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return x;
    case NNCL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case NNCL_ACT_TANH: return tanh(x);
    case NNCL_ACT_RELU: return x > 0 ? x : 0;
    case NNCL_ACT_LEAKY_RELU: return x > 0 ? x : a * x;
    case NNCL_ACT_ELU: return x > 0 ? x : a * expm1(x);
    case NNCL_ACT_COUNT: break;
    }
    NNCL_ASSERT(!"check_act_f: not an enum nncl_act value (a case is missing here)");
    return NAN;
}

double check_act_d(enum nncl_act act, double a, double x, double y) {
    switch (act) {
    case NNCL_ACT_IDENTITY: return 1;
    case NNCL_ACT_SIGMOID: return y * (1 - y);
    case NNCL_ACT_TANH: return 1 - y * y;
    case NNCL_ACT_RELU: return x > 0;
    case NNCL_ACT_LEAKY_RELU: return x > 0 ? 1 : a;
    case NNCL_ACT_ELU: return x > 0 ? 1 : y + a;
    case NNCL_ACT_COUNT: break;
    }
    NNCL_ASSERT(!"check_act_d: not an enum nncl_act value (a case is missing here)");
    return NAN;
}

/* The checked step's dropout key (a net with rates drops in it as in training): both backends and the oracle. */
#define CHECK_DROPOUT_SEED 1u
#define CHECK_DROPOUT_STEP 0u

/* What element e of hidden layer l's output is multiplied by in the checked step: 1 without dropout, else the
 * mask's 0 or the float scale 1 / (1 - p), from the generator the backends use (src/philox_impl.h). */
static double oracle_keep(const struct nncl_model_spec *s, size_t l, size_t e) {
    const float p = s->layers[l].dropout;
    if (p <= 0.0f) return 1.0;
    const uint32_t bits = nncl_dropout_bits(CHECK_DROPOUT_SEED, CHECK_DROPOUT_STEP, (uint32_t)l, e);
    return bits < nncl_dropout_threshold(p) ? (double)nncl_dropout_scale(p) : 0.0;
}

/* Forward and backward in float64 from the float parameters `w` (arena layout of `m`), batch x (B x in), t;
 * the update (w_after) is check_update's, applied by check_network over the whole arena. */
static enum nncl_status oracle_step(const struct nncl_model *m, const float *w, const float *x, const float *t,
                                    size_t rows, struct oracle_layer *L, double *loss) {
    const struct nncl_model_spec *s = &m->spec;
    const size_t last = s->n_layers - 1, outs = nncl_model_outputs(s);
    for (size_t l = 0; l < s->n_layers; l++) {
        const size_t in = nncl_layer_in(s, l), out = nncl_layer_out(s, l);
        L[l].s = calloc(rows * out, sizeof(double));
        L[l].x = calloc(rows * out, sizeof(double));
        L[l].d = calloc(rows * out, sizeof(double));
        L[l].dw = calloc(out * in, sizeof(double));
        L[l].db = calloc(out, sizeof(double));
        L[l].w_after = calloc(out * in, sizeof(double));
        if (!L[l].s || !L[l].x || !L[l].d || !L[l].dw || !L[l].db || !L[l].w_after) {
            return nncl_set_error(NNCL_ERR_OOM, "check: out of host memory for the float64 oracle");
        }
    }
    for (size_t l = 0; l < s->n_layers; l++) { /* forward */
        const size_t in = nncl_layer_in(s, l), out = nncl_layer_out(s, l);
        const float *W = w + m->w_off[l], *b = w + m->b_off[l];
        for (size_t n = 0; n < rows; n++) {
            for (size_t j = 0; j < out; j++) {
                double acc = b[j];
                for (size_t i = 0; i < in; i++) {
                    const double xi = l ? L[l - 1].x[n * in + i] * oracle_keep(s, l - 1, n * in + i) : (double)x[n * in + i];
                    acc += xi * W[j * in + i];
                }
                L[l].s[n * out + j] = acc;
            }
            double *xr = L[l].x + n * out;
            const double *sr = L[l].s + n * out;
            const int softmax = l == last && (s->loss == NNCL_LOSS_XENT || s->output_softmax);
            if (softmax) {
                double mx = sr[0], sum = 0;
                for (size_t j = 1; j < out; j++) mx = sr[j] > mx ? sr[j] : mx;
                for (size_t j = 0; j < out; j++) sum += exp(sr[j] - mx);
                for (size_t j = 0; j < out; j++) xr[j] = exp(sr[j] - mx) / sum;
            } else {
                const enum nncl_act act = l == last && s->loss == NNCL_LOSS_BCE ? NNCL_ACT_SIGMOID : s->layers[l].act;
                for (size_t j = 0; j < out; j++) xr[j] = check_act_f(act, s->layers[l].act_param, sr[j]);
            }
        }
    }
    double total = 0;
    const double *z = L[last].s, *p = L[last].x;
    double *d = L[last].d;
    for (size_t n = 0; n < rows; n++) { /* loss and the output delta */
        double tsum = 0, lse = 0, mx = z[n * outs];
        for (size_t c = 0; c < outs; c++) tsum += t[n * outs + c], mx = z[n * outs + c] > mx ? z[n * outs + c] : mx;
        for (size_t c = 0; c < outs; c++) lse += exp(z[n * outs + c] - mx);
        lse = mx + log(lse);
        double g[1024], dot = 0;
        for (size_t c = 0; c < outs; c++) {
            const size_t i = n * outs + c;
            const double tc = t[i];
            if (s->loss == NNCL_LOSS_XENT) {
                total += tc * (lse - z[i]);
                d[i] = (p[i] * tsum - tc) / (double)rows;
            } else if (s->loss == NNCL_LOSS_BCE) {
                total += (z[i] > 0 ? z[i] : 0) - z[i] * tc + log1p(exp(-fabs(z[i])));
                d[i] = (p[i] - tc) / (double)rows;
            } else {
                total += (p[i] - tc) * (p[i] - tc);
                if (c < 1024) g[c] = 2 * (p[i] - tc) / (double)rows, dot += g[c] * p[i];
                d[i] = s->output_softmax ? 0 : 2 * (p[i] - tc) / (double)rows *
                                                   check_act_d(s->layers[last].act, s->layers[last].act_param, z[i], p[i]);
            }
        }
        if (s->loss == NNCL_LOSS_MSE && s->output_softmax) {
            if (outs > 1024) return nncl_set_error(NNCL_ERR_UNSUPPORTED, "check: the float64 oracle handles softmax "
                                                   "with mse for up to 1024 outputs");
            for (size_t c = 0; c < outs; c++) d[n * outs + c] = p[n * outs + c] * (g[c] - dot);
        }
    }
    *loss = total / (double)rows;
    for (size_t l = last + 1; l-- > 0;) { /* backward: the lecture's delta recursion */
        const size_t in = nncl_layer_in(s, l), out = nncl_layer_out(s, l);
        const float *W = w + m->w_off[l];
        for (size_t j = 0; j < out; j++) {
            for (size_t i = 0; i < in; i++) {
                double acc = 0;
                for (size_t n = 0; n < rows; n++) {
                    const double xi = l ? L[l - 1].x[n * in + i] * oracle_keep(s, l - 1, n * in + i) : (double)x[n * in + i];
                    acc += L[l].d[n * out + j] * xi;
                }
                L[l].dw[j * in + i] = acc;
            }
            double acc = 0;
            for (size_t n = 0; n < rows; n++) acc += L[l].d[n * out + j];
            L[l].db[j] = acc;
        }
        if (l == 0) break;
        for (size_t n = 0; n < rows; n++) {
            for (size_t i = 0; i < in; i++) {
                double acc = 0;
                for (size_t j = 0; j < out; j++) acc += L[l].d[n * out + j] * W[j * in + i];
                L[l - 1].d[n * in + i] = acc * oracle_keep(s, l - 1, n * in + i) *
                                         check_act_d(s->layers[l - 1].act, s->layers[l - 1].act_param,
                                                     L[l - 1].s[n * in + i], L[l - 1].x[n * in + i]);
            }
        }
    }
    return NNCL_OK;
}

static void oracle_free(struct oracle_layer *L, size_t n) {
    for (size_t l = 0; l < n; l++) free(L[l].s), free(L[l].x), free(L[l].d), free(L[l].dw), free(L[l].db), free(L[l].w_after);
}

/* ---- one step on a backend --------------------------------------------------------------------- */

/* Every tensor of one step on one backend, read back: per layer s, x, delta, dW, db, W after; the whole
 * gradient arena and the optimizer's state slots before the update (what its bound is computed from). */
struct step_values {
    float *t[NNCL_MAX_LAYERS][6];
    float *grads, *s0, *s1;
    float loss;
};

static const char *const tensor_names[6] = {"pre-activation s", "output x", "delta", "weight gradient",
                                            "bias gradient", "weights after the update"};

static enum nncl_status read_tensor(const struct nncl_tensor *t, float **out) {
    *out = malloc(t->rows * t->cols * sizeof(float));
    if (!*out) return nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
    return nncl_tensor_get(t, *out, t->rows * t->cols);
}

static enum nncl_status step_on(struct nncl_backend *be, const struct nncl_model *model, const float *params,
                                const float *x, const float *t, size_t rows, const struct nncl_train_options *o,
                                struct step_values *v) {
    const struct nncl_model_spec *s = &model->spec;
    struct nncl_model *m = NULL;
    struct nncl_buffer *buf = NULL;
    struct optimizer_state os;
    memset(&os, 0, sizeof os);
    TRY(nncl_model_init(be, s, NNCL_INIT_ZERO, 0, &m));
    const size_t in = s->n_inputs, outs = nncl_model_outputs(s);
    enum nncl_status st = nncl_model_set_params(m, params, m->n_params);
    if (!st) st = nncl_buffer_alloc(be, (rows * (in + outs + 2)) * sizeof(float), &buf);
    struct nncl_tensor tx = nncl_tensor_view(buf, 0, rows, in), tt = nncl_tensor_view(buf, rows * in, rows, outs);
    struct nncl_tensor loss_rows = nncl_tensor_view(buf, rows * (in + outs), rows, 1);
    struct nncl_tensor total = nncl_tensor_view(buf, rows * (in + outs + 1), 1, 1);
    if (!st) st = nncl_tensor_set(&tx, x, rows * in);
    if (!st) st = nncl_tensor_set(&tt, t, rows * outs);
    if (!st) st = nncl_model_set_dropout(m, 1, CHECK_DROPOUT_SEED, CHECK_DROPOUT_STEP, 0); /* a training step */
    if (!st) st = nncl_model_forward(m, &tx, &tt, &loss_rows, NULL);
    if (!st) st = nncl_op_sum(be, 1.0f / (float)rows, &loss_rows, 0.0f, &total);
    if (!st) st = nncl_model_backward(m, &tx, &tt);
    for (size_t l = 0; !st && l < s->n_layers; l++) {
        struct nncl_tensor ts = nncl_model_layer_tensor(m, l, NNCL_LAYER_S, rows);
        struct nncl_tensor txl = nncl_model_layer_tensor(m, l, NNCL_LAYER_X, rows);
        struct nncl_tensor td = nncl_model_layer_tensor(m, l, NNCL_LAYER_DELTA, rows);
        struct nncl_tensor dw = nncl_model_weight_grad(m, l), db = nncl_model_bias_grad(m, l);
        st = read_tensor(&ts, &v->t[l][0]);
        if (!st) st = read_tensor(&txl, &v->t[l][1]);
        if (!st) st = read_tensor(&td, &v->t[l][2]);
        if (!st) st = read_tensor(&dw, &v->t[l][3]);
        if (!st) st = read_tensor(&db, &v->t[l][4]);
    }
    if (!st) st = nncl_tensor_get(&total, &v->loss, 1);
    struct nncl_tensor w = nncl_model_params(m), g = nncl_model_grads(m);
    /* the run's own optimizer, as the trainer's first step: fresh state, step 1 (src/optimizer.c) */
    const size_t slots = nncl_optimizer_state_slots(o->optimizer);
    if (!st) st = read_tensor(&g, &v->grads);
    if (!st) st = optimizer_init(be, m->n_params, o, slots, &os);
    if (!st && slots) st = read_tensor(&os.m, &v->s0);
    if (!st && slots) st = read_tensor(&os.v, &v->s1);
    if (!st) st = optimizer_step(be, o, &os, &w, &g);
    for (size_t l = 0; !st && l < s->n_layers; l++) {
        struct nncl_tensor wl = nncl_model_weight(m, l);
        st = read_tensor(&wl, &v->t[l][5]);
    }
    optimizer_free(&os);
    nncl_buffer_free(buf);
    nncl_model_free(m);
    return st;
}

static void step_free(struct step_values *v) {
    for (size_t l = 0; l < NNCL_MAX_LAYERS; l++) {
        for (int k = 0; k < 6; k++) free(v->t[l][k]);
    }
    free(v->grads), free(v->s0), free(v->s1);
}

/* The per-element bound on the gradient difference, dg_i = 4 u L max|t| + 2e-5 |g_i| with t the layer's weight
 * or bias gradient: the gradient comparisons' own bound, over the arena (layout of `m`). */
static void gradient_bounds(const struct nncl_model *m, const float *g, double chain, double *dg) {
    const struct nncl_model_spec *s = &m->spec;
    for (size_t l = 0; l < s->n_layers; l++) {
        const size_t nw = nncl_layer_out(s, l) * nncl_layer_in(s, l), nb = nncl_layer_out(s, l);
        const double sw = 4 * unit_roundoff * chain * max_abs(g + m->w_off[l], nw);
        const double sb = 4 * unit_roundoff * chain * max_abs(g + m->b_off[l], nb);
        for (size_t i = 0; i < nw; i++) dg[m->w_off[l] + i] = sw + 2e-5 * fabs((double)g[m->w_off[l] + i]);
        for (size_t i = 0; i < nb; i++) dg[m->b_off[l] + i] = sb + 2e-5 * fabs((double)g[m->b_off[l] + i]);
    }
}

/* The weights after the update on both sides may differ by the step's bound (check_optim.c) from the gradient
 * `g` (float, or NULL with `gd` in double); `bound` and `w_after` get the whole arena. */
static enum nncl_status update_bounds(const struct nncl_model *m, const struct nncl_train_options *o, const float *params,
                                      const float *g, double *gd, const struct step_values *ref, double chain,
                                      double *dg, double *w_after, double *bound) {
    if (g) {
        for (size_t i = 0; i < m->n_params; i++) gd[i] = g[i];
        gradient_bounds(m, g, chain, dg);
    }
    return check_update(o, 1, m->n_params, params, gd, dg, ref->s0, ref->s1, w_after, bound);
}

/* The first `rows` examples of the data set as host arrays (x, t). */
static enum nncl_status first_rows(const struct nncl_dataset *d, size_t rows, const float **x, const float **t) {
    if (!d->y) return nncl_set_error(NNCL_ERR_INVALID_ARG, "check: %s has no targets", d->source);
    *x = d->x;
    *t = d->y;
    (void)rows;
    return NNCL_OK;
}

enum nncl_status check_network(struct nncl_model *model, struct nncl_backend *dev, const struct nncl_dataset *data,
                               size_t batch, const struct nncl_train_options *o, int fp64, check_report_fn report,
                               void *user, size_t *failures) {
    const struct nncl_model_spec *s = &model->spec;
    *failures = 0;
    if (data->n_inputs != s->n_inputs || data->n_outputs != nncl_model_outputs(s)) {
        return nncl_set_error(NNCL_ERR_SHAPE, "check: %s has %zu inputs and %zu targets, the net %zu and %zu",
                              data->source, data->n_inputs, data->n_outputs, s->n_inputs, nncl_model_outputs(s));
    }
    const size_t rows = batch == 0 || batch > data->n ? data->n : batch;
    const float *x = NULL, *t = NULL;
    TRY(first_rows(data, rows, &x, &t));
    const size_t np = model->n_params;
    float *params = malloc(np * sizeof(float));
    double *work = malloc(6 * np * sizeof(double)); /* g, dg, w_after, bound (vs the cpu), g, bound (vs fp64) */
    if (!params || !work) {
        free(params), free(work);
        return nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
    }
    double *g_d = work, *dg = work + np, *w_after = work + 2 * np, *bound = work + 3 * np;
    double *g_oracle = work + 4 * np, *bound_oracle = work + 5 * np;
    enum nncl_status st = nncl_model_get_params(model, params, np);
    struct nncl_backend *cpu = NULL;
    if (!st) st = nncl_backend_init("cpu", &cpu);
    struct step_values ref, got;
    memset(&ref, 0, sizeof ref);
    memset(&got, 0, sizeof got);
    if (!st) st = step_on(cpu, model, params, x, t, rows, o, &ref);
    if (!st) st = step_on(dev, model, params, x, t, rows, o, &got);
    struct oracle_layer oracle[NNCL_MAX_LAYERS];
    memset(oracle, 0, sizeof oracle);
    double oracle_loss = 0;
    if (!st && fp64) st = oracle_step(model, params, x, t, rows, oracle, &oracle_loss);
    const double chain = chain_length(s, rows);
    if (!st) st = update_bounds(model, o, params, ref.grads, g_d, &ref, chain, dg, w_after, bound);
    if (!st && fp64) { /* the float64 step: the oracle's gradients through the same update, in double */
        for (size_t l = 0; l < s->n_layers; l++) {
            const size_t nw = nncl_layer_out(s, l) * nncl_layer_in(s, l);
            for (size_t i = 0; i < nw; i++) g_oracle[model->w_off[l] + i] = oracle[l].dw[i];
            for (size_t i = 0; i < nncl_layer_out(s, l); i++) g_oracle[model->b_off[l] + i] = oracle[l].db[i];
        }
        st = update_bounds(model, o, params, NULL, g_oracle, &ref, chain, dg, w_after, bound_oracle);
        for (size_t l = 0; !st && l < s->n_layers; l++) {
            const size_t nw = nncl_layer_out(s, l) * nncl_layer_in(s, l);
            for (size_t i = 0; i < nw; i++) oracle[l].w_after[i] = w_after[model->w_off[l] + i];
        }
    }
    for (int pass = 0; !st && pass < (fp64 ? 3 : 1); pass++) {
        /* pass 0: device vs CPU reference; 1: CPU vs float64; 2: device vs float64 */
        const char *who = pass == 0 ? "device vs cpu" : pass == 1 ? "cpu vs float64" : "device vs float64";
        {   /* the loss first: it is what users watch */
            struct check_result r;
            memset(&r, 0, sizeof r);
            float a = pass == 0 ? ref.loss : (float)oracle_loss, b = pass == 1 ? ref.loss : got.loss;
            snprintf(r.what, sizeof r.what, "%s: mean loss", who);
            snprintf(r.op, sizeof r.op, "training step");
            snprintf(r.shape, sizeof r.shape, "%s: mean loss", who);
            snprintf(r.tol_source, sizeof r.tol_source, "4 u L, L = %.0f", chain);
            check_compare(&a, &b, 1, 1, 4 * unit_roundoff * chain * fabs((double)a) + 1e-7, 2e-5, &r);
            *failures += !r.pass;
            if (report) report(&r, user);
        }
        /* in the order the step computes them: forward s, x per layer; backward delta, dW, db from the last
         * layer; then the weights after the update */
        for (int phase = 0; phase < 3; phase++) {
            for (size_t k = 0; k < s->n_layers; k++) {
                const size_t l = phase == 1 ? s->n_layers - 1 - k : k;
                const size_t out = nncl_layer_out(s, l), in = nncl_layer_in(s, l);
                const int first = phase == 0 ? 0 : phase == 1 ? 2 : 5, last_k = phase == 0 ? 1 : phase == 1 ? 4 : 5;
                for (int which = first; which <= last_k; which++) {
                    const size_t n = which == 3 || which == 5 ? out * in : which == 4 ? out : rows * out;
                    float *a = pass == 0 ? ref.t[l][which] : malloc(n * sizeof(float));
                    const float *b = pass == 1 ? ref.t[l][which] : got.t[l][which];
                    if (!a) {
                        st = nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
                        break;
                    }
                    if (pass) {
                        const double *ov = which == 0 ? oracle[l].s : which == 1 ? oracle[l].x : which == 2 ? oracle[l].d
                                           : which == 3 ? oracle[l].dw : which == 4 ? oracle[l].db : oracle[l].w_after;
                        for (size_t i = 0; i < n; i++) a[i] = (float)ov[i];
                    }
                    struct check_result r;
                    memset(&r, 0, sizeof r);
                    snprintf(r.what, sizeof r.what, "%s: layer %zu %s", who, l + 1, tensor_names[which]);
                    snprintf(r.op, sizeof r.op, "training step");
                    snprintf(r.shape, sizeof r.shape, "%s: layer %zu %s %zux%zu", who, l + 1, tensor_names[which],
                             which == 3 || which == 5 ? out : which == 4 ? (size_t)1 : rows,
                             which == 3 || which == 5 ? in : out);
                    snprintf(r.tol_source, sizeof r.tol_source, "4 u L max|t|, L = %.0f%s%s%s", chain,
                             which == 5 ? " + the " : "", which == 5 ? nncl_optimizer_name(o->optimizer) : "",
                             which == 5 ? " step's bound" : "");
                    const double scale = max_abs(a, n);
                    /* the weights after the update: plus what the optimizer's step makes of the gradients'
                     * difference (docs/validation.md, "The optimizer step's bound") */
                    const double *extra = which != 5 ? NULL : (pass ? bound_oracle : bound) + model->w_off[l];
                    check_compare_extra(a, b, n, which == 3 || which == 5 ? in : out,
                                        4 * unit_roundoff * chain * scale + 1e-30, 2e-5, extra, &r);
                    *failures += !r.pass;
                    if (report) report(&r, user);
                    if (pass) free(a);
                }
            }
        }
    }
    oracle_free(oracle, s->n_layers);
    step_free(&ref);
    step_free(&got);
    nncl_backend_free(cpu);
    free(params), free(work);
    return st;
}

/* ---- lockstep ---------------------------------------------------------------------------------- */

struct lock_side {
    struct nncl_model *m;
    struct nncl_buffer *buf;
    struct nncl_tensor x, t, loss_rows, total;
    struct optimizer_state os;
};

static enum nncl_status side_init(struct nncl_backend *be, const struct nncl_model *model, const float *params,
                                  size_t rows, const struct nncl_train_options *o, struct lock_side *side) {
    const struct nncl_model_spec *s = &model->spec;
    const size_t in = s->n_inputs, outs = nncl_model_outputs(s);
    TRY(nncl_model_init(be, s, NNCL_INIT_ZERO, 0, &side->m));
    TRY(nncl_model_set_params(side->m, params, model->n_params));
    TRY(nncl_buffer_alloc(be, rows * (in + outs + 1) * sizeof(float) + sizeof(float), &side->buf));
    side->x = nncl_tensor_view(side->buf, 0, rows, in);
    side->t = nncl_tensor_view(side->buf, rows * in, rows, outs);
    side->loss_rows = nncl_tensor_view(side->buf, rows * (in + outs), rows, 1);
    side->total = nncl_tensor_view(side->buf, rows * (in + outs + 1), 1, 1);
    return optimizer_init(be, model->n_params, o, nncl_optimizer_state_slots(o->optimizer), &side->os);
}

/* What the CPU side's step bound needs, read before its update: the parameters, the gradient and the state. */
struct step_inputs {
    float *w, *g, *s0, *s1;
};

/* One training step of `side` (dropout keyed by seed and step, as the trainer keys it) with the run's optimizer. */
static enum nncl_status side_step(struct lock_side *side, const float *x, const float *t, size_t rows,
                                  const struct nncl_train_options *o, uint64_t seed, size_t step,
                                  struct step_inputs *before, float *loss) {
    struct nncl_backend *be = side->m->be;
    struct nncl_tensor x_view = nncl_tensor_view(side->buf, 0, rows, side->x.cols);
    struct nncl_tensor t_view = nncl_tensor_view(side->buf, side->t.offset, rows, side->t.cols);
    struct nncl_tensor lr_view = nncl_tensor_view(side->buf, side->loss_rows.offset, rows, 1);
    TRY(nncl_tensor_set(&x_view, x, rows * x_view.cols));
    TRY(nncl_tensor_set(&t_view, t, rows * t_view.cols));
    TRY(nncl_model_set_dropout(side->m, 1, seed, step, 0)); /* training steps: a net with rates drops */
    TRY(nncl_model_forward(side->m, &x_view, &t_view, &lr_view, NULL));
    TRY(nncl_op_sum(be, 1.0f / (float)rows, &lr_view, 0.0f, &side->total));
    TRY(nncl_model_backward(side->m, &x_view, &t_view));
    struct nncl_tensor w = nncl_model_params(side->m), g = nncl_model_grads(side->m);
    if (before) {
        const size_t p = side->m->n_params;
        TRY(nncl_tensor_get(&w, before->w, p));
        TRY(nncl_tensor_get(&g, before->g, p));
        if (side->os.buf) TRY(nncl_tensor_get(&side->os.m, before->s0, p));
        if (side->os.buf) TRY(nncl_tensor_get(&side->os.v, before->s1, p));
    }
    TRY(optimizer_step(be, o, &side->os, &w, &g));
    return nncl_tensor_get(&side->total, loss, 1);
}

/* The relative size of one step's bound: ||b|| / ||w|| (check_optim.c's per-element bound b). */
static enum nncl_status step_bound_rel(const struct nncl_model *m, const struct nncl_train_options *o, long step,
                                       const struct step_inputs *in, double chain, double *work, double *out) {
    const size_t p = m->n_params;
    double *g = work, *dg = work + p, *w_after = work + 2 * p, *b = work + 3 * p;
    for (size_t i = 0; i < p; i++) g[i] = in->g[i];
    gradient_bounds(m, in->g, chain, dg);
    const int slots = nncl_optimizer_state_slots(o->optimizer) > 0;
    TRY(check_update(o, step, p, in->w, g, dg, slots ? in->s0 : NULL, slots ? in->s1 : NULL, w_after, b));
    double num = 0, den = 0;
    for (size_t i = 0; i < p; i++) num += b[i] * b[i], den += w_after[i] * w_after[i];
    *out = den > 0 ? sqrt(num / den) : sqrt(num);
    return NNCL_OK;
}

enum nncl_status check_lockstep(struct nncl_model *model, struct nncl_backend *dev, const struct nncl_dataset *data,
                                size_t batch, const struct nncl_train_options *o, size_t steps, uint64_t seed,
                                lockstep_report_fn report, void *user, size_t *failures) {
    *failures = 0;
    if (!data->y) return nncl_set_error(NNCL_ERR_INVALID_ARG, "check: %s has no targets", data->source);
    const size_t rows = batch == 0 || batch > data->n ? data->n : batch, p = model->n_params;
    const size_t in = data->n_inputs, outs = data->n_outputs;
    float *params = malloc(p * sizeof(float)), *wa = malloc(p * sizeof(float)), *wb = malloc(p * sizeof(float));
    float *bx = malloc(rows * in * sizeof(float)), *bt = malloc(rows * outs * sizeof(float));
    float *host = malloc(4 * p * sizeof(float));
    double *work = malloc(4 * p * sizeof(double));
    size_t *order = malloc(data->n * sizeof(size_t));
    struct step_inputs before = {host, host + p, host + 2 * p, host + 3 * p};
    struct lock_side a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct nncl_backend *cpu = NULL;
    enum nncl_status st = params && wa && wb && bx && bt && order && host && work
                              ? NNCL_OK
                              : nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
    if (!st) st = nncl_model_get_params(model, params, p);
    if (!st) st = nncl_backend_init("cpu", &cpu);
    if (!st) st = side_init(cpu, model, params, rows, o, &a);
    if (!st) st = side_init(dev, model, params, rows, o, &b);
    const double chain = chain_length(&model->spec, rows), rounding = 4 * unit_roundoff * chain;
    double previous = 0, bound = 0;
    size_t pos = data->n;
    const uint64_t drop_seed = seed; /* (the shuffle below advances `seed`) */
    for (size_t step = 1; !st && step <= steps; step++) {
        for (size_t r = 0; r < rows; r++) { /* the same batches on both sides: a seeded shuffle, epoch after epoch */
            if (pos == data->n) {
                for (size_t i = 0; i < data->n; i++) order[i] = i;
                for (size_t i = data->n; i > 1; i--) {
                    const size_t j = (size_t)(nncl_random_next(&seed) % i), tmp = order[i - 1];
                    order[i - 1] = order[j], order[j] = tmp;
                }
                pos = 0;
            }
            const size_t i = order[pos++];
            memcpy(bx + r * in, data->x + i * in, in * sizeof(float));
            memcpy(bt + r * outs, data->y + i * outs, outs * sizeof(float));
        }
        float la = 0, lb = 0;
        double step_rel = 0;
        st = side_step(&a, bx, bt, rows, o, drop_seed, step - 1, &before, &la);
        if (!st) st = side_step(&b, bx, bt, rows, o, drop_seed, step - 1, NULL, &lb);
        if (!st) st = step_bound_rel(a.m, o, (long)step, &before, chain, work, &step_rel);
        if (!st) st = nncl_model_get_params(a.m, wa, p);
        if (!st) st = nncl_model_get_params(b.m, wb, p);
        if (st) break;
        double num = 0, den = 0;
        for (size_t i = 0; i < p; i++) num += ((double)wb[i] - wa[i]) * ((double)wb[i] - wa[i]), den += (double)wa[i] * wa[i];
        struct lockstep_row row = {.step = step, .loss_cpu = la, .loss_dev = lb};
        row.loss_diff_rel = fabs((double)lb - la) / (fabs((double)la) > 1e-30 ? fabs((double)la) : 1.0);
        row.weight_diff_rel = den > 0 ? sqrt(num / den) : sqrt(num);
        /* drift: each step may add its own bound, the rounding of the step's sums (4 u L) plus what the
         * optimizer makes of the gradients' difference (||b|| / ||w||); a step that adds more than ten times
         * its bound is a jump */
        const double per_step = rounding + step_rel;
        bound += per_step;
        row.bound = bound;
        row.jump = row.weight_diff_rel - previous > 10 * per_step;
        previous = row.weight_diff_rel;
        *failures += row.jump || row.weight_diff_rel > row.bound || !isfinite(row.weight_diff_rel);
        if (report) report(&row, user);
    }
    if (a.m) nncl_buffer_free(a.buf), optimizer_free(&a.os), nncl_model_free(a.m);
    if (b.m) nncl_buffer_free(b.buf), optimizer_free(&b.os), nncl_model_free(b.m);
    nncl_backend_free(cpu);
    free(params), free(wa), free(wb), free(bx), free(bt), free(order), free(host), free(work);
    return st;
}
