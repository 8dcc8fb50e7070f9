"""Measurable rewrites: the extension point that turns expressions of random variables into ops
whose density is known.

A measurable rewrite is an ordinary rule of the rewrite engine (a pattern and a function
returning the replacement, :class:`gnomon.rewrite.engine.Rule`) kept in its own list,
:data:`MEASURABLE_RULES`, instead of the compilation pipeline: it only runs when a density is
derived (:func:`rewrite_measurable`), never when a function is compiled. A rule replaces an
expression such as ``exp(x)`` of a random variable ``x`` by a node of a *measurable op* (an op
class with a :func:`~gnomon.logprob.abstract._logprob` builder) computing the same values::

    # gnomon/logprob/transforms_measurable.py (say)
    @dataclass(frozen=True)
    class MeasurableExp(Op): ...                      # same values as exp(x)

    @_logprob.register(MeasurableExp)
    def _(op, value, x):
        return logp(x, log(value)) - log(value)      # change of variables

    @register_measurable_rule(P(Elemwise(Exp), Var("x", where=is_measurable)))
    def exp_of_measurable(node, x):
        return MeasurableExp()(x)

The derivation then dispatches on the op that owns the rewritten variable. See docs/logprob.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gnomon.graph.basic import Variable
from gnomon.rewrite.engine import RewriteStep, Rule, RuleFn, rewrite_stage
from gnomon.rewrite.pattern import Pattern

__all__ = ["MEASURABLE_RULES", "is_measurable", "register_measurable_rule",
           "rewrite_measurable"]

#: the measurable rewrites, in the order they were registered
MEASURABLE_RULES: list[Rule] = []


def register_measurable_rule(
    pattern: Pattern | None = None,
    *,
    name: str | None = None,
    ops: Sequence[Any] | None = None,
    exact_shape: bool = True,
) -> Callable[[RuleFn], RuleFn]:
    """Decorator: add ``fn(node, **captures)`` to :data:`MEASURABLE_RULES` (see the module
    docstring; the arguments mean what they mean for
    :func:`gnomon.rewrite.engine.register_rule`)."""

    def deco(fn: RuleFn) -> RuleFn:
        rule_name = name or fn.__name__
        if any(r.name == rule_name for r in MEASURABLE_RULES):
            raise ValueError(f"a measurable rule named {rule_name!r} is already registered")
        MEASURABLE_RULES.append(Rule(rule_name, fn, pattern, ("measurable",),
                                     None if ops is None else tuple(ops), True,
                                     (fn.__doc__ or "").strip(), exact_shape))
        return fn

    return deco


def is_measurable(v: Variable) -> bool:
    """Whether ``v`` is the measured output of a node with a log-density builder."""
    from gnomon.logprob.abstract import has_logprob
    from gnomon.random.op import RandomVariable

    if v.owner is None or not has_logprob(type(v.owner.op)):
        return False
    op = v.owner.op
    return v is v.owner.outputs[1] if isinstance(op, RandomVariable) else True


def rewrite_measurable(v: Variable, trace: list[RewriteStep] | None = None) -> Variable:
    """``v`` with the measurable rewrites applied to a fixed point (``v`` itself when none
    applies, or when it is already measurable)."""
    if not MEASURABLE_RULES or is_measurable(v):
        return v
    return rewrite_stage([v], MEASURABLE_RULES, "measurable", trace if trace is not None
                         else [])[0]
