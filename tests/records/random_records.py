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
    BetaBinomial,
    Binomial,
    Categorical,
    Cauchy,
    ChiSquare,
    Choice,
    Dirichlet,
    Exponential,
    Gamma,
    GenGamma,
    Geometric,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Hypergeometric,
    Integers,
    InvGamma,
    Laplace,
    Logistic,
    LogNormal,
    Multinomial,
    MultivariateNormal,
    NegativeBinomial,
    Normal,
    Pareto,
    Permutation,
    Poisson,
    StandardNormal,
    StudentT,
    Triangular,
    Uniform,
    VonMises,
    Wald,
    Weibull,
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


def _betabinomial_ref(n, a, b):  # type: ignore[no-untyped-def]
    g = _np()
    batch = np.broadcast_shapes(n.shape, a.shape, b.shape)
    return g.binomial(n, g.beta(a, b, batch), batch)


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
             lambda m, c: _np().multivariate_normal(m, c, (3,), method="cholesky"),
             [(F(2), SPD(2, 2))], grad=0,
             ops=(MultivariateNormal,), random=True),
    OpRecord("rv_halfnormal", lambda loc, scale: _rv(gr.halfnormal, loc, scale),
             lambda loc, scale: loc + scale * np.abs(_np().standard_normal(
                 np.broadcast_shapes(loc.shape, scale.shape))),
             [(F(3), P(2, 1))], grad=1, ops=(HalfNormal,), random=True),
    OpRecord("rv_lognormal", lambda m, s: _rv(gr.lognormal, m, s, size=(2, 3)),
             lambda m, s: _np().lognormal(m, s, (2, 3)), [(F(3, low=-1, high=1), P(1))],
             grad=2, ops=(LogNormal,), random=True),
    OpRecord("rv_laplace", lambda loc, scale: _rv(gr.laplace, loc, scale),
             lambda loc, scale: _np().laplace(loc, scale), [(F(3), P(3))], grad=1,
             ops=(Laplace,), random=True),
    OpRecord("rv_logistic", lambda loc, scale: _rv(gr.logistic, loc, scale),
             lambda loc, scale: _np().logistic(loc, scale), [(F(3), P(3))], grad=1,
             ops=(Logistic,), random=True),
    OpRecord("rv_gumbel", lambda loc, scale: _rv(gr.gumbel, loc, scale),
             lambda loc, scale: _np().gumbel(loc, scale), [(F(3), P(3))], grad=1,
             ops=(Gumbel,), random=True),
    OpRecord("rv_cauchy", lambda loc, scale: _rv(gr.cauchy, loc, scale, size=(2, 3)),
             lambda loc, scale: loc + scale * _np().standard_cauchy((2, 3)),
             [(F(3), P(3))], grad=1, ops=(Cauchy,), random=True),
    OpRecord("rv_halfcauchy", lambda loc, scale: _rv(gr.halfcauchy, loc, scale, size=(3,)),
             lambda loc, scale: loc + scale * np.abs(_np().standard_cauchy((3,))),
             [(F(3), P())], grad=1, ops=(HalfCauchy,), random=True),
    OpRecord("rv_t", lambda df, loc, scale: _rv(gr.t, df, loc, scale),
             lambda df, loc, scale: loc + scale * _np().standard_t(
                 df, np.broadcast_shapes(df.shape, loc.shape, scale.shape)),
             [(P(3, low=1.0, high=5.0), F(3), P(3))], grad=1, grad_wrt=(1, 2),
             ops=(StudentT,), random=True),
    OpRecord("rv_chisquare", lambda df: _rv(gr.chisquare, df), lambda df: _np().chisquare(df),
             [(P(4),)], grad=0, ops=(ChiSquare,), random=True),
    OpRecord("rv_weibull", lambda a: _rv(gr.weibull, a, size=(2, 4)),
             lambda a: _np().weibull(a, (2, 4)), [(P(4),)], grad=0, ops=(Weibull,),
             random=True),
    OpRecord("rv_pareto", lambda a, m: _rv(gr.pareto, a, m),
             lambda a, m: m * (1.0 + _np().pareto(a, np.broadcast_shapes(a.shape, m.shape))),
             [(P(3), P(2, 1))], grad=0, ops=(Pareto,), random=True),
    OpRecord("rv_invgamma", lambda a, b: _rv(gr.invgamma, a, b),
             lambda a, b: 1.0 / _np().gamma(a, 1.0 / b), [(P(3), P(3))], grad=0,
             ops=(InvGamma,), random=True),
    OpRecord("rv_wald", lambda m, sc: _rv(gr.wald, m, sc), lambda m, sc: _np().wald(m, sc),
             [(P(3), P(3))], grad=0, ops=(Wald,), random=True),
    OpRecord("rv_triangular", lambda lo, mo, hi: _rv(gr.triangular, lo, mo, hi),
             lambda lo, mo, hi: _np().triangular(lo, mo, hi),
             [(F(3, low=-3, high=-2), F(3, low=-1, high=1), F(3, low=2, high=3))], grad=0,
             ops=(Triangular,), random=True),
    OpRecord("rv_geometric", lambda p: _rv(gr.geometric, p), lambda p: _np().geometric(p),
             [(F(4, low=0.05, high=1.0),)], grad=0, ops=(Geometric,), random=True),
    OpRecord("rv_negative_binomial", lambda n, p: _rv(gr.negative_binomial, n, p),
             lambda n, p: _np().negative_binomial(n, p),
             [(P(3, low=0.5, high=10.0), F(3, low=0.1, high=1.0))], grad=0,
             ops=(NegativeBinomial,), random=True),
    OpRecord("rv_multinomial", lambda n, w: _rv(gr.multinomial, n, _normalized(w)),
             lambda n, w: _np().multinomial(n, w / w.sum(axis=-1, keepdims=True)),
             [(I(2, low=0, high=20), P(2, 3))], grad=0, ops=(Multinomial,), random=True),
    OpRecord("rv_vonmises", lambda mu, k: _rv(gr.vonmises, mu, k),
             lambda mu, k: _np().vonmises(mu, k), [(F(3), P(2, 1))], grad=0, ops=(VonMises,),
             random=True),
    OpRecord("rv_gengamma", lambda a, p, lam: _rv(gr.gengamma, a, p, lam, size=(2, 3)),
             lambda a, p, lam: lam * _np().standard_gamma(a / p, (2, 3)) ** (1.0 / p),
             [(P(3), P(1), P(3))], grad=0, ops=(GenGamma,), random=True),
    OpRecord("rv_betabinomial", lambda n, a, b: _rv(gr.betabinomial, n, a, b),
             lambda n, a, b: _betabinomial_ref(n, a, b),
             [(I(3, low=0, high=20), P(3), P(2, 1))], grad=0, ops=(BetaBinomial,),
             random=True),
    OpRecord("rv_hypergeometric", lambda g, b, n: _rv(gr.hypergeometric, g, b, n),
             lambda g, b, n: _np().hypergeometric(g, b, n),
             [(I(3, low=5, high=10), I(2, 1, low=5, high=10), I(3, low=0, high=11))], grad=0,
             ops=(Hypergeometric,), random=True),
    OpRecord("rv_choice", lambda a: _rv(gr.choice, a, size=(2, 3)),
             lambda a: _np().choice(a, size=(2, 3)), [(F(5),)], grad=0, ops=(Choice,),
             random=True),
    OpRecord("rv_choice_p_without_replacement",
             lambda a, w: _rv(gr.choice, a, size=(3,), replace=False, p=_normalized(w)),
             lambda a, w: _np().choice(a, size=(3,), replace=False, p=w / w.sum()),
             [(F(5), P(5))], grad=0, ops=(Choice,), random=True),
    OpRecord("rv_permutation", lambda x: _rv(gr.permutation, x),
             lambda x: _np().permutation(x), [(F(5),), (F(4, 2),)], grad=0,
             ops=(Permutation,), random=True),
]
