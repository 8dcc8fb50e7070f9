"""Rows for gnomon.tensor.linalg: inverses, determinants, solves, factorizations, norms."""

import numpy as np
import scipy.linalg

import gnomon.tensor as gt
from gnomon.tensor import linalg as la
from tests.records import SPD, F, OpRecord

F32 = "float32"


def _shift(a, k=3.0):  # type: ignore[no-untyped-def]
    """A well-conditioned (diagonally dominant) matrix from entries in [-1, 1)."""
    return a + k * np.eye(a.shape[-1], dtype=a.dtype)


def W(*shape, dtype="float64"):  # type: ignore[no-untyped-def]
    """Entries in [-1, 1); the rows using it add 3 on the diagonal (well-conditioned)."""
    return F(*shape, dtype=dtype, low=-1.0, high=1.0)


def _eye(n, dtype="float64"):  # type: ignore[no-untyped-def]
    return gt.constant(np.eye(n, dtype=dtype))


def _chol_logdet(a):  # type: ignore[no-untyped-def]
    return gt.sum(gt.log(gt.einsum("...ii->...i", gt.cholesky(a))), axis=-1)


def _np_chol_logdet(a):  # type: ignore[no-untyped-def]
    return np.sum(np.log(np.einsum("...ii->...i", np.linalg.cholesky(a))), axis=-1)


def _tri(lower, trans=0, unit=False, n=3):  # type: ignore[no-untyped-def]
    def fn(a, b):  # type: ignore[no-untyped-def]
        return gt.solve_triangular(a + _eye(n, a.dtype) * 3.0, b, lower=lower, trans=trans,
                                   unit_diagonal=unit)

    def ref(a, b):  # type: ignore[no-untyped-def]
        return scipy.linalg.solve_triangular(_shift(a), b, lower=lower, trans=trans,
                                             unit_diagonal=unit)

    return fn, ref


def _svd_uv(a):  # type: ignore[no-untyped-def]
    # The same LAPACK routine as NumPy's, so the signs of the singular vectors agree.
    return list(gt.svd(a, full_matrices=False))


RECORDS = [
    OpRecord("inv", gt.inv, np.linalg.inv,
             [(SPD(3, 3),), (SPD(2, 3, 3),), (SPD(3, 3, dtype=F32),)],
             grad=2, ops=(la.MatrixInverse,)),
    OpRecord("inv_nonsym", lambda a: gt.inv(a + _eye(3) * 3.0), lambda a: np.linalg.inv(_shift(a)),
             [(W(3, 3),)], grad=2, ops=(la.MatrixInverse,)),
    OpRecord("det", gt.det, np.linalg.det,
             [(SPD(3, 3),), (SPD(2, 3, 3),), (SPD(2, 2, dtype=F32),)], grad=2, ops=(la.Det,)),
    OpRecord("det_nonsym", lambda a: gt.det(a + _eye(3) * 3.0),
             lambda a: np.linalg.det(_shift(a)), [(W(3, 3),), (W(2, 3, 3),)], grad=2,
             ops=(la.Det,)),
    OpRecord("slogdet", lambda a: list(gt.slogdet(a)), lambda a: list(np.linalg.slogdet(a)),
             [(SPD(3, 3),), (SPD(2, 3, 3),)], grad=2, ops=(la.SLogDet,)),
    OpRecord("slogdet_negative", lambda a: list(gt.slogdet(-(a + _eye(3) * 3.0))),
             lambda a: list(np.linalg.slogdet(-_shift(a))), [(W(3, 3),)], grad=2,
             ops=(la.SLogDet,)),
    OpRecord("solve", gt.solve, np.linalg.solve, [
        (SPD(3, 3), F(3)),
        (SPD(3, 3), F(3, 2)),
        (SPD(2, 3, 3), F(3, 2)),       # batch of a, one b
        (SPD(3, 3), F(2, 3, 2)),       # one a, batch of b
        (SPD(2, 1, 3, 3), F(4, 3, 2)),  # batch dims broadcast
        (SPD(2, 3, 3), F(3)),          # batch of a, one vector b
        (SPD(3, 3, dtype=F32), F(3, dtype=F32)),
    ], grad=2, ops=(la.Solve,)),
    OpRecord("solve_nonsym", lambda a, b: gt.solve(a + _eye(3) * 3.0, b),
             lambda a, b: np.linalg.solve(_shift(a), b), [(W(3, 3), F(3, 2))], grad=2,
             ops=(la.Solve,)),
    OpRecord("solve_triangular_lower", *_tri(True), [(W(3, 3), F(3)), (W(3, 3), F(3, 2)),
                                                     (W(2, 3, 3), F(3, 2))],
             grad=2, ops=(la.SolveTriangular,)),
    OpRecord("solve_triangular_upper", *_tri(False), [(W(3, 3), F(3, 2))], grad=2,
             ops=(la.SolveTriangular,)),
    OpRecord("solve_triangular_trans", *_tri(True, trans=1), [(W(3, 3), F(3, 2))], grad=2,
             ops=(la.SolveTriangular,)),
    OpRecord("solve_triangular_upper_trans", *_tri(False, trans="T"), [(W(3, 3), F(3))],
             grad=2, ops=(la.SolveTriangular,)),
    OpRecord("solve_triangular_unit", *_tri(True, unit=True), [(W(3, 3), F(3, 2))], grad=2,
             ops=(la.SolveTriangular,)),
    OpRecord("cholesky", gt.cholesky, np.linalg.cholesky,
             [(SPD(3, 3),), (SPD(2, 3, 3),), (SPD(3, 3, dtype=F32),)], grad=2,
             ops=(la.Cholesky,)),
    OpRecord("cholesky_upper", lambda a: gt.cholesky(a, lower=False),
             lambda a: scipy.linalg.cholesky(a, lower=False), [(SPD(3, 3),)], grad=2,
             ops=(la.Cholesky,)),
    OpRecord("cholesky_logdet", _chol_logdet, _np_chol_logdet, [(SPD(3, 3),), (SPD(2, 4, 4),)],
             grad=2, ops=(la.Cholesky,)),
    OpRecord("cho_solve", lambda a, b: gt.cho_solve((gt.cholesky(a), True), b),
             lambda a, b: scipy.linalg.cho_solve((np.linalg.cholesky(a), True), b),
             [(SPD(3, 3), F(3)), (SPD(3, 3), F(3, 2))], grad=2,
             ops=(la.Cholesky, la.SolveTriangular)),
    OpRecord("cho_solve_upper",
             lambda a, b: gt.cho_solve((gt.cholesky(a, lower=False), False), b),
             lambda a, b: scipy.linalg.cho_solve((scipy.linalg.cholesky(a), False), b),
             [(SPD(3, 3), F(3, 2))], grad=2, ops=(la.Cholesky, la.SolveTriangular)),
    OpRecord("eigh", lambda a: list(gt.eigh(a)), lambda a: list(np.linalg.eigh(a)),
             [(SPD(3, 3),), (SPD(2, 3, 3),)], grad=2, ops=(la.Eigh,)),
    OpRecord("eigvalsh", gt.eigvalsh, np.linalg.eigvalsh, [(SPD(4, 4),)], grad=2,
             ops=(la.Eigh,)),
    OpRecord("svd_values", lambda a: gt.svd(a, compute_uv=False),
             lambda a: np.linalg.svd(a, compute_uv=False),
             [(F(3, 3),), (F(4, 2),), (F(2, 4),), (F(2, 3, 2),), (F(3, 2, dtype=F32),)],
             grad=2, ops=(la.SVD,)),
    OpRecord("svd_reduced", _svd_uv, lambda a: list(np.linalg.svd(a, full_matrices=False)),
             [(F(3, 3),), (F(4, 3),), (F(3, 4),), (F(2, 3, 2),)], grad=2, ops=(la.SVD,)),
    OpRecord("svd_full_square", lambda a: list(gt.svd(a)), lambda a: list(np.linalg.svd(a)),
             [(F(3, 3, static=True),)], grad=0, ops=(la.SVD,)),
    OpRecord("svd_full", lambda a: list(gt.svd(a)), lambda a: list(np.linalg.svd(a)),
             [(F(4, 2),)], grad=0, ops=(la.SVD,)),
    OpRecord("qr", lambda a: list(gt.qr(a)), lambda a: list(np.linalg.qr(a)),
             [(F(3, 3),), (F(4, 3),), (F(2, 4, 2),)], grad=2, ops=(la.QR,)),
    OpRecord("qr_wide", lambda a: list(gt.qr(a)), lambda a: list(np.linalg.qr(a)),
             [(F(2, 4),)], grad=0, ops=(la.QR,)),
    OpRecord("qr_r", lambda a: gt.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"),
             [(F(4, 3),)], grad=2, ops=(la.QR,)),
    OpRecord("pinv", gt.pinv, np.linalg.pinv, [(F(4, 3),), (F(3, 4),), (F(2, 3, 2),)],
             grad=2, ops=(la.Pinv,)),
    OpRecord("lstsq", gt.lstsq, lambda a, b: np.linalg.lstsq(a, b)[0],
             [(F(4, 3), F(4)), (F(4, 3), F(4, 2))], grad=2, ops=(la.Pinv,)),
    OpRecord("norm_vector", gt.norm, np.linalg.norm,
             [(F(5),), (F(3, 4),), (F(2, 3, 2),), (F(4, dtype=F32),)], grad=2),
    OpRecord("norm_vector_ord1", lambda x: gt.norm(x, 1), lambda x: np.linalg.norm(x, 1),
             [(F(5),)], grad=2),
    OpRecord("norm_vector_inf", lambda x: gt.norm(x, np.inf),
             lambda x: np.linalg.norm(x, np.inf), [(F(5),)], grad=2),
    OpRecord("norm_vector_neginf", lambda x: gt.norm(x, -np.inf),
             lambda x: np.linalg.norm(x, -np.inf), [(F(5),)], grad=2),
    OpRecord("norm_vector_p3", lambda x: gt.norm(x, 3), lambda x: np.linalg.norm(x, 3),
             [(F(5),)], grad=2),
    OpRecord("norm_vector_0", lambda x: gt.norm(x, 0), lambda x: np.linalg.norm(x, 0),
             [(F(5),)], grad=0),
    OpRecord("norm_axis", lambda x: gt.norm(x, axis=1, keepdims=True),
             lambda x: np.linalg.norm(x, axis=1, keepdims=True), [(F(3, 4),)], grad=2),
    OpRecord("norm_fro", lambda x: gt.norm(x, "fro"), lambda x: np.linalg.norm(x, "fro"),
             [(F(3, 4),)], grad=2),
    OpRecord("norm_nuc", lambda x: gt.norm(x, "nuc"), lambda x: np.linalg.norm(x, "nuc"),
             [(F(3, 4),)], grad=2, ops=(la.SVD,)),
    OpRecord("norm_mat1", lambda x: gt.norm(x, 1), lambda x: np.linalg.norm(x, 1),
             [(F(3, 4),)], grad=2),
    OpRecord("norm_mat_neg1", lambda x: gt.norm(x, -1), lambda x: np.linalg.norm(x, -1),
             [(F(3, 4),)], grad=2),
    OpRecord("norm_mat_inf", lambda x: gt.norm(x, np.inf), lambda x: np.linalg.norm(x, np.inf),
             [(F(3, 4),)], grad=2),
    OpRecord("norm_mat_neginf", lambda x: gt.norm(x, -np.inf),
             lambda x: np.linalg.norm(x, -np.inf), [(F(3, 4),)], grad=2),
    OpRecord("norm_mat2", lambda x: gt.norm(x, 2), lambda x: np.linalg.norm(x, 2),
             [(F(3, 4),)], grad=2, ops=(la.SVD,)),
    OpRecord("norm_mat_neg2", lambda x: gt.norm(x, -2), lambda x: np.linalg.norm(x, -2),
             [(F(3, 4),)], grad=2, ops=(la.SVD,)),
    OpRecord("norm_mat_axes", lambda x: gt.norm(x, "fro", axis=(0, 2)),
             lambda x: np.linalg.norm(x, "fro", axis=(0, 2)), [(F(2, 3, 4),)], grad=2),
    OpRecord("norm_mat2_axes", lambda x: gt.norm(x, 2, axis=(2, 0), keepdims=True),
             lambda x: np.linalg.norm(x, 2, axis=(2, 0), keepdims=True), [(F(2, 3, 4),)],
             grad=2),
    OpRecord("matrix_power", lambda a: [gt.matrix_power(a, n) for n in (0, 1, 2, 3, 5)],
             lambda a: [np.linalg.matrix_power(a, n) for n in (0, 1, 2, 3, 5)],
             [(W(3, 3),), (W(2, 3, 3),)], grad=2),
    OpRecord("matrix_power_neg", lambda a: gt.matrix_power(a + _eye(3) * 3.0, -2),
             lambda a: np.linalg.matrix_power(_shift(a), -2), [(W(3, 3),)], grad=2,
             ops=(la.MatrixInverse,)),
    OpRecord("kron", gt.kron, np.kron, [(F(2, 3), F(2, 2)), (F(3), F(2)), (F(2, 2), F(3))],
             grad=2),
]
