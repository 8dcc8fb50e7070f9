"""Metropolis-type step methods (PyMC's ``Metropolis``, ``BinaryGibbsMetropolis``,
``CategoricalGibbsMetropolis``) and the slice sampler (``Slice``), compiled with Numba.

The classes hold a step's settings and its variables, with PyMC's signatures; ``pm.sample``
(``gnomon/ppl/compound.py``) turns them into rows of a block table that the chain kernel
(``gnomon/ppl/nuts.py``) runs every iteration, in the order of the steps, after or before the
NUTS transition. The update functions below run inside that ``nogil`` kernel and evaluate the
model's compiled log-density through its function pointer, so no Python runs per proposal.

All blocks act on the chain's one flat float64 vector ``q`` (discrete values are stored as
exact integers in float64):

* :func:`metropolis_update`: a Normal random-walk proposal ``N(0, (S * scaling)^2)`` (rounded
  for discrete coordinates, as PyMC), accepted with probability ``min(1, p(q') / p(q))``. As
  PyMC, a block updates its coordinates one at a time in random order ("elementwise") unless it
  is one scalar variable or a discrete multivariate one, and tunes ``scaling`` every
  ``tune_interval`` tuning iterations from the acceptance rate (PyMC's ``tune`` factors).
* :func:`binary_gibbs_update`: each 0/1 coordinate in random order is proposed flipped with
  probability ``transit_p`` and the flip is accepted with the Metropolis ratio.
* :func:`categorical_gibbs_update`: each coordinate proposes another category uniformly
  (``proposal="uniform"``) or in proportion to the conditional probabilities, excluding the
  current one (``proposal="proportional"``, Liu's 1996 metropolized Gibbs sampler, accepted with
  probability ``min(1, (1 - p_cur) / (1 - p_new))``).
* :func:`slice_update`: univariate slice sampling (Neal 2003, "Slice sampling", Annals of
  Statistics 31(3): stepping out with width ``w``, then shrinkage) of each coordinate in turn,
  as PyMC's ``Slice``; during tuning each coordinate's ``w`` becomes the running mean of the
  final interval widths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numba import njit

from gnomon.errors import GnomonValueError, with_hint

#: the ``grad_address`` argument of a log-density call that needs no gradient (the
#: log-densities are ``f(q_address, grad_address) -> logp``, ``nuts.LOGP_SIG``)
NO_GRAD = np.uint64(0)

__all__ = ["BinaryGibbsMetropolis", "CategoricalGibbsMetropolis", "Metropolis", "Slice",
           "binary_gibbs_update", "categorical_gibbs_update", "metropolis_update",
           "slice_update"]

#: kinds of blocks (column ``B_KIND`` of the block table)
K_NUTS = 0
K_METROPOLIS = 1
K_BINARY_GIBBS = 2
K_CATEGORICAL_GIBBS = 3
K_SLICE = 4

#: columns of a block row (int64): kind, offset and length in the coordinate table, elementwise
#: (Metropolis), shuffle the order (Gibbs), tune the scaling, tune interval, iterations until
#: the next tuning, proportional proposal (categorical), column of the statistics in ``out_mh``
B_KIND, B_OFF, B_LEN, B_ELEMWISE, B_SHUFFLE, B_TUNE, B_INTERVAL, B_UNTIL, B_PROPORTIONAL, \
    B_STAT = range(10)
N_BCOLS = 10
#: columns of the coordinate table (float64), one row per coordinate of a block: proposal sd
#: ``S``, current scaling, accepted proposals since the last tuning, discrete (0/1), number of
#: categories (categorical)
C_S, C_SCALE, C_ACC, C_DISC, C_NCAT = range(5)
N_CCOLS = 5
#: Metropolis statistics per block and iteration (columns of ``out_mh``)
MH_STATS = ("accept", "accepted", "scaling")
#: slice statistics per block and iteration (PyMC's names): stepping-out and shrinkage steps
SLICE_STATS = ("nstep_out", "nstep_in")


@njit(cache=True, nogil=True)
def _tune_factor(rate: float) -> float:  # pragma: no cover
    """PyMC's factor for the proposal scaling from the acceptance rate of the last interval."""
    if rate < 0.001:
        return 0.1
    if rate < 0.05:
        return 0.5
    if rate < 0.2:
        return 0.9
    if rate > 0.95:
        return 10.0
    if rate > 0.75:
        return 2.0
    if rate > 0.5:
        return 1.1
    return 1.0


@njit(cache=True, nogil=True)
def _shuffle(order: np.ndarray, d: int, rng: np.random.Generator) -> None:  # pragma: no cover
    """``order[:d]`` becomes a uniformly random permutation of itself (Fisher-Yates)."""
    for i in range(d - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        if j > i:
            j = i
        t = order[i]
        order[i] = order[j]
        order[j] = t


@njit(cache=True, nogil=True)
def _log_ratio(lp_new: float, lp_cur: float) -> float:  # pragma: no cover
    r = lp_new - lp_cur
    return r if not math.isnan(r) else -math.inf


@njit(cache=True, nogil=True)
def metropolis_update(f_lp, q, lp_cur, idx, coord, row, tuning, rng, delta,
                      order):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One Metropolis step of the block (coordinates ``q[idx]``, settings ``coord``, ``row``).

    Returns ``(logp, accept, accepted, scaling)``: the log-density at the new state, the mean
    acceptance probability and fraction of accepted proposals, and the mean scaling.
    """
    d = idx.shape[0]
    elem = row[B_ELEMWISE] != 0
    n_scale = d if elem else 1
    if tuning and row[B_TUNE] != 0 and row[B_UNTIL] <= 0:
        for j in range(n_scale):
            coord[j, C_SCALE] *= _tune_factor(coord[j, C_ACC] / row[B_INTERVAL])
            coord[j, C_ACC] = 0.0
        row[B_UNTIL] = row[B_INTERVAL]
    for j in range(d):
        s = coord[j, C_SCALE] if elem else coord[0, C_SCALE]
        x = rng.standard_normal() * coord[j, C_S] * s
        delta[j] = np.rint(x) if coord[j, C_DISC] != 0.0 else x
    acc = 0.0
    n_acc = 0.0
    if elem:
        for j in range(d):
            order[j] = j
        _shuffle(order, d, rng)
        for t in range(d):
            j = order[t]
            i = idx[j]
            old = q[i]
            q[i] = old + delta[j]
            lp_new = f_lp(q.ctypes.data, NO_GRAD)
            r = _log_ratio(lp_new, lp_cur)
            acc += math.exp(r) if r < 0.0 else 1.0
            if math.log(rng.random()) < r:
                lp_cur = lp_new
                coord[j, C_ACC] += 1.0
                n_acc += 1.0
            else:
                q[i] = old
        acc /= d
        n_acc /= d
    else:
        for j in range(d):
            q[idx[j]] += delta[j]
        lp_new = f_lp(q.ctypes.data, NO_GRAD)
        r = _log_ratio(lp_new, lp_cur)
        acc = math.exp(r) if r < 0.0 else 1.0
        if math.log(rng.random()) < r:
            lp_cur = lp_new
            coord[0, C_ACC] += 1.0
            n_acc = 1.0
        else:
            for j in range(d):
                q[idx[j]] -= delta[j]
    row[B_UNTIL] -= 1
    sc = 0.0
    for j in range(n_scale):
        sc += coord[j, C_SCALE]
    return lp_cur, acc, n_acc, sc / n_scale


@njit(cache=True, nogil=True)
def binary_gibbs_update(f_lp, q, lp_cur, idx, row, transit_p, rng,
                        order):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One sweep of PyMC's ``BinaryGibbsMetropolis`` over the 0/1 coordinates ``q[idx]``;
    returns the log-density at the new state."""
    d = idx.shape[0]
    for j in range(d):
        order[j] = j
    if row[B_SHUFFLE] != 0:
        _shuffle(order, d, rng)
    for t in range(d):
        i = idx[order[t]]
        if rng.random() < transit_p:
            old = q[i]
            q[i] = 1.0 - old
            lp_new = f_lp(q.ctypes.data, NO_GRAD)
            if math.log(rng.random()) < _log_ratio(lp_new, lp_cur):
                lp_cur = lp_new
            else:
                q[i] = old
    return lp_cur


@njit(cache=True, nogil=True)
def categorical_gibbs_update(f_lp, q, lp_cur, idx, coord, row, rng, order,
                             lps):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One sweep of PyMC's ``CategoricalGibbsMetropolis`` over the coordinates ``q[idx]``
    (categories ``0 .. coord[:, C_NCAT] - 1``); returns the log-density at the new state."""
    d = idx.shape[0]
    for j in range(d):
        order[j] = j
    if row[B_SHUFFLE] != 0:
        _shuffle(order, d, rng)
    for t in range(d):
        j = order[t]
        i = idx[j]
        k = int(coord[j, C_NCAT])
        if k < 2:
            continue
        cur = int(q[i])
        if row[B_PROPORTIONAL] == 0:
            c = int(rng.random() * (k - 1))
            if c >= k - 1:
                c = k - 2
            if c >= cur:
                c += 1
            q[i] = float(c)
            lp_new = f_lp(q.ctypes.data, NO_GRAD)
            if math.log(rng.random()) < _log_ratio(lp_new, lp_cur):
                lp_cur = lp_new
            else:
                q[i] = float(cur)
            continue
        # Liu (1996): propose c != cur with probability p_c / (1 - p_cur), accept with
        # min(1, (1 - p_cur) / (1 - p_c)); p: the conditional probabilities of the categories
        m = -math.inf
        for c in range(k):
            if c == cur:
                lps[c] = lp_cur
            else:
                q[i] = float(c)
                lpc = f_lp(q.ctypes.data, NO_GRAD)
                lps[c] = lpc if not math.isnan(lpc) else -math.inf
            if lps[c] > m:
                m = lps[c]
        tot = 0.0
        for c in range(k):
            lps[c] = math.exp(lps[c] - m)
            tot += lps[c]
        for c in range(k):
            lps[c] /= tot
        p_cur = lps[cur]
        if not p_cur < 1.0:
            q[i] = float(cur)
            continue
        u = rng.random() * (1.0 - p_cur)
        c = -1
        acc = 0.0
        for cc in range(k):
            if cc != cur and lps[cc] > 0.0:
                acc += lps[cc]
                c = cc
                if u < acc:
                    break
        if c < 0 or math.log(rng.random()) >= math.log((1.0 - p_cur) / (1.0 - lps[c])):
            q[i] = float(cur)
            continue
        q[i] = float(c)
        lp_new = f_lp(q.ctypes.data, NO_GRAD)
        lp_cur = lp_new
    return lp_cur


@njit(cache=True, nogil=True)
def slice_update(f_lp, q, lp_cur, idx, coord, row, tuning, rng,
                 iter_limit):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One sweep of univariate slice sampling over the coordinates ``q[idx]`` in order (widths
    ``coord[:, C_SCALE]``; ``row[B_UNTIL]`` counts the tuning sweeps). Returns ``(logp,
    nstep_out, nstep_in)``."""
    d = idx.shape[0]
    n_out = 0.0
    n_in = 0.0
    do_tune = tuning and row[B_TUNE] != 0
    nt = float(row[B_UNTIL])
    for j in range(d):
        i = idx[j]
        w = coord[j, C_SCALE]
        x0 = q[i]
        # the slice: log-densities above lp_cur - Exp(1), i.e. u * p(x0) with u ~ U(0, 1)
        y = lp_cur - rng.standard_exponential()
        lo = x0 - rng.random() * w
        hi = lo + w
        cnt = 0
        q[i] = lo
        # (a NaN log-density compares False: it ends stepping out as -inf does)
        while y <= f_lp(q.ctypes.data, NO_GRAD):
            lo -= w
            q[i] = lo
            cnt += 1
            if cnt > iter_limit:
                raise RuntimeError("Slice: stepping out exceeded iter_limit (an improper or "
                                   "very flat conditional density?)")
        n_out += cnt
        cnt = 0
        q[i] = hi
        while y <= f_lp(q.ctypes.data, NO_GRAD):
            hi += w
            q[i] = hi
            cnt += 1
            if cnt > iter_limit:
                raise RuntimeError("Slice: stepping out exceeded iter_limit (an improper or "
                                   "very flat conditional density?)")
        n_out += cnt
        cnt = 0
        q[i] = lo + rng.random() * (hi - lo)
        # NaN -> -inf: not in the slice
        lp_new = _log_ratio(f_lp(q.ctypes.data, NO_GRAD), 0.0)
        while y > lp_new:
            # shrink the interval towards x0, which is in the slice
            if q[i] > x0:
                hi = q[i]
            elif q[i] < x0:
                lo = q[i]
            q[i] = lo + rng.random() * (hi - lo)
            lp_new = _log_ratio(f_lp(q.ctypes.data, NO_GRAD), 0.0)
            cnt += 1
            if cnt > iter_limit:
                raise RuntimeError("Slice: shrinkage exceeded iter_limit")
        n_in += cnt
        lp_cur = lp_new
        if do_tune:
            coord[j, C_SCALE] = w * (nt / (nt + 1.0)) + (hi - lo) / (nt + 1.0)
    if do_tune:
        row[B_UNTIL] += 1
    return lp_cur, n_out, n_in


# --- step classes (settings, PyMC's signatures) --------------------------------------------------

def _user_vars(vars: Any) -> list[Any] | None:
    if vars is None:
        return None
    if isinstance(vars, Sequence) and not isinstance(vars, str):
        return list(vars)
    return [vars]


class _Step:
    """Base of gnomon's step methods: the variables it updates and its settings."""

    name = "step"

    def __init__(self, vars: Any = None, model: Any = None) -> None:
        self.vars = _user_vars(vars)
        self.model = model

    def __repr__(self) -> str:
        names = [getattr(v, "name", v) for v in (self.vars or [])]
        return f"{type(self).__name__}(vars={names})"


class Metropolis(_Step):
    """Metropolis-Hastings with a Normal random-walk proposal (PyMC's ``pm.Metropolis``).

    Parameters
    ----------
    vars : list of variables, optional
        Random variables or value variables it updates (default: all free variables of the
        model).
    S : array_like, optional
        Standard deviations of the proposal, one per element of ``vars`` (default: ones). A
        covariance matrix (PyMC's multivariate proposal) is not supported.
    proposal_dist : None
        Only the Normal proposal is supported (``None``).
    scaling : float
        Initial factor of the proposal's standard deviations.
    tune : bool
        Tune ``scaling`` during the tuning iterations.
    tune_interval : int
        Iterations between tunings.
    model : Model, optional

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model():
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     idata = pm.sample(200, tune=200, chains=1, step=pm.Metropolis(), random_seed=1,
    ...                       progressbar=False, return_inferencedata=False,
    ...                       compute_convergence_checks=False)
    >>> sorted(idata["sample_stats"])
    ['accept', 'accepted', 'scaling']
    """

    name = "metropolis"

    def __init__(self, vars: Any = None, *, S: Any = None, proposal_dist: Any = None,
                 scaling: float = 1.0, tune: bool = True, tune_interval: int = 100,
                 model: Any = None, mode: Any = None, rng: Any = None, **kwargs: Any) -> None:
        super().__init__(vars, model)
        if proposal_dist is not None:
            raise GnomonValueError(with_hint(
                f"Metropolis(proposal_dist={proposal_dist!r}) is not supported: gnomon's "
                "Metropolis uses the Normal proposal", "leave proposal_dist=None and set S="))
        if kwargs:
            raise TypeError(with_hint(
                f"Metropolis() got unsupported keyword(s): {', '.join(sorted(kwargs))}",
                "see help(pm.Metropolis)"))
        self.S = None if S is None else np.asarray(S, dtype=np.float64)
        if self.S is not None and self.S.ndim != 1:
            raise GnomonValueError(with_hint(
                f"Metropolis(S=...) has {self.S.ndim} dimensions: only a vector of proposal "
                "standard deviations is supported", "pass S as a 1-d array"))
        self.scaling = float(np.mean(scaling))
        self.tune = bool(tune)
        self.tune_interval = int(tune_interval)


class BinaryGibbsMetropolis(_Step):
    """Metropolis-within-Gibbs for 0/1 variables (PyMC's ``pm.BinaryGibbsMetropolis``).

    Parameters
    ----------
    vars : list of variables
        Bernoulli (or other 0/1-valued) variables.
    order : 'random' or list of int
        Order of the elements in a sweep (a permutation of ``range(n)``), or a random order
        in every sweep.
    transit_p : float
        Probability of proposing a flip of each element.
    model : Model, optional

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> BinaryGibbsMetropolis(vars=[], transit_p=0.5).transit_p
    0.5
    """

    name = "binary_gibbs_metropolis"

    def __init__(self, vars: Any, *, order: Any = "random", transit_p: float = 0.8,
                 model: Any = None, rng: Any = None, **kwargs: Any) -> None:
        super().__init__(vars, model)
        if kwargs:
            raise TypeError(with_hint(
                f"BinaryGibbsMetropolis() got unsupported keyword(s): "
                f"{', '.join(sorted(kwargs))}", "see help(pm.BinaryGibbsMetropolis)"))
        self.order = order
        self.transit_p = float(transit_p)


class CategoricalGibbsMetropolis(_Step):
    """Metropolis-within-Gibbs for categorical variables (PyMC's
    ``pm.CategoricalGibbsMetropolis``).

    Parameters
    ----------
    vars : list of variables
        Categorical variables.
    proposal : {'uniform', 'proportional'}
        Propose another category uniformly, or in proportion to the conditional
        probabilities (Liu 1996).
    order : 'random' or list of int
        As in :class:`BinaryGibbsMetropolis`.
    model : Model, optional

    Examples
    --------
    >>> CategoricalGibbsMetropolis(vars=[], proposal="proportional").proposal
    'proportional'
    """

    name = "categorical_gibbs_metropolis"

    def __init__(self, vars: Any, *, proposal: str = "uniform", order: Any = "random",
                 model: Any = None, rng: Any = None, **kwargs: Any) -> None:
        super().__init__(vars, model)
        if kwargs:
            raise TypeError(with_hint(
                f"CategoricalGibbsMetropolis() got unsupported keyword(s): "
                f"{', '.join(sorted(kwargs))}", "see help(pm.CategoricalGibbsMetropolis)"))
        if proposal not in ("uniform", "proportional"):
            raise GnomonValueError(with_hint(
                f"CategoricalGibbsMetropolis(proposal={proposal!r}) is not known",
                "use proposal='uniform' or 'proportional'"))
        self.proposal = proposal
        self.order = order


class Slice(_Step):
    """Univariate slice sampling of each coordinate in turn (PyMC's ``pm.Slice``): stepping
    out with width ``w`` and shrinkage (Neal 2003), in the unconstrained space of the value
    variables.

    Parameters
    ----------
    vars : list of variables, optional
        Continuous random variables or value variables it updates (default: all continuous
        free variables not given to another step).
    w : float
        Initial width of the slice's interval, the same for every coordinate.
    tune : bool
        During the tuning iterations, set each coordinate's width to the running mean of its
        final interval widths (PyMC's rule).
    iter_limit : float
        Most stepping-out or shrinkage steps of one coordinate before a ``RuntimeError``
        (default: no limit).
    model : Model, optional

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> with pm.Model():
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     r = pm.sample(200, tune=100, chains=1, step=pm.Slice(), random_seed=1,
    ...                   progressbar=False, return_inferencedata=False,
    ...                   compute_convergence_checks=False)
    >>> sorted(r["sample_stats"])
    ['nstep_in', 'nstep_out']
    """

    name = "slice"

    def __init__(self, vars: Any = None, *, w: float = 1.0, tune: bool = True,
                 iter_limit: float = np.inf, model: Any = None, rng: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(vars, model)
        if kwargs:
            raise TypeError(with_hint(
                f"Slice() got unsupported keyword(s): {', '.join(sorted(kwargs))}",
                "see help(pm.Slice)"))
        w_arr = np.asarray(w, dtype=np.float64)
        if w_arr.ndim != 0 or not float(w_arr) > 0.0:
            raise GnomonValueError(with_hint(
                f"Slice(w={w!r}): the initial width must be one positive number",
                "pass e.g. w=1.0"))
        self.w = float(w_arr)
        self.tune = bool(tune)
        self.iter_limit = float(iter_limit)
