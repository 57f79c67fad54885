/*
 * test_opencl.c: the OpenCL backend's own behaviour (parity is test_parity.c): device listing and
 * selection through NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE, the messages of a kernel build failure
 * and of a missing device, and that ops only queue work.
 * Skipped without an OpenCL device, except under CI=true, where that fails.
 */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/ocl_impl.h"
#include "test_util.h"

Test(opencl, lists_devices_and_marks_the_selected_one) {
    struct nncl_backend *be = tu_device_or_skip();
    struct nncl_device_info infos[16];
    size_t count = 0;
    tu_ok(nncl_opencl_list_devices(infos, 16, &count), "list_devices");
    cr_assert(count >= 1);
    int selected = 0;
    for (size_t i = 0; i < count && i < 16; i++) {
        cr_assert(infos[i].name[0] && infos[i].version[0], "device %zu has no name or version", i);
        cr_assert(infos[i].compute_units > 0 && infos[i].global_mem_bytes > 0, "device %zu: %s", i, infos[i].name);
        if (infos[i].is_selected) {
            selected++;
            cr_assert(strstr(nncl_backend_device(be), infos[i].name), "selected %s, backend opened %s", infos[i].name,
                      nncl_backend_device(be));
        }
    }
    cr_assert_eq(selected, 1, "exactly one device is the one \"opencl\" opens");
    nncl_backend_free(be);
}

Test(opencl, device_chosen_by_index_and_by_name) {
    struct nncl_backend *be = tu_device_or_skip();
    nncl_backend_free(be);
    struct nncl_device_info info;
    size_t count = 0;
    tu_ok(nncl_opencl_list_devices(&info, 1, &count), "list_devices");
    char platform[16];
    snprintf(platform, sizeof platform, "%d", info.platform_index);
    setenv("NNCL_OPENCL_PLATFORM", platform, 1);
    setenv("NNCL_OPENCL_DEVICE", "0", 1);
    tu_ok(nncl_backend_init("opencl", &be), "by index");
    cr_assert(strstr(nncl_backend_device(be), info.name));
    nncl_backend_free(be);
    char part[8];
    snprintf(part, sizeof part, "%.5s", info.name);
    unsetenv("NNCL_OPENCL_PLATFORM");
    setenv("NNCL_OPENCL_DEVICE", part, 1);
    tu_ok(nncl_backend_init("opencl", &be), "by name substring");
    nncl_backend_free(be);
}

Test(opencl, unknown_device_names_the_variables) {
    nncl_backend_free(tu_device_or_skip());
    setenv("NNCL_OPENCL_DEVICE", "no-such-device-xyz", 1);
    struct nncl_backend *be = NULL;
    cr_assert_eq(nncl_backend_init("opencl", &be), NNCL_ERR_NO_DEVICE);
    cr_assert(strstr(nncl_last_error(), "NNCL_OPENCL_DEVICE=\"no-such-device-xyz\""), "%s", nncl_last_error());
    cr_assert(strstr(nncl_last_error(), "nncl devices"), "%s", nncl_last_error());
}

Test(opencl, missing_icd_says_what_to_install) {
    /* the ICD loader reads OCL_ICD_VENDORS before the first OpenCL call of the process */
    setenv("OCL_ICD_VENDORS", "/nonexistent-nncl-test", 1);
    struct nncl_backend *be = NULL;
    cr_assert_eq(nncl_backend_init("opencl", &be), NNCL_ERR_NO_DEVICE, "%s", nncl_last_error());
    cr_assert(strstr(nncl_last_error(), "pocl-opencl-icd"), "%s", nncl_last_error());
    /* auto falls back to the CPU reference and says nothing is wrong */
    tu_ok(nncl_backend_init("auto", &be), "auto");
    cr_assert_str_eq(nncl_backend_name(be), "cpu");
    nncl_backend_free(be);
}

Test(opencl, kernel_build_failure_reports_file_device_options_and_log) {
    struct nncl_backend *be = tu_device_or_skip();
    struct ocl_state *st = ocl_state_of(be);
    cl_program program = NULL;
    const char *broken = "kernel void nncl_broken(global float *x) { x[0] = undefined_thing; }\n";
    cr_assert_eq(ocl_program_build(st, "broken.cl", broken, &program), NNCL_ERR_KERNEL_BUILD);
    const char *msg = nncl_last_error();
    cr_assert(strstr(msg, "kernels/broken.cl"), "names the file: %s", msg);
    cr_assert(strstr(msg, st->device_name), "names the device: %s", msg);
    cr_assert(strstr(msg, "-cl-std=CL1.2"), "names the options: %s", msg);
    cr_assert(strstr(msg, "undefined_thing"), "carries the build log: %s", msg);
    nncl_backend_free(be);
}

Test(opencl, error_names_are_symbolic) {
    cr_assert_str_eq(nncl_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    cr_assert_str_eq(nncl_cl_error_name(CL_INVALID_WORK_GROUP_SIZE), "CL_INVALID_WORK_GROUP_SIZE");
    cr_assert_str_eq(nncl_clblast_error_name(-2046), "CLBlastInvalidLocalMemUsage");
    cr_assert_str_eq(nncl_clblast_error_name(-1017), "CLBlastInvalidDimension");
    cr_assert_str_eq(nncl_clblast_error_name(-5), "CL_OUT_OF_RESOURCES");
    cr_assert_eq(nncl_cl_fail(CL_OUT_OF_RESOURCES, "clFoo(x)", "f.c", 7), NNCL_ERR_OOM);
    cr_assert(strstr(nncl_last_error(), "clFoo(x) failed with CL_OUT_OF_RESOURCES (-5) at f.c:7"), "%s",
              nncl_last_error());
}

/* A training step's worth of ops is queued without waiting: the results appear only after one
 * synchronize, and are right. */
Test(opencl, ops_queue_and_synchronize_once) {
    struct nncl_backend *be = tu_device_or_skip();
    struct nncl_tensor x = tu_tensor(be, 64, 64, NULL), acc = tu_tensor(be, 1, 1, NULL);
    tu_ok(nncl_op_fill(be, 0.0f, &acc), "fill");
    for (int i = 0; i < 100; i++) {
        tu_ok(nncl_op_fill(be, 1.0f, &x), "fill");
        tu_ok(nncl_op_scale(be, 0.5f, &x), "scale");
        tu_ok(nncl_op_sum(be, 1.0f, &x, 1.0f, &acc), "sum");
    }
    tu_ok(nncl_backend_synchronize(be), "synchronize");
    cr_assert_float_eq(tu_get1(&acc), 100 * 64 * 64 * 0.5f, 1e-3);
    tu_free_all();
    nncl_backend_free(be);
}
