r"""Jordan's (1986) sequential network: plan units, state units fed by the output, BPTT.

Jordan, M. I. (1986). Serial order: a parallel distributed processing approach. ICS Report
8604, UC San Diego [secondary: abstracts and a textbook summary; SCENARIOS.md section 4].
Plan units hold an input x_t (a constant "plan" for the whole sequence in Jordan's use);
the state units s_t (one per output unit) hold a decaying trace of the past outputs, with a
self-loop of weight mu:

    s_0 = s_init (zero by default),    s_t = mu s_{t-1} + o_{t-1}          (t >= 1)
    h_t = f(W s_t + U x_t + b)         (W: state -> hidden, U: plan -> hidden)
    y_t = g(V h_t + c)

where the fed-back o_{t-1} is either the net's own output y_{t-1} (free running; the
generation mode) or, with **teacher forcing**, the target of step t-1 (Jordan trained this
way: "teacher forcing favors fast learning"). As a :class:`sim.core.Net` (schedule
``clocked``) the state is s, and a tick maps (s_t, x_t) to s_{t+1} = mu s_t + y_t.

Gradients (:meth:`Jordan.bptt`) of a loss L over the outputs (see :mod:`sim.train`):

* teacher forcing: every s_t is a fixed input (a function of the targets), so BPTT reduces
  to ordinary per-step backprop, summed over the steps:
  ``dz_t`` from the loss, ``dh_t = dz_t V``, ``da_t = dh_t * f'(a_t)``,
  ``dV = sum dz_t^T h_t, dc = sum dz_t, dW = sum da_t^T s_t, dU = sum da_t^T x_t, db = sum da_t``.
* free running: s_{t+1} = mu s_t + y_t closes a loop output -> state -> hidden -> output,
  and the error flows back through it:
  ``ds_T = 0;  gy_t = ds_{t+1};  dz_t = dz_t^loss + J_g(z_t)^T gy_t``,
  ``da_t = (dz_t V) * f'(a_t);  ds_t = da_t W + mu ds_{t+1}``, then the same sums.
  ``truncate = k`` keeps, of the loss term at step u, only the paths through the steps
  u, u-1, ..., u-k+1 (one buffer per age, as in :mod:`nets.rnn`): truncate = 1 treats the
  fed-back outputs as constants (the teacher-forcing gradient with the net's own outputs as
  the teacher), truncate >= T is full BPTT.

``trace["dh_norm"][t] = ||dL/dh_t||``. ``bptt(fast=True)`` runs the fused forward + BPTT
kernel :func:`nets._kernels.jordan.bptt` (its twin: this module's numpy path) when it
covers the configuration (mse with an identity or sigmoid output, bce with a sigmoid
output; teacher forcing, or free running without truncation) and the numpy path
otherwise. The numba :meth:`Jordan.rollout` (the free-running generation tick of
:mod:`nets._kernels.jordan`) has :meth:`Jordan.step` as its twin.
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from sim.train import output_loss
from ._kernels import jordan as _k
from .activations import ACTIVATIONS, activation, derivative
from .init import INITS, init_matrix
from .sequence_io import apply_output as _g
from .sequence_io import batch_state, check_truncate, micro_ticks, sequence_inputs, sequence_targets

__all__ = ["Jordan", "JordanState", "JordanParams", "JordanRun", "jordan_forward"]

_ACT_CODE = {"identity": 0, "tanh": 1, "relu": 2, "sigmoid": 3}
_OUT_CODE = {"identity": 0, "sigmoid": 3, "softmax": 4}


class JordanState(NamedTuple):
    s: np.ndarray  # (K,) state units


class JordanParams(NamedTuple):
    """The weights of a Jordan net; also what :meth:`Jordan.bptt` differentiates."""

    W: np.ndarray  # (H, K) state -> hidden
    U: np.ndarray  # (H, I) plan (input) -> hidden
    b: np.ndarray  # (H,)
    V: np.ndarray  # (K, H) hidden -> output
    c: np.ndarray  # (K,)


class JordanRun(NamedTuple):
    """A forward pass: state units s (T, B, K) at each step, pre-activations a (T, B, H),
    hidden h (T, B, H), output logits z and outputs y (T, B, K), next state s_next (B, K)."""

    s: np.ndarray
    a: np.ndarray
    h: np.ndarray
    z: np.ndarray
    y: np.ndarray
    s_next: np.ndarray


def _g_vjp(name: str, y, gy):
    """J_g(z)^T gy for y = g(z) (row-wise for softmax)."""
    if name == "identity":
        return gy
    if name == "sigmoid":
        return gy * y * (1.0 - y)
    return y * (gy - np.sum(y * gy, axis=-1, keepdims=True))


def jordan_forward(params, xs, s0, *, mu: float, act: str, out: str, teacher=None) -> JordanRun:
    """Batched forward pass (numpy reference).

    xs : (T, B, I); s0 : (B, K); teacher : (T, B, K) or None (free running).
    """
    W, U, b, V, c = params
    f = activation(act)
    T, B, _ = xs.shape
    K, H = V.shape
    S = np.empty((T, B, K))
    a = xs @ U.T + b  # (T, B, H): the plan part of every step at once
    h = np.empty((T, B, H))
    z = np.empty((T, B, K))
    y = np.empty((T, B, K))
    s = np.array(s0, dtype=np.float64)
    for t in range(T):
        S[t] = s
        a[t] += s @ W.T
        h[t] = f(a[t])
        z[t] = h[t] @ V.T + c
        y[t] = _g(out, z[t])
        s = mu * s + (y[t] if teacher is None else teacher[t])
    return JordanRun(S, a, h, z, y, s)


@register
class Jordan(Net):
    """Jordan net: plan x_t and state s_t -> hidden -> output, s_{t+1} = mu s_t + y_t.

    Parameters
    ----------
    W : ndarray (H, K), state -> hidden
    U : ndarray (H, I), plan -> hidden
    b : ndarray (H,)
    V : ndarray (K, H), hidden -> output
    c : ndarray (K,)
    mu : float, the self-loop of the state units (Jordan: < 1)
    activation : {"sigmoid", "tanh", "relu", "identity"}, hidden f
    output : {"sigmoid", "identity", "softmax"}, output g
    s0 : ndarray (K,), optional, the state before the first step (zeros)
    teacher_forcing : bool
        Whether :meth:`bptt` feeds the targets back (True) or the net's own outputs.
    """

    kind: ClassVar[str] = "jordan"
    has_rollout: ClassVar[bool] = True
    State = JordanState
    config_keys: ClassVar[dict[str, Key]] = {
        "n_inputs": Key("int", min=1, doc="plan units"),
        "n_hidden": Key("int", min=1, doc="hidden units"),
        "n_outputs": Key("int", min=1, doc="output units (= state units)"),
        "activation": Key("str", default="sigmoid", choices=tuple(_ACT_CODE)),
        "output": Key("str", default="sigmoid", choices=tuple(_OUT_CODE)),
        "init": Key("str", default="uniform", choices=INITS, doc="weight initialisation (nets.init)"),
        "init_range": Key("float", default=0.5, min=0.0, doc="uniform init: weights and biases in [-r, r]"),
        "mu": Key("float", default=0.5, min=0.0, doc="self-loop of the state units"),
        "state_init": Key("float", default=0.0, doc="value of every state unit before the first step"),
        "teacher_forcing": Key("bool", default=True, doc="feed the targets (not the outputs) back in training"),
    }
    rules: ClassVar[dict[str, dict[str, Key]]] = {
        "backprop": {
            "lr": Key("float", default=0.5, min=0.0, doc="learning rate on the per-sequence loss E"),
            "epochs": Key("int", default=2000, min=1, doc="maximum passes through the training sequences"),
            "loss": Key("str", default="mse", choices=("mse", "bce"),
                        doc="E = 1/2 sum (y - t)^2 (mse) or the summed cross-entropy of sigmoid outputs (bce)"),
        },
    }

    def __init__(self, W, U, b=None, V=None, c=None, *, mu: float = 0.5, activation: str = "sigmoid",
                 output: str = "sigmoid", s0=None, teacher_forcing: bool = True):
        W = np.array(W, dtype=np.float64, copy=True)
        U = np.array(U, dtype=np.float64, copy=True)
        if W.ndim != 2 or min(W.shape) == 0:
            raise ValueError(f"W must be a non-empty (n_hidden, n_outputs) matrix, got {W.shape}")
        H, K = W.shape
        if U.ndim != 2 or U.shape[0] != H:
            raise ValueError(f"U must have shape ({H}, n_inputs), got {U.shape}")
        b = np.zeros(H) if b is None else np.array(b, dtype=np.float64, copy=True)
        V = np.zeros((K, H)) if V is None else np.array(V, dtype=np.float64, copy=True)
        c = np.zeros(K) if c is None else np.array(c, dtype=np.float64, copy=True)
        for name, arr, shape in (("b", b, (H,)), ("V", V, (K, H)), ("c", c, (K,))):
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        if output not in _OUT_CODE:
            raise ValueError(f"unknown output {output!r}; expected one of {', '.join(_OUT_CODE)}")
        if not (np.isfinite(mu) and mu >= 0):
            raise ValueError(f"mu must be a finite number >= 0, got {mu}")
        if not all(np.all(np.isfinite(a)) for a in (W, U, b, V, c)):
            raise ValueError("W, U, b, V and c must be finite")
        for a in (W, U, b, V, c):
            a.setflags(write=False)
        self.params = JordanParams(W, U, b, V, c)
        self.mu = float(mu)
        self.activation = activation
        self.output_activation = output
        self.teacher_forcing = bool(teacher_forcing)
        self.n_inputs = U.shape[1]
        self._s0 = np.zeros(K) if s0 is None else np.array(s0, dtype=np.float64)
        if self._s0.shape != (K,):
            raise ValueError(f"s0 must have shape ({K},), got {self._s0.shape}")

    @classmethod
    def from_config(cls, net_cfg: dict, *, rng: np.random.Generator) -> "Jordan":
        """A freshly initialised net: matrices by ``init`` (nets.init), biases U(-r, r) for
        ``uniform`` and zero otherwise."""
        H, I, K = net_cfg["n_hidden"], net_cfg["n_inputs"], net_cfg["n_outputs"]
        scheme, r = net_cfg.get("init", "uniform"), net_cfg.get("init_range", 0.5)
        mat = lambda shape: init_matrix(scheme, shape, rng=rng, init_range=r, hidden=H)  # noqa: E731
        bias = (lambda n: rng.uniform(-r, r, size=n)) if scheme == "uniform" else np.zeros  # noqa: E731
        W, U, b, V, c = mat((H, K)), mat((H, I)), bias(H), mat((K, H)), bias(K)
        return cls(W, U, b, V, c, mu=net_cfg.get("mu", 0.5), activation=net_cfg.get("activation", "sigmoid"),
                   output=net_cfg.get("output", "sigmoid"), s0=np.full(K, float(net_cfg.get("state_init", 0.0))),
                   teacher_forcing=net_cfg.get("teacher_forcing", True))

    # --- sizes --------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        """The state units (the units a tick updates)."""
        return self.params.V.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.params.V.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.params.W.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_inputs": self.n_inputs, "n_hidden": self.n_hidden,
                "n_outputs": self.n_outputs, "mu": self.mu, "activation": self.activation,
                "output": self.output_activation, "teacher_forcing": self.teacher_forcing}

    # --- training interface ---------------------------------------------------------------
    def train_params(self) -> JordanParams:
        return self.params

    def with_params(self, params) -> "Jordan":
        return Jordan(*params, mu=self.mu, activation=self.activation, output=self.output_activation,
                      s0=self._s0, teacher_forcing=self.teacher_forcing)

    def _xs(self, xs):
        return sequence_inputs(xs, self.n_inputs)

    def _batch_s0(self, state0, B: int) -> np.ndarray:
        s0 = self._s0 if state0 is None else (state0.s if isinstance(state0, JordanState) else state0)
        return batch_state(s0, B, self.n_outputs)

    def _teacher(self, teacher, T, B, squeeze):
        if teacher is None:
            return None
        teacher = np.asarray(teacher, dtype=np.float64)
        if squeeze and teacher.ndim == 2:
            teacher = teacher[:, None, :]
        if teacher.shape != (T, B, self.n_outputs):
            raise ValueError(f"teacher forcing needs a target per step, shape ({T}, {B}, {self.n_outputs}), "
                             f"got {teacher.shape}")
        return teacher

    def run(self, params, xs, state0=None, *, teacher=None, fast: bool = False) -> JordanRun:
        """The full forward pass (all intermediate arrays); free running unless ``teacher``
        (targets (T, B, K) or (T, K), fed back instead of the outputs) is given.

        ``fast``: the numba twin :func:`nets._kernels.jordan.run` (identity or sigmoid
        output; numpy otherwise), float64, equal to ~1e-15."""
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        teacher = self._teacher(teacher, T, B, squeeze)
        s0 = self._batch_s0(state0, B)
        if fast and self.output_activation in ("identity", "sigmoid"):
            run = self._run_fast(params, xs3, s0, teacher)
        else:
            run = jordan_forward(params, xs3, s0, mu=self.mu, act=self.activation, out=self.output_activation,
                                 teacher=teacher)
        if squeeze:
            return JordanRun(*(a[:, 0] for a in run[:5]), run.s_next[0])
        return run

    def _run_fast(self, params, xs, s0, teacher) -> JordanRun:
        f64 = lambda a: np.require(a, np.float64, ("C", "W"))  # noqa: E731  (one numba specialisation)
        p = tuple(f64(a) for a in params)
        T, B, _ = xs.shape
        H, K = p[0].shape
        S, Hs, Y = np.empty((T, B, K)), np.empty((T, B, H)), np.empty((T, B, K))
        A, Z, s_next = np.empty((T * B, H)), np.empty((T * B, K)), np.empty((B, K))
        tf = teacher is not None
        _k.run(p, f64(xs), f64(s0), f64(teacher) if tf else np.empty((0, 0, 0)), tf, self.mu,
               _ACT_CODE[self.activation], _OUT_CODE[self.output_activation], S, A, Hs, Z, Y, s_next)
        return JordanRun(S, A.reshape(T, B, H), Hs, Z.reshape(T, B, K), Y, s_next)

    def forward(self, params, xs, state0=None, *, teacher=None, fast: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states h (T, B, H) and outputs y (T, B, K) ((T, H), (T, K) for xs (T, I)).

        Free running (generation: the net's own outputs are fed back) unless ``teacher``.
        """
        run = self.run(params, xs, state0, teacher=teacher, fast=fast)
        return run.h, run.y

    def generate(self, params, xs, state0=None, *, fast: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Free-running outputs y (T, [B,] K) and the state after the last step ([B,] K)."""
        run = self.run(params, xs, state0, fast=fast)
        return run.y, run.s_next

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate: int | None = None,
             reduction: str = "mean", fast: bool = False, teacher_forcing: bool | None = None):
        """Loss and gradient (module docstring) by backprop through the output -> state loop.

        Parameters
        ----------
        params : JordanParams
        xs : ndarray (T, B, I) (plans), or (T, I)
        ys : ndarray (T, B, K) (a target per step) or (B, K) (the last step only; free
            running only); (T, K) or (K,) for one sequence
        state0 : JordanState or ndarray (K,) or (B, K), optional
        loss : str or sim.train.Loss
        truncate : int >= 1, optional (free running only; see the module docstring)
        reduction : {"mean", "sum"}
        fast : bool
            Use the fused numba kernel (:func:`nets._kernels.jordan.bptt`) when it covers
            the configuration (mse with an identity or sigmoid output, bce with a sigmoid
            output; teacher forcing, or free running without truncation), else numpy.
            With float32 params the kernel computes in float32 (grads float32).
        teacher_forcing : bool, optional; the net's setting by default

        Returns
        -------
        loss : float
        grads : JordanParams
        trace : dict, "dh_norm" (T,), "h" (T, B, H), "y" (T, B, K), "s" (T, B, K)
        """
        check_truncate(truncate)
        tf = self.teacher_forcing if teacher_forcing is None else bool(teacher_forcing)
        f32 = all(np.asarray(p).dtype == np.float32 for p in params)
        params = JordanParams(*(np.asarray(p, dtype=np.float64) for p in params))
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        K = self.n_outputs
        ys = sequence_targets(ys, T, B, K, squeeze)
        if tf and ys.ndim != 3:
            raise ValueError("teacher forcing needs a target at every step, shape (T, B, K)")
        if fast and self._fast_ok(loss, truncate, T, tf):
            return self._bptt_fast(params, xs3, ys, self._batch_s0(state0, B), tf, loss, reduction, squeeze,
                                   np.float32 if f32 else np.float64)
        run = jordan_forward(params, xs3, self._batch_s0(state0, B), mu=self.mu, act=self.activation,
                             out=self.output_activation, teacher=ys if tf else None)
        dz_loss = np.zeros((T, B, K))
        if ys.ndim == 3:
            value, dz_loss[:] = output_loss(loss, self.output_activation, run.z, ys, reduction=reduction)
        else:
            value, dz_loss[-1] = output_loss(loss, self.output_activation, run.z[-1], ys, reduction=reduction)
        k = 1 if tf else (T if truncate is None else int(min(truncate, T)))
        dz, dh, da = self._backward(params, run, dz_loss, k)
        grads = JordanParams(
            W=np.einsum("tbi,tbj->ij", da, run.s),
            U=np.einsum("tbi,tbj->ij", da, xs3),
            b=da.sum(axis=(0, 1)),
            V=np.einsum("tbk,tbh->kh", dz, run.h),
            c=dz.sum(axis=(0, 1)),
        )
        trace = {"dh_norm": np.sqrt(np.einsum("tbh,tbh->t", dh, dh))}
        for name in ("h", "y", "s"):
            arr = getattr(run, name)
            trace[name] = arr[:, 0] if squeeze else arr
        return value, grads, trace

    def _fast_ok(self, loss, truncate, T: int, tf: bool) -> bool:
        """Whether :func:`nets._kernels.jordan.bptt` covers this configuration."""
        name = loss if isinstance(loss, str) else getattr(loss, "name", None)
        out = self.output_activation
        return ((name == "mse" and out in ("identity", "sigmoid")) or (name == "bce" and out == "sigmoid")) and (
            tf or truncate is None or truncate >= T)

    def _bptt_fast(self, params, xs, ys, s0, tf: bool, loss, reduction: str, squeeze: bool, dtype):
        """:meth:`bptt` through the fused kernel, in ``dtype`` (float32 when the params are)."""
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be one of ('mean', 'sum'), got {reduction!r}")
        name = loss if isinstance(loss, str) else loss.name
        # C-contiguous and writable (a read-only array, e.g. the net's own params, would make
        # numba compile a second specialisation of the kernel)
        cast = lambda a: np.require(a, dtype, ("C", "W"))  # noqa: E731
        p = tuple(cast(a) for a in params)
        y3 = cast(ys if ys.ndim == 3 else ys[None])
        T, B, _ = xs.shape
        H, K = p[0].shape
        S, Hs, Y = np.empty((T, B, K), dtype), np.empty((T, B, H), dtype), np.empty((T, B, K), dtype)
        dh_norm = np.empty(T, dtype)
        g = tuple(np.empty_like(a) for a in p)
        n = float(max(y3.size, 1)) if reduction == "mean" else 1.0
        value = _k.bptt(p, cast(xs), y3, cast(s0), y3 if tf else np.empty((0, 0, 0), dtype), tf, self.mu,
                        _ACT_CODE[self.activation], _OUT_CODE[self.output_activation],
                        _k.BCE if name == "bce" else _k.MSE, n, S, Hs, Y, dh_norm, g)
        trace = {"dh_norm": dh_norm}
        for key, arr in (("h", Hs), ("y", Y), ("s", S)):
            trace[key] = arr[:, 0] if squeeze else arr
        return float(value), JordanParams(*g), trace

    def _backward(self, params, run: JordanRun, dz_loss, k: int):
        """dL/dz, dL/dh, dL/da (T, B, .) keeping paths of at most k steps (k = 1: none
        through the fed-back outputs, which is exact under teacher forcing)."""
        W, V = params.W, params.V
        T, B, K = dz_loss.shape
        fp = derivative(self.activation, run.a, run.h)  # (T, B, H)
        dz = np.empty_like(dz_loss)
        dh = np.empty_like(run.h)
        da = np.empty_like(run.h)
        G = np.zeros((k, B, K))  # G[j]: dL_{t+j}/ds_{t+1}, from the loss term j steps later
        for t in range(T - 1, -1, -1):
            Z = np.array(_g_vjp(self.output_activation, run.y[t][None], G))  # (k, B, K), through y_t (a copy)
            Z[0] = dz_loss[t]  # age 0: the loss term of this step (G[0] is always zero)
            ZV = Z @ V  # (k, B, H): dL/dh_t per age
            A = ZV * fp[t]
            dz[t] = Z.sum(axis=0)
            dh[t] = ZV.sum(axis=0)
            da[t] = A.sum(axis=0)
            if k > 1:  # age j at s_t becomes age j + 1 at s_{t}'s producer y_{t-1}
                Gs = A[:-1] @ W + self.mu * G[:-1]  # (k-1, B, K): dL_{t+j}/ds_t
                G = np.concatenate([np.zeros((1, B, K)), Gs], axis=0)
        return dz, dh, da

    # --- dynamics (clocked schedule: free running) ------------------------------------------
    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("a Jordan net is deterministic: it has no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> JordanState:
        return JordanState(self._s0.copy())

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> JordanState:
        """One free-running tick: s <- mu s + y(s, x) on ``units`` (all by default)."""
        if x is None:
            raise ValueError("a Jordan step needs the plan input x_t")
        W, U, b, V, c = self.params
        h = activation(self.activation)(W @ state.s + U @ np.asarray(x, dtype=np.float64) + b)
        y = _g(self.output_activation, V @ h + c)
        idx = slice(None) if units is None else np.asarray(units)
        out = state.s.copy()
        out[idx] = self.mu * state.s[idx] + y[idx]
        return JordanState(out)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` (all units every tick; the clocked plan)."""
        if len(drive["ptr"]) != 2:
            raise ValueError("the Jordan fast path updates all units together (schedule 'clocked')")
        xs = np.ascontiguousarray(drive["x"], dtype=np.float64)
        s = state.s.copy()
        out = np.empty((len(xs), self.n_units))
        _k.forward(tuple(self.params), self.mu, s, xs, _ACT_CODE[self.activation],
                   _OUT_CODE[self.output_activation], out)
        ticks = [JordanState(out[k]) for k in range(len(xs))]
        micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
        return ticks, micro, micro_at, len(xs), phase
