"""Function's hot path (gnomon/compile/function.py, issue 13 goal 3): the generated input
check (``_fast_check``) takes exactly the arguments the fast filter would return as they are,
and hands everything else to the per-input checks (conversions, errors); the direct call
(``_direct_call``) runs the backend's entry point (``CompiledProgram.direct``) for arguments
that pass the same checks and have the memory layout the entry point needs, and sends
everything else down the usual path, with the usual results and errors."""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.compile.filters import input_filter
from gnomon.compile.function import _fast_check
from gnomon.compile.io import In
from gnomon.tensor.type import TensorType


@contextlib.contextmanager
def _gc_off() -> Iterator[None]:
    """The garbage collector off (a function freed inside was freed by reference counting:
    no reference cycle)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def test_fast_check_accepts_exactly_matching_ndarrays() -> None:
    x = TensorType("float64", (None, 3))("x")
    n = gt.lscalar("n")
    check = _fast_check([x, n], [In(x), In(n)])
    assert check is not None
    a, k = np.zeros((2, 3)), np.array(4)
    got = check((a, k))
    assert got == [a, k] and got[0] is a
    # an equal dtype that is another object (results of compiled code loaded from a cache):
    # accepted as it is, as the full check would
    same = a.view(_dtype_copy())
    assert check((same, k))[0] is same
    assert input_filter(x.type)(same) is same and x.type.filter(same) is same
    rejected = [
        (np.zeros((2, 4)), k),                    # static length 3
        (np.zeros((2, 3), "float32"), k),         # dtype
        (np.zeros(3), k),                         # rank
        (np.zeros((2, 3)).view(np.matrix), k),    # a subclass goes to the full check
        (a, 4),                                   # a Python int: converted by the full check
        (a.tolist(), k),
    ]
    for args in rejected:
        assert check(args) is None, args
    # strict inputs keep their own check
    assert _fast_check([x], [In(x, strict=True)]) is None


# The graph of the Numba tests below, built anew by each (its kernels and program compile
# once per process: Numba compiles once per signature, each ~1 s cold). Two outputs (a list),
# a constant (an argument of the entry point after the inputs), a static length, and an output
# that is an input (copied inside the compiled code).
def _pair() -> tuple[Any, Any, list[Any]]:
    x = gt.dvector("x")
    m = TensorType("float64", (None, 3))("m")
    return x, m, [m * 2.5 + x, x]


def _ref(xv: Any, mv: Any) -> list[np.ndarray]:
    return [np.asarray(mv, "float64") * 2.5 + np.asarray(xv, "float64"),
            np.asarray(xv, "float64")]


def _same(got: Any, want: list[np.ndarray]) -> None:
    assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is np.ndarray and g.dtype == np.float64
        np.testing.assert_array_equal(g, w)


def _counting(f: Any, reference: bool = False) -> list[int]:
    """Count the calls that take the usual path (``Function._execute``: the compiled
    program's ``run``); a call through the entry point does not. ``reference``: the usual
    path runs the NumPy reference backend's program instead of Numba's (so that arguments of
    another layout or dtype compile no new Numba signature in the test)."""
    calls: list[int] = []
    if reference:
        from gnomon.backends.numpy.linker import compile_program

        run = compile_program(f.program).run
    else:
        run = f._execute
    f._execute = lambda values: calls.append(1) or run(values)
    return calls


def test_calls_give_the_same_results_and_errors_on_both_paths() -> None:
    x, m, outs = _pair()
    f = gnomon.function([x, m], outs, mode=gnomon.Mode("numba", tiered="first"))
    assert f._fast_check is not None
    xv, mv = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    for _ in range(3):  # the first tier, the final program, its entry point
        _same(f(xv, mv), _ref(xv, mv))
    _same(f([0.0, 1.0, 2.0], mv.tolist()), _ref(xv, mv))  # converted
    with pytest.raises(gnomon.errors.GnomonError):
        f(np.zeros((3, 1)), mv)  # a matrix: the full check explains
    with pytest.raises(gnomon.errors.GnomonError):
        f(xv)  # arity


def test_trust_input_calls_the_compiled_entry_point() -> None:
    # CompiledProgram.direct (issue 13 goal 3): a trust_input call of a Numba program whose
    # inputs are 0-d goes to the compiled entry point (no layout to check), same results;
    # what the entry point refuses takes the usual path, with the usual result or error
    a, b = gt.dscalar("a"), gt.dscalar("b")
    f = gnomon.function([a, b], [a * 2.5 + b, a - b], mode=gnomon.Mode("numba", tiered="off"))
    x, y = np.array(1.5), np.array(-4.0)
    f.trust_input = True
    assert f._entry is None
    for _ in range(2):
        out = f(x, y)
        np.testing.assert_allclose(out, [1.5 * 2.5 - 4.0, 5.5])
    assert f._entry is not None and f._entry.flags == ((), ())  # found once compiled
    assert f._entry.extra  # (constants: 2.5 is an argument)
    usual = _counting(f, reference=True)
    ro = np.array(3.0)
    ro.setflags(write=False)
    np.testing.assert_allclose(f(ro, y), [3.5, 7.0])  # (inputs are never written)
    assert not usual
    # a float32 array is refused by the entry point (another item size): the usual path
    np.testing.assert_allclose(f(np.array(1.0, "float32"), y), [-1.5, 5.0])
    assert len(usual) == 1


def test_trust_input_entry_point_of_a_tiered_function() -> None:
    from gnomon.compile import tiered

    a, b = gt.dscalar("a"), gt.dscalar("b")  # the graph above: compiled already
    f = gnomon.function([a, b], [a * 2.5 + b, a - b], mode=gnomon.Mode("numba", tiered="first"))
    f.trust_input = True
    x, y = np.array(1.5), np.array(2.0)
    assert f(x, y)[1] == -0.5  # the first tier
    assert f.compiled.direct() is None or tiered.tier(f) == "final"
    assert tiered.wait(f, timeout=600)
    for _ in range(2):
        assert f(x, y)[1] == -0.5
    assert f._entry is not None


# --- the direct call for arrays: the entry point behind the checks ------------------------------


def test_array_inputs_take_the_entry_point_behind_every_check() -> None:
    x, m, outs = _pair()
    f = gnomon.function([x, m], outs, mode=gnomon.Mode("numba", tiered="off"))
    rng = np.random.default_rng(13)
    xv, mv = rng.normal(size=3), rng.normal(size=(4, 3))
    usual = _counting(f)
    _same(f(xv, mv), _ref(xv, mv))  # compiles; the entry point is found after it
    assert len(usual) == 1 and f._entry is not None
    assert f._entry.flags == (("carray",), ("carray",)) and f._entry.extra
    # contiguous arrays of the inputs' types: the entry point, the usual path's results
    out = f(xv, mv)
    assert len(usual) == 1
    usual_out = f._call_usual(xv, mv)
    assert len(usual) == 2
    for o, u in zip(out, usual_out, strict=True):
        np.testing.assert_array_equal(o, u)
    # outputs never share memory with an argument (x is an output) or with each other
    for o in out:
        assert not np.shares_memory(o, xv) and not np.shares_memory(o, mv)
    assert not np.shares_memory(out[0], out[1])
    # what the entry point must not read, or what the checks convert or reject: the usual
    # path (here the reference program, which compiles no new Numba signature)
    usual = _counting(f, reference=True)
    # an error while running (lengths that do not broadcast): the usual path's error
    with pytest.raises(gnomon.errors.GnomonError, match="broadcast"):
        f(rng.normal(size=4), mv)
    assert len(usual) == 1
    usual.clear()
    ro = mv.copy()
    ro.flags.writeable = False
    others = [
        (rng.normal(size=6)[::2], mv),            # strided: the entry point would misread it
        (xv, np.asfortranarray(mv)),              # another layout
        (xv, ro),                                 # read-only (another Numba signature)
        (xv.astype("float32"), mv),               # another dtype: converted
        (list(xv), mv.tolist()),                  # not arrays: converted
    ]
    for k, (a, b) in enumerate(others):
        _same(f(a, b), _ref(a, b))
        assert len(usual) == 1 + k, k
    _same(f(m=mv, x=xv), _ref(xv, mv))  # by name
    assert len(usual) == 6
    for bad in [(xv, rng.normal(size=(4, 4))),    # static length 3
                (xv, rng.normal(size=3)),         # rank
                (xv, mv.astype("complex128"))]:   # a lossy conversion
        with pytest.raises(gnomon.errors.GnomonError):
            f(*bad)
    with pytest.raises(TypeError):
        f(xv)
    assert len(usual) == 6

    # trust_input: only the layout is checked; the same results
    f.trust_input = True
    _same(f(xv, mv), _ref(xv, mv))
    assert len(usual) == 6
    strided = rng.normal(size=6)[::2]
    _same(f(strided, mv), _ref(strided, mv))
    assert len(usual) == 7
    f.trust_input = False
    x32 = xv.astype("float32")
    _same(f(x32, mv), _ref(x32, mv))  # converted again
    assert len(usual) == 8
    # the direct call holds no reference to the function: dropped, it is freed at once
    # (no reference cycle left for the garbage collector)
    ref = weakref.ref(f)
    with _gc_off():
        del f
        assert ref() is None


def test_entry_point_of_a_tiered_function_after_the_switch() -> None:
    # the entry point is the final program's, taken once the first call was made on the
    # first tier; a call through it is a final-tier call that skips the tiered run
    from gnomon.compile import tiered

    x, m, outs = _pair()
    f = gnomon.function([x, m], outs, mode=gnomon.Mode("numba", tiered="first"))
    usual = _counting(f)
    xv, mv = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    _same(f(xv, mv), _ref(xv, mv))  # the first tier
    assert f._entry is None
    assert tiered.wait(f, timeout=600)
    _same(f(xv, mv), _ref(xv, mv))  # the final program, through the usual path
    assert f._entry is not None and len(usual) == 2
    for _ in range(2):
        _same(f(xv, mv), _ref(xv, mv))
    assert len(usual) == 2 and f.compiled.state.calls_on_first_tier == 1


def test_entry_point_flags_follow_the_compiled_signature() -> None:
    # which of a Numba program's signatures gives the entry point, and the flags each
    # argument must have (gnomon/backends/numba/linker.py _entry_point); no compilation
    from numba.core import types

    from gnomon.backends.numba.linker import _entry_point

    class Compiled:
        entry_point = staticmethod(lambda *a: a)

    f64 = types.float64
    ins = [(np.dtype("float64"), 1), (np.dtype("float64"), 0)]
    c_arr, scal = types.Array(f64, 1, "C"), types.Array(f64, 0, "C")

    def flags(*sigs: tuple[Any, ...]) -> Any:
        e = _entry_point([(s, Compiled()) for s in sigs], ins, (2.5,))
        return e if e is None else (e.flags, e.extra)

    assert flags((c_arr, scal, f64)) == ((("carray",), ()), (2.5,))
    ro = types.Array(f64, 1, "C", readonly=True)
    assert flags((ro, scal, f64)) == ((("c_contiguous", "aligned"), ()), (2.5,))
    una = types.Array(f64, 1, "C", aligned=False)
    assert flags((una, scal, f64)) == ((("c_contiguous",), ()), (2.5,))
    # strided or Fortran signatures, another dtype or rank, a scalar: not taken
    for sig in [(types.Array(f64, 1, "A"), scal, f64), (types.Array(f64, 1, "F"), scal, f64),
                (types.Array(types.float32, 1, "C"), scal, f64),
                (types.Array(f64, 2, "C"), scal, f64), (c_arr, f64, f64),
                # compiled for another program's constants (int64, or none)
                (c_arr, scal, types.int64), (c_arr, scal)]:
        assert flags(sig) is None, sig
    # the first signature that fits
    assert flags((types.Array(f64, 1, "A"), scal, f64), (c_arr, scal, types.int64),
                 (c_arr, scal, f64))[0] == (("carray",), ())


def test_array_defaults_fill_missing_arguments() -> None:
    # In(x, value=array): a call leaving x out takes the default (the check of which
    # arguments are missing compared array defaults with ==, which raised)
    x, y = gt.dvector("x"), gt.dvector("y")
    f = gnomon.function([x, In(y, value=np.ones(3))], x * y, mode="numpy")
    np.testing.assert_array_equal(f(np.arange(3.0)), np.arange(3.0))
    g = gnomon.function([In(x, value=np.arange(3.0))], x * 2, mode="numpy")
    np.testing.assert_array_equal(g(), np.arange(3.0) * 2)


def test_direct_call_never_takes_a_signature_compiled_for_other_constants() -> None:
    """Programs that differ only in their constants share one Numba dispatcher (constants are
    arguments); the direct call must not take a signature compiled for another program's
    constants: int64 constants read through a float64 signature gave 5e-324 for 1 (and a
    crash in the doctests)."""
    pytest.importorskip("numba")
    for _ in range(2):  # (the second call of each goes through the direct path)
        first = gt.join(0, gt.constant([1.5, 2.5]), gt.constant([3.5]))
        assert first.eval().tolist() == [1.5, 2.5, 3.5]
        ints = gt.join(0, gt.constant([1, 2]), gt.constant([3]))
        assert ints.eval().tolist() == [1, 2, 3]
        assert ints.eval().tolist() == [1, 2, 3]


# --- the direct call as a C object (gnomon/backends/native_call.py) -----------------------------


def _native_module() -> Any:
    from gnomon.backends import native_call

    mod = native_call.module()
    if mod is None:  # pragma: no cover - no C compiler or headers on this machine
        pytest.skip(f"no native call here: {native_call.why_not()}")
    return mod


def _dtype_copy() -> np.dtype[Any]:
    """float64's dtype as another object (what arrays made by compiled code loaded from a
    cache carry: Numba unpickles the dtype it boxes its results with)."""
    import pickle

    d = pickle.loads(pickle.dumps(np.dtype("float64")))
    assert d is not np.dtype("float64") and d == np.dtype("float64")
    return d


class _Raise:
    """An entry point's exception (a marker in the fake entry's answers)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _both_paths(flags: tuple[tuple[str, ...], ...], types: Any, single: bool,
                extra: tuple[Any, ...] = ()) -> list[Any]:
    """The C object and the generated Python function for one fake entry point, each with
    its own log: ("entry", args) or ("usual", args, kwargs) per call it makes."""
    from gnomon.backends import native_call
    from gnomon.compile.compiled import EntryPoint
    from gnomon.compile.function import _python_direct

    pairs = []
    for make in ("C", "python"):
        log: list[Any] = []
        answer: list[Any] = []  # what the entry returns next (default: a tuple of sums)

        def entry(*args: Any, log: list[Any] = log, answer: list[Any] = answer) -> Any:
            log.append(("entry", args))
            if answer:
                a = answer[0]
                if isinstance(a, _Raise):
                    raise a.exc
                return a
            return (len(args), "second")

        def usual(*args: Any, log: list[Any] = log, **kwargs: Any) -> Any:
            log.append(("usual", args, kwargs))
            return "usual"

        e = EntryPoint(entry, flags, extra)
        call = (native_call.caller(e, usual, single, types) if make == "C"
                else _python_direct(e, usual, single, len(flags), types))
        assert call is not None
        pairs.append((call, log, answer))
    assert type(pairs[0][0]).__name__ == "NativeCall"
    return pairs


def _call_cases(x: np.ndarray, m: np.ndarray) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    ro = m.copy()
    ro.flags.writeable = False

    class Sub(np.ndarray):
        pass

    return [
        ((x, m), {}),                               # contiguous, the inputs' types
        ((x.view(_dtype_copy()), m), {}),           # an equal dtype, another object
        ((np.zeros(6)[::2], m), {}),                # strided
        ((x, np.asfortranarray(m)), {}),            # Fortran order
        ((x, ro), {}),                              # read-only
        ((x.astype("float32"), m), {}),             # another dtype
        ((x.astype("int64"), m), {}),               # another dtype, same item size
        ((x.astype(">f8"), m), {}),                 # another byte order (not equal)
        ((x, np.zeros((2, 4))), {}),                # static length 3
        ((x, np.zeros(3)), {}),                     # rank
        ((x, m.view(Sub)), {}),                     # a subclass
        ((list(x), m), {}),                         # not an array
        ((x, 3.0), {}),                             # a Python float
        ((x,), {"m": m}),                           # by keyword
        ((x, m), {"extra": 1}),                     # an unknown keyword
        ((x,), {}),                                 # too few
        ((x, m, m), {}),                            # too many
        ((), {}),                                   # none
    ]


@pytest.mark.parametrize("trust", [False, True])
def test_native_call_takes_the_same_decisions_as_the_python_one(trust: bool) -> None:
    _native_module()
    x, m = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    types = None if trust else [(np.dtype("float64"), (None,)), (np.dtype("float64"), (None, 3))]
    for single in (True, False):
        (c, clog, cans), (p, plog, pans) = _both_paths((("carray",), ("carray",)), types,
                                                       single, extra=(2.5, "k"))
        for args, kwargs in _call_cases(x, m):
            clog.clear()
            plog.clear()
            got_c, got_p = c(*args, **kwargs), p(*args, **kwargs)
            assert got_c == got_p, (args, kwargs)
            assert [e[0] for e in clog] == [e[0] for e in plog], (args, kwargs)
            for ce, pe in zip(clog, plog, strict=True):  # the same arguments, as given
                assert len(ce[1]) == len(pe[1]) and all(
                    a is b for a, b in zip(ce[1], pe[1], strict=True)), (args, kwargs)
                if ce[0] == "usual":
                    assert ce[1] == args and ce[2].keys() == kwargs.keys()
                else:  # the inputs, then the extra arguments
                    assert ce[1][2:] == (2.5, "k")
        # the decisions themselves, for the record (the Python function's are the C one's)
        calls = [[e[0] for e in _log_of(c, clog, a, k)] for a, k in _call_cases(x, m)]
        want = ([["entry"]] * 2 + [["usual"]] * 3
                + ([["entry"]] * 6 if trust else [["usual"]] * 6) + [["usual"]] * 7)
        assert calls == want
        # an exception from the entry point: the usual path; BaseExceptions pass through
        for ans in (cans, pans):
            ans[:] = [_Raise(ValueError("no"))]
        for call, log in ((c, clog), (p, plog)):
            log.clear()
            assert call(x, m) == "usual" and [e[0] for e in log] == ["entry", "usual"]
        for ans in (cans, pans):
            ans[:] = [_Raise(KeyboardInterrupt())]
        for call in (c, p):
            with pytest.raises(KeyboardInterrupt):
                call(x, m)
        # what the entry returns: its first item, or a list of its items; a result that is
        # not a sequence is an error on both paths: the usual path
        for ans in (cans, pans):
            ans[:] = [("a", "b")]
        assert c(x, m) == p(x, m) == ("a" if single else ["a", "b"])
        for ans in (cans, pans):
            ans[:] = [7]
        assert c(x, m) == p(x, m) == "usual"


def _log_of(call: Any, log: list[Any], args: Any, kwargs: Any) -> list[Any]:
    log.clear()
    call(*args, **kwargs)
    return list(log)


def test_native_call_zero_d_and_many_arguments() -> None:
    # 0-d inputs need no flags (any ndarray, no Python float); more arguments and extra
    # arguments than the C object keeps on its stack (16)
    _native_module()
    s = np.array(1.5)
    (c, clog, _), (p, plog, _) = _both_paths(((), ()), None, True)
    for args in [(s, s), (s, 1.5), (np.zeros(3)[::2], s)]:
        assert [e[0] for e in _log_of(c, clog, args, {})] == \
            [e[0] for e in _log_of(p, plog, args, {})]
    assert [e[0] for e in _log_of(c, clog, (s, 1.5), {})] == ["usual"]
    n = 20
    flags = (("carray",),) * n
    types = [(np.dtype("float64"), (2,))] * n
    (c, clog, _), (p, plog, _) = _both_paths(flags, types, False, extra=tuple(range(5)))
    args = tuple(np.full(2, float(k)) for k in range(n))
    assert c(*args) == p(*args) == [n + 5, "second"]
    assert clog[-1][1] == (*args, *range(5))
    bad = args[:-1] + (np.zeros(3),)
    assert c(*bad) == p(*bad) == "usual"


def test_native_call_keeps_no_references() -> None:
    # reference counts of the arguments, the results and the callables do not grow (a
    # leak in the C object), on the entry point's path and the usual one
    import sys

    from gnomon.backends import native_call
    from gnomon.compile.compiled import EntryPoint

    _native_module()
    x, m, strided = np.arange(3.0), np.arange(6.0).reshape(2, 3), np.zeros(6)[::2]
    result = np.ones(2)
    out = (result, "second")
    fail = [False]

    def entry(*args: Any) -> Any:
        if fail[0]:
            raise ValueError("no")
        return out

    def usual(*args: Any, **kwargs: Any) -> Any:
        return result

    c = native_call.caller(EntryPoint(entry, (("carray",), ("carray",)), (2.5,)), usual,
                           True, None)
    objs = (x, m, strided, result, out, entry, usual)
    before = [sys.getrefcount(o) for o in objs]
    for _ in range(100):
        assert c(x, m) is result and c(strided, m) is result and c(x, m=m) is result
    fail[0] = True
    for _ in range(100):
        assert c(x, m) is result
    assert [sys.getrefcount(o) for o in objs] == before


def test_functions_take_the_native_call_and_fall_back_without_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gnomon.backends import native_call
    from gnomon.config import config

    _native_module()
    x, m, outs = _pair()
    f = gnomon.function([x, m], outs, mode=gnomon.Mode("numba", tiered="off"))
    xv, mv = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    for _ in range(2):
        _same(f(xv, mv), _ref(xv, mv))
    assert type(f._call).__name__ == "NativeCall" and f._call.typed
    usual = _counting(f)
    _same(f(xv.view(_dtype_copy()), mv), _ref(xv, mv))  # (an equal dtype: the entry point)
    assert not usual
    f.trust_input = True
    assert type(f._call).__name__ == "NativeCall" and not f._call.typed
    # config.native_call off, or no module (no compiler): the generated Python function
    with config.change(native_call=False):
        f.trust_input = False
        assert type(f._call).__name__ == "function"
        assert native_call.why_not() == "config.native_call is off (GNOMON_NATIVE_CALL=0)"
    # no C compiler: the module is not built, why_not says why, the Python function serves
    from gnomon.backends.c import cache

    def no_compiler(*args: Any, **kwargs: Any) -> Any:
        raise gnomon.errors.BackendUnavailableError("no C compiler (test)")

    monkeypatch.setattr(native_call, "_STATE", {})
    monkeypatch.setattr(cache, "load_module", no_compiler)
    native_call.module()  # (waits for the attempt: a call waits at most WAIT_S)
    f.trust_input = True
    assert type(f._call).__name__ == "function"
    assert "no C compiler (test)" in (native_call.why_not() or "")
    _same(f(xv, mv), _ref(xv, mv))


def test_native_call_from_threads_and_a_dropped_function_is_freed() -> None:
    from concurrent.futures import ThreadPoolExecutor

    _native_module()
    x, m, outs = _pair()
    f = gnomon.function([x, m], outs, mode=gnomon.Mode("numba", tiered="off"))
    rng = np.random.default_rng(1313)
    cases = [(rng.normal(size=3), rng.normal(size=(k, 3))) for k in range(1, 9)]
    cases += [(list(rng.normal(size=3)), rng.normal(size=(2, 3)))]  # the usual path
    for a, b in cases:
        _same(f(a, b), _ref(a, b))
    assert type(f._call).__name__ == "NativeCall"

    def work(seed: int, fn: Any = f) -> bool:
        for j in range(100):
            a, b = cases[(seed + j) % len(cases)]
            got = fn(a, b)
            want = _ref(a, b)
            if not all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)):
                return False
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(8)))
    del work  # (holds the function)
    ref = weakref.ref(f)
    with _gc_off():
        del f
        assert ref() is None


def test_portable_c_modules_need_no_compiler_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # native_call's module is compiled without -march=native, and its cache key names no
    # compiler or CPU: loading it runs no compiler (the probes cost ~50 ms a process)
    from gnomon.backends.c import cache

    src = "int x;"
    assert cache.module_name(src, portable=True) != cache.module_name(src)

    def probe() -> Any:
        raise AssertionError("probed the compiler")

    monkeypatch.setattr(cache, "native_flags", probe)
    monkeypatch.setattr(cache, "compiler_id", probe)
    assert cache.module_name(src, portable=True).startswith("gnomon_c_")
    assert "-march=native" not in cache.PORTABLE_FLAGS


def test_a_call_does_not_wait_for_the_native_module_to_compile(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The first process on a machine compiles the module (gcc, ~0.6-0.9 s): a call asking for
    # it meanwhile gets the Python function (None here) instead of waiting; once the build is
    # done, the next caller gets the C object.
    import threading

    from gnomon.backends import native_call
    from gnomon.backends.c import cache
    from gnomon.compile.compiled import EntryPoint

    real = _native_module()
    release, started = threading.Event(), threading.Event()

    def slow_compile(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait()
        return real

    monkeypatch.setattr(native_call, "_STATE", {})
    monkeypatch.setattr(native_call, "_BUILD", {})
    monkeypatch.setattr(native_call, "WAIT_S", 0.0)
    monkeypatch.setattr(cache, "load_module", slow_compile)
    entry = EntryPoint(lambda *a: (np.ones(1),), (("carray",),), ())
    try:
        assert native_call.caller(entry, lambda *a, **k: None, True, None) is None
        assert started.wait(30) and native_call.why_not() is None
    finally:
        release.set()
    assert native_call.module() is real
    c = native_call.caller(entry, lambda *a, **k: None, True, None)
    assert type(c).__name__ == "NativeCall"
    np.testing.assert_array_equal(c(np.zeros(2)), np.ones(1))
