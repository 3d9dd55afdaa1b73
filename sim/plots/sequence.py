"""Figures of the sequence protocol: error by position in the stream, training curves.

:func:`error_by_position_figure` is Elman's (1990) Fig. 3 for the temporal XOR task: the
root-mean-squared prediction error at each of 12 consecutive inputs of a test stream,
averaged over the stream (Elman averaged over 1200 such windows). Positions whose target is
predictable (the XOR bit, every third) are shaded; a trained net shows a sawtooth with
minima there. One thin line per trial (independent net and stream) and their mean.

:func:`loss_curve_figure`: the training error per pass, one line per trial.

:func:`letter_errors_figure`: Elman's (1990) letter task (Figs. 5-7 of the paper): the RMS
error predicting each next letter of a test window, labelled by that letter (high before a
consonant, low within a syllable), and the errors on bit 1 (Consonantal) and bit 4 (High).

:func:`dendrogram_figure`, :func:`hidden_pca_figure`: Elman's (1990) lexical classes (his
Fig. 7): the hierarchical clustering of the mean hidden vector of each word, words coloured
noun / verb; and the hidden states in the plane of their first two principal components.

:func:`perturbation_figure`: a Jordan net generating a cyclic sequence freely, with noise
on its state units at one step: the outputs of the clean and the perturbed run against the
target (one row per output unit), and the distance between the two runs per step (log
scale), which shrinks back when the learned cycle is an attractor.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .base import _figure

__all__ = ["error_by_position_figure", "loss_curve_figure", "perturbation_figure", "letter_errors_figure",
           "dendrogram_figure", "hidden_pca_figure"]


def error_by_position_figure(mse: np.ndarray, *, period: int = 3, predictable: Sequence[int] = (2,),
                             title: str | None = None) -> Figure:
    """RMS error against position, one line per trial and the trial mean.

    Parameters
    ----------
    mse : ndarray (R, P)
        Mean squared error at each of P consecutive positions (aligned to the start of a
        group of ``period`` inputs) for R trials.
    period : int
        Length of a group; position j predicts the bit at place (j + 1) mod period.
    predictable : sequence of int
        Places within a group whose bit is predictable (shaded): 2 = the XOR bit.
    title : str, optional

    Returns
    -------
    Figure
        One axes: x = input number 1..P, y = RMS error.
    """
    mse = np.atleast_2d(np.asarray(mse, dtype=float))
    if mse.ndim != 2 or mse.shape[1] < 1:
        raise ValueError(f"mse must have shape (trials, positions), got {mse.shape}")
    R, P = mse.shape
    x = np.arange(1, P + 1)
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for j in range(P):
        if (j + 1) % period in predictable:
            ax.axvspan(x[j] - 0.5, x[j] + 0.5, color="#fee8c8", zorder=0,
                       label="target predictable (XOR bit)" if j == min(k for k in range(P)
                                                                     if (k + 1) % period in predictable) else None)
    for r in range(R):
        ax.plot(x, np.sqrt(mse[r]), color="#9ecae1", lw=0.9, label="one trial" if r == 0 else None)
    ax.plot(x, np.sqrt(mse.mean(axis=0)), "o-", color="#08519c", lw=2, label=f"mean over {R} trials")
    ax.set_xticks(x)
    ax.set_xlim(0.5, P + 0.5)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("input number in a window of consecutive inputs")
    ax.set_ylabel("RMS error predicting the next bit")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(title or "Error by sequence position", fontsize=10)
    return fig


def loss_curve_figure(loss: np.ndarray, *, ylabel: str = "training loss",
                      title: str | None = None) -> Figure:
    """Training loss per pass (epoch), one line per trial.

    Parameters
    ----------
    loss : ndarray (R, E) or (E,)
    ylabel : str
    title : str, optional
    """
    loss = np.atleast_2d(np.asarray(loss, dtype=float))
    fig = _figure(6.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    e = np.arange(1, loss.shape[1] + 1)
    for r, row in enumerate(loss):
        ax.plot(e, row, lw=1, label=f"trial {r}" if loss.shape[0] <= 8 else None)
    ax.set_xlabel("pass through the training sequence")
    ax.set_ylabel(ylabel)
    if loss.shape[0] <= 8:
        ax.legend(fontsize=8)
    ax.set_title(title or "Training loss", fontsize=10)
    return fig


def perturbation_figure(target: np.ndarray, clean: np.ndarray, perturbed: np.ndarray, *, perturb_step: int,
                        period: int, title: str | None = None) -> Figure:
    """Outputs of a free-running net with and without a state perturbation.

    Parameters
    ----------
    target, clean, perturbed : ndarray (T, K)
        Target sequence, outputs of the unperturbed and the perturbed run.
    perturb_step : int
        Step at which the state was perturbed (a vertical line).
    period : int
        Cycle length (light grid lines at cycle starts).
    title : str, optional
    """
    target, clean, perturbed = (np.asarray(a, dtype=float) for a in (target, clean, perturbed))
    if not (target.shape == clean.shape == perturbed.shape) or target.ndim != 2:
        raise ValueError("target, clean and perturbed must have the same shape (T, K)")
    T, K = target.shape
    t = np.arange(T)
    fig = _figure(8.0, 1.2 * K + 2.6)
    axes = fig.subplots(K + 1, 1, sharex=True, gridspec_kw={"height_ratios": [1] * K + [1.6]})
    for k in range(K):
        ax = axes[k]
        ax.step(t, target[:, k], where="mid", color="#bbbbbb", lw=4, label="target" if k == 0 else None)
        ax.plot(t, clean[:, k], "o-", color="#08519c", ms=3, lw=1, label="clean run" if k == 0 else None)
        ax.plot(t, perturbed[:, k], "s--", color="#d94801", ms=3, lw=1, label="perturbed run" if k == 0 else None)
        ax.set_ylim(-0.1, 1.1)
        ax.set_ylabel(f"y{k + 1}", rotation=0, labelpad=12)
    axes[0].legend(loc="upper right", fontsize=7, ncol=3, framealpha=0.9)
    dist = np.sqrt(np.sum((perturbed - clean) ** 2, axis=1))
    ax = axes[-1]
    ax.semilogy(t[perturb_step:], np.maximum(dist[perturb_step:], 1e-16), "o-", color="#d94801", ms=3)
    ax.set_ylabel("||y' - y||")
    ax.set_xlabel("step (free running)")
    for a in axes:
        for c in range(0, T, period):
            a.axvline(c - 0.5, color="#dddddd", lw=0.8, zorder=0)
        a.axvline(perturb_step - 0.5, color="#d94801", lw=1.2, ls=":")
    axes[0].set_title(title or "Perturbed generation", fontsize=10)
    return fig


def letter_errors_figure(rms: np.ndarray, letters: Sequence[str], bit_err: np.ndarray, *,
                         title: str | None = None) -> Figure:
    """Per-letter prediction error over a window of a letter stream.

    Parameters
    ----------
    rms : ndarray (R, W)
        RMS error (over the feature bits) predicting each of W consecutive letters, R trials.
    letters : sequence of str, length W
        The letter predicted at each position (x tick labels).
    bit_err : ndarray (R, W, 2)
        |error| on bit 1 (Consonantal) and bit 4 (High) at each position.
    title : str, optional
    """
    rms = np.atleast_2d(np.asarray(rms, dtype=float))
    bit_err = np.asarray(bit_err, dtype=float)
    R, W = rms.shape
    if len(letters) != W or bit_err.shape != (R, W, 2):
        raise ValueError(f"letters must have length {W} and bit_err shape ({R}, {W}, 2)")
    x = np.arange(W)
    fig = _figure(8.0, 5.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for ax in (ax1, ax2):
        for j, ch in enumerate(letters):
            if ch in "bdg":
                ax.axvspan(j - 0.5, j + 0.5, color="#fee8c8", zorder=0)
    for r in range(R):
        ax1.plot(x, rms[r], color="#9ecae1", lw=0.8)
    ax1.plot(x, rms.mean(axis=0), "o-", color="#08519c", lw=1.8,
             label=f"mean over {R} trials" if R > 1 else "one trained net")
    ax1.set_ylabel("RMS error")
    ax1.legend(loc="upper right", fontsize=8)
    ax2.plot(x, bit_err[:, :, 0].mean(axis=0), "o-", color="#31a354", label="bit 1 (Consonantal)")
    ax2.plot(x, bit_err[:, :, 1].mean(axis=0), "s-", color="#d94801", label="bit 4 (High)")
    ax2.set_ylabel("|error|")
    ax2.legend(loc="upper right", fontsize=8)
    ax2.set_xticks(x)
    ax2.set_xticklabels(list(letters))
    ax2.set_xlabel("letter being predicted (shaded: consonants)")
    ax1.set_title(title or "Error predicting the next letter", fontsize=10)
    return fig


_NOUN, _VERB = "#08519c", "#d94801"


def dendrogram_figure(Z: np.ndarray, labels: Sequence[str], is_noun: np.ndarray, *,
                      title: str | None = None) -> Figure:
    """A dendrogram (scipy linkage matrix ``Z``) with leaf labels coloured noun / verb.

    Parameters
    ----------
    Z : ndarray (n - 1, 4), scipy linkage matrix
    labels : sequence of n str
    is_noun : ndarray (n,) bool
    title : str, optional
    """
    from scipy.cluster.hierarchy import dendrogram

    is_noun = np.asarray(is_noun, dtype=bool)
    if len(labels) != len(is_noun) or np.shape(Z) != (len(labels) - 1, 4):
        raise ValueError("Z must be the linkage of len(labels) items, is_noun one flag per label")
    fig = _figure(6.0, 0.22 * len(labels) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    dendrogram(Z, labels=list(labels), orientation="left", ax=ax, color_threshold=0,
               above_threshold_color="#555555", leaf_font_size=8)
    colour = dict(zip(labels, is_noun))
    for t in ax.get_yticklabels():
        t.set_color(_NOUN if colour[t.get_text()] else _VERB)
    ax.set_xlabel("distance between mean hidden vectors (complete linkage)")
    ax.set_title(title or "Lexical dendrogram", fontsize=10)
    ax.text(0.02, 0.98, "nouns", color=_NOUN, transform=ax.transAxes, ha="left", va="top", fontsize=8)
    ax.text(0.02, 0.94, "verbs", color=_VERB, transform=ax.transAxes, ha="left", va="top", fontsize=8)
    return fig


def hidden_pca_figure(h: np.ndarray, words: np.ndarray, means: np.ndarray, labels: Sequence[str],
                      is_noun: np.ndarray, *, title: str | None = None) -> Figure:
    """Hidden states and per-word means projected on the first two principal components of h.

    Parameters
    ----------
    h : ndarray (n, H), hidden states (one per word read)
    words : ndarray (n,) int, the word read at each state (index into labels)
    means : ndarray (W, H), mean hidden vector per word
    labels : sequence of W str
    is_noun : ndarray (W,) bool
    title : str, optional
    """
    h, means = np.asarray(h, dtype=float), np.asarray(means, dtype=float)
    is_noun = np.asarray(is_noun, dtype=bool)
    centre = h.mean(axis=0)
    _, sv, vt = np.linalg.svd(h - centre, full_matrices=False)
    pcs = vt[:2].T  # (H, 2)
    ph, pm = (h - centre) @ pcs, (means - centre) @ pcs
    var = sv[:2] ** 2 / max(np.sum(sv ** 2), 1e-300)
    fig = _figure(6.5, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    noun_h = is_noun[np.asarray(words)]
    ax.scatter(ph[noun_h, 0], ph[noun_h, 1], s=6, color=_NOUN, alpha=0.25, label="state after a noun")
    ax.scatter(ph[~noun_h, 0], ph[~noun_h, 1], s=6, color=_VERB, alpha=0.25, label="state after a verb")
    for i, w in enumerate(labels):
        ax.annotate(w, pm[i], fontsize=7, color=_NOUN if is_noun[i] else _VERB, ha="center", va="center",
                    fontweight="bold")
    ax.set_xlabel(f"PC 1 ({100 * var[0]:.0f} % of variance)")
    ax.set_ylabel(f"PC 2 ({100 * var[1]:.0f} % of variance)")
    ax.legend(loc="best", fontsize=8, markerscale=2)
    ax.set_title(title or "Hidden states (PCA)", fontsize=10)
    return fig
