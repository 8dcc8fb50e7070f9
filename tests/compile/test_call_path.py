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


def test_trust_input_calls_the_compiled_entry_point() -> None:
    # CompiledProgram.direct (issue 13 goal 3): a trust_input call of a Numba program whose
    # inputs are 0-d goes to the compiled entry point, same results; what the entry point
    # refuses takes the usual path, with the usual result or error
    a, b = gt.dscalar("a"), gt.dscalar("b")
    f = gnomon.function([a, b], [a * 2.5 + b, a - b], mode=gnomon.Mode("numba", tiered="off"))
    x, y = np.array(1.5), np.array(-4.0)
    f.trust_input = True
    assert f._direct is None
    for _ in range(2):
        out = f(x, y)
        np.testing.assert_allclose(out, [1.5 * 2.5 - 4.0, 5.5])
    assert f._direct is not None  # found once compiled (constants: 2.5 is an argument)
    ro = np.array(3.0)
    ro.setflags(write=False)
    np.testing.assert_allclose(f(ro, y), [3.5, 7.0])
    # a float32 array is refused by the entry point; the usual path converts it
    np.testing.assert_allclose(f(np.array(1.0, "float32"), y), [-1.5, 5.0])
    # vector inputs: the layout of an argument is not part of its type, no entry point
    v = gt.dvector("v")
    h = gnomon.function([v], v + 1.0, mode=gnomon.Mode("numba", tiered="off"))
    assert h.compiled.direct() is None


def test_trust_input_entry_point_of_a_tiered_function() -> None:
    from gnomon.compile import tiered

    a, b = gt.dscalar("a"), gt.dscalar("b")
    f = gnomon.function([a, b], a + b, mode=gnomon.Mode("numba", tiered="first"))
    f.trust_input = True
    x, y = np.array(1.5), np.array(2.0)
    assert f(x, y) == 3.5  # the first tier
    assert f.compiled.direct() is None or tiered.tier(f) == "final"
    assert tiered.wait(f, timeout=600)
    for _ in range(2):
        assert f(x, y) == 3.5
    assert f._direct is not None
