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
from sim.schema import Key
from ._kernels import hopfield as _k
from .hopfield_rules import RULES, hebb_weights

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
    return (2 * x.astype(np.int8) - 1).astype(np.int8) if units == "binary" else x.astype(np.int8, copy=False)


def _check_patterns(patterns: np.ndarray, units: str) -> np.ndarray:
    P = np.asarray(patterns)
    if P.ndim != 2:
        raise ValueError(f"patterns must have shape (P, N), got {P.shape}")
    allowed = (0, 1) if units == "binary" else (-1, 1)
    if not np.all(np.isin(P, allowed)):
        raise ValueError(f"{units} patterns must hold only {allowed[0]} and {allowed[1]}")
    return P


_WEIGHT_DTYPES = ("float64", "int32", "int16")
_ROWS = 1024  # rows per block in matrix-vector products with large integer W


def _matvec(W: np.ndarray, s: np.ndarray, rows=None) -> np.ndarray:
    """(W[rows] @ s) in float64 without an N x N float copy of an integer W."""
    s = s.astype(np.float64)
    if W.dtype == np.float64:
        return (W if rows is None else W[rows]) @ s
    idx = np.arange(W.shape[0]) if rows is None else np.asarray(rows)
    out = np.empty(len(idx))
    for a in range(0, len(idx), _ROWS):
        out[a:a + _ROWS] = W[idx[a:a + _ROWS]].astype(np.float64) @ s
    return out


def _is_symmetric(W: np.ndarray) -> bool:
    """W == W.T, comparing each upper tile with its mirror (no N x N temporary)."""
    N = W.shape[0]
    for a in range(0, N, _ROWS):
        for c in range(a, N, _ROWS):
            if not np.array_equal(W[a:a + _ROWS, c:c + _ROWS], W[c:c + _ROWS, a:a + _ROWS].T):
                return False
    return True


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
    return hebb_weights(to_spin(_check_patterns(patterns, units), units))


@register
class Hopfield(Net):
    """Hopfield network of ``N`` binary threshold units.

    Parameters
    ----------
    W : ndarray (N, N)
        Couplings; the diagonal must be zero. Asymmetric W is allowed (no Lyapunov
        function then). int16/int32 matrices are kept as they are (exact integer
        weights in 1/4 or 1/2 of the memory); anything else becomes float64.
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
    #: scenario keys of a [net] table with kind = "hopfield"
    config_keys: ClassVar[dict[str, Key]] = {
        "n_units": Key("int", min=1, doc="number of units N"),
        "units": Key("str", default="spin", choices=UNITS, doc="+-1 spins or 0/1 units (Hopfield 1982)"),
        "weights": Key("str", default="float64", choices=_WEIGHT_DTYPES,
                       doc="storage of integer-valued weights (int16/int32 are exact and smaller)"),
        "topology": Key("str", default="dense", choices=("dense", "erdos_renyi", "watts_strogatz", "lattice")),
        "connectivity": Key("float", default=1.0, min=0.0, max=1.0, doc="edge probability (erdos_renyi)"),
        "k": Key("int", default=4, min=2, doc="neighbours (watts_strogatz ring, lattice 4 or 8)"),
        "rewire": Key("float", default=0.0, min=0.0, max=1.0, doc="rewiring probability (watts_strogatz)"),
    }

    def __init__(self, W, theta=None, *, units: str = "spin", scale: float = 1.0):
        if units not in UNITS:
            raise ValueError(f"units must be one of {UNITS}, got {units!r}")
        W = np.asarray(W)
        W = W if W.dtype in (np.int16, np.int32) else np.array(W, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
        if np.any(np.diag(W) != 0):
            raise ValueError("W must have a zero diagonal (no self-coupling)")
        if W.dtype == np.float64 and not np.all(np.isfinite(W)):
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
        self.symmetric = _is_symmetric(W)
        self._Wt = W if self.symmetric else np.ascontiguousarray(W.T)
        self._lo = -1 if units == "spin" else 0
        self._consts = np.array([self.scale, self._lo, 2.0 if units == "spin" else 1.0])

    #: storage rules and the keys of their [train] tables (see nets.hopfield_rules)
    rules: ClassVar[dict[str, dict[str, Key]]] = {name: r.keys for name, r in RULES.items()}

    @classmethod
    def from_patterns(cls, patterns, *, units: str = "spin", rule: str = "hebb", weights: str = "float64",
                      mask: np.ndarray | None = None, **rule_keys) -> "Hopfield":
        """A net storing ``patterns`` (P, N) by a storage rule of :data:`nets.hopfield_rules.RULES`.

        Parameters
        ----------
        patterns : ndarray (P, N)
            In the unit convention ``units``.
        rule : str
            Storage rule name; ``rule_keys`` are its options.
        weights : {"float64", "int32", "int16"}
            Integer storage, for rules with integer-valued weights (Hebb).
        mask : ndarray (N, N) of bool, optional
            Couplings outside the mask are cut (a diluted or structured topology, see
            :mod:`sim.graphs`). For Hebb the gain becomes 1 / (c N), c the fraction of
            couplings kept (the dilution), so that fields keep their scale.
        """
        if rule not in RULES:
            raise ValueError(f"unknown storage rule {rule!r}; available: {', '.join(RULES)}")
        if weights not in _WEIGHT_DTYPES:
            raise ValueError(f"weights must be one of {_WEIGHT_DTYPES}, got {weights!r}")
        r = RULES[rule]
        if weights != "float64" and not r.integer:
            raise ValueError(f"the {rule} rule has non-integer weights; use weights='float64'")
        X = to_spin(_check_patterns(patterns, units), units)
        if weights != "float64":
            W, scale = hebb_weights(X, dtype=weights) if rule == "hebb" else r.fn(X, **rule_keys)
            W = W.astype(weights, copy=False)
        else:
            W, scale = r.fn(X, **rule_keys)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != W.shape:
                raise ValueError(f"mask must have shape {W.shape}, got {mask.shape}")
            W = np.where(mask, W, 0).astype(W.dtype, copy=False)
            if rule == "hebb":  # 1 / (c N) with c the fraction of couplings kept (1/N when dense)
                N = W.shape[0]
                c = mask.sum() / max(N * (N - 1), 1)
                scale = 1.0 / (max(c, 1.0 / max(N - 1, 1)) * N)
        return cls(W, units=units, scale=scale)

    @classmethod
    def from_config(cls, net_cfg: dict, train_cfg: dict, patterns, *, rng: np.random.Generator) -> "Hopfield":
        """The net of a scenario's [net] and [train] tables storing ``patterns``.

        ``rng`` draws the random topology (erdos_renyi, watts_strogatz), if any.
        """
        from sim.graphs import topology_mask

        mask = None
        if net_cfg.get("topology", "dense") != "dense":
            mask = topology_mask(net_cfg["topology"], net_cfg["n_units"], rng=rng, connectivity=net_cfg["connectivity"],
                                 k=net_cfg["k"], rewire=net_cfg["rewire"])
        keys = {k: v for k, v in train_cfg.items() if k != "rule"}
        return cls.from_patterns(patterns, units=net_cfg.get("units", "spin"), rule=train_cfg["rule"],
                                 weights=net_cfg.get("weights", "float64"), mask=mask, **keys)

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
        return self.scale * _matvec(self.params.W, state.s) - self.params.theta

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> HopfieldState:
        if x is not None:
            raise ValueError("a Hopfield net takes no input stream")
        s = state.s
        idx = np.arange(self.n_units) if units is None else np.asarray(units)
        f = self.scale * _matvec(self.params.W, s, None if units is None else idx) - self.params.theta[idx]
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
        return float(-0.5 * self.scale * (s @ _matvec(self.params.W, state.s)) + self.params.theta @ s)

    def overlap(self, state, patterns: np.ndarray) -> np.ndarray:
        """m_mu = (1/N) sum_i xi_i^mu sigma_i in spin variables, shape (P,)."""
        X = to_spin(np.atleast_2d(patterns), self.units).astype(np.float64)
        return X @ to_spin(state.s, self.units).astype(np.float64) / self.n_units

    def state_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Successor tables of all 2^N states (sync (2^N,), single-unit (2^N, N)); see :mod:`nets.hopfield_states`."""
        from .hopfield_states import state_space

        return state_space(self)

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
