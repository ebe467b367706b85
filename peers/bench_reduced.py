"""Seconds and peak memory per seed of the reduced solver (docs/theory.md §5) at m = 10⁷, 10⁸, 10⁹, n = 3.

Runs the release `xtask train` (build it first: `cargo build --release -p xtask`) on n = d = 3
correlated inputs (x_i unit vectors with x_1ᵀx_2 = 0.4, x_1ᵀx_3 = 0.2, x_2ᵀx_3 = 0.1) and small
labels, first-layer GD at the theorem's step η = λ0/n², under /usr/bin/time -v (wall time and peak
resident memory). For each width it times a run of one iteration (the first pass over the stream,
which samples the d·m normals of W(0), and one step) and a run of ITERATIONS iterations: the
difference is the dynamics, and the status line says how many passes the longer run made. At the
largest width both solvers can hold in memory it also runs the full solver (W stored) on the same
init, for the ratio. Standard library only (no NumPy needed): the `.npy` files are written by hand.

    python3 peers/bench_reduced.py [--markdown docs/reduced-performance.md]
"""

import argparse
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

ITERATIONS = 300
WIDTHS = [10**7, 10**8, 10**9]
FULL_WIDTH = 10**7


def write_npy(path, values, shape):
    """A little-endian float64 `.npy` (format 1.0) of `values` in C order."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (str(tuple(shape)),)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%dd" % len(values), *values))


def inputs(folder):
    """X (3 × 3, unit rows with the stated correlations, by Cholesky of the Gram matrix) and y."""
    k = [[1.0, 0.4, 0.2], [0.4, 1.0, 0.1], [0.2, 0.1, 1.0]]
    l = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(i + 1):
            s = k[i][j] - sum(l[i][p] * l[j][p] for p in range(j))
            l[i][j] = math.sqrt(s) if i == j else s / l[j][j]
    x, y = os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy")
    write_npy(x, [v for row in l for v in row], (3, 3))
    write_npy(y, [0.1, -0.1, 0.05], (3,))
    return x, y


def run(xtask, x, y, folder, width, iterations, solver):
    """(wall seconds, peak RSS in MiB, the status line) of one `train` run."""
    out = os.path.join(folder, "run.json")
    cmd = ["/usr/bin/time", "-v", xtask, "train", "--x", x, "--y", y, "--method", "gd", "--solver", solver,
           "--width", str(width), "--iterations", str(iterations), "--every", str(iterations), "--out", out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("train failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    text = p.stdout + p.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", text).group(1)
    parts = [float(v) for v in wall.split(":")]
    seconds = sum(v * 60 ** (len(parts) - 1 - i) for i, v in enumerate(parts))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    status = next((line.strip() for line in text.splitlines() if line.strip().startswith(("completed", "diverged"))), "")
    status = status.split("; ")[0]  # drop where the samples went (a temporary file)
    return seconds, rss, status


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xtask", default="target/release/xtask")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-reduced-")
    x, y = inputs(folder)
    lines = [
        "# Reduced solver: seconds and memory per seed",
        "",
        "Produced by `python3 peers/bench_reduced.py --markdown docs/reduced-performance.md` (one run,",
        "release build): first-layer GD of `cargo xtask train --solver reduced` on n = d = 3 correlated",
        "inputs, η = λ0/n², wall time and peak resident memory by `/usr/bin/time -v`. *Sampling* is the",
        "run of one iteration (the first pass over the stream draws the d·m normals of W(0)); *dynamics*",
        "is the rest of the %d-iteration run (its extra budget passes included: see the status)." % ITERATIONS,
        "Storing W would take 8·m·(12d + 6n) bytes (the full solver's estimate).",
        "",
        "| m | solver | 1 iteration (s) | %d iterations (s) | dynamics (s) | peak RSS | W stored would need | status |" % ITERATIONS,
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = []
    for width in WIDTHS:
        for solver in (["full", "reduced"] if width == FULL_WIDTH else ["reduced"]):
            one, _, _ = run(args.xtask, x, y, folder, width, 1, solver)
            many, rss, status = run(args.xtask, x, y, folder, width, ITERATIONS, solver)
            rows.append((width, solver, one, many))
            stored = 8 * width * (12 * 3 + 6 * 3) / 2**30
            line = "| %.0e | %s | %.2f | %.2f | %.2f | %.0f MiB | %.1f GiB | %s |" % (
                width, solver, one, many, many - one, rss, stored, status)
            print(line, flush=True)
            lines.append(line)
    full = [r for r in rows if r[1] == "full"]
    red = [r for r in rows if r[1] == "reduced" and r[0] == FULL_WIDTH]
    if full and red:
        lines += ["", "At m = %.0e the reduced solver took %.3g× the full solver's time (%d iterations, one run each)."
                  % (FULL_WIDTH, red[0][3] / full[0][3], ITERATIONS)]
    big = [r for r in rows if r[1] == "reduced" and r[0] == WIDTHS[-1]]
    if big:
        lines += ["At m = %.0e the first pass drew %.3g normals per second (d·m = %.0e normals in %.1f s, one iteration included)."
                  % (WIDTHS[-1], 3 * WIDTHS[-1] / big[0][2], 3 * WIDTHS[-1], big[0][2])]
    if args.markdown:
        with open(args.markdown + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(args.markdown + ".tmp", args.markdown)
    print("\n".join(lines[-2:]))


if __name__ == "__main__":
    main()
