"""RTRL (Williams-Zipser forward sensitivities) against BPTT and central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

from nets.rnn import RNN, RNNTrainParams
from nets.rtrl import rtrl
from sim.train import gradcheck

_OUT_LOSS = [("identity", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"), ("sigmoid", "mae")]


def _case(act, out, loss, T, B, *, seed, many_to_one=False, H=3, I=2, K=2):
    rng = np.random.default_rng(seed)
    net = RNN(rng.normal(scale=0.6, size=(H, H)), rng.normal(size=(H, I)), rng.normal(size=H), activation=act,
              V=rng.normal(size=(K, H)), c=rng.normal(size=K), output=out, h0=rng.normal(size=H))
    xs = rng.normal(size=(T, B, I))
    ys = rng.random((T, B, K))
    if loss == "cross_entropy":
        ys /= ys.sum(axis=-1, keepdims=True)
    return net, xs, (ys[-1] if many_to_one else ys)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "identity"])
@pytest.mark.parametrize("out,loss", _OUT_LOSS)
@pytest.mark.parametrize("T", [1, 2, 7])
@pytest.mark.parametrize("many_to_one", [False, True])
def test_rtrl_equals_full_bptt(act, out, loss, T, many_to_one):
    net, xs, ys = _case(act, out, loss, T, 3, seed=T * 10 + len(act), many_to_one=many_to_one)
    p = net.train_params()
    for reduction in ("mean", "sum"):
        lb, gb, _ = net.bptt(p, xs, ys, loss=loss, reduction=reduction)
        lr_, gr, trace = rtrl(net, p, xs, ys, loss=loss, reduction=reduction)
        assert lr_ == pytest.approx(lb, rel=1e-12, abs=1e-12)
        for a, b in zip(gb, gr):
            assert a.shape == b.shape
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)
        assert trace["sens_norm"].shape == (T,)


def test_rtrl_differs_from_truncated_bptt():
    """The oracle can tell gradients apart: truncate=1 is not the RTRL (exact) gradient."""
    net, xs, ys = _case("tanh", "identity", "mse", 6, 2, seed=3)
    p = net.train_params()
    _, g1, _ = net.bptt(p, xs, ys, loss="mse", truncate=1)
    _, gr, _ = rtrl(net, p, xs, ys, loss="mse")
    assert np.max(np.abs(g1.W - gr.W)) > 1e-3


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "identity"])
@pytest.mark.parametrize("out,loss", _OUT_LOSS[:3])
@pytest.mark.parametrize("T,B", [(1, 1), (4, 2), (9, 1)])
def test_rtrl_equals_finite_differences(act, out, loss, T, B):
    net, xs, ys = _case(act, out, loss, T, B, seed=100 + T)
    p = net.train_params()
    _, g, _ = rtrl(net, p, xs, ys, loss=loss)
    errs = gradcheck(lambda q: rtrl(net, RNNTrainParams(*q), xs, ys, loss=loss)[0], p, g, eps=1e-6)
    assert max(errs) < 1e-6, errs


def test_rtrl_default_state_and_unbatched_input():
    net, xs, ys = _case("tanh", "identity", "mse", 5, 1, seed=7)
    p = net.train_params()
    l1, g1, _ = rtrl(net, p, xs[:, 0], ys[:, 0], loss="mse")
    l2, g2, _ = rtrl(net, p, xs, ys, loss="mse", state0=net.init_state(rng=np.random.default_rng(0)).h)
    assert l1 == pytest.approx(l2, rel=1e-14)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError):
        rtrl(net, p, xs, ys[:, :, :1], loss="mse")
