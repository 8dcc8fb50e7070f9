"""``Elemwise``: a scalar op mapped over arrays with NumPy broadcasting, and ``SumToShape``,
which reduces a broadcast gradient back to an input's shape.

Broadcasting follows NumPy, at run time too: a dimension whose length is unknown when the graph
is built may turn out to be 1 and is then broadcast (PyTensor refuses this; gnomon does not).
Inputs of lower rank are padded on the left with ``DimShuffle`` so that every input of an
Elemwise node has the output's rank, which keeps backends and gradients simple.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError, user_location
from gnomon.graph.basic import Apply, Variable
from gnomon.graph.op import NullGrad, Op
from gnomon.scalar.basic import ZERO_GRAD, ScalarOp
from gnomon.tensor.basic import as_tensor, constant, zeros_like
from gnomon.tensor.shapes import pad_left, shape_tuple
from gnomon.tensor.type import TensorType

__all__ = ["broadcast_static_shapes", "Elemwise", "SumToShape", "sum_to"]


def broadcast_static_shapes(*shapes: tuple[int | None, ...], what: str = "operands") -> tuple:
    """The static broadcast shape of ``shapes`` (already padded to one rank).

    Raises :class:`ShapeError` when two known lengths other than 1 differ.
    """
    out = []
    for dims in zip(*shapes, strict=True):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            loc = user_location()
            where = f' (at "{loc[0]}", line {loc[1]})' if loc else ""
            raise ShapeError(
                f"{what} have incompatible shapes {', '.join(map(_fmt, shapes))}{where}: "
                f"lengths {sorted(known)} cannot be broadcast together.\n"
                "Hint: check the shapes of the arguments; use expand_dims or reshape to align "
                "dimensions."
            )
        if known:
            out.append(known.pop())
        elif all(d == 1 for d in dims):
            out.append(1)
        else:
            # Unknown, or only 1s and unknowns: any unknown might be the real length.
            out.append(None)
    return tuple(out)


def _fmt(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + (
        ",)" if len(shape) == 1 else ")"
    )


def _weak_constant(value: Any, tensors: Sequence[Variable]) -> Variable:
    """A Python number next to tensors takes their dtype kind, as in NumPy 2 (NEP 50)."""
    if isinstance(value, bool | int | float | complex) and tensors:
        dtypes = tuple(sorted({t.dtype for t in tensors}))
        # repr keeps -0.0 apart from 0.0 (equal as keys) in the cache.
        return _weak_scalar(dtypes, type(value), repr(value), value)  # type: ignore[arg-type]
    return as_tensor(value)


@functools.lru_cache(maxsize=2048)
def _weak_scalar(dtypes: tuple[str, ...], pytype: type, text: str, value: Any) -> Variable:
    # Cached: literals such as `x * 2` are built on every node, and constants are interned
    # anyway (the cache only keeps a few small scalars alive).
    dtype = np.result_type(*[np.dtype(d) for d in dtypes], value)
    with np.errstate(all="ignore"):
        arr = np.array(value).astype(dtype)
    if pytype is int and arr.item() != value:
        raise GnomonValueError(
            f"the Python integer {value} does not fit in {dtype.name}, the dtype of the other "
            f"operand.\nHint: cast the other operand to a wider dtype first."
        )
    return constant(arr)


@dataclass(frozen=True)
class Elemwise(Op):
    """Apply ``scalar_op`` elementwise, broadcasting the inputs like NumPy.

    Examples
    --------
    >>> import gnomon.tensor as gt
    >>> (gt.dmatrix("a") + gt.dvector("b")).type
    TensorType('float64', (None, None))
    """

    scalar_op: ScalarOp

    if TYPE_CHECKING:
        # Rewrite patterns write Elemwise(Exp) (a scalar op class) to match Elemwise of any
        # instance of it; only the patterns hold such ops.
        def __init__(self, scalar_op: ScalarOp | type[ScalarOp]) -> None: ...

    def make_node(self, *inputs: Any) -> Apply:
        nin = self.scalar_op.nin
        if nin != -1 and len(inputs) != nin:
            raise GnomonTypeError(f"{self.scalar_op} takes {nin} inputs, got {len(inputs)}")
        if not inputs:
            raise GnomonTypeError(f"{self.scalar_op} needs at least one input")
        tensors = [as_tensor(x) for x in inputs if isinstance(x, Variable)]
        xs = [x if isinstance(x, Variable) else _weak_constant(x, tensors) for x in inputs]
        xs = [as_tensor(x) for x in xs]
        ndim = max(x.ndim for x in xs)
        xs = [pad_left(x, ndim) for x in xs]
        out_shape = broadcast_static_shapes(
            *[x.type.shape for x in xs], what=f"the operands of {self.scalar_op}"  # type: ignore[attr-defined]
        )
        dtypes = self.scalar_op.output_dtypes(*[x.dtype for x in xs])
        return Apply.make(self, xs, [TensorType(d, out_shape) for d in dtypes])

    def perform(self, node, inputs):
        with np.errstate(all="ignore"):
            out = self.scalar_op.impl(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(
            np.asarray(o, dtype=v.type.dtype) for o, v in zip(outs, node.outputs, strict=True)
        )

    def infer_shape(self, node, input_shapes):
        out_static = node.outputs[0].type.shape
        dims = []
        for i, s in enumerate(out_static):
            if s is not None:
                dims.append(constant(s, "int64"))
                continue
            cands = [
                shp[i] for shp, x in zip(input_shapes, node.inputs, strict=True)
                if x.type.shape[i] != 1
            ]
            dims.append(_broadcast_dim(cands))
        return [tuple(dims)] * len(node.outputs)

    def pullback(self, node, output_grads):
        grads = self.scalar_op.pullback(node.inputs, node.outputs, output_grads)
        out = []
        for x, g in zip(node.inputs, grads, strict=True):
            if g is None or x.dtype[0] not in "fc":
                out.append(None)
                continue
            if isinstance(g, NullGrad):  # undefined / not implemented: grad() reports it
                out.append(g)
                continue
            if g is ZERO_GRAD:
                dtype = next(o for o in output_grads if o is not None).dtype
                out.append(zeros_like(x, dtype=dtype))
                continue
            out.append(sum_to(as_tensor(g), x))
        return out

    def __str__(self) -> str:
        return f"Elemwise({self.scalar_op})"


def _broadcast_dim(cands: list[Variable]) -> Variable:
    """Run-time broadcast of candidate lengths: the one that is not 1 (or 1)."""
    from gnomon.tensor import math as tm

    if not cands:
        return constant(1, "int64")
    out = cands[0]
    for c in cands[1:]:
        if c is out:
            continue
        out = tm.where(tm.eq(out, 1), c, out)
    return out


# --- reducing a broadcast gradient back to an input's shape ------------------------------


@dataclass(frozen=True)
class SumToShape(Op):
    """Sum ``g`` over the dimensions where ``shape`` is 1 and ``g``'s length is not.

    The shape-aware reduction that makes gradients right when an input of unknown static length
    was broadcast at run time. ``g`` and ``shape`` have the same rank.
    """

    # When nothing is summed the output is ``g`` itself.
    view_map = {0: 0}  # noqa: RUF012

    def make_node(self, g: Any, shape: Any) -> Apply:
        g, shape = as_tensor(g), as_tensor(shape)
        n = shape.type.shape[0] if shape.ndim == 1 else None
        if n is None or n != g.ndim:
            raise ShapeError(f"SumToShape: shape {shape.type} does not match rank of {g.type}")
        static = tuple(
            1 if s == 1 else k for s, k in zip(g.type.shape, _static_entries(shape), strict=True)
        )
        return Apply.make(self, [g, shape], [TensorType(g.dtype, static)])

    def perform(self, node, inputs):
        g, shape = inputs
        axes = tuple(i for i, (a, b) in enumerate(zip(shape, g.shape, strict=True))
                     if a == 1 and b != 1)
        out = g.sum(axis=axes, keepdims=True, dtype=g.dtype) if axes else g
        if out.shape != tuple(shape):
            raise ShapeError(f"gradient of shape {g.shape} cannot be reduced to {tuple(shape)}")
        return (out,)

    def infer_shape(self, node, input_shapes):
        from gnomon.tensor.shapes import shape_scalars_of_vector

        return [tuple(shape_scalars_of_vector(node.inputs[1]))]

    def pullback(self, node, output_grads):
        from gnomon.tensor.basic import alloc

        g = node.inputs[0]
        return [alloc(output_grads[0], *shape_tuple(g)), None]


def _static_entries(shape: Variable) -> list[int | None]:
    from gnomon.graph.basic import Constant
    from gnomon.tensor.shapes import MakeVector

    n = shape.type.shape[0]  # type: ignore[attr-defined]
    if isinstance(shape, Constant):
        return [int(s) for s in shape.data]
    if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
        return [int(v.data) if isinstance(v, Constant) else None for v in shape.owner.inputs]
    return [None] * n


def sum_to(g: Variable, x: Variable) -> Variable:
    """Reduce gradient ``g`` (of a broadcast result) to the shape of input ``x``.

    Static length-1 dimensions of ``x`` are summed directly; dimensions of unknown length go
    through :class:`SumToShape`, which decides at run time. The result has ``x``'s dtype.
    """
    from gnomon.tensor.basic import cast
    from gnomon.tensor.shapes import make_vector

    g = cast(g, x.dtype) if g.dtype != x.dtype else g
    if g.ndim > x.ndim:
        from gnomon.tensor.reduce import sum as _sum

        g = _sum(g, axis=tuple(range(g.ndim - x.ndim)))
    static_axes = tuple(
        i for i, (a, b) in enumerate(zip(x.type.shape, g.type.shape, strict=True))  # type: ignore[attr-defined]
        if a == 1 and b != 1
    )
    if static_axes:
        from gnomon.tensor.reduce import sum as _sum

        g = _sum(g, axis=static_axes, keepdims=True)
    runtime = any(
        a is None and b != 1 for a, b in zip(x.type.shape, g.type.shape, strict=True)  # type: ignore[attr-defined]
    )
    if runtime:
        # Only the dimensions that might have been broadcast need a run-time decision.
        g = SumToShape()(g, make_vector(*shape_tuple(x)))
    return g
