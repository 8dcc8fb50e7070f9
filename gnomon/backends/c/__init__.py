"""The C backend (``mode="c"``): each node lowered to a C kernel, the whole program compiled
with the machine's C compiler into a small CPython extension module (cached on disk, signed),
and :func:`gnomon.export_c` to write a graph as self-contained C (no Python at run time).

See :mod:`gnomon.backends.c.linker` (how a program is compiled), :mod:`gnomon.backends.c.dispatch`
(how ops are lowered), :mod:`gnomon.backends.c.cache` (the disk cache) and ``docs/c-backend.md``.
``mode="c"`` is never the default mode.
"""

from __future__ import annotations

# The modules that register lowerings, one per op family (imported for their registrations).
from gnomon.backends.c import blas, elemwise, linalg, reduce, shape  # noqa: F401

UNLOWERED: dict[type, str] = {}
