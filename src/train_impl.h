/*
 * train_impl.h: what the trainer's files share (internal): the argument checks and the plan
 * (train_plan.c) that the trainer, the CLBlast guard and nncl train --dry-run read (train.c), the device
 * data and batch scratch of training and evaluation (train_eval.c), and the gradient buckets (train_reduce.c).
 */
#ifndef NNCL_TRAIN_IMPL_H
#define NNCL_TRAIN_IMPL_H

#include "nncl/nncl_model.h"
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

/* ---- shared by the trainer (train.c) and evaluation (train_eval.c) ---- */

/* The data set on the device: x, and y (y.buffer NULL when the data has no targets). */
struct train_device_data {
    struct nncl_buffer *buf;
    struct nncl_tensor x, y;
};

/* Per-batch scratch: the batch, its per-row loss and error, and the ACC_COUNT accumulators. */
struct train_batch_space {
    struct nncl_buffer *buf;
    struct nncl_tensor x, t, loss_rows, err_rows, acc[ACC_COUNT], acc_all;
};

/* Uploads the first n examples of ds (and their targets, if any). */
enum nncl_status train_upload(struct nncl_backend *be, const struct nncl_dataset *ds, size_t n,
                              struct train_device_data *dd);
/* Scratch for batches of up to `rows` rows, accumulators zeroed. */
enum nncl_status train_batch_space_init(struct nncl_backend *be, size_t rows, size_t in, size_t out,
                                       struct train_batch_space *b);
/* The first `rows` rows of a batch tensor. */
struct nncl_tensor train_head(const struct nncl_tensor *t, size_t rows);
/* Whether the model's loss and task have a classification error to count. */
int train_measures_error(const struct nncl_model *m);
/* Forward over a batch (x, t) and add its summed loss and error into acc[loss_slot], acc[loss_slot + 1]. */
enum nncl_status train_forward_and_count(struct nncl_model *m, struct train_batch_space *b, const struct nncl_tensor *x,
                                        const struct nncl_tensor *t, int loss_slot);

/* The most matrix products a run executes: three per layer at each of at most six row counts. */
#define TRAIN_MAX_GEMM_CASES (6 * 3 * NNCL_MAX_LAYERS)

/* Part `part` (0 .. g->parts - 1) of training step `step`: order[*first .. *first + *rows) (train_plan.c). */
void train_part_rows(const struct nncl_train_geometry *g, size_t step, size_t part, size_t *first, size_t *rows);

/*
 * Every matrix product shape a run with geometry `g` executes, without duplicates (train_plan.c): each layer's
 * forward, weight gradient and input gradient products at the training steps' row counts, and its forward
 * product at the validation batches' other row counts. Writes up to `cap` cases; returns how many there are.
 * The CLBlast guard checks exactly these.
 */
size_t train_gemm_cases(const struct nncl_model_spec *spec, const struct nncl_train_geometry *g, struct op_case *out,
                        size_t cap);

/*
 * The gradient of a step of several parts, summed on the host and over the ranks in buckets (train_reduce.c,
 * docs/distributed.md). Bucket k (begun k-th; the arena's end first) is arena floats [off, off + n), its layers
 * first_layer .. the next bucket's; bucket 0 carries the stop flag as its last float.
 */
struct train_bucket {
    size_t first_layer, off, n;
    struct nncl_comm_request *req;
};

struct train_reduce {
    struct nncl_model *m;
    struct nncl_comm *comm;
    enum nncl_reduction mode;
    float *part, *sum; /* a part's gradient, the step's sum; `cap` floats each (at least n_params + 1) */
    struct train_bucket bucket[NNCL_MAX_LAYERS];
    size_t n_buckets, begun; /* begun: buckets of this step whose sum has begun */
    size_t rows, total;      /* the part's rows, the step's */
    int first_part;
    float stop;
    double comm_seconds; /* in nncl_comm_sum_begin, _progress and _end, over all steps: what overlap left exposed */
    size_t steps;
};

/* Buckets of at least bucket_bytes (0: NNCL_TRAIN_BUCKET_BYTES) over m's arena; the host sums. */
enum nncl_status train_reduce_init(struct train_reduce *r, struct nncl_model *m, struct nncl_comm *comm,
                                   enum nncl_reduction mode, size_t bucket_bytes, size_t cap);
void train_reduce_free(struct train_reduce *r);
/*
 * Backward over the part (x, t) of `rows` rows (0: none; a step of fewer rows than parts) of a step of `total`
 * rows, its gradient scaled and folded into the sum (`first`: the rank's first part, which starts the sum).
 * `last`: the rank's last part of the step, whose buckets begin their sums during backward; stop: the flag
 * the ranks agree on (summed with the gradient).
 */
enum nncl_status train_reduce_part(struct train_reduce *r, const struct nncl_tensor *x, const struct nncl_tensor *t,
                                   size_t rows, size_t total, int first, int last, float stop);
/* Waits for the buckets in order and writes each sum into the model's gradient; *stop_agreed: any rank's flag. */
enum nncl_status train_reduce_finish(struct train_reduce *r, int *stop_agreed);

#endif /* NNCL_TRAIN_IMPL_H */
