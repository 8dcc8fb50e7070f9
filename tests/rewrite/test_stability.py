"""Numerical stability after compilation: expressions that overflow or cancel when evaluated
naively are finite and accurate once the pipeline has rewritten them. Expected values come
from SciPy / NumPy's stable functions, never from hard-coded numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import gnomon
import gnomon.tensor as gt
from gnomon.testing import available_modes

MODES = available_modes()


def _compile(inputs, out, mode):  # type: ignore[no-untyped-def]
    return gnomon.function(inputs, out, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_log_one_plus_exp_is_softplus(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.log(1 + gt.exp(x)), mode)
    v = np.array([-1000.0, -30.0, 0.0, 1.0, 30.0, 1000.0])
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, np.logaddexp(0.0, v), rtol=1e-12)
    assert got[-1] == 1000.0


@pytest.mark.parametrize("mode", MODES)
def test_logsumexp_of_large_values(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.log(gt.sum(gt.exp(x))), mode)
    v = np.array([1000.0, 1000.0])
    got = f(v)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, sp.logsumexp(v), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_log_sigmoid_of_very_negative(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.log(gt.sigmoid(x)), mode)
    v = np.array([-800.0, -40.0, 0.0, 40.0])
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sp.log_expit(v), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_log_one_minus_sigmoid(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.log(1 - gt.sigmoid(x)), mode)
    v = np.array([-40.0, 0.0, 40.0, 800.0])
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sp.log_expit(-v), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_log_one_minus_exp_near_zero(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.log(1 - gt.exp(x)), mode)
    v = np.array([-1e-20, -1e-5, -1.0, -50.0])
    got = f(v)
    assert np.all(np.isfinite(got))
    # Maechler (2012): log(-expm1(x)) near 0, log1p(-exp(x)) far from it.
    with np.errstate(all="ignore"):  # np.where evaluates both branches everywhere
        want = np.where(v > -np.log(2.0), np.log(-np.expm1(v)), np.log1p(-np.exp(v)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_expm1_and_log1p_for_tiny_values(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], [gt.exp(x) - 1, gt.log(1 + x)], mode)
    v = np.array([1e-18, -1e-12, 1e-8])
    e, lg = f(v)
    np.testing.assert_allclose(e, np.expm1(v), rtol=1e-12)
    np.testing.assert_allclose(lg, np.log1p(v), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_sqrt_of_square_does_not_overflow(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], gt.sqrt(x ** 2), mode)
    v = np.array([1e200, -1e200, -3.0])
    np.testing.assert_allclose(f(v), np.abs(v))


@pytest.mark.parametrize("mode", MODES)
def test_log_softmax_and_naive_softmax(mode: str) -> None:
    x = gt.dmatrix("x")
    f = _compile([x], [gt.log(gt.softmax(x, axis=-1)),
                       gt.exp(x) / gt.sum(gt.exp(x), axis=-1, keepdims=True)], mode)
    v = np.array([[0.0, -1000.0, 1000.0], [1.0, 2.0, 3.0]])
    ls, sm = f(v)
    np.testing.assert_allclose(ls, sp.log_softmax(v, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(sm, sp.softmax(v, axis=-1), rtol=1e-12)
    assert np.all(np.isfinite(ls[0, [0, 2]]))


@pytest.mark.parametrize("mode", MODES)
def test_log_of_normal_tail_probabilities(mode: str) -> None:
    x = gt.dvector("x")
    f = _compile([x], [gt.log(gt.ndtr(x)), gt.log(1 - gt.ndtr(x)), gt.log(gt.erfc(x))], mode)
    v = np.array([-1e5, -60.0, -30.0, -1.0, 0.0, 1.0, 30.0, 60.0, 1e5])
    lower, upper, log_erfc = f(v)
    np.testing.assert_allclose(lower, sp.log_ndtr(v), rtol=1e-12)
    np.testing.assert_allclose(upper, sp.log_ndtr(-v), rtol=1e-12)
    with np.errstate(divide="ignore"):
        want = np.where(v > 0, np.log(sp.erfcx(v)) - v ** 2, np.log(sp.erfc(v)))
    assert np.all(np.isfinite(log_erfc))
    np.testing.assert_allclose(log_erfc, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_log_normal_tail_probabilities_is_finite(mode: str) -> None:
    x = gt.dvector("x")
    cost = gt.sum(gt.log(gt.ndtr(x)) + gt.log(gt.erfc(x)))
    f = _compile([x], gnomon.grad(cost, x), mode)
    v = np.array([-60.0, -30.0, -1.0, 0.0, 1.0, 30.0, 60.0])
    got = f(v)
    assert np.all(np.isfinite(got))
    # d/dx log Phi = phi / Phi; d/dx log erfc = -2 / sqrt(pi) / erfcx(x)
    want = np.sqrt(2 / np.pi) / sp.erfcx(-v / np.sqrt(2)) - 2 / np.sqrt(np.pi) / sp.erfcx(v)
    np.testing.assert_allclose(got, want, rtol=1e-10)
