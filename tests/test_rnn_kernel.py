"""The fused numba forward + BPTT kernel of the one-layer RNN (nets/_kernels/rnn_bptt.py).

Oracles: its numpy twin (``RNN.bptt(..., fast=False)``: forward_sequence, _backward,
output_loss) to 1e-12 in float64 over the grid hidden activation x loss/output pair x
many-to-one/many x B in {1, 5} (both reductions, with and without ``dh_final``); float32
params computed in float32 and close to float64 (~1e-4); central finite differences of
the fast path's own loss (float64, relative error < 1e-6); the numpy fallback, unchanged,
for the configurations the kernel does not cover (a spy checks which path ran).
"""
from __future__ import annotations

import numpy as np
import pytest

import nets
from nets._kernels import rnn_bptt as rk
from nets._kernels.lstm import LOSS_CODES as LSTM_LOSS_CODES
from sim.train import gradcheck

ACTS = ["identity", "tanh", "relu", "sigmoid"]
PAIRS = [("mse", "identity"), ("bce", "sigmoid"), ("cross_entropy", "softmax"), ("mse", "sigmoid")]


def _case(seed, H, I, K, T, B, *, act="tanh", output="identity", loss="mse", many_to_one=False,
          elman=False):
    rng = np.random.default_rng(seed)
    cls = nets.elman.Elman if elman else nets.rnn.RNN
    net = cls(rng.normal(size=(H, H)) * 0.8 / np.sqrt(H), rng.normal(size=(H, I)) * 0.8,
              rng.normal(size=H) * 0.3, V=rng.normal(size=(K, H)), c=rng.normal(size=K),
              activation=act, output=output, h0=rng.normal(size=H) * 0.5)
    xs = rng.normal(size=(T, B, I))
    ys = rng.random(size=(B, K) if many_to_one else (T, B, K))
    if loss == "cross_entropy":
        ys = ys / ys.sum(axis=-1, keepdims=True)  # probability rows
    elif loss == "mse" and output == "identity":
        ys = rng.normal(size=ys.shape)
    return net, xs, ys


def _assert_close(res0, res1, rtol):
    (L0, g0, tr0), (L1, g1, tr1) = res0, res1
    assert abs(L1 - L0) <= rtol * max(1.0, abs(L0))
    for a, b in zip(g0, g1):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=rtol * max(1.0, np.abs(a).max()))
    for key in ("dh_norm", "h", "dh0"):
        assert tr1[key].shape == tr0[key].shape
        np.testing.assert_allclose(tr1[key], tr0[key], rtol=0, atol=rtol * max(1.0, np.abs(tr0[key]).max()))


@pytest.fixture
def spy(monkeypatch):
    """Counts the kernel's calls (bptt_fast looks it up in the module at call time)."""
    calls = []
    kernel = rk.rnn_bptt

    def counted(*args):
        calls.append(args[0][0].dtype)
        return kernel(*args)
    monkeypatch.setattr(rk, "rnn_bptt", counted)
    return calls


GRID = [(a, pair, m2o, B) for a in ACTS for pair in PAIRS for m2o in (False, True) for B in (1, 5)]


@pytest.mark.parametrize("n,case", list(enumerate(GRID)), ids=lambda v: "-".join(map(str, v)) if isinstance(
    v, tuple) else str(v))
def test_kernel_equals_numpy_float64(n, case, spy):
    act, (loss, output), m2o, B = case
    net, xs, ys = _case(n, 6, 3, 4, 9, B, act=act, output=output, loss=loss, many_to_one=m2o)
    p = net.train_params()
    reduction = ("mean", "sum")[n % 2]
    dh_final = np.random.default_rng(1000 + n).normal(size=(B, 6)) if n % 3 == 0 else None
    kw = dict(loss=loss, reduction=reduction, dh_final=dh_final)
    res0 = net.bptt(p, xs, ys, **kw)
    res1 = net.bptt(p, xs, ys, fast=True, **kw)
    assert spy == [np.float64]
    assert all(g.dtype == np.float64 for g in res1[1])
    _assert_close(res0, res1, 1e-12)


def test_unbatched_sequence_state0_and_elman():
    """One sequence (T, I) with an explicit state0; the Elman SRN (sigmoid/sigmoid, MSE)."""
    net, xs, ys = _case(7, 6, 3, 2, 9, 1, act="sigmoid", output="sigmoid", elman=True)
    assert rk.covers(net, "mse", None, 9)
    p = net.train_params()
    h0 = np.linspace(0.1, 0.9, 6)
    res0 = net.bptt(p, xs[:, 0], ys[:, 0], h0, loss="mse")
    res1 = net.bptt(p, xs[:, 0], ys[:, 0], h0, loss="mse", fast=True)
    assert res1[2]["h"].shape == (9, 6) and res1[2]["dh0"].shape == (6,)
    _assert_close(res0, res1, 1e-12)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("pair", PAIRS)
def test_float32_params_compute_in_float32(act, pair, spy):
    loss, output = pair
    net, xs, ys = _case(50, 8, 3, 4, 12, 5, act=act, output=output, loss=loss, many_to_one=(act == "relu"))
    p64 = net.train_params()
    p32 = type(p64)(*(a.astype(np.float32) for a in p64))
    res0 = net.bptt(p64, xs, ys, loss=loss)
    res1 = net.bptt(p32, xs, ys, loss=loss, fast=True)
    assert spy == [np.float32]
    assert all(g.dtype == np.float32 for g in res1[1])
    assert res1[2]["h"].dtype == np.float32 and res1[2]["dh_norm"].dtype == np.float32
    # float32 rounding shows (not float64 rounded at the end) and stays ~1e-6 relative
    assert any(np.abs(a - b).max() > 0 for a, b in zip(res0[1], res1[1]))
    _assert_close(res0, res1, 1e-4)


@pytest.mark.parametrize("act,pair,m2o", [("sigmoid", ("bce", "sigmoid"), True),
                                          ("tanh", ("cross_entropy", "softmax"), False),
                                          ("relu", ("mse", "sigmoid"), False)])
def test_kernel_gradient_finite_differences(act, pair, m2o, spy):
    loss, output = pair
    net, xs, ys = _case(11, 5, 3, 3, 8, 3, act=act, output=output, loss=loss, many_to_one=m2o)
    p = net.train_params()
    _, g, _ = net.bptt(p, xs, ys, loss=loss, fast=True)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, loss=loss, fast=True)[0], p, g)
    assert max(errs) < 1e-6, errs
    assert len(spy) > 1


def test_kernel_overwrites_outputs_and_scratch():
    """Outputs are written, not accumulated: dirty buffers give the clean call's numbers, and
    the wrapper's reused scratch does not carry one call into the next."""
    net, xs, ys = _case(3, 5, 3, 2, 6, 2, act="sigmoid", output="softmax", loss="cross_entropy")
    p = tuple(np.array(a) for a in net.train_params())  # writable: read-only is another specialisation
    h0, zero = np.full((2, 5), 0.5), np.zeros((2, 5))
    cfg = (0.1, 3, 2)

    def call(fill):
        work = (np.full((7, 2, 5), fill), np.full(6, fill), np.full((2, 5), fill), np.full((12, 5), fill))
        g = tuple(np.full_like(a, fill) for a in p)
        return rk.rnn_bptt(p, xs, ys, (h0, zero), cfg, work, g), g, work[:3]
    L1, g1, w1 = call(np.nan)
    L2, g2, w2 = call(1e9)
    assert L1 == L2 and all(np.all(np.isfinite(a)) for a in w1)
    for a, b in zip(g1 + w1, g2 + w2):
        np.testing.assert_array_equal(a, b)
    first = rk.bptt_fast(net, p, xs, ys, h0, None, "cross_entropy", "mean", np.float64)
    other = _case(4, 5, 3, 2, 6, 2, act="sigmoid", output="softmax", loss="cross_entropy")
    rk.bptt_fast(net, other[0].train_params(), other[1], other[2], h0, None, "cross_entropy", "mean", np.float64)
    again = rk.bptt_fast(net, p, xs, ys, h0, None, "cross_entropy", "mean", np.float64)
    assert first[0] == again[0]
    for a, b in zip(first[1] + first[2:], again[1] + again[2:]):
        np.testing.assert_array_equal(a, b)


def test_loss_codes_are_the_lstm_kernels():
    assert rk.LOSS_CODES == LSTM_LOSS_CODES
    assert rk.ACT_CODES == nets.rnn._ACT_CODE


@pytest.mark.parametrize("kw", [dict(loss="mae"), dict(truncate=3), dict(output="softmax", loss="mse"),
                                dict(n_layers=2), dict(ys=None)])
def test_fast_falls_back_to_numpy_when_unsupported(kw, spy):
    rng = np.random.default_rng(5)
    output = kw.get("output", "identity")
    if kw.get("n_layers"):
        net = nets.rnn.RNN.from_config(dict(n_inputs=2, n_hidden=4, n_outputs=2, n_layers=2, output=output),
                                       rng=rng)
    else:
        net = nets.rnn.RNN(rng.normal(size=(4, 4)) / 2, rng.normal(size=(4, 2)), V=rng.normal(size=(2, 4)),
                           activation="sigmoid", output=output)
    xs, ys = rng.normal(size=(8, 3, 2)), rng.random(size=(8, 3, 2))
    ys = kw.get("ys", ys)
    dh_final = rng.normal(size=(2, 3, 4) if kw.get("n_layers") else (3, 4)) if ys is None else None
    opts = dict(loss=kw.get("loss", "mse"), truncate=kw.get("truncate"), dh_final=dh_final)
    L0, g0, tr0 = net.bptt(net.train_params(), xs, ys, **opts)
    L1, g1, tr1 = net.bptt(net.train_params(), xs, ys, fast=True, **opts)
    assert spy == []
    assert L0 == L1
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(tr0["dh_norm"], tr1["dh_norm"])
    np.testing.assert_array_equal(tr0["dh0"], tr1["dh0"])


def test_truncate_beyond_T_uses_the_kernel_truncate_T_does_not(spy):
    """truncate > T is full BPTT (kernel); truncate = T gives the full weight gradient but a
    truncated dL/dh0 (numpy path, unchanged)."""
    net, xs, ys = _case(9, 4, 2, 2, 5, 2)
    p = net.train_params()
    res0 = net.bptt(p, xs, ys, loss="mse")
    res1 = net.bptt(p, xs, ys, loss="mse", truncate=6, fast=True)
    assert len(spy) == 1
    _assert_close(res0, res1, 1e-12)
    L5, g5, tr5 = net.bptt(p, xs, ys, loss="mse", truncate=5)
    L5f, g5f, tr5f = net.bptt(p, xs, ys, loss="mse", truncate=5, fast=True)
    assert len(spy) == 1 and L5 == L5f
    np.testing.assert_array_equal(tr5["dh0"], tr5f["dh0"])
    assert np.abs(tr5["dh0"] - res0[2]["dh0"]).max() > 1e-6


def test_bad_reduction_is_a_value_error():
    net, xs, ys = _case(2, 3, 2, 2, 4, 1)
    with pytest.raises(ValueError, match="reduction"):
        net.bptt(net.train_params(), xs, ys, loss="mse", reduction="max", fast=True)
