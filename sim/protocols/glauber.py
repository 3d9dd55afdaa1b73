r"""The glauber protocol: the equilibrium retrieval overlap at temperature T.

Amit, Gutfreund & Sompolinsky (1985), PRA 32:1007 [abstract]: with p patterns stored
by the Hebb rule, W = (1/N) sum_mu xi^mu xi^mu^T, "below T_c these systems have 2p ground
states of the Mattis type: each one of them is fully correlated with one of the stored
patterns" (T_c = 1 in this normalisation). For p/N -> 0 the mean-field overlap is the
largest root of m = tanh(m/T) [computed]: T = 0.5 -> 0.9575, 0.9 -> 0.5254, 0 for T >= 1.

Per trial (one independent pattern set and one noise stream):

1. draw P random patterns (``data.n_memories`` or ``data.load``) and store them with the
   ``[train]`` rule;
2. start at pattern 1 and run Glauber (heat-bath) dynamics at the constant temperature
   ``run.temperature``, P(s_i = 1) = 1 / (1 + exp(-2 f_i / T)) for +-1 units
   (f = scale W s - theta, scale = 1/N for Hebb), with ``run.schedule`` (default random
   order), for ``burn_in + measure`` sweeps without stop rules (``run.sweeps`` is not
   used);
3. record the overlap m(t) = (1/N) sum_i xi_i^1 s_i(t) after every sweep and average it
   over the last ``measure`` sweeps.

Metrics per sweep point (usually one point per temperature):

* ``mean_overlap``: the time average of the **signed** overlap m with pattern 1 (the
  estimator of the mean-field m: the start breaks the +-xi symmetry, and at N = 2000 and
  T < 1 a reversal to -xi takes far longer than the run);
* ``mean_abs_overlap``: the time average of |m| (compare with the exact finite-N
  E|m| of :func:`nets.hopfield_theory.finite_n_overlap` for one pattern);
* ``overlap_sd``: standard deviation of m over the measured sweeps (thermal
  fluctuations, O(1/sqrt(N)));
* ``mean_field``: the mean-field value at this T (theory, for the table).

Intervals: 95 % Student-t over trials when there are >= 2; with a single trial, from
10 batch means of the measured sweeps (an estimate that assumes the batches are
roughly independent).

Figure ``overlap_temperature``: mean_overlap (with intervals) and mean_abs_overlap
against T, with the mean-field curve and the exact one-pattern curve at this N.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit

from nets import hopfield_theory as theory

from ..errors import ScenarioError
from ..record import Record
from ..rng import child
from ..schema import Key
from ..simulate import simulate
from ..stats import mean_interval
from . import Protocol
from .capacity import check_patterns_config, stored_net

_BATCHES = 10


def batch_interval(x: np.ndarray, n_batches: int = _BATCHES, level: float = 0.95) -> tuple[float, float]:
    """95 % interval of the mean of a correlated series from ``n_batches`` batch means.

    Parameters
    ----------
    x : ndarray (n,)
        The series (n >= 2 * n_batches; otherwise (nan, nan)).
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) < 2 * n_batches:
        return math.nan, math.nan
    b = np.array([c.mean() for c in np.array_split(x, n_batches)])                 # (n_batches,)
    half = float(stdtrit(n_batches - 1, 0.5 + level / 2) * b.std(ddof=1) / math.sqrt(n_batches))
    m = float(x.mean())
    return m - half, m + half


class Glauber(Protocol):
    name = "glauber"
    sections = ("net", "train", "data")
    run_keys = {
        "burn_in": Key("int", default=50, min=0, doc="sweeps before measuring"),
        "measure": Key("int", default=50, min=1, doc="sweeps over which the overlap is averaged"),
    }
    metrics = ("mean_overlap", "mean_abs_overlap", "overlap_sd", "mean_field")
    plots = {"overlap_temperature": {
        "exact": Key("bool", default=True, doc="draw the exact finite-N E|m| of one stored pattern"),
    }}

    def validate(self, scenario) -> None:
        check_patterns_config(scenario, self.name)
        for _, cfg in scenario.points():
            T = cfg["run"]["temperature"]
            if isinstance(T, bool) or not isinstance(T, (int, float)) or T < 0:
                raise ScenarioError(str(scenario.path), "run.temperature",
                                    f"the glauber protocol needs one constant temperature >= 0 per point, got {T!r}")

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        patterns, net = stored_net(cfg, ss_k)
        run = cfg["run"]
        ticks = run["burn_in"] + run["measure"]
        traj = simulate(net, patterns[0], ticks=ticks, schedule=run["schedule"], temperature=float(run["temperature"]),
                        record=Record(every=1, probes=("overlap",), patterns=patterns[:1]), stop=False,
                        rng=child(ss_k, "dynamics"))
        m = traj.overlap[run["burn_in"] + 1:, 0]        # (measure,): records are t = 0, 1, ..., ticks
        return {"overlap": m}

    def aggregate(self, cfg, results):
        per = {
            "mean_overlap": [r["overlap"].mean() for r in results],
            "mean_abs_overlap": [np.abs(r["overlap"]).mean() for r in results],
            "overlap_sd": [r["overlap"].std() for r in results],
        }
        metrics, intervals = {}, {}
        for name, values in per.items():
            m, lo, hi = mean_interval(np.asarray(values))
            if len(results) == 1 and name != "overlap_sd":
                x = results[0]["overlap"]
                lo, hi = batch_interval(np.abs(x) if name == "mean_abs_overlap" else x)
            metrics[name], intervals[name] = m, (lo, hi)
        mf = theory.mean_field_overlap(float(cfg["run"]["temperature"]))
        metrics["mean_field"], intervals["mean_field"] = mf, (mf, mf)
        return metrics, intervals

    def figures(self, scenario, points, demo):
        from ..plots.capacity import glauber_figure

        out = []
        cfgs = [cfg for _, cfg in scenario.points()]
        for spec in scenario.plots:
            rows = [{"T": float(cfg["run"]["temperature"]), "m": p["metrics"]["mean_overlap"],
                     "m_lo": p["intervals"]["mean_overlap"][0], "m_hi": p["intervals"]["mean_overlap"][1],
                     "abs_m": p["metrics"]["mean_abs_overlap"]} for p, cfg in zip(points, cfgs)]
            t_max = max(1.3, max(r["T"] for r in rows) * 1.05)
            grid = np.linspace(0.0, t_max, 400)
            exact = None
            Ns = {cfg["net"]["n_units"] for cfg in cfgs}
            if spec.get("exact", True) and len(Ns) == 1:
                N = Ns.pop()
                g = grid[grid > 0.02]
                exact = (g, np.array([theory.finite_n_overlap(N, t) for t in g]), f"exact E|m|, one pattern, N = {N}")
            c0, r0 = cfgs[0], cfgs[0]["run"]
            Ps = {cfg["data"]["n_memories"] for cfg in cfgs}
            what = f"P = {c0['data']['n_memories']}" if len(Ps) == 1 and None not in Ps else "random patterns"
            title = (f"{scenario.meta['id'] + ': ' if scenario.meta['id'] else ''}Glauber dynamics, "
                     f"N = {c0['net']['n_units']}, {what}, {r0['burn_in']} + {r0['measure']} sweeps")
            out.append(("overlap_temperature", glauber_figure(rows, mean_field=(grid, theory.mean_field_overlap(grid)),
                                                              exact=exact, title=title)))
        return out
