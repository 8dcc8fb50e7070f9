"""Benchmark: a 1,000-step RNN-like scan (and its gradient) in gnomon's modes vs PyTensor.

Run: ``.venv/bin/python bench/scan_bench.py [--quick]``. Prints the time of one call of the
forward pass (all hidden states) and of the gradient of the last state's sum with respect to
the weights, for

* a plain NumPy loop (the floor for per-step Python overhead),
* gnomon ``mode='numpy'`` (the reference: a Python loop calling the compiled body),
* gnomon ``mode='numba'`` (the loop is compiled: one ``@njit`` kernel calling the body),
* gnomon ``mode='jax'`` (``jax.lax.scan`` under ``jax.jit``),
* PyTensor's ``scan`` in its default mode, when PyTensor can be imported. To use a copy that is
  not installed in this environment, point ``PYTENSOR_PATH`` at a directory holding it
  (``pip install --target DIR pytensor``); it is appended to ``sys.path``, so this
  environment's NumPy / Numba stay in use.

Ratios are against the NumPy loop (> 1 means faster). Never part of the test run.
"""

from __future__ import annotations

import os
import sys
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
STEPS, N_IN, N_HID = (200 if QUICK else 1000), 16, 32


def best(fn: Callable[[], Any], number: int = 3, repeat: int = 3) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def fmt(t: float) -> str:
    return f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.2f} ms"


def row(name: str, t: float, ref: float | None, compile_s: float | None = None) -> None:
    ratio = f"  {ref / t:7.2f}x vs NumPy loop" if ref else ""
    comp = f"   (first call {compile_s:6.2f} s)" if compile_s is not None else ""
    print(f"  {name:<34}{fmt(t)}{ratio}{comp}")


def data() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((STEPS, N_IN)), 0.3 * rng.standard_normal((N_IN, N_HID)),
            0.3 * rng.standard_normal((N_HID, N_HID)), np.zeros(N_HID)]


def numpy_loop(X: np.ndarray, W: np.ndarray, U: np.ndarray, h0: np.ndarray) -> np.ndarray:
    h, out = h0, np.empty((len(X), len(h0)))
    for t in range(len(X)):
        h = np.tanh(X[t] @ W + h @ U)
        out[t] = h
    return out


def gnomon_graph() -> tuple[list[Any], Any, list[Any]]:
    X, W, U, h0 = gt.dmatrix("X"), gt.dmatrix("W"), gt.dmatrix("U"), gt.dvector("h0")
    hs, _ = gnomon.scan(lambda x, h, W, U: gt.tanh(gt.dot(x, W) + gt.dot(h, U)),
                        sequences=[X], outputs_info=[h0], non_sequences=[W, U])
    grads = gnomon.grad(gt.sum(hs[-1]), [W, U])
    return [X, W, U, h0], hs, grads


def pytensor_fns() -> tuple[Any, Any] | None:
    extra = os.environ.get("PYTENSOR_PATH")
    if extra:
        sys.path.append(extra)
    try:
        import pytensor
        import pytensor.tensor as pt
    except Exception as e:  # any import failure means "not available"
        print(f"  PyTensor: not available ({type(e).__name__}: {e})")
        return None
    X, W, U, h0 = pt.dmatrix("X"), pt.dmatrix("W"), pt.dmatrix("U"), pt.dvector("h0")
    hs = pytensor.scan(lambda x, h, W, U: pt.tanh(pt.dot(x, W) + pt.dot(h, U)),
                       sequences=[X], outputs_info=[h0], non_sequences=[W, U],
                       return_updates=False)
    grads = pytensor.grad(hs[-1].sum(), [W, U])
    return (pytensor.function([X, W, U, h0], hs),
            pytensor.function([X, W, U, h0], grads))


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")
    vals = data()
    print(f"RNN scan: {STEPS} steps, {N_IN} inputs, {N_HID} hidden units (float64)")
    ref = numpy_loop(*vals)
    t_np = best(lambda: numpy_loop(*vals))
    print("forward (all hidden states)")
    row("NumPy loop", t_np, None)
    ins, hs, grads = gnomon_graph()
    timings: dict[str, float] = {}
    for mode in ("numpy", "numba", "jax"):
        t0 = time.perf_counter()
        f = gnomon.function(ins, hs, mode=mode)
        out = np.asarray(f(*vals))
        comp = time.perf_counter() - t0
        np.testing.assert_allclose(out, ref, rtol=1e-8, atol=1e-10)
        # np.asarray waits for JAX's asynchronous result (a no-op for NumPy arrays)
        timings[mode] = best(lambda f=f: np.asarray(f(*vals)))
        row(f"gnomon mode={mode}", timings[mode], t_np, comp)
    pt_fns = pytensor_fns()
    if pt_fns is not None:
        np.testing.assert_allclose(pt_fns[0](*vals), ref, rtol=1e-8, atol=1e-10)
        row("PyTensor scan (default mode)", best(lambda: pt_fns[0](*vals)), t_np)
    print("gradient of sum(h[-1]) wrt W, U (reverse scan)")
    g_ref = None
    for mode in ("numpy", "numba", "jax"):
        t0 = time.perf_counter()
        fg = gnomon.function(ins, grads, mode=mode)
        got = [np.asarray(g) for g in fg(*vals)]
        comp = time.perf_counter() - t0
        if g_ref is None:
            g_ref = got
        for a, b in zip(got, g_ref, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
        row(f"gnomon mode={mode}", best(lambda fg=fg: [np.asarray(g) for g in fg(*vals)]),
            None, comp)
    if pt_fns is not None:
        got = pt_fns[1](*vals)
        for a, b in zip(got, g_ref or [], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
        row("PyTensor scan (default mode)", best(lambda: pt_fns[1](*vals)), None)


if __name__ == "__main__":
    main()
