"""Compile a scheduled program with the machine's C compiler (``mode="c"``).

Every node is lowered to a C kernel (``c_funcify``), the program to one C function calling them
in order (:mod:`gnomon.backends.c.codegen`), and the whole is compiled into a small CPython
extension module whose one entry point (``METH_FASTCALL``) takes the inputs as NumPy arrays and
returns the outputs as NumPy arrays allocated by the compiled code: a call from Python enters C
once. Nodes without a C lowering run with the op's NumPy ``perform``, called from inside the C
program between kernels. Modules are cached on disk, signed (:mod:`gnomon.backends.c.cache`).

Why an extension module: it is the cheapest way in and out of C measured here (``a + b`` on
scalars: see ``docs/c-backend.md``), and outputs need no copy: the C code allocates them as
NumPy arrays.

Many programs can share one module (and one compiler run): inside ``with batch():``, compiled
functions are generated but not built; the first call of any of them builds them all at once
(the tests use this to compile the op-records table with a few compiler runs).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from gnomon.backends.c import cache
from gnomon.backends.c.codegen import ProgramC, generate, is_array_program
from gnomon.backends.c.dispatch import typenum
from gnomon.backends.c.runtime import BLAS_DECLS, BLAS_HELPERS, BLAS_SYMBOLS, RUNTIME
from gnomon.backends.numpy.linker import compile_program as reference
from gnomon.backends.numpy.linker import runtime_error
from gnomon.compile.compiled import CompiledProgram
from gnomon.compile.filters import input_filter
from gnomon.compile.schedule import Program
from gnomon.errors import GnomonError, GnomonRuntimeError, node_context, with_hint
from gnomon.graph.basic import Apply

PY_GLUE = r"""
static PyObject *gn_to_py(const gn_arr *a, int type) {
    PyArrayObject *b = (PyArrayObject *)a->base;
    if (b != NULL && PyArray_Check((PyObject *)b) && PyArray_BYTES(b) == a->data
            && PyArray_NDIM(b) == a->nd && PyArray_TYPE(b) == type) {
        int same = 1;
        for (int d = 0; d < a->nd; d++)
            same &= PyArray_DIMS(b)[d] == a->shape[d] && PyArray_STRIDES(b)[d] == a->strides[d];
        if (same) { Py_INCREF(b); return (PyObject *)b; }
    }
    npy_intp dims[GN_MAXD], strides[GN_MAXD];
    for (int d = 0; d < a->nd; d++) { dims[d] = a->shape[d]; strides[d] = a->strides[d]; }
    PyObject *v = PyArray_New(&PyArray_Type, a->nd, dims, type, strides, a->data, 0,
                              NPY_ARRAY_ALIGNED | NPY_ARRAY_WRITEABLE, NULL);
    if (v == NULL) return NULL;
    if (a->base != NULL) {
        Py_INCREF((PyObject *)a->base);
        if (PyArray_SetBaseObject((PyArrayObject *)v, (PyObject *)a->base) < 0) {
            Py_DECREF(v); return NULL;
        }
    }
    return v;
}

static int gn_from_py(gn_ctx *ctx, PyObject *o, gn_arr *a, int type, int nd) {
    PyArrayObject *arr;
    if (PyArray_CheckExact(o) && PyArray_TYPE((PyArrayObject *)o) == type
            && PyArray_ISALIGNED((PyArrayObject *)o)) {
        Py_INCREF(o); arr = (PyArrayObject *)o;
    } else {
        arr = (PyArrayObject *)PyArray_FROM_OTF(o, type, NPY_ARRAY_ALIGNED);
        if (arr == NULL) { ctx->code = 3; return -1; }
    }
    if (PyArray_NDIM(arr) != nd) {
        int got = PyArray_NDIM(arr);
        Py_DECREF(arr);
        return gn_fail(ctx, "expected an array of %d dimensions, got %d", nd, got);
    }
    a->nd = nd;
    a->data = PyArray_BYTES(arr);
    for (int d = 0; d < nd; d++) {
        a->shape[d] = PyArray_DIMS(arr)[d];
        a->strides[d] = PyArray_STRIDES(arr)[d];
    }
    a->base = arr;
    return 0;
}

static int gn_call_py(gn_ctx *ctx, void *py, int idx, gn_arr *const *in, const int *it, int nin,
                      gn_arr *out, const int *ot, const int *on, int nout) {
    PyObject *fn = PyTuple_GET_ITEM((PyObject *)py, idx);
    PyObject *args = PyTuple_New(nin);
    if (args == NULL) { ctx->code = 3; return -1; }
    for (int k = 0; k < nin; k++) {
        PyObject *v = gn_to_py(in[k], it[k]);
        if (v == NULL) { Py_DECREF(args); ctx->code = 3; return -1; }
        PyTuple_SET_ITEM(args, k, v);
    }
    PyObject *res = PyObject_Call(fn, args, NULL);
    Py_DECREF(args);
    if (res == NULL) { ctx->code = 3; return -1; }
    for (int j = 0; j < nout; j++) {
        PyObject *item = PySequence_GetItem(res, j);
        if (item == NULL) { Py_DECREF(res); ctx->code = 3; return -1; }
        int r = gn_from_py(ctx, item, &out[j], ot[j], on[j]);
        Py_DECREF(item);
        if (r < 0) { Py_DECREF(res); return -1; }
    }
    Py_DECREF(res);
    return 0;
}

static PyObject *gn_error_type;

static PyObject *gn_raise(gn_ctx *ctx) {
    if (ctx->code == 3 && PyErr_Occurred()) return NULL;
    if (ctx->code == 2) return PyErr_NoMemory();
    PyErr_SetString(gn_error_type, ctx->msg);
    return NULL;
}
"""


#: the body every entry point shares: arguments to slots, run, outputs to a tuple (one copy
#: per module, so each program adds two small tables and a three-line function)
PY_ENTRY = r"""
typedef int (*gn_prog_fn)(gn_ctx *, gn_arr *, void *);
/* spec: n_in, n_slots, n_out, then per input (slot, typenum, ndim), then per output typenum */
static PyObject *gn_entry(PyObject *const *args, Py_ssize_t nargs, const int *spec,
                          gn_prog_fn prog) {
    const int n_in = spec[0], ns = spec[1], n_out = spec[2];
    const int *ins = spec + 3, *otype = spec + 3 + 3 * n_in;
    if (nargs != n_in + 1) {
        PyErr_Format(PyExc_TypeError, "expected %d arguments", n_in + 1);
        return NULL;
    }
    gn_arr s[ns + n_out];
    for (int k = 0; k < ns + n_out; k++) s[k].base = NULL;
    gn_ctx ctx; ctx.code = 0; ctx.msg[0] = 0;
    PyObject *res = NULL;
    for (int k = 0; k < n_in; k++)
        if (gn_from_py(&ctx, args[k], &s[ins[3 * k]], ins[3 * k + 1], ins[3 * k + 2]) < 0)
            goto fail;
    if (prog(&ctx, s, (void *)args[n_in]) < 0) return gn_raise(&ctx);
    res = PyTuple_New(n_out);
    if (res == NULL) goto fail;
    for (int j = 0; j < n_out; j++) {
        PyObject *v = gn_to_py(&s[ns + j], otype[j]);
        gn_release(s[ns + j].base); s[ns + j].base = NULL;
        if (v == NULL) { Py_DECREF(res); res = NULL; goto fail; }
        PyTuple_SET_ITEM(res, j, v);
    }
    return res;
fail:
    for (int k = 0; k < ns + n_out; k++) gn_release(s[k].base);
    return gn_raise(&ctx);
}
"""


def _wrapper(p: ProgramC, program: Program) -> str:
    """``py_<tag>(*inputs, *constants, fallbacks) -> tuple(outputs)``: :data:`PY_ENTRY` with
    this program's table."""
    ins = [*program.inputs, *program.constants]
    spec = [len(ins), p.n_slots, len(program.outputs)]
    for v in ins:
        spec += [program.slot[v], typenum(v.type.dtype), v.type.ndim]  # type: ignore[attr-defined]
    spec += [typenum(o.type.dtype) for o in program.outputs]  # type: ignore[attr-defined]
    return (f"static const int gn_spec_{p.tag}[] = {{{', '.join(map(str, spec))}}};\n"
            f"static PyObject *py_{p.tag}(PyObject *self, PyObject *const *args, "
            "Py_ssize_t nargs) {\n"
            f"    (void)self; return gn_entry(args, nargs, gn_spec_{p.tag}, gn_prog_{p.tag});\n"
            "}\n")


def module_source(progs: list[tuple[ProgramC, Program]]) -> str:
    """The extension module holding ``progs`` (entry points ``program_<tag>``)."""
    maxd = max([p.maxd for p, _ in progs] + [1])
    kernels: dict[str, str] = {}
    for p, _ in progs:
        kernels.update(p.kernels)
    body = "\n".join(kernels[k] for k in sorted(kernels))
    uses_blas = any(s in body for s in ("gn_matmul_", "gn_dpotrf", "gn_spotrf"))
    parts = ["#define PY_SSIZE_T_CLEAN", "#include <Python.h>",
             "#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION",
             "#include <numpy/arrayobject.h>", "#define GN_PYTHON 1", f"#define GN_MAXD {maxd}",
             RUNTIME, PY_GLUE, PY_ENTRY, BLAS_DECLS + BLAS_HELPERS if uses_blas else "", body]
    parts += [p.function + "\n" + _wrapper(p, prog) for p, prog in progs]
    methods = "".join(f'    {{"program_{p.tag}", (PyCFunction)(void (*)(void))py_{p.tag}, '
                      "METH_FASTCALL, NULL},\n" for p, _ in progs)
    bind = ""
    if uses_blas:
        for var, mod, sym in BLAS_SYMBOLS:
            bind += (f'    if (gn_bind((void **)&{var}, "{mod}", "{sym}") < 0) return NULL;\n')
    parts.append(
        "static int gn_bind(void **dst, const char *mod, const char *name) {\n"
        "    PyObject *m = PyImport_ImportModule(mod);\n"
        "    if (m == NULL) return -1;\n"
        "    PyObject *capi = PyObject_GetAttrString(m, \"__pyx_capi__\");\n"
        "    Py_DECREF(m);\n"
        "    if (capi == NULL) return -1;\n"
        "    PyObject *cap = PyDict_GetItemString(capi, name);\n"
        "    if (cap == NULL) { Py_DECREF(capi); PyErr_SetString(PyExc_ImportError, name); "
        "return -1; }\n"
        "    *dst = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));\n"
        "    Py_DECREF(capi);\n"
        "    return *dst == NULL ? -1 : 0;\n"
        "}\n"
        f"static PyMethodDef gn_methods[] = {{\n{methods}    {{NULL, NULL, 0, NULL}}\n}};\n"
        f"static struct PyModuleDef gn_module = {{PyModuleDef_HEAD_INIT, \"{cache.MODNAME}\", "
        "NULL, -1, gn_methods};\n"
        f"PyMODINIT_FUNC PyInit_{cache.MODNAME}(void) {{\n"
        "    import_array();\n"
        f"{bind}"
        "    PyObject *m = PyModule_Create(&gn_module);\n"
        "    if (m == NULL) return NULL;\n"
        "    gn_error_type = PyExc_ValueError;\n"
        "    (void)gn_bind;\n"
        "    return m;\n"
        "}\n")
    return "\n".join(parts)


@dataclass(frozen=True)
class CProgram:
    """What the C linker says about a compiled program (``CompiledProgram.state``)."""

    #: the nodes that run with their NumPy ``perform`` (no C lowering for them)
    fallback_nodes: list[Apply]
    #: the memory plan: node index -> the input whose buffer its output reuses
    inplace: dict[int, int]
    #: the generated C (program function plus kernels), for reading and debugging
    source: str = ""
    #: the whole program ran on the reference backend (values that are not arrays)
    reference_only: bool = False
    #: the ``Sum`` nodes fused into the loop producing their input
    fused_sums: tuple[Apply, ...] = ()


class _Pending:
    """Programs generated inside ``batch()``, built into one module on first use."""

    def __init__(self) -> None:
        self.items: list[tuple[ProgramC, Program, list[Any]]] = []


_BATCH = threading.local()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Defer building: programs compiled inside share one module, built at the first call."""
    prev = getattr(_BATCH, "pending", None)
    _BATCH.pending = _Pending()
    try:
        yield
    finally:
        _BATCH.pending = prev


@contextlib.contextmanager
def export_only() -> Iterator[None]:
    """Programs compiled inside (in this thread) are rewritten and scheduled but get no
    extension-module code: for a caller that writes them as standalone C itself
    (:func:`gnomon.backends.c.export.standalone_source`, the sampler's log-density in
    ``gnomon/ppl/c_logp.py``), where that code was generated only to be dropped (radon's
    log-density: about 15 ms). Calling such a function raises."""
    with cache.thread_setting(_BATCH, "export_only", True, False):
        yield


def _not_built(values: list[Any]) -> list[Any]:
    raise GnomonRuntimeError(with_hint(
        "this function was compiled inside gnomon.backends.c.linker.export_only(): it has "
        "no extension-module code to run", "compile it again outside export_only()"))


#: a batch of more programs than this is split into modules compiled in parallel
_CHUNK = 64


def _build(pending: _Pending) -> None:
    items = [it for it in pending.items if not it[2]]
    if not items:
        return
    n = min(max(1, len(items) // _CHUNK), os.cpu_count() or 1)
    # contiguous runs, not every n-th: neighbouring programs (rows of one family, one
    # function's pieces) share kernels, which a module compiles once
    size = -(-len(items) // n)
    chunks = [items[k * size:(k + 1) * size] for k in range(n)]

    def build(chunk: list[tuple[ProgramC, Program, list[Any]]]) -> None:
        mod = cache.load_module(module_source([(p, prog) for p, prog, _ in chunk]))
        for p, _, box in chunk:
            box.append(mod.__dict__[f"program_{p.tag}"])

    if n == 1:
        build(items)
        return
    # the compiler runs in subprocesses: threads are enough to use every core
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(build, chunks))


def compile_program(program: Program) -> CompiledProgram:
    """Compile ``program`` to ``run(values) -> outputs`` (see the module docstring)."""
    pending: _Pending | None = getattr(_BATCH, "pending", None)
    export = getattr(_BATCH, "export_only", False)
    if pending is None and not export:
        cache.compiler()  # a clear error now if there is no C compiler (export needs none)
    if not is_array_program(program):
        ref = reference(program)
        return CompiledProgram(run=ref.run, state=CProgram([], {}, reference_only=True))
    if export:
        return CompiledProgram(run=_not_built, state=CProgram([], {}))
    p = generate(program, "p")
    box: list[Any] = []
    if pending is not None:
        p.tag = f"p{len(pending.items)}"
        p.function = p.function.replace("gn_prog_p(", f"gn_prog_{p.tag}(", 1)
        pending.items.append((p, program, box))
    else:
        _build(_one(p, program, box))
    consts = tuple(c.data for c in program.constants)
    fallbacks = tuple(_python_node(n) for n in p.fallback_nodes)
    extra = (*consts, fallbacks)

    def thunk(values: list[Any]) -> list[Any]:
        if not box:
            assert pending is not None
            _build(pending)
        try:
            return list(box[0](*values, *extra))
        except GnomonError:
            raise
        except Exception as e:
            raise _explain(program, values, e) from e

    text = "\n".join(p.kernels.values()) + "\n" + p.function
    # Outputs are fresh or copied inside C; a Python fallback may return an undeclared view,
    # so then Function checks the outputs' memory itself.
    return CompiledProgram(run=thunk, outputs_never_alias=not p.fallback_nodes,
                           input_filter=input_filter,
                           state=CProgram(p.fallback_nodes, dict(p.inplace), text,
                                          fused_sums=tuple(p.fused_sums)))


def _one(p: ProgramC, program: Program, box: list[Any]) -> _Pending:
    pending = _Pending()
    pending.items.append((p, program, box))
    return pending


def _python_node(node: Apply) -> Callable[..., tuple[Any, ...]]:
    """Run ``node`` with its NumPy ``perform``; errors name the node and the user's line."""
    op = node.op

    def run(*args: Any) -> tuple[Any, ...]:
        try:
            res = op.perform(node, list(args))
        except Exception as e:
            raise runtime_error(node, list(args), e) from e
        return tuple(np.asarray(r) for r in res)

    return run


def _explain(program: Program, values: list[Any], e: Exception) -> Exception:
    """A failure inside C code (a shape mismatch): the reference backend replays the call to
    raise its precise error naming the node and the user's line; if it does not fail, the C
    message is reported as a bug."""
    if isinstance(e, MemoryError):
        return e
    try:
        reference(program).run(list(values))
    except GnomonError as err:
        return err
    except Exception as err:  # pragma: no cover - the reference wraps its errors
        return err
    first = program.nodes[0] if program.nodes else None
    return GnomonRuntimeError(with_hint(
        f"{type(e).__name__} in C-compiled code: {e}\n(The NumPy reference runs this call "
        f"without error, so this is a bug in gnomon's C backend.)\n"
        f"{node_context(first) if first is not None else ''}",
        "use mode='numba' for now and report the bug"))
