"""PyTensor's names in gnomon (issue #17, part A): the tensor namespace (``pt.roll``, ``pt.tril``,
``pt.dmatrices`` ...), the top level (``clone_replace``, ``pp``, ``dprint``) and the gradient
module (``Rop``, ``Lop``, ``verify_grad``); values against NumPy, gradients against finite
differences."""

from __future__ import annotations

import numpy as np
import pytest

import gnomon
import gnomon.tensor as pt
from gnomon.gradient import Lop, Rop, verify_grad
from gnomon.testing import check_grads


@pytest.fixture(autouse=True)
def _numpy_mode():
    with gnomon.config.change_flags(mode="numpy"):
        yield


RNG = np.random.default_rng(20260)

#: names PyTensor code calls from ``pytensor.tensor`` (audited from its documentation; see
#: docs/compatibility.md) that must exist in ``gnomon.tensor``
TENSOR_NAMES = """
grad jacobian hessian pi e inf nan dscalars dvectors dmatrices scalars vectors matrices row col
drow dcol frow fcol irow icol lrow lcol tensor5 tensor6 tensor7 dtensor5 fscalars iscalars
lscalars fmatrices imatrices tensor3s ftensor3s sqr sgn horizontal_stack vertical_stack
specify_shape specify_broadcastable batched_dot diff roll diag diagonal trace tril triu tri
tril_indices triu_indices tril_indices_from triu_indices_from flatnonzero nonzero_values fill
second identity_like tensor_copy empty empty_like inverse_permutation get_vector_length
get_underlying_scalar_constant_value shape_padleft shape_padright shape_padaxis take_along_axis
stacklists extract_diag true_div int_div floor_div ceil_intdiv deg2rad rad2deg isposinf isneginf
isclose allclose iround round_half_to_even round_half_away_from_zero ptp median cov
max_and_argmax smallest largest erfcinv tri_gamma chi2sf gammau gammal dense_dot divmod complex
complex_from_polar nan_to_num cumsum cumprod searchsorted squeeze repeat broadcast_to linspace
switch where eq neq lt gt le ge and_ or_ xor invert abs exp log log1p log1pexp log1mexp sigmoid
softplus erf erfc erfinv gamma gammaln psi digamma polygamma betainc gammainc gammaincc
logsumexp softmax log_softmax dot tensordot outer matmul einsum sum prod mean var std max min
argmax argmin all any clip concatenate stack join split reshape flatten transpose swapaxes
moveaxis expand_dims atleast_1d atleast_2d atleast_3d tile zeros ones zeros_like ones_like
full full_like alloc eye arange constant as_tensor_variable as_tensor cast set_subtensor
inc_subtensor take nonzero sort argsort shape extra_ops nlinalg slinalg special choose mgrid
ogrid ix_ default is_flat xlogx xlogy0 batched_tensordot pad interp vectorize
""".split()


@pytest.mark.parametrize("name", TENSOR_NAMES)
def test_tensor_namespace_has_pytensors_name(name: str) -> None:
    assert hasattr(pt, name), f"gnomon.tensor.{name} is missing"


def test_top_level_and_gradient_names() -> None:
    for name in ("function", "shared", "grad", "scan", "ifelse", "clone_replace", "graph_replace",
                 "pp", "dprint", "config", "Mode", "map", "reduce", "foldl", "foldr",
                 "jacobian", "hessian", "Rop", "Lop", "verify_grad", "printing"):
        assert hasattr(gnomon, name), f"gnomon.{name} is missing"
    assert pt.grad is gnomon.grad


def test_plural_constructors_follow_pytensor() -> None:
    a, b = pt.dscalars("a", "b")
    assert (a.name, b.name, a.type) == ("a", "b", pt.dscalar.type)
    x, y = pt.dscalars("xy")  # one input per character, as in PyTensor
    assert (x.name, y.name) == ("x", "y")
    assert pt.dmatrices("m").type == pt.dmatrix.type  # one name: one variable
    assert [v.type for v in pt.imatrices(2)] == [pt.imatrix.type] * 2
    assert pt.matrices("p", "q")[1].type.ndim == 2
    assert pt.drow("r").type.shape == (1, None) and pt.fcol("c").type.dtype == "float32"


A = RNG.normal(size=(4, 5))
V = RNG.normal(size=6)


@pytest.mark.parametrize("fn, ref, args", [
    (lambda a: pt.roll(a, 2, axis=1), lambda a: np.roll(a, 2, axis=1), (A,)),
    (lambda a: pt.roll(a, -3), lambda a: np.roll(a, -3), (A,)),
    (lambda v: pt.diag(v, 1), lambda v: np.diag(v, 1), (V,)),
    (lambda a: pt.diag(a, -1), lambda a: np.diag(a, -1), (A,)),
    (lambda a: pt.diagonal(a, 2), lambda a: np.diagonal(a, 2), (A,)),
    (lambda a: pt.trace(a, -1), lambda a: np.trace(a, -1), (A,)),
    (lambda a: pt.tril(a, 1), lambda a: np.tril(a, 1), (A,)),
    (lambda a: pt.triu(a, -1), lambda a: np.triu(a, -1), (A,)),
    (lambda a: pt.horizontal_stack(a, a[:, :2]), lambda a: np.hstack([a, a[:, :2]]), (A,)),
    (lambda a: pt.vertical_stack(a, a[:1]), lambda a: np.vstack([a, a[:1]]), (A,)),
    (lambda a: pt.sqr(a), np.square, (A,)),
    (lambda a: pt.ptp(a, axis=0), lambda a: np.ptp(a, axis=0), (A,)),
    (lambda a: pt.median(a, axis=1), lambda a: np.median(a, axis=1), (A,)),
    (lambda a: pt.median(a[:, :4]), lambda a: np.median(a[:, :4]), (A,)),
    (lambda a: pt.cov(a), np.cov, (A,)),
    (lambda a: pt.cov(a, rowvar=False, ddof=0), lambda a: np.cov(a, rowvar=False, ddof=0), (A,)),
    (lambda a: pt.deg2rad(a), np.deg2rad, (A,)),
    (lambda a: pt.batched_dot(a.reshape((2, 2, 5)), a.reshape((2, 5, 2))),
     lambda a: np.einsum("bij,bjk->bik", a.reshape(2, 2, 5), a.reshape(2, 5, 2)), (A,)),
    (lambda a: pt.take_along_axis(a, pt.argsort(a, axis=0), axis=0),
     lambda a: np.sort(a, axis=0), (A,)),
])
def test_composed_functions_match_numpy_and_differentiate(fn, ref, args) -> None:
    syms = [pt.tensor(f"a{i}", dtype="float64", shape=(None,) * np.ndim(a))
            for i, a in enumerate(args)]
    out = fn(*syms)
    np.testing.assert_allclose(out.eval(dict(zip(syms, args, strict=True))), ref(*args),
                               rtol=1e-10, atol=1e-12)
    check_grads(fn, list(args), order=1, modes=("pullback",), mode="numpy")


def test_integer_and_index_functions_match_numpy() -> None:
    k = np.array([7, 8, -7, 0])
    assert pt.ceil_intdiv(k, 2).eval().tolist() == (-(-k // 2)).tolist()
    assert pt.int_div(k, 2).eval().tolist() == (k // 2).tolist()
    q, r = pt.divmod(k, 3)
    assert q.eval().tolist() == (k // 3).tolist() and r.eval().tolist() == (k % 3).tolist()
    for got, want in zip(pt.tril_indices(4, -1, 5), np.tril_indices(4, -1, 5), strict=True):
        assert got.eval().tolist() == want.tolist()
    for got, want in zip(pt.triu_indices_from(A, 2), np.triu_indices_from(A, 2), strict=True):
        assert got.eval().tolist() == want.tolist()
    np.testing.assert_array_equal(pt.tri(3, 4, 1).eval(), np.tri(3, 4, 1))
    x = np.array([0.0, 2.0, 0.0, -1.0])
    assert pt.flatnonzero(x).eval().tolist() == np.flatnonzero(x).tolist()
    assert pt.nonzero_values(x).eval().tolist() == [2.0, -1.0]
    perm = np.array([2, 0, 3, 1])
    assert pt.inverse_permutation(perm).eval().tolist() == np.argsort(perm).tolist()
    assert pt.iround(np.array([0.5, 1.5, -2.5])).eval().tolist() == [0, 2, -2]
    np.testing.assert_array_equal(
        pt.round_half_away_from_zero(np.array([0.5, 1.5, -2.5])).eval(), [1.0, 2.0, -3.0])
    mx, am = pt.max_and_argmax(A, axis=1)
    np.testing.assert_array_equal(mx.eval(), A.max(1))
    np.testing.assert_array_equal(am.eval(), A.argmax(1))
    assert pt.get_vector_length(pt.dvector("v", shape=(3,))) == 3
    assert pt.get_vector_length(pt.shape(pt.dmatrix("m"))) == 2
    with pytest.raises(ValueError, match="not known"):
        pt.get_vector_length(pt.dvector("w"))


def test_float_helpers_match_numpy_and_scipy() -> None:
    from scipy import special as sps

    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(pt.nan_to_num(x).eval(), np.nan_to_num(x))
    np.testing.assert_array_equal(pt.nan_to_num(x, 1.0, 5.0, -5.0).eval(),
                                  np.nan_to_num(x, nan=1.0, posinf=5.0, neginf=-5.0))
    y = np.array([1.0, np.inf, np.nan, 1.0 + 1e-9, 1.1])
    z = np.array([1.0, np.inf, np.nan, 1.0, 1.0])
    np.testing.assert_array_equal(pt.isclose(y, z).eval(), np.isclose(y, z))
    np.testing.assert_array_equal(pt.isclose(y, z, equal_nan=True).eval(),
                                  np.isclose(y, z, equal_nan=True))
    assert bool(pt.allclose(z[:2], z[:2]).eval()) and not bool(pt.allclose(y, z).eval())
    np.testing.assert_array_equal(pt.isposinf(x).eval(), np.isposinf(x))
    np.testing.assert_array_equal(pt.isneginf(x).eval(), np.isneginf(x))
    p = np.array([0.2, 1.0, 1.7])
    np.testing.assert_allclose(pt.erfcinv(p).eval(), sps.erfcinv(p), rtol=1e-10)
    np.testing.assert_allclose(pt.tri_gamma(p + 1).eval(), sps.polygamma(1, p + 1), rtol=1e-10)
    np.testing.assert_allclose(pt.chi2sf(p, 3.0).eval(), sps.chdtrc(3.0, p), rtol=1e-10)
    np.testing.assert_allclose(pt.gammau(2.5, p).eval(), sps.gammaincc(2.5, p) * sps.gamma(2.5),
                               rtol=1e-10)
    np.testing.assert_allclose(pt.gammal(2.5, p).eval(), sps.gammainc(2.5, p) * sps.gamma(2.5),
                               rtol=1e-10)
    c = pt.complex_from_polar(2.0, np.pi / 2)
    np.testing.assert_allclose(c.eval(), 2j, atol=1e-15)
    assert pt.complex(np.float32(1), np.float32(2)).dtype == "complex64"
    np.testing.assert_allclose(pt.smallest(p, 1.0, p[::-1]).eval(), np.minimum(np.minimum(p, 1),
                                                                               p[::-1]))
    np.testing.assert_allclose(pt.largest(p, 1.0).eval(), np.maximum(p, 1.0))
    np.testing.assert_allclose(pt.stacklists([[1.0, 2.0], [3.0, 4.0]]).eval(),
                               [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(pt.fill(np.ones((2, 2)), 3.0).eval(), np.full((2, 2), 3.0))
    np.testing.assert_allclose(pt.identity_like(np.ones((2, 3))).eval(), np.eye(2, 3))
    np.testing.assert_allclose(pt.shape_padleft(pt.constant(V), 2).eval().shape, (1, 1, 6))
    np.testing.assert_allclose(pt.shape_padaxis(pt.constant(A), 1).eval().shape, (4, 1, 5))


def test_specify_shape_refines_and_checks_at_run_time() -> None:
    x = pt.dmatrix("x")
    n = pt.lscalar("n")
    y = pt.specify_shape(x, (None, 3))
    assert y.type.shape == (None, 3)
    f = gnomon.function([x, n], pt.specify_shape(x, (n, 3)).sum() * 2)
    np.testing.assert_allclose(f(np.ones((2, 3)), 2), 12.0)
    with pytest.raises(ValueError, match=r"dimension 0 has length 2, not 4"):
        f(np.ones((2, 3)), 4)
    with pytest.raises(ValueError, match="dimension 1"):
        f(np.ones((2, 4)), 2)
    b = pt.specify_broadcastable(pt.dmatrix("b"), 0)
    assert b.broadcastable == (True, False)
    check_grads(lambda v: pt.specify_shape(v, (2, 3)) ** 2, [A[:2, :3]], mode="numpy")


def test_rop_lop_and_verify_grad() -> None:
    W, x = pt.dmatrix("W"), pt.dvector("x")
    y = pt.tanh(W @ x)
    Wv, xv, v, u = RNG.normal(size=(3, 2)), RNG.normal(size=2), RNG.normal(size=2), \
        RNG.normal(size=3)
    jac = (1 - np.tanh(Wv @ xv) ** 2)[:, None] * Wv   # dy/dx
    np.testing.assert_allclose(Rop(y, x, v).eval({W: Wv, x: xv}), jac @ v)
    np.testing.assert_allclose(Lop(y, x, u).eval({W: Wv, x: xv}), u @ jac)
    gw, gx = Lop(y, [W, x], u)
    np.testing.assert_allclose(gx.eval({W: Wv, x: xv}), u @ jac)
    np.testing.assert_allclose(gw.eval({W: Wv, x: xv}),
                               np.outer(u * (1 - np.tanh(Wv @ xv) ** 2), xv))
    verify_grad(lambda a, b: pt.tanh(a @ b), [Wv, xv], rng=np.random.default_rng(3))

    def wrong(a):  # a deliberately wrong gradient: zero_grad hides one factor
        return gnomon.zero_grad(a) * a

    with pytest.raises(verify_grad.E_grad, match="disagrees with finite differences"):
        verify_grad(wrong, [xv], rng=np.random.default_rng(3))


def test_top_level_printing_names(capsys) -> None:
    x = pt.dscalar("x")
    assert gnomon.pp(pt.exp(x) * 2.0) == "(exp(x) * 2.0)"
    gnomon.dprint(x + 1.0)
    assert "Elemwise(add)" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["constant", "edge", "wrap", "reflect", "symmetric"])
def test_pad_matches_numpy(mode: str) -> None:
    x = RNG.normal(size=(3, 4))
    for widths in [(2, 1), 7, ((1, 2), (0, 5))]:
        np.testing.assert_array_equal(pt.pad(x, widths, mode=mode).eval(),
                                      np.pad(x, widths, mode=mode))
    check_grads(lambda v: pt.pad(v, ((1, 2), (3, 0)), mode=mode), [x], mode="numpy")


def test_more_numpy_functions_match_numpy() -> None:
    a = np.array([[0, 2, 1], [1, 0, 2]])
    choices = [np.zeros((2, 3)), np.arange(3.0), np.full((2, 3), 7.0)]
    np.testing.assert_array_equal(pt.choose(a, choices).eval(), np.choose(a, choices))
    np.testing.assert_array_equal(pt.choose(a + 2, choices, mode="wrap").eval(),
                                  np.choose(a + 2, choices, mode="wrap"))
    assert [v.eval().tolist() for v in pt.mgrid[0:3, 1:5:2]] == np.mgrid[0:3, 1:5:2].tolist()
    assert [v.eval().tolist() for v in pt.ogrid[0:2, 0:3]] == \
        [v.tolist() for v in np.ogrid[0:2, 0:3]]
    m = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(pt.constant(m)[pt.ix_([0, 2], [1, 3])].eval(),
                                  m[np.ix_([0, 2], [1, 3])])
    x, y = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 4, 3, 5))
    np.testing.assert_allclose(pt.batched_tensordot(x, y, [[2, 1], [1, 2]]).eval(),
                               np.einsum("bij,bjik->bk", x, y))
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 6.0])
    xx = np.array([-1.0, 0.0, 0.5, 1.0, 2.5, 3.0, 9.0])
    np.testing.assert_allclose(pt.interp(xx, xp, fp).eval(), np.interp(xx, xp, fp))
    np.testing.assert_allclose(pt.interp(xx, xp, fp, left=-5.0, right=7.0).eval(),
                               np.interp(xx, xp, fp, left=-5.0, right=7.0))
    np.testing.assert_allclose(pt.xlogx(np.array([0.0, 1.0, 2.0])).eval(),
                               [0.0, 0.0, 2 * np.log(2)])
    assert pt.default(None, 3) == 3 and pt.is_flat(pt.dvector("v"))
    check_grads(lambda v: pt.interp(v, xp, fp), [np.array([0.3, 1.7, 2.2])], mode="numpy")


def test_vectorize_function() -> None:
    norm = pt.vectorize(lambda v: pt.sqrt(pt.sum(v ** 2)), signature="(n)->()")
    vs = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(norm(vs).eval(), np.linalg.norm(vs, axis=-1))
    affine = pt.vectorize(lambda a, b: a * b + 1.0)
    np.testing.assert_allclose(affine(np.ones((2, 3)), np.arange(3.0)).eval(),
                               np.ones((2, 3)) * np.arange(3.0) + 1.0)
    solve = pt.vectorize(pt.linalg.solve, signature="(m,m),(m)->(m)")
    A = RNG.normal(size=(3, 2, 2)) + 3 * np.eye(2)
    b = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(solve(A, b).eval(), np.linalg.solve(A, b[..., None])[..., 0])
