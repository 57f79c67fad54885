/*
 * cmd_train.c: `nncl train`: describe a net, point it at data, train it on a backend, save it.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "cli.h"
#include "util/util.h"

static const char *const CMD = "train";

static size_t outputs_of(const struct nncl_model_spec *s) { return s->layers[s->n_layers - 1].units; }
#define FASHION_MNIST_HIDDEN "256:relu,128:relu"

static void help(void) {
    printf("usage: nncl train (--data FILE [--labels FILE] | --dataset fashion-mnist) [options]\n"
           "\n"
           "data:\n"
           "  --data FILE            .csv (header row), .safetensors (tensors x and y), or IDX images with --labels\n"
           "  --labels FILE          IDX labels for IDX images\n"
           "  --dataset NAME         fashion-mnist (the Debian package dataset-fashion-mnist); also evaluates\n"
           "                         on its test split after training\n"
           "  --split S              train (default) or test: the part of --dataset to train on\n"
           "  --target COLUMN        CSV target column (default: the last)\n"
           "  --ignore COL[,COL]     CSV columns that are not inputs (an id, or another target)\n"
           "  --task T               auto|regression|binary|classification (default auto: from the target)\n"
           "  --val-split F          hold out this fraction for validation (default 0)\n"
           "net:\n"
           "  --hidden SPEC          hidden layers, units:activation[:param] left to right, e.g. 256:relu,128:tanh\n"
           "                         activations: identity sigmoid tanh relu leaky_relu elu (default: none; \n"
           "                         " FASHION_MNIST_HIDDEN " for fashion-mnist)\n"
           "  --loss L               mse|bce|xent (default: mse for regression, bce for binary, xent for classes)\n"
           "  --output-act A         output activation with the mse loss: an activation name or softmax\n"
           "  --init I               uniform (default, scaled by fan-in)|xavier|he|zero\n"
           "  --init-from MODEL      continue from a model file (same architecture)\n"
           "training:\n"
           "  --optimizer O          sgd|momentum|adam (default adam)\n"
           "  --lr X                 learning rate (default 0.001 for adam, 0.01 otherwise)\n"
           "  --momentum X           momentum (default 0.9)\n"
           "  --weight-decay X       L2 weight decay (default 0)\n"
           "  --batch-size N         examples per step; 0 = the whole set (batch gradient descent), 1 = stochastic\n"
           "                         (default 128)\n"
           "  --epochs N             maximum epochs (default 10, 15 for fashion-mnist; 0 writes the initialised\n"
           "                         model untrained)\n"
           "  --patience N --tol X   stop when the loss (validation loss with --val-split) has not improved by\n"
           "                         more than X (default 1e-4) for N epochs (default 0: never)\n"
           "  --no-shuffle           keep the file's order (default: reshuffle every epoch)\n"
           "  --seed N               initialisation, shuffling and split (default 1)\n"
           "  --backend B            cpu|opencl|auto (default auto: an OpenCL GPU, else cpu)\n"
           "  --threads N            host threads for the CPU backend (default: the cores OpenMP sees, or\n"
           "                         NNCL_THREADS); results are bit-identical for any N\n"
           "output:\n"
           "  --out FILE             save the model (safetensors, written atomically)\n"
           "  --metrics FILE         one CSV row per epoch\n"
           "  --checkpoint-every N   also save the model to --out every N epochs (atomically)\n"
           "  --dry-run              print the memory plan for the chosen backend and stop\n"
           "  --no-verify            skip the CLBlast guard: on an OpenCL device, training first checks CLBlast on\n"
           "                         the net's own matrix products against the CPU (once per device, driver,\n"
           "                         CLBlast version and shapes; remembered in ~/.cache/nncl)\n"
           "  --manifest FILE        write what produced this run (seed, backend, device, driver, CLBlast and\n"
           "                         kernel versions, options) as JSON\n"
           "Ctrl-C stops after the current step and saves the model to --out; a second Ctrl-C exits at once.\n"
           "  --quiet                no per-epoch lines\n");
}

struct train_args {
    struct cli_data_opts data;
    const char *hidden, *loss, *output_act, *init, *init_from, *optimizer, *backend, *out, *metrics;
    struct nncl_train_options opts;
    size_t checkpoint_every, threads; /* threads 0: the backend's default */
    const char *manifest;
    int lr_given, epochs_given, quiet, dry_run, no_verify;
};

static int parse_args(int argc, char **argv, struct train_args *a) {
    enum { O_LABELS = 256, O_TARGET, O_TASK, O_VAL, O_HIDDEN, O_LOSS, O_OUTACT, O_INIT, O_INITFROM, O_OPT, O_LR, O_MOM,
           O_WD, O_BATCH, O_EPOCHS, O_PATIENCE, O_TOL, O_NOSHUF, O_SEED, O_BACKEND, O_OUT, O_METRICS, O_DATASET,
           O_DATA, O_QUIET, O_HELP, O_SPLIT, O_IGNORE, O_CHECKPOINT, O_DRYRUN, O_NOVERIFY, O_MANIFEST, O_THREADS };
    static const struct option long_opts[] = {
        {"data", required_argument, 0, O_DATA}, {"labels", required_argument, 0, O_LABELS},
        {"dataset", required_argument, 0, O_DATASET}, {"split", required_argument, 0, O_SPLIT},
        {"target", required_argument, 0, O_TARGET}, {"task", required_argument, 0, O_TASK},
        {"ignore", required_argument, 0, O_IGNORE},
        {"checkpoint-every", required_argument, 0, O_CHECKPOINT}, {"dry-run", no_argument, 0, O_DRYRUN},
        {"no-verify", no_argument, 0, O_NOVERIFY}, {"manifest", required_argument, 0, O_MANIFEST},
        {"threads", required_argument, 0, O_THREADS},
        {"val-split", required_argument, 0, O_VAL}, {"hidden", required_argument, 0, O_HIDDEN},
        {"loss", required_argument, 0, O_LOSS}, {"output-act", required_argument, 0, O_OUTACT},
        {"init", required_argument, 0, O_INIT}, {"init-from", required_argument, 0, O_INITFROM},
        {"optimizer", required_argument, 0, O_OPT}, {"lr", required_argument, 0, O_LR},
        {"momentum", required_argument, 0, O_MOM}, {"weight-decay", required_argument, 0, O_WD},
        {"batch-size", required_argument, 0, O_BATCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"patience", required_argument, 0, O_PATIENCE}, {"tol", required_argument, 0, O_TOL},
        {"no-shuffle", no_argument, 0, O_NOSHUF}, {"seed", required_argument, 0, O_SEED},
        {"backend", required_argument, 0, O_BACKEND}, {"out", required_argument, 0, O_OUT},
        {"metrics", required_argument, 0, O_METRICS}, {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0},
    };
    a->opts = nncl_train_defaults();
    a->backend = "auto";
    opterr = 0;
    optind = 1;
    int c;
    float tol = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        int rc = CLI_OK;
        switch (c) {
        case O_DATA: a->data.data = optarg; break;
        case O_LABELS: a->data.labels = optarg; break;
        case O_DATASET: a->data.dataset = optarg; break;
        case O_SPLIT: a->data.split = optarg; break;
        case O_TARGET: a->data.target = optarg; break;
        case O_TASK: a->data.task = optarg; break;
        case O_IGNORE: a->data.ignore = optarg; break;
        case O_CHECKPOINT: rc = cli_parse_size(CMD, "--checkpoint-every", optarg, &a->checkpoint_every); break;
        case O_DRYRUN: a->dry_run = 1; break;
        case O_NOVERIFY: a->no_verify = 1; break;
        case O_MANIFEST: a->manifest = optarg; break;
        case O_VAL: rc = cli_parse_float(CMD, "--val-split", optarg, &a->opts.val_fraction); break;
        case O_HIDDEN: a->hidden = optarg; break;
        case O_LOSS: a->loss = optarg; break;
        case O_OUTACT: a->output_act = optarg; break;
        case O_INIT: a->init = optarg; break;
        case O_INITFROM: a->init_from = optarg; break;
        case O_OPT: a->optimizer = optarg; break;
        case O_LR: rc = cli_parse_float(CMD, "--lr", optarg, &a->opts.lr), a->lr_given = 1; break;
        case O_MOM: rc = cli_parse_float(CMD, "--momentum", optarg, &a->opts.momentum); break;
        case O_WD: rc = cli_parse_float(CMD, "--weight-decay", optarg, &a->opts.weight_decay); break;
        case O_BATCH: rc = cli_parse_size(CMD, "--batch-size", optarg, &a->opts.batch_size); break;
        case O_EPOCHS: rc = cli_parse_size(CMD, "--epochs", optarg, &a->opts.epochs), a->epochs_given = 1; break;
        case O_PATIENCE: rc = cli_parse_size(CMD, "--patience", optarg, &a->opts.patience); break;
        case O_TOL: rc = cli_parse_float(CMD, "--tol", optarg, &tol), a->opts.tol = tol; break;
        case O_NOSHUF: a->opts.shuffle = 0; break;
        case O_SEED: rc = cli_parse_u64(CMD, "--seed", optarg, &a->opts.seed); break;
        case O_BACKEND: a->backend = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_THREADS: rc = cli_parse_size(CMD, "--threads", optarg, &a->threads); break;
        case O_METRICS: a->metrics = optarg; break;
        case O_QUIET: a->quiet = 1; break;
        case O_HELP: help(); exit(CLI_OK);
        default: return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (a->checkpoint_every && !a->out) return cli_usage_error(CMD, "--checkpoint-every needs --out FILE to write to");
    /* the main job's defaults: 15 epochs take the 784-256-128-10 net past 89% test accuracy */
    if (a->data.dataset && !a->epochs_given) a->opts.epochs = 15;
    return CLI_OK;
}

/* Ctrl-C: the first sets the trainer's stop flag (it stops after the current step and the model is
 * saved); the second exits at once. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    if (interrupted) _exit(130);
    interrupted = 1;
}

/* The net the options describe, with the head chosen by the data's task unless overridden. */
static int build_spec(const struct train_args *a, const struct nncl_dataset *ds, struct nncl_model_spec *spec) {
    memset(spec, 0, sizeof *spec);
    spec->n_inputs = ds->n_inputs;
    const char *hidden = a->hidden ? a->hidden : (a->data.dataset ? FASHION_MNIST_HIDDEN : "");
    if (nncl_parse_hidden(hidden, spec)) return cli_fail(CMD, "the net");
    struct nncl_layer_spec *out = &spec->layers[spec->n_layers++];
    out->units = ds->n_outputs;
    out->act = NNCL_ACT_IDENTITY;
    spec->loss = ds->task == NNCL_TASK_CLASSIFICATION ? NNCL_LOSS_XENT
                 : ds->task == NNCL_TASK_BINARY       ? NNCL_LOSS_BCE
                                                      : NNCL_LOSS_MSE;
    if (a->loss && nncl_loss_from_name(a->loss, &spec->loss)) return cli_fail(CMD, "--loss");
    if (a->output_act) {
        if (spec->loss != NNCL_LOSS_MSE) {
            return cli_usage_error(CMD, "--output-act only applies to the mse loss (bce has a sigmoid and xent a "
                                        "softmax built in); add --loss mse");
        }
        if (strcmp(a->output_act, "softmax") == 0) {
            spec->output_softmax = 1;
        } else if (nncl_act_from_name(a->output_act, &out->act)) {
            return cli_fail(CMD, "--output-act");
        }
        out->act_param = nncl_act_default_param(out->act);
    }
    if (nncl_model_spec_check(spec)) return cli_fail(CMD, "the net");
    return CLI_OK;
}

static int same_architecture(const struct nncl_model_spec *x, const struct nncl_model_spec *y) {
    if (x->n_inputs != y->n_inputs || x->n_layers != y->n_layers || x->loss != y->loss ||
        x->output_softmax != y->output_softmax) {
        return 0;
    }
    for (size_t l = 0; l < x->n_layers; l++) {
        if (x->layers[l].units != y->layers[l].units) return 0;
        if (l + 1 < x->n_layers && x->layers[l].act != y->layers[l].act) return 0;
    }
    return 1;
}

struct progress {
    FILE *metrics;
    int tty, quiet;
    size_t epochs;
    const struct nncl_model *model;
    const char *out;
    size_t checkpoint_every;
    int checkpoint_failed;
};

static int on_epoch(const struct nncl_epoch_report *r, void *user) {
    struct progress *p = user;
    if (p->checkpoint_every && r->epoch % p->checkpoint_every == 0 && nncl_model_save(p->model, p->out)) {
        fprintf(stderr, "nncl train: checkpoint after epoch %zu failed: %s\n", r->epoch, nncl_last_error());
        p->checkpoint_failed = 1;
        return 1;
    }
    if (p->metrics) {
        fprintf(p->metrics, "%zu,%zu,%.9g,%.9g,%.9g,%.9g,%.6f\n", r->epoch, r->steps, r->train_loss, r->train_error,
                r->val_loss, r->val_error, r->seconds);
        fflush(p->metrics);
    }
    if (p->quiet) return 0;
    char metric[64] = "", val[96] = "";
    if (!isnan(r->train_error)) snprintf(metric, sizeof metric, "  accuracy %.2f%%", 100.0 * (1.0 - r->train_error));
    if (r->has_val) {
        snprintf(val, sizeof val, "  val loss %.4f%s", r->val_loss, "");
        if (!isnan(r->val_error)) {
            size_t used = strlen(val);
            snprintf(val + used, sizeof val - used, "  val accuracy %.2f%%", 100.0 * (1.0 - r->val_error));
        }
    }
    if (p->tty) {
        char bar[21];
        size_t filled = p->epochs ? r->epoch * 20 / p->epochs : 20;
        for (size_t i = 0; i < 20; i++) bar[i] = i < filled ? '=' : ' ';
        bar[20] = '\0';
        fprintf(stderr, "[%s] epoch %zu/%zu  loss %.4f%s%s  %.0f examples/s  %.2f s\n", bar, r->epoch, p->epochs,
                r->train_loss, metric, val, r->examples_per_second, r->seconds);
    } else {
        fprintf(stderr, "epoch %zu/%zu loss %.6f%s%s %.0f examples/s %.3f s\n", r->epoch, p->epochs, r->train_loss,
                metric, val, r->examples_per_second, r->seconds);
    }
    return 0;
}

/* A JSON record of what produced this run, so a result can be traced. */
static int write_manifest(const struct train_args *a, const struct nncl_model *model, const struct nncl_dataset *ds) {
    FILE *f = fopen(a->manifest, "w");
    if (!f) {
        fprintf(stderr, "nncl train: --manifest %s: cannot open for writing\n", a->manifest);
        return CLI_FAIL;
    }
    const struct nncl_model_spec *s = nncl_model_get_spec(model);
    fprintf(f, "{\n  \"command\": \"nncl train\",\n  \"nncl_version\": \"%s\",\n  \"seed\": %llu,\n", NNCL_VERSION_STRING,
            (unsigned long long)a->opts.seed);
    fprintf(f, "  \"backend\": \"%s\",\n  \"threads\": %d,\n  \"versions\": \"", nncl_backend_name(nncl_model_backend(model)),
            nncl_backend_threads(nncl_model_backend(model)));
    for (const char *p = nncl_backend_versions(nncl_model_backend(model)); *p; p++) {
        if (*p == '"' || *p == '\\') fputc('\\', f);
        fputc(*p, f);
    }
    fprintf(f, "\",\n  \"data\": {\"examples\": %zu, \"inputs\": %zu, \"outputs\": %zu},\n", ds->n, ds->n_inputs,
            ds->n_outputs);
    fprintf(f, "  \"net\": {\"layers\": %zu, \"parameters\": %zu, \"loss\": \"%s\"},\n", s->n_layers,
            nncl_model_param_count(model), nncl_loss_name(s->loss));
    fprintf(f, "  \"training\": {\"optimizer\": \"%s\", \"lr\": %g, \"batch_size\": %zu, \"epochs\": %zu, "
               "\"weight_decay\": %g, \"shuffle\": %s}\n}\n", nncl_optimizer_name(a->opts.optimizer), (double)a->opts.lr,
            a->opts.batch_size && a->opts.batch_size < ds->n ? a->opts.batch_size : ds->n, a->opts.epochs,
            (double)a->opts.weight_decay, a->opts.shuffle ? "true" : "false");
    if (fclose(f) != 0) {
        fprintf(stderr, "nncl train: --manifest %s: write failed\n", a->manifest);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int dry_run(const struct train_args *a, struct nncl_model *model, const struct nncl_dataset *ds) {
    struct nncl_memory_plan plan;
    const enum nncl_status st = nncl_train_plan(model, ds, &a->opts, &plan);
    if (st && st != NNCL_ERR_OOM) return cli_fail(CMD, "memory plan");
    const double m = 1024.0 * 1024.0;
    printf("memory plan on %s (%s)\n", nncl_backend_name(nncl_model_backend(model)), nncl_backend_device(nncl_model_backend(model)));
    printf("  parameters        %10.2f MiB  (%zu floats)\n", (double)plan.parameters / m, nncl_model_param_count(model));
    printf("  gradients         %10.2f MiB\n", (double)plan.gradients / m);
    printf("  optimizer state   %10.2f MiB  (%s)\n", (double)plan.optimizer_state / m, nncl_optimizer_name(a->opts.optimizer));
    printf("  epoch snapshot    %10.2f MiB  (last good parameters and optimizer state)\n", (double)plan.snapshot / m);
    printf("  activations       %10.2f MiB  (per batch)\n", (double)plan.activations / m);
    printf("  batch             %10.2f MiB\n", (double)plan.batch / m);
    printf("  data set          %10.2f MiB  (%zu examples)%s\n", (double)plan.dataset / m, ds->n,
           plan.streaming ? ": does not fit, streamed from host memory batch by batch" : ": kept on the device");
    printf("  available         %10.2f MiB  of %.2f MiB (largest buffer %.2f MiB)\n", (double)plan.limit / m,
           (double)plan.device_total / m, (double)plan.device_max_alloc / m);
    if (!plan.fits) {
        fprintf(stderr, "nncl train: %s\n", nncl_last_error());
        return CLI_FAIL;
    }
    printf("the net fits%s\n", plan.streaming ? "; the data set is streamed" : " with the data set");
    return CLI_OK;
}

static int run(struct train_args *a, struct nncl_backend *be) {
    struct nncl_dataset ds;
    struct nncl_model *model = NULL, *from = NULL;
    int rc = CLI_OK;
    if (a->init_from && nncl_model_load(be, a->init_from, &from)) return cli_fail(CMD, "--init-from");
    rc = cli_load_data(CMD, &a->data, from, 1, &ds);
    if (rc) {
        nncl_model_free(from);
        return rc;
    }
    struct nncl_model_spec spec;
    rc = build_spec(a, &ds, &spec);
    if (!rc && from) {
        if (a->hidden && !same_architecture(&spec, nncl_model_get_spec(from))) {
            rc = cli_usage_error(CMD, "--init-from %s: the model file has another architecture than --hidden "
                                      "describes; drop --hidden to continue that model", a->init_from);
        } else if (nncl_model_get_spec(from)->n_inputs != ds.n_inputs ||
                   outputs_of(nncl_model_get_spec(from)) != ds.n_outputs) {
            fprintf(stderr, "nncl train: --init-from %s takes %zu inputs and gives %zu outputs, the data has %zu and %zu\n",
                    a->init_from, nncl_model_get_spec(from)->n_inputs, outputs_of(nncl_model_get_spec(from)),
                    ds.n_inputs, ds.n_outputs);
            rc = CLI_FAIL;
        }
        model = from;
        from = NULL;
    } else if (!rc) {
        enum nncl_init init = NNCL_INIT_UNIFORM;
        if (a->init && nncl_init_from_name(a->init, &init)) rc = cli_fail(CMD, "--init");
        if (!rc && nncl_model_init(be, &spec, init, a->opts.seed, &model)) rc = cli_fail(CMD, "cannot create the model");
    }
    if (!rc && nncl_model_set_data_info(model, &ds)) rc = cli_fail(CMD, "model");
    if (!rc && a->optimizer && nncl_optimizer_from_name(a->optimizer, &a->opts.optimizer)) rc = cli_fail(CMD, "--optimizer");
    if (!rc && !a->lr_given && a->opts.optimizer != NNCL_OPT_ADAM) a->opts.lr = 0.01f;

    struct progress prog = {.tty = isatty(fileno(stderr)), .quiet = a->quiet, .epochs = a->opts.epochs,
                            .model = model, .out = a->out, .checkpoint_every = a->checkpoint_every};
    if (!rc && a->dry_run) {
        rc = dry_run(a, model, &ds);
        nncl_model_free(model);
        nncl_dataset_free(&ds);
        return rc ? rc : CLI_OK;
    }
    if (!rc && a->metrics) {
        prog.metrics = fopen(a->metrics, "w");
        if (!prog.metrics) {
            fprintf(stderr, "nncl train: --metrics %s: cannot open for writing\n", a->metrics);
            rc = CLI_FAIL;
        } else {
            fprintf(prog.metrics, "epoch,steps,train_loss,train_error,val_loss,val_error,seconds\n");
        }
    }
    if (!rc) {
        const struct nncl_model_spec *s = nncl_model_get_spec(model);
        fprintf(stderr, "nncl train: %zu examples, %zu inputs, %zu outputs; %zu layers, %zu parameters, loss %s; "
                        "%s lr %g, batch %zu; backend %s\n", ds.n, ds.n_inputs, ds.n_outputs, s->n_layers,
                nncl_model_param_count(model), nncl_loss_name(s->loss), nncl_optimizer_name(a->opts.optimizer),
                (double)a->opts.lr, a->opts.batch_size && a->opts.batch_size < ds.n ? a->opts.batch_size : ds.n,
                nncl_backend_device(be));
        const size_t batch = a->opts.batch_size && a->opts.batch_size < ds.n ? a->opts.batch_size : ds.n;
        if (strcmp(nncl_backend_name(be), "cpu") != 0 && !a->no_verify && a->opts.epochs > 0 &&
            check_clblast_guard(be, nncl_model_get_spec(model), batch)) {
            rc = cli_fail(CMD, "refusing to train");
        }
    }
    if (!rc && a->manifest && write_manifest(a, model, &ds)) rc = CLI_FAIL;
    if (!rc) {
        a->opts.on_epoch = on_epoch;
        a->opts.user_data = &prog;
        a->opts.stop = &interrupted;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigaction(SIGINT, &sa, NULL);
        struct nncl_train_result res;
        memset(&res, 0, sizeof res);
        const double t0 = nncl_now_seconds();
        if (a->opts.epochs > 0 && nncl_train(model, &ds, &a->opts, &res)) {
            rc = cli_fail(CMD, "training stopped");
            if (a->out) fprintf(stderr, "nncl train: no model written; %s keeps its previous contents, if any\n", a->out);
        } else if (prog.checkpoint_failed) {
            rc = CLI_FAIL;
        } else if (a->opts.epochs > 0) {
            fprintf(stderr, "nncl train: %zu epochs, %zu steps in %.2f s%s%s\n", res.epochs, res.steps,
                    nncl_now_seconds() - t0, res.converged ? " (stopped: the loss stopped improving)" : "",
                    res.interrupted ? " (interrupted)" : "");
        }
        if (res.interrupted && !rc) rc = 130; /* saved below, then the conventional status of an interrupt */
    }
    if (prog.metrics && fclose(prog.metrics) != 0 && !rc) {
        fprintf(stderr, "nncl train: --metrics %s: write failed\n", a->metrics);
        rc = CLI_FAIL;
    }
    if ((!rc || rc == 130) && a->out) {
        if (nncl_model_save(model, a->out)) {
            rc = cli_fail(CMD, "cannot save the model");
        } else {
            fprintf(stderr, "nncl train: model saved to %s\n", a->out);
        }
    }
    if (rc == 130) fprintf(stderr, "nncl train: interrupted\n");
    if (!rc && a->data.dataset) {
        /* the main job: report accuracy on the held-out test split */
        struct cli_data_opts test = a->data;
        test.split = "test";
        struct nncl_dataset tds;
        rc = cli_load_data(CMD, &test, model, 1, &tds);
        double loss = 0, err = 0;
        if (!rc && nncl_evaluate(model, &tds, 1024, &loss, &err)) rc = cli_fail(CMD, "evaluating the test split");
        if (!rc) {
            printf("test accuracy %.2f%% (loss %.4f) on %zu examples of %s\n", 100.0 * (1.0 - err), loss, tds.n,
                   a->data.dataset);
        }
        nncl_dataset_free(&tds);
    }
    nncl_model_free(model);
    nncl_model_free(from);
    nncl_dataset_free(&ds);
    return rc;
}

int cmd_train(int argc, char **argv) {
    struct train_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    struct nncl_backend *be = NULL;
    if ((rc = cli_open_backend(CMD, a.backend, &be))) return rc;
    if (a.threads > 4096 || nncl_backend_set_threads(be, (int)a.threads)) {
        nncl_backend_free(be);
        return cli_usage_error(CMD, "--threads %zu: give 1 to 4096, or 0 for the default", a.threads);
    }
    rc = run(&a, be);
    nncl_backend_free(be);
    return rc;
}
