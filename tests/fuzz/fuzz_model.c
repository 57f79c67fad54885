/*
 * fuzz_model.c: libFuzzer target for model files (nncl_model_load, src/model_io.c): the safetensors
 * reader, the "architecture", "class_names" and "preprocess" metadata (src/data/preprocess_json.c), and
 * the check of every layer's tensors against the architecture.
 *
 * Input: the model file, as `nncl train --out` writes it. The "cpu" backend is created once, in
 * LLVMFuzzerInitialize, and kept: creating it per input would only add time, and every model loaded
 * onto it is freed before the next input, which LeakSanitizer checks. An accepted model must have a
 * spec that nncl_model_spec_check accepts, finite parameters, and a preprocess transform that
 * nncl_preprocess_check accepts: the CSV loader relies on both.
 */
#include "fuzz_util.h"

#include <math.h>

#include "data/preprocess_json.h"
#include "nncl/nncl_backend.h"
#include "nncl/nncl_model.h"

#define TARGET "fuzz_model"

static struct nncl_backend *backend;

static void free_backend(void) { nncl_backend_free(backend); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init_dir();
    if (nncl_backend_init("cpu", &backend) != NNCL_OK) {
        fprintf(stderr, "%s: cannot create the cpu backend: %s\n", TARGET, nncl_last_error());
        exit(1);
    }
    atexit(free_backend);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write(0, ".safetensors", data, size, 0);
    struct nncl_model *m = NULL;
    nncl_clear_error();
    enum nncl_status st = nncl_model_load(backend, path, &m);
    fuzz_check_refusal(TARGET, st);
    if (st != NNCL_OK) {
        if (m) fuzz_fail(TARGET, "a refused model was still handed out");
        return 0;
    }
    if (nncl_model_spec_check(nncl_model_get_spec(m)) != NNCL_OK) fuzz_fail(TARGET, "accepted an invalid spec");
    const struct nncl_preprocess *pp = nncl_model_preprocess(m);
    if (pp && nncl_preprocess_check(pp, TARGET, NNCL_ERR_FORMAT) != NNCL_OK) {
        fuzz_fail(TARGET, "accepted an invalid preprocess transform");
    }
    const size_t n = nncl_model_param_count(m);
    float *params = malloc(n * sizeof *params + 1);
    if (!params || nncl_model_get_params(m, params, n) != NNCL_OK) fuzz_fail(TARGET, "cannot read the parameters back");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(params[i])) fuzz_fail(TARGET, "accepted a non-finite parameter");
    }
    free(params);
    nncl_model_free(m);
    return 0;
}
