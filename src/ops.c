/*
 * ops.c: the op table (names, tensors, parameters), shape checking, and the public op wrappers.
 * Every op call of every backend passes through nncl_op_run() here, so shapes are checked in one place
 * and backends may assume valid calls.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend_impl.h"
#include "ops_impl.h"
#include "status_impl.h"
#include "tensor_impl.h"

/* Bit masks for nncl_op_info.written / read_before_write. */
#define T(i) NNCL_OP_T(i)

#define UNPAREN_(...) __VA_ARGS__
#define COUNT_OF_NAMES_(list) (sizeof((const char *[]){UNPAREN_ list}) / sizeof(const char *))

/* The op table, one entry per NNCL_OP_LIST row. */
#define OP_INFO_(ID, name, nt, tn, w, rbw, np, pn, ni, in)                                                 \
    [NNCL_OP_##ID] = {name, nt, {UNPAREN_ tn}, w, rbw, np, {UNPAREN_ pn}, ni, {UNPAREN_ in}},
static const struct nncl_op_info op_infos[] = {NNCL_OP_LIST(OP_INFO_)};
static_assert(sizeof op_infos / sizeof op_infos[0] == NNCL_OP_COUNT, "op_infos has one entry per op");

/* Each row's counts match its name lists (an empty list is (0), one element) and the limits. */
#define OP_COUNTS_OK_(ID, name, nt, tn, w, rbw, np, pn, ni, in)                                            \
    static_assert(nt >= 1 && nt <= NNCL_OP_MAX_TENSORS && COUNT_OF_NAMES_(tn) == (size_t)nt,              \
                  name ": n_tensors matches its tensor names");                                            \
    static_assert(np <= NNCL_OP_MAX_PARAMS && COUNT_OF_NAMES_(pn) == (size_t)(np ? np : 1),               \
                  name ": n_params matches its parameter names");                                          \
    static_assert(ni <= NNCL_OP_MAX_IPARAMS && COUNT_OF_NAMES_(in) == (size_t)(ni ? ni : 1),              \
                  name ": n_iparams matches its integer parameter names");                                 \
    static_assert(((w) | (rbw)) < (1u << (nt)) && ((rbw) & ~(w)) == 0,                                     \
                  name ": masks name its own tensors, and only outputs are read before written");
NNCL_OP_LIST(OP_COUNTS_OK_)

const struct nncl_op_info *nncl_op_get_info(enum nncl_op op) {
    if ((unsigned)op >= NNCL_OP_COUNT) return NULL;
    return &op_infos[op];
}

const char *nncl_op_name(enum nncl_op op) {
    const struct nncl_op_info *info = nncl_op_get_info(op);
    return info ? info->name : "unknown op";
}

/* The activation table, one entry per NNCL_ACT_LIST row. */
struct act_info {
    const char *name;
    int takes_param;
    float default_param, param_min, param_max;
};
#define ACT_INFO_(ID, name, takes, def, lo, hi) [NNCL_ACT_##ID] = {name, takes, def, lo, hi},
static const struct act_info act_infos[] = {NNCL_ACT_LIST(ACT_INFO_)};
static_assert(sizeof act_infos / sizeof act_infos[0] == NNCL_ACT_COUNT, "act_infos has one entry per activation");
/* (That each default lies in its range is a float comparison, which static_assert cannot make in ISO C:
 * tests/test_op_coverage.c checks it.) */

const char *nncl_act_name(enum nncl_act act) {
    if ((unsigned)act >= NNCL_ACT_COUNT) return "unknown activation";
    return act_infos[act].name;
}

enum nncl_status nncl_act_from_name(const char *name, enum nncl_act *out) {
    if (!name || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_act_from_name: NULL argument");
    for (int i = 0; i < NNCL_ACT_COUNT; i++) {
        if (strcmp(name, act_infos[i].name) == 0) {
            *out = (enum nncl_act)i;
            return NNCL_OK;
        }
    }
    /* "identity, sigmoid, ..., leaky_relu or elu" */
    char names[512] = "";
    size_t used = 0;
    for (int i = 0; i < NNCL_ACT_COUNT && used < sizeof names; i++) {
        const char *sep = i == 0 ? "" : i == NNCL_ACT_COUNT - 1 ? " or " : ", ";
        int n = snprintf(names + used, sizeof names - used, "%s%s", sep, act_infos[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown activation \"%s\"; choose %s", name, names);
}

float nncl_act_default_param(enum nncl_act act) {
    if ((unsigned)act >= NNCL_ACT_COUNT) return 0.0f;
    return act_infos[act].default_param;
}

enum nncl_status nncl_act_check(const char *where, int act, float param) {
    if ((unsigned)act >= NNCL_ACT_COUNT) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: activation %d is not an enum nncl_act value", where, act);
    }
    const struct act_info *a = &act_infos[act];
    if (!isfinite(param)) {
        return nncl_set_error(NNCL_ERR_NUMERIC, "%s: %s's parameter is %g; it must be a finite number", where,
                              a->name, (double)param);
    }
    if (a->takes_param && !(param >= a->param_min && param <= a->param_max)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: %s's parameter %g is outside [%g, %g]", where, a->name,
                              (double)param, (double)a->param_min, (double)a->param_max);
    }
    return NNCL_OK;
}

int nncl_backend_supports_op(const struct nncl_backend *be, enum nncl_op op) {
    return be && (unsigned)op < NNCL_OP_COUNT && be->iface.ops[op] != NULL;
}

/* ---- shape checking ---------------------------------------------------------------------------- */

/* "a 3x4, b 4x5, c 3x5": every tensor of the call, for error messages. */
static void describe_shapes(const struct nncl_op_call *call, char *out, size_t cap) {
    const struct nncl_op_info *info = &op_infos[call->op];
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < info->n_tensors && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s %zux%zu", i ? ", " : "", info->tensor_names[i],
                         call->t[i].rows, call->t[i].cols);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static enum nncl_status shape_error(const struct nncl_op_call *call, const char *problem) {
    char shapes[512];
    describe_shapes(call, shapes, sizeof shapes);
    return nncl_set_error(NNCL_ERR_SHAPE, "%s: %s (shapes: %s); fix the tensor shapes passed to this op",
                          op_infos[call->op].name, problem, shapes);
}

static int same_shape(const struct nncl_tensor *x, const struct nncl_tensor *y) {
    return x->rows == y->rows && x->cols == y->cols;
}

/* Every tensor in `mask` has the shape of the first one in it. */
static enum nncl_status check_same_shapes(const struct nncl_op_call *call, unsigned mask) {
    const struct nncl_op_info *info = &op_infos[call->op];
    int first = -1;
    for (int i = 0; i < info->n_tensors; i++) {
        if (!(mask & T(i))) continue;
        if (first < 0) {
            first = i;
        } else if (!same_shape(&call->t[first], &call->t[i])) {
            char problem[160];
            snprintf(problem, sizeof problem, "%s and %s must have the same shape", info->tensor_names[first],
                     info->tensor_names[i]);
            return shape_error(call, problem);
        }
    }
    return NNCL_OK;
}

/* `loss` is one value per row of `x`: (rows x 1). */
static enum nncl_status check_per_row(const struct nncl_op_call *call, int x, int loss) {
    if (call->t[loss].rows != call->t[x].rows || call->t[loss].cols != 1) {
        char problem[160];
        snprintf(problem, sizeof problem, "%s must be %zux1, one value per row of %s",
                 op_infos[call->op].tensor_names[loss], call->t[x].rows, op_infos[call->op].tensor_names[x]);
        return shape_error(call, problem);
    }
    return NNCL_OK;
}

static enum nncl_status check_gemm(const struct nncl_op_call *call) {
    const struct nncl_tensor *a = &call->t[0], *b = &call->t[1], *c = &call->t[2];
    size_t m = call->ip[0] ? a->cols : a->rows, ka = call->ip[0] ? a->rows : a->cols;
    size_t kb = call->ip[1] ? b->cols : b->rows, n = call->ip[1] ? b->rows : b->cols;
    char problem[200];
    if (ka != kb) {
        snprintf(problem, sizeof problem, "op(a) is %zux%zu and op(b) is %zux%zu (trans_a %d, trans_b %d): "
                 "inner dimensions %zu and %zu differ", m, ka, kb, n, call->ip[0], call->ip[1], ka, kb);
        return shape_error(call, problem);
    }
    if (c->rows != m || c->cols != n) {
        snprintf(problem, sizeof problem, "c must be %zux%zu, the shape of op(a) op(b) (trans_a %d, trans_b %d)",
                 m, n, call->ip[0], call->ip[1]);
        return shape_error(call, problem);
    }
    return NNCL_OK;
}

static enum nncl_status check_bias(const struct nncl_op_call *call, int y, int bias) {
    if (call->t[bias].rows != 1 || call->t[bias].cols != call->t[y].cols) {
        char problem[160];
        snprintf(problem, sizeof problem, "%s must be 1x%zu, one value per column of %s",
                 op_infos[call->op].tensor_names[bias], call->t[y].cols, op_infos[call->op].tensor_names[y]);
        return shape_error(call, problem);
    }
    return NNCL_OK;
}

/* The 1x1 squared-norm tensor that the clipping updates read. */
static enum nncl_status check_sumsq(const struct nncl_op_call *call, int index) {
    if (call->t[index].rows != 1 || call->t[index].cols != 1) return shape_error(call, "sumsq must be 1x1");
    return NNCL_OK;
}

static enum nncl_status check_shapes(const struct nncl_op_call *call) {
    switch (call->op) {
    case NNCL_OP_GEMM: return check_gemm(call);
    case NNCL_OP_BIAS_ADD: return check_bias(call, 0, 1);
    case NNCL_OP_BIAS_GRAD: return check_bias(call, 0, 1);
    case NNCL_OP_ACT_FWD: return check_same_shapes(call, T(0) | T(1));
    case NNCL_OP_ACT_BWD: return check_same_shapes(call, T(0) | T(1) | T(2) | T(3));
    case NNCL_OP_SOFTMAX_FWD: return check_same_shapes(call, T(0) | T(1));
    case NNCL_OP_SOFTMAX_BWD: return check_same_shapes(call, T(0) | T(1) | T(2));
    case NNCL_OP_SOFTMAX_XENT_FWD:
    case NNCL_OP_SIGMOID_BCE_FWD: {
        enum nncl_status st = check_same_shapes(call, T(0) | T(1) | T(2));
        return st ? st : check_per_row(call, 0, 3);
    }
    case NNCL_OP_SOFTMAX_XENT_BWD:
    case NNCL_OP_SIGMOID_BCE_BWD:
    case NNCL_OP_MSE_BWD: return check_same_shapes(call, T(0) | T(1) | T(2));
    case NNCL_OP_MSE_FWD:
    case NNCL_OP_CLASS_ERROR: {
        enum nncl_status st = check_same_shapes(call, T(0) | T(1));
        return st ? st : check_per_row(call, 0, 2);
    }
    case NNCL_OP_SUM:
        if (call->t[1].rows != 1 || call->t[1].cols != 1) return shape_error(call, "out must be 1x1");
        return NNCL_OK;
    case NNCL_OP_SGD_UPDATE: return check_same_shapes(call, T(0) | T(1));
    case NNCL_OP_MOMENTUM_UPDATE: return check_same_shapes(call, T(0) | T(1) | T(2));
    case NNCL_OP_ADAM_UPDATE: return check_same_shapes(call, T(0) | T(1) | T(2) | T(3));
    case NNCL_OP_COPY: return check_same_shapes(call, T(0) | T(1));
    case NNCL_OP_FILL:
    case NNCL_OP_SCALE: return NNCL_OK;
    case NNCL_OP_GATHER_ROWS:
        if (call->t[1].cols != 1) return shape_error(call, "idx must have one column");
        if (call->t[2].rows != call->t[1].rows || call->t[2].cols != call->t[0].cols) {
            return shape_error(call, "dst must have a row per index and the columns of src");
        }
        return NNCL_OK;
    case NNCL_OP_BIAS_ACT_FWD: {
        enum nncl_status st = check_bias(call, 0, 1);
        return st ? st : check_same_shapes(call, T(0) | T(2));
    }
    case NNCL_OP_SUMSQ:
        if (call->t[1].rows != 1 || call->t[1].cols != 1) return shape_error(call, "out must be 1x1");
        return NNCL_OK;
    case NNCL_OP_CLIP_GRAD: return check_sumsq(call, 1);
    case NNCL_OP_NESTEROV_UPDATE: {
        enum nncl_status st = check_same_shapes(call, T(0) | T(1) | T(2));
        return st ? st : check_sumsq(call, 3);
    }
    case NNCL_OP_RMSPROP_UPDATE:
    case NNCL_OP_ADAMW_UPDATE:
    case NNCL_OP_IRPROP_UPDATE: {
        enum nncl_status st = check_same_shapes(call, T(0) | T(1) | T(2) | T(3));
        return st ? st : check_sumsq(call, 4);
    }
    case NNCL_OP_DROPOUT: return check_same_shapes(call, T(0) | T(1));
    case NNCL_OP_COUNT: break;
    }
    NNCL_ASSERT(!"unreachable: op validated before check_shapes");
    return NNCL_ERR_INVALID_ARG;
}

/* The index of the op's integer parameter "act" and of its float parameter "act_param"; -1 for none. */
static int op_act_iparam(const struct nncl_op_info *info) {
    for (int i = 0; i < info->n_iparams; i++) {
        if (strcmp(info->iparam_names[i], "act") == 0) return i;
    }
    return -1;
}

static int op_act_param(const struct nncl_op_info *info) {
    for (int i = 0; i < info->n_params; i++) {
        if (strcmp(info->param_names[i], "act_param") == 0) return i;
    }
    NNCL_ASSERT(!"NNCL_OP_LIST: an op with an \"act\" integer parameter has an \"act_param\" float one");
    return 0;
}

/* The ranges of the newer optimizers' constants (their ops' float parameters by name). */
static enum nncl_status check_optimizer_params(const struct nncl_op_call *call) {
    const float *p = call->p;
    /* (ifs, not a switch: the other ops' rules are in check_params, and switches over ops have no default) */
    if (call->op == NNCL_OP_CLIP_GRAD && !(p[0] >= 0.0f)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "clip_grad: max_norm %g must be 0 or more", (double)p[0]);
    }
    if (call->op == NNCL_OP_NESTEROV_UPDATE) {
        if (p[1] >= 0.0f && p[3] >= 0.0f) return NNCL_OK;
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nesterov_update: momentum %g and max_norm %g must be 0 or more",
                              (double)p[1], (double)p[3]);
    }
    if (call->op == NNCL_OP_RMSPROP_UPDATE) {
        if (p[1] >= 0.0f && p[1] < 1.0f && p[2] > 0.0f && p[4] >= 0.0f && p[5] >= 0.0f) return NNCL_OK;
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "rmsprop_update: alpha %g must be in [0, 1), eps %g above 0, "
                              "momentum %g and max_norm %g 0 or more", (double)p[1], (double)p[2], (double)p[4],
                              (double)p[5]);
    }
    if (call->op == NNCL_OP_ADAMW_UPDATE) {
        if (p[1] >= 0.0f && p[1] < 1.0f && p[2] >= 0.0f && p[2] < 1.0f && p[3] > 0.0f && p[7] >= 0.0f) return NNCL_OK;
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "adamw_update: beta1 %g and beta2 %g must be in [0, 1), eps %g "
                              "above 0 and max_norm %g 0 or more", (double)p[1], (double)p[2], (double)p[3], (double)p[7]);
    }
    if (call->op == NNCL_OP_IRPROP_UPDATE) {
        if (p[0] >= 1.0f && p[1] > 0.0f && p[1] <= 1.0f && p[2] >= 0.0f && p[3] >= p[2] && p[5] >= 0.0f) return NNCL_OK;
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "irprop_update: increase %g must be 1 or more, decrease %g in "
                              "(0, 1], 0 <= delta_min %g <= delta_max %g, max_norm %g 0 or more", (double)p[0],
                              (double)p[1], (double)p[2], (double)p[3], (double)p[5]);
    }
    return NNCL_OK;
}

static enum nncl_status check_params(const struct nncl_op_call *call) {
    const struct nncl_op_info *info = &op_infos[call->op];
    for (int i = 0; i < info->n_params; i++) {
        if (!isfinite(call->p[i])) {
            return nncl_set_error(NNCL_ERR_NUMERIC, "%s: parameter %s is %g; it must be a finite number",
                                  info->name, info->param_names[i], (double)call->p[i]);
        }
    }
    if (call->op == NNCL_OP_GEMM && ((unsigned)call->ip[0] > 1 || (unsigned)call->ip[1] > 1)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "gemm: trans_a and trans_b must be 0 or 1 (got %d, %d)",
                              call->ip[0], call->ip[1]);
    }
    if (call->op == NNCL_OP_ADAM_UPDATE &&
        !(call->p[1] >= 0.0f && call->p[1] < 1.0f && call->p[2] >= 0.0f && call->p[2] < 1.0f && call->p[3] > 0.0f)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "adam_update: beta1 %g and beta2 %g must be in [0, 1) and "
                              "eps %g above 0", (double)call->p[1], (double)call->p[2], (double)call->p[3]);
    }
    enum nncl_status opt_st = check_optimizer_params(call);
    if (opt_st) return opt_st;
    if (call->op == NNCL_OP_DROPOUT) return nncl_dropout_check_params(call);
    /* every op that takes an activation: the integer parameter named "act" (NNCL_OP_LIST) */
    const int act = op_act_iparam(info);
    if (act >= 0) return nncl_act_check(info->name, call->ip[act], call->p[op_act_param(info)]);
    return NNCL_OK;
}

enum nncl_status nncl_op_run(struct nncl_backend *be, const struct nncl_op_call *call) {
    if (!be || !call) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_op_run: backend or call is NULL");
    if ((unsigned)call->op >= NNCL_OP_COUNT) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_op_run: op %d is not an enum nncl_op value", (int)call->op);
    }
    const struct nncl_op_info *info = &op_infos[call->op];
    for (int i = 0; i < info->n_tensors; i++) {
        enum nncl_status st = nncl_tensor_check(info->name, info->tensor_names[i], &call->t[i]);
        if (st) return st;
        if (call->t[i].buffer->backend != be) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: tensor %s lives on backend %s, but the op was "
                                  "called on backend %s; copy it over with nncl_tensor_get/set first",
                                  info->name, info->tensor_names[i], call->t[i].buffer->backend->iface.name,
                                  be->iface.name);
        }
    }
    enum nncl_status st = check_params(call);
    if (st) return st;
    st = check_shapes(call);
    if (st) return st;
    if (!be->iface.ops[call->op]) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "%s: not implemented by backend %s", info->name,
                              be->iface.name);
    }
    return be->iface.ops[call->op](be, call);
}

/* ---- typed wrappers ---------------------------------------------------------------------------- */

/* (CALL_INIT and SET_T are in ops_impl.h; the clipping, newer optimizer and dropout wrappers in ops_train.c.) */

enum nncl_status nncl_op_gemm(struct nncl_backend *be, int trans_a, int trans_b, float alpha,
                              const struct nncl_tensor *a, const struct nncl_tensor *b, float beta,
                              const struct nncl_tensor *c) {
    CALL_INIT(NNCL_OP_GEMM);
    SET_T(0, a); SET_T(1, b); SET_T(2, c);
    call.ip[0] = trans_a; call.ip[1] = trans_b;
    call.p[0] = alpha; call.p[1] = beta;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_bias_add(struct nncl_backend *be, const struct nncl_tensor *y,
                                  const struct nncl_tensor *bias) {
    CALL_INIT(NNCL_OP_BIAS_ADD);
    SET_T(0, y); SET_T(1, bias);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_bias_grad(struct nncl_backend *be, float alpha, const struct nncl_tensor *dy,
                                   float beta, const struct nncl_tensor *dbias) {
    CALL_INIT(NNCL_OP_BIAS_GRAD);
    SET_T(0, dy); SET_T(1, dbias);
    call.p[0] = alpha; call.p[1] = beta;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_act_fwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                 const struct nncl_tensor *x, const struct nncl_tensor *y) {
    CALL_INIT(NNCL_OP_ACT_FWD);
    SET_T(0, x); SET_T(1, y);
    call.ip[0] = (int)act; call.p[0] = act_param;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_act_bwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                 const struct nncl_tensor *x, const struct nncl_tensor *y,
                                 const struct nncl_tensor *dy, float beta, const struct nncl_tensor *dx) {
    CALL_INIT(NNCL_OP_ACT_BWD);
    SET_T(0, x); SET_T(1, y); SET_T(2, dy); SET_T(3, dx);
    call.ip[0] = (int)act; call.p[0] = act_param; call.p[1] = beta;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_softmax_fwd(struct nncl_backend *be, const struct nncl_tensor *x,
                                     const struct nncl_tensor *y) {
    CALL_INIT(NNCL_OP_SOFTMAX_FWD);
    SET_T(0, x); SET_T(1, y);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_softmax_bwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                     const struct nncl_tensor *dy, float beta, const struct nncl_tensor *dx) {
    CALL_INIT(NNCL_OP_SOFTMAX_BWD);
    SET_T(0, y); SET_T(1, dy); SET_T(2, dx);
    call.p[0] = beta;
    return nncl_op_run(be, &call);
}

/* The fused losses share one argument pattern: forward (z, t, p, loss), backward (p, t, dz). */
static enum nncl_status loss_fwd(struct nncl_backend *be, enum nncl_op op, const struct nncl_tensor *z,
                                 const struct nncl_tensor *target, const struct nncl_tensor *prob,
                                 const struct nncl_tensor *loss) {
    CALL_INIT(op);
    SET_T(0, z); SET_T(1, target); SET_T(2, prob); SET_T(3, loss);
    return nncl_op_run(be, &call);
}

static enum nncl_status loss_bwd(struct nncl_backend *be, enum nncl_op op, const struct nncl_tensor *y,
                                 const struct nncl_tensor *target, float scale, float beta,
                                 const struct nncl_tensor *dy) {
    CALL_INIT(op);
    SET_T(0, y); SET_T(1, target); SET_T(2, dy);
    call.p[0] = scale; call.p[1] = beta;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_tensor *z,
                                          const struct nncl_tensor *target, const struct nncl_tensor *prob,
                                          const struct nncl_tensor *loss) {
    return loss_fwd(be, NNCL_OP_SOFTMAX_XENT_FWD, z, target, prob, loss);
}

enum nncl_status nncl_op_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_tensor *prob,
                                          const struct nncl_tensor *target, float scale, float beta,
                                          const struct nncl_tensor *dz) {
    return loss_bwd(be, NNCL_OP_SOFTMAX_XENT_BWD, prob, target, scale, beta, dz);
}

enum nncl_status nncl_op_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_tensor *z,
                                         const struct nncl_tensor *target, const struct nncl_tensor *prob,
                                         const struct nncl_tensor *loss) {
    return loss_fwd(be, NNCL_OP_SIGMOID_BCE_FWD, z, target, prob, loss);
}

enum nncl_status nncl_op_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_tensor *prob,
                                         const struct nncl_tensor *target, float scale, float beta,
                                         const struct nncl_tensor *dz) {
    return loss_bwd(be, NNCL_OP_SIGMOID_BCE_BWD, prob, target, scale, beta, dz);
}

enum nncl_status nncl_op_mse_fwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                 const struct nncl_tensor *target, const struct nncl_tensor *loss) {
    CALL_INIT(NNCL_OP_MSE_FWD);
    SET_T(0, y); SET_T(1, target); SET_T(2, loss);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_mse_bwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                 const struct nncl_tensor *target, float scale, float beta,
                                 const struct nncl_tensor *dy) {
    return loss_bwd(be, NNCL_OP_MSE_BWD, y, target, scale, beta, dy);
}

enum nncl_status nncl_op_class_error(struct nncl_backend *be, const struct nncl_tensor *y,
                                     const struct nncl_tensor *target, const struct nncl_tensor *err) {
    CALL_INIT(NNCL_OP_CLASS_ERROR);
    SET_T(0, y); SET_T(1, target); SET_T(2, err);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_sum(struct nncl_backend *be, float alpha, const struct nncl_tensor *x, float beta,
                             const struct nncl_tensor *out) {
    CALL_INIT(NNCL_OP_SUM);
    SET_T(0, x); SET_T(1, out);
    call.p[0] = alpha; call.p[1] = beta;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_sgd_update(struct nncl_backend *be, float lr, float weight_decay,
                                    const struct nncl_tensor *w, const struct nncl_tensor *g) {
    CALL_INIT(NNCL_OP_SGD_UPDATE);
    SET_T(0, w); SET_T(1, g);
    call.p[0] = lr; call.p[1] = weight_decay;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_momentum_update(struct nncl_backend *be, float lr, float momentum,
                                         float weight_decay, const struct nncl_tensor *w,
                                         const struct nncl_tensor *g, const struct nncl_tensor *v) {
    CALL_INIT(NNCL_OP_MOMENTUM_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, v);
    call.p[0] = lr; call.p[1] = momentum; call.p[2] = weight_decay;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_adam_update(struct nncl_backend *be, float lr, float beta1, float beta2, float eps,
                                     float weight_decay, long step, const struct nncl_tensor *w,
                                     const struct nncl_tensor *g, const struct nncl_tensor *m,
                                     const struct nncl_tensor *v) {
    if (step < 1) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "adam_update: step is %ld; steps count from 1", step);
    }
    CALL_INIT(NNCL_OP_ADAM_UPDATE);
    SET_T(0, w); SET_T(1, g); SET_T(2, m); SET_T(3, v);
    call.p[0] = lr; call.p[1] = beta1; call.p[2] = beta2; call.p[3] = eps; call.p[4] = weight_decay;
    /* Bias corrections in double: for large steps beta^step underflows to 0 and the corrections reach 1. */
    call.p[5] = (float)(1.0 - pow((double)beta1, (double)step));
    call.p[6] = (float)(1.0 - pow((double)beta2, (double)step));
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_fill(struct nncl_backend *be, float value, const struct nncl_tensor *x) {
    CALL_INIT(NNCL_OP_FILL);
    SET_T(0, x);
    call.p[0] = value;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_copy(struct nncl_backend *be, const struct nncl_tensor *src,
                              const struct nncl_tensor *dst) {
    CALL_INIT(NNCL_OP_COPY);
    SET_T(0, src); SET_T(1, dst);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_scale(struct nncl_backend *be, float alpha, const struct nncl_tensor *x) {
    CALL_INIT(NNCL_OP_SCALE);
    SET_T(0, x);
    call.p[0] = alpha;
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_gather_rows(struct nncl_backend *be, const struct nncl_tensor *src,
                                     const struct nncl_tensor *idx, const struct nncl_tensor *dst) {
    CALL_INIT(NNCL_OP_GATHER_ROWS);
    SET_T(0, src); SET_T(1, idx); SET_T(2, dst);
    return nncl_op_run(be, &call);
}

enum nncl_status nncl_op_bias_act_fwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                      const struct nncl_tensor *s, const struct nncl_tensor *bias,
                                      const struct nncl_tensor *y) {
    CALL_INIT(NNCL_OP_BIAS_ACT_FWD);
    SET_T(0, s); SET_T(1, bias); SET_T(2, y);
    call.ip[0] = (int)act; call.p[0] = act_param;
    return nncl_op_run(be, &call);
}
