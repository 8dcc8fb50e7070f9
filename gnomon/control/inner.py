"""Closed inner graphs, the building block of OpFromGraph, IfElse and Scan.

An :class:`InnerGraph` is a list of inner root variables and the outputs computed from them. It
shares no root with any outer graph (constants aside, which are interned by value), so an op that
holds one can be rebuilt, compared and lowered on its own.

Identity is structural: two inner graphs are equal when they apply equal ops in the same
pattern to inputs of the same types and to equal constants, whatever the identity of their
variables. The key is computed once, from a topological order of the nodes, and cached, so an
op holding an inner graph hashes in constant time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gnomon.errors import GnomonTypeError, with_hint
from gnomon.gradient import grad
from gnomon.graph.basic import Constant, Variable, ordered
from gnomon.graph.replace import graph_replace
from gnomon.graph.traversal import graph_inputs, toposort
from gnomon.tensor.math import add


class InnerGraph:
    """A closed graph: ``inputs`` (fresh roots) and ``outputs`` that depend only on them.

    Build one with :meth:`from_outputs`, which clones the graph so it shares no root with the
    caller's graph. Equality and hashing follow the structure (see the module docstring).

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> a = InnerGraph.from_outputs([x], [x * 2])
    >>> b = InnerGraph.from_outputs([x], [x * 2])
    >>> a == b, a.inputs[0] is b.inputs[0], a.inputs[0] is x
    (True, False, False)
    """

    __slots__ = ("inputs", "outputs", "key", "_hash", "_cache")

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> None:
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.key = structural_key(self.inputs, self.outputs)
        self._hash = hash(self.key)
        # compiled functions and derived graphs (gradients), by purpose
        self._cache: dict[Any, Any] = {}

    @classmethod
    def from_outputs(
        cls, inputs: Sequence[Variable], outputs: Sequence[Variable]
    ) -> InnerGraph:
        """Clone ``inputs -> outputs`` into a closed inner graph.

        Every non-constant root of ``outputs`` must be one of ``inputs``.
        """
        inputs = list(inputs)
        free = [v for v in graph_inputs(outputs, include_constants=False)
                if not any(v is i for i in inputs)]
        if free:
            raise GnomonTypeError(with_hint(
                f"the inner graph depends on {free[0]} ({free[0].type}), which is not one of its "
                "inputs",
                "list every variable the outputs depend on among the inputs",
            ))
        fresh = [v.type(v.name) for v in inputs]
        outs = graph_replace(list(outputs), dict(zip(inputs, fresh, strict=True)),
                             strict=False)
        return cls(fresh, outs)

    @classmethod
    def cut(cls, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> InnerGraph:
        """Clone the part of ``outputs`` above the *cut* ``inputs`` (any variables, not only
        roots) into a closed inner graph; every path from ``outputs`` to a non-constant root
        must pass through one of ``inputs``."""
        fresh = [v.type(v.name) for v in inputs]
        outs = graph_replace(list(outputs), dict(zip(inputs, fresh, strict=True)),
                             strict=False)
        return cls(fresh, outs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InnerGraph) and (
            self is other or (self._hash == other._hash and self.key == other.key)
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"InnerGraph({len(self.inputs)} inputs -> {len(self.outputs)} outputs)"

    def __reduce__(self) -> tuple[Any, ...]:
        # Built again from its variables when loaded: the key's hash differs between processes
        # (strings hash with a per-process salt) and the cache holds compiled functions.
        return (_unpickle_inner_graph, ordered(self.outputs, (self.inputs, self.outputs)))

    def cached(self, what: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per ``what`` for this graph (compiled functions, gradients)."""
        try:
            return self._cache[what]
        except KeyError:
            val = self._cache[what] = build()
            return val

    def pullback(
        self, float_in: Sequence[int], float_out: Sequence[int]
    ) -> tuple[list[Variable], list[Variable]]:
        """The inner graph's gradients, built once per ``(float_in, float_out)``.

        Returns cotangent placeholders ``cots`` (fresh roots of the types of the outputs
        ``float_out``) and the gradients of the inputs ``float_in`` given them. Differentiated
        inside the closed graph, whose inputs are independent roots, so an input that is an
        ancestor of another is not counted twice; callers substitute their outer variables for
        ``inputs`` and ``cots`` (IfElse's branches, Scan's body).
        """

        def build() -> tuple[list[Variable], list[Variable]]:
            cots = [self.outputs[k].type(f"d_out{k}") for k in float_out]
            known: dict[Variable, Variable] = {}
            for k, c in zip(float_out, cots, strict=True):
                o = self.outputs[k]
                known[o] = add(known[o], c) if o in known else c
            gs = grad(None, [self.inputs[k] for k in float_in], known_grads=known,
                      disconnected_inputs="ignore", return_disconnected="zero")
            return cots, gs

        return self.cached(("pullback", tuple(float_in), tuple(float_out)), build)

    def function(self, mode: Any = "numpy") -> Any:
        """The inner graph compiled with ``gnomon.function`` (once per mode)."""

        def build() -> Any:
            from gnomon.compile.function import function

            return function(list(self.inputs), list(self.outputs), mode=mode,
                            on_unused_input="ignore")

        return self.cached(("function", mode), build)

    def apply(self, outer: Sequence[Variable]) -> list[Variable]:
        """The outputs rebuilt on ``outer`` variables in place of the inputs (inlining)."""
        mapping = {i: o for i, o in zip(self.inputs, outer, strict=True)}
        return graph_replace(list(self.outputs), mapping, strict=False)


def _unpickle_inner_graph(
    order: None, parts: tuple[Sequence[Variable], Sequence[Variable]], end: None
) -> InnerGraph:
    return InnerGraph(*parts)


def structural_key(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> tuple[Any, ...]:
    """A hashable encoding of a closed graph that ignores variable identities.

    Inputs are referred to by position, constants by their interning key, node outputs by
    ``(node number, output index)``.
    """
    ref: dict[int, Any] = {id(v): ("in", k) for k, v in enumerate(inputs)}

    def r(v: Variable) -> Any:
        got = ref.get(id(v))
        if got is not None:
            return got
        if isinstance(v, Constant):
            return ("const", v._key)
        raise GnomonTypeError(with_hint(
            f"the inner graph uses {v} ({v.type}), which is not one of its inputs",
            "build inner graphs with InnerGraph.from_outputs",
        ))

    nodes = []
    for n, node in enumerate(toposort(outputs)):
        nodes.append((node.op, tuple(r(i) for i in node.inputs)))
        for j, o in enumerate(node.outputs):
            ref[id(o)] = ("node", n, j)
    return (tuple(v.type for v in inputs), tuple(nodes), tuple(r(o) for o in outputs))


def inner_shapes(
    graph: InnerGraph, input_shapes: Sequence[Sequence[Variable]]
) -> list[tuple[Variable, ...]] | None:
    """The outer symbolic shapes of ``graph``'s outputs, given the outer shapes of its inputs.

    The shapes are computed inside the inner graph, simplified by the canonicalize stage, and
    moved out by replacing ``shape(inner input)`` with the given shapes. ``None`` when some
    output shape depends on input *values* (it could then only be known by running the graph).
    """
    from gnomon.rewrite.engine import rewrite_graph
    from gnomon.tensor.basic import constant
    from gnomon.tensor.shapes import Shape, ShapeI, make_vector, shape_i

    def build() -> list[Variable] | None:
        flat: list[Variable] = []
        for o in graph.outputs:
            # (non-tensor outputs, e.g. random generators, have no shape)
            for d, s in enumerate(getattr(o.type, "shape", ())):
                if s is None:
                    flat.append(shape_i(o, d))
        if not flat:
            return []
        try:
            simplified, _ = rewrite_graph(flat, include=(), exclude=("stabilize", "specialize",
                                                                     "fusion", "inplace"))
        except Exception:  # pragma: no cover - shapes are best effort
            return None
        return list(simplified)

    flat = graph.cached("shape_graph", build)
    if flat is None:
        return None
    pos = {id(v): k for k, v in enumerate(graph.inputs)}
    memo: dict[int, Variable] = {}
    for node in toposort(flat):
        ins = [memo.get(id(i), i) for i in node.inputs]
        src = node.inputs[0] if node.inputs else None
        if src is not None and id(src) in pos and isinstance(node.op, ShapeI):
            memo[id(node.outputs[0])] = input_shapes[pos[id(src)]][node.op.i]
            continue
        if src is not None and id(src) in pos and isinstance(node.op, Shape):
            memo[id(node.outputs[0])] = make_vector(*input_shapes[pos[id(src)]])
            continue
        if any(id(i) in pos for i in node.inputs):
            return None  # the shape needs an input's value
        if all(a is b for a, b in zip(ins, node.inputs, strict=True)):
            continue
        new = node.op.make_node(*ins)
        for o, n in zip(node.outputs, new.outputs, strict=True):
            memo[id(o)] = n
    out_flat = [memo.get(id(v), v) for v in flat]
    if any(id(v) in pos for v in out_flat):
        return None
    result: list[tuple[Variable, ...]] = []
    k = 0
    for o in graph.outputs:
        dims: list[Variable] = []
        for s in getattr(o.type, "shape", ()):
            if s is None:
                dims.append(out_flat[k])
                k += 1
            else:
                dims.append(constant(s, "int64"))
        result.append(tuple(dims))
    return result


def rebuild_on(graph: InnerGraph, mapping: Mapping[int, Variable]) -> list[Variable]:
    """Outputs of ``graph`` with inner input ``k`` replaced by ``mapping[k]`` (others kept)."""
    return graph_replace(list(graph.outputs),
                         {graph.inputs[k]: v for k, v in mapping.items()}, strict=False)
