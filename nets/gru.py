r"""Gated recurrent unit (GRU): both reset placements, both update conventions, stacks.

Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014), "Learning
phrase representations using RNN encoder-decoder for statistical machine translation",
EMNLP, section 2.3 (the "hidden unit that adaptively remembers and forgets") [paper;
SCENARIOS.md section 8]. Per layer and direction, with gates in PyTorch's row order
(r, z, n) inside the (3H, .) weight blocks:

    r_t = sigma(U_r x_t + b_r + W_r h_{t-1} + bh_r)                     reset gate
    z_t = sigma(U_z x_t + b_z + W_z h_{t-1} + bh_z)                     update gate
    n_t = tanh(U_n x_t + b_n + r_t * (W_n h_{t-1} + bh_n))              reset="after"
    n_t = tanh(U_n x_t + b_n + W_n (r_t * h_{t-1}) + bh_n)              reset="before"
    h_t = z_t * h_{t-1} + (1 - z_t) * n_t                               update="cho"
    h_t = (1 - z_t) * h_{t-1} + z_t * n_t                               update="notes"

``reset="before"`` is Cho et al.'s eq. (8): the reset gate multiplies the old state before
the recurrent matrix product. ``reset="after"`` applies it to W_n h_{t-1} + bh_n, the form
of cuDNN and of ``torch.nn.GRU`` (PyTorch documentation of nn.GRU, which writes
n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))); the two differ whenever W_n != 0.
``update="cho"`` puts z on the *old* state (Cho 2014, eq. (7); also PyTorch), so z -> 1
copies the state; ``update="notes"`` puts z on the candidate (the course notes, Chung et
al. 2014 and many texts), so z -> 0 copies it. The two conventions are the same family:
negating every z-gate parameter (U_z, b_z, W_z, bh_z) maps one onto the other exactly,
since sigma(-a) = 1 - sigma(a) (tests/test_gru.py checks it).

Stacks and directions follow ``torch.nn.GRU``: layer 0 reads x_t, layer l > 0 reads the
concatenated outputs of both directions of layer l-1; the reverse direction runs the same
cell from t = T-1 down to 0; the net's output h_t is the top layer's [h_t^fwd, h_t^rev]
(D*H values, D = 2 when bidirectional), read by y_t = g(V h_t + c).

Training (:meth:`GRU.bptt`): backpropagation through time of the equations above (per step
and gate, da_n = dn (1 - n^2), da_z = dz z (1 - z), da_r = d(r-product) r (1 - r), and the
state gradient dL/dh_{t-1} = dh_t * (z or 1 - z) + the gate paths). Truncated BPTT(k) has the
meaning of :mod:`nets.rnn`: the gradient of each loss term travels along paths through at
most k cell applications, i.e. at most k - 1 recurrent transitions counted over every layer
and direction on the path; for a unidirectional stack this is the exact gradient of the
surrogate whose term s runs the whole stack k steps from the frozen states at step s - k,
and k >= T is full BPTT; a bidirectional stack's paths may take up to L (T - 1)
transitions, so there full BPTT needs k > L (T - 1).
``trace["dh_norm"][t] = ||dL/dh_t||`` (Frobenius over the batch) of the top layer's output
h_t (both directions); ``trace["gates"]`` holds r, z, n of the top layer per step.

Parameters (:class:`GRUTrainParams`, L layers, D directions, H hidden units, I inputs):
U0 (D, 3H, I) input weights of layer 0, U (L-1, D, 3H, D*H) input weights of the higher
layers, W (L, D, 3H, H) recurrent weights, b (L, D, 3H) input-side biases, bh (L, D, 3H)
recurrent-side biases (PyTorch's bias_ih / bias_hh; with reset="before" only b_n + bh_n
matters), V (K, D*H), c (K,). :meth:`GRU.state_dict` / :meth:`GRU.from_state_dict` map them
onto PyTorch's names without importing torch.

The numpy reference twin (:mod:`nets.gru_reference`) is what ``bptt(..., fast=False)``
runs; the fused numba kernel :mod:`nets._kernels.gru` (``fast=True``) is tested against it.

State gradients (the protocol of :mod:`nets.seq2seq`, as :class:`nets.rnn.RNN`): the state
is h, (L*D, B, H) in torch's h_0 / h_n order; :meth:`GRU.final_state` returns h_n (each
cell's last processed state: t = T-1 forward, t = 0 reverse); the numpy path's
``trace["dh0"]`` is dL/d state0 (L*D, B, H), and ``bptt(..., dh_final=G)`` adds G to
dL/dh_n (G enters with age 0, like a loss term at the cell's last step, so truncation
treats it alike; a path into h0 counts the step into h0 as a transition). ``ys=None``: no
loss terms of its own (an encoder). The fused kernel has neither: ``dh_final`` or
``ys=None`` fall back to the numpy path, and the kernel's trace has no "dh0".
"""
from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from sim.train import output_loss
from .gru_reference import GRUTrainParams, cell_backward, cell_forward
from .gru_reference import stack_backward as _stack_backward
from .gru_reference import stack_forward as _stack_forward
from .init import INITS, init_matrix
from .sequence_io import apply_output as _apply_output
from .sequence_io import check_truncate, micro_ticks, sequence_inputs, sequence_targets, torch_layers

__all__ = ["GRU", "GRUState", "GRUTrainParams", "cell_forward", "cell_backward"]

RESETS = ("after", "before")
UPDATES = ("cho", "notes")
_OUTPUTS = ("identity", "sigmoid", "softmax")


class GRUState(NamedTuple):
    h: np.ndarray  # (L*D*H,) hidden states of every layer and direction (torch's h_0 order)


@register
class GRU(Net):
    """Gated recurrent unit net (module docstring), optionally stacked and bidirectional.

    Parameters
    ----------
    params : GRUTrainParams (shapes in the module docstring)
    reset : {"after", "before"}
        Where the reset gate acts: after the recurrent product (PyTorch/cuDNN) or before
        it (Cho et al. 2014).
    update : {"cho", "notes"}
        h_t = z h_{t-1} + (1 - z) n_t (Cho 2014, PyTorch) or (1 - z) h_{t-1} + z n_t.
    output : {"identity", "sigmoid", "softmax"}
        The output nonlinearity g of y_t = g(V h_t + c).
    h0 : ndarray (L*D*H,) or (L*D, H), optional
        Initial state (zeros by default).
    """

    kind: ClassVar[str] = "gru"
    has_rollout: ClassVar[bool] = True
    State = GRUState
    config_keys: ClassVar[dict[str, Key]] = {
        "n_inputs": Key("int", min=1, doc="input units"),
        "n_hidden": Key("int", min=1, doc="hidden units per layer and direction"),
        "n_outputs": Key("int", min=1, doc="output units"),
        "output": Key("str", default="identity", choices=_OUTPUTS),
        "init": Key("str", default="torch", choices=INITS,
                    doc="weight initialisation (nets.init); 'uniform' uses init_range"),
        "init_range": Key("float", default=0.1, min=0.0, doc="r of the uniform init U(-r, r)"),
        "n_layers": Key("int", default=1, min=1, doc="stacked GRU layers"),
        "bidirectional": Key("bool", default=False),
        "reset": Key("str", default="after", choices=RESETS,
                     doc="reset gate after the recurrent product (PyTorch) or before it (Cho 2014)"),
        "update": Key("str", default="cho", choices=UPDATES,
                      doc="'cho': h = z h_old + (1-z) n; 'notes': h = (1-z) h_old + z n"),
        "update_bias": Key("float", default=0.0,
                           doc="added to the update-gate biases b_z after the init (memory bias)"),
    }

    def __init__(self, params, *, reset: str = "after", update: str = "cho", output: str = "identity",
                 h0=None):
        if reset not in RESETS:
            raise ValueError(f"unknown reset {reset!r}; expected one of {', '.join(RESETS)}")
        if update not in UPDATES:
            raise ValueError(f"unknown update {update!r}; expected one of {', '.join(UPDATES)}")
        if output not in _OUTPUTS:
            raise ValueError(f"unknown output {output!r}; expected one of {', '.join(_OUTPUTS)}")
        p = GRUTrainParams(*(np.array(a, dtype=np.float64, copy=True) for a in params))
        _check_shapes(p)
        if not all(np.all(np.isfinite(a)) for a in p):
            raise ValueError("GRU parameters must be finite")
        for a in p:
            a.setflags(write=False)
        self.params = p
        self.reset, self.update, self.output_activation = reset, update, output
        L, D, H = self.n_layers, self.n_dirs, self.n_hidden
        self._h0 = np.zeros(L * D * H) if h0 is None else np.array(h0, dtype=np.float64).reshape(-1)
        if self._h0.shape != (L * D * H,):
            raise ValueError(f"h0 must hold {L * D * H} values (L*D, H), got {np.shape(h0)}")

    # --- sizes -----------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return self.params.W.shape[0]

    @property
    def n_dirs(self) -> int:
        return self.params.W.shape[1]

    @property
    def bidirectional(self) -> bool:
        return self.n_dirs == 2

    @property
    def n_hidden(self) -> int:
        return self.params.W.shape[3]

    @property
    def n_units(self) -> int:
        """All hidden units, L * D * H (the state the engine steps)."""
        return self.n_layers * self.n_dirs * self.n_hidden

    @property
    def n_inputs(self) -> int:
        return self.params.U0.shape[2]

    @property
    def n_outputs(self) -> int:
        return self.params.V.shape[0]

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs,
                "n_hidden": self.n_hidden, "n_outputs": self.n_outputs, "n_layers": self.n_layers,
                "bidirectional": self.bidirectional, "reset": self.reset, "update": self.update,
                "output": self.output_activation}

    # --- construction ----------------------------------------------------------------
    @classmethod
    def from_config(cls, net_cfg: dict, *, rng: np.random.Generator) -> "GRU":
        """A freshly initialised net from the scenario's ``[net]`` keys (``config_keys``).

        Weights per gate block: ``init`` of :func:`nets.init.init_matrix` (``torch``:
        U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, PyTorch's default; ``uniform``:
        U(-r, r) for weights and biases; otherwise biases are zero). The readout V, c is
        drawn the same way with fan-in D*H. ``update_bias`` is then added to b_z.
        """
        cfg = {k: key.default for k, key in cls.config_keys.items()}
        cfg.update({k: v for k, v in net_cfg.items() if k != "kind"})
        for k in ("n_inputs", "n_hidden", "n_outputs"):
            if not isinstance(cfg[k], (int, np.integer)) or cfg[k] < 1:
                raise ValueError(f"net.{k} must be an integer >= 1, got {cfg[k]!r}")
        H, I, K, L = cfg["n_hidden"], cfg["n_inputs"], cfg["n_outputs"], int(cfg["n_layers"])
        D = 2 if cfg["bidirectional"] else 1
        scheme, r = cfg["init"], float(cfg["init_range"])

        def mat(n_out, n_in, hidden=H):
            return init_matrix(scheme, (n_out, n_in), rng=rng, init_range=r, hidden=hidden)

        def gates(n_in):  # three gate blocks (H, n_in) stacked: r, z, n
            return np.concatenate([mat(H, n_in) for _ in range(3)])

        def bias(n, hidden=H):
            if scheme == "uniform":
                return rng.uniform(-r, r, size=n)
            if scheme == "torch":
                k = 1.0 / np.sqrt(hidden)
                return rng.uniform(-k, k, size=n)
            return np.zeros(n)

        U0 = np.stack([gates(I) for _ in range(D)])
        U = np.stack([np.stack([gates(D * H) for _ in range(D)]) for _ in range(L - 1)]) if L > 1 \
            else np.zeros((0, D, 3 * H, D * H))
        W = np.stack([np.stack([gates(H) for _ in range(D)]) for _ in range(L)])
        b = np.stack([np.stack([bias(3 * H) for _ in range(D)]) for _ in range(L)])
        bh = np.stack([np.stack([bias(3 * H) for _ in range(D)]) for _ in range(L)])
        b[:, :, H:2 * H] += float(cfg["update_bias"])
        V = mat(K, D * H, hidden=D * H)
        c = bias(K, hidden=D * H)
        return cls(GRUTrainParams(U0, U, W, b, bh, V, c), reset=cfg["reset"], update=cfg["update"],
                   output=cfg["output"])

    @classmethod
    def from_state_dict(cls, sd: dict, *, reset: str = "after", update: str = "cho", V=None, c=None,
                        output: str = "identity", h0=None) -> "GRU":
        """A net from arrays in PyTorch's ``nn.GRU.state_dict()`` layout (no torch needed).

        Parameters
        ----------
        sd : dict of array-likes: ``weight_ih_l{k}`` (3H, I or D*H), ``weight_hh_l{k}``
            (3H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (3H,), with ``_reverse`` suffixes for
            the backward direction; gate rows r, z, n. Optionally ``out.weight`` (K, D*H) and
            ``out.bias`` (K,), an ``nn.Linear`` called ``out`` (as :meth:`state_dict` writes).
            Tensors work if they convert with ``np.asarray`` (call ``.detach()`` first).
        reset, update : the conventions the arrays are meant in. A dict from torch means
            reset="after", update="cho" (the defaults).
        V, c : output layer (default: ``out.*`` from sd, else V = I, c = 0).
        """
        sd, L, D, sfx = torch_layers(sd, "GRU")
        H = sd["weight_hh_l0"].shape[1]
        U0 = np.stack([sd[f"weight_ih_l0{s}"] for s in sfx])
        U = np.stack([np.stack([sd[f"weight_ih_l{k}{s}"] for s in sfx]) for k in range(1, L)]) if L > 1 \
            else np.zeros((0, D, 3 * H, D * H))
        W = np.stack([np.stack([sd[f"weight_hh_l{k}{s}"] for s in sfx]) for k in range(L)])
        b = np.stack([np.stack([sd[f"bias_ih_l{k}{s}"] for s in sfx]) for k in range(L)])
        bh = np.stack([np.stack([sd[f"bias_hh_l{k}{s}"] for s in sfx]) for k in range(L)])
        if V is None:
            V = sd.get("out.weight", np.eye(D * H))
        if c is None:
            c = sd.get("out.bias", np.zeros(np.shape(V)[0]))
        return cls(GRUTrainParams(U0, U, W, b, bh, V, c), reset=reset, update=update, output=output, h0=h0)

    def state_dict(self, *, raw: bool = False, output_layer: bool = True) -> dict[str, np.ndarray]:
        """The weights in PyTorch's ``nn.GRU`` layout (copies; float64 numpy arrays).

        Parameters
        ----------
        raw : bool
            False (default): a dict that ``torch.nn.GRU`` (reset after, z on the old state)
            loads to compute exactly this net: for update="notes" the z-gate rows are
            negated (the exact mapping of the module docstring); reset="before" has no
            torch equivalent and raises ValueError. True: this net's own arrays in that
            layout whatever the conventions; ``from_state_dict(sd, reset=..., update=...)``
            with this net's conventions rebuilds it exactly.
        output_layer : bool
            Add ``out.weight`` (V) and ``out.bias`` (c): an ``nn.Linear`` called ``out``
            (the names :class:`nets.lstm.LSTM` uses too).
        """
        if not raw and self.reset != "after":
            raise ValueError("torch.nn.GRU has no reset-before form: a reset='before' GRU has no "
                             "torch-equivalent state dict (use raw=True for its arrays in torch layout)")
        p = self.params
        H = self.n_hidden
        flip = np.ones(3 * H)
        if not raw and self.update == "notes":
            flip[H:2 * H] = -1.0
        sd = {}
        for k in range(self.n_layers):
            for d, s in enumerate(["", "_reverse"][:self.n_dirs]):
                Wih = p.U0[d] if k == 0 else p.U[k - 1, d]
                sd[f"weight_ih_l{k}{s}"] = Wih * flip[:, None]
                sd[f"weight_hh_l{k}{s}"] = p.W[k, d] * flip[:, None]
                sd[f"bias_ih_l{k}{s}"] = p.b[k, d] * flip
                sd[f"bias_hh_l{k}{s}"] = p.bh[k, d] * flip
        if output_layer:
            sd["out.weight"], sd["out.bias"] = p.V.copy(), p.c.copy()
        return sd

    # --- training interface ----------------------------------------------------------
    def train_params(self) -> GRUTrainParams:
        """The trainable parameters, as :meth:`bptt` takes them."""
        return self.params

    def with_params(self, params) -> "GRU":
        """A new net with the same conventions and h0 and the weights ``params``."""
        return GRU(params, reset=self.reset, update=self.update, output=self.output_activation, h0=self._h0)

    def with_conventions(self, *, update: str) -> "GRU":
        """The same function written in the other update convention (z-gate params negated)."""
        if update == self.update:
            return self
        H = self.n_hidden
        p = [np.array(a) for a in self.params]
        for i in (0, 1, 2):
            p[i][..., H:2 * H, :] *= -1.0
        for i in (3, 4):
            p[i][..., H:2 * H] *= -1.0
        return GRU(GRUTrainParams(*p), reset=self.reset, update=update, output=self.output_activation,
                   h0=self._h0)

    def _xs(self, xs):
        return sequence_inputs(xs, self.n_inputs, keep_float32=True)

    def _batch_h0(self, state0, B: int) -> np.ndarray:
        """Initial states (L*D, B, H) from None, a GRUState or an array (see :meth:`forward`)."""
        LD, H = self.n_layers * self.n_dirs, self.n_hidden
        h0 = self._h0 if state0 is None else (state0.h if isinstance(state0, GRUState) else state0)
        h0 = np.asarray(h0, dtype=np.float64)
        if h0.shape == (LD * H,):
            h0 = h0.reshape(LD, H)
        if h0.shape == (LD, H):
            return np.broadcast_to(h0[:, None, :], (LD, B, H)).copy()
        if LD == 1 and h0.shape == (B, H):
            return h0[None].copy()
        if h0.shape == (LD, B, H):
            return h0.copy()
        raise ValueError(f"state0 must have shape ({LD * H},), ({LD}, {H}) or ({LD}, {B}, {H})"
                         + (f" or ({B}, {H})" if LD == 1 else "") + f", got {h0.shape}")

    def forward(self, params, xs, state0=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-layer outputs and net outputs over a sequence.

        Parameters
        ----------
        params : GRUTrainParams
        xs : ndarray (T, B, I) or (T, I)
        state0 : GRUState or ndarray (L*D*H,), (L*D, H), (L*D, B, H) (torch's h_0), or
            (B, H) for a one-layer unidirectional net; the net's h0 by default.

        Returns
        -------
        h : ndarray (T, B, D*H) (or (T, D*H)), the top layer's h_t after input x_t
        y : ndarray (T, B, K) (or (T, K))
        """
        params = _as64(params)
        xs3, squeeze = self._xs(xs)
        top, _ = _stack_forward(params, xs3.astype(np.float64), self._batch_h0(state0, xs3.shape[1]),
                                self.reset, self.update)
        y = _apply_output(self.output_activation, top @ params.V.T + params.c)
        return (top[:, 0], y[:, 0]) if squeeze else (top, y)

    def gate_trace(self, params, xs, state0=None, *, fast: bool = False) -> dict:
        """Forward pass only, with the top layer's gates.

        Parameters as :meth:`forward`; ``fast`` runs a one-layer, one-direction net through
        the numba forward kernel (float64), else the numpy twin.

        Returns
        -------
        dict: "h" (T, B, D*H) top-layer outputs, "gates" r, z, n -> (T, B, D*H)
        (unbatched xs: the B axis dropped)
        """
        params = _as64(params)
        xs3, squeeze = self._xs(xs)
        xs3 = xs3.astype(np.float64)
        T, B, _ = xs3.shape
        h0 = self._batch_h0(state0, B)
        if fast and self.n_layers == 1 and self.n_dirs == 1:
            from ._kernels.gru import forward as _kforward
            H = self.n_hidden
            hs = np.empty((T + 1, B, H))
            gates = np.empty((4, T, B, H))
            p = params
            _kforward(tuple(np.ascontiguousarray(a) for a in (p.U0[0], p.W[0, 0], p.b[0, 0], p.bh[0, 0])),
                      np.ascontiguousarray(xs3), np.ascontiguousarray(h0[0]), _CODES[self.reset],
                      _CODES[self.update], hs, gates)
            trace = {"h": hs[1:], "gates": {"r": gates[0], "z": gates[1], "n": gates[2]}}
        else:
            top, caches = _stack_forward(params, xs3, h0, self.reset, self.update)
            trace = {"h": top, "gates": {g: np.concatenate([c[g] if d == 0 else c[g][::-1]
                                                            for d, c in enumerate(caches[-1])], axis=-1)
                                         for g in ("r", "z", "n")}}
        return _squeeze_trace(trace) if squeeze else trace

    def final_state(self, params, xs, state0=None) -> np.ndarray:
        """The state after the whole sequence, as ``state0`` takes it (a decoder's initial state).

        Returns (L*D, B, H), torch's h_n (every cell's last processed state, t = 0 for a
        reverse cell); (L*D, H) for unbatched xs.
        """
        params = _as64(params)
        xs3, squeeze = self._xs(xs)
        _, caches = _stack_forward(params, xs3.astype(np.float64), self._batch_h0(state0, xs3.shape[1]),
                                   self.reset, self.update)
        out = np.stack([c["hs"][-1] for layer in caches for c in layer])
        return out[:, 0] if squeeze else out

    def _state_grad(self, dh_final, B: int, squeeze: bool) -> np.ndarray:
        """dh_final as (L*D, B, H) from (L*D, B, H) or, for one cell, (B, H) ((L*D, H) / (H,) unbatched)."""
        LD, H = self.n_layers * self.n_dirs, self.n_hidden
        g = np.asarray(dh_final, dtype=np.float64)
        if squeeze:
            g = g[..., None, :]
        if LD == 1 and g.shape == (B, H):
            g = g[None]
        if g.shape != (LD, B, H):
            want = ([(LD, H)] + [(H,)] * (LD == 1)) if squeeze else ([(LD, B, H)] + [(B, H)] * (LD == 1))
            raise ValueError(f"dh_final must have shape {' or '.join(map(str, want))}, got {np.shape(dh_final)}")
        return g

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate: int | None = None,
             reduction: str = "mean", fast: bool = False, dh_final=None):
        """Loss and its gradient by backpropagation through time (full or truncated).

        Parameters
        ----------
        params : GRUTrainParams
        xs : ndarray (T, B, I), or (T, I) for one sequence
        ys : ndarray (T, B, K): a target per step, or (B, K): one target after the last
            step; (T, K) or (K,) for one sequence; None: no loss terms (loss 0; the
            gradient comes from ``dh_final`` only: an encoder, :mod:`nets.seq2seq`).
        state0 : see :meth:`forward` (not trained)
        loss : str or sim.train.Loss
        truncate : int >= 1, optional: BPTT(k) (module docstring)
        reduction : {"mean", "sum"}
        fast : bool
            Use the fused numba kernel (:mod:`nets._kernels.gru`) when it covers the
            configuration (one layer, one direction, full BPTT, identity or sigmoid output
            + MSE, sigmoid + BCE or softmax + cross-entropy); else the numpy path. float32 params
            (all of them) are computed in float32 by the kernel; float64 otherwise.
        dh_final : ndarray (L*D, B, H), optional
            An extra gradient dL/d(final state) in :meth:`final_state`'s layout ((B, H)
            also for one cell; (L*D, H) for one sequence). Not covered by the kernel.

        Returns
        -------
        loss : float
        grads : GRUTrainParams shaped like ``params``
        trace : dict: "dh_norm" (T,), "h" (T, B, D*H) top-layer outputs, "gates" dict
            r, z, n -> (T, B, D*H) of the top layer (directions concatenated); from the
            numpy path "dh0" (L*D, B, H) = dL/d state0 (truncated with ``truncate``);
            unbatched xs drop the B axis everywhere.
        """
        check_truncate(truncate)
        f32 = all(np.asarray(a).dtype == np.float32 for a in params)
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        K = np.shape(params[5])[0]
        ys = None if ys is None else sequence_targets(ys, T, B, K, squeeze)
        h0 = self._batch_h0(state0, B)
        if dh_final is not None:
            dh_final = self._state_grad(dh_final, B, squeeze)
        elif fast and ys is not None and self._fast_ok(loss, truncate, T):
            dtype = np.float32 if f32 else np.float64
            p = GRUTrainParams(*(np.asarray(a, dtype=dtype) for a in params))
            value, grads, trace = _bptt_fast(p, xs3.astype(dtype), ys.astype(dtype), h0[0].astype(dtype),
                                             (self.output_activation, _loss_name(loss)), self.reset, self.update,
                                             reduction)
            if squeeze:
                trace = _squeeze_trace(trace)
            return value, grads, trace
        params = _as64(params)
        xs3 = xs3.astype(np.float64)
        top, caches = _stack_forward(params, xs3, h0, self.reset, self.update)
        zo = top @ params.V.T + params.c  # (T, B, K)
        dz = np.zeros((T, B, K))
        if ys is None:  # no loss terms of its own (an encoder: only dh_final drives the gradient)
            value = 0.0
        elif ys.ndim == 3:
            value, dz[:] = output_loss(loss, self.output_activation, zo, ys, reduction=reduction)
        else:
            value, dz[-1] = output_loss(loss, self.output_activation, zo[-1], ys, reduction=reduction)
        grads, dh_top, dh0 = _stack_backward(params, xs3, caches, dz, self.reset, self.update, truncate, dh_final)
        dh_norm = np.sqrt(np.einsum("tbh,tbh->t", dh_top, dh_top))
        gates = {g: np.concatenate([c[g] if d == 0 else c[g][::-1] for d, c in enumerate(caches[-1])], axis=-1)
                 for g in ("r", "z", "n")}  # reverse direction: back to natural time order
        trace = {"dh_norm": dh_norm, "h": top, "gates": gates, "dh0": dh0}
        return value, grads, (_squeeze_trace(trace) if squeeze else trace)

    def _fast_ok(self, loss, truncate, T) -> bool:
        pair = (self.output_activation, _loss_name(loss))
        return (self.n_layers == 1 and self.n_dirs == 1 and (truncate is None or truncate >= T)
                and pair in _LOSS_CODES)

    def output(self, h, params=None) -> np.ndarray:
        """``y = g(V h + c)`` for the top layer's h (..., D*H); shape (..., K)."""
        p = self.params if params is None else params
        return _apply_output(self.output_activation, np.asarray(h, dtype=np.float64) @ p.V.T + p.c)

    # --- the engine's view: a driven dynamical system (unidirectional only) ---------
    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("a GRU is deterministic: it has no temperature (use T = 0)")
        return False

    def init_state(self, *, rng: np.random.Generator) -> GRUState:
        return GRUState(self._h0.copy())

    def _check_causal(self):
        if self.bidirectional:
            raise ValueError("a bidirectional GRU reads the whole sequence: it cannot be stepped in time")

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> GRUState:
        """One tick of every layer (state h: (L*H,), layer-major), units outside ``units`` kept."""
        self._check_causal()
        if x is None:
            raise ValueError("a GRU step needs the input x_t")
        H = self.n_hidden
        p = self.params
        h = np.asarray(state.h, dtype=np.float64).reshape(self.n_layers, 1, H)
        inp = np.asarray(x, dtype=np.float64)[None, None, :]  # (T=1, B=1, I)
        new = np.empty_like(h)
        for k in range(self.n_layers):
            Uk = p.U0[0] if k == 0 else p.U[k - 1, 0]
            cache = cell_forward(Uk, p.W[k, 0], p.b[k, 0], p.bh[k, 0], inp, h[k], self.reset, self.update)
            new[k] = cache["hs"][1]
            inp = cache["hs"][1:]
        out = state.h.copy()
        idx = slice(None) if units is None else np.asarray(units)
        out[idx] = new.reshape(-1)[idx]
        return GRUState(out)

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """Numba twin of :meth:`step` (every unit each tick: the clocked plan)."""
        from ._kernels.gru import forward as _kforward
        self._check_causal()
        if len(drive["ptr"]) != 2:
            raise ValueError("the GRU fast path updates all units together (schedule 'clocked')")
        H, L = self.n_hidden, self.n_layers
        p = self.params
        inp = np.ascontiguousarray(drive["x"], dtype=np.float64)[:, None, :]  # (n, 1, I)
        n = inp.shape[0]
        h = state.h.reshape(L, 1, H)
        out = np.empty((n, L, H))
        for k in range(L):
            Uk = p.U0[0] if k == 0 else p.U[k - 1, 0]
            hs = np.empty((n + 1, 1, H))
            gates = np.empty((4, n, 1, H))
            _kforward((Uk, p.W[k, 0], p.b[k, 0], p.bh[k, 0]), inp, np.ascontiguousarray(h[k]),
                      _CODES[self.reset], _CODES[self.update], hs, gates)
            out[:, k] = hs[1:, 0]
            inp = hs[1:]
        ticks = [GRUState(out[k].reshape(-1).copy()) for k in range(n)]
        micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
        return ticks, micro, micro_at, n, phase


_CODES = {"after": 0, "before": 1, "cho": 0, "notes": 1}
#: (output activation, loss) -> the kernel's loss code (nets._kernels.lstm.LOSS_CODES)
_LOSS_CODES = {("identity", "mse"): 0, ("sigmoid", "bce"): 1, ("softmax", "cross_entropy"): 2, ("sigmoid", "mse"): 3}


def _bptt_fast(p: GRUTrainParams, xs, ys, h0, pair: tuple, reset: str, update: str, reduction: str):
    """:meth:`GRU.bptt` of a one-layer one-direction net by :func:`nets._kernels.gru.bptt`;
    ``pair`` = (output activation, loss name), a key of ``_LOSS_CODES``.

    All arrays share one float type (float32 or float64), which the kernel computes in.
    """
    from ._kernels.gru import bptt as _kbptt
    from ._kernels.workspace import scratch
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be one of ('mean', 'sum'), got {reduction!r}")
    dtype = p.W.dtype
    q = (p.U0[0], p.W[0, 0], p.b[0, 0], p.bh[0, 0], p.V, p.c)
    q = tuple(np.ascontiguousarray(a) for a in q)
    y3 = np.ascontiguousarray(ys if ys.ndim == 3 else ys[None])
    T, B, _ = xs.shape
    H = q[1].shape[1]
    code = _LOSS_CODES[pair]
    n_terms = y3.size // y3.shape[-1] if code == 2 else y3.size
    scale = 1.0 / max(n_terms, 1) if reduction == "mean" else 1.0
    hs = np.empty((T + 1, B, H), dtype)
    gates = np.empty((4, T, B, H), dtype)
    dh_norm = np.empty(T, dtype)
    g = tuple(np.empty_like(a) for a in q)
    DGX = scratch("gru_GX", (T * B, 3 * H), dtype)
    DGH = scratch("gru_GH", (T * B if reset == "after" else 1, 3 * H), dtype)
    value = _kbptt(q, np.ascontiguousarray(xs), y3, np.ascontiguousarray(h0),
                   (_CODES[reset], _CODES[update], code, dtype.type(scale)), (hs, gates, dh_norm, DGX, DGH), g)
    D = 1
    grads = GRUTrainParams(g[0][None], np.zeros((0, D, 3 * H, D * H), dtype), g[1][None, None],
                           g[2][None, None], g[3][None, None], g[4], g[5])
    trace = {"dh_norm": dh_norm, "h": hs[1:], "gates": {"r": gates[0], "z": gates[1], "n": gates[2]}}
    return float(value), grads, trace


def _loss_name(loss) -> str | None:
    return loss if isinstance(loss, str) else getattr(loss, "name", None)


def _squeeze_trace(trace: dict) -> dict:
    out = dict(trace)
    out["h"] = trace["h"][:, 0]
    out["gates"] = {g: a[:, 0] for g, a in trace["gates"].items()}
    if "dh0" in trace:
        out["dh0"] = trace["dh0"][:, 0]
    return out


def _as64(params) -> GRUTrainParams:
    return GRUTrainParams(*(np.asarray(a, dtype=np.float64) for a in params))


def _check_shapes(p: GRUTrainParams) -> None:
    if p.W.ndim != 4 or p.W.shape[0] < 1 or p.W.shape[1] not in (1, 2) or p.W.shape[3] < 1 \
            or p.W.shape[2] != 3 * p.W.shape[3]:
        raise ValueError(f"W must have shape (L, D, 3H, H) with L >= 1, D in (1, 2), got {p.W.shape}")
    L, D, H3, H = p.W.shape
    if p.U0.ndim != 3 or p.U0.shape[:2] != (D, H3) or p.U0.shape[2] < 1:
        raise ValueError(f"U0 must have shape ({D}, {H3}, n_inputs), got {p.U0.shape}")
    expect = {"U": (L - 1, D, H3, D * H), "b": (L, D, H3), "bh": (L, D, H3)}
    for name, shape in expect.items():
        if getattr(p, name).shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {getattr(p, name).shape}")
    if p.V.ndim != 2 or p.V.shape[1] != D * H or p.V.shape[0] < 1:
        raise ValueError(f"V must have shape (n_outputs, {D * H}), got {p.V.shape}")
    if p.c.shape != (p.V.shape[0],):
        raise ValueError(f"c must have shape ({p.V.shape[0]},), got {p.c.shape}")

