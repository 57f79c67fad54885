#!/usr/bin/env bash
# run.sh: the whole GPU run of nncl in one call, from a pack made by bench/device/pack.sh: a probe, the
# OpenCL tests, nncl check against the float64 oracle, CLBlast against cuBLAS, nncl against PyTorch,
# untuned and tuned; every number into files.
#
#   bash device-pack/scripts/run.sh [--rehearse] [--probe-only] [--pack DIR] [OUT_DIR]
#
# OUT_DIR (default $OUT, else ./device-out) receives at most three files: summary.json and summary.txt
# (device, driver, OpenCL and CLBlast versions, tuning state, parity verdicts, step times, GEMM share,
# GFLOP/s, ratios to PyTorch and cuBLAS, every failed step with its error) and logs.tar.gz (every step's
# log and raw JSON, the CTest file, the tuning file).
#
# Steps, each under its own `timeout` and inside one overall budget (NNCL_RUN_BUDGET seconds, default
# 460: the run fits in 8 minutes); a failed or timed-out step is recorded and the run goes on:
#   probe      nvidia-smi, NVIDIA's OpenCL library and ICD file (where the file is missing, a vendors
#              folder of our own points the ICD loader at the library), `nncl devices`; without a GPU
#              platform the run stops here (exit 3), except with --rehearse
#   tests      the OpenCL tests of bench/device/opencl_tests.txt through ctest, CI=true (skips fail)
#   check      nncl check --oracle fp64 --lockstep on the Fashion-MNIST net and the large net, --json
#   untuned    bench_gemm on the large net's products, bench_train fashion (batch 128, 1024) and large
#              (256, 1024) with the step breakdown, CLBlast's own parameters
#   torch      the same nets, batches and optimizer in PyTorch on the same GPU (TF32 off, then on), and
#              torch.mm on the same products
#   tune       nncl tune on the large net, --time-limit 120 (less if the budget has less left)
#   tuned      the same benchmarks with the tuning file (bench_train --tuning both)
#   summary    bench/device/summarize.py
#
# NNCL_RUN_OPENCL_LIB=/path/libX.so makes the probe treat that library as NVIDIA's OpenCL library (to try
# the ICD fallback with PoCL: NNCL_RUN_OPENCL_LIB=.../libpocl.so.2 OCL_ICD_VENDORS=/nonexistent).
# --rehearse shrinks every size (steps, epochs, lockstep, the tune, the large net's check) so that the run
# takes a few minutes on PoCL, runs on whatever OpenCL device opens (a CPU one included) and PyTorch on
# the CPU. --probe-only stops after the probe. NNCL_PYTHON names the Python that has torch.
#
# Exit status: 0 every step passed; 1 a step failed (see the summary); 2 usage; 3 no GPU platform opened
# (the summary says why); 4 the pack is unusable here (a library or program missing).
set -uo pipefail

rehearse=0 probe_only=0 pack="" out="${OUT:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --rehearse) rehearse=1; shift ;;
        --probe-only) probe_only=1; shift ;;
        --pack) [ $# -ge 2 ] || { echo "run: --pack needs a folder" >&2; exit 2; }; pack="$2"; shift 2 ;;
        --help|-h) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) out="$1"; shift ;;
    esac
done
[ "${NNCL_RUN_REHEARSE:-0}" = 1 ] && rehearse=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "$pack" ]; then
    if [ -f "$here/../MANIFEST" ]; then pack="$here/.."; else pack="$here/../../device-pack"; fi
fi
[ -f "$pack/MANIFEST" ] || { echo "run: $pack: no pack here (run bench/device/pack.sh, or give --pack DIR)" >&2; exit 2; }
pack="$(cd "$pack" && pwd)"
scripts="$pack/scripts"
out="${out:-$PWD/device-out}"
mkdir -p "$out" || { echo "run: cannot create $out" >&2; exit 2; }
out="$(cd "$out" && pwd)"

t_start=$(date +%s)
budget="${NNCL_RUN_BUDGET:-$([ "$rehearse" = 1 ] && echo 900 || echo 460)}"
deadline=$((t_start + budget))
reserve=20 # seconds kept for the summary and the archive
work="$(mktemp -d "${TMPDIR:-/tmp}/nncl-device-run.XXXXXX")"
logs="$work/logs" res="$work/results"
mkdir -p "$logs" "$res"
steps_tsv="$work/steps.tsv"
: > "$steps_tsv"
orig_ld="${LD_LIBRARY_PATH:-}"

say() { echo "[run $(($(date +%s) - t_start))s] $*"; }
one_line() { tr '\t\r' '  ' | tr '\n' ' ' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-600; }

# The sizes: the device run, or the rehearsal's
if [ "$rehearse" = 1 ]; then
    steps=2 epochs=1 lock_fashion=10 lock_large=2 tune_limit=15 tune_args=(--fraction 0.0005)
    gemm_repeat=2 torch_steps=2 torch_epochs=1 tuned_need=120
    train_rows=("fashion 128" "fashion 1024" "large 256")
    large_hidden="1024:relu,1024:relu,1024:relu" # the large net's depth, a quarter of its width
    gemm_shapes=(256x4096x1024:nt 4096x4096x256:tn 256x1024x4096:nn)
    tune_net=(--hidden 256:relu,128:relu --inputs 784 --outputs 10 --batch-size 128)
else
    steps=20 epochs=3 lock_fashion=100 lock_large=20 tune_limit=120 tune_args=()
    gemm_repeat=20 torch_steps=20 torch_epochs=3 tuned_need=90
    train_rows=("fashion 128" "fashion 1024" "large 256" "large 1024")
    large_hidden="4096:relu,4096:relu,1024:relu"
    gemm_shapes=(256x4096x1024:nt 4096x4096x256:tn 256x1024x4096:nn 1024x4096x1024:nt 4096x4096x1024:tn
                 1024x1024x4096:nn 1024x1024x1024:nn)
    tune_net=(--hidden 4096:relu,4096:relu,1024:relu --inputs 1024 --outputs 10 --batch-size 256)
fi

# ---- running a step ---------------------------------------------------------------------------------
# step NAME LIMIT CMD...: runs CMD under timeout, its output in logs/NAME.log, one line in steps.tsv:
# name, status (ok / failed / timeout / skipped), exit code, seconds, limit, error (the log's last lines).
step() {
    local name="$1" limit="$2"
    shift 2
    local left=$((deadline - $(date +%s) - reserve))
    if [ "$left" -lt 5 ]; then
        printf '%s\tskipped\t\t0\t0\tnot run: the %s s budget was spent\n' "$name" "$budget" >> "$steps_tsv"
        say "$name: skipped (budget spent)"
        return 1
    fi
    [ "$limit" -le "$left" ] || limit="$left"
    local t0 t1 rc status err=""
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" "$@" > "$logs/$name.log" 2>&1 < /dev/null
    rc=$?
    t1=$(date +%s.%N)
    local secs
    secs=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
    if [ "$rc" = 0 ]; then
        status=ok
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        status=timeout err="stopped after its ${limit} s limit; last output: $(tail -3 "$logs/$name.log" | one_line)"
    else
        status=failed err="exit $rc: $(grep -v '^\s*$' "$logs/$name.log" | tail -4 | one_line)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$secs" "$limit" "$err" >> "$steps_tsv"
    say "$name: $status (${secs} s)${err:+: ${err:0:200}}"
    [ "$rc" = 0 ]
}

# our programs: the pack's libraries first, then the NVIDIA library's folder, then the host's own path;
# Python (torch) and ctest itself keep the host's LD_LIBRARY_PATH
nv_dir=""
our_ld() {
    local ld="$pack/lib"
    [ "$use_fallback" = 1 ] && ld="$ld:$pack/lib-fallback"
    [ -n "$nv_dir" ] && ld="$ld:$nv_dir"
    [ -n "$orig_ld" ] && ld="$ld:$orig_ld"
    echo "$ld"
}
# `step NAME LIMIT "${ours[@]}" PROGRAM ...` runs one of our programs (set after the probe, which decides
# the NVIDIA folder and the fallback)
ours=()

finish() {
    local rc="$1"
    echo "$rc" > "$work/exit_code"
    local py
    py="$(command -v python3 || echo /usr/bin/python3)"
    if ! timeout 30 env LD_LIBRARY_PATH="$orig_ld" "$py" "$scripts/summarize.py" --work "$work" --out "$out" \
        --exit-code "$rc" --elapsed "$(($(date +%s) - t_start))" > "$logs/summary.log" 2>&1; then
        # no Python here, or summarize.py broke: the plain facts, so the reason still comes back
        local reason
        reason="$(sed -n 's/^stop_reason=//p' "$probe" 2>/dev/null)"
        {
            echo "nncl device run: exit code $rc (summarize.py could not run: $(tail -1 "$logs/summary.log"))"
            [ -n "$reason" ] && echo "stop reason: $reason"
            echo "steps (name, status, exit code, seconds, limit, error):"
            cat "$steps_tsv"
            echo "probe:"
            cat "$probe"
        } > "$out/summary.txt"
        printf '{"error": "summarize.py could not run", "exit_code": %s, "stop_reason": "%s"}\n' "$rc" \
            "$(printf '%s' "$reason" | sed 's/[\\"]/\\&/g')" > "$out/summary.json"
    fi
    cp "$steps_tsv" "$logs/steps.tsv" 2>/dev/null
    local parts=() x
    for x in logs results ctest probe.env steps.tsv; do [ -e "$work/$x" ] && parts+=("$x"); done
    tar -C "$work" -czf "$out/logs.tar.gz" "${parts[@]}"
    # the device machine takes back files of at most 16 MiB: shrink the archive to the logs' tails if needed
    if [ "$(stat -c %s "$out/logs.tar.gz")" -gt $((15 * 1024 * 1024)) ]; then
        for f in "$logs"/*.log; do tail -c 200000 "$f" > "$f.tail" && mv "$f.tail" "$f"; done
        tar -C "$work" -czf "$out/logs.tar.gz" "${parts[@]}"
    fi
    say "done, exit $rc: $out/summary.txt"
    cat "$out/summary.txt"
    rm -rf "$work"
    exit "$rc"
}

# ---- 0. probe ---------------------------------------------------------------------------------------
say "pack $pack, out $out, budget ${budget} s$([ "$rehearse" = 1 ] && echo ', rehearsal')"
probe_t0=$(date +%s)
probe="$work/probe.env" # key=value lines for summarize.py
: > "$probe"
p() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | one_line)" >> "$probe"; }
p rehearse "$rehearse"
p host "$(uname -srm)"
p cpu "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2), $(nproc) cores"
p glibc "$(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')"
p pack_info "$(head -3 "$pack/PACK_INFO" 2>/dev/null | tail -2)"

# libstdc++/libgcc_s: the host's when it has them
use_fallback=0
if ! ldconfig -p 2>/dev/null | grep -q 'libstdc++\.so\.6 '; then use_fallback=1; fi
p lib_fallback "$use_fallback"

{
    echo "== nvidia-smi"
    timeout 3 nvidia-smi 2>&1 || echo "(nvidia-smi: exit $?)"
} > "$logs/probe.log"
smi="$(timeout 2 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -1)"
p nvidia_smi "${smi:-not available}"

# NVIDIA's OpenCL library: ldconfig's cache, then the usual driver folders (a container often mounts the
# driver under /usr/local/nvidia without adding it to ldconfig's cache)
# (NNCL_RUN_OPENCL_LIB names another vendor's library instead: how the rehearsal tries this path on PoCL)
nv_lib=""
for cand in ${NNCL_RUN_OPENCL_LIB:-} $(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ {print $NF}') \
            /usr/local/nvidia/lib64/libnvidia-opencl.so* /usr/local/nvidia/lib/libnvidia-opencl.so* \
            /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so* /usr/lib64/libnvidia-opencl.so* \
            /usr/lib/libnvidia-opencl.so* /run/nvidia/driver/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so*; do
    if [ -f "$cand" ]; then nv_lib="$cand"; break; fi
done
p nvidia_opencl_lib "${nv_lib:-not found}"
[ -n "$nv_lib" ] && nv_dir="$(dirname "$nv_lib")"

# the ICD files the loader would read
vendors="${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}"
icds="$(ls "$vendors"/*.icd 2>/dev/null | tr '\n' ' ')"
p icd_files "${icds:-none in $vendors}"
{
    echo "== ICD files in $vendors"
    for f in "$vendors"/*.icd; do [ -f "$f" ] && echo "$f: $(cat "$f")"; done
    echo "== NVIDIA OpenCL library: ${nv_lib:-not found}"
} >> "$logs/probe.log"
icd_note="the system's"
nv_stem="$(basename "${nv_lib:-none}" | sed 's/\.so.*//')"
if [ -n "$nv_lib" ] && ! grep -qsF "$nv_stem" "$vendors"/*.icd; then
    # no ICD file names the library: a vendors folder of our own, with the host's other ICDs
    mkdir -p "$work/vendors"
    for f in "$vendors"/*.icd; do [ -f "$f" ] && cp "$f" "$work/vendors/"; done
    echo "$nv_lib" > "$work/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$work/vendors"
    icd_note="our own ($work/vendors/nvidia.icd -> $nv_lib)"
fi
p icd_used "$icd_note"

# the pack's programs find their libraries here
missing=""
for f in "$pack"/bin/*; do
    m="$(LD_LIBRARY_PATH="$(our_ld)" ldd "$f" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')"
    [ -n "$m" ] && missing="$missing$(basename "$f"): $m; "
done
if [ -n "$missing" ]; then
    p stop_reason "the pack's programs miss libraries on this host: $missing"
    printf 'probe\tfailed\t4\t%s\t15\tlibraries missing: %s\n' "$(($(date +%s) - probe_t0))" "$missing" >> "$steps_tsv"
    finish 4
fi

devices() { timeout 8 env LD_LIBRARY_PATH="$(our_ld)" "$pack/bin/nncl" devices > "$logs/devices.log" 2>&1; }
devices
dev_rc=$?
if ! grep -q ', GPU' "$logs/devices.log" && [ -n "$nv_lib" ] && [ "$dev_rc" != 124 ]; then
    # second try (unless the first hung): the loader told to load NVIDIA's library directly
    cp "$logs/devices.log" "$logs/devices-first-try.log"
    export OCL_ICD_FILENAMES="$nv_lib"
    devices
    dev_rc=$?
    if grep -q ', GPU' "$logs/devices.log"; then p icd_used "OCL_ICD_FILENAMES=$nv_lib"; else unset OCL_ICD_FILENAMES; fi
fi
p devices_exit "$dev_rc"
p platforms "$(grep -E '^[* ] platform' "$logs/devices.log" | sed 's/^[* ] //' | tr '\n' ';')"
gpu_line="$(grep -E '^[* ] platform [0-9]+ device [0-9]+: .*, GPU' "$logs/devices.log" | head -1)"
if [ -n "$gpu_line" ]; then
    export NNCL_OPENCL_PLATFORM NNCL_OPENCL_DEVICE
    NNCL_OPENCL_PLATFORM="$(sed -E 's/^[* ] platform ([0-9]+) device.*/\1/' <<<"$gpu_line")"
    NNCL_OPENCL_DEVICE="$(sed -E 's/^[* ] platform [0-9]+ device ([0-9]+):.*/\1/' <<<"$gpu_line")"
    p gpu "${gpu_line#??}"
    p selected "platform $NNCL_OPENCL_PLATFORM device $NNCL_OPENCL_DEVICE"
    probe_status=ok probe_err=""
else
    reason="no GPU platform opened: nvidia-smi: ${smi:-not available}; NVIDIA OpenCL library: ${nv_lib:-not found};"
    reason="$reason ICD files: ${icds:-none}; nncl devices (exit $dev_rc): $(grep -E '^[* ] platform|nncl' "$logs/devices.log" | head -4 | one_line)"
    p stop_reason "$reason"
    probe_status=failed probe_err="$reason"
    marked="$(grep -E '^\* platform' "$logs/devices.log" | head -1)"
    p selected "${marked:+${marked#??}}"
fi
if [ "$probe_status" = ok ]; then
    probe_row="ok\t0"
elif [ "$rehearse" = 1 ] && [ "$probe_only" = 0 ] && grep -q '^\* platform' "$logs/devices.log"; then
    probe_row="ok\t0" probe_err="rehearsal: no GPU, so the run goes on with the marked OpenCL device"
else
    probe_row="failed\t3"
fi
printf "probe\t$probe_row\t%s\t15\t%s\n" "$(($(date +%s) - probe_t0))" "$probe_err" >> "$steps_tsv"
say "probe: ${gpu_line:+GPU: ${gpu_line#??}}${probe_err:+$probe_err}"
if [ "$probe_status" != ok ]; then
    if [ "$probe_only" = 1 ] || [ "$rehearse" = 0 ]; then finish 3; fi
    grep -q '^\* platform' "$logs/devices.log" || finish 3 # rehearsal, but no OpenCL device at all
    say "rehearsal: going on with the marked OpenCL device"
fi
[ "$probe_only" = 1 ] && finish 0
ours=(env "LD_LIBRARY_PATH=$(our_ld)" "PATH=$pack/bin:$PATH")

# kernels and the tuning file of this run in a fresh cache; PoCL's kernel cache stays where it was
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl/kcache}"
export XDG_CACHE_HOME="$work/cache"
mkdir -p "$XDG_CACHE_HOME"
"${ours[@]}" nncl --version > "$res/nncl_version.txt" 2>&1

# ---- 1. the OpenCL tests through ctest --------------------------------------------------------------
mkdir -p "$work/ctest"
{
    echo "# written by bench/device/run.sh from opencl_tests.txt, for this pack at $pack"
    grep -v '^#' "$scripts/opencl_tests.txt" | grep -v '^-' | grep '|' | while IFS='|' read -r name cmd; do
        name="$(echo "$name" | tr -d ' ')"
        cmd="${cmd//@BIN@/$pack/bin}"
        cmd="${cmd//@DATA@/$pack/data}"
        printf 'add_test(%s' "$name"
        for w in $cmd; do printf ' "%s"' "$w"; done
        printf ')\n'
        printf 'set_tests_properties(%s PROPERTIES LABELS opencl TIMEOUT 300 WORKING_DIRECTORY "%s" ENVIRONMENT "%s")\n' \
            "$name" "$work/ctest" "LD_LIBRARY_PATH=$(our_ld);CI=true;PATH=$pack/bin:$PATH"
    done
} > "$work/ctest/CTestTestfile.cmake"
if command -v ctest > /dev/null; then
    step tests 150 env LD_LIBRARY_PATH="$orig_ld" ctest --test-dir "$work/ctest" --output-on-failure -j 1
else
    # no ctest on this host: the same commands, one after another, in ctest's output format
    cat > "$work/ctest/run_tests.sh" <<EOF
#!/usr/bin/env bash
cd "$work/ctest"; export LD_LIBRARY_PATH="$(our_ld)" CI=true PATH="$pack/bin:\$PATH"; failed=0; i=0
while IFS='|' read -r name cmd; do
    name=\$(echo "\$name" | tr -d ' '); cmd=\${cmd//@BIN@/$pack/bin}; cmd=\${cmd//@DATA@/$pack/data}; i=\$((i+1))
    t0=\$(date +%s.%N); \$cmd; rc=\$?; t=\$(awk "BEGIN{printf \"%.2f\", \$(date +%s.%N) - \$t0}")
    if [ \$rc = 0 ]; then r=Passed; else r="***Failed"; failed=\$((failed+1)); fi
    echo "\$i/N Test #\$i: \$name ....   \$r    \$t sec"
done < <(grep -v '^#' "$scripts/opencl_tests.txt" | grep -v '^-' | grep '|')
[ \$failed = 0 ]
EOF
    step tests 150 bash "$work/ctest/run_tests.sh"
fi

# ---- 2. nncl check against the float64 oracle -------------------------------------------------------
fm="$pack/data/fashion-mnist"
step check_fashion 90 "${ours[@]}" nncl check --backend opencl --data "$fm/train-images-idx3-ubyte.gz" \
    --labels "$fm/train-labels-idx1-ubyte.gz" --hidden 256:relu,128:relu --batch-size 128 --oracle fp64 \
    --lockstep "$lock_fashion" --json "$res/check_fashion.json"
large_rows=$((256 * (lock_large > 4 ? lock_large : 4)))
step make_large_data 30 python3 "$scripts/make_data.py" "$work/large.safetensors" --rows "$large_rows" \
    --inputs 1024 --classes 10 &&
    step check_large 120 "${ours[@]}" nncl check --backend opencl --data "$work/large.safetensors" --hidden "$large_hidden" \
        --batch-size 256 --oracle fp64 --lockstep "$lock_large" --json "$res/check_large.json"
echo "$large_hidden" > "$res/check_large_hidden.txt"
rm -f "$work/large.safetensors"

# ---- 3. untuned: CLBlast's own parameters -----------------------------------------------------------
export NNCL_CLBLAST_TUNING=off
step gemm_untuned 60 "${ours[@]}" bench_gemm --backend opencl --repeat "$gemm_repeat" --json "$res/gemm_untuned.json" \
    "${gemm_shapes[@]}"
for row in "${train_rows[@]}"; do
    set -- $row
    step "train_untuned_$1_$2" 60 "${ours[@]}" bench_train --backend opencl --net "$1" --batch "$2" --steps "$steps" \
        --epochs "$epochs" --json "$res/train_untuned_$1_$2.json"
done
unset NNCL_CLBLAST_TUNING

# ---- 4. PyTorch on the same device, before the tune, so its numbers never wait on the tuner -----
py="${NNCL_PYTHON:-}"
if [ -z "$py" ]; then
    for cand in python3 /usr/bin/python3; do
        if env LD_LIBRARY_PATH="$orig_ld" timeout 60 "$cand" -c 'import torch' > /dev/null 2>&1; then py="$cand"; break; fi
    done
fi
torch_train="$(printf '%s\n' "${train_rows[@]}" | tr ' ' ':' | paste -sd,)"
torch_gemm="$(printf '%s\n' "${gemm_shapes[@]}" | paste -sd,)"
torch_dev=cuda
[ "$rehearse" = 1 ] && torch_dev=cpu
if [ -n "$py" ]; then
    step torch 150 env LD_LIBRARY_PATH="$orig_ld" PYTHONUNBUFFERED=1 "$py" "$scripts/torch_bench.py" \
        --device "$torch_dev" --steps "$torch_steps" --epochs "$torch_epochs" --train "$torch_train" \
        --gemm "$torch_gemm" --repeat "$gemm_repeat" --json "$res/torch.json"
else
    printf 'torch\tfailed\t\t0\t0\tno python3 with torch found (set NNCL_PYTHON)\n' >> "$steps_tsv"
    say "torch: failed: no python3 with torch"
fi

# ---- 5. nncl tune -----------------------------------------------------------------------------------
# the tuner gets what the budget leaves after the tune's own checks (about 60 s) and the tuned benchmarks
left=$((deadline - $(date +%s) - reserve - 60 - tuned_need))
[ "$left" -lt "$tune_limit" ] && tune_limit="$left"
if [ "$tune_limit" -ge 10 ]; then
    step tune $((tune_limit + 90)) "${ours[@]}" nncl tune "${tune_net[@]}" --time-limit "$tune_limit" "${tune_args[@]}"
else
    printf 'tune\tskipped\t\t0\t0\tnot run: %s s left in the budget\n' "$((left + 60 + tuned_need))" >> "$steps_tsv"
fi
cp "$XDG_CACHE_HOME"/nncl/tuning/*.txt "$res/" 2>/dev/null
"${ours[@]}" nncl devices > "$logs/devices-after-tune.log" 2>&1

# ---- 6. tuned: the same benchmarks with the tuning file ---------------------------------------------
step gemm_tuned 60 "${ours[@]}" bench_gemm --backend opencl --repeat "$gemm_repeat" --json "$res/gemm_tuned.json" \
    "${gemm_shapes[@]}"
for row in "${train_rows[@]}"; do
    set -- $row
    step "train_tuned_$1_$2" 90 "${ours[@]}" bench_train --backend opencl --net "$1" --batch "$2" --steps "$steps" \
        --epochs "$epochs" --tuning both --json "$res/train_tuned_$1_$2.json"
done

# ---- 7. the summary ---------------------------------------------------------------------------------
if awk -F'\t' '$2 != "ok" {bad = 1} END {exit !bad}' "$steps_tsv"; then finish 1; fi
finish 0
