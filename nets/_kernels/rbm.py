"""Numba kernel of CD-k / PCD-k parameter updates of an RBM (a chunk of updates).

Per update t (uniforms ``U[t]`` drawn by the caller, or generated per update from a
counter-based stream, :func:`counter_uniforms`, laid out as documented in
:func:`nets.rbm._cd_chunk_numpy`, the numpy twin):

    p_h = sigma(b_h + X_b W)                          positive phase, (B, H)
    h   = 1[u < p_h]  (CD)  or  the persistent chains (PCD)
    k times:  v = 1[u < sigma(b_v + h W^T)]  (or the probabilities),
              q_h = sigma(b_h + v W),  h = 1[u < q_h]
    g_W = X_b^T p_h / B - v^T q_h / n,  g_bv = mean X_b - mean v,  g_bh = mean p_h - mean q_h
    D <- mu D + eta (g - lambda W);  W <- W + D   (biases: no weight cost)

The kernel and the twin both use BLAS, possibly with different summation orders: the two agree to rounding, and identical
uniforms give identical binary samples unless a uniform falls within rounding of its
probability (tests compare parameters after hundreds of updates to 1e-10).

Speed (DESIGN.md section 7): the matrix products of an update (X_b W, h W^T, v W and
the gradient [X_b^T, v^T] [p_h / B; -q_h / n] in one product) are BLAS calls (``np.dot``
into scratch arrays allocated once per chunk); the elementwise work runs over
contiguous rows, which LLVM vectorises. The logistic function is
the branch-free plain-arithmetic sigma(x) = (1 or e) / (1 + e), e = exp(-|x|) of
:func:`nets._kernels.vecmath.exp_neg` (relative error < 1e-13 for |x| <= 40),
applied to whole rows under numpy's error model (:func:`sim.jit.vector_kernel`), where
``math.exp`` would be one scalar call per unit.
"""
from __future__ import annotations

import numpy as np

from sim.jit import kernel, vector_kernel

from .vecmath import exp_neg


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO53 = 1.0 / 9007199254740992.0


@kernel
def counter_uniforms(key, start, out):
    """out[m] = the (start + m)-th uniform of stream ``key``: SplitMix64 in counter mode.

    z = key + (c + 1) * 0x9E3779B97F4A7C15, mixed by SplitMix64's finaliser; the top 53
    bits / 2^53 (Steele, Lea & Flood, OOPSLA 2014). Twin: :func:`nets.rbm.counter_uniforms`.
    """
    for m in range(out.shape[0]):
        z = key + (start + np.uint64(m) + np.uint64(1)) * _GAMMA
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
        out[m] = float(z >> _S11) * _TWO53


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
    U : (n_upd, n_u) float64 uniforms (layout: see the numpy twin), or with ``ctr[0]`` = 1 a
        (1, n_u) scratch row that update t fills from the counter stream
        (:func:`counter_uniforms` of key ``ctr[1]`` from position ``ctr[2] + t n_u``)
    sched : (n_upd, 2) float64 = [learning rate, momentum] per update
    chain : (n, H) float64 persistent hidden states (PCD; in/out), unused for CD
    cfg : (4,) float64 = [k, persistent, visible probabilities, weight decay]
    work : (ph (B, H), v (n, V), qh (n, H), h (n, H), acc (H,), G (V, H)) float64 scratch,
        then ctr (3,) uint64 = [counter mode, key, start]
    """
    W, b_v, b_h, dW, dbv, dbh = p
    ph, v, qh, h, acc, G, ctr = work
    counter = ctr[0] != 0
    n_u = U.shape[1]
    k, persistent, vprob, wd = int(cfg[0]), cfg[1] > 0, cfg[2] > 0, cfg[3]
    V, H = W.shape
    B = idx.shape[1]
    n = v.shape[0]
    Xb = np.empty((B, V))
    AT = np.empty((V, B + n))           # [X_b^T, v^T]
    Q = np.empty((B + n, H))            # [p_h / B; -q_h / n]
    av = np.empty((n, V))
    zB = np.empty((B, H))               # pre-activations (sigma never writes into its input: SIMD)
    zN = np.empty((n, H))
    WT = W.T                            # a view: BLAS reads W transposed
    rB, rn = 1.0 / B, 1.0 / n
    for t in range(idx.shape[0]):
        if counter:
            Ut = U[0]
            counter_uniforms(ctr[1], ctr[2] + np.uint64(t) * np.uint64(n_u), Ut)
        else:
            Ut = U[t]
        lr, mu = sched[t, 0], sched[t, 1]
        for b in range(B):
            r = idx[t, b]
            for i in range(V):
                Xb[b, i] = X[r, i]
                AT[i, b] = X[r, i]
        # positive phase: p_h = sigma(X_b W + b_h)
        np.dot(Xb, W, zB)
        for b in range(B):
            zb = zB[b]
            for j in range(H):
                zb[j] += b_h[j]
            _vsig(zb, ph[b])
        off = 0
        if persistent:
            for c in range(n):
                for j in range(H):
                    h[c, j] = chain[c, j]
        else:
            for b in range(B):
                for j in range(H):
                    h[b, j] = 1.0 if Ut[b * H + j] < ph[b, j] else 0.0
            off = B * H
        for _ in range(k):
            np.dot(h, WT, av)                                  # (n, V) = h W^T
            for c in range(n):
                ac = av[c]
                for i in range(V):
                    ac[i] += b_v[i]
                vc = v[c]
                _vsig(ac, vc)
                if not vprob:
                    o = off + c * V
                    for i in range(V):
                        vc[i] = 1.0 if Ut[o + i] < vc[i] else 0.0
            off += n * V
            np.dot(v, W, zN)                                   # (n, H) = v W
            for c in range(n):
                zc = zN[c]
                for j in range(H):
                    zc[j] += b_h[j]
                qc = qh[c]
                _vsig(zc, qc)
                o = off + c * H
                for j in range(H):
                    h[c, j] = 1.0 if Ut[o + j] < qc[j] else 0.0
            off += n * H
        if persistent:
            for c in range(n):
                for j in range(H):
                    chain[c, j] = h[c, j]
        # G = X_b^T p_h / B - v^T q_h / n as one product [X_b^T, v^T] [p_h / B; -q_h / n]
        for c in range(n):
            for i in range(V):
                AT[i, B + c] = v[c, i]
        for b in range(B):
            for j in range(H):
                Q[b, j] = ph[b, j] * rB
        for c in range(n):
            for j in range(H):
                Q[B + c, j] = -qh[c, j] * rn
        np.dot(AT, Q, G)
        for i in range(V):
            pos = 0.0
            for b in range(B):
                pos += Xb[b, i]
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
