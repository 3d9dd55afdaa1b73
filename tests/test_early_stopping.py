"""Early stopping in sim.train.fit: validation curve, patience, restoring the best epoch,
the held-out split, and no change to training without a validation set."""
from __future__ import annotations

import numpy as np
import pytest

from nets.jordan import Jordan
from sim.train import SGD, Adam, fit


class _Scripted:
    """A 'net' with one parameter p: every training batch has gradient 1 (SGD lr 1 lowers p
    by 1 per update); the validation loss (inputs all ones) is (p - 6.5)^2."""

    def __init__(self):
        self.seen_val = []

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate=None):
        p = params[0]
        if np.all(xs == 1.0):
            self.seen_val.append(xs.shape)
            return float((p[0] - 6.5) ** 2), None, {}
        return 0.0, (np.ones(1),), {}


def _run(**kw):
    net = _Scripted()
    xs, ys = np.zeros((2, 1, 1)), np.zeros((2, 1, 1))
    val = (np.ones((2, 3, 1)), np.zeros((2, 3, 1)))
    res = fit(net, (np.array([10.0]),), xs, ys, loss="mse", optimizer=SGD(1.0), epochs=10,
              rng=np.random.default_rng(0), validation=val, **kw)
    return net, res


def test_patience_stops_and_restores_the_best_epoch():
    # p after epoch e = 10 - e; val loss 6.25, 2.25, 0.25, 0.25, 2.25, ...
    net, res = _run(patience=2)
    np.testing.assert_array_equal(res.val_loss, [6.25, 2.25, 0.25, 0.25, 2.25])
    assert res.best_epoch == 3 and res.stopped_early and len(res.loss) == 5
    assert res.params[0][0] == 7.0  # the parameters of epoch 3 (the first of the tie)
    assert net.seen_val == [(2, 3, 1)] * 5
    _, res = _run(patience=2, min_delta=2.5)  # 0.25 is not an improvement on 2.25 by more than 2.5
    assert res.best_epoch == 2 and len(res.val_loss) == 4 and res.params[0][0] == 8.0
    _, res = _run(patience=2, restore_best=False)
    assert res.params[0][0] == 5.0 and res.best_epoch == 5


def test_without_patience_runs_all_epochs_and_without_validation_nothing_changes():
    _, res = _run()
    assert len(res.val_loss) == 10 and not res.stopped_early
    assert res.best_epoch == 3 and res.params[0][0] == 7.0  # the first of the tie p = 7, 6
    rng = np.random.default_rng(3)
    net = Jordan.from_config({"n_inputs": 2, "n_hidden": 5, "n_outputs": 2}, rng=rng)
    xs, ys = rng.normal(size=(4, 8, 2)), rng.random((4, 8, 2))
    kw = dict(loss="mse", epochs=5, batch_size=2)
    a = fit(net, net.train_params(), xs, ys, optimizer=Adam(0.05), rng=np.random.default_rng(1), **kw)
    b = fit(net, net.train_params(), xs, ys, optimizer=Adam(0.05), rng=np.random.default_rng(1),
            validation=(xs[:, :3], ys[:, :3]), restore_best=False, **kw)
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.val_loss.size == 0 and a.best_epoch == 5 and not a.stopped_early
    assert len(b.val_loss) == 5


def test_validation_split_holds_out_the_last_sequences():
    rng = np.random.default_rng(4)
    net = Jordan.from_config({"n_inputs": 2, "n_hidden": 5, "n_outputs": 2}, rng=rng)
    xs, ys = rng.normal(size=(4, 8, 2)), rng.random((4, 8, 2))
    kw = dict(loss="mse", epochs=30, batch_size=2, patience=3)
    a = fit(net, net.train_params(), xs, ys, optimizer=SGD(0.5), rng=np.random.default_rng(1),
            validation_split=0.25, **kw)
    b = fit(net, net.train_params(), xs[:, :6], ys[:, :6], optimizer=SGD(0.5), rng=np.random.default_rng(1),
            validation=(xs[:, 6:], ys[:, 6:]), **kw)
    np.testing.assert_array_equal(a.val_loss, b.val_loss)
    # the returned parameters are those of the best validation epoch
    best = net.bptt(a.params, xs[:, 6:], ys[:, 6:], loss="mse")[0]
    assert best == pytest.approx(a.val_loss.min(), rel=1e-12)
    assert a.best_epoch == int(np.argmin(a.val_loss)) + 1


def test_bad_early_stopping_arguments():
    net = _Scripted()
    xs, ys = np.zeros((2, 4, 1)), np.zeros((2, 4, 1))
    base = dict(loss="mse", optimizer=SGD(1.0), epochs=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="not both"):
        fit(net, (np.zeros(1),), xs, ys, validation=(xs, ys), validation_split=0.5, **base)
    with pytest.raises(ValueError, match="patience needs a validation set"):
        fit(net, (np.zeros(1),), xs, ys, patience=2, **base)
    for bad in (0.0, 1.0, 0.9):
        with pytest.raises(ValueError, match="validation_split"):
            fit(net, (np.zeros(1),), xs[:, :1], ys[:, :1], validation_split=bad, **base)
    with pytest.raises(ValueError, match="validation inputs"):
        fit(net, (np.zeros(1),), xs, ys, validation=(np.zeros((3, 2, 1)), ys), **base)
