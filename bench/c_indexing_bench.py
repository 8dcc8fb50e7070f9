"""The radon-like log-density and gradient (``bench/sampling_bench.py``'s model: 85 group
intercepts indexed by 919 group ids, and the scatter-add of its gradient) compiled with
``gnomon.function(..., mode="c")``: the C kernels of advanced indexing against the same
program with the two indexing nodes running their NumPy ``perform`` from the C program (what
``mode="c"`` did before they were lowered).

Run: ``.venv/bin/python bench/c_indexing_bench.py``. Both programs are built in one process and
timed in interleaved rounds (2000 calls each, best of 5), process CPU time and wall time.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gnomon
import gnomon.ppl as pm
from bench.sampling_bench import build
from gnomon.backends.c.dispatch import c_funcify
from gnomon.errors import NotLoweredError
from gnomon.tensor.indexing import AdvancedIncSubtensor, AdvancedSubtensor


def _refuse(op: object, node: object) -> str:
    raise NotLoweredError("the NumPy perform, for the comparison")


def main() -> None:
    ref = build(pm, "radon").logp_dlogp_function(mode="numpy")
    ins, outs = ref.fn.inputs, ref.fn.outputs
    lowered = {c: c_funcify.dispatch(c) for c in (AdvancedSubtensor, AdvancedIncSubtensor)}
    for c in lowered:
        c_funcify.register(c, _refuse)
    perform = gnomon.function(ins, outs, mode="c")
    for c, f in lowered.items():
        c_funcify.register(c, f)
    kernels = gnomon.function(ins, outs, mode="c")
    runs = {"NumPy perform": perform, "C kernels": kernels}
    for name, f in runs.items():
        print(f"{name}: nodes in Python:",
              [str(n.op) for n in f.compiled.state.fallback_nodes] or "none")
    q0 = ref.initial_q()
    rng = np.random.default_rng(1)
    for q in [q0] + [q0 + rng.normal(size=q0.shape) for _ in range(3)]:
        lr, gr = ref(q)
        for name, f in runs.items():
            lp, g = f(q)
            assert abs(lp - lr) <= 1e-12 * abs(lr), name
            np.testing.assert_allclose(g, gr, rtol=1e-12, atol=1e-12, err_msg=name)
    print("values agree with mode='numpy' at the initial point and 3 random points")
    n = 2000
    res: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    for _ in range(5):
        for name, f in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            timeit.timeit(functools.partial(f, q0), number=n)
            w1, c1 = time.perf_counter(), time.process_time()
            res[name].append(((w1 - w0) / n * 1e6, (c1 - c0) / n * 1e6))
    for name, v in res.items():
        print(f"{name}: {min(c for _, c in v):.2f} us CPU / {min(w for w, _ in v):.2f} us wall "
              "per call (best of 5)")
    a, b = (min(c for _, c in res[k]) for k in runs)
    print(f"CPU ratio NumPy perform / C kernels: {a / b:.2f}")


if __name__ == "__main__":
    main()
