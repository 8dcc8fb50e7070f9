"""Rewrites of random variables.

``random_inplace`` (in the last stage of the pipeline, ``fusion``) lets a random variable advance
its input generator instead of a copy when nothing else can observe the old state: the generator
is read by this node only, is not an output of the function, and is either computed in the graph
(a ``next_rng``) or a shared variable (whose value a compiled function reads as a private copy,
see :class:`~gnomon.random.type.RandomGeneratorSharedVariable`). A generator passed as an
explicit input is the caller's object, so it is never advanced in place.

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
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.traversal import toposort
from gnomon.random.op import RandomVariable
from gnomon.rewrite.engine import register_graph_rule


# In the last stage, so that no later rule can add a reader of a generator it marks. Not run
# for the reference backend, which then copies every generator it advances.
@register_graph_rule(groups=("fusion", "inplace", "random"), name="random_inplace")
def random_inplace(outputs: list[Variable]) -> tuple[list[Variable], list[Any]]:
    """Mark random variables whose RNG input is dead after them as ``inplace``."""
    nodes = toposort(outputs)
    uses = Counter(id(v) for n in nodes for v in n.inputs)
    outs = {id(o) for o in outputs}

    def eligible(n: Apply) -> bool:
        if not isinstance(n.op, RandomVariable) or n.op.inplace:
            return False
        r = n.inputs[0]
        return ((r.owner is not None or isinstance(r, SharedVariable))
                and uses[id(r)] == 1 and id(r) not in outs)

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
