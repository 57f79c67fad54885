/*
 * cli_common.c: option parsing helpers, backend opening and data loading for the nncl command.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(const char *cmd, const char *what) {
    fprintf(stderr, "nncl %s: %s: %s\n", cmd, what, nncl_last_error());
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nncl %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun `nncl %s --help` for the options.\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_parse_size(const char *cmd, const char *option, const char *text, size_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-') {
        return cli_usage_error(cmd, "%s \"%s\": expected a whole number", option, text);
    }
    *out = (size_t)v;
    return CLI_OK;
}

int cli_parse_u64(const char *cmd, const char *option, const char *text, uint64_t *out) {
    size_t v = 0;
    int rc = cli_parse_size(cmd, option, text, &v);
    *out = v;
    return rc;
}

int cli_parse_float(const char *cmd, const char *option, const char *text, float *out) {
    char *end = NULL;
    errno = 0;
    float v = strtof(text, &end);
    if (!*text || *end || errno || !isfinite(v)) return cli_usage_error(cmd, "%s \"%s\": expected a number", option, text);
    *out = v;
    return CLI_OK;
}

int cli_open_backend(const char *cmd, const char *name, struct nncl_backend **out) {
    if (nncl_backend_init(name, out) != NNCL_OK) {
        char what[96];
        snprintf(what, sizeof what, "cannot open backend \"%s\"", name);
        return cli_fail(cmd, what);
    }
    if (strcmp(name, "auto") == 0) {
        fprintf(stderr, "nncl %s: backend auto chose %s (%s)%s\n", cmd, nncl_backend_name(*out),
                nncl_backend_device(*out),
                strcmp(nncl_backend_name(*out), "cpu") == 0
                    ? ": no OpenCL GPU was found (an OpenCL CPU device is slower than the CPU reference)"
                    : ": an OpenCL GPU");
    }
    return CLI_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int parse_task(const char *cmd, const char *text, enum nncl_task *out) {
    static const char *const names[] = {"auto", "regression", "binary", "classification"};
    *out = NNCL_TASK_AUTO;
    if (!text) return CLI_OK;
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) return *out = (enum nncl_task)i, CLI_OK;
    }
    return cli_usage_error(cmd, "--task \"%s\": choose auto, regression, binary or classification", text);
}

int cli_load_data(const char *cmd, const struct cli_data_opts *o, const struct nncl_model *model, int require_target,
                  struct nncl_dataset *out) {
    memset(out, 0, sizeof *out);
    enum nncl_task task;
    if (parse_task(cmd, o->task, &task)) return CLI_USAGE;
    enum nncl_status st;
    if (o->dataset) {
        if (o->data) return cli_usage_error(cmd, "give --data or --dataset, not both");
        if (strcmp(o->dataset, "fashion-mnist") != 0) {
            return cli_usage_error(cmd, "--dataset \"%s\": the only named data set is fashion-mnist", o->dataset);
        }
        const char *split = o->split ? o->split : "train";
        if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0) {
            return cli_usage_error(cmd, "--split \"%s\": choose train or test", split);
        }
        st = nncl_dataset_load_fashion_mnist(NULL, split, out);
    } else if (!o->data) {
        return cli_usage_error(cmd, "no data: give --data FILE (.csv, .safetensors, or IDX with --labels) or "
                                    "--dataset fashion-mnist");
    } else if (ends_with(o->data, ".csv") && model && !nncl_model_preprocess(model)->n_columns) {
        return cli_usage_error(cmd, "--data %s: the model was trained on IDX or safetensors data, which carries no "
                                    "CSV transform; give the data in that format", o->data);
    } else if (ends_with(o->data, ".csv")) {
        struct nncl_csv_options copts = {.target = o->target, .task = task, .require_target = require_target,
                                         .ignore = o->ignore};
        if (model && nncl_model_preprocess(model)->n_columns) {
            copts.apply = nncl_model_preprocess(model);
            if (!o->target && nncl_model_preprocess(model)->target[0]) copts.target = nncl_model_preprocess(model)->target;
            copts.class_names = nncl_model_class_names(model);
            copts.n_class_names = nncl_model_class_names(model) ? nncl_model_class_count(model) : 0;
            if (!o->task) copts.task = nncl_model_task(model);
        }
        st = nncl_dataset_load_csv(o->data, &copts, out);
    } else if (ends_with(o->data, ".safetensors")) {
        size_t classes = model ? nncl_model_class_count(model) : 0;
        if (model && !o->task) task = nncl_model_task(model);
        st = nncl_dataset_load_safetensors(o->data, task, classes, out);
    } else {
        if (!o->labels) {
            return cli_usage_error(cmd, "--data %s: not .csv or .safetensors, so read as IDX images, which need "
                                        "--labels FILE", o->data);
        }
        st = nncl_dataset_load_idx(o->data, o->labels, out);
    }
    if (st) return cli_fail(cmd, "cannot load the data");
    if (require_target && !out->y) {
        nncl_dataset_free(out);
        fprintf(stderr, "nncl %s: %s has no target column\n", cmd, o->data ? o->data : o->dataset);
        return CLI_FAIL;
    }
    return CLI_OK;
}
