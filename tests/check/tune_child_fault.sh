#!/usr/bin/env bash
# tune_child_fault.sh: a candidate whose check crashes or hangs in the child process (src/tune/tune_isolate.c) is
# skipped by `nncl tune`, which goes on and ends as it does when every candidate fails. The fault is planted
# by a test hook read only in the child's `nncl tune --check-candidate` (src/tune/tune.c):
#   crash  NNCL_TEST_TUNE_CHILD_CRASH=1: the child dies of SIGSEGV before it answers;
#          every candidate is skipped naming the signal;
#   hang   NNCL_TEST_TUNE_CHILD_HANG=1: the child sleeps until killed; with --candidate-timeout 2 every
#          candidate is skipped naming the timeout, the child killed.
# Either way: exit 1 with "nothing was stored", no tuning file, no child process left behind, and a later
# `nncl train --backend opencl` (the hook still set: the trainer ignores it) trains.
#   bash tests/check/tune_child_fault.sh crash|hang build/nncl tests/data
set -uo pipefail
fault=$1
nncl=$(realpath "$2")
data=$(realpath "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache # no tuning file, no guard marks from earlier runs
ulimit -c 0                       # the crashing children leave no core files
fail() { echo -e "tune_child_fault $fault: $*" >&2; exit 1; }
command -v clblast_tuner_xgemm >/dev/null || { echo "SKIPPED: clblast_tuner_xgemm not on PATH"; exit 0; }

# Each fault tunes a net of its own (inputs 11 or 13; check_tune_isolation's has 12), so the children are told
# apart from those of a test running alongside by their --shapes, which begin m,n,k = batch,hidden,inputs.
case $fault in
crash) hook=NNCL_TEST_TUNE_CHILD_CRASH inputs=11 timeout=300
       why="crashed in the child check (signal 11, Segmentation fault)" ;;
hang)  hook=NNCL_TEST_TUNE_CHILD_HANG inputs=13 timeout=2
       why="hung: no answer from the child check in 2 s (killed)" ;;
*) fail "the fault is crash or hang" ;;
esac
children="tune --check-candidate .* --shapes 9,16,$inputs,"

params="GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=32 NDIMB=8 NDIMC=8 NWG=32 SA=0 SB=0 STRM=0 STRN=0 VWM=1 VWN=1"
out=$("$nncl" tune --check-candidate "$params" --shapes "9,16,$inputs,0,1" 2>&1)
rc=$?
if [[ "$out" == *"no OpenCL"* || "$out" == *"cannot open backend"* ]] && [ "${CI:-}" != true ]; then
    echo "SKIPPED: no OpenCL device: $out"; exit 0
fi
[ $rc -eq 0 ] && [ "$out" = ok ] || fail "the child check of a plain candidate did not pass (exit $rc): $out"

# `timeout` bounds the tune, so a parent that waits for a hung child forever fails here, not at ctest's TIMEOUT
t0=$(date +%s)
out=$(env "$hook=1" timeout -k 5 200 "$nncl" tune --hidden 16:relu --inputs "$inputs" --outputs 2 --batch-size 9 \
      --fraction 0.0005 --time-limit 10 --size 128 --candidate-timeout "$timeout" 2>&1)
rc=$?
seconds=$(($(date +%s) - t0))
left=$(pgrep -f -- "$children")
if [ -n "$left" ]; then
    kill -9 $left 2>/dev/null # this test's own children only (its net's shapes)
    fail "child processes left behind after nncl tune (exit $rc): $left\n$out"
fi
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "nncl tune did not finish within 200 s:\n$out"
[ $rc -eq 1 ] || fail "nncl tune with every child check faulty exited $rc, expected 1:\n$out"
lines=$(grep -E "^  candidate [0-9]+ " <<<"$out")
[ -n "$lines" ] || fail "nncl tune reported no candidate:\n$out"
grep -qv "skipped: " <<<"$lines" && fail "a candidate was not skipped:\n$out"
grep -qvF "$why" <<<"$lines" && fail "a candidate's line does not say \"$why\":\n$out"
grep -q "candidate 1 .*skipped: $why \[GEMMK=" <<<"$out" || fail "candidate 1 was not skipped with \"$why\":\n$out"
[ "$(grep -c "candidate 1 " <<<"$out")" -eq 1 ] || fail "candidate 1 has more than one line:\n$out"
grep -q "none of the tuner's best .* nothing was stored" <<<"$out" || fail "nncl tune did not end with nothing stored:\n$out"
stored=$(find "$XDG_CACHE_HOME" -path "*/nncl/tuning/*" -type f 2>/dev/null)
[ -z "$stored" ] || fail "a tuning file was stored: $stored"
echo "tune ($seconds s): $(grep -c . <<<"$lines") candidates skipped; $(head -1 <<<"$lines" | cut -c1-160)"

out=$(env "$hook=1" "$nncl" train --data "$data/income.csv" --target income_class --ignore income --hidden 8:relu \
      --epochs 1 --backend opencl 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "nncl train on the OpenCL backend after the faulty tune exited $rc, expected 0:\n$out"
echo "train: exit 0 on the OpenCL backend"
