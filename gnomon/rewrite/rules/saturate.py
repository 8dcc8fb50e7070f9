"""The ``saturate`` stage: equality saturation (:mod:`gnomon.rewrite.egraph`) inside
``gnomon.function``.

One graph rule, ``saturate`` (group and stage ``saturate``, between ``stabilize`` and
``specialize``), opt-in: ``Mode(...).including("saturate")``. It saturates graphs whose
elementwise region has at most :data:`MAX_REGION` nodes (under :data:`STAGE_BUDGET`) and leaves
larger graphs to the greedy stages, which run either way. ``OpFromGraph`` nodes are saturated
as units, then expanded and saturated again, where ``inline_opfromgraph`` (specialize) would
expand them next anyway; excluding that rule keeps them.

Why opt-in and why the size limit: ``bench/egraph_bench.py`` and ``docs/egraph.md``.
"""

from __future__ import annotations

from gnomon.graph.basic import Apply, Variable
from gnomon.graph.traversal import toposort
from gnomon.rewrite.egraph.core import STAGE_BUDGET, Report, saturate
from gnomon.rewrite.engine import register_graph_rule, rule_selected
from gnomon.tensor.elemwise import Elemwise

#: Graphs with more elementwise nodes than this are left to the greedy stages.
MAX_REGION = 400


def elementwise_size(outputs: list[Variable]) -> int:
    """The number of elementwise nodes of a graph (the size the stage's limit is about)."""
    return sum(isinstance(n.op, Elemwise) for n in toposort(outputs))


@register_graph_rule(groups=("saturate",), name="saturate", default=False)
def saturate_stage(outputs: list[Variable]) -> tuple[list[Variable], list[tuple[Apply, tuple]]]:
    """Equality saturation of graphs up to :data:`MAX_REGION` elementwise nodes."""
    if elementwise_size(outputs) > MAX_REGION:
        return outputs, []
    report = Report()
    new = saturate(list(outputs), budget=STAGE_BUDGET, report=report,
                   expand=rule_selected("inline_opfromgraph"))
    steps = [(o.owner, (n,)) for o, n in zip(outputs, new, strict=True)
             if n is not o and o.owner is not None]
    return list(new), steps
