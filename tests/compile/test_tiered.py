"""Tiered execution (gnomon/compile/tiered.py): the first tier (NumPy reference) and the final
tier (the Numba program) give the same results, aliasing, updates, errors and input checks;
the switch never blocks or races a call in progress; random graphs are not tiered."""

from __future__ import annotations

import os
import pickle
import threading
import zlib

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon import Mode
from gnomon.compile import tiered
from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.schedule import schedule
from gnomon.config import config
from gnomon.errors import GnomonError
from gnomon.testing import tolerance

pytest.importorskip("numba")

FIRST = Mode("numba", tiered="first")
ASYNC = Mode("numba", tiered="async")


def _state(f: gnomon.Function) -> tiered.TieredProgram:
    st = f.compiled.state
    assert isinstance(st, tiered.TieredProgram)
    return st


def _assert_close(got, want) -> None:  # type: ignore[no-untyped-def]
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        rt, at = tolerance(w.dtype)
        np.testing.assert_allclose(g, w, rtol=rt, atol=at)


def _as_list(x):  # type: ignore[no-untyped-def]
    return list(x) if isinstance(x, list | tuple) else [x]


# --- the policies -----------------------------------------------------------------------------


def test_first_policy_runs_only_the_first_call_on_the_first_tier() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], gt.sum(gt.exp(x) * gt.sin(x)), mode=FIRST)
    st = _state(f)
    assert tiered.tier(f) == "first" and st.final is None  # nothing compiled before a call
    v = np.linspace(0, 1, 5)
    want = np.sum(np.exp(v) * np.sin(v))
    np.testing.assert_allclose(f(v), want)
    assert st.calls_on_first_tier == 1
    for _ in range(3):  # later calls wait for the final program
        np.testing.assert_allclose(f(v), want)
    assert st.calls_on_first_tier == 1
    assert tiered.tier(f) == "final" and st.final is not None and st.final.state.nopython


def test_off_and_config() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], x * 2.0, mode=Mode("numba", tiered="off"))
    assert not isinstance(f.compiled.state, tiered.TieredProgram)
    assert tiered.tier(f) == "final" and tiered.wait(f)
    with config.change(tiered="first"):
        g = gnomon.function([x], x * 3.0, mode="numba")
    assert isinstance(g.compiled.state, tiered.TieredProgram)
    with pytest.raises(ValueError, match="tiered"):
        config.tiered = "sometimes"
    with pytest.raises(GnomonError, match="tiered"):
        Mode("numba", tiered="yes")
    # only the numba backend is tiered
    with config.change(tiered="first"):
        h = gnomon.function([x], x * 4.0, mode="numpy")
    assert not isinstance(h.compiled.state, tiered.TieredProgram)


def test_random_graphs_are_not_tiered() -> None:
    from gnomon.random import RandomStream

    s1, s2 = RandomStream(7), RandomStream(7)
    x = gt.dvector("x")
    f1 = gnomon.function([x], x + s1.normal(0.0, 1.0, size=(3,)), mode=FIRST)
    f2 = gnomon.function([x], x + s2.normal(0.0, 1.0, size=(3,)),
                         mode=Mode("numba", tiered="off"))
    assert not isinstance(f1.compiled.state, tiered.TieredProgram)
    v = np.zeros(3)
    for _ in range(2):  # same seed, same draws, call after call
        np.testing.assert_array_equal(f1(v), f2(v))


def test_scan_programs_are_not_tiered() -> None:
    x0 = gt.dvector("x0")
    ys = gnomon.scan(lambda x: gt.tanh(x) + 1.0, outputs_info=[x0], n_steps=5)
    ys = ys[0] if isinstance(ys, list | tuple) else ys
    f = gnomon.function([x0], gt.sum(ys[-1]), mode=FIRST)
    assert not isinstance(f.compiled.state, tiered.TieredProgram)
    # also inside an inner graph
    g = gnomon.OpFromGraph([x0], [gt.sum(ys[-1])])
    h = gnomon.function([x0], g(x0) * 2.0, mode=FIRST)
    assert not isinstance(h.compiled.state, tiered.TieredProgram)
    v = np.zeros(2)
    for _ in range(5):
        v = np.tanh(v) + 1.0
    want = v.sum()
    np.testing.assert_allclose(f(np.zeros(2)), want)
    np.testing.assert_allclose(h(np.zeros(2)), 2 * want)


# --- same results whichever tier runs: a sample of the op-records table -------------------------


def _sample_records():  # type: ignore[no-untyped-def]
    from tests.records import all_records

    recs = [r for r in all_records() if not r.random]
    step = max(1, len(recs) // 12)
    return recs[::step][:12]


SAMPLE = _sample_records()


@pytest.mark.parametrize("rec", SAMPLE, ids=[r.name for r in SAMPLE])
def test_op_records_through_each_tier(rec) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(zlib.crc32(rec.name.encode()))
    values = [a.draw(rng) for a in rec.cases[0]]
    xs = [gt.tensor(f"x{k}", dtype=v.dtype, shape=(None,) * v.ndim)
          for k, v in enumerate(values)]
    outs = _as_list(rec.fn(*xs))
    float_in = [k for k, v in enumerate(values) if v.dtype.kind == "f"
                and (rec.grad_wrt is None or k in rec.grad_wrt)]
    ref = gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values)
    if rec.grad >= 1 and float_in and all(np.dtype(o.dtype).kind == "f" for o in outs):
        # the gradient graph too (the gradient tests through each tier), with the cost of
        # tests/test_backend_gradients.py (random weights of the outputs, seed 0): the same
        # graph, so the Numba kernels compiled there are loaded here, not compiled again
        rng = np.random.default_rng(0)
        cost = gt.add(*[gt.sum(o * gt.constant(rng.standard_normal(np.shape(v)).astype(o.dtype)))
                        for o, v in zip(outs, _as_list(ref), strict=True)], 0.0)
        outs = outs + _as_list(gnomon.grad(cost, [xs[k] for k in float_in],
                                           disconnected_inputs="ignore"))
        ref = gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values)
    f = gnomon.function(xs, outs, mode=FIRST, on_unused_input="ignore")
    st = f.compiled.state
    first = f(*[v.copy() for v in values])
    if isinstance(st, tiered.TieredProgram):
        assert st.calls_on_first_tier == 1
    else:  # not tierable (a scan): both calls run the final program
        assert tiered.tiering_policy(f.program, "numba", "first") == "off"
    final = f(*[v.copy() for v in values])
    assert tiered.tier(f) == "final"
    _assert_close(first, ref)
    _assert_close(final, ref)


# --- aliasing, updates, errors, input checks, pickling ----------------------------------------


def test_aliasing_and_updates_are_the_same_on_both_tiers() -> None:
    x = gt.dmatrix("x")
    w = gnomon.shared(np.zeros(3), name="w")
    # outputs that would alias an input (x itself, a view of it) or each other (x.T twice)
    f = gnomon.function([x], [x, x.T, x.T, gt.sum(x, axis=0) + w],
                        updates=[(w, w + gt.sum(x, axis=0))], mode=FIRST)
    st = _state(f)
    v = np.arange(6.0).reshape(2, 3)
    for call in range(3):
        a, at, at2, s = f(v)
        assert st.calls_on_first_tier == 1
        for r in (a, at, at2):
            assert not np.may_share_memory(r, v)
        assert not np.may_share_memory(at, at2)
        np.testing.assert_array_equal(a, v)
        np.testing.assert_array_equal(at, v.T)
        np.testing.assert_allclose(s, v.sum(0) * (call + 1))
        np.testing.assert_allclose(w.get_value(), v.sum(0) * (call + 1))
        a[0, 0] = -1.0  # writing a result never changes the argument
        assert v[0, 0] == 0.0
    assert tiered.tier(f) == "final"


def test_errors_name_the_users_line_on_both_tiers() -> None:
    x, y = gt.dvector("x"), gt.dvector("y")
    z = gt.exp(x + y) * 2.0  # the line the errors must show
    line = f"line {test_errors_name_the_users_line_on_both_tiers.__code__.co_firstlineno + 2}"
    f = gnomon.function([x, y], z, mode=FIRST)
    g = gnomon.function([x, y], z, mode=Mode("numba", tiered="off"))
    msgs = []
    for h in (f, f, g):  # the first tier, the final tier, an untiered function
        with pytest.raises(GnomonError) as e:
            h(np.ones(3), np.ones(4))
        msgs.append(str(e.value))
    assert _state(f).calls_on_first_tier == 1
    assert tiered.tier(f) == "final"
    assert msgs[0] == msgs[1] == msgs[2]
    assert "test_tiered.py" in msgs[0] and line in msgs[0], msgs[0]
    # input checks come before either tier, with the same messages
    with pytest.raises(GnomonError, match=r"dtype|ndim|rank|dimension"):
        f(np.ones((2, 2)), np.ones(2))


def test_trust_input_and_pickling() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], gt.log1p(x * x), mode=FIRST)
    f.trust_input = True
    v = np.linspace(0, 2, 7)
    np.testing.assert_allclose(f(v), np.log1p(v * v))
    np.testing.assert_allclose(f(v), np.log1p(v * v))
    assert tiered.tier(f) == "final"
    with config.change(tiered="first"):
        g = pickle.loads(pickle.dumps(f))
    assert g.trust_input and isinstance(g.compiled.state, tiered.TieredProgram)
    np.testing.assert_allclose(g(v), np.log1p(v * v))


def test_programs_with_python_nodes_are_tiered_too() -> None:
    # the gradient of x[idx] is an AdvancedIncSubtensor, which runs its perform in Python
    x = gt.dvector("x")
    idx = np.array([0, 2, 2, 1])
    cost = gt.sum(gt.exp(x[gt.constant(idx)]))
    f = gnomon.function([x], [cost, gnomon.grad(cost, x)], mode=FIRST)
    v = np.array([0.1, 0.2, 0.3])
    want_g = np.zeros(3)
    np.add.at(want_g, idx, np.exp(v[idx]))
    for _ in range(2):
        c, g = f(v)
        np.testing.assert_allclose(c, np.exp(v[idx]).sum())
        np.testing.assert_allclose(g, want_g)
    assert tiered.tier(f) == "final"


# --- threads: the switch never blocks or races a call ------------------------------------------


def _program_and_tiers():  # type: ignore[no-untyped-def]
    """A program, its reference compiled program, and a final compiler we control."""
    from gnomon.backends.numba.linker import compile_program as numba_compile
    from gnomon.backends.numpy.linker import compile_program as reference

    x = gt.dvector("x")
    out = gt.sum(gt.tanh(x) * 3.0)
    program = schedule([x], [out])
    return program, reference, numba_compile


def test_async_calls_never_wait_for_the_background_compile() -> None:
    program, reference, numba_compile = _program_and_tiers()
    release = threading.Event()
    entered = threading.Event()

    def slow_final(p):  # type: ignore[no-untyped-def]
        entered.set()
        release.wait()  # the background compile cannot finish until the test says so
        return numba_compile(p)

    c = tiered.compile_tiered(program, "async", reference, slow_final, None)
    st = c.state
    v = np.linspace(-1, 1, 9)
    want = np.sum(np.tanh(v) * 3.0)
    try:
        np.testing.assert_allclose(c.run([v])[0], want)
        assert entered.wait(60)  # the compile is running, and blocked ...
        for _ in range(5):  # ... yet calls return (on the first tier)
            np.testing.assert_allclose(c.run([v])[0], want)
        assert st.calls_on_first_tier == 6 and st.tier == "first"
        assert not st.wait(timeout=0)
    finally:
        release.set()
    assert st.wait(timeout=120)
    np.testing.assert_allclose(c.run([v])[0], want)
    assert st.calls_on_first_tier == 6 and st.tier == "final"


def test_a_call_compiles_its_own_program_when_the_worker_is_busy() -> None:
    """Compiles queue on one worker thread; a call that needs a program still in the queue
    compiles it itself instead of waiting for other functions' compiles."""
    program, reference, numba_compile = _program_and_tiers()
    release = threading.Event()
    busy = threading.Event()

    def blocked_final(p):  # type: ignore[no-untyped-def]
        busy.set()
        release.wait()
        return numba_compile(p)

    other = tiered.compile_tiered(program, "async", reference, blocked_final, None)
    try:
        other.run([np.ones(3)])
        assert busy.wait(60)  # the worker is stuck in the other function's compile
        x = gt.dvector("x")
        f = gnomon.function([x], gt.sqrt(x) + 1.0, mode=FIRST)
        v = np.array([1.0, 4.0])
        np.testing.assert_allclose(f(v), [2.0, 3.0])  # first tier; queued behind `other`
        out: list[np.ndarray] = []
        t = threading.Thread(target=lambda: out.append(f(v)))
        t.start()
        t.join(120)
        assert not t.is_alive(), "the second call waited for another function's compile"
        np.testing.assert_allclose(out[0], [2.0, 3.0])
        assert tiered.tier(f) == "final" and other.state.tier == "first"
    finally:
        release.set()
    assert other.state.wait(120)


def test_switch_during_calls_in_progress() -> None:
    """Calls in progress on the first tier finish there, correctly, while the final program
    takes over; many threads call throughout."""
    program, reference, numba_compile = _program_and_tiers()
    in_call = threading.Event()
    may_finish = threading.Event()
    ref_run = reference(program)

    def blocking_reference(p):  # type: ignore[no-untyped-def]
        def run(values):  # type: ignore[no-untyped-def]
            if threading.current_thread().name == "blocked-caller":
                in_call.set()
                may_finish.wait()
            return ref_run.run(values)
        return CompiledProgram(run=run)

    def final_after_the_call_began(p):  # type: ignore[no-untyped-def]
        in_call.wait()
        return numba_compile(p)

    c = tiered.compile_tiered(program, "async", blocking_reference, final_after_the_call_began,
                              None)
    st = c.state
    v = np.linspace(-1, 1, 9)
    want = np.sum(np.tanh(v) * 3.0)
    results: list[object] = []
    errors: list[BaseException] = []

    def call(n: int, barrier: threading.Barrier | None = None) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            for _ in range(n):
                results.append(c.run([v])[0])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    blocked = threading.Thread(target=call, args=(1,), name="blocked-caller", daemon=True)
    blocked.start()
    try:
        assert in_call.wait(60)  # a call is in progress on the first tier ...
        assert st.wait(timeout=120)  # ... while the final program compiles and takes over
        assert st.tier == "final"
        barrier = threading.Barrier(4)
        others = [threading.Thread(target=call, args=(50, barrier)) for _ in range(4)]
        for t in others:
            t.start()
        for t in others:
            t.join()
    finally:
        may_finish.set()
    blocked.join()
    assert not errors
    assert len(results) == 201
    for r in results:
        np.testing.assert_allclose(r, want)


def test_first_policy_with_concurrent_first_calls() -> None:
    x = gt.dvector("x")
    f = gnomon.function([x], gt.cumsum(gt.cos(x)), mode=FIRST)
    v = np.linspace(0, 3, 11)
    barrier = threading.Barrier(4)
    out: list[np.ndarray] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                out.append(f(v))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=call) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors and len(out) == 20
    assert _state(f).calls_on_first_tier == 1  # exactly one call, whichever thread made it
    for r in out:
        np.testing.assert_allclose(r, np.cumsum(np.cos(v)))


_FORK_STARTED = threading.Event()
_WATCH_FORKS = threading.Event()


def _test_before_fork() -> None:
    # registered after gnomon's hook, so it runs before it
    if _WATCH_FORKS.is_set():
        _FORK_STARTED.set()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_waits_for_a_background_compile() -> None:
    program, reference, numba_compile = _program_and_tiers()
    release = threading.Event()

    running = threading.Event()

    def slow_final(p):  # type: ignore[no-untyped-def]
        running.set()
        release.wait()
        return numba_compile(p)

    c = tiered.compile_tiered(program, "async", reference, slow_final, None)
    st = c.state
    c.run([np.ones(3)])  # queues the background compile, which waits for `release`
    assert running.wait(60)
    os.register_at_fork(before=_test_before_fork)
    _WATCH_FORKS.set()
    status: list[int] = []

    def forker() -> None:
        pid = os.fork()
        if pid == 0:  # the child: was the compile finished when the process was copied?
            os._exit(0 if st._done.is_set() else 1)
        status.append(os.waitpid(pid, 0)[1])

    t = threading.Thread(target=forker)
    t.start()
    try:
        assert _FORK_STARTED.wait(60)  # the fork has begun (and waits for the compile) ...
    finally:
        _WATCH_FORKS.clear()
        release.set()  # ... which may finish now
    t.join()
    assert status == [0]


def test_a_process_may_exit_while_a_background_compile_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    script = (
        "import numpy as np, gnomon, gnomon.tensor as gt\n"
        "x = gt.dvector('x')\n"
        "f = gnomon.function([x], gt.sum(gt.exp(x) * gt.tanh(x) + gt.log1p(x * x)))\n"
        "print(float(f(np.linspace(0, 1, 5))))\n"  # then exit, the compile (cold) still running
    )
    env = dict(os.environ, GNOMON_TIERED="first", GNOMON_CACHE_DIR=str(tmp_path / "cache"))
    p = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    v = np.linspace(0, 1, 5)
    np.testing.assert_allclose(float(p.stdout), np.sum(np.exp(v) * np.tanh(v) + np.log1p(v * v)))
