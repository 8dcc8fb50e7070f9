"""Stabilization: numerically stable forms of expressions that overflow or cancel.

Each rule replaces a naive expression by an op computed without overflow or catastrophic
cancellation (``log(1 + exp(x))`` overflows at ``x = 710``; ``softplus(x)`` does not). The
rules chain: ``log(1 - sigmoid(x))`` first becomes ``log1p(-sigmoid(x))`` and then
``-softplus(x)``.

Not done here: ``x / sqrt(sum(x**2))``-style normalisations (no overflow-safe norm op yet), and a
stable ``softmax`` rewrite of ``exp(x - max(x)) / sum(...)`` (gnomon's ``Softmax`` op is stable;
the naive ``exp(x) / sum(exp(x))`` is rewritten to it).
"""

from __future__ import annotations

from typing import Any

from gnomon.graph.basic import Apply, Variable
from gnomon.rewrite.egraph.rules import register_greedy
from gnomon.rewrite.engine import register_rule
from gnomon.rewrite.pattern import Const, P, Var, is_float
from gnomon.scalar.basic import Add, Neg, Pow, Sub, TrueDiv
from gnomon.scalar.math import Exp, Log, Log1p, Sqrt, Square
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.math import abs as abs_
from gnomon.tensor.math import add, log1mexp, log1p, neg
from gnomon.tensor.reduce import Softmax, Sum, log_softmax, logsumexp, softmax
from gnomon.tensor.shapes import DimShuffle, expand_dims

STAB = ("stabilize",)


def _real(v: Variable) -> bool:
    return is_float(v)


@register_rule(P(Elemwise(Log), P(Elemwise(Add), Const(value=1), rest="others"), where=_real),
               groups=STAB)
def log1p_from_log_one_plus(node: Apply, others: tuple[Variable, ...]) -> Variable:
    """``log(1 + x) -> log1p(x)`` (accurate for small ``x``)."""
    x = others[0] if len(others) == 1 else add(*others)
    return log1p(x)


@register_rule(P(Elemwise(Log), P(Elemwise(Sub), Const(value=1), "x"), where=_real), groups=STAB)
def log1p_from_log_one_minus(node: Apply, x: Variable) -> Variable:
    """``log(1 - x) -> log1p(-x)``."""
    return log1p(neg(x))


# Generated from the e-graph's equalities (gnomon.rewrite.egraph.rules.RULES, one table for
# both engines), real x only:
# log1p(exp(x)) -> softplus(x) (finite and exact for large x),
# log(sigmoid(x)) -> -softplus(-x) (no log(0) for very negative x),
# log(1 - sigmoid(x)) = log1p(-sigmoid(x)) -> -softplus(x).
for _eq in ("softplus_def", "log_sigmoid", "log1m_sigmoid"):
    register_greedy(_eq, __name__, float_only=True, groups=STAB)


@register_rule(P(Elemwise(Log1p), P(Elemwise(Neg), P(Elemwise(Exp), Var("x", where=_real)))),
               groups=STAB)
def log1mexp_from_log1p_neg_exp(node: Apply, x: Variable) -> Variable:
    """``log(1 - exp(x)) = log1p(-exp(x)) -> log1mexp(x)`` (accurate near 0 and for ``x << 0``)."""
    return log1mexp(x)


# exp(x) - 1 + ... -> expm1(x) + ... (accurate for small x; canonicalization has turned - 1
# into + (-1)), generated from the e-graph's expm1_def
register_greedy("expm1_def", __name__, float_only=True, groups=STAB)


@register_rule(P(Elemwise(Log), P(Sum, P(Elemwise(Exp), Var("x", where=_real)), name="s")),
               groups=STAB)
def logsumexp_from_log_sum_exp(node: Apply, x: Variable, s: Variable) -> Variable | None:
    """``log(sum(exp(x), axes)) -> logsumexp(x, axes)`` (finite for large ``x``)."""
    if s.dtype != x.dtype:
        return None
    axes = s.owner.op.axes  # type: ignore[union-attr]
    return logsumexp(x, axis=axes) if axes else None


@register_rule(P(Elemwise(Log), P(Softmax, Var("x", where=_real))), groups=STAB)
def log_softmax_from_log_of_softmax(node: Apply, x: Variable) -> Variable:
    """``log(softmax(x)) -> log_softmax(x)`` (no ``log(0)`` where a probability underflows)."""
    return log_softmax(x, axis=node.inputs[0].owner.op.axes)  # type: ignore[union-attr]


@register_rule(P(Elemwise(TrueDiv), P(Elemwise(Exp), Var("x", where=_real)),
                 P(DimShuffle, P(Sum, P(Elemwise(Exp), "x"), name="s"), name="d")),
               groups=STAB)
def softmax_from_exp_over_sum(node: Apply, x: Variable, s: Variable, d: Variable) -> Any:
    """``exp(x) / sum(exp(x), axes, keepdims=True) -> softmax(x, axes)`` (no overflow)."""
    axes = s.owner.op.axes  # type: ignore[union-attr]
    if s.dtype != x.dtype or not axes:
        return None
    # The denominator must be the sum with its axes put back where they were (keepdims).
    if expand_dims(s, axes) is not d:
        return None
    return softmax(x, axis=axes)


@register_rule(P(Elemwise(Sqrt), P(Elemwise(Pow), Var("x", where=_real), Const(value=2))),
               groups=STAB)
def sqrt_of_square(node: Apply, x: Variable) -> Variable:
    """``sqrt(x**2) -> abs(x)`` (no overflow of ``x**2``)."""
    return abs_(x)


@register_rule(P(Elemwise(Sqrt), P(Elemwise(Square), Var("x", where=_real))), groups=STAB,
               name="sqrt_of_square_op")
def sqrt_of_square_op(node: Apply, x: Variable) -> Variable:
    """``sqrt(square(x)) -> abs(x)``."""
    return abs_(x)


@register_rule(P(Elemwise(Pow), P(Elemwise(Pow), Var("x", where=_real), Const(value=2)),
                 Const(value=0.5)), groups=STAB)
def pow_half_of_square(node: Apply, x: Variable) -> Variable:
    """``(x**2)**0.5 -> abs(x)``."""
    return abs_(x)

