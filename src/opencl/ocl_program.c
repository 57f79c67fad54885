/*
 * ocl_program.c: OpenCL programs built on first use and cached per backend.
 *
 * Each kernels/<file>.cl is compiled together with kernels/common.cl (the prelude) into one program the
 * first time one of its kernels is needed; building everything at start-up would cost every short-lived
 * process (each Criterion test is one) seconds of compiling. The sources are embedded into the library
 * at build time (cmake/nncl_embed.cmake) or, in a build with NNCL_OPENCL_EMBED_KERNELS=OFF, read from
 * the source tree's kernels/ folder, for kernel work without rebuilding.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_impl.h"
#include "philox_impl.h"
#include "util/util.h"

#ifdef NNCL_EMBED_KERNELS
#include "nncl_cl_activations.h"
#include "nncl_cl_common.h"
#include "nncl_cl_elementwise.h"
#include "nncl_cl_losses.h"
#include "nncl_cl_optim.h"
#include "nncl_cl_softmax.h"
#define EMBEDDED(name) (const char *)nncl_cl_##name
#else
#define EMBEDDED(name) NULL
#endif

/* The activation constants of the kernels, "NNCL_ACT_<ID>", in enum nncl_act order (NNCL_ACT_LIST). */
#define ACT_MACRO_(ID, ...) "NNCL_ACT_" #ID,
static const char *const act_macros[] = {NNCL_ACT_LIST(ACT_MACRO_)};
static_assert(sizeof act_macros / sizeof act_macros[0] == NNCL_ACT_COUNT, "one kernel constant per activation");

/*
 * Options every program is built with, as CLBlast passes its tuned constants: the language version, then
 * -DNNCL_ACT_<ID>=<value> for every activation, so the kernels see the values of enum nncl_act without a
 * copy of their own. They appear in build-failure messages.
 */
static void build_options(char *out, size_t cap, const char *file) {
    int used = snprintf(out, cap, "-cl-std=CL1.2");
    for (int i = 0; i < NNCL_ACT_COUNT && used > 0 && (size_t)used < cap; i++) {
        used += snprintf(out + used, cap - (size_t)used, " -D%s=%d", act_macros[i], i);
    }
    /* fault injection for `nncl check --self-test` (kernels/common.cl): NNCL_KERNEL_PERTURB=<kind>[:<factor>],
     * planted in every program, or with a suffix @<file> (@optim.cl) only in kernels/<file>: a bug in one
     * op family, which the whole-network step must then name (tests/check/network_adam_planted.sh) */
    const char *perturb = getenv("NNCL_KERNEL_PERTURB");
    const char *at = perturb ? strchr(perturb, '@') : NULL;
    const int here = !at || (file && strcmp(at + 1, file) == 0);
    if (perturb && *perturb && here && used > 0 && (size_t)used < cap) {
        int kind = atoi(perturb);
        const char *colon = strchr(perturb, ':');
        used += snprintf(out + used, cap - (size_t)used, " -DNNCL_PERTURB=%d -DNNCL_PERTURB_FACTOR=%.9gf", kind,
                         colon ? atof(colon + 1) : 1.0);
    }
    /* the reduction group size of nncl_sum and nncl_sumsq (ocl_impl.h): one value, from the C side */
    if (used > 0 && (size_t)used < cap) used += snprintf(out + used, cap - (size_t)used, " -DNNCL_SUM_GROUP=%d", OCL_SUM_GROUP);
    /* dropout's Philox4x32-10 constants (src/philox_impl.h): the kernel's rounds use the C side's values */
    if (used > 0 && (size_t)used < cap) {
        used += snprintf(out + used, cap - (size_t)used,
                         " -DNNCL_PHILOX_M0=0x%Xu -DNNCL_PHILOX_M1=0x%Xu -DNNCL_PHILOX_W0=0x%Xu -DNNCL_PHILOX_W1=0x%Xu",
                         NNCL_PHILOX_M0, NNCL_PHILOX_M1, NNCL_PHILOX_W0, NNCL_PHILOX_W1);
    }
    NNCL_ASSERT(used > 0 && (size_t)used < cap);
}

struct program_source {
    const char *file;     /* under kernels/ */
    const char *embedded; /* NULL when read from disk */
};

static const struct program_source common_source = {"common.cl", EMBEDDED(common)};

static const struct program_source program_sources[OCL_PROGRAM_COUNT] = {
    [OCL_PROGRAM_ACTIVATIONS] = {"activations.cl", EMBEDDED(activations)},
    [OCL_PROGRAM_SOFTMAX] = {"softmax.cl", EMBEDDED(softmax)},
    [OCL_PROGRAM_LOSSES] = {"losses.cl", EMBEDDED(losses)},
    [OCL_PROGRAM_ELEMENTWISE] = {"elementwise.cl", EMBEDDED(elementwise)},
    [OCL_PROGRAM_OPTIM] = {"optim.cl", EMBEDDED(optim)},
};

struct kernel_entry {
    enum ocl_program_id program;
    const char *name;
};

static const struct kernel_entry kernel_entries[OCL_KERNEL_COUNT] = {
    [OCL_KERNEL_ACT_FWD] = {OCL_PROGRAM_ACTIVATIONS, "nncl_act_fwd"},
    [OCL_KERNEL_BIAS_ACT_FWD] = {OCL_PROGRAM_ACTIVATIONS, "nncl_bias_act_fwd"},
    [OCL_KERNEL_ACT_BWD] = {OCL_PROGRAM_ACTIVATIONS, "nncl_act_bwd"},
    [OCL_KERNEL_SOFTMAX_FWD] = {OCL_PROGRAM_SOFTMAX, "nncl_softmax_fwd"},
    [OCL_KERNEL_SOFTMAX_BWD] = {OCL_PROGRAM_SOFTMAX, "nncl_softmax_bwd"},
    [OCL_KERNEL_SOFTMAX_XENT_FWD] = {OCL_PROGRAM_SOFTMAX, "nncl_softmax_xent_fwd"},
    [OCL_KERNEL_SOFTMAX_XENT_BWD] = {OCL_PROGRAM_SOFTMAX, "nncl_softmax_xent_bwd"},
    [OCL_KERNEL_SIGMOID_BCE_FWD] = {OCL_PROGRAM_LOSSES, "nncl_sigmoid_bce_fwd"},
    [OCL_KERNEL_SIGMOID_BCE_BWD] = {OCL_PROGRAM_LOSSES, "nncl_sigmoid_bce_bwd"},
    [OCL_KERNEL_MSE_FWD] = {OCL_PROGRAM_LOSSES, "nncl_mse_fwd"},
    [OCL_KERNEL_MSE_BWD] = {OCL_PROGRAM_LOSSES, "nncl_mse_bwd"},
    [OCL_KERNEL_CLASS_ERROR] = {OCL_PROGRAM_LOSSES, "nncl_class_error"},
    [OCL_KERNEL_BIAS_ADD] = {OCL_PROGRAM_ELEMENTWISE, "nncl_bias_add"},
    [OCL_KERNEL_BIAS_GRAD] = {OCL_PROGRAM_ELEMENTWISE, "nncl_bias_grad"},
    [OCL_KERNEL_SUM] = {OCL_PROGRAM_ELEMENTWISE, "nncl_sum"},
    [OCL_KERNEL_SUM_PARTIAL] = {OCL_PROGRAM_ELEMENTWISE, "nncl_sum_partial"},
    [OCL_KERNEL_FILL] = {OCL_PROGRAM_ELEMENTWISE, "nncl_fill"},
    [OCL_KERNEL_COPY] = {OCL_PROGRAM_ELEMENTWISE, "nncl_copy"},
    [OCL_KERNEL_SCALE] = {OCL_PROGRAM_ELEMENTWISE, "nncl_scale"},
    [OCL_KERNEL_GATHER_ROWS] = {OCL_PROGRAM_ELEMENTWISE, "nncl_gather_rows"},
    [OCL_KERNEL_DROPOUT] = {OCL_PROGRAM_ELEMENTWISE, "nncl_dropout"},
    [OCL_KERNEL_SGD_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_sgd_update"},
    [OCL_KERNEL_MOMENTUM_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_momentum_update"},
    [OCL_KERNEL_ADAM_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_adam_update"},
    [OCL_KERNEL_SUMSQ] = {OCL_PROGRAM_OPTIM, "nncl_sumsq"},
    [OCL_KERNEL_SUMSQ_PARTIAL] = {OCL_PROGRAM_OPTIM, "nncl_sumsq_partial"},
    [OCL_KERNEL_CLIP_GRAD] = {OCL_PROGRAM_OPTIM, "nncl_clip_grad"},
    [OCL_KERNEL_NESTEROV_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_nesterov_update"},
    [OCL_KERNEL_RMSPROP_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_rmsprop_update"},
    [OCL_KERNEL_ADAMW_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_adamw_update"},
    [OCL_KERNEL_IRPROP_UPDATE] = {OCL_PROGRAM_OPTIM, "nncl_irprop_update"},
};

/* The text of one source: the embedded copy, or the file read from NNCL_KERNEL_DIR (caller frees). */
static enum nncl_status load_source(const struct program_source *src, char **out) {
    if (src->embedded) {
        *out = malloc(strlen(src->embedded) + 1);
        if (!*out) return nncl_set_error(NNCL_ERR_OOM, "OpenCL: out of host memory loading %s", src->file);
        strcpy(*out, src->embedded);
        return NNCL_OK;
    }
#ifdef NNCL_KERNEL_DIR
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", NNCL_KERNEL_DIR, src->file);
    FILE *f = fopen(path, "rb");
    if (!f) {
        return nncl_set_error(NNCL_ERR_IO, "OpenCL: cannot open kernel source %s (this build reads kernels "
                              "from the source tree: NNCL_OPENCL_EMBED_KERNELS=OFF); restore the file or "
                              "rebuild with embedded kernels", path);
    }
    char *text = NULL;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
            len = fread(text, 1, (size_t)size, f);
            if (len != (size_t)size) {
                free(text);
                text = NULL;
            }
        }
    }
    fclose(f);
    if (!text) return nncl_set_error(NNCL_ERR_IO, "OpenCL: cannot read kernel source %s", path);
    text[len] = '\0';
    *out = text;
    return NNCL_OK;
#else
    return nncl_set_error(NNCL_ERR_IO, "OpenCL: kernel source %s is not embedded in this build", src->file);
#endif
}

static enum nncl_status build_failure(struct ocl_state *st, cl_program program, cl_int err, const char *file,
                                      const char *options) {
    char log[12000] = "";
    clGetProgramBuildInfo(program, st->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
    log[sizeof log - 1] = '\0';
    return nncl_set_error(NNCL_ERR_KERNEL_BUILD,
                          "OpenCL: building kernels/%s (with kernels/common.cl in front) failed with %s on "
                          "device \"%s\" (%s, driver %s), options \"%s\"; build log:\n%s",
                          file, nncl_cl_error_name(err), st->device_name, st->platform_name, st->driver_version,
                          options, log[0] ? log : "(empty)");
}

enum nncl_status ocl_program_build(struct ocl_state *st, const char *file, const char *source, cl_program *out) {
    char *common = NULL;
    enum nncl_status s = load_source(&common_source, &common);
    if (s) return s;
    const char *texts[2] = {common, source};
    cl_int err = CL_SUCCESS;
    cl_program program = clCreateProgramWithSource(st->context, 2, texts, NULL, &err);
    free(common);
    NNCL_CL_CHECK(err);
    char options[1024];
    build_options(options, sizeof options, file);
    err = clBuildProgram(program, 1, &st->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        s = build_failure(st, program, err, file, options);
        clReleaseProgram(program);
        return s;
    }
    *out = program;
    return NNCL_OK;
}

static enum nncl_status program_get(struct ocl_state *st, enum ocl_program_id id, cl_program *out) {
    if (!st->programs[id]) {
        char *source = NULL;
        enum nncl_status s = load_source(&program_sources[id], &source);
        if (s) return s;
        s = ocl_program_build(st, program_sources[id].file, source, &st->programs[id]);
        free(source);
        if (s) return s;
    }
    *out = st->programs[id];
    return NNCL_OK;
}

enum nncl_status ocl_kernel_get(struct ocl_state *st, enum ocl_kernel_id id, cl_kernel *out) {
    if (st->kernels[id]) {
        *out = st->kernels[id];
        return NNCL_OK;
    }
    const struct kernel_entry *entry = &kernel_entries[id];
    cl_program program = NULL;
    enum nncl_status s = program_get(st, entry->program, &program);
    if (s) return s;
    cl_int err = CL_SUCCESS;
    cl_kernel kernel = clCreateKernel(program, entry->name, &err);
    if (err != CL_SUCCESS) {
        return nncl_set_error(NNCL_ERR_KERNEL_BUILD, "OpenCL: kernel %s not found in kernels/%s (%s); the "
                              "kernel source and src/opencl/ocl_program.c disagree", entry->name,
                              program_sources[entry->program].file, nncl_cl_error_name(err));
    }
    st->kernels[id] = kernel;
    *out = kernel;
    return NNCL_OK;
}

uint64_t ocl_kernel_sources_hash(void) {
    uint64_t h = NNCL_FNV1A_INIT;
    for (int i = -1; i < OCL_PROGRAM_COUNT; i++) {
        char *text = NULL;
        if (load_source(i < 0 ? &common_source : &program_sources[i], &text) != NNCL_OK) {
            nncl_clear_error();
            continue; /* a missing source shows when it is built; the hash then says "incomplete" by differing */
        }
        h = nncl_fnv1a(h, text, strlen(text));
        free(text);
    }
    char options[1024]; /* the activation constants are part of what the kernels compute */
    build_options(options, sizeof options, NULL);
    for (const char *p = options; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

void ocl_programs_release(struct ocl_state *st) {
    for (int i = 0; i < OCL_KERNEL_COUNT; i++) {
        if (st->kernels[i]) clReleaseKernel(st->kernels[i]);
        st->kernels[i] = NULL;
    }
    for (int i = 0; i < OCL_PROGRAM_COUNT; i++) {
        if (st->programs[i]) clReleaseProgram(st->programs[i]);
        st->programs[i] = NULL;
    }
}
