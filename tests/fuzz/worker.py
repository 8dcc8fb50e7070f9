"""Evaluate fuzz cases and compare every backend with the reference; also the subprocess that
the runner talks to (``python -m tests.fuzz.worker``).

Protocol: one JSON object per line on stdin, ``{"id": ..., "spec": Spec.to_json(), "modes":
[...]}``; one JSON object per line back, ``{"id": ..., "result": {...}}`` (see
:func:`evaluate`). The worker writes nothing else to that stream (its fd 1 is pointed at stderr),
so anything Numba, LLVM or XLA print cannot corrupt the protocol. If the process dies by a
signal, the case it was evaluating is the one it did not answer.

Comparisons, for each value set: the reference (``mode='numpy'``) runs first. If it raises,
each backend must raise an exception of the same class. If it returns, each backend must return
the same number of outputs with the same dtypes and shapes, integer and boolean values exactly
equal, float and complex values equal within the dtype's tolerance with NaN where the reference
has NaN, and the inputs unchanged. Backends: ``numba``, ``jax``, and ``noopt`` (the reference
backend without the rewrite pipeline, which checks the rewrites themselves).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
import warnings
from typing import Any

import numpy as np

from tests.fuzz.spec import Spec, build, encode_array

#: backends compared with the reference by default
MODES: tuple[str, ...] = ("numba", "jax", "noopt")

#: ``(rtol, atol)`` per result dtype (integers and booleans: exact)
TOLERANCE = {"float32": (2e-3, 1e-5), "float64": (1e-6, 1e-12),
             "complex64": (2e-3, 1e-5), "complex128": (1e-6, 1e-12)}

_CACHE_SIZE = 256


def _mode(name: str) -> Any:
    from gnomon.compile.mode import Mode

    # tiered="off": the first call of a tiered function would run the reference, not the backend
    return Mode("numpy", optimize=False) if name == "noopt" else Mode(name, tiered="off")


class Evaluator:
    """Compiles and runs specs, keeping compiled functions by graph structure, so that many
    value sets on one graph compile once."""

    def __init__(self) -> None:
        self._compiled: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()

    def _functions(self, spec: Spec, modes: list[str]) -> dict[str, Any]:
        key = spec.structure()
        entry = self._compiled.get(key)
        if entry is None:
            entry = {}
            try:
                entry["graph"] = build(spec)
            except Exception as e:
                entry["graph"] = e
            self._compiled[key] = entry
            while len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(key)
        graph = entry["graph"]
        if isinstance(graph, Exception):
            return entry
        import gnomon

        xs, outs = graph
        for m in ["numpy", *modes]:
            if m not in entry:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        entry[m] = gnomon.function(xs, outs, mode=_mode(m),
                                                   on_unused_input="ignore")
                except Exception as e:
                    entry[m] = e
        return entry

    def evaluate(self, spec: Spec, modes: list[str] | None = None) -> dict[str, Any]:
        """Run ``spec`` on every backend in ``modes`` and compare with the reference.

        Returns ``{"status": "ok" | "skip", "reason": str, "discrepancies": [...],
        "notes": [...]}``. A discrepancy is ``{"backend", "kind", "value_set", "detail"}`` with
        ``kind`` one of ``compile``, ``missing-error``, ``unexpected-error``, ``error-class``,
        ``count``, ``dtype``, ``shape``, ``value``, ``input-mutated``.
        """
        modes = list(MODES if modes is None else modes)
        fns = self._functions(spec, modes)
        graph = fns["graph"]
        if isinstance(graph, Exception):
            return _skip(f"build: {type(graph).__name__}: {_first_line(graph)}")
        if isinstance(fns["numpy"], Exception):
            return _skip(f"reference compile: {type(fns['numpy']).__name__}: "
                         f"{_first_line(fns['numpy'])}")
        found: list[dict[str, Any]] = []
        refs: list[str] = []
        notes: list[str] = []
        live: list[str] = []
        for m in modes:
            f = fns[m]
            if isinstance(f, Exception):
                from gnomon.errors import NotLoweredError

                if isinstance(f, NotLoweredError):
                    notes.append(f"{m}: not lowered: {_first_line(f)}")
                else:
                    found.append(_disc(m, "compile", None,
                                       f"{type(f).__name__}: {_first_line(f)}"))
            else:
                live.append(m)
        for i, vals in enumerate(spec.values):
            ref, _ = _run(fns["numpy"], vals)
            refs.append(describe(ref))
            unspecified = self._cast_out_of_range(spec, graph, vals)
            for m in live:
                got, got_warn = _run(fns[m], vals)
                if m == "numba" and any("Numba could not compile" in w for w in got_warn):
                    notes.append("numba: fell back to the reference backend")
                msg = _compare(ref, got, vals, unspecified)
                if msg is not None:
                    found.append(_disc(m, msg[0], i, msg[1]))
        return {"status": "ok", "reason": "", "discrepancies": found,
                "notes": sorted(set(notes)), "reference": refs}


    def _cast_out_of_range(self, spec: Spec, graph: tuple[list[Any], list[Any]],
                           vals: list[np.ndarray]) -> bool:
        """Does a float-to-integer cast of the graph see NaN, inf or a value outside the integer
        type? NumPy leaves that result undefined (each backend returns what its hardware or
        compiler gives), so values are then not compared."""
        key = spec.structure() + "#casts"
        entry = self._compiled.setdefault(key, {})
        if "fn" not in entry:
            casts = _float_to_int_casts(graph[1])
            entry["targets"] = [dt for _, dt in casts]
            entry["fn"] = None
            if casts:
                import gnomon

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    entry["fn"] = gnomon.function(graph[0], [v for v, _ in casts],
                                                  mode=_mode("noopt"), on_unused_input="ignore")
        if entry["fn"] is None:
            return False
        try:
            with np.errstate(all="ignore"):
                seen = entry["fn"](*[v.copy() for v in vals])
        except Exception:
            return False
        for x, dt in zip(seen, entry["targets"], strict=True):
            x = np.asarray(x)
            if x.dtype.kind == "c":
                x = x.real
            # exact float bounds: [-2**(bits-1), 2**(bits-1)) or [0, 2**bits)
            bits = 8 * np.dtype(dt).itemsize
            lo, hi = (0.0, 2.0**bits) if np.dtype(dt).kind == "u" else (-(2.0**(bits - 1)),
                                                                          2.0**(bits - 1))
            with np.errstate(all="ignore"):
                t = np.trunc(x)
                if not (np.isfinite(x).all() and (t >= lo).all() and (t < hi).all()):
                    return True
        return False


def _float_to_int_casts(outs: list[Any]) -> list[tuple[Any, str]]:
    """``(input variable, integer dtype)`` of each conversion from a float or complex to an
    integer type in the graph of ``outs``: Elemwise casts, and the values that set/inc_subtensor
    write into an integer array."""
    from gnomon.tensor.elemwise import Elemwise

    found: list[tuple[Any, str]] = []
    todo = list(outs)
    seen: set[int] = set()
    while todo:
        v = todo.pop()
        node = getattr(v, "owner", None)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        todo.extend(node.inputs)
        op = node.op
        if (isinstance(op, Elemwise) and type(op.scalar_op).__name__ == "Cast"
                and np.dtype(node.inputs[0].dtype).kind in "fc"
                and np.dtype(op.scalar_op.dtype).kind in "iu"):
            found.append((node.inputs[0], op.scalar_op.dtype))
        elif (type(op).__name__ in ("IncSubtensor", "AdvancedIncSubtensor")
              and np.dtype(node.inputs[0].dtype).kind in "iu"
              and np.dtype(node.inputs[1].dtype).kind in "fc"):
            found.append((node.inputs[1], node.inputs[0].dtype))
    return found


    def intermediates(self, spec: Spec) -> list[tuple[tuple[int, int], np.ndarray]]:
        """The reference value (rewrites off) of every step result on the first value set."""
        import gnomon
        from tests.fuzz.spec import step_values

        pairs = step_values(spec)
        xs = build(spec)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = gnomon.function(xs, [v for _, v in pairs], mode=_mode("noopt"),
                                on_unused_input="ignore")
            with np.errstate(all="ignore"):
                got = f(*[v.copy() for v in spec.values[0]])
        return [(r, np.asarray(g)) for (r, _), g in zip(pairs, got, strict=True)]


def _skip(reason: str) -> dict[str, Any]:
    return {"status": "skip", "reason": reason, "discrepancies": [], "notes": []}


def _disc(backend: str, kind: str, value_set: int | None, detail: str) -> dict[str, Any]:
    return {"backend": backend, "kind": kind, "value_set": value_set, "detail": detail}


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0][:300] if s else ""


class _Outcome:
    """What one call returned or raised, and whether it changed its inputs."""

    def __init__(self, outs: list[np.ndarray] | None, error: BaseException | None,
                 mutated: list[int]) -> None:
        self.outs = outs
        self.error = error
        self.mutated = mutated


def _run(f: Any, vals: list[np.ndarray]) -> tuple[_Outcome, list[str]]:
    args = [v.copy() for v in vals]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="warn"):
            try:
                res = f(*args)
                outs = [np.asarray(r) for r in res]
                err = None
            except Exception as e:
                outs, err = None, e
    mutated = [k for k, (a, v) in enumerate(zip(args, vals, strict=True))
               if a.dtype != v.dtype or a.shape != v.shape
               or not np.array_equal(a, v, equal_nan=a.dtype.kind in "fc")]
    return _Outcome(outs, err, mutated), [str(w.message) for w in caught]


def describe(outcome: _Outcome) -> str:
    """What a call did, in one line: the error it raised or the arrays it returned."""
    if outcome.error is not None:
        return f"raises {_error_name(outcome.error)}: {_first_line(outcome.error)}"
    return _summary(outcome.outs)


def _error_name(e: BaseException) -> str:
    cause = e.__cause__
    return type(e).__name__ + (f" (from {type(cause).__name__})" if cause is not None else "")


def _compare(ref: _Outcome, got: _Outcome, vals: list[np.ndarray],
             unspecified: bool) -> tuple[str, str] | None:
    """``(kind, detail)`` of the first difference between ``got`` and ``ref``, or ``None``."""
    if got.mutated:
        return "input-mutated", f"inputs {got.mutated} changed by the call"
    if ref.error is not None:
        if got.error is None:
            return "missing-error", f"reference raised {_error_name(ref.error)}: " \
                f"{_first_line(ref.error)}; backend returned {_summary(got.outs)}"
        if type(got.error) is not type(ref.error):
            return "error-class", (f"reference raised {_error_name(ref.error)}, backend raised "
                                   f"{_error_name(got.error)}: {_first_line(got.error)}")
        return None
    if got.error is not None:
        return "unexpected-error", (f"reference returned {_summary(ref.outs)}; backend raised "
                                    f"{_error_name(got.error)}: {_first_line(got.error)}")
    assert ref.outs is not None and got.outs is not None
    if len(ref.outs) != len(got.outs):
        return "count", f"{len(got.outs)} outputs, reference has {len(ref.outs)}"
    for k, (g, r) in enumerate(zip(got.outs, ref.outs, strict=True)):
        if g.dtype != r.dtype:
            return "dtype", f"output {k}: dtype {g.dtype}, reference {r.dtype}"
        if g.shape != r.shape:
            return "shape", f"output {k}: shape {g.shape}, reference {r.shape}"
        if unspecified:
            continue
        bad = value_mismatch(g, r)
        if bad is not None:
            return "value", f"output {k}: {bad}"
    return None


def value_mismatch(got: np.ndarray, ref: np.ndarray) -> str | None:
    """Where ``got`` differs from ``ref`` (same dtype and shape), or ``None``."""
    kind = ref.dtype.kind
    if kind == "c":
        for part, f in (("real", np.real), ("imag", np.imag)):
            bad = value_mismatch(np.ascontiguousarray(f(got)), np.ascontiguousarray(f(ref)))
            if bad is not None:
                return f"{part} part: {bad}"
        return None
    if kind != "f":
        ok = got == ref
    else:
        rtol, atol = TOLERANCE.get(ref.dtype.name, (1e-6, 1e-12))
        with np.errstate(all="ignore"):
            ok = np.isclose(got, ref, rtol=rtol, atol=atol, equal_nan=True)
            # One step either side of the overflow threshold: inf against a huge finite value.
            big = np.finfo(ref.dtype).max / 2
            edge = (np.isinf(got) & (np.abs(ref) > big)) | (np.isinf(ref) & (np.abs(got) > big))
            ok = ok | (edge & (np.sign(got) == np.sign(ref)))
    ok = np.asarray(ok)
    if ok.all():
        return None
    idx = tuple(int(i) for i in np.argwhere(~ok)[0])
    n = int((~ok).sum())
    note = ""
    if kind == "f" and np.isfinite(ref[~ok]).all() and np.isinf(got[~ok]).all():
        note = " [overflow: the reference is finite wherever this is infinite]"
    return (f"{n} of {ok.size} values differ; at {idx}: got {got[idx]!r}, "
            f"reference {ref[idx]!r}{note}")


def _summary(outs: list[np.ndarray] | None) -> str:
    if outs is None:
        return "nothing"
    parts = []
    for o in outs:
        text = " ".join(np.array2string(o, threshold=8, max_line_width=200).split())
        parts.append(f"{o.dtype}{list(o.shape)} {text}")
    return "; ".join(parts)


def _limit_memory() -> None:
    """Cap the address space, so that a fuzzed size asking for terabytes fails fast with
    MemoryError instead of taking the machine down (``GNOMON_FUZZ_MEMORY_GB``, default 12)."""
    try:
        import resource

        gb = float(os.environ.get("GNOMON_FUZZ_MEMORY_GB", "12"))
        limit = int(gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def main() -> None:
    """The worker loop: read specs from stdin, answer on the original stdout."""
    import faulthandler

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever else writes to stdout goes to stderr
    sys.stdout = sys.stderr
    faulthandler.enable(file=sys.stderr)
    _limit_memory()
    ev = Evaluator()
    # self-test of the runner's crash handling: die on any value set holding this number
    crash_on = os.environ.get("GNOMON_FUZZ_CRASH_ON")
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        if "signal" in msg:  # the runner's self-test: die the way a crashing kernel would
            os.kill(os.getpid(), int(msg["signal"]))
        try:
            spec = Spec.from_json(msg["spec"])
            if crash_on is not None and any((v == float(crash_on)).any()
                                            for vs in spec.values for v in vs):
                os.kill(os.getpid(), signal.SIGSEGV)
            if msg.get("intermediates"):
                try:
                    pairs = ev.intermediates(spec)
                    result = {"status": "ok", "values": [[list(r), encode_array(a)]
                                                         for r, a in pairs]}
                except Exception as e:
                    result = _skip(f"intermediates: {type(e).__name__}: {_first_line(e)}")
            else:
                result = ev.evaluate(spec, msg.get("modes"))
        except Exception as e:  # a bug in the fuzzer itself: report, keep going
            result = _skip(f"fuzzer error: {type(e).__name__}: {_first_line(e)}")
            result["status"] = "error"
        proto.write(json.dumps({"id": msg["id"], "result": result}) + "\n")
        proto.flush()


if __name__ == "__main__":
    main()
