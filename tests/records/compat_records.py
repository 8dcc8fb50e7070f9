"""Rows for the ops behind PyTensor's names (:mod:`gnomon.tensor.arrays`)."""

import numpy as np

import gnomon.tensor as gt
from gnomon.compile.ops import FromFunctionOp, as_op
from gnomon.tensor.arrays import SpecifyShape
from gnomon.tensor.debug import Print
from tests.records import F, OpRecord


def _quiet(op: Print, value: object) -> None:
    pass


def _same_shape(fgraph, node, input_shapes):  # type: ignore[no-untyped-def]
    return [input_shapes[0]]


@as_op(itypes=[gt.dvector], otypes=[gt.dvector], infer_shape=_same_shape)
def _doubled_cumsum(x):  # type: ignore[no-untyped-def]
    """A user's NumPy function wrapped with PyTensor's as_op."""
    return np.cumsum(x) * 2.0


RECORDS = [
    OpRecord("specify_shape", lambda x: gt.specify_shape(x, (2, None)) * 2.0, lambda x: x * 2.0,
             [(F(2, 3),)], grad=2, ops=(SpecifyShape,)),
    OpRecord("specify_shape_all", lambda x: gt.exp(gt.specify_shape(x, (3,))), np.exp,
             [(F(3),)], grad=1, ops=(SpecifyShape,)),
    # global_fn keeps the test output quiet; the value still goes through the op
    OpRecord("print", lambda x: Print("x", global_fn=_quiet)(x) * 3.0, lambda x: x * 3.0,
             [(F(2, 3),)], grad=2, ops=(Print,)),
    # as_op: the user's function runs as a Python node in numba, a host callback in jax
    OpRecord("as_op", lambda x: _doubled_cumsum(x) + 1.0, lambda x: np.cumsum(x) * 2.0 + 1.0,
             [(F(5),)], grad=0, ops=(FromFunctionOp,)),
]
