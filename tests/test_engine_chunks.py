"""Chunk invariance: long runs are drawn and run in chunks that never change the result.

``simulate`` draws plans and noise tick by tick and runs chunks of growing size; a long
Glauber run must be reproducible, identical on the fast and reference paths, and
identical whatever the chunk sizes (checked by shrinking them to odd small sizes).
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nets
import sim
from sim import Record

simulate_module = importlib.import_module("sim.simulate")  # `sim.simulate` is the function


@pytest.fixture(scope="module")
def glauber_net():
    rng = np.random.default_rng(1985)
    patterns = np.where(rng.random((2, 16)) < 0.5, 1, -1)
    return nets.Hopfield.from_patterns(patterns)


LONG = dict(ticks=3000, schedule="random", temperature=0.8, stop=False)


@pytest.fixture(scope="module")
def long_fast(glauber_net):
    return sim.simulate(glauber_net, rng=2024, record=Record(every=10), **LONG)


def test_long_run_reproducible(glauber_net, long_fast, same_trajectory):
    again = sim.simulate(glauber_net, rng=2024, record=Record(every=10), **LONG)
    same_trajectory(long_fast, again, exact=True)
    assert long_fast.status == "ok" and long_fast.ticks == 3000
    # Glauber dynamics at T = 0.8 really moved: many distinct recorded states
    assert len(np.unique(long_fast.states["s"], axis=0)) > 20


def test_long_run_fast_equals_reference(glauber_net, long_fast, same_trajectory):
    ref = sim.simulate(glauber_net, rng=2024, record=Record(every=10), fast=False, **LONG)
    same_trajectory(long_fast, ref, exact=True)


@pytest.mark.parametrize("first,biggest", [(1, 1), (3, 7), (1000, 1000), (5000, 5000)])
def test_chunk_sizes_do_not_change_the_run(glauber_net, long_fast, same_trajectory,
                                           monkeypatch, first, biggest):
    monkeypatch.setattr(simulate_module, "_FIRST_CHUNK", first)
    monkeypatch.setattr(simulate_module, "_MAX_CHUNK", biggest)
    other = sim.simulate(glauber_net, rng=2024, record=Record(every=10), **LONG)
    same_trajectory(long_fast, other, exact=True)


@pytest.mark.parametrize("schedule", ["random-site", "sequential"])
def test_chunk_sizes_do_not_change_micro_records(glauber_net, same_trajectory, monkeypatch, schedule):
    """Micro records every 7 updates: the record phase is carried across chunks."""
    kw = dict(ticks=300, schedule=schedule, temperature={"kind": "linear", "T0": 2.0, "T1": 0.1},
              stop=False, record=Record(micro=True, every=7), rng=31)
    base = sim.simulate(glauber_net, **kw)
    assert len(base.t) == 300 * 16 // 7 + 2  # every 7th update, plus t=0 and the end
    monkeypatch.setattr(simulate_module, "_FIRST_CHUNK", 3)
    monkeypatch.setattr(simulate_module, "_MAX_CHUNK", 5)
    for fast in (True, False):
        same_trajectory(base, sim.simulate(glauber_net, fast=fast, **kw), exact=True)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["random", "random-site", "sequential", "sync"]),
       n_units=st.integers(1, 20), n=st.integers(0, 30), data=st.data(),
       seed=st.integers(0, 2**32 - 1))
def test_plan_draw_in_pieces_equals_draw_at_once(kind, n_units, n, data, seed):
    net = nets.Hopfield(np.zeros((n_units, n_units)))
    plan = sim.make_plan(kind, net)
    k = data.draw(st.integers(0, n))
    g1, g2 = np.random.default_rng(seed), np.random.default_rng(seed)
    whole = plan.draw(n, g1)
    pieces = np.concatenate([plan.draw(k, g2), plan.draw(n - k, g2)])
    assert whole.shape == (n, plan.updates_per_tick) and whole.dtype == np.int32
    np.testing.assert_array_equal(whole, pieces)
    # both consumed the same draws: the generators continue identically
    assert g1.bit_generator.state == g2.bit_generator.state
    fresh = np.random.default_rng(seed).bit_generator.state
    if plan.deterministic or n_units == 1 or n == 0:  # nothing to draw
        assert g1.bit_generator.state == fresh
    else:
        assert g1.bit_generator.state != fresh
