/*
 * check.h: validating a device against the CPU reference: op by op (the op-case table and a net's
 * GEMM shapes), whole network for one training step (optionally against a float64 oracle), and in
 * lockstep over many steps. Used by `nncl check`, by the trainer's CLBlast guard and by the parity
 * tests. Internal to the library; it sits below the trainer and never calls it.
 */
#ifndef NNCL_CHECK_H
#define NNCL_CHECK_H

#include <stdio.h>

#include "check/op_cases.h"
#include "nncl/nncl_data.h"
#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"

/* The outcome of one comparison: an op case, or one tensor of a network step. */
struct check_result {
    char what[384];          /* op and shapes, or layer and tensor */
    char op[32];             /* the op's name (op cases), or "training step" */
    char shape[160];         /* the tensors' shapes ("a 7x13 b 13x11 c 7x11"), or the layer and tensor */
    double max_abs_err;      /* worst |got - ref| */
    double max_rel_err;      /* worst |got - ref| / |ref| over elements with |ref| > 1e-30 */
    double worst_excess;     /* worst |got - ref| / bound: above 1 fails */
    double tol_abs, tol_rel; /* the bound: abs + rel |ref| */
    char tol_source[96];     /* where the bound comes from */
    int pass;                /* every element within its bound */
    /* How far the verdict can be trusted (docs/validation.md, "Verdicts"): 0 when the reference is mostly
     * exactly zero (more than 90% of its elements) or all equal, where agreeing proves little (oneDNN
     * benchdnn's MISTRUSTED). A passing comparison that is not trusted is reported MISTRUSTED, not ok. */
    int trusted;
    int expect_constant;     /* input: the op's output is constant by definition (fill); skip the rule */
    char trust_note[160];    /* why not trusted: the tensor and the rule */
    double device_ms;        /* mean time of the op on the device (op checks), 0 otherwise */
    char message[1024];      /* empty when it passes; else the tensor, the worst index and both values */
};

/*
 * Runs one op case on `cpu` and `dev` with identical inputs in guarded buffers (16 canary floats on each
 * side): compares every written tensor within the case's tolerance, checks the guards and that inputs
 * come back unchanged, then times `repeats` more runs on `dev` (0: no timing). An error status only
 * when the op could not run; a mismatch is result->pass = 0.
 */
enum nncl_status check_op_case(struct nncl_backend *cpu, struct nncl_backend *dev, const struct op_case *c,
                               int repeats, struct check_result *out);

/* The verdict's name: "ok", "FAIL" or "MISTRUSTED" (passes, but the reference is mostly zero or constant). */
const char *check_verdict(const struct check_result *r);

/* check_op_case with every tensor `offset` floats further into its buffer (past its guard): the random
 * cases' offsets, which exercise the kernels' and CLBlast's offset arguments at odd values. */
enum nncl_status check_op_case_at(struct nncl_backend *cpu, struct nncl_backend *dev, const struct op_case *c,
                                  size_t offset, int repeats, struct check_result *out);

/* Coverage (check_coverage.c): whether the `n` cases cover `op` (at least one case; then random shapes and the
 * self-test reach it too), writing the families that do ("table 9, random, self-test") to `families`. */
int check_op_coverage(enum nncl_op op, const struct op_case *cases, size_t n, char *families, size_t cap);
/* Whether every op that takes an activation (act_fwd, act_bwd, bias_act_fwd) has a case with `act`. */
int check_act_coverage(enum nncl_act act, const struct op_case *cases, size_t n, char *families, size_t cap);

/* Simulated-device mode (nncl check --simulate): outputs a correct op never reads are left unwritten on
 * the device instead of NaN-filled, so Oclgrind's --uninitialized reports a kernel that reads them. */
void check_set_simulated(int on);

/* The float64 oracle's activations: f(x), and f'(x) given y = f(x), in the forms the CPU reference and
 * the kernels use in float (docs/architecture.md section 5.3). The CPU test checks its float maths
 * against these, so a new activation's closed form is written once for the tests, here. */
double check_act_f(enum nncl_act act, double a, double x);
double check_act_d(enum nncl_act act, double a, double x, double y);

/* The GEMM cases (forward X W^T, weight gradient dS^T X, input gradient dS W) of every layer of `spec`
 * at `batch` rows: writes up to `cap` cases and returns how many there are. */
size_t check_net_gemm_cases(const struct nncl_model_spec *spec, size_t batch, struct op_case *out, size_t cap);
/* Only the forward products (X W^T) of every layer at `batch` rows: what an evaluation batch runs. */
size_t check_net_forward_gemm_cases(const struct nncl_model_spec *spec, size_t batch, struct op_case *out, size_t cap);

/* check_compare with a per-element addition to the bound (extra[i]; NULL: none): element i passes when
 * |got - ref| <= tol_abs + tol_rel |ref| + extra[i]. */
int check_compare_extra(const float *ref, const float *got, size_t n, size_t cols, double tol_abs, double tol_rel,
                        const double *extra, struct check_result *r);

/*
 * One step of the optimizer o->optimizer (step number t, rate o->lr, its constants and clipping) in float64
 * over `n` parameters (check_optim.c): from w, the gradient g and the state slots before the step (s0, s1:
 * optimizer_impl.h's m and v, histories from zero; NULL reads as zeros), writes w_after. With `bound` (and
 * dg, the per-element bound on how far the other side's gradient may be from g), also the per-element bound
 * on how far the other side's w_after may be from this one's after this step (docs/validation.md, "The
 * optimizer step's bound").
 */
enum nncl_status check_update(const struct nncl_train_options *o, long t, size_t n, const float *w, const double *g,
                              const double *dg, const float *s0, const float *s1, double *w_after, double *bound);

/* Compares n floats; fills the error fields of `r` and its message (naming `what`), and r->trusted from the
 * reference (unless r->expect_constant). Returns r->pass. */
int check_compare(const float *ref, const float *got, size_t n, size_t cols, double tol_abs, double tol_rel,
                  struct check_result *r);

/*
 * Whole-network mode: one training step (the optimizer of `o`: its kind, rate, constants and clipping, from a
 * fresh state, as the trainer's first step) from the same weights (those of `model`,
 * on any backend) and the first `batch` examples, on the CPU reference and on `dev`; compares per layer
 * the pre-activations s, the outputs x, the deltas, the weight and bias gradients and the weights after
 * the update, in the order the step computes them. With `fp64`, also computes the step in float64 on
 * the host and reports each backend's error against it. Calls `report` for every comparison; returns
 * the number of failed comparisons in *failures.
 */
typedef void (*check_report_fn)(const struct check_result *r, void *user);
enum nncl_status check_network(struct nncl_model *model, struct nncl_backend *dev, const struct nncl_dataset *data,
                               size_t batch, const struct nncl_train_options *o, int fp64, check_report_fn report,
                               void *user, size_t *failures);

/* Lockstep: one step of both. */
struct lockstep_row {
    size_t step;
    double loss_cpu, loss_dev, loss_diff_rel;
    double weight_diff_rel; /* ||w_dev - w_cpu|| / ||w_cpu|| */
    double bound;           /* the documented drift bound at this step */
    int jump;               /* the difference grew more than tenfold in one step: a bug, not drift */
};

/*
 * Trains `steps` steps of `o`'s optimizer on `model`'s net on the CPU reference and on `dev` from the same weights with
 * the same batches (order from `seed`), reporting each step through `report`; *failures counts the
 * steps beyond the bound or with a jump.
 */
typedef void (*lockstep_report_fn)(const struct lockstep_row *row, void *user);
enum nncl_status check_lockstep(struct nncl_model *model, struct nncl_backend *dev, const struct nncl_dataset *data,
                                size_t batch, const struct nncl_train_options *o, size_t steps, uint64_t seed,
                                lockstep_report_fn report,
                                void *user, size_t *failures);

/*
 * The CLBlast guard: checks the `n` GEMM cases (the trainer passes every product shape its run executes)
 * on `dev` against the CPU reference, once per device, driver, CLBlast version and shape set (remembered
 * in $XDG_CACHE_HOME/nncl or ~/.cache/nncl). NNCL_ERR_CLBLAST naming the device, driver and CLBlast
 * version when a result is wrong.
 */
enum nncl_status check_clblast_guard(struct nncl_backend *dev, const struct op_case *cases, size_t n);

#endif /* NNCL_CHECK_H */
