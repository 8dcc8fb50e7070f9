"""Measurable elementwise expressions: transforms (Jacobians), folds, censoring, discretization,
comparisons. Oracles: scipy.stats and analytic densities; every 1-d density integrates to 1."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
from scipy.special import logit

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.testing import check_grads

V = np.array([0.05, 0.3, 0.9, 1.7, 3.2])


def _fn(expr: Callable[[object], object], ndim: int = 1, mode: str = "numpy"
        ) -> Callable[[np.ndarray], np.ndarray]:
    v = gt.dvector("v") if ndim == 1 else gt.dscalar("v")
    return gnomon.function([v], expr(v), mode=mode)


def _integral(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
              points: list[float] | None = None) -> float:
    def g(t: float) -> float:
        return float(np.exp(f(np.array([t]))[0]))

    # split at singular points (quad's points= needs finite bounds)
    edges = [lo, *(points or []), hi]
    return sum(float(si.quad(g, a, b, limit=200)[0]) for a, b in itertools.pairwise(edges))


# --- transforms against analytic densities -----------------------------------------------------


def test_exp_of_normal_is_lognormal_logp_logcdf_icdf() -> None:
    x = gr.normal(0.3, 0.5, size=5)
    y = gt.exp(x)
    f = _fn(lambda v: [glp.logp(y, v), glp.logcdf(y, v), glp.icdf(y, v / 4.0)])
    lp, lc, iq = f(V)
    ref = st.lognorm(0.5, scale=np.exp(0.3))
    np.testing.assert_allclose(lp, ref.logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(lc, ref.logcdf(V), rtol=1e-10)
    np.testing.assert_allclose(iq, ref.ppf(V / 4.0), rtol=1e-10)
    # outside the image of exp: density -inf, cdf 0
    lp0, lc0, _ = f(np.array([-1.0, 0.0, -1.0, 0.0, 1.0]))
    assert np.all(lp0[:4] == -np.inf) and np.all(lc0[:4] == -np.inf)


@pytest.mark.parametrize("scale", [2.5, -0.7])
def test_affine_with_variable_loc_and_scale(scale: float) -> None:
    loc, s = gt.dscalar("loc"), gt.dscalar("s")
    x = gr.logistic(0.5, 1.5, size=5)  # not normal: the change of variables, not a normal rule
    exprs = {"loc + s*x": loc + s * x, "x*s - loc": x * s - loc, "loc - x/s": loc - x / s}
    v = gt.dvector("v")
    outs = [glp.logp(e, v) for e in exprs.values()] + [glp.logcdf(exprs["loc + s*x"], v),
                                                       glp.icdf(exprs["loc + s*x"], v / 4.0)]
    f = gnomon.function([v, loc, s], outs, mode="numpy")
    got = f(V, 1.2, scale)
    a, b = 1.2 + scale * 0.5, abs(scale) * 1.5
    np.testing.assert_allclose(got[0], st.logistic(a, b).logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(got[1], st.logistic(scale * 0.5 - 1.2, b).logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(got[2], st.logistic(1.2 - 0.5 / scale, 1.5 / abs(scale))
                               .logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(got[3], st.logistic(a, b).logcdf(V), rtol=1e-10)
    np.testing.assert_allclose(got[4], st.logistic(a, b).ppf(V / 4.0), rtol=1e-10)


def test_abs_of_normal_is_halfnormal_and_folded_normal() -> None:
    x0 = gr.normal(0.0, 2.0, size=5)
    x1 = gr.normal(1.0, 1.0, size=5)
    f = _fn(lambda v: [glp.logp(gt.abs(x0), v), glp.logp(gt.abs(x1), v),
                       glp.logcdf(gt.abs(x1), v)])
    a, b, c = f(V)
    np.testing.assert_allclose(a, st.halfnorm(scale=2.0).logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(b, st.foldnorm(1.0).logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(c, st.foldnorm(1.0).logcdf(V), rtol=1e-9)
    assert np.all(f(-V)[0] == -np.inf)


def test_square_sqrt_power_reciprocal_sigmoid() -> None:
    z = gr.normal(0.0, 1.0, size=5)
    e = gr.exponential(2.0, size=5)
    u = gr.uniform(1.0, 2.0, size=5)
    n = gr.normal(0.2, 0.7, size=5)
    f = _fn(lambda v: [glp.logp(z ** 2, v), glp.logp(gt.square(z), v), glp.logp(gt.sqrt(e), v),
                       glp.logp(gt.reciprocal(u), v), glp.logp(gt.sigmoid(n), v / 4.0),
                       glp.logp(e ** 0.5, v)])
    sq, sq2, sqrt_e, rec, sig, pw = f(V)
    np.testing.assert_allclose(sq, st.chi2(1).logpdf(V), rtol=1e-12)
    np.testing.assert_allclose(sq2, st.chi2(1).logpdf(V), rtol=1e-12)
    lc4 = glp.logcdf(z ** 4, V).eval(mode="numpy")  # a fold: F(y^(1/4)) - F(-y^(1/4))
    np.testing.assert_allclose(lc4, np.log(2 * st.norm.cdf(V ** 0.25) - 1), rtol=1e-10)
    # sqrt of an exponential (scale 2) is a Weibull with shape 2 and scale sqrt(2)
    np.testing.assert_allclose(sqrt_e, st.weibull_min(2.0, scale=np.sqrt(2.0)).logpdf(V),
                               rtol=1e-12)
    np.testing.assert_allclose(pw, sqrt_e, rtol=1e-12)
    inside = (V >= 0.5) & (V <= 1.0)
    np.testing.assert_allclose(rec[inside], -2 * np.log(V[inside]))
    assert np.all(rec[~inside] == -np.inf)
    w = V / 4.0
    ref = st.norm(0.2, 0.7).logpdf(logit(w)) - np.log(w) - np.log1p(-w)  # logit-normal
    np.testing.assert_allclose(sig, ref, rtol=1e-12)


def test_discrete_shift_and_abs() -> None:
    k = gr.poisson(3.0, size=4)
    d = gr.integers(-2, 3, size=4)
    g = gr.geometric(0.3, size=4)
    vals = np.array([0, 2, 3, 6])
    q = np.array([0.1, 0.5, 0.9, 1.5])
    got = gnomon.function([], [glp.logp(k + 2, vals), glp.logp(gt.abs(d), vals),
                               glp.logcdf(g + 2, vals), glp.icdf(g + 2, q)], mode="numpy")()
    np.testing.assert_allclose(got[0], st.poisson(3.0).logpmf(vals - 2))
    np.testing.assert_allclose(np.exp(got[1]), [0.2, 0.4, 0.0, 0.0])
    np.testing.assert_allclose(got[2], st.geom(0.3).logcdf(vals - 2))
    np.testing.assert_allclose(got[3], st.geom(0.3).ppf(q) + 2)  # nan outside [0, 1]


@pytest.mark.parametrize("name, make, lo, hi, points", [
    ("exp", lambda: gt.exp(gr.normal(0.0, 0.5)), 0.0, np.inf, None),
    ("tanh", lambda: gt.tanh(gr.normal(0.3, 1.2)), -1.0, 1.0, None),
    ("arctanh", lambda: gt.arctanh(gr.uniform(-0.9, 0.9)), -np.inf, np.inf, None),
    ("logit", lambda: gt.logit(gr.beta(2.0, 3.0)), -np.inf, np.inf, None),
    ("log", lambda: gt.log(gr.gamma(2.0, 1.5)), -np.inf, np.inf, None),
    ("cube", lambda: gr.normal(0.5, 1.0) ** 3, -np.inf, np.inf, [0.0]),
    ("2**x", lambda: 2.0 ** gr.normal(0.0, 1.0), 0.0, np.inf, None),
    ("1/x", lambda: 1.0 / gr.uniform(0.5, 2.0), 0.5, 2.0, None),
    ("sinh", lambda: gt.sinh(gr.normal(0.0, 1.0)), -np.inf, np.inf, None),
    ("expm1", lambda: gt.expm1(gr.normal(0.0, 1.0)), -1.0, np.inf, None),
    ("abs", lambda: gt.abs(gr.normal(1.0, 1.0)), 0.0, np.inf, None),
    ("square", lambda: gr.normal(0.5, 1.0) ** 2, 0.0, np.inf, None),
    ("sigmoid", lambda: gt.sigmoid(gr.normal(0.5, 2.0)), 0.0, 1.0, None),
    ("affine", lambda: 1.0 - 0.3 * gr.laplace(0.0, 1.0), -np.inf, np.inf, [1.0]),
    ("sqrt(2x+1)", lambda: gt.sqrt(2.0 * gr.exponential(1.0) + 1.0), 1.0, np.inf, None),
])
def test_transformed_densities_integrate_to_one(name: str, make: Callable[[], object],
                                                lo: float, hi: float,
                                                points: list[float] | None) -> None:
    y = make()
    f = _fn(lambda v: glp.logp(y, v), ndim=0)
    total = _integral(lambda t: np.atleast_1d(f(t[0])), lo, hi, points)
    assert total == pytest.approx(1.0, abs=2e-6), name


def test_transform_gradients() -> None:
    # d/dvalue and d/dparameter of a derived density (log-normal through exp, affine)
    def fn(v, s):  # type: ignore[no-untyped-def]
        return glp.logp(gt.exp(gr.normal(0.0, s, size=3)), v)

    check_grads(fn, [np.array([0.4, 1.0, 2.5]), np.array(0.8)])

    def fn2(v, loc, s):  # type: ignore[no-untyped-def]
        return glp.logp(loc + s * gr.gumbel(0.0, 1.0, size=3), v)

    check_grads(fn2, [np.array([0.4, 1.0, 2.5]), np.array(0.3), np.array(-1.5)])


# --- censoring, discretization, comparisons ---------------------------------------------------


def test_censored_normal_masses_and_density() -> None:
    x = gr.normal(0.5, 1.5, size=5)
    vals = np.array([-1.0, -0.3, 0.0, 1.2, 2.0])
    outs = [glp.logp(gt.clip(x, -1.0, 2.0), vals), glp.logp(gt.maximum(x, -1.0), vals),
            glp.logp(gt.minimum(2.0, x), vals), glp.logcdf(gt.clip(x, -1.0, 2.0), vals),
            glp.icdf(gt.clip(x, -1.0, 2.0), np.array([0.01, 0.2, 0.5, 0.8, 0.99]))]
    c, mx, mn, lc, iq = gnomon.function([], outs, mode="numpy")()
    ref = st.norm(0.5, 1.5)
    inner = ref.logpdf(vals)
    np.testing.assert_allclose(c, [ref.logcdf(-1.0), *inner[1:4], ref.logsf(2.0)], rtol=1e-12)
    np.testing.assert_allclose(mx, [ref.logcdf(-1.0), *inner[1:]], rtol=1e-12)
    np.testing.assert_allclose(mn, [*inner[:4], ref.logsf(2.0)], rtol=1e-12)
    np.testing.assert_allclose(lc, [*ref.logcdf(vals[:4]), 0.0], rtol=1e-12)
    np.testing.assert_allclose(iq, np.clip(ref.ppf([0.01, 0.2, 0.5, 0.8, 0.99]), -1, 2))
    # outside [lo, hi]: no density
    out = glp.logp(gt.clip(x, -1.0, 2.0), np.array([-2.0, 3.0, 0.0, 0.0, 0.0]))
    assert np.all(out.eval(mode="numpy")[:2] == -np.inf)


def test_censored_gradients() -> None:
    def fn(v, loc):  # type: ignore[no-untyped-def]
        return glp.logp(gt.clip(gr.normal(loc, 1.5, size=3), -1.0, 2.0), v)

    check_grads(fn, [np.array([-1.0, 0.4, 2.0]), np.array(0.3)], wrt=[1])


def test_censored_density_and_masses_sum_to_one() -> None:
    x = gr.gamma(2.0, 1.0)
    y = gt.clip(x, 0.5, 3.0)
    f = _fn(lambda v: glp.logp(y, v), ndim=0)
    inside = _integral(lambda t: np.atleast_1d(f(t[0])), 0.5, 3.0)
    masses = np.exp(f(0.5)) + np.exp(f(3.0))
    assert inside + masses == pytest.approx(1.0, abs=1e-8)


def test_rounded_floored_ceiled_masses() -> None:
    x = gr.normal(0.3, 1.2, size=5)
    ks = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    outs = [glp.logp(gt.round(x), ks), glp.logp(gt.floor(x), ks), glp.logp(gt.ceil(x), ks),
            glp.logcdf(gt.floor(x), ks + 0.5)]
    r, fl, ce, lc = gnomon.function([], outs, mode="numpy")()
    F = st.norm(0.3, 1.2).cdf
    np.testing.assert_allclose(np.exp(r), F(ks + 0.5) - F(ks - 0.5), rtol=1e-10)
    np.testing.assert_allclose(np.exp(fl), F(ks + 1) - F(ks), rtol=1e-10)
    np.testing.assert_allclose(np.exp(ce), F(ks) - F(ks - 1), rtol=1e-10)
    np.testing.assert_allclose(np.exp(lc), F(ks + 1), rtol=1e-10)
    half = glp.logp(gt.round(x), ks + 0.5).eval(mode="numpy")
    assert np.all(half == -np.inf)
    # the masses over every integer sum to 1
    y = gt.round(gr.exponential(3.0, size=80))
    total = np.exp(glp.logp(y, np.arange(80.0)).eval(mode="numpy")).sum()
    assert total == pytest.approx(1.0, abs=1e-10)


def test_comparisons_are_bernoulli() -> None:
    x = gr.normal(0.0, 1.0, size=2)
    c = gt.dscalar("c")
    one_zero = np.array([1, 0])
    outs = [glp.logp(gt.gt(x, c), one_zero), glp.logp(gt.le(x, c), one_zero),
            glp.logp(gt.lt(c, x), one_zero)]
    gt_, le_, lt_ = gnomon.function([c], outs, mode="numpy")(0.4)
    p = st.norm.sf(0.4)
    np.testing.assert_allclose(np.exp(gt_), [p, 1 - p])
    np.testing.assert_allclose(np.exp(le_), [1 - p, p])
    np.testing.assert_allclose(np.exp(lt_), [p, 1 - p])
    assert np.exp(gt_).sum() == pytest.approx(1.0)


def test_comparisons_of_a_discrete_variable() -> None:
    k = gr.poisson(3.0, size=2)
    one_zero = np.array([1, 0])
    exprs = [k > 2, k >= 2, k < 2.5, gt.le(2, k), gt.eq(k, 2), gt.neq(k, 2), gt.eq(k, 2.5)]
    got = gnomon.function([], [glp.logp(e, one_zero) for e in exprs], mode="numpy")()
    F, pmf = st.poisson(3.0).cdf, st.poisson(3.0).pmf
    p_true = [1 - F(2), 1 - F(1), F(2), 1 - F(1), pmf(2), 1 - pmf(2), 0.0]
    for lp, p in zip(got, p_true, strict=True):
        np.testing.assert_allclose(np.exp(lp), [p, 1 - p], rtol=1e-12, atol=1e-15)


def test_broadcast_random_variable_is_not_measurable() -> None:
    x = gr.normal(0.0, 1.0)
    y = x + gt.constant(np.zeros(3))  # three copies of one draw: no density in R^3
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)Elemwise\(add\).*"
                                                      r"test_measurable.py.*Supported:.*Hint:"):
        glp.logp(y, np.zeros(3))


def test_not_measurable_names_the_blocking_op_and_its_line() -> None:
    z = gr.normal(0.0, 1.0, size=3)
    w = gt.exp(gt.cosh(z) + 1.0)
    w.name = "w"
    with pytest.raises(glp.NotMeasurableError,
                       match=r"(?s)'w'.*exp.*stops at Elemwise\(cosh\).*"
                             r"w = gt.exp\(gt.cosh\(z\) \+ 1.0\).*censoring.*mixtures.*Hint:"):
        glp.logp(w, np.ones(3))


def test_logcdf_of_a_non_monotone_transform_is_an_informative_error() -> None:
    y = 1.0 / gr.normal(0.0, 1.0)
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)no logcdf.*Hint:"):
        glp.logcdf(y, 0.5)


def test_numba_matches_numpy_on_a_few_derived_densities() -> None:
    x = gr.normal(0.3, 0.8, size=5)
    v = gt.dvector("v")
    mix = gt.where(gr.bernoulli(0.3, size=5), x, gr.normal(2.0, 0.5, size=5))
    outs = [glp.logp(gt.exp(x), v), glp.logp(gt.abs(x), v), glp.logp(gt.clip(x, 0.1, 2.0), v),
            glp.logp(mix, v)]
    ref = gnomon.function([v], outs, mode="numpy")(V)
    got = gnomon.function([v], outs, mode="numba")(V)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert np.isfinite(ref[0]).all()
    np.testing.assert_allclose(ref[1], np.logaddexp(st.norm(0.3, 0.8).logpdf(V),
                                                    st.norm(0.3, 0.8).logpdf(-V)))
    np.testing.assert_allclose(ref[3], np.log(0.3 * st.norm(0.3, 0.8).pdf(V)
                                              + 0.7 * st.norm(2.0, 0.5).pdf(V)), rtol=1e-12)


def test_censored_poisson_masses() -> None:
    k = gr.poisson(4.0, size=8)
    vals = np.arange(8)
    lp, lc = gnomon.function([], [glp.logp(gt.clip(k, 2, 6), vals),
                                  glp.logcdf(gt.clip(k, 2, 6), vals)], mode="numpy")()
    ref = st.poisson(4.0)
    expected = np.r_[0.0, 0.0, ref.cdf(2), ref.pmf([3, 4, 5]), ref.sf(5), 0.0]
    np.testing.assert_allclose(np.exp(lp), expected, rtol=1e-12, atol=1e-300)
    assert np.exp(lp).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(lc), np.where(vals >= 6, 1.0, np.where(
        vals < 2, 0.0, ref.cdf(vals))), rtol=1e-12)


def test_censoring_with_variable_bounds_and_transform_of_a_vector_variable() -> None:
    lo, hi = gt.dscalar("lo"), gt.dscalar("hi")
    x = gr.normal(0.5, 1.5, size=3)
    mv = gr.multivariate_normal(np.zeros(2), np.array([[1.0, 0.3], [0.3, 2.0]]))
    v, w = gt.dvector("v"), gt.dvector("w")
    f = gnomon.function([v, w, lo, hi], [glp.logp(gt.clip(x, lo, hi), v),
                                         glp.logp(gt.exp(mv), w)], mode="numpy")
    cens, lmv = f(np.array([-0.5, 0.0, 1.0]), np.array([0.5, 2.0]), -0.5, 1.0)
    ref = st.norm(0.5, 1.5)
    np.testing.assert_allclose(cens, [ref.logcdf(-0.5), ref.logpdf(0.0), ref.logsf(1.0)])
    # exp of a multivariate normal: the Jacobian is summed over the support dimension
    lw = np.log([0.5, 2.0])
    expected = st.multivariate_normal(np.zeros(2), [[1.0, 0.3], [0.3, 2.0]]).logpdf(lw)
    assert float(lmv) == pytest.approx(expected - lw.sum(), rel=1e-12)
