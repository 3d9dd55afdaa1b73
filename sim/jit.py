"""The one place where numba compilation flags are set (DESIGN.md section 7).

Every kernel in ``nets/_kernels/`` is compiled through :func:`kernel`:

* ``cache=True`` so that a second process starts without recompiling;
* no ``fastmath``: kernels must agree with their numpy twins bit for bit on binary
  units and to 1e-12 on float units, which reassociation would break;
* ``nogil=True`` so kernels can run in threads;
* ``parallel`` only through :func:`parallel_kernel`, used for loops over independent
  trials or chains, never inside one stochastic trajectory.
"""
from __future__ import annotations

import numba

__all__ = ["kernel", "parallel_kernel", "prange"]

prange = numba.prange


def kernel(fn):
    """Compile ``fn`` as a cached, GIL-free numba kernel (no fastmath, no parallel)."""
    return numba.njit(cache=True, nogil=True, fastmath=False)(fn)


def parallel_kernel(fn):
    """Compile ``fn`` with ``parallel=True``: only for loops over independent trials."""
    return numba.njit(cache=True, nogil=True, fastmath=False, parallel=True)(fn)
