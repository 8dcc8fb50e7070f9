"""``as_op``: a Python function on NumPy arrays made into an op (PyTensor's ``compile.ops``).

Examples
--------
>>> import numpy as np, gnomon, gnomon.tensor as gt
>>> from gnomon.compile.ops import as_op
>>> @as_op(itypes=[gt.dmatrix, gt.dmatrix], otypes=[gt.dmatrix])
... def numpy_dot(a, b):
...     return np.dot(a, b)
>>> x, y = gt.dmatrix("x"), gt.dmatrix("y")
>>> f = gnomon.function([x, y], numpy_dot(x, y), mode="numpy")
>>> f(np.eye(2), np.ones((2, 2))).tolist()
[[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from gnomon.errors import GnomonTypeError, with_hint
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op
from gnomon.tensor.user_op import as_type

__all__ = ["FromFunctionOp", "as_op"]


class FromFunctionOp(Op):
    """The op :func:`as_op` makes: ``perform`` calls ``fn`` on the input arrays.

    Written with PyTensor's Op protocol (see :mod:`gnomon.tensor.user_op`), so it runs in every
    backend through its ``perform`` (Numba as a Python node, JAX through ``jax.pure_callback``).
    It has no gradient. Equal when the function, the types and the shape rule are the same.
    """

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn: Callable[..., Any], itypes: Sequence[Any], otypes: Sequence[Any],
                 infer_shape: Callable[..., Any] | None) -> None:
        self.fn = fn
        self.itypes = tuple(as_type(t) for t in itypes)
        self.otypes = tuple(as_type(t) for t in otypes)
        self.infer_shape_fn = infer_shape
        self.__doc__ = getattr(fn, "__doc__", None)

    def perform(  # type: ignore[override]  # PyTensor's protocol (adapted)
        self, node: Apply, inputs: Sequence[Any], output_storage: Any
    ) -> None:
        outs = self.fn(*inputs)
        if len(self.otypes) == 1:
            outs = [outs]
        elif not isinstance(outs, list | tuple) or len(outs) != len(self.otypes):
            raise GnomonTypeError(with_hint(
                f"{self} returned {type(outs).__name__}, but it has {len(self.otypes)} outputs",
                "return a list or tuple with one array per output type",
            ))
        for cell, value in zip(output_storage, outs, strict=True):
            cell[0] = value

    def infer_shape(  # type: ignore[override]  # PyTensor's protocol (adapted)
        self, fgraph: Any, node: Apply, input_shapes: Any
    ) -> Any:
        if self.infer_shape_fn is None:
            return None  # not known without running the function
        return self.infer_shape_fn(fgraph, node, input_shapes)

    def __str__(self) -> str:
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', self.fn)}}}"

    def __reduce__(self) -> tuple[Any, ...]:
        # As PyTensor does: by reference to the decorated module-level name (which is this op),
        # so a pickled graph holds no code; otherwise by value (the function must pickle).
        mod, name = getattr(self.fn, "__module__", None), getattr(self.fn, "__qualname__", "")
        if mod and "<" not in name and _load_back(mod, name) is self:
            return (_load_back, (mod, name))
        return (FromFunctionOp, (self.fn, self.itypes, self.otypes, self.infer_shape_fn))


def _load_back(mod: str, name: str) -> Any:
    obj: Any = importlib.import_module(mod)
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj


def as_op(itypes: Sequence[Any], otypes: Sequence[Any],
          infer_shape: Callable[..., Any] | None = None) -> Callable[[Callable[..., Any]],
                                                                     FromFunctionOp]:
    """Decorator: the function becomes an op with inputs ``itypes`` and outputs ``otypes``.

    Parameters
    ----------
    itypes, otypes : list of types or type constructors
        ``[gt.dmatrix, gt.dvector]`` or :class:`~gnomon.tensor.TensorType` instances.
    infer_shape : callable, optional
        ``infer_shape(fgraph, node, input_shapes)`` returning one shape tuple per output, as in
        PyTensor (``fgraph`` is ``None`` in gnomon). Without it, output shapes are known only
        by running the function (``mode='jax'`` then runs op by op).

    Returns
    -------
    callable
        Applied to a function of NumPy arrays returning one array (or a list with one per
        output), gives a :class:`FromFunctionOp`: call it on variables to build nodes.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> @as_op(itypes=[gt.dvector], otypes=[gt.dvector],
    ...        infer_shape=lambda fgraph, node, shapes: [shapes[0]])
    ... def cumulative_max(v):
    ...     return np.maximum.accumulate(v)
    >>> v = gt.dvector("v")
    >>> cumulative_max(v).eval({v: np.array([1.0, 3.0, 2.0])}, mode="numpy").tolist()
    [1.0, 3.0, 3.0]
    """
    if not isinstance(itypes, list | tuple) or not isinstance(otypes, list | tuple):
        raise GnomonTypeError(with_hint(
            "as_op takes itypes and otypes as lists of types",
            "write @as_op(itypes=[gt.dvector], otypes=[gt.dscalar])",
        ))
    if infer_shape is not None and not callable(infer_shape):
        raise GnomonTypeError("as_op's infer_shape must be a function (fgraph, node, "
                              "input_shapes) -> list of shape tuples")

    def decorator(fn: Callable[..., Any]) -> FromFunctionOp:
        # make_node comes from itypes/otypes (the adapter), which mypy does not see
        return FromFunctionOp(fn, itypes, otypes, infer_shape)  # type: ignore[abstract]

    return decorator
