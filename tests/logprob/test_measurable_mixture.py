"""Mixtures (where / indexing a stack) with conditioned or marginalized finite discrete selectors,
and marginal_logp, against analytic mixture densities."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import GnomonValueError
from gnomon.testing import check_grads

V = np.array([-2.5, -0.4, 0.3, 1.9, 4.0])


def _two_normals(v: np.ndarray, w: float, a: tuple[float, float], b: tuple[float, float]
                 ) -> np.ndarray:
    return np.log(w * st.norm(*a).pdf(v) + (1 - w) * st.norm(*b).pdf(v))


def test_switch_mixture_with_elementwise_labels_marginalized_and_conditioned() -> None:
    z = gr.bernoulli(0.3, size=5)
    mix = gt.where(z, gr.normal(-1.0, 1.0, size=5), gr.normal(2.0, 0.5, size=5))
    v, zv = gt.dvector("v"), gt.lvector("zv")
    marg = glp.logp(mix, v)
    cond = glp.conditional_logp({z: zv, mix: v})
    f = gnomon.function([v, zv], [marg, cond[v], cond[zv]], mode="numpy")
    labels = np.array([1, 0, 0, 1, 0])
    m, c, cz = f(V, labels)
    np.testing.assert_allclose(m, _two_normals(V, 0.3, (-1, 1), (2, 0.5)), rtol=1e-12)
    np.testing.assert_allclose(c, np.where(labels, st.norm(-1, 1).logpdf(V),
                                           st.norm(2, 0.5).logpdf(V)), rtol=1e-12)
    np.testing.assert_allclose(cz, st.bernoulli(0.3).logpmf(labels))


def test_scalar_mixture_integrates_to_one_and_has_gradients() -> None:
    z = gr.bernoulli(0.35)
    mix = gt.where(gt.eq(z, 0), gr.gamma(2.0, 1.0), gr.exponential(0.5))
    s = gt.dscalar("s")
    f = gnomon.function([s], glp.logp(mix, s), mode="numpy")
    total = si.quad(lambda t: float(np.exp(f(t))), 0.0, np.inf, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-7)
    ref = np.log(0.65 * st.gamma(2.0).pdf(1.3) + 0.35 * st.expon(scale=0.5).pdf(1.3))
    assert float(f(1.3)) == pytest.approx(ref, rel=1e-12)

    def fn(v, mu):  # type: ignore[no-untyped-def]
        return glp.logp(gt.where(gr.bernoulli(0.4, size=3), gr.normal(mu, 1.0, size=3),
                                 gr.normal(-mu, 2.0, size=3)), v)

    check_grads(fn, [np.array([-1.0, 0.2, 1.5]), np.array(0.7)])


def test_indexing_a_stack_with_a_categorical() -> None:
    p = np.array([0.2, 0.3, 0.5])
    idx = gr.categorical(p)
    comps = [gr.normal(0.0, 1.0), gr.normal(3.0, 1.0), gr.exponential(2.0)]
    mix = gt.stack(comps)[idx]
    s, iv = gt.dscalar("s"), gt.lscalar("iv")
    cond = glp.conditional_logp({idx: iv, mix: s})
    f = gnomon.function([s, iv], [glp.logp(mix, s), cond[s]], mode="numpy")
    refs = [st.norm(0, 1), st.norm(3, 1), st.expon(scale=2.0)]
    for x in (-0.5, 0.7, 2.2):
        m, c = f(x, 2)
        assert float(m) == pytest.approx(np.log(sum(w * r.pdf(x) for w, r in zip(p, refs,
                                                                                  strict=True))))
        assert float(c) == pytest.approx(refs[2].logpdf(x))
    total = si.quad(lambda t: float(np.exp(f(t, 0)[0])), -np.inf, np.inf, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-7)


def test_mixture_of_scan_free_nested_expressions() -> None:
    # a component may itself be a derived variable (exp of a normal)
    z = gr.bernoulli(0.5)
    mix = gt.where(z, gt.exp(gr.normal(0.0, 0.5)), gr.exponential(1.0))
    lp = glp.logp(mix, 1.5).eval(mode="numpy")
    ref = np.log(0.5 * st.lognorm(0.5).pdf(1.5) + 0.5 * st.expon().pdf(1.5))
    assert float(lp) == pytest.approx(ref, rel=1e-12)


def test_scalar_label_shared_by_a_vector_is_refused() -> None:
    z = gr.bernoulli(0.3)
    mix = gt.where(z, gr.normal(0.0, 1.0, size=3), gr.normal(5.0, 1.0, size=3))
    with pytest.raises(glp.NotMeasurableError, match=r"(?s)switch.*mixtures.*Hint:"):
        glp.logp(mix, np.zeros(3))


def test_marginal_logp_scalar_and_batched_latents() -> None:
    # one label per observation
    z = gr.bernoulli(0.3, size=4)
    mu = gt.where(z, 5.0, 0.0)
    y = gr.normal(mu, 1.0)
    y_v = gt.dvector("y_v")
    yv = np.array([0.2, 4.0, 5.5, -1.0])
    lp = gnomon.function([y_v], glp.marginal_logp({y: y_v}, [z]), mode="numpy")(yv)
    ref = np.log(0.3 * st.norm(5, 1).pdf(yv) + 0.7 * st.norm(0, 1).pdf(yv)).sum()
    assert float(lp) == pytest.approx(ref, rel=1e-12)

    # one label shared by all observations, plus a valued continuous parameter
    k = gr.categorical(np.array([0.5, 0.25, 0.25]))
    sigma = gr.exponential(1.0)
    locs = gt.constant(np.array([-2.0, 0.0, 3.0]))
    obs = gr.normal(locs[k], sigma, size=3)
    o_v, s_v = gt.dvector("o_v"), gt.dscalar("s_v")
    f = gnomon.function([o_v, s_v], glp.marginal_logp({obs: o_v, sigma: s_v}, [k]),
                        mode="numpy")
    ov = np.array([-1.5, -2.2, -2.9])
    joint = [st.norm(m, 0.8).logpdf(ov).sum() for m in (-2.0, 0.0, 3.0)]
    ref2 = np.log(np.dot([0.5, 0.25, 0.25], np.exp(joint))) + st.expon().logpdf(0.8)
    assert float(f(ov, 0.8)) == pytest.approx(ref2, rel=1e-12)


def test_marginal_logp_errors() -> None:
    x = gr.normal(0.0, 1.0)
    y = gr.normal(x, 1.0)
    with pytest.raises(Exception, match=r"(?s)cannot enumerate.*Hint:"):
        glp.marginal_logp({y: gt.dscalar("y_v")}, [x])
    z = gr.bernoulli(0.5)
    w = gr.normal(z * 1.0, 1.0, size=3)
    with pytest.raises(GnomonValueError, match=r"(?s)has a value.*Hint:"):
        glp.marginal_logp({w: gt.dvector("w_v"), z: gt.lscalar("z_v")}, [z])



def test_mixture_logcdf_and_a_censored_mixture() -> None:
    z = gr.bernoulli(0.3, size=5)
    mix = gt.where(z, gr.normal(-1.0, 1.0, size=5), gr.normal(2.0, 0.5, size=5))
    idx = gr.categorical(np.array([0.2, 0.8]))
    m2 = gt.stack([gr.normal(0.0, 1.0), gr.exponential(1.0)])[idx]
    v = gt.dvector("v")
    f = gnomon.function([v], [glp.logcdf(mix, v), glp.logcdf(m2, v[0]),
                              glp.logp(gt.clip(mix, -0.5, 1.0), v)], mode="numpy")
    vals = np.array([-0.5, 0.2, 0.5, 1.0, 3.0])
    lc, lc2, cens = f(vals)

    def cdf(t: np.ndarray) -> np.ndarray:
        return 0.3 * st.norm(-1, 1).cdf(t) + 0.7 * st.norm(2, 0.5).cdf(t)

    np.testing.assert_allclose(lc, np.log(cdf(vals)), rtol=1e-12)
    assert float(lc2) == pytest.approx(np.log(0.2 * st.norm.cdf(-0.5)))  # expon: 0
    inner = _two_normals(vals, 0.3, (-1, 1), (2, 0.5))
    np.testing.assert_allclose(cens, [np.log(cdf(-0.5)), inner[1], inner[2],
                                      np.log1p(-cdf(1.0)), -np.inf], rtol=1e-12)


def test_one_label_per_element_indexing_a_stack() -> None:
    comps = [gr.normal(0.0, 1.0, size=3), gr.normal(3.0, 1.0, size=3)]
    idx = gr.categorical(np.array([0.2, 0.8]), size=3)
    rows = gt.stack(comps)[idx, gt.arange(3)]
    cols = gt.stack(comps, axis=1)[gt.arange(3), idx]
    v, iv = gt.dvector("v"), gt.lvector("iv")
    cond = glp.conditional_logp({idx: iv, rows: v})
    f = gnomon.function([v, iv], [glp.logp(rows, v), glp.logp(cols, v), cond[v],
                                  glp.logcdf(rows, v)], mode="numpy")
    vals, labels = np.array([0.5, 2.0, 4.0]), np.array([0, 1, 1])
    r, c, cv, lc = f(vals, labels)
    ref = np.log(0.2 * st.norm(0, 1).pdf(vals) + 0.8 * st.norm(3, 1).pdf(vals))
    np.testing.assert_allclose(r, ref, rtol=1e-12)
    np.testing.assert_allclose(c, ref, rtol=1e-12)
    np.testing.assert_allclose(cv, np.where(labels, st.norm(3, 1).logpdf(vals),
                                            st.norm(0, 1).logpdf(vals)), rtol=1e-12)
    np.testing.assert_allclose(lc, np.log(0.2 * st.norm(0, 1).cdf(vals)
                                          + 0.8 * st.norm(3, 1).cdf(vals)), rtol=1e-12)
    # an index other than arange (elements picked twice) is not a density
    with pytest.raises(glp.NotMeasurableError):
        glp.logp(gt.stack(comps)[idx, gt.constant(np.array([0, 0, 1]))], vals)


def test_zero_inflated_poisson_is_a_mixture_with_a_point_mass() -> None:
    z = gr.bernoulli(0.3, size=60)
    zip_ = gt.where(z, 0, gr.poisson(2.5, size=60))
    k = np.arange(60)
    lp, lc = gnomon.function([], [glp.logp(zip_, k), glp.logcdf(zip_, k)], mode="numpy")()
    np.testing.assert_allclose(lp, np.log(0.3 * (k == 0) + 0.7 * st.poisson(2.5).pmf(k)),
                               rtol=1e-12)
    # near 1 the oracle's log(cdf) has absolute, not relative, accuracy
    np.testing.assert_allclose(lc, np.log(0.3 + 0.7 * st.poisson(2.5).cdf(k)), rtol=1e-12,
                               atol=1e-14)
    assert np.exp(lp).sum() == pytest.approx(1.0, abs=1e-12)


def test_ifelse_of_random_branches_is_a_mixture() -> None:
    # gnomon.ifelse with random branches: the latent Bernoulli condition summed out, or
    # conditioned on its value, like gt.where
    z = gr.bernoulli(0.3)
    mix = gnomon.ifelse(z, gr.normal(-2.0, 1.0), gr.normal(2.0, 0.5))
    v = gt.dscalar("v")
    f = gnomon.function([v], glp.logp(mix, v), mode="numpy")
    xs = np.linspace(-5.0, 5.0, 7)
    got = np.array([float(f(x)) for x in xs])
    np.testing.assert_allclose(got, np.log(0.3 * st.norm(-2, 1).pdf(xs)
                                           + 0.7 * st.norm(2, 0.5).pdf(xs)), rtol=1e-12)
    total, _ = si.quad(lambda x: np.exp(float(f(x))), -np.inf, np.inf)
    assert abs(total - 1.0) < 1e-7
    zv = gt.scalar("zv", dtype=z.dtype)
    terms = glp.conditional_logp({z: zv, mix: v})
    g = gnomon.function([zv, v], [terms[zv], terms[v]], mode="numpy")
    lz, lv = g(1, 0.5)
    assert np.isclose(float(lz), np.log(0.3)) and np.isclose(float(lv), st.norm(-2, 1).logpdf(0.5))
    lz, lv = g(0, 0.5)
    assert np.isclose(float(lz), np.log(0.7)) and np.isclose(float(lv), st.norm(2, .5).logpdf(0.5))
