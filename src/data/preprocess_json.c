/*
 * preprocess_json.c: struct nncl_preprocess to and from JSON (see preprocess_json.h), and the check of
 * its invariants that both the reader and the CSV loader's `apply` path rely on.
 *
 * The reader trusts nothing: a model file may be hand-edited or damaged, and the CSV loader indexes
 * categories by bisection and divides by std, so every field is checked and the first problem is reported
 * with the JSON path of the field (columns[2].std) and the source it came from.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess_json.h"
#include "status_impl.h"
#include "util/util.h"

#define NAME_CAP sizeof(((struct nncl_column *)0)->name) /* 64: names are at most 63 bytes */

/* Column indices ordered by name, then index, for the duplicate check. */
static const struct nncl_column *sort_columns;
static int cmp_column_index(const void *a, const void *b) {
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const int c = strcmp(sort_columns[i].name, sort_columns[j].name);
    return c ? c : (i > j) - (i < j);
}

/*
 * Unique names, by sorting (a bag-of-words model has 10^5-10^6 columns: comparing every pair is minutes).
 * Names must be terminated (checked before). The qsort comparator reads a file-scope pointer: not
 * reentrant across threads, as the rest of the loader's error state is not either.
 */
static enum nncl_status check_unique_names(const struct nncl_preprocess *pp, const char *source,
                                           enum nncl_status status) {
    if (pp->n_columns < 2) return NNCL_OK;
    size_t *order = malloc(pp->n_columns * sizeof *order);
    if (!order) return nncl_set_error(NNCL_ERR_OOM, "%s: preprocess: out of memory checking the names", source);
    for (size_t i = 0; i < pp->n_columns; i++) order[i] = i;
    sort_columns = pp->columns;
    qsort(order, pp->n_columns, sizeof *order, cmp_column_index);
    enum nncl_status st = NNCL_OK;
    for (size_t k = 1; k < pp->n_columns; k++) {
        const size_t j = order[k - 1], i = order[k];
        if (strcmp(pp->columns[j].name, pp->columns[i].name) == 0) {
            st = nncl_set_error(status, "%s: preprocess: column name \"%s\" appears twice (columns[%zu] and "
                                "columns[%zu])", source, pp->columns[i].name, j, i);
            break;
        }
    }
    free(order);
    return st;
}

enum nncl_status nncl_preprocess_check(const struct nncl_preprocess *pp, const char *source, enum nncl_status status) {
    if (!pp) return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the preprocess transform is NULL", source);
    if (pp->n_columns && !pp->columns) {
        return nncl_set_error(status, "%s: preprocess: %zu columns but no column array", source, pp->n_columns);
    }
    if (!memchr(pp->target, '\0', sizeof pp->target)) {
        return nncl_set_error(status, "%s: preprocess: the target name is not NUL-terminated", source);
    }
    for (size_t i = 0; i < pp->n_columns; i++) {
        const struct nncl_column *c = &pp->columns[i];
        if (!memchr(c->name, '\0', sizeof c->name) || c->name[0] == '\0') {
            return nncl_set_error(status, "%s: preprocess: columns[%zu] has an empty or unterminated name", source, i);
        }
        if (strcmp(c->name, pp->target) == 0) {
            return nncl_set_error(status, "%s: preprocess: columns[%zu] \"%s\" is also the target", source, i,
                                  c->name);
        }
        if (!c->categorical) {
            if (!isfinite(c->mean) || !isfinite(c->std) || !(c->std > 0)) {
                return nncl_set_error(status, "%s: preprocess: columns[%zu] \"%s\": mean %g and std %g must be "
                                      "finite and std > 0", source, i, c->name, c->mean, c->std);
            }
            continue;
        }
        if (c->n_categories == 0 || !c->categories) {
            return nncl_set_error(status, "%s: preprocess: columns[%zu] \"%s\" is categorical but has no "
                                  "categories", source, i, c->name);
        }
        for (size_t k = 0; k < c->n_categories; k++) {
            if (!c->categories[k] || c->categories[k][0] == '\0') {
                return nncl_set_error(status, "%s: preprocess: columns[%zu] \"%s\": category %zu is empty", source,
                                      i, c->name, k);
            }
            if (k && strcmp(c->categories[k - 1], c->categories[k]) >= 0) {
                return nncl_set_error(status, "%s: preprocess: columns[%zu] \"%s\": categories must be sorted "
                                      "(strcmp) and unique, but \"%s\" comes after \"%s\"",
                                      source, i, c->name, c->categories[k], c->categories[k - 1]);
            }
        }
    }
    return check_unique_names(pp, source, status);
}

/* ---- writing ---- */

int nncl_json_add_double(cJSON *obj, const char *key, double value) {
    /* cJSON prints 15 significant digits and keeps them when they read back within a few ulp, so a
     * standard deviation of 29.154759474226502 came back as ...498. 17 digits always round-trip. */
    if (!isfinite(value)) return cJSON_AddNullToObject(obj, key) != NULL;
    char text[32];
    snprintf(text, sizeof text, "%.17g", value);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
}

/* Adds one column object to `array`; 0 when cJSON ran out of memory. */
static int add_column(cJSON *array, const struct nncl_column *c) {
    cJSON *obj = cJSON_CreateObject();
    if (!obj) return 0;
    if (!cJSON_AddItemToArray(array, obj)) {
        cJSON_Delete(obj);
        return 0;
    }
    if (!cJSON_AddStringToObject(obj, "name", c->name)) return 0;
    if (!c->categorical) {
        return cJSON_AddStringToObject(obj, "kind", "numeric") && nncl_json_add_double(obj, "mean", c->mean) &&
               nncl_json_add_double(obj, "std", c->std);
    }
    if (!cJSON_AddStringToObject(obj, "kind", "categorical")) return 0;
    cJSON *cats = cJSON_AddArrayToObject(obj, "categories");
    if (!cats) return 0;
    for (size_t k = 0; k < c->n_categories; k++) {
        cJSON *s = cJSON_CreateString(c->categories[k]);
        if (!s) return 0;
        if (!cJSON_AddItemToArray(cats, s)) {
            cJSON_Delete(s);
            return 0;
        }
    }
    return 1;
}

char *nncl_preprocess_to_json(const struct nncl_preprocess *pp) {
    if (nncl_preprocess_check(pp, "nncl_preprocess_to_json", NNCL_ERR_INVALID_ARG)) return NULL;
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    cJSON *columns = ok ? cJSON_AddArrayToObject(root, "columns") : NULL;
    ok = columns != NULL;
    for (size_t i = 0; ok && i < pp->n_columns; i++) ok = add_column(columns, &pp->columns[i]);
    ok = ok && cJSON_AddStringToObject(root, "target", pp->target) &&
         nncl_json_add_double(root, "target_mean", pp->target_mean) &&
         nncl_json_add_double(root, "target_std", pp->target_std);
    char *printed = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!printed) {
        nncl_set_error(NNCL_ERR_OOM, "nncl_preprocess_to_json: out of memory");
        return NULL;
    }
    /* Copied so that the caller can free() it whatever allocator hooks cJSON was given. */
    size_t len = strlen(printed) + 1;
    char *text = malloc(len);
    if (text) memcpy(text, printed, len);
    cJSON_free(printed);
    if (!text) nncl_set_error(NNCL_ERR_OOM, "nncl_preprocess_to_json: out of memory");
    return text;
}

/* ---- reading ---- */

/* A string member `key` of `obj` that fits in a char[NAME_CAP]; may be empty only when allow_empty. */
static enum nncl_status read_name(const cJSON *obj, const char *key, const char *where, const char *source,
                                  int allow_empty, char *dst) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(item) || !item->valuestring) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"%s\" must be a string", source, where, key);
    }
    size_t len = strlen(item->valuestring);
    if (len >= NAME_CAP || (len == 0 && !allow_empty)) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"%s\" is %zu bytes; names must be 1 to %zu "
                              "bytes", source, where, key, len, NAME_CAP - 1);
    }
    memcpy(dst, item->valuestring, len + 1);
    return NNCL_OK;
}

/* A finite number member `key`; when it is absent, `fallback` (or an error when required). */
static enum nncl_status read_number(const cJSON *obj, const char *key, const char *where, const char *source,
                                    int required, double fallback, double *dst) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item && !required) {
        *dst = fallback;
        return NNCL_OK;
    }
    if (!item) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"%s\" is missing; expected a finite number",
                              source, where, key);
    }
    /* cJSON writes NaN and infinities as null, so a non-finite value arrives here as a non-number */
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"%s\" must be a finite number", source, where,
                              key);
    }
    *dst = item->valuedouble;
    return NNCL_OK;
}

static enum nncl_status read_column(const cJSON *obj, size_t index, const char *source, struct nncl_column *c) {
    char where[48];
    snprintf(where, sizeof where, "columns[%zu].", index);
    if (!cJSON_IsObject(obj)) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: columns[%zu] must be an object", source, index);
    }
    enum nncl_status st = read_name(obj, "name", where, source, 0, c->name);
    if (st) return st;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    const char *k = cJSON_IsString(kind) ? kind->valuestring : NULL;
    if (k && strcmp(k, "numeric") == 0) {
        c->categorical = 0;
        st = read_number(obj, "mean", where, source, 1, 0.0, &c->mean);
        if (st == NNCL_OK) st = read_number(obj, "std", where, source, 1, 1.0, &c->std);
        return st;
    }
    if (!k || strcmp(k, "categorical") != 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"kind\" must be \"numeric\" or "
                              "\"categorical\"", source, where);
    }
    c->categorical = 1;
    c->mean = 0.0;
    c->std = 1.0;
    const cJSON *cats = cJSON_GetObjectItemCaseSensitive(obj, "categories");
    int n = cJSON_IsArray(cats) ? cJSON_GetArraySize(cats) : 0;
    if (n <= 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %s\"categories\" must be a non-empty array of "
                              "strings", source, where);
    }
    c->categories = calloc((size_t)n, sizeof *c->categories);
    if (!c->categories) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory reading the preprocess JSON", source);
    const cJSON *item;
    cJSON_ArrayForEach(item, cats) {
        if (!cJSON_IsString(item) || !item->valuestring) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: %scategories[%zu] must be a string", source,
                                  where, c->n_categories);
        }
        c->categories[c->n_categories] = nncl_strdup(item->valuestring);
        if (!c->categories[c->n_categories]) {
            return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory reading the preprocess JSON", source);
        }
        c->n_categories++;
    }
    return NNCL_OK;
}

static enum nncl_status read_preprocess(const cJSON *root, const char *source, struct nncl_preprocess *out) {
    if (!cJSON_IsObject(root)) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: the top level must be an object", source);
    }
    const cJSON *columns = cJSON_GetObjectItemCaseSensitive(root, "columns");
    if (!cJSON_IsArray(columns)) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON: \"columns\" must be an array", source);
    }
    int n = cJSON_GetArraySize(columns);
    if (n > 0) {
        out->columns = calloc((size_t)n, sizeof *out->columns);
        if (!out->columns) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory reading the preprocess JSON", source);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, columns) {
        /* counted before reading, so that nncl_preprocess_free releases a half-read column too */
        out->n_columns++;
        enum nncl_status st = read_column(item, out->n_columns - 1, source, &out->columns[out->n_columns - 1]);
        if (st) return st;
    }
    enum nncl_status st = read_name(root, "target", "", source, 1, out->target);
    if (st == NNCL_OK) st = read_number(root, "target_mean", "", source, 0, 0.0, &out->target_mean);
    if (st == NNCL_OK) st = read_number(root, "target_std", "", source, 0, 1.0, &out->target_std);
    if (st == NNCL_OK) st = nncl_preprocess_check(out, source, NNCL_ERR_FORMAT);
    return st;
}

enum nncl_status nncl_preprocess_from_json(const char *json, const char *source, struct nncl_preprocess *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_preprocess_from_json: out is NULL");
    memset(out, 0, sizeof *out);
    if (!source) source = "preprocess JSON";
    if (!json) return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: nncl_preprocess_from_json: json is NULL", source);
    const char *error_at = NULL;
    /* ParseWithOpts reports the error position through its argument, unlike the global cJSON_GetErrorPtr */
    cJSON *root = cJSON_ParseWithOpts(json, &error_at, 1);
    if (!root) {
        size_t len = strlen(json), offset = error_at && error_at >= json ? (size_t)(error_at - json) : 0;
        if (offset > len) offset = len;
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: preprocess JSON is malformed near byte %zu (\"%.20s\")", source,
                              offset, json + offset);
    }
    enum nncl_status st = read_preprocess(root, source, out);
    cJSON_Delete(root);
    if (st) nncl_preprocess_free(out);
    return st;
}

enum nncl_status nncl_preprocess_copy(const struct nncl_preprocess *src, struct nncl_preprocess *dst) {
    static const char *const oom = "out of memory copying the preprocess transform";
    *dst = *src;
    dst->columns = NULL;
    dst->n_columns = 0;
    if (!src->n_columns) return NNCL_OK;
    dst->columns = calloc(src->n_columns, sizeof *dst->columns);
    if (!dst->columns) return nncl_set_error(NNCL_ERR_OOM, "%s", oom);
    dst->n_columns = src->n_columns; /* calloc'ed: every column is freeable from here on */
    for (size_t i = 0; i < src->n_columns; i++) {
        const struct nncl_column *c = &src->columns[i];
        struct nncl_column *d = &dst->columns[i];
        *d = *c;
        d->categories = NULL;
        d->n_categories = 0;
        if (!c->n_categories) continue;
        d->categories = calloc(c->n_categories, sizeof *d->categories);
        if (!d->categories) return nncl_set_error(NNCL_ERR_OOM, "%s", oom);
        d->n_categories = c->n_categories;
        for (size_t k = 0; k < c->n_categories; k++) {
            if (!(d->categories[k] = nncl_strdup(c->categories[k]))) return nncl_set_error(NNCL_ERR_OOM, "%s", oom);
        }
    }
    return NNCL_OK;
}
