"""Shape plumbing shared by the sequence nets (:mod:`nets.rnn`, :mod:`nets.jordan`,
:mod:`nets.lstm`, :mod:`nets.gru`).

Conventions (DESIGN.md section 3): a batch of sequences is xs (T, B, I), one sequence
(T, I) (the outputs are then squeezed back to (T, ...)); targets are ys (T, B, K), a
target per step (many-to-many), or (B, K), one target after the last step
(many-to-one), and (T, K) / (K,) for one sequence. Output nonlinearities
g in {identity, sigmoid, softmax} (softmax over the last axis).
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax

__all__ = ["torch_layers", "sequence_inputs", "sequence_targets", "check_truncate", "apply_output", "batch_state",
           "micro_ticks"]


def sequence_inputs(xs, n_inputs: int, *, keep_float32: bool = False) -> tuple[np.ndarray, bool]:
    """xs as (T, B, I) float64 (float32 kept with ``keep_float32``), and whether it was (T, I).

    Raises
    ------
    ValueError
        Unless xs is (T, B, n_inputs) or (T, n_inputs) with T >= 1.
    """
    xs = np.asarray(xs)
    if not (keep_float32 and xs.dtype == np.float32):
        xs = xs.astype(np.float64, copy=False)
    squeeze = xs.ndim == 2
    if squeeze:
        xs = xs[:, None, :]
    if xs.ndim != 3 or xs.shape[0] < 1 or xs.shape[2] != n_inputs:
        raise ValueError(f"xs must have shape (T, B, {n_inputs}) or (T, {n_inputs}) with T >= 1, "
                         f"got {np.shape(xs[:, 0] if squeeze else xs)}")
    return xs, squeeze


def sequence_targets(ys, T: int, B: int, K: int, squeeze: bool, *, dtype=np.float64) -> np.ndarray:
    """ys as (T, B, K) or (B, K) (from (T, K) / (K,) when the inputs were one sequence).

    ``dtype=None`` keeps the given float type.

    Raises
    ------
    ValueError
        Naming both accepted shapes.
    """
    ys = np.asarray(ys) if dtype is None else np.asarray(ys, dtype=dtype)
    if squeeze:
        ys = ys[:, None, :] if ys.ndim == 2 else ys[None, :]
    if ys.shape not in ((T, B, K), (B, K)):
        raise ValueError(f"targets must have shape ({T}, {B}, {K}) or ({B}, {K}), got {ys.shape}")
    return ys


def check_truncate(truncate) -> None:
    """BPTT(k) takes an int k >= 1 or None (full BPTT)."""
    if truncate is not None and (not isinstance(truncate, (int, np.integer)) or truncate < 1):
        raise ValueError(f"truncate must be an int >= 1 or None, got {truncate!r}")


def apply_output(name: str, z: np.ndarray) -> np.ndarray:
    """y = g(z) for g in {"identity", "sigmoid", "softmax"} (softmax over the last axis)."""
    if name == "identity":
        return z
    return sigmoid(z) if name == "sigmoid" else softmax(z)


def batch_state(s0, B: int, n: int) -> np.ndarray:
    """A fresh (B, n) float64 copy of an initial state given as (n,) (broadcast) or (B, n)."""
    s0 = np.asarray(s0, dtype=np.float64)
    if s0.shape == (n,):
        return np.broadcast_to(s0, (B, n)).copy()
    if s0.shape != (B, n):
        raise ValueError(f"state0 must have shape ({n},) or ({B}, {n}), got {s0.shape}")
    return s0.copy()


def micro_ticks(ticks: list, micro_every: int, phase: int) -> tuple[list, list, int]:
    """The states every ``micro_every`` ticks of a rollout (Net.rollout's micro record).

    Returns
    -------
    micro : list of the recorded states;  micro_at : list of their 1-based tick numbers;
    phase : the phase counter after the last tick
    """
    micro, micro_at = [], []
    if micro_every:
        for k in range(len(ticks)):
            phase += 1
            if phase == micro_every:
                phase = 0
                micro.append(ticks[k])
                micro_at.append(k + 1)
    return micro, micro_at, phase


def torch_layers(sd, net: str, *, optional: tuple[str, ...] = (),
                 extras: tuple[str, ...] = ()) -> tuple[dict, int, int, list[str]]:
    """Read the layout of a PyTorch ``nn.RNN``/``nn.GRU``/``nn.LSTM`` state dict.

    The values may be numpy arrays, anything array-like or torch tensors (read through
    ``.detach().cpu().numpy()``; torch itself is never imported). Returns the dict as
    float64 arrays, the number of layers L, of directions D and the key suffixes (``""``,
    ``"_reverse"``). Per layer and direction the keys ``weight_ih``, ``weight_hh``,
    ``bias_ih`` and ``bias_hh`` are required unless their prefix is in ``optional``, which
    may also name further per-layer keys (the LSTM's ``peephole``); ``extras`` are further
    whole keys allowed besides the output layer ``out.weight``/``out.bias``. Raises
    ValueError naming the missing and the unknown keys.
    """
    sd = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, dtype=np.float64)
          for k, v in sd.items()}
    L = 0
    while f"weight_ih_l{L}" in sd:
        L += 1
    if L == 0:
        raise ValueError(f"state dict has no 'weight_ih_l0': not a torch {net} state dict")
    D = 2 if "weight_ih_l0_reverse" in sd else 1
    sfx = ["", "_reverse"][:D]

    def keys(prefixes):
        return [f"{w}_l{k}{s}" for k in range(L) for s in sfx for w in prefixes]
    required = keys([w for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if w not in optional])
    missing = [n for n in required if n not in sd]
    extra = sorted(set(sd) - set(required) - set(keys(optional)) - {"out.weight", "out.bias", *extras})
    if missing or extra:
        raise ValueError(f"state dict keys do not describe a {L}-layer {net}: missing {missing}, unknown {extra}")
    return sd, L, D, sfx
