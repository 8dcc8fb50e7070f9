"""Time to the first result of a new graph, cold and warm disk cache (issue 13, goal 1).

Usage::

    .venv/bin/python bench/compile_time.py [--cases a b ...] [--backends ...] [--repeat N]
                                           [--timeout S] [--profile CASE]

Every measurement runs in a fresh subprocess (so nothing is compiled or imported yet), with
``XDG_CACHE_HOME`` pointing to a new temporary directory for the *cold* run and to the same
directory again for the *warm* run (the same graph in a new process). Timed, in the child:

* ``import``: ``import gnomon`` (or ``jax`` / ``pytensor``), reported apart;
* ``first``: building the graph (and its gradient), compiling it and the first call, until the
  first result is a NumPy array in hand: what a user waits for;
* ``final``: for tiered gnomon functions (``docs/compile-time.md``), until the fully compiled
  program has replaced the first tier (the child waits for it, so the warm run finds it in the
  cache; not part of ``first``).

Cases: ``eight_schools`` (non-centered log-density + gradient), ``radon`` (hierarchical
regression, 919 observations, 85 groups, indexing by group, log-density + gradient), ``ew200``
(a 200-node elementwise/reduction graph), ``chain100`` / ``chain1000`` / ``chain10000``
(``x = x*1.0001 + 1``), ``inputs100`` / ``inputs1000`` / ``inputs10000`` (a sum of that many
scaled scalar inputs; issue 13 goal 4). ``first cpu`` is the CPU time (user + sys of the child
process) of ``first``, which the machine's load does not inflate.
Backends: ``numba`` (gnomon's default), ``numba-final`` (``config.tiered = 'off'``: wait for
the final program, as before tiering), ``jax`` (gnomon ``mode='jax'``), ``jax.jit`` (the same
function written with ``jax.numpy``; JAX's persistent cache is off, so its warm run is cold
too) and ``pytensor`` (if importable; an optional bench dependency, gnomon never imports it).

``--gil`` measures, for eight-schools under ``tiered='async'``, how long the background compile
takes with an idle and with a busy foreground, and the first tier's call time meanwhile.

``--calls`` measures goal 3 instead: the time of a call of ``a + b`` on two float64 arrays
(0-d and vectors of 10 and 1,000 elements), gnomon with its default checks and with
``trust_input`` (the direct call as a C object, and as the generated Python function that
replaces it without a C compiler, "(py)"), PyTensor's C backend (default and
``trust_input``), ``jax.jit`` and ``np.add`` on the same arrays, CPU time of the calling
thread, in one process, three rounds.

``--profile CASE`` runs one cold ``numba-final`` child of ``CASE`` under cProfile and prints
where the time went, by component (rewrite, lowering, Numba's bytecode analysis and type
inference, lowering to LLVM IR, LLVM optimisation and code generation, cache I/O).

The machine is shared: each row prints the load average when it ran; prefer the ratios, which
come from the same run. Not part of the test suite (it times things).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = ("eight_schools", "radon", "ew200", "chain100", "chain1000", "chain10000", "inputs100",
         "inputs1000", "inputs10000")
BACKENDS = ("numba", "numba-final", "jax", "jax.jit", "pytensor")

# --- the graphs, for each library -------------------------------------------------------------

GRAPHS = textwrap.dedent('''
import numpy as np

LOG2PI = float(np.log(2 * np.pi))


def data(case):
    rng = np.random.default_rng(42)
    if case == "eight_schools":
        y = np.array([28., 8., -3., 7., -1., 1., 18., 12.])
        s = np.array([15., 10., 16., 11., 9., 11., 10., 18.])
        return (y, s), (np.array(4.0), np.array(1.2), np.linspace(-1, 1, 8))
    if case == "radon":
        n, g = 919, 85
        county = rng.integers(0, g, n)
        floor = rng.integers(0, 2, n).astype(float)
        a_true = rng.normal(1.5, 0.3, g)
        y = a_true[county] - 0.6 * floor + rng.normal(0, 0.7, n)
        return (y, county, floor), (np.array(1.4), np.array(-1.0), rng.normal(size=g),
                                    np.array(-0.5), np.array(-0.3))
    if case == "ew200":
        return (), tuple(rng.uniform(0.5, 1.5, 1000) for _ in range(4))
    if case.startswith("chain"):
        return (), (np.linspace(0, 1, 1000),)
    if case.startswith("inputs"):
        return (), tuple(np.array(1.0 + k * 1e-4) for k in range(int(case[6:])))
    raise ValueError(case)


def ew200_plan():
    """(op, a, b) per node over 4 inputs: unary and binary elementwise ops and reductions
    broadcast back, mostly on recent values."""
    rng = np.random.default_rng(0)
    plan = []
    for i in range(200):
        have = 4 + i
        a = int(have - 1 - min(rng.geometric(0.35) - 1, have - 1))
        b = int(rng.integers(0, have))
        r = rng.random()
        if r < 0.1:
            plan.append(("center", a, -1))
        elif r < 0.4:
            plan.append((["exp", "sin", "tanh", "log1p_abs", "sq"][int(rng.integers(5))], a, -1))
        else:
            plan.append((["add", "mul", "sub", "div"][int(rng.integers(4))], a, b))
    return plan


def build_ew200(np_like, xs, summ, maxx):
    vals = list(xs)
    for op, a, b in ew200_plan():
        x = vals[a]
        y = vals[b] if b >= 0 else None
        if op == "center":
            v = x - maxx(x)
        elif op == "exp":
            v = np_like.exp(-np_like.abs(x) * 0.1)
        elif op == "sin":
            v = np_like.sin(x)
        elif op == "tanh":
            v = np_like.tanh(x)
        elif op == "log1p_abs":
            v = np_like.log1p(np_like.abs(x))
        elif op == "sq":
            v = x * x * 0.5
        elif op == "add":
            v = x + y
        elif op == "mul":
            v = x * y * 0.5
        elif op == "sub":
            v = x - y
        else:
            v = x / (1.0 + y * y)
        vals.append(v)
    return summ(vals[-1]) + summ(vals[-7]) * 0.5


def normal_logp(lib, v, m, s, log_s=None):
    return -0.5 * ((v - m) / s) ** 2 - (lib.log(s) if log_s is None else log_s) - 0.5 * LOG2PI


def eight_schools_logp(lib, y, s, mu, log_tau, eta):
    theta = mu + lib.exp(log_tau) * eta
    return (normal_logp(lib, mu, 0.0, 5.0) + normal_logp(lib, log_tau, 0.0, 5.0)
            + lib.sum(normal_logp(lib, eta, 0.0, 1.0))
            + lib.sum(normal_logp(lib, y, theta, s)))


def radon_logp(lib, y, county, floor, mu_a, log_sa, a_t, b, log_sy):
    a = mu_a + lib.exp(log_sa) * a_t
    mean = a[county] + b * floor
    sy = lib.exp(log_sy)
    return (normal_logp(lib, mu_a, 0.0, 10.0) + normal_logp(lib, log_sa, 0.0, 1.0)
            + lib.sum(normal_logp(lib, a_t, 0.0, 1.0)) + normal_logp(lib, b, 0.0, 10.0)
            + normal_logp(lib, log_sy, 0.0, 1.0)
            + lib.sum(normal_logp(lib, y, mean, sy, log_s=log_sy)))


def chain(x, depth):
    for _ in range(depth):
        x = x * 1.0001 + 1
    return x


def many_inputs(xs):
    # a sum of scaled scalar inputs: one node per input (issue 13 goal 4)
    out = xs[0]
    for k, x in enumerate(xs[1:]):
        out = out + x * (1.0 + k * 1e-3)
    return out
''')

# --- the child process: one measurement -------------------------------------------------------

CHILD = textwrap.dedent('''
import json, sys, time
t0 = time.perf_counter()
case, backend, final_timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
res = {}
if backend in ("numba", "numba-final", "jax"):
    import gnomon, gnomon.tensor as gt
    from gnomon.config import config
    if backend == "numba-final":
        if hasattr(config, "tiered"):
            config.tiered = "off"
        backend = "numba"
elif backend == "jax.jit":
    import jax
    jax.config.update("jax_enable_x64", True)
else:
    import pytensor, pytensor.tensor as pt
t1 = time.perf_counter()
res["import"] = t1 - t0
c1 = time.process_time()
from _graphs import *
consts, args = data(case)

if backend in ("numba", "jax"):
    class lib:  # gnomon.tensor with the names the graph functions use
        exp, log, sum, abs = gt.exp, gt.log, gt.sum, gt.abs
        sin, tanh, log1p = gt.sin, gt.tanh, gt.log1p
    ins = [gt.tensor(dtype="float64", shape=(None,) * a.ndim, name=f"x{i}")
           for i, a in enumerate(args)]
    if case == "eight_schools":
        y, s = consts
        cost = eight_schools_logp(lib, gt.constant(y), gt.constant(s), *ins)
        outs = [cost, *gnomon.grad(cost, ins)]
    elif case == "radon":
        y, county, floor = consts
        cost = radon_logp(lib, gt.constant(y), gt.constant(county), gt.constant(floor), *ins)
        outs = [cost, *gnomon.grad(cost, ins)]
    elif case == "ew200":
        outs = [build_ew200(lib, ins, gt.sum, lambda v: gt.max(v))]
    elif case.startswith("inputs"):
        outs = [many_inputs(ins)]
    else:
        outs = [chain(ins[0], int(case[5:]))]
    f = gnomon.function(ins, outs, mode=backend, on_unused_input="ignore")
    out = f(*args)
    t2 = time.perf_counter()
    c2 = time.process_time()  # (before the wait: the compile thread counts too)
    try:
        from gnomon.compile import tiered
        res["tier"] = tiered.tier(f)
    except ImportError:  # before tiering existed
        res["tier"] = "final"
    if res["tier"] != "final":
        ok = tiered.wait(f, timeout=final_timeout)
        res["final"] = time.perf_counter() - t1 if ok else None
elif backend == "jax.jit":
    import jax.numpy as jnp
    t1 = time.perf_counter()
    jargs = [jnp.asarray(a) for a in args]
    if case == "eight_schools":
        y, s = map(jnp.asarray, consts)
        fn = jax.value_and_grad(lambda *p: eight_schools_logp(jnp, y, s, *p), argnums=(0, 1, 2))
    elif case == "radon":
        y, county, floor = map(jnp.asarray, consts)
        fn = jax.value_and_grad(lambda *p: radon_logp(jnp, y, county, floor, *p),
                                argnums=(0, 1, 2, 3, 4))
    elif case == "ew200":
        fn = lambda *xs: build_ew200(jnp, xs, jnp.sum, jnp.max)
    elif case.startswith("inputs"):
        fn = lambda *xs: many_inputs(xs)
    else:
        fn = lambda x: chain(x, int(case[5:]))
    out = jax.block_until_ready(jax.jit(fn)(*jargs))
    t2 = time.perf_counter()
    c2 = time.process_time()  # (before the wait: the compile thread counts too)
else:
    ins = [pt.tensor(dtype="float64", shape=(None,) * a.ndim, name=f"x{i}")
           for i, a in enumerate(args)]
    class lib:
        exp, log, sum, abs = pt.exp, pt.log, pt.sum, pt.abs
        sin, tanh, log1p = pt.sin, pt.tanh, pt.log1p
    if case == "eight_schools":
        y, s = consts
        cost = eight_schools_logp(lib, pt.constant(y), pt.constant(s), *ins)
        outs = [cost, *pytensor.grad(cost, ins)]
    elif case == "radon":
        y, county, floor = consts
        cost = radon_logp(lib, pt.constant(y), pt.constant(county), pt.constant(floor), *ins)
        outs = [cost, *pytensor.grad(cost, ins)]
    elif case == "ew200":
        outs = [build_ew200(lib, ins, pt.sum, pt.max)]
    elif case.startswith("inputs"):
        outs = [many_inputs(ins)]
    else:
        outs = [chain(ins[0], int(case[5:]))]
    f = pytensor.function(ins, outs, mode="NUMBA")
    out = f(*args)
    t2 = time.perf_counter()
    c2 = time.process_time()  # (before the wait: the compile thread counts too)
res["first"] = t2 - t1
res["first_cpu"] = c2 - c1
import numpy as np
flat = out if isinstance(out, (list, tuple)) else [out]
res["value"] = float(np.asarray(flat[0]).ravel()[0])
print("RESULT " + json.dumps(res))
''')


# --- the GIL: the first tier's calls while the final program compiles in the background ---------

GIL_CHILD = textwrap.dedent('''
import sys, time
import numpy as np
import gnomon, gnomon.tensor as gt
from _graphs import data, eight_schools_logp
busy = sys.argv[1] == "busy"
class lib:
    exp, log, sum = gt.exp, gt.log, gt.sum
(y, s), args = data("eight_schools")
ins = [gt.tensor(dtype="float64", shape=(None,) * a.ndim) for a in args]
cost = eight_schools_logp(lib, gt.constant(y), gt.constant(s), *ins)
f = gnomon.function(ins, [cost, *gnomon.grad(cost, ins)], mode=gnomon.Mode("numba", tiered="async"))
st = f.compiled.state
t0 = time.perf_counter()
f(*args)
during = []
if busy:  # call in a tight loop until the final program takes over
    while st.tier == "first":
        a = time.perf_counter(); f(*args); during.append(time.perf_counter() - a)
else:
    st.wait()
switch = time.perf_counter() - t0
alone = []
for _ in range(2000):
    a = time.perf_counter(); st._first(list(args)); alone.append(time.perf_counter() - a)
med = lambda x: sorted(x)[len(x) // 2] if x else float("nan")
print(f"{switch} {len(during)} {med(during)} {med(alone)}")
''')


def gil(repeat: int) -> None:
    """eight-schools, policy 'async': the compile's duration with an idle and with a busy
    foreground, and the first tier's call time during the compile and alone."""
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "_graphs.py"), "w") as f:
            f.write(GRAPHS)
        with open(os.path.join(work, "_gil.py"), "w") as f:
            f.write(GIL_CHILD)
        for _ in range(repeat):
            for what in ("idle", "busy"):
                with tempfile.TemporaryDirectory() as cache:
                    env = dict(os.environ, XDG_CACHE_HOME=cache,
                               PYTHONPATH=os.pathsep.join([work, ROOT]))
                    load = os.getloadavg()[0]
                    out = subprocess.run([sys.executable, os.path.join(work, "_gil.py"), what],
                                         env=env, capture_output=True, text=True, check=True)
                sw, n, during, alone = out.stdout.split()
                print(f"  {what} foreground: background compile {float(sw):6.1f} s; first-tier "
                      f"calls during it {int(n):6d} (median {float(during) * 1e6:5.0f} us); "
                      f"first tier alone {float(alone) * 1e6:5.0f} us   load {load:.1f}",
                      flush=True)


# --- call overhead (goal 3) ---------------------------------------------------------------------

CALL_SIZES = (0, 10, 1000)  # 0: 0-d arrays; else the length of two float64 vectors


def calls(rounds: int, number: int, repeat: int) -> None:
    """Goal 3: the time of a call of ``a + b`` on two float64 arrays (0-d, and vectors of
    ``CALL_SIZES``), per call, CPU time of this thread (``time.thread_time_ns``, which the
    machine's load inflates less than wall time), best of ``repeat`` x ``number`` calls, for
    gnomon (default checks, ``trust_input``), PyTensor's C backend (``mode='FAST_RUN'``,
    default and ``trust_input``), ``jax.jit`` (NumPy arguments, ``block_until_ready``) and
    ``np.add`` on the same arrays (the floor), in one process, ``rounds`` times."""
    import numpy as np

    sys.path.insert(0, ROOT)
    import gnomon
    import gnomon.tensor as gt
    from gnomon.backends import native_call
    from gnomon.compile import tiered

    def batch(fn: Any, n: int) -> float:
        t0 = time.thread_time_ns()
        for _ in range(n):
            fn()
        return (time.thread_time_ns() - t0) / n / 1000.0

    def best(row: dict[str, Any]) -> dict[str, float]:
        # the columns take turns, batch by batch, so that a busy moment of the shared
        # machine slows all of them rather than one (the ratios stay fair)
        ts = dict.fromkeys(row, float("inf"))
        for _ in range(repeat):
            for c, fn in row.items():
                n = number // 10 if c == "jax.jit" else number
                ts[c] = min(ts[c], batch(fn, n))
        return ts

    peers: dict[str, Any] = {}
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        peers["jax"] = jax
    except ImportError:
        pass
    try:
        import pytensor
        import pytensor.tensor as pt

        peers["pytensor"] = (pytensor, pt)
    except ImportError:
        pass
    cols = ["gnomon", "gnomon trust", "gnomon (py)", "gnomon trust (py)", "pytensor C",
            "pytensor C trust", "jax.jit", "np.add"]
    fns: dict[int, dict[str, Any]] = {}
    for n in CALL_SIZES:
        rng = np.random.default_rng(n)
        x, y = (np.asarray(rng.normal()), np.asarray(rng.normal())) if n == 0 else \
            (rng.normal(size=n), rng.normal(size=n))
        a, b = (gt.dscalar("a"), gt.dscalar("b")) if n == 0 else (gt.dvector("a"), gt.dvector("b"))
        row = {}
        # the direct call as a C object (the default), and as the generated Python function
        # it replaces where there is no C compiler (config.native_call off)
        for native, tag in ((True, ""), (False, " (py)")):
            with gnomon.config.change(native_call=native):
                f = gnomon.function([a, b], a + b)  # the default: tiered, Numba
                g = gnomon.function([a, b], a + b)
                f(x, y), g(x, y)
                tiered.wait(f), tiered.wait(g)
                g.trust_input = True
                f(x, y), g(x, y)
            assert np.array_equal(f(x, y), x + y) and np.array_equal(g(x, y), x + y)
            if native and type(g._call).__name__ != "NativeCall":
                print(f"  (no native call: {native_call.why_not()})")
            row["gnomon" + tag] = lambda f=f, x=x, y=y: f(x, y)
            row["gnomon trust" + tag] = lambda g=g, x=x, y=y: g(x, y)
        row["np.add"] = lambda x=x, y=y: np.add(x, y)
        if "pytensor" in peers:
            ptn, pt = peers["pytensor"]
            pa, pb = (pt.dscalar(), pt.dscalar()) if n == 0 else (pt.dvector(), pt.dvector())
            pf = ptn.function([pa, pb], pa + pb, mode="FAST_RUN")
            pg = ptn.function([pa, pb], pa + pb, mode="FAST_RUN")
            pg.trust_input = True
            row["pytensor C"] = lambda pf=pf, x=x, y=y: pf(x, y)
            row["pytensor C trust"] = lambda pg=pg, x=x, y=y: pg(x, y)
        if "jax" in peers:
            jf = peers["jax"].jit(lambda p, q: p + q)
            jf(x, y).block_until_ready()
            row["jax.jit"] = lambda jf=jf, x=x, y=y: jf(x, y).block_until_ready()
        fns[n] = row
    print(f"call of a + b, us per call (thread CPU time, best of {repeat} x {number}, the "
          f"columns taking turns; jax.jit {number // 10}):")
    print(f"  {'arrays':<11}" + "".join(f"{c:>18}" for c in cols) + "   load")
    for r in range(rounds):
        for n, row in fns.items():
            ts = best(row)
            what = "0-d" if n == 0 else f"{n}-vector"
            print(f"  {what:<11}" + "".join(f"{fmt_us(ts.get(c)):>18}" for c in cols)
                  + f"   {os.getloadavg()[0]:.1f}", flush=True)


def fmt_us(t: float | None) -> str:
    return "-" if t is None else f"{t:.2f}"


def _available(backend: str) -> bool:
    mod = {"jax": "jax", "jax.jit": "jax", "pytensor": "pytensor"}.get(backend)
    if mod is None:
        return True
    import importlib.util

    return importlib.util.find_spec(mod) is not None


def run_child(case: str, backend: str, cache_home: str, timeout: float,
              final_timeout: float, workdir: str, profile: bool = False) -> dict[str, Any]:
    env = dict(os.environ, XDG_CACHE_HOME=cache_home,
               PYTHONPATH=os.pathsep.join([workdir, ROOT]))
    env.pop("GNOMON_CACHE_DIR", None)
    script = os.path.join(workdir, "_child.py")
    cmd = [sys.executable, script, case, backend, str(final_timeout)]
    if profile:
        cmd = [sys.executable, "-m", "cProfile", "-o", os.path.join(workdir, "prof.out"),
               *cmd[1:]]
    load = os.getloadavg()[0]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout, "load": load}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            r["load"] = load
            return r
    return {"error": (out.stderr.strip().splitlines() or ["?"])[-1], "load": load}


def fmt(t: float | None) -> str:
    if t is None:
        return "      -"
    return f"{t * 1e3:6.0f}ms" if t < 1 else f"{t:6.2f}s "


def measure(cases: list[str], backends: list[str], repeat: int, timeout: float,
            final_timeout: float) -> None:
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "_graphs.py"), "w") as f:
            f.write(GRAPHS)
        with open(os.path.join(work, "_child.py"), "w") as f:
            f.write(CHILD)
        print(f"{'case':<14}{'backend':<13}{'cold first':>11}{'(cpu)':>9}{'warm first':>11}"
              f"{'cold final':>11}{'import':>9}{'  vs jax.jit (cold)':>20}   load  value")
        for case in cases:
            base: float | None = None
            rows = []
            for backend in backends:
                if not _available(backend):
                    print(f"{case:<14}{backend:<13}  (not installed: skipped)")
                    continue
                best_cold: dict[str, Any] | None = None
                best_warm: dict[str, Any] | None = None
                for _ in range(repeat):
                    with tempfile.TemporaryDirectory() as cache:
                        cold = run_child(case, backend, cache, timeout, final_timeout, work)
                        warm = run_child(case, backend, cache, timeout, final_timeout, work)
                    if "first" in cold and (best_cold is None
                                            or cold["first"] < best_cold["first"]):
                        best_cold = cold
                    if "first" in warm and (best_warm is None
                                            or warm["first"] < best_warm["first"]):
                        best_warm = warm
                best_cold = best_cold or cold
                best_warm = best_warm or warm
                if backend == "jax.jit" and "first" in best_cold:
                    base = best_cold["first"]
                rows.append((backend, best_cold, best_warm))
            for backend, cold, warm in rows:
                if "first" not in cold:
                    why = (f"> {cold['timeout']:.0f} s (timeout)" if "timeout" in cold
                           else f"error: {cold.get('error')}")
                    print(f"{case:<14}{backend:<13}  {why}")
                    continue
                ratio = (f"{cold['first'] / base:8.2f}x" if base else "        -")
                final = cold.get("final") if cold.get("tier", "final") != "final" else None
                print(f"{case:<14}{backend:<13}{fmt(cold['first']):>11}"
                      f"{fmt(cold.get('first_cpu')):>9}{fmt(warm.get('first')):>11}{fmt(final):>11}{fmt(cold['import']):>9}"
                      f"{ratio:>20}   {cold['load']:4.1f}  {cold['value']:.6g}", flush=True)


# --- profile ------------------------------------------------------------------------------------

_COMPONENTS = (
    ("gnomon rewrite", ("gnomon/rewrite/",)),
    ("gnomon lowering (sources)", ("gnomon/backends/numba/",)),
    ("gnomon graph, gradient, other", ("gnomon/",)),
    ("cache I/O (HMAC, pickle, files)", ("numba/core/serialize", "numba/core/caching", "pickle",
                                         "hmac", "hashlib")),
    ("LLVM optimisation + codegen (llvmlite)", ("llvmlite/binding",)),
    ("Numba: lowering to LLVM IR", ("numba/core/lowering", "numba/core/base.py",
                                    "numba/core/imputils", "numba/cpython/", "numba/np/",
                                    "numba/core/cgutils", "llvmlite/ir/", "numba/core/callconv",
                                    "numba/core/pythonapi", "numba/core/datamodel",
                                    "numba/core/funcdesc", "numba/core/codegen")),
    ("Numba: type inference", ("numba/core/typeinfer", "numba/core/typing/",
                               "numba/core/types/", "numba/core/typeconv")),
    ("Numba: bytecode -> IR, untyped passes", ("numba/core/bytecode", "numba/core/interpreter",
                                               "numba/core/byteflow", "numba/core/controlflow",
                                               "numba/core/ir", "numba/core/analysis",
                                               "numba/core/untyped_passes", "numba/core/ssa",
                                               "numba/core/rewrites", "numba/core/transforms",
                                               "numba/core/consts", "numba/core/postproc")),
    ("Numba: other (dispatcher, passes, ...)", ("numba/",)),
    ("imports", ("importlib", "<frozen")),
)


def profile(case: str, timeout: float) -> None:
    import pstats

    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as cache:
        with open(os.path.join(work, "_graphs.py"), "w") as f:
            f.write(GRAPHS)
        with open(os.path.join(work, "_child.py"), "w") as f:
            f.write(CHILD)
        t = time.perf_counter()
        r = run_child(case, "numba-final", cache, timeout, 0, work, profile=True)
        wall = time.perf_counter() - t
        st = pstats.Stats(os.path.join(work, "prof.out"))
    totals: dict[str, float] = {}
    for (fn, _line, name), (_cc, _nc, tt, _ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        where = fn if fn != "~" else name
        comp = next((c for c, keys in _COMPONENTS if any(k in where for k in keys)),
                    "other (builtins, Python)")
        totals[comp] = totals.get(comp, 0.0) + tt
    total = sum(totals.values())
    print(f"cold numba-final '{case}' under cProfile: {wall:.1f} s wall, first result "
          f"{r.get('first', float('nan')):.1f} s (profiling overhead included), load "
          f"{r['load']:.1f}")
    for comp, t in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {comp:<42}{t:7.2f} s  {100 * t / total:5.1f} %")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    p.add_argument("--repeat", type=int, default=1, help="best of N (cold and warm each)")
    p.add_argument("--timeout", type=float, default=180.0, help="per child process, seconds")
    p.add_argument("--final-timeout", type=float, default=120.0,
                   help="how long a child waits for the final tier (then reports '-')")
    p.add_argument("--profile", choices=CASES, help="profile one cold compile instead")
    p.add_argument("--gil", action="store_true",
                   help="measure the GIL's effect of a background compile instead")
    p.add_argument("--calls", action="store_true",
                   help="measure the call overhead of a + b (goal 3) instead, with the peers")
    a = p.parse_args(argv)
    import platform

    print(f"compile_time: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}")
    if a.profile:
        profile(a.profile, a.timeout)
        return 0
    if a.gil:
        gil(a.repeat)
        return 0
    if a.calls:
        calls(rounds=max(a.repeat, 3), number=20000, repeat=15)
        return 0
    measure(a.cases, a.backends, a.repeat, a.timeout, a.final_timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
