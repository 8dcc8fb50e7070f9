"""Differential fuzzing in the suite: every backend against the NumPy reference on random small
graphs with edge-case values (:mod:`tests.fuzz`), plus the fuzzer's own machinery.

The suite's run is small and always the same (hypothesis derandomized, no example database):
the targeted cases of :func:`tests.fuzz.generate.targeted` and ``SUITE_EXAMPLES`` drawn cases
of the cheap op families, each with several value sets so that one compilation serves many
inputs. ``./dev fuzz`` runs the long, randomly seeded version. Discrepancies explained by an
entry of ``KNOWN`` (tests/fuzz/known.py) are reported but do not fail.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

from tests.fuzz.catalog import by_name, catalog
from tests.fuzz.generate import edge_values, generate, targeted
from tests.fuzz.runner import Runner, Worker, _shrink, prune
from tests.fuzz.spec import Spec, Step, decode_array, encode_array, reproducer
from tests.fuzz.worker import Evaluator, value_mismatch

#: drawn cases in the suite's run, and the op families they come from
SUITE_EXAMPLES = 8
SUITE_GROUPS = ("elemwise", "reduce", "shape", "indexing")


def test_backends_match_reference_on_fuzzed_graphs() -> None:
    cases = [*targeted(), *generate(SUITE_EXAMPLES, max_ops=3, max_value_sets=8,
                                    groups=SUITE_GROUPS)]
    runner = Runner(jobs=1, timeout=300, minimize_budget=40, minimize_known=False)
    runner.run(cases)
    report = runner.report()
    assert runner.stats["errors"] == 0, report
    assert runner.stats["cases"] == len(cases), report
    assert runner.stats["cases"] - runner.stats["skipped"] >= len(cases) // 2, report
    assert not runner.unknown(), "backends differ from the reference:\n" + report


# --- the fuzzer's machinery --------------------------------------------------------------------


def test_catalog_takes_rows_of_every_family() -> None:
    groups = {op.group for op in catalog()}
    assert {"elemwise", "reduce", "shape", "indexing", "sort", "linalg", "control"} <= groups
    assert by_name()["mod"].code(["x0", "x1"]) == "x0 % x1"
    assert by_name()["sum_axis"].code(["t0"]) == "gt.sum(t0, axis=1, keepdims=True)"


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint64", "float32", "complex128"])
def test_arrays_survive_json_exactly(dtype: str) -> None:
    vals = np.array(edge_values(dtype)[:6]).astype(dtype)
    for a in (vals, vals[:1].reshape(()), vals[:0]):
        b = decode_array(encode_array(a))
        assert b.dtype == a.dtype and b.shape == a.shape
        assert np.array_equal(a.view(f"u{a.itemsize}") if a.itemsize in (1, 2, 4, 8) else a,
                              b.view(f"u{b.itemsize}") if b.itemsize in (1, 2, 4, 8) else b)


def test_reproducer_is_a_runnable_script() -> None:
    spec = Spec([("int64", 1), ("float32", 0)],
                [Step("mod", ((-1, 0), (-1, 0))), Step("add", ((0, 0), (-1, 1)))], [(1, 0)],
                [[np.array([np.iinfo("int64").min, -1, 3]), np.array(-0.0, "float32")]])
    code = reproducer(spec, spec.values[0], "numpy")
    env: dict[str, object] = {}
    exec(code.replace("print(", "result = ("), env)
    got = np.asarray(env["result"][0])  # type: ignore[index]
    assert got.dtype == np.float64 and got.shape == (3,)


def test_value_comparison_is_nan_aware_and_exact_for_integers() -> None:
    f = np.array([np.nan, 1.0, -np.inf])
    assert value_mismatch(f, f.copy()) is None
    assert value_mismatch(f, np.array([1.0, 1.0, -np.inf])) is not None
    assert value_mismatch(np.array([1.0 + 1e-9]), np.array([1.0])) is None
    assert value_mismatch(np.array([2**53 + 1]), np.array([2**53])) is not None
    c = np.array([complex(np.nan, 1.0)])
    assert value_mismatch(c, np.array([complex(np.nan, 2.0)])) is not None


def test_evaluator_reports_a_difference_in_error_class() -> None:
    spec = Spec([("float64", 2), ("int64", 0)], [Step("getitem_symbolic_int", ((-1, 0), (-1, 1)))],
                [(0, 0)], [[np.ones((2, 3)), np.array(5)]])
    res = Evaluator().evaluate(spec, modes=["noopt"])
    assert res["status"] == "ok" and res["discrepancies"] == []
    assert res["reference"][0].startswith("raises IndexOutOfBoundsError")


def test_worker_death_by_signal_is_caught() -> None:
    w = Worker()
    try:
        res = w.die_by(signal.SIGFPE)
    finally:
        w.close()
    assert res["status"] == "crash" and res["reason"] == "SIGFPE"


def test_a_crashing_case_is_isolated_and_minimized() -> None:
    # the worker's self-test hook kills it (SIGSEGV) on any value set holding 12345.0
    spec = Spec([("float64", 1), ("float64", 1)], [Step("add", ((-1, 0), (-1, 1)))], [(0, 0)],
                [[np.zeros(3), np.ones(3)], [np.array([1.0, 12345.0, 2.0]), np.ones(3)]])
    ok = Spec(spec.inputs, spec.steps, spec.outputs, [spec.values[0]])
    runner = Runner(minimize_budget=8, env={"GNOMON_FUZZ_CRASH_ON": "12345.0"})
    runner.run([spec, ok])
    assert runner.stats["crashes"] == 1 and runner.stats["cases"] == 2
    (finding,) = runner.findings.values()
    assert finding.kind == "crash" and finding.detail.startswith("SIGSEGV")
    assert [v.tolist() for v in finding.spec.values[0]] == [[12345.0], [1.0]] or \
        [v.tolist() for v in finding.spec.values[0]] == [[12345.0], [0.0]]
    assert "12345.0" in finding.report()


def test_shrink_keeps_the_failure_and_drops_the_rest() -> None:
    spec = Spec([("int64", 2), ("int64", 2)],
                [Step("neg", ((-1, 0),)), Step("mod", ((0, 0), (-1, 1))),
                 Step("exp", ((1, 0),))], [(2, 0)],
                [[np.arange(6).reshape(2, 3), np.array([[1, 2, -1], [4, 5, 6]])]])

    def still(s: Spec) -> bool:  # "fails" while a mod step sees a -1 divisor
        return "mod" in s.ops() and any((v == -1).any() for v in s.values[0])

    best = _shrink(spec, still)
    assert best.ops() == ["neg", "mod"] or best.ops() == ["mod"]
    assert all(v.size == 1 for v in best.values[0])
    assert still(best) and prune(best).ops() == best.ops()
