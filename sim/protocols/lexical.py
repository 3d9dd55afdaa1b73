r"""Lexical classes from word order: cluster an SRN's hidden states per word (Elman 1990).

Elman (1990), "Finding structure in time", Cognitive Science 14:179-211, section
"Discovering lexical classes from word order" (SCENARIOS.md E3). The paper's text for this
section was not read; the setup follows SCENARIOS.md and a [public re-impl]
(:data:`sim.tasks.LEXICON`, :data:`sim.tasks.TEMPLATES`): a continuous stream of two- and
three-word sentences, one-hot words (31 bits), a simple recurrent net predicting the next
word, trained for ``train.passes`` passes by either

* ``rule = "copy_back"``: Elman's online one-step rule (:func:`nets.elman.copy_back_train`;
  net kind "elman", sigmoid output, squared error), over the one continuous stream; or
* ``rule = "bptt"``: :func:`sim.train.fit` (full BPTT, ``train.optimizer``, mini-batches
  of ``train.batch_size``) on the stream cut into sequences of ``train.chunk`` words, each
  read from the net's initial state, with ``train.loss`` (cross-entropy with a softmax
  output, as the [public re-impl] does: keras SimpleRNN tanh, softmax, Nadam).

Then, per trial (seed streams ``data``, ``init``, ``order``, ``test``):

1. the trained net reads a fresh stream without learning (copy_back: continuing from the
   trained context; bptt: in chunks of ``train.chunk`` words from the initial state, as
   in training) and the hidden vector h_t is recorded at every word;
2. the mean hidden vector of each word over its occurrences (29 x H) is clustered
   hierarchically (Euclidean distance, complete linkage; scipy);
3. metrics: ``noun_verb_purity``, the purity of the 2-cluster cut against the noun / verb
   labels (sum over clusters of the majority count / 29; 1 = the cut separates nouns from
   verbs); ``n_separated`` (count) the trials with purity 1; ``verb_branch_nouns``, the
   number of nouns in the smallest subtree that holds all 11 verbs (0: the verbs form a
   branch of their own, at whatever height) and ``n_verb_branch`` (count) the trials where
   it is 0; ``animacy_purity``, the
   2-cluster cut of the nouns' own tree against animate (human, animal) / inanimate;
   ``test_mse``: mean squared prediction error on the fresh stream, ``mse_ratio`` = test_mse
   / the error of predicting the stream's word frequencies at every step; ``final_sse``: the
   training loss of the last pass (copy_back: sum of 1/2 squared errors; bptt: the
   mean loss).
   Means over trials with 95 % Student-t intervals.

Figures: ``dendrogram`` (trial 0's tree, words coloured noun / verb) and ``hidden_pca``
(trial 0's hidden states and word means in the plane of the first two principal
components of the hidden states).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key
from ..stats import means_with_intervals
from ..tasks import LEXICON, WORDS, elman_sentences
from . import Protocol

_PCA_SAMPLE = 600  # hidden states kept per trial for the PCA figure


def word_classes() -> tuple[np.ndarray, np.ndarray]:
    """Per word of :data:`sim.tasks.WORDS`: is_noun (29,) bool, is_animate (29,) bool."""
    nouns = {w for c, ws in LEXICON.items() if c.startswith("noun") for w in ws}
    animate = set(LEXICON["noun_human"]) | set(LEXICON["noun_animal"])
    return np.array([w in nouns for w in WORDS]), np.array([w in animate for w in WORDS])


def cut_purity(means: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Purity of the 2-cluster cut of the complete-linkage tree of ``means`` (n, H) against
    the boolean ``labels`` (n,), and the linkage matrix."""
    from scipy.cluster.hierarchy import fcluster, linkage

    Z = linkage(means, method="complete", metric="euclidean")
    cut = fcluster(Z, 2, criterion="maxclust")
    majority = sum(max(np.sum(labels[cut == k]), np.sum(~labels[cut == k])) for k in np.unique(cut))
    return float(majority / len(labels)), Z


def branch_of(Z: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Leaves (sorted indices) of the smallest subtree of linkage ``Z`` holding every leaf
    where ``members`` (n,) is True."""
    n = len(members)
    leaves = [{i} for i in range(n)]
    want = set(np.flatnonzero(members).tolist())
    if len(want) == 1:
        return np.array(sorted(want))
    for a, b, _, _ in Z:  # merges in order of height: the first superset is the smallest
        leaves.append(leaves[int(a)] | leaves[int(b)])
        if want <= leaves[-1]:
            return np.array(sorted(leaves[-1]))
    raise ValueError("Z is not a complete linkage of len(members) leaves")


class LexicalClasses(Protocol):
    name = "lexical_classes"
    sections = ("net", "train", "data")
    metrics = ("noun_verb_purity", "n_separated", "verb_branch_nouns", "n_verb_branch", "animacy_purity",
               "test_mse", "mse_ratio", "final_sse")
    plots = {"dendrogram": {}, "hidden_pca": {}}
    section_keys = {"train": {
        "rule": Key("str", choices=("copy_back", "bptt"), doc="Elman's one-step rule, or BPTT with sim.train.fit"),
        "lr": Key("float", default=0.1, min=0.0, doc="learning rate"),
        "passes": Key("int", default=6, min=1, doc="passes (epochs) through the training stream"),
        "optimizer": Key("str", default="adam", choices=("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"),
                         doc="bptt: optimizer of sim.train"),
        "loss": Key("str", default="cross_entropy", choices=("cross_entropy", "mse", "bce"), doc="bptt: loss"),
        "batch_size": Key("int", default=16, min=1, doc="bptt: sequences per update"),
        "chunk": Key("int", default=280, min=2, doc="bptt: words per training sequence"),
    }}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            net, data = cfg["net"], cfg["data"]
            if cfg["train"]["rule"] == "copy_back" and net["kind"] != "elman":
                raise ScenarioError(src, "net.kind", "rule 'copy_back' trains an 'elman' net")
            if not hasattr(get_net(net["kind"]), "bptt"):
                raise ScenarioError(src, "net.kind", "a trainable sequence net (with bptt)")
            if data["task"] != "elman_sentences":
                raise ScenarioError(src, "data.task", "the lexical_classes protocol needs task 'elman_sentences'")
            if net["n_inputs"] != net["n_outputs"] or net["n_inputs"] < len(WORDS):
                raise ScenarioError(src, "net.n_inputs",
                                    f"equal input and output sizes >= {len(WORDS)} (one-hot words)")

    @staticmethod
    def _chunks(xs, n):
        """(n, N, I): the stream cut into N = len(xs) // n sequences (the rest dropped)."""
        N = len(xs) // n
        return np.ascontiguousarray(xs[:N * n].reshape(N, n, -1).transpose(1, 0, 2))

    def _train(self, cfg, ss_k, net, xs):
        """Trained params, the context to continue from (or None), per-pass training loss."""
        tr = cfg["train"]
        if tr["rule"] == "copy_back":
            from nets.elman import copy_back_train

            params, h, sse = copy_back_train(net, net.train_params(), xs, np.roll(xs, -1, axis=0),
                                             lr=tr["lr"], passes=tr["passes"])
            return params, h, sse
        from ..train import fit, get_optimizer

        seq = self._chunks(xs, tr["chunk"] + 1)  # (n + 1, N, I): inputs and next-word targets
        res = fit(net, net.train_params(), seq[:-1], seq[1:], loss=tr["loss"],
                  optimizer=get_optimizer(tr["optimizer"], lr=tr["lr"]), epochs=tr["passes"],
                  rng=generator(ss_k, "order"), batch_size=tr["batch_size"])
        return res.params, None, res.loss

    def trial(self, cfg, ss, k):
        ss_k = child(ss, k)
        n_bits = cfg["net"]["n_inputs"]
        _, xs = elman_sentences(cfg["data"]["n_sentences"], n_bits=n_bits, rng=generator(ss_k, "data"))
        net = get_net(cfg["net"]["kind"]).from_config(cfg["net"], rng=generator(ss_k, "init"))
        params, h0, sse = self._train(cfg, ss_k, net, xs)
        words, xt = elman_sentences(cfg["data"]["n_test_sentences"], n_bits=n_bits, rng=generator(ss_k, "test"))
        if h0 is not None:  # copy-back: one stream, continuing from the trained context
            h, y = net.forward(params, xt, state0=h0)  # (T, H), (T, K)
            test_mse = float(np.mean((y[:-1] - xt[1:]) ** 2))
        else:  # bptt: chunks read from the initial state, as in training
            n = cfg["train"]["chunk"]
            hc, yc = net.forward(params, self._chunks(xt, n))  # (n, N, H), (n, N, K)
            words = words[:hc.shape[1] * n]
            h = hc.transpose(1, 0, 2).reshape(len(words), -1)
            test_mse = float(np.mean((yc[:-1] - self._chunks(xt, n)[1:]) ** 2))
        counts = np.bincount(words, minlength=len(WORDS))
        freq = np.zeros(n_bits)
        freq[:len(WORDS)] = counts / counts.sum()
        unigram_mse = float(np.mean((freq - np.eye(n_bits)[words]) ** 2))  # the best word-blind predictor
        if np.any(counts == 0):
            raise ValueError(f"the analysis stream misses words {[WORDS[i] for i in np.flatnonzero(counts == 0)]}; "
                             "use more data.n_test_sentences")
        means = np.zeros((len(WORDS), h.shape[1]))
        np.add.at(means, words, h)
        means /= counts[:, None]
        is_noun, animate = word_classes()
        purity, Z = cut_purity(means, is_noun)
        verb_branch_nouns = int(np.sum(is_noun[branch_of(Z, ~is_noun)]))
        animacy, _ = cut_purity(means[is_noun], animate[is_noun])
        pick = np.sort(generator(ss_k, "sample").choice(len(words), size=min(_PCA_SAMPLE, len(words)), replace=False))
        return {"noun_verb_purity": purity, "verb_branch_nouns": float(verb_branch_nouns), "animacy_purity": animacy, "test_mse": test_mse,
                "mse_ratio": test_mse / unigram_mse,
                "final_sse": float(sse[-1]), "sse": np.asarray(sse), "means": means, "sample_h": h[pick],
                "sample_words": words[pick]}

    def aggregate(self, cfg, results):
        per = {m: [r[m] for r in results]
               for m in ("noun_verb_purity", "verb_branch_nouns", "animacy_purity", "test_mse", "mse_ratio",
                         "final_sse")}
        metrics, intervals = means_with_intervals(per)
        for name, ok in (("n_separated", lambda r: r["noun_verb_purity"] == 1.0),
                         ("n_verb_branch", lambda r: r["verb_branch_nouns"] == 0)):
            n = float(sum(ok(r) for r in results))
            metrics[name], intervals[name] = n, (n, n)
        return metrics, intervals

    def figures(self, scenario, points, demo) -> list[tuple[str, Any]]:
        from ..plots.sequence import dendrogram_figure, hidden_pca_figure

        out = []
        name = scenario.meta.get("id") or scenario.name
        is_noun, _ = word_classes()
        for spec in scenario.plots:
            for pt in points:
                stem = spec["kind"] + (f"_{pt['label']}" if pt["label"] else "")
                r = pt["trials"][0]
                if spec["kind"] == "dendrogram":
                    _, Z = cut_purity(r["means"], is_noun)
                    fig = dendrogram_figure(Z, list(WORDS), is_noun,
                                            title=f"{name}: mean hidden vector per word, complete linkage (trial 0)")
                else:
                    fig = hidden_pca_figure(r["sample_h"], r["sample_words"], r["means"], list(WORDS), is_noun,
                                            title=f"{name}: hidden states, first two principal components (trial 0)")
                out.append((stem, fig))
        return out
