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

User ops written with PyTensor's protocol (``perform(self, node, inputs, output_storage)``,
``itypes``/``otypes``, ``__props__``, ``grad``/``L_op``/``R_op``, ``infer_shape(self, fgraph,
node, input_shapes)``) subclass this same class: :meth:`Op.__init_subclass__` recognises them and
hands the class to the adapter in :mod:`gnomon.tensor.user_op`, which gives it the methods above.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from gnomon.graph.basic import Apply, Variable


#: Installed by :mod:`gnomon.tensor.user_op` (a higher layer, which this module must not import):
#: adapts a class written with PyTensor's Op protocol to gnomon's.
_USER_OP_ADAPTER: Callable[[type], None] | None = None


def set_user_op_adapter(adapter: Callable[[type], None]) -> None:
    """Install the function that adapts PyTensor-protocol subclasses (called once, on import)."""
    global _USER_OP_ADAPTER
    _USER_OP_ADAPTER = adapter


def uses_pytensor_protocol(cls: type) -> bool:
    """Whether ``cls`` is written with PyTensor's Op protocol rather than gnomon's.

    Recognised by ``perform(self, node, inputs, output_storage)`` (gnomon's ``perform`` takes
    two arguments and returns its outputs), ``itypes``/``otypes`` or ``__props__`` in the class
    body, or a base class that is such an op.
    """
    if any(getattr(b, "_pytensor_protocol", False) for b in cls.__mro__[1:]):
        return True
    body = cls.__dict__
    if "itypes" in body or "otypes" in body or "__props__" in body:
        return True
    perform = body.get("perform")
    code = getattr(perform, "__code__", None)
    return code is not None and code.co_argcount >= 4


class Op(abc.ABC):
    """Abstract base of every op. Concrete ops are ``@dataclass(frozen=True)`` subclasses.

    A user op may instead follow PyTensor's protocol (see :mod:`gnomon.tensor.user_op`).
    """

    #: set on classes written with PyTensor's Op protocol (adapted on class creation)
    _pytensor_protocol: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Runs before ABCMeta computes the abstract methods, so the methods the adapter adds
        # (make_node from itypes/otypes, perform) make the class concrete.
        if uses_pytensor_protocol(cls):
            if _USER_OP_ADAPTER is None:  # pragma: no cover - gnomon/__init__ installs it
                raise TypeError(f"{cls.__name__} uses PyTensor's Op protocol; import gnomon "
                                "(or gnomon.tensor) before defining it")
            _USER_OP_ADAPTER(cls)

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
