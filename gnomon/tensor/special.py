"""Elementwise special functions for log-densities: the normal CDF and its inverse, ``xlogy``,
``logaddexp``, the incomplete gamma and beta functions and their inverses, modified Bessel
functions, ``hyp2f1``.

Names and semantics are SciPy's (``scipy.special``), as in PyTensor. Output dtypes are SciPy's
too: float32 stays float32, integer input gives float64. Every function is differentiable in
every float argument (exactly: the derivatives in the shape parameters of ``gammainc``,
``gammaincc`` and ``betainc``, which have no closed form, are their own ops computed to about
1e-12 relative accuracy), except ``hyp2f1``, which is differentiable in ``z`` only.
"""

from __future__ import annotations

from typing import Any

from gnomon.scalar import special as ss
from gnomon.tensor.math import _elementwise, softplus
from gnomon.tensor.reduce import log_softmax, softmax  # noqa: F401  (PyTensor's path)

__all__ = [
    "ndtr", "log_ndtr", "ndtri", "logaddexp", "logaddexp2", "xlogy", "xlog1py", "log1pexp",
    "betaln", "gammainc", "gammaincc", "gammaincinv", "gammainccinv", "gammainc_der_a",
    "betainc", "betaincinv", "betainc_der_a", "betainc_der_b",
    "i0", "i0e", "i1", "i1e", "hyp2f1",
    # PyTensor's ``pytensor.tensor.special`` names (softmax and log_softmax, imported from
    # gnomon.tensor.reduce, are reachable here too but exported by reduce)
    "beta", "poch", "factorial",
]


# --- the normal distribution ----------------------------------------------------------------


ndtr = _elementwise(
    "ndtr", ss.Ndtr(),
    """Elementwise standard normal CDF ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``.

    Use :func:`log_ndtr` for its logarithm: ``ndtr`` underflows to 0 below about ``-38``.
    """,
    params={"x": "Values."},
    returns="``Phi(x)`` in ``[0, 1]``.",
    examples="""
    >>> gt.ndtr(gt.constant([0.0, 1.0])).eval().round(6).tolist()
    [0.5, 0.841345]
    """,
)

log_ndtr = _elementwise(
    "log_ndtr", ss.LogNdtr(),
    """Elementwise ``log(Phi(x))``, accurate in both tails.

    Finite for very negative ``x`` (about ``-x**2 / 2``), where ``log(ndtr(x))`` is ``-inf``.
    The rewrite pipeline replaces ``log(ndtr(x))`` by it.
    """,
    params={"x": "Values."},
    returns="``log(Phi(x)) <= 0``; its derivative is ``phi(x) / Phi(x)``.",
    examples="""
    >>> gt.log_ndtr(gt.constant([-40.0, 0.0])).eval().round(4).tolist()
    [-804.6084, -0.6931]
    """,
)

ndtri = _elementwise(
    "ndtri", ss.Ndtri(),
    "Elementwise standard normal quantile function, the inverse of :func:`ndtr`.",
    params={"p": "Probabilities in ``[0, 1]`` (``-inf``, ``inf`` at the ends, NaN outside)."},
    returns="``x`` with ``ndtr(x) == p``.",
    examples="""
    >>> gt.ndtri(gt.constant([0.5, 0.975])).eval().round(4).tolist()
    [0.0, 1.96]
    """,
)


# --- log-sum-exp and x log y ----------------------------------------------------------------


logaddexp = _elementwise(
    "logaddexp", ss.LogAddExp(),
    "Elementwise ``log(exp(x) + exp(y))``, without overflow or underflow (``np.logaddexp``).",
    params={"x, y": "Values (log-probabilities, typically); they broadcast."},
    returns="``log(exp(x) + exp(y))``.",
    examples="""
    >>> gt.logaddexp(gt.constant([1000.0, -np.inf]), 1000.0).eval().round(4).tolist()
    [1000.6931, 1000.0]
    """,
)

logaddexp2 = _elementwise(
    "logaddexp2", ss.LogAddExp2(),
    "Elementwise ``log2(2**x + 2**y)``, without overflow or underflow (``np.logaddexp2``).",
    params={"x, y": "Values; they broadcast."},
    returns="``log2(2**x + 2**y)``.",
    examples="""
    >>> gt.logaddexp2(gt.constant([3.0]), 3.0).eval().tolist()
    [4.0]
    """,
)

xlogy = _elementwise(
    "xlogy", ss.Xlogy(),
    """Elementwise ``x * log(y)``, with ``0 * log(0) = 0`` (``scipy.special.xlogy``).

    The usual term of log-densities with a count or a probability as ``x``.
    """,
    params={"x, y": "Values; they broadcast."},
    returns="``x * log(y)``, and 0 where ``x == 0`` (unless ``y`` is NaN).",
    examples="""
    >>> gt.xlogy(gt.constant([0.0, 2.0]), gt.constant([0.0, 1.0])).eval().tolist()
    [0.0, 0.0]
    """,
)

xlog1py = _elementwise(
    "xlog1py", ss.Xlog1py(),
    "Elementwise ``x * log1p(y)``, with ``0 * log1p(-1) = 0`` (``scipy.special.xlog1py``).",
    params={"x, y": "Values; they broadcast."},
    returns="``x * log(1 + y)``, and 0 where ``x == 0`` (unless ``y`` is NaN).",
    examples="""
    >>> gt.xlog1py(gt.constant([0.0, 1.0]), gt.constant([-1.0, 0.0])).eval().tolist()
    [0.0, 0.0]
    """,
)

log1pexp = softplus  # PyTensor's name for softplus


# --- gamma and beta functions ---------------------------------------------------------------


betaln = _elementwise(
    "betaln", ss.BetaLn(),
    "Elementwise ``log|B(a, b)|`` with ``B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)``.",
    params={"a, b": "Values (positive, typically); they broadcast."},
    returns="``log|B(a, b)|``, finite where ``B`` itself under- or overflows.",
    examples="""
    >>> float(gt.betaln(2.0, 3.0).eval()) == float(np.log(1 / 12))
    True
    """,
)

gammainc = _elementwise(
    "gammainc", ss.GammaInc(),
    """Elementwise regularized lower incomplete gamma function ``P(a, x)``.

    ``P(a, x) = 1 / Gamma(a) * integral_0^x t**(a-1) exp(-t) dt``, the CDF of a gamma
    distribution with shape ``a`` and scale 1. Differentiable in both arguments (the
    derivative in ``a`` is :func:`gammainc_der_a`).
    """,
    params={"a": "Positive shapes.", "x": "Non-negative values."},
    returns="``P(a, x)`` in ``[0, 1]``.",
    examples="""
    >>> gt.gammainc(2.0, gt.constant([1.0, 3.0])).eval().round(6).tolist()
    [0.264241, 0.800852]
    """,
)

gammaincc = _elementwise(
    "gammaincc", ss.GammaIncC(),
    """Elementwise regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``.

    Computed directly, so accurate where ``Q`` is tiny and ``1 - gammainc`` would be 0.
    """,
    params={"a": "Positive shapes.", "x": "Non-negative values."},
    returns="``Q(a, x)`` in ``[0, 1]``.",
    examples="""
    >>> gt.gammaincc(2.0, gt.constant([1.0, 3.0])).eval().round(6).tolist()
    [0.735759, 0.199148]
    """,
)

gammaincinv = _elementwise(
    "gammaincinv", ss.GammaIncInv(),
    "Elementwise inverse of :func:`gammainc` in ``x``: ``gammainc(a, gammaincinv(a, y)) == y``.",
    params={"a": "Positive shapes.", "y": "Probabilities in ``[0, 1]``."},
    returns="``x >= 0`` with ``P(a, x) == y``.",
    examples="""
    >>> float(gt.gammaincinv(2.0, 0.5).eval().round(6))
    1.678347
    """,
)

gammainccinv = _elementwise(
    "gammainccinv", ss.GammaIncCInv(),
    "Elementwise inverse of :func:`gammaincc` in ``x``: ``gammaincc(a, gammainccinv(a, y)) == y``.",
    params={"a": "Positive shapes.", "y": "Probabilities in ``[0, 1]``."},
    returns="``x >= 0`` with ``Q(a, x) == y``.",
    examples="""
    >>> float(gt.gammainccinv(2.0, 0.5).eval().round(6))
    1.678347
    """,
)

gammainc_der_a = _elementwise(
    "gammainc_der_a", ss.GammaIncDerA(),
    """Elementwise ``d/da gammainc(a, x)``, the gradient of :func:`gammainc` in ``a``.

    No closed form: the series of ``P(a, x)`` (for ``x < a + 1``) or Legendre's continued
    fraction of ``Q(a, x)`` (otherwise) is differentiated term by term, to about 1e-12
    relative accuracy. Slow for very large ``a`` (the series needs about ``sqrt(a)`` terms
    per digit). Not differentiable itself.
    """,
    params={"a": "Positive shapes.", "x": "Non-negative values."},
    returns="``dP(a, x)/da`` (``-dQ(a, x)/da``); 0 at ``x = 0`` and ``x = inf``.",
    examples="""
    >>> float(gt.gammainc_der_a(1.0, 1.0).eval().round(6))
    -0.43173
    """,
)

betainc = _elementwise(
    "betainc", ss.BetaInc(),
    """Elementwise regularized incomplete beta function ``I_x(a, b)``.

    ``I_x(a, b) = 1 / B(a, b) * integral_0^x t**(a-1) (1-t)**(b-1) dt``, the CDF of a beta
    distribution. Differentiable in all three arguments (in ``a`` and ``b`` through
    :func:`betainc_der_a` and :func:`betainc_der_b`).
    """,
    params={"a, b": "Positive shape parameters.", "x": "Values in ``[0, 1]``."},
    returns="``I_x(a, b)`` in ``[0, 1]``.",
    examples="""
    >>> gt.betainc(2.0, 3.0, gt.constant([0.25, 0.5])).eval().tolist()
    [0.26171875, 0.6875]
    """,
)

betaincinv = _elementwise(
    "betaincinv", ss.BetaIncInv(),
    "Elementwise inverse of :func:`betainc` in ``x``: ``betainc(a, b, betaincinv(a, b, y)) == y``.",
    params={"a, b": "Positive shape parameters.", "y": "Probabilities in ``[0, 1]``."},
    returns="``x`` in ``[0, 1]`` with ``I_x(a, b) == y``.",
    examples="""
    >>> float(gt.betaincinv(2.0, 3.0, 0.6875).eval().round(12))
    0.5
    """,
)

_BETAINC_DER_DOC = """Elementwise ``d/d{p} betainc(a, b, x)``, the gradient of betainc in ``{p}``.

    No closed form: the continued fraction of ``I_x(a, b)`` (or of its complement
    ``1 - I_(1-x)(b, a)`` where that converges faster) is differentiated term by term, to
    about 1e-12 relative accuracy. Not differentiable itself.
    """

betainc_der_a = _elementwise(
    "betainc_der_a", ss.BetaIncDer(0), _BETAINC_DER_DOC.format(p="a"),
    params={"a, b": "Positive shape parameters.", "x": "Values in ``[0, 1]``."},
    returns="``dI_x(a, b)/da``; 0 at ``x = 0`` and ``x = 1``.",
    examples="""
    >>> float(gt.betainc_der_a(1.0, 1.0, 0.5).eval().round(6))  # d/da 0.5**a at a = 1
    -0.346574
    """,
)

betainc_der_b = _elementwise(
    "betainc_der_b", ss.BetaIncDer(1), _BETAINC_DER_DOC.format(p="b"),
    params={"a, b": "Positive shape parameters.", "x": "Values in ``[0, 1]``."},
    returns="``dI_x(a, b)/db``; 0 at ``x = 0`` and ``x = 1``.",
    examples="""
    >>> float(gt.betainc_der_b(1.0, 1.0, 0.5).eval().round(6))  # d/db 1 - 0.5**b at b = 1
    0.346574
    """,
)


# --- modified Bessel functions of the first kind --------------------------------------------


i0 = _elementwise(
    "i0", ss.I0(), "Elementwise modified Bessel function of the first kind of order 0.",
    params={"x": "Values."},
    returns="``I0(x) >= 1``; overflows above about 713 (use :func:`i0e` there).",
    examples="""
    >>> gt.i0(gt.constant([0.0, 1.0])).eval().round(6).tolist()
    [1.0, 1.266066]
    """,
)

i0e = _elementwise(
    "i0e", ss.I0e(), "Elementwise exponentially scaled ``i0``: ``exp(-|x|) * i0(x)``.",
    params={"x": "Values."},
    returns="``exp(-|x|) I0(x)``, finite for every finite ``x``.",
    examples="""
    >>> gt.i0e(gt.constant([0.0, 100.0])).eval().round(6).tolist()
    [1.0, 0.039944]
    """,
)

i1 = _elementwise(
    "i1", ss.I1(), "Elementwise modified Bessel function of the first kind of order 1.",
    params={"x": "Values."},
    returns="``I1(x)``, an odd function.",
    examples="""
    >>> gt.i1(gt.constant([0.0, 1.0])).eval().round(6).tolist()
    [0.0, 0.565159]
    """,
)

i1e = _elementwise(
    "i1e", ss.I1e(), "Elementwise exponentially scaled ``i1``: ``exp(-|x|) * i1(x)``.",
    params={"x": "Values."},
    returns="``exp(-|x|) I1(x)``, finite for every finite ``x``.",
    examples="""
    >>> gt.i1e(gt.constant([1.0, 100.0])).eval().round(6).tolist()
    [0.20791, 0.039744]
    """,
)


# --- hypergeometric -------------------------------------------------------------------------


hyp2f1 = _elementwise(
    "hyp2f1", ss.Hyp2F1(),
    """Elementwise Gauss hypergeometric function ``2F1(a, b; c; z)``.

    Differentiable in ``z`` only (``d/dz = a b / c * 2F1(a+1, b+1; c+1; z)``); the gradient
    in ``a``, ``b``, ``c`` is not implemented.
    """,
    params={"a, b, c": "Parameters.", "z": "Real values (``z < 1`` for the series)."},
    returns="``2F1(a, b; c; z)``.",
    examples="""
    >>> float(gt.hyp2f1(1.0, 1.0, 2.0, 0.5).eval().round(6))  # -log(1 - z) / z
    1.386294
    """,
)


for _f in (ndtr, log_ndtr, ndtri, logaddexp, logaddexp2, xlogy, xlog1py, betaln, gammainc,
           gammaincc, gammaincinv, gammainccinv, gammainc_der_a, betainc, betaincinv,
           betainc_der_a, betainc_der_b, i0, i0e, i1, i1e, hyp2f1):
    _f.__module__ = __name__


# --- PyTensor's other names in this module --------------------------------------------------


def beta(a: Any, b: Any) -> Any:
    """The beta function ``B(a, b) = exp(betaln(a, b))`` (positive ``a``, ``b``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.beta(2.0, 3.0).eval().round(6))
    0.083333
    """
    from gnomon.tensor.math import exp

    return exp(betaln(a, b))


def poch(z: Any, m: Any) -> Any:
    """The Pochhammer symbol (rising factorial) ``gamma(z + m) / gamma(z)``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.poch(3.0, 2.0).eval())
    12.0
    """
    from gnomon.tensor.math import add, exp, gammaln, sub

    return exp(sub(gammaln(add(z, m)), gammaln(z)))


def factorial(n: Any) -> Any:
    """``n!`` as ``gamma(n + 1)`` (a float, also for non-integer ``n``).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> float(gt.factorial(4).eval())
    24.0
    """
    from gnomon.tensor.math import add, gamma

    return gamma(add(n, 1.0))
