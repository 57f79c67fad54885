/*
 * cli_common.c: option parsing helpers, error reporting and backend opening for the nncl command
 * (the data options and data loading are in cli_data_opts.c).
 */
#define _GNU_SOURCE /* getopt_long's struct option; setenv */
#include <errno.h>
#include <getopt.h>
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

static const struct option backend_options[] = {
    {"device", required_argument, 0, CLI_OPT_DEVICE},
    {"threads", required_argument, 0, CLI_OPT_THREADS},
};
_Static_assert(sizeof backend_options / sizeof backend_options[0] == CLI_OPT_BACKEND_END - CLI_OPT_DEVICE,
               "one table entry per backend option code");

const struct option *cli_options_with_backend(const struct option *own, int with_threads, struct option *out,
                                              size_t cap) {
    size_t n = 0;
    const size_t n_backend = with_threads ? 2 : 1;
    for (size_t i = 0; i < n_backend && n + 1 < cap; i++) out[n++] = backend_options[i];
    for (size_t i = 0; own[i].name && n + 1 < cap; i++) out[n++] = own[i];
    out[n] = (struct option){0, 0, 0, 0};
    return out;
}

/* "P:D", ":D", "P:" or ":" (an empty part: any); sets both variables, so --device overrides the environment. */
static int apply_device(const char *cmd, const char *text) {
    const char *colon = strchr(text, ':');
    if (!colon || strchr(colon + 1, ':')) {
        return cli_usage_error(cmd, "--device \"%s\": write PLATFORM:DEVICE, each an index or part of a name, "
                                    "either may be empty (0:1, :1, NVIDIA:, :A100); `nncl devices` lists them", text);
    }
    char platform[256];
    snprintf(platform, sizeof platform, "%.*s", (int)(colon - text), text);
    if (setenv("NNCL_OPENCL_PLATFORM", platform, 1) || setenv("NNCL_OPENCL_DEVICE", colon + 1, 1)) {
        fprintf(stderr, "nncl %s: --device: cannot set the environment\n", cmd);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_backend_option(const char *cmd, int code, const char *arg, struct cli_backend_opts *o, int *rc) {
    switch (code) {
    case CLI_OPT_DEVICE:
        o->device = arg;
        *rc = apply_device(cmd, arg);
        return 1;
    case CLI_OPT_THREADS:
        *rc = cli_parse_size(cmd, "--threads", arg, &o->threads);
        if (!*rc && o->threads > 4096) {
            *rc = cli_usage_error(cmd, "--threads %zu: give 1 to 4096, or 0 for the default", o->threads);
        }
        return 1;
    default: return 0;
    }
}

void cli_backend_help(int with_threads) {
    printf("device:\n"
           "  --device P:D           the OpenCL platform and device, each an index or part of a name, either may\n"
           "                         be empty (0:1, :A100); sets NNCL_OPENCL_PLATFORM/DEVICE. A choice that\n"
           "                         matches nothing is an error for --backend opencl and auto\n");
    if (with_threads) {
        printf("  --threads N            host threads for the CPU backend (default: NNCL_THREADS, else the cores\n"
               "                         OpenMP sees); results are bit-identical for any N\n");
    }
}

int cli_open_backend(const char *cmd, const char *name, const struct cli_backend_opts *o, struct nncl_backend **out) {
    if (nncl_backend_init(name, out) != NNCL_OK) {
        char what[96];
        snprintf(what, sizeof what, "cannot open backend \"%s\"", name);
        return cli_fail(cmd, what);
    }
    if (strcmp(name, "auto") == 0) {
        fprintf(stderr, "nncl %s: backend auto chose %s (%s): %s\n", cmd, nncl_backend_name(*out),
                nncl_backend_device(*out), nncl_backend_auto_reason());
    }
    if (o && nncl_backend_set_threads(*out, (int)o->threads)) {
        nncl_backend_free(*out);
        *out = NULL;
        return cli_fail(cmd, "--threads");
    }
    return CLI_OK;
}

int cli_step_options(const char *cmd, int argc, char **argv, const struct option *own, struct option *out,
                     struct option *with_optim, size_t cap) {
    cli_options_with_data(cli_options_with_optim(own, with_optim, cap), out, cap);
    return cli_refuse_abbreviations(cmd, argc, argv, out) ? CLI_USAGE : CLI_OK;
}

int cli_step_option(const char *cmd, int code, const char *arg, struct cli_data_opts *d, struct cli_optim_opts *o,
                    struct nncl_train_options *t, struct cli_backend_opts *b, int *rc) {
    *rc = CLI_OK;
    if (cli_data_option(code, arg, d)) return 1;
    return cli_optim_option(cmd, code, arg, o, t, rc) || cli_backend_option(cmd, code, arg, b, rc);
}
