"""Figures of the boltzmann_sampling protocol: KL(sampled || exact) against samples and sweeps."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from .base import _figure

__all__ = ["kl_samples_figure", "annealing_kl_figure"]


def kl_samples_figure(trials: list[dict], *, title: str | None = None) -> Figure:
    """Mean KL of n samples against n (log-log), one line per trial, with theory.

    Parameters
    ----------
    trials : list of dict
        Each with ``ns`` (m,), ``kl_n`` (m,) measured block-mean KL, ``ekl_n`` (m,) exact
        expectation for iid samples, ``K`` (visible states) and ``bound`` (at the largest n).
    """
    fig = _figure(6.4, 4.6)
    ax = fig.subplots()
    for i, r in enumerate(trials):
        ns = np.asarray(r["ns"], dtype=float)
        ax.loglog(ns, r["kl_n"], "o-", color=f"C{i % 10}", markersize=4, linewidth=1.2,
                  label="Gibbs chains (trial %d)" % i if i < 4 else None)
        ax.loglog(ns, r["ekl_n"], ":", color=f"C{i % 10}", linewidth=1.2,
                  label="exact E[KL], iid samples" if i == 0 else None)
    r = trials[0]
    ns = np.asarray(r["ns"], dtype=float)
    K = r["K"]
    ax.loglog(ns, (K - 1) / (2 * ns), "k--", linewidth=1.2, label=f"(K-1)/(2n), K = {K}")
    ax.loglog([ns[-1]], [r["bound"]], "kv", markersize=8, label="chi-square bound (largest n)")
    ax.set_xticks(ns, [str(int(n)) for n in ns])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("number of samples n (independent chains)")
    ax.set_ylabel("KL(sampled || exact) [nats]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "KL vs samples", fontsize=10)
    return fig


def annealing_kl_figure(trials: list[dict], *, title: str | None = None) -> Figure:
    """Temperature, KL of all chains and their mean energy against sweeps.

    Parameters
    ----------
    trials : list of dict
        Each with ``temps`` (S,), ``kl_t`` (S + 1,), ``energy_mean`` (S + 1,),
        ``exact_energy`` (the exact <E> at the final temperature), ``ns`` and ``K``.
    """
    fig = _figure(7.0, 6.4)
    axT, axK, axE = fig.subplots(3, 1, sharex=True, height_ratios=[1, 1.6, 1.6])
    r0 = trials[0]
    temps = np.asarray(r0["temps"])
    S = len(temps)
    axT.step(np.arange(S + 1), np.r_[temps, temps[-1]], where="post", color="C3", linewidth=1.8)
    axT.set_ylabel("temperature T")
    axT.set_yscale("log")
    t = np.arange(S + 1)
    for i, r in enumerate(trials):
        axK.semilogy(t, r["kl_t"], color=f"C{i % 10}", linewidth=1.2, label=f"trial {i}" if i < 4 else None)
        axE.plot(t, r["energy_mean"], color=f"C{i % 10}", linewidth=1.2)
        axE.axhline(r["exact_energy"], color=f"C{i % 10}", linestyle=":", linewidth=1.0)
    C = int(r0["ns"][-1])
    axK.axhline((r0["K"] - 1) / (2 * C), color="k", linestyle="--", linewidth=1.0,
                label=f"(K-1)/(2n), n = {C} chains")
    axK.set_ylabel("KL(chains || exact\nat final T)")
    axK.legend(fontsize=8, loc="upper right")
    axE.set_ylabel("mean energy <E>\n(dotted: exact at final T)")
    axE.set_xlabel("sweep")
    for ax in (axT, axK, axE):
        ax.grid(True, alpha=0.3)
    axE.set_xlim(0, S)
    fig.suptitle(title or "Annealing", fontsize=10)
    return fig
