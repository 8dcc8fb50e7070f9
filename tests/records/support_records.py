"""Rows for the ops that user code rarely calls directly but every graph may contain: shape
queries, the gradient's broadcast reduction, gradient modifiers, and band masks (tril/triu)."""

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.gradient import GradientModifier
from gnomon.tensor.elemwise import SumToShape, sum_to
from gnomon.tensor.linalg import BandPart
from gnomon.tensor.shapes import Shape, ShapeI
from tests.records import F, I, OpRecord

RECORDS = [
    OpRecord("shape", lambda x: gt.shape(x), lambda x: np.array(x.shape, dtype="int64"),
             [(F(2, 3),), (I(4),), (F(),)], grad=0, ops=(Shape,)),
    OpRecord("shape_i", lambda x: gt.shape_i(x, 1) * 2, lambda x: np.int64(x.shape[1] * 2),
             [(F(2, 3),), (I(1, 5),)], grad=0, ops=(ShapeI,)),
    # sum_to(g, x): g reduced to x's shape, deciding at run time which dimensions broadcast
    OpRecord("sum_to", lambda g, x: sum_to(g, x),
             lambda g, x: g.sum(axis=tuple(i for i in range(g.ndim)
                                           if x.shape[i] == 1 and g.shape[i] != 1),
                                keepdims=True),
             [(F(3, 4), F(1, 4)), (F(3, 4), F(3, 1)), (F(3, 4), F(3, 4)),
              (F(2, 3, dtype="float32"), F(1, 1, dtype="float32"))],
             grad=1, grad_wrt=(0,), ops=(SumToShape,)),
    OpRecord("zero_grad", lambda x: gnomon.zero_grad(x) * 2.0, lambda x: x * 2.0,
             [(F(3),)], grad=0, ops=(GradientModifier,)),
    OpRecord("grad_scale", lambda x: gnomon.grad_scale(x, 3.0) + 1.0, lambda x: x + 1.0,
             [(F(2, 2),)], grad=0, ops=(GradientModifier,)),
    OpRecord("band_tril", lambda x: BandPart(None, 0)(x), np.tril,
             [(F(3, 3),), (F(2, 4, 3),), (I(3, 2),)], grad=2, ops=(BandPart,)),
    OpRecord("band_triu", lambda x: BandPart(0, None)(x), np.triu,
             [(F(4, 3),), (F(3, 3, dtype="float32"),)], grad=2, ops=(BandPart,)),
    OpRecord("band_tridiagonal", lambda x: BandPart(-1, 1)(x),
             lambda x: np.triu(np.tril(x, 1), -1), [(F(4, 4),), (F(2, 3, 5),)], grad=2,
             ops=(BandPart,)),
]
