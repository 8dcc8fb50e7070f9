"""Backends: each subpackage lowers a scheduled :class:`~gnomon.compile.schedule.Program` to a
callable. ``numpy`` is the reference (op by op with each op's ``perform``); ``numba`` (default
when installed) and ``jax`` compile the whole graph."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gnomon.errors import BackendUnavailableError

_INSTALL = {
    "numba": "pip install 'gnomon[numba]'  (or: pip install numba)",
    "jax": "pip install 'gnomon[jax]'  (or: pip install jax)",
}


def get_backend(name: str) -> Any:
    """The backend module ``gnomon.backends.<name>.linker`` (has ``compile_program``)."""
    try:
        if name != "c":  # the C backend needs a C compiler, not a package (checked there)
            importlib.import_module(name)
    except ImportError as e:
        raise BackendUnavailableError(
            f"mode={name!r} needs the {name} package, which is not installed ({e}).\n"
            f"Hint: {_INSTALL.get(name, 'install it')}, or use mode='numpy'."
        ) from None
    return importlib.import_module(f"gnomon.backends.{name}.linker")


# Lowerings of ops defined above the backends in the layer order (gnomon.ppl's private random
# variables): the backends cannot import those layers, so the layers hand over a function that
# registers them, run once the backend package is imported (tests/test_layers.py).
_EXTENSIONS: dict[str, list[Callable[[], None]]] = {}
_LOADED: set[str] = set()


def register_lowerings(backend: str, register: Callable[[], None]) -> None:
    """Run ``register`` (which registers lowerings, or ``UNLOWERED`` entries, of ops defined in
    a layer above the backends) when ``gnomon.backends.<backend>`` is imported, or now if it
    already is. Importing a layer thus never imports an optional backend (JAX)."""
    if backend in _LOADED:
        register()
    else:
        _EXTENSIONS.setdefault(backend, []).append(register)


def backend_loaded(backend: str) -> None:
    """Called at the end of ``gnomon/backends/<backend>/__init__.py``: runs the registrations
    handed over with :func:`register_lowerings`."""
    _LOADED.add(backend)
    for register in _EXTENSIONS.pop(backend, []):
        register()
