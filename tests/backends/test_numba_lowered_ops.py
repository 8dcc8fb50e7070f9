"""Ops lowered to Numba that used to run as Python fallbacks (SolveTriangular, BandPart, batched
MatMul, ...): each runs compiled (no fallback node, no switch to the reference) and agrees with
the reference on the dtypes, batches and errors the op-records rows do not cover. Values of the
rows themselves are checked by tests/test_op_records.py; the graphs here are kept few (one
program per test) because every kernel compiles cold."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.config import config
from gnomon.testing import tolerance

pytest.importorskip("numba")


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _tri(rng: np.random.Generator, *shape: int, dtype: str = "float64") -> np.ndarray:
    a = rng.uniform(-1, 1, shape) + 3 * np.eye(shape[-1])
    if dtype.startswith("complex"):
        a = a + 1j * rng.uniform(-1, 1, shape)
    return a.astype(dtype)


def _compiled(xs, outs):  # type: ignore[no-untyped-def]
    with config.change(tiered="off"):
        return gnomon.function(xs, outs, mode="numba")


def _check(fn, values, classes):  # type: ignore[no-untyped-def]
    """``fn`` on ``values``: equal to the reference, with no node of ``classes`` left to Python
    and no switch to the reference (a RuntimeWarning, made an error here)."""
    xs = [gt.tensor(f"x{k}", dtype=v.dtype, shape=(None,) * v.ndim) for k, v in enumerate(values)]
    outs = fn(*xs)
    outs = outs if isinstance(outs, list) else [outs]
    want = gnomon.function(xs, outs, mode="numpy")(*values)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        f = _compiled(xs, outs)
        got = f(*values)
    for g, w in zip(got, want, strict=True):
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        rt, at = tolerance(w.dtype)
        np.testing.assert_allclose(g, w, rtol=rt, atol=at)
    left = [n for n in f.compiled.state.fallback_nodes if isinstance(n.op, classes)]
    assert left == [], left


def test_batches_broadcast() -> None:
    """Batch dimensions broadcast both ways (the rows' variants of lower/trans/unit_diagonal
    are unbatched); a vector right-hand side for a stack of matrices; tril of a stack."""
    from gnomon.tensor.blas import MatMul
    from gnomon.tensor.linalg import BandPart, SolveTriangular

    rng = _rng("solve_triangular_batches")

    def fn(a, b, v):  # type: ignore[no-untyped-def]
        return [gt.solve_triangular(a, b, lower=False, trans=1), gt.solve_triangular(a, v),
                gt.tril(a, -1), gt.matmul(a, b)]

    _check(fn, [_tri(rng, 2, 1, 3, 3), rng.normal(size=(4, 3, 2)), rng.normal(size=3)],
           (SolveTriangular, BandPart, MatMul))


@pytest.mark.parametrize(("da", "db"), [("complex128", "complex128"), ("float32", "float64")])
def test_solve_triangular_dtypes(da: str, db: str) -> None:
    from gnomon.tensor.linalg import SolveTriangular

    rng = _rng(f"solve_triangular_{da}_{db}")
    a, b = _tri(rng, 3, 3, dtype=da), rng.normal(size=(3, 2)).astype(db)
    _check(lambda a, b: gt.solve_triangular(a, b, lower=True, trans=1), [a, b],
           (SolveTriangular,))


def test_solve_triangular_errors_are_the_references() -> None:
    """A zero on the diagonal is SciPy's LinAlgError; inf/NaN anywhere (the unread triangle
    too) is its ValueError; with unit_diagonal the diagonal is not read."""
    a, b = gt.dmatrix("a"), gt.dvector("b")
    f = _compiled([a, b], gt.solve_triangular(a, b, lower=True))
    ref = gnomon.function([a, b], gt.solve_triangular(a, b, lower=True), mode="numpy")
    assert f.compiled.state.nopython
    for av in (np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, np.nan], [1.0, 1.0]]),
               np.array([[1.0, 0.0], [np.inf, 1.0]])):
        with pytest.raises(Exception) as want:
            ref(av, np.ones(2))
        with pytest.raises(type(want.value)) as got:
            f(av, np.ones(2))
        assert str(got.value).split("\n")[0] == str(want.value).split("\n")[0]
    assert isinstance(got.value, ValueError)
    u = _compiled([a, b], gt.solve_triangular(a, b, lower=True, unit_diagonal=True))
    np.testing.assert_allclose(u(np.array([[0.0, 9.0], [2.0, 0.0]]), np.ones(2)), [1.0, -1.0])


def test_factorizations_float32_batches_and_empty() -> None:
    """eigh and svd (full and values) of a float32 stack, then of empty matrices with the same
    compiled function (NumPy's identity factors for the empty SVD). QR and pinv share the
    kernel structure; their batched rows are in tests/records/linalg_records.py."""
    from gnomon.tensor.linalg import SVD, Eigh

    a = gt.tensor("a", dtype="float32", shape=(None, None, None))
    outs = [*gt.eigh(a), *gt.svd(a), gt.svd(a, compute_uv=False)]
    f, ref = _compiled([a], outs), gnomon.function([a], outs, mode="numpy")
    left = [n for n in f.compiled.state.fallback_nodes if isinstance(n.op, (Eigh, SVD))]
    assert left == [], left
    x = _rng("factorizations").normal(size=(2, 3, 3)).astype("float32")
    for v in (x + np.swapaxes(x, 1, 2), np.zeros((2, 0, 0), "float32")):
        for g, w in zip(f(v), ref(v), strict=True):
            assert (g.dtype, g.shape) == (w.dtype, w.shape)
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_repeat_split_errors_are_the_references() -> None:
    """Bad counts and sizes stop the compiled code; the reference's error is raised."""
    from gnomon.tensor.shapes import Repeat, Split

    x, r, k = gt.dvector("x"), gt.lvector("r"), gt.lscalar("k")
    outs = [gt.repeat(x, r), *Split(0, 2)(x, k, 3 - k)]
    f = _compiled([x, r, k], outs)
    assert not [n for n in f.compiled.state.fallback_nodes if isinstance(n.op, (Repeat, Split))]
    got = f(np.arange(3.0), np.array([2, 0, 1]), np.array(1))
    np.testing.assert_array_equal(got[0], [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(got[2], [1.0, 2.0])
    for args in ((np.arange(3.0), np.array([1, -1, 1]), np.array(1)),
                 (np.arange(3.0), np.array([1, 1]), np.array(1)),
                 (np.arange(3.0), np.array([1, 1, 1]), np.array(4))):
        with pytest.raises(gnomon.errors.ShapeError):
            f(*args)


def test_arange_linspace_bit_for_bit() -> None:
    """Run-time arguments whose values depend on NumPy's order of operations (a step that is
    not a binary fraction, float32 arithmetic): equal to NumPy exactly, not to rounding."""
    from gnomon.tensor.creation import Arange, Linspace

    for dt in ("float64", "float32"):
        a, b, s = (gt.tensor(f"{c}_{dt}", dtype=dt, shape=()) for c in "abs")
        n = gt.lscalar("n")
        outs = [gt.arange(a, b, s), gt.linspace(a, b, n), gt.linspace(a, b, n, endpoint=False),
                gt.linspace(a, b, n, dtype="int64")]
        f = _compiled([a, b, s, n], outs)
        assert not [m for m in f.compiled.state.fallback_nodes
                    if isinstance(m.op, (Arange, Linspace))]
        for args in ((0.1, 1.0, 0.1, 7), (-2.3, 5.7, 0.7, 11), (1.0, -1.0, -0.3, 1)):
            vals = [np.asarray(v, dt) for v in args[:3]] + [np.asarray(args[3])]
            want = [np.arange(*vals[:3]), np.linspace(vals[0], vals[1], args[3]),
                    np.linspace(vals[0], vals[1], args[3], endpoint=False),
                    np.linspace(vals[0], vals[1], args[3], dtype="int64")]
            for g, w in zip(f(*vals), want, strict=True):
                assert g.dtype == w.dtype
                np.testing.assert_array_equal(g, w)
        with pytest.raises(gnomon.errors.GnomonValueError):
            f(*[np.asarray(v, dt) for v in (0.0, 1.0, 0.0)], np.asarray(3))


def test_einsum_int_broadcast_and_errors() -> None:
    """Integer operands (wrapping as NumPy's int8 sums do), an output label broadcast from
    length 1, and a summed label of unequal run-time lengths (the reference's ShapeError)."""
    from gnomon.tensor.blas import Einsum

    a = gt.tensor("a", dtype="int8", shape=(None, None))
    b = gt.tensor("b", dtype="int8", shape=(None,))
    outs = [gt.einsum("ij,j->i", a, b), gt.einsum("ij,ij->ij", a, a[:1])]
    f, ref = _compiled([a, b], outs), gnomon.function([a, b], outs, mode="numpy")
    assert not [n for n in f.compiled.state.fallback_nodes if isinstance(n.op, Einsum)]
    av = _rng("einsum_int").integers(-100, 100, (3, 4)).astype("int8")
    bv = np.array([90, 100, -120, 7], "int8")
    for g, w in zip(f(av, bv), ref(av, bv), strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    with pytest.raises(gnomon.errors.ShapeError):
        f(av, bv[:3])
