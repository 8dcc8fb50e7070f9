"""Scalar ops as C expressions: ``c_scalar(op, args, in_dtypes, out_dtypes)``.

Each lowering returns a C expression over the scalar values named ``args``. Arithmetic follows
NumPy: arguments are first cast to the dtype of the inner loop NumPy's ufunc would pick for
these input dtypes (``ufunc.resolve_dtypes``), so ``int32 + float32`` computes in float64 as in
the reference; signed overflow wraps (the code is compiled with ``-fwrapv``); integer division
and remainder by zero give 0; float ``//`` and ``%`` follow NumPy's ``divmod``; ``maximum`` and
``minimum`` propagate NaN. float32 loops call the ``f`` variants of ``math.h``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from gnomon.backends.c.dispatch import ctype
from gnomon.errors import NotLoweredError
from gnomon.scalar import basic as sb
from gnomon.scalar import math as sm


def literal(value: object, dtype: str) -> str:
    """A C expression for a scalar constant of ``dtype``."""
    v = np.asarray(value).item()
    t = ctype(dtype)
    kind = np.dtype(dtype).kind
    if kind == "b":
        return "((gn_bool)1)" if v else "((gn_bool)0)"
    if kind == "i":
        v = int(v)
        if v == -(2 ** 63):
            return "((int64_t)(-9223372036854775807LL - 1))"
        return f"(({t}){v}LL)"
    if kind == "u":
        return f"(({t}){int(v)}ULL)"
    v = float(v)
    if math.isnan(v):
        text = "NAN"
    elif math.isinf(v):
        text = "INFINITY" if v > 0 else "(-INFINITY)"
    else:
        text = repr(v) if dtype == "float64" else repr(float(np.float32(v)))
        if "e" not in text and "." not in text:
            text += ".0"
    return f"(({t}){text})"


def _sfx(dtype: str) -> str:
    return "f" if dtype == "float32" else ""


def loop_dtypes(ufunc: np.ufunc, in_dtypes: Sequence[str]) -> tuple[str, ...]:
    """The dtypes of NumPy's inner loop of ``ufunc`` for these inputs (inputs, then outputs)."""
    dts = ufunc.resolve_dtypes(tuple(np.dtype(d) for d in in_dtypes) + (None,) * ufunc.nout)
    return tuple(d.name for d in dts)


# ufunc name -> template over (cast args, loop dtype); the result is in the loop's output dtype
_F = Callable[[Sequence[str], str], str]


def _math1(fn: str) -> _F:
    def f(a: Sequence[str], d: str) -> str:
        if np.dtype(d).kind != "f":
            raise NotLoweredError(f"{fn} of {d}")
        return f"{fn}{_sfx(d)}({a[0]})"
    return f


def _infix(opr: str) -> _F:
    return lambda a, d: f"({a[0]} {opr} {a[1]})"


def _divmod(name: str, float_fn: str, int_fn: str) -> _F:
    """``floor_divide`` / ``remainder`` with NumPy's float ``divmod`` and integer rules (the
    runtime's ``gn_floordiv*`` and ``gn_mod_*`` / ``gn_fmod_floor*``)."""
    def f(a: Sequence[str], d: str) -> str:
        k = np.dtype(d).kind
        if k == "f":
            return f"{float_fn}{_sfx(d)}({a[0]}, {a[1]})"
        if k in "iu":
            return f"{int_fn}_{k}{np.dtype(d).itemsize * 8}({a[0]}, {a[1]})"
        raise NotLoweredError(f"{name} of {d}")
    return f


def _power(a: Sequence[str], d: str) -> str:
    if np.dtype(d).kind != "f":
        raise NotLoweredError("integer power (NumPy raises for negative exponents)")
    return f"pow{_sfx(d)}({a[0]}, {a[1]})"


def _by_kind(f: str, i: str, other: str) -> _F:
    """A unary op whose C text depends on the kind of the loop dtype: templates over ``{a}``
    (the argument), ``{s}`` (the float32 suffix) and ``{t}`` (the C type)."""
    def lower(a: Sequence[str], d: str) -> str:
        tmpl = {"f": f, "i": i}.get(np.dtype(d).kind, other)
        return tmpl.format(a=a[0], s=_sfx(d), t=ctype(d))
    return lower


def _maxmin(which: str) -> _F:
    def f(a: Sequence[str], d: str) -> str:
        if np.dtype(d).kind == "f":
            return f"gn_{which}{_sfx(d)}({a[0]}, {a[1]})"
        cmp = ">=" if which == "max" else "<="
        return f"({a[0]} {cmp} {a[1]} ? {a[0]} : {a[1]})"
    return f


def _add(a: Sequence[str], d: str) -> str:
    return f"({a[0]} || {a[1]})" if d == "bool" else f"({a[0]} + {a[1]})"


def _mul(a: Sequence[str], d: str) -> str:
    return f"({a[0]} && {a[1]})" if d == "bool" else f"({a[0]} * {a[1]})"


def _pred(fn: str, int_value: str) -> _F:
    return lambda a, d: f"({fn}({a[0]}) != 0)" if np.dtype(d).kind == "f" else int_value


def _invert(a: Sequence[str], d: str) -> str:
    return f"(!{a[0]})" if d == "bool" else f"(({ctype(d)})~{a[0]})"


def _negative(a: Sequence[str], d: str) -> str:
    return f"(({ctype(d)})(-{a[0]}))"


def _float_only(expr: str) -> _F:
    def f(a: Sequence[str], d: str) -> str:
        if np.dtype(d).kind != "f":
            raise NotLoweredError(f"{expr} of {d}")
        return expr.format(*a, s=_sfx(d), t=ctype(d))
    return f


UFUNCS: dict[str, _F] = {
    "add": _add, "subtract": _infix("-"), "multiply": _mul, "divide": _infix("/"),
    "floor_divide": _divmod("floor_divide", "gn_floordiv", "gn_floordiv"),
    "remainder": _divmod("remainder", "gn_fmod_floor", "gn_mod"), "power": _power,
    "negative": _negative,
    "absolute": _by_kind("fabs{s}({a})", "(({t})({a} < 0 ? -{a} : {a}))", "{a}"),
    "sign": _by_kind("gn_sign{s}({a})", "(({t})(({a} > 0) - ({a} < 0)))", "(({t})({a} > 0))"),
    "maximum": _maxmin("max"), "minimum": _maxmin("min"),
    "equal": _infix("=="), "not_equal": _infix("!="), "less": _infix("<"),
    "less_equal": _infix("<="), "greater": _infix(">"), "greater_equal": _infix(">="),
    "bitwise_and": _infix("&"), "bitwise_or": _infix("|"), "bitwise_xor": _infix("^"),
    "invert": _invert,
    "isnan": _pred("isnan", "0"), "isinf": _pred("isinf", "0"),
    "isfinite": _pred("isfinite", "1"),
    "square": lambda a, d: f"({a[0]} * {a[0]})",
    "reciprocal": _float_only("(({t})1 / {0})"),
    "arctan2": _float_only("atan2{s}({0}, {1})"),
    "logaddexp": _float_only("gn_logaddexp{s}({0}, {1})"),
    "logaddexp2": _float_only("gn_logaddexp2{s}({0}, {1})"),
    "expit": _float_only("gn_expit{s}({0})"),
    "xlogy": _float_only("(({t})gn_xlogy({0}, {1}))"),
    "xlog1py": _float_only("(({t})gn_xlog1py({0}, {1}))"),
    "ndtr": _float_only("(({t})gn_ndtr({0}))"),
    "gamma": _math1("tgamma"), "gammaln": _math1("lgamma"),
    **{n: _math1(c) for n, c in [
        ("exp", "exp"), ("exp2", "exp2"), ("expm1", "expm1"), ("log", "log"),
        ("log2", "log2"), ("log10", "log10"), ("log1p", "log1p"), ("sqrt", "sqrt"),
        ("sin", "sin"), ("cos", "cos"), ("tan", "tan"), ("arcsin", "asin"),
        ("arccos", "acos"), ("arctan", "atan"), ("sinh", "sinh"), ("cosh", "cosh"),
        ("tanh", "tanh"), ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"),
        ("floor", "floor"), ("ceil", "ceil"), ("trunc", "trunc"), ("rint", "rint"),
        ("erf", "erf"), ("erfc", "erfc")]},
}


def _cast(x: str, src: str, dst: str) -> str:
    if src == dst:
        return x
    if dst == "bool":
        return f"((gn_bool)({x} != 0))"
    return f"(({ctype(dst)})({x}))"


def ufunc_expr(ufunc: np.ufunc, args: Sequence[str], in_dtypes: Sequence[str]) -> str:
    """``ufunc`` on ``args`` in the dtype of NumPy's loop for ``in_dtypes``."""
    f = UFUNCS.get(ufunc.__name__)
    if f is None or ufunc.nout != 1:
        raise NotLoweredError(f"no C expression for the ufunc {ufunc.__name__}")
    loop = loop_dtypes(ufunc, in_dtypes)
    for d in loop:
        ctype(d)  # float16 and complex loops are not lowered
    cast = [_cast(a, d, ld) for a, d, ld in zip(args, in_dtypes, loop, strict=False)]
    return _cast(f(cast, loop[0]), loop[-1], loop[-1])


@functools.singledispatch
def c_scalar(op: sb.ScalarOp, args: Sequence[str], in_dtypes: Sequence[str],
             out_dtypes: Sequence[str]) -> str:
    """C expression computing ``op`` on the scalars named ``args`` (the default covers every op
    whose ``impl`` is a NumPy or SciPy ufunc with an entry in :data:`UFUNCS`)."""
    impl = op.impl
    if isinstance(impl, np.ufunc) and op.nout == 1:
        return ufunc_expr(impl, args, in_dtypes)
    raise NotLoweredError(f"no C lowering for the scalar op {op}")


def has_scalar_lowering(cls: type) -> bool:
    """Whether the scalar op class ``cls`` has a C expression (its own registration, or an
    ``impl`` ufunc listed in :data:`UFUNCS`)."""
    if c_scalar.dispatch(cls) is not c_scalar.dispatch(sb.ScalarOp):
        return True
    impl = inspect.getattr_static(cls, "impl", None)
    impl = getattr(impl, "__func__", impl)
    return isinstance(impl, np.ufunc) and impl.__name__ in UFUNCS


def _variadic(ufunc: np.ufunc) -> Callable[..., str]:
    """``Add`` / ``Mul`` of any arity: one argument is a cast, more are nested binary ufunc
    expressions, each in NumPy's loop dtype (as the reference's pairwise fold computes)."""
    def lower(op: object, args: Sequence[str], in_dtypes: Sequence[str],
              out_dtypes: Sequence[str]) -> str:
        if len(args) == 1:
            return _cast(args[0], in_dtypes[0], out_dtypes[0])
        expr, dt = args[0], in_dtypes[0]
        for a, d in zip(args[1:], in_dtypes[1:], strict=True):
            expr, dt = ufunc_expr(ufunc, [expr, a], [dt, d]), loop_dtypes(ufunc, [dt, d])[-1]
        return expr
    return lower


c_scalar.register(sb.Add)(_variadic(np.add))
c_scalar.register(sb.Mul)(_variadic(np.multiply))


@c_scalar.register
def _(op: sb.Identity, args, in_dtypes, out_dtypes):
    return args[0]


@c_scalar.register
def _(op: sb.Cast, args, in_dtypes, out_dtypes):
    ctype(in_dtypes[0])
    return _cast(args[0], in_dtypes[0], op.dtype)


@c_scalar.register
def _(op: sb.Switch, args, in_dtypes, out_dtypes):
    c, a, b = args
    o = out_dtypes[0]
    return f"({c} ? {_cast(a, in_dtypes[1], o)} : {_cast(b, in_dtypes[2], o)})"


def _real(fn: Callable[[Sequence[str], Sequence[str], Sequence[str]], str]) -> Callable[..., str]:
    def lower(op: object, a: Sequence[str], i: Sequence[str], o: Sequence[str]) -> str:
        for d in (*i, *o):
            ctype(d)
        return fn(a, i, o)
    return lower


def _f64(a: str, d: str) -> str:
    return _cast(a, d, "float64")


c_scalar.register(sm.Softplus)(_real(lambda a, i, o: _cast(
    f"gn_logaddexp{_sfx(o[0])}(0, {a[0]})", o[0], o[0])))
c_scalar.register(sm.Log1mexp)(_real(lambda a, i, o: _cast(
    f"gn_log1mexp({_f64(a[0], i[0])})", "float64", o[0])))
c_scalar.register(sm.Logit)(_real(lambda a, i, o: (
    f"log{_sfx(o[0])}({a[0]} / (1.0{_sfx(o[0])} - {a[0]}))")))
c_scalar.register(sm.Clip)(_real(lambda a, i, o: (
    f"gn_min{_sfx(o[0])}(gn_max{_sfx(o[0])}({a[0]}, {a[1]}), {a[2]})"
    if np.dtype(o[0]).kind == "f"
    else f"({a[0]} < {a[1]} ? {a[1]} : ({a[0]} > {a[2]} ? {a[2]} : {a[0]}))")))
c_scalar.register(sm.Real)(_real(lambda a, i, o: _cast(a[0], i[0], o[0])))
c_scalar.register(sm.Conj)(_real(lambda a, i, o: _cast(a[0], i[0], o[0])))
c_scalar.register(sm.Imag)(_real(lambda a, i, o: _cast("0", "int64", o[0])))
c_scalar.register(sm.Angle)(_real(lambda a, i, o: _cast(
    f"atan2(0.0, {_f64(a[0], i[0])})", "float64", o[0])))
c_scalar.register(sm.Digamma)(_real(lambda a, i, o: _cast(
    f"gn_digamma({_f64(a[0], i[0])})", "float64", o[0])))


@c_scalar.register(sm.Round)
def _round(op: sm.Round, a: Sequence[str], i: Sequence[str], o: Sequence[str]) -> str:
    if np.dtype(i[0]).kind != "f":
        raise NotLoweredError("round of non-float input")
    s, t, d = _sfx(o[0]), ctype(o[0]), op.decimals
    if d == 0:
        return f"rint{s}({a[0]})"
    if d > 0:
        return f"(rint{s}({a[0]} * ({t}){10.0 ** d!r}) / ({t}){10.0 ** d!r})"
    return f"(rint{s}({a[0]} / ({t}){10.0 ** -d!r}) * ({t}){10.0 ** -d!r})"
