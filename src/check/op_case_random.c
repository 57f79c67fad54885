/*
 * op_case_random.c: random op cases (`nncl check --random N --seed S`) and the one-line text of a case
 * (`nncl check --case "..."`), so that any failing random case is reproduced exactly by one command.
 *
 * A random case starts from a case of the table for the same op (so its parameters are valid and its
 * inputs mean something: one-hot targets, Adam's v >= 0, gather's invalid indices), then redraws its shape
 * from sizes that break lazy kernels: 1, primes, and one below, at and above the kernels' work-group sizes
 * (64, 256 for sum) and CLBlast's usual tile sizes (8 to 128), and an offset into its buffer (the tensors
 * then start that many floats past their guard region, so offset arguments are exercised at odd values).
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/op_cases.h"
#include "random_impl.h"
#include "status_impl.h"

/* Edge sizes: 1 and 2, primes, and one each side of 8, 16, 32, 64, 128, 256 (tiles and work-groups). */
static const size_t edge_sizes[] = {1,  2,  3,  5,  7,  11, 13, 15, 16,  17,  31,  32,  33,  61,
                                    63, 64, 65, 97, 127, 128, 129, 251, 255, 256, 257, 509, 1021};
static const size_t offsets[] = {0, 0, 1, 3, 17, 64};
#define MAX_ELEMENTS ((size_t)1 << 16)  /* per tensor: a few hundred cases stay quick on PoCL */
#define MAX_PRODUCT ((size_t)1 << 21)   /* gemm multiply-adds */

static size_t pick(uint64_t *rng, const size_t *from, size_t n) { return from[nncl_random_next(rng) % n]; }

static size_t edge(uint64_t *rng) { return pick(rng, edge_sizes, sizeof edge_sizes / sizeof edge_sizes[0]); }

void op_case_random(enum nncl_op op, uint64_t *rng, struct op_case *c, size_t *offset) {
    /* the template: a random table case of the op (every op has cases: test_op_coverage) */
    size_t n_of_op = 0;
    for (size_t i = 0; i < op_case_count; i++) n_of_op += op_cases[i].op == op;
    NNCL_ASSERT(n_of_op > 0);
    size_t which = (size_t)(nncl_random_next(rng) % n_of_op);
    const struct op_case *t = NULL;
    for (size_t i = 0; i < op_case_count && !t; i++) {
        if (op_cases[i].op == op && which-- == 0) t = &op_cases[i];
    }
    NNCL_ASSERT(t); /* (also tells gcc's -Warray-bounds that t points into the table) */
    memset(c, 0, sizeof *c); /* padding included: the case's bytes seed its inputs */
    c->op = op;
    memcpy(c->ip, t->ip, sizeof c->ip);
    memcpy(c->p, t->p, sizeof c->p);
    c->range = t->range;
    c->inplace = t->inplace;
    snprintf(c->note, sizeof c->note, "%s", strstr(t->note, "invalid") ? "random-invalid" : "random");
    c->rows = edge(rng), c->cols = edge(rng);
    while (c->rows * c->cols > MAX_ELEMENTS) c->rows = edge(rng);
    const struct nncl_op_info *info = nncl_op_get_info(op);
    for (int i = 0; i < info->n_params; i++) { /* beta 0 (overwrite) or 1 (accumulate), both paths */
        if (strcmp(info->param_names[i], "beta") == 0 && op != NNCL_OP_GEMM) c->p[i] = nncl_random_next(rng) % 2 ? 1.0f : 0.0f;
    }
    if (op == NNCL_OP_GEMM) {
        static const float alphas[] = {1.0f, 0.5f, -1.0f, 2.0f}, betas[] = {0.0f, 1.0f, 0.5f, -1.0f};
        c->ip[0] = (int)(nncl_random_next(rng) % 2), c->ip[1] = (int)(nncl_random_next(rng) % 2);
        c->p[0] = alphas[nncl_random_next(rng) % 4], c->p[1] = betas[nncl_random_next(rng) % 4];
        c->k = edge(rng);
        while (c->rows * c->k > MAX_ELEMENTS || c->cols * c->k > MAX_ELEMENTS || c->rows * c->cols * c->k > MAX_PRODUCT) {
            c->k = edge(rng);
        }
    } else if (op == NNCL_OP_GATHER_ROWS) {
        do c->k = edge(rng); /* indices: the batch; rows is the source's row count */
        while (c->k * c->cols > MAX_ELEMENTS);
    }
    for (int i = 0; i < info->n_iparams; i++) {
        if (strcmp(info->iparam_names[i], "act") != 0) continue;
        c->ip[i] = (int)(nncl_random_next(rng) % NNCL_ACT_COUNT);
        for (int j = 0; j < info->n_params; j++) {
            if (strcmp(info->param_names[j], "act_param") == 0) c->p[j] = nncl_act_default_param((enum nncl_act)c->ip[i]);
        }
    }
    *offset = pick(rng, offsets, sizeof offsets / sizeof offsets[0]);
}

void op_case_format(const struct op_case *c, size_t offset, char *out, size_t cap) {
    const struct nncl_op_info *info = nncl_op_get_info(c->op);
    int used = snprintf(out, cap, "op=%s rows=%zu cols=%zu k=%zu", info->name, c->rows, c->cols, c->k);
    for (int i = 0; i < info->n_iparams && used > 0 && (size_t)used < cap; i++) {
        if (strcmp(info->iparam_names[i], "act") == 0 && c->ip[i] >= 0 && c->ip[i] < NNCL_ACT_COUNT) {
            used += snprintf(out + used, cap - (size_t)used, " act=%s", nncl_act_name((enum nncl_act)c->ip[i]));
        } else {
            used += snprintf(out + used, cap - (size_t)used, " %s=%d", info->iparam_names[i], c->ip[i]);
        }
    }
    for (int i = 0; i < info->n_params && used > 0 && (size_t)used < cap; i++) {
        used += snprintf(out + used, cap - (size_t)used, " %s=%.9g", info->param_names[i], (double)c->p[i]);
    }
    if (used > 0 && (size_t)used < cap) {
        snprintf(out + used, cap - (size_t)used, " range=%.9g inplace=%d offset=%zu note=%s", (double)c->range,
                 c->inplace, offset, c->note);
    }
}

static int parse_size(const char *v, size_t *out) {
    char *end;
    const unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || v[0] == '-') return 0;
    *out = (size_t)x;
    return 1;
}

enum nncl_status op_case_parse(const char *text, struct op_case *c, size_t *offset) {
    memset(c, 0, sizeof *c);
    *offset = 0;
    c->range = 1.0f;
    c->op = NNCL_OP_COUNT;
    char buf[512];
    if (strlen(text) >= sizeof buf) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: longer than %zu characters", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", text);
    const struct nncl_op_info *info = NULL;
    for (char *save = NULL, *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: \"%s\" is not key=value", tok);
        *eq = '\0';
        const char *key = tok, *v = eq + 1;
        char *end = NULL;
        int ok = 1;
        if (strcmp(key, "op") == 0) {
            for (int op = 0; op < NNCL_OP_COUNT; op++) {
                if (strcmp(nncl_op_name((enum nncl_op)op), v) == 0) c->op = (enum nncl_op)op;
            }
            if (c->op == NNCL_OP_COUNT) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: unknown op \"%s\"", v);
            info = nncl_op_get_info(c->op);
            continue;
        }
        if (strcmp(key, "note") == 0) {
            snprintf(c->note, sizeof c->note, "%s", v);
            continue;
        }
        if (strcmp(key, "rows") == 0) ok = parse_size(v, &c->rows);
        else if (strcmp(key, "cols") == 0) ok = parse_size(v, &c->cols);
        else if (strcmp(key, "k") == 0) ok = parse_size(v, &c->k);
        else if (strcmp(key, "offset") == 0) ok = parse_size(v, offset);
        else if (strcmp(key, "range") == 0) c->range = strtof(v, &end), ok = end != v && !*end;
        else if (strcmp(key, "inplace") == 0) c->inplace = (int)strtol(v, &end, 10), ok = end != v && !*end;
        else {
            if (!info) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: op=NAME comes before \"%s\"", key);
            int found = 0;
            for (int i = 0; i < info->n_iparams && !found; i++) {
                if (strcmp(info->iparam_names[i], key) != 0) continue;
                found = 1;
                if (strcmp(key, "act") == 0) {
                    enum nncl_act act;
                    if (nncl_act_from_name(v, &act)) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: %s", nncl_last_error());
                    c->ip[i] = (int)act;
                } else {
                    c->ip[i] = (int)strtol(v, &end, 10), ok = end != v && !*end;
                }
            }
            for (int i = 0; i < info->n_params && !found; i++) {
                if (strcmp(info->param_names[i], key) == 0) found = 1, c->p[i] = strtof(v, &end), ok = end != v && !*end;
            }
            if (!found) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: %s has no field \"%s\"", info->name, key);
        }
        if (!ok) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: %s=\"%s\" is not a number", key, v);
    }
    if (!info) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: no op=NAME");
    if (c->rows == 0 || c->cols == 0 || ((c->op == NNCL_OP_GEMM || c->op == NNCL_OP_GATHER_ROWS) && c->k == 0)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: rows, cols (and k for %s) must be at least 1", info->name);
    }
    if (c->rows * c->cols > ((size_t)1 << 28)) return nncl_set_error(NNCL_ERR_INVALID_ARG, "--case: too large");
    return NNCL_OK;
}
