"""Elements per second of gnomon's special functions (gnomon/tensor/special.py) in every
available mode against SciPy on NumPy arrays and ``jax.jit`` of ``jax.scipy.special``; prints
figures and ratios, asserts nothing.

Each case evaluates one function on ``--n`` float64 elements (1M by default); results are
NumPy arrays (JAX's are waited for and copied back). Candidates are
timed round-robin, best round kept, so load from other processes affects them alike. The first
call (compilation) is not timed. The parameter derivatives (``gammainc_der_a``,
``betainc_der_a``) have no SciPy counterpart: their reference is gnomon's own NumPy mode
(``gnomon/scalar/special_numpy.py``), run on ``n / 10`` elements and scaled.

Run: ``.venv/bin/python bench/special_bench.py [--n 1000000] [--rounds 3] [--quick] [--only a,b]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

import gnomon
import gnomon.tensor as gt
from gnomon.testing import available_modes


def cases(rng: np.random.Generator, n: int) -> dict[str, tuple[Any, Any, list[np.ndarray], str]]:
    """name -> (gnomon function of tensors, SciPy function, inputs, jax.scipy name or '')."""
    x = rng.normal(0, 3, n)
    a = rng.uniform(0.5, 20, n)
    pos = rng.uniform(0.01, 30, n)
    p = rng.uniform(0, 1, n)
    return {
        "log_ndtr": (gt.log_ndtr, sp.log_ndtr, [x], "log_ndtr"),
        "ndtri": (gt.ndtri, sp.ndtri, [p], "ndtri"),
        "gammainc": (gt.gammainc, sp.gammainc, [a, pos], "gammainc"),
        "betainc": (gt.betainc, sp.betainc, [a, a[::-1].copy(), p], "betainc"),
        "gammaincinv": (gt.gammaincinv, sp.gammaincinv, [a, p], ""),
        "i0e": (gt.i0e, sp.i0e, [x], "i0e"),
        "xlogy": (gt.xlogy, sp.xlogy, [a, pos], "xlogy"),
        "gammainc_der_a": (gt.gammainc_der_a, None, [a, pos], ""),
        "betainc_der_a": (gt.betainc_der_a, None, [a, a[::-1].copy(), p], ""),
    }


def best(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    out = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            out[k] = min(out[k], time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--quick", action="store_true", help="100k elements")
    args = ap.parse_args()
    n = 100_000 if args.quick else args.n
    rng = np.random.default_rng(0)
    modes = [m for m in available_modes() if m != "numpy"]
    try:
        import jax
        import jax.scipy.special as jss
        jax.config.update("jax_enable_x64", True)
    except ImportError:  # pragma: no cover - JAX is a bench dependency
        jss = None
    for name, (fn, ref, inputs, jname) in cases(rng, n).items():
        if args.only and name not in args.only.split(","):
            continue
        xs = [gt.dvector(f"x{k}") for k in range(len(inputs))]
        fns: dict[str, Callable[[], Any]] = {}
        scale: dict[str, float] = {}
        for m in modes:
            f = gnomon.function(xs, fn(*xs), mode=m)
            f(*inputs)
            # np.asarray waits for JAX's asynchronous result (and copies it to NumPy, as a
            # caller of a gnomon function would use it)
            fns[m] = lambda f=f: np.asarray(f(*inputs))
        if ref is not None:
            fns["scipy"] = lambda: ref(*inputs)
        else:
            small = [v[: n // 10] for v in inputs]
            f = gnomon.function(xs, fn(*xs), mode="numpy")
            fns["numpy mode (n/10)"] = lambda f=f: f(*small)
            scale["numpy mode (n/10)"] = 10.0
        if jss is not None and jname:
            jf = jax.jit(getattr(jss, jname))
            ji = [jax.numpy.asarray(v) for v in inputs]
            jf(*ji).block_until_ready()
            fns["jax.jit"] = lambda jf=jf, ji=ji: np.asarray(jf(*ji))
        times = {k: v * scale.get(k, 1.0) for k, v in best(fns, args.rounds).items()}
        base = times.get("scipy", times.get("numpy mode (n/10)"))
        print(f"{name} (n={n:.0e})")
        for k, t in times.items():
            print(f"  {k:>20}: {t * 1e3:9.2f} ms  {n / t / 1e6:8.2f} M/s  "
                  f"{base / t:6.2f}x vs {'scipy' if ref is not None else 'numpy mode'}")


if __name__ == "__main__":
    main()
