"""``Print``: an op that prints a value while a compiled function runs (PyTensor's
``pytensor.printing.Print``, re-exported by :mod:`gnomon.printing`).

Examples
--------
>>> import gnomon, gnomon.tensor as gt
>>> x = gt.dvector("x")
>>> f = gnomon.function([x], Print("x is")(x) * 2, mode="numpy")
>>> f([1.0, 2.0]).tolist()
x is __str__ = [1. 2.]
[2.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gnomon.graph.basic import Apply
from gnomon.graph.op import Op
from gnomon.tensor.basic import as_tensor

__all__ = ["Print"]


@dataclass(frozen=True)
class Print(Op):
    """``x`` unchanged; each run prints ``message attr = value`` for every name in ``attrs``
    (attributes of the array such as ``'shape'``, or methods such as ``'__str__'``, called),
    or calls ``global_fn(op, value)`` instead when it is given.

    The node runs wherever its result is needed; a ``Print`` whose result is not used by the
    outputs is removed with the rest of the unused graph (as in PyTensor). Gradients pass
    through. Backends: the NumPy reference and Numba (a Python call between compiled kernels)
    print with ``print``; JAX prints with ``jax.debug.callback``.
    """

    message: str = ""
    attrs: tuple[str, ...] = ("__str__",)
    global_fn: Callable[[Any, Any], None] | None = None

    #: folding would print while compiling, not when the function runs
    constant_foldable: ClassVar[bool] = False
    view_map = {0: 0}  # noqa: RUF012

    def __init__(self, message: str = "", attrs: Sequence[str] = ("__str__",),
                 global_fn: Callable[[Any, Any], None] | None = None) -> None:
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "attrs", tuple(attrs))
        object.__setattr__(self, "global_fn", global_fn)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor(x)
        return Apply.make(self, [x], [x.type])

    def show(self, value: Any) -> None:
        """Print ``value`` (or hand it to ``global_fn``)."""
        if self.global_fn is not None:
            self.global_fn(self, value)
            return
        for attr in self.attrs:
            v = getattr(value, attr)
            print(self.message, attr, "=", v() if callable(v) else v)

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        self.show(inputs[0])
        return (inputs[0],)

    def infer_shape(self, node: Apply, input_shapes: Sequence[Any]) -> list[Any]:
        return [tuple(input_shapes[0])]

    def pullback(self, node: Apply, output_grads: Sequence[Any]) -> list[Any]:
        return [output_grads[0]]

    def pushforward(self, node: Apply, tangents: Sequence[Any]) -> list[Any]:
        return [tangents[0]]

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"
