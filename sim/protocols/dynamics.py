r"""The dynamics protocol: run a net from a chosen start and measure what the trajectory does.

Nets: ``hopfield`` (binary units) and ``hopfield_continuous`` (graded response). Per trial
one net is built, then ``starts`` runs are made from it, each with its own seed stream.

**Couplings** (``run.couplings``):

* ``"stored"`` (default): the [data] patterns (``random_patterns``: ``n_memories`` P, or
  ``load`` alpha with P = round(alpha N)) stored by the [train] rule through the net's
  ``from_config`` (Hebb: W = (1/N) sum_mu xi^mu xi^mu^T, zero diagonal).
* ``"random_symmetric"``: Sherrington-Kirkpatrick couplings W_ij = W_ji ~ N(0, 1/N),
  W_ii = 0, a new matrix per trial.
* ``"given"``: the matrix ``run.W`` (tiny textbook nets, e.g. W = [[0, -1], [-1, 0]]).

A sweep may mix these. At points whose couplings are not ``"stored"`` the [train] rule is
not used (a [train] table that no point uses is an error) and [data] patterns, if given,
are only reference patterns for the starts and overlaps.

**Starts** (``run.start``), as a +-1 configuration s mapped into the net's state (0/1
units: (s + 1)/2; continuous net: u = s / gain, i.e. V = +-tanh 1):

* ``"random"``: the net's own ``init_state`` (binary: each unit on with probability 1/2;
  continuous: u_i uniform in (-1/gain, 1/gain));
* ``"pattern"`` / ``"cue"``: stored pattern number r mod P for run r (the *target*), as it
  is or with exactly round(cue_noise N) units flipped;
* ``"mixture"``: the symmetric mixture sign(xi^1 + ... + xi^k), k = ``mixture_of`` odd
  (Amit, Gutfreund & Sompolinsky 1985: at T = 0 each of the k overlaps is
  2^{1-k} C(k-1, (k-1)/2) = 1/2 for k = 3 [computed], and for Hebbian couplings
  E/N = -1/2 sum_mu m_mu^2 + P/(2N) -> -3/8 [computed]);
* ``"given"``: ``run.state`` (in the net's units; potentials u for the continuous net).

**Records**: [record] ``every = "update"`` records after every single-unit update
(``Record(micro=True)``), ``"sweep"`` after every tick, an integer k every k ticks. With
``stop = true`` a run ends at a fixed point or a detected cycle, else after ``sweeps``.

**Metrics** (per sweep point; "runs" = all starts of all trials; intervals are 95 %
Student-t intervals over trials for means, none for extremes):

* ``fixed_point``: fraction of runs whose final state is a fixed point of the
  deterministic dynamics (exactly for binary units; for the continuous net one more Euler
  step moves no potential by more than 1e-9 max(1, max|u|)).
* ``cycle``: fraction of runs that ended in a detected cycle (deterministic schedules
  only) and not at a fixed point; ``cycle_period``: the longest such period (0: none).
* ``sweeps``: mean number of ticks run.
* ``max_energy_increase``: max over runs and consecutive records of E(t+1) - E(t), with
  the net's own energy (Hopfield 1982 Eq. 7, scale W: -1/2 scale s^T W s + theta^T s;
  the continuous net: Hopfield 1984). ``max_rel_energy_increase``: the same per run
  divided by max_t |E(t)| of that run. ``energy_checks``: the fewest differences checked
  in a run (records - 1; single-unit updates with micro records).
* ``energy_per_unit``: mean over runs of E(final) / N (for Hebbian spin nets the AGS
  normalisation -1/2 s^T (W/N) s / N).
* With patterns: final overlaps m_mu = (1/N) sum_i xi_i^mu s_i (spins; graded V for the
  continuous net) with the *reference* patterns of each run -- the k mixed patterns
  (mixture), the target (pattern, cue), all patterns (random, given):
  ``overlap_min`` (smallest over runs and references), ``overlap_max`` (largest),
  ``overlap_mean``; ``max_abs_overlap``: mean over runs of max_mu |m_mu|.
* ``exact_recall`` (pattern and cue starts): fraction of runs whose final sign state
  equals the target pattern.
* Outcome of each run (with patterns), from the overlaps of the final sign state, a
  partition: ``frac_retrieval`` -- a fixed point with max_mu |m_mu| >= ``retrieval_overlap``
  (a stored pattern or its reverse, up to a few errors; ``frac_exact_pattern`` counts
  the exact ones, |m| = 1); ``frac_mixture`` -- another fixed point as close to a
  symmetric odd mixture: |M . s|/N >= ``retrieval_overlap`` for M = sign(sum_mu
  sign(m_mu) xi^mu) over the 3 (or 5) patterns with the largest |m_mu| (the AGS mixture
  states, overlaps 1/2 for 3 patterns, 3/8 for 5); ``frac_other_spurious`` -- the other
  fixed points (spin-glass-like states correlated with many patterns at once);
  ``frac_not_converged``. ``frac_spurious`` = mixture + other spurious.

The demo records run 0 of trial 0 of the first sweep point with the [record] settings.
Figures: ``energy``, ``overlap``, ``raster`` (the demo) and ``outcomes`` (outcome
fractions against the load alpha = P/N over the sweep points, :mod:`sim.plots.dynamics`).
"""
from __future__ import annotations

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

NETS = ("hopfield", "hopfield_continuous")
STARTS = ("random", "pattern", "cue", "mixture", "given")
COUPLINGS = ("stored", "random_symmetric", "given")
_FIXED_RTOL = 1e-9  # continuous net: one more Euler step moves u by at most this (relative)

_ALWAYS = ("fixed_point", "cycle", "cycle_period", "sweeps", "max_energy_increase", "max_rel_energy_increase",
           "energy_checks", "energy_per_unit")
_WITH_PATTERNS = ("overlap_min", "overlap_max", "overlap_mean", "max_abs_overlap", "frac_retrieval",
                  "frac_exact_pattern", "frac_mixture", "frac_other_spurious", "frac_spurious", "frac_not_converged")
_WITH_TARGET = ("exact_recall",)
OUTCOMES = ("frac_retrieval", "frac_mixture", "frac_other_spurious", "frac_not_converged")


def _n_patterns(data: dict, n_units: int) -> int:
    """P from a random_patterns [data] table: n_memories, or round(load * N)."""
    n, load = data.get("n_memories"), data.get("load")
    if (n is None) == (load is None):
        raise ValueError("give exactly one of data.n_memories (P) and data.load (alpha = P/N)")
    P = int(n) if n is not None else int(round(load * n_units))
    if P < 1:
        raise ValueError(f"data.load = {load} with {n_units} units stores round(load N) = {P} patterns; need >= 1")
    return P


def reported(cfg) -> tuple[str, ...]:
    """The metrics reported at a sweep point with config ``cfg``."""
    out = _ALWAYS
    if "data" in cfg:
        out += _WITH_PATTERNS
        if cfg["run"]["start"] in ("pattern", "cue"):
            out += _WITH_TARGET
    return out


class Dynamics(Protocol):
    name = "dynamics"
    sections = ("net",)
    optional_sections = ("train", "data")
    run_keys = {
        "start": Key("str", default="random", choices=STARTS, doc="initial state (see sim.protocols.dynamics)"),
        "starts": Key("int", default=1, min=1, doc="runs per net (trial), each from its own start and seed"),
        "mixture_of": Key("int", default=3, min=1, doc="k: start at sign(xi^1 + ... + xi^k), k odd"),
        "cue_noise": Key("float", default=0.0, min=0.0, max=1.0, doc="fraction of units flipped (start = 'cue')"),
        "state": Key("any", default=None, doc="initial state, a list of N values (start = 'given')"),
        "couplings": Key("str", default="stored", choices=COUPLINGS, doc="where W comes from"),
        "W": Key("any", default=None, doc="the N x N couplings for couplings = 'given'"),
        "stop": Key("bool", default=True, doc="stop at a fixed point or a detected cycle"),
        "retrieval_overlap": Key("float", default=0.9, min=0.0, max=1.0,
                                 doc="a fixed point with max |m| at least this is a retrieval state"),
        "demo": Key("bool", default=True, doc="record one run for figures"),
    }
    metrics = _ALWAYS + _WITH_PATTERNS + _WITH_TARGET
    plots = {"energy": {}, "overlap": {}, "raster": {}, "outcomes": {}}

    # --- validation -----------------------------------------------------------------------
    def validate(self, scenario) -> None:
        src = str(scenario.path)
        labels = {}
        for label, cfg in scenario.points():
            labels[label] = cfg
            try:
                _check_point(cfg)
            except _PointError as exc:
                where = f" (sweep point {label})" if label else ""
                raise ScenarioError(src, exc.key, exc.message + where) from None
        cfgs = list(labels.values())
        if any("train" in c for c in cfgs) and not any(c["run"]["couplings"] == "stored" for c in cfgs):
            raise ScenarioError(src, "train", "no point stores patterns (run.couplings = 'stored'), so the "
                                              "[train] rule would not be used; remove it")
        for e in scenario.expect + scenario.unchecked:
            base, _, rest = e.metric.partition("[")
            cfg = labels.get(rest.rstrip("]")) if e in scenario.expect else None
            if cfg is not None and base not in reported(cfg):
                raise ScenarioError(src, f"expect.{e.metric}", f"{base!r} is not reported at this point "
                                                               f"(it reports {', '.join(reported(cfg))})")
        for p in scenario.plots:
            if p["kind"] == "outcomes":
                cfgs = [c for _, c in scenario.points()]
                if not all("data" in c for c in cfgs):
                    raise ScenarioError(src, "plot.kind", "an outcomes plot needs [data] patterns")
                if not any(k in scenario.sweep for k in ("data.n_memories", "data.load", "net.n_units")):
                    raise ScenarioError(src, "plot.kind", "an outcomes plot needs a sweep over data.n_memories, "
                                                          "data.load or net.n_units (the load alpha = P/N)")

    # --- one trial ------------------------------------------------------------------------
    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        net, X = _build(cfg, ss_k)
        run = cfg["run"]
        P = 0 if X is None else len(X)
        R = run["starts"]
        res = {name: np.zeros(R, dtype=dt) for name, dt in
               (("fixed", bool), ("period", np.int64), ("sweeps", np.int64), ("dE_max", float),
                ("E_scale", float), ("n_checks", np.int64), ("e_final", float), ("target", np.int64),
                ("exact", bool))}
        res["m"] = np.zeros((R, P))
        res["m_sign"] = np.zeros((R, P))
        res["ref"] = np.zeros((R, P), dtype=bool)
        res["q_mix"] = np.zeros(R)
        res["final_spins"] = np.zeros((R, net.n_units), dtype=np.int8)
        record = _record(cfg, probes=())
        for r in range(R):
            state0, target, ref = _start(cfg, net, X, generator(ss_k, "start", r), r)
            traj = simulate(net, state0, ticks=run["sweeps"], schedule=run["schedule"],
                            temperature=run["temperature"], record=record, rng=child(ss_k, "dynamics", r),
                            stop=run["stop"])
            fixed = _is_fixed(net, traj.final)
            E = _energies(net, traj)                                    # (records,)
            dE = np.diff(E)
            res["fixed"][r] = fixed
            res["period"][r] = traj.period if traj.status == "cycle" and not fixed else 0
            res["sweeps"][r] = traj.ticks
            res["dE_max"][r] = dE.max() if dE.size else -np.inf
            res["E_scale"][r] = np.abs(E).max()
            res["n_checks"][r] = dE.size
            res["e_final"][r] = E[-1] / net.n_units
            res["target"][r] = target
            spins = _spins(net, traj.final)                             # (N,) +-1
            res["final_spins"][r] = spins
            if P:
                res["m"][r] = _overlaps(net, traj.final, X)
                res["m_sign"][r] = X @ spins / net.n_units
                res["q_mix"][r] = _mixture_overlap(X, spins, res["m_sign"][r])
                res["ref"][r] = ref
                res["exact"][r] = target >= 0 and np.array_equal(spins, X[target])
        return res

    def aggregate(self, cfg, results):
        run, want = cfg["run"], reported(cfg)
        per: dict[str, list[float]] = {}                # mean-type metrics: one value per trial
        for r in results:
            values = {"fixed_point": r["fixed"], "cycle": r["period"] > 0, "sweeps": r["sweeps"],
                      "energy_per_unit": r["e_final"]}
            if "overlap_mean" in want:
                values["overlap_mean"] = r["m"][r["ref"]]
                values["max_abs_overlap"] = np.abs(r["m"]).max(axis=1)
                values.update(_outcomes(r, run))
            if "exact_recall" in want:
                values["exact_recall"] = r["exact"]
            for name, v in values.items():
                per.setdefault(name, []).append(float(np.mean(v)))
        # extremes over every run of every trial
        cat = {key: np.concatenate([r[key] for r in results]) for key in ("period", "dE_max", "E_scale", "n_checks")}
        scale = cat["E_scale"]
        rel = np.where(scale > 0, cat["dE_max"] / np.where(scale > 0, scale, 1.0), np.minimum(cat["dE_max"], 0.0))
        ext = {"cycle_period": cat["period"].max(), "max_energy_increase": cat["dE_max"].max(),
               "max_rel_energy_increase": rel.max(), "energy_checks": cat["n_checks"].min()}
        if "overlap_min" in want:
            refs = np.concatenate([r["m"][r["ref"]] for r in results])
            ext.update(overlap_min=refs.min(), overlap_max=refs.max())
        metrics, intervals = means_with_intervals(per)
        for name, v in ext.items():
            metrics[name], intervals[name] = float(v), (np.nan, np.nan)
        return {k: metrics[k] for k in want}, {k: intervals[k] for k in want}

    # --- demo and figures -----------------------------------------------------------------
    def demo(self, cfg, ss):
        if not cfg["run"]["demo"]:
            return None
        ss_0 = child(ss, 0)
        net, X = _build(cfg, ss_0)
        run = cfg["run"]
        state0, target, _ = _start(cfg, net, X, generator(ss_0, "start", 0), 0)
        probes = tuple(p for p in cfg["record"]["probes"] if p != "state" and (p != "overlap" or X is not None))
        patterns = None if X is None else _in_units(net, X)
        record = _record(cfg, probes=probes, patterns=patterns)
        traj = simulate(net, state0, ticks=run["sweeps"], schedule=run["schedule"], temperature=run["temperature"],
                        record=record, rng=child(ss_0, "dynamics", 0), stop=run["stop"])
        out = {"trajectory": traj, "start": np.asarray(state0[0]), "target": np.int64(target)}
        if patterns is not None:
            out["patterns"] = patterns
        return out

    def figures(self, scenario, points, demo):
        from .. import plots
        from ..plots.dynamics import outcomes_figure

        out = []
        name = scenario.meta["id"] or scenario.name
        for spec in scenario.plots:
            kind = spec["kind"]
            if kind == "outcomes":
                rows = []
                for p, (_, cfg) in zip(points, scenario.points()):
                    N = cfg["net"]["n_units"]
                    row = {"alpha": _n_patterns(cfg["data"], N) / N, "n_units": N}
                    row.update({k: p["metrics"][k] for k in OUTCOMES + ("frac_exact_pattern",)})
                    rows.append(row)
                out.append(("outcomes", outcomes_figure(rows, title=f"{name}: {scenario.meta['title']}")))
                continue
            if demo is None:
                continue
            traj = demo["trajectory"]
            cfg0 = scenario.points()[0][1]
            title = f"{name}: {_describe(cfg0)}"
            if kind == "energy" and "energy" in traj.probes:
                out.append((kind, plots.energy_figure(traj, title=title)))
            elif kind == "overlap" and "overlap" in traj.probes:
                out.append((kind, plots.overlap_figure(traj, title=title)))
            elif kind == "raster":
                out.append((kind, plots.raster_figure(traj, field=next(iter(traj.states)), title=title)))
        return out


# --- helpers -------------------------------------------------------------------------------
class _PointError(Exception):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


def _check_point(cfg) -> None:
    """Cross-key checks of one sweep point; raise _PointError(key, message)."""
    net_cfg, run = cfg["net"], cfg["run"]
    kind, N = net_cfg["kind"], net_cfg["n_units"]
    if kind not in NETS:
        raise _PointError("net.kind", f"the dynamics protocol runs {' or '.join(NETS)} nets, not {kind!r}")
    if run["schedule"] in ("clocked", "blocks"):
        raise _PointError("run.schedule", "expected sync, sequential, random, random-site or chromatic")
    if kind == "hopfield_continuous" and run["temperature"] != 0.0:
        raise _PointError("run.temperature", "the continuous Hopfield net is deterministic (temperature 0)")
    has_data, has_train = "data" in cfg, "train" in cfg
    P = None
    if has_data:
        if cfg["data"]["task"] != "random_patterns":
            raise _PointError("data.task", "the dynamics protocol uses random_patterns")
        try:
            P = _n_patterns(cfg["data"], N)
        except ValueError as exc:
            raise _PointError("data.n_memories", str(exc)) from None
    coup = run["couplings"]
    if coup == "stored" and not (has_data and has_train):
        raise _PointError("run.couplings", "couplings = 'stored' needs [data] patterns and a [train] rule")
    if coup != "stored":
        for key, default in (("topology", "dense"), ("weights", "float64")):
            if net_cfg.get(key, default) != default:
                raise _PointError(f"net.{key}", f"net.{key} = {default!r} is required with couplings = {coup!r}")
    if (coup == "given") != (run["W"] is not None):
        raise _PointError("run.W", "run.W (an N x N list of lists) is given exactly when couplings = 'given'")
    if coup == "given":
        W = _matrix(run["W"], N)
        if kind == "hopfield" and np.any(np.diag(W) != 0):
            raise _PointError("run.W", "a Hopfield net needs a zero diagonal")
    start = run["start"]
    if start in ("pattern", "cue", "mixture") and P is None:
        raise _PointError("run.start", f"start = {start!r} needs [data] patterns")
    if start == "mixture":
        k = run["mixture_of"]
        if k % 2 == 0:
            raise _PointError("run.mixture_of", f"expected an odd number (sign(xi^1 + ... + xi^k) has ties "
                                                f"for even k), got {k}")
        if k > P:
            raise _PointError("run.mixture_of", f"mixes {k} patterns but only {P} are stored")
    if run["cue_noise"] > 0 and start != "cue":
        raise _PointError("run.cue_noise", "cue_noise is used only with start = 'cue'")
    if (start == "given") != (run["state"] is not None):
        raise _PointError("run.state", "run.state (a list of N values) is given exactly when start = 'given'")
    if start == "given":
        s = run["state"]
        if not isinstance(s, list) or len(s) != N or not all(_is_number(v) for v in s):
            raise _PointError("run.state", f"expected a list of {N} numbers, got {s!r}")
        if kind == "hopfield":
            lo = -1 if net_cfg["units"] == "spin" else 0
            if not all(v in (lo, 1) for v in s):
                raise _PointError("run.state", f"{net_cfg['units']} units take the values {lo} and 1, got {s!r}")
        elif not all(np.isfinite(v) for v in s):
            raise _PointError("run.state", "expected finite potentials u")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _matrix(W, N: int) -> np.ndarray:
    if not (isinstance(W, list) and len(W) == N and all(isinstance(row, list) and len(row) == N for row in W)
            and all(_is_number(v) for row in W for v in row)):
        raise _PointError("run.W", f"expected a {N} x {N} list of lists of numbers (net.n_units = {N})")
    A = np.asarray(W, dtype=np.float64)
    if not np.all(np.isfinite(A)):
        raise _PointError("run.W", "expected finite couplings")
    return A


def _build(cfg, ss):
    """The net of trial stream ``ss`` and its +-1 patterns (P, N) (None without [data])."""
    net_cfg, run = cfg["net"], cfg["run"]
    N = net_cfg["n_units"]
    X = None
    if "data" in cfg:
        X = random_patterns(_n_patterns(cfg["data"], N), N, units="spin", bias=cfg["data"]["bias"],
                            rng=generator(ss, "data"))
    cls = get_net(net_cfg["kind"])
    if run["couplings"] == "stored":
        return cls.from_config(net_cfg, cfg["train"], _in_units_cfg(net_cfg, X), rng=generator(ss, "graph")), X
    if run["couplings"] == "given":
        W = _matrix(run["W"], N)
    else:
        A = generator(ss, "couplings").normal(scale=1.0 / np.sqrt(N), size=(N, N))
        W = np.triu(A, 1)
        W = W + W.T
    if net_cfg["kind"] == "hopfield":
        return cls(W, units=net_cfg["units"]), X
    return cls(W, gain=net_cfg["gain"], tau=net_cfg["tau"], dt=net_cfg["dt"]), X


def _in_units_cfg(net_cfg, X: np.ndarray) -> np.ndarray:
    if net_cfg["kind"] == "hopfield" and net_cfg["units"] == "binary":
        return ((X + 1) // 2).astype(np.int8)
    return X


def _in_units(net, X: np.ndarray) -> np.ndarray:
    """+-1 configurations (..., N) in the unit convention of ``net`` (its patterns' convention)."""
    if getattr(net, "units", "spin") == "binary":
        return ((X + 1) // 2).astype(np.int8)
    return X


def _state_from_spins(net, s: np.ndarray):
    if net.kind == "hopfield_continuous":
        return net.state_from_spins(s)
    return net.State(_in_units(net, s.astype(np.int8)))


def _spins(net, state) -> np.ndarray:
    """The final state as +-1 (sign of V for the continuous net; 0 where V = 0)."""
    if net.kind == "hopfield_continuous":
        return net.spins(state).astype(np.float64)
    s = np.asarray(state.s, dtype=np.float64)
    return 2.0 * s - 1.0 if net.units == "binary" else s


def _overlaps(net, state, X: np.ndarray) -> np.ndarray:
    return net.overlap(state, _in_units(net, X))


def _start(cfg, net, X, rng: np.random.Generator, r: int):
    """Initial state of run ``r``, its target pattern (-1: none) and reference mask (P,)."""
    run = cfg["run"]
    start = run["start"]
    P = 0 if X is None else len(X)
    ref = np.ones(P, dtype=bool)
    target = -1
    if start == "random":
        return net.init_state(rng=rng), target, ref
    if start == "given":
        values = np.asarray(run["state"])
        return net.coerce_state(values if net.kind == "hopfield_continuous" else values.astype(np.int8)), target, ref
    if start == "mixture":
        k = run["mixture_of"]
        s = np.sign(X[:k].sum(axis=0)).astype(np.int8)   # k odd: never 0
        ref = np.arange(P) < k
        return _state_from_spins(net, s), target, ref
    target = r % P
    s = X[target]
    if start == "cue":
        s = corrupt(s, run["cue_noise"], units="spin", rng=rng)
    ref = np.arange(P) == target
    return _state_from_spins(net, s), target, ref


def _record(cfg, *, probes, patterns=None) -> Record:
    every = cfg["record"]["every"]
    if every == "update":
        return Record(every=1, micro=True, probes=probes, patterns=patterns)
    return Record(every=1 if every == "sweep" else every, probes=probes, patterns=patterns)


def _energies(net, traj) -> np.ndarray:
    """The net's energy at every record, shape (R,) (in one batch when the net can)."""
    batch = getattr(net, "energies", None)
    if batch is not None:
        return np.asarray(batch(traj.states[net.State._fields[0]]), dtype=np.float64)
    fields = net.State._fields
    R = len(traj.t)
    return np.array([net.energy(net.State(*(traj.states[f][r] for f in fields))) for r in range(R)])


def _is_fixed(net, state) -> bool:
    if net.binary:
        return bool(net.is_fixed_point(state))
    u = np.asarray(state.u)
    moved = np.abs(net.step(state).u - u).max()
    return bool(moved <= _FIXED_RTOL * max(1.0, float(np.abs(u).max())))


def _outcomes(res: dict, run: dict) -> dict[str, np.ndarray]:
    """Per-run outcome indicators (a partition; see the module docstring)."""
    m = np.abs(res["m_sign"])                                        # (R, P)
    fixed = res["fixed"]
    if m.shape[1] == 0:
        return {}
    top = m.max(axis=1)
    retrieval = fixed & (top >= run["retrieval_overlap"])
    mixture = fixed & ~retrieval & (res["q_mix"] >= run["retrieval_overlap"])
    other = fixed & ~retrieval & ~mixture
    return {"frac_retrieval": retrieval, "frac_exact_pattern": fixed & (top == 1.0), "frac_mixture": mixture,
            "frac_other_spurious": other, "frac_spurious": mixture | other, "frac_not_converged": ~fixed}


def _mixture_overlap(X: np.ndarray, spins: np.ndarray, m: np.ndarray) -> float:
    """max over k in (3, 5) of |M_k . s| / N, M_k = sign(sum_mu sign(m_mu) xi^mu) over the
    k patterns with the largest |m_mu|: how close s is to a symmetric odd mixture."""
    order = np.argsort(-np.abs(m), kind="stable")
    best = 0.0
    for k in (3, 5):
        if k <= len(X):
            top = order[:k]
            M = np.sign(np.sign(m[top]) @ X[top])               # (N,); never 0 for odd k and m != 0
            best = max(best, abs(float(M @ spins)) / len(spins))
    return best


def _describe(cfg) -> str:
    run = cfg["run"]
    start = {"random": "from a random state", "pattern": "from a stored pattern",
             "cue": f"from a cue ({run['cue_noise']:.0%} flipped)", "given": "from the given state",
             "mixture": f"from the symmetric {run['mixture_of']}-mixture"}[run["start"]]
    how = {"sync": "synchronous", "sequential": "asynchronous (sequential order)",
           "random": "asynchronous (random order)", "random-site": "asynchronous (random sites)",
           "chromatic": "chromatic"}.get(run["schedule"], run["schedule"])
    coup = run["couplings"]
    W = {"random_symmetric": "random symmetric W", "given": "the given W"}.get(
        coup, f"{cfg['train']['rule'] if 'train' in cfg else ''} W")
    return f"{how} updates {start}, {W}"
