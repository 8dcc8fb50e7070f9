"""The Numba backend: op coverage, fused loops, run-time broadcasting, aliasing and in-place
safety, and the disk cache (concurrent compiles, corrupt entries, version changes).

Values are compared with NumPy on random inputs; the op-records table
(``tests/test_op_records.py -k numba``) covers every op against the reference backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import gnomon
import gnomon.tensor as gt
from gnomon.backends.numba import (
    cache,
    linker,
)
from gnomon.config import config

ROOT = Path(__file__).resolve().parents[2]
NO_REWRITE = gnomon.Mode("numba", optimize=False)
RNG = np.random.default_rng(7)


# --- coverage ------------------------------------------------------------------------------


# Which ops have no lowering: tests/backends/test_unlowered.py (gnomon.backends.numba.UNLOWERED).


def test_python_fallback_nodes_run_between_compiled_nodes() -> None:
    # an as_op (FromFunctionOp) has no Numba lowering (gnomon.backends.numba.UNLOWERED): it
    # runs with NumPy between the compiled exp and multiplication
    from gnomon.compile.ops import as_op

    rep = as_op([gt.dvector], [gt.dvector])(lambda v: np.repeat(v, 2))
    x = gt.dvector("x")
    f = gnomon.function([x], gt.exp(rep(x)) * 2.0, mode=NO_REWRITE)
    assert not f.compiled.state.nopython and f.compiled.state.fallback_nodes
    v = RNG.uniform(-0.9, 0.9, 7)
    np.testing.assert_allclose(f(v), np.exp(np.repeat(v, 2)) * 2.0, rtol=1e-12)


# --- elementwise loops ---------------------------------------------------------------------


def test_fused_composite_is_one_loop() -> None:
    x, y, z = gt.dmatrix("x"), gt.dmatrix("y"), gt.dmatrix("z")
    f = gnomon.function([x, y, z], (x * 2 + y) * z - gt.exp(-x ** 2), mode="numba")
    assert len(f.program.nodes) == 1, [str(n.op) for n in f.program.nodes]
    assert f.compiled.state.nopython
    # run-time broadcasting inside the fused loop too
    cases = [((3, 5), (3, 5), (3, 5)), ((3, 1), (1, 5), (3, 5)), ((1, 1), (4, 1), (1, 2))]
    for sa, sb, sc in cases:
        a, b, c = RNG.random(sa), RNG.random(sb), RNG.random(sc)
        np.testing.assert_allclose(f(a, b, c), (a * 2 + b) * c - np.exp(-a ** 2), rtol=1e-14)


@pytest.mark.parametrize(("sa", "sb"), [((3, 1), (1, 4)), ((1, 1), (2, 3)), ((2, 3), (2, 1)),
                                        ((1,), (5,)), ((4, 1, 2), (3, 1))])
def test_runtime_broadcasting_of_length_one_dims(sa: tuple, sb: tuple) -> None:
    a, b = RNG.random(sa), RNG.random(sb)
    x = gt.tensor("x", dtype="float64", shape=(None,) * a.ndim)
    y = gt.tensor("y", dtype="float64", shape=(None,) * b.ndim)
    for mode in (NO_REWRITE, "numba"):
        f = gnomon.function([x, y], [x * y + 1.0, gt.sum(x - y)], mode=mode)
        got = f(a, b)
        np.testing.assert_allclose(got[0], a * b + 1.0)
        np.testing.assert_allclose(got[1], np.sum(a - b))
        # the gradient reduces over the dims broadcast at run time
        g = gnomon.function([x, y], gnomon.grad(gt.sum(x * y), x), mode=mode)(a, b)
        full = np.broadcast_to(b, np.broadcast_shapes(sa, sb))
        np.testing.assert_allclose(g, _sum_to(full, sa))


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)


def test_incompatible_shapes_raise_the_reference_error() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], x + y, mode=NO_REWRITE)
    with pytest.raises(gnomon.errors.GnomonError, match="broadcast"):
        f(np.ones(3), np.ones(4))


def test_dtypes_follow_numpy() -> None:
    cases = [("int32", "int32"), ("float32", "int64"), ("int8", "uint8"), ("bool", "bool")]
    for da, db in cases:
        x, y = gt.vector("x", dtype=da), gt.vector("y", dtype=db)
        a = RNG.integers(1, 5, 4).astype(da)
        b = RNG.integers(1, 5, 4).astype(db)
        f = gnomon.function([x, y], [x + y, x * y, x // y, x > y], mode=NO_REWRITE)
        for got, want in zip(f(a, b), [a + b, a * b, a // b, a > b], strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


# --- aliasing and in-place ---------------------------------------------------------------


def test_outputs_never_alias_inputs_or_each_other() -> None:
    x = gt.dmatrix("x")
    s = gnomon.shared(RNG.random((3, 3)), name="s")
    outs = [x, x.T, gt.dimshuffle(x, (1, 0)), x + 1.0, s, s.T, x[1:]]
    f = gnomon.function([x], outs, mode=NO_REWRITE)
    assert f.compiled.outputs_never_alias
    a = RNG.random((3, 3))
    a0 = a.copy()
    res = f(a)
    for i, r in enumerate(res):
        assert not np.shares_memory(r, a), i
        assert not np.shares_memory(r, s.get_value(borrow=True)), i
        for j, q in enumerate(res[:i]):
            assert not np.shares_memory(r, q), (i, j)
    for r in res:
        r[...] = -1.0
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(f(a)[0], a0)


def test_inplace_reuse_keeps_results_and_inputs() -> None:
    x = gt.dmatrix("x")
    y = gt.exp(x)
    t = y.T                      # a view of y that is read after y's last direct use
    z = gt.log(y) + 1.0          # would like to overwrite y
    out = z * 2.0 + t
    f = gnomon.function([x], [out, gt.sqrt(gt.exp(x) + 1.0) * 3.0], mode=NO_REWRITE)
    assert f.compiled.state.inplace, "the plan should reuse at least one dead buffer"
    a = RNG.random((4, 4))
    a0 = a.copy()
    got = f(a)
    np.testing.assert_allclose(got[0], (np.log(np.exp(a)) + 1.0) * 2.0 + np.exp(a).T)
    np.testing.assert_allclose(got[1], np.sqrt(np.exp(a) + 1.0) * 3.0)
    np.testing.assert_array_equal(a, a0)


def test_inplace_plan_never_writes_into_inputs_constants_or_shared() -> None:
    from gnomon.compile.memory import plan_inplace
    from gnomon.compile.schedule import schedule

    x = gt.dvector("x")
    s = gnomon.shared(np.arange(3.0), name="s")
    c = gt.constant(np.arange(3.0))
    e = gt.exp(x)
    outs = [x + 1.0, s * 2.0, c - x, e, e + 1.0]
    prog = schedule([x, s], outs)
    plan = plan_inplace(prog, lambda n: True, lambda n: True)
    for i, k in plan.items():
        v = prog.nodes[i].inputs[k]
        assert v.owner is not None and v not in prog.outputs


def test_shared_updates_and_borrowed_values() -> None:
    w = gnomon.shared(RNG.random(4), name="w")
    x = gt.dvector("x")
    cost = gt.sum((w * x - 1.0) ** 2)
    f = gnomon.function([x], [cost, w], updates=[(w, w - 0.1 * gnomon.grad(cost, w))],
                        mode="numba")
    a = RNG.random(4)
    a0, w0 = a.copy(), w.get_value()
    c, wout = f(a)
    np.testing.assert_allclose(c, np.sum((w0 * a - 1.0) ** 2))
    np.testing.assert_array_equal(wout, w0)
    np.testing.assert_allclose(w.get_value(), w0 - 0.1 * 2 * (w0 * a - 1.0) * a)
    np.testing.assert_array_equal(a, a0)
    assert not np.shares_memory(wout, w.get_value(borrow=True))


def test_trust_input_and_fast_input_filter() -> None:
    a, b = gt.dscalar("a"), gt.fscalar("b")
    f = gnomon.function([a, b], a * b, mode="numba")
    assert float(f(1.5, 2.0)) == 3.0
    assert f(np.array(2.0), np.float32(3.0)).dtype == np.float64
    with pytest.raises(gnomon.errors.GnomonTypeError):
        f(np.ones(2), 1.0)
    f.trust_input = True
    assert float(f(np.array(2.0), np.array(4.0, dtype="float32"))) == 8.0


# --- disk cache --------------------------------------------------------------------------


_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, gnomon, gnomon.tensor as gt
    from gnomon.backends.numba import cache
    x = gt.dvector("x")
    m = gnomon.Mode("numba", optimize=False)
    f = gnomon.function([x], gt.tanh(x) * {k} + gt.sum(x), mode=m)
    v = np.linspace(-1, 1, 5)
    assert np.allclose(f(v), np.tanh(v) * {k} + v.sum())
    print("OK", len(cache.entries()))
""")


def _run(code: str, cache_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, GNOMON_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_compile_the_same_graph_at_once(tmp_path: Path) -> None:
    code = _SCRIPT.format(k=3.25)
    procs = [_run(code, tmp_path), _run(code, tmp_path)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.startswith("OK")
    # and a third process finds a complete, valid cache
    p = _run(code, tmp_path)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert not list((tmp_path / "numba").glob(".tmp-*"))


def _fresh_process_state() -> None:
    cache._MODULES.clear()
    linker._KERNELS.clear()


def test_truncated_entry_is_rebuilt_not_loaded(tmp_path: Path) -> None:
    x = gt.dvector("x")
    with config.change(cache_dir=str(tmp_path)):
        _fresh_process_state()
        f = gnomon.function([x], gt.cosh(x) - 0.5, mode=NO_REWRITE)
        v = RNG.random(6)
        np.testing.assert_allclose(f(v), np.cosh(v) - 0.5)
        files = sorted((tmp_path / "numba").glob("gnomon_nb_*.py"))
        assert files
        for p in files:  # half-written sources
            text = p.read_text()
            p.write_text(text[: len(text) // 2])
        nb_files = list((tmp_path / "numba").glob("*.nb*"))
        assert nb_files
        for p in nb_files:  # and Numba's files
            p.write_bytes(p.read_bytes()[:10])
        _fresh_process_state()
        f2 = gnomon.function([x], gt.cosh(x) - 0.5, mode=NO_REWRITE)
        np.testing.assert_allclose(f2(v), np.cosh(v) - 0.5)
        for p in files:
            head, _, body = p.read_text().partition("\n")
            assert head == cache._HEADER + cache._checksum(body)
    _fresh_process_state()


def test_version_change_invalidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = gt.dvector("x")
    with config.change(cache_dir=str(tmp_path)):
        _fresh_process_state()
        gnomon.function([x], gt.sinh(x), mode=NO_REWRITE)(np.ones(2))
        before = {n for n, _ in cache.entries()}
        monkeypatch.setattr(gnomon, "__version__", gnomon.__version__ + ".post999")
        _fresh_process_state()
        np.testing.assert_allclose(
            gnomon.function([x], gt.sinh(x), mode=NO_REWRITE)(np.ones(2)), np.sinh(np.ones(2)))
        after = {n for n, _ in cache.entries()}
        assert before and after - before, "a new gnomon version must give new cache entries"
    _fresh_process_state()


def test_cache_cli_list_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with config.change(cache_dir=str(tmp_path)):
        _fresh_process_state()
        x = gt.dvector("x")
        gnomon.function([x], x * 3.5, mode=NO_REWRITE)(np.ones(2))
        assert cache.main(["list"]) == 0
        assert "entries" in capsys.readouterr().out
        n = len(cache.entries())
        assert n > 0
        assert cache.main(["clear"]) == 0
        assert cache.entries() == []
        assert cache.main(["bogus"]) == 2
    _fresh_process_state()


def test_a_numba_compile_failure_falls_back_to_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """If Numba cannot compile a program (a gap in a lowering), the function still works."""
    from gnomon.backends.numba import elemwise as ne

    real = ne.elemwise_source

    def broken(node, inplace=None):  # type: ignore[no-untyped-def]
        return real(node, inplace).replace("out0[", "undefined_name[", 1)

    monkeypatch.setattr(ne, "elemwise_source", broken)
    x = gt.dvector("x")
    f = gnomon.function([x], [gt.exp(x) * 3.0, x], mode=NO_REWRITE)
    v = RNG.random(3)
    with pytest.warns(RuntimeWarning, match="reference backend"):
        got = f(v)
    np.testing.assert_allclose(got[0], np.exp(v) * 3.0)
    assert not np.shares_memory(got[1], v)
    np.testing.assert_allclose(f(v)[0], np.exp(v) * 3.0)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gradient_graphs_of_sort_and_searchsorted(axis: int) -> None:
    """The gradient of sort gathers with PermuteAlongAxis; compare whole graphs with NumPy."""
    from gnomon.testing import compare_backends

    x = RNG.permutation(12).reshape(3, 4).astype("float64") + RNG.random((3, 4)) * 0.1
    w = RNG.random((3, 4))

    def fn(a, b):  # type: ignore[no-untyped-def]
        s = gt.sort(a, axis=axis)
        return [gnomon.grad(gt.sum(s * b), a), gt.searchsorted(gt.sort(gt.flatten(a)), b)]

    compare_backends(fn, [x, w], modes=["numba"])


def test_sort_and_argsort_of_long_rows_follow_numpy() -> None:
    """The merge sort of the kernels (sort.py) past its insertion-sorted runs of 16: lengths
    that leave partial runs and odd merges, ties (argsort must be stable) and NaN (last)."""
    x = gt.dvector("x")
    i = gt.lvector("i")
    f = gnomon.function([x, i], [gt.sort(x), gt.argsort(x), gt.sort(i), gt.argsort(i)],
                        mode="numba")
    rng = np.random.default_rng(7)
    for n in (0, 1, 16, 17, 33, 100, 257):
        xv = rng.integers(-5, 5, n).astype("float64")  # ties
        xv[rng.random(n) < 0.1] = np.nan
        xv[::7] *= -0.0  # signed zeros equal to zeros
        iv = rng.integers(-3, 3, n)
        got = f(xv, iv)
        np.testing.assert_array_equal(got[0], np.sort(xv))
        np.testing.assert_array_equal(got[1], np.argsort(xv, kind="stable"))
        np.testing.assert_array_equal(got[2], np.sort(iv))
        np.testing.assert_array_equal(got[3], np.argsort(iv, kind="stable"))


def test_indices_are_bounds_checked() -> None:
    x = gt.dmatrix("x")
    i = gt.lscalar("i")
    idx = gt.lvector("idx")
    f = gnomon.function([x, i, idx], [x[i], x[idx], x[idx, :] * 2.0], mode=NO_REWRITE)
    a = RNG.random((4, 3))
    got = f(a, -1, np.array([3, 0, -4]))
    np.testing.assert_array_equal(got[0], a[-1])
    np.testing.assert_array_equal(got[1], a[[3, 0, -4]])
    np.testing.assert_array_equal(got[2], a[[3, 0, -4], :] * 2.0)
    with pytest.raises(IndexError):
        f(a, 4, np.array([0]))
    with pytest.raises(IndexError):
        f(a, 0, np.array([0, 5]))


def test_reshape_refuses_minus_one_next_to_a_zero_length() -> None:
    # found by the differential fuzzer: NumPy (the reference) raises, Numba returned shape (0, 0)
    from gnomon.errors import ShapeError

    x = gt.dmatrix("x")
    f = gnomon.function([x], gt.reshape(x, (0, -1)), mode="numba")
    with pytest.raises(ShapeError):
        f(np.zeros((0, 3)))
    g = gnomon.function([x], gt.reshape(x, (-1, 2)), mode="numba")
    assert g(np.zeros((2, 3))).shape == (3, 2)


def test_log_softmax_of_huge_values_keeps_log_of_the_sum() -> None:
    # found by the differential fuzzer: y - (shift + log s) lost log s at y = 2**64
    from gnomon.testing import compare_backends

    compare_backends(gt.log_softmax, [np.array([[0, 0, 2**64 - 1, 2**64 - 1]], dtype="uint64")],
                     modes=["numba"])
    compare_backends(lambda x: gt.log_softmax(x, axis=0),
                     [np.array([[1e300], [1e300], [-np.inf]])], modes=["numba"])
