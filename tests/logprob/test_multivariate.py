"""logp of the distributions with vector parameters or support (categorical, dirichlet,
multinomial, multivariate_normal, choice, permutation) against scipy.stats, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gnomon
import gnomon.logprob as glp
import gnomon.random as gr
import gnomon.tensor as gt
from gnomon.testing import available_modes, check_grads

INF = np.inf


def _like(name: str, value: np.ndarray) -> gt.TensorVariable:
    """A symbolic input with ``value``'s dtype and static shape (static shapes spare the
    compiled programs their run-time shape checks, so there are fewer kernels to compile)."""
    return gt.tensor(dtype=value.dtype.name, shape=value.shape, name=name)


def _on_every_backend(inputs, outs, args):  # type: ignore[no-untyped-def]
    res = {}
    for mode in available_modes():
        res[mode] = gnomon.function(inputs, outs, mode=mode, on_unused_input="ignore")(*args)
    ref = res["numpy"]
    for mode, got in res.items():
        for g, r in zip(got, ref, strict=True):
            np.testing.assert_allclose(g, r, rtol=1e-6 if mode == "jax" else 1e-12, atol=1e-12,
                                       err_msg=mode)
    return ref


def test_categorical() -> None:
    pv = np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]])
    vv = np.array([2, 0, -1, 3])
    p, v = _like("p", pv), _like("v", vv)
    x = gr.categorical(p)
    lp, lc = _on_every_backend([p, v], [glp.logp(x, v), glp.logcdf(x, v)], [pv, vv])
    with np.errstate(divide="ignore"):
        want = [np.log(0.5), -INF, -INF, -INF]
        want_c = [0.0, np.log(0.0), -INF, 0.0]
    np.testing.assert_allclose(lp, want)
    np.testing.assert_allclose(lc, want_c)
    vv2 = np.array([1, 1, 1, 0])
    lp2, lc2 = gnomon.function([p, v], [glp.logp(x, v), glp.logcdf(x, v)], mode="numpy")(pv, vv2)
    np.testing.assert_allclose(lp2, np.log([0.3, 1.0, 0.1, 1 / 3]))
    np.testing.assert_allclose(lc2, np.log([0.5, 1.0, 0.2, 1 / 3]))


def test_dirichlet() -> None:
    av = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0],
                   [2.0, 2.0, 2.0]])
    vv = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.0, 0.5, 0.5], [0.5, 0.6, -0.1],
                   [0.3, 0.3, 0.3]])
    a, v = _like("a", av), _like("v", vv)
    x = gr.dirichlet(a)
    (lp,) = _on_every_backend([a, v], [glp.logp(x, v)], [av, vv])
    want = [st.dirichlet(av[i]).logpdf(vv[i]) for i in range(2)]
    np.testing.assert_allclose(lp[:2], want)
    np.testing.assert_allclose(lp[2], np.log(2.0))  # uniform on the simplex, boundary point
    assert lp[3] == -INF and lp[4] == -INF          # negative entry; not summing to 1
    check_grads(lambda a_, v_: glp.logp(gr.dirichlet(a_), v_), [av[:2], vv[:2]],
                modes=("pullback",), wrt=[0])


def test_multinomial() -> None:
    nv = np.array([5, 5, 0, 4])
    pv = np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])
    vv = np.array([[1, 2, 2], [0, 3, 2], [0, 0, 0], [1, 1, 1]])
    n, p, v = _like("n", nv), _like("p", pv), _like("v", vv)
    x = gr.multinomial(n, p)
    (lp,) = _on_every_backend([n, p, v], [glp.logp(x, v)], [nv, pv, vv])
    want = [st.multinomial(nv[i], pv[i]).logpmf(vv[i]) for i in range(3)]
    np.testing.assert_allclose(lp[:3], want)
    assert lp[3] == -INF  # counts do not add up to n


def test_multivariate_normal() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3))
    cv = a @ a.transpose(0, 2, 1) + 3 * np.eye(3)
    mv = rng.standard_normal((2, 3))
    vv = rng.standard_normal((2, 3)) * 2
    m, c, v = _like("m", mv), _like("c", cv), _like("v", vv)
    x = gr.multivariate_normal(m, c)
    (lp,) = _on_every_backend([m, c, v], [glp.logp(x, v)], [mv, cv, vv])
    want = [st.multivariate_normal(mv[i], cv[i]).logpdf(vv[i]) for i in range(2)]
    np.testing.assert_allclose(lp, want, rtol=1e-10)
    check_grads(lambda m_, c_, v_: glp.logp(gr.multivariate_normal(m_, c_), v_),
                [mv, cv, vv], modes=("pullback",), wrt=[0, 2])


def test_choice_with_replacement_and_permutation() -> None:
    av = np.array([10.0, 20.0, 30.0])
    pv = np.array([0.2, 0.3, 0.5])
    vv = np.array([10.0, 30.0, 25.0, 20.0])
    a, p, v = _like("a", av), _like("p", pv), _like("v", vv)
    x = gr.choice(a, size=4, p=p)
    y = gr.choice(a, size=4)
    lx, ly = _on_every_backend([a, p, v], [glp.logp(x, v), glp.logp(y, v)], [av, pv, vv])
    np.testing.assert_allclose(lx, [np.log(0.2), np.log(0.5), -INF, np.log(0.3)])
    np.testing.assert_allclose(ly, [np.log(1 / 3), np.log(1 / 3), -INF, np.log(1 / 3)])
    z = gr.choice(a, size=2, replace=False)
    with pytest.raises(NotImplementedError, match="without replacement"):
        glp.logp(z, v[:2])
    w = _like("w", av)
    perm = gr.permutation(a)
    f = gnomon.function([a, w], glp.logp(perm, w), mode="numpy")
    np.testing.assert_allclose(f(av, np.array([30.0, 10.0, 20.0])), -np.log(6.0))
    assert f(av, np.array([30.0, 10.0, 10.0])) == -INF
