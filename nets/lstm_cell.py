r"""The numpy LSTM cell of :mod:`nets.lstm`: its switches and one layer's forward and BPTT.

The equations, the variants and the truncation rule are documented in :mod:`nets.lstm`;
this module holds the reference (numpy) implementation that covers every switch and is
the twin of the fused kernel :mod:`nets._kernels.lstm`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activations import sigmoid

__all__ = ["CELL_INPUTS", "CELL_OUTPUTS", "VARIANTS", "Cell", "resolve_cell", "layer_forward", "layer_backward"]

CELL_INPUTS = ("tanh", "logistic", "logistic2", "identity")
CELL_OUTPUTS = ("tanh", "logistic1", "identity")

#: what each Greff et al. variant changes relative to "vanilla"
VARIANTS: dict[str, dict] = {
    "vanilla": {},
    "NIG": {"input_gate": False},
    "NFG": {"forget_gate": False},
    "NOG": {"output_gate": False},
    "NIAF": {"cell_input": "identity"},
    "NOAF": {"cell_output": "identity"},
    "NP": {"peepholes": False},
    "CIFG": {"coupled": True},
    "FGR": {"gate_recurrence": True},
}
_BASE = {"input_gate": True, "forget_gate": True, "output_gate": True, "peepholes": True,
         "coupled": False, "gate_recurrence": False, "cell_input": "tanh", "cell_output": "tanh"}


class Cell(NamedTuple):
    """The resolved switches of one LSTM cell."""

    input_gate: bool
    forget_gate: bool
    output_gate: bool
    peepholes: bool
    coupled: bool
    gate_recurrence: bool
    cell_input: str
    cell_output: str


def resolve_cell(variant: str = "vanilla", **switches) -> Cell:
    """The :class:`Cell` of ``variant`` with the switches that are not None applied."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    cfg = {**_BASE, **VARIANTS[variant]}
    for k, v in switches.items():
        if k not in ("forget_gate", "peepholes", "cell_input", "cell_output"):
            raise TypeError(f"unknown switch {k!r}")
        if v is None:
            continue
        if k in VARIANTS[variant] and VARIANTS[variant][k] != v:
            raise ValueError(f"variant {variant!r} sets {k}={VARIANTS[variant][k]!r}; it cannot be {v!r}")
        if variant == "CIFG" and k == "forget_gate" and not v:
            raise ValueError("variant 'CIFG' couples the forget gate to the input gate; forget_gate=False "
                             "contradicts it")
        cfg[k] = v
    if cfg["cell_input"] not in CELL_INPUTS:
        raise ValueError(f"unknown cell_input {cfg['cell_input']!r}; expected one of {', '.join(CELL_INPUTS)}")
    if cfg["cell_output"] not in CELL_OUTPUTS:
        raise ValueError(f"unknown cell_output {cfg['cell_output']!r}; expected one of {', '.join(CELL_OUTPUTS)}")
    return Cell(**{k: cfg[k] for k in Cell._fields})


# --- squashes ----------------------------------------------------------------------------
def _act(name: str, a: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(a)
    if name == "logistic":
        return sigmoid(a)
    if name == "logistic2":
        return 4.0 * sigmoid(a) - 2.0
    if name == "logistic1":
        return 2.0 * sigmoid(a) - 1.0
    return a.copy()


def _dact(name: str, y: np.ndarray) -> np.ndarray:
    """Derivative of squash ``name`` from its value y."""
    if name == "tanh":
        return 1.0 - y * y
    if name == "logistic":
        return y * (1.0 - y)
    if name == "logistic2":
        s = (y + 2.0) * 0.25
        return 4.0 * s * (1.0 - s)
    if name == "logistic1":
        s = (y + 1.0) * 0.5
        return 2.0 * s * (1.0 - s)
    return np.ones_like(y)


# --- one layer, one direction: forward and backward ---------------------------------------
def layer_forward(cell: Cell, blk: dict, xs: np.ndarray, h0: np.ndarray, c0: np.ndarray, q0=None) -> dict:
    """Run one layer in one direction over xs (T, B, I) from (h0, c0) (B, H) (and q0 (B, 3H), FGR).

    ``blk`` holds W (4H, H), U (4H, I), b (4H,) and, when the cell has them, P (3, H),
    G (3H, 3H). Returns the cache: "h", "c" (T+1, B, H) with index 0 the initial state,
    gates "i", "f", "g", "o" (T, B, H) (1 for an absent gate), "hc" = act_h(c_t) (T, B, H),
    "q" (T+1, B, 3H) previous gate activations (FGR only).
    """
    W, U, b = blk["W"], blk["U"], blk["b"]
    T, B, _ = xs.shape
    H = W.shape[1]
    A = xs @ U.T + b  # (T, B, 4H)
    hs = np.empty((T + 1, B, H))
    cs = np.empty((T + 1, B, H))
    hs[0], cs[0] = h0, c0
    gates = {k: np.empty((T, B, H)) for k in "ifgo"}
    hc = np.empty((T, B, H))
    q = np.zeros((T + 1, B, 3 * H)) if cell.gate_recurrence else None
    if q is not None and q0 is not None:
        q[0] = q0
    ones = np.ones((B, H))
    for t in range(T):
        a = A[t] + hs[t] @ W.T
        if cell.gate_recurrence:
            r = q[t] @ blk["G"].T  # (B, 3H)
            a[:, :2 * H] += r[:, :2 * H]
            a[:, 3 * H:] += r[:, 2 * H:]
        if cell.peepholes:
            a[:, :H] += blk["P"][0] * cs[t]
            a[:, H:2 * H] += blk["P"][1] * cs[t]
        i = sigmoid(a[:, :H]) if cell.input_gate else ones
        f = 1.0 - i if cell.coupled else sigmoid(a[:, H:2 * H]) if cell.forget_gate else ones
        g = _act(cell.cell_input, a[:, 2 * H:3 * H])
        cs[t + 1] = f * cs[t] + i * g
        ao = a[:, 3 * H:]
        if cell.peepholes:
            ao = ao + blk["P"][2] * cs[t + 1]
        o = sigmoid(ao) if cell.output_gate else ones
        hc[t] = _act(cell.cell_output, cs[t + 1])
        hs[t + 1] = o * hc[t]
        gates["i"][t], gates["f"][t], gates["g"][t], gates["o"][t] = i, f, g, o
        if cell.gate_recurrence:
            q[t + 1] = np.concatenate([i, f, o], axis=-1)
    return {"h": hs, "c": cs, "hc": hc, "q": q, **gates}


def _cell_back(cell: Cell, blk: dict, cache: dict, t: int, dh, dcn, dqn):
    """Backward through the cell at step t for gradients with leading axes (..., B, H).

    dh: dL/dh_t, dcn: gradient at c_t from step t+1, dqn: at q_t from step t+1 (or None).
    Returns (da (..., B, 4H), dc_t total, dh_{t-1}, dc_{t-1}, dq_{t-1} or None).
    """
    H = dh.shape[-1]
    i, f, g, o = cache["i"][t], cache["f"][t], cache["g"][t], cache["o"][t]
    c_prev = cache["c"][t]
    hc = cache["hc"][t]
    zero = np.zeros_like(dh)
    if cell.output_gate:
        do = dh * hc + (dqn[..., 2 * H:] if dqn is not None else 0.0)
        da_o = do * o * (1.0 - o)
    else:
        da_o = zero
    dc = dh * o * _dact(cell.cell_output, hc) + dcn
    if cell.peepholes:
        dc = dc + da_o * blk["P"][2]
    di = dc * g
    df = dc * c_prev
    if dqn is not None:
        di = di + dqn[..., :H]
        df = df + dqn[..., H:2 * H]
    if cell.coupled:
        di = di - df
    da_i = di * i * (1.0 - i) if cell.input_gate else zero
    da_f = df * f * (1.0 - f) if (cell.forget_gate and not cell.coupled) else zero
    da_g = dc * i * _dact(cell.cell_input, g)
    dc_prev = dc * f
    if cell.peepholes:
        dc_prev = dc_prev + da_i * blk["P"][0] + da_f * blk["P"][1]
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)
    dh_prev = da @ blk["W"]
    dq_prev = np.concatenate([da_i, da_f, da_o], axis=-1) @ blk["G"] if cell.gate_recurrence else None
    return da, dc, dh_prev, dc_prev, dq_prev


def layer_backward(cell: Cell, blk: dict, xs: np.ndarray, cache: dict, dh_out: np.ndarray,
                   truncate: int | None, dh_final=None, dc_final=None):
    """BPTT through one layer and direction, given dL/dh_t from outside (T, B, H).

    ``dh_final``, ``dc_final`` (B, H), optional: extra gradients on the final h_{T-1},
    c_{T-1} (in processing order), entering with age 0 like a loss term at step T-1.

    Returns (grads dict shaped like ``blk``, dx (T, B, I), dh (T, B, H) = dL/dh_t,
    dc (T, B, H) = dL/dc_t, dh0 (B, H) = dL/dh0, dc0 (B, H) = dL/dc0); ``truncate`` as in
    the module docstring (into (h0, c0) only the gradients that took at most k - 1
    transitions, the step into the initial state counted as one). The FGR gate memory
    q0 = 0 is a constant, not a state: its gradient is not returned.
    """
    T, B, H = dh_out.shape
    k = 1 if truncate is None else int(min(truncate, T))
    Gh = np.zeros((k, B, H))
    Gc = np.zeros((k, B, H))
    Gq = np.zeros((k, B, 3 * H)) if cell.gate_recurrence else None
    DA = np.empty((T, B, 4 * H))
    dh = np.empty((T, B, H))
    dc = np.empty((T, B, H))
    for t in range(T - 1, -1, -1):
        if truncate is not None:  # every age moves one step back; the oldest drops
            Gh[1:], Gc[1:] = Gh[:-1].copy(), Gc[:-1].copy()
            Gh[0], Gc[0] = 0.0, 0.0
            if Gq is not None:
                Gq[1:] = Gq[:-1].copy()
                Gq[0] = 0.0
        Gh[0] += dh_out[t]
        if t == T - 1:
            if dh_final is not None:
                Gh[0] += dh_final
            if dc_final is not None:
                Gc[0] += dc_final
        dh[t] = Gh.sum(axis=0)
        da, dct, Gh, Gc, Gq = _cell_back(cell, blk, cache, t, Gh, Gc, Gq)
        dc[t] = dct.sum(axis=0)
        DA[t] = da.sum(axis=0)
    # after the step into (h0, c0), age j has taken j + 1 transitions: keep j <= truncate - 2
    keep = k if truncate is None else int(truncate) - 1
    dh0, dc0 = Gh[:keep].sum(axis=0), Gc[:keep].sum(axis=0)
    grads = {"W": np.einsum("tbi,tbj->ij", DA, cache["h"][:-1]),
             "U": np.einsum("tbi,tbj->ij", DA, xs),
             "b": DA.sum(axis=(0, 1))}
    if cell.peepholes:
        grads["P"] = np.stack([np.einsum("tbh,tbh->h", DA[..., :H], cache["c"][:-1]),
                               np.einsum("tbh,tbh->h", DA[..., H:2 * H], cache["c"][:-1]),
                               np.einsum("tbh,tbh->h", DA[..., 3 * H:], cache["c"][1:])])
    if cell.gate_recurrence:
        dq = np.concatenate([DA[..., :2 * H], DA[..., 3 * H:]], axis=-1)
        grads["G"] = np.einsum("tbi,tbj->ij", dq, cache["q"][:-1])
    return grads, DA @ blk["U"], dh, dc, dh0, dc0
