"""gnomon.tensor.special beyond the op-records rows: SciPy's dtype rule for every function and
input dtype, the error for complex inputs, and the parameter derivatives of gammainc / betainc
against high-order finite differences over a grid that crosses the series / continued-fraction
boundaries."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonTypeError

FUNCS = [
    (gt.ndtr, sp.ndtr), (gt.log_ndtr, sp.log_ndtr), (gt.ndtri, sp.ndtri),
    (gt.i0, sp.i0), (gt.i0e, sp.i0e), (gt.i1, sp.i1), (gt.i1e, sp.i1e),
    (gt.logaddexp, np.logaddexp), (gt.logaddexp2, np.logaddexp2), (gt.xlogy, sp.xlogy),
    (gt.xlog1py, sp.xlog1py), (gt.betaln, sp.betaln), (gt.gammainc, sp.gammainc),
    (gt.gammaincc, sp.gammaincc), (gt.gammaincinv, sp.gammaincinv),
    (gt.gammainccinv, sp.gammainccinv), (gt.betainc, sp.betainc),
    (gt.betaincinv, sp.betaincinv), (gt.hyp2f1, sp.hyp2f1),
]
DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize(("fn", "ref"), FUNCS, ids=[f.__name__ for f, _ in FUNCS])
def test_output_dtype_is_scipys(fn, ref) -> None:  # type: ignore[no-untyped-def]
    for dt in DTYPES:
        nin = ref.nin
        want = ref(*[np.ones(1, dt)] * nin).dtype
        got = fn(*[gt.vector(dtype=dt)] * nin).dtype
        assert got == want, (dt, got, want)


def test_float32_hyp2f1_is_scipys() -> None:
    z = gt.fvector("z")
    v = np.array([-0.5, 0.1, 0.7], np.float32)
    got = gnomon.function([z], gt.hyp2f1(1.5, 2.0, 3.5, z), mode="numpy")(v)
    want = sp.hyp2f1(np.float32(1.5), np.float32(2.0), np.float32(3.5), v)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_complex_input_is_refused_with_a_hint() -> None:
    with pytest.raises(GnomonTypeError, match=r"real inputs only(.|\n)*Hint"):
        gt.ndtr(gt.zvector("z"))


def _richardson(f, x: np.ndarray, h: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    # fourth-order central difference
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def test_parameter_derivatives_match_finite_differences() -> None:
    a = np.array([0.1, 0.5, 1.0, 2.5, 7.0, 30.0, 200.0])[:, None]
    x = np.array([1e-4, 0.05, 0.5, 1.0, 2.0, 5.0, 10.0, 40.0, 250.0])[None, :]
    va, vx = gt.dmatrix("a"), gt.dmatrix("x")
    got = gnomon.function([va, vx], gt.gammainc_der_a(va, vx), mode="numpy")(a, x)
    want = _richardson(lambda t: sp.gammainc(t, x), a, 1e-4)
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-12)

    p = np.array([0.2, 0.9, 3.0, 40.0])[:, None, None]
    q = np.array([0.3, 1.0, 6.0, 80.0])[None, :, None]
    y = np.array([1e-3, 0.1, 0.4, 0.6, 0.9, 0.999])[None, None, :]
    vp, vq, vy = gt.tensor3("p"), gt.tensor3("q"), gt.tensor3("y")
    f = gnomon.function([vp, vq, vy], [gt.betainc_der_a(vp, vq, vy),
                                       gt.betainc_der_b(vp, vq, vy)], mode="numpy")
    da, db = f(p, q, y)
    h = 1e-5
    np.testing.assert_allclose(da, _richardson(lambda t: sp.betainc(t, q, y), p, h),
                               rtol=2e-6, atol=1e-10)
    np.testing.assert_allclose(db, _richardson(lambda t: sp.betainc(p, t, y), q, h),
                               rtol=2e-6, atol=1e-10)
