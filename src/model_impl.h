/*
 * model_impl.h: the model's internals, shared by model.c (layers, passes), model_io.c (files) and
 * train.c (the trainer). Internal.
 */
#ifndef NNCL_MODEL_IMPL_H
#define NNCL_MODEL_IMPL_H

#include "nncl/nncl_model.h"

struct nncl_model {
    struct nncl_backend *be;
    struct nncl_model_spec spec;
    size_t n_params;
    struct nncl_buffer *params; /* arena: W1 b1 W2 b2 ... */
    struct nncl_buffer *grads;  /* same layout */
    size_t w_off[NNCL_MAX_LAYERS], b_off[NNCL_MAX_LAYERS]; /* float offsets into the arenas */

    /* Per-batch workspace, sized for `batch_cap` rows and regrown on demand: for each layer the
     * pre-activation S, the output X and delta D (the gradient of the loss wrt S), plus the
     * softmax-with-MSE scratch G. Batches with fewer rows use the leading rows. */
    size_t batch_cap;
    struct nncl_buffer *work;
    size_t s_off[NNCL_MAX_LAYERS], x_off[NNCL_MAX_LAYERS], d_off[NNCL_MAX_LAYERS], g_off;
    /* For each layer with a dropout rate, R: its output after dropout, what the next layer reads in a training
     * step (X keeps the activation's output, which the backward's f' reads). */
    size_t r_off[NNCL_MAX_LAYERS];

    /* nncl_model_set_dropout: whether the passes are a training step's, and its mask's key */
    struct {
        int on;
        uint64_t seed, step;
        size_t row0;
    } drop;

    uint64_t seed; /* of the initial weights (written into model files) */
    /* what the data looked like (written into model files) */
    enum nncl_task task;
    size_t n_classes;
    char **class_names;
    struct nncl_preprocess preprocess;
};

/**
 * After a forward (and optionally backward) pass over `rows` rows, finds the first non-finite value in
 * pass order: layer by layer the pre-activations s and outputs x, then the gradients from the last
 * layer back. Writes e.g. "layer 2 (128 units, relu): pre-activation s" into `where` and returns 1, or
 * returns 0 when everything is finite. Reads device memory: for the failure path only.
 */
int nncl_model_find_nonfinite(struct nncl_model *m, size_t rows, int check_grads, char *where, size_t cap);

/* Layer l's per-batch tensors after a pass over `rows` rows: pre-activation s, output x, delta. */
enum nncl_layer_tensor { NNCL_LAYER_S, NNCL_LAYER_X, NNCL_LAYER_DELTA };
struct nncl_tensor nncl_model_layer_tensor(const struct nncl_model *m, size_t layer, enum nncl_layer_tensor which,
                                           size_t rows);

/** Replaces the hidden layers' dropout rates with `rates[l]` (checked by nncl_model_spec_check), dropping the
 *  workspace so the next pass sizes it anew: `nncl train --init-from` with a --hidden that sets new rates. */
enum nncl_status nncl_model_set_dropout_rates(struct nncl_model *m, const float *rates, size_t n_layers);

/** Whether layer l drops units in the passes that follow (a training step, a rate above 0). */
static inline int nncl_model_drops(const struct nncl_model *m, size_t l) {
    return m->drop.on && m->spec.layers[l].dropout > 0.0f;
}

/*
 * nncl_model_backward, calling done(user, l) as soon as layer l's weight and bias gradients are computed (queued,
 * on a device backend: a read of them waits for them), before the pass goes on to layer l - 1; layers come last
 * first. A status other than NNCL_OK from done ends the pass with it. done NULL: nncl_model_backward.
 */
typedef enum nncl_status (*nncl_layer_grad_fn)(void *user, size_t layer);
enum nncl_status nncl_model_backward_layers(struct nncl_model *m, const struct nncl_tensor *x,
                                            const struct nncl_tensor *target, nncl_layer_grad_fn done, void *user);

/** Bytes of per-batch workspace for `rows` rows. */
size_t nncl_model_workspace_bytes(const struct nncl_model_spec *s, size_t rows);

/** Grows the workspace to at least `rows` rows. */
enum nncl_status nncl_model_reserve(struct nncl_model *m, size_t rows);

/** The width of layer l's output, and of its input (n_inputs for l = 0). */
static inline size_t nncl_layer_out(const struct nncl_model_spec *s, size_t l) { return s->layers[l].units; }
static inline size_t nncl_layer_in(const struct nncl_model_spec *s, size_t l) {
    return l == 0 ? s->n_inputs : s->layers[l - 1].units;
}
static inline size_t nncl_model_outputs(const struct nncl_model_spec *s) { return s->layers[s->n_layers - 1].units; }

/*
 * nncl_model_save with extra tensors and metadata (a checkpoint: src/checkpoint.c). The file stays a model
 * file that nncl_model_load and PyTorch read; extra tensor names start with "optimizer." or "trainer.".
 */
#define NNCL_MODEL_MAX_EXTRA 48
struct st_write_tensor;
struct st_metadata_entry;
enum nncl_status nncl_model_save_extra(const struct nncl_model *m, const char *path,
                                       const struct st_write_tensor *extra, size_t n_extra,
                                       const struct st_metadata_entry *extra_meta, size_t n_extra_meta);

#endif /* NNCL_MODEL_IMPL_H */
