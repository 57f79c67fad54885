/*
 * test_tuning.c: the `nncl tune` parameter files (src/opencl/ocl_tuning.c): where they go, that what is
 * stored reads back, that every malformed line is refused naming the file, line and fix, that a file for
 * another CLBlast is skipped rather than applied, and, on a device, that a backend applies a file at start
 * (its versions say "tuned"), still multiplies correctly with it, and refuses one CLBlast rejects.
 * Running the tuner itself takes minutes and is left to `nncl tune` and the benchmarks (docs/tuning.md).
 * Each Criterion test runs in a process of its own, so the cache directory set here and CLBlast's
 * process-wide overrides do not leak from one test into the next.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cache_dir.h"
#include "opencl/ocl_tuning.h"
#include "test_util.h"

/* A fresh cache directory for this test's process: XDG_CACHE_HOME points at it. */
static char cache_dir[] = "/tmp/nncl-test-tuning-XXXXXX";

/* Every test's .fini, pass or fail: a run leaves no folder behind (Criterion's workers skip atexit). */
static void remove_cache(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    if (system(cmd) != 0) fprintf(stderr, "test_tuning: could not remove %s\n", cache_dir);
}

static void fresh_cache(void) {
    cr_assert(mkdtemp(cache_dir), "mkdtemp");
    setenv("XDG_CACHE_HOME", cache_dir, 1);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Writes `body` after the three header lines into a scratch file and loads it. */
static enum nncl_status load_text(const char *body, struct ocl_tuning_set *set, char *path, size_t cap) {
    snprintf(path, cap, "%s/tuning-case.txt", getenv("XDG_CACHE_HOME"));
    char text[4096];
    snprintf(text, sizeof text, "# a comment\ndevice Some Device\ndriver 1.0\nclblast 1.5.3\n%s", body);
    write_text(path, text);
    return ocl_tuning_load(path, set);
}

Test(tuning, path_is_in_the_cache_and_names_device_and_driver, .fini = remove_cache) {
    fresh_cache();
    char path[600];
    ocl_tuning_path("pthread-skylake AMD EPYC/9R14", "3.1+debian", path, sizeof path);
    char want[600];
    snprintf(want, sizeof want, "%s/nncl/tuning/pthread-skylake_AMD_EPYC_9R14--3.1+debian.txt", getenv("XDG_CACHE_HOME"));
    cr_assert_str_eq(path, want, "no '/' or space of a device name may reach the file system");
}

Test(tuning, stored_set_reads_back_and_counts_as_available, .fini = remove_cache) {
    fresh_cache();
    struct ocl_tuning_set set;
    memset(&set, 0, sizeof set);
    snprintf(set.device, sizeof set.device, "Test Device");
    snprintf(set.driver, sizeof set.driver, "9.9");
    ocl_tuning_clblast_version(set.clblast, sizeof set.clblast);
    set.n_kernels = 2;
    snprintf(set.kernels[0].name, OCL_TUNING_NAME_LEN, "Xgemm");
    snprintf(set.kernels[0].names[0], OCL_TUNING_NAME_LEN, "KWG");
    set.kernels[0].values[0] = 32;
    snprintf(set.kernels[0].names[1], OCL_TUNING_NAME_LEN, "MWG");
    set.kernels[0].values[1] = 128;
    set.kernels[0].n_params = 2;
    snprintf(set.kernels[1].name, OCL_TUNING_NAME_LEN, "GemmRoutine");
    snprintf(set.kernels[1].names[0], OCL_TUNING_NAME_LEN, "XGEMM_MIN_INDIRECT_SIZE");
    set.kernels[1].values[0] = 55;
    set.kernels[1].n_params = 1;

    cr_assert_eq(ocl_tuning_available("Test Device", "9.9"), 0, "no file yet");
    char path[600];
    tu_ok(ocl_tuning_store(&set, path, sizeof path), "store");
    cr_assert(strstr(path, getenv("XDG_CACHE_HOME")), "stored in the cache: %s", path);
    struct ocl_tuning_set back;
    tu_ok(ocl_tuning_load(path, &back), "load");
    cr_assert_str_eq(back.device, "Test Device");
    cr_assert_str_eq(back.driver, "9.9");
    cr_assert_str_eq(back.clblast, set.clblast);
    cr_assert_eq(back.n_kernels, 2);
    cr_assert_str_eq(back.kernels[0].name, "Xgemm");
    cr_assert_eq(back.kernels[0].n_params, 2);
    cr_assert_str_eq(back.kernels[0].names[1], "MWG");
    cr_assert_eq(back.kernels[0].values[1], 128);
    cr_assert_eq(back.kernels[1].values[0], 55);
    cr_assert_eq(ocl_tuning_available("Test Device", "9.9"), 1);
    cr_assert_eq(ocl_tuning_available("Test Device", "9.8"), 0, "another driver has a file of its own");

    /* the same file claiming another CLBlast: present, but not applied */
    snprintf(set.clblast, sizeof set.clblast, "0.0.1");
    tu_ok(ocl_tuning_store(&set, NULL, 0), "store");
    cr_assert_eq(ocl_tuning_available("Test Device", "9.9"), -1);
}

Test(tuning, malformed_lines_name_file_line_and_fix, .fini = remove_cache) {
    fresh_cache();
    struct ocl_tuning_set set;
    char path[600];
    ASSERT_ERROR(load_text("kernel Xgemm\nKWG 32\nfrobnicate 3\n", &set, path, sizeof path), NNCL_ERR_FORMAT,
                 "tuning-case.txt:7", "unknown key \"frobnicate\"", "nncl tune");
    ASSERT_ERROR(load_text("kernel Xgemm\nKWG 3x2\n", &set, path, sizeof path), NNCL_ERR_FORMAT, "tuning-case.txt:6",
                 "KWG \"3x2\"", "whole number");
    ASSERT_ERROR(load_text("kernel Xgemm\nKWG -1\n", &set, path, sizeof path), NNCL_ERR_FORMAT, ":6", "whole number");
    ASSERT_ERROR(load_text("KWG 32\nkernel Xgemm\n", &set, path, sizeof path), NNCL_ERR_FORMAT, ":5",
                 "before any \"kernel NAME\"");
    ASSERT_ERROR(load_text("kernel Xgemm\nKWG\n", &set, path, sizeof path), NNCL_ERR_FORMAT, ":6", "no value");
    ASSERT_ERROR(load_text("kernel Xgemm\n", &set, path, sizeof path), NNCL_ERR_FORMAT, "kernel Xgemm has no "
                 "parameters");
    ASSERT_ERROR(load_text("kernel A\nP 1\nkernel B\nP 1\nkernel C\nP 1\nkernel D\nP 1\nkernel E\nP 1\n", &set, path,
                         sizeof path),
                 NNCL_ERR_FORMAT, ":13", "more than 4 kernels");
    char many[2048] = "kernel Xgemm\n";
    for (int i = 0; i <= OCL_TUNING_MAX_PARAMS; i++) {
        char line[32];
        snprintf(line, sizeof line, "P%d 1\n", i);
        strcat(many, line);
    }
    ASSERT_ERROR(load_text(many, &set, path, sizeof path), NNCL_ERR_FORMAT, "more than 32 parameters");

    snprintf(path, sizeof path, "%s/headless.txt", getenv("XDG_CACHE_HOME"));
    write_text(path, "kernel Xgemm\nKWG 32\n");
    ASSERT_ERROR(ocl_tuning_load(path, &set), NNCL_ERR_FORMAT, "headless.txt", "device, driver and clblast lines");
    ASSERT_ERROR(ocl_tuning_load("/nonexistent/tuning.txt", &set), NNCL_ERR_IO, "/nonexistent/tuning.txt");
}

/* A tuning file for the device "opencl" opens, with `xgemm` as the Xgemm lines and `clblast` (NULL: the
 * installed one) as its CLBlast version; nncl_opencl_device_tuned must then say `expect_tuned`. */
static void write_device_file(const char *xgemm, const char *clblast, int expect_tuned) {
    struct nncl_device_info infos[16];
    size_t count = 0;
    tu_ok(nncl_opencl_list_devices(infos, 16, &count), "list_devices");
    const struct nncl_device_info *sel = NULL;
    for (size_t i = 0; i < count && i < 16; i++) {
        if (infos[i].is_selected) sel = &infos[i];
    }
    cr_assert(sel, "no selected device");
    char path[600], dir[400], version[32], text[2048];
    ocl_tuning_path(sel->name, sel->driver, path, sizeof path);
    ocl_tuning_clblast_version(version, sizeof version);
    nncl_cache_dir("tuning", dir, sizeof dir);
    tu_ok(nncl_make_dirs(dir), "mkdir -p");
    snprintf(text, sizeof text, "device %s\ndriver %s\nclblast %s\nkernel Xgemm\n%skernel GemmRoutine\n"
             "XGEMM_MIN_INDIRECT_SIZE 1\n", sel->name, sel->driver, clblast ? clblast : version, xgemm);
    write_text(path, text);
    cr_assert_eq(nncl_opencl_device_tuned(sel, NULL, 0), expect_tuned);
}

/* Small, conservative Xgemm parameters every OpenCL 1.2 device can run (no local-memory caching, no
 * vectors). XGEMM_MIN_INDIRECT_SIZE 1 sends every product, however small, through this kernel. */
static const char *const SAFE_XGEMM = "GEMMK 0\nKREG 1\nKWG 16\nKWI 2\nMDIMA 8\nMDIMC 8\nMWG 16\nNDIMB 8\n"
                                      "NDIMC 8\nNWG 16\nSA 0\nSB 0\nSTRM 0\nSTRN 0\nVWM 1\nVWN 1\n";

Test(tuning, backend_applies_the_file_and_still_multiplies_correctly, .fini = remove_cache) {
    fresh_cache();
    nncl_backend_free(tu_device_or_skip());
    write_device_file(SAFE_XGEMM, NULL, 1);
    struct nncl_backend *dev = tu_device_or_skip();
    cr_assert(strstr(nncl_backend_versions(dev), "tuned (fnv1a:"), "versions: %s", nncl_backend_versions(dev));
    struct nncl_backend *cpu = tu_backend("cpu");
    /* odd sizes, both transposes: the shapes a tuned kernel's padding and tiling must get right */
    const size_t m = 37, n = 29, k = 45;
    struct tu_rng rng = {7};
    float a[37 * 45], b[45 * 29], ref[37 * 29], got[37 * 29];
    tu_fill_uniform(&rng, a, m * k, -1.0f, 1.0f);
    tu_fill_uniform(&rng, b, k * n, -1.0f, 1.0f);
    for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
            struct nncl_tensor ca = ta ? tu_tensor(cpu, k, m, a) : tu_tensor(cpu, m, k, a);
            struct nncl_tensor cb = tb ? tu_tensor(cpu, n, k, b) : tu_tensor(cpu, k, n, b);
            struct nncl_tensor cc = tu_tensor(cpu, m, n, NULL);
            struct nncl_tensor da = ta ? tu_tensor(dev, k, m, a) : tu_tensor(dev, m, k, a);
            struct nncl_tensor db = tb ? tu_tensor(dev, n, k, b) : tu_tensor(dev, k, n, b);
            struct nncl_tensor dc = tu_tensor(dev, m, n, NULL);
            tu_ok(nncl_op_gemm(cpu, ta, tb, 1.0f, &ca, &cb, 0.0f, &cc), "cpu gemm");
            tu_ok(nncl_op_gemm(dev, ta, tb, 1.0f, &da, &db, 0.0f, &dc), "tuned gemm");
            tu_get(&cc, ref);
            tu_get(&dc, got);
            char what[64];
            snprintf(what, sizeof what, "tuned gemm ta=%d tb=%d", ta, tb);
            tu_assert_close(ref, got, m * n, n, (struct tu_tol){1e-5, 1e-5}, what);
        }
    }
    tu_free_all();
}

Test(tuning, file_for_another_clblast_is_skipped, .fini = remove_cache) {
    fresh_cache();
    nncl_backend_free(tu_device_or_skip());
    write_device_file(SAFE_XGEMM, "0.0.1", -1);
    struct nncl_backend *dev = tu_device_or_skip();
    cr_assert(strstr(nncl_backend_versions(dev), "untuned"), "versions: %s", nncl_backend_versions(dev));
    nncl_backend_free(dev);
}

Test(tuning, file_clblast_refuses_stops_the_backend_naming_it, .fini = remove_cache) {
    fresh_cache();
    nncl_backend_free(tu_device_or_skip());
    write_device_file("KWG 16\n", NULL, 1); /* 1 of Xgemm's 16 parameters */
    struct nncl_backend *dev = NULL;
    ASSERT_ERROR(nncl_backend_init("opencl", &dev), NNCL_ERR_CLBLAST, "Xgemm", "nncl/tuning/", "delete the file");
    cr_assert_null(dev);
}

Test(tuning, malformed_file_stops_the_backend_naming_file_and_line, .fini = remove_cache) {
    fresh_cache();
    nncl_backend_free(tu_device_or_skip());
    write_device_file("KWG sixteen\n", NULL, -1);
    struct nncl_backend *dev = NULL;
    ASSERT_ERROR(nncl_backend_init("opencl", &dev), NNCL_ERR_FORMAT, ".txt:5", "KWG \"sixteen\"");
    cr_assert_null(dev);
}
