/*
 * cli_validate.c: checks every subcommand runs on its options before it reads any data or opens a
 * backend, so a mistyped option is a usage error (exit 2) that names it: getopt abbreviations, the
 * NNCL_LOG_LEVEL environment variable, --hidden specs and the names of losses, optimizers, ...
 */
#define _GNU_SOURCE /* getopt_long's struct option */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/*
 * getopt_long accepts any unique prefix of a long option (`--ep 5` for `--epochs 5`). A prefix that reads
 * as one option today becomes ambiguous when an option is added, and a script that relied on it breaks or,
 * worse, silently means something else; so every option must be spelt out. This scans argv as getopt will
 * (stopping at "--", skipping the separate argument of an option that takes one).
 */
int cli_refuse_abbreviations(const char *cmd, int argc, char **argv, const struct option *opts) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) break;
        if (strncmp(arg, "--", 2) != 0) continue;
        const char *name = arg + 2;
        const size_t len = strcspn(name, "=");
        const struct option *exact = NULL, *prefix_of = NULL;
        for (const struct option *o = opts; o->name; o++) {
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) exact = o;
            else if (len && strncmp(o->name, name, len) == 0 && !prefix_of) prefix_of = o;
        }
        if (exact) {
            if (exact->has_arg == required_argument && name[len] != '=') i++; /* its value */
            continue;
        }
        if (prefix_of) {
            return cli_usage_error(cmd, "option \"%.*s\" is an abbreviation (of --%s, say); write the whole name",
                                   (int)len + 2, arg, prefix_of->name);
        }
        /* neither: getopt reports it as unknown */
    }
    return CLI_OK;
}

int cli_check_log_level(void) {
    static const char *const names[] = {"debug", "info", "warn", "error", "none"};
    const char *env = getenv("NNCL_LOG_LEVEL");
    if (!env) return CLI_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(env, names[i]) == 0) return CLI_OK;
    }
    fprintf(stderr, "nncl: NNCL_LOG_LEVEL=\"%s\": choose debug, info, warn, error or none (or unset it)\n", env);
    return CLI_USAGE;
}

int cli_check_hidden(const char *cmd, const char *hidden) {
    if (!hidden) return CLI_OK;
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = 1;
    if (nncl_parse_hidden(hidden, &spec)) return cli_usage_error(cmd, "%s", nncl_last_error());
    /* the ranges of the activations' parameters, as the model will check them */
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){1, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = NNCL_LOSS_MSE;
    if (nncl_model_spec_check(&spec)) return cli_usage_error(cmd, "--hidden \"%s\": %s", hidden, nncl_last_error());
    return CLI_OK;
}
