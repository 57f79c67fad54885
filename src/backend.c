/*
 * backend.c: the public nncl_backend_* / nncl_buffer_* / nncl_tensor_* functions. The only code
 * (with ops.c) that calls through a backend's iface: arguments are checked here, once, for every
 * backend.
 */
#include <stdint.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend_impl.h"
#include "status_impl.h"
#include "tensor_impl.h"

void nncl_backend_free(struct nncl_backend *be) {
    if (!be) return;
    be->iface.free(be);
}

const char *nncl_backend_name(const struct nncl_backend *be) {
    NNCL_ASSERT(be);
    return be->iface.name;
}

const char *nncl_backend_versions(const struct nncl_backend *be) {
    NNCL_ASSERT(be);
    return be->versions;
}

const char *nncl_backend_device(const struct nncl_backend *be) {
    NNCL_ASSERT(be);
    return be->device;
}

int nncl_default_threads(void) {
#ifdef _OPENMP
    /* NNCL_THREADS gives every subcommand and program the same control as --threads */
    const char *env = getenv("NNCL_THREADS");
    char *end = NULL;
    const long v = env ? strtol(env, &end, 10) : 0;
    if (env && *env && !*end && v >= 1 && v <= 4096) return (int)v;
    if (env && *env) nncl_log(NNCL_LOG_WARN, "NNCL_THREADS=\"%s\" is not a thread count from 1 to 4096; ignored", env);
    const int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

enum nncl_status nncl_backend_set_threads(struct nncl_backend *be, int threads) {
    if (!be) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_set_threads: backend is NULL");
    if (threads < 0) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "threads %d: give 1 or more, or 0 for the default (%d here)",
                              threads, nncl_default_threads());
    }
#ifdef _OPENMP
    be->threads = threads ? threads : nncl_default_threads();
#else
    be->threads = 1; /* a build without OpenMP runs every op on the calling thread */
#endif
    return NNCL_OK;
}

int nncl_backend_threads(const struct nncl_backend *be) {
    NNCL_ASSERT(be);
    return be->threads > 0 ? be->threads : 1;
}

enum nncl_status nncl_backend_synchronize(struct nncl_backend *be) {
    if (!be) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_synchronize: backend is NULL");
    return be->iface.synchronize ? be->iface.synchronize(be) : NNCL_OK;
}

enum nncl_status nncl_backend_profile_start(struct nncl_backend *be) {
    if (!be) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_profile_start: backend is NULL");
    if (!be->iface.profile_start) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "backend %s has no device profile: its ops run synchronously, "
                                                    "time them on the host", be->iface.name);
    }
    return be->iface.profile_start(be);
}

enum nncl_status nncl_backend_profile_stop(struct nncl_backend *be, struct nncl_profile *out) {
    if (!be || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_profile_stop: NULL argument");
    if (!be->iface.profile_stop) return nncl_set_error(NNCL_ERR_UNSUPPORTED, "backend %s has no device profile", be->iface.name);
    return be->iface.profile_stop(be, out);
}

enum nncl_status nncl_backend_memory(struct nncl_backend *be, size_t *total, size_t *max_alloc) {
    if (!be || !total || !max_alloc) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_memory: NULL argument");
    return be->iface.memory(be, total, max_alloc);
}

enum nncl_status nncl_buffer_alloc(struct nncl_backend *be, size_t nbytes, struct nncl_buffer **out) {
    if (!be || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_buffer_alloc: backend or out is NULL");
    *out = NULL;
    if (nbytes == 0) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_buffer_alloc: a buffer of 0 bytes was requested "
                                                    "on backend %s; ask for at least one element",
                              be->iface.name);
    }
    struct nncl_buffer *buf = calloc(1, sizeof *buf);
    if (!buf) return nncl_set_error(NNCL_ERR_OOM, "nncl_buffer_alloc: out of host memory");
    buf->backend = be;
    buf->size = nbytes;
    enum nncl_status st = be->iface.buffer_alloc(be, buf);
    if (st != NNCL_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return NNCL_OK;
}

void nncl_buffer_free(struct nncl_buffer *buf) {
    if (!buf) return;
    buf->backend->iface.buffer_free(buf->backend, buf);
    free(buf);
}

size_t nncl_buffer_size(const struct nncl_buffer *buf) {
    NNCL_ASSERT(buf);
    return buf->size;
}

struct nncl_backend *nncl_buffer_backend(const struct nncl_buffer *buf) {
    NNCL_ASSERT(buf);
    return buf->backend;
}

struct nncl_tensor nncl_tensor_view(struct nncl_buffer *buf, size_t offset, size_t rows, size_t cols) {
    struct nncl_tensor t = {.buffer = buf, .offset = offset, .rows = rows, .cols = cols};
    return t;
}

size_t nncl_tensor_count(const struct nncl_tensor *t) {
    NNCL_ASSERT(t);
    return t->rows * t->cols;
}

enum nncl_status nncl_tensor_check(const char *where, const char *name, const struct nncl_tensor *t) {
    if (!t || !t->buffer) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: tensor %s is NULL or has no buffer", where, name);
    }
    if (t->rows == 0 || t->cols == 0) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s: tensor %s is %zux%zu; tensors need at least one row and "
                                              "one column", where, name, t->rows, t->cols);
    }
    /* Overflow-safe form of (offset + rows * cols) * 4 <= size. */
    size_t cap = t->buffer->size / sizeof(float);
    if (t->cols > SIZE_MAX / t->rows || t->offset > cap || t->rows * t->cols > cap - t->offset) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s: tensor %s (%zux%zu at float offset %zu) does not fit its "
                                              "buffer of %zu floats; allocate a larger buffer or fix the "
                                              "offset", where, name, t->rows, t->cols, t->offset, cap);
    }
    return NNCL_OK;
}

static enum nncl_status check_transfer(const char *where, const struct nncl_tensor *t, const void *host,
                                       size_t n) {
    enum nncl_status st = nncl_tensor_check(where, "t", t);
    if (st) return st;
    if (!host) return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s: host pointer is NULL", where);
    if (n != t->rows * t->cols) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s: %zu floats given for a %zux%zu tensor (%zu floats)",
                              where, n, t->rows, t->cols, t->rows * t->cols);
    }
    return NNCL_OK;
}

enum nncl_status nncl_tensor_set(const struct nncl_tensor *t, const float *src, size_t n) {
    enum nncl_status st = check_transfer("nncl_tensor_set", t, src, n);
    if (st) return st;
    struct nncl_backend *be = t->buffer->backend;
    return be->iface.buffer_write(be, t->buffer, t->offset * sizeof(float), src, n * sizeof(float));
}

enum nncl_status nncl_tensor_get(const struct nncl_tensor *t, float *dst, size_t n) {
    enum nncl_status st = check_transfer("nncl_tensor_get", t, dst, n);
    if (st) return st;
    struct nncl_backend *be = t->buffer->backend;
    return be->iface.buffer_read(be, t->buffer, t->offset * sizeof(float), dst, n * sizeof(float));
}
