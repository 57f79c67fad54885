/*
 * op_cases.h: THE table of op cases. The parity tests (tests/test_parity.c) run every case on every
 * non-CPU backend against the CPU reference; `nncl check` runs and times the same cases on the user's
 * device. Internal to the library. Each case fixes
 * the op, its shapes, parameters and the range of its random inputs; tolerances are per op, here.
 *
 * Shapes are chosen to break lazy kernels: a 1x1 case, prime sizes, and sizes larger than a
 * work-group (64 work-items per group, 256 for sum) or a CLBlast tile; softmax and the losses get
 * logits of +-100.
 */
#ifndef NNCL_OP_CASES_H
#define NNCL_OP_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/nncl.h"

struct op_case {
    enum nncl_op op;
    size_t rows, cols; /* the op's main shape; for gemm c is rows x cols */
    size_t k;          /* gemm's inner dimension */
    int ip[NNCL_OP_MAX_IPARAMS];
    float p[NNCL_OP_MAX_PARAMS];
    float range;       /* random inputs are uniform in [-range, range] */
    int inplace;       /* 1: the op's output shares its input's memory (act_fwd y = x; act_bwd dx = dy) */
    char note[64];     /* an array, not a pointer: Criterion copies cases into a freshly exec-ed process */
};

extern const struct op_case op_cases[];
extern const size_t op_case_count;

/* Whether the case is small enough for a simulated device (Oclgrind runs every work-item of a kernel in
 * an interpreter, about 10^5 times slower than PoCL): at most 4096 elements per tensor and 2^16
 * multiply-adds for a product. `nncl check --simulate` runs only these. */
int op_case_is_small(const struct op_case *c);

/* Rows and columns of each tensor of the case, in the op's tensor order. */
void op_case_shapes(const struct op_case *c, size_t rows[NNCL_OP_MAX_TENSORS], size_t cols[NNCL_OP_MAX_TENSORS]);

/* Fills tensor `index` of the case with its inputs (targets are one-hot or 0/1, Adam's v is >= 0). */
void op_case_fill(const struct op_case *c, int index, float *data, size_t rows, size_t cols, uint64_t *rng);

/* "gemm 130x70 k=257 trans_a=1 trans_b=0 alpha=1 beta=1 (note)", for messages. */
void op_case_describe(const struct op_case *c, char *out, size_t cap);

/* Whether output tensor `index` must be pre-filled with NaN: a write-only output, or a gradient output
 * with beta = 0, which a correct op never reads. Other outputs are pre-filled with random values, so an
 * op that overwrites where it should accumulate (or the reverse) fails. */
int op_case_output_starts_nan(const struct op_case *c, int index);

/* Per-op tolerance |got - ref| <= abs + rel |ref|; documented in docs/testing.md. */
struct op_tolerance {
    double abs, rel;
};
struct op_tolerance op_case_tolerance(const struct op_case *c);
/* Where the case's tolerance comes from, in a few words (for reports). */
const char *op_case_tolerance_source(const struct op_case *c);

/* Random cases (op_case_random.c): a case of `op` drawn from `rng`: a table case's parameters, a shape from edge
 * sizes (1, primes, around work-group and tile sizes), a random activation, beta 0 or 1, and an offset into
 * the tensors' buffers (*offset floats). */
void op_case_random(enum nncl_op op, uint64_t *rng, struct op_case *c, size_t *offset);
/* The case as one line, "op=gemm rows=7 cols=11 k=13 trans_a=0 trans_b=1 alpha=1 beta=0 range=1 inplace=0
 * offset=3 note=random": every field, so op_case_parse gives back the identical case (and inputs). */
void op_case_format(const struct op_case *c, size_t offset, char *out, size_t cap);
/* Parses op_case_format's text; NNCL_ERR_INVALID_ARG naming the bad field. */
enum nncl_status op_case_parse(const char *text, struct op_case *c, size_t *offset);

#endif /* NNCL_OP_CASES_H */
