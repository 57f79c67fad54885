/*
 * cmd_train.h: `nncl train`'s arguments, shared by its command (cmd_train.c) and its option parsing and
 * help (cmd_train_args.c). Internal to the CLI.
 */
#ifndef NNCL_CMD_TRAIN_H
#define NNCL_CMD_TRAIN_H

#include "cli.h"
#include "nncl/nncl_train.h"

#define FASHION_MNIST_HIDDEN "256:relu,128:relu"

struct train_args {
    struct cli_data_opts data;
    const char *hidden, *loss, *output_act, *init, *init_from, *backend, *out, *metrics;
    struct nncl_train_options opts;
    struct cli_optim_opts optim; /* the optimizer options as given; their values are in opts (cli_optim_opts.c) */
    size_t checkpoint_every;
    struct cli_backend_opts bopts; /* --device, --threads (threads 0: the backend's default) */
    const char *manifest;
    int epochs_given, quiet, dry_run, no_verify;
    int save_last_good; /* --save-last-good: after a divergence, write the last good model to --out */
    const char *resume, *checkpoint, *lr_schedule; /* long runs */
    char *args_json;                                /* the command line, stored in checkpoints */
    int gamma_given;
    int batch_given;
    const char *reduction; /* data-parallel */
    int rank, ranks;
};
enum { O_RAW_TARGETS = 512 }; /* train's options added after the first table (codes apart from it) */

/*
 * Parses train's command line into `a` (defaults first) and checks every option's range and name before
 * any data is read or a backend opened. CLI_OK, or CLI_USAGE after a message naming the option; --help
 * prints the help and exits.
 */
int train_parse_args(int argc, char **argv, struct train_args *a);

#endif /* NNCL_CMD_TRAIN_H */
