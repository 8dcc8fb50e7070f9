"""Eight schools (non-centered), written as PyMC code: only the import differs.

    python examples/eight_schools.py

Builds the model with ``import gnomon.ppl as pm``, finds the MAP point, draws from the prior
predictive distribution, then samples the posterior with NUTS (``pm.sample``) and draws from
the posterior predictive distribution.
"""

import numpy as np

import gnomon.ppl as pm

y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
schools = ["A", "B", "C", "D", "E", "F", "G", "H"]

with pm.Model(coords={"school": schools}) as model:
    mu = pm.Normal("mu", mu=0.0, sigma=5.0)
    tau = pm.HalfCauchy("tau", beta=5.0)
    theta_t = pm.Normal("theta_t", mu=0.0, sigma=1.0, dims="school")
    theta = pm.Deterministic("theta", mu + tau * theta_t, dims="school")
    pm.Normal("obs", mu=theta, sigma=sigma, observed=y, dims="school")

print(model)
print("\n1. Initial point and the log-density of each variable there")
print("  ", {k: np.round(v, 3).tolist() for k, v in model.initial_point().items()})
print("  ", model.point_logps())

print("\n2. MAP (L-BFGS-B on the unconstrained space)")
point = pm.find_MAP(model=model)
print(f"   mu = {float(point['mu']):.3f}, tau = {float(point['tau']):.4f} "
      "(the mode sits at tau -> 0: the reason to sample, not optimize, this model)")

print("\n3. Prior predictive draws")
prior = pm.sample_prior_predictive(draws=500, model=model, random_seed=1,
                                   return_inferencedata=False)
print(f"   obs: mean {prior['obs'].mean():.2f}, sd {prior['obs'].std():.2f} "
      f"(shape {prior['obs'].shape})")

print("\n4. Posterior with NUTS")
idata = pm.sample(draws=500, tune=500, chains=2, random_seed=2, progressbar=False,
                  model=model)
post = idata.posterior if hasattr(idata, "posterior") else None
if post is not None:
    print(f"   posterior mean mu = {float(post['mu'].mean()):.2f}, "
          f"tau = {float(post['tau'].mean()):.2f}")
    div = int(idata.sample_stats["diverging"].sum()) if hasattr(idata, "sample_stats") else 0
    print(f"   divergences: {div}")
    pp = pm.sample_posterior_predictive(idata, model=model, random_seed=3,
                                        return_inferencedata=False)
    print(f"   posterior predictive obs: shape {pp['obs'].shape}, "
          f"mean {pp['obs'].mean():.2f}")
else:
    print(f"   {type(idata)}")
