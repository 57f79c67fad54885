#!/usr/bin/env bash
# plot_test.sh: `nncl plot` renders the metrics of a short run to a PNG: the file starts with the PNG
# signature and is of a plausible size for three panels of curves.
#   plot_test.sh NNCL DATA_CSV WORK_DIR
set -u
nncl=$1 data=$2 work=$3
command -v gnuplot >/dev/null || { echo "SKIPPED: no gnuplot (cmake/install_deps.sh installs gnuplot-nox)"; exit 0; }
mkdir -p "$work" && cd "$work" || exit 1
rm -f m.csv m.png
"$nncl" train --data "$data" --target income_class --ignore income --hidden 8:tanh --epochs 25 --batch-size 3 \
    --val-split 0.3 --lr-schedule cosine --warmup 3 --backend cpu --quiet --metrics m.csv 2>err.txt || { cat err.txt >&2; exit 1; }
grep -q "nncl plot m.csv" err.txt || { echo "the run does not print the plot command" >&2; exit 1; }
"$nncl" plot m.csv --out m.png || exit 1
sig=$(head -c 8 m.png | od -An -tx1 | tr -d ' \n')
[ "$sig" = "89504e470d0a1a0a" ] || { echo "m.png is not a PNG (starts $sig)" >&2; exit 1; }
size=$(wc -c < m.png)
[ "$size" -gt 20000 ] && [ "$size" -lt 2000000 ] || { echo "m.png has $size bytes" >&2; exit 1; }
"$nncl" plot m.csv --out m.svg || exit 1
grep -q "<svg" m.svg || { echo "m.svg is not an SVG" >&2; exit 1; }
echo "m.png: a PNG of $size bytes"
