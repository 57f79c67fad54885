/*
 * op_cases.c: the op-case table and its helpers (see op_cases.h). To cover a new op, add its cases
 * here (at least a 1x1 case, a prime-sized case and one larger than a work-group), its shapes in
 * op_case_shapes, and its tolerance family in tolerance_kind; document the tolerance in docs/testing.md.
 * A new activation needs nothing here: its cases come from NNCL_ACT_LIST.
 */
#include "op_cases.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "random_impl.h"
#include "status_impl.h"

/*
 * The activation cases, generated from NNCL_ACT_LIST so that a new activation is covered with no edit here
 * (tests/test_op_coverage.c fails for one without them). Each activation with its default parameter:
 * forward and backward (beta 0 and 1) on three shapes, plus in-place variants ...
 */
#define ACT_CASES_(ID, name, takes_param, a, lo, hi)                                                      \
    {NNCL_OP_ACT_FWD, 1, 1, 0, {NNCL_ACT_##ID}, {a}, 3.0f, 0, "1x1 " name},                                  \
    {NNCL_OP_ACT_FWD, 7, 13, 0, {NNCL_ACT_##ID}, {a}, 3.0f, 0, "primes"},                                   \
    {NNCL_OP_ACT_FWD, 300, 129, 0, {NNCL_ACT_##ID}, {a}, 20.0f, 1, "in place, large inputs"},               \
    {NNCL_OP_ACT_BWD, 1, 1, 0, {NNCL_ACT_##ID}, {a, 0.0f}, 3.0f, 0, "1x1 overwrite (" name ")"},                \
    {NNCL_OP_ACT_BWD, 7, 13, 0, {NNCL_ACT_##ID}, {a, 1.0f}, 3.0f, 0, "primes accumulate"},                  \
    {NNCL_OP_ACT_BWD, 300, 129, 0, {NNCL_ACT_##ID}, {a, 0.0f}, 3.0f, 1, "dx = dy in place"},
/* ... and the fused bias + activation on a 1x1, a prime-sized and a larger-than-a-work-group shape. */
#define BIAS_ACT_CASES_(ID, name, takes_param, a, lo, hi)                                                 \
    {NNCL_OP_BIAS_ACT_FWD, 1, 1, 0, {NNCL_ACT_##ID}, {a}, 1.0f, 0, "1x1 " name},                            \
    {NNCL_OP_BIAS_ACT_FWD, 13, 7, 0, {NNCL_ACT_##ID}, {a}, 5.0f, 0, "primes " name},                        \
    {NNCL_OP_BIAS_ACT_FWD, 300, 129, 0, {NNCL_ACT_##ID}, {a}, 3.0f, 0, name ", larger than a work-group"},

const struct op_case op_cases[] = {
    /* gemm: c = alpha op(a) op(b) + beta c */
    {NNCL_OP_GEMM, 1, 1, 1, {0, 0}, {1.0f, 0.0f}, 1.0f, 0, "1x1x1"},
    {NNCL_OP_GEMM, 7, 11, 13, {0, 0}, {1.0f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_GEMM, 7, 11, 13, {1, 0}, {0.5f, 0.0f}, 1.0f, 0, "primes trans_a"},
    {NNCL_OP_GEMM, 7, 11, 13, {0, 1}, {1.0f, -1.0f}, 1.0f, 0, "primes trans_b"},
    {NNCL_OP_GEMM, 7, 11, 13, {1, 1}, {2.0f, 0.5f}, 1.0f, 0, "primes both transposed"},
    {NNCL_OP_GEMM, 130, 70, 257, {0, 1}, {1.0f, 0.0f}, 1.0f, 0, "layer forward X W^T"},
    {NNCL_OP_GEMM, 70, 257, 130, {1, 0}, {1.0f, 0.0f}, 1.0f, 0, "weight gradient dS^T X"},
    {NNCL_OP_GEMM, 130, 257, 70, {0, 0}, {1.0f, 0.0f}, 1.0f, 0, "input gradient dS W"},
    {NNCL_OP_GEMM, 128, 256, 784, {0, 1}, {1.0f, 0.0f}, 1.0f, 0, "Fashion-MNIST first layer"},
    /* bias */
    {NNCL_OP_BIAS_ADD, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_BIAS_ADD, 13, 7, 0, {0}, {0}, 1.0f, 0, "primes"},
    {NNCL_OP_BIAS_ADD, 300, 129, 0, {0}, {0}, 1.0f, 0, "larger than a work-group"},
    {NNCL_OP_BIAS_GRAD, 1, 1, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "1x1 overwrite"},
    {NNCL_OP_BIAS_GRAD, 13, 7, 0, {0}, {0.5f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_BIAS_GRAD, 1000, 129, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "many rows, more columns than a work-group"},
    /* activations */
    NNCL_ACT_LIST(ACT_CASES_)
    {NNCL_OP_ACT_FWD, 7, 13, 0, {NNCL_ACT_LEAKY_RELU}, {0.3f}, 3.0f, 0, "slope 0.3"},
    {NNCL_OP_ACT_BWD, 7, 13, 0, {NNCL_ACT_ELU}, {0.5f, 1.0f}, 3.0f, 0, "alpha 0.5"},
    {NNCL_OP_ACT_FWD, 5, 7, 0, {NNCL_ACT_SIGMOID}, {0}, 100.0f, 0, "logits +-100"},
    /* bias + activation, fused */
    NNCL_ACT_LIST(BIAS_ACT_CASES_)
    {NNCL_OP_BIAS_ACT_FWD, 128, 10, 0, {NNCL_ACT_RELU}, {0}, 3.0f, 0, "narrow rows"},
    /* softmax */
    {NNCL_OP_SOFTMAX_FWD, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_SOFTMAX_FWD, 13, 7, 0, {0}, {0}, 5.0f, 0, "primes"},
    {NNCL_OP_SOFTMAX_FWD, 300, 10, 0, {0}, {0}, 100.0f, 0, "logits +-100, more rows than a work-group"},
    {NNCL_OP_SOFTMAX_FWD, 3, 1000, 0, {0}, {0}, 10.0f, 0, "long rows"},
    {NNCL_OP_SOFTMAX_BWD, 1, 1, 0, {0}, {0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SOFTMAX_BWD, 13, 7, 0, {0}, {1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_SOFTMAX_BWD, 300, 10, 0, {0}, {0.0f}, 1.0f, 0, "more rows than a work-group"},
    /* fused losses */
    /* one row of two classes, not 1x1: with one class the loss is -log 1 = 0 whatever the kernel, a MISTRUSTED verdict */
    {NNCL_OP_SOFTMAX_XENT_FWD, 1, 2, 0, {0}, {0}, 1.0f, 0, "one row, two classes"},
    {NNCL_OP_SOFTMAX_XENT_FWD, 13, 7, 0, {0}, {0}, 5.0f, 0, "primes"},
    {NNCL_OP_SOFTMAX_XENT_FWD, 300, 10, 0, {0}, {0}, 100.0f, 0, "logits +-100"},
    {NNCL_OP_SOFTMAX_XENT_BWD, 1, 1, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SOFTMAX_XENT_BWD, 13, 7, 0, {0}, {0.25f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_SOFTMAX_XENT_BWD, 300, 10, 0, {0}, {1.0f / 300, 0.0f}, 1.0f, 0, "mean over 300 rows"},
    {NNCL_OP_SIGMOID_BCE_FWD, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_SIGMOID_BCE_FWD, 13, 7, 0, {0}, {0}, 5.0f, 0, "primes"},
    {NNCL_OP_SIGMOID_BCE_FWD, 300, 3, 0, {0}, {0}, 100.0f, 0, "logits +-100"},
    {NNCL_OP_SIGMOID_BCE_BWD, 1, 1, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SIGMOID_BCE_BWD, 13, 7, 0, {0}, {0.5f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_SIGMOID_BCE_BWD, 300, 3, 0, {0}, {1.0f / 300, 0.0f}, 1.0f, 0, "larger than a work-group"},
    {NNCL_OP_MSE_FWD, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_MSE_FWD, 13, 7, 0, {0}, {0}, 5.0f, 0, "primes"},
    {NNCL_OP_MSE_FWD, 300, 3, 0, {0}, {0}, 100.0f, 0, "large values"},
    {NNCL_OP_MSE_BWD, 1, 1, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_MSE_BWD, 13, 7, 0, {0}, {0.5f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_MSE_BWD, 300, 3, 0, {0}, {1.0f / 300, 0.0f}, 1.0f, 0, "larger than a work-group"},
    {NNCL_OP_CLASS_ERROR, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1 threshold: misclassified"},
    {NNCL_OP_CLASS_ERROR, 13, 7, 0, {0}, {0}, 1.0f, 0, "primes"},
    {NNCL_OP_CLASS_ERROR, 300, 10, 0, {0}, {0}, 1.0f, 0, "more rows than a work-group"},
    {NNCL_OP_CLASS_ERROR, 300, 1, 0, {0}, {0}, 1.0f, 0, "one column: threshold 0.5"},
    /* reduction */
    {NNCL_OP_SUM, 1, 1, 0, {0}, {1.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SUM, 13, 7, 0, {0}, {0.5f, 1.0f}, 1.0f, 0, "primes accumulate"},
    {NNCL_OP_SUM, 1000, 257, 0, {0}, {1.0f / 1000, 0.0f}, 1.0f, 0, "much larger than the work-group"},
    /* optimizer updates */
    {NNCL_OP_SGD_UPDATE, 1, 1, 0, {0}, {0.1f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SGD_UPDATE, 13, 7, 0, {0}, {0.05f, 0.01f}, 1.0f, 0, "primes, weight decay"},
    {NNCL_OP_SGD_UPDATE, 1, 235146, 0, {0}, {0.01f, 0.0f}, 1.0f, 0, "a Fashion-MNIST net's parameter arena"},
    {NNCL_OP_MOMENTUM_UPDATE, 1, 1, 0, {0}, {0.1f, 0.9f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_MOMENTUM_UPDATE, 13, 7, 0, {0}, {0.05f, 0.9f, 0.01f}, 1.0f, 0, "primes, weight decay"},
    {NNCL_OP_MOMENTUM_UPDATE, 1, 300007, 0, {0}, {0.01f, 0.5f, 0.0f}, 1.0f, 0, "large prime arena"},
    {NNCL_OP_ADAM_UPDATE, 1, 1, 0, {0}, {0.001f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.1f, 0.001f}, 1.0f, 0, "1x1 step 1"},
    {NNCL_OP_ADAM_UPDATE, 13, 7, 0, {0}, {0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.65f, 0.01f}, 1.0f, 0, "primes"},
    {NNCL_OP_ADAM_UPDATE, 1, 300007, 0, {0}, {0.001f, 0.8f, 0.99f, 1e-6f, 0.0f, 1.0f, 1.0f}, 1.0f, 0, "large"},
    /* helpers */
    {NNCL_OP_FILL, 1, 1, 0, {0}, {3.5f}, 1.0f, 0, "1x1"},
    {NNCL_OP_FILL, 13, 7, 0, {0}, {-2.0f}, 1.0f, 0, "primes"},
    {NNCL_OP_FILL, 1, 300007, 0, {0}, {0.0f}, 1.0f, 0, "large prime"},
    {NNCL_OP_COPY, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_COPY, 13, 7, 0, {0}, {0}, 1.0f, 0, "primes"},
    {NNCL_OP_COPY, 1, 300007, 0, {0}, {0}, 1.0f, 0, "large prime"},
    {NNCL_OP_SCALE, 1, 1, 0, {0}, {-1.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_SCALE, 13, 7, 0, {0}, {0.5f}, 1.0f, 0, "primes"},
    {NNCL_OP_SCALE, 1, 300007, 0, {0}, {3.0f}, 1.0f, 0, "large prime"},
    /* gather: rows is the source row count, k the number of indices */
    {NNCL_OP_GATHER_ROWS, 1, 1, 1, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_GATHER_ROWS, 13, 7, 11, {0}, {0}, 1.0f, 0, "primes, some indices invalid"},
    {NNCL_OP_GATHER_ROWS, 1000, 784, 128, {0}, {0}, 1.0f, 0, "a Fashion-MNIST batch"},
    /* gradient clipping and the newer optimizers; sumsq (the last tensor, 1x1) is filled in [0, 4 r^2 n) by
     * op_case_fill, so max_norm 0.5 clips and max_norm 0 does not read it */
    {NNCL_OP_SUMSQ, 1, 1, 0, {0}, {0}, 1.0f, 0, "1x1"},
    {NNCL_OP_SUMSQ, 13, 7, 0, {0}, {0}, 1.0f, 0, "primes"},
    {NNCL_OP_SUMSQ, 1, 300007, 0, {0}, {0}, 1.0f, 0, "large prime: partials first"},
    {NNCL_OP_CLIP_GRAD, 1, 1, 0, {0}, {0.5f}, 1.0f, 0, "1x1"},
    {NNCL_OP_CLIP_GRAD, 13, 7, 0, {0}, {0.0f}, 1.0f, 0, "primes, no clipping"},
    {NNCL_OP_CLIP_GRAD, 1, 300007, 0, {0}, {0.5f}, 1.0f, 0, "large prime"},
    {NNCL_OP_NESTEROV_UPDATE, 1, 1, 0, {0}, {0.1f, 0.9f, 0.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_NESTEROV_UPDATE, 13, 7, 0, {0}, {0.05f, 0.9f, 0.01f, 0.5f}, 1.0f, 0, "primes, weight decay, clipped"},
    {NNCL_OP_NESTEROV_UPDATE, 1, 300007, 0, {0}, {0.01f, 0.5f, 0.0f, 0.0f}, 1.0f, 0, "large prime arena"},
    {NNCL_OP_RMSPROP_UPDATE, 1, 1, 0, {0}, {0.01f, 0.99f, 1e-8f, 0.0f, 0.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_RMSPROP_UPDATE, 13, 7, 0, {0}, {0.01f, 0.9f, 1e-6f, 0.01f, 0.9f, 0.5f}, 1.0f, 0,
     "primes, momentum, weight decay, clipped"},
    {NNCL_OP_RMSPROP_UPDATE, 1, 300007, 0, {0}, {0.001f, 0.99f, 1e-8f, 0.0f, 0.0f, 0.0f}, 1.0f, 0, "large"},
    {NNCL_OP_ADAMW_UPDATE, 1, 1, 0, {0}, {0.001f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.1f, 0.001f, 0.0f}, 1.0f, 0,
     "1x1 step 1"},
    {NNCL_OP_ADAMW_UPDATE, 13, 7, 0, {0}, {0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.65f, 0.01f, 0.5f}, 1.0f, 0,
     "primes, clipped"},
    {NNCL_OP_ADAMW_UPDATE, 1, 300007, 0, {0}, {0.001f, 0.8f, 0.99f, 1e-6f, 0.01f, 1.0f, 1.0f, 0.0f}, 1.0f, 0,
     "large"},
    {NNCL_OP_IRPROP_UPDATE, 1, 1, 0, {0}, {1.2f, 0.5f, 0.0f, 50.0f, 0.0f, 0.0f}, 1.0f, 0, "1x1"},
    {NNCL_OP_IRPROP_UPDATE, 13, 7, 0, {0}, {1.2f, 0.5f, 1e-6f, 0.3f, 0.01f, 0.5f}, 1.0f, 0,
     "primes, narrow range, weight decay, clipped"},
    {NNCL_OP_IRPROP_UPDATE, 1, 300007, 0, {0}, {1.2f, 0.5f, 0.0f, 50.0f, 0.0f, 0.0f}, 1.0f, 0, "large"},
    /* dropout: ip = seed_lo, seed_hi, step_lo, step_hi, layer, row0 (32-bit words as int bit patterns); p */
    {NNCL_OP_DROPOUT, 1, 1, 0, {2, 0, 0, 0, 0, 0}, {0.5f}, 1.0f, 0, "1x1, kept (seed 2)"},
    {NNCL_OP_DROPOUT, 7, 13, 0, {-1, 7, 12345, 1, 3, 5}, {0.2f}, 1.0f, 0, "primes, high key and step words, row0 5"},
    {NNCL_OP_DROPOUT, 13, 7, 0, {42, 0, 9, 0, 1, 0}, {0.0f}, 1.0f, 0, "p = 0: the identity"},
    {NNCL_OP_DROPOUT, 300, 129, 0, {1, 0, 77, 0, 2, 0}, {0.5f}, 3.0f, 1, "in place (the backward on a delta)"},
    {NNCL_OP_DROPOUT, 1, 300007, 0, {-559038737, 0, 1000000, 0, 14, 0}, {0.8f}, 1.0f, 0, "large prime, p 0.8"},
};

const size_t op_case_count = sizeof op_cases / sizeof op_cases[0];

void op_case_shapes(const struct op_case *c, size_t rows[NNCL_OP_MAX_TENSORS], size_t cols[NNCL_OP_MAX_TENSORS]) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    for (int i = 0; i < NNCL_OP_MAX_TENSORS; i++) {
        rows[i] = i < info->n_tensors ? c->rows : 0;
        cols[i] = i < info->n_tensors ? c->cols : 0;
    }
    switch (c->op) {
    case NNCL_OP_GEMM:
        rows[0] = c->ip[0] ? c->k : c->rows, cols[0] = c->ip[0] ? c->rows : c->k;
        rows[1] = c->ip[1] ? c->cols : c->k, cols[1] = c->ip[1] ? c->k : c->cols;
        break;
    case NNCL_OP_BIAS_ADD:
    case NNCL_OP_BIAS_GRAD:
    case NNCL_OP_BIAS_ACT_FWD: rows[1] = 1; break;
    case NNCL_OP_SOFTMAX_XENT_FWD:
    case NNCL_OP_SIGMOID_BCE_FWD: cols[3] = 1; break;
    case NNCL_OP_MSE_FWD:
    case NNCL_OP_CLASS_ERROR: cols[2] = 1; break;
    case NNCL_OP_SUM: rows[1] = cols[1] = 1; break;
    case NNCL_OP_GATHER_ROWS: rows[1] = rows[2] = c->k, cols[1] = 1; break;
    case NNCL_OP_SUMSQ:
    case NNCL_OP_CLIP_GRAD: rows[1] = cols[1] = 1; break;
    case NNCL_OP_NESTEROV_UPDATE: rows[3] = cols[3] = 1; break;
    case NNCL_OP_RMSPROP_UPDATE:
    case NNCL_OP_ADAMW_UPDATE:
    case NNCL_OP_IRPROP_UPDATE: rows[4] = cols[4] = 1; break;
    case NNCL_OP_ACT_FWD:
    case NNCL_OP_ACT_BWD:
    case NNCL_OP_SOFTMAX_FWD:
    case NNCL_OP_SOFTMAX_BWD:
    case NNCL_OP_SOFTMAX_XENT_BWD:
    case NNCL_OP_SIGMOID_BCE_BWD:
    case NNCL_OP_MSE_BWD:
    case NNCL_OP_SGD_UPDATE:
    case NNCL_OP_MOMENTUM_UPDATE:
    case NNCL_OP_ADAM_UPDATE:
    case NNCL_OP_FILL:
    case NNCL_OP_COPY:
    case NNCL_OP_SCALE:
    case NNCL_OP_DROPOUT: break; /* every tensor rows x cols */
    case NNCL_OP_COUNT: NNCL_ASSERT(!"op_case_shapes: not an enum nncl_op value"); break;
    }
}

int op_case_is_small(const struct op_case *c) {
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    for (int i = 0; i < NNCL_OP_MAX_TENSORS; i++) {
        if (rows[i] * cols[i] > 4096) return 0;
    }
    return c->op != NNCL_OP_GEMM || c->rows * c->cols * c->k <= ((size_t)1 << 16);
}

/* Uniform in [lo, hi), from the library's one generator (random_impl.h). */
static float next_uniform(uint64_t *s, float lo, float hi) {
    return (float)(lo + (hi - lo) * nncl_random_unit(s));
}

/* Name of tensor `index` of the case's op. */
static const char *tensor_name(const struct op_case *c, int index) {
    return nncl_op_get_info(c->op)->tensor_names[index];
}

/* The 1x1 squared-norm input of the clipping ops (not the output of sumsq). */
static int op_case_is_sumsq_input(const struct op_case *c, int index) {
    return c->op != NNCL_OP_SUMSQ && strcmp(tensor_name(c, index), "sumsq") == 0;
}

void op_case_fill(const struct op_case *c, int index, float *data, size_t rows, size_t cols, uint64_t *rng) {
    const size_t n = rows * cols;
    const int is_target = strcmp(tensor_name(c, index), "t") == 0;
    if (is_target && (c->op == NNCL_OP_SOFTMAX_XENT_FWD || c->op == NNCL_OP_SOFTMAX_XENT_BWD ||
                      (c->op == NNCL_OP_CLASS_ERROR && cols > 1))) {
        for (size_t r = 0; r < rows; r++) { /* one-hot rows */
            const size_t hot = (size_t)next_uniform(rng, 0.0f, (float)cols) % cols;
            for (size_t k = 0; k < cols; k++) data[r * cols + k] = k == hot ? 1.0f : 0.0f;
        }
        return;
    }
    if (is_target && c->op != NNCL_OP_MSE_FWD && c->op != NNCL_OP_MSE_BWD) { /* 0/1 labels */
        for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, 0.0f, 1.0f) < 0.5f ? 0.0f : 1.0f;
        return;
    }
    if (c->op == NNCL_OP_GATHER_ROWS && index == 1) {
        /* valid row indices, and in the "invalid" case also -1, n, and a fraction */
        const int with_invalid = strstr(c->note, "invalid") != NULL;
        for (size_t i = 0; i < n; i++) {
            data[i] = (float)((size_t)next_uniform(rng, 0.0f, (float)c->rows) % c->rows);
            if (with_invalid && i % 4 == 3) data[i] = (i % 8 == 3) ? -1.0f : (i % 3 ? (float)c->rows : 0.5f);
        }
        return;
    }
    if (c->op == NNCL_OP_ADAM_UPDATE && index == 3) { /* second moments are non-negative */
        for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, 0.0f, c->range);
        return;
    }
    if (op_case_is_sumsq_input(c, index)) { /* a squared norm: around that of g, so max_norm 0.5 clips */
        for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, 0.0f, 4.0f * c->range * c->range);
        return;
    }
    if ((c->op == NNCL_OP_RMSPROP_UPDATE && index == 2) || (c->op == NNCL_OP_ADAMW_UPDATE && index == 3) ||
        (c->op == NNCL_OP_IRPROP_UPDATE && index == 3)) { /* square averages and step sizes are non-negative */
        for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, 0.0f, c->range);
        return;
    }
    if ((c->op == NNCL_OP_SOFTMAX_XENT_BWD || c->op == NNCL_OP_SIGMOID_BCE_BWD) && index == 0) { /* probabilities */
        for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, 0.0f, 1.0f);
        return;
    }
    for (size_t i = 0; i < n; i++) data[i] = next_uniform(rng, -c->range, c->range);
}

static int beta_param(const struct op_case *c, float *beta) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    for (int i = 0; i < info->n_params; i++) {
        if (strcmp(info->param_names[i], "beta") == 0) {
            *beta = c->p[i];
            return 1;
        }
    }
    return 0;
}

int op_case_output_starts_nan(const struct op_case *c, int index) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    if (!(info->written & (1u << index))) return 0;
    if (!(info->read_before_write & (1u << index))) return 1;
    float beta = 1.0f;
    return beta_param(c, &beta) && beta == 0.0f;
}

void op_case_describe(const struct op_case *c, char *out, size_t cap) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    int used = snprintf(out, cap, "%s [", info->name);
    for (int i = 0; i < info->n_tensors && used > 0 && (size_t)used < cap; i++) {
        used += snprintf(out + used, cap - (size_t)used, "%s%s %zux%zu", i ? ", " : "", info->tensor_names[i],
                         rows[i], cols[i]);
    }
    for (int i = 0; i < info->n_iparams && used > 0 && (size_t)used < cap; i++) {
        if (strcmp(info->iparam_names[i], "act") == 0 && c->ip[i] >= 0 && c->ip[i] < NNCL_ACT_COUNT) {
            used += snprintf(out + used, cap - (size_t)used, "; act=%s", nncl_act_name((enum nncl_act)c->ip[i]));
        } else {
            used += snprintf(out + used, cap - (size_t)used, "; %s=%d", info->iparam_names[i], c->ip[i]);
        }
    }
    for (int i = 0; i < info->n_params && used > 0 && (size_t)used < cap; i++) {
        used += snprintf(out + used, cap - (size_t)used, "; %s=%g", info->param_names[i], (double)c->p[i]);
    }
    if (used > 0 && (size_t)used < cap) snprintf(out + used, cap - (size_t)used, "] (%s)", c->note);
}

/* The tolerance families of the ops; a case per op and no default, so -Wall names a new op here. */
enum tolerance_kind { TOL_GEMM, TOL_COLUMN_SUM, TOL_SUM, TOL_ROW_SUM, TOL_ELEMENTWISE, TOL_SUMSQ, TOL_EXACT };

static enum tolerance_kind tolerance_kind(enum nncl_op op) {
    switch (op) {
    case NNCL_OP_GEMM: return TOL_GEMM;
    case NNCL_OP_BIAS_GRAD: return TOL_COLUMN_SUM;
    case NNCL_OP_SUM: return TOL_SUM;
    case NNCL_OP_SUMSQ: return TOL_SUMSQ;
    case NNCL_OP_CLIP_GRAD:
    case NNCL_OP_NESTEROV_UPDATE:
    case NNCL_OP_RMSPROP_UPDATE:
    case NNCL_OP_ADAMW_UPDATE:
    case NNCL_OP_IRPROP_UPDATE: return TOL_ELEMENTWISE;
    case NNCL_OP_SOFTMAX_FWD:
    case NNCL_OP_SOFTMAX_BWD:
    case NNCL_OP_SOFTMAX_XENT_FWD:
    case NNCL_OP_SIGMOID_BCE_FWD:
    case NNCL_OP_MSE_FWD: return TOL_ROW_SUM;
    /* exact: data movement, or one IEEE operation that OpenCL, like C, rounds correctly (bias_add's x + b,
     * scale's x * alpha), or dropout: an integer keep decision and one product by the host's float scale: the
     * device must give the CPU's bits */
    case NNCL_OP_DROPOUT:
    case NNCL_OP_BIAS_ADD:
    case NNCL_OP_FILL:
    case NNCL_OP_COPY:
    case NNCL_OP_SCALE:
    case NNCL_OP_GATHER_ROWS: return TOL_EXACT;
    case NNCL_OP_ACT_FWD:
    case NNCL_OP_ACT_BWD:
    case NNCL_OP_SOFTMAX_XENT_BWD:
    case NNCL_OP_SIGMOID_BCE_BWD:
    case NNCL_OP_MSE_BWD:
    case NNCL_OP_CLASS_ERROR:
    case NNCL_OP_SGD_UPDATE:
    case NNCL_OP_MOMENTUM_UPDATE:
    case NNCL_OP_ADAM_UPDATE:
    case NNCL_OP_BIAS_ACT_FWD: return TOL_ELEMENTWISE;
    case NNCL_OP_COUNT: break;
    }
    NNCL_ASSERT(!"tolerance_kind: not an enum nncl_op value");
    return TOL_ELEMENTWISE;
}

struct op_tolerance op_case_tolerance(const struct op_case *c) {
    const double r = c->range;
    const double eps = 1.2e-7; /* float unit roundoff, 2^-23 */
    switch (tolerance_kind(c->op)) {
    case TOL_GEMM:
        /* k products of size <= r^2, summed in float in any order: error grows at most like k eps r^2 */
        return (struct op_tolerance){4.0 * eps * (double)c->k * r * r + 1e-6, 1e-5};
    case TOL_COLUMN_SUM: return (struct op_tolerance){4.0 * eps * (double)c->rows * r + 1e-6, 1e-5};
    case TOL_SUM:
        return (struct op_tolerance){4.0 * eps * (double)(c->rows * c->cols) * r * fabs((double)c->p[0]) + 1e-6, 1e-5};
    case TOL_ROW_SUM:
        /* per-row sums over cols of exp or squares, float on the device, double on the CPU */
        return (struct op_tolerance){4.0 * eps * (double)c->cols + 1e-6, 2e-5};
    case TOL_ELEMENTWISE:
        /* element-wise: a few ulp of the device's exp/tanh/expm1/sqrt (OpenCL allows 3-5 ulp) */
        return (struct op_tolerance){1e-6, 2e-5};
    case TOL_SUMSQ:
        /* a sum of non-negative terms has no cancellation: its float rounding stays a relative error (about
         * sqrt(n) eps for random terms over the device's strided partial sums), so no bound that grows with n */
        return (struct op_tolerance){1e-6, 2e-5};
    case TOL_EXACT: return (struct op_tolerance){0.0, 0.0};
    }
    NNCL_ASSERT(!"op_case_tolerance: unknown tolerance kind");
    return (struct op_tolerance){0, 0};
}

const char *op_case_tolerance_source(const struct op_case *c) {
    switch (tolerance_kind(c->op)) {
    case TOL_GEMM: return "4 u K r^2: float sum of K products of size <= r^2";
    case TOL_COLUMN_SUM: return "4 u N r: float sum over N rows";
    case TOL_SUM: return "4 u n r |alpha|: float sum of n values";
    case TOL_ROW_SUM: return "4 u C + rel 2e-5: row sums over C columns";
    case TOL_ELEMENTWISE: return "rel 2e-5: a few ulp of exp/tanh/sqrt (OpenCL allows 3-5)";
    case TOL_SUMSQ: return "rel 2e-5: a float sum of non-negative squares, no cancellation";
    case TOL_EXACT: return "exact: a copy, one correctly rounded + or *, or an integer mask";
    }
    NNCL_ASSERT(!"op_case_tolerance_source: unknown tolerance kind");
    return "";
}
