"""``Model.logp_dlogp_function``: the sampler's flat-vector view of a model (values and
gradients against SciPy and finite differences; the Numba-callable entry point).

One model, with ``Data`` (a covariate and an index array) and constants, serves every test:
its Numba program is compiled once for the module (``numba_f``: 10-15 s of CPU with a cold
cache), and the entry points bound from it (``kernel_fn``, ``numba_fn``) must reuse that
compiled signature rather than compile the program again."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon.ppl as pm
from gnomon.ppl.sampling import _model_kernel_logp

X = np.array([0.5, -1.0, 2.0, 0.25])
GROUP = np.array([1, 0, 1, 1])
Y = np.array([0.3, -0.1, 0.8, 1.1])


def _model():
    with pm.Model() as m:
        xd = pm.Data("x", X)
        gd = pm.Data("g", GROUP)
        mu = pm.Normal("mu", 1.0, 2.0, shape=2)
        s = pm.HalfNormal("s", 1.5)
        p = pm.Beta("p", 2.0, 3.0)
        pm.Normal("y", mu[gd] * p + 0.5 * xd, s, observed=Y)
    return m


def _reference(q):
    mu, ls, lp = q[:2], q[2], q[3]
    s, p = np.exp(ls), 1 / (1 + np.exp(-lp))
    return (st.norm(1, 2).logpdf(mu).sum() + st.halfnorm(scale=1.5).logpdf(s) + ls
            + st.beta(2, 3).logpdf(p) + np.log(p * (1 - p))
            + st.norm(mu[GROUP] * p + 0.5 * X, s).logpdf(Y).sum())


@pytest.fixture(scope="module")
def numba_f():
    pytest.importorskip("numba")
    f = _model().logp_dlogp_function(mode="numba")
    f.logp_dlogp(np.zeros(f.n))  # the program's first call compiles it (from Python)
    return f


@pytest.mark.parametrize("mode", ["numpy", "numba", "c"])
def test_logp_dlogp_matches_scipy_and_finite_differences(mode, request):
    if mode == "c":
        from gnomon.ppl.c_logp import available

        if not available():
            pytest.skip("needs a C compiler")
    f = (request.getfixturevalue("numba_f") if mode == "numba"
         else _model().logp_dlogp_function(mode=mode))
    assert f.n == 4 and f.value_names == ["mu", "s_log__", "p_logodds__"]
    assert f.shapes == [(2,), (), ()]
    rng = np.random.default_rng(0)
    for _ in range(3):
        q = rng.normal(size=4)
        lp, g = f.logp_dlogp(q)
        assert isinstance(lp, float) and g.shape == (4,) and g.dtype == np.float64
        np.testing.assert_allclose(lp, _reference(q), rtol=1e-10)
        eps = 1e-6
        fd = [(_reference(q + eps * e) - _reference(q - eps * e)) / (2 * eps) for e in np.eye(4)]
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


def test_initial_q_and_unflatten():
    f = _model().logp_dlogp_function(mode="numpy")
    q0 = f.initial_q()
    # support points: mu = 1, s = sigma = 1.5, p = 2 / 5
    np.testing.assert_allclose(q0, [1.0, 1.0, np.log(1.5), np.log(0.4 / 0.6)])
    pt = f.unflatten(np.array([0.5, -0.5, 0.0, 0.0]))
    assert set(pt) == {"mu", "s", "p"}
    np.testing.assert_allclose(pt["mu"], [0.5, -0.5])
    np.testing.assert_allclose([pt["s"], pt["p"]], [1.0, 0.5])
    many = f.unflatten_many(np.zeros((3, 5, 4)))
    assert many["mu"].shape == (3, 5, 2) and many["s"].shape == (3, 5)
    assert f.unflatten_values(q0)["s_log__"] == pytest.approx(np.log(1.5))


def test_numba_fn_is_callable_from_njit_code(numba_f):
    import numba

    f = numba_f
    assert f.numba_fn is not None

    @numba.njit
    def total(fn, qs):
        acc = 0.0
        for i in range(qs.shape[0]):
            lp, g = fn(qs[i])
            acc += lp + g.sum()
        return acc

    qs = np.random.default_rng(1).normal(size=(4, 4))
    want = sum(lp + g.sum() for lp, g in (f.logp_dlogp(q) for q in qs))
    np.testing.assert_allclose(total(f.numba_fn, qs), want, rtol=1e-12)


def test_a_program_too_large_to_be_one_function_by_default_still_gives_numba_fn(monkeypatch):
    # Functions above the Numba linker's MAX_WHOLE_NODES run as Python calling the kernels;
    # the sampler still gets one nopython log-density, compiled on demand.
    pytest.importorskip("numba")
    from gnomon.backends.numba import linker

    monkeypatch.setattr(linker, "MAX_WHOLE_NODES", 2)
    f = _model().logp_dlogp_function(mode="numba")
    state = f.fn.compiled.state
    assert not state.nopython and state.compile_whole is not None
    assert f.numba_fn is not None
    for q in np.random.default_rng(2).normal(size=(3, 4)):
        lp, g = f.numba_fn(q)
        np.testing.assert_allclose(lp, _reference(q), rtol=1e-10)
        np.testing.assert_allclose(g, f.logp_dlogp(q)[1], rtol=1e-12)


def test_initvals_and_discrete_variables_held_fixed():
    with pm.Model() as m:
        x = pm.Normal("x", 0.0, 1.0)
        k = pm.Poisson("k", 3.0)
        pm.Normal("y", x + k, 1.0, observed=[4.0])
    f = m.logp_dlogp_function(mode="numpy", initvals={"x": 0.25})
    assert f.value_names == ["x"] and f.fixed == {"k": 3}
    assert f.initial_q().tolist() == [0.25]
    lp, _ = f.logp_dlogp(np.array([0.25]))
    want = (st.norm.logpdf(0.25) + st.poisson(3.0).logpmf(3) + st.norm(3.25, 1).logpdf(4.0))
    assert lp == pytest.approx(want, rel=1e-12)


def test_numba_fn_with_data_and_index_arrays(numba_f):
    # the bound program reads the Data (x: float64, g: int64) frozen at binding time, through
    # the signature the Python call compiled (the program has exactly one)
    import numba

    f = numba_f
    assert f.numba_fn is not None
    assert len(f.kernel_fn._gnomon_program.overloads) == 1
    call = numba.njit(lambda fn, q: fn(q))
    for q in np.random.default_rng(3).normal(size=(3, 4)):
        lp, g = call(f.numba_fn, q)
        lp_ref, g_ref = f.logp_dlogp(q)
        np.testing.assert_allclose([lp, *g], [lp_ref, *g_ref], rtol=1e-12)
        np.testing.assert_allclose(lp, _reference(q), rtol=1e-10)


def test_bound_program_equals_logp_dlogp(numba_f) -> None:
    """pm.sample binds the model's compiled program without a new @njit layer around it
    (sampling._model_kernel_logp, LogpDlogpFunction.kernel_fn: the same bound function); it
    computes exactly what logp_dlogp does."""
    fn = numba_f
    f = _model_kernel_logp(fn)
    assert f is not None and f is fn.kernel_fn and f._gnomon_program is not None
    # binding reuses the signature of the program's first call (scalar constants stay
    # scalars, Data are viewed as writable arrays): no second compile of the whole program
    assert len(f._gnomon_program.overloads) == 1
    rng = np.random.default_rng(0)
    for _ in range(3):
        q = rng.normal(size=fn.n)
        g = np.empty(fn.n)
        lp = f(q.ctypes.data, g.ctypes.data)
        lp2, g2 = fn.logp_dlogp(q)
        assert lp == lp2
        np.testing.assert_array_equal(g, g2)
