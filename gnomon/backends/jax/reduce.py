"""JAX lowerings of reductions (:mod:`gnomon.tensor.reduce`)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.graph.basic import Apply
from gnomon.tensor.reduce import Sum


@jax_funcify.register(Sum)
def _sum(op: Sum, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype
    axes = tuple(op.axes)
    return lambda x: jnp.sum(x, axis=axes, dtype=dtype)


def _unused(x: Any) -> Any:  # pragma: no cover - keeps the Any import for lowerings below
    return x
