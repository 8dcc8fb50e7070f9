"""gnomon quickstart: build a graph, compile it, differentiate it, train with updates.

Run it with `./dev demo` from the repository root.
"""

import numpy as np

import gnomon
import gnomon.tensor as gt
from gnomon.printing import debugprint, pprint

print("1. Symbolic expressions compile to functions")
a, b = gt.dscalar("a"), gt.dscalar("b")
f = gnomon.function([a, b], a + b)
print(f"   f = gnomon.function([a, b], a + b);  f(1.5, 2.5) = {f(1.5, 2.5)}")
print(f"   (compiled with the {f.mode.backend!r} backend)")

print("\n2. Graphs can be inspected")
x = gt.dvector("x")
y = gt.exp(x) * 2 + x
print(f"   pprint: {pprint(y)}")
print("   debugprint:")
print("   " + debugprint(y, file="str").replace("\n", "\n   "))

print("\n3. Gradients are graphs too")
cost = gt.sum(y)
g = gnomon.grad(cost, x)
print(f"   d/dx sum(exp(x)*2 + x) at x=[0, 1]: {g.eval({x: np.array([0.0, 1.0])})}")
print(f"   (exact: {2 * np.exp([0.0, 1.0]) + 1})")

print("\n4. Shared variables and updates: least-squares by gradient descent")
rng = np.random.default_rng(0)
true_w = np.array([1.0, -2.0, 0.5])
X_data = rng.standard_normal((100, 3))
y_data = X_data @ true_w + 0.01 * rng.standard_normal(100)

X, yv = gt.dmatrix("X"), gt.dvector("y")
w = gnomon.shared(np.zeros(3), name="w")
loss = gt.mean((X @ w - yv) ** 2)
step = gnomon.function([X, yv], loss, updates=[(w, w - 0.1 * gnomon.grad(loss, w))])
for i in range(60):
    current = step(X_data, y_data)
    if i % 20 == 0:
        print(f"   step {i:2d}: loss = {float(current):.5f}")
print(f"   learned w = {np.round(w.get_value(), 3)}   (true w = {true_w})")

print("\n5. Mistakes get explained")
try:
    step(X_data, y_data[:50])
except gnomon.errors.GnomonError as e:
    print("   " + str(e).splitlines()[0])
    print("   ...the message goes on to name the node and the line of your code that built it.")
