"""Converting call arguments to an input's type: exact or refused, never silently lossy.

Regression tests for issue 16 (item 6); the rules are in ``TensorType.filter``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError

MODES = ["numpy", "numba"]


@pytest.mark.parametrize("mode", MODES)
def test_int64_values_beyond_2_to_53_are_not_rounded_into_float64(mode: str) -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x * 1.0, mode=mode)
    assert f(np.array([2**53, 3])).tolist() == [2.0**53, 3.0]  # exact: converted
    with pytest.raises(GnomonTypeError, match="allow_input_downcast"):
        f(np.array([2**53 + 1]))
    s = gt.dscalar("s")
    g = gnomon.function([s], s + 0.0, mode=mode)
    with pytest.raises(GnomonTypeError, match="lose information"):
        g(2**53 + 1)
    g2 = gnomon.function([s], s + 0.0, mode=mode, allow_input_downcast=True)
    assert float(g2(2**53 + 1)) == float(2**53)


def test_int32_into_float32_checks_values() -> None:
    x = gt.fvector("x")
    f = gnomon.function([x], x + 0.0, mode="numpy")
    assert f(np.array([2**24], dtype="int32")).tolist() == [2.0**24]
    with pytest.raises(GnomonTypeError):
        f(np.array([2**24 + 1], dtype="int32"))


@pytest.mark.parametrize("mode", MODES)
def test_huge_python_ints(mode: str) -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x * 1.0, mode=mode)
    assert f([2**70, 1]).tolist() == [2.0**70, 1.0]  # exactly representable
    with pytest.raises(GnomonTypeError, match="cannot hold exactly"):
        f([2**70 + 1])
    i = gt.lvector("i")
    g = gnomon.function([i], i + 1, mode=mode)
    with pytest.raises(GnomonTypeError, match="does not fit in int64"):
        g([2**70])


def test_ragged_list_names_the_input() -> None:
    x = gt.dmatrix("X")
    f = gnomon.function([x], x.sum(), mode="numpy")
    with pytest.raises(GnomonValueError, match="X got a nested list that is not rectangular"):
        f([[1.0, 2.0], [3.0]])


def test_masked_arrays_are_refused_unless_nothing_is_masked() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2.0, mode="numpy")
    with pytest.raises(GnomonTypeError, match="masked"):
        f(np.ma.masked_array([1.0, 2.0], mask=[False, True]))
    assert f(np.ma.masked_array([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert f(np.ma.masked_array([1.0, 2.0]).filled(0.0)).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("mode", MODES)
def test_big_endian_input_is_converted_without_a_fallback(mode: str) -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2.0, mode=mode)
    be = np.array([1.5, -2.0], dtype=">f8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "runs on the reference" warning
        assert f(be).tolist() == [3.0, -4.0]
        assert f(np.array([1.0])).tolist() == [2.0]
    i = gt.lvector("i")
    g = gnomon.function([i], i + 1, mode=mode)
    assert g(np.array([1, 2], dtype=">i8")).tolist() == [2, 3]
