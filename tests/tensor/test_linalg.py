"""Products and linear algebra: errors, run-time failures, second derivatives, broadcasting.

Values and gradients of every function are checked row by row in
``tests/records/blas_records.py`` and ``tests/records/linalg_records.py``; this file covers what
a table row cannot: build-time errors, LAPACK failures at run time, static shapes, the Hessian of
a Cholesky log-determinant, and batch broadcasting on random shapes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonValueError, NullGradientError, ShapeError
from gnomon.testing import check_grads

RNG = np.random.default_rng(0)


def _spd(n: int, *batch: int) -> np.ndarray:
    a = RNG.standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _chol_logdet(a):  # type: ignore[no-untyped-def]
    return gt.sum(gt.log(gt.einsum("...ii->...i", gt.cholesky(a))))


# --- second derivatives ---------------------------------------------------------------------


def test_cholesky_logdet_hessian_matches_finite_differences() -> None:
    check_grads(_chol_logdet, [_spd(4)], order=2)


def test_cholesky_logdet_hessian_batched() -> None:
    check_grads(_chol_logdet, [_spd(3, 2)], order=2)


def test_cholesky_logdet_is_half_logdet_for_symmetric_parameterization() -> None:
    # Through a = x x^T + n I (a symmetric input), the gradient of sum(log(diag(L))) must be
    # that of logdet(a) / 2, although cholesky reads only the lower triangle.
    x = gt.dmatrix("x")
    a = x @ x.T + gt.constant(4.0 * np.eye(4))
    g1 = gnomon.grad(_chol_logdet(a), x)
    g2 = gnomon.grad(0.5 * gt.slogdet(a)[1], x)
    h1 = gnomon.grad(gt.sum(g1 * g1), x)
    h2 = gnomon.grad(gt.sum(g2 * g2), x)
    f = gnomon.function([x], [g1, g2, h1, h2], mode="numpy")
    v = RNG.standard_normal((4, 4))
    r1, r2, s1, s2 = f(v)
    np.testing.assert_allclose(r1, r2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(s1, s2, rtol=1e-8, atol=1e-11)


def test_eigh_gradient_symmetric_parameterization() -> None:
    # sum of w * c (c fixed weights) through a symmetric input: d/dx = 2 V diag(c) V^T x.
    x = gt.dmatrix("x")
    c = np.array([1.0, -2.0, 0.5])
    w, _ = gt.eigh(x + x.T)
    g = gnomon.grad(gt.sum(w * gt.constant(c)), x)
    v = RNG.standard_normal((3, 3))
    _, vecs = np.linalg.eigh(v + v.T)
    want = 2 * vecs @ np.diag(c) @ vecs.T
    np.testing.assert_allclose(g.eval({x: v}, mode="numpy"), want, rtol=1e-9, atol=1e-12)


def test_solve_hessian_batched_broadcast() -> None:
    check_grads(lambda a, b: gt.solve(a, b), [_spd(3, 2, 1), RNG.standard_normal((4, 3, 2))],
                order=2)


# --- build-time errors ---------------------------------------------------------------------


def test_dot_shape_mismatch_is_reported_at_build_time() -> None:
    a = gt.tensor("a", shape=(3, 4))
    v = gt.tensor("v", shape=(5,))
    with pytest.raises(ShapeError, match=r"(?s)not aligned.*length 4.*length 5.*Hint"):
        gt.dot(a, v)
    with pytest.raises(ShapeError, match=r"test_linalg\.py"):
        a @ gt.tensor("b", shape=(2, 6))


def test_matmul_batch_mismatch_and_scalars() -> None:
    with pytest.raises(ShapeError, match="batch dimensions"):
        gt.tensor("a", shape=(2, 3, 4)) @ gt.tensor("b", shape=(5, 4, 3))
    with pytest.raises(GnomonValueError, match=r"(?s)scalars.*Hint"):
        gt.matmul(gt.dscalar("s"), gt.dvector("v"))


def test_tensordot_and_einsum_errors() -> None:
    a = gt.tensor("a", shape=(3, 4))
    with pytest.raises(ShapeError, match=r"(?s)shape-mismatch.*Hint"):
        gt.tensordot(a, gt.tensor("b", shape=(3, 4)), axes=([0], [1]))
    with pytest.raises(GnomonValueError, match="same number of axes"):
        gt.tensordot(a, a, axes=([0, 1], [0]))
    with pytest.raises(ShapeError, match=r"(?s)label 'j'.*Hint"):
        gt.einsum("ij,jk->ik", a, gt.tensor("b", shape=(5, 2)))
    with pytest.raises(ShapeError, match="subscript"):
        gt.einsum("ijk->i", a)
    with pytest.raises(GnomonValueError, match="repeats a label"):
        gt.einsum("ij->ii", a)
    with pytest.raises(GnomonValueError, match=r"(?s)'\.\.\.'.*Hint"):
        gt.einsum("...j->j", gt.dtensor3("t"))
    with pytest.raises(GnomonValueError, match="operand"):
        gt.einsum("ij,jk->ik", a)


@pytest.mark.parametrize("fn", [gt.inv, gt.det, gt.cholesky, gt.slogdet, gt.eigh])
def test_square_functions_reject_non_square_and_vectors(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ShapeError, match=r"(?s)square.*lengths 3 and 4.*Hint"):
        fn(gt.tensor("a", shape=(3, 4)))
    with pytest.raises(ShapeError, match=r"(?s)needs a matrix.*Hint"):
        fn(gt.dvector("v"))


def test_solve_shape_errors() -> None:
    a = gt.tensor("a", shape=(3, 3))
    with pytest.raises(ShapeError, match=r"(?s)b needs 3 rows.*Hint"):
        gt.solve(a, gt.tensor("b", shape=(4,)))
    with pytest.raises(ShapeError, match="b needs 3 rows"):
        gt.solve_triangular(a, gt.tensor("b", shape=(2, 5)), lower=True)
    with pytest.raises(ShapeError, match="lstsq"):
        gt.lstsq(gt.tensor("m", shape=(4, 3)), gt.tensor("b", shape=(5,)))


def test_unsupported_options_say_so() -> None:
    with pytest.raises(GnomonValueError, match="mode='reduced'"):
        gt.qr(gt.dmatrix("a"), mode="complete")
    with pytest.raises(GnomonValueError, match="trans"):
        gt.solve_triangular(gt.dmatrix("a"), gt.dvector("b"), trans=3)
    with pytest.raises(TypeError, match="Python int"):
        gt.matrix_power(gt.dmatrix("a"), 1.5)  # type: ignore[arg-type]
    with pytest.raises(GnomonValueError, match="matrix norm"):
        gt.norm(gt.dmatrix("a"), ord="bogus")
    with pytest.raises(TypeError, match="LAPACK"):
        gt.inv(gt.tensor("h", dtype="float16", shape=(2, 2)))


def test_svd_full_matrices_gradient_needs_square() -> None:
    a = gt.dmatrix("a")
    u, s, _vh = gt.svd(a)
    with pytest.raises(NullGradientError, match="full_matrices=False"):
        gnomon.grad(gt.sum(u), a)
    # The singular values alone always have a gradient (u and vh unused).
    g = gnomon.grad(gt.sum(s), a)
    x = RNG.standard_normal((4, 3))
    uu, _, vvh = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(g.eval({a: x}, mode="numpy"), uu @ vvh, rtol=1e-9, atol=1e-12)


# --- run-time LAPACK failures --------------------------------------------------------------


def test_cholesky_not_positive_definite_names_node_and_line() -> None:
    a = gt.dmatrix("a")
    chol = gt.cholesky(a)  # the line the error must show
    f = gnomon.function([a], chol, mode="numpy")
    with pytest.raises(np.linalg.LinAlgError) as info:
        f(-np.eye(3))
    msg = str(info.value)
    assert "not positive definite" in msg
    assert "Hint:" in msg
    assert "test_linalg.py" in msg and "chol = gt.cholesky(a)" in msg
    assert isinstance(info.value, gt.LinAlgError)


@pytest.mark.parametrize(
    ("build", "what"),
    [
        (lambda a: gt.inv(a), "singular"),
        (lambda a: gt.solve(a, gt.constant(np.ones(3))), "singular"),
        (lambda a: gt.solve_triangular(a, gt.constant(np.ones(3)), lower=True), "singular"),
    ],
)
def test_singular_matrix_errors(build, what) -> None:  # type: ignore[no-untyped-def]
    a = gt.dmatrix("a")
    f = gnomon.function([a], build(a), mode="numpy")
    with pytest.raises(gt.LinAlgError, match=rf"(?s){what}.*Hint.*Built at"):
        f(np.zeros((3, 3)))


def test_einsum_summed_label_lengths_checked_at_run_time() -> None:
    a, b = gt.dmatrix("a"), gt.dmatrix("b")
    f = gnomon.function([a, b], gt.einsum("ij,jk->ik", a, b), mode="numpy")
    with pytest.raises(ShapeError, match=r"(?s)summed label 'j'.*Hint.*Built at"):
        f(np.ones((3, 1)), np.ones((4, 2)))


def test_einsum_static_length_one_label_broadcasts_with_gradients() -> None:
    a = gt.tensor("a", shape=(3, 1))
    b = gt.dmatrix("b")
    out = gt.einsum("ij,jk->ik", a, b)
    ga, gb = gnomon.grad(gt.sum(out * out), [a, b])
    f = gnomon.function([a, b], [out, ga, gb], mode="numpy")
    x, y = RNG.standard_normal((3, 1)), RNG.standard_normal((4, 2))
    o, gx, gy = f(x, y)
    np.testing.assert_allclose(o, np.einsum("ij,jk->ik", x, y))
    ones = np.ones((1, 4))
    # Same function written with an explicit broadcast: a @ ones is (3, 4).
    want_gx = (2 * o @ y.T) @ ones.T
    want_gy = (x @ ones).T @ (2 * o)
    np.testing.assert_allclose(gx, want_gx, rtol=1e-10)
    np.testing.assert_allclose(gy, want_gy, rtol=1e-10)


# --- shapes, dtypes, broadcasting ----------------------------------------------------------


@pytest.mark.parametrize("da", ["int32", "int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("db", ["int8", "float32", "float64"])
def test_product_dtypes_follow_numpy(da: str, db: str) -> None:
    x, y = np.ones((2, 3), da), np.ones((3, 2), db)
    a, b = gt.tensor("a", dtype=da, shape=(2, 3)), gt.tensor("b", dtype=db, shape=(3, 2))
    assert (a @ b).dtype == np.matmul(x, y).dtype.name
    assert gt.einsum("ij,jk", a, b).dtype == np.einsum("ij,jk", x, y).dtype.name
    assert gt.tensordot(a, b, 1).dtype == np.tensordot(x, y, 1).dtype.name


@pytest.mark.parametrize("dt", ["int64", "float32", "float64"])
def test_linalg_dtypes_follow_numpy(dt: str) -> None:
    x = (2 * np.eye(3)).astype(dt)
    a = gt.tensor("a", dtype=dt, shape=(3, 3))
    assert gt.inv(a).dtype == np.linalg.inv(x).dtype.name
    assert gt.det(a).dtype == np.linalg.det(x).dtype.name
    assert gt.solve(a, a).dtype == np.linalg.solve(x, x).dtype.name
    assert gt.cholesky(a).dtype == np.linalg.cholesky(x).dtype.name


def test_static_shapes() -> None:
    a = gt.tensor("a", shape=(2, 1, 3, 4))
    b = gt.tensor("b", shape=(5, 4, 6))
    assert (a @ b).type.shape == (2, 5, 3, 6)
    assert gt.dot(gt.tensor("c", shape=(2, 3, 4)), b).type.shape == (2, 3, 5, 6)
    assert gt.solve(gt.tensor("s", shape=(2, 3, 3)), gt.tensor("v", shape=(3,))).type.shape \
        == (2, 3)
    u, s, vh = gt.svd(gt.tensor("m", shape=(4, 3)), full_matrices=False)
    assert (u.type.shape, s.type.shape, vh.type.shape) == ((4, 3), (3,), (3, 3))
    q, r = gt.qr(gt.tensor("m", shape=(4, 3)))
    assert (q.type.shape, r.type.shape) == ((4, 3), (3, 3))
    assert gt.pinv(gt.tensor("m", shape=(4, 3))).type.shape == (3, 4)


def test_einsum_transpose_is_a_view_not_an_einsum() -> None:
    from gnomon.tensor.shapes import DimShuffle

    x = gt.dtensor3("x")
    assert isinstance(gt.einsum("ijk->kij", x).owner.op, DimShuffle)


_dims = st.integers(1, 3)


@settings(max_examples=15, deadline=None)
@given(
    batch_a=st.lists(_dims, max_size=2), batch_b=st.lists(_dims, max_size=2),
    m=_dims, k=_dims, n=_dims, drop=st.booleans(),
)
def test_matmul_batch_broadcast_matches_numpy(batch_a, batch_b, m, k, n, drop) -> None:  # type: ignore[no-untyped-def]
    # Make the batch shapes broadcast-compatible: where both exist, one of them is 1 or equal.
    la, lb = len(batch_a), len(batch_b)
    for i in range(1, min(la, lb) + 1):
        if batch_a[-i] != batch_b[-i]:
            (batch_a if drop else batch_b)[-i] = 1
    x = RNG.standard_normal((*batch_a, m, k))
    y = RNG.standard_normal((*batch_b, k, n))
    a, b = gt.tensor("a", ndim=x.ndim), gt.tensor("b", ndim=y.ndim)
    out = a @ b
    ga, gb = gnomon.grad(gt.sum(out * out), [a, b])
    f = gnomon.function([a, b], [out, ga, gb], mode="numpy")
    o, gx, gy = f(x, y)
    want = np.matmul(x, y)
    np.testing.assert_allclose(o, want, rtol=1e-12)
    # Gradients have the inputs' shapes (broadcast batch dims summed back).
    assert gx.shape == x.shape and gy.shape == y.shape
    full_gx = 2 * want @ np.swapaxes(y, -1, -2)
    axes = tuple(range(full_gx.ndim - x.ndim))
    red = full_gx.sum(axis=axes)
    red = red.sum(axis=tuple(i for i, s in enumerate(x.shape) if s == 1 and red.shape[i] != 1),
                  keepdims=True)
    np.testing.assert_allclose(gx, red, rtol=1e-10, atol=1e-12)


def test_matmul_pushforward_matches_pullback_transposed() -> None:
    check_grads(lambda a, b: a @ b, [RNG.standard_normal((2, 1, 2, 3)),
                                      RNG.standard_normal((4, 3, 2))], order=1)


def test_kron_and_matrix_power_shapes() -> None:
    a = gt.dmatrix("a")
    x = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(gt.kron(a, a).eval({a: x}, mode="numpy"), np.kron(x, x))
    sq = gt.dmatrix("sq")
    y = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(gt.matrix_power(sq, -3).eval({sq: y}, mode="numpy"),
                               np.linalg.matrix_power(y, -3), rtol=1e-9)


def test_eigvalsh_gradient_is_finite_for_repeated_eigenvalues() -> None:
    # Only w is used, so no 1 / (w_j - w_i) term enters: the gradient V diag(c) V^T is finite.
    a = gt.dmatrix("a")
    c = np.array([1.0, 2.0, 3.0])
    g = gnomon.grad(gt.sum(gt.eigvalsh(a) * gt.constant(c)), a)
    x = 2.0 * np.eye(3)
    got = g.eval({a: x}, mode="numpy")
    _, v = np.linalg.eigh(x)
    m = v @ np.diag(c) @ v.T
    np.testing.assert_allclose(got, np.tril(m + m.T, -1) + np.diag(np.diag(m)))


@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (lambda a: list(gt.svd(a)), (4, 3)),
        (lambda a: list(gt.svd(a, full_matrices=False)), (3, 5)),
        (lambda a: [gt.svd(a, compute_uv=False)], (2, 4, 3)),
        (lambda a: list(gt.qr(a)), (2, 5, 3)),
        (lambda a: list(gt.eigh(a)), (2, 3, 3)),
        (lambda a: [gt.inv(a), gt.det(a), gt.cholesky(a)], (2, 3, 3)),
        (lambda a: [gt.pinv(a)], (2, 4, 3)),
        (lambda a: [a @ a.mT, gt.einsum("...ij,...kj->...ik", a, a)], (2, 4, 3)),
    ],
)
def test_infer_shape_matches_run_time_shapes(build, shape) -> None:  # type: ignore[no-untyped-def]
    from gnomon.tensor.shapes import shape_tuple

    a = gt.tensor("a", ndim=len(shape))
    outs = build(a)
    x = _spd(shape[-1], *shape[:-2]) if shape[-1] == shape[-2] else RNG.standard_normal(shape)
    for o in outs:
        inferred = o.owner.op.infer_shape(o.owner, [shape_tuple(i) for i in o.owner.inputs])
        dims = inferred[o.index]
        f = gnomon.function([a], [gt.stack([gt.cast(d, "int64") for d in dims]), o],
                            mode="numpy")
        got_shape, val = f(x)
        assert tuple(got_shape) == val.shape


@st.composite
def _einsum_case(draw):  # type: ignore[no-untyped-def]
    labels = "abcd"
    sizes = {c: draw(st.integers(1, 3)) for c in labels}
    n_ops = draw(st.integers(1, 3))
    subs = [draw(st.text(alphabet=labels, min_size=0, max_size=3)) for _ in range(n_ops)]
    used = sorted(set("".join(subs)))
    out = draw(st.permutations(used)) if used else []
    out = "".join(out[: draw(st.integers(0, len(out)))])
    return ",".join(subs) + "->" + out, [tuple(sizes[c] for c in s) for s in subs]


@settings(max_examples=25, deadline=None)
@given(case=_einsum_case())
def test_einsum_random_subscripts_values_and_gradients(case) -> None:  # type: ignore[no-untyped-def]
    subs, shapes = case
    values = [RNG.standard_normal(s) for s in shapes]
    xs = [gt.tensor(f"x{i}", ndim=len(s)) for i, s in enumerate(shapes)]
    got = gnomon.function(xs, gt.einsum(subs, *xs), mode="numpy")(*values)
    want = np.einsum(subs, *values)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    check_grads(lambda *v: gt.einsum(subs, *v), values, order=1)
