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


# --- R2: the 8x8 digits, scored by the stochastic pseudo-likelihood -------------------------
class RBMPseudoLikelihood(Protocol):
    r"""R2: an RBM trained on the 8x8 digits like scikit-learn's BernoulliRBM, scored by pseudo-likelihood.

    Per trial: a seeded split of scikit-learn's 1797 digit images (grey level / 16, in
    [0, 1]) into training and test sets (``data.test_fraction``); one RBM trained on the
    training images (grey levels as visible "probabilities" in the positive phase, as
    BernoulliRBM does) by the [train] table's CD/PCD settings for ``run.epochs`` passes
    (epochs x floor(D_train / batch) updates); the test images binarised
    ([x > data.binarize]). BernoulliRBM's setup [measured, SCENARIOS.md section 3]: PCD with
    one Gibbs step and as many persistent chains as the batch (10), lr 0.06, batch 10,
    10 passes, W ~ N(0, 0.01^2), zero biases, no momentum or weight cost.

    Metrics (means over trials, 95 % Student-t intervals):

    * ``pll``: BernoulliRBM's ``score_samples`` on the binarised test set, averaged over
      ``run.repeats`` draws: V log sigma(F(v~) - F(v)) with v~ = v with one random bit
      flipped (:func:`nets.rbm.pseudo_likelihood` with ``rng``), an unbiased estimate of
    * ``pll_exact``: the exact mean log pseudo-likelihood sum_i log P(v_i | v_-i);
    * ``recon``: the mean squared reconstruction error of the test set;
    * ``pll_train_exact``: ``pll_exact`` on the binarised training images (over-fitting gap).

    Without scikit-learn the scenario is a user error naming the extra (exit status 2).
    Figures: ``pll_curve`` (exact test pseudo-likelihood vs updates, every trial) and
    ``filters`` (W[:, j] as 8x8 images, trial 0).
    """

    name = "rbm_pseudo_ll"
    sections = ("net", "train", "data")
    run_keys = {
        "epochs": Key("int", default=10, min=1, doc="passes over the training set (BernoulliRBM's n_iter)"),
        "repeats": Key("int", default=20, min=1, doc="draws of the stochastic one-bit pseudo-likelihood"),
        "curve_points": Key("int", default=10, min=1, doc="exact test pseudo-likelihood evaluations per run"),
    }
    metrics = ("pll", "pll_exact", "recon", "pll_train_exact")
    plots = {"pll_curve": {}, "filters": {}}

    def validate(self, scenario) -> None:
        from ..datasets import require_sklearn

        src = str(scenario.path)
        for _, cfg in scenario.points():
            if cfg["net"]["kind"] != "rbm":
                raise ScenarioError(src, "net.kind", f"the rbm_pseudo_ll protocol trains an 'rbm', "
                                                     f"not {cfg['net']['kind']!r}")
            if cfg["data"]["task"] != "digits":
                raise ScenarioError(src, "data.task", "the rbm_pseudo_ll protocol scores the 'digits'")
            if cfg["train"]["rule"] != "cd":
                raise ScenarioError(src, "train.rule", "the rbm_pseudo_ll protocol trains by rule 'cd'")
            if len(methods(cfg["train"], src)) != 1:
                raise ScenarioError(src, "train.methods", "the rbm_pseudo_ll protocol trains one method")
        require_sklearn(f"scenario {src} needs the 8x8 digits, which")

    @staticmethod
    def _data(cfg, ss_k):
        from ..datasets import digits, split

        X, _ = digits()
        tr, te = split(len(X), cfg["data"]["test_fraction"], rng=generator(ss_k, "split"))
        thr = cfg["data"]["binarize"]
        return X[tr], (X[te] > thr).astype(np.float64), (X[tr] > thr).astype(np.float64)

    def trial(self, cfg, ss, k):
        import time

        from nets.rbm import RBM, pseudo_likelihood, reconstruction_error, train

        ss_k = child(ss, k)
        Xtr, Xte, Xtr_bin = self._data(cfg, ss_k)
        net, run = cfg["net"], cfg["run"]
        m = methods(cfg["train"])[0]
        B = len(Xtr) if m["batch_size"] in (0, None) else min(int(m["batch_size"]), len(Xtr))
        updates = run["epochs"] * (len(Xtr) // B)
        rbm0 = RBM.init_from_data(net["n_hidden"], Xtr, rng=generator(ss_k, "init"), init_scale=net["init_scale"],
                                  visible_bias=net["visible_bias"], hidden_bias=net["hidden_bias"])
        t0 = time.perf_counter()
        res = train(rbm0, Xtr, rng=generator(ss_k, "train"), every=max(1, updates // run["curve_points"]),
                    monitor=lambda p: pseudo_likelihood(p, Xte), **{**m, "updates": updates})
        seconds = time.perf_counter() - t0
        p = res.rbm.params
        score = generator(ss_k, "score")
        return {"pll": float(np.mean([pseudo_likelihood(p, Xte, rng=score) for _ in range(run["repeats"])])),
                "pll_exact": float(res.history[-1]), "recon": reconstruction_error(p, Xte),
                "pll_train_exact": pseudo_likelihood(p, Xtr_bin),
                "curve_t": res.updates, "curve_pll": res.history, "W": np.asarray(p.W),
                "seconds_with_curve": seconds}

    def aggregate(self, cfg, results):
        return means_with_intervals({q: [r[q] for r in results] for q in self.metrics})

    def figures(self, scenario, points, demo):
        from ..plots import rbm as rplots

        out = []
        trials = points[0]["trials"]
        title = scenario.meta["id"] or scenario.name
        for spec in scenario.plots:
            if spec["kind"] == "pll_curve":
                fig = rplots.ll_curve_figure({"test set": (trials[0]["curve_t"],
                                                           np.stack([t["curve_pll"] for t in trials]))},
                                             title=f"{title}: exact pseudo-log-likelihood of the test digits")
                for ax in fig.axes:
                    ax.set_ylabel("exact mean log pseudo-likelihood (nats per test image)")
                out.append(("pll_curve", fig))
            else:
                out.append(("filters", rplots.filters_figure(trials[0]["W"], (8, 8),
                                                             title=f"{title}: hidden-unit filters W[:, j] (trial 0)")))
        return out
