/*
 * ocl_tuning.h: CLBlast GEMM parameters tuned for one device and driver by `nncl tune`: where they are
 * stored, how the file reads, and how the backend applies them when it starts. Internal to the library.
 *
 * CLBlast ships parameters for the devices its authors measured; for any other device (PoCL on a CPU,
 * say) it falls back to generic ones that can be several times slower. `nncl tune` runs CLBlast's own
 * tuner (Debian's clblast-utils) for the selected device, keeps the best GEMM kernel parameters in the
 * user's cache, one file per device and driver, and every OpenCL backend created afterwards hands them
 * to CLBlastOverrideParameters before its first product.
 *
 * The file ($XDG_CACHE_HOME/nncl/tuning/<device>--<driver>.txt, or ~/.cache/nncl/tuning/...) is text:
 *
 *     # comment
 *     device pthread-skylake-avx512-AMD EPYC      the CL_DEVICE_NAME it was tuned on
 *     driver 3.1+debian                           its CL_DRIVER_VERSION
 *     clblast 1.5.3                               the CLBlast whose parameter names it uses
 *     kernel Xgemm                                a CLBlast kernel family; NAME VALUE lines follow
 *     GEMMK 0
 *     ...
 *     kernel GemmRoutine
 *     XGEMM_MIN_INDIRECT_SIZE 64
 *
 * Deleting the file untunes the device. This header has no OpenCL types, so any file may include it.
 */
#ifndef NNCL_CL_TUNING_H
#define NNCL_CL_TUNING_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl_status.h"

struct nncl_backend;
struct ocl_state;

/* CLBlast's Xgemm has 16 parameters; GemmRoutine 1. Room for a later CLBlast's additions. */
#define OCL_TUNING_MAX_KERNELS 4
#define OCL_TUNING_MAX_PARAMS 32
#define OCL_TUNING_NAME_LEN 40

/* One kernel family's parameters, as CLBlastOverrideParameters takes them. */
struct ocl_tuning_kernel {
    char name[OCL_TUNING_NAME_LEN]; /* "Xgemm", "XgemmDirect", "GemmRoutine", ... */
    size_t n_params;
    char names[OCL_TUNING_MAX_PARAMS][OCL_TUNING_NAME_LEN];
    size_t values[OCL_TUNING_MAX_PARAMS];
};

/* The content of one tuning file. */
struct ocl_tuning_set {
    char device[128];  /* CL_DEVICE_NAME */
    char driver[64];   /* CL_DRIVER_VERSION */
    char clblast[32];  /* "1.5.3" */
    size_t n_kernels;
    struct ocl_tuning_kernel kernels[OCL_TUNING_MAX_KERNELS];
};

/*
 * Writes the path of the tuning file for this device and driver into out[0..cap): the cache directory
 * ($XDG_CACHE_HOME/nncl/tuning, else $HOME/.cache/nncl/tuning, else /tmp/nncl-cache/tuning) and a file
 * name made of the device and driver with anything but [A-Za-z0-9.+_-] replaced by '_'.
 */
void ocl_tuning_path(const char *device_name, const char *driver, char *out, size_t cap);

/* For `nncl devices` (through nncl_opencl_device_tuned): 1 when this device and driver have a tuning file
 * that ocl_tuning_apply would apply, 0 when there is none, -1 when there is one it would not (written for
 * another CLBlast version or device, or malformed). */
int ocl_tuning_available(const char *device_name, const char *driver);

/*
 * Reads a tuning file. NNCL_ERR_IO when it cannot be opened; NNCL_ERR_FORMAT naming the file and line
 * when a line is malformed (an unknown key, a value that is not a number, a parameter before any
 * `kernel` line, too many kernels or parameters).
 */
enum nncl_status ocl_tuning_load(const char *path, struct ocl_tuning_set *out);

/*
 * Writes `set` to the file for set->device and set->driver, creating the cache directories; the file is
 * replaced atomically (nncl_atomic_replace: a temporary file, fsync, rename, fsync of the folder), so a
 * reader never sees half a file, nor a crash leaves one. `path` (may be NULL) receives where it went.
 */
enum nncl_status ocl_tuning_store(const struct ocl_tuning_set *set, char *path, size_t path_cap);

/* Hands every kernel family of `set` to CLBlastOverrideParameters for st's device (single precision).
 * NNCL_ERR_CLBLAST naming the kernel when CLBlast refuses (a missing or unknown parameter). */
enum nncl_status ocl_tuning_override(struct ocl_state *st, const struct ocl_tuning_set *set);

/*
 * At backend start: loads this device's tuning file, if any, and applies it. *applied is 1 when
 * parameters were applied, 0 when there is no file, when it was written for another CLBlast version
 * (a warning says to run `nncl tune` again) or while nncl_opencl_tune measures CLBlast's own
 * parameters, or when NNCL_CLBLAST_TUNING is "off" or "0". A malformed file, or one CLBlast refuses, is an error naming the file (and line), with
 * the hint to delete it or tune again.
 */
enum nncl_status ocl_tuning_apply(struct ocl_state *st, int *applied);

/* "tuned (fnv1a:...)" with a hash of the applied file's parameters, or "untuned": for
 * nncl_backend_versions(), so results (and the CLBlast guard) are traced to the parameters used. */
void ocl_tuning_describe(const struct ocl_state *st, char *out, size_t cap);

/* For src/tune/ (nncl_opencl_tune), which sees an OpenCL backend only through this header: the backend's
 * state (`be` must be an OpenCL backend), its device's CL_DEVICE_NAME, and a set started for its device
 * (zeroed, with device, driver and clblast filled in). */
struct ocl_state *ocl_tuning_state(struct nncl_backend *be);
const char *ocl_tuning_device_name(const struct ocl_state *st);
void ocl_tuning_set_init(const struct ocl_state *st, struct ocl_tuning_set *set);

/* For src/tune/: the installed CLBlast's version as tuning files name it ("1.5.3"); whether parameters were
 * applied to st's device in this process (and their hash); ocl_tuning_suspend(1) makes ocl_tuning_apply a
 * no-op until ocl_tuning_suspend(0), so the tuner can open a backend with CLBlast's own parameters. */
void ocl_tuning_clblast_version(char *out, size_t cap);
int ocl_tuning_applied(const struct ocl_state *st, uint64_t *hash);
void ocl_tuning_suspend(int on);

#endif /* NNCL_CL_TUNING_H */
