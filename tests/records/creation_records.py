"""Rows for the array-creation ops: eye, arange, linspace (gnomon/tensor/creation.py) and
zeros / ones / full and their ``_like`` forms (``Alloc``, gnomon/tensor/basic.py)."""

import numpy as np

import gnomon.tensor as gt
from gnomon.tensor.basic import Alloc
from gnomon.tensor.creation import Arange, Eye, Linspace
from tests.records import F, I, OpRecord, P

RECORDS = [
    # --- eye -------------------------------------------------------------------------------
    OpRecord("eye_const", lambda: gt.eye(3, 4, k=1, dtype="float32"),
             lambda: np.eye(3, 4, k=1, dtype="float32"), [()], grad=0, ops=(Eye,)),
    OpRecord("eye_symbolic", lambda n, m, k: gt.eye(n, m, k, dtype="int64"),
             lambda n, m, k: np.eye(n, m, k, dtype="int64"),
             [(I(low=0, high=4), I(low=1, high=4), I(low=-3, high=3)),
              (I(dtype="int32", low=2, high=3), I(low=0, high=0), I(low=0, high=0))],
             grad=0, ops=(Eye,)),
    OpRecord("eye_square", lambda n: gt.eye(n), lambda n: np.eye(n), [(I(low=0, high=5),)],
             grad=0, ops=(Eye,)),
    # --- arange ----------------------------------------------------------------------------
    OpRecord("arange_stop", lambda n: gt.arange(n), lambda n: np.arange(n),
             [(I(low=0, high=6),), (I(dtype="int32", low=-2, high=4),)], grad=0, ops=(Arange,)),
    OpRecord("arange_int_step", lambda a, b, s: gt.arange(a, b, s),
             lambda a, b, s: np.arange(a, b, s),
             [(I(low=-4, high=4), I(low=-4, high=8), I(low=1, high=3)),
              (I(low=0, high=6), I(low=-4, high=2), I(low=-3, high=-1))], grad=0, ops=(Arange,)),
    OpRecord("arange_const", lambda: gt.arange(0.5, 3, 0.75), lambda: np.arange(0.5, 3, 0.75),
             [()], grad=0, ops=(Arange,)),
    OpRecord("arange_float", lambda a, b, s: gt.arange(a, b, s),
             lambda a, b, s: np.arange(a, b, s),
             [(F(low=-2, high=0), F(low=1, high=3), P(low=0.3, high=1.0)),
              (F(low=-2, high=0, dtype="float32"), I(low=1, high=3), P(low=0.3, high=1.0))],
             grad=2, ops=(Arange,)),
    OpRecord("arange_dtype", lambda n: gt.arange(n, dtype="float32"),
             lambda n: np.arange(n, dtype="float32"), [(I(low=0, high=5),)], grad=0,
             ops=(Arange,)),
    # --- linspace --------------------------------------------------------------------------
    OpRecord("linspace", lambda a, b: gt.linspace(a, b, 7), lambda a, b: np.linspace(a, b, 7),
             [(F(), F()), (F(dtype="float32"), F(dtype="float32")), (I(), I())], grad=2,
             ops=(Linspace,)),
    OpRecord("linspace_no_endpoint", lambda a, b: gt.linspace(a, b, 5, endpoint=False),
             lambda a, b: np.linspace(a, b, 5, endpoint=False), [(F(), F())], grad=2,
             ops=(Linspace,)),
    OpRecord("linspace_symbolic_num", lambda a, b, n: gt.linspace(a, b, n),
             lambda a, b, n: np.linspace(a, b, n),
             [(F(), F(), I(low=0, high=6)), (F(), F(), I(low=1, high=1))], grad=2,
             grad_wrt=(0, 1), ops=(Linspace,)),
    OpRecord("linspace_const", lambda: gt.linspace(-1, 2, 4, dtype="int64"),
             lambda: np.linspace(-1, 2, 4, dtype="int64"), [()], grad=0, ops=(Linspace,)),
    # --- zeros / ones / full (Alloc) ---------------------------------------------------------
    OpRecord("zeros", lambda n: gt.zeros((n, 3)), lambda n: np.zeros((n, 3)),
             [(I(low=0, high=4),)], grad=0, ops=(Alloc,)),
    OpRecord("ones_int", lambda n: gt.ones(n, dtype="int32"),
             lambda n: np.ones(n, dtype="int32"), [(I(low=0, high=4),)], grad=0, ops=(Alloc,)),
    OpRecord("full", lambda v: gt.full((2, 3), v), lambda v: np.full((2, 3), v),
             [(F(),), (F(3),), (F(1, 3, dtype="float32"),), (I(),)], grad=2, ops=(Alloc,)),
    OpRecord("zeros_like", gt.zeros_like, np.zeros_like, [(F(2, 3),), (I(4),)], grad=0,
             ops=(Alloc,)),
    OpRecord("ones_like", gt.ones_like, np.ones_like, [(F(2, 3, dtype="float32"),), (I(4),)],
             grad=0, ops=(Alloc,)),
    OpRecord("full_like", lambda x: gt.full_like(x, 2.5), lambda x: np.full_like(x, 2.5),
             [(F(2, 3),), (F(3, dtype="float32"),)], grad=0, ops=(Alloc,)),
]
