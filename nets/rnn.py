r"""A recurrent net with fixed weights, driven by an input stream.

    h_t = f(W h_{t-1} + U x_t + b),    h_{-1} = h0 (zero by default)

run with the ``clocked`` schedule: one input x_t per tick, all units updated together.
With W = [[1]], U = [[1]], b = 0 and the identity activation it is the counting network of
the course notes (worked example We): for a binary stream, h_t is the number of ones seen
so far. Training (BPTT, RTRL) and output layers belong to the sequence-nets work.

Note the accumulation order: the reference step computes ``W @ h + U @ x + b`` with numpy
(BLAS), the kernel accumulates ``b + sum_j W h + sum_j U x`` in a loop; they agree to
rounding (1e-12), exactly for integer-valued weights and inputs.
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from ._kernels import rnn as _k
from .activations import ACTIVATIONS, activation

__all__ = ["RNN", "RNNState", "RNNParams", "counter"]

_ACT_CODE = {"identity": 0, "tanh": 1, "relu": 2, "sigmoid": 3}


class RNNState(NamedTuple):
    h: np.ndarray  # (H,) float64


class RNNParams(NamedTuple):
    W: np.ndarray  # (H, H) recurrent weights
    U: np.ndarray  # (H, I) input weights
    b: np.ndarray  # (H,) biases


@register
class RNN(Net):
    """Fixed-weight recurrent net ``h_t = f(W h_{t-1} + U x_t + b)``.

    Parameters
    ----------
    W : ndarray (H, H)
    U : ndarray (H, I)
    b : ndarray (H,), optional
    activation : {"identity", "tanh", "relu", "sigmoid"}
    h0 : ndarray (H,), optional
        Initial state (zeros by default); ``init_state`` returns it.
    """

    kind: ClassVar[str] = "rnn"
    has_rollout: ClassVar[bool] = True
    State = RNNState

    def __init__(self, W, U, b=None, *, activation: str = "tanh", h0=None):
        W = np.array(W, dtype=np.float64, copy=True)
        U = np.array(U, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got {W.shape}")
        H = W.shape[0]
        if U.ndim != 2 or U.shape[0] != H:
            raise ValueError(f"U must have shape ({H}, n_inputs), got {U.shape}")
        b = np.zeros(H) if b is None else np.array(b, dtype=np.float64, copy=True)
        if b.shape != (H,):
            raise ValueError(f"b must have shape ({H},), got {b.shape}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        if not all(np.all(np.isfinite(a)) for a in (W, U, b)):
            raise ValueError("W, U and b must be finite")
        for a in (W, U, b):
            a.setflags(write=False)
        self.params = RNNParams(W, U, b)
        self.activation = activation
        self.n_inputs = U.shape[1]
        self._h0 = np.zeros(H) if h0 is None else np.array(h0, dtype=np.float64)
        if self._h0.shape != (H,):
            raise ValueError(f"h0 must have shape ({H},), got {self._h0.shape}")

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs,
                "activation": self.activation}

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("an RNN is deterministic: it has no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> RNNState:
        return RNNState(self._h0.copy())

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> RNNState:
        if x is None:
            raise ValueError("an RNN step needs the input x_t")
        W, U, b = self.params
        idx = slice(None) if units is None else np.asarray(units)
        z = W[idx] @ state.h + U[idx] @ np.asarray(x, dtype=np.float64) + b[idx]
        out = state.h.copy()
        out[idx] = activation(self.activation)(z)
        return RNNState(out)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` (all units every tick; the clocked plan)."""
        if len(drive["ptr"]) != 2:
            raise ValueError("the RNN fast path updates all units together (schedule 'clocked')")
        xs = np.ascontiguousarray(drive["x"], dtype=np.float64)
        h = state.h.copy()
        out = np.empty((len(xs), self.n_units))
        _k.forward(tuple(self.params), h, xs, _ACT_CODE[self.activation], out)
        ticks = [RNNState(out[k]) for k in range(len(xs))]
        micro, micro_at = [], []
        if micro_every:
            for k in range(len(xs)):
                phase += 1
                if phase == micro_every:
                    phase = 0
                    micro.append(ticks[k])
                    micro_at.append(k + 1)
        return ticks, micro, micro_at, len(xs), phase


def counter() -> RNN:
    """The counting network h_t = x_t + h_{t-1} (identity activation, h_{-1} = 0)."""
    return RNN([[1.0]], [[1.0]], [0.0], activation="identity")
