"""Walking graphs: topological order, ancestors, roots and clients (computed on demand)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gnomon.graph.basic import Apply, Constant, Variable


def toposort(outputs: Iterable[Variable]) -> list[Apply]:
    """Nodes needed to compute ``outputs``, each after the nodes it depends on.

    Iterative (no recursion limit), deterministic for a given graph.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> [str(n.op) for n in toposort([gt.exp(x) + 1])]
    ['Elemwise(exp)', 'Elemwise(add)']
    """
    order: list[Apply] = []
    done: set[int] = set()
    # Stack of (node, expanded?) pairs; a node is emitted once all its inputs' owners are.
    stack: list[tuple[Apply, bool]] = []
    for out in reversed(list(outputs)):
        if out.owner is not None:
            stack.append((out.owner, False))
    while stack:
        node, expanded = stack.pop()
        nid = id(node)
        if nid in done:
            continue
        if expanded:
            done.add(nid)
            order.append(node)
            continue
        stack.append((node, True))
        for inp in reversed(node.inputs):
            owner = inp.owner
            if owner is not None and id(owner) not in done:
                stack.append((owner, False))
    return order


def ancestors(outputs: Variable | Iterable[Variable]) -> Iterator[Variable]:
    """Every variable ``outputs`` (a variable or several) depend on, ``outputs`` included, each
    once."""
    seen: set[int] = set()
    stack = [outputs] if isinstance(outputs, Variable) else list(outputs)
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        yield v
        if v.owner is not None:
            stack.extend(v.owner.inputs)


def graph_inputs(outputs: Variable | Iterable[Variable],
                 include_constants: bool = True) -> list[Variable]:
    """Root variables (no owner) that ``outputs`` depend on, in first-visited order.

    Constants are roots too and are included, as in PyTensor; pass
    ``include_constants=False`` for the inputs a function must be given.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> [str(v) for v in graph_inputs([x + 2])]
    ['2.0', 'x']
    >>> [str(v) for v in graph_inputs([x + 2], include_constants=False)]
    ['x']
    """
    roots = []
    for v in ancestors(outputs):
        if v.owner is None and (include_constants or not isinstance(v, Constant)):
            roots.append(v)
    return roots


def clients(outputs: Iterable[Variable]) -> dict[Variable, list[tuple[Apply, int]]]:
    """For each variable in the graph of ``outputs``: the ``(node, input index)`` pairs using it."""
    result: dict[Variable, list[tuple[Apply, int]]] = {}
    for node in toposort(outputs):
        for i, inp in enumerate(node.inputs):
            result.setdefault(inp, []).append((node, i))
    return result


def is_in_ancestors(var: Variable, outputs: Iterable[Variable]) -> bool:
    """True if ``var`` is one of ``outputs`` or something they depend on."""
    return any(v is var for v in ancestors(outputs))


# --- PyTensor's other walks (``pytensor.graph.basic`` / ``pytensor.graph.traversal``) --------


def _between(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The nodes of ``outputs``' graph that depend on some of ``inputs``, in order."""
    ins = {id(v) for v in inputs}
    reached: set[int] = set(ins)
    out = []
    for node in toposort(outputs):
        if any(id(i) in reached for i in node.inputs):
            out.append(node)
            reached.update(id(o) for o in node.outputs)
    return out


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The nodes that compute ``outputs`` from ``inputs``, each after those it depends on
    (PyTensor's name). Nodes that depend on none of ``inputs`` (on constants only, say) are
    included too, as they are needed for the outputs.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> [str(n.op) for n in io_toposort([x], [gt.exp(x) + 1])]
    ['Elemwise(exp)', 'Elemwise(add)']
    """
    return toposort(outputs)


def applys_between(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The nodes on a path from one of ``inputs`` to ``outputs``, in topological order."""
    return _between(list(inputs), list(outputs))


def vars_between(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Variable]:
    """``inputs`` and the variables computed from them on the way to ``outputs``."""
    ins = list(inputs)
    seen = {id(v) for v in ins}
    out = list(ins)
    for node in _between(ins, list(outputs)):
        for o in node.outputs:
            if id(o) not in seen:
                seen.add(id(o))
                out.append(o)
    return out


def orphans_between(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Variable]:
    """Roots of ``outputs``' graph that are not among ``inputs`` (constants, other inputs)."""
    ins = {id(v) for v in inputs}
    return [v for v in graph_inputs(outputs) if id(v) not in ins]


def equal_computations(xs: Iterable[Variable], ys: Iterable[Variable],
                       in_xs: Iterable[Variable] | None = None,
                       in_ys: Iterable[Variable] | None = None) -> bool:
    """Whether ``xs`` and ``ys`` compute the same thing, ``in_xs[i]`` standing for ``in_ys[i]``.

    gnomon's graphs are hash-consed, so equal computations on the same roots are the same
    variables: the check rebuilds ``xs`` on ``in_ys`` and compares identities.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> equal_computations([x * 2 + 1], [y * 2 + 1], [x], [y])
    True
    """
    from gnomon.graph.replace import graph_replace

    xs, ys = list(xs), list(ys)
    if len(xs) != len(ys):
        return False
    mapping = dict(zip(in_xs or (), in_ys or (), strict=True))
    rebuilt = graph_replace(xs, mapping, strict=False) if mapping else xs
    return all(a is b for a, b in zip(rebuilt, ys, strict=True))


def walk(nodes: Iterable[Any], expand: Any, bfs: bool = True, return_children: bool = False,
         hash_fn: Any = id) -> Iterator[Any]:
    """Visit ``nodes`` and everything ``expand`` reaches from them, each once (by
    ``hash_fn``), breadth first or depth first (PyTensor's generic walker).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> parents = lambda v: v.owner.inputs if v.owner is not None else []
    >>> [str(v) for v in walk([gt.exp(x) + 1], parents)]
    ['Elemwise(add).0', 'Elemwise(exp).0', '1.0', 'x']
    """
    from collections import deque

    todo: deque[Any] = deque(nodes)
    seen: set[Any] = set()
    while todo:
        node = todo.popleft() if bfs else todo.pop()
        key = hash_fn(node)
        if key in seen:
            continue
        seen.add(key)
        children = expand(node)
        yield (node, children) if return_children else node
        if children:
            todo.extend(children if bfs else reversed(list(children)))
