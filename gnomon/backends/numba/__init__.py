"""The Numba backend: each node lowered to a small cached ``@njit`` kernel, the whole program
compiled as one more ``@njit`` function calling them, with a disk cache of compiled code.

See :mod:`gnomon.backends.numba.linker` for how a program is compiled,
:mod:`gnomon.backends.numba.dispatch` for how ops are lowered and
:mod:`gnomon.backends.numba.cache` for the disk cache (``python -m gnomon.backends.numba.cache
list|clear``).
"""

from __future__ import annotations

# The modules that register lowerings, one per op family: imported for their registrations
# (a missing module is an error, never skipped).
from gnomon.backends.numba import (  # noqa: F401
    basic,
    blas,
    compat,
    control,
    elemwise,
    indexing,
    linalg,
    logprob,
    random,
    reduce,
    scalar,
    shape,
    sort,
    special,
)
from gnomon.compile.ops import FromFunctionOp
from gnomon.tensor.debug import Print

#: numba becomes gnomon's default mode once every op in the op-records table passes on it.
READY = True

#: The op classes (and scalar op classes) with no Numba lowering, with the reason: their nodes
#: run with the op's NumPy ``perform`` between compiled kernels. ``docs/backends.md`` shows this
#: table, and ``tests/backends/test_unlowered.py`` checks that it is exactly the set of op classes
#: without a lowering.
UNLOWERED: dict[type, str] = {
    FromFunctionOp: "it calls the user's Python function (as_op); user ops written with "
                    "PyTensor's protocol run the same way",
    Print: "it prints from Python (a call between compiled kernels, where the value exists)",
}

# lowerings handed over by the layers above (gnomon.ppl's private ops): registered now
from gnomon.backends import backend_loaded as _backend_loaded  # noqa: E402

_backend_loaded("numba")
