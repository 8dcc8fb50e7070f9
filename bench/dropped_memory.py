"""Resident memory kept per structurally distinct dropped function (issue 13 goal 4; figures
in docs/compile-time.md, 'Memory of dropped functions').

Usage::

    GNOMON_CACHE_DIR=$(mktemp -d) .venv/bin/python bench/dropped_memory.py [N]   # cold
    GNOMON_CACHE_DIR=<the same dir> .venv/bin/python bench/dropped_memory.py [N] # warm

Builds ``d(x - y) + b(a(x)) * c(y)`` for N (default 24) quadruples of elementwise ops, each
called once and dropped, after 2 warm-up functions; the release runs at once
(``release.IDLE_KEEP = 0``, ``gc.collect()`` and ``release.collect()`` four times after each
function); resident memory is read after ``malloc_trim(0)`` from ``/proc/self/statm``.
``GNOMON_NUMBA_RELEASE=0`` shows the growth without the release.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.backends.numba import release


def rss_mib() -> float:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main(n: int) -> None:
    release.IDLE_KEEP = 0
    x, y = gt.dvector("x"), gt.dvector("y")
    xv, yv = np.linspace(0.1, 0.9, 64), np.linspace(0.2, 0.7, 64)
    ops = [gt.exp, gt.sin, gt.cos, gt.tanh, gt.arctan, gt.expm1, gt.log1p, gt.sqrt,
           gt.arcsinh, gt.log]
    pairs = [(a, b) for a in ops for b in ops if a is not b]
    mode = gnomon.Mode("numba", tiered="off")

    def build(k: int) -> None:
        a, b = pairs[k * 7 % len(pairs)]
        c, d = pairs[(k * 13 + 5) % len(pairs)]
        f = gnomon.function([x, y], b(a(x)) * c(y) + d(x - y), mode=mode)
        with np.errstate(all="ignore"):
            f(xv, yv)

    def settle() -> None:
        for _ in range(4):
            gc.collect()
            release.collect()

    for k in range(2):  # Numba's own first compiles stay
        build(k)
    settle()
    r0, t0 = rss_mib(), time.process_time()
    marks = []
    for k in range(2, 2 + n):
        build(k)
        settle()
        if (k - 1) % 8 == 0:
            marks.append(f"{rss_mib() - r0:.1f}")
    grown = rss_mib() - r0
    print(f"{n} functions: resident +{grown:.1f} MiB, {grown / n * 1024:.0f} KiB a function "
          f"(after every 8: {', '.join(marks)} MiB); CPU {time.process_time() - t0:.1f} s; "
          f"modules released {release.released_count}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
