"""Figures of the sequence-learning protocol (:mod:`sim.protocols.seqlearn`).

* :func:`learning_curves_figure` -- a test metric (on the curve set) against the number of
  updates, one colour per architecture: the mean over trials and its 95 % Student-t band;
  the task's memoryless baseline dashed (log y by default).
* :func:`grad_vs_lag_figure` -- ``||dL/dh_{T-1-k}||`` against the lag k on a log y axis
  (median over trials), at initialisation (dashed) and after training (solid): the
  vanishing gradient of the tanh RNN against the carousel of gated cells.
* :func:`gates_figure` -- the gate activations (i, f, o, and the cell input g) and the cell
  state c_t of a trained LSTM over one test sequence, with the input rows above.
* :func:`success_curve_figure` -- the fraction of successful trials (Wilson 95 % intervals)
  against a swept key (e.g. the sequence length T of Bengio's latch).
* :func:`box_figure` -- per-trial test metric of each architecture as a box plot with the
  trials as dots (Greff et al. 2017, Fig. 3: test error per LSTM variant).
* :func:`retention_figure` -- recall fidelity (0 = chance, 1 = perfect) against memory age
  (the lag, log x) per architecture, from a retention-format dict.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..stats import mean_interval
from .base import _figure

__all__ = ["learning_curves_figure", "grad_vs_lag_figure", "gates_figure", "success_curve_figure",
           "retention_figure", "box_figure"]


def _colour(i: int) -> str:
    return f"C{i % 10}"


#: bounded scores in [0, 1]: plotted on a linear axis even when ``log`` is asked for
_SCORES = ("accuracy", "fidelity", "outer_accuracy", "solved")


def learning_curves_figure(curves: dict, *, metric: str, baseline: float | None = None, log: bool = True,
                           title: str | None = None) -> Figure:
    """Test ``metric`` vs updates per architecture.

    Parameters
    ----------
    curves : dict arch -> (updates (P,), values (R, P)) over R trials (NaN after divergence)
    baseline : float, optional: the memoryless value of the metric (dashed)
    """
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, (a, (at, vals)) in enumerate(curves.items()):
        vals = np.atleast_2d(vals)
        m, lo, hi = [], [], []
        for col in vals.T:
            good = col[np.isfinite(col)]
            mm, l, h = mean_interval(good) if len(good) else (np.nan, np.nan, np.nan)
            m.append(mm)
            lo.append(l)
            hi.append(h)
        ax.plot(at, m, color=_colour(i), label=f"{a} ({len(vals)} trials)")
        ax.fill_between(at, lo, hi, color=_colour(i), alpha=0.2, lw=0)
    if baseline is not None:
        ax.axhline(baseline, color="k", ls="--", lw=1, label="memoryless baseline")
    if log and metric not in _SCORES:
        ax.set_yscale("log")
    ax.set_xlabel("updates")
    ax.set_ylabel(f"test {metric}")
    ax.legend(fontsize=8)
    ax.set_title(title or "learning curves", fontsize=10)
    return fig


def grad_vs_lag_figure(dh: dict, *, title: str | None = None) -> Figure:
    """Median ||dL/dh_{T-1-k}|| vs lag k (log y), at init (dashed) and after training (solid).

    Parameters
    ----------
    dh : dict arch -> (at_init (R, T), trained (R, T)), dh_norm over time per trial
    """
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, (a, pair) in enumerate(dh.items()):
        for rows, ls, when in zip(pair, ("--", "-"), ("init", "trained")):
            rows = np.atleast_2d(rows)
            if not np.any(np.isfinite(rows)):
                continue
            d = np.nanmedian(rows, axis=0)[::-1]  # lag k = T-1-t
            d = np.where(d > 0, d, np.nan)
            ax.plot(np.arange(len(d)), d, ls, color=_colour(i), label=f"{a} ({when})")
    ax.set_yscale("log")
    ax.set_xlabel("lag k (steps before the last)")
    ax.set_ylabel(r"$\|\partial L/\partial h_{T-1-k}\|$")
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(title or "gradient norm vs lag", fontsize=10)
    return fig


def gates_figure(inputs: np.ndarray, gates: dict, cell: np.ndarray, *, title: str | None = None) -> Figure:
    """Inputs (T, I), gate activations {name: (T, H)} and cell state (T, H) of one LSTM sequence."""
    names = [g for g in "ifgo" if g in gates]
    fig = _figure(8.0, 1.6 * (len(names) + 2))
    axes = fig.subplots(len(names) + 2, 1, sharex=True)
    x = np.asarray(inputs)
    axes[0].imshow(x.T, aspect="auto", cmap="Greys", interpolation="nearest")
    axes[0].set_ylabel("input")
    label = {"i": "input gate", "f": "forget gate", "g": "cell input", "o": "output gate"}
    for ax, g in zip(axes[1:], names):
        ax.plot(np.asarray(gates[g]), lw=0.8)
        ax.set_ylabel(label[g], fontsize=8)
    axes[-1].plot(np.asarray(cell), lw=0.8)
    axes[-1].set_ylabel("cell state c", fontsize=8)
    axes[-1].set_xlabel("t")
    axes[0].set_title(title or "LSTM gates", fontsize=10)
    return fig


def success_curve_figure(points: list[dict], key: str, *, title: str | None = None) -> Figure:
    """Success rate (Wilson intervals) vs the swept ``key``, one line per architecture."""
    fig = _figure(6.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    archs = list(dict.fromkeys(k.split(".", 1)[0] for k in points[0]["trials"][0])) if points else []
    for i, a in enumerate(archs):
        xs, ys, lo, hi = [], [], [], []
        for p in points:
            if key in p["values"] and f"success_rate_{a}" in p["metrics"]:
                xs.append(p["values"][key])
                ys.append(p["metrics"][f"success_rate_{a}"])
                lo.append(p["intervals"][f"success_rate_{a}"][0])
                hi.append(p["intervals"][f"success_rate_{a}"][1])
        ys_a = np.array(ys)
        yerr = np.maximum(0.0, [ys_a - np.array(lo), np.array(hi) - ys_a])  # Wilson bounds contain p up to rounding
        ax.errorbar(xs, ys_a, yerr=yerr, marker="o", capsize=3,
                    color=_colour(i), label=a)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(key)
    ax.set_ylabel("success rate")
    ax.legend(fontsize=8)
    ax.set_title(title or "success rate", fontsize=10)
    return fig


def retention_figure(data: dict, *, title: str | None = None) -> Figure:
    """Recall fidelity vs memory age (log x), one curve with its interval per architecture."""
    fig = _figure(6.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for i, c in enumerate(data["curves"]):
        x = np.asarray(c["x"], dtype=float)
        y = np.asarray(c["y"], dtype=float)
        ax.plot(np.maximum(x, 0.5), y, "o-", color=_colour(i), label=c["arch"])
        lo, hi = np.asarray(c["lo"], dtype=float), np.asarray(c["hi"], dtype=float)
        if np.any(np.isfinite(lo)):
            ax.fill_between(np.maximum(x, 0.5), lo, hi, color=_colour(i), alpha=0.2, lw=0)
    ax.axhline(0.0, color="k", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(data.get("x_label", "lag"))
    ax.set_ylabel(data.get("y_label", "fidelity"))
    ax.set_ylim(-0.1, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(title or "retention", fontsize=10)
    return fig



def box_figure(values: dict, *, metric: str, log: bool = False, title: str | None = None) -> Figure:
    """Box plot of a per-trial test ``metric`` per architecture, each trial a dot.

    Parameters
    ----------
    values : dict arch -> (R,) per-trial values (NaN: a diverged trial, counted in the label)
    """
    fig = _figure(max(6.5, 1.2 + 0.9 * len(values)), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    names = list(values)
    data = [np.asarray(values[a], dtype=float) for a in names]
    good = [d[np.isfinite(d)] for d in data]
    pos = [i for i, g in enumerate(good) if len(g)]
    if pos:
        ax.boxplot([good[i] for i in pos], positions=[i + 1 for i in pos], widths=0.5, showfliers=False)
    for i, g in enumerate(good):
        jitter = np.linspace(-0.12, 0.12, len(g)) if len(g) > 1 else np.zeros(len(g))
        ax.plot(i + 1 + jitter, g, "o", color=_colour(i), ms=4, alpha=0.8)
    ax.set_xticks(range(1, len(names) + 1))
    ax.set_xticklabels([f"{a}\n({np.sum(~np.isfinite(d))} div.)" if np.any(~np.isfinite(d)) else a
                        for a, d in zip(names, data)], fontsize=8, rotation=30)
    # as in learning_curves_figure: log for errors; scores in [0, 1] stay linear
    if log and metric not in _SCORES and all(np.all(g > 0) for g in good if len(g)):
        ax.set_yscale("log")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(title or f"test {metric} per architecture", fontsize=10)
    return fig
