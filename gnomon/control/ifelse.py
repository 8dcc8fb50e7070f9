"""``ifelse(cond, then, else)``: a lazy branch.

Only the taken branch is computed, in every backend. Backends run nodes whose inputs are all
computed, so laziness cannot come from the scheduler: the computation of each branch lives
*inside* the :class:`IfElse` op as a closed inner graph. :func:`ifelse` cuts each branch out of
the caller's graph at the variables the branch cannot own -- the roots and everything the
condition depends on (those are computed anyway) -- and the node's inputs are those cut
variables. An intermediate value used both by a branch and by the rest of the graph is therefore
computed again inside the branch (the branch cannot know about later uses); the condition's own
computation is never duplicated.

Rewrites (registered here, group ``ifelse``):

* ``ifelse_constant_condition`` (canonicalize) -- a constant condition selects its branch, which
  is inlined;
* ``ifelse_same_branches`` (canonicalize) -- two structurally equal branches need no test;
* ``ifelse_merge`` (canonicalize, a graph rule) -- independent ifelse nodes with the same
  condition become one node, so the test runs once and each branch is one inner program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnomon.control.inner import InnerGraph, inner_shapes
from gnomon.errors import GnomonTypeError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import ancestors, is_in_ancestors, toposort
from gnomon.rewrite.engine import register_graph_rule, register_rule
from gnomon.tensor.type import TensorType

__all__ = ["IfElse", "ifelse"]


def _merge_type(a: TensorType, b: TensorType) -> TensorType:
    shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape, strict=True))
    return TensorType(a.dtype, shape)


@dataclass(frozen=True)
class IfElse(Op):
    """``IfElse(then_graph, else_graph)(cond, *inputs)``: run one of two closed inner graphs.

    Both graphs take the node's inputs after ``cond`` and have the same number of outputs, of
    the same dtypes and ranks. ``cond`` is a scalar; any non-zero value takes ``then``.
    Build it with :func:`ifelse`.
    """

    then_graph: InnerGraph
    else_graph: InnerGraph
    name: str | None = field(default=None, compare=False)

    def make_node(self, cond: Any, *inputs: Any) -> Apply:
        from gnomon.tensor.basic import as_tensor

        cond = as_tensor(cond)
        # non-tensor variables (random generators a branch draws from) pass through as they are
        ins = [v if isinstance(v, Variable) and not isinstance(v.type, TensorType)
               else as_tensor(v) for v in inputs]
        if len(ins) != len(self.then_graph.inputs):
            raise GnomonTypeError(
                f"{self} takes {len(self.then_graph.inputs)} input(s) after the condition, "
                f"got {len(ins)}"
            )
        types = [_merge_type(a.type, b.type)  # type: ignore[arg-type]
                 for a, b in zip(self.then_graph.outputs, self.else_graph.outputs, strict=True)]
        return Apply.make(self, [cond, *ins], types)

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        g = self.then_graph if bool(np.asarray(inputs[0])) else self.else_graph
        return tuple(g.function("numpy")(*inputs[1:]))

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
    ) -> list[tuple[Variable, ...]] | None:
        ts = inner_shapes(self.then_graph, input_shapes[1:])
        es = inner_shapes(self.else_graph, input_shapes[1:])
        if ts is None or es is None:
            return None
        flat_t = [d for s in ts for d in s]
        flat_e = [d for s in es for d in s]
        if all(a is b for a, b in zip(flat_t, flat_e, strict=True)):
            return ts
        # The shapes differ by branch: choose them with a (cheap, scalar) ifelse too.
        chosen = ifelse(node.inputs[0], flat_t, flat_e)
        out, k = [], 0
        for s in ts:
            out.append(tuple(chosen[k:k + len(s)]))
            k += len(s)
        return out

    def pullback(
        self, node: Apply, output_grads: Sequence[Variable | None]
    ) -> Sequence[Any]:
        from gnomon.tensor.basic import zeros_like

        cond, outer = node.inputs[0], list(node.inputs[1:])
        float_in = [k for k, v in enumerate(outer) if v.dtype[0] in "fc"]
        float_out = [k for k, (o, g) in enumerate(zip(node.outputs, output_grads, strict=True))
                     if g is not None and o.dtype[0] in "fc"]
        cond_grad = zeros_like(cond) if cond.dtype[0] in "fc" else None
        if not float_in or not float_out:
            return [cond_grad] + [None] * len(outer)
        ogs = [output_grads[k] for k in float_out]
        branch_grads = [_branch_grads(g, outer, float_in, float_out, ogs)  # type: ignore[arg-type]
                        for g in (self.then_graph, self.else_graph)]
        # The gradient is itself a lazy ifelse: only the taken branch's gradient is computed.
        res = ifelse(cond, branch_grads[0], branch_grads[1])
        grads: list[Any] = [cond_grad] + [None] * len(outer)
        for k, g in zip(float_in, res, strict=True):
            grads[1 + k] = g
        return grads

    def __str__(self) -> str:
        return self.name or "IfElse"


def _branch_grads(graph: InnerGraph, outer: list[Variable], float_in: list[int],
                  float_out: list[int], ogs: list[Variable]) -> list[Variable]:
    """Gradients of one branch wrt its float inputs, on the outer variables.

    Differentiated inside the closed inner graph (whose inputs are independent roots) and then
    moved out (see :meth:`InnerGraph.pullback`).
    """
    cots, gs = graph.pullback(float_in, float_out)
    mapping: dict[Variable, Variable] = dict(zip(graph.inputs, outer, strict=True))
    mapping.update(zip(cots, ogs, strict=True))
    return graph_replace(gs, mapping, strict=False)


def ifelse(cond: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """``then_branch`` if ``cond`` is true (non-zero), else ``else_branch``; lazily.

    Only the taken branch is computed (in every backend). Both branches may be single
    variables or lists of the same length; the result has the same form.

    Parameters
    ----------
    cond : scalar variable or value
        Any dtype; non-zero means true.
    then_branch, else_branch : Variable or list of Variable
        Values of the same ranks. Different dtypes are upcast to a common dtype (NumPy rules).
    name : str, optional
        How the node prints.

    Returns
    -------
    Variable or list of Variable

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> c, x = gt.dscalar("c"), gt.dvector("x")
    >>> out = ifelse(c > 0, gt.exp(x), -x)
    >>> out.eval({c: 1.0, x: np.zeros(2)}).tolist()
    [1.0, 1.0]
    >>> out.eval({c: -1.0, x: np.ones(2)}).tolist()
    [-1.0, -1.0]
    """
    from gnomon.tensor.basic import as_tensor, cast

    single = not isinstance(then_branch, list | tuple)
    thens = [as_tensor(then_branch)] if single else [as_tensor(v) for v in then_branch]
    elses = ([as_tensor(else_branch)] if not isinstance(else_branch, list | tuple)
             else [as_tensor(v) for v in else_branch])
    if len(thens) != len(elses):
        raise GnomonTypeError(with_hint(
            f"ifelse: the then branch has {len(thens)} output(s), the else branch {len(elses)}",
            "give both branches the same number of values",
        ))
    cond = as_tensor(cond)
    if cond.ndim != 0:
        raise GnomonTypeError(with_hint(
            f"ifelse: the condition must be a scalar, but {cond} has type {cond.type}",
            "reduce it (gt.all(c), gt.any(c)), or use gt.where for an elementwise choice",
        ))
    for k, (a, b) in enumerate(zip(thens, elses, strict=True)):
        if a.ndim != b.ndim:
            raise GnomonTypeError(with_hint(
                f"ifelse: output {k} has {a.ndim} dimension(s) in the then branch and {b.ndim} "
                "in the else branch",
                "the branches must have the same ranks; broadcast or reshape one of them",
            ))
        if a.dtype != b.dtype:
            dt = np.result_type(a.dtype, b.dtype).name
            thens[k], elses[k] = cast(a, dt), cast(b, dt)
    # The cut: roots and everything the condition needs are inputs of the node; the rest of
    # each branch moves inside.
    frontier = {id(v) for v in ancestors([cond])}
    cut: list[Variable] = []
    seen: set[int] = set()
    stack = list(reversed(thens + elses))
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, Constant):
            continue
        if v.owner is None or id(v) in frontier:
            cut.append(v)
            continue
        stack.extend(reversed(v.owner.inputs))  # type: ignore[arg-type]
    then_g = InnerGraph.cut(cut, thens)
    else_g = InnerGraph.cut(cut, elses)
    # Both graphs read the same inputs: give them the same inner roots (structural key equal
    # for equal branches, and one list of inputs to lower).
    else_g = InnerGraph(then_g.inputs,
                        graph_replace(list(else_g.outputs),
                                      dict(zip(else_g.inputs, then_g.inputs, strict=True)),
                                      strict=False))
    outs = IfElse(then_g, else_g, name)(cond, *cut)
    outs = [outs] if isinstance(outs, Variable) else outs
    return outs[0] if single else outs


# --- rewrites ----------------------------------------------------------------------------


# exact_shape: the chosen branch is exactly what the node would return.
@register_rule(ops=(IfElse,), groups=("canonicalize", "ifelse"), name="ifelse_constant_condition",
               exact_shape=True)
def ifelse_constant_condition(node: Apply) -> list[Variable] | None:
    """``ifelse(constant, a, b)`` is ``a`` or ``b``, inlined."""
    cond = node.inputs[0]
    if not isinstance(cond, Constant):
        return None
    op: IfElse = node.op  # type: ignore[assignment]
    g = op.then_graph if bool(np.asarray(cond.data)) else op.else_graph
    return g.apply(node.inputs[1:])


@register_rule(ops=(IfElse,), groups=("canonicalize", "ifelse"), name="ifelse_same_branches",
               exact_shape=True)
def ifelse_same_branches(node: Apply) -> list[Variable] | None:
    """``ifelse(c, a, a)`` is ``a`` (structurally equal branches)."""
    op: IfElse = node.op  # type: ignore[assignment]
    if op.then_graph != op.else_graph:
        return None
    return op.then_graph.apply(node.inputs[1:])


@register_graph_rule(groups=("canonicalize", "ifelse"), name="ifelse_merge")
def ifelse_merge(
    outputs: list[Variable],
) -> tuple[list[Variable], list[tuple[Apply, tuple[Variable, ...]]]]:
    """Merge independent IfElse nodes that test the same condition into one node."""
    groups: dict[int, list[Apply]] = {}
    for node in toposort(outputs):
        if isinstance(node.op, IfElse):
            groups.setdefault(id(node.inputs[0]), []).append(node)
    mapping: dict[Variable, Variable] = {}
    steps: list[tuple[Apply, tuple[Variable, ...]]] = []
    for nodes in groups.values():
        if len(nodes) < 2:
            continue
        batch: list[Apply] = []
        for n in nodes:
            if all(not _depends(n, m) and not _depends(m, n) for m in batch):
                batch.append(n)
        if len(batch) < 2:
            continue
        merged = _merge(batch)
        k = 0
        for n in batch:
            new = tuple(merged[k:k + len(n.outputs)])
            k += len(n.outputs)
            mapping.update(zip(n.outputs, new, strict=True))
            steps.append((n, new))
    if not mapping:
        return outputs, []
    return graph_replace(outputs, mapping, strict=False), steps


def _depends(a: Apply, b: Apply) -> bool:
    """True if node ``a`` reads (through its inputs) an output of node ``b``."""
    return any(is_in_ancestors(o, a.inputs) for o in b.outputs)


def _merge(nodes: list[Apply]) -> list[Variable]:
    cond = nodes[0].inputs[0]
    union: list[Variable] = []
    pos: dict[int, int] = {}
    for n in nodes:
        for v in n.inputs[1:]:
            if id(v) not in pos:
                pos[id(v)] = len(union)
                union.append(v)
    fresh = [v.type(v.name) for v in union]
    then_outs: list[Variable] = []
    else_outs: list[Variable] = []
    for n in nodes:
        op: IfElse = n.op  # type: ignore[assignment]
        for g, acc in ((op.then_graph, then_outs), (op.else_graph, else_outs)):
            m = {i: fresh[pos[id(v)]] for i, v in zip(g.inputs, n.inputs[1:], strict=True)}
            acc.extend(graph_replace(list(g.outputs), m, strict=False))
    merged = IfElse(InnerGraph(fresh, then_outs), InnerGraph(fresh, else_outs))(cond, *union)
    return [merged] if isinstance(merged, Variable) else list(merged)
