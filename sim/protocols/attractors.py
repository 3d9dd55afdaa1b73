r"""The attractor-map protocol: every state of a small net, where it goes, and how often.

Per trial a fresh set of random patterns is stored in a new net (N <= 20 units) by the
scenario's storage rule. The net's zero-temperature successor tables over all 2^N states
(``net.state_space()``, e.g. :func:`nets.hopfield_states.state_space`) are analysed
exactly by :mod:`sim.attractors`:

* synchronous dynamics x -> F(x): its cycles (fixed points and, for symmetric W, only
  2-cycles: Goles & Olivos 1980 [definition]) and their basins;
* single-unit dynamics under random-site updates (each update picks a unit uniformly at
  random, with replacement): its attractors (for symmetric W the fixed points, Hopfield
  1982 Eq. 8 [paper]) and the exact probability that the chain started at each state
  ends in each attractor (absorption probabilities of the Markov chain, from a sparse
  linear solve, not sampling). The basin of an attractor is the sum of its absorption
  probabilities over all states.

Attractors are classified against the stored patterns: stored, reversed (the complement
of a stored pattern), mixture (sign of a signed sum of an odd number >= 3 of patterns;
Amit, Gutfreund & Sompolinsky, PRA 32:1007 (1985) [abstract]), other spurious states,
and cyclic attractors (asymmetric W only).

Metrics per sweep point (means over trials, i.e. independent pattern sets, with 95 %
Student-t intervals, unless said otherwise):

* ``n_fixed_points``: fixed points of the deterministic dynamics (the same states for
  synchronous and single-unit updates);
* ``n_spurious``: fixed points that are neither a stored nor a reversed pattern;
* ``n_mixture``: those of them that are mixture states;
* ``n_attractors``: attractors of single-unit dynamics (fixed points and cyclic sets);
* ``stored_stable``: fraction of the stored patterns that are fixed points;
* ``basin_stored``: fraction of the 2^N states whose random-site dynamics ends in a stored
  pattern or a reversed one (expected value over the dynamics, exact);
* ``strict_stored``: fraction of states from which only one attractor is reachable and
  it is a stored or reversed pattern;
* ``basin_total``: sum of all basins / 2^N, which is 1 up to rounding (conservation of
  probability); reported for the trial farthest from 1;
* ``sync_cycles``: number of 2-cycles of synchronous dynamics;
* ``max_cycle_length``: the longest synchronous cycle, maximum over trials.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import attractors as am
from ..core import get_net
from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator, seed_sequence
from ..schedule import temperatures
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals
from ..tasks import random_patterns
from . import Protocol

#: the largest net whose 2^N states are enumerated
MAX_UNITS = 20
#: the largest net whose transition graph is drawn
MAX_GRAPH_UNITS = 8

_MEAN_METRICS = ("n_fixed_points", "n_spurious", "n_mixture", "n_attractors", "stored_stable", "basin_stored",
                 "strict_stored", "sync_cycles")


def _n_memories(data: dict, n_units: int) -> int:
    n, load = data.get("n_memories"), data.get("load")
    return int(n) if n is not None else int(round(load * n_units))


def analyse(net, patterns: np.ndarray, *, absorb: bool | None = False) -> dict[str, Any]:
    """The exact attractor map of ``net`` and its attractors' classes against ``patterns``.

    Parameters
    ----------
    net : Net
        A deterministic binary net with ``state_space()`` (N <= 20).
    patterns : ndarray (P, N)
        The stored patterns, in the net's unit convention (on = 1).
    absorb : bool or None
        Keep the (2^N, A) absorption matrix (see :func:`sim.attractors.async_map`).

    Returns
    -------
    dict
        ``sync`` (:class:`~sim.attractors.SyncMap`), ``async`` (:class:`~sim.attractors.AsyncMap`),
        ``codes`` (P,) pattern codes, ``classes`` (A,), ``overlaps`` (A, P), ``energy`` (A,)
        (mean over an attractor's states; NaN without an energy), and the metrics.
    """
    N = net.n_units
    n = 1 << N
    sync_next, async_next = net.state_space()
    smap = am.sync_map(sync_next)
    amap = am.async_map(async_next, absorb=absorb)
    P = np.asarray(patterns)
    codes = ((P == 1).astype(np.int64) << np.arange(N, dtype=np.int64)).sum(axis=1)   # (P,)
    cls, m = am.classify(amap.attractors, codes, N)
    energy = np.array([np.mean([_energy(net, int(x)) for x in states]) for states in amap.attractors])
    fixed = np.flatnonzero(sync_next == np.arange(n))
    is_fixed = amap.is_fixed
    fixed_async = np.sort(np.concatenate([amap.attractors[a] for a in np.flatnonzero(is_fixed)])) \
        if is_fixed.any() else np.empty(0, dtype=np.int64)
    if not np.array_equal(fixed, fixed_async):  # one update rule, two schedules: same fixed points
        raise RuntimeError("synchronous and single-unit fixed points differ; the successor tables disagree")
    idx = {c: am.CLASSES.index(c) for c in am.CLASSES}
    good = (cls == idx["stored"]) | (cls == idx["reversed"])
    class_basin = np.bincount(cls, weights=amap.basin, minlength=len(am.CLASSES)) / n
    metrics = {
        "n_fixed_points": float(len(fixed)),
        "n_spurious": float(np.count_nonzero(is_fixed & ~good)),
        "n_mixture": float(np.count_nonzero(cls == idx["mixture"])),
        "n_attractors": float(amap.n_attractors),
        "stored_stable": float(np.mean(sync_next[codes] == codes)),
        "basin_stored": float(amap.basin[good].sum() / n),
        "strict_stored": float(amap.strict_basin[good].sum() / n),
        "basin_total": float(amap.basin.sum() / n),
        "sync_cycles": float(np.count_nonzero(smap.length == 2)),
        "max_cycle_length": float(smap.length.max()),
    }
    return {"sync": smap, "async": amap, "codes": codes, "classes": cls, "overlaps": m, "energy": energy,
            "class_count": np.bincount(cls, minlength=len(am.CLASSES)), "class_basin": class_basin,
            "metrics": metrics}


def _energy(net, x: int) -> float:
    try:
        s = net.coerce_state(_decode(net, x))
        return float(net.energy(s))
    except NotImplementedError:
        return math.nan


def _decode(net, x: int) -> np.ndarray:
    on = ((x >> np.arange(net.n_units)) & 1).astype(bool)
    return np.where(on, 1, -1 if getattr(net, "units", "spin") == "spin" else 0).astype(np.int8)


def _patterns(P: int) -> str:
    return f"{P} pattern" + ("" if P == 1 else "s")


def attractor_labels(classes: np.ndarray, overlaps: np.ndarray) -> list[str]:
    """Short names: ξ3 (stored pattern 3), −ξ3 (reversed), mix k, spur k, cycle k."""
    out, count = [], {}
    for c, m in zip(classes, overlaps):
        name = am.CLASSES[int(c)]
        if name == "stored":
            out.append(f"ξ{int(np.argmax(m)) + 1}")
        elif name == "reversed":
            out.append(f"−ξ{int(np.argmin(m)) + 1}")
        else:
            count[name] = count.get(name, 0) + 1
            out.append(f"{ {'mixture': 'mix', 'spurious': 'spur', 'cycle': 'cycle'}[name]} {count[name]}")
    return out


class AttractorMap(Protocol):
    name = "attractor_map"
    sections = ("net", "train", "data")
    run_keys = {
        "demo": Key("bool", default=True, doc="map one extra pattern set in full for figures"),
        "demo_memories": Key("int", default=0, min=0, doc="patterns stored in the demo nets (figures); "
                                                          "0: as in the first sweep point"),
    }
    metrics = ("n_fixed_points", "n_spurious", "n_mixture", "n_attractors", "stored_stable", "basin_stored",
               "strict_stored", "basin_total", "sync_cycles", "max_cycle_length")
    plots = {
        "basins": {},
        "transition_graph": {"n_units": Key("int", default=6, min=2, max=MAX_GRAPH_UNITS,
                                            doc="units of the small net drawn (same rule, units, memories)")},
        "energy_hist": {},
        "basin_classes": {},
    }

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for label, cfg in scenario.points():
            net_cls = get_net(cfg["net"]["kind"])
            if not (hasattr(net_cls, "from_config") and hasattr(net_cls, "state_space")):
                raise ScenarioError(src, "net.kind", "the attractor_map protocol needs a net that stores patterns "
                                                     f"and enumerates its states, not {cfg['net']['kind']!r}")
            N = cfg["net"]["n_units"]
            if N > MAX_UNITS:
                raise ScenarioError(src, "net.n_units", f"expected at most {MAX_UNITS} units (2^N states are "
                                                        f"enumerated), got {N}")
            if cfg["run"]["schedule"] != "random-site":
                raise ScenarioError(src, "run.schedule", "expected 'random-site': basins are absorption "
                                                         "probabilities of random-site single-unit dynamics")
            if np.any(temperatures(cfg["run"]["temperature"], 1000) != 0):
                raise ScenarioError(src, "run.temperature", "expected 0: attractor maps are of the deterministic "
                                                            "(zero-temperature) dynamics")
            if cfg["data"]["task"] != "random_patterns":
                raise ScenarioError(src, "data.task", "the attractor_map protocol stores random_patterns")
            data = cfg["data"]
            if (data.get("n_memories") is None) == (data.get("load") is None) or _n_memories(data, N) < 1:
                raise ScenarioError(src, "data.n_memories", "give n_memories (an integer >= 1)")

    # --- one trial ----------------------------------------------------------------------
    @staticmethod
    def _net(cfg, ss):
        net_cfg = cfg["net"]
        N = net_cfg["n_units"]
        patterns = random_patterns(_n_memories(cfg["data"], N), N, units=net_cfg["units"],
                                   bias=cfg["data"]["bias"], rng=generator(ss, "data"))
        net = get_net(net_cfg["kind"]).from_config(net_cfg, cfg["train"], patterns, rng=generator(ss, "graph"))
        return patterns, net

    def trial(self, cfg, ss, k):
        patterns, net = self._net(cfg, child(ss, k))
        res = analyse(net, patterns, absorb=False)
        return {**res["metrics"], "class_count": res["class_count"], "class_basin": res["class_basin"]}

    def aggregate(self, cfg, results):
        metrics, intervals = means_with_intervals({name: [r[name] for r in results] for name in _MEAN_METRICS})
        lengths = np.array([r["max_cycle_length"] for r in results])
        metrics["max_cycle_length"] = float(lengths.max())
        intervals["max_cycle_length"] = (float(lengths.min()), float(lengths.max()))
        total = np.array([r["basin_total"] for r in results])
        metrics["basin_total"] = float(total[np.argmax(np.abs(total - 1.0))])
        intervals["basin_total"] = (float(total.min()), float(total.max()))
        return metrics, intervals

    # --- demo and figures -----------------------------------------------------------------
    @staticmethod
    def _demo_cfg(cfg, n_units=None):
        cfg = {s: dict(t) for s, t in cfg.items()}
        if cfg["run"]["demo_memories"]:
            cfg["data"]["n_memories"], cfg["data"]["load"] = cfg["run"]["demo_memories"], None
        if n_units is not None:
            cfg["net"]["n_units"] = n_units
        return cfg

    def demo(self, cfg, ss):
        if not cfg["run"]["demo"]:
            return None
        patterns, net = self._net(self._demo_cfg(cfg), child(ss, 0))
        res = analyse(net, patterns, absorb=False)
        amap = res["async"]
        # one random-site run from a random state, to see a descent into an attractor
        traj = simulate(net, ticks=cfg["run"]["sweeps"], schedule="random-site",
                        record=Record(micro=True, probes=("energy", "overlap"), patterns=patterns),
                        rng=child(ss, "demo", "dynamics"))
        return {"trajectory": traj, "patterns": patterns,
                "attractor_rep": np.array([a[0] for a in amap.attractors], dtype=np.int64),
                "attractor_size": np.array([len(a) for a in amap.attractors], dtype=np.int64),
                "attractor_class": res["classes"], "attractor_overlap": res["overlaps"],
                "attractor_energy": res["energy"], "basin": amap.basin, "strict_basin": amap.strict_basin,
                "reach_size": amap.reach_size, "sync_rep": res["sync"].rep, "sync_length": res["sync"].length,
                "sync_basin": res["sync"].basin}

    def figures(self, scenario, points, demo):
        from ..plots import attractors as fig_mod

        out = []
        name = scenario.meta["id"] or scenario.name
        cfg0 = scenario.points()[0][1]
        N = cfg0["net"]["n_units"]
        for spec in scenario.plots:
            kind = spec["kind"]
            if kind == "basin_classes":
                one_key = len(scenario.sweep) == 1
                rows = [{"label": (str(next(iter(p["values"].values()))) if one_key else p["label"]) or "all",
                         "fractions": np.mean([t["class_basin"] for t in p["trials"]], axis=0)} for p in points]
                keys = list(scenario.sweep)
                out.append((kind, fig_mod.class_basin_figure(
                    rows, xlabel=", ".join(keys) if keys else "", title=f"{name}: where the dynamics ends "
                    f"(N = {N}, mean over {cfg0['run']['trials']} pattern sets)")))
            elif kind == "transition_graph":
                n_graph = spec.get("n_units", self.plots[kind]["n_units"].default)
                out.append((kind, self._graph_figure(scenario, cfg0, n_graph, name)))
            elif demo is not None:
                P = len(demo["patterns"])
                labels = attractor_labels(demo["attractor_class"], demo["attractor_overlap"])
                if kind == "basins":
                    out.append((kind, fig_mod.basin_figure(
                        demo["basin"], demo["attractor_class"], n_states=1 << N, strict=demo["strict_basin"],
                        labels=labels, title=f"{name}: basins of one net (N = {N}, {_patterns(P)})")))
                elif kind == "energy_hist":
                    fixed = demo["attractor_size"] == 1
                    if fixed.any():
                        out.append((kind, fig_mod.fixed_point_energy_figure(
                            demo["attractor_energy"][fixed], demo["attractor_class"][fixed], n_units=N,
                            title=f"{name}: fixed points of one net (N = {N}, {_patterns(P)})")))
        return out

    def _graph_figure(self, scenario, cfg0, n_units, name):
        """The transition graph of a small net with the point-0 settings and ``n_units`` units."""
        from ..plots import attractors as fig_mod

        cfg = self._demo_cfg(cfg0, n_units)
        ss = child(seed_sequence(scenario.config["run"]["seed"]), "graph")
        patterns, net = self._net(cfg, ss)
        res = analyse(net, patterns, absorb=True)
        amap = res["async"]
        n = 1 << n_units
        level = np.array([_energy(net, x) for x in range(n)])
        has_energy = bool(np.all(np.isfinite(level)))
        return fig_mod.transition_graph_figure(
            amap.next, amap.attractors, amap.absorb, level=level if has_energy else None,
            labels=attractor_labels(res["classes"], res["overlaps"]), classes=res["classes"],
            title=f"{name}: single-unit moves of a net of {n_units} units, {_patterns(len(patterns))}")
