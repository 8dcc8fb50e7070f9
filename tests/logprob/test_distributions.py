"""logp, logcdf and icdf of every distribution against scipy.stats, on every backend.

One compiled function per distribution and backend: the parameters and the points are vectors
(every parameter combination of a small grid times every value point, flattened), and the
function returns the logp, logcdf and icdf that the distribution has. The grids include the
support's boundary, points outside it and far-tail points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.random.distributions as rd
import gnomon.tensor as gt
from gnomon.logprob.abstract import has_icdf, has_logcdf, has_logprob
from gnomon.random.op import RandomVariable
from gnomon.testing import available_modes, check_grads

INF = np.inf


@dataclass
class Spec:
    """One distribution: ``build(*params)`` makes the draw from symbolic vectors, ``scipy``
    the frozen SciPy distribution from arrays (broadcast), a grid of parameter tuples, the
    value points, and whether it is discrete."""

    name: str
    op: type[RandomVariable]
    build: Callable[..., Any]
    scipy: Callable[..., Any]
    grid: Sequence[tuple[float, ...]]
    values: Sequence[float]
    discrete: bool = False
    qs: Sequence[float] = (0.0, 1e-12, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9, 1.0, -0.1, 1.5)
    rtol: float = 1e-7
    # points where SciPy itself is wrong or differs by convention: (param tuple, value) -> skip
    grad_params: tuple[float, ...] | None = None
    grad_values: Sequence[float] = ()


CONT = [-INF, -1e3, -3.0, -0.5, 0.0, 1e-300, 1e-8, 0.3, 1.0, 2.5, 40.0, 1e6, INF]
POS = [-1.0, 0.0, 1e-300, 1e-8, 0.3, 1.0, 2.5, 40.0, 700.0, 1e6, INF]
UNIT = [-0.5, 0.0, 1e-300, 1e-8, 0.25, 0.5, 0.999, 1 - 1e-12, 1.0, 1.5]
COUNTS = [-3, -1, 0, 1, 2, 5, 10, 30, 200]

SPECS = [
    Spec("normal", rd.Normal, lambda m, s: gr.normal(m, s), lambda m, s: st.norm(m, s),
         [(0.0, 1.0), (-2.0, 0.1), (3.0, 50.0)], CONT + [-40.0, 40.0],
         grad_params=(0.5, 1.5), grad_values=(0.3, -2.0)),
    Spec("standard_normal", rd.StandardNormal, lambda: gr.standard_normal(), lambda: st.norm(),
         [()], CONT + [-40.0, -38.5], grad_params=(), grad_values=(0.3, -2.0)),
    Spec("halfnormal", rd.HalfNormal, lambda m, s: gr.halfnormal(m, s),
         lambda m, s: st.halfnorm(m, s), [(0.0, 1.0), (-1.0, 3.0)], CONT + [-1.0 + 1e-10],
         grad_params=(0.0, 2.0), grad_values=(0.3, 2.5)),
    Spec("lognormal", rd.LogNormal, lambda m, s: gr.lognormal(m, s),
         lambda m, s: st.lognorm(s, scale=np.exp(m)), [(0.0, 1.0), (1.5, 0.3)], POS,
         grad_params=(0.5, 0.8), grad_values=(0.3, 2.5)),
    Spec("uniform", rd.Uniform, lambda a, b: gr.uniform(a, b),
         lambda a, b: st.uniform(a, b - a), [(0.0, 1.0), (-3.0, 5.0)], CONT + [5.0, 4.999],
         grad_params=(-1.0, 2.0), grad_values=(0.3, 1.5)),
    Spec("triangular", rd.Triangular, lambda a, c, b: gr.triangular(a, c, b),
         lambda a, c, b: st.triang((c - a) / (b - a), loc=a, scale=b - a),
         [(0.0, 0.5, 1.0), (-1.0, -1.0, 2.0), (0.0, 3.0, 3.0)], CONT + [0.5, 3.0, 2.0],
         grad_params=(-1.0, 0.5, 2.0), grad_values=(0.3, 1.2)),
    Spec("beta", rd.Beta, lambda a, b: gr.beta(a, b), lambda a, b: st.beta(a, b),
         [(0.5, 0.5), (1.0, 1.0), (2.0, 5.0), (30.0, 0.7)], UNIT,
         grad_params=(2.0, 3.0), grad_values=(0.3, 0.8)),
    Spec("gamma", rd.Gamma, lambda k, s: gr.gamma(k, s), lambda k, s: st.gamma(k, scale=s),
         [(0.5, 1.0), (1.0, 2.0), (3.0, 0.5), (100.0, 1.0)], POS,
         grad_params=(2.0, 1.5), grad_values=(0.3, 2.5)),
    Spec("invgamma", rd.InvGamma, lambda k, s: gr.invgamma(k, s),
         lambda k, s: st.invgamma(k, scale=s), [(0.5, 1.0), (3.0, 2.0)], POS,
         grad_params=(2.0, 1.5), grad_values=(0.3, 2.5)),
    Spec("chisquare", rd.ChiSquare, lambda k: gr.chisquare(k), lambda k: st.chi2(k),
         [(1.0,), (2.0,), (7.5,)], POS, grad_params=(3.0,), grad_values=(0.3, 2.5)),
    Spec("exponential", rd.Exponential, lambda s: gr.exponential(s),
         lambda s: st.expon(scale=s), [(1.0,), (0.01,), (30.0,)], POS,
         grad_params=(2.0,), grad_values=(0.3, 2.5)),
    Spec("weibull", rd.Weibull, lambda a: gr.weibull(a), lambda a: st.weibull_min(a),
         [(0.5,), (1.0,), (3.0,)], POS, grad_params=(1.5,), grad_values=(0.3, 2.5)),
    Spec("laplace", rd.Laplace, lambda m, s: gr.laplace(m, s), lambda m, s: st.laplace(m, s),
         [(0.0, 1.0), (2.0, 0.5)], CONT, grad_params=(0.5, 1.5), grad_values=(0.3, -2.0)),
    Spec("logistic", rd.Logistic, lambda m, s: gr.logistic(m, s),
         lambda m, s: st.logistic(m, s), [(0.0, 1.0), (2.0, 0.5)], CONT,
         grad_params=(0.5, 1.5), grad_values=(0.3, -2.0)),
    Spec("gumbel", rd.Gumbel, lambda m, s: gr.gumbel(m, s), lambda m, s: st.gumbel_r(m, s),
         [(0.0, 1.0), (2.0, 0.5)], [-5.0, -1.0, 0.0, 1e-8, 0.3, 2.5, 40.0, 700.0, INF, -INF],
         grad_params=(0.5, 1.5), grad_values=(0.3, -2.0)),
    Spec("cauchy", rd.Cauchy, lambda m, s: gr.cauchy(m, s), lambda m, s: st.cauchy(m, s),
         [(0.0, 1.0), (2.0, 0.5)], CONT + [-1e12, 1e12],
         grad_params=(0.5, 1.5), grad_values=(0.3, -2.0)),
    # SciPy's ppf near q = 1 is tan(pi q / 2), 1e-7 off at q = 1 - 1e-9 (gnomon uses
    # 1 / tan(pi (1 - q) / 2), exact there)
    Spec("halfcauchy", rd.HalfCauchy, lambda m, s: gr.halfcauchy(m, s),
         lambda m, s: st.halfcauchy(m, s), [(0.0, 1.0), (-1.0, 3.0)], CONT + [1e12], rtol=2e-7,
         grad_params=(0.0, 1.5), grad_values=(0.3, 2.5)),
    Spec("t", rd.StudentT, lambda n, m, s: gr.t(n, m, s), lambda n, m, s: st.t(n, m, s),
         [(1.0, 0.0, 1.0), (4.5, 1.0, 2.0), (300.0, 0.0, 1.0)], CONT,
         grad_params=(3.0, 0.5, 1.5), grad_values=(0.3, -2.0)),
    Spec("pareto", rd.Pareto, lambda a, m: gr.pareto(a, m), lambda a, m: st.pareto(a, scale=m),
         [(1.0, 1.0), (3.0, 2.0)], POS + [2.0, 1.0 + 1e-12],
         grad_params=(2.0, 1.0), grad_values=(1.3, 2.5)),
    Spec("wald", rd.Wald, lambda m, s: gr.wald(m, s),
         lambda m, s: st.invgauss(m / s, scale=s), [(1.0, 1.0), (3.0, 0.5), (0.5, 20.0)], POS,
         grad_params=(1.0, 2.0), grad_values=(0.3, 2.5)),
    Spec("vonmises", rd.VonMises, lambda m, k: gr.vonmises(m, k),
         lambda m, k: st.vonmises(k, loc=m), [(0.0, 1.0), (1.0, 0.01), (-2.0, 500.0)],
         [-np.pi, -1.0, 0.0, 0.3, 2.0, np.pi],
         grad_params=(0.5, 2.0), grad_values=(0.3, -2.0)),
    Spec("gengamma", rd.GenGamma, lambda a, p, lam: gr.gengamma(a, p, lam),
         lambda a, p, lam: st.gengamma(a / p, p, scale=lam),
         [(1.0, 1.0, 1.0), (2.0, 0.5, 3.0), (5.0, 3.0, 0.5)], POS,
         grad_params=(2.0, 1.5, 1.2), grad_values=(0.3, 2.5)),
    # discrete
    Spec("bernoulli", rd.Bernoulli, lambda p: gr.bernoulli(p), lambda p: st.bernoulli(p),
         [(0.0,), (0.3,), (1.0,)], [-1, 0, 1, 2], discrete=True),
    Spec("binomial", rd.Binomial, lambda n, p: gr.binomial(n, p), lambda n, p: st.binom(n, p),
         [(0, 0.5), (10, 0.0), (10, 0.3), (10, 1.0), (500, 0.01)], COUNTS, discrete=True),
    Spec("negative_binomial", rd.NegativeBinomial, lambda n, p: gr.negative_binomial(n, p),
         lambda n, p: st.nbinom(n, p), [(1.0, 0.5), (5.5, 0.1), (3.0, 1.0)], COUNTS,
         discrete=True),
    # p = 1 is tested apart: SciPy's ppf gives 0 there, below the support
    Spec("geometric", rd.Geometric, lambda p: gr.geometric(p), lambda p: st.geom(p),
         [(0.3,), (0.77,), (1e-4,)], COUNTS, discrete=True),
    Spec("poisson", rd.Poisson, lambda lam: gr.poisson(lam), lambda lam: st.poisson(lam),
         [(0.0,), (0.5,), (30.0,)], COUNTS, discrete=True),
    Spec("integers", rd.Integers, lambda a, b: gr.integers(a, b),
         lambda a, b: st.randint(a, b), [(0, 1), (-3, 5)], COUNTS, discrete=True),
    Spec("betabinomial", rd.BetaBinomial, lambda n, a, b: gr.betabinomial(n, a, b),
         lambda n, a, b: st.betabinom(n, a, b), [(10, 0.5, 2.0), (0, 1.0, 1.0)], COUNTS,
         discrete=True),
    Spec("hypergeometric", rd.Hypergeometric, lambda g, b, n: gr.hypergeometric(g, b, n),
         lambda g, b, n: st.hypergeom(g + b, g, n), [(5, 10, 7), (20, 3, 10), (4, 4, 0)],
         COUNTS, discrete=True),
]


def _int_params(spec: Spec) -> list[bool]:
    return [isinstance(x, int) for x in spec.grid[0]]


def _points(spec: Spec) -> tuple[list[float], list[float]]:
    """The value points and the probabilities, cycled to one common length, so that logp,
    logcdf and icdf share their parameters (and their parameter checks)."""
    n = max(len(spec.values), len(spec.qs))
    vals = [spec.values[i % len(spec.values)] for i in range(n)]
    qs = [spec.qs[i % len(spec.qs)] for i in range(n)]
    return vals, qs


def _arrays(spec: Spec) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, values and probabilities as flat arrays of one length: every parameter
    tuple of the grid times every point."""
    vals, qpoints = _points(spec)
    rows = [(g, v, q) for g in spec.grid for v, q in zip(vals, qpoints, strict=True)]
    ints = _int_params(spec)
    params = [np.array([r[0][i] for r in rows], dtype="int64" if ints[i] else "float64")
              for i in range(len(spec.grid[0]))]
    values = np.array([r[1] for r in rows], dtype="int64" if spec.discrete else "float64")
    qs = np.array([r[2] for r in rows])
    return params, values, qs


def _graph(spec: Spec, n: int) -> tuple[list[Any], list[Any], list[str]]:
    # static lengths: the rewrites then know that the vectors line up (no shape checks and
    # broadcasts in the compiled program, so fewer kernels to compile)
    ints = _int_params(spec)
    length = len(spec.grid) * len(_points(spec)[0])

    def vec(name: str, integer: bool) -> Any:
        return gt.tensor(dtype="int64" if integer else "float64", shape=(length,), name=name)

    ps = [vec(f"p{i}", ints[i]) for i in range(n)]
    v = vec("v", spec.discrete)
    q = vec("q", False)
    outs, kinds = [], []
    rv = spec.build(*ps) if n else gr.standard_normal(size=length)
    for kind, has, fn, var in (("logp", has_logprob, glp.logp, v),
                               ("logcdf", has_logcdf, glp.logcdf, v),
                               ("icdf", has_icdf, glp.icdf, q)):
        if has(spec.op):
            outs.append(fn(rv, var))
            kinds.append(kind)
    return [*ps, v, q], outs, kinds


def _reference(spec: Spec, arrays: list[np.ndarray], values: np.ndarray, qs: np.ndarray,
               kind: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        d = spec.scipy(*arrays)
        if kind == "icdf":
            out = np.asarray(d.ppf(qs), dtype="float64")
            return np.where((qs < 0) | (qs > 1), np.nan, out)
        if kind == "logp":
            if spec.discrete:
                return d.logpmf(values)
            # SciPy gives nan for some densities at +-inf (gamma, weibull): they vanish there
            out = d.logpdf(values)
            return np.where(np.isnan(out) & np.isinf(values), -INF, out)
        return d.logcdf(values)


def _check(spec: Spec, got: np.ndarray, want: np.ndarray, kind: str, where: str) -> None:
    got = np.asarray(got, dtype="float64")
    if kind != "icdf":
        # SciPy takes the log of a density or cdf that underflowed to 0 (laplace at -1000,
        # triangular's cdf at 1e-300): there gnomon's finite value is the accurate one
        want = np.where(np.isneginf(want) & (got < -700.0), got, want)
    assert got.shape == want.shape, f"{spec.name} {kind} [{where}]: shape {got.shape}"
    # jax.scipy.special's betaln / gammainc / betainc are accurate to about 1e-7 (relative):
    # the JAX lowerings of gnomon's special functions call them
    rtol, atol = (max(spec.rtol, 2e-6), 1e-6) if where == "jax" else (spec.rtol, 1e-10)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                               err_msg=f"{spec.name} {kind} [{where}] vs scipy.stats")


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_against_scipy_on_every_backend(spec: Spec) -> None:
    """One compiled program per distribution and backend (Numba's and JAX's compile time
    dominates; a program holding every distribution compiles slower than the parts)."""
    arrays, values, qs = _arrays(spec)
    inputs, outs, kinds = _graph(spec, len(spec.grid[0]))
    assert "logp" in kinds
    want = [_reference(spec, arrays, values, qs, k) for k in kinds]
    for mode in available_modes():
        f = gnomon.function(inputs, outs, mode=mode, on_unused_input="ignore")
        for g, w, k in zip(f(*arrays, values, qs), want, kinds, strict=True):
            _check(spec, g, w, k, mode)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad_params is not None],
                         ids=[s.name for s in SPECS if s.grad_params is not None])
def test_logp_gradients(spec: Spec) -> None:
    assert spec.grad_params is not None
    n = len(spec.grad_params)
    vals = np.array(spec.grad_values)
    params = [np.full(len(vals), p) for p in spec.grad_params]

    def fn(*xs: Any) -> Any:
        *ps, v = xs
        rv = spec.build(*ps) if n else gr.standard_normal(size=len(vals))
        return glp.logp(rv, v)

    check_grads(fn, [*params, vals], order=1, modes=("pullback",))


def test_every_distribution_has_a_logp_and_a_spec() -> None:
    """New distributions must come with a density (and a row here)."""
    import inspect

    classes = {c for _, c in inspect.getmembers(rd, inspect.isclass)
               if issubclass(c, RandomVariable) and c is not RandomVariable
               and not c.__name__.startswith("_")}
    no_logp = sorted(c.__name__ for c in classes if not has_logprob(c))
    assert no_logp == [], no_logp
    tested = {s.op for s in SPECS} | {rd.Categorical, rd.Dirichlet, rd.Multinomial,
                                      rd.MultivariateNormal, rd.Choice, rd.Permutation}
    assert sorted(c.__name__ for c in classes - tested) == []


def test_geometric_with_p_one() -> None:
    x = gr.geometric(1.0, size=4)
    got = [glp.logp(x, np.array([0, 1, 2, 3])), glp.logcdf(x, np.array([0, 1, 2, 3])),
           glp.icdf(x, np.array([0.0, 0.3, 0.9, 1.0]))]
    a, b, c = gnomon.function([], got, mode="numpy")()
    assert a.tolist() == [-INF, 0.0, -INF, -INF]
    assert b.tolist() == [-INF, 0.0, 0.0, 0.0]
    assert c.tolist() == [0.0, 1.0, 1.0, INF]  # q = 1: the top of the support, as SciPy
