/*
 * test_data.c: the data loaders. CSV: the Income table of the course's gradient-descent lecture loads as
 * written (standardised numbers, sorted one-hot categories, regression or binary targets), its transform
 * survives the JSON of a model file and reproduces x on new files, and every malformed file gives the
 * right status and a message naming the file and line. IDX: small plain and gzip files written here,
 * their broken variants, and the real Fashion-MNIST when it is installed.
 *
 * The committed files are in tests/data (NNCL_TEST_DATA_DIR, set by CMake, so the tests run from any
 * folder); the broken IDX files and odd CSVs are written into a fresh mkdtemp folder per test.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, unlink, rmdir */

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/preprocess_json.h"
#include "nncl/nncl_data.h"
#include "test_util.h"

#ifndef NNCL_TEST_DATA_DIR
#error "compile with -DNNCL_TEST_DATA_DIR=\"<source>/tests/data\""
#endif

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* A committed file under tests/data (a static buffer per call site is enough: used at once). */
static const char *data_file(const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", NNCL_TEST_DATA_DIR, name);
    return buf;
}
#define DATA(name) data_file(name, (char[512]){0}, 512)

/* ---- a scratch folder per test ---- */

static char tmp_dir[64];
static char tmp_files[32][256];
static size_t n_tmp_files;

static void tmp_setup(void) {
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/nncl_test_data_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp failed");
    n_tmp_files = 0;
}

static void tmp_teardown(void) {
    while (n_tmp_files) unlink(tmp_files[--n_tmp_files]);
    rmdir(tmp_dir);
}

/* The path of `name` in the scratch folder, remembered for removal. */
static const char *tmp_path(const char *name) {
    for (size_t i = 0; i < n_tmp_files; i++) {
        const char *slash = strrchr(tmp_files[i], '/');
        if (strcmp(slash + 1, name) == 0) return tmp_files[i];
    }
    cr_assert(n_tmp_files < 32, "too many scratch files");
    snprintf(tmp_files[n_tmp_files], sizeof tmp_files[0], "%s/%s", tmp_dir, name);
    return tmp_files[n_tmp_files++];
}

/* Writes bytes to the scratch file `name`, gzip-compressed when gzip is set; returns its path. */
static const char *write_file(const char *name, const void *data, size_t n, int gzip) {
    const char *path = tmp_path(name);
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        cr_assert_not_null(gz, "gzopen %s", path);
        cr_assert_eq(gzwrite(gz, data, (unsigned)n), (int)n, "gzwrite %s", path);
        cr_assert_eq(gzclose(gz), Z_OK, "gzclose %s", path);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "fopen %s", path);
        cr_assert_eq(fwrite(data, 1, n, f), n, "fwrite %s", path);
        cr_assert_eq(fclose(f), 0, "fclose %s", path);
    }
    return path;
}

static const char *write_text(const char *name, const char *text) { return write_file(name, text, strlen(text), 0); }

/* The whole of a file, for cutting a copy short. */
static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fopen %s", path);
    unsigned char *buf = malloc(1 << 16);
    cr_assert_not_null(buf);
    *n = fread(buf, 1, 1 << 16, f);
    cr_assert(feof(f) && !ferror(f), "%s: read whole", path);
    fclose(f);
    return buf;
}

/* ---- IDX files built here ---- */

/* A header (magic, sizes) followed by `n` element bytes, into buf; returns the length. */
static size_t make_idx(unsigned char *buf, uint32_t magic, const uint32_t *dims, int ndim, const unsigned char *data,
                       size_t n) {
    size_t len = 0;
    uint32_t words[4] = {magic};
    for (int i = 0; i < ndim; i++) words[i + 1] = dims[i];
    for (int i = 0; i <= ndim; i++) {
        buf[len++] = (unsigned char)(words[i] >> 24);
        buf[len++] = (unsigned char)(words[i] >> 16);
        buf[len++] = (unsigned char)(words[i] >> 8);
        buf[len++] = (unsigned char)words[i];
    }
    memcpy(buf + len, data, n);
    return len + n;
}

/* 3 images of 2x3 pixels and their labels 1, 0, 9. */
static const unsigned char pixels[18] = {0, 255, 128, 1, 2, 3, 10, 20, 30, 40, 50, 60, 255, 254, 253, 0, 0, 7};
static const unsigned char labels3[3] = {1, 0, 9};
static const uint32_t image_dims[3] = {3, 2, 3};
static const uint32_t label_dims[1] = {3};

static const char *write_images(const char *name, int gzip) {
    unsigned char buf[64];
    size_t n = make_idx(buf, 0x00000803, image_dims, 3, pixels, sizeof pixels);
    return write_file(name, buf, n, gzip);
}

static const char *write_labels(const char *name, int gzip) {
    unsigned char buf[16];
    size_t n = make_idx(buf, 0x00000801, label_dims, 1, labels3, sizeof labels3);
    return write_file(name, buf, n, gzip);
}

/* ---- checks ---- */

/* Mean and population std of column `col` of x. */
static void column_moments(const struct nncl_dataset *ds, size_t col, double *mean, double *std) {
    double s = 0.0, ss = 0.0;
    for (size_t r = 0; r < ds->n; r++) s += ds->x[r * ds->n_inputs + col];
    *mean = s / (double)ds->n;
    for (size_t r = 0; r < ds->n; r++) {
        double d = ds->x[r * ds->n_inputs + col] - *mean;
        ss += d * d;
    }
    *std = sqrt(ss / (double)ds->n);
}

static void assert_categories(const struct nncl_column *c, const char *name, const char *const *expected, size_t n) {
    cr_assert_str_eq(c->name, name);
    cr_assert(c->categorical, "%s is categorical", name);
    cr_assert_eq(c->n_categories, n, "%s: %zu categories, expected %zu", name, c->n_categories, n);
    for (size_t k = 0; k < n; k++) cr_assert_str_eq(c->categories[k], expected[k], "%s category %zu", name, k);
}

/* ======================================== CSV ======================================== */

TestSuite(csv, .init = tmp_setup, .fini = tmp_teardown);

/* The lecture's table, rows in order: the values the checks below compare against. */
static const double income_age[9] = {35, 40, 25, 50, 30, 28, 45, 60, 20};
static const double income_k[9] = {70, 65, 40, 100, 80, 50, 90, 120, 30};
static const char *const income_class[9] = {"high", "high", "low", "high", "high", "low", "high", "high", "low"};
static const char *const education_cats[] = {"BS", "HS", "MS", "PhD"};
static const char *const marital_cats[] = {"D", "M", "S"};
static const char *const major_cats[] = {"Art", "Engineer", "Management", "Science"};

Test(csv, income_binary_by_default) {
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), NULL, &ds), "load income.csv");
    cr_assert_eq(ds.n, 9);
    /* age 1 + education 4 + marital_status 3 + major 4 + income 1 */
    cr_assert_eq(ds.n_inputs, 13);
    cr_assert_eq(ds.task, NNCL_TASK_BINARY, "the last column (income_class, 2 values) is the target");
    cr_assert_eq(ds.n_outputs, 1);
    cr_assert_eq(ds.n_classes, 2);
    cr_assert_str_eq(ds.class_names[0], "high");
    cr_assert_str_eq(ds.class_names[1], "low");
    for (size_t r = 0; r < 9; r++) {
        float want = strcmp(income_class[r], "low") == 0 ? 1.0f : 0.0f;
        cr_assert_eq(ds.y[r], want, "row %zu (%s): y %g", r, income_class[r], (double)ds.y[r]);
    }
    const struct nncl_preprocess *pp = &ds.preprocess;
    cr_assert_eq(pp->n_columns, 5);
    cr_assert_str_eq(pp->target, "income_class");
    cr_assert_str_eq(pp->columns[0].name, "age");
    cr_assert_not(pp->columns[0].categorical);
    cr_assert_float_eq(pp->columns[0].mean, 37.0, 1e-12);
    cr_assert_float_eq(pp->columns[0].std, sqrt(1338.0 / 9.0), 1e-12, "population std");
    assert_categories(&pp->columns[1], "education", education_cats, 4);
    assert_categories(&pp->columns[2], "marital_status", marital_cats, 3);
    assert_categories(&pp->columns[3], "major", major_cats, 4);
    cr_assert_str_eq(pp->columns[4].name, "income");
    cr_assert_not(pp->columns[4].categorical);

    double mean, std;
    column_moments(&ds, 0, &mean, &std);
    cr_assert_float_eq(mean, 0.0, 1e-6, "standardised age has mean %g", mean);
    cr_assert_float_eq(std, 1.0, 1e-6, "standardised age has population std %g", std);
    column_moments(&ds, 12, &mean, &std);
    cr_assert_float_eq(mean, 0.0, 1e-6);
    cr_assert_float_eq(std, 1.0, 1e-6);
    for (size_t r = 0; r < 9; r++) {
        cr_assert_float_eq(ds.x[r * 13], (income_age[r] - 37.0) / sqrt(1338.0 / 9.0), 1e-6, "row %zu age", r);
    }
    /* row 0: 35, MS, M, Art, 70 */
    const float one_hot_row0[11] = {0, 0, 1, 0, /* MS */ 0, 1, 0, /* M */ 1, 0, 0, 0 /* Art */};
    for (size_t k = 0; k < 11; k++) cr_assert_eq(ds.x[1 + k], one_hot_row0[k], "row 0 one-hot input %zu", k);
    /* every categorical block of every row is one-hot */
    const size_t blocks[3][2] = {{1, 4}, {5, 3}, {8, 4}};
    for (size_t r = 0; r < 9; r++) {
        for (size_t b = 0; b < 3; b++) {
            float sum = 0.0f;
            for (size_t k = 0; k < blocks[b][1]; k++) sum += ds.x[r * 13 + blocks[b][0] + k];
            cr_assert_eq(sum, 1.0f, "row %zu block %zu", r, b);
        }
    }
    cr_assert(strstr(ds.source, "income.csv"));
    nncl_dataset_free(&ds);
}

/* A standardised regression target records the column's exact mean and standard deviation, every row counted. */
Test(csv, standardised_target_statistics_count_every_row) {
    const char *path = write_text("target_stats.csv", "x,y\n1,10\n2,0\n3,0\n4,0\n");
    struct nncl_csv_options o = {0};
    o.target = "y", o.task = NNCL_TASK_REGRESSION, o.require_target = 1, o.standardize_targets = 1;
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(path, &o, &ds), "load");
    cr_assert_eq(ds.preprocess.target_mean, 2.5, "mean %.17g", ds.preprocess.target_mean);
    cr_assert(fabs(ds.preprocess.target_std - sqrt(18.75)) < 1e-12, "std %.17g", ds.preprocess.target_std);
    cr_assert_float_eq(ds.y[0], (float)((10 - 2.5) / sqrt(18.75)), 1e-6);
    nncl_dataset_free(&ds);
}

/* A model stores its target list in 63 bytes: a longer list is refused, naming the file and the list. */
Test(csv, a_target_list_too_long_for_a_model_is_refused_by_name) {
    const char *path = write_text("targets.csv", "x,first_target_with_a_long_name,second_target_with_a_long_name,"
                                                 "third_target_with_a_long_name\n1,2,3,4\n5,6,7,8\n");
    struct nncl_csv_options o = {0};
    o.target = "first_target_with_a_long_name,second_target_with_a_long_name,third_target_with_a_long_name";
    o.require_target = 1;
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_csv(path, &o, &ds), NNCL_ERR_INVALID_ARG, "targets.csv",
                 "\"first_target_with_a_long_name,second_target_with_a_long_name,third_target_with_a_long_name\"",
                 "longer than 63 bytes");
}

Test(csv, income_regression) {
    struct nncl_csv_options o = {.target = "income", .require_target = 1};
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o, &ds), "load income.csv, target income");
    cr_assert_eq(ds.task, NNCL_TASK_REGRESSION);
    cr_assert_eq(ds.n, 9);
    cr_assert_eq(ds.n_inputs, 14, "income_class becomes a 2-column input");
    cr_assert_eq(ds.n_outputs, 1);
    cr_assert_eq(ds.n_classes, 0);
    cr_assert_null(ds.class_names);
    for (size_t r = 0; r < 9; r++) cr_assert_eq(ds.y[r], (float)income_k[r], "row %zu: not standardised", r);
    cr_assert_str_eq(ds.preprocess.target, "income");
    cr_assert_eq(ds.preprocess.target_mean, 0.0);
    cr_assert_eq(ds.preprocess.target_std, 1.0);
    const char *const class_cats[] = {"high", "low"};
    assert_categories(&ds.preprocess.columns[4], "income_class", class_cats, 2);
    nncl_dataset_free(&ds);
}

Test(csv, explicit_classification) {
    struct nncl_csv_options o = {.task = NNCL_TASK_CLASSIFICATION};
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o, &ds), "classification of income_class");
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION);
    cr_assert_eq(ds.n_outputs, 2);
    cr_assert_eq(ds.n_classes, 2);
    cr_assert_eq(ds.y[0 * 2 + 0], 1.0f);
    cr_assert_eq(ds.y[2 * 2 + 1], 1.0f, "row 2 is low");
    nncl_dataset_free(&ds);

    /* a numeric column as labels: names as written, sorted as numbers ("30" < "100") */
    struct nncl_csv_options o2 = {.target = "income", .task = NNCL_TASK_CLASSIFICATION};
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o2, &ds), "classification of income");
    cr_assert_eq(ds.n_classes, 9);
    cr_assert_eq(ds.n_outputs, 9);
    const char *const sorted[9] = {"30", "40", "50", "65", "70", "80", "90", "100", "120"};
    for (size_t k = 0; k < 9; k++) cr_assert_str_eq(ds.class_names[k], sorted[k]);
    cr_assert_eq(ds.y[0 * 9 + 4], 1.0f, "row 0 (70) is class 4");
    cr_assert_eq(ds.y[7 * 9 + 8], 1.0f, "row 7 (120) is class 8");
    nncl_dataset_free(&ds);

    struct nncl_csv_options o3 = {.target = "major", .task = NNCL_TASK_BINARY};
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("income.csv"), &o3, &ds), NNCL_ERR_FORMAT, "income.csv", "major",
                 "4 classes", "exactly 2");
    struct nncl_csv_options o4 = {.target = "major"};
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o4, &ds), "major: 4 labels");
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION);
    cr_assert_eq(ds.n_outputs, 4);
    nncl_dataset_free(&ds);
}

Test(csv, regression_on_labels_is_an_error) {
    struct nncl_csv_options o = {.task = NNCL_TASK_REGRESSION};
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("income.csv"), &o, &ds), NNCL_ERR_FORMAT, "income.csv:2",
                 "income_class", "\"high\" is not a number", "regression");
    cr_assert_null(ds.x, "out is zeroed after a failure");
}

Test(csv, unknown_target) {
    struct nncl_csv_options o = {.target = "salary", .require_target = 1};
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("income.csv"), &o, &ds), NNCL_ERR_INVALID_ARG, "income.csv", "salary",
                 "age, education, marital_status, major, income, income_class");
    /* without require_target the file is prediction input: all columns are inputs, y is NULL */
    o.require_target = 0;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o, &ds), "no target");
    cr_assert_null(ds.y);
    cr_assert_eq(ds.n_inputs, 15);
    nncl_dataset_free(&ds);
}

Test(csv, preprocess_json_round_trip) {
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), NULL, &ds), "load");
    char *json = nncl_preprocess_to_json(&ds.preprocess);
    cr_assert_not_null(json, "%s", nncl_last_error());
    struct nncl_preprocess back;
    tu_ok(nncl_preprocess_from_json(json, "model.nncl", &back), "from_json");
    const struct nncl_preprocess *pp = &ds.preprocess;
    cr_assert_eq(back.n_columns, pp->n_columns);
    cr_assert_str_eq(back.target, "income_class");
    cr_assert_eq(back.target_mean, pp->target_mean);
    cr_assert_eq(back.target_std, pp->target_std);
    for (size_t i = 0; i < pp->n_columns; i++) {
        const struct nncl_column *a = &pp->columns[i], *b = &back.columns[i];
        cr_assert_str_eq(a->name, b->name);
        cr_assert_eq(a->categorical, b->categorical, "%s", a->name);
        cr_assert_eq(a->mean, b->mean, "%s: mean %.17g read back as %.17g", a->name, a->mean, b->mean);
        cr_assert_eq(a->std, b->std, "%s: std %.17g read back as %.17g", a->name, a->std, b->std);
        cr_assert_eq(a->n_categories, b->n_categories, "%s", a->name);
        for (size_t k = 0; k < a->n_categories; k++) cr_assert_str_eq(a->categories[k], b->categories[k]);
    }
    char *again = nncl_preprocess_to_json(&back);
    cr_assert_not_null(again);
    cr_assert_str_eq(json, again, "writing what was read gives the same text");
    cr_assert(strstr(json, "\"kind\":\"categorical\"") && strstr(json, "\"kind\":\"numeric\""), "%s", json);
    free(again);
    free(json);
    nncl_preprocess_free(&back);
    nncl_dataset_free(&ds);
}

Test(csv, preprocess_json_errors_name_the_source) {
    struct nncl_preprocess pp;
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [", "model.nncl", &pp), NNCL_ERR_FORMAT, "model.nncl",
                 "malformed", "byte 13");
    ASSERT_ERROR(nncl_preprocess_from_json("[]", "model.nncl", &pp), NNCL_ERR_FORMAT, "model.nncl", "object");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"target\": \"y\"}", "model.nncl", &pp), NNCL_ERR_FORMAT, "model.nncl",
                 "\"columns\"");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"a\", \"kind\": \"numeric\", \"mean\": 1, "
                                           "\"std\": -2}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "\"a\"", "std");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"a\", \"kind\": \"numeric\", \"mean\": null, "
                                           "\"std\": 2}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "columns[0].\"mean\"");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"a\", \"kind\": \"text\"}], \"target\": \"y\"}",
                                           "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "columns[0].\"kind\"", "numeric", "categorical");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"m\", \"kind\": \"categorical\", "
                                           "\"categories\": [\"b\", \"a\"]}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "sorted", "\"a\"");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"m\", \"kind\": \"categorical\", "
                                           "\"categories\": [\"a\", 3]}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "categories[1]");
    /* "" sorts first, so only the emptiness check refuses it (an empty category could never match a value) */
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"m\", \"kind\": \"categorical\", "
                                           "\"categories\": [\"\", \"a\"]}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "\"m\"", "category 0 is empty");
    ASSERT_ERROR(nncl_preprocess_from_json("{\"columns\": [{\"name\": \"a\", \"kind\": \"numeric\", \"mean\": 0, "
                                           "\"std\": 1}, {\"name\": \"a\", \"kind\": \"numeric\", \"mean\": 0, "
                                           "\"std\": 1}], \"target\": \"y\"}", "model.nncl", &pp),
                 NNCL_ERR_FORMAT, "model.nncl", "\"a\" appears twice");
    cr_assert_eq(pp.n_columns, 0, "out is zeroed after a failure");
    cr_assert_null(nncl_preprocess_to_json(NULL));
    cr_assert_eq(nncl_preprocess_from_json(NULL, "x", &pp), NNCL_ERR_INVALID_ARG);
}

/* Loads `path` through the transform of the Income table (as read back from its JSON). */
static enum nncl_status load_applied(const char *path, const struct nncl_dataset *train, int require_target,
                                     struct nncl_preprocess *from_json, struct nncl_dataset *out) {
    char *json = nncl_preprocess_to_json(&train->preprocess);
    cr_assert_not_null(json, "%s", nncl_last_error());
    tu_ok(nncl_preprocess_from_json(json, "model.nncl", from_json), "from_json");
    free(json);
    struct nncl_csv_options o = {
        .apply = from_json,
        .require_target = require_target,
        .class_names = (const char *const *)train->class_names,
        .n_class_names = train->n_classes,
        .task = train->task,
    };
    return nncl_dataset_load_csv(path, &o, out);
}

Test(csv, applying_the_transform_reproduces_x) {
    struct nncl_dataset train, again;
    struct nncl_preprocess pp1;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), NULL, &train), "train");
    tu_ok(load_applied(DATA("income.csv"), &train, 1, &pp1, &again), "income.csv through its own transform");
    cr_assert_eq(again.n, train.n);
    cr_assert_eq(again.n_inputs, train.n_inputs);
    cr_assert_eq(again.task, NNCL_TASK_BINARY);
    tu_assert_close(train.x, again.x, train.n * train.n_inputs, train.n_inputs, (struct tu_tol){0, 0}, "x");
    tu_assert_close(train.y, again.y, train.n, 1, (struct tu_tol){0, 0}, "y");
    cr_assert_str_eq(again.class_names[1], "low");
    cr_assert_eq(again.preprocess.n_columns, 5, "the applied transform is copied into the data set");

    nncl_dataset_free(&again);
    nncl_preprocess_free(&pp1);
    nncl_dataset_free(&train);
}

Test(csv, missing_model_column_and_unseen_category) {
    struct nncl_dataset train, ds;
    struct nncl_preprocess pp;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), NULL, &train), "train");
    /* income_new.csv lacks the income column of the model */
    ASSERT_ERROR(load_applied(DATA("income_new.csv"), &train, 0, &pp, &ds), NNCL_ERR_FORMAT, "income_new.csv",
                 "\"income\" is not in the file", "id, major, age, marital_status, education");
    nncl_preprocess_free(&pp);
    ASSERT_ERROR(load_applied(DATA("unseen_category.csv"), &train, 1, &pp, &ds), NNCL_ERR_FORMAT,
                 "unseen_category.csv:3", "column \"major\"", "\"Law\"", "Art, Engineer, Management, Science");
    nncl_preprocess_free(&pp);
    const char *path = write_text("medium.csv", "age,education,marital_status,major,income,income_class\n"
                                                "35,MS,M,Art,70,high\n"
                                                "36,MS,M,Art,71,medium\n");
    ASSERT_ERROR(load_applied(path, &train, 1, &pp, &ds), NNCL_ERR_FORMAT, "medium.csv:3", "\"medium\"",
                 "high, low");
    nncl_preprocess_free(&pp);
    const char *text_age = write_text("text_age.csv", "age,education,marital_status,major,income,income_class\n"
                                                      "old,MS,M,Art,70,high\n");
    ASSERT_ERROR(load_applied(text_age, &train, 1, &pp, &ds), NNCL_ERR_FORMAT, "text_age.csv:2", "\"age\"",
                 "\"old\" is not a number");
    nncl_preprocess_free(&pp);
    nncl_dataset_free(&train);
}

Test(csv, model_transform_on_new_rows) {
    /* the transform of income.csv (income as target), applied to income_new.csv: rows 1-3 of the table */
    struct nncl_csv_options o = {.target = "income"};
    struct nncl_dataset train, fresh;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o, &train), "train");
    struct nncl_csv_options a = {.apply = &train.preprocess};
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("income_new.csv"), &a, &fresh), NNCL_ERR_FORMAT, "income_new.csv",
                 "\"income_class\" is not in the file");
    /* a transform without income_class: drop that column from a copy */
    struct nncl_preprocess pp = train.preprocess;
    pp.n_columns = 4; /* age, education, marital_status, major */
    a.apply = &pp;
    tu_ok(nncl_dataset_load_csv(DATA("income_new.csv"), &a, &fresh), "income_new.csv");
    cr_assert_eq(fresh.n, 3);
    cr_assert_eq(fresh.n_inputs, 12);
    cr_assert_null(fresh.y);
    for (size_t r = 0; r < 3; r++) {
        for (size_t k = 0; k < 12; k++) {
            cr_assert_eq(fresh.x[r * 12 + k], train.x[r * train.n_inputs + k], "row %zu input %zu", r, k);
        }
    }
    nncl_dataset_free(&fresh);
    /* the caller's transform was copied, not taken */
    cr_assert_eq(train.preprocess.columns[1].n_categories, 4);
    nncl_dataset_free(&train);
}

Test(csv, model_labels_map_by_name_or_number) {
    /* income as 9 numeric classes; new rows write them differently ("70.0") and must map to the same class */
    struct nncl_csv_options o = {.target = "income", .task = NNCL_TASK_CLASSIFICATION};
    struct nncl_dataset train, ds;
    tu_ok(nncl_dataset_load_csv(DATA("income.csv"), &o, &train), "train");
    const char *path = write_text("relabel.csv", "age,education,marital_status,major,income_class,income\n"
                                                 "35,MS,M,Art,high,70.0\n"
                                                 "20,HS,S,Engineer,low,3e1\n");
    struct nncl_csv_options a = {
        .apply = &train.preprocess,
        .class_names = (const char *const *)train.class_names,
        .n_class_names = train.n_classes,
        .require_target = 1,
    };
    tu_ok(nncl_dataset_load_csv(path, &a, &ds), "relabel.csv");
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION, "9 class names: classification");
    cr_assert_eq(ds.n_outputs, 9);
    cr_assert_eq(ds.y[0 * 9 + 4], 1.0f, "70.0 is class \"70\"");
    cr_assert_eq(ds.y[1 * 9 + 0], 1.0f, "3e1 is class \"30\"");
    nncl_dataset_free(&ds);
    /* the model's target is required but absent */
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("income_new.csv"), &a, &ds), NNCL_ERR_FORMAT, "income_new.csv",
                 "no target column \"income\"", "the column the model predicts");
    nncl_dataset_free(&train);
}

Test(csv, malformed_files) {
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("ragged.csv"), NULL, &ds), NNCL_ERR_FORMAT, "ragged.csv:6",
                 "5 fields, the header has 6");
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("nonnumeric.csv"), NULL, &ds), NNCL_ERR_FORMAT,
                 "nonnumeric.csv:9: column \"age\": \"12x\" is not a number (the other values in this column are "
                 "numbers)");
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("nan.csv"), NULL, &ds), NNCL_ERR_NUMERIC, "nan.csv:3", "\"income\"",
                 "NaN");
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("empty_field.csv"), NULL, &ds), NNCL_ERR_FORMAT, "empty_field.csv:4",
                 "\"marital_status\"", "empty");
    ASSERT_ERROR(nncl_dataset_load_csv(DATA("no_such_file.csv"), NULL, &ds), NNCL_ERR_IO, "no_such_file.csv",
                 "No such file");
    cr_assert_null(ds.x);
}

Test(csv, malformed_text) {
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("empty.csv", ""), NULL, &ds), NNCL_ERR_FORMAT, "empty.csv",
                 "empty");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("header_only.csv", "a,b\n\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "header_only.csv", "no data");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("dup.csv", "a,b,a\n1,2,3\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "dup.csv:1", "\"a\" appears twice");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("noname.csv", "\n\na,,c\n1,2,3\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "noname.csv:3", "column 2", "empty");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("quote.csv", "a,b\n1,\"x\n2,y\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "quote.csv:2", "no closing quote");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("after.csv", "a,b\n1,\"x\"y\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "after.csv:2", "after the closing quote");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("inf.csv", "a,b\n1,x\ninf,y\n"), NULL, &ds), NNCL_ERR_NUMERIC,
                 "inf.csv:3", "\"a\"", "\"inf\"");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("huge.csv", "a,b\n1,x\n1e999,y\n"), NULL, &ds), NNCL_ERR_NUMERIC,
                 "huge.csv:3", "\"1e999\"");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("wide.csv", "a,b\n1e308,1\n1.5e308,2\n"), NULL, &ds),
                 NNCL_ERR_NUMERIC, "wide.csv", "\"a\"", "standardise");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("big_y.csv", "a,b\n1,1\n2,1e39\n"), NULL, &ds), NNCL_ERR_NUMERIC,
                 "big_y.csv:3", "\"b\"", "range of a float");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("one_number.csv", "a,b\nred,1\nblue,2\n7,3\n"), NULL, &ds),
                 NNCL_ERR_FORMAT, "one_number.csv:4", "\"7\" is a number, but the other values");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("one_class.csv", "a,b\n1,x\n2,x\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "one_class.csv", "single value");
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("only_target.csv", "y\n1\n2\n"), NULL, &ds), NNCL_ERR_FORMAT,
                 "only_target.csv", "no input columns");
    ASSERT_ERROR(nncl_dataset_load_csv(write_file("nul.csv", "a,b\n1,\0\n", 8, 0), NULL, &ds), NNCL_ERR_FORMAT,
                 "nul.csv:2", "NUL");
    char name[80];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char text[200];
    snprintf(text, sizeof text, "%s,b\n1,2\n3,4\n", name);
    ASSERT_ERROR(nncl_dataset_load_csv(write_text("long_name.csv", text), NULL, &ds), NNCL_ERR_FORMAT,
                 "long_name.csv:1", "79 bytes");
}

Test(csv, quotes_spaces_crlf_and_blank_lines) {
    const char *path = write_text("quoted.csv", "\xEF\xBB\xBFname , \"city, state\",value\r\n"
                                                "\r\n"
                                                "  \"a \"\"quoted\"\" name\" , \"NY, NY\" ,  1.5 \r\n"
                                                "   \t \r\n"
                                                "b,\"LA\",-2e0\r\n"
                                                "\"multi\nline\",LA,0x10");
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(path, NULL, &ds), "quoted.csv");
    cr_assert_eq(ds.n, 3);
    cr_assert_eq(ds.task, NNCL_TASK_REGRESSION);
    cr_assert_eq(ds.y[0], 1.5f);
    cr_assert_eq(ds.y[1], -2.0f);
    cr_assert_eq(ds.y[2], 16.0f, "strtod reads hexadecimal");
    const char *const names[] = {"a \"quoted\" name", "b", "multi\nline"};
    assert_categories(&ds.preprocess.columns[0], "name", names, 3);
    const char *const cities[] = {"LA", "NY, NY"};
    assert_categories(&ds.preprocess.columns[1], "city, state", cities, 2);
    cr_assert_str_eq(ds.preprocess.target, "value");
    nncl_dataset_free(&ds);

    /* the line numbers after a quoted line break are those of the file */
    path = write_text("lines.csv", "a,b,c\n\"x\ny\",1,2\n\n3,4\n");
    ASSERT_ERROR(nncl_dataset_load_csv(path, NULL, &ds), NNCL_ERR_FORMAT, "lines.csv:5", "2 fields, the header has 3");
}

Test(csv, lines_of_any_length) {
    /* one category value of 200000 bytes: no fixed line buffer may cut it */
    size_t len = 200000;
    char *text = malloc(len + 64);
    cr_assert_not_null(text);
    strcpy(text, "word,y\n");
    size_t used = strlen(text);
    memset(text + used, 'w', len);
    used += len;
    strcpy(text + used, ",1\nshort,2\n");
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(write_text("long.csv", text), NULL, &ds), "long.csv");
    free(text);
    cr_assert_eq(ds.n, 2);
    cr_assert_eq(ds.preprocess.columns[0].n_categories, 2);
    cr_assert_eq(strlen(ds.preprocess.columns[0].categories[1]), len);
    cr_assert_eq(ds.y[1], 2.0f);
    nncl_dataset_free(&ds);
}

Test(csv, constant_column_has_std_one) {
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_csv(write_text("const.csv", "a,b,y\n0.1,1,1\n0.1,2,2\n0.1,3,3\n"), NULL, &ds), "const");
    cr_assert_eq(ds.preprocess.columns[0].std, 1.0);
    for (size_t r = 0; r < 3; r++) cr_assert_eq(ds.x[r * 2], 0.0f);
    nncl_dataset_free(&ds);
}

/* ======================================== IDX ======================================== */

TestSuite(idx, .init = tmp_setup, .fini = tmp_teardown);

static void assert_small_idx(const struct nncl_dataset *ds) {
    cr_assert_eq(ds->n, 3);
    cr_assert_eq(ds->n_inputs, 6);
    cr_assert_eq(ds->n_outputs, 10);
    cr_assert_eq(ds->task, NNCL_TASK_CLASSIFICATION);
    cr_assert_eq(ds->n_classes, 10);
    cr_assert_str_eq(ds->class_names[0], "0");
    cr_assert_str_eq(ds->class_names[9], "9");
    cr_assert_eq(ds->preprocess.n_columns, 0);
    for (size_t i = 0; i < 18; i++) cr_assert_eq(ds->x[i], (float)pixels[i] / 255.0f, "pixel %zu", i);
    for (size_t r = 0; r < 3; r++) {
        for (size_t k = 0; k < 10; k++) {
            cr_assert_eq(ds->y[r * 10 + k], k == labels3[r] ? 1.0f : 0.0f, "row %zu class %zu", r, k);
        }
    }
}

Test(idx, plain_and_gzip) {
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_idx(write_images("img", 0), write_labels("lbl", 0), &ds), "plain");
    assert_small_idx(&ds);
    nncl_dataset_free(&ds);
    tu_ok(nncl_dataset_load_idx(write_images("img.gz", 1), write_labels("lbl.gz", 1), &ds), "gzip");
    assert_small_idx(&ds);
    nncl_dataset_free(&ds);
    /* detected by content, whatever the name says */
    tu_ok(nncl_dataset_load_idx(write_images("img2.gz", 0), write_labels("lbl2", 1), &ds), "mixed");
    assert_small_idx(&ds);
    nncl_dataset_free(&ds);
}

Test(idx, truncated) {
    struct nncl_dataset ds;
    const char *labels = write_labels("lbl", 0);
    unsigned char full[64];
    size_t n = make_idx(full, 0x00000803, image_dims, 3, pixels, sizeof pixels);
    cr_assert_eq(n, 16 + 18);
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("cut0", full, 0, 0), labels, &ds), NNCL_ERR_FORMAT, "cut0",
                 "truncated", "ends at byte 0", "the magic number needs 4 bytes");
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("cut10", full, 10, 0), labels, &ds), NNCL_ERR_FORMAT, "cut10",
                 "ends at byte 10", "size of dimension 1 needs 4 bytes from byte 8");
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("cut21", full, 21, 0), labels, &ds), NNCL_ERR_FORMAT, "cut21",
                 "ends at byte 21", "needs 18 bytes from byte 16", "13 missing");
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("cut21.gz", full, 21, 1), labels, &ds), NNCL_ERR_FORMAT,
                 "cut21.gz", "ends at byte 21", "needs 18 bytes from byte 16");
    /* the compressed stream itself cut short */
    size_t gz_len = 0;
    unsigned char *gz = read_all(write_images("whole.gz", 1), &gz_len);
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("cutgz", gz, gz_len - 12, 0), labels, &ds), NNCL_ERR_FORMAT,
                 "cutgz", "truncated");
    free(gz);
    unsigned char lbl[16];
    size_t ln = make_idx(lbl, 0x00000801, label_dims, 1, labels3, 3);
    ASSERT_ERROR(nncl_dataset_load_idx(write_images("img", 0), write_file("lblcut", lbl, ln - 1, 0), &ds),
                 NNCL_ERR_FORMAT, "lblcut", "ends at byte 10", "3 labels needs 3 bytes from byte 8");
    cr_assert_null(ds.x, "nothing is left in out after a failure");
}

Test(idx, bad_magic_and_dimensions) {
    struct nncl_dataset ds;
    unsigned char buf[64];
    size_t n = make_idx(buf, 0x00000802, image_dims, 3, pixels, sizeof pixels);
    const char *labels = write_labels("lbl", 0);
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("bad_magic.idx", buf, n, 0), labels, &ds), NNCL_ERR_FORMAT,
                 "bad_magic.idx", "bad magic number 0x00000802", "expected 0x00000803");
    ASSERT_ERROR(nncl_dataset_load_idx(labels, write_images("img", 0), &ds), NNCL_ERR_FORMAT, "lbl",
                 "expected 0x00000803", "swapped");
    const char *text = write_text("text.idx", "hello, world: not an IDX file");
    ASSERT_ERROR(nncl_dataset_load_idx(text, labels, &ds), NNCL_ERR_FORMAT, "text.idx", "bad magic number");
    const uint32_t zero_dims[3] = {3, 0, 3};
    n = make_idx(buf, 0x00000803, zero_dims, 3, pixels, 0);
    ASSERT_ERROR(nncl_dataset_load_idx(write_file("zero.idx", buf, n, 0), labels, &ds), NNCL_ERR_FORMAT, "zero.idx",
                 "dimension 1", "is 0");
    ASSERT_ERROR(nncl_dataset_load_idx(tmp_path("missing.idx"), labels, &ds), NNCL_ERR_IO, "missing.idx", "cannot open");
}

Test(idx, counts_labels_and_trailing_bytes) {
    struct nncl_dataset ds;
    const char *images = write_images("img", 0);
    unsigned char buf[64];
    const uint32_t two[1] = {2};
    size_t n = make_idx(buf, 0x00000801, two, 1, labels3, 2);
    ASSERT_ERROR(nncl_dataset_load_idx(images, write_file("lbl2", buf, n, 0), &ds), NNCL_ERR_FORMAT,
                 "holds 3 images", "lbl2 holds 2 labels");
    const unsigned char bad_labels[3] = {1, 10, 2};
    n = make_idx(buf, 0x00000801, label_dims, 1, bad_labels, 3);
    ASSERT_ERROR(nncl_dataset_load_idx(images, write_file("lbl10", buf, n, 0), &ds), NNCL_ERR_FORMAT, "lbl10",
                 "label 10 of example 1 (byte 9)", "0..9");
    n = make_idx(buf, 0x00000801, label_dims, 1, labels3, 3);
    buf[n++] = 0xAB;
    buf[n++] = 0xCD;
    ASSERT_ERROR(nncl_dataset_load_idx(images, write_file("lbl_extra.gz", buf, n, 1), &ds), NNCL_ERR_FORMAT,
                 "lbl_extra.gz", "2 unexpected bytes after byte 11");
}

Test(idx, fashion_mnist_folder_of_plain_files) {
    /* the plain names are found when the .gz ones are absent; Fashion-MNIST's class names replace digits */
    write_images("train-images-idx3-ubyte", 0);
    write_labels("train-labels-idx1-ubyte", 0);
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_fashion_mnist(tmp_dir, "train", &ds), "fashion-mnist from the scratch folder");
    cr_assert_eq(ds.n, 3);
    cr_assert_str_eq(ds.class_names[0], "T-shirt/top");
    cr_assert_str_eq(ds.class_names[9], "Ankle boot");
    nncl_dataset_free(&ds);
    ASSERT_ERROR(nncl_dataset_load_fashion_mnist(tmp_dir, "test", &ds), NNCL_ERR_IO, tmp_dir,
                 "t10k-images-idx3-ubyte.gz", "dataset-fashion-mnist");
    ASSERT_ERROR(nncl_dataset_load_fashion_mnist(tmp_dir, "valid", &ds), NNCL_ERR_INVALID_ARG, "valid",
                 "train or test");
}

Test(idx, fashion_mnist_missing_folder) {
    struct nncl_dataset ds;
    ASSERT_ERROR(nncl_dataset_load_fashion_mnist("/nonexistent/fashion", "train", &ds), NNCL_ERR_IO,
                 "/nonexistent/fashion", "does not exist", "train-images-idx3-ubyte",
                 "sudo apt-get install dataset-fashion-mnist", "cmake/install_deps.sh", "pass the folder");
}

/* ================================ the real Fashion-MNIST ================================ */

static void skip_without_fashion_mnist(void) {
    struct stat sb;
    if (stat(FASHION_MNIST_DIR, &sb) == 0) return;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        cr_assert_fail("CI=true but %s is missing: install dataset-fashion-mnist", FASHION_MNIST_DIR);
    }
    cr_skip_test("%s is missing (install the Debian package dataset-fashion-mnist)", FASHION_MNIST_DIR);
}

static void check_fashion_mnist(const char *split, size_t n, size_t first_label) {
    skip_without_fashion_mnist();
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_fashion_mnist(NULL, split, &ds), split);
    cr_assert_eq(ds.n, n, "%s: %zu examples", split, ds.n);
    cr_assert_eq(ds.n_inputs, 784);
    cr_assert_eq(ds.n_outputs, 10);
    cr_assert_eq(ds.task, NNCL_TASK_CLASSIFICATION);
    float lo = 1.0f, hi = 0.0f;
    for (size_t i = 0; i < ds.n * ds.n_inputs; i++) {
        lo = ds.x[i] < lo ? ds.x[i] : lo;
        hi = ds.x[i] > hi ? ds.x[i] : hi;
    }
    cr_assert(lo >= 0.0f && hi <= 1.0f, "pixels in [%g, %g]", (double)lo, (double)hi);
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 1.0f, "some pixel is 255");
    size_t counts[10] = {0};
    for (size_t r = 0; r < ds.n; r++) {
        float sum = 0.0f;
        for (size_t k = 0; k < 10; k++) sum += ds.y[r * 10 + k];
        cr_assert_eq(sum, 1.0f, "row %zu is one-hot", r);
        counts[nncl_dataset_label(&ds, r)]++;
    }
    for (size_t k = 0; k < 10; k++) cr_assert_eq(counts[k], n / 10, "Fashion-MNIST is balanced: class %zu", k);
    cr_assert_eq(nncl_dataset_label(&ds, 0), first_label);
    cr_assert_str_eq(ds.class_names[9], "Ankle boot");
    nncl_dataset_free(&ds);
}

Test(fashion_mnist, train_split, .timeout = 300) {
    check_fashion_mnist("train", 60000, 9); /* the first training image is an ankle boot */
}

Test(fashion_mnist, test_split, .timeout = 300) {
    check_fashion_mnist("test", 10000, 9); /* so is the first test image */
}

/* ---- delimiters and several target columns (issue 15 items 7 and 9) ---- */

Test(csv, delimiter_detected_from_the_header_only) {
    /* the header has ';' and no comma: values with decimal commas do not make it comma-separated */
    const char *path = write_text("semi.csv", "a;b;y\n1;2;3\n4;5,5;6\n");
    struct nncl_csv_options o = {.target = "y", .require_target = 1, .task = NNCL_TASK_REGRESSION};
    struct nncl_dataset ds;
    cr_assert_eq(nncl_dataset_load_csv(path, &o, &ds), NNCL_ERR_FORMAT, "5,5 is not a number with ';' fields");
    path = write_text("tab.csv", "a\tb\ty\n1\t2\t3\n4\t5\t6\n");
    cr_assert_eq(nncl_dataset_load_csv(path, &o, &ds), NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(ds.delimiter, '\t');
    cr_assert_eq(ds.n_inputs, 2);
    nncl_dataset_free(&ds);
    path = write_text("pipe.csv", "a|b|y\n1|2|3\n4|5|6\n");
    o.delimiter = '|';
    cr_assert_eq(nncl_dataset_load_csv(path, &o, &ds), NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(ds.delimiter, '|');
    cr_assert_eq(ds.n_inputs, 2);
    nncl_dataset_free(&ds);
}

Test(csv, several_targets_are_multi_output_regression) {
    const char *path = write_text("two.csv", "x,y1,y2\n1,10,-1\n2,20,-2\n3,30,-3\n");
    struct nncl_csv_options o = {.target = "y1,y2", .require_target = 1};
    struct nncl_dataset ds;
    cr_assert_eq(nncl_dataset_load_csv(path, &o, &ds), NNCL_OK, "%s", nncl_last_error());
    cr_assert_eq(ds.n_outputs, 2);
    cr_assert_eq(ds.n_inputs, 1);
    cr_assert_eq(ds.task, NNCL_TASK_REGRESSION);
    cr_assert_float_eq(ds.y[2 * 2 + 0], 30.0f, 1e-6);
    cr_assert_float_eq(ds.y[2 * 2 + 1], -3.0f, 1e-6);
    cr_assert_str_eq(ds.preprocess.target, "y1,y2");
    nncl_dataset_free(&ds);
    o.standardize_targets = 1; /* one stored mean and std cannot hold two columns' */
    cr_assert_eq(nncl_dataset_load_csv(path, &o, &ds), NNCL_ERR_INVALID_ARG);
    cr_assert(strstr(nncl_last_error(), "standardising targets is for one target column"), "%s", nncl_last_error());
}
