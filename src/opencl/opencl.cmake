# The OpenCL backend's part of the nncl library (included from src/CMakeLists.txt when OpenCL and
# CLBlast were found).
include(nncl_kernels)
target_sources(nncl_obj PRIVATE
    opencl/ocl_backend.c
    opencl/ocl_device.c
    opencl/ocl_errors.c
    opencl/ocl_program.c
    opencl/ocl_buffer.c
    opencl/ocl_gemm.c
    opencl/ocl_ops_activations.c
    opencl/ocl_ops_softmax.c
    opencl/ocl_ops_losses.c
    opencl/ocl_ops_elementwise.c
    opencl/ocl_ops_optim.c
    opencl/ocl_ops_optim2.c
    opencl/ocl_profile.c
    opencl/ocl_tuning.c
)
# The CLBlast version goes into nncl_backend_versions() (run manifests, model files, the CLBlast guard).
set(NNCL_CLBLAST_VERSION "${CLBlast_VERSION}${CLBLAST_VERSION}")
if(NOT NNCL_CLBLAST_VERSION)
    set(NNCL_CLBLAST_VERSION "unknown")
endif()
target_compile_definitions(nncl_obj PRIVATE NNCL_USE_OPENCL=1 CL_TARGET_OPENCL_VERSION=120
                           NNCL_CLBLAST_VERSION="${NNCL_CLBLAST_VERSION}")
target_link_libraries(nncl_obj PUBLIC OpenCL::OpenCL ${NNCL_CLBLAST_TARGET})
# The program list in src/opencl/ocl_program.c names the same files.
nncl_add_kernels(nncl_obj common activations softmax losses elementwise optim)
