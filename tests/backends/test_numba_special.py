"""Numba lowerings of the special functions (gnomon/backends/numba/special.py): SciPy's results
bit for bit, and kernels calling SciPy's exported C functions survive the disk cache across
processes (a function pointer's address differs per process; kernels must bind it by name)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parents[2]


def test_results_are_scipys_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0.1, 20, 64)
    x = np.concatenate([rng.uniform(-40, 40, 60), [0.0, np.inf, -np.inf, np.nan]])
    p = np.concatenate([rng.uniform(0, 1, 60), [0.0, 1.0, 1e-300, 0.5]])
    va, vx, vp = gt.dvector("a"), gt.dvector("x"), gt.dvector("p")
    cases = [
        (gt.ndtr(vx), sp.ndtr(x)), (gt.log_ndtr(vx), sp.log_ndtr(x)),
        (gt.ndtri(vp), sp.ndtri(p)), (gt.erfcx(vx), sp.erfcx(x)),
        (gt.erfinv(vp), sp.erfinv(p)), (gt.i0e(vx), sp.i0e(x)), (gt.i1(vx), sp.i1(x)),
        (gt.gammainc(va, gt.abs(vx)), sp.gammainc(a, np.abs(x))),
        (gt.gammaincc(va, gt.abs(vx)), sp.gammaincc(a, np.abs(x))),
        (gt.gammaincinv(va, vp), sp.gammaincinv(a, p)),
        (gt.betainc(va, va + 1, vp), sp.betainc(a, a + 1, p)),
        (gt.betaincinv(va, 2.0, vp), sp.betaincinv(a, 2.0, p)),
        (gt.betaln(va, gt.abs(vx)), sp.betaln(a, np.abs(x))),
        (gt.xlogy(vx, vp), sp.xlogy(x, p)), (gt.xlog1py(vx, vp), sp.xlog1py(x, p)),
        (gt.polygamma(3, va), sp.polygamma(3, a)),
    ]
    f = gnomon.function([va, vx, vp], [c[0] for c in cases], mode="numba")
    for k, (got, (_, want)) in enumerate(zip(f(a, x, p), cases, strict=True)):
        np.testing.assert_array_equal(got, want, err_msg=f"case {k}")


def test_float32_loops_are_scipys() -> None:
    # SciPy's float32 loops: betainc / erfinv in float, ndtr via double then rounded
    rng = np.random.default_rng(8)
    a = rng.uniform(0.1, 10, 50).astype(np.float32)
    p = rng.uniform(0, 1, 50).astype(np.float32)
    va, vp = gt.fvector("a"), gt.fvector("p")
    f = gnomon.function([va, vp], [gt.betainc(va, va, vp), gt.erfinv(vp), gt.ndtr(va),
                                   gt.xlogy(va, vp), gt.xlog1py(va, vp)], mode="numba")
    wants = [sp.betainc(a, a, p), sp.erfinv(p), sp.ndtr(a), sp.xlogy(a, p), sp.xlog1py(a, p)]
    for k, (got, want) in enumerate(zip(f(a, p), wants, strict=True)):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_array_equal(got, want, err_msg=f"case {k}")


_SCRIPT = textwrap.dedent("""
    import numpy as np, scipy.special as sp, gnomon, gnomon.tensor as gt
    gnomon.config.tiered = "off"  # compile now: the first call must run the Numba program
    import numba
    from gnomon.backends.numba import cache
    a, x = gt.dvector("a"), gt.dvector("x")
    f = gnomon.function([a, x], [gt.log_ndtr(x) + gt.gammainc(a, x), gt.gammainc_der_a(a, x)],
                        mode="numba")
    av, xv = np.array([0.5, 2.0, 7.0]), np.array([0.3, 2.0, 11.0])
    got = f(av, xv)
    assert np.array_equal(got[0], sp.log_ndtr(xv) + sp.gammainc(av, xv)), got
    d = (sp.gammainc(av + 1e-6, xv) - sp.gammainc(av - 1e-6, xv)) / 2e-6
    assert np.allclose(got[1], d, rtol=1e-6), (got[1], d)
    # every compiled function of the generated modules (the program and its kernels)
    dispatchers = [d for m in cache._MODULES.values() for d in vars(m).values()
                   if isinstance(d, numba.core.registry.CPUDispatcher)]
    hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers)
    misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers)
    print("OK", hits, misses)
""")


def _run(cache_dir: Path) -> tuple[int, int]:
    env = dict(os.environ, GNOMON_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=str(ROOT),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    _, hits, misses = p.stdout.split()
    return int(hits), int(misses)


def test_kernels_calling_scipy_load_from_the_disk_cache_in_a_new_process(
        tmp_path: Path) -> None:
    hits, misses = _run(tmp_path)
    assert misses > 0  # compiled in the first process
    hits, misses = _run(tmp_path)
    assert hits > 0 and misses == 0  # loaded, and correct, in the second
