/*
 * backend_registry.c: creating a backend by name. The only file that knows which backends this
 * build has (the only #ifdef NNCL_USE_OPENCL outside src/opencl/).
 */
#include <stdio.h>
#include <string.h>

#include "backend_impl.h"
#include "status_impl.h"

static const char *const backend_names[] = {
    "cpu",
#ifdef NNCL_USE_OPENCL
    "opencl",
#endif
    NULL,
};

const char *const *nncl_backend_list(void) { return backend_names; }

/* Why the last nncl_backend_init("auto") chose what it chose (nncl_backend_auto_reason). */
static char auto_reason[512] = "backend auto has not been opened";

const char *nncl_backend_auto_reason(void) { return auto_reason; }

#ifdef NNCL_USE_OPENCL
/* "auto": an OpenCL GPU when one opens, the CPU reference otherwise (an OpenCL CPU device such as
 * PoCL is slower than the reference, so it is only used when asked for by name). A device the user chose
 * (NNCL_OPENCL_PLATFORM/DEVICE, or --device) that does not open is an error, never a quiet fallback: on a
 * GPU machine a mistyped index would otherwise turn a GPU run into a CPU one without a word. */
static enum nncl_status init_auto(struct nncl_backend **out) {
    struct nncl_backend *cl = NULL;
    enum nncl_status st = nncl_opencl_backend_init(&cl);
    if (st == NNCL_OK) {
        if (nncl_opencl_backend_is_gpu(cl)) {
            snprintf(auto_reason, sizeof auto_reason, "an OpenCL GPU");
            nncl_log(NNCL_LOG_INFO, "backend auto: using OpenCL GPU %s", cl->device);
            *out = cl;
            return NNCL_OK;
        }
        snprintf(auto_reason, sizeof auto_reason,
                 "OpenCL device %.300s is not a GPU (an OpenCL CPU device is slower than the CPU reference; "
                 "--backend opencl uses it)", cl->device);
        nncl_backend_free(cl);
    } else if (nncl_opencl_device_choice_given()) {
        snprintf(auto_reason, sizeof auto_reason, "the chosen OpenCL device did not open");
        return st; /* the message names the choice and how to list the devices */
    } else if (strstr(nncl_last_error(), "no OpenCL platform found")) {
        snprintf(auto_reason, sizeof auto_reason, "no OpenCL platform (no OpenCL driver is installed)");
    } else {
        snprintf(auto_reason, sizeof auto_reason, "no usable OpenCL device (%.400s)", nncl_last_error());
    }
    nncl_log(NNCL_LOG_INFO, "backend auto: %s; using the CPU reference", auto_reason);
    nncl_clear_error();
    return nncl_cpu_backend_init(out);
}
#endif

#ifndef NNCL_USE_OPENCL
enum nncl_status nncl_opencl_tune(const struct nncl_gemm_shape *shapes, size_t n_shapes,
                                  const struct nncl_tune_options *options, struct nncl_tune_result *out) {
    (void)shapes;
    (void)n_shapes;
    (void)options;
    if (out) memset(out, 0, sizeof *out);
    return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: this nncl was built without OpenCL, and tuning is for "
                                                "OpenCL devices; install ocl-icd-opencl-dev, opencl-headers and "
                                                "libclblast-dev (bash cmake/install_deps.sh) and rebuild");
}

int nncl_opencl_device_tuned(const struct nncl_device_info *dev, char *path, size_t cap) {
    (void)dev;
    if (path && cap) path[0] = '\0';
    return 0;
}

enum nncl_status nncl_opencl_list_devices(struct nncl_device_info *out, size_t cap, size_t *count) {
    (void)out;
    (void)cap;
    if (count) *count = 0;
    return nncl_set_error(NNCL_ERR_UNSUPPORTED, "this nncl was built without OpenCL; install "
                                                "ocl-icd-opencl-dev, opencl-headers and libclblast-dev "
                                                "(bash cmake/install_deps.sh) and rebuild");
}
#endif

enum nncl_status nncl_backend_init(const char *name, struct nncl_backend **out) {
    if (!out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_init: out is NULL");
    *out = NULL;
    if (!name) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_backend_init: backend name is NULL");
    if (strcmp(name, "cpu") == 0) return nncl_cpu_backend_init(out);
#ifdef NNCL_USE_OPENCL
    if (strcmp(name, "opencl") == 0) return nncl_opencl_backend_init(out);
    if (strcmp(name, "auto") == 0) return init_auto(out);
#else
    if (strcmp(name, "opencl") == 0) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED,
                              "backend \"opencl\": this nncl was built without OpenCL; install "
                              "ocl-icd-opencl-dev, opencl-headers and libclblast-dev "
                              "(bash cmake/install_deps.sh) and rebuild");
    }
    if (strcmp(name, "auto") == 0) {
        snprintf(auto_reason, sizeof auto_reason, "this nncl was built without OpenCL");
        return nncl_cpu_backend_init(out);
    }
#endif
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown backend \"%s\"; choose cpu, opencl or auto", name);
}
