"""Measurable shape operations, cumsum, order statistics, scan time series, and rewrites at the
random-variable level (with KS tests that the rewritten variable has the same distribution)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.logprob.rewriting import rewrite_measurable
from gnomon.random.op import RandomVariable
from gnomon.testing import check_grads

# --- stack / concatenate / dimshuffle / cumsum -------------------------------------------------


def test_concatenate_stack_transpose() -> None:
    a, b = gr.normal(0.0, 1.0, size=2), gr.exponential(2.0, size=3)
    vals = np.array([0.1, -0.3, 0.5, 1.0, 2.0])
    m = gr.normal(np.arange(3.0), 1.0, size=(2, 3))
    mv = np.random.default_rng(0).normal(size=(3, 2))
    s = gt.stack([gr.normal(0.0, 1.0), gr.normal(1.0, 2.0)])
    outs = [glp.logp(gt.concatenate([a, b]), vals), glp.logp(m.T, mv),
            glp.logp(s, np.array([0.5, 0.5])),
            glp.logp(gt.stack([gr.normal(0.0, 1.0, size=2), gr.normal(1.0, 1.0, size=2)]),
                     np.ones((2, 2)))]
    j, t, sv, sm = gnomon.function([], outs, mode="numpy")()
    np.testing.assert_allclose(j, np.r_[st.norm.logpdf(vals[:2]),
                                        st.expon(scale=2).logpdf(vals[2:])])
    np.testing.assert_allclose(t, st.norm(np.arange(3.0)[:, None], 1).logpdf(mv))
    np.testing.assert_allclose(sv, [st.norm.logpdf(0.5), st.norm(1, 2).logpdf(0.5)])
    np.testing.assert_allclose(sm, st.norm([[0.0], [1.0]], 1).logpdf(np.ones((2, 2))))


def test_constant_index_into_a_stack_is_the_component() -> None:
    a, b = gr.normal(0.0, 1.0), gr.exponential(2.0)
    s = gt.stack([a, b, a])
    got = gnomon.function([], [glp.logp(s[1], 0.5), glp.logp(s[-1], 0.5)], mode="numpy")()
    np.testing.assert_allclose(got, [st.expon(scale=2.0).logpdf(0.5), st.norm.logpdf(0.5)])


def test_stack_of_a_variable_with_itself_is_not_measurable() -> None:
    x = gr.normal(0.0, 1.0)
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)MakeVector.*Hint:"):
        glp.logp(gt.stack([x, x]), np.zeros(2))


def test_cumsum_is_a_gaussian_random_walk() -> None:
    w = gt.cumsum(gr.normal(0.2, 0.5, size=(2, 4)), axis=1)
    v = gt.dmatrix("v")
    vals = np.array([[0.1, 0.5, 0.2, 1.0], [-1.0, -0.5, 0.0, 0.3]])
    lp = gnomon.function([v], glp.logp(w, v), mode="numpy")(vals)
    inc = np.diff(vals, axis=1, prepend=0.0)
    np.testing.assert_allclose(lp, st.norm(0.2, 0.5).logpdf(inc), rtol=1e-12)
    check_grads(lambda vv: glp.logp(gt.cumsum(gr.normal(0.0, 1.0, size=3)), vv),
                [np.array([0.3, -0.2, 0.8])])


# --- order statistics -------------------------------------------------------------------------


def test_max_of_iid_uniforms_is_beta_and_min_of_exponentials() -> None:
    mx = gt.max(gr.uniform(0.0, 1.0, size=4))
    mn = gt.min(gr.exponential(1.0, size=(4, 3)), axis=0)
    s, v = gt.dscalar("s"), gt.dvector("v")
    vals = np.array([0.1, 0.2, 0.3])
    f = gnomon.function([s, v], [glp.logp(mx, s), glp.logcdf(mx, s), glp.icdf(mx, s),
                                 glp.logp(mn, v), glp.logcdf(mn, v)], mode="numpy")
    a, b, c, d, e = f(0.6, vals)
    assert float(a) == pytest.approx(st.beta(4, 1).logpdf(0.6))
    assert float(b) == pytest.approx(st.beta(4, 1).logcdf(0.6))
    assert float(c) == pytest.approx(st.beta(4, 1).ppf(0.6))
    np.testing.assert_allclose(d, st.expon(scale=0.25).logpdf(vals), rtol=1e-12)
    np.testing.assert_allclose(e, st.expon(scale=0.25).logcdf(vals), rtol=1e-12)
    g = gnomon.function([s], glp.logp(gt.max(gr.normal(1.0, 2.0, size=5)), s), mode="numpy")
    total = si.quad(lambda t: float(np.exp(g(t))), -np.inf, np.inf, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-7)


def test_max_of_non_identical_draws_is_not_measurable() -> None:
    x = gr.normal(np.array([0.0, 1.0, 2.0]), 1.0)
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)Max.*Hint:"):
        glp.logp(gt.max(x), 1.0)


# --- scan ---------------------------------------------------------------------------------------


def test_scan_random_walk_and_ar1_match_their_densities() -> None:
    rng = gnomon.shared(np.random.default_rng(0))

    def step(prev, r):  # type: ignore[no-untyped-def]
        eps = gr.normal(0.0, 0.5, rng=r)
        return prev + eps, {r: eps.owner.outputs[0]}

    walk, _ = gnomon.scan(step, outputs_info=[gt.constant(1.0)], non_sequences=[rng],
                          n_steps=4)
    srng = gr.RandomStream(seed=1)
    rho = gt.dscalar("rho")
    ar, _ = gnomon.scan(lambda prev: srng.normal(rho * prev, 1.0),
                        outputs_info=[gt.constant(0.5)], n_steps=4)
    v = gt.dvector("v")
    f = gnomon.function([v, rho], [glp.logp(walk, v), glp.logp(ar, v)], mode="numpy")
    vals = np.array([1.2, 0.8, 1.0, 2.0])
    w, a = f(vals, 0.7)
    np.testing.assert_allclose(w, st.norm(np.r_[1.0, vals[:-1]], 0.5).logpdf(vals))
    np.testing.assert_allclose(a, st.norm(0.7 * np.r_[0.5, vals[:-1]], 1.0).logpdf(vals))
    check_grads(lambda vv, r: glp.logp(gnomon.scan(lambda p: gr.RandomStream(seed=2).normal(
        r * p, 1.0), outputs_info=[gt.constant(0.5)], n_steps=3)[0], vv),
        [np.array([0.3, -0.2, 0.8]), np.array(0.6)])


# --- rewrites at the random-variable level -------------------------------------------------------


def _ks(a: gnomon.graph.basic.Variable, b: gnomon.graph.basic.Variable) -> float:
    """KS p-value of one draw of ``a`` against one of ``b`` (each of 2000 iid elements); ``a``
    runs first, so ``b`` (which reuses a generator of ``a``) draws from an advanced state."""
    da = gnomon.function([], a, mode="numpy")()
    db = gnomon.function([], b, mode="numpy")()
    return float(st.ks_2samp(np.ravel(da), np.ravel(db)).pvalue)


N = 2000


def test_sums_of_independent_normals_are_normal() -> None:
    x, y = gr.normal(1.0, 2.0, size=N), gr.normal(-1.0, 1.0, size=N)
    e = 2.0 * x - y + 3.0
    r = rewrite_measurable(e)
    assert r.owner is not None and r.owner.op.name == "normal"
    assert _ks(e, r) > 0.001
    v = np.array([-1.0, 4.0, 9.0])
    xs, ys = gr.normal(1.0, 2.0, size=3), gr.normal(-1.0, 1.0, size=3)
    lp = glp.logp(xs + ys, v).eval(mode="numpy")
    np.testing.assert_allclose(lp, st.norm(0.0, np.sqrt(5.0)).logpdf(v), rtol=1e-12)
    lp2 = glp.logp(2.0 * xs - ys + 3.0, v).eval(mode="numpy")
    np.testing.assert_allclose(lp2, st.norm(6.0, np.sqrt(17.0)).logpdf(v), rtol=1e-12)


def test_poisson_and_gamma_sums_and_scaled_gamma() -> None:
    p = gr.poisson(2.0, size=N) + gr.poisson(3.0, size=N)
    g = gr.gamma(2.0, 1.5, size=N) + gr.exponential(1.5, size=N)
    h = 3.0 * gr.gamma(2.5, 2.0, size=N)
    for expr, name in ((p, "poisson"), (g, "gamma"), (h, "gamma")):
        r = rewrite_measurable(expr)
        assert r.owner is not None and r.owner.op.name == name
        if name != "poisson":  # KS assumes continuous distributions
            assert _ks(expr, r) > 0.001
        else:
            a = gnomon.function([], expr, mode="numpy")()
            b = gnomon.function([], r, mode="numpy")()
            assert abs(a.mean() - b.mean()) < 0.3 and abs(a.var() - b.var()) < 1.0
    g = gr.gamma(2.0, 1.5) + gr.exponential(1.5)
    h = 3.0 * gr.gamma(2.5, 2.0)
    k = np.array([0, 3, 5, 9])
    lp = gnomon.function([], [glp.logp(gr.poisson(2.0, size=4) + gr.poisson(3.0, size=4), k),
                              glp.logp(g, 2.0), glp.logp(h, 2.0)], mode="numpy")()
    np.testing.assert_allclose(lp[0], st.poisson(5.0).logpmf(k), rtol=1e-12)
    assert float(lp[1]) == pytest.approx(st.gamma(3.0, scale=1.5).logpdf(2.0))
    assert float(lp[2]) == pytest.approx(st.gamma(2.5, scale=6.0).logpdf(2.0))


def test_dependent_sums_are_not_rewritten() -> None:
    rng = gnomon.shared(np.random.default_rng(0))
    a, b = gr.normal(0.0, 1.0, rng=rng), gr.normal(1.0, 1.0, rng=rng)  # one stream: dependent
    assert not isinstance(rewrite_measurable(a + b).owner.op, RandomVariable)  # type: ignore
    g1, g2 = gr.gamma(2.0, 1.0), gr.gamma(2.0, 3.0)  # different scales
    assert not isinstance(rewrite_measurable(g1 + g2).owner.op, RandomVariable)  # type: ignore
    with pytest.raises(glp.NotMeasurableError):
        glp.logp(g1 + g2, 1.0)


def test_scan_with_a_hidden_draw_in_the_step_is_refused() -> None:
    srng = gr.RandomStream(seed=1)

    def step(prev):  # type: ignore[no-untyped-def]
        return srng.normal(srng.normal(prev, 1.0), 1.0)  # a latent per step, no value

    walk, _ = gnomon.scan(step, outputs_info=[gt.constant(0.0)], n_steps=3)
    with pytest.raises(glp.NotMeasurableError,
                       match=r"(?s)another draw.*test_measurable_tensor.py.*Hint:"):
        glp.logp(walk, np.zeros(3))


def test_measurable_ops_compute_the_values_they_replace() -> None:
    # soundness of the rules: the rewritten graph (run through the ops' perform on the reference
    # backend) gives the same values as the expression, draws shared within one call
    from gnomon.logprob.rewriting import MeasurableOp

    x = gr.normal(0.0, 1.0, size=4)
    z = gr.bernoulli(0.5, size=4)
    i = gt.lscalar("i")
    srng = gr.RandomStream(seed=3)
    walk, _ = gnomon.scan(lambda p: srng.normal(p, 1.0), outputs_info=[gt.constant(0.0)],
                          n_steps=3)
    exprs = {
        "MeasurableTransform": 1.0 - 2.0 * gt.exp(gr.logistic(0.0, 1.0, size=4)),
        "MeasurableCensored": gt.clip(x, -0.5, 0.5),
        "MeasurableDiscretized": gt.floor(x),
        "MeasurableComparison": gt.gt(x, 0.1),
        "MeasurableMarginalMixture": gt.where(z, x, gr.gamma(2.0, 1.0, size=4)),
        "MeasurableIndexedStack": gt.stack([gr.normal(0.0, 1.0), gr.exponential(1.0)])[i],
        "MeasurableMakeVector": gt.stack([gr.normal(0.0, 1.0), gr.exponential(1.0)]),
        "MeasurableJoin": gt.concatenate([x, gr.uniform(0.0, 1.0, size=2)]),
        "MeasurableDimShuffle": gr.normal(0.0, 1.0, size=(2, 3)).T,
        "MeasurableCumsum": gt.cumsum(x),
        "MeasurableOrderStatistic": gt.min(x),
        "MeasurableScan": walk,
    }
    rewritten = {name: rewrite_measurable(e) for name, e in exprs.items()}
    for name, r in rewritten.items():
        assert isinstance(r.owner.op, MeasurableOp), name  # type: ignore[union-attr]
        assert type(r.owner.op).__name__ == name  # type: ignore[union-attr]
    names = list(exprs)
    f = gnomon.function([i], [exprs[n] for n in names] + [rewritten[n] for n in names],
                        mode="numpy")
    out = f(1)
    for j, n in enumerate(names):
        np.testing.assert_array_equal(out[j], out[j + len(names)], err_msg=n)
