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

#include "nncl_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each entry: tensors in call order, then parameters. Outputs are marked (out), read-write (inout). */
enum nncl_op {
    NNCL_OP_GEMM,             /* a, b, c(inout); trans_a, trans_b; alpha, beta:  c = alpha op(a) op(b) + beta c */
    NNCL_OP_BIAS_ADD,         /* y(inout) (N x C), bias (1 x C):                  y[n][c] += bias[c] */
    NNCL_OP_BIAS_GRAD,        /* dy (N x C), dbias(inout) (1 x C); alpha, beta:   dbias = alpha sum_n dy[n] + beta dbias */
    NNCL_OP_ACT_FWD,          /* x, y(out); act; act_param:                       y = f(x) */
    NNCL_OP_ACT_BWD,          /* x, y, dy, dx(inout); act; act_param, beta:       dx = dy f'(x) + beta dx */
    NNCL_OP_SOFTMAX_FWD,      /* x, y(out) (N x C):                               y = softmax of each row */
    NNCL_OP_SOFTMAX_BWD,      /* y, dy, dx(inout); beta:                          dx = y (dy - <dy, y>) + beta dx */
    NNCL_OP_SOFTMAX_XENT_FWD, /* z, t, p(out), loss(out) (N x 1):                 p = softmax(z), loss = -sum t log p */
    NNCL_OP_SOFTMAX_XENT_BWD, /* p, t, dz(inout); scale, beta:                    dz = scale (p sum(t) - t) + beta dz */
    NNCL_OP_SIGMOID_BCE_FWD,  /* z, t, p(out), loss(out) (N x 1):                 p = sigmoid(z), loss = BCE(p, t) summed */
    NNCL_OP_SIGMOID_BCE_BWD,  /* p, t, dz(inout); scale, beta:                    dz = scale (p - t) + beta dz */
    NNCL_OP_MSE_FWD,          /* y, t, loss(out) (N x 1):                         loss = sum_c (y - t)^2 */
    NNCL_OP_MSE_BWD,          /* y, t, dy(inout); scale, beta:                    dy = scale 2 (y - t) + beta dy */
    NNCL_OP_CLASS_ERROR,      /* y, t, err(out) (N x 1):                          err = argmax y != argmax t */
    NNCL_OP_SUM,              /* x, out(inout) (1 x 1); alpha, beta:              out = alpha sum(x) + beta out */
    NNCL_OP_SGD_UPDATE,       /* w(inout), g; lr, weight_decay:                   w -= lr (g + wd w) */
    NNCL_OP_MOMENTUM_UPDATE,  /* w(inout), g, v(inout); lr, momentum, wd:         v = mu v + g + wd w; w -= lr v */
    NNCL_OP_ADAM_UPDATE,      /* w(inout), g, m(inout), v(inout); lr, beta1, beta2, eps, wd, bc1, bc2 */
    NNCL_OP_FILL,             /* x(out); value:                                   x = value */
    NNCL_OP_COPY,             /* src, dst(out):                                   dst = src */
    NNCL_OP_SCALE,            /* x(inout); alpha:                                 x = alpha x */
    NNCL_OP_GATHER_ROWS,      /* src (N x C), idx (B x 1), dst(out) (B x C):      dst[b] = src[idx[b]] */
    NNCL_OP_BIAS_ACT_FWD,     /* s(inout) (N x C), bias (1 x C), y(out); act; act_param: s += bias; y = f(s) */
    NNCL_OP_COUNT
};

/** Activation functions; the seed's default is tanh. */
enum nncl_act {
    NNCL_ACT_IDENTITY,   /* f(x) = x */
    NNCL_ACT_SIGMOID,    /* f(x) = 1 / (1 + e^-x),       f' = y (1 - y) */
    NNCL_ACT_TANH,       /* f(x) = tanh x,               f' = 1 - y^2 */
    NNCL_ACT_RELU,       /* f(x) = max(0, x),            f' = [x > 0] */
    NNCL_ACT_LEAKY_RELU, /* f(x) = x > 0 ? x : a x,      f' = x > 0 ? 1 : a     (a = slope, default 0.1) */
    NNCL_ACT_ELU,        /* f(x) = x > 0 ? x : a(e^x-1), f' = x > 0 ? 1 : y + a (a = alpha, default 1) */
    NNCL_ACT_COUNT
};

#define NNCL_OP_MAX_TENSORS 5
#define NNCL_OP_MAX_PARAMS 8
#define NNCL_OP_MAX_IPARAMS 2

/** One op invocation in generic form, as the typed wrappers below build it. */
struct nncl_op_call {
    enum nncl_op op;
    struct nncl_tensor t[NNCL_OP_MAX_TENSORS]; /* in the order of the enum comment */
    float p[NNCL_OP_MAX_PARAMS];              /* float parameters, same order */
    int ip[NNCL_OP_MAX_IPARAMS];              /* integer parameters: transposes, activation kind */
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

/** "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu". */
NNCL_API const char *nncl_act_name(enum nncl_act act);
/** Parses an activation name; returns NNCL_ERR_INVALID_ARG with a list of valid names otherwise. */
NNCL_API enum nncl_status nncl_act_from_name(const char *name, enum nncl_act *out);
/** The default parameter: 0.1 for leaky ReLU's slope, 1.0 for ELU's alpha, 0 otherwise. */
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
