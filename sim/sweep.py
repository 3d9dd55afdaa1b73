"""Run a scenario: every trial of every sweep point, serially or in a process pool.

Seeds: the scenario seed ``s`` gives point ``label`` the stream ``child(s, "point",
label)`` (addressed by the label, so adding a sweep value never changes another point)
and each trial ``k`` the stream ``child(point, k)`` inside the protocol. Results are
gathered in (point, trial) order, so they are identical for any number of workers.
"""
from __future__ import annotations

import itertools
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np

from .protocols import PROTOCOLS
from .rng import child, seed_sequence
from .scenario import Expectation, Scenario

__all__ = ["RunResult", "run_scenario", "ExpectationResult"]


@dataclass(frozen=True)
class ExpectationResult:
    expectation: Expectation
    value: float

    @property
    def passed(self) -> bool:
        return self.expectation.holds(self.value)


@dataclass
class RunResult:
    """Everything a scenario run produced.

    Attributes
    ----------
    points : list of dict
        Per sweep point: ``label``, ``values`` (dotted key -> value), ``metrics``,
        ``intervals`` (metric -> (lo, hi)), ``trials`` (the raw per-trial results).
    metrics : dict
        Flat ``metric[label]`` -> value.
    checks : list of ExpectationResult
    demo : dict or None
    runtime : float
        Seconds.
    """

    points: list[dict[str, Any]]
    metrics: dict[str, float]
    checks: list[ExpectationResult]
    demo: Any = None
    runtime: float = 0.0
    figures: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def _trial_job(job):
    name, cfg, entropy, spawn_key, k = job
    ss = np.random.SeedSequence(entropy=entropy, spawn_key=tuple(spawn_key))
    return PROTOCOLS[name].trial(cfg, ss, k)


def run_scenario(scenario: Scenario, *, workers: int = 1, progress: bool | None = None,
                 figures: bool = True) -> RunResult:
    """Run ``scenario``; ``workers > 1`` runs trials in a process pool (same results)."""
    t0 = time.perf_counter()
    protocol = PROTOCOLS[scenario.meta["protocol"]]
    root = seed_sequence(scenario.config["run"]["seed"])
    points = scenario.points()
    keys = list(scenario.sweep)
    point_ss = [child(root, "point", label) for label, _ in points]
    jobs = [(protocol.name, cfg, ss.entropy, tuple(ss.spawn_key), k)
            for (label, cfg), ss in zip(points, point_ss) for k in range(cfg["run"]["trials"])]
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc=scenario.name, unit="trial", disable=(None if progress is None else not progress),
               leave=False)
    results = []
    try:
        if workers > 1 and len(jobs) > 1:
            ctx = get_context("spawn")
            chunk = max(1, math.ceil(len(jobs) / (8 * workers)))
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                for r in pool.map(_trial_job, jobs, chunksize=chunk):
                    results.append(r)
                    bar.update()
        else:
            for job in jobs:
                results.append(_trial_job(job))
                bar.update()
    finally:
        bar.close()

    it = iter(results)
    out_points, flat = [], {}
    for (label, cfg), values in zip(points, itertools.product(*(scenario.sweep[k] for k in keys))):
        trials = [next(it) for _ in range(cfg["run"]["trials"])]
        metrics, intervals = protocol.aggregate(cfg, trials)
        out_points.append({"label": label, "values": dict(zip(keys, values)), "metrics": metrics,
                           "intervals": intervals, "trials": trials})
        for name, v in metrics.items():
            flat[f"{name}[{label}]" if label else name] = float(v)
    checks = [ExpectationResult(e, flat.get(e.metric, math.nan)) for e in scenario.expect]
    demo = protocol.demo(points[0][1], child(root, "demo"))
    result = RunResult(points=out_points, metrics=flat, checks=checks, demo=demo)
    if figures:
        result.figures = protocol.figures(scenario, out_points, demo)
    result.runtime = time.perf_counter() - t0
    return result


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 2))
