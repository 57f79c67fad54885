/*
 * cmd_check.c: `nncl check`: validate a device against the CPU reference on the op-case table, on a
 * net's own GEMM shapes, on a whole training step (optionally against a float64 oracle), and in
 * lockstep over many steps.
 */
#define _GNU_SOURCE /* getopt_long */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cli.h"

static const char *const CMD = "check";

static void help(void) {
    printf("usage: nncl check [--backend B] [--hidden SPEC | --model M] [--data FILE | --dataset fashion-mnist]\n"
           "                  [--batch-size N] [--oracle fp64] [--lockstep N [--metrics FILE]] [--json FILE]\n"
           "\n"
           "Compares a device with the CPU reference, every comparison against a bound derived in\n"
           "docs/validation.md, and exits 1 if any fails:\n"
           "  1. every case of the op-case table the parity tests use, timed on the device;\n"
           "  2. with --hidden or --model: every GEMM shape (M, N, K, transposes) of that net at --batch-size;\n"
           "  3. with data and a net: one training step (the run's optimizer: --optimizer etc., or a checkpoint's own)\n"
           "     from identical weights and batch, compared per layer (pre-activations, outputs, deltas, weight\n"
           "     and bias gradients, weights after the update);\n"
           "     --oracle fp64 also computes the step in float64 and reports each backend's error against it;\n"
           "  4. --lockstep N: N training steps on both from one seed with the same batches, the loss and\n"
           "     weight differences per step (--metrics FILE writes them as CSV).\n"
           "\n"
           "  --backend B      the device to check (default opencl; NNCL_OPENCL_PLATFORM/DEVICE choose it)\n"
           "  --hidden SPEC    a net as for nncl train (inputs and outputs from the data, or --inputs/--outputs,\n"
           "                   default 784 and 10)\n"
           "  --model M        a model file: its architecture and weights\n"
           "  --batch-size N   rows for the GEMM shapes and the training step (default 128)\n"
           "  --repeat R       timing runs per op (default 5)\n"
           "  --seed S         initial weights for --hidden, and the lockstep batches (default 1)\n"
           "  --json FILE      the same report as JSON, with the device and library versions\n"
           "  --csv FILE       every comparison as a CSV row (op, shape, device, errors, bound, verdict;\n"
           "                   docs/validation.md)\n"
           "  --simulate       only the small cases, untimed, discarded outputs left unwritten: for a simulated\n"
           "                   device (run under oclgrind; tests/check/oclgrind_kernels.sh, docs/validation.md)\n"
           "  --self-test      plant each perturbation in every kernel and show the check fails for every op\n"
           "  --random N       instead of the op table: N random shapes per op (sizes 1, primes, around work-group\n"
           "                   and tile sizes, offsets into buffers) from --seed; each failure prints the command\n"
           "                   that reproduces it\n"
           "  --coverage       list every op and activation against every compiled backend and its device, with\n"
           "                   the case families covering it; exit 1 if one is uncovered\n"
           "  --case TEXT      only this case, as --random prints it (\"op=gemm rows=7 cols=11 k=13 ...\")\n\n");
    cli_optim_help();
    cli_data_help();
    cli_backend_help(1);
}

struct check_args {
    struct cli_data_opts data;
    struct cli_backend_opts bopts;
    const char *backend, *hidden, *model, *oracle, *json, *metrics, *csv;
    size_t batch, inputs, outputs, lockstep, repeat;
    int self_test; /* --self-test: prove the check fails on perturbed kernels (fault injection) */
    int simulate; /* --simulate: only the small cases, untimed, for a simulated device (Oclgrind) */
    size_t random;        /* --random N: N random shapes per op instead of the table */
    const char *one_case; /* --case TEXT: one case, as a --random failure prints it */
    int coverage;         /* --coverage: which families cover each op and activation, per backend */
    struct cli_optim_opts optim; /* the checked step's optimizer options as given (cli_optim_opts.c) */
    struct nncl_train_options step; /* the checked step's options: train's defaults, the given, resolved */
    uint64_t seed;
};

struct report {
    cJSON *rows;
    FILE *csv;          /* --csv: one row per comparison */
    const char *device; /* the checked device, for the CSV rows */
    size_t failures, count, mistrusted;
    int verbose;
};

/* One CSV field: quoted, with quotes doubled (RFC 4180), so descriptions with commas stay one field. */
static void csv_field(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const char *device, const struct check_result *r) {
    csv_field(f, r->op[0] ? r->op : r->what);
    fputc(',', f);
    csv_field(f, r->shape[0] ? r->shape : r->what);
    fputc(',', f);
    csv_field(f, device);
    fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.9g,", r->max_abs_err, r->max_rel_err, r->worst_excess, r->tol_abs, r->tol_rel);
    csv_field(f, r->tol_source);
    fprintf(f, ",%s,%.6g,", check_verdict(r), r->device_ms);
    csv_field(f, r->what);
    fputc('\n', f);
}

static void print_result(const struct check_result *r, void *user) {
    struct report *rep = user;
    rep->count++;
    rep->failures += !r->pass;
    rep->mistrusted += r->pass && !r->trusted;
    if (rep->csv) csv_row(rep->csv, rep->device, r);
    /* a long description gets a line of its own, so the numbers stay in their columns */
    if (strlen(r->what) > 70) printf("           %s\n", r->what);
    printf("%-10s %-70.70s %10.3g %10.3g %10.3g %9.3f", check_verdict(r), strlen(r->what) > 70 ? "" : r->what,
           r->max_abs_err,
           r->max_rel_err, r->worst_excess, r->device_ms);
    printf("  (bound: %s)\n", r->tol_source);
    if (!r->pass) printf("     %s\n", r->message);
    else if (!r->trusted) printf("     MISTRUSTED: %s: %s, so agreeing proves little\n", r->what, r->trust_note);
    if (rep->rows) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "what", r->what);
        cJSON_AddBoolToObject(row, "pass", r->pass);
        cJSON_AddStringToObject(row, "verdict", check_verdict(r));
        cJSON_AddBoolToObject(row, "trusted", r->trusted);
        cJSON_AddNumberToObject(row, "max_abs_err", r->max_abs_err);
        cJSON_AddNumberToObject(row, "max_rel_err", r->max_rel_err);
        cJSON_AddNumberToObject(row, "fraction_of_bound", r->worst_excess);
        cJSON_AddNumberToObject(row, "tol_abs", r->tol_abs);
        cJSON_AddNumberToObject(row, "tol_rel", r->tol_rel);
        cJSON_AddStringToObject(row, "bound", r->tol_source);
        cJSON_AddNumberToObject(row, "device_ms", r->device_ms);
        if (!r->pass) cJSON_AddStringToObject(row, "message", r->message);
        cJSON_AddItemToArray(rep->rows, row);
    }
}

struct lock_report {
    FILE *csv;
    cJSON *rows;
    size_t failures;
};

static void print_lockstep(const struct lockstep_row *r, void *user) {
    struct lock_report *lr = user;
    const int bad = r->jump || r->weight_diff_rel > r->bound;
    lr->failures += bad;
    if (r->step <= 5 || r->step % 10 == 0 || bad) {
        printf("%-4s step %5zu  loss cpu %.9g  device %.9g  rel diff %.3g  weights rel diff %.3g  bound %.3g%s\n",
               bad ? "FAIL" : "ok", r->step, r->loss_cpu, r->loss_dev, r->loss_diff_rel, r->weight_diff_rel, r->bound,
               r->jump ? "  JUMP: more than ten steps' rounding in one step, a kernel bug rather than drift" : "");
    }
    if (lr->csv) {
        fprintf(lr->csv, "%zu,%.9g,%.9g,%.6g,%.6g,%.6g,%d\n", r->step, r->loss_cpu, r->loss_dev, r->loss_diff_rel,
                r->weight_diff_rel, r->bound, r->jump);
    }
    if (lr->rows) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "step", (double)r->step);
        cJSON_AddNumberToObject(row, "loss_cpu", r->loss_cpu);
        cJSON_AddNumberToObject(row, "loss_device", r->loss_dev);
        cJSON_AddNumberToObject(row, "weight_diff_rel", r->weight_diff_rel);
        cJSON_AddNumberToObject(row, "bound", r->bound);
        cJSON_AddBoolToObject(row, "jump", r->jump);
        cJSON_AddItemToArray(lr->rows, row);
    }
}

static int parse(int argc, char **argv, struct check_args *a) {
    enum { O_BACKEND = 256, O_HIDDEN, O_MODEL, O_BATCH, O_ORACLE, O_LOCK, O_METRICS, O_JSON, O_REPEAT, O_SEED,
           O_INPUTS, O_OUTPUTS, O_SIMULATE, O_SELF_TEST, O_RANDOM, O_CASE, O_COVERAGE, O_CSV, O_HELP };
    static const struct option own_opts[] = {
        {"backend", required_argument, 0, O_BACKEND}, {"hidden", required_argument, 0, O_HIDDEN},
        {"model", required_argument, 0, O_MODEL},
        {"batch-size", required_argument, 0, O_BATCH}, {"oracle", required_argument, 0, O_ORACLE},
        {"lockstep", required_argument, 0, O_LOCK},   {"metrics", required_argument, 0, O_METRICS},
        {"json", required_argument, 0, O_JSON},       {"repeat", required_argument, 0, O_REPEAT},
        {"seed", required_argument, 0, O_SEED},
        {"inputs", required_argument, 0, O_INPUTS},   {"outputs", required_argument, 0, O_OUTPUTS},
        {"simulate", no_argument, 0, O_SIMULATE},     {"self-test", no_argument, 0, O_SELF_TEST},
        {"random", required_argument, 0, O_RANDOM},   {"case", required_argument, 0, O_CASE},
        {"coverage", no_argument, 0, O_COVERAGE},     {"csv", required_argument, 0, O_CSV},
        {"help", no_argument, 0, O_HELP},             {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->backend = "opencl";
    a->batch = 128, a->inputs = 784, a->outputs = 10, a->repeat = 5, a->seed = 1;
    cli_optim_init(&a->optim, &a->step);
    opterr = 0;
    optind = 1;
    int c;
    struct option opts[CLI_MAX_OPTIONS], with_optim[CLI_MAX_OPTIONS];
    if (cli_step_options(CMD, argc, argv, own_opts, opts, with_optim, CLI_MAX_OPTIONS)) return CLI_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = CLI_OK;
        if (cli_step_option(CMD, c, optarg, &a->data, &a->optim, &a->step, &a->bopts, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case O_BACKEND: a->backend = optarg; break;
        case O_HIDDEN: a->hidden = optarg; break;
        case O_MODEL: a->model = optarg; break;
        case O_BATCH: rc = cli_parse_size(CMD, "--batch-size", optarg, &a->batch); break;
        case O_ORACLE: a->oracle = optarg; break;
        case O_LOCK: rc = cli_parse_size(CMD, "--lockstep", optarg, &a->lockstep); break;
        case O_METRICS: a->metrics = optarg; break;
        case O_JSON: a->json = optarg; break;
        case O_REPEAT: rc = cli_parse_size(CMD, "--repeat", optarg, &a->repeat); break;
        case O_SEED: rc = cli_parse_u64(CMD, "--seed", optarg, &a->seed); break;
        case O_INPUTS: rc = cli_parse_size(CMD, "--inputs", optarg, &a->inputs); break;
        case O_OUTPUTS: rc = cli_parse_size(CMD, "--outputs", optarg, &a->outputs); break;
        case O_SIMULATE: a->simulate = 1; break;
        case O_SELF_TEST: a->self_test = 1; break;
        case O_RANDOM: rc = cli_parse_size(CMD, "--random", optarg, &a->random); break;
        case O_CASE: a->one_case = optarg; break;
        case O_COVERAGE: a->coverage = 1; break;
        case O_CSV: a->csv = optarg; break;
        case 'h':
        case O_HELP: help(); exit(CLI_OK);
        default: return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (a->oracle && strcmp(a->oracle, "fp64") != 0) return cli_usage_error(CMD, "--oracle: the only oracle is fp64");
    if (a->hidden && a->model) return cli_usage_error(CMD, "give --hidden or --model, not both");
    if (cli_check_data_opts(CMD, &a->data)) return CLI_USAGE;
    if (cli_optim_check(CMD, &a->optim, &a->step)) return CLI_USAGE;
    const int have_data = a->data.data || a->data.dataset;
    if ((a->oracle || a->lockstep) && !(have_data && (a->hidden || a->model))) {
        return cli_usage_error(CMD, "--oracle and --lockstep check training steps: give data (--data or --dataset) and "
                                    "a net (--hidden or --model)");
    }
    if (a->random && a->one_case) return cli_usage_error(CMD, "give --random or --case, not both");
    if (a->one_case) {
        struct op_case oc;
        size_t offset;
        if (op_case_parse(a->one_case, &oc, &offset)) {
            const int r = cli_usage_error(CMD, "%s", nncl_last_error());
            nncl_clear_error();
            return r;
        }
    }
    if (a->metrics && !a->lockstep) return cli_usage_error(CMD, "--metrics writes the --lockstep report; add --lockstep N");
    return CLI_OK;
}

/* The net to check: a model file, or --hidden with the data's (or --inputs/--outputs) shape. */
static int build_model(const struct check_args *a, struct nncl_backend *cpu, const struct nncl_dataset *ds,
                       struct nncl_model **out) {
    *out = NULL;
    if (a->model) return nncl_model_load(cpu, a->model, out) ? cli_fail(CMD, "--model") : CLI_OK;
    if (!a->hidden) return CLI_OK;
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = ds ? ds->n_inputs : a->inputs;
    if (nncl_parse_hidden(a->hidden, &spec)) return cli_fail(CMD, "--hidden");
    const size_t outputs = ds ? ds->n_outputs : a->outputs;
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){outputs, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = ds && ds->task == NNCL_TASK_REGRESSION ? NNCL_LOSS_MSE
                : ds && ds->task == NNCL_TASK_BINARY  ? NNCL_LOSS_BCE
                : outputs == 1                         ? NNCL_LOSS_BCE
                                                       : NNCL_LOSS_XENT;
    if (nncl_model_init(cpu, &spec, NNCL_INIT_UNIFORM, a->seed, out)) return cli_fail(CMD, "the net");
    return CLI_OK;
}

static int write_json(const char *path, cJSON *root) {
    char *text = cJSON_Print(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    free(text);
    if (!ok) fprintf(stderr, "nncl check: --json %s: cannot write\n", path);
    return ok ? CLI_OK : CLI_FAIL;
}

/*
 * --self-test: fault injection. Each perturbation of kernels/common.cl (NNCL_PERTURB) plants one bug in every
 * one of our kernels at once; the op cases then run each op alone, so every op (GEMM aside: CLBlast's, not
 * ours) must have a failing case under every perturbation that applies to it, or the bounds or cases have a
 * hole. An unperturbed build must pass. Exit 1 naming each perturbation an op survived.
 */
struct perturbation {
    int kind;
    const char *name, *why;
};
static const struct perturbation perturbations[] = {
    {1, "wrong sign", "every stored value negated: a sign error in a formula or a gradient"},
    {2, "scaled by 1 + 4 x bound", "every stored value times 1 + 4 x the op's relative bound: an error just "
                                   "outside the bound, so a bound too loose to see it shows"},
    {3, "off by one", "every work-item index shifted by one: the first element never written, a read past the end"},
    {4, "dropped barrier", "the reductions' barriers removed: a race a GPU would expose (only nncl_sum has barriers)"},
};

/* Runs every case of `op`; 1 when one fails (or cannot run), 0 when all pass. */
static int op_fails(struct nncl_backend *cpu, struct nncl_backend *dev, enum nncl_op op, char *first, size_t cap) {
    for (size_t i = 0; i < op_case_count; i++) {
        if (op_cases[i].op != op) continue;
        struct check_result r;
        if (check_op_case(cpu, dev, &op_cases[i], 0, &r)) {
            snprintf(first, cap, "could not run: %s", nncl_last_error());
            nncl_clear_error();
            return 1;
        }
        if (!r.pass) {
            snprintf(first, cap, "%.200s", r.message);
            return 1;
        }
    }
    return 0;
}

static double op_relative_bound(enum nncl_op op) {
    for (size_t i = 0; i < op_case_count; i++) {
        if (op_cases[i].op != op) continue;
        const struct op_tolerance t = op_case_tolerance(&op_cases[i]);
        const double b = t.rel > t.abs ? t.rel : t.abs;
        return b > 1.2e-7 ? b : 1.2e-7; /* an exact op: one ulp */
    }
    return 1.2e-7;
}

static int self_test(const struct check_args *a, struct nncl_backend *cpu) {
    size_t holes = 0, caught = 0, applicable = 0;
    char env[64], first[256];
    printf("self-test: each perturbation planted in every kernel of kernels/ (build option NNCL_PERTURB); every op\n"
           "must then fail its cases, and the unperturbed build must pass\n\n");
    for (size_t p = 0; p <= sizeof perturbations / sizeof perturbations[0]; p++) {
        const struct perturbation *pt = p ? &perturbations[p - 1] : NULL;
        if (pt) printf("%s: %s\n", pt->name, pt->why);
        else printf("unperturbed build\n");
        struct nncl_backend *dev = NULL;
        for (int op = 0; op < NNCL_OP_COUNT; op++) {
            if (op == NNCL_OP_GEMM) continue; /* CLBlast's kernels: the guard and the GEMM cases cover them */
            if (pt && pt->kind == 4 && op != NNCL_OP_SUM) continue; /* no barrier to drop */
            /* a fresh backend builds its programs again, with this perturbation (per op for the scale) */
            if (!dev || (pt && pt->kind == 2)) {
                nncl_backend_free(dev);
                dev = NULL;
                if (pt) snprintf(env, sizeof env, "%d:%.9g", pt->kind, 1.0 + 4.0 * op_relative_bound((enum nncl_op)op));
                if (pt) setenv("NNCL_KERNEL_PERTURB", env, 1);
                else unsetenv("NNCL_KERNEL_PERTURB");
                if (nncl_backend_init(a->backend, &dev)) {
                    unsetenv("NNCL_KERNEL_PERTURB");
                    return cli_fail(CMD, "the perturbed device");
                }
            }
            const char *name = nncl_op_get_info((enum nncl_op)op)->name;
            const int failed = op_fails(cpu, dev, (enum nncl_op)op, first, sizeof first);
            if (!pt) {
                printf("  %-6s %-20s %s\n", failed ? "FAIL" : "ok", name, failed ? first : "passes unperturbed");
                holes += failed;
                continue;
            }
            applicable++;
            caught += failed;
            holes += !failed;
            printf("  %-6s %-20s %s\n", failed ? "caught" : "MISSED", name, failed ? first : "every case passed: a hole in the bound or the cases");
        }
        nncl_backend_free(dev);
        unsetenv("NNCL_KERNEL_PERTURB");
        printf("\n");
    }
    printf("self-test: %zu of %zu perturbed ops caught; %zu problems%s\n", caught, applicable, holes,
           holes ? " (MISSED or FAIL above)" : ": the check fails on every planted bug and passes without one");
    return holes ? CLI_FAIL : CLI_OK;
}

/*
 * --random N / --case TEXT: random shapes per op instead of the table (op_case_random.c). Every failure prints
 * the one command that reproduces exactly that case; a summary line per op gives the count and the worst
 * fraction of a bound.
 */
static void print_repro(const struct check_args *a, const struct op_case *c, size_t offset) {
    char text[512];
    op_case_format(c, offset, text, sizeof text);
    printf("     reproduce: nncl check --backend %s --case \"%s\"\n", a->backend, text);
}

static int random_cases(const struct check_args *a, struct nncl_backend *cpu, struct nncl_backend *dev,
                        struct report *rep) {
    if (a->one_case) {
        struct op_case c;
        size_t offset;
        struct check_result r;
        if (op_case_parse(a->one_case, &c, &offset)) return cli_fail(CMD, "--case");
        if (check_op_case_at(cpu, dev, &c, offset, 0, &r)) return cli_fail(CMD, "--case");
        print_result(&r, rep);
        if (!r.pass) print_repro(a, &c, offset);
        return CLI_OK;
    }
    uint64_t rng = a->seed;
    printf("%zu random shapes per op, seed %llu (only failures are listed in full)\n", a->random,
           (unsigned long long)a->seed);
    for (int op = 0; op < NNCL_OP_COUNT; op++) {
        size_t failed = 0, mistrusted = 0;
        double worst = 0;
        for (size_t i = 0; i < a->random; i++) {
            struct op_case c;
            size_t offset;
            struct check_result r;
            op_case_random((enum nncl_op)op, &rng, &c, &offset);
            if (check_op_case_at(cpu, dev, &c, offset, 0, &r)) {
                char text[512];
                op_case_format(&c, offset, text, sizeof text);
                return cli_fail(CMD, text);
            }
            rep->count++;
            rep->failures += !r.pass;
            failed += !r.pass;
            mistrusted += r.pass && !r.trusted;
            rep->mistrusted += r.pass && !r.trusted;
            if (r.worst_excess > worst) worst = r.worst_excess;
            if (!r.pass) {
                rep->count--, rep->failures--; /* print_result counts it */
                print_result(&r, rep);
                print_repro(a, &c, offset);
            }
        }
        printf("%-10s %-20s %zu shapes, %zu failed, %zu mistrusted, worst %.3g of its bound\n", failed ? "FAIL" : "ok",
               nncl_op_name((enum nncl_op)op), a->random, failed, mistrusted, worst);
    }
    return CLI_OK;
}

/* --csv FILE: the header, then print_result writes a row per comparison. */
static int open_csv(const struct check_args *a, struct nncl_backend *dev, struct report *rep) {
    if (!(rep->csv = fopen(a->csv, "w"))) {
        fprintf(stderr, "nncl check: --csv %s: cannot open for writing\n", a->csv);
        return CLI_FAIL;
    }
    rep->device = nncl_backend_device(dev);
    fprintf(rep->csv, "op,shape,device,max_abs_err,max_rel_err,fraction_of_bound,tol_abs,tol_rel,bound,verdict,"
                      "device_ms,what\n");
    return CLI_OK;
}

int cmd_check(int argc, char **argv) {
    struct check_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    if (a.coverage) return cli_check_coverage();
    if (a.self_test) {
        struct nncl_backend *ref = NULL;
        if (nncl_backend_init("cpu", &ref)) return cli_fail(CMD, "the CPU reference");
        rc = self_test(&a, ref);
        nncl_backend_free(ref);
        return rc;
    }
    struct nncl_backend *dev = NULL, *cpu = NULL;
    struct nncl_model *model = NULL;
    struct nncl_dataset ds;
    memset(&ds, 0, sizeof ds);
    const int have_data = a.data.data || a.data.dataset;
    check_set_simulated(a.simulate);
    if ((rc = cli_open_backend(CMD, a.backend, &a.bopts, &dev))) return rc;
    if (nncl_backend_init("cpu", &cpu)) rc = cli_fail(CMD, "the CPU reference");
    else if (nncl_backend_set_threads(cpu, (int)a.bopts.threads)) rc = cli_fail(CMD, "--threads");
    /* a model file first: CSV data is then prepared with its stored transform (target, ignored columns,
     * standardisation, class names), as eval and grad prepare it */
    if (!rc && a.model) rc = build_model(&a, cpu, NULL, &model);
    if (!rc && have_data) rc = cli_load_data(CMD, &a.data, model, 1, &ds);
    if (!rc && !a.model) rc = build_model(&a, cpu, have_data ? &ds : NULL, &model);

    cJSON *root = a.json ? cJSON_CreateObject() : NULL;
    struct report rep = {.rows = root ? cJSON_AddArrayToObject(root, "comparisons") : NULL};
    if (!rc && a.csv) rc = open_csv(&a, dev, &rep);
    if (root) {
        cJSON_AddStringToObject(root, "device", nncl_backend_device(dev));
        cJSON_AddStringToObject(root, "versions", nncl_backend_versions(dev));
        cJSON_AddStringToObject(root, "reference", nncl_backend_versions(cpu));
    }
    if (!rc && (a.random || a.one_case)) {
        printf("checking %s\n  %s\nagainst %s\n\n", nncl_backend_device(dev), nncl_backend_versions(dev),
               nncl_backend_versions(cpu));
        rc = random_cases(&a, cpu, dev, &rep);
    } else if (!rc) {
        printf("checking %s\n  %s\nagainst %s\n\n", nncl_backend_device(dev), nncl_backend_versions(dev),
               nncl_backend_versions(cpu));
        printf("%-10s %-70s %10s %10s %10s %9s\n", "verdict", "comparison", "max abs", "max rel", "of bound", "ms");
        for (size_t i = 0; !rc && i < op_case_count; i++) {
            struct check_result r;
            if (a.simulate && !op_case_is_small(&op_cases[i])) continue;
            if (check_op_case(cpu, dev, &op_cases[i], a.simulate ? 0 : (int)a.repeat, &r)) rc = cli_fail(CMD, op_cases[i].note);
            else print_result(&r, &rep);
        }
    }
    if (!rc && model) {
        struct op_case cases[3 * NNCL_MAX_LAYERS];
        const size_t n = check_net_gemm_cases(nncl_model_get_spec(model), a.batch, cases, 3 * NNCL_MAX_LAYERS);
        printf("\nthe net's GEMM shapes at batch %zu\n", a.batch);
        for (size_t i = 0; !rc && i < n; i++) {
            struct check_result r;
            if (check_op_case(cpu, dev, &cases[i], (int)a.repeat, &r)) rc = cli_fail(CMD, cases[i].note);
            else print_result(&r, &rep);
        }
    }
    const char *optim_source = NULL;
    if (!rc && model && have_data) rc = cli_optim_resolve(CMD, a.model, &a.optim, &a.step, &optim_source);
    const struct nncl_train_options *o = &a.step;
    if (!rc && model && have_data) {
        printf("\none training step (%s, lr %g, from %s) on the first %zu examples of %s\n",
               nncl_optimizer_name(o->optimizer), (double)o->lr, optim_source, a.batch < ds.n ? a.batch : ds.n,
               ds.source);
        if (root) cJSON_AddStringToObject(root, "optimizer", nncl_optimizer_name(o->optimizer));
        if (root) cJSON_AddNumberToObject(root, "lr", (double)o->lr);
        size_t failures = 0;
        if (check_network(model, dev, &ds, a.batch, o, a.oracle != NULL, print_result, &rep, &failures)) {
            rc = cli_fail(CMD, "the training step");
        }
    }
    if (!rc && a.lockstep) {
        struct lock_report lr = {.rows = root ? cJSON_AddArrayToObject(root, "lockstep") : NULL};
        if (a.metrics && !(lr.csv = fopen(a.metrics, "w"))) {
            fprintf(stderr, "nncl check: --metrics %s: cannot open for writing\n", a.metrics);
            rc = CLI_FAIL;
        }
        if (lr.csv) fprintf(lr.csv, "step,loss_cpu,loss_device,loss_diff_rel,weight_diff_rel,bound,jump\n");
        printf("\nlockstep: %zu %s steps (lr %g, batch %zu) on both backends with the same batches\n", a.lockstep,
               nncl_optimizer_name(o->optimizer), (double)o->lr, a.batch);
        size_t failures = 0;
        if (!rc && check_lockstep(model, dev, &ds, a.batch, o, a.lockstep, a.seed, print_lockstep, &lr, &failures)) {
            rc = cli_fail(CMD, "lockstep");
        }
        if (lr.csv && fclose(lr.csv) != 0 && !rc) rc = CLI_FAIL;
        rep.failures += lr.failures;
    }
    if (!rc) {
        printf("\n%zu comparisons, %zu failed, %zu mistrusted: %s\n", rep.count, rep.failures, rep.mistrusted,
               rep.failures ? "the device disagrees with the CPU reference beyond the bounds" : "the device agrees");
        if (rep.mistrusted) {
            printf("(%zu passing comparisons are MISTRUSTED: their reference is over 90%% zeros or all equal, so they "
                   "prove little; docs/validation.md, \"Verdicts\")\n", rep.mistrusted);
        }
        if (rep.failures) rc = CLI_FAIL;
    }
    if (root) {
        cJSON_AddNumberToObject(root, "failures", (double)rep.failures);
        cJSON_AddNumberToObject(root, "mistrusted", (double)rep.mistrusted);
        if (write_json(a.json, root) && !rc) rc = CLI_FAIL;
        cJSON_Delete(root);
    }
    if (rep.csv && fclose(rep.csv) != 0 && !rc) {
        fprintf(stderr, "nncl check: --csv %s: cannot write\n", a.csv);
        rc = CLI_FAIL;
    }
    nncl_model_free(model);
    nncl_dataset_free(&ds);
    nncl_backend_free(cpu);
    nncl_backend_free(dev);
    return rc;
}
