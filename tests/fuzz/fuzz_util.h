/*
 * fuzz_util.h: what every libFuzzer target in tests/fuzz/ shares: a private scratch folder for the
 * files the loaders read (they take paths, not buffers), writing an input there plain or through
 * zlib's gzip writer, and a check that a refused input always leaves a message.
 *
 * Header-only (static functions) so that each target stays one translation unit plus the library
 * sources that run_fuzzers.sh compiles in; no CMake target is involved.
 */
#ifndef NNCL_FUZZ_UTIL_H
#define NNCL_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L /* mkdtemp, getpid */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nncl/nncl_status.h"

/* At most this many scratch files per target (images + labels for IDX); their names are fixed. */
#define FUZZ_MAX_FILES 4

static char fuzz_dir[512];
static char fuzz_files[FUZZ_MAX_FILES][600];

/* Removes what this process wrote; a crashing run skips it, which is why the folder is per process. */
static inline void fuzz_cleanup(void) {
    for (int i = 0; i < FUZZ_MAX_FILES; i++) {
        if (fuzz_files[i][0]) unlink(fuzz_files[i]);
    }
    if (fuzz_dir[0]) rmdir(fuzz_dir);
}

/* Tries to create "<base>/nncl-fuzz-XXXXXX"; 1 on success. */
static inline int fuzz_try_dir(const char *base) {
    if (!base || !base[0]) return 0;
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/nncl-fuzz-XXXXXX", base);
    if (mkdtemp(fuzz_dir)) return 1;
    fuzz_dir[0] = '\0';
    return 0;
}

/*
 * Creates this process's scratch folder once: $NNCL_FUZZ_TMPDIR (run_fuzzers.sh points it into its build
 * folder so that it can clean up after crashes), else /dev/shm (memory, so millions of small writes do
 * not touch a disk), else $TMPDIR or /tmp. One folder per process keeps parallel -jobs/-fork workers
 * from overwriting each other's files. Exits when none can be made: every input would fail to load,
 * and the fuzzer would report coverage of the error path only.
 */
static inline void fuzz_init_dir(void) {
    if (fuzz_dir[0]) return;
    if (!fuzz_try_dir(getenv("NNCL_FUZZ_TMPDIR")) && !fuzz_try_dir("/dev/shm") && !fuzz_try_dir(getenv("TMPDIR")) &&
        !fuzz_try_dir("/tmp")) {
        fprintf(stderr, "fuzz: cannot create a scratch folder in $NNCL_FUZZ_TMPDIR, /dev/shm, $TMPDIR or /tmp; "
                        "set NNCL_FUZZ_TMPDIR to a writable folder\n");
        exit(1);
    }
    atexit(fuzz_cleanup);
    /* Refused inputs are the common case; their messages would drown libFuzzer's own output. */
    nncl_log_set_level(NNCL_LOG_NONE);
}

/* Aborts with a message naming the target: libFuzzer then saves the input as a crash. */
static inline void fuzz_fail(const char *target, const char *what) {
    fprintf(stderr, "%s: %s\n", target, what);
    abort();
}

/*
 * Writes data[0, size) to scratch file `slot` (0 .. FUZZ_MAX_FILES-1), through gzwrite when `gzip` is
 * set, and returns its path. A failing write is an environment problem (a full /dev/shm), not a finding,
 * so it exits rather than aborts.
 */
static inline const char *fuzz_write(int slot, const char *suffix, const uint8_t *data, size_t size, int gzip) {
    fuzz_init_dir();
    char *path = fuzz_files[slot];
    snprintf(path, sizeof fuzz_files[slot], "%s/input%d%s", fuzz_dir, slot, suffix);
    int ok;
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        ok = gz != NULL;
        /* gzwrite(.., 0) is an error in zlib; an empty payload is a valid empty gzip stream */
        if (ok && size) ok = gzwrite(gz, data, (unsigned)size) == (int)size;
        if (gz && gzclose(gz) != Z_OK) ok = 0;
    } else {
        FILE *f = fopen(path, "wb");
        ok = f != NULL;
        if (ok && size) ok = fwrite(data, 1, size, f) == size;
        if (f && fclose(f) != 0) ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "fuzz: cannot write %s (is the scratch folder full?)\n", path);
        exit(1);
    }
    return path;
}

/* Every refusal must say why: a loader that returns an error with an empty message is a bug too. */
static inline void fuzz_check_refusal(const char *target, enum nncl_status st) {
    if (st != NNCL_OK && nncl_last_error()[0] == '\0') fuzz_fail(target, "an error status without a message");
}

#endif /* NNCL_FUZZ_UTIL_H */
