"""Rows for the ops behind PyTensor's names (:mod:`gnomon.tensor.arrays`)."""

import numpy as np

import gnomon.tensor as gt
from gnomon.tensor.arrays import SpecifyShape
from tests.records import F, OpRecord

RECORDS = [
    OpRecord("specify_shape", lambda x: gt.specify_shape(x, (2, None)) * 2.0, lambda x: x * 2.0,
             [(F(2, 3),)], grad=2, ops=(SpecifyShape,)),
    OpRecord("specify_shape_all", lambda x: gt.exp(gt.specify_shape(x, (3,))), np.exp,
             [(F(3),)], grad=1, ops=(SpecifyShape,)),
]
