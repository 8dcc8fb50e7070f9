"""A PyMC-compatible modelling layer: ``import gnomon.ppl as pm``.

PyMC model code runs unchanged: a :class:`Model` context, distributions with PyMC's names and
parametrizations (``pm.Normal("mu", mu=0, sigma=1, dims="group")``), ``Deterministic``,
``Potential``, ``Data`` / ``set_data``, ``pm.math``, prior and posterior predictive sampling,
``find_MAP``, ``do`` / ``observe``. Random draws come from :mod:`gnomon.random`, densities from
:mod:`gnomon.logprob`. See ``docs/ppl.md`` for what is covered and what is not.

Examples
--------
>>> import numpy as np, gnomon.ppl as pm
>>> with pm.Model() as model:
...     mu = pm.Normal("mu", mu=0.0, sigma=10.0)
...     y = pm.Normal("y", mu=mu, sigma=1.0, observed=np.array([1.0, 2.0, 3.0]))
>>> round(float(pm.find_MAP(model=model)["mu"]), 3)  # (0/100 + 6) / (1/100 + 3)
1.993
"""

from __future__ import annotations

from gnomon.ppl import distributions as _distributions
from gnomon.ppl import lowering as _lowering  # noqa: F401  (registers backend lowerings)
from gnomon.ppl import math
from gnomon.ppl import transforms as _transforms
from gnomon.ppl.distributions import *  # noqa: F403
from gnomon.ppl.model import (
    Data,
    Deterministic,
    LogpDlogpFunction,
    Model,
    Potential,
    modelcontext,
    set_data,
)
from gnomon.ppl.multivariate import LKJCorr
from gnomon.ppl.timeseries import AR

__all__ = [
    "Data", "Deterministic", "LogpDlogpFunction", "Model", "Potential", "math",
    "modelcontext", "set_data", *_distributions.__all__, "AR", "LKJCorr",
]


class _DistributionsNamespace:
    """``pm.distributions.transforms`` (PyMC's spelling)."""

    transforms = _transforms


distributions = _DistributionsNamespace()
__all__ += ["distributions"]

from gnomon.logprob import icdf, logcdf, logp  # noqa: E402  (PyMC's pm.logp, ...)
from gnomon.ppl.interventions import do, observe  # noqa: E402
from gnomon.ppl.map import find_MAP  # noqa: E402
from gnomon.ppl.predictive import (  # noqa: E402
    draw,
    sample_posterior_predictive,
    sample_prior_predictive,
)

__all__ += ["do", "draw", "find_MAP", "icdf", "logcdf", "logp", "observe",
            "sample_posterior_predictive", "sample_prior_predictive"]

# --- pm.sample and pm.NUTS: the sampler (gnomon/ppl/sampling.py, gnomon/ppl/nuts.py) -----------
from gnomon.ppl.sampling import NUTS, sample  # noqa: E402

__all__ += ["NUTS", "sample"]

# --- compound steps (gnomon/ppl/metropolis.py, gnomon/ppl/compound.py) ----------------------------
from gnomon.ppl.compound import CompoundStep  # noqa: E402
from gnomon.ppl.metropolis import (  # noqa: E402
    BinaryGibbsMetropolis,
    CategoricalGibbsMetropolis,
    Metropolis,
    Slice,
)

__all__ += ["BinaryGibbsMetropolis", "CategoricalGibbsMetropolis", "CompoundStep", "Metropolis",
            "Slice"]
