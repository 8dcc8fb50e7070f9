"""PyTensor's function objects (issue #17): ``In``/``Out``, ``Function.copy``, ``f.maker.fgraph``,
pickling, ``Mode(linker=, optimizer=)`` and mode strings, ``config`` flags; compared with NumPy.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import gnomon
import gnomon.tensor as pt
from gnomon.compile.io import In, Out
from gnomon.compile.mode import Mode
from gnomon.errors import GnomonTypeError, GnomonValueError
from gnomon.graph.basic import Constant
from gnomon.testing import available_modes

MODES = available_modes()


# --- In / Out ------------------------------------------------------------------------------------


def test_in_defaults_names_and_keywords() -> None:
    x, y, z = pt.dvector("x"), pt.dscalar("y"), pt.dscalar("z")
    f = gnomon.function([x, In(y, value=2.0), In(z, value=-1.0, name="shift")],
                        x * y + z, mode="numpy")
    xv = np.array([1.0, 2.5])
    np.testing.assert_allclose(f(xv), xv * 2.0 - 1.0)
    np.testing.assert_allclose(f(xv, 3.0), xv * 3.0 - 1.0)
    np.testing.assert_allclose(f(xv, shift=4.0), xv * 2.0 + 4.0)
    np.testing.assert_allclose(f(x=xv, y=0.5, shift=0.0), xv * 0.5)
    f[y] = 10.0  # change a default by variable ...
    f["shift"] = 1.0  # ... or by name
    assert float(f[y]) == 10.0 and float(f["shift"]) == 1.0
    np.testing.assert_allclose(f(xv), xv * 10.0 + 1.0)
    with pytest.raises(GnomonTypeError, match="missing value for input"):
        f(y=1.0)
    with pytest.raises(GnomonTypeError, match="takes 3 argument"):
        f()
    with pytest.raises(KeyError, match="no default"):
        f[x]
    with pytest.raises(GnomonValueError, match="not supported"):
        In(y, update=y + 1)


def test_in_strict_mutable_and_allow_downcast() -> None:
    x, y = pt.dvector("x"), pt.fvector("y")
    f = gnomon.function([In(x, strict=True, mutable=True), In(y, allow_downcast=True)],
                        [x * 2.0, y + 1], mode="numpy")
    arg = np.array([1.0, 2.0])
    a, b = f(arg, np.array([0.5, 1.5]))  # float64 into a float32 input: allowed for y
    np.testing.assert_allclose(a, [2.0, 4.0])
    assert b.dtype == np.float32 and b.tolist() == [1.5, 2.5]
    assert arg.tolist() == [1.0, 2.0]  # mutable=True never changes the caller's array
    with pytest.raises(GnomonTypeError, match="strict"):
        f([1.0, 2.0], np.zeros(2))  # a list is not a float64 array: no conversion when strict
    with pytest.raises(GnomonTypeError, match="strict"):
        f(np.array([1, 2]), np.zeros(2))


def test_out_borrow_results_stay_the_callers() -> None:
    x = pt.dvector("x")
    f = gnomon.function([x], [Out(x * 2.0, borrow=True), Out(x + 1.0)], mode="numpy")
    r1 = f(np.array([1.0, 2.0]))
    r2 = f(np.array([5.0, 6.0]))
    np.testing.assert_allclose(r1[0], [2.0, 4.0])  # not overwritten by the next call
    np.testing.assert_allclose(r2[0], [10.0, 12.0])
    np.testing.assert_allclose(r1[1], [2.0, 3.0])
    g = gnomon.function([x], Out(x.sum()), mode="numpy")
    assert float(g(np.array([1.0, 2.0]))) == 3.0


# --- copy ----------------------------------------------------------------------------------------


def test_copy_swap_and_delete_updates() -> None:
    state = gnomon.shared(0.0, name="state")
    inc = pt.dscalar("inc")
    acc = gnomon.function([inc], state, updates=[(state, state + inc)], mode="numpy")
    acc(10.0)
    assert float(state.get_value()) == 10.0
    new_state = gnomon.shared(100.0, name="new_state")
    acc2 = acc.copy(swap={state: new_state})
    assert float(acc2(1.0)) == 100.0  # reads the swapped variable
    assert float(new_state.get_value()) == 101.0 and float(state.get_value()) == 10.0
    acc3 = acc.copy(delete_updates=True)
    assert float(acc3(5.0)) == 10.0 and float(state.get_value()) == 10.0  # no update
    acc4 = acc.copy()  # without swap the copy reads and updates the same shared variable
    acc4(2.0)
    assert float(state.get_value()) == 12.0
    with pytest.raises(GnomonTypeError, match="has type"):
        acc.copy(swap={state: gnomon.shared(np.zeros(2))})
    with pytest.raises(GnomonValueError, match="not a shared variable of this function"):
        acc.copy(swap={gnomon.shared(1.0): new_state})


def test_copy_keeps_its_own_defaults() -> None:
    x, y = pt.dscalar("x"), pt.dscalar("y")
    f = gnomon.function([x, In(y, value=1.0)], x - y, mode="numpy")
    g = f.copy(share_memory=True)
    g[y] = 5.0
    assert float(f(10.0)) == 9.0 and float(g(10.0)) == 5.0


# --- maker.fgraph --------------------------------------------------------------------------------


def test_maker_fgraph_shows_the_compiled_graph() -> None:
    w = gnomon.shared(np.array([0.5, -0.5]), name="w")
    x = pt.dmatrix("x")
    cost = pt.sum(pt.log(1 + pt.exp(pt.dot(x, w))))
    f = gnomon.function([x], cost, updates=[(w, w - 0.1 * gnomon.grad(cost, w))], mode="numpy")
    fg = f.maker.fgraph
    assert fg.inputs[:1] == [x] and w in fg.inputs
    assert len(fg.outputs) == 2  # the output, then the new value of w
    assert fg.update_mapping == {1: fg.inputs.index(w)}
    order = fg.toposort()
    assert set(order) == fg.apply_nodes
    known = set(fg.inputs)
    for node in order:  # every node reads inputs, constants or earlier nodes' outputs
        assert all(v in known or isinstance(v, Constant) for v in node.inputs)
        known.update(node.outputs)
    assert all(o in known for o in fg.outputs)
    assert [s.variable for s in f.maker.inputs] == [x]
    assert any(n.op is not None and "softplus" in str(n.op) for n in order)  # rewritten graph
    xv = np.array([[1.0, 2.0], [0.5, -1.0]])
    np.testing.assert_allclose(f(xv), np.sum(np.log1p(np.exp(xv @ np.array([0.5, -0.5])))))


# --- pickling ------------------------------------------------------------------------------------


def test_pickled_sgd_step_gives_the_same_results() -> None:
    """Logistic regression, one SGD step per call; the pickled copy continues from the stored
    weights while the original's shared variable is left alone (PyTensor's behaviour)."""
    rng = np.random.default_rng(3)
    xs = rng.normal(size=(6, 3))
    ys = (rng.uniform(size=6) < 0.5).astype(float)
    w = gnomon.shared(np.zeros(3), name="w")
    x, y, lr = pt.dmatrix("x"), pt.dvector("y"), pt.dscalar("lr")
    p = pt.sigmoid(pt.dot(x, w))
    nll = -pt.mean(y * pt.log(p) + (1 - y) * pt.log(1 - p))
    step = gnomon.function([x, y, In(lr, value=0.5)], nll,
                           updates=[(w, w - lr * gnomon.grad(nll, w))], mode="numpy")

    def np_step(wv: np.ndarray, lr: float = 0.5) -> tuple[float, np.ndarray]:
        pv = 1 / (1 + np.exp(-xs @ wv))
        loss = -np.mean(ys * np.log(pv) + (1 - ys) * np.log(1 - pv))
        return loss, wv - lr * xs.T @ (pv - ys) / len(ys)

    step(xs, ys)
    w_saved = np.array(w.get_value())
    g, w2 = pickle.loads(pickle.dumps((step, w)))
    assert w2 is not w
    np.testing.assert_allclose(w2.get_value(), w_saved)
    loss_g = float(g(xs, ys))  # the loaded function keeps the In default lr=0.5
    ref_loss, ref_w = np_step(w_saved)
    np.testing.assert_allclose(loss_g, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(w2.get_value(), ref_w, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), w_saved)  # the original is untouched
    np.testing.assert_allclose(float(step(xs, ys)), ref_loss, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), ref_w, rtol=1e-12)
    assert g.mode == step.mode


@pytest.mark.parametrize("mode", MODES)
def test_pickled_function_on_every_backend(mode: str) -> None:
    """A small function with a default, a shared variable and an update, on each backend."""
    s = gnomon.shared(np.array([1.0, 2.0]), name="s")
    x, a = pt.dvector("x"), pt.dscalar("a")
    f = gnomon.function([x, In(a, value=3.0)], x * a + s, updates=[(s, s * 2.0)], mode=mode)
    xv = np.array([0.5, -1.0])
    np.testing.assert_allclose(np.asarray(f(xv)), xv * 3.0 + [1.0, 2.0])
    g, s2 = pickle.loads(pickle.dumps((f, s)))
    np.testing.assert_allclose(np.asarray(s2.get_value()), [2.0, 4.0])  # stored value
    np.testing.assert_allclose(np.asarray(g(xv)), xv * 3.0 + [2.0, 4.0])
    np.testing.assert_allclose(np.asarray(s2.get_value()), [4.0, 8.0])
    np.testing.assert_allclose(np.asarray(s.get_value()), [2.0, 4.0])  # the original's
    assert g.mode == f.mode and float(g["a"]) == 3.0  # by name: the loaded graph has its own a


# --- Mode and mode strings -----------------------------------------------------------------------


def test_mode_accepts_pytensor_linker_and_optimizer_names() -> None:
    assert Mode(linker="py", optimizer="fast_compile") == Mode("numpy", optimize=False)
    assert Mode("py", "fast_run") == Mode("numpy")
    assert Mode(linker="cvm").backend == "c" and Mode(linker="vm").backend == "numpy"
    assert Mode(linker="numba", optimizer=None).optimize is False
    assert Mode(linker="jax").linker == "jax" and Mode().optimizer == "fast_run"
    with pytest.raises(GnomonValueError, match="optimizer"):
        Mode(linker="py", optimizer="o2")
    with pytest.raises(GnomonValueError, match="PyTorch"):
        gnomon.function([pt.dscalar("a")], pt.dscalar("a") * 1, mode="PYTORCH")
    with pytest.raises(GnomonValueError, match="not a mode"):
        gnomon.function([], pt.constant(1.0), mode="FAST_WALK")


def test_mode_strings_compile_and_agree() -> None:
    x = pt.dvector("x")
    y = pt.log(1 + pt.exp(x)) * 2.0
    xv = np.array([-3.0, 0.5, 4.0])
    expected = np.logaddexp(0.0, xv) * 2.0
    names = ["FAST_RUN", "FAST_COMPILE"] + [n.upper() for n in MODES if n != "numpy"]
    for name in [*names, Mode(linker="py", optimizer=None)]:
        f = gnomon.function([x], y, mode=name)
        np.testing.assert_allclose(np.asarray(f(xv)), expected, rtol=1e-12, err_msg=str(name))
    assert gnomon.function([x], y, mode="FAST_COMPILE").mode.optimize is False


# --- config flags --------------------------------------------------------------------------------


def test_config_flags_with_pytensor_names() -> None:
    cfg = gnomon.config
    with cfg.change_flags(floatX="float32"):
        assert pt.vector("v").dtype == "float32"
    assert pt.vector("v").dtype == "float64"
    x, unused = pt.dscalar("x"), pt.dscalar("unused")
    with cfg.change_flags(on_unused_input="ignore"):
        assert float(gnomon.function([x, unused], x + 1, mode="numpy")(1.0, 2.0)) == 2.0
    y = pt.log(1 + pt.exp(x))
    with cfg.change_flags(linker="py"):
        assert gnomon.function([x], y, mode="FAST_RUN").mode.backend == "numpy"
        with cfg.change_flags(optimizer="None"):
            ops = [str(n.op) for n in gnomon.function([x], y).maker.fgraph.toposort()]
            assert ops == ["Elemwise(exp)", "Elemwise(add)", "Elemwise(log)"]
        with cfg.change_flags(optimizer_excluding="stabilize:fusion"):
            f = gnomon.function([x], y)
            assert "softplus" not in " ".join(str(n.op) for n in f.maker.fgraph.toposort())
            assert float(f(0.5)) == pytest.approx(np.logaddexp(0.0, 0.5), rel=1e-12)
    assert cfg.linker == "auto" and cfg.compute_test_value == "off"
    cfg.compute_test_value = "off"  # what PyTensor scripts set: accepted
    with pytest.raises(ValueError, match="no test values"):
        cfg.compute_test_value = "raise"
    with pytest.raises(AttributeError, match="means nothing in gnomon"):
        cfg.allow_gc = False
    with pytest.raises(AttributeError, match="did you mean 'floatX'"):
        cfg.floatx = "float32"
    with pytest.raises(AttributeError, match="no setting 'nonsense'"):
        cfg.nonsense
