"""Constants of fused loops as kernel arguments (gnomon/backends/numba/composite.py
``constant_arguments``): graphs that differ only in a constant's value share their kernels and
program, and get the results of their own constants (dtype, special values, exponents)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")
from gnomon.backends.numba import linker

MODE = gnomon.Mode("numba", tiered="off")


def test_constants_differing_in_value_share_the_compiled_program() -> None:
    x = gt.dvector("x")
    xv = np.linspace(-2, 2, 1001)
    progs = []
    for c in (1.5, -0.25, np.inf, np.nan):
        f = gnomon.function([x], gt.sum(gt.exp(-x * x * c) + c) * 2.0 + x * c, mode=MODE)
        with np.errstate(all="ignore"):
            want = np.sum(np.exp(-xv * xv * c) + c) * 2.0 + xv * c
            np.testing.assert_allclose(f(xv), want, rtol=1e-12)
        progs.append(f.compiled.state.program)
    # one compiled program (and so the same kernels) for all four values
    assert all(p is progs[0] for p in progs)


def test_float32_constants_keep_float32_rounding_and_exponents_stay_literal() -> None:
    x = gt.fvector("x")
    f = gnomon.function([x], gt.exp(x * np.float32(0.1)) + np.float32(1e-3), mode=MODE)
    xv = np.linspace(0, 3, 100, dtype="float32")
    out = f(xv)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.exp(xv * np.float32(0.1)) + np.float32(1e-3), rtol=2e-6)
    # an exponent is part of the kernel's text (LLVM specializes pow on it)
    y = gt.dvector("y")
    g = gnomon.function([y], gt.exp(y) ** 2.7 + 0.5, mode=MODE)
    node = [n for n in g.program.nodes if type(n.op).__name__ == "Elemwise"][-1]
    src = linker.lower_node(node)
    assert "2.7" in src and "0.5" not in src
    yv = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(g(yv), np.exp(yv) ** 2.7 + 0.5, rtol=1e-14)
