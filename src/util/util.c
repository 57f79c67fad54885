/*
 * util.c: the shared helpers of util.h.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime in ISO C mode */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double nncl_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double nncl_now_ms(void) { return 1e3 * nncl_now_seconds(); }

uint64_t nncl_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

uint64_t nncl_fnv1a_str(uint64_t h, const char *s) {
    h = nncl_fnv1a(h, s, strlen(s));
    return (h ^ 0xff) * 1099511628211ull;
}

char *nncl_strdup(const char *s) {
    const size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}
