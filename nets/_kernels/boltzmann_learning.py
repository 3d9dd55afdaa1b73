"""Numba kernel of the 1985 statistics collection: anneal, then count co-occurrences.

One call runs ``A`` independent annealings of a Boltzmann machine whose always-on bias
unit and clamped units are fixed inside the start states, probing only the ``free`` units:
each unit of time is F random probes (with replacement) of the F free units at the
temperature of that unit of time; after each of the last ``n_collect`` units of time the
outer product s s^T is added to ``out``. Local fields h = W s are kept up to date on every
flip (O(N) per flip). Uniforms are drawn by the caller; nothing here allocates per probe.

Twin: :func:`nets.boltzmann_learning.anneal_collect_reference` (each probe through
:meth:`nets.boltzmann.BoltzmannMachine.step`); the two agree bit for bit for integer
weights (the 1985 +-2 steps), where every field is an exact integer.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def anneal_collect(W, S, free, temps, n_collect, u, out):
    """Run ``A`` annealings in place and accumulate the sampled statistics.

    Parameters
    ----------
    W : (N, N) float64
        Symmetric couplings, zero diagonal (biases as couplings to an always-on unit).
    S : (A, N) int8
        Start states (clamped units at their values, free units randomised); final states on return.
    free : (F,) int64
        The units that are probed.
    temps : (K,) float64
        Temperature of each unit of time, > 0.
    n_collect : int
        Statistics are taken after each of the last ``n_collect`` units of time.
    u : (A, K, F, 2) float64
        Uniforms: [..., 0] picks the probed unit, [..., 1] decides its new value.
    out : (N, N) float64
        out[i, j] += s_i s_j for every sample (updated in place).
    """
    A, N = S.shape
    F = free.shape[0]
    K = temps.shape[0]
    h = np.empty(N)
    for a in range(A):
        s = S[a]
        for j in range(N):
            acc = 0.0
            for i in range(N):
                if s[i] != 0:
                    acc += W[j, i]
            h[j] = acc
        for t in range(K):
            T = temps[t]
            for k in range(F):
                m = int(u[a, t, k, 0] * F)
                if m >= F:
                    m = F - 1
                i = free[m]
                x = h[i] / T
                if x > 700.0:
                    x = 700.0
                elif x < -700.0:
                    x = -700.0
                new = 1 if u[a, t, k, 1] < 1.0 / (1.0 + math.exp(-x)) else 0
                if new != s[i]:
                    d = float(new - s[i])
                    s[i] = new
                    for j in range(N):
                        h[j] += d * W[i, j]
            if t >= K - n_collect:
                for i in range(N):
                    if s[i] != 0:
                        for j in range(N):
                            if s[j] != 0:
                                out[i, j] += 1.0
