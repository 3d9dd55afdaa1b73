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

Design: the recurrent products are :func:`nets._kernels.vecmath.product` (BLAS ``np.dot``
on the batch for B >= 8, a vectorised loop nest below, which saves a ~1 us BLAS call per
step at B = 1), the input part U x_t of every step is one product before the loop, and the
parameter gradients dW, dU, dV are one large product each over all T*B rows at the end.
Per step the pre-activation row a_t is formed in place, then h_t = tanh(a_t) over the row
with the branch-free :func:`nets._kernels.vecmath.tanh` (expm1 by a Taylor polynomial and
eight doublings; <= ~10 ulp of np.tanh, relative). Compiled with numpy's error model
(:func:`sim.jit.vector_kernel`), so the division in that tanh has no ZeroDivisionError
branch and the loop vectorises; the exact scalar ``math.tanh`` it replaced cost ~6.5 ms of
the 409,600 calls at H=128, B=32, T=100, a third of the float64 step (an earlier attempt
at the same plain-arithmetic tanh under the default error model did not vectorise and
was only 1.2-1.35x faster than math.tanh). Measured [2026-11-22, 1 thread for BLAS,
numba and torch, old and new kernel in one process; ms per step]: float64 H=32 B=1
0.109 -> 0.055 (torch 3.4), H=32 B=32 3.67 -> 1.72 (torch 11.6), H=128 B=1 0.648 -> 0.476
(torch 6.4: 9.8x -> 13.4x), H=128 B=32 21.3 -> 14.3 (torch 34.8: 1.63x -> 2.42x); float32
H=128 B=32 14.5 -> 7.2 (torch 17.0: 1.17x -> 2.35x), H=128 B=1 0.50 -> 0.30 (torch 7.3).
The kernel and the numpy twin still agree to ~1e-15 (float64). The kernel is generic in
the float type: float64 and float32 arrays compile to separate specialisations (all
arrays must share it; float32 elementwise work is done in float64 and rounded on store).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import vector_kernel

from .vecmath import product as _product
from .vecmath import tanh as _tanh

__all__ = ["bptt_tanh_mse"]


@vector_kernel
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
        _product(hs[t], WT, R)
        for bb in range(B):
            r = t * B + bb
            for i in range(H):  # the pre-activation row, then tanh over it (both vectorise)
                R[bb, i] = R[bb, i] + A[r, i] + b[i]
            for i in range(H):
                hs[t + 1, bb, i] = _tanh(R[bb, i])
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
            _product(DA[t * B:(t + 1) * B], W, carry)
    hprev = hs[:T].reshape(T * B, H)
    dW[:, :] = np.dot(DA.T, hprev)
    dU[:, :] = np.dot(DA.T, xf)
    for i in range(H):
        db[i] = 0.0
    for r in range(T * B):
        for i in range(H):
            db[i] += DA[r, i]
    return loss * scale
