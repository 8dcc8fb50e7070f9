"""Benchmark of the JAX backend (``mode="jax"``); prints figures and ratios, asserts nothing.

1. Call overhead: a tiny function compiled by gnomon with ``mode="jax"`` against the same
   computation written directly with ``jax.jit`` (float64 and float32; NumPy and JAX inputs).
2. A larger elementwise workload: ``mode="jax"`` against ``mode="numpy"`` (the reference) and
   ``mode="numba"`` when that backend is available, and against plain ``jax.jit``.

Candidates are timed round-robin and the best round is kept, so load from other processes
affects them alike.

Run: ``.venv/bin/python bench/jax_overhead.py [--n 1000000] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.backends.jax.linker import x64_context
from gnomon.testing import available_modes


def _calls_for(fn: Callable[[], Any], budget: float) -> int:
    """How many calls of ``fn`` take about ``budget`` seconds."""
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            jax.block_until_ready(fn())
        if time.perf_counter() - t > budget or n >= 1 << 20:
            return n
        n *= 2


def timings(fns: dict[str, Callable[[], Any]], rounds: int, budget: float) -> dict[str, float]:
    """Best seconds per call of each function, timed round-robin over ``rounds`` rounds."""
    for fn in fns.values():
        jax.block_until_ready(fn())  # compile / warm up
    counts = {k: _calls_for(fn, budget) for k, fn in fns.items()}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            for _ in range(counts[k]):
                jax.block_until_ready(fn())
            best[k] = min(best[k], (time.perf_counter() - t) / counts[k])
    return best


def fmt(s: float) -> str:
    return f"{s * 1e6:9.1f} us" if s < 1e-2 else f"{s * 1e3:9.2f} ms"


def overhead(rounds: int) -> None:
    print("== call overhead: f(x, y) = x * 2.0 + y on vectors of length 8 ==")
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], x * 2.0 + y, mode="jax")
    ft = gnomon.function([x, y], x * 2.0 + y, mode="jax")
    ft.trust_input = True  # skips the input checks: the caller vouches for the values
    x32, y32 = gt.fvector("x"), gt.fvector("y")
    f32 = gnomon.function([x32, y32], x32 * 2.0 + y32, mode="jax")
    plain = jax.jit(lambda a, b: a * 2.0 + b)
    xn, yn = np.arange(8.0), np.ones(8)
    with x64_context():
        xj, yj = jnp.asarray(xn), jnp.asarray(yn)
    xj32, yj32 = jnp.arange(8.0, dtype="float32"), jnp.ones(8, dtype="float32")

    def plain64(a: Any, b: Any) -> Any:
        with x64_context():  # what plain JAX needs for float64 without global x64
            return plain(a, b)

    t = timings({
        "plain jit f64, NumPy in": lambda: plain64(xn, yn),
        "plain jit f64, JAX in": lambda: plain64(xj, yj),
        "gnomon f64, NumPy in": lambda: f(xn, yn),
        "gnomon f64, JAX in": lambda: f(xj, yj),
        "gnomon f64, JAX in, trust_input": lambda: ft(xj, yj),
        "plain jit f32, JAX in": lambda: plain(xj32, yj32),
        "gnomon f32, JAX in": lambda: f32(xj32, yj32),
    }, rounds, budget=0.05)
    ref = {"NumPy in": "plain jit f64, NumPy in", "f64, JAX": "plain jit f64, JAX in",
           "f32": "plain jit f32, JAX in"}
    for k, v in t.items():
        base = next(ref[r] for r in ref if r in k)
        ratio = "" if k.startswith("plain") else f"   {v / t[base]:5.2f}x plain jax.jit"
        print(f"  {k:34s} {fmt(v)}{ratio}")


def elementwise(n: int, rounds: int) -> None:
    print(f"== elementwise: exp(x) * sin(y) + x ** 2 / (1 + y ** 2), float64, n = {n:,} ==")
    x, y = gt.dvector("x"), gt.dvector("y")
    expr = gt.exp(x) * gt.sin(y) + x ** 2 / (1 + y ** 2)
    rng = np.random.default_rng(0)
    xn, yn = rng.standard_normal(n), rng.standard_normal(n)
    with x64_context():
        xj, yj = jnp.asarray(xn), jnp.asarray(yn)
    plain = jax.jit(lambda a, b: jnp.exp(a) * jnp.sin(b) + a ** 2 / (1 + b ** 2))

    def plain64() -> Any:
        with x64_context():
            return plain(xj, yj)

    fns: dict[str, Callable[[], Any]] = {}
    for mode in ["numpy", *[m for m in available_modes() if m != "numpy"]]:
        f = gnomon.function([x, y], expr, mode=mode)
        fns[f"mode={mode!r}, NumPy in"] = lambda f=f: f(xn, yn)
    fj = gnomon.function([x, y], expr, mode="jax")
    fns["mode='jax', JAX in"] = lambda: fj(xj, yj)
    fns["plain jax.jit, JAX in"] = plain64
    t = timings(fns, rounds, budget=0.2)
    ref = t["mode='numpy', NumPy in"]
    for k, v in t.items():
        print(f"  {k:34s} {fmt(v)}   {ref / v:5.2f}x faster than numpy")
    if "mode='numba', NumPy in" in t:
        r = t["mode='numba', NumPy in"] / t["mode='jax', NumPy in"]
        print(f"  mode='jax' vs mode='numba' (NumPy inputs): {r:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="length of the elementwise arrays")
    p.add_argument("--rounds", type=int, default=7)
    a = p.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; backends: {available_modes()}")
    overhead(a.rounds)
    elementwise(a.n, a.rounds)


if __name__ == "__main__":
    main()
