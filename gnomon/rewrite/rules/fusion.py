"""Fusion: chains of elementwise nodes become one ``Elemwise(Composite)`` node.

A group grows from an elementwise node (visited consumers first) through the elementwise nodes
that compute its inputs, as long as every use of an absorbed node's output is inside the group
(an intermediate used elsewhere would have to be computed twice or become a second output; the
group stops there instead). Broadcasting is free to differ inside a group: an elementwise
function commutes with broadcasting, so evaluating the fused program on the broadcast inputs
gives the same values. Size-1 constants (``x * 2``) are inlined into the program. A group of
one node is left alone.

What is not fused: reductions. ``sum(exp(x) * y)`` becomes ``Sum(Elemwise(Composite))``; a
backend that wants a single loop for it recognises a ``Sum`` whose input is an
``Elemwise(Composite)`` used only there. Multi-output groups are not built either (see above),
although :class:`~gnomon.scalar.composite.Composite` supports several outputs.

The stage is left out for the NumPy reference backend unless included by name (see
:mod:`gnomon.rewrite.pipeline`).
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from gnomon.graph.basic import Apply, Constant, Variable, built_from
from gnomon.graph.traversal import toposort
from gnomon.rewrite.engine import register_graph_rule
from gnomon.scalar.composite import Composite, ScalarConstant
from gnomon.tensor.elemwise import Elemwise

#: A group stops growing at this many binary operations (see _size). Measured with Numba
#: (docs/compile-time.md): caps of 64, 128 and 256 gave 2.6, 2.9 and 4.4 s of CPU to compile
#: a chain of 10,000 steps once rewritten, 2.8, 5.8 and 10.8 s for a sum of 10,000 scaled
#: inputs (identical groups share one kernel; bigger kernels cost more to compile).
MAX_GROUP = 64


def _fusable(node: Apply) -> bool:
    return (
        isinstance(node.op, Elemwise)
        and len(node.outputs) == 1
        and all(isinstance(i.type, type(node.outputs[0].type)) for i in node.inputs)
    )


def _size(node: Apply) -> int:
    """The binary scalar operations ``node`` stands for: a variadic op of ``k`` inputs counts
    ``k - 1``, a Composite of an earlier round each of its instructions (so that rounds of
    fusion never build a group past the cap), its constants none."""
    so = node.op.scalar_op  # type: ignore[attr-defined]
    if isinstance(so, Composite):
        return sum(max(1, len(ins) - 1) for op, ins in so.program
                   if not isinstance(op, ScalarConstant))
    return max(1, len(node.inputs) - 1)


def _producer_size(v: Variable) -> int:
    p = v.owner
    return _size(p) if p is not None and _fusable(p) else 0


def _inline_constant(v: Variable) -> bool:
    return isinstance(v, Constant) and np.asarray(v.data).size == 1


@register_graph_rule(groups=("fusion",), name="elemwise_fusion")
def elemwise_fusion(
    outputs: list[Variable],
) -> tuple[list[Variable], list[tuple[Apply, tuple[Variable, ...]]]]:
    """Group consecutive elementwise nodes into ``Elemwise(Composite)`` nodes."""
    nodes = toposort(outputs)
    position = {n: k for k, n in enumerate(nodes)}
    clients: dict[Variable, list[Apply]] = {}
    for n in nodes:
        for i in n.inputs:
            clients.setdefault(i, []).append(n)
    is_output = set(outputs)
    assigned: set[Apply] = set()
    groups: dict[Apply, list[Apply]] = {}
    for root in reversed(nodes):
        if root in assigned or not _fusable(root):
            continue
        group = {root}
        # breadth first: when the cap stops a group, whole levels are in it (a variadic sum's
        # terms are not left behind as one-node kernels each); without the cap, the group is
        # the same closure in any order
        frontier = collections.deque([root])
        size = _size(root)
        while frontier and size < MAX_GROUP:
            n = frontier.popleft()
            # smallest producers first, so that a capped group takes a variadic sum's
            # one-node terms rather than the next (large) partial sum, which starts a group
            # of its own
            for inp in sorted(n.inputs, key=_producer_size):
                p = inp.owner
                if (p is None or p in group or p in assigned or not _fusable(p)
                        or inp in is_output or size + _size(p) > MAX_GROUP):
                    continue
                if all(c in group for c in clients.get(inp, ())):
                    group.add(p)
                    size += _size(p)
                    frontier.append(p)
        if len(group) < 2:
            continue
        assigned.update(group)
        groups[root] = sorted(group, key=position.__getitem__)
    if not groups:
        return outputs, []
    # Rebuild in topological order so that a group's external inputs are already the fused
    # (rebuilt) variables; members other than the root are used only inside their group.
    memo: dict[Variable, Variable] = {}
    steps: list[tuple[Apply, tuple[Variable, ...]]] = []
    for n in nodes:
        if n in groups:
            with built_from(n):  # the fused loop stands for the user's outermost expression
                new = _fuse(groups[n], n, memo)
            if new is not None:
                memo[n.outputs[0]] = new
                steps.append((n, (new,)))
                continue
        elif n in assigned:
            continue
        ins = [memo.get(i, i) for i in n.inputs]
        if any(a is not b for a, b in zip(ins, n.inputs, strict=True)):
            with built_from(n):
                rebuilt = n.op.make_node(*ins)
            for o, o2 in zip(n.outputs, rebuilt.outputs, strict=True):
                memo[o] = o2
    return [memo.get(o, o) for o in outputs], steps


def _fuse(
    members: list[Apply], root: Apply, memo: dict[Variable, Variable]
) -> Variable | None:
    """Build the Composite of ``members`` (topologically sorted, ``root`` last)."""
    inside = {n.outputs[0]: None for n in members}
    ext: list[Variable] = []
    ext_slot: dict[Variable, int] = {}
    # External inputs first (their slots precede the program's).
    for n in members:
        for i in n.inputs:
            if i not in inside and i not in ext_slot and not _inline_constant(i):
                ext_slot[i] = len(ext)
                ext.append(i)
    n_in = len(ext)
    program: list[Any] = []
    slot: dict[Variable, int] = dict(ext_slot)

    def emit(op: Any, ins: tuple[int, ...]) -> int:
        program.append((op, ins))
        return n_in + len(program) - 1

    def slot_of(v: Variable) -> int:
        s = slot.get(v)
        if s is None:  # an inlined constant
            data = np.asarray(v.data)  # type: ignore[attr-defined]
            s = emit(ScalarConstant(data.reshape(()).item(), data.dtype.name), ())
            slot[v] = s
        return s

    for n in members:
        so = n.op.scalar_op  # type: ignore[attr-defined]
        ins = [slot_of(i) for i in n.inputs]
        if isinstance(so, Composite):
            # Inline a Composite made by an earlier round.
            local = list(ins)
            for op, sub in so.program:
                local.append(emit(op, tuple(local[k] for k in sub)))
            slot[n.outputs[0]] = local[so.out_slots[0]]
        else:
            slot[n.outputs[0]] = emit(so, tuple(ins))
    comp = Composite(n_in, tuple(program), (slot[root.outputs[0]],))
    if n_in == 0:
        return None
    new = Elemwise(comp)(*[memo.get(v, v) for v in ext])
    old = root.outputs[0]
    if new.type != old.type:
        return None  # never change a type (cannot happen for sound groups; kept as a guard)
    return new
