"""Value transforms: round trips, log-Jacobians against numerical Jacobians, transformed
densities that integrate to 1, default transforms and transformed_conditional_logp."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError
from gnomon.logprob import transforms as tr


def _fns(t: tr.Transform, ndim: int) -> tuple[Any, Any, Any]:
    y = gt.tensor(dtype="float64", shape=(None,) * ndim, name="y")
    x = gt.tensor(dtype="float64", shape=(None,) * (ndim + (t.value_ndim(1) != 1)), name="x")
    kw: dict[str, Any] = {"mode": "numpy", "on_unused_input": "ignore"}
    fwd = gnomon.function([x], t.forward(x), **kw)
    bwd = gnomon.function([y], t.backward(y), **kw)
    ljd = gnomon.function([y], t.log_jac_det(y), **kw)
    return fwd, bwd, ljd


# (transform, unconstrained points: each a vector for vector transforms, a scalar otherwise)
CASES = [
    (tr.Log(), [np.array(v) for v in (-3.0, 0.0, 2.5)]),
    (tr.LogOdds(), [np.array(v) for v in (-4.0, 0.0, 1.3)]),
    (tr.Interval(-1.0, 3.0), [np.array(v) for v in (-2.0, 0.0, 5.0)]),
    (tr.Interval(2.0, None), [np.array(v) for v in (-2.0, 0.5)]),
    (tr.Interval(None, 2.0), [np.array(v) for v in (-2.0, 0.5)]),
    (tr.Ordered(), [np.array([0.3, -1.0, 0.5]), np.array([-2.0, 1.0])]),
    (tr.Simplex(), [np.array([0.3, -1.0, 0.5]), np.array([1.5]), np.array([0.0, 0.0])]),
    (tr.CholeskyCorr(3), [np.array([0.3, -1.0, 0.5])]),
    (tr.CholeskyCorr(4), [np.array([0.3, -1.0, 0.5, 0.1, -0.2, 0.9])]),
]


def _flat_backward(t: tr.Transform, bwd: Any, y: np.ndarray) -> np.ndarray:
    """The free coordinates of backward(y): all but the last entry of a simplex, the entries
    below the diagonal of a Cholesky factor."""
    x = np.asarray(bwd(y))
    if isinstance(t, tr.Simplex):
        return x[:-1]
    if isinstance(t, tr.CholeskyCorr):
        return x[np.tril_indices(t.n, -1)]
    return np.atleast_1d(x)


@pytest.mark.parametrize("t,points", CASES, ids=[repr(c[0]) for c in CASES])
def test_log_jac_det_and_round_trip(t: tr.Transform, points: list[np.ndarray]) -> None:
    nd = points[0].ndim
    fwd, bwd, ljd = _fns(t, nd)
    for y in points:
        x = bwd(y)
        np.testing.assert_allclose(fwd(x), y, rtol=1e-9, atol=1e-9)
        # numerical Jacobian of the free coordinates, central differences
        yv = np.atleast_1d(y).astype(float)
        eps = 1e-6
        cols = []
        for i in range(yv.size):
            d = np.zeros_like(yv)
            d[i] = eps
            up = _flat_backward(t, bwd, (yv + d).reshape(y.shape))
            dn = _flat_backward(t, bwd, (yv - d).reshape(y.shape))
            cols.append((up - dn) / (2 * eps))
        jac = np.stack(cols, axis=-1)
        _, logdet = np.linalg.slogdet(jac)
        np.testing.assert_allclose(ljd(y), logdet, rtol=1e-6, atol=1e-7)


def test_circular() -> None:
    t = tr.Circular()
    fwd, bwd, ljd = _fns(t, 0)
    assert float(fwd(np.array(3 * np.pi / 2))) == pytest.approx(-np.pi / 2)
    assert float(bwd(np.array(0.7))) == 0.7 and float(ljd(np.array(0.7))) == 0.0


# 1-d transformed densities integrate to 1 over the real line
ONE_D = [
    ("gamma", lambda: gr.gamma(2.5, 0.7)),
    ("exponential", lambda: gr.exponential(3.0)),
    ("beta", lambda: gr.beta(0.7, 2.0)),
    ("uniform", lambda: gr.uniform(-1.0, 4.0)),
    ("halfnormal", lambda: gr.halfnormal(1.0, 2.0)),
    ("pareto", lambda: gr.pareto(2.0, 1.5)),
    ("triangular", lambda: gr.triangular(0.0, 1.0, 3.0)),
    ("lognormal", lambda: gr.lognormal(0.3, 0.8)),
    ("invgamma", lambda: gr.invgamma(3.0, 2.0)),
    ("dirichlet2", lambda: gr.dirichlet(np.array([1.5, 3.0]))),
    ("vonmises", lambda: gr.vonmises(0.5, 2.0)),
]


@pytest.mark.parametrize("build", [b for _, b in ONE_D], ids=[n for n, _ in ONE_D])
def test_transformed_density_integrates_to_one(build: Any) -> None:
    rv = build()
    t = tr.default_transform(rv)
    assert t is not None
    y = gt.dvector("y") if rv.ndim else gt.dscalar("y")
    term = glp.transformed_conditional_logp({rv: y})[y]
    f = gnomon.function([y], term, mode="numpy")
    if rv.ndim:
        def dens(u: float) -> float:
            return float(np.exp(f(np.array([u]))))
    else:
        def dens(u: float) -> float:
            return float(np.exp(f(u)))
    # the mass beyond |y| = 40 is below 1e-12 for these parameters; farther out the
    # constrained value rounds to the support's boundary
    lo, hi = (-np.pi, np.pi) if isinstance(t, tr.Circular) else (-40.0, 40.0)
    total, _ = si.quad(dens, lo, hi, limit=200, epsabs=1e-10)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_default_transforms() -> None:
    assert isinstance(tr.default_transform(gr.gamma(2.0)), tr.Log)
    assert isinstance(tr.default_transform(gr.beta(2.0, 1.0)), tr.LogOdds)
    assert isinstance(tr.default_transform(gr.uniform(0.0, 2.0)), tr.Interval)
    assert isinstance(tr.default_transform(gr.dirichlet(np.ones(3))), tr.Simplex)
    assert isinstance(tr.default_transform(gr.vonmises(0.0, 1.0)), tr.Circular)
    assert tr.default_transform(gr.normal()) is None
    assert tr.default_transform(gr.poisson(2.0)) is None


def test_transform_bounds_use_the_values_of_other_variables() -> None:
    sigma = gr.exponential(2.0)
    x = gr.uniform(0.0, sigma, size=2)
    s_u, x_u = gt.dscalar("s_u"), gt.dvector("x_u")
    terms = glp.transformed_conditional_logp({x: x_u, sigma: s_u})
    assert list(terms) == [x_u, s_u]
    f = gnomon.function([s_u, x_u], [terms[s_u], terms[x_u]], mode="numpy")
    su, xu = 0.4, np.array([-1.0, 2.0])
    a, b = f(su, xu)
    s = np.exp(su)
    np.testing.assert_allclose(a, st.expon(scale=2.0).logpdf(s) + su)
    xs = s / (1 + np.exp(-xu))
    jac = np.log(s) + np.log(1 / (1 + np.exp(-xu))) + np.log(1 / (1 + np.exp(xu)))
    np.testing.assert_allclose(b, st.uniform(0, s).logpdf(xs) + jac)


def test_no_transform_and_explicit_transforms() -> None:
    sigma = gr.exponential(2.0)
    s_v = gt.dscalar("s_v")
    terms = glp.transformed_conditional_logp({sigma: s_v}, transforms={sigma: None})
    np.testing.assert_allclose(terms[s_v].eval({s_v: 1.5}, mode="numpy"),
                               st.expon(scale=2.0).logpdf(1.5))
    terms = glp.transformed_conditional_logp({sigma: s_v},
                                             transforms={sigma: tr.Interval(0.0, 10.0)})
    u = 0.3
    xs = 10 / (1 + np.exp(-u))
    want = st.expon(scale=2.0).logpdf(xs) + np.log(10) - np.logaddexp(0, u) - np.logaddexp(0, -u)
    np.testing.assert_allclose(terms[s_v].eval({s_v: u}, mode="numpy"), want)


def test_transformed_value_errors() -> None:
    sigma = gr.exponential(2.0)
    with pytest.raises(GnomonTypeError, match=r"(?s)float tensor of rank 0.*Hint:"):
        glp.transformed_conditional_logp({sigma: gt.dvector("v")})
    with pytest.raises(Exception, match="no value variable"):
        glp.transformed_conditional_logp({sigma: gt.dscalar("v")},
                                         transforms={gr.normal(): None})
