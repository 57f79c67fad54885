#!/usr/bin/env bash
# run_fuzzers.sh: builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan + LeakSanitizer)
# and runs each for a fixed time on a scratch copy of its seed corpus. Exits non-zero when any target
# finds a crash, a leak, a timeout or an out-of-memory; the summary names the file that reproduces it.
#
#   bash tests/fuzz/run_fuzzers.sh [SECONDS_PER_TARGET] [TARGET...]
#
#   SECONDS_PER_TARGET  default 10 (what CI runs); 3600 or more for a real search
#   TARGET              fuzz_csv fuzz_idx fuzz_safetensors_data fuzz_model fuzz_hidden (default: all)
#
# Environment:
#   NNCL_FUZZ_BUILD     build and scratch folder (default /tmp/nncl-fuzz); its corpus/ keeps what earlier
#                       runs found, so repeated runs continue the search (delete the folder to start over)
#   CC_FUZZ             the compiler (default clang; Debian 12: packages clang and libclang-rt-14-dev)
#   NNCL_FUZZ_ARGS      extra libFuzzer flags for every target, e.g. "-jobs=4 -workers=4"
#
# The library sources are compiled into the targets directly (no CMake, no OpenCL), so this works next to
# any other build and never writes into the repository.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$(pwd)

seconds=${1:-10}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "run_fuzzers.sh: SECONDS_PER_TARGET must be a whole number >= 1, not \"$seconds\"" >&2
    exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))

all_targets=(fuzz_csv fuzz_idx fuzz_safetensors_data fuzz_model fuzz_hidden)
if [ $# -gt 0 ]; then
    targets=("$@")
    for t in "${targets[@]}"; do
        if [ ! -f "tests/fuzz/$t.c" ]; then
            echo "run_fuzzers.sh: unknown target \"$t\"; the targets are: ${all_targets[*]}" >&2
            exit 2
        fi
    done
else
    targets=("${all_targets[@]}")
fi

build=${NNCL_FUZZ_BUILD:-/tmp/nncl-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$build/obj" "$build/corpus" "$build/crashes" "$build/logs" "$build/tmp"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "run_fuzzers.sh: $cc not found; install it with: sudo apt-get install clang libclang-rt-14-dev" \
         "(or bash cmake/install_deps.sh), or set CC_FUZZ to a clang with libFuzzer" >&2
    exit 2
fi

flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wall -Wextra
       -I include -I src)
# The library is built with -fsanitize=fuzzer-no-link: instrumented for coverage and the sanitizers, but
# without libFuzzer's main(), which only the targets link.
lib_flags=("${flags[@]/-fsanitize=fuzzer,address,undefined/-fsanitize=fuzzer-no-link,address,undefined}")
# The modules util to model of the map in docs/architecture.md ("## Module map"), without OpenCL; folders by
# glob, so a file added to one is compiled here too.
lib_sources=(src/status.c src/util/*.c src/backend.c src/backend_registry.c src/ops.c src/ops_train.c src/cpu/*.c src/model.c src/model_io.c
             src/io/*.c src/data/*.c)

echo "run_fuzzers.sh: building with $("$cc" --version | head -n 1) into $build"
pids=()
objs=()
for src in "${lib_sources[@]}"; do
    obj="$build/obj/$(echo "${src%.c}" | tr / _).o"
    objs+=("$obj")
    "$cc" "${lib_flags[@]}" -c "$src" -o "$obj" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" -ne 0 ]; then
    echo "run_fuzzers.sh: compiling the library sources failed (see above)" >&2
    exit 2
fi
# An archive, so that each target links only the objects it uses (fuzz_hidden needs no data loaders).
rm -f "$build/libnncl_fuzz.a"
ar rcs "$build/libnncl_fuzz.a" "${objs[@]}"
for t in "${targets[@]}"; do
    if ! "$cc" "${flags[@]}" "tests/fuzz/$t.c" "$build/libnncl_fuzz.a" -lcjson -lz -lm -o "$build/$t"; then
        echo "run_fuzzers.sh: building $t failed; if the error is about libclang_rt.fuzzer, install" \
             "libclang-rt-14-dev" >&2
        exit 2
    fi
done

export NNCL_FUZZ_TMPDIR="$build/tmp"
export NNCL_LOG_LEVEL=none
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

status=0
summary=()
for t in "${targets[@]}"; do
    corpus="$build/corpus/$t"
    mkdir -p "$corpus"
    # The seeds, plus every input that once crashed this target: each run replays them first.
    cp tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    for reg in tests/data/fuzz_regressions/"$t"-*; do
        [ -f "$reg" ] && cp "$reg" "$corpus/"
    done
    log="$build/logs/$t.log"
    echo "run_fuzzers.sh: running $t for $seconds s (log: $log)"
    rc=0
    # shellcheck disable=SC2086  # NNCL_FUZZ_ARGS is a list of flags
    "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$t-" ${NNCL_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
    rm -rf "$build/tmp/"nncl-fuzz-*
    # (|| true: with pipefail a grep that finds nothing, as after a crash at start-up, would end the script)
    runs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" || true) | awk '{s += $2} END {print s + 0}')
    if [ "$rc" -eq 0 ]; then
        summary+=("$(printf '%-24s ok      %10s runs in %s s' "$t" "$runs" "$seconds")")
        continue
    fi
    status=1
    artifact=$( (grep -o 'Test unit written to .*' "$log" || true) | head -n 1 | sed 's/^Test unit written to //')
    # What went wrong, most specific first: the target's own check, the sanitizer's summary, libFuzzer's.
    kind=$(grep -m 1 "^$t: " "$log" || grep -m 1 -o 'SUMMARY: .*' "$log" || grep -m 1 -o 'ERROR: libFuzzer: .*' "$log" ||
           true)
    summary+=("$(printf '%-24s FAILED  %10s runs: %s; input: %s' "$t" "$runs" "${kind:-exit status $rc}" "${artifact:-none saved, see $log}")")
    echo "---- last lines of $log ----"
    tail -n 40 "$log"
    echo "----"
done

echo
echo "run_fuzzers.sh: summary ($seconds s per target)"
printf '  %s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
    cat <<EOF

A target failed. Reproduce with:  $build/<target> <input file>
Then fix the parser, and keep the input as a regression case: copy it to
  tests/data/fuzz_regressions/<target>-<short-name>
(run_fuzzers.sh replays every such file for its target first, on every run).
EOF
fi
exit "$status"
