"""Rewrite-pipeline time on generated graphs of 1k, 10k and 100k nodes, against PyTensor.

Usage::

    .venv/bin/python bench/rewrite_time.py [--sizes 1000 10000 100000] [--repeat 3]
    # with PyTensor: run it with an interpreter that has both gnomon's dependencies and pytensor,
    # e.g. PYTHONPATH=. /tmp/benchvenv/bin/python bench/rewrite_time.py

The generator builds a random DAG of elementwise ops (vectors) over a few inputs, mostly
recent operands (so the graph is deep) with rewrite opportunities sprinkled in (``x * 1``,
``-(-x)``, ``log(1 + exp(x))``, ``x - x``, ...). The *same* DAG is built in gnomon and, when
``pytensor`` is importable, in PyTensor. Timed:

* gnomon: the whole standard pipeline (canonicalize, stabilize, specialize, fusion) through
  ``gnomon.rewrite_graph``;
* PyTensor: ``FunctionGraph`` construction plus the FAST_RUN rewriter (what ``pytensor.function``
  runs before linking), without linking or compiling.

Times are CPU seconds of this process (``time.process_time``: the machines this runs on are
shared, and wall time would measure the neighbours), the best of ``--repeat`` runs (one run
at 100k nodes). gnomon's IR is interned, so rewriting the same graph object twice would mostly
find nodes already built; each repeat therefore rebuilds the graph from scratch with fresh
inputs, and only the rewrite is timed. PyTensor runs FAST_RUN without its in-place rewrites
(gnomon decides in-place use later, in memory planning, so neither side pays for it).
Not part of the test suite (it times things).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from typing import Any

import numpy as np

UNARY = ("exp", "neg", "sin", "tanh", "log1pexp", "mul1", "add0", "negneg")
BINARY = ("add", "mul", "sub", "div", "subself")


def plan(n_nodes: int, n_inputs: int = 8, seed: int = 0) -> list[tuple[str, int, int]]:
    """A recipe ``(op, a, b)`` per new value; operands index earlier values (inputs first)."""
    rng = np.random.default_rng(seed)
    steps: list[tuple[str, int, int]] = []
    for i in range(n_nodes):
        have = n_inputs + i
        # Mostly recent operands: a deep graph, with some long-range reuse.
        def pick() -> int:
            if rng.random() < 0.8:
                return int(have - 1 - min(rng.geometric(0.3) - 1, have - 1))
            return int(rng.integers(0, have))

        if rng.random() < 0.45:
            steps.append((UNARY[int(rng.integers(len(UNARY)))], pick(), -1))
        else:
            steps.append((BINARY[int(rng.integers(len(BINARY)))], pick(), pick()))
    return steps


def build(steps: list[tuple[str, int, int]], lib: Any, inputs: list[Any]) -> list[Any]:
    """Evaluate the recipe with a tensor library (gnomon.tensor or pytensor.tensor)."""
    vals = list(inputs)
    used = [False] * (len(inputs) + len(steps))
    for op, a, b in steps:
        x = vals[a]
        used[a] = True
        if b >= 0:
            used[b] = True
            y = vals[b]
        if op == "exp":
            v = lib.exp(x * 0.01)
        elif op == "neg":
            v = -x
        elif op == "sin":
            v = lib.sin(x)
        elif op == "tanh":
            v = lib.tanh(x)
        elif op == "log1pexp":
            v = lib.log(1 + lib.exp(x))
        elif op == "mul1":
            v = x * 1
        elif op == "add0":
            v = x + 0
        elif op == "negneg":
            v = -(-(x + 0.5))
        elif op == "add":
            v = x + y
        elif op == "mul":
            v = x * y
        elif op == "sub":
            v = x - y
        elif op == "div":
            v = x / (y * y + 1.0)
        elif op == "subself":
            v = (x - x) + y
        else:  # pragma: no cover
            raise ValueError(op)
        vals.append(v)
    n_in = len(inputs)
    sinks = [vals[k] for k in range(n_in, len(vals)) if not used[k]]
    return sinks or [vals[-1]]


def count_nodes_gnomon(outs: list[Any]) -> int:
    from gnomon.graph.traversal import toposort

    return len(toposort(outs))


def time_gnomon(steps: list[tuple[str, int, int]], repeat: int) -> tuple[float, int, int]:
    import gnomon
    import gnomon.tensor as gt

    best = float("inf")
    n_before = n_after = 0
    for _ in range(repeat):
        xs = [gt.dvector(f"x{i}") for i in range(8)]
        outs = build(steps, gt, xs)
        n_before = count_nodes_gnomon(outs)
        gc.collect()
        t0 = time.process_time()
        new, _ = gnomon.rewrite_graph(outs, backend="numba")
        best = min(best, time.process_time() - t0)
        n_after = count_nodes_gnomon(new)
    return best, n_before, n_after


def time_pytensor(steps: list[tuple[str, int, int]], repeat: int) -> tuple[float, int, int] | None:
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.compile.mode import get_mode
        from pytensor.graph.fg import FunctionGraph
    except ImportError:
        return None
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1_000_000))
    best = float("inf")
    n_before = n_after = 0
    for _ in range(repeat):
        xs = [pt.dvector(f"x{i}") for i in range(8)]
        outs = build(steps, pt, xs)
        gc.collect()
        t0 = time.process_time()
        fg = FunctionGraph(xs, outs, clone=True)
        n_before = len(fg.apply_nodes)
        get_mode("FAST_RUN").excluding("inplace").optimizer.rewrite(fg)
        best = min(best, time.process_time() - t0)
        n_after = len(fg.apply_nodes)
    del pytensor
    return best, n_before, n_after


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-pytensor", action="store_true", help="time gnomon only")
    p.add_argument("--pytensor-max", type=int, default=100000,
                   help="largest size to run PyTensor on (its time can be long)")
    args = p.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    header = (f"{'recipe':>8} {'gnomon nodes':>14} {'gnomon cpu s':>12} {'us/node':>8} "
              f"{'pytensor nodes':>16} {'pytensor cpu s':>14} {'ratio pt/gn':>11}")
    print(header)
    prev: tuple[int, float] | None = None
    for n in args.sizes:
        steps = plan(n)
        reps = args.repeat if n <= 10000 else 1
        g, gb, ga = time_gnomon(steps, reps)
        pt: tuple[float, int, int] | None = None
        if not args.no_pytensor and n <= args.pytensor_max:
            pt = time_pytensor(steps, reps)
        line = f"{n:>8} {gb:>6}->{ga:<7} {g:>12.3f} {1e6 * g / gb:>8.1f}"
        if pt is None:
            line += f" {'(pytensor not installed or skipped)':>40}"
        else:
            line += f" {pt[1]:>7}->{pt[2]:<8} {pt[0]:>14.3f} {pt[0] / g:>11.2f}"
        print(line, flush=True)
        if prev is not None:
            growth = (g / prev[1]) / (gb / prev[0])
            print(f"{'':>8} time grew {g / prev[1]:.1f}x for {gb / prev[0]:.1f}x the nodes "
                  f"(1.0 = linear: {growth:.2f})")
        prev = (gb, g)




if __name__ == "__main__":
    main()
