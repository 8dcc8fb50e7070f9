"""Linear algebra on single (non-batched) float32/float64 matrices with Numba's ``np.linalg``
(LAPACK): ``Cholesky``, ``MatrixInverse``, ``Det``, ``SLogDet``, ``Solve``.

Batched inputs, complex or integer dtypes and the other ops of ``gnomon/tensor/linalg.py`` run
with the NumPy/SciPy ``perform`` (see ``docs/backends.md``). A LAPACK failure (a singular or
non-positive-definite matrix) raises in the compiled code and is re-run on the reference
backend, so the error is the reference's.
"""

from __future__ import annotations

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.backends.numba.scalar import ctor
from gnomon.errors import NotLoweredError

_OK = ("float32", "float64")


def _check(node, nd_out: tuple[int, ...] | None = None) -> str:  # type: ignore[no-untyped-def]
    a = node.inputs[0]
    dt = node.outputs[0].dtype
    if a.ndim != 2 or a.dtype != dt or dt not in _OK:
        raise NotLoweredError("batched or non-float linear algebra")
    return dt


def _register() -> None:
    import importlib

    tl = importlib.import_module("gnomon.tensor.linalg")
    sq = ("    if a.shape[0] != a.shape[1]:\n"
          "        raise ValueError('the matrix is not square')\n")

    if hasattr(tl, "Cholesky"):
        @numba_funcify.register(tl.Cholesky)
        def _(op, node):  # type: ignore[no-untyped-def]
            dt = _check(node)
            return ("def kernel(a):\n" + sq +
                    f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
                    "    return (np.linalg.cholesky(np.ascontiguousarray(a)),)\n")

    if hasattr(tl, "MatrixInverse"):
        @numba_funcify.register(tl.MatrixInverse)
        def _(op, node):  # type: ignore[no-untyped-def]
            dt = _check(node)
            return ("def kernel(a):\n" + sq +
                    f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
                    "    return (np.linalg.inv(np.ascontiguousarray(a)),)\n")

    if hasattr(tl, "Det"):
        @numba_funcify.register(tl.Det)
        def _(op, node):  # type: ignore[no-untyped-def]
            t = ctor(_check(node))
            return ("def kernel(a):\n" + sq +
                    f"    out = np.empty((), {t})\n"
                    f"    out[()] = {t}(1) if a.shape[0] == 0 else "
                    f"{t}(np.linalg.det(np.ascontiguousarray(a)))\n"
                    "    return (out,)\n")

    if hasattr(tl, "SLogDet"):
        @numba_funcify.register(tl.SLogDet)
        def _(op, node):  # type: ignore[no-untyped-def]
            t = ctor(_check(node))
            return ("def kernel(a):\n" + sq +
                    f"    s = np.empty((), {t})\n    ld = np.empty((), {t})\n"
                    "    if a.shape[0] == 0:\n"
                    f"        s[()] = {t}(1)\n        ld[()] = {t}(0)\n"
                    "    else:\n"
                    "        r = np.linalg.slogdet(np.ascontiguousarray(a))\n"
                    f"        s[()] = {t}(r[0])\n        ld[()] = {t}(r[1])\n"
                    "    return (s, ld)\n")

    if hasattr(tl, "Solve"):
        @numba_funcify.register(tl.Solve)
        def _(op, node):  # type: ignore[no-untyped-def]
            dt = _check(node)
            b = node.inputs[1]
            if b.dtype != dt or b.ndim not in (1, 2) or type(op).__name__ != "Solve" or any(
                    getattr(op, f, None) not in (None, False, "gen") for f in
                    ("assume_a", "lower", "transposed")):
                raise NotLoweredError("solve with options, batches or mixed dtypes")
            return ("def kernel(a, b):\n" + sq +
                    "    if a.shape[0] != b.shape[0]:\n"
                    "        raise ValueError('solve: a and b do not match')\n"
                    "    if a.shape[0] == 0:\n        return (b.copy(),)\n"
                    "    return (np.linalg.solve(np.ascontiguousarray(a), "
                    "np.ascontiguousarray(b)),)\n")


_register()
