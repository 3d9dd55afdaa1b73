r"""The RBM likelihood protocol: train RBMs by CD-k and PCD and score them exactly.

Per trial, the data set of the scenario's task (bars-and-stripes: the 2^(n+1) - 2
distinct n x n images, uniform) trains one RBM per *method* of the [train] table (rule
``cd``; ``methods`` is a list of tables, each a ``name`` and overrides of the table's CD
keys: k, persistent, chains, lr, lr_final, updates, batch_size, momentum, ...). All
methods of a trial start from the same initial machine (W ~ N(0, init_scale^2), visible
biases log(p / (1 - p)), hidden biases ``hidden_bias``; Hinton 2010), drawn from the
trial's ``init`` stream; each method trains on its own stream. Common initial weights
make the paired differences between methods less noisy.

The model is scored by its exact mean log-likelihood per training pattern,

    LL = (1/D) sum_d log P(v^d) = (1/D) sum_d -F(v^d) - log Z,

with log Z enumerated over the smaller layer (:mod:`nets.rbm`). For the uniform
distribution over D distinct patterns the optimum is -ln D (-ln 14 = -2.639 for 3 x 3
bars-and-stripes) and the uniform model gives -V ln 2 (-6.238) [definition].

Metrics (means over trials, 95 % Student-t intervals over trials) for each method m:
``ll_<m>`` (final exact LL), ``pl_<m>`` (exact mean log pseudo-likelihood), ``recon_<m>``
(mean squared reconstruction error with hidden probabilities), and for two methods a, b
``ll_<a>_minus_<b>`` (the paired difference); ``ll_optimum`` and ``ll_uniform`` are the
reference values above. Method names are ``cd<k>`` (CD-k, not persistent, k its k) or
``pcd`` / ``pcd<k>`` (persistent; ``pcd1`` is read as ``pcd``), with k in :data:`K_NAMES`.

Figures: ``ll_curve`` (exact LL vs updates per method, every trial and the mean, with
the optimum and the uniform model), ``filters`` (the receptive field W[:, j] of every
hidden unit as an image) and ``samples`` (block-Gibbs samples of the trained model);
the last two show trial 0.

Setup of scenario R1 and its numbers: SCENARIOS.md section 3 [computed]+[measured].
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key, check
from ..stats import means_with_intervals
from . import Protocol

#: the k of method names cd<k> / pcd<k> (metric names are declared for these)
K_NAMES = (1, 2, 3, 5, 10, 15, 20, 25, 50, 100)
METHOD_NAMES = tuple(f"cd{k}" for k in K_NAMES) + ("pcd",) + tuple(f"pcd{k}" for k in K_NAMES if k > 1)
_PER_METHOD = ("ll", "pl", "recon")


def _metric_names() -> tuple[str, ...]:
    out = ["ll_optimum", "ll_uniform"]
    out += [f"{q}_{m}" for m in METHOD_NAMES for q in _PER_METHOD]
    out += [f"ll_{a}_minus_{b}" for a in METHOD_NAMES for b in METHOD_NAMES if a != b]
    return tuple(out)


def _cd_keys():
    from nets.rbm import CD_KEYS

    return CD_KEYS


def methods(train_cfg: dict[str, Any], source: str = "") -> list[dict[str, Any]]:
    """The resolved training methods of a [train] table: a list of full CD settings with a ``name``.

    Raises ScenarioError for unknown keys, bad values or a name that does not match its
    settings (``cd<k>``: CD-k; ``pcd``/``pcd<k>``: persistent).
    """
    keys = _cd_keys()
    base = {k: v for k, v in train_cfg.items() if k not in ("rule", "methods")}
    spec = train_cfg.get("methods")
    if spec is None:
        spec = [{"name": ("pcd" if base["persistent"] else "cd") + str(base["k"])}]
    if not isinstance(spec, list) or not spec or not all(isinstance(m, dict) for m in spec):
        raise ScenarioError(source, "train.methods", "expected a non-empty list of tables {name = ..., ...}")
    out, seen = [], set()
    for i, m in enumerate(spec):
        name = m.get("name")
        where = f"train.methods[{i}]"
        cfg = dict(base)
        for k, v in m.items():
            if k == "name":
                continue
            if k not in keys or k == "methods":
                raise ScenarioError(source, f"{where}.{k}", "unknown key; expected one of: name, "
                                    + ", ".join(sorted(set(keys) - {"methods"})))
            cfg[k] = check(keys[k], v, source=source, name=f"{where}.{k}")
        if name == "pcd1":
            name = "pcd"
        match = re.fullmatch(r"(p?)cd(\d*)", name) if isinstance(name, str) else None
        ok = (match is not None and name in METHOD_NAMES and bool(match.group(1)) == cfg["persistent"]
              and (match.group(2) == "" and cfg["k"] == 1 or match.group(2) == str(cfg["k"])))
        if not ok:
            raise ScenarioError(source, f"{where}.name",
                                f"expected cd<k> (persistent = false) or pcd / pcd<k> (persistent = true) "
                                f"naming the method's own k, with k in {K_NAMES}; got {name!r} "
                                f"(k = {cfg['k']}, persistent = {cfg['persistent']})")
        if name in seen:
            raise ScenarioError(source, f"{where}.name", f"method {name!r} appears twice")
        seen.add(name)
        out.append({"name": name, **cfg})
    return out


def _data(cfg) -> np.ndarray:
    from ..tasks import bars_and_stripes

    return bars_and_stripes(cfg["data"]["size"])


class RBMLikelihood(Protocol):
    name = "rbm_likelihood"
    sections = ("net", "train", "data")
    run_keys = {
        "curve_points": Key("int", default=50, min=1, doc="exact-LL evaluations per training run (the curve)"),
        "n_samples": Key("int", default=16, min=1, doc="block-Gibbs samples kept for the samples figure"),
        "sample_sweeps": Key("int", default=1000, min=1, doc="Gibbs sweeps before each kept sample"),
    }
    metrics = _metric_names()
    plots = {
        "ll_curve": {},
        "filters": {"method": Key("str", default="", doc="method shown (default: the first)")},
        "samples": {"method": Key("str", default="", doc="method shown (default: the first)")},
    }

    def validate(self, scenario) -> None:
        from nets.rbm import MAX_ENUM

        src = str(scenario.path)
        for label, cfg in scenario.points():
            if cfg["net"]["kind"] != "rbm":
                raise ScenarioError(src, "net.kind", f"the rbm_likelihood protocol trains an 'rbm', "
                                                     f"not {cfg['net']['kind']!r}")
            if cfg["data"]["task"] != "bars_and_stripes":
                raise ScenarioError(src, "data.task", "the rbm_likelihood protocol scores bars_and_stripes")
            if cfg["train"]["rule"] != "cd":
                raise ScenarioError(src, "train.rule", "the rbm_likelihood protocol trains by rule 'cd'")
            V, H = cfg["data"]["size"] ** 2, cfg["net"]["n_hidden"]
            if min(V, H) > MAX_ENUM:
                raise ScenarioError(src, "net.n_hidden", f"exact likelihood needs min(visible, hidden) <= "
                                                         f"{MAX_ENUM}; got visible {V}, hidden {H}")
            names = [m["name"] for m in methods(cfg["train"], src)]
            for p in scenario.plots:
                if p.get("method") and p["method"] not in names:
                    raise ScenarioError(src, "plot.method", f"expected one of {', '.join(names)}, got {p['method']!r}")
        for e in scenario.expect:
            base = e.metric.partition("[")[0]
            used = [n for n in METHOD_NAMES if base.endswith("_" + n) or f"_{n}_minus_" in base]
            for label, cfg in scenario.points():
                names = [m["name"] for m in methods(cfg["train"], src)]
                if any(n not in names for n in used) and base not in ("ll_optimum", "ll_uniform"):
                    raise ScenarioError(src, f"expect.{e.metric}", f"the scenario trains only {', '.join(names)}")

    # --- one trial ----------------------------------------------------------------------
    def trial(self, cfg, ss, k):
        from nets.rbm import RBM, log_likelihood, pseudo_likelihood, reconstruction_error, sample, train

        ss_k = child(ss, k)
        X = _data(cfg)
        net = cfg["net"]
        rbm0 = RBM.init_from_data(net["n_hidden"], X, rng=generator(ss_k, "init"), init_scale=net["init_scale"],
                                  visible_bias=net["visible_bias"], hidden_bias=net["hidden_bias"])
        run = cfg["run"]
        out: dict[str, Any] = {}
        for m in methods(cfg["train"]):
            name = m["name"]
            every = max(1, m["updates"] // run["curve_points"])
            res = train(rbm0, X, rng=generator(ss_k, "train", name), every=every, **m)
            p = res.rbm.params
            out[f"ll.{name}"] = log_likelihood(p, X)
            out[f"pl.{name}"] = pseudo_likelihood(p, X)
            out[f"recon.{name}"] = reconstruction_error(p, X)
            out[f"curve_t.{name}"] = res.updates
            out[f"curve_ll.{name}"] = res.history
            out[f"W.{name}"] = np.asarray(p.W)
            S = sample(p, run["n_samples"], run["sample_sweeps"], rng=generator(ss_k, "samples", name),
                       every=run["sample_sweeps"])
            out[f"samples.{name}"] = S[-1]
        return out

    def aggregate(self, cfg, results):
        X = _data(cfg)
        names = [m["name"] for m in methods(cfg["train"])]
        per: dict[str, list[float]] = {}
        for n in names:
            for q in _PER_METHOD:
                per[f"{q}_{n}"] = [r[f"{q}.{n}"] for r in results]
        for a in names:
            for b in names:
                if a != b:
                    per[f"ll_{a}_minus_{b}"] = [r[f"ll.{a}"] - r[f"ll.{b}"] for r in results]
        per["ll_optimum"] = [-math.log(len(X))] * len(results)   # distinct patterns, uniform
        per["ll_uniform"] = [-X.shape[1] * math.log(2.0)] * len(results)
        return means_with_intervals(per)

    # --- figures ------------------------------------------------------------------------
    def figures(self, scenario, points, demo):
        from ..plots import rbm as rplots

        out = []
        label, cfg = scenario.points()[0]
        names = [m["name"] for m in methods(cfg["train"])]
        trials = points[0]["trials"]
        X = _data(cfg)
        side = cfg["data"]["size"]
        title = scenario.meta["id"] or scenario.name
        for spec in scenario.plots:
            kind = spec["kind"]
            if kind == "ll_curve":
                curves = {n: (trials[0][f"curve_t.{n}"], np.stack([t[f"curve_ll.{n}"] for t in trials]))
                          for n in names}
                fig = rplots.ll_curve_figure(curves, optimum=-math.log(len(X)), uniform=-X.shape[1] * math.log(2),
                                             title=f"{title}: exact log-likelihood during training")
            else:
                m = spec.get("method") or names[0]
                if kind == "filters":
                    fig = rplots.filters_figure(trials[0][f"W.{m}"], (side, side),
                                                title=f"{title}: hidden-unit filters W[:, j] ({m}, trial 0)")
                else:
                    fig = rplots.samples_figure(trials[0][f"samples.{m}"], (side, side), data=X,
                                                title=f"{title}: block-Gibbs samples ({m}, trial 0)")
            out.append((kind if kind == "ll_curve" else f"{kind}_{spec.get('method') or names[0]}", fig))
        return out
