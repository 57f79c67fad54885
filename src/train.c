/*
 * train.c: the trainer (batch, stochastic and mini-batch gradient descent with the optimizers of
 * optimizer.c, the stop rule, checkpoints and resume), through backend ops. Evaluation, prediction and
 * single-batch gradients are in train_eval.c.
 *
 * The data set is copied to the backend once. Each epoch uploads one permutation of the example
 * indices (the shuffle); each step then gathers its batch on the device, runs forward, backward and
 * the optimizer update, and adds its summed loss and error into an accumulator on the device. Only at
 * the end of an epoch is the accumulator read back: one small blocking read per epoch.
 *
 * Every batch's rows and the step count come from the plan (train_plan.c, nncl_train_plan), which the
 * CLBlast guard below reads too: it checks the products of exactly the batches the loop runs
 * (train_gemm_cases, train_plan.c).
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "checkpoint.h"
#include "model_impl.h"
#include "nncl/nncl_train.h"
#include "optimizer_impl.h"
#include "random_impl.h"
#include "status_impl.h"
#include "train_impl.h"
#include "util/util.h"

/* ---- training ---------------------------------------------------------------------------------- */

/* The optimizer step (src/optimizer.c, shared with nncl check) on the model's whole parameter arena. */
static enum nncl_status model_step(struct nncl_model *m, const struct nncl_train_options *o, struct optimizer_state *os) {
    struct nncl_tensor w = nncl_model_params(m), g = nncl_model_grads(m);
    return optimizer_step(m->be, o, os, &w, &g);
}

/* Fisher-Yates with the seeded generator, so a seed gives the same order on every backend. */
static void shuffle(float *idx, size_t n, uint64_t *rng) {
    for (size_t i = n; i > 1; i--) {
        const size_t j = (size_t)(nncl_random_next(rng) % i);
        const float tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}

struct trainer {
    struct nncl_model *m;
    const struct nncl_train_options *o;
    const struct nncl_dataset *host; /* the caller's data */
    struct nncl_memory_plan plan;
    const struct nncl_train_geometry *g; /* &plan.geometry: the split, the batches' rows, the steps */
    struct train_device_data data;         /* empty when streaming */
    struct train_batch_space batch;
    struct optimizer_state opt;
    struct nncl_buffer *idx_buf;     /* this epoch's training order, then the validation examples */
    float *order;                    /* host copy of the same */
    /* [s] the summed loss of step s of the epoch, and after the last step the sum of all parameters (read
     * once per epoch). A non-finite loss marks a step where training diverged; a non-finite gradient makes
     * the next step's loss, or the final parameter sum, non-finite, so no per-step pass over the gradients
     * is needed: the replay (report_divergence) finds which step and which layer. */
    struct nncl_buffer *health;
    float *health_host;
    /* parameters and optimizer state at the start of the epoch: the last good state */
    struct nncl_buffer *snapshot;
    float *host_x, *host_t;          /* streaming: the batch assembled on the host */
    /* long runs (src/checkpoint.c): the best weights, the resolved schedule, the resume point */
    struct nncl_buffer *best;        /* the best epoch's parameters (patience without keep_last) */
    struct nncl_lr_schedule sched;   /* options.schedule with the cosine length resolved */
    size_t first_step;               /* the step the epoch in progress started at (> 0: resumed mid-epoch) */
    int resume_in_epoch;             /* the next epoch continues a checkpoint's epoch at resume_step */
    size_t resume_step, first_epoch;
    double resume_loss_sum, loss_sum; /* the epoch's training loss sum: restored, and the last epoch's */
    float resume_err, err_sum;
    size_t steps_done;               /* steps of the last epoch (fewer than steps_per_epoch when stopped) */
    double t_start, t_first_step;
    /* accumulation and ranks (train_step_parts): the host sums and the buckets (train_reduce.c) */
    struct train_reduce reduce;
    int parts_mode, stop_agreed;
};

static void trainer_free(struct trainer *tr) {
    nncl_buffer_free(tr->data.buf);
    nncl_buffer_free(tr->batch.buf);
    optimizer_free(&tr->opt);
    nncl_buffer_free(tr->idx_buf);
    nncl_buffer_free(tr->health);
    nncl_buffer_free(tr->snapshot);
    nncl_buffer_free(tr->best);
    free(tr->order);
    free(tr->health_host);
    free(tr->host_x);
    free(tr->host_t);
    train_reduce_free(&tr->reduce);
}

/* The rows listed at order[first .. first + rows) into the batch tensors: gathered on the device, or,
 * when the data set is streamed, on the host and copied over (the one host copy per step streaming costs). */
static enum nncl_status gather(struct trainer *tr, size_t first, size_t rows) {
    struct nncl_tensor x = train_head(&tr->batch.x, rows), t = train_head(&tr->batch.t, rows);
    if (!tr->plan.streaming) {
        struct nncl_tensor idx = nncl_tensor_view(tr->idx_buf, first, rows, 1);
        TRY(nncl_op_gather_rows(tr->m->be, &tr->data.x, &idx, &x));
        return nncl_op_gather_rows(tr->m->be, &tr->data.y, &idx, &t);
    }
    const size_t in = tr->host->n_inputs, out = tr->host->n_outputs;
    for (size_t r = 0; r < rows; r++) {
        const size_t i = (size_t)tr->order[first + r];
        memcpy(tr->host_x + r * in, tr->host->x + i * in, in * sizeof(float));
        memcpy(tr->host_t + r * out, tr->host->y + i * out, out * sizeof(float));
    }
    TRY(nncl_tensor_set(&x, tr->host_x, rows * in));
    return nncl_tensor_set(&t, tr->host_t, rows * out);
}

/* The rows of training step `step` of an epoch, and of validation batch `batch`: the plan's. */
static size_t step_rows(const struct nncl_train_geometry *g, size_t step) {
    return step + 1 < g->steps_per_epoch ? g->batch_rows : g->last_batch_rows;
}

static size_t val_batch_rows(const struct nncl_train_geometry *g, size_t batch) {
    return batch + 1 < g->val_batches ? g->val_batch_rows : g->val_last_batch_rows;
}

/* Dropout for the forward and backward of the step the optimizer takes next: keyed by the run's seed and that
 * step's 0-based count over the whole run (a checkpoint restores it, so a resumed run draws the same masks), with
 * row0 the first row of the pass within the step's whole batch. Cleared after the backward. */
static enum nncl_status dropout_on(struct trainer *tr, size_t row0) {
    return nncl_model_set_dropout(tr->m, 1, tr->o->seed, (uint64_t)tr->opt.step, row0);
}

static enum nncl_status dropout_off(struct trainer *tr) { return nncl_model_set_dropout(tr->m, 0, 0, 0, 0); }

/*
 * A step of several parts (docs/distributed.md): this rank's parts of the global batch in order, each forward
 * and backward on its rows (the gradient of its mean loss), scaled by rows / the step's rows and folded into
 * the host sum; the sum over the ranks (exact: in rank order) in buckets begun during the last part's backward,
 * with a stop flag so every rank stops at the same step (train_reduce.c); the sum back into the gradient, the
 * update. The step's loss slot gets this rank's loss sum (the ranks' are summed at the end of the epoch).
 */
static enum nncl_status train_step_parts(struct trainer *tr, size_t step) {
    struct nncl_model *m = tr->m;
    const struct nncl_train_geometry *g = tr->g;
    const size_t total = step_rows(g, step);
    struct nncl_tensor loss_slot = nncl_tensor_view(tr->health, step, 1, 1);
    float loss_sum = 0.0f;
    for (size_t a = 0; a < g->accumulate; a++) {
        size_t first, rows;
        train_part_rows(g, step, g->rank * g->accumulate + a, &first, &rows);
        struct nncl_tensor x = train_head(&tr->batch.x, rows), t = train_head(&tr->batch.t, rows);
        float loss = 0.0f;
        if (rows) {
            TRY(gather(tr, first, rows));
            struct nncl_tensor loss_rows = train_head(&tr->batch.loss_rows, rows), out;
            TRY(dropout_on(tr, first - step * g->batch_rows));
            TRY(nncl_model_forward(m, &x, &t, &loss_rows, &out));
            TRY(nncl_op_sum(m->be, 1.0f, &loss_rows, 0.0f, &loss_slot));
            if (train_measures_error(m)) {
                struct nncl_tensor err_rows = train_head(&tr->batch.err_rows, rows);
                TRY(nncl_op_class_error(m->be, &out, &t, &err_rows));
                TRY(nncl_op_sum(m->be, 1.0f, &err_rows, 1.0f, &tr->batch.acc[ACC_TRAIN_ERR]));
            }
        }
        const float stop = tr->o->stop && *tr->o->stop ? 1.0f : 0.0f;
        TRY(train_reduce_part(&tr->reduce, &x, &t, rows, total, a == 0, a + 1 == g->accumulate, stop));
        TRY(dropout_off(tr)); /* the part's backward (in train_reduce_part) was the last pass to drop */
        if (rows) TRY(nncl_tensor_get(&loss_slot, &loss, 1));
        if (a == 0) {
            loss_sum = loss;
        } else {
            nncl_comm_fold(&loss_sum, &loss, 1);
        }
    }
    TRY(train_reduce_finish(&tr->reduce, &tr->stop_agreed));
    TRY(nncl_tensor_set(&loss_slot, &loss_sum, 1));
    return model_step(m, tr->o, &tr->opt);
}

/*
 * With several parts, the end of an epoch: every rank's per-step losses (steps first .. steps - 1) and training
 * error, summed over the ranks (the same reduction as the gradients), so every rank reports, stops and
 * checkpoints on the same numbers.
 */
static enum nncl_status reduce_epoch_counts(struct trainer *tr, size_t first, size_t steps, float *acc) {
    if (nncl_comm_size(tr->o->comm) == 1) return NNCL_OK;
    const size_t n = steps - first;
    float *buf = tr->reduce.part; /* free between steps; max(n_params, steps_per_epoch) + 1 floats */
    memcpy(buf, tr->health_host + first, n * sizeof(float));
    buf[n] = acc[ACC_TRAIN_ERR];
    TRY(nncl_comm_sum(tr->o->comm, buf, n + 1, tr->o->reduction));
    memcpy(tr->health_host + first, buf, n * sizeof(float));
    acc[ACC_TRAIN_ERR] = buf[n];
    return NNCL_OK;
}

/* Optimizer step `step` of the epoch (its batch starts at order[step * batch_rows]); records its loss. */
static enum nncl_status train_step(struct trainer *tr, size_t step) {
    struct nncl_model *m = tr->m;
    if (tr->parts_mode) return train_step_parts(tr, step);
    const size_t first = step * tr->g->batch_rows, rows = step_rows(tr->g, step);
    TRY(gather(tr, first, rows));
    struct nncl_tensor x = train_head(&tr->batch.x, rows), t = train_head(&tr->batch.t, rows);
    struct nncl_tensor loss_slot = nncl_tensor_view(tr->health, step, 1, 1);
    struct nncl_tensor loss_rows = train_head(&tr->batch.loss_rows, rows), out;
    TRY(dropout_on(tr, 0));
    TRY(nncl_model_forward(m, &x, &t, &loss_rows, &out));
    TRY(nncl_op_sum(m->be, 1.0f, &loss_rows, 0.0f, &loss_slot));
    if (train_measures_error(m)) {
        struct nncl_tensor err_rows = train_head(&tr->batch.err_rows, rows);
        TRY(nncl_op_class_error(m->be, &out, &t, &err_rows));
        TRY(nncl_op_sum(m->be, 1.0f, &err_rows, 1.0f, &tr->batch.acc[ACC_TRAIN_ERR]));
    }
    TRY(nncl_model_backward(m, &x, &t));
    TRY(dropout_off(tr));
    return model_step(m, tr->o, &tr->opt);
}

/* Copies parameters and optimizer state into the snapshot (to = 1) or back (to = 0). */
static enum nncl_status snapshot_copy(struct trainer *tr, int to) {
    const size_t p = tr->m->n_params;
    struct nncl_tensor params = nncl_model_params(tr->m), saved = nncl_tensor_view(tr->snapshot, 0, 1, p);
    TRY(to ? nncl_op_copy(tr->m->be, &params, &saved) : nncl_op_copy(tr->m->be, &saved, &params));
    if (tr->opt.buf) {
        const size_t n = nncl_buffer_size(tr->opt.buf) / sizeof(float);
        struct nncl_tensor state = nncl_tensor_view(tr->opt.buf, 0, 1, n), saved_state = nncl_tensor_view(tr->snapshot, p, 1, n);
        TRY(to ? nncl_op_copy(tr->m->be, &state, &saved_state) : nncl_op_copy(tr->m->be, &saved_state, &state));
    }
    return NNCL_OK;
}

/* The sum of a tensor, read back to the host: the replay's slow path only. */
static enum nncl_status host_sum(struct trainer *tr, const struct nncl_tensor *x, float *out) {
    struct nncl_tensor slot = nncl_tensor_view(tr->health, tr->g->steps_per_epoch, 1, 1);
    TRY(nncl_op_sum(tr->m->be, 1.0f, x, 0.0f, &slot));
    return nncl_tensor_get(&slot, out, 1);
}

/*
 * Training diverged in this epoch (a step's loss or the final parameters are not finite): replay the epoch
 * from its snapshot (the same batches; the ops are deterministic), this time reading every step's loss and
 * gradient, up to the first step where either is not finite; name that step and the first layer holding a
 * non-finite value; then go back to the snapshot, the last good state.
 */
static enum nncl_status report_divergence(struct trainer *tr, size_t epoch, size_t steps, long step_at_start) {
    struct nncl_model *m = tr->m;
    char where[200] = "";
    size_t bad_step = steps;
    TRY(snapshot_copy(tr, 0));
    tr->opt.step = step_at_start;
    for (size_t step = tr->first_step; step < steps && bad_step == steps; step++) {
        const size_t first = step * tr->g->batch_rows, rows = step_rows(tr->g, step);
        TRY(gather(tr, first, rows));
        struct nncl_tensor x = train_head(&tr->batch.x, rows), t = train_head(&tr->batch.t, rows);
        struct nncl_tensor loss_rows = train_head(&tr->batch.loss_rows, rows);
        TRY(dropout_on(tr, 0)); /* the replay draws the masks the epoch drew */
        TRY(nncl_model_forward(m, &x, &t, &loss_rows, NULL));
        float loss = 0.0f, grad = 0.0f;
        TRY(host_sum(tr, &loss_rows, &loss));
        if (isfinite(loss) && nncl_model_find_nonfinite(m, rows, 0, where, sizeof where)) bad_step = step;
        if (bad_step == steps) {
            TRY(nncl_model_backward(m, &x, &t));
            struct nncl_tensor grads = nncl_model_grads(m);
            TRY(host_sum(tr, &grads, &grad));
            if (!isfinite(loss) || !isfinite(grad)) {
                nncl_model_find_nonfinite(m, rows, 1, where, sizeof where);
                bad_step = step;
            }
        }
        TRY(dropout_off(tr));
        if (bad_step == steps) TRY(model_step(m, tr->o, &tr->opt));
    }
    TRY(snapshot_copy(tr, 0));
    tr->opt.step = step_at_start;
    if (bad_step == steps) {
        /* every loss and gradient was finite: the parameters are so large that their sum overflows */
        return nncl_set_error(NNCL_ERR_NUMERIC, "training diverged in epoch %zu: the parameters grew so large that "
                              "their sum is not finite; the model holds the parameters from the start of epoch %zu; "
                              "use a smaller learning rate (now %g) or weight decay", epoch, epoch, (double)tr->o->lr);
    }
    return nncl_set_error(NNCL_ERR_NUMERIC, "training diverged in epoch %zu, step %zu of %zu: the first non-finite "
                          "value is in %s; the model holds the parameters from the start of epoch %zu, the last good "
                          "state; use a smaller learning rate (now %g)", epoch, bad_step + 1, tr->g->steps_per_epoch,
                          where, epoch, (double)tr->o->lr);
}

static enum nncl_status run_epoch(struct trainer *tr, uint64_t *rng, struct nncl_epoch_report *r, int *interrupted) {
    struct nncl_model *m = tr->m;
    const struct nncl_train_geometry *g = tr->g;
    const double t0 = nncl_now_seconds();
    const int resumed = tr->resume_in_epoch; /* the epoch's order and first steps come from a checkpoint */
    tr->first_step = resumed ? tr->resume_step : 0;
    tr->resume_in_epoch = 0;
    if (tr->o->shuffle && !resumed) {
        shuffle(tr->order, g->n_train, rng);
        if (!tr->plan.streaming) {
            struct nncl_tensor order = nncl_tensor_view(tr->idx_buf, 0, 1, g->n_train);
            TRY(nncl_tensor_set(&order, tr->order, g->n_train)); /* one upload per epoch */
        }
    }
    const long step_at_start = tr->opt.step;
    TRY(snapshot_copy(tr, 1));
    TRY(nncl_op_fill(m->be, 0.0f, &tr->batch.acc_all));
    if (resumed && g->rank == 0) TRY(nncl_tensor_set(&tr->batch.acc[ACC_TRAIN_ERR], &tr->resume_err, 1)); /* once over ranks */
    size_t steps = tr->first_step;
    for (; steps < g->steps_per_epoch; steps++) {
        if (tr->parts_mode ? tr->stop_agreed : tr->o->stop && *tr->o->stop) { /* a host flag: no device round trip */
            *interrupted = 1;
            break;
        }
        TRY(train_step(tr, steps));
        if (!tr->t_first_step) tr->t_first_step = nncl_now_seconds();
        if (tr->o->on_step) { /* host counters only: no synchronisation */
            const size_t done = (steps + 1) * g->batch_rows;
            const struct nncl_step_report sr = {
                .epoch = r->epoch, .step = steps + 1, .steps_per_epoch = g->steps_per_epoch,
                .examples = done < g->n_train ? done : g->n_train, .total_steps = (size_t)tr->opt.step,
                .first_epoch = tr->first_epoch, .first_step = tr->resume_step,
            };
            tr->o->on_step(&sr, tr->o->user_data);
        }
    }
    struct nncl_tensor params = nncl_model_params(m), params_slot = nncl_tensor_view(tr->health, steps, 1, 1);
    TRY(nncl_op_sum(m->be, 1.0f, &params, 0.0f, &params_slot));
    for (size_t batch = 0; !*interrupted && batch < g->val_batches; batch++) {
        const size_t rows = val_batch_rows(g, batch);
        TRY(gather(tr, g->n_train + batch * g->val_batch_rows, rows));
        struct nncl_tensor x = train_head(&tr->batch.x, rows), t = train_head(&tr->batch.t, rows);
        TRY(train_forward_and_count(m, &tr->batch, &x, &t, ACC_VAL_LOSS));
    }
    /* the epoch's only blocking reads: the per-step records and the accumulators */
    float acc[ACC_COUNT];
    TRY(nncl_tensor_get(&(struct nncl_tensor){tr->health, 0, 1, steps + 1}, tr->health_host, steps + 1));
    TRY(nncl_tensor_get(&tr->batch.acc_all, acc, ACC_COUNT));
    if (tr->parts_mode) TRY(reduce_epoch_counts(tr, tr->first_step, steps, acc));
    double loss_sum = resumed ? tr->resume_loss_sum : 0.0;
    for (size_t s = tr->first_step; s <= steps; s++) {
        if (!isfinite(tr->health_host[s]) && tr->parts_mode) {
            TRY(snapshot_copy(tr, 0)); /* the replay runs whole batches on one process: not with parts */
            tr->opt.step = step_at_start;
            return nncl_set_error(NNCL_ERR_NUMERIC, "training diverged in epoch %zu; the model holds the parameters "
                                  "from the start of the epoch, the last good state; use a smaller learning rate (now "
                                  "%g)", r->epoch, (double)tr->o->lr);
        }
        if (!isfinite(tr->health_host[s])) return report_divergence(tr, r->epoch, steps, step_at_start);
        if (s < steps) loss_sum += tr->health_host[s];
    }
    tr->loss_sum = loss_sum;
    tr->err_sum = acc[ACC_TRAIN_ERR];
    tr->steps_done = steps;
    const size_t seen = steps == g->steps_per_epoch ? g->n_train : steps * g->batch_rows;
    const double seconds = nncl_now_seconds() - t0;
    r->steps = (size_t)tr->opt.step;
    r->train_loss = seen ? loss_sum / (double)seen : NAN;
    r->train_error = train_measures_error(m) && seen ? acc[ACC_TRAIN_ERR] / (double)seen : NAN;
    r->has_val = g->n_val > 0 && !*interrupted;
    r->val_loss = r->has_val ? acc[ACC_VAL_LOSS] / (double)g->n_val : NAN;
    r->val_error = r->has_val && train_measures_error(m) ? acc[ACC_VAL_ERR] / (double)g->n_val : NAN;
    r->seconds = seconds;
    r->examples_per_second = seconds > 0 ? (double)seen / seconds : 0;
    if (r->has_val && !isfinite(r->val_loss)) {
        TRY(snapshot_copy(tr, 0));
        return nncl_set_error(NNCL_ERR_NUMERIC, "epoch %zu: the validation loss became %g; the model holds the "
                              "parameters from the start of the epoch; use a smaller learning rate (now %g)", r->epoch,
                              r->val_loss, (double)tr->o->lr);
    }
    return NNCL_OK;
}

/* ---- the CLBlast guard ------------------------------------------------------------------------ */

/*
 * The CLBlast guard: on the OpenCL backend, every product shape the run executes (full and last partial
 * training batches, validation batches) against the CPU reference, before the first step. A pass is
 * remembered (check_clblast_guard), so a run on the same device and shapes pays for it once.
 */
static enum nncl_status verify_gemm(struct nncl_model *m, const struct nncl_train_geometry *g) {
    if (strcmp(nncl_backend_name(m->be), "opencl") != 0) return NNCL_OK;
    struct op_case cases[TRAIN_MAX_GEMM_CASES];
    const size_t n = train_gemm_cases(&m->spec, g, cases, TRAIN_MAX_GEMM_CASES);
    return check_clblast_guard(m->be, cases, n < TRAIN_MAX_GEMM_CASES ? n : TRAIN_MAX_GEMM_CASES);
}

/* ---- setup and the epoch loop -------------------------------------------------------------------- */

static enum nncl_status trainer_setup(struct trainer *tr, const struct nncl_dataset *data) {
    struct nncl_model *m = tr->m;
    const struct nncl_train_options *o = tr->o;
    tr->host = data;
    TRY(nncl_train_plan(m, data, o, &tr->plan));
    const struct nncl_train_geometry *g = tr->g = &tr->plan.geometry;
    if (o->verify_gemm && o->epochs > 0) TRY(verify_gemm(m, g));
    if (tr->plan.streaming) {
        nncl_log(NNCL_LOG_INFO, "the data set (%zu MiB) does not fit next to the net on %s: streaming batches from "
                 "host memory", train_mib(tr->plan.dataset), nncl_backend_device(m->be));
        tr->host_x = malloc(g->device_rows * data->n_inputs * sizeof(float));
        tr->host_t = malloc(g->device_rows * data->n_outputs * sizeof(float));
        if (!tr->host_x || !tr->host_t) return nncl_set_error(NNCL_ERR_OOM, "trainer: out of host memory");
    } else {
        TRY(train_upload(m->be, data, data->n, &tr->data));
    }
    TRY(train_batch_space_init(m->be, g->device_rows, data->n_inputs, data->n_outputs, &tr->batch));
    TRY(optimizer_init(m->be, m->n_params, o, g->optimizer_slots, &tr->opt));
    TRY(nncl_model_reserve(m, g->device_rows));
    tr->parts_mode = g->parts > 1;
    if (tr->parts_mode) {
        const size_t cap = (m->n_params > g->steps_per_epoch ? m->n_params : g->steps_per_epoch) + 1;
        TRY(train_reduce_init(&tr->reduce, m, o->comm, o->reduction, o->bucket_bytes, cap));
    }
    TRY(nncl_buffer_alloc(m->be, (g->steps_per_epoch + 1) * sizeof(float), &tr->health));
    TRY(nncl_buffer_alloc(m->be, tr->plan.snapshot, &tr->snapshot));
    if (tr->plan.best) TRY(nncl_buffer_alloc(m->be, tr->plan.best, &tr->best));
    tr->sched = o->schedule;
    if (tr->sched.decay == NNCL_LR_COSINE && !tr->sched.cosine_epochs) {
        tr->sched.cosine_epochs = o->epochs > tr->sched.warmup_epochs ? o->epochs - tr->sched.warmup_epochs : 1;
    }
    tr->health_host = malloc((g->steps_per_epoch + 1) * sizeof(float));
    tr->order = malloc(data->n * sizeof(float));
    if (!tr->order || !tr->health_host) return nncl_set_error(NNCL_ERR_OOM, "trainer: out of host memory");
    for (size_t i = 0; i < data->n; i++) tr->order[i] = (float)i;
    if (g->n_val) {
        /* a seeded split, so that sorted files do not put one class in the validation set */
        uint64_t split_rng = o->seed ^ 0x76616c6964617465ull;
        shuffle(tr->order, data->n, &split_rng);
    }
    if (tr->plan.streaming) return NNCL_OK;
    TRY(nncl_buffer_alloc(m->be, data->n * sizeof(float), &tr->idx_buf));
    struct nncl_tensor all = nncl_tensor_view(tr->idx_buf, 0, 1, data->n);
    return nncl_tensor_set(&all, tr->order, data->n);
}

/* ---- checkpoints and resume (the file: src/checkpoint.c) ------------------------------------------ */

struct stop_rule {
    double best;
    size_t since_best, best_epoch;
};

/* Writes the trainer's state: after `epochs_done` complete epochs, or inside the next one (in_epoch). */
static enum nncl_status trainer_checkpoint(struct trainer *tr, uint64_t rng, const struct stop_rule *sr,
                                           size_t epochs_done, int in_epoch) {
    struct nncl_model *m = tr->m;
    if (tr->g->rank != 0) return NNCL_OK; /* one writer: every rank holds the same state */
    struct nncl_trainer_state s = {
        .epochs_done = epochs_done, .in_epoch = in_epoch, .step = in_epoch ? tr->steps_done : 0,
        .opt_step = tr->opt.step, .rng = rng, .best = sr->best, .since_best = sr->since_best,
        .best_epoch = sr->best_epoch, .loss_sum = in_epoch ? tr->loss_sum : 0.0, .err_sum = in_epoch ? tr->err_sum : 0.0f,
        .n_examples = tr->host->n, .order = tr->order, .opts = *tr->o,
    };
    s.opts.schedule = tr->sched;
    s.n_opt = tr->opt.buf ? nncl_buffer_size(tr->opt.buf) / sizeof(float) : 0;
    enum nncl_status st = NNCL_OK;
    if (s.n_opt && !(s.opt_state = malloc(s.n_opt * sizeof(float)))) st = NNCL_ERR_OOM;
    if (!st && tr->best && sr->best_epoch && !(s.best_params = malloc(m->n_params * sizeof(float)))) st = NNCL_ERR_OOM;
    if (st) st = nncl_set_error(st, "checkpoint %s: out of host memory", tr->o->checkpoint_path);
    if (!st && s.n_opt) st = nncl_tensor_get(&(struct nncl_tensor){tr->opt.buf, 0, 1, s.n_opt}, s.opt_state, s.n_opt);
    if (!st && s.best_params) {
        st = nncl_tensor_get(&(struct nncl_tensor){tr->best, 0, 1, m->n_params}, s.best_params, m->n_params);
    }
    if (!st) st = nncl_checkpoint_write(tr->o->checkpoint_path, m, &s, tr->o->checkpoint_meta);
    s.order = NULL; /* the trainer's */
    nncl_trainer_state_free(&s);
    return st;
}

/* Puts the trainer where a checkpoint left it; *epoch: the epoch to run next. */
static enum nncl_status trainer_resume(struct trainer *tr, uint64_t *rng, struct stop_rule *sr, size_t *epoch) {
    struct nncl_model *m = tr->m;
    const char *path = tr->o->resume_from;
    float *params = malloc(m->n_params * sizeof(float));
    if (!params) return nncl_set_error(NNCL_ERR_OOM, "resuming %s: out of host memory", path);
    struct nncl_trainer_state s;
    enum nncl_status st = nncl_checkpoint_read(path, m, params, &s);
    struct nncl_train_options given = *tr->o;
    given.schedule = tr->sched;
    if (!st) st = nncl_checkpoint_check_options(path, &s.opts, &given);
    const size_t n_opt = tr->opt.buf ? nncl_buffer_size(tr->opt.buf) / sizeof(float) : 0;
    if (!st && s.n_examples != tr->host->n) {
        st = nncl_set_error(NNCL_ERR_INVALID_ARG, "resuming %s: the checkpoint was trained on %zu examples, the data "
                            "has %zu; resume with the same data", path, s.n_examples, tr->host->n);
    }
    if (!st && s.n_opt != n_opt) st = nncl_set_error(NNCL_ERR_FORMAT, "%s: the optimizer state does not fit", path);
    if (!st) st = nncl_model_set_params(m, params, m->n_params);
    if (!st && n_opt) st = nncl_tensor_set(&(struct nncl_tensor){tr->opt.buf, 0, 1, n_opt}, s.opt_state, n_opt);
    if (!st && tr->best && s.best_params) {
        st = nncl_tensor_set(&(struct nncl_tensor){tr->best, 0, 1, m->n_params}, s.best_params, m->n_params);
    }
    if (!st) {
        memcpy(tr->order, s.order, s.n_examples * sizeof(float));
        if (!tr->plan.streaming) st = nncl_tensor_set(&(struct nncl_tensor){tr->idx_buf, 0, 1, s.n_examples}, tr->order,
                                                      s.n_examples);
    }
    if (!st) {
        tr->opt.step = s.opt_step;
        *rng = s.rng;
        *sr = (struct stop_rule){s.best, s.since_best, s.best_epoch};
        *epoch = s.epochs_done + 1;
        tr->resume_in_epoch = s.in_epoch;
        tr->resume_step = s.in_epoch ? s.step : 0;
        tr->resume_loss_sum = s.loss_sum;
        tr->resume_err = s.err_sum;
    }
    free(params);
    nncl_trainer_state_free(&s);
    return st;
}

enum nncl_status nncl_train(struct nncl_model *m, const struct nncl_dataset *data, const struct nncl_train_options *o,
                            struct nncl_train_result *result) {
    if (!m || !o) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_train: model or options is NULL");
    TRY(train_check_data(m, data, 1)); /* nncl_train_plan checks the rest, and the options */
    TRY(train_check_options(o));
    TRY(train_check_targets(m, data)); /* the loss is defined for these targets (train_targets.c) */
    struct trainer tr = {.m = m, .o = o, .t_start = nncl_now_seconds()};
    struct nncl_train_result res = {0};
    enum nncl_status st = trainer_setup(&tr, data);
    res.streamed = tr.plan.streaming;
    uint64_t rng = o->seed;
    struct stop_rule sr = {INFINITY, 0, 0};
    size_t epoch = 1;
    if (!st && o->resume_from) st = trainer_resume(&tr, &rng, &sr, &epoch);
    res.first_epoch = tr.first_epoch = epoch;
    res.epochs = epoch - 1;
    res.setup_seconds = nncl_now_seconds() - tr.t_start;
    for (; !st && epoch <= o->epochs && !res.interrupted; epoch++) {
        struct nncl_epoch_report r = {.epoch = epoch};
        tr.opt.lr = (float)nncl_lr_at(&tr.sched, (double)o->lr, epoch, o->epochs);
        r.lr = (double)tr.opt.lr;
        st = run_epoch(&tr, &rng, &r, &res.interrupted);
        if (st) break;
        if (res.interrupted) {
            /* stopped inside this epoch: the checkpoint holds its position, to continue it exactly */
            if (o->checkpoint_path) st = trainer_checkpoint(&tr, rng, &sr, epoch - 1, 1);
            if (st || tr.steps_done == tr.first_step) break; /* stopped before this epoch's first step */
            res.epochs = epoch;
            res.steps = r.steps;
            res.last = r;
            if (o->on_epoch) o->on_epoch(&r, o->user_data);
            break;
        }
        res.epochs = epoch;
        res.steps = r.steps;
        res.last = r;
        /* the lecture's "stop if converged": no improvement of more than tol for `patience` epochs */
        const double monitored = r.has_val ? r.val_loss : r.train_loss;
        int converged = 0;
        if (monitored < sr.best - o->tol) {
            sr = (struct stop_rule){monitored, 0, epoch};
            if (tr.best) {
                struct nncl_tensor params = nncl_model_params(m), kept = nncl_tensor_view(tr.best, 0, 1, m->n_params);
                st = nncl_op_copy(m->be, &params, &kept);
            }
        } else if (o->patience && ++sr.since_best >= o->patience) {
            converged = 1;
        }
        if (st) break;
        /* the report (a metrics row, the model) before the checkpoint: a kill between the two then resumes
         * from the previous checkpoint, whose epoch the report's rows are cut back to, never past a row */
        const int stop_asked = o->on_epoch && o->on_epoch(&r, o->user_data);
        if (o->checkpoint_path && o->checkpoint_every && epoch % o->checkpoint_every == 0) {
            st = trainer_checkpoint(&tr, rng, &sr, epoch, 0);
        }
        if (st || stop_asked) break;
        if (converged) {
            res.converged = 1;
            break;
        }
    }
    nncl_model_set_dropout(m, 0, 0, 0, 0); /* also after a failed step: the model leaves evaluating */
    res.best_epoch = sr.best_epoch;
    res.best_loss = sr.best_epoch ? sr.best : NAN;
    res.first_step_seconds = tr.t_first_step ? tr.t_first_step - tr.t_start - res.setup_seconds : 0.0;
    res.buckets = tr.reduce.n_buckets;
    res.reduce_seconds = tr.reduce.comm_seconds;
    res.reduce_steps = tr.reduce.steps;
    if (!st && tr.best && sr.best_epoch && (sr.best_epoch != res.epochs || res.interrupted)) {
        /* early stopping keeps the best: the model ends with the weights of the best epoch */
        struct nncl_tensor params = nncl_model_params(m), kept = nncl_tensor_view(tr.best, 0, 1, m->n_params);
        st = nncl_op_copy(m->be, &kept, &params);
        res.restored_best = !st;
    }
    trainer_free(&tr);
    if (result) *result = res;
    return st;
}
