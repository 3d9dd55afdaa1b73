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

Output layer and loss: the routine the LSTM and RNN kernels share
(:func:`nets._kernels.output_loss.logits_loss`; ``loss`` code of
:data:`nets._kernels.lstm.LOSS_CODES`; ``scale`` = 1/n for the mean over n terms, 1 for the
sum, the conventions of :func:`sim.train.output_loss`): 0 identity + MSE
(L = sum (z - y)^2, dz = 2 (z - y)), 1 sigmoid + BCE on the logits (L = sum softplus(z) - y z,
dz = sigma(z) - y), 2 softmax + cross-entropy on the logits (L = sum_rows logsumexp(z) sum_k y_k
- y . z, dz = softmax(z) sum_k y_k - y), 3 sigmoid + MSE, each times ``scale``.

Twin: :func:`nets.gru_reference.cell_forward` / :func:`~nets.gru_reference.cell_backward` with
:func:`sim.train.output_loss` (``GRU.bptt(..., fast=False)``); tests/test_gru.py checks
agreement to 1e-12 in float64. Products are BLAS calls (``np.dot``) on whole batches per
step (a vectorised loop nest below 8 rows, :func:`_product`) and over all T*B rows for the
parameter gradients (BLAS reads W^T in place; the loop nest a local contiguous copy).
The (T*B, 3H) input part U x_t becomes [da_r, da_z, da_n] in the same array (row t is read
only at step t forward), and that array and DGH come from the wrapper's per-thread scratch
(:mod:`nets._kernels.workspace`; fresh pages for tens of MB per call can cost as much as
the arithmetic [measured, one thread, against the kernel without it: H = 128 B = 32 float64
1.29x faster at machine load ~7, 1.02x at load ~1.7; H = 512 B = 32 float64 1.09x]). The
element-wise loops run over contiguous rows, the gate sigmoids and
tanh are the branch-free :mod:`nets._kernels.vecmath` ones (vectorised; they replaced a
Cody-Waite exp here that was no faster: 409,600 tanh 0.68 ms against 0.73 ms, sigmoids
0.70 ms against 0.57 ms [measured]); the output loss keeps the exact ``math.exp``. The kernel is
generic in the float type (float64 and float32 compile to separate specialisations; all
arrays must share it); float32 gates are computed in float32 (:func:`nets._kernels.vecmath.sigmoid_t`,
``tanh_t``, float32 scratch and typed constants: float32 H = 128 B = 32 1.11x, H = 512 B = 32
1.04x, H = 128 B = 1 1.04x faster than with the float64 gate arithmetic of before [measured,
one process, alternating]).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import fma_kernel

from .output_loss import logits_loss as _logits_loss
from .vecmath import product as _product
from .vecmath import weight_gradient as _weight_gradient
from .vecmath import sigmoid_t as _vsig
from .vecmath import tanh_t as _vtanh

__all__ = ["forward", "forward_into", "bptt", "vsigmoid", "vtanh"]


@fma_kernel
def vsigmoid(x, out):
    """out = sigma(x) over 1-d arrays (:func:`nets._kernels.vecmath.sigmoid_t`: float32 math for float32 x)."""
    for i in range(x.shape[0]):
        out[i] = _vsig(x[i])


@fma_kernel
def vtanh(x, out):
    """out = tanh(x) over 1-d arrays (:func:`nets._kernels.vecmath.tanh_t`: float32 math for float32 x)."""
    for i in range(x.shape[0]):
        out[i] = _vtanh(x[i])


@fma_kernel
def forward(p, xs, h0, reset, update, hs, gates):
    """Forward pass over the whole sequence and batch (:func:`forward_into` with its own scratch).

    Parameters
    ----------
    p : tuple (U (3H, I), W (3H, H), b (3H,), bh (3H,)), C-contiguous
    xs : ndarray (T, B, I)
    h0 : ndarray (B, H)
    reset, update : int codes (module docstring)
    hs : ndarray (T+1, B, H), output: hs[0] = h0, hs[t+1] = h_t
    gates : ndarray (4, T, B, H), output: r, z, n and ghn (W_n h + bh_n, or W_n (r h) + bh_n)
    """
    T, B, _ = xs.shape
    forward_into(p, xs, h0, reset, update, hs, gates, np.empty((T * B, p[1].shape[0]), xs.dtype))


@fma_kernel
def forward_into(p, xs, h0, reset, update, hs, gates, GX):
    """:func:`forward` with the caller's scratch GX (T*B, 3H) (left holding U x_t per row)."""
    U, W, b, bh = p[0], p[1], p[2], p[3]
    T, B, I = xs.shape
    H = W.shape[1]
    dt = xs.dtype
    np.dot(xs.reshape(T * B, I), np.ascontiguousarray(U.T), GX)  # (T*B, 3H)
    brz = np.empty(2 * H, dt)
    for j in range(2 * H):
        brz[j] = b[j] + bh[j]
    bn = b[2 * H:]
    bhn = bh[2 * H:]
    if reset == 0:
        # BLAS reads W^T in place for B >= 8; _product's loop nest wants it contiguous
        WT = np.ascontiguousarray(W.T) if B < 8 else np.empty((1, 3 * H), dt)  # (H, 3H)
        GH = np.empty((B, 3 * H), dt)
    else:
        WT = np.ascontiguousarray(W[:2 * H].T)  # (H, 2H)
        GH = np.empty((B, 2 * H), dt)
    WnT = np.ascontiguousarray(W[2 * H:].T)  # (H, H)
    RH = np.empty((B, H), dt)
    GN = np.empty((B, H), dt)
    # scratch for the vectorised gate nonlinearities (in the float type: float32 gates are
    # computed in float32); pre-activations gate-major (r of every row, then z), so each
    # gate's sigmoid writes straight into its trace
    BH = B * H
    P = np.empty(2 * BH, dt)
    Q = np.empty(BH, dt)
    one = np.ones(1, dt)[0]  # a float64 literal would promote float32 arithmetic
    for bb in range(B):
        for i in range(H):
            hs[0, bb, i] = h0[bb, i]
    for t in range(T):
        if reset == 0 and B >= 8:
            np.dot(hs[t], W.T, GH)
        else:
            _product(hs[t], WT, GH)
        for bb in range(B):
            gx = GX[t * B + bb]
            gh = GH[bb]
            pr = P[bb * H:(bb + 1) * H]
            pz = P[BH + bb * H:BH + (bb + 1) * H]
            for i in range(H):
                pr[i] = gx[i] + gh[i] + brz[i]
            for i in range(H):
                pz[i] = gx[H + i] + gh[H + i] + brz[H + i]
        vsigmoid(P[:BH], gates[0, t].reshape(BH))
        vsigmoid(P[BH:], gates[1, t].reshape(BH))
        if reset == 1:
            for bb in range(B):
                r = gates[0, t, bb]
                h = hs[t, bb]
                rh = RH[bb]
                for i in range(H):
                    rh[i] = r[i] * h[i]
            _product(RH, WnT, GN)
        for bb in range(B):
            gx = GX[t * B + bb, 2 * H:]
            r = gates[0, t, bb]
            ghn = gates[3, t, bb]
            q = Q[bb * H:(bb + 1) * H]
            if reset == 0:
                gh = GH[bb, 2 * H:]
                for i in range(H):
                    ghn[i] = gh[i] + bhn[i]
                    q[i] = gx[i] + bn[i] + r[i] * ghn[i]
            else:
                gn = GN[bb]
                for i in range(H):
                    ghn[i] = gn[i] + bhn[i]
                    q[i] = gx[i] + bn[i] + ghn[i]
        vtanh(Q, gates[2, t].reshape(BH))
        for bb in range(B):
            n = gates[2, t, bb]
            z = gates[1, t, bb]
            h = hs[t, bb]
            out = hs[t + 1, bb]
            if update == 0:
                for i in range(H):
                    out[i] = z[i] * h[i] + (one - z[i]) * n[i]
            else:
                for i in range(H):
                    out[i] = (one - z[i]) * h[i] + z[i] * n[i]


@fma_kernel
def bptt(p, xs, ys, h0, cfg, out, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (U (3H, I), W (3H, H), b (3H,), bh (3H,), V (K, H), c (K,)), C-contiguous
    xs : ndarray (T, B, I)
    ys : ndarray (Ty, B, K), Ty = T (a target per step) or 1 (the last step only)
    h0 : ndarray (B, H)
    cfg : tuple (reset code, update code, loss code, scale)
    out : tuple (hs (T+1, B, H), gates (4, T, B, H), dh_norm (T,)), outputs, then scratch
        (GX (T*B, 3H): U x_t, then [da_r, da_z, da_n]; GH (T*B, 3H) after, (1, 3H) before)
    g : tuple (dU, dW, db, dbh, dV, dc) shaped like p, output (overwritten)

    Returns
    -------
    loss : float
    """
    U, W, b, bh, V, c = p
    dU, dW, db, dbh, dV, dc = g
    hs, gates, dh_norm, DGX, DGH = out
    reset, update, code, scale = cfg
    T, B, I = xs.shape
    H = W.shape[1]
    K = V.shape[0]
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    forward_into((U, W, b, bh), xs, h0, reset, update, hs, gates, DGX)  # row t*B+b of U x is read at step t only
    # output layer and loss on the scored steps
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, np.ascontiguousarray(V.T))  # (Ty*B, K), becomes dz
    loss = _logits_loss(Z, c, ys.reshape(Ty * B, K), scale, code, dc) * scale
    dV[:, :] = np.dot(Z.T, hy)
    Dout = np.dot(Z, V)  # (Ty*B, H)
    # backward through time
    # DGX: [da_r, da_z, da_n] per step and row; DGH: what multiplies W, [da_r, da_z, da_n r] (after)
    carry = np.zeros((B, H), dt)
    dprev = np.empty((B, H), dt)
    DH = np.empty((B, H), dt)
    DRH = np.empty((B, H), dt)
    RH = np.empty((T * B if reset == 1 else 1, H), dt)
    zero = np.zeros(H, dt)
    Wn = np.ascontiguousarray(W[2 * H:])
    Wrz = np.ascontiguousarray(W[:2 * H])
    one = np.ones(1, dt)[0]  # a float64 literal would promote float32 arithmetic
    sq = np.empty(H)  # per-unit sums of squares: a reduction over rows into a vector vectorises
    for j in range(3 * H):
        db[j] = 0.0
        dbh[j] = 0.0
    for t in range(T - 1, -1, -1):
        for i in range(H):
            sq[i] = 0.0
        for bb in range(B):
            row = t * B + bb
            dout = Dout[(t - t0) * B + bb] if t >= t0 else zero
            cr = carry[bb]
            d = DH[bb]
            r = gates[0, t, bb]
            z = gates[1, t, bb]
            n = gates[2, t, bb]
            h = hs[t, bb]
            dp = dprev[bb]
            dg = DGX[row]  # whole rows (contiguous views), gate blocks by offset
            for i in range(H):
                d[i] = cr[i] + dout[i]
            for i in range(H):
                sq[i] += d[i] * d[i]
            if update == 0:
                for i in range(H):
                    dg[H + i] = d[i] * (h[i] - n[i]) * (z[i] * (one - z[i]))
                    dg[2 * H + i] = d[i] * (one - z[i]) * (one - n[i] * n[i])
                    dp[i] = d[i] * z[i]
            else:
                for i in range(H):
                    dg[H + i] = d[i] * (n[i] - h[i]) * (z[i] * (one - z[i]))
                    dg[2 * H + i] = d[i] * z[i] * (one - n[i] * n[i])
                    dp[i] = d[i] * (one - z[i])
            if reset == 0:
                ghn = gates[3, t, bb]
                dgh = DGH[row]
                for i in range(H):
                    v = dg[2 * H + i] * ghn[i] * (r[i] * (one - r[i]))
                    dg[i] = v
                    dgh[i] = v
                    dgh[H + i] = dg[H + i]
                    dgh[2 * H + i] = dg[2 * H + i] * r[i]
                for j in range(3 * H):  # the bias sums while the row is in cache
                    db[j] += dg[j]
                for j in range(2 * H, 3 * H):
                    dbh[j] += dgh[j]
        ss = 0.0
        for i in range(H):
            ss += sq[i]
        dh_norm[t] = math.sqrt(ss)
        if reset == 0:
            if t > 0:
                _product(DGH[t * B:(t + 1) * B], W, carry)
                for bb in range(B):
                    cr = carry[bb]
                    dp = dprev[bb]
                    for i in range(H):
                        cr[i] += dp[i]
        else:
            _product(np.ascontiguousarray(DGX[t * B:(t + 1) * B, 2 * H:]), Wn, DRH)  # d(r h)
            for bb in range(B):
                row = t * B + bb
                r = gates[0, t, bb]
                h = hs[t, bb]
                dgr = DGX[row, :H]
                drh = DRH[bb]
                rh = RH[row]
                dp = dprev[bb]
                for i in range(H):
                    dgr[i] = drh[i] * h[i] * (r[i] * (one - r[i]))
                    rh[i] = r[i] * h[i]
                    dp[i] += drh[i] * r[i]
            for bb in range(B):  # the finished rows (reset before: da_r just written)
                dg = DGX[t * B + bb]
                for j in range(3 * H):
                    db[j] += dg[j]
            if t > 0:
                _product(np.ascontiguousarray(DGX[t * B:(t + 1) * B, :2 * H]), Wrz, carry)
                for bb in range(B):
                    cr = carry[bb]
                    dp = dprev[bb]
                    for i in range(H):
                        cr[i] += dp[i]
    xf = xs.reshape(T * B, I)
    hprev = hs[:T].reshape(T * B, H)
    _weight_gradient(DGX, xf, dU)
    if reset == 0:
        _weight_gradient(DGH, hprev, dW)
    else:
        _weight_gradient(np.ascontiguousarray(DGX[:, :2 * H]), hprev, dW[:2 * H])
        _weight_gradient(np.ascontiguousarray(DGX[:, 2 * H:]), RH, dW[2 * H:])
    for j in range(2 * H):
        dbh[j] = db[j]
    if reset == 1:
        for j in range(2 * H, 3 * H):
            dbh[j] = db[j]
    return loss
