r"""The plan-sequence protocol: a Jordan net learns plan -> sequence maps; are they attractors?

Jordan (1986), "Serial order: a parallel distributed processing approach", ICS Report 8604
[secondary; SCENARIOS.md section 4, J1]. Per trial (seed streams ``data``, ``init``,
``order``, ``noise``): ``n_plans`` one-hot plans, each standing for a random binary sequence
of ``length`` patterns over the net's output units (:func:`sim.tasks.plan_sequences`); the
training sequence of a plan is its pattern sequence repeated ``cycles`` times (a cyclic
sequence), with the plan held constant as the input. The Jordan net
(:mod:`nets.jordan`, state units s_t = mu s_{t-1} + o_{t-1}) is trained with teacher
forcing (o = the target) by backprop on E = 1/2 sum_t ||y_t - target_t||^2, one update per
sequence (or on the summed cross-entropy of the sigmoid outputs, ``train.loss = "bce"``),
the sequences visited in a fresh random order each epoch, until the net
*generating* freely (o = its own output) is within ``run.tolerance`` of every target, or
``train.epochs`` epochs.

Metrics (means over trials with 95 % Student-t intervals unless counts):

* ``acc_free``: fraction of output bits correct (threshold 0.5) when generating the trained
  sequences freely from s_0; ``n_perfect``: trials with acc_free = 1 (count);
* ``acc_teacher``: the same with teacher forcing;
* ``epochs``: epochs to the stopping criterion (``train.epochs`` when not met);
* ``acc_long``: free generation over ``run.test_cycles`` cycles (beyond the trained ones);
* attractor test: generating freely, at step ``run.perturb_step`` every state unit gets
  uniform noise in [-state_noise, state_noise] (``run.n_noise`` draws per plan); the run
  *re-converges* when, from some step on, every output bit equals the trained cycle, in
  phase or advanced by d steps (a limit cycle re-entered at another phase is the same
  attractor; ``phase_shifted`` is the fraction of draws that came back shifted);
  ``reconverge_steps`` is, per trial, the largest number of steps after the perturbation until then (over plans
  and draws; test_cycles * length when it never does), and ``n_reconverged`` (count) the
  trials where every draw re-converges within ``run.within_cycles`` cycles;
  ``frac_reconverged``: the fraction of draws (plans x noise) that do, averaged over trials.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key
from ..stats import means_with_intervals
from ..tasks import plan_sequences
from . import Protocol


class PlanSequences(Protocol):
    name = "plan_sequences"
    sections = ("net", "train", "data")
    run_keys = {
        "tolerance": Key("float", default=0.2, min=0.0, max=0.5,
                         doc="stop when free generation is within this of every target bit"),
        "test_cycles": Key("int", default=8, min=1, doc="cycles generated in the attractor test"),
        "perturb_step": Key("int", default=2, min=0, doc="step whose state units get the noise"),
        "state_noise": Key("float", default=0.3, min=0.0, doc="noise amplitude: uniform in [-a, a]"),
        "n_noise": Key("int", default=20, min=1, doc="noise draws per plan"),
        "within_cycles": Key("float", default=2.0, min=0.0, doc="re-convergence allowed within this many cycles"),
    }
    metrics = ("acc_free", "n_perfect", "acc_teacher", "epochs", "acc_long", "reconverge_steps",
               "n_reconverged", "phase_shifted", "frac_reconverged")
    plots = {"perturbation": {}, "loss_curve": {}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            net, data, run = cfg["net"], cfg["data"], cfg["run"]
            if net["kind"] != "jordan":
                raise ScenarioError(src, "net.kind", "the plan_sequences protocol trains a 'jordan' net")
            if data["task"] != "plan_sequences":
                raise ScenarioError(src, "data.task", "the plan_sequences protocol needs task 'plan_sequences'")
            if net["n_inputs"] != data["n_plans"]:
                raise ScenarioError(src, "net.n_inputs", f"one plan unit per plan: {data['n_plans']}")
            if run["perturb_step"] >= run["test_cycles"] * data["length"]:
                raise ScenarioError(src, "run.perturb_step", "a step within the generated test cycles")

    # --- one trial ----------------------------------------------------------------------
    @staticmethod
    def _data(cfg, ss_k):
        d = cfg["data"]
        plans, seqs = plan_sequences(d["n_plans"], d["length"], cfg["net"]["n_outputs"],
                                     rng=generator(ss_k, "data"))
        return plans, seqs

    @staticmethod
    def _cycled(plans, seqs, cycles):
        """Inputs (T, P, P) and targets (T, P, K) of ``cycles`` repetitions."""
        T = seqs.shape[1] * cycles
        xs = np.broadcast_to(plans[None], (T,) + plans.shape).copy()
        ys = np.ascontiguousarray(np.tile(seqs, (1, cycles, 1)).transpose(1, 0, 2))
        return xs, ys

    def _train(self, net, xs, ys, cfg, rng):
        lr, tol = cfg["train"]["lr"], cfg["run"]["tolerance"]
        loss = cfg["train"].get("loss", "mse")
        scale = 0.5 if loss == "mse" else 1.0  # E = 1/2 SSE, or the summed cross-entropy
        p = net.train_params()
        sse = []
        P = xs.shape[1]
        for epoch in range(cfg["train"]["epochs"]):
            tot = 0.0
            for i in rng.permutation(P):
                value, g, _ = net.bptt(p, xs[:, i:i + 1], ys[:, i:i + 1], loss=loss, reduction="sum",
                                       teacher_forcing=True, fast=True)
                tot += scale * value
                p = type(p)(*(q - scale * lr * gq for q, gq in zip(p, g)))
            sse.append(tot)
            y, _ = net.generate(p, xs, fast=True)
            if np.max(np.abs(y - ys)) < tol:
                return p, epoch + 1, np.array(sse)
        return p, cfg["train"]["epochs"], np.array(sse)

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        run = cfg["run"]
        plans, seqs = self._data(cfg, ss_k)
        net = get_net("jordan").from_config(cfg["net"], rng=generator(ss_k, "init"))
        xs, ys = self._cycled(plans, seqs, cfg["data"]["cycles"])
        p, epochs, sse = self._train(net, xs, ys, cfg, generator(ss_k, "order"))
        y_free, _ = net.generate(p, xs)
        _, y_tf = net.forward(p, xs, teacher=ys)
        L = seqs.shape[1]
        xl, yl = self._cycled(plans, seqs, run["test_cycles"])
        y_long, _ = net.generate(p, xl)
        out = {"acc_free": float(np.mean((y_free > 0.5) == (ys > 0.5))),
               "acc_teacher": float(np.mean((y_tf > 0.5) == (ys > 0.5))),
               "acc_long": float(np.mean((y_long > 0.5) == (yl > 0.5))),
               "epochs": float(epochs)}
        out["sse"] = np.full(cfg["train"]["epochs"], np.nan)  # NaN after the stop (stackable over trials)
        out["sse"][:len(sse)] = sse
        steps, shift, demo = self._perturb(net, p, xl, yl, y_long, run, generator(ss_k, "noise"))
        out["reconverge_steps"] = float(steps.max())
        out["phase_shifted"] = float(np.mean((shift != 0) & (steps < len(xl))))
        out["reconverged"] = bool(steps.max() <= run["within_cycles"] * L)
        out["frac_reconverged"] = float(np.mean(steps <= run["within_cycles"] * L))
        out.update(demo)
        return out

    @staticmethod
    def _perturb(net, p, xl, yl, y_clean, run, rng):
        """Steps to re-convergence (P * n_noise,) after noise on the state at perturb_step."""
        T, P, _ = xl.shape
        R, j = run["n_noise"], run["perturb_step"]
        xr = np.repeat(xl, R, axis=1)  # (T, P R, I): plan i's draws are columns i R .. i R + R - 1
        yr = np.repeat(yl, R, axis=1)
        if j:
            head, s = net.generate(p, xr[:j])  # (j, P R, K), (P R, K)
        else:
            head = np.empty((0,) + yr.shape[1:])
            s = np.broadcast_to(net.init_state(rng=rng).s, (P * R, yr.shape[2])).copy()
        s = s + rng.uniform(-run["state_noise"], run["state_noise"], size=s.shape)
        tail, _ = net.generate(p, xr[j:], state0=s)
        y = np.concatenate([head, tail], axis=0)  # (T, P R, K)
        L = T // run["test_cycles"]
        ext = np.concatenate([yr, yr[:L]], axis=0)  # (T + L, P R, K), periodic
        steps = np.empty((L, P * R), dtype=np.int64)
        for d in range(L):  # re-convergence onto the cycle advanced by d steps (d = 0: in phase)
            wrong = np.any((y > 0.5) != (ext[d:d + T] > 0.5), axis=2)  # (T, P R)
            wrong[:j] = False
            last = np.where(wrong.any(axis=0), T - 1 - np.argmax(wrong[::-1], axis=0), j - 1)
            steps[d] = last - j + 1  # 0: never wrong after the perturbation
            steps[d][wrong[-1]] = T  # still wrong at the end: not on this cycle
        shift = np.argmin(steps, axis=0)
        steps = steps.min(axis=0)
        demo = {"demo_target": yl[:, 0], "demo_clean": y_clean[:, 0], "demo_perturbed": y[:, 0]}
        return steps, shift, demo

    def aggregate(self, cfg, results):
        per = {m: [r[m] for r in results]
               for m in ("acc_free", "acc_teacher", "epochs", "acc_long", "reconverge_steps", "phase_shifted",
                         "frac_reconverged")}
        metrics, intervals = means_with_intervals(per)
        for name, flag in (("n_perfect", lambda r: r["acc_free"] == 1.0), ("n_reconverged", lambda r: r["reconverged"])):
            n = float(sum(flag(r) for r in results))
            metrics[name], intervals[name] = n, (n, n)
        return metrics, intervals

    # --- figures --------------------------------------------------------------------------
    def figures(self, scenario, points, demo) -> list[tuple[str, Any]]:
        from ..plots.sequence import loss_curve_figure, perturbation_figure

        out = []
        name = scenario.meta.get("id") or scenario.name
        for spec in scenario.plots:
            for pt in points:
                stem = spec["kind"] + (f"_{pt['label']}" if pt["label"] else "")
                trials = pt["trials"]
                if spec["kind"] == "perturbation":
                    d, j = trials[0], scenario.config["run"]["perturb_step"]
                    fig = perturbation_figure(d["demo_target"], d["demo_clean"], d["demo_perturbed"], perturb_step=j,
                                              period=scenario.config["data"]["length"],
                                              title=f"{name}: plan 1 generated freely, state noise at step "
                                                    f"{j} (trial 0)")
                else:
                    curves = np.array([r["sse"] for r in trials])
                    curves = curves[:, :int(np.max(np.sum(np.isfinite(curves), axis=1)))]
                    what = "1/2 SSE" if scenario.config["train"].get("loss", "mse") == "mse" else "cross-entropy"
                    fig = loss_curve_figure(curves, ylabel=f"{what} per epoch (teacher forced)",
                                            title=f"{name}: training error (stops at the criterion)")
                    fig.axes[0].set_yscale("log")  # the approach to the criterion spans decades
                out.append((stem, fig))
        return out
