"""Family tests for reductions, cumulative ops, softmax and sorting (beyond the op records):
gradients of ``prod`` at zeros, stability at extreme values, hypothesis-generated shapes and
axes against NumPy, symbolic shapes, and error messages."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError
from gnomon.testing import check_grads

RNG = np.random.default_rng(20261122)


def _run(fn, *values):  # type: ignore[no-untyped-def]
    xs = [gt.tensor(f"x{i}", dtype=v.dtype, shape=(None,) * v.ndim) for i, v in enumerate(values)]
    return gnomon.function(xs, fn(*xs), mode="numpy")(*values)


def _prod_grad_reference(v: np.ndarray, axis: int) -> np.ndarray:
    """d prod / d x_i = product of the other elements, by brute force (no division)."""
    out = np.empty_like(v)
    n = v.shape[axis]
    for i in range(n):
        others = np.delete(v, i, axis=axis)
        idx = [slice(None)] * v.ndim
        idx[axis] = i
        out[tuple(idx)] = np.prod(others, axis=axis)
    return out


# --- prod with zeros --------------------------------------------------------------------


@pytest.mark.parametrize("zeros", [[(0, 1)], [(0, 1), (0, 3)], [(0, 0), (0, 1), (0, 2)],
                                   [(0, 2), (1, 0), (1, 3)]])
def test_prod_grad_with_zeros(zeros: list[tuple[int, int]]) -> None:
    v = RNG.uniform(0.5, 2.0, (2, 4)) * RNG.choice([-1, 1], (2, 4))
    for z in zeros:
        v[z] = 0.0
    # Finite differences along random directions ...
    check_grads(lambda x: gt.prod(x, axis=1), [v], order=1)
    check_grads(lambda x: gt.prod(x), [v], order=1)
    # Second derivatives too (the product is a polynomial, so they exist at zeros).
    check_grads(lambda x: gt.prod(x, axis=1), [v], order=2)
    check_grads(lambda x: gt.prod(x, axis=0, keepdims=True), [v], order=2)
    # ... and the exact gradient, element by element.
    x = gt.dmatrix("x")
    g = gnomon.function([x], gnomon.grad(gt.sum(gt.prod(x, axis=1)), x), mode="numpy")(v)
    np.testing.assert_allclose(g, _prod_grad_reference(v, 1), rtol=1e-12, atol=0)
    assert np.all(np.isfinite(g))


def test_prod_hessian_with_zeros() -> None:
    # The exact Hessian of prod at a point with two zeros: H[i, k] = prod of the others.
    v = np.array([0.0, 2.0, 0.0, -3.0, 0.5])
    x = gt.dvector("x")
    g = gnomon.grad(gt.prod(x), x)
    rows = [gnomon.grad(gt.sum(g * gt.constant(e)), x) for e in np.eye(v.size)]
    f = gnomon.function([x], rows, mode="numpy")
    want = np.array([[0.0 if i == k else np.prod(np.delete(v, [i, k])) for k in range(v.size)]
                     for i in range(v.size)])
    np.testing.assert_allclose(np.array(f(v)), want, rtol=1e-12)


def test_prod_second_order_without_zeros() -> None:
    v = RNG.uniform(0.5, 2.0, (3, 4))
    check_grads(lambda x: gt.prod(x, axis=0, keepdims=True), [v], order=2)


def test_prod_grad_runtime_broadcast_length_one() -> None:
    # A reduced dimension of unknown static length that is 1 at run time.
    v = RNG.uniform(0.5, 2.0, (3, 1))
    check_grads(lambda x: gt.prod(x, axis=1) * gt.max(x, axis=1), [v], order=1)


# --- max / min gradients -----------------------------------------------------------------


def test_max_grad_splits_ties_equally() -> None:
    v = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = gt.dmatrix("x")
    g = gnomon.function([x], gnomon.grad(gt.sum(gt.max(x, axis=1)), x), mode="numpy")(v)
    np.testing.assert_allclose(g, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    g = gnomon.function([x], gnomon.grad(gt.min(x), x), mode="numpy")(v)
    np.testing.assert_allclose(g, [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


# --- stability at extreme values ----------------------------------------------------------


EXTREME = [np.array([1000.0, 1000.0]), np.array([-1000.0, -1000.0]),
           np.array([1000.0, -1000.0, 0.0]), np.array([[1e308, 1e308], [-1e308, 0.0]])]


@pytest.mark.parametrize("v", EXTREME, ids=range(len(EXTREME)))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logsumexp_softmax_stable(v: np.ndarray, dtype: str) -> None:
    if dtype == "float32":
        v = np.clip(v, -1e38, 1e38)
    v = v.astype(dtype)
    x = gt.tensor("x", dtype=dtype, shape=(None,) * v.ndim)
    w = gt.constant(RNG.standard_normal(v.shape).astype(dtype))
    lse = gt.logsumexp(x, axis=-1)
    outs = [lse, gt.softmax(x), gt.log_softmax(x), gnomon.grad(gt.sum(lse), x),
            gnomon.grad(gt.sum(gt.softmax(x) * w), x),
            gnomon.grad(gt.sum(gt.log_softmax(x) * w), x)]
    got = gnomon.function([x], outs, mode="numpy")(v)
    for g in got:
        assert np.all(np.isfinite(g)), got
    v64 = v.astype("float64")
    rt = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got[0], sp.logsumexp(v64, axis=-1), rtol=rt)
    np.testing.assert_allclose(got[1], sp.softmax(v64, axis=-1), rtol=rt, atol=1e-300)
    np.testing.assert_allclose(got[2], sp.log_softmax(v64, axis=-1), rtol=rt)
    # The gradient of logsumexp is the softmax.
    np.testing.assert_allclose(got[3], sp.softmax(v64, axis=-1), rtol=rt, atol=1e-300)
    assert got[0].dtype == got[1].dtype == got[2].dtype == np.dtype(dtype)


def test_softmax_grads_at_large_values() -> None:
    v = np.array([[1000.0, 999.0, 998.5], [-1000.0, -1001.0, -999.0]])
    check_grads(lambda x: gt.softmax(x), [v], order=2)
    check_grads(lambda x: gt.log_softmax(x, axis=0), [v], order=2)
    check_grads(lambda x: gt.logsumexp(x, axis=1), [v], order=2)


def test_logsumexp_infinite_slices() -> None:
    v = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [0.0, -np.inf]])
    got = _run(lambda x: gt.logsumexp(x, axis=1), v)
    np.testing.assert_array_equal(got, sp.logsumexp(v, axis=1))


# --- hypothesis: shapes and axes against NumPy ---------------------------------------------


@st.composite
def arrays_and_axes(draw):  # type: ignore[no-untyped-def]
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    kind = draw(st.sampled_from(["axis_none", "int", "tuple"]))
    if kind == "axis_none" or ndim == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)))
        axis = tuple(a - ndim if draw(st.booleans()) else a for a in axis)
    dtype = draw(st.sampled_from(["float64", "float32", "int32", "int8"]))
    keepdims = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        v = rng.integers(-4, 5, shape).astype(dtype)
    else:
        v = rng.uniform(-3, 3, shape).astype(dtype)
    return v, axis, keepdims


REDUCTIONS = {
    "sum": (gt.sum, np.sum),
    "max": (gt.max, np.max),
    "min": (gt.min, np.min),
    "mean": (gt.mean, np.mean),
    "var": (gt.var, np.var),
    "prod": (gt.prod, np.prod),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=25, deadline=None)
@given(case=arrays_and_axes())
def test_reductions_match_numpy(name: str, case) -> None:  # type: ignore[no-untyped-def]
    v, axis, keepdims = case
    ours, ref = REDUCTIONS[name]
    x = gt.tensor("x", dtype=v.dtype, shape=(None,) * v.ndim)
    got = gnomon.function([x], ours(x, axis=axis, keepdims=keepdims), mode="numpy")(v)
    want = np.asarray(ref(v, axis=axis, keepdims=keepdims))
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    rtol = 1e-5 if v.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("name", ["sum", "max", "mean", "var"])
@settings(max_examples=10, deadline=None)
@given(case=arrays_and_axes())
def test_reduction_grads_hypothesis(name: str, case) -> None:  # type: ignore[no-untyped-def]
    v, axis, keepdims = case
    # Distinct values: max has no gradient at ties. Shapes hold length-1 dimensions that the
    # graph only learns about at run time.
    v = (RNG.permutation(v.size).reshape(v.shape) * 0.37 + 0.1).astype("float64")
    ours = REDUCTIONS[name][0]
    check_grads(lambda x: ours(x, axis=axis, keepdims=keepdims), [v], order=1)


# --- symbolic shapes (infer_shape) ----------------------------------------------------------


SHAPE_CASES = [
    (lambda x: gt.prod(x, axis=1), (3, 4)),
    (lambda x: gt.max(x, axis=(0, 2)), (2, 3, 4)),
    (lambda x: gt.min(x), (2, 3)),
    (lambda x: gt.argmax(x, axis=0), (2, 3)),
    (lambda x: gt.argmin(x), (2, 3)),
    (lambda x: gt.all(x, axis=-1), (2, 3)),
    (lambda x: gt.any(x, axis=0), (2, 3)),
    (lambda x: gt.logsumexp(x, axis=1), (2, 3, 4)),
    (lambda x: gt.softmax(x), (2, 3)),
    (lambda x: gt.log_softmax(x, axis=0), (2, 3)),
    (lambda x: gt.cumsum(x, axis=1), (2, 3)),
    (lambda x: gt.cumprod(x, axis=0), (2, 3)),
    (lambda x: gt.sort(x, axis=0), (4, 3)),
    (lambda x: gt.argsort(x), (4, 3)),
    (lambda x: gt.searchsorted(gt.constant([1.0, 2.0]), x), (4, 3)),
]


@pytest.mark.parametrize(("fn", "shape"), SHAPE_CASES, ids=range(len(SHAPE_CASES)))
def test_infer_shape(fn, shape) -> None:  # type: ignore[no-untyped-def]
    from gnomon.tensor.shapes import make_vector, shape_tuple

    x = gt.dtensor3("x") if len(shape) == 3 else gt.dmatrix("x")
    out = fn(x)
    node = out.owner
    (sym,) = node.op.infer_shape(node, [shape_tuple(i) for i in node.inputs])
    v = RNG.standard_normal(shape)
    f = gnomon.function([x], [out, make_vector(*sym)], mode="numpy", on_unused_input="ignore")
    value, got = f(v)
    assert tuple(got) == value.shape


def test_static_shapes() -> None:
    x = gt.tensor("x", shape=(2, None, 4))
    assert gt.max(x, axis=1).type.shape == (2, 4)
    assert gt.prod(x, axis=(0, 2), keepdims=True).type.shape == (1, None, 1)
    assert gt.argmax(x, axis=-1).type.shape == (2, None)
    assert gt.cumsum(gt.tensor("y", shape=(2, 3))).type.shape == (6,)
    assert gt.sort(x, axis=None).type.shape == (None,)
    assert gt.softmax(x).type.shape == (2, None, 4)


# --- cumulative ops and sorting ---------------------------------------------------------


def test_cumsum_cumprod_grads() -> None:
    v = RNG.uniform(0.5, 1.5, (3, 4))
    for axis in (0, 1, -1, None):
        check_grads(lambda x, a=axis: gt.cumsum(x, axis=a), [v], order=2)
        check_grads(lambda x, a=axis: gt.cumprod(x, axis=a), [v], order=2)


def _cumprod_jacobian(v: np.ndarray) -> np.ndarray:
    """J[k, i] = d cumprod(v)_k / d v_i = prod of v_j for j <= k, j != i (brute force)."""
    n = v.size
    return np.array([[np.prod([v[j] for j in range(k + 1) if j != i]) if i <= k else 0.0
                      for i in range(n)] for k in range(n)])


@pytest.mark.parametrize("zeros", [[], [2], [0], [1, 3], [2, 3, 5]])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumprod_grad_with_zeros(zeros: list[int], reverse: bool) -> None:
    from gnomon.tensor.reduce import Cumprod

    v = RNG.uniform(0.5, 2.0, 6) * RNG.choice([-1, 1], 6)
    v[zeros] = 0.0
    w = RNG.standard_normal(6)
    x = gt.dvector("x")
    y = Cumprod(0, reverse)(x) if reverse else gt.cumprod(x)
    g = gnomon.function([x], gnomon.grad(gt.sum(y * gt.constant(w)), x), mode="numpy")(v)
    jac = _cumprod_jacobian(v[::-1])[::-1, ::-1] if reverse else _cumprod_jacobian(v)
    np.testing.assert_allclose(g, w @ jac, rtol=1e-12, atol=1e-15)
    check_grads(lambda x: Cumprod(0, reverse)(x), [v], order=1)
    check_grads(lambda x: gt.cumprod(gt.stack([x, x * 2.0]), axis=1), [v], order=1)


def test_sort_grad_scatters_through_permutation() -> None:
    v = RNG.permutation(12).reshape(3, 4).astype("float64")
    w = RNG.standard_normal((3, 4))
    x = gt.dmatrix("x")
    g = gnomon.function([x], gnomon.grad(gt.sum(gt.sort(x, axis=1) * w), x), mode="numpy")(v)
    want = np.empty_like(w)
    np.put_along_axis(want, np.argsort(v, axis=1), w, axis=1)
    np.testing.assert_array_equal(g, want)
    check_grads(lambda x: gt.sort(x, axis=0), [v], order=2)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fn", "err", "text"), [
    (lambda x: gt.sum(x, axis=2), GnomonValueError, "axis 2 is out of bounds"),
    (lambda x: gt.max(x, axis=-3), GnomonValueError, "axis -3 is out of bounds"),
    (lambda x: gt.prod(x, axis=(0, 0)), GnomonValueError, "duplicate value in axis"),
    (lambda x: gt.mean(x, axis=(1, -1)), GnomonValueError, "duplicate value in axis"),
    (lambda x: gt.var(x, axis=1.5), GnomonTypeError, "not an integer"),
    (lambda x: gt.argmax(x, axis=(0, 1)), GnomonTypeError, "axis must be an integer or None"),
    (lambda x: gt.cumsum(x, axis=2), GnomonValueError, "out of bounds"),
    (lambda x: gt.softmax(x, axis=5), GnomonValueError, "out of bounds"),
    (lambda x: gt.sort(x, axis=2), GnomonValueError, "out of bounds"),
    (lambda x: gt.sort(x[0, 0]), GnomonValueError, "0-d array"),
    (lambda x: gt.searchsorted(x, 1.0), GnomonValueError, "must be 1-d"),
    (lambda x: gt.searchsorted(x[0], 1.0, side="middle"), GnomonValueError, "side="),
])
def test_bad_axes_errors(fn, err, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(err, match=text) as info:
        fn(gt.dmatrix("x"))
    assert "Hint:" in str(info.value)


def test_zero_d_axis_error_hint() -> None:
    with pytest.raises(GnomonValueError, match="0-d array has no axes"):
        gt.sum(gt.dscalar("s"), axis=0)
