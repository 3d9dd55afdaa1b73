"""The one place where numba compilation flags are set (DESIGN.md section 7).

Every kernel in ``nets/_kernels/`` is compiled through :func:`kernel`:

* ``cache=True`` so that a second process starts without recompiling. numba keys its
  on-disk cache on the bytecode of the decorated function and the time stamp of its own
  file only: an edit to a helper module it calls (``nets/_kernels/vecmath.py``), or to the
  flags here, would leave stale machine code in use, and two machines could then run
  the same seed to different results. So every kernel's cache key also carries
  :data:`CACHE_SALT`, a hash of this file and of every module in ``nets/_kernels/``: any
  edit there recompiles every kernel once (tests/test_jit.py);
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
* :func:`fma_kernel` is :func:`vector_kernel` that also lets LLVM contract ``a * b + c``
  into one fused multiply-add (``fastmath``'s ``contract`` flag alone: no reassociation,
  no assumptions about NaN, inf or signed zeros). A fused multiply-add rounds once
  instead of twice, so results move by at most an ulp per operation: for float kernels
  whose twins agree to 1e-12 (the BPTT kernels), not for kernels that must match their
  twins bit for bit (the Gibbs samplers' decisions, :func:`nets._kernels.vecmath.exp_neg`).
  Reassociation, which would change the order of a sum, stays off everywhere. Measured
  on the recurrent training kernels, in one process against the same kernels compiled
  without it (AMD EPYC, AVX-512, one thread): tanh RNN H = 128 B = 1 1.04-1.09x faster,
  LSTM H = 128 B = 1 1.06-1.09x, B = 32 1.02x.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numba
from numba.core.caching import FunctionCache

__all__ = ["kernel", "parallel_kernel", "vector_kernel", "fma_kernel", "prange", "CACHE_SALT", "source_salt"]

prange = numba.prange
#: the one fastmath flag a kernel may use (:func:`fma_kernel`): fused multiply-add
CONTRACT = {"contract"}


def source_salt(files) -> str:
    """sha256 over the names and contents of ``files`` (in the order given)."""
    h = hashlib.sha256()
    for f in files:
        f = Path(f)
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


_HERE = Path(__file__).resolve()
#: part of every kernel's cache key: changes with any kernel module or with the flags here
CACHE_SALT = source_salt([_HERE, *sorted((_HERE.parents[1] / "nets" / "_kernels").glob("*.py"))])


class _SaltedCache(FunctionCache):
    """numba's per-function disk cache, with :data:`CACHE_SALT` in the index key."""

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), CACHE_SALT)


def _compile(fn, **flags):
    dispatcher = numba.njit(cache=False, nogil=True, **flags)(fn)
    dispatcher._cache = _SaltedCache(fn)  # what cache=True does (Dispatcher.enable_caching), salted
    return dispatcher


def kernel(fn):
    """Compile ``fn`` as a cached, GIL-free numba kernel (no fastmath, no parallel)."""
    return _compile(fn, fastmath=False)


def parallel_kernel(fn):
    """Compile ``fn`` with ``parallel=True``: only for loops over independent trials."""
    return _compile(fn, fastmath=False, parallel=True)


def vector_kernel(fn):
    """As :func:`kernel`, with numpy's error model (no ZeroDivisionError check: vectorisable)."""
    return _compile(fn, fastmath=False, error_model="numpy")


def fma_kernel(fn):
    """As :func:`vector_kernel`, with fused multiply-adds (:data:`CONTRACT`): float kernels
    whose twins agree to a tolerance, never bit for bit."""
    return _compile(fn, fastmath=set(CONTRACT), error_model="numpy")
