"""JAX lowerings of the shape ops (:mod:`gnomon.tensor.shapes`).

``Shape`` and ``Shape_i`` of a traced array return NumPy values: under ``jax.jit`` every shape is
known at trace time, so anything computed from shapes alone stays static (see
:mod:`gnomon.backends.jax.dispatch`).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import (
    JaxFn,
    is_concrete,
    jax_funcify,
    static_array,
    static_int,
    static_ints,
)
from gnomon.backends.jax.scalar import as_dtype
from gnomon.errors import ShapeError, node_context, with_hint
from gnomon.graph.basic import Apply, Constant
from gnomon.tensor.shapes import (
    BroadcastTo,
    DimShuffle,
    Join,
    MakeVector,
    Repeat,
    RepeatSum,
    Reshape,
    Shape,
    ShapeI,
    Split,
)


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


# --- reshape, broadcast_to, join, split, repeat ----------------------------------------------


def _const_value(v: Any) -> int | None:
    return int(v.data) if isinstance(v, Constant) and np.ndim(v.data) == 0 else None


@jax_funcify.register(Reshape)
def _reshape(op: Reshape, node: Apply) -> JaxFn:
    free = [i for i, v in enumerate(node.inputs[1:]) if _const_value(v) == -1]

    def f(x: Any, *shape: Any) -> Any:
        dims = list(static_ints(shape, node, "the new shape"))
        size = int(np.prod(x.shape, dtype=np.int64))
        for i, d in enumerate(dims):
            if d < 0 and i not in free:
                raise ShapeError(with_hint(
                    f"cannot reshape an array of shape {tuple(x.shape)} into shape "
                    f"{tuple(dims)}: entry {i} is {d}, a negative length.\n{node_context(node)}",
                    "only a literal -1 in the shape stands for the length to infer",
                ))
        if free:
            k = int(np.prod([d for i, d in enumerate(dims) if i != free[0]], dtype=np.int64))
            if k == 0 or size % k:
                raise ShapeError(with_hint(
                    f"cannot reshape an array of size {size} (shape {tuple(x.shape)}) into "
                    f"shape {tuple(dims)}.\n{node_context(node)}",
                    "check the lengths in the new shape",
                ))
            dims[free[0]] = size // k
        if int(np.prod(dims, dtype=np.int64)) != size:
            raise ShapeError(with_hint(
                f"cannot reshape an array of size {size} (shape {tuple(x.shape)}) into shape "
                f"{tuple(dims)}.\n{node_context(node)}",
                "the new shape must have as many elements as the array",
            ))
        return jnp.reshape(x, tuple(dims))

    return f


@jax_funcify.register(BroadcastTo)
def _broadcast_to(op: BroadcastTo, node: Apply) -> JaxFn:
    def f(x: Any, *shape: Any) -> Any:
        target = static_ints(shape, node, "the target shape")
        try:
            return jnp.broadcast_to(x, target)
        except ValueError:
            raise ShapeError(with_hint(
                f"cannot broadcast an array of shape {tuple(x.shape)} to shape {target}.\n"
                f"{node_context(node)}",
                "each dimension of the array must be 1 or equal the target's, counting from "
                "the last",
            )) from None

    return f


@jax_funcify.register(Join)
def _join(op: Join, node: Apply) -> JaxFn:
    a = op.axis
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]

    def f(*xs: Any) -> Any:
        ref = tuple(xs[0].shape)
        for i, x in enumerate(xs[1:], 1):
            s = tuple(x.shape)
            if s[:a] + s[a + 1:] != ref[:a] + ref[a + 1:]:
                raise ShapeError(with_hint(
                    f"join along axis {a}: array {i} has shape {s} but array 0 has shape "
                    f"{ref}.\n{node_context(node)}",
                    f"every dimension except axis {a} must have the same length",
                ))
        return jnp.concatenate([as_dtype(jnp.asarray(x), dtype) for x in xs], axis=a)

    return f


@jax_funcify.register(Split)
def _split(op: Split, node: Apply) -> JaxFn:
    axis = op.axis

    def f(x: Any, *sizes: Any) -> Any:
        sz = static_ints(sizes, node, "the split sizes")
        n = x.shape[axis]
        if min(sz) < 0 or sum(sz) != n:
            raise ShapeError(with_hint(
                f"split: the sizes {sz} (sum {sum(sz)}) do not add up to the length {n} of "
                f"axis {axis} of an array of shape {tuple(x.shape)}.\n{node_context(node)}",
                "the sizes must be non-negative and add up to the length of the axis",
            ))
        bounds = np.cumsum(sz)[:-1].tolist()
        return tuple(jnp.split(x, bounds, axis=axis))

    return f


@jax_funcify.register(Repeat)
def _repeat(op: Repeat, node: Apply) -> JaxFn:
    axis = op.axis

    def f(x: Any, r: Any) -> Any:
        # The output length is the sum of the counts: they must be known at trace time.
        reps = static_array(r, node, "the repeat counts")
        n = x.shape[axis]
        if reps.ndim == 1 and reps.shape[0] not in (1, n):
            raise ShapeError(with_hint(
                f"repeat: {reps.shape[0]} repeat counts for axis {axis} of an array of shape "
                f"{tuple(x.shape)}.\n{node_context(node)}",
                "give one count per element along the axis, or one count",
            ))
        if (reps < 0).any():
            raise ShapeError(f"repeat: negative repeat count in {reps.tolist()}\n"
                             f"{node_context(node)}")
        counts = np.broadcast_to(reps.reshape(-1) if reps.ndim else reps, (n,))
        return jnp.repeat(x, counts, axis=axis, total_repeat_length=int(counts.sum()))

    return f


@jax_funcify.register(RepeatSum)
def _repeat_sum(op: RepeatSum, node: Apply) -> JaxFn:
    axis = op.axis

    def f(g: Any, r: Any, n: Any) -> Any:
        k = static_int(n, node, "the number of elements")
        total = g.shape[axis]
        if is_concrete(r):
            reps = np.broadcast_to(np.asarray(r), (k,))
            if int(reps.sum()) != total:
                raise ShapeError(f"{op}: repeats {np.asarray(r).tolist()} do not match length "
                                 f"{total} of axis {axis}\n{node_context(node)}")
        # Segment ids need only the total length, so traced counts are fine here.
        counts = jnp.broadcast_to(jnp.asarray(r), (k,))
        ids = jnp.repeat(jnp.arange(k), counts, total_repeat_length=total)
        out = jax.ops.segment_sum(jnp.moveaxis(g, axis, 0), ids, num_segments=k)
        return jnp.moveaxis(out, 0, axis)

    return f
