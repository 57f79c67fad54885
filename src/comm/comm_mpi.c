/*
 * comm_mpi.c: the MPI communicator (compiled only with NNCL_MPI). Buffers are host memory (Open MPI from
 * Debian is not CUDA-aware and no MPI takes cl_mem): the trainer stages gradients through the host.
 *
 * exact: the buffer is cut into `size` chunks, chunk c summed by rank c. MPI_Ialltoallv brings rank c every
 * rank's chunk c; it folds them in rank order (nncl_comm_fold: ((x0 + x1) + x2) + ...), and MPI_Iallgatherv
 * returns every summed chunk to every rank. Both phases are non-blocking: the fold and the allgather start in
 * nncl_comm_progress (or at the latest in _end) once the alltoall is seen complete. Each rank sends and
 * receives 2 (N-1)/N of the buffer: a ring's bandwidth, and bits that depend on neither the MPI algorithm nor the network, only on N.
 * fast: MPI_Iallreduce(MPI_SUM) in place.
 * Errors: MPI_ERRORS_ARE_FATAL (the default): a rank that dies ends the whole job through mpirun.
 */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm_impl.h"
#include "status_impl.h"
#include "util/util.h"

/* A request's phase. Exact: the alltoall, then (fold, allgather) started by progress or end. Fast: one phase. */
enum phase { PHASE_FIRST, PHASE_GATHER };

struct nncl_comm_request {
    struct nncl_comm_request *next; /* the context's in-flight list (in begin order), or its free list */
    MPI_Request mpi;
    enum nncl_reduction mode;
    enum phase phase;
    float *buf, *recv; /* recv: size x (this rank's chunk), exact mode */
    size_t n, recv_cap;
    int *counts; /* 4 x size: send counts, send displacements, receive counts, receive displacements; they must
                    stay as they are until the non-blocking collective is complete, so each request has its own */
};

/*
 * Collectives on one communicator must start in the same order on every rank. Begins are in program order (the
 * same on every rank), but an exact sum's allgather starts when its alltoall is seen complete, which differs
 * between ranks; so the allgathers run on a communicator of their own (`gather`), started strictly in begin
 * order (the in-flight list's order): on that communicator too every rank starts them in the same order.
 */
struct mpi_ctx {
    int rank, size, finalize; /* finalize: this module called MPI_Init */
    MPI_Comm sums, gather;    /* duplicates of MPI_COMM_WORLD: the first phases and max; the allgathers */
    struct nncl_comm_request *free_list, *inflight;
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

/* The first phase of sum r: the fast mode's allreduce, or the exact mode's alltoall of chunks. */
static enum nncl_status start_first(struct mpi_ctx *ctx, struct nncl_comm_request *r) {
    if (r->mode == NNCL_REDUCE_FAST || ctx->size == 1) {
        r->phase = PHASE_GATHER; /* the only phase */
        MPI_TRY(MPI_Iallreduce(MPI_IN_PLACE, r->buf, (int)r->n, MPI_FLOAT, MPI_SUM, ctx->sums, &r->mpi),
                "MPI_Iallreduce");
        return NNCL_OK;
    }
    size_t off, len;
    chunk(r->n, ctx->size, ctx->rank, &off, &len);
    const size_t need = len * (size_t)ctx->size;
    if (need > r->recv_cap) {
        float *p = realloc(r->recv, need * sizeof(float));
        if (!p) return nncl_set_error(NNCL_ERR_OOM, "MPI sum: out of host memory for %zu floats", need);
        r->recv = p, r->recv_cap = need;
    }
    int *scount = r->counts, *sdispl = scount + ctx->size, *rcount = sdispl + ctx->size, *rdispl = rcount + ctx->size;
    for (int c = 0; c < ctx->size; c++) {
        size_t o, l;
        chunk(r->n, ctx->size, c, &o, &l);
        scount[c] = (int)l, sdispl[c] = (int)o;
        rcount[c] = (int)len, rdispl[c] = (int)(len * (size_t)c);
    }
    MPI_TRY(MPI_Ialltoallv(r->buf, scount, sdispl, MPI_FLOAT, r->recv, rcount, rdispl, MPI_FLOAT, ctx->sums, &r->mpi),
            "MPI_Ialltoallv");
    return NNCL_OK;
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
    r->mode = mode, r->buf = buf, r->n = n, r->next = NULL, r->phase = PHASE_FIRST, r->mpi = MPI_REQUEST_NULL;
    const enum nncl_status st = start_first(ctx, r);
    if (st) {
        r->next = ctx->free_list;
        ctx->free_list = r;
        return st;
    }
    struct nncl_comm_request **tail = &ctx->inflight; /* in flight: end() takes it off the list */
    while (*tail) tail = &(*tail)->next;
    *tail = r;
    *out = r;
    return NNCL_OK;
}

/* An exact sum whose alltoall is complete: this rank's chunk folded in rank order, then the allgather begun. */
static enum nncl_status start_gather(struct mpi_ctx *ctx, struct nncl_comm_request *r) {
    size_t off, len;
    chunk(r->n, ctx->size, ctx->rank, &off, &len);
    float *mine = r->buf + off;
    memcpy(mine, r->recv, len * sizeof(float)); /* rank 0's chunk, then the fold in rank order */
    for (int k = 1; k < ctx->size; k++) nncl_comm_fold(mine, r->recv + (size_t)k * len, len);
    int *count = r->counts, *displ = r->counts + ctx->size; /* the alltoall's counts are free now */
    for (int c = 0; c < ctx->size; c++) {
        size_t o, l;
        chunk(r->n, ctx->size, c, &o, &l);
        count[c] = (int)l, displ[c] = (int)o;
    }
    r->phase = PHASE_GATHER;
    MPI_TRY(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, r->buf, count, displ, MPI_FLOAT, ctx->gather, &r->mpi),
            "MPI_Iallgatherv");
    return NNCL_OK;
}

/*
 * Moves the in-flight sums on: MPI_Test on each (Open MPI progresses its non-blocking collectives inside such
 * calls); an exact sum whose alltoall is complete gets its fold and allgather, in begin order, so the first
 * sum still in its alltoall holds back the allgathers of later ones. With `upto`, waits instead, until every
 * sum up to and including upto is in its last phase.
 */
static enum nncl_status advance(struct mpi_ctx *ctx, const struct nncl_comm_request *upto) {
    int held = 0; /* an earlier sum is still in its alltoall */
    for (struct nncl_comm_request *r = ctx->inflight; r; r = r->next) {
        int done = 0;
        if (r->phase == PHASE_FIRST && !held) {
            if (upto) {
                MPI_TRY(MPI_Wait(&r->mpi, MPI_STATUS_IGNORE), "MPI_Wait");
                done = 1;
            } else {
                MPI_TRY(MPI_Test(&r->mpi, &done, MPI_STATUS_IGNORE), "MPI_Test");
            }
            if (done) TRY(start_gather(ctx, r));
            held = !done;
        } else if (r->mpi != MPI_REQUEST_NULL) {
            MPI_TRY(MPI_Test(&r->mpi, &done, MPI_STATUS_IGNORE), "MPI_Test"); /* sets mpi to NULL when complete */
        }
        if (r == upto) break;
    }
    return NNCL_OK;
}

static enum nncl_status mpi_progress(void *ctx_) { return advance(ctx_, NULL); }

static enum nncl_status mpi_end(void *ctx_, struct nncl_comm_request *r) {
    struct mpi_ctx *ctx = ctx_;
    enum nncl_status st = advance(ctx, r);
    if (!st) {
        const int rc = MPI_Wait(&r->mpi, MPI_STATUS_IGNORE); /* MPI_REQUEST_NULL: returns at once */
        if (rc != MPI_SUCCESS) st = mpi_error(rc, "MPI_Wait");
    }
    struct nncl_comm_request **p = &ctx->inflight;
    while (*p && *p != r) p = &(*p)->next;
    if (*p) *p = r->next;
    r->next = ctx->free_list; /* kept with its receive buffer for the next step's sums */
    ctx->free_list = r;
    return st;
}

static enum nncl_status mpi_max(void *ctx_, int *value) {
    struct mpi_ctx *ctx = ctx_;
    MPI_TRY(MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MAX, ctx->sums), "MPI_Allreduce");
    return NNCL_OK;
}

static void mpi_abort(void *ctx_, int code) {
    (void)ctx_;
    MPI_Abort(MPI_COMM_WORLD, code);
}

static void mpi_free(void *ctx_) {
    struct mpi_ctx *ctx = ctx_;
    if (!ctx) return;
    if (ctx->inflight) {
        /* sums begun and never finished (an error on this rank): the other ranks may wait in them, and in
         * MPI_Finalize this rank would wait for them; ending the job is the one way out that never hangs */
        nncl_log(NNCL_LOG_ERROR, "MPI: the communicator is freed with sums in flight; ending the job");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    while (ctx->free_list) {
        struct nncl_comm_request *r = ctx->free_list;
        ctx->free_list = r->next;
        free(r->recv);
        free(r->counts);
        free(r);
    }
    if (ctx->sums != MPI_COMM_NULL) MPI_Comm_free(&ctx->sums);
    if (ctx->gather != MPI_COMM_NULL) MPI_Comm_free(&ctx->gather);
    if (ctx->finalize) MPI_Finalize();
    free(ctx);
}

static const struct nncl_comm_i mpi_iface = {
    .name = "mpi", .sum_begin = mpi_begin, .sum_end = mpi_end, .progress = mpi_progress, .max = mpi_max,
    .abort = mpi_abort, .free = mpi_free,
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
    ctx->sums = ctx->gather = MPI_COMM_NULL;
    if (MPI_Comm_dup(MPI_COMM_WORLD, &ctx->sums) != MPI_SUCCESS || MPI_Comm_dup(MPI_COMM_WORLD, &ctx->gather) != MPI_SUCCESS) {
        mpi_free(ctx);
        return nncl_set_error(NNCL_ERR_IO, "MPI_Comm_dup failed");
    }
    int local = 0;
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, ctx->rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, &local);
        MPI_Comm_free(&node);
    }
    *c = (struct nncl_comm){.iface = &mpi_iface, .ctx = ctx, .rank = ctx->rank, .size = ctx->size, .local_rank = local};
    return NNCL_OK;
}
