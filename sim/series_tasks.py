r"""Series-prediction and counting tasks for the sequence nets (issue 5, item 5).

Arrays follow :mod:`sim.sequence_tasks`: inputs xs (T, B, I), targets (T, B, K) when every
step is scored or (B, K) when only the last is; float64; generators take a
``numpy.random.Generator``.

* :func:`mackey_glass` -- the Mackey-Glass delay differential equation (Mackey & Glass
  1977, "Oscillation and chaos in physiological control systems", Science 197, 287-289):

      dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t),

  beta = 0.2, gamma = 0.1, n = 10; tau = 17 gives the chaotic series used as a prediction
  benchmark since Farmer & Sidorowich (1987) [recalled]. Integrated by classical RK4
  with step dt (tau / dt an integer), the delayed term at half steps by linear
  interpolation of the stored history (so the scheme is second order in dt;
  tests/test_series_tasks.py measures it), sampled every ``sample`` time units, after a
  transient. Constant initial history x0 (default 1.2), or x0 + U(-0.1, 0.1) per
  sample path with an rng. Fixed point x* = (beta / gamma - 1)^(1/n) (= 1 for the
  defaults), stable for small tau.
* :func:`noisy_sine` -- x_t = sin(2 pi t / period + phi) + noise * N(0, 1), phi ~ U[0, 2 pi).
* :func:`sliding_windows` -- the windowed form of one-step prediction: input the w values
  x_m .. x_{m+w-1}, target x_{m+w+h-1} (horizon h = 1: the next value), many-to-one.
  :func:`next_step` is the streamed form: input x_t, target x_{t+1} at every step.
  :func:`persistence_mse` is the memoryless baseline "predict the last seen value".
* :func:`counting` -- a Bernoulli(p) bit stream; the target at every step is the number of
  ones so far (the counting network of the course notes, worked example We, solves it
  exactly: :func:`nets.rnn.counter`), or that number mod m as a one-hot class.

:data:`SERIES_TASK_KEYS` holds the scenario ``[data]`` schemas; :func:`make_series_task`
builds the :class:`sim.sequence_tasks.SequenceTask` of a validated table.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .schema import Key

__all__ = ["mackey_glass", "noisy_sine", "sliding_windows", "next_step", "persistence_mse", "counting",
           "series_prediction", "mackey_glass_pool", "persistence_baseline", "make_series_task", "SERIES_TASK_KEYS", "SERIES"]

SERIES = ("sine", "mackey_glass")


def mackey_glass(n: int, *, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1, n_exp: float = 10.0,
                 dt: float = 0.1, sample: float = 1.0, x0: float = 1.2, transient: float = 500.0,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """n samples of the Mackey-Glass series (module docstring), shape (n,), float64.

    Parameters
    ----------
    n : int >= 1, number of samples returned (every ``sample`` time units after ``transient``)
    tau, beta, gamma, n_exp : the equation's delay and constants
    dt : RK4 step; tau / dt and sample / dt must be integers
    x0 : constant initial history on [-tau, 0]
    rng : optional; perturbs x0 by U(-0.1, 0.1) (a different sample path per draw)
    """
    x0 = x0 + (rng.uniform(-0.1, 0.1) if rng is not None else 0.0)
    return _mackey_glass_paths(n, np.array([x0]), tau=tau, beta=beta, gamma=gamma, n_exp=n_exp, dt=dt,
                               sample=sample, transient=transient)[0]


def _mackey_glass_paths(n: int, x0: np.ndarray, *, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                        n_exp: float = 10.0, dt: float = 0.1, sample: float = 1.0,
                        transient: float = 500.0) -> np.ndarray:
    """:func:`mackey_glass` for P constant initial histories x0 (P,) at once: (P, n).

    The same RK4 operations on arrays of the P paths (one Python loop over the time steps
    for all of them, which is what makes a batch of windows cheap).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    d, s = tau / dt, sample / dt
    if not (dt > 0 and abs(d - round(d)) < 1e-9 and round(d) >= 1 and abs(s - round(s)) < 1e-9 and round(s) >= 1):
        raise ValueError(f"tau / dt and sample / dt must be integers >= 1 (tau={tau}, sample={sample}, dt={dt})")
    if transient < 0:
        raise ValueError(f"transient must be >= 0, got {transient}")
    d, s = int(round(d)), int(round(s))
    start = int(math.ceil(transient / dt))
    steps = start + (n - 1) * s
    x = np.empty((d + steps + 1, len(x0)))
    x[:d + 1] = x0

    def f(xt, xd):
        return beta * xd / (1.0 + xd ** n_exp) - gamma * xt

    for k in range(d, d + steps):  # x[k] is x at time (k - d) dt
        lag0, lag1 = x[k - d], x[k - d + 1]
        lagh = 0.5 * (lag0 + lag1)
        k1 = f(x[k], lag0)
        k2 = f(x[k] + 0.5 * dt * k1, lagh)
        k3 = f(x[k] + 0.5 * dt * k2, lagh)
        k4 = f(x[k] + dt * k3, lag1)
        x[k + 1] = x[k] + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.ascontiguousarray(x[d + start::s][:n].T)


def noisy_sine(n: int, *, period: float = 20.0, noise: float = 0.0, rng: np.random.Generator) -> np.ndarray:
    """n samples of sin(2 pi t / period + phi) + noise N(0, 1), phi ~ U[0, 2 pi); shape (n,)."""
    if n < 1 or not period > 0 or noise < 0:
        raise ValueError(f"need n >= 1, period > 0, noise >= 0 (got {n}, {period}, {noise})")
    t = np.arange(n)
    phi = rng.uniform(0.0, 2 * np.pi)
    return np.sin(2 * np.pi * t / period + phi) + noise * rng.standard_normal(n)


def sliding_windows(series, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``window`` values and the value ``horizon`` steps after its end.

    Returns
    -------
    xs : ndarray (window, M, 1), xs[:, m, 0] = series[m : m + window]
    ys : ndarray (M, 1), ys[m, 0] = series[m + window + horizon - 1]
    with M = len(series) - window - horizon + 1 >= 1.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {x.shape}")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be >= 1, got {window} and {horizon}")
    M = len(x) - window - horizon + 1
    if M < 1:
        raise ValueError(f"a series of {len(x)} values has no window of {window} with horizon {horizon}")
    idx = np.arange(window)[:, None] + np.arange(M)[None, :]
    return x[idx][..., None], x[window + horizon - 1:window + horizon - 1 + M, None]


def next_step(series) -> tuple[np.ndarray, np.ndarray]:
    """The streamed form: xs (T-1, 1, 1) = x_0..x_{T-2}, ys (T-1, 1, 1) = x_1..x_{T-1}."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"series must be 1-D with >= 2 values, got shape {x.shape}")
    return x[:-1, None, None].copy(), x[1:, None, None].copy()


def persistence_mse(xs: np.ndarray, ys: np.ndarray) -> float:
    """MSE of predicting the last input value (memoryless baseline) for windows (xs, ys)."""
    return float(np.mean((xs[-1] - ys) ** 2))


def series_prediction(n_windows: int, window: int, *, series: str = "mackey_glass", horizon: int = 1,
                      noise: float = 0.0, period: float = 20.0, tau: float = 17.0,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n_windows many-to-one examples (xs (window, B, 1), ys (B, 1)).

    "sine": each example from its own sample path (random phase, plus noise).
    "mackey_glass": a window at a random path and offset of :func:`mackey_glass_pool`
    (64 paths x 2,000 samples on the attractor, every time unit, mapped to [-1, 1] by
    (x - 0.9) / 0.5 [an affine rescale for tanh nets]), plus noise. Training and test
    windows come from the same pool (one chaotic attractor; a test window is a fresh draw,
    not a held-out stretch of time).
    """
    if series not in SERIES:
        raise ValueError(f"series must be one of {SERIES}, got {series!r}")
    if n_windows < 1:
        raise ValueError(f"n_windows must be >= 1, got {n_windows}")
    L = window + horizon
    xs, ys = np.empty((window, n_windows, 1)), np.empty((n_windows, 1))
    if series == "mackey_glass":
        pool = mackey_glass_pool(tau)
        if L > pool.shape[1]:
            raise ValueError(f"window + horizon = {L} exceeds the {pool.shape[1]} samples of a pooled path")
        path = rng.integers(0, pool.shape[0], size=n_windows)
        off = rng.integers(0, pool.shape[1] - L + 1, size=n_windows)
        paths = pool[path[:, None], off[:, None] + np.arange(L)] + noise * rng.standard_normal((n_windows, L))
    for m in range(n_windows):
        x = noisy_sine(L, period=period, noise=noise, rng=rng) if series == "sine" else paths[m]
        a, b = sliding_windows(x, window, horizon)
        xs[:, m], ys[m] = a[:, 0], b[0]
    return xs, ys


def counting(T: int, batch: int, *, p: float = 0.5, modulo: int | None = None,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A Bernoulli(p) bit stream and the running count of ones.

    Returns
    -------
    xs : ndarray (T, B, 1) of 0/1
    ys : ndarray (T, B, 1): ys[t] = sum_{s <= t} xs[s]; or, with ``modulo`` m, (T, B, m):
        one-hot of that count mod m
    """
    if T < 1 or batch < 1 or not 0.0 <= p <= 1.0:
        raise ValueError(f"need T >= 1, batch >= 1, 0 <= p <= 1 (got {T}, {batch}, {p})")
    xs = (rng.random((T, batch, 1)) < p).astype(np.float64)
    count = np.cumsum(xs, axis=0)
    if modulo is None:
        return xs, count
    if modulo < 2:
        raise ValueError(f"modulo must be >= 2, got {modulo}")
    return xs, np.eye(modulo)[(count[..., 0].astype(np.int64)) % modulo]


SERIES_TASK_KEYS: dict[str, dict[str, Key]] = {
    "series_prediction": {
        "series": Key("str", default="mackey_glass", choices=SERIES, doc="the series predicted"),
        "window": Key("int", default=20, min=1, doc="values read before predicting"),
        "horizon": Key("int", default=1, min=1, doc="predict the value this many steps after the window"),
        "noise": Key("float", default=0.0, min=0.0, doc="std of Gaussian noise added to the series"),
        "period": Key("float", default=20.0, min=1e-9, doc="sine period (series = 'sine')"),
        "tau": Key("float", default=17.0, min=1.0, doc="Mackey-Glass delay (17: chaotic)"),
    },
    "counting": {
        "T": Key("int", default=20, min=1, doc="stream length"),
        "p": Key("float", default=0.5, min=0.0, max=1.0, doc="probability of a one"),
        "modulo": Key("int", default=None, min=2, doc="classify the count mod m (default: regress the count)"),
    },
}


@functools.lru_cache(maxsize=4)
def mackey_glass_pool(tau: float = 17.0) -> np.ndarray:
    """Read-only (64, 2000) Mackey-Glass samples in the units (x - 0.9) / 0.5 of
    :func:`series_prediction`: constant initial histories evenly spaced in [1.1, 1.3],
    the default transient (500) dropped; computed once per process (~1-2 s), cached."""
    x = (_mackey_glass_paths(2000, np.linspace(1.1, 1.3, 64), tau=tau) - 0.9) / 0.5
    x.setflags(write=False)
    return x


@functools.lru_cache(maxsize=8)
def persistence_baseline(series: str = "mackey_glass", *, horizon: int = 1, noise: float = 0.0,
                         period: float = 20.0, tau: float = 17.0) -> float:
    """Expected MSE of "predict the last seen value" on :func:`series_prediction` windows.

    E[(x_{m+h} - x_m)^2] + 2 noise^2 (independent noise on both values). Sine: exactly
    1 - cos(2 pi h / period) (random phase). Mackey-Glass: the average over every pair of
    :func:`mackey_glass_pool` (the windows' source); deterministic, cached.
    """
    if series == "sine":
        base = 1.0 - math.cos(2 * math.pi * horizon / period)
    else:
        x = mackey_glass_pool(tau)
        base = float(np.mean((x[:, horizon:] - x[:, :-horizon]) ** 2))
    return base + 2.0 * noise ** 2


def make_series_task(data: dict):
    """The :class:`sim.sequence_tasks.SequenceTask` of a validated ``[data]`` table.

    Scores (dict, as :mod:`sim.protocols.seqlearn` reads them): series prediction ``mse``,
    ``mse_ratio`` (to :func:`persistence_baseline`, the task's ``baselines["mse"]``),
    ``solved`` = MSE below the persistence baseline; counting ``accuracy`` (every step's
    count within 0.5, or the argmax class mod m), ``mse`` (regression), ``solved`` =
    every count of the test set right.
    """
    from .sequence_tasks import SequenceTask
    name = data["task"]
    if name == "series_prediction":
        kw = {k: data[k] for k in ("series", "horizon", "noise", "period", "tau")}
        w = data["window"]
        base = persistence_baseline(**kw)

        def score(pairs):
            mse = float(np.mean(np.concatenate([((y[-1] if y.ndim == 3 else y) - t).ravel() ** 2
                                                for y, t in pairs])))
            return {"mse": mse, "mse_ratio": mse / base, "solved": mse < base}

        return SequenceTask(name, 1, 1, "identity", "mse", lambda B, rng: series_prediction(B, w, rng=rng, **kw),
                            score, {"mse": base}, math.nan, w, "test MSE below the persistence baseline")
    if name == "counting":
        T, p, m = data["T"], data["p"], data.get("modulo")

        def score_count(pairs):
            if m is None:
                err = np.concatenate([np.abs(y - t).ravel() for y, t in pairs])
                acc = float(np.mean(err < 0.5))
                return {"mse": float(np.mean(err ** 2)), "accuracy": acc, "solved": acc == 1.0}
            ok = np.concatenate([(y.argmax(-1) == t.argmax(-1)).ravel() for y, t in pairs])
            return {"accuracy": float(np.mean(ok)), "solved": bool(np.all(ok))}

        return SequenceTask(name, 1, 1 if m is None else m, "identity" if m is None else "softmax",
                            "mse" if m is None else "cross_entropy",
                            lambda B, rng: counting(T, B, p=p, modulo=m, rng=rng), score_count, {},
                            math.nan if m is None else 1.0 / m, T, "every count right (|error| < 0.5)")
    raise ValueError(f"unknown series task {name!r}; expected one of {', '.join(SERIES_TASK_KEYS)}")
