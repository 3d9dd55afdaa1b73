r"""The capacity protocol: how well does a net retrieve a stored pattern at load alpha = P/N?

Amit, Gutfreund & Sompolinsky (1987), Ann. Phys. 173:30: with p = alpha N random
patterns stored by the Hebb rule, W = (1/N) sum_mu xi^mu xi^mu^T (zero diagonal), the
T = 0 retrieval state has overlap m(alpha) = erf(y), sqrt(2 alpha) = erf(y)/y -
(2/sqrt(pi)) e^{-y^2}, and disappears at alpha_c = 0.138 (RS theory, see
:mod:`nets.hopfield_theory`). "Numerical simulations show that even above alpha_c the
overlaps with the stored patterns are not zero, but the level of error precludes
meaningful retrieval" [abstract].

Per trial (one independent pattern set):

1. draw P random patterns of N = ``net.n_units`` units (``data.n_memories``, or
   ``data.load`` with P = round(load N); exactly one of the two);
2. store them with the ``[train]`` rule (``from_patterns(patterns, units=..., rule=...,
   **other train keys)``);
3. start the net at each of the first ``min(run.probes, P)`` patterns and run the
   ``run.schedule`` dynamics at T = 0 until a fixed point (at most ``run.sweeps``
   sweeps; a synchronous schedule may end in a 2-cycle);
4. record the final overlap m = (1/N) sum_i xi_i s_i in spin variables.

Metrics per sweep point (means over trials of the per-trial means over probed patterns;
intervals are 95 % Student-t intervals over trials, each trial an independent pattern
set): ``mean_overlap``, ``retrieved`` (fraction with m > 0.9), ``exact_recall``
(fraction with m = 1), ``mean_sweeps``, ``converged`` (fraction that stopped at a fixed
point) and ``alpha`` (P/N actually stored, after rounding).

Figure ``capacity_curve``: mean m against alpha for every N of the sweep, with the RS
curve and alpha_c (``theory = "ags"``) and the fraction retrieved on a second panel.
"""
from __future__ import annotations

import numpy as np

from nets import hopfield_theory as theory

from ..core import get_net
from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals
from ..tasks import n_patterns, random_patterns
from . import Protocol

RETRIEVED = 0.9  # a run counts as retrieved when its final overlap exceeds this


def stored_net(cfg, ss: np.random.SeedSequence):
    """A fresh pattern set (P, N) from the ``data`` stream of ``ss`` and the net storing it."""
    net_cfg, data, train = cfg["net"], cfg["data"], cfg["train"]
    N = net_cfg["n_units"]
    patterns = random_patterns(n_patterns(data, N), N, units=net_cfg["units"], bias=data["bias"],
                               rng=generator(ss, "data"))
    extra = {k: v for k, v in train.items() if k != "rule"}
    net = get_net(net_cfg["kind"]).from_patterns(patterns, units=net_cfg["units"], rule=train["rule"], **extra)
    return patterns, net


def check_patterns_config(scenario, protocol: str) -> None:
    """Cross-key checks shared by the protocols that store random patterns."""
    src = str(scenario.path)
    for label, cfg in scenario.points():
        kind = cfg["net"]["kind"]
        if not hasattr(get_net(kind), "from_patterns"):
            raise ScenarioError(src, "net.kind", f"the {protocol} protocol needs a net that stores patterns, "
                                                 f"not {kind!r}")
        if cfg["data"]["task"] != "random_patterns":
            raise ScenarioError(src, "data.task", f"the {protocol} protocol stores random_patterns")
        if cfg["run"]["schedule"] in ("clocked", "blocks"):
            raise ScenarioError(src, "run.schedule", "expected sync, sequential, random, random-site or chromatic")
        try:
            n_patterns(cfg["data"], cfg["net"]["n_units"])
        except ValueError as exc:
            key = "data.load" if cfg["data"]["load"] is not None else "data.n_memories"
            raise ScenarioError(src, key, f"{exc}" + (f" (sweep point {label})" if label else "")) from None


class Capacity(Protocol):
    name = "capacity"
    sections = ("net", "train", "data")
    run_keys = {
        "probes": Key("int", default=10, min=1, doc="stored patterns used as starting states per trial"),
    }
    metrics = ("mean_overlap", "retrieved", "exact_recall", "mean_sweeps", "converged", "alpha")
    plots = {
        "capacity_curve": {
            "theory": Key("str", default="ags", choices=("ags", "none"), doc="draw the AGS RS curve and alpha_c"),
            "retrieved": Key("bool", default=True, doc="second panel: fraction with m > 0.9"),
        },
    }

    def validate(self, scenario) -> None:
        check_patterns_config(scenario, self.name)
        for _, cfg in scenario.points():
            T = cfg["run"]["temperature"]
            if not (isinstance(T, (int, float)) and T == 0):
                raise ScenarioError(str(scenario.path), "run.temperature",
                                    f"the capacity protocol runs T = 0 dynamics to a fixed point; got {T!r}")

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        patterns, net = stored_net(cfg, ss_k)
        run = cfg["run"]
        n_probe = min(run["probes"], len(patterns))
        overlap = np.empty(n_probe)
        sweeps = np.empty(n_probe, dtype=np.int64)
        converged = np.empty(n_probe, dtype=bool)
        for mu in range(n_probe):
            traj = simulate(net, patterns[mu], ticks=run["sweeps"], schedule=run["schedule"], temperature=0.0,
                            record=Record(every=run["sweeps"], probes=()), rng=child(ss_k, "dynamics", mu))
            overlap[mu] = float(net.overlap(traj.final, patterns[mu])[0])
            sweeps[mu] = traj.ticks
            converged[mu] = traj.status == "converged"
        return {"overlap": overlap, "sweeps": sweeps, "converged": converged,
                "alpha": len(patterns) / cfg["net"]["n_units"]}

    def aggregate(self, cfg, results):
        per = {
            "mean_overlap": [np.mean(r["overlap"]) for r in results],
            "retrieved": [np.mean(r["overlap"] > RETRIEVED) for r in results],
            "exact_recall": [np.mean(r["overlap"] == 1.0) for r in results],
            "mean_sweeps": [np.mean(r["sweeps"]) for r in results],
            "converged": [np.mean(r["converged"]) for r in results],
        }
        metrics, intervals = means_with_intervals(per)
        alpha = float(results[0]["alpha"])
        metrics["alpha"], intervals["alpha"] = alpha, (alpha, alpha)
        return metrics, intervals

    def figures(self, scenario, points, demo):
        from ..plots.capacity import capacity_figure

        out = []
        cfgs = [cfg for _, cfg in scenario.points()]
        for spec in scenario.plots:
            spec = {k: spec.get(k, key.default) for k, key in self.plots[spec["kind"]].items()}
            rows = [{"N": cfg["net"]["n_units"], "alpha": p["metrics"]["alpha"],
                     "m": p["metrics"]["mean_overlap"], "m_lo": p["intervals"]["mean_overlap"][0],
                     "m_hi": p["intervals"]["mean_overlap"][1], "retrieved": p["metrics"]["retrieved"],
                     "r_lo": p["intervals"]["retrieved"][0], "r_hi": p["intervals"]["retrieved"][1]}
                    for p, cfg in zip(points, cfgs)]
            rs = None
            if spec["theory"] == "ags":
                alpha_c, _, m_c = theory.rs_capacity()
                rs = {**theory.rs_branches(1.0), "alpha_c": alpha_c, "m_c": m_c}
            rule = cfgs[0]["train"]["rule"]
            title = (f"{scenario.meta['id'] + ': ' if scenario.meta['id'] else ''}retrieval from a stored pattern "
                     f"against the load ({rule} rule, {cfgs[0]['run']['schedule']} updates)")
            out.append(("capacity_curve", capacity_figure(rows, rs=rs, retrieved=spec["retrieved"], title=title)))
        return out
