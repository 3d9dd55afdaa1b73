r"""The encoder protocol: Boltzmann learning of the v-h-v encoder (Ackley, Hinton & Sejnowski 1985).

Per trial: a Boltzmann machine with visible groups V1, V2 of v units (each complete
inside) and a hidden group H of h units linked to both, weights (and biases, as weights to
an always-on unit) starting at zero, learns the v environmental vectors of
:func:`sim.tasks.encoder_pairs` (unit i of V1 and unit i of V2 on) by the two-phase rule
of :mod:`nets.boltzmann_learning` (noisy clamping 0.15 / 0.05, two clamped annealings per
vector and as many free ones per cycle, schedule [2@20, 2@15, 2@12, 4@10], statistics at
T = 10 for 10 units of time, weight step 2 on sign(p_ij - p'_ij)). After each cycle the
code of each vector is the sign of each hidden unit's net input with V1 and V2 clamped
to it; a trial succeeds at the first cycle at which the v codes are distinct (and, with
``run.min_distance`` = 2, pairwise at Hamming distance >= 2: the "well-spaced" codes of
the 4-3-4 encoder), and stops there or at ``max_cycles``. With ``run.partial_codes`` = m
the trial also records the first cycle at which m of the v codes were distinct (8-3-8:
"median 210 cycles to 7 codes").

Metrics (over the trials of a sweep point):

* ``successes``: trials whose codes became distinct within ``max_cycles``;
* ``success_rate``: successes / trials (interval: Wilson 95 %);
* ``median_cycles``: median of the cycles to success, a failed trial counting as longer
  than every success (nan when half or more failed); interval: the distribution-free
  95 % order-statistic interval (ranks n/2 -+ 1.96 sqrt(n)/2);
* ``q1_cycles``, ``q3_cycles``: the quartiles, same convention;
* ``longest_cycles``: the longest time among the successes;
* ``partial_success_rate``, ``median_partial_cycles``: the same for reaching ``partial_codes``
  distinct codes (nan when ``partial_codes`` is 0);
* ``completion_rate`` (with ``run.completion_tests``): mean fraction of completion tests
  passed (V1 clamped, annealed by ``train.test_anneal``; success: exactly the right V2
  unit on); ``code_distance``: mean smallest Hamming distance between two codes;
  ``weight_max``: mean over trials of the largest |w| (biases included) after learning,
  in units of the energy (compare with the temperatures: far above T the annealing
  freezes).

With ``train.phases`` (the 40-10-40 schedule: cycles with the hidden units disconnected,
then with noisy and noise-free clamping) a trial runs the whole schedule (cut at
``max_cycles``), then the completion tests.

Paper [paper, 4-2-4]: 250/250 successes, median 110, longest 1810; 4-3-4: median 270
cycles to well-spaced codes, longest 1090 in 200 trials; 8-3-8 (off -> on noise 0.02, 20
runs of 4000 cycles): all 8 codes in 16/20, median 210 cycles to 7 codes, 1570 to all 8.

The demo learns once more on its own seed stream (until success or the cap) and runs
one clamped (vector 1) and one free annealing of the learned machine through
:func:`sim.simulate` (schedule ``random-site``: one unit of time = F random probes)
with the scenario's annealing-plus-collection temperature schedule, recording the energy.
"""
from __future__ import annotations

import math

import numpy as np

from nets import boltzmann_learning as bl

from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals, wilson_interval
from ..tasks import encoder_pairs
from . import Protocol


def _setup(cfg):
    v, h = cfg["data"]["v"], cfg["net"]["n_hidden"]
    net, mask = bl.encoder_machine(v, h, biases=cfg["net"]["biases"])
    return net, mask, encoder_pairs(v), bl.TwoPhase.from_config(cfg["train"])


def _learn(cfg, net, mask, V, tp, rng):
    """learn (until success or run.max_cycles) or, with train.phases, learn_phases."""
    Wa0 = np.zeros(mask.shape)
    if cfg["train"].get("phases") is not None:
        return bl.learn_phases(Wa0, mask, V, net.visible, net.hidden, tp, bl.Phase.parse(cfg["train"]["phases"]),
                               rng=rng, max_cycles=cfg["run"]["max_cycles"])
    return bl.learn(Wa0, mask, V, net.visible, net.hidden, tp, max_cycles=cfg["run"]["max_cycles"], rng=rng,
                    min_distance=cfg["run"]["min_distance"])


def _test_temps(cfg) -> np.ndarray:
    """Temperature per unit of time of the completion test's annealing."""
    return bl.anneal_temperatures(bl.TwoPhase(anneal=tuple(tuple(p) for p in cfg["train"]["test_anneal"]),
                                              collect_time=0))


def _order_statistic(x: np.ndarray, q: float) -> float:
    """The ceil(q n)-th smallest (1-based) of x (inf allowed); nan if it is inf."""
    xs = np.sort(x)
    k = min(len(xs), max(1, math.ceil(q * len(xs))))
    return float(xs[k - 1]) if np.isfinite(xs[k - 1]) else math.nan


class Encoder(Protocol):
    name = "encoder"
    sections = ("net", "train", "data")
    run_keys = {
        "max_cycles": Key("int", default=3000, min=1,
                          doc="cap on learning cycles per trial (with train.phases: cuts the schedule there)"),
        "demo": Key("bool", default=True, doc="learn once more and record two annealings for figures"),
        "min_distance": Key("int", default=1, min=1,
                            doc="success needs codes pairwise this Hamming distance apart (2: well-spaced 4-3-4 codes)"),
        "partial_codes": Key("int", default=0, min=0,
                             doc="also time the first cycle with this many distinct codes (0: off)"),
        "completion_tests": Key("int", default=0, min=0,
                                doc="completion tests per pattern after learning (V1 clamped; needs train.test_anneal)"),
    }
    metrics = ("successes", "success_rate", "median_cycles", "q1_cycles", "q3_cycles", "longest_cycles",
               "partial_success_rate", "median_partial_cycles", "completion_rate", "code_distance", "weight_max")
    plots = {"annealing": {}, "hinton": {}, "codes": {}, "cycles": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            if cfg["net"]["kind"] != "boltzmann":
                raise ScenarioError(src, "net.kind", "the encoder protocol learns a Boltzmann machine ('boltzmann')")
            if cfg["data"]["task"] != "encoder_pairs":
                raise ScenarioError(src, "data.task", "the encoder protocol learns encoder_pairs")
            if cfg["train"]["rule"] != "two_phase":
                raise ScenarioError(src, "train.rule", "the encoder protocol learns by rule 'two_phase'")
            try:
                bl.TwoPhase.from_config(cfg["train"])
            except (TypeError, ValueError) as exc:
                raise ScenarioError(src, "train.anneal", str(exc)) from None
            v, h = cfg["data"]["v"], cfg["net"]["n_hidden"]
            try:
                if cfg["train"]["phases"] is not None:
                    bl.Phase.parse(cfg["train"]["phases"])
                if cfg["train"]["test_anneal"] is not None:
                    bl.anneal_temperatures(bl.TwoPhase(anneal=tuple(tuple(p) for p in cfg["train"]["test_anneal"]),
                                                       collect_time=0))
            except (TypeError, ValueError) as exc:
                raise ScenarioError(src, "train.phases", str(exc)) from None
            if cfg["run"]["completion_tests"] and cfg["train"]["test_anneal"] is None:
                raise ScenarioError(src, "train.test_anneal", "completion tests need an annealing schedule")
            if cfg["run"]["partial_codes"] > v:
                raise ScenarioError(src, "run.partial_codes", f"at most data.v = {v} codes can be distinct")
            if cfg["run"]["min_distance"] > h:
                raise ScenarioError(src, "run.min_distance", f"codes of n_hidden = {h} bits are at most {h} apart")

    def trial(self, cfg, ss, k):
        net, mask, V, tp = _setup(cfg)
        r = _learn(cfg, net, mask, V, tp, generator(child(ss, k), "learning"))
        codes = bl.hidden_codes(r.Wa, V, net.visible, net.hidden)
        out = {"code_distance": float(bl.min_code_distance(codes)), "weight_max": float(np.abs(r.Wa[mask]).max())}
        if cfg["run"]["completion_tests"]:
            temps = _test_temps(cfg)
            ok = bl.completion_test(r.Wa, V, len(V), temps, cfg["run"]["completion_tests"],
                                    rng=generator(child(ss, k), "completion"))
            out["completion_rate"] = float(ok.mean())
        m = cfg["run"]["partial_codes"]
        reached = np.flatnonzero(r.n_codes >= m) if m else np.zeros(0, dtype=np.int64)
        return {"success_cycle": -1 if r.success_cycle is None else int(r.success_cycle),
                "partial_cycle": int(reached[0]) + 1 if len(reached) else -1,
                "cycles": int(r.cycles), "codes": codes, **out}

    def aggregate(self, cfg, results):
        n = len(results)
        c = np.array([r["success_cycle"] for r in results], dtype=np.float64)
        ok = c > 0
        t = np.where(ok, c, np.inf)                 # a failure took longer than any success
        s = int(ok.sum())
        z = 1.959963984540054
        lo_rank = max(1, math.floor(n / 2 - z * math.sqrt(n) / 2))
        hi_rank = min(n, math.ceil(1 + n / 2 + z * math.sqrt(n) / 2))

        def median_ci(times):
            ts = np.sort(times)

            def at(rank):
                return float(ts[rank - 1]) if np.isfinite(ts[rank - 1]) else math.nan
            return at(lo_rank), at(hi_rank)

        def median(times):
            return float(np.median(times)) if np.isfinite(np.median(times)) else math.nan

        if cfg.get("run", {}).get("partial_codes", 0):
            cp = np.array([r["partial_cycle"] for r in results], dtype=np.float64)
            tp_ = np.where(cp > 0, cp, np.inf)
            partial = {"partial_success_rate": float((cp > 0).mean()), "median_partial_cycles": median(tp_)}
            partial_iv = {"partial_success_rate": wilson_interval(int((cp > 0).sum()), n),
                          "median_partial_cycles": median_ci(tp_)}
        else:
            partial = {"partial_success_rate": math.nan, "median_partial_cycles": math.nan}
            partial_iv = {k: (math.nan, math.nan) for k in partial}
        extra, extra_iv = {}, {}
        for q in ("completion_rate", "code_distance", "weight_max"):
            vals = [r[q] for r in results if q in r]
            if len(vals) == n:
                m, iv = means_with_intervals({q: vals})
                extra[q], extra_iv[q] = m[q], iv[q]
            else:
                extra[q], extra_iv[q] = math.nan, (math.nan, math.nan)

        metrics = {
            "successes": float(s),
            "success_rate": s / n,
            "median_cycles": median(t),
            "q1_cycles": _order_statistic(t, 0.25),
            "q3_cycles": _order_statistic(t, 0.75),
            "longest_cycles": float(c[ok].max()) if s else math.nan,
            **partial,
            **extra,
        }
        w = wilson_interval(s, n)
        intervals = {
            "successes": (w[0] * n, w[1] * n), "success_rate": w,
            "median_cycles": median_ci(t),
            "q1_cycles": (math.nan, math.nan), "q3_cycles": (math.nan, math.nan),
            "longest_cycles": (math.nan, math.nan),
            **partial_iv,
            **extra_iv,
        }
        return metrics, intervals

    # --- demo and figures -------------------------------------------------------------
    def demo(self, cfg, ss):
        if not cfg["run"]["demo"]:
            return None
        net, mask, V, tp = _setup(cfg)
        r = _learn(cfg, net, mask, V, tp, generator(ss, "learning"))
        W, b = bl.split(r.Wa)
        learned = net.with_params(W, b)
        temps = bl.anneal_temperatures(tp)
        spec = [[float(T), 1] for T in temps]
        runs = {}
        for phase, m in (("clamped", learned.clamp("visible", V[0])), ("free", learned)):
            runs[phase] = simulate(m, ticks=len(temps), schedule="random-site", temperature=spec,
                                   record=Record(every=1, micro=True, probes=("energy",)),
                                   rng=child(ss, "anneal", phase))
        # flat arrays only (the run store writes them to trace.npz); "trajectory" = the free annealing
        return {"trajectory": runs["free"], "clamped_t": np.asarray(runs["clamped"].t, dtype=float),
                "clamped_energy": np.asarray(runs["clamped"].probes["energy"]),
                "Wa": r.Wa, "mask": mask, "codes": bl.hidden_codes(r.Wa, V, net.visible, net.hidden),
                "patterns": V, "success_cycle": -1 if r.success_cycle is None else int(r.success_cycle),
                "temps": temps, "collect_time": int(tp.collect_time), "v": len(V), "h": int(net.n_hidden),
                "min_distance": int(cfg["run"]["min_distance"])}

    def figures(self, scenario, points, demo):
        from ..plots import encoder as eplots

        out = []
        sid = scenario.meta["id"] or scenario.name
        for spec in scenario.plots:
            kind = spec["kind"]
            if kind == "cycles":  # the sweep point with the largest cap
                caps = [cfg["run"]["max_cycles"] for _, cfg in scenario.points()]
                i = int(np.argmax(caps))
                cyc = np.array([r["success_cycle"] for r in points[i]["trials"]])
                published = {e.metric.partition("[")[0]: e.published for e in scenario.expect
                             if isinstance(e.published, (int, float))}
                out.append(("cycles", eplots.cycles_figure(
                    cyc, cap=caps[i],
                    published_median=published.get("median_cycles"),
                    title=f"{sid}: learning cycles to distinct codes")))
                continue
            if demo is None:
                continue
            if kind == "annealing":
                free = demo["trajectory"]
                series = {"clamped (vector 1)": (demo["clamped_t"], demo["clamped_energy"]),
                          "free": (np.asarray(free.t, dtype=float), np.asarray(free.probes["energy"]))}
                out.append(("annealing", eplots.annealing_figure(
                    series, demo["temps"], collect_time=demo["collect_time"],
                    title=f"{sid}: one clamped and one free annealing of the learned machine")))
            elif kind == "hinton":
                out.append(("hinton", eplots.hinton_figure(
                    demo["Wa"], demo["mask"], v=demo["v"], h=demo["h"],
                    title=f"{sid}: learned weights (demo run)")))
            elif kind == "codes":
                crit = "distinct" if demo["min_distance"] <= 1 else f"well-spaced (distance >= {demo['min_distance']})"
                out.append(("codes", eplots.codes_figure(
                    demo["codes"], success_cycle=demo["success_cycle"] if demo["success_cycle"] > 0 else None,
                    criterion=crit,
                    title=f"{sid}: hidden codes of the {demo['v']} vectors (demo run)")))
        return out
