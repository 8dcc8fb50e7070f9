"""PyTensor-style programs (issue #17, part A), written the way PyTensor's documentation writes
them -- ``pytensor`` / ``pt`` names and module paths, here gnomon's -- and compared with NumPy /
SciPy computations of the same thing: the tutorial's Baby steps, More examples, Derivatives,
Conditions and Loop sections, logistic regression with ``givens``, softmax regression, a
Gaussian-process likelihood with ``slinalg``, a Kalman filter with ``scan``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

import gnomon as pytensor
import gnomon.tensor as pt
from gnomon.gradient import Lop, Rop
from gnomon.ifelse import ifelse
from gnomon.printing import pp
from gnomon.tensor import slinalg
from gnomon.tensor.special import softmax


@pytest.fixture(autouse=True)
def _numpy_mode():
    # the programs are the point, not the backend: the reference runs them
    with pytensor.config.change_flags(mode="numpy"):
        yield


RNG = np.random.default_rng(31337)


# --- the tutorial ---------------------------------------------------------------------------


def test_baby_steps() -> None:
    x, y = pt.dscalars("x", "y")
    z = x + y
    f = pytensor.function([x, y], z)
    assert float(f(2, 3)) == 5.0
    np.testing.assert_allclose(f(16.3, 12.1), 28.4)
    assert float(z.eval({x: 16.3, y: 12.1})) == pytest.approx(28.4)
    assert pp(z) == "(x + y)"
    a, b = pt.dmatrices("a", "b")
    g = pytensor.function([a, b], a + b)
    np.testing.assert_array_equal(g([[1, 2], [3, 4]], [[10, 20], [30, 40]]),
                                  [[11, 22], [33, 44]])
    va, vb = pt.vectors("va", "vb")
    out = va ** 2 + vb ** 2 + 2 * va * vb
    np.testing.assert_allclose(pytensor.function([va, vb], out)([1, 2], [4, 5]), [25, 49])


def test_more_examples() -> None:
    x = pt.dmatrix("x")
    s = 1 / (1 + pt.exp(-x))
    logistic = pytensor.function([x], s)
    xv = np.array([[0, 1], [-1, -2]], dtype=float)
    np.testing.assert_allclose(logistic(xv), 1 / (1 + np.exp(-xv)))
    s2 = (1 + pt.tanh(x / 2)) / 2
    np.testing.assert_allclose(pytensor.function([x], s2)(xv), 1 / (1 + np.exp(-xv)))
    # several outputs
    a, b = pt.dmatrices("a", "b")
    diff = a - b
    f = pytensor.function([a, b], [diff, abs(diff), diff ** 2])
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(d, [[1, 0], [-1, -2]])
    np.testing.assert_array_equal(ad, [[1, 0], [1, 2]])
    np.testing.assert_array_equal(d2, [[1, 0], [1, 4]])
    # shared state with updates, and givens
    state = pytensor.shared(0)
    inc = pt.iscalar("inc")
    accumulator = pytensor.function([inc], state, updates=[(state, state + inc)])
    assert int(accumulator(1)) == 0 and int(state.get_value()) == 1
    accumulator(300)
    assert int(state.get_value()) == 301
    state.set_value(-1)
    accumulator(3)
    assert int(state.get_value()) == 2
    decrementor = pytensor.function([inc], state, updates=[(state, state - inc)])
    decrementor(2)
    assert int(state.get_value()) == 0
    fn_of_state = state * 2 + inc
    foo = pt.scalar(dtype=state.dtype)
    skip_shared = pytensor.function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert int(skip_shared(1, 3)) == 7
    assert int(state.get_value()) == 0  # givens does not touch the shared value


def test_derivatives() -> None:
    x = pt.dscalar("x")
    gy = pt.grad(x ** 2, x)
    f = pytensor.function([x], gy)
    assert float(f(4)) == 8.0 and float(f(94.2)) == pytest.approx(188.4)
    xm = pt.dmatrix("x")
    s = pt.sum(1 / (1 + pt.exp(-xm)))
    gs = pt.grad(s, xm)
    dlogistic = pytensor.function([xm], gs)
    xv = np.array([[0, 1], [-1, -2]], dtype=float)
    sig = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(dlogistic(xv), sig * (1 - sig))
    # the Jacobian with scan, as the tutorial builds it
    xv_ = pt.dvector("x")
    y = xv_ ** 2
    J, updates = pytensor.scan(lambda i, y, x: pt.grad(y[i], x),
                               sequences=pt.arange(y.shape[0]), non_sequences=[y, xv_])
    jf = pytensor.function([xv_], J, updates=updates)
    np.testing.assert_allclose(jf([4, 4]), [[8, 0], [0, 8]])
    np.testing.assert_allclose(pytensor.function([xv_], pt.jacobian(y, xv_))([4, 4]),
                               [[8, 0], [0, 8]])
    cost = pt.sum(xv_ ** 2)
    np.testing.assert_allclose(pytensor.function([xv_], pt.hessian(cost, xv_))([4, 4]),
                               [[2, 0], [0, 2]])
    # R-op and L-op
    W, V = pt.dmatrices("W", "V")
    xr = pt.dvector("x")
    yr = pt.dot(xr, W)
    JV = Rop(yr, W, V)
    frop = pytensor.function([W, V, xr], JV)
    np.testing.assert_allclose(frop([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2, 2])
    v = pt.dvector("v")
    VJ = Lop(yr, W, v)
    flop = pytensor.function([v, xr], VJ)
    np.testing.assert_allclose(flop([2, 2], [0, 1]), [[0, 0], [2, 2]])


def test_conditions() -> None:
    a, b = pt.scalars("a", "b", dtype="float64")
    x, y = pt.dmatrices("x", "y")
    z_switch = pt.switch(pt.lt(a, b), pt.mean(x), pt.mean(y))
    z_lazy = ifelse(pt.lt(a, b), pt.mean(x), pt.mean(y))
    f_switch = pytensor.function([a, b, x, y], z_switch)
    f_lazy = pytensor.function([a, b, x, y], z_lazy)
    xv, yv = np.ones((4, 4)), np.full((4, 4), 3.0)
    assert float(f_switch(1, 2, xv, yv)) == 1.0 == float(f_lazy(1, 2, xv, yv))
    assert float(f_switch(2, 1, xv, yv)) == 3.0 == float(f_lazy(2, 1, xv, yv))


def test_loop() -> None:
    k = pt.iscalar("k")
    A = pt.dvector("A")
    result, updates = pytensor.scan(fn=lambda prior, A: prior * A,
                                    outputs_info=pt.ones_like(A), non_sequences=A, n_steps=k)
    power = pytensor.function([A, k], result[-1], updates=updates)
    np.testing.assert_allclose(power(np.arange(10.0), 2), np.arange(10.0) ** 2)
    coefficients = pt.dvector("coefficients")
    xs = pt.dscalar("x")
    components, _ = pytensor.scan(
        fn=lambda c, p, x: c * (x ** p),
        sequences=[coefficients, pt.arange(10000)], non_sequences=xs)
    poly = pytensor.function([coefficients, xs], components.sum())
    c = np.array([1, 0, 2], dtype=float)
    assert float(poly(c, 3)) == pytest.approx(19.0)
    total, _ = pytensor.reduce(lambda v, acc: acc + v, sequences=coefficients,
                               outputs_info=pt.constant(0.0))
    assert float(total.eval({coefficients: c})) == 3.0
    sq, _ = pytensor.map(lambda v: v ** 2, sequences=coefficients)
    np.testing.assert_allclose(sq.eval({coefficients: c}), c ** 2)


def test_loop_with_until() -> None:
    from gnomon.scan.utils import until

    def power_of_2(previous_power, max_value):
        return previous_power * 2, until(previous_power * 2 > max_value)

    max_value = pt.scalar(dtype="float64")
    values, _ = pytensor.scan(power_of_2, outputs_info=pt.constant(1.0),
                              non_sequences=max_value, n_steps=1024)
    f = pytensor.function([max_value], values)
    np.testing.assert_array_equal(f(45), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    np.testing.assert_array_equal(f(0.5), [2.0])
    assert len(f(np.inf)) == 1024  # never true: every step runs

    # a sequence, an output not fed back, a shared variable updated in the loop, a gradient
    counter = pytensor.shared(0.0, name="counter")
    x, thr = pt.dvector("x"), pt.dscalar("thr")

    def step(xt, acc):
        new = acc + xt
        return [new, new * 2], {counter: counter + 1}, until(new > thr)

    (cs, dbl), updates = pytensor.scan(step, sequences=x, outputs_info=[pt.constant(0.0), None])
    g = pytensor.function([x, thr], [cs, dbl, pt.grad(pt.sum(cs ** 2), x)], updates=updates)
    xv = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    got_cs, got_dbl, got_g = g(xv, 5.5)
    want = np.cumsum(xv)[:3]  # stops at the step where the sum exceeds 5.5
    np.testing.assert_array_equal(got_cs, want)
    np.testing.assert_array_equal(got_dbl, 2 * want)
    np.testing.assert_allclose(got_g, [2 * want.sum(), 2 * want[1:].sum(), 2 * want[2], 0, 0])
    assert float(counter.get_value()) == 3.0  # the update ran for the steps run only


# --- programs ---------------------------------------------------------------------------------


def _logistic_data(n: int = 40, d: int = 3):
    X = RNG.normal(size=(n, d))
    w_true = np.array([1.5, -2.0, 0.5])[:d]
    Y = (RNG.uniform(size=n) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return X, Y


def test_logistic_regression_with_givens_and_updates() -> None:
    X, Y = _logistic_data()
    w0 = RNG.normal(size=3) * 0.1
    w = pytensor.shared(w0.copy(), name="w")
    b = pytensor.shared(0.0, name="b")
    data_x = pytensor.shared(X, name="data_x")
    data_y = pytensor.shared(Y, name="data_y")
    x, y = pt.dmatrix("x"), pt.dvector("y")
    index = pt.lscalar("index")
    batch = 10
    p_1 = 1 / (1 + pt.exp(-pt.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * pt.log(p_1) - (1 - y) * pt.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = pt.grad(cost, [w, b])
    train = pytensor.function(
        inputs=[index], outputs=[prediction, cost],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
        givens={x: data_x[index * batch:(index + 1) * batch],
                y: data_y[index * batch:(index + 1) * batch]})
    predict = pytensor.function([x], prediction)
    # the same steps in NumPy
    wn, bn = w0.copy(), 0.0
    for step in range(12):
        i = step % 4
        xb, yb = X[i * batch:(i + 1) * batch], Y[i * batch:(i + 1) * batch]
        p = 1 / (1 + np.exp(-xb @ wn - bn))
        c = np.mean(-yb * np.log(p) - (1 - yb) * np.log(1 - p)) + 0.01 * (wn ** 2).sum()
        pred, got_cost = train(i)
        np.testing.assert_array_equal(pred, p > 0.5)
        np.testing.assert_allclose(got_cost, c, rtol=1e-12)
        gwn = xb.T @ (p - yb) / batch + 0.02 * wn
        gbn = np.mean(p - yb)
        wn, bn = wn - 0.1 * gwn, bn - 0.1 * gbn
    np.testing.assert_allclose(w.get_value(), wn, rtol=1e-12)
    np.testing.assert_allclose(b.get_value(), bn, rtol=1e-12)
    np.testing.assert_array_equal(predict(X), 1 / (1 + np.exp(-X @ wn - bn)) > 0.5)


def test_softmax_regression() -> None:
    n, d, k = 30, 4, 3
    X = RNG.normal(size=(n, d))
    labels = RNG.integers(0, k, size=n)
    W = pytensor.shared(np.zeros((d, k)), name="W")
    b = pytensor.shared(np.zeros(k), name="b")
    x, y = pt.dmatrix("x"), pt.lvector("y")
    p_y = softmax(pt.dot(x, W) + b, axis=-1)
    nll = -pt.mean(pt.log(p_y)[pt.arange(y.shape[0]), y])
    g_W, g_b = pt.grad(nll, [W, b])
    train = pytensor.function([x, y], nll, updates=[(W, W - 0.5 * g_W), (b, b - 0.5 * g_b)])
    Wn, bn = np.zeros((d, k)), np.zeros(k)
    onehot = np.eye(k)[labels]
    for _ in range(5):
        z = X @ Wn + bn
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        np.testing.assert_allclose(train(X, labels), -np.mean(np.log(p[np.arange(n), labels])),
                                   rtol=1e-12)
        Wn, bn = Wn - 0.5 * X.T @ (p - onehot) / n, bn - 0.5 * (p - onehot).mean(0)
    np.testing.assert_allclose(W.get_value(), Wn, rtol=1e-10)
    np.testing.assert_allclose(b.get_value(), bn, rtol=1e-10, atol=1e-14)


def test_gaussian_process_likelihood_with_slinalg() -> None:
    n = 8
    X = np.sort(RNG.uniform(0, 5, size=n))
    Y = np.sin(X) + 0.1 * RNG.normal(size=n)
    x, y = pt.dvector("x"), pt.dvector("y")
    log_ell, log_s2 = pt.dscalars("log_ell", "log_s2")
    sqdist = (x[:, None] - x[None, :]) ** 2
    K = pt.exp(log_s2) * pt.exp(-0.5 * sqdist / pt.exp(2 * log_ell)) + 0.01 * pt.eye(n)
    L = slinalg.cholesky(K)
    alpha = slinalg.solve_triangular(L.T, slinalg.solve_triangular(L, y, lower=True),
                                     lower=False)
    logp = (-0.5 * pt.dot(y, alpha) - pt.sum(pt.log(pt.diag(L)))
            - 0.5 * n * np.log(2 * np.pi))
    f = pytensor.function([x, y, log_ell, log_s2], [logp, *pt.grad(logp, [log_ell, log_s2])])

    def ref(le: float, ls: float) -> float:
        k = np.exp(ls) * np.exp(-0.5 * (X[:, None] - X[None, :]) ** 2 / np.exp(2 * le))
        return scipy.stats.multivariate_normal(np.zeros(n), k + 0.01 * np.eye(n)).logpdf(Y)

    val, g_ell, g_s2 = f(X, Y, 0.2, -0.3)
    np.testing.assert_allclose(val, ref(0.2, -0.3), rtol=1e-10)
    h = 1e-6
    np.testing.assert_allclose(g_ell, (ref(0.2 + h, -0.3) - ref(0.2 - h, -0.3)) / (2 * h),
                               rtol=1e-5)
    np.testing.assert_allclose(g_s2, (ref(0.2, -0.3 + h) - ref(0.2, -0.3 - h)) / (2 * h),
                               rtol=1e-5)


def test_kalman_filter_with_scan() -> None:
    # local level model: state_t = state_{t-1} + w, obs_t = state_t + v
    T = 25
    truth = np.cumsum(RNG.normal(scale=0.5, size=T))
    obs = truth + RNG.normal(scale=1.0, size=T)
    y = pt.dvector("y")
    q, r = pt.dscalars("q", "r")

    def step(y_t, m, P, q, r):
        P_pred = P + q
        S = P_pred + r
        K = P_pred / S
        m_new = m + K * (y_t - m)
        P_new = (1 - K) * P_pred
        ll = -0.5 * (pt.log(2 * np.pi * S) + (y_t - m) ** 2 / S)
        return m_new, P_new, ll

    (means, variances, lls), _ = pytensor.scan(
        step, sequences=y, outputs_info=[pt.constant(0.0), pt.constant(10.0), None],
        non_sequences=[q, r])
    loglik = lls.sum()
    f = pytensor.function([y, q, r], [means, variances, loglik, pt.grad(loglik, q)])
    got_m, got_P, got_ll, got_gq = f(obs, 0.25, 1.0)

    def ref(qv: float, rv: float):
        m, P, ms, Ps, total = 0.0, 10.0, [], [], 0.0
        for yt in obs:
            Pp = P + qv
            S = Pp + rv
            total += scipy.stats.norm(m, np.sqrt(S)).logpdf(yt)
            K = Pp / S
            m, P = m + K * (yt - m), (1 - K) * Pp
            ms.append(m)
            Ps.append(P)
        return np.array(ms), np.array(Ps), total

    ms, Ps, total = ref(0.25, 1.0)
    np.testing.assert_allclose(got_m, ms, rtol=1e-12)
    np.testing.assert_allclose(got_P, Ps, rtol=1e-12)
    np.testing.assert_allclose(got_ll, total, rtol=1e-12)
    h = 1e-6
    np.testing.assert_allclose(got_gq, (ref(0.25 + h, 1.0)[2] - ref(0.25 - h, 1.0)[2]) / (2 * h),
                               rtol=1e-5)
