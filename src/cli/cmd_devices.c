/*
 * cmd_devices.c: `nncl devices`: the OpenCL platforms and devices, and which one would be used.
 */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const CMD = "devices";

static void help(void) {
    printf("usage: nncl devices [--device P:D]\n\nLists the OpenCL platforms and devices. The device `--backend opencl` "
           "uses is\nmarked with *; choose another with --device PLATFORM:DEVICE or NNCL_OPENCL_PLATFORM and\n"
           "NNCL_OPENCL_DEVICE (an index or part of the name). A choice that matches no device gets a warning here\n"
           "(and is an error for --backend opencl and auto). `--backend auto` uses the marked device only when it\n"
           "is a GPU.\n\n");
    cli_backend_help(0);
}

int cmd_devices(int argc, char **argv) {
    static const struct option own_opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct option opts[CLI_MAX_OPTIONS];
    cli_options_with_backend(own_opts, 0, opts, CLI_MAX_OPTIONS);
    struct cli_backend_opts bopts = {0};
    opterr = 0;
    optind = 1;
    if (cli_refuse_abbreviations(CMD, argc, argv, opts)) return CLI_USAGE;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = CLI_OK;
        if (cli_backend_option(CMD, c, optarg, &bopts, &rc)) {
            if (rc) return rc;
            continue;
        }
        if (c == 'h') {
            help();
            return CLI_OK;
        }
        return cli_usage_error(CMD, "unknown or incomplete option \"%s\"", argv[optind - 1]);
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    struct nncl_device_info infos[64];
    size_t count = 0;
    if (nncl_opencl_list_devices(infos, 64, &count)) return cli_fail(CMD, "no OpenCL devices");
    const char *p = getenv("NNCL_OPENCL_PLATFORM"), *d = getenv("NNCL_OPENCL_DEVICE");
    printf("NNCL_OPENCL_PLATFORM=%s NNCL_OPENCL_DEVICE=%s\n", p ? p : "(unset)", d ? d : "(unset)");
    int selected_gpu = 0, selected = 0;
    for (size_t i = 0; i < count && i < 64; i++) {
        const struct nncl_device_info *x = &infos[i];
        const int tuned = nncl_opencl_device_tuned(x, NULL, 0);
        printf("%c platform %d device %d: %s [%s] %s, driver %s, %u compute units, %.1f GiB%s, %s\n",
               x->is_selected ? '*' : ' ', x->platform_index, x->device_index, x->name, x->platform, x->version,
               x->driver, x->compute_units, (double)x->global_mem_bytes / (1024.0 * 1024.0 * 1024.0),
               x->is_gpu ? ", GPU" : "",
               tuned > 0 ? "tuned" : tuned < 0 ? "tuning file not applied (run nncl tune)" : "untuned");
        selected_gpu |= x->is_selected && x->is_gpu;
        selected |= x->is_selected;
    }
    if (!selected && ((p && *p) || (d && *d))) {
        /* a warning, not an error: the listing is what the user needs to correct the choice */
        fprintf(stderr, "nncl devices: warning: no device matches NNCL_OPENCL_PLATFORM=\"%s\" NNCL_OPENCL_DEVICE=\"%s\"; "
                        "--backend opencl and auto will fail; give an index or part of a name from the list\n",
                p ? p : "", d ? d : "");
        printf("--backend auto would use: nothing (it fails: the chosen device does not exist)\n");
        return CLI_OK;
    }
    printf("--backend auto would use: %s\n", selected_gpu ? "the marked OpenCL GPU" : "the CPU reference (no OpenCL GPU)");
    return CLI_OK;
}
