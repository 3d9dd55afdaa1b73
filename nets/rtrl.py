r"""Real-time recurrent learning (RTRL): the exact gradient of a vanilla RNN in forward mode.

Williams, R. J. & Zipser, D. (1989). A learning algorithm for continually running fully
recurrent neural networks. Neural Computation 1(2):270-280, doi:10.1162/neco.1989.1.2.270
(not in SCENARIOS.md; the equations below are derived here, not copied from the paper, and
only the gradient is provided, not the paper's online weight updates). For the net of
:mod:`nets.rnn`,

    a_t = W h_{t-1} + U x_t + b,   h_t = f(a_t),   z_t = V h_t + c,   y_t = g(z_t),

the sensitivities P_t = dh_t / dtheta of the hidden state to the recurrent parameters
theta = (W, U, b) obey, with P_{-1} = 0 (h0 is not trained),

    P_t[i, n] = f'(a_t,i) ( sum_j W_ij P_{t-1}[j, n] + da_t,i/dtheta_n ),
    da_t,i/dW_jk = delta_ij h_{t-1,k},   da_t,i/dU_jk = delta_ij x_t,k,   da_t,i/db_j = delta_ij,

and the gradient is accumulated as the sequence is read, with no backward pass:

    dL/dtheta = sum_t (dL/dz_t V) P_t,    dL/dV = sum_t dz_t^T h_t,   dL/dc = sum_t dz_t.

The cost is O(H^2 n) per step for n = H^2 + H I + H parameters (O(H^4) for I ~ H), so it
is for small nets; it is the oracle against which :meth:`nets.rnn.RNN.bptt` is tested
(tests/test_rtrl.py: equal to 1e-10, and both equal to central finite differences).
Losses are those of :func:`sim.train.output_loss`, applied step by step (reduction "sum")
and divided by the number of terms for "mean", so the value and the gradient equal those of
``bptt`` with full backpropagation (``truncate=None``).
"""
from __future__ import annotations

import numpy as np

from sim.train import get_loss, output_loss
from .activations import activation, derivative
from .rnn import RNN, RNNTrainParams

__all__ = ["rtrl"]


def rtrl(net: RNN, params, xs, ys, state0=None, *, loss, reduction: str = "mean"):
    """Loss and exact gradient by real-time recurrent learning (forward sensitivities).

    Parameters
    ----------
    net : RNN (or a subclass such as Elman): its hidden activation, output layer and h0
    params : RNNTrainParams (W (H, H), U (H, I), b (H,), V (K, H), c (K,))
    xs : ndarray (T, B, I), or (T, I) for one sequence
    ys : ndarray (T, B, K) (a target per step) or (B, K) (after the last step only);
        (T, K) or (K,) for one sequence
    state0 : ndarray (H,) or (B, H), optional (the net's h0 by default)
    loss : str or sim.train.Loss
    reduction : {"mean", "sum"}

    Returns
    -------
    loss : float
    grads : RNNTrainParams shaped like ``params``
    trace : dict with "sens_norm" (T,) = ||dh_t/d(W, U, b)|| (Frobenius over the batch)
    """
    params = RNNTrainParams(*(np.asarray(p, dtype=np.float64) for p in params))
    W, U, b, V, c = params
    xs3, squeeze = net._xs(xs)
    T, B, I = xs3.shape
    H, K = W.shape[0], V.shape[0]
    ys = np.asarray(ys, dtype=np.float64)
    if squeeze:
        ys = ys[:, None, :] if ys.ndim == 2 else ys[None, :]
    if ys.shape not in ((T, B, K), (B, K)):
        raise ValueError(f"targets must have shape ({T}, {B}, {K}) or ({B}, {K}), got {ys.shape}")
    L = get_loss(loss)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    per_step = ys.ndim == 3
    n_terms = (T if per_step else 1) * B * (1 if L.per_row else K)
    scale = 1.0 / n_terms if reduction == "mean" else 1.0

    f = activation(net.activation)
    eye = np.eye(H)
    n = H * H + H * I + H
    P = np.zeros((B, H, n))  # dh_{t-1}/dtheta, theta = (W, U, b) flattened row-major
    h = net._batch_h0(state0, B)  # (B, H)
    value = 0.0
    g_rec = np.zeros(n)
    gV, gc = np.zeros((K, H)), np.zeros(K)
    sens = np.empty(T)
    for t in range(T):
        x = xs3[t]  # (B, I)
        a = h @ W.T + x @ U.T + b  # (B, H)
        h_new = f(a)
        imm = np.concatenate([np.einsum("ij,bk->bijk", eye, h).reshape(B, H, H * H),
                              np.einsum("ij,bk->bijk", eye, x).reshape(B, H, H * I),
                              np.broadcast_to(eye, (B, H, H))], axis=2)  # (B, H, n): da_t/dtheta
        P = derivative(net.activation, a, h_new)[:, :, None] * (np.einsum("ij,bjn->bin", W, P) + imm)
        h = h_new
        sens[t] = np.sqrt(np.sum(P * P))
        if per_step or t == T - 1:
            v, dz = output_loss(L, net.output_activation, h @ V.T + c, ys[t] if per_step else ys,
                                reduction="sum")  # dz (B, K)
            value += v
            g_rec += np.einsum("bh,bhn->n", dz @ V, P)
            gV += dz.T @ h
            gc += dz.sum(axis=0)
    gW = g_rec[:H * H].reshape(H, H)
    gU = g_rec[H * H:H * H + H * I].reshape(H, I)
    gb = g_rec[H * H + H * I:]
    grads = RNNTrainParams(gW * scale, gU * scale, gb * scale, gV * scale, gc * scale)
    return value * scale, grads, {"sens_norm": sens}
