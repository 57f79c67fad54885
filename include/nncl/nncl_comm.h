/*
 * nncl_comm.h: the communicator data-parallel training sums gradients through (docs/distributed.md).
 *
 * A communicator is a group of `size` processes (ranks 0 .. size-1), each holding its own model, that sum
 * host buffers of floats element by element. A sum is begun and finished, so that a caller can start it and
 * go on working (backward on earlier layers) before it waits. Two implementations: "single" (one process:
 * every sum is the buffer itself; no start-up cost) and "mpi" (Open MPI; present when libnncl was built with
 * NNCL_MPI). nncl_train reads one from options.comm; NULL is a single process.
 */
#ifndef NNCL_COMM_H
#define NNCL_COMM_H

#include <stddef.h>

#include "nncl_export.h"
#include "nncl_status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nncl_comm;
struct nncl_comm_request;

/*
 * How a sum over ranks is formed.
 *   NNCL_REDUCE_EXACT  in rank order, as a left fold ((x0 + x1) + x2) + ..., the order --accumulate sums its
 *                      micro-batches in: N ranks give the bits of one process with --accumulate N.
 *                      MPI: alltoall of chunks, the fold, allgather (a ring's bandwidth).
 *   NNCL_REDUCE_FAST   MPI_Iallreduce: every rank gets the same bits, but not those of a rank-order fold, and
 *                      another Open MPI algorithm or rank count gives other bits.
 */
enum nncl_reduction { NNCL_REDUCE_EXACT, NNCL_REDUCE_FAST, NNCL_REDUCE_COUNT };

/** "exact", "fast". */
NNCL_API const char *nncl_reduction_name(enum nncl_reduction r);
NNCL_API enum nncl_status nncl_reduction_from_name(const char *name, enum nncl_reduction *out);

/** 1 when this process was started by mpirun (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE is set), else 0. */
NNCL_API int nncl_comm_launched(void);
/** 1 when libnncl was built with MPI. */
NNCL_API int nncl_comm_have_mpi(void);

/**
 * Opens a communicator: "single"; "mpi" (initialises MPI; NNCL_ERR_UNSUPPORTED in a build without it); or
 * "auto": "mpi" when nncl_comm_launched(), else "single". Free it with nncl_comm_free (MPI_Finalize).
 */
NNCL_API enum nncl_status nncl_comm_open(const char *kind, struct nncl_comm **out);
NNCL_API void nncl_comm_free(struct nncl_comm *c);
/**
 * Ends every rank of the job with exit status `code` (MPI_Abort), for a rank that fails on its own while the
 * others may be waiting for it in a sum: freeing the communicator instead would wait in MPI_Finalize for ranks
 * that never get there. Does not return with MPI; with one process it does nothing.
 */
NNCL_API void nncl_comm_abort(struct nncl_comm *c, int code);

NNCL_API int nncl_comm_rank(const struct nncl_comm *c);
NNCL_API int nncl_comm_size(const struct nncl_comm *c);
/** The rank among the processes on this machine (OpenCL devices are chosen by it). */
NNCL_API int nncl_comm_local_rank(const struct nncl_comm *c);
/** "single" or "mpi". */
NNCL_API const char *nncl_comm_name(const struct nncl_comm *c);

/**
 * Starts summing buf[0 .. n) over all ranks, in place; every rank calls it with the same n and mode, and the
 * sums of one step in the same order. buf must not be touched until nncl_comm_sum_end(*req) returned.
 */
NNCL_API enum nncl_status nncl_comm_sum_begin(struct nncl_comm *c, float *buf, size_t n, enum nncl_reduction mode,
                                              struct nncl_comm_request **req);
/**
 * Lets the sums begun and not yet finished advance, without waiting (MPI: MPI_Test on each; the exact mode's
 * second phase starts here once its first is complete). Open MPI 4.1 moves a non-blocking collective on only
 * inside MPI calls, so a caller that computes between nncl_comm_sum_begin and _end calls this between pieces
 * of work (the trainer: after every layer's backward). A no-op for one process.
 */
NNCL_API enum nncl_status nncl_comm_progress(struct nncl_comm *c);
/**
 * Waits for a sum begun by nncl_comm_sum_begin; buf then holds the sum on every rank. Frees req. Several sums
 * may be outstanding; every rank finishes them in the same order.
 */
NNCL_API enum nncl_status nncl_comm_sum_end(struct nncl_comm *c, struct nncl_comm_request *req);
/** Begin and end. */
NNCL_API enum nncl_status nncl_comm_sum(struct nncl_comm *c, float *buf, size_t n, enum nncl_reduction mode);
/** The largest of every rank's `value` (a stop flag every rank must agree on). */
NNCL_API enum nncl_status nncl_comm_max(struct nncl_comm *c, int *value);

/**
 * The exact mode's fold step, acc[i] = acc[i] + x[i], the one addition both --accumulate and the exact
 * reduction use, so their sums have the same bits.
 */
NNCL_API void nncl_comm_fold(float *acc, const float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_COMM_H */
