/*
 * nncl_ops.h: the ops every backend implements, and how to call them.
 *
 * An op reads and writes tensors of one backend. Ops only queue work: on the OpenCL backend a whole
 * training step is a sequence of op calls with no waiting; nncl_tensor_get() and
 * nncl_backend_synchronize() are the only calls that block.
 *
 * Conventions shared by every op:
 *   - Shapes are checked before any work is queued; a mismatch returns NNCL_ERR_SHAPE and a message
 *     naming the op and every shape (nncl_last_error()).
 *   - Ops that write a gradient take `beta`: out = (new value) + beta * out. beta = 0 overwrites (the
 *     old contents are never read, so they may be NaN), beta = 1 accumulates.
 *   - Element-wise ops may run in place (the output tensor equal to an input tensor).
 *   - Per-example losses are written one per row into an (N x 1) tensor; NNCL_OP_SUM reduces them on
 *     the device, so a loss is read back only when the caller asks for it.
 *
 * The maths of every op, forward and backward, is in docs/architecture.md.
 */
#ifndef NNCL_OPS_H
#define NNCL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "nncl_backend.h"
#include "nncl_oplist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ops, in the order and with the tensors, parameters and maths of NNCL_OP_LIST (nncl_oplist.h). */
#define NNCL_OP_ENUM_(ID, ...) NNCL_OP_##ID,
enum nncl_op {
    NNCL_OP_LIST(NNCL_OP_ENUM_)
    NNCL_OP_COUNT
};
#undef NNCL_OP_ENUM_

/** Activation functions, as NNCL_ACT_LIST (nncl_oplist.h) lists them; the seed's default is tanh. */
#define NNCL_ACT_ENUM_(ID, ...) NNCL_ACT_##ID,
enum nncl_act {
    NNCL_ACT_LIST(NNCL_ACT_ENUM_)
    NNCL_ACT_COUNT
};
#undef NNCL_ACT_ENUM_

#define NNCL_OP_MAX_TENSORS 5
#define NNCL_OP_MAX_PARAMS 8
#define NNCL_OP_MAX_IPARAMS 6

/** One op invocation in generic form, as the typed wrappers below build it. */
struct nncl_op_call {
    enum nncl_op op;
    struct nncl_tensor t[NNCL_OP_MAX_TENSORS]; /* in the order of NNCL_OP_LIST's tensor names */
    float p[NNCL_OP_MAX_PARAMS];              /* float parameters, same order */
    int ip[NNCL_OP_MAX_IPARAMS];              /* integer parameters: transposes, activation kind, dropout's key
                                                  (32-bit words as int bit patterns) */
};

/** Static description of an op, for generic tools (parity tests, benchmarks, nncl check). */
struct nncl_op_info {
    const char *name;                                /* "gemm", "act_fwd", ... */
    int n_tensors;
    const char *tensor_names[NNCL_OP_MAX_TENSORS];
    unsigned written;                                /* bit i set: tensor i is written by the op */
    unsigned read_before_write;                      /* bit i set: an output whose old value is read (beta, +=) */
    int n_params;
    const char *param_names[NNCL_OP_MAX_PARAMS];
    int n_iparams;
    const char *iparam_names[NNCL_OP_MAX_IPARAMS];
};

/** The description of `op`; NULL for an out-of-range value. */
NNCL_API const struct nncl_op_info *nncl_op_get_info(enum nncl_op op);
NNCL_API const char *nncl_op_name(enum nncl_op op);

/** The activation's name in NNCL_ACT_LIST: "identity", "tanh", "leaky_relu", ... */
NNCL_API const char *nncl_act_name(enum nncl_act act);
/** Parses an activation name; returns NNCL_ERR_INVALID_ARG with a list of valid names otherwise. */
NNCL_API enum nncl_status nncl_act_from_name(const char *name, enum nncl_act *out);
/** The default parameter: 0.1 for leaky ReLU's slope, 1.0 for ELU's alpha, 0 otherwise (NNCL_ACT_LIST). */
NNCL_API float nncl_act_default_param(enum nncl_act act);

/** Whether `be` implements `op`. */
NNCL_API int nncl_backend_supports_op(const struct nncl_backend *be, enum nncl_op op);

/** Checks shapes and parameters, then queues the op. The typed wrappers below all end here. */
NNCL_API enum nncl_status nncl_op_run(struct nncl_backend *be, const struct nncl_op_call *call);

/* Typed wrappers, one per op. Tensor arguments are never NULL. */
NNCL_API enum nncl_status nncl_op_gemm(struct nncl_backend *be, int trans_a, int trans_b, float alpha,
                              const struct nncl_tensor *a, const struct nncl_tensor *b, float beta,
                              const struct nncl_tensor *c);
NNCL_API enum nncl_status nncl_op_bias_add(struct nncl_backend *be, const struct nncl_tensor *y,
                                  const struct nncl_tensor *bias);
NNCL_API enum nncl_status nncl_op_bias_grad(struct nncl_backend *be, float alpha, const struct nncl_tensor *dy,
                                   float beta, const struct nncl_tensor *dbias);
NNCL_API enum nncl_status nncl_op_act_fwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                 const struct nncl_tensor *x, const struct nncl_tensor *y);
/**
 * A hidden layer's forward step after its product in one pass: s += bias (the seed's x0 = 1 weights),
 * then y = f(s), keeping s for the backward pass. Exactly bias_add followed by act_fwd, one launch
 * instead of two on a device. y may be s itself only when s is not needed afterwards.
 */
NNCL_API enum nncl_status nncl_op_bias_act_fwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                      const struct nncl_tensor *s, const struct nncl_tensor *bias,
                                      const struct nncl_tensor *y);
NNCL_API enum nncl_status nncl_op_act_bwd(struct nncl_backend *be, enum nncl_act act, float act_param,
                                 const struct nncl_tensor *x, const struct nncl_tensor *y,
                                 const struct nncl_tensor *dy, float beta, const struct nncl_tensor *dx);
NNCL_API enum nncl_status nncl_op_softmax_fwd(struct nncl_backend *be, const struct nncl_tensor *x,
                                     const struct nncl_tensor *y);
NNCL_API enum nncl_status nncl_op_softmax_bwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                     const struct nncl_tensor *dy, float beta,
                                     const struct nncl_tensor *dx);
NNCL_API enum nncl_status nncl_op_softmax_xent_fwd(struct nncl_backend *be, const struct nncl_tensor *z,
                                          const struct nncl_tensor *target, const struct nncl_tensor *prob,
                                          const struct nncl_tensor *loss);
NNCL_API enum nncl_status nncl_op_softmax_xent_bwd(struct nncl_backend *be, const struct nncl_tensor *prob,
                                          const struct nncl_tensor *target, float scale, float beta,
                                          const struct nncl_tensor *dz);
NNCL_API enum nncl_status nncl_op_sigmoid_bce_fwd(struct nncl_backend *be, const struct nncl_tensor *z,
                                         const struct nncl_tensor *target, const struct nncl_tensor *prob,
                                         const struct nncl_tensor *loss);
NNCL_API enum nncl_status nncl_op_sigmoid_bce_bwd(struct nncl_backend *be, const struct nncl_tensor *prob,
                                         const struct nncl_tensor *target, float scale, float beta,
                                         const struct nncl_tensor *dz);
NNCL_API enum nncl_status nncl_op_mse_fwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                 const struct nncl_tensor *target, const struct nncl_tensor *loss);
NNCL_API enum nncl_status nncl_op_mse_bwd(struct nncl_backend *be, const struct nncl_tensor *y,
                                 const struct nncl_tensor *target, float scale, float beta,
                                 const struct nncl_tensor *dy);
NNCL_API enum nncl_status nncl_op_class_error(struct nncl_backend *be, const struct nncl_tensor *y,
                                     const struct nncl_tensor *target, const struct nncl_tensor *err);
NNCL_API enum nncl_status nncl_op_sum(struct nncl_backend *be, float alpha, const struct nncl_tensor *x, float beta,
                             const struct nncl_tensor *out);
NNCL_API enum nncl_status nncl_op_sgd_update(struct nncl_backend *be, float lr, float weight_decay,
                                    const struct nncl_tensor *w, const struct nncl_tensor *g);
NNCL_API enum nncl_status nncl_op_momentum_update(struct nncl_backend *be, float lr, float momentum,
                                         float weight_decay, const struct nncl_tensor *w,
                                         const struct nncl_tensor *g, const struct nncl_tensor *v);
/** Adam at step `step` (1-based); the bias corrections 1 - beta^step are computed here, on the host. */
NNCL_API enum nncl_status nncl_op_adam_update(struct nncl_backend *be, float lr, float beta1, float beta2, float eps,
                                     float weight_decay, long step, const struct nncl_tensor *w,
                                     const struct nncl_tensor *g, const struct nncl_tensor *m,
                                     const struct nncl_tensor *v);
/**
 * Gradient clipping and the newer optimizers (NNCL_OP_LIST has the maths). `sumsq` (1 x 1) holds the squared
 * global norm of g (nncl_op_sumsq); with max_norm > 0 the update scales g by min(1, max_norm / sqrt(sumsq))
 * itself, so clipping costs one reduction and no host round trip. With max_norm 0 sumsq is not read.
 */
NNCL_API enum nncl_status nncl_op_sumsq(struct nncl_backend *be, const struct nncl_tensor *x,
                                        const struct nncl_tensor *out);
NNCL_API enum nncl_status nncl_op_clip_grad(struct nncl_backend *be, float max_norm, const struct nncl_tensor *g,
                                            const struct nncl_tensor *sumsq);
NNCL_API enum nncl_status nncl_op_nesterov_update(struct nncl_backend *be, float lr, float momentum,
                                                  float weight_decay, float max_norm, const struct nncl_tensor *w,
                                                  const struct nncl_tensor *g, const struct nncl_tensor *v,
                                                  const struct nncl_tensor *sumsq);
NNCL_API enum nncl_status nncl_op_rmsprop_update(struct nncl_backend *be, float lr, float alpha, float eps,
                                                 float weight_decay, float momentum, float max_norm,
                                                 const struct nncl_tensor *w, const struct nncl_tensor *g,
                                                 const struct nncl_tensor *sq, const struct nncl_tensor *buf,
                                                 const struct nncl_tensor *sumsq);
/** AdamW at step `step` (1-based); weight decay is decoupled: w -= lr wd w before the Adam step. */
NNCL_API enum nncl_status nncl_op_adamw_update(struct nncl_backend *be, float lr, float beta1, float beta2, float eps,
                                               float weight_decay, long step, float max_norm,
                                               const struct nncl_tensor *w, const struct nncl_tensor *g,
                                               const struct nncl_tensor *m, const struct nncl_tensor *v,
                                               const struct nncl_tensor *sumsq);
/** iRPROP-: gprev starts at 0 and delta at the initial step size (FANN's delta_zero, 0.1). */
NNCL_API enum nncl_status nncl_op_irprop_update(struct nncl_backend *be, float increase, float decrease,
                                                float delta_min, float delta_max, float weight_decay, float max_norm,
                                                const struct nncl_tensor *w, const struct nncl_tensor *g,
                                                const struct nncl_tensor *gprev, const struct nncl_tensor *delta,
                                                const struct nncl_tensor *sumsq);
/**
 * Inverted dropout (docs/architecture.md section 5.8): y = x / (1 - p) where the element is kept, 0 where it is
 * dropped, the mask a function of (seed, step, layer, element) only: element i of x is element row0 * cols + i
 * of the step's whole batch (row0: the first row of x in it), decided by Philox4x32-10. The same call on the
 * delta (x = dy, y = dx) is its backward. p in [0, 1); layer below 256; step below 2^56; y may be x.
 */
NNCL_API enum nncl_status nncl_op_dropout(struct nncl_backend *be, float p, uint64_t seed, uint64_t step, int layer,
                                          size_t row0, const struct nncl_tensor *x, const struct nncl_tensor *y);
NNCL_API enum nncl_status nncl_op_fill(struct nncl_backend *be, float value, const struct nncl_tensor *x);
NNCL_API enum nncl_status nncl_op_copy(struct nncl_backend *be, const struct nncl_tensor *src,
                              const struct nncl_tensor *dst);
NNCL_API enum nncl_status nncl_op_scale(struct nncl_backend *be, float alpha, const struct nncl_tensor *x);
/**
 * Row gather, how a shuffled mini-batch is assembled on the device. Indices are stored as floats
 * (exact up to 2^24 rows); a row whose index is not an integer in [0, N) comes out as NaN, so a bad
 * index is visible instead of reading outside src.
 */
NNCL_API enum nncl_status nncl_op_gather_rows(struct nncl_backend *be, const struct nncl_tensor *src,
                                     const struct nncl_tensor *idx, const struct nncl_tensor *dst);

#ifdef __cplusplus
}
#endif

#endif /* NNCL_OPS_H */
