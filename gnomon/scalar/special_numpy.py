"""Vectorized NumPy versions of the parameter derivatives of :mod:`special_kernels`, the
reference implementations (``impl``) of :class:`~gnomon.scalar.special.GammaIncDerA` and
:class:`~gnomon.scalar.special.BetaIncDer`.

The arithmetic is the scalar kernels', step for step, run on whole arrays: each element stops
iterating (its values are frozen) when its own convergence test passes, so results equal the
scalar kernels' up to the digamma function (SciPy's here). Vectorizing matters because the
reference also answers the first call of a tiered Numba function and runs ``mode="jax"``'s
host callbacks: ``np.vectorize`` of the Python kernels took about 30-80 us per element.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from gnomon.scalar.special_kernels import _GSK_EPS as EPS
from gnomon.scalar.special_kernels import _GSK_MAXITER as MAXITER
from gnomon.scalar.special_kernels import _GSK_TINY as TINY


def _f64(*xs: Any) -> list[np.ndarray]:
    return [np.array(v, dtype=np.float64) for v in np.broadcast_arrays(*xs)]


def gammainc_da(a: Any, x: Any) -> np.ndarray:
    """``d/da gammainc(a, x)`` (float64, broadcast)."""
    a, x = _f64(a, x)
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x >= 0) & np.isfinite(a)  # NaN fails every comparison
        edge = ok & ((x == 0) | np.isinf(x))
        out[edge] = 0.0
        ser = ok & ~edge & (x < a + 1.0)
        cf = ok & ~edge & ~ser
        out[ser] = _gammainc_da_series(a[ser], x[ser])
        out[cf] = _gammainc_da_cf(a[cf], x[cf])
    return out


def _gammainc_da_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    t, dt = np.ones_like(a), np.zeros_like(a)
    s, ds = np.ones_like(a), np.zeros_like(a)
    live = np.ones(a.shape, bool)
    n = 0
    while live.any() and n < MAXITER:
        n += 1
        r = x / (a + n)
        dt = np.where(live, dt * r - t * r / (a + n), dt)
        t = np.where(live, t * r, t)
        s = np.where(live, s + t, s)
        ds = np.where(live, ds + dt, ds)
        live &= ~((np.abs(t) < EPS * s) & (np.abs(dt) < EPS * (np.abs(ds) + s)))
    lx = np.log(x)
    pref = np.exp(a * lx - x - sp.gammaln(a + 1.0))
    return pref * (s * (lx - sp.psi(a + 1.0)) + ds)


def _gammainc_da_cf(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    b = x + 1.0 - a
    db = -1.0
    c, dc = np.full_like(a, 1.0 / TINY), np.zeros_like(a)
    d = 1.0 / b
    dd = -db * d * d
    h, dh = d, dd
    live = np.ones(a.shape, bool)
    i = 0
    while live.any() and i < MAXITER:
        i += 1
        an = -i * (i - a)
        dan = float(i)
        b = b + 2.0
        dn = an * d + b
        ddn = dan * d + an * dd + db
        dn = np.where(np.abs(dn) < TINY, TINY, dn)
        cn = b + an / c
        dcn = db + (dan * c - an * dc) / (c * c)
        cn = np.where(np.abs(cn) < TINY, TINY, cn)
        d = 1.0 / dn
        dd = -ddn * d * d
        c, dc = cn, dcn
        delta = d * c
        ddelta = dd * c + d * dc
        dh = np.where(live, dh * delta + h * ddelta, dh)
        h = np.where(live, h * delta, h)
        live &= ~((np.abs(delta - 1.0) < EPS) & (np.abs(ddelta) < EPS * (1.0 + np.abs(dh / h))))
    lx = np.log(x)
    pref = np.exp(a * lx - x - sp.gammaln(a))
    return -pref * (h * (lx - sp.psi(a)) + dh)


def _betacf(p: np.ndarray, q: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """The continued fraction of I_y(p, q) and its derivatives in p and q (as
    ``special_kernels._gsk_betacf``)."""
    f = (p + q) / (p + 1.0)
    fp = (1.0 - q) / ((p + 1.0) * (p + 1.0))
    fq = 1.0 / (p + 1.0)
    d = 1.0 - y * f
    dp, dq = -y * fp, -y * fq
    d = np.where(np.abs(d) < TINY, TINY, d)
    d = 1.0 / d
    dp, dq = -dp * d * d, -dq * d * d
    c, cp, cq = np.ones_like(p), np.zeros_like(p), np.zeros_like(p)
    h, hp, hq = d, dp, dq
    live = np.ones(p.shape, bool)
    m = 0
    while live.any() and m < MAXITER:
        m += 1
        for odd in (False, True):
            if not odd:
                den = (p - 1.0 + 2.0 * m) * (p + 2.0 * m)
                aa = m * (q - m) * y / den
                aap = -aa * (2.0 * p + 4.0 * m - 1.0) / den
                aaq = m * y / den
            else:
                den = (p + 2.0 * m) * (p + 1.0 + 2.0 * m)
                aa = -(p + m) * (p + q + m) * y / den
                aap = (-y * (2.0 * p + q + 2.0 * m) - aa * (2.0 * p + 4.0 * m + 1.0)) / den
                aaq = -y * (p + m) / den
            dn = 1.0 + aa * d
            dnp, dnq = aap * d + aa * dp, aaq * d + aa * dq
            dn = np.where(np.abs(dn) < TINY, TINY, dn)
            cn = 1.0 + aa / c
            cnp = (aap * c - aa * cp) / (c * c)
            cnq = (aaq * c - aa * cq) / (c * c)
            cn = np.where(np.abs(cn) < TINY, TINY, cn)
            d = 1.0 / dn
            dp, dq = -dnp * d * d, -dnq * d * d
            c, cp, cq = cn, cnp, cnq
            delta = d * c
            deltap, deltaq = dp * c + d * cp, dq * c + d * cq
            hp = np.where(live, hp * delta + h * deltap, hp)
            hq = np.where(live, hq * delta + h * deltaq, hq)
            h = np.where(live, h * delta, h)
        live &= ~((np.abs(delta - 1.0) < EPS) & (np.abs(deltap) < EPS * (1.0 + np.abs(hp / h)))
                  & (np.abs(deltaq) < EPS * (1.0 + np.abs(hq / h))))
    return h, hp, hq


def betainc_dab(a: Any, b: Any, x: Any, wrt: int) -> np.ndarray:
    """``d/da`` (``wrt == 0``) or ``d/db`` (``wrt == 1``) of ``betainc(a, b, x)``."""
    a, b, x = _f64(a, b, x)
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (b > 0) & (x >= 0) & (x <= 1) & np.isfinite(a) & np.isfinite(b)
        edge = ok & ((x == 0) | (x == 1))
        out[edge] = 0.0
        inner = ok & ~edge
        a, b, x = a[inner], b[inner], x[inner]
        lx, l1x = np.log(x), np.log1p(-x)
        lbeta = sp.gammaln(a) + sp.gammaln(b) - sp.gammaln(a + b)
        psab = sp.psi(a + b)
        direct = x < (a + 1.0) / (a + b + 2.0)
        res = np.empty(a.shape)
        # I_x(a, b) directly
        p, q, y = a[direct], b[direct], x[direct]
        h, hp, hq = _betacf(p, q, y)
        pref = np.exp(p * lx[direct] + q * l1x[direct] - lbeta[direct]) / p
        if wrt == 0:
            res[direct] = pref * (h * (lx[direct] - sp.psi(p) + psab[direct] - 1.0 / p) + hp)
        else:
            res[direct] = pref * (h * (l1x[direct] - sp.psi(q) + psab[direct]) + hq)
        # 1 - I_{1-x}(b, a): the complement's fraction (p = b, q = a)
        rev = ~direct
        aa, bb, xx = a[rev], b[rev], x[rev]
        h, hp, hq = _betacf(bb, aa, 1.0 - xx)
        pref = np.exp(aa * lx[rev] + bb * l1x[rev] - lbeta[rev]) / bb
        if wrt == 0:
            res[rev] = -pref * (h * (lx[rev] - sp.psi(aa) + psab[rev]) + hq)
        else:
            res[rev] = -pref * (h * (l1x[rev] - sp.psi(bb) + psab[rev] - 1.0 / bb) + hp)
        out[inner] = res
    return out
