r"""The recall protocol: do stored memories survive as fixed points of the dynamics?

Per trial, a fresh set of ``n_memories`` random patterns is stored in a new net by the
scenario's storage rule. The net is started at each memory (or at a cue with a fraction
``cue_noise`` of its units flipped) and run with the scenario's schedule until it stops
at a fixed point (or for at most ``sweeps`` sweeps). The final state is compared with the
memory.

This is the protocol of Hopfield (1982, Fig. 2): N = 100, 0/1 units, asynchronous
updates, "started at each assigned nominal memory state ... allowed to evolve until
stationary", and the count of errors in the final state.

Metrics per sweep point (means over all memories of all trials; intervals are 95%
Student-t intervals over trials, each trial being one independent weight matrix):

* ``exact_recall``: fraction of memories recalled with no error;
* ``recall_lt5``: fraction recalled with fewer than 5 errors;
* ``mean_errors``: mean Hamming distance between final state and memory;
* ``mean_overlap``: mean overlap m = 1 - 2 errors / N;
* ``converged``: fraction of runs that stopped at a fixed point;
* ``mean_sweeps``: mean number of sweeps run.

The demo stores the memories of trial 0, starts from memory 1 with a fraction
``demo_cue_noise`` of its units flipped, and records every single-unit update.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals
from ..tasks import corrupt, random_patterns
from . import Protocol


class Recall(Protocol):
    name = "recall"
    sections = ("net", "train", "data")
    run_keys = {
        "cue_noise": Key("float", default=0.0, min=0.0, max=1.0,
                         doc="fraction of units flipped in the starting cue (0: start at the memory)"),
        "demo": Key("bool", default=True, doc="record one pattern-completion run for figures"),
        "demo_cue_noise": Key("float", default=0.2, min=0.0, max=1.0),
    }
    metrics = ("exact_recall", "recall_lt5", "mean_errors", "mean_overlap", "converged", "mean_sweeps")
    plots = {
        "energy": {}, "overlap": {}, "raster": {},
        "snapshots": {"shape": Key("int_list", min=1, doc="image shape, e.g. [10, 10]")},
        "recall_curve": {},
        "network": {"layout": Key("str", default="circular", choices=("circular", "spring"))},
    }

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for label, cfg in scenario.points():
            net_cls = get_net(cfg["net"]["kind"])
            if not hasattr(net_cls, "from_config"):
                raise ScenarioError(src, "net.kind", f"the recall protocol needs a net that stores patterns, "
                                                     f"not {cfg['net']['kind']!r}")
            if cfg["run"]["schedule"] in ("clocked", "blocks"):
                raise ScenarioError(src, "run.schedule", "expected sync, sequential, random, random-site or chromatic")
            if cfg["data"]["task"] != "random_patterns":
                raise ScenarioError(src, "data.task", "the recall protocol stores random_patterns")
            if cfg["data"]["n_memories"] is None or cfg["data"]["load"] is not None:
                raise ScenarioError(src, "data.n_memories", "this key is required by the recall protocol "
                                                            "(an integer >= 1; it takes no data.load)")
            for p in scenario.plots:
                if p["kind"] == "snapshots" and "shape" in p and math.prod(p["shape"]) != cfg["net"]["n_units"]:
                    raise ScenarioError(src, "plot.shape", f"shape {p['shape']} does not hold "
                                                           f"{cfg['net']['n_units']} units")

    # --- one trial ----------------------------------------------------------------------
    @staticmethod
    def _memories(cfg, ss):
        net_cfg, data = cfg["net"], cfg["data"]
        patterns = random_patterns(data["n_memories"], net_cfg["n_units"], units=net_cfg["units"],
                                   bias=data["bias"], rng=generator(ss, "data"))
        net = get_net(net_cfg["kind"]).from_config(net_cfg, cfg["train"], patterns, rng=generator(ss, "graph"))
        return patterns, net

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        patterns, net = self._memories(cfg, ss_k)
        run, units = cfg["run"], cfg["net"]["units"]
        cue_rng = generator(ss_k, "cue")
        errors = np.empty(len(patterns), dtype=np.int64)
        sweeps = np.empty(len(patterns), dtype=np.int64)
        converged = np.empty(len(patterns), dtype=bool)
        for mu, xi in enumerate(patterns):
            cue = corrupt(xi, run["cue_noise"], units=units, rng=cue_rng)
            traj = simulate(net, cue, ticks=run["sweeps"], schedule=run["schedule"], temperature=run["temperature"],
                            record=Record(every=run["sweeps"], probes=()), rng=child(ss_k, "dynamics", mu))
            errors[mu] = int(np.count_nonzero(traj.final.s != xi))
            sweeps[mu] = traj.ticks
            converged[mu] = traj.status == "converged"
        return {"errors": errors, "sweeps": sweeps, "converged": converged}

    def aggregate(self, cfg, results):
        N = cfg["net"]["n_units"]
        per = {
            "exact_recall": [np.mean(r["errors"] == 0) for r in results],
            "recall_lt5": [np.mean(r["errors"] < 5) for r in results],
            "mean_errors": [np.mean(r["errors"]) for r in results],
            "mean_overlap": [np.mean(1 - 2 * r["errors"] / N) for r in results],
            "converged": [np.mean(r["converged"]) for r in results],
            "mean_sweeps": [np.mean(r["sweeps"]) for r in results],
        }
        return means_with_intervals(per)

    # --- demo and figures -----------------------------------------------------------------
    def demo(self, cfg, ss):
        if not cfg["run"]["demo"]:
            return None
        patterns, net = self._memories(cfg, child(ss, 0))
        cue = corrupt(patterns[0], cfg["run"]["demo_cue_noise"], units=cfg["net"]["units"],
                      rng=generator(ss, "demo", "cue"))
        probes = tuple(p for p in cfg["record"]["probes"] if p != "state")
        every = cfg["record"]["every"]
        record = Record(every=1 if every in ("sweep", "update") else every, micro=every == "update",
                        probes=probes, patterns=patterns if "overlap" in probes else None)
        traj = simulate(net, cue, ticks=cfg["run"]["sweeps"], schedule=cfg["run"]["schedule"],
                        temperature=cfg["run"]["temperature"], record=record, rng=child(ss, "demo", "dynamics"))
        return {"trajectory": traj, "patterns": patterns, "cue": cue, "W": np.asarray(net.params.W)}

    def figures(self, scenario, points, demo):
        from .. import plots

        out = []
        for spec in scenario.plots:
            kind = spec["kind"]
            if kind == "recall_curve":
                rows = [{"n": p["values"]["data.n_memories"], "exact": p["metrics"]["exact_recall"],
                         "exact_lo": p["intervals"]["exact_recall"][0], "exact_hi": p["intervals"]["exact_recall"][1],
                         "lt5": p["metrics"]["recall_lt5"]}
                        for p in points if "data.n_memories" in p["values"]]
                if not rows:
                    continue
                published = [{"n": e.get("n"), "value": e.get("value"), "label": e.get("label", "published")}
                             for e in _published(scenario)]
                out.append(("recall_curve", plots.recall_figure(rows, published=published or None,
                                                                title=scenario.meta["title"])))
                continue
            if demo is None:
                continue
            if kind == "network":
                import networkx as nx

                g = nx.from_numpy_array(demo["W"].astype(np.float64))
                title = f"{scenario.meta['id'] or scenario.name}: couplings of the demo net ({points[0]['label']})"
                out.append(("network", plots.network_figure(g, layout=spec.get("layout", "circular"), title=title)))
                continue
            traj, title = demo["trajectory"], f"{scenario.meta['id'] or scenario.name}: recall from a corrupted cue"
            if kind == "energy":
                fig = plots.energy_figure(traj, title=title)
            elif kind == "overlap":
                fig = plots.overlap_figure(traj, title=title)
            elif kind == "raster":
                fig = plots.raster_figure(traj, title=title)
            else:
                n = traj.final.s.size
                shape = tuple(spec.get("shape") or _square(n))
                fig = plots.snapshots_figure(traj, shape=shape, patterns=demo["patterns"], title=title)
            out.append((kind, fig))
        return out


def _square(n: int) -> tuple[int, int]:
    r = int(math.isqrt(n))
    if r * r == n:
        return (r, r)
    for a in range(r, 0, -1):
        if n % a == 0:
            return (a, n // a)
    return (1, n)


def _published(scenario) -> list[dict[str, Any]]:
    """Published points for the recall curve, read from numeric ``published`` values of exact_recall."""
    out = []
    for e in scenario.expect:
        if e.metric.startswith("exact_recall[n_memories=") and isinstance(e.published, (int, float)):
            n = int(e.metric.split("=")[1].rstrip("]"))
            out.append({"n": n, "value": float(e.published), "label": "published (exact recall)"})
    return out
