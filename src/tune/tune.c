/*
 * tune.c: nncl_opencl_tune, which runs CLBlast's tuner (clblast_tuner_xgemm from Debian's clblast-utils)
 * for the selected device and keeps what makes a net's own matrix products fastest; the file it writes and
 * how the backend applies it are src/opencl/ocl_tuning.c's job, running the tuner is tune_runner.c's.
 *
 * Why run the tuner binary instead of timing configurations ourselves: it knows the kernel's parameter
 * space and its constraints for the installed CLBlast version, and checks every configuration's result.
 * We only pick a few of its best on the net's own shapes, choose XGEMM_MIN_INDIRECT_SIZE (which products
 * use the tuned kernel rather than the "direct" one), check the winner against the CPU reference and store.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r and pause in ISO C mode */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "tune/tune_impl.h"
#include "util/util.h"

void tune_progress(const struct nncl_tune_options *opt, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nncl_log(NNCL_LOG_INFO, "tune: %s", line);
    if (opt && opt->progress) opt->progress(line, opt->user);
}

/* The tuning set: Xgemm's parameters and GemmRoutine's XGEMM_MIN_INDIRECT_SIZE. */
static void make_set(const struct ocl_state *st, const struct ocl_tuning_kernel *xgemm, size_t min_indirect,
                     struct ocl_tuning_set *set) {
    ocl_tuning_set_init(st, set);
    set->kernels[0] = *xgemm;
    struct ocl_tuning_kernel *r = &set->kernels[1];
    snprintf(r->name, sizeof r->name, "GemmRoutine");
    tune_kernel_add_param(r, "XGEMM_MIN_INDIRECT_SIZE", min_indirect);
    set->n_kernels = 2;
}

/* Parameters as one line, "GEMMK=0 KREG=1 ...". */
static void params_string(const struct ocl_tuning_kernel *k, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k->n_params && used < cap; i++) {
        const int w = snprintf(out + used, cap - used, "%s%s=%zu", i ? " " : "", k->names[i], k->values[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static uint64_t mnk(const struct nncl_gemm_shape *s) { return (uint64_t)s->m * s->n * s->k; }

/* The smallest t with t^3 > v: with XGEMM_MIN_INDIRECT_SIZE = t, a product of m*n*k = v runs direct. */
static size_t cube_above(uint64_t v) {
    size_t t = (size_t)cbrt((double)v);
    while ((uint64_t)t * t * t <= v) t++;
    while (t > 1 && (uint64_t)(t - 1) * (t - 1) * (t - 1) > v) t--;
    return t;
}

/* Which XGEMM_MIN_INDIRECT_SIZE makes the shapes fastest, given each one's direct and indirect time. Ties go
 * to the smaller size: products larger than the net's then use the tuned kernel. */
static size_t best_threshold(const struct nncl_gemm_shape *s, size_t n, const double *direct, const double *indirect,
                             double *total_out) {
    size_t best_t = 1;
    double best = INFINITY;
    for (size_t c = 0; c <= n; c++) {
        const size_t t = c == n ? 1 : cube_above(mnk(&s[c]));
        const uint64_t t3 = (uint64_t)t * t * t;
        double total = 0;
        for (size_t i = 0; i < n; i++) total += mnk(&s[i]) < t3 ? direct[i] : indirect[i];
        if (total < best * 0.999 || (total <= best * 1.001 && t < best_t)) best = total, best_t = t;
    }
    *total_out = best;
    return best_t;
}

/* m = n = k for the tuner: the FLOP-weighted mean of the shapes' cube roots of m*n*k, to a multiple of 128
 * (the largest tile the tuner tries, so every configuration divides it), within [128, 1024]. */
static size_t tune_size_for(const struct nncl_gemm_shape *s, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double f = 2.0 * (double)mnk(&s[i]);
        num += f * cbrt((double)mnk(&s[i]));
        den += f;
    }
    double size = den > 0 ? num / den : 256;
    size = 128.0 * floor(size / 128.0 + 0.5);
    return (size_t)fmin(1024.0, fmax(128.0, size));
}

static enum nncl_status selected_indices(int *platform, int *device) {
    struct nncl_device_info infos[64];
    size_t count = 0;
    enum nncl_status st = nncl_opencl_list_devices(infos, 64, &count);
    if (st) return st;
    for (size_t i = 0; i < count && i < 64; i++) {
        if (infos[i].is_selected) {
            *platform = infos[i].platform_index, *device = infos[i].device_index;
            return NNCL_OK;
        }
    }
    return nncl_set_error(NNCL_ERR_NO_DEVICE, "tune: no OpenCL device is selected; run `nncl devices` and set "
                          "NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE");
}

/*
 * Runs every shape on `dev` and on the CPU reference through the op checker (c pre-filled with NaN, since
 * beta = 0 must not read it) and writes the first shape that differs, with the worst element, into `wrong`
 * (left empty when all agree). An error status only when a product could not run.
 */
static enum nncl_status verify(struct nncl_backend *cpu, struct nncl_backend *dev, const struct nncl_gemm_shape *s,
                               size_t n, char *wrong, size_t cap) {
    wrong[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        struct op_case c = {NNCL_OP_GEMM, s[i].m, s[i].n, s[i].k, {s[i].trans_a, s[i].trans_b}, {1.0f, 0.0f}, 1.0f, 0,
                            "tune"};
        struct check_result r;
        enum nncl_status st = check_op_case(cpu, dev, &c, 0, &r);
        if (st) return st;
        if (!r.pass) {
            snprintf(wrong, cap, "%s", r.message);
            return NNCL_OK;
        }
    }
    return NNCL_OK;
}

/*
 * Test hooks (tests/check/tune_child_fault.sh), read only here, in the child of the candidate check: with
 * NNCL_TEST_TUNE_CHILD_CRASH=1 in the environment the child dies of SIGSEGV, and with NNCL_TEST_TUNE_CHILD_HANG=1
 * it sleeps until it is killed, each once its device is open (PoCL's threads running) and before it answers,
 * as a candidate that crashes or hangs in the device would. They exist to show that `nncl tune` skips such a
 * candidate naming the signal or the timeout, kills a hung child and goes on; `nncl tune` itself and every
 * other command ignore them.
 */
static void test_hook_child_fault(void) {
    const char *crash = getenv("NNCL_TEST_TUNE_CHILD_CRASH"), *hang = getenv("NNCL_TEST_TUNE_CHILD_HANG");
    if (crash && strcmp(crash, "1") == 0) {
        fflush(NULL);
        signal(SIGSEGV, SIG_DFL); /* not AddressSanitizer's handler, which would turn the signal into exit 1 */
        raise(SIGSEGV);
    }
    if (hang && strcmp(hang, "1") == 0) {
        for (;;) pause();
    }
}

enum nncl_status tune_check_candidate(const char *params, const struct nncl_gemm_shape *shapes, size_t n, char *wrong,
                                      size_t cap) {
    struct ocl_tuning_kernel k;
    memset(&k, 0, sizeof k);
    snprintf(k.name, sizeof k.name, "Xgemm");
    char text[512];
    snprintf(text, sizeof text, "%s", params);
    for (char *save = NULL, *tok = strtok_r(text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        const unsigned long long v = eq ? strtoull(eq + 1, &end, 10) : 0;
        if (!eq || eq == tok || !end || *end || end == eq + 1) {
            return nncl_set_error(NNCL_ERR_INVALID_ARG, "tune: --check-candidate \"%s\": write NAME=VALUE ... (\"%s\")",
                                  params, tok);
        }
        *eq = '\0';
        tune_kernel_add_param(&k, tok, (size_t)v);
    }
    struct nncl_backend *be = NULL, *cpu = NULL;
    ocl_tuning_suspend(1); /* CLBlast's own parameters, then only this candidate's on top */
    enum nncl_status s = nncl_backend_init("opencl", &be);
    ocl_tuning_suspend(0);
    if (!s) test_hook_child_fault();
    if (!s) s = nncl_backend_init("cpu", &cpu);
    struct ocl_tuning_set set;
    if (!s) {
        make_set(ocl_tuning_state(be), &k, 1, &set); /* m*n*k < 1 never: every product on the candidate */
        s = ocl_tuning_override(ocl_tuning_state(be), &set);
    }
    if (!s) s = verify(cpu, be, shapes, n, wrong, cap);
    nncl_backend_free(cpu);
    nncl_backend_free(be);
    return s;
}

/* The work of nncl_opencl_tune once the backend is open; `bn` holds the shapes, then the 1024 cube. */
static enum nncl_status tune_on(struct nncl_backend *be, struct tune_bench *bn, const struct nncl_gemm_shape *shapes,
                                size_t n, char *tuner, const struct nncl_tune_options *opt,
                                struct nncl_tune_result *res) {
    struct ocl_state *st = ocl_tuning_state(be);
    const size_t cube = n; /* index of the 1024^3 product in bn */
    const double cube_flop = 2.0 * 1024.0 * 1024.0 * 1024.0;
    enum { REPEATS = 25, CUBE_REPEATS = 5 };
    double ms = 0;

    /* 1. CLBlast's own parameters */
    tune_progress(opt, "timing the %zu products with CLBlast's own parameters (the first call compiles CLBlast's "
             "kernels: seconds on PoCL)", n);
    enum nncl_status s = tune_bench_time(be, bn, 0, n, REPEATS, &res->untuned_ms, NULL);
    if (!s) s = tune_bench_time(be, bn, cube, cube + 1, CUBE_REPEATS, &ms, NULL);
    if (s) return s;
    res->untuned_gflops_1024 = cube_flop / (ms * 1e6);
    tune_progress(opt, "untuned: the net's products %.3f ms per step; 1024^3 product %.1f GFLOP/s", res->untuned_ms,
             res->untuned_gflops_1024);

    /* 2. the tuner */
    int platform = 0, device = 0;
    s = selected_indices(&platform, &device);
    if (s) return s;
    const double fraction = opt->fraction > 0 ? fmin(opt->fraction, 1.0) : NNCL_TUNE_DEFAULT_FRACTION;
    const double limit = opt->time_limit_s > 0 ? opt->time_limit_s : NNCL_TUNE_DEFAULT_TIME_LIMIT_S;
    res->tune_size = opt->tune_size ? opt->tune_size : tune_size_for(shapes, n);
    tune_progress(opt, "running %s -platform %d -device %d at m=n=k=%zu on %.3g of its configurations, for at most "
             "%.0f s", TUNE_TUNER_BINARY, platform, device, res->tune_size, fraction, limit);
    struct tune_candidates cand;
    int stopped = 0;
    const double t0 = nncl_now_ms();
    s = tune_run_tuner(tuner, platform, device, res->tune_size, 1.0 / fraction, opt, limit, &cand, &res->configurations,
                  &stopped);
    res->tuner_seconds = (nncl_now_ms() - t0) / 1e3;
    res->tuner_stopped = stopped;
    if (s) return s;
    const double tune_flop = 2.0 * (double)res->tune_size * res->tune_size * res->tune_size;
    res->tuner_best_gflops = tune_flop / (cand.ms[0] * 1e6);
    tune_progress(opt, "tuner: %zu configurations timed in %.0f s%s; best %.1f GFLOP/s at m=n=k=%zu", res->configurations,
             res->tuner_seconds, stopped ? " (stopped at the time limit)" : "", res->tuner_best_gflops, res->tune_size);

    /* 3. the tuner's best few on the net's own shapes: each must give the CPU reference's results on every
     * shape when all of them use it (the tuner checked only its cube); then each product is timed direct
     * (XgemmDirect, untouched) and indirect (the tuned Xgemm), and XGEMM_MIN_INDIRECT_SIZE is chosen to make
     * the sum smallest */
    struct nncl_backend *cpu = NULL;
    s = nncl_backend_init("cpu", &cpu);
    double direct[NNCL_TUNE_MAX_SHAPES], indirect[NNCL_TUNE_MAX_SHAPES], pass = 0;
    struct ocl_tuning_set set;
    size_t best_c = TUNE_TOP_K, best_t = 1;
    double best_total = INFINITY;
    int have_direct = 0;
    char kind_wrong[2][256] = {"", ""}; /* why the first refused candidate of each kind was refused */
    for (size_t c = 0; !s && c < cand.n; c++) {
        char text[512], wrong[1024] = "";
        params_string(&cand.k[c], text, sizeof text);
        const int kind = tune_param_of(&cand.k[c], "GEMMK") == 1;
        if (kind_wrong[kind][0]) {
            /* each try costs a CLBlast compile (seconds on PoCL), or the child's limit when it hangs; one kernel's
             * wrong results (or crash, or hang) are its own bug */
            tune_progress(opt, "candidate %zu skipped: a GEMMK=%d candidate above was refused (%s) [%s]", c + 1, kind,
                          kind_wrong[kind], text);
            continue;
        }
        /* checked first in a child process when there is one to run (nncl tune: itself), so a candidate that
         * crashes, hangs or writes out of bounds never runs here; then applied and timed here */
        if (opt->isolate_exe) s = tune_isolated_check(opt->isolate_exe, text, shapes, n, opt->candidate_timeout_s, wrong,
                                                      sizeof wrong);
        if (!s && !wrong[0]) {
            make_set(st, &cand.k[c], 1, &set); /* m*n*k < 1 never: all indirect */
            s = ocl_tuning_override(st, &set);
        }
        if (!s && !wrong[0]) s = verify(cpu, be, shapes, n, wrong, sizeof wrong);
        if (!s && !wrong[0]) s = tune_bench_time(be, bn, 0, n, REPEATS, &pass, indirect);
        if (s == NNCL_ERR_CLBLAST || s == NNCL_ERR_KERNEL_BUILD) {
            snprintf(wrong, sizeof wrong, "%s", nncl_last_error()); /* CLBlast could not build or run it */
            nncl_clear_error();
            s = NNCL_OK;
        }
        if (!s && wrong[0]) {
            tune_progress(opt, "candidate %zu (%.1f GFLOP/s in the tuner) skipped: %s [%s]", c + 1,
                     tune_flop / (cand.ms[c] * 1e6), wrong, text);
            snprintf(kind_wrong[kind], sizeof kind_wrong[kind], "%s", wrong);
            continue;
        }
        if (!s && !have_direct) {
            /* 65536^3 exceeds any m*n*k here: every product direct (XgemmDirect does not depend on Xgemm's
             * parameters; a working Xgemm is set only because CLBlast builds both into one program) */
            make_set(st, &cand.k[c], 1u << 16, &set);
            s = ocl_tuning_override(st, &set);
            if (!s) s = tune_bench_time(be, bn, 0, n, REPEATS, &pass, direct);
            have_direct = 1;
        }
        if (s) break;
        double total = 0;
        const size_t t = best_threshold(shapes, n, direct, indirect, &total);
        double all_indirect = 0;
        for (size_t i = 0; i < n; i++) all_indirect += indirect[i];
        tune_progress(opt, "candidate %zu (%.1f GFLOP/s in the tuner): the net's products %.3f ms all on it, %.3f ms with "
                 "XGEMM_MIN_INDIRECT_SIZE=%zu [%s]", c + 1, tune_flop / (cand.ms[c] * 1e6), all_indirect, total, t,
                 text);
        if (total < best_total) best_total = total, best_c = c, best_t = t;
    }
    if (!s && best_c == TUNE_TOP_K) {
        char version[32];
        ocl_tuning_clblast_version(version, sizeof version);
        s = nncl_set_error(NNCL_ERR_CLBLAST, "tune: none of the tuner's best %zu configurations passes its check "
                           "on this net's products on \"%s\" (CLBlast %s; each one's reason is above); nothing was "
                           "stored. Try a larger --fraction, another --size, or another driver", cand.n,
                           ocl_tuning_device_name(st), version);
    }

    /* 4. the winner, timed as the untuned run was, and checked once more as it will run */
    if (!s) {
        make_set(st, &cand.k[best_c], best_t, &set);
        s = ocl_tuning_override(st, &set);
    }
    if (!s) s = tune_bench_time(be, bn, 0, n, REPEATS, &res->tuned_ms, NULL);
    if (!s) s = tune_bench_time(be, bn, cube, cube + 1, CUBE_REPEATS, &ms, NULL);
    char wrong[1024] = "";
    if (!s) s = verify(cpu, be, shapes, n, wrong, sizeof wrong);
    if (!s && wrong[0]) {
        s = nncl_set_error(NNCL_ERR_CLBLAST, "tune: the tuned parameters give wrong results on \"%s\" for %s; "
                           "nothing was stored", ocl_tuning_device_name(st), wrong);
    }
    nncl_backend_free(cpu);
    if (s) return s;
    res->verified = 1;
    res->tuned_gflops_1024 = cube_flop / (ms * 1e6);
    res->min_indirect_size = best_t;
    params_string(&cand.k[best_c], res->xgemm_params, sizeof res->xgemm_params);
    tune_progress(opt, "tuned: the net's products %.3f ms per step; 1024^3 product %.1f GFLOP/s", res->tuned_ms,
             res->tuned_gflops_1024);

    /* 5. kept only when it pays on the net's products */
    if (res->tuned_ms < 0.97 * res->untuned_ms) {
        s = ocl_tuning_store(&set, res->path, sizeof res->path);
        if (s) return s;
        res->stored = 1;
    } else {
        ocl_tuning_path(set.device, set.driver, res->path, sizeof res->path);
        tune_progress(opt, "not stored: the tuned parameters are not faster than CLBlast's own on this net's products");
    }
    return NNCL_OK;
}

enum nncl_status nncl_opencl_tune(const struct nncl_gemm_shape *shapes, size_t n_shapes,
                                  const struct nncl_tune_options *options, struct nncl_tune_result *out) {
    if (!shapes || !out || n_shapes == 0 || n_shapes > NNCL_TUNE_MAX_SHAPES) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_opencl_tune: give 1 to %d shapes and a result",
                              NNCL_TUNE_MAX_SHAPES);
    }
    for (size_t i = 0; i < n_shapes; i++) {
        if (!shapes[i].m || !shapes[i].n || !shapes[i].k) {
            return nncl_set_error(NNCL_ERR_SHAPE, "nncl_opencl_tune: shape %zu is %zux%zux%zu; every dimension must "
                                  "be at least 1", i, shapes[i].m, shapes[i].n, shapes[i].k);
        }
    }
    struct nncl_tune_options defaults;
    memset(&defaults, 0, sizeof defaults);
    const struct nncl_tune_options *opt = options ? options : &defaults;
    if (opt->tune_size && (opt->tune_size % 128 || opt->tune_size > 4096)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_opencl_tune: tune_size %zu must be a multiple of 128 (the "
                              "tuner's largest tile) up to 4096", opt->tune_size);
    }
    if (!(opt->candidate_timeout_s >= 0 && opt->candidate_timeout_s <= 3600)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_opencl_tune: candidate_timeout_s %g must be seconds from 0 "
                              "(the default, 300) to 3600", opt->candidate_timeout_s);
    }
    memset(out, 0, sizeof *out);
    char tuner[512];
    if (!tune_find_on_path(TUNE_TUNER_BINARY, tuner, sizeof tuner)) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: %s is not on PATH; %s", TUNE_TUNER_BINARY, TUNE_INSTALL_HINT);
    }

    /* A backend of its own, opened without the stored parameters, so "untuned" means CLBlast's own. */
    struct nncl_backend *be = NULL;
    ocl_tuning_suspend(1);
    enum nncl_status s = nncl_backend_init("opencl", &be);
    ocl_tuning_suspend(0);
    if (s) return s;
    struct ocl_state *st = ocl_tuning_state(be);
    uint64_t previous = 0;
    if (ocl_tuning_applied(st, &previous)) {
        /* CLBlast keeps overrides for the whole process: the baseline is what this process applied earlier */
        out->baseline_tuned = 1;
        nncl_log(NNCL_LOG_WARN, "tune: parameters were already applied to \"%s\" in this process; the \"untuned\" "
                 "time is theirs, not CLBlast's own", ocl_tuning_device_name(st));
    }
    snprintf(out->device, sizeof out->device, "%s", nncl_backend_device(be));

    struct tune_bench *bn = calloc(1, sizeof *bn);
    if (!bn) s = nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    uint64_t rng = 42;
    for (size_t i = 0; !s && i < n_shapes; i++) s = tune_bench_add(be, bn, &shapes[i], &rng);
    const struct nncl_gemm_shape cube = {1024, 1024, 1024, 0, 0};
    if (!s) s = tune_bench_add(be, bn, &cube, &rng);
    if (!s) s = tune_on(be, bn, shapes, n_shapes, tuner, opt, out);
    if (bn) tune_bench_free(bn);
    free(bn);
    nncl_backend_free(be);
    return s;
}
