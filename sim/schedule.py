"""Update schedules (which units update when) and temperature schedules.

A *schedule* names an update discipline; :func:`make_plan` turns it into a :class:`Plan`
for one net. One tick (a *sweep*) is a sequence of *groups*; the units of a group update
simultaneously from the state left by the previous group:

==============  ====================================================================
``sync``        one group with every unit (Little dynamics; may 2-cycle)
``sequential``  N groups of one unit, in index order 0..N-1 every sweep
``random``      N groups of one unit, a new random permutation every sweep
``random-site`` N groups of one unit drawn with replacement (Hopfield's 1982
                "random in time" attempts; a unit may be visited 0 or several times)
``chromatic``   one group per colour class of a proper colouring of ``net.graph()``;
                units of a class share no edge, so a class updates in parallel exactly
                as it would one unit at a time (an RBM gets block Gibbs for free)
``blocks``      user-given groups (a partition of the units, indices or group names)
``clocked``     one group with every unit and one input ``x[t]`` per tick (sequence nets)
==============  ====================================================================

Every plan stores one tick's update order as ``order`` (length L) and the group
boundaries ``ptr`` (G+1 offsets into it); random plans draw a new ``order`` per tick from
the ``plan`` stream with :meth:`Plan.draw`.

Temperature schedules give T(t) per tick, as in Ackley, Hinton & Sejnowski (1985): a
constant, ``{kind="linear", T0, T1}``, ``{kind="geometric", T0, T1}`` (or ``factor``), or
the piecewise list ``[[T, duration], ...]`` (durations in sweeps; the last T is held).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

__all__ = ["SCHEDULES", "Plan", "make_plan", "greedy_colouring", "temperatures"]

SCHEDULES = ("sync", "sequential", "random", "random-site", "chromatic", "blocks", "clocked")


@dataclass(frozen=True, eq=False)
class Plan:
    """Which units update when, for one net.

    Attributes
    ----------
    kind : str
        The schedule name (one of :data:`SCHEDULES`).
    n_units : int
    order : ndarray (L,) int32
        One tick's update order (for random plans: the layout; see :meth:`draw`).
    ptr : ndarray (G+1,) int64
        Group boundaries in ``order``: group g is ``order[ptr[g]:ptr[g+1]]``.
    """

    kind: str
    n_units: int
    order: np.ndarray
    ptr: np.ndarray
    blocks: tuple[np.ndarray, ...] = field(default=())

    @property
    def n_groups(self) -> int:
        return len(self.ptr) - 1

    @property
    def updates_per_tick(self) -> int:
        return len(self.order)

    @property
    def synchronous(self) -> bool:
        """One group holding every unit (sync or clocked)."""
        return self.kind in ("sync", "clocked")

    @property
    def deterministic(self) -> bool:
        """The same order every tick (no draws from the plan stream)."""
        return self.kind not in ("random", "random-site")

    @property
    def clocked(self) -> bool:
        return self.kind == "clocked"

    def draw(self, n_ticks: int, rng: np.random.Generator) -> np.ndarray:
        """The update orders of the next ``n_ticks`` ticks, shape (n_ticks, L), int32.

        Draws are made tick by tick, so splitting a run into chunks never changes them.
        Deterministic plans return a read-only broadcast view and draw nothing.
        """
        n = self.n_units
        if self.kind == "random":
            out = np.empty((n_ticks, n), dtype=np.int32)
            for t in range(n_ticks):
                out[t] = rng.permutation(n)
            return out
        if self.kind == "random-site":
            out = np.empty((n_ticks, n), dtype=np.int32)
            for t in range(n_ticks):
                out[t] = rng.integers(0, n, size=n)
            return out
        return np.broadcast_to(self.order, (n_ticks, len(self.order)))


def greedy_colouring(graph) -> list[np.ndarray]:
    """Colour classes of a proper colouring (networkx greedy, largest-first; deterministic)."""
    import networkx as nx

    colours = nx.coloring.greedy_color(graph, strategy="largest_first")
    n_col = max(colours.values(), default=-1) + 1
    classes: list[list[int]] = [[] for _ in range(n_col)]
    for node, c in colours.items():
        classes[c].append(int(node))
    return [np.array(sorted(c), dtype=np.int32) for c in classes]


def _from_groups(kind: str, n: int, groups: Sequence[np.ndarray]) -> Plan:
    order = np.concatenate([np.asarray(g, dtype=np.int32) for g in groups]) if groups else np.zeros(0, np.int32)
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(g) for g in groups])
    if len(order) != n or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError(f"{kind} groups must partition the {n} units (each exactly once)")
    order.setflags(write=False)
    ptr.setflags(write=False)
    return Plan(kind, n, order, ptr, tuple(np.asarray(g, dtype=np.int32) for g in groups))


def make_plan(schedule: str | Plan, net, *, blocks: Sequence[Any] | None = None) -> Plan:
    """Build the :class:`Plan` of ``schedule`` for ``net``.

    Parameters
    ----------
    schedule : str or Plan
        One of :data:`SCHEDULES` (a Plan is returned unchanged after a size check).
    net : Net
    blocks : sequence, optional
        For ``"blocks"``: the groups, each a list of unit indices or a name from
        ``net.groups()``.
    """
    n = net.n_units
    if isinstance(schedule, Plan):
        if schedule.n_units != n:
            raise ValueError(f"plan is for {schedule.n_units} units, net has {n}")
        return schedule
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    if schedule == "clocked" and net.n_inputs == 0:
        raise ValueError(f"schedule 'clocked' feeds one input per tick, but {net.kind} takes no input")
    if schedule != "clocked" and net.n_inputs > 0:
        raise ValueError(f"{net.kind} is driven by an input stream: use schedule 'clocked'")
    if schedule in ("sync", "clocked"):
        return _from_groups(schedule, n, [np.arange(n)])
    if schedule in ("sequential", "random", "random-site"):
        order = np.arange(n, dtype=np.int32)
        order.setflags(write=False)
        ptr = np.arange(n + 1, dtype=np.int64)
        ptr.setflags(write=False)
        return Plan(schedule, n, order, ptr)
    if schedule == "chromatic":
        return _from_groups(schedule, n, greedy_colouring(net.graph()))
    if not blocks:
        raise ValueError("schedule 'blocks' needs blocks=[...] (unit indices or group names)")
    named = net.groups()
    groups = []
    for b in blocks:
        if isinstance(b, str):
            if b not in named:
                raise ValueError(f"unknown group {b!r}; {net.kind} has {', '.join(named)}")
            groups.append(named[b])
        else:
            a = np.asarray(b)
            # no silent truncation of 1.5 -> 1 or True -> 1: a block is a list of unit indices
            if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
                raise ValueError(f"a block is a list of unit indices or a group name, got {b!r}")
            groups.append(a.astype(np.int32))
    return _from_groups("blocks", n, groups)


def _number(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"temperature schedule value {what} must be a number, got {value!r}")
    return float(value)


def temperatures(spec: Any, ticks: int) -> np.ndarray:
    """T(t) for ``t = 0..ticks-1`` from a temperature schedule.

    Parameters
    ----------
    spec : float, list of [T, duration] pairs, or dict
        ``None`` or 0 gives zero temperature (deterministic dynamics).
        ``[[20, 2], [15, 2], [12, 2], [10, 4]]`` is the Ackley-Hinton-Sejnowski schedule:
        2 sweeps at T=20, then 2 at 15, ...; after the last pair its T is held.
        ``{"kind": "linear", "T0": a, "T1": b}`` and ``{"kind": "geometric", "T0": a,
        "T1": b}`` go from a at t=0 to b at t=ticks-1; ``{"kind": "geometric", "T0": a,
        "factor": r}`` gives a * r**t; ``{"kind": "constant", "T": a}``.
    ticks : int

    Returns
    -------
    ndarray (ticks,) float64, every value >= 0 and finite.
    """
    if ticks < 0:
        raise ValueError(f"ticks must be >= 0, got {ticks}")
    t = np.arange(ticks, dtype=np.float64)
    if spec is None:
        out = np.zeros(ticks)
    elif isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        out = np.full(ticks, float(spec))
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("a piecewise temperature schedule needs at least one [T, duration] pair")
        values = []
        for pair in spec:
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                raise ValueError(f"piecewise schedule entries are [T, duration] pairs, got {pair!r}")
            T, d = pair
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
                raise ValueError(f"duration must be a whole number of sweeps >= 1, got {d!r}")
            values.extend([_number(T, "T")] * int(d))
        values = values[:ticks] + [values[-1]] * max(0, ticks - len(values))
        out = np.asarray(values, dtype=np.float64)
    elif isinstance(spec, dict):
        kind = spec.get("kind")
        known = {"constant": {"T"}, "linear": {"T0", "T1"}, "geometric": {"T0", "T1", "factor"}}
        if kind not in known:
            raise ValueError(f"temperature kind must be one of {', '.join(known)}, got {kind!r}")
        extra = set(spec) - known[kind] - {"kind"}
        if extra:
            raise ValueError(f"unknown keys for a {kind} temperature schedule: {', '.join(sorted(extra))}")
        required = {"constant": ("T",), "linear": ("T0", "T1"), "geometric": ("T0",)}[kind]
        missing = [k for k in required if k not in spec]
        if kind == "geometric" and "T1" not in spec and "factor" not in spec:
            missing.append("T1 or factor")
        if missing:
            raise ValueError(f"a {kind} temperature schedule needs {', '.join(missing)}")
        v = {k: _number(spec[k], k) for k in spec if k != "kind"}
        frac = t / max(ticks - 1, 1)
        if kind == "constant":
            out = np.full(ticks, v["T"])
        elif kind == "linear":
            out = v["T0"] + (v["T1"] - v["T0"]) * frac
        elif "factor" in spec:
            if "T1" in spec:
                raise ValueError("a geometric schedule takes T1 or factor, not both")
            out = v["T0"] * v["factor"] ** t
        else:
            T0, T1 = v["T0"], v["T1"]
            if T0 <= 0 or T1 <= 0:
                raise ValueError("a geometric schedule from T0 to T1 needs T0 > 0 and T1 > 0")
            out = T0 * (T1 / T0) ** frac
    else:
        raise ValueError(f"cannot read a temperature schedule from {spec!r}")
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ValueError("temperatures must be finite and >= 0")
    return out
