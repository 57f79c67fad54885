/*
 * csv_columns.c: stage 2 of the CSV loader (see data_csv.c): which columns are the inputs and the target,
 * and their transform (struct nncl_preprocess), computed from training data or taken from a model's.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_impl.h"
#include "preprocess_json.h"
#include "status_impl.h"
#include "util/util.h"

/* "a, b, c" into buf, ending in ", ... (N more)" when the names do not all fit. */
void csv_list_names(char *buf, size_t cap, const char *const *names, size_t n) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t need = strlen(names[i]) + (i ? 2 : 0);
        if (used + need + 40 >= cap) { /* keep room for the ", ... (N more)" ending */
            snprintf(buf + used, cap - used, "%s... (%zu more)", i ? ", " : "", n - i);
            return;
        }
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", names[i]);
    }
}

/* strtod follows LC_NUMERIC: the library never calls setlocale, so "1.5" parses unless the program changed it. */
enum value_kind csv_parse_value(const char *s, double *v) {
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0') return VALUE_TEXT;
    if (!isfinite(d)) return VALUE_NONFINITE;
    *v = d;
    return VALUE_NUMBER;
}

/* ---- the transform of a column ---- */

void csv_scan_column(const struct csv_table *t, size_t col, struct column_scan *s) {
    memset(s, 0, sizeof *s);
    for (size_t r = 0; r < t->n_rows; r++) {
        double v;
        switch (csv_parse_value(cell(t, r, col), &v)) {
        case VALUE_NUMBER:
            if (s->n_number++ == 0) s->first_number = r;
            break;
        case VALUE_NONFINITE:
            if (s->n_nonfinite++ == 0) s->first_nonfinite = r;
            break;
        case VALUE_TEXT:
            if (s->n_text++ == 0) s->first_text = r;
            break;
        }
    }
}

enum nncl_status csv_nonfinite_error(const struct csv_table *t, size_t row, size_t col) {
    return nncl_set_error(NNCL_ERR_NUMERIC, "%s:%zu: column \"%s\": \"%s\" is not a finite number; NaN and "
                          "infinities are not allowed (remove the row or replace the value)",
                          t->path, t->lines[row], t->header[col], cell(t, row, col));
}

/*
 * Numeric when every value is a number, categorical when none is. A column with both is an error: one
 * typo ("12x") must not silently turn a numeric column into hundreds of categories. The message points
 * at the odd one out.
 */
enum nncl_status csv_column_kind(const struct csv_table *t, size_t col, int *categorical) {
    struct column_scan s;
    csv_scan_column(t, col, &s);
    if (s.n_number && s.n_text) {
        if (s.n_number >= s.n_text) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": \"%s\" is not a number (the other values "
                                  "in this column are numbers)",
                                  t->path, t->lines[s.first_text], t->header[col], cell(t, s.first_text, col));
        }
        return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": \"%s\" is a number, but the other values in "
                              "this column are not; a column is either all numbers or all categories",
                              t->path, t->lines[s.first_number], t->header[col], cell(t, s.first_number, col));
    }
    if (s.n_text == 0) {
        if (s.n_nonfinite) return csv_nonfinite_error(t, s.first_nonfinite, col);
        *categorical = 0;
        return NNCL_OK;
    }
    *categorical = 1; /* text, possibly with "nan" or "inf" among it as ordinary category names */
    return NNCL_OK;
}

int csv_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The distinct values of a column, sorted by strcmp, as owned copies. */
static enum nncl_status collect_categories(const struct csv_table *t, size_t col, struct nncl_column *c) {
    char **all = malloc(t->n_rows * sizeof *all);
    if (!all) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the categories of \"%s\"", t->path, t->header[col]);
    for (size_t r = 0; r < t->n_rows; r++) all[r] = t->cells[r * t->n_cols + col];
    qsort(all, t->n_rows, sizeof *all, csv_cmp_str);
    size_t n = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (r == 0 || strcmp(all[r], all[n - 1]) != 0) all[n++] = all[r];
    }
    c->categories = calloc(n, sizeof *c->categories);
    enum nncl_status st = NNCL_OK;
    if (!c->categories) st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the categories of \"%s\"", t->path, t->header[col]);
    for (size_t k = 0; st == NNCL_OK && k < n; k++) {
        c->categories[k] = nncl_strdup(all[k]);
        if (!c->categories[k]) {
            st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the categories of \"%s\"", t->path, t->header[col]);
            break;
        }
        c->n_categories++;
    }
    free(all);
    return st;
}

/* Mean and population std; std 1 for a constant column, which then standardises to all zeros. */
static enum nncl_status numeric_stats(const struct csv_table *t, size_t col, struct nncl_column *c) {
    double sum = 0.0, lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < t->n_rows; r++) {
        double v = 0.0;
        csv_parse_value(cell(t, r, col), &v);
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double mean = sum / (double)t->n_rows, ss = 0.0;
    for (size_t r = 0; r < t->n_rows; r++) {
        double v = 0.0;
        csv_parse_value(cell(t, r, col), &v);
        ss += (v - mean) * (v - mean);
    }
    /* a constant column is detected from its extremes, not from std == 0: rounding leaves the computed mean
     * and std a hair off (3 x 0.1 / 3 != 0.1), and the column should standardise to exact zeros */
    if (lo == hi) {
        c->mean = lo;
        c->std = 1.0;
        return NNCL_OK;
    }
    c->mean = mean;
    c->std = sqrt(ss / (double)t->n_rows);
    if (!isfinite(c->mean) || !isfinite(c->std) || !(c->std > 0.0)) {
        return nncl_set_error(NNCL_ERR_NUMERIC, "%s: column \"%s\": the values span %g to %g, too wide to "
                              "standardise in double precision; rescale the column", t->path, t->header[col], lo, hi);
    }
    return NNCL_OK;
}

/* ---- the plan: inputs, target and their transform ---- */

static size_t find_column(const struct csv_table *t, const char *name) { return csv_find_column(t, name); }

/* Whether file column `col` is one of the targets. */
static int is_target(const struct csv_load *L, size_t col) {
    if (L->target_col == NO_COLUMN) return 0;
    for (size_t k = 0; k < L->n_targets; k++) {
        if (L->target_cols[k] == col) return 1;
    }
    return 0;
}

enum nncl_status csv_find_target(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const char *name = L->o.target;
    int from_model = 0;
    if (!name && L->o.apply) {
        name = L->o.apply->target;
        from_model = 1;
    }
    L->target_col = NO_COLUMN;
    L->n_targets = 1;
    if (!name) { /* training data without a target name: the last column */
        L->target_col = L->target_cols[0] = t->n_cols - 1;
        return NNCL_OK;
    }
    if (name[0] == '\0') {
        if (L->o.require_target) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: a target is required, but the model names no target "
                                  "column", t->path);
        }
        return NNCL_OK;
    }
    /* "a,b,c": several numeric target columns, one regression output each */
    size_t n = 0, missing = 0;
    char missing_name[NAME_CAP + 64] = "";
    for (const char *p = name; *p; n++) {
        const size_t len = strcspn(p, ",");
        if (n == CSV_MAX_TARGETS) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: more than %d target columns", t->path, CSV_MAX_TARGETS);
        }
        char one[NAME_CAP + 64];
        snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), p);
        const size_t col = find_column(t, one);
        if (col == NO_COLUMN && !missing++) snprintf(missing_name, sizeof missing_name, "%s", one);
        for (size_t k = 0; k < n && col != NO_COLUMN; k++) {
            if (L->target_cols[k] == col) {
                return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: target column \"%s\" is named twice", t->path, one);
            }
        }
        L->target_cols[n] = col;
        p += len + (p[len] == ',');
    }
    L->n_targets = n ? n : 1;
    if (n && !missing) {
        L->target_col = L->target_cols[0];
        return NNCL_OK;
    }
    if (n && missing == n && !L->o.require_target) return NNCL_OK; /* prediction input without targets */
    char list[LIST_CAP];
    csv_list_names(list, sizeof list, (const char *const *)t->header, t->n_cols);
    return nncl_set_error(from_model ? NNCL_ERR_FORMAT : NNCL_ERR_INVALID_ARG,
                          "%s: no target column \"%s\"%s; the columns are: %s", t->path, n ? missing_name : name,
                          from_model ? " (the column the model predicts)" : "", list);
}

/* Every value that will be used must be there: an empty field is reported with its line and column. */
static enum nncl_status check_no_empty(const struct csv_load *L) {
    const struct csv_table *t = &L->t;
    size_t n_in = L->ds.preprocess.n_columns;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i < n_in + L->n_targets; i++) {
            size_t col = i < n_in ? L->input_cols[i] : L->target_col == NO_COLUMN ? NO_COLUMN : L->target_cols[i - n_in];
            if (col == NO_COLUMN || cell(t, r, col)[0] != '\0') continue;
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\" (field %zu) is empty; every value must "
                                  "be given (missing values are not filled in)",
                                  t->path, t->lines[r], t->header[col], col + 1);
        }
    }
    return NNCL_OK;
}

/* Whether column `name` is in the comma-separated list `ignore`. */
static int in_list(const char *ignore, const char *name) {
    const size_t len = strlen(name);
    for (const char *p = ignore; p && *p;) {
        const size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, n) == 0) return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Every name in the ignore list must be a column: a typo would otherwise silently train on it. */
static enum nncl_status check_ignore_list(const struct csv_table *t, const char *ignore) {
    for (const char *p = ignore; p && *p;) {
        const size_t n = strcspn(p, ",");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        if (find_column(t, name) == NO_COLUMN) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: cannot ignore column \"%s\": there is no such column",
                                  t->path, name);
        }
        p += n + (p[n] == ',');
    }
    return NNCL_OK;
}

/* Training data: every column but the target and the ignored ones is an input, its transform computed
 * from the data. */
enum nncl_status csv_plan_from_data(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    struct nncl_preprocess *pp = &L->ds.preprocess;
    enum nncl_status ist = check_ignore_list(t, L->o.ignore);
    if (ist) return ist;
    size_t n_in = 0;
    for (size_t j = 0; j < t->n_cols; j++) n_in += !is_target(L, j) && !in_list(L->o.ignore, t->header[j]);
    if (n_in == 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: no input columns left besides the target and the ignored ones",
                              t->path);
    }
    L->input_cols = malloc(n_in * sizeof *L->input_cols);
    pp->columns = calloc(n_in, sizeof *pp->columns);
    if (!L->input_cols || !pp->columns) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory", t->path);
    for (size_t j = 0; j < t->n_cols; j++) {
        if (!is_target(L, j) && !in_list(L->o.ignore, t->header[j])) L->input_cols[pp->n_columns++] = j;
    }
    if (L->target_col != NO_COLUMN && L->n_targets == 1) {
        memcpy(pp->target, t->header[L->target_col], strlen(t->header[L->target_col]) + 1);
    } else if (L->target_col != NO_COLUMN) { /* the list as given: the model reads its targets back by it */
        if (strlen(L->o.target) >= sizeof pp->target) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the target list \"%s\" is longer than %zu bytes, the "
                                  "most a model file stores", t->path, L->o.target, sizeof pp->target - 1);
        }
        snprintf(pp->target, sizeof pp->target, "%s", L->o.target);
    }
    pp->target_mean = 0.0;
    pp->target_std = 1.0;
    enum nncl_status st = check_no_empty(L);
    for (size_t i = 0; st == NNCL_OK && i < pp->n_columns; i++) {
        size_t col = L->input_cols[i];
        struct nncl_column *c = &pp->columns[i];
        memcpy(c->name, t->header[col], strlen(t->header[col]) + 1);
        st = csv_column_kind(t, col, &c->categorical);
        if (st) break;
        if (c->categorical) {
            c->mean = 0.0;
            c->std = 1.0;
            st = collect_categories(t, col, c);
        } else {
            st = numeric_stats(t, col, c);
        }
    }
    return st;
}

/* A model's transform: its columns, found by name; other columns of the file are ignored. */
enum nncl_status csv_plan_from_model(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const struct nncl_preprocess *apply = L->o.apply;
    char where[300];
    snprintf(where, sizeof where, "%s: the model's preprocess transform", t->path);
    enum nncl_status st = nncl_preprocess_check(apply, where, NNCL_ERR_INVALID_ARG);
    if (st) return st;
    if (apply->n_columns == 0) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the model's preprocess transform has no columns (a model "
                              "trained on IDX or safetensors data cannot read CSV)", t->path);
    }
    st = nncl_preprocess_copy(apply, &L->ds.preprocess); /* the data set owns its transform */
    if (st) return st;
    L->input_cols = malloc(apply->n_columns * sizeof *L->input_cols);
    if (!L->input_cols) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory", t->path);
    for (size_t i = 0; i < apply->n_columns; i++) {
        const char *name = apply->columns[i].name;
        size_t col = find_column(t, name);
        if (col == NO_COLUMN) {
            char list[LIST_CAP];
            csv_list_names(list, sizeof list, (const char *const *)t->header, t->n_cols);
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: the model's input column \"%s\" is not in the file; the "
                                  "file's columns are: %s", t->path, name, list);
        }
        if (is_target(L, col)) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the target \"%s\" is one of the model's input columns",
                                  t->path, name);
        }
        L->input_cols[i] = col;
    }
    return check_no_empty(L);
}
