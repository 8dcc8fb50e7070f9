"""Logistic regression trained by gradient descent with shared variables and updates.

Shows: building a loss with gnomon.tensor, `gnomon.grad`, a compiled training step that
updates shared parameters in place, a Hessian for a Laplace-style uncertainty estimate, and
checking a gradient against finite differences.

Run: .venv/bin/python examples/logistic_regression.py
"""

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.testing import check_grads

rng = np.random.default_rng(42)
n, d = 500, 3
true_w, true_b = np.array([2.0, -1.0, 0.5]), -0.3
X_data = rng.standard_normal((n, d))
y_data = (rng.random(n) < 1 / (1 + np.exp(-(X_data @ true_w + true_b)))).astype("float64")

X, y = gt.dmatrix("X"), gt.dvector("y")
w = gnomon.shared(np.zeros(d), name="w")
b = gnomon.shared(np.array(0.0), name="b")

logits = X @ w + b
# Negative log-likelihood written stably: softplus(z) - y*z == -log p(y | z).
nll = gt.mean(gt.softplus(logits) - y * logits)
gw, gb = gnomon.grad(nll, [w, b])
lr = 0.5
train = gnomon.function([X, y], nll, updates=[(w, w - lr * gw), (b, b - lr * gb)])
predict = gnomon.function([X], gt.sigmoid(logits))

for epoch in range(200):
    loss = train(X_data, y_data)
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  nll = {float(loss):.4f}")

acc = np.mean((predict(X_data) > 0.5) == (y_data > 0.5))
print(f"learned w = {np.round(w.get_value(), 2)}, b = {float(b.get_value()):.2f}")
print(f"true    w = {true_w}, b = {true_b}")
print(f"training accuracy = {acc:.3f}")

# The Hessian of the total NLL at the optimum gives approximate posterior standard errors.
wv = gt.dvector("wv", shape=(d,))
total_nll = gt.sum(gt.softplus(gt.constant(X_data) @ wv + float(b.get_value()))
                   - gt.constant(y_data) * (gt.constant(X_data) @ wv))
H = gnomon.function([wv], gnomon.hessian(total_nll, wv))(w.get_value())
print(f"standard errors of w (Laplace) = {np.round(np.sqrt(np.diag(np.linalg.inv(H))), 3)}")

# Gradients are checked against central finite differences, first and second order.
check_grads(lambda v: gt.sum(gt.softplus(gt.constant(X_data[:20]) @ v)), [w.get_value()],
            order=2)
print("gradient check (first and second order): ok")
