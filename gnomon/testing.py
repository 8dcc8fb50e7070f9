"""Testing helpers, public so users can test their own ops and models the way gnomon does.

* :func:`check_grads` — compare symbolic gradients (pullback and pushforward, first and second
  order) with central finite differences along random directions.
* :func:`compare_backends` — evaluate a graph with every backend and compare with the reference.
* :func:`assert_equal_graphs` — two graphs are the same (by identity, thanks to interning).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gnomon.graph.basic import Variable

_TOL = {"float16": (5e-2, 5e-2), "float32": (2e-3, 2e-4), "float64": (1e-6, 1e-8),
        "complex64": (2e-3, 2e-4), "complex128": (1e-6, 1e-8)}


def tolerance(dtype: Any) -> tuple[float, float]:
    """``(rtol, atol)`` suited to comparing results of ``dtype``."""
    return _TOL.get(np.dtype(dtype).name, (0.0, 0.0))


def symbolic_inputs(values: Sequence[Any], static: bool = False) -> list[Variable]:
    """Root variables matching ``values`` (dtype and rank; static shapes if ``static``)."""
    from gnomon.tensor.type import TensorType

    out = []
    for i, v in enumerate(values):
        a = np.asarray(v)
        out.append(TensorType(a.dtype.name, a.shape if static else (None,) * a.ndim)(f"x{i}"))
    return out


def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, list | tuple) else [x]


def check_grads(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    order: int = 1,
    modes: Sequence[str] = ("pullback", "pushforward"),
    *,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    mode: Any = "numpy",
    wrt: Sequence[int] | None = None,
) -> None:
    """Check the derivatives of ``fn`` at ``inputs`` against central finite differences.

    ``fn`` takes symbolic variables (one per input) and returns a variable or a list of them.
    A random cotangent ``u`` turns the outputs into the scalar ``c(x) = sum(u * fn(x))``; along
    a random direction ``d`` the finite difference of ``c`` must match ``<grad c, d>``
    (``'pullback'``) and ``<u, J d>`` (``'pushforward'``). With ``order=2`` the same check runs on
    the directional derivative itself, exercising gradients of gradients.

    Raises ``AssertionError`` with the two numbers when they disagree.

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> check_grads(lambda x: gt.exp(x) * x, [np.array([0.5, -1.0])], order=2)
    """
    import gnomon
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import constant
    from gnomon.tensor.reduce import sum as tsum

    rng = np.random.default_rng(seed)
    values = [np.asarray(v) for v in inputs]
    idx = list(range(len(values))) if wrt is None else list(wrt)
    idx = [i for i in idx if values[i].dtype.kind == "f"]
    if not idx:
        raise ValueError("check_grads: no float inputs to differentiate")
    xs = symbolic_inputs(values)
    outs = _as_list(fn(*xs))
    # The least precise float among inputs and outputs sets the step and the tolerance.
    floats = [values[i].dtype for i in idx] + [np.dtype(o.dtype) for o in outs
                                               if o.dtype[0] == "f"]
    dtype = min(floats, key=lambda d: d.itemsize)
    if eps is None:
        eps = {"float64": 1e-6, "float32": 1e-3}.get(dtype.name, 1e-2)
    r0, a0 = {"float64": (1e-4, 1e-6), "float32": (5e-2, 5e-3)}.get(dtype.name, (1e-1, 1e-1))
    rtol = r0 if rtol is None else rtol
    atol = a0 if atol is None else atol
    # the outputs' values (the cotangents take their shapes), and along the direction the
    # values of c for the finite difference of order 1, from one program of fn
    probe = gnomon.function(xs, outs, mode=mode, on_unused_input="ignore")
    out_vals = _as_list(probe(*values))
    u_vals = [rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) for o in out_vals]
    us = [constant(u) for u in u_vals]
    cost = tm.add(*[tsum(tm.mul(o, u)) for o, u in zip(outs, us, strict=True) if o.dtype[0] == "f"],
                  0.0)
    dirs = [rng.standard_normal(values[i].shape).astype(values[i].dtype) for i in idx]
    wrt_vars = [xs[i] for i in idx]
    if order == 1:
        floats = [k for k, o in enumerate(outs) if o.dtype[0] == "f"]

        def c_at(t: float) -> float:
            got = _as_list(probe(*_moved(values, idx, dirs, t)))
            return sum(float(np.sum(np.asarray(got[k], "float64") * u_vals[k])) for k in floats)

        _check_first(xs, values, idx, cost, outs, us, wrt_vars, dirs, eps, rtol, atol, modes,
                     mode, c_at)
    elif order == 2:
        # Differentiate the directional derivative <grad c, d> with the same machinery.
        d_consts = [constant(d) for d in dirs]
        g = gnomon.grad(cost, wrt_vars, disconnected_inputs="ignore")
        inner = tm.add(*[tsum(tm.mul(gi, di)) for gi, di in zip(g, d_consts, strict=True)], 0.0)
        dirs2 = [rng.standard_normal(values[i].shape).astype(values[i].dtype) for i in idx]
        _check_first(xs, values, idx, inner, [inner], [constant(np.ones((), inner.dtype))],
                     wrt_vars, dirs2, eps ** 0.5 if dtype.name != "float64" else 1e-5,
                     max(rtol, 1e-3), max(atol, 1e-5), ("pullback",), mode)
    else:
        raise ValueError("check_grads: order must be 1 or 2")


def _moved(values: list[np.ndarray], idx: list[int], dirs: list[np.ndarray],
           t: float) -> list[np.ndarray]:
    """``values`` moved by ``t`` along ``dirs`` (the inputs ``idx``), in their dtypes."""
    vals = list(values)
    for i, d in zip(idx, dirs, strict=True):
        vals[i] = (values[i] + t * d).astype(values[i].dtype)
    return vals


def _check_first(xs, values, idx, cost, outs, us, wrt_vars, dirs, eps, rtol, atol, modes,
                 mode, cost_at=None):
    """Finite difference of ``cost`` along ``dirs`` against its pullback and pushforward.

    ``cost_at(t)`` is the value of ``cost`` at ``values + t * dirs`` where the caller has a
    program computing it (order 1: the program of ``fn``); otherwise ``cost`` is compiled with
    the derivatives, and that one program is called at ``values`` and ``values +- eps * dirs``
    (compiling, not running, is what these checks spend their time on).
    """
    import gnomon
    from gnomon.tensor import math as tm
    from gnomon.tensor.basic import constant
    from gnomon.tensor.reduce import sum as tsum

    gs: list[Any] = []
    dot: list[Any] = []
    if "pullback" in modes:
        gs = list(gnomon.grad(cost, wrt_vars, disconnected_inputs="ignore"))
    if "pushforward" in modes:
        float_outs = [(o, u) for o, u in zip(outs, us, strict=True) if o.dtype[0] == "f"]
        jvps = gnomon.pushforward([o for o, _ in float_outs], wrt_vars,
                                  [constant(d) for d in dirs])
        dot = [tm.add(*[tsum(tm.mul(j, u))
                        for j, (_, u) in zip(jvps, float_outs, strict=True)], 0.0)]
    own = [] if cost_at is not None else [cost]
    f = gnomon.function(xs, [*own, *gs, *dot], mode=mode, on_unused_input="ignore")

    def at(t: float) -> float:
        if cost_at is not None:
            return float(cost_at(t))
        return float(np.asarray(f(*_moved(values, idx, dirs, t))[0], dtype="float64"))

    fd = (at(eps) - at(-eps)) / (2 * eps)
    res = list(f(*values))[len(own):]
    if gs:
        got = sum(float(np.sum(np.asarray(g, "float64") * d))
                  for g, d in zip(res[:len(gs)], dirs, strict=True))
        _compare("pullback", got, fd, rtol, atol)
    if dot:
        _compare("pushforward", float(np.asarray(res[len(gs)])), fd, rtol, atol)


def _compare(what: str, got: float, want: float, rtol: float, atol: float) -> None:
    if not np.isclose(got, want, rtol=rtol, atol=atol * max(1.0, abs(want))):
        raise AssertionError(
            f"{what} directional derivative {got!r} != finite difference {want!r} "
            f"(rtol={rtol}, atol={atol})"
        )


def available_modes() -> list[str]:
    """Backends installed here, reference first."""
    out = ["numpy"]
    for name in ("numba", "jax"):
        if importlib.util.find_spec(name) is not None and importlib.util.find_spec(
            f"gnomon.backends.{name}.linker"
        ) is not None:
            out.append(name)
    return out


def compare_backends(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    modes: Sequence[str] | None = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    static: bool = False,
) -> None:
    """Evaluate ``fn`` on ``inputs`` with each backend in ``modes`` and with the reference
    (NumPy) backend; raise ``AssertionError`` if any result differs (dtype, shape or value).

    Examples
    --------
    >>> import numpy as np, gnomon.tensor as gt
    >>> compare_backends(lambda x: gt.exp(x) + 1, [np.arange(3.0)], modes=["numpy"])
    """
    import gnomon
    from gnomon.config import config

    values = [np.asarray(v) for v in inputs]
    xs = symbolic_inputs(values, static=static)
    outs = _as_list(fn(*xs))
    ref = [np.asarray(r) for r in _as_list(
        gnomon.function(xs, outs, mode="numpy", on_unused_input="ignore")(*values))]
    for m in modes if modes is not None else available_modes():
        # the final compiled program, not the reference that answers a tiered first call
        with config.change(tiered="off"):
            f = gnomon.function(xs, outs, mode=m, on_unused_input="ignore")
        got = _as_list(f(*values))
        for k, (g, r) in enumerate(zip(got, ref, strict=True)):
            g = np.asarray(g)
            assert g.dtype == r.dtype, f"[{m}] output {k}: dtype {g.dtype} != reference {r.dtype}"
            assert g.shape == r.shape, f"[{m}] output {k}: shape {g.shape} != reference {r.shape}"
            rt, at = tolerance(r.dtype)
            np.testing.assert_allclose(g, r, rtol=rtol if rtol is not None else rt,
                                       atol=atol if atol is not None else at,
                                       err_msg=f"[{m}] output {k} differs from the reference")


def assert_equal_graphs(a: Sequence[Variable] | Variable, b: Sequence[Variable] | Variable) -> None:
    """Graphs built by the same ops on the same roots are identical objects (interning)."""
    la, lb = _as_list(a), _as_list(b)
    assert len(la) == len(lb), f"{len(la)} outputs != {len(lb)} outputs"
    for x, y in zip(la, lb, strict=True):
        if x is not y:
            from gnomon.printing import debugprint

            raise AssertionError(
                "graphs differ:\n" + str(debugprint(x, file="str")) + "\n---\n"
                + str(debugprint(y, file="str"))
            )
