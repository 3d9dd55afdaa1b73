"""Bad inputs to simulate and the nets fail loudly instead of being silently reinterpreted."""
from __future__ import annotations

import numpy as np
import pytest

import nets
import sim


def test_rnn_has_no_temperature():
    with pytest.raises(ValueError, match="no temperature"):
        sim.simulate(nets.counter(), inputs=np.ones((5, 1)), schedule="clocked", temperature=0.5, rng=0)


def test_explicit_record_on_a_net_without_energy():
    traj = sim.simulate(nets.counter(), inputs=np.ones((7, 1)), schedule="clocked", rng=0,
                        record=sim.Record(every=3))
    assert traj.t.tolist() == [0.0, 3.0, 6.0, 7.0]
    assert traj.states["h"].ravel().tolist() == [0.0, 3.0, 6.0, 7.0]
    assert "energy" not in traj.probes


def test_default_record_has_energy_when_the_net_has_one():
    net = nets.Hopfield(np.array([[0.0, 1.0], [1.0, 0.0]]))
    traj = sim.simulate(net, np.array([1, -1], dtype=np.int8), ticks=3, schedule="sequential", rng=0)
    assert traj.energy.shape == traj.t.shape


@pytest.mark.parametrize("ticks", [True, -1, 2.5, "3"])
def test_bad_ticks(ticks):
    net = nets.Hopfield(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="ticks"):
        sim.simulate(net, ticks=ticks, rng=0)


def test_rnn_rejects_non_finite_weights():
    with pytest.raises(ValueError, match="finite"):
        nets.RNN([[np.nan]], [[1.0]])
