"""Lowerings of the ops in gnomon/tensor/indexing.py (registered when those ops exist)."""

from __future__ import annotations
