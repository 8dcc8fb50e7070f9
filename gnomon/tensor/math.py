"""Elementwise math: arithmetic, comparisons, logic and the special functions.

Each user function builds an :class:`~gnomon.tensor.elemwise.Elemwise` node of one scalar op
(see :mod:`gnomon.scalar`); they broadcast like NumPy and follow NumPy's dtype rules.

Most of them are one row of a table: ``exp = _elementwise("exp", sm.Exp(), ...)`` gives the
name, the scalar op and the docstring (numpydoc, assembled by :func:`_elementwise`). Functions
that do more than map one op (``where``, ``polygamma``, ``round``, ``clip``) are written out.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from gnomon.scalar import basic as ps
from gnomon.scalar import math as sm
from gnomon.tensor.basic import TensorLike
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.variable import TensorVariable

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


def _elementwise(
    name: str,
    scalar_op: ps.ScalarOp,
    summary: str,
    *,
    args: str | None = None,
    params: dict[str, str] | None = None,
    returns: str | None = None,
    examples: str | None = None,
) -> Callable[..., Any]:
    """The user function ``name``: ``scalar_op`` mapped over its inputs by an Elemwise node.

    ``args`` spells its parameters (``"a, b"``, ``"a, b, *rest"``); by default they are the
    keys of ``params``, which describe them (``"x, y"`` describes two at once). The numpydoc
    docstring is ``summary`` (a first line, then any paragraphs) followed by the sections given:
    ``params`` (each an array_like), ``returns`` (a TensorVariable) and ``examples`` (doctest
    lines, which the test suite runs after ``import gnomon.tensor as gt`` and, when they use
    it, ``import numpy as np``).
    """
    names = (args or ", ".join(params or {})).split(", ")
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    sig = inspect.Signature(
        [inspect.Parameter(n.lstrip("*"), inspect.Parameter.VAR_POSITIONAL if n[0] == "*" else kind,
                           annotation="TensorLike") for n in names],
        return_annotation="TensorVariable",
    )
    nfixed = sum(n[0] != "*" for n in names)
    variadic = nfixed < len(names)

    def fn(*inputs: Any, **kwargs: Any) -> Any:
        if kwargs or len(inputs) < nfixed or (len(inputs) > nfixed and not variadic):
            try:  # keyword arguments, or the wrong number: let the signature sort them out
                inputs = sig.bind(*inputs, **kwargs).args
            except TypeError as e:
                raise TypeError(f"{name}(): {e}") from None
        return Elemwise(scalar_op)(*inputs)

    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = sig  # type: ignore[attr-defined]
    fn.__annotations__ = {n.lstrip("*"): "TensorLike" for n in names}
    fn.__annotations__["return"] = "TensorVariable"
    fn.__doc__ = _numpydoc(summary, params, returns, examples)
    return fn


def _numpydoc(
    summary: str, params: dict[str, str] | None, returns: str | None, examples: str | None
) -> str:
    doc = [inspect.cleandoc(summary)]
    if params:
        doc.append("Parameters\n----------\n" + "\n".join(
            f"{n} : array_like\n    {text}" for n, text in params.items()))
    if returns:
        doc.append(f"Returns\n-------\nTensorVariable\n    {returns}")
    if examples:
        lines = inspect.cleandoc(examples)
        imports = "numpy as np, gnomon.tensor as gt" if "np." in lines else "gnomon.tensor as gt"
        doc.append(f"Examples\n--------\n>>> import {imports}\n{lines}")
    return "\n\n".join(doc) + "\n"


# --- arithmetic ----------------------------------------------------------------------------


add = _elementwise(
    "add", ps.Add(), "Elementwise ``a + b (+ ...)``.", args="a, b, *rest",
    examples="""
    >>> float(gt.add(1.0, 2.0, 3.0).eval())
    6.0
    """,
)
mul = _elementwise("mul", ps.Mul(), "Elementwise ``a * b (* ...)``.", args="a, b, *rest")
sub = _elementwise("sub", ps.Sub(), "Elementwise ``a - b``.", args="a, b")
true_divide = _elementwise(
    "true_divide", ps.TrueDiv(), "Elementwise ``a / b`` (integers give floats, as in NumPy).",
    args="a, b",
)
divide = true_divide
floor_divide = _elementwise("floor_divide", ps.FloorDiv(), "Elementwise ``a // b``.", args="a, b")
mod = _elementwise(
    "mod", ps.Mod(), "Elementwise ``a % b`` (sign of the divisor, as in NumPy).", args="a, b"
)
power = _elementwise("power", ps.Pow(), "Elementwise ``a ** b``.", args="a, b")
pow = power
neg = _elementwise("neg", ps.Neg(), "Elementwise ``-a``.", args="a")
negative = neg
identity = _elementwise(
    "identity", ps.Identity(),
    "A copy of ``a`` (an explicit node; rewrites remove it where it is useless).", args="a",
)


# --- comparisons and logic -----------------------------------------------------------------


lt = _elementwise("lt", ps.LT(), "Elementwise ``a < b`` (boolean).", args="a, b")
gt = _elementwise("gt", ps.GT(), "Elementwise ``a > b`` (boolean).", args="a, b")
le = _elementwise("le", ps.LE(), "Elementwise ``a <= b`` (boolean).", args="a, b")
ge = _elementwise("ge", ps.GE(), "Elementwise ``a >= b`` (boolean).", args="a, b")
eq = _elementwise(
    "eq", ps.EQ(),
    "Elementwise ``a == b`` (boolean). ``==`` on variables is identity, use this instead.",
    args="a, b",
)
neq = _elementwise("neq", ps.NEQ(), "Elementwise ``a != b`` (boolean).", args="a, b")
less, greater, less_equal, greater_equal, equal, not_equal = lt, gt, le, ge, eq, neq

bitwise_and = _elementwise(
    "bitwise_and", ps.AND(), "Elementwise ``a & b`` (logical and on booleans).", args="a, b"
)
bitwise_or = _elementwise(
    "bitwise_or", ps.OR(), "Elementwise ``a | b`` (logical or on booleans).", args="a, b"
)
bitwise_xor = _elementwise("bitwise_xor", ps.XOR(), "Elementwise ``a ^ b``.", args="a, b")
invert = _elementwise(
    "invert", ps.Invert(), "Elementwise ``~a`` (logical not on booleans).", args="a"
)
and_, or_, xor, bitwise_not = bitwise_and, bitwise_or, bitwise_xor, invert


def where(cond: TensorLike, a: TensorLike, b: TensorLike) -> TensorVariable:
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


exp = _elementwise(
    "exp", sm.Exp(), "Elementwise ``e**x``.",
    params={"x": "Exponents."},
    returns="``e**x`` (float64 for integer input, as in NumPy).",
    examples="""
    >>> gt.exp(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [1.0, 2.7183]
    """,
)

exp2 = _elementwise(
    "exp2", sm.Exp2(), "Elementwise ``2**x``.",
    params={"x": "Exponents."},
    returns="``2**x`` (float64 for integer input, as in NumPy).",
    examples="""
    >>> gt.exp2(gt.constant([0.0, 3.0])).eval().tolist()
    [1.0, 8.0]
    """,
)

expm1 = _elementwise(
    "expm1", sm.Expm1(), "Elementwise ``exp(x) - 1``, accurate for ``x`` near 0.",
    params={"x": "Exponents."},
    returns="``exp(x) - 1`` without the cancellation of computing it that way.",
    examples="""
    >>> f"{float(gt.expm1(1e-10).eval()):.11e}"
    '1.00000000005e-10'
    """,
)

log = _elementwise(
    "log", sm.Log(), "Elementwise natural logarithm.",
    params={"x": "Positive values (``log(0) = -inf``, negative values give NaN)."},
    returns="``ln(x)``.",
    examples="""
    >>> gt.log(gt.constant([1.0, 0.0])).eval().tolist()
    [0.0, -inf]
    """,
)

log2 = _elementwise(
    "log2", sm.Log2(), "Elementwise base-2 logarithm.",
    params={"x": "Positive values."},
    returns="``log2(x)``.",
    examples="""
    >>> gt.log2(gt.constant([1.0, 8.0])).eval().tolist()
    [0.0, 3.0]
    """,
)

log10 = _elementwise(
    "log10", sm.Log10(), "Elementwise base-10 logarithm.",
    params={"x": "Positive values."},
    returns="``log10(x)``.",
    examples="""
    >>> gt.log10(gt.constant([1.0, 1000.0])).eval().tolist()
    [0.0, 3.0]
    """,
)

log1p = _elementwise(
    "log1p", sm.Log1p(), "Elementwise ``log(1 + x)``, accurate for ``x`` near 0.",
    params={"x": "Values greater than -1."},
    returns="``log(1 + x)`` without the rounding of ``1 + x``.",
    examples="""
    >>> f"{float(gt.log1p(1e-10).eval()):.10e}"
    '9.9999999995e-11'
    """,
)

sqrt = _elementwise(
    "sqrt", sm.Sqrt(), "Elementwise non-negative square root.",
    params={"x": "Non-negative values (negative real values give NaN)."},
    returns="``sqrt(x)``.",
    examples="""
    >>> gt.sqrt(gt.constant([4.0, 9.0])).eval().tolist()
    [2.0, 3.0]
    """,
)

square = _elementwise(
    "square", sm.Square(), "Elementwise ``x * x`` (integer input stays integer, as in NumPy).",
    params={"x": "Values."},
    returns="``x**2``.",
    examples="""
    >>> gt.square(gt.constant([-3, 2])).eval().tolist()
    [9, 4]
    """,
)

reciprocal = _elementwise(
    "reciprocal", sm.Reciprocal(),
    """Elementwise ``1 / x``.

    Like ``np.reciprocal``, integer input gives an integer result (``reciprocal(2) == 0``);
    cast to float first for the real reciprocal.
    """,
    params={"x": "Values."},
    returns="``1 / x``, of ``x``'s dtype.",
    examples="""
    >>> gt.reciprocal(gt.constant([2.0, 0.25])).eval().tolist()
    [0.5, 4.0]
    """,
)


# --- trigonometric and hyperbolic -----------------------------------------------------------


sin = _elementwise(
    "sin", sm.Sin(), "Elementwise sine (of radians).",
    params={"x": "Angles in radians."},
    returns="``sin(x)``.",
    examples="""
    >>> gt.sin(gt.constant([0.0, np.pi / 2])).eval().tolist()
    [0.0, 1.0]
    """,
)

cos = _elementwise(
    "cos", sm.Cos(), "Elementwise cosine (of radians).",
    params={"x": "Angles in radians."},
    returns="``cos(x)``.",
    examples="""
    >>> gt.cos(gt.constant([0.0, np.pi])).eval().tolist()
    [1.0, -1.0]
    """,
)

tan = _elementwise(
    "tan", sm.Tan(), "Elementwise tangent (of radians).",
    params={"x": "Angles in radians."},
    returns="``tan(x)``.",
    examples="""
    >>> gt.tan(gt.constant([0.0, np.pi / 4])).eval().round(6).tolist()
    [0.0, 1.0]
    """,
)

arcsin = _elementwise(
    "arcsin", sm.ArcSin(), "Elementwise inverse sine, in ``[-pi/2, pi/2]``.",
    params={"x": "Values in ``[-1, 1]`` (NaN outside)."},
    returns="``arcsin(x)`` in radians.",
    examples="""
    >>> gt.arcsin(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 1.5708]
    """,
)

arccos = _elementwise(
    "arccos", sm.ArcCos(), "Elementwise inverse cosine, in ``[0, pi]``.",
    params={"x": "Values in ``[-1, 1]`` (NaN outside)."},
    returns="``arccos(x)`` in radians.",
    examples="""
    >>> gt.arccos(gt.constant([1.0, -1.0])).eval().round(4).tolist()
    [0.0, 3.1416]
    """,
)

arctan = _elementwise(
    "arctan", sm.ArcTan(), "Elementwise inverse tangent, in ``(-pi/2, pi/2)``.",
    params={"x": "Values."},
    returns="``arctan(x)`` in radians.",
    examples="""
    >>> gt.arctan(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.7854]
    """,
)

arctan2 = _elementwise(
    "arctan2", sm.ArcTan2(),
    """Elementwise angle of the point ``(x, y)``: ``arctan(y / x)`` in the right quadrant.

    Note the argument order, ``y`` first, as in NumPy. Broadcasts like NumPy.
    """,
    params={"y": "y-coordinates.", "x": "x-coordinates."},
    returns="Angles in ``[-pi, pi]``.",
    examples="""
    >>> gt.arctan2(gt.constant([1.0, -1.0]), -1.0).eval().round(4).tolist()
    [2.3562, -2.3562]
    """,
)

sinh = _elementwise(
    "sinh", sm.Sinh(), "Elementwise hyperbolic sine.",
    params={"x": "Values."},
    returns="``sinh(x)``.",
    examples="""
    >>> gt.sinh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 1.1752]
    """,
)

cosh = _elementwise(
    "cosh", sm.Cosh(), "Elementwise hyperbolic cosine.",
    params={"x": "Values."},
    returns="``cosh(x)``.",
    examples="""
    >>> gt.cosh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [1.0, 1.5431]
    """,
)

tanh = _elementwise(
    "tanh", sm.Tanh(), "Elementwise hyperbolic tangent.",
    params={"x": "Values."},
    returns="``tanh(x)``, in ``(-1, 1)``.",
    examples="""
    >>> gt.tanh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.7616]
    """,
)

arcsinh = _elementwise(
    "arcsinh", sm.ArcSinh(), "Elementwise inverse hyperbolic sine.",
    params={"x": "Values."},
    returns="``arcsinh(x)``.",
    examples="""
    >>> gt.arcsinh(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.8814]
    """,
)

arccosh = _elementwise(
    "arccosh", sm.ArcCosh(), "Elementwise inverse hyperbolic cosine.",
    params={"x": "Values ``>= 1`` (NaN below)."},
    returns="``arccosh(x) >= 0``.",
    examples="""
    >>> gt.arccosh(gt.constant([1.0, 2.0])).eval().round(4).tolist()
    [0.0, 1.317]
    """,
)

arctanh = _elementwise(
    "arctanh", sm.ArcTanh(), "Elementwise inverse hyperbolic tangent.",
    params={"x": "Values in ``(-1, 1)`` (``+-inf`` at ``+-1``, NaN outside)."},
    returns="``arctanh(x)``.",
    examples="""
    >>> gt.arctanh(gt.constant([0.0, 0.5])).eval().round(4).tolist()
    [0.0, 0.5493]
    """,
)


# NumPy 2 (array API) spellings.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh


# --- logistic family ------------------------------------------------------------------------


sigmoid = _elementwise(
    "sigmoid", sm.Sigmoid(),
    """Elementwise logistic function ``1 / (1 + exp(-x))`` (``scipy.special.expit``).

    Finite for every finite ``x``: 0 far to the left, 1 far to the right, no overflow warnings.
    """,
    params={"x": "Values."},
    returns="Values in ``[0, 1]``.",
    examples="""
    >>> gt.sigmoid(gt.constant([0.0, -800.0, 800.0])).eval().tolist()
    [0.5, 0.0, 1.0]
    """,
)

expit = sigmoid

softplus = _elementwise(
    "softplus", sm.Softplus(),
    """Elementwise ``log(1 + exp(x))``, computed stably.

    Evaluated as ``max(x, 0) + log1p(exp(-|x|))``, so it neither overflows for large ``x``
    (``softplus(1000) == 1000``) nor loses small values for very negative ``x``.
    """,
    params={"x": "Values."},
    returns="``log(1 + exp(x)) > 0``; its derivative is :func:`sigmoid`.",
    examples="""
    >>> gt.softplus(gt.constant([1000.0, 0.0, -1000.0])).eval().round(4).tolist()
    [1000.0, 0.6931, 0.0]
    """,
)

log1mexp = _elementwise(
    "log1mexp", sm.Log1mexp(),
    """Elementwise ``log(1 - exp(x))`` for ``x <= 0``, accurate over the whole range.

    Uses ``log(-expm1(x))`` for ``x > -log(2)`` and ``log1p(-exp(x))`` below (Maechler, 2012):
    each form is accurate where the other loses digits. ``log1mexp(0) = -inf``; positive ``x``
    gives NaN.
    """,
    params={"x": "Non-positive values (log-probabilities, typically)."},
    returns="``log(1 - exp(x))``, the log of the complementary probability.",
    examples="""
    >>> float(gt.log1mexp(np.log(0.25)).eval()) == float(np.log(0.75))
    True
    >>> f"{float(gt.log1mexp(-1e-20).eval()):.6f}"  # log(1e-20); naively log(1 - 1) = -inf
    '-46.051702'
    """,
)

logit = _elementwise(
    "logit", sm.Logit(),
    "Elementwise log-odds ``log(p / (1 - p))``, the inverse of :func:`sigmoid`.",
    params={"p": "Probabilities in ``[0, 1]`` (``+-inf`` at the ends, NaN outside)."},
    returns="``logit(p)``.",
    examples="""
    >>> gt.logit(gt.constant([0.5, 0.0, 1.0])).eval().tolist()
    [0.0, -inf, inf]
    """,
)


# --- special functions ----------------------------------------------------------------------


erf = _elementwise(
    "erf", sm.Erf(), "Elementwise error function ``2/sqrt(pi) * integral_0^x exp(-t**2) dt``.",
    params={"x": "Values."},
    returns="``erf(x)`` in ``[-1, 1]``.",
    examples="""
    >>> gt.erf(gt.constant([0.0, 1.0])).eval().round(4).tolist()
    [0.0, 0.8427]
    """,
)

erfc = _elementwise(
    "erfc", sm.Erfc(),
    "Elementwise complementary error function ``1 - erf(x)``, accurate for large ``x``.",
    params={"x": "Values."},
    returns="``erfc(x)`` in ``[0, 2]``.",
    examples="""
    >>> [f"{v:.4e}" for v in gt.erfc(gt.constant([0.0, 10.0])).eval()]
    ['1.0000e+00', '2.0885e-45']
    """,
)

erfcx = _elementwise(
    "erfcx", sm.Erfcx(),
    """Elementwise scaled complementary error function ``exp(x**2) * erfc(x)``.

    Finite where ``exp(x**2)`` alone would overflow; ``erfcx(x) ~ 1 / (x sqrt(pi))`` for large
    ``x``.
    """,
    params={"x": "Values."},
    returns="``erfcx(x)``.",
    examples="""
    >>> gt.erfcx(gt.constant([0.0, 100.0])).eval().round(6).tolist()
    [1.0, 0.005642]
    """,
)

erfinv = _elementwise(
    "erfinv", sm.Erfinv(), "Elementwise inverse of :func:`erf`.",
    params={"x": "Values in ``[-1, 1]`` (``+-inf`` at the ends, NaN outside)."},
    returns="``y`` with ``erf(y) == x``.",
    examples="""
    >>> gt.erfinv(gt.erf(gt.constant([0.0, 0.5]))).eval().round(6).tolist()
    [0.0, 0.5]
    """,
)

gammaln = _elementwise(
    "gammaln", sm.GammaLn(),
    "Elementwise ``log|Gamma(x)|``, finite where ``Gamma`` itself overflows.",
    params={"x": "Values (``+inf`` at the poles ``0, -1, -2, ...``)."},
    returns="``log|Gamma(x)|``; its derivative is :func:`digamma`.",
    examples="""
    >>> gt.gammaln(gt.constant([1.0, 4.0])).eval().round(4).tolist()
    [0.0, 1.7918]
    """,
)

gamma = _elementwise(
    "gamma", sm.Gamma(), "Elementwise gamma function (``gamma(n) == (n-1)!``).",
    params={"x": "Values (infinite at the poles ``0, -1, -2, ...``)."},
    returns="``Gamma(x)``; overflows to ``inf`` above about 171.6 (use :func:`gammaln` there).",
    examples="""
    >>> gt.gamma(gt.constant([1.0, 5.0])).eval().tolist()
    [1.0, 24.0]
    """,
)

digamma = _elementwise(
    "digamma", sm.Digamma(), "Elementwise digamma function ``psi(x) = d/dx log Gamma(x)``.",
    params={"x": "Values (poles at ``0, -1, -2, ...``)."},
    returns="``psi(x)``; its derivative is ``polygamma(1, x)``.",
    examples="""
    >>> gt.digamma(gt.constant([1.0])).eval().round(4).tolist()
    [-0.5772]
    """,
)

psi = digamma


def polygamma(n: int, x: TensorLike) -> TensorVariable:
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


sign = _elementwise(
    "sign", sm.Sign(),
    """Elementwise sign: ``-1``, ``0`` or ``1`` (NaN for NaN; ``z / |z|`` for complex ``z``).

    The gradient is zero (the function is piecewise constant); for complex input it is not
    implemented.
    """,
    params={"x": "Values (not boolean, as in NumPy)."},
    returns="The sign, of ``x``'s dtype.",
    examples="""
    >>> gt.sign(gt.constant([-2.5, 0.0, 3.0])).eval().tolist()
    [-1.0, 0.0, 1.0]
    """,
)

floor = _elementwise(
    "floor", sm.Floor(),
    """Elementwise largest integer ``<= x`` (integer input is returned as is, as in NumPy).

    Zero gradient (piecewise constant).
    """,
    params={"x": "Real values."},
    returns="``floor(x)``, of ``x``'s dtype.",
    examples="""
    >>> gt.floor(gt.constant([-1.5, 1.5])).eval().tolist()
    [-2.0, 1.0]
    """,
)

ceil = _elementwise(
    "ceil", sm.Ceil(), "Elementwise smallest integer ``>= x``. Zero gradient (piecewise constant).",
    params={"x": "Real values."},
    returns="``ceil(x)``, of ``x``'s dtype.",
    examples="""
    >>> gt.ceil(gt.constant([-1.5, 1.5])).eval().tolist()
    [-1.0, 2.0]
    """,
)

trunc = _elementwise(
    "trunc", sm.Trunc(), "Elementwise rounding toward zero. Zero gradient (piecewise constant).",
    params={"x": "Real values."},
    returns="``trunc(x)``, of ``x``'s dtype.",
    examples="""
    >>> gt.trunc(gt.constant([-1.5, 1.5])).eval().tolist()
    [-1.0, 1.0]
    """,
)


def round(x: TensorLike, decimals: int = 0) -> TensorVariable:
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


maximum = _elementwise(
    "maximum", sm.Maximum(),
    """Elementwise larger of ``x`` and ``y``, broadcasting like NumPy (NaN propagates).

    Gradient: the output gradient goes to the larger input; where ``x == y`` each input gets
    half of it. Where either input is NaN neither gets any.
    """,
    params={"x, y": "Values to compare."},
    returns="``max(x, y)`` elementwise.",
    examples="""
    >>> gt.maximum(gt.constant([1.0, 5.0]), 3.0).eval().tolist()
    [3.0, 5.0]
    """,
)

minimum = _elementwise(
    "minimum", sm.Minimum(),
    """Elementwise smaller of ``x`` and ``y``, broadcasting like NumPy (NaN propagates).

    Gradient: the output gradient goes to the smaller input; where ``x == y`` each input gets
    half of it. Where either input is NaN neither gets any.
    """,
    params={"x, y": "Values to compare."},
    returns="``min(x, y)`` elementwise.",
    examples="""
    >>> gt.minimum(gt.constant([1.0, 5.0]), 3.0).eval().tolist()
    [1.0, 3.0]
    """,
)


def clip(x: TensorLike, lo: TensorLike, hi: TensorLike) -> TensorVariable:
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


# Shadows the builtin on purpose: NumPy's name, used by __abs__.
abs = _elementwise(
    "abs", sm.Abs(),
    """Elementwise absolute value; real-valued for complex input (``|a + bj|``).

    Gradient: ``sign(x)`` for real ``x`` (0 at 0); for complex ``z`` it is ``conj(z) / |z|``
    (0 at 0) in JAX's convention (see :mod:`gnomon.scalar.math`).
    """,
    params={"x": "Values, real or complex."},
    returns="``|x|``; float32 for complex64, float64 for complex128.",
    examples="""
    >>> gt.abs(gt.constant([-2.0, 3.0])).eval().tolist()
    [2.0, 3.0]
    >>> y = gt.abs(gt.constant([3 + 4j]))
    >>> y.dtype, y.eval().tolist()
    ('float64', [5.0])
    """,
)

absolute = abs

real = _elementwise(
    "real", sm.Real(),
    """Elementwise real part (a copy of ``x`` for real input).

    Gradient (JAX convention): the output gradient itself, as a complex number for complex
    ``x``.
    """,
    params={"x": "Values, real or complex."},
    returns="``Re(x)``, real.",
    examples="""
    >>> gt.real(gt.constant([1 + 2j])).eval().tolist()
    [1.0]
    """,
)

imag = _elementwise(
    "imag", sm.Imag(),
    """Elementwise imaginary part (zeros for real input).

    Gradient (JAX convention): ``-1j * g`` for complex ``x``; zero for real ``x``.
    """,
    params={"x": "Values, real or complex."},
    returns="``Im(x)``, real.",
    examples="""
    >>> gt.imag(gt.constant([1 + 2j])).eval().tolist()
    [2.0]
    """,
)

conj = _elementwise(
    "conj", sm.Conj(),
    """Elementwise complex conjugate (a copy of ``x`` for real input).

    Gradient (JAX convention): ``conj(g)``.
    """,
    params={"x": "Values, real or complex."},
    returns="``conj(x)``, of ``x``'s dtype.",
    examples="""
    >>> gt.conj(gt.constant([1 + 2j])).eval().tolist()
    [(1-2j)]
    """,
)

conjugate = conj

angle = _elementwise(
    "angle", sm.Angle(),
    """Elementwise argument of complex numbers, ``arctan2(imag(x), real(x))``, in radians.

    For real ``x`` it is 0 for ``x >= 0`` and ``pi`` for ``x < 0`` (zero gradient). For complex
    ``z`` the gradient is ``-1j * g * conj(z) / |z|**2`` (JAX convention; 0 at 0).
    """,
    params={"x": "Values, real or complex."},
    returns="Angles in ``[-pi, pi]``.",
    examples="""
    >>> gt.angle(gt.constant([1j, -1.0 + 0j])).eval().round(4).tolist()
    [1.5708, 3.1416]
    """,
)


# --- floating-point classes -----------------------------------------------------------------


isnan = _elementwise(
    "isnan", sm.IsNan(), "Elementwise test for NaN (boolean, no gradient).",
    params={"x": "Values."},
    returns="Boolean, ``True`` where ``x`` is NaN.",
    examples="""
    >>> gt.isnan(gt.constant([1.0, np.nan, np.inf])).eval().tolist()
    [False, True, False]
    """,
)

isinf = _elementwise(
    "isinf", sm.IsInf(),
    "Elementwise test for positive or negative infinity (boolean, no gradient).",
    params={"x": "Values."},
    returns="Boolean, ``True`` where ``x`` is ``+inf`` or ``-inf``.",
    examples="""
    >>> gt.isinf(gt.constant([1.0, np.nan, -np.inf])).eval().tolist()
    [False, False, True]
    """,
)

isfinite = _elementwise(
    "isfinite", sm.IsFinite(), "Elementwise test for finite values (boolean, no gradient).",
    params={"x": "Values."},
    returns="Boolean, ``True`` where ``x`` is neither infinite nor NaN.",
    examples="""
    >>> gt.isfinite(gt.constant([1.0, np.nan, -np.inf])).eval().tolist()
    [True, False, False]
    """,
)
