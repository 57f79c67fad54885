/*
 * test_checkers.c: the checking machinery checked. Every closeness assertion of the suite goes through
 * tu_close, and every verdict of `nncl check` and the parity suite through check_compare and the op-case
 * tolerances; if one of them went blind, every test built on it would pass whatever the code did. So:
 * both comparators on equal, barely-in, barely-out, NaN and infinite inputs; the tolerances pinned to
 * their derivation in docs/testing.md; and model files with a wrong tensor refused with that tensor named.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_impl.h"
#include "check/check.h"
#include "check/op_cases.h"
#include "data/preprocess_json.h"
#include "io/safetensors.h"
#include "nncl/nncl_model.h"
#include "test_util.h"

/* Both comparators must agree on every verdict below; tu_close returns it, check_compare fills r.pass. */
static int both(const float *ref, const float *got, size_t n, double abs, double rel) {
    char msg[512];
    const int a = tu_close(ref, got, n, n, (struct tu_tol){abs, rel}, "self-test", msg, sizeof msg);
    struct check_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.what, sizeof r.what, "self-test");
    const int b = check_compare(ref, got, n, n, abs, rel, &r);
    cr_assert_eq(a, b, "tu_close says %d, check_compare says %d", a, b);
    cr_assert_eq(b, r.pass);
    if (!a) cr_assert(strstr(msg, "worst index"), "a failing comparison must say where: %s", msg);
    if (!b) cr_assert(strstr(r.message, "worst index"), "check_compare's message must say where: %s", r.message);
    return a;
}

Test(comparators, equal_arrays_pass) {
    const float x[] = {0.0f, -1.5f, 3e20f, 1e-30f, INFINITY, -INFINITY, NAN};
    cr_assert(both(x, x, 7, 0.0, 0.0), "identical values, NaN and infinities included, must pass at zero bound");
}

Test(comparators, the_bound_is_abs_plus_rel_times_ref) {
    const float ref[] = {100.0f};
    /* bound = 0.5 + 0.01 * 100 = 1.5 */
    const float in[] = {101.25f}, out[] = {101.75f}, below[] = {98.75f}, far_below[] = {98.25f};
    cr_assert(both(ref, in, 1, 0.5, 0.01), "|diff| 1.25 <= 1.5 must pass");
    cr_assert(!both(ref, out, 1, 0.5, 0.01), "|diff| 1.75 > 1.5 must fail");
    cr_assert(both(ref, below, 1, 0.5, 0.01), "the bound is symmetric: -1.25 passes");
    cr_assert(!both(ref, far_below, 1, 0.5, 0.01), "-1.75 fails");
}

Test(comparators, one_bad_element_among_many_fails) {
    float ref[1000], got[1000];
    for (int i = 0; i < 1000; i++) ref[i] = got[i] = (float)i;
    got[617] += 1.0f;
    cr_assert(!both(ref, got, 1000, 1e-3, 1e-6), "one element off by 1 among 1000 must fail");
    char msg[512];
    tu_close(ref, got, 1000, 10, (struct tu_tol){1e-3, 1e-6}, "grid", msg, sizeof msg);
    cr_assert(strstr(msg, "worst index 617 (row 61, col 7)"), "the message names the element: %s", msg);
}

Test(comparators, nan_and_infinities_fail_against_numbers_and_each_other) {
    const float one[] = {1.0f}, nan[] = {NAN}, pinf[] = {INFINITY}, ninf[] = {-INFINITY};
    cr_assert(!both(one, nan, 1, 1e9, 1e9), "NaN where a number was expected fails whatever the bound");
    cr_assert(!both(nan, one, 1, 1e9, 1e9), "a number where NaN was expected fails");
    cr_assert(!both(one, pinf, 1, 1e9, 1e9), "+inf where 1 was expected fails");
    cr_assert(!both(pinf, ninf, 1, 1e9, 1e9), "opposite infinities fail");
    cr_assert(!both(pinf, nan, 1, 1e9, 1e9), "NaN is not infinity");
    cr_assert(both(ninf, ninf, 1, 0, 0), "the same infinity passes");
}

/* The tolerances of docs/testing.md ("Tolerances"), written out again here: a bound loosened or tightened
 * in src/check/op_cases.c fails this test, so it can only change together with its documented derivation. */
static struct op_tolerance documented(const struct op_case *c) {
    const double u = 1.2e-7, r = c->range;
    switch (c->op) {
    case NNCL_OP_GEMM: return (struct op_tolerance){4 * u * (double)c->k * r * r + 1e-6, 1e-5};
    case NNCL_OP_BIAS_GRAD: return (struct op_tolerance){4 * u * (double)c->rows * r + 1e-6, 1e-5};
    case NNCL_OP_SUM: return (struct op_tolerance){4 * u * (double)(c->rows * c->cols) * r * fabs(c->p[0]) + 1e-6, 1e-5};
    case NNCL_OP_SOFTMAX_FWD:
    case NNCL_OP_SOFTMAX_BWD:
    case NNCL_OP_SOFTMAX_XENT_FWD:
    case NNCL_OP_SIGMOID_BCE_FWD:
    case NNCL_OP_MSE_FWD: return (struct op_tolerance){4 * u * (double)c->cols + 1e-6, 2e-5};
    case NNCL_OP_BIAS_ADD:
    case NNCL_OP_FILL:
    case NNCL_OP_COPY:
    case NNCL_OP_SCALE:
    case NNCL_OP_GATHER_ROWS:
    case NNCL_OP_DROPOUT: return (struct op_tolerance){0.0, 0.0}; /* exact */
    default: return (struct op_tolerance){1e-6, 2e-5};
    }
}

Test(tolerances, every_case_has_its_documented_bound) {
    cr_assert_gt(op_case_count, 50);
    for (size_t i = 0; i < op_case_count; i++) {
        const struct op_case *c = &op_cases[i];
        const struct op_tolerance got = op_case_tolerance(c), want = documented(c);
        char what[256];
        op_case_describe(c, what, sizeof what);
        cr_assert(got.abs == want.abs || (fabs(got.abs - want.abs) <= 1e-12 * want.abs && fabs(got.rel - want.rel) <= 1e-12 * want.rel),
                  "%s: tolerance abs %.3e rel %.3e, docs/testing.md derives abs %.3e rel %.3e", what, got.abs, got.rel,
                  want.abs, want.rel);
        const int exact = got.abs == 0 && got.rel == 0;
        cr_assert(exact || (got.abs > 0 && got.abs < 1e-2 && got.rel > 0 && got.rel <= 2e-5),
                  "%s: bound out of any sane range", what);
    }
}

/* ---- verdicts that say how far to trust them ------------------------------------------------------ */

static struct check_result compared(const float *ref, const float *got, size_t n, int expect_constant) {
    struct check_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.what, sizeof r.what, "trust");
    r.expect_constant = expect_constant;
    check_compare(ref, got, n, n, 1e-6, 1e-5, &r);
    return r;
}

Test(trust, mostly_zero_or_constant_references_are_mistrusted) {
    float ref[100], got[100];
    for (int i = 0; i < 100; i++) ref[i] = got[i] = i < 91 ? 0.0f : (float)i; /* 91% zeros */
    struct check_result r = compared(ref, got, 100, 0);
    cr_assert(r.pass && !r.trusted, "91 zeros of 100 must pass but be mistrusted");
    cr_assert_str_eq(check_verdict(&r), "MISTRUSTED");
    cr_assert(strstr(r.trust_note, "91 of 100"), "the note counts the zeros: %s", r.trust_note);
    ref[1] = got[1] = 1.0f; /* 90% zeros exactly: trusted */
    r = compared(ref, got, 100, 0);
    cr_assert(r.trusted, "90 zeros of 100 is within the rule: %s", r.trust_note);
    cr_assert_str_eq(check_verdict(&r), "ok");
    for (int i = 0; i < 100; i++) ref[i] = got[i] = 0.25f;
    r = compared(ref, got, 100, 0);
    cr_assert(!r.trusted && strstr(r.trust_note, "equal"), "a constant reference is mistrusted: %s", r.trust_note);
    r = compared(ref, got, 100, 1);
    cr_assert(r.trusted, "an op whose output is constant by definition (fill) is exempt");
    got[5] = 0.5f;
    r = compared(ref, got, 100, 0);
    cr_assert_str_eq(check_verdict(&r), "FAIL", "a failure stays a failure, trusted or not");
    const float one = 3.0f, zero = 0.0f;
    cr_assert(compared(&one, &one, 1, 0).trusted, "one non-zero value is not 'all equal'");
    cr_assert(!compared(&zero, &zero, 1, 0).trusted, "one zero is 100%% zeros");
}

/* Every case of the table must give a verdict worth something: a case whose reference is mostly zero or
 * constant has its inputs fixed, not its verdict waved through. */
Test(trust, no_case_of_the_table_is_mistrusted) {
    struct nncl_backend *cpu = tu_backend("cpu");
    for (size_t i = 0; i < op_case_count; i++) {
        struct check_result r;
        tu_ok(check_op_case(cpu, cpu, &op_cases[i], 0, &r), op_cases[i].note);
        cr_expect(r.pass, "%s: the CPU against itself fails: %s", r.what, r.message);
        cr_expect(r.trusted, "%s: MISTRUSTED: %s", r.what, r.trust_note);
    }
    tu_free_all();
}

/* A --random failure prints its case as text; --case must rebuild the identical case, bytes included (they seed
 * its inputs), or the printed command would reproduce some other case. */
Test(random_cases, the_printed_case_parses_back_to_the_same_bytes) {
    uint64_t rng = 42;
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        for (int i = 0; i < 40; i++) {
            struct op_case c, back;
            size_t offset, offset_back;
            op_case_random((enum nncl_op)op, &rng, &c, &offset);
            char text[512];
            op_case_format(&c, offset, text, sizeof text);
            tu_ok(op_case_parse(text, &back, &offset_back), text);
            cr_assert(memcmp(&c, &back, sizeof c) == 0 && offset == offset_back, "%s does not parse back", text);
            size_t rows[NNCL_OP_MAX_TENSORS], cols[NNCL_OP_MAX_TENSORS];
            op_case_shapes(&c, rows, cols);
            for (int t = 0; t < NNCL_OP_MAX_TENSORS; t++) cr_assert_leq(rows[t] * cols[t], (size_t)1 << 16, "%s", text);
        }
    }
    struct op_case c;
    size_t offset;
    cr_assert_neq(op_case_parse("op=gemm rows=2 cols=2 k=2 bogus=1", &c, &offset), NNCL_OK);
    cr_assert(strstr(nncl_last_error(), "bogus"), "names the field: %s", nncl_last_error());
    cr_assert_neq(op_case_parse("op=nope rows=2", &c, &offset), NNCL_OK);
    cr_assert_neq(op_case_parse("op=act_fwd rows=2 cols=2 act=nope", &c, &offset), NNCL_OK);
    nncl_clear_error();
}

/* The random shapes reach the edges: 1, primes, one past a work-group, and non-zero offsets. */
Test(random_cases, shapes_cover_the_edges) {
    uint64_t rng = 7;
    int one = 0, past_group = 0, offset_seen = 0;
    for (int i = 0; i < 500; i++) {
        struct op_case c;
        size_t offset;
        op_case_random(NNCL_OP_GEMM, &rng, &c, &offset);
        one |= c.rows == 1 || c.cols == 1 || c.k == 1;
        past_group |= c.rows == 65 || c.cols == 65 || c.k == 257 || c.rows == 257;
        offset_seen |= offset % 2 == 1;
    }
    cr_assert(one && past_group && offset_seen, "edges: size 1 %d, past a group %d, odd offset %d", one, past_group,
              offset_seen);
}

/* --coverage must see a hole: the table without its gemm cases leaves gemm uncovered, without relu's act_bwd
 * cases leaves relu uncovered; the full table covers everything. */
Test(coverage, a_table_with_a_hole_is_reported_uncovered) {
    char families[256];
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        cr_assert(check_op_coverage((enum nncl_op)op, op_cases, op_case_count, families, sizeof families),
                  "%s uncovered", nncl_op_name((enum nncl_op)op));
    }
    for (int act = 0; act < NNCL_ACT_COUNT; act++) {
        cr_assert(check_act_coverage((enum nncl_act)act, op_cases, op_case_count, families, sizeof families), "%s: %s",
                  nncl_act_name((enum nncl_act)act), families);
    }
    static struct op_case holed[512];
    size_t n = 0;
    for (size_t i = 0; i < op_case_count && n < 512; i++) {
        const int relu_bwd = op_cases[i].op == NNCL_OP_ACT_BWD && op_cases[i].ip[0] == NNCL_ACT_RELU;
        if (op_cases[i].op != NNCL_OP_GEMM && !relu_bwd) holed[n++] = op_cases[i];
    }
    cr_assert(!check_op_coverage(NNCL_OP_GEMM, holed, n, families, sizeof families), "gemm without cases is uncovered");
    cr_assert(!check_act_coverage(NNCL_ACT_RELU, holed, n, families, sizeof families), "relu without act_bwd cases");
    cr_assert(strstr(families, "act_bwd 0"), "names the missing family: %s", families);
}

Test(names, cases_print_activations_and_ops_by_name) {
    for (size_t i = 0; i < op_case_count; i++) {
        char what[384];
        op_case_describe(&op_cases[i], what, sizeof what);
        cr_assert(strncmp(what, nncl_op_name(op_cases[i].op), strlen(nncl_op_name(op_cases[i].op))) == 0,
                  "%s: starts with the op's name", what);
        const char *act = strstr(what, "act=");
        if (act) {
            const char *name = nncl_act_name((enum nncl_act)op_cases[i].ip[0]);
            cr_assert(strncmp(act + 4, name, strlen(name)) == 0, "%s: the activation by name (%s), not its number",
                      what, name);
        }
    }
}

/* ---- in-place cases run in place --------------------------------------------------------------------- */

static nncl_op_fn real_act_bwd;

/* Right out of place, wrong in place: the op runs twice, so a dx that is dy gets f' applied twice (beta 0). */
static enum nncl_status act_bwd_twice(struct nncl_backend *be, const struct nncl_op_call *call) {
    enum nncl_status st = real_act_bwd(be, call);
    return st ? st : real_act_bwd(be, call);
}

/* The op table's "dx = dy in place" cases must alias dx to dy: a backend whose act_bwd is wrong only in
 * place fails the in-place case and passes the same case out of place. */
Test(in_place, an_op_wrong_only_in_place_fails_the_in_place_case) {
    struct nncl_backend *cpu = tu_backend("cpu"), *fake = NULL;
    tu_ok(nncl_backend_init("cpu", &fake), "second cpu backend");
    static nncl_op_fn ops[NNCL_OP_COUNT];
    memcpy(ops, fake->iface.ops, sizeof ops);
    real_act_bwd = ops[NNCL_OP_ACT_BWD];
    ops[NNCL_OP_ACT_BWD] = act_bwd_twice;
    fake->iface.ops = ops;
    size_t found = 0;
    for (size_t i = 0; i < op_case_count; i++) {
        const struct op_case *c = &op_cases[i];
        if (c->op != NNCL_OP_ACT_BWD || !c->inplace || c->p[1] != 0.0f ||
            (c->ip[0] != NNCL_ACT_SIGMOID && c->ip[0] != NNCL_ACT_TANH)) {
            continue;
        }
        found++;
        struct check_result r;
        tu_ok(check_op_case(cpu, fake, c, 0, &r), "in place");
        cr_assert(!r.pass, "%s: an act_bwd wrong only in place passed the in-place case", r.what);
        struct op_case apart = *c;
        apart.inplace = 0;
        tu_ok(check_op_case(cpu, fake, &apart, 0, &r), "out of place");
        cr_assert(r.pass, "%s: the same act_bwd failed out of place (worst %g of its bound)", r.what, r.worst_excess);
    }
    cr_assert_eq(found, 2, "the table's in-place act_bwd cases of sigmoid and tanh");
    nncl_backend_free(fake);
    tu_free_all();
}

/* ---- model files with one wrong tensor ------------------------------------------------------------ */

/* Saves a 3-4-2 model and returns its file, read back. */
static void saved_model(const char *path, struct st_file *f) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_model_spec s;
    memset(&s, 0, sizeof s);
    s.n_inputs = 3;
    tu_ok(nncl_parse_hidden("4:tanh", &s), "hidden");
    s.layers[s.n_layers++] = (struct nncl_layer_spec){2, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    s.loss = NNCL_LOSS_MSE;
    struct nncl_model *m = NULL;
    tu_ok(nncl_model_init(be, &s, NNCL_INIT_UNIFORM, 3, &m), "init");
    tu_ok(nncl_model_save(m, path), "save");
    nncl_model_free(m);
    tu_ok(st_read(path, f), "st_read");
}

/*
 * The model_files fixture (.init = model_file_saved, .fini = model_file_removed), once per test: a scratch
 * folder holding good.safetensors, a saved 3-4-2 model, read back into `saved`; each test writes its edited
 * copy of it to `edited`.
 */
static char tmpdir[64];
static char edited[600];
static struct st_file saved;

static void model_file_saved(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nncl-checkers-XXXXXX"); /* afresh: mkdtemp replaces the Xs */
    cr_assert(mkdtemp(tmpdir));
    char good[600];
    snprintf(good, sizeof good, "%s/good.safetensors", tmpdir);
    snprintf(edited, sizeof edited, "%s/edited.safetensors", tmpdir);
    saved_model(good, &saved);
}

static void model_file_removed(void) {
    st_free(&saved);
    tu_free_all();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

/* Rewrites `f` to `path` with tensor `name` reshaped to (r0, r1) (ndim 2; r1 = 0 makes it 1-D), or dropped
 * when r0 is 0. */
static void rewrite(const struct st_file *f, const char *path, const char *name, uint64_t r0, uint64_t r1) {
    struct st_write_tensor t[16];
    memset(t, 0, sizeof t);
    float *data[16] = {0};
    size_t n = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        const struct st_tensor *src = &f->tensors[i];
        const int target = strcmp(src->name, name) == 0;
        if (target && r0 == 0) continue;
        data[n] = malloc((size_t)src->count * sizeof(float));
        tu_ok(st_to_float(f, src, data[n], (size_t)src->count, 1), "to_float");
        t[n].name = src->name, t[n].data = data[n];
        t[n].ndim = src->ndim;
        memcpy(t[n].shape, src->shape, sizeof t[n].shape);
        if (target) {
            cr_assert_eq(r0 * (r1 ? r1 : 1), src->count, "the reshaped tensor keeps its element count");
            t[n].ndim = r1 ? 2 : 1, t[n].shape[0] = r0, t[n].shape[1] = r1;
        }
        n++;
    }
    tu_ok(st_write(path, t, n, f->metadata, f->n_metadata), "st_write");
    for (size_t i = 0; i < n; i++) free(data[i]);
}

/* Writes `f` again with tensor `name` stored as F64: safetensors files from numpy and PyTorch often are. */
static void rewrite_f64(const struct st_file *f, const char *path, const char *name) {
    FILE *out = fopen(path, "wb");
    cr_assert(out);
    char header[8192];
    size_t used = (size_t)snprintf(header, sizeof header, "{\"__metadata__\":{");
    for (size_t i = 0; i < f->n_metadata; i++) {
        /* metadata values are JSON text themselves: escape the quotes and backslashes */
        used += (size_t)snprintf(header + used, sizeof header - used, "%s\"%s\":\"", i ? "," : "", f->metadata[i].key);
        for (const char *p = f->metadata[i].value; *p; p++) {
            if (*p == '"' || *p == '\\') header[used++] = '\\';
            header[used++] = *p;
        }
        header[used++] = '"';
    }
    used += (size_t)snprintf(header + used, sizeof header - used, "}");
    uint64_t offset = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        const struct st_tensor *t = &f->tensors[i];
        const int wide = strcmp(t->name, name) == 0;
        const uint64_t bytes = t->count * (wide ? 8 : 4);
        used += (size_t)snprintf(header + used, sizeof header - used, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name,
                                 wide ? "F64" : "F32");
        for (int d = 0; d < t->ndim; d++) {
            used += (size_t)snprintf(header + used, sizeof header - used, "%s%llu", d ? "," : "",
                                     (unsigned long long)t->shape[d]);
        }
        used += (size_t)snprintf(header + used, sizeof header - used, "],\"data_offsets\":[%llu,%llu]}",
                                 (unsigned long long)offset, (unsigned long long)(offset + bytes));
        offset += bytes;
    }
    used += (size_t)snprintf(header + used, sizeof header - used, "}");
    while (used % 8) header[used++] = ' ';
    const uint64_t len = used;
    unsigned char le[8];
    for (int b = 0; b < 8; b++) le[b] = (unsigned char)(len >> (8 * b));
    fwrite(le, 1, 8, out);
    fwrite(header, 1, used, out);
    for (size_t i = 0; i < f->n_tensors; i++) {
        const struct st_tensor *t = &f->tensors[i];
        float *v = malloc((size_t)t->count * sizeof(float));
        tu_ok(st_to_float(f, t, v, (size_t)t->count, 1), "to_float");
        for (uint64_t k = 0; k < t->count; k++) {
            if (strcmp(t->name, name) == 0) {
                const double d = v[k];
                fwrite(&d, 8, 1, out);
            } else {
                fwrite(&v[k], 4, 1, out);
            }
        }
        free(v);
    }
    cr_assert_eq(fclose(out), 0);
}

static void assert_refused(const char *path, const char *tensor, const char *detail) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_model *m = NULL;
    ASSERT_ERROR(nncl_model_load(be, path, &m), NNCL_ERR_FORMAT, path, tensor, detail);
    cr_assert_null(m);
}

Test(model_files, a_tensor_of_the_right_count_but_wrong_shape_is_refused, .init = model_file_saved,
     .fini = model_file_removed) {
    rewrite(&saved, edited, "layers.0.weight", 3, 4); /* (4 x 3) stored as (3 x 4): a transposed weight */
    assert_refused(edited, "layers.0.weight", "[3, 4]");
    rewrite(&saved, edited, "layers.1.weight", 8, 0); /* (2 x 4) flattened to [8] */
    assert_refused(edited, "layers.1.weight", "[8]");
    rewrite(&saved, edited, "layers.1.bias", 1, 2); /* [2] as (1 x 2) */
    assert_refused(edited, "layers.1.bias", "[1, 2]");
}

Test(model_files, a_missing_tensor_is_refused_by_name, .init = model_file_saved, .fini = model_file_removed) {
    rewrite(&saved, edited, "layers.0.bias", 0, 0);
    assert_refused(edited, "layers.0.bias", "missing");
}

Test(model_files, a_tensor_of_another_dtype_is_refused_naming_the_dtype, .init = model_file_saved,
     .fini = model_file_removed) {
    rewrite_f64(&saved, edited, "layers.1.weight");
    assert_refused(edited, "layers.1.weight", "F64");
}

/* Rewrites `f` to `path` with metadata `key` set to `text` (added when the file lacks it; tensors unchanged). */
static void rewrite_metadata(const struct st_file *f, const char *path, const char *key, const char *text) {
    struct st_metadata_entry meta[17];
    char k[64], value[4096];
    cr_assert(f->n_metadata < 16 && strlen(text) < sizeof value && strlen(key) < sizeof k);
    snprintf(value, sizeof value, "%s", text);
    snprintf(k, sizeof k, "%s", key);
    size_t n = f->n_metadata, found = n;
    for (size_t i = 0; i < n; i++) {
        meta[i] = f->metadata[i];
        if (strcmp(meta[i].key, key) == 0) found = i;
    }
    if (found == n) n++;
    meta[found].key = k, meta[found].value = value;
    struct st_file copy = *f;
    copy.metadata = meta, copy.n_metadata = n;
    rewrite(&copy, path, "", 1, 0); /* no tensor is named "": all kept as they are */
}

static void rewrite_architecture(const struct st_file *f, const char *path, const char *arch) {
    cr_assert(st_metadata(f, "architecture"), "a saved model has architecture metadata");
    rewrite_metadata(f, path, "architecture", arch);
}

/* An empty class_names array is a model without class names: nncl_model_class_names says NULL, as documented. */
Test(model_files, empty_class_names_mean_no_names, .init = model_file_saved, .fini = model_file_removed) {
    struct nncl_backend *be = tu_backend("cpu");
    struct nncl_model *m = NULL;
    rewrite_metadata(&saved, edited, "class_names", "[]");
    tu_ok(nncl_model_load(be, edited, &m), "load with class_names []");
    cr_assert_eq(nncl_model_class_count(m), 0);
    cr_assert_null(nncl_model_class_names(m), "no names: NULL");
    nncl_model_free(m);
    rewrite_metadata(&saved, edited, "class_names", "[\"cat\", \"dog\"]");
    tu_ok(nncl_model_load(be, edited, &m), "load with two class names");
    cr_assert_eq(nncl_model_class_count(m), 2);
    cr_assert_str_eq(nncl_model_class_names(m)[1], "dog");
    nncl_model_free(m);
    rewrite_metadata(&saved, edited, "class_names", "{}");
    assert_refused(edited, "\"class_names\"", "not a JSON array");
}

/* The architecture must give the input count and the layers: a file without them is refused by the
 * metadata check, naming it, not later by a tensor that happens not to fit (or a crash). */
Test(model_files, an_architecture_without_inputs_or_layers_is_refused, .init = model_file_saved,
     .fini = model_file_removed) {
    const char *arch = st_metadata(&saved, "architecture");
    cr_assert(arch && strstr(arch, "\"inputs\":3"), "the saved architecture: %s", arch ? arch : "(none)");
    char variant[4096];
    const char *variants[][2] = {{"\"inputs\":3", "\"inputz\":3"},
                                 {"\"inputs\":3", "\"inputs\":2.5"},
                                 {"\"inputs\":3", "\"inputs\":0"},
                                 {"\"inputs\":3", "\"inputs\":\"3\""},
                                 {"\"layers\":", "\"layerz\":"}};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        const char *at = strstr(arch, variants[v][0]);
        cr_assert(at, "%s in %s", variants[v][0], arch);
        snprintf(variant, sizeof variant, "%.*s%s%s", (int)(at - arch), arch, variants[v][1],
                 at + strlen(variants[v][0]));
        rewrite_architecture(&saved, edited, variant);
        assert_refused(edited, "\"architecture\" metadata", "inputs, layers and loss");
    }
}

/* Every double of the stored transform reads back to the same bits (cJSON alone keeps 15 digits). */
Test(model_files, preprocess_doubles_round_trip_exactly) {
    struct nncl_column col;
    memset(&col, 0, sizeof col);
    snprintf(col.name, sizeof col.name, "age");
    col.mean = 0.1 + 0.2, col.std = 29.154759474226502;
    struct nncl_preprocess pp;
    memset(&pp, 0, sizeof pp);
    pp.n_columns = 1, pp.columns = &col;
    snprintf(pp.target, sizeof pp.target, "income");
    pp.target_mean = 1.0 / 3.0, pp.target_std = 1e-300 * 3.0;
    char *json = nncl_preprocess_to_json(&pp);
    cr_assert(json);
    struct nncl_preprocess back;
    tu_ok(nncl_preprocess_from_json(json, "round trip", &back), "from_json");
    cr_assert_eq(back.columns[0].std, col.std, "std %.17g came back as %.17g (%s)", col.std, back.columns[0].std, json);
    cr_assert_eq(back.columns[0].mean, col.mean, "mean %.17g came back as %.17g", col.mean, back.columns[0].mean);
    cr_assert_eq(back.target_mean, pp.target_mean);
    cr_assert_eq(back.target_std, pp.target_std);
    free(json);
    nncl_preprocess_free(&back);
}
