"""``vectorize_graph``: rebuild a graph for inputs with extra leading (batch) dimensions.

Given ``replace = {x: x_batched}`` where ``x_batched`` has the type of ``x`` with ``k`` more
leading dimensions, every node that depends on a replaced input is rebuilt so that it computes
its result for every batch entry at once (PyTensor's ``vectorize_graph``):

* ops with a batched form are rebuilt directly: ``Elemwise`` (the core operands are aligned
  after the batch dimensions), ``DimShuffle``, the reductions, cumulative and normalizing ops
  along axes (their axes shift by ``k``), ``Shape``/``Shape_i`` (they read the core dimensions,
  and their results are not batched), ``Reshape`` (the batch dimensions are kept in front), and
  ``matmul`` of operands that are matrices or stacks of them (it broadcasts over leading
  dimensions already);
* every other op on arrays is mapped over the batch with :func:`gnomon.scan` (one dimension at
  a time), which is correct for any op but runs step by step: the batched form of those ops is
  left to future work, and :func:`batched_rules` lists the ops with a direct rule.

Replacements with fewer batch dimensions than others are broadcast (length-1 batch dimensions in
front), as NumPy would. Ops whose inputs are not arrays (random generators) are refused with a
clear error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint, with_user_line
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.graph.traversal import toposort
from gnomon.tensor import blas, reduce, shapes
from gnomon.tensor import math as tm
from gnomon.tensor.basic import as_tensor
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.type import TensorType

__all__ = ["batched_rules", "vectorize_graph"]

#: an input of a rebuilt node: the variable and whether it carries the batch dimensions
Arg = tuple[Variable, bool]
Rule = Callable[[Apply, list[Arg], int], "list[Arg] | None"]

_RULES: list[tuple[type, Rule]] = []


def _rule(*types: type) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for t in types:
            _RULES.append((t, fn))
        return fn

    return deco


def batched_rules() -> list[str]:
    """Names of the op classes that :func:`vectorize_graph` batches directly (the others are
    mapped over the batch with scan)."""
    return sorted({t.__name__ for t, _ in _RULES})


def vectorize_graph(outputs: Variable | Sequence[Variable],
                    replace: Mapping[Variable, Any]) -> Any:
    """``outputs`` computed for replacements of their inputs that have leading batch dimensions.

    Parameters
    ----------
    outputs : Variable or sequence of Variable
    replace : mapping
        ``{input: batched input}``; each batched input has its input's dtype and core shape,
        with any number of dimensions added in front.

    Returns
    -------
    Variable or list of Variable
        The same form as ``outputs``. An output that does not depend on a replaced input is
        returned as it is (without batch dimensions).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> out = gt.exp(x) / gt.sum(gt.exp(x))            # softmax of one vector
    >>> xs = gt.dmatrix("xs")                            # a batch of vectors
    >>> outs = vectorize_graph(out, {x: xs})
    >>> v = np.array([[0.0, 1.0], [2.0, 2.0]])
    >>> np.allclose(outs.eval({xs: v}), np.exp(v) / np.exp(v).sum(1, keepdims=True))
    True
    """
    single = isinstance(outputs, Variable)
    outs: list[Variable] = [outputs] if isinstance(outputs, Variable) else list(outputs)
    pairs = []
    for old, new in replace.items():
        new = as_tensor(new)
        if not isinstance(old.type, TensorType) or not isinstance(new.type, TensorType):
            raise GnomonTypeError(with_user_line(
                f"vectorize_graph replaces arrays; {old} has type {old.type}"))
        extra = new.ndim - old.ndim
        core = new.type.shape[extra:] if extra >= 0 else ()
        if extra < 0 or new.dtype != old.dtype or not all(
                a is None or b is None or a == b for a, b in zip(old.type.shape, core,
                                                                 strict=True)):
            raise GnomonValueError(with_user_line(with_hint(
                f"vectorize_graph: {new} ({new.type}) cannot replace {old} ({old.type}): a "
                f"replacement has the dtype and core shape of the input, with batch "
                f"dimensions added in front", f"cast it (.astype('{old.dtype}')) or check its "
                "shape")))
        pairs.append((old, new, extra))
    b = max((e for _, _, e in pairs), default=0)
    memo: dict[Variable, Arg] = {}
    for old, new, extra in pairs:
        memo[old] = (shapes.dimshuffle(new, ["x"] * (b - extra) + list(range(new.ndim)))
                     if extra < b else new, b > 0)
    if b == 0:
        from gnomon.graph.replace import graph_replace

        res = graph_replace(outs, {o: n for o, (n, _) in memo.items()}, strict=False)
        return res[0] if single else res
    for node in toposort(outs):
        args = [memo.get(v, (v, False)) for v in node.inputs]
        if not any(batched for _, batched in args):
            if any(a is not v for (a, _), v in zip(args, node.inputs, strict=True)):
                new_outs = node.op.make_node(*[a for a, _ in args]).outputs
                for o, n in zip(node.outputs, new_outs, strict=True):
                    memo[o] = (n, False)
            continue
        for o, r in zip(node.outputs, _batch_node(node, args, b), strict=True):
            memo[o] = r
    res = [memo.get(o, (o, False))[0] for o in outs]
    return res[0] if single else res


def _batch_node(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    for v, _ in args:
        if not isinstance(v.type, TensorType):
            raise GnomonTypeError(with_user_line(with_hint(
                f"vectorize_graph cannot batch {node.op}: its input {v} has type {v.type}, "
                "not an array type", "build the batched graph by hand for this op")))
    for t, rule in _RULES:
        if isinstance(node.op, t):
            out = rule(node, args, b)
            if out is not None:
                return out
    return _map_over_batch(node.op, args, b)


def _core_node(op: Op, inputs: Sequence[Variable]) -> list[Variable]:
    return list(op.make_node(*inputs).outputs)


def _map_over_batch(op: Op, args: list[Arg], b: int) -> list[Arg]:
    """``op`` applied to each entry of the batch: a scan over the first batch dimension, whose
    body handles the remaining ``b - 1`` (with the rules, or another scan)."""
    from gnomon.control.scan import scan

    if b == 0:
        return [(o, False) for o in _core_node(op, [v for v, _ in args])]
    batched = [i for i, (_, bt) in enumerate(args) if bt]
    # every batched operand gets the full batch shape (they may carry length-1 dimensions)
    lengths = [tm.maximum(*[shapes.shape_i(args[i][0], d) for i in batched])
               if len(batched) > 1 else shapes.shape_i(args[batched[0]][0], d)
               for d in range(b)]
    seqs = []
    for i in batched:
        v = args[i][0]
        core = [shapes.shape_i(v, d) for d in range(b, v.ndim)]
        seqs.append(shapes.broadcast_to(v, shapes.stack([*lengths, *core])))
    others = [v for v, bt in args if not bt]

    def step(*vals: Variable) -> list[Variable]:
        it_s, it_o = iter(vals[:len(seqs)]), iter(vals[len(seqs):])
        inner = [(next(it_s), True) if bt else (next(it_o), False) for _, bt in args]
        res = _batch_any(op, inner, b - 1)
        return [r if bt else _tile_front(r, lengths[1:b]) for r, bt in res]

    out, _ = scan(step, sequences=seqs, non_sequences=others, return_list=True)
    return [(o, True) for o in out]


def _batch_any(op: Op, args: list[Arg], b: int) -> list[Arg]:
    if b == 0 or not any(bt for _, bt in args):
        return [(o, False) for o in _core_node(op, [v for v, _ in args])]
    node = op.make_node(*[_core_arg(v, bt, b) for v, bt in args])
    return _batch_node(node, args, b)


def _core_arg(v: Variable, batched: bool, b: int) -> Variable:
    """A variable of ``v``'s core type (to build the unbatched node a rule looks at)."""
    if not batched:
        return v
    t = v.type
    return TensorType(t.dtype, t.shape[b:])()  # type: ignore[attr-defined]


def _tile_front(v: Variable, lengths: Sequence[Variable]) -> Variable:
    """``v`` with the batch dimensions ``lengths`` in front (an unbatched result inside a
    scan body that must have the batch's shape)."""
    if not lengths:
        return v
    dims = [*lengths, *[shapes.shape_i(v, d) for d in range(v.ndim)]]
    return shapes.broadcast_to(v, shapes.stack(dims))


# --- the rules --------------------------------------------------------------------------------


@_rule(Elemwise)
def _elemwise(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    r = node.outputs[0].ndim
    ins = []
    for (v, bt), old in zip(args, node.inputs, strict=True):
        if bt and old.ndim < r:
            # align the core dimensions to the right of the batch ones, as NumPy would
            pattern: list[int | str] = [*range(b), *["x"] * (r - old.ndim),
                                        *range(b, b + old.ndim)]
            v = shapes.dimshuffle(v, pattern)
        ins.append(v)
    return [(o, True) for o in _core_node(node.op, ins)]


@_rule(shapes.DimShuffle)
def _dimshuffle(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    op: shapes.DimShuffle = node.op  # type: ignore[assignment]
    pattern = [*range(b), *[d if d == "x" else int(d) + b for d in op.new_order]]
    return [(shapes.dimshuffle(args[0][0], pattern), True)]


@_rule(reduce.Sum, reduce._AxesReduce, reduce._Normalize, reduce._Cumulative,
       reduce._ArgReduce)
def _along_axes(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    op = node.op
    if len(args) != 1 or not dataclasses.is_dataclass(op):
        return None
    if hasattr(op, "axes"):
        new = dataclasses.replace(op, axes=tuple(a + b for a in op.axes))
    elif getattr(op, "axis", None) is not None:
        new = dataclasses.replace(op, axis=op.axis + b)
    else:
        return None  # an axis=None reduction runs over the flattened array: map it
    return [(o, True) for o in _core_node(new, [args[0][0]])]


@_rule(shapes.Shape)
def _shape(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    v = args[0][0]
    return [(shapes.stack([shapes.shape_i(v, d) for d in range(b, v.ndim)])
             if v.ndim > b else shapes.shape(node.inputs[0]), False)]


@_rule(shapes.ShapeI)
def _shape_i(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    op: shapes.ShapeI = node.op  # type: ignore[assignment]
    return [(shapes.shape_i(args[0][0], op.i + b), False)]


@_rule(shapes.Reshape)
def _reshape(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    (x, xb), dims = args[0], args[1:]
    if not xb or any(bt for _, bt in dims):
        return None
    front = [shapes.shape_i(x, d) for d in range(b)]
    return [(o, True) for o in _core_node(node.op, [x, *front, *[d for d, _ in dims]])]


@_rule(blas.MatMul)
def _matmul(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    if any(old.ndim < 2 for old in node.inputs):
        return None
    ins = []
    for (v, bt), old in zip(args, node.inputs, strict=True):
        if bt and node.outputs[0].ndim > old.ndim:
            # a lower-rank batched operand: its core batch dimensions align on the right
            pattern: list[int | str] = [*range(b), *["x"] * (node.outputs[0].ndim - old.ndim),
                                        *range(b, b + old.ndim)]
            v = shapes.dimshuffle(v, pattern)
        ins.append(v)
    return [(blas.matmul(*ins), True)]
