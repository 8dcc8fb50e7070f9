"""The scheduled program a backend compiles: an ordered list of nodes over numbered slots.

Built after rewriting. Every variable the program touches gets a slot index; inputs (explicit,
then shared) come first, constants next, then node outputs in execution order. The alias
analysis here tells the runtime which outputs might share memory with an input, a constant or
another output, so it can copy them (outputs never alias what the user passed in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.traversal import toposort


@dataclass(frozen=True)
class Program:
    """Everything a backend needs to compile a function."""

    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    nodes: tuple[Apply, ...]
    constants: tuple[Constant, ...]
    slot: dict[Variable, int]

    @property
    def n_slots(self) -> int:
        return len(self.slot)

    def last_use(self) -> dict[Variable, int]:
        """For each variable, the index of the last node reading it (-1: never read)."""
        last: dict[Variable, int] = {}
        for i, node in enumerate(self.nodes):
            for v in node.inputs:
                last[v] = i
        return last

    def root_of_view(self, v: Variable) -> Variable:
        """Follow ``view_map`` back from ``v`` to the variable whose memory it may share."""
        while v.owner is not None:
            vm = v.owner.op.view_map
            if v.index not in vm:
                break
            v = v.owner.inputs[vm[v.index]]
        return v

    def outputs_needing_copy(self) -> list[bool]:
        """Which outputs might alias an input, a constant or an earlier output."""
        seen: set[int] = set()
        out = []
        for o in self.outputs:
            base = self.root_of_view(o)
            alias = base.owner is None or id(base) in seen
            seen.add(id(base))
            # values that are not arrays (random generators) are never written by a later
            # node (a random variable advances only a generator that nothing else reads), so
            # sharing them is harmless, and they have no .copy()
            out.append(alias and hasattr(o.type, "dtype"))
        return out


def schedule(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> Program:
    """Order the nodes computing ``outputs`` from ``inputs`` and number every variable."""
    nodes = toposort(outputs)
    slot: dict[Variable, int] = {}
    for v in inputs:
        slot.setdefault(v, len(slot))
    constants: list[Constant] = []
    for node in nodes:
        for v in node.inputs:
            if isinstance(v, Constant) and v not in slot:
                slot[v] = len(slot)
                constants.append(v)
    for o in outputs:
        if isinstance(o, Constant) and o not in slot:
            slot[o] = len(slot)
            constants.append(o)
    for node in nodes:
        for v in node.outputs:
            slot[v] = len(slot)
    return Program(tuple(inputs), tuple(outputs), tuple(nodes), tuple(constants), slot)
