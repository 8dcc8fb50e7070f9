"""Dense and low-rank mass matrices of NUTS (``init="jitter+adapt_full"`` /
``"jitter+adapt_low_rank"``) on correlated Gaussians, against theory:

* with a metric equal to the covariance the target is an isotropic standard normal, so the
  adapted step size must be that of NUTS on an isotropic standard normal of the same dimension
  (measured with the diagonal metric there), while the diagonal metric on the correlated target
  needs a step size about ``sqrt(lambda_min)`` times smaller (``lambda_min``: the smallest
  eigenvalue of the correlation matrix);
* the adapted inverse mass matrix is the regularised sample covariance of the last window
  (500 draws): whitened by the true covariance, its Frobenius distance to the identity has
  expectation about ``sqrt((d + d^2) / 500)`` for independent draws;
* the low-rank metric (at most 5 directions) preconditions a 20-d Gaussian almost as well as
  the best metric of its form built from the true covariance;
* posterior means within 4.5 Monte Carlo standard errors.

The log-densities are small ``@njit`` functions of the kernel's type (no model compile).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numba import njit

from gnomon.ppl import nuts
from gnomon.ppl.sampling import _ess, _split, run_nuts

SIG = nuts.ARRAY_LOGP_SIG

# 5-d: scales D and AR(1) correlations 0.95 ** |i - j| (smallest eigenvalue of R: 0.026)
_D5 = np.array([1.0, 2.0, 0.5, 3.0, 1.0])
_R5 = 0.95 ** np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
COV5 = _D5[:, None] * _R5 * _D5[None, :]
PREC5 = np.linalg.inv(COV5)

# 20-d: diag(D) (I + 40 u1 u1' + 15 u2 u2' - 0.95 u3 u3') diag(D), orthonormal u1..u3
_rng = np.random.default_rng(20261201)
_Q, _ = np.linalg.qr(_rng.normal(size=(20, 3)))
_D20 = np.exp(_rng.uniform(-1.0, 1.0, 20))
_CORE = np.eye(20) + 40.0 * np.outer(_Q[:, 0], _Q[:, 0]) + 15.0 * np.outer(_Q[:, 1], _Q[:, 1]) \
    - 0.95 * np.outer(_Q[:, 2], _Q[:, 2])
COV20 = _D20[:, None] * _CORE * _D20[None, :]
PREC20 = np.linalg.inv(COV20)


@njit(SIG, cache=True)
def gauss5(q):  # type: ignore[no-untyped-def]
    g = -(PREC5 @ q)
    return 0.5 * np.dot(q, g), g


@njit(SIG, cache=True)
def gauss20(q):  # type: ignore[no-untyped-def]
    g = -(PREC20 @ q)
    return 0.5 * np.dot(q, g), g


@njit(SIG, cache=True)
def std_normal(q):  # type: ignore[no-untyped-def]
    return -0.5 * np.sum(q * q), -q


def _target(f, n):  # type: ignore[no-untyped-def]
    return SimpleNamespace(n=n, numba_fn=f, logp_dlogp=f.py_func,
                           initial_q=lambda: np.zeros(n))


def _run(f, n, init, seed, **kw):  # type: ignore[no-untyped-def]
    return run_nuts(_target(f, n), draws=1000, tune=1000, chains=2, random_seed=seed,
                    init=init, **kw)


def _step(r) -> float:  # type: ignore[no-untyped-def]
    return float(np.mean(r.stats["step_size"][:, 0]))


def _ess_mean(x: np.ndarray) -> float:
    return _ess(_split(x))


def _whitened_error(minv: np.ndarray, cov: np.ndarray) -> float:
    li = np.linalg.inv(np.linalg.cholesky(cov))
    return float(np.linalg.norm(li @ minv @ li.T - np.eye(cov.shape[0])))


@pytest.fixture(scope="module")
def iso_steps() -> dict[int, float]:
    """Adapted step sizes of NUTS on isotropic standard normals (the 'isotropic optimum')."""
    return {n: _step(_run(std_normal, n, "jitter+adapt_diag", 7)) for n in (2, 5)}


def test_dense_metric_on_correlated_gaussian(iso_steps) -> None:  # type: ignore[no-untyped-def]
    dense = _run(gauss5, 5, "jitter+adapt_full", 1)
    diag = _run(gauss5, 5, "jitter+adapt_diag", 1)
    lam_min = float(np.linalg.eigvalsh(_R5).min())
    # step sizes: dense ~ the isotropic one; diagonal ~ sqrt(lam_min) times it (0.16)
    assert 0.7 < _step(dense) / iso_steps[5] < 1.4
    assert _step(diag) / iso_steps[5] < 3.0 * math.sqrt(lam_min)
    # the adapted matrix is the covariance (whitened error vs. its expectation for 500 draws)
    bound = 3.0 * math.sqrt((5 + 25) / 500)
    for m in dense.inv_mass_matrix():
        assert _whitened_error(m, COV5) < bound
    assert _whitened_error(diag.inv_mass_matrix()[0], COV5) > 5.0
    # efficiency: bulk ESS per draw several times the diagonal metric's
    ess_dense = min(_ess_mean(dense.draws[:, :, j]) for j in range(5))
    ess_diag = min(_ess_mean(diag.draws[:, :, j]) for j in range(5))
    assert ess_dense > 3.0 * ess_diag
    assert ess_dense > 1000
    # posterior: means within 4.5 MCSE, covariance within its sampling error
    x = dense.draws.reshape(-1, 5)
    for j in range(5):
        assert abs(x[:, j].mean()) < 4.5 * _D5[j] / math.sqrt(_ess_mean(dense.draws[:, :, j]))
    assert _whitened_error(np.cov(x.T), COV5) < 3.0 * math.sqrt(30 / ess_dense)


def test_pm_sample_adapt_full_on_a_model(iso_steps) -> None:  # type: ignore[no-untyped-def]
    """``pm.sample(init="jitter+adapt_full")`` end to end: a 2-d normal with correlation 0.99
    is sampled with the isotropic step size, and its covariance is recovered."""
    import gnomon.ppl as pm

    cov = np.array([[1.0, 0.99 * 2.0], [0.99 * 2.0, 4.0]])
    with pm.Model():
        pm.MvNormal("x", mu=np.zeros(2), cov=cov)
        r = pm.sample(1000, tune=1000, chains=2, init="jitter+adapt_full", random_seed=4,
                      progressbar=False, return_inferencedata=False,
                      compute_convergence_checks=False)
    step = float(np.mean(r["sample_stats"]["step_size"][:, 0]))
    assert 0.7 < step / iso_steps[2] < 1.4
    x = np.asarray(r["posterior"]["x"])
    ess = min(_ess_mean(x[:, :, j]) for j in range(2))
    assert ess > 1000
    assert _whitened_error(np.cov(x.reshape(-1, 2).T), cov) < 3.0 * math.sqrt(6 / ess)


def _kappa(minv: np.ndarray, cov: np.ndarray) -> float:
    """Condition number of the covariance preconditioned by the metric ``minv``."""
    a = np.linalg.solve(np.linalg.cholesky(minv), np.linalg.cholesky(cov))
    ev = np.linalg.eigvalsh(a @ a.T)
    return float(ev.max() / ev.min())


def test_low_rank_metric_finds_the_correlated_directions() -> None:
    lr = _run(gauss20, 20, "jitter+adapt_low_rank", 2, max_rank=5)
    diag = _run(gauss20, 20, "jitter+adapt_diag", 2)
    assert lr.meta["metric_lam"].shape == (2, 5)
    # the best rank-5 metric of this form (exact variances; the 5 eigenpairs of the true
    # correlation matrix farthest from 1 in log scale) and the exact diagonal metric
    sd = np.sqrt(np.diag(COV20))
    w, v = np.linalg.eigh(COV20 / np.outer(sd, sd))
    keep = np.argsort(-np.abs(np.log(w)))[:5]
    core = np.eye(20) + (v[:, keep] * (w[keep] - 1.0)) @ v[:, keep].T
    k_oracle = _kappa(sd[:, None] * core * sd[None, :], COV20)
    assert _kappa(np.diag(sd ** 2), COV20) > 10.0 * k_oracle
    for m in lr.inv_mass_matrix():
        assert _kappa(m, COV20) < 1.5 * k_oracle
    for m in diag.inv_mass_matrix():
        assert _kappa(m, COV20) > 10.0 * k_oracle
    # the step size grows about like sqrt(kappa_diag / kappa_low_rank) (~4)
    assert _step(lr) > 2.0 * _step(diag)
    x = lr.draws.reshape(-1, 20)
    for j in range(20):
        assert abs(x[:, j].mean()) < 4.5 * sd[j] / math.sqrt(_ess_mean(lr.draws[:, :, j]))


def test_frozen_coordinates_stay_fixed() -> None:
    """A coordinate with inverse mass 0 (a compound step's non-NUTS coordinate) is never moved
    by NUTS, with every metric."""
    from gnomon.ppl.sampling import _Chain, _kernel_logp

    for metric, rank in ((0, 0), (1, 5), (2, 3)):
        cfg = np.zeros(nuts.N_SETTINGS)
        cfg[nuts.C_TARGET] = 0.8
        cfg[nuts.C_MAXDEPTH] = 10
        cfg[nuts.C_MAX_DH] = 1000.0
        cfg[nuts.C_METRIC] = metric
        cfg[nuts.C_TUNE] = 300
        from gnomon.ppl.adaptation import window_schedule

        frozen = np.array([False, True, False, False, True])
        q0 = np.array([0.1, 0.7, -0.2, 0.3, -1.1])
        ch = _Chain(_kernel_logp(gauss5, 5), gauss5.py_func, q0, np.random.default_rng(3), cfg,
                    window_schedule(300, 100), 1.0,
                    rank=rank, frozen=frozen)
        ch.advance(400)
        assert np.all(ch.out_q[:, frozen] == q0[frozen])
        assert np.all(ch.minv[frozen] == 0.0)
        assert np.std(ch.out_q[:, ~frozen], axis=0).min() > 0.1


def test_python_fallback_gives_the_same_dense_and_low_rank_draws() -> None:
    for init in ("jitter+adapt_full", "jitter+adapt_low_rank"):
        a = run_nuts(_target(gauss5, 5), draws=50, tune=200, chains=1, random_seed=3, init=init)
        b = run_nuts(_target(gauss5, 5), draws=50, tune=200, chains=1, random_seed=3, init=init,
                     compiled=False)
        assert np.array_equal(a.draws, b.draws)
        assert np.array_equal(a.inv_mass_matrix(), b.inv_mass_matrix())
        assert not np.allclose(a.inv_mass_matrix()[0], np.eye(5))  # the metric was adapted
