"""JAX lowerings of sorting and searching (:mod:`gnomon.tensor.sort`)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.errors import GnomonValueError, node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.tensor.sorting import Argsort, PermuteAlongAxis, SearchSorted, Sort


@jax_funcify.register(Sort)
def _sort(op: Sort, node: Apply) -> JaxFn:
    axis = op.axis
    # NaN sorts last in both NumPy and JAX.
    return lambda x: jnp.sort(x, axis=axis, stable=True)


@jax_funcify.register(Argsort)
def _argsort(op: Argsort, node: Apply) -> JaxFn:
    axis = op.axis
    return lambda x: jnp.argsort(x, axis=axis, stable=True)


@jax_funcify.register(PermuteAlongAxis)
def _permute(op: PermuteAlongAxis, node: Apply) -> JaxFn:
    axis = op.axis

    def f(x: Any, perm: Any) -> Any:
        if tuple(x.shape) != tuple(perm.shape):
            raise GnomonValueError(with_hint(
                f"{op}: the array has shape {tuple(x.shape)} but the permutation "
                f"{tuple(perm.shape)}.\n{node_context(node)}",
                "permute with indices of the array's own shape",
            ))
        return jnp.take_along_axis(x, perm, axis=axis)

    return f


@jax_funcify.register(SearchSorted)
def _searchsorted(op: SearchSorted, node: Apply) -> JaxFn:
    side = op.side
    return lambda a, v: jnp.searchsorted(a, v, side=side)
