"""Rows for products: dot, matmul, tensordot, outer, inner, vdot, einsum."""

import numpy as np

import gnomon.tensor as gt
from gnomon.tensor.blas import Einsum, Gemm, Ger, MatMul
from gnomon.tensor.elemwise import Elemwise
from tests.records import F, I, OpRecord


def _ein(subs):  # type: ignore[no-untyped-def]
    return lambda *xs: gt.einsum(subs, *xs)


def _np_ein(subs):  # type: ignore[no-untyped-def]
    return lambda *xs: np.einsum(subs, *xs)


F32 = "float32"


def _np_gemm(ta, tb):  # type: ignore[no-untyped-def]
    def f(z, alpha, a, b, beta):  # type: ignore[no-untyped-def]
        return beta * z + alpha * np.matmul(a.T if ta else a, b.T if tb else b)
    return f


def _gemm(ta, tb):  # type: ignore[no-untyped-def]
    return lambda z, alpha, a, b, beta: Gemm(trans_a=ta, trans_b=tb)(z, alpha, a, b, beta)

RECORDS = [
    OpRecord("matmul", lambda a, b: a @ b, np.matmul, [
        (F(3, 4), F(4, 5)),
        (F(4), F(4, 5)),                       # 1-d first operand: a row vector
        (F(3, 4), F(4)),                       # 1-d second operand: a column vector
        (F(4), F(4)),                          # both 1-d: a scalar
        (F(2, 3, 4), F(4, 5)),                 # batch on one side
        (F(2, 1, 3, 4), F(5, 4, 2)),           # batch dims broadcast (1 vs 5, run time)
        (F(2, 1, 3, 4, static=True), F(5, 4, 2, static=True)),
        (F(4), F(2, 4, 3)),                    # vector times a stack
        (F(3, 4, dtype=F32), F(4, 2, dtype=F32)),
    ], grad=2, ops=(MatMul,)),
    OpRecord("matmul_int", lambda a, b: a @ b, np.matmul, [(I(3, 4), I(4, 2))], grad=0,
             ops=(MatMul,)),
    OpRecord("matmul_mixed", gt.matmul, np.matmul, [(F(3, 4, dtype=F32), F(4, 2))], grad=1,
             ops=(MatMul,)),
    OpRecord("dot", gt.dot, np.dot, [
        (F(), F(3)),
        (F(3), F(3)),
        (F(3, 4), F(4)),
        (F(4), F(4, 3)),
        (F(3, 4), F(4, 2)),
        (F(2, 3, 4), F(4, 5)),
        (F(2, 3, 4), F(5, 4, 6)),              # n-d: tensordot over (-1, -2)
        (F(3, 4, dtype=F32), F(4, dtype=F32)),
    ], grad=2, ops=(MatMul, Einsum, Elemwise)),
    OpRecord("inner", gt.inner, np.inner, [(F(3), F(3)), (F(2, 3), F(4, 3))], grad=2,
             ops=(Einsum,)),
    OpRecord("vdot", gt.vdot, np.vdot, [(F(2, 3), F(2, 3)), (F(4), F(4))], grad=2,
             ops=(Einsum,)),
    OpRecord("outer", gt.outer, np.outer, [(F(3), F(4)), (F(2, 2), F(3)),
                                           (F(3, dtype=F32), F(2, dtype=F32))],
             grad=2, ops=(Elemwise,)),
    OpRecord("tensordot_int_axes", lambda a, b: gt.tensordot(a, b, 2),
             lambda a, b: np.tensordot(a, b, 2), [(F(2, 3, 4), F(3, 4, 5))], grad=2,
             ops=(Einsum,)),
    OpRecord("tensordot_pairs", lambda a, b: gt.tensordot(a, b, axes=([1, 0], [0, 1])),
             lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 1])),
             [(F(3, 4, 5), F(4, 3, 2)), (F(3, 4, 5, dtype=F32), F(4, 3, 2, dtype=F32))],
             grad=2, ops=(Einsum,)),
    OpRecord("tensordot_zero", lambda a, b: gt.tensordot(a, b, 0),
             lambda a, b: np.tensordot(a, b, 0), [(F(2), F(3))], grad=2, ops=(Einsum,)),
    OpRecord("tensordot_neg_axes", lambda a, b: gt.tensordot(a, b, axes=(-1, 0)),
             lambda a, b: np.tensordot(a, b, axes=(-1, 0)), [(F(2, 3), F(3, 4))], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_matmul", _ein("ij,jk->ik"), _np_ein("ij,jk->ik"),
             [(F(3, 4), F(4, 2)),
              (F(3, 4, dtype=F32), F(4, 2, dtype=F32))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_implicit", _ein("ij,jk"), _np_ein("ij,jk"), [(F(3, 4), F(4, 2))],
             grad=2, ops=(Einsum,)),
    OpRecord("einsum_implicit_order", _ein("ba"), _np_ein("ba"), [(F(3, 4),)], grad=2),
    OpRecord("einsum_batch", _ein("bij,bjk->bik"), _np_ein("bij,bjk->bik"),
             [(F(2, 3, 4), F(2, 4, 5))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_ellipsis", _ein("...ij,...jk->...ik"), _np_ein("...ij,...jk->...ik"),
             [(F(2, 1, 3, 4), F(5, 4, 2)), (F(3, 4), F(4, 2))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_ellipsis_implicit", _ein("...ij,...jk"), _np_ein("...ij,...jk"),
             [(F(2, 3, 4), F(4, 2))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_diag", _ein("ii->i"), _np_ein("ii->i"), [(F(3, 3),)], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_trace", _ein("ii"), _np_ein("ii"), [(F(4, 4),)], grad=2, ops=(Einsum,)),
    OpRecord("einsum_diag3", _ein("iji->j"), _np_ein("iji->j"), [(F(3, 2, 3),)], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_sum", _ein("ij->"), _np_ein("ij->"), [(F(3, 4),)], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_sum_axis", _ein("ijk->ik"), _np_ein("ijk->ik"), [(F(2, 3, 4),)], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_outer", _ein("i,j->ij"), _np_ein("i,j->ij"), [(F(3), F(4))], grad=2,
             ops=(Einsum,)),
    OpRecord("einsum_transpose", _ein("ijk->kij"), _np_ein("ijk->kij"), [(F(2, 3, 4),)],
             grad=2),
    OpRecord("einsum_three", _ein("ij,jk,kl->il"), _np_ein("ij,jk,kl->il"),
             [(F(2, 3), F(3, 4), F(4, 2))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_bilinear", _ein("i,ij,j->"), _np_ein("i,ij,j->"),
             [(F(3), F(3, 4), F(4))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_contract_3d", _ein("ijk,ikl->jl"), _np_ein("ijk,ikl->jl"),
             [(F(2, 3, 4), F(2, 4, 5))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_unmatched_sum", _ein("ij,k->ik"), _np_ein("ij,k->ik"),
             [(F(2, 3), F(4))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_out_broadcast", _ein("ij,ij->ij"), _np_ein("ij,ij->ij"),
             [(F(3, 1), F(3, 4)), (F(1, 4), F(3, 1))], grad=2, ops=(Einsum,)),
    OpRecord("einsum_int", _ein("ij,jk->ik"), _np_ein("ij,jk->ik"), [(I(2, 3), I(3, 2))],
             grad=0, ops=(Einsum,)),
    OpRecord("gemm_nn", _gemm(False, False), _np_gemm(False, False), [
        (F(3, 5), F(), F(3, 4), F(4, 5), F()),
        (F(5), F(), F(3, 4), F(4, 5), F()),              # z broadcast along the rows
        (F(3, 5, dtype=F32), F(dtype=F32), F(3, 4, dtype=F32), F(4, 5, dtype=F32),
         F(dtype=F32)),
    ], grad=2, ops=(Gemm,)),
    OpRecord("gemm_tn", _gemm(True, False), _np_gemm(True, False),
             [(F(3, 5), F(), F(4, 3), F(4, 5), F()),
              (F(3, 5, static=True), F(), F(4, 3, static=True), F(4, 5), F())],
             grad=2, ops=(Gemm,)),
    OpRecord("gemm_nt", _gemm(False, True), _np_gemm(False, True),
             [(F(3, 5), F(), F(3, 4), F(5, 4), F())], grad=2, ops=(Gemm,)),
    OpRecord("gemm_tt", _gemm(True, True), _np_gemm(True, True),
             [(F(3, 5), F(), F(4, 3), F(5, 4), F()),
              (F(1, 5), F(), F(4, 3), F(5, 4), F())],    # z broadcast (run time)
             grad=2, ops=(Gemm,)),
    OpRecord("gemv", _gemm(False, False), _np_gemm(False, False),
             [(F(3), F(), F(3, 4), F(4), F()),
              (F(3, dtype=F32), F(dtype=F32), F(3, 4, dtype=F32), F(4, dtype=F32),
               F(dtype=F32))], grad=2, ops=(Gemm,)),
    OpRecord("gemv_t", _gemm(True, False), _np_gemm(True, False),
             [(F(3), F(), F(4, 3), F(4), F())], grad=2, ops=(Gemm,)),
    OpRecord("ger", lambda z, alpha, x, y: Ger()(z, alpha, x, y),
             lambda z, alpha, x, y: z + alpha * np.outer(x, y), [
                 (F(3, 4), F(), F(3), F(4)),
                 (F(4), F(), F(3), F(4)),                 # z broadcast along the rows
                 (F(3, 4, dtype=F32), F(dtype=F32), F(3, dtype=F32), F(4, dtype=F32)),
             ], grad=2, ops=(Ger,)),
]
