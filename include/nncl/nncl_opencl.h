/*
 * nncl_opencl.h: the API that exists only for the OpenCL backend: listing devices and tuning CLBlast's
 * GEMM for one (nncl tune, docs/tuning.md). In a build without OpenCL these calls return
 * NNCL_ERR_UNSUPPORTED. Everything else (ops, training) goes through the generic backend interface.
 */
#ifndef NNCL_OPENCL_H
#define NNCL_OPENCL_H

#include <stddef.h>

#include "nncl_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

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
NNCL_API enum nncl_status nncl_opencl_list_devices(struct nncl_device_info *out, size_t cap, size_t *count);

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
    /* optional: a program that checks one candidate when run as `<isolate_exe> tune --check-candidate PARAMS
     * --shapes SHAPES` (the nncl command does: `nncl tune` passes itself). Each of the tuner's candidates is then
     * checked in a child process first, so a crash, a hang (candidate_timeout_s) or a wrong result there skips
     * the candidate with a one-line reason and tuning goes on. NULL: candidates are checked in this process. */
    const char *isolate_exe;
    double candidate_timeout_s; /* the child's limit, at most 3600 s; 0: 300 s (CLBlast's compile takes seconds on
                                 * PoCL); `nncl tune --candidate-timeout S` sets it */
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
NNCL_API enum nncl_status nncl_opencl_tune(const struct nncl_gemm_shape *shapes, size_t n_shapes,
                                  const struct nncl_tune_options *options, struct nncl_tune_result *out);

/**
 * Whether `nncl tune` parameters apply to this device and driver: 1 yes, 0 no file, -1 a file that will not
 * be applied (written for another CLBlast version, or malformed). `path` (may be NULL) receives the file's path.
 */
NNCL_API int nncl_opencl_device_tuned(const struct nncl_device_info *dev, char *path, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_OPENCL_H */
