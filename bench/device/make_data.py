#!/usr/bin/env python3
"""make_data.py: a synthetic safetensors data file (docs/formats.md section 4) for `nncl check` on a net
whose inputs no packaged data set has, such as the large net 1024-4096-4096-1024-10 of bench_train.

    python3 make_data.py OUT.safetensors --rows N --inputs D --classes K [--seed S]

x is float32 (N, D), uniform in [0, 1); y is uint8 labels (N), row i of class i mod K, so every class
appears. Standard library only: the device machine reaches no package registry.
"""
import argparse
import json
import random
import struct
import sys
from array import array


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--inputs", type=int, required=True)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.rows < 1 or a.inputs < 1 or not 2 <= a.classes <= 256:
        sys.exit("make_data: --rows and --inputs must be at least 1, --classes 2 to 256")
    rng = random.Random(a.seed)
    x = array("f", (rng.random() for _ in range(a.rows * a.inputs)))
    if sys.byteorder != "little":
        x.byteswap()
    y = bytes(i % a.classes for i in range(a.rows))
    nx = len(x) * 4
    header = {"x": {"dtype": "F32", "shape": [a.rows, a.inputs], "data_offsets": [0, nx]},
              "y": {"dtype": "U8", "shape": [a.rows], "data_offsets": [nx, nx + len(y)]}}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)  # the data starts 8-byte aligned
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        x.tofile(f)
        f.write(y)


if __name__ == "__main__":
    main()
