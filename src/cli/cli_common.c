/*
 * cli_common.c: option parsing helpers, error reporting and backend opening for the nncl command
 * (the data options and data loading are in cli_data_opts.c).
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
