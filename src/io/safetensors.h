/*
 * safetensors.h: reading and writing safetensors files. Internal; used by the model files
 * (src/model_io.c) and the safetensors data loader (src/data/data_safetensors.c).
 *
 * The format: an 8-byte little-endian header length H, H bytes of JSON (an object mapping each tensor
 * name to {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__" object of
 * string to string), then the tensor bytes, little-endian, offsets relative to the end of the header.
 * Reading validates everything before use (header length within the file, JSON well-formed, every
 * dtype known, shape product * dtype size == end - begin, offsets inside the data and not overlapping)
 * and reports the file and the problem on failure. Writing is atomic: a temporary file in the same
 * folder, fflush + fsync, then rename(), so a crash never leaves a torn file at `path`.
 */
#ifndef NNCL_SAFETENSORS_H
#define NNCL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl_status.h"

enum st_dtype { ST_F32, ST_F64, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL, ST_DTYPE_COUNT };

#define ST_MAX_DIMS 8

struct st_tensor {
    char name[256];
    enum st_dtype dtype;
    int ndim;                   /* 0 for a scalar */
    uint64_t shape[ST_MAX_DIMS];
    uint64_t count;             /* product of shape (1 for a scalar) */
    const void *data;           /* into st_file.bytes; little-endian, possibly unaligned: copy with memcpy */
    uint64_t nbytes;
};

struct st_metadata_entry {
    char *key;
    char *value;
};

struct st_file {
    char path[512];
    size_t n_tensors;
    struct st_tensor *tensors;  /* in header order */
    size_t n_metadata;
    struct st_metadata_entry *metadata;
    unsigned char *bytes;       /* the whole file, owned */
    size_t size;
};

/** "F32", "I64", ... */
const char *st_dtype_name(enum st_dtype dtype);
size_t st_dtype_size(enum st_dtype dtype);

/** Reads and validates the whole file. On failure `out` is left empty and the message names the file. */
enum nncl_status st_read(const char *path, struct st_file *out);
void st_free(struct st_file *f);

/** The tensor with this name, or NULL. */
const struct st_tensor *st_find(const struct st_file *f, const char *name);

/** The value of a __metadata__ key, or NULL. */
const char *st_metadata(const struct st_file *f, const char *key);

/**
 * Copies a tensor's values to float, converting F32, F64, F16, BF16 and the integer types; `n` must be
 * t->count. Fails with NNCL_ERR_NUMERIC naming the tensor and index on NaN or infinity when `finite` is set.
 */
enum nncl_status st_to_float(const struct st_file *f, const struct st_tensor *t, float *out, size_t n, int finite);

/** Copies an integer tensor's values (I64, I32, I16, I8, U8) to int64_t; `n` must be t->count. */
enum nncl_status st_to_int64(const struct st_file *f, const struct st_tensor *t, int64_t *out, size_t n);

/* One tensor to write: F32 data of `count` = product of shape floats (ndim 0: a scalar). */
struct st_write_tensor {
    const char *name;
    int ndim;
    uint64_t shape[ST_MAX_DIMS];
    const float *data;
};

/**
 * Writes tensors (in the given order, contiguous; the data section starts 8-byte aligned) and __metadata__ (keys
 * and values are strings; may be 0 entries) atomically to `path`. On any failure the previous file at
 * `path`, if any, is untouched, and no temporary file is left behind.
 */
enum nncl_status st_write(const char *path, const struct st_write_tensor *tensors, size_t n_tensors,
                          const struct st_metadata_entry *metadata, size_t n_metadata);

#endif /* NNCL_SAFETENSORS_H */
