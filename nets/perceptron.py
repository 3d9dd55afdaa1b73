r"""McCulloch-Pitts threshold units (1943) and Rosenblatt's perceptron (1958).

**McCulloch-Pitts net** (kind ``"mcculloch_pitts"``). All-or-none units s_i in {0, 1} and
binary input lines x_k, a fixed synaptic delay of one tick, integer excitatory synapse
counts W (unit -> unit) and U (input -> unit), inhibitory synapses Wi, Ui (masks) and
integer thresholds theta:

    s_i(t+1) = 1  iff  sum_j Wi_ij s_j(t) + sum_k Ui_ik x_k(t) = 0        (absolute inhibition)
                       and  sum_j W_ij s_j(t) + sum_k U_ik x_k(t) >= theta_i,
    s_i(t+1) = 0  otherwise.

Any one active inhibitory synapse prevents firing, whatever the excitation ("absolute
inhibition", McCulloch & Pitts 1943, Bull. Math. Biophys. 5:115-133 [recalled, unverified]).
Exact examples [definition]: AND of two excitatory inputs = threshold 2; OR = threshold 1;
NOT = an always-on excitatory line with threshold 1 and the input as inhibitory; XOR needs
two layers ((x1 and not x2) or (x2 and not x1)), so its output lags the inputs by two
ticks; a unit exciting itself latches (a loop implements memory): the SR latch below has
L(t+1) = not reset(t) and (set(t) or L(t)).
With inputs the net runs under the ``clocked`` schedule (one input row per tick, every
unit updated together: the synaptic delay); without inputs under any schedule. It is
deterministic (no temperature). Fast path: :mod:`nets._kernels.mcculloch_pitts`.

**Perceptron** (Rosenblatt 1958, Psych. Rev. 65:386-408): one threshold unit
y = 1 if w.x + b > 0 else 0, trained online, example by example in a fixed cyclic order,
by the perceptron rule

    w <- w + lr (t - y) x,     b <- b + lr (t - y)

(an update only on a mistake). An epoch is one pass over the data; training stops after
the first epoch without a mistake, which is counted. Convergence theorem (Novikoff 1962):
if some unit vector u in the augmented space x' = (x, 1) has margin
gamma = min_i (2 t_i - 1) u.x'_i > 0 and R = max_i ||x'_i||, the rule started at w = 0,
b = 0 makes at most (R / gamma)^2 mistakes, whatever lr > 0 [standard result]. Minsky &
Papert (1969): XOR is not linearly separable; :func:`separable` decides separability
exactly as a linear-programming feasibility problem (strict separation is equivalent to
(2 t_i - 1)(w.x_i + b) >= 1 for a finite set, after shifting and scaling).
P1 numbers (SCENARIOS.md section 10, [measured, deterministic]): from w = 0, b = 0, lr 1,
inputs (0,0), (0,1), (1,0), (1,1): AND 6 epochs / 10 updates, OR 4 / 4, NAND 6 / 11,
XOR never converges (3997 updates in 1000 epochs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from ._kernels import mcculloch_pitts as _k

__all__ = ["McCullochPitts", "MPState", "MPParams", "MP_GATES", "mp_gate", "truth_table", "GATE_TARGETS",
           "INPUTS_2", "PerceptronFit", "train_perceptron", "predict", "separable", "margin", "max_margin_direction",
           "novikoff_bound", "random_separable"]


class MPState(NamedTuple):
    s: np.ndarray  # (N,) int8, 0/1


class MPParams(NamedTuple):
    W: np.ndarray      # (N, N) int64 excitatory synapse counts unit j -> unit i (self-loops allowed)
    U: np.ndarray      # (N, I) int64 excitatory synapse counts input k -> unit i
    Wi: np.ndarray     # (N, N) int8 inhibitory synapses unit j -> unit i (0/1)
    Ui: np.ndarray     # (N, I) int8 inhibitory synapses input k -> unit i (0/1)
    theta: np.ndarray  # (N,) int64 thresholds


def _int_array(a, shape, name, dtype=np.int64, nonneg=True):
    a = np.asarray(a)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if a.size and (a.dtype.kind not in "iub" and not np.all(a == np.round(a))):
        raise ValueError(f"{name} must hold integers (synapse counts / thresholds)")
    out = np.array(a, dtype=dtype, copy=True)
    if nonneg and np.any(out < 0):
        raise ValueError(f"{name} must be >= 0 (inhibition is given separately, by Wi/Ui)")
    out.setflags(write=False)
    return out


@register
class McCullochPitts(Net):
    """A net of McCulloch-Pitts units (module docstring for the update rule).

    Parameters
    ----------
    W : array (N, N) of int >= 0
        Excitatory synapse counts between units (W[i, i] > 0: a self-exciting unit).
    theta : array (N,) of int
        Thresholds.
    U : array (N, I) of int >= 0, optional
        Excitatory synapse counts from the I input lines (I = 0 when omitted).
    Wi : array (N, N) of 0/1, optional
        Inhibitory synapses between units.
    Ui : array (N, I) of 0/1, optional
        Inhibitory synapses from the input lines.
    """

    kind: ClassVar[str] = "mcculloch_pitts"
    binary: ClassVar[bool] = True
    has_rollout: ClassVar[bool] = True
    State = MPState

    def __init__(self, W, theta, *, U=None, Wi=None, Ui=None):
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
        N = W.shape[0]
        I = 0 if U is None else np.shape(U)[1] if np.ndim(U) == 2 else -1
        if I < 0:
            raise ValueError(f"U must have shape ({N}, n_inputs), got {np.shape(U)}")
        U = np.zeros((N, I), np.int64) if U is None else U
        Ui = np.zeros((N, I), np.int8) if Ui is None else Ui
        Wi = np.zeros((N, N), np.int8) if Wi is None else Wi
        for name, m in (("Wi", Wi), ("Ui", Ui)):
            if not np.all(np.isin(np.asarray(m), (0, 1))):
                raise ValueError(f"{name} must hold only 0 and 1 (an inhibitory synapse is there or not)")
        self.params = MPParams(_int_array(W, (N, N), "W"), _int_array(U, (N, I), "U"),
                               _int_array(Wi, (N, N), "Wi", np.int8), _int_array(Ui, (N, I), "Ui", np.int8),
                               _int_array(theta, (N,), "theta", nonneg=False))
        self.n_inputs = I

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs}

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("McCulloch-Pitts units are deterministic: they have no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> MPState:
        """Each unit firing with probability 1/2 (protocols start from a given state)."""
        return MPState((rng.random(self.n_units) < 0.5).astype(np.int8))

    def coerce_state(self, state):
        st = super().coerce_state(state)
        if not np.all((st.s == 0) | (st.s == 1)):
            raise ValueError("McCulloch-Pitts states hold only 0 and 1")
        return st

    def _inputs(self, x) -> np.ndarray:
        if self.n_inputs == 0:
            if x is not None and np.size(x):
                raise ValueError("this McCulloch-Pitts net has no input lines")
            return np.zeros(0, np.int64)
        if x is None:
            raise ValueError(f"this net has {self.n_inputs} input lines: a step needs x_t")
        x = np.asarray(x)
        if x.shape != (self.n_inputs,) or not np.all((x == 0) | (x == 1)):
            raise ValueError(f"inputs are all-or-none: x must have shape ({self.n_inputs},) with values 0/1")
        return x.astype(np.int64)

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> MPState:
        self.uses_noise(T)
        W, U, Wi, Ui, theta = self.params
        xv = self._inputs(x)
        s = state.s.astype(np.int64)
        idx = np.arange(self.n_units) if units is None else np.asarray(units)
        excite = W[idx] @ s + U[idx] @ xv                       # (len(idx),) integer counts
        inhibited = (Wi[idx].astype(np.int64) @ s + Ui[idx].astype(np.int64) @ xv) > 0
        out = state.s.copy()
        out[idx] = np.where(~inhibited & (excite >= theta[idx]), 1, 0)
        return MPState(out)

    def graph(self):
        """Undirected coupling graph: an edge wherever a synapse (either kind) joins two units."""
        import networkx as nx

        W, _, Wi, _, _ = self.params
        A = (W != 0) | (Wi != 0)
        g = nx.Graph()
        g.add_nodes_from(range(self.n_units))
        i, j = np.nonzero(np.triu(A | A.T, 1))
        g.add_edges_from((int(a), int(b), {"excitatory": int(W[a, b] + W[b, a]),
                                           "inhibitory": int(Wi[a, b] + Wi[b, a])}) for a, b in zip(i, j))
        return g

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` over a chunk of ticks (see :func:`sim.simulate`)."""
        order = np.ascontiguousarray(drive["order"], dtype=np.int32)
        n = order.shape[0]
        if drive["x"] is None:
            xs = np.zeros((n, 0), np.int8)
        else:
            xs = np.asarray(drive["x"])
            if not np.all((xs == 0) | (xs == 1)):
                raise ValueError("inputs are all-or-none: x must hold only 0 and 1")
            xs = np.ascontiguousarray(xs, dtype=np.int8)
        ptr = np.asarray(drive["ptr"], dtype=np.int64)
        G, N = len(ptr) - 1, self.n_units
        M = (n * G) // micro_every + 1 if micro_every else 0
        s = state.s.copy()
        ticks = np.empty((n, N), np.int8)
        micro = np.empty((M, N), np.int8)
        micro_at = np.empty(M, np.int64)
        ctrl = np.array([micro_every, phase, 0], dtype=np.int64)
        _k.rollout(tuple(self.params), s, (order, ptr), xs, (ticks, micro, micro_at, np.empty(N, np.int8)), ctrl)
        m = int(ctrl[2])
        return ([MPState(ticks[k]) for k in range(n)], [MPState(micro[k]) for k in range(m)],
                micro_at[:m].tolist(), n, int(ctrl[1]))


# --- McCulloch-Pitts gates ------------------------------------------------------------
#: the two-input rows in the order of SCENARIOS.md P1: (0,0), (0,1), (1,0), (1,1)
INPUTS_2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int8)

#: targets of the two-input gates on INPUTS_2 (and NOT on x = 0, 1)
GATE_TARGETS = {
    "AND": np.array([0, 0, 0, 1], np.int8), "OR": np.array([0, 1, 1, 1], np.int8),
    "NAND": np.array([1, 1, 1, 0], np.int8), "NOR": np.array([1, 0, 0, 0], np.int8),
    "XOR": np.array([0, 1, 1, 0], np.int8), "NOT": np.array([1, 0], np.int8),
}


def mp_gate(name: str) -> tuple[McCullochPitts, int, int]:
    """A McCulloch-Pitts net computing a gate: (net, output unit, delay in ticks).

    ``AND``: one unit, two excitatory inputs, theta = 2. ``OR``: theta = 1. ``NOT``: input
    lines (x, on), ``on`` always 1 and excitatory, x inhibitory, theta = 1. ``XOR``: hidden
    units h1 = x1 and not x2, h2 = x2 and not x1 (theta 1, the other input inhibitory),
    output h1 or h2 (theta 1): delay 2. ``latch``: inputs (set, reset), one unit with a
    self-excitatory synapse, set excitatory, reset inhibitory, theta = 1.
    """
    if name == "AND":
        return McCullochPitts([[0]], [2], U=[[1, 1]]), 0, 1
    if name == "OR":
        return McCullochPitts([[0]], [1], U=[[1, 1]]), 0, 1
    if name == "NOT":
        return McCullochPitts([[0]], [1], U=[[0, 1]], Ui=[[1, 0]]), 0, 1
    if name == "XOR":
        W = [[0, 0, 0], [0, 0, 0], [1, 1, 0]]
        return McCullochPitts(W, [1, 1, 1], U=[[1, 0], [0, 1], [0, 0]], Ui=[[0, 1], [1, 0], [0, 0]]), 2, 2
    if name == "latch":
        return McCullochPitts([[1]], [1], U=[[1, 0]], Ui=[[0, 1]]), 0, 1
    raise ValueError(f"unknown McCulloch-Pitts gate {name!r}; expected one of {', '.join(MP_GATES)}")


MP_GATES = ("AND", "OR", "NOT", "XOR", "latch")


def truth_table(name: str, *, fast: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The gate's outputs over its input rows, read through :func:`sim.simulate`.

    The rows are fed one per tick (the ``clocked`` schedule) from the all-quiet state; the
    output for row r is the output unit at tick r + delay (rows are pipelined). NOT's
    always-on line is part of the input stream.

    Returns
    -------
    rows : ndarray (R, n_in) int8
        The gate's own inputs (x for NOT; x1, x2 otherwise).
    out : ndarray (R,) int8
    """
    from sim.record import Record
    from sim.simulate import simulate

    net, o, delay = mp_gate(name)
    rows = np.array([[0], [1]], np.int8) if name == "NOT" else INPUTS_2
    stream = np.hstack([rows, np.ones((len(rows), 1), np.int8)]) if name == "NOT" else rows
    stream = np.vstack([stream, np.zeros((delay - 1, stream.shape[1]), np.int8)])
    traj = simulate(net, np.zeros(net.n_units, np.int8), inputs=stream, schedule="clocked",
                    record=Record(probes=()), fast=fast)
    return rows, traj.states["s"][delay:delay + len(rows), o].astype(np.int8)


# --- the perceptron -------------------------------------------------------------------
@dataclass(frozen=True)
class PerceptronFit:
    """Result of :func:`train_perceptron`.

    Attributes
    ----------
    w : ndarray (d,)
    b : float
    epochs : int
        Epochs run, including the final error-free one (``max_epochs`` if never error-free).
    updates : int
        Mistakes (= weight updates) in total.
    converged : bool
        Whether an epoch passed without a mistake.
    errors : ndarray (epochs,) int
        Mistakes in each epoch.
    """

    w: np.ndarray
    b: float
    epochs: int
    updates: int
    converged: bool
    errors: np.ndarray


def predict(X, w, b) -> np.ndarray:
    """Threshold unit outputs y = 1 if w.x + b > 0 else 0; X (n, d) -> (n,) int8."""
    return (np.asarray(X, np.float64) @ np.asarray(w, np.float64) + b > 0).astype(np.int8)


def train_perceptron(X, t, *, lr: float = 1.0, w0=None, b0: float = 0.0, max_epochs: int = 1000) -> PerceptronFit:
    """Rosenblatt's rule, online in the given (cyclic) order, until an error-free epoch.

    Parameters
    ----------
    X : array (n, d)
    t : array (n,) of 0/1 targets
    lr : float > 0
    w0 : array (d,), optional
        Initial weights (zeros by default); ``b0`` the initial bias.
    max_epochs : int
    """
    X = np.asarray(X, np.float64)
    t = np.asarray(t)
    if X.ndim != 2 or t.shape != (len(X),) or not np.all((t == 0) | (t == 1)):
        raise ValueError("X must be (n, d) and t (n,) with 0/1 targets")
    if not lr > 0 or max_epochs < 1:
        raise ValueError("lr must be > 0 and max_epochs >= 1")
    rows = [r for r in X]  # row views: the loop is short and scalar
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, np.float64, copy=True)
    b = float(b0)
    errors = []
    for _ in range(max_epochs):
        errs = 0
        for x, ti in zip(rows, t.tolist()):
            y = 1 if float(w @ x) + b > 0 else 0
            if y != ti:
                w += lr * (ti - y) * x
                b += lr * (ti - y)
                errs += 1
        errors.append(errs)
        if errs == 0:
            break
    errors = np.asarray(errors, np.int64)
    return PerceptronFit(w, b, len(errors), int(errors.sum()), bool(errors[-1] == 0), errors)


def _augment(X) -> np.ndarray:
    X = np.asarray(X, np.float64)
    return np.hstack([X, np.ones((len(X), 1))])  # (n, d + 1): x' = (x, 1)


def separable(X, t) -> bool:
    """Whether one threshold unit can compute t on X: LP feasibility of (2t-1)(w.x + b) >= 1."""
    from scipy.optimize import linprog

    A = -(2 * np.asarray(t, np.float64) - 1)[:, None] * _augment(X)  # A [w; b] <= -1
    res = linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(A)), bounds=[(None, None)] * A.shape[1],
                  method="highs")
    if res.status not in (0, 2):
        raise RuntimeError(f"linprog failed: {res.message}")
    return res.status == 0


def margin(X, t, u) -> float:
    """min_i (2 t_i - 1) u.x'_i / ||u|| over the augmented points x' = (x, 1)."""
    u = np.asarray(u, np.float64)
    return float(np.min((2 * np.asarray(t, np.float64) - 1) * (_augment(X) @ u)) / np.linalg.norm(u))


def max_margin_direction(X, t) -> np.ndarray | None:
    """The hard-margin direction in the augmented space (min ||u||^2 s.t. (2t-1) u.x' >= 1), or None.

    Solved numerically (SLSQP); callers recompute the margin of the returned u with
    :func:`margin`, which is exact for whatever u comes back.
    """
    from scipy.optimize import minimize

    A = (2 * np.asarray(t, np.float64) - 1)[:, None] * _augment(X)
    res = minimize(lambda u: u @ u, np.zeros(A.shape[1]), jac=lambda u: 2 * u, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": lambda u: A @ u - 1, "jac": lambda u: A}])
    return res.x if res.success and np.all(A @ res.x > 0) else None


def novikoff_bound(X, t, u=None) -> tuple[float, float, float]:
    """(R, gamma, (R/gamma)^2) of Novikoff's theorem in the augmented space.

    gamma is the larger of the margins of ``u`` (if given) and of the numerical hard-margin
    direction; both are valid margins, so the bound holds with either. Returns gamma = nan
    and bound = inf when no direction with a positive margin is known.
    """
    R = float(np.max(np.linalg.norm(_augment(X), axis=1)))
    gammas = [margin(X, t, v) for v in (u, max_margin_direction(X, t)) if v is not None]
    gamma = max(gammas, default=np.nan)
    if not gamma > 0:
        return R, np.nan, np.inf
    return R, gamma, (R / gamma) ** 2


def random_separable(n_points: int, dim: int, *, min_margin: float, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linearly separable data: points uniform in [-1, 1]^dim labelled by a random unit u.

    u = (w, b) / ||(w, b)|| with w a random direction and b uniform in [-0.5, 0.5]; points with
    |u.x'| < ``min_margin`` are redrawn, so u has margin >= min_margin.

    Returns
    -------
    X : ndarray (n_points, dim), t : ndarray (n_points,) int8, u : ndarray (dim + 1,)
    """
    w = rng.normal(size=dim)
    u = np.append(w / np.linalg.norm(w), rng.uniform(-0.5, 0.5))
    u /= np.linalg.norm(u)
    X = np.empty((0, dim))
    while len(X) < n_points:
        cand = rng.uniform(-1.0, 1.0, size=(2 * n_points, dim))
        keep = np.abs(_augment(cand) @ u) >= min_margin
        X = np.vstack([X, cand[keep]])
    X = X[:n_points]
    return X, (_augment(X) @ u > 0).astype(np.int8), u
