# Finds nncl's dependencies. A missing optional one switches its feature off with a message that says
# which Debian package brings it (bash cmake/install_deps.sh installs them all); only NNCL_OPENCL=ON
# turns a missing OpenCL into an error.
find_package(PkgConfig REQUIRED)

set(NNCL_HAVE_OPENCL NO)
if(NOT NNCL_OPENCL STREQUAL "OFF")
    find_package(OpenCL QUIET)
    find_package(CLBlast CONFIG QUIET)
    if(NOT CLBlast_FOUND)
        pkg_check_modules(CLBLAST IMPORTED_TARGET QUIET clblast)
    endif()
    # the version for run manifests, whichever way CLBlast was found
    pkg_check_modules(CLBLAST_PC QUIET clblast)
    if(NOT CLBlast_VERSION AND CLBLAST_PC_VERSION)
        set(CLBlast_VERSION ${CLBLAST_PC_VERSION})
    endif()
    if(OpenCL_FOUND AND (CLBlast_FOUND OR CLBLAST_FOUND))
        set(NNCL_HAVE_OPENCL YES)
        if(TARGET clblast)
            set(NNCL_CLBLAST_TARGET clblast)
        else()
            set(NNCL_CLBLAST_TARGET PkgConfig::CLBLAST)
        endif()
    elseif(NNCL_OPENCL STREQUAL "ON")
        message(FATAL_ERROR "NNCL_OPENCL=ON but OpenCL or CLBlast is missing: "
                            "install ocl-icd-opencl-dev opencl-headers libclblast-dev (bash cmake/install_deps.sh)")
    else()
        message(STATUS "OpenCL or CLBlast not found: building the CPU backend only "
                       "(install ocl-icd-opencl-dev opencl-headers libclblast-dev for OpenCL)")
    endif()
endif()

set(NNCL_HAVE_OPENMP NO)
if(NNCL_OPENMP)
    find_package(OpenMP QUIET COMPONENTS C)
    if(OpenMP_C_FOUND)
        set(NNCL_HAVE_OPENMP YES)
    endif()
endif()

# Open MPI for data-parallel training (src/comm/comm_mpi.c, docs/distributed.md). NNCL_MPI is ON by default
# when MPI is found; without it the library, the command and every test but the `mpi` ones build and run.
find_package(MPI QUIET COMPONENTS C)
option(NNCL_MPI "Data-parallel training over MPI (needs Open MPI: openmpi-bin libopenmpi-dev)" ${MPI_C_FOUND})
set(NNCL_HAVE_MPI NO)
if(NNCL_MPI)
    if(MPI_C_FOUND)
        set(NNCL_HAVE_MPI YES)
    else()
        message(WARNING "NNCL_MPI is ON but MPI was not found: building without it "
                        "(install openmpi-bin libopenmpi-dev for data-parallel training)")
    endif()
endif()

set(NNCL_HAVE_CRITERION NO)
if(NNCL_BUILD_TESTS)
    pkg_check_modules(CRITERION IMPORTED_TARGET QUIET criterion)
    if(CRITERION_FOUND)
        set(NNCL_HAVE_CRITERION YES)
    else()
        message(WARNING "Criterion not found: tests are not built (install libcriterion-dev)")
    endif()
endif()
