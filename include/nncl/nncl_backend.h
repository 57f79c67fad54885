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
 * or "auto" (an OpenCL GPU when there is one, the CPU reference otherwise).
 * @param out receives the backend; the caller frees it with nncl_backend_free().
 * @return NNCL_OK, NNCL_ERR_INVALID_ARG for an unknown name, NNCL_ERR_UNSUPPORTED when the library was
 *         built without that backend, NNCL_ERR_NO_DEVICE and others when the device cannot be opened.
 */
enum nncl_status nncl_backend_init(const char *name, struct nncl_backend **out);

/** Releases the backend and everything it owns (queues, programs). NULL is a no-op. */
void nncl_backend_free(struct nncl_backend *be);

/** "cpu" or "opencl"; owned by the backend. */
const char *nncl_backend_name(const struct nncl_backend *be);

/** A one-line description of the device ("CPU reference", or the OpenCL device and driver). */
const char *nncl_backend_device(const struct nncl_backend *be);

/**
 * What a result on this backend depends on, in one line: the nncl version, and for OpenCL the device,
 * its OpenCL version, the driver, the CLBlast version and a hash of the kernel sources. Written into
 * model files and run manifests so a result can be traced to what produced it.
 */
const char *nncl_backend_versions(const struct nncl_backend *be);

/** Blocks until all work queued on the backend has finished; reports the first asynchronous error. */
enum nncl_status nncl_backend_synchronize(struct nncl_backend *be);

/**
 * The device's memory in bytes and the largest single buffer it can allocate (for the CPU reference:
 * the machine's physical memory for both). Used to refuse nets that cannot fit before training.
 */
enum nncl_status nncl_backend_memory(struct nncl_backend *be, size_t *total, size_t *max_alloc);

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
enum nncl_status nncl_backend_profile_start(struct nncl_backend *be);
/** Waits for the queued work, stops recording and sums it up. */
enum nncl_status nncl_backend_profile_stop(struct nncl_backend *be, struct nncl_profile *out);

/** Names of the backends compiled into this library, NULL-terminated; for tests and benchmarks. */
const char *const *nncl_backend_list(void);

/** One OpenCL device, as nncl_opencl_list_devices() reports it. */
struct nncl_device_info {
    int platform_index;
    int device_index;           /* within its platform */
    char platform[128];
    char name[128];
    char version[128];          /* "OpenCL 3.0 CUDA", ... */
    char driver[64];
    unsigned long long global_mem_bytes;
    unsigned compute_units;
    int is_gpu;
    int is_selected;            /* the device "opencl" would open now (NNCL_OPENCL_PLATFORM/DEVICE) */
};

/**
 * Lists the OpenCL devices of every platform into out[0..cap) and sets *count to how many exist (which
 * may exceed cap). NNCL_ERR_UNSUPPORTED in a build without OpenCL; NNCL_ERR_NO_DEVICE when no
 * platform is installed (with *count = 0).
 */
enum nncl_status nncl_opencl_list_devices(struct nncl_device_info *out, size_t cap, size_t *count);

/* ---- tuning CLBlast for a device (nncl tune; docs/tuning.md) ---- */

/** One matrix product as nncl_op_gemm runs it: c (m x n) = op(a) op(b), inner dimension k. */
struct nncl_gemm_shape {
    size_t m, n, k;
    int trans_a, trans_b;
};

#define NNCL_TUNE_MAX_SHAPES 64
#define NNCL_TUNE_DEFAULT_FRACTION 0.002      /* of the tuner's ~138,000 GEMM configurations: ~275 */
#define NNCL_TUNE_DEFAULT_TIME_LIMIT_S 300.0

/** What nncl_opencl_tune may spend. Zero fields take the defaults; a NULL options pointer means all defaults. */
struct nncl_tune_options {
    double fraction;     /* share of the tuner's configurations to time, 0 < f <= 1 (NNCL_TUNE_DEFAULT_FRACTION) */
    double time_limit_s; /* the tuner is stopped after this long, keeping its best so far (default 300) */
    size_t tune_size;    /* m = n = k the tuner times, a multiple of 128; 0: derived from the shapes */
    void (*progress)(const char *line, void *user); /* optional: one line per step, for a command's output */
    void *user;
};

/** What nncl_opencl_tune did and measured. */
struct nncl_tune_result {
    char device[512];            /* nncl_backend_device() of the tuned device */
    double untuned_ms, tuned_ms; /* the shapes' products queued once each: the fastest of 25 runs */
    double untuned_gflops_1024, tuned_gflops_1024; /* one 1024^3 product */
    size_t tune_size;            /* m = n = k the tuner timed */
    size_t configurations;       /* how many the tuner timed */
    double tuner_seconds;
    int tuner_stopped;           /* it hit the time limit */
    double tuner_best_gflops;    /* at tune_size */
    char xgemm_params[512];      /* the kept Xgemm parameters, "GEMMK=0 KREG=1 ..." */
    size_t min_indirect_size;    /* the kept XGEMM_MIN_INDIRECT_SIZE */
    int verified;                /* the tuned products matched the CPU reference on every shape */
    int stored;                  /* written to `path` (only when faster than CLBlast's own parameters) */
    int baseline_tuned;          /* parameters were already applied in this process: "untuned" is theirs */
    char path[600];              /* the device's tuning file */
};

/**
 * Tunes CLBlast's GEMM for the OpenCL device `nncl_backend_init("opencl")` opens (NNCL_OPENCL_PLATFORM /
 * NNCL_OPENCL_DEVICE): times `shapes` with CLBlast's own parameters, runs clblast_tuner_xgemm (Debian's
 * clblast-utils) for that device, times the tuner's best few on `shapes` and picks XGEMM_MIN_INDIRECT_SIZE,
 * checks the result against the CPU reference, and stores the parameters in the user's cache when they
 * are faster. Every OpenCL backend created afterwards on that device and driver applies them. Takes
 * minutes; the CLBlast parameters it tried stay in effect in this process.
 * @return NNCL_OK (see out->stored), NNCL_ERR_UNSUPPORTED without OpenCL or without the tuner binary,
 *         NNCL_ERR_CLBLAST when the tuner finds nothing valid or the tuned products are wrong, and others.
 */
enum nncl_status nncl_opencl_tune(const struct nncl_gemm_shape *shapes, size_t n_shapes,
                                  const struct nncl_tune_options *options, struct nncl_tune_result *out);

/**
 * Whether `nncl tune` parameters apply to this device and driver: 1 yes, 0 no file, -1 a file that will not
 * be applied (written for another CLBlast version, or malformed). `path` (may be NULL) receives the file's path.
 */
int nncl_opencl_device_tuned(const struct nncl_device_info *dev, char *path, size_t cap);

/**
 * Allocates `nbytes` of backend memory (not initialised).
 * @param out receives the buffer; free it with nncl_buffer_free() before freeing the backend.
 */
enum nncl_status nncl_buffer_alloc(struct nncl_backend *be, size_t nbytes, struct nncl_buffer **out);

/** NULL is a no-op. */
void nncl_buffer_free(struct nncl_buffer *buf);

/** Size in bytes, and the backend the buffer belongs to. */
size_t nncl_buffer_size(const struct nncl_buffer *buf);
struct nncl_backend *nncl_buffer_backend(const struct nncl_buffer *buf);

/** A view of rows x cols floats starting at float index `offset` of `buf` (no checks: see ops). */
struct nncl_tensor nncl_tensor_view(struct nncl_buffer *buf, size_t offset, size_t rows, size_t cols);

/** rows * cols. */
size_t nncl_tensor_count(const struct nncl_tensor *t);

/**
 * Copies `n` floats from host memory into the tensor (n must equal rows * cols). Blocks until `src`
 * may be reused. Fails with NNCL_ERR_SHAPE when the tensor does not fit in its buffer.
 */
enum nncl_status nncl_tensor_set(const struct nncl_tensor *t, const float *src, size_t n);

/** Copies the tensor's rows * cols floats to host memory; waits for queued work that writes it. */
enum nncl_status nncl_tensor_get(const struct nncl_tensor *t, float *dst, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_BACKEND_H */
