"""Rows for the special functions of gnomon/scalar/special.py (gnomon/tensor/special.py), and
edge values of the special functions of gnomon/scalar/math.py.

References are SciPy's (NumPy's for logaddexp). Each function has a row of random inputs in its
domain with a gradient check, and a row of fixed edge values (0, the ends of the domain, tails,
very large arguments, infinities, NaN) with ``grad=0``, so that every backend is compared with
SciPy where implementations usually differ. The parameter derivatives of gammainc and betainc
(their own ops) are compared with central differences of SciPy's functions.
"""

from dataclasses import dataclass

import numpy as np
import scipy.special as sp

import gnomon.tensor as gt
from gnomon.scalar import math as sm
from gnomon.scalar import special as ss
from tests.records import Arg, F, I, OpRecord, P


@dataclass(frozen=True)
class Fixed(Arg):
    """A fixed input vector (edge values), instead of a random draw."""

    values: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.values, dtype=self.dtype)


def V(*values: float, dtype: str = "float64") -> Fixed:
    return Fixed((len(values),), dtype, values=tuple(values))


INF, NAN = np.inf, np.nan


def unary(lo: float, hi: float) -> list:
    """float64 matrix, float32 and int32 cases."""
    return [(F(2, 3, low=lo, high=hi),), (F(4, dtype="float32", low=lo, high=hi),),
            (I(4, dtype="int32", low=int(np.ceil(lo)), high=int(np.floor(hi))),)]


def edges(*values: float) -> list:
    """The edge values in float64, and those float32 can hold in float32 (SciPy's float32
    loops)."""
    f32 = [v for v in values if not abs(v) < np.inf or abs(v) < 3e38]
    return [(V(*values),), (V(*f32, dtype="float32"),)]


BINARY = [(F(2, 3), F(3)), (F(2, 1), F(1, 3)), (F(4, dtype="float32"), F(4, dtype="float32")),
          (I(3, dtype="int32"), F(3))]


def central(f, k: int, h: float = 1e-5):  # type: ignore[no-untyped-def]
    """Central difference of the SciPy function ``f`` in its argument ``k`` (float64)."""
    def d(*args):  # type: ignore[no-untyped-def]
        args = [np.asarray(a, np.float64) for a in args]
        hi = [a + h if i == k else a for i, a in enumerate(args)]
        lo = [a - h if i == k else a for i, a in enumerate(args)]
        return (f(*hi) - f(*lo)) / (2 * h)
    return d


# (few cases: each compiles a JAX function, and jax.scipy's incomplete gamma / beta functions
# take seconds to compile)
GAMMA_AX = [(P(2, 3, low=0.3, high=6.0), P(3, low=0.05, high=9.0)),
            (P(4, dtype="float32", low=0.5, high=4.0), P(4, dtype="float32", low=0.2, high=5.0))]
GAMMA_AY = [(P(2, 3, low=0.3, high=6.0), F(3, low=0.05, high=0.95)),
            (P(4, dtype="float32", low=0.5, high=4.0),
             F(4, dtype="float32", low=0.1, high=0.9))]
BETA_ABX = [(P(2, 1, low=0.3, high=5.0), P(1, 3, low=0.3, high=5.0), F(3, low=0.02, high=0.98)),
            (P(4, dtype="float32", low=0.5, high=4.0), P(4, dtype="float32", low=0.5, high=4.0),
             F(4, dtype="float32", low=0.1, high=0.9))]
BETA_ABX_F64 = [(P(6, low=0.3, high=5.0), P(6, low=0.3, high=5.0), F(6, low=0.02, high=0.98))]
# gammainc(a, x) edge pairs: x = 0, tails, a large, x = inf, invalid a
GAMMA_EDGE_A = (1.0, 0.5, 1e-3, 5.0, 100.0, 1e4, 3.0, 2.0, -1.0, 0.0, 2.0)
GAMMA_EDGE_X = (0.0, 1e-10, 1e-3, 60.0, 20.0, 1e4, INF, 1e3, 1.0, 1.0, NAN)
BETA_EDGE_A = (1.0, 0.5, 1e-3, 50.0, 2.0, 1e3, 2.0, -1.0, 2.0)
BETA_EDGE_B = (1.0, 0.5, 2.0, 50.0, 1e3, 1e3, 3.0, 1.0, 3.0)
BETA_EDGE_X = (0.0, 1e-12, 0.5, 0.99, 0.001, 0.5, 1.0, 0.5, NAN)

RECORDS = [
    # the normal distribution
    OpRecord("ndtr", gt.ndtr, sp.ndtr, unary(-3, 3), grad=2, ops=(ss.Ndtr,)),
    OpRecord("ndtr_edges", gt.ndtr, sp.ndtr,
             edges(-40.0, -38.5, -10.0, -1e-300, 0.0, 1.0, 8.3, 40.0, INF, -INF, NAN), grad=0,
             ops=(ss.Ndtr,)),
    OpRecord("log_ndtr", gt.log_ndtr, sp.log_ndtr, unary(-6, 6), grad=2, ops=(ss.LogNdtr,)),
    OpRecord("log_ndtr_tails", gt.log_ndtr, sp.log_ndtr, [(F(5, low=-60, high=-20),),
             (F(4, low=8, high=30),)], grad=1, ops=(ss.LogNdtr,)),
    OpRecord("log_ndtr_edges", gt.log_ndtr, sp.log_ndtr,
             edges(-1e5, -40.0, -20.0, -5.0, 0.0, 3.0, 6.0, 30.0, INF, -INF, NAN), grad=0,
             ops=(ss.LogNdtr,)),
    OpRecord("ndtri", gt.ndtri, sp.ndtri,
             [(F(5, low=0.02, high=0.98),), (F(2, 3, low=0.02, high=0.98),),
              (F(4, dtype="float32", low=0.05, high=0.95),)], grad=2, ops=(ss.Ndtri,)),
    OpRecord("ndtri_edges", gt.ndtri, sp.ndtri,
             edges(0.0, 1e-300, 1e-10, 0.1, 0.5, 0.9, 1 - 1e-10, 1.0, 1.5, -0.1, NAN),
             grad=0, ops=(ss.Ndtri,)),
    OpRecord("ndtri_int8", gt.ndtri, sp.ndtri, [(I(3, dtype="int8", low=0, high=1),)], grad=0,
             ops=(ss.Ndtri,)),
    # log-sum-exp and x log y
    OpRecord("logaddexp", gt.logaddexp, np.logaddexp, BINARY, grad=2, ops=(ss.LogAddExp,)),
    OpRecord("logaddexp_edges", gt.logaddexp, np.logaddexp,
             [(V(1000.0, -1000.0, -INF, -INF, INF, 0.0, 1e308),
               V(1000.0, -1000.0, -INF, 3.0, 1.0, -INF, 1e308))],
             grad=0, ops=(ss.LogAddExp,)),
    OpRecord("logaddexp2", gt.logaddexp2, np.logaddexp2, BINARY, grad=2, ops=(ss.LogAddExp2,)),
    OpRecord("logaddexp2_edges", gt.logaddexp2, np.logaddexp2,
             [(V(1000.0, -1000.0, -INF, INF), V(1000.0, -1000.0, 2.0, 1.0))], grad=0,
             ops=(ss.LogAddExp2,)),
    OpRecord("xlogy", gt.xlogy, sp.xlogy,
             [(F(4), P(4)), (F(2, 3), P(3)), (F(4, dtype="float32"), P(4, dtype="float32")),
              (I(3, dtype="int32"), P(3))], grad=2, ops=(ss.Xlogy,)),
    OpRecord("xlogy_edges", gt.xlogy, sp.xlogy,
             [(V(0.0, 0.0, 0.0, 1.0, 2.0, 0.0, -1.0, 3.0), V(0.0, 1.0, INF, 0.0, 1e-300, NAN,
                                                             -1.0, 1e300)),
              (V(0.0, 0.0, 1.0, 2.0, dtype="float32"), V(0.0, INF, 0.0, 3.0, dtype="float32"))],
             grad=0, ops=(ss.Xlogy,)),
    OpRecord("xlog1py", gt.xlog1py, sp.xlog1py,
             [(F(4), F(4, low=-0.9, high=3.0)), (F(2, 3), F(3, low=-0.9, high=3.0)),
              (F(4, dtype="float32"), F(4, dtype="float32", low=-0.9, high=3.0))], grad=2,
             ops=(ss.Xlog1py,)),
    OpRecord("xlog1py_edges", gt.xlog1py, sp.xlog1py,
             [(V(0.0, 0.0, 1.0, 2.0, 0.0, 3.0), V(-1.0, 1.0, -1.0, 1e-20, NAN, -2.0))],
             grad=0, ops=(ss.Xlog1py,)),
    OpRecord("log1pexp", gt.log1pexp, lambda x: np.logaddexp(0, x), [(F(5, low=-30, high=30),)],
             grad=1, ops=(sm.Softplus,)),
    # gamma and beta functions
    OpRecord("betaln", gt.betaln, sp.betaln,
             [(P(4, low=0.2, high=8.0), P(4, low=0.2, high=8.0)),
              (P(2, 3, low=0.5, high=30.0), P(3, low=0.5, high=3.0)),
              (P(4, dtype="float32"), P(4, dtype="float32")), (I(3, low=1, high=6), P(3))],
             grad=2, ops=(ss.BetaLn,)),
    OpRecord("betaln_edges", gt.betaln, sp.betaln,
             [(V(1e-10, 1e5, 1e300, 1.0, 0.0, -0.5, INF, 0.0, 0.0, -1.5),
               V(1.0, 1e5, 2.0, 1e-300, 1.0, 2.0, 1.0, 0.0, -1.0, -2.5))],
             grad=0, ops=(ss.BetaLn,)),
    OpRecord("gammainc", gt.gammainc, sp.gammainc, GAMMA_AX, grad=1, ops=(ss.GammaInc,)),
    OpRecord("gammaincc", gt.gammaincc, sp.gammaincc, GAMMA_AX[:1], grad=1,
             ops=(ss.GammaIncC,)),
    OpRecord("gammainc_gammaincc_edges", lambda a, x: [gt.gammainc(a, x), gt.gammaincc(a, x)],
             lambda a, x: [sp.gammainc(a, x), sp.gammaincc(a, x)],
             [(V(*GAMMA_EDGE_A), V(*GAMMA_EDGE_X))], grad=0, ops=(ss.GammaInc, ss.GammaIncC)),
    OpRecord("gammaincinv", gt.gammaincinv, sp.gammaincinv, GAMMA_AY, grad=1,
             ops=(ss.GammaIncInv,)),
    OpRecord("gammainccinv", gt.gammainccinv, sp.gammainccinv, GAMMA_AY[:1], grad=1,
             ops=(ss.GammaIncCInv,)),
    OpRecord("gammaincinv_edges", lambda a, y: [gt.gammaincinv(a, y), gt.gammainccinv(a, y)],
             lambda a, y: [sp.gammaincinv(a, y), sp.gammainccinv(a, y)],
             [(V(1.0, 2.0, 2.0, 0.5, 100.0, 3.0), V(0.0, 1.0, 1e-300, 0.999999, 0.5, 1.5))],
             grad=0, ops=(ss.GammaIncInv, ss.GammaIncCInv)),
    # both sides of x = a + 1 (series / continued fraction), small and large a, x = 0 and inf
    OpRecord("gammainc_der_a", gt.gammainc_der_a,
             lambda a, x: np.where(np.isin(x, [0, np.inf]), 0.0, central(sp.gammainc, 0)(a, x)),
             [(V(0.3, 0.7, 1.5, 2.0, 4.0, 9.0, 25.0, 2.0, 3.0, 1e3, 0.05, 500.0),
               V(0.01, 3.0, 0.8, 6.0, 4.5, 2.0, 30.0, 0.0, INF, 1e3, 80.0, 400.0))],
             grad=0, rtol=1e-6, atol=1e-9, ops=(ss.GammaIncDerA,)),
    OpRecord("betainc", gt.betainc, sp.betainc, BETA_ABX, grad=1, ops=(ss.BetaInc,)),
    OpRecord("betainc_edges", gt.betainc, sp.betainc,
             [(V(*BETA_EDGE_A), V(*BETA_EDGE_B), V(*BETA_EDGE_X))], grad=0, ops=(ss.BetaInc,)),
    OpRecord("betaincinv", gt.betaincinv, sp.betaincinv, BETA_ABX, grad=1,
             ops=(ss.BetaIncInv,)),
    OpRecord("betaincinv_edges", gt.betaincinv, sp.betaincinv,
             [(V(1.0, 0.5, 2.0, 50.0, 2.0, 2.0), V(1.0, 0.5, 3.0, 50.0, 3.0, 3.0),
               V(0.0, 1.0, 1e-12, 0.5, 0.999999, 1.5))], grad=0, ops=(ss.BetaIncInv,)),
    OpRecord("betainc_der_a", gt.betainc_der_a, central(sp.betainc, 0), BETA_ABX_F64, grad=0,
             rtol=1e-6, atol=1e-9, ops=(ss.BetaIncDer,)),
    OpRecord("betainc_der_b", gt.betainc_der_b, central(sp.betainc, 1), BETA_ABX_F64, grad=0,
             rtol=1e-6, atol=1e-9, ops=(ss.BetaIncDer,)),
    # modified Bessel functions
    OpRecord("i0", gt.i0, sp.i0, unary(-4, 4), grad=2, ops=(ss.I0,)),
    OpRecord("i0e", gt.i0e, sp.i0e, unary(0.1, 5), grad=2, ops=(ss.I0e,)),
    OpRecord("i1", gt.i1, sp.i1, unary(-4, 4), grad=2, ops=(ss.I1,)),
    OpRecord("i1e", gt.i1e, sp.i1e, [*unary(0.1, 5), (F(3, low=-5, high=-0.1),)], grad=2,
             ops=(ss.I1e,)),
    OpRecord("i0_edges", gt.i0, sp.i0, edges(0.0, 1e-10, -30.0, 700.0, 720.0, INF, -INF, NAN),
             grad=0, ops=(ss.I0,)),
    OpRecord("i0e_edges", gt.i0e, sp.i0e, edges(0.0, 1e-10, -30.0, 720.0, 1e300, INF, NAN),
             grad=0, ops=(ss.I0e,)),
    OpRecord("i1_edges", gt.i1, sp.i1, edges(0.0, -1e-10, -30.0, 700.0, 720.0, INF, NAN),
             grad=0, ops=(ss.I1,)),
    OpRecord("i1e_edges", gt.i1e, sp.i1e, edges(0.0, -1e-10, -30.0, 720.0, 1e300, INF, NAN),
             grad=0, ops=(ss.I1e,)),
    # hypergeometric: the gradient in z only
    OpRecord("hyp2f1", gt.hyp2f1, sp.hyp2f1,
             [(F(4, low=0.2, high=2.0), F(1, low=0.2, high=2.0), P(4, low=1.0, high=3.0),
               F(2, 4, low=-0.9, high=0.9)),
              (P(3, dtype="float32"), P(3, dtype="float32"), P(3, dtype="float32", low=3.5,
                                                                high=5.0),
               F(3, dtype="float32", low=-0.9, high=0.9))],
             grad=1, grad_wrt=(3,), ops=(ss.Hyp2F1,)),
    OpRecord("hyp2f1_edges", gt.hyp2f1, sp.hyp2f1,
             [(V(1.0, 1.0, 0.5, 2.0, -3.0, 1.0), V(1.0, 2.0, 0.5, 3.0, 2.0, 1.0),
               V(2.4731963933128642, 3.0, 1.5, 4.0, 1.5, 2.0),
               V(-47017.0, 0.999, 1.0, -0.5, 0.3, -1e10))], grad=0, ops=(ss.Hyp2F1,)),
    # edge values of special functions of gnomon/scalar/math.py
    OpRecord("erfcx_edges", gt.erfcx, sp.erfcx,
             edges(-30.0, -1.0, 0.0, 1e-10, 1.0, 30.0, 1e5, 1e300, INF, -INF, NAN), grad=0,
             ops=(sm.Erfcx,)),
    OpRecord("erfinv_edges", gt.erfinv, sp.erfinv,
             edges(-1.0, -0.999999, 0.0, 1e-20, 0.3, 0.999999, 1.0, 1.5, NAN), grad=0,
             ops=(sm.Erfinv,)),
    OpRecord("polygamma_edges", lambda x: gt.polygamma(2, x), lambda x: sp.polygamma(2, x),
             [(V(1e-5, 0.5, 1.0, 30.0, 1e5, -0.5, -2.5, 0.0, -3.0, INF),)], grad=0,
             ops=(sm.Polygamma,)),
]
