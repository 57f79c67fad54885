/*
 * data_csv.c: CSV files into an nncl_dataset (nncl_dataset_load_csv, see nncl_data.h).
 *
 * Three stages, one file each (csv_impl.h holds what they share):
 *   1. csv_tokenize.c: the file becomes a table of strings: read whole, then split into fields in place
 *      (unquoting only ever shortens a field, so the unquoted text is written back over the quoted one and
 *      NUL-terminated, with no copy and no limit on line length);
 *   2. csv_columns.c: the transform is computed from the table (training data) or taken from the caller
 *      (a model's);
 *   3. here: the table is encoded into x and y through the transform.
 * Every problem is reported as "file:line: column \"name\": what was found, what was expected". Missing
 * values are errors rather than imputed: a silent guess would train a different model than the user
 * thinks.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_impl.h"
#include "status_impl.h"
#include "util/util.h"

/* ---- stage 3: the table into x and y ---- */

/* Fills x through the transform; with a model's transform, values it does not know are errors. */
static enum nncl_status encode_inputs(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const struct nncl_preprocess *pp = &L->ds.preprocess;
    size_t n_inputs = 0;
    for (size_t i = 0; i < pp->n_columns; i++) n_inputs += pp->columns[i].categorical ? pp->columns[i].n_categories : 1;
    if (n_inputs > SIZE_MAX / sizeof(float) / t->n_rows) {
        return nncl_set_error(NNCL_ERR_OOM, "%s: %zu rows of %zu inputs do not fit in memory", t->path, t->n_rows,
                              n_inputs);
    }
    L->ds.n = t->n_rows;
    L->ds.n_inputs = n_inputs;
    L->ds.x = calloc(t->n_rows * n_inputs, sizeof *L->ds.x);
    if (!L->ds.x) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for %zu x %zu inputs", t->path, t->n_rows, n_inputs);
    for (size_t r = 0; r < t->n_rows; r++) {
        float *x = L->ds.x + r * n_inputs;
        for (size_t i = 0; i < pp->n_columns; i++) {
            const struct nncl_column *c = &pp->columns[i];
            const char *value = cell(t, r, L->input_cols[i]);
            if (!c->categorical) {
                double v = 0.0;
                enum value_kind kind = csv_parse_value(value, &v);
                if (kind == VALUE_NONFINITE) return csv_nonfinite_error(t, r, L->input_cols[i]);
                if (kind == VALUE_TEXT) { /* only possible with a model's transform */
                    return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": \"%s\" is not a number (the "
                                          "model's column is numeric)", t->path, t->lines[r], c->name, value);
                }
                float z = (float)((v - c->mean) / c->std);
                if (!isfinite(z)) { /* only possible with a model's transform, on values far outside training */
                    return nncl_set_error(NNCL_ERR_NUMERIC, "%s:%zu: column \"%s\": %s standardises to %g, beyond "
                                          "the range of a float", t->path, t->lines[r], c->name, value,
                                          (v - c->mean) / c->std);
                }
                *x++ = z;
                continue;
            }
            char *const *hit = bsearch(&value, c->categories, c->n_categories, sizeof *c->categories, csv_cmp_str);
            if (!hit) { /* only possible with a model's transform */
                char list[LIST_CAP];
                csv_list_names(list, sizeof list, (const char *const *)c->categories, c->n_categories);
                return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": category \"%s\" was not in the "
                                      "training data (known: %s)", t->path, t->lines[r], c->name, value, list);
            }
            x[hit - c->categories] = 1.0f;
            x += c->n_categories;
        }
    }
    return NNCL_OK;
}

/* A target value with its number, for sorting labels either way. */
struct label {
    const char *text;
    double value;
};

static int cmp_label_text(const void *a, const void *b) {
    return strcmp(((const struct label *)a)->text, ((const struct label *)b)->text);
}

static int cmp_label_number(const void *a, const void *b) {
    double x = ((const struct label *)a)->value, y = ((const struct label *)b)->value;
    return (x > y) - (x < y);
}

/* Numerically, and "1" before "1.0" among equal numbers, so that the spelling kept does not depend on qsort. */
static int cmp_label_number_then_text(const void *a, const void *b) {
    int c = cmp_label_number(a, b);
    return c ? c : cmp_label_text(a, b);
}

static enum nncl_status set_class_names(struct nncl_dataset *ds, const char *const *names, size_t n, const char *path) {
    ds->class_names = calloc(n, sizeof *ds->class_names);
    if (!ds->class_names) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for class names", path);
    for (size_t k = 0; k < n; k++) {
        ds->class_names[k] = nncl_strdup(names[k]);
        if (!ds->class_names[k]) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for class names", path);
        ds->n_classes++;
    }
    return NNCL_OK;
}

/* Outputs per example for a task with n classes. */
static size_t task_outputs(enum nncl_task task, size_t n_classes) {
    switch (task) {
    case NNCL_TASK_REGRESSION:
    case NNCL_TASK_BINARY:
        return 1;
    case NNCL_TASK_CLASSIFICATION:
        return n_classes;
    case NNCL_TASK_AUTO:
        break;
    }
    return 0;
}

/* y from class indices: one 0/1 column for a binary task, one-hot rows otherwise. */
static enum nncl_status fill_class_targets(struct csv_load *L, const size_t *index) {
    struct nncl_dataset *ds = &L->ds;
    ds->n_outputs = task_outputs(ds->task, ds->n_classes);
    ds->y = calloc(ds->n * ds->n_outputs, sizeof *ds->y);
    if (!ds->y) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the targets", L->t.path);
    for (size_t r = 0; r < ds->n; r++) {
        if (ds->task == NNCL_TASK_BINARY) {
            ds->y[r] = (float)index[r];
        } else {
            ds->y[r * ds->n_outputs + index[r]] = 1.0f;
        }
    }
    return NNCL_OK;
}

/* The task a number of classes implies, or an error when it contradicts an explicit one. */
static enum nncl_status classes_task(struct csv_load *L, size_t n_classes, const char *list) {
    const char *path = L->t.path, *name = L->t.header[L->target_col];
    if (n_classes < 2) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: target column \"%s\" has a single value (%s); a classifier needs "
                              "at least 2 classes", path, name, list);
    }
    if (L->o.task == NNCL_TASK_BINARY && n_classes != 2) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: target column \"%s\" has %zu classes (%s), but task binary needs "
                              "exactly 2", path, name, n_classes, list);
    }
    L->ds.task = L->o.task != NNCL_TASK_AUTO ? L->o.task : n_classes == 2 ? NNCL_TASK_BINARY
                                                                           : NNCL_TASK_CLASSIFICATION;
    return NNCL_OK;
}

/* Class labels from this file: distinct values sorted by strcmp, or numerically when all are numbers. */
static enum nncl_status labels_from_data(struct csv_load *L, int numeric) {
    const struct csv_table *t = &L->t;
    size_t col = L->target_col, n = t->n_rows;
    struct label *all = malloc(n * sizeof *all);
    size_t *index = malloc(n * sizeof *index);
    const char **names = NULL;
    enum nncl_status st = NNCL_OK;
    if (!all || !index) {
        st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the labels", t->path);
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        all[r].text = cell(t, r, col);
        all[r].value = 0.0;
        if (numeric) csv_parse_value(all[r].text, &all[r].value);
    }
    int (*sort_cmp)(const void *, const void *) = numeric ? cmp_label_number_then_text : cmp_label_text;
    int (*same_cmp)(const void *, const void *) = numeric ? cmp_label_number : cmp_label_text;
    qsort(all, n, sizeof *all, sort_cmp);
    size_t n_classes = 0;
    for (size_t r = 0; r < n; r++) {
        if (r == 0 || same_cmp(&all[r], &all[n_classes - 1]) != 0) all[n_classes++] = all[r];
    }
    names = calloc(n_classes, sizeof *names);
    if (!names) {
        st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the labels", t->path);
        goto done;
    }
    for (size_t k = 0; k < n_classes; k++) names[k] = all[k].text;
    char list[LIST_CAP];
    csv_list_names(list, sizeof list, names, n_classes);
    st = classes_task(L, n_classes, list);
    if (st) goto done;
    for (size_t r = 0; r < n; r++) {
        struct label key = {cell(t, r, col), 0.0};
        if (numeric) csv_parse_value(key.text, &key.value);
        const struct label *hit = bsearch(&key, all, n_classes, sizeof *all, same_cmp);
        NNCL_ASSERT(hit); /* every value was among the sorted ones */
        index[r] = (size_t)(hit - all);
    }
    st = set_class_names(&L->ds, names, n_classes, t->path);
    if (st == NNCL_OK) st = fill_class_targets(L, index);
done:
    free(all);
    free(index);
    free(names);
    return st;
}

/* The position of `text` among the model's class names: the same string, else the same number ("1" = "1.0"). */
static size_t find_class(const char *const *names, size_t n, const char *text) {
    for (size_t k = 0; k < n; k++) {
        if (strcmp(names[k], text) == 0) return k;
    }
    double v = 0.0, w = 0.0;
    if (csv_parse_value(text, &v) != VALUE_NUMBER) return NO_COLUMN;
    for (size_t k = 0; k < n; k++) {
        if (csv_parse_value(names[k], &w) == VALUE_NUMBER && w == v) return k;
    }
    return NO_COLUMN;
}

/* Class labels mapped through the model's class names, so index k means the same class as in training. */
static enum nncl_status labels_from_model(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const char *const *names = L->o.class_names;
    size_t n_classes = L->o.n_class_names;
    char list[LIST_CAP];
    csv_list_names(list, sizeof list, names, n_classes);
    if (n_classes < 2 || (L->o.task == NNCL_TASK_BINARY && n_classes != 2)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: %zu class names given (%s) for task %s; a binary task needs "
                              "2, a classification at least 2", t->path, n_classes, list,
                              L->o.task == NNCL_TASK_BINARY ? "binary" : "classification");
    }
    L->ds.task = L->o.task != NNCL_TASK_AUTO ? L->o.task : n_classes == 2 ? NNCL_TASK_BINARY
                                                                           : NNCL_TASK_CLASSIFICATION;
    size_t *index = malloc(t->n_rows * sizeof *index);
    if (!index) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the labels", t->path);
    enum nncl_status st = NNCL_OK;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *text = cell(t, r, L->target_col);
        index[r] = find_class(names, n_classes, text);
        if (index[r] == NO_COLUMN) {
            st = nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": label \"%s\" is not one of the model's "
                                "classes (%s)", t->path, t->lines[r], t->header[L->target_col], text, list);
            break;
        }
    }
    if (st == NNCL_OK) st = set_class_names(&L->ds, names, n_classes, t->path);
    if (st == NNCL_OK) st = fill_class_targets(L, index);
    free(index);
    return st;
}

/*
 * Regression targets in the model's units: (y - mean) / std, with the mean and population standard
 * deviation of the training data (std 1 for a constant target), or the model's numbers when one is applied
 * (0 and 1 in a model that was trained on raw targets). Standardised targets let the output layer's bias
 * start at the right scale: with raw targets in the hundreds, the bias has to walk there in steps of the
 * learning rate. The numbers are stored in the model's preprocess metadata and undone by predict and eval.
 */
static enum nncl_status standardise_targets(struct csv_load *L) {
    struct nncl_dataset *ds = &L->ds;
    struct nncl_preprocess *pp = &ds->preprocess;
    if (!L->o.apply) {
        pp->target_mean = 0.0, pp->target_std = 1.0;
        if (L->o.standardize_targets && ds->n_outputs > 1) {
            /* the model file stores one mean and one standard deviation */
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: %zu target columns (%s): standardising targets is for "
                                  "one target column (the model stores one mean and standard deviation); keep them "
                                  "as given (nncl train --no-standardize-targets) or rescale them yourself",
                                  L->t.path, ds->n_outputs, L->o.target);
        }
        if (!L->o.standardize_targets || ds->n == 0) return NNCL_OK;
        double sum = 0, sq = 0;
        for (size_t r = 0; r < ds->n; r++) sum += ds->y[r];
        const double mean = sum / (double)ds->n;
        for (size_t r = 0; r < ds->n; r++) sq += ((double)ds->y[r] - mean) * ((double)ds->y[r] - mean);
        const double std = sqrt(sq / (double)ds->n);
        pp->target_mean = mean;
        pp->target_std = std > 0.0 && isfinite(std) ? std : 1.0;
    }
    if (!(pp->target_std > 0.0)) return NNCL_OK; /* a transform without target statistics: raw */
    if (pp->target_mean == 0.0 && pp->target_std == 1.0) return NNCL_OK;
    if (ds->n_outputs > 1) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: the model's target transform standardises one column, but %zu "
                              "target columns were read", L->t.path, ds->n_outputs);
    }
    for (size_t r = 0; r < ds->n; r++) ds->y[r] = (float)(((double)ds->y[r] - pp->target_mean) / pp->target_std);
    return NNCL_OK;
}

static enum nncl_status regression_targets(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    struct nncl_dataset *ds = &L->ds;
    ds->task = NNCL_TASK_REGRESSION;
    ds->n_outputs = L->n_targets;
    ds->y = malloc(ds->n * L->n_targets * sizeof *ds->y);
    if (!ds->y) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the targets", t->path);
    for (size_t i = 0; i < ds->n * L->n_targets; i++) {
        const size_t r = i / L->n_targets, col = L->target_cols[i % L->n_targets];
        const char *text = cell(t, r, col);
        double v = 0.0;
        enum value_kind kind = csv_parse_value(text, &v);
        if (kind == VALUE_NONFINITE) return csv_nonfinite_error(t, r, col);
        if (kind == VALUE_TEXT) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": \"%s\" is not a number; a regression "
                                  "target must be numeric (choose a classification task for labels)",
                                  t->path, t->lines[r], t->header[col], text);
        }
        if (fabs(v) > FLT_MAX) {
            return nncl_set_error(NNCL_ERR_NUMERIC, "%s:%zu: column \"%s\": %s is beyond the range of a float "
                                  "(about 3.4e38); rescale the target", t->path, t->lines[r],
                                  t->header[col], text);
        }
        ds->y[i] = (float)v;
    }
    return standardise_targets(L);
}

static enum nncl_status encode_targets(struct csv_load *L) {
    struct nncl_dataset *ds = &L->ds;
    const struct nncl_csv_options *o = &L->o;
    int model_classes = o->apply && o->n_class_names > 0 && o->task != NNCL_TASK_REGRESSION;
    if (L->target_col == NO_COLUMN) {
        /* prediction input: no y, but the shape of the model's outputs is known */
        ds->task = o->task;
        if (model_classes) {
            if (ds->task == NNCL_TASK_AUTO) ds->task = o->n_class_names == 2 ? NNCL_TASK_BINARY : NNCL_TASK_CLASSIFICATION;
            enum nncl_status st = set_class_names(ds, o->class_names, o->n_class_names, L->t.path);
            if (st) return st;
        }
        ds->n_outputs = L->n_targets > 1 ? L->n_targets : task_outputs(ds->task, ds->n_classes);
        return NNCL_OK;
    }
    if (L->n_targets > 1) { /* several target columns: multi-output regression, each numeric */
        if (o->task != NNCL_TASK_AUTO && o->task != NNCL_TASK_REGRESSION) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: %zu target columns (%s) are for regression (one output "
                                  "each); a classification target is one column",
                                  L->t.path, L->n_targets, o->target ? o->target : o->apply->target);
        }
        return regression_targets(L);
    }
    if (model_classes) return labels_from_model(L);
    if (o->task == NNCL_TASK_REGRESSION) return regression_targets(L);
    if (o->task == NNCL_TASK_AUTO) {
        int categorical = 0;
        enum nncl_status st = csv_column_kind(&L->t, L->target_col, &categorical);
        if (st) return st;
        return categorical ? labels_from_data(L, 0) : regression_targets(L);
    }
    /* an explicit classification: the values are labels, numbers included */
    struct column_scan s;
    csv_scan_column(&L->t, L->target_col, &s);
    return labels_from_data(L, s.n_text == 0 && s.n_nonfinite == 0);
}

enum nncl_status nncl_dataset_load_csv(const char *path, const struct nncl_csv_options *opts, struct nncl_dataset *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_csv: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_csv: path is NULL");
    struct csv_load L;
    memset(&L, 0, sizeof L);
    if (opts) L.o = *opts;
    if ((int)L.o.task < (int)NNCL_TASK_AUTO || (int)L.o.task > (int)NNCL_TASK_CLASSIFICATION) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: unknown task %d", path, (int)L.o.task);
    }
    if (L.o.n_class_names && !L.o.class_names) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: %zu class names announced but class_names is NULL", path,
                              L.o.n_class_names);
    }
    if (L.o.delimiter == '"' || L.o.delimiter == '\n' || L.o.delimiter == '\r') {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the delimiter cannot be a quote or a line break", path);
    }
    enum nncl_status st = csv_table_load(path, L.o.delimiter, &L.t);
    if (st == NNCL_OK) st = csv_find_target(&L);
    if (st == NNCL_OK) st = L.o.apply ? csv_plan_from_model(&L) : csv_plan_from_data(&L);
    if (st == NNCL_OK) st = encode_inputs(&L);
    if (st == NNCL_OK) st = encode_targets(&L);
    if (st == NNCL_OK) {
        snprintf(L.ds.source, sizeof L.ds.source, "%s", path);
        L.ds.delimiter = L.t.delim;
        *out = L.ds;
    } else {
        nncl_dataset_free(&L.ds);
    }
    free(L.input_cols);
    csv_table_free(&L.t);
    return st;
}
