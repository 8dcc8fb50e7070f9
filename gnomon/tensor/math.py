"""Elementwise math: arithmetic, comparisons, logic and the special functions.

Each user function builds an :class:`~gnomon.tensor.elemwise.Elemwise` node of one scalar op
(see :mod:`gnomon.scalar`); they broadcast like NumPy and follow NumPy's dtype rules.
"""

from __future__ import annotations

from typing import Any

from gnomon.scalar import basic as ps
from gnomon.tensor.elemwise import Elemwise

__all__ = [
    "add", "mul", "sub", "true_divide", "divide", "floor_divide", "mod", "power", "pow",
    "neg", "negative", "identity",
    "lt", "gt", "le", "ge", "eq", "neq",
    "less", "greater", "less_equal", "greater_equal", "equal", "not_equal",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "and_", "or_", "xor", "bitwise_not",
    "where", "switch",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh",
    "sigmoid", "expit", "softplus", "log1mexp", "logit",
    "erf", "erfc", "erfcx", "erfinv", "gammaln", "gamma", "digamma", "psi", "polygamma",
    "sign", "floor", "ceil", "trunc", "round", "around",
    "maximum", "minimum", "clip",
    "abs", "absolute", "real", "imag", "conj", "conjugate", "angle",
    "isnan", "isinf", "isfinite",
]


def _ew(scalar_op: ps.ScalarOp, *args: Any) -> Any:
    return Elemwise(scalar_op)(*args)


# --- arithmetic ----------------------------------------------------------------------------


def add(a: Any, b: Any, *rest: Any) -> Any:
    """Elementwise ``a + b (+ ...)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.add(1.0, 2.0, 3.0).eval())
    6.0
    """
    return _ew(ps.Add(), a, b, *rest)


def mul(a: Any, b: Any, *rest: Any) -> Any:
    """Elementwise ``a * b (* ...)``."""
    return _ew(ps.Mul(), a, b, *rest)


def sub(a: Any, b: Any) -> Any:
    """Elementwise ``a - b``."""
    return _ew(ps.Sub(), a, b)


def true_divide(a: Any, b: Any) -> Any:
    """Elementwise ``a / b`` (integers give floats, as in NumPy)."""
    return _ew(ps.TrueDiv(), a, b)


divide = true_divide


def floor_divide(a: Any, b: Any) -> Any:
    """Elementwise ``a // b``."""
    return _ew(ps.FloorDiv(), a, b)


def mod(a: Any, b: Any) -> Any:
    """Elementwise ``a % b`` (sign of the divisor, as in NumPy)."""
    return _ew(ps.Mod(), a, b)


def power(a: Any, b: Any) -> Any:
    """Elementwise ``a ** b``."""
    return _ew(ps.Pow(), a, b)


pow = power


def neg(a: Any) -> Any:
    """Elementwise ``-a``."""
    return _ew(ps.Neg(), a)


negative = neg


def identity(a: Any) -> Any:
    """A copy of ``a`` (an explicit node; rewrites remove it where it is useless)."""
    return _ew(ps.Identity(), a)


# --- comparisons and logic -----------------------------------------------------------------


def lt(a: Any, b: Any) -> Any:
    """Elementwise ``a < b`` (boolean)."""
    return _ew(ps.LT(), a, b)


def gt(a: Any, b: Any) -> Any:
    """Elementwise ``a > b`` (boolean)."""
    return _ew(ps.GT(), a, b)


def le(a: Any, b: Any) -> Any:
    """Elementwise ``a <= b`` (boolean)."""
    return _ew(ps.LE(), a, b)


def ge(a: Any, b: Any) -> Any:
    """Elementwise ``a >= b`` (boolean)."""
    return _ew(ps.GE(), a, b)


def eq(a: Any, b: Any) -> Any:
    """Elementwise ``a == b`` (boolean). ``==`` on variables is identity, use this instead."""
    return _ew(ps.EQ(), a, b)


def neq(a: Any, b: Any) -> Any:
    """Elementwise ``a != b`` (boolean)."""
    return _ew(ps.NEQ(), a, b)


less, greater, less_equal, greater_equal, equal, not_equal = lt, gt, le, ge, eq, neq


def bitwise_and(a: Any, b: Any) -> Any:
    """Elementwise ``a & b`` (logical and on booleans)."""
    return _ew(ps.AND(), a, b)


def bitwise_or(a: Any, b: Any) -> Any:
    """Elementwise ``a | b`` (logical or on booleans)."""
    return _ew(ps.OR(), a, b)


def bitwise_xor(a: Any, b: Any) -> Any:
    """Elementwise ``a ^ b``."""
    return _ew(ps.XOR(), a, b)


def invert(a: Any) -> Any:
    """Elementwise ``~a`` (logical not on booleans)."""
    return _ew(ps.Invert(), a)


and_, or_, xor, bitwise_not = bitwise_and, bitwise_or, bitwise_xor, invert


def where(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` is true, else ``b`` (like ``np.where`` with three arguments).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.where(gt.constant([True, False]), 1.0, 2.0).eval().tolist()
    [1.0, 2.0]
    """
    from gnomon.tensor.basic import as_tensor

    c = as_tensor(cond)
    if c.dtype != "bool":
        c = neq(c, 0)
    return _ew(ps.Switch(), c, a, b)


switch = where


# --- elementwise math functions ------------------------------------------------------------
#
# Each function maps one scalar op of :mod:`gnomon.scalar.math` over its inputs. Output dtypes
# are NumPy's (SciPy's for the special functions): integer and boolean inputs of a float
# function give float64 (``exp(int32)`` is ``float64``), float32 stays float32. The gradient
# conventions for complex inputs (JAX's) are described in :mod:`gnomon.scalar.math`.

from gnomon.scalar import math as sm  # noqa: E402


def exp(x: Any) -> Any:
    """Elementwise ``e**x``.

    Parameters
    ----------
    x : array_like
        Exponents.

    Returns
    -------
    TensorVariable
        ``e**x`` (float64 for integer input, as in NumPy).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.exp(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [1.0, 2.7183]
    """
    return _ew(sm.Exp(), x)


def exp2(x: Any) -> Any:
    """Elementwise ``2**x``.

    Parameters
    ----------
    x : array_like
        Exponents.

    Returns
    -------
    TensorVariable
        ``2**x`` (float64 for integer input, as in NumPy).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.exp2(gt.constant([0.0, 3.0])).eval().tolist()
    [1.0, 8.0]
    """
    return _ew(sm.Exp2(), x)


def expm1(x: Any) -> Any:
    """Elementwise ``exp(x) - 1``, accurate for ``x`` near 0.

    Parameters
    ----------
    x : array_like
        Exponents.

    Returns
    -------
    TensorVariable
        ``exp(x) - 1`` without the cancellation of computing it that way.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> f"{float(gt.expm1(1e-10).eval()):.11e}"
    '1.00000000005e-10'
    """
    return _ew(sm.Expm1(), x)


def log(x: Any) -> Any:
    """Elementwise natural logarithm.

    Parameters
    ----------
    x : array_like
        Positive values (``log(0) = -inf``, negative values give NaN).

    Returns
    -------
    TensorVariable
        ``ln(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.log(gt.constant([1.0, 0.0])).eval().tolist()
    [0.0, -inf]
    """
    return _ew(sm.Log(), x)


def log2(x: Any) -> Any:
    """Elementwise base-2 logarithm.

    Parameters
    ----------
    x : array_like
        Positive values.

    Returns
    -------
    TensorVariable
        ``log2(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.log2(gt.constant([1.0, 8.0])).eval().tolist()
    [0.0, 3.0]
    """
    return _ew(sm.Log2(), x)


def log10(x: Any) -> Any:
    """Elementwise base-10 logarithm.

    Parameters
    ----------
    x : array_like
        Positive values.

    Returns
    -------
    TensorVariable
        ``log10(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.log10(gt.constant([1.0, 1000.0])).eval().tolist()
    [0.0, 3.0]
    """
    return _ew(sm.Log10(), x)


def log1p(x: Any) -> Any:
    """Elementwise ``log(1 + x)``, accurate for ``x`` near 0.

    Parameters
    ----------
    x : array_like
        Values greater than -1.

    Returns
    -------
    TensorVariable
        ``log(1 + x)`` without the rounding of ``1 + x``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> f"{float(gt.log1p(1e-10).eval()):.10e}"
    '9.9999999995e-11'
    """
    return _ew(sm.Log1p(), x)


def sqrt(x: Any) -> Any:
    """Elementwise non-negative square root.

    Parameters
    ----------
    x : array_like
        Non-negative values (negative real values give NaN).

    Returns
    -------
    TensorVariable
        ``sqrt(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sqrt(gt.constant([4.0, 9.0])).eval().tolist()
    [2.0, 3.0]
    """
    return _ew(sm.Sqrt(), x)


def square(x: Any) -> Any:
    """Elementwise ``x * x`` (integer input stays integer, as in NumPy).

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``x**2``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.square(gt.constant([-3, 2])).eval().tolist()
    [9, 4]
    """
    return _ew(sm.Square(), x)


def reciprocal(x: Any) -> Any:
    """Elementwise ``1 / x``.

    Like ``np.reciprocal``, integer input gives an integer result (``reciprocal(2) == 0``);
    cast to float first for the real reciprocal.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``1 / x``, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.reciprocal(gt.constant([2.0, 0.25])).eval().tolist()
    [0.5, 4.0]
    """
    return _ew(sm.Reciprocal(), x)


# --- trigonometric and hyperbolic -----------------------------------------------------------


def sin(x: Any) -> Any:
    """Elementwise sine (of radians).

    Parameters
    ----------
    x : array_like
        Angles in radians.

    Returns
    -------
    TensorVariable
        ``sin(x)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.sin(gt.constant([0.0, np.pi / 2])).eval().tolist()
    [0.0, 1.0]
    """
    return _ew(sm.Sin(), x)


def cos(x: Any) -> Any:
    """Elementwise cosine (of radians).

    Parameters
    ----------
    x : array_like
        Angles in radians.

    Returns
    -------
    TensorVariable
        ``cos(x)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.cos(gt.constant([0.0, np.pi])).eval().tolist()
    [1.0, -1.0]
    """
    return _ew(sm.Cos(), x)


def tan(x: Any) -> Any:
    """Elementwise tangent (of radians).

    Parameters
    ----------
    x : array_like
        Angles in radians.

    Returns
    -------
    TensorVariable
        ``tan(x)``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.tan(gt.constant([0.0, np.pi / 4])).eval().round(6).tolist()
    [0.0, 1.0]
    """
    return _ew(sm.Tan(), x)


def arcsin(x: Any) -> Any:
    """Elementwise inverse sine, in ``[-pi/2, pi/2]``.

    Parameters
    ----------
    x : array_like
        Values in ``[-1, 1]`` (NaN outside).

    Returns
    -------
    TensorVariable
        ``arcsin(x)`` in radians.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arcsin(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 1.5708]
    """
    return _ew(sm.ArcSin(), x)


def arccos(x: Any) -> Any:
    """Elementwise inverse cosine, in ``[0, pi]``.

    Parameters
    ----------
    x : array_like
        Values in ``[-1, 1]`` (NaN outside).

    Returns
    -------
    TensorVariable
        ``arccos(x)`` in radians.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arccos(gt.constant([1.0, -1.0])).eval().round(4).tolist()
    [0.0, 3.1416]
    """
    return _ew(sm.ArcCos(), x)


def arctan(x: Any) -> Any:
    """Elementwise inverse tangent, in ``(-pi/2, pi/2)``.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``arctan(x)`` in radians.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arctan(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.7854]
    """
    return _ew(sm.ArcTan(), x)


def arctan2(y: Any, x: Any) -> Any:
    """Elementwise angle of the point ``(x, y)``: ``arctan(y / x)`` in the right quadrant.

    Note the argument order, ``y`` first, as in NumPy. Broadcasts like NumPy.

    Parameters
    ----------
    y : array_like
        y-coordinates.
    x : array_like
        x-coordinates.

    Returns
    -------
    TensorVariable
        Angles in ``[-pi, pi]``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arctan2(gt.constant([1.0, -1.0]), -1.0).eval().round(4).tolist()
    [2.3562, -2.3562]
    """
    return _ew(sm.ArcTan2(), y, x)


def sinh(x: Any) -> Any:
    """Elementwise hyperbolic sine.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``sinh(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sinh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 1.1752]
    """
    return _ew(sm.Sinh(), x)


def cosh(x: Any) -> Any:
    """Elementwise hyperbolic cosine.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``cosh(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.cosh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [1.0, 1.5431]
    """
    return _ew(sm.Cosh(), x)


def tanh(x: Any) -> Any:
    """Elementwise hyperbolic tangent.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``tanh(x)``, in ``(-1, 1)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.tanh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.7616]
    """
    return _ew(sm.Tanh(), x)


def arcsinh(x: Any) -> Any:
    """Elementwise inverse hyperbolic sine.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``arcsinh(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arcsinh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.8814]
    """
    return _ew(sm.ArcSinh(), x)


def arccosh(x: Any) -> Any:
    """Elementwise inverse hyperbolic cosine.

    Parameters
    ----------
    x : array_like
        Values ``>= 1`` (NaN below).

    Returns
    -------
    TensorVariable
        ``arccosh(x) >= 0``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arccosh(gt.constant([1.0, 2.0])).eval().round(4).tolist()
    [0.0, 1.317]
    """
    return _ew(sm.ArcCosh(), x)


def arctanh(x: Any) -> Any:
    """Elementwise inverse hyperbolic tangent.

    Parameters
    ----------
    x : array_like
        Values in ``(-1, 1)`` (``+-inf`` at ``+-1``, NaN outside).

    Returns
    -------
    TensorVariable
        ``arctanh(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.arctanh(gt.constant([0.0, 0.5])).eval().round(4).tolist()
    [0.0, 0.5493]
    """
    return _ew(sm.ArcTanh(), x)


# NumPy 2 (array API) spellings.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh


# --- logistic family ------------------------------------------------------------------------


def sigmoid(x: Any) -> Any:
    """Elementwise logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``).

    Finite for every finite ``x``: 0 far to the left, 1 far to the right, no overflow warnings.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        Values in ``[0, 1]``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sigmoid(gt.constant([0.0, -800.0, 800.0])).eval().tolist()
    [0.5, 0.0, 1.0]
    """
    return _ew(sm.Sigmoid(), x)


expit = sigmoid


def softplus(x: Any) -> Any:
    """Elementwise ``log(1 + exp(x))``, computed stably.

    Evaluated as ``max(x, 0) + log1p(exp(-|x|))``, so it neither overflows for large ``x``
    (``softplus(1000) == 1000``) nor loses small values for very negative ``x``.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``log(1 + exp(x)) > 0``; its derivative is :func:`sigmoid`.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.softplus(gt.constant([1000.0, 0.0, -1000.0])).eval().round(4).tolist()
    [1000.0, 0.6931, 0.0]
    """
    return _ew(sm.Softplus(), x)


def log1mexp(x: Any) -> Any:
    """Elementwise ``log(1 - exp(x))`` for ``x <= 0``, accurate over the whole range.

    Uses ``log(-expm1(x))`` for ``x > -log(2)`` and ``log1p(-exp(x))`` below (Maechler, 2012):
    each form is accurate where the other loses digits. ``log1mexp(0) = -inf``; positive ``x``
    gives NaN.

    Parameters
    ----------
    x : array_like
        Non-positive values (log-probabilities, typically).

    Returns
    -------
    TensorVariable
        ``log(1 - exp(x))``, the log of the complementary probability.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> float(gt.log1mexp(np.log(0.25)).eval()) == float(np.log(0.75))
    True
    >>> f"{float(gt.log1mexp(-1e-20).eval()):.6f}"  # log(1e-20); naively log(1 - 1) = -inf
    '-46.051702'
    """
    return _ew(sm.Log1mexp(), x)


def logit(p: Any) -> Any:
    """Elementwise log-odds ``log(p / (1 - p))``, the inverse of :func:`sigmoid`.

    Parameters
    ----------
    p : array_like
        Probabilities in ``[0, 1]`` (``+-inf`` at the ends, NaN outside).

    Returns
    -------
    TensorVariable
        ``logit(p)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.logit(gt.constant([0.5, 0.0, 1.0])).eval().tolist()
    [0.0, -inf, inf]
    """
    return _ew(sm.Logit(), p)


# --- special functions ----------------------------------------------------------------------


def erf(x: Any) -> Any:
    """Elementwise error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``erf(x)`` in ``[-1, 1]``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.erf(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.8427]
    """
    return _ew(sm.Erf(), x)


def erfc(x: Any) -> Any:
    """Elementwise complementary error function ``1 - erf(x)``, accurate for large ``x``.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``erfc(x)`` in ``[0, 2]``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> [f"{v:.4e}" for v in gt.erfc(gt.constant([0.0, 10.0])).eval()]
    ['1.0000e+00', '2.0885e-45']
    """
    return _ew(sm.Erfc(), x)


def erfcx(x: Any) -> Any:
    """Elementwise scaled complementary error function ``exp(x**2) * erfc(x)``.

    Finite where ``exp(x**2)`` alone would overflow; ``erfcx(x) ~ 1 / (x sqrt(pi))`` for large
    ``x``.

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``erfcx(x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.erfcx(gt.constant([0.0, 100.0])).eval().round(6).tolist()
    [1.0, 0.005642]
    """
    return _ew(sm.Erfcx(), x)


def erfinv(x: Any) -> Any:
    """Elementwise inverse of :func:`erf`.

    Parameters
    ----------
    x : array_like
        Values in ``[-1, 1]`` (``+-inf`` at the ends, NaN outside).

    Returns
    -------
    TensorVariable
        ``y`` with ``erf(y) == x``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.erfinv(gt.erf(gt.constant([0.0, 0.5]))).eval().round(6).tolist()
    [0.0, 0.5]
    """
    return _ew(sm.Erfinv(), x)


def gammaln(x: Any) -> Any:
    """Elementwise ``log|Gamma(x)|``, finite where ``Gamma`` itself overflows.

    Parameters
    ----------
    x : array_like
        Values (``+inf`` at the poles ``0, -1, -2, ...``).

    Returns
    -------
    TensorVariable
        ``log|Gamma(x)|``; its derivative is :func:`digamma`.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.gammaln(gt.constant([1.0, 4.0])).eval().round(4).tolist()
    [0.0, 1.7918]
    """
    return _ew(sm.GammaLn(), x)


def gamma(x: Any) -> Any:
    """Elementwise gamma function (``gamma(n) == (n-1)!``).

    Parameters
    ----------
    x : array_like
        Values (infinite at the poles ``0, -1, -2, ...``).

    Returns
    -------
    TensorVariable
        ``Gamma(x)``; overflows to ``inf`` above about 171.6 (use :func:`gammaln` there).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.gamma(gt.constant([1.0, 5.0])).eval().tolist()
    [1.0, 24.0]
    """
    return _ew(sm.Gamma(), x)


def digamma(x: Any) -> Any:
    """Elementwise digamma function ``psi(x) = d/dx log Gamma(x)``.

    Parameters
    ----------
    x : array_like
        Values (poles at ``0, -1, -2, ...``).

    Returns
    -------
    TensorVariable
        ``psi(x)``; its derivative is ``polygamma(1, x)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.digamma(gt.constant([1.0])).eval().round(4).tolist()
    [-0.5772]
    """
    return _ew(sm.Digamma(), x)


psi = digamma


def polygamma(n: int, x: Any) -> Any:
    """Elementwise ``n``-th derivative of :func:`digamma` (``n = 0`` is digamma itself).

    Parameters
    ----------
    n : int
        The order, a non-negative Python integer (a graph parameter, not a tensor).
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        ``psi^(n)(x)``; float32 input stays float32 (SciPy itself returns float64).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> bool(np.isclose(gt.polygamma(1, 1.0).eval(), np.pi ** 2 / 6))
    True
    """
    import numbers

    from gnomon.errors import GnomonValueError

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise GnomonValueError(
            f"polygamma: the order n must be a non-negative Python integer, got {n!r}.\n"
            "Hint: pass n as an int; a symbolic order is not supported."
        )
    return _ew(sm.Digamma() if n == 0 else sm.Polygamma(int(n)), x)


# --- rounding and sign ----------------------------------------------------------------------


def sign(x: Any) -> Any:
    """Elementwise sign: ``-1``, ``0`` or ``1`` (NaN for NaN; ``z / |z|`` for complex ``z``).

    The gradient is zero (the function is piecewise constant); for complex input it is not
    implemented.

    Parameters
    ----------
    x : array_like
        Values (not boolean, as in NumPy).

    Returns
    -------
    TensorVariable
        The sign, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.sign(gt.constant([-2.5, 0.0, 3.0])).eval().tolist()
    [-1.0, 0.0, 1.0]
    """
    return _ew(sm.Sign(), x)


def floor(x: Any) -> Any:
    """Elementwise largest integer ``<= x`` (integer input is returned as is, as in NumPy).

    Zero gradient (piecewise constant).

    Parameters
    ----------
    x : array_like
        Real values.

    Returns
    -------
    TensorVariable
        ``floor(x)``, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.floor(gt.constant([-1.5, 1.5])).eval().tolist()
    [-2.0, 1.0]
    """
    return _ew(sm.Floor(), x)


def ceil(x: Any) -> Any:
    """Elementwise smallest integer ``>= x``. Zero gradient (piecewise constant).

    Parameters
    ----------
    x : array_like
        Real values.

    Returns
    -------
    TensorVariable
        ``ceil(x)``, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.ceil(gt.constant([-1.5, 1.5])).eval().tolist()
    [-1.0, 2.0]
    """
    return _ew(sm.Ceil(), x)


def trunc(x: Any) -> Any:
    """Elementwise rounding toward zero. Zero gradient (piecewise constant).

    Parameters
    ----------
    x : array_like
        Real values.

    Returns
    -------
    TensorVariable
        ``trunc(x)``, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.trunc(gt.constant([-1.5, 1.5])).eval().tolist()
    [-1.0, 1.0]
    """
    return _ew(sm.Trunc(), x)


def round(x: Any, decimals: int = 0) -> Any:
    """Elementwise rounding to ``decimals`` decimals, halves to even (``np.round``).

    Zero gradient (piecewise constant).

    Parameters
    ----------
    x : array_like
        Values.
    decimals : int
        Number of decimals (negative: round to tens, hundreds, ...).

    Returns
    -------
    TensorVariable
        Rounded values, of ``x``'s dtype (``float16`` for boolean input, as in NumPy).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.round(gt.constant([0.5, 1.5, 2.5, -0.5])).eval().tolist()
    [0.0, 2.0, 2.0, -0.0]
    >>> gt.round(gt.constant([1.234]), 2).eval().tolist()
    [1.23]
    """
    return _ew(sm.Round(int(decimals)), x)


around = round


# --- selecting and clipping -----------------------------------------------------------------


def maximum(x: Any, y: Any) -> Any:
    """Elementwise larger of ``x`` and ``y``, broadcasting like NumPy (NaN propagates).

    Gradient: the output gradient goes to the larger input; where ``x == y`` each input gets
    half of it. Where either input is NaN neither gets any.

    Parameters
    ----------
    x, y : array_like
        Values to compare.

    Returns
    -------
    TensorVariable
        ``max(x, y)`` elementwise.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.maximum(gt.constant([1.0, 5.0]), 3.0).eval().tolist()
    [3.0, 5.0]
    """
    return _ew(sm.Maximum(), x, y)


def minimum(x: Any, y: Any) -> Any:
    """Elementwise smaller of ``x`` and ``y``, broadcasting like NumPy (NaN propagates).

    Gradient: the output gradient goes to the smaller input; where ``x == y`` each input gets
    half of it. Where either input is NaN neither gets any.

    Parameters
    ----------
    x, y : array_like
        Values to compare.

    Returns
    -------
    TensorVariable
        ``min(x, y)`` elementwise.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.minimum(gt.constant([1.0, 5.0]), 3.0).eval().tolist()
    [1.0, 3.0]
    """
    return _ew(sm.Minimum(), x, y)


def clip(x: Any, lo: Any, hi: Any) -> Any:
    """Elementwise ``x`` limited to ``[lo, hi]`` (``np.clip``), broadcasting all three.

    As in NumPy, ``clip(x, lo, hi) = minimum(maximum(x, lo), hi)``: if ``lo > hi`` the result
    is ``hi``. One bound may be ``None`` (no limit on that side).

    Gradient: 1 with respect to ``x`` inside the closed interval ``[lo, hi]``, 0 outside; the
    gradient goes to ``lo`` where ``x < lo`` and to ``hi`` where ``x > hi`` (or ``lo > hi``).

    Parameters
    ----------
    x : array_like
        Values to clip.
    lo, hi : array_like or None
        Lower and upper bounds.

    Returns
    -------
    TensorVariable
        The clipped values.

    Raises
    ------
    GnomonValueError
        If both bounds are ``None``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.clip(gt.constant([-2.0, 0.5, 3.0]), 0.0, 1.0).eval().tolist()
    [0.0, 0.5, 1.0]
    >>> gt.clip(gt.constant([-2.0, 3.0]), None, 1.0).eval().tolist()
    [-2.0, 1.0]
    """
    if lo is None and hi is None:
        from gnomon.errors import GnomonValueError

        raise GnomonValueError(
            "clip: both bounds are None, so there is nothing to clip.\n"
            "Hint: give lo, hi or both (or use x itself)."
        )
    if lo is None:
        return minimum(x, hi)
    if hi is None:
        return maximum(x, lo)
    return _ew(sm.Clip(), x, lo, hi)


# --- absolute value and complex parts -------------------------------------------------------


def abs(x: Any) -> Any:  # shadows the builtin on purpose: NumPy's name, used by __abs__
    """Elementwise absolute value; real-valued for complex input (``|a + bj|``).

    Gradient: ``sign(x)`` for real ``x`` (0 at 0); for complex ``z`` it is ``conj(z) / |z|``
    (0 at 0) in JAX's convention (see :mod:`gnomon.scalar.math`).

    Parameters
    ----------
    x : array_like
        Values, real or complex.

    Returns
    -------
    TensorVariable
        ``|x|``; float32 for complex64, float64 for complex128.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.abs(gt.constant([-2.0, 3.0])).eval().tolist()
    [2.0, 3.0]
    >>> y = gt.abs(gt.constant([3 + 4j]))
    >>> y.dtype, y.eval().tolist()
    ('float64', [5.0])
    """
    return _ew(sm.Abs(), x)


absolute = abs


def real(x: Any) -> Any:
    """Elementwise real part (a copy of ``x`` for real input).

    Gradient (JAX convention): the output gradient itself, as a complex number for complex
    ``x``.

    Parameters
    ----------
    x : array_like
        Values, real or complex.

    Returns
    -------
    TensorVariable
        ``Re(x)``, real.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.real(gt.constant([1 + 2j])).eval().tolist()
    [1.0]
    """
    return _ew(sm.Real(), x)


def imag(x: Any) -> Any:
    """Elementwise imaginary part (zeros for real input).

    Gradient (JAX convention): ``-1j * g`` for complex ``x``; zero for real ``x``.

    Parameters
    ----------
    x : array_like
        Values, real or complex.

    Returns
    -------
    TensorVariable
        ``Im(x)``, real.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.imag(gt.constant([1 + 2j])).eval().tolist()
    [2.0]
    """
    return _ew(sm.Imag(), x)


def conj(x: Any) -> Any:
    """Elementwise complex conjugate (a copy of ``x`` for real input).

    Gradient (JAX convention): ``conj(g)``.

    Parameters
    ----------
    x : array_like
        Values, real or complex.

    Returns
    -------
    TensorVariable
        ``conj(x)``, of ``x``'s dtype.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.conj(gt.constant([1 + 2j])).eval().tolist()
    [(1-2j)]
    """
    return _ew(sm.Conj(), x)


conjugate = conj


def angle(x: Any) -> Any:
    """Elementwise argument of complex numbers, ``arctan2(imag(x), real(x))``, in radians.

    For real ``x`` it is 0 for ``x >= 0`` and ``pi`` for ``x < 0`` (zero gradient). For complex
    ``z`` the gradient is ``-1j * g * conj(z) / |z|**2`` (JAX convention; 0 at 0).

    Parameters
    ----------
    x : array_like
        Values, real or complex.

    Returns
    -------
    TensorVariable
        Angles in ``[-pi, pi]``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> gt.angle(gt.constant([1j, -1.0 + 0j])).eval().round(4).tolist()
    [1.5708, 3.1416]
    """
    return _ew(sm.Angle(), x)


# --- floating-point classes -----------------------------------------------------------------


def isnan(x: Any) -> Any:
    """Elementwise test for NaN (boolean, no gradient).

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        Boolean, ``True`` where ``x`` is NaN.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.isnan(gt.constant([1.0, np.nan, np.inf])).eval().tolist()
    [False, True, False]
    """
    return _ew(sm.IsNan(), x)


def isinf(x: Any) -> Any:
    """Elementwise test for positive or negative infinity (boolean, no gradient).

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        Boolean, ``True`` where ``x`` is ``+inf`` or ``-inf``.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.isinf(gt.constant([1.0, np.nan, -np.inf])).eval().tolist()
    [False, False, True]
    """
    return _ew(sm.IsInf(), x)


def isfinite(x: Any) -> Any:
    """Elementwise test for finite values (boolean, no gradient).

    Parameters
    ----------
    x : array_like
        Values.

    Returns
    -------
    TensorVariable
        Boolean, ``True`` where ``x`` is neither infinite nor NaN.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> gt.isfinite(gt.constant([1.0, np.nan, -np.inf])).eval().tolist()
    [True, False, False]
    """
    return _ew(sm.IsFinite(), x)
