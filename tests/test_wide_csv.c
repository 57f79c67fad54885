/*
 * test_wide_csv.c: a CSV file with 200,000 columns (a bag-of-words matrix, say) loads, finds its target and
 * ignored columns by name and trains one step in seconds: the header's duplicate check and the column
 * lookups go through a hash of the names (csv_tokenize.c), the model transform's through a sort
 * (preprocess_json.c), not through every pair of names. Before, the same file spent minutes in strcmp.
 * The file is generated into a mkstemp file and removed afterwards.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen, clock_gettime */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nncl/nncl.h"

#define COLS 200000 /* input columns, then "id" and "y" */
#define ROWS 4

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Writes the wide file into path[] (a template); `dup_last` names the last input column like the first. */
static void write_wide(char *path, int dup_last) {
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "w");
    cr_assert(f);
    for (size_t j = 0; j < COLS; j++) fprintf(f, "w%zu,", dup_last && j == COLS - 1 ? (size_t)0 : j);
    fprintf(f, "id,y\n");
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t j = 0; j < COLS; j++) fprintf(f, "%zu,", (j * 7 + r) % 3);
        fprintf(f, "%zu,%zu\n", r, r % 2);
    }
    cr_assert(fclose(f) == 0);
}

Test(wide_csv, loads_and_trains_one_step_in_seconds) {
    char path[] = "/tmp/nncl_wide_XXXXXX";
    write_wide(path, 0);
    const double t0 = now();
    struct nncl_csv_options o = {.target = "y", .ignore = "id,w199999", .require_target = 1,
                                 .task = NNCL_TASK_REGRESSION, .standardize_targets = 1};
    struct nncl_dataset ds;
    enum nncl_status st = nncl_dataset_load_csv(path, &o, &ds);
    unlink(path);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(ds.n, ROWS);
    cr_assert_eq(ds.n_inputs, COLS - 1, "the target and two ignored columns are not inputs");
    cr_assert_str_eq(ds.preprocess.target, "y");

    struct nncl_backend *be = NULL;
    cr_assert_eq(nncl_backend_init("cpu", &be), NNCL_OK);
    struct nncl_model_spec spec = {.n_inputs = ds.n_inputs, .n_layers = 1, .loss = NNCL_LOSS_MSE};
    spec.layers[0] = (struct nncl_layer_spec){1, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    struct nncl_model *m = NULL;
    cr_assert_eq(nncl_model_init(be, &spec, NNCL_INIT_UNIFORM, 1, &m), NNCL_OK, "%s", nncl_last_error());
    struct nncl_train_options to = nncl_train_defaults();
    to.epochs = 1;
    to.batch_size = 0;
    struct nncl_train_result res;
    cr_assert_eq(nncl_train(m, &ds, &to, &res), NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(res.steps, 1);

    /* the transform applied again by name, as eval and predict read a file with the model's transform */
    struct nncl_preprocess pp = ds.preprocess;
    struct nncl_csv_options apply = {.apply = &pp, .require_target = 1, .task = NNCL_TASK_REGRESSION};
    char path2[] = "/tmp/nncl_wide_XXXXXX";
    write_wide(path2, 0);
    struct nncl_dataset again;
    st = nncl_dataset_load_csv(path2, &apply, &again);
    unlink(path2);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(again.n_inputs, ds.n_inputs);
    const double seconds = now() - t0;
    /* linear work is well under a second here; the quadratic checks took minutes */
    cr_assert_lt(seconds, 20.0, "200,000 columns took %.1f s to load, train a step and load again", seconds);
    nncl_dataset_free(&again);
    nncl_model_free(m);
    nncl_backend_free(be);
    nncl_dataset_free(&ds);
}

Test(wide_csv, duplicate_names_far_apart_are_found) {
    char path[] = "/tmp/nncl_wide_XXXXXX";
    write_wide(path, 1);
    struct nncl_csv_options o = {.target = "y", .require_target = 1};
    struct nncl_dataset ds;
    enum nncl_status st = nncl_dataset_load_csv(path, &o, &ds);
    unlink(path);
    cr_assert_eq(st, NNCL_ERR_FORMAT);
    cr_assert(strstr(nncl_last_error(), "\"w0\" appears twice in the header (columns 1 and 200000)"), "%s",
              nncl_last_error());
}
