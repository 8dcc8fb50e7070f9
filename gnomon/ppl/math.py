"""``pm.math``: the tensor functions PyMC users call inside models (gnomon.tensor's).

Examples
--------
>>> import numpy as np, gnomon.ppl as pm
>>> float(pm.math.invlogit(0.0).eval(mode="numpy"))
0.5
"""

from __future__ import annotations

from typing import Any

import gnomon.tensor as _gt
from gnomon.graph.basic import Variable
from gnomon.tensor import (
    abs,
    and_,
    arange,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    argmax,
    argmin,
    betaln,
    bitwise_and,
    broadcast_to,
    ceil,
    cholesky,
    clip,
    concatenate,
    constant,
    cos,
    cosh,
    cumprod,
    cumsum,
    det,
    dot,
    einsum,
    eq,
    erf,
    erfc,
    erfcx,
    erfinv,
    exp,
    exp2,
    expand_dims,
    expit,
    expm1,
    eye,
    flatten,
    floor,
    full,
    full_like,
    gammaln,
    ge,
    gt,
    inv,
    isinf,
    isnan,
    le,
    log,
    log1mexp,
    log1p,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logit,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    neq,
    ones,
    ones_like,
    or_,
    outer,
    power,
    prod,
    reshape,
    round,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    softplus,
    solve,
    sort,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sum,
    switch,
    tan,
    tanh,
    transpose,
    var,
    where,
    xlogy,
    zeros,
    zeros_like,
)

__all__ = [
    "abs",
    "and_",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "argmax",
    "argmin",
    "betaln",
    "bitwise_and",
    "broadcast_to",
    "ceil",
    "cholesky",
    "clip",
    "concatenate",
    "constant",
    "cos",
    "cosh",
    "cumprod",
    "cumsum",
    "det",
    "dot",
    "einsum",
    "eq",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp",
    "exp2",
    "expand_dims",
    "expit",
    "expm1",
    "extract_diag",
    "eye",
    "flatten",
    "floor",
    "full",
    "full_like",
    "gammaln",
    "ge",
    "gt",
    "inv",
    "invlogit",
    "invprobit",
    "isinf",
    "isnan",
    "le",
    "lgamma",
    "log",
    "log10",
    "log1mexp",
    "log1p",
    "log1pexp",
    "log2",
    "log_softmax",
    "logaddexp",
    "logdet",
    "logdiffexp",
    "logit",
    "logsumexp",
    "lt",
    "matmul",
    "matrix_inverse",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "neq",
    "ones",
    "ones_like",
    "or_",
    "outer",
    "power",
    "probit",
    "prod",
    "reshape",
    "round",
    "sgn",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "solve",
    "sort",
    "sqr",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "sum",
    "switch",
    "tan",
    "tanh",
    "transpose",
    "var",
    "where",
    "xlogy",
    "zeros",
    "zeros_like",
]


def invlogit(x: Any) -> Variable:
    """The logistic sigmoid ``1 / (1 + exp(-x))`` (PyMC's name)."""
    return _gt.sigmoid(x)


def log1pexp(x: Any) -> Variable:
    """``log(1 + exp(x))``, computed stably (softplus)."""
    return _gt.softplus(x)


def logdiffexp(a: Any, b: Any) -> Variable:
    """``log(exp(a) - exp(b))`` for ``a >= b``, computed stably."""
    return a + gt.log1mexp(b - a)


def sqr(x: Any) -> Variable:
    """``x ** 2``."""
    return _gt.square(x)


def sgn(x: Any) -> Variable:
    """The sign of ``x``."""
    return _gt.sign(x)


def lgamma(x: Any) -> Variable:
    """``log |Gamma(x)|``."""
    return _gt.gammaln(x)


def probit(p: Any) -> Variable:
    """The standard normal quantile function."""
    return _gt.ndtri(p)


def invprobit(x: Any) -> Variable:
    """The standard normal cumulative distribution function."""
    return _gt.ndtr(x)


def matrix_inverse(x: Any) -> Variable:
    """The inverse of a square matrix."""
    return _gt.inv(x)


def extract_diag(x: Any) -> Variable:
    """The diagonal of a matrix."""
    x = _gt.as_tensor(x)
    i = _gt.arange(_gt.minimum(x.shape[-1], x.shape[-2]))
    return x[..., i, i]


def logdet(x: Any) -> Variable:
    """``log |det x|``."""
    return _gt.slogdet(x)[1]
