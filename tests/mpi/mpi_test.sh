#!/usr/bin/env bash
# mpi_test.sh: data-parallel training under Open MPI (docs/distributed.md), on the CPU backend (and PoCL).
#   mpi_test.sh NNCL COMPARE WORK_DIR CASE
# CASE:
#   exact     mpirun -n N (exact reduction) == nncl train --accumulate N, byte for byte (cmp of the models),
#             for N = 1, 2, 3 (and -n 1 == a plain run; the metrics files too); with one gradient bucket (the
#             default for this small net) and with a bucket per layer (--bucket-bytes 1: sums begun during
#             backward, several in flight); and N = 2 with dropout
#   repeat    the same N twice gives the same bytes, in both reductions, one bucket and a bucket per layer
#   fast      one SGD step with the fast reduction is within the bound of docs/distributed.md of the exact one
#   opencl    the exact case on the OpenCL backend (PoCL on CI: every rank opens the one device, --device :0),
#             N = 1, 2, 3, the gradient read to the host per bucket
#   fail      a rank that fails alone (rank 0: its checkpoint folder does not exist) ends the job with its message,
#             no hang
#   kill      SIGKILL to one rank mid-run ends the whole job, with mpirun's message naming the signal, no hang
#   resume    a 2-rank run killed (SIGKILL on a rank) after a checkpoint and resumed with the same N ends
#             byte-identical to an uninterrupted 2-rank run
set -u
nncl=$(readlink -f "$1") compare=$(readlink -f "$2") work=$3 case=$4
mkdir -p "$work/$case" && cd "$work/$case" || exit 1
rm -f ./*.safetensors ./*.ckpt ./*.csv ./*.err
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp OMPI_MCA_rmaps_base_oversubscribe=1 \
    OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
mpi() { local n=$1; shift; timeout -k 5 "${MPI_TIMEOUT:-120}" mpirun -n "$n" --oversubscribe "$nncl" train "$@"; }
# 607 examples: batches of 10 split 4-3-3 over three ranks; the last batch of 7 rows 3-2-2
awk 'BEGIN { srand(11); print "a,b,c,d,e,y";
             for (i = 0; i < 607; i++) { s = 0; line = "";
                 for (j = 0; j < 5; j++) { v = rand() * 2 - 1; s += v * (j - 2); line = line sprintf("%.4f,", v) }
                 print line (s > 0 ? "yes" : "no") } }' > data.csv
args=(--data data.csv --hidden 16:tanh,8:relu --batch-size 10 --epochs 3 --backend cpu --quiet)
fail=0
rank_pid() { # rank_pid TIMEOUT_PID K: the pid of the K-th rank mpirun (the child of timeout) started, or nothing
    local m
    m=$(pgrep -P "$1" -x mpirun) || return 0
    pgrep -P "$m" -x nncl | sed -n "$2p"
}
buckets() { # buckets ERR_FILE K: rank 0 reported K gradient buckets
    if grep -q "gradient sums in $2 bucket" "$1"; then echo "ok: $2 bucket(s) in $1";
    else echo "FAIL: not $2 bucket(s) in $1" >&2; grep "gradient sums" "$1" >&2; fail=1; fi
}
same() { # same A B WHAT
    if cmp -s "$1" "$2"; then echo "ok: $3"; else echo "FAIL: $3 ($1 and $2 differ)" >&2; fail=1; fi
}
case $case in
exact)
    "$nncl" train "${args[@]}" --out plain.safetensors --metrics plain.csv 2>plain.err || { cat plain.err; exit 1; }
    for n in 1 2 3; do
        mpi "$n" "${args[@]}" --out "mpi$n.safetensors" --metrics "mpi$n.csv" 2>"mpi$n.err" || { cat "mpi$n.err"; exit 1; }
        "$nncl" train "${args[@]}" --accumulate "$n" --out "acc$n.safetensors" --metrics "acc$n.csv" 2>"acc$n.err" ||
            { cat "acc$n.err"; exit 1; }
        same "mpi$n.safetensors" "acc$n.safetensors" "$n ranks (exact) == --accumulate $n"
        cut -d, -f1-6 "mpi$n.csv" > "mpi$n.cut"; cut -d, -f1-6 "acc$n.csv" > "acc$n.cut"
        same "mpi$n.cut" "acc$n.cut" "$n ranks: the metrics (losses, errors) == --accumulate $n"
        [ "$n" -gt 1 ] || continue
        mpi "$n" "${args[@]}" --bucket-bytes 1 --out "mpib$n.safetensors" 2>"mpib$n.err" || { cat "mpib$n.err"; exit 1; }
        buckets "mpib$n.err" 3
        same "mpib$n.safetensors" "acc$n.safetensors" "$n ranks (exact), a bucket per layer == --accumulate $n"
        "$nncl" train "${args[@]}" --accumulate "$n" --bucket-bytes 1 --out "accb$n.safetensors" 2>"accb$n.err" ||
            { cat "accb$n.err"; exit 1; }
        same "accb$n.safetensors" "acc$n.safetensors" "--accumulate $n, a bucket per layer == one bucket"
    done
    buckets mpi2.err 1
    same plain.safetensors mpi1.safetensors "mpirun -n 1 == a plain run"
    same plain.safetensors acc1.safetensors "--accumulate 1 == a plain run"
    if cmp -s acc2.safetensors plain.safetensors; then echo "FAIL: --accumulate 2 changed nothing" >&2; fail=1; fi
    # dropout: each part's mask is keyed by its rows' place in the global batch, so the ranks draw the masks
    # --accumulate draws, and the runs agree to the byte
    drop=("${args[@]/16:tanh,8:relu/16:tanh:dropout=0.3,8:relu:dropout=0.2}")
    mpi 2 "${drop[@]}" --bucket-bytes 1 --out mpid2.safetensors 2>mpid2.err || { cat mpid2.err; exit 1; }
    "$nncl" train "${drop[@]}" --accumulate 2 --out accd2.safetensors 2>accd2.err || { cat accd2.err; exit 1; }
    same mpid2.safetensors accd2.safetensors "dropout: 2 ranks (exact, a bucket per layer) == --accumulate 2"
    if cmp -s accd2.safetensors acc2.safetensors; then echo "FAIL: dropout changed nothing" >&2; fail=1; fi
    ;;
opencl)
    # --backend opencl fails rather than falls back when no device opens; the ranks share device 0 (PoCL has one)
    ocl=("${args[@]/cpu/opencl}" --device :0 --epochs 2)
    "$nncl" train "${ocl[@]}" --out plain.safetensors 2>plain.err || { cat plain.err; exit 1; }
    for n in 1 2 3; do
        mpi "$n" "${ocl[@]}" --bucket-bytes 1 --out "mpi$n.safetensors" 2>"mpi$n.err" || { cat "mpi$n.err"; exit 1; }
        "$nncl" train "${ocl[@]}" --accumulate "$n" --out "acc$n.safetensors" 2>"acc$n.err" || { cat "acc$n.err"; exit 1; }
        same "mpi$n.safetensors" "acc$n.safetensors" "opencl: $n ranks (exact, a bucket per layer) == --accumulate $n"
    done
    buckets mpi3.err 3
    same plain.safetensors mpi1.safetensors "opencl: mpirun -n 1 == a plain run"
    if cmp -s acc2.safetensors plain.safetensors; then echo "FAIL: opencl --accumulate 2 changed nothing" >&2; fail=1; fi
    ;;
repeat)
    for red in exact fast; do
        for bb in 1048576 1; do
            for r in 1 2; do
                mpi 3 "${args[@]}" --reduction "$red" --bucket-bytes "$bb" --out "$red$bb-$r.safetensors" 2>"$red$r.err" ||
                    { cat "$red$r.err"; exit 1; }
            done
            same "$red$bb-1.safetensors" "$red$bb-2.safetensors" "3 ranks, $red reduction, buckets of $bb bytes, twice"
        done
    done
    ;;
fast)
    # one SGD step over the whole set (batch 0): w1 = w0 - lr g. The bound (docs/distributed.md):
    # |w1_fast - w1_exact| <= lr 2 (N-1) u max_i sum_k |g_ki| + 2 u |w1|; with N = 3, lr = 0.1, per-rank
    # gradients below 2 in magnitude (tanh/relu net, inputs in [-1, 1], BCE): abs 1e-6, rel 2.4e-7
    one=(--data data.csv --hidden 16:tanh,8:relu --batch-size 0 --epochs 1 --optimizer sgd --lr 0.1 --backend cpu --quiet)
    mpi 3 "${one[@]}" --reduction exact --out exact.safetensors 2>exact.err || { cat exact.err; exit 1; }
    for bb in 1048576 1; do
        mpi 3 "${one[@]}" --reduction fast --bucket-bytes "$bb" --out fast.safetensors 2>fast.err || { cat fast.err; exit 1; }
        if "$compare" exact.safetensors fast.safetensors 1e-6 2.4e-7; then echo "ok: fast within the bound ($bb-byte buckets)";
        else echo "FAIL: fast beyond the bound ($bb-byte buckets)" >&2; fail=1; fi
    done
    ;;
fail)
    start=$(date +%s)
    timeout -k 5 60 mpirun -n 3 --oversubscribe "$nncl" train "${args[@]}" --out m.safetensors --checkpoint no-such-dir/m.ckpt \
        --checkpoint-every 1 > fail.out 2>&1
    rc=$? took=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$took" -ge 55 ]; then
        echo "FAIL: exit $rc after ${took} s when rank 0 failed alone (0: it went on; 124: it hung)" >&2; fail=1
    elif ! grep -q "no-such-dir" fail.out || ! grep -q "rank 0 failed: ending the job" fail.out; then
        echo "FAIL: no message says why the job ended" >&2; cat fail.out >&2; fail=1
    else
        echo "ok: rank 0 failing alone ended the job (exit $rc, ${took} s)"
    fi
    ;;
kill)
    long=(--data data.csv --hidden 64:tanh,64:relu --batch-size 1 --epochs 1000 --backend cpu --quiet)
    start=$(date +%s)
    timeout -k 5 90 mpirun -n 3 --oversubscribe "$nncl" train "${long[@]}" > kill.out 2>&1 &
    pid=$!
    victim=""
    for ((i = 0; i < 100; i++)); do
        sleep 0.2
        victim=$(rank_pid "$pid" 2)
        [ -n "$victim" ] && break
    done
    [ -n "$victim" ] || { echo "FAIL: no rank found to kill" >&2; kill "$pid"; exit 1; }
    sleep 3 # past MPI_Init and the data load: training
    ranks=$(pgrep -P "$(pgrep -P "$pid" -x mpirun)" -x nncl | tr '\n' ' ')
    sleep 2
    kill -KILL "$victim"
    wait "$pid"
    rc=$? took=$(($(date +%s) - start))
    # mpirun exits with the killed rank's status (137); 124 is the test's timeout: the job hung
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$took" -ge 85 ]; then
        echo "FAIL: the job gave exit $rc after ${took} s once a rank was killed (0: it went on; 124: it hung)" >&2; fail=1
    elif ! grep -q "signal 9" kill.out; then
        echo "FAIL: no message names the killed rank" >&2; cat kill.out >&2; fail=1
    else
        echo "ok: killing rank pid $victim ended the job (exit $rc, ${took} s): $(grep -m1 'signal 9' kill.out)"
    fi
    for p in $ranks; do # a rank blocked in a sum with the dead one ends at the latest 10 s after mpirun's SIGTERM
        for ((i = 0; i < 30 && $(kill -0 "$p" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 1; done
        if kill -0 "$p" 2>/dev/null; then echo "FAIL: rank pid $p left running" >&2; fail=1; fi
    done
    ;;
resume)
    res=(--data data.csv --hidden 64:tanh,64:relu --batch-size 1 --epochs 12 --backend cpu --quiet --checkpoint-every 1)
    start=$(date +%s.%N)
    mpi 2 "${res[@]}" --out ref.safetensors 2>ref.err || { cat ref.err; exit 1; }
    ref_s=$(echo "$(date +%s.%N) - $start" | bc)
    echo "uninterrupted 2-rank run: $ref_s s"
    stops=0
    for ((attempt = 0; attempt < 10; attempt++)); do
        if [ -e run.safetensors.ckpt ]; then cmd=(--resume run.safetensors.ckpt); else cmd=("${res[@]}" --out run.safetensors); fi
        timeout -k 5 120 mpirun -n 2 --oversubscribe "$nncl" train "${cmd[@]}" > run.out 2>&1 &
        pid=$!
        if [ "$attempt" -lt 3 ]; then # kill a rank somewhere in the middle of a whole run's time
            sleep "$(echo "scale=3; $ref_s * (300 + $RANDOM % 400) / 1000" | bc)"
            victim=$(rank_pid "$pid" 2)
            [ -n "$victim" ] && kill -KILL "$victim"
        fi
        wait "$pid"
        rc=$?
        [ "$rc" -eq 0 ] && break
        stops=$((stops + 1))
    done
    [ "$rc" -eq 0 ] || { echo "FAIL: the resumed 2-rank run never finished" >&2; cat run.out >&2; exit 1; }
    [ "$stops" -gt 0 ] || { echo "FAIL: no kill landed: the test proved nothing" >&2; fail=1; }
    same ref.safetensors run.safetensors "2 ranks killed $stops times and resumed == uninterrupted"
    ;;
*) echo "unknown case $case" >&2; exit 2 ;;
esac
exit $fail
