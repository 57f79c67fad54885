# Compiler warnings for nncl's own targets: nncl_set_warnings(<target>).
# CI builds with NNCL_FATAL_WARNINGS=ON so that a new warning fails the build.
function(nncl_set_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
        -Wformat=2 -Wpointer-arith -Wcast-qual -Wundef -Wvla
        # no -Wdouble-promotion: the reference mixes float data with double accumulators on purpose
        -Wno-unused-parameter)
    if(NNCL_FATAL_WARNINGS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
