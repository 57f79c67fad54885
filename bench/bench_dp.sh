#!/usr/bin/env bash
# bench_dp.sh: the large net's step, 1 rank x 1 thread against 2 ranks x 1 thread (docs/distributed.md, "Measured").
#   bench/bench_dp.sh NNCL [ROUNDS] [EPOCHS] [WORK_DIR]
# Trains 1024-4096-4096-1024-10 (25,185,290 parameters) on 512 random examples of 1024 inputs and 10 classes,
# batch 128 (4 steps an epoch), Adam, on the CPU backend with one thread per rank, in three ways:
#   single   nncl train, one process
#   overlap  mpirun -n 2, exact reduction, the default buckets (sums begun during backward)
#   serial   mpirun -n 2, exact reduction, --bucket-bytes all (one sum after the whole backward)
#   fast     mpirun -n 2, fast reduction (MPI_Iallreduce), the default buckets
# Each run holds flock /tmp/nncl-cpu.lock (a shared machine); the ways alternate, ROUNDS times. Per run: the best
# epoch after the first (the first holds start-up) in seconds per step, and the mean time per step rank 0 spent
# in the communicator's calls. Last: the best run of each way.
set -u
nncl=$(readlink -f "$1") rounds=${2:-2} epochs=${3:-3} work=${4:-/tmp/nncl-bench-dp}
mkdir -p "$work" && cd "$work" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo \
    OMPI_MCA_oob_tcp_if_include=lo OMP_NUM_THREADS=1
[ -s big.csv ] || awk 'BEGIN { srand(5); h = ""; for (j = 0; j < 1024; j++) h = h "x" j ","; print h "y";
    for (i = 0; i < 512; i++) { line = ""; for (j = 0; j < 1024; j++) line = line sprintf("%.3f,", rand() * 2 - 1);
                                print line "c" (i % 10) } }' > big.csv
args=(--data big.csv --hidden 4096:relu,4096:relu,1024:relu --batch-size 128 --epochs "$epochs" --backend cpu --threads 1
      --quiet)
run() { # run WAY: one training run; prints "WAY seconds/step comm-ms/step"
    local way=$1 pre=() extra=()
    case $way in
    single) ;;
    overlap) pre=(mpirun -n 2 --oversubscribe) ;;
    serial) pre=(mpirun -n 2 --oversubscribe) extra=(--bucket-bytes all) ;;
    fast) pre=(mpirun -n 2 --oversubscribe) extra=(--reduction fast) ;;
    esac
    rm -f "$way.csv"
    flock /tmp/nncl-cpu.lock timeout 900 "${pre[@]}" "$nncl" train "${args[@]}" "${extra[@]}" --metrics "$way.csv" \
        2> "$way.err" || { echo "$way: failed" >&2; cat "$way.err" >&2; return 1; }
    local step comm
    step=$(awk -F, 'NR > 2 { s = $7 / 4; if (best == "" || s < best) best = s } END { printf "%.4f", best }' "$way.csv")
    comm=$(sed -n 's/.*(\([0-9.]*\) ms a step.*/\1/p' "$way.err")
    echo "$way $step ${comm:-0}"
}
echo "# way seconds/step comm-ms/step ($(getconf _NPROCESSORS_ONLN) cores, $(date -u +%FT%TZ))"
: > results.txt
for ((r = 0; r < rounds; r++)); do
    for way in single overlap serial fast; do run "$way" | tee -a results.txt; done
done
echo "# best of $rounds"
sort -k1,1 -k2,2n results.txt | awk '$1 != last { print; last = $1 }'
