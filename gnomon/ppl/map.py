"""``find_MAP``: the maximum a posteriori point, by SciPy's optimizers on the unconstrained
space with the compiled log-density and its gradient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gnomon.errors import GnomonValueError, with_hint
from gnomon.graph.basic import Variable
from gnomon.ppl.model import Model, _at, modelcontext

__all__ = ["find_MAP"]


def find_MAP(start: Mapping[str, Any] | None = None, vars: Sequence[Variable] | None = None,
             method: str = "L-BFGS-B", return_raw: bool = False,
             include_transformed: bool = True, progressbar: bool = True, maxeval: int = 5000,
             model: Model | None = None, seed: Any = None, *, mode: Any = "numpy",
             **kwargs: Any) -> Any:
    """The mode of the posterior density, found with ``scipy.optimize.minimize``.

    As in PyMC, the density is maximized without the Jacobians of the transforms (the mode of
    the density of the constrained variables), moving in the unconstrained space so that
    bounds need no special care.

    Parameters
    ----------
    start : dict, optional
        Starting point: values by value-variable name (``"sigma_log__"``, unconstrained) or by
        variable name (``"sigma"``, constrained). Default: the model's initial point.
    vars : list, optional
        The variables to optimize (default: every continuous one); the others stay at
        ``start``.
    method : str
        Any gradient-based method of ``scipy.optimize.minimize``.
    return_raw : bool
        Also return SciPy's ``OptimizeResult``.
    include_transformed : bool
        Include the unconstrained values (``"sigma_log__"``) in the result.
    progressbar : bool
        Accepted for PyMC compatibility; gnomon prints nothing.
    maxeval : int
        Maximum number of iterations.
    mode : str
        The backend that compiles the density (the NumPy reference by default: no compile
        time; ``"numba"`` for large models).

    Returns
    -------
    dict
        ``{name: value}`` for every free variable (constrained), every deterministic and, with
        ``include_transformed``, every unconstrained value; with ``return_raw``, the pair
        ``(point, OptimizeResult)``.

    Examples
    --------
    >>> import numpy as np, gnomon.ppl as pm
    >>> with pm.Model() as m:
    ...     lam = pm.Gamma("lam", alpha=2.0, beta=1.0)
    ...     y = pm.Poisson("y", lam, observed=np.array([3, 5]))
    ...     point = pm.find_MAP()
    >>> round(float(point["lam"]), 4)   # the mode of Gamma(2 + 8, 1 + 2): 9 / 3
    3.0
    """
    import scipy.optimize

    model = modelcontext(model)
    initvals: dict[Any, Any] = {}
    given_values: dict[str, Any] = {}
    value_names = {v.name for v in model.value_vars}
    for k, v in (start or {}).items():
        if k in value_names:
            given_values[k] = v
        elif k in model and model[k] in model.free_RVs:
            initvals[model[k]] = v
        elif k not in model:
            raise GnomonValueError(_at(with_hint(
                f"find_MAP: start names {k!r}, which is not a variable of the model",
                f"use the names of model.initial_point(): {sorted(value_names)}")))
    f = model.logp_dlogp_function(vars=vars, initvals=initvals, jacobian=False, mode=mode,
                                  point=given_values or None)
    x0 = f.initial_q() if not given_values else f.flatten({**f._start, **given_values})

    def neg(q: np.ndarray) -> tuple[float, np.ndarray]:
        lp, g = f.logp_dlogp(q)
        if not np.isfinite(lp):
            return np.inf, np.zeros_like(q)
        return -lp, -g

    lp0, _ = f.logp_dlogp(x0)
    if not np.isfinite(lp0):
        report = _describe_bad_start(model, f, x0)
        raise GnomonValueError(_at(with_hint(
            f"find_MAP: the log-density is {lp0} at the starting point\n{report}",
            "pass start= with values inside the support, or check the priors and data")))
    opts = {"maxiter": maxeval, **kwargs.pop("options", {})}
    res = scipy.optimize.minimize(neg, x0, jac=True, method=method, options=opts, **kwargs)
    point = f.unflatten(res.x)
    if include_transformed:
        for k, v in f.unflatten_values(res.x).items():
            point.setdefault(k, v)
    for k, v in f.fixed.items():
        point.setdefault(k, v)
    point = {k: np.asarray(v) for k, v in point.items()}
    return (point, res) if return_raw else point


def _describe_bad_start(model: Model, f: Any, q: np.ndarray) -> str:
    from gnomon.ppl.model import _debug_report

    pt = {**f.unflatten_values(q), **f.fixed}
    return _debug_report(model, pt, verbose=False)
