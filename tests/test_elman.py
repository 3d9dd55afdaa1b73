"""Elman SRN: copy-back training (numba kernel == numpy twin == per-step truncate=1 BPTT),
the temporal XOR stream, and the sequence protocol / figure."""
from __future__ import annotations

import numpy as np
import pytest

import sim
from nets.elman import Elman, copy_back_train, copy_back_train_reference
from nets.rnn import RNN, RNNTrainParams
from sim.tasks import TASKS, temporal_xor

_CFG = {"n_inputs": 1, "n_hidden": 2, "n_outputs": 1, "activation": "sigmoid", "output": "sigmoid",
        "init_range": 0.5, "context_init": 0.5}


def _net(seed, **kw):
    return Elman.from_config({**_CFG, **kw}, rng=np.random.default_rng(seed))


def test_elman_is_a_registered_sigmoid_rnn():
    net = _net(0)
    assert sim.get_net("elman") is Elman and isinstance(net, RNN)
    assert net.activation == "sigmoid" and net.output_activation == "sigmoid"
    np.testing.assert_array_equal(net.init_state(rng=np.random.default_rng(0)).h, [0.5, 0.5])
    for p in net.train_params():
        assert np.all(np.abs(p) <= 0.5)
    assert [p.shape for p in net.train_params()] == [(2, 2), (2, 1), (2,), (1, 2), (1,)]
    assert type(net.with_params(net.train_params())) is Elman
    assert Elman([[0.0]], [[1.0]]).init_state(rng=np.random.default_rng(0)).h.tolist() == [0.5]


@pytest.mark.parametrize("act,out", [("sigmoid", "sigmoid"), ("tanh", "identity"), ("relu", "sigmoid")])
def test_copy_back_kernel_matches_numpy_twin(act, out):
    rng = np.random.default_rng(5)
    net = Elman.from_config({**_CFG, "n_inputs": 3, "n_hidden": 4, "n_outputs": 2, "activation": act,
                             "output": out}, rng=rng)
    xs = rng.normal(size=(60, 3))
    ys = rng.random((60, 2))
    a = copy_back_train(net, net.train_params(), xs, ys, lr=0.2, passes=3)
    b = copy_back_train_reference(net, net.train_params(), xs, ys, lr=0.2, passes=3)
    for p, q in zip(a[0], b[0]):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-12)
    assert not np.allclose(a[0].W, net.params.W)  # it learned something
    np.testing.assert_array_equal(net.train_params().W, net.params.W)  # inputs untouched


def test_copy_back_gradient_is_truncate1_bptt():
    """With the weights held fixed (lr -> 0), the per-step copy-back gradients, with the
    stored context as a constant input, sum to the truncate=1 BPTT gradient of the sequence,
    which differs from the full BPTT gradient."""
    rng = np.random.default_rng(11)
    net = _net(3)
    p = net.train_params()
    xs = temporal_xor(30, rng=rng)
    ys = np.roll(xs, -1, axis=0)
    h_all, _ = net.forward(p, xs)  # (T, H)
    ctx = np.vstack([net.init_state(rng=rng).h, h_all[:-1]])
    acc = [np.zeros_like(q) for q in p]
    for t in range(len(xs)):
        # one copy-back step from the stored context, written out by hand (E = 1/2 (y - t)^2)
        a = net.params.W @ ctx[t] + net.params.U @ xs[t] + net.params.b
        h = 1 / (1 + np.exp(-a))
        y = 1 / (1 + np.exp(-(p.V @ h + p.c)))
        dz = (y - ys[t]) * y * (1 - y)
        da = (p.V.T @ dz) * h * (1 - h)
        for g, d in zip(acc, (np.outer(da, ctx[t]), np.outer(da, xs[t]), da, np.outer(dz, h), dz)):
            g += d
    _, g1, _ = net.bptt(p, xs, ys, loss="mse", reduction="sum", truncate=1)
    for mine, theirs in zip(acc, g1):
        np.testing.assert_allclose(2 * mine, theirs, rtol=1e-12, atol=1e-14)
    _, gfull, _ = net.bptt(p, xs, ys, loss="mse", reduction="sum")
    assert np.max(np.abs(gfull.W - g1.W)) > 1e-4
    # and one kernel step with a small rate moves the weights by -lr * (that step's gradient)
    q, _, _ = copy_back_train(net, p, xs[:1], ys[:1], lr=1e-3)
    _, g0, _ = net.bptt(p, xs[:1], ys[:1], loss="mse", reduction="sum", truncate=1)
    for new, old, g in zip(q, p, g0):
        np.testing.assert_allclose(new, old - 0.5e-3 * g, rtol=0, atol=1e-15)


def test_copy_back_validates_shapes():
    net = _net(0)
    with pytest.raises(ValueError):
        copy_back_train(net, net.train_params(), np.zeros((5, 2)), np.zeros((5, 1)), lr=0.1)
    with pytest.raises(ValueError):
        copy_back_train(net, net.train_params(), np.zeros((5, 1)), np.zeros((4, 1)), lr=0.1)
    soft = RNN(np.zeros((2, 2)), np.zeros((2, 1)), V=np.zeros((2, 2)), output="softmax")
    with pytest.raises(ValueError):
        copy_back_train(soft, soft.train_params(), np.zeros((5, 1)), np.zeros((5, 2)), lr=0.1)


def test_temporal_xor_stream_structure():
    s = temporal_xor(3000, rng=np.random.default_rng(1990))
    assert s.shape == (3000, 1) and s.dtype == np.float64
    g = s[:, 0].astype(int).reshape(-1, 3)
    assert set(np.unique(g).tolist()) == {0, 1}
    np.testing.assert_array_equal(g[:, 2], g[:, 0] ^ g[:, 1])
    # the pairs are fair coin flips: each of the 4 pairs ~ Binomial(1000, 1/4), sd ~ 13.7
    counts = np.bincount(2 * g[:, 0] + g[:, 1], minlength=4)
    assert np.all(np.abs(counts - 250) < 70), counts
    np.testing.assert_array_equal(s, temporal_xor(3000, rng=np.random.default_rng(1990)))
    for bad in (0, 4, 3001):
        with pytest.raises(ValueError):
            temporal_xor(bad, rng=np.random.default_rng(0))
    assert "n_bits" in TASKS["temporal_xor"]


def test_untrained_net_fails_the_xor_check():
    """The E1 metrics can fail: with no learning (lr = 0) the XOR bit is not easier."""
    from pathlib import Path

    from sim.scenario import load_scenario
    from sim.sweep import run_scenario

    path = Path(__file__).resolve().parent.parent / "scenarios" / "elman_1990_temporal_xor.toml"
    sc = load_scenario(path, overrides=["train.lr=0.0", "train.passes=1", "run.trials=3"])
    res = run_scenario(sc, figures=False, progress=False)
    m = res.points[0]["metrics"]
    assert m["n_pass"] == 0
    assert 0.85 < m["xor_mse_ratio"] < 1.15
    assert m["xor_accuracy"] < 0.6
    assert not all(c.passed for c in res.checks)


def test_error_by_position_figure():
    from sim.plots.sequence import error_by_position_figure, loss_curve_figure

    mse = np.tile([0.27, 0.17, 0.27], 4)[None, :] + np.zeros((3, 1))
    fig = error_by_position_figure(mse, title="t")
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and len(ax.get_xticks()) == 12
    mean_line = ax.lines[-1]
    np.testing.assert_allclose(mean_line.get_ydata(), np.sqrt(mse[0]))
    with pytest.raises(ValueError):
        error_by_position_figure(np.zeros((2, 2, 2)))
    fig = loss_curve_figure(np.ones((2, 5)))
    assert fig.axes[0].get_xlabel()
