"""JAX lowerings of reductions, softmax and cumulative ops (:mod:`gnomon.tensor.reduce`).

Each lowering is registered for the op class it imports from :mod:`gnomon.tensor.reduce`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.graph.basic import Apply
from gnomon.tensor.reduce import (
    AllTrue,
    AnyTrue,
    Argmax,
    Argmin,
    Cumprod,
    Cumsum,
    LogSoftmax,
    LogSumExp,
    Max,
    Min,
    Prod,
    Softmax,
    Sum,
)


def _out_dtype(node: Apply) -> str:
    return node.outputs[0].type.dtype  # type: ignore[attr-defined]


def _reduction(fn: Callable[..., Any], *, with_dtype: bool) -> Callable[[Any, Apply], JaxFn]:
    """The lowering of a reduction over ``op.axes`` with the JAX function ``fn`` (computed in
    the output dtype where ``with_dtype``: sums and products)."""

    def lower(op: Any, node: Apply) -> JaxFn:
        axes = tuple(op.axes)
        if with_dtype:
            dtype = _out_dtype(node)
            return lambda x: fn(x, axis=axes, dtype=dtype)
        return lambda x: fn(x, axis=axes)

    return lower


def _arg_reduction(fn: Callable[..., Any]) -> Callable[[Any, Apply], JaxFn]:
    def lower(op: Argmax | Argmin, node: Apply) -> JaxFn:
        axis = op.axis
        return lambda x: fn(x, axis=axis)

    return lower


jax_funcify.register(Sum)(_reduction(jnp.sum, with_dtype=True))
jax_funcify.register(Prod)(_reduction(jnp.prod, with_dtype=True))
jax_funcify.register(Max)(_reduction(jnp.max, with_dtype=False))
jax_funcify.register(Min)(_reduction(jnp.min, with_dtype=False))
jax_funcify.register(AllTrue)(_reduction(jnp.all, with_dtype=False))
jax_funcify.register(AnyTrue)(_reduction(jnp.any, with_dtype=False))
jax_funcify.register(Argmax)(_arg_reduction(jnp.argmax))
jax_funcify.register(Argmin)(_arg_reduction(jnp.argmin))


def _finite_max(x: Any, axes: tuple[int, ...]) -> Any:
    """The maximum over ``axes`` (kept) as the shift for ``exp``; 0 where it is not finite, so
    all ``-inf`` slices give ``-inf`` and not ``nan`` (as the reference does)."""
    m = jnp.max(x, axis=axes, keepdims=True, initial=-jnp.inf)
    # The shift cancels mathematically; stopping its gradient keeps jax.grad of it clean.
    return jax.lax.stop_gradient(jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m)))


def _logsumexp_kept(x: Any, axes: tuple[int, ...]) -> Any:
    m = _finite_max(x, axes)
    return jnp.log(jnp.sum(jnp.exp(x - m), axis=axes, keepdims=True)) + m


@jax_funcify.register(LogSumExp)
def _logsumexp(op: LogSumExp, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)
    return lambda x: jnp.squeeze(_logsumexp_kept(as_dtype(x, dtype), axes), axis=axes)


@jax_funcify.register(Softmax)
def _softmax(op: Softmax, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)

    def f(x: Any) -> Any:
        x = as_dtype(x, dtype)
        e = jnp.exp(x - _finite_max(x, axes))
        return e / jnp.sum(e, axis=axes, keepdims=True)

    return f


@jax_funcify.register(LogSoftmax)
def _log_softmax(op: LogSoftmax, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)

    def f(x: Any) -> Any:
        # Subtract the shift first, as the reference does: x - (m + log s) loses log s when x
        # is huge (log_softmax([0, 2**64]) gave 0 instead of -log 2 for the maximum).
        shifted = as_dtype(x, dtype) - _finite_max(as_dtype(x, dtype), axes)
        return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axes, keepdims=True))

    return f


def _cumulative(fn: Callable[..., Any]) -> Callable[[Any, Apply], JaxFn]:
    def lower(op: Cumsum | Cumprod, node: Apply) -> JaxFn:
        dtype, axis, reverse = _out_dtype(node), op.axis, op.reverse

        def f(x: Any) -> Any:
            if reverse:
                return jnp.flip(fn(jnp.flip(x, axis), axis=axis, dtype=dtype), axis)
            return fn(x, axis=axis, dtype=dtype)

        return f

    return lower


jax_funcify.register(Cumsum)(_cumulative(jnp.cumsum))
jax_funcify.register(Cumprod)(_cumulative(jnp.cumprod))
