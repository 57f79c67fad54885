/*
 * cli_optim_opts.c: the optimizer options of `nncl train` and `nncl check` (--optimizer, --lr, --momentum,
 * --weight-decay, the RMSprop and iRPROP- constants, --clip-norm): one getopt table, one parser, one set of
 * range checks and one default rule for both, so the step check validates is the step the run takes and
 * neither command can drift from the other. With a checkpoint as check's --model, the checkpoint's own
 * options (nncl_checkpoint_read_options) are the defaults and the options given on the command line override
 * them.
 */
#define _GNU_SOURCE /* getopt_long's struct option */
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every optimizer option but --optimizer is one float field of nncl_train_options: its name, code and field. */
#define OPTIM_FLOAT(name, code, field) {name, code, offsetof(struct nncl_train_options, field)}
static const struct optim_float {
    const char *name; /* "--lr" */
    int code;
    size_t offset; /* the field in nncl_train_options */
} optim_floats[] = {
    OPTIM_FLOAT("--lr", CLI_OPT_LR, lr),
    OPTIM_FLOAT("--momentum", CLI_OPT_MOMENTUM, momentum),
    OPTIM_FLOAT("--weight-decay", CLI_OPT_WEIGHT_DECAY, weight_decay),
    OPTIM_FLOAT("--rmsprop-alpha", CLI_OPT_RMS_ALPHA, rmsprop_alpha),
    OPTIM_FLOAT("--rmsprop-momentum", CLI_OPT_RMS_MOMENTUM, rmsprop_momentum),
    OPTIM_FLOAT("--rprop-increase", CLI_OPT_RP_INC, rprop_increase),
    OPTIM_FLOAT("--rprop-decrease", CLI_OPT_RP_DEC, rprop_decrease),
    OPTIM_FLOAT("--rprop-delta-min", CLI_OPT_RP_DMIN, rprop_delta_min),
    OPTIM_FLOAT("--rprop-delta-max", CLI_OPT_RP_DMAX, rprop_delta_max),
    OPTIM_FLOAT("--rprop-delta-zero", CLI_OPT_RP_D0, rprop_delta_zero),
    OPTIM_FLOAT("--clip-norm", CLI_OPT_CLIP, clip_norm),
};
#define N_OPTIM_FLOATS (sizeof optim_floats / sizeof optim_floats[0])
_Static_assert(N_OPTIM_FLOATS + 1 == CLI_OPT_OPTIM_END - CLI_OPT_OPTIMIZER,
               "one table entry per optimizer option code (--optimizer is the one more)");
_Static_assert(CLI_OPT_OPTIM_END - CLI_OPT_OPTIMIZER <= 32, "one bit of cli_optim_opts.given per option");

static float *field(struct nncl_train_options *t, const struct optim_float *f) {
    return (float *)((char *)t + f->offset);
}

static unsigned bit(int code) { return 1u << (code - CLI_OPT_OPTIMIZER); }

const struct option *cli_options_with_optim(const struct option *own, struct option *out, size_t cap) {
    size_t n = 0;
    if (n + 1 < cap) out[n++] = (struct option){"optimizer", required_argument, 0, CLI_OPT_OPTIMIZER};
    for (size_t i = 0; i < N_OPTIM_FLOATS && n + 1 < cap; i++) {
        out[n++] = (struct option){optim_floats[i].name + 2, required_argument, 0, optim_floats[i].code};
    }
    for (size_t i = 0; own[i].name && n + 1 < cap; i++) out[n++] = own[i];
    out[n] = (struct option){0, 0, 0, 0};
    return out;
}

void cli_optim_init(struct cli_optim_opts *o, struct nncl_train_options *t) {
    memset(o, 0, sizeof *o);
    *t = nncl_train_defaults();
}

int cli_optim_option(const char *cmd, int code, const char *arg, struct cli_optim_opts *o,
                     struct nncl_train_options *t, int *rc) {
    *rc = CLI_OK;
    if (code == CLI_OPT_OPTIMIZER) {
        o->optimizer = arg;
        o->given |= bit(code);
        return 1;
    }
    for (size_t i = 0; i < N_OPTIM_FLOATS; i++) {
        if (optim_floats[i].code != code) continue;
        *rc = cli_parse_float(cmd, optim_floats[i].name, arg, field(t, &optim_floats[i]));
        o->given |= bit(code);
        return 1;
    }
    return 0;
}

int cli_optim_check(const char *cmd, const struct cli_optim_opts *o, const struct nncl_train_options *t) {
    enum nncl_optimizer opt;
    if (o->optimizer && nncl_optimizer_from_name(o->optimizer, &opt)) {
        return cli_usage_error(cmd, "--optimizer: %s", nncl_last_error());
    }
    if (!(t->lr > 0.0f) || !isfinite(t->lr)) {
        return cli_usage_error(cmd, "--lr %g: the learning rate must be > 0", (double)t->lr);
    }
    if (!(t->momentum >= 0.0f && t->momentum < 1.0f)) {
        return cli_usage_error(cmd, "--momentum %g: must be in [0, 1)", (double)t->momentum);
    }
    if (!(t->weight_decay >= 0.0f)) {
        return cli_usage_error(cmd, "--weight-decay %g: must be >= 0", (double)t->weight_decay);
    }
    if (!(t->rmsprop_alpha >= 0.0f && t->rmsprop_alpha < 1.0f)) {
        return cli_usage_error(cmd, "--rmsprop-alpha %g: must be in [0, 1)", (double)t->rmsprop_alpha);
    }
    if (!(t->rmsprop_momentum >= 0.0f && t->rmsprop_momentum < 1.0f)) {
        return cli_usage_error(cmd, "--rmsprop-momentum %g: must be in [0, 1)", (double)t->rmsprop_momentum);
    }
    if (!(t->clip_norm >= 0.0f)) return cli_usage_error(cmd, "--clip-norm %g: must be >= 0", (double)t->clip_norm);
    /* iRPROP-'s limits, those of the irprop_update op (ops.c), so that a bad one is refused before any work */
    if (!(t->rprop_increase >= 1.0f) || !isfinite(t->rprop_increase)) {
        return cli_usage_error(cmd, "--rprop-increase %g: must be >= 1", (double)t->rprop_increase);
    }
    if (!(t->rprop_decrease > 0.0f && t->rprop_decrease <= 1.0f)) {
        return cli_usage_error(cmd, "--rprop-decrease %g: must be in (0, 1]", (double)t->rprop_decrease);
    }
    if (!(t->rprop_delta_min >= 0.0f) || !(t->rprop_delta_max >= t->rprop_delta_min) ||
        !isfinite(t->rprop_delta_max)) {
        return cli_usage_error(cmd, "--rprop-delta-min %g, --rprop-delta-max %g: need 0 <= min <= max",
                               (double)t->rprop_delta_min, (double)t->rprop_delta_max);
    }
    if (!(t->rprop_delta_zero > 0.0f) || !isfinite(t->rprop_delta_zero)) {
        return cli_usage_error(cmd, "--rprop-delta-zero %g: the first step must be > 0", (double)t->rprop_delta_zero);
    }
    return CLI_OK;
}

int cli_optim_resolve(const char *cmd, const char *model, struct cli_optim_opts *o, struct nncl_train_options *t,
                      const char **source) {
    if (source) *source = "the command line and nncl train's defaults";
    char *stored = NULL;
    if (model && nncl_checkpoint_read_meta(model, "trainer.opt.optimizer", &stored)) return cli_fail(cmd, "--model");
    if (stored) { /* a checkpoint: its options, then the command line's on top */
        free(stored);
        struct nncl_train_options given = *t;
        if (nncl_checkpoint_read_options(model, t, NULL)) return cli_fail(cmd, "--model");
        for (size_t i = 0; i < N_OPTIM_FLOATS; i++) {
            const struct optim_float *f = &optim_floats[i];
            if (o->given & bit(f->code)) *field(t, f) = *field(&given, f);
        }
        if (source) *source = "the checkpoint's options (--model), with the command line's on top";
        o->from_checkpoint = 1;
    }
    if (o->optimizer && nncl_optimizer_from_name(o->optimizer, &t->optimizer)) return cli_fail(cmd, "--optimizer");
    /* nncl train's rate default: 0.001 for adam and adamw, 0.01 for the others */
    if (!o->from_checkpoint && !(o->given & bit(CLI_OPT_LR)) && t->optimizer != NNCL_OPT_ADAM &&
        t->optimizer != NNCL_OPT_ADAMW) {
        t->lr = 0.01f;
    }
    return CLI_OK;
}

void cli_optim_help(void) {
    printf("  --optimizer O    the optimizer of the checked step and lockstep, one of" NNCL_OPTIMIZER_NAMES_SPACED "\n"
           "                   (default: a checkpoint's own, else adam as in nncl train)\n"
           "  --lr X --momentum X --weight-decay X --rmsprop-alpha X --rmsprop-momentum X --rprop-increase X\n"
           "  --rprop-decrease X --rprop-delta-min X --rprop-delta-max X --rprop-delta-zero X --clip-norm X\n"
           "                   its constants, as for nncl train (defaults: a checkpoint's, else nncl train's)\n");
}
