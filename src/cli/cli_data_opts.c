/*
 * cli_data_opts.c: the data options, one block that every data-reading subcommand (train, eval, predict,
 * grad, check) accepts the same way with the same help text: their getopt entries, their help lines, and
 * loading the data they name.
 */
#define _GNU_SOURCE /* getopt_long's struct option */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static const struct option data_options[] = {
    {"data", required_argument, 0, CLI_OPT_DATA},     {"labels", required_argument, 0, CLI_OPT_LABELS},
    {"dataset", required_argument, 0, CLI_OPT_DATASET}, {"split", required_argument, 0, CLI_OPT_SPLIT},
    {"target", required_argument, 0, CLI_OPT_TARGET}, {"ignore", required_argument, 0, CLI_OPT_IGNORE},
    {"task", required_argument, 0, CLI_OPT_TASK}, {"delimiter", required_argument, 0, CLI_OPT_DELIMITER},
    {"format", required_argument, 0, CLI_OPT_FORMAT},
};
enum { N_DATA_OPTIONS = sizeof data_options / sizeof data_options[0] };
_Static_assert(N_DATA_OPTIONS == CLI_OPT_DATA_END - CLI_OPT_DATA, "one table entry per data option code");

const struct option *cli_options_with_data(const struct option *own, struct option *out, size_t cap) {
    struct option with_backend[CLI_MAX_OPTIONS];
    cli_options_with_backend(own, 1, with_backend, CLI_MAX_OPTIONS);
    size_t n = 0;
    for (size_t i = 0; i < N_DATA_OPTIONS && n + 1 < cap; i++) out[n++] = data_options[i];
    for (size_t i = 0; with_backend[i].name && n + 1 < cap; i++) out[n++] = with_backend[i];
    out[n] = (struct option){0, 0, 0, 0};
    return out;
}

int cli_data_option(int code, const char *arg, struct cli_data_opts *o) {
    switch (code) {
    case CLI_OPT_DATA: o->data = arg; return 1;
    case CLI_OPT_LABELS: o->labels = arg; return 1;
    case CLI_OPT_DATASET: o->dataset = arg; return 1;
    case CLI_OPT_SPLIT: o->split = arg; return 1;
    case CLI_OPT_TARGET: o->target = arg; return 1;
    case CLI_OPT_IGNORE: o->ignore = arg; return 1;
    case CLI_OPT_TASK: o->task = arg; return 1;
    case CLI_OPT_DELIMITER: o->delimiter = arg; return 1;
    case CLI_OPT_FORMAT: o->format = arg; return 1;
    default: return 0;
    }
}

void cli_data_help(void) {
    printf("data:\n"
           "  --data FILE            .csv (header row), .safetensors (tensors x and y), or IDX images with --labels\n"
           "  --labels FILE          IDX labels for IDX images\n"
           "  --dataset NAME         fashion-mnist (the Debian package dataset-fashion-mnist); not with --data\n"
           "  --split S              train (default) or test: the part of --dataset to read\n"
           "  --target COLUMN        CSV target column (default: the model's, else the last)\n"
           "  --ignore COL[,COL]     CSV columns that are not inputs (an id, or another target)\n"
           "  --task T               auto|regression|binary|classification (default auto: the model's task, else\n"
           "                         from the target)\n"
           "  --delimiter C          CSV field separator: one character, tab or semicolon (default: from the header:\n"
           "                         a comma, else ';' or a tab, said on stderr)\n"
           "  --format F             csv|idx|safetensors (default: from the extension, any case: .csv and .tsv\n"
           "                         are CSV, .safetensors safetensors, anything else IDX)\n");
}

static int ends_with_nocase(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

enum data_format { FORMAT_CSV, FORMAT_IDX, FORMAT_SAFETENSORS };

/* --format, else the extension in any case (a spreadsheet's export is often XOR.CSV). */
static int data_format(const char *cmd, const struct cli_data_opts *o, enum data_format *out) {
    if (o->format) {
        static const char *const names[] = {"csv", "idx", "safetensors"};
        for (int i = 0; i < 3; i++) {
            if (strcasecmp(o->format, names[i]) == 0) return *out = (enum data_format)i, CLI_OK;
        }
        return cli_usage_error(cmd, "--format \"%s\": choose csv, idx or safetensors", o->format);
    }
    *out = ends_with_nocase(o->data, ".csv") || ends_with_nocase(o->data, ".tsv") ? FORMAT_CSV
           : ends_with_nocase(o->data, ".safetensors")                          ? FORMAT_SAFETENSORS
                                                                                : FORMAT_IDX;
    return CLI_OK;
}

/* --delimiter: one character (not a quote or a line break), or the word tab or semicolon; 0 when not given. */
static int parse_delimiter(const char *cmd, const char *text, char *out) {
    *out = 0;
    if (!text) return CLI_OK;
    if (strcasecmp(text, "tab") == 0 || strcmp(text, "\\t") == 0) return *out = '\t', CLI_OK;
    if (strcasecmp(text, "semicolon") == 0) return *out = ';', CLI_OK; /* a ';' needs quoting in a shell */
    if (strlen(text) != 1 || text[0] == '"' || text[0] == '\n' || text[0] == '\r') {
        return cli_usage_error(cmd, "--delimiter \"%s\": give one character (, ; | ...) or tab; not a quote", text);
    }
    *out = text[0];
    return CLI_OK;
}

static const char *delimiter_name(char c) { return c == '\t' ? "tabs" : c == ';' ? "';'" : c == ',' ? "','" : NULL; }

static int parse_task(const char *cmd, const char *text, enum nncl_task *out) {
    static const char *const names[] = {"auto", "regression", "binary", "classification"};
    *out = NNCL_TASK_AUTO;
    if (!text) return CLI_OK;
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) return *out = (enum nncl_task)i, CLI_OK;
    }
    return cli_usage_error(cmd, "--task \"%s\": choose auto, regression, binary or classification", text);
}

int cli_check_data_opts(const char *cmd, const struct cli_data_opts *o) {
    enum nncl_task task;
    char delim;
    enum data_format format = FORMAT_CSV;
    if (parse_task(cmd, o->task, &task) || parse_delimiter(cmd, o->delimiter, &delim)) return CLI_USAGE;
    if (o->data && data_format(cmd, o, &format)) return CLI_USAGE;
    if (o->delimiter && (o->dataset || format != FORMAT_CSV)) return cli_usage_error(cmd, "--delimiter is for CSV data");
    return CLI_OK;
}

int cli_load_data(const char *cmd, const struct cli_data_opts *o, const struct nncl_model *model, int require_target,
                  struct nncl_dataset *out) {
    memset(out, 0, sizeof *out);
    if (cli_check_data_opts(cmd, o)) return CLI_USAGE;
    enum nncl_task task;
    char delim = 0;
    enum data_format format = FORMAT_CSV;
    parse_task(cmd, o->task, &task);
    parse_delimiter(cmd, o->delimiter, &delim);
    if (o->data) data_format(cmd, o, &format);
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
    } else if (format == FORMAT_CSV && model && !nncl_model_preprocess(model)->n_columns) {
        return cli_usage_error(cmd, "--data %s: the model was trained on IDX or safetensors data, which carries no "
                                    "CSV transform; give the data in that format", o->data);
    } else if (format == FORMAT_CSV) {
        struct nncl_csv_options copts = {.target = o->target, .task = task, .require_target = require_target,
                                         .ignore = o->ignore, .standardize_targets = o->standardize_targets,
                                         .delimiter = delim};
        if (model && nncl_model_preprocess(model)->n_columns) {
            copts.apply = nncl_model_preprocess(model);
            if (!o->target && nncl_model_preprocess(model)->target[0]) copts.target = nncl_model_preprocess(model)->target;
            copts.class_names = nncl_model_class_names(model);
            copts.n_class_names = nncl_model_class_names(model) ? nncl_model_class_count(model) : 0;
            if (!o->task) copts.task = nncl_model_task(model);
        }
        st = nncl_dataset_load_csv(o->data, &copts, out);
        if (!st && !delim && out->delimiter != ',') {
            const char *name = delimiter_name(out->delimiter);
            fprintf(stderr, "nncl %s: %s: fields separated by %s (detected from the header line; --delimiter to "
                            "choose)\n", cmd, o->data, name ? name : "?");
        }
    } else if (format == FORMAT_SAFETENSORS) {
        size_t classes = model ? nncl_model_class_count(model) : 0;
        if (model && !o->task) task = nncl_model_task(model);
        st = require_target ? nncl_dataset_load_safetensors(o->data, task, classes, out)
                            : nncl_dataset_load_safetensors_inputs(o->data, task, classes, out);
    } else {
        if (!o->labels && !require_target) {
            st = nncl_dataset_load_idx(o->data, NULL, out); /* prediction: the images alone */
        } else if (!o->labels) {
            return cli_usage_error(cmd, "--data %s: not .csv or .safetensors, so read as IDX images, which need "
                                        "--labels FILE (or give --format csv|safetensors)", o->data);
        } else {
            st = nncl_dataset_load_idx(o->data, o->labels, out);
        }
    }
    if (st) return cli_fail(cmd, "cannot load the data");
    if (require_target && !out->y) {
        nncl_dataset_free(out);
        fprintf(stderr, "nncl %s: %s has no target column\n", cmd, o->data ? o->data : o->dataset);
        return CLI_FAIL;
    }
    return CLI_OK;
}

double cli_target_std(const struct nncl_model *m, double *mean) {
    const struct nncl_preprocess *pp = nncl_model_preprocess(m);
    *mean = 0.0;
    if (!pp || !pp->n_columns || !(pp->target_std > 0.0) || nncl_model_get_spec(m)->loss != NNCL_LOSS_MSE) return 1.0;
    *mean = pp->target_mean;
    return pp->target_std;
}
