"""The ``gnomon.tensor`` namespace: modules stay findable, re-exports are explicit and complete."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import gnomon
import gnomon.tensor as gt
from gnomon.tensor.type import DTYPE_PREFIX

MODULES = sorted(m.name for m in pkgutil.iter_modules(gt.__path__))
# The family modules whose ``__all__`` gnomon.tensor re-exports.
FAMILIES = ("arrays", "basic", "blas", "creation", "elemwise", "indexing", "linalg", "math",
            "reduce", "shapes", "sorting", "special")
# PyTensor's module paths (thin modules; extra_ops' own names are re-exported too), and modules
# that hold no user functions
NOT_FAMILIES = {"extra_ops", "nlinalg", "slinalg", "debug", "user_op", "type", "variable"}
KINDS = ("scalar", "vector", "matrix", "tensor3", "tensor4")


@pytest.mark.parametrize("name", MODULES)
def test_module_is_not_hidden_by_a_reexport(name: str) -> None:
    mod = importlib.import_module(f"gnomon.tensor.{name}")
    # `import gnomon.tensor.<name> as m` reads the package attribute: it must be the module.
    assert getattr(gt, name) is mod
    assert isinstance(mod, types.ModuleType)


def test_families_are_the_modules() -> None:
    assert set(FAMILIES) == set(MODULES) - NOT_FAMILIES


@pytest.mark.parametrize("name", FAMILIES)
def test_reexports_are_explicit_and_complete(name: str) -> None:
    mod = importlib.import_module(f"gnomon.tensor.{name}")
    assert len(set(mod.__all__)) == len(mod.__all__), "a name is listed twice"
    for n in mod.__all__:
        assert getattr(gt, n) is getattr(mod, n), n
        assert n in gt.__all__
    # Every public function or class defined in the module is exported.
    defined = {
        n for n, v in vars(mod).items()
        if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == mod.__name__
    }
    assert defined <= set(mod.__all__), sorted(defined - set(mod.__all__))


def test_no_name_is_exported_twice() -> None:
    owners: dict[str, str] = {}
    for name in FAMILIES:
        for n in importlib.import_module(f"gnomon.tensor.{name}").__all__:
            assert n not in owners, f"{n} is exported by both {owners[n]} and {name}"
            assert n not in MODULES, f"{name}.{n} would hide the module gnomon.tensor.{n}"
            owners[n] = name
    assert len(gt.__all__) == len(set(gt.__all__))


@pytest.mark.parametrize(("prefix", "dtype"), [("", None), *DTYPE_PREFIX.items()])
def test_type_constructors(prefix: str, dtype: str | None) -> None:
    for ndim, kind in enumerate(KINDS):
        make = getattr(gt, prefix + kind)
        assert make.__name__ == make.__qualname__ == prefix + kind
        assert make.__module__ == "gnomon.tensor.basic"
        assert make == make("y").type
        assert make.__doc__ and f"{ndim}-d" in make.__doc__
        x = make("x")
        assert x.name == "x"
        assert x.type.shape == (None,) * ndim
        assert x.dtype == (dtype or gnomon.config.floatX)
        assert make(dtype="int16").dtype == "int16"
        assert make(shape=(2,) * ndim).type.shape == (2,) * ndim
