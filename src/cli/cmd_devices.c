/*
 * cmd_devices.c: `nncl devices`: the OpenCL platforms and devices, and which one would be used.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_devices(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("usage: nncl devices\n\nLists the OpenCL platforms and devices. The device `--backend opencl` uses is\n"
               "marked with *; choose another with NNCL_OPENCL_PLATFORM and NNCL_OPENCL_DEVICE (an index or part\n"
               "of the name). `--backend auto` uses the marked device only when it is a GPU.\n");
        return CLI_OK;
    }
    if (argc > 1) return cli_usage_error("devices", "unexpected argument \"%s\"", argv[1]);
    struct nncl_device_info infos[64];
    size_t count = 0;
    if (nncl_opencl_list_devices(infos, 64, &count)) return cli_fail("devices", "no OpenCL devices");
    const char *p = getenv("NNCL_OPENCL_PLATFORM"), *d = getenv("NNCL_OPENCL_DEVICE");
    printf("NNCL_OPENCL_PLATFORM=%s NNCL_OPENCL_DEVICE=%s\n", p ? p : "(unset)", d ? d : "(unset)");
    int selected_gpu = 0;
    for (size_t i = 0; i < count && i < 64; i++) {
        const struct nncl_device_info *x = &infos[i];
        const int tuned = nncl_opencl_device_tuned(x, NULL, 0);
        printf("%c platform %d device %d: %s [%s] %s, driver %s, %u compute units, %.1f GiB%s, %s\n",
               x->is_selected ? '*' : ' ', x->platform_index, x->device_index, x->name, x->platform, x->version,
               x->driver, x->compute_units, (double)x->global_mem_bytes / (1024.0 * 1024.0 * 1024.0),
               x->is_gpu ? ", GPU" : "",
               tuned > 0 ? "tuned" : tuned < 0 ? "tuning file not applied (run nncl tune)" : "untuned");
        selected_gpu |= x->is_selected && x->is_gpu;
    }
    printf("--backend auto would use: %s\n", selected_gpu ? "the marked OpenCL GPU" : "the CPU reference (no OpenCL GPU)");
    return CLI_OK;
}
