#!/usr/bin/env /usr/bin/python3
"""compare_torch_optim.py: nncl's optimizer updates against torch.optim, 100 steps from the same weights.

    /usr/bin/python3 bench/compare_torch_optim.py [--lib build/src/libnncl.so] [--backend cpu|opencl]

Not run by CI (it needs python3-torch). Both sides minimise the same separable quadratic,
loss = 0.5 sum a (w - t)^2 over 1000 parameters (gradient a (w - t), computed from each side's own current
weights), from the same float32 starting weights, for 100 steps; nncl through its public ops (libnncl.so
via ctypes), PyTorch through torch.optim, with clip_grad_norm_ where clipping is on. It prints the largest
absolute and relative difference of the final weights per optimizer; docs/benchmarks.md records a run.
"""
import argparse
import ctypes as C

import numpy as np
import torch


class Tensor(C.Structure):
    _fields_ = [("buffer", C.c_void_p), ("offset", C.c_size_t), ("rows", C.c_size_t), ("cols", C.c_size_t)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build/src/libnncl.so")
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    lib = C.CDLL(args.lib)
    lib.nncl_tensor_view.restype = Tensor
    lib.nncl_tensor_view.argtypes = [C.c_void_p, C.c_size_t, C.c_size_t, C.c_size_t]
    lib.nncl_last_error.restype = C.c_char_p
    be = C.c_void_p()
    assert lib.nncl_backend_init(args.backend.encode(), C.byref(be)) == 0, lib.nncl_last_error()
    n = 1000
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 2.0, n).astype(np.float32)
    t = rng.uniform(-1, 1, n).astype(np.float32)
    w0 = rng.uniform(-2, 2, n).astype(np.float32)
    F = C.c_float

    def tensor(data):
        buf = C.c_void_p()
        assert lib.nncl_buffer_alloc(be, C.c_size_t(4 * len(data)), C.byref(buf)) == 0
        tt = lib.nncl_tensor_view(buf, 0, 1, len(data))
        arr = np.ascontiguousarray(data, dtype=np.float32)
        assert lib.nncl_tensor_set(C.byref(tt), arr.ctypes.data_as(C.POINTER(F)), C.c_size_t(len(data))) == 0
        return tt

    def get(tt, count):
        out = np.empty(count, dtype=np.float32)
        assert lib.nncl_tensor_get(C.byref(tt), out.ctypes.data_as(C.POINTER(F)), C.c_size_t(count)) == 0
        return out

    # name, torch constructor, nncl step(w, g, s0, s1, ss, step), clip
    cases = [
        ("nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_nesterov_update(be, F(0.05), F(0.9), F(0.01), F(c), C.byref(w),
                                                                    C.byref(g), C.byref(s0), C.byref(ss)), 0.0),
        ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_rmsprop_update(be, F(0.01), F(0.99), F(1e-8), F(0), F(0), F(c),
                                                                   C.byref(w), C.byref(g), C.byref(s0), C.byref(s1),
                                                                   C.byref(ss)), 0.0),
        ("rmsprop momentum 0.9, wd 0.01", lambda p: torch.optim.RMSprop(p, lr=0.001, momentum=0.9, weight_decay=0.01),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_rmsprop_update(be, F(0.001), F(0.99), F(1e-8), F(0.01), F(0.9),
                                                                   F(c), C.byref(w), C.byref(g), C.byref(s0),
                                                                   C.byref(s1), C.byref(ss)), 0.0),
        ("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_adamw_update(be, F(0.01), F(0.9), F(0.999), F(1e-8), F(0.1),
                                                                 C.c_long(k), F(c), C.byref(w), C.byref(g),
                                                                 C.byref(s0), C.byref(s1), C.byref(ss)), 0.0),
        ("adamw, clip-norm 1", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_adamw_update(be, F(0.01), F(0.9), F(0.999), F(1e-8), F(0.1),
                                                                 C.c_long(k), F(c), C.byref(w), C.byref(g),
                                                                 C.byref(s0), C.byref(s1), C.byref(ss)), 1.0),
        ("nesterov, clip-norm 1", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_nesterov_update(be, F(0.05), F(0.9), F(0), F(c), C.byref(w),
                                                                    C.byref(g), C.byref(s0), C.byref(ss)), 1.0),
        # torch.optim.Rprop is Rprop without weight backtracking, which is iRPROP- (its step sizes clamp to
        # step_sizes=(delta_min, delta_max) and start at lr = delta_zero)
        ("irprop", lambda p: torch.optim.Rprop(p, lr=0.1, etas=(0.5, 1.2), step_sizes=(0.0, 50.0)),
         lambda w, g, s0, s1, ss, k, c: lib.nncl_op_irprop_update(be, F(1.2), F(0.5), F(0), F(50), F(0), F(c),
                                                                  C.byref(w), C.byref(g), C.byref(s0), C.byref(s1),
                                                                  C.byref(ss)), 0.0),
    ]
    print(f"| optimizer | max abs diff | max rel diff | max abs w change | after {args.steps} steps on {args.backend} |")
    print("| --- | --- | --- | --- | --- |")
    for name, make, step, clip in cases:
        p = torch.tensor(w0.copy(), requires_grad=True)
        opt = make([p])
        at, tt_ = torch.tensor(a), torch.tensor(t)
        for _ in range(args.steps):
            opt.zero_grad()
            (0.5 * (at * (p - tt_) ** 2).sum()).backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_([p], clip)
            opt.step()
        ref = p.detach().numpy()
        w, g = tensor(w0), tensor(np.zeros(n))
        s0 = tensor(np.zeros(n))
        s1 = tensor(np.full(n, 0.1) if name == "irprop" else np.zeros(n))
        ss = tensor(np.zeros(1))
        for k in range(1, args.steps + 1):
            wc = get(w, n)
            gv = (a * (wc - t)).astype(np.float32)
            assert lib.nncl_tensor_set(C.byref(g), gv.ctypes.data_as(C.POINTER(F)), C.c_size_t(n)) == 0
            if clip > 0:
                assert lib.nncl_op_sumsq(be, C.byref(g), C.byref(ss)) == 0
            st = step(w, g, s0, s1, ss, k, clip)
            assert st == 0, lib.nncl_last_error()
        got = get(w, n)
        d = np.abs(got - ref)
        print(f"| {name} | {d.max():.3g} | {(d / np.maximum(np.abs(ref), 1e-3)).max():.3g} | "
              f"{np.abs(ref - w0).max():.3g} | |")


if __name__ == "__main__":
    main()
