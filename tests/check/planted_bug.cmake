# planted_bug.cmake: `nncl check` must catch a wrong kernel. Builds nncl with kernels read at run time
# from a copy of kernels/ (NNCL_OPENCL_EMBED_KERNELS=OFF, NNCL_KERNEL_DIR) in which ReLU's backward lets
# negative inputs through, then expects `nncl check` to fail and name act_bwd with act=relu (activations print by name).
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -P planted_bug.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/kernels" DESTINATION "${WORK_DIR}")
file(READ "${WORK_DIR}/kernels/activations.cl" text)
set(correct "case NNCL_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;")
string(FIND "${text}" "${correct}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "activations.cl no longer has the line this test plants a bug in: update the test")
endif()
string(REPLACE "${correct}" "case NNCL_ACT_RELU: return 1.0f; /* planted bug */" text "${text}")
file(WRITE "${WORK_DIR}/kernels/activations.cl" "${text}")

execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -DNNCL_OPENCL=ON
                        -DNNCL_OPENCL_EMBED_KERNELS=OFF "-DNNCL_KERNEL_DIR=${WORK_DIR}/kernels"
                        -DNNCL_BUILD_TESTS=OFF -DNNCL_BUILD_BENCH=OFF -DNNCL_FATAL_WARNINGS=OFF
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the planted-bug build failed:\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" --target nncl_cli -j 2
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the planted-bug nncl failed:\n${err}")
endif()
execute_process(COMMAND "${WORK_DIR}/build/nncl" check --backend opencl --repeat 0
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
    message(FATAL_ERROR "nncl check passed with a wrong ReLU backward kernel:\n${out}")
endif()
if(err MATCHES "no OpenCL|cannot open backend" AND NOT "$ENV{CI}" STREQUAL "true")
    message("SKIPPED: no OpenCL device: ${err}")
    return()
endif()
# the failure line under the row names the op, its parameters (the activation by name), the tensor and the element
if(NOT out MATCHES "act_bwd [^\n]*act=relu[^\n]*tensor dx: worst index")
    message(FATAL_ERROR "nncl check failed but did not name act_bwd with act=relu:\n${out}\n${err}")
endif()
string(REGEX MATCH "act_bwd [^\n]*act=relu[^\n]*tensor dx: worst index[^\n]*" first "${out}")
message(STATUS "nncl check caught the planted bug: ${first}")
