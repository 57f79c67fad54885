/*
 * safetensors_convert.c: a validated tensor of any supported dtype widened to float (st_to_float) or to
 * int64 (st_to_int64), with the first value that does not fit named by index.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "io/st_impl.h"

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
    st_format_shape(shape, sizeof shape, idx, t->ndim);
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
                return st_file_error(NNCL_ERR_NUMERIC, f->path, "tensor \"%s\": element %zu%s is %g, outside the float "
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
            return st_file_error(NNCL_ERR_NUMERIC, f->path,
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
        return st_file_error(NNCL_ERR_FORMAT, f->path,
                          "tensor \"%s\" has dtype %s; integers (I64, I32, I16, I8, U8 or BOOL) are expected",
                          t->name, st_dtype_name(t->dtype));
    }
}
