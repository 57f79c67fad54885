#!/usr/bin/env bash
# tune_isolation.sh: an out-of-bounds write by CLBlast's product (simulated: NNCL_TEST_GEMM_WRITE_PAST_C=1 makes
# every product also write one float just past C, src/opencl/ocl_gemm.c) is refused, with a message naming the
# overwritten guard region, by
#  1. `nncl tune`'s candidate check, which runs in a child process (src/tune/tune_isolate.c): every candidate
#     is skipped with a one-line reason and tuning ends with "nothing was stored" (exit 1), not a crash;
#  2. the CLBlast guard of `nncl train` (verify_gemm): it refuses to train (exit 1);
# and without the hook the child check of one candidate passes (so the refusals come from the guard, not from
# the child failing to run).
#   bash tests/check/tune_isolation.sh build/nncl tests/data
set -uo pipefail
nncl=$(realpath "$1")
data=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache # a fresh guard cache: no earlier pass may skip the check
fail() { echo "tune_isolation: $*" >&2; exit 1; }
command -v clblast_tuner_xgemm >/dev/null || { echo "SKIPPED: clblast_tuner_xgemm not on PATH"; exit 0; }

params="GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=32 NDIMB=8 NDIMC=8 NWG=32 SA=0 SB=0 STRM=0 STRN=0 VWM=1 VWN=1"
out=$("$nncl" tune --check-candidate "$params" --shapes "9,16,12,0,1;16,12,9,1,0" 2>&1)
rc=$?
if [[ "$out" == *"no OpenCL"* || "$out" == *"cannot open backend"* ]] && [ "${CI:-}" != true ]; then
    echo "SKIPPED: no OpenCL device: $out"; exit 0
fi
[ $rc -eq 0 ] && [ "$out" = ok ] || fail "the child check of a plain candidate did not pass (exit $rc): $out"

out=$(NNCL_TEST_GEMM_WRITE_PAST_C=1 "$nncl" tune --hidden 16:relu --inputs 12 --outputs 2 --batch-size 9 \
      --fraction 0.0005 --time-limit 10 --size 128 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "nncl tune with an out-of-bounds product exited $rc, expected 1:\n$out"
grep -q "candidate 1 .*skipped: gemm .*wrote outside tensor c (its guard region changed)" <<<"$out" ||
    fail "nncl tune did not skip the first candidate naming the guard region:\n$out"
grep -q "nothing was stored" <<<"$out" || fail "nncl tune did not end with nothing stored:\n$out"
echo "tune: $(grep -m1 "candidate 1 " <<<"$out" | cut -c1-160)"

out=$(NNCL_TEST_GEMM_WRITE_PAST_C=1 "$nncl" train --data "$data/income.csv" --target income_class --ignore income \
      --hidden 8:relu --epochs 1 --backend opencl 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "nncl train with an out-of-bounds product exited $rc, expected 1:\n$out"
grep -q "refusing to train: .*wrote outside tensor c (its guard region changed)" <<<"$out" ||
    fail "the CLBlast guard did not refuse naming the guard region:\n$out"
echo "guard: $(grep -m1 -o "refusing to train: .*region changed)" <<<"$out" | cut -c1-160)"
