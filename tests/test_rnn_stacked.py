"""Stacked / bidirectional vanilla RNN (nets.rnn_stack through nets.rnn.RNN): finite-difference
gradients for every depth, direction, activation, arrangement and truncation; the truncated
gradient against its surrogate definition; dL/dh0 and the injected final-state gradient;
torch.nn.RNN agreement (when torch is installed); the state-dict round trip."""
import numpy as np
import pytest

from nets.rnn import RNN, RNNStackParams, RNNTrainParams

I, H, K, T, B = 2, 3, 2, 4, 2


def _net(L, D, act="tanh", output="identity", seed=0):
    cfg = {"n_inputs": I, "n_hidden": H, "n_outputs": K, "n_layers": L, "bidirectional": D == 2,
           "activation": act, "output": output, "init": "uniform", "init_range": 0.6}
    return RNN.from_config(cfg, rng=np.random.default_rng(seed))


def _data(seed=1, many_to_one=False, output="identity"):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, B, I))
    shape = (B, K) if many_to_one else (T, B, K)
    ys = rng.uniform(size=shape)
    if output == "softmax":
        ys = ys / ys.sum(axis=-1, keepdims=True)
    return xs, ys


def _fd(fun, params, eps=1e-6):
    out = []
    for i, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [np.array(q) for q in params]
            minus = [np.array(q) for q in params]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (fun(type(params)(*plus)) - fun(type(params)(*minus))) / (2 * eps)
        out.append(g)
    return type(params)(*out)


def _rel(a, b):
    a = np.concatenate([np.ravel(x) for x in a])
    b = np.concatenate([np.ravel(x) for x in b])
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("L,D,act,loss,output,m2o", [
    (2, 1, "tanh", "mse", "identity", False),
    (2, 2, "tanh", "mse", "identity", False),
    (1, 2, "relu", "mae", "identity", True),
    (3, 2, "sigmoid", "bce", "sigmoid", False),
    (2, 2, "tanh", "cross_entropy", "softmax", True),
])
def test_stack_gradient_matches_finite_differences(L, D, act, loss, output, m2o):
    net = _net(L, D, act, output)
    xs, ys = _data(many_to_one=m2o, output=output)
    p = net.train_params()
    assert isinstance(p, RNNStackParams)
    value, grads, trace = net.bptt(p, xs, ys, loss=loss)
    fd = _fd(lambda q: net.bptt(q, xs, ys, loss=loss)[0], p)
    assert _rel(grads, fd) < 1e-6
    assert trace["h"].shape == (T, B, D * H) and trace["dh_norm"].shape == (T,)
    assert np.isclose(value, net.bptt(p, xs, ys, loss=loss)[0])


@pytest.mark.parametrize("L,D", [(1, 1), (2, 1), (2, 2)])
def test_dh0_and_injected_final_gradient_match_finite_differences(L, D):
    """trace['dh0'] = dL/d state0, with an extra linear term <G, h_final> (dh_final = G)."""
    net = _net(L, D)
    xs, ys = _data()
    p = net.train_params()
    rng = np.random.default_rng(5)
    shape = (B, H) if L * D == 1 else (L * D, B, H)
    h0 = rng.normal(size=shape) * 0.5
    G = rng.normal(size=shape)

    def total(s0):
        return net.bptt(p, xs, ys, s0, loss="mse")[0] + np.sum(G * net.final_state(p, xs, s0))

    _, grads, trace = net.bptt(p, xs, ys, h0, loss="mse", dh_final=G)
    fd = np.zeros_like(h0)
    for idx in np.ndindex(h0.shape):
        a, b = h0.copy(), h0.copy()
        a[idx] += 1e-6
        b[idx] -= 1e-6
        fd[idx] = (total(a) - total(b)) / 2e-6
    assert np.linalg.norm(trace["dh0"] - fd) / np.linalg.norm(fd) < 1e-6
    # the parameter gradient includes the extra term too
    fdp = _fd(lambda q: net.bptt(q, xs, ys, h0, loss="mse")[0] + np.sum(G * net.final_state(q, xs, h0)), p)
    assert _rel(grads, fdp) < 1e-6
    # final_state is torch's h_n: the forward cell's last step, the reverse cell's state at t = 0
    top, _ = net.forward(p, xs, h0)
    hn = net.final_state(p, xs, h0)
    hn = hn if L * D > 1 else hn[None]  # the single-layer net's state is (B, H)
    assert np.array_equal(hn[-D], top[-1, :, :H])
    if D == 2:
        assert np.array_equal(hn[-1], top[0, :, H:])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncated_stack_is_the_surrogate_gradient(k):
    """BPTT(k) of a unidirectional stack = full gradient of the surrogate whose term s runs
    the whole stack k steps from the frozen states at step s - k (module docstring)."""
    from nets.rnn_stack import stack_forward
    net = _net(2, 1)
    xs, ys = _data()
    p = net.train_params()
    _, grads, _ = net.bptt(p, xs, ys, loss="mse", truncate=k, reduction="sum")
    _, caches = stack_forward(p, xs, np.zeros((2, B, H)), "tanh")
    surrogate = [np.zeros_like(a) for a in p]
    for s in range(T):
        s0 = max(s - k + 1, 0)
        frozen = np.stack([caches[l][0]["hs"][s0] for l in range(2)])  # the states before step s0
        _, g, _ = net.bptt(p, xs[s0:s + 1], ys[s], frozen, loss="mse", reduction="sum")  # term s only
        surrogate = [a + b for a, b in zip(surrogate, g)]
    assert _rel(grads, surrogate) < 1e-12
    # k >= T is full BPTT
    full = net.bptt(p, xs, ys, loss="mse")[1]
    assert _rel(net.bptt(p, xs, ys, loss="mse", truncate=T)[1], full) < 1e-14


def test_bidirectional_full_truncation_bound():
    net = _net(2, 2)
    xs, ys = _data()
    p = net.train_params()
    full = net.bptt(p, xs, ys, loss="mse")[1]
    assert _rel(net.bptt(p, xs, ys, loss="mse", truncate=2 * (T - 1) + 1)[1], full) < 1e-14
    assert _rel(net.bptt(p, xs, ys, loss="mse", truncate=2)[1], full) > 1e-3


def test_single_layer_unchanged_and_from_stack():
    cfg = {"n_inputs": I, "n_hidden": H, "n_outputs": K, "init": "uniform", "init_range": 0.5}
    a = RNN.from_config(cfg, rng=np.random.default_rng(3))
    b = RNN.from_config({**cfg, "n_layers": 1, "bidirectional": False}, rng=np.random.default_rng(3))
    assert isinstance(a.train_params(), RNNTrainParams) and a.stack_params is None
    for x, y in zip(a.train_params(), b.train_params()):
        assert np.array_equal(x, y)
    p = a.train_params()
    one = RNN.from_stack(RNNStackParams(p.U[None], np.zeros((0, 1, H, H)), p.W[None, None], p.b[None, None],
                                        p.V, p.c))
    assert one.stack_params is None
    xs, ys = _data()
    assert np.array_equal(one.bptt(one.train_params(), xs, ys, loss="mse")[1].W,
                          a.bptt(p, xs, ys, loss="mse")[1].W)


def test_unidirectional_stack_steps_like_forward():
    net = _net(3, 1)
    xs, _ = _data()
    h, _ = net.forward(net.train_params(), xs[:, 0])
    state = net.init_state(rng=np.random.default_rng(0))
    for t in range(T):
        state = net.step(state, xs[t, 0])
    assert np.allclose(state.h[-H:], h[-1], atol=1e-14)
    with pytest.raises(ValueError, match="bidirectional"):
        _net(2, 2).step(state, xs[0, 0])


def test_bad_stack_shapes_raise():
    p = _net(2, 2).train_params()
    with pytest.raises(ValueError, match="U must have shape"):
        RNN.from_stack(p._replace(U=np.zeros((1, 2, H, H))))
    with pytest.raises(ValueError, match="state0"):
        _net(2, 2).forward(p, _data()[0], np.zeros(5))


def test_state_dict_round_trip():
    net = _net(2, 2, "relu")
    sd = net.state_dict()
    assert sd["weight_ih_l1_reverse"].shape == (H, 2 * H)
    back = RNN.from_state_dict(sd, activation="relu")
    for x, y in zip(net.train_params(), back.train_params()):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_matches_torch_rnn_two_layers_bidirectional(act):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(I, H, num_layers=2, bidirectional=True, nonlinearity=act).double()
    out = torch.nn.Linear(2 * H, K).double()
    sd = {k: v.detach().numpy() for k, v in rnn.state_dict().items()}
    sd.update({"out.weight": out.weight.detach().numpy(), "out.bias": out.bias.detach().numpy()})
    net = RNN.from_state_dict(sd, activation=act)
    xs, ys = _data()
    h0 = np.random.default_rng(2).normal(size=(4, B, H)) * 0.3
    xt = torch.tensor(xs, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    top, _ = rnn(xt, h0t)
    loss = ((out(top) - torch.tensor(ys)) ** 2).mean()
    loss.backward()
    value, grads, trace = net.bptt(net.train_params(), xs, ys, h0, loss="mse")
    assert np.allclose(trace["h"], top.detach().numpy(), atol=1e-12)
    assert np.isclose(value, loss.item(), rtol=1e-12)  # both: mean of (y - t)^2 over T*B*K
    scale = 1.0
    assert np.allclose(grads.W[1, 1] * scale, rnn.weight_hh_l1_reverse.grad.numpy(), atol=1e-12)
    assert np.allclose(grads.U0[1] * scale, rnn.weight_ih_l0_reverse.grad.numpy(), atol=1e-12)
    assert np.allclose(grads.U[0, 0] * scale, rnn.weight_ih_l1.grad.numpy(), atol=1e-12)
    assert np.allclose(grads.b[0, 0] * scale, rnn.bias_ih_l0.grad.numpy(), atol=1e-12)
    assert np.allclose(grads.b[0, 0] * scale, rnn.bias_hh_l0.grad.numpy(), atol=1e-12)
    assert np.allclose(grads.V * scale, out.weight.grad.numpy(), atol=1e-12)
    assert np.allclose(trace["dh0"] * scale, h0t.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_truncated_bidirectional_layer_is_two_truncated_single_cells(k):
    """One bidirectional layer: each direction's BPTT(k) gradient is the single-layer net's
    BPTT(k) (tests/test_rnn_bptt.py) of that cell on its own time order, given dL/dz."""
    from nets.rnn import backward_sequence, forward_sequence
    net = _net(1, 2)
    xs, ys = _data()
    p = net.train_params()
    _, grads, _ = net.bptt(p, xs, ys, loss="mse", truncate=k)
    y = net.forward(p, xs)[1]
    dz = 2.0 * (y - ys) / ys.size
    for d in range(2):
        cell = RNNTrainParams(p.W[0, d], p.U0[d], p.b[0, d], p.V[:, d * H:(d + 1) * H], p.c)
        x_d, dz_d = (xs, dz) if d == 0 else (xs[::-1], dz[::-1])
        hs, a = forward_sequence(cell, x_d, np.zeros((B, H)), "tanh")
        g, _ = backward_sequence(cell, x_d, hs, a, dz_d, "tanh", k)
        assert np.allclose(grads.W[0, d], g.W, rtol=1e-12, atol=1e-15)
        assert np.allclose(grads.U0[d], g.U, rtol=1e-12, atol=1e-15)
        assert np.allclose(grads.b[0, d], g.b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("k", [1, 2, 3, T, T + 1, T + 3])
def test_single_layer_truncated_dh0_keeps_the_paths_of_at_most_k_cell_applications(k):
    """dL/dh0 under BPTT(k): a loss term at step s reaches h0 through s + 1 cell
    applications, so exactly the terms s <= k - 2 contribute (the LSTM's definition); with
    k > T every term does and dh0 equals the full-BPTT value."""
    net = _net(1, 1)
    xs, ys = _data()
    p = net.train_params()
    h0 = np.random.default_rng(7).normal(size=(B, H)) * 0.5
    _, _, trace = net.bptt(p, xs, ys, h0, loss="mse", reduction="sum", truncate=k)
    # the same sum of per-term gradients, term by term, from the full gradient of each prefix
    want = np.zeros((B, H))
    for s in range(min(k - 1, T)):
        # loss term s alone = the many-to-one loss of the prefix x_0 .. x_s, fully backpropagated
        _, _, tr = net.bptt(p, xs[:s + 1], ys[s], h0, loss="mse", reduction="sum")
        want += tr["dh0"]
    assert np.allclose(trace["dh0"], want, atol=1e-13, rtol=1e-12)
    if k > T:
        _, _, full = net.bptt(p, xs, ys, h0, loss="mse", reduction="sum")
        assert np.allclose(trace["dh0"], full["dh0"], atol=1e-13, rtol=1e-12)
