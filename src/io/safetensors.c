/*
 * safetensors.c: reading and validating safetensors files (the format is described in safetensors.h);
 * widening their tensors is safetensors_convert.c's job, writing them safetensors_write.c's.
 *
 * The reader treats the file as hostile: it is read whole into memory, the header length is checked
 * against the file before anything is allocated for the header, the JSON is parsed with cJSON from a
 * bounded copy, and every tensor's dtype, shape, offsets and non-overlap are validated before any
 * st_tensor.data pointer is handed out. Multi-byte values are assembled from bytes, so the code does not
 * depend on the host's byte order or on the data being aligned.
 */
#define _POSIX_C_SOURCE 200809L /* strdup in ISO C mode */

#include "io/st_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


_Static_assert(sizeof(float) == 4, "safetensors F32 needs a 32-bit float");
_Static_assert(sizeof(double) == 8, "safetensors F64 needs a 64-bit double");

/* A header this large is a corrupt length field, not a real file; refusing it bounds the allocation. */
#define ST_MAX_HEADER ((uint64_t)100 * 1024 * 1024)

static const char *const dtype_names[ST_DTYPE_COUNT] = {
    [ST_F32] = "F32", [ST_F64] = "F64", [ST_F16] = "F16", [ST_BF16] = "BF16", [ST_I64] = "I64",
    [ST_I32] = "I32", [ST_I16] = "I16", [ST_I8] = "I8",   [ST_U8] = "U8",     [ST_BOOL] = "BOOL",
};

static const size_t dtype_sizes[ST_DTYPE_COUNT] = {
    [ST_F32] = 4, [ST_F64] = 8, [ST_F16] = 2, [ST_BF16] = 2, [ST_I64] = 8,
    [ST_I32] = 4, [ST_I16] = 2, [ST_I8] = 1,  [ST_U8] = 1,   [ST_BOOL] = 1,
};

const char *st_dtype_name(enum st_dtype dtype) {
    if ((unsigned)dtype >= ST_DTYPE_COUNT) return "?";
    return dtype_names[dtype];
}

size_t st_dtype_size(enum st_dtype dtype) {
    if ((unsigned)dtype >= ST_DTYPE_COUNT) return 0;
    return dtype_sizes[dtype];
}


/* ---- reading ---- */

void st_format_shape(char *buf, size_t cap, const uint64_t *shape, int ndim) {
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (int i = 0; i < ndim && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%" PRIu64, i ? ", " : "", shape[i]);
    }
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

/*
 * A JSON number that must be a non-negative integer exactly representable in a double. Returns 0 and
 * writes why into `why` otherwise.
 */
static int json_uint(const cJSON *item, uint64_t *out, char *why, size_t why_cap) {
    if (!cJSON_IsNumber(item)) {
        snprintf(why, why_cap, "is not a number");
        return 0;
    }
    double d = item->valuedouble;
    if (!(d >= 0.0)) {
        snprintf(why, why_cap, "is %g; it must be an integer >= 0", d);
        return 0;
    }
    if (d > ST_MAX_EXACT) {
        snprintf(why, why_cap, "is %g, larger than 2^53", d);
        return 0;
    }
    uint64_t u = (uint64_t)d;
    if ((double)u != d) {
        snprintf(why, why_cap, "is %g, not an integer", d);
        return 0;
    }
    *out = u;
    return 1;
}

/* Where a tensor's bytes lie in the data section, kept while checking for overlaps. */
struct span {
    uint64_t begin, end;
    size_t index;
};

static int span_cmp(const void *a, const void *b) {
    const struct span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int name_cmp(const void *a, const void *b) {
    const struct st_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static enum nncl_status parse_metadata(const char *path, const cJSON *meta, struct st_file *out) {
    if (!cJSON_IsObject(meta)) {
        return st_file_error(NNCL_ERR_FORMAT, path, "\"__metadata__\" is not a JSON object of strings");
    }
    size_t n = 0;
    for (const cJSON *e = meta->child; e; e = e->next) n++;
    if (n == 0) return NNCL_OK;
    out->metadata = calloc(n, sizeof *out->metadata);
    if (!out->metadata) {
        return st_file_error(NNCL_ERR_OOM, path, "out of memory for %zu metadata entries", n);
    }
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            return st_file_error(NNCL_ERR_FORMAT, path, "__metadata__ entry \"%s\" is not a string",
                              e->string ? e->string : "");
        }
        struct st_metadata_entry *m = &out->metadata[out->n_metadata];
        m->key = strdup(e->string ? e->string : "");
        m->value = strdup(e->valuestring);
        out->n_metadata++; /* counted before the check so st_free frees a half-made entry */
        if (!m->key || !m->value) return st_file_error(NNCL_ERR_OOM, path, "out of memory for the metadata");
    }
    return NNCL_OK;
}

static enum nncl_status parse_tensor(const char *path, const cJSON *entry, uint64_t data_size,
                                     struct st_tensor *t, uint64_t *begin_out) {
    const char *name = entry->string ? entry->string : "";
    char why[128];
    size_t name_len = strlen(name);
    if (name_len >= sizeof t->name) {
        return st_file_error(NNCL_ERR_FORMAT, path, "a tensor name is %zu bytes long; at most %zu are supported",
                          name_len, sizeof t->name - 1);
    }
    memcpy(t->name, name, name_len + 1);
    if (!cJSON_IsObject(entry)) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": entry is not a JSON object (expected {\"dtype\", \"shape\", "
                          "\"data_offsets\"})",
                          name);
    }

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!cJSON_IsString(dtype) || !dtype->valuestring) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": \"dtype\" is missing or not a string", name);
    }
    int found = 0;
    for (int d = 0; d < ST_DTYPE_COUNT; d++) {
        if (strcmp(dtype->valuestring, dtype_names[d]) == 0) {
            t->dtype = (enum st_dtype)d;
            found = 1;
        }
    }
    if (!found) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": dtype \"%.32s\" unknown (nncl reads F32, F64, F16, BF16, I64, I32, I16, "
                          "I8, U8 and BOOL)",
                          name, dtype->valuestring);
    }

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    if (!cJSON_IsArray(shape)) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": \"shape\" is missing or not an array", name);
    }
    int ndim = 0;
    uint64_t count = 1;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, ndim++) {
        if (ndim == ST_MAX_DIMS) {
            return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape has more than %d dimensions", name,
                              ST_MAX_DIMS);
        }
        if (!json_uint(dim, &t->shape[ndim], why, sizeof why)) {
            return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape dimension %d %s", name, ndim, why);
        }
        if (t->shape[ndim] != 0 && count > UINT64_MAX / t->shape[ndim]) {
            return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": the product of the shape overflows 64 bits",
                              name);
        }
        count *= t->shape[ndim];
    }
    t->ndim = ndim;
    t->count = count;
    char shape_str[256];
    st_format_shape(shape_str, sizeof shape_str, t->shape, ndim);
    size_t elem = dtype_sizes[t->dtype];
    if (count > UINT64_MAX / elem) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape %s needs more bytes than fit in 64 bits",
                          name, shape_str);
    }
    t->nbytes = count * elem;

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": \"data_offsets\" is missing or not an array [begin, end]", name);
    }
    uint64_t begin, end;
    if (!json_uint(offsets->child, &begin, why, sizeof why)) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets begin %s", name, why);
    }
    if (!json_uint(offsets->child->next, &end, why, sizeof why)) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets end %s", name, why);
    }
    if (begin > end) {
        return st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] end before "
                          "they begin", name, begin, end);
    }
    if (end > data_size) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] are out of range: the data section "
                          "holds %" PRIu64 " bytes (truncated file?)",
                          name, begin, end, data_size);
    }
    if (end - begin != t->nbytes) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": shape %s needs %" PRIu64 " bytes but data_offsets give %" PRIu64, name,
                          shape_str, t->nbytes, end - begin);
    }
    *begin_out = begin;
    return NNCL_OK;
}

/* Checks tensor names are unique and no two tensors share bytes. */
static enum nncl_status check_tensor_set(const char *path, struct st_file *out, const uint64_t *begins) {
    size_t n = out->n_tensors;
    if (n < 2) return NNCL_OK;
    const struct st_tensor **by_name = malloc(n * sizeof *by_name);
    struct span *spans = malloc(n * sizeof *spans);
    enum nncl_status st = NNCL_OK;
    if (!by_name || !spans) {
        st = st_file_error(NNCL_ERR_OOM, path, "out of memory checking %zu tensors", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        by_name[i] = &out->tensors[i];
        spans[i] = (struct span){begins[i], begins[i] + out->tensors[i].nbytes, i};
    }
    /* Sorting makes both checks O(n log n): a hostile header may list millions of tensors. */
    qsort(by_name, n, sizeof *by_name, name_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0) {
            st = st_file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\" appears twice in the header", by_name[i]->name);
            goto done;
        }
    }
    qsort(spans, n, sizeof *spans, span_cmp);
    uint64_t max_end = 0;
    size_t max_owner = 0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        if (spans[i].begin == spans[i].end) continue; /* an empty tensor shares no bytes */
        if (have && spans[i].begin < max_end) {
            st = st_file_error(NNCL_ERR_FORMAT, path,
                            "data_offsets of \"%s\" and \"%s\" overlap ([%" PRIu64 ", %" PRIu64 "] and [%" PRIu64
                            ", %" PRIu64 "])",
                            out->tensors[max_owner].name, out->tensors[spans[i].index].name,
                            begins[max_owner], begins[max_owner] + out->tensors[max_owner].nbytes, spans[i].begin,
                            spans[i].end);
            goto done;
        }
        if (!have || spans[i].end > max_end) {
            max_end = spans[i].end;
            max_owner = spans[i].index;
            have = 1;
        }
    }
done:
    free(by_name);
    free(spans);
    return st;
}

/* Validates out->bytes (out->size bytes) and fills the tensor and metadata tables. */
static enum nncl_status parse_file(const char *path, struct st_file *out) {
    const unsigned char *bytes = out->bytes;
    size_t size = out->size;
    if (size < 8) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "the file is %zu bytes, too short for the 8-byte header length (truncated, or not a "
                          "safetensors file)",
                          size);
    }
    uint64_t header_len = ld_u64(bytes);
    if (header_len < 2) {
        return st_file_error(NNCL_ERR_FORMAT, path, "header length %" PRIu64 " is too small for a JSON object",
                          header_len);
    }
    if (header_len > ST_MAX_HEADER) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "header length %" PRIu64 " exceeds the 100 MB limit (not a safetensors file?)", header_len);
    }
    if (header_len > size - 8) {
        return st_file_error(NNCL_ERR_FORMAT, path,
                          "header length %" PRIu64 " exceeds the file size %zu (truncated, or not a safetensors "
                          "file)",
                          header_len, size);
    }
    uint64_t data_size = size - 8 - header_len;

    /* A NUL-terminated copy: cJSON must not read past the header even if it ignores the length. */
    char *text = malloc((size_t)header_len + 1);
    if (!text) return st_file_error(NNCL_ERR_OOM, path, "out of memory for a header of %" PRIu64 " bytes", header_len);
    memcpy(text, bytes + 8, (size_t)header_len);
    text[header_len] = '\0';
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)header_len, &parse_end, 0);
    enum nncl_status st = NNCL_OK;
    uint64_t *begins = NULL;
    if (!root) {
        size_t at = parse_end && parse_end >= text ? (size_t)(parse_end - text) : 0;
        st = st_file_error(NNCL_ERR_FORMAT, path, "the header is not valid JSON (error at byte %zu of the header)", at);
        goto done;
    }
    /* The format pads the header with spaces; anything else after the object is garbage. */
    for (const char *p = parse_end; p && p < text + header_len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            st = st_file_error(NNCL_ERR_FORMAT, path, "unexpected bytes after the JSON header at byte %zu of the header",
                            (size_t)(p - text));
            goto done;
        }
    }
    if (!cJSON_IsObject(root)) {
        st = st_file_error(NNCL_ERR_FORMAT, path, "the header is not a JSON object");
        goto done;
    }

    size_t n_entries = 0;
    for (const cJSON *e = root->child; e; e = e->next) n_entries++;
    if (n_entries > 0) {
        out->tensors = calloc(n_entries, sizeof *out->tensors);
        begins = calloc(n_entries, sizeof *begins);
        if (!out->tensors || !begins) {
            st = st_file_error(NNCL_ERR_OOM, path, "out of memory for %zu tensors", n_entries);
            goto done;
        }
    }
    int seen_metadata = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (e->string && strcmp(e->string, "__metadata__") == 0) {
            if (seen_metadata) {
                st = st_file_error(NNCL_ERR_FORMAT, path, "\"__metadata__\" appears twice in the header");
                goto done;
            }
            seen_metadata = 1;
            st = parse_metadata(path, e, out);
        } else {
            size_t i = out->n_tensors;
            st = parse_tensor(path, e, data_size, &out->tensors[i], &begins[i]);
            if (!st) out->n_tensors++;
        }
        if (st) goto done;
    }
    st = check_tensor_set(path, out, begins);
    if (st) goto done;
    for (size_t i = 0; i < out->n_tensors; i++) {
        out->tensors[i].data = bytes + 8 + header_len + begins[i];
    }
done:
    cJSON_Delete(root);
    free(text);
    free(begins);
    return st;
}

enum nncl_status st_read(const char *path, struct st_file *out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_read: path is NULL");

    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return st_file_error(NNCL_ERR_IO, path, "cannot open it: %s (check the path and its permissions)",
                          strerror(errno));
    }
    enum nncl_status st = NNCL_OK;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        st = st_file_error(NNCL_ERR_IO, path, "cannot stat it: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = st_file_error(NNCL_ERR_IO, path, "not a regular file (a folder or a device?)");
        goto fail;
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX - 1) {
        st = st_file_error(NNCL_ERR_OOM, path, "the file is too large to load into memory");
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    /* +1: malloc(0) may return NULL for an empty file, which is a format error, not out of memory. */
    out->bytes = malloc(size + 1);
    if (!out->bytes) {
        st = st_file_error(NNCL_ERR_OOM, path, "out of memory reading %zu bytes", size);
        goto fail;
    }
    size_t got = fread(out->bytes, 1, size, fp);
    if (got != size) {
        st = st_file_error(NNCL_ERR_IO, path, "read %zu of %zu bytes: %s", got, size,
                        ferror(fp) ? strerror(errno) : "the file shrank while being read");
        goto fail;
    }
    out->size = size;
    if (fclose(fp) != 0) {
        fp = NULL;
        st = st_file_error(NNCL_ERR_IO, path, "closing it failed: %s", strerror(errno));
        goto fail;
    }
    fp = NULL;
    snprintf(out->path, sizeof out->path, "%s", path);
    st = parse_file(path, out);
    if (st) goto fail;
    return NNCL_OK;
fail:
    if (fp) fclose(fp); /* already failing; the first error is the one reported */
    st_free(out);
    return st;
}

void st_free(struct st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_metadata; i++) {
        free(f->metadata[i].key);
        free(f->metadata[i].value);
    }
    free(f->metadata);
    free(f->tensors);
    free(f->bytes);
    memset(f, 0, sizeof *f);
}

const struct st_tensor *st_find(const struct st_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->n_tensors; i++) {
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    }
    return NULL;
}

const char *st_metadata(const struct st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->n_metadata; i++) {
        if (strcmp(f->metadata[i].key, key) == 0) return f->metadata[i].value;
    }
    return NULL;
}
