/*
 * cmd_check_coverage.c: `nncl check --coverage`, which ops and activations each compiled backend implements
 * and which case families (src/check/check_coverage.c) cover them.
 */
#include <stdio.h>

#include "check/check.h"
#include "cli.h"

/*
 * --coverage: every op and activation against every compiled backend (on the device it opens; NNCL_OPENCL_PLATFORM
 * and NNCL_OPENCL_DEVICE choose another), with the case families covering it. Uncovered: an op without a table
 * case, or an activation missing from act_fwd, act_bwd or bias_act_fwd cases. A backend without a device is
 * listed as unavailable, one without an op as "no" (ggml's "not supported"): neither is a hole in the cases.
 */
#define COVERAGE_MAX_BACKENDS 4
int cli_check_coverage(void) {
    const char *const *names = nncl_backend_list();
    struct nncl_backend *be[COVERAGE_MAX_BACKENDS] = {0};
    size_t nb = 0;
    printf("coverage: every op and activation against every compiled backend\n");
    for (; names[nb] && nb < COVERAGE_MAX_BACKENDS; nb++) {
        if (nncl_backend_init(names[nb], &be[nb])) {
            printf("  backend %-8s unavailable: %s\n", names[nb], nncl_last_error());
            nncl_clear_error();
            be[nb] = NULL;
        } else {
            printf("  backend %-8s %s\n", names[nb], nncl_backend_device(be[nb]));
        }
    }
    printf("\n%-22s", "op");
    for (size_t b = 0; b < nb; b++) printf(" %-8s", names[b]);
    printf(" covered by\n");
    size_t holes = 0;
    char families[256];
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        const int ok = check_op_coverage((enum nncl_op)op, op_cases, op_case_count, families, sizeof families);
        holes += !ok;
        printf("%-22s", nncl_op_name((enum nncl_op)op));
        for (size_t b = 0; b < nb; b++) {
            printf(" %-8s", !be[b] ? "-" : nncl_backend_supports_op(be[b], (enum nncl_op)op) ? "yes" : "no");
        }
        printf(" %s\n", ok ? families : "UNCOVERED: no case in src/check/op_cases.c");
    }
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        const int ok = check_act_coverage((enum nncl_act)act, op_cases, op_case_count, families, sizeof families);
        holes += !ok;
        char label[64];
        snprintf(label, sizeof label, "activation %s", nncl_act_name((enum nncl_act)act));
        printf("%-22s", label);
        for (size_t b = 0; b < nb; b++) {
            printf(" %-8s", !be[b] ? "-" : nncl_backend_supports_op(be[b], NNCL_OP_ACT_FWD) ? "yes" : "no");
        }
        printf(" %s%s\n", ok ? "" : "UNCOVERED: ", families);
    }
    for (size_t b = 0; b < nb; b++) nncl_backend_free(be[b]);
    printf("\n%s\n", holes ? "some ops or activations are UNCOVERED (above)" : "every op and activation is covered");
    return holes ? CLI_FAIL : CLI_OK;
}

