"""The LSTM's direct input -> output shortcut S (nets/lstm.py): y_t = out(V h_t + S x_t + c).

* the documented equation: the output equals that of the same net without S plus S x_t
  (before the output squash), with x_t the net's input also for stacked / bidirectional nets;
* central finite differences (float64, rel. err < 1e-6) of every parameter, S included, for
  the 1997 cell of Exp. 2a (NOG, no forget gate, act_g logistic, act_h identity, sigmoid
  output, BCE), vanilla, many-to-one, and stacked bidirectional nets;
* S does not change any hidden-state gradient: dL/dh_t and the cell gradients equal those
  of the net without S given the same dz (checked through the zero-S net: same W, U, b
  gradients when S = 0);
* the fused kernel against the numpy twin: tests/test_lstm.py KERNEL_CASES has shortcut cases;
* state_dict: refused without extras, exact round trip with ``shortcut.weight``;
  config key, describe, with_params keep the switch.
"""
from __future__ import annotations

import numpy as np
import pytest

from nets.lstm import LSTM
from nets.activations import sigmoid
from sim.train import gradcheck

I, H, K, T, B = 3, 4, 2, 6, 2
CELL_1997 = {"variant": "NOG", "forget_gate": False, "peepholes": False, "cell_input": "logistic",
             "cell_output": "identity"}


def _net(seed=0, **kw):
    cfg = {"n_inputs": kw.pop("n_inputs", I), "n_hidden": kw.pop("n_hidden", H), "n_outputs": kw.pop("n_outputs", K),
           "init": "uniform", "init_range": 0.8, "forget_bias": 0.3, "shortcut": True, **kw}
    return LSTM.from_config(cfg, rng=np.random.default_rng(seed))


def _without_shortcut(net):
    p = net.params._asdict()
    S = p.pop("S")
    sw = {**net.switches(), "shortcut": False}
    return LSTM(p, **sw), S


@pytest.mark.parametrize("kw", [{}, CELL_1997, {"n_layers": 2, "bidirectional": True}])
def test_output_is_the_net_without_shortcut_plus_S_x(kw):
    net = _net(1, output="sigmoid", **kw)
    xs = np.random.default_rng(2).normal(size=(T, B, I))
    plain, S = _without_shortcut(net)
    assert np.abs(S).max() > 0.1  # drawn like V, not zero
    h, y = net.forward(net.train_params(), xs)
    h0, _ = plain.forward(plain.train_params(), xs)
    np.testing.assert_array_equal(h, h0)
    z = h0 @ net.params.V.T + net.params.c + xs @ S.T
    np.testing.assert_allclose(y, sigmoid(z), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kw,loss,out,many_to_one", [
    (CELL_1997, "bce", "sigmoid", False),
    (CELL_1997, "mse", "identity", True),
    ({}, "mse", "identity", False),
    ({}, "cross_entropy", "softmax", True),
    ({"n_layers": 2, "bidirectional": True, "peepholes": False}, "bce", "sigmoid", False),
])
def test_finite_differences_with_shortcut(kw, loss, out, many_to_one):
    rng = np.random.default_rng(3)
    net = _net(4, output=out, **kw)
    xs = rng.normal(size=(T, B, I))
    shape = (B, K) if many_to_one else (T, B, K)
    ys = np.eye(K)[rng.integers(0, K, shape[:-1])] if loss == "cross_entropy" else \
        (rng.random(shape) if loss == "bce" else rng.normal(size=shape))
    p = net.train_params()
    assert p._fields[-3:] == ("V", "c", "S")
    _, g, _ = net.bptt(p, xs, ys, loss=loss)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, loss=loss)[0], p, g)
    assert max(errs) < 1e-6, dict(zip(p._fields, errs))
    assert np.abs(g.S).max() > 1e-3
    for fast in (False, True):  # dS = sum_t dz_t x_t^T, written out (dz from the loss of z alone)
        _, gf, _ = net.bptt(p, xs, ys, loss=loss, fast=fast)
        np.testing.assert_allclose(gf.S, g.S, rtol=0, atol=1e-12)


def test_zero_shortcut_changes_no_other_gradient():
    rng = np.random.default_rng(5)
    net = _net(6, **CELL_1997, output="sigmoid")
    net = net.with_params(net.params._replace(S=np.zeros((K, I))))
    plain, _ = _without_shortcut(net)
    xs, ys = rng.normal(size=(T, B, I)), rng.random((T, B, K))
    a = net.bptt(net.train_params(), xs, ys, loss="bce")
    b = plain.bptt(plain.train_params(), xs, ys, loss="bce")
    assert a[0] == b[0]
    for n in b[1]._fields:
        np.testing.assert_array_equal(getattr(a[1], n), getattr(b[1], n), err_msg=n)
    np.testing.assert_array_equal(a[2]["dh_norm"], b[2]["dh_norm"])


def test_config_describe_and_with_params_keep_the_switch():
    net = _net(7)
    assert net.describe()["shortcut"] is True and net.params.S.shape == (K, I)
    assert net.with_params(net.params).shortcut
    plain = LSTM.from_config({"n_inputs": I, "n_hidden": H, "n_outputs": K}, rng=np.random.default_rng(7))
    assert not plain.shortcut and "S" not in plain.params._fields
    # drawing S last keeps every other weight of the same seed
    same = LSTM.from_config({"n_inputs": I, "n_hidden": H, "n_outputs": K, "shortcut": True},
                            rng=np.random.default_rng(7))
    for n in plain.params._fields:
        np.testing.assert_array_equal(getattr(same.params, n), getattr(plain.params, n))
    with pytest.raises(ValueError, match="S must have shape"):
        LSTM({**plain.params._asdict(), "S": np.zeros((K, I + 1))}, peepholes=True, shortcut=True)
    with pytest.raises(ValueError, match="unexpected weights"):
        LSTM({**plain.params._asdict(), "S": np.zeros((K, I))}, peepholes=True)


def test_state_dict_refuses_or_exports_the_shortcut():
    net = _net(8, peepholes=False)
    with pytest.raises(ValueError, match="shortcut"):
        net.state_dict()
    assert "shortcut.weight" not in net.state_dict(output_layer=False)
    sd = net.state_dict(extras=True)
    back = LSTM.from_state_dict(sd, peepholes=False)
    assert back.shortcut
    for n in net.params._fields:
        np.testing.assert_array_equal(getattr(back.params, n), getattr(net.params, n))
