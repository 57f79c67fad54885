/*
 * ocl_errors.c: OpenCL and CLBlast status codes by name, and the error messages built from them.
 * clblast_c.h has no status-to-string function, so its codes are listed here.
 */
#include <clblast_c.h>

#include "ocl_impl.h"

#define NAME(code) \
    case code: return #code

const char *nncl_cl_error_name(cl_int code) {
    switch (code) {
        NAME(CL_SUCCESS);
        NAME(CL_DEVICE_NOT_FOUND);
        NAME(CL_DEVICE_NOT_AVAILABLE);
        NAME(CL_COMPILER_NOT_AVAILABLE);
        NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE);
        NAME(CL_OUT_OF_RESOURCES);
        NAME(CL_OUT_OF_HOST_MEMORY);
        NAME(CL_PROFILING_INFO_NOT_AVAILABLE);
        NAME(CL_MEM_COPY_OVERLAP);
        NAME(CL_IMAGE_FORMAT_MISMATCH);
        NAME(CL_IMAGE_FORMAT_NOT_SUPPORTED);
        NAME(CL_BUILD_PROGRAM_FAILURE);
        NAME(CL_MAP_FAILURE);
        NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET);
        NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
        NAME(CL_COMPILE_PROGRAM_FAILURE);
        NAME(CL_LINKER_NOT_AVAILABLE);
        NAME(CL_LINK_PROGRAM_FAILURE);
        NAME(CL_DEVICE_PARTITION_FAILED);
        NAME(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
        NAME(CL_INVALID_VALUE);
        NAME(CL_INVALID_DEVICE_TYPE);
        NAME(CL_INVALID_PLATFORM);
        NAME(CL_INVALID_DEVICE);
        NAME(CL_INVALID_CONTEXT);
        NAME(CL_INVALID_QUEUE_PROPERTIES);
        NAME(CL_INVALID_COMMAND_QUEUE);
        NAME(CL_INVALID_HOST_PTR);
        NAME(CL_INVALID_MEM_OBJECT);
        NAME(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR);
        NAME(CL_INVALID_IMAGE_SIZE);
        NAME(CL_INVALID_SAMPLER);
        NAME(CL_INVALID_BINARY);
        NAME(CL_INVALID_BUILD_OPTIONS);
        NAME(CL_INVALID_PROGRAM);
        NAME(CL_INVALID_PROGRAM_EXECUTABLE);
        NAME(CL_INVALID_KERNEL_NAME);
        NAME(CL_INVALID_KERNEL_DEFINITION);
        NAME(CL_INVALID_KERNEL);
        NAME(CL_INVALID_ARG_INDEX);
        NAME(CL_INVALID_ARG_VALUE);
        NAME(CL_INVALID_ARG_SIZE);
        NAME(CL_INVALID_KERNEL_ARGS);
        NAME(CL_INVALID_WORK_DIMENSION);
        NAME(CL_INVALID_WORK_GROUP_SIZE);
        NAME(CL_INVALID_WORK_ITEM_SIZE);
        NAME(CL_INVALID_GLOBAL_OFFSET);
        NAME(CL_INVALID_EVENT_WAIT_LIST);
        NAME(CL_INVALID_EVENT);
        NAME(CL_INVALID_OPERATION);
        NAME(CL_INVALID_GL_OBJECT);
        NAME(CL_INVALID_BUFFER_SIZE);
        NAME(CL_INVALID_MIP_LEVEL);
        NAME(CL_INVALID_GLOBAL_WORK_SIZE);
        NAME(CL_INVALID_PROPERTY);
        NAME(CL_INVALID_IMAGE_DESCRIPTOR);
        NAME(CL_INVALID_COMPILER_OPTIONS);
        NAME(CL_INVALID_LINKER_OPTIONS);
        NAME(CL_INVALID_DEVICE_PARTITION_COUNT);
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

const char *nncl_clblast_error_name(int code) {
    switch (code) {
        NAME(CLBlastNotImplemented);
        NAME(CLBlastInvalidMatrixA);
        NAME(CLBlastInvalidMatrixB);
        NAME(CLBlastInvalidMatrixC);
        NAME(CLBlastInvalidVectorX);
        NAME(CLBlastInvalidVectorY);
        NAME(CLBlastInvalidDimension);
        NAME(CLBlastInvalidLeadDimA);
        NAME(CLBlastInvalidLeadDimB);
        NAME(CLBlastInvalidLeadDimC);
        NAME(CLBlastInvalidIncrementX);
        NAME(CLBlastInvalidIncrementY);
        NAME(CLBlastInsufficientMemoryA);
        NAME(CLBlastInsufficientMemoryB);
        NAME(CLBlastInsufficientMemoryC);
        NAME(CLBlastInsufficientMemoryX);
        NAME(CLBlastInsufficientMemoryY);
        NAME(CLBlastInsufficientMemoryTemp);
        NAME(CLBlastInvalidBatchCount);
        NAME(CLBlastInvalidOverrideKernel);
        NAME(CLBlastMissingOverrideParameter);
        NAME(CLBlastInvalidLocalMemUsage);
        NAME(CLBlastNoHalfPrecision);
        NAME(CLBlastNoDoublePrecision);
        NAME(CLBlastInvalidVectorScalar);
        NAME(CLBlastInsufficientMemoryScalar);
        NAME(CLBlastDatabaseError);
        NAME(CLBlastUnknownError);
        NAME(CLBlastUnexpectedError);
    default: return nncl_cl_error_name((cl_int)code); /* CLBlast passes OpenCL codes through */
    }
}

enum nncl_status nncl_cl_fail(cl_int code, const char *expr, const char *file, int line) {
    if (code == CL_SUCCESS) return NNCL_OK;
    const char *hint = "";
    enum nncl_status status = NNCL_ERR_OPENCL;
    switch (code) {
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
        status = NNCL_ERR_OOM;
        hint = "; the device ran out of memory or resources: use a smaller batch or net, or another device "
               "(NNCL_OPENCL_DEVICE)";
        break;
    case CL_OUT_OF_HOST_MEMORY:
        status = NNCL_ERR_OOM;
        hint = "; the host ran out of memory";
        break;
    case CL_DEVICE_NOT_FOUND:
    case CL_DEVICE_NOT_AVAILABLE:
    case -1001:
        status = NNCL_ERR_NO_DEVICE;
        hint = "; install an OpenCL driver (for the CPU: pocl-opencl-icd) or choose another device with "
               "NNCL_OPENCL_PLATFORM / NNCL_OPENCL_DEVICE";
        break;
    default: break;
    }
    return nncl_set_error(status, "OpenCL: %s failed with %s (%d) at %s:%d%s", expr, nncl_cl_error_name(code),
                          (int)code, file, line, hint);
}
