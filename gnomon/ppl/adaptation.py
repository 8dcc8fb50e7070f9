"""Warm-up adaptation of NUTS: the window schedule, dual averaging of the step size, and the
mass matrix (diagonal, dense or diagonal plus low-rank) from windowed estimates.

The schedule is **Stan's** (Stan Reference Manual, "HMC algorithm parameters", "Automatic
parameter tuning"): an initial fast interval of 75 iterations (step size only), slow windows of
25, 50, 100, ... iterations in which the draws' variances are collected (each ends with a new
diagonal metric, a fresh step-size search and a restart of dual averaging), and a terminal fast
interval of 50 iterations (step size only). With fewer than 150 tuning iterations the three
intervals take 15 %, 75 % and 10 % of them, as Stan does. (PyMC's ``adapt_diag`` instead updates
the metric continuously from exponentially weighted windows; Stan's windows were chosen for their
simple, well-documented behaviour.)

Dual averaging follows Hoffman & Gelman (2014), section 3.2, with Stan's constants
(``gamma=0.05``, ``t0=10``, ``kappa=0.75``, ``mu = log(10 * eps)``). The metric regularisation
is Stan's: ``(n / (n + 5)) * var + 1e-3 * (5 / (n + 5))``.

``init="adapt_full"`` replaces the variances by Stan's regularised sample covariance of the
window (a dense metric); ``init="adapt_low_rank"`` keeps the diagonal and adds the few
directions in which the window's sample correlation matrix differs significantly from the
identity (:func:`metric_update_low_rank`).

The helpers that run every iteration are compiled with Numba and called from the sampler kernel
(``gnomon/ppl/nuts.py``); they take no log-density, so the Python fallback calls them too.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["ADAPT_STEP", "COLLECT", "FIND_STEP", "METRICS", "TUNE_END", "WINDOW_END",
           "metric_update_dense", "metric_update_low_rank", "metric_update_window",
           "window_schedule"]

#: flags of one iteration in the schedule (bits of an int8)
ADAPT_STEP = 1   # update the step size by dual averaging after this transition
COLLECT = 2      # add this draw to the running variance of the current slow window
WINDOW_END = 4   # the slow window ends here: new metric, new step-size search, restart averaging
TUNE_END = 8     # last tuning iteration: fix the step size to the dual-averaging average
FIND_STEP = 16   # search a first step size before this iteration's transition

# indices of the adaptation state in the chain's scalar state vector (``nuts.S_*`` hold the rest)
S_LOG_EPS = 1
S_MU = 2
S_LOG_EPS_BAR = 3
S_HBAR = 4
S_DA_T = 5
S_W_N = 6

DA_GAMMA = 0.05
DA_T0 = 10.0
DA_KAPPA = 0.75


def window_schedule(tune: int, draws: int, init_buffer: int = 75, term_buffer: int = 50,
                    base_window: int = 25) -> np.ndarray:
    """The per-iteration flags of ``tune`` tuning iterations followed by ``draws`` draws.

    Parameters
    ----------
    tune, draws : int
        Numbers of tuning iterations and of kept draws.
    init_buffer, term_buffer, base_window : int
        Stan's ``adapt_init_buffer``, ``adapt_term_buffer`` and ``adapt_window``.

    Returns
    -------
    numpy.ndarray
        ``int8`` flags (``ADAPT_STEP | COLLECT | WINDOW_END | TUNE_END | FIND_STEP``), one per
        iteration.

    Examples
    --------
    >>> from gnomon.ppl.adaptation import WINDOW_END, window_schedule
    >>> s = window_schedule(1000, 10)
    >>> [int(i) for i in np.flatnonzero(s & WINDOW_END)]
    [99, 149, 249, 449, 949]
    """
    flags = np.zeros(tune + draws, dtype=np.int8)
    if tune == 0:
        return flags
    flags[:tune] |= ADAPT_STEP
    flags[0] |= FIND_STEP
    flags[tune - 1] |= TUNE_END
    if tune < 20:  # too short for a variance estimate: step size only
        return flags
    if init_buffer + base_window + term_buffer > tune:
        init_buffer = int(0.15 * tune)
        term_buffer = int(0.1 * tune)
        base_window = tune - init_buffer - term_buffer
    start = init_buffer
    end_slow = tune - term_buffer
    window = base_window
    while start < end_slow:
        stop = start + window
        # a window that would leave less than twice its size before the terminal buffer
        # is stretched to the terminal buffer (Stan's rule)
        if stop + 2 * window >= end_slow:
            stop = end_slow
        flags[start:stop] |= COLLECT
        flags[stop - 1] |= WINDOW_END
        start = stop
        window *= 2
    return flags


@njit(cache=True, nogil=True)
def dual_averaging_update(sc: np.ndarray, accept: float, target: float) -> None:  # pragma: no cover
    """One dual-averaging step of the log step size from a transition's acceptance statistic."""
    t = sc[S_DA_T] + 1.0
    sc[S_DA_T] = t
    if not math.isfinite(accept):
        accept = 0.0
    eta = 1.0 / (t + DA_T0)
    sc[S_HBAR] = (1.0 - eta) * sc[S_HBAR] + eta * (target - accept)
    log_eps = sc[S_MU] - math.sqrt(t) / DA_GAMMA * sc[S_HBAR]
    x = t ** (-DA_KAPPA)
    sc[S_LOG_EPS_BAR] = x * log_eps + (1.0 - x) * sc[S_LOG_EPS_BAR]
    sc[S_LOG_EPS] = log_eps


@njit(cache=True, nogil=True)
def dual_averaging_restart(sc: np.ndarray) -> None:  # pragma: no cover
    """Restart dual averaging around ``mu = log(10 * eps)`` of the current step size."""
    sc[S_MU] = math.log(10.0) + sc[S_LOG_EPS]
    sc[S_DA_T] = 0.0
    sc[S_HBAR] = 0.0
    sc[S_LOG_EPS_BAR] = 0.0


@njit(cache=True, nogil=True)
def welford_add(sc: np.ndarray, mean: np.ndarray, m2: np.ndarray,
                q: np.ndarray) -> None:  # pragma: no cover
    """Add one draw to the running mean and sum of squared deviations (Welford)."""
    k = sc[S_W_N] + 1.0
    sc[S_W_N] = k
    for i in range(q.shape[0]):
        d = q[i] - mean[i]
        mean[i] += d / k
        m2[i] += d * (q[i] - mean[i])


@njit(cache=True, nogil=True)
def metric_update(sc: np.ndarray, mean: np.ndarray, m2: np.ndarray,
                  minv: np.ndarray) -> None:  # pragma: no cover
    """End of a slow window: the regularised variances become the inverse mass matrix, and the
    running estimate restarts."""
    k = sc[S_W_N]
    if k >= 3.0:
        for i in range(minv.shape[0]):
            var = m2[i] / (k - 1.0)
            v = (k / (k + 5.0)) * var + 1e-3 * (5.0 / (k + 5.0))
            if math.isfinite(v) and v > 0.0 and minv[i] > 0.0:  # (0: a frozen coordinate)
                minv[i] = v
    sc[S_W_N] = 0.0
    mean[:] = 0.0
    m2[:] = 0.0


# --- dense and low-rank metrics -----------------------------------------------------------------
#
# The inverse mass matrix is ``M^-1 = S (I + U diag(lam - 1) U^T) S`` with ``S = diag(sqrt(minv))``
# and orthonormal columns ``U`` (``nuts.py`` applies it in O(n k)): ``k = 0`` is the diagonal
# metric, ``k = n`` a dense one, ``0 < k < n`` the low-rank one. These updates run five times
# per chain, in the driver with NumPy (``sampling._Chain.advance``): Numba's LAPACK bindings in
# the kernel doubled its compile time (19 -> 39 s of CPU). A coordinate with ``minv = 0``
# is frozen (a discrete or Metropolis-sampled coordinate in a compound step): every update
# below keeps it at 0 and its row of ``U`` at 0, so NUTS never moves it.

METRICS = ("diag", "dense", "low_rank")


def metric_update_window(metric: int, x: np.ndarray, minv: np.ndarray, u: np.ndarray,
                         lam: np.ndarray) -> None:
    """End of a slow window of a dense (``metric=1``) or low-rank (``2``) metric: update
    ``minv``, ``u``, ``lam`` in place from the window's draws ``x`` (``(k, n)``). Runs in the
    sampler's driver with NumPy, between two calls of the chain kernel."""
    if metric == 1:
        metric_update_dense(x, minv, u, lam)
    else:
        metric_update_low_rank(x, minv, u, lam)


def _window_moments(x: np.ndarray, minv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred draws of the window ``x`` (``(k, n)``); frozen columns are zero."""
    xc = x - x.mean(axis=0)
    xc[:, minv <= 0.0] = 0.0
    return x.mean(axis=0), xc


def metric_update_dense(x: np.ndarray, minv: np.ndarray, u: np.ndarray,
                        lam: np.ndarray) -> None:
    """Dense metric: Stan's regularised sample covariance of the window's draws ``x``
    (``(k, n)``), ``(k / (k + 5)) cov + 1e-3 (5 / (k + 5)) I``, becomes the inverse mass
    matrix, stored as its diagonal and the eigendecomposition of the implied correlation
    matrix (``u`` is ``(n, n)``)."""
    k = x.shape[0]
    if k < 3:
        return
    _, xc = _window_moments(x, minv)
    a = k / (k + 5.0)
    b = 1e-3 * (5.0 / (k + 5.0))
    cov = a * (xc.T @ xc) / (k - 1.0)
    active = minv > 0.0
    sd = np.where(active, np.sqrt(np.diag(cov) + b), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(np.outer(active, active), cov / np.outer(sd, sd), 0.0)
    np.fill_diagonal(c, 1.0)  # (frozen coordinates: an identity block, eigenvalue 1)
    if not np.all(np.isfinite(c)):
        return  # keep the previous metric
    w, v = np.linalg.eigh(c)
    if not np.all(w > 0.0):
        return
    minv[:] = sd * sd
    u[:] = np.where(active[:, None], v, 0.0)
    lam[:] = w


def metric_update_low_rank(x: np.ndarray, minv: np.ndarray, u: np.ndarray,
                           lam: np.ndarray) -> None:
    """Diagonal plus low-rank metric (at most ``lam.shape[0]`` directions).

    The diagonal is Stan's regularised variance (as :func:`metric_update`). In the standardised
    coordinates the window's sample correlation matrix has eigenvalues ``e_j`` (from the SVD of
    the standardised draws, never an ``n x n`` matrix); an eigenvalue inside the
    Marchenko-Pastur interval ``[(1 - sqrt(g))^2, (1 + sqrt(g))^2]``, ``g = n / (k - 1)``, is
    what uncorrelated draws of this window size give, so only directions outside it are kept,
    those farthest from 1 in log scale first, each regularised with Stan's formula in the
    standardised coordinates, ``lam = (k / (k + 5)) e + 1e-3 (5 / (k + 5))``. Directions not
    kept get eigenvalue 1.
    """
    k = x.shape[0]
    cap = lam.shape[0]
    if k < 3:
        return
    _, xc = _window_moments(x, minv)
    a = k / (k + 5.0)
    var = np.sum(xc * xc, axis=0) / (k - 1.0)
    active = (minv > 0.0) & (var > 0.0) & np.isfinite(var)
    v_new = a * var + 1e-3 * (1.0 - a)
    upd = (minv > 0.0) & np.isfinite(v_new) & (v_new > 0.0)
    minv[upd] = v_new[upd]
    u[:] = 0.0
    lam[:] = 1.0
    n_act = int(active.sum())
    if cap == 0 or n_act < 2:
        return
    z = np.where(active, xc / np.sqrt(np.where(active, var, 1.0) * (k - 1.0)), 0.0)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    m = min(k - 1, n_act, s.shape[0])
    e = s[:m] ** 2
    g = n_act / (k - 1.0)
    hi = (1.0 + math.sqrt(g)) ** 2
    lo = (1.0 - math.sqrt(g)) ** 2 if g < 1.0 else 0.0
    lam_new = a * e + 1e-3 * (1.0 - a)
    sig = np.flatnonzero(((e > hi) | (e < lo)) & np.isfinite(e))
    keep = sig[np.argsort(-np.abs(np.log(lam_new[sig])), kind="stable")][:cap]
    lam[:keep.size] = lam_new[keep]
    u[:, :keep.size] = vt[keep].T
