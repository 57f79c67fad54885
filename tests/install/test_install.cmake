# test_install.cmake: installs nncl into a fresh prefix, then builds and runs the library example
# against it twice: through find_package(nncl) and through pkg-config.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P test_install.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        string(REPLACE ";" " " shown "${ARGN}")
        message(FATAL_ERROR "`${shown}` failed (${rc}):\n${out}\n${err}")
    endif()
    set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/nncl/nncl.h bin/nncl lib/cmake/nncl/nnclConfig.cmake lib/pkgconfig/nncl.pc)
    if(NOT EXISTS "${prefix}/${f}")
        message(FATAL_ERROR "install did not create ${prefix}/${f}")
    endif()
endforeach()

# find_package(nncl)
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/library" -B "${WORK_DIR}/example" -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/example")
run("${WORK_DIR}/example/train_xor" cpu)
if(NOT last_output MATCHES "4/4 correct")
    message(FATAL_ERROR "the example did not learn XOR:\n${last_output}")
endif()

# pkg-config
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
execute_process(COMMAND pkg-config --cflags --libs nncl OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config does not find nncl in ${prefix}/lib/pkgconfig")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(cc -std=c11 "${SOURCE_DIR}/examples/library/train_xor.c" ${flags} -o "${WORK_DIR}/train_xor_pc")
run("${WORK_DIR}/train_xor_pc" cpu)
message(STATUS "installed nncl works through find_package and pkg-config")
