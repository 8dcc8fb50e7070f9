"""PyTensor's module paths in gnomon (issue #17, part A): each path imports the names PyTensor
code takes from it, and the functions there agree with NumPy/SciPy; ``vectorize_graph`` against
a loop over the batch."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import gnomon
import gnomon.tensor as pt
from gnomon.testing import check_grads


@pytest.fixture(autouse=True)
def _numpy_mode():
    with gnomon.config.change_flags(mode="numpy"):
        yield


RNG = np.random.default_rng(4242)

PATHS = {
    "gnomon.ifelse": ["ifelse", "IfElse"],
    "gnomon.scan": ["scan", "map", "reduce", "foldl", "foldr", "until"],
    "gnomon.scan.basic": ["scan"],
    "gnomon.scan.views": ["map", "reduce", "foldl", "foldr"],
    "gnomon.scan.utils": ["until"],
    "gnomon.tensor.special": ["softmax", "log_softmax", "betaln", "poch", "factorial", "beta"],
    "gnomon.tensor.slinalg": ["cholesky", "solve", "solve_triangular", "cho_solve", "eigvalsh",
                              "block_diag", "kron", "qr", "solve_discrete_lyapunov",
                              "solve_continuous_lyapunov"],
    "gnomon.tensor.nlinalg": ["matrix_inverse", "inv", "pinv", "det", "slogdet", "eigh", "svd",
                              "qr", "lstsq", "matrix_power", "norm", "matrix_dot", "trace",
                              "tensorinv", "tensorsolve", "kron"],
    "gnomon.tensor.extra_ops": ["cumsum", "cumprod", "diff", "bincount", "squeeze", "compress",
                                "repeat", "bartlett", "fill_diagonal", "fill_diagonal_offset",
                                "unique", "unravel_index", "ravel_multi_index", "broadcast_shape",
                                "broadcast_to", "broadcast_arrays", "geomspace", "logspace",
                                "linspace", "searchsorted"],
    "gnomon.graph.basic": ["Apply", "Variable", "Constant", "graph_inputs", "ancestors",
                           "clone_replace", "toposort", "io_toposort", "applys_between",
                           "vars_between", "orphans_between", "equal_computations", "clone",
                           "walk"],
    "gnomon.graph.replace": ["graph_replace", "clone_replace", "vectorize_graph",
                             "vectorize_node"],
    "gnomon.graph.rewriting.utils": ["rewrite_graph"],
    "gnomon.printing": ["Print", "pp", "pprint", "debugprint", "dprint"],
    "gnomon.gradient": ["grad", "Rop", "Lop", "verify_grad", "jacobian", "hessian",
                        "grad_not_implemented", "grad_undefined", "disconnected_grad",
                        "zero_grad", "consider_constant", "grad_clip", "grad_scale"],
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_module_path_is_a_module_with_the_names(path: str) -> None:
    mod = importlib.import_module(path)
    assert mod.__name__ == path and mod.__doc__
    missing = [n for n in PATHS[path] if not hasattr(mod, n)]
    assert not missing, f"{path} lacks {missing}"


def test_ifelse_module_is_callable_and_scan_is_the_function() -> None:
    from gnomon.ifelse import ifelse

    a, b = pt.dscalars("a", "b")
    f = gnomon.function([a, b], [gnomon.ifelse(a < b, a, b), ifelse(a < b, b, a)])
    assert [float(v) for v in f(1.0, 2.0)] == [1.0, 2.0]
    assert callable(gnomon.scan) and not isinstance(gnomon.scan, type(importlib))
    from gnomon.scan.utils import until

    with pytest.raises(TypeError, match="scalar"):
        until(pt.dvector("v") > 1.0)
    assert until(a > 1.0).condition.dtype == "bool"


def _spd(n: int) -> np.ndarray:
    m = RNG.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def test_slinalg_matches_scipy() -> None:
    from gnomon.tensor import slinalg

    a, b = _spd(4), RNG.normal(size=(4, 2))
    np.testing.assert_allclose(slinalg.cholesky(a).eval(), scipy.linalg.cholesky(a, lower=True))
    np.testing.assert_allclose(slinalg.cholesky(a, lower=False).eval(), scipy.linalg.cholesky(a))
    np.testing.assert_allclose(slinalg.solve(a, b, assume_a="pos").eval(),
                               scipy.linalg.solve(a, b, assume_a="pos"))
    np.testing.assert_allclose(slinalg.solve(a, b, transposed=True).eval(),
                               scipy.linalg.solve(a.T, b))
    low = np.tril(a)
    np.testing.assert_allclose(slinalg.solve_triangular(low, b, lower=True).eval(),
                               scipy.linalg.solve_triangular(low, b, lower=True))
    c = scipy.linalg.cholesky(a, lower=True)
    np.testing.assert_allclose(slinalg.cho_solve((c, True), b).eval(),
                               scipy.linalg.cho_solve((c, True), b))
    g = _spd(4)
    np.testing.assert_allclose(slinalg.eigvalsh(a, g).eval(), scipy.linalg.eigvalsh(a, g))
    blocks = [RNG.normal(size=(1, 2)), RNG.normal(size=(3, 1)), np.eye(2)]
    np.testing.assert_allclose(slinalg.block_diag(*blocks).eval(),
                               scipy.linalg.block_diag(*blocks))
    s = RNG.normal(size=(3, 3)) * 0.3
    q = _spd(3)
    np.testing.assert_allclose(slinalg.solve_discrete_lyapunov(s, q).eval(),
                               scipy.linalg.solve_discrete_lyapunov(s, q), rtol=1e-9)
    st = s - 2 * np.eye(3)
    np.testing.assert_allclose(slinalg.solve_continuous_lyapunov(st, q).eval(),
                               scipy.linalg.solve_continuous_lyapunov(st, q), rtol=1e-9)
    qq, rr = slinalg.qr(RNG.normal(size=(4, 3)))
    assert qq.type.ndim == 2 and rr.type.ndim == 2
    with pytest.raises(gnomon.errors.GnomonValueError, match="on_error"):
        slinalg.cholesky(a, on_error="nan")
    # gradients of the compositions, against finite differences
    check_grads(lambda m: slinalg.solve_discrete_lyapunov(m, q), [s], mode="numpy")
    check_grads(lambda m, n: slinalg.block_diag(m, n), [blocks[0], blocks[1]], mode="numpy")
    check_grads(lambda m: slinalg.eigvalsh(m + m.T, g), [a], mode="numpy")


def test_nlinalg_matches_numpy() -> None:
    from gnomon.tensor import nlinalg

    a, b, c = _spd(3), RNG.normal(size=(3, 3)), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(nlinalg.matrix_inverse(a).eval(), np.linalg.inv(a))
    np.testing.assert_allclose(nlinalg.matrix_dot(a, b, c).eval(), a @ b @ c)
    t = RNG.normal(size=(6, 2, 3))
    np.testing.assert_allclose(nlinalg.tensorinv(t, 1).eval(), np.linalg.tensorinv(t, 1))
    t2 = RNG.normal(size=(2, 3, 6))
    rhs = RNG.normal(size=(2, 3))
    np.testing.assert_allclose(nlinalg.tensorsolve(t2, rhs).eval(),
                               np.linalg.tensorsolve(t2, rhs))
    np.testing.assert_allclose(nlinalg.det(a).eval(), np.linalg.det(a))
    np.testing.assert_allclose(nlinalg.trace(a).eval(), np.trace(a))
    check_grads(lambda m: nlinalg.tensorinv(m, 1), [t], mode="numpy")


def test_extra_ops_match_numpy() -> None:
    from gnomon.tensor import extra_ops as eo

    x = np.array([3, 1, 3, 2, 3, 0, 1])
    got = [v.eval() for v in eo.unique(x, True, True, True)]
    for g, w in zip(got, np.unique(x, True, True, True), strict=True):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(eo.unique(np.array([[2.0, 1.0], [2.0, 5.0]])).eval(),
                                  [1.0, 2.0, 5.0])
    w8 = RNG.uniform(size=7)
    np.testing.assert_array_equal(eo.bincount(x).eval(), np.bincount(x))
    np.testing.assert_allclose(eo.bincount(x, w8, minlength=6).eval(),
                               np.bincount(x, w8, minlength=6))
    m = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(eo.diff(m, 2, axis=1).eval(), np.diff(m, 2, axis=1))
    cond = np.array([True, False, True])
    np.testing.assert_array_equal(eo.compress(cond, m, axis=0).eval(), np.compress(cond, m, 0))
    np.testing.assert_array_equal(eo.compress(cond, m).eval(), np.compress(cond, m))
    np.testing.assert_allclose(eo.bartlett(7).eval(), np.bartlett(7))
    f = m.copy()
    np.fill_diagonal(f, 9.0)
    np.testing.assert_array_equal(eo.fill_diagonal(m, 9.0).eval(), f)
    want = m.copy()
    want[np.arange(1, 3), np.arange(0, 2)] = [7.0, 8.0]
    np.testing.assert_array_equal(eo.fill_diagonal_offset(m, np.array([7.0, 8.0]), -1).eval(),
                                  want)
    idx = np.array([0, 5, 11])
    for g, w in zip(eo.unravel_index(idx, (3, 4)), np.unravel_index(idx, (3, 4)), strict=True):
        np.testing.assert_array_equal(g.eval(), w)
    for g, w in zip(eo.unravel_index(idx, (3, 4), order="F"),
                    np.unravel_index(idx, (3, 4), order="F"), strict=True):
        np.testing.assert_array_equal(g.eval(), w)
    multi = (np.array([0, 2, 1]), np.array([3, 0, 5]))
    np.testing.assert_array_equal(eo.ravel_multi_index(multi, (3, 4), mode="clip").eval(),
                                  np.ravel_multi_index(multi, (3, 4), mode="clip"))
    np.testing.assert_array_equal(eo.ravel_multi_index(multi, (3, 4), mode="wrap",
                                                       order="F").eval(),
                                  np.ravel_multi_index(multi, (3, 4), mode="wrap", order="F"))
    outs = eo.broadcast_arrays(np.ones((2, 1)), np.arange(3.0))
    for g, w in zip(outs, np.broadcast_arrays(np.ones((2, 1)), np.arange(3.0)), strict=True):
        np.testing.assert_array_equal(g.eval(), w)
    assert [int(d.eval()) for d in eo.broadcast_shape(np.ones((2, 1)), np.ones(3))] == [2, 3]
    np.testing.assert_allclose(eo.geomspace(1.0, 1000.0, 4).eval(), np.geomspace(1, 1000, 4))
    np.testing.assert_allclose(eo.logspace(0.0, 2.0, 5, base=2.0).eval(),
                               np.logspace(0, 2, 5, base=2.0))
    check_grads(lambda v: eo.diff(v, 2) ** 2, [m], mode="numpy")
    check_grads(lambda v: eo.fill_diagonal(v, 0.5) * v, [m], mode="numpy")


def test_special_matches_scipy() -> None:
    from gnomon.tensor import special

    z = RNG.normal(size=(2, 5))
    np.testing.assert_allclose(special.softmax(z, axis=1).eval(),
                               scipy.special.softmax(z, axis=1))
    np.testing.assert_allclose(special.log_softmax(z, axis=0).eval(),
                               scipy.special.log_softmax(z, axis=0))
    p = RNG.uniform(0.5, 4.0, size=4)
    np.testing.assert_allclose(special.poch(p, 2.5).eval(), scipy.special.poch(p, 2.5))
    np.testing.assert_allclose(special.factorial(np.arange(6.0)).eval(),
                               scipy.special.factorial(np.arange(6)))
    np.testing.assert_allclose(special.beta(p, 1.5).eval(), scipy.special.beta(p, 1.5))


def test_graph_basic_and_rewriting_utils() -> None:
    from gnomon.graph.basic import ancestors, graph_inputs
    from gnomon.graph.rewriting.utils import rewrite_graph

    x, y = pt.dscalars("x", "y")
    out = x * y / x
    roots = graph_inputs(out)
    assert set(roots) == {x, y}
    assert out in set(ancestors(out)) and x in set(ancestors([out]))
    assert rewrite_graph(out) is y  # one variable in, one out
    assert rewrite_graph([out, x + 0.0], include=("canonicalize",)) == [y, x]


def test_graph_basic_walks() -> None:
    from gnomon.graph.basic import (
        applys_between,
        clone,
        equal_computations,
        io_toposort,
        orphans_between,
        vars_between,
    )

    x, y = pt.dscalars("x", "y")
    z = pt.exp(y) * 2.0
    out = x * z + 1.0
    assert [str(n.op) for n in applys_between([x], [out])] == ["Elemwise(mul)", "Elemwise(add)"]
    assert vars_between([x], [out]) == [x, x * z, out]
    assert set(orphans_between([x], [out])) == {y, pt.constant(2.0), pt.constant(1.0)}
    assert len(io_toposort([x, y], [out])) == 4
    assert equal_computations([x * 2.0 + 1.0], [y * 2.0 + 1.0], [x], [y])
    assert not equal_computations([x * 2.0], [y * 3.0], [x], [y])
    (x2,), (out2,) = clone([x], [out])
    assert x2 is not x and float(out2.eval({x2: 1.0, y: 0.0})) == 3.0
    from gnomon.graph.basic import walk
    from gnomon.graph.replace import vectorize_node

    parents = lambda v: v.owner.inputs if v.owner is not None else []  # noqa: E731
    assert set(walk([out], parents)) == set(graph_inputs_all(out))
    node = pt.exp(pt.dvector("v")).owner
    batched = vectorize_node(node, pt.dmatrix("vs"))
    assert batched.outputs[0].type.ndim == 2 and str(batched.op) == "Elemwise(exp)"


def graph_inputs_all(out):
    from gnomon.graph.basic import ancestors

    return list(ancestors(out))


def test_printing_print_op_prints_and_passes_gradients(capsys) -> None:
    from gnomon.printing import Print

    x = pt.dvector("x")
    shown = Print("x is", attrs=("shape", "sum"))(x)
    f = gnomon.function([x], [shown * 2.0, gnomon.grad(pt.sum(shown ** 2), x)])
    out, g = f(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, [2.0, 4.0])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    text = capsys.readouterr().out
    assert "x is shape = (2,)" in text and "x is sum = 3.0" in text
    seen = []
    h = gnomon.function([x], Print(global_fn=lambda op, v: seen.append(v.copy()))(x) + 1.0)
    h(np.array([5.0]))
    assert [s.tolist() for s in seen] == [[5.0]]


# --- vectorize_graph ------------------------------------------------------------------------


def test_vectorize_graph_batches_elemwise_reductions_and_products() -> None:
    from gnomon.graph.replace import vectorize_graph

    x, y, A = pt.dvector("x"), pt.dvector("y"), pt.dmatrix("A")
    out = pt.exp(x) * pt.sum(y) + A @ x - x.mean() + pt.softmax(x)
    xs, ys = pt.dmatrix("xs"), pt.dtensor3("ys")
    batched = vectorize_graph(out, {x: xs, y: ys})
    assert batched.type.ndim == 3
    xv, yv, Av = RNG.normal(size=(4, 3)), RNG.normal(size=(2, 4, 3)), RNG.normal(size=(3, 3))

    def one(xr, yr):
        e = np.exp(xr - xr.max())
        return np.exp(xr) * yr.sum() + Av @ xr - xr.mean() + e / e.sum()

    want = np.array([[one(xv[j], yv[i, j]) for j in range(4)] for i in range(2)])
    f = gnomon.function([xs, ys, A], batched)
    np.testing.assert_allclose(f(xv, yv, Av), want, rtol=1e-12)
    # an output that does not depend on a replaced input comes back as it is
    same, other = vectorize_graph([out, A * 2.0], {x: xs})
    assert other is A * 2.0 and same.type.ndim == 2


def test_vectorize_graph_maps_ops_without_a_batched_rule() -> None:
    from gnomon.graph.replace import vectorize_graph

    m = pt.dmatrix("m")
    out = pt.linalg.det(m) + pt.sum(pt.reshape(m, (-1,)) * pt.cast(m.shape[0], "float64"))
    ms = pt.dtensor3("ms")
    mv = RNG.normal(size=(5, 3, 3))
    got = vectorize_graph(out, {m: ms}).eval({ms: mv})
    np.testing.assert_allclose(got, np.linalg.det(mv) + mv.sum((1, 2)) * 3, rtol=1e-12)
    # two batch dimensions through the scan fallback (cholesky has no direct rule)
    c = pt.cholesky(m)
    m4 = pt.dtensor4("m4")
    spd = np.stack([np.stack([_spd(2) for _ in range(3)]) for _ in range(2)])
    np.testing.assert_allclose(vectorize_graph(c, {m: m4}).eval({m4: spd}),
                               np.linalg.cholesky(spd), rtol=1e-12)


def test_vectorize_graph_refuses_a_replacement_of_another_dtype() -> None:
    from gnomon.graph.replace import vectorize_graph

    x = pt.dvector("x")
    with pytest.raises(gnomon.errors.GnomonValueError, match="cannot replace"):
        vectorize_graph(x * 2.0, {x: pt.fmatrix("xs")})
    with pytest.raises(gnomon.errors.GnomonValueError, match="cannot replace"):
        vectorize_graph(x * 2.0, {x: pt.dscalar("s")})
