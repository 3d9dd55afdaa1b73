r"""A prototype multi-chain Gibbs kernel for :mod:`benchmarks.boltzmann` (not part of rnnlab).

It measures what the kernel change proposed in the benchmark's notes would give, before
anyone writes it in ``nets/_kernels``. C chains share one machine; each keeps its cached
fields ``H[c] = W s_c`` (C, N). A sequential sweep probes unit i in every chain before
moving to unit i + 1, so the row W[i] (= column i, W symmetric) that a flip adds to
``H[c]`` is read from L1 for all C chains instead of from L3/RAM once per chain:

    p = 1 / (1 + exp(-(H[c, i] + b_i))),  s_c[i] <- [u < p],  H[c] += (s_c[i]new - s_c[i]old) W[i].

Twin: :func:`benchmarks.boltzmann.numpy_chains` (same uniforms, same states; checked
before timing). Compiled like every rnnlab kernel (``sim.jit.kernel``: cache, no fastmath).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def chain_fields(W, S, H):
    """H[c] = W S[c] for every chain: S (C, N) int8, H (C, N) float64."""
    C, N = S.shape
    for c in range(C):
        for j in range(N):
            H[c, j] = 0.0
        for k in range(N):
            if S[c, k] != 0:
                for j in range(N):
                    H[c, j] += W[k, j]


@kernel
def multichain_sweeps(W, b, S, H, U):
    """``U.shape[0]`` sequential Gibbs sweeps at T = 1 of the C chains in S, in place.

    W (N, N) float64 symmetric; b (N,); S (C, N) int8 in {0, 1}; H (C, N) = W S (kept up to
    date); U (n, N, C) uniforms, U[k, i, c] for unit i of chain c in sweep k.
    """
    C, N = S.shape
    for k in range(U.shape[0]):
        for i in range(N):
            for c in range(C):
                x = min(max(H[c, i] + b[i], -700.0), 700.0)
                new = 1 if U[k, i, c] < 1.0 / (1.0 + math.exp(-x)) else 0
                d = new - S[c, i]
                if d != 0:
                    S[c, i] = new
                    for j in range(N):
                        H[c, j] += d * W[i, j]


def multichain(W: np.ndarray, b: np.ndarray, S: np.ndarray) -> tuple:
    """(S int8 copy, its fields) ready for :func:`multichain_sweeps`."""
    S8 = np.ascontiguousarray(S, dtype=np.int8)
    H = np.empty(S8.shape)
    chain_fields(W, S8, H)
    return S8, H
