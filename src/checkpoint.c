/*
 * checkpoint.c: writing and reading the trainer's state file (the format is described in checkpoint.h).
 * Floats and doubles are stored as C99 hexadecimal ("%a"), so every value reads back bit for bit, which
 * is what a byte-identical resume needs.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "io/safetensors.h"
#include "model_impl.h"
#include "status_impl.h"
#include "util/util.h"

#define CHECKPOINT_FORMAT "1"

enum field_kind { F_SIZE, F_FLOAT, F_DOUBLE, F_INT, F_ENUM, F_U64 };

struct field {
    const char *key;
    size_t off;
    enum field_kind kind;
};

/* The options that shape training: stored, restored and compared on resume. `epochs` is not one of them. */
#define OPT_FIELD(key, member, kind) {"trainer.opt." key, offsetof(struct nncl_train_options, member), kind}
static const struct field option_fields[] = {
    OPT_FIELD("batch_size", batch_size, F_SIZE),
    OPT_FIELD("optimizer", optimizer, F_ENUM),
    OPT_FIELD("lr", lr, F_FLOAT),
    OPT_FIELD("momentum", momentum, F_FLOAT),
    OPT_FIELD("beta1", beta1, F_FLOAT),
    OPT_FIELD("beta2", beta2, F_FLOAT),
    OPT_FIELD("eps", eps, F_FLOAT),
    OPT_FIELD("weight_decay", weight_decay, F_FLOAT),
    OPT_FIELD("shuffle", shuffle, F_INT),
    OPT_FIELD("seed", seed, F_U64),
    OPT_FIELD("val_fraction", val_fraction, F_FLOAT),
    OPT_FIELD("tol", tol, F_DOUBLE),
    OPT_FIELD("patience", patience, F_SIZE),
    OPT_FIELD("keep_last", keep_last, F_INT),
    OPT_FIELD("schedule", schedule.decay, F_ENUM),
    OPT_FIELD("warmup_epochs", schedule.warmup_epochs, F_SIZE),
    OPT_FIELD("step_epochs", schedule.step_epochs, F_SIZE),
    OPT_FIELD("gamma", schedule.gamma, F_FLOAT),
    OPT_FIELD("min_lr", schedule.min_lr, F_FLOAT),
    OPT_FIELD("cosine_epochs", schedule.cosine_epochs, F_SIZE),
    OPT_FIELD("rmsprop_alpha", rmsprop_alpha, F_FLOAT),
    OPT_FIELD("rmsprop_momentum", rmsprop_momentum, F_FLOAT),
    OPT_FIELD("rprop_increase", rprop_increase, F_FLOAT),
    OPT_FIELD("rprop_decrease", rprop_decrease, F_FLOAT),
    OPT_FIELD("rprop_delta_min", rprop_delta_min, F_FLOAT),
    OPT_FIELD("rprop_delta_max", rprop_delta_max, F_FLOAT),
    OPT_FIELD("rprop_delta_zero", rprop_delta_zero, F_FLOAT),
    OPT_FIELD("clip_norm", clip_norm, F_FLOAT),
};
#define N_OPTION_FIELDS (sizeof option_fields / sizeof option_fields[0])

#define STATE_FIELD(key, member, kind) {"trainer." key, offsetof(struct nncl_trainer_state, member), kind}
static const struct field state_fields[] = {
    STATE_FIELD("epochs_done", epochs_done, F_SIZE), STATE_FIELD("in_epoch", in_epoch, F_INT),
    STATE_FIELD("step", step, F_SIZE),               STATE_FIELD("rng", rng, F_U64),
    STATE_FIELD("best", best, F_DOUBLE),             STATE_FIELD("since_best", since_best, F_SIZE),
    STATE_FIELD("best_epoch", best_epoch, F_SIZE),   STATE_FIELD("loss_sum", loss_sum, F_DOUBLE),
    STATE_FIELD("err_sum", err_sum, F_FLOAT),
};
#define N_STATE_FIELDS (sizeof state_fields / sizeof state_fields[0])

static void format_field(const struct field *f, const void *base, char *out, size_t n) {
    const char *p = (const char *)base + f->off;
    switch (f->kind) {
    case F_SIZE: snprintf(out, n, "%zu", *(const size_t *)(const void *)p); break;
    case F_FLOAT: snprintf(out, n, "%a", (double)*(const float *)(const void *)p); break;
    case F_DOUBLE: snprintf(out, n, "%a", *(const double *)(const void *)p); break;
    case F_INT:
    case F_ENUM: snprintf(out, n, "%d", *(const int *)(const void *)p); break;
    case F_U64: snprintf(out, n, "%" PRIu64, *(const uint64_t *)(const void *)p); break;
    }
}

static enum nncl_status parse_field(const char *path, const struct field *f, const char *text, void *base) {
    char *p = (char *)base + f->off, *end = NULL;
    if (!text) return nncl_set_error(NNCL_ERR_FORMAT, "%s: checkpoint metadata %s is missing", path, f->key);
    switch (f->kind) {
    case F_SIZE: *(size_t *)(void *)p = (size_t)strtoull(text, &end, 10); break;
    case F_FLOAT: *(float *)(void *)p = (float)strtod(text, &end); break;
    case F_DOUBLE: *(double *)(void *)p = strtod(text, &end); break;
    case F_INT:
    case F_ENUM: *(int *)(void *)p = (int)strtol(text, &end, 10); break;
    case F_U64: *(uint64_t *)(void *)p = (uint64_t)strtoull(text, &end, 10); break;
    }
    if (end == text || *end) return nncl_set_error(NNCL_ERR_FORMAT, "%s: checkpoint metadata %s = \"%s\" is malformed",
                                                  path, f->key, text);
    return NNCL_OK;
}

enum nncl_status nncl_checkpoint_write(const char *path, const struct nncl_model *m,
                                       const struct nncl_trainer_state *s, const char *const *meta) {
    enum { MAX_META = NNCL_MODEL_MAX_EXTRA };
    /* st_metadata_entry holds mutable strings (it is also what st_read fills): copies, freed below */
    struct st_metadata_entry entries[MAX_META];
    size_t n = 0;
    int oom = 0;
    char value[48];
#define ADD_ENTRY(k, v)                                                                                        \
    do {                                                                                                       \
        entries[n].key = nncl_strdup(k), entries[n].value = nncl_strdup(v);                                    \
        oom |= !entries[n].key || !entries[n].value;                                                           \
        n++;                                                                                                   \
    } while (0)
    ADD_ENTRY("nncl_checkpoint", CHECKPOINT_FORMAT);
    for (size_t i = 0; i < N_STATE_FIELDS; i++) {
        format_field(&state_fields[i], s, value, sizeof value);
        ADD_ENTRY(state_fields[i].key, value);
    }
    for (size_t i = 0; i < N_OPTION_FIELDS; i++) {
        format_field(&option_fields[i], &s->opts, value, sizeof value);
        ADD_ENTRY(option_fields[i].key, value);
    }
    snprintf(value, sizeof value, "%ld", s->opt_step);
    ADD_ENTRY("trainer.opt_step", value);
    enum nncl_status st = NNCL_OK;
    for (size_t i = 0; meta && meta[i] && meta[i + 1]; i += 2) {
        if (n == MAX_META) {
            st = nncl_set_error(NNCL_ERR_INVALID_ARG, "checkpoint %s: too much metadata", path);
            break;
        }
        ADD_ENTRY(meta[i], meta[i + 1]);
    }
#undef ADD_ENTRY
    if (!st && oom) st = nncl_set_error(NNCL_ERR_OOM, "checkpoint %s: out of host memory", path);
    struct st_write_tensor t[3];
    size_t nt = 0;
    t[nt++] = (struct st_write_tensor){"trainer.order", 1, {s->n_examples}, s->order};
    if (s->n_opt) t[nt++] = (struct st_write_tensor){"optimizer.state", 1, {s->n_opt}, s->opt_state};
    if (s->best_params) t[nt++] = (struct st_write_tensor){"trainer.best_params", 1, {m->n_params}, s->best_params};
    if (!st) st = nncl_model_save_extra(m, path, t, nt, entries, n);
    for (size_t i = 0; i < n; i++) {
        free(entries[i].key);
        free(entries[i].value);
    }
    return st;
}

static enum nncl_status read_vector(const struct st_file *f, const char *name, size_t n, float **out) {
    const struct st_tensor *t = st_find(f, name);
    if (!t || t->dtype != ST_F32 || t->count != n) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: checkpoint tensor %s is missing or has %llu values, not %zu; the "
                              "checkpoint belongs to another net, optimizer or data set", f->path, name,
                              t ? (unsigned long long)t->count : 0ull, n);
    }
    *out = malloc((n ? n : 1) * sizeof(float));
    if (!*out) return nncl_set_error(NNCL_ERR_OOM, "%s: out of host memory", f->path);
    return st_to_float(f, t, *out, n, 1);
}

static enum nncl_status read_state(const struct st_file *f, const struct nncl_model *m, float *params,
                                   struct nncl_trainer_state *s) {
    if (!st_metadata(f, "nncl_checkpoint")) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s is a model, not a checkpoint (it holds no trainer state); resume "
                              "from the .ckpt file a run writes beside --out, or continue with --init-from", f->path);
    }
    for (size_t i = 0; i < N_STATE_FIELDS; i++) TRY(parse_field(f->path, &state_fields[i], st_metadata(f, state_fields[i].key), s));
    for (size_t i = 0; i < N_OPTION_FIELDS; i++) {
        TRY(parse_field(f->path, &option_fields[i], st_metadata(f, option_fields[i].key), &s->opts));
    }
    const char *opt_step = st_metadata(f, "trainer.opt_step");
    s->opt_step = opt_step ? strtol(opt_step, NULL, 10) : 0;
    const struct st_tensor *order = st_find(f, "trainer.order");
    s->n_examples = order ? (size_t)order->count : 0;
    TRY(read_vector(f, "trainer.order", s->n_examples, &s->order));
    if (!m) return NNCL_OK;
    const size_t slots = nncl_optimizer_state_slots(s->opts.optimizer);
    s->n_opt = slots * m->n_params;
    if (s->n_opt) TRY(read_vector(f, "optimizer.state", s->n_opt, &s->opt_state));
    if (st_find(f, "trainer.best_params")) TRY(read_vector(f, "trainer.best_params", m->n_params, &s->best_params));
    for (size_t l = 0; l < m->spec.n_layers; l++) {
        for (int is_bias = 0; is_bias < 2; is_bias++) {
            char name[48];
            snprintf(name, sizeof name, "layers.%zu.%s", l, is_bias ? "bias" : "weight");
            const size_t n = nncl_layer_out(&m->spec, l) * (is_bias ? 1 : nncl_layer_in(&m->spec, l));
            const struct st_tensor *t = st_find(f, name);
            if (!t || t->dtype != ST_F32 || t->count != n) {
                return nncl_set_error(NNCL_ERR_FORMAT, "%s: tensor %s does not fit this net (%zu values); the "
                                      "checkpoint has another architecture", f->path, name, n);
            }
            TRY(st_to_float(f, t, params + (is_bias ? m->b_off[l] : m->w_off[l]), n, 1));
        }
    }
    return NNCL_OK;
}

enum nncl_status nncl_checkpoint_read(const char *path, const struct nncl_model *m, float *params,
                                      struct nncl_trainer_state *s) {
    memset(s, 0, sizeof *s);
    struct st_file f;
    TRY(st_read(path, &f));
    const enum nncl_status st = read_state(&f, m, params, s);
    st_free(&f);
    if (st) nncl_trainer_state_free(s);
    return st;
}

void nncl_trainer_state_free(struct nncl_trainer_state *s) {
    if (!s) return;
    free(s->order);
    free(s->opt_state);
    free(s->best_params);
    s->order = s->opt_state = s->best_params = NULL;
}

enum nncl_status nncl_checkpoint_check_options(const char *path, const struct nncl_train_options *saved,
                                               const struct nncl_train_options *given) {
    for (size_t i = 0; i < N_OPTION_FIELDS; i++) {
        char a[48], b[48];
        format_field(&option_fields[i], saved, a, sizeof a);
        format_field(&option_fields[i], given, b, sizeof b);
        if (strcmp(a, b) != 0) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "resuming %s: option %s is %s in the checkpoint but %s now; an "
                                  "exact resume needs the options that shape training unchanged "
                                  "(nncl_checkpoint_read_options gives them)", path, option_fields[i].key + 12, a, b);
        }
    }
    return NNCL_OK;
}

enum nncl_status nncl_checkpoint_read_options(const char *path, struct nncl_train_options *opts, size_t *epochs_done) {
    if (!path || !opts) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_checkpoint_read_options: NULL argument");
    struct nncl_trainer_state s;
    memset(&s, 0, sizeof s);
    s.opts = *opts;
    struct nncl_train_options kept = *opts;
    TRY(nncl_checkpoint_read(path, NULL, NULL, &s));
    for (size_t i = 0; i < N_OPTION_FIELDS; i++) {
        memcpy((char *)&kept + option_fields[i].off, (const char *)&s.opts + option_fields[i].off,
               option_fields[i].kind == F_SIZE ? sizeof(size_t) : option_fields[i].kind == F_DOUBLE ? sizeof(double)
               : option_fields[i].kind == F_U64 ? sizeof(uint64_t) : option_fields[i].kind == F_FLOAT ? sizeof(float)
                                                                       : sizeof(int));
    }
    *opts = kept;
    if (epochs_done) *epochs_done = s.epochs_done;
    nncl_trainer_state_free(&s);
    return NNCL_OK;
}

enum nncl_status nncl_checkpoint_read_meta(const char *path, const char *key, char **value) {
    if (!path || !key || !value) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_checkpoint_read_meta: NULL argument");
    *value = NULL;
    struct st_file f;
    TRY(st_read(path, &f));
    const char *v = st_metadata(&f, key);
    enum nncl_status st = NNCL_OK;
    if (v && !(*value = nncl_strdup(v))) st = nncl_set_error(NNCL_ERR_OOM, "%s: out of host memory", path);
    st_free(&f);
    return st;
}
