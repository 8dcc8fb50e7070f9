"""Memory of dropped functions (issue 13 goal 4): building and dropping 200 functions that
differ only in their constants (a model rebuilt with new data or priors) leaves resident memory
bounded, because they share compiled kernels and program; functions that differ in structure
give their compiled code back when dropped (gnomon.backends.numba.release; figures in
docs/compile-time.md). No timing assertion: the bounds are on memory only."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="resident memory read from /proc/self/statm")


def _rss_mib() -> float:
    import ctypes

    # freed C memory counts as freed (glibc keeps it mapped until trimmed)
    ctypes.CDLL("libc.so.6").malloc_trim(0)
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


@pytest.mark.skipif(os.environ.get("GNOMON_NUMBA_RELEASE", "1").strip().lower() in (
    "0", "off", "false", "no"), reason="GNOMON_NUMBA_RELEASE=0 turns the release off")
def test_dropped_distinct_functions_release_their_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Functions that differ in structure share nothing: each one's kernels and program are
    released once it is dropped (gnomon.backends.numba.release). 200 of them would take minutes
    of Numba compiling, so 12 are built: before the release existed each kept ~5 MiB resident
    (+64 MiB for 12), now ~1 MiB (docs/compile-time.md, 'Memory of dropped functions')."""
    import weakref

    from numba.core.dispatcher import Dispatcher

    from gnomon.backends.numba import cache, release

    monkeypatch.setattr(release, "IDLE_KEEP", 0)  # release at once, not after 32 idle modules
    x = gt.dvector("x")
    xv = np.linspace(0.1, 0.9, 257)
    ops = [(gt.exp, np.exp), (gt.sin, np.sin), (gt.cos, np.cos), (gt.tanh, np.tanh),
           (gt.arctan, np.arctan), (gt.expm1, np.expm1), (gt.log1p, np.log1p),
           (gt.sqrt, np.sqrt), (gt.arcsinh, np.arcsinh), (gt.log, np.log)]
    pairs = [(a, b) for a in ops for b in ops if a is not b]
    mode = gnomon.Mode("numba", tiered="off")
    dead: list[weakref.ref[Dispatcher]] = []

    def build_and_drop(k: int) -> None:
        (g1, n1), (g2, n2) = pairs[k * 7 % len(pairs)]  # distinct pairs, spread over ops
        f = gnomon.function([x], g2(g1(x)) * 0.5, mode=mode)
        with np.errstate(invalid="ignore"):  # log of a negative log: NaN in both
            np.testing.assert_allclose(f(xv), n2(n1(xv)) * 0.5, rtol=1e-13)
        for name in f.compiled.state.users.names:
            dead.extend(weakref.ref(d) for d in vars(cache._MODULES[name]).values()
                        if isinstance(d, Dispatcher) and d.py_func.__module__ == name)

    def release_dropped() -> None:  # (else done by the next compiles)
        # a dropped Function may sit in a reference cycle; once it is collected its modules
        # are released, its dispatchers become garbage (a kernel one collection after its
        # program) and the next collect() removes their LLVM modules from Numba's engine
        for _ in range(4):
            gc.collect()
            release.collect()

    for k in range(2):  # Numba's own first compiles (its runtime, array helpers) stay
        build_and_drop(k)
    release_dropped()
    before = _rss_mib()
    dead.clear()
    for k in range(2, 14):
        build_and_drop(k)
    release_dropped()
    grown = _rss_mib() - before
    # the dropped functions' dispatchers (kernels and programs) are gone, not kept by Numba
    assert len(dead) == 24  # a kernel and a program each
    assert all(r() is None for r in dead), f"{sum(r() is not None for r in dead)} alive"
    assert grown < 30, f"resident memory grew by {grown:.1f} MiB over 12 dropped functions"
