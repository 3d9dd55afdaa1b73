r"""The 1997 truncated-RTRL LSTM learner, one sequence, online updates (numba).

The equations are those of :mod:`nets.lstm_rtrl` (its numpy path is the twin;
tests/test_lstm_rtrl.py checks agreement to 1e-12 in float64). Per time step: the
forward step, the forward accumulation of dc_j/dw for the rows of cell j's input and
input gate, the step's error, its truncated gradient (added to the gradient sums) and,
with ``step > 0``, the update w <- w - step * mask * gradient before the next step.

x_t is read through the list of its nonzero entries (the paper's inputs are one-hot:
U x_t, S x_t and the outer products with x_t cost O(nnz) instead of O(I)); the result is
the same as the dense sums up to rounding order. Squashes as in :mod:`nets._kernels.lstm`
(:data:`~nets._kernels.lstm.SQUASHES`: y = m s(k x) + a, dy/dx = d0 + d1 y + d2 y^2), the
sigmoid from :func:`nets._kernels.vecmath.sigmoid` (branch-free, relative error < 1e-13).
Float64 only.
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import fma_kernel

from .lstm import SQUASHES
from .vecmath import sigmoid as _sig

__all__ = ["rtrl_sequence_kernel", "run_kernel", "LOSS_CODES"]

#: (loss, output) -> code: 0 MSE identity, 1 MSE sigmoid, 2 BCE sigmoid
LOSS_CODES = {("mse", "identity"): 0, ("mse", "sigmoid"): 1, ("bce", "sigmoid"): 2}


@fma_kernel
def rtrl_sequence_kernel(p, m, g, xs, ys, cfg, step):
    """Run one sequence; update ``p`` in place (``step > 0``) and add the per-step gradients to ``g``.

    Parameters
    ----------
    p : tuple (W (4H, H), U (4H, I), b (4H,), V (K, H), c (K,), S (K, I)) float64,
        C-contiguous (S ignored without the shortcut)
    m : tuple of 0/1 masks shaped like p;  g : tuple of gradient sums shaped like p (zeroed by the caller)
    xs : (T, I);  ys : (T, K)
    cfg : (loss code, input gate 0/1, output gate 0/1, act_g constants, act_h constants, shortcut 0/1)
    step : float

    Returns
    -------
    loss : float (sum of the per-step losses)
    """
    W, U, b, V, cb, S = p
    mW, mU, mb, mV, mc, mS = m
    gW, gU, gb, gV, gc, gS = g
    code, ig, og, gq, hq, shortcut = cfg
    g_m, g_k, g_a, g_id, g_d0, g_d1, g_d2 = gq
    h_m, h_k, h_a, h_id, h_d0, h_d1, h_d2 = hq
    T, I = xs.shape
    H = W.shape[1]
    K = V.shape[0]
    h = np.zeros(H)
    hn = np.zeros(H)
    c = np.zeros(H)
    a = np.zeros(4 * H)
    gi = np.zeros(H)
    gg = np.zeros(H)
    go = np.zeros(H)
    hc = np.zeros(H)
    PgU = np.zeros((H, I))
    PgW = np.zeros((H, H))
    Pgb = np.zeros(H)
    PiU = np.zeros((H, I))
    PiW = np.zeros((H, H))
    Pib = np.zeros(H)
    z = np.zeros(K)
    dz = np.zeros(K)
    dh = np.zeros(H)
    dao = np.zeros(H)
    e = np.zeros(H)
    nz = np.zeros(I, dtype=np.int64)
    total = 0.0
    for t in range(T):
        n_nz = 0
        for q in range(I):
            if xs[t, q] != 0.0:
                nz[n_nz] = q
                n_nz += 1
        # forward: a = U x + W h + b
        for r in range(4 * H):
            s = b[r]
            for k in range(n_nz):
                q = nz[k]
                s += U[r, q] * xs[t, q]
            for j in range(H):
                s += W[r, j] * h[j]
            a[r] = s
        for j in range(H):
            iv = ig * _sig(a[j]) + (1.0 - ig)
            ag = a[2 * H + j]
            gv = ag if g_id == 1.0 else g_m * _sig(g_k * ag) + g_a
            ov = og * _sig(a[3 * H + j]) + (1.0 - og)
            dgi = iv * (g_d0 + g_d1 * gv + g_d2 * gv * gv)   # dc/da_g
            dii = ig * gv * iv * (1.0 - iv)                  # dc/da_i
            for k in range(n_nz):
                q = nz[k]
                PgU[j, q] += dgi * xs[t, q]
                PiU[j, q] += dii * xs[t, q]
            for jj in range(H):
                PgW[j, jj] += dgi * h[jj]
                PiW[j, jj] += dii * h[jj]
            Pgb[j] += dgi
            Pib[j] += dii
            c[j] = c[j] + iv * gv
            cj = c[j]
            hv = cj if h_id == 1.0 else h_m * _sig(h_k * cj) + h_a
            gi[j], gg[j], go[j], hc[j] = iv, gv, ov, hv
            hn[j] = ov * hv
        # output and error
        for k in range(K):
            s = cb[k]
            for j in range(H):
                s += V[k, j] * hn[j]
            if shortcut:
                for kk in range(n_nz):
                    q = nz[kk]
                    s += S[k, q] * xs[t, q]
            z[k] = s
        for k in range(K):
            zk = z[k]
            tk = ys[t, k]
            if code == 0:
                d = zk - tk
                total += d * d
                dz[k] = 2.0 * d
            elif code == 1:
                y = _sig(zk)
                d = y - tk
                total += d * d
                dz[k] = 2.0 * d * y * (1.0 - y)
            else:
                total += max(zk, 0.0) + math.log1p(math.exp(-abs(zk))) - tk * zk
                dz[k] = _sig(zk) - tk
        for j in range(H):
            s = 0.0
            for k in range(K):
                s += V[k, j] * dz[k]
            dh[j] = s
        for j in range(H):
            ov, hv = go[j], hc[j]
            dao[j] = og * dh[j] * hv * ov * (1.0 - ov)
            e[j] = dh[j] * ov * (h_d0 + h_d1 * hv + h_d2 * hv * hv)
        # gradients (summed) and updates: output layer. The update g += d v, w -= step m (d v)
        # is written out per weight group on purpose: as a helper called on row views it ran
        # 1.5-2x slower (a reference count per view; measured on a 30,000-step sequence)
        for k in range(K):
            d = dz[k]
            for j in range(H):
                gr = d * hn[j]
                gV[k, j] += gr
                V[k, j] -= step * (mV[k, j] * gr)
            gc[k] += d
            cb[k] -= step * (mc[k] * d)
            if shortcut:
                for kk in range(n_nz):
                    q = nz[kk]
                    gr = d * xs[t, q]
                    gS[k, q] += gr
                    S[k, q] -= step * (mS[k, q] * gr)
        # gate rows: input gate (e * Pi), cell input (e * Pg), output gate (da_o * v)
        for j in range(H):
            ej = e[j]
            ri, rg, ro = j, 2 * H + j, 3 * H + j
            for q in range(I):
                gr = ej * PiU[j, q]
                gU[ri, q] += gr
                U[ri, q] -= step * (mU[ri, q] * gr)
                gr = ej * PgU[j, q]
                gU[rg, q] += gr
                U[rg, q] -= step * (mU[rg, q] * gr)
            for jj in range(H):
                gr = ej * PiW[j, jj]
                gW[ri, jj] += gr
                W[ri, jj] -= step * (mW[ri, jj] * gr)
                gr = ej * PgW[j, jj]
                gW[rg, jj] += gr
                W[rg, jj] -= step * (mW[rg, jj] * gr)
            gr = ej * Pib[j]
            gb[ri] += gr
            b[ri] -= step * (mb[ri] * gr)
            gr = ej * Pgb[j]
            gb[rg] += gr
            b[rg] -= step * (mb[rg] * gr)
            d = dao[j]
            for kk in range(n_nz):
                q = nz[kk]
                gr = d * xs[t, q]
                gU[ro, q] += gr
                U[ro, q] -= step * (mU[ro, q] * gr)
            for jj in range(H):
                gr = d * h[jj]
                gW[ro, jj] += gr
                W[ro, jj] -= step * (mW[ro, jj] * gr)
            gb[ro] += d
            b[ro] -= step * (mb[ro] * d)
        for j in range(H):
            h[j] = hn[j]
    return total


def run_kernel(net, fields, ps, ms, xs, ys, loss, step):
    """Call :func:`rtrl_sequence_kernel` for :func:`nets.lstm_rtrl.rtrl_sequence`; (loss, grads list)."""
    cell = net.cell
    idx = {f: k for k, f in enumerate(fields)}
    has_s = "S" in idx
    K, I = ps[idx["V"]].shape[0], ps[idx["U"]].shape[1]
    dummy = np.zeros((K, I) if not has_s else (0, 0))
    order = ("W", "U", "b", "V", "c", "S")
    pick = lambda arrs: tuple(arrs[idx[f]] if f in idx else dummy for f in order)  # noqa: E731
    gs = [np.zeros_like(q) for q in ps]
    cfg = (LOSS_CODES[(loss, net.output_activation)], 1.0 if cell.input_gate else 0.0,
           1.0 if cell.output_gate else 0.0, SQUASHES[cell.cell_input], SQUASHES[cell.cell_output], has_s)
    value = rtrl_sequence_kernel(pick(ps), pick(ms), pick(gs), xs, ys, cfg, step)
    return float(value), gs
