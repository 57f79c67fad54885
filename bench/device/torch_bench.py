#!/usr/bin/env python3
"""torch_bench.py: the PyTorch side of bench/device/run.sh, on the same device and in the same run as nncl.

    python3 torch_bench.py --json OUT.json [--device cuda|cpu] [--steps 20] [--epochs 3]
                           [--train fashion:128,large:256,large:1024] [--gemm 256x4096x1024:nt,...] [--repeat 20]

Training: the presets of bench/bench_train.c (same layers, ReLU, softmax + cross-entropy, Adam lr 1e-3,
He-style init does not matter for speed), synthetic data already on the device, `--steps` batches per
epoch drawn through a random permutation as nncl's trainer does; the first epoch is a warm-up, then the
mean step of `--epochs` epochs, the clock stopped after torch.cuda.synchronize(). Each row runs twice:
"fp32" with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False, cudnn too, matmul precision
"highest"), the fair baseline for CLBlast, which has no tensor-core path; and "tf32" with TF32 on, reported
apart. On the CPU the two are the same computation (TF32 is a GPU feature) and both are still reported.

GEMM: torch.mm on the shapes given (MxNxK:ab as bench_gemm takes them, op(A) and op(B) each n or t; a
transposed operand is a transposed view, so cuBLAS gets the transpose flag as CLBlast does), in both
modes; the median of `--repeat` timed calls after two warm-ups, each call timed with CUDA events on the
GPU (perf_counter on the CPU).

Standard library plus torch only. Writes one JSON object; a failure in one row is recorded in that row
("error") and the others still run; the exit status is 1 if any row failed.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback

PRESETS = {
    # name: (inputs, hidden units, outputs, preset batch), as in bench/bench_train.c
    "fashion": (784, [256, 128], 10, 128),
    "large": (1024, [4096, 4096, 1024], 10, 256),
}


def set_mode(torch, mode):
    tf32 = mode == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")


def sync(torch, dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def train_step_ms(torch, dev, net_name, batch, steps, epochs):
    inputs, hidden, outputs, _ = PRESETS[net_name]
    torch.manual_seed(1)
    layers, width = [], inputs
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
        width = units
    layers.append(torch.nn.Linear(width, outputs))
    net = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = steps * batch
    x = torch.rand(n, inputs, device=dev)
    y = torch.arange(n, device=dev) % outputs
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        perm = torch.randperm(n, device=dev)
        for s in range(steps):
            idx = perm[s * batch:(s + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()  # warm-up: cuBLAS handles, kernels, the optimizer's state
    sync(torch, dev)
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    sync(torch, dev)
    ms = 1e3 * (time.perf_counter() - t0) / (epochs * steps)
    flops = 0.0
    width = inputs
    for l, units in enumerate(hidden + [outputs]):
        flops += 2.0 * batch * width * units * (3.0 if l else 2.0)  # as bench_train counts a step
        width = units
    return ms, flops / (ms * 1e6)


def parse_shape(text):
    dims, _, op = text.partition(":")
    m, n, k = (int(v) for v in dims.split("x"))
    op = op or "nn"
    if len(op) != 2 or any(c not in "nt" for c in op):
        raise ValueError(f"shape {text!r}: op must be two of n, t")
    return m, n, k, op


def gemm_ms(torch, dev, m, n, k, op, repeat):
    g = torch.Generator(device="cpu").manual_seed(1)
    a = torch.rand(k, m, generator=g).to(dev).t() if op[0] == "t" else torch.rand(m, k, generator=g).to(dev)
    b = torch.rand(n, k, generator=g).to(dev).t() if op[1] == "t" else torch.rand(k, n, generator=g).to(dev)
    c = torch.empty(m, n, device=dev)
    for _ in range(2):
        torch.mm(a, b, out=c)
    sync(torch, dev)
    times = []
    for _ in range(repeat):
        if dev.type == "cuda":
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            torch.mm(a, b, out=c)
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
        else:
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            times.append(1e3 * (time.perf_counter() - t0))
    ms = statistics.median(times)
    return ms, 2.0 * m * n * k / (ms * 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", required=True)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train", default="fashion:128,large:256,large:1024")
    ap.add_argument("--gemm", default="256x4096x1024:nt,4096x4096x256:tn,256x1024x4096:nn")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    a = ap.parse_args()

    out = {"tool": "torch_bench.py", "device_kind": a.device, "python": platform.python_version(),
           "steps_per_epoch": a.steps, "epochs": a.epochs, "train": [], "gemm": [], "errors": []}
    failed = 0

    def write():
        with open(a.json + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(a.json + ".tmp", a.json)

    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure is reported, not raised
        out["errors"].append(f"import torch: {e}")
        write()
        print(f"torch_bench: cannot import torch: {e}", file=sys.stderr)
        return 1
    out["torch"] = torch.__version__
    out["cuda"] = torch.version.cuda
    if a.device == "cuda":
        if not torch.cuda.is_available():
            out["errors"].append("torch.cuda.is_available() is False")
            write()
            print("torch_bench: no CUDA device", file=sys.stderr)
            return 1
        dev = torch.device("cuda")
        out["device"] = torch.cuda.get_device_name(0)
        out["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
        try:
            out["cublas"] = torch.backends.cuda.preferred_blas_library().name
        except Exception:  # noqa: BLE001 - older torch has no such call
            pass
    else:
        dev = torch.device("cpu")
        torch.set_num_threads(a.threads or os.cpu_count() or 1)
        out["device"] = f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    write()

    modes = ["fp32", "tf32"]
    for item in filter(None, a.train.split(",")):
        name, _, batch = item.partition(":")
        for mode in modes:
            row = {"net": name, "batch": int(batch or PRESETS[name][3]), "mode": mode}
            try:
                set_mode(torch, mode)
                row["step_ms"], row["gflops"] = train_step_ms(torch, dev, name, row["batch"], a.steps, a.epochs)
                print(f"train {name:8} batch {row['batch']:5} {mode}: {row['step_ms']:9.3f} ms/step "
                      f"{row['gflops']:9.1f} GFLOP/s", flush=True)
            except Exception as e:  # noqa: BLE001 - recorded, the next row runs
                row["error"] = f"{type(e).__name__}: {e}"
                traceback.print_exc()
                failed += 1
            out["train"].append(row)
            write()
    for text in filter(None, a.gemm.split(",")):
        for mode in modes:
            row = {"shape": text, "mode": mode}
            try:
                m, n, k, op = parse_shape(text)
                row.update(m=m, n=n, k=k, op=op)
                set_mode(torch, mode)
                row["ms"], row["gflops"] = gemm_ms(torch, dev, m, n, k, op, a.repeat)
                print(f"mm {text:22} {mode}: {row['ms']:9.4f} ms {row['gflops']:9.1f} GFLOP/s", flush=True)
            except Exception as e:  # noqa: BLE001
                row["error"] = f"{type(e).__name__}: {e}"
                traceback.print_exc()
                failed += 1
            out["gemm"].append(row)
            write()
    set_mode(torch, "fp32")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
