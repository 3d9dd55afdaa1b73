r"""Sequence-learning tasks: the long-time-lag benchmarks of the gated-net literature.

Every generator is a pure function of its parameters and a ``numpy.random.Generator``;
inputs are float64 arrays ``xs`` of shape (T, B, I) (time, batch, input units); targets
are (T, B, K) when every step is scored (many-to-many) or (B, K) when only the last step
is (many-to-one). Symbols are one-hot. Each docstring names its source and the
memoryless (chance) baseline a net that keeps no memory of the informative inputs gets.

* :func:`adding` -- the modern adding problem (Le, Jaitly & Hinton 2015; Arjovsky, Shah &
  Bengio 2016): rows (value U[0, 1], marker), exactly two markers, one in each half;
  target X1 + X2 at the end. Baseline: always predicting E[X1 + X2] = 1 has MSE
  Var(X1 + X2) = 2/12 = 1/6 [computed] (0.1667; values U[-1, 1]: predict 0, MSE 2/3).
* :func:`adding_1997` -- Hochreiter & Schmidhuber (1997) Exp. 4 [paper]: pairs (value
  U[-1, 1], marker in {-1, 0, 1}), length uniform in [T, T + T/10]; X1 marked among the
  first 10 pairs, X2 among the first T/2 - 1 still unmarked; first and last markers -1
  (when the first pair is marked, X1 = 0); target 0.5 + (X1 + X2)/4; correct if
  |error| < 0.04. Baseline: predict 0.5, MSE Var((X1 + X2)/4) = (2/3)/16 = 1/24 [computed]
  (slightly less, since X1 = 0 in the rare first-pair case).
* :func:`copy_memory` -- Arjovsky et al. (2016) [definition]: 10 symbols from a1..a8, T - 1
  blanks a0, the delimiter a9, 10 blanks; target T + 10 blanks then the 10 symbols.
  Memoryless baseline CE ``10 ln 8 / (T + 20)`` per step (:func:`copy_baseline`).
* :func:`noise_free_lags` -- H&S 1997 Exp. 2a [paper]: p + 1 symbols, the sequences
  (y, a1, ..., a_{p-1}, y) and (x, a1, ..., a_{p-1}, x) with probability 1/2 each;
  predict the next symbol at every step; only the last prediction needs memory (chance
  1/2 on it). Exp. 2b: the middle is random a_i (then only the final target is scored
  here, since the other next symbols are unpredictable).
* Reber grammar (Reber 1967; Cleeremans, Servan-Schreiber & McClelland 1989; H&S 1997
  Exp. 1) [definition, SCENARIOS.md 7.1], in :mod:`sim.reber` (re-exported here): :func:`reber_string`,
  :func:`embedded_reber_string`, legality checks :func:`is_reber` and
  :func:`is_embedded_reber`, :func:`reber_next_sets` (the legal next symbols after each
  prefix), :func:`embedded_reber` (one-hot batches; target = the set of legal next
  symbols, multi-hot) and :func:`continual_embedded_reber` (CERG, Gers et al. 2000:
  ERG strings concatenated without resets); :class:`ContinualReberStream` reads B such
  streams chunk by chunk for truncated BPTT (task ``continual_reber``), :func:`outer_steps`
  marks the outer T/P predictions. Memoryless baseline: the second-to-last
  symbol (T or P, the same as the second) is a coin flip without memory.
* :func:`temporal_order` -- H&S 1997 Exp. 6a/6b [paper]: E, distractors a-d, X/Y at two
  (6a, 4 classes) or three (6b, 8 classes) random times, B at the end; length 100-110;
  correct if every output's final |error| < 0.3. Chance 1/4 (6a), 1/8 (6b).
* :func:`latch` -- Bengio, Simard & Frasconi (1994) latching problem [secondary,
  SCENARIOS.md section 6]: the class sets the first L inputs (trainable values, through
  one-hot input columns), Gaussian noise of variance 0.2 afterwards; target +-0.8 at T.
  Chance 1/2.
* :func:`delay_recall` -- the retention task of the lab (issue 7): one of n symbols at
  step 0, ``lag`` steps of blank (or random distractor) input, a recall cue; target the
  symbol at the cue. Chance 1/n; normalised fidelity (acc - 1/n) / (1 - 1/n).

Variable-length tasks (adding_1997, temporal order, ERG) draw one length per batch (for
ERG: every string of a batch has the length of the first one, drawn from the natural
distribution, so each string is still distributed as the grammar says); with batch 1 this
is the papers' online setting.

:func:`make_task` wraps a validated ``[data]`` table into a :class:`SequenceTask` (sizes,
loss, output layer, sampler, test scores and baselines) for :mod:`sim.protocols.seqlearn`;
:data:`SEQUENCE_TASK_KEYS` holds their scenario schemas (merged into
:data:`sim.tasks.TASKS`).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .reber import (REBER_SYMBOLS, ContinualReberStream, continual_embedded_reber, embedded_reber,
                    embedded_reber_string, encode_reber, is_embedded_reber, is_reber, outer_steps,
                    reber_next_sets, reber_string)
from .schema import Key

__all__ = ["adding", "adding_1997", "copy_memory", "copy_baseline", "noise_free_lags",
           "REBER_SYMBOLS", "reber_string", "embedded_reber_string", "is_reber", "is_embedded_reber",
           "reber_next_sets", "encode_reber", "embedded_reber", "continual_embedded_reber",
           "ContinualReberStream", "outer_steps",
           "temporal_order", "latch", "delay_recall", "SequenceTask", "make_task", "SEQUENCE_TASK_KEYS"]


def _check_batch(batch: int) -> None:
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")


# --- adding problem ---------------------------------------------------------------------
def adding(T: int, batch: int, *, values: str = "unit", rng: np.random.Generator):
    """The modern adding problem (Le et al. 2015; Arjovsky et al. 2016).

    Parameters
    ----------
    T : int >= 2, sequence length
    batch : int >= 1
    values : {"unit", "symmetric"}: values U[0, 1] or U[-1, 1]
    rng : numpy Generator

    Returns
    -------
    xs : ndarray (T, B, 2): row 0 the values, row 1 the markers (exactly two 1s: one in
        the first T/2 steps, one in the rest)
    ys : ndarray (B, 1): the sum of the two marked values
    """
    if T < 2:
        raise ValueError(f"the adding problem needs T >= 2, got {T}")
    _check_batch(batch)
    if values not in ("unit", "symmetric"):
        raise ValueError(f"values must be 'unit' or 'symmetric', got {values!r}")
    lo = 0.0 if values == "unit" else -1.0
    xs = np.zeros((T, batch, 2))
    xs[:, :, 0] = rng.uniform(lo, 1.0, size=(T, batch))
    half = T // 2
    i1 = rng.integers(0, half, size=batch)
    i2 = rng.integers(half, T, size=batch)
    b = np.arange(batch)
    xs[i1, b, 1] = 1.0
    xs[i2, b, 1] = 1.0
    ys = (xs[i1, b, 0] + xs[i2, b, 0])[:, None]
    return xs, ys


def adding_1997(T: int, batch: int, *, rng: np.random.Generator):
    """The adding problem of Hochreiter & Schmidhuber (1997), Exp. 4 (module docstring).

    One length L uniform in [T, T + T // 10] per batch.

    Returns
    -------
    xs : ndarray (L, B, 2): (value U[-1, 1], marker in {-1, 0, 1})
    ys : ndarray (B, 1): 0.5 + (X1 + X2) / 4
    """
    if T < 22:
        raise ValueError(f"the 1997 adding problem needs T >= 22 (X2 among the first T/2 - 1 pairs), got {T}")
    _check_batch(batch)
    L = int(rng.integers(T, T + T // 10 + 1))
    xs = np.zeros((L, batch, 2))
    xs[:, :, 0] = rng.uniform(-1.0, 1.0, size=(L, batch))
    xs[0, :, 1] = -1.0
    xs[-1, :, 1] = -1.0
    b = np.arange(batch)
    i1 = rng.integers(0, 10, size=batch)
    # X2: one of the first T/2 - 1 pairs other than i1 (draw among T/2 - 2 and skip i1)
    j = rng.integers(0, T // 2 - 2, size=batch)
    i2 = j + (j >= i1)
    xs[i1, b, 1] = 1.0
    xs[i2, b, 1] = 1.0
    xs[0, (i1 == 0) | (i2 == 0), 0] = 0.0  # "in the rare case where the first pair is marked, X1 = 0"
    ys = (0.5 + (xs[i1, b, 0] + xs[i2, b, 0]) / 4.0)[:, None]
    return xs, ys


# --- copy memory ------------------------------------------------------------------------
def copy_baseline(T: int, n_symbols: int = 8, n_copy: int = 10) -> float:
    """Memoryless cross-entropy per step of the copy task: ``n_copy ln(n_symbols) / (T + 2 n_copy)``.

    Blanks are predicted exactly for the first T + n_copy steps, the n_copy recalled
    symbols are guessed uniformly (Arjovsky et al. 2016) [computed]; 10 ln 8 / 120 =
    0.1733 for T = 100.
    """
    if T < 1 or n_symbols < 2 or n_copy < 1:
        raise ValueError("need T >= 1, n_symbols >= 2, n_copy >= 1")
    return n_copy * math.log(n_symbols) / (T + 2 * n_copy)


def copy_memory(T: int, batch: int, *, n_symbols: int = 8, n_copy: int = 10, rng: np.random.Generator):
    """The copying memory task (Arjovsky, Shah & Bengio 2016) [definition].

    Alphabet a0 (blank), a1..a_{n_symbols} (data), a_{n_symbols + 1} (delimiter), one-hot
    over A = n_symbols + 2 units. Input: n_copy data symbols, T - 1 blanks, the delimiter,
    n_copy blanks (T + 2 n_copy steps). Target: T + n_copy blanks, then the data symbols.

    Returns
    -------
    xs : ndarray (T + 2 n_copy, B, A)
    ys : ndarray (T + 2 n_copy, B, A), one-hot targets
    """
    if T < 1:
        raise ValueError(f"the copy task needs T >= 1, got {T}")
    _check_batch(batch)
    A = n_symbols + 2
    L = T + 2 * n_copy
    data = rng.integers(1, n_symbols + 1, size=(n_copy, batch))
    sx = np.zeros((L, batch), dtype=np.int64)
    sx[:n_copy] = data
    sx[n_copy + T - 1] = n_symbols + 1
    sy = np.zeros((L, batch), dtype=np.int64)
    sy[T + n_copy:] = data
    eye = np.eye(A)
    return eye[sx], eye[sy]


# --- noise-free long time lags (1997 Exp. 2) --------------------------------------------
def noise_free_lags(p: int, batch: int, *, random_middle: bool = False, rng: np.random.Generator):
    """Hochreiter & Schmidhuber (1997) Exp. 2a (2b with ``random_middle``) [paper].

    Symbols (one-hot over p + 1 units): 0 = x, 1 = y, 2..p = a_1..a_{p-1}. A sequence is
    (s, a_1, ..., a_{p-1}, s) with s in {x, y} equiprobable (2b: the middle a_i drawn
    uniformly). The net reads the first p symbols and predicts the next one.

    Returns
    -------
    xs : ndarray (p, B, p + 1)
    ys : ndarray (p, B, p + 1) next-symbol targets (2a); (B, p + 1) the final symbol only (2b)
    """
    if p < 2:
        raise ValueError(f"noise-free lags need p >= 2, got {p}")
    _check_batch(batch)
    s = rng.integers(0, 2, size=batch)
    seq = np.empty((p + 1, batch), dtype=np.int64)
    seq[0] = s
    seq[-1] = s
    if random_middle:
        seq[1:-1] = rng.integers(2, p + 1, size=(p - 1, batch))
    else:
        seq[1:-1] = np.arange(2, p + 1)[:, None]
    eye = np.eye(p + 1)
    xs = eye[seq[:-1]]
    return (xs, eye[seq[-1]]) if random_middle else (xs, eye[seq[1:]])


# --- temporal order (1997 Exp. 6) -------------------------------------------------------
_ORDER_SYMBOLS = "EBabcdXY"
_ORDER_TIMES = {"6a": ((10, 20), (50, 60)), "6b": ((10, 20), (33, 43), (66, 76))}


def temporal_order(batch: int, *, variant: str = "6a", rng: np.random.Generator):
    """Hochreiter & Schmidhuber (1997) Exp. 6 [paper]: classify the order of X/Y symbols.

    Inputs one-hot over E, B, a, b, c, d, X, Y. A sequence starts with E, ends with B,
    has random a-d elsewhere except at times t_i (t1 in [10, 20], t2 in [50, 60]; 6b:
    t2 in [33, 43], t3 in [66, 76]; 0-based positions of the 1-based times) which hold X
    or Y; one length in [100, 110] per batch. Class = the X/Y pattern read as binary (6a:
    XX, XY, YX, YY -> 0..3; 6b: 8 classes).

    Returns
    -------
    xs : ndarray (L, B, 8)
    ys : ndarray (B, C) one-hot class, C = 4 (6a) or 8 (6b)
    """
    if variant not in _ORDER_TIMES:
        raise ValueError(f"variant must be '6a' or '6b', got {variant!r}")
    _check_batch(batch)
    times = _ORDER_TIMES[variant]
    L = int(rng.integers(100, 111))
    seq = rng.integers(2, 6, size=(L, batch))
    seq[0] = 0
    seq[-1] = 1
    bits = rng.integers(0, 2, size=(len(times), batch))
    b = np.arange(batch)
    for k, (lo, hi) in enumerate(times):
        t = rng.integers(lo, hi + 1, size=batch) - 1
        seq[t, b] = 6 + bits[k]
    cls = np.zeros(batch, dtype=np.int64)
    for k in range(len(times)):
        cls = 2 * cls + bits[k]
    return np.eye(8)[seq], np.eye(2 ** len(times))[cls]


# --- Bengio's latch ---------------------------------------------------------------------
def latch(T: int, batch: int, *, L: int = 3, noise_var: float = 0.2, rng: np.random.Generator):
    """The minimal latching problem of Bengio, Simard & Frasconi (1994) [secondary].

    The class c in {0, 1} (equiprobable) selects the first L inputs: at step t < L input
    unit c L + t is 1 (its input weight plays the trainable value h_t of class c); from
    step L on, input unit 2L carries Gaussian noise of variance ``noise_var``.

    Returns
    -------
    xs : ndarray (T, B, 2L + 1)
    ys : ndarray (B, 1): +0.8 for class 0, -0.8 for class 1
    """
    if T <= L or L < 1:
        raise ValueError(f"latch needs 1 <= L < T, got L = {L}, T = {T}")
    _check_batch(batch)
    if noise_var < 0:
        raise ValueError("noise_var must be >= 0")
    c = rng.integers(0, 2, size=batch)
    xs = np.zeros((T, batch, 2 * L + 1))
    b = np.arange(batch)
    for t in range(L):
        xs[t, b, c * L + t] = 1.0
    xs[L:, :, 2 * L] = rng.normal(0.0, math.sqrt(noise_var), size=(T - L, batch))
    return xs, np.where(c == 0, 0.8, -0.8)[:, None]


# --- delayed recall (retention) ---------------------------------------------------------
def delay_recall(lag: int, batch: int, *, n_symbols: int = 8, distractors: str = "blank",
                 rng: np.random.Generator):
    """Delayed recall: remember one of n symbols over ``lag`` steps (the lab's retention task).

    Input units: n symbol units, n distractor units, 1 cue unit. Step 0 shows the symbol,
    steps 1..lag are blank (all zero) or show a random distractor (``"noise"``), step
    lag + 1 shows the cue; the target at that last step is the symbol (chance 1/n).

    Returns
    -------
    xs : ndarray (lag + 2, B, 2 n + 1)
    ys : ndarray (B, n) one-hot symbol
    """
    if lag < 0 or n_symbols < 2:
        raise ValueError(f"need lag >= 0 and n_symbols >= 2, got {lag}, {n_symbols}")
    if distractors not in ("blank", "noise"):
        raise ValueError(f"distractors must be 'blank' or 'noise', got {distractors!r}")
    _check_batch(batch)
    n = n_symbols
    sym = rng.integers(0, n, size=batch)
    xs = np.zeros((lag + 2, batch, 2 * n + 1))
    b = np.arange(batch)
    xs[0, b, sym] = 1.0
    if distractors == "noise" and lag:
        d = rng.integers(0, n, size=(lag, batch))
        xs[1 + np.arange(lag)[:, None], b[None, :], n + d] = 1.0
    xs[-1, :, 2 * n] = 1.0
    return xs, np.eye(n)[sym]


# --- task objects for the protocol -----------------------------------------------------
@dataclass
class SequenceTask:
    """A task as :mod:`sim.protocols.seqlearn` uses it.

    Attributes
    ----------
    name : str
    n_inputs, n_outputs : int
    output : str, the output layer g ("identity", "sigmoid", "softmax")
    loss : str, the training loss ("mse", "cross_entropy", ...)
    sample : callable (batch, rng) -> (xs, ys)
    score : callable (list of (y, ys)) -> dict of test metrics, y the net's outputs (T, B, K)
    baselines : dict metric -> the memoryless value of that metric
    chance : float, accuracy of guessing (for fidelity = (acc - chance) / (1 - chance))
    length : int, the (minimal) sequence length (for gradient-vs-lag figures)
    success : str, the trial's success criterion in words
    stream : callable (batch, rng) -> next_chunk, optional: a continual task. ``next_chunk()``
        returns the next (xs, ys) chunk (L, B, ...) of ``batch`` parallel streams that are
        never reset; ``sample(n, rng)`` then gives one fresh stream of n strings (test sets)
    headline : str, optional: the default metric of figures (see :attr:`primary`)
    """

    name: str
    n_inputs: int
    n_outputs: int
    output: str
    loss: str
    sample: Callable
    score: Callable
    baselines: dict = field(default_factory=dict)
    chance: float = math.nan
    length: int = 0
    success: str = ""
    stream: Callable | None = None
    headline: str = ""

    @property
    def continual(self) -> bool:
        """Whether training reads chunks of never-reset streams (:attr:`stream`)."""
        return self.stream is not None

    @property
    def primary(self) -> str:
        """The metric figures show by default (``headline``, else the one with a baseline, else accuracy)."""
        return self.headline or next(iter(self.baselines), "accuracy")


def _last(y):
    return y[-1] if y.ndim == 3 else y


def _fidelity(acc, chance):
    return (acc - chance) / (1.0 - chance)


def _score_regression(tol, baseline, solved_mse):
    def score(pairs):
        err = np.concatenate([(_last(y) - ys).ravel() for y, ys in pairs])
        mse = float(np.mean(err ** 2))
        acc = float(np.mean(np.abs(err) < tol))
        return {"mse": mse, "mse_ratio": mse / baseline, "accuracy": acc, "solved": mse < solved_mse}
    return score


def _ce_rows(y, t):
    return -np.sum(t * np.log(np.maximum(y, 1e-300)), axis=-1)


def _score_classes(chance, threshold=None):
    """Many-to-one classification: accuracy by argmax (softmax), or by |error| < threshold on
    every output (sigmoid outputs, the 1997 criterion)."""
    def score(pairs):
        ok, ce = [], []
        for y, ys in pairs:
            yl = _last(y)
            if threshold is None:
                ok.append(np.argmax(yl, axis=-1) == np.argmax(ys, axis=-1))
                ce.append(_ce_rows(yl, ys))
            else:
                ok.append(np.all(np.abs(yl - ys) < threshold, axis=-1))
                ce.append(np.mean((yl - ys) ** 2, axis=-1))
        acc = float(np.mean(np.concatenate(ok)))
        out = {"accuracy": acc, "fidelity": _fidelity(acc, chance), "solved": acc >= 0.99}
        out["ce" if threshold is None else "mse"] = float(np.mean(np.concatenate(ce)))
        return out
    return score


def _score_copy(baseline, n_copy):
    def score(pairs):
        ce, ok = [], []
        for y, ys in pairs:
            ce.append(_ce_rows(y, ys).mean(axis=0))                       # (B,) per-step mean
            ok.append(np.argmax(y[-n_copy:], -1) == np.argmax(ys[-n_copy:], -1))
        c = float(np.mean(np.concatenate(ce)))
        acc = float(np.mean(np.concatenate(ok, axis=1)))
        return {"ce": c, "ce_ratio": c / baseline, "accuracy": acc, "fidelity": _fidelity(acc, 1 / 8),
                "solved": c < 0.5 * baseline}
    return score


def _score_noise_free(final_only):
    def score(pairs):
        worst = max(float(np.max(np.abs((_last(y) if final_only else y) - ys))) for y, ys in pairs)
        last_ok = np.concatenate([np.all(np.abs(_last(y) - (ys if final_only else ys[-1])) < 0.25, axis=-1)
                                  for y, ys in pairs])
        acc = float(np.mean(last_ok))
        mse = float(np.mean(np.concatenate([((y if not final_only else _last(y)) - ys).ravel() ** 2
                                            for y, ys in pairs])))
        return {"max_error": worst, "mse": mse, "accuracy": acc, "fidelity": _fidelity(acc, 0.5),
                "solved": worst < 0.25}
    return score


def _score_reber(pairs):
    """A string is predicted when at every step the k most active outputs are exactly its k legal
    next symbols (H&S 1997, Exp. 1)."""
    ok, outer = [], []
    for y, ys in pairs:
        k = ys.sum(axis=-1).astype(int)                                   # (L, B)
        order = np.argsort(-y, axis=-1)
        good = np.ones(y.shape[:2], dtype=bool)
        for t in range(y.shape[0]):
            for b in range(y.shape[1]):
                good[t, b] = np.all(ys[t, b, order[t, b, :k[t, b]]] == 1.0)
        ok.append(good.all(axis=0))
        outer.append(good[-2])                                            # the remembered T/P
    acc = float(np.mean(np.concatenate(ok)))
    o = float(np.mean(np.concatenate(outer)))
    return {"accuracy": acc, "outer_accuracy": o, "fidelity": _fidelity(o, 0.5), "solved": acc == 1.0}


def _score_continual_reber(pairs):
    """Continual ERG streams: a symbol is predicted when every legal next symbol's output exceeds
    every illegal one's (the top-k rule of :func:`_score_reber`, ties counted as errors).
    accuracy = fraction of symbols predicted, outer_accuracy = the same at the outer T/P steps
    (:func:`outer_steps`), outer_solved = 1.0 if outer_accuracy >= :data:`OUTER_SOLVED` (the
    outer symbol learned; chance is 1/2), else 0.0; solved = every symbol of the stream predicted."""
    good, outer = [], []
    for y, ys in pairs:
        lo = np.where(ys == 1, y, np.inf).min(axis=-1)
        hi = np.where(ys == 0, y, -np.inf).max(axis=-1)
        good.append((lo > hi).ravel())
        outer.append(outer_steps(ys).ravel())
    good, outer = np.concatenate(good), np.concatenate(outer)
    o = float(np.mean(good[outer])) if outer.any() else math.nan
    return {"accuracy": float(np.mean(good)), "outer_accuracy": o, "fidelity": _fidelity(o, 0.5),
            "outer_solved": float(o >= OUTER_SOLVED), "solved": bool(good.all())}


#: continual ERG: a net has learned the outer T/P when it predicts it at this rate (SCENARIOS.md L4)
OUTER_SOLVED = 0.95


def _continual_stream(pieces: int, steps: int):
    def make(batch, rng):
        return functools.partial(ContinualReberStream(batch, rng=rng).chunk, strings=0 if steps else pieces,
                                 steps=steps)
    return make


def _one_stream(n: int, rng):
    """A fresh continual ERG stream of n strings as a batch of one: xs, ys (L, 1, 7)."""
    xs, ys = ContinualReberStream(1, rng=rng).chunk(strings=n)
    return xs, ys


def make_task(data: dict) -> SequenceTask:
    """The :class:`SequenceTask` of a validated ``[data]`` table (keys: :data:`SEQUENCE_TASK_KEYS`)."""
    name = data["task"]
    if name == "adding":
        T, vals = data["T"], data["values"]
        base = 1.0 / 6.0 if vals == "unit" else 2.0 / 3.0
        return SequenceTask(name, 2, 1, "identity", "mse",
                            lambda B, rng: adding(T, B, values=vals, rng=rng),
                            _score_regression(0.04, base, 0.01), {"mse": base}, math.nan, T,
                            "test MSE < 0.01")
    if name == "adding_1997":
        T = data["T"]
        return SequenceTask(name, 2, 1, data["output"], "mse",
                            lambda B, rng: adding_1997(T, B, rng=rng),
                            _score_regression(0.04, 1.0 / 24.0, 0.01), {"mse": 1.0 / 24.0}, math.nan, T,
                            "test MSE < 0.01")
    if name == "copy":
        T, n_copy = data["T"], data["n_copy"]
        base = copy_baseline(T, 8, n_copy)
        return SequenceTask(name, 10, 10, "softmax", "cross_entropy",
                            lambda B, rng: copy_memory(T, B, n_copy=n_copy, rng=rng),
                            _score_copy(base, n_copy), {"ce": base}, 1 / 8, T + 2 * n_copy,
                            "test CE < 0.5 x baseline")
    if name == "noise_free_lags":
        p, rand = data["p"], data["random_middle"]
        return SequenceTask(name, p + 1, p + 1, "sigmoid", "mse",
                            lambda B, rng: noise_free_lags(p, B, random_middle=rand, rng=rng),
                            _score_noise_free(rand), {}, 0.5, p,
                            "max |output error| < 0.25 on every test sequence")
    if name == "embedded_reber":
        return SequenceTask(name, 7, 7, data["output"], "mse" if data["output"] == "sigmoid" else "bce",
                            lambda B, rng: embedded_reber(B, rng=rng), _score_reber, {}, 0.5, 10,
                            "every symbol of every test string predicted")
    if name == "continual_reber":
        return SequenceTask(name, 7, 7, "sigmoid", data["loss"], _one_stream, _score_continual_reber, {}, 0.5,
                            100, "every symbol of the test stream predicted",
                            stream=_continual_stream(data["chunk_strings"], data["chunk_steps"]),
                            headline="outer_accuracy")
    if name == "temporal_order":
        v = data["variant"]
        C = 4 if v == "6a" else 8
        soft = data["output"] == "softmax"
        return SequenceTask(name, 8, C, data["output"], "cross_entropy" if soft else "mse",
                            lambda B, rng: temporal_order(B, variant=v, rng=rng),
                            _score_classes(1.0 / C, None if soft else 0.3), {}, 1.0 / C, 100,
                            "test accuracy >= 0.99")
    if name == "latch":
        T, L, nv = data["T"], data["L"], data["noise_var"]

        def score(pairs):
            yl = np.concatenate([_last(y)[:, 0] for y, _ in pairs])
            t = np.concatenate([ys[:, 0] for _, ys in pairs])
            acc_pos = float(np.mean(np.sign(yl[t > 0]) == 1)) if np.any(t > 0) else 1.0
            acc_neg = float(np.mean(np.sign(yl[t < 0]) == -1)) if np.any(t < 0) else 1.0
            acc = float(np.mean(np.sign(yl) == np.sign(t)))
            return {"mse": float(np.mean((yl - t) ** 2)), "accuracy": acc, "fidelity": _fidelity(acc, 0.5),
                    "solved": min(acc_pos, acc_neg) >= 0.9}
        return SequenceTask(name, 2 * L + 1, 1, "identity", "mse",
                            lambda B, rng: latch(T, B, L=L, noise_var=nv, rng=rng), score,
                            {"mse": 0.64}, 0.5, T, "sign correct for >= 90 % of the test sequences of each class")
    if name == "delay_recall":
        lag, n, d = data["lag"], data["n_symbols"], data["distractors"]
        return SequenceTask(name, 2 * n + 1, n, "softmax", "cross_entropy",
                            lambda B, rng: delay_recall(lag, B, n_symbols=n, distractors=d, rng=rng),
                            _score_classes(1.0 / n), {"ce": math.log(n)}, 1.0 / n, lag + 2,
                            "test accuracy >= 0.99")
    if name in ("series_prediction", "counting"):  # sim/series_tasks.py
        from .series_tasks import make_series_task
        return make_series_task(data)
    raise ValueError(f"unknown sequence task {name!r}")


#: scenario-visible sequence tasks: name -> schema of their ``[data]`` keys
SEQUENCE_TASK_KEYS: dict[str, dict[str, Key]] = {
    "adding": {
        "T": Key("int", default=100, min=2, doc="sequence length"),
        "values": Key("str", default="unit", choices=("unit", "symmetric"), doc="values U[0,1] or U[-1,1]"),
    },
    "adding_1997": {
        "T": Key("int", default=100, min=22, doc="minimal sequence length (lengths in [T, T + T/10])"),
        "output": Key("str", default="identity", choices=("identity", "sigmoid")),
    },
    "copy": {
        "T": Key("int", default=100, min=1, doc="blank delay (sequence length T + 2 n_copy)"),
        "n_copy": Key("int", default=10, min=1, doc="symbols to copy"),
    },
    "noise_free_lags": {
        "p": Key("int", default=100, min=2, doc="p + 1 symbols, sequences of length p + 1"),
        "random_middle": Key("bool", default=False, doc="Exp. 2b: random distractors in the middle"),
    },
    "embedded_reber": {
        "output": Key("str", default="sigmoid", choices=("sigmoid",), doc="sigmoid outputs, MSE (1997)"),
    },
    "continual_reber": {
        "chunk_strings": Key("int", default=6, min=1, doc="truncated-BPTT chunk: this many strings of stream 0"),
        "chunk_steps": Key("int", default=0, min=0, doc="truncated-BPTT chunk in steps (overrides chunk_strings)"),
        "loss": Key("str", default="bce", choices=("bce", "mse"), doc="sigmoid outputs with BCE or MSE"),
    },
    "temporal_order": {
        "variant": Key("str", default="6a", choices=("6a", "6b")),
        "output": Key("str", default="sigmoid", choices=("sigmoid", "softmax"),
                      doc="sigmoid + MSE (1997, correct if every |error| < 0.3) or softmax + CE (argmax)"),
    },
    "latch": {
        "T": Key("int", default=20, min=2, doc="sequence length"),
        "L": Key("int", default=3, min=1, doc="informative (trainable) first inputs"),
        "noise_var": Key("float", default=0.2, min=0.0, doc="variance of the Gaussian noise after step L"),
    },
    "delay_recall": {
        "lag": Key("int", default=10, min=0, doc="steps between the symbol and the recall cue"),
        "n_symbols": Key("int", default=8, min=2, doc="alphabet size n (chance 1/n)"),
        "distractors": Key("str", default="blank", choices=("blank", "noise")),
    },
}
