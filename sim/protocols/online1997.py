r"""Online training as in Hochreiter & Schmidhuber (1997): one sequence at a time, until a criterion holds.

Hochreiter, S. & Schmidhuber, J. (1997), Long short-term memory, Neural Computation
9(8):1735-1780, Section 5 (SCENARIOS.md 7.1, experiments L3 = Exp. 1 and L2 = Exp. 2a).
"On-line learning": the net reads one sequence from the zero state (activations are reset
after each sequence; an Elman net restarts from its ``context_init``). Three learners
(``train.update``):

* ``"sequence"`` (default): the error is backpropagated through the whole sequence (exact
  BPTT, ``bptt(..., fast=True)`` where a numba kernel covers the net, else the numpy path)
  and the weights change once per sequence;
* ``"step"``: the paper's own algorithm (its Appendix A) for the LSTM archs: the truncated
  gradient (recurrent inputs of the gates and cell inputs treated as constants; partials
  of the cell states accumulated forward, RTRL-like) and a weight change after EVERY time
  step (:func:`nets.lstm_rtrl.rtrl_sequence`; 1997 cells only: no forget gate, no
  peepholes, one layer). Archs that are not LSTMs (the Elman SRN) keep ``"sequence"``;
* ``"truncated"``: the same truncated gradient, summed over the sequence at fixed weights
  and applied once per sequence (the paper's Appendix A.1 ends: "Each weight's total update
  is the sum of the contributions of all time steps", which also reads this way).

An arch table may name its own learner (key ``learner``, :data:`sim.protocols.seqlearn.LEARNERS`):
``"copy_back"`` trains an Elman net by Elman's (1990) rule, the learner behind the Elman-net
results the paper quotes in Table 1 ("ELM" [recalled, unverified]): after every input the output error
is backpropagated one step (h_{t-1} a constant input) and the weights change at once
(:func:`nets.elman.copy_back_train`; loss "mse", no ``freeze``/``hold``); the context
restarts from ``context_init`` before each sequence. Other archs take ``train.update``.

Either way the change is plain gradient descent,

    w <- w - lr dE/dw,   E = 1/2 sum_t sum_k (y_tk - target_tk)^2      (loss "mse", the paper's)

so ``train.lr`` is the paper's rate on the paper's error (the lab's MSE has no 1/2: the
step is lr/2 times the gradient of the sum-reduced ``mse``; with ``train.loss = "bce"``
E is the summed binary cross-entropy and the step lr times its gradient).

Per trial and for each architecture of ``[net] archs`` (the table format of
:mod:`sim.protocols.seqlearn`, whose helpers build the nets, set fixed initial ``params``
(``nan`` keeps the drawn value) and freeze ``train.freeze``), a fresh net from stream
``init/<name>`` is trained on ``train.max_sequences`` sequences at most: with ``run.n_train
> 0`` each is drawn uniformly (with replacement) from a fixed training set of n_train
sequences (stream ``data``; the order from stream ``order``), else fresh from the task
generator (stream ``data``); every architecture of a trial sees the same sequences. Every
``train.check_every`` sequences the success criterion is evaluated on the evaluation set
(the training set plus ``run.n_test`` test sequences of stream ``test``; for the
noise-free lags of Exp. 2a the two possible sequences) and the trial stops at the first
success; ``sequences_to_success`` is that count (so it is resolved to check_every).

Absent connections: ``train.zero`` sets fields (or matrix columns) to 0 at initialisation;
with ``train.freeze`` they stay 0 (e.g. the biases that Exp. 2a's net does not have).
Growing the net: H&S add the memory cell of Exp. 2a "once the error stops decreasing". With
``train.hold = ["V"]`` (and V = 0 initially: ``train.zero``) the cell's output
weights keep their initial values until the first check at which the evaluation MSE fell by
less than the fraction ``train.stall_tol`` since the previous check; from then on they train
(with V = 0 the cell's own weights get no gradient before: it is as if the cell were added).

Criteria (:data:`CRITERIA`, chosen by ``data.task``):

* ``embedded_reber`` (Exp. 1): every symbol of every evaluation string is predicted, i.e.
  at every step the outputs of all legal next symbols exceed every other output
  (:func:`reber_predicted`; a tie counts as an error);
* ``noise_free_lags`` (Exp. 2a): the absolute error of every output at every step of
  every evaluation sequence is below 0.25 (:func:`max_error_below`). The paper asks this of
  "10,000 successive random sequences"; the net is deterministic and reset before each
  sequence, and there are only two sequences, so that equals both of them passing (with
  probability 1 - 2^-9999 the 10,000 draws contain both).

Divergence (a non-finite loss, or non-finite parameters or outputs at a check) ends that
architecture's trial with status "diverged", counted in ``n_diverged_<a>`` and scored as
a failure (the conventions of seqlearn).

Metrics per architecture a: ``success_rate_<a>`` (Wilson 95 % interval), ``n_success_<a>``,
``n_diverged_<a>``, ``sequences_to_success_<a>`` (median over the successful trials, the
interval their range; NaN if none), ``sequences_to_success_mean_<a>``,
``sequences_to_success_min_<a>`` / ``_max_<a>`` (that range), ``n_params_<a>``, and at the end of training (means over non-diverged trials, Student-t intervals)
``accuracy_<a>`` (fraction of evaluation sequences meeting the criterion), ``mse_<a>``
(mean squared output error per output and step), ``max_error_<a>`` (largest absolute
output error), ``final_loss_<a>`` (mean training error E per sequence over the last
check interval). With several archs, ``success_gap_<b>`` for every arch b after the first
one a: (successes of a - successes of b) / trials, the archs of a trial seeing the same
sequences (Newcombe's hybrid score interval, :func:`success_gap_interval`). Figures:
``solved_fraction`` (fraction of trials solved vs training sequences) and ``learning_curves``
(evaluation MSE vs sequences; a solved trial keeps its last value, :func:`solved_curve`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from nets.elman import Elman, copy_back_train, copy_back_train_reference
from nets.lstm_rtrl import check_rtrl_net, rtrl_covers, rtrl_sequence

from ..core import get_net
from ..errors import ScenarioError
from ..rng import child, generator
from ..schema import Key
from ..sequence_tasks import encode_reber, embedded_reber_string, make_task
from ..stats import mean_interval, wilson_interval
from . import Protocol
from .seqlearn import ARCH_NAMES, SeqLearn, archs
from .seqlearn_train import _freeze_masks, _one_blas_thread, _set_params, n_params

__all__ = ["Online1997", "reber_predicted", "max_error_below", "CRITERIA", "train_online", "evaluation_batches",
           "UPDATES", "success_gap_interval"]

_PER_ARCH = ("success_rate", "n_success", "n_diverged", "sequences_to_success", "sequences_to_success_mean",
             "sequences_to_success_min", "sequences_to_success_max", "n_params", "accuracy", "mse", "max_error",
             "final_loss")
_TASKS = ("embedded_reber", "noise_free_lags")
#: train.update: one weight change per sequence (exact BPTT) or per time step (the 1997 truncated RTRL)
UPDATES = ("sequence", "step", "truncated")


def reber_predicted(y: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which sequences are predicted at every step: all legal next symbols' outputs exceed every other.

    Parameters
    ----------
    y : ndarray (T, B, K) outputs;  ys : ndarray (T, B, K) multi-hot legal next symbols

    Returns
    -------
    ndarray (B,) bool
    """
    lo = np.where(ys == 1, y, np.inf).min(axis=-1)    # (T, B) weakest legal output
    hi = np.where(ys == 0, y, -np.inf).max(axis=-1)   # (T, B) strongest illegal output
    return np.all(lo > hi, axis=0)


def max_error_below(y: np.ndarray, ys: np.ndarray, tol: float = 0.25) -> np.ndarray:
    """Which sequences have |y - target| < tol at every output and step: ndarray (B,) bool."""
    return np.all(np.abs(y - ys) < tol, axis=(0, 2))


#: data.task -> success criterion on (outputs, targets), each (T, B, K)
CRITERIA = {"embedded_reber": reber_predicted, "noise_free_lags": max_error_below}


def _reber_batches(strings: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Strings grouped by length, each group one (xs, ys) batch (T, B, 7)."""
    by_len: dict[int, list[str]] = {}
    for s in strings:
        by_len.setdefault(len(s), []).append(s)
    return [encode_reber(g) for _, g in sorted(by_len.items())]


def noise_free_pair(p: int) -> tuple[np.ndarray, np.ndarray]:
    """The two sequences of Exp. 2a, (x, a_1..a_{p-1}, x) and (y, ...), as one batch: xs, ys (p, 2, p + 1)
    (the encoding of :func:`sim.sequence_tasks.noise_free_lags`)."""
    seq = np.empty((p + 1, 2), dtype=np.int64)
    seq[0] = seq[-1] = (0, 1)
    seq[1:-1] = np.arange(2, p + 1)[:, None]
    eye = np.eye(p + 1)
    return eye[seq[:-1]], eye[seq[1:]]


def evaluation_batches(cfg: dict, ss_k) -> tuple[list, list]:
    """(training sequences, evaluation batches) of one trial.

    The training sequences are a list of (xs, ys) with batch 1 (empty: draw from the task
    generator); the evaluation batches are the training set and the test set grouped by
    length (Reber), or the two sequences of Exp. 2a.
    """
    data, run = cfg["data"], cfg["run"]
    if data["task"] == "embedded_reber":
        rng = generator(ss_k, "data")
        train = [embedded_reber_string(rng) for _ in range(run["n_train"])]
        test_rng = generator(ss_k, "test")
        test = [embedded_reber_string(test_rng) for _ in range(run["n_test"])]
        return [encode_reber([s]) for s in train], _reber_batches(train + test)
    if data["random_middle"]:
        raise ValueError("online1997 runs Exp. 2a (random_middle = false)")
    return [], [noise_free_pair(data["p"])]


def _evaluate(net, params, batches, criterion) -> dict | None:
    """Criterion and errors on the evaluation batches (each read from the reset state); None if not finite."""
    ok, sq, n, worst = [], 0.0, 0, 0.0
    for xs, ys in batches:
        with np.errstate(over="ignore", invalid="ignore"):
            _, y = net.forward(params, xs)
        if not np.all(np.isfinite(y)):
            return None
        ok.append(criterion(y, ys))
        err = y - ys
        sq += float(np.sum(err * err))
        n += err.size
        worst = max(worst, float(np.max(np.abs(err))))
    ok = np.concatenate(ok)
    return {"solved": bool(ok.all()), "accuracy": float(ok.mean()), "mse": sq / n, "max_error": worst}


def train_online(net, params, sequences, batches, criterion, *, lr: float, loss: str, max_sequences: int,
                 check_every: int, masks: dict | None = None, hold: dict | None = None, stall_tol: float = 0.01,
                 fast: bool = True, update: str = "sequence") -> dict[str, Any]:
    """Train ``net`` online from ``params``; stop at the first check where the criterion holds.

    Parameters
    ----------
    sequences : callable n -> (xs (T, 1, I), ys (T, 1, K)), the n-th training sequence (n >= 1)
    batches : evaluation batches [(xs (T, B, I), ys (T, B, K))]
    criterion : callable (y, ys) -> (B,) bool (:data:`CRITERIA`)
    lr : the rate on E (module docstring);  loss : "mse" or "bce"
    update : "sequence" (exact BPTT, one change per sequence), "step" (the 1997 truncated
        RTRL, a change after every time step: :func:`nets.lstm_rtrl.rtrl_sequence`),
        "truncated" (that gradient summed over the sequence, one change per sequence) or
        "copy_back" (an Elman net: Elman's one-step rule, a change after every time step;
        loss "mse", no masks or hold)
    masks : dict field -> 0/1 array, optional (frozen entries are 0)
    hold : dict field -> 0/1 array, optional: entries (0) held at their initial values until the
        first check whose evaluation MSE is not below (1 - stall_tol) times the previous check's
        (the 1997 "cell added once the error stops decreasing"); then they train

    Returns
    -------
    dict: solved_at (sequences, NaN if never), released_at (when ``hold`` ended; NaN), diverged (0/1), final scores (accuracy,
    mse, max_error, NaN if diverged), final_loss, curve_at / curve_mse / curve_accuracy
    (one entry per check, NaN after the trial ended), params (the final NamedTuple)
    """
    if update not in UPDATES + ("copy_back",):
        raise ValueError(f"update must be one of {UPDATES + ('copy_back',)}, got {update!r}")
    why = _copy_back_reason(net, loss, bool(masks or hold)) if update == "copy_back" else None
    if why:
        raise ValueError(f"update 'copy_back' {why}")
    step = lr * (0.5 if loss == "mse" else 1.0)
    P = type(params)
    ps = [np.array(p, dtype=np.float64) for p in params]          # writable copies, updated in place
    def combined(hold_on):
        out = []
        for f in params._fields:
            m = [d[f] for d in (masks or {}, hold if hold_on else {}) if f in d]
            out.append(None if not m else np.prod(m, axis=0))
        return out

    held = bool(hold)
    mask = combined(held)
    at = np.arange(check_every, max_sequences + check_every, check_every, dtype=np.float64)
    at[-1] = min(at[-1], max_sequences)
    rec: dict[str, Any] = {"solved_at": math.nan, "released_at": math.nan, "diverged": 0.0, "final_loss": math.nan,
                           "curve_at": at, "curve_mse": np.full(len(at), np.nan),
                           "curve_accuracy": np.full(len(at), np.nan)}
    sc = None
    j, run_loss, run_n = 0, 0.0, 0
    for n in range(1, max_sequences + 1):
        xs, ys = sequences(n)
        if update == "step":  # the weights change in place after every time step
            with np.errstate(over="ignore", invalid="ignore"):
                value, _ = rtrl_sequence(net, P(*ps), xs, ys, loss=loss, step=step, fast=fast,
                                         masks={f: m for f, m in zip(params._fields, mask) if m is not None})
        elif update == "copy_back":  # Elman's rule, in place; its E is 1/2 SSE: value = 2 E
            learn = copy_back_train if fast else copy_back_train_reference
            with np.errstate(over="ignore", invalid="ignore"):
                new, _, sse = learn(net, P(*ps), xs[:, 0], ys[:, 0], lr=lr)
            for p, q in zip(ps, new):
                p[...] = q
            value = 2.0 * float(sse[0])
        elif update == "truncated":
            with np.errstate(over="ignore", invalid="ignore"):
                value, grads = rtrl_sequence(net, P(*ps), xs, ys, loss=loss, fast=fast)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                value, grads, _ = net.bptt(P(*ps), xs, ys, loss=loss, reduction="sum", fast=fast)
        if not math.isfinite(value):
            rec["diverged"] = 1.0
            break
        run_loss += value * (0.5 if loss == "mse" else 1.0)
        run_n += 1
        if update not in ("step", "copy_back"):
            for p, g, m in zip(ps, grads, mask):
                p -= step * (g if m is None else g * m)
        if n == at[j]:
            sc = _evaluate(net, P(*ps), batches, criterion)
            if sc is None or not all(np.all(np.isfinite(p)) for p in ps):
                rec["diverged"], sc = 1.0, None
                break
            rec["curve_mse"][j], rec["curve_accuracy"][j] = sc["mse"], sc["accuracy"]
            if held and j > 0 and not sc["mse"] < (1.0 - stall_tol) * rec["curve_mse"][j - 1]:
                held, mask, rec["released_at"] = False, combined(False), float(n)
            rec["final_loss"], run_loss, run_n = run_loss / run_n, 0.0, 0
            j += 1
            if sc["solved"]:
                rec["solved_at"] = float(n)
                break
    for q in ("accuracy", "mse", "max_error"):
        rec[q] = math.nan if sc is None else sc[q]
    rec["params"] = P(*ps)
    return rec


class Online1997(Protocol):
    name = "online1997"
    sections = ("net", "train", "data")
    section_keys = {
        "net": SeqLearn.section_keys["net"],
        "train": {
            "lr": Key("float", default=0.1, min=0.0, doc="the paper's rate on E = 1/2 sum (y - t)^2 (module doc)"),
            "loss": Key("str", default="mse", choices=("mse", "bce"), doc="error E (mse: the 1997 nets)"),
            "max_sequences": Key("int", default=50_000, min=1, doc="training sequences at most per trial"),
            "check_every": Key("int", default=1000, min=1, doc="sequences between evaluations of the criterion"),
            "freeze": Key("str_list", default=[], doc="parameter fields kept at their initial values"),
            "zero": Key("str_list", default=[], doc="fields set to 0 at initialisation (absent connections)"),
            "hold": Key("str_list", default=[], doc="fields held at their initial values until the error stalls"),
            "stall_tol": Key("float", default=0.01, min=0.0, max=1.0,
                             doc="the error stalls when a check improves on the previous one by less than this"),
            "fast": Key("bool", default=True, doc="bptt(fast=True): the fused numba kernels where they cover the net"),
            "update": Key("str", default="sequence", choices=UPDATES,
                          doc="sequence: exact BPTT, one change per sequence; step: the 1997 truncated RTRL, "
                              "a change every time step; truncated: its gradient, one change per sequence "
                              "(step and truncated: LSTM archs; others keep sequence)"),
        },
    }
    run_keys = {
        "n_train": Key("int", default=256, min=0, doc="fixed training set (0: fresh sequences from the generator)"),
        "n_test": Key("int", default=256, min=0, doc="test sequences added to the evaluation set (Reber)"),
    }
    metrics = (tuple(f"{q}_{a}" for a in ARCH_NAMES for q in _PER_ARCH)
               + tuple(f"success_gap_{a}" for a in ARCH_NAMES))
    plots = {"solved_fraction": {}, "learning_curves": {"log": Key("bool", default=True)}}

    def validate(self, scenario) -> None:
        src = str(scenario.path)
        for _, cfg in scenario.points():
            if cfg["data"]["task"] not in _TASKS:
                raise ScenarioError(src, "data.task", "expected one of " + ", ".join(_TASKS))
            if cfg["data"]["task"] == "noise_free_lags" and cfg["data"]["random_middle"]:
                raise ScenarioError(src, "data.random_middle", "expected false (Exp. 2a)")
            task = make_task(cfg["data"])
            for a in archs(cfg, task, src):
                net = get_net(a["kind"]).from_config(a["net"], rng=np.random.default_rng(0))
                params = _set_params(net.train_params(), a["params"], src, f"net.archs[{a['name']}]")
                for key in ("freeze", "hold", "zero"):
                    _masks(params, cfg["train"][key], src, f"train.{key}")
                where = f"net.archs[{a['name']}].learner"
                if a["learner"] == "rtrl1997":
                    raise ScenarioError(src, where, "expected 'bptt' or 'copy_back' (the 1997 learner of an "
                                        "LSTM here is train.update = 'step')")
                tr = cfg["train"]
                why = (_copy_back_reason(net, tr["loss"], bool(tr["freeze"] or tr["hold"]))
                       if a["learner"] == "copy_back" else None)
                if why:
                    raise ScenarioError(src, where, f"'copy_back' {why} (kind elman, train.loss = 'mse', no "
                                        "train.freeze or train.hold)")
                if cfg["train"]["update"] != "sequence" and a["kind"] == "lstm" and not rtrl_covers(net):
                    try:
                        check_rtrl_net(net)
                    except ValueError as exc:
                        raise ScenarioError(src, "train.update",
                                            f"{cfg['train']['update']!r} for arch {a['name']!r}: {exc}") from None

    def trial(self, cfg, ss, k):
        """Flat results ``"<arch>.<field>"`` -> float or array."""
        with _one_blas_thread():
            ss_k = child(ss, k)
            task = make_task(cfg["data"])
            train_set, batches = evaluation_batches(cfg, ss_k)
            criterion = CRITERIA[cfg["data"]["task"]]
            tr = cfg["train"]
            out = {}
            for a in archs(cfg, task):
                net = get_net(a["kind"]).from_config(a["net"], rng=generator(ss_k, "init", a["name"]))
                params = _set_params(net.train_params(), a["params"], "", f"net.archs[{a['name']}]")
                params = _zeroed(params, tr["zero"])
                if train_set:
                    order = generator(ss_k, "order").integers(len(train_set), size=tr["max_sequences"])
                    seqs = lambda n, _o=order: train_set[_o[n - 1]]  # noqa: E731
                else:
                    data = generator(ss_k, "data")
                    seqs = lambda n, _d=data: task.sample(1, _d)  # noqa: E731
                rec = train_online(net, params, seqs, batches, criterion, lr=a["lr"], loss=tr["loss"],
                                   max_sequences=tr["max_sequences"], check_every=tr["check_every"],
                                   masks=_freeze_masks(params, tr["freeze"]),
                                   hold=_freeze_masks(params, tr["hold"]) if tr["hold"] else None,
                                   stall_tol=tr["stall_tol"], fast=tr["fast"],
                                   update=_update(a, tr["update"]))
                rec.pop("params")
                rec["n_params"] = float(n_params(net))
                out.update({f"{a['name']}.{f}": v for f, v in rec.items()})
            return out

    def aggregate(self, cfg, results):
        metrics, intervals = {}, {}

        def put(name, value, iv):
            metrics[name], intervals[name] = float(value), (float(iv[0]), float(iv[1]))

        n = len(results)
        for a in _arch_names(results[0]):
            col = lambda f: np.array([r[f"{a}.{f}"] for r in results], dtype=np.float64)  # noqa: E731
            ok = col("diverged") == 0
            s = col("solved_at")
            s = s[np.isfinite(s)]
            put(f"success_rate_{a}", len(s) / n, wilson_interval(len(s), n))
            put(f"n_success_{a}", len(s), (len(s),) * 2)
            put(f"n_diverged_{a}", n - ok.sum(), (n - ok.sum(),) * 2)
            rng_s = (s.min(), s.max()) if len(s) else (math.nan, math.nan)
            put(f"sequences_to_success_{a}", np.median(s) if len(s) else math.nan, rng_s)
            put(f"sequences_to_success_mean_{a}", s.mean() if len(s) else math.nan, rng_s)
            put(f"sequences_to_success_min_{a}", rng_s[0], rng_s)
            put(f"sequences_to_success_max_{a}", rng_s[1], rng_s)
            put(f"n_params_{a}", col("n_params")[0], (col("n_params")[0],) * 2)
            for q in ("accuracy", "mse", "max_error", "final_loss"):
                v = col(q)[ok]
                v = v[np.isfinite(v)]
                if len(v):
                    m, lo, hi = mean_interval(v)
                    put(f"{q}_{a}", m, (lo, hi))
        names = _arch_names(results[0])
        for b in names[1:]:
            solved = lambda a: int(sum(math.isfinite(r[f"{a}.solved_at"]) for r in results))  # noqa: E731
            k1, k2 = solved(names[0]), solved(b)
            put(f"success_gap_{b}", (k1 - k2) / n, success_gap_interval(k1, n, k2, n))
        return metrics, intervals

    def figures(self, scenario, points, demo) -> list[tuple[str, Any]]:
        from ..plots import online1997 as op
        from ..plots.learning import learning_curves_figure

        name = scenario.meta.get("id") or scenario.name
        out = []
        for spec in scenario.plots:
            for p in points:
                where = f" ({p['label']})" if p["label"] else ""
                stem = spec["kind"] + (f"_{p['label']}" if p["label"] else "")
                trials, names = p["trials"], _arch_names(p["trials"][0])
                if spec["kind"] == "solved_fraction":
                    fig = op.solved_fraction_figure(
                        {a: np.array([r[f"{a}.solved_at"] for r in trials]) for a in names},
                        max_sequences=float(trials[0][f"{names[0]}.curve_at"][-1]),
                        title=f"{name}: trials solved vs training sequences{where}")
                else:
                    fig = learning_curves_figure(
                        {a: (trials[0][f"{a}.curve_at"],
                             np.array([solved_curve(r[f"{a}.curve_mse"], r[f"{a}.solved_at"]) for r in trials]))
                         for a in names}, metric="mse", log=spec.get("log", True),
                        title=f"{name}: evaluation MSE vs training sequences (online, batch 1; a solved "
                              f"trial keeps its last value){where}")
                out.append((stem, fig))
        return out


def _copy_back_reason(net, loss: str, masked: bool) -> str | None:
    """Why Elman's copy-back learner cannot train ``net`` here (None: it can)."""
    if not isinstance(net, Elman):
        return f"trains an Elman net, not {type(net).__name__}"
    if loss != "mse":
        return f"trains on loss 'mse', not {loss!r}"
    if masked:
        return "changes every weight: no frozen or held entries"
    return None


def _update(arch: dict, update: str) -> str:
    """The learner of ``arch``: its own ``learner = "copy_back"``, else train.update (LSTM archs) or exact BPTT."""
    if arch["learner"] == "copy_back":
        return "copy_back"
    return update if arch["kind"] == "lstm" else "sequence"


def solved_curve(curve: np.ndarray, solved_at: float) -> np.ndarray:
    """A trial's evaluation curve with its last value carried past the point where training
    stopped on success (the net no longer changes), so that a mean over trials does not
    drop the solved ones; an unsolved (or diverged) trial's curve is returned as it is."""
    curve = np.array(curve, dtype=float)
    if not math.isfinite(solved_at):
        return curve
    done = np.flatnonzero(np.isfinite(curve))
    if len(done):
        curve[done[-1] + 1:] = curve[done[-1]]
    return curve


def _masks(params, spec: list[str], source: str, key: str) -> dict:
    """seqlearn's masks of ``NAME`` / ``NAME[:, j]`` entries; errors name ``key``."""
    try:
        return _freeze_masks(params, spec, source)
    except ScenarioError as exc:
        raise ScenarioError(source, key, exc.message) from None


def _zeroed(params, spec: list[str]):
    """``params`` with the entries named in ``spec`` (``NAME`` or ``NAME[:, j]``) set to 0."""
    if not spec:
        return params
    masks = _masks(params, spec, "", "train.zero")
    return params._replace(**{f: np.asarray(getattr(params, f)) * m for f, m in masks.items()})


def success_gap_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95 % interval of p1 - p2 for k1 of n1 and k2 of n2 successes: Newcombe's (1998) hybrid score
    interval from the two Wilson intervals (it treats the proportions as independent; the archs
    of a trial share its sequences, so it is conservative when their outcomes correlate)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def _arch_names(trial: dict) -> list[str]:
    return list(dict.fromkeys(k.split(".", 1)[0] for k in trial))
