"""Model-layer additions of issue 12: the batched post-processing of draws
(``unflatten_many`` through :mod:`gnomon.control.vectorize`, against the draw-by-draw function),
``compile_d2logp`` (against finite differences of the gradient and closed forms), ``AR`` and
``LKJCorr`` (against SciPy, closed forms and numerical integration), and the Numba / JAX
lowerings of gnomon.ppl's private random-variable ops."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

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


# --- AR --------------------------------------------------------------------------------------


def test_ar_density_matches_scipy_with_constant_batch_and_free_coefficients():
    v = np.array([0.3, 1.0, -0.5, 0.2, 0.7])
    with pm.Model() as m:
        pm.AR("x", rho=[0.4, 1.5, -0.3], sigma=2.0, constant=True,
              init_dist=pm.Normal.dist(0, 1), observed=v)
    mu = 0.4 + 1.5 * v[1:4] - 0.3 * v[0:3]
    want = st.norm.logpdf(v[:2]).sum() + st.norm(mu, 2.0).logpdf(v[2:]).sum()
    assert float(m.compile_logp(mode="numpy")({})) == pytest.approx(want, rel=1e-12)
    # free coefficients, a batch of 3 paths, tau, the default init (with PyMC's warning)
    with pm.Model() as m2:
        r = pm.Normal("r", 0, 0.3, shape=2)
        with pytest.warns(UserWarning, match="Initial distribution not specified"):
            pm.AR("x", rho=r, tau=4.0, shape=(3, 6))
    assert [v.name for v in m2.value_vars] == ["r", "x"]
    rng = np.random.default_rng(3)
    pt = {"r": np.array([0.5, -0.2]), "x": rng.normal(size=(3, 6))}
    x = pt["x"]
    mu2 = 0.5 * x[:, 1:5] - 0.2 * x[:, 0:4]
    want2 = (st.norm(0, 0.3).logpdf(pt["r"]).sum() + st.norm(0, 100).logpdf(x[:, :2]).sum()
             + st.norm(mu2, 0.5).logpdf(x[:, 2:]).sum())
    assert float(m2.compile_logp(mode="numpy")(pt)) == pytest.approx(want2, rel=1e-12)
    with pytest.raises(Exception, match="ar_order"):
        pm.AR.dist(rho=[0.5, 0.2], ar_order=1, steps=3, init_dist=pm.Normal.dist(0, 1))


def test_ar_prior_draws_follow_the_recursion():
    """AR(1), x0 ~ N(0, 1), rho = 0.8, sigma = 0.5: Var(x_t) = 0.64 Var(x_{t-1}) + 0.25, and
    x_t - 0.8 x_{t-1} are N(0, 0.5) innovations (Kolmogorov-Smirnov tests)."""
    x = pm.AR.dist(rho=[0.8], sigma=0.5, init_dist=pm.Normal.dist(0, 1), steps=3, size=(4000,))
    d = pm.draw(x, random_seed=7)
    assert d.shape == (4000, 4)
    var = 1.0
    for _ in range(3):
        var = 0.64 * var + 0.25
    assert st.kstest(d[:, -1], st.norm(0, np.sqrt(var)).cdf).pvalue > 1e-3
    assert st.kstest((d[:, 2] - 0.8 * d[:, 1]), st.norm(0, 0.5).cdf).pvalue > 1e-3
    assert st.kstest(d[:, 0], st.norm(0, 1).cdf).pvalue > 1e-3


# --- LKJCorr -----------------------------------------------------------------------------------


def test_lkjcorr_density_normalizing_constant_and_transform():
    # n = 2: (r + 1) / 2 ~ Beta(eta, eta)
    with pm.Model() as m:
        pm.LKJCorr("r", n=2, eta=3.0, observed=np.array([0.4]))
    want = st.beta(3.0, 3.0).logpdf(0.7) - np.log(2.0)
    assert float(m.compile_logp(mode="numpy")({})) == pytest.approx(want, rel=1e-12)
    # eta = 1: uniform, 1 / volume of the correlation matrices (pi^2 / 2, 32 pi^2 / 27)
    for n, vol in ((3, np.pi ** 2 / 2), (4, 32 * np.pi ** 2 / 27)):
        with pm.Model() as mn:
            pm.LKJCorr("c", n=n, eta=1.0)
        f = mn.compile_logp(jacobian=False, mode="numpy")
        y = np.random.default_rng(n).normal(size=n * (n - 1) // 2)
        assert float(f({"c_cholesky_corr__": y})) == pytest.approx(-np.log(vol), rel=1e-10)
    # eta = 2.5, n = 3: the constant against a Monte Carlo integral of det(R)^(eta - 1)
    with pm.Model() as m3:
        c = pm.LKJCorr("c", n=3, eta=2.5, observed=np.array([0.2, -0.3, 0.1]))
    r = np.random.default_rng(0).uniform(-1, 1, size=(400_000, 3))
    det = 1 - (r ** 2).sum(1) + 2 * r[:, 0] * r[:, 1] * r[:, 2]
    w = 8 * np.where(det > 0, np.abs(det) ** 1.5, 0.0)
    est, se = w.mean(), w.std() / np.sqrt(len(w))
    d0 = 1 - 0.04 - 0.09 - 0.01 + 2 * 0.2 * -0.3 * 0.1
    lp = float(m3.compile_logp(mode="numpy")({}))
    assert abs(np.exp(1.5 * np.log(d0) - lp) - est) < 5 * se
    # outside the positive-definite matrices: -inf
    with pm.Model() as bad:
        pm.LKJCorr("c", n=3, eta=2.0, observed=np.array([0.9, 0.9, -0.9]))
    assert float(bad.compile_logp(mode="numpy")({})) == -np.inf
    # the free variable: the unconstrained density integrates to 1 (n = 2)
    import scipy.integrate as si

    with pm.Model() as m2:
        pm.LKJCorr("c", n=2, eta=1.5)
    f2 = m2.compile_logp(mode="numpy")
    total, _ = si.quad(lambda y: np.exp(f2({"c_cholesky_corr__": np.array([y])})), -25, 25)
    assert total == pytest.approx(1.0, abs=1e-8)
    assert c.name == "c"
    # far out in the unconstrained space the matrix is numerically singular: the density and
    # its gradient are not finite there, but nothing raises (a sampler just rejects the point)
    with pm.Model() as m4:
        pm.LKJCorr("c", n=3, eta=2.0)
    lp4, g4 = m4.logp_dlogp_function(mode="numpy").logp_dlogp(np.array([40.0, -40.0, 40.0]))
    assert not np.isfinite(lp4) or not np.all(np.isfinite(g4)) or lp4 < -50


def test_cholesky_corr_transform_jacobian_and_round_trip():
    from gnomon.ppl.multivariate import CholeskyCorr

    n = 4
    t = CholeskyCorr(n)
    y_ = gt.dvector("y")
    back = gnomon_function([y_], t.backward(y_))
    ljd = gnomon_function([y_], t.log_jac_det(y_))
    fwd = gnomon_function([y_], t.forward(y_))
    y = np.random.default_rng(5).normal(size=6)
    r = back(y)
    mat = np.eye(n)
    mat[np.triu_indices(n, 1)] = r
    mat = mat + np.triu(mat, 1).T
    assert np.all(np.linalg.eigvalsh(mat) > 0)
    np.testing.assert_allclose(fwd(r), y, rtol=1e-10)
    eps = 1e-6
    jac = np.empty((6, 6))
    for k in range(6):
        hi, lo = y.copy(), y.copy()
        hi[k] += eps
        lo[k] -= eps
        jac[:, k] = (back(hi) - back(lo)) / (2 * eps)
    assert float(ljd(y)) == pytest.approx(np.linalg.slogdet(jac)[1], rel=1e-7)


def test_lkjcorr_draws_have_beta_marginals():
    """Each correlation of an LKJ(eta) n x n matrix: (r + 1) / 2 ~ Beta(b, b),
    b = eta - 1 + n / 2."""
    d = pm.draw(pm.LKJCorr.dist(n=3, eta=2.0), draws=1500, random_seed=11)
    assert d.shape == (1500, 3)
    b = 2.0 - 1 + 3 / 2
    for k in range(3):
        assert st.kstest((d[:, k] + 1) / 2, st.beta(b, b).cdf).pvalue > 1e-3
    mat = pm.draw(pm.LKJCorr.dist(n=3, eta=2.0, return_matrix=True), random_seed=1)
    assert mat.shape == (3, 3) and np.allclose(np.diag(mat), 1.0) and np.allclose(mat, mat.T)
    with pm.Model():
        full = pm.LKJCorr("c", n=3, eta=2.0, return_matrix=True)
    assert full.ndim == 2


def gnomon_function(ins, out):  # type: ignore[no-untyped-def]
    import gnomon

    return gnomon.function(ins, out, mode="numpy")


# --- lowerings of gnomon.ppl's private ops (gnomon/ppl/lowering.py) ----------------------------


def _row(name):  # type: ignore[no-untyped-def]
    from tests.records.ppl_records import RECORDS

    return next(r for r in RECORDS if r.name == name)


@pytest.mark.parametrize("mode", ["numba", "jax"])
def test_private_ops_are_lowered(mode):
    """gnomon.ppl's private random variables draw with compiled kernels (no Python fallback
    node in Numba; one jitted program in JAX) and their draws are valid; flat variables raise
    the reference's error; CustomDist's Python draw runs on the host under JAX. The graphs are
    the op-records rows' (tests/records/ppl_records.py), so their kernels are compiled once;
    JAX's LKJ draws run only in those rows (its beta sampler takes ~10 s to compile)."""
    import gnomon

    pytest.importorskip(mode)
    cases = {
        "ppl_zerosumnormal": [np.array([1.0, 2.0, 3.0])],
        "ppl_ar": [np.array([0.5, -0.2]), np.array(1e-9), np.array(0.3), np.array([0.1, -0.4])],
    }
    if mode == "numba":
        cases["ppl_lkjcholeskycov"] = [np.array(2.0), np.array([0.5, 1.0, 2.0])]
        cases["ppl_lkjcorr"] = [np.array(2.0)]
    out = {}
    for name, vals in cases.items():
        rec = _row(name)
        xs = [gt.tensor(f"x{k}", dtype="float64", shape=v.shape) for k, v in enumerate(vals)]
        f = gnomon.function(xs, rec.fn(*xs), mode=mode)
        out[name] = np.asarray(f(*vals))
        if mode == "numba":
            assert f.compiled.state.fallback_nodes == [], name
    zsn = out["ppl_zerosumnormal"]
    assert zsn.shape == (3, 4) and np.allclose(zsn.sum(axis=-1), 0.0, atol=1e-12)
    ar = out["ppl_ar"]  # sigma ~ 0: the recursion itself
    np.testing.assert_allclose(ar[:2], [0.1, -0.4])
    np.testing.assert_allclose(ar[2:], 0.3 + 0.5 * ar[1:-1] - 0.2 * ar[:-2], atol=1e-6)
    if mode == "numba":
        chol = np.zeros((3, 3))
        chol[np.tril_indices(3)] = out["ppl_lkjcholeskycov"]
        np.testing.assert_allclose(np.sqrt(np.sum(chol ** 2, axis=1)), [0.5, 1.0, 2.0])
        assert np.all(np.diag(chol) > 0)
        mat = np.eye(3)
        mat[np.triu_indices(3, 1)] = out["ppl_lkjcorr"]
        mat = mat + np.triu(mat, 1).T
        assert np.all(np.linalg.eigvalsh(mat) > 0)
    with pytest.raises(Exception, match="cannot draw from a halfflat variable"):
        gnomon.function([], pm.HalfFlat.dist(shape=(2,)), mode=mode)()
    if mode == "jax":
        cd = pm.CustomDist.dist(np.array([1.0, 5.0]), logp=lambda v, mu: -((v - mu) ** 2),
                                random=lambda mu, rng=None, size=None: mu + rng.uniform(
                                    0, 1e-3, size=np.shape(mu)))
        got = np.asarray(gnomon.function([], cd, mode="jax")())
        assert got.shape == (2,) and np.all((got >= [1.0, 5.0]) & (got < [1.001, 5.001]))


# --- imputation of whole missing rows of vector distributions ------------------------------


def test_missing_rows_of_vector_distributions_are_imputed():
    y = np.array([[0.5, -0.2], [np.nan, np.nan], [1.0, 0.3], [np.nan, np.nan]])
    cov = np.array([[1.0, 0.3], [0.3, 2.0]])
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 1, shape=2)
        with pytest.warns(UserWarning, match="automatically imputed"):
            pm.MvNormal("x", mu=mu, cov=cov, observed=y)
    assert [v.name for v in m.value_vars] == ["mu", "x_unobserved"]
    pt = {"mu": np.array([0.1, -0.1]), "x_unobserved": np.array([[0.2, 0.4], [-1.0, 0.5]])}
    full = y.copy()
    full[[1, 3]] = pt["x_unobserved"]
    want = (st.norm.logpdf(pt["mu"]).sum()
            + st.multivariate_normal(pt["mu"], cov).logpdf(full).sum())
    assert float(m.compile_logp(mode="numpy")(pt)) == pytest.approx(want, rel=1e-12)
    f = m.logp_dlogp_function(mode="numpy")
    np.testing.assert_allclose(f.unflatten(f.flatten(pt))["x"], full)
    # a masked Dirichlet row: free on the simplex (its transform follows the imputed part)
    obs = np.ma.masked_array([[0.2, 0.3, 0.5], [0, 0, 0]], mask=[[0, 0, 0], [1, 1, 1]])
    with pm.Model() as m2, pytest.warns(UserWarning):
        pm.Dirichlet("w", a=np.array([1.0, 2.0, 3.0]), observed=obs)
    assert [v.name for v in m2.value_vars] == ["w_unobserved_simplex__"]
    lp = m2.compile_logp(jacobian=False, mode="numpy")({"w_unobserved_simplex__": np.zeros((1, 2))})
    want2 = st.dirichlet([1.0, 2.0, 3.0]).logpdf([1 / 3] * 3) + st.dirichlet(
        [1.0, 2.0, 3.0]).logpdf([0.2, 0.3, 0.5])
    assert float(lp) == pytest.approx(want2, rel=1e-10)
    with pm.Model(), pytest.raises(Exception, match="some entries missing"):
        pm.MvNormal("x", mu=np.zeros(2), cov=cov, observed=np.array([[0.5, np.nan]]))
