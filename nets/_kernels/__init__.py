"""Numba kernels, compiled through :mod:`sim.jit`; each has a numpy twin in its net's module."""
