#!/usr/bin/env python3
"""JAX peer of the Rust workspace for `cargo xtask bench-peers`: the NumPy peer's computations, jit-compiled by XLA on the CPU.

Same tasks, inputs and output as ``numpy_peer.py`` (see there); f64 throughout
(``jax_enable_x64``). Each jitted function is compiled and run once before timing, and every
timed call ends with ``block_until_ready``.
"""
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_cli  # noqa: E402


def h_infinity(K):
    c = jnp.clip(K, -1.0, 1.0)
    h = c * (jnp.pi - jnp.arccos(c)) / (2.0 * jnp.pi)
    return h.at[jnp.diag_indices(K.shape[0])].set(0.5)


def make_gd(X, y, a, eta, W0, S0, K, diagnostics):
    m = W0.shape[0]
    sm = jnp.sqrt(m)

    def step(W):
        Z = X @ W.T
        u = jnp.maximum(Z, 0.0) @ a / sm
        r = u - y
        loss = 0.5 * (r @ r)
        S = Z >= 0
        D = S * (r[:, None] * a[None, :] / sm)
        W_next = W - eta * (D.T @ X)
        if not diagnostics:
            return W_next, loss
        Sf = S.astype(jnp.float64)
        H = K * (Sf @ Sf.T) / m
        lmin = jnp.linalg.eigvalsh(H)[0]
        frac = jnp.mean(S != S0, dtype=jnp.float64)
        dist = jnp.sqrt(((W - W0) ** 2).sum(axis=1)).max()
        return W_next, loss, lmin, frac, dist

    return jax.jit(step)


def gd(inputs, steps, eta, diagnostics):
    X, y, W0, a = (jnp.asarray(np.load(os.path.join(inputs, f))) for f in ("X.npy", "y.npy", "W0.npy", "a.npy"))
    K = X @ X.T
    S0 = (X @ W0.T) >= 0
    step = make_gd(X, y, a, eta, W0, S0, K, diagnostics)
    jax.block_until_ready(step(W0))  # compile
    W = W0
    rows, times = [], []
    for k in range(steps + 1):
        t = time.perf_counter()
        res = jax.block_until_ready(step(W))
        if k < steps:
            times.append(time.perf_counter() - t)
        W = res[0]
        rows.append([float(v) for v in res[1:]])
    out = {"losses": [r[0] for r in rows], "step_seconds": times}
    if diagnostics:
        out.update(
            {
                "lambda_min_h": [r[1] for r in rows],
                "pattern_change_fraction": [r[2] for r in rows],
                "max_weight_distance": [r[3] for r in rows],
            }
        )
    return out


def lem22(inputs, m, seeds, master_seed):
    X = jnp.asarray(np.load(os.path.join(inputs, "X_mc.npy")))
    d = X.shape[1]
    K = X @ X.T
    hinf = h_infinity(K)

    @jax.jit
    def seed_stats(key):
        kw, ka = jax.random.split(key)
        W = jax.random.normal(kw, (m, d), dtype=jnp.float64)
        _a = jax.random.rademacher(ka, (m,), dtype=jnp.float64)  # |a_r| = 1 leaves H unchanged
        Z = X @ W.T
        S = (Z >= 0).astype(jnp.float64)
        H = K * (S @ S.T) / m
        diff = H - hinf
        ev = jnp.linalg.eigvalsh(diff)
        return jnp.maximum(jnp.abs(ev[0]), jnp.abs(ev[-1])), jnp.abs(diff).max(), jnp.linalg.eigvalsh(H)[0]

    base = jax.random.key(master_seed)
    jax.block_until_ready(seed_stats(jax.random.fold_in(base, 10**6)))  # compile
    spectral, entry, lmin, times = [], [], [], []
    for trial in range(seeds):
        t = time.perf_counter()
        s, e, l = jax.block_until_ready(seed_stats(jax.random.fold_in(base, trial)))
        times.append(time.perf_counter() - t)
        spectral.append(float(s))
        entry.append(float(e))
        lmin.append(float(l))
    return {"spectral": spectral, "entry_max": entry, "lambda_min": lmin, "seed_seconds": times}


def main():
    tasks = {
        "gd": lambda a: gd(a.inputs, a.steps, a.eta, diagnostics=False),
        "gd-diag": lambda a: gd(a.inputs, a.steps, a.eta, diagnostics=True),
        "lem22": lambda a: lem22(a.inputs, a.m, a.seeds, a.master_seed),
    }
    peer_cli.main(
        __doc__, tasks, lambda: {"peer": "jax " + jax.__version__, "devices": [str(d) for d in jax.devices()]}
    )


if __name__ == "__main__":
    main()
