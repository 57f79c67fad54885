/*
 * ocl_tuner.c: nncl_opencl_tune, which runs CLBlast's tuner (clblast_tuner_xgemm from Debian's clblast-utils)
 * for the selected device and keeps what makes a net's own matrix products fastest; the file it writes and
 * how the backend applies it are ocl_tuning.c's job.
 *
 * Why run the tuner binary instead of timing configurations ourselves: it knows the kernel's parameter
 * space and its constraints for the installed CLBlast version, and checks every configuration's result.
 * We only pick a few of its best on the net's own shapes, choose XGEMM_MIN_INDIRECT_SIZE (which products
 * use the tuned kernel rather than the "direct" one), check the winner against the CPU reference and store.
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, poll, kill, mkdtemp, clock_gettime in ISO C mode */

#include <cjson/cJSON.h>
#include <clblast_c.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "ocl_impl.h"
#include "ocl_tuning.h"
#include "random_impl.h"
#include "util/util.h"

#define TUNER_BINARY "clblast_tuner_xgemm"
#define INSTALL_HINT "install Debian's clblast-utils (bash cmake/install_deps.sh --bench)"

/* ---- timing the net's products ------------------------------------------------------------------ */

/* The fastest of n runs: on a machine shared with other work, noise only ever adds time, so the minimum is
 * the steadiest estimate of what the device can do, for the untuned and the tuned runs alike. */
static double fastest(const double *v, size_t n) {
    double m = v[0];
    for (size_t i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}

/* Tensors for every shape (one buffer each: a, b, c), filled with random numbers. */
struct bench {
    size_t n;
    struct nncl_buffer *buf[NNCL_TUNE_MAX_SHAPES + 1];
    struct nncl_tensor a[NNCL_TUNE_MAX_SHAPES + 1], b[NNCL_TUNE_MAX_SHAPES + 1], c[NNCL_TUNE_MAX_SHAPES + 1];
    int ta[NNCL_TUNE_MAX_SHAPES + 1], tb[NNCL_TUNE_MAX_SHAPES + 1];
};

static void bench_free(struct bench *b) {
    for (size_t i = 0; i < b->n; i++) nncl_buffer_free(b->buf[i]);
    b->n = 0;
}

static enum nncl_status bench_add(struct nncl_backend *be, struct bench *bn, const struct nncl_gemm_shape *s,
                                  uint64_t *rng) {
    const size_t i = bn->n;
    const size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
    enum nncl_status st = nncl_buffer_alloc(be, (na + nb + nc) * sizeof(float), &bn->buf[i]);
    if (st) return st;
    bn->n++;
    bn->a[i] = s->trans_a ? nncl_tensor_view(bn->buf[i], 0, s->k, s->m) : nncl_tensor_view(bn->buf[i], 0, s->m, s->k);
    bn->b[i] = s->trans_b ? nncl_tensor_view(bn->buf[i], na, s->n, s->k) : nncl_tensor_view(bn->buf[i], na, s->k, s->n);
    bn->c[i] = nncl_tensor_view(bn->buf[i], na + nb, s->m, s->n);
    bn->ta[i] = s->trans_a, bn->tb[i] = s->trans_b;
    float *host = malloc((na + nb) * sizeof(float));
    if (!host) return nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    for (size_t j = 0; j < na + nb; j++) {
        host[j] = (float)(nncl_random_unit(rng) - 0.5); /* [-0.5, 0.5) */
    }
    st = nncl_tensor_set(&bn->a[i], host, na);
    if (!st) st = nncl_tensor_set(&bn->b[i], host + na, nb);
    free(host);
    return st;
}

static enum nncl_status bench_gemm(struct nncl_backend *be, const struct bench *bn, size_t i) {
    return nncl_op_gemm(be, bn->ta[i], bn->tb[i], 1.0f, &bn->a[i], &bn->b[i], 0.0f, &bn->c[i]);
}

/*
 * Times products [first, last) of `bn`: `pass_ms` the fastest of `repeats` runs of all of them queued back to
 * back with one wait at the end (as a training step queues them); `each_ms` (may be NULL) each one alone.
 * One untimed pass first, so CLBlast's compile (seconds on PoCL) is not counted.
 */
static enum nncl_status bench_time(struct nncl_backend *be, const struct bench *bn, size_t first, size_t last,
                                   int repeats, double *pass_ms, double *each_ms) {
    enum nncl_status st = NNCL_OK;
    double *samples = malloc((size_t)repeats * sizeof(double));
    if (!samples) return nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    for (size_t i = first; !st && i < last; i++) st = bench_gemm(be, bn, i);
    if (!st) st = nncl_backend_synchronize(be);
    for (int r = 0; !st && r < repeats; r++) {
        const double t0 = nncl_now_ms();
        for (size_t i = first; !st && i < last; i++) st = bench_gemm(be, bn, i);
        if (!st) st = nncl_backend_synchronize(be);
        samples[r] = nncl_now_ms() - t0;
    }
    if (!st) *pass_ms = fastest(samples, (size_t)repeats);
    for (size_t i = first; each_ms && !st && i < last; i++) {
        for (int r = 0; !st && r < repeats; r++) {
            const double t0 = nncl_now_ms();
            st = bench_gemm(be, bn, i);
            if (!st) st = nncl_backend_synchronize(be);
            samples[r] = nncl_now_ms() - t0;
        }
        if (!st) each_ms[i - first] = fastest(samples, (size_t)repeats);
    }
    free(samples);
    return st;
}

/* ---- running CLBlast's tuner --------------------------------------------------------------------- */

/* The tuner's best few configurations, fastest first: at most TOP_PER_GEMMK for each of its two kernels
 * (GEMMK 0 and 1), so that if one kernel's configurations prove wrong on the net's shapes (it happens: the
 * tuner checks only its own cube, and with CLBlast 1.5.3 on PoCL 3.1 the GEMMK=1 ones gave garbage on the
 * Fashion-MNIST shapes) the other's are still there. Three of a kind, because the tuner's order on its
 * cube is not the order on a net's products: on PoCL its third best was the fastest on the net. */
#define TOP_PER_GEMMK 3
#define TOP_K (2 * TOP_PER_GEMMK)
struct candidates {
    size_t n;
    double ms[TOP_K];
    struct ocl_tuning_kernel k[TOP_K];
};

static size_t param_of(const struct ocl_tuning_kernel *k, const char *name) {
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

static void candidates_add(struct candidates *c, double ms, const struct ocl_tuning_kernel *k) {
    if (!(ms > 0) || k->n_params == 0) return;
    size_t slot = TOP_K, worst = TOP_K, in_group = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (same_params(&c->k[i], k)) {
            if (ms < c->ms[i]) c->ms[i] = ms;
            slot = i;
            break;
        }
        if (param_of(&c->k[i], "GEMMK") == param_of(k, "GEMMK")) {
            in_group++;
            if (worst == TOP_K || c->ms[i] > c->ms[worst]) worst = i;
        }
    }
    if (slot == TOP_K) {
        if (in_group < TOP_PER_GEMMK && c->n < TOP_K) {
            slot = c->n++;
        } else if (worst < TOP_K && ms < c->ms[worst]) {
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

static void kernel_add_param(struct ocl_tuning_kernel *k, const char *name, size_t value) {
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
static size_t read_tuner_json(const char *path, struct candidates *c) {
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
                kernel_add_param(&k, p->string, (size_t)p->valuedouble);
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
    struct candidates done;    /* from the JSON files of finished variations */
    struct candidates pending; /* from the table rows of the running one, in case it is stopped */
    int stage, stages;         /* "* (2/4) Tuning ..." */
    size_t stage_configs, stage_timed, timed;
    const struct nncl_tune_options *opt;
    double start_ms, last_report_ms;
};

static void progress(const struct nncl_tune_options *opt, const char *fmt, ...) NNCL_PRINTF(2, 3);
static void progress(const struct nncl_tune_options *opt, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nncl_log(NNCL_LOG_INFO, "tune: %s", line);
    if (opt && opt->progress) opt->progress(line, opt->user);
}

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
        kernel_add_param(&k, w->names[i], (size_t)v);
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
        progress(w->opt, "tuner variation %d/%d: %zu configurations to time", w->stage, w->stages, w->stage_configs);
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
        const struct candidates *best = w->done.n && (!w->pending.n || w->done.ms[0] <= w->pending.ms[0])
                                            ? &w->done : &w->pending;
        progress(w->opt, "tuner variation %d/%d: %zu of %zu configurations timed, %.0f s so far%s", w->stage,
                 w->stages, w->stage_timed, w->stage_configs, (t - w->start_ms) / 1e3,
                 best->n ? "" : " (none valid yet)");
    }
}

/* The first executable `name` on PATH. */
static int find_on_path(const char *name, char *out, size_t cap) {
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

/*
 * Runs the tuner in a fresh temporary directory (it writes its JSON files into the working directory),
 * reading its output as it goes; stops it at the time limit and keeps what it timed until then.
 */
static enum nncl_status run_tuner(char *tuner, int platform, int device, size_t size, double divisor,
                                  const struct nncl_tune_options *opt, double limit_s, struct candidates *out,
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
    const int have_stdbuf = find_on_path("stdbuf", stdbuf, sizeof stdbuf);
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
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: could not run %s; %s", tuner, INSTALL_HINT);
    }
    if (out->n == 0) {
        strip_ansi(last);
        return nncl_set_error(NNCL_ERR_CLBLAST, "tune: %s timed no valid configuration%s (its last line: \"%s\"); "
                              "give it more time (--time-limit) or a larger --fraction, or run it by hand: %s "
                              "-platform %d -device %d -m %zu -n %zu -k %zu", TUNER_BINARY,
                              killed ? " before the time limit" : "", last, tuner, platform, device, size, size, size);
    }
    return NNCL_OK;
}

/* ---- nncl_opencl_tune ---------------------------------------------------------------------------- */


/* The tuning set: Xgemm's parameters and GemmRoutine's XGEMM_MIN_INDIRECT_SIZE. */
static void make_set(const struct ocl_state *st, const struct ocl_tuning_kernel *xgemm, size_t min_indirect,
                     struct ocl_tuning_set *set) {
    memset(set, 0, sizeof *set);
    snprintf(set->device, sizeof set->device, "%s", st->device_name);
    snprintf(set->driver, sizeof set->driver, "%s", st->driver_version);
    ocl_tuning_clblast_version(set->clblast, sizeof set->clblast);
    set->kernels[0] = *xgemm;
    struct ocl_tuning_kernel *r = &set->kernels[1];
    snprintf(r->name, sizeof r->name, "GemmRoutine");
    kernel_add_param(r, "XGEMM_MIN_INDIRECT_SIZE", min_indirect);
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

/* The work of nncl_opencl_tune once the backend is open; `bn` holds the shapes, then the 1024 cube. */
static enum nncl_status tune_on(struct nncl_backend *be, struct bench *bn, const struct nncl_gemm_shape *shapes,
                                size_t n, char *tuner, const struct nncl_tune_options *opt,
                                struct nncl_tune_result *res) {
    struct ocl_state *st = ocl_state_of(be);
    const size_t cube = n; /* index of the 1024^3 product in bn */
    const double cube_flop = 2.0 * 1024.0 * 1024.0 * 1024.0;
    enum { REPEATS = 25, CUBE_REPEATS = 5 };
    double ms = 0;

    /* 1. CLBlast's own parameters */
    progress(opt, "timing the %zu products with CLBlast's own parameters (the first call compiles CLBlast's "
             "kernels: seconds on PoCL)", n);
    enum nncl_status s = bench_time(be, bn, 0, n, REPEATS, &res->untuned_ms, NULL);
    if (!s) s = bench_time(be, bn, cube, cube + 1, CUBE_REPEATS, &ms, NULL);
    if (s) return s;
    res->untuned_gflops_1024 = cube_flop / (ms * 1e6);
    progress(opt, "untuned: the net's products %.3f ms per step; 1024^3 product %.1f GFLOP/s", res->untuned_ms,
             res->untuned_gflops_1024);

    /* 2. the tuner */
    int platform = 0, device = 0;
    s = selected_indices(&platform, &device);
    if (s) return s;
    const double fraction = opt->fraction > 0 ? fmin(opt->fraction, 1.0) : NNCL_TUNE_DEFAULT_FRACTION;
    const double limit = opt->time_limit_s > 0 ? opt->time_limit_s : NNCL_TUNE_DEFAULT_TIME_LIMIT_S;
    res->tune_size = opt->tune_size ? opt->tune_size : tune_size_for(shapes, n);
    progress(opt, "running %s -platform %d -device %d at m=n=k=%zu on %.3g of its configurations, for at most "
             "%.0f s", TUNER_BINARY, platform, device, res->tune_size, fraction, limit);
    struct candidates cand;
    int stopped = 0;
    const double t0 = nncl_now_ms();
    s = run_tuner(tuner, platform, device, res->tune_size, 1.0 / fraction, opt, limit, &cand, &res->configurations,
                  &stopped);
    res->tuner_seconds = (nncl_now_ms() - t0) / 1e3;
    res->tuner_stopped = stopped;
    if (s) return s;
    const double tune_flop = 2.0 * (double)res->tune_size * res->tune_size * res->tune_size;
    res->tuner_best_gflops = tune_flop / (cand.ms[0] * 1e6);
    progress(opt, "tuner: %zu configurations timed in %.0f s%s; best %.1f GFLOP/s at m=n=k=%zu", res->configurations,
             res->tuner_seconds, stopped ? " (stopped at the time limit)" : "", res->tuner_best_gflops, res->tune_size);

    /* 3. the tuner's best few on the net's own shapes: each must give the CPU reference's results on every
     * shape when all of them use it (the tuner checked only its cube); then each product is timed direct
     * (XgemmDirect, untouched) and indirect (the tuned Xgemm), and XGEMM_MIN_INDIRECT_SIZE is chosen to make
     * the sum smallest */
    struct nncl_backend *cpu = NULL;
    s = nncl_backend_init("cpu", &cpu);
    double direct[NNCL_TUNE_MAX_SHAPES], indirect[NNCL_TUNE_MAX_SHAPES], pass = 0;
    struct ocl_tuning_set set;
    size_t best_c = TOP_K, best_t = 1;
    double best_total = INFINITY;
    int have_direct = 0, kind_wrong[2] = {0, 0};
    for (size_t c = 0; !s && c < cand.n; c++) {
        char text[512], wrong[1024] = "";
        params_string(&cand.k[c], text, sizeof text);
        const int kind = param_of(&cand.k[c], "GEMMK") == 1;
        if (kind_wrong[kind]) {
            /* each try costs a CLBlast compile (seconds on PoCL); one kernel's wrong results are its own bug */
            progress(opt, "candidate %zu skipped: GEMMK=%d gave wrong results above [%s]", c + 1, kind, text);
            continue;
        }
        make_set(st, &cand.k[c], 1, &set); /* m*n*k < 1 never: all indirect */
        s = ocl_tuning_override(st, &set);
        if (!s) s = verify(cpu, be, shapes, n, wrong, sizeof wrong);
        if (!s) s = bench_time(be, bn, 0, n, REPEATS, &pass, indirect);
        if (s == NNCL_ERR_CLBLAST || s == NNCL_ERR_KERNEL_BUILD) {
            snprintf(wrong, sizeof wrong, "%s", nncl_last_error()); /* CLBlast could not build or run it */
            nncl_clear_error();
            s = NNCL_OK;
        }
        if (!s && wrong[0]) {
            progress(opt, "candidate %zu (%.1f GFLOP/s in the tuner) skipped: %s [%s]", c + 1,
                     tune_flop / (cand.ms[c] * 1e6), wrong, text);
            kind_wrong[kind] = 1;
            continue;
        }
        if (!s && !have_direct) {
            /* 65536^3 exceeds any m*n*k here: every product direct (XgemmDirect does not depend on Xgemm's
             * parameters; a working Xgemm is set only because CLBlast builds both into one program) */
            make_set(st, &cand.k[c], 1u << 16, &set);
            s = ocl_tuning_override(st, &set);
            if (!s) s = bench_time(be, bn, 0, n, REPEATS, &pass, direct);
            have_direct = 1;
        }
        if (s) break;
        double total = 0;
        const size_t t = best_threshold(shapes, n, direct, indirect, &total);
        double all_indirect = 0;
        for (size_t i = 0; i < n; i++) all_indirect += indirect[i];
        progress(opt, "candidate %zu (%.1f GFLOP/s in the tuner): the net's products %.3f ms all on it, %.3f ms with "
                 "XGEMM_MIN_INDIRECT_SIZE=%zu [%s]", c + 1, tune_flop / (cand.ms[c] * 1e6), all_indirect, total, t,
                 text);
        if (total < best_total) best_total = total, best_c = c, best_t = t;
    }
    if (!s && best_c == TOP_K) {
        s = nncl_set_error(NNCL_ERR_CLBLAST, "tune: none of the tuner's best %zu configurations gives right results "
                           "on this net's products on \"%s\" (CLBlast %d.%d.%d); nothing was stored. Try a larger "
                           "--fraction, another --size, or another driver", cand.n, st->device_name,
                           CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
    }

    /* 4. the winner, timed as the untuned run was, and checked once more as it will run */
    if (!s) {
        make_set(st, &cand.k[best_c], best_t, &set);
        s = ocl_tuning_override(st, &set);
    }
    if (!s) s = bench_time(be, bn, 0, n, REPEATS, &res->tuned_ms, NULL);
    if (!s) s = bench_time(be, bn, cube, cube + 1, CUBE_REPEATS, &ms, NULL);
    char wrong[1024] = "";
    if (!s) s = verify(cpu, be, shapes, n, wrong, sizeof wrong);
    if (!s && wrong[0]) {
        s = nncl_set_error(NNCL_ERR_CLBLAST, "tune: the tuned parameters give wrong results on \"%s\" for %s; "
                           "nothing was stored", st->device_name, wrong);
    }
    nncl_backend_free(cpu);
    if (s) return s;
    res->verified = 1;
    res->tuned_gflops_1024 = cube_flop / (ms * 1e6);
    res->min_indirect_size = best_t;
    params_string(&cand.k[best_c], res->xgemm_params, sizeof res->xgemm_params);
    progress(opt, "tuned: the net's products %.3f ms per step; 1024^3 product %.1f GFLOP/s", res->tuned_ms,
             res->tuned_gflops_1024);

    /* 5. kept only when it pays on the net's products */
    if (res->tuned_ms < 0.97 * res->untuned_ms) {
        s = ocl_tuning_store(&set, res->path, sizeof res->path);
        if (s) return s;
        res->stored = 1;
    } else {
        ocl_tuning_path(st->device_name, st->driver_version, res->path, sizeof res->path);
        progress(opt, "not stored: the tuned parameters are not faster than CLBlast's own on this net's products");
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
    memset(out, 0, sizeof *out);
    char tuner[512];
    if (!find_on_path(TUNER_BINARY, tuner, sizeof tuner)) {
        return nncl_set_error(NNCL_ERR_UNSUPPORTED, "tune: %s is not on PATH; %s", TUNER_BINARY, INSTALL_HINT);
    }

    /* A backend of its own, opened without the stored parameters, so "untuned" means CLBlast's own. */
    struct nncl_backend *be = NULL;
    ocl_tuning_suspend(1);
    enum nncl_status s = nncl_backend_init("opencl", &be);
    ocl_tuning_suspend(0);
    if (s) return s;
    struct ocl_state *st = ocl_state_of(be);
    uint64_t previous = 0;
    if (ocl_tuning_applied(st, &previous)) {
        /* CLBlast keeps overrides for the whole process: the baseline is what this process applied earlier */
        out->baseline_tuned = 1;
        nncl_log(NNCL_LOG_WARN, "tune: parameters were already applied to \"%s\" in this process; the \"untuned\" "
                 "time is theirs, not CLBlast's own", st->device_name);
    }
    snprintf(out->device, sizeof out->device, "%s", nncl_backend_device(be));

    struct bench *bn = calloc(1, sizeof *bn);
    if (!bn) s = nncl_set_error(NNCL_ERR_OOM, "tune: out of host memory");
    uint64_t rng = 42;
    for (size_t i = 0; !s && i < n_shapes; i++) s = bench_add(be, bn, &shapes[i], &rng);
    const struct nncl_gemm_shape cube = {1024, 1024, 1024, 0, 0};
    if (!s) s = bench_add(be, bn, &cube, &rng);
    if (!s) s = tune_on(be, bn, shapes, n_shapes, tuner, opt, out);
    if (bn) bench_free(bn);
    free(bn);
    nncl_backend_free(be);
    return s;
}
