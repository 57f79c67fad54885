# nncl_kernels.cmake: nncl_add_kernels(<target> <name>...) makes each kernels/<name>.cl available to
# the OpenCL backend: embedded as generated/nncl_cl_<name>.h (one custom command per file, rebuilt
# when the .cl or the script changes), or, with NNCL_OPENCL_EMBED_KERNELS=OFF, read at run time from
# the source tree's kernels/ folder so kernel edits need no rebuild.
function(nncl_add_kernels target)
    set(generated_dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
    file(MAKE_DIRECTORY ${generated_dir})
    target_include_directories(${target} PRIVATE ${generated_dir})
    if(NOT NNCL_OPENCL_EMBED_KERNELS)
        target_compile_definitions(${target} PRIVATE NNCL_KERNEL_DIR="${NNCL_KERNEL_DIR}")
        return()
    endif()
    target_compile_definitions(${target} PRIVATE NNCL_EMBED_KERNELS=1)
    set(headers)
    foreach(name IN LISTS ARGN)
        set(input ${PROJECT_SOURCE_DIR}/kernels/${name}.cl)
        set(output ${generated_dir}/nncl_cl_${name}.h)
        add_custom_command(
            OUTPUT ${output}
            COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${output} -DNAME=${name}
                    -P ${PROJECT_SOURCE_DIR}/cmake/nncl_embed.cmake
            DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/nncl_embed.cmake
            COMMENT "Embedding kernels/${name}.cl"
            VERBATIM)
        list(APPEND headers ${output})
    endforeach()
    add_custom_target(${target}_kernels DEPENDS ${headers})
    add_dependencies(${target} ${target}_kernels)
endfunction()
