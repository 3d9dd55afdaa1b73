"""Interval estimates for metrics aggregated over independent trials."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.special import ndtri, stdtrit

__all__ = ["mean_interval", "means_with_intervals", "wilson_interval"]


def mean_interval(per_trial: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean over independent trials and its Student-t interval (mean, lo, hi).

    With one trial the interval is undefined and returned as (nan, nan).
    """
    x = np.asarray(per_trial, dtype=np.float64)
    m = float(np.mean(x))
    if len(x) < 2:
        return m, math.nan, math.nan
    half = float(stdtrit(len(x) - 1, 0.5 + level / 2) * np.std(x, ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def means_with_intervals(per_trial: dict[str, Sequence[float]], level: float = 0.95
                         ) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """For each metric, the mean over trials and its interval: (metrics, intervals)."""
    metrics, intervals = {}, {}
    for name, values in per_trial.items():
        m, lo, hi = mean_interval(np.asarray(values, dtype=np.float64), level)
        metrics[name], intervals[name] = m, (lo, hi)
    return metrics, intervals


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n == 0:
        return math.nan, math.nan
    z = float(ndtri(0.5 + level / 2))
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)
