"""Numba free-running tick of the Jordan net: s <- mu s + g(V f(W s + U x + b) + c).

Twin: :meth:`nets.jordan.Jordan.step`. Hidden activation codes as in :mod:`nets._kernels.rnn`
(0 identity, 1 tanh, 2 relu, 3 sigmoid); output codes 0 identity, 3 sigmoid, 4 softmax.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel
from .rnn import activate


@kernel
def forward(p, mu, s, xs, act, out_code, out):
    """Run ``len(xs)`` free-running ticks in place on ``s``; write each new s to ``out``.

    Parameters
    ----------
    p : (W (H, K), U (H, I), b (H,), V (K, H), c (K,)) float64
    mu : float, self-loop of the state units
    s : (K,) float64 state units, updated in place
    xs : (n, I) float64 plan inputs, one row per tick
    act, out_code : int activation codes
    out : (n, K) float64
    """
    W, U, b, V, c = p
    H, K = W.shape
    h = np.empty(H)
    z = np.empty(K)
    for t in range(xs.shape[0]):
        for i in range(H):
            acc = b[i]
            for j in range(K):
                acc += W[i, j] * s[j]
            for j in range(xs.shape[1]):
                acc += U[i, j] * xs[t, j]
            h[i] = activate(acc, act)
        zmax = -np.inf
        for k in range(K):
            acc = c[k]
            for j in range(H):
                acc += V[k, j] * h[j]
            z[k] = acc
            zmax = max(zmax, acc)
        if out_code == 4:
            tot = 0.0
            for k in range(K):
                z[k] = math.exp(z[k] - zmax)
                tot += z[k]
            for k in range(K):
                z[k] /= tot
        else:
            for k in range(K):
                z[k] = activate(z[k], out_code)
        for k in range(K):
            s[k] = mu * s[k] + z[k]
            out[t, k] = s[k]
