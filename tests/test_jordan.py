"""Jordan net: finite-difference gradients with and without teacher forcing, truncation,
the reference step vs the batched forward pass and the numba rollout, validation."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import sim
from nets.jordan import Jordan, JordanParams, JordanState
from sim.train import gradcheck

_CFG = {"n_inputs": 3, "n_hidden": 4, "n_outputs": 2, "activation": "sigmoid", "output": "sigmoid",
        "init": "uniform", "init_range": 1.0, "mu": 0.5, "state_init": 0.0, "teacher_forcing": True}


def _net(seed=0, **kw):
    return Jordan.from_config({**_CFG, **kw}, rng=np.random.default_rng(seed))


def _data(seed, T=5, B=3, I=3, K=2, out="sigmoid"):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, B, I))
    ys = rng.random((T, B, K))
    if out == "softmax":
        ys = ys / ys.sum(axis=-1, keepdims=True)
    return xs, ys


def _loss_fn(net, xs, ys, **kw):
    return lambda p: net.bptt(p, xs, ys, loss=kw.pop("loss", "mse"), **kw)[0]


CASES = [("sigmoid", "sigmoid", "mse"), ("tanh", "identity", "mse"), ("sigmoid", "sigmoid", "bce"),
         ("tanh", "softmax", "cross_entropy"), ("relu", "softmax", "mse")]


@pytest.mark.parametrize("act,out,loss", CASES)
@pytest.mark.parametrize("tf", [True, False])
def test_bptt_matches_finite_differences(act, out, loss, tf):
    net = _net(1, activation=act, output=out, mu=0.7, state_init=0.2)
    xs, ys = _data(2, out=out)
    p = net.train_params()
    value, grads, trace = net.bptt(p, xs, ys, loss=loss, teacher_forcing=tf)
    errs = gradcheck(lambda q: net.bptt(q, xs, ys, loss=loss, teacher_forcing=tf)[0], p, grads, eps=1e-6)
    assert max(errs) < 1e-6, errs
    assert trace["dh_norm"].shape == (5,) and np.all(trace["dh_norm"] > 0)


def test_free_running_many_to_one_matches_finite_differences():
    net = _net(3, teacher_forcing=False)
    xs, ys = _data(4)
    p = net.train_params()
    _, grads, _ = net.bptt(p, xs, ys[-1], loss="mse")
    errs = gradcheck(lambda q: net.bptt(q, xs, ys[-1], loss="mse")[0], p, grads, eps=1e-6)
    assert max(errs) < 1e-6, errs
    with pytest.raises(ValueError, match="teacher forcing needs a target at every step"):
        net.bptt(p, xs, ys[-1], loss="mse", teacher_forcing=True)


def test_teacher_forcing_gradient_differs_from_free_running_and_uses_targets_as_state():
    net = _net(5)
    xs, ys = _data(6)
    p = net.train_params()
    _, g_tf, tr_tf = net.bptt(p, xs, ys, loss="mse", teacher_forcing=True)
    _, g_fr, tr_fr = net.bptt(p, xs, ys, loss="mse", teacher_forcing=False)
    assert not np.allclose(g_tf.W, g_fr.W)
    # teacher forcing: s_t = mu s_{t-1} + target_{t-1}; free running: ... + y_{t-1}
    np.testing.assert_allclose(tr_tf["s"][1:], 0.5 * tr_tf["s"][:-1] + ys[:-1], atol=1e-15)
    np.testing.assert_allclose(tr_fr["s"][1:], 0.5 * tr_fr["s"][:-1] + tr_fr["y"][:-1], atol=1e-15)


def test_truncation():
    """truncate >= T is full BPTT; truncate = 1 is the teacher-forced gradient with the
    net's own free-running outputs as the teacher; truncate = 2 is the exact gradient of the
    surrogate whose term u runs 2 steps from the frozen free-running state s_{u-1}."""
    net = _net(7, teacher_forcing=False, mu=0.8)
    xs, ys = _data(8, T=6)
    p = net.train_params()
    full = net.bptt(p, xs, ys, loss="mse")
    for a, b in zip(net.bptt(p, xs, ys, loss="mse", truncate=6)[1], full[1]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    own = net.run(p, xs).y  # forcing with the net's own outputs changes nothing forward
    t1 = net.bptt(p, xs, ys, loss="mse", truncate=1)
    np.testing.assert_allclose(net.run(p, xs, teacher=own).y, own, atol=1e-15)
    frozen_s = net.run(p, xs).s  # (T, B, K)

    def per_step(q):  # each step run from its frozen state: exactly the truncate=1 surrogate
        z = []
        for t in range(len(xs)):
            z.append(net.run(q, xs[t:t + 1], state0=frozen_s[t]).y[0])
        return float(np.mean((np.array(z) - ys) ** 2))

    errs = gradcheck(per_step, p, t1[1], eps=1e-6)
    assert max(errs) < 1e-6, errs

    def two_step(q):
        terms = []
        for u in range(len(xs)):
            lo = max(u - 1, 0)
            y = net.run(q, xs[lo:u + 1], state0=frozen_s[lo]).y[-1]
            terms.append((y - ys[u]) ** 2)
        return float(np.mean(terms))

    t2 = net.bptt(p, xs, ys, loss="mse", truncate=2)
    errs = gradcheck(two_step, p, t2[1], eps=1e-6)
    assert max(errs) < 1e-6, errs
    assert not np.allclose(t2[1].W, full[1].W) and not np.allclose(t2[1].W, t1[1].W)


def test_step_forward_and_rollout_agree():
    net = _net(9, activation="tanh", output="softmax", mu=0.6, state_init=0.1)
    rng = np.random.default_rng(10)
    xs = rng.normal(size=(12, 3))
    s = net.init_state(rng=rng)
    ref = []
    for x in xs:
        s = net.step(s, x)
        ref.append(s.s)
    run = net.run(net.train_params(), xs)
    np.testing.assert_allclose(run.s[1:], np.array(ref)[:-1], atol=1e-14)
    np.testing.assert_allclose(run.s_next, ref[-1], atol=1e-14)
    y, s_next = net.generate(net.train_params(), xs)
    np.testing.assert_allclose(y, run.y)
    for fast in (True, False):
        tr = sim.simulate(net, ticks=12, inputs=xs, schedule="clocked", rng=0, fast=fast, stop=False)
        np.testing.assert_allclose(tr.final.s, ref[-1], atol=1e-12)


def test_from_config_and_interface():
    net = _net(0)
    assert sim.get_net("jordan") is Jordan
    p = net.train_params()
    assert isinstance(p, JordanParams)
    assert [a.shape for a in p] == [(4, 2), (4, 3), (4,), (2, 4), (2,)]
    assert all(np.all(np.abs(a) <= 1.0) for a in p)
    assert type(net.with_params(p)) is Jordan and net.with_params(p).mu == 0.5
    xav = _net(0, init="xavier")
    np.testing.assert_array_equal(xav.params.b, 0.0)
    h, y = net.forward(p, np.zeros((4, 2, 3)))
    assert h.shape == (4, 2, 4) and y.shape == (4, 2, 2)
    assert net.describe()["kind"] == "jordan"
    np.testing.assert_array_equal(net.init_state(rng=np.random.default_rng(0)).s, [0.0, 0.0])


def test_fit_trains_a_jordan_net():
    """sim.train.fit drives it like any sequence net: two plans -> two 4-step sequences,
    teacher-forced training, checked in generation mode (own outputs fed back). Measured
    over init seeds 0-9 (500 epochs): 8 of 10 generate both sequences exactly, 2 end in a
    local minimum; so 2 of 3 seeds are required here."""
    xs = np.broadcast_to(np.eye(2)[None], (4, 2, 2)).copy()  # (T, N, I): constant plans
    ys = np.array([[[1, 0], [0, 1]], [[0, 1], [0, 1]], [[1, 1], [1, 0]], [[0, 0], [1, 1]]], dtype=float)
    ok = 0
    for seed in (1, 2, 3):
        net = _net(seed, n_inputs=2, n_hidden=6, n_outputs=2)
        res = sim.train.fit(net, net.train_params(), xs, ys, loss="bce", optimizer=sim.train.Adam(0.05),
                            epochs=500, rng=np.random.default_rng(0), batch_size=2)
        assert res.loss[-1] < 0.2 * res.loss[0]
        y, _ = net.generate(res.params, xs)
        ok += np.array_equal(y > 0.5, ys > 0.5)
    assert ok >= 2


def test_bad_input():
    net = _net(0)
    p = net.train_params()
    with pytest.raises(ValueError, match="xs must have shape"):
        net.forward(p, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="targets must have shape"):
        net.bptt(p, np.zeros((3, 1, 3)), np.zeros((3, 1, 5)), loss="mse")
    with pytest.raises(ValueError, match="truncate"):
        net.bptt(p, np.zeros((3, 1, 3)), np.zeros((3, 1, 2)), loss="mse", truncate=0)
    with pytest.raises(ValueError, match="W must"):
        Jordan(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="mu"):
        Jordan(np.zeros((3, 2)), np.zeros((3, 1)), mu=-1.0)
    with pytest.raises(ValueError, match="output"):
        Jordan(np.zeros((3, 2)), np.zeros((3, 1)), output="relu")
    with pytest.raises(ValueError, match="state0"):
        net.forward(p, np.zeros((3, 1, 3)), state0=np.zeros(5))
    with pytest.raises(ValueError, match="plan input"):
        net.step(JordanState(np.zeros(2)))


def test_state_init_half_gives_every_teacher_history_its_own_state():
    """Why J1 uses s_0 = 0.5 (scenario notes): with mu = 1/2 the teacher-forced state after
    the 0/1 history o_0 .. o_{t-1} is s_t = sum_j 2^-j o_{t-1-j} + 2^-(t+1) s_0 / (1/2): for
    s_0 = 1/2 a binary expansion ending in "01", distinct for every history (all 127 of
    length 0-6 here); for s_0 = 0 the empty history and every all-zero one share s = 0,
    so a sequence starting with an all-zero pattern asks two outputs of one input."""
    for s0, distinct in ((0.5, True), (0.0, False)):
        net = Jordan(np.zeros((1, 1)), np.zeros((1, 1)), mu=0.5, s0=[s0])
        states = []
        for n in range(7):
            for bits in itertools.product((0.0, 1.0), repeat=n):
                teacher = np.array(list(bits) + [0.0])[:, None]  # the last step's target is unused
                states.append(net.run(net.params, np.zeros((n + 1, 1)), teacher=teacher).s[n, 0])
        gaps = np.diff(np.sort(states))
        assert len(states) == 127 and (gaps.min() > 1e-3) == distinct
        if distinct:
            assert gaps.min() == pytest.approx(2.0 ** -7)  # the finest binary digit that differs


def test_plan_sequences_rule_keys():
    """The backprop rule's loss key (mse | bce) is validated by the scenario loader."""
    from sim.errors import ScenarioError
    from sim.scenario import load_scenario
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "scenarios" / "jordan_1986_plan_sequences.toml"
    assert load_scenario(path).config["train"]["loss"] == "bce"
    assert load_scenario(path, overrides=["train.loss=mse"]).config["train"]["loss"] == "mse"
    with pytest.raises(ScenarioError, match="loss"):
        load_scenario(path, overrides=["train.loss=mae"])
