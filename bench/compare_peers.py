#!/usr/bin/env python3
"""compare_peers.py: the CPU backend's targets against its peers, all in one run.

    python3 bench/compare_peers.py [--build build] [--threads 2] [--rounds 3] [--epochs 2]
                                   [--openblas-coretype NAME] [--skip-gemm] [--skip-large]
                                   [--skip-fashion] [--gemm-rounds 3] [--large-rounds R]

1. Fashion-MNIST (Debian's dataset-fashion-mnist, the real 60,000 training images), 784-256-128-10 ReLU,
   softmax + cross-entropy, batch 128, SGD lr 0.1, shuffled: `nncl train --backend cpu`, a plain numpy loop
   over OpenBLAS (numpy's own BLAS), and PyTorch, each a fresh process per round, the three alternating
   for --rounds rounds; each side's fastest epoch counts. Targets: nncl <= 0.9 x numpy, <= 0.85 x PyTorch.
2. The large net (1024-4096-4096-1024-10, batch 256, SGD): nncl's steady-state step (bench_cpu_step) and
   PyTorch's on synthetic data, alternating; each side's best. Target: nncl <= 0.7 x PyTorch. Also printed:
   the floor, the time of the step's products alone at the FMA ceiling (`bench_cpu_gemm --peak`).
3. GEMM: bench_cpu_gemm on square 1024 and every product of both nets (ratio = OpenBLAS time / nncl
   time; target >= 1.0).

Every process gets OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = --threads; the peers get OMP_WAIT_POLICY=PASSIVE
(idle OpenMP threads otherwise spin and steal the other core of a 2-core machine). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are removed unless --openblas-coretype sets the former for numpy, PyTorch and
bench_cpu_gemm alike: OpenBLAS 0.3.21 does not recognise every CPU (on a virtual "Intel Xeon Processor" it
falls back to its Prescott SSE3 kernels, several times slower than its SkylakeX AVX-512 ones), so run
once as found and once with --openblas-coretype SkylakeX to see both.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# ---- the peers (run in child processes: `python3 compare_peers.py --child numpy|torch|torch-large`) ----

def load_fashion():
    import numpy as np
    with gzip.open(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    with gzip.open(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
    return x, y


def numpy_epochs(epochs, batch=128, lr=0.1):
    """A plain numpy MLP (He init, ReLU, softmax + cross-entropy, SGD); returns each epoch's seconds."""
    import time
    import numpy as np
    x, y = load_fashion()
    rng = np.random.default_rng(1)
    sizes = [784, 256, 128, 10]
    ws = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    onehot = np.eye(10, dtype=np.float32)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = perm[s:s + batch]
            xb, tb = x[idx], onehot[y[idx]]
            acts, pre = [xb], []
            for l, (w, b) in enumerate(zip(ws, bs)):
                z = acts[-1] @ w.T + b
                pre.append(z)
                acts.append(np.maximum(z, 0) if l < 2 else z)
            z = acts[-1]
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            d = (p - tb) / len(idx)
            for l in range(2, -1, -1):
                gw, gb = d.T @ acts[l], d.sum(axis=0)
                if l > 0:
                    d = (d @ ws[l]) * (pre[l - 1] > 0)
                ws[l] -= lr * gw
                bs[l] -= lr * gb
        times.append(time.perf_counter() - t0)
    return times


def torch_net(sizes):
    import torch
    layers = []
    for l, (i, o) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(i, o))
        if l < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_epochs(epochs, threads, batch=128, lr=0.1):
    import time
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, y = load_fashion()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    net = torch_net([784, 256, 128, 10])
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(x))
        for s in range(0, len(x), batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times


def torch_large_step_ms(threads, steps=4, epochs=2, batch=256):
    import time
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = torch_net([1024, 4096, 4096, 1024, 10])
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.rand(steps * batch, 1024), torch.arange(steps * batch) % 10
    best = float("inf")
    for e in range(epochs + 1):  # the first is the warm-up
        t0 = time.perf_counter()
        for s in range(steps):
            opt.zero_grad()
            loss_fn(net(x[s * batch:(s + 1) * batch]), y[s * batch:(s + 1) * batch]).backward()
            opt.step()
        if e:
            best = min(best, (time.perf_counter() - t0) / steps)
    return 1e3 * best


# ---- the driver -------------------------------------------------------------------------------------

def system_python():
    # Debian's python3-torch and python3-numpy live in the system Python
    for py in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([py, "-c", "import numpy, torch"], capture_output=True).returncode == 0:
            return py
    sys.exit("compare_peers: needs python3-numpy and python3-torch (bash cmake/install_deps.sh --bench)")


def child(py, what, env, *args):
    out = subprocess.run([py, os.path.abspath(__file__), "--child", what, *map(str, args)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def nncl_fashion_epochs(build, epochs, env):
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.csv")
        subprocess.run([os.path.join(build, "nncl"), "train", "--dataset", "fashion-mnist", "--hidden",
                        "256:relu,128:relu", "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "128", "--epochs",
                        str(epochs), "--val-split", "0", "--backend", "cpu", "--threads", env["OMP_NUM_THREADS"],
                        "--metrics", metrics, "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            header, *rows = f.read().strip().splitlines()
        col = header.split(",").index("seconds")  # by name: the columns after it (lr) grew with the trainer
        return [float(r.split(",")[col]) for r in rows]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        what, args = sys.argv[2], [int(a) for a in sys.argv[3:]]
        if what == "numpy":
            print(json.dumps(numpy_epochs(args[0])))
        elif what == "torch":
            print(json.dumps(torch_epochs(args[0], args[1])))
        else:
            print(json.dumps(torch_large_step_ms(args[0])))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gemm-rounds", type=int, default=3, help="bench_cpu_gemm's --rounds (the GEMM part)")
    ap.add_argument("--epochs", type=int, default=2, help="Fashion-MNIST epochs per process (default 2)")
    ap.add_argument("--openblas-coretype", default=None)
    ap.add_argument("--skip-gemm", action="store_true")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-fashion", action="store_true")
    ap.add_argument("--large-rounds", type=int, default=None, help="rounds of the large-net part (default --rounds)")
    args = ap.parse_args()

    base = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NNCL_THREADS"):
        base.pop(var, None)
    if args.openblas_coretype:
        base["OPENBLAS_CORETYPE"] = args.openblas_coretype
    peers = dict(base, OMP_WAIT_POLICY="PASSIVE")
    py = system_python()
    core = subprocess.run([py, "-c", "import numpy; numpy.show_config()"], env=peers, capture_output=True,
                          text=True).stdout
    core = [l.strip() for l in core.splitlines() if "openblas" in l.lower() and "config" in l.lower()][:1]
    print(f"# {args.threads} threads; OPENBLAS_CORETYPE={args.openblas_coretype or '(unset)'}; {' '.join(core)}")

    best = {"nncl": float("inf"), "numpy": float("inf"), "torch": float("inf")}
    for r in range(0 if args.skip_fashion else args.rounds):
        sides = ["nncl", "numpy", "torch"]
        sides = sides[r % 3:] + sides[:r % 3]  # a different side goes first each round
        for side in sides:
            if side == "nncl":
                t = nncl_fashion_epochs(args.build, args.epochs, base)
            elif side == "numpy":
                t = child(py, "numpy", peers, args.epochs)
            else:
                t = child(py, "torch", peers, args.epochs, args.threads)
            best[side] = min(best[side], min(t))
            print(f"round {r + 1} {side:6} epochs (s): {' '.join(f'{v:.3f}' for v in t)}", flush=True)
    n, np_, pt = best["nncl"], best["numpy"], best["torch"]
    if not args.skip_fashion:
        print(f"\nFashion-MNIST epoch, best of each side: nncl cpu {n:.3f} s, numpy {np_:.3f} s, PyTorch {pt:.3f} s")
        print(f"  nncl / numpy   = {n / np_:.2f}  (target <= 0.90: {'met' if n / np_ <= 0.9 else 'missed'})")
        print(f"  nncl / PyTorch = {n / pt:.2f}  (target <= 0.85: {'met' if n / pt <= 0.85 else 'missed'})")

    if not args.skip_large:
        nn_best, pt_best = float("inf"), float("inf")
        nn_all, pt_all = [], []
        for r in range(args.large_rounds or args.rounds):
            for side in (["nncl", "torch"] if r % 2 == 0 else ["torch", "nncl"]):
                if side == "nncl":
                    with tempfile.TemporaryDirectory() as tmp:
                        js = os.path.join(tmp, "s.json")
                        subprocess.run([os.path.join(args.build, "bench", "bench_cpu_step"), "--net", "large",
                                        "--threads", str(args.threads), "--rounds", "1", "--epochs", "2", "--json",
                                        js], env=base, check=True, stdout=subprocess.DEVNULL)
                        with open(js) as f:
                            t = json.load(f)[0]["step_ms"]
                    nn_best = min(nn_best, t)
                    nn_all.append(t)
                else:
                    t = child(py, "torch-large", peers, args.threads)
                    pt_best = min(pt_best, t)
                    pt_all.append(t)
                print(f"round {r + 1} {side:6} large-net step (ms): {t:.1f}", flush=True)
        print(f"\nlarge net step (batch 256, SGD): nncl cpu {nn_best:.1f} ms, PyTorch {pt_best:.1f} ms, "
              f"ratio {nn_best / pt_best:.2f} (target <= 0.70: {'met' if nn_best / pt_best <= 0.7 else 'missed'})")
        nn_med, pt_med = statistics.median(nn_all), statistics.median(pt_all)
        print(f"  medians of the rounds: nncl cpu {nn_med:.1f} ms, PyTorch {pt_med:.1f} ms, ratio {nn_med / pt_med:.2f}")
        # The bound: the step's products alone, at the machine's FMA ceiling, and nothing else in the step.
        gemm = os.path.join(args.build, "bench", "bench_cpu_gemm")
        if os.path.exists(gemm):
            out = subprocess.run([gemm, "--peak", "--threads", str(args.threads)], env=base, check=True,
                                 capture_output=True, text=True).stdout.split()
            peak = float(out[out.index("fma_peak_gflops") + 1])
            sizes, batch = [1024, 4096, 4096, 1024, 10], 256
            flops = sum(2.0 * batch * i * o * (3 if l else 2) for l, (i, o) in enumerate(zip(sizes, sizes[1:])))
            floor = flops / peak * 1e-6
            print(f"  floor: the step's {flops * 1e-9:.1f} GFLOP of products at the FMA ceiling of {peak:.1f} GFLOP/s "
                  f"(bench_cpu_gemm --peak) take {floor:.1f} ms = {floor / pt_best:.2f} of PyTorch's best; "
                  f"nncl's step runs at {flops / nn_best * 1e-6:.1f} GFLOP/s = {flops / nn_best * 1e-6 / peak:.2f} of it")

    if not args.skip_gemm:
        shapes = ["1024x1024x1024"]
        for sizes, batch in (([784, 256, 128, 10], 128), ([1024, 4096, 4096, 1024, 10], 256)):
            for l, (i, o) in enumerate(zip(sizes, sizes[1:])):
                shapes += [f"{batch}x{o}x{i}:nt", f"{o}x{i}x{batch}:tn"] + ([f"{batch}x{i}x{o}:nn"] if l else [])
        shapes = list(dict.fromkeys(shapes))
        print(f"\nGEMM (bench_cpu_gemm --threads {args.threads}):", flush=True)
        subprocess.run([os.path.join(args.build, "bench", "bench_cpu_gemm"), "--threads", str(args.threads),
                        "--rounds", str(args.gemm_rounds), *shapes],
                       env=base, check=True)


if __name__ == "__main__":
    main()
