r"""Fused forward + full BPTT of the vanilla tanh RNN with a linear output and MSE loss.

For xs (T, B, I), targets ys (Ty, B, K) with Ty = T (a target per step) or Ty = 1 (the
last step only), and ``scale`` = 1 / (number of scored elements) for the mean or 1 for
the sum (the conventions of :func:`sim.train.output_loss`):

    a_t = W h_{t-1} + U x_t + b,   h_t = tanh(a_t),   z_t = V h_t + c
    L   = scale * sum_{scored t} ||z_t - y_t||^2,      dz_t = 2 scale (z_t - y_t)
    dh_t = dz_t V + da_{t+1} W,    da_t = dh_t * (1 - h_t^2)
    dW = sum_t da_t^T h_{t-1},  dU = sum_t da_t^T x_t,  db = sum_t da_t,
    dV = sum_t dz_t^T h_t,      dc = sum_t dz_t

(Werbos 1990; Rumelhart, Hinton & Williams 1986 — the equations of :mod:`nets.rnn`.)
Twin: :func:`nets.rnn.forward_sequence` + :func:`nets.rnn.backward_sequence` with
:func:`sim.train.output_loss` (``RNN.bptt(..., fast=False)``); tests/test_rnn_kernel.py
checks agreement to 1e-12 (float64) and finite differences through the kernel.

Design: the per-step products are batched matrix products (``np.dot``, BLAS), the
parameter gradients dW, dU, dV are one large product each over all T*B rows at the end,
and the elementwise tanh / derivative loops run over contiguous rows. The tanh is the
exact ``math.tanh`` (scalar, not vectorised here: DESIGN.md §7); no approximation, so the
kernel agrees with numpy to rounding. Its cost, measured by benchmarks/recurrent.py: the
T*B*H = 409,600 scalar tanh calls of H=128, B=32, T=100 take ~6.5 ms, about a third of the
float64 step (1 thread). A plain-arithmetic tanh tried for this kernel (expm1 by a
degree-11 Taylor polynomial of -2|x|/256, eight doublings e <- e(e+2), then -e/(2+e);
<= 7 ulp from np.tanh) was only 1.2-1.35x faster than math.tanh in a numba loop here:
LLVM did not vectorise it, so it was not adopted [measured]. The kernel is generic in the float type: float64
and float32 arrays compile to separate specialisations (all arrays must share it).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel

__all__ = ["bptt_tanh_mse"]


@kernel
def bptt_tanh_mse(p, xs, ys, h0, scale, hs, dh_norm, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (W (H, H), U (H, I), b (H,), V (K, H), c (K,)), C-contiguous
    xs : ndarray (T, B, I)
    ys : ndarray (Ty, B, K), Ty = T (many-to-many) or 1 (last step only)
    h0 : ndarray (B, H)
    scale : float, 1/n for the mean over the n scored elements, 1 for the sum
    hs : ndarray (T+1, B, H), output: hs[0] = h0, hs[t+1] = h_t
    dh_norm : ndarray (T,), output: ||dL/dh_t|| (Frobenius over the batch)
    g : tuple (dW, dU, db, dV, dc) shaped like p, output (overwritten)

    Returns
    -------
    loss : float
    """
    W, U, b, V, c = p
    dW, dU, db, dV, dc = g
    T, B, I = xs.shape
    H = W.shape[0]
    K = V.shape[0]
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    WT = np.ascontiguousarray(W.T)
    UT = np.ascontiguousarray(U.T)
    VT = np.ascontiguousarray(V.T)
    # forward: input parts of every step in one product, then the recurrence
    xf = xs.reshape(T * B, I)
    A = np.dot(xf, UT)  # (T*B, H)
    R = np.empty((B, H), dt)
    for bb in range(B):
        for i in range(H):
            hs[0, bb, i] = h0[bb, i]
    for t in range(T):
        np.dot(hs[t], WT, R)
        for bb in range(B):
            r = t * B + bb
            for i in range(H):
                hs[t + 1, bb, i] = math.tanh(R[bb, i] + A[r, i] + b[i])
    # loss on the scored steps
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, VT)  # (Ty*B, K)
    yf = ys.reshape(Ty * B, K)
    loss = 0.0
    for k in range(K):
        dc[k] = 0.0
    two_s = 2.0 * scale
    for r in range(Ty * B):
        for k in range(K):
            e = Z[r, k] + c[k] - yf[r, k]
            loss += e * e
            Z[r, k] = two_s * e  # Z now holds dz
            dc[k] += Z[r, k]
    dV[:, :] = np.dot(Z.T, hy)
    Dout = np.dot(Z, V)  # (Ty*B, H): dL/dh_t from the loss term at t
    # backward
    DA = np.empty((T * B, H), dt)
    carry = np.zeros((B, H), dt)
    for t in range(T - 1, -1, -1):
        ss = 0.0
        for bb in range(B):
            r = t * B + bb
            ro = (t - t0) * B + bb
            for i in range(H):
                d = carry[bb, i]
                if t >= t0:
                    d += Dout[ro, i]
                ss += d * d
                h = hs[t + 1, bb, i]
                DA[r, i] = d * (1.0 - h * h)
        dh_norm[t] = math.sqrt(ss)
        if t > 0:
            np.dot(DA[t * B:(t + 1) * B], W, carry)
    hprev = hs[:T].reshape(T * B, H)
    dW[:, :] = np.dot(DA.T, hprev)
    dU[:, :] = np.dot(DA.T, xf)
    for i in range(H):
        db[i] = 0.0
    for r in range(T * B):
        for i in range(H):
            db[i] += DA[r, i]
    return loss * scale
