"""Helpers that generated kernels call at run time.

``empty(shape, dtype)`` is ``np.empty`` that, for large arrays, asks the kernel for transparent
huge pages (``madvise(MADV_HUGEPAGE)``), as NumPy's own allocator does. Without it, the first
write to each 4 KiB page of a fresh output faults separately, which makes a memory-bound loop
over 10M elements several times slower than the loop itself.
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_LINUX = sys.platform.startswith("linux")
_MADV_HUGEPAGE = 14
_PAGE = 4096
#: arrays at least this large (bytes) get the advice
HUGE = 1 << 22


@intrinsic
def _madvise_huge(typingctx, ptr, nbytes):
    """``madvise(ptr, nbytes, MADV_HUGEPAGE)`` on the page-aligned part of the range."""
    sig = types.void(types.intp, types.intp)

    def codegen(context, builder, signature, args):
        p, n = args
        i = ir.IntType(64)
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(8).as_pointer(), i, ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "madvise")
        start = builder.and_(builder.add(p, i(_PAGE - 1)), i(~(_PAGE - 1)))
        end = builder.and_(builder.add(p, n), i(~(_PAGE - 1)))
        with builder.if_then(builder.icmp_signed(">", end, start)):
            builder.call(fn, [builder.inttoptr(start, ir.IntType(8).as_pointer()),
                              builder.sub(end, start), ir.IntType(32)(_MADV_HUGEPAGE)])
        return context.get_dummy_value()

    return sig, codegen


if _LINUX:
    @numba.njit(inline="always")
    def empty(shape, dtype):
        out = np.empty(shape, dtype)
        if out.nbytes >= HUGE:
            _madvise_huge(out.ctypes.data, out.nbytes)
        return out
else:  # pragma: no cover
    @numba.njit(inline="always")
    def empty(shape, dtype):
        return np.empty(shape, dtype)
