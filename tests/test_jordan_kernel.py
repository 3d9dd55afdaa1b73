"""Jordan net fused numba kernels (nets._kernels.jordan.bptt / run) against their numpy twin
(Jordan.bptt / Jordan.run with fast=False): agreement to 1e-12 in float64 for every covered
hidden activation, output/loss pair, teacher forcing and free running, batch sizes on both
sides of the BLAS switch, many-to-one targets; finite differences through the kernel;
float32 computed in float32; the configurations the kernel does not cover fall back to the
numpy path exactly."""
from __future__ import annotations

import numpy as np
import pytest

from nets.jordan import Jordan, JordanParams
from sim.train import gradcheck

_CFG = {"n_inputs": 3, "n_hidden": 5, "n_outputs": 2, "init": "uniform", "init_range": 1.0, "mu": 0.7,
        "state_init": 0.2}


def _setup(act, out, seed=1, T=6, B=3):
    net = Jordan.from_config({**_CFG, "activation": act, "output": out}, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    return net, rng.normal(size=(T, B, 3)), rng.random((T, B, 2))


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300))


@pytest.mark.parametrize("act", ["identity", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("out,loss", [("sigmoid", "mse"), ("sigmoid", "bce"), ("identity", "mse")])
@pytest.mark.parametrize("tf", [True, False])
def test_kernel_matches_numpy_twin(act, out, loss, tf):
    for B, reduction in ((1, "sum"), (3, "mean"), (9, "mean")):  # B >= 8: the BLAS products
        net, xs, ys = _setup(act, out, B=B)
        p = net.train_params()
        for y in ([ys] if tf else [ys, ys[-1]]):  # free running also many-to-one
            v0, g0, tr0 = net.bptt(p, xs, y, loss=loss, reduction=reduction, teacher_forcing=tf)
            v1, g1, tr1 = net.bptt(p, xs, y, loss=loss, reduction=reduction, teacher_forcing=tf, fast=True)
            assert isinstance(g1, JordanParams)
            assert abs(v1 - v0) <= 1e-12 * abs(v0)
            for a, b in zip(g0, g1):
                assert _rel(a, b) < 1e-12
            assert set(tr1) == set(tr0)
            for key in tr0:
                assert tr1[key].shape == tr0[key].shape and _rel(tr0[key], tr1[key]) < 1e-12


def test_kernel_one_sequence_shapes_and_finite_differences():
    net, xs, ys = _setup("sigmoid", "sigmoid", B=1)
    xs1, ys1 = xs[:, 0], ys[:, 0]  # (T, I), (T, K)
    p = net.train_params()
    for tf, loss in ((True, "bce"), (False, "mse")):
        value, grads, trace = net.bptt(p, xs1, ys1, loss=loss, teacher_forcing=tf, fast=True)
        assert trace["h"].shape == (6, 5) and trace["y"].shape == (6, 2) and trace["dh_norm"].shape == (6,)
        errs = gradcheck(lambda q: net.bptt(q, xs1, ys1, loss=loss, teacher_forcing=tf, fast=True)[0], p, grads,
                         eps=1e-6)
        assert max(errs) < 1e-6, errs


def test_float32_is_computed_in_float32():
    net, xs, ys = _setup("tanh", "sigmoid", B=4)
    p64 = net.train_params()
    p32 = JordanParams(*(a.astype(np.float32) for a in p64))
    for tf in (True, False):
        v64, g64, _ = net.bptt(p64, xs, ys, loss="bce", teacher_forcing=tf, fast=True)
        v32, g32, tr32 = net.bptt(p32, xs, ys, loss="bce", teacher_forcing=tf, fast=True)
        assert all(g.dtype == np.float32 for g in g32) and tr32["h"].dtype == np.float32
        assert abs(v32 - v64) < 1e-5 * abs(v64)
        for a, b in zip(g64, g32):
            assert _rel(a, b.astype(np.float64)) < 1e-4
        assert any(_rel(a, b.astype(np.float64)) > 1e-12 for a, b in zip(g64, g32))  # really float32


def test_uncovered_configurations_fall_back_to_numpy_exactly():
    net, xs, ys = _setup("tanh", "softmax")
    ys = ys / ys.sum(axis=-1, keepdims=True)
    p = net.train_params()
    a = net.bptt(p, xs, ys, loss="cross_entropy", fast=True)
    b = net.bptt(p, xs, ys, loss="cross_entropy")
    assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))
    net, xs, ys = _setup("sigmoid", "sigmoid")
    p = net.train_params()
    for kw in ({"truncate": 2, "teacher_forcing": False}, {"loss": "mae"}):
        kw = {"loss": "mse", **kw}
        a = net.bptt(p, xs, ys, fast=True, **kw)
        b = net.bptt(p, xs, ys, **kw)
        assert a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1], b[1]))
    # truncation under teacher forcing is irrelevant (exact per-step gradient): the kernel covers it
    a = net.bptt(p, xs, ys, loss="mse", truncate=2, teacher_forcing=True, fast=True)
    b = net.bptt(p, xs, ys, loss="mse", truncate=2, teacher_forcing=True)
    assert all(_rel(x, y) < 1e-12 for x, y in zip(a[1], b[1]))


@pytest.mark.parametrize("act,out", [("sigmoid", "sigmoid"), ("relu", "identity")])
def test_fast_forward_and_generate_match_numpy(act, out):
    net, xs, ys = _setup(act, out, B=9)
    p = net.train_params()
    for teacher in (None, ys):
        r0 = net.run(p, xs, teacher=teacher)
        r1 = net.run(p, xs, teacher=teacher, fast=True)
        for a, b in zip(r0, r1):
            assert a.shape == b.shape and _rel(a, b) < 1e-12
    y0, s0 = net.generate(p, xs[:, 0])
    y1, s1 = net.generate(p, xs[:, 0], fast=True)
    assert y1.shape == y0.shape == (6, 2) and _rel(y0, y1) < 1e-12 and _rel(s0, s1) < 1e-12
