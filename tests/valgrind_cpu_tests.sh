#!/usr/bin/env bash
# valgrind_cpu_tests.sh: runs the CPU-path Criterion tests under valgrind (memcheck, following
# Criterion's per-test child processes) and fails on any memory error or definite leak.
#   bash tests/valgrind_cpu_tests.sh [BUILD_DIR]
# Two at a time: valgrind is slow (each test process starts its own valgrind), the machine has 2 cores.
set -euo pipefail
build=${1:-build}
tests=(test_cpu_ops test_cpu_gemm test_gradcheck test_errors test_model test_training test_data test_safetensors
       test_pinned test_checkers test_schedule)
status=0
run_one() {
    local t=$1 log
    log=$(mktemp)
    if valgrind -q --error-exitcode=99 --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
        "$2/tests/$t" --jobs 1 >"$log" 2>&1; then
        echo "valgrind: $t clean"
    else
        echo "valgrind: $t FAILED"; cat "$log"; rm -f "$log"; return 1
    fi
    rm -f "$log"
}
export -f run_one
printf '%s\n' "${tests[@]}" | xargs -P 2 -I{} bash -c 'run_one "$1" "$2"' _ {} "$build" || status=1
exit $status
