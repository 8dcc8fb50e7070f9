"""A persistent JAX compilation cache under gnomon's cache directory (as in tests/random), so
repeated runs skip JAX's compile like Numba's disk cache skips Numba's."""

from __future__ import annotations

import importlib.util
import os

if importlib.util.find_spec("jax") is not None:
    import jax

    from gnomon.config import config

    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir",
                          os.path.join(os.path.expanduser(config.cache_dir), "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
