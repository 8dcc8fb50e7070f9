"""``CompiledProgram``: what every backend's ``compile_program(program)`` returns.

One contract for all linkers (``numpy``, ``numba``, ``jax``): :class:`~gnomon.compile.function.
Function` reads these fields and nothing else, so a new backend knows exactly what to provide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gnomon.compile.function import Function
    from gnomon.graph.type import Type


@dataclass(frozen=True, eq=False)
class CompiledProgram:
    """A compiled :class:`~gnomon.compile.schedule.Program`.

    Attributes
    ----------
    run : callable
        ``run(values) -> outputs``: one value per program input (explicit inputs, then shared
        variables), a list with one value per program output (user outputs, then update values).
    outputs_never_alias : bool
        The outputs are fresh arrays or immutable (JAX arrays), never views of an input, a
        constant, shared storage or each other, so :class:`Function` copies nothing and checks
        no memory. False (the safe default) when an op's ``perform`` may return a view.
    input_filter : callable or None
        ``input_filter(type)`` returns the input check for an input of that type (the signature
        of ``Type.filter``); None uses each type's own ``filter``.
    accepts_foreign_arrays : bool
        ``run`` accepts the backend's own array types (JAX arrays held by shared variables)
        without a conversion to NumPy.
    jax_fn : callable or None
        ``jax_fn(function)``: the pure JAX callable of a ``mode='jax'`` function (what
        ``Function.jax_fn`` returns); None for the other backends.
    state : object
        The backend's own object (``JaxThunk``, ``NumbaProgram``), for the backend's helpers and
        for tests: whether a Numba program runs in nopython mode, whether JAX fell back to eager.
    direct : callable or None
        ``direct()`` returns, once the backend has one, an :class:`EntryPoint`: a faster way
        to compute ``run``'s outputs for arguments of the inputs' types whose memory layout
        it states, or None while there is none. :class:`Function` calls it, behind its input
        checks (or only the layout's with ``trust_input``), for functions without updates,
        shared inputs or copies (the Numba program's compiled entry point, without the
        dispatcher's typing of the arguments).
    """

    run: Callable[[list[Any]], list[Any]]
    outputs_never_alias: bool = False
    input_filter: Callable[[Type], Callable[..., Any]] | None = None
    accepts_foreign_arrays: bool = False
    jax_fn: Callable[[Function], Callable[..., Any]] | None = None
    state: Any = None
    direct: Callable[[], EntryPoint | None] | None = None

    def __call__(self, values: list[Any]) -> list[Any]:
        return self.run(values)


@dataclass(frozen=True, eq=False)
class EntryPoint:
    """A backend's direct way to run a program (``CompiledProgram.direct``).

    ``call(*inputs, *extra)`` returns the tuple of the program's outputs, the same values as
    ``run`` (outputs that never alias an argument), for arguments that are ndarrays of the
    inputs' types (dtype, rank, static lengths) and have every memory property ``flags``
    names for them. For other arguments it may raise (the caller then takes ``run``'s path,
    which gives the result or the error), but it must never compute something else.

    Attributes
    ----------
    call : callable
        ``call(*inputs, *extra) -> tuple`` (the compiled code's own entry).
    flags : tuple of tuple of str
        For each program input, the attributes of ``ndarray.flags`` that must be true
        (``("carray",)``: C-contiguous, aligned and writeable), ``()`` for none.
    extra : tuple
        Values passed after the inputs (the program's constants).
    native : callable or None
        ``native(entry, usual, single, types)``: :class:`Function`'s direct call (the
        entry point behind the argument tests, every other call to ``usual``) as a C object,
        or None where the backend cannot make one (no C compiler); see
        :func:`gnomon.backends.native_call.caller`. None: Function generates it in Python.
    """

    call: Callable[..., tuple[Any, ...]]
    flags: tuple[tuple[str, ...], ...]
    extra: tuple[Any, ...] = ()
    native: Callable[..., Callable[..., Any] | None] | None = None
