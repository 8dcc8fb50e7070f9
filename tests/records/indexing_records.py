"""Rows for indexing: basic and advanced ``x[idx]``, set/inc_subtensor, take, nonzero."""

import numpy as np

import gnomon.tensor as gt
from gnomon.tensor.indexing import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Nonzero,
    Subtensor,
)
from tests.records import B, F, I, OpRecord

MASK3 = np.array([True, False, True])


def _np_set(x, idx, y):  # type: ignore[no-untyped-def]
    out = x.copy()
    out[idx] = y
    return out


def _np_inc(x, idx, y):  # type: ignore[no-untyped-def]
    out = x.copy()
    np.add.at(out, idx, y)
    return out


RECORDS = [
    # --- basic indexing (views) ---------------------------------------------------------------
    OpRecord("getitem_basic", lambda x: x[1:, ::-1, 0], lambda x: x[1:, ::-1, 0],
             [(F(3, 4, 5),), (F(3, 4, 5, static=True),)], grad=2, ops=(Subtensor,)),
    OpRecord("getitem_newaxis_ellipsis", lambda x: x[None, ..., -1, None],
             lambda x: x[None, ..., -1, None], [(F(2, 3),), (F(4),)], grad=2, ops=(Subtensor,)),
    OpRecord("getitem_negative_step", lambda x: x[-1:0:-2], lambda x: x[-1:0:-2],
             [(F(6),), (F(5, 2),)], grad=2, ops=(Subtensor,)),
    OpRecord("getitem_symbolic_int", lambda x, i: x[i, 1:], lambda x, i: x[i, 1:],
             [(F(3, 4), I(low=-3, high=2))], grad=2, grad_wrt=(0,), ops=(Subtensor,)),
    OpRecord("getitem_symbolic_slice", lambda x, a, b: x[a:b:-1],
             lambda x, a, b: x[a:b:-1],
             [(F(6), I(low=-6, high=5), I(low=-7, high=6)), (F(5, 2), I(low=4, high=4),
                                                              I(low=-6, high=-6))],
             grad=2, grad_wrt=(0,), ops=(Subtensor,)),
    OpRecord("getitem_int_dtype", lambda x: x[::2, 1], lambda x: x[::2, 1], [(I(5, 3),)],
             grad=0, ops=(Subtensor,)),
    # --- advanced indexing (copies) -----------------------------------------------------------
    OpRecord("getitem_int_array", lambda x, i: x[i], lambda x, i: x[i],
             [(F(3, 4), I(5, low=-3, high=2)), (F(4), I(2, 3, low=0, high=3))],
             grad=2, grad_wrt=(0,), ops=(AdvancedSubtensor,)),
    OpRecord("getitem_arrays_and_slice", lambda x, i, j: x[i, 1:, j],
             lambda x, i, j: x[i, 1:, j],
             [(F(2, 3, 4), I(2, 1, low=0, high=1), I(3, low=-4, high=3))],
             grad=2, grad_wrt=(0,), ops=(AdvancedSubtensor,)),
    OpRecord("getitem_adjacent_arrays", lambda x, i: x[:, i, 0], lambda x, i: x[:, i, 0],
             [(F(2, 3, 4), I(5, low=0, high=2))], grad=2, grad_wrt=(0,),
             ops=(AdvancedSubtensor,)),
    OpRecord("getitem_constant_array", lambda x: x[[2, 0, 2], None],
             lambda x: x[[2, 0, 2], None], [(F(3, 2),)], grad=2, ops=(AdvancedSubtensor,)),
    OpRecord("getitem_bool_mask", lambda x, m: x[m], lambda x, m: x[m],
             [(F(3, 4), B(3, 4)), (F(3, 4), B(3)), (I(2, 3), B(2, 3))], grad=2,
             grad_wrt=(0,), ops=(AdvancedSubtensor,)),
    OpRecord("getitem_bool_mask_slice", lambda x, m: x[1:, m], lambda x, m: x[1:, m],
             [(F(3, 4), B(4))], grad=2, grad_wrt=(0,), ops=(AdvancedSubtensor,)),
    OpRecord("take", lambda x, i: gt.take(x, i, axis=1),
             lambda x, i: np.take(x, i, axis=1), [(F(2, 3), I(4, low=-3, high=2))], grad=2,
             grad_wrt=(0,), ops=(AdvancedSubtensor,)),
    OpRecord("nonzero", gt.nonzero, np.nonzero,
             [(I(3, 4, low=-1, high=1),), (B(5),)], grad=0, ops=(Nonzero,)),
    # --- set_subtensor / inc_subtensor ----------------------------------------------------------
    OpRecord("set_subtensor_basic", lambda x, y: gt.set_subtensor(x[1:, 0], y),
             lambda x, y: _np_set(x, (slice(1, None), 0), y),
             [(F(3, 4), F(2)), (F(3, 4), F()), (F(3, 4, static=True), F(1))], grad=2,
             grad_wrt=(0, 1), ops=(IncSubtensor,)),
    OpRecord("inc_subtensor_basic", lambda x, y: gt.inc_subtensor(x[None, ::-2], y),
             lambda x, y: _np_inc(x, (None, slice(None, None, -2)), y),
             [(F(5, 2), F(3, 2)), (F(5, 2), F(1, 1)), (F(4), F(1, 2))], grad=2,
             grad_wrt=(0, 1), ops=(IncSubtensor,)),
    OpRecord("set_subtensor_symbolic_int", lambda x, y, i: gt.set_subtensor(x[i], y),
             lambda x, y, i: _np_set(x, int(i), y), [(F(3, 4), F(4), I(low=-3, high=2))],
             grad=2, grad_wrt=(0, 1), ops=(IncSubtensor,)),
    OpRecord("set_subtensor_advanced", lambda x, y: gt.set_subtensor(x[[2, 0], 1:], y),
             lambda x, y: _np_set(x, ([2, 0], slice(1, None)), y),
             [(F(3, 3), F(2, 2)), (F(3, 3), F(2, 1))], grad=2, grad_wrt=(0, 1),
             ops=(AdvancedIncSubtensor,)),
    OpRecord("inc_subtensor_advanced", lambda x, y, i: gt.inc_subtensor(x[:, i], y),
             lambda x, y, i: _np_inc(x, (slice(None), i), y),
             [(F(2, 3), F(2, 5), I(5, low=-3, high=2)), (F(2, 3), F(), I(2, 2, low=0, high=2))],
             grad=2, grad_wrt=(0, 1), ops=(AdvancedIncSubtensor,)),
    OpRecord("set_subtensor_bool", lambda x, y: gt.set_subtensor(x[MASK3], y),
             lambda x, y: _np_set(x, MASK3, y), [(F(3, 2), F(2, 2)), (F(3, 2), F(2))],
             grad=2, grad_wrt=(0, 1), ops=(AdvancedIncSubtensor,)),
    OpRecord("inc_subtensor_bool_symbolic", lambda x, y, m: gt.inc_subtensor(x[m], y),
             lambda x, y, m: _np_inc(x, m, y), [(F(3, 4), F(), B(3, 4)), (F(3, 4), F(4), B(3))],
             grad=2, grad_wrt=(0, 1), ops=(AdvancedIncSubtensor,)),
    # two index arrays broadcast together, with repeated and negative indices, apart (their
    # broadcast dimensions go first, as in NumPy); the value broadcast too
    OpRecord("inc_subtensor_two_arrays", lambda x, y, i, j: gt.inc_subtensor(x[i, ::-1, j], y),
             lambda x, y, i, j: _np_inc(x, (i, slice(None, None, -1), j), y),
             [(F(3, 2, 4), F(2, 5, 2), I(2, 1, low=-3, high=2), I(5, low=-4, high=3)),
              (F(3, 2, 4), F(2), I(5, 1, low=-2, high=1), I(1, low=-4, high=3))],
             grad=2, grad_wrt=(0, 1), ops=(AdvancedIncSubtensor,)),
    OpRecord("inc_subtensor_int", lambda x, i: gt.inc_subtensor(x[i], 3),
             lambda x, i: _np_inc(x, i, 3), [(I(4), I(6, low=-4, high=3))], grad=0,
             ops=(AdvancedIncSubtensor,)),
]
