/*
 * cmd_use.c: the subcommands that use a trained model: `nncl eval`, `nncl predict` and `nncl grad`.
 * They share one option set: --model, the data options (cli_data_opts.c), --backend and --batch-size.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "model_impl.h"
#include "io/safetensors.h"

struct use_args {
    struct cli_data_opts data;
    struct cli_backend_opts bopts;
    const char *model, *backend, *out, *output;
    size_t batch_size;
    int batch_given;
};

static void help(const char *cmd) {
    if (strcmp(cmd, "eval") == 0) {
        printf("usage: nncl eval --model MODEL (--data FILE [--labels FILE] | --dataset fashion-mnist [--split S])\n"
               "                 [--backend B] [--batch-size N]\n\n"
               "Prints the mean loss, and accuracy and classification error with a confusion matrix for classes,\n"
               "or the mean squared error for regression. The data is prepared as the model's training data was.\n");
    } else if (strcmp(cmd, "predict") == 0) {
        printf("usage: nncl predict --model MODEL (--data FILE | --dataset fashion-mnist [--split S]) [--out FILE]\n"
               "                    [--backend B] [--batch-size N]\n\n"
               "Writes one line per example: the class name (or index) for classifiers, the predicted values\n"
               "(comma-separated) for regression. The data needs no targets (a CSV file no target column, a\n"
               "safetensors file no y, IDX images no --labels).\n"
               "  --output O             labels (default: class names, or values for regression), probabilities\n"
               "                         (classifiers: P(class 1) for bce, one column per class for xent) or raw\n"
               "                         (the last layer's outputs before the loss head: logits)\n"
               "  --out FILE             write to FILE instead: .safetensors (one tensor named after --output),\n"
               "                         .csv (with a header row), else the same text\n");
    } else {
        printf("usage: nncl grad --model MODEL --data FILE [--labels FILE] [--batch-size N] [--backend B] --out G\n\n"
               "Writes the gradient of the mean loss over the first N examples (all when N is 0 or omitted; no\n"
               "shuffling, no update) to the safetensors file G, with the model file's parameter names\n"
               "(layers.{i}.weight, layers.{i}.bias) and a scalar tensor `loss`. Run it with --backend cpu and\n"
               "--backend opencl to validate a device, or compare with another framework.\n");
    }
    printf("\n");
    cli_data_help();
    printf("model and device:\n"
           "  --model MODEL          the model file (nncl train --out); CSV data is prepared with its transform\n"
           "  --backend B            cpu|opencl|auto (default auto)\n"
           "  --batch-size N         examples per pass (eval, predict: default 1024)\n");
    cli_backend_help(1);
}

static int parse(const char *cmd, int argc, char **argv, struct use_args *a) {
    enum { O_MODEL = 256, O_BACKEND, O_BATCH, O_OUT, O_HELP, O_OUTPUT };
    static const struct option own_opts[] = {
        {"model", required_argument, 0, O_MODEL},     {"backend", required_argument, 0, O_BACKEND},
        {"batch-size", required_argument, 0, O_BATCH}, {"out", required_argument, 0, O_OUT},
        {"help", no_argument, 0, O_HELP},             {"output", required_argument, 0, O_OUTPUT},
        {0, 0, 0, 0},
    };
    struct option long_opts[CLI_MAX_OPTIONS];
    cli_options_with_data(own_opts, long_opts, CLI_MAX_OPTIONS);
    memset(a, 0, sizeof *a);
    a->backend = "auto";
    a->batch_size = 1024;
    opterr = 0;
    optind = 1;
    int c;
    if (cli_refuse_abbreviations(cmd, argc, argv, long_opts)) return CLI_USAGE;
    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        int rc = CLI_OK;
        if (cli_data_option(c, optarg, &a->data)) continue;
        if (cli_backend_option(cmd, c, optarg, &a->bopts, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case O_MODEL: a->model = optarg; break;
        case O_BACKEND: a->backend = optarg; break;
        case O_BATCH: rc = cli_parse_size(cmd, "--batch-size", optarg, &a->batch_size), a->batch_given = 1; break;
        case O_OUT: a->out = optarg; break;
        case O_OUTPUT: a->output = optarg; break;
        case 'h':
        case O_HELP: help(cmd); exit(CLI_OK);
        default: return cli_usage_error(cmd, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (!a->model) return cli_usage_error(cmd, "--model FILE is required");
    if (cli_check_data_opts(cmd, &a->data)) return CLI_USAGE;
    if (a->out && strcmp(cmd, "eval") == 0) return cli_usage_error(cmd, "eval prints to standard output; --out is for predict and grad");
    if (!a->out && strcmp(cmd, "grad") == 0) return cli_usage_error(cmd, "--out FILE is required");
    if (a->output && strcmp(cmd, "predict") != 0) return cli_usage_error(cmd, "--output is for predict");
    return CLI_OK;
}

/* Opens the backend, loads the model and the data. */
static int open_all(const char *cmd, const struct use_args *a, int need_targets, struct nncl_backend **be,
                    struct nncl_model **model, struct nncl_dataset *ds) {
    int rc = cli_open_backend(cmd, a->backend, &a->bopts, be);
    if (rc) return rc;
    if (nncl_model_load(*be, a->model, model)) return cli_fail(cmd, "cannot load the model");
    return cli_load_data(cmd, &a->data, *model, need_targets, ds);
}

static size_t outputs_of(const struct nncl_model *m) {
    const struct nncl_model_spec *s = nncl_model_get_spec(m);
    return s->layers[s->n_layers - 1].units;
}

/* The predicted class of one output row (argmax, or >= 0.5 for one sigmoid output). */
static size_t predicted_class(const float *row, size_t outputs) {
    if (outputs == 1) return row[0] >= 0.5f;
    size_t best = 0;
    for (size_t k = 1; k < outputs; k++) {
        if (row[k] > row[best]) best = k;
    }
    return best;
}

static int is_classifier(const struct nncl_model *m) {
    enum nncl_task t = nncl_model_task(m);
    return t == NNCL_TASK_BINARY || t == NNCL_TASK_CLASSIFICATION ||
           (t == NNCL_TASK_AUTO && nncl_model_get_spec(m)->loss != NNCL_LOSS_MSE);
}

static void class_label(const struct nncl_model *m, size_t k, char *out, size_t cap) {
    const char *const *names = nncl_model_class_names(m);
    if (names && k < nncl_model_class_count(m)) {
        snprintf(out, cap, "%s", names[k]);
    } else {
        snprintf(out, cap, "%zu", k);
    }
}

static void print_confusion(const struct nncl_model *m, const struct nncl_dataset *ds, const float *pred) {
    const size_t outputs = outputs_of(m), classes = outputs == 1 ? 2 : outputs;
    size_t *counts = calloc(classes * classes, sizeof *counts);
    if (!counts) return;
    for (size_t i = 0; i < ds->n; i++) {
        counts[nncl_dataset_label(ds, i) * classes + predicted_class(pred + i * outputs, outputs)]++;
    }
    printf("confusion matrix (rows: true class, columns: predicted)\n%14s", "");
    for (size_t k = 0; k < classes; k++) printf(" %8zu", k);
    printf("\n");
    for (size_t r = 0; r < classes; r++) {
        char name[64];
        class_label(m, r, name, sizeof name);
        printf("%2zu %-11.11s", r, name);
        for (size_t k = 0; k < classes; k++) printf(" %8zu", counts[r * classes + k]);
        printf("\n");
    }
    free(counts);
}

int cmd_eval(int argc, char **argv) {
    struct use_args a;
    int rc = parse("eval", argc, argv, &a);
    if (rc) return rc;
    struct nncl_backend *be = NULL;
    struct nncl_model *m = NULL;
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    rc = open_all("eval", &a, 1, &be, &m, &ds);
    double loss = 0, err = 0;
    if (!rc && nncl_evaluate(m, &ds, a.batch_size, &loss, &err)) rc = cli_fail("eval", "evaluation failed");
    float *pred = NULL;
    double target_mean = 0.0;
    const double target_std = m ? cli_target_std(m, &target_mean) : 1.0; /* undo standardised targets */
    if (!rc) {
        loss *= target_std * target_std; /* an mse in the data's units */
        printf("examples %zu\nloss (%s) %.6f\n", ds.n, nncl_loss_name(nncl_model_get_spec(m)->loss), loss);
        if (!isnan(err)) printf("accuracy %.4f\nclassification error %.4f\n", 1.0 - err, err);
        pred = malloc(ds.n * outputs_of(m) * sizeof(float));
        if (!pred) rc = cli_fail("eval", "out of memory");
        else if (nncl_predict(m, &ds, a.batch_size, pred)) rc = cli_fail("eval", "prediction failed");
    }
    if (!rc && is_classifier(m)) {
        print_confusion(m, &ds, pred);
    } else if (!rc) {
        double se = 0;
        for (size_t i = 0; i < ds.n * ds.n_outputs; i++) se += ((double)pred[i] - ds.y[i]) * ((double)pred[i] - ds.y[i]);
        se *= target_std * target_std;
        printf("mean squared error %.6f (per example, summed over %zu outputs)\n", se / (double)ds.n, ds.n_outputs);
    }
    free(pred);
    nncl_dataset_free(&ds);
    nncl_model_free(m);
    nncl_backend_free(be);
    return rc;
}

/* The last layer's pre-activations (the logits of a bce or xent head) of every example: `predict --output raw`. */
static int predict_raw(struct nncl_model *m, const struct nncl_dataset *ds, size_t batch, float *out) {
    const struct nncl_model_spec *s = nncl_model_get_spec(m);
    const size_t outputs = outputs_of(m), rows_max = batch == 0 || batch > ds->n ? ds->n : batch;
    struct nncl_buffer *buf = NULL;
    enum nncl_status st = nncl_buffer_alloc(nncl_model_backend(m), rows_max * ds->n_inputs * sizeof(float), &buf);
    for (size_t first = 0; !st && first < ds->n; first += rows_max) {
        const size_t rows = ds->n - first < rows_max ? ds->n - first : rows_max;
        struct nncl_tensor x = nncl_tensor_view(buf, 0, rows, ds->n_inputs), y;
        st = nncl_tensor_set(&x, ds->x + first * ds->n_inputs, rows * ds->n_inputs);
        if (!st) st = nncl_model_forward(m, &x, NULL, NULL, &y);
        struct nncl_tensor logits = nncl_model_layer_tensor(m, s->n_layers - 1, NNCL_LAYER_S, rows);
        if (!st) st = nncl_tensor_get(&logits, out + first * outputs, rows * outputs);
    }
    nncl_buffer_free(buf);
    return st ? cli_fail("predict", "prediction failed") : CLI_OK;
}

static int ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* predict's results as a safetensors file: one tensor named after --output (labels as float indices). */
static int write_predictions_safetensors(const char *path, const char *what, const float *v, size_t n, size_t cols) {
    struct st_write_tensor t = {what, 2, {n, cols}, v};
    char k_output[] = "output", v_output[32];
    snprintf(v_output, sizeof v_output, "%s", what);
    struct st_metadata_entry meta[] = {{k_output, v_output}};
    return st_write(path, &t, 1, meta, 1) ? cli_fail("predict", "cannot write the predictions") : CLI_OK;
}

int cmd_predict(int argc, char **argv) {
    struct use_args a;
    int rc = parse("predict", argc, argv, &a);
    if (rc) return rc;
    const char *mode = a.output ? a.output : "labels";
    if (strcmp(mode, "labels") != 0 && strcmp(mode, "probabilities") != 0 && strcmp(mode, "raw") != 0) {
        return cli_usage_error("predict", "--output \"%s\": choose labels, probabilities or raw", mode);
    }
    struct nncl_backend *be = NULL;
    struct nncl_model *m = NULL;
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    rc = open_all("predict", &a, 0, &be, &m, &ds);
    float *pred = NULL;
    const size_t outputs = m ? outputs_of(m) : 0;
    const int classifier = m && is_classifier(m), raw = strcmp(mode, "raw") == 0;
    if (!rc && strcmp(mode, "probabilities") == 0 && !classifier) {
        rc = cli_usage_error("predict", "--output probabilities: %s is a regression model; its outputs are values "
                                        "(--output labels or raw)", a.model);
    }
    if (!rc) {
        pred = malloc(ds.n * outputs * sizeof(float));
        if (!pred) rc = cli_fail("predict", "out of memory");
        else if (raw) rc = predict_raw(m, &ds, a.batch_size, pred);
        else if (nncl_predict(m, &ds, a.batch_size, pred)) rc = cli_fail("predict", "prediction failed");
    }
    double target_mean = 0.0;
    const double target_std = m ? cli_target_std(m, &target_mean) : 1.0; /* undo standardised targets */
    const int labels = strcmp(mode, "labels") == 0 && classifier;
    size_t cols = labels ? 1 : outputs;
    float *values = NULL; /* what is written: label indices, probabilities, values or raw outputs */
    if (!rc && !(values = malloc(ds.n * cols * sizeof(float)))) rc = cli_fail("predict", "out of memory");
    for (size_t i = 0; !rc && i < ds.n; i++) {
        for (size_t k = 0; k < cols; k++) {
            const float v = pred[i * outputs + k];
            values[i * cols + k] = labels ? (float)predicted_class(pred + i * outputs, outputs)
                                   : !classifier && !raw ? (float)(v * target_std + target_mean)
                                                         : v;
        }
    }
    if (!rc && a.out && ends_with_ci(a.out, ".safetensors")) {
        rc = write_predictions_safetensors(a.out, labels ? "labels" : classifier || raw ? mode : "values", values, ds.n,
                                           cols);
        free(values);
        free(pred);
        nncl_dataset_free(&ds);
        nncl_model_free(m);
        nncl_backend_free(be);
        return rc;
    }
    FILE *out = stdout;
    if (!rc && a.out && !(out = fopen(a.out, "w"))) {
        fprintf(stderr, "nncl predict: --out %s: cannot open for writing\n", a.out);
        rc = CLI_FAIL;
    }
    if (!rc && a.out && ends_with_ci(a.out, ".csv")) { /* a header row */
        for (size_t k = 0; k < cols; k++) {
            char name[64];
            if (labels) snprintf(name, sizeof name, "label");
            else if (classifier && !raw && outputs > 1) class_label(m, k, name, sizeof name);
            else if (classifier && !raw) class_label(m, 1, name, sizeof name); /* P(class 1) */
            else snprintf(name, sizeof name, "%s%zu", raw ? "raw" : "value", k);
            fprintf(out, "%s%s", k ? "," : "", name);
        }
        fprintf(out, "\n");
    }
    for (size_t i = 0; !rc && i < ds.n; i++) {
        if (labels) {
            char name[64];
            class_label(m, (size_t)values[i], name, sizeof name);
            fprintf(out, "%s\n", name);
        } else {
            for (size_t k = 0; k < cols; k++) fprintf(out, "%s%.9g", k ? "," : "", (double)values[i * cols + k]);
            fprintf(out, "\n");
        }
    }
    if (out && out != stdout && fclose(out) != 0 && !rc) {
        fprintf(stderr, "nncl predict: --out %s: write failed\n", a.out);
        rc = CLI_FAIL;
    }
    free(values);
    free(pred);
    nncl_dataset_free(&ds);
    nncl_model_free(m);
    nncl_backend_free(be);
    return rc;
}

int cmd_grad(int argc, char **argv) {
    struct use_args a;
    int rc = parse("grad", argc, argv, &a);
    if (rc) return rc;
    if (!a.batch_given) a.batch_size = 0; /* default: every example */
    struct nncl_backend *be = NULL;
    struct nncl_model *m = NULL;
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    rc = open_all("grad", &a, 1, &be, &m, &ds);
    double loss = 0;
    if (!rc && nncl_compute_gradient(m, &ds, a.batch_size, &loss)) rc = cli_fail("grad", "gradient failed");
    float *grads = NULL;
    const size_t n_params = m ? nncl_model_param_count(m) : 0;
    if (!rc) {
        grads = malloc(n_params * sizeof(float));
        struct nncl_tensor g = nncl_model_grads(m);
        if (!grads) rc = cli_fail("grad", "out of memory");
        else if (nncl_tensor_get(&g, grads, n_params)) rc = cli_fail("grad", "reading the gradient");
    }
    if (!rc) {
        const struct nncl_model_spec *s = nncl_model_get_spec(m);
        struct st_write_tensor tensors[2 * NNCL_MAX_LAYERS + 1];
        char names[2 * NNCL_MAX_LAYERS][48];
        size_t offset = 0;
        for (size_t l = 0; l < s->n_layers; l++) {
            const size_t in = l == 0 ? s->n_inputs : s->layers[l - 1].units, out = s->layers[l].units;
            snprintf(names[2 * l], sizeof names[0], "layers.%zu.weight", l);
            snprintf(names[2 * l + 1], sizeof names[0], "layers.%zu.bias", l);
            tensors[2 * l] = (struct st_write_tensor){names[2 * l], 2, {out, in}, grads + offset};
            offset += out * in;
            tensors[2 * l + 1] = (struct st_write_tensor){names[2 * l + 1], 1, {out}, grads + offset};
            offset += out;
        }
        const float loss_f = (float)loss;
        tensors[2 * s->n_layers] = (struct st_write_tensor){"loss", 0, {0}, &loss_f};
        char examples[32];
        snprintf(examples, sizeof examples, "%zu", a.batch_size == 0 || a.batch_size > ds.n ? ds.n : a.batch_size);
        char device[600], model_path[512], k_examples[] = "examples", k_backend[] = "backend", k_model[] = "model";
        snprintf(device, sizeof device, "%s: %s", nncl_backend_name(be), nncl_backend_device(be));
        snprintf(model_path, sizeof model_path, "%s", a.model);
        struct st_metadata_entry meta[] = {{k_examples, examples}, {k_backend, device}, {k_model, model_path}};
        if (st_write(a.out, tensors, 2 * s->n_layers + 1, meta, 3)) rc = cli_fail("grad", "cannot write the gradient");
        else fprintf(stderr, "nncl grad: mean loss %.9g over %s examples on %s; gradient written to %s\n", loss, examples,
                     nncl_backend_name(be), a.out);
    }
    free(grads);
    nncl_dataset_free(&ds);
    nncl_model_free(m);
    nncl_backend_free(be);
    return rc;
}
