/*
 * csv_tokenize.c: stage 1 of the CSV loader (see data_csv.c): the file becomes a table of strings, read
 * whole, then split into fields in place (unquoting only ever shortens a field, so the unquoted text is
 * written back over the quoted one and NUL-terminated, with no copy and no limit on line length).
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

/* ---- the table ---- */

void csv_table_free(struct csv_table *t) {
    free(t->text);
    free(t->header);
    free(t->cells);
    free(t->lines);
    free(t->name_slots);
    memset(t, 0, sizeof *t);
}

/* ---- the header's names, hashed: a bag-of-words file has 10^5-10^6 columns, and comparing every name
 * with every other (the duplicate check) or scanning them per lookup is quadratic: minutes of strcmp ---- */

static size_t name_hash(const char *s) { /* FNV-1a */
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

size_t csv_find_column(const struct csv_table *t, const char *name) {
    if (!t->name_cap) return NO_COLUMN;
    const size_t mask = t->name_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        const size_t slot = t->name_slots[i];
        if (!slot) return NO_COLUMN;
        if (strcmp(t->header[slot - 1], name) == 0) return slot - 1;
    }
}

/* Inserts column j; returns the earlier column of the same name, or NO_COLUMN. */
static size_t name_insert(struct csv_table *t, size_t j) {
    const size_t mask = t->name_cap - 1;
    for (size_t i = name_hash(t->header[j]) & mask;; i = (i + 1) & mask) {
        const size_t slot = t->name_slots[i];
        if (!slot) {
            t->name_slots[i] = j + 1;
            return NO_COLUMN;
        }
        if (strcmp(t->header[slot - 1], t->header[j]) == 0) return slot - 1;
    }
}


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

/* Blanks around a field are dropped: spaces, and tabs unless they separate the fields. */
static int is_blank(char c, char delim) { return c == ' ' || (c == '\t' && delim != '\t'); }

/*
 * The separator of a file that does not say: ',' when the header line (the first line that is not blank)
 * holds a comma outside quotes, else ';' or a tab, whichever it holds more of, else ',' (one column).
 * Only the header is read, so a comma inside a data value cannot change the choice.
 */
static char detect_delimiter(const char *p, const char *end) {
    size_t commas = 0, semicolons = 0, tabs = 0;
    int quoted = 0, any = 0;
    for (; p < end; p++) {
        if (*p == '"') quoted = !quoted;
        if (quoted) continue;
        if (*p == '\n') {
            if (any) break;
            continue;
        }
        if (*p != ' ' && *p != '\t' && *p != '\r') any = 1;
        commas += *p == ',';
        semicolons += *p == ';';
        tabs += *p == '\t';
    }
    if (commas || (!semicolons && !tabs)) return ',';
    return semicolons >= tabs ? ';' : '\t';
}

/* Checks the header's names: non-empty, short enough for struct nncl_column, unique; and hashes them. */
static enum nncl_status check_header(struct csv_table *t, size_t line) {
    size_t cap = 16;
    while (cap < 2 * t->n_cols) cap *= 2;
    t->name_slots = calloc(cap, sizeof *t->name_slots);
    if (!t->name_slots) return nncl_set_error(NNCL_ERR_OOM, "%s:%zu: out of memory hashing the header", t->path, line);
    t->name_cap = cap;
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
        const size_t k = name_insert(t, j);
        if (k != NO_COLUMN) {
            return nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: the column name \"%s\" appears twice in the "
                                  "header (columns %zu and %zu); names must be unique",
                                  t->path, line, name, k + 1, j + 1);
        }
    }
    return NNCL_OK;
}

/*
 * Splits text[0, size) into records and fields. Fields are separated by t->delim and records by "\n" or
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
    if (!t->delim) t->delim = detect_delimiter(p, end);
    const char delim = t->delim;

    while (p < end && st == NNCL_OK) {
        size_t record_line = line;
        int any_quoted = 0;
        row.n = 0;
        for (;;) { /* one field per turn */
            while (p < end && is_blank(*p, delim)) p++;
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
                while (p < end && is_blank(*p, delim)) p++;
                if (p < end && *p == '\r' && (p + 1 == end || p[1] == '\n')) p++;
                if (p < end && *p != delim && *p != '\n') {
                    st = nncl_set_error(NNCL_ERR_FORMAT, "%s:%zu: unexpected '%c' after the closing quote of field "
                                        "%zu; inside a quoted field write a quote as \"\"",
                                        t->path, line, *p, row.n + 1);
                    goto done;
                }
            } else {
                field = p;
                while (p < end && *p != delim && *p != '\n') p++;
                field_end = p;
                while (field_end > field && (is_blank(field_end[-1], delim) || field_end[-1] == '\r')) field_end--;
            }
            /* read the separator before the terminating NUL may overwrite it */
            char sep = p < end ? *p : '\0';
            *field_end = '\0';
            if (p < end) p++;
            if (!ptr_vec_push(&row, field)) goto oom;
            if (sep == delim) continue;
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

enum nncl_status csv_table_load(const char *path, char delim, struct csv_table *t) {
    memset(t, 0, sizeof *t);
    t->path = path;
    t->delim = delim;
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
