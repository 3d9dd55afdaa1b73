r"""Numpy reference twin of the GRU's forward pass and BPTT (:mod:`nets.gru` equations).

One layer and direction at a time (:func:`cell_forward`, :func:`cell_backward`), then whole
stacks, both directions (:func:`stack_forward`, :func:`stack_backward`), with truncated
BPTT by gradient age as documented in :mod:`nets.gru`. This is the reference the fused
numba kernel :mod:`nets._kernels.gru` is tested against (tests/test_gru.py).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import sigmoid

__all__ = ["GRUTrainParams", "cell_forward", "cell_backward", "stack_forward", "stack_backward"]


class GRUTrainParams(NamedTuple):
    """Everything :meth:`GRU.bptt` differentiates (and its gradients, same shapes)."""

    U0: np.ndarray  # (D, 3H, I) layer-0 input weights, gate rows r, z, n
    U: np.ndarray   # (L-1, D, 3H, D*H) input weights of layers 1 .. L-1
    W: np.ndarray   # (L, D, 3H, H) recurrent weights
    b: np.ndarray   # (L, D, 3H) input-side biases
    bh: np.ndarray  # (L, D, 3H) recurrent-side biases
    V: np.ndarray   # (K, D*H) output weights
    c: np.ndarray   # (K,) output biases


def cell_forward(U, W, b, bh, xs, h0, reset: str, update: str) -> dict:
    """One layer, one direction, forward in time.

    Parameters
    ----------
    U : (3H, I); W : (3H, H); b, bh : (3H,)
    xs : (T, B, I); h0 : (B, H)

    Returns
    -------
    dict with "hs" (T+1, B, H) (hs[0] = h0), gates "r", "z", "n" (T, B, H) and "ghn"
    (T, B, H): W_n h_{t-1} + bh_n (after) or W_n (r * h_{t-1}) + bh_n (before).
    """
    T, B, _ = xs.shape
    H = W.shape[1]
    gx = xs @ U.T + b  # (T, B, 3H): the input part of every step at once
    hs = np.empty((T + 1, B, H))
    hs[0] = h0
    r, z, n, ghn = (np.empty((T, B, H)) for _ in range(4))
    for t in range(T):
        h = hs[t]
        if reset == "after":
            gh = h @ W.T + bh
            r[t] = sigmoid(gx[t, :, :H] + gh[:, :H])
            z[t] = sigmoid(gx[t, :, H:2 * H] + gh[:, H:2 * H])
            ghn[t] = gh[:, 2 * H:]
            n[t] = np.tanh(gx[t, :, 2 * H:] + r[t] * ghn[t])
        else:
            gh = h @ W[:2 * H].T + bh[:2 * H]
            r[t] = sigmoid(gx[t, :, :H] + gh[:, :H])
            z[t] = sigmoid(gx[t, :, H:2 * H] + gh[:, H:])
            ghn[t] = (r[t] * h) @ W[2 * H:].T + bh[2 * H:]
            n[t] = np.tanh(gx[t, :, 2 * H:] + ghn[t])
        if update == "cho":
            hs[t + 1] = z[t] * h + (1.0 - z[t]) * n[t]
        else:
            hs[t + 1] = (1.0 - z[t]) * h + z[t] * n[t]
    return {"hs": hs, "r": r, "z": z, "n": n, "ghn": ghn}


def cell_backward(U, W, xs, cache: dict, dY, reset: str, update: str, truncated: bool):
    """BPTT through one layer and direction (forward in time), by gradient age.

    Parameters
    ----------
    U : (3H, I); W : (3H, H); xs : (T, B, I); cache : from :func:`cell_forward`
    dY : (T, A, B, H)
        Gradient reaching h_t from outside the recurrence (the loss, the layer above),
        split by age bucket a (the number of recurrent transitions already taken on its
        path); A = 1 for full BPTT.
    truncated : bool
        When True a transition moves bucket a to a + 1 and bucket A - 1 is dropped (BPTT(A));
        when False (A = 1) every gradient keeps flowing.

    Returns
    -------
    grads : (dU (3H, I), dW (3H, H), db (3H,), dbh (3H,))
    dX : (T, A, B, I), the gradient reaching the inputs x_t, by age bucket
    dh : (T, B, H), the total dL/dh_t (all buckets)
    dh0 : (B, H), dL/dh0, the gradient reaching the initial state (when truncated, the
        buckets that took at most A - 1 transitions, the step into h0 counted as one)
    """
    hs, r, z, n, ghn = cache["hs"], cache["r"], cache["z"], cache["n"], cache["ghn"]
    T, A, B, H = dY.shape
    dW = np.zeros_like(W)
    dbh = np.zeros(3 * H)
    dgx = np.empty((T, A, B, 3 * H))
    dh = np.empty((T, B, H))
    carry = np.zeros((A, B, H))
    for t in range(T - 1, -1, -1):
        G = dY[t] + carry  # (A, B, H)
        dh[t] = G.sum(axis=0)
        h = hs[t]
        if update == "cho":
            dz, dn, direct = G * (h - n[t]), G * (1.0 - z[t]), G * z[t]
        else:
            dz, dn, direct = G * (n[t] - h), G * z[t], G * (1.0 - z[t])
        dan = dn * (1.0 - n[t] * n[t])
        daz = dz * (z[t] * (1.0 - z[t]))
        if reset == "after":
            dar = dan * ghn[t] * (r[t] * (1.0 - r[t]))
            dgh = np.concatenate([dar, daz, dan * r[t]], axis=-1)  # (A, B, 3H)
            dprev = direct + dgh @ W
            dW += dgh.sum(axis=0).T @ h
            dbh += dgh.sum(axis=(0, 1))
        else:
            dhr = dan @ W[2 * H:]  # (A, B, H): gradient at r * h_{t-1}
            dar = dhr * h * (r[t] * (1.0 - r[t]))
            drz = np.concatenate([dar, daz], axis=-1)
            dprev = direct + dhr * r[t] + drz @ W[:2 * H]
            dW[:2 * H] += drz.sum(axis=0).T @ h
            dW[2 * H:] += dan.sum(axis=0).T @ (r[t] * h)
            dbh += np.concatenate([dar, daz, dan], axis=-1).sum(axis=(0, 1))
        dgx[t] = np.concatenate([dar, daz, dan], axis=-1)
        if truncated:
            carry = np.zeros_like(carry)
            carry[1:] = dprev[:-1]
        else:
            carry = dprev
    dgx_all = dgx.sum(axis=1)  # (T, B, 3H)
    dU = np.einsum("tbg,tbi->gi", dgx_all, xs)
    db = dgx_all.sum(axis=(0, 1))
    return (dU, dW, db, dbh), dgx @ U, dh, carry.sum(axis=0)


def stack_forward(p: GRUTrainParams, xs, h0, reset, update):
    """All layers and directions: top outputs (T, B, D*H) and caches[layer][direction]."""
    L, D = p.W.shape[:2]
    inp = xs
    caches = []
    for k in range(L):
        outs, layer = [], []
        for d in range(D):
            Uk = p.U0[d] if k == 0 else p.U[k - 1, d]
            x_d = inp if d == 0 else inp[::-1]
            cache = cell_forward(Uk, p.W[k, d], p.b[k, d], p.bh[k, d], x_d, h0[k * D + d], reset, update)
            cache["x"] = x_d
            layer.append(cache)
            outs.append(cache["hs"][1:] if d == 0 else cache["hs"][1:][::-1])
        caches.append(layer)
        inp = np.concatenate(outs, axis=-1) if D == 2 else outs[0]
    return inp, caches


def stack_backward(p: GRUTrainParams, xs, caches, dz, reset, update, truncate, dh_final=None):
    """BPTT of the stack given dL/dz_t (T, B, K) of the output pre-activations.

    Parameters
    ----------
    truncate : int or None, BPTT(k) as in :mod:`nets.gru`
    dh_final : ndarray (L*D, B, H), optional
        An extra gradient on each cell's final state (torch's h_n order: the state after
        the last processed step, t = T-1 forward, t = 0 reverse), as from a decoder it
        initialises; it enters with age 0, like a loss term at that step.

    Returns
    -------
    grads : GRUTrainParams
    dh_top : ndarray (T, B, D*H), the total dL/dh_t of the top outputs
    dh0 : ndarray (L*D, B, H), dL/d(initial states), truncated like the rest
    """
    L, D = p.W.shape[:2]
    T = dz.shape[0]
    # the longest path takes T - 1 transitions per direction it runs in: T - 1 in a
    # unidirectional stack, L (T - 1) when it may zig-zag through both directions
    max_transitions = (T - 1) * (L if D == 2 else 1)
    truncated = truncate is not None and truncate <= max_transitions
    grads, dh_top, dh0 = _stack_pass(p, caches, dz, reset, update, int(truncate) if truncated else 1, truncated,
                                     dh_final)
    if truncate is not None and truncate == max_transitions + 1:
        # the weights' gradients are full BPTT here, but the longest paths into an initial
        # state take one transition more (the step into h0) and are dropped: a second,
        # age-tracked pass for dh0 only (the weights keep the numbers of the full pass)
        dh0 = _stack_pass(p, caches, dz, reset, update, int(truncate), True, dh_final)[2]
    return grads, dh_top, dh0


def _stack_pass(p: GRUTrainParams, caches, dz, reset, update, A: int, truncated: bool, dh_final):
    """:func:`stack_backward` with A age buckets (``truncated``) or full BPTT (A = 1)."""
    L, D, _, H = p.W.shape
    T, B, K = dz.shape
    dY = np.zeros((T, A, B, D * H))
    dY[:, 0] = dz @ p.V  # the loss terms' own gradients have age 0
    g = {name: np.zeros_like(getattr(p, name)) for name in ("U0", "U", "W", "b", "bh")}
    dh0 = np.zeros((L * D, B, H))
    dh_top = None
    for k in range(L - 1, -1, -1):
        dX = None
        dh_layer = []
        for d in range(D):
            cache = caches[k][d]
            Uk = p.U0[d] if k == 0 else p.U[k - 1, d]
            dYd = dY[..., d * H:(d + 1) * H]
            if d == 1:
                dYd = dYd[::-1]
            if dh_final is not None:  # the cell's last processed step, age 0
                dYd = np.array(dYd)
                dYd[-1, 0] += dh_final[k * D + d]
            (dU, dW, db, dbh), dXd, dh, dh0[k * D + d] = cell_backward(Uk, p.W[k, d], cache["x"], cache, dYd,
                                                                       reset, update, truncated)
            if d == 1:
                dXd, dh = dXd[::-1], dh[::-1]
            dh_layer.append(dh)
            if k == 0:
                g["U0"][d] = dU
            else:
                g["U"][k - 1, d] = dU
            g["W"][k, d], g["b"][k, d], g["bh"][k, d] = dW, db, dbh
            dX = dXd if dX is None else dX + dXd
        if k == L - 1:
            dh_top = np.concatenate(dh_layer, axis=-1) if D == 2 else dh_layer[0]
        dY = dX
    top = caches[-1]
    h_top = np.concatenate([c["hs"][1:] if d == 0 else c["hs"][1:][::-1] for d, c in enumerate(top)], axis=-1)
    grads = GRUTrainParams(g["U0"], g["U"], g["W"], g["b"], g["bh"],
                           V=np.einsum("tbk,tbh->kh", dz, h_top), c=dz.sum(axis=(0, 1)))
    return grads, dh_top, dh0
