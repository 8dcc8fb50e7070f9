"""A radon-like hierarchical regression (varying intercepts), written as PyMC code.

    python examples/radon.py

919 synthetic log-radon measurements in 85 counties, with a floor indicator: county
intercepts drawn around a common mean (non-centered), one slope, one noise scale. Samples the
posterior with NUTS, then predicts new houses with ``pm.set_data`` and the posterior
predictive distribution.
"""

import numpy as np

import gnomon.ppl as pm

rng = np.random.default_rng(0)
n_counties, n = 85, 919
county = np.concatenate([np.arange(n_counties), rng.integers(0, n_counties, n - n_counties)])
floor = rng.integers(0, 2, n).astype(float)
a_true = rng.normal(1.5, 0.3, n_counties)
log_radon = a_true[county] - 0.7 * floor + rng.normal(0.0, 0.75, n)

with pm.Model(coords={"county": np.arange(n_counties)}) as model:
    county_idx = pm.Data("county_idx", county)
    floor_x = pm.Data("floor_x", floor)
    mu_a = pm.Normal("mu_a", mu=0.0, sigma=10.0)
    sigma_a = pm.HalfNormal("sigma_a", sigma=5.0)
    a_offset = pm.Normal("a_offset", mu=0.0, sigma=1.0, dims="county")
    a = pm.Deterministic("a", mu_a + sigma_a * a_offset, dims="county")
    b = pm.Normal("b", mu=0.0, sigma=10.0)
    sigma_y = pm.HalfNormal("sigma_y", sigma=5.0)
    pm.Normal("y", mu=a[county_idx] + b * floor_x, sigma=sigma_y, observed=log_radon,
              shape=county_idx.shape)

print("1. Posterior with NUTS (2 chains x (500 tune + 500 draws))")
idata = pm.sample(draws=500, tune=500, chains=2, random_seed=1, progressbar=False,
                  model=model)
post = idata.posterior
print(f"   b = {float(post['b'].mean()):.3f} (true -0.7), "
      f"sigma_y = {float(post['sigma_y'].mean()):.3f} (true 0.75), "
      f"mu_a = {float(post['mu_a'].mean()):.3f} (true ~1.5)")
err = np.abs(post["a"].mean(("chain", "draw")).values - a_true)
print(f"   county intercepts: mean absolute error {err.mean():.3f}")

print("\n2. Predictions for three new houses (county 0 ground floor, county 0 first floor, "
      "county 5 ground floor)")
with model:
    pm.set_data({"county_idx": np.array([0, 0, 5]), "floor_x": np.array([0.0, 1.0, 0.0])})
    pp = pm.sample_posterior_predictive(idata, random_seed=2, return_inferencedata=False)
print(f"   predictive means {np.round(pp['y'].reshape(-1, 3).mean(axis=0), 2)}, "
      f"truth {np.round([a_true[0], a_true[0] - 0.7, a_true[5]], 2)}")
