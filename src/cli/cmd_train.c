/*
 * cmd_train.c: `nncl train`: describe a net, point it at data, train it on a backend, save it.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/op_cases.h"
#include "cli.h"
#include "cmd_train.h"
#include "model_impl.h"
#include "train_impl.h"
#include "runs.h"
#include "util/util.h"

static const char *const CMD = "train";

static size_t outputs_of(const struct nncl_model_spec *s) { return s->layers[s->n_layers - 1].units; }

/* Ctrl-C, SIGTERM, SIGHUP: the first sets the trainer's stop flag to the signal's number (it stops after
 * the current step; the checkpoint and the model are written; exit 128 + the number); a second exits at once. */
static volatile sig_atomic_t interrupted;

static int several_ranks; /* under mpirun: a rank blocked in a sum whose peer died never reaches the next step */

static void on_sigint(int sig) {
    if (interrupted) _exit(128 + sig);
    interrupted = sig;
    if (several_ranks) alarm(10); /* the ranks stop together within a step; if not, SIGALRM ends this one */
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

static int same_dropout(const struct nncl_model_spec *x, const struct nncl_model_spec *y) {
    for (size_t l = 0; l < x->n_layers && l < y->n_layers; l++) {
        if (x->layers[l].dropout != y->layers[l].dropout) return 0;
    }
    return 1;
}

static int set_dropout_rates(struct nncl_model *m, const struct nncl_model_spec *from_hidden) {
    float rates[NNCL_MAX_LAYERS];
    for (size_t l = 0; l < from_hidden->n_layers; l++) rates[l] = from_hidden->layers[l].dropout;
    return nncl_model_set_dropout_rates(m, rates, from_hidden->n_layers) ? cli_fail(CMD, "--init-from") : CLI_OK;
}

struct progress {
    FILE *metrics;
    int tty, quiet;
    size_t epochs;
    const struct nncl_model *model;
    const char *out;
    size_t checkpoint_every;
    int checkpoint_failed;
    struct cli_progress_line line;
    double loss_scale; /* std^2 of standardised regression targets: the losses in the data's units */
};

static void on_step(const struct nncl_step_report *r, void *user) {
    cli_progress_step(&((struct progress *)user)->line, r);
}

static int on_epoch(const struct nncl_epoch_report *in, void *user) {
    struct progress *p = user;
    struct nncl_epoch_report scaled = *in;
    scaled.train_loss *= p->loss_scale, scaled.val_loss *= p->loss_scale;
    const struct nncl_epoch_report *r = &scaled;
    if (p->checkpoint_every && r->epoch % p->checkpoint_every == 0 && nncl_model_save(p->model, p->out)) {
        fprintf(stderr, "nncl train: checkpoint after epoch %zu failed: %s\n", r->epoch, nncl_last_error());
        p->checkpoint_failed = 1;
        return 1;
    }
    if (p->metrics) {
        fprintf(p->metrics, "%zu,%zu,%.9g,%.9g,%.9g,%.9g,%.6f,%.9g\n", r->epoch, r->steps, r->train_loss,
                r->train_error, r->val_loss, r->val_error, r->seconds, r->lr);
        fflush(p->metrics);
    }
    cli_progress_clear(&p->line);
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
static int write_manifest(const struct train_args *a, const struct nncl_model *model, const struct nncl_dataset *ds,
                          const struct nncl_train_geometry *g) {
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
            g->batch_rows, a->opts.epochs,
            (double)a->opts.weight_decay, a->opts.shuffle ? "true" : "false");
    if (g->parts > 1) { /* the object above is the last without it: a plain run's manifest is as it was */
        fseek(f, -3, SEEK_CUR);
        fprintf(f, ",\n  \"distributed\": {\"ranks\": %zu, \"accumulate\": %zu, \"reduction\": \"%s\", "
                   "\"communicator\": \"%s\"}\n}\n", g->ranks, g->accumulate, nncl_reduction_name(a->opts.reduction),
                nncl_comm_name(a->opts.comm));
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "nncl train: --manifest %s: write failed\n", a->manifest);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* The plan's row counts of the run's matrix products, as "3, 2" into out. */
static void list_rows(const size_t *rows, size_t n, char *out, size_t cap) {
    out[0] = '\0';
    for (size_t i = 0, used = 0; i < n && used < cap; i++, used = strlen(out)) {
        snprintf(out + used, cap - used, "%s%zu", i ? ", " : "", rows[i]);
    }
}

/* --dry-run: the training plan (nncl_train_plan's geometry and memory), without training. */
static int dry_run(const struct train_args *a, struct nncl_model *model, const struct nncl_dataset *ds,
                   const struct nncl_memory_plan *p, enum nncl_status st) {
    if (st && st != NNCL_ERR_OOM) return cli_fail(CMD, "memory plan");
    const struct nncl_memory_plan plan = *p;
    const struct nncl_train_geometry *g = &plan.geometry;
    struct op_case cases[TRAIN_MAX_GEMM_CASES];
    char step_rows[64], val_rows[64];
    list_rows(g->step_rows, g->n_step_rows, step_rows, sizeof step_rows);
    list_rows(g->forward_rows, g->n_forward_rows, val_rows, sizeof val_rows);
    printf("training plan: %zu training examples, %zu for validation\n", g->n_train, g->n_val);
    printf("  steps per epoch   %zu, of %zu rows (the last of %zu)\n", g->steps_per_epoch, g->batch_rows,
           g->last_batch_rows);
    printf("  validation steps  %zu, of %zu rows (the last of %zu)\n", g->val_batches, g->val_batch_rows,
           g->val_last_batch_rows);
    printf("  matrix products   %zu shapes at %s rows (training)%s%s%s: what the CLBlast guard checks\n",
           train_gemm_cases(nncl_model_get_spec(model), g, cases, TRAIN_MAX_GEMM_CASES), step_rows,
           g->n_forward_rows ? " and " : "", val_rows, g->n_forward_rows ? " (validation)" : "");
    const double m = 1024.0 * 1024.0;
    printf("memory plan on %s (%s)\n", nncl_backend_name(nncl_model_backend(model)), nncl_backend_device(nncl_model_backend(model)));
    printf("  parameters        %10.2f MiB  (%zu floats)\n", (double)plan.parameters / m, nncl_model_param_count(model));
    printf("  gradients         %10.2f MiB\n", (double)plan.gradients / m);
    printf("  optimizer state   %10.2f MiB  (%s)\n", (double)plan.optimizer_state / m, nncl_optimizer_name(a->opts.optimizer));
    printf("  epoch snapshot    %10.2f MiB  (last good parameters and optimizer state)\n", (double)plan.snapshot / m);
    if (plan.best) printf("  best epoch        %10.2f MiB  (kept for --patience)\n", (double)plan.best / m);
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
    /* the stop signals are caught from the start: one during loading stops the run before its first step */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* every file the run writes is checked before any data is loaded or any step runs */
    char ckpt_default[4096];
    const char *ckpt = a->checkpoint;
    if (!ckpt && a->out) snprintf(ckpt_default, sizeof ckpt_default, "%s.ckpt", a->out), ckpt = ckpt_default;
    if (a->out && (rc = cli_check_writable(CMD, "--out", a->out))) return rc;
    if (ckpt && (rc = cli_check_writable(CMD, a->checkpoint ? "--checkpoint" : "the checkpoint", ckpt))) return rc;
    if (a->metrics && (rc = cli_check_writable(CMD, "--metrics", a->metrics))) return rc;
    if (a->manifest && (rc = cli_check_writable(CMD, "--manifest", a->manifest))) return rc;
    if (a->resume) {
        /* a checkpoint is a model file too: the net, its weights and the data's transform */
        if (nncl_model_load(be, a->resume, &from)) return cli_fail(CMD, "--resume");
    } else if (a->init_from && nncl_model_load(be, a->init_from, &from)) {
        return cli_fail(CMD, "--init-from");
    }
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
        } else if (a->hidden && !same_dropout(&spec, nncl_model_get_spec(from)) && a->resume) {
            rc = cli_usage_error(CMD, "--resume %s: --hidden sets other dropout rates than the checkpoint trains "
                                      "with, and a resumed run continues exactly; drop --hidden", a->resume);
        } else if (nncl_model_get_spec(from)->n_inputs != ds.n_inputs ||
                   outputs_of(nncl_model_get_spec(from)) != ds.n_outputs) {
            fprintf(stderr, "nncl train: --init-from %s takes %zu inputs and gives %zu outputs, the data has %zu and %zu\n",
                    a->init_from, nncl_model_get_spec(from)->n_inputs, outputs_of(nncl_model_get_spec(from)),
                    ds.n_inputs, ds.n_outputs);
            rc = CLI_FAIL;
        }
        /* --init-from: the dropout rates are a training choice, --hidden's replace the file's */
        if (!rc && a->hidden && !same_dropout(&spec, nncl_model_get_spec(from))) rc = set_dropout_rates(from, &spec);
        model = from;
        from = NULL;
    } else if (!rc) {
        enum nncl_init init = NNCL_INIT_UNIFORM;
        if (a->init && nncl_init_from_name(a->init, &init)) rc = cli_fail(CMD, "--init");
        /* a dry run plans without the parameters: a net larger than host memory gets its plan and refusal */
        if (!rc && (a->dry_run ? nncl_model_init_shape(be, &spec, &model)
                               : nncl_model_init(be, &spec, init, a->opts.seed, &model))) {
            rc = cli_fail(CMD, "cannot create the model");
        }
    }
    if (!rc && nncl_model_set_data_info(model, &ds)) rc = cli_fail(CMD, "model");
    /* the optimizer and its rate default (0.01 but for adam and adamw), as nncl check resolves them */
    if (!rc) rc = cli_optim_resolve(CMD, NULL, &a->optim, &a->opts, NULL);
    if (!rc && !a->batch_given && a->opts.optimizer == NNCL_OPT_IRPROP) a->opts.batch_size = 0; /* full-batch */
    size_t epochs_done = 0;
    if (!rc && a->resume && nncl_checkpoint_read_options(a->resume, &a->opts, &epochs_done)) rc = cli_fail(CMD, "--resume");

    struct progress prog = {.tty = isatty(fileno(stderr)), .quiet = a->quiet, .epochs = a->opts.epochs,
                            .model = model, .out = a->out, .checkpoint_every = a->checkpoint_every,
                            .loss_scale = 1.0};
    if (!rc) {
        double mean, std = cli_target_std(model, &mean);
        prog.loss_scale = std * std;
    }
    /* the run's geometry, the one the trainer and its CLBlast guard use; nncl_train reports any error again */
    struct nncl_memory_plan plan;
    memset(&plan, 0, sizeof plan);
    const enum nncl_status plan_st = rc ? NNCL_OK : nncl_train_plan(model, &ds, &a->opts, &plan);
    prog.line.enabled = prog.tty && !a->quiet;
    prog.line.epochs = a->opts.epochs;
    if (!rc && plan_st && plan_st != NNCL_ERR_OOM) rc = cli_fail(CMD, "cannot train on this data");
    if (!rc && train_check_targets(model, &ds)) rc = cli_fail(CMD, "cannot train on this data");
    if (!rc && a->opts.val_fraction > 0.0f && plan.geometry.n_val == 0 && plan.geometry.n_train) {
        rc = cli_usage_error(CMD, "--val-split %g holds out no example of the %zu (floor(%zu x %g) = 0); give a larger "
                                  "fraction or leave it out", (double)a->opts.val_fraction, ds.n, ds.n,
                             (double)a->opts.val_fraction);
    }
    if (!rc && a->dry_run) {
        rc = dry_run(a, model, &ds, &plan, plan_st);
        nncl_model_free(model);
        nncl_dataset_free(&ds);
        return rc ? rc : CLI_OK;
    }
    if (!rc && a->metrics) {
        /* a resumed run continues the file: the rows up to the checkpoint stay, later ones go */
        prog.metrics = a->resume ? cli_metrics_continue(CMD, a->metrics, epochs_done) : fopen(a->metrics, "w");
        if (!prog.metrics) {
            fprintf(stderr, "nncl train: --metrics %s: cannot open for writing\n", a->metrics);
            rc = CLI_FAIL;
        } else if (fseek(prog.metrics, 0, SEEK_END) == 0 && ftell(prog.metrics) == 0) {
            fprintf(prog.metrics, "epoch,steps,train_loss,train_error,val_loss,val_error,seconds,lr\n");
        }
    }
    if (!rc && a->rank == 0) {
        const struct nncl_model_spec *s = nncl_model_get_spec(model);
        if (a->ranks > 1 || plan.geometry.accumulate > 1) {
            fprintf(stderr, "nncl train: data-parallel: %d rank%s x %zu micro-batch%s per step, reduction %s\n",
                    a->ranks, a->ranks > 1 ? "s" : "", plan.geometry.accumulate,
                    plan.geometry.accumulate > 1 ? "es" : "", nncl_reduction_name(a->opts.reduction));
        }
        fprintf(stderr, "nncl train: %zu examples, %zu inputs, %zu outputs; %zu layers, %zu parameters, loss %s; "
                        "%s lr %g, batch %zu; backend %s\n", ds.n, ds.n_inputs, ds.n_outputs, s->n_layers,
                nncl_model_param_count(model), nncl_loss_name(s->loss), nncl_optimizer_name(a->opts.optimizer),
                (double)a->opts.lr, plan.geometry.batch_rows, nncl_backend_device(be));
    }
    if (!rc && a->manifest && write_manifest(a, model, &ds, &plan.geometry)) rc = CLI_FAIL;
    if (!rc) {
        a->opts.on_epoch = on_epoch;
        a->opts.user_data = &prog;
        a->opts.stop = &interrupted;
        if (prog.line.enabled) a->opts.on_step = on_step;
        a->opts.checkpoint_path = ckpt;
        a->opts.checkpoint_every = a->checkpoint_every;
        a->opts.resume_from = a->resume;
        const char *meta[] = {"cli.args", a->args_json, NULL};
        if (a->args_json) a->opts.checkpoint_meta = meta;
        struct nncl_train_result res;
        memset(&res, 0, sizeof res);
        const double t0 = nncl_now_seconds();
        a->opts.verify_gemm = !a->no_verify; /* the CLBlast guard, in nncl_train */
        const enum nncl_status st = a->opts.epochs > 0 ? nncl_train(model, &ds, &a->opts, &res) : NNCL_OK;
        if (st) cli_progress_clear(&prog.line);
        if (st == NNCL_ERR_CLBLAST && res.steps == 0) {
            rc = cli_fail(CMD, "refusing to train"); /* the guard, before any step: no model file is touched */
        } else if (st == NNCL_ERR_NUMERIC && a->save_last_good) {
            /* the trainer went back to the start of the diverged epoch: that model is the last good one */
            rc = cli_fail(CMD, "training stopped");
            if (nncl_model_save(model, a->out)) rc = cli_fail(CMD, "cannot save the last good model");
            else fprintf(stderr, "nncl train: --save-last-good: the last good model (the parameters from the start of "
                                 "the epoch that diverged) saved to %s\n", a->out);
        } else if (st) {
            rc = cli_fail(CMD, "training stopped");
            if (st == NNCL_ERR_NUMERIC) {
                fprintf(stderr, "nncl train: the last good model (the parameters from the start of the epoch that "
                                "diverged) is only in memory and is discarded; %s\n",
                        a->out ? "add --save-last-good to write it to --out" : "add --out FILE --save-last-good to keep it");
            }
            if (a->out) fprintf(stderr, "nncl train: no model written; %s keeps its previous contents, if any%s\n", a->out,
                                a->checkpoint_every ? " (the model of the last --checkpoint-every epoch)" : "");
        } else if (prog.checkpoint_failed) {
            rc = CLI_FAIL;
        } else if (a->opts.epochs > 0 && a->rank == 0) {
            cli_progress_clear(&prog.line);
            const double total = nncl_now_seconds() - t0, steady = total - res.setup_seconds - res.first_step_seconds;
            fprintf(stderr, "nncl train: %zu epochs, %zu steps in %.2f s%s%s\n", res.epochs, res.steps, total,
                    res.converged ? " (stopped: the loss stopped improving)" : "",
                    res.interrupted ? " (interrupted)" : "");
            fprintf(stderr, "nncl train: set-up %.2f s, first step %.2f s (device start-up, kernel builds), then "
                    "%.2f s%s\n", res.setup_seconds, res.first_step_seconds, steady > 0 ? steady : 0.0,
                    res.first_epoch > 1 ? " (resumed)" : "");
            if (res.buckets) { /* several parts: what the gradient sums cost this rank beyond backward */
                fprintf(stderr, "nncl train: gradient sums in %zu bucket%s; %.3f s in the communicator's calls (%.1f ms "
                        "a step: what overlap with backward left exposed)\n", res.buckets, res.buckets > 1 ? "s" : "",
                        res.reduce_seconds, res.reduce_steps ? 1e3 * res.reduce_seconds / (double)res.reduce_steps : 0.0);
            }
            if (a->opts.patience && res.best_epoch) {
                fprintf(stderr, "nncl train: best epoch %zu (%s loss %.6g)%s\n", res.best_epoch,
                        a->opts.val_fraction > 0 ? "validation" : "training", res.best_loss,
                        a->opts.keep_last ? "; --keep-last: the last epoch's weights are kept"
                                          : "; its weights are the ones saved");
            }
        }
        if (res.interrupted && !rc) {
            rc = 128 + (int)interrupted; /* saved below, then the conventional status of the signal */
            if (ckpt) fprintf(stderr, "nncl train: checkpoint written to %s; continue with: nncl train --resume %s\n",
                              ckpt, ckpt);
        }
    }
    if (prog.metrics && fclose(prog.metrics) != 0 && !rc) {
        fprintf(stderr, "nncl train: --metrics %s: write failed\n", a->metrics);
        rc = CLI_FAIL;
    }
    if ((!rc || rc > 128) && a->out) {
        if (nncl_model_save(model, a->out)) {
            rc = cli_fail(CMD, "cannot save the model");
        } else {
            if (a->rank == 0) fprintf(stderr, "nncl train: model saved to %s\n", a->out);
        }
    }
    if (rc > 128) fprintf(stderr, "nncl train: interrupted\n");
    if (!rc && a->metrics && a->rank == 0) fprintf(stderr, "nncl train: plot the curves with: nncl plot %s --out %s.png\n", a->metrics, a->metrics);
    if (!rc && a->rank == 0 && a->data.dataset && a->data.split && strcmp(a->data.split, "test") == 0) {
        /* trained on the test split: its figure is a training figure, not a test of anything */
        double loss = 0, err = 0;
        if (nncl_evaluate(model, &ds, 1024, &loss, &err)) rc = cli_fail(CMD, "evaluating the training data");
        if (!rc) {
            printf("training accuracy %.2f%% (loss %.4f) on %zu examples of %s's test split, the data it was trained "
                   "on (no held-out test)\n", 100.0 * (1.0 - err), loss, ds.n, a->data.dataset);
        }
    } else if (!rc && a->data.dataset && a->rank == 0) {
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
    /* --resume: the checkpoint's command line first, then this one's options on top */
    const char *resume = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0 && i + 1 < argc) resume = argv[i + 1];
        else if (strncmp(argv[i], "--resume=", 9) == 0) resume = argv[i] + 9;
    }
    char **stored = NULL, **all = argv;
    int n_stored = 0, n_all = argc;
    if (resume) {
        char *json = NULL;
        if (nncl_checkpoint_read_meta(resume, "cli.args", &json)) return cli_fail(CMD, "--resume");
        n_stored = json ? cli_args_from_json(json, &stored) : 0;
        free(json);
        if (n_stored < 0) return cli_fail(CMD, "--resume: the stored command line is malformed");
        all = malloc(((size_t)argc + (size_t)n_stored + 1) * sizeof *all);
        if (!all) return cli_fail(CMD, "out of memory");
        all[0] = argv[0];
        for (int i = 0; i < n_stored; i++) all[1 + i] = stored[i];
        for (int i = 1; i < argc; i++) all[n_stored + i] = argv[i];
        n_all = argc + n_stored;
        all[n_all] = NULL;
    }
    a.args_json = cli_args_to_json(n_all - 1, all + 1);
    int rc = train_parse_args(n_all, all, &a);
    if (all != argv) free(all);
    if (rc) {
        cli_args_free(stored, n_stored);
        free(a.args_json);
        return rc;
    }
    /* under mpirun the ranks train together; a plain run opens the single-process communicator (no MPI) */
    struct nncl_comm *comm = NULL;
    if (nncl_comm_open("auto", &comm)) {
        cli_args_free(stored, n_stored);
        free(a.args_json);
        return cli_fail(CMD, "started by mpirun");
    }
    a.rank = nncl_comm_rank(comm), a.ranks = nncl_comm_size(comm);
    several_ranks = a.ranks > 1;
    a.opts.comm = a.ranks > 1 ? comm : NULL;
    if (a.rank != 0) { /* rank 0 alone prints and writes; the others train */
        a.quiet = 1, a.out = NULL, a.metrics = NULL, a.manifest = NULL, a.checkpoint = NULL, a.checkpoint_every = 0;
    }
    if (nncl_comm_launched() && !getenv("NNCL_OPENCL_DEVICE")) {
        /* each rank its own OpenCL device: --device (which sets the variable), else its rank on the machine */
        char dev[32];
        snprintf(dev, sizeof dev, "%d", nncl_comm_local_rank(comm));
        setenv("NNCL_OPENCL_DEVICE", dev, 1);
    }
    struct nncl_backend *be = NULL;
    if ((rc = cli_open_backend(CMD, a.backend, &a.bopts, &be))) return rc;
    rc = run(&a, be);
    nncl_backend_free(be);
    if (several_ranks && rc != CLI_OK && rc < 128) { /* 128 + signal: a stop every rank agreed on */
        /* this rank failed (its message is out), maybe alone (rank 0's own checks: the outputs); the others
         * may be waiting for it in a sum and would wait forever, and so would this one in MPI_Finalize: end
         * the whole job instead */
        fprintf(stderr, "nncl train: rank %d failed: ending the job\n", a.rank);
        nncl_comm_abort(comm, rc);
    }
    nncl_comm_free(comm);
    cli_args_free(stored, n_stored);
    free(a.args_json);
    return rc;
}
