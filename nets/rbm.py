r"""The restricted Boltzmann machine (harmonium): 0/1 visible and hidden layers, no
couplings inside a layer.

With visible units v in {0, 1}^V, hidden units h in {0, 1}^H, weights W (V, H) and
biases b_v (V,), b_h (H,), the energy and the Boltzmann distribution at T = 1 are

    E(v, h) = - b_v.v - b_h.h - v^T W h,        P(v, h) = exp(-E(v, h)) / Z,

a Boltzmann machine (:mod:`nets.boltzmann`) whose coupling graph is bipartite. Given one
layer the units of the other are independent (block Gibbs sampling):

    P(h_j = 1 | v) = sigma(b_h,j + v.W[:, j]),   P(v_i = 1 | h) = sigma(b_v,i + W[i].h).

Summing out one layer gives the free energies (softplus(x) = log(1 + e^x), evaluated
stably as logaddexp(0, x))

    F(v) = -b_v.v - sum_j softplus(b_h,j + v.W[:, j]),     P(v) = exp(-F(v)) / Z,
    F(h) = -b_h.h - sum_i softplus(b_v,i + W[i].h),        P(h) = exp(-F(h)) / Z,

so log Z = logsumexp over the 2^min(V, H) states of the *smaller* layer, and the exact
log-likelihood of data is mean_d(-F(v^d)) - log Z (:func:`log_partition`,
:func:`log_likelihood`).

**Learning** (:func:`train`): the log-likelihood gradient is
dL/dW = <v h^T>_data - <v h^T>_model. Contrastive divergence CD-k (Hinton 2002) replaces
the model term by the state after k block-Gibbs steps started at the data; persistent CD
(PCD, Tieleman 2008) keeps ``chains`` fantasy chains running across updates instead.
Following Hinton's practical guide (2010, UTML TR 2010-003) [recalled, unverified]: hidden
states driven by data are sampled, the positive and negative statistics use hidden
*probabilities*, momentum (0.5 then 0.9 in the guide), an L2 weight cost on W only,
mini-batches, initial W ~ N(0, 0.01^2), visible biases log(p_i / (1 - p_i)), hidden
biases 0. The update with momentum mu, rate eta and weight cost lambda is
Delta <- mu Delta + eta (grad - lambda W); W <- W + Delta (likewise for the biases, without
the weight cost). Every random draw comes from the ``rng`` passed in. The negative-phase
visible states are binary samples by default (``visible="probabilities"`` keeps the
probabilities, the guide's suggestion for reconstructions; on 3x3 bars-and-stripes that
choice costs 0.2-0.5 nats of exact log-likelihood, see scenario R1). The updates run in a
numba kernel (:mod:`nets._kernels.rbm`) with a numpy twin (``train(..., fast=False)``).

**Dynamics** (``simulate``): the RBM is a net of n_units = V + H units (visible first);
``step`` is the heat-bath update of any subset of units at temperature T (T = 0: the
threshold rule, ties keep the state), and the chromatic schedule colours the complete
bipartite graph into {visible, hidden}: one tick = one block-Gibbs sweep (hidden units
are updated from the new visible state or vice versa, depending on the colour order).
The numba fast path is the 0/1 Hopfield kernel on the block matrix [[0, W], [W^T, 0]]
with thresholds -[b_v, b_h] (its Glauber update is exactly this Gibbs update).

References: P. Smolensky, PDP vol. 1 ch. 6 (1986); G. E. Hinton, Neural Computation
14:1771-1800 (2002); T. Tieleman, ICML (2008); G. E. Hinton, UTML TR 2010-003 (2010)
[all recalled, unverified, see SCENARIOS.md section 3].
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key

__all__ = ["RBM", "RBMState", "RBMParams", "free_energy", "free_energy_hidden", "log_partition",
           "log_likelihood", "pseudo_likelihood", "reconstruction_error", "sample", "train", "TrainResult",
           "CD_KEYS", "MAX_ENUM"]

#: largest layer size enumerated by :func:`log_partition`
MAX_ENUM = 24


class RBMState(NamedTuple):
    v: np.ndarray  # (V,) int8 in {0, 1}
    h: np.ndarray  # (H,) int8 in {0, 1}


class RBMParams(NamedTuple):
    W: np.ndarray    # (V, H) float64
    b_v: np.ndarray  # (V,) visible biases
    b_h: np.ndarray  # (H,) hidden biases


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), the same formula (and clipping) as the Hopfield/Boltzmann Gibbs step."""
    return 1.0 / (1.0 + np.exp(-np.clip(a, -700.0, 700.0)))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _logsumexp(a: np.ndarray) -> float:
    m = float(np.max(a))
    return m + float(np.log(np.exp(a - m).sum()))


def _states(n: int) -> np.ndarray:
    """All 0/1 states of n units, (2^n, n) float64; row k has bit i = (k >> i) & 1."""
    k = np.arange(1 << n, dtype=np.int64)
    return ((k[:, None] >> np.arange(n)) & 1).astype(np.float64)


# --- exact quantities (functions of the parameters) -------------------------------------
def free_energy(params: RBMParams, V: np.ndarray) -> np.ndarray:
    """F(v) = -b_v.v - sum_j softplus(b_h,j + v.W[:, j]); V (B, V) -> (B,)."""
    W, b_v, b_h = params
    V = np.atleast_2d(np.asarray(V, dtype=np.float64))
    return -(V @ b_v) - _softplus(V @ W + b_h).sum(axis=1)


def free_energy_hidden(params: RBMParams, Hs: np.ndarray) -> np.ndarray:
    """F(h) = -b_h.h - sum_i softplus(b_v,i + W[i].h); Hs (B, H) -> (B,)."""
    W, b_v, b_h = params
    Hs = np.atleast_2d(np.asarray(Hs, dtype=np.float64))
    return -(Hs @ b_h) - _softplus(Hs @ W.T + b_v).sum(axis=1)


def log_partition(params: RBMParams) -> float:
    """log Z by enumerating the 2^min(V, H) states of the smaller layer (log-sum-exp)."""
    V, H = params.W.shape
    n = min(V, H)
    if n > MAX_ENUM:
        raise ValueError(f"exact log Z enumerates 2^min(V, H) states; min(V, H) = {n} > {MAX_ENUM}")
    if V <= H:
        return _logsumexp(-free_energy(params, _states(V)))
    return _logsumexp(-free_energy_hidden(params, _states(H)))


def log_likelihood(params: RBMParams, data: np.ndarray, *, weights=None, log_Z: float | None = None) -> float:
    """Exact mean log-likelihood sum_d q_d log P(v^d) = sum_d q_d (-F(v^d)) - log Z.

    Parameters
    ----------
    data : ndarray (D, V) of 0/1
    weights : ndarray (D,), optional
        Data frequencies q_d (normalised; uniform by default).
    log_Z : float, optional
        Reuse a computed :func:`log_partition`.
    """
    F = free_energy(params, data)
    q = np.full(len(F), 1.0 / len(F)) if weights is None else np.asarray(weights, float) / np.sum(weights)
    return float(-(q @ F) - (log_partition(params) if log_Z is None else log_Z))


def pseudo_likelihood(params: RBMParams, data: np.ndarray, *, rng: np.random.Generator | None = None) -> float:
    """Mean log pseudo-likelihood sum_i log P(v_i | v_-i) = sum_i log sigma(F(v^(i)) - F(v)).

    v^(i) is v with bit i flipped. Exact (all V bits) when ``rng`` is None; with ``rng``
    the stochastic estimate of scikit-learn's BernoulliRBM.score_samples: V times the
    term of one random bit per example.
    """
    X = np.atleast_2d(np.asarray(data, dtype=np.float64))
    D, V = X.shape
    F = free_energy(params, X)
    if rng is None:
        W, b_v, b_h = params
        A = X @ W + b_h                                           # (D, H) hidden inputs of v
        lin = X @ b_v
        total = np.zeros(D)
        for i in range(V):
            d = 1.0 - 2.0 * X[:, i]                               # flip of bit i: +1 or -1
            Fi = -(lin + d * b_v[i]) - _softplus(A + d[:, None] * W[i]).sum(axis=1)
            total += -_softplus(-(Fi - F))  # log sigma(x) = -softplus(-x)
        return float(total.mean())
    i = rng.integers(0, V, size=D)
    Xi = X.copy()
    Xi[np.arange(D), i] = 1.0 - Xi[np.arange(D), i]
    return float((V * -_softplus(-(free_energy(params, Xi) - F))).mean())


def reconstruction_error(params: RBMParams, data: np.ndarray, *, rng: np.random.Generator | None = None) -> float:
    """Mean squared error sum_i (v_i - p(v_i | h))^2 per example after one up-down pass.

    h is sampled from P(h | v) when ``rng`` is given (Hinton's guide), else its
    probabilities are used (deterministic).
    """
    W, b_v, b_h = params
    X = np.atleast_2d(np.asarray(data, dtype=np.float64))
    ph = _sigmoid(X @ W + b_h)
    hs = ph if rng is None else (rng.random(ph.shape) < ph).astype(np.float64)
    pv = _sigmoid(hs @ W.T + b_v)
    return float(((X - pv) ** 2).sum(axis=1).mean())


def sample(params: RBMParams, n_chains: int, sweeps: int, *, rng: np.random.Generator, v0=None,
           every: int = 1) -> np.ndarray:
    """Block-Gibbs samples of the visible layer: (sweeps // every, n_chains, V) int8.

    One sweep: h ~ P(h | v), then v ~ P(v | h). Chains start at ``v0`` (n_chains, V) or
    uniformly at random; a sample is kept after every ``every``-th sweep.
    """
    W, b_v, b_h = params
    Vn, Hn = W.shape
    v = (rng.random((n_chains, Vn)) < 0.5).astype(np.float64) if v0 is None else np.array(v0, dtype=np.float64)
    out = np.empty((sweeps // every, n_chains, Vn), dtype=np.int8)
    for t in range(sweeps):
        h = (rng.random((n_chains, Hn)) < _sigmoid(v @ W + b_h)).astype(np.float64)
        v = (rng.random((n_chains, Vn)) < _sigmoid(h @ W.T + b_v)).astype(np.float64)
        if (t + 1) % every == 0:
            out[(t + 1) // every - 1] = v
    return out


#: keys of a [train] table with rule = "cd" (CD-k / PCD, Hinton's guide); see :func:`train`
CD_KEYS: dict[str, Key] = {
    "k": Key("int", default=1, min=1, doc="Gibbs steps per update (CD-k / PCD-k)"),
    "persistent": Key("bool", default=False, doc="PCD: keep fantasy chains across updates (Tieleman 2008)"),
    "chains": Key("int", default=0, min=0, doc="PCD chains (0: one per example of a mini-batch)"),
    "lr": Key("float", default=0.1, min=0.0, doc="learning rate eta"),
    "lr_final": Key("float", default=None, min=0.0, doc="eta decays linearly to this over the updates (None: constant)"),
    "updates": Key("int", default=1000, min=1, doc="number of parameter updates (mini-batches)"),
    "batch_size": Key("int", default=0, min=0, doc="examples per mini-batch (0: the whole data set)"),
    "momentum": Key("float", default=0.0, min=0.0, max=0.999, doc="momentum at the start"),
    "momentum_final": Key("float", default=None, min=0.0, max=0.999, doc="momentum after momentum_switch updates"),
    "momentum_switch": Key("int", default=0, min=0, doc="update at which the momentum changes"),
    "weight_decay": Key("float", default=0.0, min=0.0, doc="L2 weight cost lambda on W (Hinton: 1e-4)"),
    "visible": Key("str", default="samples", choices=("samples", "probabilities"),
                   doc="negative-phase visible states: binary samples or their probabilities"),
    "uniforms": Key("str", default="generator", choices=("generator", "counter"),
                    doc="uniforms drawn from the seeded generator, or a counter-based stream in the kernel"),
    "methods": Key("any", default=None, doc="a list of tables {name = ..., <key> = ...} overriding these keys"),
}


# --- the net ------------------------------------------------------------------------------
@register
class RBM(Net):
    """A restricted Boltzmann machine with ``V`` visible and ``H`` hidden 0/1 units.

    Parameters
    ----------
    W : ndarray (V, H)
    b_v : ndarray (V,), optional
    b_h : ndarray (H,), optional
        Biases (zero by default).
    """

    kind: ClassVar[str] = "rbm"
    stochastic: ClassVar[bool] = True
    binary: ClassVar[bool] = True
    has_rollout: ClassVar[bool] = True
    default_temperature: ClassVar[float] = 1.0
    State = RBMState
    #: scenario keys of a [net] table with kind = "rbm" (V comes from the data)
    config_keys: ClassVar[dict[str, Key]] = {
        "n_hidden": Key("int", min=1, doc="number of hidden units H"),
        "init_scale": Key("float", default=0.01, min=0.0, doc="initial W ~ N(0, init_scale^2) (Hinton 2010)"),
        "visible_bias": Key("str", default="data", choices=("data", "zero"),
                            doc="initial b_v: log(p_i / (1 - p_i)) of the data, or 0"),
        "hidden_bias": Key("float", default=0.0, doc="initial b_h (0; about -4 for sparsity)"),
    }
    #: training rules and the keys of their [train] tables
    rules: ClassVar[dict[str, dict[str, Key]]] = {"cd": CD_KEYS}

    def __init__(self, W, b_v=None, b_h=None):
        W = np.array(W, dtype=np.float64, copy=True)
        if W.ndim != 2 or 0 in W.shape:
            raise ValueError(f"W must be a non-empty (V, H) matrix, got shape {W.shape}")
        Vn, Hn = W.shape
        b_v = np.zeros(Vn) if b_v is None else np.array(b_v, dtype=np.float64, copy=True)
        b_h = np.zeros(Hn) if b_h is None else np.array(b_h, dtype=np.float64, copy=True)
        if b_v.shape != (Vn,) or b_h.shape != (Hn,):
            raise ValueError(f"b_v must have shape ({Vn},) and b_h ({Hn},), got {b_v.shape}, {b_h.shape}")
        for a in (W, b_v, b_h):
            if not np.all(np.isfinite(a)):
                raise ValueError("RBM parameters hold NaN or inf")
            a.setflags(write=False)
        self.params = RBMParams(W, b_v, b_h)
        self.symmetric = True
        self._hop_net = None

    @classmethod
    def init_from_data(cls, n_hidden: int, data: np.ndarray, *, rng: np.random.Generator, init_scale: float = 0.01,
                       visible_bias: str = "data", hidden_bias: float = 0.0) -> "RBM":
        """Hinton's (2010) initialisation: W ~ N(0, init_scale^2), b_v = log(p / (1 - p)), b_h = hidden_bias.

        p_i is the fraction of data vectors with v_i = 1, clipped to [1e-3, 1 - 1e-3].
        """
        X = np.asarray(data, dtype=np.float64)
        W = rng.normal(scale=init_scale, size=(X.shape[1], n_hidden)) if init_scale > 0 else \
            np.zeros((X.shape[1], n_hidden))
        if visible_bias == "data":
            p = np.clip(X.mean(axis=0), 1e-3, 1 - 1e-3)
            b_v = np.log(p / (1 - p))
        elif visible_bias == "zero":
            b_v = np.zeros(X.shape[1])
        else:
            raise ValueError(f"visible_bias must be 'data' or 'zero', got {visible_bias!r}")
        return cls(W, b_v, np.full(n_hidden, float(hidden_bias)))

    @property
    def n_visible(self) -> int:
        return self.params.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.params.W.shape[1]

    @property
    def n_units(self) -> int:
        return self.n_visible + self.n_hidden

    def groups(self) -> dict[str, np.ndarray]:
        """``visible`` (0..V-1), ``hidden`` (V..V+H-1) and ``all``."""
        V = self.n_visible
        return {"visible": np.arange(V), "hidden": V + np.arange(self.n_hidden), "all": np.arange(self.n_units)}

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_visible": self.n_visible, "n_hidden": self.n_hidden}

    def graph(self):
        """The complete bipartite graph visible x hidden (edge weight W_ij, also where it is 0)."""
        import networkx as nx

        V, W = self.n_visible, self.params.W
        g = nx.Graph()
        g.add_nodes_from(range(self.n_units))
        g.add_edges_from((i, V + j, {"weight": float(W[i, j])}) for i in range(V) for j in range(self.n_hidden))
        return g

    # --- states and dynamics ----------------------------------------------------------
    def init_state(self, *, rng: np.random.Generator) -> RBMState:
        """Every unit on with probability 1/2."""
        s = (rng.random(self.n_units) < 0.5).astype(np.int8)
        return RBMState(s[:self.n_visible].copy(), s[self.n_visible:].copy())

    def coerce_state(self, state):
        st = super().coerce_state(state)
        if not all(np.all((f == 0) | (f == 1)) for f in st):
            raise ValueError("RBM states must hold only 0 and 1")
        return st

    def field(self, state, x=None) -> np.ndarray:
        """Energy gaps of all units, (V + H,): [b_v + W h, b_h + W^T v]."""
        W, b_v, b_h = self.params
        return np.concatenate([b_v + W @ state.h.astype(np.float64), b_h + state.v.astype(np.float64) @ W])

    def energy(self, state, x=None) -> float:
        """E(v, h) = -b_v.v - b_h.h - v^T W h."""
        W, b_v, b_h = self.params
        v, h = state.v.astype(np.float64), state.h.astype(np.float64)
        return float(-(b_v @ v) - (b_h @ h) - v @ W @ h)

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> RBMState:
        """Heat-bath update of ``units`` (simultaneously, from the current state) at temperature T.

        P(unit on) = sigma(gap / T); T = 0: on if gap > 0, off if gap < 0, kept on a tie.
        """
        if x is not None:
            raise ValueError("an RBM takes no input stream")
        W, b_v, b_h = self.params
        V = self.n_visible
        idx = np.arange(self.n_units) if units is None else np.asarray(units)
        vi, hj = idx[idx < V], idx[idx >= V] - V
        gap = np.empty(len(idx))
        gap[idx < V] = b_v[vi] + W[vi] @ state.h.astype(np.float64)
        gap[idx >= V] = b_h[hj] + state.v.astype(np.float64) @ W[:, hj]
        s = np.concatenate([state.v, state.h])
        if T > 0:
            if u is None or len(u) != len(idx):
                raise ValueError(f"an update at T={T} needs one uniform per unit ({len(idx)})")
            new = np.where(np.asarray(u) < _sigmoid(gap / T), 1, 0)
        else:
            new = np.where(gap > 0, 1, np.where(gap < 0, 0, s[idx]))
        s[idx] = new
        return RBMState(s[:V], s[V:])

    @property
    def _hop(self):
        """The equivalent 0/1 Hopfield net on [[0, W], [W^T, 0]], theta = -[b_v, b_h] (built on first use)."""
        if self._hop_net is None:
            from .hopfield import Hopfield

            W, b_v, b_h = self.params
            V, N = self.n_visible, self.n_units
            Wf = np.zeros((N, N))
            Wf[:V, V:] = W
            Wf[V:, :V] = W.T
            self._hop_net = Hopfield(Wf, -np.concatenate([b_v, b_h]), units="binary", scale=1.0)
        return self._hop_net

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba sweeps of :mod:`nets._kernels.hopfield` on the block matrix (twin: :meth:`step`)."""
        from .hopfield import HopfieldState

        V = self.n_visible
        ticks, micro, micro_at, done, phase = self._hop.rollout(
            HopfieldState(np.concatenate([state.v, state.h])), drive, micro_every=micro_every, phase=phase,
            stop_fixed=stop_fixed)
        split = lambda s: RBMState(s.s[:V].copy(), s.s[V:].copy())  # noqa: E731
        return [split(s) for s in ticks], [split(s) for s in micro], micro_at, done, phase

    # --- exact quantities -------------------------------------------------------------
    def free_energy(self, V: np.ndarray) -> np.ndarray:
        """F(v) of visible vectors (B, V) -> (B,); see :func:`free_energy`."""
        return free_energy(self.params, V)

    def log_partition(self) -> float:
        return log_partition(self.params)

    def log_likelihood(self, data, *, weights=None) -> float:
        return log_likelihood(self.params, data, weights=weights)

    def as_boltzmann(self):
        """The same distribution as a general :class:`~nets.boltzmann.BoltzmannMachine` (visible first)."""
        from .boltzmann import BoltzmannMachine

        return BoltzmannMachine(self._hop.params.W, -self._hop.params.theta, visible=self.n_visible)


# --- training -----------------------------------------------------------------------------
class TrainResult(NamedTuple):
    rbm: RBM
    updates: np.ndarray  # (R,) update counts at which ``history`` was taken
    history: np.ndarray  # (R,) the monitored value (exact log-likelihood by default)


def _cd_chunk_numpy(p, X, idx, U, sched, chain, cfg) -> None:
    """Numpy twin of :func:`nets._kernels.rbm.cd_chunk`: ``len(U)`` CD/PCD updates in place.

    Uniforms of update t, ``U[t]`` (n_u,), in this order: for CD the B x H draws of the
    data-driven hidden states (row-major), then for each of the k Gibbs steps the n x V
    visible draws and the n x H hidden draws (n = chains for PCD, B for CD; visible draws
    are consumed, unused, when the visible probabilities are kept).
    """
    W, b_v, b_h, dW, dbv, dbh = p
    k, persistent, vprob, wd = int(cfg[0]), cfg[1] > 0, cfg[2] > 0, cfg[3]
    Vn, Hn = W.shape
    B = idx.shape[1]
    n = len(chain) if persistent else B
    for t in range(len(U)):
        lr, mu = sched[t]
        Xb = X[idx[t]]                                                        # (B, V)
        ph = _sigmoid(Xb @ W + b_h)                                           # (B, H)
        if persistent:
            h, off = chain.copy(), 0
        else:
            h, off = (U[t, :B * Hn].reshape(B, Hn) < ph).astype(np.float64), B * Hn
        for _ in range(k):
            pv = _sigmoid(h @ W.T + b_v)                                      # (n, V)
            v = pv if vprob else (U[t, off:off + n * Vn].reshape(n, Vn) < pv).astype(np.float64)
            off += n * Vn
            qh = _sigmoid(v @ W + b_h)                                        # (n, H)
            h = (U[t, off:off + n * Hn].reshape(n, Hn) < qh).astype(np.float64)
            off += n * Hn
        if persistent:
            chain[:] = h
        dW[:] = mu * dW + lr * (Xb.T @ ph / B - v.T @ qh / n - wd * W)
        dbv[:] = mu * dbv + lr * (Xb.mean(axis=0) - v.mean(axis=0))
        dbh[:] = mu * dbh + lr * (ph.mean(axis=0) - qh.mean(axis=0))
        W += dW
        b_v += dbv
        b_h += dbh


_CHUNK_DRAWS = 1 << 20  # uniforms drawn per block


def counter_uniforms(key: int, start: int, n: int) -> np.ndarray:
    """Numpy twin of :func:`nets._kernels.rbm.counter_uniforms`: uniforms start .. start + n - 1 of stream ``key``.

    SplitMix64 in counter mode (Steele, Lea & Flood, OOPSLA 2014): z = key + (c + 1) gamma,
    z ^= z >> 30, z *= m1, z ^= z >> 27, z *= m2, z ^= z >> 31; u = (z >> 11) / 2^53.
    """
    with np.errstate(over="ignore"):
        c = np.uint64(start) + np.arange(n, dtype=np.uint64) + np.uint64(1)
        z = np.uint64(key) + c * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def train(rbm: RBM, data: np.ndarray, *, rng: np.random.Generator, k: int = 1, persistent: bool = False,
          chains: int = 0, lr: float = 0.1, lr_final: float | None = None, updates: int = 1000, batch_size: int = 0,
          momentum: float = 0.0, momentum_final: float | None = None, momentum_switch: int = 0,
          weight_decay: float = 0.0, visible: str = "samples", uniforms: str = "generator", every: int = 0,
          monitor: Callable[[RBMParams], float] | None = None, fast: bool = True, **unused: Any) -> TrainResult:
    """Train by CD-k or PCD-k with mini-batches, momentum and weight decay.

    Per update, for a mini-batch X_b (B, V): positive phase p_h = sigma(X_b W + b_h); the
    chain starts at h ~ p_h (CD) or continues from the persistent hidden states (PCD,
    started from uniformly random visible states); k steps of v ~ P(v | h) (or its
    probabilities when ``visible="probabilities"``), then h ~ P(h | v), the last hidden
    layer's probabilities q_h entering the statistics:
    g_W = X_b^T p_h / B - v^T q_h / n, g_bv = mean(X_b) - mean(v), g_bh = mean(p_h) - mean(q_h);
    then Delta <- mu Delta + eta (g - lambda W), W <- W + Delta (biases without lambda).
    eta goes linearly from ``lr`` (update 0) towards ``lr_final`` (eta_t = lr + (lr_final
    - lr) t / updates); mu is ``momentum`` before update ``momentum_switch`` and
    ``momentum_final`` from then on.

    Parameters
    ----------
    rbm : RBM
        Initial machine (not modified).
    data : ndarray (D, V) of 0/1
    rng : Generator
        Every draw: the PCD chain starts, the mini-batch order (a child generator seeded
        from ``rng`` first), then the uniforms of the updates in blocks.
    uniforms : {"generator", "counter"}
        Where the uniforms of the updates come from: drawn from ``rng`` in blocks
        ("generator"), or generated inside the kernel per update by a counter-based
        SplitMix64 stream whose 64-bit key is drawn from ``rng`` ("counter": no array of
        uniforms, the faster choice; :func:`counter_uniforms` is its twin). The two give
        different (equally valid) random streams.
    every : int
        Evaluate ``monitor`` (default: exact log-likelihood of ``data``) at update 0 and
        every ``every`` updates (0: only at the end).
    fast : bool
        The numba kernel (:mod:`nets._kernels.rbm`); False runs its numpy twin. Both
        consume the same uniforms and agree to rounding.
    unused
        ``methods``/``name`` keys of a scenario table (ignored).

    Returns
    -------
    TrainResult
    """
    X = np.ascontiguousarray(data, dtype=np.float64)
    D = len(X)
    B = D if batch_size in (0, None) or batch_size >= D else int(batch_size)
    W, b_v, b_h = (np.array(a, dtype=np.float64) for a in rbm.params)
    Vn, Hn = W.shape
    if visible not in ("samples", "probabilities"):
        raise ValueError(f"visible must be 'samples' or 'probabilities', got {visible!r}")
    if uniforms not in ("generator", "counter"):
        raise ValueError(f"uniforms must be 'generator' or 'counter', got {uniforms!r}")
    monitor = monitor or (lambda p: log_likelihood(p, X))
    n = (chains or B) if persistent else B
    chain = np.zeros((n, Hn))
    if persistent:
        v0 = (rng.random((n, Vn)) < 0.5).astype(np.float64)
        chain[:] = rng.random((n, Hn)) < _sigmoid(v0 @ W + b_h)
    batch_rng = np.random.default_rng(int(rng.integers(0, 2**63)))
    if B == D:
        idx = np.broadcast_to(np.arange(D, dtype=np.int64), (updates, D))
    else:
        per = D // B
        perms = [batch_rng.permutation(D)[:per * B].reshape(per, B) for _ in range(-(-updates // per))]
        idx = np.concatenate(perms)[:updates].astype(np.int64)
    t = np.arange(updates, dtype=np.float64)
    eta = np.full(updates, lr) if lr_final is None else lr + (lr_final - lr) * t / updates
    mu = np.where((momentum_final is not None) & (t >= momentum_switch),
                  momentum if momentum_final is None else momentum_final, momentum)
    sched = np.column_stack([eta, mu])
    n_u = (0 if persistent else B * Hn) + k * n * (Vn + Hn)
    cfg = np.array([k, float(persistent), float(visible == "probabilities"), weight_decay])
    p = (W, b_v, b_h, np.zeros_like(W), np.zeros_like(b_v), np.zeros_like(b_h))
    key = int(rng.integers(0, 2**63, dtype=np.int64)) if uniforms == "counter" else 0
    ctr = np.array([uniforms == "counter", key, 0], dtype=np.uint64)
    work = (np.empty((B, Hn)), np.empty((n, Vn)), np.empty((n, Hn)), np.empty((n, Hn)), np.empty(Hn),
            np.empty((Vn, Hn)), ctr)
    Urow = np.empty((1, n_u))
    if fast:
        from ._kernels.rbm import cd_chunk
    hist_t, hist = [], []
    if every:
        hist_t.append(0)
        hist.append(monitor(RBMParams(W, b_v, b_h)))
    marks = list(range(every, updates, every)) if every else []
    step = max(1, _CHUNK_DRAWS // max(n_u, 1))
    done = 0
    for end in marks + [updates]:
        while done < end:
            c = min(step, end - done)
            if uniforms == "counter":
                ctr[2] = done * n_u
                U = Urow if fast else counter_uniforms(key, done * n_u, c * n_u).reshape(c, n_u)
            else:
                U = rng.random((c, n_u))
            sl = slice(done, done + c)
            if fast:
                cd_chunk(p, X, np.ascontiguousarray(idx[sl]), U, np.ascontiguousarray(sched[sl]), chain, cfg, work)
            else:
                _cd_chunk_numpy(p, X, idx[sl], U, sched[sl], chain, cfg)
            done += c
        if not np.all(np.isfinite(W)):
            raise FloatingPointError(f"RBM training diverged (non-finite weights after {done} updates)")
        if every or end == updates:
            hist_t.append(end)
            hist.append(monitor(RBMParams(W, b_v, b_h)))
    return TrainResult(RBM(W, b_v, b_h), np.asarray(hist_t), np.asarray(hist, dtype=np.float64))
