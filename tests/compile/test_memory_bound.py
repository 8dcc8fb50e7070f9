"""Memory of dropped functions (issue 13 goal 4): building and dropping 200 functions that
differ only in their constants (a model rebuilt with new data or priors) leaves resident memory
bounded, because they share compiled kernels and program (Numba cannot free machine code it
has compiled, so sharing is what keeps memory bounded; see docs/compile-time.md). No timing
assertion: the bound is on memory only."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="resident memory read from /proc/self/statm")


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_200_dropped_functions_keep_resident_memory_bounded() -> None:
    x = gt.dvector("x")
    xv = np.linspace(0.0, 1.0, 4096)

    def build_and_call(k: int) -> None:
        # a small graph (a fused sum and an elementwise output) whose constants change from
        # one function to the next
        c = 0.01 * (k + 1)
        f = gnomon.function([x], [gt.sum(gt.exp(x * c) + c), x * c - 1.0],
                            mode=gnomon.Mode("numba", tiered="off"))
        s, e = f(xv)
        np.testing.assert_allclose(s, np.sum(np.exp(xv * c) + c), rtol=1e-12)
        np.testing.assert_allclose(e, xv * c - 1.0, rtol=1e-15)

    for k in range(10):  # compiles once; the rest of the growth is allocator warm-up
        build_and_call(k)
    gc.collect()
    before = _rss_mib()
    for k in range(10, 210):
        build_and_call(k)
    gc.collect()
    grown = _rss_mib() - before
    # one compiled program of this size costs ~4-5 MiB resident; 200 of them would be ~1 GiB
    assert grown < 40, f"resident memory grew by {grown:.1f} MiB over 200 dropped functions"
