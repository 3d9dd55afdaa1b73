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

Stacks and directions (``n_layers``, ``bidirectional``; :meth:`RNN.from_stack`,
:mod:`nets.rnn_stack`) follow ``torch.nn.RNN``: layer l > 0 reads the concatenated outputs
of both directions of layer l-1, the reverse cell runs from t = T-1 down to 0, and the
output layer reads the top layer's [h_t^fwd, h_t^rev]. Their parameters are
:class:`RNNStackParams`; they run the numpy path only (``fast=True`` falls back), and
:meth:`RNN.state_dict` / :meth:`RNN.from_state_dict` map them onto torch's names. A net of
one layer and one direction is always the single-layer form above (same numbers, same
kernel). ``trace["dh0"]`` (dL/d state0) and ``bptt(..., dh_final=G)`` (a gradient on the
final state) let an encoder-decoder (:mod:`nets.seq2seq`) backpropagate through both nets.

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
from ._kernels import rnn_bptt as _rk
from .activations import ACTIVATIONS, activation, derivative
from .init import INITS, init_matrix
from .sequence_io import apply_output as _apply_output
from .sequence_io import batch_state, check_truncate, micro_ticks, sequence_inputs, sequence_targets, torch_layers
from .rnn_stack import RNNStackParams, check_stack_shapes, stack_backward, stack_forward

__all__ = ["RNN", "RNNState", "RNNParams", "RNNTrainParams", "RNNStackParams", "forward_sequence",
           "backward_sequence", "counter"]

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
        "n_layers": Key("int", default=1, min=1, doc="stacked layers (torch.nn.RNN num_layers)"),
        "bidirectional": Key("bool", default=False,
                             doc="a reverse-time cell per layer; outputs concatenated (torch.nn.RNN)"),
    }
    #: the stack's parameters (None for the single-layer, one-direction net)
    stack_params: RNNStackParams | None = None

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
        L, D = int(net_cfg.get("n_layers", 1)), 2 if net_cfg.get("bidirectional", False) else 1
        if L > 1 or D > 1:  # per layer and direction: W, U, b; then V, c (stack draw order)
            Ws, Us, bs = [], [], []
            for l in range(L):
                for d in range(D):
                    Ws.append(draw(scheme if rec == "same" else rec, (H, H)))
                    Us.append(draw(scheme, (H, I if l == 0 else D * H)))
                    bs.append(rng.uniform(-r, r, size=H) if scheme == "uniform" else np.zeros(H))
            V = draw(scheme, (K, D * H))
            c = rng.uniform(-r, r, size=K) if scheme == "uniform" else np.zeros(K)
            p = RNNStackParams(np.stack(Us[:D]), np.array(Us[D:]).reshape(L - 1, D, H, D * H),
                               np.array(Ws).reshape(L, D, H, H), np.array(bs).reshape(L, D, H), V, c)
            return cls.from_stack(p, activation=net_cfg.get("activation", "tanh"),
                                  output=net_cfg.get("output", "identity"))
        W = draw(scheme if rec == "same" else rec, (H, H))
        U = draw(scheme, (H, I))
        V = draw(scheme, (K, H))
        b, c = (rng.uniform(-r, r, size=H), rng.uniform(-r, r, size=K)) if scheme == "uniform" else (
            np.zeros(H), np.zeros(K))
        return cls(W, U, b, V=V, c=c, activation=net_cfg.get("activation", "tanh"),
                   output=net_cfg.get("output", "identity"))

    @classmethod
    def from_stack(cls, params, *, activation: str = "tanh", output: str = "identity", h0=None) -> "RNN":
        """A stacked and/or bidirectional net from :class:`RNNStackParams` (nets.rnn_stack).

        One layer and one direction give the ordinary single-layer net (RNNTrainParams,
        fast kernel). h0 : (L*D*H,) or (L*D, H), torch's h_0 order (zeros by default).
        """
        p = RNNStackParams(*(np.array(a, dtype=np.float64, copy=True) for a in params))
        check_stack_shapes(p)
        L, D, H, _ = p.W.shape
        if L == 1 and D == 1:
            return cls(p.W[0, 0], p.U0[0], p.b[0, 0], activation=activation, output=output,
                       h0=None if h0 is None else np.reshape(h0, -1), V=p.V, c=p.c)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
        if output not in _OUTPUTS:
            raise ValueError(f"unknown output {output!r}; expected one of {', '.join(_OUTPUTS)}")
        if not all(np.all(np.isfinite(a)) for a in p):
            raise ValueError("RNN parameters must be finite")
        for a in p:
            a.setflags(write=False)
        net = cls.__new__(cls)
        net.stack_params = p
        net.params = None  # the single-layer (W, U, b) of the engine view does not exist
        net.activation, net.output_activation = activation, output
        net.n_inputs = p.U0.shape[2]
        net.readout = (p.V, p.c)
        net._h0 = np.zeros(L * D * H) if h0 is None else np.array(h0, dtype=np.float64).reshape(-1)
        if net._h0.shape != (L * D * H,):
            raise ValueError(f"h0 must hold {L * D * H} values (L*D, H), got {np.shape(h0)}")
        return net

    @classmethod
    def from_state_dict(cls, sd: dict, *, activation: str = "tanh", V=None, c=None, output: str = "identity",
                        h0=None) -> "RNN":
        """A net from arrays in PyTorch's ``nn.RNN.state_dict()`` layout (no torch needed).

        ``weight_ih_l{k}`` (H, I or D*H), ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}``,
        ``bias_hh_l{k}`` (H,), ``_reverse`` suffixes for the backward direction; b = bias_ih
        + bias_hh (only the sum acts). Optionally ``out.weight`` (K, D*H), ``out.bias`` (K,)
        (an ``nn.Linear`` called ``out``, as in :mod:`nets.gru`). activation: "tanh" / "relu"
        (torch's nonlinearity). Default V = I, c = 0.
        """
        sd, L, D, sfx = torch_layers(sd, "RNN")
        H = sd["weight_hh_l0"].shape[0]
        U0 = np.stack([sd[f"weight_ih_l0{s}"] for s in sfx])
        U = np.array([[sd[f"weight_ih_l{k}{s}"] for s in sfx] for k in range(1, L)]).reshape(L - 1, D, H, D * H)
        W = np.array([[sd[f"weight_hh_l{k}{s}"] for s in sfx] for k in range(L)])
        b = np.array([[sd[f"bias_ih_l{k}{s}"] + sd[f"bias_hh_l{k}{s}"] for s in sfx] for k in range(L)])
        V = sd.get("out.weight", np.eye(D * H)) if V is None else V
        c = sd.get("out.bias", np.zeros(np.shape(V)[0])) if c is None else c
        return cls.from_stack(RNNStackParams(U0, U, W, b, V, c), activation=activation, output=output, h0=h0)

    def state_dict(self, *, output_layer: bool = True) -> dict[str, np.ndarray]:
        """The weights in PyTorch's ``nn.RNN`` layout (copies; bias_ih = b, bias_hh = 0),
        with ``out.weight`` / ``out.bias`` = V, c unless ``output_layer=False``."""
        p = self.train_params()
        if self.stack_params is None:
            p = RNNStackParams(p.U[None], np.zeros((0, 1, self.n_hidden, self.n_hidden)), p.W[None, None],
                               p.b[None, None], p.V, p.c)
        sd = {}
        for k in range(self.n_layers):
            for d, s in enumerate(["", "_reverse"][:self.n_dirs]):
                sd[f"weight_ih_l{k}{s}"] = np.array(p.U0[d] if k == 0 else p.U[k - 1, d])
                sd[f"weight_hh_l{k}{s}"] = np.array(p.W[k, d])
                sd[f"bias_ih_l{k}{s}"] = np.array(p.b[k, d])
                sd[f"bias_hh_l{k}{s}"] = np.zeros(self.n_hidden)
        if output_layer:
            sd["out.weight"], sd["out.bias"] = np.array(p.V), np.array(p.c)
        return sd

    @property
    def n_layers(self) -> int:
        return 1 if self.stack_params is None else self.stack_params.W.shape[0]

    @property
    def n_dirs(self) -> int:
        return 1 if self.stack_params is None else self.stack_params.W.shape[1]

    @property
    def bidirectional(self) -> bool:
        return self.n_dirs == 2

    @property
    def n_hidden(self) -> int:
        """Units per layer and direction."""
        return self.params.W.shape[0] if self.stack_params is None else self.stack_params.W.shape[3]

    @property
    def n_units(self) -> int:
        """All hidden units, L * D * H (H for the single-layer net)."""
        return self.n_layers * self.n_dirs * self.n_hidden

    @property
    def n_outputs(self) -> int:
        return self.readout[0].shape[0]

    def describe(self):
        d = {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs,
             "activation": self.activation, "n_outputs": self.n_outputs,
             "output": self.output_activation}
        if self.stack_params is not None:
            d.update(n_hidden=self.n_hidden, n_layers=self.n_layers, bidirectional=self.bidirectional)
        return d

    # --- training interface ----------------------------------------------------------
    def train_params(self) -> RNNTrainParams:
        """The trainable parameters (W, U, b, V, c), as :meth:`bptt` takes them
        (:class:`RNNStackParams` for a stacked or bidirectional net)."""
        if self.stack_params is not None:
            return self.stack_params
        return RNNTrainParams(*self.params, *self.readout)

    def with_params(self, params) -> "RNN":
        """A new net with the same activations and h0 and the weights ``params``."""
        if self.stack_params is not None:
            return RNN.from_stack(params, activation=self.activation, output=self.output_activation, h0=self._h0)
        W, U, b, V, c = params
        return RNN(W, U, b, activation=self.activation, h0=self._h0, V=V, c=c,
                   output=self.output_activation)

    def output(self, h, params=None) -> np.ndarray:
        """``y = g(V h + c)`` for h (..., H) or an RNNState; shape (..., K)."""
        V, c = self.readout if params is None else (params.V, params.c)
        h = h.h if isinstance(h, RNNState) else np.asarray(h, dtype=np.float64)
        return _apply_output(self.output_activation, h @ V.T + c)

    def _batch_h0(self, state0, B: int) -> np.ndarray:
        """(B, H) for the single-layer net; (L*D, B, H) for a stack."""
        h0 = self._h0 if state0 is None else (state0.h if isinstance(state0, RNNState) else state0)
        if self.stack_params is None:
            return batch_state(h0, B, self.n_units)
        LD, H = self.n_layers * self.n_dirs, self.n_hidden
        h0 = np.asarray(h0, dtype=np.float64)
        if h0.shape == (LD * H,):
            h0 = h0.reshape(LD, H)
        if h0.shape == (LD, H):
            return np.broadcast_to(h0[:, None, :], (LD, B, H)).copy()
        if h0.shape == (LD, B, H):
            return h0.copy()
        raise ValueError(f"state0 must have shape ({LD * H},), ({LD}, {H}) or ({LD}, {B}, {H}), got {h0.shape}")

    def forward(self, params, xs, state0=None) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states and outputs over a sequence.

        Parameters
        ----------
        params : RNNTrainParams
        xs : ndarray (T, B, I) or (T, I)
        state0 : RNNState or ndarray (H,) or (B, H), optional (the net's h0 by default);
            for a stack (L*D*H,), (L*D, H) or (L*D, B, H) (torch's h_0)

        Returns
        -------
        h : ndarray (T, B, H) (or (T, H) for unbatched xs), h_t after input x_t; for a stack
            the top layer's (T, B, D*H) (directions concatenated)
        y : ndarray (T, B, K) (or (T, K))
        """
        xs3, squeeze = self._xs(xs)
        if self.stack_params is not None:
            params = RNNStackParams(*(np.asarray(a, dtype=np.float64) for a in params))
            top, _ = stack_forward(params, xs3, self._batch_h0(state0, xs3.shape[1]), self.activation)
            y = _apply_output(self.output_activation, top @ params.V.T + params.c)
            return (top[:, 0], y[:, 0]) if squeeze else (top, y)
        hs, _ = forward_sequence(params, xs3, self._batch_h0(state0, xs3.shape[1]), self.activation)
        y = _apply_output(self.output_activation, hs[1:] @ params.V.T + params.c)
        return (hs[1:, 0], y[:, 0]) if squeeze else (hs[1:], y)

    def _xs(self, xs):
        return sequence_inputs(xs, self.n_inputs)

    def final_state(self, params, xs, state0=None) -> np.ndarray:
        """The state after the whole sequence, as a decoder's state0 takes it.

        Returns (B, H) for the single-layer net ((H,) for unbatched xs); (L*D, B, H) for a
        stack (torch's h_n: every cell's last processed state, t = 0 for a reverse cell).
        """
        xs3, squeeze = self._xs(xs)
        h0 = self._batch_h0(state0, xs3.shape[1])
        if self.stack_params is None:
            hs, _ = forward_sequence(RNNTrainParams(*(np.asarray(a, dtype=np.float64) for a in params)), xs3, h0,
                                     self.activation)
            out = hs[-1]
        else:
            p = RNNStackParams(*(np.asarray(a, dtype=np.float64) for a in params))
            _, caches = stack_forward(p, xs3, h0, self.activation)
            out = np.stack([caches[l][d]["hs"][-1] for l in range(self.n_layers) for d in range(self.n_dirs)])
        return out[..., 0, :] if squeeze else out

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate: int | None = None,
             reduction: str = "mean", fast: bool = False, dh_final=None):
        """Loss and its gradient by backpropagation through time (full or truncated).

        Parameters
        ----------
        params : RNNTrainParams
        xs : ndarray (T, B, I), or (T, I) for one sequence
        ys : ndarray (T, B, K): a target per step (many-to-many), or (B, K): one target
            after the last step (many-to-one); (T, K) or (K,) for one sequence; None: no
            loss terms (loss 0; the gradient comes from ``dh_final`` only).
        state0 : RNNState or ndarray (H,) or (B, H), optional (h0 is not trained)
        loss : str or sim.train.Loss ("mse", "mae", "bce" with a sigmoid output,
            "cross_entropy" with a softmax output)
        truncate : int >= 1, optional
            BPTT(k): each loss term is backpropagated through at most k steps.
        reduction : {"mean", "sum"} over the scored terms
        fast : bool
            Use the fused numba kernel (:mod:`nets._kernels.rnn_bptt`) when it covers
            the configuration (one layer, one direction, full BPTT, any hidden activation,
            loss/output MSE + identity or sigmoid, BCE + sigmoid, cross-entropy + softmax,
            ys given; with or without ``dh_final``); the numpy path otherwise (stacks,
            truncation, MAE, ys None). Agrees with the numpy path to rounding (~1e-14).
            Params all float32: the kernel computes in float32 (grads and traces float32).

        dh_final : ndarray, optional
            An extra gradient dL/d(final state) (an encoder's state read by a decoder:
            :mod:`nets.seq2seq`): (B, H) for the single-layer net, (L*D, B, H) for a stack
            (torch's h_n: the reverse direction's final state is its h at t = 0); (H,) /
            (L*D, H) for one sequence.

        Returns
        -------
        loss : float
        grads : RNNTrainParams of arrays shaped like ``params`` (RNNStackParams for a stack)
        trace : dict with "dh_norm" (T,) = ||dL/dh_t||, "h" (T, B, H) hidden states (top
            layer, (T, B, D*H), for a stack) and "dh0" = dL/d state0, shaped (B, H) (stack:
            (L*D, B, H); B axis dropped for one sequence); with truncation the truncated one.
        """
        check_truncate(truncate)
        stacked = self.stack_params is not None
        kind = RNNStackParams if stacked else RNNTrainParams
        f32 = fast and all(np.asarray(p).dtype == np.float32 for p in params)
        params = kind(*(np.asarray(p, dtype=np.float64) for p in params))
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        K = params.V.shape[0]
        ys = None if ys is None else sequence_targets(ys, T, B, K, squeeze)
        h0 = self._batch_h0(state0, B)
        if dh_final is not None:
            dh_final = np.asarray(dh_final, dtype=np.float64)
            if squeeze:
                dh_final = dh_final[..., None, :]
            if dh_final.shape != h0.shape:
                raise ValueError(f"dh_final must have the batch state's shape {h0.shape}, got {dh_final.shape}")
        if fast and ys is not None and _rk.covers(self, loss, truncate, T):
            return self._bptt_fast(params, xs3, ys, h0, dh_final, loss, reduction, squeeze,
                                   np.float32 if f32 else np.float64)
        if stacked:
            top, caches = stack_forward(params, xs3, h0, self.activation)
        else:
            hs, a = forward_sequence(params, xs3, h0, self.activation)
            top = hs[1:]
        dz = np.zeros((T, B, K))
        if ys is None:  # no loss terms of its own (an encoder: only dh_final drives the gradient)
            value = 0.0
        elif ys.ndim == 3:  # many-to-many: a target per step
            value, dz[:] = output_loss(loss, self.output_activation, top @ params.V.T + params.c, ys,
                                       reduction=reduction)
        else:  # many-to-one: the last step only
            value, dz[-1] = output_loss(loss, self.output_activation, top[-1] @ params.V.T + params.c, ys,
                                        reduction=reduction)
        if stacked:
            grads, dh, dh0 = stack_backward(params, caches, dz, self.activation, truncate, dh_final)
        else:
            grads, dh, dh0 = _backward(params, xs3, hs, a, dz, self.activation, truncate, dh_final)
        dh_norm = np.sqrt(np.einsum("tbh,tbh->t", dh, dh))
        if squeeze:
            return value, grads, {"dh_norm": dh_norm, "h": top[:, 0], "dh0": dh0[..., 0, :]}
        return value, grads, {"dh_norm": dh_norm, "h": top, "dh0": dh0}

    def _bptt_fast(self, params, xs, ys, h0, dh_final, loss, reduction, squeeze, dtype):
        """:meth:`bptt` through the fused kernel :func:`nets._kernels.rnn_bptt.rnn_bptt`."""
        value, g, hs, dh_norm, dh0 = _rk.bptt_fast(self, params, xs, ys, h0, dh_final, loss, reduction, dtype)
        if squeeze:
            return value, RNNTrainParams(*g), {"dh_norm": dh_norm, "h": hs[1:, 0], "dh0": dh0[0]}
        return value, RNNTrainParams(*g), {"dh_norm": dh_norm, "h": hs[1:], "dh0": dh0}

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("an RNN is deterministic: it has no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> RNNState:
        return RNNState(self._h0.copy())

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> RNNState:
        if x is None:
            raise ValueError("an RNN step needs the input x_t")
        if self.stack_params is not None:
            return self._stack_step(state, x, units)
        W, U, b = self.params
        idx = slice(None) if units is None else np.asarray(units)
        z = W[idx] @ state.h + U[idx] @ np.asarray(x, dtype=np.float64) + b[idx]
        out = state.h.copy()
        out[idx] = activation(self.activation)(z)
        return RNNState(out)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` (all units every tick; the clocked plan); a stack
        steps through :meth:`step` (numpy)."""
        if len(drive["ptr"]) != 2:
            raise ValueError("the RNN fast path updates all units together (schedule 'clocked')")
        if self.stack_params is not None:
            ticks = []
            for x in np.asarray(drive["x"], dtype=np.float64):
                state = self.step(state, x)
                ticks.append(state)
            micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
            return ticks, micro, micro_at, len(ticks), phase
        xs = np.ascontiguousarray(drive["x"], dtype=np.float64)
        h = state.h.copy()
        out = np.empty((len(xs), self.n_units))
        _k.forward(tuple(self.params), h, xs, _ACT_CODE[self.activation], out)
        ticks = [RNNState(out[k]) for k in range(len(xs))]
        micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
        return ticks, micro, micro_at, len(xs), phase


    def _stack_step(self, state, x, units) -> RNNState:
        """One tick of every layer of a unidirectional stack (state (L*H,), layer-major)."""
        if self.bidirectional:
            raise ValueError("a bidirectional RNN reads the whole sequence: it cannot be stepped in time")
        p, f, H = self.stack_params, activation(self.activation), self.n_hidden
        h = np.asarray(state.h, dtype=np.float64).reshape(self.n_layers, H)
        inp = np.asarray(x, dtype=np.float64)
        new = np.empty_like(h)
        for k in range(self.n_layers):
            Uk = p.U0[0] if k == 0 else p.U[k - 1, 0]
            new[k] = f(p.W[k, 0] @ h[k] + Uk @ inp + p.b[k, 0])
            inp = new[k]
        out = state.h.copy()
        idx = slice(None) if units is None else np.asarray(units)
        out[idx] = new.reshape(-1)[idx]
        return RNNState(out)


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
    grads, dh, _ = _backward(params, xs, hs, a, dz, act, truncate)
    return grads, dh


def _backward(params, xs, hs, a, dz, act: str, truncate: int | None, dh_final=None):
    """:func:`backward_sequence` plus dL/dh0 (B, H); ``dh_final`` (B, H) is added to dL/dh_{T-1}."""
    W, V = params[0], params[3]
    T, B, H = a.shape
    fp = derivative(act, a, hs[1:])  # (T, B, H)
    dh_out = dz @ V  # (T, B, H): gradient reaching h_t directly from the loss term at t
    dh = np.empty((T, B, H))
    da = np.empty((T, B, H))
    if truncate is None:
        carry = np.zeros((B, H)) if dh_final is None else dh_final.copy()
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
            if t == T - 1 and dh_final is not None:
                G[0] = G[0] + dh_final
            dh[t] = G.sum(axis=0)
            da[t] = dh[t] * fp[t]
            G = (G * fp[t]) @ W  # each age moves one step back; the oldest drops on the shift
        # a term of age j reaches h0 through j + 1 cell applications: ages 0 .. truncate-2 do
        # (with truncate > T every age does: full BPTT, as for the weights)
        carry = G[:truncate - 1].sum(axis=0)
    grads = RNNTrainParams(
        W=np.einsum("tbi,tbj->ij", da, hs[:-1]),
        U=np.einsum("tbi,tbj->ij", da, xs),
        b=da.sum(axis=(0, 1)),
        V=np.einsum("tbk,tbh->kh", dz, hs[1:]),
        c=dz.sum(axis=(0, 1)),
    )
    return grads, dh, carry


def counter() -> RNN:
    """The counting network h_t = x_t + h_{t-1} (identity activation, h_{-1} = 0)."""
    return RNN([[1.0]], [[1.0]], [0.0], activation="identity")
