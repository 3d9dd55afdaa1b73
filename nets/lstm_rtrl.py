r"""The original LSTM learning algorithm (Hochreiter & Schmidhuber 1997, Appendix A): truncated RTRL, online.

Hochreiter, S. & Schmidhuber, J. (1997), Long short-term memory, Neural Computation
9(8):1735-1780, Section 4 and Appendix A.1. For the 1997 cell of :mod:`nets.lstm`
(no forget gate, no peepholes; input gate and output gate each present or fixed at 1;
any act_g, act_h; one layer, one direction; optional shortcut S) with the lab's
parameters W (4H, H), U (4H, I), b (4H,), V (K, H), c (K,), S (K, I):

    a_t = U x_t + W h_{t-1} + b,  i = sigma(a_i), g = act_g(a_g), o = sigma(a_o)
    c_t = c_{t-1} + i g,  h_t = o act_h(c_t),  z_t = V h_t + S x_t + c,  y_t = out(z_t)

The truncation of the paper: the net inputs a_t of the gates and cell inputs do not
depend on h_{t-1} for the gradient (the recurrent inputs are constants: errors arriving
at a_t are not propagated back in time, though they still change the weights into a_t),
so the only memory of the derivatives is the cell state itself. Forward accumulation of
the partials of c_t with respect to the weights into cell j's input and input gate
(row r of U, W, b, with m running over the sources v_t = (x_t, h_{t-1}, 1)):

    dc_tj/dw_{g_j, m} = dc_{t-1,j}/dw_{g_j, m} + i_tj act_g'(a_g,tj) v_tm
    dc_tj/dw_{i_j, m} = dc_{t-1,j}/dw_{i_j, m} + g_tj sigma'(a_i,tj) v_tm

(H x 2 x (I + H + 1) numbers: O(#weights into a cell) per cell and step). With the error
of step t, dz_t = dL_t/dz_t (the lab's ``output_loss`` of the step, sum reduction), the
step's truncated gradient is

    dV = dz_t h_t^T, dc = dz_t, dS = dz_t x_t^T,  dh_t = V^T dz_t
    output gate rows: da_o = dh_t act_h(c_t) sigma'(a_o);  d w_{o_j, m} = da_oj v_tm
    e_tj = dh_tj o_tj act_h'(c_tj)                       (dL_t/dc_tj, no future)
    cell input / input gate rows: d w_{r, m} = e_tj dc_tj/dw_{r, m}

and the forget-gate rows (absent) get 0. Online (:func:`rtrl_sequence` with ``step > 0``):
after every time step, w <- w - step * mask * (that gradient), and the next step runs with
the new weights (the partials carry on, computed with the weights of their own steps, as
RTRL does). The state (h, c) and the partials start at 0 for each sequence.

Exactness: with W = 0 nothing flows from h_{t-1} into a_t, the truncation drops nothing,
and the per-step gradients summed over a sequence at fixed weights equal the exact BPTT
gradient of the summed loss (``LSTM.bptt(..., reduction="sum")``; tests/test_lstm_rtrl.py).
With W != 0 they differ: the truncation is real.

The numpy path (:func:`rtrl_sequence_numpy`, one vectorised step at a time) is the
reference twin of the numba kernel :func:`nets._kernels.lstm_rtrl.rtrl_sequence_kernel`
(``fast=True``), which skips the zero entries of x_t (one-hot inputs: the paper's tasks).
"""
from __future__ import annotations

import numpy as np

from sim.train import output_loss
from .activations import sigmoid
from .lstm_cell import _act, _dact

__all__ = ["rtrl_covers", "check_rtrl_net", "rtrl_sequence", "rtrl_sequence_numpy", "RTRL_LOSSES"]

#: (loss, output) pairs the learner covers
RTRL_LOSSES = (("mse", "identity"), ("mse", "sigmoid"), ("bce", "sigmoid"))


def _reason(net) -> str | None:
    """Why the truncated-RTRL learner does not cover ``net`` (None: it does)."""
    if getattr(net, "kind", None) != "lstm":
        return f"needs an LSTM net, got kind {getattr(net, 'kind', None)!r}"
    c = net.cell
    if c.forget_gate or c.coupled:
        return "covers the 1997 cell only: no forget gate (forget_gate = false, not CIFG)"
    if c.peepholes or c.gate_recurrence:
        return "covers the 1997 cell only: no peepholes, no gate recurrence"
    if net.n_layers != 1 or net.bidirectional:
        return "covers one layer in one direction"
    return None


def rtrl_covers(net) -> bool:
    """Whether :func:`rtrl_sequence` can train ``net`` (the 1997 cell, one layer and direction)."""
    return _reason(net) is None


def check_rtrl_net(net) -> None:
    """ValueError unless :func:`rtrl_covers` ``net``."""
    why = _reason(net)
    if why is not None:
        raise ValueError(f"the 1997 truncated-RTRL learner {why}")


def _prepare(net, params, xs, ys, loss, masks):
    check_rtrl_net(net)
    if (loss, net.output_activation) not in RTRL_LOSSES:
        raise ValueError(f"loss {loss!r} with output {net.output_activation!r} is not covered; expected one of "
                         f"{RTRL_LOSSES}")
    fields = params._fields if hasattr(params, "_fields") else net.params._fields
    ps = list(params)
    if len(ps) != len(net.params) or any(np.shape(p) != np.shape(q) for p, q in zip(ps, net.params)):
        raise ValueError(f"params must match the net's fields {fields} and shapes")
    for p in ps:
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64 and p.flags.writeable and p.flags.c_contiguous):
            raise ValueError("params must be writable C-contiguous float64 arrays (updated in place)")
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if xs.ndim == 3:
        if xs.shape[1] != 1:
            raise ValueError(f"online learning reads one sequence: xs (T, 1, I) or (T, I), got {xs.shape}")
        xs = xs[:, 0]
    if ys.ndim == 3:
        if ys.shape[1] != 1:
            raise ValueError(f"ys must be (T, 1, K) or (T, K), got {ys.shape}")
        ys = ys[:, 0]
    T = xs.shape[0]
    if xs.ndim != 2 or xs.shape[1] != net.n_inputs:
        raise ValueError(f"xs must be (T, {net.n_inputs}), got {xs.shape}")
    if ys.shape != (T, net.n_outputs):
        raise ValueError(f"ys must be a target per step, (T, K) = ({T}, {net.n_outputs}), got {ys.shape}")
    ms = []
    for f, p in zip(fields, ps):
        m = None if masks is None else masks.get(f) if isinstance(masks, dict) else masks[fields.index(f)]
        ms.append(np.ones_like(p) if m is None else np.ascontiguousarray(np.broadcast_to(m, p.shape),
                                                                         dtype=np.float64))
    return fields, ps, ms, np.ascontiguousarray(xs), np.ascontiguousarray(ys)


def rtrl_sequence(net, params, xs, ys, *, loss: str = "mse", step: float = 0.0, masks=None, fast: bool = True):
    """Run one sequence from the zero state with the 1997 truncated gradient (module docstring).

    Parameters
    ----------
    net : LSTM covered by :func:`rtrl_covers` (its switches; its own weights are not used)
    params : NamedTuple of the net's fields (W, U, b, V, c[, S]), writable C-contiguous
        float64 arrays; with ``step > 0`` they are UPDATED IN PLACE after every time step
    xs : ndarray (T, I) or (T, 1, I);  ys : ndarray (T, K) or (T, 1, K) a target per step
    loss : "mse" (L_t = sum_k (y_tk - target_tk)^2, the lab's sum-reduced MSE) or "bce"
    step : float >= 0: w <- w - step * mask * dL_t/dw after each step t (0: no update)
    masks : dict field -> 0/1 array (absent fields: 1), optional: frozen entries are 0
    fast : use the numba kernel :mod:`nets._kernels.lstm_rtrl` (else the numpy twin)

    Returns
    -------
    loss : float, sum over t of L_t (each at the weights of step t)
    grads : NamedTuple like ``params``: the sum over t of the per-step truncated gradients
        dL_t/dw (each at the weights of step t; unmasked)
    """
    if not step >= 0.0:
        raise ValueError(f"step must be >= 0, got {step!r}")
    fields, ps, ms, xs, ys = _prepare(net, params, xs, ys, loss, masks)
    if fast:
        from ._kernels.lstm_rtrl import run_kernel
        value, gs = run_kernel(net, fields, ps, ms, xs, ys, loss, float(step))
    else:
        value, gs = _numpy(net, fields, ps, ms, xs, ys, loss, float(step))
    return value, type(params)(*gs) if hasattr(params, "_fields") else gs


def rtrl_sequence_numpy(net, params, xs, ys, *, loss: str = "mse", step: float = 0.0, masks=None):
    """:func:`rtrl_sequence` with ``fast=False`` (the reference twin of the kernel)."""
    return rtrl_sequence(net, params, xs, ys, loss=loss, step=step, masks=masks, fast=False)


def _numpy(net, fields, ps, ms, xs, ys, loss, step):
    """The vectorised-per-step numpy implementation (module docstring)."""
    cell = net.cell
    p = dict(zip(fields, ps))
    W, U, b, V, cb = p["W"], p["U"], p["b"], p["V"], p["c"]
    S = p.get("S")
    H, I = W.shape[1], U.shape[1]
    T = xs.shape[0]
    h, c = np.zeros(H), np.zeros(H)
    Pg = np.zeros((H, I + H + 1))   # dc_j / d(row g_j of [U | W | b])
    Pi = np.zeros((H, I + H + 1))   # dc_j / d(row i_j of [U | W | b])
    gs = {f: np.zeros_like(q) for f, q in p.items()}
    total = 0.0
    sl = {"i": slice(0, H), "g": slice(2 * H, 3 * H), "o": slice(3 * H, 4 * H)}
    for t in range(T):
        x = xs[t]
        v = np.concatenate([x, h, [1.0]])           # the sources of every gate's net input
        a = U @ x + W @ h + b
        i = sigmoid(a[sl["i"]]) if cell.input_gate else np.ones(H)
        g = _act(cell.cell_input, a[sl["g"]])
        o = sigmoid(a[sl["o"]]) if cell.output_gate else np.ones(H)
        Pg += (i * _dact(cell.cell_input, g))[:, None] * v
        if cell.input_gate:
            Pi += (g * i * (1.0 - i))[:, None] * v
        c = c + i * g
        hc = _act(cell.cell_output, c)
        h_new = o * hc
        z = V @ h_new + cb + (S @ x if S is not None else 0.0)
        value, dz = output_loss(loss, net.output_activation, z, ys[t], reduction="sum")
        total += value
        dh = V.T @ dz
        dao = dh * hc * o * (1.0 - o) if cell.output_gate else np.zeros(H)
        e = dh * o * _dact(cell.cell_output, hc)
        dA = np.zeros((4 * H, I + H + 1))            # the step's gradient of [U | W | b]
        dA[sl["i"]] = e[:, None] * Pi
        dA[sl["g"]] = e[:, None] * Pg
        dA[sl["o"]] = dao[:, None] * v
        g_t = {"U": dA[:, :I], "W": dA[:, I:I + H], "b": dA[:, I + H], "V": np.outer(dz, h_new), "c": dz}
        if S is not None:
            g_t["S"] = np.outer(dz, x)
        for f in fields:
            gs[f] += g_t[f]
            if step > 0.0:
                p[f] -= step * (ms[fields.index(f)] * g_t[f])
        h = h_new
    return total, [gs[f] for f in fields]
