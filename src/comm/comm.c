/*
 * comm.c: the communicator's wrappers, the single-process communicator and the exact mode's fold.
 * The only file that knows whether the build has MPI (its #ifdef NNCL_HAVE_MPI, STYLE.md 9.3).
 */
#include <stdlib.h>
#include <string.h>

#include "comm/comm_impl.h"
#include "status_impl.h"
#include "util/util.h"

static const char *const reduction_names[NNCL_REDUCE_COUNT] = {"exact", "fast"};

const char *nncl_reduction_name(enum nncl_reduction r) {
    return (unsigned)r < NNCL_REDUCE_COUNT ? reduction_names[r] : "unknown reduction";
}

enum nncl_status nncl_reduction_from_name(const char *name, enum nncl_reduction *out) {
    for (int i = 0; name && i < NNCL_REDUCE_COUNT; i++) {
        if (strcmp(name, reduction_names[i]) == 0) return *out = (enum nncl_reduction)i, NNCL_OK;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown reduction \"%s\"; choose exact or fast", name ? name : "");
}

int nncl_comm_launched(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return 1;
    }
    return 0;
}

int nncl_comm_have_mpi(void) {
#ifdef NNCL_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* ---- one process: the sum of one buffer is the buffer ------------------------------------------ */

static struct nncl_comm_request *const single_done = (struct nncl_comm_request *)&reduction_names;

static enum nncl_status single_begin(void *ctx, float *buf, size_t n, enum nncl_reduction mode,
                                     struct nncl_comm_request **req) {
    (void)ctx, (void)buf, (void)n, (void)mode;
    *req = single_done;
    return NNCL_OK;
}

static enum nncl_status single_end(void *ctx, struct nncl_comm_request *req) {
    (void)ctx, (void)req;
    return NNCL_OK;
}

static enum nncl_status single_max(void *ctx, int *value) {
    (void)ctx, (void)value;
    return NNCL_OK;
}

static void single_free(void *ctx) { (void)ctx; }

static const struct nncl_comm_i single_iface = {
    .name = "single", .sum_begin = single_begin, .sum_end = single_end, .max = single_max, .free = single_free,
};

enum nncl_status nncl_comm_open(const char *kind, struct nncl_comm **out) {
    if (!kind || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_comm_open: NULL argument");
    *out = NULL;
    const int want_mpi = strcmp(kind, "mpi") == 0 || (strcmp(kind, "auto") == 0 && nncl_comm_launched());
    if (!want_mpi && strcmp(kind, "single") != 0 && strcmp(kind, "auto") != 0) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown communicator \"%s\"; choose single, mpi or auto", kind);
    }
    struct nncl_comm *c = calloc(1, sizeof *c);
    if (!c) return nncl_set_error(NNCL_ERR_OOM, "nncl_comm_open: out of memory");
    if (!want_mpi) {
        *c = (struct nncl_comm){.iface = &single_iface, .rank = 0, .size = 1, .local_rank = 0};
        *out = c;
        return NNCL_OK;
    }
#ifdef NNCL_HAVE_MPI
    enum nncl_status st = comm_mpi_open(c);
    if (st) {
        free(c);
        return st;
    }
    *out = c;
    return NNCL_OK;
#else
    free(c);
    return nncl_set_error(NNCL_ERR_UNSUPPORTED, "this libnncl was built without MPI (configure with NNCL_MPI=ON and "
                          "Open MPI installed: apt-get install openmpi-bin libopenmpi-dev)");
#endif
}

void nncl_comm_free(struct nncl_comm *c) {
    if (!c) return;
    c->iface->free(c->ctx);
    free(c);
}

void nncl_comm_abort(struct nncl_comm *c, int code) {
    if (c && c->iface->abort) c->iface->abort(c->ctx, code);
}

int nncl_comm_rank(const struct nncl_comm *c) { return c ? c->rank : 0; }
int nncl_comm_size(const struct nncl_comm *c) { return c ? c->size : 1; }
int nncl_comm_local_rank(const struct nncl_comm *c) { return c ? c->local_rank : 0; }
const char *nncl_comm_name(const struct nncl_comm *c) { return c ? c->iface->name : "single"; }

enum nncl_status nncl_comm_sum_begin(struct nncl_comm *c, float *buf, size_t n, enum nncl_reduction mode,
                                     struct nncl_comm_request **req) {
    if (!req || (n && !buf)) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_comm_sum_begin: NULL argument");
    if ((unsigned)mode >= NNCL_REDUCE_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "invalid reduction");
    return c ? c->iface->sum_begin(c->ctx, buf, n, mode, req) : single_begin(NULL, buf, n, mode, req); /* NULL: one process */
}

enum nncl_status nncl_comm_sum_end(struct nncl_comm *c, struct nncl_comm_request *req) {
    if (!req) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_comm_sum_end: NULL argument");
    return c ? c->iface->sum_end(c->ctx, req) : NNCL_OK;
}

enum nncl_status nncl_comm_progress(struct nncl_comm *c) {
    return c && c->iface->progress ? c->iface->progress(c->ctx) : NNCL_OK;
}

enum nncl_status nncl_comm_sum(struct nncl_comm *c, float *buf, size_t n, enum nncl_reduction mode) {
    struct nncl_comm_request *req = NULL;
    TRY(nncl_comm_sum_begin(c, buf, n, mode, &req));
    return nncl_comm_sum_end(c, req);
}

enum nncl_status nncl_comm_max(struct nncl_comm *c, int *value) {
    if (!value) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_comm_max: NULL argument");
    return c ? c->iface->max(c->ctx, value) : NNCL_OK;
}

void nncl_comm_fold(float *acc, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) acc[i] = acc[i] + x[i];
}
