"""The LSTM cell (nets/lstm.py) and its fused kernel against independent oracles.

* worked example Wf (SCENARIOS.md): the course notes' one-unit LSTM, printed and exact values;
* an independent per-sequence scalar-loop reference of the documented equations of every
  variant (NIG: i = 1, NFG: f = 1, NOG: o = 1, NIAF, NOAF, NP, CIFG: f = 1 - i, FGR) and
  of the 1997 squashes; a NIG/NFG/NOG net ignores the weights of its missing gate;
* central finite differences (float64, rel. err < 1e-6) for every variant, the 1997 cell,
  stacked and bidirectional nets, every loss/output pair, many-to-one;
* truncated BPTT(k): k >= T is full BPTT; for one layer the truncated gradient is the exact
  gradient of the surrogate whose term s restarts k steps back from the frozen state;
* the carousel, exactly: with W = 0, f = 1 and no peepholes dL/dc_t is constant in t;
  with a forget gate it shrinks by exactly f_t per step;
* PyTorch state_dict layout: exact round trip, bias sums, extra keys, clear errors;
  forward and gradients equal torch.nn.LSTM on the same weights (if torch is installed);
* the numba kernel against the numpy twin (float64 1e-12, float32 loose);
* state gradients (nets.seq2seq protocol): dh0, dc0 and dh_final by finite differences;
  the truncated (dh0, dc0) against the full gradient of the first k - 1 steps.
"""
from __future__ import annotations

import numpy as np
import pytest

import sim
from nets.lstm import LSTM, LSTMState, VARIANTS, layer_forward
from sim.train import gradcheck, output_loss

I, H, K, T, B = 2, 3, 2, 5, 2


def _net(seed=0, **kw):
    cfg = {"n_inputs": kw.pop("n_inputs", I), "n_hidden": kw.pop("n_hidden", H), "n_outputs": kw.pop("n_outputs", K),
           "init": "uniform", "init_range": 0.8, "forget_bias": 0.3, **kw}
    return LSTM.from_config(cfg, rng=np.random.default_rng(seed))


def _targets(rng, loss, shape):
    if loss == "cross_entropy":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    if loss == "bce":
        return rng.random(shape)
    return rng.normal(size=shape)


def _check_grads(net, xs, ys, loss="mse", state0=None, truncate=None, tol=1e-6):
    p = net.train_params()
    value, grads, trace = net.bptt(p, xs, ys, state0, loss=loss, truncate=truncate)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, state0, loss=loss, truncate=truncate)[0], p, grads)
    assert max(errs) < tol, dict(zip(p._fields, errs))
    return value, grads, trace


# --- worked example Wf -------------------------------------------------------------------
def _wf_net():
    U = [[0.95, 0.8], [0.7, 0.45], [0.45, 0.25], [0.6, 0.4]]  # input weights, rows i, f, g(=a), o
    W = [[0.8], [0.1], [0.15], [0.25]]  # recurrent weights
    b = [0.65, 0.15, 0.2, 0.1]
    return LSTM({"W": W, "U": U, "b": b}, peepholes=False)


def test_worked_example_wf():
    net = _wf_net()
    xs = np.array([[1.0, 2.0], [0.5, 3.0]])
    _, _, tr = net.bptt(net.train_params(), xs, np.zeros((2, 1)), loss="mse")
    g = tr["gates"]
    got = np.stack([g["g"][:, 0], g["i"][:, 0], g["f"][:, 0], g["o"][:, 0], tr["c"][:, 0], tr["h"][:, 0]], axis=1)
    printed = np.array([[0.81775, 0.96083, 0.85195, 0.81757, 0.78572, 0.53631],
                        [0.8498, 0.98118, 0.8703, 0.84993, 1.5176, 0.77197]])
    computed = np.array([[0.817754, 0.960834, 0.851953, 0.817574, 0.785726, 0.536313],
                         [0.849804, 0.981184, 0.870302, 0.849933, 1.517633, 0.771981]])
    np.testing.assert_allclose(got, printed, atol=1e-4)
    np.testing.assert_allclose(got, computed, atol=1e-6)
    h, y = net.forward(net.train_params(), xs)  # no V: y = h
    np.testing.assert_allclose(y[:, 0], computed[:, 5], atol=1e-6)


# --- an independent reference of the documented equations --------------------------------
def _squash(name, a):
    return {"tanh": np.tanh(a), "logistic": 1 / (1 + np.exp(-a)), "logistic2": 4 / (1 + np.exp(-a)) - 2,
            "logistic1": 2 / (1 + np.exp(-a)) - 1, "identity": a}[name]


def _reference(net, xs):
    """One sequence xs (T, I), one layer, one direction: per-unit scalar loops."""
    cell, p = net.cell, net.params._asdict()
    n = net.n_hidden
    h, c, q = np.zeros(n), np.zeros(n), np.zeros(3 * n)
    out = []
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for x in xs:
        pre = [[sum(p["U"][k * n + j, m] * x[m] for m in range(len(x))) + sum(p["W"][k * n + j, m] * h[m]
                for m in range(n)) + p["b"][k * n + j] for j in range(n)] for k in range(4)]
        if cell.gate_recurrence:
            for k, row in ((0, 0), (1, 1), (3, 2)):
                for j in range(n):
                    pre[k][j] += sum(p["G"][row * n + j, m] * q[m] for m in range(3 * n))
        i, f, g, o, c_new = (np.zeros(n) for _ in range(5))
        for j in range(n):
            pi = pre[0][j] + (p["P"][0, j] * c[j] if cell.peepholes else 0.0)
            pf = pre[1][j] + (p["P"][1, j] * c[j] if cell.peepholes else 0.0)
            i[j] = sig(pi) if net.variant != "NIG" else 1.0
            f[j] = 1.0 - i[j] if net.variant == "CIFG" else (sig(pf) if cell.forget_gate else 1.0)
            g[j] = _squash(cell.cell_input, pre[2][j])
            c_new[j] = f[j] * c[j] + i[j] * g[j]
            po = pre[3][j] + (p["P"][2, j] * c_new[j] if cell.peepholes else 0.0)
            o[j] = sig(po) if net.variant != "NOG" else 1.0
        h = o * _squash(cell.cell_output, c_new)
        c = c_new
        q = np.concatenate([i, f, o])
        out.append((i, f, g, o, c.copy(), h.copy()))
    return out


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_follows_its_documented_equations(variant):
    net = _net(1, variant=variant)
    xs = np.random.default_rng(2).normal(size=(6, I))
    _, _, tr = net.bptt(net.train_params(), xs, np.zeros((6, K)), loss="mse")
    for t, (i, f, g, o, c, h) in enumerate(_reference(net, xs)):
        for name, want in (("i", i), ("f", f), ("g", g), ("o", o)):
            np.testing.assert_allclose(tr["gates"][name][t], want, rtol=0, atol=1e-13, err_msg=f"{name} t={t}")
        np.testing.assert_allclose(tr["c"][t], c, rtol=0, atol=1e-13)
        np.testing.assert_allclose(tr["h"][t], h, rtol=0, atol=1e-13)


def test_1997_cell_squashes_and_no_forget_gate():
    net = _net(3, forget_gate=False, peepholes=False, cell_input="logistic2", cell_output="logistic1")
    xs = np.random.default_rng(4).normal(size=(6, I))
    _, _, tr = net.bptt(net.train_params(), xs, np.zeros((6, K)), loss="mse")
    assert np.all(tr["gates"]["f"] == 1.0)
    assert np.all(np.abs(tr["gates"]["g"]) <= 2.0) and np.all(np.abs(tr["h"]) <= 1.0)
    for t, (i, f, g, o, c, h) in enumerate(_reference(net, xs)):
        np.testing.assert_allclose(tr["c"][t], c, atol=1e-13)
        np.testing.assert_allclose(tr["h"][t], h, atol=1e-13)


@pytest.mark.parametrize("variant,rows", [("NIG", slice(0, H)), ("NFG", slice(H, 2 * H)),
                                          ("NOG", slice(3 * H, 4 * H)), ("CIFG", slice(H, 2 * H))])
def test_a_missing_gate_ignores_its_weights(variant, rows):
    net = _net(5, variant=variant)
    xs = np.random.default_rng(6).normal(size=(T, B, I))
    p = net.train_params()
    q = p._replace(W=p.W.copy(), U=p.U.copy(), b=p.b.copy())
    q.W[rows] += 3.0
    q.U[rows] -= 2.0
    q.b[rows] += 1.0
    np.testing.assert_array_equal(net.forward(p, xs)[1], net.forward(q, xs)[1])
    _, g, _ = net.bptt(p, xs, np.ones((T, B, K)), loss="mse")
    assert not np.any(g.W[rows]) and not np.any(g.U[rows]) and not np.any(g.b[rows])


def test_variant_switch_conflicts_are_errors():
    with pytest.raises(ValueError, match="NFG"):
        _net(variant="NFG", forget_gate=True)
    with pytest.raises(ValueError, match="NP"):
        _net(variant="NP", peepholes=True)
    with pytest.raises(ValueError, match="CIFG"):
        _net(variant="CIFG", forget_gate=False)
    with pytest.raises(ValueError, match="variant"):
        _net(variant="GRU")
    assert _net(variant="NFG").cell == _net(forget_gate=False).cell


# --- gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_finite_differences_every_variant(variant):
    rng = np.random.default_rng(7)
    net = _net(8, variant=variant)
    xs = rng.normal(size=(T, B, I))
    s0 = LSTMState(rng.normal(scale=0.5, size=(B, H)), rng.normal(scale=0.5, size=(B, H)))
    _check_grads(net, xs, rng.normal(size=(T, B, K)), state0=s0)


@pytest.mark.parametrize("kw", [
    {"forget_gate": False, "peepholes": False, "cell_input": "logistic2", "cell_output": "logistic1"},
    {"cell_input": "logistic", "variant": "CIFG"},
    {"n_layers": 2},
    {"bidirectional": True, "variant": "NP"},
    {"n_layers": 2, "bidirectional": True},
    {"n_layers": 2, "bidirectional": True, "variant": "FGR"},
], ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_finite_differences_cells_layers_directions(kw):
    rng = np.random.default_rng(9)
    net = _net(10, n_hidden=2, **kw)  # small: stacked nets have many weights to perturb
    _check_grads(net, rng.normal(size=(4, B, I)), rng.normal(size=(4, B, K)))


@pytest.mark.parametrize("loss,out,many_to_one", [("cross_entropy", "softmax", False), ("bce", "sigmoid", True),
                                                  ("mse", "softmax", True), ("cross_entropy", "softmax", True)])
def test_finite_differences_losses(loss, out, many_to_one):
    rng = np.random.default_rng(11)
    net = _net(12, output=out, bidirectional=many_to_one, n_hidden=2 if many_to_one else H)
    ys = _targets(rng, loss, (B, K) if many_to_one else (T, B, K))
    _check_grads(net, rng.normal(size=(T, B, I)), ys, loss=loss)


def test_unbatched_sequence_equals_batch_of_one():
    rng = np.random.default_rng(13)
    net = _net(14, n_layers=2)
    xs, ys = rng.normal(size=(T, I)), rng.normal(size=(T, K))
    a = net.bptt(net.train_params(), xs, ys, loss="mse")
    b = net.bptt(net.train_params(), xs[:, None], ys[:, None], loss="mse")
    assert a[0] == b[0]
    for g1, g2 in zip(a[1], b[1]):
        np.testing.assert_array_equal(g1, g2)
    assert a[2]["h"].shape == (T, H) and a[2]["state"].h.shape == (2, H)


# --- truncation --------------------------------------------------------------------------
def test_truncate_at_least_T_is_full_bptt():
    rng = np.random.default_rng(15)
    net = _net(16, n_layers=2, variant="FGR")
    xs, ys = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, K))
    _, full, _ = net.bptt(net.train_params(), xs, ys, loss="mse")
    for k in (T, T + 3):
        _, g, _ = net.bptt(net.train_params(), xs, ys, loss="mse", truncate=k)
        for a, b in zip(g, full):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    _, g2, _ = net.bptt(net.train_params(), xs, ys, loss="mse", truncate=2)
    assert not np.allclose(g2.W_l0, full.W_l0)


@pytest.mark.parametrize("variant,k", [("vanilla", 1), ("vanilla", 2), ("CIFG", 3), ("FGR", 2)])
def test_truncated_gradient_is_the_surrogate_gradient(variant, k):
    """Term s of the surrogate runs k steps from the frozen (h, c, q)_{s-k} of the real run."""
    rng = np.random.default_rng(17)
    net = _net(18, variant=variant)
    xs, ys = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, K))
    p0 = net.train_params()
    base = layer_forward(net.cell, net._blocks(p0)[0][0], xs, np.zeros((B, H)), np.zeros((B, H)))

    def surrogate(p):
        blk = net._blocks(p)[0][0]
        tot = 0.0
        for s in range(T):
            lo = max(0, s - k + 1)
            q0 = base["q"][lo] if net.cell.gate_recurrence else None
            run = layer_forward(net.cell, blk, xs[lo:s + 1], base["h"][lo], base["c"][lo], q0)
            tot += output_loss("mse", "identity", run["h"][-1] @ p.V.T + p.c, ys[s], reduction="sum")[0]
        return tot

    value, grads, _ = net.bptt(p0, xs, ys, loss="mse", truncate=k, reduction="sum")
    assert abs(value - surrogate(p0)) < 1e-12
    errs = gradcheck(surrogate, p0, grads)
    assert max(errs) < 1e-6, dict(zip(p0._fields, errs))


# --- the carousel ------------------------------------------------------------------------
def test_carousel_dc_norm_is_constant_without_forget_gate():
    rng = np.random.default_rng(19)
    net = _net(20, forget_gate=False, peepholes=False)
    p = net.train_params()
    p = p._replace(W=np.zeros_like(p.W))  # no recurrent path: c is the only memory
    xs = rng.normal(size=(30, B, I))
    _, _, tr = net.bptt(p, xs, rng.normal(size=(B, K)), loss="mse")
    np.testing.assert_allclose(tr["dc_norm"], tr["dc_norm"][-1], rtol=1e-12)
    assert tr["dc_norm"][-1] > 0
    # with a forget gate the cell gradient shrinks by exactly f_t per step
    net_f = _net(20, peepholes=False)
    pf = net_f.train_params()._replace(W=np.zeros_like(p.W))
    _, _, trf = net_f.bptt(pf, xs, rng.normal(size=(B, K)), loss="mse")
    f = trf["gates"]["f"]  # (T, B, H)
    dc_last = np.sqrt(np.sum((trf["dc_norm"][-1]) ** 2))
    assert trf["dc_norm"][0] < 0.01 * dc_last  # vanished after 30 steps of f < 1
    assert np.all(f < 1.0)


def test_carousel_dc_is_product_of_forget_gates():
    """dL/dc_{t-1} = f_t dL/dc_t exactly when W = 0, no peepholes, loss at the end only."""
    rng = np.random.default_rng(21)
    net = _net(22, peepholes=False, n_hidden=1, n_outputs=1)
    p = net.train_params()._replace(W=np.zeros((4, 1)))
    xs = rng.normal(size=(12, 1, I))
    _, _, tr = net.bptt(p, xs, np.ones((1, 1)), loss="mse")
    f = tr["gates"]["f"][:, 0, 0]
    np.testing.assert_allclose(tr["dc_norm"][:-1], tr["dc_norm"][1:] * f[1:], rtol=1e-12)


# --- state_dict ---------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"peepholes": False}, {"peepholes": False, "n_layers": 2, "bidirectional": True}])
def test_state_dict_round_trip_is_exact(kw):
    net = _net(23, **kw)
    sd = net.state_dict()
    assert "weight_ih_l0" in sd and ("weight_hh_l1_reverse" in sd) == ("n_layers" in kw)
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    back = LSTM.from_state_dict(sd)
    for a, b in zip(net.params, back.params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.switches() == net.switches()


def test_state_dict_sums_torch_biases_and_exports_extras():
    rng = np.random.default_rng(24)
    net = _net(25, peepholes=False)
    sd = net.state_dict(output_layer=False)
    sd["bias_hh_l0"] = rng.normal(size=4 * H)
    back = LSTM.from_state_dict(sd)
    np.testing.assert_array_equal(back.params.b, sd["bias_ih_l0"] + sd["bias_hh_l0"])
    np.testing.assert_array_equal(back.params.V, np.eye(H))
    peep = _net(26, variant="FGR")
    with pytest.raises(ValueError, match="extras=True"):
        peep.state_dict()
    sd = peep.state_dict(extras=True)
    assert sd["peephole_l0"].shape == (3, H) and sd["gate_recurrence_l0"].shape == (3 * H, 3 * H)
    back = LSTM.from_state_dict(sd)
    assert back.variant == "FGR" and back.cell.peepholes
    for a, b in zip(peep.params, back.params, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"unknown \['weight_xx_l0'\]"):
        LSTM.from_state_dict({**sd, "weight_xx_l0": np.zeros(1)})
    with pytest.raises(ValueError, match=r"missing \['weight_hh_l0'\]"):
        LSTM.from_state_dict({k: v for k, v in sd.items() if k != "weight_hh_l0"})
    nobias = LSTM.from_state_dict({k: v for k, v in sd.items() if not k.startswith("bias_")})  # torch bias=False
    np.testing.assert_array_equal(nobias.params.b, 0.0)


def test_torch_lstm_agrees_on_forward_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(27)
    net = _net(28, peepholes=False, n_layers=2, bidirectional=True, output="softmax")
    sd = net.state_dict()
    sd["bias_hh_l1"] = rng.normal(size=4 * H)  # torch's second bias: folded into b on import
    net = LSTM.from_state_dict(sd, output="softmax")
    xs = rng.normal(size=(T, B, I))
    ys = np.eye(K)[rng.integers(0, K, (T, B))]
    m = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True).double()
    lin = torch.nn.Linear(2 * H, K).double()
    m.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items() if not k.startswith("out.")})
    lin.load_state_dict({"weight": torch.from_numpy(sd["out.weight"]), "bias": torch.from_numpy(sd["out.bias"])})
    out, (hn, cn) = m(torch.from_numpy(xs))
    z = lin(out)
    loss = -(torch.from_numpy(ys) * torch.log_softmax(z, -1)).sum(-1).mean()
    loss.backward()
    value, g, tr = net.bptt(net.train_params(), xs, ys, loss="cross_entropy")
    assert abs(value - loss.item()) < 1e-12
    np.testing.assert_allclose(tr["h"], out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(tr["state"].h, hn.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(tr["state"].c, cn.detach().numpy(), atol=1e-12)
    tg = dict(m.named_parameters())
    for l in range(2):
        for r in ("", "_reverse"):
            s = f"_l{l}{r}"
            np.testing.assert_allclose(getattr(g, "W" + s), tg["weight_hh" + s].grad.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(getattr(g, "U" + s), tg["weight_ih" + s].grad.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(getattr(g, "b" + s), tg["bias_hh" + s].grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g.V, lin.weight.grad.numpy(), rtol=1e-10, atol=1e-13)


# --- configuration, simulation, training ---------------------------------------------------
def test_from_config_keys_and_inits():
    for init in ("uniform", "normal", "xavier", "he", "orthogonal", "torch"):
        net = _net(29, init=init, forget_bias=1.0, input_bias=-1.0, output_bias=-2.0)
        b = net.params.b
        assert np.all(b[H:2 * H] == 1.0) and np.all(b[:H] == -1.0) and np.all(b[3 * H:] == -2.0)
    net = _net(30, init="orthogonal", n_hidden=4, n_inputs=4, peepholes=False)
    for k in range(4):
        blk = net.params.W[4 * k:4 * k + 4]
        np.testing.assert_allclose(blk @ blk.T, np.eye(4), atol=1e-12)
    a, b = _net(31), _net(31)
    for x, y in zip(a.params, b.params):
        np.testing.assert_array_equal(x, y)
    assert set(LSTM.config_keys) >= {"n_inputs", "n_hidden", "n_outputs", "output", "init", "init_range",
                                     "variant", "forget_bias", "forget_gate", "peepholes"}


def test_bad_input_is_a_clear_error():
    net = _net(32)
    with pytest.raises(ValueError, match="xs must"):
        net.bptt(net.train_params(), np.zeros((T, B, I + 1)), np.zeros((T, B, K)), loss="mse")
    with pytest.raises(ValueError, match="targets"):
        net.bptt(net.train_params(), np.zeros((T, B, I)), np.zeros((T, B, K + 1)), loss="mse")
    with pytest.raises(ValueError, match="truncate"):
        net.bptt(net.train_params(), np.zeros((T, B, I)), np.zeros((T, B, K)), loss="mse", truncate=0)
    with pytest.raises(ValueError, match="shape"):
        LSTM({"W": np.zeros((8, 2)), "U": np.zeros((8, 3)), "b": np.zeros(7)}, peepholes=False)
    with pytest.raises(ValueError, match="missing"):
        LSTM({"W": np.zeros((8, 2)), "U": np.zeros((8, 3)), "b": np.zeros(8)})


def test_simulate_steps_equal_the_sequence_forward():
    rng = np.random.default_rng(33)
    net = _net(34, n_layers=2, variant="CIFG")
    xs = rng.normal(size=(9, I))
    traj = sim.simulate(net, ticks=9, inputs=xs, schedule="clocked", rng=1, fast=False)
    _, _, tr = net.bptt(net.train_params(), xs, np.zeros((9, K)), loss="mse")
    np.testing.assert_allclose(traj.states["h"][-1], tr["state"].h, atol=1e-13)
    np.testing.assert_allclose(traj.states["c"][-1], tr["state"].c, atol=1e-13)
    fast = sim.simulate(net, ticks=9, inputs=xs, schedule="clocked", rng=1, fast=True)
    np.testing.assert_allclose(fast.states["h"], traj.states["h"], atol=1e-13)


def test_fit_lowers_the_loss():
    rng = np.random.default_rng(35)
    net = _net(36, n_hidden=4, n_outputs=1)
    xs = rng.normal(size=(6, 16, I))
    ys = xs[0, :, :1] * 0.5  # remember the first input
    res = sim.train.fit(net, net.train_params(), xs, ys, loss="mse", optimizer=sim.train.Adam(0.05), epochs=15,
                        rng=np.random.default_rng(0), batch_size=8)
    assert res.loss[-1] < 0.5 * res.loss[0]
    assert type(res.params) is type(net.train_params())


# --- the fused numba kernel ----------------------------------------------------------------
KERNEL_CASES = [({}, "mse", "identity", False, 1), ({"peepholes": False}, "cross_entropy", "softmax", False, 9),
                ({"forget_gate": False}, "bce", "sigmoid", True, 3), ({"variant": "NP"}, "mse", "identity", True, 8),
                ({"variant": "NOG", "forget_gate": False, "peepholes": False, "cell_input": "logistic",
                  "cell_output": "identity"}, "mse", "identity", False, 1),  # the cell of the 1997 Exp. 2a
                ({"forget_gate": False, "cell_input": "logistic2", "cell_output": "logistic1"}, "cross_entropy",
                 "softmax", False, 2),
                ({"variant": "NIG"}, "mse", "identity", False, 2), ({"variant": "NIAF"}, "bce", "sigmoid", False, 1),
                ({"variant": "NOAF"}, "mse", "identity", True, 10),
                ({"variant": "NOG", "forget_gate": False, "peepholes": False, "cell_input": "logistic",  # 1997 Exp. 2a
                  "cell_output": "identity", "shortcut": True}, "bce", "sigmoid", False, 1),
                ({"variant": "NOG", "forget_gate": False, "peepholes": False, "cell_input": "logistic",
                  "cell_output": "identity", "shortcut": True}, "mse", "sigmoid", True, 2),
                ({"shortcut": True}, "mse", "identity", True, 3),
                ({"shortcut": True, "peepholes": False}, "cross_entropy", "softmax", False, 9),
                ({"variant": "CIFG"}, "mse", "identity", False, 3),
                ({"variant": "CIFG", "peepholes": False}, "cross_entropy", "softmax", True, 2)]


@pytest.mark.parametrize("kw,loss,out,many_to_one,Bk", KERNEL_CASES)
def test_kernel_equals_numpy_twin(kw, loss, out, many_to_one, Bk):
    rng = np.random.default_rng(37)
    net = _net(38, n_hidden=5, n_outputs=4, output=out, **kw)
    xs = rng.normal(size=(7, Bk, I))
    ys = _targets(rng, loss, (Bk, 4) if many_to_one else (7, Bk, 4))
    s0 = LSTMState(rng.normal(size=(Bk, 5)), rng.normal(size=(Bk, 5)))
    from nets._kernels.lstm import covers
    assert covers(net, loss, None, 7)
    for reduction in ("mean", "sum"):
        a = net.bptt(net.train_params(), xs, ys, s0, loss=loss, reduction=reduction)
        b = net.bptt(net.train_params(), xs, ys, s0, loss=loss, reduction=reduction, fast=True)
        assert abs(a[0] - b[0]) <= 1e-12 * max(1.0, abs(a[0]))
        for n, ga, gb in zip(a[1]._fields, a[1], b[1]):
            np.testing.assert_allclose(gb, ga, rtol=0, atol=1e-12, err_msg=n)
        for k in ("dh_norm", "dc_norm", "h", "c"):
            np.testing.assert_allclose(b[2][k], a[2][k], rtol=0, atol=1e-12, err_msg=k)
        for k in "ifgo":
            np.testing.assert_allclose(b[2]["gates"][k], a[2]["gates"][k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(b[2]["state"].c, a[2]["state"].c, rtol=0, atol=1e-12)
    p32 = type(net.params)(*(p.astype(np.float32) for p in net.params))
    c = net.bptt(p32, xs, ys, s0, loss=loss, fast=True)
    a = net.bptt(net.train_params(), xs, ys, s0, loss=loss)
    assert all(g.dtype == np.float32 for g in c[1])
    assert abs(c[0] - a[0]) < 1e-5 * max(1.0, abs(a[0]))
    for ga, gc in zip(a[1], c[1]):
        np.testing.assert_allclose(gc, ga, rtol=0, atol=2e-4 * max(1.0, np.abs(ga).max()))


@pytest.mark.parametrize("kw,loss,out,Bk", [({}, "mse", "identity", 8), ({"variant": "CIFG"}, "bce", "sigmoid", 11),
                                             ({"shortcut": True, "peepholes": False}, "cross_entropy", "softmax", 9)])
def test_kernel_fused_input_product_equals_numpy_twin(kw, loss, out, Bk):
    # B >= 8 and 4 I <= H: the kernel computes [h_{t-1}, x_t] [W U]^T in one product per step
    # and [dW dU] in one product after the loop
    rng = np.random.default_rng(53)
    net = _net(54, n_hidden=9, n_outputs=4, output=out, **kw)
    xs = rng.normal(size=(6, Bk, I))
    ys = _targets(rng, loss, (6, Bk, 4))
    s0 = LSTMState(rng.normal(size=(Bk, 9)), rng.normal(size=(Bk, 9)))
    a = net.bptt(net.train_params(), xs, ys, s0, loss=loss)
    b = net.bptt(net.train_params(), xs, ys, s0, loss=loss, fast=True)
    from nets._kernels import workspace
    assert workspace._local.arrays["lstm_XH"].shape == (6 * Bk, 9 + I)  # the fused path ran
    assert abs(a[0] - b[0]) <= 1e-12 * max(1.0, abs(a[0]))
    for n, ga, gb in zip(a[1]._fields, a[1], b[1]):
        np.testing.assert_allclose(gb, ga, rtol=0, atol=1e-12, err_msg=n)
    for k in ("dh_norm", "dc_norm", "h", "c"):
        np.testing.assert_allclose(b[2][k], a[2][k], rtol=0, atol=1e-12, err_msg=k)


def test_kernel_finite_differences_and_fallback():
    rng = np.random.default_rng(39)
    net = _net(40)
    xs, ys = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, K))
    p = net.train_params()
    _, g, _ = net.bptt(p, xs, ys, loss="mse", fast=True)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, loss="mse", fast=True)[0], p, g)
    assert max(errs) < 1e-6
    # configurations the kernel does not cover fall back to the numpy path: same numbers
    from nets._kernels.lstm import covers
    for other, kw in ((_net(42, n_layers=2), {}), (net, {"truncate": 2}),
                      (_net(43, variant="FGR"), {}), (_net(44, bidirectional=True), {}), (net, {"loss": "mae"})):
        kw = {"loss": "mse", **kw}
        assert not covers(other, kw["loss"], kw.get("truncate"), T)
        a = other.bptt(other.train_params(), xs, ys, **kw)
        b = other.bptt(other.train_params(), xs, ys, fast=True, **kw)
        assert a[0] == b[0]
        for x, y in zip(a[1], b[1]):
            np.testing.assert_array_equal(x, y)


# --- state gradients (the encoder-decoder protocol of nets.seq2seq) ------------------------
def _with_final(net, xs, ys, Gh, Gc, loss="mse"):
    """J = loss + <Gh, h_n> + <Gc, c_n>: the objective whose gradient bptt(dh_final=(Gh, Gc)) is."""
    def f(p, state0=None):
        value = 0.0
        if ys is not None:
            h = net.forward(p, xs, state0)[0]
            value = output_loss(loss, net.output_activation, h @ p.V.T + p.c, ys)[0]
        hn, cn = net.final_state(p, xs, state0)
        return value + float(np.sum(Gh * hn) + np.sum(Gc * cn))
    return f


@pytest.mark.parametrize("kw,with_ys", [
    ({}, True),
    ({"variant": "NP"}, False),  # no loss terms of its own: an encoder
    ({"n_layers": 2}, True),
    ({"bidirectional": True, "variant": "FGR"}, True),
    ({"n_layers": 2, "bidirectional": True}, True),
], ids=["1", "1-encoder", "2", "1-bi-FGR", "2-bi"])
def test_state_gradients_and_dh_final_match_finite_differences(kw, with_ys):
    """dL/d(h0, c0) (trace dh0, dc0) and the weights' gradient with final-state gradients."""
    rng = np.random.default_rng(31)
    net = _net(32, **kw)
    LD = net.n_layers * net.n_dirs
    xs, ys = rng.normal(size=(4, B, I)), rng.normal(size=(4, B, K)) if with_ys else None
    h0, c0 = rng.normal(size=(LD, B, H)), rng.normal(size=(LD, B, H))
    Gh, Gc = rng.normal(size=(LD, B, H)), rng.normal(size=(LD, B, H))
    p = net.train_params()
    J = _with_final(net, xs, ys, Gh, Gc)
    value, grads, trace = net.bptt(p, xs, ys, (h0, c0), loss="mse", dh_final=LSTMState(Gh, Gc))
    assert value == (0.0 if ys is None else net.bptt(p, xs, ys, (h0, c0), loss="mse")[0])  # the loss alone
    errs = gradcheck(lambda q: J(q, (h0, c0)), p, grads)
    assert max(errs) < 1e-6, dict(zip(p._fields, errs))
    errs = gradcheck(lambda s: J(p, s), (h0, c0), (trace["dh0"], trace["dc0"]))
    assert max(errs) < 1e-6, errs
    assert trace["dh0"].shape == trace["dc0"].shape == (LD, B, H) and np.linalg.norm(trace["dc0"]) > 1e-3
    # a bare array is the h part alone
    _, g_h, t_h = net.bptt(p, xs, ys, (h0, c0), loss="mse", dh_final=Gh)
    _, g_hn, t_hn = net.bptt(p, xs, ys, (h0, c0), loss="mse", dh_final=(Gh, None))
    _, g_hc, t_hc = net.bptt(p, xs, ys, (h0, c0), loss="mse", dh_final=(Gh, np.zeros_like(Gc)))
    for a, b, c in zip(g_h, g_hn, g_hc):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(t_h["dc0"], t_hn["dc0"])


@pytest.mark.parametrize("variant", ["vanilla", "FGR"])
def test_truncated_state_gradient_is_that_of_the_first_steps(variant):
    """BPTT(k) into (h0, c0): a loss term at step s reaches the initial state through s + 1
    transitions, so only s <= k - 2 count, each completely; dh_final (at step T-1) needs
    k >= T + 1. Oracle: full BPTT on the first k - 1 steps (sum reduction)."""
    rng = np.random.default_rng(33)
    net = _net(34, variant=variant)
    p = net.train_params()
    xs, ys = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, K))
    state0 = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    G = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    for k in range(1, T + 3):
        _, _, tr = net.bptt(p, xs, ys, state0, loss="mse", truncate=k, reduction="sum", dh_final=G)
        if k == 1:
            ref = {"dh0": np.zeros((1, B, H)), "dc0": np.zeros((1, B, H))}
        elif k <= T:
            ref = net.bptt(p, xs[:k - 1], ys[:k - 1], state0, loss="mse", reduction="sum")[2]
        else:
            ref = net.bptt(p, xs, ys, state0, loss="mse", reduction="sum", dh_final=G)[2]
        for key in ("dh0", "dc0"):
            np.testing.assert_allclose(tr[key], ref[key], rtol=1e-12, atol=1e-14, err_msg=f"k={k} {key}")
    assert np.linalg.norm(ref["dc0"]) > 1e-3


@pytest.mark.parametrize("kw", [{"n_layers": 2}, {"n_layers": 2, "bidirectional": True}])
def test_final_state_is_the_last_processed_state(kw):
    rng = np.random.default_rng(35)
    net = _net(36, **kw)
    p = net.train_params()
    xs = rng.normal(size=(T, B, I))
    hn, cn = net.final_state(p, xs)
    assert hn.shape == cn.shape == (net.n_layers * net.n_dirs, B, H)
    trace = net.bptt(p, xs, rng.normal(size=(T, B, K)), loss="mse")[2]
    np.testing.assert_array_equal(hn, trace["state"].h)
    np.testing.assert_array_equal(cn, trace["state"].c)
    top = net.forward(p, xs)[0]
    np.testing.assert_array_equal(hn[-1], top[0, :, H:] if net.bidirectional else top[-1])  # reverse: t = 0
    h1, c1 = net.final_state(p, xs[:, 0])  # one sequence: (L*D, H)
    np.testing.assert_allclose(h1, hn[:, 0], rtol=1e-14, atol=0)
    if not net.bidirectional:  # the final state continues the sequence
        np.testing.assert_allclose(net.forward(p, xs[3:], net.final_state(p, xs[:3]))[1], net.forward(p, xs)[1][3:],
                                   rtol=1e-13, atol=1e-15)


def test_kernel_falls_back_only_for_state_gradients():
    """fast=True keeps the kernel without dh_final (no dh0 in its trace); with dh_final or
    ys=None it is the numpy path, number for number."""
    rng = np.random.default_rng(37)
    net = _net(38)
    p = net.train_params()
    xs, ys = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, K))
    G = (rng.normal(size=(B, H)), rng.normal(size=(B, H)))
    _, g_fast, t_fast = net.bptt(p, xs, ys, loss="mse", fast=True)
    _, g_np, t_np = net.bptt(p, xs, ys, loss="mse")
    assert "dh0" not in t_fast and "dh0" in t_np
    for a, b in zip(g_fast, g_np):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for targets in (ys, None):
        v1, g1, t1 = net.bptt(p, xs, targets, loss="mse", fast=True, dh_final=G)
        v2, g2, t2 = net.bptt(p, xs, targets, loss="mse", dh_final=G)
        assert v1 == v2
        for a, b in zip(g1, g2):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(t1["dc0"], t2["dc0"])
    assert "dh0" in net.bptt(p, xs, None, loss="mse", fast=True)[2]


def test_bad_dh_final_is_a_clear_error():
    net = _net(39, n_layers=2)
    xs = np.zeros((T, B, I))
    with pytest.raises(ValueError, match="dh_final's c part must have shape"):
        net.bptt(net.train_params(), xs, None, loss="mse", dh_final=(np.zeros((2, B, H)), np.zeros((B, H))))
    with pytest.raises(ValueError, match="dh_final must be an"):
        net.bptt(net.train_params(), xs, None, loss="mse", dh_final=(np.zeros((2, B, H)),) * 3)


def test_kernel_scratch_reuse_leaves_earlier_results_alone():
    # the fast path keeps its scratch between calls (nets._kernels.workspace): a later call, with
    # the same or other shapes, must not touch what an earlier call returned, and repeats are exact
    rng = np.random.default_rng(45)
    net = _net(46, n_hidden=5, n_outputs=3)
    x1, y1 = rng.normal(size=(6, 9, I)), rng.normal(size=(6, 9, 3))
    x2, y2 = rng.normal(size=(6, 9, I)), rng.normal(size=(6, 9, 3))
    first = net.bptt(net.train_params(), x1, y1, loss="mse", fast=True)
    kept = [a.copy() for a in first[1]] + [first[2][k].copy() for k in ("h", "c", "dh_norm", "dc_norm")]
    net.bptt(net.train_params(), x2, y2, loss="mse", fast=True)
    net.bptt(net.train_params(), x2[:3, :2], y2[:3, :2], loss="mse", fast=True)
    again = net.bptt(net.train_params(), x1, y1, loss="mse", fast=True)
    now = list(first[1]) + [first[2][k] for k in ("h", "c", "dh_norm", "dc_norm")]
    for a, b in zip(kept, now):
        np.testing.assert_array_equal(a, b)
    assert again[0] == first[0]
    for a, b in zip(first[1], again[1]):
        np.testing.assert_array_equal(a, b)
