"""Vector math in fused loops (gnomon/backends/numba/vmath.py and the blocked loops of
elemwise.py): glibc's libmvec routines agree with NumPy to 4 ulp on random arguments and
exactly on special values, and blocked kernels give NumPy's results on every path (broadcast
at run time, ragged last block, several phases, float32, in place)."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt

numba = pytest.importorskip("numba")
from gnomon.backends.numba import vmath  # noqa: E402
from gnomon.backends.numba.elemwise import elemwise_source  # noqa: E402

pytestmark = pytest.mark.skipif(not vmath.available(),
                                reason="no libmvec / AVX2 here: fused loops stay scalar")

#: argument ranges per function and dtype (inside float32's range for float32)
DOMAINS = {
    "exp": (-80, 80, -745, 709), "exp2": (-120, 120, -1075, 1023), "expm1": (-80, 80, -40, 709),
    "log": (0, 1e30, 0, 1e300), "log2": (0, 1e30, 0, 1e300), "log10": (0, 1e30, 0, 1e300),
    "log1p": (-1, 1e30, -1, 1e300), "sin": (-1e4, 1e4, -1e4, 1e4),
    "cos": (-1e4, 1e4, -1e4, 1e4), "tan": (-1e4, 1e4, -1e4, 1e4), "arcsin": (-1, 1, -1, 1),
    "arccos": (-1, 1, -1, 1), "arctan": (-1e5, 1e5, -1e5, 1e5), "sinh": (-80, 80, -709, 709),
    "cosh": (-80, 80, -709, 709), "tanh": (-20, 20, -20, 20),
    "arcsinh": (-1e10, 1e10, -1e10, 1e10), "arccosh": (1, 1e10, 1, 1e10),
    "arctanh": (-1, 1, -1, 1), "cbrt": (-1e10, 1e10, -1e10, 1e10), "power": (0, 30, 0, 50),
    "arctan2": (-10, 10, -10, 10), "hypot": (-1e3, 1e3, -1e3, 1e3),
}
SPECIALS = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 1e-310, 1000.0, -1000.0]


def _run_all(dtype: str, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Row ``k`` of the result: function ``k`` of ``DOMAINS`` on row ``k`` of ``x0`` (and of
    ``x1``), every vector function in one compiled function."""
    lines = ["def run(x0, x1, out, n):"]
    for k, name in enumerate(DOMAINS):
        srcs = "x0[k], x1[k]" if vmath.FUNCTIONS[name][1] == 2 else "x0[k]"
        lines.append(f"    vm_{name}({srcs.replace('k', str(k))}, out[{k}], n)")
    glb = {f"vm_{n}": getattr(vmath, f"vm_{n}_{dtype}") for n in DOMAINS}
    exec("\n".join(lines), glb)
    # rows padded to a multiple of every vector width: the routines read and write whole
    # vectors, so the last one reaches past n (into padding, as in a kernel's block buffers)
    n = x0.shape[1]
    pad = -n % 16
    x0, x1 = (np.pad(x, ((0, 0), (0, pad))) for x in (x0, x1))
    out = np.zeros_like(x0)
    numba.njit(glb["run"])(x0, x1, out, n)
    return out[:, :n]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vector_functions_agree_with_numpy(dtype: str) -> None:
    rng = np.random.default_rng(13)
    n_rand = 2048
    sp = np.array(SPECIALS)
    pairs = (np.repeat(sp, len(sp)), np.tile(sp, len(sp)))  # every special against every one
    # a length that is not a multiple of the vector width: the tail lanes are computed on
    # the buffer's spare elements and must not reach the results
    n = n_rand + len(pairs[0]) + 3
    x0 = np.empty((len(DOMAINS), n), dtype)
    x1 = np.ones((len(DOMAINS), n), dtype)
    for k, (name, (lo32, hi32, lo64, hi64)) in enumerate(DOMAINS.items()):
        lo, hi = (lo64, hi64) if dtype == "float64" else (lo32, hi32)
        for i, x in enumerate((x0, x1)):
            r = rng.uniform(lo, hi, n)
            r[: n_rand // 4] *= 1e-3  # small arguments too
            r[n_rand:n_rand + len(pairs[0])] = pairs[i]
            x[k] = r
    got = _run_all(dtype, x0, x1)
    for k, name in enumerate(DOMAINS):
        args = (x0[k], x1[k])[: vmath.FUNCTIONS[name][1]]
        with np.errstate(all="ignore"):
            ref = getattr(np, name)(*args)
        out = got[k]
        fin = np.isfinite(ref)
        # non-finite results: exactly NumPy's (inf of the same sign, NaN where NumPy has NaN)
        np.testing.assert_array_equal(out[~fin], ref[~fin], err_msg=name)
        ulp = np.abs(out[fin].astype(np.float64) - ref[fin]) / np.spacing(
            np.abs(ref[fin])).astype(np.float64)
        assert ulp.max() <= 4, (name, dtype, float(ulp.max()), args[0][fin][np.argmax(ulp)])
        # signed zeros where NumPy gives an exact zero
        z = fin & (ref == 0)
        np.testing.assert_array_equal(np.signbit(out[z]), np.signbit(ref[z]), err_msg=name)


_F = {}


def _fn(key: str, inputs: list, output: object) -> gnomon.Function:
    f = _F.get(key)
    if f is None:
        f = _F[key] = gnomon.function(inputs, output, mode=gnomon.Mode("numba", tiered="off"))
    return f


def _blocked(f: gnomon.Function) -> bool:
    return any("_vm_" in elemwise_source(n) for n in f.program.nodes
               if type(n.op).__name__ == "Elemwise")


def test_blocked_loop_matches_numpy_and_is_used() -> None:
    x = gt.dvector("x")
    f = _fn("bench", [x], gt.exp(-x ** 2) * gt.sin(x) + gt.log1p(x ** 2) * 0.5)
    assert _blocked(f)
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, vmath.BLOCK, 2 * vmath.BLOCK + 5):
        xv = rng.normal(size=n) * 3
        ref = np.exp(-xv ** 2) * np.sin(xv) + np.log1p(xv ** 2) * 0.5
        np.testing.assert_allclose(f(xv), ref, rtol=1e-12, atol=1e-15)


def test_blocked_loop_broadcasts_at_run_time_and_nests_phases() -> None:
    # exp(sin(x)) needs three phases; y's length-1 dims broadcast only at run time
    x, y = gt.dmatrix("x"), gt.dmatrix("y")
    f = _fn("nested", [x, y], gt.exp(gt.sin(x)) * y + gt.cosh(y) - x)
    assert _blocked(f)
    rng = np.random.default_rng(4)
    for sx, sy in [((3, 700), (3, 700)), ((3, 1), (1, 700)), ((2, 5), (1, 1))]:
        xv, yv = rng.normal(size=sx), rng.normal(size=sy)
        ref = np.exp(np.sin(xv)) * yv + np.cosh(yv) - xv
        np.testing.assert_allclose(f(xv, yv), ref, rtol=1e-12, atol=1e-14)


def test_blocked_loop_float32_power_and_in_place() -> None:
    x, p = gt.fvector("x"), gt.fvector("p")
    f = _fn("f32", [x, p], gt.log1p(gt.exp(x)) + x ** p)
    assert _blocked(f)
    rng = np.random.default_rng(5)
    xv = rng.uniform(0, 3, 1500).astype("float32")
    pv = rng.uniform(-2, 2, 1500).astype("float32")
    out = f(xv, pv)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.log1p(np.exp(xv)) + xv ** pv, rtol=2e-6)
    # the row sums are dead after the loop: the kernel writes its result into them, and must
    # have read every element of a block before writing that block
    v = gt.dmatrix("v")
    s = gt.sum(v, axis=1)
    g = _fn("inplace", [v], gt.exp(s) * gt.cos(s) + s)
    assert g.compiled.state.inplace, "the memory plan should reuse the buffer of the sums"
    vv = rng.normal(size=(1100, 2))
    sv = vv.sum(axis=1)
    np.testing.assert_allclose(g(vv), np.exp(sv) * np.cos(sv) + sv, rtol=1e-12, atol=1e-14)
