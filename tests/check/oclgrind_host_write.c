/*
 * oclgrind_host_write.c: the minimal case, without nncl, of the Oclgrind 21.10 false report that
 * src/opencl/ocl_buffer.c works around. A buffer of 16 floats is written by the host in two halves
 * (clEnqueueWriteBuffer at byte offsets 0 and 32); a kernel copies the second half out. Every byte read was
 * written, yet `oclgrind --uninitialized ./oclgrind_host_write` reports 8 "Uninitialized value written";
 * writing all 64 bytes at offset 0 reports nothing. Not part of the test suite (it proves a simulator
 * bug, not ours); build with `cc oclgrind_host_write.c -lOpenCL`.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>

static const char *src = "kernel void k(global const float *a, ulong off, global float *o) {"
                         " size_t i = get_global_id(0); o[i] = a[off + i]; }";

int main(int argc, char **argv) {
    (void)argv;
    cl_platform_id p;
    cl_device_id d;
    cl_int e;
    if (clGetPlatformIDs(1, &p, NULL) || clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL)) return 1;
    cl_context c = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
    cl_command_queue q = clCreateCommandQueue(c, d, 0, &e);
    cl_program pr = clCreateProgramWithSource(c, 1, &src, NULL, &e);
    clBuildProgram(pr, 1, &d, "", NULL, NULL);
    cl_kernel k = clCreateKernel(pr, "k", &e);
    float h[16];
    for (int i = 0; i < 16; i++) h[i] = (float)i;
    cl_mem a = clCreateBuffer(c, CL_MEM_READ_WRITE, 64, NULL, &e), o = clCreateBuffer(c, CL_MEM_READ_WRITE, 32, NULL, &e);
    if (argc > 1) { /* "whole": one write of all 64 bytes: no report */
        clEnqueueWriteBuffer(q, a, CL_TRUE, 0, 64, h, 0, NULL, NULL);
    } else { /* two halves: 8 reports */
        clEnqueueWriteBuffer(q, a, CL_TRUE, 0, 32, h, 0, NULL, NULL);
        clEnqueueWriteBuffer(q, a, CL_TRUE, 32, 32, h + 8, 0, NULL, NULL);
    }
    cl_ulong off = 8;
    clSetKernelArg(k, 0, sizeof a, &a);
    clSetKernelArg(k, 1, sizeof off, &off);
    clSetKernelArg(k, 2, sizeof o, &o);
    size_t g = 8;
    clEnqueueNDRangeKernel(q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
    clFinish(q);
    printf("done\n");
    return 0;
}
