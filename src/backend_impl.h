/*
 * backend_impl.h: what a backend implements. Internal to the library (and its tests).
 *
 * A backend is `struct nncl_backend { iface; context; }`: a table of function pointers filled in by
 * the backend's init function and an opaque context that only that backend reads. The public
 * nncl_backend_* / nncl_buffer_* / nncl_op_* functions in backend.c and ops.c are the only callers
 * of `iface`; they check arguments and shapes first, so a backend may assume valid calls.
 */
#ifndef NNCL_BACKEND_IMPL_H
#define NNCL_BACKEND_IMPL_H

#include "nncl/nncl.h"

/* Runs one op whose shapes ops.c has already checked. Queues work; never waits for it. */
typedef enum nncl_status (*nncl_op_fn)(struct nncl_backend *be, const struct nncl_op_call *call);

struct nncl_backend_i {
    const char *name;                                                    /* "cpu", "opencl" */
    void (*free)(struct nncl_backend *be);                               /* releases context */
    enum nncl_status (*buffer_alloc)(struct nncl_backend *be, struct nncl_buffer *buf); /* sets handle */
    void (*buffer_free)(struct nncl_backend *be, struct nncl_buffer *buf);
    enum nncl_status (*buffer_write)(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                     const void *src, size_t nbytes);     /* blocking */
    enum nncl_status (*buffer_read)(struct nncl_backend *be, struct nncl_buffer *buf, size_t byte_offset,
                                    void *dst, size_t nbytes);            /* blocking */
    enum nncl_status (*synchronize)(struct nncl_backend *be);            /* optional: NULL = synchronous */
    enum nncl_status (*profile_start)(struct nncl_backend *be);                      /* optional */
    enum nncl_status (*profile_stop)(struct nncl_backend *be, struct nncl_profile *out); /* optional */
    /* total memory and the largest single allocation, in bytes */
    enum nncl_status (*memory)(struct nncl_backend *be, size_t *total, size_t *max_alloc);
    const nncl_op_fn *ops;                                               /* [NNCL_OP_COUNT]; NULL = unsupported */
};

struct nncl_backend {
    struct nncl_backend_i iface;
    void *context;       /* struct cpu_context, struct ocl_state, ... */
    char device[512];    /* one line for nncl_backend_device() */
    char versions[768];  /* nncl_backend_versions(): everything a result depends on */
    int threads;         /* host threads the ops may use, >= 1 (nncl_backend_set_threads) */
};

/* The default for threads: what OpenMP sees (OMP_NUM_THREADS, else the cores); 1 without OpenMP. */
int nncl_default_threads(void);

struct nncl_buffer {
    struct nncl_backend *backend;
    size_t size;         /* bytes */
    void *handle;        /* the CPU backend: a host pointer; OpenCL: a cl_mem */
};

/* Backend constructors, reached through nncl_backend_init() (backend_registry.c). */
enum nncl_status nncl_cpu_backend_init(struct nncl_backend **out);
#ifdef NNCL_USE_OPENCL
enum nncl_status nncl_opencl_backend_init(struct nncl_backend **out);
int nncl_opencl_backend_is_gpu(const struct nncl_backend *be);
/* 1 when NNCL_OPENCL_PLATFORM or NNCL_OPENCL_DEVICE is set and not empty: a device was asked for by the user
 * (ocl_device.c, the one reader of those variables). */
int nncl_opencl_device_choice_given(void);
#endif

#endif /* NNCL_BACKEND_IMPL_H */
