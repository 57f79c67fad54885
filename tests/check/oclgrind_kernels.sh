#!/usr/bin/env bash
# oclgrind_kernels.sh NNCL [DATA_DIR]: our kernels under Oclgrind's checks (races, uninitialised values, API
# misuse), failing on any report. Runs `nncl check --simulate`: every small case of the op-case table, with
# outputs a correct op never reads left unwritten on the device, so a kernel that reads what it discards
# (out when beta == 0) is reported; and, with DATA_DIR, the GEMM shapes of a small net. The same command
# is what a user runs (docs/validation.md, "Simulated device").
#
# Kept out of the verdict, by kernel name: CLBlast's own kernels (Xgemm*, Xcopy*, ...), which are not ours;
# the op-case table's GEMM cases show them clean at these shapes (docs/validation.md says what remains).
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
    NNCL_OPENCL_PLATFORM=Oclgrind oclgrind --data-races --uninitialized --check-api --log "$log" "$nncl" "$@" >/dev/null
    local rc=$?
    local ours
    ours=$(grep -c $'^\tKernel: nncl_' "$log")
    local theirs
    theirs=$(grep $'^\tKernel: ' "$log" | grep -vc 'Kernel: nncl_')
    local other
    other=$(grep -E '^[A-Z]' "$log" | grep -vc -E '^(Uninitialized value|Read-write data race|Write-write data race|Invalid )')
    echo "  exit $rc; reports in our kernels: $ours; in CLBlast's kernels (not in the verdict): $theirs"
    if [ "$ours" -gt 0 ] || [ "$rc" -ne 0 ]; then
        grep -A5 $'^\tKernel: nncl_' "$log" | head -40
        return 1
    fi
    # an API error or a report outside any kernel is ours too
    if grep -q -E '^(Oclgrind - OpenCL runtime error|OpenCL API error)' "$log"; then
        grep -A3 -E '^(Oclgrind - OpenCL runtime error|OpenCL API error)' "$log" | head -20
        return 1
    fi
    : "$other"
    return 0
}
fail=0
run check --simulate --backend opencl || fail=1
if [ -n "$data" ]; then
    run check --simulate --backend opencl --hidden 4:relu,3:tanh --inputs 13 --outputs 2 --batch-size 9 || fail=1
fi
[ $fail -eq 0 ] && echo "Oclgrind: no report in our kernels" || echo "Oclgrind: reports in our kernels (above)"
exit $fail
