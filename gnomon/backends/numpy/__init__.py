"""The reference backend: runs each node's NumPy ``perform``. Ground truth for every test."""
