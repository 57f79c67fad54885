#!/usr/bin/env bash
# Installs, from Debian's packages only, whatever nncl needs to build, test and run its main job
# that is not installed yet. Safe to run again: when everything is present it only checks and exits.
#
#   bash cmake/install_deps.sh            everything to build, test (CI included) and run the main job
#   bash cmake/install_deps.sh --bench    also what the benchmarks compare against (OpenBLAS, PyTorch,
#                                         CLBlast's tuners for nncl tune)
#
# Runs as root, or through sudo when it is not root.
set -euo pipefail

packages=(
    build-essential        # C compiler and make
    cmake                  # the build (>= 3.25, Debian 12 ships 3.25)
    pkg-config             # finds CLBlast, Criterion, zlib, cJSON
    ocl-icd-opencl-dev     # the OpenCL ICD loader (libOpenCL.so) to link against
    opencl-headers         # CL/cl.h
    pocl-opencl-icd        # an OpenCL device on the CPU: what CI runs the parity tests on
    clinfo                 # lists OpenCL platforms, for users debugging device choice
    libclblast-dev         # every matrix product on the OpenCL backend
    libcriterion-dev       # the test framework
    zlib1g-dev             # gzip-compressed IDX files (MNIST, Fashion-MNIST)
    libcjson-dev           # the JSON header of safetensors files
    dataset-fashion-mnist  # the data set the main job trains on
    gnuplot-nox            # nncl plot: loss curves as PNG or SVG
    clang                  # libFuzzer targets for the parsers (tests/fuzz), run by CI
    libclang-rt-14-dev     # clang's sanitizer and fuzzer runtimes
    valgrind               # CI runs the CPU-path tests under memcheck
    python3                # CI's mutation smoke (tests/mutation/run.py --smoke) and the GPU-run scripts
    oclgrind               # a simulated OpenCL device: CI runs our kernels under its race and
                           # uninitialised-memory checks (tests/check/oclgrind_kernels.sh)
    openmpi-bin            # mpirun: data-parallel training and the `mpi` tests
    libopenmpi-dev         # mpi.h and libmpi (NNCL_MPI)
)
if [ "${1:-}" = "--bench" ]; then
    packages+=(
        libopenblas-dev    # bench_cpu_gemm: the BLAS the CPU reference's GEMM is measured against
        python3-torch      # bench/compare_pytorch.py
        clblast-utils      # CLBlast's tuners, run by nncl tune
    )
elif [ -n "${1:-}" ]; then
    echo "install_deps: unknown option $1 (the only one is --bench)" >&2
    exit 2
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install_deps: all ${#packages[@]} packages already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install_deps: missing packages: ${missing[*]}" >&2
    echo "install_deps: run this script as root or install sudo, then run it again" >&2
    exit 1
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install_deps: done"
