"""Rows for the core arithmetic, comparison and logic ops."""

import numpy as np

import gnomon.tensor as gt
from gnomon.scalar import basic as ps
from gnomon.tensor.elemwise import Elemwise
from tests.records import B, F, I, OpRecord, P

BIN_CASES = [
    (F(3), F(3)),
    (F(2, 3), F(3)),          # broadcasting by rank
    (F(2, 1), F(1, 3)),       # broadcasting of length-1 dims, known only at run time
    (F(4, dtype="float32"), F(4, dtype="float32")),
    (F(), F(2, 2)),
]

RECORDS = [
    OpRecord("add", lambda a, b: a + b, np.add, BIN_CASES, grad=2, ops=(Elemwise, ps.Add)),
    OpRecord("add3", lambda a, b, c: gt.add(a, b, c), lambda a, b, c: a + b + c,
             [(F(3), F(2, 3), F(1, 1))], grad=2, ops=(ps.Add,)),
    OpRecord("sub", lambda a, b: a - b, np.subtract, BIN_CASES, grad=2, ops=(ps.Sub,)),
    OpRecord("mul", lambda a, b: a * b, np.multiply, BIN_CASES, grad=2, ops=(ps.Mul,)),
    OpRecord("true_div", lambda a, b: a / b, np.true_divide,
             [(F(3), P(3)), (F(2, 3), P(3)), (F(2, 1, dtype="float32"), P(1, 3, dtype="float32"))],
             grad=2, ops=(ps.TrueDiv,)),
    OpRecord("true_div_int", lambda a, b: a / b, np.true_divide,
             [(I(4), I(4, low=1, high=5))], grad=0, ops=(ps.TrueDiv,)),
    OpRecord("floor_div", lambda a, b: a // b, np.floor_divide,
             [(I(4), I(4, low=1, high=5)), (F(3), P(3))], grad=0, ops=(ps.FloorDiv,)),
    OpRecord("mod", lambda a, b: a % b, np.mod,
             [(I(4), I(4, low=1, high=5)), (F(2, 3), P(3))], grad=1, grad_wrt=(0,),
             ops=(ps.Mod,)),
    OpRecord("pow", lambda a, b: a ** b, np.power, [(P(3), F(3)), (P(2, 3), F(3))], grad=2,
             ops=(ps.Pow,)),
    OpRecord("pow_int", lambda a, b: a ** b, np.power, [(I(3), I(3, low=0, high=3))], grad=0),
    OpRecord("neg", lambda a: -a, np.negative, [(F(3),), (I(2, 2),)], grad=2, ops=(ps.Neg,)),
    OpRecord("identity", gt.identity, np.copy, [(F(3),)], grad=2, ops=(ps.Identity,)),
    OpRecord("cast", lambda a: gt.cast(a, "float32"), lambda a: a.astype("float32"),
             [(F(3),), (I(2, 2),)], grad=1, ops=(ps.Cast,)),
    OpRecord("astype_int", lambda a: a.astype("int32"), lambda a: a.astype("int32"),
             [(F(3, low=-5, high=5),)], grad=0),
    OpRecord("where", gt.where, np.where, [(B(3), F(3), F(3)), (B(2, 1), F(3), F(2, 3))],
             grad=2, ops=(ps.Switch,)),
    OpRecord("lt", lambda a, b: a < b, np.less, BIN_CASES[:3], grad=0, ops=(ps.LT,)),
    OpRecord("gt", lambda a, b: a > b, np.greater, BIN_CASES[:3], grad=0, ops=(ps.GT,)),
    OpRecord("le", lambda a, b: a <= b, np.less_equal, [(I(5), I(5))], grad=0, ops=(ps.LE,)),
    OpRecord("ge", lambda a, b: a >= b, np.greater_equal, [(I(5), I(5))], grad=0, ops=(ps.GE,)),
    OpRecord("eq", gt.eq, np.equal, [(I(5), I(5))], grad=0, ops=(ps.EQ,)),
    OpRecord("neq", gt.neq, np.not_equal, [(I(5), I(5))], grad=0, ops=(ps.NEQ,)),
    OpRecord("and", lambda a, b: a & b, np.bitwise_and, [(B(4), B(4)), (I(4), I(4))], grad=0,
             ops=(ps.AND,)),
    OpRecord("or", lambda a, b: a | b, np.bitwise_or, [(B(4), B(4)), (I(4), I(4))], grad=0,
             ops=(ps.OR,)),
    OpRecord("xor", lambda a, b: a ^ b, np.bitwise_xor, [(B(4), B(4))], grad=0, ops=(ps.XOR,)),
    OpRecord("invert", lambda a: ~a, np.invert, [(B(4),), (I(4),)], grad=0, ops=(ps.Invert,)),
    OpRecord("exp", gt.exp, np.exp, [(F(3),), (F(2, 3, dtype="float32"),)], grad=2),
    OpRecord("log", gt.log, np.log, [(P(3),), (P(2, 3, dtype="float32"),)], grad=2),
    OpRecord("sum_all", gt.sum, np.sum, [(F(3, 4),), (I(5),), (B(5),)], grad=2),
    OpRecord("sum_axis", lambda x: gt.sum(x, axis=1, keepdims=True),
             lambda x: np.sum(x, axis=1, keepdims=True), [(F(3, 4),), (F(2, 3, 4),)], grad=2),
]
