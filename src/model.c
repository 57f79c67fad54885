/*
 * model.c: fully connected models: specs, initialisation, and the forward and backward passes as
 * sequences of backend ops (the lecture's forward x^(l) = theta(W x^(l-1)) and backward delta recursion).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/preprocess_json.h"
#include "model_impl.h"
#include "ops_impl.h"
#include "random_impl.h"
#include "status_impl.h"
#include "util/util.h"

static const char *const loss_names[NNCL_LOSS_COUNT] = {"mse", "bce", "xent"};
static const char *const init_names[NNCL_INIT_COUNT] = {"uniform", "xavier", "he", "zero"};

const char *nncl_loss_name(enum nncl_loss loss) {
    return (unsigned)loss < NNCL_LOSS_COUNT ? loss_names[loss] : "unknown loss";
}

enum nncl_status nncl_loss_from_name(const char *name, enum nncl_loss *out) {
    for (int i = 0; name && i < NNCL_LOSS_COUNT; i++) {
        if (strcmp(name, loss_names[i]) == 0) return *out = (enum nncl_loss)i, NNCL_OK;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown loss \"%s\"; choose mse, bce or xent", name ? name : "");
}

const char *nncl_init_name(enum nncl_init init) {
    return (unsigned)init < NNCL_INIT_COUNT ? init_names[init] : "unknown init";
}

enum nncl_status nncl_init_from_name(const char *name, enum nncl_init *out) {
    for (int i = 0; name && i < NNCL_INIT_COUNT; i++) {
        if (strcmp(name, init_names[i]) == 0) return *out = (enum nncl_init)i, NNCL_OK;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown initialisation \"%s\"; choose uniform, xavier, he or zero",
                          name ? name : "");
}

/* ---- specs ------------------------------------------------------------------------------------- */

/* Whether an activation uses its parameter (the takes_param column of NNCL_ACT_LIST). */
static int act_takes_param(enum nncl_act act) {
#define ACT_TAKES_(ID, name, takes, ...) [NNCL_ACT_##ID] = takes,
    static const int takes[] = {NNCL_ACT_LIST(ACT_TAKES_)};
#undef ACT_TAKES_
    return (unsigned)act < NNCL_ACT_COUNT && takes[act];
}

enum nncl_status nncl_parse_hidden(const char *text, struct nncl_model_spec *spec) {
    if (!text || !spec) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_parse_hidden: NULL argument");
    const char *p = text;
    while (*p) {
        char item[128];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item) {
            return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": empty or overlong layer at character %zu; "
                                  "write layers as units:activation separated by commas, e.g. 256:relu,128:tanh",
                                  text, (size_t)(p - text) + 1);
        }
        memcpy(item, p, len);
        item[len] = '\0';
        /* the layer's dropout rate, written last: units[:activation[:param]][:dropout=P] */
        float rate = 0.0f;
        char *drop = strstr(item, "dropout=");
        if (drop) {
            char *end = NULL;
            const char *v = drop + strlen("dropout=");
            rate = strtof(v, &end);
            if (drop == item || drop[-1] != ':' || !*v || *end || !isfinite(rate)) {
                return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": \"%s\": write the dropout rate last, as "
                                      "a number after the layer's other fields, e.g. 256:relu:dropout=0.2", text, item);
            }
            if (!(rate >= 0.0f && rate < 1.0f)) {
                return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": dropout=%s must be in [0, 1) (the fraction "
                                      "of the layer's units dropped in each training step)", text, v);
            }
            drop[-1] = '\0'; /* the rest is parsed as before */
        }
        if (spec->n_layers >= NNCL_MAX_LAYERS - 1) { /* every caller appends the output layer after these */
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "--hidden \"%s\": more than %d hidden layers (a net has at "
                                  "most %d layers, the output layer included)", text, NNCL_MAX_LAYERS - 1,
                                  NNCL_MAX_LAYERS);
        }
        char *colon = strchr(item, ':');
        char *units_end = NULL;
        unsigned long long units = strtoull(item, &units_end, 10);
        if (!isdigit((unsigned char)item[0]) || units == 0 || units > 1000000 || (units_end != colon && *units_end)) {
            return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": \"%s\" needs a unit count from 1 to 1000000 "
                                  "before the colon, e.g. 128:relu", text, item);
        }
        struct nncl_layer_spec *layer = &spec->layers[spec->n_layers];
        layer->units = (size_t)units;
        layer->act = NNCL_ACT_TANH; /* the lecture's default */
        if (colon) {
            char *param = strchr(colon + 1, ':');
            if (param) *param++ = '\0';
            enum nncl_status st = nncl_act_from_name(colon + 1, &layer->act);
            if (st) return nncl_prefix_error(NNCL_ERR_FORMAT, "--hidden \"%s\": ", text);
            layer->act_param = nncl_act_default_param(layer->act);
            if (param && !act_takes_param(layer->act)) {
                return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": %s takes no parameter (\"%s\" would be "
                                      "ignored); write %s",
                                      text, nncl_act_name(layer->act), param, item);
            }
            if (param) {
                char *end = NULL;
                layer->act_param = strtof(param, &end);
                if (!*param || *end || !isfinite(layer->act_param)) {
                    return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": activation parameter \"%s\" is not a "
                                          "number", text, param);
                }
                /* the range the op list gives it (elu:-3 was accepted here, then refused by the spec check) */
                st = nncl_act_check("activation", (int)layer->act, layer->act_param);
                if (st) return nncl_prefix_error(NNCL_ERR_FORMAT, "--hidden \"%s\": ", text);
            }
        } else {
            layer->act_param = nncl_act_default_param(layer->act);
        }
        layer->dropout = rate;
        spec->n_layers++;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p) return nncl_set_error(NNCL_ERR_FORMAT, "--hidden \"%s\": trailing comma", text);
        }
    }
    return NNCL_OK;
}

enum nncl_status nncl_model_spec_check(const struct nncl_model_spec *s) {
    if (!s) return nncl_set_error(NNCL_ERR_INVALID_ARG, "model spec is NULL");
    if (s->n_inputs == 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: the data has no input columns");
    if (s->n_layers < 1 || s->n_layers > NNCL_MAX_LAYERS) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: %zu layers; between 1 and %d are supported", s->n_layers,
                              NNCL_MAX_LAYERS);
    }
    for (size_t l = 0; l < s->n_layers; l++) {
        if (s->layers[l].units == 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: layer %zu has 0 units", l + 1);
        if ((unsigned)s->layers[l].act >= NNCL_ACT_COUNT || !isfinite(s->layers[l].act_param)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: layer %zu has an invalid activation", l + 1);
        }
        char where[48];
        snprintf(where, sizeof where, "model: layer %zu", l + 1);
        enum nncl_status st = nncl_act_check(where, (int)s->layers[l].act, s->layers[l].act_param);
        if (st) return st;
        const float p = s->layers[l].dropout;
        if (!(p >= 0.0f && p < 1.0f)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: layer %zu has dropout %g; the rate must be in [0, 1)",
                                  l + 1, (double)p);
        }
        if (p > 0.0f && l + 1 == s->n_layers) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: layer %zu is the output layer and cannot take dropout "
                                  "(%g): dropout applies to hidden layers only", l + 1, (double)p);
        }
    }
    const size_t outputs = nncl_model_outputs(s);
    if ((unsigned)s->loss >= NNCL_LOSS_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: invalid loss");
    if (s->loss == NNCL_LOSS_XENT && outputs < 2) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: softmax cross-entropy needs at least 2 outputs (got %zu); "
                              "use the bce loss for one 0/1 output", outputs);
    }
    if (s->output_softmax && s->loss != NNCL_LOSS_MSE) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: a softmax output with the %s loss; softmax is already "
                              "part of xent, so use --loss xent, or mse with a softmax output", nncl_loss_name(s->loss));
    }
    return NNCL_OK;
}

/* ---- creation ---------------------------------------------------------------------------------- */

static float uniform(uint64_t *state, double bound) {
    const double u = nncl_random_unit(state);
    return (float)((2.0 * u - 1.0) * bound);
}

static void init_layer(const struct nncl_model_spec *s, size_t l, enum nncl_init init, uint64_t *rng, float *w, float *b) {
    const size_t in = nncl_layer_in(s, l), out = nncl_layer_out(s, l);
    double wb = 0.0, bb = 0.0;
    switch (init) {
    case NNCL_INIT_UNIFORM: wb = bb = 1.0 / sqrt((double)in); break;
    case NNCL_INIT_XAVIER: wb = sqrt(6.0 / (double)(in + out)); break;
    case NNCL_INIT_HE: wb = sqrt(6.0 / (double)in); break;
    default: break; /* zero */
    }
    for (size_t i = 0; i < in * out; i++) w[i] = wb > 0.0 ? uniform(rng, wb) : 0.0f;
    for (size_t j = 0; j < out; j++) b[j] = bb > 0.0 ? uniform(rng, bb) : 0.0f;
}

/* The model's shape: spec, parameter offsets and count; no memory for the parameters. */
static enum nncl_status model_shape(struct nncl_backend *be, const struct nncl_model_spec *spec, struct nncl_model **out) {
    enum nncl_status st = nncl_model_spec_check(spec);
    if (st) return st;
    struct nncl_model *m = calloc(1, sizeof *m);
    if (!m) return nncl_set_error(NNCL_ERR_OOM, "model: out of host memory");
    m->be = be;
    m->spec = *spec;
    for (size_t l = 0; l < spec->n_layers; l++) {
        m->w_off[l] = m->n_params;
        m->n_params += nncl_layer_in(spec, l) * nncl_layer_out(spec, l);
        m->b_off[l] = m->n_params;
        m->n_params += nncl_layer_out(spec, l);
    }
    *out = m;
    return NNCL_OK;
}

enum nncl_status nncl_model_init_shape(struct nncl_backend *be, const struct nncl_model_spec *spec,
                                       struct nncl_model **out) {
    if (!be || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_init_shape: backend or out is NULL");
    *out = NULL;
    return model_shape(be, spec, out);
}

enum nncl_status nncl_model_init(struct nncl_backend *be, const struct nncl_model_spec *spec, enum nncl_init init,
                                 uint64_t seed, struct nncl_model **out) {
    if (!be || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_init: backend or out is NULL");
    *out = NULL;
    if ((unsigned)init >= NNCL_INIT_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_init: invalid init");
    struct nncl_model *m = NULL;
    enum nncl_status st = model_shape(be, spec, &m);
    if (st) return st;
    m->seed = seed;
    const size_t n_params = m->n_params;
    float *host = malloc(n_params * sizeof(float));
    if (!host) {
        free(m);
        return nncl_set_error(NNCL_ERR_OOM, "model: out of host memory for %zu parameters", n_params);
    }
    uint64_t rng = seed;
    for (size_t l = 0; l < spec->n_layers; l++) init_layer(spec, l, init, &rng, host + m->w_off[l], host + m->b_off[l]);
    st = nncl_buffer_alloc(be, m->n_params * sizeof(float), &m->params);
    if (!st) st = nncl_buffer_alloc(be, m->n_params * sizeof(float), &m->grads);
    if (!st) st = nncl_model_set_params(m, host, m->n_params);
    if (!st) {
        struct nncl_tensor g = nncl_model_grads(m);
        st = nncl_op_fill(be, 0.0f, &g);
    }
    free(host);
    if (st) {
        nncl_model_free(m);
        return st;
    }
    *out = m;
    return NNCL_OK;
}

void nncl_model_free(struct nncl_model *m) {
    if (!m) return;
    nncl_buffer_free(m->params);
    nncl_buffer_free(m->grads);
    nncl_buffer_free(m->work);
    for (size_t i = 0; m->class_names && i < m->n_classes; i++) free(m->class_names[i]);
    free(m->class_names);
    nncl_preprocess_free(&m->preprocess);
    free(m);
}

const struct nncl_model_spec *nncl_model_get_spec(const struct nncl_model *m) { return &m->spec; }
struct nncl_backend *nncl_model_backend(const struct nncl_model *m) { return m->be; }
size_t nncl_model_param_count(const struct nncl_model *m) { return m->n_params; }

struct nncl_tensor nncl_model_weight(const struct nncl_model *m, size_t l) {
    return nncl_tensor_view(m->params, m->w_off[l], nncl_layer_out(&m->spec, l), nncl_layer_in(&m->spec, l));
}
struct nncl_tensor nncl_model_bias(const struct nncl_model *m, size_t l) {
    return nncl_tensor_view(m->params, m->b_off[l], 1, nncl_layer_out(&m->spec, l));
}
struct nncl_tensor nncl_model_weight_grad(const struct nncl_model *m, size_t l) {
    return nncl_tensor_view(m->grads, m->w_off[l], nncl_layer_out(&m->spec, l), nncl_layer_in(&m->spec, l));
}
struct nncl_tensor nncl_model_bias_grad(const struct nncl_model *m, size_t l) {
    return nncl_tensor_view(m->grads, m->b_off[l], 1, nncl_layer_out(&m->spec, l));
}
struct nncl_tensor nncl_model_params(const struct nncl_model *m) { return nncl_tensor_view(m->params, 0, 1, m->n_params); }
struct nncl_tensor nncl_model_grads(const struct nncl_model *m) { return nncl_tensor_view(m->grads, 0, 1, m->n_params); }

enum nncl_status nncl_model_get_params(const struct nncl_model *m, float *out, size_t n) {
    struct nncl_tensor p = nncl_model_params(m);
    return nncl_tensor_get(&p, out, n);
}

enum nncl_status nncl_model_set_params(struct nncl_model *m, const float *in, size_t n) {
    struct nncl_tensor p = nncl_model_params(m);
    return nncl_tensor_set(&p, in, n);
}

struct nncl_tensor nncl_model_layer_tensor(const struct nncl_model *m, size_t l, enum nncl_layer_tensor which,
                                           size_t rows) {
    const size_t off = which == NNCL_LAYER_S ? m->s_off[l] : which == NNCL_LAYER_X ? m->x_off[l] : m->d_off[l];
    return nncl_tensor_view(m->work, off, rows, nncl_layer_out(&m->spec, l));
}

size_t nncl_model_workspace_bytes(const struct nncl_model_spec *s, size_t rows) {
    size_t floats = 0;
    for (size_t l = 0; l < s->n_layers; l++) floats += (s->layers[l].dropout > 0.0f ? 4 : 3) * rows * nncl_layer_out(s, l);
    if (s->output_softmax) floats += rows * nncl_model_outputs(s);
    return floats * sizeof(float);
}

/* Whether any of the tensor's values is NaN or infinite (a blocking read). */
static int tensor_nonfinite(const struct nncl_tensor *t) {
    const size_t n = t->rows * t->cols;
    float *v = malloc(n * sizeof *v);
    int bad = 0;
    if (!v || nncl_tensor_get(t, v, n) != NNCL_OK) bad = -1;
    for (size_t i = 0; bad == 0 && i < n; i++) bad = !isfinite(v[i]);
    free(v);
    return bad == 1;
}

int nncl_model_find_nonfinite(struct nncl_model *m, size_t rows, int check_grads, char *where, size_t cap) {
    const struct nncl_model_spec *s = &m->spec;
    const size_t last = s->n_layers - 1;
    for (size_t l = 0; l < s->n_layers; l++) {
        const char *act = l == last && s->loss == NNCL_LOSS_XENT ? "softmax"
                          : l == last && s->loss == NNCL_LOSS_BCE ? "sigmoid"
                          : l == last && s->output_softmax        ? "softmax"
                                                                  : nncl_act_name(s->layers[l].act);
        struct nncl_tensor sl = nncl_tensor_view(m->work, m->s_off[l], rows, nncl_layer_out(s, l));
        struct nncl_tensor xl = nncl_tensor_view(m->work, m->x_off[l], rows, nncl_layer_out(s, l));
        const char *what = tensor_nonfinite(&sl) ? "pre-activation s = W x + b" : tensor_nonfinite(&xl) ? "output" : NULL;
        if (what) {
            snprintf(where, cap, "layer %zu (%zu units, %s): %s", l + 1, nncl_layer_out(s, l), act, what);
            return 1;
        }
    }
    for (size_t l = last + 1; check_grads && l-- > 0;) {
        struct nncl_tensor dw = nncl_model_weight_grad(m, l), db = nncl_model_bias_grad(m, l);
        if (tensor_nonfinite(&dw) || tensor_nonfinite(&db)) {
            snprintf(where, cap, "layer %zu (%zu units): the gradient of its weights", l + 1, nncl_layer_out(s, l));
            return 1;
        }
    }
    if (check_grads) {
        /* everything finite, yet the loss was not: the outputs are so large that the loss overflows */
        struct nncl_tensor out = nncl_tensor_view(m->work, m->x_off[last], rows, nncl_layer_out(s, last));
        const size_t n = rows * out.cols;
        float *v = malloc(n * sizeof *v), big = 0.0f;
        if (v && nncl_tensor_get(&out, v, n) == NNCL_OK) {
            for (size_t i = 0; i < n; i++) big = fabsf(v[i]) > big ? fabsf(v[i]) : big;
        }
        free(v);
        snprintf(where, cap, "the loss: the outputs of layer %zu reach %g, so the %s loss overflows", last + 1,
                 (double)big, nncl_loss_name(s->loss));
        return 1;
    }
    return 0;
}

enum nncl_status nncl_model_reserve(struct nncl_model *m, size_t rows) {
    if (rows <= m->batch_cap) return NNCL_OK;
    const struct nncl_model_spec *s = &m->spec;
    size_t total = 0;
    for (size_t l = 0; l < s->n_layers; l++) {
        const size_t width = rows * nncl_layer_out(s, l);
        m->s_off[l] = total, total += width;
        m->x_off[l] = total, total += width;
        m->d_off[l] = total, total += width;
        m->r_off[l] = total, total += s->layers[l].dropout > 0.0f ? width : 0;
    }
    m->g_off = total;
    if (s->output_softmax) total += rows * nncl_model_outputs(s);
    struct nncl_buffer *work = NULL;
    enum nncl_status st = nncl_buffer_alloc(m->be, total * sizeof(float), &work);
    if (st) return st;
    nncl_buffer_free(m->work);
    m->work = work;
    m->batch_cap = rows;
    return NNCL_OK;
}

/* Layer l's per-batch tensors for a batch of `rows`. */
static struct nncl_tensor work_view(const struct nncl_model *m, size_t off, size_t rows, size_t l) {
    return nncl_tensor_view(m->work, off, rows, nncl_layer_out(&m->spec, l));
}

static enum nncl_status check_batch(const struct nncl_model *m, const struct nncl_tensor *x,
                                    const struct nncl_tensor *target, const char *where) {
    if (!x || x->cols != m->spec.n_inputs) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s: the model takes %zu inputs but the data has %zu columns", where,
                              m->spec.n_inputs, x ? x->cols : 0);
    }
    const size_t outputs = nncl_model_outputs(&m->spec);
    if (target && (target->cols != outputs || target->rows != x->rows)) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s: the model has %zu outputs but the targets are %zux%zu for %zu "
                              "examples", where, outputs, target->rows, target->cols, x->rows);
    }
    return NNCL_OK;
}

enum nncl_status nncl_model_forward(struct nncl_model *m, const struct nncl_tensor *x, const struct nncl_tensor *target,
                                    const struct nncl_tensor *loss_rows, struct nncl_tensor *output) {
    TRY(check_batch(m, x, target, "forward"));
    const struct nncl_model_spec *s = &m->spec;
    const size_t rows = x->rows, last = s->n_layers - 1;
    TRY(nncl_model_reserve(m, rows));
    struct nncl_backend *be = m->be;
    struct nncl_tensor in = *x;
    for (size_t l = 0; l < s->n_layers; l++) {
        struct nncl_tensor w = nncl_model_weight(m, l), b = nncl_model_bias(m, l);
        struct nncl_tensor sl = work_view(m, m->s_off[l], rows, l), xl = work_view(m, m->x_off[l], rows, l);
        /* s = x W^T + b: the lecture's s_j = sum_i w_ij x_i with x_0 = 1 carrying the bias */
        TRY(nncl_op_gemm(be, 0, 1, 1.0f, &in, &w, 0.0f, &sl));
        if ((l < last || s->loss == NNCL_LOSS_MSE) && !(l == last && s->output_softmax)) {
            /* x = f(s + b) in one pass (one launch on a device), s kept for the backward pass */
            TRY(nncl_op_bias_act_fwd(be, s->layers[l].act, s->layers[l].act_param, &sl, &b, &xl));
        } else {
            /* the output layer's logits: softmax (or the fused loss below) reads whole rows */
            TRY(nncl_op_bias_add(be, &sl, &b));
            if (l == last && s->output_softmax && s->loss == NNCL_LOSS_MSE) TRY(nncl_op_softmax_fwd(be, &sl, &xl));
        }
        in = xl;
        if (nncl_model_drops(m, l)) {
            /* inverted dropout after the activation; x keeps f(s) for the backward's f' */
            struct nncl_tensor rl = work_view(m, m->r_off[l], rows, l);
            TRY(nncl_op_dropout(be, s->layers[l].dropout, m->drop.seed, m->drop.step, (int)l, m->drop.row0, &xl, &rl));
            in = rl;
        }
    }
    struct nncl_tensor logits = work_view(m, m->s_off[last], rows, last);
    struct nncl_tensor out = work_view(m, m->x_off[last], rows, last);
    if (target) {
        /* the per-example losses; fused heads also write the probabilities into `out` */
        struct nncl_tensor scratch = nncl_tensor_view(m->work, m->d_off[last], rows, 1); /* delta is free now */
        const struct nncl_tensor *lr = loss_rows ? loss_rows : &scratch;
        switch (s->loss) {
        case NNCL_LOSS_XENT: TRY(nncl_op_softmax_xent_fwd(be, &logits, target, &out, lr)); break;
        case NNCL_LOSS_BCE: TRY(nncl_op_sigmoid_bce_fwd(be, &logits, target, &out, lr)); break;
        default: TRY(nncl_op_mse_fwd(be, &out, target, lr)); break;
        }
    } else if (s->loss == NNCL_LOSS_XENT) {
        TRY(nncl_op_softmax_fwd(be, &logits, &out));
    } else if (s->loss == NNCL_LOSS_BCE) {
        TRY(nncl_op_act_fwd(be, NNCL_ACT_SIGMOID, 0.0f, &logits, &out));
    }
    if (output) *output = out;
    return NNCL_OK;
}

enum nncl_status nncl_model_backward(struct nncl_model *m, const struct nncl_tensor *x, const struct nncl_tensor *target) {
    return nncl_model_backward_layers(m, x, target, NULL, NULL);
}

enum nncl_status nncl_model_backward_layers(struct nncl_model *m, const struct nncl_tensor *x,
                                            const struct nncl_tensor *target, nncl_layer_grad_fn done, void *user) {
    TRY(check_batch(m, x, target, "backward"));
    if (!target) return nncl_set_error(NNCL_ERR_INVALID_ARG, "backward: needs the targets of the forward pass");
    const struct nncl_model_spec *s = &m->spec;
    const size_t rows = x->rows, last = s->n_layers - 1;
    if (rows > m->batch_cap) return nncl_set_error(NNCL_ERR_INVALID_ARG, "backward: run forward on this batch first");
    struct nncl_backend *be = m->be;
    const float scale = 1.0f / (float)rows; /* gradients of the mean loss */

    /* delta of the output layer: d(mean loss)/d s^(L) */
    struct nncl_tensor out = work_view(m, m->x_off[last], rows, last);
    struct nncl_tensor delta = work_view(m, m->d_off[last], rows, last);
    switch (s->loss) {
    case NNCL_LOSS_XENT: TRY(nncl_op_softmax_xent_bwd(be, &out, target, scale, 0.0f, &delta)); break;
    case NNCL_LOSS_BCE: TRY(nncl_op_sigmoid_bce_bwd(be, &out, target, scale, 0.0f, &delta)); break;
    default:
        if (s->output_softmax) {
            struct nncl_tensor g = nncl_tensor_view(m->work, m->g_off, rows, nncl_model_outputs(s));
            TRY(nncl_op_mse_bwd(be, &out, target, scale, 0.0f, &g));
            TRY(nncl_op_softmax_bwd(be, &out, &g, 0.0f, &delta));
        } else {
            /* the lecture's delta^(L) = 2 (x^(L) - y) theta'(s^(L)) */
            struct nncl_tensor sl = work_view(m, m->s_off[last], rows, last);
            TRY(nncl_op_mse_bwd(be, &out, target, scale, 0.0f, &delta));
            TRY(nncl_op_act_bwd(be, s->layers[last].act, s->layers[last].act_param, &sl, &out, &delta, 0.0f, &delta));
        }
        break;
    }
    for (size_t l = last + 1; l-- > 0;) {
        struct nncl_tensor d = work_view(m, m->d_off[l], rows, l);
        /* the layer's input as the forward gave it: the previous layer's output after its dropout */
        struct nncl_tensor in = l == 0                         ? *x
                                : nncl_model_drops(m, l - 1) ? work_view(m, m->r_off[l - 1], rows, l - 1)
                                                               : work_view(m, m->x_off[l - 1], rows, l - 1);
        struct nncl_tensor dw = nncl_model_weight_grad(m, l), db = nncl_model_bias_grad(m, l);
        /* dE/dw_ij = x_i delta_j, summed over the batch: dW = delta^T x; the bias sees x_0 = 1 */
        TRY(nncl_op_gemm(be, 1, 0, 1.0f, &d, &in, 0.0f, &dw));
        TRY(nncl_op_bias_grad(be, 1.0f, &d, 0.0f, &db));
        if (done) TRY(done(user, l)); /* layer l's gradient is complete: its reduction may start */
        if (l > 0) {
            /* delta^(l-1) = theta'(s^(l-1)) * sum_j w_ij delta_j: first delta W, then theta' in place */
            struct nncl_tensor w = nncl_model_weight(m, l);
            struct nncl_tensor dprev = work_view(m, m->d_off[l - 1], rows, l - 1);
            struct nncl_tensor sprev = work_view(m, m->s_off[l - 1], rows, l - 1);
            struct nncl_tensor xprev = work_view(m, m->x_off[l - 1], rows, l - 1);
            TRY(nncl_op_gemm(be, 0, 0, 1.0f, &d, &w, 0.0f, &dprev));
            if (nncl_model_drops(m, l - 1)) {
                /* through r = mask x / (1 - p): the forward's mask and scale on the delta, in place */
                TRY(nncl_op_dropout(be, s->layers[l - 1].dropout, m->drop.seed, m->drop.step, (int)(l - 1),
                                    m->drop.row0, &dprev, &dprev));
            }
            TRY(nncl_op_act_bwd(be, s->layers[l - 1].act, s->layers[l - 1].act_param, &sprev, &xprev, &dprev, 0.0f,
                                &dprev));
        }
    }
    return NNCL_OK;
}

enum nncl_status nncl_model_set_dropout(struct nncl_model *m, int on, uint64_t seed, uint64_t step, size_t row0) {
    if (!m) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_set_dropout: model is NULL");
    m->drop.on = on != 0, m->drop.seed = seed, m->drop.step = step, m->drop.row0 = row0;
    return NNCL_OK;
}

enum nncl_status nncl_model_set_dropout_rates(struct nncl_model *m, const float *rates, size_t n_layers) {
    if (n_layers != m->spec.n_layers) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "model: %zu dropout rates for %zu layers", n_layers,
                              m->spec.n_layers);
    }
    struct nncl_model_spec s = m->spec;
    for (size_t l = 0; l < n_layers; l++) s.layers[l].dropout = rates[l];
    TRY(nncl_model_spec_check(&s));
    m->spec = s;
    nncl_buffer_free(m->work); /* the next pass reserves the dropout outputs too */
    m->work = NULL, m->batch_cap = 0;
    return NNCL_OK;
}

/* ---- data info --------------------------------------------------------------------------------- */

enum nncl_status nncl_model_set_data_info(struct nncl_model *m, const struct nncl_dataset *ds) {
    for (size_t i = 0; m->class_names && i < m->n_classes; i++) free(m->class_names[i]);
    free(m->class_names);
    m->class_names = NULL;
    nncl_preprocess_free(&m->preprocess);
    m->task = ds->task;
    m->n_classes = ds->n_classes;
    if (ds->class_names && ds->n_classes) {
        m->class_names = calloc(ds->n_classes, sizeof *m->class_names);
        if (!m->class_names) return nncl_set_error(NNCL_ERR_OOM, "model: out of host memory");
        for (size_t i = 0; i < ds->n_classes; i++) {
            if (!(m->class_names[i] = nncl_strdup(ds->class_names[i]))) {
                return nncl_set_error(NNCL_ERR_OOM, "model: out of host memory");
            }
        }
    }
    return nncl_preprocess_copy(&ds->preprocess, &m->preprocess); /* the model keeps its own */
}

const struct nncl_preprocess *nncl_model_preprocess(const struct nncl_model *m) { return &m->preprocess; }
size_t nncl_model_class_count(const struct nncl_model *m) { return m->n_classes; }
const char *const *nncl_model_class_names(const struct nncl_model *m) { return (const char *const *)m->class_names; }
enum nncl_task nncl_model_task(const struct nncl_model *m) { return m->task; }
