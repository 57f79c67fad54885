/*
 * check_coverage.c: which case families cover each op and each activation (`nncl check --coverage`, after
 * ggml's test-backend-ops --show-coverage). The table is a parameter, so a test can hand it a table with
 * a hole and see the hole reported.
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"

/* Appends ", text" (or "text" first) to out. */
static void add(char *out, size_t cap, const char *text) {
    const size_t used = strlen(out);
    if (used < cap) snprintf(out + used, cap - used, "%s%s", used ? ", " : "", text);
}

int check_op_coverage(enum nncl_op op, const struct op_case *cases, size_t n, char *families, size_t cap) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += cases[i].op == op;
    families[0] = '\0';
    if (!count) return 0; /* no table case: nothing else can cover it (random shapes start from a table case) */
    char text[64];
    snprintf(text, sizeof text, "table %zu", count);
    add(families, cap, text);
    add(families, cap, "random");
    if (op == NNCL_OP_GEMM) add(families, cap, "net shapes, CLBlast guard");
    else add(families, cap, "self-test");
    return 1;
}

int check_act_coverage(enum nncl_act act, const struct op_case *cases, size_t n, char *families, size_t cap) {
    static const enum nncl_op with_act[] = {NNCL_OP_ACT_FWD, NNCL_OP_ACT_BWD, NNCL_OP_BIAS_ACT_FWD};
    int covered = 1;
    families[0] = '\0';
    for (size_t k = 0; k < sizeof with_act / sizeof with_act[0]; k++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++) count += cases[i].op == with_act[k] && cases[i].ip[0] == (int)act;
        char text[64];
        snprintf(text, sizeof text, "%s %zu", nncl_op_name(with_act[k]), count);
        add(families, cap, text);
        covered &= count > 0; /* each op that takes an activation must see it */
    }
    if (covered) add(families, cap, "random");
    return covered;
}
