"""``numba_funcify(op, node)``: the lowering of one node to Numba, dispatched on the op class.

A lowering returns the *source* of a function named ``kernel`` taking one argument per node
input (NumPy arrays; 0-d arrays for scalars) and returning a tuple with one freshly allocated
array per node output (or a view, for ops that declare ``view_map``). The source must be valid
in nopython mode with ``math``, ``np`` (NumPy) and ``numba`` in scope; the linker adds the
``@numba.njit(cache=True)`` decorator and writes it to the disk cache (Numba can only cache
functions that live in real files, which is why lowerings produce source, not closures).

Ops without a lowering raise ``NotLoweredError`` here; the linker then runs the node
with its NumPy ``perform`` between compiled nodes (listed in ``docs/backends.md``).

Lowerings live in one module per op family, import the op classes they lower and register
themselves on import (``gnomon/backends/numba/__init__.py`` imports every family module)::

    @numba_funcify.register
    def _(op: Sum, node: Apply) -> str:
        return "def kernel(x):\\n    ..."
"""

from __future__ import annotations

import functools
from typing import Any

from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op


@functools.singledispatch
def numba_funcify(op: Op, node: Apply) -> str:
    """Source of an njit-able ``kernel(*inputs) -> tuple(outputs)`` computing ``node``."""
    raise NotLoweredError(f"no Numba lowering for {type(op).__name__}")


def has_lowering(op_class: type) -> bool:
    """Whether ``op_class`` has its own lowering (not the NotImplementedError default).

    The family modules register their lowerings when :mod:`gnomon.backends.numba` is imported,
    which importing this module does first.
    """
    return numba_funcify.dispatch(op_class) is not numba_funcify.dispatch(object)


def indent(lines: list[str], n: int) -> list[str]:
    pad = "    " * n
    return [pad + ln if ln else ln for ln in lines]


def dims(k: int) -> str:
    """``'i0, i1'`` style index tuple text for ``k`` loop variables (``'()'`` for none)."""
    return ", ".join(f"i{d}" for d in range(k)) if k else "()"


def shape_tuple_text(names: list[str]) -> str:
    if not names:
        return "()"
    return "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"


def copy_loops(dst: str, src: str, nd: int) -> list[str]:
    """Loops copying ``src`` (``nd`` dimensions) element by element into the same indices of
    ``dst`` (at least as large).

    Instead of ``dst[:, :] = src``: Numba's array-to-slice assignment formats its
    shape-mismatch message at run time, and typing that string code took ~4 s of CPU the first
    time in each process (the shapes here always match by construction).
    """
    if nd == 0:
        return [f"{dst}[()] = {src}[()]"]
    ix = ", ".join(f"c{d}_" for d in range(nd))
    lines = ["    " * d + f"for c{d}_ in range({src}.shape[{d}]):" for d in range(nd)]
    return [*lines, "    " * nd + f"{dst}[{ix}] = {src}[{ix}]"]


def unused(*_: Any) -> None:  # pragma: no cover - keeps linters quiet in generated code
    return None
