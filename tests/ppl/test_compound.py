"""Compound steps: PyMC's automatic assignment (NUTS + Metropolis-type steps for discrete
variables), user-given steps, their statistics, and errors. Posteriors are computed exactly by
enumeration over the discrete variable; bounds are 4.5 Monte Carlo standard errors (ESS of the
mean, split chains, Geyer's initial monotone sequence)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats
from scipy.special import gammaln

import gnomon.ppl as pm
from gnomon.errors import GnomonValueError
from gnomon.ppl import nuts
from gnomon.ppl.compound import assign_step_methods, make_plan
from gnomon.ppl.metropolis import B_PROPORTIONAL
from gnomon.ppl.sampling import (
    _ess,
    _kernel_logp,
    _model_kernel_logp,
    _python_logp,
    _split,
    run_nuts,
)

KW = {"progressbar": False, "return_inferencedata": False, "compute_convergence_checks": False}


def _check_mean(x: np.ndarray, mean: float, sd: float) -> None:
    ess = _ess(_split(np.asarray(x, dtype=np.float64)))
    assert ess > 200
    assert abs(float(np.mean(x)) - mean) < 4.5 * sd / math.sqrt(ess), (np.mean(x), mean, ess)


def test_poisson_latent_with_gamma_rate_nuts_plus_metropolis() -> None:
    """lam ~ Gamma(3, 1), k ~ Poisson(lam), y ~ N(k, 1), y = 5: k's marginal prior is
    NegativeBinomial(3, 1/2), so p(k | y) is exact by enumeration, and
    E[lam | y] = (3 + E[k | y]) / 2."""
    with pm.Model() as m:
        lam = pm.Gamma("lam", alpha=3.0, beta=1.0)
        k = pm.Poisson("k", lam)
        pm.Normal("y", mu=k, sigma=1.0, observed=np.array([5.0]))
    steps = assign_step_methods(m, None)
    assert [type(s).__name__ for s, _ in steps] == ["NUTS", "Metropolis"]
    with m:
        r = pm.sample(2000, tune=1000, chains=2, random_seed=1, **KW)
    ks = np.arange(80)
    logw = (gammaln(ks + 3) - gammaln(ks + 1) - gammaln(3) - (ks + 3) * math.log(2)
            + stats.norm.logpdf(5.0, ks, 1.0))
    w = np.exp(logw - logw.max())
    w /= w.sum()
    ek = float(np.sum(ks * w))
    sdk = math.sqrt(float(np.sum(ks ** 2 * w)) - ek ** 2)
    _check_mean(r["posterior"]["k"], ek, sdk)
    # lam | k ~ Gamma(3 + k, 2): E = (3 + E k) / 2, Var = E[(3 + k) / 4] + Var(k) / 4
    _check_mean(r["posterior"]["lam"], (3 + ek) / 2, math.sqrt((3 + ek) / 4 + sdk ** 2 / 4))
    st = r["sample_stats"]
    for name in ("diverging", "tree_depth", "step_size", "accept", "accepted", "scaling"):
        assert st[name].shape == (2, 2000), name
    assert 0.1 < float(st["accepted"].mean()) < 0.9
    assert np.all(r["posterior"]["k"] >= 0)
    assert np.all(np.asarray(r["posterior"]["k"]) == np.round(r["posterior"]["k"]))


def test_bernoulli_switch_binary_gibbs_and_categorical() -> None:
    """mu ~ N(0, 1), z ~ Bernoulli(0.5), c ~ Categorical([.2, .3, .5]),
    y1 ~ N(mu + 2 z, 1) = 2.5, y2 ~ N(m[c], 1) = 1 with m = (-2, 0, 2).

    z: y1 | z ~ N(2 z, sqrt 2), so P(z = 1 | y1) = 1 / (1 + exp(-1.5)) and
    E[mu | y1] = (2.5 - 2 P) / 2; c: p(c | y2) by enumeration."""
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        z = pm.Bernoulli("z", 0.5)
        c = pm.Categorical("c", p=np.array([0.2, 0.3, 0.5]))
        pm.Normal("y1", mu=mu + 2.0 * z, sigma=1.0, observed=np.array([2.5]))
        pm.Normal("y2", mu=pm.math.stack([-2.0, 0.0, 2.0])[c], sigma=1.0,
                  observed=np.array([1.0]))
    names = [type(s).__name__ for s, _ in assign_step_methods(m, None)]
    assert names == ["NUTS", "BinaryGibbsMetropolis", "CategoricalGibbsMetropolis"]
    pz = 1.0 / (1.0 + math.exp(-1.5))
    pc = np.array([0.2, 0.3, 0.5]) * stats.norm.pdf(1.0, [-2.0, 0.0, 2.0], 1.0)
    pc /= pc.sum()
    mean_c = float(pc @ np.arange(3))
    sd_c = math.sqrt(float(pc @ np.arange(3) ** 2) - mean_c ** 2)
    with m:
        r = pm.sample(2000, tune=500, chains=2, random_seed=2,
                      step=pm.CategoricalGibbsMetropolis([c], proposal="proportional"), **KW)
    # the uniform proposal (PyMC's default) on the same compiled programs
    plan = make_plan(m, None, None)
    plan.numba_lp = _model_kernel_logp(plan.fn_lp)
    assert plan.tables[0][2, B_PROPORTIONAL] == 0
    raw = run_nuts(plan.fn, draws=2000, tune=500, chains=2, random_seed=2, plan=plan,
                   numba_fn=_model_kernel_logp(plan.fn))
    uniform = plan.fn.unflatten_many(raw.draws)
    for post in (r["posterior"], uniform):
        _check_mean(post["z"], pz, math.sqrt(pz * (1 - pz)))
        _check_mean(post["c"], mean_c, sd_c)
        # mu | y1 is a two-component mixture: mean (2.5 - 2 P) / 2, var 1/2 + P (1 - P)
        _check_mean(post["mu"], (2.5 - 2 * pz) / 2, math.sqrt(0.5 + pz * (1 - pz)))
    # Gibbs steps report no statistics (as PyMC's): only NUTS's
    assert "accept" not in r["sample_stats"] and "diverging" in r["sample_stats"]


def test_metropolis_on_continuous_normals() -> None:
    """Metropolis alone (two blocks: a scalar and an elementwise vector) on independent
    normals; the statistics of two Metropolis blocks stack on a last axis (as PyMC)."""
    with pm.Model():
        a = pm.Normal("a", 1.0, 2.0)
        b = pm.Normal("b", mu=np.array([-1.0, 3.0]), sigma=np.array([0.5, 1.0]), shape=2)
        r = pm.sample(3000, tune=1000, chains=2, random_seed=3,
                      step=[pm.Metropolis(vars=[a]), pm.Metropolis(vars=[b])], **KW)
    post = r["posterior"]
    _check_mean(post["a"], 1.0, 2.0)
    _check_mean(post["b"][:, :, 0], -1.0, 0.5)
    _check_mean(post["b"][:, :, 1], 3.0, 1.0)
    st = r["sample_stats"]
    assert sorted(st) == ["accept", "accepted", "scaling"]
    assert st["accept"].shape == (2, 3000, 2)
    # the scaling was tuned away from 1 (optimal random-walk scale ~ 2.4 sd)
    assert np.all(st["scaling"][:, -1, 0] > 1.2)
    # sd within the sampling error of a standard deviation (ESS from the squares)
    x = np.asarray(post["a"])
    ess = _ess(_split((x - 1.0) ** 2))
    assert abs(float(np.std(x)) - 2.0) < 4.5 * 2.0 / math.sqrt(2 * ess)


def test_unsupported_step_assignments() -> None:
    with pm.Model() as m:
        x = pm.Normal("x", 0.0, 1.0)
        k = pm.Poisson("k", 2.0)
    with m, pytest.raises(GnomonValueError, match=r"(?s)step=.*not supported.*Hint"):
        pm.sample(10, tune=10, step=object(), **KW)
    with m, pytest.raises(GnomonValueError, match=r"(?s)NUTS cannot sample.*'k'.*Hint"):
        pm.sample(10, tune=10, step=pm.NUTS(vars=[k]), **KW)
    with m, pytest.raises(GnomonValueError, match=r"(?s)BinaryGibbsMetropolis.*'k'.*Hint"):
        pm.sample(10, tune=10, step=pm.BinaryGibbsMetropolis([k]), **KW)
    with m, pytest.raises(GnomonValueError, match=r"(?s)'x' is given to two.*Hint"):
        pm.sample(10, tune=10, step=[pm.Metropolis([x]), pm.NUTS([x])], **KW)
    with m, pytest.raises(GnomonValueError, match=r"(?s)S=.*1 coordinates.*Hint"):
        pm.sample(10, tune=10, step=pm.Metropolis([x], S=np.ones(3)), **KW)


@njit(nuts.ARRAY_LOGP_SIG, cache=True)
def _normal_given_count(q):  # type: ignore[no-untyped-def]
    # x | k ~ N(k, 1), k ~ Poisson(3): the kernel's type, discrete k stored as a float64
    x, k = q[0], q[1]
    g = np.zeros(2)
    if k < 0.0:
        return -np.inf, g
    g[0] = -(x - k)
    return -0.5 * (x - k) ** 2 + k * math.log(3.0) - math.lgamma(k + 1.0), g


def _kernel_pair(f):  # type: ignore[no-untyped-def]
    # (the kernel's log-density, the same as f(q) -> (lp, grad) for Python): compiled, or the
    # Python fallback for a plain Python function
    if hasattr(f, "py_func"):
        return _kernel_logp(f, 2), f.py_func
    return _python_logp(f, 2), f


def _chain_tables() -> tuple[np.ndarray, ...]:
    from gnomon.ppl import metropolis as mh

    blocks = np.zeros((2, mh.N_BCOLS), dtype=np.int64)
    blocks[0, mh.B_KIND] = mh.K_NUTS
    blocks[1, mh.B_KIND] = mh.K_METROPOLIS
    blocks[1, mh.B_LEN] = 1
    blocks[1, mh.B_TUNE] = 1
    blocks[1, mh.B_INTERVAL] = blocks[1, mh.B_UNTIL] = 20
    coord = np.zeros((1, mh.N_CCOLS))
    coord[0, [mh.C_S, mh.C_SCALE, mh.C_DISC]] = 1.0
    return blocks, np.array([1], dtype=np.int64), coord, np.zeros(2)


def test_chunked_kernel_calls_equal_one_call_and_python() -> None:
    """The chain kernel with a NUTS and a Metropolis block gives the same draws whether it runs
    all iterations in one call, one iteration per call (the state after a Metropolis block is
    carried across calls), or as Python (the fallback)."""
    from gnomon.ppl.adaptation import window_schedule
    from gnomon.ppl.sampling import _Chain

    def run(f, chunk):  # type: ignore[no-untyped-def]
        cfg = np.array([0.8, 10, 1000.0, 0, 60])
        ch = _Chain(*_kernel_pair(f), np.array([0.5, 2.0]), np.random.default_rng(11), cfg,
                    window_schedule(60, 40), 1.0, frozen=np.array([False, True]),
                    tables=_chain_tables(), n_mh=3)
        for a in range(0, 100, chunk):
            nuts.run_chain(ch.f, ch.f_lp, ch.q, ch.g, ch.sc, ch.minv, ch.u, ch.lam, ch.w_mean,
                           ch.w_m2, ch.cfg, ch.schedule, ch.out_q, ch.out_stats, ch.rng, a,
                           min(100, a + chunk), ch.blocks, ch.bidx, ch.bcoord, ch.bf,
                           ch.out_mh)
        return ch.out_q, ch.out_mh

    q1, s1 = run(_normal_given_count, 100)
    q2, s2 = run(_normal_given_count, 1)
    q3, s3 = run(_normal_given_count.py_func, 7)
    assert np.array_equal(q1, q2) and np.array_equal(s1, s2)
    assert np.allclose(q1, q3, rtol=0, atol=1e-9) and np.allclose(s1, s3, rtol=0, atol=1e-9)
    assert len(np.unique(q1[:, 1])) > 2  # the count moved


def test_slice_on_known_posteriors() -> None:
    """pm.Slice on mu (normal-normal: N(sum(y) / (n + 1/4), 1 / (n + 1/4)) posterior) and on
    s ~ Gamma(3, 2) (log-transformed, no data: the prior); means and sds within Monte Carlo
    error, PyMC's slice statistics. (Slice without NUTS compiles one program, the log-density
    alone: the NUTS + Slice table is checked in the next test.)"""
    y = np.array([0.3, 1.9, 1.1, 0.7])
    prec = len(y) + 0.25
    with pm.Model() as m:
        mu = pm.Normal("mu", 0.0, 2.0)
        s = pm.Gamma("s", alpha=3.0, beta=2.0)
        pm.Normal("y", mu, 1.0, observed=y)
    assert [type(st).__name__ for st, _ in assign_step_methods(m, pm.Slice())] == ["Slice"]
    with m:
        r = pm.sample(2000, tune=500, chains=2, random_seed=5, step=pm.Slice(), **KW)
    post = r["posterior"]
    for name, mean, sd in (("mu", y.sum() / prec, 1 / math.sqrt(prec)),
                           ("s", 1.5, math.sqrt(3.0) / 2)):
        x = np.asarray(post[name])
        _check_mean(x, mean, sd)
        ess = _ess(_split((x - mean) ** 2))
        assert abs(float(np.std(x)) - sd) < 4.5 * sd / math.sqrt(2 * ess), name
    st = r["sample_stats"]
    assert sorted(st) == ["nstep_in", "nstep_out"] and st["nstep_in"].shape == (2, 2000)
    # both coordinates step out or shrink at least once per sweep on average
    assert float(st["nstep_out"].mean() + st["nstep_in"].mean()) > 1.0
    with m, pytest.raises(GnomonValueError, match=r"(?s)w=.*positive.*Hint"):
        pm.Slice([mu, s], w=-1.0)


def test_slice_rejects_discrete_and_python_fallback_equals_kernel() -> None:
    from gnomon.ppl import metropolis as mh
    from gnomon.ppl.adaptation import window_schedule
    from gnomon.ppl.sampling import _Chain

    with pm.Model():
        k = pm.Poisson("k", 2.0)
        with pytest.raises(GnomonValueError, match=r"(?s)Slice samples continuous.*'k'.*Hint"):
            pm.sample(10, tune=10, step=pm.Slice([k]), **KW)

    blocks = np.zeros((2, mh.N_BCOLS), dtype=np.int64)
    blocks[0, mh.B_KIND] = mh.K_NUTS
    blocks[1, mh.B_KIND] = mh.K_SLICE
    blocks[1, mh.B_LEN] = 1
    blocks[1, mh.B_TUNE] = 1
    coord = np.zeros((1, mh.N_CCOLS))
    coord[0, mh.C_SCALE] = 1.0
    tables = (blocks, np.array([1], dtype=np.int64), coord, np.array([0.0, np.inf]))

    def run(f):  # type: ignore[no-untyped-def]
        cfg = np.array([0.8, 10, 1000.0, 0, 40])
        ch = _Chain(*_kernel_pair(f), np.array([0.5, 2.0]), np.random.default_rng(3), cfg,
                    window_schedule(40, 30), 1.0, frozen=np.array([False, True]),
                    tables=tables, n_mh=2)
        ch.advance(70)
        return ch.out_q, ch.out_mh, ch.bcoord

    # x | k ~ N(k, 1) with the "count" k sliced as a continuous coordinate (k >= 0)
    q1, s1, c1 = run(_normal_given_count)
    q2, s2, c2 = run(_normal_given_count.py_func)
    assert np.allclose(q1, q2, rtol=0, atol=1e-9) and np.array_equal(s1, s2)
    assert len(np.unique(q1[:, 1])) > 30 and np.all(q1[:, 1] >= 0)
    assert c1[0, mh.C_SCALE] != 1.0 and np.allclose(c1, c2)  # the width was tuned
