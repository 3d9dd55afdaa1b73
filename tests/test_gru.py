"""GRU (nets.gru): gradients, conventions, PyTorch layout, numba kernel, gate limits (U1).

Oracles: central finite differences (float64, rel. err. < 1e-6) for both reset placements
and update conventions x layers x directions x truncation (the truncated gradient against
finite differences of its surrogate loss); an independent per-step reference forward
written here from the equations; the exact z-negation map between the conventions;
torch.nn.GRU when torch is importable; the numba kernel against the numpy twin (1e-12).
State gradients (nets.seq2seq protocol): dh0 and dh_final by finite differences; the
truncated dh0 against the full gradient of the first k - 1 steps.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from nets import GRU, GRUState, GRUTrainParams
from nets.activations import sigmoid
from sim.train import gradcheck, output_loss

CONVENTIONS = list(itertools.product(("after", "before"), ("cho", "notes")))


def _net(rng, *, reset="after", update="cho", L=1, bi=False, I=2, H=2, K=2, output="identity", r=0.8):
    return GRU.from_config({"n_inputs": I, "n_hidden": H, "n_outputs": K, "n_layers": L,
                            "bidirectional": bi, "reset": reset, "update": update, "output": output,
                            "init": "uniform", "init_range": r}, rng=rng)


# --- an independent reference forward (one step at a time, straight from the equations) ----
def _cell(U, W, b, bh, x, h, reset, update):
    H = W.shape[1]
    gx, gh = U @ x + b, W @ h + bh
    r = sigmoid(gx[:H] + gh[:H])
    z = sigmoid(gx[H:2 * H] + gh[H:2 * H])
    if reset == "after":
        n = np.tanh(gx[2 * H:] + r * gh[2 * H:])
    else:
        n = np.tanh(gx[2 * H:] + W[2 * H:] @ (r * h) + bh[2 * H:])
    return z * h + (1 - z) * n if update == "cho" else (1 - z) * h + z * n


def _ref_states(p, xs, h0, reset, update, frozen=None):
    """Per layer and direction the states h_t (T, H) of one sequence xs (T, I); h0 (L*D, H).

    ``frozen[k][d]`` (T, H), when given, replaces the recurrent input h_{t-1} of every cell.
    """
    L, D = p.W.shape[:2]
    T = len(xs)
    inp, states = xs, []
    for k in range(L):
        layer = []
        for d in range(D):
            U = p.U0[d] if k == 0 else p.U[k - 1, d]
            order = range(T) if d == 0 else range(T - 1, -1, -1)
            hs = np.empty((T, p.W.shape[3]))
            prev = h0[k * D + d]
            for t in order:
                if frozen is not None:
                    prev = h0[k * D + d] if (t == 0 if d == 0 else t == T - 1) else frozen[k][d][t - 1 if d == 0 else t + 1]
                hs[t] = _cell(U, p.W[k, d], p.b[k, d], p.bh[k, d], inp[t], prev, reset, update)
                prev = hs[t]
            layer.append(hs)
        states.append(layer)
        inp = np.concatenate(layer, axis=-1)
    return states, inp


def test_forward_matches_the_step_by_step_reference():
    rng = np.random.default_rng(0)
    for (reset, update), L, bi in itertools.product(CONVENTIONS, (1, 2), (False, True)):
        net = _net(rng, reset=reset, update=update, L=L, bi=bi, H=3)
        xs = rng.normal(size=(6, 2, 2))
        h0 = rng.normal(size=(L * (2 if bi else 1), 2, 3))
        top, y = net.forward(net.params, xs, h0)
        for bb in range(2):
            _, ref = _ref_states(net.params, xs[:, bb], h0[:, bb], reset, update)
            np.testing.assert_allclose(top[:, bb], ref, rtol=0, atol=1e-14)
        np.testing.assert_allclose(y, top @ net.params.V.T + net.params.c, atol=1e-14)


# --- gradients ----------------------------------------------------------------------
def _loss_fn(net, xs, ys, loss, reduction="mean"):
    def f(q):
        h, _ = net.forward(q, xs)
        z = h @ q.V.T + q.c  # the logits (the fused losses take them)
        if ys.ndim == 2:
            z = z[-1]
        return output_loss(loss, net.output_activation, z, ys, reduction=reduction)[0]
    return f


@pytest.mark.parametrize("reset,update", CONVENTIONS)
@pytest.mark.parametrize("L,bi", [(1, False), (1, True), (2, False), (2, True)])
def test_full_bptt_against_finite_differences(reset, update, L, bi):
    rng = np.random.default_rng(hash((reset, update, L, bi)) % 2**32)
    net = _net(rng, reset=reset, update=update, L=L, bi=bi)
    xs = rng.normal(size=(4, 2, 2))
    ys = rng.normal(size=(4, 2, 2))
    value, grads, trace = net.bptt(net.params, xs, ys, loss="mse")
    assert value == pytest.approx(_loss_fn(net, xs, ys, "mse")(net.params), abs=1e-14)
    assert max(gradcheck(_loss_fn(net, xs, ys, "mse"), net.params, grads)) < 1e-6
    assert trace["dh_norm"].shape == (4,) and np.all(trace["dh_norm"] > 0)
    assert trace["gates"]["z"].shape == (4, 2, 2 * (2 if bi else 1))


@pytest.mark.parametrize("output,loss", [("softmax", "cross_entropy"), ("sigmoid", "bce")])
def test_many_to_one_fused_losses_against_finite_differences(output, loss):
    rng = np.random.default_rng(7)
    for reset, update in CONVENTIONS:
        net = _net(rng, reset=reset, update=update, K=3, output=output)
        xs = rng.normal(size=(5, 2, 2))
        ys = rng.dirichlet(np.ones(3), size=2) if output == "softmax" else rng.random((2, 3))
        _, grads, _ = net.bptt(net.params, xs, ys, loss=loss)
        assert max(gradcheck(_loss_fn(net, xs, ys, loss), net.params, grads)) < 1e-6


def _surrogate(net, xs, ys, k):
    """Sum over s of the loss of term s when the stack runs k steps from frozen states (unidirectional)."""
    base = net.params
    frozen = [_ref_states(base, xs[:, bb], net._batch_h0(None, 1)[:, 0], net.reset, net.update)[0]
              for bb in range(xs.shape[1])]

    def f(q):
        total = 0.0
        T, B = xs.shape[:2]
        for s in range(T):
            lo = max(s - k + 1, 0)
            h0 = np.stack([[frozen[bb][layer][0][lo - 1] if lo > 0 else net._h0.reshape(-1, net.n_hidden)[layer]
                            for bb in range(B)] for layer in range(net.n_layers)])  # (L, B, H)
            _, y = net.forward(q, xs[lo:s + 1], h0)
            total += output_loss("mse", "identity", y[-1], ys[s], reduction="sum")[0]
        return total
    return f


@pytest.mark.parametrize("reset,update", CONVENTIONS)
@pytest.mark.parametrize("L", [1, 2])
def test_truncated_bptt_is_the_gradient_of_its_surrogate(reset, update, L):
    rng = np.random.default_rng(11 + L)
    net = _net(rng, reset=reset, update=update, L=L)
    xs = rng.normal(size=(5, 2, 2))
    ys = rng.normal(size=(5, 2, 2))
    for k in (1, 2, 3):
        _, grads, _ = net.bptt(net.params, xs, ys, loss="mse", truncate=k, reduction="sum")
        assert max(gradcheck(_surrogate(net, xs, ys, k), net.params, grads)) < 1e-6
    full = net.bptt(net.params, xs, ys, loss="mse")[1]
    for g, h in zip(net.bptt(net.params, xs, ys, loss="mse", truncate=5)[1], full):
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("reset,update", CONVENTIONS)
def test_bidirectional_truncate_1_freezes_every_recurrent_input(reset, update):
    """BPTT(1): the exact gradient when each cell's h_{t-1} is a constant (both directions, 2 layers)."""
    rng = np.random.default_rng(21)
    net = _net(rng, reset=reset, update=update, L=2, bi=True)
    xs = rng.normal(size=(4, 1, 2))
    ys = rng.normal(size=(4, 1, 2))
    h0 = net._batch_h0(None, 1)[:, 0]
    frozen, _ = _ref_states(net.params, xs[:, 0], h0, reset, update)

    def f(q):
        _, top = _ref_states(q, xs[:, 0], h0, reset, update, frozen=frozen)
        return output_loss("mse", "identity", top @ q.V.T + q.c, ys[:, 0], reduction="sum")[0]
    _, grads, _ = net.bptt(net.params, xs, ys, loss="mse", truncate=1, reduction="sum")
    assert max(gradcheck(f, net.params, grads)) < 1e-6
    # zig-zag paths take up to L (T - 1) = 6 transitions: k = 6 still truncates, k = 7 is full
    full = net.bptt(net.params, xs, ys, loss="mse")[1]
    assert not np.allclose(net.bptt(net.params, xs, ys, loss="mse", truncate=6)[1].U0, full.U0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(net.bptt(net.params, xs, ys, loss="mse", truncate=7)[1].U0, full.U0)


# --- conventions ----------------------------------------------------------------------
def test_notes_with_negated_z_gate_equals_cho():
    rng = np.random.default_rng(3)
    for reset, L, bi in itertools.product(("after", "before"), (1, 2), (False, True)):
        cho = _net(rng, reset=reset, update="cho", L=L, bi=bi)
        notes = cho.with_conventions(update="notes")
        assert notes.update == "notes"
        H = cho.n_hidden
        np.testing.assert_array_equal(notes.params.W[..., H:2 * H, :], -cho.params.W[..., H:2 * H, :])
        np.testing.assert_array_equal(notes.params.W[..., :H, :], cho.params.W[..., :H, :])
        xs, ys = rng.normal(size=(6, 2, 2)), rng.normal(size=(6, 2, 2))
        a, b = cho.bptt(cho.params, xs, ys, loss="mse"), notes.bptt(notes.params, xs, ys, loss="mse")
        assert a[0] == pytest.approx(b[0], rel=1e-14)
        np.testing.assert_allclose(a[2]["h"], b[2]["h"], atol=1e-15)
        np.testing.assert_allclose(a[2]["gates"]["z"], 1 - b[2]["gates"]["z"], atol=1e-15)
        # the gradients map by the same sign flip
        np.testing.assert_allclose(a[1].b[..., H:2 * H], -b[1].b[..., H:2 * H], atol=1e-14)
        np.testing.assert_allclose(a[1].W[..., 2 * H:, :], b[1].W[..., 2 * H:, :], atol=1e-14)


def test_the_reset_placements_differ_and_coincide_without_recurrent_candidate():
    rng = np.random.default_rng(4)
    after = _net(rng, reset="after")
    before = GRU(after.params, reset="before")
    xs = rng.normal(size=(5, 3, 2))
    assert not np.allclose(after.forward(after.params, xs)[0], before.forward(before.params, xs)[0])
    p = after.params._replace(W=after.params.W.copy())
    p.W[..., 4:, :] = 0.0  # W_n = 0: r * bh_n (after) vs bh_n (before) still differ unless bh_n = 0
    p = p._replace(bh=p.bh.copy())
    p.bh[..., 4:] = 0.0
    np.testing.assert_array_equal(GRU(p, reset="after").forward(p, xs)[0], GRU(p, reset="before").forward(p, xs)[0])


# --- PyTorch layout ---------------------------------------------------------------------
def test_state_dict_round_trip_is_exact():
    rng = np.random.default_rng(5)
    for (reset, update), L, bi in itertools.product(CONVENTIONS, (1, 3), (False, True)):
        net = _net(rng, reset=reset, update=update, L=L, bi=bi, I=3, H=4, K=2)
        sd = net.state_dict(raw=True)
        D = 2 if bi else 1
        assert sd["weight_ih_l0"].shape == (12, 3) and sd["weight_hh_l0"].shape == (12, 4)
        if L > 1:
            assert sd[f"weight_ih_l{L - 1}"].shape == (12, 4 * D)
        assert ("weight_hh_l0_reverse" in sd) == bi and f"bias_hh_l{L}" not in sd
        back = GRU.from_state_dict(sd, reset=reset, update=update)
        for a, b in zip(back.params, net.params, strict=True):
            np.testing.assert_array_equal(a, b)
        if reset == "after":  # the torch-equivalent dict computes the same function as a cho GRU
            twin = GRU.from_state_dict(net.state_dict())
            xs = rng.normal(size=(5, 2, 3))
            np.testing.assert_allclose(twin.forward(twin.params, xs)[1], net.forward(net.params, xs)[1],
                                       rtol=0, atol=1e-14)
        else:
            with pytest.raises(ValueError, match="reset"):
                net.state_dict()
    with pytest.raises(ValueError, match="unknown"):
        GRU.from_state_dict({**sd, "weight_ih_l9_x": np.zeros(1)})


def test_torch_gru_same_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for L, bi in itertools.product((1, 2), (False, True)):
        torch.manual_seed(L + 2 * bi)
        g = torch.nn.GRU(3, 4, num_layers=L, bidirectional=bi).double()
        D = 2 if bi else 1
        net = GRU.from_state_dict({k: v.detach().numpy() for k, v in g.state_dict().items()},  # no out.*
                                  V=rng.normal(size=(2, D * 4)), c=rng.normal(size=2))
        xs, ys, h0 = rng.normal(size=(7, 3, 3)), rng.normal(size=(7, 3, 2)), rng.normal(size=(L * D, 3, 4))
        out, _ = g(torch.tensor(xs), torch.tensor(h0))
        V = torch.tensor(net.params.V, requires_grad=True)
        c = torch.tensor(net.params.c, requires_grad=True)
        loss = ((out @ V.T + c - torch.tensor(ys)) ** 2).mean()
        loss.backward()
        value, grads, trace = net.bptt(net.params, xs, ys, h0, loss="mse")
        np.testing.assert_allclose(trace["h"], out.detach().numpy(), rtol=0, atol=1e-10)
        assert value == pytest.approx(loss.item(), abs=1e-10)
        tg = GRU.from_state_dict({k: getattr(g, k).grad.numpy() for k in g.state_dict()},
                                 V=V.grad.numpy(), c=c.grad.numpy()).params
        for a, b in zip(tg, grads, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


# --- numba kernel --------------------------------------------------------------------
@pytest.mark.parametrize("reset,update", CONVENTIONS)
def test_kernel_equals_numpy_twin(reset, update):
    rng = np.random.default_rng(8)
    for (output, loss), m2o in itertools.product(
            [("identity", "mse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"), ("sigmoid", "mse")],
            (False, True)):
        net = _net(rng, reset=reset, update=update, I=3, H=5, K=4, output=output)
        B = 3 if m2o else 9  # the kernel's per-step products: a loop nest below 8 rows, BLAS above
        xs = rng.normal(size=(7, B, 3))
        shape = (B,) if m2o else (7, B)
        ys = {"identity": rng.normal(size=shape + (4,)), "sigmoid": rng.random(shape + (4,)),
              "softmax": rng.dirichlet(np.ones(4), size=shape)}[output]
        h0 = rng.normal(size=(B, 5))
        for reduction in ("mean", "sum"):
            a = net.bptt(net.params, xs, ys, h0, loss=loss, reduction=reduction)
            b = net.bptt(net.params, xs, ys, h0, loss=loss, reduction=reduction, fast=True)
            assert b[0] == pytest.approx(a[0], rel=1e-12, abs=1e-14)
            for ga, gb in zip(a[1], b[1], strict=True):
                assert ga.shape == gb.shape
                np.testing.assert_allclose(gb, ga, rtol=0, atol=1e-12)
            for key in ("dh_norm", "h"):
                np.testing.assert_allclose(b[2][key], a[2][key], rtol=0, atol=1e-12)
            for gate in "rzn":
                np.testing.assert_allclose(b[2]["gates"][gate], a[2]["gates"][gate], rtol=0, atol=1e-12)


def test_kernel_float32_and_fallback():
    rng = np.random.default_rng(9)
    net = _net(rng, H=6, I=3, K=2, r=0.5)
    xs, ys = rng.normal(size=(20, 4, 3)), rng.normal(size=(20, 4, 2))
    ref = net.bptt(net.params, xs, ys, loss="mse")
    p32 = GRUTrainParams(*(a.astype(np.float32) for a in net.params))
    v32, g32, tr32 = net.bptt(p32, xs.astype(np.float32), ys, loss="mse", fast=True)
    assert all(g.dtype == np.float32 for g in g32) and tr32["h"].dtype == np.float32
    assert v32 == pytest.approx(ref[0], rel=1e-5)
    for a, b in zip(g32, ref[1]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * max(1.0, np.abs(b).max(initial=0)))
    # unsupported by the kernel (two layers, truncation, MAE): the numpy path, same numbers
    deep = _net(rng, L=2, I=3, K=2)
    for n, kw in ((deep, {}), (net, {"truncate": 3}), (net, {"loss": "mae"})):
        kw = {"loss": "mse", **kw}
        a = n.bptt(n.params, xs, ys, **kw)
        b = n.bptt(n.params, xs, ys, fast=True, **kw)
        assert a[0] == b[0]


# --- U1: the gate limits (SCENARIOS.md section 8) ------------------------------------
@pytest.mark.parametrize("reset", ["after", "before"])
@pytest.mark.parametrize("fast", [False, True])
def test_z_gate_limit_copies_the_state_exactly(reset, fast):
    """Cho convention, z = sigma(1000) = 1.0 exactly (z weights zero): h_T = h_0 for any T."""
    rng = np.random.default_rng(10)
    for update, bias in (("cho", 1000.0), ("notes", -1000.0)):
        net = _net(rng, reset=reset, update=update, H=4, I=3, K=1, r=1.0)
        p = net.params
        U0, W, b = p.U0.copy(), p.W.copy(), p.b.copy()
        U0[..., 4:8, :] = 0.0
        W[..., 4:8, :] = 0.0
        b[..., 4:8] = bias
        p = p._replace(U0=U0, W=W, b=b)
        xs = rng.normal(size=(2000, 2, 3))
        h0 = rng.normal(size=(2, 4))
        _, _, trace = net.bptt(p, xs, np.zeros((2, 1)), h0, loss="mse", fast=fast)
        assert np.all(trace["gates"]["z"] == (1.0 if update == "cho" else 0.0))
        np.testing.assert_array_equal(trace["h"], np.broadcast_to(h0, (2000, 2, 4)))


@pytest.mark.parametrize("reset", ["after", "before"])
def test_reset_zero_makes_the_candidate_ignore_the_past(reset):
    rng = np.random.default_rng(12)
    net = _net(rng, reset=reset, H=4, I=3, K=1, r=1.0)
    b = net.params.b.copy()
    b[..., :4] = -1000.0  # r = sigma(-1000) = 0 exactly
    p = net.params._replace(b=b, U0=net.params.U0.copy())
    p.U0[..., :4, :] = 0.0
    xs = rng.normal(size=(30, 1, 3))
    h0s = (rng.normal(size=(1, 4)), 5 * rng.normal(size=(1, 4)))
    for fast in (False, True):
        a, b = (net.bptt(p, xs, np.zeros((1, 1)), h0, loss="mse", fast=fast)[2] for h0 in h0s)
        assert np.all(a["gates"]["r"] == 0.0)
        np.testing.assert_array_equal(a["gates"]["n"], b["gates"]["n"])  # same candidates whatever the past
        assert not np.allclose(a["h"], b["h"])  # while the states differ (z mixes in h_{t-1})


# --- the engine and the interface --------------------------------------------------------
def test_step_and_simulate_follow_forward():
    import sim
    rng = np.random.default_rng(13)
    net = _net(rng, L=2, reset="before", update="notes", H=3)
    xs = rng.normal(size=(10, 2))
    top, _ = net.forward(net.params, xs)
    s = net.init_state(rng=rng)
    for t in range(10):
        s = net.step(s, xs[t])
        np.testing.assert_allclose(s.h[3:], top[t], atol=1e-15)
    tr = sim.simulate(net, ticks=10, inputs=xs, schedule="clocked", rng=1)
    np.testing.assert_allclose(tr.states["h"][-1], s.h, atol=1e-12)
    with pytest.raises(ValueError, match="bidirectional"):
        _net(rng, bi=True).step(GRUState(np.zeros(4)), xs[0])


def test_bad_configuration_raises():
    rng = np.random.default_rng(14)
    with pytest.raises(ValueError, match="reset"):
        _net(rng, reset="middle")
    with pytest.raises(ValueError, match="update"):
        GRU(_net(rng).params, update="z")
    net = _net(rng)
    with pytest.raises(ValueError, match="state0"):
        net.forward(net.params, np.zeros((3, 2, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="truncate"):
        net.bptt(net.params, np.zeros((3, 2, 2)), np.zeros((3, 2, 2)), loss="mse", truncate=0)
    with pytest.raises(ValueError, match="W must"):
        GRU(net.params._replace(W=np.zeros((1, 1, 5, 2))))


def test_fit_trains_a_gru():
    from sim.train import Adam, fit
    rng = np.random.default_rng(15)
    net = GRU.from_config({"n_inputs": 1, "n_hidden": 8, "n_outputs": 1}, rng=rng)
    xs = rng.integers(0, 2, size=(6, 64, 1)).astype(float)
    ys = xs[0]  # many-to-one: recall the first bit after six steps
    res = fit(net, net.params, xs, ys, loss="mse", optimizer=Adam(0.03), epochs=60, batch_size=16, rng=rng)
    assert res.loss[-1] < 0.05 * res.loss[0]


def test_gate_trace_kernel_equals_numpy_and_bptt_trace():
    rng = np.random.default_rng(16)
    for reset, update in CONVENTIONS:
        net = _net(rng, reset=reset, update=update, H=4, I=3, K=1)
        xs, h0 = rng.normal(size=(12, 3, 3)), rng.normal(size=(3, 4))
        slow = net.gate_trace(net.params, xs, h0)
        fast = net.gate_trace(net.params, xs, h0, fast=True)
        ref = net.bptt(net.params, xs, np.zeros((3, 1)), h0, loss="mse")[2]
        np.testing.assert_array_equal(slow["h"], ref["h"])
        np.testing.assert_allclose(fast["h"], slow["h"], rtol=0, atol=1e-12)
        for g in "rzn":
            np.testing.assert_array_equal(slow["gates"][g], ref["gates"][g])
            np.testing.assert_allclose(fast["gates"][g], slow["gates"][g], rtol=0, atol=1e-12)
    deep = _net(rng, L=2, bi=True)
    tr = deep.gate_trace(deep.params, rng.normal(size=(5, 2)), fast=True)  # falls back to numpy
    assert tr["h"].shape == (5, 4) and tr["gates"]["r"].shape == (5, 4)


# --- state gradients (the encoder-decoder protocol of nets.seq2seq) ------------------------
@pytest.mark.parametrize("reset,update,L,bi,with_ys", [
    ("after", "cho", 1, False, True),
    ("before", "notes", 1, False, False),  # no loss terms of its own: an encoder
    ("before", "cho", 2, False, True),
    ("after", "notes", 1, True, True),
    ("after", "cho", 2, True, True),
])
def test_state_gradient_and_dh_final_match_finite_differences(reset, update, L, bi, with_ys):
    """trace dh0 = dJ/dh0 and the weights' gradient of J = loss + <G, h_n> with dh_final=G."""
    rng = np.random.default_rng(41)
    net = _net(rng, reset=reset, update=update, L=L, bi=bi, H=3)
    LD, B = L * (2 if bi else 1), 2
    xs, ys = rng.normal(size=(4, B, 2)), rng.normal(size=(4, B, 2)) if with_ys else None
    h0, G = rng.normal(size=(LD, B, 3)), rng.normal(size=(LD, B, 3))

    def J(q, s):
        value = 0.0
        if ys is not None:
            h = net.forward(q, xs, s)[0]
            value = output_loss("mse", "identity", h @ q.V.T + q.c, ys)[0]
        return value + float(np.sum(G * net.final_state(q, xs, s)))
    value, grads, trace = net.bptt(net.params, xs, ys, h0, loss="mse", dh_final=G)
    assert value == (0.0 if ys is None else net.bptt(net.params, xs, ys, h0, loss="mse")[0])  # the loss alone
    assert max(gradcheck(lambda q: J(q, h0), net.params, grads)) < 1e-6
    assert trace["dh0"].shape == (LD, B, 3)
    assert gradcheck(lambda s: J(net.params, s), h0, trace["dh0"])[0] < 1e-6


@pytest.mark.parametrize("reset,update", CONVENTIONS)
@pytest.mark.parametrize("L", [1, 2])
def test_truncated_state_gradient_is_that_of_the_first_steps(reset, update, L):
    """BPTT(k) into h0 of a unidirectional stack: a loss term at step s reaches any initial
    state through s + 1 transitions (moving down a layer takes none), so only s <= k - 2
    count, each completely; dh_final needs k >= T + 1. Oracle: full BPTT on the first
    k - 1 steps (sum reduction). k = T is the case where the weights' gradient is already
    the full one but the paths into h0 are one transition longer."""
    rng = np.random.default_rng(43 + L)
    net = _net(rng, reset=reset, update=update, L=L)
    T, B = 4, 2
    xs, ys = rng.normal(size=(T, B, 2)), rng.normal(size=(T, B, 2))
    h0, G = rng.normal(size=(L, B, 2)), rng.normal(size=(L, B, 2))
    for k in range(1, T + 3):
        _, grads, tr = net.bptt(net.params, xs, ys, h0, loss="mse", truncate=k, reduction="sum", dh_final=G)
        if k == 1:
            ref = np.zeros((L, B, 2))
        elif k <= T:
            ref = net.bptt(net.params, xs[:k - 1], ys[:k - 1], h0, loss="mse", reduction="sum")[2]["dh0"]
        else:
            ref = net.bptt(net.params, xs, ys, h0, loss="mse", reduction="sum", dh_final=G)[2]["dh0"]
        np.testing.assert_allclose(tr["dh0"], ref, rtol=1e-12, atol=1e-14, err_msg=f"k={k}")
    assert np.linalg.norm(ref) > 1e-3


def test_bidirectional_state_gradient_truncation_boundary():
    """Zig-zag paths into an initial state take up to L (T - 1) + 1 transitions: k = L (T - 1) + 1
    keeps the full weights' gradient (exactly) but drops the longest paths into h0; k one
    larger is full BPTT for dh0 too (exactly)."""
    rng = np.random.default_rng(47)
    net = _net(rng, L=2, bi=True)
    xs, ys = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))
    _, full, t_full = net.bptt(net.params, xs, ys, loss="mse")
    _, g7, t7 = net.bptt(net.params, xs, ys, loss="mse", truncate=7)
    _, _, t8 = net.bptt(net.params, xs, ys, loss="mse", truncate=8)
    for a, b in zip(g7, full):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(t7["dh0"], t_full["dh0"], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(t8["dh0"], t_full["dh0"])


@pytest.mark.parametrize("L,bi", [(2, False), (1, True)])
def test_final_state_is_torch_h_n(L, bi):
    """Every cell's last processed state (t = 0 for a reverse cell), (L*D, B, H); it continues the sequence."""
    rng = np.random.default_rng(49)
    net = _net(rng, L=L, bi=bi, H=3)
    xs = rng.normal(size=(5, 2, 2))
    hn = net.final_state(net.params, xs)
    assert hn.shape == (L * net.n_dirs, 2, 3)
    top = net.forward(net.params, xs)[0]
    np.testing.assert_array_equal(hn[-1], top[0, :, 3:] if bi else top[-1])
    if bi:
        np.testing.assert_array_equal(hn[0], top[-1, :, :3])
    else:
        ref = [_ref_states(net.params, xs[:, b], np.zeros((L, 3)), "after", "cho")[0] for b in range(2)]
        np.testing.assert_allclose(hn, [[r[k][0][-1] for r in ref] for k in range(L)], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(net.forward(net.params, xs[2:], net.final_state(net.params, xs[:2]))[1],
                                   net.forward(net.params, xs)[1][2:], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(net.final_state(net.params, xs[:, 1]), hn[:, 1], rtol=1e-13, atol=1e-15)  # (L*D, H)


def test_kernel_falls_back_only_for_state_gradients():
    rng = np.random.default_rng(51)
    net = _net(rng)
    xs, ys, G = rng.normal(size=(5, 2, 2)), rng.normal(size=(5, 2, 2)), rng.normal(size=(2, 2))
    _, g_fast, t_fast = net.bptt(net.params, xs, ys, loss="mse", fast=True)
    _, g_np, t_np = net.bptt(net.params, xs, ys, loss="mse")
    assert "dh0" not in t_fast and t_np["dh0"].shape == (1, 2, 2)
    for a, b in zip(g_fast, g_np):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for targets in (ys, None):
        v1, g1, t1 = net.bptt(net.params, xs, targets, loss="mse", fast=True, dh_final=G)
        v2, g2, t2 = net.bptt(net.params, xs, targets, loss="mse", dh_final=G[None])
        assert v1 == v2
        for a, b in zip(g1, g2):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(t1["dh0"], t2["dh0"])
    with pytest.raises(ValueError, match="dh_final must have shape"):
        net.bptt(net.params, xs, ys, loss="mse", dh_final=np.zeros((2, 2, 2)))


@pytest.mark.parametrize("reset", ["after", "before"])
def test_kernel_scratch_reuse_leaves_earlier_results_alone(reset):
    # the fast path keeps its scratch between calls (nets._kernels.workspace): a later call, with
    # the same or other shapes, must not touch what an earlier call returned, and repeats are exact
    rng = np.random.default_rng(31)
    net = _net(rng, reset=reset, I=3, H=5, K=2)
    x1, y1 = rng.normal(size=(6, 9, 3)), rng.normal(size=(6, 9, 2))
    x2, y2 = rng.normal(size=(6, 9, 3)), rng.normal(size=(6, 9, 2))
    first = net.bptt(net.params, x1, y1, loss="mse", fast=True)
    kept = [a.copy() for a in first[1]] + [first[2]["h"].copy(), first[2]["dh_norm"].copy()]
    net.bptt(net.params, x2, y2, loss="mse", fast=True)
    net.bptt(net.params, x2[:3, :2], y2[:3, :2], loss="mse", fast=True)
    again = net.bptt(net.params, x1, y1, loss="mse", fast=True)
    for a, b in zip(kept, list(first[1]) + [first[2]["h"], first[2]["dh_norm"]]):
        np.testing.assert_array_equal(a, b)
    assert again[0] == first[0]
    for a, b in zip(first[1], again[1]):
        np.testing.assert_array_equal(a, b)
