"""Regression tests for issue 16 (memory safety and silent wrong results on the Numba backend).

Crashes are the failure mode of some of these cases (SIGFPE, heap corruption), so they run in a
subprocess: a dead interpreter is a failed test, not a dead test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

import gnomon
import gnomon.tensor as gt
from gnomon.errors import GnomonError, GnomonRuntimeError
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op

SIGNED = ["int8", "int16", "int32", "int64"]


def _run(code: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    # from a real file, so that errors can quote the script's lines
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "script.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(code))
        return subprocess.run([sys.executable, path], capture_output=True, text=True,
                              timeout=timeout)


def test_integer_floor_divide_and_remainder_by_minus_one_do_not_kill_the_process() -> None:
    # INT_MIN // -1 traps in hardware (SIGFPE); NumPy wraps to INT_MIN and gives remainder 0.
    res = _run(f"""
        import numpy as np, gnomon, gnomon.tensor as gt
        for dt in {SIGNED!r}:
            lo = np.iinfo(dt).min
            x = np.array([lo, lo, 7, -7, 5, lo], dtype=dt)
            y = np.array([-1, 1, -1, 2, 0, -1], dtype=dt)
            for shape in [(None,), ()]:
                a, b = gt.tensor(dtype=dt, shape=shape), gt.tensor(dtype=dt, shape=shape)
                for op in (lambda p, q: p // q, lambda p, q: p % q,
                           lambda p, q: (p // q) + (p % q) * 3):
                    f = gnomon.function([a, b], op(a, b))
                    pairs = zip(x, y) if shape == () else [(x, y)]
                    for xi, yi in pairs:
                        with np.errstate(all="ignore"):
                            want = op(np.asarray(xi), np.asarray(yi))
                        got = f(np.asarray(xi), np.asarray(yi))
                        assert got.dtype == want.dtype, (dt, got.dtype, want.dtype)
                        assert np.array_equal(got, want), (dt, shape, xi, yi, got, want)
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.stdout, (res.returncode, res.stderr[-2000:])


@pytest.mark.parametrize(("int_dt", "float_dt"), [("int64", "float32"), ("int32", "float32"),
                                                  ("uint64", "float32"), ("int16", "float16")])
def test_mixed_dtype_arithmetic_computes_in_numpys_dtype(int_dt: str, float_dt: str) -> None:
    i = gt.tensor(dtype=int_dt, shape=(None,))
    f = gt.tensor(dtype=float_dt, shape=(None,))
    rng = np.random.default_rng(16)
    iv = np.array([123456789, 7, 2**15 - 1], dtype=int_dt) if int_dt != "int16" else \
        np.array([12345, 7, -3], dtype=int_dt)
    fv = rng.normal(size=3).astype(float_dt)
    for build, ref in [(lambda a, b: a + b, lambda a, b: a + b),
                       (lambda a, b: a * b - a, lambda a, b: a * b - a),
                       (lambda a, b: gt.maximum(a, b) / 3, lambda a, b: np.maximum(a, b) / 3)]:
        out = build(i, f)
        got = gnomon.function([i, f], out)(iv, fv)
        want = ref(iv, fv)
        assert out.dtype == want.dtype == got.dtype
        np.testing.assert_array_equal(got, want)


def test_int64_plus_float32_keeps_float64_precision() -> None:
    i, f = gt.lvector("i"), gt.fvector("f")
    got = gnomon.function([i, f], i + f)(np.array([123456789]), np.array([0.25], "float32"))
    assert got.dtype == np.float64 and got[0] == 123456789.25


def test_scan_with_negative_steps_raises_instead_of_corrupting_the_heap() -> None:
    res = _run("""
        import numpy as np, gnomon, gnomon.tensor as gt
        from gnomon.errors import GnomonValueError
        v0, n = gt.dvector("v0"), gt.lscalar("n")
        out, _ = gnomon.scan(lambda h: h * 2.0 + 1.0, outputs_info=[v0], n_steps=n)
        f = gnomon.function([v0, n], out)
        for size in (3, 100_000):
            try:
                f(np.ones(size), -1)
            except GnomonValueError as e:
                assert "n_steps" in str(e) and "gnomon.scan(lambda h" in str(e), str(e)
            else:
                raise AssertionError("no error for n_steps=-1")
        # the realistic trigger: n_steps = x.shape[0] - 1 on an empty x
        x = gt.dvector("x")
        out, _ = gnomon.scan(lambda h: h + 1.0, outputs_info=[v0], n_steps=x.shape[0] - 1)
        g = gnomon.function([v0, x], out)
        assert g(np.ones(4), np.ones(3)).shape == (2, 4)
        try:
            g(np.ones(4), np.ones(0))
        except GnomonValueError:
            print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.stdout, (res.returncode, res.stderr[-2000:])


def test_huge_allocation_fails_fast_with_the_node_and_line() -> None:
    # The error path used to re-run the whole program on the reference backend, which looped
    # over 2**40 steps in Python before it could say anything.
    res = _run("""
        import numpy as np, gnomon, gnomon.tensor as gt
        from gnomon.errors import GnomonRuntimeError
        v0, n = gt.dvector("v0"), gt.lscalar("n")
        out, _ = gnomon.scan(lambda h: h * 2.0 + 1.0, outputs_info=[v0], n_steps=n)
        f = gnomon.function([v0, n], out)
        try:
            f(np.ones(3), 2**40)
        except GnomonRuntimeError as e:
            msg = str(e)
            assert "MemoryError" in msg and "Scan" in msg, msg
            assert "gnomon.scan(lambda h" in msg, msg   # the user's line
            print("OK")
    """, timeout=600)
    assert res.returncode == 0 and "OK" in res.stdout, (res.returncode, res.stderr[-2000:])


@dataclass(frozen=True)
class _Picky(Op):
    """A user op without a Numba lowering whose perform rejects negative values."""

    def make_node(self, x: Any) -> Apply:
        x = gt.as_tensor(x)
        return Apply.make(self, [x], [x.type])

    def perform(self, node: Apply, inputs: Any) -> tuple[Any, ...]:
        (x,) = inputs
        if (x < 0).any():
            raise ValueError("picky: negative values are not allowed")
        return (x * 2,)


def test_error_in_a_node_run_in_python_names_the_node_and_the_line() -> None:
    x = gt.dvector("x")
    y = _Picky()(gt.exp(x) - 2.0)  # the line the error must show
    f = gnomon.function([x], y + 1.0)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), (np.exp([1.0, 2.0]) - 2) * 2 + 1)
    with pytest.raises(GnomonError) as info:
        f(np.array([0.0, 2.0]))
    msg = str(info.value)
    assert "picky: negative values" in msg and "_Picky" in msg
    assert "y = _Picky()(gt.exp(x) - 2.0)" in msg


def test_error_in_compiled_code_names_the_failing_node() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    z = gt.exp(x) * 2.0
    w = z + y  # the failing broadcast
    f = gnomon.function([x, y], w.sum())
    with pytest.raises(GnomonRuntimeError) as info:
        f(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "broadcast" in msg and "w = z + y" in msg


def test_error_points_at_the_latest_line_that_built_a_shared_node() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    first = x + y
    f1 = gnomon.function([x, y], first)
    second = x + y  # the same interned node, built again here
    assert second is first
    # unfused, so that the failing node is the shared one (a fused loop reports the line of
    # the expression it computes, here the function call's)
    f2 = gnomon.function([x, y], second * 2.0, mode=gnomon.Mode("numba", optimize=False))
    with pytest.raises(GnomonError) as info:
        f2(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert msg.index("second = x + y") < msg.index("first = x + y")
    assert "Also built at" in msg
    assert f1(np.ones(2), np.ones(2)).tolist() == [2.0, 2.0]


@pytest.mark.parametrize("dt", ["uint8", "uint64", "int8", "int64"])
def test_integer_sign_and_power_follow_numpy(dt: str) -> None:
    # found by the differential fuzzer: sign(uint8 253) was 255; 410 ** (2**63 - 1) was INT_MIN
    # (NumPy wraps modulo 2**bits); 2 ** -1 returned a number where NumPy raises
    info = np.iinfo(dt)
    x, y = gt.tensor("x", dtype=dt, shape=(None,)), gt.tensor("y", dtype=dt, shape=(None,))
    v = np.array([0, 1, 100, info.max], dtype=dt)
    np.testing.assert_array_equal(gnomon.function([x], gt.sign(x))(v), np.sign(v))
    a = np.array([410 % info.max, 3, 2, 0, 7], dtype=dt)
    b = np.array([info.max, 5, 9, 0, 1], dtype=dt)
    f = gnomon.function([x, y], x ** y)
    with np.errstate(all="ignore"):
        want = a ** b
    got = f(a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    if info.min < 0:
        with pytest.raises(GnomonError, match="negative integer powers"):
            f(np.array([2], dtype=dt), np.array([-1], dtype=dt))


def test_complex_to_bool_and_digamma_poles_follow_the_reference() -> None:
    z, d = gt.zvector("z"), gt.dvector("d")
    got = gnomon.function([z], gt.cast(z, "bool"))(np.array([1e-300j, 0j, 2 + 0j]))
    assert got.tolist() == [True, False, True]
    import scipy.special as sp

    v = np.array([0.0, -0.0, -1.0, 1.0, 2.5])
    np.testing.assert_allclose(gnomon.function([d], gt.digamma(d))(v), sp.digamma(v), rtol=1e-12)
