"""Seeds and named streams (sim/rng.py; DESIGN.md section 2, step 1).

Streams are addressed by name and trial index, never by request order; a child stream is
exactly what ``SeedSequence(seed).spawn`` gives; bad seeds are errors.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nets
import sim
from sim import rng as srng

NAMES = ["init", "plan", "noise", "data", "trial-extra"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), order=st.permutations(NAMES))
def test_named_streams_do_not_depend_on_request_order(seed, order):
    ss = sim.seed_sequence(seed)
    a = sim.streams(ss, NAMES)
    b = sim.streams(sim.seed_sequence(seed), order)
    draws_a = {name: a[name].random(4) for name in NAMES}
    for name in reversed(order):  # consume in yet another order
        np.testing.assert_array_equal(b[name].random(4), draws_a[name])
    # one stream alone (as another process would request it) gives the same numbers
    for name in NAMES:
        np.testing.assert_array_equal(sim.generator(sim.seed_sequence(seed), name).random(4),
                                      draws_a[name])
    # and distinct names give distinct streams
    assert len({draws_a[n].tobytes() for n in NAMES}) == len(NAMES)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), k=st.integers(0, 20))
def test_child_index_equals_seedsequence_spawn(seed, k):
    ss = np.random.SeedSequence(seed)
    spawned = np.random.SeedSequence(seed).spawn(k + 1)[k]
    mine = sim.child(ss, k)
    np.testing.assert_array_equal(mine.generate_state(8), spawned.generate_state(8))
    assert tuple(mine.spawn_key) == tuple(spawned.spawn_key) == (k,)
    # nested paths are nested spawns
    grand = np.random.SeedSequence(seed).spawn(k + 1)[k].spawn(3)[2]
    np.testing.assert_array_equal(sim.child(ss, k, 2).generate_state(8), grand.generate_state(8))
    np.testing.assert_array_equal(sim.child(sim.child(ss, k), 2).generate_state(8), grand.generate_state(8))
    # asking for a child does not advance the parent (unlike SeedSequence.spawn)
    np.testing.assert_array_equal(sim.child(ss, k).generate_state(8), mine.generate_state(8))


def test_trials_are_distinct_and_stable():
    ss = sim.seed_sequence(7)
    first = [sim.generator(ss, t).random(3) for t in range(5)]
    again = [sim.generator(sim.seed_sequence(7), t).random(3) for t in reversed(range(5))][::-1]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert len({f.tobytes() for f in first}) == 5


@pytest.mark.parametrize("bad", [-1, 1.5, "42", True, np.float64(3.0), [1, 2]])
def test_bad_seeds_raise(bad):
    with pytest.raises((TypeError, ValueError)):
        sim.seed_sequence(bad)
    net = nets.Hopfield(np.zeros((3, 3)))
    with pytest.raises((TypeError, ValueError)):
        sim.simulate(net, ticks=1, rng=bad)


def test_bad_stream_index_raises():
    with pytest.raises(ValueError):
        sim.child(sim.seed_sequence(1), -1)


def test_seed_sequence_passthrough_and_fresh():
    ss = np.random.SeedSequence(5)
    assert sim.seed_sequence(ss) is ss
    assert sim.seed_sequence(np.int64(5)).entropy == 5
    fresh = {sim.seed_sequence(None).entropy for _ in range(3)}
    assert len(fresh) == 3 and all(0 <= e < 2**63 for e in fresh)
    assert 0 <= srng.fresh_seed() < 2**63


def test_simulate_uses_the_named_streams():
    """The init stream alone determines the start; the noise stream the Glauber draws."""
    net = nets.Hopfield.from_patterns(np.where(np.random.default_rng(0).random((2, 10)) < .5, 1, -1))
    ss = sim.seed_sequence(99)
    tr = sim.simulate(net, ticks=5, schedule="sequential", temperature=1.0, rng=99, stop=False)
    np.testing.assert_array_equal(tr.states["s"][0], net.init_state(rng=sim.generator(ss, "init")).s)
    # the same start given explicitly gives the same run: the noise comes from its own stream
    again = sim.simulate(net, tr.states["s"][0], ticks=5, schedule="sequential", temperature=1.0,
                         rng=99, stop=False)
    np.testing.assert_array_equal(tr.states["s"], again.states["s"])
    # a run driven by a child SeedSequence (trial 3 of a sweep) is reproducible from it
    t3 = sim.simulate(net, ticks=5, schedule="random", temperature=1.0, rng=sim.child(ss, 3), stop=False)
    assert t3.seed == {"entropy": 99, "spawn_key": [3]}
    t3b = sim.simulate(net, ticks=5, schedule="random", temperature=1.0,
                       rng=np.random.SeedSequence(99, spawn_key=(3,)), stop=False)
    np.testing.assert_array_equal(t3.states["s"], t3b.states["s"])
