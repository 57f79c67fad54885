/*
 * fuzz_idx.c: libFuzzer target for the IDX loader (nncl_dataset_load_idx, src/data/data_idx.c), the
 * images file and the labels file from one input, each plain or gzip-compressed.
 *
 * Input: a flags byte, a 16-bit little-endian split point k, then the payload:
 *   bit 0 of flags   write the images file through gzwrite (else as given)
 *   bit 1 of flags   write the labels file through gzwrite
 *   payload[0, k)    the images file (k is clamped to the payload's length)
 *   payload[k, end)  the labels file
 * The loader detects gzip by content, so a payload that is itself gzip data reaches the decompressor's
 * error paths (corrupt and truncated streams) too. Besides the sanitizers' findings, the target checks
 * that a refusal has a message and that an accepted data set is what the format promises: pixels in
 * [0, 1] and one-hot labels over 10 classes.
 */
#include "fuzz_util.h"

#include "nncl/nncl_data.h"

#define TARGET "fuzz_idx"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const uint8_t flags = data[0];
    size_t split = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *payload = data + 3;
    const size_t n = size - 3;
    if (split > n) split = n;
    const char *images = fuzz_write(0, "-images.idx", payload, split, flags & 1);
    const char *labels = fuzz_write(1, "-labels.idx", payload + split, n - split, (flags & 2) != 0);

    struct nncl_dataset ds;
    nncl_clear_error();
    enum nncl_status st = nncl_dataset_load_idx(images, labels, &ds);
    fuzz_check_refusal(TARGET, st);
    if (st != NNCL_OK) return 0;

    if (ds.n == 0 || ds.n_inputs == 0 || ds.n_outputs != 10 || !ds.x || !ds.y) {
        fuzz_fail(TARGET, "accepted a data set of the wrong shape");
    }
    for (size_t i = 0; i < ds.n * ds.n_inputs; i++) {
        if (!(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f)) fuzz_fail(TARGET, "a pixel outside [0, 1]");
    }
    for (size_t r = 0; r < ds.n; r++) {
        float sum = 0.0f;
        for (size_t j = 0; j < 10; j++) sum += ds.y[r * 10 + j];
        if (sum != 1.0f) fuzz_fail(TARGET, "a label row that is not one-hot");
    }
    nncl_dataset_free(&ds);
    return 0;
}
