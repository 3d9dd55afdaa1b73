"""The Net interface and the registry of networks.

Every network in rnnlab is a discrete-time dynamical system

    s[t+1] = F(s[t], x[t], u[t]; params)

with ``s`` the state (a NamedTuple of arrays), ``x`` an optional input, ``u`` pre-drawn
uniform noise in [0, 1) and ``params`` a NamedTuple of arrays. A net supplies a pure
numpy reference :meth:`Net.step` and, optionally, a numba fast path :meth:`Net.rollout`;
:func:`sim.simulate` drives either with the same plan and the same noise, and both give
the same trajectory (bit for bit for binary units, to 1e-12 for float units).
"""
from __future__ import annotations

import abc
from typing import Any, ClassVar, NamedTuple

import numpy as np

__all__ = ["Net", "register", "get_net", "registry", "states_equal", "state_is_finite"]

_REGISTRY: dict[str, type["Net"]] = {}


def register(cls: type["Net"]) -> type["Net"]:
    """Class decorator: register a Net subclass under its ``kind``."""
    kind = getattr(cls, "kind", None)
    if not kind or not isinstance(kind, str):
        raise TypeError(f"{cls.__name__} must define a string class attribute 'kind'")
    if kind in _REGISTRY and _REGISTRY[kind] is not cls:
        raise ValueError(f"net kind {kind!r} is already registered by {_REGISTRY[kind].__name__}")
    _REGISTRY[kind] = cls
    return cls


def registry() -> dict[str, type["Net"]]:
    """All registered net classes by kind (importing ``nets`` registers the built-ins)."""
    import nets  # noqa: F401  (registers the built-in nets)

    return dict(_REGISTRY)


def get_net(kind: str) -> type["Net"]:
    """The net class registered under ``kind``."""
    reg = registry()
    if kind not in reg:
        raise KeyError(f"unknown net kind {kind!r}; known: {', '.join(sorted(reg))}")
    return reg[kind]


class Net(abc.ABC):
    """A discrete-time system ``s[t+1] = F(s[t], x[t], u[t]; params)``.

    Subclasses set ``kind`` (registry key), ``stochastic`` (always consumes noise) and
    ``n_inputs`` (0 for autonomous nets), hold their arrays in ``self.params`` and
    implement :meth:`init_state` and :meth:`step`.
    """

    kind: ClassVar[str]
    stochastic: ClassVar[bool] = False
    #: whether units take a finite set of values (exact comparisons) or floats
    binary: ClassVar[bool] = False
    #: the NamedTuple type of this net's states
    State: ClassVar[type]
    #: temperature used when simulate() is given none (0: deterministic dynamics)
    default_temperature: ClassVar[float] = 0.0
    params: NamedTuple
    n_inputs: int = 0

    # --- sizes and groups -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def n_units(self) -> int:
        """Number of units the schedules address."""

    def groups(self) -> dict[str, np.ndarray]:
        """Named unit sets; always contains ``"all"``."""
        return {"all": np.arange(self.n_units)}

    # --- dynamics ---------------------------------------------------------------------
    @abc.abstractmethod
    def init_state(self, *, rng: np.random.Generator) -> NamedTuple:
        """A random initial state drawn from ``rng``."""

    @abc.abstractmethod
    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0):
        """Pure reference update: update ``units`` (all when None) simultaneously.

        Parameters
        ----------
        state : State
            Current state; never modified.
        x : ndarray (n_inputs,), optional
            Input at this tick.
        units : ndarray of int, optional
            The units updated together (a sync group); None means all units.
        u : ndarray (len(units),), optional
            Uniforms in [0, 1), one per updated unit, consumed when ``uses_noise(T)``.
        T : float
            Temperature; 0 means deterministic dynamics.
        """

    def uses_noise(self, T: float) -> bool:
        """Whether an update at temperature ``T`` consumes uniforms."""
        return self.stochastic or T > 0

    # --- optional ---------------------------------------------------------------------
    def energy(self, state, x=None) -> float:
        raise NotImplementedError(f"{self.kind} has no energy function")

    def field(self, state, x=None) -> np.ndarray:
        raise NotImplementedError(f"{self.kind} has no local field")

    def overlap(self, state, patterns: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.kind} has no overlap with patterns")

    def coerce_state(self, state):
        """Validate a user-given state (a State, or one array for one-field states)."""
        fields = self.State._fields
        if not isinstance(state, tuple) or not hasattr(state, "_fields"):
            if len(fields) != 1:
                raise TypeError(f"{self.kind} states have fields {fields}; pass a {self.State.__name__}")
            state = self.State(state)
        elif tuple(state._fields) != tuple(fields):
            raise TypeError(f"expected a {self.State.__name__} with fields {fields}, got {state._fields}")
        ref = self.__dict__.get("_state_template")
        if ref is None:  # shapes and dtypes of this net's states, made once
            ref = self._state_template = self.init_state(rng=np.random.default_rng(0))
        out = []
        for name, have, want in zip(fields, state, ref):
            a = np.asarray(have)
            if a.shape != np.shape(want):
                raise ValueError(f"state field {name!r} must have shape {np.shape(want)}, got {a.shape}")
            dtype = np.asarray(want).dtype
            with np.errstate(invalid="ignore"):
                cast = np.array(a, dtype=dtype, copy=True)
            # no silent truncation (0.5 -> 0) or wrap-around (300 -> 44) of integer fields
            if dtype.kind in "iub" and not np.array_equal(cast, a):
                raise ValueError(f"state field {name!r} holds values that are not valid {dtype} values")
            out.append(cast)
        return self.State(*out)

    def graph(self):
        """The weighted coupling graph (networkx): an edge i - j wherever W_ij or W_ji != 0.

        Edge attributes: ``weight`` = W_ij (i < j) and, for asymmetric W, ``weight_ji`` = W_ji.
        """
        import networkx as nx

        W = getattr(self.params, "W", None)
        if W is None:
            raise NotImplementedError(f"{self.kind} has no weight matrix W to build a graph from")
        g = nx.Graph()
        g.add_nodes_from(range(W.shape[0]))
        i, j = np.nonzero(np.triu((W != 0) | (W.T != 0), 1))
        symmetric = getattr(self, "symmetric", None)
        if symmetric is None:
            symmetric = bool(np.array_equal(W, W.T))
        if symmetric:
            g.add_edges_from((int(a), int(b), {"weight": float(W[a, b])}) for a, b in zip(i, j))
        else:
            g.add_edges_from((int(a), int(b), {"weight": float(W[a, b]), "weight_ji": float(W[b, a])})
                             for a, b in zip(i, j))
        return g

    def is_fixed_point(self, state, x=None) -> bool:
        """Whether a deterministic update of every unit leaves ``state`` unchanged."""
        return states_equal(self.step(state, x, T=0.0), state)

    #: set by nets with a numba fast path (see :meth:`rollout`)
    has_rollout: ClassVar[bool] = False

    def rollout(self, state, drive: dict[str, Any], *, micro_every: int, stop_fixed: bool):
        """Numba fast path over a chunk of ticks (see :func:`sim.simulate`)."""
        raise NotImplementedError(f"{self.kind} has no fast path")

    def describe(self) -> dict[str, Any]:
        """Hyper-parameters for manifests (JSON-friendly)."""
        return {"kind": self.kind, "n_units": self.n_units}


def states_equal(a, b) -> bool:
    """Exact equality of two states (same fields, same values)."""
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def state_is_finite(state) -> bool:
    """False when any float field of ``state`` holds NaN or inf."""
    return all(
        not np.issubdtype(np.asarray(f).dtype, np.floating) or bool(np.all(np.isfinite(f)))
        for f in state
    )
