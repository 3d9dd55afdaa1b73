"""What a simulation keeps (:class:`Record`) and what it returns (:class:`Trajectory`).

Records are taken

* at ``t = 0`` (the initial state), then after every ``every``-th completed tick
  (sweep), and after the last tick run; or, with ``micro=True``,
* after every ``every``-th *group update* (for serial schedules: every ``every``
  single-unit updates), and after the last one.

Only states are recorded during the run; the derived probes (energy, overlaps with
stored patterns, norm of the local field ``-dE/ds``) are computed from the recorded
states afterwards, so asking for a probe never changes the dynamics or the noise.

Status values: ``"ok"`` (ran every tick), ``"converged"`` (stopped at a fixed point of
the zero-temperature dynamics), ``"cycle"`` (a deterministic schedule revisited an earlier
state; ``period`` says after how many ticks), ``"diverged"`` (a NaN or inf appeared; the
trajectory ends at the last finite state).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = ["PROBES", "STATUSES", "Record", "Trajectory"]

PROBES = ("state", "energy", "overlap", "field_norm")
STATUSES = ("ok", "converged", "cycle", "diverged")


@dataclass(frozen=True, eq=False)
class Record:
    """What to keep and how often.

    Parameters
    ----------
    every : int
        Keep a record every ``every`` ticks (or group updates when ``micro``).
    micro : bool
        Record after single group updates instead of whole ticks.
    probes : tuple of str
        From :data:`PROBES`. States are always kept. None (the default): the state,
        and the energy when the net has one.
    patterns : ndarray (P, N), optional
        Reference patterns for the ``"overlap"`` probe, in the net's unit convention.
    """

    every: int = 1
    micro: bool = False
    probes: tuple[str, ...] | None = None
    patterns: np.ndarray | None = None

    def __post_init__(self):
        if not isinstance(self.every, (int, np.integer)) or isinstance(self.every, bool) or self.every < 1:
            raise ValueError(f"Record.every must be an int >= 1, got {self.every!r}")
        unknown = [p for p in (self.probes or ()) if p not in PROBES]
        if unknown:
            raise ValueError(f"unknown probe(s) {unknown}; expected some of {', '.join(PROBES)}")
        if "overlap" in (self.probes or ()) and self.patterns is None:
            raise ValueError("the 'overlap' probe needs Record(patterns=...)")


@dataclass(eq=False)
class Trajectory:
    """The result of :func:`sim.simulate`.

    Attributes
    ----------
    states : dict of str -> ndarray (R, ...)
        Recorded values of each state field.
    t : ndarray (R,) float
        Time of each record in ticks (sweeps); fractional for micro records.
    update : ndarray (R,) int
        Number of group updates completed at each record.
    final : State
        The state at the end of the run.
    ticks : int
        Ticks completed.
    status : str
        One of :data:`STATUSES`.
    period : int or None
        Cycle length in ticks when ``status == "cycle"``.
    temperature : ndarray (ticks,)
        T(t) used at each completed tick.
    probes : dict of str -> ndarray
        ``"energy"`` (R,), ``"overlap"`` (R, P), ``"field_norm"`` (R,) when requested.
    seed : dict
        ``entropy`` and ``spawn_key`` of the run's SeedSequence (to rerun it).
    """

    states: dict[str, np.ndarray]
    t: np.ndarray
    update: np.ndarray
    final: NamedTuple
    ticks: int
    status: str
    period: int | None = None
    temperature: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probes: dict[str, np.ndarray] = field(default_factory=dict)
    seed: dict[str, Any] = field(default_factory=dict)
    schedule: str = ""

    @property
    def energy(self) -> np.ndarray:
        return self._probe("energy")

    @property
    def overlap(self) -> np.ndarray:
        return self._probe("overlap")

    @property
    def field_norm(self) -> np.ndarray:
        return self._probe("field_norm")

    def _probe(self, name: str) -> np.ndarray:
        if name not in self.probes:
            raise KeyError(f"probe {name!r} was not recorded; ask for it in Record(probes=...)")
        return self.probes[name]

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Every array of the trajectory, flat, for ``np.savez`` (no objects, no pickles)."""
        out = {f"{prefix}t": self.t, f"{prefix}update": self.update,
               f"{prefix}temperature": self.temperature}
        out.update({f"{prefix}state.{k}": v for k, v in self.states.items()})
        out.update({f"{prefix}final.{k}": np.asarray(v) for k, v in zip(self.final._fields, self.final)})
        out.update({f"{prefix}probe.{k}": v for k, v in self.probes.items()})
        return out

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "ticks": self.ticks, "period": self.period,
                "records": int(len(self.t)), "schedule": self.schedule, "seed": self.seed}
