"""The C route of the sampler's log-density (``gnomon/ppl/c_logp.py``): a model's log-density
and gradient compiled by the C compiler and called by the NUTS kernel through a C pointer."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon.ppl as pm
import gnomon.tensor as gt
from gnomon.errors import GnomonRuntimeError, GnomonValueError
from gnomon.gradient import grad as gnomon_grad
from gnomon.ppl import c_logp

pytestmark = pytest.mark.skipif(not c_logp.available(), reason="needs a C compiler")

KW = {"progressbar": False, "compute_convergence_checks": False,
      "return_inferencedata": False}


def _data_model(x: np.ndarray, y: np.ndarray) -> pm.Model:
    with pm.Model() as m:
        xd = pm.Data("x", x)
        a = pm.Normal("a", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 2.0)
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", a + b * xd, s, observed=y, shape=xd.shape)
    return m


def test_c_route_equals_the_reference_and_its_kernel_pointer() -> None:
    """Route 'c' (with pm.Data bound by pointer) gives NumPy's log-density and gradient from
    Python and through the kernel's function pointer (called from Numba code)."""
    from numba import njit, types

    from gnomon.ppl.nuts import LOGP_TYPE

    rng = np.random.default_rng(5)
    x = rng.normal(size=7)
    m = _data_model(x, 1.0 + 2.0 * x + rng.normal(size=7))
    fc = m.logp_dlogp_function(mode="c")
    ref = m.logp_dlogp_function(mode="numpy")
    assert fc.route == "c" and ref.route == "numpy"

    @njit(types.float64(LOGP_TYPE, types.float64[::1], types.float64[::1]))
    def through_pointer(f, q, g):  # type: ignore[no-untyped-def]
        return f(q.ctypes.data, g.ctypes.data)

    kernel = fc.kernel_fn
    assert LOGP_TYPE.signature == kernel.signature()  # the kernel's calling convention
    for q in rng.normal(size=(4, fc.n)):
        lp, g = fc.logp_dlogp(q)
        lp_ref, g_ref = ref.logp_dlogp(q)
        np.testing.assert_allclose(lp, lp_ref, rtol=1e-12)
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-14)
        g2 = np.zeros(fc.n)
        assert through_pointer(kernel, q, g2) == lp
        np.testing.assert_array_equal(g2, g)
        lp3, g3 = fc.numba_fn(q)  # the (logp, grad) Numba view of the same pointer
        assert lp3 == lp and np.array_equal(g3, g)


def test_the_generated_c_is_the_same_text_for_the_same_graph() -> None:
    """The disk cache's key is a hash of the C text: two builds of one model (different Python
    objects) must give the same text, so a new process finds the library in the cache."""
    from gnomon.backends.c import linker
    from gnomon.backends.c.export import standalone_source
    from gnomon.compile.function import function
    from gnomon.compile.mode import Mode

    def text() -> str:
        q = gt.dvector("q")
        w = gt.constant(np.array([0.5, -1.0, 2.0]))
        lp = -0.5 * gt.sum((q - w) ** 2) + gt.sum(gt.log1p(gt.exp(q)))
        with linker.batch():
            f = function([q], [lp], mode=Mode("c"))
        return standalone_source(f, "t")

    assert text() == text()


def test_sample_on_the_c_route_and_set_data() -> None:
    """pm.sample's default route is C for a model whose ops all lower to C; the posterior of a
    conjugate regression (known noise) is right, and after pm.set_data the sampler sees the new
    data (the library is reused, the data pointers rebound)."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=30)
    y = 0.5 + 1.5 * x + rng.normal(size=30)
    with pm.Model() as m:
        xd = pm.Data("x", x)
        yd = pm.Data("y_obs", y)
        b = pm.Normal("b", 0.0, 10.0)
        pm.Normal("y", b * xd, 1.0, observed=yd, shape=xd.shape)

    def posterior(xv: np.ndarray, yv: np.ndarray) -> tuple[float, float]:
        prec = 1 / 100 + xv @ xv
        return float(xv @ yv / prec), float(prec ** -0.5)

    fn = m.logp_dlogp_function(mode="auto")
    assert fn.route == "c"
    with m:
        r1 = pm.sample(600, tune=300, chains=2, random_seed=3, **KW)
    x2 = rng.normal(size=45) * 2.0
    y2 = -1.0 * x2 + rng.normal(size=45)
    with m:
        pm.set_data({"x": x2, "y_obs": y2})
        r2 = pm.sample(600, tune=300, chains=2, random_seed=3, **KW)
    for r, (mean, sd) in ((r1, posterior(x, y)), (r2, posterior(x2, y2))):
        draws = np.asarray(r["posterior"]["b"])
        assert abs(draws.mean() - mean) < 5 * sd / np.sqrt(300)
        assert abs(draws.std() - sd) < 0.15 * sd


def test_a_failing_evaluation_stops_sampling_with_the_message() -> None:
    """A C log-density cannot raise inside the kernel: the failure (here an observed vector
    longer than the Data it is paired with) is counted and sampling stops with C's message."""
    with pm.Model() as m:
        xd = pm.Data("x", np.ones(4))
        b = pm.Normal("b", 0.0, 1.0)
        pm.Normal("y", b * xd, 1.0, observed=np.ones(4))
    fn = m.logp_dlogp_function(mode="c")
    with m:
        pm.set_data({"x": np.ones(3)})
    with pytest.raises(GnomonRuntimeError, match=r"(?s)compiled log-density failed.*Hint"):
        fn.logp_dlogp(np.zeros(1))
    # inside the kernel: a chain started on good data, then the data made inconsistent
    import threading

    from gnomon.ppl.adaptation import window_schedule
    from gnomon.ppl.sampling import _Chain

    with m:
        pm.set_data({"x": np.ones(4)})
    k = fn.kernel_fn
    k.owner.reset()
    cfg = np.array([0.8, 10, 1000.0, 0, 20])
    ch = _Chain(k, fn.logp_dlogp, np.zeros(1), np.random.default_rng(1), cfg,
                window_schedule(20, 20), 1.0, check=k.owner.failure)
    with m:
        pm.set_data({"x": np.ones(3)})
    assert fn.kernel_fn is k  # the same pointer, the new data bound
    ch.run(threading.Event())
    assert isinstance(ch.error, GnomonRuntimeError)
    assert "failed during sampling: operands could not be broadcast" in str(ch.error)
    assert "Hint" in str(ch.error) and ch.done < ch.total


def test_mode_c_names_the_ops_without_a_c_lowering_and_auto_falls_back() -> None:
    with pm.Model() as m:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
        pm.Potential("p", -gt.sort(x)[0] ** 2)
    with pytest.raises(GnomonValueError, match=r"(?s)mode='c'.*Sort.*Hint"):
        m.logp_dlogp_function(mode="c")
    with pytest.raises(GnomonValueError, match=r"(?s)compile_kwargs.*Hint"):
        with m:
            pm.sample(10, tune=10, compile_kwargs={"mode": "jax"}, **KW)


def test_two_translation_units_give_the_one_unit_results() -> None:
    """A library compiled as two translation units in parallel (the kernels split between
    them) computes what the one-unit library does."""
    from gnomon.backends.c import cache, linker
    from gnomon.backends.c.export import standalone_source
    from gnomon.compile.function import function
    from gnomon.compile.mode import Mode

    q = gt.dvector("q")
    w = gt.constant(np.linspace(-1.0, 1.0, 6))
    lp = gt.sum(-0.5 * (q - w) ** 2 * gt.exp(-q)) + gt.sum(gt.log1p(gt.exp(q[:3] * q[3:])))
    (g,) = gnomon_grad(lp, [q])
    with linker.batch():
        f = function([q], [lp, g], mode=Mode("c"))
    entry = c_logp._ENTRY.format(n=6, nsh=0, name="u")
    one = standalone_source(f, "u", units=1)
    two = standalone_source(f, "u", units=2)
    assert cache.UNIT_SPLIT not in one and two.count(cache.UNIT_SPLIT) == 1
    libs = [c_logp.CLogp(cache.load_library(src.replace(cache.UNIT_SPLIT, entry + "\n"
                                                        + cache.UNIT_SPLIT, 1)
                                            if cache.UNIT_SPLIT in src else src + entry), 6, [])
            for src in (one, two)]
    for x in np.random.default_rng(2).normal(size=(3, 6)):
        (lp1, g1), (lp2, g2) = (lib(x) for lib in libs)
        np.testing.assert_allclose(lp1, lp2, rtol=1e-14)
        np.testing.assert_allclose(g1, g2, rtol=1e-14)


def test_export_only_writes_the_batch_source_and_cannot_run() -> None:
    """A function compiled inside ``linker.export_only()`` (no extension-module code, as the
    sampler's C route compiles) exports the same C as one compiled inside ``batch()``, and
    calling it raises instead of running nothing."""
    from gnomon.backends.c import linker
    from gnomon.backends.c.export import standalone_source
    from gnomon.compile.function import function
    from gnomon.compile.mode import Mode

    q = gt.dvector("q")
    lp = gt.sum(-0.5 * q ** 2 * gt.exp(-q)) + gt.log1p(gt.exp(q[0]))
    (g,) = gnomon_grad(lp, [q])
    with linker.export_only():
        f = function([q], [lp, g], mode=Mode("c"))
    with linker.batch():
        f2 = function([q], [lp, g], mode=Mode("c"))
    assert standalone_source(f, "u", units=2) == standalone_source(f2, "u", units=2)
    with pytest.raises(GnomonRuntimeError, match="export_only"):
        f(np.zeros(3))


def test_when_compiling_runs_its_callback_once_the_compiler_starts() -> None:
    """``cache.when_compiling``: the callback runs once when a compile starts the compiler
    (where pm.sample starts loading the NUTS kernel), not for a library already loaded."""
    import uuid

    from gnomon.backends.c import cache

    calls: list[int] = []
    src = f"/* {uuid.uuid4().hex} */\ndouble gn_when_compiling(double x) {{ return 2 * x; }}\n"
    with cache.when_compiling(lambda: calls.append(1)):
        cache.load_library(src)
        cache.load_library(src)  # this process's memo: no compiler
    assert calls == [1]
    with cache.when_compiling(lambda: calls.append(2)):
        cache.load_library(src)
    assert calls == [1]
