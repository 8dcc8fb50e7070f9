"""Reparameterized gradients of location-scale draws, checked by finite differences with common
random numbers (a shared generator without an update draws the same numbers in every function);
other draws refuse to be differentiated, naming the distribution."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import NullGradientError
from gnomon.testing import available_modes, check_grads

CASES = [
    ("normal", lambda loc, scale: gr.normal(loc, scale, size=(4, 3), rng=_crn()),
     [np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3, 2.0])]),
    ("uniform", lambda lo, hi: gr.uniform(lo, hi, rng=_crn()),
     [np.array([-1.0, 0.0]), np.array([[1.0], [3.0]])]),
    ("exponential", lambda scale: gr.exponential(scale, size=(5, 2), rng=_crn()),
     [np.array([0.5, 2.0])]),
    ("standard_normal", lambda x: x * gr.standard_normal(size=3, rng=_crn()),
     [np.array([1.0, 2.0, 3.0])]),
    ("lognormal", lambda m, s: gr.lognormal(m, s, size=(2, 2), rng=_crn()),
     [np.array([0.1, -0.3]), np.array([0.5, 0.8])]),
    ("gumbel", lambda loc, scale: gr.gumbel(loc, scale, rng=_crn()),
     [np.array([0.1, -0.3]), np.array([0.5, 0.8])]),
    ("t", lambda loc, scale: gr.t(4.0, loc, scale, size=3, rng=_crn()),
     [np.array(0.5), np.array(1.5)]),
    # through the Cholesky factor of a covariance kept symmetric positive definite
    ("multivariate_normal", lambda m, a: gr.multivariate_normal(
        m, a @ a.T + gt.eye(3), size=(4,), rng=_crn()),
     [np.array([0.5, -1.0, 2.0]),
      np.array([[1.0, 0.2, 0.0], [0.3, 0.5, -0.4], [0.1, 0.0, 0.8]])]),
    ("multivariate_normal_batched", lambda m, a: gr.multivariate_normal(
        m, a @ a.mT + gt.eye(2), rng=_crn()),
     [np.array([[0.5, -1.0]]), np.random.default_rng(1).normal(size=(3, 2, 2))]),
]


def _crn():  # type: ignore[no-untyped-def]
    return gnomon.shared(np.random.default_rng(42))


# The gradient graphs are backend independent: every case on the reference (first and second
# order), and one on each compiled backend (its draws must be common random numbers across the
# functions check_grads compiles).
RUNS = [(c, "numpy") for c in CASES] + [(c, m) for c in (CASES[0], CASES[-2])
                                         for m in available_modes() if m != "numpy"]


@pytest.mark.parametrize(("case", "mode"), RUNS, ids=[f"{c[0]}-{m}" for c, m in RUNS])
def test_reparameterized_gradients(case, mode) -> None:  # type: ignore[no-untyped-def]
    _, fn, values = case
    if mode == "numpy":
        check_grads(fn, values, order=1)
        check_grads(fn, values, order=2, modes=("pullback",))
    else:
        check_grads(fn, values, order=1, modes=("pullback",), mode=mode,
                    rtol=1e-3 if mode == "jax" else None)


def test_gradient_of_the_expectation() -> None:
    # d/dmu E[(mu + sigma z)^2] = 2 mu and d/dsigma = 2 sigma: the Monte Carlo estimate with
    # 20000 common random numbers is close
    mu, sigma = gt.dscalar("mu"), gt.dscalar("sigma")
    x = gr.normal(mu, sigma, size=20000, rng=_crn())
    cost = gt.mean(x ** 2)
    g = gnomon.function([mu, sigma], gnomon.grad(cost, [mu, sigma]), mode="numpy")
    gm, gs = g(0.7, 1.5)
    assert abs(gm - 1.4) < 0.05 and abs(gs - 3.0) < 0.1


def test_multivariate_normal_gradient_of_the_expectation() -> None:
    # E[x^T W x] = m^T W m + tr(W cov): its gradients are (W + W^T) m and W (lower triangle
    # read: the gradient of a symmetric cov lands on it as W + W^T - diag(W) below the diagonal)
    m, c = gt.dvector("m"), gt.dmatrix("c")
    w = np.array([[2.0, 0.5], [0.0, 1.0]])
    x = gr.multivariate_normal(m, c, size=40000, rng=_crn())
    cost = gt.mean(gt.sum((x @ w) * x, axis=-1))
    g = gnomon.function([m, c], gnomon.grad(cost, [m, c]), mode="numpy")
    m0, c0 = np.array([0.3, -0.7]), np.array([[1.0, 0.4], [0.4, 2.0]])
    gm, gc = g(m0, c0)
    np.testing.assert_allclose(gm, (w + w.T) @ m0, atol=0.05)
    want = np.tril(w + w.T - np.diag(np.diag(w)))
    np.testing.assert_allclose(gc, want, atol=0.08)


def test_t_is_reparameterized_in_loc_and_scale_only() -> None:
    df = gt.dscalar("df")
    x = gr.t(df, 0.0, 1.0, rng=_crn())
    with pytest.raises(NullGradientError, match="not in df"):
        gnomon.grad(x, df)


def test_non_reparameterized_draw_names_the_distribution() -> None:
    a = gt.dscalar("a")
    x = gr.gamma(a, 1.0, rng=_crn())
    with pytest.raises(NullGradientError, match="draws of gamma have no reparameterized"):
        gnomon.grad(x, a)
    # no gradient needed through the parameter: fine
    b = gt.dscalar("b")
    y = gr.gamma(2.0, 1.0, rng=_crn()) * b
    assert gnomon.grad(y, b) is not None
