#!/usr/bin/env bash
# kill_test.sh: kills a training run that checkpoints every epoch with SIGKILL at random moments, many
# times, and checks that the model file left behind always loads (model files are written to a
# temporary file, synced, then renamed over the old one, so a kill never leaves a torn file).
#   kill_test.sh NNCL DATA_CSV WORK_DIR [ROUNDS]
set -u
nncl=$1 data=$2 work=$3 rounds=${4:-25}
mkdir -p "$work" && cd "$work" || exit 1
rm -f kill.safetensors kill.safetensors.tmp.*
loaded=0
for ((i = 1; i <= rounds; i++)); do
    "$nncl" train --data "$data" --target income_class --ignore income --hidden 16:tanh,8:relu --epochs 1000000000 \
        --checkpoint-every 1 --out kill.safetensors --backend cpu --quiet --seed "$i" 2>/dev/null &
    pid=$!
    # 20 to 400 ms: early kills land before the first checkpoint, later ones in the middle of writes
    sleep "0.$(printf '%03d' $((20 + RANDOM % 380)))"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    if [ -e kill.safetensors ]; then
        if ! "$nncl" eval --model kill.safetensors --data "$data" --backend cpu >/dev/null 2>err.txt; then
            echo "round $i: the model file left by a killed run does not load:" >&2
            cat err.txt >&2
            exit 1
        fi
        loaded=$((loaded + 1))
    fi
done
echo "$loaded of $rounds kills left a model file, and every one loads"
[ "$loaded" -gt 0 ] || { echo "no kill happened after a checkpoint: the test proved nothing" >&2; exit 1; }
