r"""Fused forward + full BPTT of one LSTM layer with its output layer and loss (numba).

Covers one layer, one direction, gates i, f, o (or no forget gate: f = 1), with or
without peepholes, tanh cell input and output, full BPTT, and three loss/output pairs:
MSE with an identity output, BCE with a sigmoid output, cross-entropy with a softmax
output, a target per step (Ty = T) or after the last step (Ty = 1). The equations are
those of :mod:`nets.lstm` (its numpy path, ``LSTM.bptt(fast=False)``, is the twin;
tests/test_lstm.py checks agreement to 1e-12 in float64):

    a_t = U x_t + W h_{t-1} + b;  i = s(a_i + P_i c_{t-1}), f = s(a_f + P_f c_{t-1}),
    g = tanh(a_g), c_t = f c_{t-1} + i g, o = s(a_o + P_o c_t), h_t = o tanh(c_t),
    z_t = V h_t + c

and BPTT as in the :mod:`nets.lstm` docstring. The kernel is generic in the float type:
float64 and float32 arrays compile to separate specialisations (all arrays share it);
scalar constants are float64, so float32 elementwise work is done in float64 and rounded
on store (the matrix products are float32 BLAS / float32 loops).

Design: the input part U x_t + b of every step is one BLAS product before the loop; the
recurrent products h_{t-1} W^T (forward) and da_t W (backward) are BLAS ``np.dot`` for
batches of 8 and more, and for smaller batches loop nests whose inner loop runs over
contiguous rows (they vectorise, and avoid a BLAS call of ~1 us per step); the parameter
gradients are one product each over all T*B rows after the loop. sigmoid and tanh are
computed from :func:`_exp_neg`, a branch-free exp(-u) for u >= 0 in plain arithmetic
(exp(-u/256) by a degree-11 Taylor polynomial, then eight squarings: relative error
< 1e-13 for u <= 40; u is clamped at 350, where only values below 4e-18 are affected),
and the sign of x as x / max(|x|, 1e-300) instead of a branch. Compiled with numpy's
error model (:func:`sim.jit.vector_kernel`: no ZeroDivisionError branch before each
division), LLVM vectorises these loops where ``math.exp``/``math.tanh`` are scalar calls
(DESIGN.md section 7): 409,600 tanh take ~0.6 ms instead of ~13 ms here [measured].
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import vector_kernel

__all__ = ["lstm_bptt", "covers", "bptt_fast", "LOSS_CODES"]

#: (loss name, output) -> code of the kernel's loss branch
LOSS_CODES = {("mse", "identity"): 0, ("bce", "sigmoid"): 1, ("cross_entropy", "softmax"): 2}


@vector_kernel
def _exp_neg(u):
    """exp(-u) for u >= 0 in branch-free arithmetic (vectorisable); u is clamped at 350."""
    u = min(u, 350.0)
    y = -u * (1.0 / 256.0)
    p = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (
        1.0 / 720.0 + y * (1.0 / 5040.0 + y * (1.0 / 40320.0 + y * (1.0 / 362880.0 + y * (
            1.0 / 3628800.0 + y * (1.0 / 39916800.0)))))))))))
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p


@vector_kernel
def _sig(x):
    """sigma(x) = (1 or e) / (1 + e), e = exp(-|x|): no overflow, no branch."""
    ax = abs(x)
    e = _exp_neg(ax)
    s = x / max(ax, 1e-300)  # sign of x (0 at 0)
    return (0.5 * (1.0 + s) + 0.5 * (1.0 - s) * e) / (1.0 + e)


@vector_kernel
def _tanh(x):
    ax = abs(x)
    e = _exp_neg(2.0 * ax)
    return (1.0 - e) / (1.0 + e) * (x / max(ax, 1e-300))


@vector_kernel
def _acc_product(X, M, out, tmp):
    """out (B, N) += X (B, K) @ M (K, N): loops for small B, BLAS otherwise (tmp (B, N))."""
    B, K = X.shape
    N = M.shape[1]
    if B >= 8:
        np.dot(X, M, tmp)
        for bb in range(B):
            for j in range(N):
                out[bb, j] += tmp[bb, j]
    else:
        for bb in range(B):
            row = out[bb]
            for k in range(K):
                xk = X[bb, k]
                mk = M[k]
                for j in range(N):
                    row[j] += xk * mk[j]


@vector_kernel
def lstm_bptt(p, xs, ys, state0, cfg, work, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (W (4H, H), U (4H, I), b (4H,), P (3, H), V (K, H), c (K,)), C-contiguous
        (P is ignored, and may be zeros, without peepholes)
    xs : ndarray (T, B, I);  ys : ndarray (Ty, B, K), Ty = T or 1 (the last step)
    state0 : tuple (h0 (B, H), c0 (B, H))
    cfg : tuple (scale, loss code of :data:`LOSS_CODES`, peepholes 0/1, forget gate 0/1)
        scale = 1 / (number of scored terms) for the mean, 1 for the sum
    work : tuple of outputs (hs (T+1, B, H), cs (T+1, B, H), act (T, B, 4H) gate
        activations i, f, g, o, hc (T, B, H) tanh(c_t), dh_norm (T,), dc_norm (T,))
    g : tuple (dW, dU, db, dP, dV, dc) shaped like p, outputs (overwritten)

    Returns
    -------
    loss : float
    """
    W, U, b, P, V, c = p
    dW, dU, db, dP, dV, dc = g
    hs, cs, act, hcs, dh_norm, dc_norm = work
    scale, code, peep, forget = cfg
    T, B, I = xs.shape
    H = W.shape[1]
    H4 = 4 * H
    K = V.shape[0]
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    WT = np.ascontiguousarray(W.T)  # (H, 4H)
    UT = np.ascontiguousarray(U.T)  # (I, 4H)
    VT = np.ascontiguousarray(V.T)  # (H, K)
    tmp = np.empty((B, H4), dt)
    tmp_h = np.empty((B, H), dt)
    # forward
    A = np.dot(xs.reshape(T * B, I), UT)  # (T*B, 4H)
    for bb in range(B):
        for j in range(H):
            hs[0, bb, j] = state0[0][bb, j]
            cs[0, bb, j] = state0[1][bb, j]
    for t in range(T):
        a = A[t * B:(t + 1) * B]
        _acc_product(hs[t], WT, a, tmp)
        for bb in range(B):
            ar = a[bb]
            gr = act[t, bb]
            cp = cs[t, bb]
            cn = cs[t + 1, bb]
            hc = hcs[t, bb]
            hn = hs[t + 1, bb]
            for j in range(H):
                gr[j] = _sig(ar[j] + b[j] + peep * P[0, j] * cp[j])
            if forget:
                for j in range(H):
                    gr[H + j] = _sig(ar[H + j] + b[H + j] + peep * P[1, j] * cp[j])
            else:
                for j in range(H):
                    gr[H + j] = 1.0
            for j in range(H):
                gr[2 * H + j] = _tanh(ar[2 * H + j] + b[2 * H + j])
            for j in range(H):
                cn[j] = gr[H + j] * cp[j] + gr[j] * gr[2 * H + j]
            for j in range(H):
                gr[3 * H + j] = _sig(ar[3 * H + j] + b[3 * H + j] + peep * P[2, j] * cn[j])
            for j in range(H):
                hc[j] = _tanh(cn[j])
            for j in range(H):
                hn[j] = gr[3 * H + j] * hc[j]
    # loss on the scored steps: Z becomes dL/dz
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, VT)  # (Ty*B, K)
    yf = ys.reshape(Ty * B, K)
    loss = 0.0
    for r in range(Ty * B):
        for k in range(K):
            Z[r, k] += c[k]
        if code == 0:
            for k in range(K):
                e = Z[r, k] - yf[r, k]
                loss += e * e
                Z[r, k] = 2.0 * scale * e
        elif code == 1:
            for k in range(K):
                z = Z[r, k]
                loss += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - yf[r, k] * z
                Z[r, k] = scale * (_sig(z) - yf[r, k])
        else:
            zmax = Z[r, 0]
            for k in range(1, K):
                zmax = max(zmax, Z[r, k])
            se = 0.0
            ty = 0.0
            tz = 0.0
            for k in range(K):
                se += math.exp(Z[r, k] - zmax)
                ty += yf[r, k]
                tz += yf[r, k] * Z[r, k]
            loss += (zmax + math.log(se)) * ty - tz
            for k in range(K):
                Z[r, k] = scale * (math.exp(Z[r, k] - zmax) / se * ty - yf[r, k])
    for k in range(K):
        dc[k] = 0.0
    for r in range(Ty * B):
        for k in range(K):
            dc[k] += Z[r, k]
    dV[:, :] = np.dot(Z.T, hy)
    Dout = np.dot(Z, V)  # (Ty*B, H)
    # backward
    DA = np.empty((T * B, H4), dt)
    carry_h = np.zeros((B, H), dt)
    carry_c = np.zeros((B, H), dt)
    dcv = np.empty(H, dt)
    for t in range(T - 1, -1, -1):
        sh = 0.0
        sc = 0.0
        for bb in range(B):
            r = t * B + bb
            gr = act[t, bb]
            cp = cs[t, bb]
            hc = hcs[t, bb]
            da = DA[r]
            ch = carry_h[bb]
            cc = carry_c[bb]
            if t >= t0:
                do = Dout[(t - t0) * B + bb]
                for j in range(H):
                    ch[j] += do[j]
            for j in range(H):  # the norms in their own loops: a float reduction does not vectorise
                sh += ch[j] * ch[j]
            for j in range(H):
                dh = ch[j]
                o = gr[3 * H + j]
                dao = dh * hc[j] * o * (1.0 - o)
                da[3 * H + j] = dao
                dcj = dh * o * (1.0 - hc[j] * hc[j]) + cc[j] + peep * dao * P[2, j]
                dcv[j] = dcj
                i = gr[j]
                gg = gr[2 * H + j]
                da[j] = dcj * gg * i * (1.0 - i)
                da[2 * H + j] = dcj * i * (1.0 - gg * gg)
            for j in range(H):
                sc += dcv[j] * dcv[j]
            if forget:
                for j in range(H):
                    f = gr[H + j]
                    da[H + j] = dcv[j] * cp[j] * f * (1.0 - f)
            else:
                for j in range(H):
                    da[H + j] = 0.0
            for j in range(H):
                cc[j] = dcv[j] * gr[H + j] + peep * (da[j] * P[0, j] + da[H + j] * P[1, j])
                ch[j] = 0.0
        dh_norm[t] = math.sqrt(sh)
        dc_norm[t] = math.sqrt(sc)
        if t > 0:
            _acc_product(DA[t * B:(t + 1) * B], W, carry_h, tmp_h)
    hprev = hs[:T].reshape(T * B, H)
    dW[:, :] = np.dot(DA.T, hprev)
    dU[:, :] = np.dot(DA.T, xs.reshape(T * B, I))
    for j in range(H4):
        db[j] = 0.0
    for j in range(H):
        dP[0, j] = 0.0
        dP[1, j] = 0.0
        dP[2, j] = 0.0
    for r in range(T * B):
        da = DA[r]
        for j in range(H4):
            db[j] += da[j]
    if peep:
        for t in range(T):
            for bb in range(B):
                da = DA[t * B + bb]
                cp = cs[t, bb]
                cn = cs[t + 1, bb]
                for j in range(H):
                    dP[0, j] += da[j] * cp[j]
                    dP[1, j] += da[H + j] * cp[j]
                    dP[2, j] += da[3 * H + j] * cn[j]
    return loss * scale


# --- the Python side: coverage and the call used by LSTM.bptt(fast=True) ----------------------
def covers(net, loss, truncate, T: int) -> bool:
    """Whether :func:`lstm_bptt` computes ``net.bptt`` for this configuration."""
    cell = net.cell
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    return (net.n_layers == 1 and not net.bidirectional and cell.input_gate and cell.output_gate
            and not cell.coupled and not cell.gate_recurrence and cell.cell_input == "tanh"
            and cell.cell_output == "tanh" and (name, net.output_activation) in LOSS_CODES
            and (truncate is None or truncate >= T))


def bptt_fast(net, params, xs, ys, state0, loss, reduction, squeeze):
    """``LSTM.bptt`` through :func:`lstm_bptt`; float32 when the params are float32."""
    from nets.lstm import LSTMState
    dtype = np.float32 if all(np.asarray(a).dtype == np.float32 for a in params) else np.float64
    params = net._check_params(params, dtype)
    name = loss if isinstance(loss, str) else loss.name
    code = LOSS_CODES[(name, net.output_activation)]
    T, B, _ = xs.shape
    H, K = net.n_hidden, net.n_outputs
    y3 = np.ascontiguousarray(ys if ys.ndim == 3 else ys[None], dtype=dtype)
    if reduction == "sum":
        scale = 1.0
    else:
        scale = 1.0 / max(y3.size // K if code == 2 else y3.size, 1)
    peep = net.cell.peepholes
    P = params.P if peep else np.zeros((3, H), dtype)
    p = tuple(np.ascontiguousarray(a, dtype=dtype) for a in (params.W, params.U, params.b, P, params.V, params.c))
    h0, c0 = net._batch_state(state0, B, dtype)
    work = (np.empty((T + 1, B, H), dtype), np.empty((T + 1, B, H), dtype), np.empty((T, B, 4 * H), dtype),
            np.empty((T, B, H), dtype), np.empty(T, dtype), np.empty(T, dtype))
    g = tuple(np.empty_like(a) for a in p)
    value = lstm_bptt(p, np.ascontiguousarray(xs, dtype=dtype), y3, (np.ascontiguousarray(h0[0]),
                      np.ascontiguousarray(c0[0])), (float(scale), code, 1.0 if peep else 0.0,
                                                     bool(net.cell.forget_gate)), work, g)
    grads = dict(zip(("W", "U", "b", "P", "V", "c"), g))
    out = type(params)(*(grads[n] for n in params._fields))
    hs, cs, actv, _, dh_norm, dc_norm = work
    gates = {k: actv[..., n * H:(n + 1) * H] for n, k in enumerate("ifgo")}
    h, c = hs[1:], cs[1:]
    state = LSTMState(hs[-1][None], cs[-1][None])
    if squeeze:
        gates = {k: v[:, 0] for k, v in gates.items()}
        h, c, state = h[:, 0], c[:, 0], LSTMState(state.h[:, 0], state.c[:, 0])
    return float(value), out, {"dh_norm": dh_norm, "dc_norm": dc_norm, "h": h, "c": c, "gates": gates,
                               "state": state}
