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
        ``direct()`` returns, once the backend has it, a callable ``entry(*values) -> tuple``
        computing the same outputs as ``run`` for arguments the input checks would accept
        (it may raise for others, never compute something else), or None while there is none.
        :class:`Function` calls it with ``trust_input`` (the Numba program's compiled entry
        point, without the dispatcher's typing of the arguments).
    """

    run: Callable[[list[Any]], list[Any]]
    outputs_never_alias: bool = False
    input_filter: Callable[[Type], Callable[..., Any]] | None = None
    accepts_foreign_arrays: bool = False
    jax_fn: Callable[[Function], Callable[..., Any]] | None = None
    state: Any = None
    direct: Callable[[], Callable[..., Any] | None] | None = None

    def __call__(self, values: list[Any]) -> list[Any]:
        return self.run(values)
