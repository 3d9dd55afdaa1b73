r"""Long short-term memory: the 1997 cell, the forget gate, peepholes, Greff's variants.

One cell with switches, PyTorch's gate order (i, f, g, o) in the stacked weights. For one
layer and one direction, with x_t (I,), h_{t-1}, c_{t-1} (H,), W (4H, H) recurrent,
U (4H, I) input, b (4H,) bias, P (3, H) diagonal peepholes, G (3H, 3H) gate recurrence:

    a_t = U x_t + W h_{t-1} + b                     (blocks a_i, a_f, a_g, a_o)
    i_t = sigma(a_i + P_i * c_{t-1} + G_i q_{t-1})  input gate
    f_t = sigma(a_f + P_f * c_{t-1} + G_f q_{t-1})  forget gate (Gers, Schmidhuber & Cummins 2000)
    g_t = act_g(a_g)                                cell input
    c_t = f_t * c_{t-1} + i_t * g_t                 the constant error carousel
    o_t = sigma(a_o + P_o * c_t + G_o q_{t-1})      output gate; note the peephole sees c_t
    h_t = o_t * act_h(c_t)
    y_t = out(V h_t + c)                            output layer (identity, sigmoid, softmax)
    y_t = out(V h_t + S x_t + c)                    the same with ``shortcut``: S (K, I)

with q_{t-1} = (i_{t-1}, f_{t-1}, o_{t-1}) (3H,), q_{-1} = 0. Peepholes (Gers, Schraudolph &
Schmidhuber 2002) are the P terms, present only when ``peepholes``; G only for FGR.

Squashes: act_g in {"tanh", "logistic" sigma, "logistic2" 4 sigma - 2 (range [-2, 2]),
"identity"}, act_h in {"tanh", "logistic1" 2 sigma - 1 (range [-1, 1]), "identity"}. The
1997 original (Hochreiter & Schmidhuber, Neural Computation 9:1735) is
``forget_gate=False, peepholes=False, cell_input="logistic2", cell_output="logistic1"``:
c_t = c_{t-1} + i_t g_t. ``bptt`` always computes the exact gradient (or the truncation
of ``truncate`` below); the 1997 learner itself (gradients cut at the gates' recurrent
inputs, forward-accumulated through the cell state, weights changed every step) is
:func:`nets.lstm_rtrl.rtrl_sequence`.

Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber (2017), "LSTM: A search space
odyssey", IEEE TNNLS 28:2222. ``variant`` sets the defaults of the switches:

* ``vanilla``: forget gate, peepholes, act_g = act_h = tanh (their baseline);
* ``NIG`` no input gate: i_t = 1;       ``NFG`` no forget gate: f_t = 1;
* ``NOG`` no output gate: o_t = 1;      ``NIAF`` no input activation: act_g = identity;
* ``NOAF`` no output activation: act_h = identity;   ``NP`` no peepholes: P = 0;
* ``CIFG`` coupled input and forget gate: f_t = 1 - i_t (the forget gate's own weights
  are kept in the layout but unused);
* ``FGR`` full gate recurrence: the gates also receive the previous gate activations,
  i.e. the G q_{t-1} terms above, G a full (3H, 3H) matrix (rows i, f, o; columns
  i_{t-1}, f_{t-1}, o_{t-1}); as read from Greff et al. Section III [recalled, not
  quoted], with q_{-1} = 0 (our choice: a new sequence starts with closed gate memory).

The independent switches ``forget_gate``, ``peepholes``, ``cell_input``, ``cell_output``
override the variant's default; contradicting what the variant defines (e.g. NFG with
``forget_gate=True``) is a ValueError. A gate that is absent (or the coupled f) keeps its
rows in W, U, b (PyTorch layout); they receive zero gradient.

Shortcut (``shortcut=True``): direct input -> output connections S (K, I) added to the
output layer's net input, as in the 1997 experiments ("plus direct input-output
connections", e.g. Exp. 2a); x_t is the net's input (layer 0's, with several layers or
both directions too). BPTT: dS = sum_t dz_t x_t^T; nothing else changes (S does not feed
the cells). torch.nn.LSTM has no such weight: :meth:`LSTM.state_dict` refuses a shortcut
net unless ``extras=True`` (key ``shortcut.weight``) or ``output_layer=False``.

Layers and directions as in ``torch.nn.LSTM``: layer l > 0 reads the concatenated outputs
(forward, reverse) of layer l - 1; the reverse direction runs over the reversed sequence;
the output layer reads the top layer's concatenation (T, B, D H). Parameter names: for one
layer and one direction ``W, U, b[, P][, G], V, c[, S]``; otherwise ``W_l{k}``, ``U_l{k}``, ...
and ``..._reverse`` for the backward direction, then ``V, c[, S]``.

Training (:meth:`LSTM.bptt`): backpropagation through time (Werbos 1990) through every
path; per step, with dh_t = dL/dh_t (from the loss and from step t+1) and the
gradients dc' at c_t and dq' at q_t arriving from step t+1:

    do = dh_t act_h(c_t) + dq'_o,  da_o = do o (1 - o)
    dc_t = dh_t o act_h'(c_t) + dc' + da_o P_o           (dL/dc_t: trace "dc_norm")
    di = dc_t g + dq'_i,  df = dc_t c_{t-1} + dq'_f,  dg = dc_t i   (CIFG: di -= df)
    da_i = di i (1 - i),  da_f = df f (1 - f),  da_g = dg act_g'(a_g)
    dc_{t-1} += dc_t f + da_i P_i + da_f P_f,  dh_{t-1} += da W,  dq_{t-1} = da_q G,
    dx_t = da U (to the layer below), dW += da^T h_{t-1}, dU += da^T x_t, db += da,
    dP_i += da_i c_{t-1}, dP_f += da_f c_{t-1}, dP_o += da_o c_t, dG += da_q^T q_{t-1}.

With f = 1 and no peephole the cell-state gradient passes unchanged, dc_{t-1} = dc_t:
the carousel (trace ``dc_norm`` does not vanish).

Truncated BPTT(k), as :mod:`nets.rnn` defines it for one layer: each gradient that reaches
a layer's h_t (from the loss at step t, or from the layer above at step t) travels back
through at most k applications of that layer's cell (in its own time direction); h, c
and q contributions are truncated together. For a single unidirectional layer this is
the exact gradient of the surrogate loss whose term s runs the net k steps from the
frozen state (h, c, q)_{s-k} (tests/test_lstm.py checks it). For stacked layers the age
restarts in each layer: a documented choice, not a classic definition.

State gradients (the protocol of :mod:`nets.seq2seq`, as :class:`nets.rnn.RNN`, with the
cell state alongside h): the state is the pair (h, c), each (L*D, B, H) in torch's
(h_0, c_0) / (h_n, c_n) order (layer-major, then direction). :meth:`LSTM.final_state`
returns LSTMState(h_n, c_n) (each cell's last processed state: t = T-1 forward, t = 0
reverse), which ``state0`` accepts; the numpy path's ``trace["dh0"]`` = dL/dh_0 and
``trace["dc0"]`` = dL/dc_0 (each (L*D, B, H)); ``bptt(..., dh_final=(Gh, Gc))`` adds Gh to
dL/dh_n and Gc to dL/dc_n (a bare array is Gh alone; either may be None). They enter with
age 0, like a loss term at the cell's last step, so truncation treats them alike; into
(h_0, c_0) a path's step into the initial state counts as a transition. ``ys=None``: no
loss terms of its own (an encoder). The fused kernel has neither: ``dh_final`` or
``ys=None`` fall back to the numpy path, and the kernel's trace has no "dh0" / "dc0".

The numpy path (:func:`nets.lstm_cell.layer_forward`, :func:`~nets.lstm_cell.layer_backward`)
covers every switch and is the reference twin of the fused numba kernel :mod:`nets._kernels.lstm`, which
``bptt(fast=True)`` uses when it covers the configuration.

Weights in PyTorch's ``state_dict`` layout: :meth:`LSTM.state_dict`,
:meth:`LSTM.from_state_dict` (no torch import). PyTorch has two biases per gate; import
adds them (b = b_ih + b_hh), export writes b_ih = b, b_hh = 0, so net -> dict -> net is
exact. Configurations torch cannot express (peepholes, FGR, any Greff variant other than
vanilla-without-peepholes, other squashes) are exported only with ``extras=True``, which
adds the keys ``peephole_l{k}[_reverse]`` (3, H) and ``gate_recurrence_l{k}[_reverse]``
(3H, 3H), and ``shortcut.weight`` (K, I) = S (read back by ``from_state_dict``, which then
sets ``shortcut``); the other switches are not arrays and are passed to ``from_state_dict``.
"""
from __future__ import annotations

import collections
from typing import ClassVar, NamedTuple

import numpy as np

from sim.core import Net, register
from sim.schema import Key
from sim.train import output_loss
from .init import INITS, init_matrix
from .sequence_io import apply_output as _apply_output
from .sequence_io import check_truncate, micro_ticks, sequence_inputs, sequence_targets, torch_layers
from .lstm_cell import (CELL_INPUTS, CELL_OUTPUTS, VARIANTS, Cell, layer_backward, layer_forward,  # noqa: F401
                        resolve_cell)

__all__ = ["LSTM", "LSTMState", "VARIANTS", "CELL_INPUTS", "CELL_OUTPUTS", "Cell", "layer_forward",
           "layer_backward", "params_type"]

_OUTPUTS = ("identity", "sigmoid", "softmax")


class LSTMState(NamedTuple):
    h: np.ndarray  # (H,) for one layer and direction, else (L*D, H); batched: (..., B, H)
    c: np.ndarray  # same shape as h


# --- the parameter NamedTuple ------------------------------------------------------------
_PARAM_TYPES: dict[tuple, type] = {}


def _make_params(fields, arrays):
    return params_type(fields)(*arrays)


def params_type(fields: tuple[str, ...]) -> type:
    """The NamedTuple type ``LSTMTrainParams`` with these fields (one class per field set)."""
    fields = tuple(fields)
    cls = _PARAM_TYPES.get(fields)
    if cls is None:
        cls = collections.namedtuple("LSTMTrainParams", fields)
        cls.__module__ = __name__
        cls.__doc__ = "Everything LSTM.bptt differentiates (and its gradients): " + ", ".join(fields)
        cls.__reduce__ = lambda self: (_make_params, (self._fields, tuple(self)))
        _PARAM_TYPES[fields] = cls
    return cls


def _suffix(layer: int, d: int, single: bool) -> str:
    return "" if single else f"_l{layer}" + ("_reverse" if d else "")


def _block_names(cell: Cell) -> tuple[str, ...]:
    return ("W", "U", "b") + (("P",) if cell.peepholes else ()) + (("G",) if cell.gate_recurrence else ())


def _field_names(cell: Cell, n_layers: int, n_dirs: int, shortcut: bool = False) -> tuple[str, ...]:
    single = n_layers == 1 and n_dirs == 1
    return tuple(name + _suffix(l, d, single) for l in range(n_layers) for d in range(n_dirs)
                 for name in _block_names(cell)) + ("V", "c") + (("S",) if shortcut else ())


@register
class LSTM(Net):
    """LSTM net (module docstring): stacked, optionally bidirectional, with an output layer.

    Parameters
    ----------
    weights : NamedTuple or dict of arrays named as in the module docstring
        (``W, U, b[, P][, G][, V, c][, S]`` for one layer and direction; ``W_l0, ...`` else).
        Without V, c the output is y_t = h_t (V = I, c = 0); without S (with ``shortcut``), S = 0.
    n_layers : int >= 1
    bidirectional : bool
    variant : one of :data:`VARIANTS`
    forget_gate, peepholes : bool, optional (the variant's default when None)
    cell_input : one of :data:`CELL_INPUTS`, optional;  cell_output : one of :data:`CELL_OUTPUTS`
    output : {"identity", "sigmoid", "softmax"}
    shortcut : bool
        Direct input -> output connections S (K, I): y_t = out(V h_t + S x_t + c).
    """

    kind: ClassVar[str] = "lstm"
    has_rollout: ClassVar[bool] = True
    State = LSTMState
    config_keys: ClassVar[dict[str, Key]] = {
        "n_inputs": Key("int", min=1, doc="input units"),
        "n_hidden": Key("int", min=1, doc="memory cells per layer and direction"),
        "n_outputs": Key("int", min=1, doc="output units"),
        "n_layers": Key("int", default=1, min=1, doc="stacked layers"),
        "bidirectional": Key("bool", default=False),
        "output": Key("str", default="identity", choices=_OUTPUTS),
        "variant": Key("str", default="vanilla", choices=tuple(VARIANTS), doc="Greff et al. 2017 variant"),
        "forget_gate": Key("bool", default=None, doc="default: set by the variant (vanilla: true)"),
        "peepholes": Key("bool", default=None, doc="default: set by the variant (vanilla: true)"),
        "cell_input": Key("str", default=None, choices=CELL_INPUTS, doc="act_g; default: the variant's"),
        "cell_output": Key("str", default=None, choices=CELL_OUTPUTS, doc="act_h; default: the variant's"),
        "init": Key("str", default="uniform", choices=INITS, doc="weight initialisation (nets.init)"),
        "init_range": Key("float", default=0.1, min=0.0, doc="r of the uniform init U(-r, r)"),
        "forget_bias": Key("float", default=1.0, doc="initial forget-gate bias (Gers 2000; Jozefowicz 2015)"),
        "input_bias": Key("float", default=None, doc="initial input-gate bias (default: drawn by init)"),
        "output_bias": Key("float", default=None, doc="initial output-gate bias (default: drawn by init)"),
        "shortcut": Key("bool", default=False, doc="direct input -> output connections S (K, I) (1997)"),
    }

    def __init__(self, weights, *, n_layers: int = 1, bidirectional: bool = False, variant: str = "vanilla",
                 forget_gate: bool | None = None, peepholes: bool | None = None, cell_input: str | None = None,
                 cell_output: str | None = None, output: str = "identity", shortcut: bool = False):
        self.cell = resolve_cell(variant, forget_gate=forget_gate, peepholes=peepholes,
                                 cell_input=cell_input, cell_output=cell_output)
        self.variant = variant
        if not (isinstance(n_layers, (int, np.integer)) and n_layers >= 1):
            raise ValueError(f"n_layers must be an int >= 1, got {n_layers!r}")
        self.n_layers, self.bidirectional = int(n_layers), bool(bidirectional)
        self.n_dirs = 2 if bidirectional else 1
        if output not in _OUTPUTS:
            raise ValueError(f"unknown output {output!r}; expected one of {', '.join(_OUTPUTS)}")
        self.output_activation = output
        if not isinstance(shortcut, (bool, np.bool_)):
            raise ValueError(f"shortcut must be a bool, got {shortcut!r}")
        self.shortcut = bool(shortcut)
        w = dict(weights._asdict()) if hasattr(weights, "_asdict") else dict(weights)
        names = _field_names(self.cell, self.n_layers, self.n_dirs, self.shortcut)
        extra = sorted(set(w) - set(names))
        if extra:
            raise ValueError(f"unexpected weights {extra} for this configuration; expected {list(names)}")
        missing = [n for n in names if n not in w and n not in ("V", "c", "S")]
        if missing:
            raise ValueError(f"missing weights {missing} (expected {list(names)})")
        W0 = np.asarray(w[names[0]])
        if W0.ndim != 2 or W0.shape[0] != 4 * W0.shape[1] or W0.shape[1] == 0:
            raise ValueError(f"{names[0]} must have shape (4H, H), got {W0.shape}")
        H = W0.shape[1]
        D = self.n_dirs
        shapes = {}
        for l in range(self.n_layers):
            for d in range(D):
                s = _suffix(l, d, self.n_layers == 1 and D == 1)
                n_in = np.shape(w["U" + s])[1] if l == 0 and np.ndim(w["U" + s]) == 2 else D * H
                shapes.update({"W" + s: (4 * H, H), "U" + s: (4 * H, n_in), "b" + s: (4 * H,),
                               "P" + s: (3, H), "G" + s: (3 * H, 3 * H)})
        if "V" not in w:
            w["V"] = np.eye(D * H)
        w.setdefault("c", np.zeros(np.shape(w["V"])[0]))
        shapes["V"] = (np.shape(w["V"])[0], D * H) if np.ndim(w["V"]) == 2 and np.shape(w["V"])[0] >= 1 else None
        shapes["c"] = (shapes["V"][0],) if shapes["V"] else None
        if self.shortcut:
            n_x = shapes["U" + _suffix(0, 0, self.n_layers == 1 and D == 1)][1]
            if shapes["V"]:
                w.setdefault("S", np.zeros((shapes["V"][0], n_x)))
            shapes["S"] = (shapes["V"][0], n_x) if shapes["V"] else None
        arrays = []
        for n in names:
            a = np.array(w[n], dtype=np.float64, copy=True)
            if shapes[n] is None or a.shape != shapes[n]:
                raise ValueError(f"weight {n} must have shape {shapes[n] or ('K >= 1', D * H)}, got {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"weight {n} must be finite")
            a.setflags(write=False)
            arrays.append(a)
        self.params = params_type(names)(*arrays)
        self.n_hidden = H
        self.n_inputs = self.params.U.shape[1] if hasattr(self.params, "U") else self.params.U_l0.shape[1]

    # --- sizes and description --------------------------------------------------------
    @property
    def n_units(self) -> int:
        return self.n_hidden

    @property
    def n_outputs(self) -> int:
        return self.params.V.shape[0]

    def switches(self) -> dict:
        """The constructor's configuration keywords (what ``with_params`` keeps)."""
        return {"n_layers": self.n_layers, "bidirectional": self.bidirectional, "variant": self.variant,
                "forget_gate": self.cell.forget_gate, "peepholes": self.cell.peepholes,
                "cell_input": self.cell.cell_input, "cell_output": self.cell.cell_output,
                "output": self.output_activation, "shortcut": self.shortcut}

    def describe(self):
        return {"kind": self.kind, "n_units": self.n_units, "n_inputs": self.n_inputs,
                "n_outputs": self.n_outputs, **self.switches(), "cell": self.cell._asdict()}

    # --- construction -----------------------------------------------------------------
    @classmethod
    def from_config(cls, net_cfg: dict, *, rng: np.random.Generator) -> "LSTM":
        """A freshly initialised net from a scenario ``[net]`` table (see ``config_keys``).

        Every (H, n_in) gate block of U and W is drawn by ``init`` (nets.init.init_matrix;
        orthogonal per block); biases U(-r, r) for "uniform" and "torch" (r = 1/sqrt(H)),
        zero otherwise; then the forget-gate bias is set to ``forget_bias`` and the input-
        and output-gate biases to ``input_bias`` / ``output_bias`` when given. Peepholes
        and gate recurrence are drawn like W; V like U, c like b; the shortcut S (K, I) like
        V, drawn last (a net without it draws the same numbers as before).
        """
        get = lambda k: net_cfg.get(k, cls.config_keys[k].default)  # noqa: E731
        I, H, K = net_cfg["n_inputs"], net_cfg["n_hidden"], net_cfg["n_outputs"]
        L, D = get("n_layers"), 2 if get("bidirectional") else 1
        cell = resolve_cell(get("variant"), forget_gate=get("forget_gate"), peepholes=get("peepholes"),
                            cell_input=get("cell_input"), cell_output=get("cell_output"))
        scheme, r = get("init"), get("init_range")

        def mat(n_out, n_in, blocks=1):
            return np.concatenate([init_matrix(scheme, (n_out, n_in), rng=rng, init_range=r, hidden=H)
                                   for _ in range(blocks)], axis=0)

        def bias(n):
            if scheme in ("uniform", "torch"):
                k = r if scheme == "uniform" else 1.0 / np.sqrt(H)
                return rng.uniform(-k, k, size=n)
            return np.zeros(n)

        w = {}
        for l in range(L):
            for d in range(D):
                s = _suffix(l, d, L == 1 and D == 1)
                w["W" + s] = mat(H, H, 4)
                w["U" + s] = mat(H, I if l == 0 else D * H, 4)
                b = bias(4 * H)
                b[H:2 * H] = get("forget_bias")
                if get("input_bias") is not None:
                    b[:H] = get("input_bias")
                if get("output_bias") is not None:
                    b[3 * H:] = get("output_bias")
                w["b" + s] = b
                if cell.peepholes:
                    w["P" + s] = np.concatenate([mat(1, H) for _ in range(3)], axis=0) if scheme != "identity" \
                        else np.zeros((3, H))
                if cell.gate_recurrence:
                    w["G" + s] = mat(3 * H, 3 * H) if scheme != "identity" else np.zeros((3 * H, 3 * H))
        w["V"] = mat(K, D * H) if scheme != "identity" or K == D * H else init_matrix(
            "xavier", (K, D * H), rng=rng)
        w["c"] = bias(K)
        if get("shortcut"):
            w["S"] = mat(K, I) if scheme != "identity" or K == I else init_matrix("xavier", (K, I), rng=rng)
        return cls(w, n_layers=L, bidirectional=D == 2, variant=get("variant"), forget_gate=get("forget_gate"),
                   peepholes=get("peepholes"), cell_input=get("cell_input"), cell_output=get("cell_output"),
                   output=get("output"), shortcut=bool(get("shortcut")))

    def train_params(self):
        """The trainable parameters (the NamedTuple ``self.params``), as :meth:`bptt` takes them."""
        return self.params

    def with_params(self, params) -> "LSTM":
        """A new net with the same switches and the weights ``params``."""
        return LSTM(params, **self.switches())

    def _blocks(self, params) -> list[list[dict]]:
        """Per layer, per direction, the dict W, U, b[, P][, G] of ``params``."""
        single = self.n_layers == 1 and self.n_dirs == 1
        p = params._asdict()
        return [[{n: p[n + _suffix(l, d, single)] for n in _block_names(self.cell)}
                 for d in range(self.n_dirs)] for l in range(self.n_layers)]

    # --- PyTorch state_dict layout ------------------------------------------------------
    def torch_compatible(self) -> bool:
        """Whether ``torch.nn.LSTM`` computes this cell (no peepholes, plain vanilla, tanh)."""
        c = self.cell
        return (c.input_gate and c.forget_gate and c.output_gate and not c.peepholes and not c.coupled
                and not c.gate_recurrence and c.cell_input == "tanh" and c.cell_output == "tanh")

    def state_dict(self, *, extras: bool = False, output_layer: bool = True) -> dict[str, np.ndarray]:
        """The weights in ``torch.nn.LSTM.state_dict()`` layout (plain float64 numpy arrays).

        Keys ``weight_ih_l{k}`` (= U), ``weight_hh_l{k}`` (= W), ``bias_ih_l{k}`` (= b),
        ``bias_hh_l{k}`` (zeros), ``_reverse`` for the backward direction; with
        ``output_layer`` also ``out.weight`` (= V) and ``out.bias`` (= c), the names of an
        ``nn.Linear`` called ``out``. A configuration torch cannot express raises a
        ValueError unless ``extras=True``, which adds ``peephole_l{k}`` / ``gate_recurrence_l{k}``.
        The shortcut S (no torch weight) likewise: with ``output_layer`` a shortcut net raises
        a ValueError unless ``extras=True``, which adds ``shortcut.weight`` (K, I).
        """
        if not self.torch_compatible() and not extras:
            raise ValueError(f"torch.nn.LSTM cannot express this cell ({self.cell}); pass extras=True to "
                             "export it with the extra keys peephole_l{k} / gate_recurrence_l{k}")
        if self.shortcut and output_layer and not extras:
            raise ValueError("torch has no weight for the input -> output shortcut S of this net; pass "
                             "extras=True to export it as 'shortcut.weight', or output_layer=False")
        sd = {}
        for l, dirs in enumerate(self._blocks(self.params)):
            for d, blk in enumerate(dirs):
                s = f"_l{l}" + ("_reverse" if d else "")
                sd["weight_ih" + s] = np.array(blk["U"])
                sd["weight_hh" + s] = np.array(blk["W"])
                sd["bias_ih" + s] = np.array(blk["b"])
                sd["bias_hh" + s] = np.zeros_like(blk["b"])
                if "P" in blk:
                    sd["peephole" + s] = np.array(blk["P"])
                if "G" in blk:
                    sd["gate_recurrence" + s] = np.array(blk["G"])
        if output_layer:
            sd["out.weight"], sd["out.bias"] = np.array(self.params.V), np.array(self.params.c)
            if self.shortcut:
                sd["shortcut.weight"] = np.array(self.params.S)
        return sd

    @classmethod
    def from_state_dict(cls, sd: dict, *, V=None, c=None, output: str = "identity", **switches) -> "LSTM":
        """A net from ``torch.nn.LSTM.state_dict()`` arrays (numpy, or anything array-like).

        Layers and directions are read from the keys; b = bias_ih + bias_hh. The output layer
        comes from ``V``/``c`` or the keys ``out.weight``/``out.bias`` (else y = h); a key
        ``shortcut.weight`` (from ``state_dict(extras=True)``) is the shortcut S.
        ``switches``: variant, forget_gate, peepholes, cell_input, cell_output (defaults:
        the torch cell, i.e. variant "vanilla" with peepholes=False).
        """
        sd, L, D, _ = torch_layers(sd, "LSTM", optional=("bias_ih", "bias_hh", "peephole", "gate_recurrence"),
                                   extras=("shortcut.weight",))
        switches.setdefault("peepholes", "peephole_l0" in sd)
        if "gate_recurrence_l0" in sd:
            switches.setdefault("variant", "FGR")
        single = L == 1 and D == 1
        w = {}
        for l in range(L):
            for d in range(D):
                s, t = f"_l{l}" + ("_reverse" if d else ""), _suffix(l, d, single)
                w["U" + t], w["W" + t] = sd["weight_ih" + s], sd["weight_hh" + s]
                zero = np.zeros(w["W" + t].shape[0])  # torch's bias=False has no bias keys
                w["b" + t] = sd.get("bias_ih" + s, zero) + sd.get("bias_hh" + s, zero)
                if "peephole" + s in sd:
                    w["P" + t] = sd["peephole" + s]
                if "gate_recurrence" + s in sd:
                    w["G" + t] = sd["gate_recurrence" + s]
        if V is None and "out.weight" in sd:
            V, c = sd["out.weight"], sd.get("out.bias")
        if V is not None:
            w["V"] = V
            if c is not None:
                w["c"] = c
        if "shortcut.weight" in sd:
            w["S"] = sd["shortcut.weight"]
            switches.setdefault("shortcut", True)
        return cls(w, n_layers=L, bidirectional=D == 2, output=output, **switches)

    # --- state and step (the clocked dynamical system) ----------------------------------
    def _state_shape(self) -> tuple:
        LD = self.n_layers * self.n_dirs
        return (self.n_hidden,) if LD == 1 else (LD, self.n_hidden)

    def init_state(self, *, rng: np.random.Generator) -> LSTMState:
        """The zero state (h = c = 0), as the 1997 experiments reset it after each sequence."""
        return LSTMState(np.zeros(self._state_shape()), np.zeros(self._state_shape()))

    def uses_noise(self, T: float) -> bool:
        if T > 0:
            raise ValueError("an LSTM is deterministic: it has no temperature (use T = 0)")
        return False

    def step(self, state, x=None, *, units=None, u=None, T: float = 0.0) -> LSTMState:
        """One tick: every layer reads x_t (layer 0) or the layer below; ``units`` restricts
        which cells take their new (h, c) (the others keep theirs). FGR nets start each
        step from q = 0 (the gate memory is not part of the state). Unidirectional only."""
        if x is None:
            raise ValueError("an LSTM step needs the input x_t")
        if self.bidirectional:
            raise ValueError("a bidirectional LSTM has no online step (it reads the sequence backwards)")
        xs = np.asarray(x, dtype=np.float64).reshape(1, 1, -1)
        h0 = np.asarray(state.h, dtype=np.float64).reshape(self.n_layers, 1, self.n_hidden)
        c0 = np.asarray(state.c, dtype=np.float64).reshape(self.n_layers, 1, self.n_hidden)
        h1, c1 = self._run_states(self.params, xs, h0, c0)
        shape = self._state_shape()
        h_new, c_new = h1.reshape(shape), c1.reshape(shape)
        if units is not None:
            idx = np.asarray(units)
            h_out, c_out = np.array(state.h, dtype=np.float64), np.array(state.c, dtype=np.float64)
            h_out[..., idx], c_out[..., idx] = h_new[..., idx], c_new[..., idx]
            return LSTMState(h_out, c_out)
        return LSTMState(h_new, c_new)

    def _run_states(self, params, xs, h0, c0):
        """Final (h, c) (L, B, H) after xs (T, B, I) from (h0, c0) (L, B, H), unidirectional."""
        x = xs
        hn, cn = np.empty_like(h0), np.empty_like(c0)
        for l, dirs in enumerate(self._blocks(params)):
            cache = layer_forward(self.cell, dirs[0], x, h0[l], c0[l])
            x = cache["h"][1:]
            hn[l], cn[l] = cache["h"][-1], cache["c"][-1]
        return hn, cn

    def rollout(self, state, drive, *, micro_every: int, phase: int, stop_fixed: bool):
        """The chunk in one vectorised sequence pass (:func:`layer_forward`), same numbers
        as the :meth:`step` loop; all cells every tick (the clocked plan)."""
        if len(drive["ptr"]) != 2:
            raise ValueError("the LSTM fast path updates all cells together (schedule 'clocked')")
        if self.bidirectional:
            raise ValueError("a bidirectional LSTM has no online rollout")
        xs = np.asarray(drive["x"], dtype=np.float64)[:, None, :]
        L, H = self.n_layers, self.n_hidden
        x = xs
        hs, cs = [], []
        for l, dirs in enumerate(self._blocks(self.params)):
            h0 = np.asarray(state.h, dtype=np.float64).reshape(L, 1, H)[l]
            c0 = np.asarray(state.c, dtype=np.float64).reshape(L, 1, H)[l]
            cache = layer_forward(self.cell, dirs[0], x, h0, c0)
            if self.cell.gate_recurrence:  # the step loop restarts q at every tick
                cache = {"h": [h0], "c": [c0]}
                for t in range(len(xs)):
                    one = layer_forward(self.cell, dirs[0], x[t:t + 1], cache["h"][-1], cache["c"][-1])
                    cache["h"].append(one["h"][1])
                    cache["c"].append(one["c"][1])
                cache = {"h": np.array(cache["h"]), "c": np.array(cache["c"])}
            x = cache["h"][1:]
            hs.append(cache["h"][1:, 0])
            cs.append(cache["c"][1:, 0])
        shape = self._state_shape()
        ticks = [LSTMState(np.stack([h[k] for h in hs]).reshape(shape), np.stack([c[k] for c in cs]).reshape(shape))
                 for k in range(len(xs))]
        micro, micro_at, phase = micro_ticks(ticks, micro_every, phase)
        return ticks, micro, micro_at, len(xs), phase

    # --- sequences: forward and BPTT ----------------------------------------------------
    def _xs(self, xs):
        return sequence_inputs(xs, self.n_inputs, keep_float32=True)

    def _batch_state(self, state0, B: int, dtype=np.float64):
        """(h0, c0), each (L*D, B, H), from None, an LSTMState or an (h, c) pair."""
        LD, H = self.n_layers * self.n_dirs, self.n_hidden
        if state0 is None:
            return np.zeros((LD, B, H), dtype), np.zeros((LD, B, H), dtype)
        if not (isinstance(state0, tuple) and len(state0) == 2):
            raise ValueError("state0 must be an LSTMState(h, c) or an (h, c) pair")
        out = []
        for name, a in zip("hc", state0):
            a = np.asarray(a, dtype=dtype)
            if a.shape in ((H,), (LD, H)):
                a = np.broadcast_to(a.reshape(-1, 1, H) if a.ndim == 2 else a, (LD, B, H))
            elif a.shape == (B, H) and LD == 1:
                a = a[None]
            elif a.shape != (LD, B, H):
                raise ValueError(f"state0.{name} must have shape ({H},), ({B}, {H}), ({LD}, {H}) or "
                                 f"({LD}, {B}, {H}), got {a.shape}")
            out.append(np.array(a, dtype=dtype))
        return out[0], out[1]

    def _forward_all(self, params, xs3, h0, c0):
        """Top-layer outputs (T, B, D*H), the caches [layer][dir] and the layer inputs."""
        x = xs3
        caches, inputs = [], []
        D = self.n_dirs
        for l, dirs in enumerate(self._blocks(params)):
            inputs.append(x)
            outs, cl = [], []
            for d, blk in enumerate(dirs):
                cache = layer_forward(self.cell, blk, x if d == 0 else x[::-1], h0[l * D + d], c0[l * D + d])
                cl.append(cache)
                outs.append(cache["h"][1:] if d == 0 else cache["h"][1:][::-1])
            caches.append(cl)
            x = outs[0] if D == 1 else np.concatenate(outs, axis=-1)
        return x, caches, inputs

    def forward(self, params, xs, state0=None) -> tuple[np.ndarray, np.ndarray]:
        """Top-layer hidden outputs and net outputs over a sequence.

        Parameters
        ----------
        params : the NamedTuple of :meth:`train_params`
        xs : ndarray (T, B, I) or (T, I)
        state0 : LSTMState or (h, c), optional (zeros): shapes (H,), (B, H), (L*D, H), (L*D, B, H)

        Returns
        -------
        h : ndarray (T, B, D*H) (or (T, D*H)); y : ndarray (T, B, K) (or (T, K))
        """
        xs3, squeeze = self._xs(xs)
        xs3 = xs3.astype(np.float64)
        params = self._check_params(params)
        h0, c0 = self._batch_state(state0, xs3.shape[1])
        top, _, _ = self._forward_all(params, xs3, h0, c0)
        y = _apply_output(self.output_activation, self._net_input(params, top, xs3))
        return (top[:, 0], y[:, 0]) if squeeze else (top, y)

    def _net_input(self, params, h, x):
        """The output layer's net input z = V h + c (+ S x with the shortcut), (..., K)."""
        z = h @ params.V.T + params.c
        return z + x @ params.S.T if self.shortcut else z

    def _check_params(self, params, dtype=np.float64):
        fields = self.params._fields
        if tuple(getattr(params, "_fields", ())) != fields:
            raise ValueError(f"params must be the net's NamedTuple with fields {fields}")
        out = []
        for n, p, ref in zip(fields, params, self.params):
            a = np.asarray(p, dtype=dtype)
            if a.shape != ref.shape:
                raise ValueError(f"params.{n} must have shape {ref.shape}, got {a.shape}")
            out.append(a)
        return type(self.params)(*out)

    def final_state(self, params, xs, state0=None) -> LSTMState:
        """The state after the whole sequence, as ``state0`` takes it (a decoder's initial state).

        Returns LSTMState(h, c), each (L*D, B, H): torch's (h_n, c_n), every cell's last
        processed state (t = 0 for a reverse cell); (L*D, H) each for unbatched xs. The
        same as ``trace["state"]`` of :meth:`bptt`.
        """
        xs3, squeeze = self._xs(xs)
        xs3 = xs3.astype(np.float64)
        h0, c0 = self._batch_state(state0, xs3.shape[1])
        _, caches, _ = self._forward_all(self._check_params(params), xs3, h0, c0)
        hn = np.stack([cc["h"][-1] for cl in caches for cc in cl])
        cn = np.stack([cc["c"][-1] for cl in caches for cc in cl])
        return LSTMState(hn[:, 0], cn[:, 0]) if squeeze else LSTMState(hn, cn)

    def _state_grads(self, dh_final, B: int, squeeze: bool):
        """(Gh, Gc), each (L*D, B, H) or None, from an (h, c) pair or a bare array (Gh)."""
        LD, H = self.n_layers * self.n_dirs, self.n_hidden
        pair = tuple(dh_final) if isinstance(dh_final, (tuple, list)) else (dh_final, None)
        if len(pair) != 2:
            raise ValueError("dh_final must be an (h, c) pair of gradients (LSTMState) or one array (h)")
        out = []
        for name, g in zip("hc", pair):
            if g is None:
                out.append(None)
                continue
            a = np.asarray(g, dtype=np.float64)
            if squeeze:
                a = a[..., None, :]
            if LD == 1 and a.shape == (B, H):
                a = a[None]
            if a.shape != (LD, B, H):
                want = ([(LD, H)] + [(H,)] * (LD == 1)) if squeeze else ([(LD, B, H)] + [(B, H)] * (LD == 1))
                raise ValueError(f"dh_final's {name} part must have shape {' or '.join(map(str, want))}, "
                                 f"got {np.shape(g)}")
            out.append(a)
        return out[0], out[1]

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate: int | None = None,
             reduction: str = "mean", fast: bool = False, dh_final=None):
        """Loss and its gradient by backpropagation through time (full or truncated).

        Parameters
        ----------
        params : the NamedTuple of :meth:`train_params`
        xs : ndarray (T, B, I), or (T, I) for one sequence
        ys : ndarray (T, B, K) (a target per step) or (B, K) (after the last step only);
            (T, K) or (K,) for one sequence; None: no loss terms (loss 0; the gradient
            comes from ``dh_final`` only: an encoder, :mod:`nets.seq2seq`)
        state0 : LSTMState or (h, c), optional (zeros; not trained)
        loss : str or sim.train.Loss; reduction : {"mean", "sum"}
        truncate : int >= 1, optional: BPTT(k) (module docstring)
        fast : bool
            Use the fused numba kernel (:mod:`nets._kernels.lstm`) when it covers the
            configuration (one layer, one direction, every switch but FGR, full
            BPTT, MSE with an identity or sigmoid output, BCE with sigmoid, cross-entropy with
            softmax), else the numpy path; both agree to ~1e-14 in float64. float32
            params are computed in float32 by the kernel (elementwise math in float64).
        dh_final : LSTMState or (Gh, Gc) pair, or one array Gh, optional
            Extra gradients on the final state in :meth:`final_state`'s layout, each
            (L*D, B, H) ((B, H) also for one cell; (L*D, H) for one sequence); None parts
            are zero. Not covered by the kernel (numpy path).

        Returns
        -------
        loss : float
        grads : NamedTuple like ``params``
        trace : dict: "dh_norm", "dc_norm" (T,) (top layer, Frobenius over batch and
            directions); "h", "c" (T, B, D*H) top layer; "gates" {"i", "f", "g", "o"} (T, B, D*H);
            "state" LSTMState of the final (h, c), each (L*D, B, H) (the reverse direction's
            final state is the one after reading x_0, as in torch's h_n); from the numpy
            path "dh0", "dc0" (L*D, B, H) = dL/dh_0, dL/dc_0 (truncated with ``truncate``).
            Unbatched xs drop the B axis everywhere.
        """
        check_truncate(truncate)
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be one of ('mean', 'sum'), got {reduction!r}")
        xs3, squeeze = self._xs(xs)
        T, B, _ = xs3.shape
        K = self.n_outputs
        ys = None if ys is None else sequence_targets(ys, T, B, K, squeeze, dtype=None)
        if dh_final is not None:
            dh_final, dc_final = self._state_grads(dh_final, B, squeeze)
        else:
            dc_final = None
            if fast and ys is not None:
                from ._kernels import lstm as _kl
                if _kl.covers(self, loss, truncate, T):
                    return _kl.bptt_fast(self, params, xs3, ys, state0, loss, reduction, squeeze)
        params = self._check_params(params)
        xs3, ys = xs3.astype(np.float64), None if ys is None else ys.astype(np.float64)
        h0, c0 = self._batch_state(state0, B)
        top, caches, inputs = self._forward_all(params, xs3, h0, c0)
        dz = np.zeros((T, B, K))
        if ys is None:  # no loss terms of its own (an encoder: only dh_final drives the gradient)
            value = 0.0
        elif ys.ndim == 3:
            value, dz[:] = output_loss(loss, self.output_activation, self._net_input(params, top, xs3), ys,
                                       reduction=reduction)
        else:
            value, dz[-1] = output_loss(loss, self.output_activation, self._net_input(params, top[-1], xs3[-1]),
                                        ys, reduction=reduction)
        grads = {"V": np.einsum("tbk,tbh->kh", dz, top), "c": dz.sum(axis=(0, 1))}
        if self.shortcut:
            grads["S"] = np.einsum("tbk,tbi->ki", dz, xs3)
        H, D = self.n_hidden, self.n_dirs
        single = self.n_layers == 1 and D == 1
        dtop = dz @ params.V  # (T, B, D*H)
        blocks = self._blocks(params)
        dh_top = dc_top = None
        dh0, dc0 = np.empty((self.n_layers * D, B, H)), np.empty((self.n_layers * D, B, H))
        for l in range(self.n_layers - 1, -1, -1):
            dx = 0.0
            dhs, dcs = [], []
            for d, blk in enumerate(blocks[l]):
                part = dtop[..., d * H:(d + 1) * H]
                xin = inputs[l] if d == 0 else inputs[l][::-1]
                j = l * D + d
                g, dxd, dh, dc, dh0[j], dc0[j] = layer_backward(
                    self.cell, blk, xin, caches[l][d], part if d == 0 else part[::-1], truncate,
                    None if dh_final is None else dh_final[j], None if dc_final is None else dc_final[j])
                if d == 1:
                    dxd, dh, dc = dxd[::-1], dh[::-1], dc[::-1]
                dx = dx + dxd
                dhs.append(dh)
                dcs.append(dc)
                for n, a in g.items():
                    grads[n + _suffix(l, d, single)] = a
            if l == self.n_layers - 1:
                dh_top, dc_top = np.concatenate(dhs, axis=-1), np.concatenate(dcs, axis=-1)
            dtop = dx
        out = type(params)(*(grads[n] for n in params._fields))
        trace = self._trace(caches, dh_top, dc_top, squeeze)
        trace["dh0"], trace["dc0"] = (dh0[:, 0], dc0[:, 0]) if squeeze else (dh0, dc0)
        return value, out, trace

    def _trace(self, caches, dh_top, dc_top, squeeze):
        top = caches[-1]
        def cat(key, lo):  # time-aligned, directions concatenated: (T, B, D*H)
            return np.concatenate([c[key][lo:] if d == 0 else c[key][lo:][::-1] for d, c in enumerate(top)],
                                  axis=-1)
        gates = {k: cat(k, 0) for k in "ifgo"}
        h, c = cat("h", 1), cat("c", 1)
        hn = np.stack([cc["h"][-1] for cl in caches for cc in cl])
        cn = np.stack([cc["c"][-1] for cl in caches for cc in cl])
        if squeeze:
            gates = {k: v[:, 0] for k, v in gates.items()}
            h, c, hn, cn = h[:, 0], c[:, 0], hn[:, 0], cn[:, 0]
        return {"dh_norm": np.sqrt(np.einsum("tbh,tbh->t", dh_top, dh_top)),
                "dc_norm": np.sqrt(np.einsum("tbh,tbh->t", dc_top, dc_top)),
                "h": h, "c": c, "gates": gates, "state": LSTMState(hn, cn)}
