"""Memory planning on a scheduled program: which nodes may write their output into an input.

Runs after rewriting, on the :class:`~gnomon.compile.schedule.Program`, and is backend
independent: a backend says which nodes it can run in place and which nodes hand back fresh
memory, and gets back the pairs ``node index -> input index`` that are safe.

An input buffer ``v`` of node ``i`` may be overwritten by node ``i``'s first output when

* ``v`` owns its memory: it is not a view (``view_map``) and it was freshly allocated by a
  node of this program, so it is never a user's input, a constant or a shared variable's
  storage;
* nothing reads ``v``, or any view of ``v``, after node ``i``, and neither ``v`` nor a view of
  it is an output of the program (outputs are never aliased to each other or reused);
* no other input of node ``i`` shares ``v``'s memory (a transposed view of ``v`` read while
  ``v`` is overwritten would give wrong results);
* ``v`` has the output's dtype (the shape is checked at run time by the kernel, since
  broadcasting may make the output larger than ``v``).

Examples
--------
>>> import gnomon.tensor as gt
>>> from gnomon.compile.schedule import schedule
>>> x = gt.dvector("x")
>>> y = gt.exp(x)
>>> prog = schedule([x], [gt.log(y) + 1.0])
>>> plan = plan_inplace(prog, can_inplace=lambda node: True, fresh=lambda node: True)
>>> sorted(plan.values())  # log writes into exp's buffer, then add into log's
[0, 0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gnomon.compile.schedule import Program
from gnomon.graph.basic import Apply, Variable
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.reduce import Sum


def plan_inplace(
    program: Program,
    can_inplace: Callable[[Apply], bool],
    fresh: Callable[[Apply], bool],
) -> dict[int, int]:
    """Safe in-place choices: ``{node index: input index}`` whose buffer output 0 reuses.

    Parameters
    ----------
    program : Program
        The scheduled program.
    can_inplace : callable
        Whether the backend can run this node writing into one of its inputs.
    fresh : callable
        Whether the backend's code for this node returns newly allocated outputs (so a later
        node may take them over). Views and Python fallbacks that may alias are not fresh.
    """
    nodes = program.nodes
    roots: dict[Variable, Variable] = {}

    def root(v: Variable) -> Variable:
        r = roots.get(v)
        if r is None:
            r = roots[v] = program.root_of_view(v)
        return r

    # last node index reading each root's memory (through any view); outputs live forever
    live_until: dict[Variable, int] = {}
    for i, node in enumerate(nodes):
        for v in node.inputs:
            live_until[root(v)] = i
    forever = len(nodes)
    for o in program.outputs:
        live_until[root(o)] = forever

    plan: dict[int, int] = {}
    for i, node in enumerate(nodes):
        if not node.outputs or not can_inplace(node):
            continue
        out = node.outputs[0]
        for k, v in enumerate(node.inputs):
            if v.owner is None or root(v) is not v or not fresh(v.owner):
                continue
            if live_until.get(v) != i or v.type.dtype != out.type.dtype:  # type: ignore[attr-defined]
                continue
            if any(root(w) is v and w is not v for w in node.inputs):
                continue
            plan[i] = k
            break
    return plan


def fusable_sums(program: Program, lowered: Sequence[bool]) -> dict[int, int]:
    """``{elementwise node index: Sum node index}`` of the sums a backend may compute inside
    the loop that produces their input, leaving the elementwise values out of memory: a
    lowered single-output Elemwise (not 0-d) whose output only that lowered Sum reads (not a
    program output, no view of it taken). ``lowered[k]``: the backend compiles node ``k``.

    The fused kernel runs where the elementwise node was: it reads the same inputs at the same
    point of the program (so the memory plan's choices for other nodes stay valid), and the
    sum is ready earlier than scheduled, which nothing can observe.
    """
    nodes = program.nodes
    index = {n: k for k, n in enumerate(nodes)}
    uses: dict[Any, int] = {}
    for n in nodes:
        for v in n.inputs:
            uses[v] = uses.get(v, 0) + 1
    outputs = set(program.outputs)
    fused: dict[int, int] = {}
    for j, node in enumerate(nodes):
        if not isinstance(node.op, Sum) or not node.op.axes or not lowered[j]:
            continue
        x = node.inputs[0]
        i = index.get(x.owner)  # type: ignore[arg-type]
        if (i is None or i in fused or not isinstance(nodes[i].op, Elemwise)
                or len(nodes[i].outputs) != 1 or uses.get(x) != 1 or x in outputs
                or not lowered[i] or x.ndim == 0):
            continue
        fused[i] = j
    return fused

