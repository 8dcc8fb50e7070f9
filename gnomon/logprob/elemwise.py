"""Measurable elementwise expressions of one random variable: invertible transforms (with their
Jacobians), folds (``abs``, ``x**2``), censoring (``clip``, ``maximum``, ``minimum``),
discretization (``round``, ``floor``, ``ceil``) and comparisons (``x > c``).

Each is an elementwise op with exactly one measurable input ``x``; the other inputs are
*parameters* (constants, inputs, values of other random variables) that must not depend on
``x``, and ``x`` must not be broadcast by them (``normal(size=())`` plus a vector of length 3 is
three copies of one draw, which has no density in ``R^3``). The density is derived by a change
of variables: for ``y = g(x)`` with inverse branches ``x_b = h_b(y)``,

    logp_y(y) = logsumexp_b [ logp_x(h_b(y)) + log |h_b'(y)| ]

(one branch for an invertible ``g``, two for ``abs`` and even powers). ``logcdf`` and ``icdf``
go through monotone transforms (decreasing ones flip the tail).

Examples
--------
>>> import numpy as np, scipy.stats as st, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> y = gt.exp(gr.normal(0.0, 0.5))            # a log-normal
>>> lp = glp.logp(y, 2.0).eval(mode="numpy")
>>> bool(np.isclose(lp, st.lognorm(0.5).logpdf(2.0)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import gnomon.scalar.basic as sb
import gnomon.scalar.math as sm
import gnomon.tensor as gt
from gnomon.graph.basic import Variable
from gnomon.logprob.abstract import _icdf, _logcdf, _logprob, _NoBuilder
from gnomon.logprob.rewriting import (
    MeasurableOp,
    depends_on,
    is_measurable,
    measured_icdf,
    measured_logcdf,
    measured_logp,
    ndim_supp,
    register_measurable_rule,
    supported_expression,
)
from gnomon.rewrite.pattern import scalar_value
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.special import logaddexp

__all__: list[str] = []

supported_expression(
    'invertible transforms of one random variable (exp, log, expm1, log1p, loc '
    '+ scale * x with variable loc/scale and -, /, -x, 1/x, x**c and c**x for a'
    ' constant c, sqrt, sigmoid, logit, tanh, arctanh, sinh, arcsinh)')
supported_expression('folds (abs(x), x**2, even powers)')
supported_expression('censoring (clip, maximum, minimum with a bound)')
supported_expression('discretization (round, floor, ceil)')
supported_expression(
    'comparisons with a bound (x > c, x <= c ..., and x == c, x != c of a discrete x:'
    ' Bernoulli)')

NINF = -np.inf


# --- helpers shared by the rules of this module -------------------------------------------------


def _is_continuous(v: Variable) -> bool:
    return v.dtype[0] == "f"


def not_broadcast(x: Variable, out: Variable) -> bool:
    """``x`` fills ``out`` without being broadcast (a dimension unknown at graph time is
    assumed not to be a broadcast 1; see docs/logprob.md)."""
    if x.ndim != out.ndim:
        return False
    return all(a == b or a is None or (b is None and a != 1)
               for a, b in zip(x.type.shape, out.type.shape, strict=True))  # type: ignore


def measured_input(node: Any) -> int | None:
    """The index of the one measurable input of ``node`` whose other inputs (parameters) do not
    depend on it and do not broadcast it; ``None`` otherwise."""
    idx = [i for i, v in enumerate(node.inputs) if is_measurable(v)]
    if len(idx) != 1:
        return None
    i = idx[0]
    x = node.inputs[i]
    others = [v for j, v in enumerate(node.inputs) if j != i]
    if depends_on(others, x) or not not_broadcast(x, node.outputs[0]):
        return None
    return i


def where_ok(ok: Any, lp: Variable, fill: float = NINF) -> Variable:
    """``lp`` where ``ok`` holds, else ``fill`` (``ok=None``: everywhere)."""
    if ok is None:
        return lp
    return gt.where(ok, lp, np.array(fill, dtype=lp.dtype))


def as_float(v: Any, like: Variable) -> Variable:
    v = gt.as_tensor(v)
    return v if v.dtype[0] == "f" else gt.cast(v, like.dtype if like.dtype[0] == "f"
                                                 else "float64")


def log_diff_exp(a: Variable, b: Variable) -> Variable:
    """``log(exp(a) - exp(b))`` for ``a >= b`` (``-inf`` when equal)."""
    safe_a = gt.where(gt.isinf(a), 0.0, a)
    return gt.where(gt.le(a, b), NINF, a + gt.log1mexp(gt.minimum(b - safe_a, 0.0)))


def log_sf(lcdf: Variable) -> Variable:
    """``log(1 - cdf)`` from ``log(cdf)``."""
    return gt.log1mexp(lcdf)


def _sum_supp(lj: Variable, k: int) -> Variable:
    return gt.sum(lj, axis=tuple(range(lj.ndim - k, lj.ndim))) if k else lj


# --- transforms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableTransform(MeasurableOp):
    """An elementwise ``g(x, *params)`` of the measurable input ``index``, invertible or a fold
    (``abs``, even powers)."""

    index: int


@dataclass
class _Inverse:
    """Inverse branches ``[(x_b, log|dx_b/dy|)]`` on the domain ``ok`` (``None``: everywhere);
    ``direction``: +1 increasing, -1 decreasing, a symbolic sign, or ``None`` (not monotone)."""

    branches: list[tuple[Variable, Variable]]
    ok: Any
    direction: Any


def _safe(y: Variable, ok: Any, fill: float) -> Variable:
    return gt.where(ok, y, np.array(fill, dtype=y.dtype))


def _unary(so: Any, y: Variable) -> _Inverse | None:
    zero = gt.zeros_like(y)
    if isinstance(so, sm.Exp):
        ok = gt.gt(y, 0.0)
        ys = _safe(y, ok, 1.0)
        return _Inverse([(gt.log(ys), -gt.log(ys))], ok, 1)
    if isinstance(so, sm.Expm1):
        ok = gt.gt(y, -1.0)
        ys = _safe(y, ok, 0.0)
        return _Inverse([(gt.log1p(ys), -gt.log1p(ys))], ok, 1)
    if isinstance(so, sm.Log):
        return _Inverse([(gt.exp(y), y)], None, 1)
    if isinstance(so, sm.Log1p):
        return _Inverse([(gt.expm1(y), y)], None, 1)
    if isinstance(so, sb.Neg):
        return _Inverse([(-y, zero)], None, -1)
    if isinstance(so, sm.Sqrt):
        ok = gt.ge(y, 0.0)
        ys = _safe(y, ok, 1.0)
        return _Inverse([(gt.square(ys), gt.log(2.0 * ys))], ok, 1)
    if isinstance(so, sm.Reciprocal):
        ok = gt.neq(y, 0.0)
        ys = _safe(y, ok, 1.0)
        return _Inverse([(gt.reciprocal(ys), -2.0 * gt.log(gt.abs(ys)))], ok, None)
    if isinstance(so, sm.Sigmoid):
        ok = gt.and_(gt.gt(y, 0.0), gt.lt(y, 1.0))
        ys = _safe(y, ok, 0.5)
        return _Inverse([(gt.logit(ys), -gt.log(ys) - gt.log1p(-ys))], ok, 1)
    if isinstance(so, sm.Logit):
        return _Inverse([(gt.sigmoid(y), -gt.softplus(-y) - gt.softplus(y))], None, 1)
    if isinstance(so, sm.Tanh):
        ok = gt.lt(gt.abs(y), 1.0)
        ys = _safe(y, ok, 0.0)
        return _Inverse([(gt.arctanh(ys), -gt.log1p(-gt.square(ys)))], ok, 1)
    if isinstance(so, sm.ArcTanh):
        a = gt.abs(y)  # log(1 - tanh(y)^2) = log 4 - 2|y| - 2 softplus(-2|y|)
        return _Inverse([(gt.tanh(y), float(np.log(4.0)) - 2.0 * a - 2.0 * gt.softplus(-2.0 * a))],
                        None, 1)
    if isinstance(so, sm.Sinh):
        return _Inverse([(gt.arcsinh(y), -0.5 * gt.log1p(gt.square(y)))], None, 1)
    if isinstance(so, sm.ArcSinh):
        a = gt.abs(y)  # log cosh(y) = |y| + softplus(-2|y|) - log 2
        return _Inverse([(gt.sinh(y), a + gt.softplus(-2.0 * a) - float(np.log(2.0)))], None, 1)
    if isinstance(so, sm.Abs):
        ok = gt.ge(y, 0.0)
        ys = _safe(y, ok, 1.0)
        return _Inverse([(ys, zero), (-ys, zero)], ok, None)
    if isinstance(so, sm.Square):
        ok = gt.ge(y, 0.0)
        r = gt.sqrt(_safe(y, ok, 1.0))
        lj = -gt.log(2.0 * r)
        return _Inverse([(r, lj), (-r, lj)], ok, None)
    return None


def _sign(s: Variable) -> Any:
    c = scalar_value(s)
    if c is not None:
        return 1 if c > 0 else -1 if c < 0 else None
    return gt.sign(s)


def _binary(so: Any, y: Variable, i: int, others: list[Variable]) -> _Inverse | None:
    zero = gt.zeros_like(y)
    if isinstance(so, sb.Add):
        loc = others[0] if len(others) == 1 else gt.add(*others)
        return _Inverse([(y - loc, zero)], None, 1)
    if isinstance(so, sb.Sub):
        (c,) = others
        return _Inverse([(y + c, zero)] if i == 0 else [(c - y, zero)], None, 1 if i == 0 else -1)
    if isinstance(so, sb.Mul):
        s = others[0] if len(others) == 1 else gt.mul(*others)
        return _Inverse([(y / s, -gt.log(gt.abs(as_float(s, y))) + zero)], None, _sign(s))
    if isinstance(so, sb.TrueDiv):
        (c,) = others
        if i == 0:
            return _Inverse([(y * c, gt.log(gt.abs(c)) + zero)], None, _sign(c))
        ok = gt.neq(y, 0.0)
        ys = _safe(y, ok, 1.0)
        return _Inverse([(c / ys, gt.log(gt.abs(c)) - 2.0 * gt.log(gt.abs(ys)))], ok, None)
    if isinstance(so, sb.Pow):
        (c,) = others
        cv = scalar_value(c)
        if cv is None:
            return None  # a power by a variable: no fixed inverse
        cv = float(cv)
        if i == 1:  # c ** x = exp(x log c)
            if cv <= 0 or cv == 1:
                return None
            ok = gt.gt(y, 0.0)
            ys = _safe(y, ok, 1.0)
            lc = float(np.log(cv))
            return _Inverse([(gt.log(ys) / lc, -gt.log(ys) - float(np.log(abs(lc))))], ok,
                            1 if lc > 0 else -1)
        if cv == 0:
            return None
        inv = 1.0 / cv
        lac = float(np.log(abs(cv)))
        if cv == int(cv) and int(cv) % 2 == 0:  # even power: a fold
            ok = gt.ge(y, 0.0)
            ys = _safe(y, ok, 1.0)
            r = ys ** inv
            lj = -lac + (inv - 1.0) * gt.log(ys)
            return _Inverse([(r, lj), (-r, lj)], ok, None)
        if cv == int(cv):  # odd power: a bijection of R (monotone when positive)
            ok = gt.neq(y, 0.0) if cv < 0 else None
            ys = _safe(y, ok, 1.0) if ok is not None else y
            a = gt.abs(ys)
            return _Inverse([(gt.sign(ys) * a ** inv, -lac + (inv - 1.0) * gt.log(a))], ok,
                            1 if cv > 0 else None)
        ok = gt.gt(y, 0.0)  # x ** c, c not an integer: defined for x >= 0 only
        ys = _safe(y, ok, 1.0)
        return _Inverse([(ys ** inv, -lac + (inv - 1.0) * gt.log(ys))], ok,
                        1 if cv > 0 else -1)
    return None


_UNARY = (sm.Exp, sm.Expm1, sm.Log, sm.Log1p, sb.Neg, sm.Sqrt, sm.Reciprocal, sm.Sigmoid,
          sm.Logit, sm.Tanh, sm.ArcTanh, sm.Sinh, sm.ArcSinh, sm.Abs, sm.Square)
_BINARY = (sb.Add, sb.Sub, sb.Mul, sb.TrueDiv, sb.Pow)
#: discrete random variables may only be shifted, negated or folded (their values stay integers)
_DISCRETE_OK = (sb.Add, sb.Sub, sb.Neg, sm.Abs)


def _inverse(op: MeasurableTransform, y: Variable, inputs: tuple[Variable, ...]) -> _Inverse:
    so = op.base.scalar_op  # type: ignore[attr-defined]
    others = [v for j, v in enumerate(inputs) if j != op.index]
    inv = _unary(so, y) if not others else _binary(so, y, op.index, others)
    if inv is None:  # the rule only builds the op for a supported case
        raise _NoBuilder(f"no inverse of {so}")
    return inv


@register_measurable_rule(ops=[Elemwise(c) for c in (*_UNARY, *_BINARY)])
def measurable_transform(node: Any) -> Variable | None:
    """``g(x, *params)`` of one measurable ``x`` -> :class:`MeasurableTransform`."""
    i = measured_input(node)
    if i is None:
        return None
    x = node.inputs[i]
    so = node.op.scalar_op
    if not _is_continuous(x) and not (isinstance(so, _DISCRETE_OK)
                                      and not _is_continuous(node.outputs[0])):
        return None
    if ndim_supp(x) and isinstance(so, (sm.Abs, sm.Square, sb.Pow)):
        return None  # a fold of a vector has 2**n branches
    if isinstance(so, sb.Pow) and scalar_value(node.inputs[1 - i]) is None:
        return None
    y = node.outputs[0]
    probe = gt.zeros_like(y) if y.dtype[0] == "f" else gt.zeros_like(y, dtype="float64")
    others = [v for j, v in enumerate(node.inputs) if j != i]
    if (_unary(so, probe) if not others else _binary(so, probe, i, others)) is None:
        return None
    return MeasurableTransform(node.op, i)(*node.inputs)


@_logprob.register(MeasurableTransform)
def _transform_logp(op: MeasurableTransform, value: Variable, *inputs: Variable) -> Variable:
    x = inputs[op.index]
    if not _is_continuous(x):
        return _discrete_logp(op, value, inputs)
    inv = _inverse(op, value, inputs)
    k = ndim_supp(x)
    terms = [measured_logp(x, gt.cast(xb, x.dtype)) + _sum_supp(lj, k)
             for xb, lj in inv.branches]
    lp = terms[0] if len(terms) == 1 else logaddexp(terms[0], terms[1])
    ok = inv.ok
    if ok is not None and k:
        ok = gt.all(ok, axis=tuple(range(ok.ndim - k, ok.ndim)))
    return where_ok(ok, lp)


def _discrete_logp(op: MeasurableTransform, value: Variable, inputs: tuple[Variable, ...]
                   ) -> Variable:
    x = inputs[op.index]
    so = op.base.scalar_op  # type: ignore[attr-defined]
    if isinstance(so, sm.Abs):
        a = gt.abs(value)
        lp = gt.where(gt.eq(value, 0), measured_logp(x, gt.cast(a, x.dtype)),
                      logaddexp(measured_logp(x, gt.cast(a, x.dtype)),
                                measured_logp(x, gt.cast(-a, x.dtype))))
        return where_ok(gt.ge(value, 0), lp)
    inv = _inverse(op, value, inputs)
    ((xb, _),) = inv.branches
    return measured_logp(x, gt.cast(xb, x.dtype))


def _monotone(op: MeasurableTransform, value: Variable, inputs: tuple[Variable, ...],
              what: str) -> tuple[Variable, _Inverse]:
    x = inputs[op.index]
    inv = _inverse(op, value, inputs)
    if inv.direction is None or ndim_supp(x):
        raise _NoBuilder(f"no {what} through {op.base}: not monotone")
    if not _is_continuous(x) and not (isinstance(inv.direction, int) and inv.direction == 1):
        raise _NoBuilder(f"no {what} of a decreasing function of a discrete variable")
    return x, inv


@_logcdf.register(MeasurableTransform)
def _transform_logcdf(op: MeasurableTransform, value: Variable, *inputs: Variable) -> Variable:
    so = op.base.scalar_op  # type: ignore[attr-defined]
    x = inputs[op.index]
    fold = _inverse(op, value, inputs)
    if len(fold.branches) == 2 and _is_continuous(x) and not ndim_supp(x):
        # a fold (abs, square, even power): P(g(x) <= y) = F(r) - F(-r), r the positive root
        (r, _), _ = fold.branches
        lc = log_diff_exp(measured_logcdf(x, r), measured_logcdf(x, -r))
        return gt.where(gt.lt(value, 0.0), NINF, lc)
    x, inv = _monotone(op, value, inputs, "logcdf")
    ((xb, _),) = inv.branches
    lc = measured_logcdf(x, gt.cast(xb, x.dtype))
    d = inv.direction
    if isinstance(d, int):  # a sign known when the graph is built
        out = lc if d == 1 else log_sf(lc)
    else:
        out = gt.where(gt.gt(d, 0), lc, log_sf(lc))
    if inv.ok is not None:  # outside the image: below it (-inf) or above it (0)
        below = gt.le(value, _image_low(so, value))
        out = gt.where(inv.ok, out, gt.where(below, NINF, 0.0))
    return out


def _image_low(so: Any, value: Variable) -> Any:
    """The lower end of the image of a monotone transform with a restricted domain."""
    return -1.0 if isinstance(so, (sm.Tanh, sm.Expm1)) else 0.0


@_icdf.register(MeasurableTransform)
def _transform_icdf(op: MeasurableTransform, q: Variable, *inputs: Variable) -> Variable:
    x, inv = _monotone(op, q, inputs, "icdf")

    def forward(qq: Variable) -> Variable:
        ins = list(inputs)
        q_x = measured_icdf(x, qq)  # a float, nan outside [0, 1], for discrete x too
        ins[op.index] = gt.cast(q_x, x.dtype) if _is_continuous(x) else q_x
        return op.base(*ins)  # type: ignore[operator]

    d = inv.direction
    if isinstance(d, int):
        return forward(q) if d == 1 else forward(1.0 - q)
    return gt.where(gt.gt(d, 0), forward(q), forward(1.0 - q))


# --- censoring: clip, maximum, minimum ------------------------------------------------------


@dataclass(frozen=True)
class MeasurableCensored(MeasurableOp):
    """``clip(x, lo, hi)`` (``maximum(x, lo)``: no upper bound; ``minimum(x, hi)``: no lower
    bound) of a measurable ``x``: its density inside, point masses ``P(x <= lo)`` at ``lo`` and
    ``P(x >= hi)`` at ``hi``. A discrete ``x`` needs integer bounds."""

    index: int


def _bounds(op: MeasurableCensored, inputs: tuple[Variable, ...]
            ) -> tuple[Variable | None, Variable | None]:
    so = op.base.scalar_op  # type: ignore[attr-defined]
    if isinstance(so, sm.Clip):
        return inputs[1], inputs[2]
    other = inputs[1 - op.index]
    return (other, None) if isinstance(so, sm.Maximum) else (None, other)


@register_measurable_rule(ops=[Elemwise(sm.Clip), Elemwise(sm.Maximum), Elemwise(sm.Minimum)])
def measurable_censoring(node: Any) -> Variable | None:
    """``clip(x, lo, hi)``, ``maximum(x, lo)``, ``minimum(x, hi)`` of a measurable ``x`` ->
    :class:`MeasurableCensored`."""
    i = measured_input(node)
    if i is None or ndim_supp(node.inputs[i]):
        return None
    if isinstance(node.op.scalar_op, sm.Clip) and i != 0:
        return None
    if _is_continuous(node.inputs[i]) != _is_continuous(node.outputs[0]):
        return None  # an integer variable clipped at float bounds takes float values
    return MeasurableCensored(node.op, i)(*node.inputs)


@_logprob.register(MeasurableCensored)
def _censored_logp(op: MeasurableCensored, value: Variable, *inputs: Variable) -> Variable:
    x = inputs[op.index]
    lo, hi = _bounds(op, inputs)
    zero = gt.zeros_like(value)
    lp = measured_logp(x, value)
    if hi is not None:
        # P(x >= hi): 1 - F(hi) for a continuous x, 1 - F(hi - 1) for a discrete one
        below_hi = hi if _is_continuous(x) else hi - 1
        at_hi = log_sf(measured_logcdf(x, gt.cast(below_hi + zero, value.dtype)))
        lp = gt.where(gt.gt(value, hi), NINF, gt.where(gt.eq(value, hi), at_hi, lp))
    if lo is not None:
        at_lo = measured_logcdf(x, gt.cast(lo + zero, value.dtype))
        lp = gt.where(gt.lt(value, lo), NINF, gt.where(gt.eq(value, lo), at_lo, lp))
    return lp


@_logcdf.register(MeasurableCensored)
def _censored_logcdf(op: MeasurableCensored, value: Variable, *inputs: Variable) -> Variable:
    x = inputs[op.index]
    lo, hi = _bounds(op, inputs)
    lc = measured_logcdf(x, value)
    if hi is not None:
        lc = gt.where(gt.ge(value, hi), 0.0, lc)
    if lo is not None:
        lc = gt.where(gt.lt(value, lo), NINF, lc)
    return lc


@_icdf.register(MeasurableCensored)
def _censored_icdf(op: MeasurableCensored, q: Variable, *inputs: Variable) -> Variable:
    x = inputs[op.index]
    lo, hi = _bounds(op, inputs)
    out = measured_icdf(x, q)
    if lo is not None:
        out = gt.maximum(out, lo)
    if hi is not None:
        out = gt.minimum(out, hi)
    return out


# --- discretization: round, floor, ceil -----------------------------------------------------


@dataclass(frozen=True)
class MeasurableDiscretized(MeasurableOp):
    """``round(x)``, ``floor(x)`` or ``ceil(x)`` of a continuous measurable ``x``: mass
    ``F(b) - F(a)`` on each integer (``[k - 1/2, k + 1/2]``, ``[k, k + 1)``, ``(k - 1, k]``)."""


def _interval(op: MeasurableDiscretized, value: Variable) -> tuple[Variable, Variable]:
    so = op.base.scalar_op  # type: ignore[attr-defined]
    if isinstance(so, sm.Round):
        return value - 0.5, value + 0.5
    if isinstance(so, sm.Floor):
        return value, value + 1.0
    return value - 1.0, value


@register_measurable_rule(ops=[Elemwise(sm.Round), Elemwise(sm.Floor), Elemwise(sm.Ceil)])
def measurable_discretization(node: Any) -> Variable | None:
    """``round(x)`` (to integers), ``floor(x)``, ``ceil(x)`` of a continuous measurable ``x``
    -> :class:`MeasurableDiscretized`."""
    so = node.op.scalar_op
    if isinstance(so, sm.Round) and so.decimals != 0:
        return None
    x = node.inputs[0]
    if measured_input(node) != 0 or not _is_continuous(x) or ndim_supp(x):
        return None
    return MeasurableDiscretized(node.op)(x)


@_logprob.register(MeasurableDiscretized)
def _discretized_logp(op: MeasurableDiscretized, value: Variable, x: Variable) -> Variable:
    a, b = _interval(op, value)
    lp = log_diff_exp(measured_logcdf(x, b), measured_logcdf(x, a))
    return gt.where(gt.eq(value, gt.round(value)), lp, NINF)


@_logcdf.register(MeasurableDiscretized)
def _discretized_logcdf(op: MeasurableDiscretized, value: Variable, x: Variable) -> Variable:
    _, b = _interval(op, gt.floor(value))
    return measured_logcdf(x, b)


# --- comparisons: x > c as a Bernoulli --------------------------------------------------------


@dataclass(frozen=True)
class MeasurableComparison(MeasurableOp):
    """``x > c``, ``x >= c``, ``x < c``, ``x <= c`` (or ``c < x``...) of a measurable ``x`` with
    a cdf, and ``x == c``, ``x != c`` of a discrete ``x``: a Bernoulli variable."""

    index: int


_ORDERINGS = (sb.GT, sb.GE, sb.LT, sb.LE)


@register_measurable_rule(ops=[Elemwise(c) for c in (*_ORDERINGS, sb.EQ, sb.NEQ)])
def measurable_comparison(node: Any) -> Variable | None:
    """A comparison of a measurable ``x`` with a parameter -> :class:`MeasurableComparison`."""
    i = measured_input(node)
    if i is None or ndim_supp(node.inputs[i]):
        return None
    if isinstance(node.op.scalar_op, (sb.EQ, sb.NEQ)) and _is_continuous(node.inputs[i]):
        return None  # probability 0 or 1: not a useful variable
    return MeasurableComparison(node.op, i)(*node.inputs)


def _log_p_true(op: MeasurableComparison, inputs: tuple[Variable, ...], like: Variable
                ) -> tuple[Variable, Variable]:
    """``(log P(true), log P(false))``."""
    x = inputs[op.index]
    so = op.base.scalar_op  # type: ignore[attr-defined]
    c = gt.as_tensor(inputs[1 - op.index]) + gt.zeros_like(like)
    if isinstance(so, (sb.EQ, sb.NEQ)):
        # a discrete x equals c with its mass at c (none when c is not an integer)
        whole = gt.eq(c, gt.floor(c)) if c.dtype[0] == "f" else None
        lp = measured_logp(x, gt.cast(gt.floor(c) if whole is not None else c, x.dtype))
        lp = where_ok(whole, lp)
        return (lp, log_sf(lp)) if isinstance(so, sb.EQ) else (log_sf(lp), lp)
    # normalize to "x OP c" with x on the left
    flip = {sb.GT: sb.LT, sb.GE: sb.LE, sb.LT: sb.GT, sb.LE: sb.GE}
    kind = type(so) if op.index == 0 else flip[type(so)]
    if _is_continuous(x):
        lc = measured_logcdf(x, as_float(c, x))  # P(x <= c) = P(x < c)
        below = kind in (sb.LT, sb.LE)
    else:  # integers: P(x <= c) = F(floor c), P(x < c) = F(ceil c - 1)
        cf = as_float(c, like)
        edge = gt.floor(cf) if kind in (sb.LE, sb.GT) else gt.ceil(cf) - 1.0
        lc = measured_logcdf(x, gt.cast(edge, x.dtype))
        below = kind in (sb.LT, sb.LE)
    return (lc, log_sf(lc)) if below else (log_sf(lc), lc)


@_logprob.register(MeasurableComparison)
def _comparison_logp(op: MeasurableComparison, value: Variable, *inputs: Variable) -> Variable:
    l_true, l_false = _log_p_true(op, inputs, gt.cast(value, "float64"))
    v = gt.cast(value, "int64")
    return gt.where(gt.eq(v, 1), l_true, gt.where(gt.eq(v, 0), l_false, NINF))


@_logcdf.register(MeasurableComparison)
def _comparison_logcdf(op: MeasurableComparison, value: Variable, *inputs: Variable
                       ) -> Variable:
    v = gt.cast(value, "float64")
    l0 = _comparison_logp(op, gt.zeros_like(value), *inputs)
    return gt.where(gt.lt(v, 0.0), NINF, gt.where(gt.ge(v, 1.0), 0.0, l0))
