"""Rows for sorting: ``sort``, ``argsort``, ``searchsorted`` and ``PermuteAlongAxis``."""

import numpy as np

import gnomon.tensor as gt
from gnomon.tensor.sorting import Argsort, PermuteAlongAxis, SearchSorted, Sort
from tests.records import D, F, I, OpRecord


def _sorted(arg):  # type: ignore[no-untyped-def]
    """A sorted 1-d input for searchsorted (its sortedness is the function's precondition)."""
    return lambda a, v: gt.searchsorted(gt.sort(a), v, side=arg)


RECORDS = [
    OpRecord("sort_last", gt.sort, np.sort,
             [(D(3, 4),), (D(6, dtype="float32"),), (I(3, 5),)], grad=1, ops=(Sort,)),
    OpRecord("sort_axis0", lambda x: gt.sort(x, axis=0), lambda x: np.sort(x, axis=0),
             [(D(4, 3),), (D(2, 3, 2),)], grad=1, ops=(Sort,)),
    OpRecord("sort_none", lambda x: gt.sort(x, axis=None), lambda x: np.sort(x, axis=None),
             [(D(2, 3),), (I(2, 2, 2),)], grad=1, ops=(Sort,)),
    OpRecord("argsort_none", lambda x: gt.argsort(x, axis=None),
             lambda x: np.argsort(x, axis=None, kind="stable"), [(I(3, 4, low=0, high=3),)],
             grad=0, ops=(Argsort,)),
    OpRecord("argsort_last", gt.argsort, lambda x: np.argsort(x, kind="stable"),
             [(D(3, 4),), (I(3, 6, low=-2, high=2),)], grad=0, ops=(Argsort,)),
    OpRecord("argsort_axis1", lambda x: gt.argsort(x, axis=1),
             lambda x: np.argsort(x, axis=1, kind="stable"), [(I(2, 5, 3, low=0, high=2),)],
             grad=0, ops=(Argsort,)),
    OpRecord("permute_along_axis",
             lambda x, y: PermuteAlongAxis(1)(x, gt.argsort(y, axis=1)),
             lambda x, y: np.take_along_axis(x, np.argsort(y, axis=1, kind="stable"), axis=1),
             [(F(3, 4), D(3, 4))], grad=2, grad_wrt=(0,), ops=(PermuteAlongAxis, Argsort)),
    OpRecord("searchsorted_left", _sorted("left"),
             lambda a, v: np.searchsorted(np.sort(a), v, side="left"),
             [(F(6), F(3, 2)), (I(8, low=0, high=4), I(5, low=-1, high=5))], grad=0,
             ops=(SearchSorted, Sort)),
    OpRecord("searchsorted_right", _sorted("right"),
             lambda a, v: np.searchsorted(np.sort(a), v, side="right"),
             [(I(8, low=0, high=4), I(5, low=-1, high=5)), (F(5), F())], grad=0,
             ops=(SearchSorted, Sort)),
]
