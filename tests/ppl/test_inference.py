"""Inference helpers against analytic results: find_MAP on conjugate models, prior and
posterior predictive draws, do / observe on a linear-Gaussian model, and one comparison with
PyMC itself (skipped when PyMC is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon.ppl as pm


def test_map_normal_normal():
    y = np.array([0.3, 1.9, 1.2, 2.4, 0.8])
    with pm.Model():
        mu = pm.Normal("mu", 1.0, 2.0)
        pm.Normal("y", mu, 1.5, observed=y)
        point = pm.find_MAP()
    want = (1.0 / 4 + y.sum() / 2.25) / (1 / 4 + 5 / 2.25)
    np.testing.assert_allclose(point["mu"], want, rtol=1e-6)


def test_map_beta_binomial_returns_constrained_and_transformed():
    with pm.Model():
        p = pm.Beta("p", 2.0, 3.0)
        pm.Binomial("k", n=20, p=p, observed=7)
        point = pm.find_MAP()
    np.testing.assert_allclose(point["p"], 8 / 23, rtol=1e-6)
    np.testing.assert_allclose(point["p_logodds__"], np.log(8 / 15), rtol=1e-5)


def test_map_gamma_poisson_and_start():
    with pm.Model() as m:
        lam = pm.Gamma("lam", alpha=3.0, beta=2.0)
        pm.Poisson("y", lam, observed=np.array([1, 4, 2, 5]))
    point, raw = pm.find_MAP(model=m, start={"lam": 10.0}, return_raw=True)
    assert raw.success
    np.testing.assert_allclose(point["lam"], 14 / 6, rtol=1e-6)


def test_map_linear_regression_known_noise():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.5, -0.5]) + rng.normal(0, 0.5, size=30)
    with pm.Model() as m:
        beta = pm.Normal("beta", 0.0, 10.0, shape=2)
        pm.Deterministic("fit", pm.math.dot(X, beta))
        pm.Normal("y", pm.math.dot(X, beta), 0.5, observed=y)
    point = pm.find_MAP(model=m)
    prec = X.T @ X / 0.25 + np.eye(2) / 100
    want = np.linalg.solve(prec, X.T @ y / 0.25)
    np.testing.assert_allclose(point["beta"], want, rtol=1e-5)
    np.testing.assert_allclose(point["fit"], X @ point["beta"], rtol=1e-10)


def test_prior_predictive_marginal_and_inferencedata():
    pytest.importorskip("arviz")
    with pm.Model(coords={"obs": [0, 1]}) as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=np.zeros(2), dims="obs")
    idata = pm.sample_prior_predictive(1500, model=m, random_seed=7)
    assert {"prior", "prior_predictive", "observed_data"} <= set(idata.groups())
    y = idata.prior_predictive["y"].values
    assert y.shape == (1, 1500, 2) and list(idata.prior_predictive["y"].dims) == [
        "chain", "draw", "obs"]
    assert st.kstest(y[0, :, 0], st.norm(0, np.sqrt(2)).cdf).pvalue > 1e-3
    # the two observations share mu: correlation 1/2
    assert abs(np.corrcoef(y[0].T)[0, 1] - 0.5) < 0.1
    again = pm.sample_prior_predictive(5, model=m, random_seed=7, return_inferencedata=False)
    np.testing.assert_array_equal(again["y"], y[0, :5])


def test_posterior_predictive_uses_the_draws_and_extends_idata():
    az = pytest.importorskip("arviz")
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", mu, s, observed=np.zeros(3))
    post = az.from_dict(posterior={"mu": np.array([[-5.0, 5.0]]), "s": np.array([[0.1, 0.1]])})
    out = pm.sample_posterior_predictive(post, model=m, random_seed=3,
                                         extend_inferencedata=True)
    assert out is post and "posterior_predictive" in post.groups()
    y = post.posterior_predictive["y"].values
    assert y.shape == (1, 2, 3)
    assert np.all(np.abs(y[0, 0] + 5) < 1) and np.all(np.abs(y[0, 1] - 5) < 1)


def _linear_gaussian():
    with pm.Model() as m:
        x = pm.Normal("x", 0.0, 1.0)
        y = pm.Normal("y", x, 1.0)
        pm.Normal("z", y, 1.0)
    return m


def test_do_gives_the_interventional_distribution():
    m = _linear_gaussian()
    m_do = pm.do(m, {"y": 2.0})
    assert [rv.name for rv in m.free_RVs] == ["x", "y", "z"]  # untouched
    assert [rv.name for rv in m_do.free_RVs] == ["x", "z"]
    assert [d.name for d in m_do.deterministics] == ["y"]
    d = pm.sample_prior_predictive(2000, model=m_do, random_seed=1, return_inferencedata=False)
    assert st.kstest(d["z"], st.norm(2.0, 1.0).cdf).pvalue > 1e-3
    assert st.kstest(d["x"], st.norm(0.0, 1.0).cdf).pvalue > 1e-3  # the parent is unaffected
    np.testing.assert_array_equal(d["y"], 2.0)
    # the original still has z ~ N(0, sqrt 3)
    d0 = pm.sample_prior_predictive(2000, model=m, random_seed=1, return_inferencedata=False)
    assert st.kstest(d0["z"], st.norm(0.0, np.sqrt(3)).cdf).pvalue > 1e-3


def test_observe_gives_the_conditional():
    m = _linear_gaussian()
    m_obs = pm.observe(m, {"y": 2.0})
    assert [rv.name for rv in m_obs.free_RVs] == ["x", "z"]
    assert [rv.name for rv in m_obs.observed_RVs] == ["y"]
    assert [rv.name for rv in m.observed_RVs] == []  # untouched
    point = pm.find_MAP(model=m_obs)
    np.testing.assert_allclose([point["x"], point["z"]], [1.0, 2.0], atol=1e-6)
    # the conditional density of x given y = 2 is N(1, 1/2) up to a constant
    f = m_obs.compile_logp(mode="numpy")
    xs = np.array([-1.0, 0.5, 2.0])
    lps = np.array([f({"x": x, "z": 2.0}) for x in xs])
    want = st.norm(1.0, np.sqrt(0.5)).logpdf(xs)
    np.testing.assert_allclose(lps - lps[0], want - want[0], rtol=1e-10)


def test_logp_matches_pymc_eight_schools():
    pymc = pytest.importorskip("pymc")
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])

    def build(lib):
        with lib.Model() as model:
            mu = lib.Normal("mu", mu=0.0, sigma=5.0)
            tau = lib.HalfCauchy("tau", beta=5.0)
            theta_t = lib.Normal("theta_t", mu=0.0, sigma=1.0, shape=8)
            lib.Deterministic("theta", mu + tau * theta_t)
            lib.Normal("obs", mu=mu + tau * theta_t, sigma=sigma, observed=y)
        return model

    ours, theirs = build(pm), build(pymc)
    assert [v.name for v in ours.value_vars] == [v.name for v in theirs.value_vars]
    f, g = ours.compile_logp(mode="numpy"), theirs.compile_logp()
    df, dg = ours.compile_dlogp(mode="numpy"), theirs.compile_dlogp()
    rng = np.random.default_rng(2)
    for _ in range(3):
        point = {"mu": rng.normal(), "tau_log__": rng.normal(), "theta_t": rng.normal(size=8)}
        np.testing.assert_allclose(f(point), g(point), rtol=1e-8)  # PyTensor rounds differently
        np.testing.assert_allclose(df(point), dg(point), rtol=1e-8)
    ip = ours.initial_point()
    for k, v in theirs.initial_point().items():
        np.testing.assert_allclose(ip[k], v, atol=1e-12)


def test_value_names_and_logp_match_pymc_across_distributions():
    pymc = pytest.importorskip("pymc")

    def build(lib):
        with lib.Model() as model:
            lib.HalfNormal("a", sigma=2.0)
            lib.Beta("b", mu=0.4, sigma=0.2)
            lib.Uniform("c", -1.0, 3.0)
            lib.Gamma("d", mu=2.0, sigma=1.0)
            lib.Exponential("e", scale=2.0)
            lib.Dirichlet("f", a=np.array([1.0, 2.0, 3.0]))
            lib.LogNormal("g", 0.5, 0.7)
            lib.StudentT("h", nu=4.0, mu=1.0, lam=0.25)
            lib.HalfStudentT("i", nu=3.0, sigma=2.0)
            lib.Weibull("j", alpha=1.5, beta=2.0)
            lib.Pareto("k", alpha=3.0, m=2.0)
            lib.InverseGamma("l", alpha=3.0, beta=2.0)
            lib.VonMises("m", mu=0.5, kappa=2.0)
            lib.Triangular("n", lower=0.0, c=1.0, upper=3.0)
            lib.Wald("o", mu=1.5, lam=2.0)
            lib.ChiSquared("p", nu=3.0)
            lib.HalfCauchy("q", beta=2.0)
            lib.Laplace("r", mu=1.0, b=2.0)
            lib.Logistic("s", mu=1.0, s=2.0)
            lib.Gumbel("t", mu=1.0, beta=2.0)
            lib.Normal("u", mu=0.0, sigma=1.0, shape=2)
            lib.MvNormal("v", mu=np.zeros(2), chol=np.array([[1.0, 0.0], [0.5, 2.0]]))
            lib.ZeroSumNormal("w", sigma=1.5, shape=4)
            lib.GaussianRandomWalk("x", mu=0.2, sigma=1.1, init_dist=lib.Normal.dist(0, 3),
                                   steps=3)
            lib.Mixture("y", w=[0.3, 0.7], comp_dists=[lib.Normal.dist(-1.0, 1.0),
                                                        lib.Normal.dist(2.0, 0.5)])
            lib.Truncated("z", lib.Normal.dist(0.0, 1.0), lower=-1.0, upper=2.0)
        return model

    ours, theirs = build(pm), build(pymc)
    assert [v.name for v in ours.value_vars] == [v.name for v in theirs.value_vars]
    g = theirs.compile_logp()
    f = ours.compile_logp(mode="numpy")
    rng = np.random.default_rng(5)
    start = theirs.initial_point()
    for _ in range(2):
        point = {k: v + 0.3 * rng.normal(size=np.shape(v)) for k, v in start.items()}
        np.testing.assert_allclose(f(point), g(point), rtol=1e-8)


def test_posterior_predictive_returns_trace_values_and_recomputes_deterministics():
    with pm.Model() as m:
        x = pm.Data("x", np.array([1.0, 2.0]))
        b = pm.Normal("b", 0.0, 1.0)
        pm.Deterministic("bx", b * x)
        pm.Normal("y", b * x, 1.0, shape=x.shape[0])
    post = {"b": np.array([[1.0, 2.0, 3.0]]), "bx": np.zeros((1, 3, 2))}
    pm.set_data({"x": np.array([10.0, 20.0, 30.0])}, model=m)
    pp = pm.sample_posterior_predictive(post, model=m, var_names=["b", "bx", "y"],
                                        random_seed=0, return_inferencedata=False)
    np.testing.assert_array_equal(pp["b"], post["b"])
    np.testing.assert_allclose(pp["bx"], post["b"][..., None] * np.array([10.0, 20.0, 30.0]))
    assert pp["y"].shape == (1, 3, 3)


def test_lkj_cholesky_cov_matches_pymc_up_to_its_normalizing_constant():
    """Same value-variable name, deterministics and density shape as PyMC. PyMC 5.28's LKJ
    normalizing constant has the wrong sign (its LKJCorr density of one 2 x 2 correlation
    integrates to 16/9 at eta = 2), so the log-densities differ by a constant: 2 log c_n(eta);
    ours is checked against the exact n = 2 density in test_distributions.py."""
    pymc = pytest.importorskip("pymc")

    def build(lib):
        with lib.Model() as model:
            lib.LKJCholeskyCov("c", eta=2.0, n=3, sd_dist=lib.Exponential.dist(1.0, shape=3))
        return model

    ours, theirs = build(pm), build(pymc)
    assert [v.name for v in ours.value_vars] == [v.name for v in theirs.value_vars]
    assert sorted(d.name for d in ours.deterministics) == ["c_corr", "c_stds"]
    assert sorted(d.name for d in theirs.deterministics) == ["c_corr", "c_stds"]
    f, g = ours.compile_logp(mode="numpy"), theirs.compile_logp()
    rng = np.random.default_rng(0)
    pts = [{"c_cholesky-cov-packed__": 0.4 * rng.normal(size=6)} for _ in range(3)]
    diffs = [float(f(p)) - float(g(p)) for p in pts]
    np.testing.assert_allclose(diffs, diffs[0], atol=1e-7)
    # the offset is twice our log normalizing constant for n = 3, eta = 2
    from scipy.special import betaln
    logc = sum((2 * 2.0 - 2 + 3 - k) * (3 - k) * np.log(2) + (3 - k) * betaln(
        2.0 + (3 - k - 1) / 2, 2.0 + (3 - k - 1) / 2) for k in (1, 2))
    np.testing.assert_allclose(diffs[0], -2 * logc, rtol=1e-7)
