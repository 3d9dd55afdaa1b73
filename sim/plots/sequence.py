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

__all__ = ["error_by_position_figure", "loss_curve_figure", "perturbation_figure", "letter_errors_figure"]


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
    ax1.plot(x, rms.mean(axis=0), "o-", color="#08519c", lw=1.8, label=f"mean over {R} trials")
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
