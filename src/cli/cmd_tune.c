/*
 * cmd_tune.c: `nncl tune`: tunes CLBlast's GEMM for the selected OpenCL device on a net's own matrix
 * products and stores the parameters that every later OpenCL backend on that device applies.
 *
 * The work is the library's (nncl_opencl_tune): this file only turns options into the net's GEMM shapes
 * (the same list `nncl check` and the trainer's CLBlast guard use) and prints what happened. It needs no
 * OpenCL headers; a build without OpenCL reports that through nncl_opencl_tune's NNCL_ERR_UNSUPPORTED.
 */
#define _GNU_SOURCE /* getopt_long, readlink */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "cli.h"
#include "tune/tune_impl.h"

static const char *const CMD = "tune";

static void help(void) {
    printf("usage: nncl tune [--device P:D] [--hidden SPEC] [--inputs N] [--outputs K] [--batch-size B] [--fraction F]\n"
           "                 [--time-limit S] [--size S] [--candidate-timeout S]\n"
           "\n"
           "Tunes CLBlast's matrix product for the OpenCL device `--backend opencl` uses (NNCL_OPENCL_PLATFORM\n"
           "and NNCL_OPENCL_DEVICE choose it; `nncl devices` lists them) on the products of one training step\n"
           "of a net, and stores the parameters in $XDG_CACHE_HOME/nncl/tuning (default ~/.cache/nncl/tuning),\n"
           "one file per device and driver. Every OpenCL backend on that device applies them when it starts;\n"
           "delete the file to untune. Needs CLBlast's tuner (Debian's clblast-utils). See docs/tuning.md.\n"
           "\n"
           "Steps: times the net's products with CLBlast's own parameters; runs clblast_tuner_xgemm on a sample\n"
           "of its configurations; checks its best few against the CPU reference on the net's products, times\n"
           "them there and picks the size from which products use the tuned kernel (XGEMM_MIN_INDIRECT_SIZE);\n"
           "stores the fastest if it beats CLBlast's own. Prints the net's products' time before and after.\n"
           "\n"
           "  --hidden SPEC     hidden layers as for nncl train (default 256:relu,128:relu)\n"
           "  --inputs N        inputs of the net (default 784)\n"
           "  --outputs K       outputs of the net (default 10): the default net is Fashion-MNIST's 784-256-128-10\n"
           "  --batch-size B    rows per training step (default 128)\n"
           "  --fraction F      share of the tuner's ~138,000 configurations to time, 0 < F <= 1 (default 0.002,\n"
           "                    about 275: 2-5 minutes on a 2-core CPU under PoCL)\n"
           "  --time-limit S    stop the tuner after S seconds and keep its best so far (default 300)\n"
           "  --size S          m = n = k of the product the tuner times, a multiple of 128 (default: from the\n"
           "                    net's products, weighted by their work; 256 for the default net)\n"
           "  --candidate-timeout S  each candidate's check runs in a child process; one with no answer after S\n"
           "                    seconds (0 < S <= 3600, default 300) is killed and skipped\n"
           "  --device P:D      the OpenCL platform and device to tune, each an index or part of a name (sets\n"
           "                    NNCL_OPENCL_PLATFORM/DEVICE); one that matches nothing is an error\n"
           "  --check-candidate PARAMS --shapes M,N,K,TA,TB;...  (internal) what each candidate's child process\n"
           "                    runs: check those Xgemm parameters on those products; prints ok or wrong: WHY\n"
           "\n"
           "Exit status: 0 done (stored, or CLBlast's own parameters were faster), 1 failure, 2 usage error.\n");
}

struct tune_args {
    const char *hidden;
    const char *candidate, *shapes; /* --check-candidate, --shapes: the child side of the candidate check */
    size_t inputs, outputs, batch, size;
    float fraction, time_limit, candidate_timeout;
};

static int parse(int argc, char **argv, struct tune_args *a) {
    enum { O_HIDDEN = 256, O_INPUTS, O_OUTPUTS, O_BATCH, O_FRACTION, O_LIMIT, O_SIZE, O_HELP, O_CANDIDATE, O_SHAPES,
           O_CANDIDATE_TIMEOUT };
    static const struct option own_opts[] = {
        {"hidden", required_argument, 0, O_HIDDEN},     {"inputs", required_argument, 0, O_INPUTS},
        {"outputs", required_argument, 0, O_OUTPUTS},   {"batch-size", required_argument, 0, O_BATCH},
        {"fraction", required_argument, 0, O_FRACTION}, {"time-limit", required_argument, 0, O_LIMIT},
        {"size", required_argument, 0, O_SIZE},         {"help", no_argument, 0, O_HELP},
        {"check-candidate", required_argument, 0, O_CANDIDATE}, {"shapes", required_argument, 0, O_SHAPES},
        {"candidate-timeout", required_argument, 0, O_CANDIDATE_TIMEOUT},
        {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->hidden = "256:relu,128:relu";
    a->inputs = 784, a->outputs = 10, a->batch = 128;
    opterr = 0;
    optind = 1;
    int c;
    struct option opts[CLI_MAX_OPTIONS];
    cli_options_with_backend(own_opts, 0, opts, CLI_MAX_OPTIONS);
    struct cli_backend_opts bopts = {0};
    if (cli_refuse_abbreviations(CMD, argc, argv, opts)) return CLI_USAGE;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = CLI_OK;
        if (cli_backend_option(CMD, c, optarg, &bopts, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case O_HIDDEN: a->hidden = optarg; break;
        case O_INPUTS: rc = cli_parse_size(CMD, "--inputs", optarg, &a->inputs); break;
        case O_OUTPUTS: rc = cli_parse_size(CMD, "--outputs", optarg, &a->outputs); break;
        case O_BATCH: rc = cli_parse_size(CMD, "--batch-size", optarg, &a->batch); break;
        case O_FRACTION:
            rc = cli_parse_float(CMD, "--fraction", optarg, &a->fraction);
            if (!rc && !(a->fraction > 0.0f && a->fraction <= 1.0f)) {
                rc = cli_usage_error(CMD, "--fraction %s: give a share of the configurations above 0 and at most 1",
                                     optarg);
            }
            break;
        case O_LIMIT:
            rc = cli_parse_float(CMD, "--time-limit", optarg, &a->time_limit);
            if (!rc && !(a->time_limit > 0.0f)) {
                rc = cli_usage_error(CMD, "--time-limit %s: give seconds above 0", optarg);
            }
            break;
        case O_SIZE: rc = cli_parse_size(CMD, "--size", optarg, &a->size); break;
        case O_CANDIDATE_TIMEOUT:
            rc = cli_parse_float(CMD, "--candidate-timeout", optarg, &a->candidate_timeout);
            if (!rc && !(a->candidate_timeout > 0.0f && a->candidate_timeout <= 3600.0f)) {
                rc = cli_usage_error(CMD, "--candidate-timeout %s: give seconds above 0 and at most 3600", optarg);
            }
            break;
        case O_CANDIDATE: a->candidate = optarg; break;
        case O_SHAPES: a->shapes = optarg; break;
        case 'h':
        case O_HELP: help(); exit(CLI_OK);
        default: return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (!a->candidate != !a->shapes) return cli_usage_error(CMD, "--check-candidate and --shapes go together");
    if (a->size && (a->size % 128 || a->size > 4096)) {
        return cli_usage_error(CMD, "--size %zu: give a multiple of 128 up to 4096 (the tuner's tiles divide it)",
                               a->size);
    }
    if (!a->inputs || !a->outputs || !a->batch) {
        return cli_usage_error(CMD, "--inputs, --outputs and --batch-size must be at least 1");
    }
    return CLI_OK;
}

static void print_progress(const char *line, void *user) {
    (void)user;
    printf("  %s\n", line);
    fflush(stdout);
}

/* The child side of the candidate check (src/tune/tune_isolate.c): one line, "ok" (exit 0) or "wrong: WHY"
 * (exit 1); anything else (exit 2 or a crash, which is what the isolation is for) refuses the candidate too. */
static int check_candidate(const struct tune_args *a) {
    struct nncl_gemm_shape shapes[NNCL_TUNE_MAX_SHAPES];
    size_t n = 0;
    char wrong[1024];
    if (tune_shapes_parse(a->shapes, shapes, NNCL_TUNE_MAX_SHAPES, &n)) return cli_usage_error(CMD, "%s", nncl_last_error());
    if (tune_check_candidate(a->candidate, shapes, n, wrong, sizeof wrong)) {
        printf("could not check: %s\n", nncl_last_error());
        return CLI_USAGE;
    }
    printf(wrong[0] ? "wrong: %s\n" : "ok%s\n", wrong);
    return wrong[0] ? CLI_FAIL : CLI_OK;
}

int cmd_tune(int argc, char **argv) {
    struct tune_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    if (a.candidate) return check_candidate(&a);

    /* the net, as nncl train and nncl check build it from --hidden */
    struct nncl_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_inputs = a.inputs;
    if (nncl_parse_hidden(a.hidden, &spec)) return cli_usage_error(CMD, "--hidden: %s", nncl_last_error());
    spec.layers[spec.n_layers++] = (struct nncl_layer_spec){a.outputs, NNCL_ACT_IDENTITY, 0.0f, 0.0f};
    spec.loss = a.outputs == 1 ? NNCL_LOSS_BCE : NNCL_LOSS_XENT;
    if (nncl_model_spec_check(&spec)) return cli_usage_error(CMD, "the net: %s", nncl_last_error());

    /* its products in one training step: forward, weight gradient, input gradient (not for layer 1) */
    struct op_case cases[3 * NNCL_MAX_LAYERS];
    const size_t n = check_net_gemm_cases(&spec, a.batch, cases, 3 * NNCL_MAX_LAYERS);
    struct nncl_gemm_shape shapes[3 * NNCL_MAX_LAYERS];
    double flop = 0;
    for (size_t i = 0; i < n; i++) {
        shapes[i] = (struct nncl_gemm_shape){cases[i].rows, cases[i].cols, cases[i].k, cases[i].ip[0], cases[i].ip[1]};
        flop += 2.0 * (double)cases[i].rows * (double)cases[i].cols * (double)cases[i].k;
    }
    printf("nncl tune: net %zu", spec.n_inputs);
    for (size_t l = 0; l < spec.n_layers; l++) printf("-%zu", spec.layers[l].units);
    printf(" at batch %zu: %zu matrix products per training step, %.1f MFLOP\n", a.batch, n, flop / 1e6);
    fflush(stdout);

    /* every candidate is checked in a child process running this program (src/tune/tune_isolate.c) */
    char self[4096];
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) self[len] = '\0';
    struct nncl_tune_options opt = {
        .fraction = a.fraction, .time_limit_s = a.time_limit, .tune_size = a.size, .progress = print_progress,
        .isolate_exe = len > 0 ? self : NULL, .candidate_timeout_s = a.candidate_timeout,
    };
    struct nncl_tune_result r;
    if (nncl_opencl_tune(shapes, n, &opt, &r)) return cli_fail(CMD, "tuning failed");

    printf("\ndevice:   %s\n", r.device);
    printf("tuner:    clblast_tuner_xgemm at m=n=k=%zu, %zu configurations in %.0f s%s, best %.1f GFLOP/s\n",
           r.tune_size, r.configurations, r.tuner_seconds, r.tuner_stopped ? " (stopped at --time-limit)" : "",
           r.tuner_best_gflops);
    printf("kept:     Xgemm %s; GemmRoutine XGEMM_MIN_INDIRECT_SIZE=%zu\n", r.xgemm_params, r.min_indirect_size);
    printf("checked:  the tuned products match the CPU reference on all %zu shapes\n", n);
    printf("step's products: %8.3f ms untuned%s -> %8.3f ms tuned  (%.2fx, %.1f -> %.1f GFLOP/s)\n", r.untuned_ms,
           r.baseline_tuned ? " (parameters applied earlier in this process)" : "", r.tuned_ms,
           r.untuned_ms / r.tuned_ms, flop / (r.untuned_ms * 1e6), flop / (r.tuned_ms * 1e6));
    printf("1024^3 product:  %8.1f GFLOP/s untuned -> %8.1f GFLOP/s tuned  (%.2fx)\n", r.untuned_gflops_1024,
           r.tuned_gflops_1024, r.tuned_gflops_1024 / r.untuned_gflops_1024);
    if (r.stored) {
        printf("stored:   %s\n          applied by every OpenCL backend on this device and driver; delete it to "
               "untune\n", r.path);
    } else {
        printf("not stored: CLBlast's own parameters are as fast on this net's products; %s is unchanged\n", r.path);
    }
    return CLI_OK;
}
