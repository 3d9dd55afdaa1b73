r"""Training one architecture of the sequence-learning protocol (:mod:`sim.protocols.seqlearn`).

One arch of one trial: a fresh net from the stream ``init/<name>``, its fixed initial values
and frozen entries, then its learner over the task's batches (stream ``data``):

* BPTT (:func:`_train_bptt`): ``train.updates`` optimizer steps on fresh batches, or on the
  chunks of a continual stream whose final state starts the next chunk (:func:`final_state`);
  clipping by value, then by norm; frozen entries get zero gradient;
* the 1997 truncated gradient after every step on a continual stream (:func:`_train_rtrl1997`;
  Gers, Schmidhuber & Cummins 2000);

a learning-curve point every ``train.eval_every`` updates (:func:`_record_point`), divergence
(a non-finite loss, gradient, parameter or output) recorded as such, and at the end the test
scores, the gradient retention ||dL/dh_t|| on the probe batch and the gate traces
(:func:`_finish`). The metric definitions are the protocol's (module docstring of
:mod:`sim.protocols.seqlearn`).
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..core import get_net
from ..errors import ScenarioError
from ..rng import generator
from ..train import clip_by_norm, clip_by_value, get_optimizer

__all__ = ["TEST_METRICS", "FROZEN_TOL", "n_params", "final_state"]

#: the task's test metrics recorded per arch (on the test set, and at every curve point)
TEST_METRICS = ("mse", "ce", "accuracy", "fidelity", "mse_ratio", "ce_ratio", "max_error", "outer_accuracy",
                "outer_solved", "cell_norm", "cell_frozen")
#: a cell counts as frozen when act_h(c_t) varies by less than this over the last tenth of a test stream
FROZEN_TOL = 1e-6


def n_params(net) -> int:
    """Number of trainable parameters (every array of ``net.train_params()``)."""
    return int(sum(np.size(p) for p in net.train_params()))


def _one_blas_thread():
    """One BLAS thread for a trial (threadpoolctl, a dependency). The per-step products are
    small (batch x hidden); multithreaded BLAS only spins on them, which on a shared 2-core
    machine made training 10-15x slower in CPU time [measured: copy T=10 smoke 27 s -> 1.9 s]."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def _finite(arrays) -> bool:
    return all(np.all(np.isfinite(a)) for a in arrays)


def _evaluate(net, params, batches) -> tuple[list, bool]:
    pairs = []
    for xs, ys in batches:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging net is detected below
            _, y = net.forward(params, xs)
        if not np.all(np.isfinite(y)):
            return pairs, False
        pairs.append((y, ys))
    return pairs, True


def _batches(task, n: int, batch: int, rng) -> list:
    out, left = [], n
    while left > 0:
        b = min(batch, left)
        out.append(task.sample(b, rng))
        left -= b
    return out


def _freeze_masks(params, spec: list[str], source: str = "") -> dict[str, np.ndarray]:
    """Gradient masks (0 = frozen) from entries ``"NAME"`` (a whole array) or ``"NAME[:, j]"``
    (column j of a matrix, e.g. the input weight of a noise input)."""
    masks: dict[str, np.ndarray] = {}
    for item in spec:
        m = re.fullmatch(r"(\w+)(?:\[:,\s*(-?\d+)\])?", item.strip())
        if m is None or m.group(1) not in params._fields:
            raise ScenarioError(source, "train.freeze", f"expected NAME or NAME[:, j] with NAME in {params._fields}, "
                                f"got {item!r}")
        f = m.group(1)
        a = masks.setdefault(f, np.ones(np.shape(getattr(params, f))))
        if m.group(2) is None:
            a[...] = 0.0
        elif a.ndim != 2 or not -a.shape[1] <= int(m.group(2)) < a.shape[1]:
            raise ScenarioError(source, "train.freeze", f"{item!r}: no such column of {f} {a.shape}")
        else:
            a[:, int(m.group(2))] = 0.0
    return masks


def _set_params(params, fixed: dict, source: str, where: str):
    if not fixed:
        return params
    new = {}
    for k, v in fixed.items():
        if k not in params._fields:
            raise ScenarioError(source, f"{where}.params.{k}", f"no such parameter; expected one of {params._fields}")
        a = np.asarray(v, dtype=np.float64)
        if a.shape != np.shape(getattr(params, k)):
            raise ScenarioError(source, f"{where}.params.{k}", f"expected shape {np.shape(getattr(params, k))}, "
                                f"got {a.shape}")
        new[k] = np.where(np.isnan(a), getattr(params, k), a)  # nan: keep the drawn initial value
    return params._replace(**new)


def _train_one(a, task, tr, ss_k, test, curve, probe) -> dict[str, Any]:
    """Train architecture ``a`` on ``task``; its results as plain floats and arrays."""
    net = get_net(a["kind"]).from_config(a["net"], rng=generator(ss_k, "init", a["name"]))
    params = _set_params(net.train_params(), a["params"], "", f"net.archs[{a['name']}]")
    frozen = _freeze_masks(params, tr["freeze"])
    opt = get_optimizer(tr["optimizer"], lr=a["lr"])
    data = generator(ss_k, "data")
    at = [u for u in range(1, tr["updates"] + 1) if u % tr["eval_every"] == 0 or u == tr["updates"]]
    curves = {q: np.full(len(at), np.nan) for q in _CURVE_METRICS}
    T = task.length
    fast = tr["fast"]
    rec: dict[str, Any] = {"diverged": 0.0, "n_params": float(n_params(net)), "solved_at": math.nan,
                           "final_loss": math.nan, "curve_at": np.array(at, dtype=np.float64),
                           "dh_init": _lags(net.bptt(params, *probe, loss=task.loss, fast=fast)[2]["dh_norm"], T),
                           "dh_final": np.full(T, np.nan)}
    if a["learner"] == "rtrl1997":
        params = _train_rtrl1997(net, params, a["lr"], task, tr, data, frozen, at, curves, rec, curve, fast)
    else:
        params = _train_bptt(net, params, opt, task, tr, data, frozen, at, curves, rec, curve, fast)
    rec.update({f"curve_{q}": v for q, v in curves.items()})
    return _finish(rec, net, params, task, test, probe, T, fast)


def _train_bptt(net, params, opt, task, tr, data, frozen, at, curves, rec, curve, fast):
    """The BPTT learner: ``train.updates`` optimizer steps (batches, or chunks of a continual
    stream whose state is carried over); fills ``rec`` and ``curves``; returns the params."""
    j = 0
    next_chunk = task.stream(tr["batch_size"], data) if task.continual else None
    state = None  # continual tasks: the state carried from chunk to chunk (never reset)
    for u in range(1, tr["updates"] + 1):
        xs, ys = next_chunk() if next_chunk else task.sample(tr["batch_size"], data)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and recorded below
            value, grads, trace = net.bptt(params, xs, ys, state, loss=task.loss, fast=fast)
        if not (math.isfinite(value) and _finite(grads)):
            rec["diverged"] = 1.0
            break
        if next_chunk:
            state = final_state(trace)
        rec["final_loss"] = value
        if frozen:
            grads = grads._replace(**{f: getattr(grads, f) * m for f, m in frozen.items()})
        if tr["clip_value"] > 0:
            grads = clip_by_value(grads, tr["clip_value"])
        if tr["clip_norm"] > 0:
            grads = clip_by_norm(grads, tr["clip_norm"])
        params = opt.step(params, grads)
        if not _finite(params):
            rec["diverged"] = 1.0
            break
        if j < len(at) and u == at[j]:
            stop = _record_point(_score(net, params, task, curve, fast), curves, j, u, rec, tr)
            j += 1
            if stop:
                break
    return params


def _record_point(sc, curves, j: int, u: int, rec: dict, tr: dict) -> bool:
    """Store the scores ``sc`` of learning-curve point ``j`` (after ``u`` updates) into
    ``curves``, and divergence (``sc`` None) or the first success into ``rec``; whether
    training stops here."""
    if sc is None:
        rec["diverged"] = 1.0
        return True
    for q in _CURVE_METRICS:
        curves[q][j] = float(sc.get(q, math.nan))
    if sc["solved"] and not math.isfinite(rec["solved_at"]):
        rec["solved_at"] = float(u)
        return bool(tr["stop_when_solved"])
    return False


def _train_rtrl1997(net, params, lr, task, tr, data, frozen, at, curves, rec, curve, fast):
    """Gers, Schmidhuber & Cummins' (2000) learner for the 1997 cell on a continual stream:
    the truncated gradient of Hochreiter & Schmidhuber (1997, Appendix A; no error flows back
    through the recurrent inputs of the gates and cell inputs, only along the cell state),
    plain gradient descent with rate ``lr`` after EVERY time step
    (:func:`nets.lstm_rtrl.rtrl_sequence`), over the same stream the BPTT archs read
    (``train.updates`` chunks). The stream between two learning-curve points is one
    sequence: the state and the RTRL partials restart from zero only there (every
    ``train.eval_every`` chunks; Gers et al. restarted after every error). No clipping, no
    optimizer state; ``final_loss`` = mean loss per step over the last such stretch."""
    from nets.lstm_rtrl import rtrl_sequence

    ps = type(params)(*[np.array(p, dtype=np.float64) for p in params])  # updated in place
    next_chunk = task.stream(1, data)
    done = 0
    for j, u in enumerate(at):
        pieces = [next_chunk() for _ in range(u - done)]
        xs, ys = np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
        done = u
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and recorded below
            value, _ = rtrl_sequence(net, ps, xs, ys, loss=task.loss, step=lr, masks=frozen or None, fast=fast)
        if not (math.isfinite(value) and _finite(ps)):
            rec["diverged"] = 1.0
            break
        rec["final_loss"] = value / len(xs)
        if _record_point(_score(net, ps, task, curve, fast), curves, j, u, rec, tr):
            break
    return ps


def _finish(rec, net, params, task, test, probe, T, fast) -> dict[str, Any]:
    """Test scores, the final gradient retention and the gate traces of a trained arch into ``rec``."""
    sc = {}
    if not rec["diverged"]:
        sc = _score(net, params, task, test, fast)
        if sc is not None:
            rec["dh_final"] = _lags(net.bptt(params, *probe, loss=task.loss, fast=fast)[2]["dh_norm"], T)
        else:
            sc = {}
            rec["diverged"] = 1.0
    for q in TEST_METRICS + ("solved",):
        rec[f"test_{q}"] = float(sc.get(q, math.nan))
    # gates and cell state over the first probe sequence (gated nets only; NaN if diverged)
    one_y = probe[1][:, :1] if probe[1].ndim == 3 else probe[1][:1]
    with np.errstate(over="ignore", invalid="ignore"):
        tr1 = net.bptt(params, probe[0][:, :1], one_y, loss=task.loss)[2]
    if "gates" in tr1 and "c" in tr1:
        bad = bool(rec["diverged"])
        for g, v in tr1["gates"].items():
            rec[f"gate_{g}"] = _crop(v[:, 0], T, bad)
        rec["cell"] = _crop(tr1["c"][:, 0], T, bad)
        rec["inputs"] = _crop(probe[0][:, 0], T, False)
    return rec


def final_state(trace):
    """The state after a chunk, to start the next one from (continual tasks): ``trace["state"]``
    (LSTM: (h, c) of every layer), else the last hidden output (one-layer nets)."""
    st = trace.get("state")
    return st if st is not None else np.array(trace["h"][-1])


def _cell_stats(net, params, task, batches, fast) -> dict[str, float]:
    """``cell_norm``: RMS over cells and streams of the cell state c at the end of the
    evaluation streams (read from the zero state, never reset); ``cell_frozen``: the fraction
    of cells (over streams) whose output squash act_h(c_t) = h_t / o_t varies by less than
    :data:`FROZEN_TOL` over the last tenth of the steps (a saturated cell: its state carries
    no information any more). NaN for nets without a cell state."""
    norms, frozen = [], []
    for xs, ys in batches:
        with np.errstate(over="ignore", invalid="ignore"):
            tr = net.bptt(params, xs, ys, loss=task.loss, fast=fast)[2]
        st = tr.get("state")
        if st is None or not hasattr(st, "c"):
            return {"cell_norm": math.nan, "cell_frozen": math.nan}
        norms.append(np.mean(np.asarray(st.c, dtype=np.float64) ** 2))
        h, o = np.asarray(tr["h"], dtype=np.float64), np.asarray(tr["gates"]["o"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            act = (h / o)[-max(1, len(h) // 10):]
        frozen.append(np.mean(np.ptp(act, axis=0) < FROZEN_TOL))
    return {"cell_norm": float(np.sqrt(np.mean(norms))), "cell_frozen": float(np.mean(frozen))}


def _score(net, params, task, batches, fast) -> dict | None:
    """The task's test metrics on ``batches`` (continual tasks: also ``cell_norm`` and
    ``cell_frozen``); None if the net's outputs are not finite (diverged)."""
    pairs, ok = _evaluate(net, params, batches)
    if not ok:
        return None
    sc = dict(task.score(pairs))
    if task.continual:
        sc.update(_cell_stats(net, params, task, batches, fast))
    return sc


#: curve-set metrics recorded at every learning-curve point
_CURVE_METRICS = TEST_METRICS + ("solved",)


def _lags(dh_norm, T: int) -> np.ndarray:
    """The last T entries of dh_norm (variable-length tasks: lags 0..T-1 from the end)."""
    d = np.asarray(dh_norm, dtype=np.float64)
    return d[-T:] if len(d) >= T else np.concatenate([np.full(T - len(d), np.nan), d])


def _crop(a, T: int, nan: bool) -> np.ndarray:
    """The last T rows of a (t, ...) trace (NaN-padded in front when shorter; all NaN if ``nan``)."""
    a = np.asarray(a, dtype=np.float64)
    a = a[-T:] if len(a) >= T else np.concatenate([np.full((T - len(a),) + a.shape[1:], np.nan), a])
    return np.full_like(a, np.nan) if nan else a.copy()
