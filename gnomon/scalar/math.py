"""Scalar ops of elementwise math functions (exp, log, trigonometric, special functions ...).

Every op here has a vectorized NumPy/SciPy ``impl`` (the reference), NumPy's output dtype (read
off ``impl`` by :meth:`ScalarOp.output_dtypes`, so ``exp(int32)`` is ``float64`` as in NumPy)
and a ``pullback`` written with gnomon tensor functions, so gradients are differentiable again.

Complex numbers: pullbacks follow JAX's convention. A cotangent ``c`` of a complex value ``w``
pairs with a change ``dw`` as ``Re(c * dw)`` (no conjugation). Then a holomorphic ``f`` pulls
``c`` back to ``c * f'(z)`` (the same formula as for real inputs), ``real`` to ``c``, ``imag`` to
``-1j * c``, ``conj`` to ``conj(c)``, ``abs`` to ``c * conj(z) / |z|`` and ``angle`` to
``-1j * c * conj(z) / |z|**2``. For a real-valued ``f(z)`` the gradient is therefore
``df/dx - 1j * df/dy``; use its conjugate to take a steepest-ascent step.

Backends lower these ops by class; the class names say what they compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special as sp

from gnomon.errors import GnomonTypeError
from gnomon.graph.op import grad_not_implemented
from gnomon.scalar.basic import AND, EQ, GT, LT, OR, ZERO_GRAD, Invert, ScalarOp, Switch
from gnomon.scalar.basic import elementwise as ew

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _is_complex(v: Any) -> bool:
    return np.dtype(v.dtype).kind == "c"


class MathOp(ScalarOp):
    """Base of the math scalar ops: NumPy's dtype rule, with a clear error where NumPy/SciPy
    has no implementation for the input dtypes (``floor`` of complex numbers, say)."""

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        try:
            return super().output_dtypes(*dtypes)
        except TypeError as e:
            raise GnomonTypeError(
                f"{self.name} is not defined for inputs of dtype {', '.join(dtypes)} "
                f"(NumPy/SciPy says: {e}).\n"
                "Hint: cast the input first, e.g. gt.cast(x, 'float64') or x.astype('float64')."
            ) from None


class UnaryMathOp(MathOp):
    nin = 1


class BinaryMathOp(MathOp):
    nin = 2


class PiecewiseConstantOp(UnaryMathOp):
    """A real function that is constant between jumps: its gradient is zero (almost
    everywhere; at the jumps the zero is a convention)."""

    def pullback(self, inputs, outputs, grads):
        x = inputs[0]
        if _is_complex(x):
            return [grad_not_implemented(self, 0, x, "complex inputs")]
        return [ZERO_GRAD]


class PredicateOp(UnaryMathOp):
    """A test with a boolean result (``isnan`` ...): no gradient."""

    def pullback(self, inputs, outputs, grads):
        return [None]


# --- exponentials and logarithms ------------------------------------------------------------


@dataclass(frozen=True)
class Exp(UnaryMathOp):
    name = "exp"
    impl = staticmethod(np.exp)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * outputs[0]]


@dataclass(frozen=True)
class Exp2(UnaryMathOp):
    name = "exp2"
    impl = staticmethod(np.exp2)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (outputs[0] * _LN2)]


@dataclass(frozen=True)
class Expm1(UnaryMathOp):
    name = "expm1"
    impl = staticmethod(np.expm1)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (outputs[0] + 1)]


@dataclass(frozen=True)
class Log(UnaryMathOp):
    name = "log"
    impl = staticmethod(np.log)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / inputs[0]]


@dataclass(frozen=True)
class Log2(UnaryMathOp):
    name = "log2"
    impl = staticmethod(np.log2)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (inputs[0] * _LN2)]


@dataclass(frozen=True)
class Log10(UnaryMathOp):
    name = "log10"
    impl = staticmethod(np.log10)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (inputs[0] * _LN10)]


@dataclass(frozen=True)
class Log1p(UnaryMathOp):
    name = "log1p"
    impl = staticmethod(np.log1p)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (inputs[0] + 1)]


@dataclass(frozen=True)
class Sqrt(UnaryMathOp):
    name = "sqrt"
    impl = staticmethod(np.sqrt)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (outputs[0] * 2)]


@dataclass(frozen=True)
class Square(UnaryMathOp):
    name = "square"
    impl = staticmethod(np.square)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (inputs[0] * 2)]


@dataclass(frozen=True)
class Reciprocal(UnaryMathOp):
    """``1 / x`` (integer division for integer inputs, as ``np.reciprocal``)."""

    name = "reciprocal"
    impl = staticmethod(np.reciprocal)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [-(grads[0] * ew(Square(), outputs[0]))]


# --- trigonometric and hyperbolic -----------------------------------------------------------


@dataclass(frozen=True)
class Sin(UnaryMathOp):
    name = "sin"
    impl = staticmethod(np.sin)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Cos(), inputs[0])]


@dataclass(frozen=True)
class Cos(UnaryMathOp):
    name = "cos"
    impl = staticmethod(np.cos)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [-(grads[0] * ew(Sin(), inputs[0]))]


@dataclass(frozen=True)
class Tan(UnaryMathOp):
    name = "tan"
    impl = staticmethod(np.tan)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (ew(Square(), outputs[0]) + 1)]


@dataclass(frozen=True)
class ArcSin(UnaryMathOp):
    name = "arcsin"
    impl = staticmethod(np.arcsin)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / ew(Sqrt(), 1 - ew(Square(), inputs[0]))]


@dataclass(frozen=True)
class ArcCos(UnaryMathOp):
    name = "arccos"
    impl = staticmethod(np.arccos)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [-(grads[0] / ew(Sqrt(), 1 - ew(Square(), inputs[0])))]


@dataclass(frozen=True)
class ArcTan(UnaryMathOp):
    name = "arctan"
    impl = staticmethod(np.arctan)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (ew(Square(), inputs[0]) + 1)]


@dataclass(frozen=True)
class ArcTan2(BinaryMathOp):
    """``arctan2(y, x)``: the angle of the point ``(x, y)``, in ``[-pi, pi]``."""

    name = "arctan2"
    impl = staticmethod(np.arctan2)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        y, x = inputs
        r2 = ew(Square(), x) + ew(Square(), y)
        g = grads[0]
        return [g * x / r2, -(g * y / r2)]


@dataclass(frozen=True)
class Sinh(UnaryMathOp):
    name = "sinh"
    impl = staticmethod(np.sinh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Cosh(), inputs[0])]


@dataclass(frozen=True)
class Cosh(UnaryMathOp):
    name = "cosh"
    impl = staticmethod(np.cosh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Sinh(), inputs[0])]


@dataclass(frozen=True)
class Tanh(UnaryMathOp):
    name = "tanh"
    impl = staticmethod(np.tanh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (1 - ew(Square(), outputs[0]))]


@dataclass(frozen=True)
class ArcSinh(UnaryMathOp):
    name = "arcsinh"
    impl = staticmethod(np.arcsinh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / ew(Sqrt(), ew(Square(), inputs[0]) + 1)]


@dataclass(frozen=True)
class ArcCosh(UnaryMathOp):
    name = "arccosh"
    impl = staticmethod(np.arccosh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x = inputs[0]
        # sqrt(x-1)*sqrt(x+1) rather than sqrt(x*x-1): no cancellation near x = 1.
        return [grads[0] / (ew(Sqrt(), x - 1) * ew(Sqrt(), x + 1))]


@dataclass(frozen=True)
class ArcTanh(UnaryMathOp):
    name = "arctanh"
    impl = staticmethod(np.arctanh)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        return [grads[0] / (1 - ew(Square(), inputs[0]))]


# --- logistic family ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sigmoid(UnaryMathOp):
    """The logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``)."""

    name = "sigmoid"
    impl = staticmethod(sp.expit)

    def pullback(self, inputs, outputs, grads):
        # s(x) * s(-x) rather than s * (1 - s): no cancellation where s is close to 1.
        return [grads[0] * (outputs[0] * ew(Sigmoid(), -inputs[0]))]


def _softplus(x: Any) -> Any:
    # logaddexp(0, x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): never overflows.
    return np.logaddexp(0, x)


@dataclass(frozen=True)
class Softplus(UnaryMathOp):
    """``log(1 + exp(x))``, computed without overflow or underflow."""

    name = "softplus"
    impl = staticmethod(_softplus)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Sigmoid(), inputs[0])]


def _log1mexp(x: Any) -> Any:
    x = np.asarray(x)
    # Maechler (2012): expm1 is accurate near 0, log1p(-exp) for large negative x.
    with np.errstate(all="ignore"):
        return np.where(x > -_LN2, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


@dataclass(frozen=True)
class Log1mexp(UnaryMathOp):
    """``log(1 - exp(x))`` for ``x < 0``, accurate over the whole range."""

    name = "log1mexp"
    impl = staticmethod(_log1mexp)

    def pullback(self, inputs, outputs, grads):
        # d/dx log(1 - e^x) = -e^x / (1 - e^x) = -1 / expm1(-x)
        return [-(grads[0] / ew(Expm1(), -inputs[0]))]


@dataclass(frozen=True)
class Logit(UnaryMathOp):
    """``log(p / (1 - p))``, the inverse of the sigmoid."""

    name = "logit"
    impl = staticmethod(sp.logit)

    def pullback(self, inputs, outputs, grads):
        p = inputs[0]
        return [grads[0] / (p * (1 - p))]


# --- special functions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Erf(UnaryMathOp):
    name = "erf"
    impl = staticmethod(sp.erf)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (ew(Exp(), -(ew(Square(), inputs[0]))) * _TWO_OVER_SQRT_PI)]


@dataclass(frozen=True)
class Erfc(UnaryMathOp):
    name = "erfc"
    impl = staticmethod(sp.erfc)

    def pullback(self, inputs, outputs, grads):
        return [-(grads[0] * (ew(Exp(), -(ew(Square(), inputs[0]))) * _TWO_OVER_SQRT_PI))]


@dataclass(frozen=True)
class Erfcx(UnaryMathOp):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``."""

    name = "erfcx"
    impl = staticmethod(sp.erfcx)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (inputs[0] * outputs[0] * 2 - _TWO_OVER_SQRT_PI)]


@dataclass(frozen=True)
class Erfinv(UnaryMathOp):
    name = "erfinv"
    impl = staticmethod(sp.erfinv)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (ew(Exp(), ew(Square(), outputs[0])) * _SQRT_PI_OVER_TWO)]


@dataclass(frozen=True)
class GammaLn(UnaryMathOp):
    """``log|Gamma(x)|``."""

    name = "gammaln"
    impl = staticmethod(sp.gammaln)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Digamma(), inputs[0])]


@dataclass(frozen=True)
class Gamma(UnaryMathOp):
    name = "gamma"
    impl = staticmethod(sp.gamma)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * (outputs[0] * ew(Digamma(), inputs[0]))]


@dataclass(frozen=True)
class Digamma(UnaryMathOp):
    """``psi(x) = d/dx log Gamma(x)``."""

    name = "digamma"
    impl = staticmethod(sp.psi)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Polygamma(1), inputs[0])]


@dataclass(frozen=True)
class Polygamma(UnaryMathOp):
    """The ``n``-th derivative of the digamma function (``n >= 0``); a parameter, not an input,
    so that each order is its own op and the gradient is ``Polygamma(n + 1)``."""

    n: int

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"polygamma{{{self.n}}}"

    def impl(self, x: Any) -> Any:
        x = np.asarray(x)
        # scipy's polygamma always returns float64; keep psi's dtype rule (float32 stays).
        dtype = sp.psi(np.zeros(0, x.dtype)).dtype
        return np.asarray(sp.polygamma(self.n, x)).astype(dtype)

    def pullback(self, inputs, outputs, grads):
        return [grads[0] * ew(Polygamma(self.n + 1), inputs[0])]


# --- rounding and sign (piecewise constant: zero gradient) ----------------------------------


@dataclass(frozen=True)
class Sign(PiecewiseConstantOp):
    """``-1, 0, 1`` by the sign of ``x`` (``z / |z|`` for complex ``z``, no gradient there)."""

    name = "sign"
    impl = staticmethod(np.sign)  # type: ignore[assignment]


@dataclass(frozen=True)
class Floor(PiecewiseConstantOp):
    name = "floor"
    impl = staticmethod(np.floor)  # type: ignore[assignment]


@dataclass(frozen=True)
class Ceil(PiecewiseConstantOp):
    name = "ceil"
    impl = staticmethod(np.ceil)  # type: ignore[assignment]


@dataclass(frozen=True)
class Trunc(PiecewiseConstantOp):
    name = "trunc"
    impl = staticmethod(np.trunc)  # type: ignore[assignment]


@dataclass(frozen=True)
class Round(PiecewiseConstantOp):
    """Round half to even to ``decimals`` decimals, as ``np.round``."""

    decimals: int = 0

    @property
    def name(self) -> str:  # type: ignore[override]
        return "round" if self.decimals == 0 else f"round{{{self.decimals}}}"

    def impl(self, x: Any) -> Any:
        return np.round(x, self.decimals)


# --- comparisons that select a value --------------------------------------------------------


def _select_grads(x: Any, y: Any, g: Any, x_wins: Any, y_wins: Any) -> list[Any]:
    # Neither wins at a tie (half each) nor where one is NaN (comparisons are false: zero).
    half = ew(Switch(), ew(EQ(), x, y), g * 0.5, 0)
    return [ew(Switch(), x_wins, g, half), ew(Switch(), y_wins, g, half)]


@dataclass(frozen=True)
class Maximum(BinaryMathOp):
    """The larger of two values (NaN if either is NaN).

    Gradient: to the larger input; at a tie each input gets half (so the sum of the two is the
    derivative of ``maximum(x, x) = x``). Where an input is NaN, both get zero.
    """

    name = "maximum"
    commutative = True
    impl = staticmethod(np.maximum)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x, y = inputs
        return _select_grads(x, y, grads[0], ew(GT(), x, y), ew(LT(), x, y))


@dataclass(frozen=True)
class Minimum(BinaryMathOp):
    """The smaller of two values (NaN if either is NaN). Gradient as :class:`Maximum`: to the
    smaller input, split equally at a tie."""

    name = "minimum"
    commutative = True
    impl = staticmethod(np.minimum)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x, y = inputs
        return _select_grads(x, y, grads[0], ew(LT(), x, y), ew(GT(), x, y))


@dataclass(frozen=True)
class Clip(MathOp):
    """``np.clip(x, lo, hi)``, i.e. ``minimum(maximum(x, lo), hi)`` (``hi`` wins if
    ``lo > hi``).

    Gradient: the output gradient goes to whichever input the output equals: ``hi`` where
    ``x > hi`` or ``lo > hi``, else ``lo`` where ``x < lo``, else ``x`` (so ``x`` on the closed
    interval ``[lo, hi]``, including its ends).
    """

    name = "clip"
    nin = 3
    impl = staticmethod(np.clip)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x, lo, hi = inputs
        g = grads[0]
        hi_on = ew(OR(), ew(GT(), x, hi), ew(GT(), lo, hi))
        lo_on = ew(AND(), ew(Invert(), hi_on), ew(LT(), x, lo))
        x_on = ew(Invert(), ew(OR(), hi_on, lo_on))
        return [ew(Switch(), x_on, g, 0), ew(Switch(), lo_on, g, 0), ew(Switch(), hi_on, g, 0)]


# --- absolute value and complex parts -------------------------------------------------------


@dataclass(frozen=True)
class Abs(UnaryMathOp):
    """``|x|``; real-valued for complex ``x``. Gradient ``sign(x)`` (0 at 0) for real ``x``,
    ``conj(z) / |z|`` (0 at 0) for complex ``z`` (JAX's convention, see the module docs)."""

    name = "abs"
    impl = staticmethod(np.abs)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        x, g = inputs[0], grads[0]
        if not _is_complex(x):
            return [g * ew(Sign(), x)]
        r = outputs[0]
        return [g * ew(Conj(), x) / ew(Switch(), ew(EQ(), r, 0), 1, r)]


def _copy(fn: Any) -> Any:
    # np.real / np.imag return a view (or a read-only array) of real input; outputs of a node
    # must be fresh arrays, or a later in-place op would write into the input.
    def impl(x: Any) -> Any:
        return np.array(fn(x))

    impl.__name__ = fn.__name__
    return impl


@dataclass(frozen=True)
class Real(UnaryMathOp):
    name = "real"
    impl = staticmethod(_copy(np.real))

    def pullback(self, inputs, outputs, grads):
        # JAX convention: the cotangent passes unchanged (and becomes complex).
        return [grads[0]]


@dataclass(frozen=True)
class Imag(UnaryMathOp):
    name = "imag"
    impl = staticmethod(_copy(np.imag))

    def pullback(self, inputs, outputs, grads):
        x, g = inputs[0], grads[0]
        if not _is_complex(x):
            return [ZERO_GRAD]  # imag of a real number is the constant 0
        return [g * -1j]


@dataclass(frozen=True)
class Conj(UnaryMathOp):
    name = "conj"
    impl = staticmethod(np.conjugate)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):
        g = grads[0]
        return [ew(Conj(), g) if _is_complex(g) else g]


@dataclass(frozen=True)
class Angle(UnaryMathOp):
    """The argument of a complex number, ``arctan2(imag, real)`` (0 or pi for real input)."""

    name = "angle"
    impl = staticmethod(np.angle)

    def pullback(self, inputs, outputs, grads):
        x, g = inputs[0], grads[0]
        if not _is_complex(x):
            return [ZERO_GRAD]  # piecewise constant for real input
        r2 = ew(Square(), ew(Abs(), x))
        return [g * -1j * ew(Conj(), x) / ew(Switch(), ew(EQ(), r2, 0), 1, r2)]


# --- floating-point class tests -------------------------------------------------------------


@dataclass(frozen=True)
class IsNan(PredicateOp):
    name = "isnan"
    impl = staticmethod(np.isnan)  # type: ignore[assignment]


@dataclass(frozen=True)
class IsInf(PredicateOp):
    name = "isinf"
    impl = staticmethod(np.isinf)  # type: ignore[assignment]


@dataclass(frozen=True)
class IsFinite(PredicateOp):
    name = "isfinite"
    impl = staticmethod(np.isfinite)  # type: ignore[assignment]
