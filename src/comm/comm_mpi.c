/*
 * comm_mpi.c: the MPI communicator (compiled only with NNCL_MPI). Buffers are host memory (Open MPI from
 * Debian is not CUDA-aware and no MPI takes cl_mem): the trainer stages gradients through the host.
 *
 * exact: the buffer is cut into `size` chunks, chunk c summed by rank c. MPI_Ialltoallv brings rank c every
 * rank's chunk c; it folds them in rank order (nncl_comm_fold: ((x0 + x1) + x2) + ...), and MPI_Allgatherv
 * returns every summed chunk to every rank. Each rank sends and receives 2 (N-1)/N of the buffer: a ring's
 * bandwidth, and bits that depend on neither the MPI algorithm nor the network, only on N.
 * fast: MPI_Iallreduce(MPI_SUM) in place.
 * Errors: MPI_ERRORS_ARE_FATAL (the default): a rank that dies ends the whole job through mpirun.
 */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm_impl.h"
#include "status_impl.h"

struct nncl_comm_request {
    struct nncl_comm_request *next; /* the context's free list */
    MPI_Request mpi;
    enum nncl_reduction mode;
    float *buf, *recv; /* recv: size x (this rank's chunk), exact mode */
    size_t n, recv_cap;
    int *counts; /* 4 x size: send counts, send displacements, receive counts, receive displacements; they must
                    stay as they are until the non-blocking collective is complete, so each request has its own */
};

struct mpi_ctx {
    int rank, size, finalize; /* finalize: this module called MPI_Init */
    struct nncl_comm_request *free_list;
};

static enum nncl_status mpi_error(int rc, const char *call) {
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return nncl_set_error(NNCL_ERR_IO, "%s failed: %s", call, msg);
}

#define MPI_TRY(call, name)                                                                                    \
    do {                                                                                                       \
        const int rc_ = (call);                                                                                \
        if (rc_ != MPI_SUCCESS) return mpi_error(rc_, name);                                                  \
    } while (0)

/* Chunk c of n elements over size ranks: [off, off + len). */
static void chunk(size_t n, int size, int c, size_t *off, size_t *len) {
    const size_t base = n / (size_t)size, extra = n % (size_t)size, uc = (size_t)c;
    *off = uc * base + (uc < extra ? uc : extra);
    *len = base + (uc < extra ? 1 : 0);
}

static enum nncl_status mpi_begin(void *ctx_, float *buf, size_t n, enum nncl_reduction mode,
                                  struct nncl_comm_request **out) {
    struct mpi_ctx *ctx = ctx_;
    if (n > (size_t)INT_MAX) return nncl_set_error(NNCL_ERR_INVALID_ARG, "MPI sum of %zu floats: at most %d", n, INT_MAX);
    struct nncl_comm_request *r = ctx->free_list;
    if (r) {
        ctx->free_list = r->next;
    } else if (!(r = calloc(1, sizeof *r)) || !(r->counts = calloc(4 * (size_t)ctx->size, sizeof(int)))) {
        free(r);
        return nncl_set_error(NNCL_ERR_OOM, "MPI sum: out of host memory");
    }
    r->mode = mode, r->buf = buf, r->n = n, r->next = NULL;
    *out = r;
    if (mode == NNCL_REDUCE_FAST || ctx->size == 1) {
        MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r->mpi), "MPI_Iallreduce");
        return NNCL_OK;
    }
    size_t off, len;
    chunk(n, ctx->size, ctx->rank, &off, &len);
    const size_t need = len * (size_t)ctx->size;
    if (need > r->recv_cap) {
        float *p = realloc(r->recv, need * sizeof(float));
        if (!p) return nncl_set_error(NNCL_ERR_OOM, "MPI sum: out of host memory for %zu floats", need);
        r->recv = p, r->recv_cap = need;
    }
    int *scount = r->counts, *sdispl = scount + ctx->size, *rcount = sdispl + ctx->size, *rdispl = rcount + ctx->size;
    for (int c = 0; c < ctx->size; c++) {
        size_t o, l;
        chunk(n, ctx->size, c, &o, &l);
        scount[c] = (int)l, sdispl[c] = (int)o;
        rcount[c] = (int)len, rdispl[c] = (int)(len * (size_t)c);
    }
    MPI_TRY(MPI_Ialltoallv(buf, scount, sdispl, MPI_FLOAT, r->recv, rcount, rdispl, MPI_FLOAT, MPI_COMM_WORLD, &r->mpi),
            "MPI_Ialltoallv");
    return NNCL_OK;
}

static enum nncl_status mpi_end(void *ctx_, struct nncl_comm_request *r) {
    struct mpi_ctx *ctx = ctx_;
    enum nncl_status st = NNCL_OK;
    int rc = MPI_Wait(&r->mpi, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) st = mpi_error(rc, "MPI_Wait");
    if (!st && r->mode == NNCL_REDUCE_EXACT && ctx->size > 1) {
        size_t off, len;
        chunk(r->n, ctx->size, ctx->rank, &off, &len);
        float *mine = r->buf + off;
        memcpy(mine, r->recv, len * sizeof(float)); /* rank 0's chunk, then the fold in rank order */
        for (int k = 1; k < ctx->size; k++) nncl_comm_fold(mine, r->recv + (size_t)k * len, len);
        int *count = r->counts, *displ = r->counts + ctx->size;
        for (int c = 0; c < ctx->size; c++) {
            size_t o, l;
            chunk(r->n, ctx->size, c, &o, &l);
            count[c] = (int)l, displ[c] = (int)o;
        }
        rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, r->buf, count, displ, MPI_FLOAT, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) st = mpi_error(rc, "MPI_Allgatherv");
    }
    r->next = ctx->free_list; /* kept with its receive buffer for the next step's sum */
    ctx->free_list = r;
    return st;
}

static enum nncl_status mpi_max(void *ctx_, int *value) {
    (void)ctx_;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
    return NNCL_OK;
}

static void mpi_free(void *ctx_) {
    struct mpi_ctx *ctx = ctx_;
    if (!ctx) return;
    while (ctx->free_list) {
        struct nncl_comm_request *r = ctx->free_list;
        ctx->free_list = r->next;
        free(r->recv);
        free(r->counts);
        free(r);
    }
    if (ctx->finalize) MPI_Finalize();
    free(ctx);
}

static const struct nncl_comm_i mpi_iface = {
    .name = "mpi", .sum_begin = mpi_begin, .sum_end = mpi_end, .max = mpi_max, .free = mpi_free,
};

enum nncl_status comm_mpi_open(struct nncl_comm *c) {
    struct mpi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return nncl_set_error(NNCL_ERR_OOM, "MPI: out of host memory");
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            free(ctx);
            return nncl_set_error(NNCL_ERR_IO, "MPI_Init_thread failed");
        }
        ctx->finalize = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &ctx->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ctx->size);
    int local = 0;
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, ctx->rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &local);
        MPI_Comm_free(&node);
    }
    *c = (struct nncl_comm){.iface = &mpi_iface, .ctx = ctx, .rank = ctx->rank, .size = ctx->size, .local_rank = local};
    return NNCL_OK;
}
