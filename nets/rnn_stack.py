r"""Stacked and bidirectional vanilla RNN: the numpy forward pass and BPTT (torch.nn.RNN layout).

Per layer l and direction d (torch.nn.RNN semantics, PyTorch documentation of nn.RNN):

    h_t^{l,d} = f(W^{l,d} h_{t -+ 1}^{l,d} + U^{l,d} x_t^l + b^{l,d})

with x_t^0 = x_t and, for l > 0, x_t^l = [h_t^{l-1,fwd}, h_t^{l-1,rev}] (the concatenated
outputs of both directions of the layer below); the reverse direction runs the same cell
from t = T-1 down to 0. The output layer reads the top layer's concatenation:
y_t = g(V [h_t^{L-1,fwd}, h_t^{L-1,rev}] + c). One bias b per cell (torch's
bias_ih + bias_hh: only their sum matters for a vanilla RNN).

Parameters (:class:`RNNStackParams`, L layers, D directions, H units per cell, I inputs):
U0 (D, H, I), U (L-1, D, H, D*H), W (L, D, H, H), b (L, D, H), V (K, D*H), c (K,).
Initial states h0 (L*D, B, H), in torch's h_0 order (layer-major, then direction).

BPTT (:func:`stack_backward`) runs each cell's backward pass from the top layer down; the
gradient reaching the layer below is da_t U^{l,d} split over the two directions' halves.
Truncated BPTT(k) has the meaning of :mod:`nets.rnn` and :mod:`nets.gru`: a loss term's
gradient follows only paths with at most k - 1 recurrent transitions counted over every
layer and direction on the path (gradients carry their "age" across layers). For a
unidirectional stack this is the exact gradient of the surrogate whose term s runs the
whole stack k steps from the frozen states at step s - k (tests/test_rnn_stacked.py checks
it); a bidirectional stack's paths can hold up to L (T - 1) transitions, so there full
BPTT needs k > L (T - 1).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import activation, derivative

__all__ = ["RNNStackParams", "stack_forward", "stack_backward", "check_stack_shapes"]


class RNNStackParams(NamedTuple):
    """Trainable parameters of a stacked / bidirectional RNN (and its gradients)."""

    U0: np.ndarray  # (D, H, I) input weights of layer 0
    U: np.ndarray  # (L-1, D, H, D*H) input weights of layers 1..L-1
    W: np.ndarray  # (L, D, H, H) recurrent weights
    b: np.ndarray  # (L, D, H) biases
    V: np.ndarray  # (K, D*H) output weights
    c: np.ndarray  # (K,) output biases


def check_stack_shapes(p: RNNStackParams) -> None:
    """Raise ValueError unless the arrays of ``p`` have consistent stack shapes."""
    if p.W.ndim != 4 or p.W.shape[0] < 1 or p.W.shape[1] not in (1, 2) or p.W.shape[2] < 1 \
            or p.W.shape[2] != p.W.shape[3]:
        raise ValueError(f"W must have shape (L, D, H, H) with L >= 1, D in (1, 2), got {p.W.shape}")
    L, D, H, _ = p.W.shape
    if p.U0.ndim != 3 or p.U0.shape[:2] != (D, H) or p.U0.shape[2] < 1:
        raise ValueError(f"U0 must have shape ({D}, {H}, n_inputs), got {p.U0.shape}")
    for name, shape in {"U": (L - 1, D, H, D * H), "b": (L, D, H)}.items():
        if getattr(p, name).shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {getattr(p, name).shape}")
    if p.V.ndim != 2 or p.V.shape[1] != D * H or p.V.shape[0] < 1:
        raise ValueError(f"V must have shape (n_outputs, {D * H}), got {p.V.shape}")
    if p.c.shape != (p.V.shape[0],):
        raise ValueError(f"c must have shape ({p.V.shape[0]},), got {p.c.shape}")


def _input_weights(p: RNNStackParams, l: int, d: int) -> np.ndarray:
    return p.U0[d] if l == 0 else p.U[l - 1, d]


def stack_forward(p: RNNStackParams, xs: np.ndarray, h0: np.ndarray, act: str):
    """Forward pass of every layer and direction.

    Parameters
    ----------
    p : RNNStackParams
    xs : ndarray (T, B, I)
    h0 : ndarray (L*D, B, H)
    act : hidden activation name

    Returns
    -------
    top : ndarray (T, B, D*H), the top layer's outputs in natural time order
    caches : list over layers of lists over directions of dicts with "inp" (T, B, In),
        "hs" (T+1, B, H) and "a" (T, B, H), all in processing order (reversed for d = 1)
    """
    f = activation(act)
    L, D, H, _ = p.W.shape
    T, B, _ = xs.shape
    inp = xs
    caches = []
    for l in range(L):
        layer, outs = [], []
        for d in range(D):
            x = inp if d == 0 else inp[::-1]
            a = x @ _input_weights(p, l, d).T + p.b[l, d]
            hs = np.empty((T + 1, B, H))
            hs[0] = h0[l * D + d]
            Wld = p.W[l, d]
            for t in range(T):
                a[t] += hs[t] @ Wld.T
                hs[t + 1] = f(a[t])
            layer.append({"inp": x, "hs": hs, "a": a})
            outs.append(hs[1:] if d == 0 else hs[1:][::-1])
        caches.append(layer)
        inp = np.concatenate(outs, axis=-1) if D == 2 else outs[0]
    return inp, caches


def _cell_backward(W, Uin, cache, dY, act, k):
    """One cell's BPTT in processing order with gradients sorted by age (k ages).

    dY : (T, k, B, H) gradient at the cell's outputs, by age (transitions already taken).
    Returns dW, dU, db, dX (T, k, B, In) by age, dh (T, B, H) summed over ages, dh0 (B, H).
    With k = 0 (full BPTT) ages are not tracked: dY is (T, 1, B, H) and nothing is dropped.
    """
    hs, a, x = cache["hs"], cache["a"], cache["inp"]
    T, B, H = a.shape
    fp = derivative(act, a, hs[1:])
    n_age = max(k, 1)
    G = np.zeros((n_age, B, H))
    dh = np.empty((T, B, H))
    da_sum = np.empty((T, B, H))
    dX = np.empty((T, n_age) + x.shape[1:])
    for t in range(T - 1, -1, -1):
        G += dY[t]
        dh[t] = G.sum(axis=0)
        da = G * fp[t]  # (n_age, B, H)
        da_sum[t] = da.sum(axis=0)
        dX[t] = da @ Uin
        back = da @ W
        if k:  # one transition older; the oldest (age k-1) is dropped
            G = np.zeros_like(G)
            G[1:] = back[:-1]
        else:
            G = back
    dW = np.einsum("tbi,tbj->ij", da_sum, hs[:-1])
    dU = np.einsum("tbi,tbj->ij", da_sum, x)
    db = da_sum.sum(axis=(0, 1))
    return dW, dU, db, dX, dh, G.sum(axis=0)


def stack_backward(p: RNNStackParams, caches, dz: np.ndarray, act: str, truncate: int | None,
                   dh_final: np.ndarray | None = None):
    """BPTT of the stack given dL/dz_t (T, B, K) of the output pre-activations.

    Parameters
    ----------
    dh_final : ndarray (L*D, B, H), optional
        An extra gradient on each cell's final state (torch's h_n: the state after the last
        processed step, t = T-1 forward, t = 0 reverse), as from a decoder it initialises.

    Returns
    -------
    grads : RNNStackParams
    dh_top : ndarray (T, B, D*H), dL/d(top-layer output h_t)
    dh0 : ndarray (L*D, B, H), dL/d(initial states)
    """
    L, D, H, _ = p.W.shape
    T, B, _ = dz.shape
    k = 0 if truncate is None else int(truncate)
    n_age = max(k, 1)
    dY = np.zeros((T, n_age, B, D * H))
    dY[:, 0] = dz @ p.V
    gU0 = np.zeros_like(p.U0)
    gU = np.zeros_like(p.U)
    gW = np.zeros_like(p.W)
    gb = np.zeros_like(p.b)
    dh0 = np.zeros((L * D, B, H))
    dh_top = None
    for l in range(L - 1, -1, -1):
        dX_total = None
        dh_layer = []
        for d in range(D):
            c = caches[l][d]
            g = dY[..., d * H:(d + 1) * H]
            g = g if d == 0 else g[::-1]
            g = np.array(g)
            if dh_final is not None:
                g[-1, 0] += dh_final[l * D + d]
            dW, dUin, db, dX, dh, dh0[l * D + d] = _cell_backward(p.W[l, d], _input_weights(p, l, d), c, g, act, k)
            gW[l, d], gb[l, d] = dW, db
            if l == 0:
                gU0[d] = dUin
            else:
                gU[l - 1, d] = dUin
            dX = dX if d == 0 else dX[::-1]
            dX_total = dX if dX_total is None else dX_total + dX
            dh_layer.append(dh if d == 0 else dh[::-1])
        if l == L - 1:
            dh_top = np.concatenate(dh_layer, axis=-1) if D == 2 else dh_layer[0]
        dY = dX_total
    top = caches[-1]
    h_top = np.concatenate([top[d]["hs"][1:] if d == 0 else top[d]["hs"][1:][::-1] for d in range(D)], axis=-1)
    dz_flat = dz
    grads = RNNStackParams(gU0, gU, gW, gb, np.einsum("tbk,tbh->kh", dz_flat, h_top), dz_flat.sum(axis=(0, 1)))
    return grads, dh_top, dh0
