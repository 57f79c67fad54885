#!/usr/bin/env bash
# resume_test.sh: exact resume. A reference run trains straight through; other runs of the same command
# are stopped at random moments (SIGKILL: they continue from the last --checkpoint-every checkpoint;
# SIGTERM and SIGHUP: from the checkpoint written mid-epoch on the way out, exit 143 / 129) and resumed
# with `nncl train --resume`, again and again, until one finishes. Every finished model must be
# byte-identical (cmp) to the reference, and the metrics CSV must have one row per epoch.
#   resume_test.sh NNCL WORK_DIR [ROUNDS]
set -u
nncl=$1 work=$2 rounds=${3:-4}
mkdir -p "$work" && cd "$work" || exit 1
rm -f ./*.safetensors ./*.ckpt ./*.csv
# a deterministic data set big enough that an epoch takes a while (batch 1: thousands of steps)
awk 'BEGIN { srand(7); print "a,b,c,d,e,f,y";
             for (i = 0; i < 4000; i++) { s = 0; line = "";
                 for (j = 0; j < 6; j++) { v = rand() * 2 - 1; s += v * (j - 2.5); line = line sprintf("%.4f,", v) }
                 print line (s > 0 ? "yes" : "no") } }' > data.csv
epochs=6
# NNCL_RESUME_HIDDEN: another net, e.g. with dropout (its masks are keyed by the step a checkpoint restores)
args=(--data data.csv --hidden "${NNCL_RESUME_HIDDEN:-32:tanh,16:relu}" --batch-size 1 --epochs "$epochs" --val-split 0.1 --patience 3
      --lr-schedule cosine --warmup 1 --backend cpu --quiet)
# NNCL_RESUME_EXTRA: more options for every run (another optimizer, clipping), e.g. "--optimizer adamw"
read -r -a extra <<< "${NNCL_RESUME_EXTRA:-}"
args+=("${extra[@]}")
start=$(date +%s.%N)
"$nncl" train "${args[@]}" --out ref.safetensors 2>/dev/null || { echo "reference run failed" >&2; exit 1; }
run_s=$(echo "$(date +%s.%N) - $start" | bc)
echo "reference run: ${run_s} s"
fail=0
for sig in KILL TERM HUP; do
    for ((r = 1; r <= rounds; r++)); do
        name="run_${sig}_$r"
        rm -f "$name".*
        cmd=("$nncl" train "${args[@]}" --out "$name.safetensors" --metrics "$name.csv" --checkpoint-every 1)
        stops=0
        for ((attempt = 0; attempt < 14; attempt++)); do
            "${cmd[@]}" 2>"$name.err" 3>&- &
            pid=$!
            # stop somewhere in the first 60% of a whole run's time: a few stops per run
            # after 12 stops (a slow, loaded machine), let the run finish
            if [ "$attempt" -lt 12 ]; then
                sleep "$(echo "scale=3; 0.1 + $run_s * ($RANDOM % 900) / 1000" | bc)"
                kill -"$sig" "$pid" 2>/dev/null
            fi
            wait "$pid"
            rc=$?
            if [ "$rc" -eq 0 ]; then break; fi
            stops=$((stops + 1))
            case $sig in
            TERM) [ "$rc" -eq 143 ] || { echo "$name: SIGTERM gave exit $rc, not 143" >&2; cat "$name.err" >&2; fail=1; } ;;
            HUP) [ "$rc" -eq 129 ] || { echo "$name: SIGHUP gave exit $rc, not 129" >&2; cat "$name.err" >&2; fail=1; } ;;
            esac
            if [ -e "$name.safetensors.ckpt" ]; then
                cmd=("$nncl" train --resume "$name.safetensors.ckpt")
            fi
        done
        if [ "$rc" -ne 0 ]; then echo "$name: never finished" >&2; fail=1; continue; fi
        [ "$stops" -gt 0 ] || { echo "$name: no stop landed: the run proved nothing" >&2; fail=1; }
        same=yes
        if ! cmp -s ref.safetensors "$name.safetensors"; then
            echo "$name: after $stops stops the resumed model differs from the uninterrupted one" >&2
            fail=1 same=no
        fi
        rows=$(($(wc -l < "$name.csv") - 1))
        last=$(tail -1 "$name.csv" | cut -d, -f1)
        if [ "$rows" -ne "$last" ]; then
            echo "$name: the metrics CSV has $rows rows for $last epochs" >&2
            fail=1
        fi
        echo "$name: $stops stops (SIG$sig), resumed each time; model identical: $same"
    done
done
exit $fail
