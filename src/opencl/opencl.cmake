# The OpenCL backend's part of the nncl library (included from src/CMakeLists.txt when OpenCL and
# CLBlast were found).
include(nncl_kernels)
target_sources(nncl PRIVATE
    opencl/cl_backend.c
    opencl/cl_device.c
    opencl/cl_errors.c
    opencl/cl_program.c
    opencl/cl_buffer.c
    opencl/cl_gemm.c
    opencl/cl_ops_activations.c
    opencl/cl_ops_softmax.c
    opencl/cl_ops_losses.c
    opencl/cl_ops_elementwise.c
    opencl/cl_ops_optim.c
    opencl/cl_profile.c
    opencl/cl_tuning.c
    opencl/cl_tuner.c
)
# The CLBlast version goes into nncl_backend_versions() (run manifests, model files, the CLBlast guard).
set(NNCL_CLBLAST_VERSION "${CLBlast_VERSION}${CLBLAST_VERSION}")
if(NOT NNCL_CLBLAST_VERSION)
    set(NNCL_CLBLAST_VERSION "unknown")
endif()
target_compile_definitions(nncl PRIVATE NNCL_USE_OPENCL=1 CL_TARGET_OPENCL_VERSION=120
                           NNCL_CLBLAST_VERSION="${NNCL_CLBLAST_VERSION}")
target_link_libraries(nncl PRIVATE OpenCL::OpenCL ${NNCL_CLBLAST_TARGET})
# The program list in src/opencl/cl_program.c names the same files.
nncl_add_kernels(nncl common activations softmax losses elementwise optim)
