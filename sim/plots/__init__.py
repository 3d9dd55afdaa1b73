"""Figures of trajectories and protocol results (matplotlib, Agg, no pyplot state).

Every function returns a fresh :class:`matplotlib.figure.Figure` attached to an Agg
canvas; nothing here touches ``matplotlib.pyplot``, so figures never leak between calls
and no display is needed. :func:`save_figure` writes one to PNG atomically.

What each figure shows:

* :func:`energy_figure` -- the energy E(t) of the recorded states against time in
  sweeps (fractional for micro records, see :mod:`sim.record`). For asynchronous
  dynamics with symmetric couplings it never increases (Hopfield 1982, Eq. 8); the
  subtitle gives the run's status ("converged after 3 sweeps", "2-cycle ...").
* :func:`overlap_figure` -- the overlaps m_mu(t) = (1/N) sum_i xi_i^mu s_i(t) with each
  stored pattern, in spin variables, on [-1, 1]; a dashed line marks m = 1 (perfect
  recall of a pattern).
* :func:`raster_figure` -- the state of every unit (rows) at every record (columns,
  centred on the record times). Binary (+-1 or 0/1) states are drawn black (on) and
  white (off); continuous states (e.g. an RNN's ``h``) with a diverging colour map.
* :func:`snapshots_figure` -- the state folded into a 2-D image (``shape``, e.g.
  (10, 10) for N = 100) at a few times, and optionally the stored pattern that the
  final state is closest to.
* :func:`recall_figure` -- the recall protocol: the fraction of trials recalled
  exactly (with 95 % intervals) and with fewer than 5 errors against the number of
  stored memories n, with published values as distinct markers (e.g. Hopfield 1982:
  exact recall about 0.6 at n = 10, N = 100).

:data:`FIGURES` maps the ``kind`` of a scenario's ``[[plot]]`` table to the function.
"""
from __future__ import annotations

from typing import Callable

from matplotlib.figure import Figure

from .base import save_figure
from .recall import recall_figure
from .network import network_figure
from .trajectory import energy_figure, overlap_figure, raster_figure, snapshots_figure

__all__ = ["energy_figure", "overlap_figure", "raster_figure", "snapshots_figure",
           "recall_figure", "network_figure", "save_figure", "FIGURES"]

FIGURES: dict[str, Callable[..., Figure]] = {
    "energy": energy_figure,
    "overlap": overlap_figure,
    "raster": raster_figure,
    "snapshots": snapshots_figure,
    "recall_curve": recall_figure,
}
