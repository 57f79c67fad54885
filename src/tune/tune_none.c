/*
 * tune_none.c: in a build without OpenCL, the child side of `nncl tune`'s candidate check (tune_impl.h) has
 * nothing to check; `nncl tune` itself already reports the build through nncl_opencl_tune's stub.
 */
#include "tune/tune_impl.h"

enum nncl_status tune_check_candidate(const char *params, const struct nncl_gemm_shape *shapes, size_t n, char *wrong,
                                      size_t cap) {
    (void)params, (void)shapes, (void)n;
    if (cap) wrong[0] = '\0';
    return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: this nncl was built without OpenCL: no candidate to check");
}
