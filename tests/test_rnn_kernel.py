"""The fused numba forward + BPTT kernel of the tanh RNN (nets/_kernels/rnn_bptt.py).

Oracles: its numpy twin (``RNN.bptt(..., fast=False)``: forward_sequence,
backward_sequence, output_loss) to 1e-12 in float64 and ~1e-5 in float32, over random
shapes, both target arrangements and both reductions; central finite differences of the
kernel's own loss (float64, relative error < 1e-6); the numpy fallback for configurations
the kernel does not cover is used unchanged.
"""
from __future__ import annotations

import numpy as np
import pytest

import nets
from nets._kernels.rnn_bptt import bptt_tanh_mse
from sim.train import gradcheck


def _case(seed, H, I, K, T, B, many_to_one=False):
    rng = np.random.default_rng(seed)
    net = nets.rnn.RNN(rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=(H, I)),
                       rng.normal(size=H) * 0.3, V=rng.normal(size=(K, H)), c=rng.normal(size=K),
                       activation="tanh", h0=rng.normal(size=H) * 0.5)
    xs = rng.normal(size=(T, B, I))
    ys = rng.normal(size=(B, K) if many_to_one else (T, B, K))
    return net, xs, ys


def _kernel(params, xs, ys, h0, scale, dtype):
    """Call the kernel directly on arrays of ``dtype``."""
    p = tuple(np.ascontiguousarray(a, dtype=dtype) for a in params)
    y3 = ys if ys.ndim == 3 else ys[None]
    T, B, _ = xs.shape
    hs = np.empty((T + 1, B, p[0].shape[0]), dtype)
    dn = np.empty(T, dtype)
    g = tuple(np.empty_like(a) for a in p)
    value = bptt_tanh_mse(p, xs.astype(dtype), y3.astype(dtype), np.ascontiguousarray(h0, dtype=dtype),
                          scale, hs, dn, g)
    return value, g, dn, hs


SHAPES = [(1, 1, 1, 1, 1), (5, 3, 2, 7, 4), (16, 4, 3, 12, 1), (9, 2, 5, 30, 8), (33, 7, 1, 3, 2)]


@pytest.mark.parametrize("seed,shape", list(enumerate(SHAPES)))
@pytest.mark.parametrize("many_to_one", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_kernel_equals_numpy_float64(seed, shape, many_to_one, reduction):
    net, xs, ys = _case(seed, *shape, many_to_one=many_to_one)
    p = net.train_params()
    L0, g0, tr0 = net.bptt(p, xs, ys, loss="mse", reduction=reduction)
    L1, g1, tr1 = net.bptt(p, xs, ys, loss="mse", reduction=reduction, fast=True)
    scale = max(1.0, abs(L0))
    assert abs(L1 - L0) <= 1e-12 * scale
    for a, b in zip(g0, g1):
        assert a.shape == b.shape and b.dtype == np.float64
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * max(1.0, np.abs(a).max()))
    np.testing.assert_allclose(tr1["dh_norm"], tr0["dh_norm"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr1["h"], tr0["h"], rtol=0, atol=1e-14)


def test_unbatched_sequence_and_state0():
    net, xs, ys = _case(7, 6, 3, 2, 9, 1)
    p = net.train_params()
    h0 = np.linspace(-0.5, 0.5, 6)
    L0, g0, tr0 = net.bptt(p, xs[:, 0], ys[:, 0], h0, loss="mse")
    L1, g1, tr1 = net.bptt(p, xs[:, 0], ys[:, 0], h0, loss="mse", fast=True)
    assert tr1["h"].shape == tr0["h"].shape == (9, 6)
    assert abs(L0 - L1) < 1e-12
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed,shape", list(enumerate(SHAPES[1:])))
@pytest.mark.parametrize("many_to_one", [False, True])
def test_kernel_float32_close_to_float64(seed, shape, many_to_one):
    net, xs, ys = _case(100 + seed, *shape, many_to_one=many_to_one)
    p = net.train_params()
    L0, g0, tr0 = net.bptt(p, xs, ys, loss="mse")
    y3 = ys if ys.ndim == 3 else ys[None]
    h0 = np.broadcast_to(net.init_state(rng=np.random.default_rng(0)).h, (xs.shape[1], shape[0]))
    L1, g1, dn, hs = _kernel(p, xs, ys, h0, 1.0 / y3.size, np.float32)
    assert all(a.dtype == np.float32 for a in g1) and hs.dtype == np.float32
    assert abs(L1 - L0) <= 1e-5 * max(1.0, abs(L0))
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=0, atol=2e-5 * max(1.0, np.abs(a).max()))
    np.testing.assert_allclose(dn, tr0["dh_norm"], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("many_to_one", [False, True])
def test_kernel_gradient_finite_differences(many_to_one):
    net, xs, ys = _case(11, 6, 3, 2, 10, 3, many_to_one=many_to_one)
    p = net.train_params()
    h0 = np.broadcast_to(net.init_state(rng=np.random.default_rng(0)).h, (3, 6))
    n = ys.size
    _, g, _, _ = _kernel(p, xs, ys, h0, 1.0 / n, np.float64)
    errs = gradcheck(lambda q: _kernel(q, xs, ys, h0, 1.0 / n, np.float64)[0], p, g)
    assert max(errs) < 1e-6, errs


def test_kernel_overwrites_outputs():
    """Outputs are written, not accumulated: a second call on dirty buffers is identical."""
    net, xs, ys = _case(3, 5, 3, 2, 6, 2)
    p = tuple(net.train_params())
    hs = np.full((7, 2, 5), np.nan)
    dn = np.full(6, np.nan)
    g = tuple(np.full_like(a, 1e9) for a in p)
    h0 = np.zeros((2, 5))
    L1 = bptt_tanh_mse(p, xs, ys, h0, 0.1, hs, dn, g)
    first = [a.copy() for a in g]
    L2 = bptt_tanh_mse(p, xs, ys, h0, 0.1, hs, dn, g)
    assert L1 == L2 and np.all(np.isfinite(hs)) and np.all(np.isfinite(dn))
    for a, b in zip(first, g):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw", [dict(activation="sigmoid"), dict(output="sigmoid"),
                                dict(loss="mae"), dict(truncate=3)])
def test_fast_falls_back_to_numpy_when_unsupported(kw):
    rng = np.random.default_rng(5)
    net = nets.rnn.RNN(rng.normal(size=(4, 4)) / 2, rng.normal(size=(4, 2)), V=rng.normal(size=(2, 4)),
                       activation=kw.get("activation", "tanh"), output=kw.get("output", "identity"))
    xs, ys = rng.normal(size=(8, 3, 2)), rng.random(size=(8, 3, 2))
    opts = dict(loss=kw.get("loss", "mse"), truncate=kw.get("truncate"))
    L0, g0, tr0 = net.bptt(net.train_params(), xs, ys, **opts)
    L1, g1, tr1 = net.bptt(net.train_params(), xs, ys, fast=True, **opts)
    assert L0 == L1
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(tr0["dh_norm"], tr1["dh_norm"])


def test_truncate_at_least_T_uses_the_kernel_and_equals_full_bptt():
    net, xs, ys = _case(9, 4, 2, 2, 5, 2)
    p = net.train_params()
    L0, g0, _ = net.bptt(p, xs, ys, loss="mse", truncate=5)
    L1, g1, _ = net.bptt(p, xs, ys, loss="mse", truncate=50, fast=True)
    assert abs(L0 - L1) < 1e-12
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
