/*
 * cmd_train_args.c: `nncl train`'s options: the help text, the parser and the range checks that run before
 * any data is read (cmd_train.c runs the command).
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_train.h"
#include "model_impl.h"
#include "util/util.h"

static const char *const CMD = "train";

static void help(void) {
    printf("usage: nncl train (--data FILE [--labels FILE] | --dataset fashion-mnist) [options]\n\n");
    cli_data_help();
    printf("  --val-split F          hold out this fraction for validation (default 0)\n"
           "net:\n"
           "  --hidden SPEC          hidden layers, units:activation[:param] left to right, e.g. 256:relu,128:tanh\n"
           "                         activations:" NNCL_ACT_NAMES_SPACED " (default: none; \n"
           "                         " FASHION_MNIST_HIDDEN " for fashion-mnist); :dropout=P last drops a\n"
           "                         fraction P in [0, 1) of the layer's outputs in training, e.g. 256:relu:dropout=0.2\n"
           "  --loss L               mse|bce|xent (default: mse for regression, bce for binary, xent for classes)\n"
           "  --output-act A         output activation with the mse loss: an activation name or softmax\n"
           "  --init I               uniform (default, scaled by fan-in)|xavier|he|zero\n"
           "  --init-from MODEL      continue from a model file (same architecture)\n"
           "training:\n"
           "  --optimizer O          one of" NNCL_OPTIMIZER_NAMES_SPACED " (default adam)\n"
           "  --lr X                 learning rate (default 0.001 for adam and adamw, 0.01 otherwise; irprop\n"
           "                         has per-weight step sizes instead)\n"
           "  --momentum X           momentum and nesterov: the momentum (default 0.9)\n"
           "  --weight-decay X       weight decay (default 0): L2 (added to the gradient), except adamw's,\n"
           "                         which is decoupled (w -= lr X w each step)\n"
           "  --rmsprop-alpha X      rmsprop: the square average's decay (default 0.99)\n"
           "  --rmsprop-momentum X   rmsprop: momentum (default 0)\n"
           "  --rprop-increase X --rprop-decrease X  irprop: step-size factors (default 1.2, 0.5)\n"
           "  --rprop-delta-min X --rprop-delta-max X --rprop-delta-zero X  irprop: step-size range and start\n"
           "                         (default 0, 50, 0.1); irprop is full-batch: --batch-size defaults to 0\n"
           "  --clip-norm X          scale the gradient to global L2 norm X when it is larger (default 0: off)\n"
           "  --batch-size N         examples per step; 0 = the whole set (batch gradient descent), 1 = stochastic\n"
           "                         (default 128)\n"
           "  --epochs N             maximum epochs (default 10, 15 for fashion-mnist; 0 writes the initialised\n"
           "                         model untrained)\n"
           "  --patience N --tol X   stop when the loss (validation loss with --val-split) has not improved by\n"
           "                         more than X (default 1e-4) for N epochs (default 0: never); the model saved\n"
           "                         is the best epoch's\n"
           "  --keep-last            with --patience, save the last epoch's weights instead of the best\n"
           "  --lr-schedule S        constant (default)|step|exp|cosine, per epoch\n"
           "  --lr-step N            step: multiply the rate by --lr-gamma every N epochs (default 10)\n"
           "  --lr-gamma X           step and exp: the factor (default 0.1 for step, 0.95 for exp)\n"
           "  --lr-min X             cosine: the floor (default 0)\n"
           "  --warmup N             a linear warm-up over the first N epochs, before the schedule\n"
           "  --no-shuffle           keep the file's order (default: reshuffle every epoch)\n"
           "  --seed N               initialisation, shuffling and split (default 1)\n"
           "  --backend B            cpu|opencl|auto (default auto: an OpenCL GPU, else cpu)\n"
           "  --accumulate N         sum the gradients of N micro-batches per step (the global batch stays\n"
           "                         --batch-size; the device holds one micro-batch)\n"
           "data-parallel (mpirun -n N nncl train ...; docs/distributed.md; each rank opens OpenCL device\n"
           "its rank on the machine, unless --device names one):\n"
           "  --reduction R          exact (default: N ranks give the bits of --accumulate N) | fast (MPI_Allreduce)\n"
           "  --bucket-bytes B       sum the gradient in buckets of adjacent layers of at least B bytes, each begun\n"
           "                         as backward produces it (default 1048576; 1: a bucket per layer; all: one\n"
           "                         bucket after the whole backward, no overlap)\n");
    cli_backend_help(1);
    printf("output:\n"
           "  --out FILE             save the model (safetensors, written atomically)\n"
           "  --metrics FILE         one CSV row per epoch\n"
           "  --checkpoint-every N   every N epochs save the model to --out and the trainer's state (weights,\n"
           "                         optimizer, position, shuffle state) to the checkpoint (atomically)\n"
           "  --checkpoint FILE      the checkpoint (default: OUT.ckpt); also written on Ctrl-C, SIGTERM, SIGHUP\n"
           "  --resume FILE          continue a checkpoint exactly (its options and data; --epochs may change)\n"
           "  --dry-run              print the memory plan for the chosen backend and stop\n"
           "  --save-last-good       when training diverges, write the last good model (the start of the epoch\n"
           "                         that diverged) to --out; exit status 1 still\n"
           "  --no-verify            skip the CLBlast guard: on an OpenCL device, training first checks CLBlast on\n"
           "                         the net's own matrix products against the CPU (once per device, driver,\n"
           "                         CLBlast version and shapes; remembered in ~/.cache/nncl)\n"
           "  --manifest FILE        write what produced this run (seed, backend, device, driver, CLBlast and\n"
           "                         kernel versions, options) as JSON\n"
           "  --quiet                no per-epoch lines\n"
           "With --dataset, training ends with an evaluation on its test split.\n"
           "Ctrl-C, SIGTERM and SIGHUP stop after the current step, write the checkpoint and the model to --out and\n"
           "exit 130, 143 or 129; a second signal exits at once.\n");
}


/*
 * Every option's range and every name, before any data is read or a backend opened: a usage error (exit 2)
 * that names the option, instead of a failure after minutes of loading. The one check that needs the data,
 * that --val-split holds out at least one example, is in run(), still before training.
 */
static int check_args(const struct train_args *a) {
    const struct nncl_train_options *o = &a->opts;
    if (cli_optim_check(CMD, &a->optim, o)) return CLI_USAGE; /* the same checks as nncl check's */
    if (!(o->val_fraction >= 0.0f && o->val_fraction < 1.0f)) {
        return cli_usage_error(CMD, "--val-split %g: must be in [0, 1)", (double)o->val_fraction);
    }
    if (!(o->tol >= 0.0)) return cli_usage_error(CMD, "--tol %g: must be >= 0", (double)o->tol);
    if (cli_check_hidden(CMD, a->hidden)) return CLI_USAGE;
    enum nncl_loss loss;
    enum nncl_act act;
    enum nncl_init init;
    if (a->loss && nncl_loss_from_name(a->loss, &loss)) return cli_usage_error(CMD, "--loss: %s", nncl_last_error());
    if (a->output_act && strcmp(a->output_act, "softmax") != 0 && nncl_act_from_name(a->output_act, &act)) {
        return cli_usage_error(CMD, "--output-act: %s", nncl_last_error());
    }
    if (a->init && nncl_init_from_name(a->init, &init)) return cli_usage_error(CMD, "--init: %s", nncl_last_error());
    /* --epochs 0 only writes the initialised model: without --out (or --dry-run) it would do nothing at all */
    if (a->epochs_given && o->epochs == 0 && !a->out && !a->dry_run) {
        return cli_usage_error(CMD, "--epochs 0 trains nothing and only writes the initialised model to --out; give "
                                    "--out FILE (or --dry-run)");
    }
    return CLI_OK;
}

int train_parse_args(int argc, char **argv, struct train_args *a) {
    enum { O_VAL = 256, O_HIDDEN, O_LOSS, O_OUTACT, O_INIT, O_INITFROM, O_BATCH, O_EPOCHS, O_PATIENCE, O_TOL,
           O_NOSHUF, O_SEED, O_BACKEND, O_OUT, O_METRICS, O_QUIET, O_HELP, O_CHECKPOINT, O_DRYRUN, O_NOVERIFY,
           O_MANIFEST, O_RESUME, O_CKPT_FILE, O_KEEP_LAST, O_SCHEDULE, O_LR_STEP, O_LR_GAMMA, O_LR_MIN, O_WARMUP,
           O_ACCUMULATE, O_REDUCTION, O_SAVE_LAST_GOOD, O_BUCKET };
    static const struct option own_opts[] = {
        {"checkpoint-every", required_argument, 0, O_CHECKPOINT}, {"dry-run", no_argument, 0, O_DRYRUN},
        {"no-verify", no_argument, 0, O_NOVERIFY}, {"manifest", required_argument, 0, O_MANIFEST},
        {"val-split", required_argument, 0, O_VAL}, {"hidden", required_argument, 0, O_HIDDEN},
        {"loss", required_argument, 0, O_LOSS}, {"output-act", required_argument, 0, O_OUTACT},
        {"init", required_argument, 0, O_INIT}, {"init-from", required_argument, 0, O_INITFROM},
        {"batch-size", required_argument, 0, O_BATCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"patience", required_argument, 0, O_PATIENCE}, {"tol", required_argument, 0, O_TOL},
        {"no-shuffle", no_argument, 0, O_NOSHUF}, {"seed", required_argument, 0, O_SEED},
        {"backend", required_argument, 0, O_BACKEND}, {"out", required_argument, 0, O_OUT},
        {"metrics", required_argument, 0, O_METRICS}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP}, {"resume", required_argument, 0, O_RESUME},
        {"checkpoint", required_argument, 0, O_CKPT_FILE}, {"keep-last", no_argument, 0, O_KEEP_LAST},
        {"lr-schedule", required_argument, 0, O_SCHEDULE}, {"lr-step", required_argument, 0, O_LR_STEP},
        {"lr-gamma", required_argument, 0, O_LR_GAMMA}, {"lr-min", required_argument, 0, O_LR_MIN},
        {"warmup", required_argument, 0, O_WARMUP}, {"no-standardize-targets", no_argument, 0, O_RAW_TARGETS},
        {"accumulate", required_argument, 0, O_ACCUMULATE}, {"reduction", required_argument, 0, O_REDUCTION},
        {"save-last-good", no_argument, 0, O_SAVE_LAST_GOOD}, {"bucket-bytes", required_argument, 0, O_BUCKET},
        {0, 0, 0, 0},
    };
    cli_optim_init(&a->optim, &a->opts);
    a->backend = "auto";
    opterr = 0;
    optind = 1;
    int c;
    float tol = 0;
    int raw_targets = 0;
    struct option long_opts[CLI_MAX_OPTIONS], with_optim[CLI_MAX_OPTIONS];
    if (cli_step_options(CMD, argc, argv, own_opts, long_opts, with_optim, CLI_MAX_OPTIONS)) return CLI_USAGE;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        int rc = CLI_OK;
        if (cli_step_option(CMD, c, optarg, &a->data, &a->optim, &a->opts, &a->bopts, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case O_CHECKPOINT: rc = cli_parse_size(CMD, "--checkpoint-every", optarg, &a->checkpoint_every); break;
        case O_DRYRUN: a->dry_run = 1; break;
        case O_SAVE_LAST_GOOD: a->save_last_good = 1; break;
        case O_NOVERIFY: a->no_verify = 1; break;
        case O_MANIFEST: a->manifest = optarg; break;
        case O_VAL: rc = cli_parse_float(CMD, "--val-split", optarg, &a->opts.val_fraction); break;
        case O_HIDDEN: a->hidden = optarg; break;
        case O_LOSS: a->loss = optarg; break;
        case O_OUTACT: a->output_act = optarg; break;
        case O_INIT: a->init = optarg; break;
        case O_INITFROM: a->init_from = optarg; break;
        case O_BATCH: rc = cli_parse_size(CMD, "--batch-size", optarg, &a->opts.batch_size), a->batch_given = 1; break;
        case O_EPOCHS: rc = cli_parse_size(CMD, "--epochs", optarg, &a->opts.epochs), a->epochs_given = 1; break;
        case O_PATIENCE: rc = cli_parse_size(CMD, "--patience", optarg, &a->opts.patience); break;
        case O_TOL: rc = cli_parse_float(CMD, "--tol", optarg, &tol), a->opts.tol = tol; break;
        case O_NOSHUF: a->opts.shuffle = 0; break;
        case O_SEED: rc = cli_parse_u64(CMD, "--seed", optarg, &a->opts.seed); break;
        case O_BACKEND: a->backend = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_METRICS: a->metrics = optarg; break;
        case O_QUIET: a->quiet = 1; break;
        case O_RAW_TARGETS: raw_targets = 1; break;
        case 'h':
        case O_HELP: help(); exit(CLI_OK);
        case O_RESUME: a->resume = optarg; break;
        case O_CKPT_FILE: a->checkpoint = optarg; break;
        case O_KEEP_LAST: a->opts.keep_last = 1; break;
        case O_SCHEDULE: a->lr_schedule = optarg; break;
        case O_LR_STEP: rc = cli_parse_size(CMD, "--lr-step", optarg, &a->opts.schedule.step_epochs); break;
        case O_LR_GAMMA: rc = cli_parse_float(CMD, "--lr-gamma", optarg, &a->opts.schedule.gamma), a->gamma_given = 1; break;
        case O_LR_MIN: rc = cli_parse_float(CMD, "--lr-min", optarg, &a->opts.schedule.min_lr); break;
        case O_WARMUP: rc = cli_parse_size(CMD, "--warmup", optarg, &a->opts.schedule.warmup_epochs); break;
        case O_ACCUMULATE: rc = cli_parse_size(CMD, "--accumulate", optarg, &a->opts.accumulate); break;
        case O_REDUCTION: a->reduction = optarg; break;
        case O_BUCKET:
            if (strcmp(optarg, "all") == 0) {
                a->opts.bucket_bytes = SIZE_MAX;
            } else if (!(rc = cli_parse_size(CMD, "--bucket-bytes", optarg, &a->opts.bucket_bytes)) &&
                       !a->opts.bucket_bytes) {
                rc = cli_usage_error(CMD, "--bucket-bytes: give at least 1 byte, or all");
            }
            break;
        default: return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (cli_check_data_opts(CMD, &a->data)) return CLI_USAGE;
    if (a->checkpoint_every && !a->out) return cli_usage_error(CMD, "--checkpoint-every needs --out FILE to write to");
    if (a->save_last_good && !a->out) return cli_usage_error(CMD, "--save-last-good needs --out FILE to write to");
    if (a->lr_schedule) {
        if (nncl_lr_decay_from_name(a->lr_schedule, &a->opts.schedule.decay)) {
            return cli_usage_error(CMD, "--lr-schedule: %s", nncl_last_error());
        }
        if (!a->opts.schedule.step_epochs) a->opts.schedule.step_epochs = 10;
        if (!a->gamma_given) a->opts.schedule.gamma = a->opts.schedule.decay == NNCL_LR_STEP ? 0.1f : 0.95f;
    }
    if (nncl_lr_schedule_check(&a->opts.schedule)) return cli_usage_error(CMD, "%s", nncl_last_error());
    if (a->reduction && nncl_reduction_from_name(a->reduction, &a->opts.reduction)) {
        return cli_usage_error(CMD, "--reduction: %s", nncl_last_error());
    }
    /* the main job's defaults: 15 epochs take the 784-256-128-10 net past 89% test accuracy */
    if (a->data.dataset && !a->epochs_given) a->opts.epochs = 15;
    /* standardised regression targets by default; as given with an output activation (it bounds the outputs:
     * a sigmoid for targets in [0, 1]) or a loss other than mse (which checks the values themselves) */
    a->data.standardize_targets = !raw_targets && !a->output_act && (!a->loss || strcmp(a->loss, "mse") == 0);
    /* several target columns (--target a,b): the model stores one mean and std, so they stay as given */
    if (a->data.standardize_targets && a->data.target && strchr(a->data.target, ',')) {
        a->data.standardize_targets = 0;
        fprintf(stderr, "nncl train: --target %s: several target columns are kept in their units (standardising is "
                        "for one target column)\n", a->data.target);
    }
    return check_args(a);
}

