"""Graphs of the value variables evaluated for many draws at once (a leading batch axis).

Turning posterior draws (unconstrained, one flat vector per draw) into constrained values and
deterministics used to call a compiled function once per draw: ~0.3-0.5 ms of Python each,
0.6-1.1 s for the 2000 draws of one ``pm.sample``. :func:`vectorize_graphs` rebuilds such
graphs so that every value variable carries a leading batch axis, and every node computes all
draws in one NumPy call: an elementwise op broadcasts as it is (the batch axis lines up on the
left), a reduction, softmax, cumulative sum, concatenation or index shifts its axes by one,
``reshape`` / ``alloc`` / ``broadcast_to`` get the batch length as a new first entry, ``matmul``
broadcasts over the batch axis, and shapes drop it. A node with any other op (or a rule that
does not apply, e.g. an index that itself depends on a draw) makes the outputs that need it
unbatchable: :meth:`~gnomon.ppl.model.LogpDlogpFunction.unflatten_many` computes those draw by
draw, as before, and every other output in one call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.graph.basic import Apply, Variable
from gnomon.graph.traversal import toposort

__all__ = ["vectorize_graphs"]


class _NoRule(Exception):
    """The node has no batching rule (its outputs are computed draw by draw)."""


Batched = tuple[Variable, bool]  # (variable, has a leading batch axis)


def vectorize_graphs(outputs: Sequence[Variable], batched: Mapping[Variable, Variable],
                     batch_size: Variable) -> list[Batched | None]:
    """``outputs`` rebuilt with each key of ``batched`` replaced by its value (the same
    variable with a leading batch axis of length ``batch_size``).

    Returns, per output, ``(graph, True)`` (a leading batch axis), ``(graph, False)`` (the
    output does not depend on the batched variables: the same for every draw) or ``None``
    (some node on its way has no batching rule).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> y = gt.sum(gt.exp(x) * np.array([1.0, 2.0]))
    >>> xb = gt.dmatrix("xb")
    >>> ((yb, has_batch),) = vectorize_graphs([y], {x: xb}, xb.shape[0])
    >>> gnomon.function([xb], yb, mode="numpy")(np.zeros((3, 2))).tolist(), has_batch
    ([3.0, 3.0, 3.0], True)
    """
    memo: dict[Variable, Batched | None] = {v: (b, True) for v, b in batched.items()}
    for node in toposort(outputs):
        ins: list[Batched] = []
        dead = False
        for x in node.inputs:
            r = memo.get(x, (x, False))
            if r is None:
                dead = True
                break
            ins.append(r)
        if dead:
            for o in node.outputs:
                memo[o] = None
            continue
        if not any(b for _, b in ins):
            # the same for every draw; rebuilt when an input was (a shape of a batched value)
            changed = any(v is not x for (v, _), x in zip(ins, node.inputs, strict=True))
            outs = node.op.make_node(*(v for v, _ in ins)).outputs if changed else node.outputs
            for o, n in zip(node.outputs, outs, strict=True):
                memo[o] = (n, False)
            continue
        try:
            new = _batch_node(node, ins, batch_size)
        except _NoRule:
            new = None
        except Exception:  # a rule that does not fit this node's inputs: draw by draw
            new = None
        if new is None or len(new) != len(node.outputs) or any(
                v.ndim != o.ndim + int(b) for (v, b), o in zip(new, node.outputs, strict=True)):
            for o in node.outputs:
                memo[o] = None
            continue
        for o, r in zip(node.outputs, new, strict=True):
            memo[o] = r
    return [memo.get(o, (o, False)) for o in outputs]


def _pad_after_batch(x: Variable, rank: int) -> Variable:
    """A batched ``x`` (core rank ``x.ndim - 1``) with length-1 axes inserted after the batch
    axis up to core rank ``rank`` (what NumPy's broadcasting does to the unbatched value)."""
    import gnomon.tensor as gt

    r = x.ndim - 1
    if r >= rank:
        return x
    return gt.dimshuffle(x, (0, *("x",) * (rank - r), *range(1, r + 1)))


def _lift(x: Batched, batch_size: Variable) -> Variable:
    """``x`` with a batch axis: itself if batched, else broadcast along a new first axis."""
    import gnomon.tensor as gt

    v, b = x
    if b:
        return v
    return gt.broadcast_to(gt.expand_dims(v, 0),  # type: ignore[no-any-return]
                           (batch_size, *(v.shape[i] for i in range(v.ndim))))


def _unbatched(xs: Sequence[Batched]) -> list[Variable]:
    """The variables of ``xs``, which must not depend on the draws (indices, shapes)."""
    if any(b for _, b in xs):
        raise _NoRule
    return [v for v, _ in xs]


def _batch_node(node: Apply, ins: list[Batched], bsz: Variable) -> list[Batched] | None:
    from gnomon.tensor.blas import MatMul
    from gnomon.tensor.elemwise import Elemwise
    from gnomon.tensor.indexing import (
        AdvancedIncSubtensor,
        AdvancedSubtensor,
        IncSubtensor,
        Subtensor,
    )
    from gnomon.tensor.reduce import Sum, _AxesReduce, _Cumulative, _Normalize
    from gnomon.tensor.shapes import DimShuffle, Join, Reshape, Shape, ShapeI

    op = node.op
    vs = [v for v, _ in ins]
    if isinstance(op, Elemwise):
        # the node's inputs all have the node's rank; an unbatched one is padded on the left
        # by make_node, so the batch axis lines up
        return [(o, True) for o in op.make_node(*vs).outputs]
    if isinstance(op, DimShuffle):
        order = (0, *(d if d == "x" else int(d) + 1 for d in op.new_order))
        return [(DimShuffle(op.input_ndim + 1, order)(vs[0]), True)]
    if isinstance(op, Sum | _AxesReduce | _Normalize):
        new = dataclasses.replace(op, axes=tuple(a + 1 for a in op.axes))  # type: ignore[arg-type]
        return [(new(vs[0]), True)]
    if isinstance(op, _Cumulative):
        return [(dataclasses.replace(op, axis=op.axis + 1)(vs[0]), True)]
    if isinstance(op, Join):
        return [(Join(op.axis + 1)(*(_lift(x, bsz) for x in ins)), True)]
    if isinstance(op, ShapeI):
        return [(ShapeI(op.i + 1)(vs[0]), False)]
    if isinstance(op, Shape):
        return [(Shape()(vs[0])[1:], False)]
    if isinstance(op, Reshape):
        return [(Reshape()(vs[0], bsz, *_unbatched(ins[1:])), True)]
    from gnomon.tensor.basic import Alloc
    from gnomon.tensor.shapes import BroadcastTo

    if isinstance(op, Alloc | BroadcastTo):
        shape = _unbatched(ins[1:])
        return [(type(op)()(_pad_after_batch(vs[0], len(shape)), bsz, *shape), True)]
    if isinstance(op, MatMul):
        rank = node.outputs[0].ndim
        a, b = (_pad_after_batch(v, rank) if bt else v for v, bt in ins)
        return [(MatMul()(a, b), True)]
    if isinstance(op, Subtensor | AdvancedSubtensor):
        if not ins[0][1]:
            raise _NoRule  # an index that depends on the draws
        dyn = _unbatched(ins[1:])
        return [(type(op)(_with_batch_slice(op.idx_list, type(op) is not Subtensor))(
            vs[0], *dyn), True)]
    if isinstance(op, IncSubtensor | AdvancedIncSubtensor):
        dyn = _unbatched(ins[2:])
        advanced = isinstance(op, AdvancedIncSubtensor)
        read = (AdvancedSubtensor if advanced else Subtensor)(op.idx_list)
        part_rank = read(node.inputs[0], *dyn).ndim
        y = _pad_after_batch(vs[1], part_rank) if ins[1][1] else vs[1]
        new = type(op)(_with_batch_slice(op.idx_list, advanced), op.set_instead_of_inc)
        return [(new(_lift(ins[0], bsz), y, *dyn), True)]
    raise _NoRule


def _with_batch_slice(idx_list: tuple[Any, ...], advanced: bool) -> tuple[Any, ...]:
    """``idx_list`` with a full slice in front (for the batch axis). For advanced indexing
    NumPy moves the indexed dimensions to the front unless the advanced entries are adjacent;
    only that case keeps the batch axis first, so others have no rule."""
    from gnomon.tensor.indexing import ELLIPSIS, NEWAXIS, SliceIndex

    if advanced:
        if any(e is NEWAXIS or e is ELLIPSIS for e in idx_list):
            raise _NoRule
        pos = [i for i, e in enumerate(idx_list) if not isinstance(e, SliceIndex)]
        if pos and pos[-1] - pos[0] + 1 != len(pos):
            raise _NoRule
    return (SliceIndex(), *idx_list)
