"""Rebuild a graph for inputs with extra leading (batch) dimensions.

Given ``replace = {x: x_batched}`` where ``x_batched`` has the type of ``x`` with ``k`` more
leading dimensions, every node that depends on a replaced input is rebuilt so that it computes
its result for every batch entry at once. :func:`vectorize_graph` is PyTensor's
``vectorize_graph``; :func:`batch_graph` is the same rebuild with a choice of what happens at an
op without a batching rule, and says per output whether it carries the batch dimensions.

Ops with a batched form (:func:`batched_rules`) are rebuilt directly:

* ``Elemwise`` (the core operands are aligned after the batch dimensions, as NumPy would) and
  ``DimShuffle``;
* reductions, ``argmax``/``argmin``, softmax / log-softmax and cumulative sums and products
  along axes (their axes shift by ``k``; an ``axis=None`` argmax runs over the flattened array
  and has no rule);
* ``Join`` (concatenation: the axis shifts, operands are broadcast over the batch);
* ``Shape`` / ``Shape_i`` (they read the core dimensions; their results are not batched);
* ``Reshape``, ``Alloc`` and ``BroadcastTo`` (the batch dimensions are kept in front) when the
  target shape does not depend on the batch;
* ``matmul`` (it broadcasts over leading dimensions already);
* basic and advanced indexing and ``set_subtensor`` / ``inc_subtensor`` when the indices do
  not depend on the batch (a full slice in front for each batch dimension). Advanced indices
  separated by a slice, ``None`` or ``...`` have no rule: NumPy moves their dimensions to the
  front, away from the batch dimensions.

Every other op, and a rule that does not fit a node (an index that depends on the batch), is a
node without a rule. :func:`vectorize_graph` maps it over the batch with :func:`gnomon.scan`
(one dimension at a time): correct for any op but step by step. :func:`batch_graph` with
``no_rule="report"`` instead reports the outputs that need such a node as unbatchable, for a
caller that has a cheaper fallback (``LogpDlogpFunction.unflatten_many`` computes those outputs
draw by draw with a compiled function).

Replacements with fewer batch dimensions than others are broadcast (length-1 batch dimensions in
front), as NumPy would. Ops whose inputs are not arrays (random generators) have no batched form:
:func:`vectorize_graph` refuses them with a clear error.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from gnomon.errors import GnomonTypeError, GnomonValueError, with_hint, with_user_line
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import Op
from gnomon.graph.traversal import toposort
from gnomon.tensor import blas, indexing, reduce, shapes
from gnomon.tensor import math as tm
from gnomon.tensor.basic import Alloc, as_tensor
from gnomon.tensor.elemwise import Elemwise
from gnomon.tensor.type import TensorType

__all__ = ["batch_graph", "batched_rules", "vectorize_graph"]

#: a variable of the rebuilt graph and whether it carries the batch dimensions
Arg = tuple[Variable, bool]
#: a batching rule: the node, its rebuilt inputs and the number of batch dimensions; ``None``
#: when the rule does not fit this node
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
    mapped over the batch with scan).

    Examples
    --------
    >>> "Elemwise" in batched_rules() and "IncSubtensor" in batched_rules()
    True
    """
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
    res = [r[0] for r in batch_graph(outs, replace) if r is not None]
    return res[0] if single else res


def batch_graph(outputs: Sequence[Variable], replace: Mapping[Variable, Any], *,
                no_rule: Literal["scan", "report"] = "scan") -> list[Arg | None]:
    """:func:`vectorize_graph` of ``outputs``, saying which outputs carry the batch dimensions,
    with a choice of what to do at a node without a batching rule.

    Parameters
    ----------
    outputs : sequence of Variable
    replace : mapping
        ``{input: batched input}``, as for :func:`vectorize_graph`.
    no_rule : {"scan", "report"}
        ``"scan"``: map such a node over the batch with :func:`gnomon.scan` (every output can
        be batched). ``"report"``: give ``None`` for each output that depends on such a node
        (or on an op on non-array inputs), so that the caller computes it another way (entry by
        entry); the other outputs are batched as usual.

    Returns
    -------
    list
        Per output: ``(graph, True)`` (it has the batch dimensions in front), ``(graph, False)``
        (it does not depend on the batch: the same for every entry) or ``None`` (only with
        ``no_rule="report"``).

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> xb = gt.dmatrix("xb")
    >>> (y, has_batch), unbatchable = batch_graph(
    ...     [gt.sum(gt.exp(x) * np.array([1.0, 2.0])), gt.linalg.det(gt.outer(x, x))],
    ...     {x: xb}, no_rule="report")
    >>> gnomon.function([xb], y, mode="numpy")(np.zeros((3, 2))).tolist(), has_batch
    ([3.0, 3.0, 3.0], True)
    >>> unbatchable is None
    True
    """
    if no_rule not in ("scan", "report"):
        raise GnomonValueError(with_user_line(
            f"batch_graph: no_rule must be 'scan' or 'report', not {no_rule!r}"))
    scan = no_rule == "scan"
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
    if b == 0:
        from gnomon.graph.replace import graph_replace

        res = graph_replace(list(outputs), {o: n for o, n, _ in pairs}, strict=False)
        return [(r, False) for r in res]
    memo: dict[Variable, Arg | None] = {}
    for old, new, extra in pairs:
        memo[old] = (shapes.dimshuffle(new, ["x"] * (b - extra) + list(range(new.ndim)))
                     if extra < b else new, True)
    for node in toposort(outputs):
        got = [memo.get(v, (v, False)) for v in node.inputs]
        args = [a for a in got if a is not None]
        if len(args) < len(got):  # an input is unbatchable: so are the outputs
            for o in node.outputs:
                memo[o] = None
            continue
        if not any(batched for _, batched in args):
            # the same for every batch entry; rebuilt when an input was (a shape of a batched
            # value)
            if any(a is not v for (a, _), v in zip(args, node.inputs, strict=True)):
                new_outs = node.op.make_node(*[a for a, _ in args]).outputs
                for o, n in zip(node.outputs, new_outs, strict=True):
                    memo[o] = (n, False)
            continue
        out = _batch_node(node, args, b, scan)
        for i, o in enumerate(node.outputs):
            memo[o] = None if out is None else out[i]
    return [memo.get(o, (o, False)) for o in outputs]


def _batch_node(node: Apply, args: list[Arg], b: int, scan: bool) -> list[Arg] | None:
    """The batched outputs of ``node``: its rule's, else (``scan``) a scan over the batch,
    else ``None``."""
    for v, _ in args:
        if not isinstance(v.type, TensorType):
            if not scan:
                return None
            raise GnomonTypeError(with_user_line(with_hint(
                f"vectorize_graph cannot batch {node.op}: its input {v} has type {v.type}, "
                "not an array type", "build the batched graph by hand for this op")))
    for t, rule in _RULES:
        if isinstance(node.op, t):
            try:
                out = rule(node, args, b)
            except Exception:  # a rule that does not fit these inputs counts as no rule
                out = None
            # (a rule's results must have the node's outputs' core rank)
            if out is not None and len(out) == len(node.outputs) and all(
                    v.ndim == o.ndim + (b if bt else 0)
                    for (v, bt), o in zip(out, node.outputs, strict=True)):
                return out
    return _map_over_batch(node.op, args, b) if scan else None


def _core_node(op: Op, inputs: Sequence[Variable]) -> list[Variable]:
    return list(op.make_node(*inputs).outputs)


def _batch_lengths(args: Sequence[Arg], b: int) -> list[Variable]:
    """The batch shape of the batched ``args`` broadcast together (they may carry length-1
    batch dimensions)."""
    batched = [v for v, bt in args if bt]
    if len(batched) == 1:
        return [shapes.shape_i(batched[0], d) for d in range(b)]
    return [functools.reduce(tm.maximum, [shapes.shape_i(v, d) for v in batched])
            for d in range(b)]


def _to_batch(v: Variable, batched: bool, lengths: Sequence[Variable]) -> Variable:
    """``v`` broadcast to the batch shape ``lengths`` (an unbatched ``v`` gets the batch
    dimensions in front)."""
    b = len(lengths)
    core = [shapes.shape_i(v, d) for d in range(b if batched else 0, v.ndim)]
    return shapes.broadcast_to(v, shapes.stack([*lengths, *core]))


def _pad_after_batch(v: Variable, b: int, rank: int) -> Variable:
    """A batched ``v`` with length-1 dimensions inserted after the ``b`` batch dimensions up to
    core rank ``rank`` (what NumPy's broadcasting does to the core value)."""
    r = v.ndim - b
    if r >= rank:
        return v
    return shapes.dimshuffle(v, [*range(b), *["x"] * (rank - r), *range(b, b + r)])


def _map_over_batch(op: Op, args: list[Arg], b: int) -> list[Arg]:
    """``op`` applied to each entry of the batch: a scan over the first batch dimension, whose
    body handles the remaining ``b - 1`` (with the rules, or another scan)."""
    from gnomon.control.scan import scan

    if b == 0:
        return [(o, False) for o in _core_node(op, [v for v, _ in args])]
    lengths = _batch_lengths(args, b)
    # every batched operand gets the full batch shape (they may carry length-1 dimensions)
    seqs = [_to_batch(v, True, lengths) for v, bt in args if bt]
    others = [v for v, bt in args if not bt]

    def step(*vals: Variable) -> list[Variable]:
        it_s, it_o = iter(vals[:len(seqs)]), iter(vals[len(seqs):])
        inner = [(next(it_s), True) if bt else (next(it_o), False) for _, bt in args]
        res = _batch_any(op, inner, b - 1)
        return [r if bt or b == 1 else _to_batch(r, False, lengths[1:b]) for r, bt in res]

    out, _ = scan(step, sequences=seqs, non_sequences=others, return_list=True)
    return [(o, True) for o in out]


def _batch_any(op: Op, args: list[Arg], b: int) -> list[Arg]:
    if b == 0 or not any(bt for _, bt in args):
        return [(o, False) for o in _core_node(op, [v for v, _ in args])]
    node = op.make_node(*[_core_arg(v, bt, b) for v, bt in args])
    return _batch_node(node, args, b, True)  # type: ignore[return-value]


def _core_arg(v: Variable, batched: bool, b: int) -> Variable:
    """A variable of ``v``'s core type (to build the unbatched node a rule looks at)."""
    if not batched:
        return v
    t = v.type
    return TensorType(t.dtype, t.shape[b:])()  # type: ignore[attr-defined]


def _unbatched(args: Sequence[Arg]) -> list[Variable] | None:
    """The variables of ``args`` if none carries the batch (indices, target shapes)."""
    return None if any(bt for _, bt in args) else [v for v, _ in args]


# --- the rules --------------------------------------------------------------------------------


@_rule(Elemwise)
def _elemwise(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    r = node.outputs[0].ndim
    ins = [_pad_after_batch(v, b, r) if bt else v for v, bt in args]
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
        return None  # an axis=None argmax runs over the flattened array
    return [(o, True) for o in _core_node(new, [args[0][0]])]


@_rule(shapes.Join)
def _join(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    op: shapes.Join = node.op  # type: ignore[assignment]
    lengths = _batch_lengths(args, b)
    alone = sum(bt for _, bt in args) == 1  # that operand has the batch shape already
    ins = [v if bt and alone else _to_batch(v, bt, lengths) for v, bt in args]
    return [(shapes.Join(op.axis + b)(*ins), True)]


@_rule(shapes.Shape)
def _shape(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    v = args[0][0]
    return [(shapes.stack([shapes.shape_i(v, d) for d in range(b, v.ndim)])
             if v.ndim > b else shapes.shape(node.inputs[0]), False)]


@_rule(shapes.ShapeI)
def _shape_i(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    op: shapes.ShapeI = node.op  # type: ignore[assignment]
    return [(shapes.shape_i(args[0][0], op.i + b), False)]


@_rule(shapes.Reshape, Alloc, shapes.BroadcastTo)
def _with_shape(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    """``reshape`` / ``alloc`` / ``broadcast_to`` of a batched array to a target shape that
    does not depend on the batch: the batch dimensions stay in front."""
    (x, xb), dims = args[0], _unbatched(args[1:])
    if not xb or dims is None:
        return None
    if not isinstance(node.op, shapes.Reshape):  # the core value broadcasts on the left
        x = _pad_after_batch(x, b, len(dims))
    front = [shapes.shape_i(x, d) for d in range(b)]
    return [(o, True) for o in _core_node(node.op, [x, *front, *dims])]


@_rule(blas.MatMul)
def _matmul(node: Apply, args: list[Arg], b: int) -> list[Arg]:
    # MatMul's operands have rank >= 2 and it broadcasts over leading dimensions: a batched
    # operand of lower core rank than the result gets its core batch dimensions aligned on the
    # right
    r = node.outputs[0].ndim
    ins = [_pad_after_batch(v, b, r) if bt else v for v, bt in args]
    return [(blas.MatMul()(*ins), True)]


def _with_batch_slices(idx_list: tuple[Any, ...], advanced: bool, b: int
                       ) -> tuple[Any, ...] | None:
    """``idx_list`` with a full slice in front for each batch dimension. NumPy moves the
    dimensions of advanced indices to the front unless they are adjacent: only that case keeps
    the batch dimensions first (``None`` for the others)."""
    if advanced:
        if any(e is indexing.NEWAXIS or e is indexing.ELLIPSIS for e in idx_list):
            return None
        pos = [i for i, e in enumerate(idx_list) if not isinstance(e, indexing.SliceIndex)]
        if pos and pos[-1] - pos[0] + 1 != len(pos):
            return None
    return (*[indexing.SliceIndex()] * b, *idx_list)


@_rule(indexing.Subtensor, indexing.AdvancedSubtensor)
def _subtensor(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    op: indexing.Subtensor = node.op  # type: ignore[assignment]
    (x, xb), dyn = args[0], _unbatched(args[1:])
    idx = _with_batch_slices(op.idx_list, type(op) is not indexing.Subtensor, b)
    if not xb or dyn is None or idx is None:  # an index that depends on the batch
        return None
    return [(type(op)(idx)(x, *dyn), True)]


@_rule(indexing.IncSubtensor, indexing.AdvancedIncSubtensor)
def _inc_subtensor(node: Apply, args: list[Arg], b: int) -> list[Arg] | None:
    op: indexing.IncSubtensor = node.op  # type: ignore[assignment]
    (x, xb), (y, yb), dyn = args[0], args[1], _unbatched(args[2:])
    advanced = isinstance(op, indexing.AdvancedIncSubtensor)
    idx = _with_batch_slices(op.idx_list, advanced, b)
    if dyn is None or idx is None:
        return None
    read = (indexing.AdvancedSubtensor if advanced else indexing.Subtensor)(op.idx_list)
    if yb:  # y broadcasts against the core part x[idx]
        y = _pad_after_batch(y, b, read(node.inputs[0], *dyn).ndim)
    if yb or not xb:  # the result has the batch shape of x and y together
        x = _to_batch(x, xb, _batch_lengths([(x, xb), (y, yb)], b))
    return [(type(op)(idx, op.set_instead_of_inc)(x, y, *dyn), True)]
