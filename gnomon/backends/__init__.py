"""Backends: each subpackage lowers a scheduled :class:`~gnomon.compile.schedule.Program` to a
callable. ``numpy`` is the reference (op by op with each op's ``perform``); ``numba`` (default
when installed) and ``jax`` compile the whole graph."""

from __future__ import annotations

import importlib
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
