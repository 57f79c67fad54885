/*
 * model_io.c: model files. A model is a safetensors file that PyTorch loads as it is:
 *   layers.{i}.weight  F32 (out x in), the layout of torch.nn.Linear.weight
 *   layers.{i}.bias    F32 (out)
 * and __metadata__ (strings): format = "nncl-model", format_version = "1", architecture (JSON: inputs,
 * layers with units/activation/param and, for a layer with dropout, its rate; loss, output_softmax), task, class_names (JSON array),
 * preprocess (JSON, the CSV transform), nncl_version, backend, versions (nncl_backend_versions: device,
 * driver, CLBlast and kernel versions of the backend that trained it) and seed: a run manifest.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/preprocess_json.h"
#include "io/safetensors.h"
#include "model_impl.h"
#include "nncl/nncl.h"
#include "status_impl.h"

#define FORMAT_NAME "nncl-model"
#define FORMAT_VERSION "1"

static const char *const task_names[] = {"auto", "regression", "binary", "classification"};

static char *architecture_json(const struct nncl_model_spec *s) {
    cJSON *root = cJSON_CreateObject();
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    cJSON_AddNumberToObject(root, "inputs", (double)s->n_inputs);
    for (size_t l = 0; l < s->n_layers; l++) {
        cJSON *layer = cJSON_CreateObject();
        cJSON_AddNumberToObject(layer, "units", (double)s->layers[l].units);
        cJSON_AddStringToObject(layer, "activation", nncl_act_name(s->layers[l].act));
        nncl_json_add_double(layer, "param", (double)s->layers[l].act_param);
        /* only when set: a file without dropout reads as before, and one from before loads with rate 0 */
        if (s->layers[l].dropout > 0.0f) nncl_json_add_double(layer, "dropout", (double)s->layers[l].dropout);
        cJSON_AddItemToArray(layers, layer);
    }
    cJSON_AddStringToObject(root, "loss", nncl_loss_name(s->loss));
    cJSON_AddBoolToObject(root, "output_softmax", s->output_softmax);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static char *class_names_json(const struct nncl_model *m) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; m->class_names && i < m->n_classes; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(m->class_names[i]));
    }
    char *text = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    return text;
}

enum nncl_status nncl_model_save(const struct nncl_model *m, const char *path) {
    return nncl_model_save_extra(m, path, NULL, 0, NULL, 0);
}

enum nncl_status nncl_model_save_extra(const struct nncl_model *m, const char *path,
                                       const struct st_write_tensor *extra, size_t n_extra,
                                       const struct st_metadata_entry *extra_meta, size_t n_extra_meta) {
    if (!m || !path) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_save: model or path is NULL");
    if (n_extra > NNCL_MODEL_MAX_EXTRA || n_extra_meta > NNCL_MODEL_MAX_EXTRA) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "saving %s: too many extra tensors or metadata", path);
    }
    const struct nncl_model_spec *s = &m->spec;
    float *params = malloc(m->n_params * sizeof(float));
    char names[NNCL_MAX_LAYERS * 2][48];
    struct st_write_tensor tensors[NNCL_MAX_LAYERS * 2 + NNCL_MODEL_MAX_EXTRA];
    char *arch = architecture_json(s), *classes = class_names_json(m), *pre = nncl_preprocess_to_json(&m->preprocess);
    enum nncl_status st = NNCL_OK;
    if (!params || !arch || !classes || !pre) st = nncl_set_error(NNCL_ERR_OOM, "saving %s: out of host memory", path);
    if (!st) st = nncl_model_get_params(m, params, m->n_params);
    for (size_t i = 0; !st && i < m->n_params; i++) {
        if (!isfinite(params[i])) {
            st = nncl_set_error(NNCL_ERR_NUMERIC, "saving %s: parameter %zu is %g; refusing to write a model that "
                                "diverged", path, i, (double)params[i]);
        }
    }
    if (!st) {
        for (size_t l = 0; l < s->n_layers; l++) {
            snprintf(names[2 * l], sizeof names[0], "layers.%zu.weight", l);
            snprintf(names[2 * l + 1], sizeof names[0], "layers.%zu.bias", l);
            tensors[2 * l] = (struct st_write_tensor){names[2 * l], 2, {nncl_layer_out(s, l), nncl_layer_in(s, l)},
                                                      params + m->w_off[l]};
            tensors[2 * l + 1] = (struct st_write_tensor){names[2 * l + 1], 1, {nncl_layer_out(s, l)},
                                                          params + m->b_off[l]};
        }
        /* st_metadata_entry holds mutable strings (it is also what st_read fills), hence the arrays */
        char seed[32], k_seed[] = "seed", versions[800], k_versions[] = "versions", n_classes[32], k_n_classes[] = "classes";
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
        snprintf(n_classes, sizeof n_classes, "%zu", m->n_classes);
        snprintf(versions, sizeof versions, "%s", nncl_backend_versions(m->be));
        char backend[600], task[32], k_format[] = "format", v_format[] = FORMAT_NAME, k_version[] = "format_version",
             v_version[] = FORMAT_VERSION, k_arch[] = "architecture", k_task[] = "task", k_classes[] = "class_names",
             k_pre[] = "preprocess", k_nncl[] = "nncl_version", v_nncl[] = NNCL_VERSION_STRING, k_backend[] = "backend";
        snprintf(backend, sizeof backend, "%s: %s", nncl_backend_name(m->be), nncl_backend_device(m->be));
        snprintf(task, sizeof task, "%s", task_names[(unsigned)m->task < 4 ? m->task : 0]);
        struct st_metadata_entry meta[11 + NNCL_MODEL_MAX_EXTRA] = {
            {k_format, v_format}, {k_version, v_version}, {k_arch, arch},   {k_task, task},
            {k_classes, classes}, {k_pre, pre},           {k_nncl, v_nncl}, {k_backend, backend},
            {k_seed, seed},       {k_versions, versions}, {k_n_classes, n_classes},
        };
        for (size_t i = 0; i < n_extra; i++) tensors[2 * s->n_layers + i] = extra[i];
        for (size_t i = 0; i < n_extra_meta; i++) meta[11 + i] = extra_meta[i];
        st = st_write(path, tensors, 2 * s->n_layers + n_extra, meta, 11 + n_extra_meta);
    }
    free(params);
    free(arch);
    free(classes);
    free(pre);
    return st;
}

/* ---- loading ----------------------------------------------------------------------------------- */

/*
 * A JSON number that is a whole count from 1 to `max`. Converting a double beyond SIZE_MAX to size_t is
 * undefined behaviour, and a fraction would be truncated silently, so both are checked first.
 */
static int json_count(const cJSON *item, double max) {
    return cJSON_IsNumber(item) && item->valuedouble >= 1 && item->valuedouble <= max &&
           item->valuedouble == floor(item->valuedouble);
}

static enum nncl_status parse_architecture(const char *path, const char *text, struct nncl_model_spec *s) {
    memset(s, 0, sizeof *s);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    enum nncl_status st = NNCL_OK;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(root, "inputs");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    const cJSON *loss = cJSON_GetObjectItemCaseSensitive(root, "loss");
    const cJSON *softmax = cJSON_GetObjectItemCaseSensitive(root, "output_softmax");
    /* 2^53: the largest count a double holds exactly; the tensors in the file bound it further */
    if (!cJSON_IsObject(root) || !json_count(inputs, 9007199254740992.0) || !cJSON_IsArray(layers) ||
        !cJSON_IsString(loss)) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: the \"architecture\" metadata is missing or malformed (needs inputs, "
                            "layers and loss); the file is damaged or not written by nncl", path);
    }
    if (!st) {
        s->n_inputs = (size_t)inputs->valuedouble;
        s->output_softmax = cJSON_IsTrue(softmax);
        st = nncl_loss_from_name(loss->valuestring, &s->loss);
        const cJSON *layer = NULL;
        cJSON_ArrayForEach(layer, layers) {
            if (st) break;
            const cJSON *units = cJSON_GetObjectItemCaseSensitive(layer, "units");
            const cJSON *act = cJSON_GetObjectItemCaseSensitive(layer, "activation");
            const cJSON *param = cJSON_GetObjectItemCaseSensitive(layer, "param");
            const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(layer, "dropout"); /* optional: 0 */
            if (s->n_layers >= NNCL_MAX_LAYERS || !json_count(units, 1e6) || !cJSON_IsString(act) ||
                !cJSON_IsNumber(param) || (dropout && !cJSON_IsNumber(dropout))) {
                st = nncl_set_error(NNCL_ERR_FORMAT, "%s: layer %zu of the architecture is malformed", path,
                                    s->n_layers);
                break;
            }
            struct nncl_layer_spec *ls = &s->layers[s->n_layers++];
            ls->units = (size_t)units->valuedouble;
            ls->act_param = (float)param->valuedouble;
            ls->dropout = dropout ? (float)dropout->valuedouble : 0.0f; /* the range: nncl_model_spec_check */
            st = nncl_act_from_name(act->valuestring, &ls->act);
        }
    }
    if (!st) st = nncl_model_spec_check(s);
    if (st && st != NNCL_ERR_FORMAT) {
        st = nncl_prefix_error(NNCL_ERR_FORMAT, "%s: invalid architecture: ", path);
    }
    cJSON_Delete(root);
    return st;
}

static enum nncl_status load_class_names(const char *path, const char *text, struct nncl_model *m) {
    if (!text) return NNCL_OK;
    cJSON *arr = cJSON_Parse(text);
    enum nncl_status st = NNCL_OK;
    if (!cJSON_IsArray(arr)) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: \"class_names\" metadata is not a JSON array", path);
    } else if (cJSON_GetArraySize(arr) > 0) {
        m->n_classes = (size_t)cJSON_GetArraySize(arr);
        m->class_names = calloc(m->n_classes, sizeof *m->class_names);
        size_t i = 0;
        const cJSON *name = NULL;
        cJSON_ArrayForEach(name, arr) {
            if (!m->class_names || !cJSON_IsString(name) || !(m->class_names[i] = malloc(strlen(name->valuestring) + 1))) {
                st = nncl_set_error(NNCL_ERR_FORMAT, "%s: \"class_names\" must be an array of strings", path);
                break;
            }
            strcpy(m->class_names[i++], name->valuestring);
        }
    }
    cJSON_Delete(arr);
    return st;
}

static enum nncl_status load_into(struct st_file *f, struct nncl_backend *be, struct nncl_model **out) {
    const char *path = f->path, *format = st_metadata(f, "format"), *version = st_metadata(f, "format_version");
    if (!format || strcmp(format, FORMAT_NAME) != 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: not an nncl model file (its safetensors metadata has no "
                              "format = \"%s\"); give a file written by nncl train", path, FORMAT_NAME);
    }
    if (!version || strcmp(version, FORMAT_VERSION) != 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: model format version \"%s\" is not supported by this nncl "
                              "(version %s reads format %s)", path, version ? version : "?", NNCL_VERSION_STRING,
                              FORMAT_VERSION);
    }
    struct nncl_model_spec spec;
    enum nncl_status st = parse_architecture(path, st_metadata(f, "architecture"), &spec);
    if (st) return st;
    /* Every tensor is checked against the architecture before the model is made: the architecture alone
     * could ask for 10^12 parameters, but tensors that the file really holds bound the allocation. */
    const struct st_tensor *tensors[NNCL_MAX_LAYERS][2];
    for (size_t l = 0; l < spec.n_layers; l++) {
        for (int is_bias = 0; is_bias < 2; is_bias++) {
            char name[48];
            snprintf(name, sizeof name, "layers.%zu.%s", l, is_bias ? "bias" : "weight");
            const struct st_tensor *t = st_find(f, name);
            const uint64_t rows = nncl_layer_out(&spec, l), cols = nncl_layer_in(&spec, l);
            const int shape_ok = t && t->dtype == ST_F32 &&
                                 (is_bias ? t->ndim == 1 && t->shape[0] == rows
                                          : t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols);
            if (!shape_ok) {
                char want[64];
                if (is_bias) snprintf(want, sizeof want, "[%llu]", (unsigned long long)rows);
                else snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)rows, (unsigned long long)cols);
                char have[160] = "missing";
                if (t) {
                    size_t used = (size_t)snprintf(have, sizeof have, "%s of shape [", st_dtype_name(t->dtype));
                    for (int d = 0; d < t->ndim && used < sizeof have; d++) {
                        used += (size_t)snprintf(have + used, sizeof have - used, "%s%llu", d ? ", " : "",
                                                 (unsigned long long)t->shape[d]);
                    }
                    if (used < sizeof have) snprintf(have + used, sizeof have - used, "]");
                }
                return nncl_set_error(NNCL_ERR_FORMAT, "%s: tensor %s is %s; this model's architecture needs F32 "
                                      "of shape %s", path, name, have, want);
            }
            tensors[l][is_bias] = t;
        }
    }
    struct nncl_model *m = NULL;
    st = nncl_model_init(be, &spec, NNCL_INIT_ZERO, 0, &m);
    if (st) return st;
    float *params = malloc(m->n_params * sizeof(float));
    if (!params) st = nncl_set_error(NNCL_ERR_OOM, "%s: out of host memory", path);
    for (size_t l = 0; !st && l < spec.n_layers; l++) {
        for (int is_bias = 0; !st && is_bias < 2; is_bias++) {
            const struct st_tensor *t = tensors[l][is_bias];
            st = st_to_float(f, t, params + (is_bias ? m->b_off[l] : m->w_off[l]), (size_t)t->count, 1);
        }
    }
    size_t n_model_tensors = 0; /* a checkpoint adds the trainer's own (optimizer.*, trainer.*) */
    for (size_t i = 0; i < f->n_tensors; i++) {
        const char *name = f->tensors[i].name;
        n_model_tensors += strncmp(name, "optimizer.", 10) != 0 && strncmp(name, "trainer.", 8) != 0;
    }
    if (n_model_tensors != 2 * spec.n_layers && !st) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: %zu tensors, but the architecture has %zu layers (2 tensors each); "
                            "the file was not written by nncl", path, f->n_tensors, spec.n_layers);
    }
    if (!st) st = nncl_model_set_params(m, params, m->n_params);
    free(params);
    const char *task = st_metadata(f, "task");
    for (int i = 0; task && i < 4; i++) {
        if (strcmp(task, task_names[i]) == 0) m->task = (enum nncl_task)i;
    }
    if (!st) st = load_class_names(path, st_metadata(f, "class_names"), m);
    /* the class count also for classifiers without names (trained on safetensors labels) */
    const char *classes = st_metadata(f, "classes"), *seed = st_metadata(f, "seed");
    if (!st && classes && !m->class_names) m->n_classes = (size_t)strtoull(classes, NULL, 10);
    if (seed) m->seed = strtoull(seed, NULL, 10);
    const char *pre = st_metadata(f, "preprocess");
    if (!st && pre) st = nncl_preprocess_from_json(pre, path, &m->preprocess);
    if (st) {
        nncl_model_free(m);
        return st;
    }
    *out = m;
    return NNCL_OK;
}

enum nncl_status nncl_model_load(struct nncl_backend *be, const char *path, struct nncl_model **out) {
    if (!be || !path || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_model_load: NULL argument");
    *out = NULL;
    struct st_file f;
    enum nncl_status st = st_read(path, &f);
    if (st) return st;
    st = load_into(&f, be, out);
    st_free(&f);
    return st;
}
