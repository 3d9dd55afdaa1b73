r"""The continuous (graded-response) Hopfield net of Hopfield (1984), in discrete time.

Each unit i has an internal potential u_i and an output V_i = g(u_i). Hopfield (1984)
writes the circuit equations ([recalled, unverified] in SCENARIOS.md section 9; the
abstract [abstract] states the close correspondence with the two-state model)

    C_i du_i/dt = sum_j T_ij V_j - u_i / R_i + I_i,      V_i = g_i(u_i)

with a monotone sigmoid g. rnnlab uses one time constant tau = R C for every unit, the
symmetric convention

    V = g(u) = tanh(gain * u)        (outputs in (-1, 1), the +-1 spins of AGS)

instead of Hopfield's 0..1 outputs (the two are related by V' = (V + 1)/2 and a change of
T and I), and the explicit Euler step of size ``dt`` (time in the same units as tau):

    u_i <- u_i + dt * ( sum_j W_ij V_j + I_i - u_i / tau ).

One tick is one Euler step of every unit (``schedule = "sync"``); serial schedules update
one unit (group) at a time from the latest outputs. There is no temperature: the
dynamics are deterministic, and T > 0 is an error.

**Energy** (Hopfield 1984; a Lyapunov function of the continuous-time flow for symmetric W):

    E = -1/2 V^T W V - I^T V + (1/tau) sum_i int_0^{V_i} g^{-1}(v) dv,

and for g = tanh(gain u), g^{-1}(v) = artanh(v) / gain, the integral is in closed form

    int_0^V g^{-1}(v) dv = (V artanh V + 1/2 ln(1 - V^2)) / gain
                         = u V - ln cosh(gain u) / gain,

evaluated in the second form (finite even when V rounds to +-1). Along the flow,
dE/dt = -sum_i g'(u_i) (du_i/dt)^2 <= 0; :meth:`HopfieldContinuous.field` returns
du/dt = -dE/dV.

**When the Euler map keeps E non-increasing** (derived here, [computed]): G(V) = the
integral above is convex, so G(V') - G(V) <= u'_i (V'_i - V_i); with F = du/dt and
dV = V' - V (same sign as F, |dV_i| <= gain dt |F_i|),

    E(u') - E(u) <= -(1 - dt/tau) sum_i |dV_i| |F_i| - 1/2 dV^T W dV
                 <= -[ (1 - dt/tau) / (gain dt) + lambda_min(W) / 2 ] |dV|^2,

so a synchronous step never raises E when ``dt < tau`` and
``gain * dt * max(0, -lambda_min(W)) / 2 <= 1 - dt / tau`` (:meth:`monotone_bound`).
A serial step of one unit (W_ii >= 0) never raises E whenever dt <= tau. With a large
step the discrete map can oscillate and E can rise: the energy is a property of the flow,
not of every discretisation.

**High gain**: as gain -> infinity the minima of E move to the corners of the hypercube,
the stable states of the two-state net with the same W (Hopfield 1984 [abstract];
checked in ``tests/test_hopfield_continuous.py``).

Reference: J. J. Hopfield, "Neurons with graded response have collective computational
properties like those of two-state neurons", PNAS 81:3088-3092 (1984).
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from ._kernels import hopfield_continuous as _k
from .hopfield_rules import RULES

__all__ = ["HopfieldContinuous", "HopfieldContinuousState", "HopfieldContinuousParams", "log_cosh"]


class HopfieldContinuousState(NamedTuple):
    u: np.ndarray  # (N,) float64 internal potentials


class HopfieldContinuousParams(NamedTuple):
    W: np.ndarray  # (N, N) float64 couplings
    I: np.ndarray  # (N,) float64 bias currents


_LN2 = float(np.log(2.0))


def log_cosh(x: np.ndarray) -> np.ndarray:
    """ln cosh(x) without overflow: |x| + log1p(exp(-2|x|)) - ln 2."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return a + np.log1p(np.exp(-2.0 * a)) - _LN2


def _positive(value, name: str) -> float:
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


@register
class HopfieldContinuous(Net):
    """Graded-response Hopfield net, ``V = tanh(gain u)``, explicit Euler steps.

    Parameters
    ----------
    W : ndarray (N, N)
        Couplings (float64). Symmetric W gives the Lyapunov energy; any W runs.
    I : ndarray (N,), optional
        Bias currents; zero by default.
    gain : float
        Slope of the output function at u = 0 (V = tanh(gain u)).
    tau : float
        Time constant R C of every unit.
    dt : float
        Euler step, in the time units of ``tau`` (Hopfield's continuous time).
    """

    kind: ClassVar[str] = "hopfield_continuous"
    binary: ClassVar[bool] = False
    has_rollout: ClassVar[bool] = True
    State = HopfieldContinuousState
    config_keys: ClassVar[dict[str, Key]] = {
        "n_units": Key("int", min=1, doc="number of units N"),
        "gain": Key("float", default=10.0, min=1e-6, doc="output slope: V = tanh(gain u)"),
        "tau": Key("float", default=1.0, min=1e-9, doc="time constant R C"),
        "dt": Key("float", default=0.05, min=1e-9, doc="Euler step (time units of tau)"),
    }
    #: storage rules of the [train] table (the Hopfield registry; W becomes scale * W)
    rules: ClassVar[dict[str, dict[str, Key]]] = {name: r.keys for name, r in RULES.items()}

    def __init__(self, W, I=None, *, gain: float = 10.0, tau: float = 1.0, dt: float = 0.05):
        W = np.array(W, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
        N = W.shape[0]
        I = np.zeros(N) if I is None else np.array(I, dtype=np.float64, copy=True)
        if I.shape != (N,):
            raise ValueError(f"I must have shape ({N},), got {I.shape}")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(I))):
            raise ValueError("W and I must be finite")
        self.gain = _positive(gain, "gain")
        self.tau = _positive(tau, "tau")
        self.dt = _positive(dt, "dt")
        W.setflags(write=False)
        I.setflags(write=False)
        self.params = HopfieldContinuousParams(W, I)
        self.symmetric = bool(np.array_equal(W, W.T))
        self._consts = np.array([self.gain, self.tau, self.dt])
        self._Wt = W if self.symmetric else np.ascontiguousarray(W.T)

    @classmethod
    def from_patterns(cls, patterns, *, rule: str = "hebb", gain: float = 10.0, tau: float = 1.0,
                      dt: float = 0.05, **rule_keys) -> "HopfieldContinuous":
        """A net storing +-1 ``patterns`` (P, N) by a rule of :data:`nets.hopfield_rules.RULES`.

        The rule gives integer-valued couplings and a gain ``scale`` (1/N for Hebb); the net
        uses ``W = scale * W_rule``, the normalisation (1/N) sum_mu xi^mu xi^mu^T of AGS.
        """
        if rule not in RULES:
            raise ValueError(f"unknown storage rule {rule!r}; available: {', '.join(RULES)}")
        X = np.asarray(patterns)
        if X.ndim != 2 or not np.all(np.isin(X, (-1, 1))):
            raise ValueError(f"patterns must be a (P, N) array of +-1, got shape {X.shape}")
        W, scale = RULES[rule].fn(X.astype(np.int8), **rule_keys)
        return cls(np.asarray(W, dtype=np.float64) * scale, gain=gain, tau=tau, dt=dt)

    @classmethod
    def from_config(cls, net_cfg: dict, train_cfg: dict, patterns, *, rng: np.random.Generator):
        """The net of a scenario's [net] and [train] tables storing ``patterns`` (dense; ``rng`` unused)."""
        keys = {k: v for k, v in train_cfg.items() if k != "rule"}
        return cls.from_patterns(patterns, rule=train_cfg["rule"], gain=net_cfg["gain"], tau=net_cfg["tau"],
                                 dt=net_cfg["dt"], **keys)

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "gain": self.gain, "tau": self.tau,
                "dt": self.dt, "symmetric": self.symmetric}

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("the continuous Hopfield net is deterministic: it has no temperature (use T = 0)")
        return False

    # --- states -----------------------------------------------------------------------
    def init_state(self, *, rng: np.random.Generator) -> HopfieldContinuousState:
        """Potentials u_i uniform in (-1/gain, 1/gain): outputs |V_i| < tanh(1) = 0.76."""
        return HopfieldContinuousState(rng.uniform(-1.0, 1.0, self.n_units) / self.gain)

    def state_from_spins(self, s, amplitude: float = 1.0) -> HopfieldContinuousState:
        """The state with u = amplitude * s / gain for a +-1 configuration s (N,).

        With the default amplitude the outputs are V = +-tanh(1) = +-0.76: the sign of the
        configuration, not yet saturated.
        """
        s = np.asarray(s, dtype=np.float64)
        if s.shape != (self.n_units,):
            raise ValueError(f"s must have shape ({self.n_units},), got {s.shape}")
        return HopfieldContinuousState(amplitude * s / self.gain)

    def outputs(self, state) -> np.ndarray:
        """V = tanh(gain u), shape (N,)."""
        return np.tanh(self.gain * np.asarray(state.u, dtype=np.float64))

    def spins(self, state) -> np.ndarray:
        """sign(V) as int8 (N,): the corner of the hypercube the state points to (0 where V = 0)."""
        return np.sign(self.outputs(state)).astype(np.int8)

    # --- the reference dynamics -------------------------------------------------------
    def field(self, state, x=None) -> np.ndarray:
        """du/dt = W V + I - u / tau = -dE/dV, shape (N,)."""
        W, I = self.params
        return W @ self.outputs(state) + I - state.u / self.tau

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> HopfieldContinuousState:
        if x is not None:
            raise ValueError("a continuous Hopfield net takes no input stream")
        self.uses_noise(T)
        W, I = self.params
        V = self.outputs(state)
        idx = slice(None) if units is None else np.asarray(units)
        uu = state.u
        F = W[idx] @ V + I[idx] - uu[idx] / self.tau
        out = uu.copy()
        out[idx] = uu[idx] + self.dt * F
        return HopfieldContinuousState(out)

    def energy(self, state, x=None) -> float:
        """E = -1/2 V^T W V - I^T V + (1/tau) sum_i (u_i V_i - ln cosh(gain u_i) / gain)."""
        return float(self.energies(np.asarray(state.u, dtype=np.float64)[None, :])[0])

    def energies(self, U: np.ndarray) -> np.ndarray:
        """The energy of many states at once.

        Parameters
        ----------
        U : ndarray (R, N)
            Potentials, one state per row.

        Returns
        -------
        ndarray (R,)
        """
        W, I = self.params
        U = np.asarray(U, dtype=np.float64)
        A = self.gain * U                                             # (R, N)
        V = np.tanh(A)
        leak = (np.einsum("rn,rn->r", U, V) - log_cosh(A).sum(axis=1) / self.gain) / self.tau
        return -0.5 * np.einsum("rn,rn->r", V @ W.T, V) - V @ I + leak

    def overlap(self, state, patterns: np.ndarray) -> np.ndarray:
        """m_mu = (1/N) sum_i xi_i^mu V_i with +-1 patterns (P, N); graded, shape (P,)."""
        X = np.atleast_2d(np.asarray(patterns, dtype=np.float64))
        return X @ self.outputs(state) / self.n_units

    def monotone_bound(self) -> bool:
        """Whether the sufficient condition for a non-increasing energy under synchronous
        Euler steps holds: symmetric W, dt < tau and gain dt max(0, -lambda_min(W)) / 2 <=
        1 - dt / tau (see the module docstring)."""
        if not self.symmetric or self.dt >= self.tau:
            return False
        lam_min = float(np.linalg.eigvalsh(self.params.W)[0])
        return self.gain * self.dt * max(0.0, -lam_min) / 2.0 <= 1.0 - self.dt / self.tau

    # --- the fast path ----------------------------------------------------------------
    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` over a chunk of ticks (see :func:`sim.simulate`).

        Never stops early: the stop rules of :func:`sim.simulate` compare float states
        exactly, and the caller applies them to the returned ticks.
        """
        if drive.get("x") is not None:
            raise ValueError("a continuous Hopfield net takes no input stream")
        u = np.array(state.u, dtype=np.float64, copy=True)
        order = np.ascontiguousarray(drive["order"], dtype=np.int32)
        n = order.shape[0]
        G = len(drive["ptr"]) - 1
        M = (n * G) // micro_every + 1 if micro_every else 0
        ticks = np.empty((n, self.n_units))
        micro = np.empty((M, self.n_units))
        micro_at = np.empty(M, dtype=np.int64)
        ctrl = np.array([micro_every, phase, 0], dtype=np.int64)
        _k.euler_rollout((self.params.W, self._Wt, self.params.I, self._consts), u,
                         (order, np.asarray(drive["ptr"], dtype=np.int64)), (ticks, micro, micro_at), ctrl)
        n_micro = int(ctrl[2])
        return ([HopfieldContinuousState(ticks[k]) for k in range(n)],
                [HopfieldContinuousState(micro[k]) for k in range(n_micro)],
                micro_at[:n_micro].tolist(), n, int(ctrl[1]))
