/*
 * checkpoint.h: the trainer's state file, what an exact resume needs (internal; src/train.c writes and
 * reads it, the format is in docs/reliability.md). A checkpoint is a model file (layers.{i}.weight/bias and
 * the model metadata, so nncl_model_load and PyTorch read it) with the trainer's tensors beside them:
 *   optimizer.state      F32 [slots * params]: momentum's velocity, or Adam's m then v
 *   trainer.order        F32 [examples]: the example order of the epoch in progress (the training part,
 *                        then the validation part, fixed by the seed)
 *   trainer.best_params  F32 [params]: the weights of the best epoch (only with patience, not keep_last)
 * and metadata "trainer.*": the position (complete epochs, steps of the epoch in progress, optimizer step),
 * the shuffle generator's state, the stop rule's best-so-far, the epoch's partial loss and error sums, and the
 * options that shape training. Numbers are written so that they read back bit for bit.
 */
#ifndef NNCL_CHECKPOINT_H
#define NNCL_CHECKPOINT_H

#include <stdint.h>

#include "nncl/nncl_train.h"

struct nncl_trainer_state {
    size_t epochs_done;   /* complete epochs */
    int in_epoch;         /* epoch epochs_done + 1 has begun: its order is shuffled and `step` of its steps ran */
    size_t step;
    long opt_step;        /* optimizer steps so far (Adam's t) */
    uint64_t rng;         /* the shuffle generator, after the last shuffle */
    double best;          /* the stop rule: the best monitored loss, epochs since, and which epoch */
    size_t since_best, best_epoch;
    double loss_sum;      /* the epoch in progress: its summed training loss (host, double) ... */
    float err_sum;        /* ... and error count (the device accumulator's float) */
    size_t n_examples;
    float *order;         /* n_examples */
    size_t n_opt;
    float *opt_state;     /* n_opt; NULL for SGD */
    float *best_params;   /* the model's parameter count, or NULL */
    struct nncl_train_options opts; /* the fields that shape training */
};

/** Writes the state and the model's current weights to `path` atomically; `meta`: NULL-terminated pairs. */
enum nncl_status nncl_checkpoint_write(const char *path, const struct nncl_model *m,
                                       const struct nncl_trainer_state *s, const char *const *meta);

/**
 * Reads a checkpoint for model `m` (same architecture): the weights into `params` (the model's parameter
 * count floats) and the state into `s` (its arrays malloc'd; nncl_trainer_state_free).
 */
enum nncl_status nncl_checkpoint_read(const char *path, const struct nncl_model *m, float *params,
                                      struct nncl_trainer_state *s);
void nncl_trainer_state_free(struct nncl_trainer_state *s);

/** NNCL_ERR_INVALID_ARG naming the first option that shapes training and differs between the two. */
enum nncl_status nncl_checkpoint_check_options(const char *path, const struct nncl_train_options *saved,
                                               const struct nncl_train_options *given);

#endif /* NNCL_CHECKPOINT_H */
