"""JAX lowerings of scalar ops (``gnomon/scalar/``), used by the Elemwise lowering.

gnomon's dtypes follow NumPy, JAX's promotion rules do not (``int32 + float32`` is ``float64``
in NumPy and ``float32`` in JAX; ``exp`` of an ``int8`` is ``float16`` in NumPy). Each lowering
therefore casts its inputs first, in one of two styles:

* ``"out"``: cast every input to the output dtype, then compute (arithmetic and math functions:
  this is the loop NumPy itself picks);
* ``"in"``: cast every input to NumPy's common input dtype, compute, cast the result to the
  output dtype (comparisons, predicates, complex-to-real functions).

Math ops are lowered by a table from op class to JAX function (:data:`MATH_OPS`); ops with
parameters or unusual dtype rules are registered by hand. Every op class is imported, so a
renamed op fails at import.

Piecewise formulas use the "double where" form (each branch computed on inputs that are safe for
it), so ``jax.grad`` of a :func:`~gnomon.backends.jax.to_jax` callable has no NaN from the branch
not taken.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_scalar_funcify
from gnomon.errors import NotLoweredError
from gnomon.scalar import basic as ps
from gnomon.scalar import math as sm


def as_dtype(x: Any, dtype: str) -> Any:
    """``x`` converted to ``dtype`` (no-op when it has it); works on tracers and NumPy values."""
    return x if x.dtype == dtype else x.astype(dtype)


def common_dtype(dtypes: Sequence[str]) -> str:
    """NumPy's result dtype of ``dtypes`` (the loop NumPy would run)."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


def _styled(fn: Callable[..., Any], style: str) -> Callable[..., JaxFn]:
    """A lowering (``op, in_dtypes, out_dtypes -> function``) for ``fn`` with a cast style."""

    def lower(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
        target = out_dtypes[0] if style == "out" else common_dtype(in_dtypes)
        out = out_dtypes[0]

        def f(*xs: Any) -> Any:
            return as_dtype(fn(*[as_dtype(x, target) for x in xs]), out)

        return f

    return lower


def register(cls: type, fn: Callable[..., Any], style: str = "out") -> None:
    """Lower scalar op class ``cls`` as the elementwise JAX function ``fn``."""
    jax_scalar_funcify.register(cls)(_styled(fn, style))


# --- gnomon.scalar.basic -------------------------------------------------------------------


def _variadic(fn: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda *xs: functools.reduce(fn, xs)


register(ps.Add, _variadic(jnp.add))
register(ps.Mul, _variadic(jnp.multiply))
register(ps.Sub, jnp.subtract)
register(ps.TrueDiv, jnp.true_divide)
register(ps.Mod, jnp.remainder)
register(ps.Pow, jnp.power)
register(ps.Neg, jnp.negative)
register(ps.Identity, lambda x: x)  # JAX arrays are immutable: no copy needed
register(ps.Invert, jnp.invert)
for _cls, _fn in (
    (ps.LT, jnp.less), (ps.GT, jnp.greater), (ps.LE, jnp.less_equal),
    (ps.GE, jnp.greater_equal), (ps.EQ, jnp.equal), (ps.NEQ, jnp.not_equal),
):
    register(_cls, _fn, "in")
for _cls, _fn in ((ps.AND, jnp.bitwise_and), (ps.OR, jnp.bitwise_or),
                  (ps.XOR, jnp.bitwise_xor)):
    register(_cls, _fn, "out")


@jax_scalar_funcify.register(ps.FloorDiv)
def _floor_div(op: ps.FloorDiv, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    out = out_dtypes[0]
    if np.dtype(out).kind not in "iub":
        return _styled(jnp.floor_divide, "out")(op, in_dtypes, out_dtypes)

    def f(a: Any, b: Any) -> Any:
        # NumPy gives 0 for an integer division by zero; XLA gives -1 or garbage.
        a, b = as_dtype(a, out), as_dtype(b, out)
        zero = b == 0
        return jnp.where(zero, jnp.zeros((), out), jnp.floor_divide(a, jnp.where(zero, 1, b)))

    return f


@jax_scalar_funcify.register(ps.Cast)
def _cast(op: ps.Cast, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    dtype = op.dtype
    if np.dtype(in_dtypes[0]).kind == "c" and np.dtype(dtype).kind == "b":
        # NumPy: true where either part is non-zero (1e-300j is True)
        return lambda x: x != 0
    if np.dtype(in_dtypes[0]).kind == "c" and np.dtype(dtype).kind != "c":
        # NumPy drops the imaginary part (with a warning); say so explicitly to JAX.
        return lambda x: as_dtype(jnp.real(x), dtype)
    return lambda x: as_dtype(x, dtype)


@jax_scalar_funcify.register(ps.Switch)
def _switch(op: ps.Switch, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    out = out_dtypes[0]

    def f(c: Any, a: Any, b: Any) -> Any:
        cond = c if c.dtype == np.bool_ else c != 0
        return jnp.where(cond, as_dtype(a, out), as_dtype(b, out))

    return f


# --- gnomon.scalar.math -----------------------------------------------------------------


def _sigmoid(x: Any) -> Any:
    return jax.nn.sigmoid(x)


def _log1mexp(x: Any) -> Any:
    # log(1 - exp(x)) for x <= 0: expm1 is accurate near 0, log1p(-exp) for very negative x.
    near = x > -0.6931471805599453
    one = jnp.ones_like(x)
    a = jnp.where(near, x, -one)
    b = jnp.where(near, -one, x)
    return jnp.where(near, jnp.log(-jnp.expm1(a)), jnp.log1p(-jnp.exp(b)))


def _softplus(x: Any) -> Any:
    return jnp.logaddexp(x, jnp.zeros_like(x))


def _reciprocal(x: Any) -> Any:
    return jnp.reciprocal(x)


def _erfcx(x: Any) -> Any:
    return jss.erfcx(x) if hasattr(jss, "erfcx") else jnp.exp(x * x) * jss.erfc(x)


def _gamma(x: Any) -> Any:
    return jss.gamma(x)


def _digamma(x: Any) -> Any:
    # The pole at 0: SciPy (the reference) gives -inf at +0 and +inf at -0; JAX gives nan.
    return jnp.where(x == 0, -jnp.copysign(jnp.inf, x), jss.digamma(x))


#: Scalar op class of :mod:`gnomon.scalar.math` -> (JAX function, cast style).
MATH_OPS: dict[type[sm.MathOp], tuple[Callable[..., Any], str]] = {
    # exponentials and logarithms
    sm.Exp: (jnp.exp, "out"), sm.Exp2: (jnp.exp2, "out"), sm.Expm1: (jnp.expm1, "out"),
    sm.Log: (jnp.log, "out"), sm.Log2: (jnp.log2, "out"), sm.Log10: (jnp.log10, "out"),
    sm.Log1p: (jnp.log1p, "out"), sm.Log1mexp: (_log1mexp, "out"),
    sm.Softplus: (_softplus, "out"), sm.Sigmoid: (_sigmoid, "out"), sm.Logit: (jss.logit, "out"),
    # powers and roots
    sm.Sqrt: (jnp.sqrt, "out"), sm.Square: (jnp.square, "out"),
    sm.Reciprocal: (_reciprocal, "out"),
    # trigonometric and hyperbolic
    sm.Sin: (jnp.sin, "out"), sm.Cos: (jnp.cos, "out"), sm.Tan: (jnp.tan, "out"),
    sm.ArcSin: (jnp.arcsin, "out"), sm.ArcCos: (jnp.arccos, "out"),
    sm.ArcTan: (jnp.arctan, "out"), sm.ArcTan2: (jnp.arctan2, "out"),
    sm.Sinh: (jnp.sinh, "out"), sm.Cosh: (jnp.cosh, "out"), sm.Tanh: (jnp.tanh, "out"),
    sm.ArcSinh: (jnp.arcsinh, "out"), sm.ArcCosh: (jnp.arccosh, "out"),
    sm.ArcTanh: (jnp.arctanh, "out"),
    # rounding and sign
    sm.Abs: (jnp.abs, "in"), sm.Sign: (jnp.sign, "out"), sm.Ceil: (jnp.ceil, "out"),
    sm.Floor: (jnp.floor, "out"), sm.Trunc: (jnp.trunc, "out"),
    sm.Maximum: (jnp.maximum, "out"), sm.Minimum: (jnp.minimum, "out"),
    # predicates
    sm.IsNan: (jnp.isnan, "in"), sm.IsInf: (jnp.isinf, "in"), sm.IsFinite: (jnp.isfinite, "in"),
    # complex numbers
    sm.Real: (jnp.real, "in"), sm.Imag: (jnp.imag, "in"), sm.Angle: (jnp.angle, "in"),
    sm.Conj: (jnp.conj, "in"),
    # special functions
    sm.Erf: (jss.erf, "out"), sm.Erfc: (jss.erfc, "out"), sm.Erfcx: (_erfcx, "out"),
    sm.Erfinv: (jss.erfinv, "out"), sm.Gamma: (_gamma, "out"), sm.GammaLn: (jss.gammaln, "out"),
    sm.Digamma: (_digamma, "out"),
}

def _polygamma(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    n, out = op.n, out_dtypes[0]
    # SciPy: +-inf at the poles 0, -1, -2, ... and +-0 at +inf; JAX: nan at both
    sign = 1.0 if n % 2 == 1 else -1.0

    def f(x: Any) -> Any:
        x = as_dtype(x, out)
        y = jnp.where((x <= 0) & (x == jnp.floor(x)), jnp.asarray(sign * jnp.inf, out),
                      jss.polygamma(n, x))
        return jnp.where(jnp.isposinf(x), jnp.asarray(sign * 0.0, out), y)

    return f


def _round(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    decimals, out = op.decimals, out_dtypes[0]
    # Half to even, like np.round (which also scales by 10**decimals first).
    return lambda x: as_dtype(jnp.round(as_dtype(x, out), decimals), out)


#: special functions jax.scipy.special defines for real arguments only: complex inputs raise
#: NotLoweredError when the function is compiled (SciPy, the reference, accepts some of them)
REAL_ONLY = frozenset({
    sm.Erf, sm.Erfc, sm.Erfcx, sm.Erfinv, sm.Gamma, sm.GammaLn, sm.Digamma, sm.Logit,
    sm.Polygamma,
})


def _real_only(cls: type, lower: Callable[..., JaxFn]) -> Callable[..., JaxFn]:
    def checked(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
        if any(np.dtype(d).kind == "c" for d in (*in_dtypes, *out_dtypes)):
            raise NotLoweredError(f"JAX has no {cls.__name__.lower()} of complex numbers "
                                  f"(inputs {', '.join(in_dtypes)}); use mode='numpy'")
        return lower(op, in_dtypes, out_dtypes)

    return checked


def _complex_max(a: Any, b: Any) -> Any:
    # NumPy orders complex numbers lexicographically and propagates NaN from either side
    return jnp.where(jnp.isnan(a), a, jnp.where(jnp.isnan(b), b, jnp.maximum(a, b)))


def _complex_min(a: Any, b: Any) -> Any:
    return jnp.where(jnp.isnan(a), a, jnp.where(jnp.isnan(b), b, jnp.minimum(a, b)))


def _clip(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    out = out_dtypes[0]
    if np.dtype(out).kind != "c":
        return _styled(jnp.clip, "out")(op, in_dtypes, out_dtypes)

    # jnp.clip refuses complex numbers; NumPy's clip is minimum(maximum(x, lo), hi)
    def f(x: Any, lo: Any, hi: Any) -> Any:
        x, lo, hi = (as_dtype(v, out) for v in (x, lo, hi))
        return _complex_min(_complex_max(x, lo), hi)

    return f


def _register_math(cls: type, lower: Callable[..., JaxFn]) -> None:
    jax_scalar_funcify.register(cls)(_real_only(cls, lower) if cls in REAL_ONLY else lower)


for _cls, (_fn, _style) in MATH_OPS.items():
    _register_math(_cls, _styled(_fn, _style))
_register_math(sm.Clip, _clip)
_register_math(sm.Polygamma, _polygamma)
_register_math(sm.Round, _round)
