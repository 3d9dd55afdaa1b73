"""Thread pinning for the benchmarks: must run before numpy (or anything importing it) is imported.

This module imports nothing heavy on purpose. A benchmark run as ``python -m
benchmarks.<name> --threads N`` calls :func:`pin` at the top of its ``__main__`` block;
child processes (process pools, subprocesses) inherit the variables.
"""
from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def threads_from_argv(argv: list[str]) -> int:
    """``--threads`` read before argparse runs (default 1)."""
    value = "1"
    for k, a in enumerate(argv):
        if a == "--threads" and k + 1 < len(argv):
            value = argv[k + 1]
        elif a.startswith("--threads="):
            value = a.split("=", 1)[1]
    try:
        return max(1, int(value))
    except ValueError:  # argparse reports it
        return 1


def pin(argv: list[str]) -> int:
    """Set every thread variable to ``--threads`` (default 1); return the count."""
    n = threads_from_argv(argv)
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    return n


def pinned(n: int) -> bool:
    """Whether every thread variable reads ``n`` (so numpy/numba saw it at import)."""
    return all(os.environ.get(v) == str(n) for v in THREAD_VARS)
