"""Numba forward pass of the fixed-weight recurrent net h_t = f(W h_{t-1} + U x_t + b).

Twin: :meth:`nets.rnn.RNN.step`. Activation codes: 0 identity, 1 tanh, 2 relu, 3 sigmoid.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel


@kernel
def activate(z, code):
    """f(z) for activation code 0 identity, 1 tanh, 2 relu, 3 sigmoid (overflow-free)."""
    if code == 1:
        return math.tanh(z)
    if code == 2:
        return max(z, 0.0)
    if code == 3:
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    return z


@kernel
def derivative(a, y, code):
    """f'(a) from a and y = f(a), same codes (as :func:`nets.activations.derivative`)."""
    if code == 1:
        return 1.0 - y * y
    if code == 2:
        return 1.0 if a > 0.0 else 0.0
    if code == 3:
        return y * (1.0 - y)
    return 1.0


@kernel
def preactivation(W, U, b, h, x, a):
    """a[i] = b[i] + sum_j W[i, j] h[j] + sum_j U[i, j] x[j], accumulated in that order."""
    for i in range(h.shape[0]):
        acc = b[i]
        for j in range(h.shape[0]):
            acc += W[i, j] * h[j]
        for j in range(x.shape[0]):
            acc += U[i, j] * x[j]
        a[i] = acc


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
    z = np.empty(H)
    for t in range(xs.shape[0]):
        preactivation(W, U, b, h, xs[t], z)
        for i in range(H):
            zi = activate(z[i], act)
            h[i] = zi
            out[t, i] = zi
