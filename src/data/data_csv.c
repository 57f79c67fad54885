/*
 * data_csv.c: CSV files into an nncl_dataset (nncl_dataset_load_csv, see nncl_data.h).
 *
 * Three stages:
 *   1. the file becomes a table of strings: read whole, then split into fields in place (unquoting only
 *      ever shortens a field, so the unquoted text is written back over the quoted one and NUL-terminated,
 *      with no copy and no limit on line length);
 *   2. the transform is computed from the table (training data) or taken from the caller (a model's);
 *   3. the table is encoded into x and y through the transform.
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

#include "nncl/nncl_data.h"
#include "preprocess_json.h"
#include "status_impl.h"
#include "util/util.h"

#define NAME_CAP sizeof(((struct nncl_column *)0)->name) /* 64: column names are at most 63 bytes */
#define NO_COLUMN SIZE_MAX
#define LIST_CAP 512 /* names listed in a message before "... (N more)" */

/* ---- small helpers ---- */

/* "a, b, c" into buf, ending in ", ... (N more)" when the names do not all fit. */
static void list_names(char *buf, size_t cap, const char *const *names, size_t n) {
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

enum value_kind {
    VALUE_NUMBER,    /* parses fully with strtod and is finite */
    VALUE_NONFINITE, /* parses fully but is NaN or an infinity ("nan", "inf", "1e999") */
    VALUE_TEXT,      /* does not parse as a number */
};

/* strtod follows LC_NUMERIC: the library never calls setlocale, so "1.5" parses unless the program changed it. */
static enum value_kind parse_value(const char *s, double *v) {
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0') return VALUE_TEXT;
    if (!isfinite(d)) return VALUE_NONFINITE;
    *v = d;
    return VALUE_NUMBER;
}

/* A growable array of pointers or of sizes; 0 on out of memory. */
struct ptr_vec {
    char **v;
    size_t n, cap;
};

static int ptr_vec_push(struct ptr_vec *pv, char *p) {
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? 2 * pv->cap : 64;
        char **v = realloc(pv->v, cap * sizeof *v);
        if (!v) return 0;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = p;
    return 1;
}

struct size_vec {
    size_t *v;
    size_t n, cap;
};

static int size_vec_push(struct size_vec *sv, size_t x) {
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? 2 * sv->cap : 64;
        size_t *v = realloc(sv->v, cap * sizeof *v);
        if (!v) return 0;
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = x;
    return 1;
}

/* ---- stage 1: the file as a table of strings ---- */

struct csv_table {
    const char *path;
    char *text;    /* the whole file; the fields point into it */
    size_t n_cols; /* fields of the header */
    char **header; /* n_cols names */
    size_t n_rows; /* data rows (blank lines are not rows) */
    char **cells;  /* n_rows x n_cols, row-major */
    size_t *lines; /* the line each row starts on, for messages */
};

static void csv_table_free(struct csv_table *t) {
    free(t->text);
    free(t->header);
    free(t->cells);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

static const char *cell(const struct csv_table *t, size_t row, size_t col) { return t->cells[row * t->n_cols + col]; }

static enum nncl_status read_file(const char *path, char **text_out, size_t *size_out) {
    FILE *f = fopen(path, "rb");
    if (!f) return nncl_set_error(NNCL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t size = 0, cap = 0;
    enum nncl_status st = NNCL_OK;
    for (;;) {
        if (cap - size < 2) { /* room for at least one more byte and the terminating NUL */
            size_t new_cap = cap ? 2 * cap : (size_t)1 << 16;
            char *bigger = new_cap > cap ? realloc(text, new_cap) : NULL;
            if (!bigger) {
                st = nncl_set_error(NNCL_ERR_OOM, "%s: out of memory reading the file (%zu bytes so far)", path, size);
                break;
            }
            text = bigger;
            cap = new_cap;
        }
        size_t got = fread(text + size, 1, cap - size - 1, f);
        size += got;
        if (got == 0) { /* the end of the file, or an error */
            if (ferror(f)) {
                st = nncl_set_error(NNCL_ERR_IO, "%s: reading failed after byte %zu: %s", path, size, strerror(errno));
            }
            break;
        }
    }
    if (fclose(f) != 0 && st == NNCL_OK) st = nncl_set_error(NNCL_ERR_IO, "%s: closing failed: %s", path, strerror(errno));
    if (st) {
        free(text);
        return st;
    }
    text[size] = '\0';
    *text_out = text;
    *size_out = size;
    return NNCL_OK;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Checks the header's names: non-empty, short enough for struct nncl_column, unique. */
static enum nncl_status check_header(const struct csv_table *t, size_t line) {
    for (size_t j = 0; j < t->n_cols; j++) {
        const char *name = t->header[j];
        size_t len = strlen(name);
        if (len == 0) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: the name of column %zu in the header is empty; every "
                                  "column needs a name", t->path, line, j + 1);
        }
        if (len >= NAME_CAP) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: the name of column %zu (\"%.40s...\") is %zu bytes; "
                                  "names are limited to %zu bytes", t->path, line, j + 1, name, len, NAME_CAP - 1);
        }
        for (size_t k = 0; k < j; k++) {
            if (strcmp(t->header[k], name) == 0) {
                return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: the column name \"%s\" appears twice in the "
                                      "header (columns %zu and %zu); names must be unique",
                                      t->path, line, name, k + 1, j + 1);
            }
        }
    }
    return NNCL_OK;
}

/*
 * Splits text[0, size) into records and fields. Fields are separated by commas and records by "\n" or
 * "\r\n"; spaces and tabs around a field are dropped; a field in double quotes may hold commas, line
 * breaks and "" (a quote). A line holding nothing but blanks is skipped.
 */
static enum nncl_status csv_parse(struct csv_table *t, size_t size) {
    char *p = t->text, *end = t->text + size;
    size_t line = 1, header_line = 0;
    struct ptr_vec row = {0}, cells = {0};
    struct size_vec lines = {0};
    enum nncl_status st = NNCL_OK;
    /* a UTF-8 byte-order mark, as spreadsheet programs write, is not part of the first name */
    if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;

    while (p < end && st == NNCL_OK) {
        size_t record_line = line;
        int any_quoted = 0;
        row.n = 0;
        for (;;) { /* one field per turn */
            while (p < end && is_blank(*p)) p++;
            char *field, *field_end;
            if (p < end && *p == '"') {
                size_t quote_line = line;
                char *w = p; /* the unquoted text is written from the opening quote on */
                field = w;
                p++;
                for (;;) {
                    if (p == end) {
                        st = nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: the quoted field %zu has no closing quote",
                                            t->path, quote_line, row.n + 1);
                        goto done;
                    }
                    if (*p == '"') {
                        if (p + 1 < end && p[1] == '"') {
                            *w++ = '"';
                            p += 2;
                            continue;
                        }
                        p++;
                        break;
                    }
                    if (*p == '\n') line++;
                    *w++ = *p++;
                }
                field_end = w;
                any_quoted = 1;
                while (p < end && is_blank(*p)) p++;
                if (p < end && *p == '\r' && (p + 1 == end || p[1] == '\n')) p++;
                if (p < end && *p != ',' && *p != '\n') {
                    st = nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: unexpected '%c' after the closing quote of field "
                                        "%zu; inside a quoted field write a quote as \"\"",
                                        t->path, line, *p, row.n + 1);
                    goto done;
                }
            } else {
                field = p;
                while (p < end && *p != ',' && *p != '\n') p++;
                field_end = p;
                while (field_end > field && (is_blank(field_end[-1]) || field_end[-1] == '\r')) field_end--;
            }
            /* read the separator before the terminating NUL may overwrite it */
            char sep = p < end ? *p : '\0';
            *field_end = '\0';
            if (p < end) p++;
            if (!ptr_vec_push(&row, field)) goto oom;
            if (sep == ',') continue;
            if (sep == '\n') line++;
            break;
        }
        if (row.n == 1 && !any_quoted && row.v[0][0] == '\0') continue; /* a blank line */
        if (!t->header) {
            header_line = record_line;
            t->n_cols = row.n;
            t->header = malloc(row.n * sizeof *t->header);
            if (!t->header) goto oom;
            memcpy(t->header, row.v, row.n * sizeof *t->header);
            st = check_header(t, header_line);
            continue;
        }
        if (row.n != t->n_cols) {
            st = nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: %zu field%s, the header has %zu", t->path, record_line,
                                row.n, row.n == 1 ? "" : "s", t->n_cols);
            goto done;
        }
        for (size_t j = 0; j < row.n; j++) {
            if (!ptr_vec_push(&cells, row.v[j])) goto oom;
        }
        if (!size_vec_push(&lines, record_line)) goto oom;
    }
    if (st == NNCL_OK && !t->header) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: the file is empty; expected a header line with the column names "
                            "and then one line per example", t->path);
    } else if (st == NNCL_OK && lines.n == 0) {
        st = nncl_set_error(NNCL_ERR_FORMAT, "%s: no data after the header (line %zu); expected one line per "
                            "example", t->path, header_line);
    }
    goto done;
oom:
    st = nncl_set_error(NNCL_ERR_OOM, "%s:%zu: out of memory splitting the file into fields", t->path, line);
done:
    free(row.v);
    t->cells = cells.v;
    t->lines = lines.v;
    t->n_rows = lines.n;
    return st;
}

static enum nncl_status csv_table_load(const char *path, struct csv_table *t) {
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t size = 0;
    enum nncl_status st = read_file(path, &t->text, &size);
    if (st) return st;
    const char *nul = memchr(t->text, '\0', size);
    if (nul) {
        size_t line = 1;
        for (const char *q = t->text; q < nul; q++) line += *q == '\n';
        return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: a NUL byte at byte %zu; expected a text CSV file", path, line,
                              (size_t)(nul - t->text));
    }
    return csv_parse(t, size);
}

/* ---- stage 2: the transform ---- */

/* How the values of one column look. */
struct column_scan {
    size_t n_number, n_nonfinite, n_text;
    size_t first_number, first_nonfinite, first_text; /* rows */
};

static void scan_column(const struct csv_table *t, size_t col, struct column_scan *s) {
    memset(s, 0, sizeof *s);
    for (size_t r = 0; r < t->n_rows; r++) {
        double v;
        switch (parse_value(cell(t, r, col), &v)) {
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

static enum nncl_status nonfinite_error(const struct csv_table *t, size_t row, size_t col) {
    return nncl_set_error(NNCL_ERR_NUMERIC, "%s:%zu: column \"%s\": \"%s\" is not a finite number; NaN and "
                          "infinities are not allowed (remove the row or replace the value)",
                          t->path, t->lines[row], t->header[col], cell(t, row, col));
}

/*
 * Numeric when every value is a number, categorical when none is. A column with both is an error: one
 * typo ("12x") must not silently turn a numeric column into hundreds of categories. The message points
 * at the odd one out.
 */
static enum nncl_status column_kind(const struct csv_table *t, size_t col, int *categorical) {
    struct column_scan s;
    scan_column(t, col, &s);
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
        if (s.n_nonfinite) return nonfinite_error(t, s.first_nonfinite, col);
        *categorical = 0;
        return NNCL_OK;
    }
    *categorical = 1; /* text, possibly with "nan" or "inf" among it as ordinary category names */
    return NNCL_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The distinct values of a column, sorted by strcmp, as owned copies. */
static enum nncl_status collect_categories(const struct csv_table *t, size_t col, struct nncl_column *c) {
    char **all = malloc(t->n_rows * sizeof *all);
    if (!all) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the categories of \"%s\"", t->path, t->header[col]);
    for (size_t r = 0; r < t->n_rows; r++) all[r] = t->cells[r * t->n_cols + col];
    qsort(all, t->n_rows, sizeof *all, cmp_str);
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
        parse_value(cell(t, r, col), &v);
        sum += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double mean = sum / (double)t->n_rows, ss = 0.0;
    for (size_t r = 0; r < t->n_rows; r++) {
        double v = 0.0;
        parse_value(cell(t, r, col), &v);
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

/* ---- the loader ---- */

struct csv_load {
    struct csv_table t;
    struct nncl_csv_options o;
    struct nncl_dataset ds; /* moved to the caller's on success */
    size_t *input_cols;     /* file column of each ds.preprocess column */
    size_t target_col;      /* NO_COLUMN: the file has none */
};

static size_t find_column(const struct csv_table *t, const char *name) {
    for (size_t j = 0; j < t->n_cols; j++) {
        if (strcmp(t->header[j], name) == 0) return j;
    }
    return NO_COLUMN;
}

static enum nncl_status find_target(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const char *name = L->o.target;
    int from_model = 0;
    if (!name && L->o.apply) {
        name = L->o.apply->target;
        from_model = 1;
    }
    L->target_col = NO_COLUMN;
    if (!name) { /* training data without a target name: the last column */
        L->target_col = t->n_cols - 1;
        return NNCL_OK;
    }
    if (name[0] == '\0') {
        if (L->o.require_target) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: a target is required, but the model names no target "
                                  "column", t->path);
        }
        return NNCL_OK;
    }
    L->target_col = find_column(t, name);
    if (L->target_col != NO_COLUMN || !L->o.require_target) return NNCL_OK;
    char list[LIST_CAP];
    list_names(list, sizeof list, (const char *const *)t->header, t->n_cols);
    return nncl_set_error(from_model ? NNCL_ERR_FORMAT : NNCL_ERR_INVALID_ARG,
                          "%s: no target column \"%s\"%s; the columns are: %s", t->path, name,
                          from_model ? " (the column the model predicts)" : "", list);
}

/* Every value that will be used must be there: an empty field is reported with its line and column. */
static enum nncl_status check_no_empty(const struct csv_load *L) {
    const struct csv_table *t = &L->t;
    size_t n_in = L->ds.preprocess.n_columns;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i <= n_in; i++) {
            size_t col = i < n_in ? L->input_cols[i] : L->target_col;
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
static enum nncl_status plan_from_data(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    struct nncl_preprocess *pp = &L->ds.preprocess;
    enum nncl_status ist = check_ignore_list(t, L->o.ignore);
    if (ist) return ist;
    size_t n_in = 0;
    for (size_t j = 0; j < t->n_cols; j++) n_in += j != L->target_col && !in_list(L->o.ignore, t->header[j]);
    if (n_in == 0) {
        return nncl_set_error(NNCL_ERR_FORMAT, "%s: no input columns left besides the target and the ignored ones",
                              t->path);
    }
    L->input_cols = malloc(n_in * sizeof *L->input_cols);
    pp->columns = calloc(n_in, sizeof *pp->columns);
    if (!L->input_cols || !pp->columns) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory", t->path);
    for (size_t j = 0; j < t->n_cols; j++) {
        if (j != L->target_col && !in_list(L->o.ignore, t->header[j])) L->input_cols[pp->n_columns++] = j;
    }
    if (L->target_col != NO_COLUMN) memcpy(pp->target, t->header[L->target_col], strlen(t->header[L->target_col]) + 1);
    pp->target_mean = 0.0;
    pp->target_std = 1.0;
    enum nncl_status st = check_no_empty(L);
    for (size_t i = 0; st == NNCL_OK && i < pp->n_columns; i++) {
        size_t col = L->input_cols[i];
        struct nncl_column *c = &pp->columns[i];
        memcpy(c->name, t->header[col], strlen(t->header[col]) + 1);
        st = column_kind(t, col, &c->categorical);
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
static enum nncl_status plan_from_model(struct csv_load *L) {
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
            list_names(list, sizeof list, (const char *const *)t->header, t->n_cols);
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: the model's input column \"%s\" is not in the file; the "
                                  "file's columns are: %s", t->path, name, list);
        }
        if (col == L->target_col) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: the target \"%s\" is one of the model's input columns",
                                  t->path, name);
        }
        L->input_cols[i] = col;
    }
    return check_no_empty(L);
}

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
                enum value_kind kind = parse_value(value, &v);
                if (kind == VALUE_NONFINITE) return nonfinite_error(t, r, L->input_cols[i]);
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
            char *const *hit = bsearch(&value, c->categories, c->n_categories, sizeof *c->categories, cmp_str);
            if (!hit) { /* only possible with a model's transform */
                char list[LIST_CAP];
                list_names(list, sizeof list, (const char *const *)c->categories, c->n_categories);
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
        if (numeric) parse_value(all[r].text, &all[r].value);
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
    list_names(list, sizeof list, names, n_classes);
    st = classes_task(L, n_classes, list);
    if (st) goto done;
    for (size_t r = 0; r < n; r++) {
        struct label key = {cell(t, r, col), 0.0};
        if (numeric) parse_value(key.text, &key.value);
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
    if (parse_value(text, &v) != VALUE_NUMBER) return NO_COLUMN;
    for (size_t k = 0; k < n; k++) {
        if (parse_value(names[k], &w) == VALUE_NUMBER && w == v) return k;
    }
    return NO_COLUMN;
}

/* Class labels mapped through the model's class names, so index k means the same class as in training. */
static enum nncl_status labels_from_model(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    const char *const *names = L->o.class_names;
    size_t n_classes = L->o.n_class_names;
    char list[LIST_CAP];
    list_names(list, sizeof list, names, n_classes);
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

static enum nncl_status regression_targets(struct csv_load *L) {
    const struct csv_table *t = &L->t;
    struct nncl_dataset *ds = &L->ds;
    ds->task = NNCL_TASK_REGRESSION;
    ds->n_outputs = 1;
    ds->y = malloc(ds->n * sizeof *ds->y);
    if (!ds->y) return nncl_set_error(NNCL_ERR_OOM, "%s: out of memory for the targets", t->path);
    for (size_t r = 0; r < ds->n; r++) {
        const char *text = cell(t, r, L->target_col);
        double v = 0.0;
        enum value_kind kind = parse_value(text, &v);
        if (kind == VALUE_NONFINITE) return nonfinite_error(t, r, L->target_col);
        if (kind == VALUE_TEXT) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: column \"%s\": \"%s\" is not a number; a regression "
                                  "target must be numeric (choose a classification task for labels)",
                                  t->path, t->lines[r], t->header[L->target_col], text);
        }
        if (fabs(v) > FLT_MAX) {
            return nncl_set_error(NNCL_ERR_NUMERIC, "%s:%zu: column \"%s\": %s is beyond the range of a float "
                                  "(about 3.4e38); rescale the target", t->path, t->lines[r],
                                  t->header[L->target_col], text);
        }
        ds->y[r] = (float)v; /* regression targets are used as given, not standardised */
    }
    return NNCL_OK;
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
        ds->n_outputs = task_outputs(ds->task, ds->n_classes);
        return NNCL_OK;
    }
    if (model_classes) return labels_from_model(L);
    if (o->task == NNCL_TASK_REGRESSION) return regression_targets(L);
    if (o->task == NNCL_TASK_AUTO) {
        int categorical = 0;
        enum nncl_status st = column_kind(&L->t, L->target_col, &categorical);
        if (st) return st;
        return categorical ? labels_from_data(L, 0) : regression_targets(L);
    }
    /* an explicit classification: the values are labels, numbers included */
    struct column_scan s;
    scan_column(&L->t, L->target_col, &s);
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
    enum nncl_status st = csv_table_load(path, &L.t);
    if (st == NNCL_OK) st = find_target(&L);
    if (st == NNCL_OK) st = L.o.apply ? plan_from_model(&L) : plan_from_data(&L);
    if (st == NNCL_OK) st = encode_inputs(&L);
    if (st == NNCL_OK) st = encode_targets(&L);
    if (st == NNCL_OK) {
        snprintf(L.ds.source, sizeof L.ds.source, "%s", path);
        *out = L.ds;
    } else {
        nncl_dataset_free(&L.ds);
    }
    free(L.input_cols);
    csv_table_free(&L.t);
    return st;
}
