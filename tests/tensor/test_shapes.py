"""Shape ops beyond the op-records table: hypothesis-generated shapes against NumPy, static
shapes, ``infer_shape`` against the real output shapes, error messages, and outputs that never
alias the caller's arrays."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonError, GnomonRuntimeError, GnomonValueError, ShapeError
from gnomon.graph.basic import Variable

# The reference backend re-raises a failing node's error with the node and the user's line; it
# may keep the ShapeError class or wrap it in GnomonRuntimeError (naming "ShapeError").
RUNTIME_ERRORS = (ShapeError, GnomonRuntimeError)

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _run(inputs, outputs, *values):  # type: ignore[no-untyped-def]
    return gnomon.function(inputs, outputs, mode="numpy", on_unused_input="ignore")(*values)


def _sym(a: np.ndarray, static: bool, name: str = "x") -> Variable:
    return gt.tensor(name, dtype=a.dtype, shape=a.shape if static else (None,) * a.ndim)


def _line_of(marker: str) -> int:
    """The line number in this file of the source line containing ``marker``."""
    src, start = inspect.getsourcelines(inspect.getmodule(_line_of))  # type: ignore[arg-type]
    for i, line in enumerate(src):
        if marker in line and "_line_of" not in line:
            return start + i if start else i + 1
    raise AssertionError(marker)


# --- hypothesis: compare with NumPy ----------------------------------------------------------

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@st.composite
def reshape_cases(draw):  # type: ignore[no-untyped-def]
    shape = draw(shapes)
    dims = list(shape)
    perm = draw(st.permutations(dims)) if dims else []
    # Regroup the permuted lengths: merge random neighbours, insert some 1s.
    out: list[int] = []
    for d in perm:
        if out and draw(st.booleans()):
            out[-1] *= d
        else:
            out.append(d)
    for _ in range(draw(st.integers(0, 2))):
        out.insert(draw(st.integers(0, len(out))), 1)
    size = int(np.prod(shape, dtype=np.int64))
    if out and size > 0 and draw(st.booleans()):
        out[draw(st.integers(0, len(out) - 1))] = -1
    return shape, tuple(out), draw(st.booleans())


@SETTINGS
@given(reshape_cases())
def test_reshape_matches_numpy(case) -> None:  # type: ignore[no-untyped-def]
    shape, target, static = case
    a = np.random.default_rng(0).standard_normal(shape)
    x = _sym(a, static)
    y = gt.reshape(x, target)
    want = np.reshape(a, target)
    got = _run([x], y, a)
    np.testing.assert_array_equal(got, want)
    # Static lengths: every constant entry is known; -1 too when the input is fully static.
    for t, s, w in zip(target, y.type.shape, want.shape, strict=True):
        if t >= 0 or static or a.ndim == 0:
            assert s == w
        else:
            assert s is None


@st.composite
def concat_cases(draw):  # type: ignore[no-untyped-def]
    ndim = draw(st.integers(1, 3))
    base = [draw(st.integers(0, 3)) for _ in range(ndim)]
    axis = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.integers(1, 3))
    shapes_ = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(0, 3))
        shapes_.append(tuple(s))
    dtypes = [draw(st.sampled_from(["float64", "float32", "int64", "int8"])) for _ in range(n)]
    statics = [draw(st.booleans()) for _ in range(n)]
    return shapes_, dtypes, statics, axis


@SETTINGS
@given(concat_cases())
def test_concatenate_matches_numpy(case) -> None:  # type: ignore[no-untyped-def]
    shapes_, dtypes, statics, axis = case
    rng = np.random.default_rng(1)
    arrays = [(rng.standard_normal(s) * 5).astype(d) for s, d in zip(shapes_, dtypes,
                                                                     strict=True)]
    xs = [_sym(a, st_, f"x{i}") for i, (a, st_) in enumerate(zip(arrays, statics, strict=True))]
    y = gt.concatenate(xs, axis=axis)
    want = np.concatenate(arrays, axis=axis)
    got = _run(xs, y, *arrays)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    ax = axis % want.ndim
    if all(statics):
        assert y.type.shape == want.shape
    for d in range(want.ndim):
        if d != ax and any(statics):
            assert y.type.shape[d] == want.shape[d]


@SETTINGS
@given(shapes, st.integers(1, 3), st.data())
def test_stack_matches_numpy(shape, n, data) -> None:  # type: ignore[no-untyped-def]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    static = data.draw(st.booleans())
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape) for _ in range(n)]
    xs = [_sym(a, static, f"x{i}") for i, a in enumerate(arrays)]
    y = gt.stack(xs, axis=axis)
    want = np.stack(arrays, axis=axis)
    np.testing.assert_array_equal(_run(xs, y, *arrays), want)
    if static:
        assert y.type.shape == want.shape


@SETTINGS
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.data())
def test_moveaxis_matches_numpy(shape, data) -> None:  # type: ignore[no-untyped-def]
    nd = len(shape)
    k = data.draw(st.integers(1, nd))
    src = data.draw(st.permutations(range(nd)))[:k]
    dst = data.draw(st.permutations(range(nd)))[:k]
    src = [s - nd if data.draw(st.booleans()) else s for s in src]
    a = np.random.default_rng(3).standard_normal(shape)
    x = _sym(a, True)
    y = gt.moveaxis(x, src, dst)
    want = np.moveaxis(a, src, dst)
    assert y.type.shape == want.shape
    np.testing.assert_array_equal(_run([x], y, a), want)


# --- static shapes ---------------------------------------------------------------------------


def test_static_shapes() -> None:
    m = gt.tensor("m", shape=(None, 3, 4))
    assert gt.flatten(m, 2).type.shape == (None, 12)
    assert gt.reshape(m, (2, -1)).type.shape == (2, None)
    assert gt.broadcast_to(gt.tensor("v", shape=(None,)), (5, 3)).type.shape == (5, 3)
    assert gt.broadcast_to(gt.tensor("v", shape=(3,)), (gt.lscalar("n"), 3)).type.shape \
        == (None, 3)
    assert gt.repeat(gt.tensor("v", shape=(3,)), 2).type.shape == (6,)
    assert gt.repeat(gt.tensor("v", shape=(3,)), [1, 0, 2]).type.shape == (3,)
    assert gt.repeat(gt.tensor("v", shape=(None,)), 0).type.shape == (0,)
    assert gt.tile(gt.tensor("v", shape=(2, 3)), (2, 1, 2)).type.shape == (2, 2, 6)
    assert [p.type.shape for p in gt.split(gt.tensor("v", shape=(None, 6)), [2, 5], axis=1)] \
        == [(None, 2), (None, 3), (None, 1)]
    assert gt.concatenate([gt.tensor("a", shape=(2, None)), gt.tensor("b", shape=(3, 4))]
                          ).type.shape == (5, 4)
    assert gt.eye(3, 4).type.shape == (3, 4)
    assert gt.arange(2, 11, 3).type.shape == (3,)
    assert gt.linspace(0.0, 1.0, 9).type.shape == (9,)
    assert gt.squeeze(gt.tensor("s", shape=(1, None, 1))).type.shape == (None,)


def test_identity_cases_return_input() -> None:
    x = gt.dmatrix("x")
    assert gt.reshape(x, x.shape) is x
    assert gt.flatten(x, 2) is x
    assert gt.broadcast_to(x, gt.shape(x)) is x
    assert gt.tile(x, (1, 1)) is x


def test_stack_of_scalars_is_a_make_vector() -> None:
    from gnomon.tensor.shapes import MakeVector

    n = gt.lscalar("n")
    v = gt.as_tensor([n, 3])
    assert isinstance(v.owner.op, MakeVector)
    assert v.type == gt.TensorType("int64", (2,))
    x = gt.dvector("x")
    y = gt.reshape(x, v)
    assert y.type.shape == (None, 3)
    assert _run([x, n], y, np.arange(6.0), 2).shape == (2, 3)


def test_as_tensor_of_nested_lists_with_variables() -> None:
    a, b = gt.dscalar("a"), gt.dscalar("b")
    m = gt.as_tensor([[a, 1.0], [2.0, b]])
    assert m.type == gt.TensorType("float64", (2, 2))
    np.testing.assert_array_equal(_run([a, b], m, 3.0, 4.0), [[3.0, 1.0], [2.0, 4.0]])
    g = gnomon.grad(gt.sum(m * gt.constant([[1.0, 2.0], [3.0, 4.0]])), [a, b])
    assert [float(v) for v in _run([a, b], g, 3.0, 4.0)] == [1.0, 4.0]


def test_reshape_vector_of_unknown_length_with_ndim() -> None:
    x, s = gt.dvector("x"), gt.lvector("s")
    y = gt.reshape(x, s, ndim=2)
    assert y.ndim == 2
    assert _run([x, s], y, np.arange(6.0), np.array([3, 2])).shape == (3, 2)
    with pytest.raises(GnomonError, match="do not add up"):
        _run([x, s], y, np.arange(6.0), np.array([6, 1, 1]))


# --- infer_shape against the real shapes ----------------------------------------------------


def _check_infer_shape(inputs, out, *values):  # type: ignore[no-untyped-def]
    node = out.owner
    in_shapes = [gt.shape_tuple(v) for v in node.inputs]
    shapes = node.op.infer_shape(node, in_shapes)
    flat = [d for s in shapes for d in s]
    got = _run(inputs, [*node.outputs, *flat], *values) if flat else _run(
        inputs, list(node.outputs), *values)
    outs, dims = got[: len(node.outputs)], got[len(node.outputs):]
    it = iter(dims)
    for o, s in zip(outs, shapes, strict=True):
        assert tuple(int(next(it)) for _ in s) == o.shape


def test_infer_shape() -> None:
    x, n, r = gt.dmatrix("x"), gt.lscalar("n"), gt.lvector("r")
    a = np.ones((2, 6))
    _check_infer_shape([x], gt.reshape(x, (3, -1)), a)
    _check_infer_shape([x], gt.flatten(x), a)
    _check_infer_shape([x, n], gt.broadcast_to(x, (n, 2, 6)), a, 4)
    _check_infer_shape([x], gt.concatenate([x, x, x], axis=1), a)
    _check_infer_shape([x, n], gt.split_sizes(x, [n, 6 - n], axis=1)[0], a, 2)
    _check_infer_shape([x, r], gt.repeat(x, r, axis=0), a, np.array([3]))
    _check_infer_shape([x, r], gt.repeat(x, r, axis=0), a, np.array([3, 0]))
    _check_infer_shape([x, n], gt.repeat(x, n, axis=1), a, 2)
    _check_infer_shape([n], gt.eye(n, 3), 2)
    _check_infer_shape([n], gt.linspace(0.0, 1.0, n), 5)
    for args in [(1, 7, 2), (7, 1, -2), (5, 1, 1), (0, 0, 3)]:
        s, e, k = (gt.lscalar(c) for c in "sek")
        _check_infer_shape([s, e, k], gt.arange(s, e, k), *args)
    f, g, h = gt.dscalar("f"), gt.dscalar("g"), gt.dscalar("h")
    for args in [(0.0, 1.0, 0.1), (0.5, 3.0, 0.75), (2.0, -1.0, -0.3), (1.0, 0.0, 0.5)]:
        _check_infer_shape([f, g, h], gt.arange(f, g, h), *args)


# --- error messages --------------------------------------------------------------------------


def test_concatenate_static_mismatch_names_dims_and_line() -> None:
    a, b = gt.tensor("a", shape=(2, 3)), gt.tensor("b", shape=(2, 4))
    with pytest.raises(ShapeError) as e:
        gt.concatenate([a, b])  # MARK-concat-static
    msg = str(e.value)
    assert "dimension 1" in msg and "[3, 4]" in msg and "Hint:" in msg
    assert __file__ in msg and f"line {_line_of('MARK-concat-static')}" in msg


def test_concatenate_rank_mismatch() -> None:
    with pytest.raises(ShapeError, match="same number of dimensions"):
        gt.concatenate([gt.dmatrix("a"), gt.dvector("b")])
    with pytest.raises(ShapeError, match="zero-dimensional"):
        gt.concatenate([gt.dscalar("a"), gt.dscalar("b")])


def test_concatenate_runtime_mismatch() -> None:
    a, b = gt.dmatrix("a"), gt.dmatrix("b")
    y = gt.concatenate([a, b])
    with pytest.raises(RUNTIME_ERRORS, match=r"\(1, 4\).*\(2, 3\)"):
        _run([a, b], y, np.ones((2, 3)), np.ones((1, 4)))


def test_reshape_static_mismatch() -> None:
    x = gt.tensor("x", shape=(2, 3))
    with pytest.raises(ShapeError, match=r"size 6.*size 8"):
        gt.reshape(x, (4, 2))
    with pytest.raises(ShapeError, match="not a multiple of 4"):
        gt.reshape(x, (4, -1))
    with pytest.raises(ShapeError, match="more than one -1"):
        gt.reshape(x, (-1, -1))


def test_reshape_runtime_error_names_sizes_and_line() -> None:
    x = gt.dmatrix("x")
    y = gt.reshape(x, (4, 2))  # MARK-reshape-runtime
    f = gnomon.function([x], y, mode="numpy")
    with pytest.raises(RUNTIME_ERRORS) as e:
        f(np.ones((2, 3)))
    msg = str(e.value)
    assert "size 6" in msg and "(2, 3)" in msg and "(4, 2)" in msg and "size 8" in msg
    assert __file__ in msg and f"line {_line_of('MARK-reshape-runtime')}" in msg
    z = gt.reshape(x, (4, -1))
    with pytest.raises(RUNTIME_ERRORS, match="not a multiple of 4"):
        _run([x], z, np.ones((2, 3)))


def test_broadcast_to_errors() -> None:
    with pytest.raises(ShapeError, match="neither 1 nor 4"):
        gt.broadcast_to(gt.tensor("x", shape=(3,)), (4,))
    with pytest.raises(ShapeError, match="at least"):
        gt.broadcast_to(gt.dmatrix("x"), (3,))
    x = gt.dvector("x")
    with pytest.raises(RUNTIME_ERRORS, match=r"shape \(3,\) to shape \(2, 4\)"):
        _run([x], gt.broadcast_to(x, (2, 4)), np.ones(3))


def test_split_errors() -> None:
    with pytest.raises(ShapeError, match="does not divide into 4"):
        gt.split(gt.tensor("x", shape=(6,)), 4)
    x = gt.dvector("x")
    parts = gt.split(x, 4)
    with pytest.raises(RUNTIME_ERRORS, match="do not add up to the length 6"):
        _run([x], parts, np.ones(6))
    with pytest.raises(GnomonValueError, match="non-decreasing"):
        gt.split(x, [3, 1])


def test_squeeze_errors() -> None:
    with pytest.raises(ShapeError, match="not 1"):
        gt.squeeze(gt.tensor("x", shape=(2, 3)), axis=0)
    x = gt.dmatrix("x")
    with pytest.raises(RUNTIME_ERRORS, match="length is 2, not 1"):
        _run([x], gt.squeeze(x, axis=0), np.ones((2, 3)))


def test_repeat_errors() -> None:
    with pytest.raises(ShapeError, match="2 repeat counts"):
        gt.repeat(gt.tensor("x", shape=(3,)), [1, 2])
    x, r = gt.dvector("x"), gt.lvector("r")
    with pytest.raises(RUNTIME_ERRORS, match="2 repeat counts"):
        _run([x, r], gt.repeat(x, r), np.ones(3), np.array([1, 2]))


def test_split_points_past_the_end_give_empty_pieces() -> None:
    x = gt.dvector("x")
    parts = gt.split(x, [2, 9])
    a = np.arange(5.0)
    for g, w in zip(_run([x], parts, a), np.split(a, [2, 9]), strict=True):
        np.testing.assert_array_equal(g, w)


# --- outputs never alias the caller's arrays ------------------------------------------------


VIEWS = {
    "transpose": lambda x: x.T,
    "dimshuffle": lambda x: x.dimshuffle(1, "x", 0),
    "expand_dims": lambda x: gt.expand_dims(x, 0),
    "squeeze": lambda x: gt.squeeze(gt.expand_dims(x, 0), 0),
    "reshape": lambda x: gt.reshape(x, (-1,)),
    "flatten": lambda x: gt.flatten(x),
    "broadcast_to": lambda x: gt.broadcast_to(x, (2, 3, 4)),
    "split": lambda x: gt.split(x, 3, axis=0)[1],
    "moveaxis": lambda x: gt.moveaxis(x, 0, 1),
}


@pytest.mark.parametrize("mode", ["numpy", None])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_outputs_do_not_alias_inputs(name: str, mode: str | None) -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = gt.dmatrix("x")
    out = gnomon.function([x], VIEWS[name](x), mode=mode)(a)
    assert not np.shares_memory(out, a)
    assert out.flags.writeable
    before = a.copy()
    out[...] = -1.0
    np.testing.assert_array_equal(a, before)


def test_split_outputs_do_not_alias_each_other_or_input() -> None:
    a = np.arange(6.0)
    x = gt.dvector("x")
    outs = gnomon.function([x], [*gt.split(x, 2), x.reshape((2, 3))], mode="numpy")(a)
    for o in outs:
        assert not np.shares_memory(o, a)
