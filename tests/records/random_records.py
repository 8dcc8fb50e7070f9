"""Rows for random variables: the reference backend draws exactly what NumPy's ``Generator`` draws
with the same seed and arguments; other backends are compared on shapes and dtypes
(``random=True``). Statistical tests of every backend live in ``tests/random/``."""

import numpy as np

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.random.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Dirichlet,
    Exponential,
    Gamma,
    Integers,
    MultivariateNormal,
    Normal,
    Poisson,
    StandardNormal,
    Uniform,
)
from tests.records import SPD, F, I, OpRecord, P

SEED = 0


def _rv(fn, *params, **kw):  # type: ignore[no-untyped-def]
    """A draw from a fresh generator with a fixed seed and no default update: every function
    compiled from the row's graph draws the same numbers (common random numbers for the
    gradient checks)."""
    return fn(*params, rng=gnomon.shared(np.random.default_rng(SEED)), **kw)


def _np():  # type: ignore[no-untyped-def]
    return np.random.default_rng(SEED)


def _categorical_ref(w, size=None):  # type: ignore[no-untyped-def]
    p = w / w.sum(axis=-1, keepdims=True)
    batch = p.shape[:-1] if size is None else size
    cdf = np.cumsum(np.broadcast_to(p, batch + p.shape[-1:]), axis=-1)
    u = _np().random(batch)
    return np.minimum(np.sum(cdf <= u[..., None], axis=-1), p.shape[-1] - 1)


def _normalized(w):  # type: ignore[no-untyped-def]
    return w / gt.sum(w, axis=-1, keepdims=True)


RECORDS = [
    OpRecord("rv_normal", lambda loc, scale: _rv(gr.normal, loc, scale),
             lambda loc, scale: _np().normal(loc, scale),
             [(F(3), P(3)), (F(2, 1), P(3)), (F(), P())], grad=2, ops=(Normal,), random=True),
    OpRecord("rv_normal_size", lambda loc, scale: _rv(gr.normal, loc, scale, size=(4, 3)),
             lambda loc, scale: _np().normal(loc, scale, size=(4, 3)),
             [(F(3), P(1))], grad=1, ops=(Normal,), random=True),
    OpRecord("rv_standard_normal", lambda x: x + _rv(gr.standard_normal, size=(2, 3)),
             lambda x: x + _np().standard_normal((2, 3)), [(F(3),)], grad=1,
             ops=(StandardNormal,), random=True),
    OpRecord("rv_uniform", lambda low, high: _rv(gr.uniform, low, high),
             lambda low, high: _np().uniform(low, high),
             [(F(3, low=-2, high=-1), P(2, 1))], grad=2, ops=(Uniform,), random=True),
    OpRecord("rv_exponential", lambda scale: _rv(gr.exponential, scale, size=(5, 2)),
             lambda scale: _np().exponential(scale, (5, 2)), [(P(2),)], grad=2,
             ops=(Exponential,), random=True),
    OpRecord("rv_gamma", lambda a, scale: _rv(gr.gamma, a, scale),
             lambda a, scale: _np().gamma(a, scale), [(P(3), P(2, 1))], grad=0, ops=(Gamma,),
             random=True),
    OpRecord("rv_beta", lambda a, b: _rv(gr.beta, a, b, size=(3,)),
             lambda a, b: _np().beta(a, b, (3,)), [(P(), P(3))], grad=0, ops=(Beta,),
             random=True),
    OpRecord("rv_poisson", lambda lam: _rv(gr.poisson, lam),
             lambda lam: _np().poisson(lam), [(P(4, high=20.0),)], grad=0, ops=(Poisson,),
             random=True),
    OpRecord("rv_binomial", lambda n, p: _rv(gr.binomial, n, p),
             lambda n, p: _np().binomial(n, p), [(I(3, low=0, high=20), F(2, 1, low=0, high=1))],
             grad=0, ops=(Binomial,), random=True),
    OpRecord("rv_bernoulli", lambda p: _rv(gr.bernoulli, p, size=(2, 4)),
             lambda p: (_np().random((2, 4)) < p).astype("int64"), [(F(4, low=0, high=1),)],
             grad=0, ops=(Bernoulli,), random=True),
    OpRecord("rv_integers", lambda low, high: _rv(gr.integers, low, high),
             lambda low, high: _np().integers(low, high),
             [(I(3, low=-5, high=0), I(3, low=1, high=6))], grad=0, ops=(Integers,),
             random=True),
    OpRecord("rv_categorical", lambda w: _rv(gr.categorical, _normalized(w)), _categorical_ref,
             [(P(4, 3),), (P(5),)], grad=0, ops=(Categorical,), random=True),
    OpRecord("rv_dirichlet", lambda alpha: _rv(gr.dirichlet, alpha, size=(2,)),
             lambda alpha: _np().dirichlet(alpha, (2,)), [(P(3),)], grad=0, ops=(Dirichlet,),
             random=True),
    OpRecord("rv_multivariate_normal", lambda m, c: _rv(gr.multivariate_normal, m, c, size=(3,)),
             lambda m, c: _np().multivariate_normal(m, c, (3,)), [(F(2), SPD(2, 2))], grad=0,
             ops=(MultivariateNormal,), random=True),
]
