"""Scalar ops of the special functions that log-densities need (normal CDF, incomplete gamma
and beta functions, Bessel functions, ``xlogy`` ...), with SciPy's semantics.

Each op's ``impl`` is the SciPy (or NumPy) ufunc, so the reference is SciPy itself and the
output dtype is the one of the ufunc loop NumPy picks (float32 stays float32, integers give
float64; ``ndtri`` of ``int8`` is float32, as in SciPy). Gradients are written with gnomon
tensor functions and are exact; the derivatives of ``gammainc`` / ``gammaincc`` with respect
to ``a`` and of ``betainc`` with respect to ``a`` and ``b`` have no closed form and are their own
scalar ops (:class:`GammaIncDerA`, :class:`BetaIncDer`), computed by differentiating the series
and continued fractions (:mod:`gnomon.scalar.special_numpy` for the reference,
:mod:`gnomon.scalar.special_kernels`, the same steps per element, for compiled backends).

Real inputs only: complex inputs are refused at graph-build time by ops whose SciPy function
has no complex loop, and backends lower real dtypes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special as sp

from gnomon.graph.op import grad_not_implemented
from gnomon.scalar import special_numpy as snp
from gnomon.scalar.basic import EQ, Switch
from gnomon.scalar.basic import elementwise as ew
from gnomon.scalar.math import (
    BinaryMathOp,
    Digamma,
    Erfcx,
    Exp,
    Exp2,
    GammaLn,
    Log,
    Log1p,
    MathOp,
    Sign,
    Square,
    UnaryMathOp,
)

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_LN2 = math.log(2.0)


def _real_only(op: MathOp, dtypes: tuple[str, ...]) -> None:
    from gnomon.errors import GnomonTypeError

    if any(np.dtype(d).kind == "c" for d in dtypes):
        raise GnomonTypeError(
            f"{op.name} is implemented for real inputs only, got {', '.join(dtypes)}.\n"
            "Hint: pass real values (gt.real(z) / gt.abs(z)), or call scipy.special directly."
        )


class SpecialOp(MathOp):
    """Base of the ops here: NumPy/SciPy's dtype rule, real inputs only."""

    def output_dtypes(self, *dtypes: str) -> tuple[str, ...]:
        _real_only(self, dtypes)
        return super().output_dtypes(*dtypes)


class UnarySpecialOp(SpecialOp, UnaryMathOp):
    pass


class BinarySpecialOp(SpecialOp, BinaryMathOp):
    pass


# --- the normal distribution ----------------------------------------------------------------


@dataclass(frozen=True)
class Ndtr(UnarySpecialOp):
    """The standard normal CDF ``Phi(x)``."""

    name = "ndtr"
    impl = staticmethod(sp.ndtr)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x = inputs[0]
        return [grads[0] * (ew(Exp(), ew(Square(), x) * -0.5) / _SQRT_2PI)]


@dataclass(frozen=True)
class LogNdtr(UnarySpecialOp):
    """``log(Phi(x))``, accurate in both tails."""

    name = "log_ndtr"
    impl = staticmethod(sp.log_ndtr)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        # phi(x) / Phi(x) = sqrt(2/pi) / erfcx(-x/sqrt(2)): finite for very negative x, where
        # phi and Phi both underflow, and tends to 0 (1/inf) for large x.
        return [grads[0] * (_SQRT_2_OVER_PI / ew(Erfcx(), inputs[0] * -_SQRT_HALF))]


@dataclass(frozen=True)
class Ndtri(UnarySpecialOp):
    """The inverse of :class:`Ndtr` (the standard normal quantile function)."""

    name = "ndtri"
    impl = staticmethod(sp.ndtri)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grads[0] * (ew(Exp(), ew(Square(), outputs[0]) * 0.5) * _SQRT_2PI)]


# --- log-sum-exp and x log y ----------------------------------------------------------------


@dataclass(frozen=True)
class LogAddExp(BinarySpecialOp):
    """``log(exp(x) + exp(y))`` without overflow (``np.logaddexp``)."""

    name = "logaddexp"
    commutative = True
    impl = staticmethod(np.logaddexp)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x, y = inputs
        out, g = outputs[0], grads[0]
        return [g * ew(Exp(), x - out), g * ew(Exp(), y - out)]


@dataclass(frozen=True)
class LogAddExp2(BinarySpecialOp):
    """``log2(2**x + 2**y)`` without overflow (``np.logaddexp2``)."""

    name = "logaddexp2"
    commutative = True
    impl = staticmethod(np.logaddexp2)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x, y = inputs
        out, g = outputs[0], grads[0]
        return [g * ew(Exp2(), x - out), g * ew(Exp2(), y - out)]


def _x_over(x: Any, den: Any) -> Any:
    # x / den, but 0 where x == 0 (the derivative of 0 * log(y) in y is 0, even at y = 0)
    zero = ew(EQ(), x, 0)
    return ew(Switch(), zero, 0, x / ew(Switch(), zero, 1, den))


@dataclass(frozen=True)
class Xlogy(BinarySpecialOp):
    """``x * log(y)``, 0 where ``x == 0`` (unless ``y`` is NaN)."""

    name = "xlogy"
    impl = staticmethod(sp.xlogy)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x, y = inputs
        g = grads[0]
        return [g * ew(Log(), y), g * _x_over(x, y)]


@dataclass(frozen=True)
class Xlog1py(BinarySpecialOp):
    """``x * log1p(y)``, 0 where ``x == 0`` (unless ``y`` is NaN)."""

    name = "xlog1py"
    impl = staticmethod(sp.xlog1py)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x, y = inputs
        g = grads[0]
        return [g * ew(Log1p(), y), g * _x_over(x, y + 1)]


# --- beta and gamma functions ---------------------------------------------------------------


@dataclass(frozen=True)
class BetaLn(BinarySpecialOp):
    """``log|B(a, b)|``."""

    name = "betaln"
    commutative = True
    impl = staticmethod(sp.betaln)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, b = inputs
        g = grads[0]
        dab = ew(Digamma(), a + b)
        return [g * (ew(Digamma(), a) - dab), g * (ew(Digamma(), b) - dab)]


def _gamma_density(a: Any, x: Any) -> Any:
    """``dP(a, x)/dx = x**(a-1) exp(-x) / Gamma(a)``, in log space."""
    return ew(Exp(), ew(Xlogy(), a - 1, x) - x - ew(GammaLn(), a))


def _beta_density(a: Any, b: Any, x: Any) -> Any:
    """``dI_x(a, b)/dx = x**(a-1) (1-x)**(b-1) / B(a, b)``, in log space."""
    return ew(Exp(), ew(Xlogy(), a - 1, x) + ew(Xlog1py(), b - 1, -x) - ew(BetaLn(), a, b))


def _vectorized(fn: Any, like: Any) -> Any:
    """A NumPy reference from a vectorized float64 function of :mod:`special_numpy`, with the
    output dtype of the SciPy ufunc ``like`` for the same inputs."""

    def impl(*args: Any) -> Any:
        args = [np.asarray(a) for a in args]
        with np.errstate(all="ignore"):
            dtype = like(*[np.ones(1, a.dtype) for a in args]).dtype
        return np.asarray(fn(*args)).astype(dtype)

    impl.__name__ = fn.__name__
    return impl


@dataclass(frozen=True)
class GammaIncDerA(BinarySpecialOp):
    """``d/da gammainc(a, x)`` (no closed form: the series of ``P(a, x)`` for ``x < a + 1``
    and Legendre's continued fraction of ``Q(a, x)`` otherwise, differentiated in ``a``)."""

    name = "gammainc_der_a"
    impl = staticmethod(_vectorized(snp.gammainc_da, sp.gammainc))  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grad_not_implemented(self, i, x, "second derivatives of gammainc in a")
                for i, x in enumerate(inputs)]


@dataclass(frozen=True)
class GammaInc(BinarySpecialOp):
    """The regularized lower incomplete gamma function ``P(a, x)``."""

    name = "gammainc"
    impl = staticmethod(sp.gammainc)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, x = inputs
        g = grads[0]
        return [g * ew(GammaIncDerA(), a, x), g * _gamma_density(a, x)]


@dataclass(frozen=True)
class GammaIncC(BinarySpecialOp):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""

    name = "gammaincc"
    impl = staticmethod(sp.gammaincc)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, x = inputs
        g = grads[0]
        return [-(g * ew(GammaIncDerA(), a, x)), -(g * _gamma_density(a, x))]


@dataclass(frozen=True)
class GammaIncInv(BinarySpecialOp):
    """The inverse of :class:`GammaInc` in ``x``: ``P(a, gammaincinv(a, y)) == y``."""

    name = "gammaincinv"
    impl = staticmethod(sp.gammaincinv)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        # inverse-function rule: dx/dy = 1 / P_x, dx/da = -P_a / P_x
        a = inputs[0]
        x, g = outputs[0], grads[0]
        gx = g / _gamma_density(a, x)
        return [-(gx * ew(GammaIncDerA(), a, x)), gx]


@dataclass(frozen=True)
class GammaIncCInv(BinarySpecialOp):
    """The inverse of :class:`GammaIncC` in ``x``: ``Q(a, gammainccinv(a, y)) == y``."""

    name = "gammainccinv"
    impl = staticmethod(sp.gammainccinv)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        # Q_x = -P_x, Q_a = -P_a: dx/dy = -1 / P_x, dx/da = -Q_a / Q_x = -P_a / P_x
        a = inputs[0]
        x, g = outputs[0], grads[0]
        gx = g / _gamma_density(a, x)
        return [-(gx * ew(GammaIncDerA(), a, x)), -gx]


def _betainc_der(wrt: int) -> Any:
    def der(a: Any, b: Any, x: Any) -> Any:
        return snp.betainc_dab(a, b, x, wrt)

    der.__name__ = f"betainc_der_{'ab'[wrt]}"
    return _vectorized(der, sp.betainc)


_BETAINC_DER = (_betainc_der(0), _betainc_der(1))


@dataclass(frozen=True)
class BetaIncDer(SpecialOp):
    """``d/da`` (``wrt=0``) or ``d/db`` (``wrt=1``) of ``betainc(a, b, x)`` (the continued
    fraction of ``I_x(a, b)``, or of its complement, differentiated in ``a`` and ``b``)."""

    wrt: int
    nin = 3

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"betainc_der_{'ab'[self.wrt]}"

    def impl(self, a: Any, b: Any, x: Any) -> Any:
        return _BETAINC_DER[self.wrt](a, b, x)

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grad_not_implemented(self, i, x, "second derivatives of betainc in a, b")
                for i, x in enumerate(inputs)]


@dataclass(frozen=True)
class BetaInc(SpecialOp):
    """The regularized incomplete beta function ``I_x(a, b)``."""

    name = "betainc"
    nin = 3
    impl = staticmethod(sp.betainc)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, b, x = inputs
        g = grads[0]
        return [g * ew(BetaIncDer(0), a, b, x), g * ew(BetaIncDer(1), a, b, x),
                g * _beta_density(a, b, x)]


@dataclass(frozen=True)
class BetaIncInv(SpecialOp):
    """The inverse of :class:`BetaInc` in ``x``: ``I(a, b, betaincinv(a, b, y)) == y``."""

    name = "betaincinv"
    nin = 3
    impl = staticmethod(sp.betaincinv)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, b = inputs[0], inputs[1]
        x, g = outputs[0], grads[0]
        gx = g / _beta_density(a, b, x)
        return [-(gx * ew(BetaIncDer(0), a, b, x)), -(gx * ew(BetaIncDer(1), a, b, x)), gx]


# --- modified Bessel functions of the first kind --------------------------------------------


def _safe_ratio(num: Any, x: Any, at_zero: float) -> Any:
    # num / x, with its limit ``at_zero`` at x == 0
    zero = ew(EQ(), x, 0)
    return ew(Switch(), zero, at_zero, num / ew(Switch(), zero, 1, x))


@dataclass(frozen=True)
class I0(UnarySpecialOp):
    """The modified Bessel function of the first kind of order 0."""

    name = "i0"
    impl = staticmethod(sp.i0)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        return [grads[0] * ew(I1(), inputs[0])]


@dataclass(frozen=True)
class I0e(UnarySpecialOp):
    """``exp(-|x|) * i0(x)``."""

    name = "i0e"
    impl = staticmethod(sp.i0e)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x = inputs[0]
        return [grads[0] * (ew(I1e(), x) - ew(Sign(), x) * outputs[0])]


@dataclass(frozen=True)
class I1(UnarySpecialOp):
    """The modified Bessel function of the first kind of order 1."""

    name = "i1"
    impl = staticmethod(sp.i1)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        # I1' = I0 - I1 / x, which is 1/2 at 0
        x = inputs[0]
        return [grads[0] * (ew(I0(), x) - _safe_ratio(outputs[0], x, 0.5))]


@dataclass(frozen=True)
class I1e(UnarySpecialOp):
    """``exp(-|x|) * i1(x)``."""

    name = "i1e"
    impl = staticmethod(sp.i1e)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        x, out = inputs[0], outputs[0]
        d = ew(I0e(), x) - _safe_ratio(out, x, 0.5) - ew(Sign(), x) * out
        return [grads[0] * d]


# --- hypergeometric -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyp2F1(SpecialOp):
    """The Gauss hypergeometric function ``2F1(a, b; c; z)``."""

    name = "hyp2f1"
    nin = 4
    impl = staticmethod(sp.hyp2f1)  # type: ignore[assignment]

    def pullback(self, inputs, outputs, grads):  # type: ignore[no-untyped-def]
        a, b, c, z = inputs
        g = grads[0]
        why = "the derivative of hyp2f1 in its parameters has no closed form"
        dz = g * (a * b / c) * ew(Hyp2F1(), a + 1, b + 1, c + 1, z)
        return [grad_not_implemented(self, 0, a, why), grad_not_implemented(self, 1, b, why),
                grad_not_implemented(self, 2, c, why), dz]
