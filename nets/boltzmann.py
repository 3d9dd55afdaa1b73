r"""The Boltzmann machine: stochastic binary units with symmetric couplings, hidden units.

Units s_i in {0, 1} are split into a *visible* and a *hidden* group. With symmetric
weights w_ij = w_ji (zero diagonal) and biases b_i the energy of a global state is
(Ackley, Hinton & Sejnowski 1985, Eq. 1, biases as weights to an always-on unit)

    E(s) = - sum_i b_i s_i - sum_{i<j} w_ij s_i s_j,

and a unit probed at temperature T turns on with the heat-bath (Gibbs) probability

    P(s_i = 1) = sigma(dE_i / T) = 1 / (1 + exp(-dE_i / T)),   dE_i = b_i + sum_j w_ij s_j,

dE_i = E(s_i = 0) - E(s_i = 1) being the energy gap of unit i. Probing units one at a
time (schedules ``sequential``, ``random``, ``random-site``, or ``chromatic`` classes of
mutually unconnected units) leaves the Boltzmann distribution P(s) = exp(-E(s)/T) / Z
invariant; :mod:`nets.boltzmann_exact` enumerates it for small machines.

**T = 0** is the deterministic limit of the same rule: s_i <- 1 if dE_i > 0, 0 if
dE_i < 0, unchanged on a tie (the zero-temperature limit of the Gibbs update, with the
tie convention of the Hopfield net). The machine is ``stochastic``: it consumes one
uniform per probe at every T (also at T = 0, where the uniform is ignored), so the noise
stream of a run never depends on the temperature schedule.

**Implementation.** With 0/1 units, thresholds theta = -b and gain 1, the Glauber update
of :class:`nets.hopfield.Hopfield` at temperature T is exactly this Gibbs update and its
energy is exactly E above, so a machine holds a private binary Hopfield net and uses its
pure ``step`` and its numba rollout (:mod:`nets._kernels.hopfield`, which keeps the local
fields W s up to date, O(N) per flip).

**Clamping.** :meth:`BoltzmannMachine.clamp` fixes a subset c of units to values v_c and
returns the *conditional machine* on the free units f: weights W_ff, biases
b_f + W_fc v_c and an energy offset -b_c.v_c - 1/2 v_c W_cc v_c, so that its energy of
s_f is the full energy of (s_f, v_c) and its Boltzmann distribution is P(s_f | s_c = v_c).
Every schedule and temperature schedule of :func:`sim.simulate` runs on it unchanged;
:class:`Clamping` maps free-unit states back to full states. (The noisy clamping of
Ackley, Hinton & Sejnowski, where clamped bits are flipped at random, is not yet here.)

References: D. H. Ackley, G. E. Hinton, T. J. Sejnowski, "A learning algorithm for
Boltzmann machines", Cognitive Science 9:147-169 (1985) [paper]; G. E. Hinton,
T. J. Sejnowski, "Learning and relearning in Boltzmann machines", PDP vol. 1 ch. 7 (1986).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from .boltzmann_learning import TWO_PHASE_KEYS
from .hopfield import Hopfield, HopfieldState

__all__ = ["BoltzmannMachine", "BoltzmannState", "BoltzmannParams", "Clamping", "connectivity_mask"]


class BoltzmannState(NamedTuple):
    s: np.ndarray  # (N,) int8 in {0, 1}


class BoltzmannParams(NamedTuple):
    W: np.ndarray  # (N, N) float64, symmetric, zero diagonal
    b: np.ndarray  # (N,) float64 biases


@dataclass(frozen=True)
class Clamping:
    """How the free units of a conditional machine sit inside the full machine.

    Attributes
    ----------
    n_full : int
        Units of the full machine.
    free : ndarray (F,) int64
        Full-machine indices of the free units (free unit k is full unit ``free[k]``).
    clamped : ndarray (C,) int64
        Full-machine indices of the clamped units.
    values : ndarray (C,) int8
        Their 0/1 values.
    """

    n_full: int
    free: np.ndarray
    clamped: np.ndarray
    values: np.ndarray

    def full(self, s_free: np.ndarray) -> np.ndarray:
        """Full states from free-unit states: (..., F) -> (..., n_full) int8."""
        s_free = np.asarray(s_free)
        if s_free.shape[-1] != len(self.free):
            raise ValueError(f"free-unit states must have last axis {len(self.free)}, got {s_free.shape}")
        out = np.empty(s_free.shape[:-1] + (self.n_full,), dtype=np.int8)
        out[..., self.free] = s_free
        out[..., self.clamped] = self.values
        return out

    def restrict(self, s_full: np.ndarray) -> np.ndarray:
        """Free-unit part of full states: (..., n_full) -> (..., F) int8."""
        s_full = np.asarray(s_full)
        if s_full.shape[-1] != self.n_full:
            raise ValueError(f"full states must have last axis {self.n_full}, got {s_full.shape}")
        return s_full[..., self.free].astype(np.int8)


def connectivity_mask(sizes: dict[str, int], connect: Iterable[tuple[str, str]]) -> np.ndarray:
    """A symmetric boolean coupling mask from a group-to-group specification.

    Parameters
    ----------
    sizes : dict name -> int
        Groups in unit order: the first ``sizes[g0]`` units form g0, and so on.
    connect : iterable of (name, name)
        Connected group pairs; ``(g, g)`` connects a group internally (no self-couplings).
        The encoder of Ackley, Hinton & Sejnowski: ``{("V1", "V1"), ("V2", "V2"),
        ("V1", "H"), ("V2", "H")}``.

    Returns
    -------
    ndarray (N, N) bool, symmetric, zero diagonal.
    """
    sl, start = {}, 0
    for name, n in sizes.items():
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"group {name!r} must have a size >= 0, got {n!r}")
        sl[name] = slice(start, start + int(n))
        start += int(n)
    mask = np.zeros((start, start), dtype=bool)
    for pair in connect:
        if len(pair) != 2:
            raise ValueError(f"connections are (group, group) pairs, got {pair!r}")
        a, b = pair
        for g in (a, b):
            if g not in sl:
                raise ValueError(f"unknown group {g!r} in connection {pair!r}; groups: {', '.join(sl)}")
        mask[sl[a], sl[b]] = True
        mask[sl[b], sl[a]] = True
    np.fill_diagonal(mask, False)
    return mask


def _mask_array(mask, N: int) -> np.ndarray:
    """A boolean (N, N) mask from an array or a networkx graph on nodes 0..N-1."""
    if hasattr(mask, "edges") and hasattr(mask, "nodes"):
        M = np.zeros((N, N), dtype=bool)
        for i, j in mask.edges():
            M[int(i), int(j)] = M[int(j), int(i)] = True
        return M
    M = np.asarray(mask, dtype=bool)
    if M.shape != (N, N):
        raise ValueError(f"mask must have shape {(N, N)}, got {M.shape}")
    if not np.array_equal(M, M.T):
        raise ValueError("a coupling mask must be symmetric")
    return M


@register
class BoltzmannMachine(Net):
    """A Boltzmann machine of ``N`` stochastic 0/1 units.

    Parameters
    ----------
    W : ndarray (N, N)
        Symmetric couplings with a zero diagonal.
    b : ndarray (N,), optional
        Biases (zero by default).
    visible : int or array of int, optional
        The visible units: a count (units 0..visible-1) or indices. All units by default.
    mask : ndarray (N, N) bool or networkx.Graph, optional
        Allowed couplings; W must vanish outside it (learning rules keep it).
    named_groups : dict name -> array of int, optional
        Further named unit sets returned by :meth:`groups` (e.g. V1, V2, H).
    energy_offset : float
        Constant added to the energy (a conditional machine's clamped part).
    clamping : Clamping, optional
        Set by :meth:`clamp`: where this machine's units sit in the full machine.
    """

    kind: ClassVar[str] = "boltzmann"
    stochastic: ClassVar[bool] = True
    binary: ClassVar[bool] = True
    has_rollout: ClassVar[bool] = True
    default_temperature: ClassVar[float] = 1.0
    State = BoltzmannState
    #: [net] keys of scenario files: the encoder wiring of Ackley et al. 1985 (V1, V2 from [data] v)
    config_keys: ClassVar[dict[str, Key]] = {
        "wiring": Key("str", default="encoder", choices=("encoder",), doc="V1, V2 complete inside, both to H"),
        "n_hidden": Key("int", min=1, doc="hidden units (group H)"),
        "biases": Key("bool", default=True, doc="learn biases (weights to an always-on unit)"),
    }
    #: [train] rules (nets.boltzmann_learning)
    rules: ClassVar[dict[str, dict[str, Key]]] = {"two_phase": TWO_PHASE_KEYS}

    def __init__(self, W, b=None, *, visible=None, mask=None, named_groups=None,
                 energy_offset: float = 0.0, clamping: Clamping | None = None):
        W = np.array(W, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
        N = W.shape[0]
        if not np.all(np.isfinite(W)):
            raise ValueError("W holds NaN or inf")
        if np.any(np.diag(W) != 0):
            raise ValueError("W must have a zero diagonal (no self-coupling)")
        if not np.array_equal(W, W.T):
            raise ValueError("a Boltzmann machine needs symmetric weights (W == W.T)")
        b = np.zeros(N) if b is None else np.array(b, dtype=np.float64, copy=True)
        if b.shape != (N,) or not np.all(np.isfinite(b)):
            raise ValueError(f"b must be a finite array of shape ({N},), got {b.shape}")
        if visible is None:
            vis = np.arange(N)
        elif isinstance(visible, (int, np.integer)) and not isinstance(visible, bool):
            if not 0 <= visible <= N:
                raise ValueError(f"visible count must be in [0, {N}], got {visible}")
            vis = np.arange(int(visible))
        else:
            vis = np.unique(np.asarray(visible, dtype=np.int64))
            if len(vis) != len(np.asarray(visible)) or (len(vis) and (vis[0] < 0 or vis[-1] >= N)):
                raise ValueError(f"visible must be distinct unit indices in [0, {N})")
        self.mask = None if mask is None else _mask_array(mask, N)
        if self.mask is not None:
            self.mask.setflags(write=False)
            if np.any(W[~self.mask] != 0):
                raise ValueError("W has couplings outside the connectivity mask")
        W.setflags(write=False)
        b.setflags(write=False)
        self.params = BoltzmannParams(W, b)
        self.visible = vis.astype(np.int64)
        self.hidden = np.setdiff1d(np.arange(N), vis).astype(np.int64)
        self.named_groups = {k: np.asarray(v, dtype=np.int64) for k, v in (named_groups or {}).items()}
        for k in ("visible", "hidden", "all"):
            if k in self.named_groups:
                raise ValueError(f"group name {k!r} is reserved")
        self.energy_offset = float(energy_offset)
        self.clamping = clamping
        self.symmetric = True
        # the Gibbs update at T is the Glauber update of a 0/1 Hopfield net with theta = -b
        self._hop = Hopfield(W, -b, units="binary", scale=1.0)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_groups(cls, sizes: dict[str, int], connect: Iterable[tuple[str, str]], *, visible: Iterable[str],
                    rng: np.random.Generator | None = None, weight_scale: float = 0.0,
                    bias_scale: float = 0.0, mask=None) -> "BoltzmannMachine":
        """A machine wired group to group (see :func:`connectivity_mask`).

        Parameters
        ----------
        sizes, connect
            Groups in unit order and the connected pairs.
        visible : iterable of str
            The groups that are visible; the others are hidden.
        rng : Generator, optional
            Draws the initial weights W_ij ~ N(0, weight_scale^2) on the mask and biases
            ~ N(0, bias_scale^2); needed only when a scale is > 0. Zero by default (the
            1985 encoder simulations start from zero weights).
        mask : ndarray (N, N) bool or networkx.Graph, optional
            Further restricts the couplings (intersected with the group wiring).
        """
        M = connectivity_mask(sizes, connect)
        if mask is not None:
            M &= _mask_array(mask, M.shape[0])
        N = M.shape[0]
        W, b = np.zeros((N, N)), np.zeros(N)
        if weight_scale > 0 or bias_scale > 0:
            if rng is None:
                raise ValueError("random initial weights need rng=")
            A = rng.normal(scale=weight_scale, size=(N, N)) if weight_scale > 0 else np.zeros((N, N))
            W = np.triu(A * M, 1)
            W = W + W.T
            b = rng.normal(scale=bias_scale, size=N) if bias_scale > 0 else b
        names, start, groups = list(sizes), 0, {}
        for g in names:
            groups[g] = np.arange(start, start + sizes[g])
            start += sizes[g]
        visible = list(visible)
        for g in visible:
            if g not in groups:
                raise ValueError(f"unknown visible group {g!r}; groups: {', '.join(names)}")
        vis = np.concatenate([groups[g] for g in visible]) if visible else np.zeros(0, np.int64)
        named = {g: idx for g, idx in groups.items() if g not in ("visible", "hidden", "all")}
        return cls(W, b, visible=vis, mask=M, named_groups=named)

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    @property
    def n_visible(self) -> int:
        return len(self.visible)

    @property
    def n_hidden(self) -> int:
        return len(self.hidden)

    def groups(self) -> dict[str, np.ndarray]:
        """``visible``, ``hidden``, ``all`` and any named groups (unit index arrays)."""
        return {**self.named_groups, "visible": self.visible, "hidden": self.hidden,
                "all": np.arange(self.n_units)}

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_visible": self.n_visible,
                "n_hidden": self.n_hidden, "clamped": 0 if self.clamping is None else len(self.clamping.clamped)}

    def with_params(self, W=None, b=None) -> "BoltzmannMachine":
        """The same machine (groups, mask, clamping) with new weights and/or biases.

        The energy offset of a conditional machine is kept as it is (it depends only on the
        clamped units' parameters, which a conditional machine does not hold).
        """
        return type(self)(self.params.W if W is None else W, self.params.b if b is None else b,
                          visible=self.visible, mask=self.mask, named_groups=self.named_groups,
                          energy_offset=self.energy_offset, clamping=self.clamping)

    # --- clamping ---------------------------------------------------------------------
    def clamp(self, units, values) -> "BoltzmannMachine":
        """The conditional machine on the free units given ``s[units] = values``.

        Parameters
        ----------
        units : array of int (C,) or str
            Units to clamp (indices of this machine or a group name, e.g. ``"visible"``).
        values : array (C,) of 0/1

        Returns
        -------
        BoltzmannMachine
            On the F = N - C free units (in increasing index order): W_ff, biases
            b_f + W_fc values, energy offset so that its energy equals the full energy.
            Visible/hidden and named groups are carried over; ``clamping`` maps states back
            to this machine's (or, if this one is itself clamped, the original) units.
        """
        idx = self.groups()[units] if isinstance(units, str) else np.asarray(units, dtype=np.int64).ravel()
        v = np.asarray(values).ravel()
        if len(np.unique(idx)) != len(idx) or (len(idx) and (idx.min() < 0 or idx.max() >= self.n_units)):
            raise ValueError(f"clamped units must be distinct indices in [0, {self.n_units})")
        if v.shape != idx.shape or not np.all((v == 0) | (v == 1)):
            raise ValueError(f"clamp values must be {len(idx)} zeros and ones")
        if len(idx) == self.n_units:
            raise ValueError("cannot clamp every unit (nothing would be left to sample)")
        order = np.argsort(idx)
        idx, v = idx[order], v[order].astype(np.int8)
        free = np.setdiff1d(np.arange(self.n_units), idx)
        W, b = self.params
        vf = v.astype(np.float64)
        b_new = b[free] + W[np.ix_(free, idx)] @ vf
        offset = self.energy_offset - float(b[idx] @ vf) - 0.5 * float(vf @ W[np.ix_(idx, idx)] @ vf)
        pos = -np.ones(self.n_units, dtype=np.int64)
        pos[free] = np.arange(len(free))

        def remap(a):
            a = pos[np.asarray(a, dtype=np.int64)]
            return a[a >= 0]

        if self.clamping is None:
            outer = Clamping(self.n_units, free, idx, v)
        else:  # compose: free units of the free units, clamped units accumulate
            c = self.clamping
            cl = np.concatenate([c.clamped, c.free[idx]])
            vals = np.concatenate([c.values, v])
            o = np.argsort(cl)
            outer = Clamping(c.n_full, c.free[free], cl[o], vals[o])
        return type(self)(W[np.ix_(free, free)], b_new, visible=remap(self.visible),
                          mask=None if self.mask is None else self.mask[np.ix_(free, free)],
                          named_groups={k: remap(g) for k, g in self.named_groups.items()},
                          energy_offset=offset, clamping=outer)

    # --- states and dynamics ----------------------------------------------------------
    def init_state(self, *, rng: np.random.Generator) -> BoltzmannState:
        """Each unit on with probability 1/2 (the 1985 'randomised' start)."""
        return BoltzmannState((rng.random(self.n_units) < 0.5).astype(np.int8))

    def coerce_state(self, state):
        st = super().coerce_state(state)
        if not np.all((st.s == 0) | (st.s == 1)):
            raise ValueError("Boltzmann machine states must hold only 0 and 1")
        return st

    def field(self, state, x=None) -> np.ndarray:
        """Energy gaps dE_i = b_i + sum_j w_ij s_j = E(s_i = 0) - E(s_i = 1), shape (N,)."""
        return self._hop.field(HopfieldState(state.s))

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> BoltzmannState:
        """Gibbs update of ``units`` (simultaneously) at temperature T; T = 0: threshold."""
        if x is not None:
            raise ValueError("a Boltzmann machine takes no input stream")
        return BoltzmannState(self._hop.step(HopfieldState(state.s), units=units, u=u, T=T).s)

    def energy(self, state, x=None) -> float:
        """E = -b.s - 1/2 s^T W s (+ the offset of a conditional machine)."""
        s = np.asarray(state.s, dtype=np.float64)
        W, b = self.params
        return float(-(b @ s) - 0.5 * (s @ (W @ s)) + self.energy_offset)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """The numba Gibbs sweeps of :mod:`nets._kernels.hopfield` (twin: :meth:`step`)."""
        ticks, micro, micro_at, done, phase = self._hop.rollout(
            HopfieldState(state.s), drive, micro_every=micro_every, phase=phase, stop_fixed=stop_fixed)
        return ([BoltzmannState(s.s) for s in ticks], [BoltzmannState(s.s) for s in micro],
                micro_at, done, phase)
