"""A compiled function's direct call as a C object (``Function._call``, issue 13 goal 3).

:class:`~gnomon.compile.function.Function` runs a backend's entry point
(:class:`~gnomon.compile.compiled.EntryPoint`) behind the tests of its arguments that the
usual path would make (an ndarray of the input's dtype, rank and static lengths; with
``trust_input`` none) and of the memory layout the entry point needs, and sends every other
call (a failing test, another number of arguments, keyword arguments, an exception from the
entry point) to the usual path with the arguments as given. It generates that call as a
Python function (``gnomon.compile.function._python_direct``); this module makes the same
call as an object of a small C type, with vectorcall: for ``a + b`` on two float64
10-vectors with ``trust_input`` the Python function ran ~3,000 instructions around the entry
point's ~5,500 (the call of a Python function, ``a.flags`` building a flags object per
argument), the C object ~500 (callgrind; 1.34-1.39 us and 1.00-1.05 us a call in one run,
docs/compile-time.md).

The C source is fixed (one type for every function; what differs between functions is data
held by each object), compiled once per machine with the C backend's compiler and signed
disk cache (:func:`gnomon.backends.c.cache.load_module`) and loaded once per process. Where
there is no C compiler, no Python or NumPy headers, or ``config.native_call`` is off
(``GNOMON_NATIVE_CALL=0``), :func:`caller` returns None and ``Function`` keeps the generated
Python function, which takes exactly the same decisions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gnomon.config import config
from gnomon.errors import GnomonError

#: The C type. Each object holds the entry point, the usual path, the extra arguments (the
#: program's constants), and per argument the ndarray flag bits it must have and, with the
#: type tests, the dtype object, rank and static lengths (-1: any). It holds no reference to
#: the Function (the usual path is a function holding a weak reference), so a dropped
#: function is freed at once; it supports the garbage collector anyway (its extra arguments
#: are arbitrary objects). It keeps no state between calls, so threads may call it at once.
SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <Python.h>
#include <structmember.h>
#include <string.h>
#include <numpy/arrayobject.h>

typedef struct {
    int flags;              /* PyArray_FLAGS bits that must all be set */
    int ndim;               /* with the type tests: the rank */
    PyArray_Descr *descr;   /* with the type tests: the dtype (this object, or an equal one) */
    npy_intp *lengths;      /* with the type tests: ndim static lengths, -1 for any */
} gn_argspec;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *entry;        /* entry(*args, *extra) -> tuple of outputs */
    PyObject *usual;        /* usual(*args, **kwargs): every other call */
    PyObject *extra;        /* tuple */
    PyObject *descrs;       /* tuple: keeps the dtype objects of the specs alive */
    Py_ssize_t n;           /* number of arguments */
    int single;             /* return outputs[0], else a list of the outputs */
    int typed;              /* test type, dtype, rank, static lengths (else only layout) */
    gn_argspec *specs;      /* n of them */
    npy_intp *lengths;      /* the specs' lengths, one block */
} gn_call;

#define GN_SMALL 16

static PyObject *
gn_call_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    gn_call *self = (gn_call *)op;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    Py_ssize_t k, i, total;
    PyObject *small[GN_SMALL], **stack, *res, *out;

    if (n != self->n || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0))
        goto usual;
    for (k = 0; k < n; k++) {
        PyObject *a = args[k];
        const gn_argspec *s = &self->specs[k];
        PyArrayObject *arr = (PyArrayObject *)a;
        if (self->typed) {
            const npy_intp *dims;
            if (Py_TYPE(a) != &PyArray_Type || PyArray_NDIM(arr) != s->ndim)
                goto usual;
            /* the dtype object, or an equal one (dtype.__eq__): arrays made by compiled code
               loaded from a cache carry an unpickled copy of float64's */
            if (PyArray_DESCR(arr) != s->descr && !PyArray_EquivTypes(PyArray_DESCR(arr), s->descr))
                goto usual;
            dims = PyArray_DIMS(arr);
            for (i = 0; i < s->ndim; i++)
                if (s->lengths[i] >= 0 && dims[i] != s->lengths[i])
                    goto usual;
        }
        else if (!PyArray_Check(a)) {
            goto usual;
        }
        if ((PyArray_FLAGS(arr) & s->flags) != s->flags)
            goto usual;
    }
    total = n + PyTuple_GET_SIZE(self->extra);
    if (total == n) {
        res = PyObject_Vectorcall(self->entry, args, n, NULL);
    }
    else {
        stack = small;
        if (total > GN_SMALL) {
            stack = (PyObject **)PyMem_Malloc((size_t)total * sizeof(PyObject *));
            if (stack == NULL)
                return PyErr_NoMemory();
        }
        if (n)
            memcpy(stack, args, (size_t)n * sizeof(PyObject *));
        for (i = n; i < total; i++)
            stack[i] = PyTuple_GET_ITEM(self->extra, i - n);
        res = PyObject_Vectorcall(self->entry, stack, total, NULL);
        if (stack != small)
            PyMem_Free(stack);
    }
    if (res == NULL)
        goto failed;
    if (self->single) {
        if (PyTuple_CheckExact(res) && PyTuple_GET_SIZE(res) > 0) {
            out = PyTuple_GET_ITEM(res, 0);
            Py_INCREF(out);
        }
        else {
            out = PySequence_GetItem(res, 0);
        }
    }
    else {
        out = PySequence_List(res);
    }
    Py_DECREF(res);
    if (out == NULL)
        goto failed;
    return out;
failed:
    /* as `except Exception`: the usual path gives the result or the error, explained */
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyErr_Clear();
usual:
    return PyObject_Vectorcall(self->usual, args, nargsf, kwnames);
}

static int
gn_call_traverse(gn_call *self, visitproc visit, void *arg)
{
    Py_VISIT(self->entry);
    Py_VISIT(self->usual);
    Py_VISIT(self->extra);
    Py_VISIT(self->descrs);
    return 0;
}

static int
gn_call_clear(gn_call *self)
{
    Py_CLEAR(self->entry);
    Py_CLEAR(self->usual);
    Py_CLEAR(self->extra);
    Py_CLEAR(self->descrs);
    return 0;
}

static void
gn_call_dealloc(gn_call *self)
{
    PyObject_GC_UnTrack(self);
    gn_call_clear(self);
    PyMem_Free(self->specs);
    PyMem_Free(self->lengths);
    PyObject_GC_Del(self);
}

static PyMemberDef gn_call_members[] = {
    {"entry", T_OBJECT, offsetof(gn_call, entry), READONLY, "the entry point"},
    {"usual", T_OBJECT, offsetof(gn_call, usual), READONLY, "the usual path"},
    {"extra", T_OBJECT, offsetof(gn_call, extra), READONLY, "the extra arguments"},
    {"typed", T_INT, offsetof(gn_call, typed), READONLY, "whether types are tested"},
    {NULL}
};

static PyTypeObject gn_call_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gnomon.NativeCall",
    .tp_basicsize = sizeof(gn_call),
    .tp_dealloc = (destructor)gn_call_dealloc,
    .tp_vectorcall_offset = offsetof(gn_call, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A compiled function's direct call (gnomon.backends.native_call).",
    .tp_traverse = (traverseproc)gn_call_traverse,
    .tp_clear = (inquiry)gn_call_clear,
    .tp_members = gn_call_members,
};

/* make(entry, usual, extra, single, flags, types)
   flags: tuple of int (one per argument); types: None (layout tests only) or a tuple of
   (dtype, tuple of static lengths, -1 for any) (one per argument) */
static PyObject *
gn_make(PyObject *mod, PyObject *args)
{
    PyObject *entry, *usual, *extra, *flags, *types;
    int single;
    Py_ssize_t n, k, i, nlen = 0, at = 0;
    gn_call *self;

    if (!PyArg_ParseTuple(args, "OOO!pO!O", &entry, &usual, &PyTuple_Type, &extra, &single,
                          &PyTuple_Type, &flags, &types))
        return NULL;
    n = PyTuple_GET_SIZE(flags);
    if (types != Py_None) {
        if (!PyTuple_Check(types) || PyTuple_GET_SIZE(types) != n) {
            PyErr_SetString(PyExc_ValueError, "types: None or one (dtype, lengths) per flag");
            return NULL;
        }
        for (k = 0; k < n; k++) {
            PyObject *t = PyTuple_GET_ITEM(types, k);
            if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 2
                    || !PyArray_DescrCheck(PyTuple_GET_ITEM(t, 0))
                    || !PyTuple_Check(PyTuple_GET_ITEM(t, 1))) {
                PyErr_SetString(PyExc_ValueError, "types: (dtype, tuple of lengths) each");
                return NULL;
            }
            nlen += PyTuple_GET_SIZE(PyTuple_GET_ITEM(t, 1));
        }
    }
    self = PyObject_GC_New(gn_call, &gn_call_type);
    if (self == NULL)
        return NULL;
    self->vectorcall = gn_call_vectorcall;
    self->entry = NULL; self->usual = NULL; self->extra = NULL; self->descrs = NULL;
    self->n = n;
    self->single = single;
    self->typed = types != Py_None;
    self->specs = (gn_argspec *)PyMem_Calloc(n ? (size_t)n : 1, sizeof(gn_argspec));
    self->lengths = (npy_intp *)PyMem_Calloc(nlen ? (size_t)nlen : 1, sizeof(npy_intp));
    if (self->specs == NULL || self->lengths == NULL) {
        PyMem_Free(self->specs);
        PyMem_Free(self->lengths);
        self->specs = NULL; self->lengths = NULL;
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(entry); self->entry = entry;
    Py_INCREF(usual); self->usual = usual;
    Py_INCREF(extra); self->extra = extra;
    Py_INCREF(types); self->descrs = types;
    for (k = 0; k < n; k++) {
        long f = PyLong_AsLong(PyTuple_GET_ITEM(flags, k));
        if (f == -1 && PyErr_Occurred()) {
            Py_DECREF(self);
            return NULL;
        }
        self->specs[k].flags = (int)f;
        if (self->typed) {
            PyObject *t = PyTuple_GET_ITEM(types, k);
            PyObject *lens = PyTuple_GET_ITEM(t, 1);
            self->specs[k].descr = (PyArray_Descr *)PyTuple_GET_ITEM(t, 0);
            self->specs[k].ndim = (int)PyTuple_GET_SIZE(lens);
            self->specs[k].lengths = self->lengths + at;
            for (i = 0; i < PyTuple_GET_SIZE(lens); i++) {
                npy_intp v = (npy_intp)PyLong_AsSsize_t(PyTuple_GET_ITEM(lens, i));
                if (v == -1 && PyErr_Occurred()) {
                    Py_DECREF(self);
                    return NULL;
                }
                self->lengths[at++] = v;
            }
        }
    }
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyMethodDef gn_methods[] = {
    {"make", gn_make, METH_VARARGS, "make(entry, usual, extra, single, flags, types)"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef gn_module = {
    PyModuleDef_HEAD_INIT, "GN_MODNAME", NULL, -1, gn_methods
};

PyMODINIT_FUNC
PyInit_GN_MODNAME(void)
{
    PyObject *m, *fl;
    import_array();
    if (PyType_Ready(&gn_call_type) < 0)
        return NULL;
    m = PyModule_Create(&gn_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&gn_call_type);
    if (PyModule_AddObject(m, "NativeCall", (PyObject *)&gn_call_type) < 0)
        return NULL;
    /* the ndarray.flags attributes EntryPoint.flags may name, as PyArray_FLAGS bits */
    fl = Py_BuildValue("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
                       "c_contiguous", NPY_ARRAY_C_CONTIGUOUS,
                       "f_contiguous", NPY_ARRAY_F_CONTIGUOUS,
                       "aligned", NPY_ARRAY_ALIGNED,
                       "writeable", NPY_ARRAY_WRITEABLE,
                       "owndata", NPY_ARRAY_OWNDATA,
                       "carray", NPY_ARRAY_CARRAY,
                       "farray", NPY_ARRAY_FARRAY);
    if (fl == NULL || PyModule_AddObject(m, "FLAGS", fl) < 0)
        return NULL;
    return m;
}
"""

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}  # "module": the loaded module, or "error": why there is none
_BUILD: dict[str, threading.Thread] = {}  # "thread": loading or compiling in the background

#: How long :func:`caller` waits for the module when this process has not loaded it yet:
#: enough to load it from the disk cache (2-6 ms), not to compile it (0.6-0.9 s of gcc once
#: per machine, which a user's call should not wait for; the Python function serves until then).
WAIT_S = 0.05


def _load() -> None:
    try:
        from gnomon.backends.c import cache

        mod = cache.load_module(SOURCE, portable=True)
    except (GnomonError, OSError, ImportError) as e:
        with _LOCK:
            _STATE["error"] = f"{type(e).__name__}: {e}"
        return
    with _LOCK:
        _STATE["module"] = mod


def module(wait: bool = True) -> Any:
    """The compiled module (compiled once per machine, loaded once per process), or None
    where it cannot be built (no C compiler, no headers); :func:`why_not` says why.

    ``wait=False``: load or build it in a background thread and wait at most
    :data:`WAIT_S` for it; None while it is not there yet (the first process on a machine,
    while gcc runs)."""
    with _LOCK:
        if "module" in _STATE or "error" in _STATE:
            return _STATE.get("module")
        thread = _BUILD.get("thread")
        if thread is None or not thread.is_alive():  # (none yet, or its answer was forgotten)
            thread = _BUILD["thread"] = threading.Thread(
                target=_load, name="gnomon-native-call", daemon=True)
            thread.start()
    thread.join(None if wait else WAIT_S)
    with _LOCK:
        return _STATE.get("module")


def _forget_build() -> None:
    # A build thread does not exist in a child process: let the child start its own.
    _BUILD.clear()


os.register_at_fork(after_in_child=_forget_build)


def why_not() -> str | None:
    """Why :func:`caller` returns None (None when it does not, or has not been asked)."""
    if not config.native_call:
        return "config.native_call is off (GNOMON_NATIVE_CALL=0)"
    return _STATE.get("error")


def caller(entry: Any, usual: Callable[..., Any], single: bool,
           types: Sequence[tuple[np.dtype[Any], tuple[int | None, ...]]] | None
           ) -> Callable[..., Any] | None:
    """The direct call of a function as a C object, or None where it cannot be had.

    ``entry`` is an :class:`~gnomon.compile.compiled.EntryPoint`; ``usual(*args,
    **kwargs)`` takes every call the object does not run itself; ``single``: return the
    first output, else the list of outputs. ``types``: one ``(dtype, static shape)`` per
    argument (a length None where any), which each argument must have exactly (an ndarray,
    not a subclass, of that dtype (the object, or one equal to it), rank and lengths), or
    None for none of these tests (``trust_input``: an ndarray or subclass, of the layout
    ``entry.flags`` names). The decisions are those of
    ``gnomon.compile.function._python_direct``."""
    if not config.native_call:
        return None
    mod = module(wait=False)
    if mod is None:
        return None
    bits = []
    for names in entry.flags:
        b = 0
        for name in names:
            if name not in mod.FLAGS:
                return None  # a flag this module does not know: the Python function
            b |= mod.FLAGS[name]
        bits.append(b)
    spec = None if types is None else tuple(
        (np.dtype(d), tuple(-1 if s is None else int(s) for s in shape)) for d, shape in types)
    return mod.make(entry.call, usual, tuple(entry.extra), bool(single), tuple(bits), spec)
