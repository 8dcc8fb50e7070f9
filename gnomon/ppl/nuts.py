"""The No-U-Turn Sampler (NUTS) as in Stan, compiled with Numba.

One chain runs in :func:`run_chain`, a ``nopython`` + ``nogil`` kernel compiled once per machine
(``cache=True``) that performs a range of iterations: momentum draw, trajectory doubling with
leapfrog steps, multinomial sampling of the next state, and the warm-up adaptation
(``gnomon/ppl/adaptation.py``). The log-density is an argument of first-class function type
``f(q) -> (logp, gradient)`` (:data:`LOGP_TYPE`): the model's compiled log-density and gradient is
called through a function pointer, with no Python per leapfrog step, and the kernel is not
recompiled for a new model.

The metric is ``M^-1 = S (I + U diag(lam - 1) U^T) S`` (``adaptation.py``): diagonal (no columns
in ``U``), dense or diagonal plus low-rank, applied in O(n k) per leapfrog step; a coordinate
with inverse mass 0 is frozen (NUTS never moves it). Each iteration runs the rows of a block
table in order: the NUTS transition and the Metropolis-type steps of a compound sampler
(``metropolis.py``, ``compound.py``), which call a second log-density ``f_lp``.

The algorithm (Betancourt 2017, "A Conceptual Introduction to Hamiltonian Monte Carlo",
appendix A; Stan's ``base_nuts``):

* the trajectory doubles in a random direction until the **generalized no-U-turn criterion**
  ``p_sharp(-) . rho > 0 and p_sharp(+) . rho > 0`` fails for the whole trajectory or for any
  subtree, where ``rho`` sums the momenta and ``p_sharp = M^{-1} p``; as in Stan >= 2.26 two
  extra checks at each merge include the neighbouring state of the other half, which stops the
  rare trajectories whose halves pass but whose union makes a U-turn;
* **multinomial** trajectory sampling: inside a subtree the state is drawn in proportion to
  ``exp(-H)``; the new subtree replaces the current sample with probability
  ``min(1, w_new / w_old)`` (biased progressive sampling);
* a leaf whose energy exceeds the initial energy by more than 1000 is a **divergence**: the
  subtree is dropped and the transition ends;
* at most ``max_treedepth`` doublings (10 by default).

Subtrees are built iteratively: the leaves of a subtree of ``2**d`` steps are pushed on a stack
that merges its two top entries while they have equal size (a binary counter), so no recursion
is needed and each merge checks the criteria of the pair.

The same source runs without Numba (``run_chain.py_func``) for a log-density that is a Python
callable; that path pays Python's cost at every array operation of every leapfrog step
(about 15x slower per gradient evaluation than the compiled kernel on eight schools).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from gnomon.ppl.adaptation import (
    ADAPT_STEP,
    COLLECT,
    FIND_STEP,
    S_LOG_EPS,
    S_LOG_EPS_BAR,
    TUNE_END,
    WINDOW_END,
    dual_averaging_restart,
    dual_averaging_update,
    metric_update,
    welford_add,
)
from gnomon.ppl.metropolis import (
    B_KIND,
    B_LEN,
    B_OFF,
    B_STAT,
    C_NCAT,
    K_BINARY_GIBBS,
    K_METROPOLIS,
    K_NUTS,
    binary_gibbs_update,
    categorical_gibbs_update,
    metropolis_update,
)

__all__ = ["LOGP_SIG", "LOGP_TYPE", "STAT_NAMES", "run_chain"]

_A = types.float64[::1]
_A2 = types.float64[:, ::1]
#: the log-density's type: ``f(q) -> (logp, gradient)``
LOGP_SIG = types.Tuple((types.float64, _A))(_A)
LOGP_TYPE = types.FunctionType(LOGP_SIG)

#: scalar state of a chain (``sc``): the current log-density; adaptation.S_* use 1..6
S_LOGP = 0
#: a dense or low-rank metric update is due (the kernel returned at a window's end:
#: PENDING_METRIC), or was done by the driver and the step size must be searched again
S_PENDING = 7
PENDING_METRIC = 1.0
PENDING_SEARCH = 2.0
N_SCALARS = 8

#: settings (``cfg``)
C_TARGET = 0
C_MAXDEPTH = 1
C_MAX_DH = 2
C_METRIC = 3     # 0: diagonal, 1: dense, 2: diagonal plus low-rank (adaptation.METRICS)
C_TUNE = 4       # number of tuning iterations (Metropolis blocks tune before it)
N_SETTINGS = 5

#: columns of the per-iteration statistics (``out_stats``), named as PyMC and ArviZ name them
STAT_NAMES = ("lp", "energy", "step_size", "step_size_bar", "acceptance_rate", "n_steps",
              "tree_depth", "diverging", "energy_error", "max_energy_error")
_ST_LP, _ST_ENERGY, _ST_EPS, _ST_EPS_BAR, _ST_ACC, _ST_NSTEPS, _ST_DEPTH, _ST_DIV, _ST_DH, \
    _ST_MAXDH = range(len(STAT_NAMES))


@njit(cache=True, nogil=True)
def _dot2(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:  # pragma: no cover
    """``a . (b + c)`` without a temporary."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * (b[i] + c[i])
    return s


@njit(cache=True, nogil=True)
def _criterion(ps_minus: np.ndarray, ps_plus: np.ndarray, r1: np.ndarray,
               r2: np.ndarray) -> bool:  # pragma: no cover
    """The generalized no-U-turn criterion with ``rho = r1 + r2``: True while it persists."""
    return _dot2(ps_minus, r1, r2) > 0.0 and _dot2(ps_plus, r1, r2) > 0.0


@njit(cache=True, nogil=True)
def _logaddexp(a: float, b: float) -> float:  # pragma: no cover
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


@njit(cache=True, nogil=True)
def _sharp(out: np.ndarray, p: np.ndarray, minv: np.ndarray, sd: np.ndarray, u: np.ndarray,
           lam: np.ndarray, tk: np.ndarray) -> None:  # pragma: no cover
    """``out = M^-1 p`` with ``M^-1 = S (I + U diag(lam - 1) U^T) S`` (``adaptation.py``):
    O(n) for the diagonal metric (no columns in ``u``), O(n k) with ``k`` columns."""
    n = p.shape[0]
    k = lam.shape[0]
    if k == 0:
        for i in range(n):
            out[i] = minv[i] * p[i]
        return
    for j in range(k):
        tk[j] = 0.0
    for i in range(n):
        x = sd[i] * p[i]
        out[i] = x
        for j in range(k):
            tk[j] += u[i, j] * x
    for j in range(k):
        tk[j] *= lam[j] - 1.0
    for i in range(n):
        x = out[i]
        for j in range(k):
            x += u[i, j] * tk[j]
        out[i] = sd[i] * x


@njit(cache=True, nogil=True)
def _momentum(p: np.ndarray, minv: np.ndarray, sd: np.ndarray, u: np.ndarray, lam: np.ndarray,
              tk: np.ndarray, rng: np.random.Generator) -> None:  # pragma: no cover
    """``p ~ N(0, M)``: ``p = S^-1 (z + U diag(lam^-1/2 - 1) U^T z)``; 0 on frozen coordinates
    (``minv = 0``)."""
    n = p.shape[0]
    k = lam.shape[0]
    for i in range(n):
        p[i] = rng.standard_normal()
    if k > 0:
        for j in range(k):
            tk[j] = 0.0
        for i in range(n):
            for j in range(k):
                tk[j] += u[i, j] * p[i]
        for j in range(k):
            tk[j] *= 1.0 / math.sqrt(lam[j]) - 1.0
        for i in range(n):
            for j in range(k):
                p[i] += u[i, j] * tk[j]
    for i in range(n):
        p[i] = p[i] / sd[i] if minv[i] > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _dot(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


def _run_chain(f, f_lp, q, g, sc, minv, u, lam, w_mean, w_m2, cfg, schedule, out_q, out_stats,
               rng, start, stop, blocks, bidx, bcoord, bf,
               out_mh):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = q.shape[0]
    target = cfg[C_TARGET]
    maxdepth = int(cfg[C_MAXDEPTH])
    max_dh = cfg[C_MAX_DH]
    metric = int(cfg[C_METRIC])
    n_tune = int(cfg[C_TUNE])
    sd = np.sqrt(minv)
    tk = np.empty(lam.shape[0])
    tx = np.empty(n)
    psc = np.empty(n)
    mh_delta = np.empty(bidx.shape[0])
    mh_order = np.empty(bidx.shape[0], dtype=np.int64)
    max_cat = 2
    for r in range(bcoord.shape[0]):
        max_cat = max(max_cat, int(bcoord[r, C_NCAT]))
    mh_lps = np.empty(max_cat)
    # trajectory edges (m: earliest in time, p: latest), the current leaf, the sample
    qm = np.empty(n)
    pm = np.empty(n)
    gm = np.empty(n)
    psm = np.empty(n)
    qp = np.empty(n)
    pp = np.empty(n)
    gp = np.empty(n)
    psp = np.empty(n)
    qc = np.empty(n)
    pc = np.empty(n)
    gc = np.empty(n)
    p0 = np.empty(n)
    rho = np.empty(n)
    qs = np.empty(n)
    gs = np.empty(n)
    # the stack of subtrees being built (binary counter): first and last momenta (and their
    # sharp versions) in build order, summed momenta, sampled state, log-weight, size
    k_max = maxdepth + 2
    st_pb = np.empty((k_max, n))
    st_psb = np.empty((k_max, n))
    st_pe = np.empty((k_max, n))
    st_pse = np.empty((k_max, n))
    st_rho = np.empty((k_max, n))
    st_q = np.empty((k_max, n))
    st_g = np.empty((k_max, n))
    st_lp = np.empty(k_max)
    st_h = np.empty(k_max)
    st_lw = np.empty(k_max)
    st_size = np.empty(k_max, dtype=np.int64)
    has_nuts = False
    for blk in range(blocks.shape[0]):
        if blocks[blk, B_KIND] == K_NUTS:
            has_nuts = True

    def leapfrog(qx, px, gx, eps):  # type: ignore[no-untyped-def]
        for i in range(n):
            px[i] += 0.5 * eps * gx[i]
        _sharp(tx, px, minv, sd, u, lam, tk)
        for i in range(n):
            qx[i] += eps * tx[i]
        lp, gr = f(qx)
        for i in range(n):
            gx[i] = gr[i]
            px[i] += 0.5 * eps * gx[i]
        return lp

    def kinetic(px):  # type: ignore[no-untyped-def]
        _sharp(tx, px, minv, sd, u, lam, tk)
        return 0.5 * _dot(px, tx)

    def find_step_size():  # type: ignore[no-untyped-def]
        # Stan's heuristic: double (halve) the step size while one leapfrog step from the
        # current point accepts more (less) often than 80 %
        eps = math.exp(sc[S_LOG_EPS])
        direction = 0
        for _ in range(100):
            _momentum(p0, minv, sd, u, lam, tk, rng)
            h0 = -sc[S_LOGP] + kinetic(p0)
            qc[:] = q
            pc[:] = p0
            gc[:] = g
            lp = leapfrog(qc, pc, gc, eps)
            h = -lp + kinetic(pc)
            if math.isnan(h):
                h = math.inf
            dh = h0 - h
            if direction == 0:
                direction = 1 if dh > math.log(0.8) else -1
            if direction == 1 and not dh > math.log(0.8):
                break
            if direction == -1 and not dh < math.log(0.8):
                break
            eps = 2.0 * eps if direction == 1 else 0.5 * eps
            if eps > 1e7 or eps < 1e-12:
                break
        sc[S_LOG_EPS] = math.log(eps)

    # the state was changed by a Metropolis block: NUTS needs the log-density and gradient.
    # A previous call may have ended after such a block, so with any block besides NUTS the
    # first NUTS transition of this call re-evaluates them.
    stale = blocks.shape[0] > 1
    if sc[S_PENDING] == PENDING_SEARCH:  # the driver has set a new metric
        if stale:
            lp_new, gr = f(q)
            sc[S_LOGP] = lp_new
            g[:] = gr
            stale = False
        find_step_size()
        dual_averaging_restart(sc)
        sc[S_PENDING] = 0.0
    # a Metropolis block's log-density of the current state is known (from f_lp)
    lp_mh = 0.0
    lp_mh_ok = False
    for it in range(start, stop):
        flags = schedule[it]
        tuning = it < n_tune
        for blk in range(blocks.shape[0]):
            kind = blocks[blk, B_KIND]
            if kind == K_NUTS:
                if stale:
                    lp_new, gr = f(q)
                    sc[S_LOGP] = lp_new
                    g[:] = gr
                    stale = False
                if flags & FIND_STEP:
                    find_step_size()
                    dual_averaging_restart(sc)
                eps = math.exp(sc[S_LOG_EPS])
                _momentum(p0, minv, sd, u, lam, tk, rng)
                lp0 = sc[S_LOGP]
                h0 = -lp0 + kinetic(p0)
                # the trajectory is the initial state
                qm[:] = q
                pm[:] = p0
                gm[:] = g
                _sharp(psm, p0, minv, sd, u, lam, tk)
                qp[:] = q
                pp[:] = p0
                gp[:] = g
                psp[:] = psm
                rho[:] = p0
                qs[:] = q
                gs[:] = g
                lps = lp0
                hs = h0
                log_w = 0.0
                depth = 0
                n_steps = 0
                sum_acc = 0.0
                divergent = False
                max_err = 0.0
                while depth < maxdepth:
                    direction = 1.0 if rng.random() < 0.5 else -1.0
                    if direction > 0:
                        qc[:] = qp
                        pc[:] = pp
                        gc[:] = gp
                    else:
                        qc[:] = qm
                        pc[:] = pm
                        gc[:] = gm
                    # build a subtree of 2**depth leapfrog steps from that edge
                    top = 0
                    valid = True
                    lpc = 0.0
                    for _leaf in range(1 << depth):
                        lpc = leapfrog(qc, pc, gc, direction * eps)
                        _sharp(psc, pc, minv, sd, u, lam, tk)
                        h = -lpc + 0.5 * _dot(pc, psc)
                        if math.isnan(h):
                            h = math.inf
                        n_steps += 1
                        dh = h - h0
                        if not abs(dh) <= abs(max_err):
                            max_err = dh
                        sum_acc += math.exp(-dh) if dh > 0.0 else 1.0
                        if dh > max_dh:
                            divergent = True
                            valid = False
                            break
                        st_pb[top] = pc
                        st_psb[top] = psc
                        st_pe[top] = pc
                        st_pse[top] = st_psb[top]
                        st_rho[top] = pc
                        st_q[top] = qc
                        st_g[top] = gc
                        st_lp[top] = lpc
                        st_h[top] = h
                        st_lw[top] = -dh
                        st_size[top] = 1
                        top += 1
                        while top >= 2 and st_size[top - 1] == st_size[top - 2]:
                            a = top - 2
                            b = top - 1
                            ok = (_criterion(st_psb[a], st_pse[b], st_rho[a], st_rho[b])
                                  and _criterion(st_psb[a], st_psb[b], st_rho[a], st_pb[b])
                                  and _criterion(st_pse[a], st_pse[b], st_rho[b], st_pe[a]))
                            lw = _logaddexp(st_lw[a], st_lw[b])
                            if math.log(rng.random()) < st_lw[b] - lw:
                                st_q[a] = st_q[b]
                                st_g[a] = st_g[b]
                                st_lp[a] = st_lp[b]
                                st_h[a] = st_h[b]
                            st_lw[a] = lw
                            for i in range(n):
                                st_rho[a, i] += st_rho[b, i]
                            st_pe[a] = st_pe[b]
                            st_pse[a] = st_pse[b]
                            st_size[a] *= 2
                            top -= 1
                            if not ok:
                                valid = False
                                break
                        if not valid:
                            break
                    if not valid:
                        break
                    depth += 1
                    # biased progressive sampling: prefer the new subtree
                    if math.log(rng.random()) < st_lw[0] - log_w:
                        qs[:] = st_q[0]
                        gs[:] = st_g[0]
                        lps = st_lp[0]
                        hs = st_h[0]
                    log_w = _logaddexp(log_w, st_lw[0])
                    # criteria across the old trajectory (in build order) and the new subtree
                    if direction > 0:
                        ok = (_criterion(psm, st_pse[0], rho, st_rho[0])
                              and _criterion(psm, st_psb[0], rho, st_pb[0])
                              and _criterion(psp, st_pse[0], st_rho[0], pp))
                    else:
                        ok = (_criterion(psp, st_pse[0], rho, st_rho[0])
                              and _criterion(psp, st_psb[0], rho, st_pb[0])
                              and _criterion(psm, st_pse[0], st_rho[0], pm))
                    for i in range(n):
                        rho[i] += st_rho[0, i]
                    if direction > 0:
                        qp[:] = qc
                        pp[:] = pc
                        gp[:] = gc
                        psp[:] = st_pse[0]
                    else:
                        qm[:] = qc
                        pm[:] = pc
                        gm[:] = gc
                        psm[:] = st_pse[0]
                    if not ok:
                        break
                q[:] = qs
                g[:] = gs
                sc[S_LOGP] = lps
                acc = sum_acc / n_steps if n_steps > 0 else 0.0
                st = out_stats[it]
                st[_ST_LP] = lps
                st[_ST_ENERGY] = hs
                st[_ST_EPS] = eps
                st[_ST_EPS_BAR] = math.exp(sc[S_LOG_EPS_BAR])
                st[_ST_ACC] = acc
                st[_ST_NSTEPS] = n_steps
                st[_ST_DEPTH] = depth
                st[_ST_DIV] = 1.0 if divergent else 0.0
                st[_ST_DH] = hs - h0
                st[_ST_MAXDH] = max_err
                lp_mh_ok = False
                continue
            off = blocks[blk, B_OFF]
            ln = blocks[blk, B_LEN]
            if not lp_mh_ok:
                lp_mh, _gr = f_lp(q)
                lp_mh_ok = True
            idx = bidx[off:off + ln]
            if kind == K_METROPOLIS:
                lp_mh, acc, n_acc, scal = metropolis_update(
                    f_lp, q, lp_mh, idx, bcoord[off:off + ln], blocks[blk], tuning, rng,
                    mh_delta, mh_order)
                col = blocks[blk, B_STAT]
                out_mh[it, col] = acc
                out_mh[it, col + 1] = n_acc
                out_mh[it, col + 2] = scal
            elif kind == K_BINARY_GIBBS:
                lp_mh = binary_gibbs_update(f_lp, q, lp_mh, idx, blocks[blk], bf[blk], rng,
                                            mh_order)
            else:
                lp_mh = categorical_gibbs_update(f_lp, q, lp_mh, idx, bcoord[off:off + ln],
                                                 blocks[blk], rng, mh_order, mh_lps)
            stale = True
        out_q[it] = q
        if not has_nuts:
            continue
        # adaptation (after every block, so the window's draws include this iteration)
        if flags & ADAPT_STEP:
            dual_averaging_update(sc, out_stats[it, _ST_ACC], target)
        if flags & COLLECT:
            welford_add(sc, w_mean, w_m2, q)
        if flags & WINDOW_END:
            if metric == 0:
                metric_update(sc, w_mean, w_m2, minv)
            else:
                # dense / low-rank: the driver computes the metric from the window's draws
                # with NumPy (no LAPACK in this kernel: it would double its compile time)
                # and calls again; that call starts with the step-size search
                sc[S_PENDING] = PENDING_METRIC
                return it + 1
            for i in range(n):
                sd[i] = math.sqrt(minv[i])
            if stale:
                lp_new, gr = f(q)
                sc[S_LOGP] = lp_new
                g[:] = gr
                stale = False
            find_step_size()
            dual_averaging_restart(sc)
        if flags & TUNE_END:
            sc[S_LOG_EPS] = sc[S_LOG_EPS_BAR]
    return stop


_GEN = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
_I2 = types.int64[:, ::1]
_SIG = types.int64(LOGP_TYPE, LOGP_TYPE, _A, _A, _A, _A, _A2, _A, _A, _A, _A, types.int8[::1],
                   _A2, _A2, _GEN, types.int64, types.int64, _I2, types.int64[::1], _A2, _A, _A2)

_compiled = None


def _python_chain():  # type: ignore[no-untyped-def]
    """``_run_chain`` with the Numba helpers that take the log-density replaced by their Python
    functions (a Python log-density cannot be passed to a compiled function)."""
    import types as _pytypes

    glb = dict(globals())
    glb.update(metropolis_update=metropolis_update.py_func,
               binary_gibbs_update=binary_gibbs_update.py_func,
               categorical_gibbs_update=categorical_gibbs_update.py_func)
    return _pytypes.FunctionType(_run_chain.__code__, glb, "_run_chain_py")


def nuts_only_blocks() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The block tables of a sampler that is NUTS alone: ``(blocks, bidx, bcoord, bf)``."""
    from gnomon.ppl.metropolis import N_BCOLS, N_CCOLS

    blocks = np.zeros((1, N_BCOLS), dtype=np.int64)
    blocks[0, B_KIND] = K_NUTS
    return blocks, np.zeros(0, dtype=np.int64), np.zeros((0, N_CCOLS)), np.zeros(1)


def run_chain(f, f_lp, q, g, sc, minv, u, lam, w_mean, w_m2, cfg, schedule, out_q, out_stats,
              rng, start, stop, blocks, bidx, bcoord, bf,
              out_mh):  # type: ignore[no-untyped-def]
    """Run iterations ``start:stop`` of one chain in place (state arrays are updated); returns
    the iteration it stopped before: ``stop``, or earlier at the end of a slow window of a dense
    or low-rank metric (``sc[S_PENDING]``: the caller updates the metric, see
    ``sampling._Chain.advance``, and calls again).

    Every iteration runs the blocks of ``blocks`` in order: the NUTS transition (with the
    metric ``minv``, ``u``, ``lam`` and its adaptation) and Metropolis-type steps
    (``gnomon/ppl/metropolis.py``) that evaluate ``f_lp``. ``f`` and ``f_lp`` are either Numba
    functions of type :data:`LOGP_TYPE` (compiled kernel, no GIL) or Python callables with the
    same signature (the same algorithm in Python). The first call compiles the kernel, or
    loads it from Numba's disk cache.
    """
    args = (f, f_lp, q, g, sc, minv, u, lam, w_mean, w_m2, cfg, schedule, out_q, out_stats, rng,
            start, stop, blocks, bidx, bcoord, bf, out_mh)
    if isinstance(f, _NUMBA_CALLABLES):
        return compiled_kernel()(*args)
    return _python_chain()(*args)


def compiled_kernel():  # type: ignore[no-untyped-def]
    """The compiled kernel (compiled on first use, or loaded from Numba's disk cache)."""
    global _compiled
    if _compiled is None:
        _compiled = njit(_SIG, cache=True, nogil=True)(_run_chain)
    return _compiled


def _numba_callables() -> tuple[type, ...]:
    from numba.core.registry import CPUDispatcher
    return (CPUDispatcher,)


_NUMBA_CALLABLES = _numba_callables()
