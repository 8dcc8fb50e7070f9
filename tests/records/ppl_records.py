"""Rows for gnomon.ppl's private ops (their lowerings live in ``gnomon/ppl/lowering.py``): the
reference draws what the NumPy algorithm below draws with the same seed; other backends are
compared on shapes and dtypes (``random=True``). ``flat`` / ``halfflat`` have no draws, so no
row (see ``NO_ROW`` in tests/test_op_records.py)."""

import numpy as np

import gnomon
import gnomon.ppl as pm
import gnomon.tensor as gt
from gnomon.ppl.distributions import (
    _CustomDistRV,
    _LKJCholeskyCovRV,
    _TruncatedDraw,
    _ZeroSumNormalRV,
)
from gnomon.ppl.multivariate import _LKJCorrRV, lkj_corr_cholesky_draw
from gnomon.ppl.timeseries import _ARRV
from tests.records import F, OpRecord, P

SEED = 0


def _rv(op, *params):  # type: ignore[no-untyped-def]
    """A draw from a fresh generator with a fixed seed that updates itself, so that the
    Numba backend runs the op's kernel (in place) rather than its NumPy perform."""
    rng = gnomon.shared(np.random.default_rng(SEED))
    nxt, out = op(rng, None, *params)
    rng.default_update = nxt
    return out


def _np():  # type: ignore[no-untyped-def]
    return np.random.default_rng(SEED)


def _zsn_ref(sigma):  # type: ignore[no-untyped-def]
    z = _np().normal(0.0, 1.0, size=(*sigma.shape, 4)) * sigma[..., None]
    return z - z.mean(axis=-1, keepdims=True)


def _lkj_cov_ref(eta, stds):  # type: ignore[no-untyped-def]
    chol = lkj_corr_cholesky_draw(_np(), float(eta), 3)
    return (stds[:, None] * chol)[np.tril_indices(3)]


def _lkj_corr_ref(eta):  # type: ignore[no-untyped-def]
    chol = lkj_corr_cholesky_draw(_np(), float(eta), 3)
    return (chol @ chol.T)[np.triu_indices(3, 1)]


def _ar_ref(rho, sigma, const, init):  # type: ignore[no-untyped-def]
    g = _np()
    x = np.empty(5)
    x[:2] = init
    for t in range(2, 5):
        x[t] = const + rho[0] * x[t - 1] + rho[1] * x[t - 2] + sigma * g.standard_normal(())
    return x


def _custom_logp(v, m):  # type: ignore[no-untyped-def]
    return -((v - m) ** 2)


def _custom_random(m, rng=None, size=None):  # type: ignore[no-untyped-def]
    return rng.normal(m, 1.0, size)


def _custom(mu):  # type: ignore[no-untyped-def]
    # module-level functions, so that the graph pickles (test_function_safety)
    return pm.CustomDist.dist(mu, logp=_custom_logp, random=_custom_random,
                              rng=np.random.default_rng(SEED))


RECORDS = [
    OpRecord("ppl_truncated_draw", lambda x, lo, hi: _TruncatedDraw()(x, x, lo, hi),
             lambda x, lo, hi: x.copy(), [(F(3), F(), F())], grad=0, ops=(_TruncatedDraw,)),
    OpRecord("ppl_zerosumnormal",
             lambda s: _rv(_ZeroSumNormalRV(), s, gt.constant(np.zeros(4))),
             _zsn_ref, [(P(3),)], grad=0, ops=(_ZeroSumNormalRV,), random=True),
    OpRecord("ppl_lkjcholeskycov",
             lambda eta, stds: _rv(_LKJCholeskyCovRV(), eta, stds, gt.constant(np.zeros(6))),
             _lkj_cov_ref, [(P(), P(3))], grad=0, ops=(_LKJCholeskyCovRV,), random=True),
    OpRecord("ppl_lkjcorr",
             lambda eta: _rv(_LKJCorrRV(), eta, gt.constant(np.zeros(3))),
             _lkj_corr_ref, [(P(),)], grad=0, ops=(_LKJCorrRV,), random=True),
    OpRecord("ppl_ar",
             lambda rho, s, c, init: _rv(_ARRV(ar_order=2), rho, s, c, init,
                                         gt.constant(np.zeros(5))),
             _ar_ref, [(F(2, low=-0.5, high=0.5), P(), F(), F(2))], grad=0, ops=(_ARRV,),
             random=True),
    OpRecord("ppl_custom_dist", _custom, lambda mu: _np().normal(mu, 1.0),
             [(F(3),)], grad=0, ops=(_CustomDistRV,), random=True),
]
