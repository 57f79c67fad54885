/*
 * fuzz_csv.c: libFuzzer target for the CSV loader (nncl_dataset_load_csv, src/data/data_csv.c).
 *
 * Input: one flags byte, then the CSV file itself. The flags pick the loader options, so that one corpus
 * reaches every path (inferred and explicit tasks, a named or the last target column, an ignore list):
 *   bits 0-1  task: 0 auto, 1 regression, 2 binary, 3 classification
 *   bit  2    target column "y" (else the last column)
 *   bit  3    ignore column "id"
 *   bit  4    second pass: require the target
 *   bit  5    second pass: load the file again through the first pass's transform and class names, as
 *             `nncl predict` and `nncl eval` apply a model's preprocessing to new data
 *   bit  6    second pass: without the class names
 * Beyond memory errors, leaks and undefined behaviour (the sanitizers), the target checks that a refusal
 * has a message, that accepted data are finite, and that the second pass, when it succeeds, encodes the
 * inputs bit for bit as the first did: the transform a model stores must reproduce its training data.
 */
#include "fuzz_util.h"

#include <math.h>

#include "nncl/nncl_data.h"

#define TARGET "fuzz_csv"

static void check_finite(const float *v, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) fuzz_fail(TARGET, what);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t flags = data[0];
    const char *path = fuzz_write(0, ".csv", data + 1, size - 1, 0);

    struct nncl_csv_options o = {0};
    o.task = (enum nncl_task)(flags & 3);
    o.target = flags & 4 ? "y" : NULL;
    o.ignore = flags & 8 ? "id" : NULL;
    struct nncl_dataset ds;
    nncl_clear_error();
    enum nncl_status st = nncl_dataset_load_csv(path, &o, &ds);
    fuzz_check_refusal(TARGET, st);
    if (st != NNCL_OK) return 0;

    if (ds.n == 0 || ds.n_inputs == 0 || !ds.x) fuzz_fail(TARGET, "accepted a data set with no examples or inputs");
    check_finite(ds.x, ds.n * ds.n_inputs, "accepted non-finite inputs");
    if (ds.y) check_finite(ds.y, ds.n * ds.n_outputs, "accepted non-finite targets");
    for (size_t i = 0; ds.class_names && i < ds.n_classes; i++) {
        if (!ds.class_names[i]) fuzz_fail(TARGET, "a NULL class name");
    }

    if (flags & 32) {
        struct nncl_csv_options a = {0};
        a.apply = &ds.preprocess;
        a.task = ds.task;
        a.require_target = (flags & 16) != 0;
        if (!(flags & 64)) {
            a.class_names = (const char *const *)ds.class_names;
            a.n_class_names = ds.class_names ? ds.n_classes : 0;
        }
        struct nncl_dataset again;
        nncl_clear_error();
        st = nncl_dataset_load_csv(path, &a, &again);
        fuzz_check_refusal(TARGET, st);
        if (st == NNCL_OK) {
            if (again.n != ds.n || again.n_inputs != ds.n_inputs ||
                memcmp(again.x, ds.x, ds.n * ds.n_inputs * sizeof *ds.x) != 0) {
                fuzz_fail(TARGET, "the stored transform does not reproduce the training inputs");
            }
            if (again.y) check_finite(again.y, again.n * again.n_outputs, "second pass: non-finite targets");
        }
        nncl_dataset_free(&again);
    }
    nncl_dataset_free(&ds);
    return 0;
}
