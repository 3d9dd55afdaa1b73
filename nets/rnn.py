r"""Vanilla recurrent net with an output layer, its forward pass over batches and BPTT.

    h_t = f(W h_{t-1} + U x_t + b),    h_{-1} = h0 (zero by default)
    y_t = g(V h_t + c)

f in identity / tanh / relu / sigmoid, g in identity / sigmoid / softmax (the course
notes' vanilla RNN; Elman 1990 trains this cell). As a :class:`sim.core.Net` it is run
with the ``clocked`` schedule: one input x_t per tick, all hidden units updated together;
the state is h (the output layer is read by :meth:`RNN.output`). Without ``V`` the output
layer is ``y_t = h_t`` (V = I, c = 0, identity g). With W = [[1]], U = [[1]], b = 0 and the
identity activation it is the counting network of the course notes (worked example We):
for a binary stream, h_t is the number of ones seen so far.

Training (:meth:`RNN.bptt`): for xs of shape (T, B, I) and a loss L summed/averaged over
the scored steps (every step: many-to-many; the last step only: many-to-one; see
:mod:`sim.train` for the loss conventions), backpropagation through time is

    dL/dz_t = from the loss (zero at unscored steps),   dV = sum_t dz_t^T h_t,  dc = sum_t dz_t
    dL/dh_t = dz_t V + da_{t+1} W,   da_t = dL/dh_t * f'(a_t)   (a_t the pre-activation)
    dW = sum_t da_t^T h_{t-1},   dU = sum_t da_t^T x_t,   db = sum_t da_t

(Werbos 1990; Rumelhart, Hinton & Williams 1986). ``trace["dh_norm"][t] = ||dL/dh_t||``
(Frobenius norm over the batch) drives the vanishing-gradient figures.

Truncated BPTT(k), as implemented: each loss term at step s sends its gradient back
through at most k cell applications, the steps s, s-1, ..., s-k+1; contributions that
would reach step s-k are dropped. So truncate = 1 treats h_{t-1} as a constant input
(Elman's one-step "copy-back" training), and truncate >= T is full BPTT. Equivalently,
it is the exact gradient of the surrogate loss whose term s runs the net k steps from the
frozen state h_{s-k} (tests/test_rnn_bptt.py checks both forms). This is meant as the
truncation of Williams & Peng (1990), BPTT(h), applied at every scored step with the
weights held fixed over the sequence; that their h counts step s itself as here is
[recalled, unverified]. It costs O(k) per step (one gradient buffer per age);
``dh_norm`` is then the norm of the truncated dL/dh_t.

The numpy path here (:func:`forward_sequence`, :func:`backward_sequence`) is the
reference twin for a fused numba kernel.

Note the accumulation order of :meth:`RNN.step`: the reference step computes
``W @ h + U @ x + b`` with numpy (BLAS), the kernel accumulates ``b + sum_j W h + sum_j U x``
in a loop; they agree to rounding (1e-12), exactly for integer-valued weights and inputs.
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from sim.train import output_loss
from ._kernels import rnn as _k
from .activations import ACTIVATIONS, activation, derivative
from .init import INITS, init_matrix
from .sequence_io import apply_output as _apply_output
from .sequence_io import batch_state, check_truncate, micro_ticks, sequence_inputs, sequence_targets

__all__ = ["RNN", "RNNState", "RNNParams", "RNNTrainParams", "forward_sequence", "backward_sequence",
           "counter"]

_ACT_CODE = {"identity": 0, "tanh": 1, "relu": 2, "sigmoid": 3}


class RNNState(NamedTuple):
    h: np.ndarray  # (H,) float64


class RNNParams(NamedTuple):
    W: np.ndarray  # (H, H) recurrent weights
    U: np.ndarray  # (H, I) input weights
    b: np.ndarray  # (H,) biases


class RNNTrainParams(NamedTuple):
    """Everything :meth:`RNN.bptt` differentiates (and its gradients, same shapes)."""

    W: np.ndarray  # (H, H)
    U: np.ndarray  # (H, I)
    b: np.ndarray  # (H,)
    V: np.ndarray  # (K, H) output weights
    c: np.ndarray  # (K,) output biases


_OUTPUTS = ("identity", "sigmoid", "softmax")


@register
class RNN(Net):
    """Recurrent net ``h_t = f(W h_{t-1} + U x_t + b)`` with output layer ``y_t = g(V h_t + c)``.

    Parameters
    ----------
    W : ndarray (H, H)
    U : ndarray (H, I)
    b : ndarray (H,), optional
    activation : {"identity", "tanh", "relu", "sigmoid"}
        The hidden nonlinearity f.
    h0 : ndarray (H,), optional
        Initial state (zeros by default); ``init_state`` returns it.
    V : ndarray (K, H), optional
        Output weights (identity, K = H, by default: y_t = h_t).
    c : ndarray (K,), optional
        Output biases (zeros by default).
    output : {"identity", "sigmoid", "softmax"}
        The output nonlinearity g.
    """

    kind: ClassVar[str] = "rnn"
    has_rollout: ClassVar[bool] = True
    State = RNNState
    #: scenario [net] keys (the trainable sequence-net interface; :meth:`from_config`)
    config_keys: ClassVar[dict[str, Key]] = {
        "n_inputs": Key("int", min=1, doc="input units"),
        "n_hidden": Key("int", min=1, doc="hidden units"),
        "n_outputs": Key("int", min=1, doc="output units"),
        "activation": Key("str", default="tanh", choices=tuple(ACTIVATIONS)),
        "output": Key("str", default="identity", choices=_OUTPUTS),
        "init": Key("str", default="uniform", choices=INITS, doc="initialisation of U and V (nets.init)"),
        "init_range": Key("float", default=0.1, min=0.0, doc="r of the uniform init U(-r, r)"),
        "recurrent_init": Key("str", default="same", choices=("same",) + INITS,
                              doc="initialisation of W ('same': as init; 'identity' with relu = IRNN)"),
    }

    def __init__(self, W, U, b=None, *, activation: str = "tanh", h0=None, V=None, c=None,
                 output: str = "identity"):
        W = np.array(W, dtype=np.float64, copy=True)
        U = np.array(U, dtype=np.float64, copy=True)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ValueError(f"W must be a non-empty square matrix, got {W.shape}")
        H = W.shape[0]
        if U.ndim != 2 or U.shape[0] != H:
            raise ValueError(f"U must have shape ({H}, n_inputs), got {U.shape}")
        b = np.zeros(H) if b is None else np.array(b, dtype=np.float64, copy=True)
        if b.shape != (H,):
            raise ValueError(f"b must have shape ({H},), got {b.shape}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        if not all(np.all(np.isfinite(a)) for a in (W, U, b)):
            raise ValueError("W, U and b must be finite")
        for a in (W, U, b):
            a.setflags(write=False)
        self.params = RNNParams(W, U, b)
        self.activation = activation
        self.n_inputs = U.shape[1]
        self._h0 = np.zeros(H) if h0 is None else np.array(h0, dtype=np.float64)
        if self._h0.shape != (H,):
            raise ValueError(f"h0 must have shape ({H},), got {self._h0.shape}")
        V = np.eye(H) if V is None else np.array(V, dtype=np.float64, copy=True)
        if V.ndim != 2 or V.shape[1] != H or V.shape[0] == 0:
            raise ValueError(f"V must have shape (n_outputs, {H}), got {V.shape}")
        c = np.zeros(V.shape[0]) if c is None else np.array(c, dtype=np.float64, copy=True)
        if c.shape != (V.shape[0],):
            raise ValueError(f"c must have shape ({V.shape[0]},), got {c.shape}")
        if output not in _OUTPUTS:
            raise ValueError(f"unknown output {output!r}; expected one of {', '.join(_OUTPUTS)}")
        if not (np.all(np.isfinite(V)) and np.all(np.isfinite(c))):
            raise ValueError("V and c must be finite")
        for a in (V, c):
            a.setflags(write=False)
        self.readout = (V, c)
        self.output_activation = output

    @classmethod
    def from_config(cls, net_cfg: dict, *, rng: np.random.Generator) -> "RNN":
        """A freshly initialised net: W, U, V drawn by :func:`nets.init.init_matrix`; biases
        U(-init_range, init_range) with the uniform init, zero otherwise; h0 = 0."""
        H, I, K = net_cfg["n_hidden"], net_cfg["n_inputs"], net_cfg["n_outputs"]
        scheme, r = net_cfg.get("init", "uniform"), net_cfg.get("init_range", 0.1)
        rec = net_cfg.get("recurrent_init", "same")
        draw = lambda s, shape: init_matrix(s, shape, rng=rng, init_range=r, hidden=H)  # noqa: E731
        W = draw(scheme if rec == "same" else rec, (H, H))
        U = draw(scheme, (H, I))
        V = draw(scheme, (K, H))
        b, c = (rng.uniform(-r, r, size=H), rng.uniform(-r, r, size=K)) if scheme == "uniform" else (
            np.zeros(H), np.zeros(K))
        return cls(W, U, b, V=V, c=c, activation=net_cfg.get("activation", "tanh"),
                   output=net_cfg.get("output", "identity"))

    @property
    def n_units(self) -> int:
        return self.params.W.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.readout[0].shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs,
                "activation": self.activation, "n_outputs": self.n_outputs,
                "output": self.output_activation}

    # --- training interface ----------------------------------------------------------
    def train_params(self) -> RNNTrainParams:
        """The trainable parameters (W, U, b, V, c), as :meth:`bptt` takes them."""
        return RNNTrainParams(*self.params, *self.readout)

    def with_params(self, params) -> "RNN":
        """A new net with the same activations and h0 and the weights ``params``."""
        W, U, b, V, c = params
        return RNN(W, U, b, activation=self.activation, h0=self._h0, V=V, c=c,
                   output=self.output_activation)

    def output(self, h, params=None) -> np.ndarray:
        """``y = g(V h + c)`` for h (..., H) or an RNNState; shape (..., K)."""
        V, c = self.readout if params is None else (params.V, params.c)
        h = h.h if isinstance(h, RNNState) else np.asarray(h, dtype=np.float64)
        return _apply_output(self.output_activation, h @ V.T + c)

    def _batch_h0(self, state0, B: int) -> np.ndarray:
        h0 = self._h0 if state0 is None else (state0.h if isinstance(state0, RNNState) else state0)
        return batch_state(h0, B, self.n_units)

    def forward(self, params, xs, state0=None) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states and outputs over a sequence.

        Parameters
        ----------
        params : RNNTrainParams
        xs : ndarray (T, B, I) or (T, I)
        state0 : RNNState or ndarray (H,) or (B, H), optional (the net's h0 by default)

        Returns
        -------
        h : ndarray (T, B, H) (or (T, H) for unbatched xs), h_t after input x_t
        y : ndarray (T, B, K) (or (T, K))
        """
        xs3, squeeze = self._xs(xs)
        hs, _ = forward_sequence(params, xs3, self._batch_h0(state0, xs3.shape[1]), self.activation)
        y = _apply_output(self.output_activation, hs[1:] @ params.V.T + params.c)
        return (hs[1:, 0], y[:, 0]) if squeeze else (hs[1:], y)

    def _xs(self, xs):
        return sequence_inputs(xs, self.n_inputs)

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate: int | None = None,
             reduction: str = "mean", fast: bool = False):
        """Loss and its gradient by backpropagation through time (full or truncated).

        Parameters
        ----------
        params : RNNTrainParams
        xs : ndarray (T, B, I), or (T, I) for one sequence
        ys : ndarray (T, B, K): a target per step (many-to-many), or (B, K): one target
            after the last step (many-to-one); (T, K) or (K,) for one sequence.
        state0 : RNNState or ndarray (H,) or (B, H), optional (h0 is not trained)
        loss : str or sim.train.Loss ("mse", "mae", "bce" with a sigmoid output,
            "cross_entropy" with a softmax output)
        truncate : int >= 1, optional
            BPTT(k): each loss term is backpropagated through at most k steps.
        reduction : {"mean", "sum"} over the scored terms
        fast : bool
            Use the fused numba kernel (:mod:`nets._kernels.rnn_bptt`) when it supports
            the configuration (tanh hidden, identity output, MSE, full BPTT); the numpy
            path otherwise. Agrees with the numpy path to rounding (~1e-15).

        Returns
        -------
        loss : float
        grads : RNNTrainParams of arrays shaped like ``params``
        trace : dict with "dh_norm" (T,) = ||dL/dh_t|| and "h" (T, B, H) hidden states
        """
        check_truncate(truncate)
        params = RNNTrainParams(*(np.asarray(p, dtype=np.float64) for p in params))
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        K = params.V.shape[0]
        ys = sequence_targets(ys, T, B, K, squeeze)
        if fast and _fast_ok(self, loss, truncate, T):
            return _bptt_fast(params, xs3, ys, self._batch_h0(state0, B), reduction, squeeze)
        hs, a = forward_sequence(params, xs3, self._batch_h0(state0, B), self.activation)
        dz = np.zeros((T, B, K))
        if ys.ndim == 3:  # many-to-many: a target per step
            value, dz[:] = output_loss(loss, self.output_activation, hs[1:] @ params.V.T + params.c, ys,
                                       reduction=reduction)
        else:  # many-to-one: the last step only
            value, dz[-1] = output_loss(loss, self.output_activation, hs[-1] @ params.V.T + params.c, ys,
                                        reduction=reduction)
        grads, dh = backward_sequence(params, xs3, hs, a, dz, self.activation, truncate)
        dh_norm = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))
        return value, grads, {"dh_norm": dh_norm, "h": hs[1:, 0] if squeeze else hs[1:]}

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("an RNN is deterministic: it has no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> RNNState:
        return RNNState(self._h0.copy())

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> RNNState:
        if x is None:
            raise ValueError("an RNN step needs the input x_t")
        W, U, b = self.params
        idx = slice(None) if units is None else np.asarray(units)
        z = W[idx] @ state.h + U[idx] @ np.asarray(x, dtype=np.float64) + b[idx]
        out = state.h.copy()
        out[idx] = activation(self.activation)(z)
        return RNNState(out)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` (all units every tick; the clocked plan)."""
        if len(drive["ptr"]) != 2:
            raise ValueError("the RNN fast path updates all units together (schedule 'clocked')")
        xs = np.ascontiguousarray(drive["x"], dtype=np.float64)
        h = state.h.copy()
        out = np.empty((len(xs), self.n_units))
        _k.forward(tuple(self.params), h, xs, _ACT_CODE[self.activation], out)
        ticks = [RNNState(out[k]) for k in range(len(xs))]
        micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
        return ticks, micro, micro_at, len(xs), phase


def _fast_ok(net, loss, truncate, T) -> bool:
    """Whether the fused kernel covers this configuration of :meth:`RNN.bptt`."""
    name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    return (net.activation == "tanh" and net.output_activation == "identity" and name == "mse"
            and (truncate is None or truncate >= T))


def _bptt_fast(params, xs, ys, h0, reduction, squeeze):
    """:meth:`RNN.bptt` through :func:`nets._kernels.rnn_bptt.bptt_tanh_mse` (float64)."""
    from ._kernels.rnn_bptt import bptt_tanh_mse
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be one of ('mean', 'sum'), got {reduction!r}")
    p = tuple(np.ascontiguousarray(a) for a in params)
    y3 = np.ascontiguousarray(ys if ys.ndim == 3 else ys[None])
    T, B, _ = xs.shape
    hs = np.empty((T + 1, B, p[0].shape[0]))
    dh_norm = np.empty(T)
    g = tuple(np.empty_like(a) for a in p)
    value = bptt_tanh_mse(p, np.ascontiguousarray(xs), y3, h0, 1.0 / max(y3.size, 1) if reduction == "mean"
                          else 1.0, hs, dh_norm, g)
    return float(value), RNNTrainParams(*g), {"dh_norm": dh_norm, "h": hs[1:, 0] if squeeze else hs[1:]}


def forward_sequence(params, xs: np.ndarray, h0: np.ndarray, act: str) -> tuple[np.ndarray, np.ndarray]:
    """Batched forward pass: ``hs`` (T+1, B, H) with hs[0] = h0, pre-activations ``a`` (T, B, H).

    xs : (T, B, I); h0 : (B, H).
    """
    W, U, b = params[0], params[1], params[2]
    f = activation(act)
    T, B, _ = xs.shape
    hs = np.empty((T + 1, B, W.shape[0]))
    hs[0] = h0
    a = xs @ U.T + b  # (T, B, H): the input part of every step at once
    for t in range(T):
        a[t] += hs[t] @ W.T
        hs[t + 1] = f(a[t])
    return hs, a


def backward_sequence(params, xs, hs, a, dz, act: str, truncate: int | None):
    """BPTT given dL/dz_t (T, B, K): gradients (RNNTrainParams) and dL/dh_t (T, B, H).

    ``truncate = k``: each loss term reaches back through at most k steps (module docstring).
    """
    W, V = params[0], params[3]
    T, B, H = a.shape
    fp = derivative(act, a, hs[1:])  # (T, B, H)
    dh_out = dz @ V  # (T, B, H): gradient reaching h_t directly from the loss term at t
    dh = np.empty((T, B, H))
    da = np.empty((T, B, H))
    if truncate is None:
        carry = np.zeros((B, H))
        for t in range(T - 1, -1, -1):
            dh[t] = dh_out[t] + carry
            da[t] = dh[t] * fp[t]
            carry = da[t] @ W
    else:
        k = int(min(truncate, T))
        G = np.zeros((k, B, H))  # G[j]: gradient at h_t from loss terms j steps later
        for t in range(T - 1, -1, -1):
            G[1:] = G[:-1].copy()
            G[0] = dh_out[t]
            dh[t] = G.sum(axis=0)
            da[t] = dh[t] * fp[t]
            G = (G * fp[t]) @ W  # each age moves one step back; the oldest drops on the shift
    grads = RNNTrainParams(
        W=np.einsum("tbi,tbj->ij", da, hs[:-1]),
        U=np.einsum("tbi,tbj->ij", da, xs),
        b=da.sum(axis=(0, 1)),
        V=np.einsum("tbk,tbh->kh", dz, hs[1:]),
        c=dz.sum(axis=(0, 1)),
    )
    return grads, dh


def counter() -> RNN:
    """The counting network h_t = x_t + h_{t-1} (identity activation, h_{-1} = 0)."""
    return RNN([[1.0]], [[1.0]], [0.0], activation="identity")
