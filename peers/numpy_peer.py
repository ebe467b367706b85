#!/usr/bin/env python3
"""NumPy peer of the Rust workspace for `cargo xtask bench-peers`: the same computations, timed.

Tasks (all f64, inputs from .npy files written by the Rust harness, one JSON object on stdout):

- ``gd``: plain first-layer gradient descent, W <- W - eta * dL/dW with Z = X W^T and
  dL/dW = D^T X, D = (r a^T / sqrt(m)) * 1{Z >= 0} (docs/theory.md §1.1): two GEMMs per step.
- ``gd-diag``: the same step plus, at every iterate, the Fig. 1 diagnostics: H(k) = K * (S S^T) / m,
  lambda_min(H(k)), the pattern-change fraction against k = 0 and max_r ||w_r(k) - w_r(0)||.
- ``flow``: the first-layer gradient flow dW/dt = -dL/dW with plain classical RK4 at step h
  (four evaluations of Z = X W^T, D and D^T X per step), no error estimate; the loss at every grid
  point and the final u.
- ``lem22``: the Monte Carlo of slide Lem 2.2 (paper Lem 3.1): per seed W(0) ~ N(0, I), H(0), then
  ||H(0) - H_inf||_2, max_ij |H(0) - H_inf| and lambda_min(H(0)); timed as seeds per second.
  ``lem22-given`` evaluates the same statistics for the W(0) the harness wrote (agreement check).

The code is what a NumPy user writes for these formulas; nothing is tuned for the benchmark.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_cli  # noqa: E402


def blas_info():
    try:
        from threadpoolctl import threadpool_info

        return [
            {k: i.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
            for i in threadpool_info()
        ]
    except Exception as e:  # threadpoolctl missing: say so, do not fail
        return [{"error": str(e)}]


def h_infinity(K):
    c = np.clip(K, -1.0, 1.0)
    h = c * (np.pi - np.arccos(c)) / (2.0 * np.pi)
    np.fill_diagonal(h, 0.5)
    return h


def gd(inputs, steps, eta, diagnostics):
    X, y, W, a = (np.load(os.path.join(inputs, f)) for f in ("X.npy", "y.npy", "W0.npy", "a.npy"))
    W = np.array(W, order="C")
    W0 = W.copy()
    n, m = X.shape[0], W.shape[0]
    sm = np.sqrt(m)
    K = X @ X.T
    S0 = X @ W0.T >= 0
    losses, lmins, fracs, dists, times = [], [], [], [], []
    for k in range(steps + 1):
        t = time.perf_counter()
        Z = X @ W.T
        u = np.maximum(Z, 0.0) @ a / sm
        r = u - y
        losses.append(0.5 * float(r @ r))
        S = Z >= 0
        if diagnostics:
            Sf = S.astype(np.float64)
            H = K * (Sf @ Sf.T) / m
            lmins.append(float(np.linalg.eigvalsh(H)[0]))
            fracs.append(float(np.mean(S != S0)))
            dists.append(float(np.sqrt(((W - W0) ** 2).sum(axis=1)).max()))
        if k == steps:
            break
        D = S * (r[:, None] * a[None, :] / sm)
        G = D.T @ X
        W -= eta * G
        times.append(time.perf_counter() - t)
    out = {"losses": losses, "step_seconds": times}
    if diagnostics:
        out.update({"lambda_min_h": lmins, "pattern_change_fraction": fracs, "max_weight_distance": dists})
    return out


def flow(inputs, steps, h):
    X, y, W, a = (np.load(os.path.join(inputs, f)) for f in ("X.npy", "y.npy", "W0.npy", "a.npy"))
    W = np.array(W, order="C")
    sm = np.sqrt(W.shape[0])

    def field(W):
        Z = X @ W.T
        u = np.maximum(Z, 0.0) @ a / sm
        r = u - y
        D = (Z >= 0) * (r[:, None] * a[None, :] / sm)
        return -(D.T @ X), r

    losses, times = [], []
    for k in range(steps):
        t = time.perf_counter()
        k1, r = field(W)
        losses.append(0.5 * float(r @ r))
        k2, _ = field(W + 0.5 * h * k1)
        k3, _ = field(W + 0.5 * h * k2)
        k4, _ = field(W + h * k3)
        W = W + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        times.append(time.perf_counter() - t)
    u = np.maximum(X @ W.T, 0.0) @ a / sm
    r = u - y
    losses.append(0.5 * float(r @ r))
    return {"losses": losses, "u": u.tolist(), "step_seconds": times}


def lem22_stats(X, K, hinf, W):
    m = W.shape[0]
    Z = X @ W.T
    S = (Z >= 0).astype(np.float64)
    H = K * (S @ S.T) / m
    diff = H - hinf
    ev = np.linalg.eigvalsh(diff)
    spectral = max(abs(ev[0]), abs(ev[-1]))
    entry_max = np.abs(diff).max()
    lmin = np.linalg.eigvalsh(H)[0]
    return float(spectral), float(entry_max), float(lmin)


def lem22(inputs, m, seeds, master_seed):
    X = np.load(os.path.join(inputs, "X_mc.npy"))
    d = X.shape[1]
    K = X @ X.T
    hinf = h_infinity(K)
    spectral, entry, lmin, times = [], [], [], []
    for trial in range(seeds):
        t = time.perf_counter()
        rng = np.random.default_rng([master_seed, trial])
        W = rng.standard_normal((m, d))
        a = rng.integers(0, 2, m) * 2.0 - 1.0  # drawn as the project draws it; |a_r| = 1 leaves H unchanged
        del a
        s, e, l = lem22_stats(X, K, hinf, W)
        times.append(time.perf_counter() - t)
        spectral.append(s)
        entry.append(e)
        lmin.append(l)
    return {"spectral": spectral, "entry_max": entry, "lambda_min": lmin, "seed_seconds": times}


def lem22_given(inputs):
    X = np.load(os.path.join(inputs, "X_mc.npy"))
    W = np.load(os.path.join(inputs, "W_mc.npy"))
    K = X @ X.T
    s, e, l = lem22_stats(X, K, h_infinity(K), W)
    return {"spectral": s, "entry_max": e, "lambda_min": l}


def main():
    tasks = {
        "gd": lambda a: gd(a.inputs, a.steps, a.eta, diagnostics=False),
        "gd-diag": lambda a: gd(a.inputs, a.steps, a.eta, diagnostics=True),
        "flow": lambda a: flow(a.inputs, a.steps, a.h),
        "lem22": lambda a: lem22(a.inputs, a.m, a.seeds, a.master_seed),
        "lem22-given": lambda a: lem22_given(a.inputs),
    }
    peer_cli.main(__doc__, tasks, lambda: {"peer": "numpy " + np.__version__, "blas": blas_info()}, rk4_step=True)


if __name__ == "__main__":
    main()
