"""Compiled functions across threads, across pickles, and against aliasing of the caller's memory.

* Pickling: graphs pickle by structure and are interned again when loaded; functions pickle as
  their graph and settings and are compiled again (also in a fresh process).
* Threads: calls with updates are atomic, so concurrent calls never lose an update.
* Aliasing: no output or new shared value is a view of an argument, of a shared value or of
  another result, whatever the backend.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.compile.mode import Mode
from gnomon.control import OpFromGraph, ifelse, scan
from gnomon.control.inner import structural_key
from gnomon.graph import verify
from gnomon.graph.basic import Apply, Constant, Variable
from gnomon.graph.op import Op
from gnomon.graph.traversal import graph_inputs, toposort
from gnomon.scalar.composite import Composite
from gnomon.tensor.elemwise import Elemwise
from gnomon.testing import available_modes
from tests.records import all_records

MODES = available_modes()


def roundtrip(obj: Any) -> Any:
    return pickle.loads(pickle.dumps(obj))


def as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else [x]


# --- graphs ------------------------------------------------------------------------------------


def test_graph_pickles_and_is_interned_again():
    x, y = gt.dvector("x"), gt.dvector("y")
    z = gt.exp(x) + y * 2.0
    z.name = "z"
    x2, y2, z2 = roundtrip((x, y, z))
    # roots keep their identity within the pickle; they are new variables in this process
    assert x2 is not x and z2.owner.inputs[0].owner.inputs[0] is x2
    assert (x2.name, y2.name, z2.name) == ("x", "y", "z")
    assert x2.type == x.type
    # nodes are interned again: building the same expression on the loaded roots finds them
    assert gt.exp(x2) + y2 * 2.0 is z2
    verify([z2])
    assert structural_key([x, y], [z]) == structural_key([x2, y2], [z2])
    # pickled alone, an expression comes back with roots of its own
    (w,) = graph_inputs([roundtrip(x + y)])[:1]
    assert w is not x and w.type == x.type


def test_constants_are_interned_again_and_read_only():
    c = gt.constant(np.arange(3.0))
    c2 = roundtrip(c)
    assert c2 is c  # same value, same constant, in this process too
    x = gt.dvector("x")
    y2 = roundtrip(x + gt.constant([5.0, 6.0, 7.0]))
    const = y2.owner.inputs[1]
    assert isinstance(const, Constant) and const is gt.constant([5.0, 6.0, 7.0])
    assert not const.data.flags.writeable


def test_multi_output_node_pickles_once():
    x = gt.dvector("x")
    a, b = OpFromGraph([x], [x + 1.0, x * 2.0])(x)
    a2, b2 = roundtrip([a, b])
    assert a2.owner is b2.owner and (a2.index, b2.index) == (0, 1)


def test_deep_graph_pickles_without_recursion_error():
    # Pickle recurses into an object's parts first; the nodes go in topological order so that
    # a graph thousands of nodes deep pickles within the default recursion limit.
    x = gt.dscalar("x")
    y = x
    for _ in range(3000):
        y = gt.exp(-y) + 0.5
    y2 = roundtrip(y)
    assert len(toposort([y2])) == len(toposort([y]))
    f = gnomon.function([x], y, mode="numpy")
    assert float(roundtrip(f)(0.3)) == pytest.approx(float(f(0.3)))


def test_shared_variable_pickles_with_its_value_and_identity():
    w = gnomon.shared(np.arange(3.0), name="w")
    x = gt.dvector("x")
    y = x * w + w
    w2, y2 = roundtrip((w, y))
    assert w2 is not w and w2.name == "w"
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    assert graph_inputs([y2]).count(w2) == 1  # one shared variable, used twice
    w2.set_value(np.ones(3))  # its own storage and lock
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0))


RECORDS = [r for r in all_records() if r.cases]


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_every_op_record_graph_pickles(rec):
    """Every op (frozen dataclasses, inner-graph ops) pickles, before and after rewriting."""
    rng = np.random.default_rng(0)
    values = [a.draw(rng) for a in rec.cases[0]]
    xs = [gt.tensor(f"x{k}", dtype=v.dtype, shape=(None,) * v.ndim)
          for k, v in enumerate(values)]
    outs = as_list(rec.fn(*xs))
    outs2 = roundtrip(outs)
    verify(outs2)
    # roots in the order a graph walk meets them: inputs, and shared generators of random rows
    assert structural_key(graph_inputs(outs), outs) == structural_key(graph_inputs(outs2), outs2)
    # the rewritten program holds the ops the rewrites make (Composite, BLAS, ...)
    prog = gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore").program
    pouts2 = roundtrip(prog.outputs)
    assert structural_key(graph_inputs(prog.outputs), prog.outputs) == \
        structural_key(graph_inputs(pouts2), pouts2)


def test_fused_composite_op_pickles():
    x, y = gt.dvector("x"), gt.dvector("y")
    prog = gnomon.function([x, y], gt.exp(x) * y + 1.0,
                           mode=Mode("numpy").including("fusion")).program
    ops = [n.op for n in prog.nodes]
    assert any(isinstance(op, Elemwise) and isinstance(op.scalar_op, Composite) for op in ops)
    ops2 = roundtrip(ops)
    assert ops2 == ops and [hash(o) for o in ops2] == [hash(o) for o in ops]


# --- functions ---------------------------------------------------------------------------------


def regression_step(mode: str) -> tuple[gnomon.Function, Any]:
    X, y = gt.dmatrix("X"), gt.dvector("y")
    w = gnomon.shared(np.zeros(3), name="w")
    calls = gnomon.shared(np.int64(0), name="calls")
    loss = gt.mean((X @ w - y) ** 2)
    g = gnomon.grad(loss, w)
    f = gnomon.function([X, y], [loss, g], updates=[(w, w - 0.1 * g), (calls, calls + 1)],
                        mode=mode, allow_input_downcast=True)
    return f, (w, calls)


def scan_function(mode: str) -> tuple[gnomon.Function, list[Any]]:
    x = gt.dvector("x")
    acc = gnomon.shared(np.float64(1.0), name="acc")
    out, _ = scan(lambda v, prev: prev * v + 1.0, sequences=[x], outputs_info=[acc])
    f = gnomon.function([x], out, updates=[(acc, out[-1])], mode=mode)
    return f, [np.array([0.5, 2.0, -1.0])]


def ifelse_function(mode: str) -> tuple[gnomon.Function, list[Any]]:
    c, x = gt.dscalar("c"), gt.dvector("x")
    f = gnomon.function([c, x], ifelse(c > 0, gt.exp(x) * c, -x), mode=mode)
    return f, [np.float64(-1.0), np.array([0.5, 2.0, -1.0])]


def opfromgraph_function(mode: str) -> tuple[gnomon.Function, list[Any]]:
    a, b = gt.dvector("a"), gt.dvector("b")
    muladd = OpFromGraph([a, b], [a * b + 1.0], name="muladd")
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, y], muladd(x, muladd(x, y)), mode=mode)
    return f, [np.array([0.5, 2.0, -1.0]), np.array([1.0, 2.0, 3.0])]


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((6, 3)), rng.standard_normal(6)


@pytest.mark.parametrize("mode", MODES)
def test_function_with_updates_pickles(mode):
    Xv, yv = _data()
    f, (w, calls) = regression_step(mode)
    f(Xv, yv)  # a shared value written by a call (a JAX array in mode='jax') pickles too
    f2, (w2, calls2) = roundtrip((f, (w, calls)))
    assert isinstance(f2, gnomon.Function)
    assert [v.name for v in f2.inputs] == ["X", "y"]
    assert f2.mode == f.mode and f2.mode.backend == mode
    assert [s for s, _ in f2.updates] == [w2, calls2]
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    for _ in range(2):
        want = f(Xv, yv)
        got = f2(y=yv, X=Xv.astype(np.longdouble))  # keywords; allow_input_downcast kept
        for g, e in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-6)
    np.testing.assert_allclose(w2.get_value(), w.get_value(), rtol=1e-12)
    assert int(calls2.get_value()) == int(calls.get_value()) == 3
    # the loaded function is compiled from the user's graph, not from the rewritten program
    assert f2.outputs[0].owner.op == f.outputs[0].owner.op


@pytest.mark.parametrize("mode", MODES)
def test_flags_survive_pickling(mode):
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2.0, mode=Mode(mode).excluding("fusion"))
    f.trust_input = True
    f2 = roundtrip(f)
    assert f2.trust_input and f2.mode == Mode(mode).excluding("fusion")
    assert not f2._allow_downcast
    np.testing.assert_allclose(np.asarray(f2(np.ones(2))), [2.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("build", [scan_function, ifelse_function, opfromgraph_function],
                         ids=["scan", "ifelse", "opfromgraph"])
def test_inner_graph_functions_pickle(mode, build):
    f, args = build(mode)
    f2 = roundtrip(f)
    for _ in range(2):  # twice: the scan's update changes its shared initial value
        np.testing.assert_allclose(np.asarray(f2(*args)), np.asarray(f(*args)), rtol=1e-12)


def test_functions_sharing_a_variable_stay_connected():
    s = gnomon.shared(np.float64(0.0), name="s")
    inc = gnomon.function([], updates=[(s, s + 1.0)], mode="numpy")
    read = gnomon.function([], s * 10.0, mode="numpy")
    inc2, read2, s2 = roundtrip((inc, read, s))
    inc2()
    inc2()
    assert float(read2()) == 20.0 and float(s2.get_value()) == 2.0
    assert float(s.get_value()) == 0.0  # the original is separate


def test_random_stream_function_pickles_and_continues_the_stream():
    import gnomon.random as gr

    srng = gr.RandomStream(seed=7)
    x = gt.dvector("x")
    f = gnomon.function([x], x + srng.normal(size=3), mode="numpy")
    f(np.zeros(3))
    f2 = roundtrip(f)  # the generator pickles in its current state, with its default update
    zeros = np.zeros(3)
    for _ in range(2):
        np.testing.assert_array_equal(f2(zeros), f(zeros))
    assert not np.array_equal(f2(zeros), f2(zeros))  # it still advances at each call


_CHILD = """
import json, pickle, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
with open(sys.argv[1], "rb") as fh:
    cases = pickle.load(fh)
out = {}
for key, (f, args) in cases.items():
    res = [f(*args) for _ in range(2)]  # a list of outputs, or one output
    out[key] = [[np.asarray(e, dtype=float).tolist() for e in (r if isinstance(r, list) else [r])]
                for r in res]
print(json.dumps(out))
"""


def _child_cases() -> dict[str, tuple[gnomon.Function, list[Any]]]:
    Xv, yv = _data()
    cases: dict[str, tuple[gnomon.Function, list[Any]]] = {}
    for mode in MODES:
        cases[f"{mode}-updates"] = (regression_step(mode)[0], [Xv, yv])
        cases[f"{mode}-scan"] = scan_function(mode)
        cases[f"{mode}-ifelse"] = ifelse_function(mode)
    return cases


def test_functions_unpickle_in_a_fresh_process(tmp_path: Path):
    path = tmp_path / "functions.pkl"
    with open(path, "wb") as fh:
        pickle.dump(_child_cases(), fh)
    run = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, cwd=Path(__file__).parents[2], check=False)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    # the same calls here, on functions loaded from the same bytes
    with open(path, "rb") as fh:
        here = pickle.load(fh)
    for key, (f, args) in here.items():
        for g, r in zip(got[key], [f(*args) for _ in range(2)], strict=True):
            r = r if isinstance(r, list) else [r]
            assert len(g) == len(r), key
            for a, b in zip(g, r, strict=True):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b, dtype=float),
                                           rtol=1e-10, err_msg=key)


# --- threads -----------------------------------------------------------------------------------


@pytest.fixture
def fast_thread_switches() -> Iterator[None]:
    # Switch threads as often as the interpreter allows, so that an unprotected
    # read-modify-write loses updates in every run rather than in some.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(targets: Sequence[Callable[[], None]]) -> None:
    start = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        start.wait()
        try:
            target()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)  # a guard against a deadlock hanging the suite, not a timing test
    assert not any(t.is_alive() for t in threads), "threads deadlocked"
    assert not errors, errors


def repeat(f: Callable[[], Any], n: int) -> Callable[[], None]:
    def loop() -> None:
        for _ in range(n):
            f()

    return loop


@pytest.mark.parametrize("mode", ["numba", "numpy"])
def test_concurrent_updates_are_not_lost(mode, fast_thread_switches):
    if mode not in MODES:
        pytest.skip(f"{mode} is not installed")
    s = gnomon.shared(np.float64(0.0), name="s")
    f = gnomon.function([], updates=[(s, s + 1.0)], mode=mode)
    run_threads([repeat(f, 2000)] * 8)
    assert float(s.get_value()) == 16000.0


@pytest.mark.parametrize("mode", ["numba", "numpy"])
def test_two_functions_updating_one_shared_variable(mode, fast_thread_switches):
    if mode not in MODES:
        pytest.skip(f"{mode} is not installed")
    s = gnomon.shared(np.zeros(2), name="s")
    x = gt.dvector("x")
    add = gnomon.function([x], s.sum(), updates=[(s, s + x)], mode=mode)
    incr = gnomon.function([], updates=[(s, s + 1.0)], mode=mode)
    one = np.array([1.0, 2.0])
    run_threads([repeat(lambda: add(one), 1000)] * 4 + [repeat(incr, 1000)] * 4)
    np.testing.assert_array_equal(s.get_value(), [8000.0, 12000.0])


def test_locks_taken_in_one_order_never_deadlock(fast_thread_switches):
    # The same two variables updated by two functions that list them in opposite orders: the
    # locks are taken in creation order, not in the order of the updates list.
    a = gnomon.shared(np.float64(0.0), name="a")
    b = gnomon.shared(np.float64(0.0), name="b")
    ab = gnomon.function([], updates=[(a, a + 1.0), (b, b + a)], mode="numpy")
    ba = gnomon.function([], updates=[(b, b + 1.0), (a, a + 1.0)], mode="numpy")
    run_threads([repeat(ab, 500), repeat(ba, 500)] * 3)
    assert float(a.get_value()) == 3000.0


def test_calls_with_updates_are_serializable(fast_thread_switches):
    # A swap and an increment of both: if a call could read between another call's read and
    # write, the sum would lose increments or the swap would duplicate a value.
    a = gnomon.shared(np.float64(0.0), name="a")
    b = gnomon.shared(np.float64(1000.0), name="b")
    swap = gnomon.function([], updates=[(a, b), (b, a)], mode="numpy")
    bump = gnomon.function([], updates=[(a, a + 1.0), (b, b + 1.0)], mode="numpy")
    run_threads([repeat(swap, 500), repeat(bump, 500)] * 3)
    assert sorted([float(a.get_value()), float(b.get_value())]) == [1500.0, 2500.0]


def test_functions_without_updates_take_no_lock():
    s = gnomon.shared(np.float64(2.0), name="s")
    read = gnomon.function([], s * 3.0, mode="numpy")
    write = gnomon.function([], updates=[(s, s + 1.0)], mode="numpy")
    assert read._locks == () and write._locks == (s._lock,)
    # a reader is not blocked by a call holding the variable's lock in another thread
    got: list[float] = []
    with s._lock:
        run_threads([lambda: got.append(float(read()))])
    assert got == [6.0]


def test_set_value_waits_for_a_running_update():
    # A call with updates holds the lock from reading to writing; set_value in another thread
    # takes effect after that write, not before it (where the update would undo it).
    s = gnomon.shared(np.float64(0.0), name="s")
    started = threading.Event()

    def set_five() -> None:
        started.set()
        s.set_value(5.0)

    with s._lock:
        t = threading.Thread(target=set_five)
        t.start()
        started.wait()
        s._value = np.float64(1.0)  # what an update writes at the end of a call
    t.join()
    assert float(s.get_value()) == 5.0


# --- aliasing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_update_that_views_an_input_does_not_alias_it(mode):
    x = gt.dvector("x")
    d = gnomon.shared(np.zeros(3), name="d")
    f = gnomon.function([x], [], updates=[(d, x[::-1])], mode=mode)
    a = np.arange(3.0)
    f(a)
    a[0] = 99.0
    np.testing.assert_array_equal(d.get_value(), [2.0, 1.0, 0.0])


@pytest.mark.parametrize("mode", MODES)
def test_outputs_and_updates_never_view_arguments_or_each_other(mode):
    x = gt.dvector("x")
    d = gnomon.shared(np.zeros(3), name="d")
    e = gnomon.shared(np.zeros(2), name="e")
    y = x * 2.0
    f = gnomon.function([x], [x[::-1], x[1:], y, y[::-1]],
                        updates=[(d, y), (e, x[:2])], mode=mode)
    a = np.arange(3.0)
    outs = [np.asarray(o) for o in f(a)]
    snapshot = [o.copy() for o in outs]
    a[:] = -1.0
    for o in outs:
        if o.flags.writeable:
            o[...] = 42.0  # mutating one result must change nothing else
    np.testing.assert_array_equal(d.get_value(), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(e.get_value(), [0.0, 1.0])
    g = gnomon.function([x], x[::-1], mode=mode)
    b = np.arange(3.0)
    r = np.asarray(g(b))
    b[0] = 99.0
    np.testing.assert_array_equal(r, [2.0, 1.0, 0.0])
    assert snapshot[0].tolist() == [2.0, 1.0, 0.0]


@dataclass(frozen=True)
class ReverseWithoutViewMap(Op):
    """A buggy op: ``perform`` returns a view of its input but declares no ``view_map``."""

    def make_node(self, x: Variable) -> Apply:
        return Apply.make(self, [x], [x.type])

    def perform(self, node: Apply, inputs: Sequence[Any]) -> tuple[Any, ...]:
        return (inputs[0][::-1],)


def test_undeclared_views_are_caught_at_run_time():
    # The static analysis trusts view_map; the run-time check of the reference backend does
    # not need to.
    x = gt.dvector("x")
    d = gnomon.shared(np.zeros(3), name="d")
    r = ReverseWithoutViewMap()(x)
    f = gnomon.function([x], r, updates=[(d, r)], mode=Mode("numpy", optimize=False))
    a = np.arange(3.0)
    out = f(a)
    assert not np.may_share_memory(out, a)
    assert not np.may_share_memory(out, d.get_value(borrow=True))
    a[0] = 99.0
    out[1] = 7.0
    np.testing.assert_array_equal(d.get_value(), [2.0, 1.0, 0.0])
