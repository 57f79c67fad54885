/*
 * test_targets.c: right answers for every input (issue 15): losses refuse targets they are not defined
 * for, naming the file, column and first offending row; regression targets are standardised by default
 * and a linear model reaches the least-squares optimum computed here in double.
 */
#define _GNU_SOURCE /* mkdtemp, popen */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
#include "io/safetensors.h"
#include "test_util.h"

static struct nncl_dataset alloc_data(size_t n, size_t in, size_t out) {
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n, ds.n_inputs = in, ds.n_outputs = out;
    ds.x = calloc(n * in, sizeof(float));
    ds.y = calloc(n * out, sizeof(float));
    cr_assert(ds.x && ds.y);
    snprintf(ds.source, sizeof ds.source, "generated.csv");
    return ds;
}

static struct nncl_model *linear(struct nncl_backend *be, size_t in, size_t out, enum nncl_loss loss) {
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = in;
    s.layers[s.n_layers++] = (struct nncl_layer_spec){out, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    s.loss = loss;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 1, &m), "model_init");
    return m;
}

Test(targets, bce_refuses_values_outside_0_1) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(3, 1, 1);
    const float y[] = {0, 1, 30};
    memcpy(ds.y, y, sizeof y);
    snprintf(ds.preprocess.target, sizeof ds.preprocess.target, "income");
    struct nncl_model *m = linear(be, 1, 1, NNCL_LOSS_BCE);
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 1;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_FORMAT, "generated.csv", "column \"income\"", "row 3", "30",
                 "[0, 1]");
    ds.y[2] = 0.25f; /* probabilities are fine */
    tu_ok(nncl_train(m, &ds, &o, NULL), "bce on probabilities");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(targets, bce_refuses_one_hot_classes) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(3, 1, 3);
    for (size_t i = 0; i < 3; i++) ds.y[i * 3 + i] = 1.0f;
    ds.task = NNCL_TASK_CLASSIFICATION, ds.n_classes = 3;
    snprintf(ds.preprocess.target, sizeof ds.preprocess.target, "major");
    struct nncl_model *m = linear(be, 1, 3, NNCL_LOSS_BCE);
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 1;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_FORMAT, "generated.csv", "column \"major\"", "3 classes",
                 "xent");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

Test(targets, xent_refuses_rows_that_are_not_distributions) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_dataset ds = alloc_data(3, 1, 2);
    const float y[] = {1, 0, 0.3f, 0.7f, 0.5f, 0.2f};
    memcpy(ds.y, y, sizeof y);
    struct nncl_model *m = linear(be, 1, 2, NNCL_LOSS_XENT);
    struct nncl_train_options o = nncl_train_defaults();
    o.epochs = 1;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_FORMAT, "generated.csv", "row 3", "sum to 0.7");
    ds.y[4] = 2.0f, ds.y[5] = -1.0f;
    ASSERT_ERROR(nncl_train(m, &ds, &o, NULL), NNCL_ERR_FORMAT, "generated.csv", "target column 1", "row 3", "2");
    ds.y[4] = 0.8f, ds.y[5] = 0.2f;
    tu_ok(nncl_train(m, &ds, &o, NULL), "xent on probabilities");
    nncl_model_free(m);
    nncl_dataset_free(&ds);
    tu_free_all();
}

/* ---- regression targets are standardised by default -------------------------------------------------- */

#define REG_N 1000
#define REG_D 3

/* y = 150 + 20 x1 - 35 x2 + 8 x3 + noise: targets in the tens to hundreds, far from 0. Written as CSV;
 * the raw values are returned for the least-squares reference. */
static void write_regression_csv(const char *path, double x[REG_N][REG_D], double y[REG_N]) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fprintf(f, "a,b,c,y\n");
    struct tu_rng rng = {7};
    for (size_t i = 0; i < REG_N; i++) {
        for (size_t j = 0; j < REG_D; j++) x[i][j] = (double)tu_uniform(&rng, 0, 10);
        const double noise = 10.0 * ((double)tu_uniform(&rng, -1, 1) + (double)tu_uniform(&rng, -1, 1));
        y[i] = 150.0 + 20.0 * x[i][0] - 35.0 * x[i][1] + 8.0 * x[i][2] + noise;
        fprintf(f, "%.17g,%.17g,%.17g,%.17g\n", x[i][0], x[i][1], x[i][2], y[i]);
    }
    cr_assert(fclose(f) == 0);
}

/* The least-squares optimum's mean squared error, from the normal equations (A^T A) w = A^T y in double,
 * A = [1 x], solved by Gaussian elimination with partial pivoting: what numpy.linalg.lstsq returns. */
static double lstsq_mse(double x[REG_N][REG_D], const double y[REG_N]) {
    enum { P = REG_D + 1 };
    double m[P][P + 1];
    memset(m, 0, sizeof m);
    for (size_t i = 0; i < REG_N; i++) {
        const double a[P] = {1.0, x[i][0], x[i][1], x[i][2]};
        for (int r = 0; r < P; r++) {
            for (int c = 0; c < P; c++) m[r][c] += a[r] * a[c];
            m[r][P] += a[r] * y[i];
        }
    }
    for (int col = 0; col < P; col++) {
        int piv = col;
        for (int r = col + 1; r < P; r++) {
            if (fabs(m[r][col]) > fabs(m[piv][col])) piv = r;
        }
        for (int c = 0; c <= P; c++) {
            const double t = m[col][c];
            m[col][c] = m[piv][c], m[piv][c] = t;
        }
        for (int r = 0; r < P; r++) {
            if (r == col) continue;
            const double f = m[r][col] / m[col][col];
            for (int c = col; c <= P; c++) m[r][c] -= f * m[col][c];
        }
    }
    double w[P], se = 0;
    for (int r = 0; r < P; r++) w[r] = m[r][P] / m[r][r];
    for (size_t i = 0; i < REG_N; i++) {
        const double e = w[0] + w[1] * x[i][0] + w[2] * x[i][1] + w[3] * x[i][2] - y[i];
        se += e * e;
    }
    return se / REG_N;
}

/* Runs the nncl command (NNCL_CLI) with `args`; returns the first number after `key` on its stdout. */
static double run_cli_number(const char *args, const char *key) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "\"%s\" %s", NNCL_CLI, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    char line[512];
    double v = NAN;
    while (fgets(line, sizeof line, p)) {
        const char *at = strstr(line, key);
        if (at && isnan(v)) v = strtod(at + strlen(key), NULL);
    }
    cr_assert(pclose(p) == 0, "`%s` failed", cmd);
    return v;
}

/* With the defaults (Adam, lr 0.001, batch 128) and no hidden layer, `nncl train` reaches the least-squares
 * optimum within 1% in 500 epochs (the trial), and `nncl eval` reports the MSE in the data's units. Without standardised targets the
 * output bias has to walk to ~150 in steps of ~0.001, and the MSE stays about ten times the optimum. */
Test(targets, default_regression_reaches_lstsq) {
    static double x[REG_N][REG_D], y[REG_N];
    char dir[] = "/tmp/nncl_targets_XXXXXX";
    cr_assert(mkdtemp(dir));
    char csv[128], model[128], args[1024];
    snprintf(csv, sizeof csv, "%s/reg.csv", dir);
    snprintf(model, sizeof model, "%s/reg.safetensors", dir);
    write_regression_csv(csv, x, y);
    const double best = lstsq_mse(x, y);
    snprintf(args, sizeof args, "train --data %s --epochs 500 --backend cpu --quiet --out %s 2>/dev/null", csv, model);
    run_cli_number(args, "\n");
    snprintf(args, sizeof args, "eval --model %s --data %s --backend cpu 2>/dev/null", model, csv);
    const double mse = run_cli_number(args, "mean squared error ");
    cr_assert(mse <= best * 1.01 && mse >= best * 0.999, "MSE %.6g with the defaults; the least-squares optimum is %.6g",
              mse, best);
    /* the numbers that undo the standardisation are in the model file */
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_load(be, model, &m), "load");
    const struct nncl_preprocess *pp = nncl_model_preprocess(m);
    double mean = 0;
    for (size_t i = 0; i < REG_N; i++) mean += y[i] / REG_N;
    cr_assert(fabs(pp->target_mean - mean) < 1e-3 * fabs(mean), "target_mean %g, the data's mean %g", pp->target_mean,
              mean);
    cr_assert(pp->target_std > 10.0, "target_std %g", pp->target_std);
    nncl_model_free(m);
    /* --no-standardize-targets keeps them raw: 0 and 1 in the file */
    snprintf(args, sizeof args, "train --data %s --epochs 1 --backend cpu --quiet --no-standardize-targets --out %s "
             "2>/dev/null", csv, model);
    run_cli_number(args, "\n");
    tu_ok(nncl_model_load(be, model, &m), "load");
    cr_assert(nncl_model_preprocess(m)->target_mean == 0.0 && nncl_model_preprocess(m)->target_std == 1.0);
    nncl_model_free(m);
    remove(csv);
    remove(model);
    rmdir(dir);
    tu_free_all();
}

/* ---- predict needs no targets, on every format ------------------------------------------------------- */

/* A safetensors file with `x` alone loads as prediction input (y NULL); the training loader still wants y. */
Test(targets, safetensors_without_y_is_prediction_input) {
    char path[] = "/tmp/nncl_x_only_XXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    cr_assert(fd >= 0);
    close(fd);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    struct st_write_tensor t = {"x", 2, {3, 2}, x};
    tu_ok(st_write(path, &t, 1, NULL, 0), "write x only");
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_safetensors_inputs(path, NNCL_TASK_AUTO, 0, &ds), "inputs only");
    cr_assert(ds.n == 3 && ds.n_inputs == 2 && ds.y == NULL && ds.x[5] == 6.0f);
    nncl_dataset_free(&ds);
    ASSERT_ERROR(nncl_dataset_load_safetensors(path, NNCL_TASK_AUTO, 0, &ds), NNCL_ERR_FORMAT, "no tensor \"y\"");
    remove(path);
}

Test(targets, idx_images_without_labels_are_prediction_input) {
    struct nncl_dataset ds;
    tu_ok(nncl_dataset_load_idx(TEST_DATA_DIR "/tiny-images.idx", NULL, &ds), "images only");
    cr_assert(ds.n == 3 && ds.y == NULL && ds.n_outputs == 10);
    nncl_dataset_free(&ds);
}
