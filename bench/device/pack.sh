#!/usr/bin/env bash
# pack.sh: builds a portable nncl (Release, NNCL_NATIVE=OFF, tests and benchmarks) and collects into one
# folder everything a GPU machine without Debian's packages needs for bench/device/run.sh: our programs,
# the shared libraries they load (the OpenCL ICD loader, CLBlast, Criterion and its own libraries, cJSON,
# zlib, OpenMP), CLBlast's tuner, the test data, the run scripts, and a MANIFEST of every file with its
# size and sha256 and the total.
#
#   bash bench/device/pack.sh [--build-dir DIR] [--out DIR]     build, then collect (default: build-device,
#                                                               device-pack; both git-ignored)
#   bash bench/device/pack.sh --no-build --build-dir DIR [--out DIR] [--allow-missing-tuner]
#                                                               collect from an existing build
#   bash bench/device/pack.sh --check [DIR] [--build-dir DIR]   verify DIR (default device-pack) against its
#                                                               MANIFEST; with --build-dir also that every
#                                                               OpenCL test of that build is placed in
#                                                               bench/device/opencl_tests.txt
#
# Which libraries travel is decided by ldd on the programs: everything they load except the C library's
# own (libc, libm, libdl, libpthread, librt, libresolv, the loader), which every Linux host has.
# libstdc++ and libgcc_s go to lib-fallback/, which run.sh adds only when the host lacks them: a host
# with PyTorch has newer ones, and an older copy first on the path could break its other programs.
# The pack must stay under 64 MiB (what the device machine of this workplace takes in); the check fails
# above it. Exit status: 0 done, 1 failure, 2 usage error.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="$src/build-device"
out="$src/device-pack"
mode=pack
do_build=1
allow_missing_tuner=0
check_build=""
limit_bytes=$((64 * 1024 * 1024))

die() { echo "pack: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --build-dir) [ $# -ge 2 ] || usage; build="$(realpath -m "$2")"; check_build="$build"; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out="$(realpath -m "$2")"; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --allow-missing-tuner) allow_missing_tuner=1; shift ;;
        --check) mode=check; shift
                 if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out="$(realpath -m "$1")"; shift; fi ;;
        --help|-h) usage ;;
        *) echo "pack: unknown option $1" >&2; usage ;;
    esac
done

# ---- the list of OpenCL tests against a build's ctest list ------------------------------------------
check_test_list() {
    local bdir="$1" list="$here/opencl_tests.txt" t missing=0
    [ -f "$bdir/CTestTestfile.cmake" ] || die "$bdir: no CTestTestfile.cmake (not a build folder with tests)"
    local placed
    placed="$(grep -v '^#' "$list" | sed -n 's/^-\{0,1\}\([A-Za-z0-9_]*\) *|.*/\1/p')"
    while read -r t; do
        [ -n "$t" ] || continue
        if ! grep -qx "$t" <<<"$placed"; then
            echo "pack: OpenCL test $t of $bdir is not in bench/device/opencl_tests.txt (carry it, or list it" \
                 "as -$t | why)" >&2
            missing=1
        fi
    done < <(ctest --test-dir "$bdir" -N -L opencl 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: *//p')
    [ "$missing" = 0 ] || return 1
    echo "pack: every OpenCL test of $bdir is placed in bench/device/opencl_tests.txt"
}

# ---- --check: the pack against its MANIFEST ---------------------------------------------------------
check_pack() {
    local dir="$1" bad=0 n=0 total=0 sum size path
    [ -f "$dir/MANIFEST" ] || die "$dir: no MANIFEST (run bench/device/pack.sh first)"
    while read -r sum size path; do
        case "$sum" in ''|'#'*|total) continue ;; esac
        n=$((n + 1))
        if [ ! -f "$dir/$path" ]; then echo "pack: missing $path" >&2; bad=1; continue; fi
        local real_size real_sum
        real_size=$(stat -c %s "$dir/$path")
        real_sum=$(sha256sum "$dir/$path" | cut -d' ' -f1)
        [ "$real_size" = "$size" ] || { echo "pack: $path is $real_size bytes, MANIFEST says $size" >&2; bad=1; }
        [ "$real_sum" = "$sum" ] || { echo "pack: $path: sha256 differs from MANIFEST" >&2; bad=1; }
        total=$((total + real_size))
    done < "$dir/MANIFEST"
    # nothing beside what the MANIFEST lists
    local listed
    listed="$(awk '$1 != "total" && $1 !~ /^#/ {print $3}' "$dir/MANIFEST")"
    while read -r path; do
        grep -qxF "$path" <<<"$listed" || { echo "pack: $path is not in MANIFEST" >&2; bad=1; }
    done < <(cd "$dir" && find . -type f ! -name MANIFEST | sed 's|^\./||' | sort)
    [ "$n" -gt 0 ] || { echo "pack: MANIFEST lists no files" >&2; bad=1; }
    grep -q "^total $n files $total bytes" "$dir/MANIFEST" ||
        { echo "pack: MANIFEST's total line does not say $n files $total bytes" >&2; bad=1; }
    [ "$total" -lt "$limit_bytes" ] || { echo "pack: $total bytes: over the 64 MiB limit" >&2; bad=1; }
    # every program finds every library it needs in the pack (or the C library's own on this host)
    local f
    for f in "$dir"/bin/*; do
        if LD_LIBRARY_PATH="$dir/lib:$dir/lib-fallback" ldd "$f" 2>&1 | grep -q 'not found'; then
            echo "pack: $(basename "$f") misses libraries: $(LD_LIBRARY_PATH="$dir/lib:$dir/lib-fallback" ldd "$f" |
                 grep 'not found' | awk '{print $1}' | tr '\n' ' ')" >&2
            bad=1
        fi
    done
    [ "$bad" = 0 ] || die "$dir does not match its MANIFEST"
    echo "pack: $dir matches its MANIFEST: $n files, $total bytes ($(awk "BEGIN{printf \"%.1f\", $total/1048576}") MiB)"
}

if [ "$mode" = check ]; then
    check_pack "$out"
    if [ -n "$check_build" ]; then check_test_list "$check_build"; fi
    exit 0
fi

# ---- build ------------------------------------------------------------------------------------------
if [ "$do_build" = 1 ]; then
    echo "pack: building a portable Release in $build"
    mkdir -p "$build"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNNCL_NATIVE=OFF -DNNCL_BUILD_TESTS=ON \
          -DNNCL_BUILD_BENCH=ON -DNNCL_SANITIZE=OFF > "$build/pack-configure.log" 2>&1 ||
        { tail -20 "$build/pack-configure.log" >&2; die "cmake configure failed (log: $build/pack-configure.log)"; }
    cmake --build "$build" -j "$(nproc)" > "$build/pack-build.log" 2>&1 ||
        { tail -20 "$build/pack-build.log" >&2; die "build failed (log: $build/pack-build.log)"; }
fi
[ -x "$build/nncl" ] || die "$build/nncl: not built"
check_test_list "$build"

# ---- collect ----------------------------------------------------------------------------------------
case "$out" in /|"$src"|"$HOME") die "refusing to use $out as the pack folder" ;; esac
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/lib-fallback" "$out/data/fashion-mnist" "$out/scripts"

programs=(nncl bench/bench_gemm bench/bench_train)
while read -r t; do programs+=("tests/$t"); done < <(grep -v '^#' "$here/opencl_tests.txt" |
    sed -n 's/^\(test_[A-Za-z0-9_]*\) *|.*/\1/p')
for p in "${programs[@]}"; do
    [ -x "$build/$p" ] || die "$build/$p: not built (tests need Criterion, benchmarks NNCL_BUILD_BENCH=ON)"
    cp "$build/$p" "$out/bin/"
done

tuner="$(command -v clblast_tuner_xgemm || true)"
if [ -n "$tuner" ]; then
    cp "$tuner" "$out/bin/"
elif [ "$allow_missing_tuner" = 0 ]; then
    die "clblast_tuner_xgemm not found: install Debian's clblast-utils (bash cmake/install_deps.sh --bench)"
else
    echo "pack: clblast_tuner_xgemm not found; collecting without it (--allow-missing-tuner)"
fi

# the libraries: ldd of every program, and of every library collected, until nothing new appears
is_system_lib() {
    case "$1" in
        linux-vdso.so*|ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libresolv.so*|libutil.so*) return 0 ;;
    esac
    return 1
}
todo=("$out"/bin/*)
while [ ${#todo[@]} -gt 0 ]; do
    next=()
    for f in "${todo[@]}"; do
        while read -r name arrow path _; do
            [ "$arrow" = "=>" ] || continue
            is_system_lib "$name" && continue
            [ "$path" != "not" ] || die "$(basename "$f") needs $name, which is not installed here"
            case "$name" in libstdc++.so*|libgcc_s.so*) dest="$out/lib-fallback/$name" ;; *) dest="$out/lib/$name" ;; esac
            [ -e "$dest" ] && continue
            cp -L "$path" "$dest"
            next+=("$dest")
        done < <(ldd "$f")
    done
    todo=("${next[@]+"${next[@]}"}")
done
for need in libOpenCL.so.1 libclblast.so.1 libcriterion.so.3 libcjson.so.1; do
    [ -f "$out/lib/$need" ] || die "expected $need among the programs' libraries; is this an OpenCL build with tests?"
done

# the data: Fashion-MNIST's training split (nncl check reads it; the test split is not used there) and
# the lecture's Income table for cli_check_income_network
fm="/usr/share/datasets/fashion-mnist"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz; do
    [ -f "$fm/$f" ] || die "$fm/$f missing: install Debian's dataset-fashion-mnist (bash cmake/install_deps.sh)"
    cp "$fm/$f" "$out/data/fashion-mnist/"
done
cp "$src/tests/data/income.csv" "$out/data/"

for f in run.sh torch_bench.py summarize.py make_data.py opencl_tests.txt pack.sh; do
    cp "$here/$f" "$out/scripts/"
done
chmod +x "$out/scripts/run.sh" "$out/scripts/pack.sh"

commit="$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null | head -1)"
{
    echo "nncl device pack"
    echo "commit $commit${dirty:+ (with uncommitted changes)}"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(uname -m)"
    echo "glibc $(ldd --version | head -1 | awk '{print $NF}') (the host needs this or newer)"
    echo "cmake $(grep -E '^(CMAKE_BUILD_TYPE|NNCL_NATIVE|NNCL_OPENMP|BUILD_SHARED_LIBS):' "$build/CMakeCache.txt" | tr '\n' ' ')"
    echo "clblast $(dpkg-query -W -f='${Version}' libclblast1 2>/dev/null || echo '?')," \
         "ocl-icd $(dpkg-query -W -f='${Version}' ocl-icd-libopencl1 2>/dev/null || echo '?')," \
         "criterion $(dpkg-query -W -f='${Version}' libcriterion3 2>/dev/null || echo '?')," \
         "clblast-utils $(dpkg-query -W -f='${Version}' clblast-utils 2>/dev/null || echo 'not packed')"
} > "$out/PACK_INFO"

# the MANIFEST: sha256, size, path of every file; then the total
(
    cd "$out"
    echo "# nncl device pack: every file with its sha256 and size in bytes; bench/device/pack.sh --check verifies it"
    n=0 total=0
    while read -r path; do
        size=$(stat -c %s "$path")
        echo "$(sha256sum "$path" | cut -d' ' -f1)  $size  $path"
        n=$((n + 1)) total=$((total + size))
    done < <(find . -type f ! -name MANIFEST | sed 's|^\./||' | sort)
    echo "total $n files $total bytes ($(awk "BEGIN{printf \"%.1f\", $total/1048576}") MiB; limit 64 MiB)"
) > "$out.MANIFEST.tmp"
mv "$out.MANIFEST.tmp" "$out/MANIFEST"
tail -1 "$out/MANIFEST" | sed 's/^/pack: /'
check_pack "$out"
echo "pack: done: copy $out to the GPU machine and run: bash $(basename "$out")/scripts/run.sh [OUT_DIR]"
