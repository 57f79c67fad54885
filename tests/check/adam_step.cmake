# adam_step.cmake: `nncl check`'s whole-network step and lockstep run the run's own optimizer (here Adam, the
# default of nncl train) and hold it to the bound derived in docs/validation.md ("The optimizer step's bound"):
#  1. on the device as built, the step (with the float64 oracle) and 20 lockstep steps pass;
#  2. with a bug planted in the OpenCL optimizer kernels only (NNCL_KERNEL_PERTURB=2:1.0001@optim.cl: every value
#     kernels/optim.cl stores scaled by 1 + 1e-4, five times the weights' relative bound), the check fails, and
#     the first failing row of the step is the weights after the update: everything before it still agrees.
#   cmake -DNNCL=... -DDATA=... -P adam_step.cmake
set(case "op=gemm rows=7 cols=11 k=13 trans_a=1 trans_b=1 alpha=2 beta=0.5 range=1 inplace=0 offset=3 note=random")
set(args check --backend opencl --hidden 16:relu,8:tanh --data ${DATA}/income.csv --target income_class
         --ignore income --batch-size 9 --oracle fp64 --lockstep 20 --repeat 0 --optimizer adam --case ${case})
execute_process(COMMAND ${NNCL} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(err MATCHES "no OpenCL|cannot open backend" AND NOT "$ENV{CI}" STREQUAL "true")
    message("SKIPPED: no OpenCL device: ${err}")
    return()
endif()
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nncl check with Adam failed on the device as built:\n${out}\n${err}")
endif()
if(NOT out MATCHES "one training step \\(adam, lr 0.001" OR NOT out MATCHES "lockstep: 20 adam steps")
    message(FATAL_ERROR "the step and lockstep did not run Adam at nncl train's default rate:\n${out}")
endif()
if(NOT out MATCHES "weights after the update[^\n]*the adam step's bound")
    message(FATAL_ERROR "the weights after the update are not held to Adam's bound:\n${out}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env NNCL_KERNEL_PERTURB=2:1.0001@optim.cl ${NNCL} ${args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
    message(FATAL_ERROR "nncl check passed with a planted bug in the OpenCL Adam update:\n${out}")
endif()
string(REGEX MATCH "\nFAIL +device vs cpu: layer [0-9]+ [^\n]*" first "${out}")
if(NOT first MATCHES "weights after the update")
    message(FATAL_ERROR "the first failing step row should be the weights after the update, not \"${first}\":\n${out}")
endif()
string(STRIP "${first}" first)
message(STATUS "nncl check caught the planted Adam bug: ${first}")
