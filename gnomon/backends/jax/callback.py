"""User ops under ``mode='jax'``: the op's NumPy ``perform`` called through ``jax.pure_callback``.

An op written by a user with PyTensor's protocol (:mod:`gnomon.tensor.user_op`) and the ops of
:func:`gnomon.compile.ops.as_op` wrap Python code that JAX cannot trace. Their lowering calls
``perform`` on the host:

* called outside ``jit`` (the op-by-op fallback of :mod:`~gnomon.backends.jax.linker`) with
  concrete arrays, ``perform`` runs directly;
* under ``jit`` (and inside ``scan`` / ``ifelse`` lowered to ``lax.scan`` / ``lax.cond``), through
  ``jax.pure_callback``, which needs the output shapes when the graph is traced. They come from
  the output types when those are fully static, otherwise from the op's ``infer_shape``
  evaluated on the (static) input shapes. An op with neither raises
  :class:`~gnomon.backends.jax.dispatch.NeedsConcreteValue`, and the function runs op by op.

gnomon differentiates graphs before they reach JAX, so the op's ``grad`` is used as in any other
backend. What JAX cannot do is differentiate the callback itself: ``jax.grad`` of
``Function.jax_fn`` through a user op fails (JAX's own rule for ``pure_callback``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from gnomon.backends.jax.dispatch import NeedsConcreteValue, is_tracer, jax_funcify
from gnomon.compile.ops import FromFunctionOp
from gnomon.errors import node_context, with_hint
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.graph.traversal import toposort
from gnomon.tensor.basic import constant

__all__ = ["callback_lowering"]

# Under jax.vmap the callback runs once per batch element. JAX >= 0.4.34 asks for that with
# vmap_method; older versions (gnomon supports 0.4.30) do it by default and lack the argument.
_VMAP: dict[str, Any] = ({"vmap_method": "sequential"}
         if "vmap_method" in inspect.signature(jax.pure_callback).parameters else {})


def callback_lowering(op: Op, node: Apply) -> Callable[..., Any]:
    """The JAX lowering of a node whose op runs Python code (its ``perform``)."""
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]  # type: ignore[attr-defined]
    single = len(node.outputs) == 1

    def host(*args: Any) -> tuple[np.ndarray, ...]:
        res = node.op.perform(node, [np.asarray(a) for a in args])
        return tuple(np.asarray(r, dtype=d) for r, d in zip(res, dtypes, strict=True))

    def fn(*vals: Any) -> Any:
        if not any(is_tracer(v) for v in vals):
            res = host(*vals)
            return res[0] if single else res
        shapes = output_shapes(node, [tuple(np.shape(v)) for v in vals])
        spec = tuple(jax.ShapeDtypeStruct(s, d) for s, d in zip(shapes, dtypes, strict=True))
        out = jax.pure_callback(host, spec, *vals, **_VMAP)
        return out[0] if single else tuple(out)

    return fn


def output_shapes(node: Apply, in_shapes: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The output shapes of ``node`` for inputs of shapes ``in_shapes``, known when tracing."""
    static = [getattr(o.type, "shape", None) for o in node.outputs]
    if all(s is not None and None not in s for s in static):
        return [tuple(int(d) for d in s) for s in static]  # type: ignore[union-attr]
    shapes = None
    try:
        shapes = node.op.infer_shape(node, [tuple(constant(np.int64(d)) for d in s)
                                            for s in in_shapes])
    except Exception:  # a shape rule that needs more than the input shapes
        shapes = None
    if shapes is not None:
        try:
            return [tuple(_evaluate(d) for d in s) for s in shapes]
        except _NotConstant:
            pass
    raise NeedsConcreteValue(with_hint(
        f"mode='jax' runs {node.op} (Python code) through jax.pure_callback, which needs its "
        f"output shapes when the graph is traced, and they are not known: the output types "
        f"are not fully static and the op has no infer_shape computing them from the input "
        f"shapes.\n{node_context(node)}",
        "give the op an infer_shape(self, fgraph, node, input_shapes) method, or fully static "
        "output types; without them the function runs op by op",
    ))


class _NotConstant(Exception):
    pass


def _evaluate(d: Any) -> int:
    """The value of a length computed from constants (the static input shapes)."""
    if isinstance(d, int | np.integer):
        return int(d)
    if not isinstance(d, Variable):
        raise _NotConstant
    if isinstance(d, Constant):
        return int(d.data)
    values: dict[int, Any] = {}
    for n in toposort([d]):
        args = []
        for i in n.inputs:
            if isinstance(i, Constant):
                args.append(i.data)
            elif id(i) in values:
                args.append(values[id(i)])
            else:
                raise _NotConstant  # depends on an input's value
        for o, r in zip(n.outputs, n.op.perform(n, args), strict=True):
            values[id(o)] = r
    return int(values[id(d)])


jax_funcify.register(FromFunctionOp)(callback_lowering)
