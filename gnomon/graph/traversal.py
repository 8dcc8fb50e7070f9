"""Walking graphs: topological order, ancestors, roots and clients (computed on demand)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

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
