"""``gnomon.export_c``: write a graph as self-contained C (``name.c`` + ``name.h``).

The exported code needs a C99 compiler and ``libm`` only (no Python, no NumPy, no gnomon at run
time); matrix products and Cholesky use plain C loops, or the system BLAS/LAPACK when compiled
with ``-DGNOMON_BLAS`` (link ``-lopenblas`` or ``-lblas -llapack``). The C ABI is documented in
the generated header and in ``docs/c-backend.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.errors import GnomonTypeError, GnomonValueError, at_user_line, with_hint

#: the largest rank an exported graph may use (the size of ``gnomon_output.shape``)
MAX_NDIM = 32

HEADER_COMMON = r"""
#ifndef GNOMON_ARRAY_TYPES
#define GNOMON_ARRAY_TYPES
#include <stddef.h>
#include <stdint.h>
#define GNOMON_MAX_NDIM 32
/* An input array: data, rank, shape (ndim lengths) and byte strides (ndim entries, or NULL
   for C order). The data is only read. */
typedef struct {
    const void *data;
    int64_t ndim;
    const int64_t *shape;
    const int64_t *strides;
} gnomon_input;
/* An output array in C order, allocated by the library: release it with <name>_free. */
typedef struct {
    void *data;
    int64_t ndim;
    int64_t shape[GNOMON_MAX_NDIM];
    void *owner;
} gnomon_output;
/* return codes */
#define GNOMON_OK 0
#define GNOMON_EVALUE 1   /* wrong shapes or values: the message says which */
#define GNOMON_ENOMEM 2   /* out of memory */
#define GNOMON_EARGS 4    /* wrong number of dimensions, NULL pointers */
#endif
"""


@dataclass(frozen=True)
class ExportedC:
    """The files :func:`export_c` wrote, and what the C function takes and returns."""

    c_file: str
    h_file: str
    name: str
    #: ``(name, dtype, static shape)`` of each input, in the order of ``inputs[]``
    inputs: tuple[tuple[str, str, tuple[int | None, ...]], ...]
    #: ``(dtype, static shape)`` of each output, in the order of ``outputs[]``
    outputs: tuple[tuple[str, tuple[int | None, ...]], ...]
    #: the build line for a shared library (also in the header)
    build: str


def export_c(outputs: Any, directory: str | os.PathLike[str], name: str = "gnomon_graph", *,
             inputs: Sequence[Any] | None = None) -> ExportedC:
    """Write ``outputs`` (a variable, a list of them, or a compiled :class:`gnomon.Function`) as
    self-contained C99: ``<directory>/<name>.c`` and ``<name>.h``.

    The graph is rewritten as for ``mode="c"`` (fusion, BLAS specialization), then every node
    must have a C lowering (``gnomon.backends.c.UNLOWERED`` lists the ops that do not). The
    generated function is::

        int <name>_run(const gnomon_input *inputs, gnomon_output *outputs,
                       char *err, size_t errlen);
        void <name>_free(gnomon_output *outputs);

    ``inputs`` holds one array per graph input (for a Function: its inputs, then the shared
    variables it reads, whose values the caller passes); ``outputs`` receives one array per
    output (for a Function: its outputs, then the new value of each updated shared variable),
    allocated by the library in C order, to be released with ``<name>_free``. A non-zero return
    code means an error, described in ``err``; no output is allocated then.

    Parameters
    ----------
    outputs : Variable, list of Variable, or Function
        What to compute.
    directory : path
        Where to write the files (created if missing).
    name : str
        A C identifier: the file names and the prefix of the two functions.
    inputs : list of Variable, optional
        The graph inputs in the order of ``inputs[]`` (default: the graph's root variables in
        first-use order). Ignored for a Function.

    Returns
    -------
    ExportedC
        The paths, the signature and the build line.

    Examples
    --------
    >>> import tempfile, gnomon, gnomon.tensor as gt
    >>> x = gt.dvector("x")
    >>> out = gnomon.export_c(gt.exp(x).sum(), tempfile.mkdtemp(), name="sum_exp")
    >>> out.inputs, out.outputs
    ((('x', 'float64', (None,)),), (('float64', ()),))
    """
    from gnomon.backends.c import linker
    from gnomon.backends.c.codegen import generate, is_exportable_program
    from gnomon.compile.function import Function, function
    from gnomon.compile.mode import Mode
    from gnomon.errors import NotLoweredError
    from gnomon.graph.basic import Constant, Variable
    from gnomon.graph.traversal import graph_inputs

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise GnomonValueError(with_hint(
            f"export_c: name={name!r} is not a C identifier{at_user_line()}",
            "use letters, digits and underscores, not starting with a digit"))
    if isinstance(outputs, Function):
        f = outputs
    else:
        outs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        if not outs or not all(isinstance(o, Variable) for o in outs):
            raise GnomonTypeError(with_hint(
                f"export_c takes a variable, a list of variables or a gnomon.Function, got "
                f"{type(outputs).__name__}{at_user_line()}", "pass the graph's outputs"))
        if inputs is None:
            from gnomon.compile.shared import SharedVariable

            inputs = [v for v in graph_inputs(outs, include_constants=False)
                      if not isinstance(v, Constant | SharedVariable)]
        with linker.export_only():  # export needs only the rewritten program
            f = function(list(inputs), outs, mode=Mode("c"), on_unused_input="ignore")
    program = f.program
    if not is_exportable_program(program):
        raise GnomonValueError(with_hint(
            "export_c: the graph holds a value that is neither an array nor a random "
            f"generator{at_user_line()}", "export a graph of arrays"))
    for v in program.slot:
        if getattr(v.type, "ndim", 0) > MAX_NDIM:
            raise GnomonValueError(f"export_c: {v} has more than {MAX_NDIM} dimensions")
    try:
        p = generate(program, "x", python=False)
    except NotLoweredError as e:
        bad = []
        for node in program.nodes:
            try:
                generate_node_check(node)
            except NotLoweredError as err:
                bad.append(f"{node.op} ({err})")
        raise GnomonValueError(with_hint(
            "export_c: these nodes have no C lowering, and exported code cannot call Python: "
            f"{'; '.join(bad) or str(e)}{at_user_line()}",
            "see gnomon.backends.c.UNLOWERED for the ops C does not lower yet; rewrite the "
            "graph without them, or use mode='c' (which runs them through NumPy)")) from None

    os.makedirs(directory, exist_ok=True)
    c_path = os.path.join(os.fspath(directory), f"{name}.c")
    h_path = os.path.join(os.fspath(directory), f"{name}.h")
    build = f"cc -O2 -std=c99 -fPIC -shared {name}.c -o lib{name}.so -lm"
    header, ins, outs_t = _header_of(f, name, build)
    with open(h_path, "w") as fh:
        fh.write(header)
    with open(c_path, "w") as fc:
        fc.write(_source(name, p, program))
    return ExportedC(c_path, h_path, name, ins, outs_t, build)


def _header_of(f: Any, name: str, build: str) -> tuple[str, Any, Any]:
    """``(header, inputs, outputs)`` of the exported program of ``f``."""
    program = f.program
    ins = tuple((str(v.name or ("rng" if _dtype(v) != getattr(v.type, "dtype", None)
                                else f"input{k}")), _dtype(v), _shape(v))
                for k, v in enumerate(program.inputs))
    outs_t = tuple((_dtype(o), _shape(o)) for o in program.outputs)
    return _header(name, ins, outs_t, len(f.outputs), build, f), ins, outs_t


def standalone_source(f: Any, name: str, units: int = 1) -> str:
    """The C of :func:`export_c` for a Function built with ``mode="c"`` (inside
    ``linker.export_only()`` or ``linker.batch()``, so never built as an extension module)
    as one text, the header
    inlined: for callers that compile it themselves (:func:`gnomon.backends.c.cache.
    load_library`) and call ``<name>_run`` / ``<name>_free`` through a pointer. Raises
    :class:`gnomon.errors.NotLoweredError` when a node has no C lowering (exported code
    cannot call Python), :class:`GnomonValueError` for a program that is not exportable.

    ``units > 1`` spreads the kernels over that many translation units (separated by
    :data:`gnomon.backends.c.cache.UNIT_SPLIT` lines, each with its own copy of the runtime),
    which :func:`gnomon.backends.c.cache.compile_shared` compiles in parallel."""
    from gnomon.backends.c.codegen import generate, is_exportable_program

    program = f.program
    if not is_exportable_program(program) or any(
            getattr(v.type, "ndim", 0) > MAX_NDIM for v in program.slot):
        raise GnomonValueError(f"{name}: the program cannot be exported as C")
    p = generate(program, "x", python=False)
    header, _, _ = _header_of(f, name, "")
    return _source(name, p, program, units).replace(f'#include "{name}.h"', header)


def _dtype(v: Any) -> str:
    """The dtype of ``v`` in exported code (a random generator is its ``uint64`` seed)."""
    from gnomon.backends.c.random import is_rng

    return "uint64" if is_rng(v) else str(v.type.dtype)


def _shape(v: Any) -> tuple[int | None, ...]:
    return tuple(getattr(v.type, "shape", ()))


def generate_node_check(node: Any) -> None:
    """NotLoweredError if ``node`` has no C lowering (for the export error message)."""
    from gnomon.backends.c.codegen import lower_node

    lower_node(node)


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "[" + ", ".join("?" if s is None else str(s) for s in shape) + "]"


def _header(name: str, ins: Any, outs: Any, n_user: int, build: str, f: Any) -> str:
    g = name.upper()
    lines = [f"/* {name}.h: generated by gnomon.export_c. No Python or gnomon at run time.",
             f"   Build a shared library:   {build}",
             f"   or an object file:        cc -O2 -std=c99 -c {name}.c",
             "   Add -DGNOMON_BLAS and -lopenblas (or -lblas -llapack) to use the system",
             "   BLAS/LAPACK for matrix products and Cholesky.",
             "   Fast elementwise loops (x86-64 with glibc: vector exp/log/sin/... from",
             "   libmvec, same results to 4 ulp): add -O3 -march=native -fopenmp-simd",
             "   -DGNOMON_VECMATH (elsewhere the macro is ignored and the loops stay scalar).",
             "",
             "   inputs[] (dtype, shape; ? = any length):"]
    for k, (nm, dt, sh) in enumerate(ins):
        what = " (shared variable)" if k >= len(f.inputs) else ""
        if k < len(f.program.inputs) and _dtype(f.program.inputs[k]) != \
                getattr(f.program.inputs[k].type, "dtype", None):
            what += " (random generator: its seed)"
        lines.append(f"     {k}: {nm}  {dt}{_shape_text(sh)}{what}")
    lines.append("   outputs[]:")
    for j, (dt, sh) in enumerate(outs):
        upd = f.updates[j - n_user][0] if j >= n_user else None
        what = "" if upd is None else f" (new value of shared variable {upd.name or j - n_user})"
        if upd is not None and dt == "uint64" and getattr(upd.type, "dtype", None) is None:
            what = " (the seed that continues the random generator of input " \
                f"{next((i for i, v in enumerate(f.program.inputs) if v is upd), '?')})"
        lines.append(f"     {j}: {dt}{_shape_text(sh)}{what}")
    lines += ["*/", f"#ifndef {g}_H", f"#define {g}_H", HEADER_COMMON,
              "#ifdef __cplusplus", 'extern "C" {', "#endif",
              f"#define {g}_N_INPUTS {len(ins)}", f"#define {g}_N_OUTPUTS {len(outs)}",
              "/* Evaluate the graph. Returns GNOMON_OK, or an error code with a message in err",
              "   (errlen bytes, may be NULL); on error no output is allocated. */",
              f"int {name}_run(const gnomon_input *inputs, gnomon_output *outputs, char *err, "
              "size_t errlen);",
              f"/* Release the {len(outs)} outputs of a successful {name}_run. */",
              f"void {name}_free(gnomon_output *outputs);",
              "#ifdef __cplusplus", "}", "#endif", f"#endif  /* {g}_H */", ""]
    return "\n".join(lines)


def _array_literals(flat: np.ndarray, literal: Any) -> str:
    """The elements of a constant array as a C initializer list.

    Finite floats and integers are written bare (``1.5``, ``-3LL``): the array's element type
    converts them exactly (a float32 value is written as its exact double). That is one
    ``repr`` per element instead of :func:`gnomon.backends.c.scalar.literal`'s cast
    expression, which cost radon's observed data (2,856 values) about 40 ms to write and gcc
    more to parse. Other values (NaN, infinities, the most negative int64) keep ``literal``."""
    kind = flat.dtype.kind
    if kind == "f" and flat.dtype.itemsize <= 8 and bool(np.isfinite(flat).all()):
        texts = [repr(v) for v in flat.astype(np.float64).tolist()]
        return ", ".join(t if ("e" in t or "." in t) else t + ".0" for t in texts)
    if kind == "i" and flat.dtype.itemsize <= 8 and not (flat == np.iinfo(np.int64).min).any():
        return ", ".join(f"{v}LL" for v in flat.tolist())
    return ", ".join(literal(v, flat.dtype.name) for v in flat)


def _const_data(c: Any, k: int) -> str:
    from gnomon.backends.c.dispatch import ctype
    from gnomon.backends.c.scalar import literal

    data = np.asarray(c.data)
    flat = data.reshape(-1)
    vals = _array_literals(flat, literal) if flat.size else "0"
    # named by slot, not by object: the same graph gives the same text in every process
    # (the C cache's key is a hash of the text)
    return f"static const {ctype(data.dtype.name)} gn_const_{k}[] = {{{vals}}};"


def _prelude(name: str, p: Any, body: str) -> list[str]:
    """The parts of an exported source before its kernels (``body``): the header, the
    runtime, and BLAS and random-number helpers when ``body`` uses them."""
    from gnomon.backends.c.random import RNG_RUNTIME
    from gnomon.backends.c.runtime import BLAS_HELPERS, EXPORT_BLAS, RUNTIME

    parts = [f"/* {name}.c: generated by gnomon.export_c (see {name}.h for the ABI). */",
             f'#include "{name}.h"', f"#define GN_MAXD {max(p.maxd, 1)}", RUNTIME]
    if any(s in body for s in ("gn_matmul_", "gn_dpotrf", "gn_spotrf")):
        parts += [EXPORT_BLAS, BLAS_HELPERS]
    if "gn_rng_seed" in body:
        parts.append(RNG_RUNTIME)
    return parts


#: how a kernel compiled in another translation unit is declared (``units > 1``)
_SHARED_KERNEL = 'int __attribute__((visibility("hidden"))) '


def _split_kernels(p: Any, units: int) -> list[list[str]]:
    """The kernel names of ``p`` in ``units`` groups of about equal compile cost (the first
    stays in the main translation unit); a kernel whose text does not start as the lowering
    contract says (``static int KERNEL(...``) stays in the first group.

    The cost of a unit is taken as the length of its text, the main unit's program function
    counted twice: it holds the main unit's other big function (one call and ``gn_release``
    per node, the inline helpers expanded), which took gcc about as long per character as
    the kernels twice over (radon: 0.27 s for the main unit without kernels, where counting
    only the kernels left it the slowest of two units, 0.63 s against 0.42 s)."""
    groups: list[list[str]] = [[] for _ in range(units)]
    sizes = [0] * units
    sizes[0] = 2 * len(p.function)
    for k in sorted(p.kernels, key=lambda k: (-len(p.kernels[k]), k)):
        movable = p.kernels[k].startswith(f"static int {k}(")
        g = min(range(units), key=lambda i: sizes[i]) if movable else 0
        groups[g].append(k)
        sizes[g] += len(p.kernels[k])
    return [sorted(g) for g in groups]


def _source(name: str, p: Any, program: Any, units: int = 1) -> str:
    from gnomon.backends.c.cache import UNIT_SPLIT
    from gnomon.backends.c.dispatch import itemsize

    slot = program.slot
    ns, n_out = p.n_slots, len(program.outputs)
    groups = _split_kernels(p, units) if units > 1 else [sorted(p.kernels)]
    others = [k for g in groups[1:] for k in g]
    protos = [f"{_SHARED_KERNEL}{k}(gn_ctx *ctx, gn_arr *const *in, gn_arr *out);"
              for k in others]
    body = "\n".join([*protos, *(p.kernels[k] for k in groups[0])])
    parts = [*_prelude(name, p, body), body, p.function]
    consts = [c for c in program.constants if c.data is not None]  # None: a draw's size
    parts += [_const_data(c, slot[c]) for c in consts]
    extra_units = []
    for g in groups[1:]:
        if not g:
            continue
        ubody = "\n".join(_SHARED_KERNEL + p.kernels[k][len("static int "):] for k in g)
        extra_units.append("\n\n".join([*_prelude(name, p, ubody), ubody]))
    run = [f"int {name}_run(const gnomon_input *inputs, gnomon_output *outputs, char *err, "
           "size_t errlen) {",
           f"    gn_arr s[{ns + n_out}];",
           f"    for (int k = 0; k < {ns + n_out}; k++) {{ s[k].base = NULL; s[k].data = NULL; "
           "s[k].nd = 0; }",
           "    gn_ctx ctx; ctx.code = 0; ctx.msg[0] = 0;",
           "    if (err != NULL && errlen > 0) err[0] = 0;",
           "    if (inputs == NULL || outputs == NULL) {",
           "        if (err != NULL && errlen > 0) snprintf(err, errlen, \"inputs and outputs "
           "must not be NULL\");",
           "        return GNOMON_EARGS;", "    }"]
    for k, v in enumerate(program.inputs):
        nd, dt, st = getattr(v.type, "ndim", 0), _dtype(v), _shape(v)
        run += [f"    {{ const gnomon_input *a = &inputs[{k}]; gn_arr *t = &s[{slot[v]}];",
                f"      if (a->ndim != {nd} || a->data == NULL "
                f"|| ({nd} > 0 && a->shape == NULL))",
                f"          {{ gn_fail(&ctx, \"input {k} ({v.name or k}): expected {nd} "
                "dimensions and non-NULL data and shape, got %lld dimensions\", "
                "(long long)a->ndim); ctx.code = GNOMON_EARGS; goto fail; }",
                f"      t->nd = {nd}; t->data = (char *)a->data;",
                f"      for (int d = 0; d < {nd}; d++) {{",
                "          if (a->shape[d] < 0) { gn_fail(&ctx, \"input %d: negative length\", "
                f"{k}); goto fail; }}",
                "          t->shape[d] = a->shape[d];", "      }",
                f"      if (a->strides != NULL) for (int d = 0; d < {nd}; d++) "
                "t->strides[d] = a->strides[d];",
                f"      else gn_c_strides(t, {itemsize(dt)});"]
        for d, sd in enumerate(st):
            if sd is not None:
                run.append(f"      if (t->shape[{d}] != {sd}) {{ gn_fail(&ctx, \"input {k} "
                           f"({v.name or k}): dimension {d} must have length {sd}, got %lld\", "
                           f"(long long)t->shape[{d}]); goto fail; }}")
        run.append("    }")
    for c in consts:
        data = np.asarray(c.data)
        k = slot[c]
        run += [f"    s[{k}].nd = {data.ndim}; s[{k}].data = (char *)gn_const_{k};"]
        run += [f"    s[{k}].shape[{d}] = {n};" for d, n in enumerate(data.shape)]
        run.append(f"    gn_c_strides(&s[{k}], {data.dtype.itemsize});")
    run += ["    if (gn_prog_x(&ctx, s, NULL) < 0) goto fail;"]
    for j, o in enumerate(program.outputs):
        r, isz = ns + j, itemsize(_dtype(o))
        run += [f"    if (s[{r}].base == NULL || !gn_is_c_contiguous(&s[{r}], {isz})) {{",
                f"        gn_arr c = s[{r}]; c.base = NULL;",
                f"        if (gn_alloc(&ctx, &c, 0, {isz}) < 0) goto fail;",
                f"        gn_copy(&c, &s[{r}], {isz});",
                f"        gn_release(s[{r}].base); s[{r}] = c;", "    }"]
    for j in range(n_out):
        r = ns + j
        run += [f"    outputs[{j}].data = s[{r}].data; outputs[{j}].ndim = s[{r}].nd;",
                f"    for (int d = 0; d < s[{r}].nd; d++) outputs[{j}].shape[d] = s[{r}].shape[d];",
                f"    outputs[{j}].owner = s[{r}].base;"]
    run += ["    return GNOMON_OK;", "fail:",
            f"    for (int k = 0; k < {ns + n_out}; k++) "
            "{ gn_release(s[k].base); s[k].base = NULL; }",
            "    if (err != NULL && errlen > 0) snprintf(err, errlen, \"%s\", ctx.msg);",
            "    return ctx.code ? ctx.code : GNOMON_EVALUE;", "}", "",
            f"void {name}_free(gnomon_output *outputs) {{",
            "    if (outputs == NULL) return;",
            f"    for (int j = 0; j < {n_out}; j++) {{ gn_release(outputs[j].owner); "
            "outputs[j].owner = NULL; outputs[j].data = NULL; }",
            "}", ""]
    main = "\n\n".join(parts) + "\n" + "\n".join(run)
    return "\n".join([main, *(f"{UNIT_SPLIT}\n{u}" for u in extra_units)])
