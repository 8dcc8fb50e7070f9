"""scan and map / reduce / foldl / foldr: the classic examples, gradients, backends."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.control import Scan, foldl, foldr, map, reduce, scan
from gnomon.errors import GnomonError, GnomonTypeError, GnomonValueError
from gnomon.graph.traversal import toposort
from gnomon.testing import available_modes, check_grads, compare_backends

RNG = np.random.default_rng(42)


def _power(a, k: int):  # type: ignore[no-untyped-def]
    """A**k elementwise by repeated multiplication."""
    out, upd = scan(lambda prior, a: prior * a, outputs_info=[gt.ones_like(a)],
                    non_sequences=[a], n_steps=k)
    assert upd == {}
    return out[-1]


def _poly(coeffs, x):  # type: ignore[no-untyped-def]
    """sum_i c_i x**i, one term per step (sequences of different lengths: the shorter wins)."""
    terms, _ = scan(lambda c, p, x: c * x ** p, sequences=[coeffs, gt.arange(1000)],
                    non_sequences=[x])
    return gt.sum(terms)


def _fib_like(x0, n: int):  # type: ignore[no-untyped-def]
    out, _ = scan(lambda a, b: a + 0.5 * b, outputs_info=[{"initial": x0, "taps": [-2, -1]}],
                  n_steps=n)
    return out


def _rnn(X, W, U, h0):  # type: ignore[no-untyped-def]
    hs, _ = scan(lambda x, h, W, U: gt.tanh(gt.dot(x, W) + gt.dot(h, U)),
                 sequences=[X], outputs_info=[h0], non_sequences=[W, U])
    return hs


def _rnn_values() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((6, 3)), 0.5 * rng.standard_normal((3, 4)),
            0.5 * rng.standard_normal((4, 4)), rng.standard_normal(4)]


def _rnn_numpy(X, W, U, h0):  # type: ignore[no-untyped-def]
    h, out = h0, []
    for x in X:
        h = np.tanh(x @ W + h @ U)
        out.append(h)
    return np.array(out)


def _eval(fn, vals, mode="numpy"):  # type: ignore[no-untyped-def]
    from gnomon.testing import symbolic_inputs

    xs = symbolic_inputs(vals)
    return gnomon.function(xs, fn(*xs), mode=mode, on_unused_input="ignore")(*vals)


# --- the classic examples -----------------------------------------------------------------


def test_power_by_repeated_multiplication() -> None:
    a = RNG.standard_normal(5)
    np.testing.assert_allclose(_eval(lambda v: _power(v, 6), [a]), a ** 6)
    check_grads(lambda v: _power(v, 3), [a], order=2)


def test_polynomial_from_coefficients() -> None:
    c, x = RNG.standard_normal(5), np.array(0.7)
    np.testing.assert_allclose(_eval(_poly, [c, x]), np.polyval(c[::-1], x))
    check_grads(_poly, [c, x], order=2)


def test_fibonacci_style_two_taps() -> None:
    x0 = np.array([0.0, 1.0])
    got = _eval(lambda v: _fib_like(v, 8), [x0])
    want = [0.0, 1.0]
    for _ in range(8):
        want.append(want[-2] + 0.5 * want[-1])
    np.testing.assert_allclose(got, want[2:])
    # the classic integer Fibonacci
    fib, _ = scan(lambda a, b: a + b,
                  outputs_info=[{"initial": gt.constant(np.array([0, 1])), "taps": [-2, -1]}],
                  n_steps=10)
    assert fib.eval(mode="numpy").tolist() == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
    check_grads(lambda v: _fib_like(v, 5), [np.array([0.3, -0.4])], order=2)


def test_rnn_matches_numpy_and_its_gradient_finite_differences() -> None:
    vals = _rnn_values()
    np.testing.assert_allclose(_eval(_rnn, vals), _rnn_numpy(*vals))
    check_grads(_rnn, vals)
    check_grads(lambda *a: gt.sum(_rnn(*a)[-1] ** 2), vals, order=2, modes=("pullback",))


def test_cumulative_products_match_numpy() -> None:
    x = RNG.uniform(0.5, 1.5, 7)
    out = lambda v: scan(lambda e, acc: e * acc, [v], [gt.constant(1.0)])[0]  # noqa: E731
    np.testing.assert_allclose(_eval(out, [x]), np.cumprod(x))
    m = RNG.uniform(0.5, 1.5, (5, 3))
    rows = lambda v: scan(lambda r, acc: r * acc, [v], [gt.ones_like(v[0])])[0]  # noqa: E731
    np.testing.assert_allclose(_eval(rows, [m]), np.cumprod(m, axis=0))
    check_grads(out, [x], order=2)


# --- map / reduce / folds -------------------------------------------------------------------


def test_map_reduce_and_folds() -> None:
    m = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(_eval(lambda v: map(lambda r: gt.sum(r * r), [v])[0], [m]),
                               (m * m).sum(1))
    x = RNG.standard_normal(5)
    np.testing.assert_allclose(
        _eval(lambda v: reduce(lambda e, acc: acc + e, [v], [gt.constant(0.0)])[0], [x]),
        x.sum())
    horner = lambda e, acc: acc * 0.5 + e  # noqa: E731
    want_l, want_r = 0.0, 0.0
    for e in x:
        want_l = want_l * 0.5 + e
    for e in x[::-1]:
        want_r = want_r * 0.5 + e
    np.testing.assert_allclose(
        _eval(lambda v: foldl(horner, [v], [gt.constant(0.0)])[0], [x]), want_l)
    np.testing.assert_allclose(
        _eval(lambda v: foldr(horner, [v], [gt.constant(0.0)])[0], [x]), want_r)
    check_grads(lambda v: foldr(horner, [v], [gt.constant(0.0)])[0], [x], order=2)


def test_go_backwards_and_sequence_taps() -> None:
    x = RNG.standard_normal(6)
    back = lambda v: scan(lambda e: e * 2.0, [v], go_backwards=True)[0]  # noqa: E731
    np.testing.assert_allclose(_eval(back, [x]), x[::-1] * 2.0)
    diff = lambda v: scan(lambda a, b: b - a, [{"input": v, "taps": [-1, 0]}])[0]  # noqa: E731
    np.testing.assert_allclose(_eval(diff, [x]), np.diff(x))
    three = lambda v: scan(lambda a, b, c: a + 2 * b + c,  # noqa: E731
                           [{"input": v, "taps": [-1, 0, 1]}])[0]
    np.testing.assert_allclose(_eval(three, [x]), x[:-2] + 2 * x[1:-1] + x[2:])
    check_grads(three, [x], order=2)
    check_grads(back, [x])


def test_several_outputs_mixed_kinds() -> None:
    x = RNG.standard_normal(5)

    def fn(v):  # type: ignore[no-untyped-def]
        def step(e, s, k):  # type: ignore[no-untyped-def]
            return [s + e, k + 1, e * s]  # running sum, an int counter, a plain output
        outs, _ = scan(step, [v], [gt.constant(0.0), gt.constant(0), None])
        return outs

    s, k, p = _eval(fn, [x])
    np.testing.assert_allclose(s, np.cumsum(x))
    assert k.tolist() == [1, 2, 3, 4, 5] and k.dtype == np.int64
    np.testing.assert_allclose(p, x * np.concatenate([[0.0], np.cumsum(x)[:-1]]))
    check_grads(lambda v: [fn(v)[0], fn(v)[2]], [x], order=2)


def test_closure_variables_become_loop_invariants() -> None:
    X, W, U, h0 = _rnn_values()
    xs = [gt.dmatrix("X"), gt.dmatrix("W"), gt.dmatrix("U"), gt.dvector("h0")]
    Wt = xs[1] * 2.0  # computed once, outside the loop
    hs, _ = scan(lambda x, h: gt.tanh(gt.dot(x, Wt) + gt.dot(h, xs[2])), [xs[0]], [xs[3]])
    node = hs.owner
    assert isinstance(node.op, Scan) and any(v is Wt for v in node.inputs)
    f = gnomon.function(xs, hs, mode="numpy")
    np.testing.assert_allclose(f(X, W, U, h0), _rnn_numpy(X, 2 * W, U, h0))
    with pytest.raises(GnomonTypeError, match="strict"):
        scan(lambda x, h: gt.tanh(gt.dot(x, Wt) + gt.dot(h, xs[2])), [xs[0]], [xs[3]],
             strict=True)
    scan(lambda x, h, W2, U: gt.tanh(gt.dot(x, W2) + gt.dot(h, U)), [xs[0]], [xs[3]],
         non_sequences=[Wt, xs[2]], strict=True)


def test_shared_variable_updates() -> None:
    count = gnomon.shared(np.array(0.0), name="count")
    x = gt.dvector("x")

    def step(e):  # type: ignore[no-untyped-def]
        return e + count, {count: count + 1.0}

    out, updates = scan(step, [x])
    assert list(updates) == [count]
    f = gnomon.function([x], out, updates=updates, mode="numpy")
    np.testing.assert_allclose(f(np.zeros(3)), [0.0, 1.0, 2.0])
    assert float(count.get_value()) == 3.0
    np.testing.assert_allclose(f(np.zeros(2)), [3.0, 4.0])
    assert float(count.get_value()) == 5.0


def test_truncate_gradient() -> None:
    x = RNG.standard_normal(6)
    xv = gt.dvector("x")

    def total(k: int):  # type: ignore[no-untyped-def]
        hs, _ = scan(lambda e, h: 0.9 * h + e, [xv], [gt.constant(0.0)], truncate_gradient=k)
        return gnomon.grad(gt.sum(hs), xv)

    full = total(-1).eval({xv: x}, mode="numpy")
    np.testing.assert_allclose(total(6).eval({xv: x}, mode="numpy"), full)
    np.testing.assert_allclose(full, [sum(0.9 ** j for j in range(6 - t)) for t in range(6)])
    cut = total(2).eval({xv: x}, mode="numpy")
    # only the last 2 steps are backpropagated, each step only within that window
    np.testing.assert_allclose(cut, [0, 0, 0, 0, 1.9, 1.0])


def test_shapes_and_static_lengths() -> None:
    x = gt.dmatrix("x")
    hs, _ = scan(lambda r, acc: acc + r, [x], [gt.zeros_like(x[0])])
    node = hs.owner
    shp = node.op.infer_shape(node, [gt.shape_tuple(v) for v in node.inputs])
    f = gnomon.function([x], list(shp[0]), mode="numpy")
    assert [int(v) for v in f(np.ones((4, 3)))] == [4, 3]
    y = gt.dvector("y")
    p, _ = scan(lambda a: a * y, outputs_info=[y], n_steps=3)
    assert p.type.shape[0] == 3


def test_errors() -> None:
    x = gt.dvector("x")
    with pytest.raises(GnomonValueError, match="n_steps"):
        scan(lambda a: a * 2, outputs_info=[x])
    with pytest.raises(GnomonTypeError, match="dtype"):
        scan(lambda e, acc: acc + e, [x], [gt.constant(0)])
    with pytest.raises(GnomonValueError, match="negative"):
        scan(lambda a: a, outputs_info=[{"initial": x, "taps": [1]}], n_steps=2)
    with pytest.raises(GnomonValueError, match="outputs_info"):
        scan(lambda e: [e, e], [x], [None])
    n = gt.lscalar("n")
    out, _ = scan(lambda e: e * 2, [x], n_steps=n)
    f = gnomon.function([x, n], out, mode="numpy")
    with pytest.raises(GnomonError, match="fewer than n_steps"):
        f(np.ones(2), 3)
    assert f(np.ones(3), 0).shape == (0,)


# --- every backend ----------------------------------------------------------------------


CASES = {
    "power": (lambda a: _power(a, 4), lambda: [RNG.standard_normal(5)]),
    "poly": (_poly, lambda: [RNG.standard_normal(4), np.array(0.3)]),
    "fib": (lambda x0: _fib_like(x0, 7), lambda: [np.array([0.2, 0.5])]),
    "rnn": (_rnn, _rnn_values),
    "rnn_grad": (lambda *a: gnomon.grad(gt.sum(_rnn(*a) ** 2), list(a)), _rnn_values),
    "cumprod": (lambda v: scan(lambda e, acc: e * acc, [v], [gt.constant(1.0)])[0],
                lambda: [RNG.uniform(0.5, 1.5, 6)]),
    "taps_grad": (lambda v: gnomon.grad(gt.sum(scan(lambda a, b: a * b, [
        {"input": v, "taps": [-2, 0]}])[0]), v), lambda: [RNG.standard_normal(6)]),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("mode", [m for m in available_modes() if m != "numpy"])
def test_every_backend_matches_the_reference(name: str, mode: str) -> None:
    fn, values = CASES[name]
    vals = values()
    compare_backends(fn, vals, modes=[mode])
    if mode == "numba":
        # Scans (and their reverse scans) lower to compiled loops: no Python fallback node.
        # The program compare_backends compiled (same graph): in memory, not compiled again.
        from gnomon.config import config
        from gnomon.testing import symbolic_inputs

        xs = symbolic_inputs(vals)
        with config.change(tiered="off"):
            f = gnomon.function(xs, fn(*xs), mode="numba", on_unused_input="ignore")
        assert f.compiled.state.nopython, [type(n.op).__name__
                                           for n in f.compiled.state.fallback_nodes]


def test_scans_with_the_same_length_are_merged() -> None:
    x, w = gt.dvector("x"), gt.dscalar("w")

    def fn(x, w):  # type: ignore[no-untyped-def]
        a, _ = scan(lambda e, acc: acc + e, [x], [gt.constant(0.0)])
        b, _ = scan(lambda e, acc: acc * e + w, [x], [gt.constant(1.0)])
        c, _ = scan(lambda e: e * w, [x])
        return [a, b, c]

    outs = fn(x, w)
    mode = gnomon.Mode("numpy").excluding("scan_vectorize")  # keep c a loop
    f = gnomon.function([x, w], outs, mode=mode)
    assert sum(isinstance(n.op, Scan) for n in f.program.nodes) == 1
    assert "scan_merge" in [s.rule for s in f.rewrite_trace]
    unmerged = gnomon.function([x, w], outs, mode=mode.excluding("scan_merge"))
    assert sum(isinstance(n.op, Scan) for n in unmerged.program.nodes) == 3
    xv = RNG.standard_normal(5)
    for got, want in zip(f(xv, 0.7), unmerged(xv, 0.7), strict=True):
        np.testing.assert_allclose(got, want)
    check_grads(lambda x, w: [o * 1.0 for o in fn(x, w)], [xv, np.array(0.7)])
    compare_backends(fn, [xv, np.array(0.7)])


def test_only_the_last_steps_are_stored_when_only_they_are_read() -> None:
    from gnomon.rewrite.engine import rewrite_graph

    def fn(v):  # type: ignore[no-untyped-def]
        outs, _ = scan(lambda e, a, b: [a + 0.5 * b * e, e * 2.0], [v],
                       [{"initial": gt.stack([v[0], v[1]]), "taps": [-2, -1]}, None])
        return [outs[0][-1], outs[0][-3], outs[1][-2] * 2.0]

    x = gt.dvector("x")
    outs = fn(x)
    f = gnomon.function([x], outs, mode="numpy")
    keeps = [n.op.keep for n in f.program.nodes if isinstance(n.op, Scan)]
    assert keeps == [(3, 2)]  # three steps of the recurrence, two of the plain output
    full = gnomon.function([x], outs, mode=gnomon.Mode("numpy").excluding("scan_save_mem"))
    assert [n.op.keep for n in full.program.nodes if isinstance(n.op, Scan)] == [()]
    xv = RNG.standard_normal(7)
    for a, b in zip(f(xv), full(xv), strict=True):
        np.testing.assert_allclose(a, b)
    compare_backends(fn, [xv])
    # a trace used whole is kept whole
    hs, _ = scan(lambda e, acc: acc + e, [x], [gt.constant(0.0)])
    g = gnomon.function([x], [hs, hs[-1]], mode="numpy")
    assert [n.op.keep for n in g.program.nodes if isinstance(n.op, Scan)] == [()]
    # the gradient of a node that keeps only its end is that of the full scan
    (short,), _ = rewrite_graph([gt.sum(fn(x)[0] * fn(x)[1])], include=["scan_save_mem"])
    assert any(isinstance(n.op, Scan) and n.op.keep for n in toposort([short]))
    g_short = gnomon.grad(short, x).eval({x: xv}, mode="numpy")
    g_full = gnomon.grad(gt.sum(fn(x)[0] * fn(x)[1]), x).eval({x: xv},
                                                              mode=gnomon.Mode("numpy"))
    np.testing.assert_allclose(g_short, g_full)


def test_elementwise_maps_become_vectorized() -> None:
    X, w, c = gt.dmatrix("X"), gt.dvector("w"), gt.dscalar("c")

    def fn(X, w, c):  # type: ignore[no-untyped-def]
        a, _ = map(lambda e, w, c: gt.exp(e) * w + c, [X], [w, c])
        b, _ = map(lambda e: c * 2.0, [X])  # the same at every step
        d, _ = scan(lambda e, f: e - f, [{"input": X, "taps": [0, 1]}])
        return [a, b, d]

    outs = fn(X, w, c)
    f = gnomon.function([X, w, c], outs, mode="numpy")
    # a and b become loop-free; d stays a loop: after canonicalize its n_steps is arithmetic
    # on len(X), which the rule does not try to compare with the lengths of X[1:] and X[:-1]
    scans = [n for n in f.program.nodes if isinstance(n.op, Scan)]
    assert len(scans) == 1 and scans[0].op.n_seqs == 2
    loop = gnomon.function([X, w, c], outs,
                           mode=gnomon.Mode("numpy").excluding("scan_vectorize", "scan_merge"))
    assert sum(isinstance(n.op, Scan) for n in loop.program.nodes) == 3
    vals = [RNG.standard_normal((4, 3)), RNG.standard_normal(3), np.array(0.5)]
    for a, b in zip(f(*vals), loop(*vals), strict=True):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(f(*vals)[0], np.exp(vals[0]) * vals[1] + 0.5)
    check_grads(lambda X, w, c: fn(X, w, c)[0] * fn(X, w, c)[2][0], vals, order=2)
    compare_backends(fn, vals)
