#!/usr/bin/env python3
"""summarize.py: the one summary of a bench/device/run.sh run, as JSON and as a readable table.

    python3 summarize.py --work WORK_DIR --out OUT_DIR [--exit-code N] [--elapsed S]

Reads what run.sh left in WORK_DIR (probe.env, steps.tsv, logs/, results/: nncl check, bench_gemm,
bench_train and torch_bench.py JSON, the tuning file) and writes OUT_DIR/summary.json and
OUT_DIR/summary.txt: device, driver, OpenCL and CLBlast versions, tuning state, parity verdicts, step
times, the GEMM share of a step, GFLOP/s, the ratios to PyTorch and cuBLAS, and every step that failed
with its error. Anything missing (a step that failed or never ran) is left out of the tables and shows in
the failed steps. Standard library only.

Ratios are times: nncl's (CLBlast's) time divided by PyTorch's (cuBLAS's), so above 1 means nncl is
slower; PyTorch "fp32" has TF32 off (the like-for-like baseline: CLBlast has no tensor-core path), "tf32"
has it on.
"""
import argparse
import glob
import json
import os
import re
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_probe(work):
    probe = {}
    try:
        with open(os.path.join(work, "probe.env")) as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep:
                    probe[key] = value
    except OSError:
        pass
    return probe


def read_steps(work):
    steps = []
    try:
        with open(os.path.join(work, "steps.tsv")) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                parts += [""] * (6 - len(parts))
                name, status, rc, secs, limit, err = parts[:6]
                steps.append({"step": name, "status": status, "exit_code": int(rc) if rc.strip("-").isdigit() else None,
                              "seconds": float(secs or 0), "limit_s": float(limit or 0), "error": err})
    except OSError:
        pass
    return steps


def parse_versions(text):
    """nncl_backend_versions(): the device's OpenCL version, driver, CLBlast version and tuning state."""
    out = {}
    if not text:
        return out
    m = re.search(r'device "([^"]*)" \(([^)]*)\)', text)
    if m:
        out["device"], out["opencl_version"] = m.group(1), m.group(2)
    m = re.search(r'platform "([^"]*)"', text)
    if m:
        out["platform"] = m.group(1)
    m = re.search(r"driver ([^,]*)", text)
    if m:
        out["driver"] = m.group(1).strip()
    m = re.search(r"CLBlast (\S+) (tuned(?: \([^)]*\))?|untuned)", text)
    if m:
        out["clblast_version"], out["clblast_tuning"] = m.group(1), m.group(2)
    return out


def summarize_check(doc, label):
    if not doc:
        return None
    rows = doc.get("comparisons", [])
    by_pair = {}
    for r in rows:
        pair = r.get("what", "").split(":")[0] if ":" in r.get("what", "") else "op cases and GEMM shapes"
        if pair not in ("device vs cpu", "cpu vs float64", "device vs float64"):
            pair = "op cases and GEMM shapes"
        d = by_pair.setdefault(pair, {"comparisons": 0, "failed": 0, "worst_fraction_of_bound": 0.0})
        d["comparisons"] += 1
        d["failed"] += 0 if r.get("pass") else 1
        frac = r.get("fraction_of_bound")
        if isinstance(frac, (int, float)):
            d["worst_fraction_of_bound"] = max(d["worst_fraction_of_bound"], frac)
    lock = doc.get("lockstep") or []
    worst_lock = 0.0
    lock_fail = 0
    for r in lock:
        b = r.get("bound") or 0
        if b:
            worst_lock = max(worst_lock, (r.get("weight_diff_rel") or 0) / b)
        if r.get("pass") is False or r.get("jump"):
            lock_fail += 1
    failed = [r.get("what", "") for r in rows if not r.get("pass")]
    return {"net": label, "verdict": "pass" if doc.get("failures", 1) == 0 else "fail",
            "comparisons": len(rows), "failures": doc.get("failures"), "by_pair": by_pair,
            "lockstep_steps": len(lock), "lockstep_worst_weight_diff_of_bound": worst_lock,
            "lockstep_flagged_steps": lock_fail, "failed_comparisons": failed[:20],
            "versions": doc.get("versions", "")}


def read_tests(work):
    tests = []
    try:
        with open(os.path.join(work, "logs", "tests.log"), errors="replace") as f:
            for line in f:
                m = re.search(r"Test\s+#\d+: (\S+) \.*\s*(\**\s*\w[\w ]*?)\s+([\d.]+) sec", line)
                if m:
                    result = m.group(2).replace("*", "").strip()
                    tests.append({"test": m.group(1), "result": result, "seconds": float(m.group(3))})
    except OSError:
        pass
    return tests


def read_tune(work):
    tune = {}
    try:
        with open(os.path.join(work, "logs", "tune.log"), errors="replace") as f:
            for line in f:
                line = line.rstrip()
                for key in ("tuner:", "kept:", "step's products:", "1024^3 product:", "stored:", "not stored:"):
                    if line.startswith(key):
                        tune[key.rstrip(":")] = line[len(key):].strip()
    except OSError:
        pass
    files = sorted(glob.glob(os.path.join(work, "results", "*--*.txt")))
    if files:
        with open(files[0], errors="replace") as f:
            tune["file"] = f.read()
    return tune


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def ratio(a, b):
    return a / b if a and b else None


def table(headers, rows):
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--exit-code", type=int, default=None)
    ap.add_argument("--elapsed", type=float, default=None)
    a = ap.parse_args()
    work, res = a.work, os.path.join(a.work, "results")

    probe = read_probe(work)
    steps = read_steps(work)
    checks = {n: summarize_check(load_json(os.path.join(res, f"check_{n}.json")), n) for n in ("fashion", "large")}
    try:
        with open(os.path.join(res, "check_large_hidden.txt")) as f:
            large_hidden = f.read().strip()
    except OSError:
        large_hidden = None
    gemm_u = load_json(os.path.join(res, "gemm_untuned.json")) or {}
    gemm_t = load_json(os.path.join(res, "gemm_tuned.json")) or {}
    torch = load_json(os.path.join(res, "torch.json")) or {}

    # the OpenCL device as our programs saw it: from the first result that names it
    # (untuned runs first: the tuned runs name the tuning file's hash instead)
    versions = ""
    for src in (gemm_u, (checks["fashion"] or {}), (checks["large"] or {}), gemm_t):
        if src.get("versions"):
            versions = src["versions"]
            break
    vinfo = parse_versions(versions)
    tuned_versions = parse_versions(gemm_t.get("versions", "")) if gemm_t else {}

    # GEMM: CLBlast untuned / tuned beside torch.mm
    tg = {}
    for r in torch.get("gemm", []):
        if "gflops" in r:
            tg[(r["shape"], r["mode"])] = r
    gemm_rows = []
    shapes = [s for s in gemm_u.get("shapes", [])] or [s for s in gemm_t.get("shapes", [])]
    tuned_by = {(s["m"], s["n"], s["k"], s["op"]): s for s in gemm_t.get("shapes", [])}
    for s in shapes:
        key = f'{s["m"]}x{s["n"]}x{s["k"]}:{s["op"]}'
        t = tuned_by.get((s["m"], s["n"], s["k"], s["op"]))
        c32, c_tf = tg.get((key, "fp32")), tg.get((key, "tf32"))
        untuned_ms = s.get("ms") if gemm_u else None
        row = {"shape": key, "clblast_untuned_ms": untuned_ms, "clblast_untuned_gflops": s.get("gflops") if gemm_u else None,
               "clblast_tuned_ms": t and t["ms"], "clblast_tuned_gflops": t and t["gflops"],
               "cublas_fp32_ms": c32 and c32["ms"], "cublas_fp32_gflops": c32 and c32["gflops"],
               "cublas_tf32_ms": c_tf and c_tf["ms"], "cublas_tf32_gflops": c_tf and c_tf["gflops"]}
        best = min([v for v in (row["clblast_untuned_ms"], row["clblast_tuned_ms"]) if v] or [0]) or None
        row["ratio_untuned_to_cublas_fp32"] = ratio(row["clblast_untuned_ms"], row["cublas_fp32_ms"])
        row["ratio_tuned_to_cublas_fp32"] = ratio(row["clblast_tuned_ms"], row["cublas_fp32_ms"])
        row["ratio_best_to_cublas_tf32"] = ratio(best, row["cublas_tf32_ms"])
        gemm_rows.append(row)

    # training: untuned, tuned (same process as a second untuned row), PyTorch
    tt = {}
    for r in torch.get("train", []):
        if "step_ms" in r:
            tt[(r["net"], r["batch"], r["mode"])] = r
    train_rows = []
    keys = set()
    for path in sorted(glob.glob(os.path.join(res, "train_*.json"))):
        m = re.match(r"train_(untuned|tuned)_(\w+?)_(\d+)\.json$", os.path.basename(path))
        if m:
            keys.add((m.group(2), int(m.group(3))))
    for net, batch in sorted(keys, key=lambda k: (k[0] != "fashion", k[0], k[1])):
        u = load_json(os.path.join(res, f"train_untuned_{net}_{batch}.json")) or []
        t = load_json(os.path.join(res, f"train_tuned_{net}_{batch}.json")) or []
        ur = next((r for r in u if r.get("backend") == "opencl"), None)
        u2 = next((r for r in t if r.get("backend") == "opencl-untuned"), None)
        tr = next((r for r in t if r.get("backend") == "opencl-tuned"), None)
        p32, ptf = tt.get((net, batch, "fp32")), tt.get((net, batch, "tf32"))

        def share(r):
            return r["gemm_ms"] / r["step_ms"] if r and r.get("gemm_ms") and r.get("step_ms") else None

        row = {"net": net, "batch": batch,
               "untuned_step_ms": ur and ur["step_ms"], "untuned_gflops": ur and ur["gflops"],
               "untuned_gemm_ms": ur and ur.get("gemm_ms"), "untuned_gemm_share": share(ur),
               "untuned_first_epoch_ms": ur and ur.get("first_epoch_ms"),
               "untuned_same_process_step_ms": u2 and u2["step_ms"],
               "tuned_step_ms": tr and tr["step_ms"], "tuned_gflops": tr and tr["gflops"],
               "tuned_gemm_ms": tr and tr.get("gemm_ms"), "tuned_gemm_share": share(tr),
               "tuned_ours_ms": tr and tr.get("kernels_ms"), "tuned_idle_ms": tr and tr.get("idle_ms"),
               "torch_fp32_step_ms": p32 and p32["step_ms"], "torch_tf32_step_ms": ptf and ptf["step_ms"],
               "steps_per_epoch": (ur or tr or {}).get("steps_per_epoch")}
        row["tuning_speedup"] = ratio(row["untuned_same_process_step_ms"] or row["untuned_step_ms"], row["tuned_step_ms"])
        best = min([v for v in (row["untuned_step_ms"], row["tuned_step_ms"]) if v] or [0]) or None
        row["ratio_untuned_to_torch_fp32"] = ratio(row["untuned_step_ms"], row["torch_fp32_step_ms"])
        row["ratio_tuned_to_torch_fp32"] = ratio(row["tuned_step_ms"], row["torch_fp32_step_ms"])
        row["ratio_best_to_torch_tf32"] = ratio(best, row["torch_tf32_step_ms"])
        train_rows.append(row)

    tests = read_tests(work)
    tune = read_tune(work)
    failed = [s for s in steps if s["status"] != "ok"]
    stopped = probe.get("stop_reason")
    rehearsal = probe.get("rehearse") == "1"
    if probe.get("gpu"):
        state = "ran on a GPU"
    elif rehearsal and len(steps) > 1:
        state = "rehearsal on a non-GPU OpenCL device"
    else:
        state = "stopped after the probe"
    summary = {
        "state": state,
        "exit_code": a.exit_code,
        "elapsed_s": a.elapsed,
        "rehearsal": rehearsal,
        "stop_reason": stopped,
        "device": {
            "opencl_device": vinfo.get("device") or probe.get("gpu") or probe.get("selected"),
            "opencl_platform": vinfo.get("platform"),
            "opencl_version": vinfo.get("opencl_version"),
            "driver": vinfo.get("driver"),
            "nvidia_smi": probe.get("nvidia_smi"),
            "host_cpu": probe.get("cpu"),
            "pytorch_device": torch.get("device"),
            "pytorch": torch.get("torch"),
            "cuda": torch.get("cuda"),
        },
        "clblast": {"version": vinfo.get("clblast_version"), "tuning_untuned_runs": vinfo.get("clblast_tuning"),
                    "tuning_tuned_runs": tuned_versions.get("clblast_tuning"), "tune": tune},
        "probe": probe,
        "tests": tests,
        "parity": {k: v for k, v in checks.items() if v},
        "large_net_check_hidden": large_hidden,
        "gemm": gemm_rows,
        "train": train_rows,
        "steps": steps,
        "failed_steps": failed,
        "versions": versions,
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    # ---- the readable table ----
    L = []
    L.append(f"nncl device run: {state}" + (" (REHEARSAL: shrunk sizes, not a measurement)" if rehearsal else ""))
    L.append(f"exit code {a.exit_code}, {fmt(a.elapsed, '.0f')} s; {len(steps)} steps, {len(failed)} not ok")
    if stopped:
        L.append(("no GPU, the rehearsal went on: " if state.startswith("rehearsal") else "stop reason: ") + stopped)
    d = summary["device"]
    L.append("")
    L.append(f"OpenCL device : {d['opencl_device'] or '-'}")
    L.append(f"platform      : {d['opencl_platform'] or '-'}; {d['opencl_version'] or '-'}; driver {d['driver'] or '-'}")
    L.append(f"nvidia-smi    : {d['nvidia_smi'] or '-'}")
    L.append(f"NVIDIA OpenCL : {probe.get('nvidia_opencl_lib', '-')}; ICD: {probe.get('icd_used', '-')}")
    L.append(f"host          : {probe.get('host', '-')}; {d['host_cpu'] or '-'}; glibc {probe.get('glibc', '-')}")
    L.append(f"CLBlast       : {summary['clblast']['version'] or '-'}, untuned runs: "
             f"{summary['clblast']['tuning_untuned_runs'] or '-'}, tuned runs: {summary['clblast']['tuning_tuned_runs'] or '-'}")
    if tune:
        for key in ("tuner", "kept", "step's products", "1024^3 product", "stored", "not stored"):
            if key in tune:
                L.append(f"  tune {key}: {tune[key]}")
    L.append(f"PyTorch       : {d['pytorch'] or '-'} (CUDA {d['cuda'] or '-'}) on {d['pytorch_device'] or '-'}")
    if tests:
        L.append("")
        L.append("OpenCL tests (ctest): " + ", ".join(f"{t['test']} {t['result']} ({t['seconds']:.1f} s)" for t in tests))
    for k, c in checks.items():
        if not c:
            continue
        L.append("")
        net = "fashion 784-256-128-10" if k == "fashion" else f"large 1024-{(large_hidden or '').replace(':relu', '').replace(',', '-')}-10"
        L.append(f"nncl check --oracle fp64 --lockstep, {net}: {c['verdict'].upper()} "
                 f"({c['failures']} of {c['comparisons']} comparisons failed; lockstep {c['lockstep_steps']} steps, "
                 f"worst weight difference {c['lockstep_worst_weight_diff_of_bound']:.3g} of its bound)")
        for pair, v in c["by_pair"].items():
            L.append(f"  {pair:24} {v['failed']:4} of {v['comparisons']:4} failed, worst {v['worst_fraction_of_bound']:.3g} of bound")
        for w in c["failed_comparisons"][:8]:
            L.append(f"  FAIL {w}")
    if gemm_rows:
        L.append("")
        L.append("GEMM, GFLOP/s (ratio = CLBlast time / cuBLAS time; above 1: CLBlast slower)")
        L += table(["shape", "CLBlast untuned", "CLBlast tuned", "cuBLAS fp32", "cuBLAS tf32", "untuned/fp32",
                    "tuned/fp32", "best/tf32"],
                   [[r["shape"], fmt(r["clblast_untuned_gflops"], ".1f"), fmt(r["clblast_tuned_gflops"], ".1f"),
                     fmt(r["cublas_fp32_gflops"], ".1f"), fmt(r["cublas_tf32_gflops"], ".1f"),
                     fmt(r["ratio_untuned_to_cublas_fp32"]), fmt(r["ratio_tuned_to_cublas_fp32"]),
                     fmt(r["ratio_best_to_cublas_tf32"])] for r in gemm_rows])
    if train_rows:
        L.append("")
        L.append("Training step, ms (ratio = nncl time / PyTorch time; GEMM share = CLBlast's part of the step)")
        L += table(["net", "batch", "untuned", "GEMM share", "tuned", "GEMM share", "speed-up", "GFLOP/s",
                    "torch fp32", "torch tf32", "untuned/fp32", "tuned/fp32", "best/tf32"],
                   [[r["net"], r["batch"], fmt(r["untuned_step_ms"], ".3f"), fmt(r["untuned_gemm_share"]),
                     fmt(r["tuned_step_ms"], ".3f"), fmt(r["tuned_gemm_share"]), fmt(r["tuning_speedup"]),
                     fmt(r["tuned_gflops"] or r["untuned_gflops"], ".1f"), fmt(r["torch_fp32_step_ms"], ".3f"),
                     fmt(r["torch_tf32_step_ms"], ".3f"), fmt(r["ratio_untuned_to_torch_fp32"]),
                     fmt(r["ratio_tuned_to_torch_fp32"]), fmt(r["ratio_best_to_torch_tf32"])] for r in train_rows])
    L.append("")
    L.append("Steps:")
    L += table(["step", "status", "seconds", "limit"],
               [[s["step"], s["status"], fmt(s["seconds"], ".1f"), fmt(s["limit_s"], ".0f")] for s in steps])
    if failed:
        L.append("")
        L.append("Failed steps:")
        for s in failed:
            L.append(f"  {s['step']} ({s['status']}): {s['error'] or '(no message)'}")
    with open(os.path.join(a.out, "summary.txt"), "w") as f:
        f.write("\n".join(L) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
