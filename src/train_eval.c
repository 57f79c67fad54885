/*
 * train_eval.c: evaluation, prediction and single-batch gradients (nncl_evaluate, nncl_predict,
 * nncl_compute_gradient); the optimizer names and the training defaults; and what they share with the
 * trainer (train.c): the data set uploaded to the device and the per-batch scratch with its accumulators.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_impl.h"
#include "nncl/nncl_train.h"
#include "status_impl.h"
#include "train_impl.h"
#include "util/util.h"

#define OPT_NAME_(ID, name, ...) [NNCL_OPT_##ID] = name,
static const char *const optimizer_names[NNCL_OPT_COUNT] = {NNCL_OPTIMIZER_LIST(OPT_NAME_)};
#define OPT_SLOTS_(ID, name, slots, ...) [NNCL_OPT_##ID] = slots,
static const size_t optimizer_slots[NNCL_OPT_COUNT] = {NNCL_OPTIMIZER_LIST(OPT_SLOTS_)};

const char *nncl_optimizer_name(enum nncl_optimizer opt) {
    return (unsigned)opt < NNCL_OPT_COUNT ? optimizer_names[opt] : "unknown optimizer";
}

size_t nncl_optimizer_state_slots(enum nncl_optimizer opt) {
    return (unsigned)opt < NNCL_OPT_COUNT ? optimizer_slots[opt] : 0;
}

enum nncl_status nncl_optimizer_from_name(const char *name, enum nncl_optimizer *out) {
    for (int i = 0; name && i < NNCL_OPT_COUNT; i++) {
        if (strcmp(name, optimizer_names[i]) == 0) return *out = (enum nncl_optimizer)i, NNCL_OK;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "unknown optimizer \"%s\"; choose one of %s", name ? name : "",
                          NNCL_OPTIMIZER_NAMES_PIPED + 1);
}

struct nncl_train_options nncl_train_defaults(void) {
    struct nncl_train_options o = {
        .batch_size = 128, .epochs = 10, .optimizer = NNCL_OPT_ADAM, .lr = 1e-3f, .momentum = 0.9f,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .shuffle = 1, .seed = 1, .tol = 1e-4, .patience = 0,
        .verify_gemm = 1, .rmsprop_alpha = 0.99f, .rprop_increase = 1.2f, .rprop_decrease = 0.5f,
        .rprop_delta_min = 0.0f, .rprop_delta_max = 50.0f, .rprop_delta_zero = 0.1f, /* FANN's */
    };
    return o;
}

/* ---- the data set on the device ---------------------------------------------------------------- */

enum nncl_status train_upload(struct nncl_backend *be, const struct nncl_dataset *ds, size_t n, struct train_device_data *dd) {
    memset(dd, 0, sizeof *dd);
    const size_t nx = n * ds->n_inputs, ny = ds->y ? n * ds->n_outputs : 0;
    TRY(nncl_buffer_alloc(be, (nx + ny) * sizeof(float), &dd->buf));
    dd->x = nncl_tensor_view(dd->buf, 0, n, ds->n_inputs);
    TRY(nncl_tensor_set(&dd->x, ds->x, nx));
    if (ds->y) {
        dd->y = nncl_tensor_view(dd->buf, nx, n, ds->n_outputs);
        TRY(nncl_tensor_set(&dd->y, ds->y, ny));
    }
    return NNCL_OK;
}

/* ---- per-batch scratch ------------------------------------------------------------------------- */

enum nncl_status train_batch_space_init(struct nncl_backend *be, size_t rows, size_t in, size_t out,
                                       struct train_batch_space *b) {
    memset(b, 0, sizeof *b);
    TRY(nncl_buffer_alloc(be, (rows * (in + out + 2) + ACC_COUNT) * sizeof(float), &b->buf));
    size_t off = 0;
    b->x = nncl_tensor_view(b->buf, off, rows, in), off += rows * in;
    b->t = nncl_tensor_view(b->buf, off, rows, out), off += rows * out;
    b->loss_rows = nncl_tensor_view(b->buf, off, rows, 1), off += rows;
    b->err_rows = nncl_tensor_view(b->buf, off, rows, 1), off += rows;
    b->acc_all = nncl_tensor_view(b->buf, off, 1, ACC_COUNT);
    for (int i = 0; i < ACC_COUNT; i++) b->acc[i] = nncl_tensor_view(b->buf, off + (size_t)i, 1, 1);
    return nncl_op_fill(be, 0.0f, &b->acc_all);
}

/* The first `rows` rows of a batch tensor. */
struct nncl_tensor train_head(const struct nncl_tensor *t, size_t rows) {
    return nncl_tensor_view(t->buffer, t->offset, rows, t->cols);
}

int train_measures_error(const struct nncl_model *m) {
    return m->spec.loss != NNCL_LOSS_MSE || m->task == NNCL_TASK_BINARY || m->task == NNCL_TASK_CLASSIFICATION;
}

/* Forward over a batch (x, t) and add its summed loss and error into acc[loss_slot], acc[loss_slot + 1]. */
enum nncl_status train_forward_and_count(struct nncl_model *m, struct train_batch_space *b, const struct nncl_tensor *x,
                                        const struct nncl_tensor *t, int loss_slot) {
    const size_t rows = x->rows;
    struct nncl_tensor loss_rows = train_head(&b->loss_rows, rows), err_rows = train_head(&b->err_rows, rows), out;
    TRY(nncl_model_forward(m, x, t, &loss_rows, &out));
    TRY(nncl_op_sum(m->be, 1.0f, &loss_rows, 1.0f, &b->acc[loss_slot]));
    if (train_measures_error(m)) {
        TRY(nncl_op_class_error(m->be, &out, t, &err_rows));
        TRY(nncl_op_sum(m->be, 1.0f, &err_rows, 1.0f, &b->acc[loss_slot + 1]));
    }
    return NNCL_OK;
}

/* ---- evaluation -------------------------------------------------------------------------------- */

enum nncl_status nncl_evaluate(struct nncl_model *m, const struct nncl_dataset *data, size_t batch_size, double *loss,
                               double *error) {
    if (!m) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_evaluate: model is NULL");
    TRY(nncl_model_set_dropout(m, 0, 0, 0, 0)); /* evaluation never drops */
    TRY(train_check_data(m, data, 1));
    const size_t rows_max = batch_size == 0 || batch_size > data->n ? data->n : batch_size;
    struct train_device_data dd;
    struct train_batch_space b;
    memset(&b, 0, sizeof b);
    enum nncl_status st = train_upload(m->be, data, data->n, &dd);
    if (!st) st = train_batch_space_init(m->be, rows_max, data->n_inputs, data->n_outputs, &b);
    for (size_t first = 0; !st && first < data->n; first += rows_max) {
        const size_t rows = data->n - first < rows_max ? data->n - first : rows_max;
        struct nncl_tensor x = nncl_tensor_view(dd.buf, dd.x.offset + first * data->n_inputs, rows, data->n_inputs);
        struct nncl_tensor t = nncl_tensor_view(dd.buf, dd.y.offset + first * data->n_outputs, rows, data->n_outputs);
        st = train_forward_and_count(m, &b, &x, &t, ACC_TRAIN_LOSS);
    }
    float acc[ACC_COUNT] = {0};
    if (!st) st = nncl_tensor_get(&b.acc_all, acc, ACC_COUNT);
    nncl_buffer_free(dd.buf);
    nncl_buffer_free(b.buf);
    if (st) return st;
    if (loss) *loss = acc[ACC_TRAIN_LOSS] / (double)data->n;
    if (error) *error = train_measures_error(m) ? acc[ACC_TRAIN_ERR] / (double)data->n : NAN;
    return NNCL_OK;
}

enum nncl_status nncl_predict(struct nncl_model *m, const struct nncl_dataset *data, size_t batch_size, float *out) {
    if (!m || !out) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_predict: model or out is NULL");
    TRY(nncl_model_set_dropout(m, 0, 0, 0, 0)); /* prediction never drops */
    TRY(train_check_data(m, data, 0));
    const size_t rows_max = batch_size == 0 || batch_size > data->n ? data->n : batch_size;
    const size_t outputs = nncl_model_outputs(&m->spec);
    struct nncl_dataset inputs_only = *data;
    inputs_only.y = NULL;
    struct train_device_data dd;
    enum nncl_status st = train_upload(m->be, &inputs_only, data->n, &dd);
    for (size_t first = 0; !st && first < data->n; first += rows_max) {
        const size_t rows = data->n - first < rows_max ? data->n - first : rows_max;
        struct nncl_tensor x = nncl_tensor_view(dd.buf, first * data->n_inputs, rows, data->n_inputs), y;
        st = nncl_model_forward(m, &x, NULL, NULL, &y);
        if (!st) st = nncl_tensor_get(&y, out + first * outputs, rows * outputs);
    }
    nncl_buffer_free(dd.buf);
    return st;
}

enum nncl_status nncl_compute_gradient(struct nncl_model *m, const struct nncl_dataset *data, size_t n, double *loss) {
    if (!m) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_compute_gradient: model is NULL");
    TRY(nncl_model_set_dropout(m, 0, 0, 0, 0)); /* the gradient of the model as evaluated: no dropout */
    TRY(train_check_data(m, data, 1));
    if (n == 0 || n > data->n) n = data->n;
    struct train_device_data dd;
    struct train_batch_space b;
    memset(&b, 0, sizeof b);
    enum nncl_status st = train_upload(m->be, data, n, &dd);
    if (!st) st = train_batch_space_init(m->be, n, data->n_inputs, data->n_outputs, &b);
    if (!st) st = train_forward_and_count(m, &b, &dd.x, &dd.y, ACC_TRAIN_LOSS);
    if (!st) st = nncl_model_backward(m, &dd.x, &dd.y);
    float acc[ACC_COUNT] = {0};
    if (!st) st = nncl_tensor_get(&b.acc_all, acc, ACC_COUNT);
    nncl_buffer_free(dd.buf);
    nncl_buffer_free(b.buf);
    if (!st && loss) *loss = acc[ACC_TRAIN_LOSS] / (double)n;
    return st;
}
