#!/usr/bin/env python3
"""compare_pytorch.py: the same nets, batches, steps and threads in PyTorch on the CPU and in nncl on each
backend, in one table with the ratios.

    python3 bench/compare_pytorch.py [--build build] [--threads 2] [--steps 20] [--epochs 3] [--net fashion]

PyTorch comes from Debian's python3-torch (`bash cmake/install_deps.sh --bench`). nncl's numbers come
from build/bench/bench_train (its --json output), run in the same invocation. Both train on synthetic
data of the preset's shape with Adam (lr 1e-3), the same batch size and the same number of steps per
epoch; the first epoch (warm-up, and for OpenCL the kernel compile) is excluded from both.

For PyTorch's numbers to mean anything on this kind of machine, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
must be unset (they make OpenBLAS pick an older kernel) and OMP_WAIT_POLICY=PASSIVE set (idle threads
otherwise spin and steal the other core); this script does both for the PyTorch runs.
"""
import argparse
import json
import os
import subprocess
import sys
import time

PRESETS = {
    # name: (inputs, hidden units with activation, outputs, batch, loss)
    "fashion": (784, [(256, "relu"), (128, "relu")], 10, 128, "xent"),
    "large": (1024, [(4096, "relu"), (4096, "relu"), (1024, "relu")], 10, 256, "xent"),
    "seed": (2, [(4, "tanh")], 1, 4, "mse_tanh"),
}


def torch_step_ms(name, steps, epochs, threads):
    import torch  # imported here so that --help works without it
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    inputs, hidden, outputs, batch, loss_kind = PRESETS[name]
    layers, width = [], inputs
    for units, act in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU() if act == "relu" else torch.nn.Tanh()]
        width = units
    layers.append(torch.nn.Linear(width, outputs))
    if loss_kind == "mse_tanh":
        layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(steps * batch, inputs)
    if loss_kind == "xent":
        y = torch.arange(steps * batch) % outputs
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        y = torch.rand(steps * batch, outputs)
        loss_fn = torch.nn.MSELoss()

    def epoch():
        perm = torch.randperm(steps * batch)
        for s in range(steps):
            idx = perm[s * batch:(s + 1) * batch]
            opt.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return 1e3 * (time.perf_counter() - t0) / (epochs * steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--net", default="all", choices=["all"] + list(PRESETS))
    ap.add_argument("--backend", default="all", choices=["all", "cpu", "opencl"])
    args = ap.parse_args()

    nets = list(PRESETS) if args.net == "all" else [args.net]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    nncl = {}
    bench = os.path.join(args.build, "bench", "bench_train")
    for net in nets:
        out = f"/tmp/nncl_bench_{os.getpid()}_{net}.json"
        cmd = [bench, "--net", net, "--backend", args.backend, "--steps", str(args.steps), "--epochs",
               str(args.epochs), "--json", out]
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            for row in json.load(f):
                nncl[(net, row["backend"])] = row["step_ms"]
        os.unlink(out)

    # Debian's python3-torch lives in the system Python; another python3 first on PATH (pyenv, a venv)
    # does not see it
    python = sys.executable
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0 and \
            os.path.exists("/usr/bin/python3"):
        python = "/usr/bin/python3"
    try:
        # PyTorch in a child process, so the environment above applies to its OpenBLAS and OpenMP
        torch_ms = {}
        for net in nets:
            code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
                    f"import compare_pytorch as c; print(c.torch_step_ms({net!r}, {args.steps}, {args.epochs}, "
                    f"{args.threads}))")
            res = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True)
            torch_ms[net] = float(res.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as e:
        if "No module named 'torch'" in e.stderr:
            sys.exit("compare_pytorch: PyTorch is not installed: bash cmake/install_deps.sh --bench (python3-torch)")
        raise

    print(f"{args.threads} threads, {args.steps} steps per epoch, mean of {args.epochs} epochs after a warm-up one")
    print(f"{'net':8} {'pytorch ms/step':>16} {'nncl cpu':>10} {'ratio':>7} {'nncl opencl':>12} {'ratio':>7}")
    for net in nets:
        t = torch_ms[net]
        cpu, cl = nncl.get((net, "cpu")), nncl.get((net, "opencl"))
        fmt = lambda v: (f"{v:10.3f}", f"{v / t:7.2f}") if v else (f"{'-':>10}", f"{'-':>7}")
        c1, r1 = fmt(cpu)
        c2, r2 = fmt(cl)
        print(f"{net:8} {t:16.3f} {c1} {r1} {c2:>12} {r2}")
    print("ratio = nncl time / PyTorch time: below 1 is faster than PyTorch")


if __name__ == "__main__":
    main()
