/*
 * tune_runner.c: running CLBlast's tuner (clblast_tuner_xgemm) as a child process for nncl_opencl_tune: fork
 * and exec in a temporary directory, its output read through a pipe with poll as it comes (progress, and the
 * configurations of a variation that the time limit stops), SIGTERM then SIGKILL at the limit, its JSON
 * result files read at the end of each variation. What it keeps is the best few (struct tune_candidates).
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, poll, kill, mkdtemp, strtok_r in ISO C mode */

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tune/tune_impl.h"
#include "util/util.h"

size_t tune_param_of(const struct ocl_tuning_kernel *k, const char *name) {
    for (size_t i = 0; i < k->n_params; i++) {
        if (strcmp(k->names[i], name) == 0) return k->values[i];
    }
    return 0;
}

static int same_params(const struct ocl_tuning_kernel *a, const struct ocl_tuning_kernel *b) {
    if (a->n_params != b->n_params) return 0;
    for (size_t i = 0; i < a->n_params; i++) {
        size_t j = 0;
        while (j < b->n_params && strcmp(a->names[i], b->names[j]) != 0) j++;
        if (j == b->n_params || a->values[i] != b->values[j]) return 0;
    }
    return 1;
}

static void candidates_add(struct tune_candidates *c, double ms, const struct ocl_tuning_kernel *k) {
    if (!(ms > 0) || k->n_params == 0) return;
    size_t slot = TUNE_TOP_K, worst = TUNE_TOP_K, in_group = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (same_params(&c->k[i], k)) {
            if (ms < c->ms[i]) c->ms[i] = ms;
            slot = i;
            break;
        }
        if (tune_param_of(&c->k[i], "GEMMK") == tune_param_of(k, "GEMMK")) {
            in_group++;
            if (worst == TUNE_TOP_K || c->ms[i] > c->ms[worst]) worst = i;
        }
    }
    if (slot == TUNE_TOP_K) {
        if (in_group < TUNE_TOP_PER_GEMMK && c->n < TUNE_TOP_K) {
            slot = c->n++;
        } else if (worst < TUNE_TOP_K && ms < c->ms[worst]) {
            slot = worst;
        } else {
            return;
        }
        c->ms[slot] = ms, c->k[slot] = *k;
    }
    for (size_t i = 1; i < c->n; i++) {
        for (size_t j = i; j > 0 && c->ms[j] < c->ms[j - 1]; j--) {
            const double t = c->ms[j];
            c->ms[j] = c->ms[j - 1], c->ms[j - 1] = t;
            const struct ocl_tuning_kernel kt = c->k[j];
            c->k[j] = c->k[j - 1], c->k[j - 1] = kt;
        }
    }
}

void tune_kernel_add_param(struct ocl_tuning_kernel *k, const char *name, size_t value) {
    if (k->n_params == OCL_TUNING_MAX_PARAMS || strlen(name) >= OCL_TUNING_NAME_LEN) return;
    snprintf(k->names[k->n_params], OCL_TUNING_NAME_LEN, "%s", name);
    k->values[k->n_params++] = value;
}

/* By name, as the tuner's JSON files list them, so the stored file reads the same whichever way they came. */
static void sort_params(struct ocl_tuning_kernel *k) {
    for (size_t i = 1; i < k->n_params; i++) {
        for (size_t j = i; j > 0 && strcmp(k->names[j], k->names[j - 1]) < 0; j--) {
            char name[OCL_TUNING_NAME_LEN];
            memcpy(name, k->names[j], sizeof name);
            memcpy(k->names[j], k->names[j - 1], sizeof name);
            memcpy(k->names[j - 1], name, sizeof name);
            const size_t v = k->values[j];
            k->values[j] = k->values[j - 1], k->values[j - 1] = v;
        }
    }
}

/* One result file of the tuner (clblast_xgemm_<variation>_32.json): every configuration it timed, with its
 * time in ms; all of them go into `c`. Returns how many were read. */
static size_t read_tuner_json(const char *path, struct tune_candidates *c) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size > 0 && size < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
        const size_t got = fread(text, 1, (size_t)size, f);
        text[got] = '\0';
    }
    fclose(f);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    size_t n = 0;
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results"), *r = NULL;
    cJSON_ArrayForEach(r, results) {
        const cJSON *kernel = cJSON_GetObjectItemCaseSensitive(r, "kernel");
        const cJSON *time = cJSON_GetObjectItemCaseSensitive(r, "time");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "parameters"), *p = NULL;
        if (!cJSON_IsString(kernel) || strcmp(kernel->valuestring, "Xgemm") != 0 || !cJSON_IsNumber(time)) continue;
        struct ocl_tuning_kernel k;
        memset(&k, 0, sizeof k);
        snprintf(k.name, sizeof k.name, "Xgemm");
        cJSON_ArrayForEach(p, params) {
            /* PRECISION is the tuner's, not a kernel parameter: CLBlast's override takes the precision apart */
            if (cJSON_IsNumber(p) && p->valuedouble >= 0 && strcmp(p->string, "PRECISION") != 0) {
                tune_kernel_add_param(&k, p->string, (size_t)p->valuedouble);
            }
        }
        sort_params(&k);
        candidates_add(c, time->valuedouble, &k);
        n++;
    }
    cJSON_Delete(root);
    return n;
}

/* Removes the ANSI colour codes the tuner prints. */
static void strip_ansi(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\x1b' && r[1] == '[') {
            r += 2;
            while (*r && !isalpha((unsigned char)*r)) r++;
            if (*r) r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* What the tuner's output has said so far. */
struct tuner_watch {
    char dir[256];
    char names[OCL_TUNING_MAX_PARAMS][OCL_TUNING_NAME_LEN]; /* "* Parameters explored:", in column order */
    size_t n_names;
    char json[128];            /* "* Writing a total of N results to 'FILE'" of the running variation */
    struct tune_candidates done;    /* from the JSON files of finished variations */
    struct tune_candidates pending; /* from the table rows of the running one, in case it is stopped */
    int stage, stages;         /* "* (2/4) Tuning ..." */
    size_t stage_configs, stage_timed, timed;
    const struct nncl_tune_options *opt;
    double start_ms, last_report_ms;
};


/* A table row: "| id | total | v1 v2 ... | local | global | OK compile ms | time ms | GFLOPS | results match |". */
static void watch_row(struct tuner_watch *w, char *line) {
    char *fields[16];
    int nf = 0;
    for (char *p = line; *p && nf < 16; p++) {
        if (*p == '|') {
            *p = '\0';
            fields[nf++] = p + 1;
        }
    }
    int status = -1;
    for (int i = 0; i < nf; i++) {
        if (strstr(fields[i], "results match")) status = i;
    }
    if (status < 4 || w->n_names == 0) return;
    w->timed++, w->stage_timed++;
    struct ocl_tuning_kernel k;
    memset(&k, 0, sizeof k);
    snprintf(k.name, sizeof k.name, "Xgemm");
    char *p = fields[2];
    for (size_t i = 0; i < w->n_names; i++) {
        char *end = NULL;
        const unsigned long v = strtoul(p, &end, 10);
        if (end == p) return;
        tune_kernel_add_param(&k, w->names[i], (size_t)v);
        p = end;
    }
    const double ms = strtod(fields[status - 2], NULL);
    sort_params(&k);
    candidates_add(&w->pending, ms, &k);
}

static void watch_line(struct tuner_watch *w, char *line) {
    strip_ansi(line);
    int a = 0, b = 0;
    size_t n = 0;
    char name[128];
    if (sscanf(line, "* (%d/%d)", &a, &b) == 2) {
        /* a new variation; rows of the last one are still pending only if its JSON file could not be read */
        for (size_t i = 0; i < w->pending.n; i++) candidates_add(&w->done, w->pending.ms[i], &w->pending.k[i]);
        w->pending.n = 0;
        w->stage = a, w->stages = b, w->stage_configs = 0, w->stage_timed = 0, w->n_names = 0;
        w->json[0] = '\0';
    } else if (sscanf(line, "* Found %zu configuration", &n) == 1 ||
               sscanf(line, "* Exploring a random subset of %zu configuration", &n) == 1) {
        w->stage_configs = n; /* "Exploring" follows "Found" when the tuner samples */
    } else if (strncmp(line, "* Parameters explored:", 22) == 0) {
        w->n_names = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line + 22, " \t\r\n", &save); tok && w->n_names < OCL_TUNING_MAX_PARAMS;
             tok = strtok_r(NULL, " \t\r\n", &save)) {
            snprintf(w->names[w->n_names++], OCL_TUNING_NAME_LEN, "%s", tok);
        }
        tune_progress(w->opt, "tuner variation %d/%d: %zu configurations to time", w->stage, w->stages, w->stage_configs);
    } else if (sscanf(line, "* Writing a total of %zu results to '%127[^']'", &n, name) == 2) {
        snprintf(w->json, sizeof w->json, "%s", name);
    } else if (strncmp(line, "* Completed tuning process", 26) == 0) {
        /* the variation finished: its JSON file is the record; the rows seen were the same results */
        if (w->json[0] && !strchr(w->json, '/')) {
            char path[400];
            snprintf(path, sizeof path, "%s/%s", w->dir, w->json);
            const size_t got = read_tuner_json(path, &w->done);
            if (got) w->pending.n = 0;
        }
        w->json[0] = '\0';
    } else if (line[0] == '|') {
        watch_row(w, line);
    }
    const double t = nncl_now_ms();
    if (t - w->last_report_ms > 15000.0 && w->stage_configs) {
        w->last_report_ms = t;
        const struct tune_candidates *best = w->done.n && (!w->pending.n || w->done.ms[0] <= w->pending.ms[0])
                                            ? &w->done : &w->pending;
        tune_progress(w->opt, "tuner variation %d/%d: %zu of %zu configurations timed, %.0f s so far%s", w->stage,
                 w->stages, w->stage_timed, w->stage_configs, (t - w->start_ms) / 1e3,
                 best->n ? "" : " (none valid yet)");
    }
}

int tune_find_on_path(const char *name, char *out, size_t cap) {
    if (!out || cap == 0) return 0; /* also tells GCC's -Wformat-truncation (sanitizer builds) out is not NULL */
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        const size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len) snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        else snprintf(out, cap, "./%s", name); /* an empty PATH entry is the current directory */
        if (access(out, X_OK) == 0) return 1;
        path += len + (colon ? 1 : 0);
    }
    return 0;
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

enum nncl_status tune_run_tuner(char *tuner, int platform, int device, size_t size, double divisor,
                                const struct nncl_tune_options *opt, double limit_s, struct tune_candidates *out,
                                size_t *timed, int *stopped) {
    struct tuner_watch *w = calloc(1, sizeof *w);
    if (!w) return nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    w->opt = opt;
    const char *tmp = getenv("TMPDIR");
    snprintf(w->dir, sizeof w->dir, "%s/nncl-tune-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(w->dir)) {
        free(w);
        return nncl_set_error(NNCL_ERR_IO, "tune: cannot create a temporary directory in %s: %s; set TMPDIR to a "
                              "writable directory", tmp && *tmp ? tmp : "/tmp", strerror(errno));
    }
    /* argv built before fork: between fork and exec the child only makes async-signal-safe calls */
    char a_platform[16], a_device[16], a_size[24], a_fraction[32], stdbuf[512];
    snprintf(a_platform, sizeof a_platform, "%d", platform);
    snprintf(a_device, sizeof a_device, "%d", device);
    snprintf(a_size, sizeof a_size, "%zu", size);
    snprintf(a_fraction, sizeof a_fraction, "%.6g", divisor);
    char *const args[] = {tuner, "-platform", a_platform, "-device", a_device, "-precision", "32",
                          "-m", a_size, "-n", a_size, "-k", a_size, "-fraction", a_fraction, "-runs", "3", NULL};
    /* stdbuf -oL: the tuner's printf output is line-buffered, so rows arrive as they are timed and none are
     * lost in a buffer when it is stopped */
    const int have_stdbuf = tune_find_on_path("stdbuf", stdbuf, sizeof stdbuf);
    char *sargs[sizeof args / sizeof args[0] + 2];
    sargs[0] = stdbuf, sargs[1] = "-oL";
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) sargs[i + 2] = args[i];

    int fds[2];
    if (pipe(fds) != 0) {
        remove_dir(w->dir);
        free(w);
        return nncl_set_error(NNCL_ERR_IO, "tune: pipe: %s", strerror(errno));
    }
    const pid_t pid = fork();
    if (pid == 0) {
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        if (chdir(w->dir) != 0) _exit(126);
        if (have_stdbuf) execv(stdbuf, sargs);
        execv(tuner, args);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        remove_dir(w->dir);
        free(w);
        return nncl_set_error(NNCL_ERR_IO, "tune: cannot start %s: %s", tuner, strerror(errno));
    }

    w->start_ms = w->last_report_ms = nncl_now_ms();
    const double deadline = w->start_ms + limit_s * 1e3;
    double kill_at = 0;
    char buf[8192], last[512] = "";
    size_t used = 0;
    int killed = 0;
    for (;;) {
        const double t = nncl_now_ms();
        if (!killed && t >= deadline) {
            kill(pid, SIGTERM);
            killed = 1;
            kill_at = t + 5000.0;
        } else if (killed == 1 && t >= kill_at) {
            kill(pid, SIGKILL);
            killed = 2;
        }
        const double wait = killed ? 200.0 : fmin(1000.0, deadline - t);
        struct pollfd pfd = {fds[0], POLLIN, 0};
        const int pr = poll(&pfd, 1, (int)fmax(1.0, wait));
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        const ssize_t got = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break; /* EOF: the tuner has exited */
        used += (size_t)got;
        buf[used] = '\0';
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            if (*start) snprintf(last, sizeof last, "%s", start);
            watch_line(w, start);
            start = nl + 1;
        }
        used = strlen(start);
        memmove(buf, start, used + 1);
        if (used == sizeof buf - 1) used = 0; /* a line longer than the buffer: not one we parse */
    }
    close(fds[0]);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    remove_dir(w->dir);

    /* finished variations from their JSON files; a stopped one from its table rows */
    *out = w->done;
    for (size_t i = 0; i < w->pending.n; i++) candidates_add(out, w->pending.ms[i], &w->pending.k[i]);
    *timed = w->timed;
    *stopped = killed != 0;
    free(w);
    if (!killed && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: could not run %s; %s", tuner, TUNE_INSTALL_HINT);
    }
    if (out->n == 0) {
        strip_ansi(last);
        return nncl_set_error(NNCL_ERR_CLBLAST, "tune: %s timed no valid configuration%s (its last line: \"%s\"); "
                              "give it more time (--time-limit) or a larger --fraction, or run it by hand: %s "
                              "-platform %d -device %d -m %zu -n %zu -k %zu", TUNE_TUNER_BINARY,
                              killed ? " before the time limit" : "", last, tuner, platform, device, size, size, size);
    }
    return NNCL_OK;
}
