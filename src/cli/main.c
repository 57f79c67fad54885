/*
 * main.c: the nncl command: dispatch to a subcommand.
 */
#include <string.h>

#include "cli.h"
#include "runs.h"

static void usage(FILE *f) {
    fprintf(f, "usage: nncl <command> [options]\n"
               "\n"
               "commands:\n"
               "  train     train a network on CSV, IDX, safetensors data or --dataset fashion-mnist\n"
               "  eval      loss, accuracy or error, and a confusion matrix of a model on data\n"
               "  predict   one line per example: the class name or the predicted values\n"
               "  grad      the gradient of the mean loss over the first N examples, as safetensors\n"
               "  devices   the OpenCL platforms and devices, and which one would be used\n"
               "  check     validate a device against the CPU reference: ops, a net's GEMMs, a training step\n"
               "  tune      tune CLBlast's GEMM for the OpenCL device on a net's products (clblast-utils)\n"
               "\n"
               "Run `nncl <command> --help` for its options; `nncl --version` for the version.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("nncl %s\n", NNCL_VERSION_STRING);
        return CLI_OK;
    }
    if (cli_check_log_level()) return CLI_USAGE;
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "grad") == 0) return cmd_grad(argc - 1, argv + 1);
    if (strcmp(cmd, "devices") == 0) return cmd_devices(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "tune") == 0) return cmd_tune(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 1, argv + 1);
    fprintf(stderr, "nncl: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return CLI_USAGE;
}
