/*
 * train_impl.h: what the trainer's two files share (internal): the argument checks and the plan
 * (train_plan.c) that the trainer, the CLBlast guard and nncl train --dry-run read (train.c).
 */
#ifndef NNCL_TRAIN_IMPL_H
#define NNCL_TRAIN_IMPL_H

#include "nncl/nncl_train.h"

struct op_case; /* src/check/op_cases.h */

/* The accumulators at the end of every batch buffer: the loss and error sums of training and validation. */
enum { ACC_TRAIN_LOSS, ACC_TRAIN_ERR, ACC_VAL_LOSS, ACC_VAL_ERR, ACC_COUNT };

/* Bytes to MiB, rounded up, for messages. */
static inline size_t train_mib(size_t bytes) { return (bytes + (1u << 20) - 1) >> 20; }

/* `ds` is not empty and matches the model's inputs and outputs (with targets when `need_targets`). */
enum nncl_status train_check_data(const struct nncl_model *m, const struct nncl_dataset *ds, int need_targets);
/* The targets suit the model's loss: bce [0, 1] per output, xent distributions per row (train_targets.c). */
enum nncl_status train_check_targets(const struct nncl_model *m, const struct nncl_dataset *ds);
/* The options are in range (learning rate, validation fraction, optimizer, weight decay). */
enum nncl_status train_check_options(const struct nncl_train_options *o);

/* The most matrix products a run executes: three per layer at each of at most six row counts. */
#define TRAIN_MAX_GEMM_CASES (6 * 3 * NNCL_MAX_LAYERS)

/* Part `part` (0 .. g->parts - 1) of training step `step`: order[*first .. *first + *rows) (train_plan.c). */
void train_part_rows(const struct nncl_train_geometry *g, size_t step, size_t part, size_t *first, size_t *rows);

/*
 * Every matrix product shape a run with geometry `g` executes, without duplicates (train.c): each layer's
 * forward, weight gradient and input gradient products at the training steps' row counts, and its forward
 * product at the validation batches' other row counts. Writes up to `cap` cases; returns how many there are.
 * The CLBlast guard checks exactly these.
 */
size_t train_gemm_cases(const struct nncl_model_spec *spec, const struct nncl_train_geometry *g, struct op_case *out,
                        size_t cap);

#endif /* NNCL_TRAIN_IMPL_H */
