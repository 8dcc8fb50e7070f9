"""Benchmarks of the Numba backend against NumPy, JAX (``jax.jit``) and PyTensor (if installed).

Run: ``.venv/bin/python bench/numba_bench.py [--quick]``. Prints every figure and the ratios
measured in this run. Targets (issue 5) are goals, not assertions:

1. call overhead of ``a + b`` on float64 scalars: <= 2 us by default, <= 1 us with trust_input;
2. ``(x*2 + y) * z - x`` on 10M float64: within 1.3x of the bandwidth floor, >= 3x NumPy;
3. ``exp(-x**2)*sin(x) + log1p(x**2)*0.5`` on 1M and 10M float64: no slower than NumPy,
   within 1.5x of ``jax.jit`` (issue 13 goal 2: libmvec in blocked fused loops);
4. eight-schools log-density + gradient: evaluation time, and compile-to-first-result with an
   empty and with a warm cache (<= 2 s cold, <= 0.2 s warm);
5. ``sum((x - mu)**2)`` on 10M float64: the sum fused into its loop (issue 13 goal 5).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gnomon
import gnomon.tensor as gt

QUICK = "--quick" in sys.argv
N = 1_000_000 if QUICK else 10_000_000


def best(fn: Callable[[], Any], number: int, repeat: int = 5) -> float:
    """Best per-call time in seconds (min over repeats: the least disturbed by other load)."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def fmt(t: float) -> str:
    if t < 1e-3:
        return f"{t * 1e6:8.2f} us"
    if t < 1:
        return f"{t * 1e3:8.2f} ms"
    return f"{t:8.2f} s "


def row(name: str, t: float, ref: float | None = None, ref_name: str = "") -> None:
    ratio = f"   {ref / t:5.2f}x vs {ref_name}" if ref else ""
    print(f"  {name:<44}{fmt(t)}{ratio}")


def _jax() -> Any:
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        return jax
    except ImportError:
        return None


def _pytensor() -> Any:
    try:
        import pytensor

        return pytensor
    except ImportError:
        return None


def bench_overhead() -> None:
    print("1. call overhead of a + b on two float64 scalars")
    a, b = gt.dscalar("a"), gt.dscalar("b")
    f = gnomon.function([a, b], a + b, mode="numba")
    x, y = np.array(1.5), np.array(2.5)
    t_def = best(lambda: f(x, y), 20000)
    t_float = best(lambda: f(1.5, 2.5), 20000)
    f.trust_input = True
    t_trust = best(lambda: f(x, y), 20000)
    fn = gnomon.function([a, b], a + b, mode="numpy")
    t_np_mode = best(lambda: fn(x, y), 20000)
    row("gnomon numba, default (0-d arrays)", t_def)
    row("gnomon numba, default (Python floats)", t_float)
    row("gnomon numba, trust_input", t_trust)
    row("gnomon numpy mode (reference)", t_np_mode)
    row("plain NumPy np.add on 0-d arrays", best(lambda: np.add(x, y), 20000))
    jax = _jax()
    if jax is not None:
        jf = jax.jit(lambda p, q: p + q)
        jx, jy = jax.numpy.asarray(x), jax.numpy.asarray(y)
        t_jax = best(lambda: jf(jx, jy).block_until_ready(), 5000)
        row("jax.jit (x64, device arrays)", t_jax, t_jax, "itself")
        print(f"  -> gnomon default is {t_jax / t_def:.1f}x faster than jax.jit; "
              f"trust_input {t_jax / t_trust:.1f}x")
    pt = _pytensor()
    if pt is not None:
        import pytensor.tensor as ptt

        pa, pb = ptt.dscalar(), ptt.dscalar()
        for mode in ("FAST_RUN", "NUMBA"):
            try:
                pf = pt.function([pa, pb], pa + pb, mode=mode)
            except Exception as e:  # pragma: no cover - optional peer
                print(f"  pytensor {mode}: unavailable ({e})")
                continue
            row(f"pytensor {mode}", best(lambda pf=pf: pf(x, y), 20000))
            pf.trust_input = True
            row(f"pytensor {mode}, trust_input", best(lambda pf=pf: pf(x, y), 20000))
    else:
        print("  (pytensor not installed: skipped)")


def bench_memory_bound() -> None:
    print(f"2. (x*2 + y) * z - x on {N:,} float64 (memory bound)")
    rng = np.random.default_rng(0)
    xv, yv, zv = (rng.random(N) for _ in range(3))
    x, y, z = gt.dvector("x"), gt.dvector("y"), gt.dvector("z")
    f = gnomon.function([x, y, z], (x * 2 + y) * z - x, mode="numba")
    f.trust_input = True
    out = np.empty(N)
    t_copy = best(lambda: np.copyto(out, xv), 3)
    bw = 16 * N / t_copy  # bytes per second: one read + one write per element
    floor = 32 * N / bw   # 3 reads + 1 write
    t_g = best(lambda: f(xv, yv, zv), 3)
    t_np = best(lambda: (xv * 2 + yv) * zv - xv, 3)
    print(f"  stream bandwidth (np.copyto) {bw / 1e9:.1f} GB/s -> floor {fmt(floor)}")
    row("gnomon numba (fused)", t_g)
    row("NumPy", t_np, None)
    print(f"  -> {t_np / t_g:.2f}x faster than NumPy; {t_g / floor:.2f}x the bandwidth floor")
    jax = _jax()
    if jax is not None:
        jf = jax.jit(lambda a, b, c: (a * 2 + b) * c - a)
        ja, jb, jc = (jax.numpy.asarray(v) for v in (xv, yv, zv))
        t_j = best(lambda: jf(ja, jb, jc).block_until_ready(), 3)
        row("jax.jit", t_j)
        print(f"  -> {t_j / t_g:.2f}x faster than jax.jit")


def bench_compute_bound() -> None:
    from gnomon.backends.numba import vmath

    x = gt.dvector("x")
    f = gnomon.function([x], gt.exp(-x ** 2) * gt.sin(x) + gt.log1p(x ** 2) * 0.5,
                        mode=gnomon.Mode("numba", tiered="off"))
    f.trust_input = True
    jax = _jax()
    for n in (1_000_000, 10_000_000):
        print(f"3. exp(-x**2)*sin(x) + log1p(x**2)*0.5 on {n:,} float64 (compute bound; "
              f"libmvec in fused loops: {vmath.available()})")
        xv = np.random.default_rng(1).random(n)
        t_g = best(lambda xv=xv: f(xv), 3)
        t_np = best(lambda xv=xv: np.exp(-xv ** 2) * np.sin(xv) + np.log1p(xv ** 2) * 0.5, 3)
        row("gnomon numba (fused, blocked vector math)", t_g)
        row("NumPy", t_np)
        print(f"  -> {t_np / t_g:.2f}x faster than NumPy (goal: >= 1)")
        if jax is not None:
            jnp = jax.numpy
            jf = jax.jit(lambda a: jnp.exp(-a ** 2) * jnp.sin(a) + jnp.log1p(a ** 2) * 0.5)
            ja = jnp.asarray(xv)
            t_j = best(lambda jf=jf, ja=ja: jf(ja).block_until_ready(), 3)
            row("jax.jit", t_j)
            print(f"  -> {t_g / t_j:.2f}x the time of jax.jit (goal: <= 1.5)")


def bench_fused_reduction() -> None:
    print(f"5. sum((x - mu)**2) on {N:,} float64 (reduction fused into its loop)")
    xv = np.random.default_rng(2).random(N)
    x, mu = gt.dvector("x"), gt.dscalar("mu")
    f = gnomon.function([x, mu], gt.sum((x - mu) ** 2), mode=gnomon.Mode("numba", tiered="off"))
    f.trust_input = True
    m = np.array(0.5)
    fused = len(f.compiled.state.fused_reductions)
    t_g = best(lambda: f(xv, m), 5)
    t_np = best(lambda: np.sum((xv - 0.5) ** 2), 5)
    row(f"gnomon numba ({fused} fused reduction)", t_g)
    row("NumPy (temporary array)", t_np)
    print(f"  -> {t_np / t_g:.2f}x faster than NumPy")
    jax = _jax()
    if jax is not None:
        jnp = jax.numpy
        jf = jax.jit(lambda a, b: jnp.sum((a - b) ** 2))
        ja, jm = jnp.asarray(xv), jnp.asarray(0.5)
        t_j = best(lambda: jf(ja, jm).block_until_ready(), 5)
        row("jax.jit", t_j)
        print(f"  -> {t_j / t_g:.2f}x faster than jax.jit")


EIGHT_SCHOOLS = textwrap.dedent("""
    import time, numpy as np
    t0 = time.perf_counter()
    import gnomon, gnomon.tensor as gt
    t1 = time.perf_counter()
    y_obs = np.array([28., 8., -3., 7., -1., 1., 18., 12.])
    sigma = np.array([15., 10., 16., 11., 9., 11., 10., 18.])
    mu, log_tau = gt.dscalar("mu"), gt.dscalar("log_tau")
    eta = gt.dvector("eta")
    tau = gt.exp(log_tau)
    theta = mu + tau * eta
    def normal_logp(v, m, s):
        return -0.5 * ((v - m) / s) ** 2 - gt.log(s) - 0.5 * np.log(2 * np.pi)
    logp = (gt.sum(normal_logp(mu, 0.0, 5.0)) + normal_logp(log_tau, 0.0, 5.0)
            + gt.sum(normal_logp(eta, 0.0, 1.0))
            + gt.sum(normal_logp(gt.constant(y_obs), theta, gt.constant(sigma))))
    grads = gnomon.grad(logp, [mu, log_tau, eta])
    f = gnomon.function([mu, log_tau, eta], [logp, *grads], mode="{mode}")
    args = (np.array(4.0), np.array(1.2), np.linspace(-1, 1, 8))
    out = f(*args)
    t2 = time.perf_counter()
    import timeit
    f.trust_input = True
    ev = min(timeit.repeat(lambda: f(*args), number=2000, repeat=5)) / 2000
    print(f"{{t1 - t0:.4f}} {{t2 - t1:.4f}} {{ev:.9f}} {{float(out[0]):.10f}}")
""")


def bench_eight_schools() -> None:
    print("4. eight-schools log-density + gradient (compile to first result, evaluation)")
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, GNOMON_CACHE_DIR=d, PYTHONPATH=ROOT)
        res = {}
        for label, mode in (("numba, cold cache", "numba"), ("numba, warm cache", "numba"),
                            ("numpy (reference)", "numpy")):
            out = subprocess.run([sys.executable, "-c", EIGHT_SCHOOLS.format(mode=mode)],
                                 env=env, capture_output=True, text=True, check=True)
            imp, first, ev, val = out.stdout.split()
            res[label] = float(ev)
            print(f"  {label:<22} import {fmt(float(imp))}  compile+first result "
                  f"{fmt(float(first))}  evaluation {fmt(float(ev))}  (logp={val})")
        print(f"  -> evaluation {res['numpy (reference)'] / res['numba, warm cache']:.1f}x "
              "faster than the NumPy reference backend")
    jax = _jax()
    if jax is not None:
        jnp = jax.numpy
        y_obs = jnp.array([28., 8., -3., 7., -1., 1., 18., 12.])
        sigma = jnp.array([15., 10., 16., 11., 9., 11., 10., 18.])

        def logp(mu: Any, log_tau: Any, eta: Any) -> Any:
            def nl(v: Any, m: Any, s: Any) -> Any:
                return -0.5 * ((v - m) / s) ** 2 - jnp.log(s) - 0.5 * np.log(2 * np.pi)
            theta = mu + jnp.exp(log_tau) * eta
            return (nl(mu, 0.0, 5.0) + nl(log_tau, 0.0, 5.0) + jnp.sum(nl(eta, 0.0, 1.0))
                    + jnp.sum(nl(y_obs, theta, sigma)))

        t0 = time.perf_counter()
        jf = jax.jit(jax.value_and_grad(logp, argnums=(0, 1, 2)))
        args = (jnp.asarray(4.0), jnp.asarray(1.2), jnp.linspace(-1, 1, 8))
        jax.block_until_ready(jf(*args))
        t1 = time.perf_counter()
        ev = best(lambda: jax.block_until_ready(jf(*args)), 2000)
        print(f"  {'jax.jit value_and_grad':<22} compile+first result {fmt(t1 - t0)}  "
              f"evaluation {fmt(ev)}")


if __name__ == "__main__":
    print(f"gnomon {gnomon.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs"
          f"{' (quick)' if QUICK else ''}")
    bench_overhead()
    bench_memory_bound()
    bench_compute_bound()
    bench_eight_schools()
    bench_fused_reduction()
