r"""The retention_attractor protocol: how long does an attractor net keep a memory?

Two modes (``run.mode``):

**age** (issue 7's axis: memory age -> recall fidelity). Per trial, P random +-1
patterns xi^1 .. xi^P (``data.n_memories`` or ``data.load`` = P/N) are stored one after
another, in that order, by every architecture of ``run.archs`` (all on the same patterns
and the same cues: a paired comparison). Pattern mu has **age** a = P - mu = the number of
patterns stored after it (the newest has age 0). Each pattern is cued with a copy having
a fraction ``cue_noise`` of its units flipped (one cue per pattern, shared by the
architectures), the net runs to a fixed point, and the final overlap

    m = (1/N) sum_i xi_i s_i        (spin variables)

is recorded. A pattern counts as **recalled** when m >= ``recalled_at`` (0.95, i.e. at
most 2.5 % wrong units). The retention curve is the fraction recalled against age;
chance is 0 (a random state has m ~ N^(-1/2)) and doing nothing is not recall (a 10 %
cue has m = 0.8), so the fraction recalled is the normalised fidelity of
``retention.json`` as it is (raw metric: the mean final overlap).

Architectures (``run.archs``):

* ``hebb``, ``storkey``, ``pseudo_inverse``, ``clipped_hebb``, ``decay_hebb``: a
  Hopfield net built by :meth:`nets.Hopfield.from_patterns` with that storage rule
  (:mod:`nets.hopfield_rules`; ``bound`` = Parisi's A for clipped_hebb, ``tau`` for
  decay_hebb); recall = T = 0 dynamics with ``run.schedule`` (asynchronous random order
  by default) until a fixed point, at most ``run.sweeps`` sweeps. Expected shapes: Hebb
  recalls every age below alpha_c ~ 0.138 and (almost) none above it (blackout, AGS
  1987); the palimpsests recall the ~0.04-0.06 N newest patterns at any load and forget
  the older ones; Storkey's capacity is higher than Hebb's (~N / sqrt(2 ln N)), the
  projection rule's is N.
* ``rbm``: a restricted Boltzmann machine with V = N visible 0/1 units (v = (xi + 1)/2)
  and ``rbm_hidden`` hidden units, initial W ~ N(0, 0.01^2), zero biases, trained
  **sequentially**: ``rbm_updates`` CD-1 updates (:func:`nets.rbm.train`, learning
  rate ``rbm_lr``, no momentum, no weight decay, batch = the one pattern) on pattern 1,
  then as many on pattern 2 (continuing from the weights reached), ..., on pattern P.
  Recall: deterministic (T = 0) block dynamics from the 0/1 cue, h = 1[v W + b_h > 0],
  v = 1[W h + b_v > 0], repeated until v is unchanged (at most ``run.sweeps`` steps; a
  cheap mean-field stand-in for Gibbs sampling, whose noise would blur m).

Metrics per sweep point, with p the architecture's short name (hebb, storkey, pinv,
clipped, decay, rbm); intervals are 95 % Student-t intervals over trials (each an
independent pattern set):

* ``p_recalled``: fraction of all P patterns recalled;
* ``p_recent`` / ``p_oldest``: fraction recalled among the ``run.recent`` newest /
  oldest patterns;
* ``p_overlap``: mean final overlap;
* ``p_span``: the number of ages at which at least half of the trials recalled the
  pattern (the retention span, in patterns; /N gives the palimpsest capacity); no
  interval;
* ``p_age_rho``: Spearman rank correlation between age and the per-age mean overlap
  (negative: fidelity decays with age; NaN when the overlap does not vary); no interval.

**time** (retention under noise). Per trial the patterns are stored as above (Hopfield
rules only); each of the ``run.probes`` newest patterns is the starting state of Glauber
(heat-bath) dynamics at the constant ``run.temperature`` for ``run.sweeps`` sweeps
without a stop rule, recording m(t) after every sweep. Metrics ``p_m_end`` (mean m after
the last sweep) and ``p_m_mid`` (after half of the sweeps). The same T is used for every
rule; the field scales are those of :mod:`nets.hopfield_rules` (1/N for the Hebb family,
so T_c = 1 for a single Hebbian pattern; Storkey and the projection rule have fields of
comparable size for a stored pattern).

Seeds: trial k uses the streams ``data``, ``cue``, ``rbm`` and ``dynamics/mu`` under
child(point, k) (:mod:`sim.rng`), so results do not depend on the number of workers.

The retention curves of the last sweep point (the highest load of the scenario,
normally) and of every other point are returned by :meth:`RetentionAttractor.retention`
in the format of :mod:`sim.retention` (arch names hopfield-hebb, hopfield-storkey,
hopfield-pinv, hopfield-clipped, hopfield-decay, rbm; family "attractor").

References: J. J. Hopfield, PNAS 79:2554 (1982); D. J. Amit, H. Gutfreund &
H. Sompolinsky, Ann. Phys. 173:30 (1987); G. Parisi, J. Phys. A 19:L617 (1986);
J. P. Nadal, G. Toulouse, J. P. Changeux & S. Dehaene, Europhys. Lett. 1:535 (1986);
G. E. Hinton, Neural Computation 14:1771 (2002) (CD).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import mean_interval, wilson_interval
from ..tasks import corrupt, n_patterns, random_patterns
from . import Protocol

#: architecture -> (metric prefix, arch name in retention.json)
ARCHS: dict[str, tuple[str, str]] = {
    "hebb": ("hebb", "hopfield-hebb"),
    "storkey": ("storkey", "hopfield-storkey"),
    "pseudo_inverse": ("pinv", "hopfield-pinv"),
    "clipped_hebb": ("clipped", "hopfield-clipped"),
    "decay_hebb": ("decay", "hopfield-decay"),
    "rbm": ("rbm", "rbm"),
}
_AGE_STATS = ("recalled", "recent", "oldest", "overlap", "span", "age_rho")
_TIME_STATS = ("m_end", "m_mid")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when either is constant."""
    def ranks(a):
        a = np.asarray(a, dtype=np.float64)
        order = np.argsort(a, kind="stable")
        r = np.empty(len(a))
        r[order] = np.arange(len(a), dtype=np.float64)
        for v in np.unique(a):                           # ties share their mean rank
            tie = a == v
            r[tie] = r[tie].mean()
        return r
    rx, ry = ranks(x), ranks(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def rbm_sequential(X01: np.ndarray, *, n_hidden: int, updates: int, lr: float, rng: np.random.Generator):
    """An RBM trained on the rows of X01 (P, V) one after another (``updates`` CD-1 steps each)."""
    from nets.rbm import RBM, train

    rbm = RBM(rng.normal(scale=0.01, size=(X01.shape[1], n_hidden)))
    for x in X01:
        rbm = train(rbm, x[None, :], rng=rng, k=1, lr=lr, updates=updates, monitor=lambda p: 0.0).rbm
    return rbm


def rbm_recall(params, V0: np.ndarray, max_steps: int) -> np.ndarray:
    """T = 0 block dynamics h = 1[v W + b_h > 0], v = 1[W h + b_v > 0] from each row of V0 (C, V), to a fixed v."""
    W, b_v, b_h = params
    v = np.asarray(V0, dtype=np.float64).copy()                    # (C, V)
    for _ in range(max_steps):
        h = (v @ W + b_h > 0).astype(np.float64)                   # (C, H)
        new = (h @ W.T + b_v > 0).astype(np.float64)               # (C, V)
        if np.array_equal(new, v):
            break
        v = new
    return v


class RetentionAttractor(Protocol):
    name = "retention_attractor"
    sections = ("net", "data")
    run_keys = {
        "mode": Key("str", default="age", choices=("age", "time"),
                    doc="age: recall vs memory age; time: overlap after t sweeps at temperature T"),
        "archs": Key("str_list", default=["hebb", "storkey", "pseudo_inverse", "clipped_hebb", "rbm"],
                     doc="architectures: " + ", ".join(ARCHS)),
        "cue_noise": Key("float", default=0.1, min=0.0, max=1.0, doc="fraction of units flipped in each cue"),
        "recalled_at": Key("float", default=0.95, min=0.0, max=1.0, doc="recalled when the final overlap >= this"),
        "recent": Key("int", default=5, min=1, doc="newest / oldest patterns of the recent / oldest metrics"),
        "bound": Key("float", default=0.4, min=1e-9, doc="clipped_hebb: Parisi's A"),
        "tau": Key("float", default=0.2, min=1e-9, doc="decay_hebb: forgetting time in units of N"),
        "rbm_hidden": Key("int", default=50, min=1, doc="rbm: hidden units"),
        "rbm_updates": Key("int", default=30, min=1, doc="rbm: CD-1 updates per pattern"),
        "rbm_lr": Key("float", default=0.2, min=1e-12, doc="rbm: learning rate"),
        "probes": Key("int", default=5, min=1, doc="time mode: newest patterns used as starting states"),
    }
    metrics = tuple(f"{p}_{s}" for p, _ in ARCHS.values() for s in _AGE_STATS + _TIME_STATS)
    plots = {
        "retention_age": {"log_age": Key("bool", default=False, doc="x axis log(1 + age)")},
        "retention_load": {},
        "retention_time": {},
    }

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for label, cfg in scenario.points():
            run, net = cfg["run"], cfg["net"]
            if net["kind"] != "hopfield" or net.get("units", "spin") != "spin":
                raise ScenarioError(src, "net.kind", 'the retention_attractor protocol takes kind = "hopfield" with '
                                                     'units = "spin" (the RBM is one of run.archs)')
            if net.get("topology", "dense") != "dense" or net.get("weights", "float64") != "float64":
                raise ScenarioError(src, "net.topology", "the retention_attractor protocol uses dense float64 nets")
            if cfg["data"]["task"] != "random_patterns":
                raise ScenarioError(src, "data.task", "the retention_attractor protocol stores random_patterns")
            bad = [a for a in run["archs"] if a not in ARCHS]
            if bad or not run["archs"] or len(set(run["archs"])) != len(run["archs"]):
                raise ScenarioError(src, "run.archs", f"expected distinct names among {', '.join(ARCHS)}; got {run['archs']}")
            if run["mode"] == "time" and "rbm" in run["archs"]:
                raise ScenarioError(src, "run.archs", "the time mode runs Hopfield storage rules only (not rbm)")
            if run["schedule"] in ("clocked", "blocks"):
                raise ScenarioError(src, "run.schedule", "expected sync, sequential, random, random-site or chromatic")
            T = run["temperature"]
            if isinstance(T, bool) or not isinstance(T, (int, float)) or T < 0 or (run["mode"] == "age" and T != 0):
                raise ScenarioError(src, "run.temperature", "age mode recalls at T = 0; time mode needs one "
                                                            f"constant T >= 0; got {T!r}")
            try:
                P = n_patterns(cfg["data"], net["n_units"])
            except ValueError as exc:
                key = "data.load" if cfg["data"]["load"] is not None else "data.n_memories"
                raise ScenarioError(src, key, f"{exc}" + (f" (sweep point {label})" if label else "")) from None
            if "pseudo_inverse" in run["archs"] and P >= net["n_units"]:
                raise ScenarioError(src, "data.load", f"the projection rule stores at most N - 1 patterns; P = {P}")

    # --- one trial ----------------------------------------------------------------------
    @staticmethod
    def _nets(cfg, X):
        from nets import Hopfield

        run = cfg["run"]
        opts = {"clipped_hebb": {"bound": run["bound"]}, "decay_hebb": {"tau": run["tau"]}}
        return {a: Hopfield.from_patterns(X, rule=a, **opts.get(a, {})) for a in run["archs"] if a != "rbm"}

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        run, N = cfg["run"], cfg["net"]["n_units"]
        P = n_patterns(cfg["data"], N)
        X = random_patterns(P, N, units="spin", bias=cfg["data"]["bias"], rng=generator(ss_k, "data"))  # row 0 oldest
        nets_ = self._nets(cfg, X)
        out: dict[str, Any] = {}
        if run["mode"] == "time":
            n_probe = min(run["probes"], P)
            for a, net in nets_.items():
                m = np.empty((n_probe, run["sweeps"] + 1))
                for age in range(n_probe):
                    mu = P - 1 - age
                    traj = simulate(net, X[mu], ticks=run["sweeps"], schedule=run["schedule"],
                                    temperature=float(run["temperature"]), stop=False,
                                    record=Record(every=1, probes=("overlap",), patterns=X[mu:mu + 1]),
                                    rng=child(ss_k, "dynamics", mu))
                    m[age] = traj.overlap[:, 0]
                out[f"{ARCHS[a][0]}.m"] = m                          # (probes, sweeps + 1), row = age
            return out
        cue_rng = generator(ss_k, "cue")
        cues = np.stack([corrupt(x, run["cue_noise"], units="spin", rng=cue_rng) for x in X])   # (P, N)
        for a, net in nets_.items():
            m = np.empty(P)
            for mu in range(P):
                traj = simulate(net, cues[mu], ticks=run["sweeps"], schedule=run["schedule"], temperature=0.0,
                                record=Record(every=run["sweeps"], probes=()), rng=child(ss_k, "dynamics", mu))
                m[mu] = float(net.overlap(traj.final, X[mu])[0])
            out[f"{ARCHS[a][0]}.overlap"] = m[::-1].copy()           # (P,) index = age
        if "rbm" in run["archs"]:
            X01 = (X + 1) // 2
            rbm = rbm_sequential(X01.astype(np.float64), n_hidden=run["rbm_hidden"], updates=run["rbm_updates"],
                                 lr=run["rbm_lr"], rng=generator(ss_k, "rbm"))
            v = rbm_recall(rbm.params, (cues + 1) // 2, run["sweeps"])                        # (P, N) 0/1
            m = ((2 * v - 1) * X).mean(axis=1)
            out["rbm.overlap"] = m[::-1].copy()
        return out

    # --- aggregation --------------------------------------------------------------------
    @staticmethod
    def curves(cfg, results) -> dict[str, dict[str, np.ndarray]]:
        """Per architecture: age, fraction recalled per age with its Wilson interval, mean overlap per age."""
        run = cfg["run"]
        out = {}
        for a in run["archs"]:
            M = np.stack([r[f"{ARCHS[a][0]}.overlap"] for r in results])     # (trials, P)
            hits = (M >= run["recalled_at"]).sum(axis=0)
            n = len(M)
            ci = np.array([wilson_interval(int(h), n) for h in hits])          # (P, 2)
            y = hits / n
            lo, hi = np.minimum(ci[:, 0], y), np.maximum(ci[:, 1], y)         # Wilson bounds at 0 / 1 are rounded
            out[a] = {"age": np.arange(M.shape[1]), "recalled": y, "lo": lo, "hi": hi,
                      "overlap": M.mean(axis=0), "n": n}
        return out

    def aggregate(self, cfg, results):
        run = cfg["run"]
        metrics, intervals = {}, {}

        def put(name, per_trial):
            m, lo, hi = mean_interval(np.asarray(per_trial, dtype=np.float64))
            metrics[name], intervals[name] = m, (lo, hi)

        if run["mode"] == "time":
            for a in run["archs"]:
                p = ARCHS[a][0]
                put(f"{p}_m_end", [r[f"{p}.m"][:, -1].mean() for r in results])
                put(f"{p}_m_mid", [r[f"{p}.m"][:, run["sweeps"] // 2].mean() for r in results])
            return metrics, intervals
        thr, w = run["recalled_at"], run["recent"]
        curves = self.curves(cfg, results)
        for a in run["archs"]:
            p = ARCHS[a][0]
            per = [r[f"{p}.overlap"] for r in results]                        # (P,) each, index = age
            put(f"{p}_recalled", [np.mean(m >= thr) for m in per])
            put(f"{p}_recent", [np.mean(m[:w] >= thr) for m in per])
            put(f"{p}_oldest", [np.mean(m[-w:] >= thr) for m in per])
            put(f"{p}_overlap", [np.mean(m) for m in per])
            c = curves[a]
            span = float(np.count_nonzero(c["recalled"] >= 0.5))
            rho = spearman(c["age"], c["overlap"])
            metrics[f"{p}_span"], intervals[f"{p}_span"] = span, (span, span)
            metrics[f"{p}_age_rho"], intervals[f"{p}_age_rho"] = rho, (rho, rho)
        return metrics, intervals

    # --- retention.json and figures -----------------------------------------------------------
    def retention(self, scenario, points) -> list[dict[str, Any]]:
        """Retention curves (sim.retention format) of every age-mode sweep point, the last point first."""
        from ..retention import retention_curve

        cfgs = [cfg for _, cfg in scenario.points()]
        out = []
        for p, cfg in reversed(list(zip(points, cfgs))):
            if cfg["run"]["mode"] != "age":
                continue
            N = cfg["net"]["n_units"]
            P = n_patterns(cfg["data"], N)
            for a, c in self.curves(cfg, p["trials"]).items():
                detail = {"N": N, "P": P, "load": P / N, "rule": a, "cue_noise": cfg["run"]["cue_noise"],
                          "recalled_at": cfg["run"]["recalled_at"], "point": p["label"]}
                if a == "clipped_hebb":
                    detail["bound"] = cfg["run"]["bound"]
                if a == "decay_hebb":
                    detail["tau"] = cfg["run"]["tau"]
                if a == "rbm":
                    detail.update(n_hidden=cfg["run"]["rbm_hidden"], cd_updates_per_pattern=cfg["run"]["rbm_updates"],
                                  lr=cfg["run"]["rbm_lr"], n_params=N * cfg["run"]["rbm_hidden"] + N + cfg["run"]["rbm_hidden"])
                else:
                    detail["n_params"] = N * (N - 1) // 2
                out.append(retention_curve(ARCHS[a][1], "attractor", c["age"], c["recalled"], c["lo"], c["hi"],
                                           c["overlap"], raw_label="final overlap m", n=c["n"], detail=detail))
        return out

    def figures(self, scenario, points, demo):
        from ..plots.retention_attractor import retention_age_figure, retention_load_figure, retention_time_figure

        cfgs = [cfg for _, cfg in scenario.points()]
        tag = f"{scenario.meta['id'] + ': ' if scenario.meta['id'] else ''}"
        out = []
        for spec in scenario.plots:
            kind = spec["kind"]
            age_pts = [(p, c) for p, c in zip(points, cfgs) if c["run"]["mode"] == "age"]
            if kind == "retention_age" and age_pts:
                panels = [(f"P = {n_patterns(c['data'], c['net']['n_units'])}, N = {c['net']['n_units']} "
                           f"(load {n_patterns(c['data'], c['net']['n_units']) / c['net']['n_units']:.3g})",
                           {ARCHS[a][1]: v for a, v in self.curves(c, p["trials"]).items()}) for p, c in age_pts]
                c0 = age_pts[0][1]["run"]
                out.append(("retention_age", retention_age_figure(
                    panels, log_age=spec.get("log_age", False),
                    title=f"{tag}recall vs memory age from {c0['cue_noise']:.0%} cues (recalled: m >= {c0['recalled_at']})")))
            elif kind == "retention_load" and age_pts:
                rows = {}
                for p, c in age_pts:
                    load = n_patterns(c["data"], c["net"]["n_units"]) / c["net"]["n_units"]
                    for a in c["run"]["archs"]:
                        q = ARCHS[a][0]
                        lo, hi = p["intervals"][f"{q}_recalled"]
                        rows.setdefault(ARCHS[a][1], []).append((load, p["metrics"][f"{q}_recalled"], lo, hi,
                                                                 p["metrics"][f"{q}_recent"]))
                out.append(("retention_load", retention_load_figure(rows, title=f"{tag}fraction of all stored patterns "
                                                                                f"recalled vs load")))
            elif kind == "retention_time":
                panels = []
                for p, c in zip(points, cfgs):
                    if c["run"]["mode"] != "time":
                        continue
                    curves = {}
                    for a in c["run"]["archs"]:
                        q = ARCHS[a][0]
                        per = np.stack([r[f"{q}.m"].mean(axis=0) for r in p["trials"]])   # (trials, sweeps + 1)
                        mean = per.mean(axis=0)
                        if len(per) > 1:
                            half = np.array([mean_interval(col)[2] for col in per.T]) - mean
                        else:
                            half = np.full_like(mean, np.nan)
                        curves[ARCHS[a][1]] = (mean, mean - half, mean + half)
                    panels.append((f"T = {c['run']['temperature']}, load "
                                   f"{n_patterns(c['data'], c['net']['n_units']) / c['net']['n_units']:.3g}", curves))
                if panels:
                    out.append(("retention_time", retention_time_figure(
                        panels, title=f"{tag}overlap with a stored pattern after t Glauber sweeps")))
        return out
