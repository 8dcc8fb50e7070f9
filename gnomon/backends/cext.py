"""Load a compiled CPython extension module from a file (used by the C backend's cache)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from types import ModuleType


def load_extension(name: str, path: str) -> ModuleType:
    """The extension module ``name`` (its ``PyInit_<name>``) from the shared library ``path``;
    not added to ``sys.modules``."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
