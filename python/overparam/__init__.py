"""overparam: the kernels, training dynamics and claim checks of the overparam workspace, from NumPy.

The convergence theory of over-parameterised two-layer ReLU networks (Du, Zhai, Poczos, Singh,
ICLR 2019), computed by the project's Rust crates. Arrays go in and come out as NumPy float64;
the mathematics of every function is in the repository's docs/theory.md.

Long calls (``train``, ``check``) release the GIL and can be interrupted with Ctrl-C, which raises
KeyboardInterrupt within about 0.1 s. Bad input raises ValueError with a one-line message.
"""

import json as _json

import numpy as _np

from . import _native

__all__ = [
    "h_infinity",
    "g_infinity",
    "lambda0",
    "gram_h",
    "gram_g",
    "init",
    "train",
    "check",
    "claims",
]


def _real(name, value):
    # NumPy would drop the imaginary part with only a ComplexWarning: refuse it instead.
    if _np.iscomplexobj(value):
        raise ValueError(f"{name} is complex: give real numbers (float64)")
    return _np.ascontiguousarray(value, dtype=_np.float64)


def _matrix(name, value):
    arr = _real(name, value)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    return arr


def _vector(name, value):
    arr = _real(name, value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


# Fields of a claim's configuration that are counts, and those that are real numbers: checked
# here so that a bad value is named by its argument, not by the JSON decoder's line and column.
_COUNT_FIELDS = ("n", "d", "seeds", "master_seed", "iterations", "bisection_steps", "audit_every")
_REAL_FIELDS = ("delta", "confidence", "horizon", "step", "c_eta", "bound_scale")


def _checked_config(config):
    import math
    import numbers

    for key, value in config.items():
        if key in _COUNT_FIELDS or key == "widths":
            values = value if key == "widths" else [value]
            if key == "widths" and not isinstance(value, (list, tuple)):
                raise ValueError(f"widths must be a list of positive integers, got {value!r}")
            for v in values:
                if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                    raise ValueError(f"{key} must be a non-negative integer, got {v!r}")
        elif key in _REAL_FIELDS:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"{key} must be a finite real number, got {value!r}")
    return {k: (list(v) if k == "widths" else v) for k, v in config.items()}


def h_infinity(X, normalise=False):
    """H∞ (n × n) of the rows of X: H∞_ij = c (π − θ) / (2π), c = x_iᵀx_j, θ = arccos c.

    Rows must have unit norm (or pass normalise=True) and no two may be parallel.
    """
    return _native.h_infinity(_matrix("X", X), normalise)


def g_infinity(X, normalise=False):
    """G∞ (n × n) of the rows of X: G∞_ij = (sin θ + (π − θ) c) / (2π)."""
    return _native.g_infinity(_matrix("X", X), normalise)


def lambda0(X, normalise=False):
    """λ0 = λmin(H∞) of the rows of X."""
    return _native.lambda0(_matrix("X", X), normalise)


def gram_h(X, W, a):
    """H(W) (n × n) at finite width m: (1/m) x_iᵀx_j Σ_r a_r² 1{w_rᵀx_i ≥ 0} 1{w_rᵀx_j ≥ 0}.

    X is n × d with unit rows, W is m × d, a has m entries.
    """
    return _native.gram_h(_matrix("X", X), _matrix("W", W), _vector("a", a))


def gram_g(X, W, a):
    """G(W) (n × n) at finite width m: (1/m) Σ_r σ(w_rᵀx_i) σ(w_rᵀx_j) (a is checked against W)."""
    return _native.gram_g(_matrix("X", X), _matrix("W", W), _vector("a", a))


def init(n_width, d, seed=0):
    """The project's seeded initialisation: W (n_width × d) with w_r ~ N(0, I_d), a with a_r ~ unif{−1, +1}."""
    return _native.init(int(n_width), int(d), int(seed))


def train(
    X,
    y,
    W=None,
    a=None,
    method="gd",
    *,
    width=1000,
    seed=0,
    eta=None,
    iterations=100,
    horizon=5.0,
    step=0.01,
    every=1,
    lambda_min=False,
    normalise=False,
):
    """Train the network f(W, a, x) = m^{-1/2} Σ_r a_r σ(w_rᵀx) on (X, y) and return its trajectory.

    method: "gd" (first layer, step eta; default the theorem's λ0/n²), "flow" (gradient flow of the
    first layer, RK4 with step `step` up to `horizon`), "both-flow", "both-gd" (both layers; eta
    defaults to 0.01). Without W and a, a seeded init of width `width` is used. `every` records
    every k-th iteration (GD) or 50·every samples (flows); lambda_min=True also records λmin(H).

    Returns a dict of float64 arrays "step", "t", "loss", "residual_sq", "bound_ratio",
    "lambda_min" (NaN where not recorded), "pattern_change_fraction", "distance"
    (max_r ‖w_r − w_r(0)‖), plus "eta" and "status" (how the run ended).
    """
    if (W is None) != (a is None):
        raise ValueError("give both W and a, or neither (then width and seed initialise the network)")
    return _native.train(
        _matrix("X", X),
        _vector("y", y),
        None if W is None else _matrix("W", W),
        None if a is None else _vector("a", a),
        method,
        int(width),
        int(seed),
        None if eta is None else float(eta),
        int(iterations),
        float(horizon),
        float(step),
        int(every),
        bool(lambda_min),
        bool(normalise),
    )


def check(claim, profile="quick", **config):
    """Check one claim ("lem-2.2", "Lem 2.2", …, "thm-3.1") by Monte Carlo and return its result.

    The configuration starts from the profile's ("tiny", "quick" or "paper") for that claim; keyword
    arguments override its fields (n, d, data, widths, delta, seeds, master_seed, confidence,
    horizon, step, c_eta, iterations, bisection_steps, …). The result is the claim's entry of the
    results JSON, as plain dicts and lists.
    """
    config = _checked_config(config)
    return _json.loads(_native.check_json(str(claim), str(profile), _json.dumps(config, allow_nan=False)))


def claims():
    """The claims `check` knows, as (key, slide number, paper number, title) tuples."""
    return _native.claims()
