"""Random draws in exported C (:func:`gnomon.export_c`): a seed in, draws and the next seed out.

In exported code a random generator is a ``uint64`` scalar, **its seed**: each generator the
graph reads is an input of dtype ``uint64`` and shape ``()``, and each new generator state it
returns (the update of a shared generator) is an output of the same kind, the seed that
continues the stream. A random-variable node ``(rng, size, *params) -> (next_rng, draw)``
seeds a **xoshiro256\\*\\*** generator (Blackman and Vigna, 2018) from the seed through
**splitmix64** (as its authors recommend), draws the elements in C order, and returns the
generator's next 64-bit output as ``next_rng``. The same seed gives the same draws on every
machine (integer arithmetic and ``libm``'s ``log``/``sqrt``/``cos``); different seeds give
independent-looking streams; the stream is not NumPy's (``Generator`` uses PCG64 and other
algorithms), so exported draws equal NumPy's in distribution only.

Lowered: ``normal`` and ``standard_normal`` (Box-Muller: ``sqrt(-2 log u1) cos(2 pi u2)``,
one normal per two uniforms), ``uniform`` (``low + (high - low) u``) and ``exponential``
(``-scale log(1 - u)``), with ``u = (x >> 11) 2^-53`` uniform on ``[0, 1)`` from 53 bits of
the 64-bit output; their parameter checks (``scale >= 0``, finite ``high - low``) return
``GNOMON_EVALUE``. Other distributions are not lowered (``export_c`` names them).
``mode="c"`` does not use this: a program holding a NumPy ``Generator`` runs on the reference
backend there.
"""

from __future__ import annotations

from gnomon.backends.c.dispatch import ctype, itemsize, kernel, typenum
from gnomon.errors import NotLoweredError
from gnomon.graph.basic import Apply, Constant
from gnomon.random import distributions as rd
from gnomon.random.type import RandomGeneratorType

#: the PRNG of exported code (added to the runtime of files that draw)
RNG_RUNTIME = r"""
typedef struct { uint64_t s[4]; } gn_rng;
static inline uint64_t gn_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline void gn_rng_seed(gn_rng *r, uint64_t seed) {
    for (int k = 0; k < 4; k++) r->s[k] = gn_splitmix64(&seed);
}
static inline uint64_t gn_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t gn_rng_next(gn_rng *r) {  /* xoshiro256** */
    uint64_t *s = r->s;
    uint64_t out = gn_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = gn_rotl(s[3], 45);
    return out;
}
static inline double gn_rng_u01(gn_rng *r) {  /* [0, 1), 53 random bits */
    return (double)(gn_rng_next(r) >> 11) * 0x1.0p-53;
}
static inline double gn_rng_normal(gn_rng *r) {  /* Box-Muller, one of the pair */
    double u1 = 1.0 - gn_rng_u01(r), u2 = gn_rng_u01(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
"""

#: distribution class -> (C expression of one draw over ``r`` and the parameters ``p0``,
#: ``p1``, ...; checks as (C condition that is true when valid, message))
_DRAWS: dict[type, tuple[str, list[tuple[str, str]]]] = {
    rd.Normal: ("p0 + p1 * gn_rng_normal(&r)", [("p1 >= 0", "parameter 'scale' must be >= 0")]),
    rd.StandardNormal: ("gn_rng_normal(&r)", []),
    rd.Uniform: ("p0 + (p1 - p0) * gn_rng_u01(&r)",
                 [("isfinite(p1 - p0)", "'high - low' must be finite")]),
    rd.Exponential: ("-p0 * log(1.0 - gn_rng_u01(&r))",
                     [("p0 >= 0", "parameter 'scale' must be >= 0")]),
}


def is_rng(v: object) -> bool:
    """Whether ``v`` (a variable) is a random generator (a seed in exported C)."""
    return isinstance(getattr(v, "type", None), RandomGeneratorType)


def random_source(node: Apply) -> str:
    """The kernel of a random-variable node (see the module docstring)."""
    op = node.op
    entry = _DRAWS.get(type(op))
    if entry is None:
        raise NotLoweredError(f"random variable {type(op).__name__} is not lowered to C")
    expr, checks = entry
    name = getattr(op, "name", type(op).__name__)
    _rng, size, *params = node.inputs
    draw = node.outputs[1]
    nd, dt = draw.ndim, draw.dtype
    t = ctype(dt)
    for p in params:
        if p.dtype not in ("float64", "float32", "int64", "int32", "int16", "int8",
                           "uint8", "uint16", "uint32", "uint64", "bool"):
            raise NotLoweredError(f"a parameter of dtype {p.dtype}")
    has_size = not (isinstance(size, Constant) and size.data is None)
    body = ["int64_t n[GN_MAXD > 0 ? GN_MAXD : 1]; (void)n;"]
    # the batch shape: size, or the broadcast of the parameters (right-aligned, as NumPy)
    for d in range(nd):
        if has_size:
            body.append(f"n[{d}] = *(const int64_t *)(in[1]->data + {d} * in[1]->strides[0]);")
            body.append(f"if (n[{d}] < 0) return gn_fail(ctx, \"negative dimensions are not "
                        "allowed\");")
        else:
            body.append(f"n[{d}] = 1;")
        for k, p in enumerate(params):
            pd = d - (nd - p.ndim)
            if pd < 0:
                continue
            ln = f"in[{k + 2}]->shape[{pd}]"
            if has_size:
                body.append(f"if ({ln} != 1 && {ln} != n[{d}]) return gn_fail(ctx, \"parameter "
                            f"{k} (length %lld in dimension {pd}) does not broadcast to size "
                            f"(%lld)\", (long long){ln}, (long long)n[{d}]);")
            else:
                body += [f"if ({ln} != 1) {{",
                         f"    if (n[{d}] != 1 && n[{d}] != {ln}) return gn_fail(ctx, "
                         "\"shape mismatch: the parameters do not broadcast together\");",
                         f"    n[{d}] = {ln};", "}"]
    body += ["out[0].nd = 0;", f"if (gn_alloc(ctx, &out[0], {typenum('uint64')}, 8) < 0) "
             "return -1;",
             f"out[1].nd = {nd};"]
    body += [f"out[1].shape[{d}] = n[{d}];" for d in range(nd)]
    body += [f"if (gn_alloc(ctx, &out[1], {typenum(dt)}, {itemsize(dt)}) < 0) return -1;",
             "gn_rng r;", "gn_rng_seed(&r, *(const uint64_t *)in[0]->data);",
             "int64_t total = gn_size(&out[1]);",
             f"{t} *o = ({t} *)out[1].data;",
             "int64_t idx[GN_MAXD > 0 ? GN_MAXD : 1] = {0}; (void)idx;",
             "for (int64_t i = 0; i < total; i++) {"]
    for k, p in enumerate(params):
        off = " + ".join(
            f"(in[{k + 2}]->shape[{j}] == 1 ? 0 : idx[{j + nd - p.ndim}] * "
            f"in[{k + 2}]->strides[{j}])" for j in range(p.ndim)) or "0"
        body.append(f"    double p{k} = (double)*(const {ctype(p.dtype)} *)"
                    f"(in[{k + 2}]->data + {off});")
    for cond, msg in checks:
        body.append(f"    if (!({cond})) return gn_fail(ctx, \"{name}: {msg}\");")
    body.append(f"    o[i] = ({t})({expr});")
    body += [f"    for (int d = {nd} - 1; d >= 0; d--) {{ if (++idx[d] < n[d]) break; "
             "idx[d] = 0; }" if nd else "", "}",
             "*(uint64_t *)out[0].data = gn_rng_next(&r);  /* the seed that continues */"]
    return kernel([ln for ln in body if ln])
