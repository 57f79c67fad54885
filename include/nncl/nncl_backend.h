/*
 * nncl_backend.h: backends, the buffers they own and the tensors that view those buffers.
 *
 * A backend is a compute device behind one interface: "cpu" (the pure-C reference) or "opencl".
 * Memory lives in buffers that the backend allocates and owns; a tensor is a plain value, a 2-D
 * row-major float32 view (rows x cols) into a buffer at an element offset, so many tensors can share
 * one allocation (all parameters of a model, say). Tensors never own memory.
 *
 * Ownership: whoever creates a backend or a buffer frees it; every *_free accepts NULL. Free all
 * buffers of a backend before the backend.
 */
#ifndef NNCL_BACKEND_H
#define NNCL_BACKEND_H

#include <stddef.h>

#include "nncl_status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nncl_backend;
struct nncl_buffer;

/** A 2-D row-major float32 view: element (r, c) is at buffer float index offset + r * cols + c. */
struct nncl_tensor {
    struct nncl_buffer *buffer; /* borrowed; NULL marks "no tensor" */
    size_t offset;              /* in elements (floats), not bytes */
    size_t rows;
    size_t cols;
};

/**
 * Creates a backend by name: "cpu", "opencl" (device from NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE),
 * or "auto" (an OpenCL GPU when there is one, the CPU reference otherwise; an explicit device choice that
 * matches nothing is an error for both "opencl" and "auto").
 * @param out receives the backend; the caller frees it with nncl_backend_free().
 * @return NNCL_OK, NNCL_ERR_INVALID_ARG for an unknown name, NNCL_ERR_UNSUPPORTED when the library was
 *         built without that backend, NNCL_ERR_NO_DEVICE and others when the device cannot be opened.
 */
NNCL_API enum nncl_status nncl_backend_init(const char *name, struct nncl_backend **out);

/**
 * Why the last nncl_backend_init("auto") chose the backend it did, in words: "an OpenCL GPU", "OpenCL
 * device <name> is not a GPU (...)", "no OpenCL platform (...)", "this nncl was built without OpenCL", ...
 * When NNCL_OPENCL_PLATFORM or NNCL_OPENCL_DEVICE is set and the device does not open, "auto" fails (the
 * same error as "opencl") rather than falling back to the CPU.
 * @return a string owned by the library, valid until the next nncl_backend_init("auto"); not thread-safe.
 */
NNCL_API const char *nncl_backend_auto_reason(void);

/** Releases the backend and everything it owns (queues, programs). NULL is a no-op. */
NNCL_API void nncl_backend_free(struct nncl_backend *be);

/** "cpu" or "opencl"; owned by the backend. */
NNCL_API const char *nncl_backend_name(const struct nncl_backend *be);

/** A one-line description of the device ("CPU reference", or the OpenCL device and driver). */
NNCL_API const char *nncl_backend_device(const struct nncl_backend *be);

/**
 * What a result on this backend depends on, in one line: the nncl version, and for OpenCL the device,
 * its OpenCL version, the driver, the CLBlast version and a hash of the kernel sources. Written into
 * model files and run manifests so a result can be traced to what produced it.
 */
NNCL_API const char *nncl_backend_versions(const struct nncl_backend *be);

/**
 * Sets how many host threads the backend's ops may use. The CPU reference splits its products and its
 * larger element-wise ops over them; results are bit-identical for any count (every sum keeps one
 * order). OpenCL ignores it (the device schedules its own work).
 * @param threads 1 or more; 0 restores the default: the cores OpenMP sees (OMP_NUM_THREADS, else all).
 * @return NNCL_OK, NNCL_ERR_INVALID_ARG for a negative count or a NULL backend.
 */
NNCL_API enum nncl_status nncl_backend_set_threads(struct nncl_backend *be, int threads);

/** The host threads the backend's ops use now (1 in a build without OpenMP). */
NNCL_API int nncl_backend_threads(const struct nncl_backend *be);

/** Blocks until all work queued on the backend has finished; reports the first asynchronous error. */
NNCL_API enum nncl_status nncl_backend_synchronize(struct nncl_backend *be);

/**
 * The device's memory in bytes and the largest single buffer it can allocate (for the CPU reference:
 * the machine's physical memory for both). Used to refuse nets that cannot fit before training.
 */
NNCL_API enum nncl_status nncl_backend_memory(struct nncl_backend *be, size_t *total, size_t *max_alloc);

/** Where a device spent a profiled stretch of work (nncl_backend_profile_stop), in milliseconds. */
struct nncl_profile {
    double gemm_ms;      /* CLBlast: from the end of the previous command to the end of its GEMM, so the
                            helper kernels CLBlast enqueues (padding, transposes) count as GEMM time */
    double kernel_ms;    /* nncl's own kernels */
    double transfer_ms;  /* host <-> device copies */
    double span_ms;      /* first command's start to the last command's end on the device */
    double idle_ms;      /* span minus the above: launch gaps the device spent waiting */
    size_t gemm_calls, kernel_launches, transfers;
};

/**
 * Starts recording the device time of every command queued on `be` (OpenCL only; the CPU reference
 * returns NNCL_ERR_UNSUPPORTED). Recording costs an event per command: for benchmarks, not training.
 */
NNCL_API enum nncl_status nncl_backend_profile_start(struct nncl_backend *be);
/** Waits for the queued work, stops recording and sums it up. */
NNCL_API enum nncl_status nncl_backend_profile_stop(struct nncl_backend *be, struct nncl_profile *out);

/** Names of the backends compiled into this library, NULL-terminated; for tests and benchmarks. */
NNCL_API const char *const *nncl_backend_list(void);

/**
 * Allocates `nbytes` of backend memory (not initialised).
 * @param out receives the buffer; free it with nncl_buffer_free() before freeing the backend.
 */
NNCL_API enum nncl_status nncl_buffer_alloc(struct nncl_backend *be, size_t nbytes, struct nncl_buffer **out);

/** NULL is a no-op. */
NNCL_API void nncl_buffer_free(struct nncl_buffer *buf);

/** Size in bytes, and the backend the buffer belongs to. */
NNCL_API size_t nncl_buffer_size(const struct nncl_buffer *buf);
NNCL_API struct nncl_backend *nncl_buffer_backend(const struct nncl_buffer *buf);

/** A view of rows x cols floats starting at float index `offset` of `buf` (no checks: see ops). */
NNCL_API struct nncl_tensor nncl_tensor_view(struct nncl_buffer *buf, size_t offset, size_t rows, size_t cols);

/** rows * cols. */
NNCL_API size_t nncl_tensor_count(const struct nncl_tensor *t);

/**
 * Copies `n` floats from host memory into the tensor (n must equal rows * cols). Blocks until `src`
 * may be reused. Fails with NNCL_ERR_SHAPE when the tensor does not fit in its buffer.
 */
NNCL_API enum nncl_status nncl_tensor_set(const struct nncl_tensor *t, const float *src, size_t n);

/** Copies the tensor's rows * cols floats to host memory; waits for queued work that writes it. */
NNCL_API enum nncl_status nncl_tensor_get(const struct nncl_tensor *t, float *dst, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_BACKEND_H */
