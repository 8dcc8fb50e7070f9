"""Run fuzz cases in worker subprocesses; catch crashes; minimize and report discrepancies.

A worker killed by a signal (SIGFPE, SIGSEGV, SIGABRT, ...) or silent past the timeout has
crashed on the case it was given. The runner reproduces the crash in a fresh worker, finds the
backend and the value set that cause it, minimizes it like any other discrepancy, and starts a
new worker for the remaining cases.

Minimizing a discrepancy (same backend, same kind) keeps one value set, removes steps the
difference does not need, shrinks each input to fewer elements and replaces values with 0 or 1
where the difference survives. The result is printed as a short script plus the reference
result (:meth:`Finding.report`).
"""

from __future__ import annotations

import json
import os
import pathlib
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.fuzz.known import known_issue
from tests.fuzz.spec import Ref, Spec, Step, decode_array, reproducer
from tests.fuzz.worker import MODES

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Worker:
    """One ``python -m tests.fuzz.worker`` subprocess."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.worker"], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env={**os.environ, **(env or {}),
                                                              "PYTHONPATH": str(ROOT)},
            start_new_session=True)
        self._n = 0

    def ask(self, spec: Spec, modes: Iterable[str], timeout: float) -> dict[str, Any]:
        """Evaluate ``spec``; a crash or a hang comes back as ``status`` ``crash`` / ``hang``
        (the worker is then dead and must not be asked again)."""
        return self._send({"spec": spec.to_json(), "modes": list(modes)}, timeout)

    def intermediates(self, spec: Spec, timeout: float) -> dict[tuple[int, int], np.ndarray]:
        """The reference value of every step result on ``spec``'s first value set (empty if
        they cannot be computed)."""
        res = self._send({"spec": spec.to_json(), "intermediates": True}, timeout)
        if res.get("status") != "ok":
            return {}
        return {(int(r[0]), int(r[1])): decode_array(a) for r, a in res["values"]}

    def die_by(self, sig: int, timeout: float = 60.0) -> dict[str, Any]:
        """Make the worker kill itself with ``sig`` (a self-test of crash detection)."""
        return self._send({"signal": int(sig)}, timeout)

    def _send(self, msg: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._n += 1
        try:
            self.proc.stdin.write((json.dumps({"id": self._n, **msg}) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._dead()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.close()
            return {"status": "hang", "reason": f"no answer within {timeout:.0f} s",
                    "discrepancies": [], "notes": []}
        line = self.proc.stdout.readline()
        if not line:
            return self._dead()
        return json.loads(line)["result"]

    def _dead(self) -> dict[str, Any]:
        code = self.proc.wait()
        name = (signal.Signals(-code).name if code < 0 and -code in signal.valid_signals()
                else f"exit status {code}")
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-12:]
        return {"status": "crash", "reason": name, "stderr": "\n".join(tail),
                "discrepancies": [], "notes": []}

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the worker (its own process group: whatever it started goes too)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()
        self._stderr.close()


@dataclass
class Finding:
    """A discrepancy, minimized: the case, the backend, the kind and what the backends did."""

    spec: Spec
    backend: str
    kind: str
    detail: str
    reference: str
    known: str | None = None
    count: int = 1
    original_ops: list[str] = field(default_factory=list)

    def signature(self) -> tuple[Any, ...]:
        return (self.backend, self.kind, tuple(self.spec.ops()),
                tuple(d for d, _ in self.spec.inputs))

    def report(self) -> str:
        """A title, the reproducer script and the reference result."""
        head = f"[{self.backend}] {self.kind}: {self.detail}"
        if self.known:
            head += f"\n(known: {self.known})"
        if self.count > 1:
            head += f"\n(seen {self.count} times)"
        vals = self.spec.values[0] if self.spec.values else []
        mode = "numpy" if self.backend == "noopt" else self.backend
        comment = f"numpy reference: {self.reference}"
        if self.backend == "noopt":
            comment += ("\ncompare with mode=gnomon.Mode('numpy', optimize=False): "
                        "the rewrites change the result")
        return head + "\n" + reproducer(self.spec, vals, mode, comment)


def prune(spec: Spec) -> Spec:
    """Drop the steps no output needs and the inputs no step reads; renumber the rest."""
    need: set[int] = set()
    todo = [j for j, _ in spec.outputs if j >= 0]
    while todo:
        j = todo.pop()
        if j in need:
            continue
        need.add(j)
        todo += [a for a, _ in spec.steps[j].args if a >= 0]
    keep = sorted(need)
    step_map = {old: new for new, old in enumerate(keep)}
    used_inputs = sorted({o for j in keep for a, o in spec.steps[j].args if a < 0}
                         | {o for j, o in spec.outputs if j < 0})
    in_map = {old: new for new, old in enumerate(used_inputs)}

    def ref(r: tuple[int, int]) -> tuple[int, int]:
        return (-1, in_map[r[1]]) if r[0] < 0 else (step_map[r[0]], r[1])

    steps = [Step(spec.steps[j].op, tuple(ref(a) for a in spec.steps[j].args),
                  spec.steps[j].n_out) for j in keep]
    return Spec([spec.inputs[k] for k in used_inputs], steps, [ref(r) for r in spec.outputs],
                [[vs[k] for k in used_inputs] for vs in spec.values])


class Runner:
    """Evaluates cases on a pool of workers and collects minimized findings."""

    def __init__(self, *, jobs: int = 1, timeout: float = 300.0,
                 modes: tuple[str, ...] = MODES, minimize_budget: int = 60,
                 log: Callable[[str], None] | None = None,
                 env: dict[str, str] | None = None, minimize_known: bool = True) -> None:
        self.jobs = jobs
        self.timeout = timeout
        self.modes = modes
        self.minimize_budget = minimize_budget
        self.log = log or (lambda s: None)
        self.env = env
        self.minimize_known = minimize_known
        self.findings: dict[tuple[Any, ...], Finding] = {}
        self.seen: dict[tuple[Any, ...], Finding] = {}  # pre-minimization signature
        self.stats = {"cases": 0, "value_sets": 0, "skipped": 0, "crashes": 0, "errors": 0}
        self.skip_reasons: dict[str, int] = {}
        self.notes: dict[str, int] = {}
        self._lock = threading.Lock()

    # --- evaluation ---------------------------------------------------------------------------

    def run(self, specs: Iterable[Spec], deadline: float | None = None) -> None:
        """Evaluate every case (``jobs`` workers in parallel) until ``deadline`` (a
        ``time.monotonic()`` value)."""
        it = iter(specs)
        it_lock = threading.Lock()

        def next_spec() -> Spec | None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            with it_lock:
                return next(it, None)

        def loop() -> None:
            worker: Worker | None = None
            try:
                while (spec := next_spec()) is not None:
                    if worker is None or not worker.alive:
                        worker = Worker(self.env)
                    self._one(worker, spec)
            finally:
                if worker is not None:
                    worker.close()

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(self.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _one(self, worker: Worker, spec: Spec) -> None:
        res = worker.ask(spec, self.modes, self.timeout)
        with self._lock:
            self.stats["cases"] += 1
            self.stats["value_sets"] += len(spec.values)
            for n in res.get("notes", []):
                self.notes[n] = self.notes.get(n, 0) + 1
            if res["status"] in ("skip", "error"):
                self.stats["errors" if res["status"] == "error" else "skipped"] += 1
                reason = res["reason"][:100]
                self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1
                if res["status"] == "error":
                    self.log(f"fuzzer error: {res['reason']}")
                return
        if res["status"] in ("crash", "hang"):
            with self._lock:
                self.stats["crashes"] += 1
            self.log(f"worker {res['status']} ({res['reason']}) on ops {spec.ops()}")
            self._crash(spec, res)
            return
        for d in res["discrepancies"]:
            self._discrepancy(spec, d)

    def _discrepancy(self, spec: Spec, d: dict[str, Any]) -> None:
        key = (d["backend"], d["kind"], tuple(sorted(set(spec.ops()))))
        with self._lock:
            if key in self.seen:
                self.seen[key].count += 1
                return
            placeholder = Finding(spec, d["backend"], d["kind"], d["detail"], "")
            self.seen[key] = placeholder
        self.log(f"[{d['backend']}] {d['kind']} in {spec.ops()}: {d['detail'][:200]}")
        one = spec.with_values([spec.values[d["value_set"]]]) if d["value_set"] is not None \
            else spec
        known = known_issue(one, {**d, "value_set": 0 if d["value_set"] is not None else None})
        if known is not None and not self.minimize_known:
            finding = Finding(one, d["backend"], d["kind"], d["detail"], "?", known)
        else:
            finding = self._minimize(one, d["backend"], d["kind"], d["detail"])
        finding.count = placeholder.count
        finding.original_ops = spec.ops()
        with self._lock:
            self.seen[key] = finding
            sig = finding.signature()
            if sig in self.findings:
                self.findings[sig].count += finding.count
            else:
                self.findings[sig] = finding

    def _crash(self, spec: Spec, res: dict[str, Any]) -> None:
        """Find which backend and value set kill the worker, then minimize that."""
        kind = res["status"]
        culprit: tuple[str, Spec] | None = None
        for m in ("numpy", *self.modes):
            if self._fresh(spec, [] if m == "numpy" else [m])["status"] == kind:
                culprit = (m, spec)
                break
        if culprit is None:
            # only the whole run kills it (state left by an earlier case): report as found
            disc = {"backend": "?", "kind": kind, "value_set": None,
                    "detail": f"{res['reason']} (did not reproduce alone)"}
            self._record_raw(spec, disc)
            return
        backend, _ = culprit
        for i in range(len(spec.values)):
            one = spec.with_values([spec.values[i]])
            if self._fresh(one, [] if backend == "numpy" else [backend])["status"] == kind:
                culprit = (backend, one)
                break
        detail = res["reason"] + (f"\n{res.get('stderr', '')}" if res.get("stderr") else "")
        disc = {"backend": backend, "kind": kind, "value_set": None, "detail": detail}
        key = (backend, kind, tuple(sorted(set(spec.ops()))))
        with self._lock:
            if key in self.seen:
                self.seen[key].count += 1
                return
            self.seen[key] = Finding(culprit[1], backend, kind, detail, "")
        known = known_issue(culprit[1], disc)
        if known is not None and not self.minimize_known:
            finding = Finding(culprit[1], backend, kind, detail, "?", known)
        else:
            finding = self._minimize(culprit[1], backend, kind, detail)
        finding.original_ops = spec.ops()
        with self._lock:
            self.findings.setdefault(finding.signature(), finding)

    def _record_raw(self, spec: Spec, disc: dict[str, Any]) -> None:
        f = Finding(spec, disc["backend"], disc["kind"], disc["detail"], "",
                    known_issue(spec, disc))
        with self._lock:
            self.findings.setdefault(f.signature(), f)

    def _fresh(self, spec: Spec, modes: list[str]) -> dict[str, Any]:
        w = Worker(self.env)
        try:
            return w.ask(spec, modes, self.timeout)
        finally:
            w.close()

    # --- minimization -------------------------------------------------------------------------

    def _minimize(self, spec: Spec, backend: str, kind: str, detail: str) -> Finding:
        budget = [self.minimize_budget]
        worker: list[Worker | None] = [None]
        crashy = kind in ("crash", "hang")

        def still(candidate: Spec) -> bool:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            if crashy:
                modes = [] if backend == "numpy" else [backend]
                return self._fresh(candidate, modes)["status"] == kind
            if worker[0] is None or not worker[0].alive:
                worker[0] = Worker(self.env)
            res = worker[0].ask(candidate, [backend], self.timeout)
            if res["status"] in ("crash", "hang"):
                return False
            return any(d["backend"] == backend and d["kind"] == kind
                       for d in res["discrepancies"])

        def values_of(candidate: Spec) -> dict[Ref, np.ndarray]:
            w = Worker(self.env)  # the reference only, but in a worker: it may crash too
            try:
                return w.intermediates(candidate, self.timeout)
            finally:
                w.close()

        try:
            best = _shrink(spec, still, values_of)
            # the reference result and the final detail, from one more (fresh) run
            if worker[0] is not None:
                worker[0].close()
            worker[0] = Worker(self.env)
            res = worker[0].ask(best, [backend] if not crashy else [], self.timeout)
            ref = res.get("reference", ["?"])[0] if res.get("reference") else "?"
            for d in res.get("discrepancies", []):
                if d["backend"] == backend and d["kind"] == kind:
                    detail = d["detail"]
                    break
        finally:
            if worker[0] is not None:
                worker[0].close()
        disc = {"backend": backend, "kind": kind, "detail": detail,
                "value_set": 0 if best.values else None}
        return Finding(best, backend, kind, detail, ref, known_issue(best, disc))

    # --- reporting ----------------------------------------------------------------------------

    def report(self) -> str:
        """Every finding (unknown first), then counts."""
        out: list[str] = []
        fs = sorted(self.findings.values(), key=lambda f: (f.known is not None, f.backend,
                                                           f.kind))
        for i, f in enumerate(fs, 1):
            out.append(f"--- finding {i} " + "-" * 60)
            out.append(f.report())
        s = self.stats
        out.append(f"=== {s['cases']} cases, {s['value_sets']} value sets; {s['skipped']} "
                   f"skipped; {s['crashes']} crashes; {len(fs)} distinct findings "
                   f"({sum(f.known is None for f in fs)} unknown)")
        if self.notes:
            out.append("notes: " + "; ".join(f"{k} (x{v})" for k, v in sorted(self.notes.items())))
        return "\n".join(out)

    def unknown(self) -> list[Finding]:
        """Findings no :data:`~tests.fuzz.known.KNOWN` entry explains."""
        return [f for f in self.findings.values() if f.known is None]


def cut(spec: Spec, j: int, values: dict[Ref, np.ndarray]) -> Spec | None:
    """``spec`` without steps ``0..j``: the later steps read those results from new inputs that
    hold their (reference) ``values``. ``None`` if a needed value is missing."""
    later = spec.steps[j + 1:]
    needed = sorted({r for s in later for r in s.args if 0 <= r[0] <= j}
                    | {r for r in spec.outputs if 0 <= r[0] <= j})
    if not later or any(r not in values for r in needed):
        return None
    base = len(spec.inputs)
    new_ref = {r: (-1, base + i) for i, r in enumerate(needed)}

    def move(r: Ref) -> Ref:
        if r in new_ref:
            return new_ref[r]
        return r if r[0] < 0 else (r[0] - (j + 1), r[1])

    inputs = [*spec.inputs, *[(values[r].dtype.name, values[r].ndim) for r in needed]]
    steps = [Step(s.op, tuple(move(a) for a in s.args), s.n_out) for s in later]
    vals = [[*spec.values[0], *[values[r] for r in needed]]]
    return prune(Spec(inputs, steps, [move(r) for r in spec.outputs], vals))


def _shrink(spec: Spec, still: Callable[[Spec], bool],
            values_of: Callable[[Spec], dict[Ref, np.ndarray]] | None = None) -> Spec:
    """A smaller spec on which ``still`` holds (``spec`` itself satisfies it). ``values_of``
    gives the reference values of step results, for cutting off the first steps."""
    best = prune(spec)
    # 1. fewer steps: make an earlier result the only output
    changed = True
    while changed and len(best.steps) > 1:
        changed = False
        for j in range(len(best.steps)):
            n = best.steps[j].n_out
            for o in range(max(n, 1)):
                cand = prune(Spec(best.inputs, best.steps, [(j, o)], best.values))
                if len(cand.steps) < len(best.steps) and still(cand):
                    best, changed = cand, True
                    break
            if changed:
                break
    # one output of the last step, if it has several
    if len(best.outputs) > 1:
        for r in list(best.outputs):
            cand = prune(Spec(best.inputs, best.steps, [r], best.values))
            if still(cand):
                best = cand
                break
    # the first steps: replace them by inputs holding the values they computed
    if values_of is not None and len(best.steps) > 1:
        vals = values_of(best)
        for j in range(len(best.steps) - 2, -1, -1):
            cand = cut(best, j, vals) if vals else None
            if cand is not None and still(cand):
                best = cand
                break
    # 2. smaller inputs: keep one index along each axis
    for k in range(len(best.inputs)):
        a = best.values[0][k]
        for axis in range(a.ndim):
            a = best.values[0][k]
            if a.shape[axis] <= 1:
                continue
            for i in range(a.shape[axis]):
                vals = list(best.values[0])
                vals[k] = np.take(a, [i], axis=axis)
                cand = best.with_values([vals])
                if still(cand):
                    best = cand
                    break
    # 3. simpler values: 0 (or False), then 1
    for k in range(len(best.inputs)):
        a = best.values[0][k]
        if a.size > 16:
            continue
        for idx in np.ndindex(a.shape):
            for simple in (0, 1):
                cur = best.values[0][k]
                if cur[idx] == simple and not (cur.dtype.kind == "f" and np.signbit(cur[idx])):
                    break
                new = cur.copy()
                new[idx] = simple
                vals = list(best.values[0])
                vals[k] = new
                cand = best.with_values([vals])
                if still(cand):
                    best = cand
                    break
    return best
