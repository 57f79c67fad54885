#!/usr/bin/env bash
# device_pack_test.sh BUILD_DIR WORK_DIR: keeps the GPU run (bench/device/) from rotting between GPU loans.
# Collects a pack from the current build (no rebuild), checks it against its MANIFEST, checks that a
# changed file is caught, then runs the pack's run.sh --probe-only from a copy in another folder: on a
# machine without a GPU (PoCL in CI) it must stop with exit 3 and say "no GPU platform" in its summary;
# with a GPU it must exit 0 and name it. Either way summary.json and summary.txt must be written.
set -euo pipefail
build="$1" work="$2"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rm -rf "$work"
mkdir -p "$work"

# the tuner is optional here: CI installs clblast-utils only with --bench
bash "$src/bench/device/pack.sh" --no-build --build-dir "$build" --out "$work/pack" --allow-missing-tuner
bash "$src/bench/device/pack.sh" --check "$work/pack" --build-dir "$build"

# a changed file must fail the check
cp -a "$work/pack" "$work/tampered"
echo "changed" >> "$work/tampered/data/income.csv"
if bash "$src/bench/device/pack.sh" --check "$work/tampered" > "$work/tampered.log" 2>&1; then
    echo "FAIL: pack.sh --check passed a pack with a changed file" >&2
    exit 1
fi
grep -q "income.csv" "$work/tampered.log" || { echo "FAIL: the check did not name the changed file" >&2; exit 1; }
rm -rf "$work/tampered"

# the probe, from a copy of the pack elsewhere (no path may point back into the build)
mv "$work/pack" "$work/moved-pack"
set +e
bash "$work/moved-pack/scripts/run.sh" --probe-only "$work/out" > "$work/probe.log" 2>&1
rc=$?
set -e
cat "$work/probe.log"
for f in summary.json summary.txt logs.tar.gz; do
    [ -s "$work/out/$f" ] || { echo "FAIL: run.sh --probe-only wrote no $f" >&2; exit 1; }
done
if command -v python3 > /dev/null; then # not a dependency of the tests: checked where it is there
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/out/summary.json"
fi
case "$rc" in
    3) grep -q "no GPU platform" "$work/out/summary.txt" ||
           { echo "FAIL: exit 3 without 'no GPU platform' in the summary" >&2; exit 1; } ;;
    0) grep -q '"gpu"' "$work/out/summary.json" || { echo "FAIL: exit 0 but no GPU in the summary" >&2; exit 1; } ;;
    *) echo "FAIL: run.sh --probe-only exited $rc (expected 3 without a GPU, 0 with one)" >&2; exit 1 ;;
esac
# the ICD fallback: with the loader's vendors folder gone, the probe's own folder must still open the
# library it was pointed at (here the first ICD of this machine, PoCL in CI, standing in for NVIDIA's)
icd="$(ls /etc/OpenCL/vendors/*.icd 2>/dev/null | head -1)"
lib="$([ -n "$icd" ] && head -1 "$icd")"
case "$lib" in
    /*) ;;
    ?*) lib="$(ldconfig -p | awk -v n="$lib" '$1 == n {print $NF; exit}')"
        [ -n "$lib" ] || lib="$(ls /usr/lib/*/"$(head -1 "$icd")" 2>/dev/null | head -1)" ;;
esac
if [ -n "$lib" ] && [ -f "$lib" ] && [ "$rc" = 3 ]; then
    set +e
    NNCL_RUN_OPENCL_LIB="$lib" OCL_ICD_VENDORS=/nonexistent \
        bash "$work/moved-pack/scripts/run.sh" --probe-only "$work/out-icd" > "$work/probe-icd.log" 2>&1
    set -e
    grep -qE "ICD: our own|icd_used=our own" "$work/out-icd/summary.txt" ||
        { cat "$work/probe-icd.log"; echo "FAIL: the probe did not make its own vendors folder" >&2; exit 1; }
    grep -qE "^OpenCL device : platform 0|^selected=platform 0" "$work/out-icd/summary.txt" ||
        { cat "$work/probe-icd.log"; echo "FAIL: no OpenCL platform through the probe's own vendors folder" >&2; exit 1; }
    echo "ICD fallback: ok ($lib through the probe's own vendors folder)"
else
    echo "ICD fallback: not tried (no ICD file with a library found here)"
fi
rm -rf "$work/moved-pack" # 45 MB that nothing reads any more
echo "device pack and probe: ok (probe exit $rc)"
