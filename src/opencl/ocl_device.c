/*
 * ocl_device.c: finding OpenCL platforms and devices, choosing one, and listing them.
 *
 * The device comes from two environment variables, read here and nowhere else:
 *   NNCL_OPENCL_PLATFORM  platform index (0, 1, ...) or a case-insensitive substring of its name
 *   NNCL_OPENCL_DEVICE    device index within the platform, or a substring of the device name
 * Unset, the first GPU of any platform is chosen, else the first device of the first platform.
 * On the Oclgrind platform NNCL_OCLGRIND_WORKAROUND=off (or 0) switches off the workaround for its
 * byte bookkeeping (ocl_buffer.c), to reproduce the false reports; it changes nothing on other platforms.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_impl.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

static const char *const no_platform_hint =
    "no OpenCL platform found: install an OpenCL driver (NVIDIA: nvidia-opencl-icd; AMD: the ROCm OpenCL "
    "runtime; Intel: intel-opencl-icd; any CPU: pocl-opencl-icd) and check that /etc/OpenCL/vendors lists "
    "its .icd file, or use --backend cpu";

/* Case-insensitive substring test. */
static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

/* "3" -> 3; anything that is not all digits -> -1 (then it is a name substring). */
static long parse_index(const char *s) {
    if (!s || !*s) return -1;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c)) return -1;
    }
    return strtol(s, NULL, 10);
}

static int matches(const char *selector, long index, const char *name) {
    if (!selector || !*selector) return 1;
    long want = parse_index(selector);
    return want >= 0 ? want == index : contains_nocase(name, selector);
}

static enum nncl_status get_platforms(cl_platform_id *platforms, cl_uint *count) {
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, platforms, count);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */ || (err == CL_SUCCESS && *count == 0)) {
        *count = 0;
        return nncl_set_error(NNCL_ERR_NO_DEVICE, "OpenCL: %s", no_platform_hint);
    }
    NNCL_CL_CHECK(err);
    if (*count > MAX_PLATFORMS) *count = MAX_PLATFORMS;
    return NNCL_OK;
}

static void get_devices(cl_platform_id platform, cl_device_id *devices, cl_uint *count) {
    if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices, count) != CL_SUCCESS) *count = 0;
    if (*count > MAX_DEVICES) *count = MAX_DEVICES;
}

static void platform_name(cl_platform_id p, char *out, size_t cap) {
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, cap, out, NULL) != CL_SUCCESS) snprintf(out, cap, "?");
    out[cap - 1] = '\0';
}

static void device_string(cl_device_id d, cl_device_info what, char *out, size_t cap) {
    if (clGetDeviceInfo(d, what, cap, out, NULL) != CL_SUCCESS) snprintf(out, cap, "?");
    out[cap - 1] = '\0';
}

static int device_is_gpu(cl_device_id d) {
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return (type & CL_DEVICE_TYPE_GPU) != 0;
}

int nncl_opencl_device_choice_given(void) {
    const char *psel = getenv("NNCL_OPENCL_PLATFORM"), *dsel = getenv("NNCL_OPENCL_DEVICE");
    return (psel && *psel) || (dsel && *dsel);
}

/* The selection rule, shared by ocl_device_select and the listing's is_selected flag. */
static enum nncl_status choose(cl_platform_id *out_platform, cl_device_id *out_device, int *out_p, int *out_d) {
    const char *psel = getenv("NNCL_OPENCL_PLATFORM"), *dsel = getenv("NNCL_OPENCL_DEVICE");
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint np = 0;
    enum nncl_status st = get_platforms(platforms, &np);
    if (st) return st;
    const int explicit_choice = nncl_opencl_device_choice_given();
    /* Two passes without an explicit choice: first any GPU, then any device. */
    for (int pass = explicit_choice ? 1 : 0; pass < 2; pass++) {
        for (cl_uint p = 0; p < np; p++) {
            char pname[128];
            platform_name(platforms[p], pname, sizeof pname);
            if (!matches(psel, (long)p, pname)) continue;
            cl_device_id devices[MAX_DEVICES];
            cl_uint nd = 0;
            get_devices(platforms[p], devices, &nd);
            for (cl_uint d = 0; d < nd; d++) {
                char dname[128];
                device_string(devices[d], CL_DEVICE_NAME, dname, sizeof dname);
                if (!matches(dsel, (long)d, dname)) continue;
                if (pass == 0 && !device_is_gpu(devices[d])) continue;
                *out_platform = platforms[p];
                *out_device = devices[d];
                if (out_p) *out_p = (int)p;
                if (out_d) *out_d = (int)d;
                return NNCL_OK;
            }
        }
    }
    if (explicit_choice) {
        return nncl_set_error(NNCL_ERR_NO_DEVICE, "OpenCL: no device matches NNCL_OPENCL_PLATFORM=\"%s\" "
                              "NNCL_OPENCL_DEVICE=\"%s\"; run `nncl devices` or `clinfo -l` to see the "
                              "platforms and devices, and give an index or part of a name",
                              psel ? psel : "", dsel ? dsel : "");
    }
    return nncl_set_error(NNCL_ERR_NO_DEVICE, "OpenCL: platforms exist but none has a device; %s",
                          no_platform_hint);
}

/* Whether the chosen platform is Oclgrind and the workaround of ocl_buffer.c is wanted (docs/validation.md). */
static int oclgrind_workaround(const char *platform) {
    if (strncmp(platform, "Oclgrind", 8) != 0) return 0;
    const char *knob = getenv("NNCL_OCLGRIND_WORKAROUND");
    if (knob && (strcmp(knob, "off") == 0 || strcmp(knob, "0") == 0)) {
        nncl_log(NNCL_LOG_WARN, "Oclgrind: NNCL_OCLGRIND_WORKAROUND=%s: its byte bookkeeping is not worked around "
                                "(src/opencl/ocl_buffer.c); expect false uninitialised-value reports", knob);
        return 0;
    }
    return 1;
}

enum nncl_status ocl_device_select(struct ocl_state *st) {
    enum nncl_status s = choose(&st->platform, &st->device, NULL, NULL);
    if (s) return s;
    platform_name(st->platform, st->platform_name, sizeof st->platform_name);
    st->oclgrind_workaround = oclgrind_workaround(st->platform_name);
    device_string(st->device, CL_DEVICE_NAME, st->device_name, sizeof st->device_name);
    device_string(st->device, CL_DRIVER_VERSION, st->driver_version, sizeof st->driver_version);
    device_string(st->device, CL_DEVICE_VERSION, st->device_version, sizeof st->device_version);
    st->is_gpu = device_is_gpu(st->device);
    NNCL_CL_CHECK(clGetDeviceInfo(st->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof st->max_group_size,
                                  &st->max_group_size, NULL));
    NNCL_CL_CHECK(clGetDeviceInfo(st->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof st->compute_units,
                                  &st->compute_units, NULL));
    NNCL_CL_CHECK(clGetDeviceInfo(st->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof st->global_mem, &st->global_mem, NULL));
    NNCL_CL_CHECK(clGetDeviceInfo(st->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof st->max_alloc, &st->max_alloc, NULL));
    return NNCL_OK;
}

enum nncl_status nncl_opencl_list_devices(struct nncl_device_info *out, size_t cap, size_t *count) {
    if (!count || (cap && !out)) {
        return nncl_set_error(NNCL_ERR_INVALID_ARG, "nncl_opencl_list_devices: count is NULL, or out is NULL "
                                                    "with cap > 0");
    }
    *count = 0;
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint np = 0;
    enum nncl_status st = get_platforms(platforms, &np);
    if (st) return st;
    cl_platform_id chosen_p = NULL;
    cl_device_id chosen_d = NULL;
    if (choose(&chosen_p, &chosen_d, NULL, NULL) != NNCL_OK) chosen_d = NULL; /* listing still useful */
    nncl_clear_error();
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint nd = 0;
        get_devices(platforms[p], devices, &nd);
        for (cl_uint d = 0; d < nd; d++, (*count)++) {
            if (*count >= cap) continue;
            struct nncl_device_info *info = &out[*count];
            memset(info, 0, sizeof *info);
            info->platform_index = (int)p;
            info->device_index = (int)d;
            platform_name(platforms[p], info->platform, sizeof info->platform);
            device_string(devices[d], CL_DEVICE_NAME, info->name, sizeof info->name);
            device_string(devices[d], CL_DEVICE_VERSION, info->version, sizeof info->version);
            device_string(devices[d], CL_DRIVER_VERSION, info->driver, sizeof info->driver);
            cl_ulong mem = 0;
            cl_uint units = 0;
            clGetDeviceInfo(devices[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
            info->global_mem_bytes = mem;
            info->compute_units = units;
            info->is_gpu = device_is_gpu(devices[d]);
            info->is_selected = devices[d] == chosen_d;
        }
    }
    return NNCL_OK;
}
