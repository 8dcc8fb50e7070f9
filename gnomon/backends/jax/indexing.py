"""JAX lowerings of indexing (:mod:`gnomon.tensor.indexing`).

``x[idx]`` becomes JAX indexing and ``set_subtensor`` / ``inc_subtensor`` become
``x.at[idx].set / .add`` (repeated indices accumulate in ``.add``, like ``np.add.at``).

What JAX cannot do under ``jax.jit`` and how it is handled:

* slice bounds, boolean masks and ``nonzero`` fix the output shape, so they must be known at
  trace time; when they come from input values the function falls back to op-by-op execution
  (see :mod:`gnomon.backends.jax.linker`);
* indices known at trace time are bounds-checked like the reference (an
  :class:`~gnomon.tensor.indexing.IndexOutOfBoundsError`); traced indices cannot be checked, and
  JAX clamps an out-of-bounds read and drops an out-of-bounds write instead of raising;
* ``set_subtensor`` with a repeated advanced index keeps one of the values: NumPy keeps the
  last, JAX does not say which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from gnomon.backends.jax.dispatch import (
    JaxFn,
    is_concrete,
    jax_funcify,
    static_array,
    static_int,
)
from gnomon.errors import node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.tensor.indexing import (
    INPUT,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    IndexOutOfBoundsError,
    NewAxis,
    Nonzero,
    SliceIndex,
    Subtensor,
)


def _key(idx_list: Sequence[Any], dyn: Sequence[Any], node: Apply) -> tuple[Any, ...]:
    """The index tuple for JAX: slice bounds and masks static, integer parts as given."""
    it = iter(dyn)

    def part(p: Any) -> Any:
        return static_int(next(it), node, "a slice bound") if p is INPUT else p

    key: list[Any] = []
    for e in idx_list:
        if isinstance(e, NewAxis):
            key.append(None)
        elif isinstance(e, SliceIndex):
            key.append(slice(part(e.start), part(e.stop), part(e.step)))
        elif e is INPUT:
            v = next(it)
            if v.dtype == np.bool_:
                # The number of selected elements is the output length: it must be static.
                key.append(static_array(v, node, "a boolean mask"))
            elif is_concrete(v):
                key.append(int(v) if np.ndim(v) == 0 else np.asarray(v))
            else:
                key.append(v)
        else:
            key.append(e)
    return tuple(key)


def _check_bounds(shape: tuple[int, ...], key: tuple[Any, ...], node: Apply) -> None:
    """Bounds-check an index known at trace time with NumPy, on a zero-stride stand-in."""
    if not all(is_concrete(k) or k is None or isinstance(k, slice) for k in key):
        return  # traced indices: JAX clamps (documented above)
    probe = np.broadcast_to(np.zeros((), dtype=bool), shape)
    try:
        probe[(*key, Ellipsis)]
    except IndexError as e:
        raise IndexOutOfBoundsError(with_hint(
            f"{e}\n{node_context(node)}",
            "check the indices (and masks) against the shape of the indexed array",
        )) from None


def _index(x: Any, key: tuple[Any, ...], node: Apply) -> Any:
    """``x[key]``; a traced index into an empty axis is out of bounds whatever its value, and
    JAX says so at trace time (IndexError, or TypeError from the gather): raise the reference's
    error class."""
    try:
        return jnp.asarray(x)[key]
    except (IndexError, TypeError) as e:
        if isinstance(e, TypeError) and 0 not in tuple(x.shape):
            raise
        raise IndexOutOfBoundsError(with_hint(
            f"{e}\n{node_context(node)}",
            "check the indices (and masks) against the shape of the indexed array",
        )) from None


def _read(op: Any, node: Apply) -> JaxFn:
    def f(x: Any, *dyn: Any) -> Any:
        key = _key(op.idx_list, dyn, node)
        _check_bounds(tuple(x.shape), key, node)
        return _index(x, key, node)

    return f


jax_funcify.register(Subtensor)(_read)
jax_funcify.register(AdvancedSubtensor)(_read)


def _check_broadcast(target: tuple[int, ...], value: tuple[int, ...], set_: bool) -> None:
    """The reference's rule for the value written into ``x[key]`` (of shape ``target``):
    NumPy broadcasting to exactly ``target`` (``x[key] = y`` may also drop leading length-1
    axes of ``y``). JAX's scatter does not check this when ``target`` is empty."""
    v = list(value)
    while set_ and len(v) > len(target) and v[0] == 1:
        v.pop(0)
    if len(v) > len(target) or any(a not in (1, b) for a, b in zip(reversed(v),
                                                                  reversed(target))):
        raise ValueError(f"could not broadcast a value of shape {tuple(value)} into the "
                         f"indexed shape {tuple(target)}")


def _write(op: Any, node: Apply) -> JaxFn:
    set_ = op.set_instead_of_inc

    def f(x: Any, y: Any, *dyn: Any) -> Any:
        key = _key(op.idx_list, dyn, node)
        _check_bounds(tuple(x.shape), key, node)
        _check_broadcast(tuple(_index(x, key, node).shape), tuple(jnp.shape(y)), set_)
        ref = jnp.asarray(x).at[key]
        return ref.set(y) if set_ else ref.add(y)

    return f


jax_funcify.register(IncSubtensor)(_write)
jax_funcify.register(AdvancedIncSubtensor)(_write)


@jax_funcify.register(Nonzero)
def _nonzero(op: Nonzero, node: Apply) -> JaxFn:
    def f(x: Any) -> Any:
        # The number of non-zero elements is the output length: the values must be static.
        idx = np.nonzero(static_array(x, node, "the values whose non-zero entries are counted"))
        return tuple(np.asarray(i, dtype="int64") for i in idx)

    return f
