"""``OpFromGraph``: a piece of graph wrapped into one op.

The op holds a closed :class:`~gnomon.control.inner.InnerGraph`; its identity is the structure
of that graph, so two wrappers of equal graphs are the same op (equal and equally hashed), and
applying them to the same inputs gives the same interned node.

* It prints as one node and rewrite rules can match it as a unit (``P(my_op, "x")``).
* The rule ``inline_opfromgraph`` (stage ``specialize``, on by default) expands it into its inner
  graph, after the ``canonicalize`` and ``stabilize`` stages have seen it as a unit; exclude the
  rule by name to keep the node until the backend (``Mode(...).excluding("inline_opfromgraph")``),
  or pass ``inline=True`` to expand at once when called.
* ``perform`` runs the inner graph compiled with the NumPy reference backend (once per op).
* The default gradient is derived from the inner graph and is itself an ``OpFromGraph``;
  ``pullback=`` overrides it with a function or another ``OpFromGraph``.
* Shared variables used by the inner graph become implicit inputs of the node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnomon.control.inner import InnerGraph, inner_shapes
from gnomon.errors import GnomonTypeError, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op, grad_not_implemented
from gnomon.graph.traversal import graph_inputs
from gnomon.rewrite.egraph import register_expander
from gnomon.rewrite.engine import register_rule

__all__ = ["OpFromGraph"]


@dataclass(frozen=True, init=False)
class OpFromGraph(Op):
    """Wrap ``inputs -> outputs`` into an op that can be called on new inputs.

    Parameters
    ----------
    inputs : list of Variable
        Root variables of the wrapped graph (the op's explicit inputs, in order).
    outputs : Variable or list of Variable
        What the op computes from ``inputs``. Other roots must be constants or shared variables
        (shared variables become implicit inputs, read when the graph runs).
    inline : bool
        Expand the inner graph at once when the op is called (no node is built).
    pullback : callable or OpFromGraph, optional
        Gradient override. A callable gets ``(inputs, output_grads)`` (two lists of variables)
        and returns one gradient (or ``None``) per explicit input; an ``OpFromGraph`` is called
        on ``*inputs, *output_grads`` and returns one output per explicit input. With an
        override, implicit shared inputs have no gradient.
    name : str, optional
        How the op prints.
    grad_overrides, lop_overrides : callable or OpFromGraph, optional
        PyTensor's names for the gradient override: ``grad_overrides`` is ``pullback``;
        ``lop_overrides`` is a callable ``(inputs, outputs, output_grads)`` (or an
        ``OpFromGraph`` called on ``*inputs, *outputs, *output_grads``). Lists of per-input
        overrides are not supported.
    strict : bool
        Refuse shared variables in the wrapped graph (PyTensor's ``strict``).
    rop_overrides, connection_pattern
        Not supported (a value other than ``None`` is an error): the Jacobian-vector product
        is derived from the pullback, and connections from the inner graph.
    **kwargs
        PyTensor passes them to the function that compiles the inner graph; gnomon runs the
        inner graph with its reference backend, so they are accepted and ignored.

    Examples
    --------
    >>> import numpy as np, gnomon, gnomon.tensor as gt
    >>> x, y = gt.dscalar("x"), gt.dscalar("y")
    >>> op = OpFromGraph([x, y], [x * y + 1], name="muladd")
    >>> a, b = gt.dscalar("a"), gt.dscalar("b")
    >>> out = op(a, op(a, b))
    >>> float(out.eval({a: 2.0, b: 3.0}))
    15.0
    >>> op == OpFromGraph([x, y], [x * y + 1])
    True
    >>> float(gnomon.grad(out, b).eval({a: 2.0, b: 3.0}))
    4.0
    """

    graph: InnerGraph
    n_explicit: int
    pullback_override: Any = None
    name: str | None = field(default=None, compare=False)
    shared: tuple[Variable, ...] = field(default=(), compare=False)
    inline: bool = field(default=False, compare=False)

    def __init__(
        self,
        inputs: Sequence[Variable],
        outputs: Variable | Sequence[Variable],
        *,
        inline: bool = False,
        pullback: Callable[..., Any] | OpFromGraph | None = None,
        name: str | None = None,
        grad_overrides: Callable[..., Any] | OpFromGraph | None = None,
        lop_overrides: Callable[..., Any] | OpFromGraph | None = None,
        rop_overrides: Any = None,
        connection_pattern: Any = None,
        strict: bool = False,
        **kwargs: Any,
    ) -> None:
        from gnomon.compile.shared import SharedVariable
        from gnomon.tensor.basic import as_tensor

        inputs = list(inputs)
        outs = [outputs] if isinstance(outputs, Variable) else [as_tensor(o) for o in outputs]
        for i, v in enumerate(inputs):
            if not isinstance(v, Variable) or v.owner is not None or isinstance(v, Constant):
                raise GnomonTypeError(with_hint(
                    f"OpFromGraph: input {i} ({v}) is not a root variable",
                    "wrapped inputs must be fresh variables (gt.dvector('x') ...); compute "
                    "derived values inside the wrapped graph",
                ))
        known = {id(v) for v in inputs}
        shared: list[Variable] = []
        for r in graph_inputs(outs, include_constants=False):
            if id(r) in known:
                continue
            if isinstance(r, SharedVariable):
                shared.append(r)
                continue
            raise GnomonTypeError(with_hint(
                f"OpFromGraph: the outputs depend on {r} ({r.type}), which is not among the "
                "inputs",
                f"add {r} to the inputs list (or make it a shared variable)",
            ))
        if strict and shared:
            raise GnomonTypeError(with_hint(
                f"OpFromGraph(strict=True): the outputs read the shared variable(s) "
                f"{', '.join(map(str, shared))}",
                "pass them as explicit inputs, or drop strict=True",
            ))
        pullback = _pytensor_overrides(pullback, grad_overrides, lop_overrides, rop_overrides,
                                       connection_pattern)
        graph = InnerGraph.from_outputs(inputs + shared, outs)
        _init(self, graph, len(inputs), pullback, name, tuple(shared), inline)

    @classmethod
    def from_inner(
        cls, graph: InnerGraph, *, name: str | None = None, pullback: Any = None
    ) -> OpFromGraph:
        """An op over an existing closed inner graph (all its inputs explicit)."""
        op = object.__new__(cls)
        _init(op, graph, len(graph.inputs), pullback, name, (), False)
        return op

    # --- building -----------------------------------------------------------------------

    def _convert_inputs(self, args: Sequence[Any]) -> list[Variable]:
        from gnomon.tensor.basic import as_tensor, cast

        n_all = len(self.graph.inputs)
        if len(args) == self.n_explicit:
            args = [*args, *self.shared]
        elif len(args) != n_all:
            raise GnomonTypeError(with_hint(
                f"{self} takes {self.n_explicit} input(s), got {len(args)}",
                "call the op with one variable per wrapped input",
            ))
        out = []
        for k, (a, inner) in enumerate(zip(args, self.graph.inputs, strict=True)):
            t = inner.type
            v = as_tensor(a) if isinstance(a, Variable) else as_tensor(a, dtype=t.dtype)  # type: ignore[attr-defined]
            if v.dtype != t.dtype and np.can_cast(v.dtype, t.dtype):  # type: ignore[attr-defined]
                v = cast(v, t.dtype)  # type: ignore[attr-defined]
            if t.convert_variable(v) is None:  # type: ignore[attr-defined]
                raise GnomonTypeError(with_hint(
                    f"input {k} of {self} must have type {t}, got {v} of type {v.type}",
                    "cast or reshape the argument to the type of the wrapped input",
                ))
            out.append(v)
        return out  # type: ignore[return-value]

    def make_node(self, *inputs: Any) -> Apply:
        ins = self._convert_inputs(inputs)
        return Apply.make(self, ins, [o.type for o in self.graph.outputs])

    def __call__(self, *inputs: Any) -> Any:
        if self.inline:
            outs = self.graph.apply(self._convert_inputs(inputs))
            return outs[0] if len(outs) == 1 else outs
        return super().__call__(*inputs)

    # --- semantics ----------------------------------------------------------------------

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(self.graph.function("numpy")(*inputs))

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
    ) -> list[tuple[Variable, ...]] | None:
        return inner_shapes(self.graph, input_shapes)

    def pullback(
        self, node: Apply, output_grads: Sequence[Variable | None]
    ) -> Sequence[Any]:
        from gnomon.tensor.basic import zeros_like

        ogs = [g if g is not None else zeros_like(o)
               for g, o in zip(output_grads, node.outputs, strict=True)]
        override = self.pullback_override
        if override is not None:
            explicit = list(node.inputs[: self.n_explicit])
            if isinstance(override, LopOverride):
                res = override(explicit, list(node.outputs), ogs)
            elif isinstance(override, OpFromGraph):
                res = override(*explicit, *ogs)
                res = [res] if isinstance(res, Variable) else list(res)
            else:
                res = list(override(explicit, ogs))
            if len(res) != self.n_explicit:
                raise GnomonTypeError(with_hint(
                    f"the pullback override of {self} returned {len(res)} gradient(s) for "
                    f"{self.n_explicit} input(s)",
                    "return one gradient (or None) per explicit input",
                ))
            rest = [grad_not_implemented(self, k, v, "a pullback override covers only the "
                                         "explicit inputs")
                    for k, v in enumerate(node.inputs[self.n_explicit:], self.n_explicit)]
            return [*res, *rest]
        gop, float_in, float_out = self.graph.cached("pullback", lambda: _grad_op(self))
        if gop is None:
            return [None] * len(node.inputs)
        res = gop(*node.inputs, *[ogs[k] for k in float_out])
        res = [res] if isinstance(res, Variable) else list(res)
        grads: list[Any] = [None] * len(node.inputs)
        for k, g in zip(float_in, res, strict=True):
            grads[k] = g
        return grads

    def __str__(self) -> str:
        return self.name or "OpFromGraph"


def _init(op: OpFromGraph, graph: InnerGraph, n_explicit: int, pullback: Any,
          name: str | None, shared: tuple[Variable, ...], inline: bool) -> None:
    set_ = object.__setattr__
    set_(op, "graph", graph)
    set_(op, "n_explicit", n_explicit)
    set_(op, "pullback_override", pullback)
    set_(op, "name", name)
    set_(op, "shared", shared)
    set_(op, "inline", inline)


@dataclass(frozen=True)
class LopOverride:
    """PyTensor's ``lop_overrides``: a gradient given ``(inputs, outputs, output_grads)``."""

    fn: Any

    def __call__(self, inputs: list[Variable], outputs: list[Variable],
                 output_grads: list[Variable]) -> list[Any]:
        if isinstance(self.fn, OpFromGraph):
            res = self.fn(*inputs, *outputs, *output_grads)
            return [res] if isinstance(res, Variable) else list(res)
        return list(self.fn(inputs, outputs, output_grads))


def _pytensor_overrides(pullback: Any, grad_overrides: Any, lop_overrides: Any,
                        rop_overrides: Any, connection_pattern: Any) -> Any:
    """The one pullback override that PyTensor's keyword arguments stand for."""
    if rop_overrides is not None or connection_pattern is not None:
        raise GnomonTypeError(with_hint(
            "OpFromGraph: rop_overrides and connection_pattern are not supported",
            "leave them out: the Jacobian-vector product is derived from the gradient, and "
            "connections from the wrapped graph",
        ))
    given = [o for o in (pullback, grad_overrides, lop_overrides) if o is not None]
    if len(given) > 1:
        raise GnomonTypeError("OpFromGraph: give one of pullback=, grad_overrides=, "
                              "lop_overrides=")
    for o in given:
        if not (callable(o) or isinstance(o, OpFromGraph)):
            raise GnomonTypeError(with_hint(
                f"OpFromGraph: a gradient override must be a function or an OpFromGraph, got "
                f"{type(o).__name__}", "per-input lists of overrides are not supported; write "
                "one function returning a gradient (or None) per input"))
    if lop_overrides is not None:
        return LopOverride(lop_overrides)
    return grad_overrides if grad_overrides is not None else pullback


def _is_float(v: Variable) -> bool:
    return v.dtype[0] in "fc"


def _grad_op(op: OpFromGraph) -> tuple[OpFromGraph | None, list[int], list[int]]:
    """The gradient of ``op``'s inner graph as another OpFromGraph.

    Its inputs are the op's inputs then one cotangent per float output; its outputs are the
    gradients of the float inputs (zeros where an input does not influence the outputs).
    """
    from gnomon.gradient import grad
    from gnomon.tensor import math as tm

    g = op.graph
    float_in = [k for k, v in enumerate(g.inputs) if _is_float(v)]
    float_out = [k for k, v in enumerate(g.outputs) if _is_float(v)]
    if not float_in or not float_out:
        return None, float_in, float_out
    cots = [g.outputs[k].type(f"d_out{k}") for k in float_out]
    known: dict[Variable, Variable] = {}
    for k, c in zip(float_out, cots, strict=True):
        o = g.outputs[k]
        known[o] = tm.add(known[o], c) if o in known else c
    wrt = [g.inputs[k] for k in float_in]
    grads = grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                 return_disconnected="zero")
    inner = InnerGraph.from_outputs([*g.inputs, *cots], grads)
    return OpFromGraph.from_inner(inner, name=f"grad({op})"), float_in, float_out


@register_rule(ops=(OpFromGraph,), groups=("specialize", "inline_opfromgraph"),
               name="inline_opfromgraph", exact_shape=True)
def inline_opfromgraph(node: Apply) -> list[Variable]:
    """Expand an OpFromGraph node into its inner graph (after canonicalize and stabilize)."""
    return node.op.graph.apply(node.inputs)  # type: ignore[attr-defined]


# Equality saturation saturates with OpFromGraph nodes as units, expands them, saturates again.
register_expander(OpFromGraph, inline_opfromgraph)
