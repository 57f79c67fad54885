/*
 * util.h: the small helpers every module shares, each in one place: a monotonic clock, FNV-1a hashing,
 * string copies, and TRY for early returns on a failed status. Internal; the bottom layer of the module
 * map in docs/architecture.md (it includes nothing of nncl's but the status header).
 */
#ifndef NNCL_UTIL_H
#define NNCL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl_status.h"

/* Returns from the calling function with the status of `expr` when it is not NNCL_OK. */
#define TRY(expr)                                                                                              \
    do {                                                                                                       \
        enum nncl_status try_st_ = (expr);                                                                     \
        if (try_st_) return try_st_;                                                                           \
    } while (0)

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for intervals, never for dates. */
double nncl_now_seconds(void);
/* The same in milliseconds. */
double nncl_now_ms(void);

/* FNV-1a, 64 bits: nncl_fnv1a(NNCL_FNV1A_INIT, ...) to start, the result back in to continue. */
#define NNCL_FNV1A_INIT 14695981039346656037ull
uint64_t nncl_fnv1a(uint64_t h, const void *data, size_t n);
/* A NUL-terminated string followed by a 0xff separator, so ("ab","c") and ("a","bc") hash apart. */
uint64_t nncl_fnv1a_str(uint64_t h, const char *s);

/* A malloc'd copy of `s` (free() it); NULL when out of memory. */
char *nncl_strdup(const char *s);

#endif /* NNCL_UTIL_H */
