/*
 * csv_impl.h: what the three stages of the CSV loader share (see data_csv.c). Internal to src/data/.
 *   csv_tokenize.c  stage 1: the file as a table of strings
 *   csv_columns.c   stage 2: which columns are inputs and the target, and their transform
 *   data_csv.c      stage 3: the table encoded into x and y; nncl_dataset_load_csv
 */
#ifndef NNCL_CSV_IMPL_H
#define NNCL_CSV_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl_data.h"

#define NAME_CAP sizeof(((struct nncl_column *)0)->name) /* 64: column names are at most 63 bytes */
#define NO_COLUMN SIZE_MAX
#define LIST_CAP 512
#define CSV_MAX_TARGETS 64 /* columns in one --target a,b,... */ /* names listed in a message before "... (N more)" */

/* ---- stage 1 (csv_tokenize.c) ---- */

struct csv_table {
    const char *path;
    char *text;    /* the whole file; the fields point into it */
    size_t n_cols; /* fields of the header */
    char **header; /* n_cols names */
    size_t n_rows; /* data rows (blank lines are not rows) */
    char **cells;  /* n_rows x n_cols, row-major */
    size_t *lines; /* the line each row starts on, for messages */
    char delim;    /* the field separator */
    size_t *name_slots; /* open-addressing hash of the header names: column + 1, 0 empty */
    size_t name_cap;    /* slots, a power of two at least twice n_cols */
};

/* The column named `name` (an exact match), or NO_COLUMN; expected O(1) through the header's hash. */
size_t csv_find_column(const struct csv_table *t, const char *name);

/*
 * Reads and splits `path` (kept in t->path, not copied) at `delim` (0: detected from the header line, see
 * struct nncl_csv_options); free with csv_table_free, also after a failure.
 */
enum nncl_status csv_table_load(const char *path, char delim, struct csv_table *t);
void csv_table_free(struct csv_table *t);

static inline const char *cell(const struct csv_table *t, size_t row, size_t col) { return t->cells[row * t->n_cols + col]; }

/* ---- stage 2 (csv_columns.c) ---- */

enum value_kind {
    VALUE_NUMBER,    /* parses fully with strtod and is finite */
    VALUE_NONFINITE, /* parses fully but is NaN or an infinity ("nan", "inf", "1e999") */
    VALUE_TEXT,      /* does not parse as a number */
};

enum value_kind csv_parse_value(const char *s, double *v);
/* "a, b, c" into buf, ending in ", ... (N more)" when the names do not all fit. */
void csv_list_names(char *buf, size_t cap, const char *const *names, size_t n);
/* For bsearch and qsort over category names. */
int csv_cmp_str(const void *a, const void *b);

/* How the values of one column look. */
struct column_scan {
    size_t n_number, n_nonfinite, n_text;
    size_t first_number, first_nonfinite, first_text; /* rows */
};

void csv_scan_column(const struct csv_table *t, size_t col, struct column_scan *s);
/* NNCL_ERR_FORMAT naming the line, column and value of a NaN or infinity. */
enum nncl_status csv_nonfinite_error(const struct csv_table *t, size_t row, size_t col);
/* Whether a column is categorical (text) or numeric; an error when it mixes numbers and text. */
enum nncl_status csv_column_kind(const struct csv_table *t, size_t col, int *categorical);

/* The loader's state through the stages. */
struct csv_load {
    struct csv_table t;
    struct nncl_csv_options o;
    struct nncl_dataset ds; /* moved to the caller's on success */
    size_t *input_cols;     /* file column of each ds.preprocess column */
    size_t target_col;      /* NO_COLUMN: the file has none; the first of target_cols */
    size_t n_targets;       /* names in the target option: 1, or more for "a,b" (multi-output regression) */
    size_t target_cols[CSV_MAX_TARGETS]; /* their file columns (when target_col is not NO_COLUMN) */
};

/* Finds L->target_col from the options (a name, the model's target, or the last column). */
enum nncl_status csv_find_target(struct csv_load *L);
/* The transform of L->ds.preprocess and L->input_cols: computed from training data, or the model's. */
enum nncl_status csv_plan_from_data(struct csv_load *L);
enum nncl_status csv_plan_from_model(struct csv_load *L);

#endif /* NNCL_CSV_IMPL_H */
