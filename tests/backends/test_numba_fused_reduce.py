"""Reductions fused into the loop that produces their input (gnomon/compile/memory.py
``fusable_sums``, numba elemwise.py ``reduce=``): ``sum(f(x, ...))`` is one kernel with no array
of the values of ``f``, and gives NumPy's sums for every set of axes, dtype and run-time
broadcast, including the sums of elementwise terms of log-densities."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

pytest.importorskip("numba")

MODE = gnomon.Mode("numba", tiered="off")


def _fused(f: gnomon.Function) -> int:
    return len(f.compiled.state.fused_reductions)


def test_sum_of_squares_is_one_pass() -> None:
    # sum((x - mu)**2) stays a sum (no dot of a temporary) and fuses with its loop
    x, mu = gt.dvector("x"), gt.dscalar("mu")
    f = gnomon.function([x, mu], gt.sum((x - mu) ** 2), mode=MODE)
    assert _fused(f) == 1
    assert [type(n.op).__name__ for n in f.program.nodes].count("Elemwise") == 1
    rng = np.random.default_rng(21)
    for n in (0, 1, 9, 512, 2000):
        xv = rng.normal(size=n)
        np.testing.assert_allclose(f(xv, 0.25), np.sum((xv - 0.25) ** 2), rtol=1e-12)


def test_every_set_of_axes_with_run_time_broadcasting() -> None:
    x, y = gt.dtensor3("x"), gt.dtensor3("y")
    # kept innermost axis, reduced innermost axis (partial), both, everything
    cases = [(0,), (2,), (0, 2), (0, 1, 2)]
    # each sum gets its own elementwise loop (a loop whose values two sums read is not fused)
    outs = [gt.sum((x + float(k)) * y, axis=a) for k, a in enumerate(cases)]
    f = gnomon.function([x, y], outs, mode=MODE)
    assert _fused(f) == len(cases)
    rng = np.random.default_rng(22)
    for sx, sy in [((4, 5, 6), (4, 5, 6)), ((4, 1, 6), (1, 5, 6)), ((3, 2, 1), (1, 1, 7))]:
        xv, yv = rng.normal(size=sx), rng.normal(size=sy)
        for (k, a), got in zip(enumerate(cases), f(xv, yv), strict=True):
            np.testing.assert_allclose(got, np.sum((xv + k) * yv, axis=a), rtol=1e-12,
                                       atol=1e-12, err_msg=str(a))


def test_dtypes_follow_numpy() -> None:
    i, s = gt.ivector("i"), gt.fmatrix("s")
    outs = [gt.sum(i * 3), gt.sum(s * s, axis=1), gt.sum(gt.exp(s), dtype="float64")]
    f = gnomon.function([i, s], outs, mode=MODE)
    assert _fused(f) == len(outs)
    rng = np.random.default_rng(23)
    iv = rng.integers(-2**30, 2**30, 1000).astype("int32")
    sv = rng.normal(size=(3, 1000)).astype("float32")
    ref = [np.sum(iv * np.int32(3)), np.sum(sv * sv, axis=1), np.sum(np.exp(sv), dtype="float64")]
    for got, want in zip(f(iv, sv), ref, strict=True):
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-5 if want.dtype == "float32" else 1e-6)
        else:
            np.testing.assert_array_equal(got, want)  # integer sums wrap as NumPy's do


def test_log_density_terms_and_values_used_twice() -> None:
    # a normal log-density: a sum of elementwise terms, fused; its gradient reuses the
    # standardized values, which then are computed once and not fused into the sum
    x, mu, sigma = gt.dvector("x"), gt.dscalar("mu"), gt.dscalar("sigma")
    z = (x - mu) / sigma
    logp = gt.sum(-0.5 * z * z - gt.log(sigma) - 0.5 * np.log(2 * np.pi))
    f = gnomon.function([x, mu, sigma], [logp, gt.sum(gt.exp(z) * gt.sin(z)), z], mode=MODE)
    assert _fused(f) >= 1
    rng = np.random.default_rng(24)
    xv = rng.normal(1.0, 2.0, 1537)
    zv = (xv - 0.5) / 1.5
    got = f(xv, 0.5, 1.5)
    np.testing.assert_allclose(
        got[0], np.sum(-0.5 * zv * zv - np.log(1.5) - 0.5 * np.log(2 * np.pi)), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.sum(np.exp(zv) * np.sin(zv)), rtol=1e-12)
    np.testing.assert_allclose(got[2], zv, rtol=1e-15)


def test_errors_inside_a_fused_loop_name_the_reference_error() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], gt.sum(x * y + 1.0), mode=MODE)
    assert _fused(f) == 1
    with pytest.raises(gnomon.errors.GnomonError, match="broadcast"):
        f(np.ones(3), np.ones(4))
