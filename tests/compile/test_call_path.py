"""The generated input check of Function's hot path (gnomon/compile/function.py
``_fast_check``, issue 13 goal 3): it takes exactly the arguments the fast filter would return
as they are, and hands everything else to the per-input checks (conversions, errors)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.compile.function import _fast_check
from gnomon.compile.io import In
from gnomon.tensor.type import TensorType


def test_fast_check_accepts_exactly_matching_ndarrays() -> None:
    x = TensorType("float64", (None, 3))("x")
    n = gt.lscalar("n")
    check = _fast_check([x, n], [In(x), In(n)])
    assert check is not None
    a, k = np.zeros((2, 3)), np.array(4)
    got = check((a, k))
    assert got == [a, k] and got[0] is a
    rejected = [
        (np.zeros((2, 4)), k),                    # static length 3
        (np.zeros((2, 3), "float32"), k),         # dtype
        (np.zeros(3), k),                         # rank
        (np.zeros((2, 3)).view(np.matrix), k),    # a subclass goes to the full check
        (a, 4),                                   # a Python int: converted by the full check
        (a.tolist(), k),
    ]
    for args in rejected:
        assert check(args) is None, args
    # strict inputs keep their own check
    assert _fast_check([x], [In(x, strict=True)]) is None


def test_calls_give_the_same_results_and_errors_on_both_paths() -> None:
    x, y = gt.dvector("x"), gt.dscalar("y")
    f = gnomon.function([x, y], x * y + 1.0, mode=gnomon.Mode("numba", tiered="first"))
    assert f._fast_check is not None
    xv = np.arange(3.0)
    np.testing.assert_array_equal(f(xv, np.array(2.0)), xv * 2 + 1)  # fast path
    np.testing.assert_array_equal(f([0.0, 1.0, 2.0], 2.0), xv * 2 + 1)  # converted
    with pytest.raises(gnomon.errors.GnomonError):
        f(np.zeros((3, 1)), np.array(2.0))  # a matrix: the full check explains
    with pytest.raises(gnomon.errors.GnomonError):
        f(xv)  # arity
