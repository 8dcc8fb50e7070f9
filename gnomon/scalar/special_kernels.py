"""Scalar kernels, in plain Python with ``math`` only, for the special functions that SciPy
does not export: derivatives of the regularized incomplete gamma and beta functions with
respect to their parameters, and the Hurwitz zeta function (for ``polygamma`` of order > 0).

One source serves two backends: :mod:`gnomon.scalar.special` vectorizes these functions as the
NumPy reference, and the Numba backend embeds this module's source text into the kernels that
need it and compiles it with ``numba.njit`` (so the disk cache, keyed by source text, sees every
change). Hence the rules for this file: no imports but ``math``, no ``from __future__``, only
code Numba compiles in nopython mode, and every name starts with ``_gsk_`` (it shares the
generated module's namespace).

Method: the parameter derivatives differentiate the classical series and continued fractions
(Numerical Recipes' forms, evaluated with the modified Lentz algorithm) in forward mode, one
dual number per parameter, so each derivative converges as fast as the function itself.
"""

import math

_GSK_EPS = 1e-16
_GSK_TINY = 1e-300
_GSK_MAXITER = 100000


def _gsk_digamma(x):
    # reflection below 0.5, recurrence up to 6, asymptotic series there
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf
    if x <= 0.0 and math.floor(x) == x:
        return math.nan
    res = 0.0
    if x < 0.5:
        res = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 6.0:
        res -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
    return res + math.log(x) - 0.5 / x + t


def _gsk_gammainc_da(a, x):
    """d/da of the regularized lower incomplete gamma function P(a, x)."""
    if math.isnan(a) or math.isnan(x) or a <= 0.0 or x < 0.0 or math.isinf(a):
        return math.nan
    if x == 0.0 or math.isinf(x):
        return 0.0
    lx = math.log(x)
    if x < a + 1.0:
        # P = x^a e^-x / Gamma(a+1) * S,  S = sum_n t_n,  t_n = t_{n-1} x / (a + n)
        t = 1.0
        dt = 0.0
        s = 1.0
        ds = 0.0
        n = 0
        while n < _GSK_MAXITER:
            n += 1
            r = x / (a + n)
            dt = dt * r - t * r / (a + n)
            t = t * r
            s += t
            ds += dt
            if abs(t) < _GSK_EPS * s and abs(dt) < _GSK_EPS * (abs(ds) + s):
                break
        pref = math.exp(a * lx - x - math.lgamma(a + 1.0))
        return pref * (s * (lx - _gsk_digamma(a + 1.0)) + ds)
    # Q = x^a e^-x / Gamma(a) * h, h the continued fraction of Legendre; dP/da = -dQ/da
    b = x + 1.0 - a
    db = -1.0
    c = 1.0 / _GSK_TINY
    dc = 0.0
    d = 1.0 / b
    dd = -db * d * d
    h = d
    dh = dd
    i = 0
    while i < _GSK_MAXITER:
        i += 1
        an = -i * (i - a)
        dan = float(i)
        b += 2.0
        dnew = an * d + b
        ddnew = dan * d + an * dd + db
        if abs(dnew) < _GSK_TINY:
            dnew = _GSK_TINY
        cnew = b + an / c
        dcnew = db + (dan * c - an * dc) / (c * c)
        if abs(cnew) < _GSK_TINY:
            cnew = _GSK_TINY
        d = 1.0 / dnew
        dd = -ddnew * d * d
        c = cnew
        dc = dcnew
        delta = d * c
        ddelta = dd * c + d * dc
        dh = dh * delta + h * ddelta
        h = h * delta
        if abs(delta - 1.0) < _GSK_EPS and abs(ddelta) < _GSK_EPS * (1.0 + abs(dh / h)):
            break
    pref = math.exp(a * lx - x - math.lgamma(a))
    return -pref * (h * (lx - _gsk_digamma(a)) + dh)


def _gsk_betacf(p, q, y):
    """Continued fraction of I_y(p, q) (Numerical Recipes' betacf) and its derivatives with
    respect to p and q: returns (h, dh/dp, dh/dq)."""
    f = (p + q) / (p + 1.0)
    fp = (1.0 - q) / ((p + 1.0) * (p + 1.0))
    fq = 1.0 / (p + 1.0)
    d = 1.0 - y * f
    dp = -y * fp
    dq = -y * fq
    if abs(d) < _GSK_TINY:
        d = _GSK_TINY
    d = 1.0 / d
    dp = -dp * d * d
    dq = -dq * d * d
    c = 1.0
    cp = 0.0
    cq = 0.0
    h = d
    hp = dp
    hq = dq
    m = 0
    while m < _GSK_MAXITER:
        m += 1
        for odd in range(2):
            if odd == 0:
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
            dnp = aap * d + aa * dp
            dnq = aaq * d + aa * dq
            if abs(dn) < _GSK_TINY:
                dn = _GSK_TINY
            cn = 1.0 + aa / c
            cnp = (aap * c - aa * cp) / (c * c)
            cnq = (aaq * c - aa * cq) / (c * c)
            if abs(cn) < _GSK_TINY:
                cn = _GSK_TINY
            d = 1.0 / dn
            dp = -dnp * d * d
            dq = -dnq * d * d
            c = cn
            cp = cnp
            cq = cnq
            delta = d * c
            deltap = dp * c + d * cp
            deltaq = dq * c + d * cq
            hp = hp * delta + h * deltap
            hq = hq * delta + h * deltaq
            h = h * delta
        if (abs(delta - 1.0) < _GSK_EPS and abs(deltap) < _GSK_EPS * (1.0 + abs(hp / h))
                and abs(deltaq) < _GSK_EPS * (1.0 + abs(hq / h))):
            break
    return h, hp, hq


def _gsk_betainc_dab(a, b, x, wrt):
    """d/da (``wrt == 0``) or d/db (``wrt == 1``) of the regularized incomplete beta
    function I_x(a, b)."""
    if (math.isnan(a) or math.isnan(b) or math.isnan(x) or a <= 0.0 or b <= 0.0 or x < 0.0
            or x > 1.0 or math.isinf(a) or math.isinf(b)):
        return math.nan
    if x == 0.0 or x == 1.0:
        return 0.0
    lx = math.log(x)
    l1x = math.log1p(-x)
    lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    psab = _gsk_digamma(a + b)
    if x < (a + 1.0) / (a + b + 2.0):
        h, hp, hq = _gsk_betacf(a, b, x)
        pref = math.exp(a * lx + b * l1x - lbeta) / a
        if wrt == 0:
            return pref * (h * (lx - _gsk_digamma(a) + psab - 1.0 / a) + hp)
        return pref * (h * (l1x - _gsk_digamma(b) + psab) + hq)
    # I = 1 - I_{1-x}(b, a): differentiate the complement (p = b, q = a)
    h, hp, hq = _gsk_betacf(b, a, 1.0 - x)
    pref = math.exp(a * lx + b * l1x - lbeta) / b
    if wrt == 0:
        return -pref * (h * (lx - _gsk_digamma(a) + psab) + hq)
    return -pref * (h * (l1x - _gsk_digamma(b) + psab - 1.0 / b) + hp)


# (2k)! / B_2k for k = 1..12: the Euler-Maclaurin correction terms of the zeta tail
_GSK_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
               7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
               -4.5979787224074726105e15, 1.8152105401943546773e17,
               -7.1661652561756670113e18)


def _gsk_zeta(s, q):
    """Hurwitz zeta ``sum_k (q + k)^-s`` for ``s > 1`` (Euler-Maclaurin summation)."""
    if math.isnan(s) or math.isnan(q):
        return math.nan
    if s == 1.0:
        return math.inf
    if s < 1.0:
        return math.nan
    if q == math.inf:
        return 0.0
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if s != math.floor(s):
            return math.nan  # (q + k)^-s is not real
    # direct sum until the terms are small and q + n >= 9, then the tail as an integral
    # plus Bernoulli-number corrections
    total = math.pow(q, -s)
    a = q
    term = total
    n = 0
    while n < 9 or a <= 9.0:
        n += 1
        a += 1.0
        term = math.pow(a, -s)
        total += term
        if abs(term) < 1e-17 * abs(total):
            return total
    w = a
    total += term * w / (s - 1.0)
    total -= 0.5 * term
    fac = 1.0
    k = 0.0
    for i in range(12):
        fac *= s + k
        term /= w
        t = fac * term / _GSK_ZETA_A[i]
        total += t
        if abs(t) < 1e-17 * abs(total):
            break
        k += 1.0
        fac *= s + k
        term /= w
        k += 1.0
    return total


def _gsk_polygamma(n, x):
    """``psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)`` for an order ``n >= 1``."""
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * math.gamma(n + 1.0) * _gsk_zeta(n + 1.0, x)
