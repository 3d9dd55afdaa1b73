"""Reused scratch arrays for the fused kernels' Python wrappers (per thread, one per name).

Why: a kernel call on a batch allocates tens of MB of scratch (the LSTM's (T*B, 4H)
pre-activations, at H = 512, B = 32: 52 MB). Fresh memory from the allocator is often
fresh pages from the OS, and first-touch page faults then cost as much as the arithmetic:
on the shared development VM, the GRU step at H = 128, B = 32 took 123 ms with fresh
scratch and 83 ms with glibc told to keep freed memory (MALLOC_TRIM_THRESHOLD_ etc.)
[measured, one thread, loaded machine]. A library must not change the process's malloc
settings, so the wrappers keep their scratch instead: :func:`scratch` returns the array
this thread used last time under ``name`` when shape and dtype match, else a new one
(replacing it). Contents are undefined on return (np.empty semantics). Only arrays that
never leave the wrapper may come from here (never a returned gradient or trace).
Memory held: the largest recent scratch of each name, per thread that called a kernel.
"""
from __future__ import annotations

import threading

import numpy as np

__all__ = ["scratch", "clear"]

_local = threading.local()


def scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array (shape, dtype), reused across calls in this thread."""
    cache = getattr(_local, "arrays", None)
    if cache is None:
        cache = _local.arrays = {}
    shape = tuple(int(n) for n in shape)
    a = cache.get(name)
    if a is None or a.shape != shape or a.dtype != np.dtype(dtype):
        a = cache[name] = np.empty(shape, dtype)
    return a


def clear() -> None:
    """Drop this thread's scratch arrays (frees their memory)."""
    _local.arrays = {}
