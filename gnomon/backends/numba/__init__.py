"""The Numba backend: each node lowered to a small cached ``@njit`` kernel, the whole program
compiled as one more ``@njit`` function calling them, with a disk cache of compiled code.

See :mod:`gnomon.backends.numba.linker` for how a program is compiled,
:mod:`gnomon.backends.numba.dispatch` for how ops are lowered and
:mod:`gnomon.backends.numba.cache` for the disk cache (``python -m gnomon.backends.numba.cache
list|clear``).
"""

#: numba becomes gnomon's default mode once every op in the op-records table passes on it.
READY = True
