"""``logp``, ``logcdf`` and ``icdf`` of every distribution of :mod:`gnomon.random`, registered
on the random variable classes (NumPy's / PyTensor's parametrizations, as the ops draw them).

Each builder takes ``(op, value, *params)`` and returns a tensor of the draw's batch shape.
Conventions:

* outside the support: ``logp = -inf``; ``logcdf = -inf`` below it and ``0`` above it;
  ``icdf = nan`` for ``q`` outside ``[0, 1]``;
* parameter conditions go through :func:`~gnomon.logprob.check.check_parameters` (the user's
  policy: raise or ``-inf``/``nan``);
* stable forms: ``log1p``, ``log1mexp``, ``softplus``, ``gammaln``, ``logsumexp`` ... and the
  special functions of :mod:`gnomon.tensor` (``log_ndtr``, ``betaln``, ``xlogy``, ``gammainc``
  ...), never a local copy of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gnomon.random.distributions as rd
import gnomon.tensor as gt
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _icdf, _logcdf, _logprob, register_rv
from gnomon.logprob.check import check_parameters
from gnomon.random.op import RandomVariable

__all__: list[str] = []

LOG_2PI = float(np.log(2 * np.pi))
LOG_2 = float(np.log(2.0))
LOG_PI = float(np.log(np.pi))
NINF = -np.inf


def _f(x: Any, like: Variable) -> Variable:
    """``x`` as a tensor; integer values become floats of ``like``'s float dtype."""
    x = gt.as_tensor(x)
    if x.dtype[0] != "f":
        x = gt.cast(x, like.dtype if like.dtype[0] == "f" else "float64")
    return x


def _out(lp: Variable, value: Variable) -> Variable:
    """``lp`` broadcast to at least the value's shape (a constant density still has one entry
    per value) and of a float dtype."""
    lp = gt.as_tensor(lp)
    if lp.dtype[0] != "f":
        lp = gt.cast(lp, "float64")
    if lp.ndim < value.ndim or any(a == 1 and b != 1 for a, b in
                                   zip(lp.type.shape[-value.ndim:] if value.ndim else (),
                                       value.type.shape, strict=False)):
        lp = lp + gt.zeros_like(value, dtype=lp.dtype)
    return lp


def _mask(cond: Any, x: Any, fill: float = NINF) -> Variable:
    """``x`` where ``cond`` holds, else ``fill``."""
    x = gt.as_tensor(x)
    return gt.where(cond, x, np.array(fill, dtype=x.dtype if x.dtype[0] == "f" else "float64"))


def _checked(op: RandomVariable, expr: Any, *conds: tuple[Any, str], fill: float = NINF
             ) -> Variable:
    return check_parameters(expr, list(conds), op.name, fill=fill)


def _q_ok(q: Variable) -> Variable:
    return gt.and_(gt.ge(q, 0.0), gt.le(q, 1.0))


def _icdf_out(op: RandomVariable, q: Variable, x: Any, *conds: tuple[Any, str]) -> Variable:
    """An inverse cdf: ``nan`` outside ``[0, 1]``, checked parameters, float output."""
    x = _f(x, q)
    return _checked(op, _mask(_q_ok(q), _out(x, q), np.nan), *conds, fill=np.nan)


def _pos(x: Variable, name: str) -> tuple[Variable, str]:
    return gt.gt(x, 0.0), f"{name} > 0"


# --- normal family ----------------------------------------------------------------------------


@register_rv(_logprob, rd.Normal)
def normal_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = -0.5 * z * z - gt.log(scale) - 0.5 * LOG_2PI
    return _checked(op, _out(lp, value), _pos(scale, "scale"))


@register_rv(_logprob, rd.StandardNormal)
def standard_normal_logp(op, value):  # type: ignore[no-untyped-def]
    return _out(-0.5 * value * value - 0.5 * LOG_2PI, value)


@register_rv(_logprob, rd.HalfNormal)
def halfnormal_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = LOG_2 - 0.5 * LOG_2PI - gt.log(scale) - 0.5 * z * z
    return _checked(op, _mask(gt.ge(value, loc), _out(lp, value)), _pos(scale, "scale"))


@register_rv(_logcdf, rd.HalfNormal)
def halfnormal_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    # cdf = erf(z / sqrt 2); near 0 log(erf) is accurate, in the upper tail log1p(-erfc) is
    u = gt.maximum((value - loc) / scale, 0.0) * float(1 / np.sqrt(2))
    lc = gt.where(gt.lt(u, 1.0), gt.log(gt.erf(u)), gt.log1p(-gt.erfc(u)))
    return _checked(op, _mask(gt.ge(value, loc), _out(lc, value)), _pos(scale, "scale"))


@register_rv(_icdf, rd.HalfNormal)
def halfnormal_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, loc + scale * float(np.sqrt(2)) * gt.erfinv(q), _pos(scale, "scale"))


@register_rv(_logprob, rd.LogNormal)
def lognormal_logp(op, value, mean, sigma):  # type: ignore[no-untyped-def]
    pos = gt.gt(value, 0.0)
    lx = gt.log(gt.where(pos, value, 1.0))
    z = (lx - mean) / sigma
    lp = -lx - gt.log(sigma) - 0.5 * LOG_2PI - 0.5 * z * z
    return _checked(op, _mask(pos, _out(lp, value)), _pos(sigma, "sigma"))


# --- bounded -----------------------------------------------------------------------------------


@register_rv(_logprob, rd.Uniform)
def uniform_logp(op, value, low, high):  # type: ignore[no-untyped-def]
    inside = gt.and_(gt.ge(value, low), gt.le(value, high))
    lp = -gt.log(high - low)
    return _checked(op, _mask(inside, _out(lp, value)), (gt.lt(low, high), "low < high"))


@register_rv(_logcdf, rd.Uniform)
def uniform_logcdf(op, value, low, high):  # type: ignore[no-untyped-def]
    lc = gt.log((value - low) / (high - low))
    lc = gt.where(gt.lt(value, low), NINF, gt.where(gt.ge(value, high), 0.0, lc))
    return _checked(op, _out(lc, value), (gt.lt(low, high), "low < high"))


@register_rv(_icdf, rd.Uniform)
def uniform_icdf(op, q, low, high):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, low + q * (high - low), (gt.lt(low, high), "low < high"))


def _triangular_conds(left, mode, right):  # type: ignore[no-untyped-def]
    return ((gt.lt(left, right), "left < right"),
            (gt.and_(gt.le(left, mode), gt.le(mode, right)), "left <= mode <= right"))


@register_rv(_logprob, rd.Triangular)
def triangular_logp(op, value, left, mode, right):  # type: ignore[no-untyped-def]
    width = right - left
    lo = LOG_2 + gt.log(value - left) - gt.log(width) - gt.log(mode - left)
    hi = LOG_2 + gt.log(right - value) - gt.log(width) - gt.log(right - mode)
    peak = LOG_2 - gt.log(width)
    lp = gt.where(gt.lt(value, mode), lo, gt.where(gt.gt(value, mode), hi, peak))
    inside = gt.and_(gt.ge(value, left), gt.le(value, right))
    return _checked(op, _mask(inside, _out(lp, value)), *_triangular_conds(left, mode, right))


@register_rv(_logcdf, rd.Triangular)
def triangular_logcdf(op, value, left, mode, right):  # type: ignore[no-untyped-def]
    width = right - left
    lo = 2.0 * gt.log(value - left) - gt.log(width) - gt.log(mode - left)
    hi = gt.log1p(-gt.square(right - value) / (width * (right - mode)))
    lc = gt.where(gt.le(value, mode), lo, hi)
    lc = gt.where(gt.le(value, left), NINF, gt.where(gt.ge(value, right), 0.0, lc))
    return _checked(op, _out(lc, value), *_triangular_conds(left, mode, right))


@register_rv(_icdf, rd.Triangular)
def triangular_icdf(op, q, left, mode, right):  # type: ignore[no-untyped-def]
    width = right - left
    split = (mode - left) / width
    lo = left + gt.sqrt(q * width * (mode - left))
    hi = right - gt.sqrt((1.0 - q) * width * (right - mode))
    return _icdf_out(op, q, gt.where(gt.lt(q, split), lo, hi),
                     *_triangular_conds(left, mode, right))


# --- positive, exponential family ----------------------------------------------------------


@register_rv(_logprob, rd.Exponential)
def exponential_logp(op, value, scale):  # type: ignore[no-untyped-def]
    lp = -gt.log(scale) - value / scale
    return _checked(op, _mask(gt.ge(value, 0.0), _out(lp, value)), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Exponential)
def exponential_logcdf(op, value, scale):  # type: ignore[no-untyped-def]
    lc = gt.log1mexp(-gt.maximum(value, 0.0) / scale)
    return _checked(op, _mask(gt.ge(value, 0.0), _out(lc, value)), _pos(scale, "scale"))


@register_rv(_icdf, rd.Exponential)
def exponential_icdf(op, q, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, -scale * gt.log1p(-q), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Weibull)
def weibull_logcdf(op, value, a):  # type: ignore[no-untyped-def]
    lc = gt.log1mexp(-gt.power(gt.maximum(value, 0.0), a))
    return _checked(op, _mask(gt.ge(value, 0.0), _out(lc, value)), _pos(a, "a"))


@register_rv(_icdf, rd.Weibull)
def weibull_icdf(op, q, a):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, gt.power(-gt.log1p(-q), 1.0 / a), _pos(a, "a"))


@register_rv(_logprob, rd.Pareto)
def pareto_logp(op, value, alpha, m):  # type: ignore[no-untyped-def]
    inside = gt.ge(value, m)
    lx = gt.log(gt.where(inside, value, m))
    lp = gt.log(alpha) + alpha * gt.log(m) - (alpha + 1.0) * lx
    return _checked(op, _mask(inside, _out(lp, value)), _pos(alpha, "alpha"), _pos(m, "m"))


@register_rv(_logcdf, rd.Pareto)
def pareto_logcdf(op, value, alpha, m):  # type: ignore[no-untyped-def]
    inside = gt.ge(value, m)
    lx = gt.log(gt.where(inside, value, m))
    lc = gt.log1mexp(alpha * (gt.log(m) - lx))
    return _checked(op, _mask(inside, _out(lc, value)), _pos(alpha, "alpha"), _pos(m, "m"))


@register_rv(_icdf, rd.Pareto)
def pareto_icdf(op, q, alpha, m):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, m * gt.exp(-gt.log1p(-q) / alpha), _pos(alpha, "alpha"),
                     _pos(m, "m"))


# --- location-scale on the real line ------------------------------------------------------


@register_rv(_logprob, rd.Laplace)
def laplace_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    lp = -LOG_2 - gt.log(scale) - gt.abs(value - loc) / scale
    return _checked(op, _out(lp, value), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Laplace)
def laplace_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lc = gt.where(gt.lt(z, 0.0), z - LOG_2,
                  gt.log1p(-0.5 * gt.exp(-gt.maximum(z, 0.0))))
    return _checked(op, _out(lc, value), _pos(scale, "scale"))


@register_rv(_icdf, rd.Laplace)
def laplace_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    x = gt.where(gt.lt(q, 0.5), loc + scale * gt.log(2.0 * q),
                 loc - scale * gt.log(2.0 * (1.0 - q)))
    return _icdf_out(op, q, x, _pos(scale, "scale"))


@register_rv(_logprob, rd.Logistic)
def logistic_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    # symmetric in z: the form in |z| has no inf - inf at z = -inf
    z = gt.abs(value - loc) / scale
    lp = -z - gt.log(scale) - 2.0 * gt.softplus(-z)
    return _checked(op, _out(lp, value), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Logistic)
def logistic_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    return _checked(op, _out(-gt.softplus(-(value - loc) / scale), value),
                    _pos(scale, "scale"))


@register_rv(_icdf, rd.Logistic)
def logistic_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, loc + scale * gt.logit(q), _pos(scale, "scale"))


@register_rv(_logprob, rd.Gumbel)
def gumbel_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = gt.where(gt.eq(value, -np.inf), NINF, -z - gt.exp(-z) - gt.log(scale))
    return _checked(op, _out(lp, value), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Gumbel)
def gumbel_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    return _checked(op, _out(-gt.exp(-(value - loc) / scale), value), _pos(scale, "scale"))


@register_rv(_icdf, rd.Gumbel)
def gumbel_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, loc - scale * gt.log(-gt.log(q)), _pos(scale, "scale"))


@register_rv(_logprob, rd.Cauchy)
def cauchy_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = -LOG_PI - gt.log(scale) - gt.log1p(z * z)
    return _checked(op, _out(lp, value), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Cauchy)
def cauchy_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    # 1/2 + arctan(z)/pi cancels in the lower tail, where it equals arctan(-1/z)/pi
    z = (value - loc) / scale
    low = gt.lt(z, -1.0)
    lc = gt.where(low, gt.log(gt.arctan(-1.0 / gt.where(low, z, -1.0))) - LOG_PI,
                  gt.log(0.5 + gt.arctan(z) / np.pi))
    return _checked(op, _out(lc, value), _pos(scale, "scale"))


@register_rv(_icdf, rd.Cauchy)
def cauchy_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    # tan(pi (q - 1/2)) = -1 / tan(pi q): exact in the tails, and +-inf at q = 0, 1
    z = gt.where(gt.lt(q, 0.5), -1.0 / gt.tan(np.pi * q), 1.0 / gt.tan(np.pi * (1.0 - q)))
    return _icdf_out(op, q, loc + scale * z, _pos(scale, "scale"))


@register_rv(_logprob, rd.HalfCauchy)
def halfcauchy_logp(op, value, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = LOG_2 - LOG_PI - gt.log(scale) - gt.log1p(z * z)
    return _checked(op, _mask(gt.ge(value, loc), _out(lp, value)), _pos(scale, "scale"))


@register_rv(_logcdf, rd.HalfCauchy)
def halfcauchy_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    # 2/pi arctan(z); for z > 1 use 1 - 2/pi arctan(1/z) (no cancellation in the upper tail)
    z = gt.maximum((value - loc) / scale, 0.0)
    big = gt.gt(z, 1.0)
    lc = gt.where(big, gt.log1p(-(2.0 / np.pi) * gt.arctan(1.0 / gt.where(big, z, 1.0))),
                  gt.log(gt.arctan(z)) + (LOG_2 - LOG_PI))
    return _checked(op, _mask(gt.ge(value, loc), _out(lc, value)), _pos(scale, "scale"))


@register_rv(_icdf, rd.HalfCauchy)
def halfcauchy_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    z = gt.where(gt.lt(q, 0.5), gt.tan(0.5 * np.pi * q), 1.0 / gt.tan(0.5 * np.pi * (1.0 - q)))
    return _icdf_out(op, q, loc + scale * z, _pos(scale, "scale"))


@register_rv(_logprob, rd.StudentT)
def t_logp(op, value, df, loc, scale):  # type: ignore[no-untyped-def]
    z = (value - loc) / scale
    lp = (gt.gammaln((df + 1.0) / 2.0) - gt.gammaln(df / 2.0) - 0.5 * gt.log(df * np.pi)
          - gt.log(scale) - (df + 1.0) / 2.0 * gt.log1p(z * z / df))
    return _checked(op, _out(lp, value), _pos(df, "df"), _pos(scale, "scale"))


@register_rv(_logprob, rd.Wald)
def wald_logp(op, value, mean, scale):  # type: ignore[no-untyped-def]
    pos = gt.and_(gt.gt(value, 0.0), gt.lt(value, np.inf))
    x = gt.where(pos, value, 1.0)
    lp = (0.5 * (gt.log(scale) - LOG_2PI - 3.0 * gt.log(x))
          - scale * gt.square(x - mean) / (2.0 * mean * mean * x))
    return _checked(op, _mask(pos, _out(lp, value)), _pos(mean, "mean"), _pos(scale, "scale"))


# --- discrete ------------------------------------------------------------------------------


@register_rv(_logprob, rd.Bernoulli)
def bernoulli_logp(op, value, p):  # type: ignore[no-untyped-def]
    p = _f(p, p)
    lp = gt.where(gt.eq(value, 1), gt.log(p), gt.log1p(-p))
    inside = gt.or_(gt.eq(value, 0), gt.eq(value, 1))
    return _checked(op, _mask(inside, _out(lp, value)),
                    (gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)), "0 <= p <= 1"))


@register_rv(_logcdf, rd.Bernoulli)
def bernoulli_logcdf(op, value, p):  # type: ignore[no-untyped-def]
    p = _f(p, p)
    lc = gt.where(gt.lt(value, 0), NINF, gt.where(gt.ge(value, 1), 0.0, gt.log1p(-p)))
    return _checked(op, _out(lc, value), (gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)), "0 <= p <= 1"))


@register_rv(_icdf, rd.Bernoulli)
def bernoulli_icdf(op, q, p):  # type: ignore[no-untyped-def]
    p = _f(p, q)
    # scipy's ppf conventions: q = 0 gives the point below the support, q = 1 its top
    x = gt.where(gt.eq(q, 0.0), -1.0, gt.where(gt.eq(q, 1.0), 1.0,
                                                gt.where(gt.le(q, 1.0 - p), 0.0, 1.0)))
    return _icdf_out(op, q, x, (gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)), "0 <= p <= 1"))


@register_rv(_logprob, rd.Integers)
def integers_logp(op, value, low, high):  # type: ignore[no-untyped-def]
    inside = gt.and_(gt.ge(value, low), gt.lt(value, high))
    lp = -gt.log(_f(high - low, value if value.dtype[0] == "f" else gt.as_tensor(1.0)))
    return _checked(op, _mask(inside, _out(lp, value)), (gt.lt(low, high), "low < high"))


@register_rv(_logcdf, rd.Integers)
def integers_logcdf(op, value, low, high):  # type: ignore[no-untyped-def]
    n = _f(high - low, gt.as_tensor(1.0))
    lc = gt.log(_f(value - low + 1, gt.as_tensor(1.0)) / n)
    lc = gt.where(gt.lt(value, low), NINF, gt.where(gt.ge(value, high - 1), 0.0, lc))
    return _checked(op, _out(lc, value), (gt.lt(low, high), "low < high"))


@register_rv(_icdf, rd.Integers)
def integers_icdf(op, q, low, high):  # type: ignore[no-untyped-def]
    n = _f(high - low, q)
    x = _f(low, q) - 1.0 + gt.ceil(q * n)
    x = gt.where(gt.eq(q, 0.0), _f(low, q) - 1.0, gt.maximum(x, _f(low, q)))
    return _icdf_out(op, q, x, (gt.lt(low, high), "low < high"))


@register_rv(_logprob, rd.Categorical)
def categorical_logp(op, value, p):  # type: ignore[no-untyped-def]
    p = _f(p, p)
    k = p.shape[-1]
    ks = gt.arange(k)
    hit = gt.eq(gt.expand_dims(value, -1), ks)
    lp = gt.sum(gt.where(hit, gt.log(p), 0.0), axis=-1)
    inside = gt.and_(gt.ge(value, 0), gt.lt(value, k))
    p_ok = gt.all(gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)))
    sum_ok = gt.all(gt.le(gt.abs(gt.sum(p, axis=-1) - 1.0), 1e-6))
    return _checked(op, _mask(inside, _out(lp, value)), (p_ok, "0 <= p <= 1"),
                    (sum_ok, "p sums to 1 along its last dimension"))


@register_rv(_logcdf, rd.Categorical)
def categorical_logcdf(op, value, p):  # type: ignore[no-untyped-def]
    p = _f(p, p)
    k = p.shape[-1]
    below = gt.le(gt.arange(k), gt.expand_dims(value, -1))
    lc = gt.log(gt.minimum(gt.sum(gt.where(below, p, 0.0), axis=-1), 1.0))
    lc = gt.where(gt.lt(value, 0), NINF, gt.where(gt.ge(value, k - 1), 0.0, lc))
    p_ok = gt.all(gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)))
    return _checked(op, _out(lc, value), (p_ok, "0 <= p <= 1"))


# --- densities that need the special functions of gnomon.tensor ------------------------------


def _normal_logcdf(z: Variable) -> Variable:
    return gt.log_ndtr(z)


@register_rv(_logcdf, rd.Normal)
def normal_logcdf(op, value, loc, scale):  # type: ignore[no-untyped-def]
    return _checked(op, _out(gt.log_ndtr((value - loc) / scale), value), _pos(scale, "scale"))


@register_rv(_icdf, rd.Normal)
def normal_icdf(op, q, loc, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, loc + scale * gt.ndtri(q), _pos(scale, "scale"))


@register_rv(_logcdf, rd.StandardNormal)
def standard_normal_logcdf(op, value):  # type: ignore[no-untyped-def]
    return _out(gt.log_ndtr(value), value)


@register_rv(_icdf, rd.StandardNormal)
def standard_normal_icdf(op, q):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, gt.ndtri(q))


@register_rv(_logcdf, rd.LogNormal)
def lognormal_logcdf(op, value, mean, sigma):  # type: ignore[no-untyped-def]
    pos = gt.gt(value, 0.0)
    z = (gt.log(gt.where(pos, value, 1.0)) - mean) / sigma
    return _checked(op, _mask(pos, _out(gt.log_ndtr(z), value)), _pos(sigma, "sigma"))


@register_rv(_icdf, rd.LogNormal)
def lognormal_icdf(op, q, mean, sigma):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, gt.exp(mean + sigma * gt.ndtri(q)), _pos(sigma, "sigma"))


def _beta_conds(a, b):  # type: ignore[no-untyped-def]
    return _pos(a, "a"), _pos(b, "b")


@register_rv(_logprob, rd.Beta)
def beta_logp(op, value, a, b):  # type: ignore[no-untyped-def]
    inside = gt.and_(gt.ge(value, 0.0), gt.le(value, 1.0))
    x = gt.where(inside, value, 0.5)
    lp = gt.xlogy(a - 1.0, x) + gt.xlog1py(b - 1.0, -x) - gt.betaln(a, b)
    return _checked(op, _mask(inside, _out(lp, value)), *_beta_conds(a, b))


@register_rv(_logcdf, rd.Beta)
def beta_logcdf(op, value, a, b):  # type: ignore[no-untyped-def]
    x = gt.clip(value, 0.0, 1.0)
    lc = gt.log(gt.betainc(a, b, x))
    lc = gt.where(gt.lt(value, 0.0), NINF, gt.where(gt.ge(value, 1.0), 0.0, lc))
    return _checked(op, _out(lc, value), *_beta_conds(a, b))


@register_rv(_icdf, rd.Beta)
def beta_icdf(op, q, a, b):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, gt.betaincinv(a, b, gt.clip(q, 0.0, 1.0)), *_beta_conds(a, b))


def _finite_pos(value: Variable) -> Variable:
    """``0 <= value < inf``: the density of a positive variable vanishes at infinity (the
    formulas give ``inf - inf`` there)."""
    return gt.and_(gt.ge(value, 0.0), gt.lt(value, np.inf))


def _gamma_logp(value: Variable, k: Any, scale: Any) -> Variable:
    inside = _finite_pos(value)
    x = gt.where(inside, value, 1.0)
    lp = gt.xlogy(k - 1.0, x) - x / scale - gt.gammaln(k) - k * gt.log(scale)
    return _mask(inside, _out(lp, value))


def _gamma_logcdf(value: Variable, k: Any, scale: Any) -> Variable:
    x = gt.maximum(value, 0.0)
    return _mask(gt.ge(value, 0.0), _out(gt.log(gt.gammainc(k, x / scale)), value))


@register_rv(_logprob, rd.Gamma)
def gamma_logp(op, value, shape, scale):  # type: ignore[no-untyped-def]
    return _checked(op, _gamma_logp(value, shape, scale), _pos(shape, "shape"),
                    _pos(scale, "scale"))


@register_rv(_logcdf, rd.Gamma)
def gamma_logcdf(op, value, shape, scale):  # type: ignore[no-untyped-def]
    return _checked(op, _gamma_logcdf(value, shape, scale), _pos(shape, "shape"),
                    _pos(scale, "scale"))


@register_rv(_icdf, rd.Gamma)
def gamma_icdf(op, q, shape, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, scale * gt.gammaincinv(shape, gt.clip(q, 0.0, 1.0)),
                     _pos(shape, "shape"), _pos(scale, "scale"))


@register_rv(_logprob, rd.ChiSquare)
def chisquare_logp(op, value, df):  # type: ignore[no-untyped-def]
    return _checked(op, _gamma_logp(value, df / 2.0, 2.0), _pos(df, "df"))


@register_rv(_logcdf, rd.ChiSquare)
def chisquare_logcdf(op, value, df):  # type: ignore[no-untyped-def]
    return _checked(op, _gamma_logcdf(value, df / 2.0, 2.0), _pos(df, "df"))


@register_rv(_icdf, rd.ChiSquare)
def chisquare_icdf(op, q, df):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, 2.0 * gt.gammaincinv(df / 2.0, gt.clip(q, 0.0, 1.0)),
                     _pos(df, "df"))


@register_rv(_logprob, rd.InvGamma)
def invgamma_logp(op, value, shape, scale):  # type: ignore[no-untyped-def]
    pos = gt.gt(value, 0.0)
    x = gt.where(pos, value, 1.0)
    lp = shape * gt.log(scale) - gt.gammaln(shape) - (shape + 1.0) * gt.log(x) - scale / x
    return _checked(op, _mask(pos, _out(lp, value)), _pos(shape, "shape"),
                    _pos(scale, "scale"))


@register_rv(_logcdf, rd.InvGamma)
def invgamma_logcdf(op, value, shape, scale):  # type: ignore[no-untyped-def]
    pos = gt.gt(value, 0.0)
    x = gt.where(pos, value, 1.0)
    lc = gt.log(gt.gammaincc(shape, scale / x))
    return _checked(op, _mask(pos, _out(lc, value)), _pos(shape, "shape"),
                    _pos(scale, "scale"))


@register_rv(_icdf, rd.InvGamma)
def invgamma_icdf(op, q, shape, scale):  # type: ignore[no-untyped-def]
    return _icdf_out(op, q, scale / gt.gammainccinv(shape, gt.clip(q, 0.0, 1.0)),
                     _pos(shape, "shape"), _pos(scale, "scale"))


@register_rv(_logprob, rd.Weibull)
def weibull_logp(op, value, a):  # type: ignore[no-untyped-def]
    inside = _finite_pos(value)
    x = gt.where(inside, value, 1.0)
    lp = gt.log(a) + gt.xlogy(a - 1.0, x) - gt.power(x, a)
    return _checked(op, _mask(inside, _out(lp, value)), _pos(a, "a"))


@register_rv(_logcdf, rd.StudentT)
def t_logcdf(op, value, df, loc, scale):  # type: ignore[no-untyped-def]
    # P(T <= t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 for t < 0, and 1 minus that above 0
    z = (value - loc) / scale
    tail = gt.betainc(df / 2.0, 0.5, df / (df + z * z))
    lc = gt.where(gt.lt(z, 0.0), gt.log(0.5 * tail), gt.log1p(-0.5 * tail))
    return _checked(op, _out(lc, value), _pos(df, "df"), _pos(scale, "scale"))


@register_rv(_icdf, rd.StudentT)
def t_icdf(op, q, df, loc, scale):  # type: ignore[no-untyped-def]
    qc = gt.clip(q, 0.0, 1.0)
    tail = gt.minimum(qc, 1.0 - qc)
    x = gt.betaincinv(df / 2.0, 0.5, 2.0 * tail)
    mag = gt.sqrt(df * (1.0 / x - 1.0))
    z = gt.where(gt.lt(qc, 0.5), -mag, mag)
    return _icdf_out(op, q, loc + scale * z, _pos(df, "df"), _pos(scale, "scale"))


@register_rv(_logcdf, rd.Wald)
def wald_logcdf(op, value, mean, scale):  # type: ignore[no-untyped-def]
    pos = gt.gt(value, 0.0)
    x = gt.where(pos, value, 1.0)
    r = gt.sqrt(scale / x)
    lc = gt.logaddexp(gt.log_ndtr(r * (x / mean - 1.0)),
                      2.0 * scale / mean + gt.log_ndtr(-r * (x / mean + 1.0)))
    lc = gt.where(gt.eq(value, np.inf), 0.0, lc)
    return _checked(op, _mask(pos, _out(lc, value)), _pos(mean, "mean"), _pos(scale, "scale"))


# --- discrete (special functions) --------------------------------------------------------


def _binomln(n: Any, k: Any) -> Variable:
    """``log(n choose k)`` for ``0 <= k <= n`` (real ``n``, ``k``)."""
    return -gt.log1p(n) - gt.betaln(n - k + 1.0, k + 1.0)


def _p_unit(p: Variable) -> tuple[Variable, str]:
    return gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)), "0 <= p <= 1"


@register_rv(_logprob, rd.Binomial)
def binomial_logp(op, value, n, p):  # type: ignore[no-untyped-def]
    x, nf, p = _f(value, p), _f(n, p), _f(p, p)
    lp = _binomln(nf, x) + gt.xlogy(x, p) + gt.xlog1py(nf - x, -p)
    inside = gt.and_(gt.ge(value, 0), gt.le(value, n))
    return _checked(op, _mask(inside, _out(lp, value)), (gt.ge(n, 0), "n >= 0"), _p_unit(p))


@register_rv(_logcdf, rd.Binomial)
def binomial_logcdf(op, value, n, p):  # type: ignore[no-untyped-def]
    x, nf, p = _f(value, p), _f(n, p), _f(p, p)
    inside = gt.and_(gt.ge(value, 0), gt.lt(value, n))
    xs = gt.where(inside, x, 0.0)
    lc = gt.log(gt.betainc(gt.where(inside, nf - xs, 1.0), xs + 1.0, 1.0 - p))
    lc = gt.where(gt.lt(value, 0), NINF, gt.where(gt.ge(value, n), 0.0, lc))
    return _checked(op, _out(lc, value), (gt.ge(n, 0), "n >= 0"), _p_unit(p))


@register_rv(_logprob, rd.Geometric)
def geometric_logp(op, value, p):  # type: ignore[no-untyped-def]
    x, p = _f(value, p), _f(p, p)
    lp = gt.xlog1py(x - 1.0, -p) + gt.log(p)
    return _checked(op, _mask(gt.ge(value, 1), _out(lp, value)),
                    (gt.and_(gt.gt(p, 0.0), gt.le(p, 1.0)), "0 < p <= 1"))


@register_rv(_logcdf, rd.Geometric)
def geometric_logcdf(op, value, p):  # type: ignore[no-untyped-def]
    x, p = _f(value, p), _f(p, p)
    lc = gt.log1mexp(gt.maximum(x, 1.0) * gt.log1p(-p))
    return _checked(op, _mask(gt.ge(value, 1), _out(lc, value)),
                    (gt.and_(gt.gt(p, 0.0), gt.le(p, 1.0)), "0 < p <= 1"))


@register_rv(_icdf, rd.Geometric)
def geometric_icdf(op, q, p):  # type: ignore[no-untyped-def]
    p = _f(p, q)
    x = gt.maximum(gt.ceil(gt.log1p(-q) / gt.log1p(-p)), 1.0)
    # scipy's conventions: q = 0 gives the point below the support, q = 1 its top
    x = gt.where(gt.eq(q, 0.0), 0.0, gt.where(gt.eq(q, 1.0), np.inf, x))
    return _icdf_out(op, q, x, (gt.and_(gt.gt(p, 0.0), gt.le(p, 1.0)), "0 < p <= 1"))


@register_rv(_logprob, rd.NegativeBinomial)
def negative_binomial_logp(op, value, n, p):  # type: ignore[no-untyped-def]
    x, nf, p = _f(value, p), _f(n, p), _f(p, p)
    lp = (gt.gammaln(x + nf) - gt.gammaln(nf) - gt.gammaln(x + 1.0) + nf * gt.log(p)
          + gt.xlog1py(x, -p))
    return _checked(op, _mask(gt.ge(value, 0), _out(lp, value)), (gt.gt(nf, 0.0), "n > 0"),
                    (gt.and_(gt.gt(p, 0.0), gt.le(p, 1.0)), "0 < p <= 1"))


@register_rv(_logcdf, rd.NegativeBinomial)
def negative_binomial_logcdf(op, value, n, p):  # type: ignore[no-untyped-def]
    x, nf, p = _f(value, p), _f(n, p), _f(p, p)
    lc = gt.log(gt.betainc(nf, gt.maximum(x, 0.0) + 1.0, p))
    return _checked(op, _mask(gt.ge(value, 0), _out(lc, value)), (gt.gt(nf, 0.0), "n > 0"),
                    (gt.and_(gt.gt(p, 0.0), gt.le(p, 1.0)), "0 < p <= 1"))


@register_rv(_logprob, rd.Poisson)
def poisson_logp(op, value, lam):  # type: ignore[no-untyped-def]
    x, lam = _f(value, lam), _f(lam, lam)
    lp = gt.xlogy(x, lam) - lam - gt.gammaln(x + 1.0)
    return _checked(op, _mask(gt.ge(value, 0), _out(lp, value)), (gt.ge(lam, 0.0), "lam >= 0"))


@register_rv(_logcdf, rd.Poisson)
def poisson_logcdf(op, value, lam):  # type: ignore[no-untyped-def]
    x, lam = _f(value, lam), _f(lam, lam)
    lc = gt.log(gt.gammaincc(gt.maximum(x, 0.0) + 1.0, lam))
    return _checked(op, _mask(gt.ge(value, 0), _out(lc, value)), (gt.ge(lam, 0.0), "lam >= 0"))


# --- multivariate --------------------------------------------------------------------------


@register_rv(_logprob, rd.Dirichlet)
def dirichlet_logp(op, value, alpha):  # type: ignore[no-untyped-def]
    inside = gt.and_(gt.all(gt.ge(value, 0.0), axis=-1),
                     gt.le(gt.abs(gt.sum(value, axis=-1) - 1.0), 1e-6))
    x = gt.clip(value, 0.0, 1.0)
    lp = (gt.sum(gt.xlogy(alpha - 1.0, x), axis=-1) + gt.gammaln(gt.sum(alpha, axis=-1))
          - gt.sum(gt.gammaln(alpha), axis=-1))
    return _checked(op, _mask(inside, _out(lp, value[..., 0])),
                    (gt.all(gt.gt(alpha, 0.0)), "alpha > 0"))


@register_rv(_logprob, rd.Multinomial)
def multinomial_logp(op, value, n, p):  # type: ignore[no-untyped-def]
    x, nf, p = _f(value, p), _f(n, p), _f(p, p)
    lp = gt.gammaln(nf + 1.0) + gt.sum(gt.xlogy(x, p) - gt.gammaln(x + 1.0), axis=-1)
    inside = gt.and_(gt.all(gt.ge(value, 0), axis=-1), gt.eq(gt.sum(value, axis=-1), n))
    p_ok = gt.all(gt.and_(gt.ge(p, 0.0), gt.le(p, 1.0)))
    sum_ok = gt.all(gt.le(gt.abs(gt.sum(p, axis=-1) - 1.0), 1e-6))
    return _checked(op, _mask(inside, _out(lp, x[..., 0])), (gt.all(gt.ge(n, 0)), "n >= 0"),
                    (p_ok, "0 <= p <= 1"), (sum_ok, "p sums to 1 along its last dimension"))


@register_rv(_logprob, rd.MultivariateNormal)
def multivariate_normal_logp(op, value, mean, cov):  # type: ignore[no-untyped-def]
    # through the Cholesky factor: -k/2 log(2 pi) - sum(log diag L) - |L^-1 (x - mean)|^2 / 2
    chol = gt.cholesky(cov)
    delta = value - mean
    k = gt.cast(value.shape[-1], value.dtype)
    z = gt.solve_triangular(chol, gt.expand_dims(delta, -1), lower=True)[..., 0]
    diag = gt.sum(chol * gt.eye(value.shape[-1]), axis=-1)
    logdet = gt.sum(gt.log(diag), axis=-1)
    lp = -0.5 * k * LOG_2PI - logdet - 0.5 * gt.sum(z * z, axis=-1)
    return lp


# --- distributions added with issue 10's second batch ----------------------------------------


@register_rv(_logprob, rd.VonMises)
def vonmises_logp(op, value, mu, kappa):  # type: ignore[no-untyped-def]
    # log I0(kappa) = log(i0e(kappa)) + kappa: no overflow for large kappa
    lp = kappa * (gt.cos(value - mu) - 1.0) - LOG_2PI - gt.log(gt.i0e(kappa))
    inside = gt.and_(gt.ge(value, -np.pi), gt.le(value, np.pi))
    return _checked(op, _mask(inside, _out(lp, value)), (gt.ge(kappa, 0.0), "kappa >= 0"))


def _gengamma_conds(alpha, p, lambd):  # type: ignore[no-untyped-def]
    return _pos(alpha, "alpha"), _pos(p, "p"), _pos(lambd, "lambd")


@register_rv(_logprob, rd.GenGamma)
def gengamma_logp(op, value, alpha, p, lambd):  # type: ignore[no-untyped-def]
    inside = _finite_pos(value)
    x = gt.where(inside, value, 1.0)
    lp = (gt.log(p) - alpha * gt.log(lambd) - gt.gammaln(alpha / p) + gt.xlogy(alpha - 1.0, x)
          - gt.power(x / lambd, p))
    return _checked(op, _mask(inside, _out(lp, value)), *_gengamma_conds(alpha, p, lambd))


@register_rv(_logcdf, rd.GenGamma)
def gengamma_logcdf(op, value, alpha, p, lambd):  # type: ignore[no-untyped-def]
    x = gt.maximum(value, 0.0)
    lc = gt.log(gt.gammainc(alpha / p, gt.power(x / lambd, p)))
    return _checked(op, _mask(gt.ge(value, 0.0), _out(lc, value)),
                    *_gengamma_conds(alpha, p, lambd))


@register_rv(_icdf, rd.GenGamma)
def gengamma_icdf(op, q, alpha, p, lambd):  # type: ignore[no-untyped-def]
    g = gt.gammaincinv(alpha / p, gt.clip(q, 0.0, 1.0))
    return _icdf_out(op, q, lambd * gt.power(g, 1.0 / p), *_gengamma_conds(alpha, p, lambd))


@register_rv(_logprob, rd.BetaBinomial)
def betabinomial_logp(op, value, n, a, b):  # type: ignore[no-untyped-def]
    x, nf = _f(value, a), _f(n, a)
    lp = _binomln(nf, x) + gt.betaln(x + a, nf - x + b) - gt.betaln(a, b)
    inside = gt.and_(gt.ge(value, 0), gt.le(value, n))
    return _checked(op, _mask(inside, _out(lp, value)), (gt.ge(n, 0), "n >= 0"),
                    _pos(a, "a"), _pos(b, "b"))


@register_rv(_logprob, rd.Hypergeometric)
def hypergeometric_logp(op, value, ngood, nbad, nsample):  # type: ignore[no-untyped-def]
    one = gt.as_tensor(1.0)
    x, g, b, s = (_f(v, one) for v in (value, ngood, nbad, nsample))
    lp = _binomln(g, x) + _binomln(b, s - x) - _binomln(g + b, s)
    inside = gt.and_(gt.and_(gt.ge(value, 0), gt.le(value, ngood)),
                     gt.and_(gt.ge(value, nsample - nbad), gt.le(value, nsample)))
    return _checked(op, _mask(inside, _out(lp, value)),
                    (gt.and_(gt.ge(ngood, 0), gt.ge(nbad, 0)), "ngood >= 0 and nbad >= 0"),
                    (gt.and_(gt.ge(nsample, 0), gt.le(nsample, ngood + nbad)),
                     "0 <= nsample <= ngood + nbad"))


@register_rv(_logprob, rd.Permutation)
def permutation_logp(op, value, x):  # type: ignore[no-untyped-def]
    # every ordering equally likely: -log(k!) where value holds the entries of x (distinct
    # entries assumed: repeated ones make several orderings equal)
    k = gt.cast(x.shape[-1], "float64")
    same = gt.all(gt.eq(gt.sort(value, axis=-1), gt.sort(x, axis=-1)), axis=-1)
    return _mask(same, _out(-gt.gammaln(k + 1.0), _f(value, gt.as_tensor(1.0))[..., 0]))


@register_rv(_logprob, rd.Choice)
def choice_logp(op, value, a, *p):  # type: ignore[no-untyped-def]
    if not op.replace:
        raise _no_joint_choice()
    hit = gt.eq(gt.expand_dims(value, -1), a)
    if p:
        pf = _f(p[0], gt.as_tensor(1.0))
        prob = gt.sum(gt.where(hit, pf, 0.0), axis=-1)
    else:
        prob = gt.cast(gt.sum(hit, axis=-1), "float64") / gt.cast(a.shape[-1], "float64")
    return _out(gt.log(prob), _f(value, gt.as_tensor(1.0)))


def _no_joint_choice() -> Exception:
    from gnomon.errors import NotLoweredError

    return NotLoweredError(
        "logp of choice without replacement is not implemented: its entries are not "
        "independent (the density of the whole sample is one number)\nHint: draw with "
        "replace=True, or use permutation() for a full shuffle")
