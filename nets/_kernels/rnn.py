"""Numba forward pass of the fixed-weight recurrent net h_t = f(W h_{t-1} + U x_t + b).

Twin: :meth:`nets.rnn.RNN.step`. Activation codes: 0 identity, 1 tanh, 2 relu, 3 sigmoid.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def forward(p, h, xs, act, out):
    """Run ``len(xs)`` ticks in place on ``h`` and write each new h to ``out``.

    Parameters
    ----------
    p : (W (H, H), U (H, I), b (H,)) float64
    h : (H,) float64, updated in place
    xs : (n, I) float64 inputs, one row per tick
    act : int activation code
    out : (n, H) float64
    """
    W, U, b = p
    H = h.shape[0]
    I = xs.shape[1]
    z = np.empty(H)
    for t in range(xs.shape[0]):
        for i in range(H):
            acc = b[i]
            for j in range(H):
                acc += W[i, j] * h[j]
            for j in range(I):
                acc += U[i, j] * xs[t, j]
            z[i] = acc
        for i in range(H):
            zi = z[i]
            if act == 1:
                zi = math.tanh(zi)
            elif act == 2:
                zi = max(zi, 0.0)
            elif act == 3:
                zi = 1.0 / (1.0 + math.exp(-zi)) if zi >= 0 else math.exp(zi) / (1.0 + math.exp(zi))
            h[i] = zi
            out[t, i] = zi
