"""The 1997 truncated-RTRL LSTM learner (nets.lstm_rtrl): exact BPTT when nothing recurrent feeds the
gates (W = 0), a real truncation when W != 0, a hand-unrolled two-step online update built from the
lab's exact BPTT pieces, the numba kernel against its numpy twin, and its refusals."""
from __future__ import annotations

import numpy as np
import pytest

from nets import LSTM, LSTMState
from nets.lstm_rtrl import check_rtrl_net, rtrl_covers, rtrl_sequence

CELLS = {
    "1997 (L3)": dict(variant="NFG", forget_gate=False, peepholes=False, cell_input="logistic2",
                      cell_output="logistic1", output="sigmoid"),
    "NOG + shortcut (L2)": dict(variant="NOG", forget_gate=False, peepholes=False, cell_input="logistic",
                                cell_output="identity", output="sigmoid", shortcut=True),
    "NIG tanh identity-out": dict(variant="NIG", forget_gate=False, peepholes=False, cell_input="tanh",
                                  cell_output="tanh", output="identity"),
}


def _net(name, seed=0, I=5, H=3, K=4, r=0.6):
    return LSTM.from_config(dict(n_inputs=I, n_hidden=H, n_outputs=K, init_range=r, **CELLS[name]),
                            rng=np.random.default_rng(seed))


def _copy(p):
    return type(p)(*[np.array(a, dtype=np.float64) for a in p])


def _data(seed, T=7, I=5, K=4, onehot=False):
    rng = np.random.default_rng(seed)
    xs = np.eye(I)[rng.integers(I, size=T)] if onehot else rng.normal(size=(T, I))
    return xs, rng.uniform(size=(T, K))


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("fast", [False, True])
def test_with_W_zero_the_summed_truncated_gradient_is_exact_bptt(name, fast):
    net = _net(name, seed=1)
    loss = "bce" if name.startswith("1997") else "mse"
    p = _copy(net.train_params())._replace(W=np.zeros_like(net.params.W))
    xs, ys = _data(2)
    value, g = rtrl_sequence(net, _copy(p), xs, ys, loss=loss, fast=fast)
    ref_value, ref, _ = net.bptt(p, xs, ys, loss=loss, reduction="sum")
    assert value == pytest.approx(ref_value, rel=1e-13)
    for f, a, b in zip(p._fields, g, ref):
        assert np.max(np.abs(a - b)) <= 1e-12 * max(1.0, np.max(np.abs(b))), f
    assert np.max(np.abs(g.U)) > 1e-3 and np.max(np.abs(g.W)) > 1e-3   # not vacuous: h_{t-1} != 0


@pytest.mark.parametrize("name", list(CELLS))
def test_with_W_nonzero_the_truncation_is_real(name):
    net = _net(name, seed=3, r=1.0)
    p = _copy(net.train_params())
    xs, ys = _data(4)
    _, g = rtrl_sequence(net, _copy(p), xs, ys, fast=False)
    _, ref, _ = net.bptt(p, xs, ys, loss="mse", reduction="sum")
    rel = [np.max(np.abs(a - b)) / np.max(np.abs(b)) for a, b in zip(g, ref) if np.max(np.abs(b)) > 0]
    assert max(rel) > 1e-3                          # the dropped h_{t-1} paths matter
    np.testing.assert_allclose(g.V, ref.V, rtol=1e-12, atol=1e-14)   # the output layer is exact anyway
    np.testing.assert_allclose(g.c, ref.c, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(g.W[net.n_hidden:2 * net.n_hidden], 0.0)  # absent forget gate: no gradient


@pytest.mark.parametrize("name", ["1997 (L3)", "NOG + shortcut (L2)"])
def test_two_online_steps_equal_a_hand_unrolled_reference(name):
    """Step 1: the exact one-step gradient at p0 (nothing precedes it). Step 2 at p1 = p0 - s g1: the
    exact one-step gradient from the state (h1, c1) computed at p0, plus step 1 (at p0) backpropagated
    from dL2/dc1 only (the carousel), not from dL2/dh1 (the truncated recurrent paths); W != 0."""
    net = _net(name, seed=5, r=0.8)
    p0 = _copy(net.train_params())
    xs, ys = _data(6, T=2)
    s = 0.7
    mask = {"b": np.r_[np.ones(4 * net.n_hidden - 1), 0.0]}        # one frozen entry stays put
    m = [mask.get(f, 1.0) for f in p0._fields]
    _, g1, _ = net.bptt(p0, xs[:1], ys[:1], loss="mse", reduction="sum")
    p1 = type(p0)(*[a - s * mk * g for a, g, mk in zip(p0, g1, m)])
    st = net.final_state(p0, xs[:1])
    _, g2b, tr = net.bptt(p1, xs[1:], ys[1:], state0=LSTMState(st.h, st.c), loss="mse", reduction="sum")
    _, g2a, _ = net.bptt(p0, xs[:1], None, loss="mse", reduction="sum", dh_final=(None, tr["dc0"]))
    p2 = type(p0)(*[a - s * mk * (x + y) for a, x, y, mk in zip(p1, g2a, g2b, m)])
    assert p2.b[-1] == p0.b[-1]
    for fast in (False, True):
        p = _copy(p0)
        rtrl_sequence(net, p, xs, ys, step=s, masks=mask, fast=fast)
        for f, a, b in zip(p._fields, p, p2):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=f)
    assert np.max(np.abs(np.array(p2.U) - p0.U)) > 1e-3


@pytest.mark.parametrize("name", list(CELLS))
def test_kernel_agrees_with_numpy_twin_online(name):
    net = _net(name, seed=7, I=6, H=3, K=6)
    loss = "bce" if name.startswith("1997") else "mse"
    for onehot in (True, False):
        xs, ys = _data(8, T=12, I=6, K=6, onehot=onehot)
        pa, pb = _copy(net.train_params()), _copy(net.train_params())
        va, ga = rtrl_sequence(net, pa, xs, ys, loss=loss, step=0.4, fast=False)
        vb, gb = rtrl_sequence(net, pb, xs, ys, loss=loss, step=0.4, fast=True)
        assert va == pytest.approx(vb, rel=1e-12)
        for a, b in zip(list(pa) + list(ga), list(pb) + list(gb)):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_refusals():
    assert rtrl_covers(_net("1997 (L3)"))
    vanilla = LSTM.from_config(dict(n_inputs=3, n_hidden=2, n_outputs=2), rng=np.random.default_rng(0))
    assert not rtrl_covers(vanilla)
    with pytest.raises(ValueError, match="forget gate"):
        check_rtrl_net(vanilla)
    net = _net("1997 (L3)")
    xs, ys = _data(0)
    with pytest.raises(ValueError, match="writable"):
        rtrl_sequence(net, net.train_params(), xs, ys)             # the net's own arrays are read-only
    with pytest.raises(ValueError, match="target per step"):
        rtrl_sequence(net, _copy(net.train_params()), xs, ys[-1])
    with pytest.raises(ValueError, match="not covered"):
        rtrl_sequence(net, _copy(net.train_params()), xs, ys, loss="cross_entropy")
    with pytest.raises(ValueError, match="step"):
        rtrl_sequence(net, _copy(net.train_params()), xs, ys, step=-1.0)
