"""Compound samplers: which step method samples which variable, and the block tables that the
chain kernel (``gnomon/ppl/nuts.py``) runs every iteration.

Automatic assignment follows PyMC's: continuous variables get one ``NUTS`` step; ``Bernoulli``
variables (and ``Categorical`` ones with two categories) one ``BinaryGibbsMetropolis``;
``Categorical`` variables one ``CategoricalGibbsMetropolis``; every other discrete variable
(``Poisson``, ``Binomial``, ...) one ``Metropolis``. Steps passed in ``pm.sample(step=...)``
(one step, a list, or a :class:`CompoundStep`) take their variables first; the others are
assigned automatically. The steps run in that order in every iteration (Metropolis-within-Gibbs).

All steps act on one flat float64 vector over **every** value variable (discrete values are
exact integers in float64; ``model.logp_dlogp_function(discrete=True)``). NUTS moves only its
own coordinates: the others have inverse mass 0 ("frozen", ``adaptation.py``), so its
trajectories leave them unchanged, and its tuning adapts the metric of its coordinates only.
The Metropolis blocks evaluate a second compiled program, the log-density without the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError, with_hint
from gnomon.ppl.metropolis import (
    B_INTERVAL,
    B_KIND,
    B_LEN,
    B_OFF,
    B_PROPORTIONAL,
    B_SHUFFLE,
    B_STAT,
    B_TUNE,
    B_UNTIL,
    C_DISC,
    C_NCAT,
    C_S,
    C_SCALE,
    K_BINARY_GIBBS,
    K_CATEGORICAL_GIBBS,
    K_METROPOLIS,
    K_NUTS,
    K_SLICE,
    MH_STATS,
    N_BCOLS,
    N_CCOLS,
    SLICE_STATS,
    BinaryGibbsMetropolis,
    CategoricalGibbsMetropolis,
    Metropolis,
    Slice,
    _user_vars,
)

__all__ = ["CompoundStep", "Plan", "assign_step_methods", "make_plan"]


class CompoundStep:
    """Several step methods applied in turn every iteration (PyMC's ``CompoundStep``).

    Parameters
    ----------
    methods : list of step methods
        ``pm.NUTS``, ``pm.Metropolis``, ``pm.BinaryGibbsMetropolis``,
        ``pm.CategoricalGibbsMetropolis``, ``pm.Slice``.

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> len(CompoundStep([pm.Metropolis(), pm.NUTS()]).methods)
    2
    """

    def __init__(self, methods: Sequence[Any]) -> None:
        self.methods = list(methods)

    def __repr__(self) -> str:
        return f"CompoundStep({self.methods!r})"


@dataclass
class Plan:
    """The steps of one ``pm.sample`` call and what the chain kernel needs for them."""

    steps: list[tuple[Any, list[Any]]]  #: (step, its value variables), in order
    fn: Any  #: log-density and gradient over all value variables
    fn_lp: Any  #: log-density alone (Metropolis blocks), or None
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    frozen: np.ndarray  #: coordinates NUTS does not move
    discrete: np.ndarray  #: discrete coordinates
    n_mh_cols: int
    mh_blocks: list[int]  #: first column in ``out_mh`` of each Metropolis block
    slice_blocks: list[int]  #: first column in ``out_mh`` of each Slice block
    nuts: Any = None
    numba_lp: Any = None

    def describe(self) -> str:
        """PyMC's "CompoundStep" summary lines."""
        lines = []
        for step, vs in self.steps:
            lines.append(f">{type(step).__name__}: [{', '.join(v.name for v in vs)}]")
        return "\n".join(lines)


def _steps_of(step: Any) -> list[Any]:
    if step is None:
        return []
    if isinstance(step, CompoundStep):
        return list(step.methods)
    if isinstance(step, list | tuple):
        out: list[Any] = []
        for s in step:
            out.extend(_steps_of(s))
        return out
    return [step]


def _value_var(m: Any, v: Any, step: Any) -> Any:
    if isinstance(v, str):
        v = m[v]
    if v in m.values_to_rvs:
        return v
    if v in m.rvs_to_values and v in m.free_RVs:
        return m.rvs_to_values[v]
    raise GnomonValueError(with_hint(
        f"{type(step).__name__}: {getattr(v, 'name', v)!r} is not a free variable of the "
        "model (observed variables and deterministics are not sampled)",
        "pass free random variables of the model in vars="))


def _rv_kind(m: Any, value: Any) -> str:
    rv = m.values_to_rvs[value]
    if value.dtype[0] == "f":
        return "continuous"
    op = getattr(rv.owner, "op", None)
    name = getattr(op, "name", "")
    if name == "bernoulli":
        return "binary"
    if name == "categorical":
        return "binary" if _n_categories(m, rv) == 2 else "categorical"
    return "discrete"


def _n_categories(m: Any, rv: Any) -> int:
    p = rv.owner.inputs[-1]
    k = p.type.shape[-1] if p.type.shape else None
    if k is None:
        from gnomon.compile.function import function

        (p_v,) = m.replace_rvs_by_values([p])
        start = m.initial_point()
        ins = [v for v in m.value_vars]
        shape_fn = function(ins, p_v.shape[-1], mode="numpy", on_unused_input="ignore")
        k = int(shape_fn(*[start[v.name] for v in ins]))
    return int(k)


def assign_step_methods(m: Any, step: Any) -> list[tuple[Any, list[Any]]]:
    """``[(step, value variables), ...]``: the user's steps with their variables, then the
    automatically assigned ones (PyMC's rules; see the module docstring).

    Examples
    --------
    >>> import gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     k = pm.Poisson("k", 3.0)
    >>> [type(s).__name__ for s, _ in assign_step_methods(m, None)]
    ['NUTS', 'Metropolis']
    """
    from gnomon.ppl.sampling import NUTS

    out: list[tuple[Any, list[Any]]] = []
    taken: dict[Any, Any] = {}
    for s in _steps_of(step):
        if not isinstance(s, NUTS | Metropolis | BinaryGibbsMetropolis
                          | CategoricalGibbsMetropolis | Slice):
            raise GnomonValueError(with_hint(
                f"step={s!r} is not supported: gnomon's pm.sample runs NUTS, Metropolis, "
                "BinaryGibbsMetropolis, CategoricalGibbsMetropolis and Slice",
                "leave step=None for PyMC's automatic assignment, or pass one of these "
                "(a list of them makes a compound step)"))
        user_vars = _user_vars(s.vars)
        if user_vars is None:
            vs = (m.continuous_value_vars if isinstance(s, NUTS | Slice)
                  else m.value_vars)
            vs = [v for v in vs if v not in taken]
        else:
            vs = [_value_var(m, v, s) for v in user_vars]
        for v in vs:
            kind = _rv_kind(m, v)
            who = type(s).__name__
            if v in taken:
                raise GnomonValueError(with_hint(
                    f"{v.name!r} is given to two step methods ({type(taken[v]).__name__} and "
                    f"{who})", "give each variable to one step"))
            if isinstance(s, NUTS) and kind != "continuous":
                raise GnomonValueError(with_hint(
                    f"NUTS cannot sample the discrete variable {v.name!r}: it needs a gradient",
                    "leave it to the automatic assignment, or use pm.Metropolis(vars=[...])"))
            if isinstance(s, Slice) and kind != "continuous":
                raise GnomonValueError(with_hint(
                    f"Slice samples continuous variables; {v.name!r} is {kind}",
                    "leave it to the automatic assignment, or use pm.Metropolis(vars=[...])"))
            if isinstance(s, BinaryGibbsMetropolis) and kind != "binary":
                raise GnomonValueError(with_hint(
                    f"BinaryGibbsMetropolis samples 0/1 variables (Bernoulli, or Categorical "
                    f"with two categories); {v.name!r} is {kind}",
                    "use pm.Metropolis or pm.CategoricalGibbsMetropolis for it"))
            if isinstance(s, CategoricalGibbsMetropolis) and kind not in ("categorical",
                                                                           "binary"):
                raise GnomonValueError(with_hint(
                    f"CategoricalGibbsMetropolis samples Categorical variables; {v.name!r} "
                    f"is {kind}", "use pm.Metropolis for it"))
            if (isinstance(s, CategoricalGibbsMetropolis) and kind == "binary"
                    and getattr(m.values_to_rvs[v].owner.op, "name", "") != "categorical"):
                raise GnomonValueError(with_hint(
                    f"CategoricalGibbsMetropolis samples Categorical variables; {v.name!r} "
                    "is Bernoulli", "use pm.BinaryGibbsMetropolis for it"))
            taken[v] = s
        if vs:
            out.append((s, vs))
    auto: dict[str, list[Any]] = {}
    for v in m.value_vars:
        if v not in taken:
            auto.setdefault(_rv_kind(m, v), []).append(v)
    classes = {"continuous": NUTS, "binary": BinaryGibbsMetropolis,
               "categorical": CategoricalGibbsMetropolis, "discrete": Metropolis}
    for kind, vs in auto.items():
        out.append((classes[kind](vars=vs), vs))
    return out


def make_plan(m: Any, step: Any, initvals: Any, mode: str = "numba") -> Plan | None:
    """The compound plan for ``pm.sample``, or None when NUTS alone samples every variable
    (the plain NUTS path); ``mode`` compiles its log-densities (``"auto"``, ``"c"``,
    ``"numba"``: see ``pm.sample``'s ``compile_kwargs``)."""
    from gnomon.ppl.sampling import NUTS

    steps = assign_step_methods(m, step)
    if all(isinstance(s, NUTS) for s, _ in steps) and len(steps) <= 1:
        return None
    has_nuts = any(isinstance(s, NUTS) for s, _ in steps)
    has_mh = any(not isinstance(s, NUTS) for s, _ in steps)
    # Metropolis blocks evaluate a program without the gradient; without a NUTS step it is
    # the only program (one compile instead of two)
    fn_lp = (m.logp_dlogp_function(vars=m.value_vars, initvals=initvals, discrete=True,
                                   gradient=False, mode=mode) if has_mh else None)
    fn = (m.logp_dlogp_function(vars=m.value_vars, initvals=initvals, discrete=True,
                                mode=mode) if has_nuts else fn_lp)
    start = {n: a for n, a in zip(fn.value_names, fn.offsets[:-1], strict=True)}
    size = dict(zip(fn.value_names, fn.sizes, strict=True))
    n = fn.n
    frozen = np.ones(n, dtype=bool)
    discrete = np.zeros(n, dtype=bool)
    for v in fn.value_vars:
        if v.dtype[0] != "f":
            discrete[start[v.name]:start[v.name] + size[v.name]] = True
    blocks: list[np.ndarray] = []
    idx: list[int] = []
    coords: list[np.ndarray] = []
    bf: list[float] = []
    mh_blocks: list[int] = []
    slice_blocks: list[int] = []
    n_mh = 0
    nuts = None
    for s, vs in steps:
        ci = [i for v in vs for i in range(start[v.name], start[v.name] + size[v.name])]
        row = np.zeros(N_BCOLS, dtype=np.int64)
        row[B_OFF] = len(idx)
        row[B_LEN] = len(ci)
        if isinstance(s, NUTS):
            if nuts is not None:
                raise GnomonValueError(with_hint(
                    "two NUTS steps: gnomon's compound sampler runs one NUTS step",
                    "give all continuous variables to one pm.NUTS(vars=[...])"))
            nuts = s
            row[B_KIND] = K_NUTS
            frozen[ci] = False
            row[B_LEN] = 0
            blocks.append(row)
            bf.append(0.0)
            continue
        c = np.zeros((len(ci), N_CCOLS))
        c[:, C_S] = 1.0
        c[:, C_SCALE] = 1.0
        c[:, C_DISC] = discrete[ci]
        if isinstance(s, Slice):
            row[B_KIND] = K_SLICE
            c[:, C_SCALE] = s.w
            row[B_TUNE] = int(s.tune)
            row[B_UNTIL] = 0  # tuning sweeps so far
            row[B_STAT] = n_mh
            slice_blocks.append(n_mh)
            n_mh += len(SLICE_STATS)
            bf.append(s.iter_limit)
        elif isinstance(s, Metropolis):
            row[B_KIND] = K_METROPOLIS
            if s.S is not None:
                if s.S.shape[0] != len(ci):
                    raise GnomonValueError(with_hint(
                        f"Metropolis(S=...) has {s.S.shape[0]} entries for {len(ci)} "
                        "coordinates of its variables", "pass one standard deviation per "
                        "element of vars"))
                c[:, C_S] = s.S
            c[:, C_SCALE] = s.scaling
            is_scalar = len(vs) == 1 and size[vs[0].name] == 1 and not fn.shapes[
                fn.value_names.index(vs[0].name)]
            multivariate_discrete = bool(discrete[ci].any()) and max(
                getattr(m.values_to_rvs[v].owner.op, "ndim_supp", 1) for v in vs) > 0
            row[3] = int(not (is_scalar or multivariate_discrete))  # B_ELEMWISE
            row[B_TUNE] = int(s.tune)
            row[B_INTERVAL] = max(1, s.tune_interval)
            row[B_UNTIL] = max(1, s.tune_interval)
            row[B_STAT] = n_mh
            mh_blocks.append(n_mh)
            n_mh += len(MH_STATS)
            bf.append(0.0)
        else:
            order = s.order
            j = 0
            for v in vs:  # categories per coordinate (before any reordering)
                if isinstance(s, CategoricalGibbsMetropolis):
                    c[j:j + size[v.name], C_NCAT] = _n_categories(m, m.values_to_rvs[v])
                j += size[v.name]
            row[B_KIND] = (K_BINARY_GIBBS if isinstance(s, BinaryGibbsMetropolis)
                           else K_CATEGORICAL_GIBBS)
            if isinstance(order, str):
                if order != "random":
                    raise GnomonValueError(with_hint(
                        f"{type(s).__name__}(order={order!r}) is not known",
                        "pass order='random' or a permutation of range(n)"))
                row[B_SHUFFLE] = 1
            else:
                perm = [int(i) for i in order]
                if sorted(perm) != list(range(len(ci))):
                    raise GnomonValueError(with_hint(
                        f"{type(s).__name__}(order=...) must be a permutation of "
                        f"range({len(ci)})", "pass order='random' or a permutation"))
                ci = [ci[i] for i in perm]
                c = c[perm]
            if isinstance(s, CategoricalGibbsMetropolis):
                row[B_PROPORTIONAL] = int(s.proposal == "proportional")
            bf.append(getattr(s, "transit_p", 0.0))
        idx.extend(ci)
        coords.append(c)
        blocks.append(row)
    tables = (np.stack(blocks), np.asarray(idx, dtype=np.int64),
              np.ascontiguousarray(np.concatenate(coords)) if coords
              else np.zeros((0, N_CCOLS)), np.asarray(bf, dtype=np.float64))
    return Plan(steps=steps, fn=fn, fn_lp=fn_lp, tables=tables, frozen=frozen,
                discrete=discrete, n_mh_cols=n_mh, mh_blocks=mh_blocks,
                slice_blocks=slice_blocks, nuts=nuts)


def stack_mh_stats(plan: Plan, out: np.ndarray) -> dict[str, np.ndarray]:
    """``{name: array}`` of the Metropolis and Slice statistics ``out`` (``(chains, draws,
    columns)``): one block gives ``(chains, draws)`` arrays; several are stacked along a last
    axis, as PyMC's ``get_sampler_stats`` does for a statistic that several samplers
    report."""
    res: dict[str, np.ndarray] = {}
    for names, firsts in ((MH_STATS, plan.mh_blocks), (SLICE_STATS, plan.slice_blocks)):
        if not firsts:
            continue
        for j, name in enumerate(names):
            cols = [out[:, :, b + j] for b in firsts]
            res[name] = cols[0] if len(cols) == 1 else np.stack(cols, axis=-1)
    return res
