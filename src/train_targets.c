/*
 * train_targets.c: whether a data set's targets suit the model's loss, checked before a step runs on
 * them. Binary cross-entropy is only defined for targets in [0, 1] (0/1 labels, or probabilities), one per
 * output; softmax cross-entropy only for rows that are distributions (one-hot class labels, or
 * probabilities summing to 1). Anything else trains to a meaningless loss (income 30-120 under bce reaches
 * a loss of -17 and "88.89% accuracy"), so it is an error naming the file, the column and the first row.
 */
#include <math.h>
#include <stdio.h>

#include "model_impl.h"
#include "status_impl.h"
#include "train_impl.h"

/* "column \"income\"" for CSV data (with the column index of several targets), "column k of y" otherwise. */
static void column_name(const struct nncl_dataset *ds, size_t k, char *out, size_t cap) {
    if (ds->preprocess.target[0] && ds->n_outputs == 1) {
        snprintf(out, cap, "column \"%s\"", ds->preprocess.target);
    } else if (ds->preprocess.target[0]) {
        snprintf(out, cap, "target %zu of \"%s\"", k + 1, ds->preprocess.target);
    } else {
        snprintf(out, cap, "target column %zu", k + 1);
    }
}

enum nncl_status train_check_targets(const struct nncl_model *m, const struct nncl_dataset *ds) {
    if (!ds->y) return NNCL_OK;
    const size_t n_out = ds->n_outputs;
    char column[128];
    switch (m->spec.loss) {
    case NNCL_LOSS_MSE: return NNCL_OK;
    case NNCL_LOSS_BCE:
        if (ds->task == NNCL_TASK_CLASSIFICATION) {
            column_name(ds, 0, column, sizeof column);
            if (ds->preprocess.target[0]) snprintf(column, sizeof column, "column \"%s\"", ds->preprocess.target);
            return nncl_set_error(NNCL_ERR_FORMAT, "%s: %s holds %zu classes, one-hot encoded into %zu outputs; the bce "
                                  "loss needs one 0/1 target per output; use --loss xent (the default for classes)",
                                  ds->source, column, ds->n_classes ? ds->n_classes : n_out, n_out);
        }
        for (size_t i = 0; i < ds->n; i++) {
            for (size_t k = 0; k < n_out; k++) {
                const float t = ds->y[i * n_out + k];
                if (!(t >= 0.0f && t <= 1.0f)) {
                    column_name(ds, k, column, sizeof column);
                    return nncl_set_error(NNCL_ERR_FORMAT, "%s: %s: the bce loss needs targets in [0, 1] (0/1 labels "
                                          "or probabilities), but row %zu has %g; use --loss mse for values, or "
                                          "--task binary/classification for labels", ds->source, column, i + 1,
                                          (double)t);
                }
            }
        }
        return NNCL_OK;
    case NNCL_LOSS_XENT:
        for (size_t i = 0; i < ds->n; i++) {
            double sum = 0;
            for (size_t k = 0; k < n_out; k++) {
                const float t = ds->y[i * n_out + k];
                if (!(t >= 0.0f && t <= 1.0f)) {
                    column_name(ds, k, column, sizeof column);
                    return nncl_set_error(NNCL_ERR_FORMAT, "%s: %s: the xent loss needs class labels or rows of "
                                          "probabilities, but row %zu has %g; use --loss mse for values", ds->source,
                                          column, i + 1, (double)t);
                }
                sum += t;
            }
            if (fabs(sum - 1.0) > 1e-3) {
                return nncl_set_error(NNCL_ERR_FORMAT, "%s: the xent loss needs class labels or rows of probabilities "
                                      "summing to 1, but the targets of row %zu sum to %g; use --loss bce for "
                                      "independent 0/1 targets, or mse for values", ds->source, i + 1, sum);
            }
        }
        return NNCL_OK;
    case NNCL_LOSS_COUNT: break;
    }
    return nncl_set_error(NNCL_ERR_INVALID_ARG, "invalid loss %d", (int)m->spec.loss);
}
