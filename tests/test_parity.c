/*
 * test_parity.c: every op case of src/check/op_cases.c on every non-CPU backend, against the CPU reference.
 *
 * How to add an op: give it cases in src/check/op_cases.c (a 1x1 case, a prime-sized case, one larger than a
 * work-group; large magnitudes where the op has an exp or a log), its shapes in op_case_shapes() and a
 * tolerance in op_case_tolerance(); document the tolerance in docs/testing.md. Nothing in this file
 * changes.
 *
 * For each case both backends get the same inputs. Every tensor lives in a buffer of its own with
 * GUARD floats of a canary value on both sides, so a kernel that writes out of bounds fails even if its
 * results compare equal. Outputs that a correct op never reads (write-only outputs, gradients with
 * beta = 0) start as NaN; outputs it must read (beta = 1, optimizer state) start with the same random
 * values on both backends, so overwrite-versus-accumulate mismatches fail. Inputs must come back
 * unchanged. A failure names the op, the shapes and parameters, the backend and device, the tensor, the
 * worst index and both values.
 *
 * Without an OpenCL device the test is skipped, with the reason, except under CI=true, where it fails:
 * CI runs on PoCL precisely so that these tests run.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/op_cases.h"
#include "test_util.h"

#define GUARD 16

/* The cases with inplace = 1 are act_fwd (y = x) and act_bwd (dx = dy); no other op is run in place here. */
#define NNCL_ASSERT_INPLACE_OP(op) cr_assert((op) == NNCL_OP_ACT_FWD || (op) == NNCL_OP_ACT_BWD, "inplace case for %s", nncl_op_name(op))
static const float canary = 12345.678f;

/* One tensor of a case on one backend: a buffer of GUARD + n + GUARD floats, the tensor in the middle. */
struct guarded {
    struct nncl_buffer *buf;
    struct nncl_tensor t;
    size_t n;
};

static int running_in_ci(void) {
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

/* The first non-CPU backend, or NULL after skipping (or failing, in CI) with the reason. */
static struct nncl_backend *device_backend_or_skip(void) {
    const char *const *names = nncl_backend_list();
    int have_opencl = 0;
    for (size_t i = 0; names[i]; i++) have_opencl |= strcmp(names[i], "opencl") == 0;
    if (!have_opencl) {
        if (running_in_ci()) cr_assert_fail("CI=true but this nncl was built without OpenCL: install the OpenCL packages");
        cr_skip_test("this nncl was built without OpenCL");
    }
    struct nncl_backend *be = NULL;
    enum nncl_status st = nncl_backend_init("opencl", &be);
    if (st != NNCL_OK) {
        if (running_in_ci()) {
            cr_assert_fail("CI=true and no OpenCL device opened (the parity tests must run in CI, on PoCL): %s",
                    nncl_last_error());
        }
        cr_skip_test("no OpenCL device: %s", nncl_last_error());
    }
    return be;
}

static void alloc_guarded(struct nncl_backend *be, size_t rows, size_t cols, const float *data, struct guarded *g) {
    g->n = rows * cols;
    const size_t total = g->n + 2 * GUARD;
    tu_ok(nncl_buffer_alloc(be, total * sizeof(float), &g->buf), "parity: buffer_alloc");
    float *host = malloc(total * sizeof(float));
    cr_assert(host);
    for (size_t i = 0; i < GUARD; i++) host[i] = host[GUARD + g->n + i] = canary;
    memcpy(host + GUARD, data, g->n * sizeof(float));
    struct nncl_tensor whole = nncl_tensor_view(g->buf, 0, 1, total);
    tu_ok(nncl_tensor_set(&whole, host, total), "parity: tensor_set");
    free(host);
    g->t = nncl_tensor_view(g->buf, GUARD, rows, cols);
}

/* Reads the tensor's values into out (n floats) and checks the guards. */
static void read_guarded(const struct guarded *g, float *out, const char *who, const char *tensor, const char *desc) {
    const size_t total = g->n + 2 * GUARD;
    float *host = malloc(total * sizeof(float));
    cr_assert(host);
    struct nncl_tensor whole = nncl_tensor_view(g->buf, 0, 1, total);
    tu_ok(nncl_tensor_get(&whole, host, total), "parity: tensor_get");
    for (size_t i = 0; i < GUARD; i++) {
        cr_assert(memcmp(&host[i], &canary, sizeof canary) == 0 &&
                      memcmp(&host[GUARD + g->n + i], &canary, sizeof canary) == 0,
                  "%s wrote outside tensor %s: guard float %zu %s the tensor was changed\n  case: %s", who, tensor,
                  i, memcmp(&host[i], &canary, sizeof canary) ? "before" : "after", desc);
    }
    memcpy(out, host + GUARD, g->n * sizeof(float));
    free(host);
}

/* Sets up the case on `be` from the host arrays, runs it, and reads every tensor back into `result`. */
static void run_case(struct nncl_backend *be, const struct op_case *c, float *const *inputs, float **result,
                     const char *desc) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    struct guarded g[NNCL_OP_MAX_TENSORS] = {{0}};
    struct nncl_op_call call = {.op = c->op};
    memcpy(call.p, c->p, sizeof call.p);
    memcpy(call.ip, c->ip, sizeof call.ip);
    for (int i = 0; i < info->n_tensors; i++) {
        alloc_guarded(be, rows[i], cols[i], inputs[i], &g[i]);
        call.t[i] = g[i].t;
    }
    /* In place, the output lives in the input's buffer: read it from there. */
    int alias_out = -1, alias_in = -1;
    if (c->inplace) {
        NNCL_ASSERT_INPLACE_OP(c->op);
        alias_out = c->op == NNCL_OP_ACT_FWD ? 1 : 3;
        alias_in = c->op == NNCL_OP_ACT_FWD ? 0 : 2;
        call.t[alias_out] = call.t[alias_in];
    }
    char who[600];
    snprintf(who, sizeof who, "backend %s (%s)", nncl_backend_name(be), nncl_backend_device(be));
    enum nncl_status st = nncl_op_run(be, &call);
    cr_assert(st == NNCL_OK, "%s failed on %s: %s: %s", desc, who, nncl_status_string(st), nncl_last_error());
    tu_ok(nncl_backend_synchronize(be), "parity: synchronize");
    for (int i = 0; i < info->n_tensors; i++) {
        read_guarded(&g[i], result[i], who, info->tensor_names[i], desc);
        nncl_buffer_free(g[i].buf);
    }
    if (alias_out >= 0) memcpy(result[alias_out], result[alias_in], rows[alias_in] * cols[alias_in] * sizeof(float));
}

ParameterizedTestParameters(parity, op_case) {
    return cr_make_param_array(struct op_case, op_cases, op_case_count);
}

ParameterizedTest(const struct op_case *c, parity, op_case) {
    struct nncl_backend *dev = device_backend_or_skip();
    struct nncl_backend *cpu = tu_backend("cpu");
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    char desc[512];
    op_case_describe(c, desc, sizeof desc);

    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    float *inputs[NNCL_OP_MAX_TENSORS] = {0}, *ref[NNCL_OP_MAX_TENSORS] = {0}, *got[NNCL_OP_MAX_TENSORS] = {0};
    /* Seeded from the case's contents (Criterion hands each test a copy, so its address says nothing):
     * every run of a case sees the same numbers. */
    uint64_t rng = 14695981039346656037ull; /* FNV-1a */
    const unsigned char *bytes = (const unsigned char *)c;
    for (size_t i = 0; i < sizeof *c; i++) rng = (rng ^ bytes[i]) * 1099511628211ull;
    for (int i = 0; i < info->n_tensors; i++) {
        const size_t n = rows[i] * cols[i];
        inputs[i] = malloc(n * sizeof(float));
        ref[i] = malloc(n * sizeof(float));
        got[i] = malloc(n * sizeof(float));
        cr_assert(inputs[i] && ref[i] && got[i]);
        op_case_fill(c, i, inputs[i], rows[i], cols[i], &rng);
        if (op_case_output_starts_nan(c, i) && !c->inplace) {
            for (size_t k = 0; k < n; k++) inputs[i][k] = NAN;
        }
    }

    run_case(cpu, c, inputs, ref, desc);
    run_case(dev, c, inputs, got, desc);

    const struct op_tolerance tol = op_case_tolerance(c);
    for (int i = 0; i < info->n_tensors; i++) {
        const size_t n = rows[i] * cols[i];
        char what[900], msg[1400];
        snprintf(what, sizeof what, "%s\n  backend %s (%s), tensor %s", desc, nncl_backend_name(dev),
                 nncl_backend_device(dev), info->tensor_names[i]);
        if (info->written & (1u << i)) {
            int ok = tu_close(ref[i], got[i], n, cols[i], (struct tu_tol){tol.abs, tol.rel}, what, msg, sizeof msg);
            cr_expect(ok, "%s", msg);
            /* a correct op writes every element: no NaN from the pre-fill may survive */
            for (size_t k = 0; k < n && ok; k++) {
                if (isnan(got[i][k]) && !isnan(ref[i][k])) cr_expect(0, "%s: element %zu left unwritten", what, k);
            }
        } else if (!(c->inplace && ((c->op == NNCL_OP_ACT_FWD && i == 0) || (c->op == NNCL_OP_ACT_BWD && i == 2)))) {
            cr_expect(memcmp(inputs[i], got[i], n * sizeof(float)) == 0, "%s: an input was modified", what);
        }
    }
    for (int i = 0; i < info->n_tensors; i++) {
        free(inputs[i]);
        free(ref[i]);
        free(got[i]);
    }
    nncl_backend_free(dev);
    tu_free_all();
}
