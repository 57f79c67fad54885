/*
 * oclgrind_host_write.c: minimal cases, without nncl, of the three Oclgrind 21.10 false reports that
 * src/opencl/ocl_buffer.c works around (on the Oclgrind platform only). In each, every byte a kernel reads
 * was written, yet `oclgrind --uninitialized ./oclgrind_host_write MODE` reports "Uninitialized value":
 *   offset   16 floats written by the host in two halves (byte offsets 0 and 32); a kernel copies the
 *            second half out: 8 reports.
 *   partial  the host writes the first 15 floats of a 20-float buffer, a kernel stores floats 15-19, another
 *            copies them out: 5 reports.
 *   reuse    a 5-float buffer written and released, then a 20-float buffer stored whole by a kernel and
 *            copied out by another: 15 reports.
 *   whole    the same reads after one write of the whole buffer: no report.
 * Not part of the test suite (it proves a simulator bug, not ours); build with
 * `cc oclgrind_host_write.c -lOpenCL`. docs/validation.md ("Simulated device") has the measured counts.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <string.h>

static const char *src = "kernel void copy(global const float *a, ulong a_off, global float *o, ulong o_off) {"
                         " size_t i = get_global_id(0); o[o_off + i] = a[a_off + i]; }";

static cl_context ctx;
static cl_command_queue q;
static cl_kernel k;

static cl_mem buffer(size_t floats) {
    cl_int e;
    return clCreateBuffer(ctx, CL_MEM_READ_WRITE, floats * sizeof(float), NULL, &e);
}

/* o[o_off + i] = a[a_off + i] for i < n */
static void copy(cl_mem a, cl_ulong a_off, cl_mem o, cl_ulong o_off, size_t n) {
    clSetKernelArg(k, 0, sizeof a, &a);
    clSetKernelArg(k, 1, sizeof a_off, &a_off);
    clSetKernelArg(k, 2, sizeof o, &o);
    clSetKernelArg(k, 3, sizeof o_off, &o_off);
    clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "offset";
    cl_platform_id p;
    cl_device_id d;
    cl_int e;
    if (clGetPlatformIDs(1, &p, NULL) || clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL)) return 1;
    ctx = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
    q = clCreateCommandQueue(ctx, d, 0, &e);
    cl_program pr = clCreateProgramWithSource(ctx, 1, &src, NULL, &e);
    clBuildProgram(pr, 1, &d, "", NULL, NULL);
    k = clCreateKernel(pr, "copy", &e);
    float h[20];
    for (int i = 0; i < 20; i++) h[i] = (float)i;
    cl_mem out = buffer(20);
    if (strcmp(mode, "offset") == 0) {
        cl_mem a = buffer(16);
        clEnqueueWriteBuffer(q, a, CL_TRUE, 0, 32, h, 0, NULL, NULL);
        clEnqueueWriteBuffer(q, a, CL_TRUE, 32, 32, h + 8, 0, NULL, NULL);
        copy(a, 8, out, 0, 8);
    } else if (strcmp(mode, "partial") == 0) {
        cl_mem a = buffer(20), src5 = buffer(5);
        clEnqueueWriteBuffer(q, a, CL_TRUE, 0, 15 * sizeof(float), h, 0, NULL, NULL);
        clEnqueueWriteBuffer(q, src5, CL_TRUE, 0, 5 * sizeof(float), h, 0, NULL, NULL);
        copy(src5, 0, a, 15, 5); /* a kernel stores floats 15-19 */
        copy(a, 15, out, 0, 5);
    } else if (strcmp(mode, "reuse") == 0) {
        cl_mem small = buffer(5), whole = buffer(20);
        clEnqueueWriteBuffer(q, small, CL_TRUE, 0, 5 * sizeof(float), h, 0, NULL, NULL);
        clEnqueueWriteBuffer(q, whole, CL_TRUE, 0, 20 * sizeof(float), h, 0, NULL, NULL);
        clFinish(q);
        clReleaseMemObject(small);
        cl_mem a = buffer(20);
        copy(whole, 0, a, 0, 20); /* a kernel stores all 20 floats */
        copy(a, 0, out, 0, 20);
    } else {
        cl_mem a = buffer(20);
        clEnqueueWriteBuffer(q, a, CL_TRUE, 0, 20 * sizeof(float), h, 0, NULL, NULL);
        copy(a, 0, out, 0, 20);
    }
    clFinish(q);
    printf("done %s\n", mode);
    return 0;
}
