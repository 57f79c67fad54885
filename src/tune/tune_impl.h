/*
 * tune_impl.h: what the files of nncl_opencl_tune (`nncl tune`) share. Internal; module "tune" of the
 * module map in docs/architecture.md, above the validator (it checks the tuned products with check/) and
 * the registry (it opens its own backends), so src/opencl/ needs neither.
 *
 *   tune.c         the orchestration: time CLBlast's own parameters, run the tuner, try its best few on the
 *                  net's shapes, check the winner against the CPU reference, store it (ocl_tuning.c's file)
 *   tune_bench.c   timing the net's products on a backend, through the public op API
 *   tune_runner.c  running CLBlast's tuner as a child process (fork, pipe, poll) and reading what it reports
 *   tune_isolate.c checking each candidate in a child process (fork, exec, poll), so a crash or hang is its own
 *
 * The OpenCL backend is seen only through opencl/ocl_tuning.h, which has no OpenCL types.
 */
#ifndef NNCL_TUNE_IMPL_H
#define NNCL_TUNE_IMPL_H

#include <stddef.h>

#include "nncl/nncl.h"
#include "opencl/ocl_tuning.h"
#include "status_impl.h"

#define TUNE_TUNER_BINARY "clblast_tuner_xgemm"
#define TUNE_INSTALL_HINT "install Debian's clblast-utils (bash cmake/install_deps.sh --bench)"

/* ---- timing the net's products (tune_bench.c) ---- */

/* Tensors for every shape (one buffer each: a, b, c), filled with random numbers. */
struct tune_bench {
    size_t n;
    struct nncl_buffer *buf[NNCL_TUNE_MAX_SHAPES + 1];
    struct nncl_tensor a[NNCL_TUNE_MAX_SHAPES + 1], b[NNCL_TUNE_MAX_SHAPES + 1], c[NNCL_TUNE_MAX_SHAPES + 1];
    int ta[NNCL_TUNE_MAX_SHAPES + 1], tb[NNCL_TUNE_MAX_SHAPES + 1];
};

void tune_bench_free(struct tune_bench *b);
/* Adds one product of shape `s` to `bn`, its a and b filled from `rng`. */
enum nncl_status tune_bench_add(struct nncl_backend *be, struct tune_bench *bn, const struct nncl_gemm_shape *s,
                                uint64_t *rng);
/*
 * Times products [first, last) of `bn`: `pass_ms` the fastest of `repeats` runs of all of them queued back to
 * back with one wait at the end (as a training step queues them); `each_ms` (may be NULL) each one alone.
 * One untimed pass first, so CLBlast's compile (seconds on PoCL) is not counted.
 */
enum nncl_status tune_bench_time(struct nncl_backend *be, const struct tune_bench *bn, size_t first, size_t last,
                                 int repeats, double *pass_ms, double *each_ms);

/* ---- running CLBlast's tuner (tune_runner.c) ---- */

/* The tuner's best few configurations, fastest first: at most TUNE_TOP_PER_GEMMK for each of its two kernels
 * (GEMMK 0 and 1), so that if one kernel's configurations prove wrong on the net's shapes (it happens: the
 * tuner checks only its own cube, and with CLBlast 1.5.3 on PoCL 3.1 the GEMMK=1 ones gave garbage on the
 * Fashion-MNIST shapes) the other's are still there. Three of a kind, because the tuner's order on its
 * cube is not the order on a net's products: on PoCL its third best was the fastest on the net. */
#define TUNE_TOP_PER_GEMMK 3
#define TUNE_TOP_K (2 * TUNE_TOP_PER_GEMMK)
struct tune_candidates {
    size_t n;
    double ms[TUNE_TOP_K];
    struct ocl_tuning_kernel k[TUNE_TOP_K];
};

/* The value of parameter `name` in `k`, 0 when it has none. */
size_t tune_param_of(const struct ocl_tuning_kernel *k, const char *name);
/* Appends NAME VALUE to `k` (dropped when `k` is full or the name too long). */
void tune_kernel_add_param(struct ocl_tuning_kernel *k, const char *name, size_t value);

/* The first executable `name` on PATH into out[0..cap); 0 when there is none. */
int tune_find_on_path(const char *name, char *out, size_t cap);

/*
 * Runs the tuner `tuner` (a path) for OpenCL platform and device at m = n = k = `size` on 1/`divisor` of its
 * configurations, in a fresh temporary directory (it writes its JSON files into the working directory),
 * reading its output as it goes; stops it after `limit_s` and keeps what it timed until then. `out` gets
 * the best few, `timed` how many it timed, `stopped` whether the limit stopped it.
 */
enum nncl_status tune_run_tuner(char *tuner, int platform, int device, size_t size, double divisor,
                                const struct nncl_tune_options *opt, double limit_s, struct tune_candidates *out,
                                size_t *timed, int *stopped);

/* ---- checking a candidate, in a child process (tune.c, tune_isolate.c) ---- */

/* Checks the Xgemm parameters `params` ("GEMMK=0 KREG=1 ...") on every shape against the CPU reference, in
 * guarded buffers (check_op_case), on a backend of its own: what the child runs. The first wrong product (or
 * overwritten guard) goes into `wrong`, empty when all agree; an error status only when it could not run. */
enum nncl_status tune_check_candidate(const char *params, const struct nncl_gemm_shape *shapes, size_t n, char *wrong,
                                      size_t cap);
/* Shapes as one argument, "m,n,k,ta,tb;m,n,k,ta,tb;...", and back (an error naming the text). */
void tune_shapes_format(const struct nncl_gemm_shape *s, size_t n, char *out, size_t cap);
enum nncl_status tune_shapes_parse(const char *text, struct nncl_gemm_shape *s, size_t cap, size_t *n);
/* Runs `exe tune --check-candidate params --shapes ...` and waits up to timeout_s: `reason` gets why the
 * candidate is refused (wrong result, crash, hang, a failed check), empty when it passed. An error status only
 * when the child could not be started. */
enum nncl_status tune_isolated_check(const char *exe, const char *params, const struct nncl_gemm_shape *shapes,
                                     size_t n, double timeout_s, char *reason, size_t cap);

/* ---- reporting (tune.c) ---- */

/* One progress line: to the log at info level and to opt->progress when set. */
void tune_progress(const struct nncl_tune_options *opt, const char *fmt, ...) NNCL_PRINTF(2, 3);

#endif /* NNCL_TUNE_IMPL_H */
