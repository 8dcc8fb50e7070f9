"""Indexing: random index expressions against NumPy, static shapes, errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, ShapeError
from gnomon.graph.basic import Variable
from gnomon.tensor.indexing import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    IndexOutOfBoundsError,
    Nonzero,
    SliceIndex,
    Subtensor,
)
from gnomon.tensor.shapes import ShapeI, shape_tuple
from gnomon.testing import check_grads

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _f(inputs: list[Variable], outputs: Any) -> Any:
    return gnomon.function(inputs, outputs, mode="numpy", on_unused_input="ignore")


# --- random index expressions ------------------------------------------------------------


@dataclass
class Case:
    """A random array, a NumPy index into it and the same index with symbolic parts."""

    x: np.ndarray
    static: bool
    np_index: tuple[Any, ...]
    sym_index: tuple[Any, ...]
    inputs: list[Variable]
    values: list[Any]


def _scalar(draw: Any, value: int, inputs: list, values: list) -> Any:
    """``value`` as a Python int, a NumPy int, or a symbolic integer scalar input."""
    how = draw(st.sampled_from(["py", "np", "sym64", "sym32"]))
    if how == "py":
        return value
    if how == "np":
        return np.int64(value)
    dtype = "int64" if how == "sym64" else "int32"
    v = gt.tensor(f"i{len(inputs)}", dtype=dtype, shape=())
    inputs.append(v)
    values.append(np.asarray(value, dtype=dtype))
    return v


def _array(draw: Any, arr: np.ndarray, inputs: list, values: list) -> Any:
    """``arr`` as a NumPy constant, a list, or a symbolic input (static shape or not)."""
    how = draw(st.sampled_from(["np", "list", "sym", "sym_static"]))
    if how == "np":
        return arr
    if how == "list" and arr.dtype != bool and arr.ndim:
        return arr.tolist()
    if how == "list":
        return arr
    dtype = arr.dtype.name if arr.dtype == bool else draw(st.sampled_from(["int64", "int32"]))
    shape = arr.shape if how == "sym_static" else (None,) * arr.ndim
    v = gt.tensor(f"a{len(inputs)}", dtype=dtype, shape=shape)
    inputs.append(v)
    values.append(arr.astype(dtype))
    return v


@st.composite
def index_cases(draw: Any, allow_advanced: bool = True) -> Case:
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.integers(0, 4)) if draw(st.integers(0, 9)) == 0
                  else draw(st.integers(1, 4)) for _ in range(ndim))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = np.asarray(rng.standard_normal(shape).round(2))
    inputs: list[Variable] = []
    values: list[Any] = []
    kinds = ["int", "slice", "full"] + (["array", "array", "mask"] if allow_advanced else [])
    # One entry per axis (a mask may cover several): (kind, numpy value, symbolic value).
    plan: list[tuple[str, Any, Any]] = []
    has_mask = False
    bshape = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2))))
    axis = 0
    while axis < ndim:
        n = shape[axis]
        kind = draw(st.sampled_from(kinds))
        if kind in ("int", "array") and n == 0:
            kind = "slice"
        if kind == "mask" and has_mask:
            kind = "full"
        if kind == "int":
            i = draw(st.integers(-n, n - 1))
            plan.append(("int", i, _scalar(draw, i, inputs, values)))
            axis += 1
        elif kind == "slice":
            parts_np, parts_sym = [], []
            for which in ("start", "stop", "step"):
                if draw(st.booleans()):
                    parts_np.append(None)
                    parts_sym.append(None)
                    continue
                p = (draw(st.integers(-n - 2, n + 2)) if which != "step"
                     else draw(st.sampled_from([-3, -2, -1, 1, 2, 3])))
                parts_np.append(p)
                parts_sym.append(_scalar(draw, p, inputs, values))
            plan.append(("slice", slice(*parts_np), slice(*parts_sym)))
            axis += 1
        elif kind == "full":
            plan.append(("full", slice(None), slice(None)))
            axis += 1
        elif kind == "array":
            ashape = bshape[draw(st.integers(0, len(bshape))):]
            ashape = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in ashape)
            if has_mask:
                ashape = draw(st.sampled_from([(), (1,)]))
            arr = rng.integers(-n, n, ashape)
            plan.append(("array", arr, _array(draw, arr, inputs, values)))
            axis += 1
        else:
            m = draw(st.integers(1, ndim - axis))
            mask = rng.random(shape[axis:axis + m]) < 0.5
            plan.append(("mask", mask, _array(draw, mask, inputs, values)))
            has_mask = True
            axis += m
        if kind == "mask":
            # Arrays drawn before the mask must broadcast with its 1-d nonzero count.
            plan = [(k, np.zeros((1,), int), np.zeros((1,), int))
                    if k == "array" and np.shape(v) not in ((), (1,)) else (k, v, s)
                    for k, v, s in plan]
    # Replace a run of full slices (maybe empty) by an ellipsis, or drop trailing full slices.
    if draw(st.booleans()):
        start = draw(st.integers(0, len(plan)))
        stop = start
        while stop < len(plan) and plan[stop][0] == "full" and draw(st.booleans()):
            stop += 1
        plan[start:stop] = [("ellipsis", Ellipsis, Ellipsis)]
    else:  # (with an ellipsis, the entries after it align with the last axes: keep them)
        while plan and plan[-1][0] == "full" and draw(st.booleans()):
            plan.pop()
    for _ in range(draw(st.integers(0, 2))):
        plan.insert(draw(st.integers(0, len(plan))), ("new", None, None))
    np_index = tuple(v for _, v, _ in plan)
    sym_index = tuple(s for _, _, s in plan)
    return Case(x, draw(st.booleans()), np_index, sym_index, inputs, values)


def _x_var(case: Case) -> Variable:
    shape = case.x.shape if case.static else (None,) * case.x.ndim
    return gt.tensor("x", dtype="float64", shape=shape)


def _compatible(static: tuple[int | None, ...], actual: tuple[int, ...]) -> bool:
    return len(static) == len(actual) and all(s is None or s == a
                                              for s, a in zip(static, actual, strict=True))


def _key(case: Case) -> Any:
    return case.np_index if len(case.np_index) != 1 else case.np_index[0]


def _sym_key(case: Case) -> Any:
    return case.sym_index if len(case.sym_index) != 1 else case.sym_index[0]


@SETTINGS
@given(index_cases())
def test_getitem_matches_numpy(case: Case) -> None:
    x = _x_var(case)
    want = case.x[_key(case)]
    out = x[_sym_key(case)]
    event(type(out.owner.op).__name__)
    event(f"symbolic inputs: {min(len(case.inputs), 2)}")
    assert _compatible(out.type.shape, np.shape(want)), (out.type, np.shape(want))
    f = _f([x, *case.inputs], [out, *shape_tuple(out)])
    got, *shape = f(case.x, *case.values)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert tuple(int(s) for s in shape) == np.shape(want)
    # The shape rule computes the same shape without computing the output.
    node = out.owner
    sym = node.op.infer_shape(node, [shape_tuple(v) for v in node.inputs])[0]
    if sym:
        got_shape = _f([x, *case.inputs], list(sym))(case.x, *case.values)
        assert tuple(int(s) for s in got_shape) == np.shape(want)
    gnomon.graph.verify([out])


@st.composite
def update_cases(draw: Any) -> tuple[Case, np.ndarray]:
    case = draw(index_cases())
    target = np.shape(case.x[_key(case)])
    # Values broadcastable to the indexed shape: leading dims dropped, some lengths set to 1.
    yshape = target[draw(st.integers(0, len(target))):]
    yshape = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in yshape)
    y = np.asarray(np.random.default_rng(len(yshape)).standard_normal(yshape).round(2))
    return case, y


@SETTINGS
@given(update_cases(), st.booleans())
def test_set_and_inc_subtensor_match_numpy(data: tuple[Case, np.ndarray], set_: bool) -> None:
    case, y = data
    x = _x_var(case)
    yv = gt.tensor("y", dtype="float64", shape=(None,) * y.ndim)
    want = case.x.copy()
    if set_:
        want[_key(case)] = y
        out = gt.set_subtensor(x[_sym_key(case)], yv)
    else:
        np.add.at(want, _key(case), y)
        out = gt.inc_subtensor(x[_sym_key(case)], yv)
    assert out.type.shape == x.type.shape
    x_in = case.x.copy()
    got = _f([x, yv, *case.inputs], out)(x_in, y, *case.values)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x_in, case.x)  # the input is never written
    gnomon.graph.verify([out])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(update_cases(), st.booleans())
def test_random_index_gradients(data: tuple[Case, np.ndarray], set_: bool) -> None:
    case, y = data
    if case.x.size == 0:
        return
    k = len(case.inputs)
    values = [case.x, y, *case.values]

    def fn(x: Variable, yv: Variable, *idx: Variable) -> Any:
        sym = _substitute(case, idx)
        z = x[sym]
        upd = (gt.set_subtensor if set_ else gt.inc_subtensor)(z, yv)
        return [z * 1.0, upd]

    # Setting with repeated advanced indices has no well-defined gradient for y.
    wrt = (0,) if set_ else (0, 1)
    check_grads(fn, values, order=1, wrt=wrt)
    assert k == len(case.inputs)


def _substitute(case: Case, new_inputs: tuple[Variable, ...]) -> Any:
    """The case's symbolic index with its inputs replaced by ``new_inputs``."""
    table = {id(a): b for a, b in zip(case.inputs, new_inputs, strict=True)}

    def sub(p: Any) -> Any:
        if isinstance(p, Variable):
            return table.get(id(p), p)
        if isinstance(p, slice):
            return slice(sub(p.start), sub(p.stop), sub(p.step))
        return p

    return tuple(sub(p) for p in case.sym_index)


# --- specific behaviour ---------------------------------------------------------------------


def test_basic_index_is_a_view_with_static_shape() -> None:
    x = gt.tensor("x", shape=(5, 4, None))
    y = x[1:-1, None, ::-2, 2]
    assert isinstance(y.owner.op, Subtensor)
    assert y.owner.op.view_map == {0: 0}
    assert y.type.shape == (3, 1, 2)
    assert x[::-1].type.shape == (5, 4, None)
    assert x[7:].type.shape == (0, 4, None)
    # Constant ints are stored in the op (normalized), trailing full slices are dropped.
    assert x[-1, :, :].owner.op.idx_list == (4,)
    assert x[-1] is x[4]
    assert x[0:5:1].owner.op.idx_list == ()


def test_symbolic_scalars_are_node_inputs() -> None:
    x = gt.dmatrix("x")
    i, j = gt.lscalar("i"), gt.iscalar("j")
    y = x[i, j:]
    assert y.owner.inputs[1:] == (i, j)
    assert y.owner.op.idx_list[1] == SliceIndex(start=gt.indexing.INPUT)
    v = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(_f([x, i, j], y)(v, -2, 1), v[-2, 1:])


def test_advanced_dims_placement_follows_numpy() -> None:
    x = gt.tensor("x", shape=(2, 3, 4, 5))
    i = np.array([[0, 1]])
    v = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for idx in [(i, i), (slice(None), i, i), (i, slice(None), i), (0, slice(None), i),
                (slice(None), 0, i), (i, None, i), (None, slice(None), 0, i),
                (slice(None), i, None, i), (slice(None), i, ..., i, slice(None)),
                (slice(None), i, i, ...), (i, ..., i)]:
        y = x[idx]
        assert isinstance(y.owner.op, AdvancedSubtensor)
        assert y.type.shape == v[idx].shape, idx
        np.testing.assert_array_equal(_f([x], y)(v), v[idx])


def test_boolean_mask_shapes() -> None:
    x = gt.tensor("x", shape=(3, None))
    m = gt.tensor("m", dtype="bool", shape=(None, None))
    y = x[m]
    assert y.type.shape == (None,)
    c = np.array([True, False, True])
    assert x[c].type.shape == (2, None)  # a constant mask has a known count
    v = np.arange(12.0).reshape(3, 4)
    mv = v > 4
    np.testing.assert_array_equal(_f([x, m], y)(v, mv), v[mv])


def test_shape_indexing_is_a_shape_scalar() -> None:
    x = gt.tensor("x", shape=(None, 3))
    n = x.shape[0]
    assert isinstance(n.owner.op, ShapeI)
    assert n.type == gt.TensorType("int64", ())
    assert x.shape[-1].data == 3  # a constant: the length is static
    assert x.shape[1:].type.shape == (1,)
    v = np.zeros((5, 3))
    assert int(_f([x], n)(v)) == 5
    i = gt.lscalar("i")
    assert int(_f([x, i], x.shape[i])(v, 1)) == 3


def test_nested_update_updates_the_inner_array() -> None:
    x = gt.dmatrix("x")
    v = np.zeros((2, 3))
    inner = x[1]
    z = gt.set_subtensor(inner[1:], 1.0)
    assert z.owner.inputs[0] is inner
    np.testing.assert_array_equal(_f([x], z)(v), [0.0, 1.0, 1.0])
    z2 = gt.set_subtensor(x[1, 1:], 1.0)
    np.testing.assert_array_equal(_f([x], z2)(v), [[0, 0, 0], [0, 1, 1]])


def test_update_ops_and_value_conversion() -> None:
    x = gt.tensor("x", dtype="float32", shape=(None, None))
    z = gt.set_subtensor(x[0], 2)
    assert isinstance(z.owner.op, IncSubtensor) and z.owner.op.set_instead_of_inc
    assert z.dtype == "float32"
    z = gt.inc_subtensor(x[[0, 0]], gt.dmatrix("y"))  # float64 into float32: same kind
    assert isinstance(z.owner.op, AdvancedIncSubtensor) and not z.owner.op.set_instead_of_inc
    n = gt.lvector("n")
    z = gt.set_subtensor(n[1:], 2.7)  # set casts like NumPy's a[idx] = y
    np.testing.assert_array_equal(_f([n], z)(np.array([0, 0, 0])), [0, 2, 2])
    # Extra leading length-1 dimensions of the values are dropped, as in NumPy.
    y3 = gt.tensor("y3", shape=(1, None))
    z = gt.set_subtensor(gt.dvector("v")[:2], y3)
    assert z.owner.inputs[1].ndim == 1


def test_shape_rules_of_updates_and_nonzero() -> None:
    x = gt.dmatrix("x")
    v = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    z = gt.inc_subtensor(x[[1, 1], 1:], 1.0)
    (zs,) = z.owner.op.infer_shape(z.owner, [shape_tuple(a) for a in z.owner.inputs])
    assert [int(s) for s in _f([x], list(zs))(v)] == [2, 3]
    r, _ = gt.nonzero(x)
    (rs,), _c = r.owner.op.infer_shape(r.owner, [shape_tuple(x)])
    assert int(_f([x], rs)(v)) == 3


def test_list_of_symbolic_scalars_is_an_index_array() -> None:
    x = gt.dvector("x")
    i, j = gt.lscalar("i"), gt.iscalar("j")
    y = x[[i, j]]
    assert isinstance(y.owner.op, AdvancedSubtensor)
    np.testing.assert_array_equal(_f([x, i, j], y)(np.arange(5.0), 1, -1), [1.0, 4.0])


def test_take_and_nonzero() -> None:
    x = gt.dmatrix("x")
    v = np.arange(12.0).reshape(3, 4)
    idx = np.array([[0, 3], [-1, 1]])
    np.testing.assert_array_equal(_f([x], gt.take(x, idx, axis=1))(v), np.take(v, idx, axis=1))
    np.testing.assert_array_equal(_f([x], gt.take(x, idx % 3, axis=-2))(v),
                                  np.take(v, idx % 3, axis=-2))
    np.testing.assert_array_equal(_f([x], gt.take(x, 2, axis=0))(v), np.take(v, 2, axis=0))
    np.testing.assert_array_equal(_f([x], gt.take(x, idx))(v), np.take(v, idx))
    np.testing.assert_array_equal(_f([x], gt.take(x, [True, False], axis=1))(v),
                                  np.take(v, [True, False], axis=1))
    m = gt.lmatrix("m")
    mv = np.array([[0, 2, 0], [1, 0, 3]])
    outs = gt.nonzero(m)
    assert isinstance(outs[0].owner.op, Nonzero) and len(outs) == 2
    got = _f([m], list(outs))(mv)
    for g, w in zip(got, np.nonzero(mv), strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == np.int64
    (one,) = gt.nonzero(gt.bvector("b"))
    assert one.type == gt.TensorType("int64", (None,))


def test_grad_accumulates_repeated_indices_and_second_order() -> None:
    x = gt.dvector("x")
    i = gt.lvector("i")
    cost = gt.sum(x[i] ** 3)
    g = gnomon.grad(cost, x)
    xv, iv = np.array([1.0, 2.0, 3.0]), np.array([0, 0, 2])
    want = np.zeros(3)
    np.add.at(want, iv, 3 * xv[iv] ** 2)
    np.testing.assert_allclose(_f([x, i], g)(xv, iv), want)
    check_grads(lambda a: gt.inc_subtensor(a[[0, 0, 2]], a * 2.0), [xv], order=2)
    check_grads(lambda a, b: gt.set_subtensor(a[1:, ::-1], b), [np.ones((3, 2)), np.ones(2)],
                order=2)


# --- errors ------------------------------------------------------------------------------------


def test_too_many_indices() -> None:
    x = gt.dmatrix("x")
    with pytest.raises(IndexOutOfBoundsError, match=r"too many indices[\s\S]*Hint:"):
        x[0, 1, 2]
    with pytest.raises(IndexOutOfBoundsError, match=r"boolean mask counts[\s\S]*Hint:"):
        x[0, np.ones((2, 2), bool)]
    with pytest.raises(IndexOutOfBoundsError, match=r"uses 3 dimensions[\s\S]*Hint:"):
        Subtensor((0, 0, 0))(x)  # an op built directly is checked too


def test_float_and_bad_indices() -> None:
    x = gt.dvector("x")
    with pytest.raises(GnomonTypeError, match=r"integer or boolean type, not float64[\s\S]*Hint:"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(GnomonTypeError, match=r"integer or boolean type[\s\S]*Hint:"):
        x[gt.dscalar("f")]
    with pytest.raises(GnomonTypeError, match=r"slice bounds must be integers[\s\S]*Hint:"):
        x[: gt.dscalar("f")]
    with pytest.raises(GnomonTypeError, match=r"boolean scalar[\s\S]*Hint:"):
        x[True]
    with pytest.raises(gnomon.errors.GnomonValueError, match=r"single ellipsis"):
        x[..., ...]
    with pytest.raises(gnomon.errors.GnomonValueError, match=r"step cannot be zero"):
        x[::0]


def test_out_of_bounds_at_build_and_run_time() -> None:
    x = gt.tensor("x", shape=(3, None))
    with pytest.raises(IndexOutOfBoundsError, match=r"index 3 is out of bounds for axis 0 "
                                                    r"with size 3[\s\S]*Hint:"):
        x[3]
    with pytest.raises(IndexOutOfBoundsError, match=r"index -4 is out of bounds"):
        x[[0, -4]]
    with pytest.raises(IndexOutOfBoundsError, match=r"boolean index did not match[\s\S]*Hint:"):
        x[np.ones(4, bool)]
    f = _f([x], x[:, 5])
    with pytest.raises(IndexOutOfBoundsError, match=r"index 5 is out of bounds[\s\S]*Hint:"
                                                 r"[\s\S]*test_indexing.py"):
        f(np.zeros((3, 2)))


def test_update_errors() -> None:
    x = gt.dmatrix("x")
    with pytest.raises(GnomonTypeError, match=r"expects the result of indexing[\s\S]*Hint:"):
        gt.set_subtensor(x, 1.0)
    with pytest.raises(GnomonTypeError, match=r"expects the result of indexing"):
        gt.inc_subtensor(x * 2, 1.0)
    with pytest.raises(GnomonTypeError, match=r"shape scalar"):
        gt.set_subtensor(x.shape[0], 1)
    with pytest.raises(GnomonTypeError, match=r"same_kind[\s\S]*Hint:"):
        gt.inc_subtensor(gt.lvector("n")[0], 1.5)
    s = gt.tensor("s", shape=(4, 3))
    with pytest.raises(ShapeError, match=r"cannot be broadcast[\s\S]*Hint:"):
        gt.set_subtensor(s[1:], np.ones(2))
    with pytest.raises(ShapeError, match=r"more dimensions[\s\S]*Hint:"):
        gt.set_subtensor(s[0], gt.dmatrix("y"))


def test_nonzero_of_scalar_is_an_error() -> None:
    with pytest.raises(gnomon.errors.GnomonValueError, match=r"0-d[\s\S]*Hint:"):
        gt.nonzero(gt.dscalar("s"))
