"""gnomon.function: calling conventions, shared variables, updates, givens, errors."""

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.errors import (
    GnomonTypeError,
    MissingInputError,
    ShapeError,
    UnusedInputError,
)

M = "numpy"


def test_seed_example():
    a, b = gt.dscalar(), gt.dscalar()
    f = gnomon.function([a, b], a + b, mode=M)
    assert f(1.5, 2.5) == 4.0


def test_list_outputs_and_kwargs():
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], [x + y, x * y], mode=M)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    s, p = f(a, b)
    np.testing.assert_allclose(s, a + b)
    np.testing.assert_allclose(p, a * b)
    s2, _ = f(y=b, x=a)
    np.testing.assert_allclose(s2, a + b)
    with pytest.raises(TypeError, match="missing value"):
        f(x=a)
    with pytest.raises(TypeError, match="unexpected keyword"):
        f(a, z=b)


def test_linear_regression_step_with_updates():
    rng = np.random.default_rng(1)
    Xv, yv = rng.standard_normal((20, 3)), rng.standard_normal(20)
    X, y = gt.dmatrix("X"), gt.dvector("y")
    w = gnomon.shared(np.zeros(3), name="w")
    loss = gt.mean((X @ w - y) ** 2)
    step = gnomon.function(
        [X, y], loss, updates=[(w, w - 0.1 * (2 * X.T @ (X @ w - y) / y.shape[0]))], mode=M)
    wv = np.zeros(3)
    for _ in range(5):
        lv = step(Xv, yv)
        np.testing.assert_allclose(lv, np.mean((Xv @ wv - yv) ** 2))
        wv = wv - 0.1 * (2 * Xv.T @ (Xv @ wv - yv) / 20)
        np.testing.assert_allclose(w.get_value(), wv)


def test_updates_are_atomic():
    a = gnomon.shared(np.array(1.0), name="a")
    b = gnomon.shared(np.array(10.0), name="b")
    # Swap: each update must see the old values.
    f = gnomon.function([], [a, b], updates=[(a, b), (b, a)], mode=M)
    out = f()
    assert [float(o) for o in out] == [1.0, 10.0]
    assert float(a.get_value()) == 10.0 and float(b.get_value()) == 1.0


def test_shared_copy_and_borrow():
    v = np.ones(3)
    s = gnomon.shared(v)
    v[0] = 5
    assert s.get_value()[0] == 1.0
    got = s.get_value()
    got[1] = 7
    assert s.get_value()[1] == 1.0
    b = gnomon.shared(v, borrow=True)
    v[2] = 9
    assert b.get_value()[2] == 9
    s.set_value(np.zeros(4))
    assert s.get_value().shape == (4,)
    with pytest.raises(GnomonTypeError, match="dimension"):
        s.set_value(np.zeros((2, 2)))


def test_outputs_never_alias_inputs_or_shared():
    x = gt.dvector("x")
    w = gnomon.shared(np.arange(3.0))
    f = gnomon.function([x], [x, w, x.T], mode=M)
    a = np.arange(3.0)
    o1, o2, o3 = f(a)
    assert not np.shares_memory(o1, a) and not np.shares_memory(o3, a)
    o2[0] = 100
    assert w.get_value()[0] == 0


def test_inputs_not_mutated():
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2 + 1, mode=M)
    a = np.arange(4.0)
    f(a)
    np.testing.assert_array_equal(a, np.arange(4.0))


def test_givens():
    x, y = gt.dscalar("x"), gt.dscalar("y")
    f = gnomon.function([y], x * 2, givens={x: y + 1}, mode=M)
    assert f(3.0) == 8.0


def test_on_unused_input():
    x, y = gt.dscalar("x"), gt.dscalar("y")
    with pytest.raises(UnusedInputError, match="on_unused_input"):
        gnomon.function([x, y], x * 2, mode=M)
    with pytest.warns(UserWarning):
        gnomon.function([x, y], x * 2, on_unused_input="warn", mode=M)
    f = gnomon.function([x, y], x * 2, on_unused_input="ignore", mode=M)
    assert f(1.0, 2.0) == 2.0


def test_missing_input_names_the_variable_and_line():
    x, y = gt.dscalar("x"), gt.dscalar("yvar")
    with pytest.raises(MissingInputError) as e:
        gnomon.function([x], x + y, mode=M)
    assert "yvar" in str(e.value) and "test_function.py" in str(e.value)


def test_wrong_argument_count_and_kind():
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2, mode=M)
    with pytest.raises(TypeError, match="takes 1 argument"):
        f(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="str"):
        f("hello")
    with pytest.raises(TypeError, match="list of variables"):
        gnomon.function(x, x * 2)
    with pytest.raises(TypeError, match="not a symbolic variable"):
        gnomon.function([np.ones(2)], x)


def test_lossy_downcast_refused_with_hint():
    x = gt.fvector("x")
    f = gnomon.function([x], x * 2, mode=M)
    with pytest.raises(TypeError, match="allow_input_downcast=True"):
        f(np.ones(3, dtype="float64"))
    f2 = gnomon.function([x], x * 2, mode=M, allow_input_downcast=True)
    assert f2(np.ones(3)).dtype == np.float32
    # Python floats and int arrays that fit are fine (weak / exact).
    assert f([1.0, 2.5]).dtype == np.float32
    i = gt.ivector("i")
    g = gnomon.function([i], i + 1, mode=M)
    with pytest.raises(TypeError, match="lose information"):
        g(np.array([1.5]))
    with pytest.raises(TypeError, match="lose information"):
        g(np.array([2**40]))


def test_wrong_ndim():
    x = gt.dmatrix("X")
    f = gnomon.function([x], x * 2, mode=M)
    with pytest.raises(TypeError, match="2 dimension"):
        f(np.ones(3))


def test_static_shape_checked():
    x = gt.tensor("x", dtype="float64", shape=(None, 3))
    f = gnomon.function([x], x * 2, mode=M)
    with pytest.raises(ShapeError, match="dimension 1 is 4, not 3"):
        f(np.ones((2, 4)))


def test_build_time_shape_error_points_at_user_line():
    a = gt.tensor("a", shape=(3,))
    b = gt.tensor("b", shape=(4,))
    with pytest.raises(ShapeError) as e:
        a + b
    assert "test_function.py" in str(e.value) and "Hint" in str(e.value)


def test_run_time_shape_error_names_node_and_line():
    a, b = gt.dvector("a"), gt.dvector("b")
    c = a * b  # the user's line
    f = gnomon.function([a, b], c, mode=M)
    with pytest.raises(gnomon.errors.GnomonRuntimeError) as e:
        f(np.ones(3), np.ones(4))
    msg = str(e.value)
    assert "Elemwise(mul)" in msg and "c = a * b" in msg and "(3,), (4,)" in msg


def test_runtime_broadcasting_of_unknown_length_one():
    a, b = gt.dmatrix("a"), gt.dmatrix("b")
    f = gnomon.function([a, b], a + b, mode=M)
    rng = np.random.default_rng(2)
    u, v = rng.standard_normal((3, 1)), rng.standard_normal((1, 4))
    np.testing.assert_allclose(f(u, v), u + v)
    gu, gv = gnomon.grad(gt.sum((a + b) ** 2), [a, b])
    g = gnomon.function([a, b], [gu, gv], mode=M)
    ru, rv = g(u, v)
    np.testing.assert_allclose(ru, (2 * (u + v)).sum(1, keepdims=True))
    np.testing.assert_allclose(rv, (2 * (u + v)).sum(0, keepdims=True))


def test_update_type_mismatch_error():
    w = gnomon.shared(np.zeros(3))
    x = gt.fvector("x")
    with pytest.raises(TypeError, match="astype"):
        gnomon.function([x], x, updates=[(w, gt.cast(w, "float32") + x)], mode=M)
    with pytest.raises(TypeError, match="is not one"):
        gnomon.function([x], x, updates=[(x, x + 1)], mode=M)


def test_eval_and_mode_names():
    x = gt.dscalar("x")
    assert (x * 3).eval({x: 2.0}) == 6.0
    with pytest.raises(ValueError, match="not a mode"):
        gnomon.function([x], x, mode="bogus")
    f = gnomon.function([x], x + 1, mode="FAST_COMPILE")
    assert f(1.0) == 2.0


def test_trust_input_skips_checks():
    x = gt.dvector("x")
    f = gnomon.function([x], x + 1, mode=M)
    f.trust_input = True
    np.testing.assert_allclose(f(np.ones(2)), 2 * np.ones(2))


def test_config_change_context():
    with gnomon.config.change(floatX="float32"):
        assert gt.vector("v").dtype == "float32"
    assert gt.vector("v").dtype == "float64"
    with pytest.raises(AttributeError):
        gnomon.config.nonsense = 1


def test_shared_value_written_by_jax_is_read_by_other_backends():
    pytest.importorskip("jax")
    x = gt.dvector("x")
    w = gnomon.shared(np.zeros(2), name="w")
    fj = gnomon.function([x], w + x, updates=[(w, w + x)], mode="jax")
    fj(np.ones(2))
    for mode in ("numba", "numpy"):
        f = gnomon.function([x], w * 2 + x, mode=mode)
        np.testing.assert_allclose(f(np.ones(2)), [3.0, 3.0])
    assert callable(fj.jax_fn)
    with pytest.raises(AttributeError, match="mode='jax'"):
        gnomon.function([x], x, mode="numpy").jax_fn


@pytest.mark.parametrize("mode", ["numpy", "numba", "jax"])
def test_every_backend_returns_a_compiled_program(mode):
    # one linker contract: Function reads the CompiledProgram's fields and nothing else
    import dataclasses

    from gnomon.backends import get_backend
    from gnomon.compile.compiled import CompiledProgram
    from gnomon.compile.schedule import schedule

    pytest.importorskip(mode)
    x = gt.dvector("x")
    compiled = get_backend(mode).compile_program(schedule([x], [x * 2.0]))
    assert type(compiled) is CompiledProgram
    assert compiled.run is not None and (compiled.jax_fn is not None) == (mode == "jax")
    np.testing.assert_allclose(compiled([np.ones(2)])[0], [2.0, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.outputs_never_alias = True  # type: ignore[misc]
