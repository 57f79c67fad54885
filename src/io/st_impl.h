/*
 * st_impl.h: what the files of the safetensors module share (safetensors.c reads and validates,
 * safetensors_convert.c widens tensors to float and int64, safetensors_write.c writes). Internal to src/io/.
 */
#ifndef NNCL_ST_IMPL_H
#define NNCL_ST_IMPL_H

#include <stdint.h>
#include <string.h>

#include "io/safetensors.h"
#include "status_impl.h"

/* cJSON keeps numbers as doubles: beyond 2^53 an offset or dimension would not be exact. */
#define ST_MAX_EXACT 9007199254740992.0

/* Sets a NNCL_ERR_FORMAT (or other) error prefixed with the file, so every message names it. */
#define st_file_error(status, path, ...) nncl_file_error(status, "safetensors file", path, __VA_ARGS__)

/* "[3, 4]" into buf, for messages. */
void st_format_shape(char *buf, size_t cap, const uint64_t *shape, int ndim);

/* ---- little-endian loads and stores, byte by byte so neither byte order nor alignment matters ---- */

static inline uint16_t ld_u16(const unsigned char *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }

static inline uint32_t ld_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ld_u64(const unsigned char *p) { return (uint64_t)ld_u32(p) | (uint64_t)ld_u32(p + 4) << 32; }

/* Signed values are memcpy'd from their unsigned bit pattern: converting an out-of-range unsigned value
 * to a signed type is implementation-defined, reinterpreting two's complement bits is not. */
static inline int64_t ld_i64(const unsigned char *p) {
    uint64_t u = ld_u64(p);
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline int32_t ld_i32(const unsigned char *p) {
    uint32_t u = ld_u32(p);
    int32_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline int16_t ld_i16(const unsigned char *p) {
    uint16_t u = ld_u16(p);
    int16_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline int8_t ld_i8(const unsigned char *p) {
    int8_t v;
    memcpy(&v, p, 1);
    return v;
}

static inline void st_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void st_u64(unsigned char *p, uint64_t v) {
    st_u32(p, (uint32_t)v);
    st_u32(p + 4, (uint32_t)(v >> 32));
}

#endif /* NNCL_ST_IMPL_H */
