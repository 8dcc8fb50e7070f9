"""A two-component normal mixture, written as PyMC code: the latent labels are summed out.

    python examples/mixture.py

Data from 0.3 N(-2, 0.7) + 0.7 N(1.5, 1). The model writes the label of each observation as a
discrete variable ``z ~ Bernoulli(w)`` and the observation as ``where(z, a, b)``; gnomon's
log-density layer recognizes the mixture and marginalizes ``z`` by enumeration, so NUTS samples
only the continuous parameters (no discrete sampler needed). ``pm.NormalMixture`` gives the
same model; its density is compared at the posterior mean.
"""

import numpy as np

import gnomon.logprob as glp
import gnomon.ppl as pm
import gnomon.random as gr
import gnomon.tensor as gt

rng = np.random.default_rng(0)
n = 300
labels = rng.random(n) < 0.3
data = np.where(labels, rng.normal(-2.0, 0.7, n), rng.normal(1.5, 1.0, n))

print("1. The mixture written with its latent label; the label is marginalized in the density")
w, v = 0.3, gt.dvector("v")
z = gr.bernoulli(w, size=n)
y = gt.where(z, gr.normal(-2.0, 0.7, size=n), gr.normal(1.5, 1.0, size=n))
lp = gt.sum(glp.logp(y, v))
exact = np.sum(np.log(0.3 * np.exp(-0.5 * ((data + 2) / 0.7) ** 2) / (0.7 * np.sqrt(2 * np.pi))
                      + 0.7 * np.exp(-0.5 * (data - 1.5) ** 2) / np.sqrt(2 * np.pi)))
print(f"   log-density of the data: {float(lp.eval({v: data}, mode='numpy')):.4f}, "
      f"by hand {exact:.4f}")

print("\n2. Posterior of the weights, locations and scales with NUTS (pm.NormalMixture)")
with pm.Model() as model:
    weights = pm.Dirichlet("w", a=np.ones(2))
    mus = pm.Normal("mu", mu=np.array([-1.0, 1.0]), sigma=3.0, shape=2,
                    transform=pm.distributions.transforms.ordered)  # labels cannot swap
    sigmas = pm.HalfNormal("sigma", sigma=2.0, shape=2)
    pm.NormalMixture("obs", w=weights, mu=mus, sigma=sigmas, observed=data)
idata = pm.sample(draws=300, tune=300, chains=2, random_seed=3, progressbar=False,
                  model=model)
post = idata.posterior
print(f"   w = {np.round(post['w'].mean(('chain', 'draw')).values, 2)} (true [0.3, 0.7])")
print(f"   mu = {np.round(post['mu'].mean(('chain', 'draw')).values, 2)} (true [-2, 1.5])")
print(f"   sigma = {np.round(post['sigma'].mean(('chain', 'draw')).values, 2)} "
      "(true [0.7, 1.0])")
