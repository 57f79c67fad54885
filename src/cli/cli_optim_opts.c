/*
 * cli_optim_opts.c: the optimizer options of `nncl check` (--optimizer, --lr, --momentum, --weight-decay, the
 * RMSprop and iRPROP- constants, --clip-norm), spelt and defaulted as `nncl train` spells them, so the step
 * check validates is the step the run takes. With a checkpoint as --model, the checkpoint's own options
 * (nncl_checkpoint_read_options) are the defaults and the options given on the command line override them.
 */
#define _GNU_SOURCE /* getopt_long's struct option */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option optim_options[] = {
    {"optimizer", required_argument, 0, CLI_OPT_OPTIMIZER},
    {"lr", required_argument, 0, CLI_OPT_LR},
    {"momentum", required_argument, 0, CLI_OPT_MOMENTUM},
    {"weight-decay", required_argument, 0, CLI_OPT_WEIGHT_DECAY},
    {"rmsprop-alpha", required_argument, 0, CLI_OPT_RMS_ALPHA},
    {"rmsprop-momentum", required_argument, 0, CLI_OPT_RMS_MOMENTUM},
    {"rprop-increase", required_argument, 0, CLI_OPT_RP_INC},
    {"rprop-decrease", required_argument, 0, CLI_OPT_RP_DEC},
    {"rprop-delta-min", required_argument, 0, CLI_OPT_RP_DMIN},
    {"rprop-delta-max", required_argument, 0, CLI_OPT_RP_DMAX},
    {"rprop-delta-zero", required_argument, 0, CLI_OPT_RP_D0},
    {"clip-norm", required_argument, 0, CLI_OPT_CLIP},
};
#define N_OPTIM_OPTIONS (sizeof optim_options / sizeof optim_options[0])

const struct option *cli_options_with_optim(const struct option *own, struct option *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIM_OPTIONS && n + 1 < cap; i++) out[n++] = optim_options[i];
    for (size_t i = 0; own[i].name && n + 1 < cap; i++) out[n++] = own[i];
    out[n] = (struct option){0, 0, 0, 0};
    return out;
}

void cli_optim_init(struct cli_optim_opts *o) {
    memset(o, 0, sizeof *o);
    o->opts = nncl_train_defaults();
}

int cli_optim_option(const char *cmd, int code, const char *arg, struct cli_optim_opts *o, int *rc) {
    struct nncl_train_options *t = &o->opts;
    const int bit = code >= CLI_OPT_OPTIMIZER && code < CLI_OPT_OPTIM_END ? 1 << (code - CLI_OPT_OPTIMIZER) : 0;
    *rc = CLI_OK;
    switch (code) {
    case CLI_OPT_OPTIMIZER: o->optimizer = arg; break;
    case CLI_OPT_LR: *rc = cli_parse_float(cmd, "--lr", arg, &t->lr); break;
    case CLI_OPT_MOMENTUM: *rc = cli_parse_float(cmd, "--momentum", arg, &t->momentum); break;
    case CLI_OPT_WEIGHT_DECAY: *rc = cli_parse_float(cmd, "--weight-decay", arg, &t->weight_decay); break;
    case CLI_OPT_RMS_ALPHA: *rc = cli_parse_float(cmd, "--rmsprop-alpha", arg, &t->rmsprop_alpha); break;
    case CLI_OPT_RMS_MOMENTUM: *rc = cli_parse_float(cmd, "--rmsprop-momentum", arg, &t->rmsprop_momentum); break;
    case CLI_OPT_RP_INC: *rc = cli_parse_float(cmd, "--rprop-increase", arg, &t->rprop_increase); break;
    case CLI_OPT_RP_DEC: *rc = cli_parse_float(cmd, "--rprop-decrease", arg, &t->rprop_decrease); break;
    case CLI_OPT_RP_DMIN: *rc = cli_parse_float(cmd, "--rprop-delta-min", arg, &t->rprop_delta_min); break;
    case CLI_OPT_RP_DMAX: *rc = cli_parse_float(cmd, "--rprop-delta-max", arg, &t->rprop_delta_max); break;
    case CLI_OPT_RP_D0: *rc = cli_parse_float(cmd, "--rprop-delta-zero", arg, &t->rprop_delta_zero); break;
    case CLI_OPT_CLIP: *rc = cli_parse_float(cmd, "--clip-norm", arg, &t->clip_norm); break;
    default: return 0;
    }
    o->given |= bit;
    return 1;
}

int cli_optim_check(const char *cmd, const struct cli_optim_opts *o) {
    const struct nncl_train_options *t = &o->opts;
    enum nncl_optimizer opt;
    if (o->optimizer && nncl_optimizer_from_name(o->optimizer, &opt)) {
        return cli_usage_error(cmd, "--optimizer: %s", nncl_last_error());
    }
    if (!(t->lr > 0.0f) || !isfinite(t->lr)) return cli_usage_error(cmd, "--lr %g: the learning rate must be > 0", (double)t->lr);
    if (!(t->momentum >= 0.0f && t->momentum < 1.0f)) {
        return cli_usage_error(cmd, "--momentum %g: must be in [0, 1)", (double)t->momentum);
    }
    if (!(t->weight_decay >= 0.0f)) return cli_usage_error(cmd, "--weight-decay %g: must be >= 0", (double)t->weight_decay);
    if (!(t->rmsprop_alpha >= 0.0f && t->rmsprop_alpha < 1.0f)) {
        return cli_usage_error(cmd, "--rmsprop-alpha %g: must be in [0, 1)", (double)t->rmsprop_alpha);
    }
    if (!(t->rmsprop_momentum >= 0.0f && t->rmsprop_momentum < 1.0f)) {
        return cli_usage_error(cmd, "--rmsprop-momentum %g: must be in [0, 1)", (double)t->rmsprop_momentum);
    }
    if (!(t->clip_norm >= 0.0f)) return cli_usage_error(cmd, "--clip-norm %g: must be >= 0", (double)t->clip_norm);
    return CLI_OK;
}

int cli_optim_resolve(const char *cmd, const char *model, struct cli_optim_opts *o, const char **source) {
    struct cli_optim_opts given = *o;
    *source = "the command line and nncl train's defaults";
    char *stored = NULL;
    if (model && nncl_checkpoint_read_meta(model, "trainer.opt.optimizer", &stored)) return cli_fail(cmd, "--model");
    if (stored) { /* a checkpoint: its options, then the command line's on top */
        free(stored);
        if (nncl_checkpoint_read_options(model, &o->opts, NULL)) return cli_fail(cmd, "--model");
        const struct nncl_train_options *g = &given.opts;
        struct nncl_train_options *t = &o->opts;
        if (given.given & (1 << (CLI_OPT_LR - CLI_OPT_OPTIMIZER))) t->lr = g->lr;
        if (given.given & (1 << (CLI_OPT_MOMENTUM - CLI_OPT_OPTIMIZER))) t->momentum = g->momentum;
        if (given.given & (1 << (CLI_OPT_WEIGHT_DECAY - CLI_OPT_OPTIMIZER))) t->weight_decay = g->weight_decay;
        if (given.given & (1 << (CLI_OPT_RMS_ALPHA - CLI_OPT_OPTIMIZER))) t->rmsprop_alpha = g->rmsprop_alpha;
        if (given.given & (1 << (CLI_OPT_RMS_MOMENTUM - CLI_OPT_OPTIMIZER))) t->rmsprop_momentum = g->rmsprop_momentum;
        if (given.given & (1 << (CLI_OPT_RP_INC - CLI_OPT_OPTIMIZER))) t->rprop_increase = g->rprop_increase;
        if (given.given & (1 << (CLI_OPT_RP_DEC - CLI_OPT_OPTIMIZER))) t->rprop_decrease = g->rprop_decrease;
        if (given.given & (1 << (CLI_OPT_RP_DMIN - CLI_OPT_OPTIMIZER))) t->rprop_delta_min = g->rprop_delta_min;
        if (given.given & (1 << (CLI_OPT_RP_DMAX - CLI_OPT_OPTIMIZER))) t->rprop_delta_max = g->rprop_delta_max;
        if (given.given & (1 << (CLI_OPT_RP_D0 - CLI_OPT_OPTIMIZER))) t->rprop_delta_zero = g->rprop_delta_zero;
        if (given.given & (1 << (CLI_OPT_CLIP - CLI_OPT_OPTIMIZER))) t->clip_norm = g->clip_norm;
        *source = "the checkpoint's options (--model), with the command line's on top";
        o->from_checkpoint = 1;
    }
    if (o->optimizer && nncl_optimizer_from_name(o->optimizer, &o->opts.optimizer)) return cli_fail(cmd, "--optimizer");
    /* nncl train's rate default: 0.001 for adam and adamw, 0.01 for the others */
    const int lr_given = (o->given & (1 << (CLI_OPT_LR - CLI_OPT_OPTIMIZER))) != 0;
    if (!o->from_checkpoint && !lr_given && o->opts.optimizer != NNCL_OPT_ADAM && o->opts.optimizer != NNCL_OPT_ADAMW) {
        o->opts.lr = 0.01f;
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
