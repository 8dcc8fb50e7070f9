"""Scalar ops as Numba source snippets: ``scalar_source(op, args, in_dtypes, out_dtypes)``.

Each lowering returns a Python expression (a string) that computes the op on scalar values
named by ``args`` inside an ``@njit`` kernel. Strings rather than functions, because fused
elementwise loops inline whole expression trees into one loop body, and because generated
sources are what Numba can cache on disk.

Where NumPy has a ufunc for the op and Numba implements it, the snippet calls that ufunc
(``np.add(a, b)``): Numba resolves ufunc loops with NumPy's own type rules, so results have the
dtypes and the edge-case behaviour (integer division by zero, ``mod`` signs) of the reference.
A scalar op without a lowering raises :class:`NotImplementedError`; the Elemwise node holding it
then runs in Python with the op's NumPy ``perform`` (see ``docs/backends.md``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from gnomon.scalar import basic as sb


def ctor(dtype: str) -> str:
    """The Numba-callable constructor of a dtype (``'np.float64'``, ``'np.bool_'``)."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


@functools.cache
def _numba_ufuncs() -> frozenset[str]:
    from numba.np.ufunc_db import get_ufuncs

    return frozenset(u.__name__ for u in get_ufuncs())


def _special_table() -> dict[object, str]:
    # scipy.special ufuncs that Python's math module (which Numba compiles) also has.
    table: dict[object, str] = {}
    try:
        import scipy.special as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        return table
    for name, expr in (("erf", "math.erf({0})"), ("erfc", "math.erfc({0})"),
                       ("gamma", "math.gamma({0})"), ("gammaln", "math.lgamma({0})"),
                       ("expit", "_expit({0})"), ("log_expit", "_log_expit({0})")):
        if hasattr(sp, name):
            table[getattr(sp, name)] = expr
    return table


_SPECIAL = None


def literal(value: object, dtype: str) -> str | None:
    """A Numba expression for a scalar constant of ``dtype`` (None if there is none)."""
    v = np.asarray(value).item()
    if dtype == "bool":
        return "True" if v else "False"
    if np.dtype(dtype).kind in "iu":
        return f"{ctor(dtype)}({int(v)})"
    if np.dtype(dtype).kind == "f" and dtype != "float16":
        v = float(v)
        if math.isnan(v):
            text = "np.nan"
        elif math.isinf(v):
            text = "np.inf" if v > 0 else "-np.inf"
        else:
            text = repr(v)
        return f"{ctor(dtype)}({text})"
    return None


@functools.singledispatch
def scalar_source(
    op: sb.ScalarOp, args: Sequence[str], in_dtypes: Sequence[str], out_dtypes: Sequence[str]
) -> str:
    """Numba expression computing ``op`` on the scalars named ``args``.

    The default handles every op whose ``impl`` is a NumPy ufunc that Numba supports, and the
    scipy.special functions that exist in Python's ``math`` module.
    """
    global _SPECIAL
    impl = getattr(op, "impl", None)
    if isinstance(impl, np.ufunc) and impl.__name__ in _numba_ufuncs() and op.nout == 1:
        return f"np.{impl.__name__}({', '.join(args)})"
    if _SPECIAL is None:
        _SPECIAL = _special_table()
    try:
        expr = _SPECIAL.get(impl)
    except TypeError:  # unhashable impl
        expr = None
    if expr is not None and op.nout == 1:
        return expr.format(*args)
    raise NotImplementedError(f"no Numba lowering for the scalar op {op}")


def _chain(fn: str, args: Sequence[str]) -> str:
    out = args[0]
    for a in args[1:]:
        out = f"{fn}({out}, {a})"
    return out


@scalar_source.register
def _(op: sb.Add, args, in_dtypes, out_dtypes):  # type: ignore[no-untyped-def]
    return _chain("np.add", args) if len(args) > 1 else f"{ctor(out_dtypes[0])}({args[0]})"


@scalar_source.register
def _(op: sb.Mul, args, in_dtypes, out_dtypes):  # type: ignore[no-untyped-def]
    return _chain("np.multiply", args) if len(args) > 1 else f"{ctor(out_dtypes[0])}({args[0]})"


@scalar_source.register
def _(op: sb.Identity, args, in_dtypes, out_dtypes):  # type: ignore[no-untyped-def]
    return args[0]


@scalar_source.register
def _(op: sb.Cast, args, in_dtypes, out_dtypes):  # type: ignore[no-untyped-def]
    (x,), (src,), dst = args, in_dtypes, op.dtype
    if np.dtype(src).kind == "c" and np.dtype(dst).kind != "c":
        x = f"({x}).real"  # NumPy drops the imaginary part
    if dst == "bool":
        return f"({x} != 0)"
    return f"{ctor(dst)}({x})"


@scalar_source.register
def _(op: sb.Switch, args, in_dtypes, out_dtypes):  # type: ignore[no-untyped-def]
    c, a, b = args
    t = ctor(out_dtypes[0])
    return f"({t}({a}) if {c} else {t}({b}))"


# Helpers some snippets call; defined in every generated kernel module (see elemwise.py).
HELPERS = '''
@numba.njit(inline="always", error_model="numpy")
def _expit(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@numba.njit(inline="always", error_model="numpy")
def _log_expit(x):
    if x >= 0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))
'''
