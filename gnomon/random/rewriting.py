"""Rewrites of random variables.

``random_inplace`` (in the last stage of the pipeline) lets a random variable advance
its input generator instead of a copy when nothing else can observe the old state: the generator
is read by this node only, is not an output of the function, and is either computed in the graph
(a ``next_rng``) or a shared variable (whose value a compiled function reads as a private copy,
see :class:`~gnomon.random.type.RandomGeneratorSharedVariable`). A generator passed as an
explicit input is the caller's object, so it is never advanced in place. A ``Scan`` that
threads generators through its steps is marked the same way when its initial generators are dead
after it; its body's draws then advance the loop's generators without copies
(:func:`owned_body`).

Examples
--------
>>> import numpy as np, gnomon, gnomon.random as gr
>>> rng = gnomon.shared(np.random.default_rng(0))
>>> f = gnomon.function([], gr.normal(rng=rng), mode="numba")
>>> [str(n.op) for n in f.program.nodes]
['normal_rv{inplace}']
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from gnomon.compile.shared import SharedVariable
from gnomon.control.inner import InnerGraph
from gnomon.control.scan import Scan
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.traversal import toposort
from gnomon.random.op import RandomVariable
from gnomon.rewrite.engine import register_graph_rule


# In the last stage, so that no later rule can add a reader of a generator it marks. Not run
# for the reference backend, which then copies every generator it advances.
@register_graph_rule(groups=("fusion", "inplace", "random"), name="random_inplace")
def random_inplace(outputs: list[Variable]) -> tuple[list[Variable], list[Any]]:
    """Mark random variables (and scans threading generators) whose generator inputs are dead
    after them as ``inplace``."""
    return mark_inplace(outputs, ())


def mark_inplace(outputs: list[Variable], owned: Any) -> tuple[list[Variable], list[Any]]:
    """:func:`random_inplace`, where the root variables ``owned`` (inner inputs of a loop body
    whose generators the loop owns) may be advanced like computed generators."""
    nodes = toposort(outputs)
    uses = Counter(id(v) for n in nodes for v in n.inputs)
    outs = {id(o) for o in outputs}
    own = {id(v) for v in owned}

    def dead_after(r: Variable) -> bool:
        return ((r.owner is not None or isinstance(r, SharedVariable) or id(r) in own)
                and uses[id(r)] == 1 and id(r) not in outs)

    def eligible(n: Apply) -> bool:
        if isinstance(n.op, RandomVariable):
            return not n.op.inplace and dead_after(n.inputs[0])
        if isinstance(n.op, Scan) and n.op.opaque_states and not n.op.inplace:
            bufs = n.op.split(n.inputs)[2]
            return all(dead_after(bufs[j]) for j in n.op.opaque_states)
        return False

    if not any(eligible(n) for n in nodes):
        return outputs, []
    memo: dict[Variable, Variable] = {}
    steps = []
    for n in nodes:
        ins = [memo.get(v, v) for v in n.inputs]
        op = dataclasses.replace(n.op, inplace=True) if eligible(n) else n.op
        if op is n.op and all(a is b for a, b in zip(ins, n.inputs, strict=True)):
            continue
        new = op.make_node(*ins)
        memo.update(zip(n.outputs, new.outputs, strict=True))
        if op is not n.op:
            steps.append((n, tuple(new.outputs)))
    return [memo.get(o, o) for o in outputs], steps


def owned_body(op: Scan) -> InnerGraph:
    """The body of a scan marked ``inplace``, with the draws that read its generator states
    marked ``inplace`` too: the loop owns those generators, so each step advances them
    without a copy (the Numba loop needs this: it cannot copy a generator cheaply)."""
    g = op.graph
    owned = [g.inputs[op.n_seqs + sum(len(t) for t in op.taps[:j])] for j in op.opaque_states]

    def build() -> InnerGraph:
        outs, _ = mark_inplace(list(g.outputs), owned)
        return InnerGraph(g.inputs, outs)

    return g.cached(("owned_body",), build)  # type: ignore[no-any-return]
