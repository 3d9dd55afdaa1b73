"""Every scenario file runs in --smoke mode and meets its [expect]ations, at its own seed
and at two other seeds (the intervals must not be tuned to one seed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario
from sim.sweep import run_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))


def test_there_are_scenarios():
    assert SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.parametrize("seed", [None, 101, 202])
def test_scenario_smoke_meets_expectations(path, seed):
    sc = load_scenario(path, smoke=True, seed=seed)
    assert sc.expect, f"{path.name} has no [expect] section"
    result = run_scenario(sc, figures=False, progress=False)
    failed = [(c.expectation.metric, c.value, c.expectation.describe()) for c in result.checks if not c.passed]
    assert not failed, f"{path.name} (seed {sc.config['run']['seed']}): {failed}"
