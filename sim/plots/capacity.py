"""Figures of Hopfield theory and capacity: RS overlap, Hopfield's noise estimate, capacity
curves, and the overlap against temperature.

The theory curves are passed in as arrays (the protocols compute them with
:mod:`nets.hopfield_theory`), so this module knows no net.

* :func:`rs_overlap_figure` -- the AGS (1987) replica-symmetric T = 0 overlap m(alpha):
  the retrieval branch (solid) and the other root of sqrt(2 alpha) = g(y) (dashed), with
  alpha_c marked; a second panel gives the error fraction (1 - m)/2 in percent.
* :func:`noise_formula_figure` -- Hopfield (1982) Eq. 10 against the number of memories n
  at fixed N: the single-bit error probability P (log scale) and the probability that a
  memory has no error, (1 - P)^N, with the paper's numbers as markers.
* :func:`capacity_figure` -- mean final overlap against the load alpha = P/N for every N
  of a sweep, with 95 % intervals, the RS curve and alpha_c; optionally the fraction of
  runs retrieved (m > 0.9) on a second panel.
* :func:`glauber_figure` -- the time-averaged overlap under Glauber dynamics against T,
  with the mean-field curve and, optionally, an exact finite-N curve.

Every function returns a fresh Agg :class:`~matplotlib.figure.Figure` (no pyplot).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .base import _figure

__all__ = ["rs_overlap_figure", "noise_formula_figure", "capacity_figure", "glauber_figure"]

_PUB = dict(linestyle="none", markersize=12, markeredgecolor="black", markeredgewidth=0.8, zorder=5)
_MARKERS = "os^Dv"


def _check_rows(rows, keys):
    if not rows:
        raise ValueError("no points to draw")
    for r in rows:
        missing = [k for k in keys if k not in r]
        if missing:
            raise ValueError(f"a point lacks {missing} (keys: {', '.join(map(str, r))})")


def _err(v, lo, hi):
    """Error-bar half-lengths (2, K) from intervals; nan intervals draw no bar."""
    v, lo, hi = (np.asarray(x, dtype=np.float64) for x in (v, lo, hi))
    e = np.vstack([v - lo, hi - v])
    return np.clip(np.nan_to_num(e, nan=0.0), 0.0, None)


def _check_rs(rs: Mapping[str, Any]) -> None:
    missing = [k for k in ("alpha", "m", "alpha_c", "m_c") if k not in rs]
    if missing:
        raise ValueError(f"the RS theory curve lacks {missing}")


def rs_overlap_figure(rs: Mapping[str, Any], *, alpha_max: float = 0.16, title: str | None = None) -> Figure:
    """RS retrieval overlap m(alpha) at T = 0 with alpha_c marked.

    Parameters
    ----------
    rs : dict
        ``alpha``, ``m`` (K,): the retrieval branch; ``alpha_other``, ``m_other`` (K',):
        the other root (optional); ``alpha_c``, ``m_c``: floats
        (:func:`nets.hopfield_theory.rs_branches` and :func:`~nets.hopfield_theory.rs_capacity`).
    alpha_max : float
        Right end of the alpha axis (> alpha_c).
    title : str, optional

    Returns
    -------
    Figure
        Two axes: m against alpha, and the error fraction (1 - m)/2 in % on the
        retrieval branch (log scale).
    """
    _check_rs(rs)
    alpha_c, m_c = float(rs["alpha_c"]), float(rs["m_c"])
    if not alpha_max > alpha_c:
        raise ValueError(f"alpha_max must exceed alpha_c = {alpha_c:.4f}")
    a_r, m_r = np.asarray(rs["alpha"]), np.asarray(rs["m"])                   # (K,)
    fig = _figure(10.5, 4.4)
    ax, ax2 = fig.subplots(1, 2)
    ax.plot(a_r, m_r, color="C0", linewidth=2.0, label="retrieval solution (y ≥ y_c)")
    if "alpha_other" in rs:
        ax.plot(rs["alpha_other"], rs["m_other"], color="C0", linewidth=1.2, linestyle="--",
                label="second root (y < y_c)")
    ax.plot([alpha_c, alpha_max], [0, 0], color="C3", linewidth=2.0, label="no retrieval solution (drawn at m = 0)")
    for a in (ax, ax2):
        a.axvline(alpha_c, color="0.35", linestyle=":", linewidth=1.2)
        a.grid(True, alpha=0.3)
        a.set_xlim(0, alpha_max)
        a.set_xlabel(r"load $\alpha = p/N$")
    ax.plot([alpha_c], [m_c], "o", color="C3", markersize=6, zorder=5)
    ax.annotate(rf"$\alpha_c$ = {alpha_c:.4f}, $m_c$ = {m_c:.4f}", (alpha_c, m_c), xytext=(-215, -150),
                textcoords="offset points", fontsize=9, arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("overlap m with the retrieved pattern")
    ax.legend(loc="center left", fontsize=8.5)
    ax.set_title(r"$\sqrt{2\alpha} = \mathrm{erf}(y)/y - (2/\sqrt{\pi})\,e^{-y^2}$, $m = \mathrm{erf}(y)$",
                 fontsize=10, color="0.3")
    err = 100 * (1 - m_r) / 2
    ok = err > 0
    e_c = 100 * (1 - m_c) / 2
    ax2.semilogy(a_r[ok], err[ok], color="C0", linewidth=2.0, label="RS error fraction")
    ax2.plot([alpha_c], [e_c], "o", color="C3", markersize=6)
    ax2.axhline(1.5, color="C2", linestyle="--", linewidth=1.0, label="1.5 % (AGS abstract: 'less than 1.5%')")
    ax2.annotate(rf"{e_c:.2f} % at $\alpha_c$", (alpha_c, e_c), xytext=(-95, 18), textcoords="offset points",
                 fontsize=9, arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax2.set_ylim(1e-4, 5)
    ax2.set_ylabel("error fraction (1 − m)/2  (%)")
    ax2.legend(loc="lower right", fontsize=8.5)
    fig.suptitle("Replica-symmetric retrieval overlap at T = 0 (Amit, Gutfreund & Sompolinsky 1987)"
                 if title is None else title, fontsize=12)
    return fig


def noise_formula_figure(curve: Mapping[str, Any], N: int, *, published: Sequence[Mapping[str, Any]] = (),
                         title: str | None = None) -> Figure:
    """Hopfield (1982) Eq. 10 against the number of stored memories n, at N units.

    Parameters
    ----------
    curve : dict of ndarray (K,)
        ``n``, ``p_bit_error``, ``p_no_error`` and optionally ``p_no_error_poisson``
        (:func:`nets.hopfield_theory.hopfield_noise` over n).
    N : int
        Number of units (for the labels).
    published : sequence of dict
        ``{"n": int, "value": float, "what": "p_bit_error" | "p_no_error", "label": str}``:
        the paper's printed numbers, drawn as markers.
    title : str, optional

    Returns
    -------
    Figure
        Two axes: P(single-bit error) (log scale) and P(no error in N bits) against n.
    """
    for k in ("n", "p_bit_error", "p_no_error"):
        if k not in curve:
            raise ValueError(f"the curve lacks {k!r}")
    n = np.asarray(curve["n"])
    fig = _figure(10.5, 4.4)
    ax, ax2 = fig.subplots(1, 2)
    ax.semilogy(n, curve["p_bit_error"], color="C0", marker="o", markersize=3.5, linewidth=1.6,
                label=r"$P = \frac{1}{2}\,\mathrm{erfc}\,\frac{N/2}{\sigma\sqrt{2}}$, $\sigma = \sqrt{(n-1)N/2}$")
    ax2.plot(n, curve["p_no_error"], color="C0", marker="o", markersize=3.5, linewidth=1.6, label=r"$(1-P)^N$")
    if "p_no_error_poisson" in curve:
        ax2.plot(n, curve["p_no_error_poisson"], color="C1", linestyle="--", linewidth=1.2,
                 label=r"$e^{-NP}$ (paper's approximation)")
    for j, p in enumerate(published):
        if p["what"] not in ("p_bit_error", "p_no_error"):
            raise ValueError(f"published value of unknown quantity {p['what']!r}")
        target = ax if p["what"] == "p_bit_error" else ax2
        target.plot([p["n"]], [p["value"]], color=f"C{3 + j}", marker="*D^P"[j % 4], **_PUB,
                    label=p.get("label", "published"))
    ax.set_ylabel("P(single-bit error)")
    ax2.set_ylabel(f"P(no error in {N} bits)")
    ax2.set_ylim(0, 1.03)
    for a in (ax, ax2):
        a.set_xlabel("number of stored memories n")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.grid(True, alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8.5)
    ax2.legend(loc="upper right", fontsize=8.5)
    fig.suptitle(f"Hopfield (1982) Eq. 10: signal N/2 against Gaussian crosstalk noise, N = {N}"
                 if title is None else title, fontsize=12)
    return fig


def capacity_figure(rows: Sequence[Mapping[str, float]], *, rs: Mapping[str, Any] | None = None,
                    retrieved: bool = True, title: str | None = None) -> Figure:
    """Mean final overlap against the load alpha, one series per N, with RS theory.

    Parameters
    ----------
    rows : sequence of dict, one per sweep point
        ``{"N", "alpha", "m", "m_lo", "m_hi"}`` and, for the second panel,
        ``{"retrieved", "r_lo", "r_hi"}`` (95 % intervals, clipped to the possible range;
        nan draws no bar). Series of different N are drawn slightly apart in alpha.
    rs : dict, optional
        The RS retrieval branch (``alpha``, ``m`` arrays) and ``alpha_c``, ``m_c``
        (AGS 1987), drawn as a curve with alpha_c marked.
    retrieved : bool
        Add a panel with the fraction of runs ending with m > 0.9.
    title : str, optional

    Returns
    -------
    Figure
    """
    _check_rows(rows, ("N", "alpha", "m", "m_lo", "m_hi") + (("retrieved", "r_lo", "r_hi") if retrieved else ()))
    Ns = sorted({int(r["N"]) for r in rows})
    x_max = max(float(r["alpha"]) for r in rows)
    if rs is not None:
        _check_rs(rs)
        x_max = max(x_max, float(rs["alpha_c"]))
    x_max *= 1.08
    fig = _figure(11.0 if retrieved else 6.6, 4.6)
    axes = list(fig.subplots(1, 2)) if retrieved else [fig.add_subplot()]
    ax = axes[0]
    if rs is not None:
        a_r, m_r = np.asarray(rs["alpha"]), np.asarray(rs["m"])
        keep = a_r <= x_max
        ax.plot(a_r[keep], m_r[keep], color="black", linewidth=1.6, label="RS theory, N → ∞ (AGS 1987)")
        ax.plot([rs["alpha_c"]], [rs["m_c"]], "o", color="black", markersize=5)
        for a in axes:
            a.axvline(rs["alpha_c"], color="0.35", linestyle=":", linewidth=1.2,
                      label=rf"$\alpha_c$ = {rs['alpha_c']:.3f}")
    dodge = 0.012 * x_max                     # series side by side, so their error bars do not hide
    for k, N in enumerate(Ns):
        sel = sorted((r for r in rows if int(r["N"]) == N), key=lambda r: r["alpha"])
        a = np.array([r["alpha"] for r in sel]) + dodge * (k - (len(Ns) - 1) / 2)
        m = np.array([r["m"] for r in sel])
        style = dict(color=f"C{k}", marker=_MARKERS[k % 5], markersize=5, linewidth=1.4, capsize=3)
        lo, hi = (np.clip([r[key] for r in sel], -1.0, 1.0) for key in ("m_lo", "m_hi"))   # an overlap
        ax.errorbar(a, m, yerr=_err(m, lo, hi), label=f"simulation, N = {N}", **style)
        if retrieved:
            f = np.array([r["retrieved"] for r in sel])
            lo, hi = (np.clip([r[key] for r in sel], 0.0, 1.0) for key in ("r_lo", "r_hi"))   # a fraction
            axes[1].errorbar(a, f, yerr=_err(f, lo, hi),
                             label=f"simulation, N = {N}", **style)
    ax.set_ylabel("mean final overlap m")
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.03)
    if retrieved:
        axes[1].set_ylabel("fraction retrieved (m > 0.9)")
        axes[1].set_ylim(-0.03, 1.05)
    for a in axes:
        a.set_xlim(0, x_max)
        a.set_xlabel(r"load $\alpha = P/N$")
        a.grid(True, alpha=0.3)
        a.legend(loc="lower left", fontsize=8.5)
    fig.suptitle("Retrieval from a stored pattern against the load" if title is None else title, fontsize=12)
    return fig


def glauber_figure(rows: Sequence[Mapping[str, float]], *, mean_field: tuple[np.ndarray, np.ndarray],
                   exact: tuple[np.ndarray, np.ndarray, str] | None = None, title: str | None = None) -> Figure:
    """Time-averaged overlap under Glauber dynamics against temperature.

    Parameters
    ----------
    rows : sequence of dict, one per temperature
        ``{"T", "m", "m_lo", "m_hi"}`` (signed overlap with the start pattern and its
        95 % interval) and optionally ``"abs_m"`` (time average of |m|).
    mean_field : (T (K,), m (K,))
        The mean-field curve m = tanh(m/T).
    exact : (T (K,), m (K,), label), optional
        A further theory curve (e.g. the exact finite-N E|m| of one stored pattern).
    title : str, optional

    Returns
    -------
    Figure
    """
    _check_rows(rows, ("T", "m", "m_lo", "m_hi"))
    rows = sorted(rows, key=lambda r: r["T"])
    T = np.array([r["T"] for r in rows])
    m = np.array([r["m"] for r in rows])
    fig = _figure(6.8, 4.6)
    ax = fig.add_subplot()
    ax.plot(mean_field[0], mean_field[1], color="black", linewidth=1.6, label=r"mean field, $m = \tanh(m/T)$")
    if exact is not None:
        ax.plot(exact[0], exact[1], color="C2", linestyle="--", linewidth=1.2, label=exact[2])
    ax.errorbar(T, m, yerr=_err(m, [r["m_lo"] for r in rows], [r["m_hi"] for r in rows]), color="C0",
                marker="o", markersize=5, linestyle="none", capsize=3, label="simulation: time-averaged m")
    if all("abs_m" in r for r in rows):
        ax.plot(T, [r["abs_m"] for r in rows], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                color="C1", label="simulation: time-averaged |m|")
    ax.axvline(1.0, color="0.35", linestyle=":", linewidth=1.2, label=r"$T_c$ = 1")
    ax.set_xlim(0, max(float(np.max(mean_field[0])), float(T.max()) * 1.05))
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("temperature T")
    ax.set_ylabel("overlap m with the start pattern")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=8.5)
    fig.suptitle("Retrieval overlap under Glauber dynamics" if title is None else title, fontsize=12)
    return fig
