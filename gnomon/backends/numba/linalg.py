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
from gnomon.graph.basic import Apply
from gnomon.tensor.linalg import Cholesky, Det, MatrixInverse, SLogDet, Solve

_OK = ("float32", "float64")


def _check(node: Apply) -> str:
    a = node.inputs[0]
    dt = node.outputs[0].dtype
    if a.ndim != 2 or a.dtype != dt or dt not in _OK:
        raise NotLoweredError("batched or non-float linear algebra")
    return dt


_SQUARE = ("    if a.shape[0] != a.shape[1]:\n"
           "        raise ValueError('the matrix is not square')\n")


@numba_funcify.register(Cholesky)
def _(op: Cholesky, node: Apply) -> str:
    dt = _check(node)
    return ("def kernel(a):\n" + _SQUARE +
            f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
            "    return (np.linalg.cholesky(np.ascontiguousarray(a)),)\n")


@numba_funcify.register(MatrixInverse)
def _(op: MatrixInverse, node: Apply) -> str:
    dt = _check(node)
    return ("def kernel(a):\n" + _SQUARE +
            f"    if a.shape[0] == 0:\n        return (np.empty((0, 0), {ctor(dt)}),)\n"
            "    return (np.linalg.inv(np.ascontiguousarray(a)),)\n")


@numba_funcify.register(Det)
def _(op: Det, node: Apply) -> str:
    t = ctor(_check(node))
    return ("def kernel(a):\n" + _SQUARE +
            f"    out = np.empty((), {t})\n"
            f"    out[()] = {t}(1) if a.shape[0] == 0 else "
            f"{t}(np.linalg.det(np.ascontiguousarray(a)))\n"
            "    return (out,)\n")


@numba_funcify.register(SLogDet)
def _(op: SLogDet, node: Apply) -> str:
    t = ctor(_check(node))
    return ("def kernel(a):\n" + _SQUARE +
            f"    s = np.empty((), {t})\n    ld = np.empty((), {t})\n"
            "    if a.shape[0] == 0:\n"
            f"        s[()] = {t}(1)\n        ld[()] = {t}(0)\n"
            "    else:\n"
            "        r = np.linalg.slogdet(np.ascontiguousarray(a))\n"
            f"        s[()] = {t}(r[0])\n        ld[()] = {t}(r[1])\n"
            "    return (s, ld)\n")


@numba_funcify.register(Solve)
def _(op: Solve, node: Apply) -> str:
    dt = _check(node)
    b = node.inputs[1]
    if b.dtype != dt or b.ndim not in (1, 2):
        raise NotLoweredError("solve with options, batches or mixed dtypes")
    return ("def kernel(a, b):\n" + _SQUARE +
            "    if a.shape[0] != b.shape[0]:\n"
            "        raise ValueError('solve: a and b do not match')\n"
            "    if a.shape[0] == 0:\n        return (b.copy(),)\n"
            "    return (np.linalg.solve(np.ascontiguousarray(a), "
            "np.ascontiguousarray(b)),)\n")
