"""``pm.sample`` on models: conjugate posteriors within Monte Carlo error, eight schools
(centered diverges, non-centered does not), the InferenceData it returns, warnings, errors."""

from __future__ import annotations

import logging
import math
import sys

import numpy as np
import pytest

import gnomon.ppl as pm
from gnomon.errors import GnomonValueError
from gnomon.ppl.sampling import NUTS, ess_bulk

Y8 = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
S8 = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
SCHOOLS = ["A", "B", "C", "D", "E", "F", "G", "H"]


def eight_schools(centered: bool) -> pm.Model:
    with pm.Model(coords={"school": SCHOOLS}) as m:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        if centered:
            theta = pm.Normal("theta", mu, tau, dims="school")
        else:
            theta_t = pm.Normal("theta_t", 0.0, 1.0, dims="school")
            theta = pm.Deterministic("theta", mu + tau * theta_t, dims="school")
        pm.Normal("y", theta, S8, observed=Y8, dims="school")
    return m


@pytest.fixture(scope="module")
def noncentered() -> tuple[pm.Model, object]:
    m = eight_schools(False)
    with m:
        idata = pm.sample(500, tune=500, chains=2, random_seed=8, progressbar=False)
    return m, idata


def within_mcse(x: np.ndarray, mean: float, sd: float, k: float = 4.0) -> None:
    ess = ess_bulk(x)
    assert abs(x.mean() - mean) < k * sd / math.sqrt(ess), (x.mean(), mean, sd, ess)
    assert abs(x.std() - sd) < k * sd / math.sqrt(2 * ess), (x.std(), sd, ess)


def test_conjugate_posteriors() -> None:
    """normal-normal (known noise) and gamma-Poisson (a log-transformed variable) in one
    model: posterior means and sds within 4 Monte Carlo standard errors."""
    rng = np.random.default_rng(0)
    y = rng.normal(1.5, 2.0, size=20)
    k = rng.poisson(3.0, size=15)
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 2.0, observed=y)
        lam = pm.Gamma("lam", alpha=2.0, beta=0.5)
        pm.Poisson("k", lam, observed=k)
        idata = pm.sample(1000, tune=1000, chains=2, random_seed=3, progressbar=False)
    prec = 1 / 10.0**2 + len(y) / 2.0**2
    post = idata.posterior
    within_mcse(post["mu"].values, (y.sum() / 4.0) / prec, prec**-0.5)
    a, b = 2.0 + k.sum(), 0.5 + len(k)
    within_mcse(post["lam"].values, a / b, math.sqrt(a) / b)
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_eight_schools_centered_diverges_noncentered_does_not(noncentered) -> None:
    _, idata = noncentered
    assert int(idata.sample_stats["diverging"].sum()) == 0
    with eight_schools(True):
        c = pm.sample(500, tune=500, chains=2, random_seed=8, progressbar=False,
                      compute_convergence_checks=False)
    assert int(c.sample_stats["diverging"].sum()) > 0


def test_inferencedata(noncentered) -> None:
    _, idata = noncentered
    assert set(idata.groups()) >= {"posterior", "sample_stats", "observed_data"}
    post = idata.posterior
    assert set(post.data_vars) == {"mu", "tau", "theta_t", "theta"}
    assert post["theta"].dims == ("chain", "draw", "school")
    assert list(post["school"].values) == SCHOOLS
    assert post["mu"].shape == (2, 500)
    # deterministic = its expression of the draws; tau on its support
    np.testing.assert_allclose(post["theta"], post["mu"] + post["tau"] * post["theta_t"])
    assert float(post["tau"].min()) > 0
    st = idata.sample_stats
    for name in ("diverging", "tree_depth", "energy", "step_size", "lp", "acceptance_rate",
                 "n_steps", "energy_error", "max_energy_error", "step_size_bar"):
        assert st[name].shape == (2, 500), name
    assert st["diverging"].dtype == bool and st["tree_depth"].dtype.kind == "i"
    # depth d: 2**d - 1 steps in the kept doublings, at most 2**d more in a dropped subtree
    d = st["tree_depth"].values
    assert np.all((2**d - 1 <= st["n_steps"].values) & (st["n_steps"].values < 2 ** (d + 1)))
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y8)
    assert idata.posterior.attrs["inference_library"] == "gnomon"
    az = pytest.importorskip("arviz")
    summ = az.summary(idata, var_names=["mu", "tau"])
    assert (summ["r_hat"] < 1.05).all()


def test_reproducible_var_names_and_dict(noncentered) -> None:
    m, idata = noncentered
    with m:
        again = pm.sample(500, tune=500, chains=2, random_seed=8, progressbar=False,
                          var_names=["mu", "theta"], return_inferencedata=False)
    assert set(again["posterior"]) == {"mu", "theta"}
    np.testing.assert_array_equal(again["posterior"]["mu"], idata.posterior["mu"].values)
    np.testing.assert_array_equal(again["sample_stats"]["lp"], idata.sample_stats["lp"].values)


def test_without_arviz_a_dict(noncentered, monkeypatch: pytest.MonkeyPatch) -> None:
    m, _ = noncentered
    monkeypatch.setitem(sys.modules, "arviz", None)  # import arviz raises ImportError
    with m:
        r = pm.sample(20, tune=20, chains=1, random_seed=1, progressbar=False,
                      compute_convergence_checks=False)
    assert isinstance(r, dict) and set(r) >= {"posterior", "sample_stats", "observed_data"}
    assert r["posterior"]["theta"].shape == (1, 20, 8)
    assert r["sample_stats"]["diverging"].dtype == bool


def test_convergence_warnings(noncentered, caplog: pytest.LogCaptureFixture) -> None:
    m, _ = noncentered
    with m, caplog.at_level(logging.WARNING, logger="gnomon.ppl"):
        pm.sample(100, tune=0, chains=2, random_seed=1, progressbar=False, init="adapt_diag")
    # no tuning: a unit step size, far too large, and few draws
    assert "effective sample size per chain is smaller than 100" in caplog.text


def test_bad_step_and_discrete_variable(noncentered) -> None:
    m, _ = noncentered
    with m, pytest.raises(GnomonValueError, match=r"(?s)step=.*not supported.*Hint"):
        pm.sample(10, tune=10, step=object())
    # (numpyro and blackjax are supported: tests/ppl/test_jax_samplers.py)
    with m, pytest.raises(GnomonValueError, match=r"(?s)nuts_sampler='nutpie'.*Hint"):
        pm.sample(10, tune=10, nuts_sampler="nutpie")
    with m, pytest.raises(TypeError, match=r"(?s)unsupported keyword.*Hint"):
        pm.sample(10, tune=10, sampler="numpyro")
    with m:
        r = pm.sample(10, tune=10, chains=1, step=NUTS(max_treedepth=1), progressbar=False,
                      compute_convergence_checks=False)
    assert int(r.sample_stats["tree_depth"].max()) <= 1
    # (a discrete variable gets a Metropolis step: tests/ppl/test_compound.py; NUTS cannot)
    with pm.Model(), pytest.raises(GnomonValueError, match=r"(?s)NUTS cannot.*'k'.*Hint"):
        k = pm.Poisson("k", 3.0)
        pm.sample(10, tune=10, step=pm.NUTS(vars=[k]))
