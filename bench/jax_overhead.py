"""Benchmark of the JAX backend (``mode="jax"``); prints figures and ratios, asserts nothing.

1. Call overhead: a tiny function compiled by gnomon with ``mode="jax"`` against the same
   computation written directly with ``jax.jit`` (both in float64, NumPy and JAX inputs).
2. A larger elementwise workload: ``mode="jax"`` against ``mode="numpy"`` (the reference) and
   ``mode="numba"`` when that backend is available.

Run: ``.venv/bin/python bench/jax_overhead.py [--n 1000000] [--repeat 5]``
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
from gnomon.testing import available_modes


def per_call(fn: Callable[[], Any], *, min_time: float = 0.3, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call of ``fn`` (blocking until JAX results are ready)."""
    jax.block_until_ready(fn())  # compile / warm up
    n = 1
    while True:  # calls per timing so that one timing lasts about min_time / repeat
        t = time.perf_counter()
        for _ in range(n):
            jax.block_until_ready(fn())
        dt = time.perf_counter() - t
        if dt > min_time / repeat or n > 1_000_000:
            break
        n *= 4
    best = dt / n
    for _ in range(repeat - 1):
        t = time.perf_counter()
        for _ in range(n):
            jax.block_until_ready(fn())
        best = min(best, (time.perf_counter() - t) / n)
    return best


def fmt(s: float) -> str:
    return f"{s * 1e6:9.1f} us" if s < 1e-2 else f"{s * 1e3:9.2f} ms"


def overhead(repeat: int) -> None:
    print("== call overhead: f(x, y) = x * 2.0 + y, float64 vectors of length 8 ==")
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], x * 2.0 + y, mode="jax")
    xn, yn = np.arange(8.0), np.ones(8)
    plain = jax.jit(lambda a, b: a * 2.0 + b)
    with jax.enable_x64(True):
        xj, yj = jnp.asarray(xn), jnp.asarray(yn)

        def plain_np() -> Any:
            return plain(xn, yn)

        def plain_jax() -> Any:
            return plain(xj, yj)

        t_plain_np = per_call(plain_np, repeat=repeat)
        t_plain_jax = per_call(plain_jax, repeat=repeat)
    t_np = per_call(lambda: f(xn, yn), repeat=repeat)
    t_jax = per_call(lambda: f(xj, yj), repeat=repeat)
    f.trust_input = True  # skip the input checks (the caller vouches for the values)
    t_trust = per_call(lambda: f(xj, yj), repeat=repeat)
    f.trust_input = False
    print(f"  plain jax.jit, NumPy inputs      {fmt(t_plain_np)}")
    print(f"  plain jax.jit, JAX inputs        {fmt(t_plain_jax)}")
    print(f"  gnomon mode='jax', NumPy inputs  {fmt(t_np)}   ratio {t_np / t_plain_np:5.2f}x")
    print(f"  gnomon mode='jax', JAX inputs    {fmt(t_jax)}   ratio {t_jax / t_plain_jax:5.2f}x")
    print(f"  ... with f.trust_input = True    {fmt(t_trust)}   ratio "
          f"{t_trust / t_plain_jax:5.2f}x")
    # float32: no 64-bit value, so gnomon does not switch JAX's x64 flag around the call.
    x32, y32 = gt.fvector("x"), gt.fvector("y")
    f32 = gnomon.function([x32, y32], x32 * 2.0 + y32, mode="jax")
    xj32, yj32 = jnp.arange(8.0, dtype="float32"), jnp.ones(8, dtype="float32")
    t_p32 = per_call(lambda: plain(xj32, yj32), repeat=repeat)
    t_g32 = per_call(lambda: f32(xj32, yj32), repeat=repeat)
    print(f"  float32: plain jax.jit           {fmt(t_p32)}")
    print(f"  float32: gnomon mode='jax'       {fmt(t_g32)}   ratio {t_g32 / t_p32:5.2f}x")


def elementwise(n: int, repeat: int) -> None:
    print(f"== elementwise workload: exp(x) * sin(y) + x ** 2 / (1 + y ** 2), n = {n:,} ==")
    x, y = gt.dvector("x"), gt.dvector("y")
    expr = gt.exp(x) * gt.sin(y) + x ** 2 / (1 + y ** 2)
    rng = np.random.default_rng(0)
    xn, yn = rng.standard_normal(n), rng.standard_normal(n)
    times: dict[str, float] = {}
    for mode in ["numpy", *[m for m in available_modes() if m != "numpy"]]:
        f = gnomon.function([x, y], expr, mode=mode)
        times[mode] = per_call(lambda f=f: f(xn, yn), repeat=repeat, min_time=1.0)
    with jax.enable_x64(True):
        xj, yj = jnp.asarray(xn), jnp.asarray(yn)
        fj = gnomon.function([x, y], expr, mode="jax")
        times["jax (JAX inputs)"] = per_call(lambda: fj(xj, yj), repeat=repeat, min_time=1.0)
        plain = jax.jit(lambda a, b: jnp.exp(a) * jnp.sin(b) + a ** 2 / (1 + b ** 2))
        times["plain jax.jit (JAX inputs)"] = per_call(lambda: plain(xj, yj), repeat=repeat,
                                                       min_time=1.0)
    ref = times["numpy"]
    for k, t in times.items():
        print(f"  {k:28s} {fmt(t)}   speed-up vs numpy {ref / t:6.2f}x")
    if "numba" in times:
        print(f"  jax vs numba: {times['numba'] / times['jax']:.2f}x faster (NumPy inputs)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="length of the elementwise arrays")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; backends: {available_modes()}")
    overhead(a.repeat)
    elementwise(a.n, a.repeat)


if __name__ == "__main__":
    main()
