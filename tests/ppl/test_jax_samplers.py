"""``pm.sample(nuts_sampler="numpyro" | "blackjax")``: posteriors of a conjugate model within
Monte Carlo error, the InferenceData has the default sampler's structure, clear errors (a
missing package, discrete variables, unknown options)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import gnomon.ppl as pm
from gnomon.errors import BackendUnavailableError, GnomonTypeError, GnomonValueError
from gnomon.ppl.sampling import ess_bulk

pytest.importorskip("jax")
az = pytest.importorskip("arviz")

RNG = np.random.default_rng(20261201)
Y = RNG.normal([1.0, -2.0], 2.0, size=(15, 2))  # 15 observations per group, noise sd 2 known
PRIOR_SD = 10.0


def model() -> pm.Model:
    """Two conjugate normal means (dims 'g') plus a HalfNormal(1) that no data touches: its
    posterior is its prior, which checks the log transform's Jacobian."""
    with pm.Model(coords={"g": ["a", "b"]}) as m:
        mu = pm.Normal("mu", 0.0, PRIOR_SD, dims="g")
        s = pm.HalfNormal("s", 1.0)
        pm.Deterministic("shift", mu + s, dims="g")
        pm.Normal("y", mu, 2.0, observed=Y)
    return m


def analytic() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    prec = 1.0 / PRIOR_SD**2 + Y.shape[0] / 4.0
    mean = (Y.sum(axis=0) / 4.0) / prec
    sd = np.full(2, prec**-0.5)
    hn_mean, hn_sd = math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)
    return {"mu": (mean, sd), "s": (np.array([hn_mean]), np.array([hn_sd]))}


def within_mcse(x: np.ndarray, mean: float, sd: float, k: float = 4.0) -> None:
    """Mean and sd of draws ``(chains, draws)`` within ``k`` Monte Carlo standard errors."""
    ess = ess_bulk(x)
    assert abs(x.mean() - mean) < k * sd / math.sqrt(ess), (x.mean(), mean, sd, ess)
    assert abs(x.std() - sd) < k * sd / math.sqrt(2 * ess), (x.std(), sd, ess)


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    """One run per sampler (the compile of each JAX sampler is the cost: seconds)."""
    out = {}
    for sampler in ("pymc", "numpyro", "blackjax"):
        with model():
            out[sampler] = pm.sample(
                1000 if sampler != "pymc" else 100, tune=1000 if sampler != "pymc" else 100,
                chains=2, random_seed=11, progressbar=False, nuts_sampler=sampler,
                discard_tuned_samples=False)
    return out


@pytest.mark.parametrize("sampler", ["numpyro", "blackjax"])
def test_conjugate_posterior(runs, sampler) -> None:
    post = runs[sampler].posterior
    for name, (means, sds) in analytic().items():
        x = post[name].values.reshape(2, 1000, -1)
        for j in range(x.shape[2]):
            within_mcse(x[:, :, j], means[j], sds[j])
    # the Deterministic is computed from the draws
    np.testing.assert_allclose(post["shift"].values, post["mu"].values
                               + post["s"].values[..., None], rtol=1e-12)
    st = runs[sampler].sample_stats
    assert int(st["diverging"].sum()) <= 5  # (a rare divergence in the HalfNormal's tail)
    # the statistics are the sampler's own: lp is the model's log-density at the draws
    lp = pm.Model.logp_dlogp_function(model(), mode="numpy")
    q = np.concatenate([post["mu"].values[0, :5], np.log(post["s"].values[0, :5, None])], 1)
    np.testing.assert_allclose(st["lp"].values[0, :5], [lp.logp_dlogp(r)[0] for r in q],
                               rtol=1e-9)
    assert np.all((st["tree_depth"].values >= 1)
                  & (st["n_steps"].values >= 2 ** (st["tree_depth"].values - 1)))
    assert 0.6 < float(st["acceptance_rate"].mean()) < 1.0


@pytest.mark.parametrize("sampler", ["numpyro", "blackjax"])
def test_structure_equals_default_sampler(runs, sampler) -> None:
    ref, got = runs["pymc"], runs[sampler]
    assert set(got.groups()) == set(ref.groups())
    for g in ("posterior", "warmup_posterior", "observed_data"):
        assert set(got[g].data_vars) == set(ref[g].data_vars), g
        for v in ref[g].data_vars:
            assert got[g][v].dims == ref[g][v].dims, (g, v)
            if g != "observed_data":
                assert got[g][v].shape[2:] == ref[g][v].shape[2:]
                assert got[g][v].dtype == ref[g][v].dtype
    assert got.posterior["mu"].coords["g"].values.tolist() == ["a", "b"]
    assert got.posterior.sizes["draw"] == 1000 and got.warmup_posterior.sizes["draw"] == 1000
    # PyMC's names: those of the default sampler that NumPyro and BlackJAX report
    names = set(got.sample_stats.data_vars)
    assert names == {"lp", "energy", "step_size", "acceptance_rate", "n_steps", "tree_depth",
                     "diverging"}
    assert names <= set(ref.sample_stats.data_vars)
    for v in names:
        assert got.sample_stats[v].dtype == ref.sample_stats[v].dtype, v
    assert got.posterior.attrs["nuts_sampler"] == sampler
    # the step size is fixed after tuning
    step = got.sample_stats["step_size"].values
    assert np.all(step == step[:, :1])


def test_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    for sampler in ("numpyro", "blackjax"):
        monkeypatch.setitem(sys.modules, sampler, None)  # import fails as if not installed
        with model(), pytest.raises(BackendUnavailableError, match=f"pip install {sampler}"):
            pm.sample(10, tune=10, chains=1, nuts_sampler=sampler, progressbar=False)


def test_errors() -> None:
    with pm.Model():
        pm.Poisson("k", 3.0)
        pm.Normal("x", 0.0, 1.0)
        with pytest.raises(GnomonValueError, match=r"discrete free variables.*'k'"):
            pm.sample(10, tune=10, nuts_sampler="numpyro")
    with model():
        with pytest.raises(GnomonValueError, match="nuts_sampler='nutpie' is not supported"):
            pm.sample(10, tune=10, nuts_sampler="nutpie")
        with pytest.raises(GnomonTypeError, match=r"unknown key\(s\) \['dense_mass'\]"):
            pm.sample(10, tune=10, nuts_sampler="blackjax",
                      nuts_sampler_kwargs={"dense_mass": True})
        with pytest.raises(GnomonValueError, match="chain_method='threads'"):
            pm.sample(10, tune=10, nuts_sampler="numpyro",
                      nuts_sampler_kwargs={"chain_method": "threads"})
        with pytest.raises(GnomonTypeError, match="apply to nuts_sampler='numpyro' or"):
            pm.sample(10, tune=10, nuts_sampler_kwargs={"chain_method": "vectorized"})
