"""BPTT of the vanilla RNN (nets/rnn.py) against independent oracles.

* the batched forward pass against the net's own reference ``step`` loop;
* full BPTT against central finite differences (float64, relative error < 1e-6) for every
  hidden activation (relu away from its kink), every loss with its output layer, and both
  many-to-many and many-to-one arrangements;
* truncated BPTT(k): truncate >= T equals full BPTT; truncated gradients equal (a) a
  brute-force per-loss-term backward pass written here, stopped after k steps, and (b)
  finite differences of the surrogate objective whose term s runs the net k steps from the
  *frozen* state h_{s-k} (its gradient is exactly the truncated one);
* ``dh_norm`` against the brute-force dL/dh_t.
"""
from __future__ import annotations

import numpy as np
import pytest

import nets
from nets.activations import activation as act_fn
from nets.rnn import forward_sequence
from sim.train import gradcheck, output_loss

ACTS = ("tanh", "sigmoid", "identity", "relu")
LOSS_OUTPUTS = (("mse", "identity"), ("mae", "identity"), ("bce", "sigmoid"),
                ("cross_entropy", "softmax"), ("mse", "softmax"), ("mse", "sigmoid"))
H, I, K, T, B = 4, 3, 2, 6, 3


def _targets(rng, loss, shape):
    if loss == "cross_entropy":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    if loss == "bce":
        return rng.random(shape)
    return rng.normal(size=shape)


def _case(seed, act="tanh", out="identity", loss="mse", many_to_one=False, T=T):
    """A random net and data; for relu/MAE, redrawn until no point is within 1e-3 of a kink."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        net = nets.RNN(rng.normal(scale=0.6, size=(H, H)), rng.normal(size=(H, I)), rng.normal(size=H),
                       activation=act, h0=rng.normal(scale=0.5, size=H), V=rng.normal(size=(K, H)),
                       c=rng.normal(size=K), output=out)
        xs = rng.normal(size=(T, B, I))
        ys = _targets(rng, loss, (B, K) if many_to_one else (T, B, K))
        p = net.train_params()
        hs, a = forward_sequence(p, xs, np.broadcast_to(net._h0, (B, H)), act)
        y = net.output(hs[1:])
        y = y[-1] if many_to_one else y
        if (act != "relu" or np.min(np.abs(a)) > 1e-3) and (loss != "mae" or np.min(np.abs(y - ys)) > 1e-3):
            return net, p, xs, ys
    raise AssertionError("no kink-free case found")  # pragma: no cover


def test_forward_matches_reference_step_loop():
    net, p, xs, _ = _case(1, "tanh", "softmax", "cross_entropy")
    h, y = net.forward(p, xs)
    assert h.shape == (T, B, H) and y.shape == (T, B, K)
    for b in range(B):
        st = net.init_state(rng=np.random.default_rng(0))
        for t in range(T):
            st = net.step(st, xs[t, b])
            np.testing.assert_allclose(h[t, b], st.h, rtol=0, atol=1e-12)
            np.testing.assert_allclose(y[t, b], net.output(st), rtol=0, atol=1e-12)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, atol=1e-12)  # softmax rows
    h1, y1 = net.forward(p, xs[:, 0])  # unbatched
    np.testing.assert_allclose(h1, h[:, 0], rtol=0, atol=1e-12)


def test_default_readout_is_the_hidden_state_and_keeps_the_counter():
    net = nets.counter()
    bits = np.array([1, 0, 1, 1, 0, 1], float)[:, None]
    h, y = net.forward(net.train_params(), bits)
    np.testing.assert_array_equal(y[:, 0], [1, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(h, y)


@pytest.mark.parametrize("many_to_one", [False, True], ids=["many-to-many", "many-to-one"])
@pytest.mark.parametrize("loss,out", LOSS_OUTPUTS, ids=[f"{l}-{o}" for l, o in LOSS_OUTPUTS])
@pytest.mark.parametrize("act", ACTS)
def test_full_bptt_matches_finite_differences(act, loss, out, many_to_one):
    seed = 10 * ACTS.index(act) + LOSS_OUTPUTS.index((loss, out)) + 1000 * many_to_one
    net, p, xs, ys = _case(seed, act, out, loss, many_to_one)
    value, grads, trace = net.bptt(p, xs, ys, loss=loss)
    assert np.isfinite(value) and trace["dh_norm"].shape == (T,)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, loss=loss)[0], p, grads)
    assert max(errs) < 1e-6, dict(zip(p._fields, errs))
    # the gradient is not trivially zero in any parameter that the loss reaches
    assert all(np.linalg.norm(g) > 1e-8 for g in grads)


def test_sum_reduction_and_unbatched_inputs():
    net, p, xs, ys = _case(3)
    Lm, gm, _ = net.bptt(p, xs, ys, loss="mse")
    Ls, gs, _ = net.bptt(p, xs, ys, loss="mse", reduction="sum")
    n = ys.size
    np.testing.assert_allclose(Ls, n * Lm, rtol=1e-12)
    for a, b in zip(gs, gm):
        np.testing.assert_allclose(a, n * b, rtol=1e-12, atol=1e-14)
    # summed loss over the batch = sum of the per-sequence (unbatched) summed losses
    per = [net.bptt(p, xs[:, b], ys[:, b], loss="mse", reduction="sum") for b in range(B)]
    np.testing.assert_allclose(Ls, sum(v for v, _, _ in per), rtol=1e-12)
    for k in range(5):
        np.testing.assert_allclose(gs[k], sum(g[k] for _, g, _ in per), rtol=1e-12, atol=1e-13)


def _brute_truncated(net, p, xs, ys, k, loss):
    """Every loss term separately, backpropagated through at most k steps (no shared carry)."""
    W, U, b, V, c = p
    f = act_fn(net.activation)
    Tn, Bn, _ = xs.shape
    hs = [np.broadcast_to(net._h0, (Bn, H)).copy()]
    for t in range(Tn):
        hs.append(f(hs[-1] @ W.T + xs[t] @ U.T + b))
    scored = range(Tn) if ys.ndim == 3 else [Tn - 1]
    z = np.stack([hs[t + 1] @ V.T + c for t in range(Tn)])
    if ys.ndim == 3:
        _, dz = output_loss(loss, net.output_activation, z, ys)
    else:
        dz = np.zeros_like(z)
        _, dz[-1] = output_loss(loss, net.output_activation, z[-1], ys)
    g = {n: np.zeros_like(a) for n, a in zip(p._fields, p)}
    dh_all = np.zeros((Tn, Bn, H))
    for s in scored:
        g["V"] += dz[s].T @ hs[s + 1]
        g["c"] += dz[s].sum(axis=0)
        dh = dz[s] @ V
        for t in range(s, max(s - k, -1), -1):
            dh_all[t] += dh
            hn = hs[t + 1]
            fp = {"tanh": 1 - hn ** 2, "sigmoid": hn * (1 - hn), "identity": np.ones_like(hn),
                  "relu": (hn > 0).astype(float)}[net.activation]
            da = dh * fp
            g["W"] += da.T @ hs[t]
            g["U"] += da.T @ xs[t]
            g["b"] += da.sum(axis=0)
            dh = da @ W
    return g, dh_all


def _frozen_objective(net, q, xs, ys, k, hbar, loss):
    """Sum over terms s of the loss of the net run k steps from the frozen h_{s-k} (h0 before 0)."""
    W, U, b, V, c = q
    f = act_fn(net.activation)
    Tn = xs.shape[0]
    scored = range(Tn) if ys.ndim == 3 else [Tn - 1]
    z = np.zeros((Tn,) + (xs.shape[1], V.shape[0]))
    for s in scored:
        start = max(s - k + 1, 0)
        h = hbar[start]  # state before step `start`
        for t in range(start, s + 1):
            h = f(h @ W.T + xs[t] @ U.T + b)
        z[s] = h @ V.T + c
    if ys.ndim == 3:
        return output_loss(loss, net.output_activation, z, ys)[0]
    return output_loss(loss, net.output_activation, z[-1], ys)[0]


@pytest.mark.parametrize("many_to_one", [False, True], ids=["many-to-many", "many-to-one"])
@pytest.mark.parametrize("act,loss,out", [("tanh", "mse", "identity"), ("sigmoid", "cross_entropy", "softmax"),
                                          ("relu", "bce", "sigmoid")])
def test_truncated_bptt(act, loss, out, many_to_one):
    net, p, xs, ys = _case(77, act, out, loss, many_to_one)
    L_full, g_full, tr_full = net.bptt(p, xs, ys, loss=loss)
    for k in (T, T + 5):  # truncation that cuts nothing is full BPTT
        L, g, tr = net.bptt(p, xs, ys, loss=loss, truncate=k)
        assert L == L_full
        for a, b in zip(g, g_full):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tr["dh_norm"], tr_full["dh_norm"], rtol=1e-12)
    hs, _ = forward_sequence(p, xs, np.broadcast_to(net._h0, (B, H)), act)
    for k in (1, 2, 3):
        L, g, tr = net.bptt(p, xs, ys, loss=loss, truncate=k)
        assert L == L_full  # truncation changes the gradient, never the loss
        brute, dh = _brute_truncated(net, p, xs, ys, k, loss)
        for name, a in zip(p._fields, g):
            np.testing.assert_allclose(a, brute[name], rtol=1e-10, atol=1e-13, err_msg=f"{name} k={k}")
        np.testing.assert_allclose(tr["dh_norm"], np.sqrt((dh ** 2).sum(axis=(1, 2))), rtol=1e-10)
        errs = gradcheck(lambda q: _frozen_objective(net, q, xs, ys, k, hs, loss), p, g)
        assert max(errs) < 1e-6, (k, dict(zip(p._fields, errs)))
        if k < T - 1:  # a real truncation differs from full BPTT in the recurrent weights
            assert not np.allclose(g.W, g_full.W, rtol=1e-6)


def test_full_dh_norm_matches_brute_force_and_decays_for_a_contracting_net():
    net, p, xs, ys = _case(5, "tanh", "identity", "mse", many_to_one=True, T=12)
    _, _, tr = net.bptt(p, xs, ys, loss="mse")
    _, dh = _brute_truncated(net, p, xs, ys, 10 ** 6, "mse")
    np.testing.assert_allclose(tr["dh_norm"], np.sqrt((dh ** 2).sum(axis=(1, 2))), rtol=1e-10)
    # a net with a small recurrent matrix (||W|| < 1, |tanh'| <= 1) must lose gradient with lag
    small = net.with_params(p._replace(W=p.W * 0.3 / np.linalg.norm(p.W, 2)))
    _, _, tr = small.bptt(small.train_params(), xs, ys, loss="mse")
    d = tr["dh_norm"]
    assert np.all(d[:-1] <= 0.3 * d[1:] + 1e-300)


def test_bptt_rejects_bad_arguments():
    net, p, xs, ys = _case(2)
    with pytest.raises(ValueError, match="truncate"):
        net.bptt(p, xs, ys, loss="mse", truncate=0)
    with pytest.raises(ValueError, match="targets"):
        net.bptt(p, xs, ys[:, :, :1], loss="mse")
    with pytest.raises(ValueError, match="softmax"):
        net.bptt(p, xs, ys, loss="cross_entropy")
    with pytest.raises(ValueError, match="sigmoid"):
        net.bptt(p, xs, ys, loss="bce")
    with pytest.raises(ValueError, match="output"):
        nets.RNN(np.eye(2), np.eye(2), output="tanh")
    with pytest.raises(ValueError, match="V"):
        nets.RNN(np.eye(2), np.eye(2), V=np.ones((1, 3)))
