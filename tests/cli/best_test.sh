#!/usr/bin/env bash
# best_test.sh: with --patience the saved model holds the best validation epoch's weights. A run that
# overfits reports its best epoch B; a run of exactly B epochs with --keep-last must then give the same
# bytes (cmp), and the first run with --keep-last must not (its last epoch is past the best).
#   best_test.sh NNCL DATA_CSV WORK_DIR
set -u
nncl=$1 data=$2 work=$3
mkdir -p "$work" && cd "$work" || exit 1
rm -f ./*.safetensors
args=(--data "$data" --target income_class --ignore income --hidden 32:relu --batch-size 1 --lr 0.05
      --val-split 0.34 --backend cpu --quiet)
"$nncl" train "${args[@]}" --epochs 60 --patience 8 --out best.safetensors 2>err.txt || { cat err.txt >&2; exit 1; }
best=$(sed -n 's/.*best epoch \([0-9]*\) .*/\1/p' err.txt)
last=$(sed -n 's/^nncl train: \([0-9]*\) epochs.*/\1/p' err.txt)
echo "best epoch $best, last epoch $last"
[ -n "$best" ] && [ -n "$last" ] || { echo "the summary does not name the best epoch" >&2; cat err.txt >&2; exit 1; }
[ "$best" -lt "$last" ] || { echo "the run never got worse: the test proves nothing" >&2; exit 1; }
"$nncl" train "${args[@]}" --epochs "$best" --patience 8 --keep-last --out upto.safetensors 2>/dev/null || exit 1
cmp best.safetensors upto.safetensors || { echo "the saved model is not the best epoch's" >&2; exit 1; }
"$nncl" train "${args[@]}" --epochs 60 --patience 8 --keep-last --out last.safetensors 2>/dev/null || exit 1
if cmp -s best.safetensors last.safetensors; then echo "--keep-last saved the best epoch too" >&2; exit 1; fi
echo "the best epoch's weights are saved; --keep-last keeps the last"
