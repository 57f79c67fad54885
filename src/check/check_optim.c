/*
 * check_optim.c: the optimizer step of the run being validated, as the whole-network check and lockstep see
 * it: its float64 twin (for the --oracle fp64 step) and the per-element bound on how far the two backends'
 * parameters may part in one step, given how far their gradients may part (docs/validation.md, "The
 * optimizer step's bound"). A case per NNCL_OPTIMIZER_LIST entry and no default, so -Wall names a new
 * optimizer that lacks its maths or its bound here.
 *
 * Notation (per element i): g the reference gradient, dg the bound on |g_device - g_cpu| (the gradient
 * comparison's bound), w the parameter before the step, s0/s1 the optimizer's state slots before the step
 * (optimizer_impl.h: m and v; momentum's velocity is both), t the step number (Adam's bias correction).
 */
#include <math.h>

#include "check/check.h"
#include "status_impl.h"

static const double unit_roundoff = 5.9604644775390625e-8; /* 2^-24 */

/* Clipping by global norm: rho = min(1, c / ||g||) on both sides; ||g|| may differ by ||dg||_2, so rho by
 * up to d_rho (the largest change of min(1, c / x) over x in [||g|| - ||dg||, ||g|| + ||dg||]). */
static void clip_factor(const struct nncl_train_options *o, size_t n, const double *g, const double *dg, double *rho,
                        double *d_rho) {
    *rho = 1, *d_rho = 0;
    if (!(o->clip_norm > 0.0f)) return;
    double ss = 0, dd = 0;
    for (size_t i = 0; i < n; i++) ss += g[i] * g[i], dd += dg ? dg[i] * dg[i] : 0;
    const double norm = sqrt(ss), dn = sqrt(dd), c = o->clip_norm;
    const double hi = norm + dn, lo = norm - dn > 0 ? norm - dn : 0;
    *rho = norm > c ? c / norm : 1;
    const double r_hi = hi > c ? c / hi : 1, r_lo = lo > c ? c / lo : 1;
    *d_rho = fmax(fabs(*rho - r_hi), fabs(r_lo - *rho));
}

/* Adam's and RMSprop's scaled step u = k_m m / (sqrt(k_v v) + eps) with m, v after the step. Over a gradient
 * moved by dg: m moves by at most a dg and sqrt(k_v v) by at most b dg (sqrt(k_v v) >= b |g| makes it
 * b-Lipschitz in g), so with D = sqrt(k_v v) + eps and D' >= max(eps, D - b dg) on the other side,
 *   |u - u'| <= |m - m'| / D' + |u| |D - D'| / D' <= (a + b |u|) dg / max(eps, D - b dg)   (exact, not first order)
 * and, where |u| < cap on both sides (cap > 0), never more than |u| + cap. */
static double scaled_step_bound(double u, double D, double a, double b, double dg, double eps, double cap) {
    const double d_min = D - b * dg > eps ? D - b * dg : eps;
    const double bound = (a + b * fabs(u)) * dg / d_min;
    return cap > 0 && bound > fabs(u) + cap ? fabs(u) + cap : bound;
}

enum nncl_status check_update(const struct nncl_train_options *o, long t, size_t n, const float *w, const double *g,
                              const double *dg, const float *s0, const float *s1, double *w_after, double *bound) {
    double rho, d_rho;
    clip_factor(o, n, g, dg, &rho, &d_rho);
    const double lr = o->lr, wd = o->weight_decay, eps = o->eps, mu = o->momentum;
    const double b1 = o->beta1, b2 = o->beta2, bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
    for (size_t i = 0; i < n; i++) {
        const double wi = w[i], m0 = s0 ? s0[i] : 0, v0 = s1 ? s1[i] : 0;
        const double gc = rho * g[i], dgi = dg ? rho * dg[i] + d_rho * (fabs(g[i]) + dg[i]) : 0;
        double step = 0, b = 0; /* w_after = w - step (AdamW's decay aside); b bounds |step - step'| */
        switch (o->optimizer) {
        case NNCL_OPT_SGD: step = lr * (gc + wd * wi), b = lr * dgi; break;
        case NNCL_OPT_MOMENTUM: step = lr * (mu * v0 + gc + wd * wi), b = lr * dgi; break;
        case NNCL_OPT_NESTEROV: {
            const double ge = gc + wd * wi, v = mu * v0 + ge;
            step = lr * (ge + mu * v), b = lr * (1 + mu) * dgi;
            break;
        }
        case NNCL_OPT_ADAM:
        case NNCL_OPT_ADAMW: {
            const double ge = o->optimizer == NNCL_OPT_ADAM ? gc + wd * wi : gc;
            const double m = b1 * m0 + (1 - b1) * ge, v = b2 * v0 + (1 - b2) * ge * ge;
            const double D = sqrt(v / bc2) + eps, u = m / bc1 / D;
            /* both sides' m and v are Adam histories from zero (optimizer_init), so by Cauchy-Schwarz
             * |m| / sqrt(v) <= (1 - b1) / sqrt(1 - b2) sqrt(sum_{j<t} (b1^2 / b2)^j), and |u| below
             * that times sqrt(bc2) / bc1 (1 at t = 1, where u = g / (|g| + eps)) */
            double sum = 0, r = 1;
            for (long j = 0; j < t && j < 100000; j++, r *= b1 * b1 / b2) sum += r;
            const double cap = (1 - b1) / sqrt(1 - b2) * sqrt(sum) * sqrt(bc2) / bc1;
            step = lr * u;
            b = lr * scaled_step_bound(u, D, (1 - b1) / bc1, sqrt((1 - b2) / bc2), dgi, eps, cap);
            if (o->optimizer == NNCL_OPT_ADAMW) step += lr * wd * wi;
            break;
        }
        case NNCL_OPT_RMSPROP: { /* s0: the square average, s1: the momentum buffer */
            const double a = o->rmsprop_alpha, ge = gc + wd * wi, sq = a * m0 + (1 - a) * ge * ge;
            const double D = sqrt(sq) + eps, u = ge / D, k = sqrt(1 - a);
            /* sq >= (1 - a) g^2 (a history from zero), so |u| < 1 / sqrt(1 - a) on both sides */
            const double cap = k > 0 ? 1 / k : 0;
            const double du = scaled_step_bound(u, D, 1, k, dgi, eps, cap);
            step = lr * (o->rmsprop_momentum > 0 ? o->rmsprop_momentum * v0 + u : u), b = lr * du;
            break;
        }
        case NNCL_OPT_IRPROP: { /* s0: the previous gradient, s1: the step sizes */
            const double ge = gc + wd * wi, s = ge * m0;
            double d = v0;
            if (s > 0) d = fmin(d * o->rprop_increase, o->rprop_delta_max);
            else if (s < 0) d = fmax(d * o->rprop_decrease, o->rprop_delta_min);
            step = s < 0 || ge == 0 ? 0 : ge > 0 ? d : -d;
            /* the sign of g (and so the branch) is certain unless |g| <= dg: then either side may step by
             * up to the larger step size either way */
            const double d_any = fmax(fmin(v0 * o->rprop_increase, o->rprop_delta_max), v0);
            b = fabs(ge) <= dgi ? 2 * d_any : 0;
            break;
        }
        case NNCL_OPT_COUNT:
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "check: optimizer %d is not an enum nncl_optimizer value",
                                  (int)o->optimizer);
        }
        w_after[i] = wi - step;
        /* the step's own rounding on each side: a handful of float operations (sqrt and division 3 ulp in
         * OpenCL) on w and on the step, 16 u of each, twice */
        if (bound) bound[i] = b + 32 * unit_roundoff * (fabs(wi) + fabs(step));
    }
    return NNCL_OK;
}
