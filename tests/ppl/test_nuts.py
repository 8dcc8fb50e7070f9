"""NUTS on plain log-densities (no model): posterior moments against analytic values with bounds
from the Monte Carlo standard error, divergences on Neal's funnel, adaptation, seeds, the
Python fallback, interruption, diagnostics against ArviZ.

The log-densities are small ``@njit`` functions with the kernel's signature, so the only big
compile is the sampler kernel itself (once per machine: Numba's disk cache).
"""

from __future__ import annotations

import _thread
import logging
import math
import signal
from types import SimpleNamespace

import numpy as np
import pytest
from numba import njit

from gnomon.errors import GnomonValueError
from gnomon.ppl import nuts
from gnomon.ppl.adaptation import COLLECT, FIND_STEP, TUNE_END, WINDOW_END, window_schedule
from gnomon.ppl.sampling import bind_numba_program, ess_bulk, rhat, run_nuts

SIG = nuts.ARRAY_LOGP_SIG


@njit(SIG, cache=True)
def std_normal(q):  # type: ignore[no-untyped-def]
    return -0.5 * np.sum(q * q), -q


# correlated 2-d Gaussian: sds 1 and 3, correlation 0.9
COV = np.array([[1.0, 0.9 * 3.0], [0.9 * 3.0, 9.0]])
PREC = np.linalg.inv(COV)


@njit(SIG, cache=True)
def corr_gauss(q):  # type: ignore[no-untyped-def]
    g = -(PREC @ q)
    return 0.5 * np.dot(q, g), g


@njit(SIG, cache=True)
def funnel(q):  # type: ignore[no-untyped-def]
    # Neal's funnel: v ~ N(0, 3), x_i ~ N(0, exp(v / 2)), i = 1..9
    v = q[0]
    x = q[1:]
    k = x.shape[0]
    lp = -v * v / 18.0 - 0.5 * k * v - 0.5 * np.exp(-v) * np.sum(x * x)
    g = np.empty(q.shape[0])
    g[0] = -v / 9.0 - 0.5 * k + 0.5 * np.exp(-v) * np.sum(x * x)
    g[1:] = -np.exp(-v) * x
    return lp, g


def target(f, n, start=None):  # type: ignore[no-untyped-def]
    q0 = np.zeros(n) if start is None else start
    return SimpleNamespace(n=n, numba_fn=f, logp_dlogp=f.py_func, initial_q=lambda: q0.copy())


def mcse_ok(x: np.ndarray, true_mean: float, true_sd: float, k: float = 4.0) -> None:
    """Mean and sd of ``x`` (chains, draws) within ``k`` Monte Carlo standard errors."""
    ess = ess_bulk(x)
    mean_se = true_sd / math.sqrt(ess)
    assert abs(x.mean() - true_mean) < k * mean_se, (x.mean(), true_mean, mean_se, ess)
    # sd of a normal sample: se(sd) ~ sd / sqrt(2 ess)
    sd_se = true_sd / math.sqrt(2.0 * ess)
    assert abs(x.std() - true_sd) < k * sd_se, (x.std(), true_sd, sd_se, ess)


def test_standard_normal_10d() -> None:
    r = run_nuts(target(std_normal, 10), draws=1000, tune=500, chains=2, random_seed=11)
    assert r.compiled and r.draws.shape == (2, 1000, 10)
    for j in range(10):
        mcse_ok(r.draws[:, :, j], 0.0, 1.0)
    assert r.stats["diverging"].sum() == 0
    # the adapted metric approaches the identity
    assert np.all(np.abs(r.inv_mass - 1.0) < 0.35)


def test_correlated_gaussian() -> None:
    r = run_nuts(target(corr_gauss, 2), draws=1500, tune=1000, chains=2, random_seed=3)
    mcse_ok(r.draws[:, :, 0], 0.0, 1.0)
    mcse_ok(r.draws[:, :, 1], 0.0, 3.0)
    x = r.draws.reshape(-1, 2)
    corr = np.corrcoef(x.T)[0, 1]
    # se of a correlation coefficient ~ (1 - rho^2) / sqrt(ess)
    ess = min(ess_bulk(r.draws[:, :, 0]), ess_bulk(r.draws[:, :, 1]))
    assert abs(corr - 0.9) < 4 * (1 - 0.81) / math.sqrt(ess)
    # the diagonal metric learns the marginal variances (1 and 9), roughly
    assert np.all(np.abs(np.log(r.inv_mass.mean(0) / np.array([1.0, 9.0]))) < 0.5)


def test_funnel_diverges() -> None:
    r = run_nuts(target(funnel, 10, np.full(10, 0.5)), draws=500, tune=500, chains=2,
                 random_seed=5)
    div = np.concatenate([r.warmup_stats["diverging"], r.stats["diverging"]], axis=1)
    err = np.concatenate([r.warmup_stats["max_energy_error"], r.stats["max_energy_error"]],
                         axis=1)
    assert div.sum() > 0
    # a transition is divergent exactly when a leaf's energy error exceeded 1000
    assert np.all(err[div.astype(bool)] > 1000)
    assert np.all(np.abs(err[~div.astype(bool)]) <= 1000)


def test_standard_normal_does_not_diverge() -> None:
    """The non-centered counterpart of the funnel (independent standard normals)."""
    r = run_nuts(target(std_normal, 10), draws=500, tune=500, chains=2, random_seed=5)
    # (early tuning tries step sizes up to 10x too large: divergences there are expected)
    assert r.stats["diverging"].sum() == 0


def test_seed_reproducible_and_independent_of_cores() -> None:
    t = target(corr_gauss, 2)
    a = run_nuts(t, draws=200, tune=200, chains=2, cores=2, random_seed=42)
    b = run_nuts(t, draws=200, tune=200, chains=2, cores=1, random_seed=42)
    c = run_nuts(t, draws=200, tune=200, chains=2, random_seed=43)
    np.testing.assert_array_equal(a.draws, b.draws)
    np.testing.assert_array_equal(a.stats["step_size"], b.stats["step_size"])
    assert not np.array_equal(a.draws, c.draws)
    # chains differ from each other
    assert not np.array_equal(a.draws[0], a.draws[1])


def test_python_fallback_same_algorithm() -> None:
    """The Python loop runs the same source: with the same seed it makes the same draws."""
    t = target(std_normal, 3)
    a = run_nuts(t, draws=30, tune=30, chains=1, random_seed=7, compiled=True)
    b = run_nuts(t, draws=30, tune=30, chains=1, random_seed=7, compiled=False)
    assert not b.compiled
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.stats["n_steps"], b.stats["n_steps"])


@pytest.mark.parametrize("target_accept", [0.8, 0.95])
def test_step_size_adaptation_reaches_target(target_accept: float) -> None:
    r = run_nuts(target(std_normal, 10), draws=500, tune=1000, chains=2, random_seed=1,
                 target_accept=target_accept)
    # during the terminal window dual averaging holds the mean acceptance at the target
    w = r.warmup_stats["acceptance_rate"][:, 950:]
    assert abs(w.mean() - target_accept) < 0.06, w.mean()
    # the averaged step size fixed after tuning gives about the target (a little above it:
    # the average over the oscillating iterates is conservative, as Stan's)
    acc = r.stats["acceptance_rate"].mean()
    assert target_accept - 0.05 < acc < min(target_accept + 0.1, 1.0), acc
    # the step size is constant after tuning
    assert np.all(r.stats["step_size"] == r.stats["step_size"][:, :1])


def test_higher_target_gives_smaller_steps() -> None:
    t = target(corr_gauss, 2)
    lo = run_nuts(t, draws=100, tune=500, chains=1, random_seed=2, target_accept=0.7)
    hi = run_nuts(t, draws=100, tune=500, chains=1, random_seed=2, target_accept=0.97)
    assert hi.stats["step_size"][0, 0] < lo.stats["step_size"][0, 0]
    assert hi.stats["n_steps"].mean() > lo.stats["n_steps"].mean()


def test_max_treedepth() -> None:
    r = run_nuts(target(corr_gauss, 2), draws=100, tune=100, chains=1, random_seed=4,
                 max_treedepth=2, target_accept=0.99)
    assert r.stats["tree_depth"].max() <= 2
    assert r.stats["n_steps"].max() <= 3  # 1 + 2 leapfrog steps
    assert (r.stats["tree_depth"] == 2).any()


def test_window_schedule() -> None:
    s = window_schedule(1000, 5)
    assert s.shape == (1005,)
    assert s[0] & FIND_STEP and s[999] & TUNE_END and not s[1000:].any()
    collect = np.flatnonzero(s & COLLECT)
    assert collect[0] == 75 and collect[-1] == 949  # Stan's buffers: 75 and 50
    assert list(np.flatnonzero(s & WINDOW_END)) == [99, 149, 249, 449, 949]
    short = window_schedule(100, 0)  # 15 % / 75 % / 10 %
    c = np.flatnonzero(short & COLLECT)
    assert c[0] == 15 and c[-1] == 89
    assert not window_schedule(0, 10).any()


def test_interrupt_returns_draws_so_far(caplog: pytest.LogCaptureFixture) -> None:
    # Ctrl-C arrives while the chains run: the log-density itself interrupts the main thread
    # after a fixed number of evaluations (never during setup, whatever the machine's load)
    calls = [0]

    def interrupting(q):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 20_000:
            _thread.interrupt_main()
        return std_normal.py_func(q)

    t = SimpleNamespace(n=1, numba_fn=None, logp_dlogp=interrupting,
                        initial_q=lambda: np.zeros(1))
    # Python's own Ctrl-C handler, as in a user's session (pytest-xdist workers ignore SIGINT,
    # and interrupt_main does nothing then)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with caplog.at_level(logging.WARNING, logger="gnomon.ppl"):
            r = run_nuts(t, draws=200_000, tune=10, chains=2, random_seed=1, compiled=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert r.interrupted
    assert 0 < r.draws.shape[1] < 200_000
    assert r.draws.shape[0] == 2 and r.stats["lp"].shape == r.draws.shape[:2]
    assert np.all(np.isfinite(r.draws))
    assert "interrupted" in caplog.text


def test_progress_line(capsys: pytest.CaptureFixture[str]) -> None:
    run_nuts(target(std_normal, 2), draws=50, tune=50, chains=2, random_seed=1,
             progressbar=True)
    err = capsys.readouterr().err
    assert "chain 0: 100/100 (draw)" in err and "chain 1: 100/100" in err
    assert "draws/s" in err and "0 div" in err
    run_nuts(target(std_normal, 2), draws=5, tune=5, chains=1, progressbar=False)
    assert capsys.readouterr().err == ""


def test_bad_arguments() -> None:
    t = target(std_normal, 2)
    with pytest.raises(GnomonValueError, match=r"(?s)init='advi'.*Hint"):
        run_nuts(t, init="advi")
    with pytest.raises(GnomonValueError, match=r"(?s)target_accept.*Hint"):
        run_nuts(t, target_accept=1.5)
    with pytest.raises(GnomonValueError, match=r"(?s)random_seed has 3 entries.*Hint"):
        run_nuts(t, chains=2, random_seed=[1, 2, 3])


def test_initial_point_with_zero_density() -> None:
    @njit(SIG)
    def half(q):  # type: ignore[no-untyped-def]
        if q[0] < 100.0:
            return -np.inf, np.zeros(1)
        return -q[0], -np.ones(1)

    with pytest.raises(GnomonValueError, match=r"(?s)initial point is -inf.*Hint"):
        run_nuts(target(half, 1), draws=10, tune=10, chains=1)


def test_diagnostics_match_arviz() -> None:
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(0)
    # AR(1) chains with phi = 0.7, one chain shifted: ESS below the draws, R-hat above 1
    e = rng.normal(size=(4, 800))
    x = np.zeros_like(e)
    for t in range(1, 800):
        x[:, t] = 0.7 * x[:, t - 1] + e[:, t]
    x[0] += 0.3
    assert ess_bulk(x) == pytest.approx(float(az.ess(x, method="bulk")), rel=1e-6)
    assert rhat(x) == pytest.approx(float(az.rhat(x, method="rank")), rel=1e-6)


# --- simulation-based calibration ---------------------------------------------------------
# K replications of a small non-centered hierarchical model, each with its own prior draw and
# data, sampled jointly (the posterior factorises, so the joint chain's marginals are each
# replication's posterior): one compile for all of them.
#   mu ~ N(0, 1), tau ~ HalfNormal(1) (sampled as log tau, with its Jacobian),
#   z_j ~ N(0, 1), y_j ~ N(mu + tau z_j, 1), j = 1..J
SBC_K, SBC_J = 100, 4
_sbc_rng = np.random.default_rng(2024)
SBC_MU = _sbc_rng.normal(size=SBC_K)
SBC_TAU = np.abs(_sbc_rng.normal(size=SBC_K))
SBC_Y = (SBC_MU[:, None] + SBC_TAU[:, None] * _sbc_rng.normal(size=(SBC_K, SBC_J))
         + _sbc_rng.normal(size=(SBC_K, SBC_J)))


@njit(SIG, cache=True)
def sbc_joint(q):  # type: ignore[no-untyped-def]
    d = 2 + SBC_J
    g = np.empty(q.shape[0])
    lp = 0.0
    for k in range(SBC_K):
        mu = q[k * d]
        lt = q[k * d + 1]
        tau = np.exp(lt)
        lp += -0.5 * mu * mu - 0.5 * tau * tau + lt
        gmu = -mu
        gtau = -tau
        for j in range(SBC_J):
            z = q[k * d + 2 + j]
            r = SBC_Y[k, j] - mu - tau * z
            lp += -0.5 * z * z - 0.5 * r * r
            gmu += r
            gtau += r * z
            g[k * d + 2 + j] = -z + r * tau
        g[k * d] = gmu
        g[k * d + 1] = gtau * tau + 1.0
    return lp, g


def test_simulation_based_calibration() -> None:
    """Ranks of the true values among thinned posterior draws are uniform (Talts et al.
    2018): chi-square over 10 bins, for mu and tau of 100 replications."""
    scipy_stats = pytest.importorskip("scipy.stats")
    d = 2 + SBC_J
    r = run_nuts(target(sbc_joint, SBC_K * d), draws=1000, tune=1000, chains=1,
                 random_seed=9)
    draws = r.draws[0, ::10]  # 100 roughly independent draws
    for col, truth in ((0, SBC_MU), (1, np.log(SBC_TAU))):
        ranks = (draws[:, col::d] < truth[None, :]).sum(axis=0)  # 0..100 per replication
        counts = np.bincount(np.minimum(ranks * 10 // 101, 9), minlength=10)
        p = scipy_stats.chisquare(counts).pvalue
        assert p > 0.001, (col, counts, p)


def test_error_in_the_log_density_is_raised() -> None:
    calls = [0]

    def bad(q):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] > 50:
            raise ZeroDivisionError("model failed")
        return -0.5 * float(q @ q), -q

    t = SimpleNamespace(n=2, numba_fn=None, logp_dlogp=bad, initial_q=lambda: np.zeros(2))
    with pytest.raises(ZeroDivisionError, match="model failed"):
        run_nuts(t, draws=100, tune=100, chains=2, random_seed=1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_bound_program_error_is_raised() -> None:
    """A program bound through its entry address cannot pass its exception through (Numba
    prints it); the wrapper detects the empty result and raises with a hint."""

    @njit
    def prog(q, a):  # type: ignore[no-untyped-def]
        if q[0] > 1.5:
            raise ValueError("bad parameter")
        return np.array(-0.5 * np.sum((q - a) ** 2)), a - q

    f = bind_numba_program(prog, [np.zeros(2)], 2)
    q, g = np.array([1.0, 0.5]), np.zeros(2)
    lp = f(q.ctypes.data, g.ctypes.data)
    assert lp == -0.625 and g.tolist() == [-1.0, -0.5]
    t = SimpleNamespace(n=2, numba_fn=f, logp_dlogp=None, initial_q=lambda: np.zeros(2))
    with pytest.raises(ValueError, match=r"(?s)raised an error during sampling.*Hint"):
        run_nuts(t, draws=500, tune=200, chains=1, random_seed=1)
