/*
 * safetensors_write.c: writing a safetensors file (st_write): the arguments checked, the header built with
 * cJSON, the data converted to little-endian, the whole file replaced atomically (util/atomic_file.h).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/st_impl.h"
#include "util/atomic_file.h"

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

/* What write_body writes: the header (padded to 8 bytes with spaces) and the tensors' data. */
struct body {
    const char *header;
    size_t header_len, pad;
    const struct st_write_tensor *tensors;
    size_t n_tensors;
    const uint64_t *counts;
};

/* Writes the whole file body to fp (an nncl_write_fn); 0 on a write error (errno set by stdio). */
static int write_body(FILE *fp, const void *user) {
    const struct body *b = user;
    unsigned char len_bytes[8];
    st_u64(len_bytes, (uint64_t)(b->header_len + b->pad));
    if (!write_all(fp, len_bytes, sizeof len_bytes) || !write_all(fp, b->header, b->header_len)) return 0;
    static const char spaces[8] = "        ";
    if (!write_all(fp, spaces, b->pad)) return 0;
    /* Converted through a small buffer so the file is little-endian whatever the host. */
    unsigned char buf[4096];
    for (size_t i = 0; i < b->n_tensors; i++) {
        const float *src = b->tensors[i].data;
        uint64_t left = b->counts[i];
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
    struct body b = {header, strlen(header), 0, tensors, n_tensors, counts};
    b.pad = (8 - b.header_len % 8) % 8; /* 8 + header_len + pad is a multiple of 8: aligned data */
    st = nncl_atomic_replace(path, "", write_body, &b);
    cJSON_free(header);
    free(counts);
    return st;
}
