r"""Fused forward + full BPTT of one LSTM layer with its output layer and loss (numba).

Covers one layer, one direction, every switch of :mod:`nets.lstm` except the gate
recurrence (FGR): each of the gates i, f, o present or fixed at 1, the coupled forget gate
f = 1 - i (CIFG: then dL/di gains - dL/df, and the f rows of W, U, b get no gradient),
peepholes or not, every cell-input and output squash; full BPTT; and three
loss/output pairs: MSE with an identity or a sigmoid output, BCE with a sigmoid output, cross-entropy with
a softmax output, a target per step (Ty = T) or after the last step (Ty = 1). The equations are
those of :mod:`nets.lstm` (its numpy path, ``LSTM.bptt(fast=False)``, is the twin;
tests/test_lstm.py checks agreement to 1e-12 in float64):

    a_t = U x_t + W h_{t-1} + b;  i = s(a_i + P_i c_{t-1}), f = s(a_f + P_f c_{t-1}),
    g = act_g(a_g), c_t = f c_{t-1} + i g, o = s(a_o + P_o c_t), h_t = o act_h(c_t),
    z_t = V h_t + c  (+ S x_t with the input -> output shortcut)

Switches are branch-free constants (a missing gate: i = 0 * s(.) + 1; a squash:
y = m s(k x) + a, tanh = 2 s(2x) - 1, or x; its derivative a quadratic in y, see
:data:`SQUASHES`), so one compiled loop serves every configuration and still vectorises.

and BPTT as in the :mod:`nets.lstm` docstring. The kernel is generic in the float type:
float64 and float32 arrays compile to separate specialisations (all arrays share it).
The switches and squash constants are copied into the float type at entry, and the gates
use :func:`nets._kernels.vecmath.sigmoid_t`, so float32 elementwise work stays in float32
(twice the lanes per vector); before, a float64 constant promoted it to float64 and the
float32 step was 1.08x (H = 128 B = 1), 1.12x (H = 32 B = 1) and 1.13x (H = 128 B = 32)
slower [measured, one process, both kernels alternating, 2 threads; float64 results
unchanged bit for bit]. The matrix products are float32 BLAS / float32 loops.

Design: the recurrent products h_{t-1} W^T (forward) and da_t W (backward) are BLAS
``np.dot`` for batches of 8 and more (into a scratch array, not added in place), and for
smaller batches loop nests whose inner loop runs over contiguous rows (they vectorise, and
avoid a BLAS call of ~1 us per step); the parameter gradients are one product each over
all T*B rows after the loop. BLAS reads W^T in place (no transposed copy); the loop nests
use a local contiguous copy. The input part U x_t: for B >= 8 and 4 I <= H it joins the
recurrent product, [h_{t-1}, x_t] [W U]^T, one (B, H+I) x (H+I, 4H) product per step, and
[dW dU] is one product after the loop (the (T*B, I) x (I, 4H) product of all input parts
and its gradient are thin products BLAS does slowly, and the wider step costs I/H more)
[measured, one thread, against the separate input product in the same process, loaded
machine: H = 128 B = 32 float64 1.13-1.15x faster; H = 32 B = 32 0.87x, hence the 4 I <= H
rule]; otherwise U x_t + b of every step is one product before the loop. The (T*B, 4H)
array of input parts becomes the gate gradients da_t (row t is read
only at step t forward, written only at step t backward), and that array and act_h(c_t)
come from the wrapper's per-thread scratch (:mod:`nets._kernels.workspace`): fresh pages
for tens of MB per call can cost as much as the arithmetic [measured, one thread, against
the kernel without it in the same process: H = 128 B = 32 float64 1.16x faster at machine
load ~7, 1.00x at load ~1.7; H = 512 B = 32 1.03x (float64), 1.06x (float32)]. The bias sum db and the norms' per-unit
sums of squares are accumulated per row in the backward sweep while the row is in cache
(a float reduction over units does not vectorise; one over rows into a vector does). The sigmoid is
computed from :func:`nets._kernels.vecmath.exp_neg`, a branch-free exp(-u) for u >= 0 in plain arithmetic
(exp(-u/256) by a degree-11 Taylor polynomial, then eight squarings: relative error
< 1e-13 for u <= 40; u is clamped at 350, where only values below 4e-18 are affected),
and the sign of x as x / max(|x|, 1e-300) instead of a branch. Compiled with numpy's
error model (:func:`sim.jit.fma_kernel`: no ZeroDivisionError branch before each
division), LLVM vectorises these loops where ``math.exp``/``math.tanh`` are scalar calls
(DESIGN.md section 7): 409,600 of them take ~0.6 ms instead of ~13 ms here [measured].
"""
from __future__ import annotations

import math

import numpy as np

from sim.jit import fma_kernel

from .output_loss import logits_loss as _logits_loss
from .vecmath import product as _product
from .vecmath import weight_gradient as _weight_gradient
from .workspace import scratch
from .vecmath import sigmoid_t as _sig

__all__ = ["lstm_bptt", "covers", "bptt_fast", "LOSS_CODES", "SQUASHES"]

#: (loss name, output) -> code of the kernel's loss branch
LOSS_CODES = {("mse", "identity"): 0, ("bce", "sigmoid"): 1, ("cross_entropy", "softmax"): 2, ("mse", "sigmoid"): 3}

#: squash -> (m, k, a, identity, d0, d1, d2): y = m sigma(k x) + a (or x when identity = 1),
#: dy/dx = d0 + d1 y + d2 y^2 (tanh = 2 sigma(2x) - 1: 1 - y^2; sigma: y - y^2;
#: 4 sigma - 2: 1 - y^2 / 4; 2 sigma - 1: (1 - y^2) / 2)
SQUASHES = {"tanh": (2.0, 2.0, -1.0, 0.0, 1.0, 0.0, -1.0), "logistic": (1.0, 1.0, 0.0, 0.0, 0.0, 1.0, -1.0),
            "logistic2": (4.0, 1.0, -2.0, 0.0, 1.0, 0.0, -0.25), "logistic1": (2.0, 1.0, -1.0, 0.0, 0.5, 0.0, -0.5),
            "identity": (0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0)}


@fma_kernel
def lstm_bptt(p, xs, ys, state0, cfg, work, g):
    """Loss and all gradients of one batch, written into caller-allocated arrays.

    Parameters
    ----------
    p : tuple (W (4H, H), U (4H, I), b (4H,), P (3, H), V (K, H), c (K,), S (K, I)),
        C-contiguous (P is ignored, and may be zeros, without peepholes; S likewise
        without the shortcut)
    xs : ndarray (T, B, I);  ys : ndarray (Ty, B, K), Ty = T or 1 (the last step)
    state0 : tuple (h0 (B, H), c0 (B, H))
    cfg : tuple (scale, loss code of :data:`LOSS_CODES`, (peepholes, input gate, forget
        gate, output gate, coupled forget gate f = 1 - i) as 0./1., squash constants of
        act_g, of act_h (:data:`SQUASHES`), shortcut as bool); with the coupling the forget
        gate flag must be 0
        scale = 1 / (number of scored terms) for the mean, 1 for the sum
    work : tuple of outputs (hs (T+1, B, H), cs (T+1, B, H), act (T, B, 4H) gate
        activations i, f, g, o, dh_norm (T,), dc_norm (T,)) and scratch (hc (T, B, H)
        act_h(c_t), A (T*B, 4H) input parts U x_t + b (B < 8), then the gradients da_t,
        XH (T*B, H+I) rows [h_{t-1}, x_t] when the input product is fused (B >= 8 and
        4 I <= H; else unused))
    g : tuple (dW, dU, db, dP, dV, dc, dS) shaped like p, outputs (overwritten; dS only
        with the shortcut)

    Returns
    -------
    loss : float
    """
    W, U, b, P, V, c, S = p
    dW, dU, db, dP, dV, dc, dS = g
    hs, cs, act, dh_norm, dc_norm, hcs, A, XH = work
    scale, code, gates, gq, hq, shortcut = cfg
    T, B, I = xs.shape
    H = W.shape[1]
    H4 = 4 * H
    K = V.shape[0]
    Ty = ys.shape[0]
    t0 = T - Ty
    dt = xs.dtype
    # the switches and squash constants in the float type: a float64 constant in a float32
    # expression would promote the gate arithmetic to float64 (module docstring)
    kc = np.empty(25, dt)
    kv = gates + gq + hq + (1.0 - gates[1], 1.0 - gates[2], 1.0 - gates[3], 1.0 - gq[3], 1.0 - hq[3], 1.0)
    for n in range(25):
        kc[n] = kv[n]
    peep, ig, fg, og, cf = kc[0], kc[1], kc[2], kc[3], kc[4]
    g_m, g_k, g_a, g_id, g_d0, g_d1, g_d2 = kc[5], kc[6], kc[7], kc[8], kc[9], kc[10], kc[11]
    h_m, h_k, h_a, h_id, h_d0, h_d1, h_d2 = kc[12], kc[13], kc[14], kc[15], kc[16], kc[17], kc[18]
    nig, nfg, nog, ng_id, nh_id = kc[19], kc[20], kc[21], kc[22], kc[23]
    one = kc[24]
    fused = B >= 8 and 4 * I <= H  # the wider product costs I/H more per step: see the module docstring
    VT = np.ascontiguousarray(V.T)  # (H, K)
    tmp = np.empty((B, H4), dt)
    if fused:
        # one BLAS product per step, [h_{t-1}, x_t] [W U]^T; rows t*B.. of XH hold [h_{t-1}, x_t],
        # and after the loop XH^T DA is [dW dU] in one product
        WU = np.empty((H4, H + I), dt)
        WU[:, :H] = W
        WU[:, H:] = U
        WT = np.empty((1, H4), dt)
        xf = xs.reshape(T * B, I)
        for r in range(T * B):
            for k in range(I):
                XH[r, H + k] = xf[r, k]
    else:
        # the loop nest of _product wants W^T contiguous (a local copy: LLVM then knows it
        # aliases nothing, ~10 % faster at B = 1); U x_t + b for every step is one product
        WU = np.empty((1, 1), dt)
        WT = np.ascontiguousarray(W.T) if B < 8 else np.empty((1, H4), dt)  # (H, 4H)
        np.dot(xs.reshape(T * B, I), np.ascontiguousarray(U.T), A)
        for r in range(T * B):
            ar = A[r]
            for j in range(H4):
                ar[j] += b[j]
    for bb in range(B):
        for j in range(H):
            hs[0, bb, j] = state0[0][bb, j]
            cs[0, bb, j] = state0[1][bb, j]
            if fused:
                XH[bb, j] = state0[0][bb, j]
    for t in range(T):
        if fused:
            np.dot(XH[t * B:(t + 1) * B], WU.T, tmp)  # W h_{t-1} + U x_t, (B, 4H)
        elif B >= 8:
            np.dot(hs[t], W.T, tmp)  # W h_{t-1}: BLAS reads W^T in place
        else:
            _product(hs[t], WT, tmp)
        for bb in range(B):
            xr = b if fused else A[t * B + bb]  # what the product left out: b, or U x_t + b
            ar = tmp[bb]
            gr = act[t, bb]
            cp = cs[t, bb]
            cn = cs[t + 1, bb]
            hc = hcs[t, bb]
            hn = hs[t + 1, bb]
            for j in range(H):
                gr[j] = ig * _sig(ar[j] + xr[j] + peep * P[0, j] * cp[j]) + nig
            for j in range(H):  # f = sigma(.), 1 (no forget gate) or 1 - i (coupled)
                gr[H + j] = fg * _sig(ar[H + j] + xr[H + j] + peep * P[1, j] * cp[j]) + nfg - cf * gr[j]
            for j in range(H):
                x = ar[2 * H + j] + xr[2 * H + j]
                gr[2 * H + j] = g_id * x + ng_id * (g_m * _sig(g_k * x) + g_a)
            for j in range(H):
                cn[j] = gr[H + j] * cp[j] + gr[j] * gr[2 * H + j]
            for j in range(H):
                gr[3 * H + j] = og * _sig(ar[3 * H + j] + xr[3 * H + j] + peep * P[2, j] * cn[j]) + nog
            for j in range(H):
                x = cn[j]
                hc[j] = h_id * x + nh_id * (h_m * _sig(h_k * x) + h_a)
            for j in range(H):
                hn[j] = gr[3 * H + j] * hc[j]
            if fused and t + 1 < T:
                xh = XH[(t + 1) * B + bb]
                for j in range(H):
                    xh[j] = hn[j]
    # loss on the scored steps: Z becomes dL/dz
    hy = hs[t0 + 1:].reshape(Ty * B, H)
    Z = np.dot(hy, VT)  # (Ty*B, K)
    xy = xs[t0:].reshape(Ty * B, I)
    if shortcut:
        Z += np.dot(xy, np.ascontiguousarray(S.T))
    yf = ys.reshape(Ty * B, K)
    loss = _logits_loss(Z, c, yf, scale, code, dc)
    dV[:, :] = np.dot(Z.T, hy)
    if shortcut:
        dS[:, :] = np.dot(Z.T, xy)
    Dout = np.dot(Z, V)  # (Ty*B, H)
    # backward
    DA = A  # row t*B+b of U x_t + b is read only at step t of the forward sweep
    carry_h = np.zeros((B, H), dt)
    carry_c = np.zeros((B, H), dt)
    dcv = np.empty(H, dt)
    sqh = np.empty(H)  # per-unit sums of squares: the norms' reductions vectorise across units
    sqc = np.empty(H)
    for j in range(H4):
        db[j] = 0.0
    for t in range(T - 1, -1, -1):
        for j in range(H):
            sqh[j] = 0.0
            sqc[j] = 0.0
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
            for j in range(H):
                sqh[j] += ch[j] * ch[j]
            for j in range(H):
                dh = ch[j]
                o = gr[3 * H + j]
                y = hc[j]
                dao = og * dh * y * o * (one - o)
                da[3 * H + j] = dao
                dcj = dh * o * (h_d0 + y * (h_d1 + y * h_d2)) + cc[j] + peep * dao * P[2, j]
                dcv[j] = dcj
                i = gr[j]
                gg = gr[2 * H + j]
                da[j] = ig * dcj * (gg - cf * cp[j]) * i * (one - i)  # coupled: dL/di - dL/df
                da[2 * H + j] = dcj * i * (g_d0 + gg * (g_d1 + gg * g_d2))
            for j in range(H):
                sqc[j] += dcv[j] * dcv[j]
            for j in range(H):
                f = gr[H + j]
                da[H + j] = fg * dcv[j] * cp[j] * f * (one - f)
            for j in range(H):
                cc[j] = dcv[j] * gr[H + j] + peep * (da[j] * P[0, j] + da[H + j] * P[1, j])
            for j in range(H4):  # while the row is in cache
                db[j] += da[j]
        sh = 0.0
        sc = 0.0
        for j in range(H):
            sh += sqh[j]
            sc += sqc[j]
        dh_norm[t] = math.sqrt(sh)
        dc_norm[t] = math.sqrt(sc)
        if t > 0:
            _product(DA[t * B:(t + 1) * B], W, carry_h)
    if fused:
        dWU = np.empty((H4, H + I), dt)
        _weight_gradient(DA, XH, dWU)
        dW[:, :] = dWU[:, :H]
        dU[:, :] = dWU[:, H:]
    else:
        _weight_gradient(DA, hs[:T].reshape(T * B, H), dW)
        _weight_gradient(DA, xs.reshape(T * B, I), dU)
    for j in range(H):
        dP[0, j] = 0.0
        dP[1, j] = 0.0
        dP[2, j] = 0.0
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
    return (net.n_layers == 1 and not net.bidirectional and not cell.gate_recurrence
            and (name, net.output_activation) in LOSS_CODES and (truncate is None or truncate >= T))


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
    S = params.S if net.shortcut else np.zeros((K, xs.shape[2]), dtype)
    p = tuple(np.ascontiguousarray(a, dtype=dtype) for a in (params.W, params.U, params.b, P, params.V, params.c, S))
    h0, c0 = net._batch_state(state0, B, dtype)
    cell = net.cell
    gates = tuple(1.0 if on else 0.0 for on in (peep, cell.input_gate, cell.forget_gate and not cell.coupled,
                                                   cell.output_gate, cell.coupled))
    cfg = (float(scale), code, gates, SQUASHES[cell.cell_input], SQUASHES[cell.cell_output], net.shortcut)
    work = (np.empty((T + 1, B, H), dtype), np.empty((T + 1, B, H), dtype), np.empty((T, B, 4 * H), dtype),
            np.empty(T, dtype), np.empty(T, dtype), scratch("lstm_hc", (T, B, H), dtype),
            scratch("lstm_A", (T * B, 4 * H), dtype),
            scratch("lstm_XH", (T * B if B >= 8 and 4 * xs.shape[2] <= H else 1, H + xs.shape[2]), dtype))
    g = tuple(np.empty_like(a) for a in p)
    value = lstm_bptt(p, np.ascontiguousarray(xs, dtype=dtype), y3, (np.ascontiguousarray(h0[0]),
                      np.ascontiguousarray(c0[0])), cfg, work, g)
    grads = dict(zip(("W", "U", "b", "P", "V", "c", "S"), g))
    out = type(params)(*(grads[n] for n in params._fields))
    hs, cs, actv, dh_norm, dc_norm = work[:5]
    gates = {k: actv[..., n * H:(n + 1) * H] for n, k in enumerate("ifgo")}
    h, c = hs[1:], cs[1:]
    state = LSTMState(hs[-1][None], cs[-1][None])
    if squeeze:
        gates = {k: v[:, 0] for k, v in gates.items()}
        h, c, state = h[:, 0], c[:, 0], LSTMState(state.h[:, 0], state.c[:, 0])
    return float(value), out, {"dh_norm": dh_norm, "dc_norm": dc_norm, "h": h, "c": c, "gates": gates,
                               "state": state}
