r"""The gates protocol: McCulloch-Pitts logic (1943) and the perceptron rule (1958).

``run.model = "perceptron"`` (P1 in SCENARIOS.md, [measured, deterministic]): a single
threshold unit y = [w.x + b > 0] learns ``run.gate`` by Rosenblatt's rule from w = 0,
b = 0 with rate ``run.lr``, the inputs presented in the cyclic order (0,0), (0,1), (1,0),
(1,1), until an error-free epoch (counted) or ``run.max_epochs``. Metrics: ``epochs``,
``updates`` (mistakes), ``converged`` (1/0), the final ``w1``, ``w2``, ``b``,
``separable`` (linear-programming feasibility, 1/0), and for separable gates Novikoff's
``mistake_bound`` (R/gamma)^2 in the augmented space and ``bound_holds`` (updates <= bound).
P1 numbers: AND 6 epochs / 10 updates (w = (2,1), b = -2), OR 4 / 4 (w = (1,1), b = 0),
NAND 6 / 11 (w = (-2,-1), b = 3), XOR never (3997 updates in 1000 epochs).

``run.gate = "separable"``: the convergence theorem (Novikoff 1962) as a property. Each
trial draws ``run.n_sets`` random linearly separable sets (``run.n_points`` points in
[-1, 1]^``run.dim``, labelled by a random hyperplane, margin >= ``run.min_margin``; see
:func:`nets.perceptron.random_separable`) from its own stream and trains on each.
Metrics (over the sets of a trial, then the mean over trials): ``bound_holds``
(fraction with mistakes <= (R/gamma)^2), ``bound_ratio`` (largest mistakes / bound; the
largest over trials too), ``converged`` (fraction),
``separable`` (fraction, by LP), mean ``epochs``, ``updates``, ``mistake_bound``.

``run.model = "mcculloch_pitts"`` (P2, [definition]): the gate nets of
:func:`nets.perceptron.mp_gate` run through :func:`sim.simulate` with one input row per
tick. ``table_correct``: fraction of truth-table rows (AND, OR, XOR over (x1, x2); NOT
over x) whose output, read ``delay`` ticks later, is right. ``run.gate = "latch"``: a set
pulse at tick ``set_at`` and a reset pulse at ``reset_at`` in a quiet stream of
``latch_ticks`` ticks; ``latch_correct`` is the fraction of ticks at which the latch
holds the stored bit (1 exactly for set_at < t <= reset_at), ``held_ticks`` the number of
consecutive ticks it stays on after the set pulse, and ``held_ticks_no_loop`` the same for
the net without its self-excitatory synapse (the loop is the memory: 1 tick without it).

Deterministic computations: the interval of a metric over trials is its Student-t
interval (zero width when every trial agrees).
"""
from __future__ import annotations

import numpy as np

from nets import perceptron as pc

from ..errors import ScenarioError
from ..record import Record
from ..rng import child, generator
from ..schema import Key
from ..simulate import simulate
from ..stats import means_with_intervals
from . import Protocol

PERCEPTRON_GATES = ("AND", "OR", "NAND", "NOR", "XOR", "separable")
_PERCEPTRON_METRICS = ("epochs", "updates", "converged", "w1", "w2", "b", "separable", "mistake_bound",
                       "bound_holds", "bound_ratio")
_MP_METRICS = ("table_correct", "latch_correct", "held_ticks", "held_ticks_no_loop")


def _applicable(model: str, gate: str) -> set[str]:
    if model == "mcculloch_pitts":
        return {"latch_correct", "held_ticks", "held_ticks_no_loop"} if gate == "latch" else {"table_correct"}
    if gate == "separable":
        return {"epochs", "updates", "converged", "separable", "mistake_bound", "bound_holds", "bound_ratio"}
    out = {"epochs", "updates", "converged", "w1", "w2", "b", "separable"}
    return out if gate == "XOR" else out | {"mistake_bound", "bound_holds", "bound_ratio"}


def latch_stream(ticks: int, set_at: int, reset_at: int) -> np.ndarray:
    """Inputs (ticks, 2) of the latch: columns (set, reset), one pulse each."""
    xs = np.zeros((ticks, 2), np.int8)
    xs[set_at, 0] = 1
    xs[reset_at, 1] = 1
    return xs


def _held(s: np.ndarray, set_at: int) -> int:
    """Consecutive ticks t > set_at with the unit on (s[t] is the state after tick t)."""
    after = s[set_at + 1:]
    off = np.flatnonzero(after == 0)
    return int(off[0]) if len(off) else len(after)


class Gates(Protocol):
    name = "gates"
    sections = ()
    run_keys = {
        "model": Key("str", choices=("perceptron", "mcculloch_pitts")),
        "gate": Key("str", choices=PERCEPTRON_GATES + tuple(g for g in pc.MP_GATES if g not in PERCEPTRON_GATES)),
        "lr": Key("float", default=1.0, min=1e-12, doc="perceptron learning rate"),
        "max_epochs": Key("int", default=1000, min=1),
        "n_sets": Key("int", default=100, min=1, doc="random separable sets per trial"),
        "n_points": Key("int", default=20, min=1),
        "dim": Key("int", default=2, min=1),
        "min_margin": Key("float", default=0.05, min=1e-3, max=0.3, doc="margin of the generating hyperplane"),
        "latch_ticks": Key("int", default=60, min=3),
        "set_at": Key("int", default=5, min=0),
        "reset_at": Key("int", default=45, min=1),
    }
    metrics = _PERCEPTRON_METRICS + _MP_METRICS
    plots = {"decision_lines": {}, "latch": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        by_label = {}
        for label, cfg in scenario.points():
            run = cfg["run"]
            model, gate = run["model"], run["gate"]
            ok = pc.MP_GATES if model == "mcculloch_pitts" else PERCEPTRON_GATES
            if gate not in ok:
                raise ScenarioError(src, "run.gate", f"the {model} model has gates {', '.join(ok)}, not {gate!r}")
            if gate == "latch" and not run["set_at"] < run["reset_at"] < run["latch_ticks"]:
                raise ScenarioError(src, "run.reset_at", "expected set_at < reset_at < latch_ticks")
            by_label[label] = _applicable(model, gate)
        for e in scenario.expect + scenario.unchecked:
            base, _, rest = e.metric.partition("[")
            allowed = by_label.get(rest.rstrip("]"), set().union(*by_label.values()))
            if base not in allowed:
                raise ScenarioError(src, f"expect.{e.metric}", f"this point reports {', '.join(sorted(allowed))}")
        models = {cfg["run"]["model"] for _, cfg in scenario.points()}
        for p in scenario.plots:
            need = "perceptron" if p["kind"] == "decision_lines" else "mcculloch_pitts"
            if need not in models:
                raise ScenarioError(src, "plot.kind", f"a {p['kind']} plot needs run.model = {need!r}")

    # --- trials -----------------------------------------------------------------------
    def trial(self, cfg, ss, k):
        run = cfg["run"]
        if run["model"] == "mcculloch_pitts":
            return self._mp(run)
        if run["gate"] == "separable":
            return self._separable(run, child(ss, k))
        t = pc.GATE_TARGETS[run["gate"]]
        fit = pc.train_perceptron(pc.INPUTS_2, t, lr=run["lr"], max_epochs=run["max_epochs"])
        out = {"epochs": fit.epochs, "updates": fit.updates, "converged": float(fit.converged),
               "w1": fit.w[0], "w2": fit.w[1], "b": fit.b, "separable": float(pc.separable(pc.INPUTS_2, t)),
               "errors": fit.errors}
        if out["separable"]:
            bound = pc.novikoff_bound(pc.INPUTS_2, t)[2]
            out.update(mistake_bound=bound, bound_holds=float(fit.updates <= bound * (1 + 1e-12)),
                       bound_ratio=fit.updates / bound)
        return out

    @staticmethod
    def _separable(run, ss):
        rng = generator(ss, "data")
        upd, ep, conv, sep, bound = (np.empty(run["n_sets"]) for _ in range(5))
        for i in range(run["n_sets"]):
            X, t, u = pc.random_separable(run["n_points"], run["dim"], min_margin=run["min_margin"], rng=rng)
            fit = pc.train_perceptron(X, t, lr=run["lr"], max_epochs=run["max_epochs"])
            upd[i], ep[i], conv[i] = fit.updates, fit.epochs, fit.converged
            sep[i] = pc.separable(X, t)
            bound[i] = pc.novikoff_bound(X, t, u)[2]
        return {"updates_per_set": upd, "epochs_per_set": ep, "bound_per_set": bound,
                "epochs": ep.mean(), "updates": upd.mean(), "converged": conv.mean(), "separable": sep.mean(),
                "mistake_bound": bound.mean(), "bound_holds": np.mean(upd <= bound * (1 + 1e-12)),
                "bound_ratio": np.max(upd / bound)}

    @staticmethod
    def _mp(run):
        gate = run["gate"]
        if gate != "latch":
            rows, out = pc.truth_table(gate)
            target = pc.GATE_TARGETS[gate]
            return {"table_correct": float(np.mean(out == target)), "outputs": out}
        traj, bare = _latch_runs(run)
        s = traj.states["s"][:, 0]
        want = np.zeros_like(s)
        want[run["set_at"] + 1:run["reset_at"] + 1] = 1
        return {"latch_correct": float(np.mean(s == want)), "held_ticks": _held(s, run["set_at"]),
                "held_ticks_no_loop": _held(bare.states["s"][:, 0], run["set_at"]), "latch_state": s}

    def aggregate(self, cfg, results):
        run = cfg["run"]
        names = [m for m in self.metrics if m in _applicable(run["model"], run["gate"])]
        metrics, intervals = means_with_intervals({m: [float(r[m]) for r in results] for m in names})
        if "bound_ratio" in metrics:  # the worst case over trials, not their mean
            ratios = [float(r["bound_ratio"]) for r in results]
            metrics["bound_ratio"], intervals["bound_ratio"] = max(ratios), (min(ratios), max(ratios))
        return metrics, intervals

    # --- demo and figures -------------------------------------------------------------
    def demo(self, cfg, ss):
        if cfg["run"]["model"] != "mcculloch_pitts":
            return None
        run = {**cfg["run"]}
        if not run["set_at"] < run["reset_at"] < run["latch_ticks"]:
            return None
        traj, bare = _latch_runs(run)
        return {"trajectory": traj, "inputs": latch_stream(run["latch_ticks"], run["set_at"], run["reset_at"]),
                "no_loop": bare.states["s"][:, 0]}

    def figures(self, scenario, points, demo):
        from ..plots import gates as gp

        out = []
        for spec in scenario.plots:
            if spec["kind"] == "decision_lines":
                fits = [{"gate": p["values"].get("run.gate", scenario.config["run"]["gate"]),
                         "w": (p["metrics"]["w1"], p["metrics"]["w2"]), "b": p["metrics"]["b"],
                         "epochs": p["metrics"]["epochs"], "updates": p["metrics"]["updates"],
                         "converged": p["metrics"]["converged"]}
                        for p in points if "w1" in p["metrics"]]
                if fits:
                    out.append(("decision_lines", gp.decision_lines_figure(fits, pc.INPUTS_2, pc.GATE_TARGETS)))
            elif demo is not None:
                out.append(("latch", gp.latch_figure(demo["inputs"], demo["trajectory"].states["s"][:, 0],
                                                     demo["no_loop"])))
        return out


def _latch_runs(run):
    """The latch and the same unit without its self-excitation, run through simulate."""
    xs = latch_stream(run["latch_ticks"], run["set_at"], run["reset_at"])
    net, _, _ = pc.mp_gate("latch")
    bare = pc.McCullochPitts([[0]], net.params.theta, U=net.params.U, Ui=net.params.Ui)
    s0 = np.zeros(1, np.int8)
    rec = Record(probes=())
    return (simulate(net, s0, inputs=xs, schedule="clocked", record=rec),
            simulate(bare, s0, inputs=xs, schedule="clocked", record=rec))
