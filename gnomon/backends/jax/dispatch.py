"""The JAX lowering registry: ``jax_funcify(op, node)`` turns one node into a function of JAX
arrays, ``jax_scalar_funcify(scalar_op, in_dtypes, out_dtypes)`` does the same for the scalar op
inside an :class:`~gnomon.tensor.elemwise.Elemwise`.

Both are :func:`functools.singledispatch` functions keyed on the op class; each op family
registers its lowerings in its own module of this package (``scalar.py``, ``shape.py``,
``reduce.py`` ...). An op with no lowering raises :class:`~gnomon.errors.NotLoweredError` when a
function using it is compiled, never later.

Values that must be known when JAX traces the graph (shapes given to ``alloc`` or ``reshape``,
the length of ``arange``) are read with :func:`static_int` / :func:`static_array`. Inside the
traced function, nodes whose inputs are all concrete NumPy values (constants, shapes of traced
arrays, arithmetic on them) are evaluated with NumPy at trace time, so a shape computed from
input *shapes* is static; a shape computed from input *values* is a tracer, and reading it raises
:class:`NeedsConcreteValue`, which the linker turns into an eager (op-by-op) fallback or a clear
error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from gnomon.errors import GnomonValueError, NotLoweredError, node_context, with_hint
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op

JaxFn = Callable[..., Any]


class NeedsConcreteValue(GnomonValueError):
    """A value needed at trace time (a shape, a length, a boolean mask) depends on input values.

    Raised while ``jax.jit`` traces a graph; the linker catches it and runs the function op by
    op instead (see :mod:`gnomon.backends.jax.linker`).
    """


@functools.singledispatch
def jax_funcify(op: Op, node: Apply) -> JaxFn:
    """Return a function computing ``node``'s outputs from JAX arrays (its inputs, in order).

    The function returns one array for a single-output node, or a tuple. Register a lowering
    for a new op class with ``@jax_funcify.register(MyOp)``.

    Examples
    --------
    >>> import jax, gnomon.tensor as gt
    >>> x = gt.dmatrix("x")
    >>> node = gt.sum(x, axis=0).owner
    >>> f = jax_funcify(node.op, node)
    >>> with jax.enable_x64(True):  # the node computes in float64
    ...     f(np.ones((2, 3))).tolist()
    [2.0, 2.0, 2.0]
    """
    if getattr(op, "_pytensor_protocol", False):
        # a user's op (PyTensor's protocol): its Python perform through jax.pure_callback
        from gnomon.backends.jax.callback import callback_lowering

        return callback_lowering(op, node)
    raise NotLoweredError(with_hint(
        f"mode='jax' has no lowering for the op {op} ({type(op).__module__}."
        f"{type(op).__qualname__}).\n{node_context(node)}",
        "compile this function with mode='numpy' (or 'numba'), or register a lowering with "
        "gnomon.backends.jax.jax_funcify.register(OpClass)",
    ))


@functools.singledispatch
def jax_scalar_funcify(
    scalar_op: Any, in_dtypes: Sequence[str], out_dtypes: Sequence[str]
) -> JaxFn:
    """Return an elementwise function of JAX arrays for ``scalar_op``.

    ``in_dtypes`` and ``out_dtypes`` are the dtypes of the Elemwise node; the returned function
    must give results of exactly ``out_dtypes`` (NumPy's rules), so lowerings cast their inputs
    where JAX's promotion rules differ from NumPy's.
    """
    raise NotLoweredError(with_hint(
        f"mode='jax' has no lowering for the scalar op {scalar_op} "
        f"({type(scalar_op).__module__}.{type(scalar_op).__qualname__}).",
        "compile this function with mode='numpy' (or 'numba'), or register a lowering with "
        "gnomon.backends.jax.jax_scalar_funcify.register(ScalarOpClass)",
    ))


# --- values needed at trace time -----------------------------------------------------------


def is_concrete(v: Any) -> bool:
    """True for values known at trace time (NumPy arrays and scalars; not JAX tracers)."""
    return isinstance(v, np.ndarray | np.generic | int | float | bool)


def is_tracer(v: Any) -> bool:
    """True for abstract values JAX is tracing (their shape is known, their value is not)."""
    return isinstance(v, jax.core.Tracer)


def static_array(v: Any, node: Apply, what: str) -> np.ndarray:
    """The value of ``v`` as a NumPy array, which must be known at trace time.

    Raises :class:`NeedsConcreteValue` (naming ``what`` and the node) when ``v`` is computed from
    the values of the function's inputs.
    """
    if is_tracer(v):
        raise NeedsConcreteValue(with_hint(
            f"{node.op} needs {what} when the graph is compiled, but under jax.jit it is "
            f"computed from the values of the inputs, not from their shapes or constants.\n"
            f"{node_context(node)}",
            "compute it from shapes (x.shape[0]) or constants, or compile with mode='numpy' or "
            "'numba'; gnomon.function(mode='jax') falls back to running op by op (slow)",
        ))
    return np.asarray(v)


def static_int(v: Any, node: Apply, what: str) -> int:
    """The value of the integer scalar ``v``, which must be known at trace time."""
    return int(static_array(v, node, what))


def static_ints(vs: Sequence[Any], node: Apply, what: str) -> tuple[int, ...]:
    """Several integer scalars known at trace time (a shape given as scalars)."""
    return tuple(static_int(v, node, what) for v in vs)
