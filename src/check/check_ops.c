/*
 * check_ops.c: op-by-op validation of a device against the CPU reference (the op-case table and a
 * net's GEMM shapes), and the CLBlast guard built on it: a list of product shapes checked once per
 * device, driver and CLBlast version. The trainer (src/train.c) says which shapes; this file knows
 * nothing of training.
 */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend_impl.h"
#include "util/atomic_file.h"
#include "util/cache_dir.h"
#include "check/check.h"
#include "status_impl.h"
#include "util/util.h"

#define GUARD 16
static const float canary = 12345.678f;

int check_compare(const float *ref, const float *got, size_t n, size_t cols, double tol_abs, double tol_rel,
                  struct check_result *r) {
    return check_compare_extra(ref, got, n, cols, tol_abs, tol_rel, NULL, r);
}

int check_compare_extra(const float *ref, const float *got, size_t n, size_t cols, double tol_abs, double tol_rel,
                        const double *extra, struct check_result *r) {
    size_t worst = n;
    r->max_abs_err = 0, r->max_rel_err = 0, r->worst_excess = 0;
    r->tol_abs = tol_abs, r->tol_rel = tol_rel;
    for (size_t i = 0; i < n; i++) {
        const double a = ref[i], b = got[i];
        double excess, diff;
        if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) {
            const int same = (isnan(a) && isnan(b)) || (isinf(a) && a == b);
            diff = same ? 0.0 : INFINITY;
            excess = diff;
        } else {
            diff = fabs(b - a);
            /* diff 0 is within any bound, a zero bound included (exact ops): no 0/0 = NaN verdict */
            excess = diff == 0.0 ? 0.0 : diff / (tol_abs + tol_rel * fabs(a) + (extra ? extra[i] : 0.0));
            if (fabs(a) > 1e-30 && diff / fabs(a) > r->max_rel_err) r->max_rel_err = diff / fabs(a);
        }
        if (diff > r->max_abs_err) r->max_abs_err = diff;
        if (excess > r->worst_excess || worst == n) r->worst_excess = excess, worst = i;
    }
    r->pass = r->worst_excess <= 1.0;
    r->message[0] = '\0';
    /* the trust rule: a reference of (almost) only zeros, or of one repeated value, cannot tell a correct
     * kernel from one that writes a constant (or nothing, onto a zeroed buffer) */
    size_t zeros = 0;
    int constant = n >= 2;
    for (size_t i = 0; i < n; i++) {
        zeros += ref[i] == 0.0f;
        if (!(ref[i] == ref[0])) constant = 0; /* NaN is equal to nothing: not constant */
    }
    r->trusted = 1;
    r->trust_note[0] = '\0';
    if (!r->expect_constant && (zeros * 10 > n * 9 || constant)) {
        r->trusted = 0;
        if (constant) snprintf(r->trust_note, sizeof r->trust_note, "all %zu reference values equal %.9g", n, (double)ref[0]);
        else snprintf(r->trust_note, sizeof r->trust_note, "%zu of %zu reference values are exactly 0 (over 90%%)", zeros, n);
    }
    if (!r->pass && worst < n) {
        const size_t c = cols ? cols : 1;
        const double e = extra ? extra[worst] : 0.0;
        char own[64] = "";
        if (extra) snprintf(own, sizeof own, " + this element's %.2e", e);
        snprintf(r->message, sizeof r->message, "%s: worst index %zu (row %zu, col %zu): reference %.9g, device %.9g, "
                 "|diff| %.3g > bound %.3g (abs %.2e + rel %.2e%s; %s)", r->what, worst, worst / c, worst % c,
                 (double)ref[worst], (double)got[worst], fabs((double)got[worst] - ref[worst]),
                 tol_abs + tol_rel * fabs((double)ref[worst]) + e, tol_abs, tol_rel, own, r->tol_source);
    }
    return r->pass;
}

const char *check_verdict(const struct check_result *r) {
    return !r->pass ? "FAIL" : r->trusted ? "ok" : "MISTRUSTED";
}

/* Set by check_set_simulated: outputs a correct op never reads stay unwritten on the device (only their
 * guards are uploaded), so a simulator that tracks uninitialised memory (Oclgrind --uninitialized)
 * reports any kernel that reads them, where on a real device only a NaN pre-fill could show it. */
static int simulated;

void check_set_simulated(int on) { simulated = on; }

struct guarded {
    struct nncl_buffer *buf;
    struct nncl_tensor t;
    size_t n;
    size_t lead; /* canary floats before the tensor: GUARD plus the case's offset */
};

static enum nncl_status alloc_guarded(struct nncl_backend *be, size_t rows, size_t cols, const float *data,
                                      int unwritten, size_t offset, struct guarded *g) {
    g->n = rows * cols;
    g->lead = GUARD + offset;
    const size_t total = g->lead + g->n + GUARD;
    float *host = malloc(total * sizeof(float));
    if (!host) return nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
    for (size_t i = 0; i < g->lead; i++) host[i] = canary;
    for (size_t i = 0; i < GUARD; i++) host[g->lead + g->n + i] = canary;
    memcpy(host + g->lead, data, g->n * sizeof(float));
    enum nncl_status st = nncl_buffer_alloc(be, total * sizeof(float), &g->buf);
    struct nncl_tensor whole = nncl_tensor_view(g->buf, 0, 1, total);
    if (!st && !unwritten) st = nncl_tensor_set(&whole, host, total);
    if (!st && unwritten) { /* the guards only: the tensor itself keeps whatever the device had */
        struct nncl_tensor before = nncl_tensor_view(g->buf, 0, 1, g->lead), after = nncl_tensor_view(g->buf, g->lead + g->n, 1, GUARD);
        st = nncl_tensor_set(&before, host, g->lead);
        if (!st) st = nncl_tensor_set(&after, host + g->lead + g->n, GUARD);
    }
    free(host);
    g->t = nncl_tensor_view(g->buf, g->lead, rows, cols);
    return st;
}

/* Reads the tensor into out; returns 0 and describes the damage in msg if a guard was overwritten. */
static enum nncl_status read_guarded(const struct guarded *g, float *out, int *guards_ok) {
    const size_t total = g->lead + g->n + GUARD;
    float *host = malloc(total * sizeof(float));
    if (!host) return nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
    struct nncl_tensor whole = nncl_tensor_view(g->buf, 0, 1, total);
    enum nncl_status st = nncl_tensor_get(&whole, host, total);
    *guards_ok = 1;
    for (size_t i = 0; !st && i < g->lead; i++) *guards_ok &= !memcmp(&host[i], &canary, sizeof canary);
    for (size_t i = 0; !st && i < GUARD; i++) *guards_ok &= !memcmp(&host[g->lead + g->n + i], &canary, sizeof canary);
    if (!st) memcpy(out, host + g->lead, g->n * sizeof(float));
    free(host);
    return st;
}

/*
 * The seed of a case's inputs: FNV-1a of its bytes in the layout op cases had with two integer parameters, the
 * further ones (dropout's key) appended only when one is set. Growing NNCL_OP_MAX_IPARAMS would otherwise have
 * redrawn every older case's inputs (and turned some 1x1 cases into all-zero, MISTRUSTED, references).
 */
static uint64_t case_seed(const struct op_case *c) {
    struct {
        enum nncl_op op;
        size_t rows, cols, k;
        int ip[2];
        float p[NNCL_OP_MAX_PARAMS];
        float range;
        int inplace;
        char note[64];
    } v1;
    memset(&v1, 0, sizeof v1); /* padding included, as the table's static storage has it */
    v1.op = c->op, v1.rows = c->rows, v1.cols = c->cols, v1.k = c->k;
    memcpy(v1.ip, c->ip, sizeof v1.ip);
    memcpy(v1.p, c->p, sizeof v1.p);
    v1.range = c->range, v1.inplace = c->inplace;
    memcpy(v1.note, c->note, sizeof v1.note);
    uint64_t h = nncl_fnv1a(NNCL_FNV1A_INIT, &v1, sizeof v1);
    int more = 0;
    for (int i = 2; i < NNCL_OP_MAX_IPARAMS; i++) more |= c->ip[i] != 0;
    return more ? nncl_fnv1a(h, c->ip + 2, (NNCL_OP_MAX_IPARAMS - 2) * sizeof(int)) : h;
}

/* Runs the case on `be` from `inputs`, reading every tensor into `result`; times `repeats` more runs. */
static enum nncl_status run_case(struct nncl_backend *be, struct nncl_backend *cpu_reference, const struct op_case *c,
                                 size_t offset, float *const *inputs, float **result, int repeats, double *ms, char *damage,
                                 size_t damage_cap) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    struct guarded g[NNCL_OP_MAX_TENSORS];
    memset(g, 0, sizeof g);
    struct nncl_op_call call = {.op = c->op};
    memcpy(call.p, c->p, sizeof call.p);
    memcpy(call.ip, c->ip, sizeof call.ip);
    enum nncl_status st = NNCL_OK;
    for (int i = 0; !st && i < info->n_tensors; i++) {
        const int unwritten = simulated && be != cpu_reference && op_case_output_starts_nan(c, i) && !c->inplace;
        st = alloc_guarded(be, rows[i], cols[i], inputs[i], unwritten, offset, &g[i]);
        call.t[i] = g[i].t;
    }
    /* in place: the output lives in the input's buffer (act_fwd y = x; act_bwd dx = dy; dropout y = x) */
    const int alias_out = !c->inplace ? -1 : c->op == NNCL_OP_ACT_BWD ? 3 : 1;
    const int alias_in = !c->inplace ? -1 : c->op == NNCL_OP_ACT_BWD ? 2 : 0;
    if (alias_out >= 0) call.t[alias_out] = call.t[alias_in];
    if (!st) st = nncl_op_run(be, &call);
    if (!st) st = nncl_backend_synchronize(be);
    for (int i = 0; !st && i < info->n_tensors; i++) {
        int guards_ok = 1;
        st = read_guarded(&g[i], result[i], &guards_ok);
        if (!guards_ok && !damage[0]) {
            snprintf(damage, damage_cap, "backend %s wrote outside tensor %s (its guard region changed)",
                     nncl_backend_name(be), info->tensor_names[i]);
        }
    }
    if (!st && alias_out >= 0) memcpy(result[alias_out], result[alias_in], rows[alias_in] * cols[alias_in] * sizeof(float));
    *ms = 0;
    if (!st && repeats > 0) {
        const double t0 = nncl_now_ms();
        for (int r = 0; !st && r < repeats; r++) st = nncl_op_run(be, &call);
        if (!st) st = nncl_backend_synchronize(be);
        *ms = (nncl_now_ms() - t0) / repeats;
    }
    for (int i = 0; i < info->n_tensors; i++) nncl_buffer_free(g[i].buf);
    return st;
}

enum nncl_status check_op_case(struct nncl_backend *cpu, struct nncl_backend *dev, const struct op_case *c,
                               int repeats, struct check_result *out) {
    return check_op_case_at(cpu, dev, c, 0, repeats, out);
}

enum nncl_status check_op_case_at(struct nncl_backend *cpu, struct nncl_backend *dev, const struct op_case *c,
                                  size_t offset, int repeats, struct check_result *out) {
    memset(out, 0, sizeof *out);
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    op_case_describe(c, out->what, sizeof out->what);
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    snprintf(out->op, sizeof out->op, "%s", info->name);
    for (int i = 0, used = 0; i < info->n_tensors && used >= 0 && (size_t)used < sizeof out->shape; i++) {
        used += snprintf(out->shape + used, sizeof out->shape - (size_t)used, "%s%s %zux%zu", i ? " " : "",
                         info->tensor_names[i], rows[i], cols[i]);
    }
    float *inputs[NNCL_OP_MAX_TENSORS] = {0}, *ref[NNCL_OP_MAX_TENSORS] = {0}, *got[NNCL_OP_MAX_TENSORS] = {0};
    enum nncl_status st = NNCL_OK;
    /* seeded from the case's contents: every run of a case sees the same numbers (FNV-1a) */
    uint64_t rng = case_seed(c);
    for (int i = 0; i < info->n_tensors; i++) {
        const size_t n = rows[i] * cols[i];
        inputs[i] = malloc(n * sizeof(float));
        ref[i] = malloc(n * sizeof(float));
        got[i] = malloc(n * sizeof(float));
        if (!inputs[i] || !ref[i] || !got[i]) {
            st = nncl_set_error(NNCL_ERR_OOM, "check: out of host memory");
            break;
        }
        op_case_fill(c, i, inputs[i], rows[i], cols[i], &rng);
        /* outputs a correct op never reads start as NaN: any element left unwritten shows */
        if (op_case_output_starts_nan(c, i) && !c->inplace) {
            for (size_t k = 0; k < n; k++) inputs[i][k] = NAN;
        }
    }
    char damage[256] = "";
    double cpu_ms = 0;
    if (!st) st = run_case(cpu, cpu, c, offset, inputs, ref, 0, &cpu_ms, damage, sizeof damage);
    damage[0] = '\0'; /* the reference's own guards are checked by the CPU tests */
    if (!st) st = run_case(dev, cpu, c, offset, inputs, got, repeats, &out->device_ms, damage, sizeof damage);
    const struct op_tolerance tol = op_case_tolerance(c);
    out->pass = 1;
    out->trusted = 1;
    out->expect_constant = c->op == NNCL_OP_FILL; /* its output is one value by definition; compared exactly */
    snprintf(out->tol_source, sizeof out->tol_source, "%s", op_case_tolerance_source(c));
    for (int i = 0; !st && i < info->n_tensors; i++) {
        const size_t n = rows[i] * cols[i];
        const int aliased_input = c->inplace && i == (c->op == NNCL_OP_ACT_BWD ? 2 : 0);
        if (info->written & (1u << i)) {
            struct check_result r = *out;
            snprintf(r.what, sizeof r.what, "%.340s, tensor %s", out->what, info->tensor_names[i]);
            check_compare(ref[i], got[i], n, cols[i], tol.abs, tol.rel, &r);
            if (r.max_abs_err > out->max_abs_err) out->max_abs_err = r.max_abs_err;
            if (r.max_rel_err > out->max_rel_err) out->max_rel_err = r.max_rel_err;
            if (r.worst_excess > out->worst_excess) out->worst_excess = r.worst_excess;
            if (!r.trusted && out->trusted) {
                out->trusted = 0;
                snprintf(out->trust_note, sizeof out->trust_note, "tensor %s: %.120s", info->tensor_names[i], r.trust_note);
            }
            if (!r.pass && out->pass) {
                out->pass = 0;
                snprintf(out->message, sizeof out->message, "%s", r.message);
            }
        } else if (!aliased_input && memcmp(inputs[i], got[i], n * sizeof(float)) != 0 && out->pass) {
            out->pass = 0;
            snprintf(out->message, sizeof out->message, "%s: backend %s modified input %s", out->what,
                     nncl_backend_name(dev), info->tensor_names[i]);
        }
    }
    out->tol_abs = tol.abs, out->tol_rel = tol.rel;
    if (!st && damage[0] && out->pass) {
        out->pass = 0;
        snprintf(out->message, sizeof out->message, "%s: %s", out->what, damage);
    }
    for (int i = 0; i < info->n_tensors; i++) free(inputs[i]), free(ref[i]), free(got[i]);
    return st;
}

/* Every layer's forward product, and with `backward` its weight and input gradient products, at `batch` rows. */
static size_t net_gemm_cases(const struct nncl_model_spec *s, size_t batch, int backward, struct op_case *out,
                             size_t cap) {
    size_t n = 0;
    for (size_t l = 0; l < s->n_layers; l++) {
        const size_t in = l == 0 ? s->n_inputs : s->layers[l - 1].units, units = s->layers[l].units;
        /* forward S = X W^T: (B x in)(units x in)^T; weight gradient dW = dS^T X: (units x B)^T... ; dX = dS W */
        const struct op_case cases[3] = {
            {NNCL_OP_GEMM, batch, units, in, {0, 1}, {1.0f, 0.0f}, 1.0f, 0, ""},
            {NNCL_OP_GEMM, units, in, batch, {1, 0}, {1.0f, 0.0f}, 1.0f, 0, ""},
            {NNCL_OP_GEMM, batch, in, units, {0, 0}, {1.0f, 0.0f}, 1.0f, 0, ""},
        };
        static const char *const names[3] = {"forward X W^T", "weight gradient dS^T X", "input gradient dS W"};
        for (int k = 0; k < (backward ? 3 : 1); k++) {
            if (k == 2 && l == 0) continue; /* the first layer's input gradient is never computed */
            if (n < cap) {
                out[n] = cases[k];
                snprintf(out[n].note, sizeof out[n].note, "layer %zu %s", l + 1, names[k]);
            }
            n++;
        }
    }
    return n;
}

size_t check_net_gemm_cases(const struct nncl_model_spec *s, size_t batch, struct op_case *out, size_t cap) {
    return net_gemm_cases(s, batch, 1, out, cap);
}

size_t check_net_forward_gemm_cases(const struct nncl_model_spec *s, size_t batch, struct op_case *out, size_t cap) {
    return net_gemm_cases(s, batch, 0, out, cap);
}

/* ---- the CLBlast guard ------------------------------------------------------------------------- */

/* The key: everything that could change CLBlast's answer, and the shapes checked. */
static uint64_t guard_key(struct nncl_backend *dev, const struct op_case *cases, size_t n) {
    uint64_t h = nncl_fnv1a_str(NNCL_FNV1A_INIT, nncl_backend_versions(dev));
    for (size_t i = 0; i < n; i++) {
        const size_t dims[5] = {cases[i].rows, cases[i].cols, cases[i].k, (size_t)cases[i].ip[0], (size_t)cases[i].ip[1]};
        h = nncl_fnv1a(h, dims, sizeof dims);
    }
    return h;
}

static int guard_cached(const char *dir, uint64_t key) {
    char path[600];
    snprintf(path, sizeof path, "%s/clblast-verified-%016llx", dir, (unsigned long long)key);
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The mark's text: the versions it was verified with (an nncl_write_fn). */
static int write_mark(FILE *f, const void *versions) { return fprintf(f, "%s\n", (const char *)versions) >= 0; }

static void guard_remember(const char *dir, uint64_t key, struct nncl_backend *dev) {
    char path[600];
    snprintf(path, sizeof path, "%s/clblast-verified-%016llx", dir, (unsigned long long)key);
    /* failing only costs a re-check next time */
    if (nncl_make_dirs(dir) || nncl_atomic_replace(path, "CLBlast guard: ", write_mark, nncl_backend_versions(dev))) {
        nncl_clear_error();
    }
}

enum nncl_status check_clblast_guard(struct nncl_backend *dev, const struct op_case *cases, size_t n) {
    char dir[512];
    nncl_cache_dir(NULL, dir, sizeof dir);
    const uint64_t key = guard_key(dev, cases, n);
    if (guard_cached(dir, key)) return NNCL_OK;
    struct nncl_backend *cpu = NULL;
    enum nncl_status st = nncl_backend_init("cpu", &cpu);
    for (size_t i = 0; !st && i < n; i++) {
        struct check_result r;
        st = check_op_case(cpu, dev, &cases[i], 0, &r);
        if (!st && !r.pass) {
            char detail[1024];
            snprintf(detail, sizeof detail, "%s", r.message);
            st = nncl_set_error(NNCL_ERR_CLBLAST, "CLBlast gives wrong results on this device for the net's own "
                                "matrix products, so training would be wrong: %s. Device and libraries: %s. Try "
                                "another driver or CLBlast version, run `nncl check` for the full picture, or pass "
                                "--no-verify (verify_gemm = 0 in the library) to train anyway", detail, nncl_backend_versions(dev));
        }
    }
    nncl_backend_free(cpu);
    if (!st) guard_remember(dir, key, dev);
    return st;
}
