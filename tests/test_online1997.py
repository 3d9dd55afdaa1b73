"""The online 1997 protocol (sim.protocols.online1997): success criteria on hand-made outputs,
the SGD step against a finite-difference gradient of the paper's error E = 1/2 sum (y - t)^2,
the reset of the state before every sequence, stopping at the first success, divergence,
and a tiny run of the scenario machinery (deterministic for a seed)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import get_net
from sim.errors import ScenarioError
from sim.protocols.online1997 import (evaluation_batches, max_error_below, noise_free_pair, reber_predicted,
                                      train_online, _evaluate)
from sim.scenario import load_scenario
from sim.sequence_tasks import encode_reber, noise_free_lags
from sim.sweep import run_scenario

L3 = "scenarios/hochreiter_1997_embedded_reber.toml"


def _lstm(seed=0, H=2):
    cfg = dict(n_inputs=7, n_hidden=H, n_outputs=7, output="sigmoid", variant="NFG", forget_gate=False,
               peepholes=False, cell_input="logistic2", cell_output="logistic1", init="uniform", init_range=0.2)
    return get_net("lstm").from_config(cfg, rng=np.random.default_rng(seed))


def test_reber_criterion_on_hand_made_outputs():
    xs, ys = encode_reber(["BTBTSXSETE", "BPBTSXSEPE"])          # (9, 2, 7)
    right = 0.1 + 0.8 * ys                                         # legal symbols above every other
    assert reber_predicted(right, ys).tolist() == [True, True]
    wrong = right.copy()
    t = 7                                                          # the remembered T/P of string 1 (after E)
    assert ys[t, 1].sum() == 1
    legal = int(np.argmax(ys[t, 1]))
    wrong[t, 1, (legal + 1) % 7] = 0.95                            # an illegal symbol beats the legal one
    assert reber_predicted(wrong, ys).tolist() == [True, False]
    tie = right.copy()
    tie[0, 0, :] = 0.5                                             # a tie is not a prediction
    assert reber_predicted(tie, ys).tolist() == [False, True]
    two = right.copy()                                             # a two-symbol step: both legal must lead
    t2 = int(np.flatnonzero(ys[:, 0].sum(axis=-1) == 2)[0])
    lo_legal = np.flatnonzero(ys[t2, 0])[0]
    two[t2, 0, lo_legal] = 0.05
    assert not reber_predicted(two, ys)[0]


def test_max_error_criterion():
    ys = np.zeros((3, 2, 4))
    ys[:, :, 1] = 1.0
    y = np.abs(ys - 0.2)
    assert max_error_below(y, ys).tolist() == [True, True]
    y[2, 1, 3] = 0.26
    assert max_error_below(y, ys).tolist() == [True, False]
    y[0, 0, 1] = 0.75                                             # error exactly 0.25 fails (strict)
    assert max_error_below(y, ys).tolist() == [False, False]


def test_noise_free_pair_is_every_sequence_of_the_generator():
    xs2, ys2 = noise_free_pair(6)
    xs, ys = noise_free_lags(6, 32, rng=np.random.default_rng(3))
    for b in range(32):
        s = int(np.argmax(xs[0, b]))
        np.testing.assert_array_equal(xs[:, b], xs2[:, s])
        np.testing.assert_array_equal(ys[:, b], ys2[:, s])
    assert not np.array_equal(ys2[-1, 0], ys2[-1, 1])


def test_sgd_step_is_lr_times_gradient_of_half_squared_error():
    net = _lstm(1)
    p0 = net.train_params()
    xs, ys = encode_reber(["BPBTXSEPE"])
    lr = 0.3
    rec = train_online(net, p0, lambda n: (xs, ys), [(xs, ys)], reber_predicted, lr=lr, loss="mse",
                       max_sequences=1, check_every=1, fast=False)

    def E(p):
        return 0.5 * float(np.sum((net.forward(p, xs)[1] - ys) ** 2))

    eps = 1e-6
    for field, idx in (("U", (6, 3)), ("U", (0, 1)), ("b", 7), ("b", 4), ("V", (2, 1)), ("W", (5, 0))):
        def shifted(d):
            a = np.array(getattr(p0, field))
            a[idx] += d
            return p0._replace(**{field: a})
        fd = (E(shifted(eps)) - E(shifted(-eps))) / (2 * eps)
        step = getattr(rec["params"], field)[idx] - getattr(p0, field)[idx]
        assert step == pytest.approx(-lr * fd, rel=1e-6, abs=1e-12)


def test_each_sequence_starts_from_the_reset_state():
    """The online loop equals an independent loop of per-sequence updates from the zero state,
    and evaluating strings together (grouped by length) equals evaluating each alone."""
    net = _lstm(2)
    strings = ["BTBTXSETE", "BPBPVVEPE", "BTBTSXSETE"]
    data = [encode_reber([s]) for s in strings]
    lr = 0.5
    order = [0, 2, 1, 1, 0, 2, 2]
    rec = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted, lr=lr,
                       loss="mse", max_sequences=len(order), check_every=100, fast=True)
    p = net.train_params()
    for i in order:
        xs, ys = data[i]
        # independent twin: a fresh zero state for every sequence, E = 1/2 sum (y - t)^2
        _, grads, _ = net.bptt(p, xs, ys, loss="mse", reduction="sum", fast=False)
        p = type(p)(*(a - 0.5 * lr * g for a, g in zip(p, grads)))
    for a, b in zip(rec["params"], p):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    together = encode_reber(["BTBTXSETE", "BPBPVVEPE"])
    _, y2 = net.forward(p, together[0])
    for b, s in enumerate(["BTBTXSETE", "BPBPVVEPE"]):
        _, y1 = net.forward(p, encode_reber([s])[0])
        np.testing.assert_allclose(y2[:, b], y1[:, 0], rtol=0, atol=1e-14)


def test_stops_at_the_first_success_and_records_divergence():
    net = _lstm(3)
    xs, ys = encode_reber(["BPBTXSEPE"])
    always = lambda y, t: np.ones(y.shape[1], dtype=bool)  # noqa: E731
    rec = train_online(net, net.train_params(), lambda n: (xs, ys), [(xs, ys)], always, lr=0.1, loss="mse",
                       max_sequences=1000, check_every=7)
    assert rec["solved_at"] == 7 and rec["diverged"] == 0
    assert np.isfinite(rec["curve_mse"][0]) and np.all(np.isnan(rec["curve_mse"][1:]))
    bad = net.train_params()._replace(b=np.full(8, np.nan))
    rec = train_online(net, bad, lambda n: (xs, ys), [(xs, ys)], always, lr=0.1, loss="mse",
                       max_sequences=50, check_every=5)
    assert rec["diverged"] == 1 and math.isnan(rec["solved_at"]) and math.isnan(rec["accuracy"])
    assert _evaluate(net, bad, [(xs, ys)], always) is None


def test_evaluation_set_is_train_plus_test_and_fixed_per_trial():
    sc = load_scenario(L3, smoke=True, overrides=["run.n_train=20", "run.n_test=10"])
    cfg = sc.points()[0][1]
    ss = np.random.SeedSequence(5)
    train, batches = evaluation_batches(cfg, ss)
    assert len(train) == 20 and sum(b[0].shape[1] for b in batches) == 30
    train2, _ = evaluation_batches(cfg, ss)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(train, train2))


def test_tiny_run_is_deterministic_and_reports_per_architecture():
    over = ["sweep.train.max_sequences=[60]", "train.check_every=20", "run.n_train=16", "run.n_test=16",
            "run.trials=2"]
    r1 = run_scenario(load_scenario(L3, smoke=True, overrides=over), figures=False, progress=False)
    r2 = run_scenario(load_scenario(L3, smoke=True, overrides=over), figures=False, progress=False)
    m1, m2 = r1.points[0]["metrics"], r2.points[0]["metrics"]
    np.testing.assert_equal(m1, m2)   # NaN == NaN here (no trial solves it in 60 sequences)
    for a in ("lstm1997", "elman"):
        assert 0 <= m1[f"success_rate_{a}"] <= 1 and m1[f"n_diverged_{a}"] == 0
        assert 0 <= m1[f"accuracy_{a}"] <= 1 and m1[f"mse_{a}"] > 0
    assert m1["n_params_lstm1997"] == 4 * 4 * (4 + 7 + 1) + 7 * 4 + 7   # W, U, b, V, c of 4 cells
    assert m1["success_gap_elman"] == m1["success_rate_lstm1997"] - m1["success_rate_elman"]
    assert "success_gap_lstm1997" not in m1                              # gaps only against the first arch


def test_success_gap_interval_is_newcombes_hybrid_score():
    from sim.protocols.online1997 import success_gap_interval
    # Newcombe (1998), Statistics in Medicine 17:873, example 56/70 - 48/80: 0.0524 to 0.3339
    lo, hi = success_gap_interval(56, 70, 48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    lo, hi = success_gap_interval(5, 5, 0, 5)                             # 5/5 vs 0/5: clearly above 0
    assert 0.3 < lo < 0.5 and hi == 1.0
    lo, hi = success_gap_interval(2, 5, 2, 5)
    assert lo < 0 < hi and lo == pytest.approx(-hi)


def test_bad_task_is_a_scenario_error(tmp_path):
    text = open(L3).read().replace('task = "embedded_reber"', 'task = "adding"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match="data.task"):
        load_scenario(bad, smoke=True)


def test_held_fields_keep_their_values_until_the_error_stalls():
    net = _lstm(4)
    xs, ys = encode_reber(["BPBTXSEPE"])
    never = lambda y, t: np.zeros(y.shape[1], dtype=bool)  # noqa: E731
    p0 = net.train_params()
    hold = {"V": np.zeros_like(p0.V)}
    kw = dict(lr=0.5, loss="mse", check_every=5, hold=hold)
    # stall_tol = 1: any second check counts as stalled, so V is released at sequence 10
    rec = train_online(net, p0, lambda n: (xs, ys), [(xs, ys)], never, max_sequences=10, stall_tol=1.0, **kw)
    assert rec["released_at"] == 10
    np.testing.assert_array_equal(rec["params"].V, p0.V)
    assert not np.array_equal(rec["params"].U, p0.U)
    rec = train_online(net, p0, lambda n: (xs, ys), [(xs, ys)], never, max_sequences=11, stall_tol=1.0, **kw)
    assert not np.array_equal(rec["params"].V, p0.V)
    # stall_tol = 0 on a steadily falling error: never released
    rec = train_online(net, p0, lambda n: (xs, ys), [(xs, ys)], never, max_sequences=30, stall_tol=0.0, **kw)
    assert math.isnan(rec["released_at"]) and np.all(np.diff(rec["curve_mse"]) < 0)
    np.testing.assert_array_equal(rec["params"].V, p0.V)


def test_zeroed_fields_and_columns():
    from sim.protocols.online1997 import _zeroed
    p0 = _lstm(5).train_params()
    p = _zeroed(p0, ["c", "U[:, 2]"])
    assert np.all(p.c == 0) and np.all(p.U[:, 2] == 0)
    np.testing.assert_array_equal(np.delete(p.U, 2, axis=1), np.delete(p0.U, 2, axis=1))
    np.testing.assert_array_equal(p.W, p0.W)
    with pytest.raises(ScenarioError, match="train.zero"):
        _zeroed(p0, ["Q"])


def test_update_step_is_the_1997_learner_sequence_after_sequence():
    """train.update = "step": every sequence is one rtrl_sequence run (weights changed at every time
    step, E = 1/2 sum (y - t)^2 so step = lr / 2 on the lab's summed MSE), masks respected, and it differs
    from the per-sequence exact-BPTT learner."""
    from nets.lstm_rtrl import rtrl_sequence
    net = _lstm(6)
    strings = ["BTBTXSETE", "BPBPVVEPE", "BTBTSXSETE"]
    data = [encode_reber([s]) for s in strings]
    order = [0, 2, 1, 1, 0]
    freeze = {"b": np.r_[np.ones(6), np.zeros(2)]}                    # output-gate biases frozen
    kw = dict(lr=0.5, loss="mse", max_sequences=len(order), check_every=100, masks=freeze)
    rec = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted,
                       update="step", **kw)
    p = type(net.params)(*[np.array(a) for a in net.params])
    for i in order:
        rtrl_sequence(net, p, *data[i], step=0.25, masks=freeze, fast=False)
    for a, b in zip(rec["params"], p):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(rec["params"].b[6:], net.params.b[6:])
    seq = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted, **kw)
    assert np.max(np.abs(seq["params"].U - rec["params"].U)) > 1e-4
    # "truncated": the same gradient summed over the sequence at fixed weights, one change per sequence
    tru = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted,
                       update="truncated", **kw)
    p = type(net.params)(*[np.array(a) for a in net.params])
    for i in order:
        _, g = rtrl_sequence(net, type(p)(*[a.copy() for a in p]), *data[i], fast=False)
        p = p._replace(**{f: getattr(p, f) - 0.25 * freeze.get(f, 1.0) * getattr(g, f) for f in p._fields})
    for a, b in zip(tru["params"], p):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert np.max(np.abs(tru["params"].U - rec["params"].U)) > 1e-6
    with pytest.raises(ValueError, match="update"):
        train_online(net, net.train_params(), lambda n: data[0], data, reber_predicted, update="epoch", **kw)


def test_update_step_needs_a_1997_cell(tmp_path):
    text = open(L3).read().replace('loss = "mse"', 'loss = "mse"\nupdate = "step"')
    ok = tmp_path / "ok.toml"
    ok.write_text(text)
    load_scenario(ok, smoke=True)                                      # the Elman arch keeps "sequence"
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('variant = "NFG", forget_gate = false', 'variant = "vanilla", forget_gate = true'))
    with pytest.raises(ScenarioError, match="train.update"):
        load_scenario(bad, smoke=True)


def test_solved_trials_keep_their_last_value_in_the_learning_curves():
    from sim.protocols.online1997 import solved_curve
    nan = np.nan
    np.testing.assert_array_equal(solved_curve([0.5, 0.2, 0.01, nan, nan], 300.0), [0.5, 0.2, 0.01, 0.01, 0.01])
    np.testing.assert_array_equal(solved_curve([0.5, 0.4, nan, nan], nan), [0.5, 0.4, nan, nan])  # diverged
    np.testing.assert_array_equal(solved_curve([0.5, 0.4, 0.3], nan), [0.5, 0.4, 0.3])  # ran to the end


def _elman(seed=0):
    cfg = dict(n_inputs=7, n_hidden=5, n_outputs=7, output="sigmoid", activation="sigmoid", init_range=0.2,
               context_init=0.5)
    return get_net("elman").from_config(cfg, rng=np.random.default_rng(seed))


def test_copy_back_learner_is_elmans_rule_sequence_after_sequence():
    """learner "copy_back": each sequence is one nets.elman.copy_back_train pass from the context
    reset to context_init (weights changed after every input, rate lr on E = 1/2 SSE); the numba
    and numpy paths agree; the training error E per sequence is what the learner reports."""
    from nets.elman import copy_back_train_reference
    net = _elman(3)
    strings = ["BTBTXSETE", "BPBPVVEPE", "BTBTSXSETE"]
    data = [encode_reber([s]) for s in strings]
    order = [0, 2, 1, 1, 0]
    kw = dict(lr=0.5, loss="mse", max_sequences=len(order), check_every=len(order))
    rec = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted,
                       update="copy_back", **kw)
    p, sse = net.train_params(), []
    for i in order:
        p, _, e = copy_back_train_reference(net, p, data[i][0][:, 0], data[i][1][:, 0], lr=0.5)
        sse.append(e[0])
    for a, b in zip(rec["params"], p):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert rec["final_loss"] == pytest.approx(np.mean(sse), rel=1e-12)
    slow = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted,
                        update="copy_back", fast=False, **kw)
    for a, b in zip(rec["params"], slow["params"]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    seq = train_online(net, net.train_params(), lambda n: data[order[n - 1]], data, reber_predicted, **kw)
    assert np.max(np.abs(seq["params"].W - rec["params"].W)) > 1e-6  # exact BPTT is another learner
    with pytest.raises(ValueError, match="copy_back"):
        train_online(_lstm(0), _lstm(0).train_params(), lambda n: data[0], data, reber_predicted,
                     update="copy_back", **kw)


def test_copy_back_learner_is_checked_where_it_does_not_apply(tmp_path):
    text = open(L3).read()
    assert 'learner = "copy_back"' in text                              # L3's Elman arch is the paper's ELM
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('variant = "NFG", forget_gate = false',
                                'variant = "NFG", forget_gate = false, learner = "copy_back"'))
    with pytest.raises(ScenarioError, match="learner"):
        load_scenario(bad, smoke=True)                                  # an LSTM arch
    bad.write_text(text.replace('variant = "NFG", forget_gate = false',
                                'variant = "NFG", forget_gate = false, learner = "rtrl1997"'))
    with pytest.raises(ScenarioError, match="train.update = 'step'"):
        load_scenario(bad, smoke=True)
    bad.write_text(text.replace('loss = "mse"', 'loss = "bce"'))
    with pytest.raises(ScenarioError, match="copy_back"):
        load_scenario(bad, smoke=True)
    seq = open("scenarios/lstm_adding_T100.toml").read()
    bad.write_text(seq.replace('kind = "rnn"', 'kind = "rnn", learner = "copy_back"', 1))
    with pytest.raises(ScenarioError, match="online1997"):
        load_scenario(bad, smoke=True)
