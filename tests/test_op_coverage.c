/*
 * test_op_coverage.c: every op and every activation of include/nncl/nncl_oplist.h reaches every place it
 * must, so a new entry in a list cannot be half done. Fails when an op has no CPU entry, no OpenCL entry
 * (with OpenCL compiled in: skipped without a device, except under CI=true, where that fails) or no case
 * in the op-case table (src/check/op_cases.c); when an activation lacks parity cases in any op that takes
 * an activation (act_fwd, act_bwd, bias_act_fwd); and when an op that takes an activation lets an
 * invalid one or an out-of-range parameter through. Whether the maths are right is test_parity.c's and
 * test_cpu_ops.c's job; this test only says where something is missing.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/op_cases.h"
#include "ops_impl.h"
#include "test_util.h"

/* Whether `op` takes an activation: it has an integer parameter named "act" (as src/ops.c decides). */
static int act_iparam(enum nncl_op op) {
    const struct nncl_op_info *info = nncl_op_get_info(op);
    for (int i = 0; i < info->n_iparams; i++) {
        if (strcmp(info->iparam_names[i], "act") == 0) return i;
    }
    return -1;
}

static int act_param(enum nncl_op op) {
    const struct nncl_op_info *info = nncl_op_get_info(op);
    for (int i = 0; i < info->n_params; i++) {
        if (strcmp(info->param_names[i], "act_param") == 0) return i;
    }
    return -1;
}

static void assert_every_op_implemented(struct nncl_backend *be) {
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        cr_expect(nncl_backend_supports_op(be, (enum nncl_op)op), "%s has no entry in the op table of backend %s",
                  nncl_op_name((enum nncl_op)op), nncl_backend_name(be));
    }
}

Test(op_coverage, every_op_has_a_cpu_entry) {
    assert_every_op_implemented(tu_backend("cpu"));
    tu_free_all();
}

Test(op_coverage, every_op_has_an_opencl_entry) {
    struct nncl_backend *be = tu_device_or_skip();
    assert_every_op_implemented(be);
    nncl_backend_free(be);
}

Test(op_coverage, every_op_has_parity_cases) {
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        size_t n = 0;
        for (size_t i = 0; i < op_case_count; i++) n += op_cases[i].op == (enum nncl_op)op;
        cr_expect(n > 0, "%s has no case in the op-case table src/check/op_cases.c", nncl_op_name((enum nncl_op)op));
    }
}

/* The activation ops are found from the table; the three known ones must be among them. */
Test(op_coverage, every_activation_has_parity_cases_in_every_op_that_takes_one) {
    int takes[NNCL_OP_COUNT] = {0};
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        takes[op] = act_iparam((enum nncl_op)op) >= 0;
        if (takes[op]) cr_assert(act_param((enum nncl_op)op) >= 0, "%s has act but no act_param", nncl_op_name(op));
    }
    cr_assert(takes[NNCL_OP_ACT_FWD] && takes[NNCL_OP_ACT_BWD] && takes[NNCL_OP_BIAS_ACT_FWD],
              "act_fwd, act_bwd and bias_act_fwd name their activation parameter \"act\"");
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        if (!takes[op]) continue;
        const int ip = act_iparam((enum nncl_op)op);
        for (int act = 0; act < NNCL_ACT_COUNT; act++) {
            size_t n = 0;
            for (size_t i = 0; i < op_case_count; i++) n += op_cases[i].op == (enum nncl_op)op && op_cases[i].ip[ip] == act;
            cr_expect(n > 0, "activation %s has no %s case in src/check/op_cases.c", nncl_act_name((enum nncl_act)act),
                      nncl_op_name((enum nncl_op)op));
        }
    }
}

Test(op_coverage, every_activation_has_a_name_and_a_valid_default) {
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        const char *name = nncl_act_name((enum nncl_act)act);
        cr_assert(name && name[0] && strcmp(name, "unknown activation") != 0, "activation %d has no name", act);
        enum nncl_act back = NNCL_ACT_COUNT;
        tu_ok(nncl_act_from_name(name, &back), name);
        cr_expect_eq(back, (enum nncl_act)act, "%s parses back to %d", name, (int)back);
        tu_ok(nncl_act_check("default", act, nncl_act_default_param((enum nncl_act)act)), name);
    }
    enum nncl_act out;
    cr_assert_eq(nncl_act_from_name("no_such_activation", &out), NNCL_ERR_INVALID_ARG);
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        cr_expect(strstr(nncl_last_error(), nncl_act_name((enum nncl_act)act)), "the message lists %s: %s",
                  nncl_act_name((enum nncl_act)act), nncl_last_error());
    }
}

/* Runs the first op case of `op` on `be`, its tensors zero, with the activation and parameter replaced. */
static enum nncl_status run_with_act(struct nncl_backend *be, enum nncl_op op, int act, float param) {
    const struct op_case *c = NULL;
    for (size_t i = 0; i < op_case_count && !c; i++) c = op_cases[i].op == op ? &op_cases[i] : NULL;
    cr_assert(c, "%s has no op case", nncl_op_name(op));
    size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
    op_case_shapes(c, rows, cols);
    struct nncl_op_call call = {.op = op};
    for (int i = 0; i < nncl_op_get_info(op)->n_tensors; i++) {
        float *zeros = calloc(rows[i] * cols[i], sizeof *zeros);
        cr_assert(zeros);
        call.t[i] = tu_tensor(be, rows[i], cols[i], zeros);
        free(zeros);
    }
    memcpy(call.ip, c->ip, sizeof call.ip);
    memcpy(call.p, c->p, sizeof call.p);
    call.ip[act_iparam(op)] = act;
    call.p[act_param(op)] = param;
    return nncl_op_run(be, &call);
}

Test(op_coverage, every_op_that_takes_an_activation_checks_it) {
    struct nncl_backend *be = tu_backend("cpu");
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        if (act_iparam((enum nncl_op)op) < 0) continue;
        const char *name = nncl_op_name((enum nncl_op)op);
        ASSERT_ERROR(run_with_act(be, (enum nncl_op)op, NNCL_ACT_COUNT, 0.0f), NNCL_ERR_INVALID_ARG, name,
                     "not an enum nncl_act value");
        ASSERT_ERROR(run_with_act(be, (enum nncl_op)op, -1, 0.0f), NNCL_ERR_INVALID_ARG, name);
        ASSERT_ERROR(run_with_act(be, (enum nncl_op)op, NNCL_ACT_LEAKY_RELU, 2.0f), NNCL_ERR_INVALID_ARG, name,
                     "leaky_relu", "outside [0, 1]");
        ASSERT_ERROR(run_with_act(be, (enum nncl_op)op, NNCL_ACT_ELU, -1.0f), NNCL_ERR_INVALID_ARG, name, "elu");
        tu_ok(run_with_act(be, (enum nncl_op)op, NNCL_ACT_TANH, 5.0f), "an activation without a parameter ignores it");
    }
    tu_free_all();
}
