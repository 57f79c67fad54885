/*
 * data_safetensors.c: the safetensors data-set loader (tensors "x" and "y"), plus the data-set helpers
 * every loader shares: nncl_dataset_free, nncl_preprocess_free and nncl_dataset_label.
 *
 * The data are used exactly as stored (no standardisation), so a run compares number for number with
 * another framework fed the same file. Integer labels become one-hot rows here, once, so the trainer only
 * ever sees float matrices.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "nncl/nncl_data.h"
#include "status_impl.h"

/* A label beyond this is a corrupt file or raw values mistaken for labels, not a class index; the limit
 * also keeps a hostile label from asking for an N x 2^62 one-hot matrix. */
#define MAX_CLASSES 1000000

void nncl_preprocess_free(struct nncl_preprocess *pp) {
    if (!pp) return;
    for (size_t i = 0; i < pp->n_columns && pp->columns; i++) {
        struct nncl_column *c = &pp->columns[i];
        for (size_t j = 0; j < c->n_categories && c->categories; j++) free(c->categories[j]);
        free(c->categories);
    }
    free(pp->columns);
    memset(pp, 0, sizeof *pp);
}

void nncl_dataset_free(struct nncl_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->y);
    for (size_t i = 0; i < ds->n_classes && ds->class_names; i++) free(ds->class_names[i]);
    free(ds->class_names);
    nncl_preprocess_free(&ds->preprocess);
    memset(ds, 0, sizeof *ds);
}

size_t nncl_dataset_label(const struct nncl_dataset *ds, size_t row) {
    /* A row outside the data set or a set without targets is a bug in the caller, not bad input. */
    NNCL_ASSERT(ds && ds->y && row < ds->n && ds->n_outputs > 0);
    const float *y = ds->y + row * ds->n_outputs;
    if (ds->n_outputs == 1) return y[0] >= 0.5f;
    size_t best = 0;
    for (size_t j = 1; j < ds->n_outputs; j++) {
        if (y[j] > y[best]) best = j; /* the first of equal maxima wins, as numpy's argmax */
    }
    return best;
}

/* Every message names the data set's file. */
#define ds_error(status, path, ...) nncl_file_error(status, "safetensors data set", path, __VA_ARGS__)

static int is_float_dtype(enum st_dtype d) { return d == ST_F32 || d == ST_F64 || d == ST_F16 || d == ST_BF16; }

/* The file's tensor names, for a message about a missing one: "a", "b" (at most a few). */
static void list_names(const struct st_file *f, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    if (f->n_tensors == 0) {
        snprintf(buf, cap, "no tensors");
        return;
    }
    for (size_t i = 0; i < f->n_tensors && i < 8 && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s\"%s\"", i ? ", " : "tensors ", f->tensors[i].name);
    }
    if (f->n_tensors > 8 && len < cap) snprintf(buf + len, cap - len, ", ... (%zu in all)", f->n_tensors);
}

/* A float copy of t's t->count values into *out (owned by the caller); NaN and infinities are errors. */
static enum nncl_status load_floats(const struct st_file *f, const struct st_tensor *t, const char *path,
                                    float **out) {
    *out = NULL;
    if (t->count > SIZE_MAX / sizeof(float) - 1) {
        return ds_error(NNCL_ERR_OOM, path, "tensor \"%s\" is too large for this machine", t->name);
    }
    float *v = malloc((size_t)t->count * sizeof *v + 1); /* +1: never malloc(0) */
    if (!v) {
        return ds_error(NNCL_ERR_OOM, path, "out of memory for tensor \"%s\" (%" PRIu64 " values)", t->name,
                        t->count);
    }
    enum nncl_status st = st_to_float(f, t, v, (size_t)t->count, 1);
    if (st) {
        free(v);
        return st;
    }
    *out = v;
    return NNCL_OK;
}

/* Integer labels (N) or (N, 1) into out->y as the task asks. */
static enum nncl_status load_labels(const struct st_file *f, const struct st_tensor *ty, const char *path,
                                    enum nncl_task task, size_t n_classes, struct nncl_dataset *out) {
    size_t n = out->n;
    int64_t *labels = malloc(n * sizeof *labels);
    if (!labels) return ds_error(NNCL_ERR_OOM, path, "out of memory for %zu labels", n);
    enum nncl_status st = st_to_int64(f, ty, labels, n);
    if (st) goto done;

    if (task == NNCL_TASK_REGRESSION) {
        /* Integer targets of a regression are values, not classes. */
        out->y = malloc(n * sizeof *out->y);
        if (!out->y) {
            st = ds_error(NNCL_ERR_OOM, path, "out of memory for %zu targets", n);
            goto done;
        }
        for (size_t i = 0; i < n; i++) out->y[i] = (float)labels[i];
        out->n_outputs = 1;
        out->task = NNCL_TASK_REGRESSION;
        goto done;
    }

    int64_t max_label = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0) {
            st = ds_error(NNCL_ERR_FORMAT, path, "label y[%zu] is %" PRId64 "; labels must be class indices >= 0", i,
                          labels[i]);
            goto done;
        }
        if (labels[i] >= MAX_CLASSES) {
            st = ds_error(NNCL_ERR_FORMAT, path,
                          "label y[%zu] is %" PRId64 "; class indices above %d are not supported (are these values "
                          "rather than labels? then store y as a float N x 1 matrix)",
                          i, labels[i], MAX_CLASSES - 1);
            goto done;
        }
        if (task == NNCL_TASK_BINARY && labels[i] > 1) {
            st = ds_error(NNCL_ERR_FORMAT, path, "label y[%zu] is %" PRId64 "; a binary task needs labels 0 and 1", i,
                          labels[i]);
            goto done;
        }
        if (labels[i] > max_label) max_label = labels[i];
    }

    if (task == NNCL_TASK_BINARY) {
        out->y = malloc(n * sizeof *out->y);
        if (!out->y) {
            st = ds_error(NNCL_ERR_OOM, path, "out of memory for %zu targets", n);
            goto done;
        }
        for (size_t i = 0; i < n; i++) out->y[i] = (float)labels[i];
        out->n_outputs = 1;
        out->n_classes = 2;
        out->task = NNCL_TASK_BINARY;
        goto done;
    }

    size_t classes = (size_t)max_label + 1;
    if (n_classes > classes) classes = n_classes;
    if (classes < 2) {
        st = ds_error(NNCL_ERR_FORMAT, path,
                      "every label in y is 0; classification needs at least 2 classes (pass n_classes when the "
                      "data happen to hold one class)");
        goto done;
    }
    if (classes > SIZE_MAX / sizeof(float) / n) {
        st = ds_error(NNCL_ERR_OOM, path, "%zu examples x %zu classes do not fit in memory", n, classes);
        goto done;
    }
    out->y = calloc(n * classes, sizeof *out->y);
    if (!out->y) {
        st = ds_error(NNCL_ERR_OOM, path, "out of memory for %zu x %zu one-hot targets", n, classes);
        goto done;
    }
    for (size_t i = 0; i < n; i++) out->y[i * classes + (size_t)labels[i]] = 1.0f;
    out->n_outputs = classes;
    out->n_classes = classes;
    out->task = NNCL_TASK_CLASSIFICATION;
done:
    free(labels);
    return st;
}

/* Float targets (N, n_outputs), checked against the task. */
static enum nncl_status load_float_targets(const struct st_file *f, const struct st_tensor *ty, const char *path,
                                           enum nncl_task task, size_t n_classes, struct nncl_dataset *out) {
    size_t cols = (size_t)ty->shape[1];
    if (cols == 0) return ds_error(NNCL_ERR_FORMAT, path, "tensor \"y\" has 0 columns");
    enum nncl_status st = load_floats(f, ty, path, &out->y);
    if (st) return st;
    out->n_outputs = cols;
    switch (task) {
    case NNCL_TASK_AUTO:
    case NNCL_TASK_REGRESSION: out->task = NNCL_TASK_REGRESSION; return NNCL_OK;
    case NNCL_TASK_BINARY:
        if (cols != 1) {
            return ds_error(NNCL_ERR_FORMAT, path, "tensor \"y\" has %zu columns; a binary task needs one 0/1 column",
                            cols);
        }
        for (size_t i = 0; i < out->n; i++) {
            if (out->y[i] != 0.0f && out->y[i] != 1.0f) {
                return ds_error(NNCL_ERR_FORMAT, path, "y[%zu] is %g; a binary task needs targets 0 and 1", i,
                                (double)out->y[i]);
            }
        }
        out->task = NNCL_TASK_BINARY;
        out->n_classes = 2;
        return NNCL_OK;
    case NNCL_TASK_CLASSIFICATION:
        if (cols < 2) {
            return ds_error(NNCL_ERR_FORMAT, path,
                            "tensor \"y\" has 1 column; classification needs one-hot rows over >= 2 classes (or "
                            "integer labels of shape (N))");
        }
        if (n_classes && n_classes != cols) {
            return ds_error(NNCL_ERR_FORMAT, path, "tensor \"y\" has %zu columns but n_classes is %zu", cols,
                            n_classes);
        }
        /* Soft labels are allowed (each row a distribution); anything else is not a class target. */
        for (size_t i = 0; i < out->n; i++) {
            double sum = 0.0;
            for (size_t j = 0; j < cols; j++) {
                float v = out->y[i * cols + j];
                if (v < 0.0f) {
                    return ds_error(NNCL_ERR_FORMAT, path,
                                    "y[%zu, %zu] is %g; classification targets must be one-hot rows", i, j, (double)v);
                }
                sum += v;
            }
            if (sum < 0.999 || sum > 1.001) {
                return ds_error(NNCL_ERR_FORMAT, path,
                                "row %zu of y sums to %g; classification targets must be one-hot rows (sum 1)", i,
                                sum);
            }
        }
        out->task = NNCL_TASK_CLASSIFICATION;
        out->n_classes = cols;
        return NNCL_OK;
    }
    return ds_error(NNCL_ERR_INVALID_ARG, path, "unknown task %d", (int)task);
}

static enum nncl_status load(const struct st_file *f, const char *path, enum nncl_task task, size_t n_classes,
                             int y_optional, struct nncl_dataset *out) {
    char names[512];
    const struct st_tensor *tx = st_find(f, "x");
    if (!tx) {
        list_names(f, names, sizeof names);
        return ds_error(NNCL_ERR_FORMAT, path, "no tensor \"x\" (the inputs, N x n_inputs); the file holds %s",
                        names);
    }
    if (tx->ndim != 2) {
        return ds_error(NNCL_ERR_FORMAT, path, "tensor \"x\" has %d dimensions; it must be N x n_inputs (2)",
                        tx->ndim);
    }
    if (!is_float_dtype(tx->dtype)) {
        return ds_error(NNCL_ERR_FORMAT, path,
                        "tensor \"x\" has dtype %s; it must be F32, F64, F16 or BF16 (convert integer inputs to "
                        "float, e.g. pixels scaled to [0, 1], before saving)",
                        st_dtype_name(tx->dtype));
    }
    if (tx->shape[0] == 0 || tx->shape[1] == 0) {
        return ds_error(NNCL_ERR_FORMAT, path, "tensor \"x\" is %" PRIu64 " x %" PRIu64 "; it holds no data",
                        tx->shape[0], tx->shape[1]);
    }
    const struct st_tensor *ty = st_find(f, "y");
    if (!ty && y_optional) { /* prediction input: the inputs alone */
        out->n = (size_t)tx->shape[0];
        out->n_inputs = (size_t)tx->shape[1];
        out->task = task;
        return load_floats(f, tx, path, &out->x);
    }
    if (!ty) {
        list_names(f, names, sizeof names);
        return ds_error(NNCL_ERR_FORMAT, path, "no tensor \"y\" (the targets); the file holds %s", names);
    }
    uint64_t n = tx->shape[0];
    int int_labels = !is_float_dtype(ty->dtype);
    if (int_labels ? !(ty->ndim == 1 || (ty->ndim == 2 && ty->shape[1] == 1)) : ty->ndim != 2) {
        return ds_error(NNCL_ERR_FORMAT, path,
                        "tensor \"y\" (%s) has %d dimensions; it must be N x n_outputs (float targets) or "
                        "N or N x 1 (integer labels)",
                        st_dtype_name(ty->dtype), ty->ndim);
    }
    if (ty->shape[0] != n) {
        return ds_error(NNCL_ERR_FORMAT, path,
                        "tensor \"x\" has %" PRIu64 " rows but \"y\" has %" PRIu64 "; they need one row per example",
                        n, ty->shape[0]);
    }
    if ((unsigned)task > NNCL_TASK_CLASSIFICATION) {
        return ds_error(NNCL_ERR_INVALID_ARG, path, "unknown task %d", (int)task);
    }

    out->n = (size_t)n;
    out->n_inputs = (size_t)tx->shape[1];
    enum nncl_status st = load_floats(f, tx, path, &out->x);
    if (st) return st;
    if (int_labels) return load_labels(f, ty, path, task, n_classes, out);
    return load_float_targets(f, ty, path, task, n_classes, out);
}

static enum nncl_status load_file(const char *path, enum nncl_task task, size_t n_classes, int y_optional,
                                  struct nncl_dataset *out);

enum nncl_status nncl_dataset_load_safetensors(const char *path, enum nncl_task task, size_t n_classes,
                                               struct nncl_dataset *out) {
    return load_file(path, task, n_classes, 0, out);
}

enum nncl_status nncl_dataset_load_safetensors_inputs(const char *path, enum nncl_task task, size_t n_classes,
                                                      struct nncl_dataset *out) {
    return load_file(path, task, n_classes, 1, out);
}

static enum nncl_status load_file(const char *path, enum nncl_task task, size_t n_classes, int y_optional,
                                  struct nncl_dataset *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_safetensors: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_dataset_load_safetensors: path is NULL");
    struct st_file f;
    enum nncl_status st = st_read(path, &f);
    if (st) return st;
    st = load(&f, path, task, n_classes, y_optional, out);
    st_free(&f);
    if (st) {
        nncl_dataset_free(out);
        return st;
    }
    snprintf(out->source, sizeof out->source, "%s", path);
    return NNCL_OK;
}
