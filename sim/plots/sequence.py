"""Figures of the sequence protocol: error by position in the stream, training curves.

:func:`error_by_position_figure` is Elman's (1990) Fig. 3 for the temporal XOR task: the
root-mean-squared prediction error at each of 12 consecutive inputs of a test stream,
averaged over the stream (Elman averaged over 1200 such windows). Positions whose target is
predictable (the XOR bit, every third) are shaded; a trained net shows a sawtooth with
minima there. One thin line per trial (independent net and stream) and their mean.

:func:`loss_curve_figure`: the training error per pass, one line per trial.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .base import _figure

__all__ = ["error_by_position_figure", "loss_curve_figure"]


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
