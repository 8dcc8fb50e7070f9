"""JAX lowerings of :class:`~gnomon.tensor.elemwise.Elemwise` and
:class:`~gnomon.tensor.elemwise.SumToShape`."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify, jax_scalar_funcify, static_array
from gnomon.errors import ShapeError, node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.tensor.elemwise import Elemwise, SumToShape


@jax_funcify.register(Elemwise)
def _elemwise(op: Elemwise, node: Apply) -> JaxFn:
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    out_dtypes = [v.type.dtype for v in node.outputs]  # type: ignore[attr-defined]
    # jnp functions broadcast like NumPy, including a length-1 dimension known only at run
    # time (under jit every length is known at trace time).
    return jax_scalar_funcify(op.scalar_op, in_dtypes, out_dtypes)


@jax_funcify.register(SumToShape)
def _sum_to_shape(op: SumToShape, node: Apply) -> JaxFn:
    def f(g: Any, shape: Any) -> Any:
        target = tuple(int(s) for s in static_array(shape, node, "the target shape"))
        axes = tuple(i for i, (a, b) in enumerate(zip(target, g.shape, strict=True))
                     if a == 1 and b != 1)
        out = jnp.sum(g, axis=axes, keepdims=True, dtype=g.dtype) if axes else g
        if tuple(out.shape) != target:
            raise ShapeError(with_hint(
                f"a gradient of shape {tuple(g.shape)} cannot be reduced to {target}.\n"
                f"{node_context(node)}",
                "the shapes of the inputs were not broadcastable together",
            ))
        return out

    return f
