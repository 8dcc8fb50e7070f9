"""Scalar ops as Numba source snippets: ``scalar_source(op, args, in_dtypes, out_dtypes)``.

Each lowering returns a Python expression (a string) that computes the op on scalar values
named by ``args`` inside an ``@njit`` kernel. Strings rather than functions, because fused
elementwise loops inline whole expression trees into one loop body, and because generated
sources are what Numba can cache on disk.

Where NumPy has a ufunc for the op and Numba implements it, the snippet calls that ufunc
(``np.add(a, b)``): Numba resolves ufunc loops with NumPy's own type rules, so results have the
dtypes and the edge-case behaviour (integer division by zero, ``mod`` signs) of the reference.
A scalar op without a lowering raises ``NotLoweredError``; the Elemwise node holding it
then runs in Python with the op's NumPy ``perform`` (see ``docs/backends.md``).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.special as sp

from gnomon.errors import NotLoweredError
from gnomon.scalar import basic as sb
from gnomon.scalar import math as sm


def ctor(dtype: str) -> str:
    """The Numba-callable constructor of a dtype (``'np.float64'``, ``'np.bool_'``)."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


@functools.cache
def _numba_ufuncs() -> frozenset[str]:
    from numba.np.ufunc_db import get_ufuncs

    return frozenset(u.__name__ for u in get_ufuncs())


# scipy.special ufuncs that Python's math module (which Numba compiles) also has.
_SPECIAL: dict[object, str] = {
    sp.erf: "math.erf({0})", sp.erfc: "math.erfc({0})", sp.gamma: "math.gamma({0})",
    sp.gammaln: "math.lgamma({0})", sp.expit: "_expit({0})", sp.log_expit: "_log_expit({0})",
}


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
    impl = op.impl
    if isinstance(impl, np.ufunc) and impl.__name__ in _numba_ufuncs() and op.nout == 1:
        return ufunc_call(impl, args, in_dtypes)
    try:
        expr = _SPECIAL.get(impl)
    except TypeError:  # unhashable impl
        expr = None
    if expr is not None and op.nout == 1:
        return expr.format(*args)
    raise NotLoweredError(f"no Numba lowering for the scalar op {op}")


def has_scalar_lowering(cls: type) -> bool:
    """Whether the scalar op class ``cls`` has a Numba expression: its own registration, or an
    ``impl`` that is a ufunc Numba supports or a scipy.special function of :data:`_SPECIAL`."""
    if scalar_source.dispatch(cls) is not scalar_source.dispatch(sb.ScalarOp):
        return True
    impl = inspect.getattr_static(cls, "impl", None)
    impl = getattr(impl, "__func__", impl)  # a staticmethod's function
    if isinstance(impl, np.ufunc) and impl.__name__ in _numba_ufuncs():
        return True
    try:
        return impl in _SPECIAL
    except TypeError:  # unhashable impl
        return False


def loop_dtypes(ufunc: np.ufunc, in_dtypes: Sequence[str]) -> tuple[str, ...]:
    """The dtypes of the inner loop NumPy picks for ``ufunc`` on these input dtypes (inputs,
    then outputs)."""
    return _loop_dtypes(ufunc, tuple(in_dtypes))


@functools.lru_cache(maxsize=4096)
def _loop_dtypes(ufunc: np.ufunc, in_dtypes: tuple[str, ...]) -> tuple[str, ...]:
    # memoized: called for every statement of every loop (a 10,000-step chain: 80,000 times)
    dts = ufunc.resolve_dtypes(tuple(np.dtype(d) for d in in_dtypes) + (None,) * ufunc.nout)
    return tuple(d.name for d in dts)


def ufunc_call(ufunc: np.ufunc, args: Sequence[str], in_dtypes: Sequence[str]) -> str:
    """``np.<ufunc>(args)`` computed in the dtype of NumPy's loop for ``in_dtypes``.

    Numba promotes scalar arguments by its own rules (``int64 + float32`` runs in float32
    there, in float64 in NumPy), so arguments whose dtype differs from NumPy's loop are cast
    first. Signed integer floor division and remainder by -1 are spelled out: the hardware
    instruction traps on ``INT_MIN // -1`` (SIGFPE kills the process), where NumPy wraps.
    """
    loop = loop_dtypes(ufunc, in_dtypes)
    if "float16" in loop:
        raise NotLoweredError("Numba has no float16 arithmetic")
    cast = [a if d == ld else f"{ctor(ld)}({a})"
            for a, d, ld in zip(args, in_dtypes, loop, strict=False)]
    name = ufunc.__name__
    kind = np.dtype(loop[0]).kind
    if name == "sign" and kind == "u":
        # Numba's sign of an unsigned integer wraps -1 for values >= 2**(bits-1)
        return f"({ctor(loop[0])}(1) if {cast[0]} > 0 else {ctor(loop[0])}(0))"
    if name == "power" and kind in "iu":
        # NumPy: an error for negative exponents, otherwise powers modulo 2**bits
        t = ctor(loop[0])
        return f"_ipow({cast[0]}, {cast[1]}, {t}(0), {t}(1), {t}(2))"
    if name in ("floor_divide", "remainder") and kind == "i":
        a, b = cast
        t = ctor(loop[0])
        if name == "floor_divide":
            # x // -1 == -x, wrapping at INT_MIN as NumPy does
            return f"({t}({t}(0) - {a}) if {b} == -1 else np.floor_divide({a}, {b}))"
        return f"({t}(0) if {b} == -1 else np.remainder({a}, {b}))"
    return f"np.{name}({', '.join(cast)})"


def _fold(ufunc: np.ufunc, args: Sequence[str], in_dtypes: Sequence[str]) -> str:
    """A variadic op as nested binary calls, each in NumPy's loop dtype (as the reference's
    pairwise fold computes it)."""
    out, dt = args[0], in_dtypes[0]
    for a, d in zip(args[1:], in_dtypes[1:], strict=True):
        out = ufunc_call(ufunc, [out, a], [dt, d])
        dt = loop_dtypes(ufunc, [dt, d])[-1]
    return out


@scalar_source.register
def _(op: sb.Add, args, in_dtypes, out_dtypes):
    if len(args) == 1:
        return f"{ctor(out_dtypes[0])}({args[0]})"
    return _fold(np.add, args, in_dtypes)


@scalar_source.register
def _(op: sb.Mul, args, in_dtypes, out_dtypes):
    if len(args) == 1:
        return f"{ctor(out_dtypes[0])}({args[0]})"
    return _fold(np.multiply, args, in_dtypes)


@scalar_source.register
def _(op: sb.Identity, args, in_dtypes, out_dtypes):
    return args[0]


@scalar_source.register
def _(op: sb.Cast, args, in_dtypes, out_dtypes):
    (x,), (src,), dst = args, in_dtypes, op.dtype
    if dst == "bool":
        return f"({x} != 0)"  # a complex number is true when either part is non-zero
    if np.dtype(src).kind == "c" and np.dtype(dst).kind != "c":
        x = f"({x}).real"  # NumPy drops the imaginary part
    return f"{ctor(dst)}({x})"


@scalar_source.register
def _(op: sb.Switch, args, in_dtypes, out_dtypes):
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
def _ipow(a, b, zero, one, two):
    # integer power by squaring; products wrap modulo 2**bits as NumPy's do
    if b < zero:
        raise ValueError("Integers to negative integer powers are not allowed.")
    r = one
    while b > zero:
        if b % two == one:
            r = r * a
        a = a * a
        b = b // two
    return r


@numba.njit(inline="always", error_model="numpy")
def _log_expit(x):
    if x >= 0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))
'''


ScalarLowering = Callable[[Any, Sequence[str], Sequence[str], Sequence[str]], str]


def _real_only(fn: ScalarLowering) -> ScalarLowering:
    def checked(op: Any, args: Sequence[str], in_dtypes: Sequence[str],
                out_dtypes: Sequence[str]) -> str:
        if any(np.dtype(d).kind == "c" for d in in_dtypes):
            raise NotLoweredError(f"{op} of complex numbers")
        return fn(op, args, in_dtypes, out_dtypes)
    return checked


scalar_source.register(sm.Softplus)(_real_only(
    lambda op, a, i, o: f"np.logaddexp({ctor(o[0])}(0), {a[0]})"))
scalar_source.register(sm.Log1mexp)(_real_only(lambda op, a, i, o: (
    f"(np.log(-np.expm1({a[0]})) if {a[0]} > -0.6931471805599453 "
    f"else np.log1p(-np.exp({a[0]})))")))
scalar_source.register(sm.Logit)(_real_only(
    lambda op, a, i, o: f"np.log({a[0]} / (1.0 - {a[0]}))"))
scalar_source.register(sm.Clip)(_real_only(
    lambda op, a, i, o: f"np.minimum(np.maximum({a[0]}, {a[1]}), {a[2]})"))


@scalar_source.register(sm.Round)
def _round(op: sm.Round, a: Sequence[str], i: Sequence[str], o: Sequence[str]) -> str:
    if np.dtype(i[0]).kind != "f":
        raise NotLoweredError("round of non-float input")
    d = op.decimals
    if d == 0:
        return f"np.rint({a[0]})"
    # NumPy: rint(x * 10**d) / 10**d, or rint(x / 10**-d) * 10**-d for d < 0
    t = ctor(o[0])
    if d > 0:
        return f"(np.rint({a[0]} * {t}({10.0 ** d!r})) / {t}({10.0 ** d!r}))"
    return f"(np.rint({a[0]} / {t}({10.0 ** -d!r})) * {t}({10.0 ** -d!r}))"


def _part(attr: str) -> ScalarLowering:
    def f(op: Any, a: Sequence[str], i: Sequence[str], o: Sequence[str]) -> str:
        if np.dtype(i[0]).kind == "c":
            return f"({a[0]}).{attr}"
        return a[0] if attr == "real" else f"{ctor(o[0])}(0)"
    return f


scalar_source.register(sm.Real)(_part("real"))
scalar_source.register(sm.Imag)(_part("imag"))
scalar_source.register(sm.Angle)(lambda op, a, i, o: (
    f"math.atan2(({a[0]}).imag, ({a[0]}).real)" if np.dtype(i[0]).kind == "c"
    else f"math.atan2(0.0, {ctor('float64')}({a[0]}))"))
scalar_source.register(sm.Digamma)(_real_only(lambda op, a, i, o: f"_digamma({a[0]})"))
# Polygamma (every order) is lowered in backends/numba/special.py with SciPy's kernels.


HELPERS += '''

@numba.njit(inline="always", error_model="numpy")
def _digamma(x):
    # reflection for x < 0.5, recurrence up to x >= 6, then the asymptotic series
    x = float(x)
    if np.isnan(x) or x == -np.inf:
        return np.nan
    if x == 0.0:  # the pole at 0: -inf from the right, +inf from the left (as SciPy)
        return np.inf if math.copysign(1.0, x) < 0 else -np.inf
    if x < 0.0 and math.floor(x) == x:
        return np.nan
    res = 0.0
    if x < 0.5:
        res = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 6.0:
        res -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
    return res + math.log(x) - 0.5 / x + t
'''
