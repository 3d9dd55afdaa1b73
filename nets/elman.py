r"""Elman's simple recurrent network (SRN) and its original one-step "copy-back" training.

Elman, J. L. (1990). Finding structure in time. Cognitive Science 14:179-211 [paper]
(SCENARIOS.md section 5). The context units hold a copy of the previous hidden state, so
the SRN is the vanilla recurrent net of :mod:`nets.rnn` with sigmoid units:

    h_t = sigma(W h_{t-1} + U x_t + b)          (W: context -> hidden, h_{-1} = context_init)
    y_t = sigma(V h_t + c)

and :class:`Elman` is a thin subclass of :class:`nets.rnn.RNN` (same forward pass, same
``bptt``); it adds the scenario configuration (``config_keys``, ``from_config``: weights
uniform in [-init_range, init_range], context initialised to 0.5) and the training rule.

Copy-back training (Elman 1990; Rumelhart-Hinton-Williams backprop with the context as an
extra input): after each input x_t the output error on the target y_t is backpropagated one
step only (to W, U, b through the hidden layer; h_{t-1} is a constant), the weights are
changed at once (online, batch 1), and the new hidden state is copied into the context for
the next input. With squared error E_t = 1/2 sum_k (y_tk - target_tk)^2 and rate eta:

    dz = (y - target) * g'(z),  da = (V^T dz) * f'(a)
    V -= eta dz h_t^T,  c -= eta dz,  W -= eta da h_{t-1}^T,  U -= eta da x_t^T,  b -= eta da.

This is ``bptt(..., truncate=1)`` of :mod:`nets.rnn` applied at every step with the stored
context as the initial state (the factor 1/2: the library's MSE has none, so its gradient
is twice this one; tests/test_elman.py checks both identities). Note the context is the
hidden state computed with the weights *of its own step*; it is not recomputed after the
update, exactly as in a copy-back net. :func:`copy_back_train` runs it in a numba kernel
(:mod:`nets._kernels.elman`); :func:`copy_back_train_reference` is its numpy twin.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.core import register
from sim.schema import Key
from ._kernels import elman as _k
from .rnn import _ACT_CODE, RNN, RNNTrainParams

__all__ = ["Elman", "copy_back_train", "copy_back_train_reference"]

_OUT_CODE = {"identity": 0, "sigmoid": 3}


@register
class Elman(RNN):
    """Elman SRN: an :class:`~nets.rnn.RNN` with sigmoid hidden and output units by default.

    Parameters are those of :class:`~nets.rnn.RNN`; ``activation`` and ``output`` default to
    "sigmoid" (Elman 1990) and ``h0`` (the initial context) to 0.5 in every unit.
    """

    kind: ClassVar[str] = "elman"
    config_keys: ClassVar[dict[str, Key]] = {
        "n_inputs": Key("int", min=1, doc="input units"),
        "n_hidden": Key("int", min=1, doc="hidden units (= context units)"),
        "n_outputs": Key("int", min=1, doc="output units"),
        "activation": Key("str", default="sigmoid", choices=("sigmoid", "tanh", "identity", "relu")),
        "output": Key("str", default="sigmoid", choices=tuple(_OUT_CODE)),
        "init_range": Key("float", default=0.5, min=0.0, doc="initial weights uniform in [-r, r]"),
        "context_init": Key("float", default=0.5, doc="initial value of every context unit"),
    }
    rules: ClassVar[dict[str, dict[str, Key]]] = {
        "copy_back": {
            "lr": Key("float", default=0.1, min=0.0, doc="learning rate eta (of E = 1/2 sum (y - t)^2)"),
            "passes": Key("int", default=1, min=1, doc="passes through the training sequence"),
        },
    }

    def __init__(self, W, U, b=None, *, activation: str = "sigmoid", h0=None, V=None, c=None,
                 output: str = "sigmoid"):
        if h0 is None:
            h0 = np.full(np.shape(W)[0], 0.5)
        super().__init__(W, U, b, activation=activation, h0=h0, V=V, c=c, output=output)

    @classmethod
    def from_config(cls, net_cfg: dict, *, rng: np.random.Generator) -> "Elman":
        """A net with weights and biases drawn uniformly from [-init_range, init_range]."""
        H, I, K = net_cfg["n_hidden"], net_cfg["n_inputs"], net_cfg["n_outputs"]
        r = net_cfg["init_range"]
        draw = lambda *shape: rng.uniform(-r, r, size=shape)  # noqa: E731
        return cls(draw(H, H), draw(H, I), draw(H), V=draw(K, H), c=draw(K),
                   activation=net_cfg["activation"], output=net_cfg["output"],
                   h0=np.full(H, float(net_cfg["context_init"])))

    def with_params(self, params) -> "Elman":
        W, U, b, V, c = params
        return Elman(W, U, b, activation=self.activation, h0=self._h0, V=V, c=c, output=self.output_activation)

    def describe(self):
        return {**super().describe(), "kind": self.kind}


def _check(net: RNN, xs, ys):
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    ys = np.ascontiguousarray(ys, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != net.n_inputs:
        raise ValueError(f"xs must have shape (T, {net.n_inputs}), got {xs.shape}")
    if ys.shape != (len(xs), net.n_outputs):
        raise ValueError(f"ys must have shape ({len(xs)}, {net.n_outputs}), got {ys.shape}")
    if net.output_activation not in _OUT_CODE:
        raise ValueError(f"copy-back training takes an identity or sigmoid output, not {net.output_activation!r}")
    return xs, ys


def copy_back_train(net: RNN, params, xs, ys, h0=None, *, lr: float, passes: int = 1):
    """Elman's online one-step training (module docstring), ``passes`` times over (xs, ys).

    Parameters
    ----------
    net : RNN or Elman (its activations; its h0 unless ``h0`` is given)
    params : RNNTrainParams, not modified
    xs : ndarray (T, I); ys : ndarray (T, K) (the target after each input)
    h0 : ndarray (H,), optional: the context before the first input
    lr : float; passes : int >= 1 (the context carries over from one pass to the next)

    Returns
    -------
    params : RNNTrainParams after training
    h : ndarray (H,), the context after the last input
    sse : ndarray (passes,), per pass sum_t 1/2 ||y_t - target_t||^2 (during training)
    """
    xs, ys = _check(net, xs, ys)
    if passes < 1:
        raise ValueError("passes must be >= 1")
    p = RNNTrainParams(*(np.array(a, dtype=np.float64, copy=True) for a in params))
    h = np.array(net._h0 if h0 is None else h0, dtype=np.float64, copy=True)
    sse = np.empty(passes)
    _k.copy_back_train(tuple(p), xs, ys, h, float(lr), _ACT_CODE[net.activation],
                       _OUT_CODE[net.output_activation], sse)
    return p, h, sse


def copy_back_train_reference(net: RNN, params, xs, ys, h0=None, *, lr: float, passes: int = 1):
    """Numpy twin of :func:`copy_back_train`: per step, ``net.bptt`` on one step from the
    stored context with ``truncate=1`` and MSE summed (gradient 2x that of 1/2 SSE), then SGD."""
    xs, ys = _check(net, xs, ys)
    p = RNNTrainParams(*(np.array(a, dtype=np.float64, copy=True) for a in params))
    h = np.array(net._h0 if h0 is None else h0, dtype=np.float64, copy=True)
    sse = np.empty(passes)
    for e in range(passes):
        tot = 0.0
        for t in range(len(xs)):
            value, g, trace = net.bptt(p, xs[t:t + 1], ys[t:t + 1], h, loss="mse", truncate=1, reduction="sum")
            tot += 0.5 * value
            p = RNNTrainParams(*(q - 0.5 * lr * gq for q, gq in zip(p, g)))
            h = trace["h"][0]
        sse[e] = tot
    return p, h, sse
