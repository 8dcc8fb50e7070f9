"""User-defined ops written the way PyTensor documents them (issue #17), on every backend.

Each op is written with PyTensor's protocol only (``itypes``/``otypes`` or ``make_node``
returning ``Apply(self, inputs, outputs)``, ``perform(node, inputs, output_storage)``,
``__props__``, ``grad`` / ``L_op`` / ``R_op``, ``infer_shape(fgraph, node, input_shapes)``,
``as_op``) and compared with NumPy and with finite differences of the NumPy code.
"""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

import gnomon
import gnomon.tensor as pt
from gnomon.compile.ops import as_op
from gnomon.errors import GnomonTypeError, GnomonValueError, NullGradientError
from gnomon.gradient import disconnected_type
from gnomon.graph.basic import Apply
from gnomon.graph.op import Op
from gnomon.testing import available_modes

MODES = available_modes()


@contextlib.contextmanager
def _jitted(mode: str) -> Iterator[None]:
    """Under mode='jax', fail if the function falls back to running op by op: the user ops
    here must run under jax.jit (through pure_callback)."""
    with warnings.catch_warnings():
        if mode == "jax":
            from gnomon.backends.jax import JaxFallbackWarning

            warnings.simplefilter("error", JaxFallbackWarning)
        yield


# --- a black-box likelihood (the PyMC/PyTensor tutorial's pattern) ------------------------------

RNG = np.random.default_rng(17)
XS = np.linspace(0.0, 9.0, 10)
DATA = 0.7 * XS + 1.5 + RNG.normal(0.0, 0.5, XS.size)
SIGMA = 0.5


def np_loglike(theta: np.ndarray) -> float:
    """The external code: a straight-line Gaussian log-likelihood, NumPy only."""
    m, c = theta
    r = DATA - (m * XS + c)
    return float(-0.5 * np.sum(r**2) / SIGMA**2 - XS.size * np.log(np.sqrt(2 * np.pi) * SIGMA))


def np_loglike_grad(theta: np.ndarray) -> np.ndarray:
    m, c = theta
    r = DATA - (m * XS + c)
    return np.array([np.sum(r * XS), np.sum(r)]) / SIGMA**2


def fd_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.zeros_like(x)
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        out.flat[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return out


class LogLikeGrad(Op):
    itypes = [pt.dvector]
    otypes = [pt.dvector]

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        (theta,) = inputs
        output_storage[0][0] = np_loglike_grad(theta)

    def infer_shape(self, fgraph, node, input_shapes):  # type: ignore[no-untyped-def]
        return [input_shapes[0]]


class LogLike(Op):
    itypes = [pt.dvector]
    otypes = [pt.dscalar]

    def __init__(self) -> None:
        self.logpgrad = LogLikeGrad()

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        (theta,) = inputs
        output_storage[0][0] = np.array(np_loglike(theta))

    def grad(self, inputs, output_grads):  # type: ignore[no-untyped-def]
        (theta,) = inputs
        return [output_grads[0] * self.logpgrad(theta)]


LOGLIKE = LogLike()


@pytest.mark.parametrize("mode", MODES)
def test_black_box_likelihood_value_and_gradient(mode: str) -> None:
    theta = pt.dvector("theta")
    ll = LOGLIKE(theta)
    f = gnomon.function([theta], [ll, gnomon.grad(ll, theta)], mode=mode)
    for point in (np.array([0.4, 2.0]), np.array([1.1, -0.3])):
        with _jitted(mode):
            val, g = f(point)
        np.testing.assert_allclose(val, np_loglike(point), rtol=1e-12)
        np.testing.assert_allclose(g, np_loglike_grad(point), rtol=1e-12)
        np.testing.assert_allclose(g, fd_grad(np_loglike, point), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_black_box_likelihood_inside_scan_and_ifelse(mode: str) -> None:
    thetas, theta = pt.dmatrix("thetas"), pt.dvector("theta")
    flag = pt.dscalar("flag")
    total, _ = gnomon.scan(lambda th, acc: acc + LOGLIKE(th), sequences=thetas,
                           outputs_info=pt.constant(0.0))
    chosen = gnomon.ifelse(pt.gt(flag, 0.0), LOGLIKE(theta), LOGLIKE(theta) * 2.0)
    cost = total[-1] + chosen
    f = gnomon.function([thetas, theta, flag], [cost, *gnomon.grad(cost, [thetas, theta])],
                        mode=mode)
    pts, pt0 = np.array([[0.4, 2.0], [1.1, -0.3], [0.7, 1.5]]), np.array([0.9, 0.2])
    for fl in (1.0, -1.0):
        with _jitted(mode):
            val, g_pts, g_pt0 = f(pts, pt0, fl)
        scale = 1.0 if fl > 0 else 2.0
        np.testing.assert_allclose(val, sum(np_loglike(r) for r in pts)
                                   + scale * np_loglike(pt0), rtol=1e-12)
        np.testing.assert_allclose(g_pts, np.array([fd_grad(np_loglike, r) for r in pts]),
                                   rtol=1e-6)
        np.testing.assert_allclose(g_pt0, scale * fd_grad(np_loglike, pt0), rtol=1e-6)


# --- make_node with Apply, __props__, infer_shape, rewrites --------------------------------------


class Scale(Op):
    """``factor * x`` with a shape rule; counts its perform calls."""

    __props__ = ("factor",)
    calls = 0

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def make_node(self, x):  # type: ignore[no-untyped-def]
        x = pt.as_tensor(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        output_storage[0][0] = self.factor * inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):  # type: ignore[no-untyped-def]
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):  # type: ignore[no-untyped-def]
        return [self.factor * output_grads[0]]


def test_props_give_equality_hashing_and_merging() -> None:
    x = pt.dmatrix("x")
    assert Scale(2.0) == Scale(2.0) and hash(Scale(2.0)) == hash(Scale(2.0))
    assert Scale(2.0) != Scale(3.0)
    assert Scale(2.0)(x) is Scale(2.0)(x)  # equal op on the same input: one node
    assert Scale(2.0)(x) is not Scale(3.0)(x)
    assert str(Scale(2.0)) == "Scale{factor=2.0}"


def test_infer_shape_gives_the_shape_without_running_the_op() -> None:
    x = pt.dmatrix("x")
    before = Scale.calls
    f = gnomon.function([x], Scale(2.0)(x).shape, mode="numpy")
    np.testing.assert_array_equal(f(np.ones((3, 4))), [3, 4])
    assert Scale.calls == before  # the shape came from infer_shape, perform never ran


class NoFold(Op):
    """An op whose do_constant_folding refuses: it must run at every call."""

    itypes = [pt.dscalar]
    otypes = [pt.dscalar]
    calls = 0

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        output_storage[0][0] = inputs[0] + 1.0

    def do_constant_folding(self, fgraph, node):  # type: ignore[no-untyped-def]
        return False


def test_do_constant_folding_false_keeps_the_node() -> None:
    a = pt.dscalar("a")
    out = NoFold()(pt.constant(1.0)) + a
    f = gnomon.function([a], out, mode="numpy")
    assert NoFold.calls == 0  # not folded at compile time
    assert float(f(1.0)) == 3.0 and float(f(2.0)) == 4.0
    assert NoFold.calls == 2


# --- R_op via Rop, L_op with several outputs ---------------------------------------------------


class Cube(Op):
    __props__ = ()
    r_op_calls = 0

    def make_node(self, x):  # type: ignore[no-untyped-def]
        x = pt.as_tensor(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        output_storage[0][0] = inputs[0] ** 3

    def infer_shape(self, fgraph, node, input_shapes):  # type: ignore[no-untyped-def]
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):  # type: ignore[no-untyped-def]
        return [3.0 * inputs[0] ** 2 * output_grads[0]]

    def R_op(self, inputs, eval_points):  # type: ignore[no-untyped-def]
        type(self).r_op_calls += 1
        return [3.0 * inputs[0] ** 2 * eval_points[0]]


@pytest.mark.parametrize("mode", MODES)
def test_make_node_ops_with_grad_and_r_op(mode: str) -> None:
    x, v = pt.dvector("x"), pt.dvector("v")
    y = Cube()(x)
    rop = getattr(gnomon.gradient, "Rop", None)
    before = Cube.r_op_calls
    jv = rop(y, x, v) if rop is not None else gnomon.gradient.pushforward(y, x, v)
    assert Cube.r_op_calls > before  # the op's own R_op, not one derived from L_op
    # a difference of two different user ops is not rewritten away (x*2 - x*3 = -x)
    diff = Scale(2.0)(x) - Scale(3.0)(x)
    g = gnomon.grad(pt.sum(Scale(2.0)(x) * x + y), x)
    f = gnomon.function([x, v], [jv, diff, g], mode=mode)
    xv, vv = np.array([0.5, -1.2, 2.0]), np.array([1.0, 0.3, -0.7])
    with _jitted(mode):
        out_jv, out_diff, out_g = f(xv, vv)
    np.testing.assert_allclose(out_jv, 3 * xv**2 * vv, rtol=1e-12)
    eps = 1e-6
    np.testing.assert_allclose(out_jv, ((xv + eps * vv) ** 3 - (xv - eps * vv) ** 3)
                               / (2 * eps), rtol=1e-6)
    np.testing.assert_allclose(out_diff, -xv)
    np.testing.assert_allclose(out_g, fd_grad(lambda t: np.sum(2 * t * t + t**3), xv),
                               rtol=1e-6)


class SumProd(Op):
    """Two outputs; the cost below uses only the first, so the op's L_op gets zeros for the
    other (PyTensor hands every output a gradient)."""

    __props__ = ()

    def make_node(self, x):  # type: ignore[no-untyped-def]
        x = pt.as_tensor(x)
        return Apply(self, [x], [pt.dscalar(), pt.dscalar()])

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        output_storage[0][0] = np.sum(inputs[0])
        output_storage[1][0] = np.prod(inputs[0])

    def L_op(self, inputs, outputs, output_grads):  # type: ignore[no-untyped-def]
        gs, gp = output_grads
        (x,) = inputs
        return [gs * pt.ones_like(x) + gp * outputs[1] / x]


def test_l_op_of_a_multi_output_op() -> None:
    x = pt.dvector("x")
    s, p = SumProd()(x)
    f = gnomon.function([x], [gnomon.grad(s, x), gnomon.grad(p, x), gnomon.grad(s + 2 * p, x)],
                        mode="numpy")
    xv = np.array([0.5, 2.0, -1.5])
    gs, gp, gb = f(xv)
    np.testing.assert_allclose(gs, np.ones(3))
    np.testing.assert_allclose(gp, fd_grad(np.prod, xv), rtol=1e-6)
    np.testing.assert_allclose(gb, 1.0 + 2 * fd_grad(np.prod, xv), rtol=1e-6)


class Destroyer(Op):
    """Declares that it overwrites its input."""

    itypes = [pt.dvector]
    otypes = [pt.dvector]
    destroy_map = {0: [0]}

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        inputs[0] *= 2.0
        output_storage[0][0] = inputs[0]


class Power(Op):
    """perform takes PyTensor's fifth argument, the op's params (from get_params)."""

    itypes = [pt.dvector]
    otypes = [pt.dvector]
    __props__ = ("p",)

    def __init__(self, p: float) -> None:
        self.p = p

    def get_params(self, node):  # type: ignore[no-untyped-def]
        return self.p

    def perform(self, node, inputs, output_storage, params):  # type: ignore[no-untyped-def]
        output_storage[0][0] = inputs[0] ** params


class Shift(Op):
    """``x + k`` with an integer ``k`` whose gradient is disconnected (PyTensor's marker)."""

    itypes = [pt.dvector, pt.lscalar]
    otypes = [pt.dvector]

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        output_storage[0][0] = inputs[0] + inputs[1]

    def grad(self, inputs, output_grads):  # type: ignore[no-untyped-def]
        return [output_grads[0], disconnected_type()]


def test_disconnected_type_gradient() -> None:
    x, k = pt.dvector("x"), pt.lscalar("k")
    y = pt.sum(Shift()(x, k) ** 2)
    f = gnomon.function([x, k], [y, gnomon.grad(y, x)], mode="numpy")
    val, g = f(np.array([1.0, -2.0]), 3)
    assert float(val) == 16.0 + 1.0
    np.testing.assert_allclose(g, 2 * (np.array([1.0, -2.0]) + 3))


def test_perform_with_params() -> None:
    x = pt.dvector("x")
    f = gnomon.function([x], [Power(2.0)(x), Power(3.0)(x)], mode="numpy")
    sq, cu = f(np.array([2.0, -1.5]))
    np.testing.assert_allclose(sq, [4.0, 2.25])
    np.testing.assert_allclose(cu, [8.0, -3.375])


# --- as_op -------------------------------------------------------------------------------------


@as_op(itypes=[pt.dmatrix, pt.dvector], otypes=[pt.dvector],
       infer_shape=lambda fgraph, node, shapes: [(shapes[0][0],)])
def np_solve(a, b):  # type: ignore[no-untyped-def]
    return np.linalg.solve(a, b)


@as_op(itypes=[pt.dvector], otypes=[pt.dvector, pt.dscalar])
def np_sorted_and_max(v):  # type: ignore[no-untyped-def]
    return np.sort(v), np.max(v)


@pytest.mark.parametrize("mode", MODES)
def test_as_op_on_every_backend(mode: str) -> None:
    a, b, v = pt.dmatrix("a"), pt.dvector("b"), pt.dvector("v")
    srt, mx = np_sorted_and_max(v)
    # Destroyer overwrites its input (declared in destroy_map): gnomon gives it a copy
    f = gnomon.function([a, b, v], [np_solve(a, b) * 2.0, srt, mx, Destroyer()(v), v + 1.0],
                        mode=mode)
    av = np.array([[3.0, 1.0], [1.0, 2.0]])
    bv, vv = np.array([9.0, 8.0]), np.array([3.0, -1.0, 2.5])
    with warnings.catch_warnings():
        # mode='jax': np_sorted_and_max has no infer_shape, so that function runs op by op
        warnings.simplefilter("ignore")
        x, s, m, d, w = f(av, bv, vv)
    np.testing.assert_allclose(x, 2.0 * np.linalg.solve(av, bv), rtol=1e-12)
    np.testing.assert_allclose(d, 2.0 * vv)
    np.testing.assert_allclose(w, vv + 1.0)
    assert vv.tolist() == [3.0, -1.0, 2.5]  # the caller's array is untouched
    np.testing.assert_array_equal(s, np.sort(vv))
    assert float(m) == 3.0


def test_as_op_has_no_gradient_and_pickles_by_reference() -> None:
    a, b = pt.dmatrix("a"), pt.dvector("b")
    y = np_solve(a, b)
    with pytest.raises(NullGradientError):
        gnomon.grad(pt.sum(y), b)
    assert np_solve == np_solve and str(np_solve) == "FromFunctionOp{np_solve}"
    f = gnomon.function([a, b], y, mode="numpy")
    g = pickle.loads(pickle.dumps(f))
    av, bv = np.array([[2.0, 0.0], [1.0, 4.0]]), np.array([2.0, 9.0])
    np.testing.assert_allclose(g(av, bv), np.linalg.solve(av, bv))
    assert b"np_solve" in pickle.dumps(f)


def test_jax_needs_output_shapes_under_jit() -> None:
    """Without static output types or infer_shape, mode='jax' warns and runs op by op."""
    pytest.importorskip("jax")
    from gnomon.backends.jax import JaxFallbackWarning

    v = pt.dvector("v")
    srt, _ = np_sorted_and_max(v)
    f = gnomon.function([v], srt, mode="jax")
    with pytest.warns(JaxFallbackWarning):
        out = f(np.array([2.0, 1.0]))
    np.testing.assert_array_equal(np.asarray(out), [1.0, 2.0])


# --- clear errors --------------------------------------------------------------------------------


class Forgetful(Op):
    itypes = [pt.dvector]
    otypes = [pt.dvector]

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        pass


class WrongRank(Op):
    itypes = [pt.dvector]
    otypes = [pt.dvector]

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        output_storage[0][0] = np.sum(inputs[0])


class InPlace(Op):
    itypes = [pt.dvector]
    otypes = [pt.dvector]

    def perform(self, node, inputs, output_storage):  # type: ignore[no-untyped-def]
        inputs[0] *= 2.0  # writes into its input without declaring destroy_map
        output_storage[0][0] = inputs[0]


def test_errors_name_the_problem() -> None:
    v = pt.dvector("v")
    with pytest.raises(GnomonValueError, match=r"did not set output_storage\[0\]\[0\]"):
        gnomon.function([v], Forgetful()(v), mode="numpy")(np.ones(2))
    with pytest.raises(GnomonValueError, match=r"0 dimension.*has 1"):
        gnomon.function([v], WrongRank()(v), mode="numpy")(np.ones(2))
    arg = np.ones(2)
    with pytest.raises(ValueError, match="read-only"):
        gnomon.function([v], InPlace()(v), mode="numpy")(arg)
    assert arg.tolist() == [1.0, 1.0]
    with pytest.raises(GnomonTypeError, match="input 0 of LogLike must be"):
        LOGLIKE(pt.dmatrix("m"))
    with pytest.raises(GnomonTypeError, match="takes 1 input"):
        LOGLIKE(v, v)
    with pytest.raises(TypeError, match="new variables of the output types"):
        Apply(Cube(), [v], [v * 2.0])


# --- OpFromGraph at PyTensor's path, with PyTensor's override keywords ---------------------------


def test_opfromgraph_from_compile_builders_with_overrides() -> None:
    from gnomon.compile.builders import OpFromGraph

    x, y = pt.dscalar("x"), pt.dscalar("y")
    # gradients scaled by 10, to tell the overrides from the derived gradient
    lop = OpFromGraph([x, y], [x * y],
                      lop_overrides=lambda ins, outs, gs: [10 * gs[0] * ins[1],
                                                           10 * gs[0] * ins[0]])
    grd = OpFromGraph([x, y], [x * y], grad_overrides=lambda ins, gs: [10 * gs[0] * ins[1],
                                                                       None])
    a, b = pt.dscalar("a"), pt.dscalar("b")
    f = gnomon.function([a, b], [lop(a, b), *gnomon.grad(lop(a, b), [a, b]),
                                 gnomon.grad(grd(a, b), a)], mode="numpy")
    assert [float(v) for v in f(2.0, 3.0)] == [6.0, 30.0, 20.0, 30.0]
    s = gnomon.shared(1.0)
    with pytest.raises(GnomonTypeError, match="strict=True"):
        OpFromGraph([x], [x + s], strict=True)
    with pytest.raises(GnomonTypeError, match="rop_overrides"):
        OpFromGraph([x], [x * 2], rop_overrides=lambda ins, evs: evs)
