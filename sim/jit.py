"""The one place where numba compilation flags are set (DESIGN.md section 7).

Every kernel in ``nets/_kernels/`` is compiled through :func:`kernel`:

* ``cache=True`` so that a second process starts without recompiling;
* no ``fastmath``: kernels must agree with their numpy twins bit for bit on binary
  units and to 1e-12 on float units, which reassociation would break;
* ``nogil=True`` so kernels can run in threads;
* ``parallel`` only through :func:`parallel_kernel`, used for loops over independent
  trials or chains, never inside one stochastic trajectory;
* :func:`vector_kernel` only changes numba's error model to numpy's: a float division by
  zero gives inf/nan instead of raising ZeroDivisionError. The check numba inserts before
  every division is a branch that stops LLVM from vectorising a loop containing one
  (measured: a plain-arithmetic tanh over 409,600 floats 13 ms -> 0.6 ms, see
  nets/_kernels/lstm.py). Use it for elementwise math whose divisors cannot vanish.
"""
from __future__ import annotations

import numba

__all__ = ["kernel", "parallel_kernel", "vector_kernel", "prange"]

prange = numba.prange


def kernel(fn):
    """Compile ``fn`` as a cached, GIL-free numba kernel (no fastmath, no parallel)."""
    return numba.njit(cache=True, nogil=True, fastmath=False)(fn)


def parallel_kernel(fn):
    """Compile ``fn`` with ``parallel=True``: only for loops over independent trials."""
    return numba.njit(cache=True, nogil=True, fastmath=False, parallel=True)(fn)


def vector_kernel(fn):
    """As :func:`kernel`, with numpy's error model (no ZeroDivisionError check: vectorisable)."""
    return numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(fn)
