# csv_report.cmake: `nncl check --csv FILE` writes one row per comparison the report counts, under the
# documented header, with op-case rows (gemm) and training-step rows, each with its verdict.
#   cmake -DNNCL=... -DDATA=... -DWORK_DIR=... -P csv_report.cmake
set(csv "${WORK_DIR}/check.csv")
file(REMOVE "${csv}")
execute_process(COMMAND "${NNCL}" check --backend cpu --hidden 4:tanh --data "${DATA}/income.csv" --target income_class
                        --ignore income --batch-size 9 --repeat 0 --csv "${csv}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nncl check --csv exited with ${rc}:\n${out}\n${err}")
endif()
string(REGEX MATCH "\n([0-9]+) comparisons, ([0-9]+) failed" summary "${out}")
set(count "${CMAKE_MATCH_1}")
file(STRINGS "${csv}" lines)
list(LENGTH lines n)
math(EXPR rows "${n} - 1")
if(NOT rows EQUAL count)
    message(FATAL_ERROR "--csv has ${rows} rows, the report counts ${count} comparisons")
endif()
list(GET lines 0 header)
if(NOT header STREQUAL "op,shape,device,max_abs_err,max_rel_err,fraction_of_bound,tol_abs,tol_rel,bound,verdict,device_ms,what")
    message(FATAL_ERROR "--csv header changed (update docs/validation.md with it): ${header}")
endif()
file(READ "${csv}" text)
foreach(want "\n\"gemm\",\"a [0-9]+x[0-9]+ b [0-9]+x[0-9]+ c [0-9]+x[0-9]+\",\"CPU reference[^\n]*,ok,"
             "\n\"training step\",\"device vs cpu: layer 1 weight gradient 4x[0-9]+\"" "\n\"act_fwd\",[^\n]*act=relu")
    if(NOT text MATCHES "${want}")
        message(FATAL_ERROR "--csv has no row matching ${want}:\n${text}")
    endif()
endforeach()
message(STATUS "--csv: ${rows} rows, as many as the report's comparisons")
