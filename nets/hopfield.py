r"""Hopfield's associative memory: binary threshold units with symmetric couplings.

Units take two values: ``units="spin"`` (s_i = +-1, Amit-Gutfreund-Sompolinsky) or
``units="binary"`` (V_i in {0, 1}, the convention of Hopfield 1982). With couplings W
(zero diagonal), a gain ``scale`` and thresholds theta, the local field of unit i is

    f_i = scale * sum_j W_ij s_j - theta_i,

the deterministic update is s_i <- on (= 1) if f_i > 0, off (-1 or 0) if f_i < 0, and
unchanged if f_i = 0 (the tie keeps the state), and the energy (Hopfield 1982, Eq. 7)

    E(s) = -1/2 * scale * sum_{i != j} W_ij s_i s_j + sum_i theta_i s_i

never increases under single-unit (asynchronous) updates when W is symmetric with a zero
diagonal (Eq. 8: dE = -ds_i f_i <= 0). Synchronous (Little) updates may 2-cycle.

At temperature T > 0 updates follow Glauber / heat-bath dynamics:
P(s_i = 1) = 1 / (1 + exp(-2 f_i / T)) for spins and 1 / (1 + exp(-f_i / T)) for 0/1
units (the same Boltzmann distribution over each unit's two states).

Storage by the Hebb rule (Hopfield 1982, Eq. 2): W_ij = sum_mu xi_i^mu xi_j^mu with
xi = 2V - 1 for 0/1 patterns, W_ii = 0. The weights are kept as exact integers and
``scale = 1/N`` carries the usual normalisation, so that local fields are computed exactly
and ties (f_i = 0, frequent with an even number of memories) are resolved identically by
every code path.

References: J. J. Hopfield, PNAS 79:2554-2558 (1982); D. J. Amit, H. Gutfreund,
H. Sompolinsky, Phys. Rev. A 32:1007 (1985) and Ann. Phys. 173:30 (1987).
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from ._kernels import hopfield as _k

__all__ = ["Hopfield", "HopfieldState", "HopfieldParams", "hebb", "to_spin", "UNITS"]

UNITS = ("spin", "binary")


class HopfieldState(NamedTuple):
    s: np.ndarray  # (N,) int8: +-1 (spin) or 0/1 (binary)


class HopfieldParams(NamedTuple):
    W: np.ndarray      # (N, N) float64 couplings, zero diagonal
    theta: np.ndarray  # (N,) float64 thresholds


def to_spin(x: np.ndarray, units: str) -> np.ndarray:
    """Map states or patterns to +-1 (``2V - 1`` for 0/1 units), as int8."""
    x = np.asarray(x)
    return (2 * x.astype(np.int8) - 1).astype(np.int8) if units == "binary" else x.astype(np.int8)


def _check_patterns(patterns: np.ndarray, units: str) -> np.ndarray:
    P = np.asarray(patterns)
    if P.ndim != 2:
        raise ValueError(f"patterns must have shape (P, N), got {P.shape}")
    allowed = (0, 1) if units == "binary" else (-1, 1)
    if not np.all(np.isin(P, allowed)):
        raise ValueError(f"{units} patterns must hold only {allowed[0]} and {allowed[1]}")
    return P


def hebb(patterns: np.ndarray, *, units: str = "spin") -> tuple[np.ndarray, float]:
    """Hebbian couplings (Hopfield 1982, Eq. 2), exact integers, and the scale 1/N.

    Parameters
    ----------
    patterns : ndarray (P, N)
        Memories in the unit convention ``units``.

    Returns
    -------
    W : ndarray (N, N) float64
        ``W = Xi^T Xi`` with ``Xi = to_spin(patterns)`` and a zero diagonal.
    scale : float
        ``1 / N``, so that ``scale * W`` is the AGS normalisation ``(1/N) sum xi xi^T``.
    """
    X = to_spin(_check_patterns(patterns, units), units).astype(np.float64)  # (P, N)
    W = X.T @ X
    np.fill_diagonal(W, 0.0)
    return W, 1.0 / X.shape[1]


@register
class Hopfield(Net):
    """Hopfield network of ``N`` binary threshold units.

    Parameters
    ----------
    W : ndarray (N, N)
        Couplings; the diagonal must be zero. Asymmetric W is allowed (no Lyapunov
        function then).
    theta : ndarray (N,), optional
        Thresholds (Hopfield's U_i); zero by default.
    units : {"spin", "binary"}
    scale : float
        Gain multiplying ``W s`` in the field (1/N for Hebbian integer weights).
    """

    kind: ClassVar[str] = "hopfield"
    binary: ClassVar[bool] = True
    has_rollout: ClassVar[bool] = True
    State = HopfieldState

    def __init__(self, W, theta=None, *, units: str = "spin", scale: float = 1.0):
        if units not in UNITS:
            raise ValueError(f"units must be one of {UNITS}, got {units!r}")
        W = np.array(W, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
        if np.any(np.diag(W) != 0):
            raise ValueError("W must have a zero diagonal (no self-coupling)")
        if not np.all(np.isfinite(W)):
            raise ValueError("W holds NaN or inf")
        N = W.shape[0]
        theta = np.zeros(N) if theta is None else np.array(theta, dtype=np.float64, copy=True)
        if theta.shape != (N,):
            raise ValueError(f"theta must have shape ({N},), got {theta.shape}")
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
        W.setflags(write=False)
        theta.setflags(write=False)
        self.params = HopfieldParams(W, theta)
        self.units = units
        self.scale = float(scale)
        self.symmetric = bool(np.array_equal(W, W.T))
        self._Wt = W if self.symmetric else np.ascontiguousarray(W.T)
        self._lo = -1 if units == "spin" else 0
        self._consts = np.array([self.scale, self._lo, 2.0 if units == "spin" else 1.0])

    @classmethod
    def from_patterns(cls, patterns, *, units: str = "spin", rule: str = "hebb") -> "Hopfield":
        """A net storing ``patterns`` (P, N) with a storage rule (``"hebb"``)."""
        if rule != "hebb":
            raise ValueError(f"unknown storage rule {rule!r}; available: hebb")
        W, scale = hebb(patterns, units=units)
        return cls(W, units=units, scale=scale)

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "units": self.units,
                "scale": self.scale, "symmetric": self.symmetric}

    # --- states -----------------------------------------------------------------------
    def init_state(self, *, rng: np.random.Generator) -> HopfieldState:
        """Each unit on or off with probability 1/2."""
        on = rng.random(self.n_units) < 0.5
        return HopfieldState(np.where(on, 1, self._lo).astype(np.int8))

    def coerce_state(self, state):
        st = super().coerce_state(state)
        if not np.all((st.s == 1) | (st.s == self._lo)):
            raise ValueError(f"{self.units} states must hold only {self._lo} and 1")
        return st

    # --- the reference dynamics -------------------------------------------------------
    def field(self, state, x=None) -> np.ndarray:
        """Local fields f = scale * W s - theta, shape (N,)."""
        return self.scale * (self.params.W @ state.s.astype(np.float64)) - self.params.theta

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> HopfieldState:
        if x is not None:
            raise ValueError("a Hopfield net takes no input stream")
        s = state.s
        idx = np.arange(self.n_units) if units is None else np.asarray(units)
        f = self.scale * (self.params.W[idx] @ s.astype(np.float64)) - self.params.theta[idx]
        if T > 0:
            if u is None or len(u) != len(idx):
                raise ValueError(f"an update at T={T} needs one uniform per unit ({len(idx)})")
            gain = 2.0 if self.units == "spin" else 1.0
            a = np.clip(gain * f / T, -700.0, 700.0)
            new = np.where(np.asarray(u) < 1.0 / (1.0 + np.exp(-a)), 1, self._lo)
        else:
            new = np.where(f > 0, 1, np.where(f < 0, self._lo, s[idx]))
        out = s.copy()
        out[idx] = new
        return HopfieldState(out)

    def energy(self, state, x=None) -> float:
        """E = -1/2 scale s^T W s + theta^T s (Hopfield 1982, Eq. 7)."""
        s = state.s.astype(np.float64)
        return float(-0.5 * self.scale * (s @ self.params.W @ s) + self.params.theta @ s)

    def overlap(self, state, patterns: np.ndarray) -> np.ndarray:
        """m_mu = (1/N) sum_i xi_i^mu sigma_i in spin variables, shape (P,)."""
        X = to_spin(np.atleast_2d(patterns), self.units).astype(np.float64)
        return X @ to_spin(state.s, self.units).astype(np.float64) / self.n_units

    # --- the fast path ----------------------------------------------------------------
    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` over a chunk of ticks (see :func:`sim.simulate`)."""
        s = state.s.copy()
        h = np.empty(self.n_units)
        _k.fields(self._Wt, s, h)
        order = np.ascontiguousarray(drive["order"], dtype=np.int32)
        n, L = order.shape
        u = drive["u"] if drive["u"] is not None else np.zeros((n, 0))
        G = len(drive["ptr"]) - 1
        M = (n * G) // micro_every + 1 if micro_every else 0
        ticks = np.empty((n, self.n_units), dtype=np.int8)
        micro = np.empty((M, self.n_units), dtype=np.int8)
        micro_at = np.empty(M, dtype=np.int64)
        ctrl = np.array([micro_every, phase, int(stop_fixed), 0, 0], dtype=np.int64)
        _k.serial_rollout((self._Wt, self.params.theta, self._consts), s, h,
                          (order, np.asarray(drive["ptr"], dtype=np.int64), u,
                           np.ascontiguousarray(drive["T"], dtype=np.float64)),
                          (ticks, micro, micro_at), ctrl)
        done, n_micro = int(ctrl[4]), int(ctrl[3])
        return ([HopfieldState(ticks[k]) for k in range(done)],
                [HopfieldState(micro[k]) for k in range(n_micro)],
                micro_at[:n_micro].tolist(), done, int(ctrl[1]))
