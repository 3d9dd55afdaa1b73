r"""The sequence-learning protocol: train several recurrent architectures on one task, compare.

Per trial and for each architecture of ``[net] archs`` (a list of tables: ``name``, ``kind``
and that net's own ``[net]`` keys, e.g. ``{ name = "lstm", kind = "lstm", n_hidden = 32 }``;
``n_inputs``, ``n_outputs`` and ``output`` come from the task), a fresh net is built by
``from_config`` from the stream ``init/<name>`` of the trial, then trained by BPTT
(``bptt(..., fast=True)`` unless ``train.fast = false``) with the ``[train]`` optimizer, learning rate, batch size,
number of updates and gradient clipping (by value, then by norm). Every update draws a
fresh batch from the task generator (:mod:`sim.sequence_tasks`); all architectures of a
trial see the same batches (stream ``data``: paired comparisons) and are tested on the
same held-out set of ``run.n_test`` sequences (stream ``test``). A learning curve (the
task's test metric on ``run.curve_test`` sequences of stream ``curve``) is recorded every
``train.eval_every`` updates.

Continual tasks (``data.task = "continual_reber"``, :attr:`SequenceTask.continual`): the net
reads ``train.batch_size`` parallel streams that are never reset, in chunks (truncated BPTT
over each chunk of ``data.chunk_strings`` strings or ``data.chunk_steps`` steps); chunk u + 1
starts from the final state of chunk u (``trace["state"]``, the LSTM's (h, c); else the last
h; the carried state is not differentiated), the first from zeros (Gers, Schmidhuber &
Cummins 2000; without a forget gate the cell state can only grow). Test and curve sets are
one fresh stream of ``run.n_test`` (``run.curve_test``) strings read from the zero state
without resets; the metric ``cell_norm`` is the RMS over cells of c at the end of that
stream, ``cell_frozen`` the fraction of cells whose act_h(c_t) is constant (to 1e-6) over
the stream's last tenth: saturated, so the cell state no longer carries anything (LSTM
only). Learner (arch key ``learner``): ``"bptt"`` (default, as above) or, for the 1997
cell on a continual task, ``"rtrl1997"``: the 1997 truncated gradient applied after every
time step (plain gradient descent at the arch's ``lr``), the learner of Gers et al.
(:func:`sim.protocols.seqlearn_train._train_rtrl1997`). (``"copy_back"``, Elman's one-step
rule, trains one sequence at a time: protocol online1997 only.)

Fixed initial values: an architecture's ``params = { W = [[1.25]], U = [[nan, 1.0]] }``
replaces those entries of the drawn initial parameters (``nan`` keeps the drawn value);
with ``train.freeze = ["V", "U[:, -1]"]`` (whole arrays or matrix columns) they keep their
values during training (Bengio's latch: a fixed readout and a unit-weight noise input).

Equal parameter budgets: with ``[net] budget = P`` every architecture without its own
``n_hidden`` gets the n_hidden whose trainable-parameter count is closest to P
(:func:`hidden_for_budget`).

Gradient retention: ``||dL/dh_t||`` (``trace["dh_norm"]``) on one probe batch (stream
``probe``) at initialisation and after training; with the loss at the last step only
(many-to-one tasks), ``dh_norm[T-1-k]`` is the gradient that reaches back k steps
(Bengio, Simard & Frasconi 1994; Hochreiter & Schmidhuber 1997): metrics
``grad_ratio_init`` / ``grad_ratio`` = dh_norm[0] / dh_norm[T-1].

Divergence: a non-finite loss, gradient, parameter or test output ends that
architecture's training in that trial with status "diverged"; it is counted
(``n_diverged_<arch>``), scored as a failure in ``success_rate`` and left out of the
means of the test metrics (which are NaN when every trial diverged).

Metrics, for each architecture name a of :data:`ARCH_NAMES` (means over trials with 95 %
Student-t intervals; rates with Wilson intervals): ``<q>_<a>`` for the task's test
metrics q (``mse``, ``ce``, ``accuracy``, ``fidelity`` = (acc - chance)/(1 - chance),
``mse_ratio`` / ``ce_ratio`` = metric / memoryless baseline, ``max_error``,
``outer_accuracy``, ``outer_solved`` (continual ERG: the fraction of trials whose outer
T/P accuracy is >= 0.95), ``cell_norm``, ``cell_frozen``), ``final_loss_<a>`` (training loss of the last update),
``success_rate_<a>`` / ``n_success_<a>`` (the task's success criterion on the test set,
:attr:`SequenceTask.success`), ``n_diverged_<a>``, ``updates_to_solve_<a>`` (median over
trials of the first curve point meeting the criterion on the curve set; NaN if none),
``n_params_<a>``, ``grad_ratio_init_<a>``, ``grad_ratio_<a>``; paired ratios
``<q>_<a>_over_<b>`` for b in rnn, lstm, gru (q = mse, ce: mean over trials of the per-trial
ratio); and the
task's baselines ``baseline_mse`` / ``baseline_ce`` and ``chance``.

Figures (``[[plot]]`` kinds): ``learning_curves`` (test metric vs updates per architecture,
mean and 95 % interval over trials, the baseline dashed), ``grad_vs_lag`` (median
||dL/dh_{T-1-k}|| vs lag k on a log axis, at init dashed and after training solid, per
architecture), ``lstm_gates`` (gate activations and cell state of a trained LSTM over one
test sequence of trial 0), ``success_curve`` (success rate with Wilson intervals against a
swept key, per architecture) and ``retention`` (fidelity vs a swept lag on a log x axis:
the sequence half of the lab's retention comparison; ``box`` (a per-trial test metric per
architecture as a box plot, Greff et al. 2017); :func:`retention_curves` builds the
``retention.json`` dict of the retention format).

The training of one architecture (nets, learners, curve points, divergence, final scores)
is :mod:`sim.protocols.seqlearn_train`; this module holds the configuration (archs,
budgets, per-task settings), the trial loop, the aggregation and the figures.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import REQUIRED, Key, check
from ..sequence_tasks import make_task
from ..retention import X_LABEL, Y_LABEL
from ..stats import mean_interval, wilson_interval
from ..train import OPTIMIZERS
from . import Protocol
from .seqlearn_train import (TEST_METRICS, _batches, _freeze_masks, _one_blas_thread, _set_params, _train_one,
                             n_params)

#: architecture names allowed in [net] archs (metric names are declared for these)
ARCH_NAMES = ("rnn", "irnn", "elman", "elman_bptt", "jordan", "lstm", "lstm1997", "lstm_nfg", "lstm_nig", "lstm_nog",
              "lstm_niaf", "lstm_noaf", "lstm_np", "lstm_cifg", "lstm_fgr", "gru", "gru_cho", "gru_after")
#: per-architecture learners (key ``learner`` of an arch table); "copy_back" (Elman's online
#: one-step rule) is for the online1997 protocol only
LEARNERS = ("bptt", "rtrl1997", "copy_back")
_PER_ARCH = TEST_METRICS + ("final_loss", "success_rate", "n_success", "n_diverged", "updates_to_solve",
                            "n_params", "grad_ratio_init", "grad_ratio")
_FROM_TASK = ("n_inputs", "n_outputs", "output")
#: paired ratios <q>_<a>_over_<b> are reported against these reference architectures
_RATIO_TO = ("rnn", "lstm", "gru")


def _metric_names() -> tuple[str, ...]:
    out = ["baseline_mse", "baseline_ce", "chance"]
    out += [f"{q}_{a}" for a in ARCH_NAMES for q in _PER_ARCH]
    out += [f"{q}_{a}_over_{b}" for q in ("mse", "ce") for a in ARCH_NAMES for b in _RATIO_TO if a != b]
    return tuple(out)


def hidden_for_budget(kind: str, net_cfg: dict, budget: int, *, h_max: int = 4096) -> int:
    """The n_hidden whose net of ``kind`` (other keys from ``net_cfg``) has the trainable-parameter
    count closest to ``budget`` (the smaller one on a tie). The count grows with n_hidden, so
    a bisection finds the crossing."""
    cls = get_net(kind)

    def count(H):
        return n_params(cls.from_config({**net_cfg, "n_hidden": H}, rng=np.random.default_rng(0)))

    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    lo, hi = 1, 1
    while count(hi) < budget:
        lo, hi = hi, hi * 2
        if hi > h_max:
            raise ValueError(f"a {kind} net needs more than {h_max} hidden units for {budget} parameters")
    while hi - lo > 1:  # count(lo) < budget <= count(hi), or lo == hi == 1
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < budget else (lo, mid)
    return lo if abs(count(lo) - budget) <= abs(count(hi) - budget) else hi


def archs(cfg: dict, task, source: str = "") -> list[dict[str, Any]]:
    """The validated architecture tables of a config: name, kind, net config, fixed params, lr."""
    spec = cfg["net"]["archs"]
    if not isinstance(spec, list) or not spec or not all(isinstance(a, dict) for a in spec):
        raise ScenarioError(source, "net.archs", "expected a non-empty list of tables {name = ..., kind = ..., ...}")
    out, seen = [], set()
    for i, a in enumerate(spec):
        where = f"net.archs[{i}]"
        name, kind = a.get("name"), a.get("kind")
        if name not in ARCH_NAMES:
            raise ScenarioError(source, f"{where}.name", f"expected one of {', '.join(ARCH_NAMES)}, got {name!r}")
        if name in seen:
            raise ScenarioError(source, f"{where}.name", f"architecture {name!r} appears twice")
        seen.add(name)
        try:
            cls = get_net(kind) if isinstance(kind, str) else None
        except KeyError:
            cls = None
        if cls is None or not hasattr(cls, "from_config") or not hasattr(cls, "bptt") or not getattr(
                cls, "config_keys", None):
            raise ScenarioError(source, f"{where}.kind", f"expected a trainable sequence net kind, got {kind!r}")
        keys = cls.config_keys
        net_cfg = {"n_inputs": task.n_inputs, "n_outputs": task.n_outputs, "output": task.output}
        for k in _FROM_TASK:
            if k in a and a[k] != net_cfg[k]:
                raise ScenarioError(source, f"{where}.{k}", f"the task sets {k} = {net_cfg[k]!r}; got {a[k]!r}")
        for k, v in a.items():
            if k in ("name", "kind", "params", "lr", "learner") or k in _FROM_TASK:
                continue
            if k not in keys:
                raise ScenarioError(source, f"{where}.{k}", "unknown key; expected one of: name, kind, params, lr, learner, "
                                    + ", ".join(sorted(set(keys) - set(_FROM_TASK))))
            net_cfg[k] = check(keys[k], v, source=source, name=f"{where}.{k}")
        for k, key in keys.items():
            if k not in net_cfg and k != "n_hidden":
                if key.default is REQUIRED:
                    raise ScenarioError(source, f"{where}.{k}", f"this key is required ({key.expectation()})")
                net_cfg[k] = key.default
        budget = cfg["net"]["budget"]
        if "n_hidden" not in net_cfg:
            if not budget:
                raise ScenarioError(source, f"{where}.n_hidden", "give n_hidden, or a parameter budget net.budget")
            net_cfg["n_hidden"] = hidden_for_budget(kind, net_cfg, budget)
        lr = check(Key("float", min=0.0), a.get("lr", cfg["train"]["lr"]), source=source, name=f"{where}.lr")
        fixed = a.get("params", {})
        if not isinstance(fixed, dict):
            raise ScenarioError(source, f"{where}.params", "expected a table {field = nested list}")
        learner = check(Key("str", choices=LEARNERS), a.get("learner", "bptt"), source=source, name=f"{where}.learner")
        out.append({"name": name, "kind": kind, "net": net_cfg, "params": fixed, "lr": lr, "learner": learner})
    return out


def task_config(cfg: dict, source: str = "") -> dict:
    """``cfg`` with ``train.by_task[<this point's task>]`` applied to its [train] table (validated
    against the train schema; a sweep over ``data.task`` can train each task its own way)."""
    spec = cfg["train"].get("by_task") or {}
    if not isinstance(spec, dict) or not all(isinstance(v, dict) for v in spec.values()):
        raise ScenarioError(source, "train.by_task", "expected a table {task name = {train key = value}}")
    bad = sorted(set(spec) - set(_SEQ_TASKS))
    if bad:
        raise ScenarioError(source, "train.by_task", f"unknown task {bad[0]!r}; expected one of {', '.join(_SEQ_TASKS)}")
    own = spec.get(cfg["data"]["task"], {})
    if not own:
        return cfg
    keys = SeqLearn.section_keys["train"]
    train = dict(cfg["train"])
    for k, v in own.items():
        if k not in keys or k == "by_task":
            raise ScenarioError(source, f"train.by_task.{cfg['data']['task']}.{k}", "unknown key; expected one of: "
                                + ", ".join(sorted(set(keys) - {"by_task"})))
        train[k] = check(keys[k], v, source=source, name=f"train.by_task.{cfg['data']['task']}.{k}")
    return {**cfg, "train": train}


def _check_rtrl1997(net, task, train: dict, source: str, where: str) -> None:
    """ScenarioError unless the 1997 learner covers this arch on this task (a continual task
    with one stream, the 1997 cell, a covered loss / output pair)."""
    from nets.lstm_rtrl import RTRL_LOSSES, rtrl_covers

    if not task.continual:
        raise ScenarioError(source, where, "learner 'rtrl1997' trains on a continual task (continual_reber) only")
    if train["batch_size"] != 1:
        raise ScenarioError(source, where, "learner 'rtrl1997' reads one stream: expected train.batch_size = 1")
    if not rtrl_covers(net) or (task.loss, task.output) not in RTRL_LOSSES:
        raise ScenarioError(source, where, "learner 'rtrl1997' covers the 1997 LSTM cell only (kind lstm, no forget "
                            f"gate, no peepholes, one layer) with loss/output in {RTRL_LOSSES}")


class SeqLearn(Protocol):
    name = "seqlearn"
    sections = ("net", "train", "data")
    section_keys = {
        "net": {
            "archs": Key("any", doc="list of {name, kind, <that net's keys>, params = {...}, lr = ...}"),
            "budget": Key("int", default=0, min=0, doc="trainable-parameter budget for archs without n_hidden"),
        },
        "train": {
            "optimizer": Key("str", default="adam", choices=tuple(OPTIMIZERS)),
            "lr": Key("float", default=1e-3, min=0.0),
            "batch_size": Key("int", default=32, min=1),
            "updates": Key("int", default=1000, min=1, doc="parameter updates (one fresh batch each)"),
            "clip_norm": Key("float", default=0.0, min=0.0, doc="clip the gradient norm to this (0: no clipping)"),
            "clip_value": Key("float", default=0.0, min=0.0, doc="clip every gradient element (0: no clipping)"),
            "eval_every": Key("int", default=100, min=1, doc="updates between learning-curve points"),
            "freeze": Key("str_list", default=[], doc="parameter fields kept at their initial values"),
            "fast": Key("bool", default=True, doc="bptt(fast=True): the fused numba kernels where they cover the net"),
            "stop_when_solved": Key("bool", default=False,
                                    doc="stop an architecture's training once the curve set meets the criterion"),
            "by_task": Key("any", default={}, doc="task name -> {train key = value}: settings of the points "
                                                  "that sweep to that task (e.g. a continual task's batch and lr)"),
        },
    }
    run_keys = {
        "n_test": Key("int", default=1000, min=1, doc="held-out test sequences"),
        "curve_test": Key("int", default=256, min=1, doc="sequences scored at each learning-curve point"),
        "test_batch": Key("int", default=250, min=1, doc="sequences per test batch"),
    }
    metrics = _metric_names()
    plots = {
        "learning_curves": {"metric": Key("str", default="", doc="test metric (default: the task's first)"),
                            "log": Key("bool", default=True)},
        "grad_vs_lag": {},
        "lstm_gates": {"arch": Key("str", default="lstm", choices=ARCH_NAMES)},
        "success_curve": {"key": Key("str", doc="the swept key on the x axis, e.g. data.T")},
        "retention": {"key": Key("str", default="data.lag"), "metric": Key("str", default="fidelity")},
        "box": {"metric": Key("str", default="", doc="test metric (default: the task's first)"),
                "log": Key("bool", default=False)},
    }

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            try:
                task = make_task(cfg["data"])
            except ValueError as exc:
                raise ScenarioError(src, "data.task", str(exc)) from None
            cfg = task_config(cfg, src)
            for a in archs(cfg, task, src):
                if task.continual and (a["net"].get("bidirectional") or (a["net"].get("n_layers", 1) > 1
                                                                         and a["kind"] != "lstm")):
                    raise ScenarioError(src, f"net.archs[{a['name']}]", "a continual task carries the state "
                                        "between chunks: expected a unidirectional net (several layers: lstm only)")
                net = get_net(a["kind"]).from_config(a["net"], rng=np.random.default_rng(0))
                if a["learner"] == "rtrl1997":
                    _check_rtrl1997(net, task, cfg["train"], src, f"net.archs[{a['name']}].learner")
                elif a["learner"] == "copy_back":
                    raise ScenarioError(src, f"net.archs[{a['name']}].learner", "'copy_back' trains one sequence "
                                        "at a time (protocol online1997); here: 'bptt' or 'rtrl1997'")
                params = _set_params(net.train_params(), a["params"], src, f"net.archs[{a['name']}]")
                _freeze_masks(params, cfg["train"]["freeze"], src)
            if cfg["data"]["task"] not in _SEQ_TASKS:
                raise ScenarioError(src, "data.task", "expected a sequence task: " + ", ".join(_SEQ_TASKS))

    # --- one trial --------------------------------------------------------------------
    def trial(self, cfg, ss, k):
        """Flat results ``"<arch>.<field>"`` -> float or array (same shapes in every trial)."""
        with _one_blas_thread():
            return self._trial(cfg, ss, k)

    def _trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        task = make_task(cfg["data"])
        cfg = task_config(cfg)
        run, tr = cfg["run"], cfg["train"]
        if task.continual:  # one fresh never-reset stream of n_test (curve_test) strings
            test = [task.sample(run["n_test"], generator(ss_k, "test"))]
            curve = [task.sample(run["curve_test"], generator(ss_k, "curve"))]
            probe = task.sample(16, generator(ss_k, "probe"))
        else:
            test = _batches(task, run["n_test"], run["test_batch"], generator(ss_k, "test"))
            curve = _batches(task, run["curve_test"], run["test_batch"], generator(ss_k, "curve"))
            probe = task.sample(min(run["test_batch"], 64), generator(ss_k, "probe"))
        out = {}
        for a in archs(cfg, task):
            rec = _train_one(a, task, tr, ss_k, test, curve, probe)
            out.update({f"{a['name']}.{f}": v for f, v in rec.items()})
        return out

    # --- aggregation ------------------------------------------------------------------
    def aggregate(self, cfg, results):
        task = make_task(cfg["data"])
        metrics, intervals = {}, {}

        def put(name, value, iv):
            metrics[name], intervals[name] = float(value), (float(iv[0]), float(iv[1]))

        def mean_put(name, vals):
            vals = np.asarray(vals, dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if len(vals):
                m, lo, hi = mean_interval(vals)
                put(name, m, (lo, hi))

        for q in ("mse", "ce"):
            b = task.baselines.get(q, math.nan)
            put(f"baseline_{q}", b, (b, b))
        put("chance", task.chance, (task.chance, task.chance))
        names = arch_names(results[0])
        col = lambda a, f: np.array([r[f"{a}.{f}"] for r in results], dtype=np.float64)  # noqa: E731
        for a in names:
            ok = col(a, "diverged") == 0
            for q in TEST_METRICS:
                mean_put(f"{q}_{a}", col(a, f"test_{q}")[ok])
            n = len(results)
            ns = int(np.sum(col(a, "test_solved")[ok] == 1))
            put(f"success_rate_{a}", ns / n, wilson_interval(ns, n))
            put(f"n_success_{a}", ns, (ns, ns))
            put(f"n_diverged_{a}", n - ok.sum(), (n - ok.sum(),) * 2)
            s = col(a, "solved_at")
            s = s[np.isfinite(s)]
            put(f"updates_to_solve_{a}", np.median(s) if len(s) else math.nan,
                (s.min(), s.max()) if len(s) else (math.nan, math.nan))
            npar = col(a, "n_params")[0]
            put(f"n_params_{a}", npar, (npar, npar))
            mean_put(f"final_loss_{a}", col(a, "final_loss")[ok])
            for key, src in (("grad_ratio_init", "dh_init"), ("grad_ratio", "dh_final")):
                d = np.array([r[f"{a}.{src}"] for r in results])
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean_put(f"{key}_{a}", d[:, 0] / d[:, -1])
        for q in ("mse", "ce"):
            for a in names:
                for b in names:
                    if a != b and b in _RATIO_TO:
                        with np.errstate(divide="ignore", invalid="ignore"):
                            mean_put(f"{q}_{a}_over_{b}", col(a, f"test_{q}") / col(b, f"test_{q}"))
        return metrics, intervals

    # --- retention.json ---------------------------------------------------------------
    def retention(self, scenario, points):
        """Retention curves (fidelity vs lag per architecture) when the scenario is a delay-recall
        task swept over ``data.lag``; None otherwise (sim.store writes retention.json)."""
        if scenario.config["data"]["task"] != "delay_recall" or "data.lag" not in scenario.sweep:
            return None
        return retention_curves(scenario, points)

    # --- figures ----------------------------------------------------------------------
    def figures(self, scenario, points, demo) -> list[tuple[str, Any]]:
        from ..plots import learning as lp

        out = []
        name = scenario.meta.get("id") or scenario.name
        defaults = {k: {o: key.default for o, key in opts.items()} for k, opts in self.plots.items()}
        cfgs = dict(scenario.points())
        for spec in scenario.plots:
            kind = spec["kind"]
            spec = {**defaults[kind], **spec}
            if kind == "success_curve":
                out.append((kind, lp.success_curve_figure(points, spec["key"], title=f"{name}: success rate")))
                continue
            if kind == "retention":
                curves = retention_curves(scenario, points, spec["key"], spec["metric"])
                out.append((kind, lp.retention_figure({"x_label": X_LABEL, "y_label": Y_LABEL, "curves": curves},
                                                      title=f"{name}: delayed recall vs lag")))
                continue
            for p in points:
                # a second plot of one kind is told apart by its metric (e.g. learning curves of cell_norm)
                stem = kind + (f"_{spec['metric']}" if spec.get("metric") and sum(
                    q["kind"] == kind for q in scenario.plots) > 1 else "") + (f"_{p['label']}" if p["label"] else "")
                task = make_task(cfgs[p["label"]]["data"])
                where = f" ({p['label']})" if p["label"] else ""
                if kind == "learning_curves":
                    q = spec["metric"] or task.primary
                    fig = lp.learning_curves_figure(_curves(p["trials"], q), metric=q,
                                                    baseline=task.baselines.get(q), log=spec["log"],
                                                    title=f"{name}: test {q} during training{where}")
                elif kind == "box":
                    q = spec["metric"] or task.primary
                    fig = lp.box_figure({a: np.array([r[f"{a}.test_{q}"] for r in p["trials"]])
                                         for a in arch_names(p["trials"][0])}, metric=q, log=spec["log"],
                                        title=f"{name}: test {q} per trial{where}")
                elif kind == "grad_vs_lag":
                    fig = lp.grad_vs_lag_figure({a: (np.array([r[f"{a}.dh_init"] for r in p["trials"]]),
                                                     np.array([r[f"{a}.dh_final"] for r in p["trials"]]))
                                                 for a in arch_names(p["trials"][0])},
                                                title=f"{name}: gradient norm vs lag{where}")
                else:
                    r0, a = p["trials"][0], spec["arch"]
                    if f"{a}.cell" not in r0:
                        continue
                    fig = lp.gates_figure(r0[f"{a}.inputs"], {g: r0[f"{a}.gate_{g}"] for g in "ifgo"
                                                              if f"{a}.gate_{g}" in r0}, r0[f"{a}.cell"],
                                          title=f"{name}: trained {a}, one test sequence (trial 0){where}")
                out.append((stem, fig))
        return out


def arch_names(trial: dict) -> list[str]:
    """Architecture names of a trial result, in scenario order."""
    return list(dict.fromkeys(k.split(".", 1)[0] for k in trial))


def _curves(trials, q) -> dict:
    """arch -> (updates (P,), values (R, P)) of test metric q on the curve set."""
    out = {}
    for a in arch_names(trials[0]):
        out[a] = (np.asarray(trials[0][f"{a}.curve_at"]), np.array([r[f"{a}.curve_{q}"] for r in trials]))
    return out


_SEQ_TASKS = ("adding", "adding_1997", "copy", "noise_free_lags", "embedded_reber", "continual_reber",
              "temporal_order", "latch", "delay_recall", "series_prediction", "counting")


def retention_curves(scenario, points, key: str = "data.lag", metric: str = "fidelity") -> list[dict]:
    """Retention curves (sim.retention format) of a scenario sweeping ``key`` (the lag).

    One curve per architecture: x = the lag, y = mean ``metric`` over trials (fidelity:
    0 = chance, 1 = perfect), lo/hi its 95 % Student-t interval clipped to contain y (NaN
    with one trial), raw = mean test accuracy.
    """
    from ..retention import retention_curve

    names = arch_names(points[0]["trials"][0]) if points else []
    pts = sorted((p for p in points if key in p["values"]), key=lambda p: p["values"][key])
    curves = []
    for a in names:
        x = [float(p["values"][key]) for p in pts]
        y = [p["metrics"].get(f"{metric}_{a}", math.nan) for p in pts]
        iv = [p["intervals"].get(f"{metric}_{a}", (math.nan, math.nan)) for p in pts]
        raw = [p["metrics"].get(f"accuracy_{a}", math.nan) for p in pts]
        curves.append(retention_curve(a, "sequence", x, y, [v[0] for v in iv], [v[1] for v in iv], raw,
                                      raw_label="recall accuracy", n=len(pts[0]["trials"]),
                                      detail={"n_params": pts[0]["metrics"].get(f"n_params_{a}"),
                                              "n_symbols": scenario.config["data"].get("n_symbols")}))
    return curves
