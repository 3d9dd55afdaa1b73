r"""Fused forward + full BPTT of a one-layer, one-direction GRU with its output layer and loss.

The equations are those of :mod:`nets.gru` (gate rows r, z, n; ``reset`` 0 = after the
recurrent product, PyTorch; 1 = before it, Cho et al. 2014; ``update`` 0 = "cho"
h_t = z h_{t-1} + (1 - z) n_t, 1 = "notes" h_t = (1 - z) h_{t-1} + z n_t). Per step
(pre-activations a, gradients d):

    dz = dh_t (h_{t-1} - n_t) [cho] or dh_t (n_t - h_{t-1}) [notes],  dn = dh_t (1 - z) or dh_t z
    da_n = dn (1 - n^2),  da_z = dz z (1 - z)
    after:  da_r = da_n (W_n h_{t-1} + bh_n) r (1 - r),  dgh = [da_r, da_z, da_n r]
            dh_{t-1} = dh_t z|(1 - z) + dgh W
    before: d(rh) = da_n W_n,  da_r = d(rh) h_{t-1} r (1 - r)
            dh_{t-1} = dh_t z|(1 - z) + d(rh) r + [da_r, da_z] W_rz
    dU = sum_t [da_r, da_z, da_n]^T x_t,  db = sum_t [da_r, da_z, da_n],  dW, dbh likewise.

Output layer and loss (``loss`` code; ``scale`` = 1/n for the mean over n terms, 1 for the
sum, the conventions of :func:`sim.train.output_loss`): 0 identity + MSE
(L = sum (z - y)^2, dz = 2 (z - y)), 1 sigmoid + BCE on the logits (L = sum softplus(z) - y z,
dz = sigma(z) - y), 2 softmax + cross-entropy on the logits (L = sum_rows logsumexp(z) sum_k y_k
- y . z, dz = softmax(z) sum_k y_k - y), each times ``scale``.

Twin: :func:`nets.gru.cell_forward` / :func:`nets.gru.cell_backward` with
:func:`sim.train.output_loss` (``GRU.bptt(..., fast=False)``); tests/test_gru.py checks
agreement to 1e-12 in float64. Products are BLAS calls (``np.dot``) on whole batches per
step and over all T*B rows for the parameter gradients; the element-wise loops run over
contiguous rows. The kernel is generic in the float type (float64 and float32 compile to
separate specialisations; all arrays must share it).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import kernel

__all__ = ["forward", "bptt"]


@kernel
def _sigmoid(a):
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@kernel
def forward(p, xs, h0, reset, update, hs, gates):
    """Forward pass over the whole sequence and batch.

    Parameters
    ----------
    p : tuple (U (3H, I), W (3H, H), b (3H,), bh (3H,)), C-contiguous
    xs : ndarray (T, B, I)
    h0 : ndarray (B, H)
    reset, update : int codes (module docstring)
    hs : ndarray (T+1, B, H), output: hs[0] = h0, hs[t+1] = h_t
    gates : ndarray (4, T, B, H), output: r, z, n and ghn (W_n h + bh_n, or W_n (r h) + bh_n)
    """
    U, W, b, bh = p[0], p[1], p[2], p[3]
    T, B, I = xs.shape
    H = W.shape[1]
    dt = xs.dtype
    UT = np.ascontiguousarray(U.T)  # (I, 3H)
    GX = np.dot(xs.reshape(T * B, I), UT)  # (T*B, 3H)
    if reset == 0:
        WT = np.ascontiguousarray(W.T)  # (H, 3H)
        GH = np.empty((B, 3 * H), dt)
    else:
        WT = np.ascontiguousarray(W[:2 * H].T)  # (H, 2H)
        WnT = np.ascontiguousarray(W[2 * H:].T)  # (H, H)
        GH = np.empty((B, 2 * H), dt)
        RH = np.empty((B, H), dt)
        GN = np.empty((B, H), dt)
    for bb in range(B):
        for i in range(H):
            hs[0, bb, i] = h0[bb, i]
    for t in range(T):
        np.dot(hs[t], WT, GH)
        for bb in range(B):
            row = t * B + bb
            for i in range(H):
                r = _sigmoid(GX[row, i] + b[i] + GH[bb, i] + bh[i])
                z = _sigmoid(GX[row, H + i] + b[H + i] + GH[bb, H + i] + bh[H + i])
                gates[0, t, bb, i] = r
                gates[1, t, bb, i] = z
                if reset == 0:
                    ghn = GH[bb, 2 * H + i] + bh[2 * H + i]
                    gates[3, t, bb, i] = ghn
                    n = math.tanh(GX[row, 2 * H + i] + b[2 * H + i] + r * ghn)
                    gates[2, t, bb, i] = n
                    h = hs[t, bb, i]
                    if update == 0:
                        hs[t + 1, bb, i] = z * h + (1.0 - z) * n
                    else:
                        hs[t + 1, bb, i] = (1.0 - z) * h + z * n
                else:
                    RH[bb, i] = r * hs[t, bb, i]
        if reset == 1:
            np.dot(RH, WnT, GN)
            for bb in range(B):
                row = t * B + bb
                for i in range(H):
                    ghn = GN[bb, i] + bh[2 * H + i]
                    gates[3, t, bb, i] = ghn
                    n = math.tanh(GX[row, 2 * H + i] + b[2 * H + i] + ghn)
                    gates[2, t, bb, i] = n
                    z = gates[1, t, bb, i]
                    h = hs[t, bb, i]
                    if update == 0:
                        hs[t + 1, bb, i] = z * h + (1.0 - z) * n
                    else:
                        hs[t + 1, bb, i] = (1.0 - z) * h + z * n


@kernel
def _loss(Z, c, yf, code, scale):
    """Loss of the logits Z (rows, K) (+ c) against yf; Z is overwritten by dL/dz."""
    R, K = Z.shape
    loss = 0.0
    for row in range(R):
        if code == 0:
            for k in range(K):
                e = Z[row, k] + c[k] - yf[row, k]
                loss += e * e
                Z[row, k] = 2.0 * scale * e
        elif code == 1:
            for k in range(K):
                zk = Z[row, k] + c[k]
                loss += max(zk, 0.0) + math.log1p(math.exp(-abs(zk))) - yf[row, k] * zk
                Z[row, k] = scale * (_sigmoid(zk) - yf[row, k])
        else:
            zmax = Z[row, 0] + c[0]
            for k in range(1, K):
                zmax = max(zmax, Z[row, k] + c[k])
            se = 0.0
            ysum = 0.0
            yz = 0.0
            for k in range(K):
                zk = Z[row, k] + c[k]
                se += math.exp(zk - zmax)
                ysum += yf[row, k]
                yz += yf[row, k] * zk
            lse = zmax + math.log(se)
            loss += lse * ysum - yz
            for k in range(K):
                zk = Z[row, k] + c[k]
                Z[row, k] = scale * (math.exp(zk - lse) * ysum - yf[row, k])
    return loss * scale


@kernel
def bptt(p, xs, ys, h0, cfg, out, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (U (3H, I), W (3H, H), b (3H,), bh (3H,), V (K, H), c (K,)), C-contiguous
    xs : ndarray (T, B, I)
    ys : ndarray (Ty, B, K), Ty = T (a target per step) or 1 (the last step only)
    h0 : ndarray (B, H)
    cfg : tuple (reset code, update code, loss code, scale)
    out : tuple (hs (T+1, B, H), gates (4, T, B, H), dh_norm (T,)), outputs
    g : tuple (dU, dW, db, dbh, dV, dc) shaped like p, output (overwritten)

    Returns
    -------
    loss : float
    """
    U, W, b, bh, V, c = p
    dU, dW, db, dbh, dV, dc = g
    hs, gates, dh_norm = out
    reset, update, code, scale = cfg
    T, B, I = xs.shape
    H = W.shape[1]
    K = V.shape[0]
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    forward((U, W, b, bh), xs, h0, reset, update, hs, gates)
    # output layer and loss on the scored steps
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, np.ascontiguousarray(V.T))  # (Ty*B, K), becomes dz
    loss = _loss(Z, c, ys.reshape(Ty * B, K), code, scale)
    for k in range(K):
        dc[k] = 0.0
    for row in range(Ty * B):
        for k in range(K):
            dc[k] += Z[row, k]
    dV[:, :] = np.dot(Z.T, hy)
    Dout = np.dot(Z, V)  # (Ty*B, H)
    # backward through time
    DGX = np.empty((T * B, 3 * H), dt)  # [da_r, da_z, da_n] per step and row
    DGH = np.empty((T * B, 3 * H), dt)  # what multiplies W: [da_r, da_z, da_n r] (after)
    carry = np.zeros((B, H), dt)
    dprev = np.empty((B, H), dt)
    DRH = np.empty((B, H), dt)
    RH = np.empty((T * B, H), dt)
    Wn = np.ascontiguousarray(W[2 * H:])
    Wrz = np.ascontiguousarray(W[:2 * H])
    for t in range(T - 1, -1, -1):
        ss = 0.0
        for bb in range(B):
            row = t * B + bb
            ro = (t - t0) * B + bb
            for i in range(H):
                d = carry[bb, i]
                if t >= t0:
                    d += Dout[ro, i]
                ss += d * d
                r = gates[0, t, bb, i]
                z = gates[1, t, bb, i]
                n = gates[2, t, bb, i]
                h = hs[t, bb, i]
                if update == 0:
                    dz = d * (h - n)
                    dn = d * (1.0 - z)
                    dprev[bb, i] = d * z
                else:
                    dz = d * (n - h)
                    dn = d * z
                    dprev[bb, i] = d * (1.0 - z)
                dan = dn * (1.0 - n * n)
                DGX[row, H + i] = dz * (z * (1.0 - z))
                DGX[row, 2 * H + i] = dan
                DGH[row, H + i] = DGX[row, H + i]
                if reset == 0:
                    dar = dan * gates[3, t, bb, i] * (r * (1.0 - r))
                    DGX[row, i] = dar
                    DGH[row, i] = dar
                    DGH[row, 2 * H + i] = dan * r
        dh_norm[t] = math.sqrt(ss)
        rows = DGX[t * B:(t + 1) * B]
        if reset == 0:
            if t > 0:
                np.dot(DGH[t * B:(t + 1) * B], W, carry)
                for bb in range(B):
                    for i in range(H):
                        carry[bb, i] += dprev[bb, i]
        else:
            np.dot(np.ascontiguousarray(rows[:, 2 * H:]), Wn, DRH)  # d(r h)
            for bb in range(B):
                row = t * B + bb
                for i in range(H):
                    r = gates[0, t, bb, i]
                    h = hs[t, bb, i]
                    dar = DRH[bb, i] * h * (r * (1.0 - r))
                    DGX[row, i] = dar
                    DGH[row, i] = dar
                    RH[row, i] = r * h
                    dprev[bb, i] += DRH[bb, i] * r
            if t > 0:
                np.dot(np.ascontiguousarray(DGX[t * B:(t + 1) * B, :2 * H]), Wrz, carry)
                for bb in range(B):
                    for i in range(H):
                        carry[bb, i] += dprev[bb, i]
    xf = xs.reshape(T * B, I)
    hprev = hs[:T].reshape(T * B, H)
    dU[:, :] = np.dot(DGX.T, xf)
    if reset == 0:
        dW[:, :] = np.dot(DGH.T, hprev)
    else:
        dW[:2 * H] = np.dot(np.ascontiguousarray(DGX[:, :2 * H].T), hprev)
        dW[2 * H:] = np.dot(np.ascontiguousarray(DGX[:, 2 * H:].T), RH)
    for j in range(3 * H):
        db[j] = 0.0
        dbh[j] = 0.0
    for row in range(T * B):
        for j in range(3 * H):
            db[j] += DGX[row, j]
            dbh[j] += DGX[row, j]
    if reset == 0:
        for j in range(2 * H, 3 * H):
            dbh[j] = 0.0
        for row in range(T * B):
            for j in range(2 * H, 3 * H):
                dbh[j] += DGH[row, j]
    return loss
