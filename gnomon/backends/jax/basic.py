"""JAX lowerings of the ops of :mod:`gnomon.tensor.basic` (``Alloc``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify, static_ints
from gnomon.graph.basic import Apply
from gnomon.tensor.basic import Alloc


@jax_funcify.register(Alloc)
def _alloc(op: Alloc, node: Apply) -> JaxFn:
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]

    def f(value: Any, *shape: Any) -> Any:
        dims = static_ints(shape, node, "the shape of the array to allocate")
        return jnp.broadcast_to(jnp.asarray(value, dtype=dtype), dims)

    return f


def _register_gradient_modifier() -> None:
    # GradientModifier (gnomon.gradient) is the identity when run; the rewrite pipeline
    # normally removes it, but a graph compiled without rewrites may still hold one.
    from gnomon.gradient import GradientModifier

    jax_funcify.register(GradientModifier)(lambda op, node: (lambda x: x))


_register_gradient_modifier()
