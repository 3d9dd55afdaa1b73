r"""Numba kernels of the Jordan net: the free-running tick and the fused forward + BPTT.

**Tick** (:func:`forward`): s <- mu s + g(V f(W s + U x + b) + c); twin
:meth:`nets.jordan.Jordan.step`.

**Fused BPTT** (:func:`bptt`): for xs (T, B, I), targets ys (Ty, B, K) with Ty = T (a
target per step) or Ty = 1 (the last step only; free running), ``n`` the loss divisor of
:func:`sim.train.output_loss` (the number of scored elements for the mean, 1 for the sum):

    S_0 = s_0,  a_t = W S_t + U x_t + b,  h_t = f(a_t),  z_t = V h_t + c,  y_t = g(z_t)
    S_{t+1} = mu S_t + o_t,   o_t = teacher_t (teacher forcing) or y_t (free running)
    mse: L = sum_{scored t} ||y_t - ys_t||^2 / n,  dz_t^loss = 2 (y_t - ys_t) g'(z_t) / n
    bce: L = sum softplus(z_t) - ys_t z_t / n,      dz_t^loss = (sigma(z_t) - ys_t) / n
    backward (ds_T = 0; under teacher forcing the fed-back o_t are constants: ds = 0):
    dz_t = dz_t^loss + g'(z_t) ds_{t+1},  dh_t = dz_t V,  da_t = dh_t * f'(a_t),
    ds_t = da_t W + mu ds_{t+1}
    dW = sum da_t^T S_t, dU = sum da_t^T x_t, db = sum da_t, dV = sum dz_t^T h_t, dc = sum dz_t

(the equations of :mod:`nets.jordan`; full BPTT, no truncation). Twin: the numpy path of
:meth:`nets.jordan.Jordan.bptt` (``fast=False``: :func:`nets.jordan.jordan_forward` + the
per-age backward pass + :func:`sim.train.output_loss`); tests/test_jordan_kernel.py checks
agreement to 1e-12 (float64) and finite differences through the kernel. Covered: hidden
f in {identity, tanh, relu, sigmoid}, output g in {identity, sigmoid} with mse, sigmoid
with bce; the caller falls back to numpy otherwise (softmax, other losses, truncation).

Design: the J1 nets are tiny (I = 2, H = 20, K = 4, T = 12, B = 1), where the numpy path
spends its time in per-step array-call overhead; the kernel runs plain loops, with the
state and plan products through :func:`nets._kernels.vecmath.product` (BLAS for B >= 8)
and the branch-free :mod:`nets._kernels.vecmath` sigmoid/tanh over each row (compiled
with numpy's error model: :func:`sim.jit.fma_kernel`). Generic in the float type:
float32 arrays compile to their own specialisation (all arrays must share it; scalar work
in float64, rounded on store).

Measured on the J1 net [2026-11-22, loaded 2-core machine, best of 5 x 300 calls, one
process]: one training epoch (2 teacher-forced BPTT updates with cross-entropy + free
generation of both plans for the stopping test) numpy 1.9-2.1 ms, kernels 0.17 ms
(11.6-12.8x); one BPTT call (T = 12, B = 1) teacher forced 0.43-1.17 ms -> 0.03-0.05 ms
(16-22x), free running 0.51-1.43 ms -> 0.03-0.08 ms (18-20x), float32 13x. The full J1
scenario went from 40-60 s (8 trials, numpy) to 4-6 s (16 trials).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import fma_kernel, kernel
from .rnn import activate, derivative as _fprime
from .vecmath import product as _product
from .vecmath import sigmoid as _sigmoid
from .vecmath import tanh as _tanh

#: loss codes of :func:`bptt`
MSE, BCE = 0, 1


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


@fma_kernel
def _f(a, code):
    """Hidden activation (codes of nets._kernels.rnn: 0 identity, 1 tanh, 2 relu, 3 sigmoid)."""
    if code == 1:
        return _tanh(a)
    if code == 2:
        return max(a, 0.0)
    if code == 3:
        return _sigmoid(a)
    return a


@fma_kernel
def run(p, xs, s0, teacher, tf, mu, act, out_code, S, A, Hs, Z, Y, s_next):
    """Batched forward pass (twin: :func:`nets.jordan.jordan_forward`), into given arrays.

    p as in :func:`bptt`; xs (T, B, I); s0 (B, K); teacher (T, B, K), fed back when ``tf``
    (else the outputs are); outputs: S (T, B, K) the state at each step, A (T*B, H) the
    pre-activations, Hs (T, B, H), Z (T*B, K) the logits, Y (T, B, K), s_next (B, K).
    Output codes 0 identity, 3 sigmoid.
    """
    W, U, b, V, c = p
    T, B, I = xs.shape
    H, K = W.shape
    dt = xs.dtype
    WT = np.ascontiguousarray(W.T)  # (K, H)
    VT = np.ascontiguousarray(V.T)  # (H, K)
    UT = np.ascontiguousarray(U.T)  # (I, H)
    _product(xs.reshape(T * B, I), UT, A)  # the plan part of every step first
    R = np.empty((B, H), dt)
    Q = np.empty((B, K), dt)
    s = s_next
    for bb in range(B):
        for k in range(K):
            s[bb, k] = s0[bb, k]
    for t in range(T):
        _product(s, WT, R)
        for bb in range(B):
            r = t * B + bb
            for k in range(K):
                S[t, bb, k] = s[bb, k]
            for i in range(H):
                A[r, i] = A[r, i] + R[bb, i] + b[i]
            for i in range(H):
                Hs[t, bb, i] = _f(A[r, i], act)
        _product(Hs[t], VT, Q)
        for bb in range(B):
            r = t * B + bb
            for k in range(K):
                zk = Q[bb, k] + c[k]
                Z[r, k] = zk
                Y[t, bb, k] = _sigmoid(zk) if out_code == 3 else zk
            for k in range(K):
                o = teacher[t, bb, k] if tf else Y[t, bb, k]
                s[bb, k] = mu * s[bb, k] + o


@fma_kernel
def bptt(p, xs, ys, s0, teacher, tf, mu, act, out_code, loss_code, n, S, Hs, Y, dh_norm, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (W (H, K), U (H, I), b (H,), V (K, H), c (K,)), C-contiguous
    xs : ndarray (T, B, I)
    ys : ndarray (Ty, B, K), Ty = T (many-to-many) or 1 (last step only)
    s0 : ndarray (B, K), the state before the first step
    teacher : ndarray (T, B, K), fed back when ``tf`` (ignored otherwise)
    tf : bool, teacher forcing
    mu : float
    act : int, hidden activation code (0 identity, 1 tanh, 2 relu, 3 sigmoid)
    out_code : int, output code (0 identity, 3 sigmoid)
    loss_code : int, :data:`MSE` or :data:`BCE` (sigmoid output only)
    n : float, the loss divisor (number of scored elements for the mean, 1 for the sum)
    S, Hs, Y : ndarray (T, B, K), (T, B, H), (T, B, K), outputs: state, hidden, output
    dh_norm : ndarray (T,), output: ||dL/dh_t|| (Frobenius over the batch)
    g : tuple (dW, dU, db, dV, dc) shaped like p, output (overwritten)

    Returns
    -------
    loss : float
    """
    W, U, b, V, c = p
    dW, dU, db, dV, dc = g
    T, B, I = xs.shape
    H, K = W.shape
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    A = np.empty((T * B, H), dt)
    Z = np.empty((T * B, K), dt)
    s = np.empty((B, K), dt)
    Q = np.empty((B, K), dt)
    run(p, xs, s0, teacher, tf, mu, act, out_code, S, A, Hs, Z, Y, s)
    # loss and its gradient with respect to the logits, on the scored steps
    DZ = np.zeros((T * B, K), dt)
    loss = 0.0
    for t in range(t0, T):
        for bb in range(B):
            r = t * B + bb
            for k in range(K):
                y = Y[t, bb, k]
                tk = ys[t - t0, bb, k]
                if loss_code == BCE:
                    zk = Z[r, k]
                    loss += max(zk, 0.0) + math.log1p(math.exp(-abs(zk))) - tk * zk
                    DZ[r, k] = (y - tk) / n
                else:
                    e = y - tk
                    loss += e * e
                    gy = 2.0 * e / n
                    DZ[r, k] = gy * y * (1.0 - y) if out_code == 3 else gy
    # backward
    DA = np.empty((T * B, H), dt)
    ds = np.zeros((B, K), dt)  # dL/dS_{t+1}
    dh = np.empty((B, H), dt)
    for t in range(T - 1, -1, -1):
        if not tf:
            for bb in range(B):
                r = t * B + bb
                for k in range(K):
                    y = Y[t, bb, k]
                    DZ[r, k] += ds[bb, k] * y * (1.0 - y) if out_code == 3 else ds[bb, k]
        _product(DZ[t * B:(t + 1) * B], V, dh)
        ss = 0.0
        for bb in range(B):
            r = t * B + bb
            for i in range(H):
                d = dh[bb, i]
                ss += d * d
                DA[r, i] = d * _fprime(A[r, i], Hs[t, bb, i], act)
        dh_norm[t] = math.sqrt(ss)
        if not tf and t > 0:
            _product(DA[t * B:(t + 1) * B], W, Q)
            for bb in range(B):
                for k in range(K):
                    ds[bb, k] = Q[bb, k] + mu * ds[bb, k]
    Sf = S.reshape(T * B, K)
    Hf = Hs.reshape(T * B, H)
    dW[:, :] = np.dot(DA.T, Sf)
    dU[:, :] = np.dot(DA.T, xs.reshape(T * B, I))
    dV[:, :] = np.dot(DZ.T, Hf)
    for i in range(H):
        db[i] = 0.0
    for r in range(T * B):
        for i in range(H):
            db[i] += DA[r, i]
    for k in range(K):
        dc[k] = 0.0
    for r in range(T * B):
        for k in range(K):
            dc[k] += DZ[r, k]
    return loss / n
