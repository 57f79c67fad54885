#!/usr/bin/env bash
# oclgrind_kernels.sh NNCL [DATA_DIR]: our kernels under Oclgrind's checks (races, uninitialised values, API
# misuse), failing on any report, in our kernels or CLBlast's. Runs `nncl check --simulate`: every small case
# of the op-case table, with outputs a correct op never reads left unwritten on the device, so a kernel that
# reads what it discards (out when beta == 0) is reported; and, with DATA_DIR, the GEMM shapes of a small net,
# the whole-network step and three lockstep steps, and short training runs: every activation, every
# optimizer, the three losses, clipping and a validation split. The same commands are what a user runs
# (docs/validation.md, "Simulated device").
#
# Oclgrind 21.10 misreports bytes written through three buffer patterns (src/opencl/ocl_buffer.c works
# around them on that platform; tests/check/oclgrind_host_write.c shows each without nncl). With the work-
# around, CLBlast's kernels report nothing either, so they are in the verdict like ours.
# NNCL_OCLGRIND_WORKAROUND=0 in the environment switches the workaround off: the reports it avoids appear
# and this script fails (docs/validation.md, "Simulated device", has the counts).
set -uo pipefail
nncl=$1
data=${2:-}
if ! command -v oclgrind >/dev/null; then
    echo "SKIPPED: oclgrind is not installed (apt-get install oclgrind; cmake/install_deps.sh has it)"
    exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    : >"$log"
    echo "+ oclgrind --data-races --uninitialized --check-api $nncl $*"
    NNCL_OPENCL_PLATFORM=Oclgrind oclgrind --data-races --uninitialized --check-api --log "$log" "$nncl" "$@" >/dev/null 2>&1
    local rc=$?
    local ours theirs
    ours=$(grep -c $'^\tKernel: nncl_' "$log")
    theirs=$(grep $'^\tKernel: ' "$log" | grep -vc 'Kernel: nncl_')
    echo "  exit $rc; reports in our kernels: $ours; in CLBlast's kernels: $theirs"
    if [ "$ours" -gt 0 ] || [ "$theirs" -gt 0 ] || [ "$rc" -ne 0 ]; then
        grep -A5 $'^\tKernel: ' "$log" | head -40
        return 1
    fi
    # an API error or a report outside any kernel is a failure too
    if grep -q -E '^(Oclgrind - OpenCL runtime error|OpenCL API error|Uninitialized|Read-write|Write-write|Invalid)' "$log"; then
        grep -A3 -E '^(Oclgrind - OpenCL runtime error|OpenCL API error|Uninitialized|Read-write|Write-write|Invalid)' "$log" | head -20
        return 1
    fi
    return 0
}
fail=0
run check --simulate --backend opencl || fail=1
if [ -n "$data" ]; then
    income=(--data "$data/income.csv" --target income_class --ignore income)
    run check --simulate --backend opencl --hidden 4:relu,3:tanh --inputs 13 --outputs 2 --batch-size 9 || fail=1
    # the whole-network step (per layer: s, x, delta, gradients, weights after the update) and lockstep
    run check --simulate --backend opencl --hidden 4:relu,3:tanh "${income[@]}" --batch-size 9 --lockstep 3 || fail=1
    acts=(identity sigmoid tanh relu leaky_relu elu)
    opts=(sgd momentum nesterov adam adamw rmsprop)
    for i in "${!acts[@]}"; do
        run train --backend opencl "${income[@]}" --hidden "4:${acts[$i]},3:tanh" --optimizer "${opts[$i]}" \
            --epochs 2 --batch-size 4 --val-split 0.2 || fail=1
    done
    run train --backend opencl --data "$data/income.csv" --target income --ignore income_class --hidden 4:tanh \
        --epochs 2 --batch-size 4 --clip-norm 0.5 || fail=1
    run train --backend opencl --data "$data/tiny-images.idx" --labels "$data/tiny-labels.idx" --hidden 5:relu \
        --epochs 2 --batch-size 4 || fail=1
    run train --backend opencl "${income[@]}" --hidden 4:tanh --optimizer irprop --batch-size 0 --epochs 3 || fail=1
fi
[ $fail -eq 0 ] && echo "Oclgrind: no report" || echo "Oclgrind: reports (above)"
exit $fail
