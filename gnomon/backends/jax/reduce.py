"""JAX lowerings of reductions, softmax and cumulative ops (:mod:`gnomon.tensor.reduce`).

Lowerings are registered for the op classes that exist in :mod:`gnomon.tensor.reduce`; the
coverage test in ``tests/backends/test_jax.py`` lists any that is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

import jax
import jax.numpy as jnp

from gnomon.backends.jax.dispatch import JaxFn, jax_funcify
from gnomon.backends.jax.scalar import as_dtype
from gnomon.graph.basic import Apply

# By module path: gnomon.tensor re-exports functions whose names shadow its submodules.
tr = importlib.import_module("gnomon.tensor.reduce")


def _out_dtype(node: Apply) -> str:
    return node.outputs[0].type.dtype  # type: ignore[no-any-return]


@jax_funcify.register(tr.Sum)
def _sum(op: tr.Sum, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)
    return lambda x: jnp.sum(x, axis=axes, dtype=dtype)


@jax_funcify.register(tr.Prod)
def _prod(op: tr.Prod, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)
    return lambda x: jnp.prod(x, axis=axes, dtype=dtype)


@jax_funcify.register(tr.Max)
def _max(op: tr.Max, node: Apply) -> JaxFn:
    axes = tuple(op.axes)
    return lambda x: jnp.max(x, axis=axes)


@jax_funcify.register(tr.Min)
def _min(op: tr.Min, node: Apply) -> JaxFn:
    axes = tuple(op.axes)
    return lambda x: jnp.min(x, axis=axes)


@jax_funcify.register(tr.AllTrue)
def _all(op: tr.AllTrue, node: Apply) -> JaxFn:
    axes = tuple(op.axes)
    return lambda x: jnp.all(x, axis=axes)


@jax_funcify.register(tr.AnyTrue)
def _any(op: tr.AnyTrue, node: Apply) -> JaxFn:
    axes = tuple(op.axes)
    return lambda x: jnp.any(x, axis=axes)


@jax_funcify.register(tr.Argmax)
def _argmax(op: tr.Argmax, node: Apply) -> JaxFn:
    axis = op.axis
    return lambda x: jnp.argmax(x, axis=axis)


@jax_funcify.register(tr.Argmin)
def _argmin(op: tr.Argmin, node: Apply) -> JaxFn:
    axis = op.axis
    return lambda x: jnp.argmin(x, axis=axis)


def _finite_max(x: Any, axes: tuple[int, ...]) -> Any:
    """The maximum over ``axes`` (kept) as the shift for ``exp``; 0 where it is not finite, so
    all ``-inf`` slices give ``-inf`` and not ``nan`` (as the reference does)."""
    m = jnp.max(x, axis=axes, keepdims=True, initial=-jnp.inf)
    # The shift cancels mathematically; stopping its gradient keeps jax.grad of it clean.
    return jax.lax.stop_gradient(jnp.where(jnp.isfinite(m), m, jnp.zeros_like(m)))


def _logsumexp_kept(x: Any, axes: tuple[int, ...]) -> Any:
    m = _finite_max(x, axes)
    return jnp.log(jnp.sum(jnp.exp(x - m), axis=axes, keepdims=True)) + m


@jax_funcify.register(tr.LogSumExp)
def _logsumexp(op: tr.LogSumExp, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)
    return lambda x: jnp.squeeze(_logsumexp_kept(as_dtype(x, dtype), axes), axis=axes)


@jax_funcify.register(tr.Softmax)
def _softmax(op: tr.Softmax, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)

    def f(x: Any) -> Any:
        x = as_dtype(x, dtype)
        e = jnp.exp(x - _finite_max(x, axes))
        return e / jnp.sum(e, axis=axes, keepdims=True)

    return f


@jax_funcify.register(tr.LogSoftmax)
def _log_softmax(op: tr.LogSoftmax, node: Apply) -> JaxFn:
    dtype, axes = _out_dtype(node), tuple(op.axes)

    def f(x: Any) -> Any:
        # Subtract the shift first, as the reference does: x - (m + log s) loses log s when x
        # is huge (log_softmax([0, 2**64]) gave 0 instead of -log 2 for the maximum).
        shifted = as_dtype(x, dtype) - _finite_max(as_dtype(x, dtype), axes)
        return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axes, keepdims=True))

    return f


def _cumulative(fn: Any) -> Any:
    def lower(op: Any, node: Apply) -> JaxFn:
        dtype, axis, reverse = _out_dtype(node), op.axis, op.reverse

        def f(x: Any) -> Any:
            if reverse:
                return jnp.flip(fn(jnp.flip(x, axis), axis=axis, dtype=dtype), axis)
            return fn(x, axis=axis, dtype=dtype)

        return f

    return lower


jax_funcify.register(tr.Cumsum)(_cumulative(jnp.cumsum))
jax_funcify.register(tr.Cumprod)(_cumulative(jnp.cumprod))
