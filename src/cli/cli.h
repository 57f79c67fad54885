/*
 * cli.h: what the nncl command's subcommands share: data and backend options, error reporting.
 */
#ifndef NNCL_CLI_H
#define NNCL_CLI_H

#include <stdio.h>

#include "nncl/nncl.h"
#include "nncl/nncl_data.h"
#include "nncl/nncl_model.h"
#include "nncl/nncl_train.h"

/* Exit codes: 0 success, 1 a failure (bad data, device error, ...), 2 a usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Where the data comes from: a file (CSV, IDX with --labels, safetensors) or a named data set. */
struct cli_data_opts {
    const char *data;    /* --data FILE */
    const char *labels;  /* --labels FILE (IDX) */
    const char *dataset; /* --dataset fashion-mnist */
    const char *split;   /* --split train|test (named data sets) */
    const char *target;  /* --target COLUMN (CSV) */
    const char *task;    /* --task auto|regression|binary|classification */
    const char *ignore;  /* --ignore COL[,COL...] (CSV training data) */
    const char *delimiter; /* --delimiter C (CSV; default: detected from the header line) */
    const char *format;  /* --format csv|idx|safetensors (default: from the extension, case-insensitively) */
    int standardize_targets; /* train: CSV regression targets standardised (off: --no-standardize-targets) */
};

/*
 * The data options (cli_data_opts.c), one block that train, eval, predict, grad and check accept the same
 * way: --data, --labels, --dataset, --split, --target, --ignore, --task, --delimiter, --format. Their getopt codes lie above every
 * subcommand's own (which start at 256).
 */
enum { CLI_OPT_DATA = 1024, CLI_OPT_LABELS, CLI_OPT_DATASET, CLI_OPT_SPLIT, CLI_OPT_TARGET, CLI_OPT_IGNORE,
       CLI_OPT_TASK, CLI_OPT_DELIMITER, CLI_OPT_FORMAT, CLI_OPT_DATA_END };
/* Room for a subcommand's getopt table: the data options, its own and the zero entry. */
#define CLI_MAX_OPTIONS 64
struct option;
/* The data options and the backend options (--device, --threads) followed by `own` (ending in a zero entry), into out[cap]; returns out. */
const struct option *cli_options_with_data(const struct option *own, struct option *out, size_t cap);
/* Stores the argument of data option `code` in `o` and returns 1; 0 when `code` is not a data option. */
int cli_data_option(int code, const char *arg, struct cli_data_opts *o);
/* The data options' values (--task, --delimiter, --format) checked before anything is read: a usage error. */
int cli_check_data_opts(const char *cmd, const struct cli_data_opts *o);
/* Prints the data options' help lines (standard output). */
void cli_data_help(void);

/*
 * The optimizer options (cli_optim_opts.c) of `nncl train` and `nncl check`, one parser and one set of range
 * checks for both: --optimizer, --lr, --momentum, --weight-decay, --rmsprop-*, --rprop-*, --clip-norm. Codes
 * above the data and the backend options' (1100). The values go into the caller's nncl_train_options `t`;
 * cli_optim_opts keeps what the command line said about them.
 */
enum { CLI_OPT_OPTIMIZER = 1200, CLI_OPT_LR, CLI_OPT_MOMENTUM, CLI_OPT_WEIGHT_DECAY, CLI_OPT_RMS_ALPHA,
       CLI_OPT_RMS_MOMENTUM, CLI_OPT_RP_INC, CLI_OPT_RP_DEC, CLI_OPT_RP_DMIN, CLI_OPT_RP_DMAX, CLI_OPT_RP_D0,
       CLI_OPT_CLIP, CLI_OPT_OPTIM_END };
struct cli_optim_opts {
    const char *optimizer; /* --optimizer, resolved by cli_optim_resolve */
    unsigned given;        /* bit (code - CLI_OPT_OPTIMIZER) per option given */
    int from_checkpoint;   /* the defaults came from a checkpoint (--model) */
};
/* The optimizer options followed by `own` (ending in a zero entry), into out[cap]; returns out. */
const struct option *cli_options_with_optim(const struct option *own, struct option *out, size_t cap);
/* Nothing given yet, and *t = nncl_train_defaults(). */
void cli_optim_init(struct cli_optim_opts *o, struct nncl_train_options *t);
/* Stores optimizer option `code` in t (returns 1, *rc a usage error when its value does not parse); 0 when not one. */
int cli_optim_option(const char *cmd, int code, const char *arg, struct cli_optim_opts *o,
                     struct nncl_train_options *t, int *rc);
/* Ranges and the optimizer's name, before anything is read: a usage error naming the option. */
int cli_optim_check(const char *cmd, const struct cli_optim_opts *o, const struct nncl_train_options *t);
/* The step's options in t: a checkpoint `model`'s own with the given ones on top, else (model NULL or a plain
 * model file) the given ones with nncl train's defaults (lr 0.01 for the optimizers other than adam and
 * adamw); *source (when not NULL) says which. */
int cli_optim_resolve(const char *cmd, const char *model, struct cli_optim_opts *o, struct nncl_train_options *t,
                      const char **source);
/* Prints check's optimizer help lines (standard output); train's help describes each option itself. */
void cli_optim_help(void);

/* Prints "nncl <cmd>: <what>: <nncl_last_error()>" to stderr and returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *what);
/* Prints "nncl <cmd>: <message>" and a hint to run --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* Parses numbers strictly (the whole string); on failure prints a usage error naming the option. */
int cli_parse_size(const char *cmd, const char *option, const char *text, size_t *out);
int cli_parse_float(const char *cmd, const char *option, const char *text, float *out);
int cli_parse_u64(const char *cmd, const char *option, const char *text, uint64_t *out);

/*
 * The backend options (cli_common.c), one block for every subcommand that opens a backend: --device
 * PLATFORM:DEVICE (all of them, devices and tune too) and --threads N (those that compute on the CPU
 * reference: train, eval, predict, grad, check). cli_options_with_data includes them.
 */
struct cli_backend_opts {
    const char *device; /* --device PLATFORM:DEVICE; applied to NNCL_OPENCL_PLATFORM/DEVICE when parsed */
    size_t threads;     /* --threads N; 0: the backend's default */
};
enum { CLI_OPT_DEVICE = 1100, CLI_OPT_THREADS, CLI_OPT_BACKEND_END };
/* --device alone (devices, tune) or with --threads, followed by `own`, into out[cap]; returns out. */
const struct option *cli_options_with_backend(const struct option *own, int with_threads, struct option *out,
                                              size_t cap);
/*
 * Handles backend option `code`: returns 1 and sets *rc (CLI_OK, or CLI_USAGE after printing the error) when
 * it is one, 0 otherwise. --device sets NNCL_OPENCL_PLATFORM and NNCL_OPENCL_DEVICE at once, so everything
 * opened later (also by a child process, as tune's) sees the choice.
 */
int cli_backend_option(const char *cmd, int code, const char *arg, struct cli_backend_opts *o, int *rc);
/* Prints the backend options' help lines (standard output); with_threads as for cli_options_with_backend. */
void cli_backend_help(int with_threads);

/*
 * The options of the subcommands that run training steps (train, check): the data, optimizer and backend
 * options followed by `own`, into out[cap] (with_optim[cap] is scratch), after refusing an abbreviation in
 * argv; returns CLI_OK or CLI_USAGE.
 */
int cli_step_options(const char *cmd, int argc, char **argv, const struct option *own, struct option *out,
                     struct option *with_optim, size_t cap);
/* Handles one of those shared options: returns 1 (and *rc, CLI_OK or a usage error) when `code` is one. */
int cli_step_option(const char *cmd, int code, const char *arg, struct cli_data_opts *d, struct cli_optim_opts *o,
                    struct nncl_train_options *t, struct cli_backend_opts *b, int *rc);

/*
 * Opens a backend by name ("auto" says which it picked and why, on stderr) and gives it o->threads (o may
 * be NULL: the defaults).
 */
int cli_open_backend(const char *cmd, const char *name, const struct cli_backend_opts *o, struct nncl_backend **out);

/*
 * Loads the data the options name. With a model, CSV files get the model's transform and class names.
 * `require_target` 0 allows data without targets (prediction).
 */
int cli_load_data(const char *cmd, const struct cli_data_opts *o, const struct nncl_model *model, int require_target,
                  struct nncl_dataset *out);

/*
 * Option checks that run before any data is read (cli_validate.c), each a usage error naming the option:
 * a getopt abbreviation in argv (getopt_long would take `--ep` for `--epochs`), an NNCL_LOG_LEVEL that names
 * no level, a --hidden spec that does not parse or whose activation parameters are out of range.
 */
int cli_refuse_abbreviations(const char *cmd, int argc, char **argv, const struct option *opts);
int cli_check_log_level(void);
int cli_check_hidden(const char *cmd, const char *hidden);

/*
 * The model's regression-target transform (CSV data: targets standardised as (y - mean) / std): returns
 * std and sets *mean, or 1 and 0 when its outputs are in the data's units already. A model output o is
 * o * std + mean in the data's units, and an MSE is MSE * std^2.
 */
double cli_target_std(const struct nncl_model *m, double *mean);

/* Subcommands: argc/argv start at the subcommand's name. */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_check(int argc, char **argv);
/* nncl check --coverage (cmd_check_coverage.c): exit status 1 when an op or activation is uncovered. */
int cli_check_coverage(void);
int cmd_tune(int argc, char **argv);

#endif /* NNCL_CLI_H */
