"""Elementwise math functions: stability at extreme inputs, dtypes against NumPy, broadcasting
of the binary functions on hypothesis-generated shapes, gradient conventions (ties, clip bounds,
complex numbers) and error messages. Values and gradients on random inputs are in
``tests/records/math_records.py``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError, GnomonValueError


def run(fn, *values):  # type: ignore[no-untyped-def]
    """Evaluate ``fn`` on NumPy ``values`` with the reference backend."""
    xs = [gt.tensor(f"x{i}", dtype=np.asarray(v).dtype.name, shape=(None,) * np.ndim(v))
          for i, v in enumerate(values)]
    return gnomon.function(xs, fn(*xs), mode="numpy")(*values)


def grads(cost_fn, *values):  # type: ignore[no-untyped-def]
    """Gradients of the scalar ``cost_fn(*xs)`` at ``values``."""
    xs = [gt.tensor(f"x{i}", dtype=np.asarray(v).dtype.name, shape=(None,) * np.ndim(v))
          for i, v in enumerate(values)]
    gs = gnomon.grad(cost_fn(*xs), xs)
    return gnomon.function(xs, gs, mode="numpy")(*values)


# --- numerical stability ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softplus_extremes(dtype: str) -> None:
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        y = run(gt.softplus, x)
        g = grads(lambda v: gt.sum(gt.softplus(v)), x)[0]
    assert y.dtype == dtype and np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    assert y[-1] == 1000.0 and y[0] == 0.0 and y[3] == 50.0
    # log1p(exp(-50)) == exp(-50) to double precision: small values are not lost.
    np.testing.assert_allclose(y[1], np.exp(np.float64(-50.0)), rtol=1e-5)
    np.testing.assert_allclose(y[2], np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(g, sp.expit(x.astype("float64")), rtol=1e-6, atol=1e-30)


def test_log1mexp_accuracy() -> None:
    # Near 0: log(1 - e^x) = log(-x) + x/2 + O(x^2); far left: = -e^x (1 + O(e^x)).
    tiny = np.array([-1e-20, -1e-12, -1e-8])
    np.testing.assert_allclose(run(gt.log1mexp, tiny), np.log(-tiny) + tiny / 2, rtol=1e-14)
    far = np.array([-40.0, -100.0, -700.0])
    np.testing.assert_allclose(run(gt.log1mexp, far), -np.exp(far), rtol=1e-14)
    y = run(gt.log1mexp, np.array([-1000.0]))
    assert np.isfinite(y).all() and y[0] == 0.0
    # Both branches agree around the switch point -log(2).
    x = -np.log(2) + np.array([-1e-9, 0.0, 1e-9, -0.3, 0.3])
    np.testing.assert_allclose(run(gt.log1mexp, x), np.log1p(-np.exp(x)), rtol=1e-12)
    assert run(gt.log1mexp, np.array([0.0]))[0] == -np.inf


def test_log1mexp_gradient_is_finite() -> None:
    x = np.array([-1000.0, -30.0, -1e-8, -2.0])
    g = grads(lambda v: gt.sum(gt.log1mexp(v)), x)[0]
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g, -np.exp(x) / -np.expm1(x), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_extremes(dtype: str) -> None:
    x = np.array([-800.0, -80.0, 0.0, 80.0, 800.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = run(gt.sigmoid, x)
        g = grads(lambda v: gt.sum(gt.sigmoid(v)), x)[0]
    assert np.isfinite(y).all() and np.isfinite(g).all()
    assert y[0] == 0.0 and y[2] == 0.5 and y[-1] == 1.0
    np.testing.assert_allclose(y, sp.expit(x), rtol=1e-6)


def test_erfcx_large_argument() -> None:
    x = np.array([30.0, 1e3, 1e6])
    y = run(gt.erfcx, x)
    np.testing.assert_allclose(y, sp.erfcx(x), rtol=1e-12)
    g = grads(lambda v: gt.sum(gt.erfcx(v)), x)[0]
    assert np.isfinite(g).all()


def test_float_classes() -> None:
    x = np.array([0.0, -1.5, np.nan, np.inf, -np.inf])
    for f, ref in [(gt.isnan, np.isnan), (gt.isinf, np.isinf), (gt.isfinite, np.isfinite)]:
        got = run(f, x)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, ref(x))


def test_round_half_to_even() -> None:
    x = np.arange(-6, 6) + 0.5
    np.testing.assert_array_equal(run(gt.round, x), np.round(x))
    np.testing.assert_array_equal(run(lambda v: gt.round(v, 1), x / 10), np.round(x / 10, 1))


# --- dtypes against NumPy / SciPy ------------------------------------------------------------

UNARY = {
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "square": np.square,
    "reciprocal": np.reciprocal, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "sigmoid": sp.expit, "softplus": lambda x: np.logaddexp(0, x),
    "logit": sp.logit, "erf": sp.erf, "erfc": sp.erfc, "erfcx": sp.erfcx,
    "erfinv": sp.erfinv, "gammaln": sp.gammaln, "digamma": sp.psi, "gamma": sp.gamma,
    "sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "trunc": np.trunc, "abs": np.abs, "isnan": np.isnan, "isinf": np.isinf,
    "isfinite": np.isfinite, "real": np.real, "imag": np.imag, "conj": np.conj,
    "angle": np.angle,
}
DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_dtype_matches_numpy(name: str, dtype: str) -> None:
    x = gt.tensor("x", dtype=dtype, shape=(None,))
    try:
        with np.errstate(all="ignore"):
            want = np.asarray(UNARY[name](np.ones(2, dtype=dtype))).dtype
    except TypeError:
        # NumPy/SciPy has no loop for this dtype: gnomon says so, with a hint.
        with pytest.raises(GnomonTypeError, match="Hint"):
            getattr(gt, name)(x)
        return
    assert getattr(gt, name)(x).dtype == want.name


def test_log1mexp_dtype() -> None:
    for dtype, want in [("int32", "float64"), ("float32", "float32"), ("float64", "float64")]:
        assert gt.log1mexp(gt.tensor("x", dtype=dtype, shape=(3,))).dtype == want
    y = run(gt.log1mexp, np.array([-0.1, -3.0], dtype="float32"))
    assert y.dtype == np.float32


BINARY = {"maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(("da", "db"), [("float32", "float32"), ("float32", "float64"),
                                        ("int32", "float32"), ("int8", "int64"),
                                        ("bool", "int32"), ("uint8", "int8")])
def test_binary_dtype_matches_numpy(name: str, da: str, db: str) -> None:
    a = gt.tensor("a", dtype=da, shape=(None,))
    b = gt.tensor("b", dtype=db, shape=(None,))
    want = BINARY[name](np.ones(2, dtype=da), np.ones(2, dtype=db)).dtype
    assert getattr(gt, name)(a, b).dtype == want.name


def test_clip_dtype_and_python_bounds() -> None:
    x32 = np.linspace(-2, 2, 7, dtype="float32")
    y = run(lambda v: gt.clip(v, -0.5, 1), x32)
    want = np.clip(x32, -0.5, 1)
    assert y.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(y, want)
    xi = np.arange(-4, 5, dtype="int16")
    y = run(lambda v: gt.clip(v, -2, 3), xi)
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y, np.clip(xi, -2, 3))


# --- broadcasting on hypothesis shapes --------------------------------------------------------


def _values(shapes, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, s) for s in shapes]


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       name=st.sampled_from(sorted(BINARY)), static=st.booleans(),
       seed=st.integers(0, 2**16))
def test_binary_broadcasting(shapes, name: str, static: bool, seed: int) -> None:  # type: ignore[no-untyped-def]
    vals = _values(shapes.input_shapes, seed)
    xs = [gt.tensor(f"x{i}", dtype="float64", shape=v.shape if static else (None,) * v.ndim)
          for i, v in enumerate(vals)]
    out = getattr(gt, name)(*xs)
    got = gnomon.function(xs, out, mode="numpy")(*vals)
    want = BINARY[name](*vals)
    assert got.shape == want.shape == shapes.result_shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # The gradient of each input has that input's shape (broadcast dims summed back).
    gs = gnomon.function(xs, gnomon.grad(gt.sum(out), xs), mode="numpy")(*vals)
    for g, v in zip(gs, vals, strict=True):
        assert g.shape == v.shape


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
def test_clip_broadcasting(shapes, seed: int) -> None:  # type: ignore[no-untyped-def]
    x, lo, hi = _values(shapes.input_shapes, seed)
    lo, hi = lo - 1.0, hi + 1.0  # mostly lo < hi, with some lo > hi where they overlap
    got = run(gt.clip, x, lo, hi)
    want = np.clip(x, lo, hi)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    gx, glo, ghi = grads(lambda a, b, c: gt.sum(gt.clip(a, b, c)), x, lo, hi)
    # Each output element's unit gradient goes to exactly one of the three inputs.
    assert gx.shape == x.shape and glo.shape == lo.shape and ghi.shape == hi.shape
    assert np.isclose(gx.sum() + glo.sum() + ghi.sum(), want.size)


# --- gradient conventions ---------------------------------------------------------------------


@pytest.mark.parametrize("fn", [gt.maximum, gt.minimum])
def test_tie_splits_gradient_equally(fn) -> None:  # type: ignore[no-untyped-def]
    x = np.array([1.0, -2.0, 3.0])
    y = np.array([1.0, 0.5, 3.0])  # ties at 0 and 2
    gx, gy = grads(lambda a, b: gt.sum(fn(a, b)), x, y)
    winner_x = 0.0 if fn is gt.maximum else 1.0  # x[1] < y[1]
    np.testing.assert_array_equal(gx, [0.5, winner_x, 0.5])
    np.testing.assert_array_equal(gy, [0.5, 1.0 - winner_x, 0.5])


def test_maximum_nan_gets_no_gradient() -> None:
    gx, gy = grads(lambda a, b: gt.sum(gt.maximum(a, b)), np.array([np.nan]), np.array([1.0]))
    assert gx[0] == 0.0 and gy[0] == 0.0


def test_clip_gradient_at_and_beyond_bounds() -> None:
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    lo = np.full(5, -1.0)
    hi = np.full(5, 1.0)
    gx, glo, ghi = grads(lambda a, b, c: gt.sum(gt.clip(a, b, c)), x, lo, hi)
    np.testing.assert_array_equal(gx, [0, 1, 1, 1, 0])  # closed interval, ends included
    np.testing.assert_array_equal(glo, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(ghi, [0, 0, 0, 0, 1])
    # lo > hi: the result is hi, and so is the gradient's destination.
    gx, glo, ghi = grads(lambda a, b, c: gt.sum(gt.clip(a, b, c)), x, hi, lo)
    np.testing.assert_array_equal(gx, 0)
    np.testing.assert_array_equal(glo, 0)
    np.testing.assert_array_equal(ghi, 1)


@pytest.mark.parametrize("fn", [gt.floor, gt.ceil, gt.trunc, gt.round, gt.sign])
def test_piecewise_constant_gradient_is_zero(fn) -> None:  # type: ignore[no-untyped-def]
    x = np.array([-1.7, 0.2, 2.5])
    g = grads(lambda v: gt.sum(fn(v) * v), x)[0]
    np.testing.assert_allclose(g, np.asarray(run(fn, x), dtype="float64"))


def test_abs_gradient_real() -> None:
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(grads(lambda v: gt.sum(gt.abs(v)), x)[0], [-1.0, 0.0, 1.0])


# Complex inputs: with JAX's convention the gradient of a real cost c(z) is dc/dx - 1j dc/dy.
COMPLEX_COSTS = {
    "abs": lambda z, u: gt.sum(gt.abs(z) * gt.real(u)),
    "real": lambda z, u: gt.sum(gt.real(z) * gt.real(u)),
    "imag": lambda z, u: gt.sum(gt.imag(z) * gt.real(u)),
    "conj": lambda z, u: gt.sum(gt.real(gt.conj(z) * u)),
    "angle": lambda z, u: gt.sum(gt.angle(z) * gt.real(u)),
    "exp": lambda z, u: gt.sum(gt.real(gt.exp(z) * u)),
    "sin": lambda z, u: gt.sum(gt.real(gt.sin(z) * u)),
    "sqrt": lambda z, u: gt.sum(gt.imag(gt.sqrt(z) * u)),
    "square": lambda z, u: gt.sum(gt.abs(gt.square(z) + u)),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_COSTS))
def test_complex_gradient_convention(name: str) -> None:
    rng = np.random.default_rng(0)
    z = rng.uniform(0.3, 2, 4) + 1j * rng.uniform(-2, 2, 4)
    u = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    zv = gt.tensor("z", dtype="complex128", shape=(None,))
    uv = gt.tensor("u", dtype="complex128", shape=(None,))
    cost = COMPLEX_COSTS[name](zv, uv)
    f = gnomon.function([zv, uv], cost, mode="numpy")
    g = gnomon.function([zv, uv], gnomon.grad(cost, zv), mode="numpy")(z, u)
    eps = 1e-6
    want = np.empty_like(z)
    for k in range(z.size):
        e = np.zeros_like(z)
        e[k] = eps
        dx = (f(z + e, u) - f(z - e, u)) / (2 * eps)
        dy = (f(z + 1j * e, u) - f(z - 1j * e, u)) / (2 * eps)
        want[k] = dx - 1j * dy
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)


def test_complex_piecewise_gradient_not_implemented() -> None:
    z = gt.tensor("z", dtype="complex128", shape=(None,))
    with pytest.raises(gnomon.errors.NullGradientError):
        gnomon.grad(gt.sum(gt.real(gt.sign(z))), z)


# --- errors ---------------------------------------------------------------------------------


def test_errors_have_hints() -> None:
    z = gt.tensor("z", dtype="complex128", shape=(None,))
    with pytest.raises(GnomonTypeError, match=r"(?s)floor.*complex128.*Hint"):
        gt.floor(z)
    x = gt.dvector("x")
    with pytest.raises(GnomonValueError, match="Hint"):
        gt.clip(x, None, None)
    with pytest.raises(GnomonValueError, match="Hint"):
        gt.polygamma(-1, x)
    with pytest.raises(GnomonValueError, match="Hint"):
        gt.polygamma(1.5, x)
