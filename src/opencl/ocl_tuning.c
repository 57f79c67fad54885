/*
 * ocl_tuning.c: tuned CLBlast GEMM parameters per device and driver: the file in the user's cache (path,
 * parse, atomic write) and applying it when an OpenCL backend starts (CLBlastOverrideParameters).
 * Producing the parameters is src/tune/'s job (nncl_opencl_tune), which reaches the backend only through
 * ocl_tuning.h.
 *
 * CLBlast keeps overridden parameters process-wide per device (its database cache), not per context, so a
 * record of what was applied to which device lives here too (ocl_tuning_describe).
 */
#define _POSIX_C_SOURCE 200809L /* stat in ISO C mode */

#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/atomic_file.h"
#include "util/cache_dir.h"
#include "ocl_impl.h"
#include "ocl_tuning.h"
#include "util/util.h"

/* ---- paths ------------------------------------------------------------------------------------- */

static void sanitize(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < cap; p++) {
        const unsigned char c = (unsigned char)*p;
        out[n++] = (isalnum(c) || c == '.' || c == '+' || c == '_' || c == '-') ? (char)c : '_';
    }
    out[n] = '\0';
}

void ocl_tuning_path(const char *device_name, const char *driver, char *out, size_t cap) {
    char dir[400], dev[130], drv[70];
    nncl_cache_dir("tuning", dir, sizeof dir);
    sanitize(device_name, dev, sizeof dev);
    sanitize(driver, drv, sizeof drv);
    snprintf(out, cap, "%s/%s--%s.txt", dir, dev, drv);
}

void ocl_tuning_clblast_version(char *out, size_t cap) {
    snprintf(out, cap, "%d.%d.%d", CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
}

struct ocl_state *ocl_tuning_state(struct nncl_backend *be) { return ocl_state_of(be); }

const char *ocl_tuning_device_name(const struct ocl_state *st) { return st->device_name; }

void ocl_tuning_set_init(const struct ocl_state *st, struct ocl_tuning_set *set) {
    memset(set, 0, sizeof *set);
    snprintf(set->device, sizeof set->device, "%s", st->device_name);
    snprintf(set->driver, sizeof set->driver, "%s", st->driver_version);
    ocl_tuning_clblast_version(set->clblast, sizeof set->clblast);
}

/* ---- the file ---------------------------------------------------------------------------------- */

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int is_param_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++) {
        if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_') return 0;
    }
    return 1;
}

#define FORMAT_ERROR(...) nncl_set_error(NNCL_ERR_FORMAT, __VA_ARGS__)
static const char *const fix_hint = "fix or delete the file (that untunes the device), or run `nncl tune` again";

enum nncl_status ocl_tuning_load(const char *path, struct ocl_tuning_set *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return nncl_set_error(NNCL_ERR_IO, "tuning: cannot open %s: %s", path, strerror(errno));
    char line[512];
    int lineno = 0;
    enum nncl_status st = NNCL_OK;
    struct ocl_tuning_kernel *k = NULL;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = FORMAT_ERROR("%s:%d: line longer than %zu characters; %s", path, lineno, sizeof line - 2, fix_hint);
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *value = s;
        while (*value && !isspace((unsigned char)*value)) value++;
        if (*value) *value++ = '\0';
        value = trim(value);
        if (!*value) {
            st = FORMAT_ERROR("%s:%d: \"%s\" has no value; %s", path, lineno, s, fix_hint);
        } else if (strcmp(s, "device") == 0) {
            snprintf(out->device, sizeof out->device, "%s", value);
        } else if (strcmp(s, "driver") == 0) {
            snprintf(out->driver, sizeof out->driver, "%s", value);
        } else if (strcmp(s, "clblast") == 0) {
            snprintf(out->clblast, sizeof out->clblast, "%s", value);
        } else if (strcmp(s, "kernel") == 0) {
            if (out->n_kernels == OCL_TUNING_MAX_KERNELS || strlen(value) >= OCL_TUNING_NAME_LEN) {
                st = FORMAT_ERROR("%s:%d: more than %d kernels, or a kernel name longer than %d characters; %s", path,
                                  lineno, OCL_TUNING_MAX_KERNELS, OCL_TUNING_NAME_LEN - 1, fix_hint);
            } else {
                k = &out->kernels[out->n_kernels++];
                snprintf(k->name, sizeof k->name, "%s", value);
            }
        } else if (is_param_name(s)) {
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(value, &end, 10);
            if (!k) {
                st = FORMAT_ERROR("%s:%d: parameter %s comes before any \"kernel NAME\" line; %s", path, lineno, s,
                                  fix_hint);
            } else if (*end || errno || !isdigit((unsigned char)value[0])) {
                st = FORMAT_ERROR("%s:%d: %s \"%s\": expected a whole number; %s", path, lineno, s, value, fix_hint);
            } else if (k->n_params == OCL_TUNING_MAX_PARAMS || strlen(s) >= OCL_TUNING_NAME_LEN) {
                st = FORMAT_ERROR("%s:%d: kernel %s has more than %d parameters, or %s is too long; %s", path, lineno,
                                  k->name, OCL_TUNING_MAX_PARAMS, s, fix_hint);
            } else {
                snprintf(k->names[k->n_params], OCL_TUNING_NAME_LEN, "%s", s);
                k->values[k->n_params++] = (size_t)v;
            }
        } else {
            st = FORMAT_ERROR("%s:%d: unknown key \"%s\" (expected device, driver, clblast, kernel or an upper-case "
                              "parameter name); %s", path, lineno, s, fix_hint);
        }
    }
    if (!st && ferror(f)) st = nncl_set_error(NNCL_ERR_IO, "tuning: error reading %s", path);
    fclose(f);
    if (st) return st;
    if (!out->device[0] || !out->driver[0] || !out->clblast[0]) {
        return FORMAT_ERROR("%s: the device, driver and clblast lines are required; %s", path, fix_hint);
    }
    for (size_t i = 0; i < out->n_kernels; i++) {
        if (out->kernels[i].n_params == 0) {
            return FORMAT_ERROR("%s: kernel %s has no parameters; %s", path, out->kernels[i].name, fix_hint);
        }
    }
    return NNCL_OK;
}

/* The file's text (an nncl_write_fn). */
static int write_set(FILE *f, const void *user) {
    const struct ocl_tuning_set *set = user;
    fprintf(f, "# CLBlast GEMM parameters for this device and driver, written by `nncl tune`.\n"
               "# Every OpenCL backend on this device applies them at start. Delete this file to untune.\n");
    fprintf(f, "device %s\ndriver %s\nclblast %s\n", set->device, set->driver, set->clblast);
    for (size_t i = 0; i < set->n_kernels; i++) {
        const struct ocl_tuning_kernel *k = &set->kernels[i];
        fprintf(f, "kernel %s\n", k->name);
        for (size_t p = 0; p < k->n_params; p++) fprintf(f, "%s %zu\n", k->names[p], k->values[p]);
    }
    return !ferror(f);
}

enum nncl_status ocl_tuning_store(const struct ocl_tuning_set *set, char *path_out, size_t path_cap) {
    char path[600], dir[400];
    ocl_tuning_path(set->device, set->driver, path, sizeof path);
    nncl_cache_dir("tuning", dir, sizeof dir);
    enum nncl_status st = nncl_make_dirs(dir);
    if (!st) st = nncl_atomic_replace(path, "tuning: ", write_set, set);
    if (st) return st;
    if (path_out) snprintf(path_out, path_cap, "%s", path);
    return NNCL_OK;
}

/* ---- applying ---------------------------------------------------------------------------------- */

/* What this process has handed to CLBlast, per device (CLBlast's overrides outlive contexts). */
#define MAX_RECORDS 16
static struct {
    cl_device_id device;
    uint64_t hash;
} records[MAX_RECORDS];
static size_t n_records;
static int apply_suspended; /* set while nncl_opencl_tune measures CLBlast's own parameters */
static pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t set_hash(const struct ocl_tuning_set *set) {
    uint64_t h = NNCL_FNV1A_INIT;
    for (size_t i = 0; i < set->n_kernels; i++) {
        h = nncl_fnv1a_str(h, set->kernels[i].name);
        for (size_t p = 0; p < set->kernels[i].n_params; p++) {
            char v[32];
            snprintf(v, sizeof v, "%zu", set->kernels[i].values[p]);
            h = nncl_fnv1a_str(nncl_fnv1a_str(h, set->kernels[i].names[p]), v);
        }
    }
    return h;
}

static void record_applied(cl_device_id device, uint64_t hash) {
    pthread_mutex_lock(&records_lock);
    size_t i = 0;
    while (i < n_records && records[i].device != device) i++;
    if (i == n_records && n_records < MAX_RECORDS) n_records++;
    if (i < MAX_RECORDS) records[i].device = device, records[i].hash = hash;
    pthread_mutex_unlock(&records_lock);
}

static int find_record(cl_device_id device, uint64_t *hash) {
    pthread_mutex_lock(&records_lock);
    int found = 0;
    for (size_t i = 0; i < n_records; i++) {
        if (records[i].device == device) found = 1, *hash = records[i].hash;
    }
    pthread_mutex_unlock(&records_lock);
    return found;
}

enum nncl_status ocl_tuning_override(struct ocl_state *st, const struct ocl_tuning_set *set) {
    for (size_t i = 0; i < set->n_kernels; i++) {
        const struct ocl_tuning_kernel *k = &set->kernels[i];
        const char *names[OCL_TUNING_MAX_PARAMS];
        for (size_t p = 0; p < k->n_params; p++) names[p] = k->names[p];
        CLBlastStatusCode code = CLBlastOverrideParameters(st->device, k->name, CLBlastPrecisionSingle, k->n_params,
                                                           names, k->values);
        if (code != CLBlastSuccess) {
            return nncl_set_error(NNCL_ERR_CLBLAST, "tuning: CLBlastOverrideParameters(\"%s\", %zu parameters) on "
                                  "\"%s\" failed with %s (%d): CLBlast %d.%d.%d expects other or more parameters "
                                  "for this kernel", k->name, k->n_params, st->device_name,
                                  nncl_clblast_error_name((int)code), (int)code, CLBLAST_VERSION_MAJOR,
                                  CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
        }
    }
    record_applied(st->device, set_hash(set));
    return NNCL_OK;
}

/* What a tuning file means for a device (check_file). */
enum file_state {
    FILE_MALFORMED = -2, /* unreadable or malformed: an error at backend start */
    FILE_STALE = -1,     /* written for another device, driver or CLBlast: skipped with a warning */
    FILE_NONE = 0,
    FILE_APPLIES = 1,
};

static enum file_state check_file(const char *device_name, const char *driver, char *path, size_t path_cap,
                                  struct ocl_tuning_set *set, char *why, size_t why_cap, enum nncl_status *load) {
    ocl_tuning_path(device_name, driver, path, path_cap);
    struct stat sb;
    if (stat(path, &sb) != 0) return FILE_NONE;
    *load = ocl_tuning_load(path, set);
    if (*load != NNCL_OK) {
        snprintf(why, why_cap, "%s", nncl_last_error());
        return FILE_MALFORMED;
    }
    char version[32];
    ocl_tuning_clblast_version(version, sizeof version);
    if (strcmp(set->device, device_name) != 0 || strcmp(set->driver, driver) != 0) {
        snprintf(why, why_cap, "%s was tuned on \"%s\" driver %s, not on this device; run `nncl tune` again", path,
                 set->device, set->driver);
        return FILE_STALE;
    }
    if (strcmp(set->clblast, version) != 0) {
        snprintf(why, why_cap, "%s was tuned with CLBlast %s, this is CLBlast %s; run `nncl tune` again", path,
                 set->clblast, version);
        return FILE_STALE;
    }
    return FILE_APPLIES;
}

int ocl_tuning_available(const char *device_name, const char *driver) {
    char path[600], why[1024];
    struct ocl_tuning_set set;
    enum nncl_status load = NNCL_OK;
    const enum file_state r = check_file(device_name, driver, path, sizeof path, &set, why, sizeof why, &load);
    nncl_clear_error();
    return r == FILE_APPLIES ? 1 : r == FILE_NONE ? 0 : -1;
}

int nncl_opencl_device_tuned(const struct nncl_device_info *dev, char *path, size_t cap) {
    if (!dev) return 0;
    if (path && cap) ocl_tuning_path(dev->name, dev->driver, path, cap);
    return ocl_tuning_available(dev->name, dev->driver);
}

enum nncl_status ocl_tuning_apply(struct ocl_state *st, int *applied) {
    *applied = 0;
    pthread_mutex_lock(&records_lock);
    const int suspended = apply_suspended;
    pthread_mutex_unlock(&records_lock);
    if (suspended) return NNCL_OK;
    /* Benchmarks compare tuned and untuned in one run; a user can rule out the tuning without deleting it. */
    const char *knob = getenv("NNCL_CLBLAST_TUNING");
    if (knob && (strcmp(knob, "off") == 0 || strcmp(knob, "0") == 0)) {
        nncl_log(NNCL_LOG_INFO, "tuning: NNCL_CLBLAST_TUNING=%s: CLBlast's own parameters", knob);
        return NNCL_OK;
    }
    char path[600], why[1024];
    struct ocl_tuning_set set;
    enum nncl_status load = NNCL_OK;
    switch (check_file(st->device_name, st->driver_version, path, sizeof path, &set, why, sizeof why, &load)) {
    case FILE_NONE: return NNCL_OK;
    case FILE_STALE:
        /* training still works with CLBlast's own parameters, only slower: a warning, not an error */
        nncl_log(NNCL_LOG_WARN, "tuning: not applied: %s", why);
        return NNCL_OK;
    case FILE_MALFORMED: return nncl_set_error(load, "%s", why); /* the message names the file, line and fix */
    case FILE_APPLIES: break;
    }
    enum nncl_status s = ocl_tuning_override(st, &set);
    if (s) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", nncl_last_error());
        return nncl_set_error(s, "%s (from %s); delete the file to untune, or run `nncl tune` again", detail, path);
    }
    *applied = 1;
    nncl_log(NNCL_LOG_INFO, "tuning: applied CLBlast parameters from %s", path);
    return NNCL_OK;
}

void ocl_tuning_describe(const struct ocl_state *st, char *out, size_t cap) {
    uint64_t h = 0;
    if (find_record(st->device, &h)) snprintf(out, cap, "tuned (fnv1a:%016llx)", (unsigned long long)h);
    else snprintf(out, cap, "untuned");
}

int ocl_tuning_applied(const struct ocl_state *st, uint64_t *hash) { return find_record(st->device, hash); }

void ocl_tuning_suspend(int on) {
    pthread_mutex_lock(&records_lock);
    apply_suspended = on;
    pthread_mutex_unlock(&records_lock);
}
