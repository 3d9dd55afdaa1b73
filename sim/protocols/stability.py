r"""The stability protocol: which stored patterns are fixed points, rule by rule (H7).

Per trial, a fresh set of P random patterns (``data.n_memories``, or
``round(data.load * N)``) is stored in a new net by the scenario's ``[train]`` rule
(:data:`nets.hopfield_rules.RULES`: hebb, storkey, pseudo_inverse, perceptron). For each
stored pattern xi, with the net's local fields f = scale W xi - theta evaluated at the
pattern (in the net's own unit convention, 0/1 or +-1) and sigma = 2 xi - 1 (0/1 units) or
xi (spins):

* **strictly stable**: sigma_i f_i > 0 for every unit i. This is the definition of
  SCENARIOS.md H7 ("every bit is a fixed point of the sign update") and of the storage
  capacity literature (McEliece et al. 1987; Gardner 1988): each unit's field has the
  pattern's sign.
* **fixed**: one zero-temperature update of every unit (``net.step`` at T = 0) leaves the
  pattern unchanged, i.e. sigma_i f_i >= 0 for every i, because a tie f_i = 0 keeps the
  state in rnnlab's dynamics. A strictly stable pattern is fixed; the two differ only
  by exact ties, which happen with integer Hebbian weights (e.g. N = 100 and an even
  number of patterns: sigma_i f_i N = 99 + a sum of an odd number of +-1 terms can be 0)
  and, for the pseudo-inverse rule, when a unit vector lies in the span of the patterns.

Each trial returns, per stored pattern, ``stable`` and ``fixed`` (bool, (P,)) and
``min_margin`` = min_i sigma_i f_i ((P,)); with ``basin_probes`` > 0 also ``basin`` (bool,
(k,)), whether each probe ended at its pattern.

Optionally (``run.basin_probes`` > 0) the first k stored patterns of each set are probed
with a cue in which a fraction ``run.cue_noise`` of the units is flipped (exactly
round(cue_noise N) distinct units, :func:`sim.tasks.corrupt`), run with the scenario's
asynchronous schedule at T = 0 for at most ``run.sweeps`` sweeps; the probe succeeds when
the run stops at a fixed point equal to the pattern. Basins are uncalibrated (no published
number is checked); Kanter & Sompolinsky (1987) [abstract] predict, for the pseudo-inverse
rule, a radius of attraction that decreases to zero as p/N -> 1.

Metrics per sweep point (over the trials, i.e. pattern sets):

* ``all_stable``: fraction of pattern sets whose every pattern is strictly stable
  (interval: 95 % Wilson score interval over the sets);
* ``frac_stable``: fraction of stored patterns that are strictly stable (mean over sets of
  the per-set fraction; 95 % Student-t interval);
* ``all_fixed``, ``frac_fixed``: the same with "fixed" (tie-tolerant);
* ``bits_stable``: fraction of (pattern, unit) pairs with sigma_i f_i > 0. For Hebb
  this is exactly the probability that a sum of (P-1)(N-1) independent +-1 terms
  exceeds -(N-1) (spins, zero thresholds);
* ``basin``: fraction of corrupted cues that end at their pattern (only when
  ``basin_probes`` > 0).

References: McEliece, Posner, Rodemich & Venkatesh, IEEE Trans. IT 33:461 (1987)
[abstract]; Storkey, ICANN'97, LNCS 1327 (1997) [abstract, partial]; Personnaz, Guyon &
Dreyfus, J. Phys. Lett. 46:L359 (1985); Kanter & Sompolinsky, PRA 35:380 (1987)
[abstract]; Gardner, J. Phys. A 21:257 (1988) [recalled, unverified].
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals, wilson_interval
from ..tasks import corrupt, random_patterns
from . import Protocol

_ASYNC = ("random", "sequential", "random-site")


def _n_memories(cfg) -> int:
    """P of a point: ``data.n_memories``, or ``round(data.load * N)`` when the task has ``load``."""
    data, N = cfg["data"], cfg["net"]["n_units"]
    n, load = data.get("n_memories"), data.get("load")
    if (n is None) == (load is None):
        raise ValueError("give exactly one of data.n_memories and data.load")
    return int(n) if n is not None else int(round(load * N))


class Stability(Protocol):
    name = "stability"
    sections = ("net", "train", "data")
    run_keys = {
        "basin_probes": Key("int", default=0, min=0,
                            doc="stored patterns per set probed from a corrupted cue (0: no basin measurement)"),
        "cue_noise": Key("float", default=0.1, min=0.0, max=1.0,
                         doc="fraction of units flipped in a basin probe's cue"),
    }
    metrics = ("all_stable", "frac_stable", "all_fixed", "frac_fixed", "bits_stable", "basin")
    plots = {"rules_capacity": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for label, cfg in scenario.points():
            net_cls = get_net(cfg["net"]["kind"])
            if not (hasattr(net_cls, "from_config") and net_cls.binary):
                raise ScenarioError(src, "net.kind", f"the stability protocol needs a net of binary units that "
                                                     f"stores patterns, not {cfg['net']['kind']!r}")
            if cfg["data"]["task"] != "random_patterns":
                raise ScenarioError(src, "data.task", "the stability protocol stores random_patterns")
            try:
                P = _n_memories(cfg)
            except ValueError as exc:
                raise ScenarioError(src, "data.n_memories", str(exc)) from None
            if P < 1:
                raise ScenarioError(src, "data.load", f"round(load * N) = {P} patterns at point {label!r}; need >= 1")
            if cfg["run"]["temperature"] != 0:
                raise ScenarioError(src, "run.temperature", "the stability protocol runs at T = 0")
            if cfg["run"]["basin_probes"] and cfg["run"]["schedule"] not in _ASYNC:
                raise ScenarioError(src, "run.schedule", "basin probes run asynchronous dynamics: expected one of "
                                                         + ", ".join(_ASYNC))

    # --- one trial ----------------------------------------------------------------------
    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        net_cfg, run = cfg["net"], cfg["run"]
        units = net_cfg["units"]
        patterns = random_patterns(_n_memories(cfg), net_cfg["n_units"], units=units,
                                   bias=cfg["data"]["bias"], rng=generator(ss_k, "data"))   # (P, N)
        net = get_net(net_cfg["kind"]).from_config(net_cfg, cfg["train"], patterns, rng=generator(ss_k, "graph"))
        sigma = 2 * patterns.astype(np.int8) - 1 if units == "binary" else patterns.astype(np.int8)
        margins = np.stack([sigma[mu] * net.field(net.State(xi)) for mu, xi in enumerate(patterns)])  # (P, N)
        fixed = np.array([np.array_equal(net.step(net.State(xi), T=0.0).s, xi) for xi in patterns])
        out: dict[str, Any] = {"stable": np.all(margins > 0, axis=1), "fixed": fixed,
                               "min_margin": margins.min(axis=1), "bits_stable": float(np.mean(margins > 0))}
        n_probe = min(run["basin_probes"], len(patterns))
        if n_probe:
            cue_rng = generator(ss_k, "cue")
            hit = np.empty(n_probe, dtype=bool)
            for mu in range(n_probe):
                cue = corrupt(patterns[mu], run["cue_noise"], units=units, rng=cue_rng)
                traj = simulate(net, cue, ticks=run["sweeps"], schedule=run["schedule"], temperature=0.0,
                                record=Record(every=run["sweeps"], probes=()), rng=child(ss_k, "dynamics", mu))
                hit[mu] = traj.status == "converged" and np.array_equal(traj.final.s, patterns[mu])
            out["basin"] = hit
        return out

    def aggregate(self, cfg, results):
        metrics, intervals = {}, {}
        for name, key in (("all_stable", "stable"), ("all_fixed", "fixed")):
            wins = sum(bool(np.all(r[key])) for r in results)
            metrics[name] = wins / len(results)
            intervals[name] = wilson_interval(wins, len(results))
        per = {"frac_stable": [np.mean(r["stable"]) for r in results],
               "frac_fixed": [np.mean(r["fixed"]) for r in results],
               "bits_stable": [r["bits_stable"] for r in results]}
        if "basin" in results[0]:
            per["basin"] = [np.mean(r["basin"]) for r in results]
        found, spans = means_with_intervals(per)
        metrics.update(found)
        intervals.update(spans)
        return metrics, intervals

    # --- figures ----------------------------------------------------------------------------
    def figures(self, scenario, points, demo):
        from ..plots.rules import rules_capacity_figure

        out = []
        for spec in scenario.plots:
            if spec["kind"] != "rules_capacity":
                continue
            curves: dict[str, list[dict[str, float]]] = {}
            sizes = set()
            for (label, cfg), p in zip(scenario.points(), points):
                lo, hi = p["intervals"]["all_stable"]
                curves.setdefault(cfg["train"]["rule"], []).append(
                    {"p": _n_memories(cfg), "value": p["metrics"]["all_stable"], "lo": lo, "hi": hi})
                sizes.add(cfg["net"]["n_units"])
            n_sets = {cfg["run"]["trials"] for _, cfg in scenario.points()}
            sets = f"{n_sets.pop()} pattern sets per point" if len(n_sets) == 1 else "pattern sets per point vary"
            N = sizes.pop() if len(sizes) == 1 else None
            title = f"{scenario.meta['id'] + ': ' if scenario.meta['id'] else ''}P(all patterns stable)" \
                    + (f", N = {N}" if N else "") + f" ({sets})"
            out.append(("rules_capacity", rules_capacity_figure(curves, n_units=N, title=title)))
        return out
