/*
 * runs.c: the long-run helpers of `nncl train` (see runs.h): writability checks up front, the metrics CSV
 * continued on resume, the stored command line, and the terminal progress line.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runs.h"
#include "util/util.h"

int cli_check_writable(const char *cmd, const char *option, const char *path) {
    char *dir = nncl_strdup(path);
    if (!dir) return CLI_FAIL;
    char *slash = strrchr(dir, '/');
    const char *folder = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    const char *why = NULL;
    if (access(folder, F_OK) != 0) why = "the folder does not exist";
    else if (access(folder, W_OK | X_OK) != 0) why = "the folder is not writable";
    else if (access(path, F_OK) == 0 && access(path, W_OK) != 0) why = "the file is not writable";
    int rc = CLI_OK;
    if (why) {
        fprintf(stderr, "nncl %s: %s %s: %s (%s); nothing was trained\n", cmd, option, path, why, folder);
        rc = CLI_USAGE;
    }
    free(dir);
    return rc;
}

FILE *cli_metrics_continue(const char *cmd, const char *path, size_t epochs_done) {
    FILE *in = fopen(path, "r");
    if (!in) return fopen(path, "w"); /* gone: start a new file; the caller writes the header */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fclose(in);
        fprintf(stderr, "nncl %s: --metrics %s: cannot rewrite it (%s)\n", cmd, path, strerror(errno));
        return NULL;
    }
    char line[1024];
    int first = 1;
    while (fgets(line, sizeof line, in)) {
        const unsigned long long epoch = strtoull(line, NULL, 10);
        if (first || (epoch >= 1 && epoch <= epochs_done)) fputs(line, out);
        first = 0;
    }
    fclose(in);
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "nncl %s: --metrics %s: cannot rewrite it (%s)\n", cmd, path, strerror(errno));
        return NULL;
    }
    return fopen(path, "a");
}

char *cli_args_to_json(int argc, char **argv) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--resume=", 9) == 0) continue;
        cJSON_AddItemToArray(arr, cJSON_CreateString(argv[i]));
    }
    char *text = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return text;
}

int cli_args_from_json(const char *json, char ***out) {
    cJSON *arr = cJSON_Parse(json);
    *out = NULL;
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return -1;
    }
    const int n = cJSON_GetArraySize(arr);
    char **args = calloc((size_t)n + 1, sizeof *args);
    for (int i = 0; args && i < n; i++) {
        const cJSON *item = cJSON_GetArrayItem(arr, i);
        args[i] = nncl_strdup(cJSON_IsString(item) ? item->valuestring : "");
    }
    cJSON_Delete(arr);
    *out = args;
    return args ? n : -1;
}

void cli_args_free(char **args, int n) {
    for (int i = 0; args && i < n; i++) free(args[i]);
    free(args);
}

static void format_duration(double s, char *out, size_t n) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(out, n, "?");
        return;
    }
    const unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600) snprintf(out, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, n, "%lu:%02lu", t / 60, t % 60);
}

void cli_progress_step(struct cli_progress_line *p, const struct nncl_step_report *r) {
    if (!p->enabled) return;
    const double now = nncl_now_seconds();
    if (!p->t_run) {
        p->t_run = now;
        p->steps_at_start = r->total_steps - 1;
    }
    if (r->epoch != p->epoch) {
        p->epoch = r->epoch;
        p->t_epoch = now;
    }
    if (now - p->t_last < 0.1 && r->step != r->steps_per_epoch) return; /* at most 10 redraws a second */
    p->t_last = now;
    const double epoch_s = now - p->t_epoch, run_s = now - p->t_run;
    const size_t run_steps = r->total_steps - p->steps_at_start;
    const double per_step = run_steps > 1 ? run_s / (double)(run_steps - 1) : 0.0;
    const size_t left_epoch = r->steps_per_epoch - r->step;
    const size_t left_run = left_epoch + (p->epochs > r->epoch ? (p->epochs - r->epoch) * r->steps_per_epoch : 0);
    char el[32], eta_e[32], eta_r[32];
    format_duration(run_s, el, sizeof el);
    format_duration(per_step * (double)left_epoch, eta_e, sizeof eta_e);
    format_duration(per_step * (double)left_run, eta_r, sizeof eta_r);
    const double rate = epoch_s > 0 && r->step > 1 ? (double)r->examples / epoch_s : 0.0;
    fprintf(stderr, "\r\033[Kepoch %zu/%zu  step %zu/%zu  %.0f examples/s  elapsed %s  ETA epoch %s, run %s", r->epoch,
            p->epochs, r->step, r->steps_per_epoch, rate, el, eta_e, eta_r);
    fflush(stderr);
    p->drawn = 1;
}

void cli_progress_clear(struct cli_progress_line *p) {
    if (!p->drawn) return;
    fprintf(stderr, "\r\033[K");
    p->drawn = 0;
}
