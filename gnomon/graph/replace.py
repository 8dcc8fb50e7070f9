"""Building new graphs from old ones by substitution (the IR is never mutated)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gnomon.graph.basic import Variable
from gnomon.graph.traversal import toposort


def graph_replace(
    outputs: Sequence[Variable],
    replace: Mapping[Variable, Variable],
    *,
    strict: bool = True,
) -> list[Variable]:
    """Return ``outputs`` rebuilt with each key of ``replace`` substituted by its value.

    Nodes whose inputs did not change are kept as they are (so untouched subgraphs are shared),
    and rebuilt nodes go through ``op.make_node`` again, so types are re-inferred.
    With ``strict=True`` a replacement must have the same type as what it replaces.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> (out,) = graph_replace([x + 1], {x: y})
    >>> out.owner.inputs[0] is y
    True
    """
    from gnomon.errors import GnomonTypeError

    memo: dict[Variable, Variable] = {}
    for old, new in replace.items():
        if strict and old.type != new.type:
            new = _convert_for_replace(old, new)
            if old.type != new.type:
                raise GnomonTypeError(
                    f"graph_replace: cannot replace {old} of type {old.type} by {new} of type "
                    f"{new.type}.\nHint: cast the replacement, or pass strict=False."
                )
        memo[old] = new
    if not memo:
        return list(outputs)
    for node in toposort(outputs):
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs, strict=True)):
            continue
        if any(o in memo for o in node.outputs):
            # An output was itself replaced: the replacement wins, do not rebuild the node.
            continue
        new_node = node.op.make_node(*new_inputs)
        for o, n in zip(node.outputs, new_node.outputs, strict=True):
            memo.setdefault(o, n)
    return [memo.get(o, o) for o in outputs]


def _convert_for_replace(old: Variable, new: Variable) -> Variable:
    """Let a replacement with a more specific static shape stand in for a less specific one."""
    convert = getattr(old.type, "convert_variable", None)
    if convert is None:
        return new
    out = convert(new)
    return out if out is not None else new


def clone_replace(
    outputs: Sequence[Variable],
    replace: Mapping[Variable, Variable] | None = None,
) -> list[Variable]:
    """Like :func:`graph_replace`, but the roots not replaced are cloned to fresh variables too.

    Useful to build a copy of a graph that shares no root with the original (inner graphs).
    Constants are kept (they are interned by value).
    """
    from gnomon.graph.basic import Constant
    from gnomon.graph.traversal import graph_inputs

    mapping: dict[Variable, Variable] = dict(replace or {})
    for root in graph_inputs(outputs, include_constants=False):
        if root not in mapping and not isinstance(root, Constant):
            mapping[root] = root.clone()
    return graph_replace(outputs, mapping, strict=False)
