"""JAX lowerings of the shape ops (:mod:`gnomon.tensor.shape`).

``Shape`` and ``Shape_i`` of a traced array return NumPy values: under ``jax.jit`` every shape is
known at trace time, so anything computed from shapes alone stays static (see
:mod:`gnomon.backends.jax.dispatch`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.errors import ShapeError, node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.tensor.shape import DimShuffle, MakeVector, Shape, ShapeI


@jax_funcify.register(Shape)
def _shape(op: Shape, node: Apply) -> JaxFn:
    return lambda x: np.array(x.shape, dtype="int64")


@jax_funcify.register(ShapeI)
def _shape_i(op: ShapeI, node: Apply) -> JaxFn:
    i = op.i
    return lambda x: np.array(x.shape[i], dtype="int64")


@jax_funcify.register(MakeVector)
def _make_vector(op: MakeVector, node: Apply) -> JaxFn:
    dtype = op.dtype

    def f(*xs: Any) -> Any:
        if not xs:
            return jnp.zeros((0,), dtype=dtype)
        return jnp.stack([as_dtype(jnp.asarray(x), dtype) for x in xs])

    return f


@jax_funcify.register(DimShuffle)
def _dimshuffle(op: DimShuffle, node: Apply) -> JaxFn:
    kept = [d for d in op.new_order if d != "x"]
    perm = tuple(int(d) for d in kept) + op.dropped
    dropped = op.dropped

    def f(x: Any) -> Any:
        for d in dropped:
            if x.shape[d] != 1:
                raise ShapeError(with_hint(
                    f"cannot drop dimension {d} of an array of shape {tuple(x.shape)}: it is "
                    f"not 1.\n{node_context(node)}",
                    "only length-1 dimensions can be dropped (squeezed)",
                ))
        y = jnp.transpose(x, perm) if perm != tuple(range(x.ndim)) else x
        out_shape = tuple(1 if d == "x" else x.shape[d] for d in op.new_order)
        return jnp.reshape(y, out_shape) if out_shape != tuple(y.shape) else y

    return f
