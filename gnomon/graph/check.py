"""The IR verifier, used by the tests after every rewrite and gradient construction."""

from __future__ import annotations

from collections.abc import Iterable

from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.traversal import toposort


class IRError(AssertionError):
    """The graph breaks one of the IR's invariants."""


def verify(outputs: Iterable[Variable]) -> None:
    """Check the invariants of the graph of ``outputs``; raise :class:`IRError` if one fails.

    * every output of a node points back at its node and index;
    * nodes are interned: ``Apply.make(op, inputs)`` finds the same node again;
    * re-running ``make_node`` on the inputs gives the same output types;
    * constants hold values of their type.
    """
    outputs = list(outputs)
    for node in toposort(outputs):
        for i, out in enumerate(node.outputs):
            if out.owner is not node or out.index != i:
                raise IRError(f"output {i} of {node} does not point back at its node")
        if Apply._table.get((node.op, tuple(map(id, node.inputs)))) is not node:
            raise IRError(f"{node} is not the interned node for its (op, inputs)")
        rebuilt = node.op.make_node(*node.inputs)
        if rebuilt is not node:
            got = [o.type for o in rebuilt.outputs]
            want = [o.type for o in node.outputs]
            raise IRError(f"{node.op}.make_node is not deterministic: {got} != {want}")
        for inp in node.inputs:
            if isinstance(inp, Constant) and not inp.type.is_valid_value(inp.data):
                raise IRError(f"constant {inp} does not hold a value of type {inp.type}")
    for out in outputs:
        if not isinstance(out, Variable):
            raise IRError(f"{out!r} is not a Variable")
