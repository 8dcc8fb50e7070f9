"""Distributions with PyMC's signatures: log-densities against scipy.stats (observed and free,
with transforms), and draws against the distributions (Kolmogorov-Smirnov, chi-square)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon.ppl as pm

# (class, kwargs, value, scipy log-density at value)
CASES = [
    (pm.Normal, dict(mu=1.0, sigma=2.0), 0.3, st.norm(1, 2).logpdf(0.3)),
    (pm.Normal, dict(mu=1.0, tau=4.0), 0.3, st.norm(1, 0.5).logpdf(0.3)),
    (pm.HalfNormal, dict(sigma=2.0), 1.3, st.halfnorm(scale=2).logpdf(1.3)),
    (pm.HalfNormal, dict(tau=0.25), 1.3, st.halfnorm(scale=2).logpdf(1.3)),
    (pm.LogNormal, dict(mu=0.5, sigma=0.7), 1.2, st.lognorm(0.7, scale=np.exp(0.5)).logpdf(1.2)),
    (pm.Uniform, dict(lower=-1.0, upper=3.0), 0.5, st.uniform(-1, 4).logpdf(0.5)),
    (pm.Beta, dict(alpha=2.0, beta=3.0), 0.3, st.beta(2, 3).logpdf(0.3)),
    (pm.Beta, dict(mu=0.4, sigma=0.2), 0.3, st.beta(2, 3).logpdf(0.3)),
    (pm.Beta, dict(mu=0.4, nu=5.0), 0.3, st.beta(2, 3).logpdf(0.3)),
    (pm.Gamma, dict(alpha=2.0, beta=3.0), 0.8, st.gamma(2, scale=1 / 3).logpdf(0.8)),
    (pm.Gamma, dict(mu=2.0, sigma=1.0), 0.8, st.gamma(4, scale=0.5).logpdf(0.8)),
    (pm.InverseGamma, dict(alpha=3.0, beta=2.0), 0.8, st.invgamma(3, scale=2).logpdf(0.8)),
    (pm.InverseGamma, dict(mu=1.0, sigma=0.5), 0.8, st.invgamma(6, scale=5).logpdf(0.8)),
    (pm.Exponential, dict(lam=2.0), 0.8, st.expon(scale=0.5).logpdf(0.8)),
    (pm.Exponential, dict(scale=2.0), 0.8, st.expon(scale=2).logpdf(0.8)),
    (pm.StudentT, dict(nu=4.0, mu=1.0, sigma=2.0), 0.3, st.t(4, 1, 2).logpdf(0.3)),
    (pm.StudentT, dict(nu=4.0, mu=1.0, lam=0.25), 0.3, st.t(4, 1, 2).logpdf(0.3)),
    (pm.HalfStudentT, dict(nu=3.0, sigma=2.0), 1.3, st.t(3, 0, 2).logpdf(1.3) + np.log(2)),
    (pm.Cauchy, dict(alpha=1.0, beta=2.0), 0.3, st.cauchy(1, 2).logpdf(0.3)),
    (pm.HalfCauchy, dict(beta=2.0), 1.3, st.halfcauchy(scale=2).logpdf(1.3)),
    (pm.Laplace, dict(mu=1.0, b=2.0), 0.3, st.laplace(1, 2).logpdf(0.3)),
    (pm.Logistic, dict(mu=1.0, s=2.0), 0.3, st.logistic(1, 2).logpdf(0.3)),
    (pm.Gumbel, dict(mu=1.0, beta=2.0), 0.3, st.gumbel_r(1, 2).logpdf(0.3)),
    (pm.Weibull, dict(alpha=1.5, beta=2.0), 1.3, st.weibull_min(1.5, scale=2).logpdf(1.3)),
    (pm.Pareto, dict(alpha=3.0, m=2.0), 2.5, st.pareto(3, scale=2).logpdf(2.5)),
    (pm.Wald, dict(mu=1.5, lam=2.0), 1.1, st.invgauss(0.75, scale=2).logpdf(1.1)),
    (pm.VonMises, dict(mu=0.5, kappa=2.0), 1.0, st.vonmises(2, loc=0.5).logpdf(1.0)),
    (pm.Triangular, dict(lower=0.0, c=1.0, upper=3.0), 2.0, st.triang(1 / 3, 0, 3).logpdf(2.0)),
    (pm.ChiSquared, dict(nu=3.0), 1.3, st.chi2(3).logpdf(1.3)),
    (pm.Flat, {}, 12.3, 0.0),
    (pm.HalfFlat, {}, 12.3, 0.0),
    (pm.Bernoulli, dict(p=0.3), 1, np.log(0.3)),
    (pm.Bernoulli, dict(logit_p=0.5), 0, st.bernoulli(1 / (1 + np.exp(-0.5))).logpmf(0)),
    (pm.Binomial, dict(n=10, p=0.3), 4, st.binom(10, 0.3).logpmf(4)),
    (pm.Binomial, dict(n=10, logit_p=-0.5), 4, st.binom(10, 1 / (1 + np.exp(0.5))).logpmf(4)),
    (pm.BetaBinomial, dict(alpha=2.0, beta=3.0, n=10), 4, st.betabinom(10, 2, 3).logpmf(4)),
    (pm.Poisson, dict(mu=3.0), 4, st.poisson(3).logpmf(4)),
    (pm.NegativeBinomial, dict(mu=3.0, alpha=2.0), 4, st.nbinom(2, 0.4).logpmf(4)),
    (pm.NegativeBinomial, dict(n=2.0, p=0.4), 4, st.nbinom(2, 0.4).logpmf(4)),
    (pm.Geometric, dict(p=0.3), 4, st.geom(0.3).logpmf(4)),
    (pm.HyperGeometric, dict(N=20, k=7, n=5), 2, st.hypergeom(20, 7, 5).logpmf(2)),
    (pm.DiscreteUniform, dict(lower=2, upper=6), 6, st.randint(2, 7).logpmf(6)),
    (pm.Categorical, dict(p=[0.2, 0.3, 0.5]), 2, np.log(0.5)),
    (pm.Categorical, dict(p=[2.0, 3.0, 5.0]), 1, np.log(0.3)),  # normalized, as in PyMC
    (pm.Categorical, dict(logit_p=[0.0, 1.0, 2.0]), 1,
     1.0 - np.log(np.exp([0.0, 1.0, 2.0]).sum())),
    (pm.Multinomial, dict(n=5, p=[0.2, 0.3, 0.5]), [1, 1, 3],
     st.multinomial(5, [0.2, 0.3, 0.5]).logpmf([1, 1, 3])),
    (pm.Dirichlet, dict(a=[1.0, 2.0, 3.0]), [0.2, 0.3, 0.5],
     st.dirichlet([1, 2, 3]).logpdf([0.2, 0.3, 0.5])),
    (pm.MvNormal, dict(mu=[1.0, 2.0], cov=[[2.0, 0.5], [0.5, 1.0]]), [0.0, 0.0],
     st.multivariate_normal([1, 2], [[2, 0.5], [0.5, 1]]).logpdf([0, 0])),
    (pm.MvNormal, dict(mu=[1.0, 2.0], chol=np.linalg.cholesky([[2.0, 0.5], [0.5, 1.0]])),
     [0.0, 0.0], st.multivariate_normal([1, 2], [[2, 0.5], [0.5, 1]]).logpdf([0, 0])),
    (pm.MvNormal, dict(mu=[1.0, 2.0], tau=np.linalg.inv([[2.0, 0.5], [0.5, 1.0]])),
     [0.0, 0.0], st.multivariate_normal([1, 2], [[2, 0.5], [0.5, 1]]).logpdf([0, 0])),
]


def _id(case):
    cls, kw = case[0], case[1]
    return f"{cls.__name__}-{'-'.join(kw)}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_observed_logp_matches_scipy(case):
    cls, kw, value, want = case
    with pm.Model() as m:
        cls("x", **kw, observed=value)
    got = m.compile_logp(mode="numpy")({})
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


CONTINUOUS_FREE = [c for c in CASES if c[0] in (
    pm.HalfNormal, pm.LogNormal, pm.Uniform, pm.Beta, pm.Gamma, pm.InverseGamma, pm.Exponential,
    pm.HalfStudentT, pm.HalfCauchy, pm.Weibull, pm.Pareto, pm.Wald, pm.VonMises, pm.Triangular,
    pm.ChiSquared, pm.Dirichlet)]


@pytest.mark.parametrize("case", CONTINUOUS_FREE, ids=[_id(c) for c in CONTINUOUS_FREE])
def test_free_variable_transform_and_jacobian(case):
    """A free variable's value lives in the unconstrained space: logp without the Jacobian at
    forward(x) is scipy's density at x; with it, the density of the unconstrained value."""
    cls, kw, value, want = case
    with pm.Model() as m:
        x = cls("x", **kw)
    (vv,) = m.value_vars
    t = m.rvs_to_transforms[x]
    assert t is not None and vv.name == f"x_{t.name}__"
    y = np.asarray(t.forward(np.asarray(value, dtype="float64")).eval(mode="numpy"))
    point = {vv.name: y}
    np.testing.assert_allclose(m.compile_logp(jacobian=False, mode="numpy")(point), want,
                               rtol=1e-9)
    ljd = float(np.sum(t.log_jac_det(y).eval(mode="numpy")))
    np.testing.assert_allclose(m.compile_logp(mode="numpy")(point), want + ljd, rtol=1e-9)


def test_pymc_value_variable_names():
    with pm.Model() as m:
        pm.HalfNormal("s", 1.0)
        pm.Beta("p", 1.0, 1.0)
        pm.Uniform("u", 0.0, 2.0)
        pm.Dirichlet("w", np.ones(3))
        pm.Exponential("e", 1.0)
        pm.Normal("n", 0.0, 1.0)
        pm.Poisson("k", 2.0)
    assert [v.name for v in m.value_vars] == [
        "s_log__", "p_logodds__", "u_interval__", "w_simplex__", "e_log__", "n", "k"]


def test_shape_size_and_dims():
    with pm.Model(coords={"g": ["a", "b", "c"], "k": [0, 1]}) as m:
        a = pm.Normal("a", 0.0, 1.0, shape=(2, 3))
        b = pm.Normal("b", 0.0, 1.0, size=4)
        c = pm.Normal("c", 0.0, 1.0, dims=("k", "g"))
        d = pm.Dirichlet("d", np.ones(3), dims=("k", "g"))
        e = pm.MvNormal("e", np.zeros(2), np.eye(2), shape=(5, 2))
    assert a.type.shape == (2, 3) and b.type.shape == (4,) and e.type.shape == (5, 2)
    # dims have lengths that set_data(..., coords=...) can change, as in PyMC
    draws = pm.draw([c, d], random_seed=0)
    assert draws[0].shape == (2, 3) and draws[1].shape == (2, 3)
    assert m.named_vars_to_dims["c"] == ("k", "g")
    pm.set_data({}, model=m, coords={"g": ["a", "b", "c", "d"]})
    assert pm.draw(c, random_seed=0).shape == (2, 4)
    with m:
        with pytest.raises(Exception, match=r"has shape \(3,\) but the variable has shape \(4,\)"):
            pm.Normal("y", 0.0, 1.0, dims="g", observed=np.zeros(3))


@pytest.mark.parametrize("cls, kw, dist", [
    (pm.Normal, dict(mu=1.0, sigma=2.0), st.norm(1, 2)),
    (pm.Gamma, dict(mu=2.0, sigma=1.0), st.gamma(4, scale=0.5)),
    (pm.Beta, dict(mu=0.4, sigma=0.2), st.beta(2, 3)),
    (pm.Weibull, dict(alpha=1.5, beta=2.0), st.weibull_min(1.5, scale=2)),
    (pm.InverseGamma, dict(alpha=3.0, beta=2.0), st.invgamma(3, scale=2)),
    (pm.Exponential, dict(lam=2.0), st.expon(scale=0.5)),
    (pm.Pareto, dict(alpha=3.0, m=2.0), st.pareto(3, scale=2)),
])
def test_draws_match_distribution_ks(cls, kw, dist):
    draws = pm.draw(cls.dist(**kw, size=2000), random_seed=11)
    assert draws.shape == (2000,)
    assert st.kstest(draws, dist.cdf).pvalue > 1e-3


def test_half_student_t_draws_ks():
    draws = pm.draw(pm.HalfStudentT.dist(nu=3.0, sigma=2.0, size=2000), random_seed=11)
    assert st.kstest(draws, lambda x: 2 * st.t(3, 0, 2).cdf(x) - 1).pvalue > 1e-3


@pytest.mark.parametrize("cls, kw, pmf", [
    (pm.Poisson, dict(mu=3.0), st.poisson(3).pmf),
    (pm.NegativeBinomial, dict(mu=3.0, alpha=2.0), st.nbinom(2, 0.4).pmf),
    (pm.Binomial, dict(n=10, logit_p=-0.5), st.binom(10, 1 / (1 + np.exp(0.5))).pmf),
])
def test_discrete_draws_chisquare(cls, kw, pmf):
    draws = pm.draw(cls.dist(**kw, size=3000), random_seed=5)
    top = 8
    counts = np.bincount(np.minimum(draws, top), minlength=top + 1)
    probs = pmf(np.arange(top))
    probs = np.append(probs, 1 - probs.sum())
    assert st.chisquare(counts, probs * counts.sum()).pvalue > 1e-3


def test_mixture_and_censored_densities():
    y = np.array([-1.5, 0.2, 2.5, 3.0])
    w = np.array([0.2, 0.3, 0.5])
    mu = np.array([-2.0, 0.0, 2.0])
    with pm.Model() as m:
        pm.NormalMixture("x", w=w, mu=mu, sigma=1.0, observed=y)
        pm.Censored("c", pm.Normal.dist(0.0, 1.0, size=3), lower=-1.0, upper=1.0,
                    observed=np.array([-1.0, 0.3, 1.0]))
    want = (np.log((w * st.norm(mu, 1).pdf(y[:, None])).sum(1)).sum()
            + st.norm.logcdf(-1) + st.norm.logpdf(0.3) + st.norm.logsf(1))
    np.testing.assert_allclose(m.compile_logp(mode="numpy")({}), want, rtol=1e-10)


def test_mixture_draws_ks():
    comps = [pm.Normal.dist(-3.0, 1.0), pm.Normal.dist(3.0, 1.0)]
    draws = pm.draw(pm.Mixture.dist(w=[0.3, 0.7], comp_dists=comps, shape=(3000,)),
                    random_seed=3)
    cdf = lambda x: 0.3 * st.norm(-3).cdf(x) + 0.7 * st.norm(3).cdf(x)  # noqa: E731
    assert st.kstest(draws, cdf).pvalue > 1e-3


def test_flat_cannot_be_drawn():
    with pytest.raises(Exception, match="cannot draw from a flat variable"):
        pm.draw(pm.Flat.dist(), random_seed=1)


def test_truncated_density_draws_and_free_variable():
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.5, 1.0)
        pm.Truncated("t", pm.Normal.dist(mu, 2.0), lower=-1.0, upper=None)
    assert [v.name for v in m.value_vars] == ["mu", "t_interval__"]
    x = 0.7
    y = np.log(x + 1.0)  # the lower-bounded interval transform
    got = m.compile_logp(jacobian=False, mode="numpy")({"mu": 0.5, "t_interval__": y})
    want = st.norm(0.5, 1).logpdf(0.5) + st.truncnorm(-0.75, np.inf, 0.5, 2.0).logpdf(x)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    draws = pm.draw(pm.Truncated.dist(pm.Gamma.dist(alpha=2.0, beta=1.0), upper=3.0,
                                      shape=(2000,)), random_seed=4)
    assert draws.max() <= 3.0
    g = st.gamma(2.0)
    assert st.kstest(draws, lambda v: g.cdf(v) / g.cdf(3.0)).pvalue > 1e-3


def test_custom_dist_logp_random_and_dist():
    def logp(value, lam):
        return pm.math.log(lam) - lam * value

    def random(lam, rng=None, size=None):
        return rng.exponential(1 / lam, size=size)

    with pm.Model() as m:
        y = pm.CustomDist("y", 2.0, logp=logp, random=random, observed=np.array([0.5, 1.0]))
        pm.CustomDist("z", 0.3, 0.5, dist=lambda mu, s, size: pm.math.exp(
            pm.Normal.dist(mu, s, size=size)))
    assert y.type.shape == (2,)
    (vv,) = m.value_vars
    assert vv.name == "z"  # dist= graphs get no default transform (as in PyMC)
    lp = m.compile_logp(mode="numpy")({"z": 1.7})
    want = st.expon(scale=0.5).logpdf([0.5, 1.0]).sum() + st.lognorm(0.5, scale=np.exp(0.3)
                                                                       ).logpdf(1.7)
    np.testing.assert_allclose(lp, want, rtol=1e-10)
    draws = pm.draw(pm.CustomDist.dist(2.0, logp=logp, random=random, size=2000),
                    random_seed=9)
    assert st.kstest(draws, st.expon(scale=0.5).cdf).pvalue > 1e-3
    with pytest.raises(Exception, match="has no random function"):
        pm.draw(pm.CustomDist.dist(2.0, logp=logp), random_seed=1)


def test_centered_simplex_jacobian_is_the_numerical_one():
    from gnomon.ppl.transforms import CenteredSimplex

    t = CenteredSimplex()
    y = np.array([0.3, -1.2, 0.5])
    back = lambda v: np.asarray(t.backward(v).eval(mode="numpy"))[:-1]  # noqa: E731
    eps = 1e-6
    jac = np.stack([(back(y + eps * e) - back(y - eps * e)) / (2 * eps) for e in np.eye(3)], 1)
    want = np.log(abs(np.linalg.det(jac)))
    np.testing.assert_allclose(float(t.log_jac_det(y).eval(mode="numpy")), want, rtol=1e-7)
    x = np.asarray(t.backward(y).eval(mode="numpy"))
    np.testing.assert_allclose(np.asarray(t.forward(x).eval(mode="numpy")), y, rtol=1e-12)


def test_gaussian_random_walk_density_and_draws():
    with pm.Model(coords={"t": range(5)}) as m:
        s = pm.HalfNormal("s", 1.0)
        pm.GaussianRandomWalk("w", mu=0.5, sigma=s, init_dist=pm.Normal.dist(1.0, 2.0),
                              dims="t")
    assert [v.name for v in m.value_vars] == ["s_log__", "w"]
    np.testing.assert_allclose(m.initial_point()["w"], 1.0 + 0.5 * np.arange(5))
    w = np.array([0.3, 1.0, 0.2, 1.5, 2.5])
    got = m.compile_logp(jacobian=False, mode="numpy")({"s_log__": np.log(1.5), "w": w})
    want = (st.halfnorm.logpdf(1.5) + st.norm(1, 2).logpdf(0.3)
            + st.norm(0.5, 1.5).logpdf(np.diff(w)).sum())
    np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.warns(UserWarning, match="Initial distribution not specified"):
        walk = pm.GaussianRandomWalk.dist(mu=0.5, sigma=2.0, steps=4, size=(1500,))
    last = pm.draw(walk, random_seed=8)[:, -1]
    assert st.kstest(last, st.norm(2.0, np.sqrt(100 ** 2 + 4 * 4.0)).cdf).pvalue > 1e-3


def test_zero_sum_normal_density_and_draws():
    with pm.Model(coords={"g": list("abcd")}) as m:
        pm.ZeroSumNormal("z", sigma=2.0, dims="g")
    assert [v.name for v in m.value_vars] == ["z_zerosum__"]
    y = np.array([0.3, -1.0, 2.0])
    # the transform is an isometry onto the hyperplane: the density of y is N(0, 2) per entry
    np.testing.assert_allclose(m.compile_logp(mode="numpy")({"z_zerosum__": y}),
                               st.norm(0, 2).logpdf(y).sum(), rtol=1e-12)
    x = pm.draw(pm.ZeroSumNormal.dist(sigma=2.0, shape=(1500, 4)), random_seed=2)
    np.testing.assert_allclose(x.sum(axis=-1), 0.0, atol=1e-12)
    assert st.kstest(x[:, 0], st.norm(0, 2 * np.sqrt(3 / 4)).cdf).pvalue > 1e-3


def test_lkj_cholesky_cov_density_n2_and_draws():
    with pm.Model() as m:
        pm.LKJCholeskyCov("c", eta=2.0, n=2,
                      sd_dist=pm.Exponential.dist(1.0, shape=2))
    assert [v.name for v in m.value_vars] == ["c_cholesky-cov-packed__"]
    s1, s2, r = 1.3, 0.7, 0.4
    s = np.sqrt(1 - r ** 2)
    y = np.array([np.log(s1), s2 * r, np.log(s2 * s)])
    # LKJ(2) on 2 x 2 correlations: p(r) = (1 - r^2) / (2^3 B(2, 2)) = 0.75 (1 - r^2); the
    # factor from (sigma_2, r) to the second row of L is s / sigma_2
    want = (st.expon.logpdf([s1, s2]).sum() + np.log(0.75 * (1 - r ** 2)) + np.log(s)
            - np.log(s2))
    got = m.compile_logp(jacobian=False, mode="numpy")({"c_cholesky-cov-packed__": y})
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_j = m.compile_logp(mode="numpy")({"c_cholesky-cov-packed__": y})
    np.testing.assert_allclose(got_j, want + np.log(s1) + np.log(s2 * s), rtol=1e-12)

    with pm.Model():
        _, corr, stds = pm.LKJCholeskyCov("c", eta=2.0, n=3,
                                             sd_dist=pm.Exponential.dist(1.0, shape=3))
    c_draws, s_draws = pm.draw([corr, stds], draws=1500, random_seed=6)
    np.testing.assert_allclose(np.diagonal(c_draws, axis1=1, axis2=2), 1.0)
    # LKJ(eta) marginal of one correlation: (r + 1) / 2 ~ Beta(eta - 1 + n / 2, same)
    assert st.kstest((c_draws[:, 0, 2] + 1) / 2, st.beta(2.5, 2.5).cdf).pvalue > 1e-3
    assert st.kstest(s_draws[:, 1], st.expon.cdf).pvalue > 1e-3
