"""Every distribution on every backend: shapes and dtypes equal NumPy's ``Generator`` for the same
arguments, and draws pass a goodness-of-fit test against ``scipy.stats``.

Numba's and JAX's compile times dominate, so each (distribution, backend) compiles ONE function
with symbolic parameters, used for every shape case and for the goodness-of-fit draws:

* output 0, ``size=None``: parameter 0 has 2 batch dimensions, the others 1 (broadcasting);
* output 1, ``size=(n, K)``: every parameter has 1 batch dimension of length K (or 1). The
  goodness-of-fit draws use it with the K parameter settings of the distribution as columns.

Significance: one level for all the tests of this module, Bonferroni-corrected
(``ALPHA = 0.01 / number of tests``), with fixed seeds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import stats

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.testing import available_modes

MODES = available_modes()
N = 3000  # draws per parameter setting


@dataclass(frozen=True)
class Spec:
    """How to test one distribution."""

    fn: Callable[..., Any]
    dtypes: tuple[str, ...]  # parameter dtypes
    cores: tuple[int, ...]  # core dimensions of each parameter
    settings: tuple[tuple[Any, ...], ...]  # goodness-of-fit parameter settings (columns)
    valid: Callable[[np.random.Generator, list[tuple[int, ...]]], list[np.ndarray]]
    numpy: Callable[..., Any] | None  # NumPy's draw with the same arguments (None: no such)
    scipy: Callable[..., Any] | None = None  # frozen scipy distribution of one setting
    discrete: bool = False
    supp: Callable[[list[np.ndarray]], tuple[int, ...]] = field(default=lambda ps: ())

    @property
    def name(self) -> str:
        return self.fn.__name__


def _uni(lo: float, hi: float) -> Callable[..., np.ndarray]:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _valid(*makers: Callable[..., np.ndarray]) -> Callable[..., list[np.ndarray]]:
    return lambda rng, shapes: [m(rng, s) for m, s in zip(makers, shapes, strict=True)]


def _probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    w = rng.uniform(0.1, 1.0, shape)
    return w / w.sum(axis=-1, keepdims=True)


def _cov(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


class _VonMisesOnCircle:
    """The distribution of von Mises draws as NumPy returns them: ``mu + y`` wrapped into
    ``[-pi, pi]`` (scipy's ``vonmises(kappa, loc=mu)`` lives on ``[mu - pi, mu + pi]``; its CDF
    grows by 1 per turn, so differences of it give the wrapped CDF)."""

    def __init__(self, mu: float, kappa: float) -> None:
        self.mu, self.base = mu, stats.vonmises(kappa)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.base.cdf(x - self.mu) - self.base.cdf(-np.pi - self.mu)


F2, F3 = ("float64",) * 2, ("float64",) * 3
LOC_SCALE = _valid(_uni(-2, 2), _uni(0.1, 3))

SPECS = [
    Spec(gr.normal, ("float64", "float64"), (0, 0), ((0.0, 1.0), (3.0, 0.5), (-2.0, 10.0)),
         _valid(_uni(-2, 2), _uni(0.1, 3)), lambda r, a, b, size: r.normal(a, b, size),
         lambda a, b: stats.norm(a, b)),
    Spec(gr.standard_normal, (), (), ((),), _valid(),
         lambda r, size: r.standard_normal(size), lambda: stats.norm()),
    Spec(gr.uniform, ("float64", "float64"), (0, 0), ((0.0, 1.0), (-3.0, 2.0), (5.0, 5.5)),
         _valid(_uni(-2, 0), _uni(0.5, 3)), lambda r, a, b, size: r.uniform(a, b, size),
         lambda a, b: stats.uniform(a, b - a)),
    Spec(gr.gamma, ("float64", "float64"), (0, 0), ((0.5, 1.0), (1.0, 2.0), (5.0, 0.3)),
         _valid(_uni(0.2, 4), _uni(0.1, 3)), lambda r, a, b, size: r.gamma(a, b, size),
         lambda a, b: stats.gamma(a, scale=b)),
    Spec(gr.beta, ("float64", "float64"), (0, 0), ((0.5, 0.5), (2.0, 5.0), (10.0, 1.0)),
         _valid(_uni(0.2, 4), _uni(0.2, 4)), lambda r, a, b, size: r.beta(a, b, size),
         lambda a, b: stats.beta(a, b)),
    Spec(gr.exponential, ("float64",), (0,), ((1.0,), (0.2,), (5.0,)), _valid(_uni(0.1, 3)),
         lambda r, s, size: r.exponential(s, size), lambda s: stats.expon(scale=s)),
    Spec(gr.poisson, ("float64",), (0,), ((0.5,), (4.0,), (40.0,)), _valid(_uni(0.1, 30)),
         lambda r, lam, size: r.poisson(lam, size), lambda lam: stats.poisson(lam),
         discrete=True),
    Spec(gr.binomial, ("int64", "float64"), (0, 0), ((1, 0.5), (10, 0.1), (100, 0.7)),
         _valid(lambda r, s: r.integers(0, 50, s), _uni(0, 1)),
         lambda r, n, p, size: r.binomial(n, p, size), lambda n, p: stats.binom(n, p),
         discrete=True),
    Spec(gr.bernoulli, ("float64",), (0,), ((0.1,), (0.5,), (0.95,)), _valid(_uni(0, 1)),
         lambda r, p, size: r.binomial(1, p, size), lambda p: stats.bernoulli(p),
         discrete=True),
    Spec(gr.integers, ("int64", "int64"), (0, 0), ((0, 10), (-5, 5), (100, 103)),
         _valid(lambda r, s: r.integers(-5, 0, s), lambda r, s: r.integers(1, 5, s)),
         lambda r, lo, hi, size: r.integers(lo, hi, size),
         lambda lo, hi: stats.randint(lo, hi), discrete=True),
    Spec(gr.halfnormal, F2, (0, 0), ((0.0, 1.0), (1.0, 2.0), (-1.0, 0.5)), LOC_SCALE, None,
         lambda a, b: stats.halfnorm(a, b)),
    Spec(gr.lognormal, F2, (0, 0), ((0.0, 1.0), (1.0, 0.5), (-1.0, 2.0)), LOC_SCALE,
         lambda r, a, b, size: r.lognormal(a, b, size),
         lambda a, b: stats.lognorm(b, scale=np.exp(a))),
    Spec(gr.laplace, F2, (0, 0), ((0.0, 1.0), (3.0, 0.5)), LOC_SCALE,
         lambda r, a, b, size: r.laplace(a, b, size), lambda a, b: stats.laplace(a, b)),
    Spec(gr.logistic, F2, (0, 0), ((0.0, 1.0), (3.0, 0.5)), LOC_SCALE,
         lambda r, a, b, size: r.logistic(a, b, size), lambda a, b: stats.logistic(a, b)),
    Spec(gr.gumbel, F2, (0, 0), ((0.0, 1.0), (3.0, 0.5)), LOC_SCALE,
         lambda r, a, b, size: r.gumbel(a, b, size), lambda a, b: stats.gumbel_r(a, b)),
    Spec(gr.cauchy, F2, (0, 0), ((0.0, 1.0), (3.0, 0.5)), LOC_SCALE, None,
         lambda a, b: stats.cauchy(a, b)),
    Spec(gr.halfcauchy, F2, (0, 0), ((0.0, 1.0), (3.0, 0.5)), LOC_SCALE, None,
         lambda a, b: stats.halfcauchy(a, b)),
    Spec(gr.t, F3, (0, 0, 0), ((1.0, 0.0, 1.0), (3.0, 2.0, 0.5), (30.0, -1.0, 2.0)),
         _valid(_uni(1, 10), _uni(-2, 2), _uni(0.1, 3)), None,
         lambda df, a, b: stats.t(df, a, b)),
    Spec(gr.chisquare, ("float64",), (0,), ((1.0,), (2.5,), (20.0,)), _valid(_uni(0.5, 10)),
         lambda r, df, size: r.chisquare(df, size), lambda df: stats.chi2(df)),
    Spec(gr.weibull, ("float64",), (0,), ((0.5,), (1.5,), (5.0,)), _valid(_uni(0.3, 5)),
         lambda r, a, size: r.weibull(a, size), lambda a: stats.weibull_min(a)),
    Spec(gr.pareto, F2, (0, 0), ((1.0, 1.0), (3.0, 2.0), (0.5, 0.1)),
         _valid(_uni(0.5, 4), _uni(0.1, 3)), None, lambda a, m: stats.pareto(a, scale=m)),
    Spec(gr.invgamma, F2, (0, 0), ((1.0, 1.0), (3.0, 2.0), (10.0, 0.5)),
         _valid(_uni(0.5, 4), _uni(0.1, 3)), None, lambda a, b: stats.invgamma(a, scale=b)),
    Spec(gr.wald, F2, (0, 0), ((1.0, 1.0), (2.0, 0.5), (0.5, 3.0)),
         _valid(_uni(0.5, 4), _uni(0.1, 3)), lambda r, m, sc, size: r.wald(m, sc, size),
         lambda m, sc: stats.invgauss(m / sc, scale=sc)),
    Spec(gr.triangular, F3, (0, 0, 0), ((0.0, 0.5, 1.0), (-1.0, -1.0, 2.0), (0.0, 3.0, 3.0)),
         _valid(_uni(-3, -2), _uni(-1, 1), _uni(2, 3)),
         lambda r, lo, mo, hi, size: r.triangular(lo, mo, hi, size),
         lambda lo, mo, hi: stats.triang((mo - lo) / (hi - lo), lo, hi - lo)),
    Spec(gr.geometric, ("float64",), (0,), ((0.1,), (0.5,), (0.9,)), _valid(_uni(0.05, 1)),
         lambda r, p, size: r.geometric(p, size), lambda p: stats.geom(p), discrete=True),
    Spec(gr.negative_binomial, F2, (0, 0), ((1.0, 0.5), (5.0, 0.3), (20.0, 0.9)),
         _valid(_uni(0.5, 10), _uni(0.1, 1)),
         lambda r, n, p, size: r.negative_binomial(n, p, size), lambda n, p: stats.nbinom(n, p),
         discrete=True),
    Spec(gr.categorical, ("float64",), (1,),
         (([0.2, 0.3, 0.5],), ([0.9, 0.05, 0.05],), ([0.0, 0.5, 0.5],)), _valid(_probs),
         None, lambda p: stats.rv_discrete(values=(np.arange(len(p)), p)), discrete=True),
    Spec(gr.multinomial, ("int64", "float64"), (0, 1),
         ((10, [0.2, 0.3, 0.5]), (1, [0.5, 0.25, 0.25]), (100, [0.05, 0.9, 0.05])),
         _valid(lambda r, s: r.integers(0, 20, s), _probs),
         lambda r, n, p, size: r.multinomial(n, p, size), discrete=True,
         supp=lambda ps: ps[1].shape[-1:]),
    Spec(gr.dirichlet, ("float64",), (1,), (([1.0, 1.0, 1.0],), ([0.5, 2.0, 5.0],),
                                            ([0.1, 0.2, 0.3],)),
         _valid(_uni(0.2, 3)), None, supp=lambda ps: ps[0].shape[-1:]),
    Spec(gr.multivariate_normal, ("float64", "float64"), (1, 2),
         (([0.0, 0.0], np.eye(2)), ([1.0, -2.0], [[2.0, 0.8], [0.8, 1.0]]),
          ([0.0, 3.0], [[1.0, 1.0], [1.0, 1.0]])),  # the last one is singular
         _valid(_uni(-2, 2), _cov), None, supp=lambda ps: ps[0].shape[-1:]),
    Spec(gr.vonmises, F2, (0, 0), ((0.0, 1.0), (2.5, 4.0), (-1.0, 0.05)),
         _valid(_uni(-3, 3), _uni(0.1, 5)), lambda r, mu, k, size: r.vonmises(mu, k, size),
         lambda mu, k: _VonMisesOnCircle(mu, k)),
    Spec(gr.gengamma, F3, (0, 0, 0), ((1.0, 1.0, 1.0), (2.0, 1.5, 3.0), (0.5, 3.0, 0.5)),
         _valid(_uni(0.3, 4), _uni(0.3, 4), _uni(0.3, 4)), None,
         lambda a, p, lam: stats.gengamma(a / p, p, scale=lam)),
    Spec(gr.betabinomial, ("int64", "float64", "float64"), (0, 0, 0),
         ((10, 2.0, 3.0), (1, 0.5, 0.5), (30, 5.0, 1.0)),
         _valid(lambda r, s: r.integers(0, 20, s), _uni(0.3, 4), _uni(0.3, 4)), None,
         lambda n, a, b: stats.betabinom(n, a, b), discrete=True),
    Spec(gr.hypergeometric, ("int64",) * 3, (0, 0, 0), ((5, 10, 3), (20, 20, 30), (1, 50, 10)),
         # nsample <= 10 <= ngood + nbad, whatever the shapes
         _valid(lambda r, s: r.integers(5, 10, s), lambda r, s: r.integers(5, 10, s),
                lambda r, s: r.integers(0, 11, s)),
         lambda r, g, b, n, size: r.hypergeometric(g, b, n, size),
         lambda g, b, n: stats.hypergeom(g + b, g, n), discrete=True),
]
BY_NAME = {s.name: s for s in SPECS}


def _n_tests(spec: Spec) -> int:
    per = {"dirichlet": 3, "multivariate_normal": 3, "multinomial": 3}.get(spec.name, 1)
    return len(spec.settings) * per


ALPHA = 0.01 / (len(MODES) * sum(_n_tests(s) for s in SPECS))


@functools.cache
def compiled(name: str, mode: str) -> tuple[Any, list[Any]]:
    """The one function of a (distribution, backend): see the module docstring."""
    spec = BY_NAME[name]
    none_ps = [gt.tensor(f"a{i}", dtype=dt, shape=(None,) * (c + (2 if i == 0 else 1)))
               for i, (dt, c) in enumerate(zip(spec.dtypes, spec.cores, strict=True))]
    size_ps = [gt.tensor(f"b{i}", dtype=dt, shape=(None,) * (c + 1))
               for i, (dt, c) in enumerate(zip(spec.dtypes, spec.cores, strict=True))]
    # size=(n, K) is the shape of an input, so that it is static under jax.jit
    z = gt.dmatrix("z")
    rng1 = gnomon.shared(np.random.default_rng(1))
    rng2 = gnomon.shared(np.random.default_rng(2))
    outs = [spec.fn(*none_ps, rng=rng1), spec.fn(*size_ps, size=gt.shape(z), rng=rng2)]
    ins = [*none_ps, *size_ps, z]
    return gnomon.function(ins, outs, mode=mode), ins


def _shape_cases(spec: Spec, mode: str) -> list[tuple[list[tuple[int, ...]], list[tuple[int, ...]],
                                                     tuple[int, int]]]:
    """(size=None parameter batch shapes, size=(n, K) parameter batch shapes, (n, K)).

    The first case has the shapes of the goodness-of-fit call, which JAX then compiles once."""
    npar = len(spec.dtypes)
    k = len(spec.settings)
    if npar == 0:
        return [([], [], (N, k))] + ([([], [], (4, 1)), ([], [], (0, 2))] if mode != "jax"
                                     else [])
    cases = [([(2, 1)] + [(3,)] * (npar - 1), [(k,)] * npar, (N, k))]
    if mode != "jax":  # every new shape is a new XLA compilation (seconds for gamma & co.)
        cases += [([(1, 1)] + [(1,)] * (npar - 1), [(1,)] * npar, (4, 1)),
                  ([(0, 1)] + [(4,)] * (npar - 1), [(2,)] * npar, (0, 2))]
    return cases


def _core(spec: Spec, i: int) -> tuple[int, ...]:
    return (3,) * spec.cores[i]


def _expected(spec: Spec, ps: list[np.ndarray], size: tuple[int, ...] | None
              ) -> tuple[tuple[int, ...], str]:
    """NumPy's shape and dtype for these arguments (its batch rule where NumPy has no batched
    form of the distribution)."""
    if spec.numpy is not None:
        out = np.asarray(spec.numpy(np.random.default_rng(0), *ps, size=size))
        dtype = "int64" if spec.name == "bernoulli" else out.dtype.name
        return out.shape, dtype
    batch = size if size is not None else np.broadcast_shapes(
        *[p.shape[: p.ndim - c] for p, c in zip(ps, spec.cores, strict=True)])
    return tuple(batch) + spec.supp(ps), ("int64" if spec.discrete else "float64")


CASES = [(m, s.name, check) for m in MODES for s in SPECS for check in ("shapes", "fit")]


@pytest.mark.parametrize(("mode", "name", "check"), CASES,
                         ids=[f"{m}-{n}-{c}" for m, n, c in CASES])
def test_distribution(mode: str, name: str, check: str) -> None:
    if check == "shapes":
        check_shapes(mode, name)
    else:
        check_fit(mode, name)


def check_shapes(mode: str, name: str) -> None:
    spec = BY_NAME[name]
    f, _ = compiled(name, mode)
    rng = np.random.default_rng(0)
    for none_b, size_b, (n, k) in _shape_cases(spec, mode):
        none_ps = spec.valid(rng, [b + _core(spec, i) for i, b in enumerate(none_b)])
        size_ps = spec.valid(rng, [b + _core(spec, i) for i, b in enumerate(size_b)])
        none_ps = [np.asarray(p, dt) for p, dt in zip(none_ps, spec.dtypes, strict=True)]
        size_ps = [np.asarray(p, dt) for p, dt in zip(size_ps, spec.dtypes, strict=True)]
        a, b = f(*none_ps, *size_ps, np.empty((n, k)))
        for got, ps, size in ((a, none_ps, None), (b, size_ps, (n, k))):
            got = np.asarray(got)
            want = _expected(spec, ps, size)
            assert (got.shape, got.dtype.name) == want, (
                f"{name} on {mode} with parameter shapes {[p.shape for p in ps]}, size={size}: "
                f"got {got.shape} {got.dtype}, NumPy gives {want}")


def check_fit(mode: str, name: str) -> None:
    spec = BY_NAME[name]
    f, _ = compiled(name, mode)
    cols = [np.asarray(p, dt) for p, dt in zip(zip(*spec.settings, strict=True), spec.dtypes,
                                               strict=True)]
    k = len(spec.settings)
    # the size=None output gets tiny valid parameters (its shapes are those of a case above)
    none_b = _shape_cases(spec, mode)[0][0]
    none_ps = [np.asarray(p, dt) for p, dt in zip(
        spec.valid(np.random.default_rng(0), [b + _core(spec, i) for i, b in enumerate(none_b)]),
        spec.dtypes, strict=True)]
    _, draws = f(*none_ps, *cols, np.empty((N, k)))
    draws = np.asarray(draws)
    assert draws.shape[:2] == (N, k)
    for j, setting in enumerate(spec.settings):
        x = draws[:, j]
        where = f"{name}{setting} on {mode}"
        if spec.name == "dirichlet":
            alpha = np.asarray(setting[0])
            np.testing.assert_allclose(x.sum(axis=-1), 1.0, rtol=1e-9, err_msg=where)
            for i, a in enumerate(alpha):  # each component is Beta(a_i, sum - a_i)
                _ks(x[:, i], stats.beta(a, alpha.sum() - a), f"{where} component {i}")
        elif spec.name == "multivariate_normal":
            mean, cov = (np.asarray(s, "float64") for s in setting)
            d = np.array([0.6, -0.8])  # a projection sees the off-diagonal covariance
            for i in range(2):
                _ks(x[:, i], stats.norm(mean[i], np.sqrt(cov[i, i])), f"{where} marginal {i}")
            _ks(x @ d, stats.norm(d @ mean, np.sqrt(d @ cov @ d)), f"{where} projection")
        elif spec.name == "multinomial":
            n, p = setting
            np.testing.assert_array_equal(x.sum(axis=-1), n, err_msg=where)
            for i, pi in enumerate(p):  # each count is Binomial(n, p_i)
                _chi2(x[:, i], stats.binom(n, pi), f"{where} category {i}")
        elif spec.discrete:
            _chi2(x, spec.scipy(*setting), where)  # type: ignore[misc]
        else:
            _ks(x, spec.scipy(*setting), where)  # type: ignore[misc]


def _ks(x: np.ndarray, dist: Any, where: str) -> None:
    p = stats.kstest(x, dist.cdf).pvalue
    assert p > ALPHA, f"{where}: Kolmogorov-Smirnov p-value {p:.3g} < {ALPHA:.3g}"


def _chi2(x: np.ndarray, dist: Any, where: str) -> None:
    """Chi-square test over the support, tails merged so that every bin expects >= 5."""
    lo, hi = int(dist.ppf(1e-9)), int(dist.ppf(1 - 1e-9))
    values = np.arange(lo, hi + 1)
    probs = dist.pmf(values)
    probs[0] += dist.cdf(lo - 1)
    probs[-1] += dist.sf(hi)
    counts = np.array([np.sum(x == v) for v in values], dtype=float)
    assert counts.sum() == len(x), f"{where}: draws outside the support"
    keep = probs > 0
    values, probs, counts = values[keep], probs[keep], counts[keep]
    exp_, obs = [], []
    acc_e = acc_o = 0.0
    for e, o in zip(probs * len(x), counts, strict=True):
        acc_e, acc_o = acc_e + e, acc_o + o
        if acc_e >= 5:
            exp_.append(acc_e)
            obs.append(acc_o)
            acc_e = acc_o = 0.0
    if acc_e and exp_:
        exp_[-1] += acc_e
        obs[-1] += acc_o
    if len(exp_) < 2:
        assert np.all(x == values[np.argmax(probs)]), where
        return
    p = stats.chisquare(obs, exp_).pvalue
    assert p > ALPHA, f"{where}: chi-square p-value {p:.3g} < {ALPHA:.3g}"
