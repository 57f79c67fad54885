/*
 * comm_impl.h: the communicator's interface (internal). A communicator is an interface struct plus an opaque
 * context, reached only through the nncl_comm_* wrappers in comm.c (the backend's idiom, STYLE.md 9.1).
 * comm.c holds the single-process implementation; comm_mpi.c, compiled only with NNCL_MPI, the MPI one.
 */
#ifndef NNCL_COMM_IMPL_H
#define NNCL_COMM_IMPL_H

#include "nncl/nncl_comm.h"

struct nncl_comm_i {
    const char *name;
    enum nncl_status (*sum_begin)(void *ctx, float *buf, size_t n, enum nncl_reduction mode,
                                  struct nncl_comm_request **req);
    enum nncl_status (*sum_end)(void *ctx, struct nncl_comm_request *req);
    enum nncl_status (*progress)(void *ctx); /* optional (NULL: sums need no help to advance) */
    enum nncl_status (*max)(void *ctx, int *value);
    void (*abort)(void *ctx, int code); /* optional (NULL: one process, nothing to end) */
    void (*free)(void *ctx);
};

struct nncl_comm {
    const struct nncl_comm_i *iface;
    void *ctx;
    int rank, size, local_rank;
};

#ifdef NNCL_HAVE_MPI
/* comm_mpi.c: initialises MPI (MPI_Init_thread, unless already initialised) and fills *c. */
enum nncl_status comm_mpi_open(struct nncl_comm *c);
#endif

#endif /* NNCL_COMM_IMPL_H */
