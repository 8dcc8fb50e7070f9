"""Building new graphs from old ones by substitution (the IR is never mutated)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

from gnomon.graph.basic import Variable
from gnomon.graph.traversal import toposort

__all__ = ["clone", "clone_replace", "graph_replace", "vectorize_graph", "vectorize_node"]

Replacements = Mapping[Variable, Variable] | Sequence[tuple[Variable, Variable]]


@overload
def graph_replace(outputs: Variable, replace: Replacements, *,
                  strict: bool = True) -> Variable: ...
@overload
def graph_replace(outputs: Sequence[Variable], replace: Replacements, *,
                  strict: bool = True) -> list[Variable]: ...
def graph_replace(outputs: Any, replace: Replacements, *, strict: bool = True) -> Any:
    """Return ``outputs`` rebuilt with each key of ``replace`` substituted by its value.

    ``outputs`` is one variable (one is returned) or a sequence (a list is returned);
    ``replace`` is a mapping or a sequence of ``(old, new)`` pairs, as in PyTensor.

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

    if isinstance(outputs, Variable):
        return graph_replace([outputs], replace, strict=strict)[0]
    pairs = replace.items() if isinstance(replace, Mapping) else replace
    memo: dict[Variable, Variable] = {}
    for old, new in pairs:
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


@overload
def clone_replace(outputs: Variable, replace: Replacements | None = None,
                  **kw: Any) -> Variable: ...
@overload
def clone_replace(outputs: Sequence[Variable], replace: Replacements | None = None,
                  **kw: Any) -> list[Variable]: ...
def clone_replace(outputs: Any, replace: Replacements | None = None, **kw: Any) -> Any:
    """Like :func:`graph_replace`, but the roots not replaced are cloned to fresh variables too.

    Useful to build a copy of a graph that shares no root with the original (inner graphs).
    Constants are kept (they are interned by value). One variable in, one out. PyTensor's
    rebuild keywords (``rebuild_strict``, ``copy_inputs_over``) are accepted; gnomon's graphs
    are immutable, so there is nothing else to choose.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> out = clone_replace(x + y, {x: gt.constant(2.0)})
    >>> out.owner.inputs[1] is y  # y was cloned to a fresh root
    False
    """
    from gnomon.graph.basic import Constant
    from gnomon.graph.traversal import graph_inputs

    if isinstance(outputs, Variable):
        return clone_replace([outputs], replace, **kw)[0]
    pairs = (replace or {}).items() if isinstance(replace, Mapping | None) else replace
    mapping: dict[Variable, Variable] = dict(pairs)
    for root in graph_inputs(outputs, include_constants=False):
        if root not in mapping and not isinstance(root, Constant):
            mapping[root] = root.clone()
    return graph_replace(outputs, mapping, strict=False)


def clone(inputs: Sequence[Variable], outputs: Sequence[Variable],
          copy_inputs: bool = True, copy_orphans: bool | None = None
          ) -> tuple[list[Variable], list[Variable]]:
    """``(new_inputs, new_outputs)``: ``outputs`` rebuilt on fresh copies of ``inputs``
    (PyTensor's ``graph.basic.clone``). With ``copy_inputs=False`` the inputs are kept (the
    graph is then the same: gnomon's graphs are immutable and hash-consed). Other roots are
    kept either way.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dscalar("x")
    >>> (x2,), (out,) = clone([x], [x + 1])
    >>> x2 is not x and out.owner.inputs[0] is x2
    True
    """
    if not copy_inputs:
        return list(inputs), list(outputs)
    new = [v.clone() for v in inputs]
    return new, graph_replace(list(outputs), dict(zip(inputs, new, strict=True)), strict=False)


def vectorize_graph(outputs: Any, replace: Mapping[Variable, Any]) -> Any:
    """``outputs`` rebuilt for replacements of their inputs that have leading batch dimensions
    (PyTensor's ``vectorize_graph``); see :mod:`gnomon.control.vectorize` for how each op is
    batched.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> xs = gt.dmatrix("xs")
    >>> vectorize_graph(gt.sum(x ** 2), {x: xs}).eval({xs: np.ones((3, 2))}).tolist()
    [2.0, 2.0, 2.0]
    """
    # The rules build tensor ops and scans, which live in layers above this one.
    from gnomon.control.vectorize import vectorize_graph as impl

    return impl(outputs, replace)


def vectorize_node(node: Any, *batched_inputs: Any) -> Any:
    """The node computing ``node``'s outputs for batched inputs (PyTensor's
    ``vectorize_node``); ``batched_inputs`` are ``node.inputs`` with batch dimensions in front.

    Raises ``ValueError`` when the batched computation is not one node (an op mapped over the
    batch with ``scan`` gives a loop and slices of it): use :func:`vectorize_graph` then.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> node = (x * 2.0).owner
    >>> vectorize_node(node, gt.dmatrix("xs"), *node.inputs[1:]).outputs[0].ndim
    2
    """
    from gnomon.errors import GnomonValueError

    outs = vectorize_graph(list(node.outputs), dict(zip(node.inputs, batched_inputs,
                                                         strict=True)))
    owners = {id(o.owner) for o in outs}
    if len(owners) != 1 or outs[0].owner is None:
        raise GnomonValueError(
            f"vectorize_node: the batched form of {node.op} is not one node.\n"
            "Hint: use vectorize_graph(node.outputs, replace) for the batched outputs.")
    return outs[0].owner
