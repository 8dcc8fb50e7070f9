"""Helpers that generated kernels call at run time.

``block_sum(b, m, acc, zero)`` adds ``b[:m]`` to ``acc`` with eight partial sums (which LLVM
keeps in one SIMD register), the way a fused reduction adds up one block of values; the
result is as accurate as NumPy's pairwise sum over a block, and several times faster than
one sequential chain of additions, whose latency bounds it.

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


@numba.njit(inline="always")
def block_sum(b, m, acc, zero):
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    k = 0
    while k + 8 <= m:
        s0 += b[k]
        s1 += b[k + 1]
        s2 += b[k + 2]
        s3 += b[k + 3]
        s4 += b[k + 4]
        s5 += b[k + 5]
        s6 += b[k + 6]
        s7 += b[k + 7]
        k += 8
    r = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while k < m:
        r += b[k]
        k += 1
    return acc + r
