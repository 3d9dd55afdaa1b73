"""Shared test fixtures for the engine tests."""
from __future__ import annotations

import numpy as np
import pytest


def _compare(a, b, *, exact: bool, atol: float = 1e-12) -> None:
    """Assert two Trajectories are the same run (exactly, or to ``atol`` for floats)."""
    assert a.status == b.status
    assert a.ticks == b.ticks
    assert a.period == b.period
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.update, b.update)
    np.testing.assert_array_equal(a.temperature, b.temperature)
    assert a.states.keys() == b.states.keys()
    pairs = [(a.states[k], b.states[k]) for k in a.states]
    pairs += list(zip(a.final, b.final, strict=True))
    assert a.probes.keys() == b.probes.keys()
    pairs += [(a.probes[k], b.probes[k]) for k in a.probes]
    for x, y in pairs:
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=0, atol=atol)


@pytest.fixture
def same_trajectory():
    """``same_trajectory(a, b, exact=...)`` asserts two trajectories agree."""
    return _compare
