"""Rows for the elementwise math functions (gnomon/scalar/math.py, gnomon/tensor/math.py).

Input ranges stay inside each function's domain and away from the points where it is not
differentiable. Piecewise-constant and selecting functions (floor, maximum, clip ...) check
gradients only in float64: a float32 finite-difference step (1e-3) may jump across a
discontinuity, a float64 one (1e-6) practically never does. Their float32 / integer dtype
cases sit in separate rows with ``grad=0``.
"""

import numpy as np
import scipy.special as sp

import gnomon.tensor as gt
from gnomon.scalar import math as sm
from tests.records import F, I, OpRecord, P


def unary(lo: float = -2.0, hi: float = 2.0, ints: bool = True) -> list:
    """float64 vector and matrix, a float32 case, and (optionally) int32 / int64 cases."""
    cases = [
        (F(5, low=lo, high=hi),),
        (F(2, 3, low=lo, high=hi),),
        (F(4, dtype="float32", low=lo, high=hi),),
        (F(low=lo, high=hi),),
    ]
    if ints:
        ilo, ihi = int(np.ceil(lo)), int(np.floor(hi))
        cases += [(I(4, dtype="int32", low=ilo, high=ihi),), (I(3, low=ilo, high=ihi),)]
    return cases


def positive(lo: float = 0.2, hi: float = 3.0, ints: bool = True) -> list:
    cases = [(P(5, low=lo, high=hi),), (P(2, 3, low=lo, high=hi),),
             (P(4, dtype="float32", low=lo, high=hi),)]
    if ints:
        cases += [(I(4, dtype="int32", low=max(1, int(np.ceil(lo))), high=max(2, int(hi))),)]
    return cases


BINARY_F64 = [
    (F(4), F(4)),
    (F(2, 3), F(3)),        # broadcasting by rank
    (F(2, 1), F(1, 3)),     # length-1 dimensions, known only at run time
    (F(), F(2, 2)),
]
BINARY_DTYPES = [
    (F(4, dtype="float32"), F(4, dtype="float32")),
    (F(2, 3, dtype="float32"), F(3)),
    (I(4, dtype="int32"), I(4, dtype="int32")),
    (I(2, 3), F(3, dtype="float32")),
]

PIECEWISE_GRAD = [(F(5, low=-5, high=5),), (F(2, 3, low=-5, high=5),)]
PIECEWISE_DTYPES = [(F(5, dtype="float32", low=-5, high=5),), (I(4, dtype="int32"),), (I(3),)]

C128 = F(4, dtype="complex128")
C64 = F(2, 3, dtype="complex64")

RECORDS = [
    # exponentials and logarithms (exp, log: more rows in core_records)
    OpRecord("exp_int", gt.exp, np.exp, [(I(4, dtype="int32"),), (C128,)], grad=0,
             ops=(sm.Exp,)),
    OpRecord("log_int", gt.log, np.log, [(I(4, dtype="int32", low=1, high=9),)], grad=0,
             ops=(sm.Log,)),
    OpRecord("exp2", gt.exp2, np.exp2, unary(), grad=2, ops=(sm.Exp2,)),
    OpRecord("expm1", gt.expm1, np.expm1, unary(), grad=2, ops=(sm.Expm1,)),
    OpRecord("log2", gt.log2, np.log2, positive(), grad=2, ops=(sm.Log2,)),
    OpRecord("log10", gt.log10, np.log10, positive(), grad=2, ops=(sm.Log10,)),
    OpRecord("log1p", gt.log1p, np.log1p, unary(-0.8, 2.0), grad=2, ops=(sm.Log1p,)),
    OpRecord("sqrt", gt.sqrt, np.sqrt, [*positive(), (C128,)], grad=2, ops=(sm.Sqrt,)),
    OpRecord("square", gt.square, lambda x: x * x, [*unary(), (C64,)], grad=2,
             ops=(sm.Square,)),
    OpRecord("reciprocal", gt.reciprocal, np.reciprocal,
             [*positive(ints=False), (F(3, low=-3, high=-0.3),), (I(4, low=1, high=4),)],
             grad=2, ops=(sm.Reciprocal,)),
    # trigonometric and hyperbolic
    OpRecord("sin", gt.sin, np.sin, unary(), grad=2, ops=(sm.Sin,)),
    OpRecord("cos", gt.cos, np.cos, unary(), grad=2, ops=(sm.Cos,)),
    OpRecord("tan", gt.tan, np.tan, unary(-1.2, 1.2), grad=2, ops=(sm.Tan,)),
    OpRecord("arcsin", gt.arcsin, np.arcsin, unary(-0.9, 0.9), grad=2, ops=(sm.ArcSin,)),
    OpRecord("arccos", gt.arccos, np.arccos, unary(-0.9, 0.9), grad=2, ops=(sm.ArcCos,)),
    OpRecord("arctan", gt.arctan, np.arctan, unary(-3, 3), grad=2, ops=(sm.ArcTan,)),
    OpRecord("arctan2", gt.arctan2, np.arctan2, [*BINARY_F64, *BINARY_DTYPES], grad=2,
             ops=(sm.ArcTan2,)),
    OpRecord("sinh", gt.sinh, np.sinh, unary(), grad=2, ops=(sm.Sinh,)),
    OpRecord("cosh", gt.cosh, np.cosh, unary(), grad=2, ops=(sm.Cosh,)),
    OpRecord("tanh", gt.tanh, np.tanh, unary(-3, 3), grad=2, ops=(sm.Tanh,)),
    OpRecord("arcsinh", gt.arcsinh, np.arcsinh, unary(-3, 3), grad=2, ops=(sm.ArcSinh,)),
    OpRecord("arccosh", gt.arccosh, np.arccosh, positive(1.2, 4.0), grad=2,
             ops=(sm.ArcCosh,)),
    OpRecord("arctanh", gt.arctanh, np.arctanh, unary(-0.9, 0.9), grad=2,
             ops=(sm.ArcTanh,)),
    # logistic family: references written independently of the implementation
    OpRecord("sigmoid", gt.sigmoid, lambda x: (1 / (1 + np.exp(-x))),
             unary(-6, 6), grad=2, ops=(sm.Sigmoid,)),
    OpRecord("expit", gt.expit, sp.expit, [(F(3, 2, low=-30, high=30),)], grad=1,
             ops=(sm.Sigmoid,)),
    OpRecord("softplus", gt.softplus, lambda x: np.log1p(np.exp(x)), unary(-6, 6), grad=2,
             ops=(sm.Softplus,)),
    OpRecord("log1mexp", gt.log1mexp, lambda x: np.log(1 - np.exp(x)),
             [(F(6, low=-3.0, high=-0.05),), (F(2, 3, low=-3.0, high=-0.05),),
              (F(4, dtype="float32", low=-3.0, high=-0.05),), (I(3, low=-6, high=-1),)],
             grad=2, ops=(sm.Log1mexp,)),
    OpRecord("logit", gt.logit, lambda p: np.log(p / (1 - p)),
             [(F(5, low=0.05, high=0.95),), (F(2, 3, low=0.05, high=0.95),),
              (F(4, dtype="float32", low=0.05, high=0.95),)],
             grad=2, ops=(sm.Logit,)),
    # special functions (SciPy references)
    OpRecord("erf", gt.erf, sp.erf, unary(), grad=2, ops=(sm.Erf,)),
    OpRecord("erfc", gt.erfc, sp.erfc, unary(), grad=2, ops=(sm.Erfc,)),
    OpRecord("erfcx", gt.erfcx, sp.erfcx, unary(-2, 5), grad=2, ops=(sm.Erfcx,)),
    OpRecord("erfinv", gt.erfinv, sp.erfinv, unary(-0.9, 0.9), grad=2, ops=(sm.Erfinv,)),
    OpRecord("gammaln", gt.gammaln, sp.gammaln, positive(0.3, 6.0), grad=2,
             ops=(sm.GammaLn,)),
    OpRecord("gamma", gt.gamma, sp.gamma, positive(0.3, 4.0), grad=2, ops=(sm.Gamma,)),
    OpRecord("digamma", gt.digamma, sp.psi, positive(0.3, 6.0), grad=2, ops=(sm.Digamma,)),
    OpRecord("polygamma1", lambda x: gt.polygamma(1, x),
             lambda x: sp.polygamma(1, x).astype(sp.psi(x).dtype),
             positive(0.3, 6.0), grad=2, ops=(sm.Polygamma,)),
    OpRecord("polygamma3", lambda x: gt.polygamma(3, x), lambda x: sp.polygamma(3, x),
             [(P(4, low=0.5, high=4.0),)], grad=2, ops=(sm.Polygamma,)),
    # rounding and sign: zero gradient
    OpRecord("sign", gt.sign, np.sign, PIECEWISE_GRAD, grad=1, ops=(sm.Sign,)),
    OpRecord("sign_dtypes", gt.sign, np.sign, [*PIECEWISE_DTYPES, (C128,)], grad=0,
             ops=(sm.Sign,)),
    OpRecord("floor", gt.floor, np.floor, PIECEWISE_GRAD, grad=1, ops=(sm.Floor,)),
    OpRecord("floor_dtypes", gt.floor, np.floor, PIECEWISE_DTYPES, grad=0, ops=(sm.Floor,)),
    OpRecord("ceil", gt.ceil, np.ceil, PIECEWISE_GRAD, grad=1, ops=(sm.Ceil,)),
    OpRecord("ceil_dtypes", gt.ceil, np.ceil, PIECEWISE_DTYPES, grad=0, ops=(sm.Ceil,)),
    OpRecord("trunc", gt.trunc, np.trunc, PIECEWISE_GRAD, grad=1, ops=(sm.Trunc,)),
    OpRecord("trunc_dtypes", gt.trunc, np.trunc, PIECEWISE_DTYPES, grad=0, ops=(sm.Trunc,)),
    OpRecord("round", gt.round, np.round, PIECEWISE_GRAD, grad=1, ops=(sm.Round,)),
    OpRecord("round_dtypes", gt.round, np.round, [*PIECEWISE_DTYPES, (C128,)], grad=0,
             ops=(sm.Round,)),
    OpRecord("round_decimals", lambda x: gt.round(x, 2), lambda x: np.round(x, 2),
             [(F(6, low=-5, high=5),), (I(4, low=-500, high=500),)], grad=0,
             ops=(sm.Round,)),
    # selecting and clipping
    OpRecord("maximum", gt.maximum, np.maximum, BINARY_F64, grad=1, ops=(sm.Maximum,)),
    OpRecord("maximum_dtypes", gt.maximum, np.maximum, BINARY_DTYPES, grad=0,
             ops=(sm.Maximum,)),
    OpRecord("minimum", gt.minimum, np.minimum, BINARY_F64, grad=1, ops=(sm.Minimum,)),
    OpRecord("minimum_dtypes", gt.minimum, np.minimum, BINARY_DTYPES, grad=0,
             ops=(sm.Minimum,)),
    OpRecord("clip", gt.clip, np.clip,
             [(F(6, low=-3, high=3), F(6, low=-1.5, high=-0.5), F(6, low=0.5, high=1.5)),
              (F(2, 3, low=-3, high=3), F(), F(3, low=0.5, high=1.5)),
              (F(2, 1, low=-3, high=3), F(1, 3, low=-1.5, high=0.0), F(2, 1, low=0.5, high=1.5)),
              # lo > hi: NumPy returns hi, and the gradient goes to hi
              (F(4), F(4, low=2.5, high=3.0), F(4, low=-3.0, high=-2.5))],
             grad=1, ops=(sm.Clip,)),
    OpRecord("clip_dtypes", gt.clip, np.clip,
             [(F(5, dtype="float32", low=-3, high=3), F(dtype="float32", low=-1, high=0),
               F(dtype="float32", low=0, high=1)),
              (I(6), I(low=-3, high=-1), I(low=1, high=3)),
              (I(4, dtype="int32"), F(low=-1, high=0), F(low=0, high=1))],
             grad=0, ops=(sm.Clip,)),
    OpRecord("clip_one_sided", lambda x, h: gt.clip(x, None, h),
             lambda x, h: np.clip(x, None, h), [(F(5), F(low=-0.5, high=0.5))], grad=1,
             ops=(sm.Minimum,)),
    # absolute value and complex parts
    OpRecord("abs", gt.abs, np.abs, [(F(5),), (F(2, 3),)], grad=1, ops=(sm.Abs,)),
    OpRecord("abs_dtypes", abs, np.abs,
             [(F(4, dtype="float32"),), (I(5, dtype="int32"),), (C128,), (C64,)], grad=0,
             ops=(sm.Abs,)),
    OpRecord("real", gt.real, np.real, [(F(4),), (C128,), (C64,), (I(3),)], grad=2,
             ops=(sm.Real,)),
    OpRecord("imag", gt.imag, np.imag, [(F(4),), (C128,), (C64,), (I(3),)], grad=2,
             ops=(sm.Imag,)),
    OpRecord("conj", gt.conj, np.conj, [(F(4),), (C128,), (C64,), (I(3),)], grad=2,
             ops=(sm.Conj,)),
    OpRecord("angle", gt.angle, np.angle, [(F(4),), (C128,), (C64,), (I(3),)], grad=1,
             ops=(sm.Angle,)),
    # floating-point classes (NaN and inf inputs: tests/tensor/test_math.py)
    OpRecord("isnan", gt.isnan, np.isnan, [(F(4),), (I(3),), (C128,)], grad=0,
             ops=(sm.IsNan,)),
    OpRecord("isinf", gt.isinf, np.isinf, [(F(4),), (I(3),)], grad=0, ops=(sm.IsInf,)),
    OpRecord("isfinite", gt.isfinite, np.isfinite, [(F(4),), (I(3),)], grad=0,
             ops=(sm.IsFinite,)),
]
