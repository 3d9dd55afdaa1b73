"""Numba kernel of Elman's online copy-back training (one weight update per input).

Twin: :func:`nets.elman.copy_back_train_reference` (a Python loop over
:meth:`nets.rnn.RNN.bptt` on one step with the stored context as ``state0``, plus SGD).
Hidden activation codes as in :mod:`nets._kernels.rnn` (0 identity, 1 tanh, 2 relu,
3 sigmoid); output codes 0 identity, 3 sigmoid. The nets are tiny (a few units), so the
scalar ``math.exp`` is not the bottleneck here.
"""
from __future__ import annotations


import numpy as np

from sim.jit import kernel
from .rnn import activate as _f, derivative as _fprime, preactivation


@kernel
def copy_back_train(p, xs, ys, h, lr, act, out, sse):
    """Train in place, one SGD step per input, ``len(sse)`` passes over the sequence.

    Per step t (context c = the stored h_{t-1}, held as a constant input):
    ``a = W c + U x_t + b, h_t = f(a), z = V h_t + c_o, y = g(z)``;
    ``dz = (y - t) g'(z)`` (the gradient of 1/2 sum (y - t)^2),
    ``dh = V^T dz, da = dh f'(a)``; then
    ``V -= lr dz h_t^T, c_o -= lr dz, W -= lr da c^T, U -= lr da x_t^T, b -= lr da``.

    Parameters
    ----------
    p : (W (H, H), U (H, I), b (H,), V (K, H), c (K,)) float64, updated in place
    xs : (T, I) float64 inputs
    ys : (T, K) float64 targets
    h : (H,) float64 context, updated in place (carried across passes)
    lr : float learning rate
    act, out : int hidden and output activation codes
    sse : (passes,) float64, receives each pass's sum over steps of 1/2 sum_k (y - t)^2
    """
    W, U, b, V, c = p
    H = h.shape[0]
    I = xs.shape[1]
    K = ys.shape[1]
    a = np.empty(H)
    hn = np.empty(H)
    da = np.empty(H)
    dz = np.empty(K)
    for e in range(sse.shape[0]):
        tot = 0.0
        for t in range(xs.shape[0]):
            preactivation(W, U, b, h, xs[t], a)
            for i in range(H):
                hn[i] = _f(a[i], act)
            for k in range(K):
                acc = c[k]
                for j in range(H):
                    acc += V[k, j] * hn[j]
                y = _f(acc, out)
                d = y - ys[t, k]
                tot += 0.5 * d * d
                dz[k] = d * _fprime(acc, y, out)
            for i in range(H):
                acc = 0.0
                for k in range(K):
                    acc += V[k, i] * dz[k]
                da[i] = acc * _fprime(a[i], hn[i], act)
            for k in range(K):
                for j in range(H):
                    V[k, j] -= lr * dz[k] * hn[j]
                c[k] -= lr * dz[k]
            for i in range(H):
                for j in range(H):
                    W[i, j] -= lr * da[i] * h[j]
                for j in range(I):
                    U[i, j] -= lr * da[i] * xs[t, j]
                b[i] -= lr * da[i]
            for i in range(H):
                h[i] = hn[i]
        sse[e] = tot
