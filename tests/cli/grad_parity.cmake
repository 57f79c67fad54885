# grad_parity.cmake: `nncl grad` on the CPU reference and on OpenCL for the same model and batch, then
# the two gradient files compared within the whole-network tolerance of docs/testing.md.
#   cmake -DNNCL=... -DCOMPARE=... -DMODEL=... -DDATA=... -DWORK=... -P grad_parity.cmake
foreach(backend cpu opencl)
    execute_process(COMMAND ${NNCL} grad --model ${MODEL} --data ${DATA} --batch-size 7 --backend ${backend}
                            --out ${WORK}/grad_${backend}.safetensors
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        if(backend STREQUAL "opencl" AND NOT "$ENV{CI}" STREQUAL "true")
            message("SKIPPED: no OpenCL device: ${err}")
            return()
        endif()
        message(FATAL_ERROR "nncl grad --backend ${backend} failed (${rc}):\n${err}")
    endif()
endforeach()
execute_process(COMMAND ${COMPARE} ${WORK}/grad_cpu.safetensors ${WORK}/grad_opencl.safetensors 1e-6 1e-4
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the gradients on cpu and opencl differ beyond the tolerance")
endif()
