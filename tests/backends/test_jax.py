"""The JAX backend (mode="jax"): coverage of every op, float64, retracing, shared variables,
JAX array inputs, the JAX callable (jax.grad / jax.vmap), and gradients of the op-records table
compared with the reference backend."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

import gnomon  # noqa: E402
import gnomon.tensor as gt  # noqa: E402
import gnomon.testing  # noqa: E402
from gnomon.backends.jax import (  # noqa: E402
    JaxFallbackWarning,
    NeedsConcreteValue,
    jax_fn,
    numpy_outputs,
    to_jax,
)
from gnomon.errors import (  # noqa: E402
    GnomonError,
    GnomonTypeError,
    NotLoweredError,
    ShapeError,
)
from gnomon.graph.basic import Apply  # noqa: E402
from gnomon.graph.op import Op  # noqa: E402
from gnomon.tensor.type import TensorType  # noqa: E402

M = "jax"


# --- coverage: every op gnomon defines has a lowering -------------------------------------


# Which ops have no lowering: tests/backends/test_unlowered.py (gnomon.backends.jax.UNLOWERED).


def test_an_op_without_lowering_fails_at_compile_time_with_a_hint() -> None:
    @dataclasses.dataclass(frozen=True)
    class Twice(Op):
        def make_node(self, x):  # type: ignore[no-untyped-def]
            x = gt.as_tensor(x)
            return Apply.make(self, [x], [x.type])

        def perform(self, node, inputs):  # type: ignore[no-untyped-def]
            return (inputs[0] * 2,)

    x = gt.dvector("x")
    with pytest.raises(NotLoweredError, match=r"(?s)no lowering for the op Twice.*Hint"):
        gnomon.function([x], Twice()(x), mode=M)
    # The reference still runs it.
    assert gnomon.function([x], Twice()(x), mode="numpy")([1.0]).tolist() == [2.0]


# --- float64 and the user's JAX configuration ---------------------------------------------


def test_float64_is_computed_in_float64() -> None:
    rng = np.random.default_rng(0)
    xv = rng.uniform(1.0, 2.0, 1000)
    x = gt.dvector("x")
    # (x + 1e-9) - x is ~1e-9 in float64 and 0 or ~1e-7 in float32.
    f = gnomon.function([x], [(x + 1e-9) - x, gt.sum(gt.exp(x) / 3.0)], mode=M)
    small, total = f(xv)
    assert small.dtype == np.float64 and total.dtype == np.float64
    np.testing.assert_allclose(np.asarray(small), (xv + 1e-9) - xv, rtol=1e-12, atol=0)
    np.testing.assert_allclose(float(total), np.sum(np.exp(xv) / 3.0), rtol=1e-13)


def test_users_x64_setting_is_unchanged() -> None:
    before = jax.config.jax_enable_x64
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2, mode=M)
    out = f(np.arange(3.0))
    assert out.dtype == np.float64
    assert jax.config.jax_enable_x64 == before
    if not before:
        # JAX's own defaults outside gnomon's calls are still 32-bit.
        assert jnp.asarray(np.arange(3.0)).dtype == np.float32
        assert jnp.zeros(2).dtype == np.float32


def test_int64_and_float32_dtypes_follow_numpy() -> None:
    a, b = gt.vector("a", dtype="int32"), gt.vector("b", dtype="float32")
    f = gnomon.function([a, b], [a + b, a // 2, a / 2, gt.exp(a)], mode=M)
    av, bv = np.arange(1, 5, dtype="int32"), np.linspace(0, 1, 4, dtype="float32")
    got = f(av, bv)
    want = [av + bv, av // 2, av / 2, np.exp(av)]
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).dtype == w.dtype  # NumPy's promotion, not JAX's
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-6)


def test_integer_division_by_zero_matches_numpy() -> None:
    a, b = gt.lvector("a"), gt.lvector("b")
    av, bv = np.array([5, -5, 7, 0]), np.array([0, 0, -2, 0])
    got = gnomon.function([a, b], [a // b, a % b], mode=M)(av, bv)
    with np.errstate(all="ignore"):
        want = [av // bv, av % bv]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(g), w)


# --- retracing, shared variables, inputs --------------------------------------------------


def test_new_shapes_retrace_and_are_cached() -> None:
    x = gt.dmatrix("x")
    f = gnomon.function([x], gt.sum(x, axis=0) * x.shape[0], mode=M)
    rng = np.random.default_rng(1)
    for shape in [(3, 4), (5, 2), (3, 4), (1, 7)]:
        xv = rng.standard_normal(shape)
        np.testing.assert_allclose(np.asarray(f(xv)), xv.sum(axis=0) * shape[0], rtol=1e-12)
    if hasattr(f.compiled.state.jitted, "_cache_size"):  # a JAX internal: one trace per shape
        assert f.compiled.state.jitted._cache_size() == 3
    assert not f.compiled.state.eager


def test_shapes_from_input_shapes_are_static_under_jit() -> None:
    x = gt.dvector("x")
    out = gt.zeros((x.shape[0] * 2, 3)) + gt.sum(x)
    f = gnomon.function([x], gt.reshape(out, (-1,)), mode=M)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JaxFallbackWarning)
        got = np.asarray(f(np.arange(4.0)))
    assert got.shape == (24,) and np.all(got == 6.0)
    assert not f.compiled.state.eager


def test_shapes_from_input_values_fall_back_with_a_warning() -> None:
    n = gt.lscalar("n")
    x = gt.dvector("x")
    f = gnomon.function([n, x], gt.arange(n) * gt.sum(x), mode=M)
    with pytest.warns(JaxFallbackWarning, match="arange"):
        got = f(4, np.ones(2))
    np.testing.assert_array_equal(np.asarray(got), np.arange(4) * 2.0)
    assert f.compiled.state.eager
    np.testing.assert_array_equal(np.asarray(f(2, np.ones(3))), np.arange(2) * 3.0)
    # The JAX callable cannot fall back inside the user's jax.jit: it says why.
    g = jax.jit(to_jax(gt.arange(n) * 1.0, [n]))
    with jax.enable_x64(True), pytest.raises(NeedsConcreteValue, match="values of the inputs"):
        g(3)


def test_boolean_mask_falls_back() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x[x > 0], mode=M)
    xv = np.array([1.0, -2.0, 3.0, -4.0])
    with pytest.warns(JaxFallbackWarning):
        np.testing.assert_array_equal(np.asarray(f(xv)), xv[xv > 0])


def test_shared_variables_and_updates() -> None:
    rng = np.random.default_rng(2)
    Xv, yv = rng.standard_normal((20, 3)), rng.standard_normal(20)
    X, y = gt.dmatrix("X"), gt.dvector("y")
    w = gnomon.shared(np.zeros(3), name="w")
    count = gnomon.shared(np.array(0, dtype="int64"), name="count")
    loss = gt.mean((X @ w - y) ** 2)
    gw = gnomon.grad(loss, w)
    step = gnomon.function([X, y], loss, updates=[(w, w - 0.1 * gw), (count, count + 1)],
                           mode=M)
    wv = np.zeros(3)
    for _ in range(4):
        lv = step(Xv, yv)
        np.testing.assert_allclose(float(lv), np.mean((Xv @ wv - yv) ** 2), rtol=1e-12)
        wv = wv - 0.1 * (2 * Xv.T @ (Xv @ wv - yv) / 20)
        np.testing.assert_allclose(w.get_value(), wv, rtol=1e-12)
    assert int(count.get_value()) == 4
    # The updated value (a JAX array) is usable by a function of another backend.
    ref = gnomon.function([X], X @ w, mode="numpy")(Xv)
    np.testing.assert_allclose(ref, Xv @ wv, rtol=1e-12)


def test_numpy_outputs_store_numpy_updates_for_other_backends() -> None:
    w = gnomon.shared(np.zeros(3), name="w")
    x = gt.dvector("x")
    f = numpy_outputs(gnomon.function([x], gt.sum(x * w), updates=[(w, w + x)], mode=M))
    out = f(np.ones(3))
    assert type(out) is np.ndarray and out.flags.writeable
    assert type(w.get_value(borrow=True)) is np.ndarray
    for mode in [m for m in gnomon.testing.available_modes() if m != M]:
        got = gnomon.function([x], x * w, mode=mode)(np.full(3, 2.0))
        np.testing.assert_array_equal(np.asarray(got), [2.0, 2.0, 2.0])


def test_updates_are_atomic() -> None:
    a = gnomon.shared(np.array(1.0), name="a")
    b = gnomon.shared(np.array(10.0), name="b")
    f = gnomon.function([], [a, b], updates=[(a, b), (b, a)], mode=M)
    assert [float(o) for o in f()] == [1.0, 10.0]
    assert float(a.get_value()) == 10.0 and float(b.get_value()) == 1.0


def test_jax_array_inputs() -> None:
    x = gt.dvector("x")
    i = gt.vector("i", dtype="int32")
    f = gnomon.function([x, i], [x * 2, i + 1], mode=M)
    with jax.enable_x64(True):
        xj = jnp.arange(3.0)
    out = f(xj, jnp.arange(3, dtype="int32"))
    assert isinstance(out[0], jax.Array) and isinstance(out[1], jax.Array)
    np.testing.assert_array_equal(np.asarray(out[0]), [0.0, 2.0, 4.0])
    assert out[1].dtype == np.int32
    # A float32 JAX array converts losslessly to float64; int16 to int32 too.
    np.testing.assert_array_equal(np.asarray(f(jnp.ones(2), jnp.ones(2, "int16"))[0]), [2, 2])
    with pytest.raises(GnomonTypeError, match=r"could lose information.*\n.*Hint"):
        f(xj, jnp.ones(2, dtype="float32"))
    with pytest.raises(GnomonTypeError, match="dimension"):
        f(jnp.ones((2, 2)), jnp.ones(2, "int32"))
    s = gt.tensor("s", dtype="float64", shape=(3,))
    g = gnomon.function([s], s + 1, mode=M)
    with pytest.raises(ShapeError, match="static shape"):
        g(jnp.ones(4))


def test_outputs_are_jax_arrays_or_numpy_on_request() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], [x + 1, x], mode=M)
    out = f(np.ones(2))
    assert all(isinstance(o, jax.Array) for o in out)
    numpy_outputs(f)
    out = f(np.ones(2))
    assert all(type(o) is np.ndarray for o in out)
    with pytest.raises(GnomonError, match="not compiled with mode='jax'"):
        numpy_outputs(gnomon.function([x], x + 1, mode="numpy"))


def test_runtime_shape_mismatch_is_a_gnomon_error() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], x + y, mode=M)
    with pytest.raises(GnomonError, match="add"):
        f(np.ones(3), np.ones(4))


# --- the JAX callable ---------------------------------------------------------------------


def test_to_jax_composes_with_grad_and_vmap() -> None:
    rng = np.random.default_rng(3)
    x, w = gt.dvector("x"), gt.dmatrix("w")
    cost = gt.sum(gt.tanh(w @ x) ** 2) + gt.logsumexp(x)
    f = to_jax(cost, [x, w])
    xv, wv = rng.standard_normal(3), rng.standard_normal((4, 3))
    ref_grads = gnomon.function([x, w], gnomon.grad(cost, [x, w]), mode="numpy")(xv, wv)
    with jax.enable_x64(True):
        gx, gw = jax.grad(f, argnums=(0, 1))(jnp.asarray(xv), jnp.asarray(wv))
        np.testing.assert_allclose(np.asarray(gx), ref_grads[0], rtol=1e-10)
        np.testing.assert_allclose(np.asarray(gw), ref_grads[1], rtol=1e-10)
        xs = rng.standard_normal((5, 3))
        batched = jax.vmap(f, in_axes=(0, None))(jnp.asarray(xs), jnp.asarray(wv))
        ref = gnomon.function([x, w], cost, mode="numpy")
        np.testing.assert_allclose(np.asarray(batched), [ref(r, wv) for r in xs], rtol=1e-12)
        # jit of grad of the callable, and the callable of a compiled function
        g2 = jax.jit(jax.grad(jax_fn(gnomon.function([x, w], cost, mode=M))))
        np.testing.assert_allclose(np.asarray(g2(jnp.asarray(xv), jnp.asarray(wv))),
                                   ref_grads[0], rtol=1e-10)


def test_to_jax_needs_x64_for_float64_and_says_so() -> None:
    if jax.config.jax_enable_x64:
        pytest.skip("x64 is enabled globally here")
    x = gt.dvector("x")
    f = to_jax(gt.sum(x * x), [x])
    with pytest.raises(GnomonTypeError, match=r"jax_enable_x64.*\n.*Hint.*enable_x64"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # JAX's own truncation warning
        f(np.ones(3))
    xf = gt.vector("xf", dtype="float32")
    g = jax.grad(to_jax(gt.sum(xf * xf), [xf]))  # float32 graphs need nothing
    np.testing.assert_allclose(np.asarray(g(np.ones(2, "float32"))), [2.0, 2.0])


def test_to_jax_reads_shared_values_when_called() -> None:
    x = gt.dvector("x")
    s = gnomon.shared(np.array(2.0), name="s")
    f = to_jax(x * s, [x])
    with jax.enable_x64(True):
        np.testing.assert_array_equal(np.asarray(f(jnp.ones(2))), [2.0, 2.0])
        s.set_value(np.array(3.0))
        np.testing.assert_array_equal(np.asarray(f(jnp.ones(2))), [3.0, 3.0])


def test_tensor_type_filter_messages_match_jax_filter() -> None:
    # The JAX input filter gives the same kind of errors as TensorType.filter.
    t = TensorType("float64", (None, 2))
    from gnomon.backends.jax.linker import filter_jax_array

    with pytest.raises(ShapeError) as e_np:
        t.filter(np.ones((3, 3)), name="x")
    with pytest.raises(ShapeError) as e_jax:
        filter_jax_array(t, jnp.ones((3, 3)), name="x")
    assert str(e_np.value).split("(")[0] == str(e_jax.value).split("(")[0]


# --- the rewrite-rule soundness cases, compiled for JAX -------------------------------------


def _rule_cases() -> list:
    from tests.rewrite.test_rules import CASES

    return list(CASES)


@pytest.mark.parametrize("case", _rule_cases(), ids=lambda c: str(c))
def test_rewritten_graphs_on_jax_match_the_unrewritten_reference(case) -> None:  # type: ignore[no-untyped-def]
    from gnomon.testing import tolerance
    from tests.rewrite.test_rules import REF

    xs = [a.variable(k) for k, a in enumerate(case.args)]
    outs = case.fn(*xs)
    outs = list(outs) if isinstance(outs, list | tuple) else [outs]
    f_ref = gnomon.function(xs, outs, mode=REF, on_unused_input="ignore")
    f_jax = gnomon.function(xs, outs, mode=gnomon.Mode(M).including(*case.include),
                            on_unused_input="ignore")
    rng = np.random.default_rng(0)
    base = (2, 3, 3)
    for _ in range(3):
        values = []
        for a in case.args:
            shape = a.static if a.static is not None else base[len(base) - a.ndim:]
            dt = np.dtype(a.dtype)
            v = (rng.integers(int(a.lo), int(a.hi) + 1, shape) if dt.kind in "iu"
                 else rng.uniform(a.lo, a.hi, shape))
            values.append(np.asarray(v).astype(dt))
        want = f_ref(*values)
        got = f_jax(*values)
        for g, w in zip(got, want, strict=True):
            g = np.asarray(g)
            assert g.shape == w.shape and g.dtype == w.dtype
            rt, at = tolerance(w.dtype)
            np.testing.assert_allclose(g, w, rtol=rt * 10, atol=at * 10, equal_nan=True)


def test_indices_known_at_trace_time_are_bounds_checked() -> None:
    from gnomon.tensor.indexing import IndexOutOfBoundsError

    x = gt.dvector("x")
    f = gnomon.function([x], x[5], mode=M)
    assert float(f(np.arange(7.0))) == 5.0
    with pytest.raises(IndexOutOfBoundsError, match=r"(?s)out of bounds.*Hint"):
        f(np.arange(3.0))
    g = gnomon.function([x], gt.set_subtensor(x[[0, 4]], 1.0), mode=M)
    with pytest.raises(IndexOutOfBoundsError):
        g(np.arange(3.0))


# --- inner-graph ops: OpFromGraph, IfElse, Scan --------------------------------------------


def _both(inputs, outputs, values, exclude=()):  # type: ignore[no-untyped-def]
    """Outputs of mode='jax' and of the reference, after checking dtypes and shapes agree."""
    got = gnomon.function(inputs, outputs, mode=gnomon.Mode(M).excluding(*exclude),
                          on_unused_input="ignore")(*values)
    want = gnomon.function(inputs, outputs, mode=gnomon.Mode("numpy").excluding(*exclude),
                           on_unused_input="ignore")(*values)
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    for g, w in zip(got, want, strict=True):
        g = np.asarray(g)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    return got


def test_op_from_graph_kept_as_a_node() -> None:
    a, b = gt.dscalar("a"), gt.dvector("b")
    op = gnomon.OpFromGraph([a, b], [a * b + 1, gt.sum(b)], name="f")
    x, y = gt.dscalar("x"), gt.dvector("y")
    out = op(x, op(x, y)[0])
    mode = gnomon.Mode(M).excluding("inline_opfromgraph")
    f = gnomon.function([x, y], out, mode=mode)
    assert any(isinstance(n.op, gnomon.OpFromGraph) for n in f.program.nodes)
    _both([x, y], out, [2.0, np.arange(3.0)], exclude=("inline_opfromgraph",))
    g = gnomon.grad(gt.sum(out[0]) + out[1], [x, y])
    _both([x, y], g, [2.0, np.arange(3.0)], exclude=("inline_opfromgraph",))


def test_ifelse_with_a_traced_condition_is_one_jitted_program() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    out = gnomon.ifelse(c > 0, gt.exp(x) * 2, gt.sin(x) - x)
    f = gnomon.function([c, x], out, mode=M)
    xv = np.linspace(-1, 1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JaxFallbackWarning)
        np.testing.assert_allclose(np.asarray(f(1.0, xv)), np.exp(xv) * 2)
        np.testing.assert_allclose(np.asarray(f(-1.0, xv)), np.sin(xv) - xv)
    assert not f.compiled.state.eager
    g = gnomon.grad(gt.sum(out ** 2), x)
    for cv in (1.0, -1.0):
        _both([c, x], g, [cv, xv])


def test_ifelse_with_branches_of_different_shapes_falls_back() -> None:
    c, x = gt.dscalar("c"), gt.dvector("x")
    f = gnomon.function([c, x], gnomon.ifelse(c > 0, x[1:], x), mode=M)
    with pytest.warns(JaxFallbackWarning, match="different shapes"):
        np.testing.assert_array_equal(np.asarray(f(1.0, np.arange(3.0))), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(f(-1.0, np.arange(3.0))), [0.0, 1.0, 2.0])


def test_scan_recurrences_taps_and_nonsequences() -> None:
    x, w = gt.dvector("x"), gt.dscalar("w")
    x0 = gt.dvector("x0")
    # out[t] = w * out[t-1] - out[t-2] + x[t], plus a non-recurrent output
    (rec, nit), _ = gnomon.scan(lambda xt, a, b, w: [w * b - a + xt, xt * b],
                                sequences=[x], non_sequences=[w],
                                outputs_info=[{"initial": x0, "taps": [-2, -1]}, None])
    rng = np.random.default_rng(4)
    vals = [rng.standard_normal(6), 0.7, rng.standard_normal(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", JaxFallbackWarning)
        _both([x, w, x0], [rec, nit], vals)
    g = gnomon.grad(gt.sum(rec ** 2) + gt.sum(nit), [x, w, x0])
    _both([x, w, x0], g, vals)


def test_scan_to_jax_grad_matches_gnomon_grad() -> None:
    x, h0 = gt.dvector("x"), gt.dscalar("h0")
    hs, _ = gnomon.scan(lambda xt, h: gt.tanh(h * 0.5 + xt), sequences=[x], outputs_info=[h0])
    cost = gt.sum(hs ** 2)
    rng = np.random.default_rng(5)
    xv, hv = rng.standard_normal(7), 0.3
    want = gnomon.function([x, h0], gnomon.grad(cost, [x, h0]), mode="numpy")(xv, hv)
    with jax.enable_x64(True):
        got = jax.grad(to_jax(cost, [x, h0]), argnums=(0, 1))(jnp.asarray(xv), jnp.asarray(hv))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-10)


def test_scan_with_steps_from_input_values_falls_back() -> None:
    n = gt.lscalar("n")
    acc, _ = gnomon.scan(lambda a: a * 2.0, outputs_info=[gt.constant(1.0)], n_steps=n)
    f = gnomon.function([n], acc, mode=M)
    with pytest.warns(JaxFallbackWarning, match="number of steps"):
        np.testing.assert_array_equal(np.asarray(f(4)), [2.0, 4.0, 8.0, 16.0])
    np.testing.assert_array_equal(np.asarray(f(0)), np.zeros(0))


def test_missing_jax_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from gnomon.errors import BackendUnavailableError

    monkeypatch.setitem(sys.modules, "jax", None)  # makes `import jax` fail
    x = gt.dvector("x")
    with pytest.raises(BackendUnavailableError, match=r"(?s)pip install 'gnomon\[jax\]'"):
        gnomon.function([x], x + 1, mode=M)


def test_scan_with_negative_steps_is_refused() -> None:
    # issue 16: the reference refuses n_steps < 0; JAX failed deep inside XLA instead
    from gnomon.errors import GnomonValueError

    v0, n = gt.dvector("v0"), gt.lscalar("n")
    out, _ = gnomon.scan(lambda h: h * 2.0 + 1.0, outputs_info=[v0], n_steps=n)
    with pytest.warns(Warning):
        f = gnomon.function([v0, n], out, mode="jax")
        assert f(np.ones(3), 2).shape == (2, 3)
    with pytest.raises(GnomonValueError, match="n_steps must be >= 0"):
        f(np.ones(3), -1)


# --- found by the differential fuzzer (tests/fuzz) ---------------------------------------------


def test_digamma_pole_at_zero_matches_scipy() -> None:
    # SciPy gives -inf at +0 and +inf at -0; jax.scipy.special.digamma gave nan
    x = gt.dvector("x")
    gnomon.testing.compare_backends(gt.digamma, [np.array([0.0, -0.0, 1.5, -1.0])], modes=[M])
    f = gnomon.function([x], gt.digamma(x), mode=M)
    np.testing.assert_array_equal(np.asarray(f(np.array([0.0, -0.0]))), [-np.inf, np.inf])


def test_einsum_summed_label_lengths_are_checked() -> None:
    # vdot of lengths 4 and 1: the reference raises ShapeError, JAX broadcast the 1 instead
    from gnomon.errors import ShapeError

    a, b = gt.dvector("a"), gt.dvector("b")
    f = gnomon.function([a, b], gt.vdot(a, b), mode=M)
    assert float(f(np.ones(4), np.ones(4))) == 4.0
    with pytest.raises(ShapeError, match="summed label"):
        f(np.ones(4), np.ones(1))


def test_inc_subtensor_into_an_empty_part_checks_broadcasting() -> None:
    # JAX's scatter accepted values of shape (1, 2) for an empty x[None, ::-2]
    from gnomon.errors import GnomonRuntimeError

    x, y = gt.dvector("x"), gt.dmatrix("y")
    f = gnomon.function([x, y], gt.inc_subtensor(x[None, ::-2], y), mode=M)
    np.testing.assert_array_equal(np.asarray(f(np.zeros(4), np.ones((1, 1)))), [0, 1, 0, 1])
    with pytest.raises(GnomonRuntimeError, match="broadcast"):
        f(np.zeros(0), np.ones((1, 2)))


def test_traced_index_into_an_empty_axis_is_out_of_bounds() -> None:
    # the reference raises IndexOutOfBoundsError; JAX's IndexError / gather TypeError leaked
    from gnomon.tensor.indexing import IndexOutOfBoundsError

    x, i, idx = gt.dmatrix("x"), gt.lscalar("i"), gt.bvector("idx")
    f = gnomon.function([x, i], [x[i, 1:]], mode=M)
    g = gnomon.function([x, idx], [x[:, idx]], mode=M)
    with pytest.raises(IndexOutOfBoundsError):
        f(np.zeros((0, 4)), 0)
    with pytest.raises(IndexOutOfBoundsError):
        g(np.zeros((2, 0)), np.zeros(1, "int8"))


def test_complex_to_bool_looks_at_both_parts() -> None:
    # NumPy: bool(1e-300j) is True; the JAX lowering took the real part only
    z = gt.zvector("z")
    f = gnomon.function([z], gt.cast(z, "bool"), mode=M)
    np.testing.assert_array_equal(np.asarray(f(np.array([1e-300j, 0j, 2 + 0j]))),
                                  [True, False, True])


def test_log_softmax_of_huge_values_keeps_log_of_the_sum() -> None:
    # x - (max + log s) lost log s at x = 2**64: the maximum got 0 instead of -log 2
    x = gt.tensor("x", dtype="uint64", shape=(None, None))
    gnomon.testing.compare_backends(gt.log_softmax, [np.array([[0, 0, 2**64 - 1, 2**64 - 1]],
                                                              dtype="uint64")], modes=[M])
    f = gnomon.function([x], gt.log_softmax(x), mode=M)
    got = np.asarray(f(np.array([[0, 2**64 - 1]], dtype="uint64")))
    np.testing.assert_allclose(got[0, 1], 0.0)  # the lone maximum
    got = np.asarray(f(np.array([[2**64 - 1, 2**64 - 1]], dtype="uint64")))
    np.testing.assert_allclose(got, [[-np.log(2), -np.log(2)]])


def test_clip_of_complex_numbers_orders_them_like_numpy() -> None:
    # jnp.clip refuses complex numbers; NumPy orders them lexicographically
    gnomon.testing.compare_backends(
        lambda z, lo: gt.clip(z, lo, 2.0),
        [np.array([1 + 2j, 3 - 1j, 1 + 0j, complex(np.nan, 0)]), np.array(1 + 1j, "complex64")],
        modes=[M])


def test_real_only_special_functions_refuse_complex_inputs_at_compile_time() -> None:
    # jax.scipy.special.erf raised a TypeError inside the traced program
    from gnomon.errors import NotLoweredError

    z = gt.zvector("z")
    with pytest.raises(NotLoweredError, match="complex"):
        gnomon.function([z], gt.erf(z), mode=M)
