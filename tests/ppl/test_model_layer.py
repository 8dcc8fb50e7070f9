"""Model-layer additions of issue 12: the batched post-processing of draws
(``unflatten_many`` through :mod:`gnomon.ppl.vectorize`, against the draw-by-draw function),
``compile_d2logp`` (against finite differences of the gradient and closed forms), ``AR`` and
``LKJCorr`` (against SciPy, closed forms and numerical integration), and the Numba / JAX
lowerings of gnomon.ppl's private random-variable ops."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon.ppl as pm
import gnomon.tensor as gt

# --- unflatten_many: one batched call ------------------------------------------------------------


def test_unflatten_many_batched_equals_row_by_row():
    """Every transform gnomon.ppl uses and deterministics built from elementwise ops,
    reductions, indexing, matmul, cumsum and concatenation go through the batched function;
    an op without a batching rule (det) is computed draw by draw; all equal unflatten."""
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 1)
        s = pm.HalfNormal("s", 1)
        pm.Beta("b", 2, 2)
        u = pm.Uniform("u", -1, 3, shape=2)
        d = pm.Dirichlet("d", np.ones(3))
        pm.ZeroSumNormal("z", shape=4)
        o = pm.Normal("o", 0, 1, shape=3, transform=pm.distributions.transforms.ordered)
        chol, corr, _ = pm.LKJCholeskyCov("c", eta=2.0, n=3,
                                          sd_dist=pm.Exponential.dist(1.0, shape=3))
        pm.VonMises("v", 0, 1)
        pm.Truncated("t", pm.Normal.dist(0, 1), lower=0, upper=2)
        k = pm.Poisson("k", 2.0)  # discrete: held fixed, a constant in the batched graph
        w = pm.Normal("w", 0, 1, shape=(2, 3))
        pm.Deterministic("det", gt.dot(u, u) + mu * d[1:].sum()
                         + gt.exp(o)[np.array([0, 2])].sum() + k)
        pm.Deterministic("mm", gt.dot(w, o).sum() + chol @ o + gt.dot(o, chol))
        pm.Deterministic("idx", w[:, np.array([2, 0, 2])] * s + w[1])
        pm.Deterministic("const", gt.constant(np.arange(3.0)))
        pm.Deterministic("ldet", gt.linalg.det(corr))
        pm.Deterministic("cs", gt.cumsum(w, axis=0) + gt.max(w, axis=1, keepdims=True))
    fn = m.logp_dlogp_function(mode="numpy")
    qs = np.random.default_rng(0).normal(size=(2, 3, fn.n))
    many = fn.unflatten_many(qs)
    names, _, done, rest = fn._batch_outputs()
    assert [names[i] for i in rest] == ["ldet"]
    assert len(done) == len(names) - 1
    for i in range(2):
        for j in range(3):
            one = fn.unflatten(qs[i, j])
            assert set(one) == set(many)
            for key, val in one.items():
                assert many[key].shape == (2, 3, *np.shape(val))
                np.testing.assert_allclose(many[key][i, j], val, rtol=1e-12, atol=1e-14,
                                           err_msg=key)
    free = fn.unflatten_many(qs, deterministics=False)
    assert set(free) == {rv.name for rv in m.free_RVs}


# --- compile_d2logp ----------------------------------------------------------------------------


def test_compile_d2logp_matches_finite_differences_and_closed_form():
    y = np.array([0.3, -0.1, 0.8])
    with pm.Model() as m:
        mu = pm.Normal("mu", 1.0, 2.0, shape=2)
        s = pm.HalfNormal("s", 1.5)
        p = pm.Beta("p", 2.0, 3.0)
        pm.Normal("y", mu.sum() * p, s, observed=y)
    h = m.compile_d2logp(mode="numpy")
    g = m.compile_dlogp(mode="numpy")
    rng = np.random.default_rng(1)
    for _ in range(2):
        q = rng.normal(size=4)
        pt = {"mu": q[:2], "s_log__": q[2], "p_logodds__": q[3]}
        got = h(pt)
        assert got.shape == (4, 4)
        np.testing.assert_allclose(got, got.T, rtol=1e-12, atol=1e-12)
        eps = 1e-6
        fd = np.empty((4, 4))
        for j in range(4):
            hi, lo = q.copy(), q.copy()
            hi[j] += eps
            lo[j] -= eps
            pts = [{"mu": x[:2], "s_log__": x[2], "p_logodds__": x[3]} for x in (hi, lo)]
            fd[:, j] = (g(pts[0]) - g(pts[1])) / (2 * eps)
        np.testing.assert_allclose(got, -fd, rtol=1e-5, atol=1e-6)  # PyMC: -Hessian
    pos = m.compile_d2logp(vars=[s], jacobian=False, negate_output=False, mode="numpy")
    # d^2/dv^2 of logp(exp(v)) without Jacobian: normal in s, halfnormal prior in s
    v, mus, pp = 0.2, np.array([0.1, 0.4]), 0.5
    sig = np.exp(v)
    r2 = np.sum((y - mus.sum() * pp) ** 2)
    # logp(v) = -n v - r2 exp(-2v)/2 - exp(2v)/(2 1.5^2) + const
    want = -2 * r2 * np.exp(-2 * v) - 2 * sig ** 2 / 1.5 ** 2
    got = pos({"mu": mus, "s_log__": v, "p_logodds__": 0.0})
    np.testing.assert_allclose(got, [[want]], rtol=1e-10)
    with pytest.raises(Exception, match="continuous value variable"):
        with pm.Model() as m2:
            k = pm.Poisson("k", 2.0)
        m2.d2logp(vars=[k])
