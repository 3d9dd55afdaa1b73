"""Worked examples from the course notes (SCENARIOS.md, "Worked examples"): Wa, Wb, Wc, We.

Values are [computed]: exact arithmetic where the notes give exact numbers, the printed
(truncated) digits with the tolerance SCENARIOS.md states, and an independent
closed-form computation next to each. Wd (gradient descent) belongs to the optimizers
and is tested there.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nets
import sim
from nets import activations as act


def test_wa_single_relu_neuron():
    x = np.array([0.8, -0.3, 0.1])
    w = np.array([0.15, 0.7, -0.5])
    b = 0.42
    y = act.dense(x, w[None, :], np.array([b]), "relu")
    assert y.shape == (1,)
    # z = 0.12 - 0.21 - 0.05 + 0.42 = 0.28 > 0, so y = z
    np.testing.assert_allclose(y, [0.28], rtol=0, atol=1e-12)
    np.testing.assert_allclose(act.relu(w @ x + b), 0.28, rtol=0, atol=1e-12)
    # the same neuron with the bias flipped is cut off by the ReLU
    assert act.dense(x, w[None, :], np.array([-b]), "relu")[0] == 0.0


WB_W = np.array([[0.15, -0.7], [0.02, 0.81], [1.1, -0.24]])
WB_B = np.array([0.0, -0.3, 0.14])
WB_X = np.array([0.5, -0.3])


def test_wb_dense_tanh_layer():
    z = act.dense(WB_X, WB_W, WB_B, "identity")
    np.testing.assert_allclose(z, [0.285, -0.533, 0.762], rtol=0, atol=1e-12)
    y = act.dense(WB_X, WB_W, WB_B, "tanh")
    np.testing.assert_allclose(y, [0.277, -0.487, 0.642], rtol=0, atol=1e-3)  # printed (truncated)
    full = [math.tanh(v) for v in (0.285, -0.533, 0.762)]
    np.testing.assert_allclose(y, full, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y, [0.27753, -0.48767, 0.64225], rtol=0, atol=5e-6)


def test_wb_dense_batches_rows():
    X = np.stack([WB_X, -WB_X, np.zeros(2)])  # (B, n_in)
    Y = act.dense(X, WB_W, WB_B, "tanh")
    assert Y.shape == (3, 3)
    for xb, yb in zip(X, Y):
        np.testing.assert_allclose(yb, act.dense(xb, WB_W, WB_B, "tanh"), rtol=0, atol=1e-15)
    np.testing.assert_allclose(Y[2], np.tanh(WB_B), rtol=0, atol=1e-15)


def test_wc_softmax():
    z = np.array([1.0, 0.0, 0.5, -1.0, 1.0])
    p = act.softmax(z)
    np.testing.assert_allclose(p, [0.322, 0.118, 0.195, 0.043, 0.322], rtol=0, atol=1e-3)
    e = [math.exp(v) for v in z]
    np.testing.assert_allclose(p, [v / sum(e) for v in e], rtol=0, atol=1e-15)
    assert abs(p.sum() - 1.0) < 1e-15
    assert p[0] == p[4]


def test_softmax_and_sigmoid_do_not_overflow():
    big = act.softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(big, [0.5, 0.5, 0.0], rtol=0, atol=1e-15)
    # shift invariance: softmax(z + c) = softmax(z)
    z = np.array([1.0, 0.0, 0.5, -1.0, 1.0])
    np.testing.assert_allclose(act.softmax(z + 700.0), act.softmax(z), rtol=0, atol=1e-15)
    # rows of a batch are normalised separately
    Z = np.array([[1.0, 2.0], [3.0, -3.0]])
    np.testing.assert_allclose(act.softmax(Z).sum(axis=1), [1.0, 1.0], rtol=0, atol=1e-15)
    with np.errstate(over="raise"):
        s = act.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(act.sigmoid(np.array([2.0])), [1 / (1 + math.exp(-2))], rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(act.ACTIVATIONS))
def test_activations_are_looked_up_by_name(name):
    z = np.linspace(-3, 3, 13)
    expected = {"identity": z, "relu": np.maximum(z, 0), "tanh": np.tanh(z),
                "sigmoid": 1 / (1 + np.exp(-z))}[name]
    np.testing.assert_allclose(act.activation(name)(z), expected, rtol=0, atol=1e-15)


def test_unknown_activation_raises():
    with pytest.raises(ValueError):
        act.activation("softsign")
    with pytest.raises(ValueError):
        nets.RNN([[1.0]], [[1.0]], activation="softsign")


# --- (We) the counting RNN -------------------------------------------------------------


def _count(net, bits, fast):
    xs = np.asarray(bits, dtype=np.float64).reshape(-1, 1)
    tr = sim.simulate(net, inputs=xs, schedule="clocked", rng=0, fast=fast)
    assert tr.status == "ok" and tr.ticks == len(bits)
    return tr.states["h"][1:, 0]  # record 0 is h_{-1} = 0


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_we_counting_example(fast):
    np.testing.assert_array_equal(_count(nets.counter(), [1, 0, 1, 1, 0, 1], fast), [1, 1, 2, 3, 3, 4])


@settings(max_examples=60, deadline=None)
@given(bits=st.lists(st.integers(0, 1), min_size=1, max_size=300))
def test_we_counter_counts_ones(bits):
    net = nets.counter()
    expected = np.cumsum(bits)
    for fast in (True, False):
        np.testing.assert_array_equal(_count(net, bits, fast), expected)
    # the pure step, driven by hand, agrees
    state = net.init_state(rng=np.random.default_rng(0))
    assert state.h.tolist() == [0.0]
    for x, want in zip(bits, expected):
        state = net.step(state, np.array([float(x)]))
        assert state.h[0] == want
