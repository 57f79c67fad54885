/*
 * train_plan.c: the training plan, the one place the geometry of a run is derived (the validation
 * split, the batches' rows, steps, optimizer slots, the row counts of every matrix product), and the
 * device memory that geometry needs. The trainer, the CLBlast guard and nncl train --dry-run read it;
 * none of them computes a batch's rows again.
 */
#include <math.h>
#include <string.h>

#include "check/check.h"
#include "model_impl.h"
#include "status_impl.h"
#include "train_impl.h"
#include "util/util.h"

enum nncl_status train_check_data(const struct nncl_model *m, const struct nncl_dataset *ds, int need_targets) {
    if (!ds || !ds->x || ds->n == 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "the data set is empty");
    if (ds->n_inputs != m->spec.n_inputs) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s has %zu input features but the model takes %zu; use data prepared "
                              "the same way as the model's training data", ds->source, ds->n_inputs, m->spec.n_inputs);
    }
    if (need_targets && !ds->y) return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s has no targets", ds->source);
    if (ds->y && ds->n_outputs != nncl_model_outputs(&m->spec)) {
        return nncl_set_error(NNCL_ERR_SHAPE, "%s has %zu target columns but the model has %zu outputs", ds->source,
                              ds->n_outputs, nncl_model_outputs(&m->spec));
    }
    if (ds->n >= (1u << 24)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "%s has %zu examples; row indices are floats, exact up to 2^24",
                              ds->source, ds->n);
    }
    return NNCL_OK;
}

enum nncl_status train_check_options(const struct nncl_train_options *o) {
    if (!(o->lr > 0.0f) || !isfinite(o->lr)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "learning rate %g: it must be a positive number", (double)o->lr);
    }
    if (!(o->val_fraction >= 0.0f && o->val_fraction < 1.0f)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "validation fraction %g: it must be in [0, 1)",
                              (double)o->val_fraction);
    }
    if ((unsigned)o->optimizer >= NNCL_OPT_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "invalid optimizer");
    if ((unsigned)o->reduction >= NNCL_REDUCE_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "invalid reduction");
    if (!(o->weight_decay >= 0.0f) || !isfinite(o->weight_decay)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "weight decay %g: it must be 0 or more", (double)o->weight_decay);
    }
    if (!(o->clip_norm >= 0.0f) || !isfinite(o->clip_norm)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "clip norm %g: it must be 0 (off) or a positive number",
                              (double)o->clip_norm);
    }
    return nncl_lr_schedule_check(&o->schedule);
}

/* Appends `rows` to list[0 .. *n) unless it is 0 or already there. */
static void add_rows(size_t *list, size_t *n, size_t rows, const size_t *other, size_t n_other) {
    for (size_t i = 0; i < *n; i++) {
        if (list[i] == rows) return;
    }
    for (size_t i = 0; i < n_other; i++) {
        if (other[i] == rows) return;
    }
    if (rows) list[(*n)++] = rows;
}

void train_part_rows(const struct nncl_train_geometry *g, size_t step, size_t part, size_t *first, size_t *rows) {
    const size_t start = step * g->batch_rows, total = step + 1 < g->steps_per_epoch ? g->batch_rows : g->last_batch_rows;
    const size_t base = total / g->parts, extra = total % g->parts;
    *first = start + part * base + (part < extra ? part : extra);
    *rows = base + (part < extra ? 1 : 0);
}

/* The geometry of a run on n examples; the options are checked. */
static void plan_geometry(size_t n, const struct nncl_train_options *o, struct nncl_train_geometry *g) {
    memset(g, 0, sizeof *g);
    g->n_val = (size_t)((double)n * o->val_fraction);
    g->n_train = n - g->n_val;
    g->batch_rows = o->batch_size == 0 || o->batch_size > g->n_train ? g->n_train : o->batch_size;
    if (g->batch_rows) {
        g->steps_per_epoch = (g->n_train + g->batch_rows - 1) / g->batch_rows;
        g->last_batch_rows = g->n_train - (g->steps_per_epoch - 1) * g->batch_rows;
    }
    g->ranks = (size_t)nncl_comm_size(o->comm);
    g->rank = (size_t)nncl_comm_rank(o->comm);
    g->accumulate = o->accumulate ? o->accumulate : 1;
    g->parts = g->ranks * g->accumulate;
    g->device_rows = (g->batch_rows + g->parts - 1) / g->parts;
    if (g->n_val && g->batch_rows) {
        /* every rank runs the whole validation, in batches no larger than a part (the device holds no more) */
        g->val_batch_rows = g->device_rows < g->n_val ? g->device_rows : g->n_val;
        g->val_batches = (g->n_val + g->val_batch_rows - 1) / g->val_batch_rows;
        g->val_last_batch_rows = g->n_val - (g->val_batches - 1) * g->val_batch_rows;
    }
    g->optimizer_slots = nncl_optimizer_state_slots(o->optimizer);
    for (size_t last = 0; last < 2; last++) { /* this rank's parts of a full step and of the last one */
        for (size_t a = 0; g->steps_per_epoch && a < g->accumulate; a++) {
            size_t first, rows;
            train_part_rows(g, last ? g->steps_per_epoch - 1 : 0, g->rank * g->accumulate + a, &first, &rows);
            add_rows(g->step_rows, &g->n_step_rows, rows, NULL, 0);
        }
    }
    add_rows(g->forward_rows, &g->n_forward_rows, g->val_batch_rows, g->step_rows, g->n_step_rows);
    add_rows(g->forward_rows, &g->n_forward_rows, g->val_last_batch_rows, g->step_rows, g->n_step_rows);
}

enum nncl_status nncl_train_plan(struct nncl_model *m, const struct nncl_dataset *data,
                                 const struct nncl_train_options *o, struct nncl_memory_plan *plan) {
    if (!m || !data || !o || !plan) return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_train_plan: NULL argument");
    memset(plan, 0, sizeof *plan);
    TRY(train_check_data(m, data, 1));
    TRY(train_check_options(o));
    struct nncl_train_geometry *g = &plan->geometry;
    plan_geometry(data->n, o, g);
    if (g->n_train == 0) return nncl_set_error(NNCL_ERR_INVALID_ARG, "no training examples left after the validation split");
    if (o->optimizer == NNCL_OPT_IRPROP && g->steps_per_epoch > 1) {
        /* iRPROP- adapts each step size from the sign of successive gradients: of one fixed objective, the
         * whole training set's. Mini-batch gradients change sign from batch to batch and shrink every step. */
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "irprop is a full-batch optimizer: it needs the gradient of the "
                              "whole training set each step, but batch size %zu splits the %zu training examples into "
                              "%zu steps; use --batch-size 0 (nncl_train_options.batch_size = 0), or another optimizer for "
                              "mini-batches", o->batch_size, g->n_train, g->steps_per_epoch);
    }
    const size_t rows = g->device_rows, steps = g->steps_per_epoch, f = sizeof(float), p = m->n_params;
    plan->parameters = p * f;
    plan->gradients = p * f;
    plan->optimizer_state = g->optimizer_slots * p * f;
    plan->snapshot = (1 + g->optimizer_slots) * p * f;
    plan->best = o->patience && !o->keep_last ? p * f : 0;
    plan->activations = nncl_model_workspace_bytes(&m->spec, rows);
    plan->batch = (rows * (data->n_inputs + data->n_outputs + 2) + ACC_COUNT + 2 * steps) * f;
    plan->dataset = (data->n * (data->n_inputs + data->n_outputs) + data->n) * f;
    TRY(nncl_backend_memory(m->be, &plan->device_total, &plan->device_max_alloc));
    /* leave a tenth of the device to the driver and other programs */
    plan->limit = o->memory_limit ? o->memory_limit : plan->device_total / 10 * 9;
    const size_t net = plan->parameters + plan->gradients + plan->optimizer_state + plan->snapshot + plan->best +
                       plan->activations + plan->batch;
    plan->fits = net <= plan->limit && plan->activations <= plan->device_max_alloc &&
                 plan->parameters <= plan->device_max_alloc;
    plan->streaming = net + plan->dataset > plan->limit ||
                      data->n * (data->n_inputs + data->n_outputs) * f > plan->device_max_alloc;
    if (!plan->fits) {
        return nncl_set_error(NNCL_ERR_OOM, "the net does not fit %s: it needs %zu MiB (parameters %zu, gradients "
                              "%zu, optimizer state %zu, epoch snapshot %zu, best epoch %zu, activations for batches of %zu: "
                              "%zu, batch %zu MiB) but %zu MiB are available (largest buffer %zu MiB); use a smaller batch or net",
                              nncl_backend_device(m->be), train_mib(net), train_mib(plan->parameters), train_mib(plan->gradients),
                              train_mib(plan->optimizer_state), train_mib(plan->snapshot), train_mib(plan->best), rows, train_mib(plan->activations),
                              train_mib(plan->batch), train_mib(plan->limit), train_mib(plan->device_max_alloc));
    }
    return NNCL_OK;
}

/* ---- the products the CLBlast guard checks -------------------------------------------------------- */

static int same_gemm_shape(const struct op_case *a, const struct op_case *b) {
    return a->rows == b->rows && a->cols == b->cols && a->k == b->k && a->ip[0] == b->ip[0] && a->ip[1] == b->ip[1];
}

size_t train_gemm_cases(const struct nncl_model_spec *spec, const struct nncl_train_geometry *g, struct op_case *out,
                        size_t cap) {
    struct op_case all[TRAIN_MAX_GEMM_CASES];
    size_t n_all = 0, n = 0;
    for (size_t i = 0; i < g->n_step_rows; i++) {
        n_all += check_net_gemm_cases(spec, g->step_rows[i], all + n_all, 3 * NNCL_MAX_LAYERS);
    }
    for (size_t i = 0; i < g->n_forward_rows; i++) {
        n_all += check_net_forward_gemm_cases(spec, g->forward_rows[i], all + n_all, NNCL_MAX_LAYERS);
    }
    for (size_t i = 0; i < n_all; i++) { /* keep each shape's first occurrence, in order */
        size_t j = 0;
        while (j < n && !same_gemm_shape(&all[j], &all[i])) j++;
        if (j == n) all[n++] = all[i];
    }
    memcpy(out, all, (n < cap ? n : cap) * sizeof *out);
    return n;
}
