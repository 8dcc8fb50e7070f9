"""The C backend (``mode="c"``) and ``gnomon.export_c``.

To keep compile time in budget, the op-records rows (first case of each row and the gradient
graph of every differentiable row) and the rewrite-rule cases are compiled together into batch
extension modules (``linker.batch()``) at ``-O0``; the other tests compile small programs of
their own.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import textwrap
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.testing import tolerance
from tests.records import all_records
from tests.rewrite import test_rules as rule_cases

cache = pytest.importorskip("gnomon.backends.c.cache")
try:
    CC = cache.compiler()
except Exception:  # pragma: no cover - no compiler on this machine
    pytest.skip("no C compiler", allow_module_level=True)

from gnomon.backends import diskcache  # noqa: E402
from gnomon.backends.c import linker  # noqa: E402

RECORDS = [r for r in all_records() if not r.random]


# the draws of tests/test_op_records.py (not imported from there: it loads every backend)
def _inputs(rec: Any, case: int) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(f"{rec.name}-{case}".encode()))
    return [a.draw(rng) for a in rec.cases[case]]


def _symbolic(rec: Any, case: int, values: list[np.ndarray]) -> list[Any]:
    return [gt.tensor(f"x{k}", dtype=v.dtype, shape=v.shape if a.static else (None,) * v.ndim)
            for k, (a, v) in enumerate(zip(rec.cases[case], values, strict=True))]


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else [x]


RULE_CASES = rule_cases.CASES
GRAD_ROWS = [r for r in RECORDS if r.grad >= 1]
#: rows of advanced indexing: every case runs in C (the other rows only their first), and none
#: may fall back to NumPy
ADVANCED = {"AdvancedSubtensor", "AdvancedIncSubtensor", "Nonzero"}
ADV_CASES = [(r, i) for r in RECORDS if {o.__name__ for o in r.ops} & ADVANCED
             for i in range(len(r.cases))]


def _grad_graph(rec: Any, values: list[np.ndarray]) -> Any:
    """The gradient graph of ``rec`` (as tests/test_backend_gradients.py builds it: a random
    cotangent per float output), or None."""
    idx = [k for k, v in enumerate(values) if v.dtype.kind == "f"
           and (rec.grad_wrt is None or k in rec.grad_wrt)]
    if not idx:
        return None
    rng = np.random.default_rng(zlib.crc32(rec.name.encode()))

    def grads(*xs: Any) -> Any:
        every = _as_list(rec.fn(*xs))
        keep = [o.dtype[0] == "f" for o in every]
        if not any(keep):
            return None
        outs = [o for o, k in zip(every, keep, strict=True) if k]
        # the cotangents' shapes from the row's NumPy reference (no compiled probe needed)
        vals = [v for v, k in zip(_as_list(rec.ref(*[v.copy() for v in values])), keep,
                                  strict=True) if k]
        cost = gt.add(*[gt.sum(o * gt.constant(rng.standard_normal(np.shape(v)).astype(o.dtype)))
                        for o, v in zip(outs, vals, strict=True)], 0.0)
        return gnomon.grad(cost, [xs[k] for k in idx], disconnected_inputs="ignore")

    return grads


class _Outputs:
    """Outputs ``lo:hi`` of a compiled function (a row's forward outputs or its gradients)."""

    def __init__(self, f: Any, lo: int, hi: int) -> None:
        self.f, self.lo, self.hi, self.compiled = f, lo, hi, f.compiled

    def __call__(self, *args: Any) -> list[Any]:
        return _as_list(self.f(*args))[self.lo:self.hi]


#: the reference of the gradient and rule graphs: NumPy, the graph as built (no rewrites)
RAW = gnomon.Mode("numpy", optimize=False)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every row's C function (its outputs, then its gradient graph's) and rewrite case, built
    as batch modules at -O0 (one compiler run per 64 programs, run in parallel). Forward
    outputs are compared with the row's own NumPy function (``rec.ref``), gradients and rule
    cases with their graph run unrewritten by the reference backend."""
    old, old_all = cache.FLAGS, cache.all_flags
    # -O0 without the vector-math flags (nothing is vectorized at -O0) or unwind tables (C
    # code that raises no C++ exceptions); flags key the cache
    cache.FLAGS = (*("-O0" if f == "-O3" else f for f in old), "-fno-asynchronous-unwind-tables")
    cache.all_flags = lambda: cache.FLAGS
    out: dict[str, Any] = {}
    try:
        with linker.batch():
            for rec in RECORDS:
                values = _inputs(rec, 0)
                xs = _symbolic(rec, 0, values)
                fwd = _as_list(rec.fn(*xs))
                grad = _grad_graph(rec, values) if rec in GRAD_ROWS else None
                gouts = grad(*xs) if grad is not None else None
                gouts = _as_list(gouts) if gouts is not None else []
                # a row and its gradient graph are one C function (one compile, one program)
                f = gnomon.function(xs, fwd + gouts, mode="c", on_unused_input="ignore")
                out[f"fwd-{rec.name}"] = (rec, values, rec.ref, _Outputs(f, 0, len(fwd)))
                if gouts:
                    ref = gnomon.function(xs, gouts, mode=RAW, on_unused_input="ignore")
                    out[f"grad-{rec.name}"] = (rec, values, ref,
                                               _Outputs(f, len(fwd), len(fwd) + len(gouts)))
            for rec, case in ADV_CASES:
                if case:
                    values = _inputs(rec, case)
                    xs = _symbolic(rec, case, values)
                    f = gnomon.function(xs, rec.fn(*xs), mode="c", on_unused_input="ignore")
                    out[f"fwd-{rec.name}-{case}"] = (rec, values, rec.ref, f)
            for i, case in enumerate(RULE_CASES):
                rng = np.random.default_rng(i)
                xs = [a.variable(k) for k, a in enumerate(case.args)]
                values = [_rule_value(rng, a) for a in case.args]
                outs = _as_list(case.fn(*xs))
                ref = gnomon.function(xs, outs, mode=RAW, on_unused_input="ignore")
                f = gnomon.function(xs, outs, mode=gnomon.Mode("c").including(*case.include),
                                    on_unused_input="ignore")
                out[f"rule-{i}"] = (case, values, ref, f)
            out["small"] = _small_functions()
            first = out[f"fwd-{RECORDS[0].name}"]
            first[3](*first[1])  # builds the modules
    finally:
        cache.FLAGS, cache.all_flags = old, old_all
    return out


def _rule_value(rng: np.random.Generator, a: Any) -> np.ndarray:
    shape = a.static if a.static is not None else (3, 2, 3)[3 - a.ndim:]
    if np.dtype(a.dtype).kind in "iu":
        return rng.integers(int(a.lo), int(a.hi) + 1, size=shape).astype(a.dtype)
    return rng.uniform(a.lo, a.hi, size=shape).astype(a.dtype)


def _compare(rec: Any, values: list[np.ndarray], ref: Any, f: Any, grad: bool) -> None:
    want, got = _as_list(ref(*[v.copy() for v in values])), _as_list(f(*values))
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape), f"output {k}"
        rt, at = tolerance(w.dtype)
        if grad and any(v.dtype == np.float32 for v in values):
            rt = 1e-4
        rt, at = getattr(rec, "rtol", None) or rt, getattr(rec, "atol", None) or at
        np.testing.assert_allclose(g, w, rtol=rt, atol=at, equal_nan=True,
                                   err_msg=f"output {k} differs from the reference")


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_op_records_on_c(table: dict[str, Any], rec: Any) -> None:
    _compare(*table[f"fwd-{rec.name}"], grad=False)


@pytest.mark.parametrize("rec", GRAD_ROWS, ids=[r.name for r in GRAD_ROWS])
def test_gradient_graphs_on_c(table: dict[str, Any], rec: Any) -> None:
    if f"grad-{rec.name}" not in table:
        pytest.skip("no float input or output to differentiate")
    _compare(*table[f"grad-{rec.name}"], grad=True)


@pytest.mark.parametrize("i", range(len(RULE_CASES)),
                         ids=[f"{c.rule}-{i}" for i, c in enumerate(RULE_CASES)])
def test_rewrite_soundness_cases_on_c(table: dict[str, Any], i: int) -> None:
    # the graph rewritten for mode="c" (the case's rule included) and compiled to C agrees
    # with the graph as built, run by the reference
    case, values, ref, f = table[f"rule-{i}"]
    try:
        ref(*values)
    except gnomon.errors.GnomonError:
        pytest.skip("these shapes do not broadcast (the case's own test draws others)")
    _compare(case, values, ref, f, grad=False)


@pytest.mark.parametrize(("rec", "case"), ADV_CASES, ids=[f"{r.name}-{i}" for r, i in ADV_CASES])
def test_advanced_indexing_rows_run_in_c(table: dict[str, Any], rec: Any, case: int) -> None:
    # every case of the advanced-indexing rows, and their gradient graphs (scatters), with no
    # node running NumPy's perform
    if case:
        _compare(*table[f"fwd-{rec.name}-{case}"], grad=False)
    # the first case's values are compared by test_op_records_on_c, its gradient's by
    # test_gradient_graphs_on_c (one program computes both)
    f = table[f"fwd-{rec.name}" + (f"-{case}" if case else "")][3]
    assert not f.compiled.state.fallback_nodes, f.compiled.state.fallback_nodes


def test_most_of_the_table_runs_in_c(table: dict[str, Any]) -> None:
    # the C lowerings are used, not only the Python fallbacks
    rows = [v for k, v in table.items() if k != "small"]
    lowered = sum(1 for _, _, _, f in rows if not f.compiled.state.fallback_nodes)
    assert lowered > 0.5 * len(rows)


# --- mode="c" behaviour ---------------------------------------------------------------------


def _small_functions() -> dict[str, Any]:
    """The functions of the behaviour tests below, built inside the table's batch (one
    compiler run for all)."""
    x, y = gt.dmatrix("x"), gt.dvector("y")
    # exp(x) is dead after the fused loop reads it: the memory plan reuses its buffer; sort
    # has no C lowering and runs its perform between C kernels
    z = gt.log1p(gt.exp(x)) * y + 1.0
    fused = gnomon.function([x, y], [gt.sort(gt.sum(z, axis=0)), z], mode="c")
    v = gt.dvector("v")
    ev = gt.exp(v)
    # the sum reads exp(v) before the loop overwrites it
    inplace = gnomon.function([v], [gt.sin(gt.sum(ev) * ev), v],
                              mode=gnomon.Mode("c").excluding("fusion"))
    a, b = gt.dvector("a"), gt.dvector("b")
    w = gnomon.shared(np.zeros(3), name="w")
    s = gt.dvector("s")
    # sums fused into the loop producing their input (one kernel, no array of the terms)
    sums = {}
    for dt in ("float64", "float32"):
        xv, mu = gt.tensor("x", dtype=dt, shape=(None,)), gt.tensor("mu", dtype=dt, shape=())
        sums[f"sq-{dt}"] = gnomon.function([xv, mu], gt.sum((xv - mu) ** 2), mode="c")
    m, r = gt.dmatrix("m"), gt.dvector("r")
    for ax in (0, 1):
        sums[f"exp-{ax}"] = gnomon.function([m, r], gt.sum(gt.exp(m) * r, axis=ax), mode="c")
    yv, loc, sd = gt.dvector("y"), gt.dscalar("loc"), gt.dscalar("sd")
    sums["logp"] = gnomon.function(
        [yv, loc, sd], gt.sum(-0.5 * ((yv - loc) / sd) ** 2 - gt.log(sd) - 0.9189385332046727),
        mode="c")
    sc = gt.dscalar("sc")  # leading axes of contiguous operands: the row-wise flat loop
    sums["lead"] = gnomon.function([m, sc], gt.sum(gt.exp(m) * sc - m, axis=0), mode="c")
    i3 = gt.tensor("i3", dtype="int32", shape=(None, None, None))
    sums["int"] = gnomon.function([i3], gt.sum(i3 * 3 + 1, axis=(0, 2)), mode="c")
    xm, iv, ym = gt.dmatrix("x"), gt.lvector("i"), gt.dmatrix("y")
    adv = gnomon.function([xm, iv, ym], [xm[iv], gt.inc_subtensor(xm[iv], ym), xm[:, iv]],
                          mode="c")
    return {"fused": fused, "inplace": inplace, "sums": sums, "adv": adv,
            "shape": gnomon.function([a, b], a + b, mode="c"),
            "shared": (gnomon.function([s], gt.sum(w * s), updates=[(w, w + s)], mode="c"), w)}


def test_fused_loop_broadcasting_inplace_and_fallback(table: dict[str, Any]) -> None:
    f = table["small"]["fused"]
    st = f.compiled.state
    assert [type(n.op).__name__ for n in st.fallback_nodes] == ["Sort"]
    rng = np.random.default_rng(3)
    for xs, ys in [((3, 4), (4,)), ((3, 1), (4,)), ((2, 5), (1,))]:  # runtime broadcasting
        a, b = rng.normal(size=xs), rng.normal(size=ys)
        want = np.log1p(np.exp(a)) * b + 1.0
        got = f(a, b)
        np.testing.assert_allclose(got[1], want, rtol=1e-13)
        np.testing.assert_allclose(got[0], np.sort(want.sum(axis=0)), rtol=1e-12)


def test_sums_are_fused_into_their_loop_and_match_numpy(table: dict[str, Any]) -> None:
    fs = table["small"]["sums"]
    for f in fs.values():  # one kernel computes and sums the terms (never stored)
        st = f.compiled.state
        assert [type(n.op).__name__ for n in st.fused_sums] == ["Sum"]
        assert "acc += " in st.source
    rng = np.random.default_rng(14)
    for dt in ("float64", "float32"):
        a = rng.normal(size=2001).astype(dt)
        mu = np.asarray(0.25, dt)
        for v in (a, a[::3], a[:0]):  # contiguous, strided, empty
            got = fs[f"sq-{dt}"](v, mu)
            assert got.dtype == dt
            np.testing.assert_allclose(got, ((v - mu) ** 2).sum(), rtol=tolerance(dt)[0])
    for xs, ys in [((4, 6), (6,)), ((4, 1), (6,)), ((1, 6), (1,))]:  # runtime broadcasting
        a, b = rng.normal(size=xs), rng.normal(size=ys)
        for ax in (0, 1):
            np.testing.assert_allclose(fs[f"exp-{ax}"](a, b), (np.exp(a) * b).sum(axis=ax),
                                       rtol=1e-13)
        np.testing.assert_allclose(fs["exp-1"](np.asfortranarray(a), b),
                                   (np.exp(a) * b).sum(axis=1), rtol=1e-13)
    a = rng.normal(size=(5, 8))
    for v in (a, np.asfortranarray(a), a[:, ::2]):  # flat loop, then the strided nest
        np.testing.assert_allclose(fs["lead"](v, 1.5), (np.exp(v) * 1.5 - v).sum(axis=0),
                                   rtol=1e-13)
    y = rng.normal(1.0, 2.0, size=500)
    want = (-0.5 * ((y - 0.5) / 2.0) ** 2 - np.log(2.0) - 0.5 * np.log(2 * np.pi)).sum()
    np.testing.assert_allclose(fs["logp"](y, 0.5, 2.0), want, rtol=1e-13)
    k = rng.integers(-50, 50, size=(3, 4, 5)).astype("int32")
    got = fs["int"](k)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, (k * 3 + 1).sum(axis=(0, 2)))


def test_inplace_plan_is_used_and_inputs_are_never_written(table: dict[str, Any]) -> None:
    f = table["small"]["inplace"]
    assert f.compiled.state.inplace, "no node writes into a dead buffer"
    a = np.linspace(-1, 1, 6)
    keep = a.copy()
    got_z, got_x = f(a)
    np.testing.assert_allclose(got_z, np.sin(np.exp(a).sum() * np.exp(a)), rtol=1e-13)
    np.testing.assert_array_equal(a, keep)
    assert not np.shares_memory(got_x, a)  # an output equal to an input is a copy


def test_advanced_indexing_of_strided_and_empty_arrays_and_bad_indices(
        table: dict[str, Any]) -> None:
    f = table["small"]["adv"]
    assert not f.compiled.state.fallback_nodes
    rng = np.random.default_rng(8)
    x = np.asfortranarray(rng.normal(size=(4, 5)))
    for i, y in [(rng.integers(-4, 4, size=12)[::2], rng.normal(size=(1, 5))),  # strided
                 (np.zeros(0, np.int64), rng.normal(size=(0, 5)))]:  # empty
        want = x.copy()
        np.add.at(want, i, y)
        got = f(x, i, y)
        np.testing.assert_array_equal(got[0], x[i])
        np.testing.assert_allclose(got[1], want, rtol=1e-15)
        np.testing.assert_array_equal(got[2], x[:, i])
    # C stops at the bad index (never reads past the array); the replay names the node
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        f(x, np.array([0, 4]), np.zeros((1, 5)))
    with pytest.raises(gnomon.errors.GnomonError, match=r"AdvancedIncSubtensor.*broadcast"):
        f(x, np.array([0, 1]), np.zeros((3, 5)))


def test_shape_error_names_the_node_and_line(table: dict[str, Any]) -> None:
    with pytest.raises(gnomon.errors.GnomonError, match=r"test_c\.py"):
        table["small"]["shape"](np.ones(3), np.ones(4))


def test_shared_variables_and_updates(table: dict[str, Any]) -> None:
    f, w = table["small"]["shared"]
    f(np.ones(3))
    assert f(np.arange(3.0)) == pytest.approx(3.0)
    np.testing.assert_allclose(w.get_value(), [1.0, 2.0, 3.0])


def test_missing_compiler_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cache.shutil, "which", lambda _: None)
    cache.compiler.cache_clear()
    x = gt.dvector("x")
    try:
        with pytest.raises(gnomon.errors.BackendUnavailableError, match=r"apt-get install gcc"):
            gnomon.function([x], gt.cos(x) * 7.0, mode="c")
        # exporting needs no compiler (the C is compiled wherever it is used)
        assert Path(gnomon.export_c(gt.cos(x), tmp_path, name="nocc").c_file).exists()
    finally:
        monkeypatch.undo()
        cache.compiler.cache_clear()
    assert gnomon.compile.mode.get_mode(None).backend != "c"  # never the default


def test_cache_entries_are_signed_and_a_bad_one_is_rebuilt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gnomon.config, "cache_dir", str(tmp_path / "cache"))
    monkeypatch.setattr(gnomon.config, "cache_key_file", str(tmp_path / "key" / "cache.key"))
    monkeypatch.setattr(cache, "_STORES", {})
    monkeypatch.setattr(cache, "_MODULES", {})
    x = gt.dvector("x")
    gnomon.function([x], gt.tanh(x) * 3.0, mode="c")
    (entry,) = list((tmp_path / "cache" / "c").glob("*.so.signed"))
    assert entry.read_bytes().startswith(diskcache.MAGIC)
    assert oct((tmp_path / "cache" / "c").stat().st_mode & 0o777) == "0o700"
    assert oct(entry.stat().st_mode & 0o777) == "0o600"
    # a tampered entry (another process's view: a fresh in-process memo) is deleted, rebuilt
    entry.write_bytes(entry.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(cache, "_MODULES", {})
    # ... and, the cache being over its bound, the write evicts an older module (not the new)
    old = tmp_path / "cache" / "c" / "gnomon_c_old.so.signed"
    old.write_bytes(b"z" * 100)
    os.utime(old, (1, 1))
    monkeypatch.setattr(gnomon.config, "cache_max_bytes", 1)
    f = gnomon.function([x], gt.tanh(x) * 3.0, mode="c")
    np.testing.assert_allclose(f(np.ones(2)), np.tanh(np.ones(2)) * 3.0)
    payload = cache.diskcache.read_signed(cache._store(), str(entry))
    assert payload is not None and payload.startswith(b"\x7fELF")
    assert [p.name for p in (tmp_path / "cache" / "c").iterdir()] == [entry.name]


def test_cache_is_bounded_lru_and_keeps_loaded_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (the bound applied after a compile: test_cache_entries_are_signed_and_a_bad_one_...)
    d = tmp_path / "c"
    d.mkdir()
    # five entries of 1000 bytes used at t = 100..500, a fresh and a stale temporary file
    for k in range(5):
        p = d / f"gnomon_c_{k}.so.signed"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (100 * (k + 1), 100 * (k + 1)))
    (d / ".tmp-new-x.so").write_bytes(b"y")
    (d / ".tmp-old-x.so").write_bytes(b"y")
    os.utime(d / ".tmp-old-x.so", (1, 1))
    monkeypatch.setattr(cache, "_MODULES", {"gnomon_c_0": None})  # loaded here: kept
    assert cache.evict(str(d), 10_000) == []  # under the bound: only the stale file goes
    assert not (d / ".tmp-old-x.so").exists() and (d / ".tmp-new-x.so").exists()
    # bound 3500: down to 90 % (3150) by deleting the least recently used, skipping the
    # loaded one
    assert cache.evict(str(d), 3500) == ["gnomon_c_1", "gnomon_c_2"]
    assert sorted(p.name for p in d.glob("*.signed")) == [
        "gnomon_c_0.so.signed", "gnomon_c_3.so.signed", "gnomon_c_4.so.signed"]


def test_concurrent_compiles_of_one_module_leave_one_valid_entry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # two compiles of the same module at once (as two processes would: no shared memo or
    # lock), each writing the signed file: both load, and the entry verifies
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(gnomon.config, "cache_dir", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_STORES", {})
    # a minimal extension module (what is compiled does not matter here, only the writes)
    src = ("#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "
           f'"{cache.MODNAME}", NULL, -1, NULL}};\n'
           f"PyMODINIT_FUNC PyInit_{cache.MODNAME}(void) {{ return PyModule_Create(&m); }}\n")
    name = cache.module_name(src)
    store = cache._store()
    with ThreadPoolExecutor(2) as pool:
        mods = list(pool.map(lambda _: cache._load(name, src, store, cache._import), range(2)))
    assert all(m.__name__ == name for m in mods)
    (entry,) = list((tmp_path / "cache" / "c").iterdir())  # no temporary file left
    payload = diskcache.read_signed(store, str(entry))
    assert payload is not None and payload.startswith(b"\x7fELF")


# --- export_c ---------------------------------------------------------------------------------


def _export_graphs() -> list[tuple[str, list[Any], list[Any], list[np.ndarray]]]:
    """(name, inputs, outputs, input values) of the exported graphs."""
    rng = np.random.default_rng(11)
    x, y = gt.dmatrix("x"), gt.dvector("y")
    w = gt.dmatrix("w")
    mu, tau, theta = gt.dscalar("mu"), gt.dscalar("log_tau"), gt.dvector("theta")
    obs, sig = gt.constant(np.array([28.0, 8, -3, 7, -1, 1, 18, 12])), \
        gt.constant(np.array([15.0, 10, 16, 11, 9, 11, 10, 18]))
    logp = (-0.5 * gt.sum(((obs - theta) / sig) ** 2)
            - 0.5 * gt.sum(((theta - mu) / gt.exp(tau)) ** 2) - 8 * tau
            - 0.5 * mu ** 2 / 25.0 - 0.5 * tau ** 2)
    g_mu, g_tau, g_theta = gnomon.grad(logp, [mu, tau, theta])
    return [
        ("elementwise", [x, y], [gt.exp(x) * gt.sin(y) + x ** 2 / (1 + y ** 2)],
         [rng.normal(size=(3, 4)), rng.normal(size=4)]),
        ("reduction", [x], [gt.sum(x, axis=0), gt.max(x, axis=1), gt.logsumexp(x)],
         [rng.normal(size=(3, 4))]),
        ("matmul_softmax", [x, w], [gt.softmax(gt.dot(x, w), axis=-1)],
         [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]),
        ("eight_schools", [mu, tau, theta], [logp, g_mu, g_tau, g_theta],
         [np.array(1.5), np.array(0.3), rng.normal(size=8)]),
    ]


def _reference(inputs: list[Any], outputs: list[Any], values: list[np.ndarray]) -> list[Any]:
    return _as_list(gnomon.function(inputs, outputs, mode="numpy")(*values))


def _c_array(name: str, a: np.ndarray) -> str:
    flat = ", ".join(repr(float(v)) for v in a.reshape(-1)) or "0"
    shape = ", ".join(str(s) for s in a.shape) or "0"
    return (f"static const double {name}_data[] = {{{flat}}};\n"
            f"static const int64_t {name}_shape[] = {{{shape}}};\n")


def _driver(name: str, values: list[np.ndarray], n_out: int) -> str:
    """A C program: runs the graph on ``values``, prints every output, then calls it with a
    wrong shape (the last input one longer in its first dimension, zeros) and prints the
    error code and message, then with NULL inputs."""
    arrays = "".join(_c_array(f"in{k}", v) for k, v in enumerate(values))
    ins = ", ".join(f"{{in{k}_data, {v.ndim}, in{k}_shape, NULL}}" for k, v in enumerate(values))
    return textwrap.dedent(f"""\
        #include <stdio.h>
        #include "{name}.h"
        {arrays}
        int run_{name}(void) {{
            gnomon_input inputs[] = {{{ins}}};
            gnomon_output out[{n_out}];
            char err[256];
            int rc = {name}_run(inputs, out, err, sizeof err);
            if (rc) {{ printf("error %d %s\\n", rc, err); return 1; }}
            for (int j = 0; j < {n_out}; j++) {{
                int64_t n = 1;
                printf("out %d %lld", j, (long long)out[j].ndim);
                for (int d = 0; d < out[j].ndim; d++) {{
                    printf(" %lld", (long long)out[j].shape[d]);
                    n *= out[j].shape[d];
                }}
                for (int64_t i = 0; i < n; i++) printf(" %.17g", ((double *)out[j].data)[i]);
                printf("\\n");
            }}
            {name}_free(out);
            int64_t bad[8];
            const int last = {len(values) - 1};
            for (int d = 0; d < inputs[last].ndim; d++) bad[d] = inputs[last].shape[d];
            bad[0] += 1;
            double big[64] = {{0}};
            gnomon_input again[] = {{{ins}}};
            again[last].shape = bad; again[last].data = big;
            rc = {name}_run(again, out, err, sizeof err);
            printf("wrong %d %s\\n", rc, rc ? err : "");
            if (rc == 0) {name}_free(out);
            rc = {name}_run(NULL, out, err, sizeof err);
            printf("null %d\\n", rc);
            return 0;
        }}
        """)


def _parse(stdout: str) -> tuple[list[np.ndarray], str]:
    outs, wrong = [], ""
    for line in stdout.splitlines():
        parts = line.split()
        if parts[0] == "out":
            nd = int(parts[2])
            shape = tuple(int(s) for s in parts[3:3 + nd])
            outs.append(np.array([float(v) for v in parts[3 + nd:]]).reshape(shape))
        elif parts[0] == "wrong":
            wrong = line
    return outs, wrong


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    d = tmp_path_factory.mktemp("export")
    graphs = _export_graphs()
    for name, inputs, outputs, _ in graphs:
        gnomon.export_c(outputs, d, name=name, inputs=inputs)
    return d, graphs


def test_export_runs_from_c_with_address_sanitizer(exported: tuple[Path, list[Any]]) -> None:
    # one ASan program (one compiler run) calling every exported graph's driver in turn
    d, graphs = exported
    for name, _, outputs, values in graphs:
        (d / f"main_{name}.c").write_text(_driver(name, values, len(outputs)))
    names = [g[0] for g in graphs]
    (d / "main.c").write_text(
        "#include <stdio.h>\n" + "".join(f"int run_{n}(void);\n" for n in names)
        + "int main(void) {\n"
        + "".join(f'    printf("graph {n}\\n"); if (run_{n}()) return 1;\n' for n in names)
        + "    return 0;\n}\n")
    subprocess.run([*CC, "-std=c99", "-g", "-O0", "-fsanitize=address",
                    "-fno-omit-frame-pointer", "-Wall", "-Werror", "-Wno-unused-function",
                    "main.c", *[f"main_{n}.c" for n in names], *[f"{n}.c" for n in names],
                    "-o", str(d / "main"), "-lm"],
                   cwd=d, check=True, capture_output=True, text=True)
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1"}
    proc = subprocess.run([str(d / "main")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    parts = proc.stdout.split("graph ")[1:]
    assert [p.split("\n", 1)[0] for p in parts] == names
    for (name, inputs, outputs, values), part in zip(graphs, parts, strict=True):
        got, wrong = _parse(part.split("\n", 1)[1])
        want = _reference(inputs, outputs, values)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, np.asarray(w), rtol=1e-12, atol=1e-14)
        if name == "reduction":  # any shape is valid
            assert wrong.strip() == "wrong 0", wrong
        else:
            assert wrong.startswith("wrong 1 ") and len(wrong) > 20, wrong  # code + message
        assert "null 4" in part


class _In(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("ndim", ctypes.c_int64),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64))]


class _Out(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("ndim", ctypes.c_int64),
                ("shape", ctypes.c_int64 * 32), ("owner", ctypes.c_void_p)]


def _draws_graph() -> tuple[list[Any], list[Any]]:
    import gnomon.random as gr

    mu, sig, lo = gt.dscalar("mu"), gt.dscalar("sigma"), gt.dvector("low")
    return [mu, sig, lo], [gr.normal(mu, sig, size=4000), gr.uniform(lo, lo + 2.0),
                           gr.exponential(sig, size=(40, 100)),
                           gr.standard_normal(size=4000) * 1.0]


def _gather_graph() -> tuple[list[Any], list[Any]]:
    """``x[idx] * w`` and its gradient with respect to ``x`` (a scatter-add), as in a
    hierarchical model's parameters indexed by group."""
    x, idx, w = gt.dvector("x"), gt.lvector("idx"), gt.dvector("w")
    y = x[idx] * w
    return [x, idx, w], [y, gnomon.grad(gt.sum(y), x)]


@pytest.fixture(scope="module")
def shared_lib(exported: tuple[Path, list[Any]]) -> tuple[Any, Any]:
    """One shared library (one compiler run) of the exported matmul_softmax graph, of a
    graph of random draws and of the gather graph; and the draws' ``ExportedC``."""
    d, _ = exported
    inputs, outputs = _draws_graph()
    ex = gnomon.export_c(outputs, d, name="draws", inputs=inputs)
    inputs, outputs = _gather_graph()
    gnomon.export_c(outputs, d, name="gather", inputs=inputs)
    # built with the vector-math flags of mode="c" where the compiler takes them (the
    # GNOMON_VECMATH path of exported code), plain -O2 otherwise
    subprocess.run([*CC, "-O2", *cache.native_flags()[0], "-std=c99", "-fPIC", "-shared",
                    "-Wall", "-Werror", "-Wno-unused-function", "matmul_softmax.c", "draws.c",
                    "gather.c",
                    "-o", "libexported.so", "-lm"], cwd=d, check=True)
    return ctypes.CDLL(str(d / "libexported.so")), ex


def test_export_runs_from_ctypes_with_strided_inputs(exported: tuple[Path, list[Any]],
                                                      shared_lib: tuple[Any, Any]) -> None:
    _, inputs, outputs, values = next(g for g in exported[1] if g[0] == "matmul_softmax")
    lib = shared_lib[0]
    lib.matmul_softmax_run.restype = ctypes.c_int
    # x passed as a transposed (Fortran-order) view: strides are honoured
    x = np.asfortranarray(values[0])
    keep = []
    ins = (_In * 2)()
    for k, a in enumerate([x, values[1]]):
        shape = (ctypes.c_int64 * a.ndim)(*a.shape)
        strides = (ctypes.c_int64 * a.ndim)(*a.strides)
        keep += [shape, strides]
        ins[k] = _In(a.ctypes.data, a.ndim, shape, strides)
    outs = (_Out * 1)()
    err = ctypes.create_string_buffer(256)
    assert lib.matmul_softmax_run(ins, outs, err, 256) == 0, err.value
    o = outs[0]
    got = np.ctypeslib.as_array(ctypes.cast(o.data, ctypes.POINTER(ctypes.c_double)),
                                shape=tuple(o.shape[:o.ndim])).copy()
    lib.matmul_softmax_free(outs)
    np.testing.assert_allclose(got, _reference(inputs, outputs, values)[0], rtol=1e-12)


def test_export_refuses_what_it_cannot_lower(tmp_path: Path) -> None:
    x = gt.dvector("x")
    with pytest.raises(gnomon.errors.GnomonValueError, match="Sort"):
        gnomon.export_c(gt.sort(x), tmp_path, name="srt")
    with pytest.raises(gnomon.errors.GnomonValueError, match="C identifier"):
        gnomon.export_c(x * 2, tmp_path, name="1bad")


def test_export_of_a_function_takes_shared_values_and_returns_updates(tmp_path: Path) -> None:
    w = gnomon.shared(np.array([1.0, 2.0]), name="w")
    x = gt.dvector("x")
    f = gnomon.function([x], gt.sum(w * x), updates=[(w, w * 2.0)], mode="numpy")
    out = gnomon.export_c(f, tmp_path, name="upd")
    assert [i[0] for i in out.inputs] == ["x", "w"]
    assert len(out.outputs) == 2
    assert "shared variable w" in Path(out.h_file).read_text()


_DTYPES = {"float64": np.float64, "uint64": np.uint64, "int64": np.int64}


def _call(lib: Any, name: str, arrays: list[np.ndarray], outs_t: Any) -> list[np.ndarray]:
    """Run an exported graph through ctypes; ValueError with its message on an error code."""
    keep: list[Any] = []
    ins = (_In * len(arrays))()
    for k, a in enumerate(arrays):
        shape = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
        strides = (ctypes.c_int64 * max(a.ndim, 1))(*a.strides)
        keep += [shape, strides]
        ins[k] = _In(a.ctypes.data, a.ndim, shape, strides)
    outs = (_Out * len(outs_t))()
    err = ctypes.create_string_buffer(256)
    if getattr(lib, f"{name}_run")(ins, outs, err, 256):
        raise ValueError(err.value.decode())
    got = []
    for o, (dt, _) in zip(outs, outs_t, strict=True):
        shape = tuple(o.shape[:o.ndim])
        n = int(np.prod(shape))
        buf = (ctypes.c_char * (n * 8)).from_address(o.data) if n else b""
        got.append(np.frombuffer(bytes(buf), dtype=_DTYPES[dt]).reshape(shape))
    getattr(lib, f"{name}_free")(outs)
    return got


def test_exported_draws_take_seeds_and_fit_their_distributions(
        shared_lib: tuple[Any, Any]) -> None:
    import scipy.stats as st

    lib, ex = shared_lib
    # each random generator is a uint64 seed input; each returns the seed that continues it
    assert [i[1:] for i in ex.inputs[3:]] == [("uint64", ())] * 4
    assert [o for o in ex.outputs[4:]] == [("uint64", ())] * 4
    assert "random generator: its seed" in Path(ex.h_file).read_text()
    low = np.repeat(np.array([-1.0, 3.0]), 2000)

    def run(seeds: list[int], sigma: float = 2.0) -> list[np.ndarray]:
        vals = [np.array(1.5), np.array(sigma), low,
                *[np.array(s, dtype=np.uint64) for s in seeds]]
        return _call(lib, "draws", vals, ex.outputs)

    a, b, c = run([1, 2, 3, 4]), run([1, 2, 3, 4]), run([5, 6, 7, 8])
    for x, y, z in zip(a[:4], b[:4], c[:4], strict=True):
        np.testing.assert_array_equal(x, y)  # same seeds, same draws
        assert not np.any(x == z)  # other seeds, other draws
    # the returned seeds continue the streams: new draws, and deterministic
    assert [int(s) for s in a[4:]] == [int(s) for s in b[4:]]
    assert len({int(s) for s in a[4:]} | {1, 2, 3, 4}) == 8
    d = run([int(s) for s in a[4:]])
    assert not np.any(d[0] == a[0])
    # goodness of fit (fixed seeds), and the shapes: size, or the parameters broadcast
    normal, unif, expo, std = a[:4]
    assert normal.shape == (4000,) and unif.shape == (4000,) and expo.shape == (40, 100)
    assert st.kstest(normal, st.norm(1.5, 2.0).cdf).pvalue > 1e-3
    assert st.kstest(std, st.norm().cdf).pvalue > 1e-3
    assert st.kstest(expo.ravel(), st.expon(scale=2.0).cdf).pvalue > 1e-3
    for k, base in enumerate((-1.0, 3.0)):  # each half within its own [low, low + 2)
        part = unif[2000 * k:2000 * (k + 1)]
        assert part.min() >= base and part.max() < base + 2.0
        assert st.kstest(part, st.uniform(base, 2.0).cdf).pvalue > 1e-3
    # invalid parameters: an error code and the distribution's message
    with pytest.raises(ValueError, match="normal: parameter 'scale' must be >= 0"):
        run([1, 2, 3, 4], sigma=-1.0)


def test_exported_advanced_indexing_and_its_gradient(shared_lib: tuple[Any, Any]) -> None:
    from gnomon.tensor.indexing import AdvancedIncSubtensor

    inputs, outputs = _gather_graph()
    # the gradient is the scatter-add: what exported code could not hold before
    assert any(isinstance(v.owner.op, AdvancedIncSubtensor)
               for v in gnomon.graph.ancestors([outputs[1]]) if v.owner is not None)
    lib = shared_lib[0]
    rng = np.random.default_rng(5)
    x = rng.normal(size=6)
    ref = gnomon.function(inputs, outputs, mode="numpy")
    for idx in (rng.integers(-6, 6, size=40), np.array([], dtype=np.int64),
                rng.integers(-6, 6, size=80)[::3]):  # repeated, negative; empty; strided
        w = rng.normal(size=idx.size)
        got = _call(lib, "gather", [x, idx, w], [("float64", (None,))] * 2)
        want = np.zeros(6)
        np.add.at(want, idx, w)
        np.testing.assert_array_equal(got[0], x[idx] * w)
        np.testing.assert_allclose(got[1], want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(got[1], ref(x, idx, w)[1], rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="index 9 is out of bounds for axis 0 with size 6"):
        _call(lib, "gather", [x, np.array([1, 9, -2]), np.ones(3)], [("float64", (None,))] * 2)
    with pytest.raises(ValueError, match="index -7 is out of bounds for axis 0 with size 6"):
        _call(lib, "gather", [x, np.array([-7]), np.ones(1)], [("float64", (None,))] * 2)


def test_export_refuses_distributions_c_does_not_draw(tmp_path: Path) -> None:
    import gnomon.random as gr

    a = gt.dscalar("a")
    with pytest.raises(gnomon.errors.GnomonValueError, match="Gamma is not lowered to C"):
        gnomon.export_c(gr.gamma(a, 1.0, size=3), tmp_path, name="g")


# --- vector math (libmvec through omp simd loops) ----------------------------------------------

#: argument ranges per function (float32 range, float64 range), as tests/backends/
#: test_numba_vmath.py draws them
VM_DOMAINS = {
    "exp": (-80, 80, -745, 709), "exp2": (-120, 120, -1075, 1023), "expm1": (-80, 80, -40, 709),
    "log": (0, 1e30, 0, 1e300), "log2": (0, 1e30, 0, 1e300), "log10": (0, 1e30, 0, 1e300),
    "log1p": (-1, 1e30, -1, 1e300), "sin": (-1e4, 1e4, -1e4, 1e4),
    "cos": (-1e4, 1e4, -1e4, 1e4), "tan": (-1e4, 1e4, -1e4, 1e4), "arcsin": (-1, 1, -1, 1),
    "arccos": (-1, 1, -1, 1), "arctan": (-1e5, 1e5, -1e5, 1e5), "sinh": (-80, 80, -709, 709),
    "cosh": (-80, 80, -709, 709), "tanh": (-20, 20, -20, 20),
    "arcsinh": (-1e10, 1e10, -1e10, 1e10), "arccosh": (1, 1e10, 1, 1e10),
    "arctanh": (-1, 1, -1, 1), "power": (0, 30, 0, 50), "arctan2": (-10, 10, -10, 10),
}
#: the float32 functions checked here
VM_FLOAT32 = ["exp", "log1p", "sin", "tanh", "power", "arctan2"]
VM_SPECIALS = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 1e-310, 1000.0,
               -1000.0]


def test_vector_math_agrees_with_numpy_to_4_ulp_and_exactly_on_special_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every function in float64, a subset in float32, in one -O3 module (the table's module
    # is -O0, where nothing is vectorized); a fresh cache directory to find the module's bytes
    monkeypatch.setattr(gnomon.config, "cache_dir", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_STORES", {})
    rng = np.random.default_rng(13)
    n_rand = 2048
    sp = np.array(VM_SPECIALS)
    pairs = (np.repeat(sp, len(sp)), np.tile(sp, len(sp)))  # every special against every one
    n = n_rand + len(pairs[0]) + 3  # not a multiple of any vector width: a scalar tail too
    data, ins, outs, which = [], [], [], []
    for dt, dtype in enumerate(("float64", "float32")):
        # float32: a subset (libmvec's float32 routines are checked one by one against NumPy
        # in tests/backends/test_numba_vmath.py; here, that C calls them right)
        names = list(VM_DOMAINS) if dtype == "float64" else VM_FLOAT32
        x0 = np.empty((len(names), n), dtype)
        x1 = np.ones((len(names), n), dtype)
        for k, (lo32, hi32, lo64, hi64) in enumerate(VM_DOMAINS[m] for m in names):
            lo, hi = (lo64, hi64) if dtype == "float64" else (lo32, hi32)
            for i, x in enumerate((x0, x1)):
                r = rng.uniform(lo, hi, n)
                r[: n_rand // 4] *= 1e-3  # small arguments too
                r[n_rand:n_rand + len(pairs[0])] = pairs[i]
                x[k] = r
        a, b = gt.matrix(f"a_{dtype}", dtype=dtype), gt.matrix(f"b_{dtype}", dtype=dtype)
        ins += [a, b]
        data += [x0, x1]
        for k, name in enumerate(names):
            two = name in ("power", "arctan2")
            outs.append(getattr(gt, name)(a[k], b[k]) if two else getattr(gt, name)(a[k]))
            which.append((dt, k, name))
    f = gnomon.function(ins, outs, mode="c")
    got = f(*data)
    for (dt, k, name), out in zip(which, got, strict=True):
        x0, x1 = data[2 * dt], data[2 * dt + 1]
        args = (x0[k], x1[k]) if name in ("power", "arctan2") else (x0[k],)
        with np.errstate(all="ignore"):
            ref = getattr(np, name)(*args)
        assert out.dtype == ref.dtype
        fin = np.isfinite(ref)
        np.testing.assert_array_equal(out[~fin], ref[~fin], err_msg=name)
        ulp = np.abs(out[fin].astype(np.float64) - ref[fin]) / np.spacing(
            np.abs(ref[fin])).astype(np.float64)
        assert ulp.max() <= 4, (name, out.dtype, float(ulp.max()), args[0][fin][np.argmax(ulp)])
        z = fin & (ref == 0)
        np.testing.assert_array_equal(np.signbit(out[z]), np.signbit(ref[z]), err_msg=name)
    flags, _ = cache.native_flags()
    if "-DGNOMON_VECMATH" in flags and "-march=native" in flags and \
            os.path.exists("/usr/include/x86_64-linux-gnu/bits/math-vector.h"):
        # the vector path is really taken: the module calls libmvec's vector variants
        (entry,) = list((tmp_path / "cache" / "c").glob("*.so.signed"))
        payload = diskcache.read_signed(cache._store(), str(entry))
        assert payload is not None
        for fn in (b"exp", b"log1p", b"sin", b"pow", b"expf", b"atan2f"):
            assert any(b"_ZGV" + isa + b"v_" + fn + b"\0" in payload
                       or b"_ZGV" + isa + b"vv_" + fn + b"\0" in payload
                       for isa in (b"bN2", b"bN4", b"cN4", b"cN8", b"dN4", b"dN8", b"eN8",
                                   b"eN16")), fn
