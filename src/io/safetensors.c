/*
 * safetensors.c: reading, validating and atomically writing safetensors files (the format is described
 * in safetensors.h).
 *
 * The reader treats the file as hostile: it is read whole into memory, the header length is checked
 * against the file before anything is allocated for the header, the JSON is parsed with cJSON from a
 * bounded copy, and every tensor's dtype, shape, offsets and non-overlap are validated before any
 * st_tensor.data pointer is handed out. Multi-byte values are assembled from bytes, so the code does not
 * depend on the host's byte order or on the data being aligned.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fileno, fdopen, fchmod, strdup */

#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status_impl.h"

_Static_assert(sizeof(float) == 4, "safetensors F32 needs a 32-bit float");
_Static_assert(sizeof(double) == 8, "safetensors F64 needs a 64-bit double");

/* A header this large is a corrupt length field, not a real file; refusing it bounds the allocation. */
#define ST_MAX_HEADER ((uint64_t)100 * 1024 * 1024)
/* cJSON keeps numbers as doubles: beyond 2^53 an offset or dimension would not be exact. */
#define ST_MAX_EXACT 9007199254740992.0

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

/* Sets a NNCL_ERR_FORMAT (or other) error prefixed with the file, so every message names it. */
static enum nncl_status file_error(enum nncl_status status, const char *path, const char *fmt, ...) NNCL_PRINTF(3, 4);
static enum nncl_status file_error(enum nncl_status status, const char *path, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nncl_set_error(status, "safetensors file \"%s\": %s", path, msg);
}

/* ---- little-endian loads and stores, byte by byte so neither byte order nor alignment matters ---- */

static uint16_t ld_u16(const unsigned char *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }

static uint32_t ld_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld_u64(const unsigned char *p) { return (uint64_t)ld_u32(p) | (uint64_t)ld_u32(p + 4) << 32; }

/* Signed values are memcpy'd from their unsigned bit pattern: converting an out-of-range unsigned value
 * to a signed type is implementation-defined, reinterpreting two's complement bits is not. */
static int64_t ld_i64(const unsigned char *p) {
    uint64_t u = ld_u64(p);
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int32_t ld_i32(const unsigned char *p) {
    uint32_t u = ld_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int16_t ld_i16(const unsigned char *p) {
    uint16_t u = ld_u16(p);
    int16_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int8_t ld_i8(const unsigned char *p) {
    int8_t v;
    memcpy(&v, p, 1);
    return v;
}

static void st_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void st_u64(unsigned char *p, uint64_t v) {
    st_u32(p, (uint32_t)v);
    st_u32(p + 4, (uint32_t)(v >> 32));
}

static float bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* IEEE binary16 to binary32. Every half value is exactly representable as a float, subnormals included. */
static float f16_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13; /* infinity, or NaN keeping its payload */
    } else if (exp != 0) {
        bits = sign | (exp + 112u) << 23 | mant << 13; /* rebias 15 -> 127 */
    } else if (mant == 0) {
        bits = sign; /* signed zero */
    } else {
        /* Subnormal mant * 2^-24: shift the leading one up to the implicit bit; each shift halves the
         * exponent, which starts at that of 2^-14 (biased 113). */
        uint32_t e = 113;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            e--;
        }
        bits = sign | e << 23 | (mant & 0x3ffu) << 13;
    }
    return bits_to_float(bits);
}

/* bfloat16 is the top half of a binary32, so widening is exact for every value. */
static float bf16_to_float(uint16_t h) { return bits_to_float((uint32_t)h << 16); }

/* ---- reading ---- */

/* "[3, 4]" into buf, for messages. */
static void format_shape(char *buf, size_t cap, const uint64_t *shape, int ndim) {
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
        return file_error(NNCL_ERR_FORMAT, path, "\"__metadata__\" is not a JSON object of strings");
    }
    size_t n = 0;
    for (const cJSON *e = meta->child; e; e = e->next) n++;
    if (n == 0) return NNCL_OK;
    out->metadata = calloc(n, sizeof *out->metadata);
    if (!out->metadata) {
        return file_error(NNCL_ERR_OOM, path, "out of memory for %zu metadata entries", n);
    }
    for (const cJSON *e = meta->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            return file_error(NNCL_ERR_FORMAT, path, "__metadata__ entry \"%s\" is not a string",
                              e->string ? e->string : "");
        }
        struct st_metadata_entry *m = &out->metadata[out->n_metadata];
        m->key = strdup(e->string ? e->string : "");
        m->value = strdup(e->valuestring);
        out->n_metadata++; /* counted before the check so st_free frees a half-made entry */
        if (!m->key || !m->value) return file_error(NNCL_ERR_OOM, path, "out of memory for the metadata");
    }
    return NNCL_OK;
}

static enum nncl_status parse_tensor(const char *path, const cJSON *entry, uint64_t data_size,
                                     struct st_tensor *t, uint64_t *begin_out) {
    const char *name = entry->string ? entry->string : "";
    char why[128];
    size_t name_len = strlen(name);
    if (name_len >= sizeof t->name) {
        return file_error(NNCL_ERR_FORMAT, path, "a tensor name is %zu bytes long; at most %zu are supported",
                          name_len, sizeof t->name - 1);
    }
    memcpy(t->name, name, name_len + 1);
    if (!cJSON_IsObject(entry)) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": entry is not a JSON object (expected {\"dtype\", \"shape\", "
                          "\"data_offsets\"})",
                          name);
    }

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!cJSON_IsString(dtype) || !dtype->valuestring) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": \"dtype\" is missing or not a string", name);
    }
    int found = 0;
    for (int d = 0; d < ST_DTYPE_COUNT; d++) {
        if (strcmp(dtype->valuestring, dtype_names[d]) == 0) {
            t->dtype = (enum st_dtype)d;
            found = 1;
        }
    }
    if (!found) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": dtype \"%.32s\" unknown (nncl reads F32, F64, F16, BF16, I64, I32, I16, "
                          "I8, U8 and BOOL)",
                          name, dtype->valuestring);
    }

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    if (!cJSON_IsArray(shape)) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": \"shape\" is missing or not an array", name);
    }
    int ndim = 0;
    uint64_t count = 1;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, ndim++) {
        if (ndim == ST_MAX_DIMS) {
            return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape has more than %d dimensions", name,
                              ST_MAX_DIMS);
        }
        if (!json_uint(dim, &t->shape[ndim], why, sizeof why)) {
            return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape dimension %d %s", name, ndim, why);
        }
        if (t->shape[ndim] != 0 && count > UINT64_MAX / t->shape[ndim]) {
            return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": the product of the shape overflows 64 bits",
                              name);
        }
        count *= t->shape[ndim];
    }
    t->ndim = ndim;
    t->count = count;
    char shape_str[256];
    format_shape(shape_str, sizeof shape_str, t->shape, ndim);
    size_t elem = dtype_sizes[t->dtype];
    if (count > UINT64_MAX / elem) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": shape %s needs more bytes than fit in 64 bits",
                          name, shape_str);
    }
    t->nbytes = count * elem;

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": \"data_offsets\" is missing or not an array [begin, end]", name);
    }
    uint64_t begin, end;
    if (!json_uint(offsets->child, &begin, why, sizeof why)) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets begin %s", name, why);
    }
    if (!json_uint(offsets->child->next, &end, why, sizeof why)) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets end %s", name, why);
    }
    if (begin > end) {
        return file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] end before "
                          "they begin", name, begin, end);
    }
    if (end > data_size) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] are out of range: the data section "
                          "holds %" PRIu64 " bytes (truncated file?)",
                          name, begin, end, data_size);
    }
    if (end - begin != t->nbytes) {
        return file_error(NNCL_ERR_FORMAT, path,
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
        st = file_error(NNCL_ERR_OOM, path, "out of memory checking %zu tensors", n);
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
            st = file_error(NNCL_ERR_FORMAT, path, "tensor \"%s\" appears twice in the header", by_name[i]->name);
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
            st = file_error(NNCL_ERR_FORMAT, path,
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
        return file_error(NNCL_ERR_FORMAT, path,
                          "the file is %zu bytes, too short for the 8-byte header length (truncated, or not a "
                          "safetensors file)",
                          size);
    }
    uint64_t header_len = ld_u64(bytes);
    if (header_len < 2) {
        return file_error(NNCL_ERR_FORMAT, path, "header length %" PRIu64 " is too small for a JSON object",
                          header_len);
    }
    if (header_len > ST_MAX_HEADER) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "header length %" PRIu64 " exceeds the 100 MB limit (not a safetensors file?)", header_len);
    }
    if (header_len > size - 8) {
        return file_error(NNCL_ERR_FORMAT, path,
                          "header length %" PRIu64 " exceeds the file size %zu (truncated, or not a safetensors "
                          "file)",
                          header_len, size);
    }
    uint64_t data_size = size - 8 - header_len;

    /* A NUL-terminated copy: cJSON must not read past the header even if it ignores the length. */
    char *text = malloc((size_t)header_len + 1);
    if (!text) return file_error(NNCL_ERR_OOM, path, "out of memory for a header of %" PRIu64 " bytes", header_len);
    memcpy(text, bytes + 8, (size_t)header_len);
    text[header_len] = '\0';
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)header_len, &parse_end, 0);
    enum nncl_status st = NNCL_OK;
    uint64_t *begins = NULL;
    if (!root) {
        size_t at = parse_end && parse_end >= text ? (size_t)(parse_end - text) : 0;
        st = file_error(NNCL_ERR_FORMAT, path, "the header is not valid JSON (error at byte %zu of the header)", at);
        goto done;
    }
    /* The format pads the header with spaces; anything else after the object is garbage. */
    for (const char *p = parse_end; p && p < text + header_len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            st = file_error(NNCL_ERR_FORMAT, path, "unexpected bytes after the JSON header at byte %zu of the header",
                            (size_t)(p - text));
            goto done;
        }
    }
    if (!cJSON_IsObject(root)) {
        st = file_error(NNCL_ERR_FORMAT, path, "the header is not a JSON object");
        goto done;
    }

    size_t n_entries = 0;
    for (const cJSON *e = root->child; e; e = e->next) n_entries++;
    if (n_entries > 0) {
        out->tensors = calloc(n_entries, sizeof *out->tensors);
        begins = calloc(n_entries, sizeof *begins);
        if (!out->tensors || !begins) {
            st = file_error(NNCL_ERR_OOM, path, "out of memory for %zu tensors", n_entries);
            goto done;
        }
    }
    int seen_metadata = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (e->string && strcmp(e->string, "__metadata__") == 0) {
            if (seen_metadata) {
                st = file_error(NNCL_ERR_FORMAT, path, "\"__metadata__\" appears twice in the header");
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
        return file_error(NNCL_ERR_IO, path, "cannot open it: %s (check the path and its permissions)",
                          strerror(errno));
    }
    enum nncl_status st = NNCL_OK;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        st = file_error(NNCL_ERR_IO, path, "cannot stat it: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = file_error(NNCL_ERR_IO, path, "not a regular file (a folder or a device?)");
        goto fail;
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > (uintmax_t)SIZE_MAX - 1) {
        st = file_error(NNCL_ERR_OOM, path, "the file is too large to load into memory");
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    /* +1: malloc(0) may return NULL for an empty file, which is a format error, not out of memory. */
    out->bytes = malloc(size + 1);
    if (!out->bytes) {
        st = file_error(NNCL_ERR_OOM, path, "out of memory reading %zu bytes", size);
        goto fail;
    }
    size_t got = fread(out->bytes, 1, size, fp);
    if (got != size) {
        st = file_error(NNCL_ERR_IO, path, "read %zu of %zu bytes: %s", got, size,
                        ferror(fp) ? strerror(errno) : "the file shrank while being read");
        goto fail;
    }
    out->size = size;
    if (fclose(fp) != 0) {
        fp = NULL;
        st = file_error(NNCL_ERR_IO, path, "closing it failed: %s", strerror(errno));
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

/* " (index [1, 2])" for a tensor of rank >= 2, so the message points at the row and column. */
static void format_index(char *buf, size_t cap, const struct st_tensor *t, uint64_t flat) {
    buf[0] = '\0';
    if (t->ndim < 2) return;
    uint64_t idx[ST_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = t->shape[d] ? flat % t->shape[d] : 0;
        flat = t->shape[d] ? flat / t->shape[d] : 0;
    }
    char shape[200];
    format_shape(shape, sizeof shape, idx, t->ndim);
    snprintf(buf, cap, " (index %s)", shape);
}

static enum nncl_status check_args(const char *fn, const struct st_file *f, const struct st_tensor *t,
                                   const void *out, size_t n) {
    if (!f || !t || (!out && n)) return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: f, t or out is NULL", fn);
    if (n != t->count) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: tensor \"%s\" of \"%s\" has %" PRIu64 " values, %zu given",
                              fn, t->name, f->path, t->count, n);
    }
    if (t->count && !t->data) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: tensor \"%s\" has no data", fn, t->name);
    }
    return NNCL_OK;
}

enum nncl_status st_to_float(const struct st_file *f, const struct st_tensor *t, float *out, size_t n, int finite) {
    enum nncl_status st = check_args("st_to_float", f, t, out, n);
    if (st) return st;
    const unsigned char *p = t->data;
    for (size_t i = 0; i < n; i++) {
        float v;
        switch (t->dtype) {
        case ST_F32: v = bits_to_float(ld_u32(p + 4 * i)); break;
        case ST_F64: {
            uint64_t bits = ld_u64(p + 8 * i);
            double d;
            memcpy(&d, &bits, sizeof d);
            if (finite && isfinite(d) && !isfinite((float)d)) {
                char where[256];
                format_index(where, sizeof where, t, i);
                return file_error(NNCL_ERR_NUMERIC, f->path, "tensor \"%s\": element %zu%s is %g, outside the float "
                                  "range", t->name, i, where, d);
            }
            v = (float)d;
            break;
        }
        case ST_F16: v = f16_to_float(ld_u16(p + 2 * i)); break;
        case ST_BF16: v = bf16_to_float(ld_u16(p + 2 * i)); break;
        case ST_I64: v = (float)ld_i64(p + 8 * i); break;
        case ST_I32: v = (float)ld_i32(p + 4 * i); break;
        case ST_I16: v = (float)ld_i16(p + 2 * i); break;
        case ST_I8: v = (float)ld_i8(p + i); break;
        case ST_U8: v = (float)p[i]; break;
        case ST_BOOL: v = p[i] ? 1.0f : 0.0f; break;
        default:
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_to_float: tensor \"%s\" has an invalid dtype %d", t->name,
                                  (int)t->dtype);
        }
        if (finite && !isfinite(v)) {
            char where[256];
            format_index(where, sizeof where, t, i);
            return file_error(NNCL_ERR_NUMERIC, f->path,
                              "tensor \"%s\": element %zu%s is %s; the values must be finite numbers", t->name, i,
                              where, isnan(v) ? "NaN" : (v > 0 ? "+infinity" : "-infinity"));
        }
        out[i] = v;
    }
    return NNCL_OK;
}

enum nncl_status st_to_int64(const struct st_file *f, const struct st_tensor *t, int64_t *out, size_t n) {
    enum nncl_status st = check_args("st_to_int64", f, t, out, n);
    if (st) return st;
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case ST_I64:
        for (size_t i = 0; i < n; i++) out[i] = ld_i64(p + 8 * i);
        return NNCL_OK;
    case ST_I32:
        for (size_t i = 0; i < n; i++) out[i] = ld_i32(p + 4 * i);
        return NNCL_OK;
    case ST_I16:
        for (size_t i = 0; i < n; i++) out[i] = ld_i16(p + 2 * i);
        return NNCL_OK;
    case ST_I8:
        for (size_t i = 0; i < n; i++) out[i] = ld_i8(p + i);
        return NNCL_OK;
    case ST_U8:
        for (size_t i = 0; i < n; i++) out[i] = p[i];
        return NNCL_OK;
    case ST_BOOL:
        for (size_t i = 0; i < n; i++) out[i] = p[i] ? 1 : 0;
        return NNCL_OK;
    default:
        return file_error(NNCL_ERR_FORMAT, f->path,
                          "tensor \"%s\" has dtype %s; integers (I64, I32, I16, I8, U8 or BOOL) are expected",
                          t->name, st_dtype_name(t->dtype));
    }
}

/* ---- writing ---- */

static enum nncl_status check_write_args(const char *path, const struct st_write_tensor *tensors, size_t n_tensors,
                                         const struct st_metadata_entry *metadata, size_t n_metadata) {
    if (!path || !path[0]) return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write: path is NULL or empty");
    if ((n_tensors && !tensors) || (n_metadata && !metadata)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": tensors or metadata is NULL", path);
    }
    for (size_t i = 0; i < n_tensors; i++) {
        const struct st_write_tensor *t = &tensors[i];
        if (!t->name || !t->name[0] || strlen(t->name) >= sizeof ((struct st_tensor *)0)->name ||
            strcmp(t->name, "__metadata__") == 0) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG,
                                  "st_write \"%s\": tensor %zu has a NULL, empty, reserved or over-long (> 255 bytes) "
                                  "name",
                                  path, i);
        }
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": tensor \"%s\" has ndim %d; 0 to %d allowed",
                                  path, t->name, t->ndim, ST_MAX_DIMS);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(tensors[j].name, t->name) == 0) {
                return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": tensor name \"%s\" is used twice", path,
                                      t->name);
            }
        }
    }
    for (size_t i = 0; i < n_metadata; i++) {
        if (!metadata[i].key || !metadata[i].value) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": metadata entry %zu has a NULL key or value",
                                  path, i);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(metadata[j].key, metadata[i].key) == 0) {
                return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": metadata key \"%s\" is used twice", path,
                                      metadata[i].key);
            }
        }
    }
    return NNCL_OK;
}

/* An exact unsigned integer as JSON: cJSON would print a double, which is inexact beyond 15 digits. */
static cJSON *json_u64(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_CreateRaw(buf);
}

/* The JSON header text (unpadded, freed with cJSON_free) into *text; fills counts[i]. */
static enum nncl_status build_header(const char *path, const struct st_write_tensor *tensors, size_t n_tensors,
                                     const struct st_metadata_entry *metadata, size_t n_metadata, uint64_t *counts,
                                     char **text) {
    *text = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) goto oom;
    if (n_metadata) {
        cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
        if (!meta) goto oom;
        for (size_t i = 0; i < n_metadata; i++) {
            if (!cJSON_AddStringToObject(meta, metadata[i].key, metadata[i].value)) goto oom;
        }
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n_tensors; i++) {
        const struct st_write_tensor *t = &tensors[i];
        uint64_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] && count > UINT64_MAX / t->shape[d]) count = UINT64_MAX; /* caught just below */
            else count *= t->shape[d];
        }
        if (count > (uint64_t)(ST_MAX_EXACT / 8) || offset + count * 4 > (uint64_t)ST_MAX_EXACT) {
            cJSON_Delete(root);
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": tensor \"%s\" is too large for the format",
                                  path, t->name);
        }
        if (count && !t->data) {
            cJSON_Delete(root);
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "st_write \"%s\": tensor \"%s\" has %" PRIu64
                                  " values but no data", path, t->name, count);
        }
        counts[i] = count;
        cJSON *obj = cJSON_AddObjectToObject(root, t->name);
        if (!obj || !cJSON_AddStringToObject(obj, "dtype", "F32")) goto oom;
        cJSON *shape = cJSON_AddArrayToObject(obj, "shape");
        if (!shape) goto oom;
        for (int d = 0; d < t->ndim; d++) {
            cJSON *dim = json_u64(t->shape[d]);
            if (!dim || !cJSON_AddItemToArray(shape, dim)) {
                cJSON_Delete(dim);
                goto oom;
            }
        }
        cJSON *offs = cJSON_AddArrayToObject(obj, "data_offsets");
        if (!offs) goto oom;
        uint64_t ends[2] = {offset, offset + count * 4};
        for (int k = 0; k < 2; k++) {
            cJSON *v = json_u64(ends[k]);
            if (!v || !cJSON_AddItemToArray(offs, v)) {
                cJSON_Delete(v);
                goto oom;
            }
        }
        offset = ends[1];
    }
    *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!*text) return nncl_set_error(NNCL_ERR_OOM, "st_write \"%s\": out of memory printing the header", path);
    return NNCL_OK;
oom:
    cJSON_Delete(root);
    return nncl_set_error(NNCL_ERR_OOM, "st_write \"%s\": out of memory building the header", path);
}

static int write_all(FILE *fp, const void *data, size_t n) { return fwrite(data, 1, n, fp) == n; }

/* Writes the whole file body to fp; 0 on a write error (errno set by stdio). */
static int write_body(FILE *fp, const char *header, size_t header_len, size_t pad,
                      const struct st_write_tensor *tensors, size_t n_tensors, const uint64_t *counts) {
    unsigned char len_bytes[8];
    st_u64(len_bytes, (uint64_t)(header_len + pad));
    if (!write_all(fp, len_bytes, sizeof len_bytes) || !write_all(fp, header, header_len)) return 0;
    static const char spaces[8] = "        ";
    if (!write_all(fp, spaces, pad)) return 0;
    /* Converted through a small buffer so the file is little-endian whatever the host. */
    unsigned char buf[4096];
    for (size_t i = 0; i < n_tensors; i++) {
        const float *src = tensors[i].data;
        uint64_t left = counts[i];
        while (left) {
            size_t chunk = left < sizeof buf / 4 ? (size_t)left : sizeof buf / 4;
            for (size_t k = 0; k < chunk; k++) {
                uint32_t bits;
                memcpy(&bits, &src[k], sizeof bits);
                st_u32(buf + 4 * k, bits);
            }
            if (!write_all(fp, buf, chunk * 4)) return 0;
            src += chunk;
            left -= chunk;
        }
    }
    return 1;
}

enum nncl_status st_write(const char *path, const struct st_write_tensor *tensors, size_t n_tensors,
                          const struct st_metadata_entry *metadata, size_t n_metadata) {
    enum nncl_status st = check_write_args(path, tensors, n_tensors, metadata, n_metadata);
    if (st) return st;
    uint64_t *counts = calloc(n_tensors ? n_tensors : 1, sizeof *counts);
    if (!counts) return nncl_set_error(NNCL_ERR_OOM, "st_write \"%s\": out of memory", path);
    char *header = NULL;
    st = build_header(path, tensors, n_tensors, metadata, n_metadata, counts, &header);
    if (st) {
        free(counts);
        return st;
    }
    size_t header_len = strlen(header);
    size_t pad = (8 - header_len % 8) % 8; /* 8 + header_len + pad is a multiple of 8: aligned data */

    size_t path_len = strlen(path);
    char *tmp = malloc(path_len + sizeof ".tmp.XXXXXX");
    if (!tmp) {
        cJSON_free(header);
        free(counts);
        return nncl_set_error(NNCL_ERR_OOM, "st_write \"%s\": out of memory", path);
    }
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");

    /* Same folder as `path`, so rename() is atomic (it never crosses a file system). */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = nncl_set_error(NNCL_ERR_IO,
                            "cannot write \"%s\": creating a temporary file next to it failed: %s (check that the "
                            "folder exists and is writable)",
                            path, strerror(errno));
        goto done;
    }
    /* mkstemp makes the file 0600. A replaced file keeps its mode (a private model stays private); a new
     * one gets 0644 like other outputs (the umask cannot be read without changing it, which is not
     * thread-safe). A failure here (a file system without modes) leaves a correct file: not an error. */
    struct stat old;
    mode_t mode = S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) mode = old.st_mode & 0777;
    (void)fchmod(fd, mode);
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        st = nncl_set_error(NNCL_ERR_IO, "cannot write \"%s\": fdopen of the temporary file failed: %s", path,
                            strerror(errno));
        close(fd);
        unlink(tmp);
        goto done;
    }
    int ok = write_body(fp, header, header_len, pad, tensors, n_tensors, counts);
    if (ok && fflush(fp) != 0) ok = 0;
    /* fsync before rename: otherwise a crash can leave the new name pointing at unwritten blocks. */
    if (ok && fsync(fileno(fp)) != 0) ok = 0;
    int saved = errno;
    if (fclose(fp) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        st = nncl_set_error(NNCL_ERR_IO, "cannot write \"%s\": writing the temporary file \"%s\" failed: %s (disk "
                            "full?); the previous file is unchanged",
                            path, tmp, strerror(saved));
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = nncl_set_error(NNCL_ERR_IO, "cannot write \"%s\": renaming the temporary file onto it failed: %s; the "
                            "previous file is unchanged",
                            path, strerror(errno));
        unlink(tmp);
        goto done;
    }
done:
    free(tmp);
    cJSON_free(header);
    free(counts);
    return st;
}
