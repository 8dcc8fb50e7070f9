"""Memory of dropped functions (issue 13 goal 4): a loop that builds, calls and drops 200
functions keeps resident memory bounded (gnomon.backends.numba.release; figures in
docs/compile-time.md, 'Memory of dropped functions'). No timing assertion: the bounds are on
memory only."""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import weakref
from typing import Any

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="resident memory read from /proc/self/statm")
_RELEASE_OFF = os.environ.get("GNOMON_NUMBA_RELEASE", "1").strip().lower() in (
    "0", "off", "false", "no")


def _rss_mib() -> float:
    # freed C memory counts as freed (glibc keeps it mapped until trimmed)
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _release_dropped() -> None:
    """What the next compiles would do: a dropped Function may sit in a reference cycle; once
    it is collected its modules are released, its dispatchers become garbage (a kernel one
    collection after its program) and the next collect() removes their LLVM modules from
    Numba's engine."""
    from gnomon.backends.numba import release

    for _ in range(4):
        gc.collect()
        release.collect()


@pytest.mark.skipif(_RELEASE_OFF, reason="GNOMON_NUMBA_RELEASE=0 turns the release off")
def test_200_dropped_functions_keep_resident_memory_bounded() -> None:
    """Builds, calls and drops 200 functions, of 16 structures (``g2(g1(x)) * c`` for 16
    pairs of elementwise ops), each structure with 12 or 13 values of the constant ``c``: the
    pattern of a model rebuilt with new priors, then another model.

    Each function loads code of its own: the release runs at once (``IDLE_KEEP = 0``), so a
    dropped function's kernel and program are released before the next function is built,
    and the next one (same structure, another ``c``: the same generated modules, since
    constants are kernel arguments) loads them again from the disk cache that the first
    function of its structure filled. So 16 functions compile and 184 load (200 dispatcher
    pairs, 400 module releases: both checked), which costs ~20 s of CPU where 200 compiles
    would cost ~1-4 min. Checks that

    * resident memory, read after every structure (``gc.collect``, ``malloc_trim(0)``,
      ``/proc/self/statm``), never grows by more than 24 MiB over its value after 2 warm-up
      structures (Numba's own first compiles stay);
    * functions differing only in ``c`` use the same generated modules, and no two
      structures share one;
    * every function's dispatchers (kernel and program) die once it is dropped.

    Why 24 MiB: measured ~10.5 MiB now (a compiled function keeps ~0.1-0.2 MiB, a loaded one
    ~0.05 MiB: docs/compile-time.md), 54 MiB with the release off (``GNOMON_NUMBA_RELEASE=0``:
    Numba keeps every dispatcher, ~0.27 MiB a function); the bound sits between with room
    for the allocator's noise in a test worker."""
    from numba.core.dispatcher import Dispatcher

    from gnomon.backends.numba import cache, release

    x = gt.dvector("x")
    xv = np.linspace(0.1, 0.9, 257)
    ops = [(gt.exp, np.exp), (gt.sin, np.sin), (gt.cos, np.cos), (gt.tanh, np.tanh),
           (gt.arctan, np.arctan), (gt.expm1, np.expm1), (gt.log1p, np.log1p),
           (gt.sqrt, np.sqrt), (gt.arcsinh, np.arcsinh), (gt.log, np.log)]
    pairs = [(a, b) for a in ops for b in ops if a is not b]
    mode = gnomon.Mode("numba", tiered="off")
    dead: list[weakref.ref[Any]] = []
    modules: list[frozenset[str]] = []

    def build_and_drop(s: int, k: int) -> frozenset[str]:
        (g1, n1), (g2, n2) = pairs[s * 7 % len(pairs)]  # distinct pairs, spread over ops
        c = 0.25 + 0.01 * k
        f = gnomon.function([x], g2(g1(x)) * c, mode=mode)
        with np.errstate(invalid="ignore"):  # log of a negative log: NaN in both
            np.testing.assert_allclose(f(xv), n2(n1(xv)) * c, rtol=1e-13)
        names = frozenset(f.compiled.state.users.names)
        for name in names:
            dead.extend(weakref.ref(d) for d in vars(cache._MODULES[name]).values()
                        if isinstance(d, Dispatcher) and d.py_func.__module__ == name)
        return names

    def structure(s: int, variants: int) -> None:
        names = {build_and_drop(s, k) for k in range(variants)}
        assert len(names) == 1, f"structure {s}: functions differing in c used {names}"
        modules.append(names.pop())

    keep = release.IDLE_KEEP
    release.IDLE_KEEP = 0  # release at once, not after 32 idle modules
    try:
        for s in range(2):  # Numba's own first compiles (its runtime, array helpers) stay
            structure(s, 2)
        _release_dropped()
        before = _rss_mib()
        dead.clear()
        modules.clear()
        released = release.released_count
        grown = []
        for s in range(2, 18):
            structure(s, 13 if s % 2 else 12)
            _release_dropped()
            grown.append(_rss_mib() - before)
        released = release.released_count - released
    finally:
        release.IDLE_KEEP = keep
    assert max(grown) < 24, (
        f"resident memory grew by {max(grown):.1f} MiB over 200 dropped functions "
        f"(after each structure: {', '.join(f'{g:.1f}' for g in grown)})")
    assert sum(13 if s % 2 else 12 for s in range(2, 18)) == 200
    assert len(set().union(*modules)) == sum(map(len, modules))  # no module shared
    assert len(dead) == 400 and released == 400  # a kernel and a program per function
    assert all(r() is None for r in dead), f"{sum(r() is not None for r in dead)} alive"


def test_numba_pass_pipelines_are_deleted() -> None:
    """llvmlite 0.50 never deletes an LLVM pass pipeline (its ``ModulePassManager`` finds
    ``ObjectRef._dispose``, a no-op, before ``NewPassManager._dispose``), and Numba builds one
    per optimization run: measured 72 KiB lost per ``-O3`` module run, 44 KiB per function
    run. gnomon's hook on Numba's codegen (``release.dispose_pass_managers``) deletes them;
    here 60 module runs through Numba's own codegen on a small module must leave < 10 KiB of
    heap each (``mallinfo2``: bytes in use, exact), the pass builder's ~1.4 KiB included."""
    if _RELEASE_OFF:
        pytest.skip("GNOMON_NUMBA_RELEASE=0 turns the hook off")
    import llvmlite.binding as ll
    from numba.core.registry import cpu_target

    import gnomon.backends.numba.linker  # noqa: F401  (installs the hooks)

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc without mallinfo2")
    libc.mallinfo2.restype = MallInfo2

    def heap_bytes() -> int:
        gc.collect()
        m = libc.mallinfo2()
        return int(m.uordblks + m.hblkhd)

    codegen = cpu_target.target_context.codegen()
    mod = ll.parse_assembly("""
        define double @f(ptr %p, i64 %n) {
        entry:
          br label %loop
        loop:
          %i = phi i64 [0, %entry], [%i1, %loop]
          %s = phi double [0.0, %entry], [%s1, %loop]
          %q = getelementptr double, ptr %p, i64 %i
          %v = load double, ptr %q
          %e = call double @llvm.exp.f64(double %v)
          %s1 = fadd double %s, %e
          %i1 = add i64 %i, 1
          %c = icmp slt i64 %i1, %n
          br i1 %c, label %loop, label %exit
        exit:
          ret double %s1
        }
        declare double @llvm.exp.f64(double)
    """)

    def optimize() -> None:
        pm, pb = codegen._module_pass_manager()  # Numba's full pipeline, as it builds it
        pm.run(mod, pb)

    for _ in range(5):  # the target's subtarget, the pass name tables: built once
        optimize()
    before = heap_bytes()
    for _ in range(60):
        optimize()
    per_run = (heap_bytes() - before) / 60
    assert per_run < 10 * 1024, f"{per_run / 1024:.1f} KiB of heap kept per pipeline run"
