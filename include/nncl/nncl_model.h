/*
 * nncl_model.h: fully connected networks, written once against the backend interface.
 *
 * A model is a stack of dense layers, layer l computing, in the lecture's notation,
 *   s^(l) = W^(l) x^(l-1) + b^(l),   x^(l) = theta(s^(l))
 * where the bias b is the weight of the constant input x0 = 1. W^(l) is (out x in), the layout of
 * torch.nn.Linear. The output layer's activation and the loss form the head:
 *   NNCL_LOSS_MSE    any activation (identity for regression; tanh as in the lecture; or softmax);
 *                    loss per example: sum over outputs of (x - y)^2
 *   NNCL_LOSS_BCE    sigmoid fused with binary cross-entropy (logistic regression)
 *   NNCL_LOSS_XENT   softmax fused with cross-entropy (many classes)
 * The reported loss is the mean over examples; gradients are those of that mean.
 *
 * All parameters live in one backend buffer (one arena), as do their gradients, so an optimizer step
 * is one op over the whole arena. A forward/backward pass only queues ops on the backend.
 */
#ifndef NNCL_MODEL_H
#define NNCL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nncl_backend.h"
#include "nncl_data.h"
#include "nncl_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_MAX_LAYERS 16

enum nncl_loss { NNCL_LOSS_MSE, NNCL_LOSS_BCE, NNCL_LOSS_XENT, NNCL_LOSS_COUNT };

enum nncl_init {
    NNCL_INIT_UNIFORM, /* default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (as torch.nn.Linear) */
    NNCL_INIT_XAVIER,  /* U(-sqrt(6/(fan_in+fan_out)), +...) weights, zero biases */
    NNCL_INIT_HE,      /* U(-sqrt(6/fan_in), +...) weights, zero biases (for ReLU) */
    NNCL_INIT_ZERO,    /* everything 0: shows why symmetry must be broken (hidden units stay identical) */
    NNCL_INIT_COUNT
};

struct nncl_layer_spec {
    size_t units;
    enum nncl_act act; /* ignored on the output layer of BCE (sigmoid) and XENT (softmax) heads */
    float act_param;   /* leaky ReLU slope, ELU alpha */
    float dropout;     /* hidden layers only: the fraction p in [0, 1) of the layer's outputs dropped in each
                          training step (inverted: the kept ones scaled by 1 / (1 - p)); 0: none */
};

struct nncl_model_spec {
    size_t n_inputs;
    size_t n_layers;                                /* hidden layers + the output layer, >= 1 */
    struct nncl_layer_spec layers[NNCL_MAX_LAYERS]; /* layers[n_layers - 1] is the output layer */
    enum nncl_loss loss;
    int output_softmax;                             /* MSE head only: softmax output instead of `act` */
};

struct nncl_model;

/** "mse", "bce", "xent". */
NNCL_API const char *nncl_loss_name(enum nncl_loss loss);
NNCL_API enum nncl_status nncl_loss_from_name(const char *name, enum nncl_loss *out);
/** "uniform", "xavier", "he", "zero". */
NNCL_API const char *nncl_init_name(enum nncl_init init);
NNCL_API enum nncl_status nncl_init_from_name(const char *name, enum nncl_init *out);

/**
 * Parses "256:relu,128:tanh" (units:activation[:param][:dropout=P], left to right; "256:relu:dropout=0.2"
 * drops a fifth of that layer's outputs in each training step) into spec->layers, appending
 * after any layers already there. An empty string adds nothing (logistic or linear regression). It
 * leaves room for the output layer the caller appends: at most NNCL_MAX_LAYERS - 1 layers in all.
 */
NNCL_API enum nncl_status nncl_parse_hidden(const char *text, struct nncl_model_spec *spec);

/** Checks a spec (units > 0, valid activations, head consistent); the message says what to change. */
NNCL_API enum nncl_status nncl_model_spec_check(const struct nncl_model_spec *spec);

/**
 * Creates a model on `be` with parameters initialised from `seed` (generated on the host, so every
 * backend starts from the same numbers).
 */
NNCL_API enum nncl_status nncl_model_init(struct nncl_backend *be, const struct nncl_model_spec *spec, enum nncl_init init,
                                 uint64_t seed, struct nncl_model **out);
/**
 * A model of `spec`'s shape with no parameters allocated (parameter count and offsets only), for planning:
 * nncl_train_plan() and the nncl_model_get_spec/backend/param_count accessors accept it; anything that
 * reads or writes parameters must not be given it. `nncl train --dry-run` uses it, so planning a net far
 * larger than host memory prints the plan and its refusal instead of failing to allocate.
 * @param out receives the model; free it with nncl_model_free().
 */
NNCL_API enum nncl_status nncl_model_init_shape(struct nncl_backend *be, const struct nncl_model_spec *spec,
                                                struct nncl_model **out);
NNCL_API void nncl_model_free(struct nncl_model *m);

NNCL_API const struct nncl_model_spec *nncl_model_get_spec(const struct nncl_model *m);
NNCL_API struct nncl_backend *nncl_model_backend(const struct nncl_model *m);
NNCL_API size_t nncl_model_param_count(const struct nncl_model *m);

/** Weights of layer l (0-based) as (out x in) and bias (1 x out): views into the parameter arena. */
NNCL_API struct nncl_tensor nncl_model_weight(const struct nncl_model *m, size_t layer);
NNCL_API struct nncl_tensor nncl_model_bias(const struct nncl_model *m, size_t layer);
/** The gradient arena's views, same shapes. */
NNCL_API struct nncl_tensor nncl_model_weight_grad(const struct nncl_model *m, size_t layer);
NNCL_API struct nncl_tensor nncl_model_bias_grad(const struct nncl_model *m, size_t layer);
/** The whole parameter arena / gradient arena as one (1 x P) tensor. */
NNCL_API struct nncl_tensor nncl_model_params(const struct nncl_model *m);
NNCL_API struct nncl_tensor nncl_model_grads(const struct nncl_model *m);

/** Copies all parameters to / from host memory, in arena order (W1, b1, W2, b2, ...). */
NNCL_API enum nncl_status nncl_model_get_params(const struct nncl_model *m, float *out, size_t n);
NNCL_API enum nncl_status nncl_model_set_params(struct nncl_model *m, const float *in, size_t n);

/**
 * Forward pass of `x` (B x n_inputs, on the model's backend). With `target` (B x outputs) it also
 * writes each example's loss into `loss_rows` (B x 1; may be NULL) and leaves what backward needs.
 * The output (probabilities for BCE/XENT heads) is returned in *output, a view valid until the next
 * forward. Queues ops only.
 */
NNCL_API enum nncl_status nncl_model_forward(struct nncl_model *m, const struct nncl_tensor *x, const struct nncl_tensor *target,
                                    const struct nncl_tensor *loss_rows, struct nncl_tensor *output);

/**
 * Backward pass after a forward with a target: overwrites the gradient arena with the gradient of the
 * mean loss over the batch (the lecture's delta recursion). Queues ops only.
 */
NNCL_API enum nncl_status nncl_model_backward(struct nncl_model *m, const struct nncl_tensor *x, const struct nncl_tensor *target);

/**
 * Dropout for the passes that follow. on = 1: every later nncl_model_forward and nncl_model_backward is training
 * step `step` (0-based, counted over the whole run), and layer l's outputs are dropped with its spec's rate by
 * the mask of (seed, step, l, element), where x's row r is row row0 + r of the step's whole batch (0 unless the
 * step is split into parts); the backward applies the forward's mask to the delta. on = 0 (the state of a new or
 * loaded model): no dropout, as evaluation, prediction and gradient checks need. The trainer sets it around
 * each step and clears it after.
 */
NNCL_API enum nncl_status nncl_model_set_dropout(struct nncl_model *m, int on, uint64_t seed, uint64_t step,
                                                 size_t row0);

/* Training metadata carried into model files (the data transform and labels). */
NNCL_API enum nncl_status nncl_model_set_data_info(struct nncl_model *m, const struct nncl_dataset *ds);
NNCL_API const struct nncl_preprocess *nncl_model_preprocess(const struct nncl_model *m);
NNCL_API size_t nncl_model_class_count(const struct nncl_model *m);
NNCL_API const char *const *nncl_model_class_names(const struct nncl_model *m); /* NULL when classes have no names */
NNCL_API enum nncl_task nncl_model_task(const struct nncl_model *m);

/**
 * Saves to a safetensors file loadable by PyTorch: layers.{i}.weight (out x in) and layers.{i}.bias,
 * plus __metadata__ with the architecture, loss, preprocessing, class names and format version.
 * Atomic: a crash never leaves a torn file; the previous file stays until the new one is complete.
 */
NNCL_API enum nncl_status nncl_model_save(const struct nncl_model *m, const char *path);

/** Loads a model file onto `be`; a corrupt or foreign file is refused with a message saying why. */
NNCL_API enum nncl_status nncl_model_load(struct nncl_backend *be, const char *path, struct nncl_model **out);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_MODEL_H */
