"""Each backend declares the op classes it cannot lower, with the reason, in code
(``gnomon.backends.<name>.UNLOWERED``): the declaration is exactly the set of op classes (and
scalar op classes) gnomon defines that have no lowering, and ``docs/backends.md`` shows it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import gnomon
from gnomon.graph.op import Op
from gnomon.scalar.basic import ScalarOp
from gnomon.scalar.composite import Composite, ScalarConstant

DOCS = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
BACKENDS = ("numba", "jax", "c")


def _import_gnomon() -> None:
    for m in pkgutil.walk_packages(gnomon.__path__, "gnomon."):
        if ".backends." in m.name or m.name.endswith("__main__"):
            continue
        importlib.import_module(m.name)


def _subclasses(base: type) -> set[type]:
    out: set[type] = set()
    todo = list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        # concrete classes defined in gnomon at module level, private ones too (classes made
        # at run time, e.g. one per CustomDist call, follow their base's declaration)
        mod = sys.modules.get(cls.__module__)
        if (cls.__module__.startswith("gnomon.") and getattr(mod, cls.__qualname__, None) is cls
                and not inspect.isabstract(cls)):
            out.add(cls)
    return out


def _op_classes() -> set[type]:
    _import_gnomon()
    from gnomon.logprob.rewriting import MeasurableOp

    # measurable ops never reach a backend: strip_measurable turns each back into the op it
    # replaced before a density graph is returned
    return _subclasses(Op) - _subclasses(MeasurableOp) - {MeasurableOp}


def _scalar_op_classes() -> set[type]:
    _import_gnomon()
    # Composite and ScalarConstant are expanded by the Elemwise lowerings, never called
    bases = {c for c in _subclasses(ScalarOp)
             if c.__name__.endswith(("MathOp", "ScalarOp", "PredicateOp", "ConstantOp"))}
    return _subclasses(ScalarOp) - bases - {Composite, ScalarConstant}


def _unlowered(backend: str) -> set[type]:
    """The op classes gnomon defines that ``backend`` has no lowering for."""
    if backend == "c":  # lowerings are C text: no compiler needed to list them
        from gnomon.backends.c.dispatch import has_lowering as has_c
        from gnomon.backends.c.scalar import has_scalar_lowering as has_c_scalar

        return ({c for c in _op_classes() if not has_c(c)}
                | {c for c in _scalar_op_classes() if not has_c_scalar(c)})
    pytest.importorskip(backend)
    if backend == "numba":
        from gnomon.backends.numba.dispatch import has_lowering
        from gnomon.backends.numba.scalar import has_scalar_lowering

        return ({c for c in _op_classes() if not has_lowering(c)}
                | {c for c in _scalar_op_classes() if not has_scalar_lowering(c)})
    from gnomon.backends.jax import jax_funcify, jax_scalar_funcify

    default_op, default_scalar = jax_funcify.dispatch(object), jax_scalar_funcify.dispatch(object)
    return ({c for c in _op_classes() if jax_funcify.dispatch(c) is default_op}
            | {c for c in _scalar_op_classes()
               if jax_scalar_funcify.dispatch(c) is default_scalar})


def _declared(backend: str) -> dict[type, str]:
    if backend != "c":
        pytest.importorskip(backend)
    # the layers above the backends (gnomon.ppl) add their entries when they are imported
    _import_gnomon()
    return importlib.import_module(f"gnomon.backends.{backend}").UNLOWERED  # type: ignore[no-any-return]


def docs_table(unlowered: dict[type, str]) -> str:
    """The markdown list ``docs/backends.md`` shows for a backend's ``UNLOWERED``: one bullet
    per reason, naming its classes in the order of the declaration."""
    if not unlowered:
        return "* (none: every op is lowered)\n"
    by_reason: dict[str, list[str]] = {}
    for cls, reason in unlowered.items():
        by_reason.setdefault(reason, []).append(f"`{cls.__name__}`")
    return "".join(f"* {', '.join(names)}: {reason}.\n" for reason, names in by_reason.items())


def _docs_block(backend: str) -> str:
    m = re.search(rf"<!-- unlowered:{backend} -->\n(.*?)<!-- /unlowered -->", DOCS.read_text(),
                  flags=re.S)
    assert m, f"docs/backends.md has no <!-- unlowered:{backend} --> block"
    return m.group(1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_declared_unlowered_ops_are_exactly_the_ops_without_lowering(backend: str) -> None:
    declared, missing = set(_declared(backend)), _unlowered(backend)
    assert not missing - declared, (
        f"ops with no {backend} lowering and not in gnomon.backends.{backend}.UNLOWERED "
        f"(lower them, or declare them there with the reason): "
        f"{sorted(c.__name__ for c in missing - declared)}")
    assert not declared - missing, (
        f"gnomon.backends.{backend}.UNLOWERED lists ops that are now lowered: "
        f"{sorted(c.__name__ for c in declared - missing)}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_docs_show_the_declared_unlowered_ops(backend: str) -> None:
    expected = docs_table(_declared(backend))
    assert _docs_block(backend) == expected, (
        f"the <!-- unlowered:{backend} --> block of docs/backends.md should read:\n{expected}")
