"""The No-U-Turn Sampler (NUTS) as in Stan, compiled with Numba.

One chain runs in :func:`run_chain`, a ``nopython`` + ``nogil`` kernel compiled once per machine
(``cache=True``) that performs a range of iterations: momentum draw, trajectory doubling with
leapfrog steps, multinomial sampling of the next state, and the warm-up adaptation
(``gnomon/ppl/adaptation.py``). The log-density is an argument of first-class function type
``f(q_address, grad_address) -> logp`` (:data:`LOGP_TYPE`, a plain C ABI: ``double f(const double
*q, double *grad)``, the gradient written in place, not at all when ``grad_address`` is 0): the
model's compiled log-density and gradient is called through a function pointer, with no Python per
leapfrog step, and the kernel is not recompiled for a new model. The C ABI lets the same kernel
call a log-density compiled by Numba or by the C compiler (``gnomon/ppl/c_logp.py``: a new model
then needs no Numba compile at all), and no array crosses the call. The kernel is a driver loop
over the iterations that calls the NUTS transition, the step-size search and the Metropolis-type
blocks through function pointers too: each is compiled and cached once on its own, and none is
linked into (and optimized again with) the driver, which keeps the one-time compile short
(docs/ppl.md, "Its compile time").

The metric is ``M^-1 = S (I + U diag(lam - 1) U^T) S`` (``adaptation.py``): diagonal (no columns
in ``U``), dense or diagonal plus low-rank, applied in O(n k) per leapfrog step; a coordinate
with inverse mass 0 is frozen (NUTS never moves it). Each iteration runs the rows of a block
table in order: the NUTS transition and the Metropolis-type steps of a compound sampler
and slice steps (``metropolis.py``, ``compound.py``), which call a second log-density ``f_lp``.

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
import threading

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

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
    K_SLICE,
    NO_GRAD,
    binary_gibbs_update,
    categorical_gibbs_update,
    metropolis_update,
    slice_update,
)

__all__ = ["ARRAY_LOGP_SIG", "LOGP_SIG", "LOGP_TYPE", "STAT_NAMES", "as_f64_pointer", "run_chain"]

@intrinsic
def as_f64_pointer(typingctx, addr):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The integer address ``addr`` as a ``double *`` (for ``numba.carray``): how a compiled
    log-density of the kernel's calling convention views ``q`` and the gradient."""
    ptr = types.CPointer(types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.inttoptr(args[0], context.get_value_type(ptr))

    return ptr(addr), codegen


_A = types.float64[::1]
_A2 = types.float64[:, ::1]
_A3 = types.float64[:, :, ::1]
_GEN = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
#: the log-density's type: ``f(q_address, grad_address) -> logp`` (``double f(const double *q,
#: double *grad)`` in C; the gradient is written only when ``grad_address`` is not 0)
LOGP_SIG = types.float64(types.uintp, types.uintp)
LOGP_TYPE = types.FunctionType(LOGP_SIG)
#: a log-density written in Numba the convenient way, ``f(q) -> (logp, gradient)``
#: (``LogpDlogpFunction.numba_fn``; ``sampling._kernel_logp`` adapts one for the kernel)
ARRAY_LOGP_SIG = types.Tuple((types.float64, _A))(_A)

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


@njit(cache=True, nogil=True)
def _copy(dst: np.ndarray, src: np.ndarray) -> None:  # pragma: no cover
    """``dst[:] = src`` as a loop: a slice assignment makes Numba type and lower its
    broadcasting and shape-error machinery at every use (about 0.2 s of compile time each)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(cache=True, nogil=True)
def _leapfrog(f, qx, px, gx, eps, minv, sd, u, lam, tk,
              tx):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One leapfrog step of size ``eps`` from ``(qx, px, gx)`` in place; returns the
    log-density at the new position."""
    n = qx.shape[0]
    for i in range(n):
        px[i] += 0.5 * eps * gx[i]
    _sharp(tx, px, minv, sd, u, lam, tk)
    for i in range(n):
        qx[i] += eps * tx[i]
    lp = f(qx.ctypes.data, gx.ctypes.data)
    for i in range(n):
        px[i] += 0.5 * eps * gx[i]
    return lp


@njit(cache=True, nogil=True)
def _kinetic(px, minv, sd, u, lam, tk, tx):  # type: ignore[no-untyped-def]  # pragma: no cover
    _sharp(tx, px, minv, sd, u, lam, tk)
    return 0.5 * _dot(px, tx)


#: rows of the work array ``ws`` of a chain (each a vector of the chain's length): trajectory
#: edges (m: earliest in time, p: latest), the current leaf, the initial momentum, the summed
#: momenta, the sampled state, and scratch vectors
_W_QM, _W_PM, _W_GM, _W_PSM, _W_QP, _W_PP, _W_GP, _W_PSP, _W_QC, _W_PC, _W_GC, _W_P0, _W_RHO, \
    _W_QS, _W_GS, _W_PSC, _W_TX = range(17)
_N_W = 17
#: the stack of subtrees being built (binary counter), ``stk[_K_*, level]``: first and last
#: momenta (and their sharp versions) in build order, summed momenta, sampled state and gradient
_K_PB, _K_PSB, _K_PE, _K_PSE, _K_RHO, _K_Q, _K_G = range(7)
_N_K = 7
#: scalars of a stack level (``sts[level, _T_*]``): log-density, energy, log-weight
_T_LP, _T_H, _T_LW = range(3)


#: ``_find_step_size``, ``_transition`` and ``_mh_block`` are compiled on their own and passed
#: to the driver as function pointers (Numba's first-class function type, as the log-density
#: is): a direct call would make Numba link their code (and everything they call) into the
#: driver's module and optimize and generate machine code for all of it a second time
_FIND_SIG = types.void(LOGP_TYPE, _A, _A, _A, _A2, _A, _A, _A2, _A, _A, _GEN)
_TRANSITION_SIG = types.void(LOGP_TYPE, _A, _A, _A, _A, _A, _A2, _A, _A, _A2, _A3, _A2,
                             types.int64[::1], types.int64, types.float64, _GEN, _A)


@njit(cache=True, nogil=True)
def _find_step_size(f, sc, q, g, ws, minv, sd, u, lam, tk,
                    rng):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Stan's heuristic: double (halve) the step size while one leapfrog step from the current
    point accepts more (less) often than 80 %."""
    p0 = ws[_W_P0]
    qc = ws[_W_QC]
    pc = ws[_W_PC]
    gc = ws[_W_GC]
    tx = ws[_W_TX]
    eps = math.exp(sc[S_LOG_EPS])
    direction = 0
    for _ in range(100):
        _momentum(p0, minv, sd, u, lam, tk, rng)
        h0 = -sc[S_LOGP] + _kinetic(p0, minv, sd, u, lam, tk, tx)
        _copy(qc, q)
        _copy(pc, p0)
        _copy(gc, g)
        lp = _leapfrog(f, qc, pc, gc, eps, minv, sd, u, lam, tk, tx)
        h = -lp + _kinetic(pc, minv, sd, u, lam, tk, tx)
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


@njit(cache=True, nogil=True)
def _transition(f, q, g, sc, minv, sd, u, lam, tk, ws, stk, sts, st_size, maxdepth, max_dh,
                rng, st):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One NUTS transition from ``(q, g, sc[S_LOGP])`` in place; writes the iteration's
    statistics into ``st`` (a row of ``out_stats``)."""
    n = q.shape[0]
    qm = ws[_W_QM]
    pm = ws[_W_PM]
    gm = ws[_W_GM]
    psm = ws[_W_PSM]
    qp = ws[_W_QP]
    pp = ws[_W_PP]
    gp = ws[_W_GP]
    psp = ws[_W_PSP]
    qc = ws[_W_QC]
    pc = ws[_W_PC]
    gc = ws[_W_GC]
    p0 = ws[_W_P0]
    rho = ws[_W_RHO]
    qs = ws[_W_QS]
    gs = ws[_W_GS]
    psc = ws[_W_PSC]
    tx = ws[_W_TX]
    st_pb = stk[_K_PB]
    st_psb = stk[_K_PSB]
    st_pe = stk[_K_PE]
    st_pse = stk[_K_PSE]
    st_rho = stk[_K_RHO]
    st_q = stk[_K_Q]
    st_g = stk[_K_G]
    eps = math.exp(sc[S_LOG_EPS])
    _momentum(p0, minv, sd, u, lam, tk, rng)
    lp0 = sc[S_LOGP]
    h0 = -lp0 + _kinetic(p0, minv, sd, u, lam, tk, tx)
    # the trajectory is the initial state
    _copy(qm, q)
    _copy(pm, p0)
    _copy(gm, g)
    _sharp(psm, p0, minv, sd, u, lam, tk)
    _copy(qp, q)
    _copy(pp, p0)
    _copy(gp, g)
    _copy(psp, psm)
    _copy(rho, p0)
    _copy(qs, q)
    _copy(gs, g)
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
            _copy(qc, qp)
            _copy(pc, pp)
            _copy(gc, gp)
        else:
            _copy(qc, qm)
            _copy(pc, pm)
            _copy(gc, gm)
        # build a subtree of 2**depth leapfrog steps from that edge
        top = 0
        valid = True
        lpc = 0.0
        for _leaf in range(1 << depth):
            lpc = _leapfrog(f, qc, pc, gc, direction * eps, minv, sd, u, lam, tk, tx)
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
            _copy(st_pb[top], pc)
            _copy(st_psb[top], psc)
            _copy(st_pe[top], pc)
            _copy(st_pse[top], psc)
            _copy(st_rho[top], pc)
            _copy(st_q[top], qc)
            _copy(st_g[top], gc)
            sts[top, _T_LP] = lpc
            sts[top, _T_H] = h
            sts[top, _T_LW] = -dh
            st_size[top] = 1
            top += 1
            while top >= 2 and st_size[top - 1] == st_size[top - 2]:
                a = top - 2
                b = top - 1
                ok = (_criterion(st_psb[a], st_pse[b], st_rho[a], st_rho[b])
                      and _criterion(st_psb[a], st_psb[b], st_rho[a], st_pb[b])
                      and _criterion(st_pse[a], st_pse[b], st_rho[b], st_pe[a]))
                lw = _logaddexp(sts[a, _T_LW], sts[b, _T_LW])
                if math.log(rng.random()) < sts[b, _T_LW] - lw:
                    _copy(st_q[a], st_q[b])
                    _copy(st_g[a], st_g[b])
                    sts[a, _T_LP] = sts[b, _T_LP]
                    sts[a, _T_H] = sts[b, _T_H]
                sts[a, _T_LW] = lw
                for i in range(n):
                    st_rho[a, i] += st_rho[b, i]
                _copy(st_pe[a], st_pe[b])
                _copy(st_pse[a], st_pse[b])
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
        if math.log(rng.random()) < sts[0, _T_LW] - log_w:
            _copy(qs, st_q[0])
            _copy(gs, st_g[0])
            lps = sts[0, _T_LP]
            hs = sts[0, _T_H]
        log_w = _logaddexp(log_w, sts[0, _T_LW])
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
            _copy(qp, qc)
            _copy(pp, pc)
            _copy(gp, gc)
            _copy(psp, st_pse[0])
        else:
            _copy(qm, qc)
            _copy(pm, pc)
            _copy(gm, gc)
            _copy(psm, st_pse[0])
        if not ok:
            break
    _copy(q, qs)
    _copy(g, gs)
    sc[S_LOGP] = lps
    st[_ST_LP] = lps
    st[_ST_ENERGY] = hs
    st[_ST_EPS] = eps
    st[_ST_EPS_BAR] = math.exp(sc[S_LOG_EPS_BAR])
    st[_ST_ACC] = sum_acc / n_steps if n_steps > 0 else 0.0
    st[_ST_NSTEPS] = n_steps
    st[_ST_DEPTH] = depth
    st[_ST_DIV] = 1.0 if divergent else 0.0
    st[_ST_DH] = hs - h0
    st[_ST_MAXDH] = max_err


_MH_SIG = types.float64(LOGP_TYPE, _A, types.float64, types.int64[::1], _A2, types.int64[::1],
                        types.boolean, _GEN, _A, types.int64[::1], _A, types.float64, _A)


@njit(cache=True, nogil=True)
def _mh_block(f_lp, q, lp_mh, idx, coord, row, tuning, rng, mh_delta, mh_order, mh_lps, bfv,
              out_mh_row):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One Metropolis-type or slice block (``row[B_KIND]``) on ``q[idx]``; writes its statistics
    into ``out_mh_row`` and returns the log-density (``f_lp``) at the new state."""
    kind = row[B_KIND]
    col = row[B_STAT]
    if kind == K_METROPOLIS:
        lp_mh, acc, n_acc, scal = metropolis_update(f_lp, q, lp_mh, idx, coord, row, tuning, rng,
                                                    mh_delta, mh_order)
        out_mh_row[col] = acc
        out_mh_row[col + 1] = n_acc
        out_mh_row[col + 2] = scal
    elif kind == K_SLICE:
        lp_mh, n_out, n_in = slice_update(f_lp, q, lp_mh, idx, coord, row, tuning, rng, bfv)
        out_mh_row[col] = n_out
        out_mh_row[col + 1] = n_in
    elif kind == K_BINARY_GIBBS:
        lp_mh = binary_gibbs_update(f_lp, q, lp_mh, idx, row, bfv, rng, mh_order)
    else:
        lp_mh = categorical_gibbs_update(f_lp, q, lp_mh, idx, coord, row, rng, mh_order, mh_lps)
    return lp_mh


@njit(cache=True, nogil=True)
def _refresh(f, q, g, sc):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The log-density and gradient of ``q`` into ``sc[S_LOGP]`` and ``g``."""
    sc[S_LOGP] = f(q.ctypes.data, g.ctypes.data)


def _run_chain(f, f_lp, q, g, sc, minv, u, lam, w_mean, w_m2, cfg, schedule, out_q, out_stats,
               rng, start, stop, blocks, bidx, bcoord, bf, out_mh, find_step_size, transition,
               mh_block):  # type: ignore[no-untyped-def]  # pragma: no cover
    # The NUTS transition, the step-size search and the leapfrog step are separate compiled
    # functions (cached on their own), not closures: Numba inlines a closure at every call
    # site, which made this kernel's cold compile take about 25 s of CPU.
    n = q.shape[0]
    target = cfg[C_TARGET]
    maxdepth = int(cfg[C_MAXDEPTH])
    max_dh = cfg[C_MAX_DH]
    metric = int(cfg[C_METRIC])
    n_tune = int(cfg[C_TUNE])
    sd = np.empty(n)
    for i in range(n):
        sd[i] = math.sqrt(minv[i])
    tk = np.empty(lam.shape[0])
    ws = np.empty((_N_W, n))
    k_max = maxdepth + 2
    stk = np.empty((_N_K, k_max, n))
    sts = np.empty((k_max, 3))
    st_size = np.empty(k_max, dtype=np.int64)
    mh_delta = np.empty(bidx.shape[0])
    mh_order = np.empty(bidx.shape[0], dtype=np.int64)
    max_cat = 2
    for r in range(bcoord.shape[0]):
        max_cat = max(max_cat, int(bcoord[r, C_NCAT]))
    mh_lps = np.empty(max_cat)
    has_nuts = False
    for blk in range(blocks.shape[0]):
        if blocks[blk, B_KIND] == K_NUTS:
            has_nuts = True
    # the state was changed by a Metropolis block: NUTS needs the log-density and gradient.
    # A previous call may have ended after such a block, so with any block besides NUTS the
    # first NUTS transition of this call re-evaluates them.
    stale = blocks.shape[0] > 1
    if sc[S_PENDING] == PENDING_SEARCH:  # the driver has set a new metric
        if stale:
            _refresh(f, q, g, sc)
            stale = False
        find_step_size(f, sc, q, g, ws, minv, sd, u, lam, tk, rng)
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
                    _refresh(f, q, g, sc)
                    stale = False
                if flags & FIND_STEP:
                    find_step_size(f, sc, q, g, ws, minv, sd, u, lam, tk, rng)
                    dual_averaging_restart(sc)
                transition(f, q, g, sc, minv, sd, u, lam, tk, ws, stk, sts, st_size, maxdepth,
                           max_dh, rng, out_stats[it])
                lp_mh_ok = False
                continue
            off = blocks[blk, B_OFF]
            ln = blocks[blk, B_LEN]
            if not lp_mh_ok:
                lp_mh = f_lp(q.ctypes.data, NO_GRAD)
                lp_mh_ok = True
            lp_mh = mh_block(f_lp, q, lp_mh, bidx[off:off + ln], bcoord[off:off + ln],
                             blocks[blk], tuning, rng, mh_delta, mh_order, mh_lps, bf[blk],
                             out_mh[it])
            stale = True
        _copy(out_q[it], q)
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
                _refresh(f, q, g, sc)
                stale = False
            find_step_size(f, sc, q, g, ws, minv, sd, u, lam, tk, rng)
            dual_averaging_restart(sc)
        if flags & TUNE_END:
            sc[S_LOG_EPS] = sc[S_LOG_EPS_BAR]
    return stop


_I2 = types.int64[:, ::1]
_SIG = types.int64(LOGP_TYPE, LOGP_TYPE, _A, _A, _A, _A, _A2, _A, _A, _A, _A, types.int8[::1],
                   _A2, _A2, _GEN, types.int64, types.int64, _I2, types.int64[::1], _A2, _A, _A2,
                   types.FunctionType(_FIND_SIG), types.FunctionType(_TRANSITION_SIG),
                   types.FunctionType(_MH_SIG))

_compiled = None


def _python_chain():  # type: ignore[no-untyped-def]
    """``_run_chain`` with the Numba helpers that take the log-density replaced by Python
    functions of the same source (a Python log-density cannot be passed to a compiled
    function)."""
    import types as _pytypes

    glb = dict(globals())
    # the nuts.py helpers see each other's Python versions through ``glb``
    for name in ("_leapfrog", "_find_step_size", "_transition", "_refresh", "_mh_block"):
        glb[name] = _pytypes.FunctionType(globals()[name].py_func.__code__, glb, name)
    glb.update(metropolis_update=metropolis_update.py_func,
               binary_gibbs_update=binary_gibbs_update.py_func,
               categorical_gibbs_update=categorical_gibbs_update.py_func,
               slice_update=slice_update.py_func)
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
    (``gnomon/ppl/metropolis.py``) that evaluate ``f_lp``. ``f`` and ``f_lp`` are either compiled
    functions of type :data:`LOGP_TYPE` (Numba functions or C function pointers as Numba's
    ``WrapperAddressProtocol``: compiled kernel, no GIL) or Python callables with the same
    signature (the same algorithm in Python). The first call compiles the kernel, or
    loads it from Numba's disk cache.
    """
    args = (f, f_lp, q, g, sc, minv, u, lam, w_mean, w_m2, cfg, schedule, out_q, out_stats, rng,
            start, stop, blocks, bidx, bcoord, bf, out_mh)
    if isinstance(f, _NUMBA_CALLABLES):
        return compiled_kernel()(*args, _find_step_size, _transition, _mh_block)
    py = _python_chain()
    glb = py.__globals__
    return py(*args, glb["_find_step_size"], glb["_transition"], glb["_mh_block"])


def compiled_kernel():  # type: ignore[no-untyped-def]
    """The compiled kernel (compiled on first use, or loaded from Numba's disk cache)."""
    global _compiled
    with _KERNEL_LOCK:
        if _compiled is None:
            # the functions passed by pointer, for their signatures (or from the cache)
            _find_step_size.compile(_FIND_SIG.args)
            _transition.compile(_TRANSITION_SIG.args)
            _mh_block.compile(_MH_SIG.args)
            _compiled = njit(_SIG, cache=True, nogil=True)(_run_chain)
    return _compiled


_KERNEL_LOCK = threading.Lock()


def preload() -> None:
    """Start loading (or compiling) the kernel in a background thread, once per process.

    ``pm.sample`` calls it before it compiles the model: loading the kernel from Numba's disk
    cache (about 0.5-1 s) then overlaps the C compiler's run on the model, which releases the
    GIL; :func:`compiled_kernel` waits for it."""
    if _compiled is None and not _KERNEL_LOCK.locked():
        threading.Thread(target=compiled_kernel, daemon=True,
                         name="gnomon-nuts-kernel").start()


def _numba_callables() -> tuple[type, ...]:
    from numba.core.registry import CPUDispatcher
    return (CPUDispatcher, types.WrapperAddressProtocol)


_NUMBA_CALLABLES = _numba_callables()
