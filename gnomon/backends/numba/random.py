"""Random variables in Numba: kernels that take the ``numpy.random.Generator`` itself.

Numba compiles calls to a ``Generator``'s methods (``rng.normal(loc, scale)`` ...) in nopython
mode, with NumPy's algorithms, so a kernel is a plain loop over the batch shape drawing one
value (or one core vector) per index from broadcast parameters; no per-element Python.
Distributions that Numba's ``Generator`` lacks are built from the primitives it has
(``bernoulli`` and ``categorical`` from ``random()``, ``dirichlet`` from ``standard_gamma``,
``multivariate_normal`` from ``standard_normal`` and a Cholesky factor).

A generator passed into compiled code *is* the caller's object: drawing advances it. So only
nodes marked ``inplace`` (by the ``random_inplace`` rewrite, when nothing else reads their
generator) are lowered; such a kernel advances its input and returns it as ``next_rng``. A node
whose generator must be copied first raises ``NotLoweredError`` and runs with its NumPy
``perform`` in Python (copying costs ~4 us there; in nopython code it would need object mode,
~150 us). That happens for a generator given as an explicit input of ``gnomon.function``, one
read by several random variables, or one returned as an output.

Parameter checks (``RandomVariable.checks``) run in the kernel and raise ``ValueError``; the
linker then replays the node with the reference ``perform``, which gives the full message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gnomon.backends.numba.dispatch import numba_funcify
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply
from gnomon.random import distributions as d
from gnomon.random.op import RandomVariable
from gnomon.random.type import NoneConst

#: Per class: ``body(node, rng, params, out, ind) -> lines`` drawing one value (scalar support:
#: assign to ``out``) or filling the core view ``out`` (vector support), from the parameter
#: expressions ``params`` (scalars for 0-core parameters, core views otherwise).
Body = Callable[[Apply, list[str], str], list[str]]


def _scalar(expr: str) -> Body:
    """A body assigning ``expr`` (with ``{0}``, ``{1}`` ... for the parameters)."""
    return lambda node, ps, out: [f"{out} = {expr.format(*ps)}"]


def _probabilities(dist: str, p: str) -> list[str]:
    """Lines binding ``pc`` (the probability vector ``p``) and ``kk`` (its length), checked to
    sum to 1 as NumPy checks it."""
    return [
        "pc = " + p,
        "kk = pc.shape[0]",
        "tot = 0.0",
        "for j in range(kk):",
        "    tot += pc[j]",
        "if abs(tot - 1.0) > 1e-6:",
        f"    raise ValueError(\"{dist}: parameter 'p' must sum to 1 along its last dimension\")",
    ]


def _categorical(node: Apply, ps: list[str], out: str) -> list[str]:
    (p,) = ps
    return [
        *_probabilities("categorical", p),
        "u = rng.random()",
        "c = 0.0",
        "j = 0",
        "while j < kk - 1:",
        "    c += pc[j]",
        "    if u < c:",
        "        break",
        "    j += 1",
        f"{out} = j",
    ]


def _dirichlet(node: Apply, ps: list[str], out: str) -> list[str]:
    (alpha,) = ps
    return [
        "ac = " + alpha,
        "row = " + out,
        "tot = 0.0",
        "for j in range(ac.shape[0]):",
        "    g = rng.standard_gamma(ac[j])",
        "    row[j] = g",
        "    tot += g",
        "for j in range(ac.shape[0]):",
        "    row[j] = row[j] / tot",
    ]


def _multinomial(node: Apply, ps: list[str], out: str) -> list[str]:
    n, p = ps
    # NumPy's conditional binomials: category j gets Binomial(n left, p_j / mass left)
    return [
        *_probabilities("multinomial", p),
        "row = " + out,
        f"left = np.int64({n})",
        "mass = 1.0",
        "for j in range(kk - 1):",
        "    if left > 0 and mass > 0.0:",
        "        x = rng.binomial(left, min(max(pc[j] / mass, 0.0), 1.0))",
        "    else:",
        "        x = 0",
        "    row[j] = x",
        "    left -= x",
        "    mass -= pc[j]",
        "row[kk - 1] = left",
    ]


def mvn_factor(cov: str) -> list[str]:
    """``fac``, the lower Cholesky factor of ``cov`` (``x = mean + fac @ z``, the reference's
    and NumPy's ``method="cholesky"``); for a singular semi-definite ``cov`` a vanishing pivot
    gives a zero column. The same pass checks the covariance as the reference does: finite,
    symmetric, and positive semi-definite (no negative pivot, no residual where a pivot
    vanishes), within relative tolerances."""
    return [
        f"cc = np.ascontiguousarray({cov}).astype(np.float64)",
        "if not np.all(np.isfinite(cc)):",
        "    raise ValueError('multivariate_normal: cov must be finite')",
        "nk = cc.shape[0]",
        "sc = 1e-300",
        "for q in range(nk):",
        "    sc = max(sc, abs(cc[q, q]))",
        "fac = np.zeros_like(cc)",
        "for q in range(nk):",
        "    for j in range(q):",
        "        if abs(cc[q, j] - cc[j, q]) > 1e-8 * (1.0 + abs(cc[q, j])):",
        "            raise ValueError('multivariate_normal: parameter cov must be a symmetric "
        "positive semi-definite matrix')",
        "for j in range(nk):",
        "    dd = cc[j, j]",
        "    for r in range(j):",
        "        dd -= fac[j, r] * fac[j, r]",
        "    if dd > 1e-10 * sc:",
        "        fac[j, j] = math.sqrt(dd)",
        "    elif dd < -1e-8 * sc:",
        "        raise ValueError('multivariate_normal: parameter cov must be a symmetric "
        "positive semi-definite matrix')",
        "    for q in range(j + 1, nk):",
        "        acc = cc[q, j]",
        "        for r in range(j):",
        "            acc -= fac[q, r] * fac[j, r]",
        "        if fac[j, j] > 0.0:",
        "            fac[q, j] = acc / fac[j, j]",
        "        elif abs(acc) > 1e-6 * sc:",
        "            raise ValueError('multivariate_normal: parameter cov must be a symmetric "
        "positive semi-definite matrix')",
    ]


def _mvnormal(node: Apply, ps: list[str], out: str) -> list[str]:
    mean, cov = ps
    # a covariance without batch dimensions is factored once, before the loops
    pre = [] if cov == "a1" else mvn_factor(cov)
    return [
        *pre,
        "mc = " + mean,
        "kk = mc.shape[0]",
        "row = " + out,
        "z = np.empty(kk)",
        "for j in range(kk):",
        "    z[j] = rng.standard_normal()",
        "for j in range(kk):",
        "    acc = 0.0",
        "    for q in range(j + 1):",
        "        acc += fac[j, q] * z[q]",
        "    row[j] = mc[j] + acc",
    ]


def _vonmises(node: Apply, ps: list[str], out: str) -> list[str]:
    mu, kappa = ps
    # NumPy's algorithm (Best and Fisher's rejection sampler; a wrapped normal for huge kappa,
    # a uniform angle for tiny kappa): Numba's Generator has no vonmises
    return [
        f"vm_mu = {mu}",
        f"vm_k = {kappa}",
        "if vm_k < 1e-8:",
        "    vm = math.pi * (2.0 * rng.random() - 1.0)",
        "elif vm_k > 1e6:",
        "    vm = vm_mu + math.sqrt(1.0 / vm_k) * rng.standard_normal()",
        "    if vm < -math.pi:",
        "        vm += 2.0 * math.pi",
        "    if vm > math.pi:",
        "        vm -= 2.0 * math.pi",
        "else:",
        "    if vm_k < 1e-5:",
        "        vm_s = 1.0 / vm_k + vm_k",
        "    else:",
        "        vm_r = 1.0 + math.sqrt(1.0 + 4.0 * vm_k * vm_k)",
        "        vm_rho = (vm_r - math.sqrt(2.0 * vm_r)) / (2.0 * vm_k)",
        "        vm_s = (1.0 + vm_rho * vm_rho) / (2.0 * vm_rho)",
        "    while True:",
        "        vm_z = math.cos(math.pi * rng.random())",
        "        vm_w = (1.0 + vm_s * vm_z) / (vm_s + vm_z)",
        "        vm_y = vm_k * (vm_s - vm_w)",
        "        vm_v = rng.random()",
        "        if vm_y * (2.0 - vm_y) - vm_v >= 0.0:",
        "            break",
        "        if vm_y > 0.0 and vm_v > 0.0 and math.log(vm_y / vm_v) + 1.0 - vm_y >= 0.0:",
        "            break",
        "    vm = math.acos(min(max(vm_w, -1.0), 1.0))",
        "    if rng.random() < 0.5:",
        "        vm = -vm",
        "    vm += vm_mu",
        "    vm_m = np.fmod(abs(vm) + math.pi, 2.0 * math.pi) - math.pi",
        "    vm = -vm_m if vm < 0.0 else vm_m",
        f"{out} = vm",
    ]


def _hypergeometric(node: Apply, ps: list[str], out: str) -> list[str]:
    ngood, nbad, nsample = ps
    # Numba's Generator has no hypergeometric: inversion of one uniform by a chop-down search
    # from the mode, the probabilities walked outwards with their ratios (exact, in expected
    # O(standard deviation) steps; NumPy's ratio-of-uniforms sampler is O(1)).
    return [
        f"hg_g = np.int64({ngood})",
        f"hg_b = np.int64({nbad})",
        f"hg_n = np.int64({nsample})",
        "hg_tot = hg_g + hg_b",
        "hg_lo = max(0, hg_n - hg_b)",
        "hg_hi = min(hg_n, hg_g)",
        "hg_m = min(max((hg_n + 1) * (hg_g + 1) // (hg_tot + 2), hg_lo), hg_hi)",
        "hg_pm = math.exp(math.lgamma(hg_g + 1) - math.lgamma(hg_m + 1) - math.lgamma(hg_g - hg_m"
        " + 1) + math.lgamma(hg_b + 1) - math.lgamma(hg_n - hg_m + 1) - math.lgamma(hg_b - hg_n"
        " + hg_m + 1) - math.lgamma(hg_tot + 1) + math.lgamma(hg_n + 1) + math.lgamma(hg_tot -"
        " hg_n + 1))",
        "hg_u = rng.random() - hg_pm",
        "hg_k = hg_m",
        "hg_l = hg_m",
        "hg_r = hg_m",
        "hg_pl = hg_pm",
        "hg_pr = hg_pm",
        "while hg_u > 0.0 and (hg_l > hg_lo or hg_r < hg_hi):",
        "    if hg_l > hg_lo:",
        "        hg_pl *= (hg_l * (hg_b - hg_n + hg_l)"
        " / ((hg_g - hg_l + 1.0) * (hg_n - hg_l + 1.0)))",
        "        hg_l -= 1",
        "        hg_u -= hg_pl",
        "        if hg_u <= 0.0:",
        "            hg_k = hg_l",
        "            break",
        "    if hg_r < hg_hi:",
        "        hg_pr *= ((hg_g - hg_r) * (hg_n - hg_r)"
        " / ((hg_r + 1.0) * (hg_b - hg_n + hg_r + 1.0)))",
        "        hg_r += 1",
        "        hg_u -= hg_pr",
        "        if hg_u <= 0.0:",
        "            hg_k = hg_r",
        "            break",
        f"{out} = hg_k",
    ]


def _permutation(node: Apply, ps: list[str], out: str) -> list[str]:
    (x,) = ps
    # Fisher-Yates on a copy of the core vector
    return [
        "xc = " + x,
        "row = " + out,
        "for j in range(xc.shape[0]):",
        "    row[j] = xc[j]",
        "for j in range(xc.shape[0] - 1, 0, -1):",
        "    q = rng.integers(0, j + 1)",
        "    tmp = row[j]",
        "    row[j] = row[q]",
        "    row[q] = tmp",
    ]


BODIES: dict[type[RandomVariable], Body] = {
    d.Normal: _scalar("rng.normal({0}, {1})"),
    d.StandardNormal: _scalar("rng.standard_normal()"),
    d.Uniform: _scalar("rng.uniform({0}, {1})"),
    d.Gamma: _scalar("rng.gamma({0}, {1})"),
    d.Beta: _scalar("rng.beta({0}, {1})"),
    d.Exponential: _scalar("rng.exponential({0})"),
    d.Poisson: _scalar("rng.poisson({0})"),
    d.Binomial: _scalar("rng.binomial(np.int64({0}), {1})"),
    d.Bernoulli: _scalar("1 if rng.random() < {0} else 0"),
    d.Integers: _scalar("rng.integers(np.int64({0}), np.int64({1}))"),
    d.HalfNormal: _scalar("{0} + {1} * abs(rng.standard_normal())"),
    d.LogNormal: _scalar("rng.lognormal({0}, {1})"),
    d.Laplace: _scalar("rng.laplace({0}, {1})"),
    d.Logistic: _scalar("rng.logistic({0}, {1})"),
    # NumPy's algorithm (Numba's Generator has no gumbel): loc - scale * log(-log(1 - U))
    d.Gumbel: _scalar("{0} - {1} * math.log(-math.log(1.0 - rng.random()))"),
    d.Cauchy: _scalar("{0} + {1} * rng.standard_cauchy()"),
    d.HalfCauchy: _scalar("{0} + {1} * abs(rng.standard_cauchy())"),
    d.StudentT: _scalar("{1} + {2} * rng.standard_t({0})"),
    d.ChiSquare: _scalar("rng.chisquare({0})"),
    d.Weibull: _scalar("rng.weibull({0})"),
    d.Pareto: _scalar("{1} * (1.0 + rng.pareto({0}))"),
    d.InvGamma: _scalar("1.0 / rng.gamma({0}, 1.0 / {1})"),
    d.Wald: _scalar("rng.wald({0}, {1})"),
    d.Triangular: _scalar("rng.triangular({0}, {1}, {2})"),
    d.Geometric: _scalar("rng.geometric({0})"),
    d.NegativeBinomial: _scalar("rng.negative_binomial({0}, {1})"),
    d.Categorical: _categorical,
    d.Dirichlet: _dirichlet,
    d.Multinomial: _multinomial,
    d.MultivariateNormal: _mvnormal,
    d.VonMises: _vonmises,
    d.GenGamma: _scalar("{2} * rng.standard_gamma({0} / {1}) ** (1.0 / {1})"),
    d.BetaBinomial: _scalar("rng.binomial(np.int64({0}), rng.beta({1}, {2}))"),
    d.Hypergeometric: _hypergeometric,
    d.Permutation: _permutation,
}

#: Checks whose NumPy form does not compile, done in the body instead (categorical sums,
#: positive semi-definite covariances with the SVD that factors them).
_SKIP_CHECKS = {"np.abs(np.sum(p, axis=-1) - 1) <= 1e-6", "is_psd(cov)"}


def _mvn_shapes_check() -> list[str]:
    return [
        "if p1.shape[-1] != p0.shape[-1] or p1.shape[-2] != p0.shape[-1]:",
        "    raise ValueError('multivariate_normal: mean (..., k) and cov (..., k, k) must "
        "agree')",
    ]


def kernel_source(node: Apply) -> str:
    """Source of ``kernel(rng, size, *params) -> (rng, draw)`` for a random variable node."""
    op: RandomVariable = node.op  # type: ignore[assignment]
    body = BODIES.get(type(op))
    if body is None:
        raise NotLoweredError(f"no Numba lowering for {type(op).__name__}")
    if not op.inplace:
        raise NotLoweredError(
            f"{op} must copy its generator first (it is an input of the function, read by "
            "several nodes or an output), which compiled code cannot do cheaply")
    _, size, *params = node.inputs
    out_t = node.outputs[1].type
    nb = out_t.ndim - op.ndim_supp  # type: ignore[attr-defined]
    pn = [f"p{i}" for i in range(len(params))]
    bnd = op.batch_ndims(params)
    lines = [f"def kernel(rng, size{''.join(', ' + p for p in pn)}):"]
    add = lines.append
    # 1. the batch shape: NumPy's broadcasting of the parameters' batch shapes, or size
    if size is NoneConst:
        for k in range(nb):
            add(f"    b{k} = 1")
        for i, bi in enumerate(bnd):
            for j in range(bi):
                k = nb - bi + j
                add(f"    n = p{i}.shape[{j}]")
                add("    if n != 1:")
                add(f"        if b{k} != 1 and b{k} != n:")
                add(f"            raise ValueError('{op.name}: the parameters\\' batch shapes "
                    f"cannot be broadcast together')")
                add(f"        b{k} = n")
    else:
        for k in range(nb):
            add(f"    b{k} = size[{k}]")
            add(f"    if b{k} < 0:")
            add(f"        raise ValueError('{op.name}: size has a negative entry')")
        for i, bi in enumerate(bnd):
            for j in range(bi):
                k = nb - bi + j
                add(f"    if p{i}.shape[{j}] != 1 and p{i}.shape[{j}] != b{k}:")
                add(f"        raise ValueError('{op.name}: parameter {op.param_names[i]} does "
                    f"not broadcast to size')")
    # 2. parameter values (the reference perform gives the full message on replay)
    for c in op.checks:
        if c.expr in _SKIP_CHECKS:
            continue
        expr = c.numba or c.expr
        for i, name in enumerate(op.param_names):
            expr = re.sub(rf"\b{name}\b", f"p{i}", expr)
        add(f"    if not np.all({expr}):")
        add(f"        raise ValueError({op.name + ': ' + c.message!r})")
    if isinstance(op, d.MultivariateNormal):
        lines += ["    " + ln for ln in _mvn_shapes_check()]
    # 3. the output and the loops
    supp = [f"p{i}.shape[{params[i].ndim - 1}]" for i in _support_params(op)]
    shape = [f"b{k}" for k in range(nb)] + supp
    add(f"    out = _empty(({''.join(s + ', ' for s in shape)}), np.{out_t.dtype})")  # type: ignore[attr-defined]
    for i, bi in enumerate(bnd):
        for j in range(bi):
            add(f"    m{i}_{j} = 0 if p{i}.shape[{j}] == 1 else 1")
    pexpr = []
    for i, bi in enumerate(bnd):
        idx = [f"i{nb - bi + j} * m{i}_{j}" for j in range(bi)]
        core = op.ndims_params[i]
        if core == 0:
            pexpr.append(f"p{i}[{', '.join(idx)}]" if idx else f"p{i}[()]")
        else:
            pexpr.append(f"p{i}[{', '.join(idx)}]" if idx else f"p{i}")
    # parameters without batch dimensions are read once, before the loops
    hoisted = []
    for i, bi in enumerate(bnd):
        if bi == 0:
            add(f"    a{i} = {pexpr[i]}")
            hoisted.append(f"a{i}")
        else:
            hoisted.append(pexpr[i])
    if isinstance(op, d.MultivariateNormal) and hoisted[1] == "a1":
        lines += ["    " + ln for ln in mvn_factor("a1")]
    ind = "    "
    for k in range(nb):
        add(f"{ind}for i{k} in range(b{k}):")
        ind += "    "
    target = f"out[{', '.join(f'i{k}' for k in range(nb))}]" if nb else (
        "out[()]" if op.ndim_supp == 0 else "out")
    for ln in body(node, hoisted, target):
        add(ind + ln)
    add("    return rng, out")
    return "\n".join(lines) + "\n"


def choice_kernel(node: Apply) -> str:
    """Source of the ``choice`` kernel: the sample's entries are drawn together (without
    replacement they are distinct positions of ``a``), so it is not the per-index loop of
    :func:`kernel_source`."""
    op: d.Choice = node.op  # type: ignore[assignment]
    if not op.inplace:
        raise NotLoweredError(f"{op} must copy its generator first")
    size = node.inputs[1]
    nb = node.outputs[1].type.ndim  # type: ignore[attr-defined]
    dt = f"np.{op.dtype}"
    lines = ["def kernel(rng, size, a" + (", p):" if op.weighted else "):"), "    ntot = 1"]
    if size is not NoneConst:
        for k in range(nb):
            lines += [f"    b{k} = size[{k}]",
                      f"    if b{k} < 0:",
                      "        raise ValueError('choice: size has a negative entry')",
                      f"    ntot *= b{k}"]
    lines += [
        "    n = a.shape[0]",
        "    if n == 0 and ntot > 0:",
        "        raise ValueError('choice: a is empty')",
        f"    flat = np.empty(ntot, {dt})",
    ]
    if op.weighted:
        lines += ["    if p.shape[0] != n:",
                  "        raise ValueError('choice: p must have one entry per item of a')",
                  "    for j in range(n):",
                  "        if not (p[j] >= 0.0 and p[j] <= 1.0):",
                  "            raise ValueError(\"choice: parameter 'p' must be in [0, 1]\")"]
        lines += ["    " + ln for ln in _probabilities("choice", "p")]
    if op.replace and not op.weighted:
        lines += ["    for i in range(ntot):",
                  "        flat[i] = a[rng.integers(0, n)]"]
    elif op.replace:  # inverse CDF, one uniform per item
        lines += ["    cdf = np.cumsum(pc)",
                  "    for i in range(ntot):",
                  "        j = np.searchsorted(cdf, rng.random() * cdf[n - 1], side='right')",
                  "        flat[i] = a[min(j, n - 1)]"]
    elif not op.weighted:  # a partial Fisher-Yates shuffle of the positions
        lines += ["    if ntot > n:",
                  "        raise ValueError('choice: sample larger than the population')",
                  "    idx = np.arange(n)",
                  "    for i in range(ntot):",
                  "        j = i + rng.integers(0, n - i)",
                  "        q = idx[j]",
                  "        idx[j] = idx[i]",
                  "        idx[i] = q",
                  "        flat[i] = a[q]"]
    else:  # successive draws among the items not yet taken, proportional to p
        lines += ["    w = pc.copy()",
                  "    nz = 0",
                  "    for j in range(n):",
                  "        if w[j] > 0.0:",
                  "            nz += 1",
                  "    if ntot > nz:",
                  "        raise ValueError('choice: fewer non-zero entries in p than size')",
                  "    for i in range(ntot):",
                  "        mass = 0.0",
                  "        for j in range(n):",
                  "            mass += w[j]",
                  "        u = rng.random() * mass",
                  "        c = 0.0",
                  "        pick = -1",
                  "        for j in range(n):",
                  "            if w[j] > 0.0:",
                  "                pick = j",
                  "                c += w[j]",
                  "                if u < c:",
                  "                    break",
                  "        flat[i] = a[pick]",
                  "        w[pick] = 0.0"]
    if nb:
        lines.append(f"    out = flat.reshape(({''.join(f'b{k}, ' for k in range(nb))}))")
    else:
        lines += [f"    out = np.empty((), {dt})", "    out[()] = flat[0]"]
    lines.append("    return rng, out")
    return "\n".join(lines) + "\n"


def _support_params(op: RandomVariable) -> list[int]:
    """Which parameter's last dimension gives each support dimension."""
    if op.ndim_supp == 0:
        return []
    if isinstance(op, d.Multinomial):
        return [1]  # p
    # dirichlet: alpha; multivariate_normal: mean (checked against cov); a class may name
    # another (gnomon.ppl's private random variables, lowered through BODIES too)
    return [getattr(op, "support_param", 0)]


def _register() -> None:
    for cls in BODIES:
        numba_funcify.register(cls)(lambda op, node: kernel_source(node))
    numba_funcify.register(d.Choice)(lambda op, node: choice_kernel(node))


_register()
