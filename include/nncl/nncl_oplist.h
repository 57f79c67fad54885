/*
 * nncl_oplist.h: THE list of ops and THE list of activations, as X-macros (included by nncl_ops.h).
 *
 * Everything that enumerates ops or activations is generated from these two lists, so that a value
 * cannot exist in one place and be missing in another: enum nncl_op and enum nncl_act (nncl_ops.h);
 * the op info table, the activation names, default parameters, parameter ranges and the "choose ..."
 * message (src/ops.c); the activation constants the kernels see (build options made in
 * src/opencl/ocl_program.c); the activation parity cases (src/check/op_cases.c); the CLI help.
 * src/ops.c static_asserts its tables against NNCL_OP_COUNT and NNCL_ACT_COUNT, and every switch over
 * the enums has a case per value and no default, so -Wall names each place a new value must reach.
 * docs/architecture.md, "Adding an op or an activation", has the recipe.
 *
 * Values are the order of the list: append, never reorder (model files store activation names, but
 * callers may have compiled the numbers in).
 */
#ifndef NNCL_OPLIST_H
#define NNCL_OPLIST_H

#include <float.h> /* FLT_MAX, for a parameter range open above */

/* Bit i of an op's tensor masks. */
#define NNCL_OP_T(i) (1u << (i))

/*
 * X(ID, "name", n_tensors, (tensor names), written, read_before_write, n_params, (float parameter names),
 *   n_iparams, (integer parameter names))
 *
 * Tensors in call order; `written`: the tensors the op writes; `read_before_write`: the outputs whose old
 * value the op reads (beta, +=). An empty name list is (0). An op with an integer parameter named "act"
 * takes an activation (an enum nncl_act), whose parameter is its float parameter named "act_param"; the
 * activation checks of src/ops.c and the activation parity cases follow from that name.
 * The comment of each entry: its tensors with (out)/(inout), then its maths.
 */
#define NNCL_OP_LIST(X)                                                                                      \
    /* a, b, c(inout); trans_a, trans_b; alpha, beta:  c = alpha op(a) op(b) + beta c */                     \
    X(GEMM, "gemm", 3, ("a", "b", "c"), NNCL_OP_T(2), NNCL_OP_T(2), 2, ("alpha", "beta"), 2,                 \
      ("trans_a", "trans_b"))                                                                                \
    /* y(inout) (N x C), bias (1 x C):  y[n][c] += bias[c] */                                                \
    X(BIAS_ADD, "bias_add", 2, ("y", "bias"), NNCL_OP_T(0), NNCL_OP_T(0), 0, (0), 0, (0))                   \
    /* dy (N x C), dbias(inout) (1 x C); alpha, beta:  dbias = alpha sum_n dy[n] + beta dbias */             \
    X(BIAS_GRAD, "bias_grad", 2, ("dy", "dbias"), NNCL_OP_T(1), NNCL_OP_T(1), 2, ("alpha", "beta"), 0, (0)) \
    /* x, y(out); act; act_param:  y = f(x) */                                                               \
    X(ACT_FWD, "act_fwd", 2, ("x", "y"), NNCL_OP_T(1), 0, 1, ("act_param"), 1, ("act"))                      \
    /* x, y, dy, dx(inout); act; act_param, beta:  dx = dy f'(x) + beta dx */                                \
    X(ACT_BWD, "act_bwd", 4, ("x", "y", "dy", "dx"), NNCL_OP_T(3), NNCL_OP_T(3), 2, ("act_param", "beta"), 1, \
      ("act"))                                                                                               \
    /* x, y(out) (N x C):  y = softmax of each row */                                                        \
    X(SOFTMAX_FWD, "softmax_fwd", 2, ("x", "y"), NNCL_OP_T(1), 0, 0, (0), 0, (0))                            \
    /* y, dy, dx(inout); beta:  dx = y (dy - <dy, y>) + beta dx */                                           \
    X(SOFTMAX_BWD, "softmax_bwd", 3, ("y", "dy", "dx"), NNCL_OP_T(2), NNCL_OP_T(2), 1, ("beta"), 0, (0))     \
    /* z, t, p(out), loss(out) (N x 1):  p = softmax(z), loss = -sum t log p */                              \
    X(SOFTMAX_XENT_FWD, "softmax_xent_fwd", 4, ("z", "t", "p", "loss"), NNCL_OP_T(2) | NNCL_OP_T(3), 0, 0,   \
      (0), 0, (0))                                                                                           \
    /* p, t, dz(inout); scale, beta:  dz = scale (p sum(t) - t) + beta dz */                                 \
    X(SOFTMAX_XENT_BWD, "softmax_xent_bwd", 3, ("p", "t", "dz"), NNCL_OP_T(2), NNCL_OP_T(2), 2,              \
      ("scale", "beta"), 0, (0))                                                                             \
    /* z, t, p(out), loss(out) (N x 1):  p = sigmoid(z), loss = BCE(p, t) summed */                          \
    X(SIGMOID_BCE_FWD, "sigmoid_bce_fwd", 4, ("z", "t", "p", "loss"), NNCL_OP_T(2) | NNCL_OP_T(3), 0, 0,     \
      (0), 0, (0))                                                                                           \
    /* p, t, dz(inout); scale, beta:  dz = scale (p - t) + beta dz */                                        \
    X(SIGMOID_BCE_BWD, "sigmoid_bce_bwd", 3, ("p", "t", "dz"), NNCL_OP_T(2), NNCL_OP_T(2), 2,                \
      ("scale", "beta"), 0, (0))                                                                             \
    /* y, t, loss(out) (N x 1):  loss = sum_c (y - t)^2 */                                                   \
    X(MSE_FWD, "mse_fwd", 3, ("y", "t", "loss"), NNCL_OP_T(2), 0, 0, (0), 0, (0))                            \
    /* y, t, dy(inout); scale, beta:  dy = scale 2 (y - t) + beta dy */                                      \
    X(MSE_BWD, "mse_bwd", 3, ("y", "t", "dy"), NNCL_OP_T(2), NNCL_OP_T(2), 2, ("scale", "beta"), 0, (0))     \
    /* y, t, err(out) (N x 1):  err = argmax y != argmax t */                                                \
    X(CLASS_ERROR, "class_error", 3, ("y", "t", "err"), NNCL_OP_T(2), 0, 0, (0), 0, (0))                     \
    /* x, out(inout) (1 x 1); alpha, beta:  out = alpha sum(x) + beta out */                                 \
    X(SUM, "sum", 2, ("x", "out"), NNCL_OP_T(1), NNCL_OP_T(1), 2, ("alpha", "beta"), 0, (0))                 \
    /* w(inout), g; lr, weight_decay:  w -= lr (g + wd w) */                                                 \
    X(SGD_UPDATE, "sgd_update", 2, ("w", "g"), NNCL_OP_T(0), NNCL_OP_T(0), 2, ("lr", "weight_decay"), 0, (0)) \
    /* w(inout), g, v(inout); lr, momentum, wd:  v = mu v + g + wd w; w -= lr v */                           \
    X(MOMENTUM_UPDATE, "momentum_update", 3, ("w", "g", "v"), NNCL_OP_T(0) | NNCL_OP_T(2),                   \
      NNCL_OP_T(0) | NNCL_OP_T(2), 3, ("lr", "momentum", "weight_decay"), 0, (0))                            \
    /* w(inout), g, m(inout), v(inout); lr, beta1, beta2, eps, wd, bc1, bc2 */                               \
    X(ADAM_UPDATE, "adam_update", 4, ("w", "g", "m", "v"), NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3),       \
      NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), 7,                                                         \
      ("lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction1", "bias_correction2"), 0, (0))       \
    /* x(out); value:  x = value */                                                                          \
    X(FILL, "fill", 1, ("x"), NNCL_OP_T(0), 0, 1, ("value"), 0, (0))                                         \
    /* src, dst(out):  dst = src */                                                                          \
    X(COPY, "copy", 2, ("src", "dst"), NNCL_OP_T(1), 0, 0, (0), 0, (0))                                      \
    /* x(inout); alpha:  x = alpha x */                                                                      \
    X(SCALE, "scale", 1, ("x"), NNCL_OP_T(0), NNCL_OP_T(0), 1, ("alpha"), 0, (0))                            \
    /* src (N x C), idx (B x 1), dst(out) (B x C):  dst[b] = src[idx[b]] */                                  \
    X(GATHER_ROWS, "gather_rows", 3, ("src", "idx", "dst"), NNCL_OP_T(2), 0, 0, (0), 0, (0))                 \
    /* s(inout) (N x C), bias (1 x C), y(out); act; act_param:  s += bias; y = f(s) */                       \
    X(BIAS_ACT_FWD, "bias_act_fwd", 3, ("s", "bias", "y"), NNCL_OP_T(0) | NNCL_OP_T(2), NNCL_OP_T(0), 1,     \
      ("act_param"), 1, ("act"))                                                                             \
    /* x, out(out) (1 x 1):  out = sum x^2 (the squared global norm gradient clipping reads) */              \
    X(SUMSQ, "sumsq", 2, ("x", "out"), NNCL_OP_T(1), 0, 0, (0), 0, (0))                                      \
    /* The updates below read sumsq (1 x 1, the squared norm of g) and scale g by                            \
     * c = max_norm > 0 && sumsq > max_norm^2 ? max_norm / sqrt(sumsq) : 1 inside the update. */             \
    /* g(inout), sumsq; max_norm:  g = c g (clipping for sgd, momentum and adam) */                          \
    X(CLIP_GRAD, "clip_grad", 2, ("g", "sumsq"), NNCL_OP_T(0), NNCL_OP_T(0), 1, ("max_norm"), 0, (0))         \
    /* w(inout), g, v(inout), sumsq:  g' = c g + wd w; v = mu v + g'; w -= lr (g' + mu v) */                 \
    X(NESTEROV_UPDATE, "nesterov_update", 4, ("w", "g", "v", "sumsq"), NNCL_OP_T(0) | NNCL_OP_T(2),          \
      NNCL_OP_T(0) | NNCL_OP_T(2), 4, ("lr", "momentum", "weight_decay", "max_norm"), 0, (0))                \
    /* w(inout), g, sq(inout), buf(inout), sumsq:  g' = c g + wd w; sq = a sq + (1 - a) g'^2;                \
     * u = g' / (sqrt(sq) + eps); mu > 0: buf = mu buf + u, w -= lr buf; mu = 0: w -= lr u */               \
    X(RMSPROP_UPDATE, "rmsprop_update", 5, ("w", "g", "sq", "buf", "sumsq"),                                 \
      NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), 6,             \
      ("lr", "alpha", "eps", "weight_decay", "momentum", "max_norm"), 0, (0))                                \
    /* w(inout), g, m(inout), v(inout), sumsq:  w = w (1 - lr wd); g' = c g; m, v as Adam's;                 \
     * w -= lr (m / bc1) / (sqrt(v / bc2) + eps) */                                                          \
    X(ADAMW_UPDATE, "adamw_update", 5, ("w", "g", "m", "v", "sumsq"),                                        \
      NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), 8,             \
      ("lr", "beta1", "beta2", "eps", "weight_decay", "bias_correction1", "bias_correction2", "max_norm"), 0, \
      (0))                                                                                                   \
    /* w(inout), g, gprev(inout), delta(inout), sumsq:  g' = c g + wd w; s = g' gprev;                       \
     * s > 0: delta = min(delta inc, dmax); s < 0: delta = max(delta dec, dmin), g' = 0;                     \
     * w -= sign(g') delta; gprev = g' (iRPROP-) */                                                          \
    X(IRPROP_UPDATE, "irprop_update", 5, ("w", "g", "gprev", "delta", "sumsq"),                              \
      NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), NNCL_OP_T(0) | NNCL_OP_T(2) | NNCL_OP_T(3), 6,             \
      ("increase", "decrease", "delta_min", "delta_max", "weight_decay", "max_norm"), 0, (0))                \
    /* x, y(out) same; p; seed_lo, seed_hi, step_lo, step_hi, layer, row0:  inverted dropout,                \
     * y = keep(e) ? x / (1 - p) : 0, keep(e) = Philox4x32-10(seed; e, step, layer) < round((1 - p) 2^32),    \
     * e = row0 cols + i (src/philox_impl.h). The forward after the activation, and the backward on the      \
     * delta (x = dy, y = dx: the same mask and scale); y may be x */                                        \
    X(DROPOUT, "dropout", 2, ("x", "y"), NNCL_OP_T(1), 0, 1, ("p"), 6,                                       \
      ("seed_lo", "seed_hi", "step_lo", "step_hi", "layer", "row0"))

/*
 * X(ID, "name", takes_param, default_param, param_min, param_max)
 *
 * takes_param: whether f uses act_param (leaky ReLU's slope, ELU's alpha); the others ignore it. The
 * parameter of one that takes it must lie in [param_min, param_max] (checked by every op that takes an
 * activation, and by nncl_model_spec_check); the rest only need a finite one. The maths of each is in
 * src/cpu/cpu_activations.c, kernels/activations.cl, the float64 oracle of src/check/check_network.c and
 * docs/architecture.md section 5.3.
 */
#define NNCL_ACT_LIST(X)                                                                                     \
    X(IDENTITY, "identity", 0, 0.0f, 0.0f, 0.0f)     /* f(x) = x */                                          \
    X(SIGMOID, "sigmoid", 0, 0.0f, 0.0f, 0.0f)       /* f(x) = 1 / (1 + e^-x),       f' = y (1 - y) */       \
    X(TANH, "tanh", 0, 0.0f, 0.0f, 0.0f)             /* f(x) = tanh x,               f' = 1 - y^2 */         \
    X(RELU, "relu", 0, 0.0f, 0.0f, 0.0f)             /* f(x) = max(0, x),            f' = [x > 0] */         \
    X(LEAKY_RELU, "leaky_relu", 1, 0.1f, 0.0f, 1.0f) /* f(x) = x > 0 ? x : a x,      f' = x > 0 ? 1 : a */   \
    X(ELU, "elu", 1, 1.0f, 0.0f, FLT_MAX)           /* f(x) = x > 0 ? x : a(e^x-1), f' = x > 0 ? 1 : y + a */

/* " identity sigmoid tanh ...": the names, each after a space, as one string literal (for help texts). */
#define NNCL_ACT_NAME_SPACED_(ID, name, ...) " " name
#define NNCL_ACT_NAMES_SPACED NNCL_ACT_LIST(NNCL_ACT_NAME_SPACED_)

#endif /* NNCL_OPLIST_H */
