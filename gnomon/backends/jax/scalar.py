"""JAX lowerings of scalar ops (``gnomon/scalar/``), used by the Elemwise lowering.

gnomon's dtypes follow NumPy, JAX's promotion rules do not (``int32 + float32`` is ``float64``
in NumPy and ``float32`` in JAX; ``exp`` of an ``int8`` is ``float16`` in NumPy). Each lowering
therefore casts its inputs first, in one of two styles:

* ``"out"``: cast every input to the output dtype, then compute (arithmetic and math functions:
  this is the loop NumPy itself picks);
* ``"in"``: cast every input to NumPy's common input dtype, compute, cast the result to the
  output dtype (comparisons, predicates, complex-to-real functions).

Math ops are matched to JAX functions by class name (:data:`MATH_OPS`, :data:`PARAM_OPS`), so a
scalar op class added to :mod:`gnomon.scalar.math` under a known name is lowered without code
here; ops of :mod:`gnomon.scalar.basic` with unusual dtype rules are registered by hand.

Piecewise formulas use the "double where" form (each branch computed on inputs that are safe for
it), so ``jax.grad`` of a :func:`~gnomon.backends.jax.to_jax` callable has no NaN from the branch
not taken.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_scalar_funcify
from gnomon.scalar import basic as ps


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


# --- gnomon.scalar.math: matched by class name ---------------------------------------------


def _sigmoid(x: Any) -> Any:
    return jax.nn.sigmoid(x)


def _log1mexp(x: Any) -> Any:
    # log(1 - exp(x)) for x <= 0: expm1 is accurate near 0, log1p(-exp) for very negative x.
    near = x > -0.6931471805599453
    one = jnp.ones_like(x)
    a = jnp.where(near, x, -one)
    b = jnp.where(near, -one, x)
    return jnp.where(near, jnp.log(-jnp.expm1(a)), jnp.log1p(-jnp.exp(b)))


def _xlogx(x: Any) -> Any:
    zero = x == 0
    safe = jnp.where(zero, jnp.ones_like(x), x)
    return jnp.where(zero, jnp.zeros_like(x), safe * jnp.log(safe))


def _softplus(x: Any) -> Any:
    return jnp.logaddexp(x, jnp.zeros_like(x))


def _log1pexp(x: Any) -> Any:
    return jnp.logaddexp(x, jnp.zeros_like(x))


def _round_half_away(x: Any) -> Any:
    return jnp.sign(x) * jnp.floor(jnp.abs(x) + 0.5)


def _sqr(x: Any) -> Any:
    return x * x


def _reciprocal(x: Any) -> Any:
    return jnp.reciprocal(x)


def _erfcx(x: Any) -> Any:
    return jss.erfcx(x) if hasattr(jss, "erfcx") else jnp.exp(x * x) * jss.erfc(x)


def _erfcinv(x: Any) -> Any:
    return jss.erfinv(1 - x)


def _trigamma(x: Any) -> Any:
    return jss.polygamma(1, x)


def _gamma(x: Any) -> Any:
    return jss.gamma(x)


def _digamma(x: Any) -> Any:
    # The pole at 0: SciPy (the reference) gives -inf at +0 and +inf at -0; JAX gives nan.
    return jnp.where(x == 0, -jnp.copysign(jnp.inf, x), jss.digamma(x))


#: Class name in :mod:`gnomon.scalar.math` -> (JAX function, cast style).
MATH_OPS: dict[str, tuple[Callable[..., Any], str]] = {
    # exponentials and logarithms
    "Exp": (jnp.exp, "out"), "Exp2": (jnp.exp2, "out"), "Expm1": (jnp.expm1, "out"),
    "Log": (jnp.log, "out"), "Log2": (jnp.log2, "out"), "Log10": (jnp.log10, "out"),
    "Log1p": (jnp.log1p, "out"), "Log1mexp": (_log1mexp, "out"),
    "Softplus": (_softplus, "out"), "Log1pexp": (_log1pexp, "out"),
    "Sigmoid": (_sigmoid, "out"), "Expit": (_sigmoid, "out"), "Logit": (jss.logit, "out"),
    "LogAddExp": (jnp.logaddexp, "out"), "Logaddexp": (jnp.logaddexp, "out"),
    "XlogX": (_xlogx, "out"), "Xlogx": (_xlogx, "out"),
    "XlogY0": (jss.xlogy, "out"), "Xlogy": (jss.xlogy, "out"), "Xlogy0": (jss.xlogy, "out"),
    "Xlog1py": (jss.xlog1py, "out"), "XLog1pY": (jss.xlog1py, "out"),
    # powers and roots
    "Sqrt": (jnp.sqrt, "out"), "Cbrt": (jnp.cbrt, "out"), "Sqr": (_sqr, "out"),
    "Square": (jnp.square, "out"), "Reciprocal": (_reciprocal, "out"),
    "Inv": (_reciprocal, "out"), "Hypot": (jnp.hypot, "out"),
    # trigonometric and hyperbolic
    "Sin": (jnp.sin, "out"), "Cos": (jnp.cos, "out"), "Tan": (jnp.tan, "out"),
    "ArcSin": (jnp.arcsin, "out"), "ArcCos": (jnp.arccos, "out"),
    "ArcTan": (jnp.arctan, "out"), "ArcTan2": (jnp.arctan2, "out"),
    "Sinh": (jnp.sinh, "out"), "Cosh": (jnp.cosh, "out"), "Tanh": (jnp.tanh, "out"),
    "ArcSinh": (jnp.arcsinh, "out"), "ArcCosh": (jnp.arccosh, "out"),
    "ArcTanh": (jnp.arctanh, "out"), "Deg2Rad": (jnp.deg2rad, "out"),
    "Rad2Deg": (jnp.rad2deg, "out"),
    # rounding and sign
    "Abs": (jnp.abs, "in"), "Sign": (jnp.sign, "out"), "Ceil": (jnp.ceil, "out"),
    "Floor": (jnp.floor, "out"), "Trunc": (jnp.trunc, "out"),
    "RoundHalfToEven": (jnp.round, "out"),
    "RoundHalfAwayFromZero": (_round_half_away, "out"), "Rint": (jnp.rint, "out"),
    "Maximum": (jnp.maximum, "out"), "Minimum": (jnp.minimum, "out"),
    "ScalarMaximum": (jnp.maximum, "out"), "ScalarMinimum": (jnp.minimum, "out"),
    "Fmax": (jnp.fmax, "out"), "Fmin": (jnp.fmin, "out"),
    "Clip": (jnp.clip, "out"), "Copysign": (jnp.copysign, "out"),
    # predicates
    "IsNan": (jnp.isnan, "in"), "IsInf": (jnp.isinf, "in"), "IsFinite": (jnp.isfinite, "in"),
    "IsNaN": (jnp.isnan, "in"), "Isnan": (jnp.isnan, "in"), "Isinf": (jnp.isinf, "in"),
    "Isfinite": (jnp.isfinite, "in"), "Not": (jnp.logical_not, "in"),
    "LogicalNot": (jnp.logical_not, "in"), "LogicalAnd": (jnp.logical_and, "in"),
    "LogicalOr": (jnp.logical_or, "in"), "LogicalXor": (jnp.logical_xor, "in"),
    # complex numbers
    "Real": (jnp.real, "in"), "Imag": (jnp.imag, "in"), "Angle": (jnp.angle, "in"),
    "Conj": (jnp.conj, "in"), "Conjugate": (jnp.conj, "in"),
    "Complex": (jax.lax.complex, "in"),
    # special functions
    "Erf": (jss.erf, "out"), "Erfc": (jss.erfc, "out"), "Erfcx": (_erfcx, "out"),
    "Erfinv": (jss.erfinv, "out"), "Erfcinv": (_erfcinv, "out"),
    "Gamma": (_gamma, "out"), "GammaLn": (jss.gammaln, "out"), "Gammaln": (jss.gammaln, "out"),
    "LGamma": (jss.gammaln, "out"), "Lgamma": (jss.gammaln, "out"),
    "Psi": (_digamma, "out"), "Digamma": (_digamma, "out"),
    "TriGamma": (_trigamma, "out"), "Trigamma": (_trigamma, "out"),
    "GammaInc": (jss.gammainc, "out"), "GammaIncC": (jss.gammaincc, "out"),
    "Gammainc": (jss.gammainc, "out"), "Gammaincc": (jss.gammaincc, "out"),
    "BetaLn": (jss.betaln, "out"), "Betaln": (jss.betaln, "out"),
    "BetaInc": (jss.betainc, "out"), "Betainc": (jss.betainc, "out"),
    "I0": (jss.i0, "out"), "I1": (jss.i1, "out"), "I0e": (jss.i0e, "out"),
    "I1e": (jss.i1e, "out"), "Ndtr": (jss.ndtr, "out"), "Ndtri": (jss.ndtri, "out"),
    "LogNdtr": (jss.log_ndtr, "out"), "Log_ndtr": (jss.log_ndtr, "out"),
    "Sinc": (jnp.sinc, "out"), "Zeta": (jss.zeta, "out"),
}

def _polygamma(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    n, out = op.n, out_dtypes[0]
    return lambda x: as_dtype(jss.polygamma(n, as_dtype(x, out)), out)


def _round(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
    decimals, out = op.decimals, out_dtypes[0]
    # Half to even, like np.round (which also scales by 10**decimals first).
    return lambda x: as_dtype(jnp.round(as_dtype(x, out), decimals), out)


#: Math ops with parameters: class name -> lowering (``op, in_dtypes, out_dtypes -> fn``).
PARAM_OPS: dict[str, Callable[..., JaxFn]] = {"Polygamma": _polygamma, "Round": _round}


#: special functions jax.scipy.special defines for real arguments only: complex inputs raise
#: NotLoweredError when the function is compiled (SciPy, the reference, accepts some of them)
REAL_ONLY = frozenset({
    "Erf", "Erfc", "Erfcx", "Erfinv", "Erfcinv", "Gamma", "GammaLn", "Gammaln", "LGamma",
    "Lgamma", "Psi", "Digamma", "TriGamma", "Trigamma", "GammaInc", "GammaIncC", "Gammainc",
    "Gammaincc", "BetaLn", "Betaln", "BetaInc", "Betainc", "I0", "I1", "I0e", "I1e", "Ndtr",
    "Ndtri", "LogNdtr", "Log_ndtr", "Zeta", "Logit", "Polygamma",
})


def _real_only(name: str, lower: Callable[..., JaxFn]) -> Callable[..., JaxFn]:
    def checked(op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]) -> JaxFn:
        if any(np.dtype(d).kind == "c" for d in (*in_dtypes, *out_dtypes)):
            from gnomon.errors import NotLoweredError

            raise NotLoweredError(f"JAX has no {name.lower()} of complex numbers "
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


def register_math_ops() -> list[str]:
    """Register every class of :mod:`gnomon.scalar.math` named in :data:`MATH_OPS`.

    Called at import and again by the linker, so classes added to that module later in the
    session are found; returns the names registered.
    """
    mod = importlib.import_module("gnomon.scalar.math")
    done = []
    for name, (fn, style) in MATH_OPS.items():
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and cls not in jax_scalar_funcify.registry:
            lower = _clip if name == "Clip" else _styled(fn, style)
            jax_scalar_funcify.register(cls)(_real_only(name, lower) if name in REAL_ONLY
                                             else lower)
            done.append(name)
    for name, plower in PARAM_OPS.items():
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and cls not in jax_scalar_funcify.registry:
            jax_scalar_funcify.register(cls)(_real_only(name, plower) if name in REAL_ONLY
                                             else plower)
            done.append(name)
    return done


register_math_ops()
