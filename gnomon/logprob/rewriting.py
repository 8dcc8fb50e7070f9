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
from dataclasses import dataclass
from typing import Any

from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.graph.traversal import ancestors, toposort
from gnomon.rewrite.engine import RewriteStep, Rule, RuleFn, rewrite_stage
from gnomon.rewrite.pattern import Pattern

__all__ = ["MEASURABLE_RULES", "MeasurableOp", "depends_on", "is_measurable", "measured_logcdf",
           "measured_logp", "ndim_supp", "register_measurable_rule", "rewrite_measurable",
           "strip_measurable", "unvalued_rvs"]

#: the measurable rewrites, in the order they were registered
MEASURABLE_RULES: list[Rule] = []
_PRIORITY: dict[str, int] = {}


def register_measurable_rule(
    pattern: Pattern | None = None,
    *,
    name: str | None = None,
    ops: Sequence[Any] | None = None,
    exact_shape: bool = True,
    priority: int = 0,
) -> Callable[[RuleFn], RuleFn]:
    """Decorator: add ``fn(node, **captures)`` to :data:`MEASURABLE_RULES` (see the module
    docstring; the arguments mean what they mean for
    :func:`gnomon.rewrite.engine.register_rule`). On one node, rules of a lower ``priority``
    are tried first, then rules in the order they were registered (the rules at the level of
    random variables, ``normal + normal -> normal``, use ``-1`` so that they win over the
    change of variables)."""

    def deco(fn: RuleFn) -> RuleFn:
        rule_name = name or fn.__name__
        if any(r.name == rule_name for r in MEASURABLE_RULES):
            raise ValueError(f"a measurable rule named {rule_name!r} is already registered")
        MEASURABLE_RULES.append(Rule(rule_name, fn, pattern, ("measurable",),
                                     None if ops is None else tuple(ops), True,
                                     (fn.__doc__ or "").strip(), exact_shape))
        _PRIORITY[rule_name] = priority
        MEASURABLE_RULES.sort(key=lambda r: _PRIORITY.get(r.name, 0))  # stable
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


# --- measurable ops ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurableOp(Op):
    """Base of the measurable ops made by the rules: the same values as ``base`` applied to the
    same inputs, under a class that has density builders.

    A measurable op only lives in the graph a density is derived from; the density graph that
    comes back never contains one (:func:`strip_measurable` turns each back into ``base``), so
    no backend needs to lower it. ``base`` is the op the rule replaced (``Elemwise(exp)``,
    ``Join{axis=0}``...).

    Examples
    --------
    >>> import gnomon.tensor as gt, gnomon.random as gr
    >>> y = rewrite_measurable(gt.exp(gr.normal(0.0, 1.0)))
    >>> isinstance(y.owner.op, MeasurableOp), str(y.owner.op.base)
    (True, 'Elemwise(exp)')
    """

    base: Op

    def make_node(self, *inputs: Any) -> Apply:
        node = self.base.make_node(*inputs)
        return Apply.make(self, node.inputs, [o.type for o in node.outputs])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        return self.base.perform(self.base.make_node(*node.inputs), inputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
                    ) -> list[tuple[Variable, ...]] | None:
        return self.base.infer_shape(self.base.make_node(*node.inputs), input_shapes)

    def __str__(self) -> str:
        return f"measurable_{type(self).__name__.removeprefix('Measurable').lower()}({self.base})"


def strip_measurable(v: Variable) -> Variable:
    """``v`` with every measurable op node rebuilt as its ``base`` op (density graphs reach
    measurable ops through parameters, which the rules rewrite too).

    Examples
    --------
    >>> import gnomon.tensor as gt, gnomon.random as gr
    >>> x = gr.normal(0.0, 1.0)
    >>> strip_measurable(rewrite_measurable(gt.exp(x))) is gt.exp(x)   # interned: same node
    True
    """
    if not isinstance(v, Variable) or v.owner is None:
        return v
    memo: dict[Variable, Variable] = {}
    for node in toposort([v]):
        ins = [memo.get(i, i) for i in node.inputs]
        if isinstance(node.op, MeasurableOp):
            new = node.op.base.make_node(*ins)
        elif any(a is not b for a, b in zip(ins, node.inputs, strict=True)):
            new = node.op.make_node(*ins)
        else:
            continue
        for o, n in zip(node.outputs, new.outputs, strict=True):
            memo[o] = n
    return memo.get(v, v)


def _dispatch(table: Any, table_name: str, v: Variable, value: Variable) -> Variable:
    from gnomon.logprob.abstract import _NoBuilder
    from gnomon.logprob.basic import NotMeasurableError, _describe

    if v.owner is None:
        raise NotMeasurableError(
            f"{table_name}: {_describe(v)} is not a random variable (a root)\n"
            "Hint: the measured part of an expression must be a random variable")
    try:
        return table(v.owner.op, value, *v.owner.inputs)
    except _NoBuilder:
        from gnomon.errors import format_location, with_hint

        raise NotMeasurableError(with_hint(
            f"{table_name}: the derivation needs the {table_name} of {_describe(v)}, computed "
            f"by {v.owner.op}, which gnomon cannot build\n  Built at:\n"
            f"{format_location(v.owner.trace)}",
            "see the table of measurable expressions in docs/logprob.md")) from None


def measured_logp(v: Variable, value: Variable) -> Variable:
    """The log-density of the measurable variable ``v`` at ``value`` (for builders of
    measurable ops: ``v`` is an input of the op being derived, already rewritten).

    Examples
    --------
    >>> import gnomon.random as gr
    >>> x = gr.exponential(1.0)
    >>> v = x.type("v")
    >>> float(measured_logp(x, v).eval({v: 2.0}, mode="numpy"))
    -2.0
    """
    from gnomon.logprob.abstract import _logprob

    return _dispatch(_logprob, "logp", v, value)


def measured_logcdf(v: Variable, value: Variable) -> Variable:
    """The log-cdf of the measurable variable ``v`` at ``value`` (see :func:`measured_logp`)."""
    from gnomon.logprob.abstract import _logcdf

    return _dispatch(_logcdf, "logcdf", v, value)


def measured_icdf(v: Variable, q: Variable) -> Variable:
    """The inverse cdf of the measurable variable ``v`` at ``q`` (see :func:`measured_logp`)."""
    from gnomon.logprob.abstract import _icdf

    return _dispatch(_icdf, "icdf", v, q)


def ndim_supp(v: Variable) -> int:
    """Support dimensions of a measured variable (its density sums over them): the random
    variable's ``ndim_supp``, or a measurable op's ``ndim_supp`` attribute (default 0)."""
    from gnomon.random.op import RandomVariable

    if v.owner is None:
        return 0
    op = v.owner.op
    if isinstance(op, RandomVariable):
        return int(op.ndim_supp)
    return int(getattr(op, "ndim_supp", 0))


def depends_on(outputs: Sequence[Variable], v: Variable) -> bool:
    """Whether ``v`` is an ancestor of any of ``outputs``.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> a, b = gt.dscalar("a"), gt.dscalar("b")
    >>> depends_on([a + 1], a), depends_on([a + 1], b)
    (True, False)
    """
    return any(a is v for a in ancestors(list(outputs)))


def unvalued_rvs(outputs: Sequence[Variable]) -> list[Variable]:
    """The random-variable draws among the ancestors of ``outputs`` (in a derivation, the
    random variables with a value were already replaced by it)."""
    from gnomon.random.op import RandomVariable

    return [a for a in ancestors(list(outputs)) if a.owner is not None
            and isinstance(a.owner.op, RandomVariable) and a is a.owner.outputs[1]]


#: short descriptions of the measurable expressions, for error messages (each module adds its)
SUPPORTED_EXPRESSIONS: list[str] = []


def supported_expression(text: str) -> None:
    """Add ``text`` to the expressions listed when a density cannot be derived."""
    if text not in SUPPORTED_EXPRESSIONS:
        SUPPORTED_EXPRESSIONS.append(text)


def blocking_node(v: Variable) -> Apply | None:
    """The node that stops the derivation of ``v``'s density: going down from ``v`` through
    inputs that are random but not measurable, the deepest such node (its random inputs are
    measurable, it is not). ``None`` when ``v`` is measurable or not random."""
    m = rewrite_measurable(v)
    if m.owner is None or is_measurable(m):
        return None
    node = m.owner
    while True:
        nxt = next((i for i in node.inputs if i.owner is not None and not is_measurable(i)
                    and unvalued_rvs([i])), None)
        if nxt is None or nxt.owner is None:
            return node
        node = nxt.owner
