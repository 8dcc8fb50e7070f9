"""Bad parameters and sizes: errors that name the distribution, the parameter and the user's
line, at graph construction for constants and at call time otherwise (JAX: nan)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError, ShapeError
from gnomon.testing import available_modes

CONSTANT_CASES = [
    (lambda: gr.normal(0.0, -1.0), "normal", "scale"),
    (lambda: gr.gamma(-1.0), "gamma", "shape"),
    (lambda: gr.beta(0.0, 1.0), "beta", "'a'"),
    (lambda: gr.exponential([1.0, -2.0]), "exponential", "scale"),
    (lambda: gr.poisson(-3.0), "poisson", "lam"),
    (lambda: gr.binomial(5, 1.5), "binomial", "'p'"),
    (lambda: gr.bernoulli(-0.1), "bernoulli", "'p'"),
    (lambda: gr.categorical([0.5, 0.6]), "categorical", "sum to 1"),
    (lambda: gr.dirichlet([1.0, 0.0]), "dirichlet", "alpha"),
    (lambda: gr.multinomial(3, [0.5, 0.6]), "multinomial", "sum to 1"),
    (lambda: gr.t(0.0), "t", "df"),
    (lambda: gr.triangular(0.0, 2.0, 1.0), "triangular", "'mode'"),
    (lambda: gr.geometric(0.0), "geometric", "'p'"),
    (lambda: gr.multivariate_normal([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]),
     "multivariate_normal", "cov"),
    (lambda: gr.integers(5, 5), "integers", "'low'"),
    (lambda: gr.uniform(0.0, np.inf), "uniform", "finite"),
    (lambda: gr.vonmises(0.0, -1.0), "vonmises", "kappa"),
    (lambda: gr.gengamma(1.0, 0.0, 1.0), "gengamma", "'p'"),
    (lambda: gr.betabinomial(5, 1.0, -1.0), "betabinomial", "'b'"),
    (lambda: gr.hypergeometric(2, 3, 6), "hypergeometric", "nsample"),
    (lambda: gr.choice(3, p=[0.5, 0.6, 0.1]), "choice", "sum to 1"),
    (lambda: gr.choice(3, size=4, replace=False), "choice", "distinct"),
]


@pytest.mark.parametrize(("build", "dist", "param"), CONSTANT_CASES,
                         ids=[c[1] for c in CONSTANT_CASES])
def test_constant_bad_parameter_fails_at_construction(build, dist, param) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GnomonValueError) as info:
        build()
    msg = str(info.value)
    assert msg.startswith(f"{dist}:") and param in msg
    assert "test_errors.py" in msg  # the user's line
    assert "Hint:" in msg


@pytest.mark.parametrize("mode", available_modes())
def test_symbolic_bad_parameter_fails_at_call_time(mode: str) -> None:
    s = gt.dvector("s")
    x = gr.normal(0.0, s, rng=gnomon.shared(np.random.default_rng(0)))
    p = gt.dscalar("p")
    k = gr.binomial(10, p, size=3, rng=gnomon.shared(np.random.default_rng(0)))
    f = gnomon.function([s], x, mode=mode)
    g = gnomon.function([p], k, mode=mode)
    assert np.all(np.isfinite(np.asarray(f(np.array([1.0, 2.0])))))
    if mode == "jax":  # no exceptions inside jax.jit: nan (or -1 for counts) where invalid
        out = np.asarray(f(np.array([1.0, -2.0])))
        assert np.isfinite(out[0]) and np.isnan(out[1])
        assert np.all(np.asarray(g(1.5)) == -1)
        return
    with pytest.raises(GnomonValueError) as info:
        f(np.array([1.0, -2.0]))
    msg = str(info.value)
    assert "normal: parameter 'scale' must be >= 0" in msg and "test_errors.py" in msg
    with pytest.raises(GnomonValueError, match=r"binomial: parameter 'p' must be in \[0, 1\]"):
        g(1.5)


@pytest.mark.parametrize("mode", [m for m in available_modes() if m != "jax"])
def test_run_time_shape_errors(mode: str) -> None:
    loc, n = gt.dvector("loc"), gt.lscalar("n")
    x = gr.normal(loc, 1.0, size=(n,), rng=gnomon.shared(np.random.default_rng(0)))
    f = gnomon.function([loc, n], x, mode=mode)
    assert f(np.zeros(3), 3).shape == (3,)
    with pytest.raises(ShapeError if mode == "numpy" else GnomonValueError,
                       match="normal: parameter 'loc'"):
        f(np.zeros(3), 4)
    a, b = gt.dvector("a"), gt.dvector("b")
    y = gr.normal(a, b, rng=gnomon.shared(np.random.default_rng(0)))
    g = gnomon.function([a, b], y, mode=mode)
    with pytest.raises(GnomonValueError, match="cannot be broadcast"):
        g(np.zeros(2), np.ones(3))


def test_static_size_and_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"normal: parameter 'loc' with batch shape \(3,\) does "
                                         r"not broadcast to size=\(2,\)"):
        gr.normal(np.zeros(3), 1.0, size=2)
    with pytest.raises(ShapeError, match="cannot be broadcast together"):
        gr.normal(np.zeros(3), np.ones(2))
    with pytest.raises(ShapeError, match="negative"):
        gr.normal(size=(2, -1))
    with pytest.raises(GnomonTypeError, match="size entries must be ints"):
        gr.normal(size=(2.0,))
    with pytest.raises(ShapeError, match="length unknown"):
        gr.normal(size=gt.lvector("n"))
    with pytest.raises(ShapeError, match="at least 1 dimension"):
        gr.dirichlet(1.0)
    with pytest.raises(ShapeError, match="multivariate_normal"):
        gr.multivariate_normal(np.zeros(2), np.eye(3))
    with pytest.raises(GnomonTypeError, match="rng must be a random generator variable"):
        gr.normal(rng=np.random.default_rng(0))
    with pytest.raises(GnomonValueError, match="scale or rate, not both"):
        gr.gamma(1.0, 2.0, rate=3.0)
    with pytest.raises(GnomonValueError, match="integer dtype"):
        gr.integers(3, dtype="float64")


def test_numpy_semantics_of_size() -> None:
    # size is the whole batch shape; the support dimensions come after it
    assert gr.dirichlet(np.ones((4, 3)), size=(2, 4)).type.shape == (2, 4, 3)
    assert gr.normal(np.zeros((2, 1)), np.ones(3)).type.shape == (2, 3)
    assert gr.normal(size=()).type.shape == ()
    assert gr.categorical(np.full((5, 2), 0.5)).type.shape == (5,)
    assert gr.normal(gt.dvector("m"), 1.0, size=(3, 4)).type.shape == (3, 4)
    assert gr.multivariate_normal(gt.dvector("m"), np.eye(2)).type.shape == (2,)


def test_a_distribution_class_missing_a_hook_fails_when_defined() -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    from gnomon.random.op import RandomVariable

    with pytest.raises(TypeError, match="must define support_shape"):
        @dataclass(frozen=True)
        class Vec(RandomVariable):
            name: ClassVar[str] = "vec"
            ndim_supp: ClassVar[int] = 1

            def rng_fn(self, rng, *params, size):  # type: ignore[no-untyped-def]
                return rng.random(size)

    with pytest.raises(TypeError, match="must define reparam_pullback"):
        @dataclass(frozen=True)
        class Shift(RandomVariable):
            name: ClassVar[str] = "shift"
            param_names: ClassVar[tuple[str, ...]] = ("loc",)
            ndims_params: ClassVar[tuple[int, ...]] = (0,)
            reparameterized: ClassVar[bool] = True

            def rng_fn(self, rng, *params, size):  # type: ignore[no-untyped-def]
                return params[0] + rng.random(size)


@pytest.mark.parametrize("mode", available_modes())
def test_sampling_distributions_check_symbolic_parameters_at_call_time(mode: str) -> None:
    p, n = gt.dvector("p"), gt.lscalar("n")
    rng = gnomon.shared(np.random.default_rng(0))
    pick = gnomon.function([p], gr.choice(3, size=2, replace=False, p=p, rng=rng), mode=mode)
    urn = gnomon.function([n], gr.hypergeometric(2, 3, n, size=2, rng=rng), mode=mode)
    assert set(np.asarray(pick(np.array([0.2, 0.3, 0.5]))).tolist()) <= {0, 1, 2}
    if mode == "jax":  # -1 where the parameters are invalid
        assert np.all(np.asarray(pick(np.array([0.5, 0.6, 0.1]))) == -1)
        assert np.all(np.asarray(urn(6)) == -1)
        return
    with pytest.raises(GnomonValueError, match="choice: parameter 'p' must sum to 1"):
        pick(np.array([0.5, 0.6, 0.1]))
    with pytest.raises(GnomonValueError, match="choice: cannot take 2 distinct items"):
        pick(np.array([1.0, 0.0, 0.0]))
    with pytest.raises(GnomonValueError, match="hypergeometric: parameter 'nsample' must be at "
                                               "most ngood \\+ nbad"):
        urn(6)
