"""Control flow in gnomon: OpFromGraph, a lazy ifelse, and scan (an RNN trained a few steps).

Run: ``.venv/bin/python examples/control_flow.py`` from the repository root.
"""

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.printing import debugprint

rng = np.random.default_rng(0)

print("1. OpFromGraph: give a piece of graph a name, reuse it, differentiate it")
u, v = gt.dvector("u"), gt.dvector("v")
softplus_gate = gnomon.OpFromGraph([u, v], [gt.log1p(gt.exp(u)) * v], name="softplus_gate")
a, b = gt.dvector("a"), gt.dvector("b")
out = softplus_gate(softplus_gate(a, b), b)  # called twice, nested
print("   the graph shows the wrapper as one node:")
print("   " + debugprint(out, file="str").replace("\n", "\n   "))
f = gnomon.function([a, b], [out, gnomon.grad(gt.sum(out), a)])
val, grad = f(np.array([0.5, -1.0]), np.array([2.0, 3.0]))
print(f"   value {val}, gradient wrt a {grad}")
print(f"   two wrappers of equal graphs are the same op: "
      f"{softplus_gate == gnomon.OpFromGraph([u, v], [gt.log1p(gt.exp(u)) * v])}")

print("\n2. ifelse is lazy: only the branch taken is computed")
c, x = gt.dscalar("c"), gt.dmatrix("x")
expensive = gt.sum(gt.linalg.inv(x @ x.T + gt.eye(x.shape[0])))
cheap = gt.sum(x)
choose = gnomon.function([c, x], gnomon.ifelse(c > 0, expensive, cheap))
m = rng.standard_normal((3, 3))
want = np.linalg.inv(m @ m.T + np.eye(3)).sum()
print(f"   c=+1: {float(choose(1.0, m)):.6f}  (numpy: {want:.6f})")
print(f"   c=-1: {float(choose(-1.0, m)):.6f}  (numpy: {m.sum():.6f})")

print("\n3. scan: Fibonacci with two taps, and a small RNN trained by gradient descent")
fib, _ = gnomon.scan(lambda f2, f1: f2 + f1,
                     outputs_info=[{"initial": gt.constant(np.array([0, 1])), "taps": [-2, -1]}],
                     n_steps=12)
print(f"   fibonacci: {fib.eval().tolist()}")

T, n_in, n_hid = 20, 3, 8
X = gt.dmatrix("X")
target = gt.dvector("target")
W = gnomon.shared(0.3 * rng.standard_normal((n_in, n_hid)), name="W")
U = gnomon.shared(0.3 * rng.standard_normal((n_hid, n_hid)), name="U")
w_out = gnomon.shared(0.3 * rng.standard_normal(n_hid), name="w_out")
hs, _ = gnomon.scan(lambda x_t, h: gt.tanh(gt.dot(x_t, W) + gt.dot(h, U)),
                    sequences=[X], outputs_info=[gt.zeros(n_hid, dtype="float64")])
pred = gt.dot(hs, w_out)
loss = gt.mean((pred - target) ** 2)
params = [W, U, w_out]
grads = gnomon.grad(loss, params)
train = gnomon.function([X, target], loss,
                        updates=[(p, p - 0.1 * g) for p, g in zip(params, grads, strict=True)])
xs = rng.standard_normal((T, n_in))
ys = np.sin(np.cumsum(xs[:, 0]) * 0.5)  # a target that needs memory of past inputs
losses = [float(train(xs, ys)) for _ in range(200)]
print(f"   RNN loss: {losses[0]:.4f} -> {losses[-1]:.4f} after 200 steps "
      f"(mode {train.mode.backend!r})")
