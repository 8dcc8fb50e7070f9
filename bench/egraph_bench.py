"""Equality saturation (the ``saturate`` stage) against the greedy pipeline alone.

Usage::

    .venv/bin/python bench/egraph_bench.py [--sizes 100 1000 10000] [--run-sizes 100 300]
        [--length 1000000] [--repeat 3]

Four parts:

1. Generated graphs (a random DAG of elementwise ops on vectors, with phase-ordering motifs
   such as ``exp(a) * exp(b)``, ``a*z + b*z`` and ``log(exp(a))`` sprinkled in) of 100 to
   10,000 elementwise nodes. Timed: the greedy pipeline (``rewrite_graph``), and saturation
   (:func:`gnomon.rewrite.egraph.saturate` with the stage's budget) followed by the same
   pipeline. Printed: both times, their ratio, the cost-model ratio of the results, why
   saturation stopped, the seconds spent extracting (wall; serializing the e-graph, tree cost,
   DAG search), and for the sizes in ``--run-sizes`` the run time of both compiled
   functions (numba, vectors of ``--length``).
2. The phase-ordering cases of the tests: run time of greedy vs saturated graphs.
3. The model gradients of the tests (logistic regression, eight schools non-centred and
   centred): rewrite time with and without the stage, cost ratio after ``specialize``, run time.
4. ``--fixed``: the one-time costs in a fresh process (``import gnomon``, ``import egglog``,
   compiling the rules), which a default-on stage would add to every process.

Times are CPU seconds of this process (``time.process_time``), best of ``--repeat``; compiled
functions run with ``config.tiered = "off"`` (no first-call fallback compiling meanwhile). The first
saturation in a process also compiles the rules in egglog (reported once, separately).
Not part of the test suite (it times things).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.rewrite import rewrite_graph
from gnomon.rewrite.egraph import STAGE_BUDGET, Report, graph_cost, saturate

OPS = ("add", "mul", "sub", "div", "exp", "log", "neg", "expexp", "factor", "logexp")


def build(n_nodes: int, seed: int = 0, n_inputs: int = 6) -> tuple[list[Any], Any]:
    """A random elementwise DAG of about ``n_nodes`` nodes; returns (inputs, output)."""
    rng = np.random.default_rng(seed)
    xs = [gt.dvector(f"x{i}") for i in range(n_inputs)]
    vals: list[Any] = list(xs)

    def pick() -> Any:
        if rng.random() < 0.8:
            return vals[len(vals) - 1 - min(int(rng.geometric(0.3)) - 1, len(vals) - 1)]
        return vals[int(rng.integers(len(vals)))]

    def size() -> int:
        return len(gnomon.graph.traversal.toposort([vals[-1]]))

    # the size is counted every few steps only (a full walk per step is quadratic)
    every, step = max(1, n_nodes // 400), 0
    while len(vals) < 3 * n_nodes and (step % every or size() < n_nodes):
        step += 1
        op = OPS[int(rng.integers(len(OPS)))]
        a, b = pick(), pick()
        if op == "add":
            v = a + b
        elif op == "mul":
            v = a * b
        elif op == "sub":
            v = a - b
        elif op == "div":
            v = a / (gt.exp(b) + 1.0)
        elif op == "exp":
            v = gt.exp(-gt.abs(a))
        elif op == "log":
            v = gt.log(gt.abs(a) + 1.0)
        elif op == "neg":
            v = -a
        elif op == "expexp":
            v = gt.exp(-gt.abs(a)) * gt.exp(-gt.abs(b))
        elif op == "factor":
            z = gt.exp(-gt.abs(pick()))
            v = a * z + b * z
        else:
            v = gt.log(gt.exp(-gt.abs(a)) * gt.exp(-gt.abs(b)))
        vals.append(v)
        if len(vals) > 8 and rng.random() < 0.1:
            vals.append(vals[-1] + vals[-5])  # some long-range reuse
    return xs, vals[-1]


def _cpu(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def _run_time(inputs: list[Any], out: Any, length: int, repeat: int) -> float:
    gnomon.config.tiered = "off"  # time the compiled program, not the first-call fallback
    f = gnomon.function(inputs, out, mode=gnomon.Mode("numba").excluding("saturate"),
                        on_unused_input="ignore")
    rng = np.random.default_rng(0)
    vals = [rng.uniform(0.1, 2.0, length) for _ in inputs]
    f(*vals)
    return _cpu(lambda: f(*vals), repeat)


def part_sizes(sizes: list[int], run_sizes: list[int], length: int, repeat: int) -> None:
    print(f"{'nodes':>6} {'greedy s':>9} {'sat+greedy s':>13} {'time x':>7} {'cost ratio':>10} "
          f"{'stopped':>10} {'e-nodes':>8} {'extract s':>9} {'run greedy':>11} {'run sat':>9} "
          f"{'run x':>6}")
    for n in sizes:
        tg = ts = float("inf")
        report = Report()
        for r in range(repeat):
            ins, out = build(n, seed=r)  # fresh graph each repeat (the IR is interned)
            t0 = time.process_time()
            rewrite_graph([out])
            tg = min(tg, time.process_time() - t0)
            ins, out = build(n, seed=r)
            report = Report()
            t0 = time.process_time()
            (s0,) = saturate([out], budget=STAGE_BUDGET, report=report)
            rewrite_graph([s0])
            ts = min(ts, time.process_time() - t0)
        ins, out = build(n, seed=0)
        (gc_,), _ = rewrite_graph([out], exclude=("specialize", "fusion", "inplace"))
        (sc,), _ = rewrite_graph([saturate(out, budget=STAGE_BUDGET)],
                                 exclude=("specialize", "fusion", "inplace"))
        ratio = graph_cost([sc]) / graph_cost([gc_])
        line = (f"{n:>6} {tg:>9.3f} {ts:>13.3f} {ts / tg:>7.1f} {ratio:>10.3f} "
                f"{report.stopped:>10} {report.nodes:>8} {report.extract_seconds:>9.3f}")
        if n in run_sizes:
            rg = _run_time(ins, gc_, length, repeat)
            rs = _run_time(ins, sc, length, repeat)
            line += f" {rg * 1e3:>9.2f}ms {rs * 1e3:>7.2f}ms {rg / rs:>6.2f}"
        print(line, flush=True)


def part_cases(length: int, repeat: int) -> None:
    a, b, c, x, y, z = (gt.dvector(n) for n in "abcxyz")
    cases = {
        "exp(log x + log y)": (gt.exp(gt.log(x) + gt.log(y)), [x, y]),
        "x*exp(z) + y*exp(z)": (x * gt.exp(z) + y * gt.exp(z), [x, y, z]),
        "log(exp a * exp b)": (gt.log(gt.exp(a) * gt.exp(b)), [a, b]),
        "(a*b + a*c) / a": ((a * b + a * c) / a, [a, b, c]),
        "exp(a) * exp(-a) * b": (gt.exp(a) * gt.exp(-a) * b, [a, b]),
    }
    print(f"\n{'case':<24} {'greedy ms':>10} {'saturate ms':>12} {'gain x':>7}")
    gnomon.config.tiered = "off"
    for name, (e, ins) in cases.items():
        rg = _run_time(ins, e, length, repeat)
        f = gnomon.function(ins, e, mode=gnomon.Mode("numba").including("saturate"))
        rng = np.random.default_rng(0)
        vals = [rng.uniform(0.1, 2.0, length) for _ in ins]
        f(*vals)
        rs = _cpu(lambda f=f, vals=vals: f(*vals), repeat)
        print(f"{name:<24} {rg * 1e3:>10.2f} {rs * 1e3:>12.2f} {rg / rs:>7.2f}", flush=True)


def part_models(repeat: int) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "rewrite"))
    import test_egraph as T  # the tests' graphs

    print(f"\n{'model':<30} {'greedy s':>9} {'+saturate s':>12} {'cost x':>7} "
          f"{'run greedy':>11} {'run sat':>9} {'run x':>6}")
    gnomon.config.tiered = "off"
    ex = ("fusion", "inplace")
    for m in T.MODELS:
        ins, outs, vals = m()
        tg = _cpu(lambda outs=outs: rewrite_graph(outs, exclude=ex), repeat)
        ts = _cpu(lambda outs=outs: rewrite_graph(outs, include=("saturate",), exclude=ex),
                  repeat)
        g, _ = rewrite_graph(outs, exclude=ex)
        s, _ = rewrite_graph(outs, include=("saturate",), exclude=ex)
        ratio = graph_cost(s) / graph_cost(g)
        runs = []
        for mode in (gnomon.Mode("numba"), gnomon.Mode("numba").including("saturate")):
            f = gnomon.function(ins, outs, mode=mode)
            f(*vals)
            runs.append(_cpu(lambda f=f, vals=vals: [f(*vals) for _ in range(1000)], repeat))
        print(f"{m.__name__.strip('_'):<30} {tg:>9.3f} {ts:>12.3f} {ratio:>7.3f} "
              f"{runs[0]:>9.3f}ms {runs[1]:>7.3f}ms {runs[0] / runs[1]:>6.2f}", flush=True)


FIXED = """
import sys, time
t, w = time.process_time(), time.perf_counter()
def lap(label):
    global t, w
    print(f"{label:<20} {time.process_time() - t:6.3f} s cpu {time.perf_counter() - w:6.3f} s wall")
    t, w = time.process_time(), time.perf_counter()
import gnomon, gnomon.tensor as gt
lap("import gnomon")
assert "egglog" not in sys.modules
import egglog.bindings
lap("import egglog")
from gnomon.rewrite.egraph import core, get_rules
core._base(get_rules())
lap("compile the rules")
x = gt.dvector("x")
gnomon.rewrite.saturate(gt.exp(x) * 2)
lap("a 2-node saturation")
"""


def part_fixed() -> None:
    import subprocess
    import sys

    print("\none-time costs, fresh process:")
    subprocess.run([sys.executable, "-c", FIXED], check=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000])
    p.add_argument("--run-sizes", type=int, nargs="*", default=[100, 300, 1000])
    p.add_argument("--length", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--parts", nargs="+", default=["sizes", "cases", "models", "fixed"])
    args = p.parse_args()
    if "fixed" in args.parts:
        part_fixed()
    x = gt.dvector("x")
    t0 = time.process_time()
    saturate(gt.exp(x) * 2)
    print(f"egglog: compiling the rules (once per process): {time.process_time() - t0:.2f} s")
    if "sizes" in args.parts:
        part_sizes(args.sizes, args.run_sizes, args.length, args.repeat)
    if "cases" in args.parts:
        part_cases(args.length, args.repeat)
    if "models" in args.parts:
        part_models(args.repeat)


if __name__ == "__main__":
    main()
