r"""Two-phase Boltzmann learning by annealing and sampling (Ackley, Hinton & Sejnowski 1985).

The machine: 0/1 units with symmetric weights, biases as weights to an *always-on unit*
(the last unit, index N, of the augmented weight matrix ``Wa`` of shape (N+1, N+1)), so
that the energy E(s) = -sum_{i<j} w_ij s_i s_j over the augmented state equals the
Boltzmann-machine energy -b.s - 1/2 s^T W s [paper, Sec. 2].

**Statistics collection** [paper, Sec. 4.1; SCENARIOS.md B1]. One *annealing*: the
unclamped units are randomised (each on with probability 1/2), then run at the schedule
[2@20, 2@15, 2@12, 4@10] (units of time @ temperature), then statistics are taken at T = 10
for 10 units of time, one sample s s^T after each unit of time [measured re-implementation].
One unit of time = F random probes of the F unclamped units, with replacement; a probed
unit turns on with p = 1 / (1 + exp(-dE_i / T)), dE_i = sum_j w_ij s_j.

* *Clamped phase* p_ij: each environmental vector is clamped in turn, ``clamped_annealings``
  (2) times, with **noisy clamping**: each on bit is turned off with probability
  ``noise_on_off`` (0.15) and each off bit turned on with ``noise_off_on`` (0.05), drawn
  afresh for every annealing [paper].
* *Free phase* p'_ij: nothing clamped but the always-on unit, "as many annealings as were
  used to estimate p_ij" [paper].

p_ij (p'_ij) is the fraction of samples with s_i = s_j = 1 (diagonal: p_i).

**Weight steps.** The 1985 rule [paper]: every weight (biases included) changes by
``weight_step`` (2) times sign(p_ij - p'_ij), 0 where they are equal; the modern gradient
form: w_ij += eta (p_ij - p'_ij), an estimate of eta T dL/dw_ij with L the log-likelihood
of the environment (:func:`nets.boltzmann_exact.log_likelihood_gradient`). Both keep
the connectivity mask.

**Codes** [measured re-implementation]: the code of environmental vector k is the sign of
each hidden unit's net input with V1 and V2 clamped to it (noise-free, bias unit on):
c_k = [dE_h > 0]. Learning succeeds when the codes of all vectors are distinct.

The per-annealing work runs in the numba kernel :mod:`nets._kernels.boltzmann_learning`;
:func:`anneal_collect_reference` is its twin (every probe through
:meth:`nets.boltzmann.BoltzmannMachine.step`).

Reference: D. H. Ackley, G. E. Hinton, T. J. Sejnowski, "A learning algorithm for
Boltzmann machines", Cognitive Science 9:147-169 (1985) [paper].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from sim.schema import Key

from ._kernels import boltzmann_learning as _k

__all__ = ["ANNEAL_1985", "TWO_PHASE_KEYS", "TwoPhase", "augment", "split", "encoder_machine",
           "anneal_temperatures", "noisy_clamp", "anneal_collect", "anneal_collect_reference",
           "sampled_statistics", "sign_step", "gradient_step", "hidden_codes", "distinct_codes",
           "min_code_distance", "LearningResult", "learn", "Phase", "learn_phases", "completion_test"]

#: the 1985 annealing schedule, [[T, units of time], ...]
ANNEAL_1985 = [[20.0, 2], [15.0, 2], [12.0, 2], [10.0, 4]]

#: keys of a scenario's [train] table for rule "two_phase"
TWO_PHASE_KEYS: dict[str, Key] = {
    "step": Key("str", default="sign", choices=("sign", "gradient"),
                doc="sign: the 1985 fixed step on sign(p - p'); gradient: eta (p - p')"),
    "weight_step": Key("float", default=2.0, min=0.0, doc="size of the 1985 sign step [paper: 2]"),
    "eta": Key("float", default=10.0, min=0.0, doc="learning rate of the gradient step"),
    "noise_on_off": Key("float", default=0.15, min=0.0, max=1.0, doc="P(clamped on bit turned off) [paper: 0.15]"),
    "noise_off_on": Key("float", default=0.05, min=0.0, max=1.0, doc="P(clamped off bit turned on) [paper: 0.05]"),
    "clamped_annealings": Key("int", default=2, min=1, doc="annealings per clamped vector per cycle [paper: 2]"),
    "anneal": Key("any", default=ANNEAL_1985, doc="annealing schedule [[T, units of time], ...]"),
    "collect_time": Key("int", default=10, min=1, doc="units of time of statistics collection [paper: 10]"),
    "collect_T": Key("float", default=10.0, min=1e-9, doc="temperature of statistics collection [paper: 10]"),
    "phases": Key("any", default=None,
                  doc="40-10-40 schedule: [[cycles, hidden connected (0/1), noise on->off, noise off->on], ...]"),
    "test_anneal": Key("any", default=None, doc="annealing of the completion test [[T, units of time], ...]"),
}


@dataclass(frozen=True)
class TwoPhase:
    """Settings of two-phase learning (defaults: the 1985 4-2-4 protocol)."""

    step: str = "sign"
    weight_step: float = 2.0
    eta: float = 10.0
    noise_on_off: float = 0.15
    noise_off_on: float = 0.05
    clamped_annealings: int = 2
    anneal: tuple = tuple(tuple(p) for p in ANNEAL_1985)
    collect_time: int = 10
    collect_T: float = 10.0

    @classmethod
    def from_config(cls, train: dict) -> "TwoPhase":
        kw = {k: train[k] for k in TWO_PHASE_KEYS if k in train and k not in ("phases", "test_anneal")}
        if "anneal" in kw:
            kw["anneal"] = tuple(tuple(p) for p in kw["anneal"])
        out = cls(**kw)
        anneal_temperatures(out)  # validates the schedule
        return out


def anneal_temperatures(tp: TwoPhase) -> np.ndarray:
    """Temperature of every unit of time of one annealing plus collection, shape (K,)."""
    return _temperatures(tp).copy()


@lru_cache(maxsize=64)
def _temperatures(tp: TwoPhase) -> np.ndarray:
    temps = []
    for pair in tp.anneal:
        if len(pair) != 2:
            raise ValueError(f"annealing schedule entries are [T, units of time], got {pair!r}")
        T, n = float(pair[0]), pair[1]
        if not (np.isfinite(T) and T > 0) or int(n) != n or n < 0:
            raise ValueError(f"annealing needs T > 0 and a whole number of units of time >= 0, got {pair!r}")
        temps += [T] * int(n)
    return np.array(temps + [float(tp.collect_T)] * int(tp.collect_time))


# --- the augmented machine ---------------------------------------------------------------
def augment(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N+1, N+1) weights with the biases as couplings to an always-on last unit."""
    N = len(b)
    Wa = np.zeros((N + 1, N + 1))
    Wa[:N, :N] = W
    Wa[:N, N] = Wa[N, :N] = b
    return Wa


def split(Wa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`augment`: (W (N, N), b (N,))."""
    return Wa[:-1, :-1].copy(), Wa[:-1, -1].copy()


def encoder_machine(v: int, h: int, *, biases: bool = True):
    """The encoder wiring [paper]: V1, V2 (v units each, complete inside), H (h units) linked to both.

    Returns
    -------
    net : BoltzmannMachine
        Zero weights, groups V1, V2, H.
    mask : ndarray (N+1, N+1) bool
        Learnable couplings of the augmented machine (biases included when ``biases``).
    """
    from .boltzmann import BoltzmannMachine

    net = BoltzmannMachine.from_groups({"V1": v, "V2": v, "H": h},
                                       [("V1", "V1"), ("V2", "V2"), ("V1", "H"), ("V2", "H")],
                                       visible=["V1", "V2"])
    N = net.n_units
    mask = np.zeros((N + 1, N + 1), dtype=bool)
    mask[:N, :N] = net.mask
    if biases:
        mask[:N, N] = mask[N, :N] = True
    return net, mask


# --- noisy clamping and annealing ----------------------------------------------------------
def noisy_clamp(V: np.ndarray, on_off: float, off_on: float, *, rng: np.random.Generator) -> np.ndarray:
    """Copies of 0/1 vectors V (..., n) with on bits turned off w.p. ``on_off``, off bits on w.p. ``off_on``."""
    V = np.asarray(V)
    r = rng.random(V.shape)
    return np.where(V == 1, r >= on_off, r < off_on).astype(np.int8)


def anneal_collect(Wa, S, free, temps, n_collect, u) -> np.ndarray:
    """Anneal the start states S (A, N+1) in place (numba) and return sum_samples s s^T, (N+1, N+1).

    ``free`` (F,) are the probed units, ``temps`` (K,) the temperature per unit of time,
    ``u`` (A, K, F, 2) the uniforms; see :func:`nets._kernels.boltzmann_learning.anneal_collect`.
    """
    out = np.zeros((S.shape[1], S.shape[1]))
    _k.anneal_collect(np.ascontiguousarray(Wa, dtype=np.float64), S, np.asarray(free, dtype=np.int64),
                      np.asarray(temps, dtype=np.float64), int(n_collect), u, out)
    return out


def anneal_collect_reference(Wa, S, free, temps, n_collect, u) -> np.ndarray:
    """Numpy twin of :func:`anneal_collect`: one :meth:`BoltzmannMachine.step` per probe."""
    from .boltzmann import BoltzmannMachine, BoltzmannState

    net = BoltzmannMachine(Wa)  # the always-on unit is a plain unit that is never probed
    free = np.asarray(free, dtype=np.int64)
    F, K = len(free), len(temps)
    out = np.zeros((S.shape[1], S.shape[1]))
    for a in range(S.shape[0]):
        st = BoltzmannState(S[a].copy())
        for t in range(K):
            for k in range(F):
                i = free[min(int(u[a, t, k, 0] * F), F - 1)]
                st = net.step(st, units=[i], u=[u[a, t, k, 1]], T=float(temps[t]))
            if t >= K - n_collect:
                s = st.s.astype(np.float64)
                out += np.outer(s, s)
        S[a] = st.s
    return out


def sampled_statistics(Wa, patterns, visible, tp: TwoPhase, *, rng: np.random.Generator,
                       kernel=anneal_collect) -> tuple[np.ndarray, np.ndarray]:
    """The 1985 estimates of p_ij (clamped) and p'_ij (free), each (N+1, N+1).

    Parameters
    ----------
    Wa : ndarray (N+1, N+1)
        Augmented weights (last unit always on).
    patterns : ndarray (P, n_visible) of 0/1
        The environment, over the units ``visible``.
    visible : ndarray (n_visible,) int
    tp : TwoPhase
    rng : Generator
        Noisy clamping, random starts and probe uniforms.
    kernel : callable
        :func:`anneal_collect` or its twin :func:`anneal_collect_reference`.
    """
    N1 = Wa.shape[0]
    visible = np.asarray(visible, dtype=np.int64)
    is_hidden = np.ones(N1 - 1, dtype=bool)
    is_hidden[visible] = False
    hidden = np.flatnonzero(is_hidden)
    temps = _temperatures(tp)
    K, n_c = len(temps), int(tp.collect_time)
    P = len(patterns)
    A = P * int(tp.clamped_annealings)
    # clamped phase: noisy vectors on V, random hidden units
    S = np.zeros((A, N1), dtype=np.int8)
    S[:, N1 - 1] = 1
    S[:, visible] = noisy_clamp(np.repeat(np.asarray(patterns), tp.clamped_annealings, axis=0),
                                tp.noise_on_off, tp.noise_off_on, rng=rng)
    S[:, hidden] = rng.random((A, len(hidden))) < 0.5
    u = rng.random((A, K, len(hidden), 2))
    p = kernel(Wa, S, hidden, temps, n_c, u) / (A * n_c) if len(hidden) else \
        np.einsum("ai,aj->ij", S, S).astype(np.float64) / A
    # free phase: as many annealings, only the always-on unit fixed
    units = np.arange(N1 - 1)
    Sf = np.zeros((A, N1), dtype=np.int8)
    Sf[:, N1 - 1] = 1
    Sf[:, units] = rng.random((A, N1 - 1)) < 0.5
    uf = rng.random((A, K, N1 - 1, 2))
    pf = kernel(Wa, Sf, units, temps, n_c, uf) / (A * n_c)
    return p, pf


def sign_step(Wa, p, pf, mask, step: float = 2.0) -> np.ndarray:
    """The 1985 rule: Wa + step * sign(p - p') on the mask (0 where p == p')."""
    return Wa + np.where(mask, step * np.sign(p - pf), 0.0)


def gradient_step(Wa, p, pf, mask, eta: float) -> np.ndarray:
    """The gradient form: Wa + eta (p - p') on the mask."""
    return Wa + np.where(mask, eta * (p - pf), 0.0)


def hidden_codes(Wa, patterns, visible, hidden) -> np.ndarray:
    """Codes (P, n_hidden) int8: [net input of each hidden unit > 0] with V clamped to each pattern.

    Hidden-to-hidden couplings (absent in the encoder) are ignored: hidden units are 0.
    """
    P = len(patterns)
    S = np.zeros((P, Wa.shape[0]))
    S[:, -1] = 1.0
    S[:, np.asarray(visible)] = patterns
    return (S @ Wa[:, np.asarray(hidden)] > 0).astype(np.int8)  # (P, H)


def distinct_codes(codes: np.ndarray) -> int:
    """Number of distinct rows of 0/1 ``codes`` (P, H)."""
    codes = np.asarray(codes)
    if codes.shape[1] <= 62:
        return len(set((codes.astype(np.int64) << np.arange(codes.shape[1], dtype=np.int64)).sum(axis=1).tolist()))
    return len(np.unique(codes, axis=0))


def min_code_distance(codes: np.ndarray) -> int:
    """Smallest Hamming distance between two rows of 0/1 ``codes`` (P, H); 0 if two are equal.

    The 4-3-4 encoder's "well-spaced" codes [paper, Sec. 4.2] have a minimum distance >= 2.
    """
    codes = np.asarray(codes, dtype=np.int64)
    if len(codes) < 2:
        return codes.shape[1] if codes.ndim == 2 else 0
    d = np.abs(codes[:, None, :] - codes[None, :, :]).sum(axis=2)   # (P, P)
    return int(d[np.triu_indices(len(codes), 1)].min())


@dataclass
class LearningResult:
    """Outcome of :func:`learn`.

    Attributes
    ----------
    Wa : ndarray (N+1, N+1)
        Final augmented weights.
    cycles : int
        Learning cycles run.
    success_cycle : int or None
        First cycle after which all codes were distinct and at least ``min_distance`` apart
        (None if never within the cap).
    n_codes : ndarray (cycles,) int
        Distinct codes after each cycle.
    """

    Wa: np.ndarray
    cycles: int
    success_cycle: int | None
    n_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def learn(Wa, mask, patterns, visible, hidden, tp: TwoPhase, *, max_cycles: int, rng: np.random.Generator,
          stop_on_success: bool = True, min_distance: int = 1) -> LearningResult:
    """Two-phase learning until the codes of all patterns are distinct (or ``max_cycles``).

    Each cycle: :func:`sampled_statistics`, then :func:`sign_step` (``tp.step == "sign"``)
    or :func:`gradient_step`, then the codes (:func:`hidden_codes`). Success: all codes
    distinct and, for ``min_distance`` > 1, pairwise Hamming distances >= ``min_distance``
    (:func:`min_code_distance`; 2 = the "well-spaced" codes of the 4-3-4 encoder).
    """
    if min_distance < 1:
        raise ValueError(f"min_distance must be >= 1, got {min_distance}")
    Wa = np.array(Wa, dtype=np.float64, copy=True)
    target = len(np.unique(np.asarray(patterns), axis=0))
    n_codes = np.zeros(max_cycles, dtype=np.int64)
    success = None
    c = 0
    for c in range(1, max_cycles + 1):
        p, pf = sampled_statistics(Wa, patterns, visible, tp, rng=rng)
        if tp.step == "sign":
            Wa = sign_step(Wa, p, pf, mask, tp.weight_step)
        else:
            Wa = gradient_step(Wa, p, pf, mask, tp.eta)
        codes = hidden_codes(Wa, patterns, visible, hidden)
        n_codes[c - 1] = distinct_codes(codes)
        if success is None and n_codes[c - 1] == target and (min_distance == 1 or
                                                              min_code_distance(codes) >= min_distance):
            success = c
            if stop_on_success:
                break
    return LearningResult(Wa, c, success, n_codes[:c])


# --- the 40-10-40 schedule and the completion test [paper, Sec. 4.4] ------------------------
@dataclass(frozen=True)
class Phase:
    """``cycles`` learning cycles with the hidden units connected or not and the given clamping noise."""

    cycles: int
    hidden_connected: bool
    noise_on_off: float
    noise_off_on: float

    @classmethod
    def parse(cls, spec) -> list["Phase"]:
        """Phases from [[cycles, connected (0/1), on->off, off->on], ...]; ValueError if malformed."""
        out = []
        for p in spec:
            if not (isinstance(p, (list, tuple)) and len(p) == 4):
                raise ValueError(f"a phase is [cycles, hidden connected 0/1, noise on->off, noise off->on], got {p!r}")
            c, h, a, b = p
            if int(c) != c or c < 0 or h not in (0, 1, True, False) or not (0 <= a <= 1 and 0 <= b <= 1):
                raise ValueError(f"bad phase {p!r}: cycles >= 0, connected 0/1, noise probabilities in [0, 1]")
            out.append(cls(int(c), bool(h), float(a), float(b)))
        if not out:
            raise ValueError("phases must list at least one phase")
        return out


def learn_phases(Wa, mask, patterns, visible, hidden, tp: TwoPhase, phases: list[Phase], *,
                 rng: np.random.Generator, max_cycles: int | None = None) -> LearningResult:
    """Two-phase learning through a schedule of phases (the 40-10-40 protocol [paper]).

    In a phase with ``hidden_connected`` False the couplings of the hidden units (to the
    visible units and to the bias unit) are held at their values (zero at the start):
    only the visible groups learn. ``success_cycle`` is the first cycle with all codes
    distinct. ``max_cycles`` (None: no cap) stops the schedule after that many cycles in all.
    """
    Wa = np.array(Wa, dtype=np.float64, copy=True)
    hid = np.zeros(mask.shape[0], dtype=bool)
    hid[np.asarray(hidden)] = True
    n_codes, success, done = [], None, 0
    for ph in phases:
        cycles = ph.cycles if max_cycles is None else min(ph.cycles, max_cycles - done)
        if cycles <= 0:
            continue
        m = mask if ph.hidden_connected else mask & ~hid[:, None] & ~hid[None, :]
        tpp = TwoPhase(**{**tp.__dict__, "noise_on_off": ph.noise_on_off, "noise_off_on": ph.noise_off_on})
        r = learn(Wa, m, patterns, visible, hidden, tpp, max_cycles=cycles, rng=rng, stop_on_success=False)
        if success is None and r.success_cycle is not None and ph.hidden_connected:
            success = done + r.success_cycle
        Wa, done = r.Wa, done + r.cycles
        n_codes.append(r.n_codes)
    return LearningResult(Wa, done, success, np.concatenate(n_codes) if n_codes else np.zeros(0, dtype=np.int64))


def completion_test(Wa, patterns, v: int, temps, n_tests: int, *, rng: np.random.Generator) -> np.ndarray:
    """Pattern completion [paper]: V1 clamped to each pattern, V2 and H annealed by ``temps``.

    Units are ordered V1 (0..v-1), V2 (v..2v-1), H, bias (as :func:`encoder_machine`). A
    test succeeds when, at the end of the annealing, exactly the V2 units of the pattern
    are on. Returns the successes, (P, n_tests) bool.
    """
    P, N1 = len(patterns), Wa.shape[0]
    A = P * n_tests
    S = np.zeros((A, N1), dtype=np.int8)
    S[:, N1 - 1] = 1
    S[:, :v] = np.repeat(np.asarray(patterns)[:, :v], n_tests, axis=0)
    free = np.arange(v, N1 - 1)
    S[:, free] = rng.random((A, len(free))) < 0.5
    temps = np.asarray(temps, dtype=np.float64)
    u = rng.random((A, len(temps), len(free), 2))
    anneal_collect(Wa, S, free, temps, 1, u)
    target = np.repeat(np.asarray(patterns)[:, v:2 * v], n_tests, axis=0)
    return np.all(S[:, v:2 * v] == target, axis=1).reshape(P, n_tests)
