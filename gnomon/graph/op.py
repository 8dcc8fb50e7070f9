"""The base class of operations.

An op is a frozen dataclass: its fields are its parameters, equality and hashing come from them,
and so two ops built with the same parameters are the same op for interning. Everything about an
op lives next to its definition:

* ``make_node(*inputs)`` — checks and converts inputs, computes output types; returns an Apply.
* ``perform(node, inputs)`` — the NumPy reference implementation; returns a tuple of outputs and
  never mutates its inputs.
* ``infer_shape(node, input_shapes)`` — the output shapes as tuples of symbolic int64 scalars,
  computed from the input shapes without computing the outputs.
* ``pullback(node, output_grads)`` — the vector-Jacobian product; ``None`` for an input with no
  gradient (integers, indices), :func:`grad_undefined` for a gradient that does
  not exist.
* ``pushforward(node, tangents)`` — the Jacobian-vector product, where it is cheaper than the
  default (which transposes the pullback).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from gnomon.graph.basic import Apply, Variable


class Op(abc.ABC):
    """Abstract base of every op. Concrete ops are ``@dataclass(frozen=True)`` subclasses."""

    @abc.abstractmethod
    def make_node(self, *inputs: Any) -> Apply:
        """Build the node ``self(*inputs)`` (interned)."""

    @abc.abstractmethod
    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        """Reference implementation with NumPy; must not mutate ``inputs``."""

    def __call__(self, *inputs: Any) -> Any:
        node = self.make_node(*inputs)
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Variable, ...]]
    ) -> list[tuple[Variable, ...]] | None:
        """Symbolic output shapes; ``None`` means "not known without computing the output"."""
        return None

    def pullback(
        self, node: Apply, output_grads: Sequence[Variable | None]
    ) -> Sequence[Variable | NullGrad | None]:
        """Vector-Jacobian product: the gradients of the inputs given those of the outputs."""
        return [grad_not_implemented(self, i, v) for i, v in enumerate(node.inputs)]

    def pushforward(
        self, node: Apply, tangents: Sequence[Variable | None]
    ) -> Sequence[Variable | None] | None:
        """Jacobian-vector product; ``None`` lets :mod:`gnomon.gradient` derive it."""
        return None

    # Ops whose outputs view (alias) an input declare it, so the runtime never hands a user a
    # view of their own argument or of a shared variable's storage.
    view_map: ClassVar[dict[int, int]] = {}

    def __str__(self) -> str:
        return type(self).__name__


class NullGrad:
    """Returned by a pullback for an input whose gradient is undefined or not implemented.

    Harmless unless the gradient is actually needed, in which case :func:`gnomon.grad` raises
    :class:`~gnomon.errors.NullGradientError` naming the op and the user's line. Defined next to
    :class:`Op` (not in :mod:`gnomon.gradient`) because every op's ``pullback`` may return it.
    """

    __slots__ = ("op", "index", "reason")

    def __init__(self, op: Any, index: int, reason: str) -> None:
        self.op, self.index, self.reason = op, index, reason


def grad_undefined(op: Any, index: int, x: Any, why: str = "") -> NullGrad:
    """Mark the gradient of input ``index`` of ``op`` as mathematically undefined."""
    return NullGrad(op, index, f"the gradient is undefined{': ' + why if why else ''}")


def grad_not_implemented(op: Any, index: int, x: Any, why: str = "") -> NullGrad:
    """Mark the gradient of input ``index`` of ``op`` as not implemented (yet)."""
    return NullGrad(op, index, f"the gradient is not implemented{': ' + why if why else ''}")
