"""Numba kernel of CD-k / PCD-k parameter updates of an RBM (a chunk of updates).

Per update t (uniforms ``U[t]`` drawn by the caller, laid out as documented in
:func:`nets.rbm._cd_chunk_numpy`, the numpy twin):

    p_h = sigma(b_h + X_b W)                          positive phase, (B, H)
    h   = 1[u < p_h]  (CD)  or  the persistent chains (PCD)
    k times:  v = 1[u < sigma(b_v + h W^T)]  (or the probabilities),
              q_h = sigma(b_h + v W),  h = 1[u < q_h]
    g_W = X_b^T p_h / B - v^T q_h / n,  g_bv = mean X_b - mean v,  g_bh = mean p_h - mean q_h
    D <- mu D + eta (g - lambda W);  W <- W + D   (biases: no weight cost)

Sums run in index order (the twin uses BLAS): the two agree to rounding, and identical
uniforms give identical binary samples unless a uniform falls within rounding of its
probability (tests compare parameters after hundreds of updates to 1e-10).

Speed (DESIGN.md section 7): every product is written as row updates over a contiguous
inner axis (``acc[:] += x W[i, :]``, and the visible fields from the transposed copy
``WT`` of W made once per update: ``a[:] += h_j WT[j, :]``), so LLVM vectorises them;
a dot-product loop would be a strict-order scalar reduction. The logistic function is
the branch-free plain-arithmetic sigma(x) = (1 or e) / (1 + e), e = exp(-|x|) of
:func:`nets._kernels.boltzmann_chains.exp_neg` (relative error < 1e-13 for |x| <= 40),
applied to whole rows under numpy's error model (:func:`sim.jit.vector_kernel`), where
``math.exp`` would be one scalar call per unit.
"""
from __future__ import annotations

import numpy as np

from sim.jit import kernel, vector_kernel

from .boltzmann_chains import exp_neg


@vector_kernel
def _vsig(a, out):
    """out[j] = sigma(a[j]) for a row (vectorisable)."""
    for j in range(a.shape[0]):
        x = a[j]
        e = exp_neg(abs(x))
        out[j] = (1.0 if x >= 0.0 else e) / (1.0 + e)


@kernel
def cd_chunk(p, X, idx, U, sched, chain, cfg, work):
    """Apply ``U.shape[0]`` CD/PCD updates in place.

    Parameters
    ----------
    p : (W (V, H), b_v (V,), b_h (H,), dW (V, H), dbv (V,), dbh (H,)), float64, updated in place
    X : (D, V) float64 data
    idx : (n_upd, B) int64 rows of X in each mini-batch
    U : (n_upd, n_u) float64 uniforms (layout: see the numpy twin)
    sched : (n_upd, 2) float64 = [learning rate, momentum] per update
    chain : (n, H) float64 persistent hidden states (PCD; in/out), unused for CD
    cfg : (4,) float64 = [k, persistent, visible probabilities, weight decay]
    work : (ph (B, H), v (n, V), qh (n, H), h (n, H), acc (H,), G (V, H)) float64 scratch
    """
    W, b_v, b_h, dW, dbv, dbh = p
    ph, v, qh, h, acc, G = work
    k, persistent, vprob, wd = int(cfg[0]), cfg[1] > 0, cfg[2] > 0, cfg[3]
    V, H = W.shape
    B = idx.shape[1]
    n = v.shape[0]
    WT = np.empty((H, V))
    a = np.empty(V)
    pv = np.empty(V)
    for t in range(U.shape[0]):
        lr, mu = sched[t, 0], sched[t, 1]
        for i in range(V):
            for j in range(H):
                WT[j, i] = W[i, j]
        # fields b_h + x W row by row (contiguous axpys; zero inputs add exactly nothing)
        for b in range(B):
            r = idx[t, b]
            for j in range(H):
                acc[j] = b_h[j]
            for i in range(V):
                x = X[r, i]
                if x != 0.0:
                    for j in range(H):
                        acc[j] += x * W[i, j]
            _vsig(acc, ph[b])
        off = 0
        if persistent:
            for c in range(n):
                for j in range(H):
                    h[c, j] = chain[c, j]
        else:
            for b in range(B):
                for j in range(H):
                    h[b, j] = 1.0 if U[t, b * H + j] < ph[b, j] else 0.0
            off = B * H
        for _ in range(k):
            for c in range(n):
                for i in range(V):
                    a[i] = b_v[i]
                for j in range(H):
                    y = h[c, j]
                    if y != 0.0:
                        for i in range(V):
                            a[i] += y * WT[j, i]
                _vsig(a, pv)
                vc = v[c]
                if vprob:
                    for i in range(V):
                        vc[i] = pv[i]
                else:
                    o = off + c * V
                    for i in range(V):
                        vc[i] = 1.0 if U[t, o + i] < pv[i] else 0.0
            off += n * V
            for c in range(n):
                for j in range(H):
                    acc[j] = b_h[j]
                for i in range(V):
                    x = v[c, i]
                    if x != 0.0:
                        for j in range(H):
                            acc[j] += x * W[i, j]
                _vsig(acc, qh[c])
                o = off + c * H
                for j in range(H):
                    h[c, j] = 1.0 if U[t, o + j] < qh[c, j] else 0.0
            off += n * H
        if persistent:
            for c in range(n):
                for j in range(H):
                    chain[c, j] = h[c, j]
        # G = X_b^T p_h / B - v^T q_h / n, each sum in increasing example order
        for i in range(V):
            for j in range(H):
                G[i, j] = 0.0
        for b in range(B):
            r = idx[t, b]
            for i in range(V):
                x = X[r, i]
                if x != 0.0:
                    for j in range(H):
                        G[i, j] += x * ph[b, j]
        for i in range(V):
            for j in range(H):
                G[i, j] /= B
        for i in range(V):
            for j in range(H):
                acc[j] = 0.0
            for c in range(n):
                x = v[c, i]
                if x != 0.0:
                    for j in range(H):
                        acc[j] += x * qh[c, j]
            for j in range(H):
                G[i, j] -= acc[j] / n
        for i in range(V):
            pos = 0.0
            for b in range(B):
                pos += X[idx[t, b], i]
            neg = 0.0
            for c in range(n):
                neg += v[c, i]
            dbv[i] = mu * dbv[i] + lr * (pos / B - neg / n)
            for j in range(H):
                dW[i, j] = mu * dW[i, j] + lr * (G[i, j] - wd * W[i, j])
        for j in range(H):
            pos = 0.0
            for b in range(B):
                pos += ph[b, j]
            neg = 0.0
            for c in range(n):
                neg += qh[c, j]
            dbh[j] = mu * dbh[j] + lr * (pos / B - neg / n)
        for i in range(V):
            b_v[i] += dbv[i]
            for j in range(H):
                W[i, j] += dW[i, j]
        for j in range(H):
            b_h[j] += dbh[j]
