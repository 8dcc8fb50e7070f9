"""Stabilization: numerically stable forms of expressions that overflow or cancel.

Each rule replaces a naive expression by an op computed without overflow or catastrophic
cancellation (``log(1 + exp(x))`` overflows at ``x = 710``; ``softplus(x)`` does not). The
rules chain: ``log(1 - sigmoid(x))`` first becomes ``log1p(-sigmoid(x))`` and then
``-softplus(x)``.

The ops these rules produce (softplus, log1mexp, logsumexp, ...) are looked up lazily; a rule
whose op does not exist stays dormant.

Not done here: ``x / sqrt(sum(x**2))``-style normalisations (no overflow-safe norm op yet), and a
stable ``softmax`` rewrite of ``exp(x - max(x)) / sum(...)`` (gnomon's ``Softmax`` op is stable;
the naive ``exp(x) / sum(exp(x))`` is rewritten to it).
"""

from __future__ import annotations

from typing import Any

from gnomon.graph.basic import Apply, Variable
from gnomon.rewrite.engine import register_rule
from gnomon.rewrite.pattern import Const, P, Var, is_float, op_class
from gnomon.rewrite.rules import apply_scalar, scalar
from gnomon.scalar.basic import Add, Neg, Pow, Sub, TrueDiv
from gnomon.scalar.math import Exp, Log
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.shapes import DimShuffle

STAB = ("stabilize",)
SUM = op_class("gnomon.tensor.reduce:Sum")
SOFTMAX = op_class("gnomon.tensor.reduce:Softmax")


def _tm() -> Any:
    from gnomon.tensor import math as tm

    return tm


def _real(v: Variable) -> bool:
    return is_float(v)


@register_rule(P(Elemwise(Log), P(Elemwise(Add), Const(value=1), rest="others"), where=_real),
               groups=STAB)
def log1p_from_log_one_plus(node: Apply, others: tuple[Variable, ...]) -> Variable | None:
    """``log(1 + x) -> log1p(x)`` (accurate for small ``x``)."""
    x = others[0] if len(others) == 1 else _tm().add(*others)
    return apply_scalar("Log1p", x, function="log1p")


@register_rule(P(Elemwise(Log), P(Elemwise(Sub), Const(value=1), "x"), where=_real), groups=STAB)
def log1p_from_log_one_minus(node: Apply, x: Variable) -> Variable | None:
    """``log(1 - x) -> log1p(-x)``."""
    return apply_scalar("Log1p", _tm().neg(x), function="log1p")


@register_rule(P(scalar("Log1p"), P(Elemwise(Exp), Var("x", where=_real))), groups=STAB)
def softplus_from_log1p_exp(node: Apply, x: Variable) -> Variable | None:
    """``log1p(exp(x)) -> softplus(x)`` (finite and exact for large ``x``)."""
    return apply_scalar("Softplus", x, function="softplus")


@register_rule(P(Elemwise(Log), P(scalar("Sigmoid"), Var("x", where=_real))), groups=STAB)
def log_sigmoid(node: Apply, x: Variable) -> Variable | None:
    """``log(sigmoid(x)) -> -softplus(-x)`` (no ``log(0)`` for very negative ``x``)."""
    sp = apply_scalar("Softplus", _tm().neg(x), function="softplus")
    return None if sp is None else _tm().neg(sp)


@register_rule(P(scalar("Log1p"), P(Elemwise(Neg), P(scalar("Sigmoid"), Var("x", where=_real)))),
               groups=STAB)
def log1m_sigmoid(node: Apply, x: Variable) -> Variable | None:
    """``log(1 - sigmoid(x)) = log1p(-sigmoid(x)) -> -softplus(x)``."""
    sp = apply_scalar("Softplus", x, function="softplus")
    return None if sp is None else _tm().neg(sp)


@register_rule(P(scalar("Log1p"), P(Elemwise(Neg), P(Elemwise(Exp), Var("x", where=_real)))),
               groups=STAB)
def log1mexp_from_log1p_neg_exp(node: Apply, x: Variable) -> Variable | None:
    """``log(1 - exp(x)) = log1p(-exp(x)) -> log1mexp(x)`` (accurate near 0 and for ``x << 0``)."""
    return apply_scalar("Log1mexp", x, function="log1mexp")


@register_rule(P(Elemwise(Add), P(Elemwise(Exp), Var("x", where=_real)), Const(value=-1),
                 rest="others"), groups=STAB)
def expm1_from_exp_minus_one(
    node: Apply, x: Variable, others: tuple[Variable, ...]
) -> Variable | None:
    """``exp(x) - 1 + ... -> expm1(x) + ...`` (accurate for small ``x``; canonicalization has
    turned ``- 1`` into ``+ (-1)``)."""
    e = apply_scalar("Expm1", x, function="expm1")
    if e is None:
        return None
    return e if not others else _tm().add(e, *others)


@register_rule(P(Elemwise(Log), P(SUM, P(Elemwise(Exp), Var("x", where=_real)), name="s")),
               groups=STAB)
def logsumexp_from_log_sum_exp(node: Apply, x: Variable, s: Variable) -> Variable | None:
    """``log(sum(exp(x), axes)) -> logsumexp(x, axes)`` (finite for large ``x``)."""
    from gnomon.rewrite.rules import tensor_function

    lse = tensor_function("logsumexp", "gnomon.tensor.reduce")
    if lse is None or s.dtype != x.dtype:
        return None
    axes = s.owner.op.axes  # type: ignore[union-attr]
    return lse(x, axis=axes) if axes else None


@register_rule(P(Elemwise(Log), P(SOFTMAX, Var("x", where=_real))), groups=STAB)
def log_softmax_from_log_of_softmax(node: Apply, x: Variable) -> Variable | None:
    """``log(softmax(x)) -> log_softmax(x)`` (no ``log(0)`` where a probability underflows)."""
    from gnomon.rewrite.rules import tensor_function

    ls = tensor_function("log_softmax", "gnomon.tensor.reduce")
    if ls is None:
        return None
    return ls(x, axis=node.inputs[0].owner.op.axes)  # type: ignore[union-attr]


@register_rule(P(Elemwise(TrueDiv), P(Elemwise(Exp), Var("x", where=_real)),
                 P(DimShuffle, P(SUM, P(Elemwise(Exp), "x"), name="s"), name="d")),
               groups=STAB)
def softmax_from_exp_over_sum(node: Apply, x: Variable, s: Variable, d: Variable) -> Any:
    """``exp(x) / sum(exp(x), axes, keepdims=True) -> softmax(x, axes)`` (no overflow)."""
    from gnomon.rewrite.rules import tensor_function
    from gnomon.tensor.shapes import expand_dims

    sm = tensor_function("softmax", "gnomon.tensor.reduce")
    axes = s.owner.op.axes  # type: ignore[union-attr]
    if sm is None or s.dtype != x.dtype or not axes:
        return None
    # The denominator must be the sum with its axes put back where they were (keepdims).
    if expand_dims(s, axes) is not d:
        return None
    return sm(x, axis=axes)


def _abs(x: Variable) -> Variable | None:
    return apply_scalar("Abs", x, function="abs")  # type: ignore[no-any-return]


@register_rule(P(scalar("Sqrt"), P(Elemwise(Pow), Var("x", where=_real), Const(value=2))),
               groups=STAB)
def sqrt_of_square(node: Apply, x: Variable) -> Variable | None:
    """``sqrt(x**2) -> abs(x)`` (no overflow of ``x**2``)."""
    return _abs(x)


@register_rule(P(scalar("Sqrt"), P(scalar("Square"), Var("x", where=_real))), groups=STAB,
               name="sqrt_of_square_op")
def sqrt_of_square_op(node: Apply, x: Variable) -> Variable | None:
    """``sqrt(square(x)) -> abs(x)``."""
    return _abs(x)


@register_rule(P(Elemwise(Pow), P(Elemwise(Pow), Var("x", where=_real), Const(value=2)),
                 Const(value=0.5)), groups=STAB)
def pow_half_of_square(node: Apply, x: Variable) -> Variable | None:
    """``(x**2)**0.5 -> abs(x)``."""
    return _abs(x)

