"""Rewrites of random variables.

``random_inplace`` (in the last stage of the pipeline) lets a random variable advance
its input generator instead of a copy when nothing else can observe the old state: the generator
is read by this node only, is not an output of the function, and is either computed in the graph
(a ``next_rng``) or a shared variable (whose value a compiled function reads as a private copy,
see :class:`~gnomon.random.type.RandomGeneratorSharedVariable`). A generator passed as an
explicit input is the caller's object, so it is never advanced in place. A ``Scan`` that
threads generators through its steps is marked the same way when its initial generators are dead
after it; its body's draws then advance the loop's generators without copies
(:func:`owned_body`).

Examples
--------
>>> import numpy as np, gnomon, gnomon.random as gr
>>> rng = gnomon.shared(np.random.default_rng(0))
>>> f = gnomon.function([], gr.normal(rng=rng), mode="numba")
>>> [str(n.op) for n in f.program.nodes]
['normal_rv{inplace}']
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, cast

from gnomon.compile.shared import SharedVariable
from gnomon.control.inner import InnerGraph
from gnomon.control.scan import Scan
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.traversal import toposort
from gnomon.random.op import RandomVariable
from gnomon.rewrite.engine import register_graph_rule


# In the last stage (``inplace``), so that no later rule can add a reader of a generator it
# marks. Not run for the reference backend, which then copies every generator it advances.
@register_graph_rule(groups=("inplace", "random"), name="random_inplace")
def random_inplace(outputs: list[Variable]) -> tuple[list[Variable], list[Any]]:
    """Mark random variables (and scans threading generators) whose generator inputs are dead
    after them as ``inplace``."""
    return mark_inplace(outputs, ())


def mark_inplace(outputs: list[Variable], owned: Any) -> tuple[list[Variable], list[Any]]:
    """:func:`random_inplace`, where the root variables ``owned`` (inner inputs of a loop body
    whose generators the loop owns) may be advanced like computed generators."""
    nodes = toposort(outputs)
    uses = Counter(id(v) for n in nodes for v in n.inputs)
    outs = {id(o) for o in outputs}
    own = {id(v) for v in owned}

    def dead_after(r: Variable) -> bool:
        return ((r.owner is not None or isinstance(r, SharedVariable) or id(r) in own)
                and uses[id(r)] == 1 and id(r) not in outs)

    def eligible(n: Apply) -> bool:
        if isinstance(n.op, RandomVariable):
            return not n.op.inplace and dead_after(n.inputs[0])
        if isinstance(n.op, Scan) and n.op.opaque_states and not n.op.inplace:
            bufs = n.op.split(n.inputs)[2]
            return all(dead_after(bufs[j]) for j in n.op.opaque_states)
        return False

    if not any(eligible(n) for n in nodes):
        return outputs, []
    memo: dict[Variable, Variable] = {}
    steps = []
    for n in nodes:
        ins = [memo.get(v, v) for v in n.inputs]
        op = dataclasses.replace(cast(Any, n.op), inplace=True) if eligible(n) else n.op
        if op is n.op and all(a is b for a, b in zip(ins, n.inputs, strict=True)):
            continue
        new = op.make_node(*ins)
        memo.update(zip(n.outputs, new.outputs, strict=True))
        if op is not n.op:
            steps.append((n, tuple(new.outputs)))
    return [memo.get(o, o) for o in outputs], steps


def owned_body(op: Scan) -> InnerGraph:
    """The body of a scan marked ``inplace``, with the draws that read its generator states
    marked ``inplace`` too: the loop owns those generators, so each step advances them
    without a copy (the Numba loop needs this: it cannot copy a generator cheaply)."""
    g = op.graph
    owned = [g.inputs[op.n_seqs + sum(len(t) for t in op.taps[:j])] for j in op.opaque_states]

    def build() -> InnerGraph:
        outs, _ = mark_inplace(list(g.outputs), owned)
        return InnerGraph(g.inputs, outs)

    return g.cached(("owned_body",), build)


# --- lifting indexing and dimshuffles through random variables ------------------------------
#
# ``normal(mu, s, size=(10_000,))[idx]`` draws 10 000 numbers to keep a few: the same
# distribution is ``normal(mu_b[idx], s_b[idx])`` with the parameters broadcast to the batch
# shape (``size`` is folded into them), which draws only what is used. Likewise a dimshuffle of
# the batch dimensions (transpose, new or dropped length-1 axes) moves to the parameters and
# ``size``. (PyTensor's local_subtensor_rv_lift / local_dimshuffle_rv_lift.)
#
# Soundness: the entries of a draw's batch are independent given the parameters, so a subset or
# a reordering of them has the distribution of a draw with the matching parameters. A lift
# changes which numbers the generator produces, so it only applies when nothing can observe
# the difference:
# * the draw has no other reader and is not an output (else the kept entries must stay those
#   of the full draw);
# * the input generator has no other reader: two draws from one state share their underlying
#   numbers (functional semantics), and drawing fewer would break that coupling;
# * the distribution's batch entries are independent: not ``choice`` (without replacement its
#   entries are distinct) nor ``permutation``; and the index touches batch dimensions only.
# The generator after the lifted draw differs from the one after the full draw; later draws
# from it are still independent of this one, so their joint distribution is unchanged.


def _lift_candidate(rv: Apply | None, x: Variable, uses: dict[Variable, list[Any]],
                    outs: set[int]) -> bool:
    from gnomon.random.distributions import Choice, Permutation

    return (rv is not None and isinstance(rv.op, RandomVariable) and x is rv.outputs[1]
            and not rv.op.inplace and not isinstance(rv.op, Choice | Permutation)
            and len(uses.get(x, ())) == 1 and id(x) not in outs
            and len(uses.get(rv.inputs[0], ())) == 1)


def _consumed_dims(idx_list: Any, dyn: list[Variable]) -> int | None:
    """How many leading dimensions an index reads (``None``: a form not handled)."""
    from gnomon.tensor.indexing import INPUT, NEWAXIS, SliceIndex

    k = pos = 0
    for e in idx_list:
        if e is INPUT:
            v = dyn[pos]
            pos += 1
            k += v.ndim if v.dtype == "bool" else 1
        elif isinstance(e, SliceIndex):
            pos += sum(p is INPUT for p in e.parts())
            k += 1
        elif e is NEWAXIS:
            continue
        elif isinstance(e, int):
            k += 1
        else:  # the ``...`` marker that moves advanced dimensions
            return None
    return k


def _shape(v: Variable) -> tuple[Variable, ...]:
    from gnomon.tensor.shapes import shape_i

    return tuple(shape_i(v, d) for d in range(v.ndim))


def _draw_dims(rv: Apply) -> list[Variable]:
    """The draw's shape as scalars, computed from the parameters' shapes (not the draw)."""
    shapes = rv.op.infer_shape(rv, [(), (), *(_shape(p) for p in rv.inputs[2:])])
    assert shapes is not None  # RandomVariable.infer_shape always gives them
    return list(shapes[1])


def _rebuild(outputs: list[Variable], mapping: dict[Variable, Variable]) -> list[Variable]:
    from gnomon.graph.replace import graph_replace

    return graph_replace(outputs, mapping, strict=False)


@register_graph_rule(groups=("canonicalize", "random", "random_lift"),
                     name="random_subtensor_lift")
def random_subtensor_lift(outputs: list[Variable]) -> tuple[list[Variable], list[Any]]:
    """``rv(params, size)[idx] -> rv(broadcast(params)[idx])`` when only the indexed entries
    are observable (see the conditions above)."""
    from gnomon.graph.traversal import clients
    from gnomon.random.type import NoneConst
    from gnomon.tensor.indexing import AdvancedSubtensor, Subtensor
    from gnomon.tensor.shapes import broadcast_to, shape_i

    uses = clients(outputs)
    outs = {id(o) for o in outputs}
    mapping: dict[Variable, Variable] = {}
    steps = []
    for node in toposort(outputs):
        if not isinstance(node.op, Subtensor | AdvancedSubtensor):
            continue
        x = node.inputs[0]
        rv = x.owner
        if not _lift_candidate(rv, x, uses, outs) or not rv.inputs[2:]:  # type: ignore[union-attr]
            continue
        op: RandomVariable = rv.op  # type: ignore[union-attr,assignment]
        nb = x.ndim - op.ndim_supp
        used = _consumed_dims(node.op.idx_list, list(node.inputs[1:]))
        if used is None or used > nb:
            continue
        dims = _draw_dims(rv)  # type: ignore[arg-type]
        static = x.type.shape[:nb]  # type: ignore[attr-defined]
        params = []
        # Each parameter is broadcast to the batch shape (a strided view) and indexed like the
        # draw, so an index out of bounds still fails as it did on the draw.
        for p, core in zip(rv.inputs[2:], op.ndims_params, strict=True):  # type: ignore[union-attr]
            core_dims = [shape_i(p, p.ndim - core + d) for d in range(core)]
            full_already = p.ndim - core == nb and all(
                a is not None and a == b for a, b in zip(p.type.shape[:nb], static, strict=True))
            if not full_already:
                p = broadcast_to(p, [*dims[:nb], *core_dims])
            params.append(node.op.make_node(p, *node.inputs[1:]).outputs[0])
        new = op.make_node(rv.inputs[0], NoneConst, *params)  # type: ignore[union-attr]
        mapping[node.outputs[0]] = new.outputs[1]
        mapping[rv.outputs[0]] = new.outputs[0]  # type: ignore[union-attr]
        steps.append((node, (new.outputs[1],)))
    if not mapping:
        return outputs, []
    return _rebuild(outputs, mapping), steps


@register_graph_rule(groups=("canonicalize", "random", "random_lift"),
                     name="random_dimshuffle_lift")
def random_dimshuffle_lift(outputs: list[Variable]) -> tuple[list[Variable], list[Any]]:
    """``dimshuffle(rv(params, size)) -> rv(dimshuffle(params), permuted size)`` for a pattern
    that moves batch dimensions only (the support dimensions stay last, in order)."""
    from gnomon.graph.traversal import clients
    from gnomon.random.type import NoneConst
    from gnomon.tensor.shapes import DimShuffle, dimshuffle, shape_scalars_of_vector

    uses = clients(outputs)
    outs = {id(o) for o in outputs}
    mapping: dict[Variable, Variable] = {}
    steps = []
    for node in toposort(outputs):
        if not isinstance(node.op, DimShuffle):
            continue
        x = node.inputs[0]
        rv = x.owner
        if not _lift_candidate(rv, x, uses, outs):
            continue
        op: RandomVariable = rv.op  # type: ignore[union-attr,assignment]
        s = op.ndim_supp
        nb = x.ndim - s
        order = tuple(node.op.new_order)
        head = order[:len(order) - s]
        if tuple(order[len(order) - s:]) != tuple(range(nb, nb + s)) or any(
                d != "x" and d >= nb for d in head):  # type: ignore[operator]
            continue
        size = rv.inputs[1]  # type: ignore[union-attr]
        params = list(rv.inputs[2:])  # type: ignore[union-attr]
        if size is NoneConst and not params:
            continue  # nowhere to put a new axis
        new_size: Any = NoneConst
        if size is not NoneConst:
            dims = shape_scalars_of_vector(size)
            new_size = tuple(1 if d == "x" else dims[d] for d in head)  # type: ignore[index]
        new_params = []
        for p, core in zip(params, op.ndims_params, strict=True):
            pad = nb - (p.ndim - core)  # the parameter's missing leading batch dimensions
            pattern = ["x" if d == "x" or d < pad else d - pad for d in head]
            pattern += [p.ndim - core + c for c in range(core)]
            new_params.append(dimshuffle(p, pattern))
        new = op.make_node(rv.inputs[0], new_size, *new_params)  # type: ignore[union-attr]
        mapping[node.outputs[0]] = new.outputs[1]
        mapping[rv.outputs[0]] = new.outputs[0]  # type: ignore[union-attr]
        steps.append((node, (new.outputs[1],)))
    if not mapping:
        return outputs, []
    return _rebuild(outputs, mapping), steps
