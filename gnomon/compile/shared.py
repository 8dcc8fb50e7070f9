"""Shared variables: graph roots whose value lives between calls of compiled functions.

Each shared variable owns a lock. A compiled function with ``updates`` holds the locks of the
shared variables it reads or writes while it reads their values, runs and writes the new values,
so that concurrent calls never lose an update (see :class:`gnomon.Function`).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError
from gnomon.graph.basic import Variable
from gnomon.tensor.type import TensorType
from gnomon.tensor.variable import TensorOperators


class SharedVariable(Variable):
    """A root variable with a value stored in the variable itself.

    Every compiled function that uses it reads the current value when called; ``updates`` of
    :func:`gnomon.function` write new values after the outputs are computed.

    It pickles with its value; within one pickle it keeps its identity, so a pickled function
    and the shared variables pickled along with it stay connected.
    """

    __slots__ = ("_value", "_lock")

    def __init__(self, type: Any, value: Any, name: str | None = None) -> None:
        super().__init__(type, None, None, name)
        self._value = value
        # Reentrant: an op running inside a locked call (a Python fallback calling another
        # compiled function, or set_value) must not deadlock its own thread.
        self._lock = threading.RLock()

    def get_value(self, borrow: bool = False) -> Any:
        """The current value; a copy unless ``borrow=True`` (then mutating it changes this
        variable's value)."""
        return self._value if borrow else np.array(self._value, copy=True)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value, checked against the type; copied unless ``borrow=True``."""
        v = self.type.filter(value, name=f"shared variable {self.name or '<unnamed>'}")
        if not borrow and v is value:
            v = np.array(v, copy=True)
        with self._lock:  # not in the middle of a call that updates this variable
            self._value = v

    @property
    def value(self) -> Any:
        return self.get_value()

    def clone(self, name: str | None = None) -> SharedVariable:
        return self  # shared variables keep their identity in cloned graphs

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["_lock"]  # a lock is per process; loading makes a new one
        if not isinstance(state["_value"], np.ndarray):
            # A JAX array (written by a mode='jax' update) is stored as host data, so that
            # loading needs no JAX.
            state["_value"] = np.array(state["_value"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._lock = threading.RLock()


class TensorSharedVariable(TensorOperators, SharedVariable):
    """A shared array."""

    __slots__ = ()
    type: TensorType


def shared(
    value: Any,
    name: str | None = None,
    *,
    borrow: bool = False,
    shape: tuple[int | None, ...] | None = None,
    dtype: Any = None,
    broadcastable: tuple[bool, ...] | None = None,
) -> TensorSharedVariable:
    """A variable whose value persists between calls and that ``updates`` can change.

    Parameters
    ----------
    value : array-like or numpy.random.Generator
        The initial value; copied unless ``borrow=True``. A generator gives a shared random
        generator (:class:`gnomon.random.RandomGeneratorSharedVariable`).
    name : str, optional
    borrow : bool
        Alias ``value`` instead of copying it.
    shape : tuple of int or None, optional
        Static shape; by default every dimension may change with ``set_value``.
    dtype : dtype-like, optional
        Convert the value to this dtype.
    broadcastable : tuple of bool, optional
        PyTensor's way to give a static shape: ``True`` marks a dimension of static length 1
        (``shape`` with ``1`` there and ``None`` elsewhere). Not together with ``shape``.

    Examples
    --------
    >>> import numpy as np, gnomon
    >>> w = gnomon.shared(np.zeros(3), name="w")
    >>> w.set_value(np.ones(3))
    >>> w.get_value().tolist()
    [1.0, 1.0, 1.0]
    """
    if isinstance(value, np.random.Generator):
        from gnomon.random.type import shared_rng

        return shared_rng(value, name, borrow=borrow)  # type: ignore[return-value]
    if isinstance(value, Variable):
        raise GnomonTypeError(
            f"shared() needs a value, got the symbolic variable {value}.\n"
            "Hint: evaluate it first (value.eval()) or use it directly in the graph."
        )
    arr = np.asarray(value, dtype=dtype) if borrow else np.array(value, dtype=dtype, copy=True)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise GnomonTypeError(f"shared() needs a numeric array, got {type(value).__name__}")
    if broadcastable is not None:
        if shape is not None:
            raise GnomonTypeError("shared(): give shape= or broadcastable=, not both")
        if len(broadcastable) != arr.ndim:
            raise GnomonTypeError(
                f"shared(): broadcastable={tuple(broadcastable)} has {len(broadcastable)} "
                f"entries for a value with {arr.ndim} dimension(s)")
        shape = tuple(1 if b else None for b in broadcastable)
    t = TensorType(arr.dtype.name, shape if shape is not None else (None,) * arr.ndim)
    t.filter(arr, name=f"shared variable {name or '<unnamed>'}")
    return TensorSharedVariable(t, arr, name)
