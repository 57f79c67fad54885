/*
 * nncl_train.h: the trainer: batch, stochastic and mini-batch gradient descent with SGD, momentum or
 * Adam, a stop rule, and evaluation. Written against the backend interface: one training step is a
 * queue of ops with no host round trip; the loss and error are accumulated on the device and read back
 * once per report interval.
 */
#ifndef NNCL_TRAIN_H
#define NNCL_TRAIN_H

#include <signal.h>

#include "nncl_comm.h"
#include "nncl_data.h"
#include "nncl_model.h"
#include "nncl_optlist.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_OPT_ENUM_(ID, ...) NNCL_OPT_##ID,
enum nncl_optimizer { NNCL_OPTIMIZER_LIST(NNCL_OPT_ENUM_) NNCL_OPT_COUNT };
#undef NNCL_OPT_ENUM_

/** "sgd", "momentum", "adam", "nesterov", "rmsprop", "adamw", "irprop" (NNCL_OPTIMIZER_LIST). */
NNCL_API const char *nncl_optimizer_name(enum nncl_optimizer opt);
NNCL_API enum nncl_status nncl_optimizer_from_name(const char *name, enum nncl_optimizer *out);
/** State vectors (each of the model's parameter count) the optimizer keeps; 0 for an unknown value. */
NNCL_API size_t nncl_optimizer_state_slots(enum nncl_optimizer opt);

/** What one report (by default one epoch) measured. Losses are means over examples. */
struct nncl_epoch_report {
    size_t epoch;         /* 1-based */
    size_t steps;         /* optimizer steps so far */
    double train_loss;    /* mean over the epoch's examples, measured during the epoch */
    double train_error;   /* classification error during the epoch; NaN for regression */
    int has_val;
    double val_loss, val_error;
    double seconds;       /* wall time of this epoch, including the read-back */
    double examples_per_second;
    double lr;            /* the learning rate of this epoch (options.schedule applied) */
};

/*
 * Learning-rate schedules, per epoch (every step of an epoch uses its rate: a scalar each update
 * already takes, so no device work). An optional linear warm-up followed by one decay:
 *   warm-up, epochs e = 1..W:  lr * e / W
 *   then with t = e - 1 - W (0 for the first epoch after the warm-up):
 *   NNCL_LR_CONSTANT  lr
 *   NNCL_LR_STEP      lr * gamma^floor(t / step_epochs)
 *   NNCL_LR_EXP       lr * gamma^t
 *   NNCL_LR_COSINE    min_lr + (lr - min_lr) * (1 + cos(pi * min(t, T) / T)) / 2,  T = cosine_epochs
 *                     (0: the run's epochs less the warm-up)
 */
#define NNCL_LR_DECAY_LIST(X) X(NNCL_LR_CONSTANT, "constant") X(NNCL_LR_STEP, "step") X(NNCL_LR_EXP, "exp") \
    X(NNCL_LR_COSINE, "cosine")
#define NNCL_LR_DECAY_ENUM_(id, name) id,
enum nncl_lr_decay { NNCL_LR_DECAY_LIST(NNCL_LR_DECAY_ENUM_) NNCL_LR_DECAY_COUNT };
#undef NNCL_LR_DECAY_ENUM_

struct nncl_lr_schedule {
    enum nncl_lr_decay decay; /* NNCL_LR_CONSTANT by default (zeroed struct) */
    size_t warmup_epochs;     /* 0: no warm-up */
    size_t step_epochs;       /* NNCL_LR_STEP: epochs per step (must be >= 1) */
    float gamma;              /* NNCL_LR_STEP and NNCL_LR_EXP: the factor (0 < gamma <= 1) */
    float min_lr;             /* NNCL_LR_COSINE: the floor */
    size_t cosine_epochs;     /* NNCL_LR_COSINE: the length of the decay; 0: epochs - warmup_epochs */
};

/** "constant", "step", "exp", "cosine". */
NNCL_API const char *nncl_lr_decay_name(enum nncl_lr_decay decay);
NNCL_API enum nncl_status nncl_lr_decay_from_name(const char *name, enum nncl_lr_decay *out);
/** Checks the schedule's fields; NNCL_ERR_INVALID_ARG with the field named. */
NNCL_API enum nncl_status nncl_lr_schedule_check(const struct nncl_lr_schedule *s);
/** The rate of 1-based `epoch` of a run of `epochs` epochs starting from `lr`. */
NNCL_API double nncl_lr_at(const struct nncl_lr_schedule *s, double lr, size_t epoch, size_t epochs);

/* What a per-step hook sees. Filled from host counters only: reading it costs no device synchronisation. */
struct nncl_step_report {
    size_t epoch;           /* 1-based */
    size_t step;            /* steps done in this epoch, 1..steps_per_epoch */
    size_t steps_per_epoch;
    size_t examples;        /* examples done in this epoch */
    size_t total_steps;     /* optimizer steps so far, over the whole run */
    size_t first_epoch;     /* the epoch this call of nncl_train started in (> 1 after a resume) */
    size_t first_step;      /* the step of first_epoch it started at */
};

/* Called after each step is queued (not finished: no synchronisation). */
typedef void (*nncl_step_fn)(const struct nncl_step_report *report, void *user_data);

/* Called after each report; return non-zero to stop training (after this epoch). */
typedef int (*nncl_epoch_fn)(const struct nncl_epoch_report *report, void *user_data);

struct nncl_train_options {
    size_t batch_size;      /* 0: the whole training set (batch gradient descent); 1: stochastic */
    size_t epochs;          /* maximum number of epochs */
    enum nncl_optimizer optimizer;
    float lr;               /* learning rate (the lecture's eta) */
    float momentum;         /* NNCL_OPT_MOMENTUM */
    float beta1, beta2, eps; /* NNCL_OPT_ADAM */
    float weight_decay;     /* L2, on every parameter */
    int shuffle;            /* reshuffle the examples every epoch (mini-batch SGD) */
    uint64_t seed;          /* shuffling and the validation split */
    float val_fraction;     /* hold out this fraction (0 <= f < 1) of the examples for validation */
    double tol;             /* stop rule: the monitored loss (validation if any) must improve by more than */
    size_t patience;        /*   tol within `patience` epochs, or training stops; patience 0 disables it */
    nncl_epoch_fn on_epoch; /* optional */
    void *user_data;
    volatile sig_atomic_t *stop; /* optional: when it becomes non-zero (a SIGINT handler), training stops after
                                    the current step with result->interrupted set */
    size_t memory_limit;    /* bytes the trainer may use on the device; 0: what the backend reports */
    int verify_gemm;        /* the CLBlast guard (OpenCL backend only; default 1): before the first step, check every
                               matrix product shape the run executes (full and last partial batches, validation
                               batches) against the CPU reference, and refuse to train (NNCL_ERR_CLBLAST) on a wrong
                               result. A pass is remembered per device, driver, CLBlast version and shape set in
                               $XDG_CACHE_HOME/nncl (else ~/.cache/nncl), so it runs once. 0 skips it */
    /* --- long runs (docs/reliability.md, "Checkpoints and resume") --- */
    struct nncl_lr_schedule schedule; /* zeroed: the constant rate `lr` */
    int keep_last;          /* with patience: keep the last epoch's weights; by default the model ends holding the
                               weights of the epoch with the best monitored loss (result->best_epoch) */
    nncl_step_fn on_step;   /* optional */
    const char *checkpoint_path; /* optional: where the trainer's state is written (atomically): every
                                    checkpoint_every epochs and when stopped through `stop` */
    size_t checkpoint_every; /* epochs; 0: only when stopped */
    const char *resume_from; /* optional: a checkpoint to continue exactly; the options that shape training must
                                be the checkpoint's (nncl_checkpoint_read_options); `epochs` may differ */
    const char *const *checkpoint_meta; /* optional: NULL-terminated key, value, key, value, ... strings stored
                                           in every checkpoint (read back with nncl_checkpoint_read_meta) */
    /* --- more optimizers and gradient clipping (docs/cli.md, "Optimizers") --- */
    float rmsprop_alpha;    /* NNCL_OPT_RMSPROP: the square average's decay (default 0.99); eps is `eps` */
    float rmsprop_momentum; /* NNCL_OPT_RMSPROP: momentum on the scaled step (default 0: none) */
    float rprop_increase, rprop_decrease;  /* NNCL_OPT_IRPROP: step-size factors (defaults 1.2, 0.5) */
    float rprop_delta_min, rprop_delta_max; /* NNCL_OPT_IRPROP: step-size range (defaults 0, 50) */
    float rprop_delta_zero; /* NNCL_OPT_IRPROP: every step size at the start (default 0.1) */
    float clip_norm;        /* > 0: scale the gradient by min(1, clip_norm / ||g||) (global L2 norm over all
                               parameters, computed on the device) before the update; 0: no clipping */
    /* --- accumulation and data parallelism (docs/distributed.md) --- */
    size_t accumulate;      /* 0 or 1: one backward per step. A: every rank cuts its share of the global batch
                               (batch_size rows) into A micro-batches, one backward each, their gradients summed in
                               order: the device holds only a micro-batch's activations */
    struct nncl_comm *comm; /* optional (NULL: one process): the ranks that train this model together; each takes
                               its contiguous share of every global batch; only rank 0 writes checkpoints */
    enum nncl_reduction reduction; /* how gradients are summed over ranks; NNCL_REDUCE_EXACT (0) by default */
    size_t bucket_bytes;    /* with several parts: the gradient is summed in buckets of adjacent layers of at least
                               this many bytes (0: NNCL_TRAIN_BUCKET_BYTES), each begun as soon as backward has
                               produced it; SIZE_MAX: one bucket, begun after the whole backward */
};

/* The default gradient bucket: 1 MiB (docs/distributed.md, "Overlap"). */
#define NNCL_TRAIN_BUCKET_BYTES ((size_t)1 << 20)

/** Defaults: batch 128, 10 epochs, Adam lr 1e-3 (0.9, 0.999, 1e-8), shuffle, seed 1, no validation, no stop rule,
 *  the CLBlast guard on. */
NNCL_API struct nncl_train_options nncl_train_defaults(void);

struct nncl_train_result {
    size_t epochs;          /* epochs run */
    size_t steps;
    int converged;          /* stopped by the stop rule */
    int interrupted;        /* stopped through options.stop */
    int streamed;           /* the data set did not fit the device: batches were copied from host memory */
    struct nncl_epoch_report last;
    size_t best_epoch;      /* the epoch with the best monitored loss (0: none) */
    double best_loss;       /* its monitored loss (validation loss if any, else training loss) */
    int restored_best;      /* the model was set back to best_epoch's weights (patience, not keep_last) */
    size_t first_epoch;     /* where this call started: 1, or the epoch a resume continued */
    double setup_seconds;   /* set-up: data upload, buffers, the checkpoint read */
    double first_step_seconds; /* the first step (kernel builds happen there) */
    /* with several parts (ranks, accumulate): the gradient buckets, and the seconds this call spent in the
     * communicator's calls for them (begin, progress, wait): the reduction's cost that overlap did not hide */
    size_t buckets, reduce_steps;
    double reduce_seconds;
};

/**
 * The options stored in a checkpoint that shape training (batch size, optimizer and its constants, rate
 * and schedule, weight decay, shuffle, seed, validation fraction, stop rule), written into `opts`; the other
 * fields of `opts` are left as they are. `epochs_done` (may be NULL): the complete epochs it holds.
 */
NNCL_API enum nncl_status nncl_checkpoint_read_options(const char *path, struct nncl_train_options *opts,
                                                     size_t *epochs_done);
/** A string stored through options.checkpoint_meta, malloc'd into *value (free() it); NULL when absent. */
NNCL_API enum nncl_status nncl_checkpoint_read_meta(const char *path, const char *key, char **value);

/**
 * Trains `m` on `data` (which must match the model's inputs and outputs). The data set is copied to
 * the model's backend once; each step gathers its batch there.
 */
NNCL_API enum nncl_status nncl_train(struct nncl_model *m, const struct nncl_dataset *data, const struct nncl_train_options *opts,
                            struct nncl_train_result *result);

/**
 * The shape of a run, derived in one place (nncl_train_plan) and read by the trainer, the memory plan, the
 * CLBlast guard and nncl train --dry-run. Validation batches have the training batch's rows.
 */
struct nncl_train_geometry {
    size_t n_train, n_val;      /* the split: n_val = floor(n * val_fraction) examples held out, chosen by a seeded shuffle */
    size_t batch_rows;          /* rows of a full step: batch_size, or n_train when batch_size is 0 or larger */
    size_t steps_per_epoch;     /* ceil(n_train / batch_rows) */
    size_t last_batch_rows;     /* rows of an epoch's last step: batch_rows when it divides n_train */
    size_t val_batches;         /* 0 without validation */
    size_t val_batch_rows;      /* rows of a full validation batch: min(batch_rows, n_val) */
    size_t val_last_batch_rows; /* rows of the last validation batch */
    size_t optimizer_slots;     /* state vectors per parameter: SGD 0, momentum 1, Adam 2 */
    /* The distinct row counts of the run's matrix products, in the order the run first executes them: those of
     * training steps (forward and backward products) and those of validation batches that no training step has
     * (forward products only). */
    size_t step_rows[4], n_step_rows;
    size_t forward_rows[2], n_forward_rows;
    /* Accumulation and ranks: each global batch is cut into parts = ranks x accumulate contiguous parts whose
     * rows differ by at most one (part j: floor(rows / parts) rows, one more for j < rows % parts); rank r
     * runs parts r * accumulate .. r * accumulate + accumulate - 1, in order. 1, 0, 1, 1 for a plain run. */
    size_t ranks, rank, accumulate, parts;
    size_t device_rows;         /* the most rows one forward or backward runs: ceil(batch_rows / parts) */
};

/** What training will allocate on the device, in bytes (nncl train --dry-run prints it), and the run's geometry. */
struct nncl_memory_plan {
    size_t parameters, gradients, optimizer_state;
    size_t snapshot;     /* parameters and optimizer state at the start of each epoch: the last good state
                            to return to, and the starting point to replay a diverged step from */
    size_t best;         /* the best epoch's parameters, kept for early stopping (patience without keep_last) */
    size_t activations;  /* per-batch workspace of every layer (s, x and delta) */
    size_t batch;        /* the batch's inputs, targets and per-step loss records */
    size_t dataset;      /* the data set and its example order, when it is kept on the device */
    size_t device_total, device_max_alloc, limit;
    int fits;            /* the net fits at all (everything but the data set) */
    int streaming;       /* the data set does not fit: each batch is copied from host memory */
    struct nncl_train_geometry geometry;
};

/**
 * Plans nncl_train(m, data, opts): its geometry and its memory. NNCL_ERR_INVALID_ARG for data or options
 * nncl_train refuses (no training examples left after the validation split among them); NNCL_ERR_OOM when
 * the net itself does not fit, with every size in the message, and the plan still filled in; a data set
 * that does not fit is streamed instead (plan->streaming).
 */
NNCL_API enum nncl_status nncl_train_plan(struct nncl_model *m, const struct nncl_dataset *data,
                                 const struct nncl_train_options *opts, struct nncl_memory_plan *plan);

/** Mean loss and classification error (NaN for regression) of `m` over `data`, in batches of `batch_size`.
 *  Evaluation, prediction and nncl_compute_gradient switch dropout off (nncl_model_set_dropout). */
NNCL_API enum nncl_status nncl_evaluate(struct nncl_model *m, const struct nncl_dataset *data, size_t batch_size, double *loss,
                               double *error);

/**
 * The model's outputs for every example (n x outputs floats into `out`): values for regression,
 * probabilities for BCE/XENT heads.
 */
NNCL_API enum nncl_status nncl_predict(struct nncl_model *m, const struct nncl_dataset *data, size_t batch_size, float *out);

/**
 * The gradient of the mean loss over the first `n` examples of `data` (no shuffling, no update): leaves
 * it in the model's gradient arena and returns the mean loss.
 */
NNCL_API enum nncl_status nncl_compute_gradient(struct nncl_model *m, const struct nncl_dataset *data, size_t n, double *loss);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_TRAIN_H */
