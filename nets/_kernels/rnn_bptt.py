r"""Fused forward + full BPTT of the one-layer RNN with its output layer and loss (numba).

Covers :meth:`nets.rnn.RNN.bptt` (and so :class:`nets.elman.Elman`) for one layer, one
direction, full BPTT, any initial state h0 and an optional gradient ``dh_final`` on the
final state; every hidden activation f of :data:`ACT_CODES` (identity, tanh, relu,
sigmoid) and the four loss/output pairs of the LSTM kernel (:data:`LOSS_CODES`, the same
codes: MSE with an identity or a sigmoid output, BCE with a sigmoid output,
cross-entropy with a softmax output), a target per step (Ty = T) or after the last step
only (Ty = 1), reduction mean or sum, all with the conventions of
:func:`sim.train.output_loss`. Truncated BPTT(k) with k <= T, stacks, bidirectional nets,
MAE, MSE with a softmax output and ys = None stay on the numpy path (:func:`covers`).
For xs (T, B, I), targets ys (Ty, B, K) and ``scale`` = 1 / (number of scored terms:
elements, or rows for the cross-entropy) for the mean, 1 for the sum:

    a_t = W h_{t-1} + U x_t + b,   h_t = f(a_t),   z_t = V h_t + c
    dz_t = dL/dz_t from the loss at the scored steps (output_loss, fused on the logits)
    dh_t = dz_t V + da_{t+1} W  (+ dh_final at t = T-1),    da_t = dh_t * f'(a_t)
    dW = sum_t da_t^T h_{t-1},  dU = sum_t da_t^T x_t,  db = sum_t da_t,
    dV = sum_t dz_t^T h_t,      dc = sum_t dz_t,        dL/dh0 = da_0 W

with f'(a) from h = f(a): 1 - h^2 (tanh), h (1 - h) (sigmoid), [h > 0] (relu: h > 0
exactly when a > 0), 1 (identity). (Werbos 1990; Rumelhart, Hinton & Williams 1986 — the
equations of :mod:`nets.rnn`.) Twin: :func:`nets.rnn.forward_sequence` + the numpy
backward of :mod:`nets.rnn` with :func:`sim.train.output_loss` (``RNN.bptt(...,
fast=False)``); tests/test_rnn_kernel.py checks agreement to 1e-12 (float64) over
activation x loss/output x many-to-one/many x B in {1, 5}, float32 against float64, and
finite differences through the kernel.

Design: activation and loss are runtime integer codes (one compiled loop for every
configuration: two specialisations in all, float64 and float32); the branch on the code
sits outside each loop over a row of H units, so every row loop stays branch-free and
vectorises. The recurrent products are :func:`nets._kernels.vecmath.product` (BLAS
``np.dot`` on the batch for B >= 8, a vectorised loop nest below, which saves a ~1 us
BLAS call per step at B = 1); the input parts U x_t of every step are one product before
the loop, into an array that then takes the gradients da_t (row t is read only at forward
step t and written only at backward step t) and comes from the wrapper's per-thread
scratch (:mod:`nets._kernels.workspace`); the parameter gradients dW, dU, dV are one
large product each over all T*B rows at the end. No row views inside the step loops
(each costs a reference count: ~10 % at H = 128, B = 1 [measured]). tanh and sigmoid are
the branch-free :func:`nets._kernels.vecmath.tanh_t` / :func:`~nets._kernels.vecmath.sigmoid_t`
(<= ~10 ulp of numpy; in float32 arithmetic for float32 nets, with typed constants:
float32 H = 128 B = 32 1.13x, B = 1 1.04x faster than float64 gate math [measured]),
compiled with numpy's error model (:func:`sim.jit.fma_kernel`), so the loops calling them
vectorise; the exact scalar ``math.tanh`` cost ~6.5 ms of the 409,600 calls at H=128,
B=32, T=100, a third of the float64 step. The per-unit sums of
squares of ||dL/dh_t|| and the bias sum db are accumulated per row while it is in cache
(reductions into a vector over units vectorise; a scalar float reduction does not).
Measured earlier, tanh kernel vs torch [2026-11-22, 1 thread; ms per step]: float64 H=32
B=1 0.055 (torch 3.4), H=32 B=32 1.72 (torch 11.6), H=128 B=1 0.476 (torch 6.4), H=128 B=32
14.3 (torch 34.8); float32 H=128 B=32 7.2 (torch 17.0), H=128 B=1 0.30 (torch 7.3).
This general kernel against the tanh/MSE-only one it replaced [measured 2026-11-22, one
process, 1 thread, interleaved rounds, medians; T = 100, I = K = 16; ms per step, old ->
new]: float64 H=128 B=32 14.4 -> 11.0 (1.31x: the reused scratch), B=1 0.468 -> 0.472
(0.99x); float32 H=128 B=32 5.68 -> 5.42 (1.05x), B=1 0.280 -> 0.289 (0.97x); float64
H=32 B=1 0.0536 -> 0.0555 (0.97x). Run-to-run noise on the shared machine is ~2-3 %, so
the B = 1 cases are even to ~3 %. Non-tanh nets that used the numpy path before: the
Elman SRN of scenarios/hochreiter_1997_embedded_reber.toml (15 sigmoid units, sigmoid
output, MSE summed, one string of ~11 symbols per call) 162-178 -> 24-26 us per string;
a full L3 run at 5 trials 15-25 s per seed (the notes said 55 s idle).
The kernel is generic in the float type: all arrays share it (float32 elementwise work
is done in float64 and rounded on store; the products are float32). The wrapper passes
writable C-contiguous arrays only: a read-only array is another numba type and would
compile a third specialisation (~4 s cold).
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import fma_kernel

from .lstm import LOSS_CODES
from .output_loss import logits_loss as _logits_loss
from .vecmath import product as _product
from .vecmath import weight_gradient as _weight_gradient
from .vecmath import sigmoid_t as _sig
from .vecmath import tanh_t as _tanh
from .workspace import scratch

__all__ = ["rnn_bptt", "covers", "bptt_fast", "ACT_CODES", "LOSS_CODES"]

#: hidden activation -> code of the kernel's activation branch (as nets.rnn._ACT_CODE)
ACT_CODES = {"identity": 0, "tanh": 1, "relu": 2, "sigmoid": 3}


@fma_kernel
def rnn_bptt(p, xs, ys, state, cfg, work, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (W (H, H), U (H, I), b (H,), V (K, H), c (K,)), C-contiguous
    xs : ndarray (T, B, I)
    ys : ndarray (Ty, B, K), Ty = T (many-to-many) or 1 (last step only)
    state : tuple (h0 (B, H), dh_final (B, H)): the initial state and an extra gradient
        on the final state h_{T-1} (zeros for none)
    cfg : tuple (scale, activation code of :data:`ACT_CODES`, loss code of
        :data:`LOSS_CODES`); scale = 1 / (number of scored terms: elements, rows for the
        cross-entropy) for the mean, 1 for the sum
    work : tuple of outputs (hs (T+1, B, H): hs[0] = h0, hs[t+1] = h_t; dh_norm (T,):
        ||dL/dh_t|| (Frobenius over the batch); dh0 (B, H): dL/dh0) and scratch (A (T*B, H):
        the input parts U x_t, then the gradients da_t)
    g : tuple (dW, dU, db, dV, dc) shaped like p, output (overwritten)

    Returns
    -------
    loss : float
    """
    W, U, b, V, c = p
    dW, dU, db, dV, dc = g
    h0, dh_final = state
    scale, act, code = cfg
    hs, dh_norm, dh0, A = work
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
    np.dot(xf, UT, A)  # (T*B, H)
    R = np.empty((B, H), dt)
    one = np.ones(1, dt)[0]  # typed constants: a float64 literal would promote float32 arithmetic
    zero = one - one
    for bb in range(B):
        for i in range(H):
            hs[0, bb, i] = h0[bb, i]
    for t in range(T):
        _product(hs[t], WT, R)
        for bb in range(B):  # no row views in the step loops: each costs a reference count
            r = t * B + bb
            if act == 1:  # f(pre-activation) in one pass over the row (it vectorises)
                for i in range(H):
                    hs[t + 1, bb, i] = _tanh(R[bb, i] + A[r, i] + b[i])
            elif act == 3:
                for i in range(H):
                    hs[t + 1, bb, i] = _sig(R[bb, i] + A[r, i] + b[i])
            elif act == 2:
                for i in range(H):
                    hs[t + 1, bb, i] = max(R[bb, i] + A[r, i] + b[i], zero)
            else:
                for i in range(H):
                    hs[t + 1, bb, i] = R[bb, i] + A[r, i] + b[i]
    # loss on the scored steps: Z becomes dL/dz (sim.train.output_loss, fused on the logits)
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, VT)  # (Ty*B, K)
    yf = ys.reshape(Ty * B, K)
    loss = _logits_loss(Z, c, yf, scale, code, dc)
    dV[:, :] = np.dot(Z.T, hy)
    Dout = np.dot(Z, V)  # (Ty*B, H): dL/dh_t from the loss term at t
    # backward: A's row t*B+b (U x_t) was read only at forward step t; it now takes da_t
    DA = A
    carry = np.empty((B, H), dt)  # dL/dh_t; local, so LLVM knows it aliases nothing (~3 % at B = 1)
    for bb in range(B):
        for i in range(H):
            carry[bb, i] = dh_final[bb, i]
    sq = np.empty(H)  # per-unit sums of squares: this reduction vectorises across units
    for i in range(H):
        db[i] = 0.0
    for t in range(T - 1, -1, -1):
        for i in range(H):
            sq[i] = 0.0
        w = one if t >= t0 else zero  # whether step t is scored (branch-free in the row loops)
        ro = max(t - t0, 0) * B
        for bb in range(B):
            r = t * B + bb
            if act == 1:  # dL/dh_t = dz_t V + da_{t+1} W, then da_t = dL/dh_t f'(a_t)
                for i in range(H):
                    d = carry[bb, i] + w * Dout[ro + bb, i]
                    h = hs[t + 1, bb, i]
                    DA[r, i] = d * (one - h * h)
                    sq[i] += d * d
                    db[i] += DA[r, i]
            elif act == 3:
                for i in range(H):
                    d = carry[bb, i] + w * Dout[ro + bb, i]
                    h = hs[t + 1, bb, i]
                    DA[r, i] = d * (h * (one - h))
                    sq[i] += d * d
                    db[i] += DA[r, i]
            elif act == 2:  # h > 0 exactly when a > 0
                for i in range(H):
                    d = carry[bb, i] + w * Dout[ro + bb, i]
                    DA[r, i] = d if hs[t + 1, bb, i] > zero else zero
                    sq[i] += d * d
                    db[i] += DA[r, i]
            else:
                for i in range(H):
                    d = carry[bb, i] + w * Dout[ro + bb, i]
                    DA[r, i] = d
                    sq[i] += d * d
                    db[i] += d
        ss = 0.0
        for i in range(H):
            ss += sq[i]
        dh_norm[t] = math.sqrt(ss)
        _product(DA[t * B:(t + 1) * B], W, carry)  # dL/dh_{t-1} (dL/dh0 after t = 0)
    for bb in range(B):  # after step t = 0 the carry is dL/dh0
        for i in range(H):
            dh0[bb, i] = carry[bb, i]
    hprev = hs[:T].reshape(T * B, H)
    _weight_gradient(DA, hprev, dW)
    _weight_gradient(DA, xf, dU)
    return loss * scale


# --- the Python side: coverage and the call used by RNN.bptt(fast=True) -----------------------
def covers(net, loss, truncate, T: int) -> bool:
    """Whether :func:`rnn_bptt` computes ``net.bptt`` for this configuration (one layer, one
    direction, full BPTT, a hidden activation of :data:`ACT_CODES`, a loss/output pair of
    :data:`LOSS_CODES`). truncate = T is not full BPTT for ``trace["dh0"]`` (the term at
    T-1 reaches h0 through T + 1 cell applications): only truncate > T is."""
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    return (net.stack_params is None and net.activation in ACT_CODES
            and (name, net.output_activation) in LOSS_CODES and (truncate is None or truncate > T))


def _writable(a, dtype) -> np.ndarray:
    """a as a C-contiguous writable array of ``dtype`` (a read-only array is another numba
    type: it would compile a second specialisation of the kernel, ~4 s cold)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def bptt_fast(net, params, xs, ys, h0, dh_final, loss, reduction, dtype):
    """``RNN.bptt`` through :func:`rnn_bptt` in ``dtype`` (float32 or float64).

    params : RNNTrainParams;  xs (T, B, I);  ys (T, B, K) or (B, K);  h0 (B, H);
    dh_final (B, H) or None. Returns (loss, grads tuple, hs (T+1, B, H), dh_norm (T,), dh0 (B, H)).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be one of ('mean', 'sum'), got {reduction!r}")
    name = loss if isinstance(loss, str) else loss.name
    code = LOSS_CODES[(name, net.output_activation)]
    T, B, _ = xs.shape
    H, K = params[0].shape[0], params[3].shape[0]
    y3 = _writable(ys if ys.ndim == 3 else ys[None], dtype)
    scale = 1.0 if reduction == "sum" else 1.0 / max(y3.size // K if code == 2 else y3.size, 1)
    p = tuple(_writable(a, dtype) for a in params)
    state = (_writable(h0, dtype), np.zeros((B, H), dtype) if dh_final is None else _writable(dh_final, dtype))
    work = (np.empty((T + 1, B, H), dtype), np.empty(T, dtype), np.empty((B, H), dtype),
            scratch("rnn_A", (T * B, H), dtype))
    g = tuple(np.empty_like(a) for a in p)
    value = rnn_bptt(p, _writable(xs, dtype), y3, state, (float(scale), ACT_CODES[net.activation],
                     code), work, g)
    return float(value), g, work[0], work[1], work[2]
