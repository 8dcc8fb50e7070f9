"""Benchmarks of the C backend (``mode="c"``) against ``mode="numba"``, NumPy and PyTensor's C
backend (if installed), plus the call routes into C that ``mode="c"`` chose between.

Run: ``.venv/bin/python bench/c_bench.py [--quick]`` (loops on 1M and 10M elements;
``--quick``: 1M only).
Prints every figure and the ratios measured in this run (goals of issue 14: call overhead and
compile time below PyTensor's C mode, loop speed equal to the Numba backend).
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gnomon
import gnomon.tensor as gt
from bench.numba_bench import EIGHT_SCHOOLS, _pytensor, best, fmt, row

QUICK = "--quick" in sys.argv
SIZES = (1_000_000,) if QUICK else (1_000_000, 10_000_000)


def bench_overhead() -> None:
    print("1. call overhead of a + b on two float64 scalars (0-d arrays)")
    a, b = gt.dscalar("a"), gt.dscalar("b")
    x, y = np.array(1.5), np.array(2.5)
    fc = gnomon.function([a, b], a + b, mode="c")
    fn = gnomon.function([a, b], a + b, mode="numba")
    t_c = best(lambda: fc(x, y), 20000)
    t_n = best(lambda: fn(x, y), 20000)
    fc.trust_input = fn.trust_input = True
    t_ct = best(lambda: fc(x, y), 20000)
    t_nt = best(lambda: fn(x, y), 20000)
    row("gnomon c, default", t_c, t_n, "numba")
    row("gnomon c, trust_input", t_ct, t_nt, "numba trust_input")
    row("gnomon numba, default", t_n)
    row("gnomon numba, trust_input", t_nt)
    # the routes into C: the extension module's entry point alone, and ctypes calling the
    # same graph exported with gnomon.export_c (pointers, shapes and strides marshalled)
    entry = fc.compiled.run
    row("c: CompiledProgram.run (no Function layer)", best(lambda: entry([x, y]), 20000))
    with tempfile.TemporaryDirectory() as d:
        gnomon.export_c(a + b, d, name="addab", inputs=[a, b])
        subprocess.run(["cc", "-O2", "-std=c99", "-fPIC", "-shared", "addab.c", "-o",
                        "libaddab.so", "-lm"], cwd=d, check=True)
        lib = ctypes.CDLL(os.path.join(d, "libaddab.so"))

        class In(ctypes.Structure):
            _fields_ = [("data", ctypes.c_void_p), ("ndim", ctypes.c_int64),
                        ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p)]

        class Out(ctypes.Structure):
            _fields_ = [("data", ctypes.c_void_p), ("ndim", ctypes.c_int64),
                        ("shape", ctypes.c_int64 * 32), ("owner", ctypes.c_void_p)]

        run, free = lib.addab_run, lib.addab_free
        ins, outs = (In * 2)(), (Out * 1)()

        def via_ctypes() -> float:
            ins[0].data, ins[1].data = x.ctypes.data, y.ctypes.data
            if run(ins, outs, None, 0):
                raise RuntimeError("addab failed")
            v = ctypes.c_double.from_address(outs[0].data).value
            free(outs)
            return v

        assert via_ctypes() == 4.0
        row("ctypes -> exported C (same graph)", best(via_ctypes, 20000))
    pt = _pytensor()
    if pt is not None:
        import pytensor.tensor as ptt

        pa, pb = ptt.dscalar("a"), ptt.dscalar("b")
        try:
            pf = pt.function([pa, pb], pa + pb, mode="FAST_RUN")  # PyTensor's C backend
        except Exception as e:  # pragma: no cover - no compiler for PyTensor
            print(f"  pytensor C: unavailable ({e})")
        else:
            t_p = best(lambda: pf(x, y), 20000)
            row("pytensor C (FAST_RUN)", t_p)
            pf.trust_input = True
            t_pt = best(lambda: pf(x, y), 20000)
            row("pytensor C, trust_input", t_pt)
            print(f"  -> gnomon c is {t_p / t_c:.1f}x faster than PyTensor's C mode "
                  f"(trust_input {t_pt / t_ct:.1f}x)")
    else:
        print("  (pytensor not installed: skipped)")


def _pt_loop(build: object, n_in: int) -> object:
    """The same loop compiled by PyTensor's C backend (FAST_RUN), or None."""
    pt = _pytensor()
    if pt is None:
        return None
    import pytensor.tensor as ptt

    xs = [ptt.dvector(f"x{k}") for k in range(n_in)]
    ops = {"exp": ptt.exp, "sin": ptt.sin, "log1p": ptt.log1p}
    try:
        f = pt.function(xs, build(*xs, ops), mode="FAST_RUN")  # type: ignore[operator]
    except Exception as e:  # pragma: no cover - no compiler for PyTensor
        print(f"  pytensor C: unavailable ({e})")
        return None
    f.trust_input = True
    return f


def _loops(label: str, build: object, numpy_fn: object, n_in: int, n: int) -> None:
    """gnomon c vs numba vs PyTensor C vs NumPy on ``n`` float64 elements (best of 3; wall
    time, and the process CPU time of the c and numba rounds)."""
    rng = np.random.default_rng(0)
    vals = [rng.random(n) for _ in range(n_in)]
    xs = [gt.dvector(f"x{k}") for k in range(n_in)]
    gops = {"exp": gt.exp, "sin": gt.sin, "log1p": gt.log1p}
    res, cpu = {}, {}
    for mode in ("c", "numba"):
        # tiered compilation off: Numba's compile in a background thread would count as CPU
        # of the timing rounds
        m = gnomon.Mode("numba", tiered="off") if mode == "numba" else mode
        f = gnomon.function(xs, build(*xs, gops), mode=m)  # type: ignore[operator]
        f.trust_input = True
        f(*vals)  # compiled (Numba compiles at the first call), outside the CPU count
        c0 = time.process_time()
        res[mode] = best(lambda f=f: f(*vals), 3)
        cpu[mode] = time.process_time() - c0
    t_np = best(lambda: numpy_fn(*vals), 3)  # type: ignore[operator]
    row("gnomon c (fused)", res["c"], res["numba"], "numba")
    row("gnomon numba (fused)", res["numba"])
    pf = _pt_loop(build, n_in)
    t_pt = best(lambda: pf(*vals), 3) if pf is not None else float("nan")  # type: ignore[operator]
    if pf is not None:
        row("pytensor C (FAST_RUN)", t_pt)
    row("NumPy", t_np)
    print(f"  -> c {t_np / res['c']:.2f}x NumPy, {res['numba'] / res['c']:.2f}x numba, "
          f"{t_pt / res['c']:.2f}x PyTensor C; "
          f"CPU of the timing rounds: c {cpu['c']:.2f} s, numba {cpu['numba']:.2f} s ({label})")


def bench_fused_sum(n: int) -> None:
    """sum((x - mu)**2): the Sum computed in the loop of its terms (C and Numba) vs NumPy,
    which stores the n terms and sums them pairwise (best of 5; wall and CPU time)."""
    rng = np.random.default_rng(1)
    xv, mv = rng.random(n), np.array(0.5)
    x, mu = gt.dvector("x"), gt.dscalar("mu")
    res, cpu = {}, {}
    want = np.sum((xv - mv) ** 2)
    for mode in ("c", "numba"):
        m = gnomon.Mode("numba", tiered="off") if mode == "numba" else mode
        f = gnomon.function([x, mu], gt.sum((x - mu) ** 2), mode=m)
        f.trust_input = True
        got = f(xv, mv)  # compiled, outside the CPU count
        assert abs(got - want) <= 1e-12 * abs(want), (mode, got, want)
        if mode == "c":
            assert f.compiled.state.fused_sums, "the Sum was not fused in C"
        c0 = time.process_time()
        res[mode] = best(lambda f=f: f(xv, mv), 5)
        cpu[mode] = time.process_time() - c0
    c0 = time.process_time()
    t_np = best(lambda: np.sum((xv - mv) ** 2), 5)
    cpu_np = time.process_time() - c0
    row("gnomon c (sum fused)", res["c"], res["numba"], "numba")
    row("gnomon numba (sum fused)", res["numba"])
    row("NumPy", t_np)
    print(f"  -> c {t_np / res['c']:.2f}x NumPy, {res['numba'] / res['c']:.2f}x numba; CPU of "
          f"the timing rounds: c {cpu['c']:.2f} s, numba {cpu['numba']:.2f} s, "
          f"NumPy {cpu_np:.2f} s")


def bench_eight_schools() -> None:
    print("4. eight-schools log-density + gradient (compile to first result, evaluation)")
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, GNOMON_CACHE_DIR=d, PYTHONPATH=ROOT, GNOMON_TIERED="off")
        res = {}
        for label, mode in (("c, cold cache", "c"), ("c, warm cache", "c"),
                            ("numba, cold cache", "numba"), ("numba, warm cache", "numba")):
            out = subprocess.run([sys.executable, "-c", EIGHT_SCHOOLS.format(mode=mode)],
                                 env=env, capture_output=True, text=True, check=True)
            _imp, first, ev, val = out.stdout.split()
            res[label] = (float(first), float(ev))
            print(f"  {label:<20} compile+first result {fmt(float(first))}  evaluation "
                  f"{fmt(float(ev))}  (logp={val})")
        c, nb = res["c, cold cache"], res["numba, cold cache"]
        print(f"  -> cold compile: c {nb[0] / c[0]:.1f}x faster than numba; evaluation c/numba "
              f"{res['c, warm cache'][1] / res['numba, warm cache'][1]:.2f}")
    pt = _pytensor()
    if pt is None:
        return
    code = textwrap.dedent("""
        import time, numpy as np
        import pytensor, pytensor.tensor as pt
        t1 = time.perf_counter()
        y_obs = np.array([28., 8., -3., 7., -1., 1., 18., 12.])
        sigma = np.array([15., 10., 16., 11., 9., 11., 10., 18.])
        mu, log_tau, eta = pt.dscalar("mu"), pt.dscalar("log_tau"), pt.dvector("eta")
        theta = mu + pt.exp(log_tau) * eta
        def nl(v, m, s):
            return -0.5 * ((v - m) / s) ** 2 - pt.log(s) - 0.5 * np.log(2 * np.pi)
        logp = (nl(mu, 0.0, 5.0) + nl(log_tau, 0.0, 5.0) + pt.sum(nl(eta, 0.0, 1.0))
                + pt.sum(nl(pt.constant(y_obs), theta, pt.constant(sigma))))
        f = pytensor.function([mu, log_tau, eta], [logp, *pt.grad(logp, [mu, log_tau, eta])],
                              mode="FAST_RUN")
        args = (np.array(4.0), np.array(1.2), np.linspace(-1, 1, 8))
        out = f(*args)
        t2 = time.perf_counter()
        import timeit
        f.trust_input = True
        ev = min(timeit.repeat(lambda: f(*args), number=2000, repeat=5)) / 2000
        print(f"{t2 - t1:.4f} {ev:.9f}")
    """)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={d}")
        for label in ("pytensor C, cold", "pytensor C, warm"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True)
            if out.returncode:
                print(f"  {label}: failed ({out.stderr.strip().splitlines()[-1:]})")
                return
            first, ev = map(float, out.stdout.split())
            print(f"  {label:<20} compile+first result {fmt(first)}  evaluation {fmt(ev)}")


if __name__ == "__main__":
    print(f"gnomon {gnomon.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs"
          f"{' (quick)' if QUICK else ''}")
    bench_overhead()
    for n in SIZES:
        print(f"2. (x*2 + y) * z - x on {n:,} float64 (memory bound)")
        _loops("memory bound", lambda x, y, z, _: (x * 2 + y) * z - x,
               lambda x, y, z: (x * 2 + y) * z - x, 3, n)
        print(f"3. exp(-x**2)*sin(x) + log1p(x**2)*0.5 on {n:,} float64 (compute bound)")
        _loops("compute bound",
               lambda x, o: o["exp"](-x ** 2) * o["sin"](x) + o["log1p"](x ** 2) * 0.5,
               lambda x: np.exp(-x ** 2) * np.sin(x) + np.log1p(x ** 2) * 0.5, 1, n)
        print(f"3b. sum((x - mu)**2) on {n:,} float64 (a reduction fused into its loop)")
        bench_fused_sum(n)
    bench_eight_schools()
