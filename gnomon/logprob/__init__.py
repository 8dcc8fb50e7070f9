"""Log-densities derived from graphs of random variables: ``import gnomon.logprob as glp``.

* :func:`logp`, :func:`logcdf`, :func:`icdf` of one random variable at a value;
* :func:`conditional_logp` (one term per value variable) and :func:`joint_logp` (their sum) of a
  graph of random variables, each conditioned on the values of the others;
* :mod:`gnomon.logprob.transforms`: value transforms to an unconstrained space, and
  :func:`transformed_conditional_logp`.

Densities are built per op class (:mod:`gnomon.logprob.abstract`); expressions of random
variables become measurable ops through the rules of :mod:`gnomon.logprob.rewriting`. See
``docs/logprob.md``.

Examples
--------
>>> import numpy as np, gnomon, gnomon.tensor as gt, gnomon.random as gr
>>> import gnomon.logprob as glp
>>> mu = gr.normal(0.0, 1.0)
>>> y = gr.normal(mu, 0.5, size=3)
>>> mu_v, y_v = gt.dscalar("mu_v"), gt.dvector("y_v")
>>> lp = glp.joint_logp({mu: mu_v, y: y_v})
>>> f = gnomon.function([mu_v, y_v], [lp, gnomon.grad(lp, mu_v)], mode="numpy")
>>> [round(float(r), 4) for r in f(0.5, np.array([0.0, 0.5, 1.0]))]
[-2.7213, -0.5]
"""

from __future__ import annotations

from gnomon.logprob import distributions, transforms
from gnomon.logprob.basic import (
    NotMeasurableError,
    conditional_logp,
    icdf,
    joint_logp,
    logcdf,
    logp,
)
from gnomon.logprob.check import CheckParameters
from gnomon.logprob.transforms import default_transform, transformed_conditional_logp

del distributions  # imported for its registrations

__all__ = [
    "CheckParameters", "NotMeasurableError", "conditional_logp", "default_transform", "icdf",
    "joint_logp", "logcdf", "logp", "transformed_conditional_logp", "transforms",
]

# The measurable expressions (docs/logprob.md), imported for their rules and builders.
from gnomon.logprob import (  # noqa: E402, F401
    elemwise,
    mixture,
    order,
    rv_rewrites,
    scan,
    tensor,
)
from gnomon.logprob.mixture import marginal_logp  # noqa: E402

__all__ += ["marginal_logp"]
