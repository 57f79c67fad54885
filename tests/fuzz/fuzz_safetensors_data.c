/*
 * fuzz_safetensors_data.c: libFuzzer target for the safetensors data loader
 * (nncl_dataset_load_safetensors, src/data/data_safetensors.c) and, through it, the safetensors reader
 * itself (src/io/safetensors.c: header length, JSON, dtypes, shapes, offsets, overlaps).
 *
 * Input: one options byte, then the file:
 *   bits 0-1  task: 0 auto, 1 regression, 2 binary, 3 classification
 *   bits 2-7  n_classes (0 .. 63), the minimum class count for integer labels
 * Besides the sanitizers' findings, the target checks that a refusal has a message and that accepted
 * data are finite with y of the shape the task implies.
 */
#include "fuzz_util.h"

#include <math.h>

#include "nncl/nncl_data.h"

#define TARGET "fuzz_safetensors_data"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const enum nncl_task task = (enum nncl_task)(data[0] & 3);
    const size_t n_classes = data[0] >> 2;
    const char *path = fuzz_write(0, ".safetensors", data + 1, size - 1, 0);

    struct nncl_dataset ds;
    nncl_clear_error();
    enum nncl_status st = nncl_dataset_load_safetensors(path, task, n_classes, &ds);
    fuzz_check_refusal(TARGET, st);
    if (st != NNCL_OK) return 0;

    if (ds.n == 0 || ds.n_inputs == 0 || ds.n_outputs == 0 || !ds.x || !ds.y) {
        fuzz_fail(TARGET, "accepted a data set of the wrong shape");
    }
    for (size_t i = 0; i < ds.n * ds.n_inputs; i++) {
        if (!isfinite(ds.x[i])) fuzz_fail(TARGET, "accepted a non-finite input");
    }
    for (size_t i = 0; i < ds.n * ds.n_outputs; i++) {
        if (!isfinite(ds.y[i])) fuzz_fail(TARGET, "accepted a non-finite target");
    }
    if (ds.task == NNCL_TASK_BINARY && (ds.n_outputs != 1 || ds.n_classes != 2)) {
        fuzz_fail(TARGET, "a binary task without one output column");
    }
    if (ds.task == NNCL_TASK_CLASSIFICATION && (ds.n_classes != ds.n_outputs || ds.n_classes < 2)) {
        fuzz_fail(TARGET, "a classification whose class count is not its output count");
    }
    nncl_dataset_free(&ds);
    return 0;
}
