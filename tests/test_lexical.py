"""Elman's sentence generator and the lexical-class analysis (E3): the corpus follows the
templates, the cluster purity, the chunking of the stream, the figures."""
from __future__ import annotations

import numpy as np
import pytest

from sim.plots.sequence import dendrogram_figure, hidden_pca_figure
from sim.protocols.lexical import LexicalClasses, branch_of, cut_purity, word_classes
from sim.tasks import LEXICON, TASKS, TEMPLATES, WORDS, elman_sentences


def test_lexicon_sizes():
    assert len(WORDS) == 29 and len(LEXICON) == 12 and len(TEMPLATES) == 15
    is_noun, animate = word_classes()
    assert is_noun.sum() == 18 and (~is_noun).sum() == 11
    assert animate.sum() == 10 and not np.any(animate & ~is_noun)
    assert "elman_sentences" in TASKS


def test_every_sentence_follows_a_template():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(300):
        words, x = elman_sentences(1, rng=rng)
        assert x.shape == (len(words), 31) and np.all(x[:, 29:] == 0) and np.all(x.sum(axis=1) == 1)
        ws = [WORDS[i] for i in words]
        fits = [t for t in TEMPLATES if len(t) == len(ws) and all(w in LEXICON[c] for w, c in zip(ws, t))]
        assert fits, ws
        seen.update(ws)
    assert seen == set(WORDS)
    words, _ = elman_sentences(10000, rng=np.random.default_rng(1))
    # 15 templates: 4 of two words, 11 of three -> 2.733 words per sentence on average
    assert abs(len(words) / 10000 - (4 * 2 + 11 * 3) / 15) < 0.02
    with pytest.raises(ValueError):
        elman_sentences(5, n_bits=20, rng=rng)


def test_cut_purity():
    rng = np.random.default_rng(2)
    labels = np.array([True] * 6 + [False] * 4)
    means = np.where(labels[:, None], 5.0, -5.0) + rng.normal(scale=0.1, size=(10, 3))
    assert cut_purity(means, labels)[0] == 1.0
    # one 'noun' placed among the 'verbs': the cut puts it there, purity 9/10
    means[0] = -5.0
    assert cut_purity(means, labels)[0] == pytest.approx(0.9)


def test_chunks_round_trip():
    xs = np.arange(23 * 2, dtype=float).reshape(23, 2)
    ch = LexicalClasses._chunks(xs, 5)  # 4 chunks of 5, 3 rows dropped
    assert ch.shape == (5, 4, 2)
    np.testing.assert_array_equal(ch.transpose(1, 0, 2).reshape(20, 2), xs[:20])


def test_figures():
    from scipy.cluster.hierarchy import linkage

    rng = np.random.default_rng(3)
    is_noun, _ = word_classes()
    means = rng.normal(size=(29, 5))
    fig = dendrogram_figure(linkage(means, "complete"), list(WORDS), is_noun)
    assert len(fig.axes) == 1
    fig = hidden_pca_figure(rng.normal(size=(50, 5)), rng.integers(0, 29, 50), means, list(WORDS), is_noun)
    assert len(fig.axes) == 1
    with pytest.raises(ValueError):
        dendrogram_figure(linkage(means[:5], "complete"), list(WORDS), is_noun)


def test_branch_of():
    from scipy.cluster.hierarchy import linkage

    x = np.array([[0.0], [0.1], [1.0], [1.1], [5.0]])
    Z = linkage(x, "complete")
    np.testing.assert_array_equal(branch_of(Z, np.array([1, 1, 0, 0, 0], bool)), [0, 1])
    np.testing.assert_array_equal(branch_of(Z, np.array([0, 1, 1, 0, 0], bool)), [0, 1, 2, 3])
    np.testing.assert_array_equal(branch_of(Z, np.array([0, 0, 0, 1, 1], bool)), [0, 1, 2, 3, 4])
