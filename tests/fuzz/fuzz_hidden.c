/*
 * fuzz_hidden.c: libFuzzer target for the --hidden architecture string (nncl_parse_hidden, src/model.c),
 * e.g. "256:relu,128:leaky_relu:0.1".
 *
 * Input: the string, copied and NUL-terminated (a command-line argument has no embedded NUL; one in the
 * input simply ends the string early). An accepted string must yield at most NNCL_MAX_LAYERS layers,
 * each with 1 to 1000000 units, a known activation and a finite parameter: the same layers completed
 * with an output layer must pass nncl_model_spec_check, as they do in `nncl train`.
 */
#include "fuzz_util.h"

#include "nncl/nncl_model.h"

#define TARGET "fuzz_hidden"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    nncl_log_set_level(NNCL_LOG_NONE);
    nncl_clear_error();
    enum nncl_status st = nncl_parse_hidden(text, &spec);
    fuzz_check_refusal(TARGET, st);
    if (st == NNCL_OK) {
        if (spec.n_layers > NNCL_MAX_LAYERS) fuzz_fail(TARGET, "more layers than NNCL_MAX_LAYERS");
        for (size_t l = 0; l < spec.n_layers; l++) {
            if (spec.layers[l].units < 1 || spec.layers[l].units > 1000000) fuzz_fail(TARGET, "a unit count out of range");
        }
        /* what `nncl train` does next: add the output layer and check the whole spec */
        if (spec.n_layers < NNCL_MAX_LAYERS) {
            spec.n_inputs = 3;
            spec.layers[spec.n_layers++] = (struct nncl_layer_spec){.units = 1, .act = NNCL_ACT_IDENTITY};
            spec.loss = NNCL_LOSS_MSE;
            if (nncl_model_spec_check(&spec) != NNCL_OK) fuzz_fail(TARGET, "an accepted string gives an invalid spec");
        }
    }
    free(text);
    return 0;
}
