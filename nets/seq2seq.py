r"""The input/output arrangements beyond many-to-one and synchronized many-to-many:
one-to-many (generate from one input) and encoder-decoder many-to-many (read all, then emit).

**One-to-many.** A sequence net generates T outputs from one input x in one of two ways
(:func:`one_to_many_inputs`, :func:`generate`):

- ``feedback=False``: the net reads x at step 0 and zeros after it (x_0 = x, x_t = 0 for
  t >= 1); its outputs y_0..y_{T-1} are the sequence. Training is ordinary synchronized
  many-to-many BPTT on these inputs.
- ``feedback=True``: x at step 0, then the net's own previous output, x_t = y_{t-1}
  (needs n_inputs == n_outputs). Generation runs free; training uses teacher forcing, the
  target y_{t-1} in place of the output (Williams & Zipser 1989), i.e. the inputs
  [x, ys_0, ..., ys_{T-2}].

**Encoder-decoder** (:class:`Seq2Seq`; Sutskever, Vinyals & Le 2014, "Sequence to sequence
learning with neural networks"; Cho et al. 2014): an encoder net reads all of xs
(T_in steps); its final state initialises a decoder net, h_0^dec = h_{T_in}^enc, which emits
ys (T_out steps) from its own inputs: zeros (``decoder_input="zeros"``: the state carries
everything) or the previous target, y_{-1} = 0 (``"teacher"``: teacher forcing; free-running
feedback of its own outputs at generation, :meth:`Seq2Seq.generate`). The loss is the
decoder's; BPTT runs through both nets: the decoder's dL/dh_0 is the gradient on the
encoder's final state,

    dL/dh_{T_in}^enc = dL/dh_0^dec,

which the encoder backpropagates as usual (the encoder's own output layer V, c is unused
and gets zero gradient).

Protocol a net must follow to serve as encoder or decoder here (:class:`nets.rnn.RNN`,
:class:`nets.gru.GRU` and :class:`nets.lstm.LSTM` do, at any depth; the encoder's cells
(layers x directions) and units per cell must equal the decoder's, whose cells run one
direction): ``final_state(params, xs, state0)`` returning the state a ``state0`` accepts;
``bptt(..., ys=None, dh_final=G)`` (no own loss terms; G added to dL/d final state); and
``trace["dh0"]`` = dL/d state0, in torch's h_n / h_0 layout (L*D, B, H) ((B, H) for one
cell).

Mixed kinds. A net whose ``State`` has a cell field ``c`` (the LSTM) has the state (h, c):
its final_state is LSTMState(h, c), ``trace["dc0"]`` = dL/dc_0 and ``dh_final`` takes the
pair (dL/dh_n, dL/dc_n). Between an LSTM and a net of state h alone the hidden state h
is what passes: an LSTM decoder after an RNN/GRU encoder starts from (h_enc, c = 0) (its
c_0 is a constant; dL/dc_0 is not used), and an RNN/GRU decoder after an LSTM encoder
starts from h_enc (the encoder's c_n reaches nothing; its gradient is zero). Our choice
(c_0 = 0 as for a fresh LSTM); an LSTM pair passes both h and c, as Sutskever et al. do.
"""
from __future__ import annotations

import inspect
from collections import namedtuple

import numpy as np

__all__ = ["Seq2Seq", "one_to_many_inputs", "generate", "DECODER_INPUTS"]

DECODER_INPUTS = ("zeros", "teacher")
_TYPES: dict[tuple, type] = {}


def _has_cell(net) -> bool:
    """Whether the net's state is an (h, c) pair (an LSTM) rather than h alone."""
    return "c" in getattr(getattr(net, "State", None), "_fields", ())


def _missing_protocol(net) -> list[str]:
    missing = []
    if not callable(getattr(net, "final_state", None)):
        missing.append("final_state(params, xs, state0)")
    bptt = getattr(net, "bptt", None)
    if bptt is None or "dh_final" not in inspect.signature(bptt).parameters:
        missing.append("bptt(..., dh_final=...) with trace['dh0'] and ys=None")
    return missing


def one_to_many_inputs(x, T: int, *, ys=None) -> np.ndarray:
    """Inputs (T, B, I) for generating T steps from one input x (B, I) or (I,).

    Without ``ys``: x at step 0, zeros after it. With ``ys`` (T, B, I) (teacher forcing
    of the feedback arrangement): x at step 0, then ys[0..T-2].
    """
    x = np.asarray(x, dtype=np.float64)
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    xs = np.zeros((T,) + x.shape)
    xs[0] = x
    if ys is not None:
        ys = np.asarray(ys, dtype=np.float64)
        if ys.shape != xs.shape:
            raise ValueError(f"teacher forcing needs targets shaped like the inputs {xs.shape}, got {ys.shape}")
        xs[1:] = ys[:-1]
    return xs


def generate(net, params, x, T: int, *, state0=None, feedback: bool = False) -> np.ndarray:
    """Outputs (T, B, K) (or (T, K)) generated from one input x (B, I) or (I,).

    ``feedback=False``: the net reads x then zeros (one forward pass). ``feedback=True``:
    x then its own previous output (free running; n_inputs == n_outputs), stepped with
    ``net.final_state``.
    """
    if not feedback:
        return net.forward(params, one_to_many_inputs(x, T), state0)[1]
    if net.n_inputs != net.n_outputs:
        raise ValueError(f"feedback generation needs n_inputs == n_outputs, got {net.n_inputs} and {net.n_outputs}")
    inp = np.asarray(x, dtype=np.float64)[None]
    state, out = state0, []
    for _ in range(T):
        y = net.forward(params, inp, state)[1]
        state = net.final_state(params, inp, state)
        out.append(y[0])
        inp = y
    return np.stack(out)


class Seq2Seq:
    """Encoder-decoder many-to-many (module docstring): ``encoder`` reads xs, ``decoder`` emits ys.

    Parameters
    ----------
    encoder, decoder : sequence nets following the module's protocol (e.g. nets.rnn.RNN)
    decoder_input : {"zeros", "teacher"}
        What the decoder reads at each step: zeros (n_inputs arbitrary) or the previous
        target (teacher forcing; decoder n_inputs == n_outputs).

    Parameters as one flat NamedTuple (:meth:`train_params`): the encoder's fields prefixed
    ``enc_``, the decoder's ``dec_`` (so :func:`sim.train.fit` and its optimizers apply).
    """

    def __init__(self, encoder, decoder, *, decoder_input: str = "zeros"):
        for role, net in (("encoder", encoder), ("decoder", decoder)):
            missing = _missing_protocol(net)
            if missing:
                raise ValueError(f"{type(net).__name__} cannot serve as {role}: it lacks {'; '.join(missing)}")
        if decoder_input not in DECODER_INPUTS:
            raise ValueError(f"decoder_input must be one of {DECODER_INPUTS}, got {decoder_input!r}")
        if getattr(decoder, "bidirectional", False):
            raise ValueError("the decoder emits step by step: it cannot be bidirectional")
        shape = lambda n: (getattr(n, "n_layers", 1) * getattr(n, "n_dirs", 1),  # noqa: E731
                           getattr(n, "n_hidden", n.n_units))
        if shape(encoder) != shape(decoder):
            raise ValueError(f"the encoder's final state (cells, units) {shape(encoder)} must match the "
                             f"decoder's initial state {shape(decoder)}")
        if decoder_input == "teacher" and decoder.n_inputs != decoder.n_outputs:
            raise ValueError("teacher forcing feeds targets back: the decoder needs n_inputs == n_outputs")
        self.encoder, self.decoder, self.decoder_input = encoder, decoder, decoder_input
        self._cells = shape(encoder)[0]
        self._enc_c, self._dec_c = _has_cell(encoder), _has_cell(decoder)
        pe, pd = encoder.train_params(), decoder.train_params()
        self._enc_type, self._dec_type = type(pe), type(pd)
        self._n_enc = len(pe)
        fields = tuple("enc_" + f for f in pe._fields) + tuple("dec_" + f for f in pd._fields)
        if fields not in _TYPES:
            _TYPES[fields] = namedtuple("Seq2SeqParams", fields)
        self.Params = _TYPES[fields]

    @property
    def n_inputs(self) -> int:
        return self.encoder.n_inputs

    @property
    def n_outputs(self) -> int:
        return self.decoder.n_outputs

    def train_params(self):
        return self.Params(*self.encoder.train_params(), *self.decoder.train_params())

    def split(self, params):
        """(encoder params, decoder params) from the flat tuple."""
        return self._enc_type(*params[:self._n_enc]), self._dec_type(*params[self._n_enc:])

    def decoder_inputs(self, ys: np.ndarray) -> np.ndarray:
        """The decoder's inputs (T_out, B, I_dec) for targets ys (T_out, B, K)."""
        T, B, _ = ys.shape
        if self.decoder_input == "zeros":
            return np.zeros((T, B, self.decoder.n_inputs))
        xd = np.zeros_like(ys, dtype=np.float64)
        xd[1:] = ys[:-1]
        return xd

    def _batch(self, xs, ys=None):
        xs = np.asarray(xs, dtype=np.float64)
        squeeze = xs.ndim == 2
        if squeeze:
            xs = xs[:, None]
            ys = None if ys is None else np.asarray(ys, dtype=np.float64)[:, None]
        if ys is not None:
            ys = np.asarray(ys, dtype=np.float64)
            if ys.ndim != 3 or ys.shape[1] != xs.shape[1] or ys.shape[2] != self.n_outputs:
                raise ValueError(f"ys must have shape (T_out, {xs.shape[1]}, {self.n_outputs}), got {ys.shape}")
        return xs, ys, squeeze

    def _layout(self, a, B: int) -> np.ndarray:
        """A state (or its gradient) in the layout every protocol net takes: (B, H) for one
        cell, (L*D, B, H) otherwise."""
        a = np.asarray(a, dtype=np.float64)
        return a.reshape((B, -1) if self._cells == 1 else (self._cells, B, -1))

    def bridge(self, s, B: int):
        """The decoder's initial state from the encoder's final state ``s`` (module docstring)."""
        h = self._layout(s[0] if self._enc_c else s, B)
        if not self._dec_c:
            return h
        return h, (self._layout(s[1], B) if self._enc_c else np.zeros_like(h))

    def _bridge_grad(self, td: dict, B: int):
        """The encoder's ``dh_final`` from the decoder's trace (the transpose of :meth:`bridge`)."""
        dh = self._layout(td["dh0"], B)
        if not self._enc_c:
            return dh
        return dh, (self._layout(td["dc0"], B) if self._dec_c else None)

    def bptt(self, params, xs, ys, state0=None, *, loss, truncate=None, reduction: str = "mean", fast=False):
        """Decoder loss on ys (T_out, B, K) after reading xs (T_in, B, I), and its gradient.

        ``state0`` is the encoder's (not trained). Full BPTT only (``truncate`` must be None);
        ``fast`` is ignored (the numpy paths return the state gradients).

        Returns
        -------
        loss : float;  grads : Params;  trace : dict with "dec" and "enc" (each net's trace)
        """
        if truncate is not None:
            raise ValueError("Seq2Seq trains by full BPTT through both nets (truncate must be None)")
        pe, pd = self.split(params)
        xs, ys, squeeze = self._batch(xs, ys)
        B = xs.shape[1]
        s = self.bridge(self.encoder.final_state(pe, xs, state0), B)
        value, gd, td = self.decoder.bptt(pd, self.decoder_inputs(ys), ys, s, loss=loss, reduction=reduction)
        _, ge, te = self.encoder.bptt(pe, xs, None, state0, loss=loss, reduction=reduction,
                                      dh_final=self._bridge_grad(td, B))
        return value, self.Params(*ge, *gd), {"enc": te, "dec": td}

    def forward(self, params, xs, ys=None, state0=None, *, T_out: int | None = None):
        """Decoder outputs (T_out, B, K) (or (T_out, K)) after reading xs.

        With ``decoder_input="teacher"``: given ys, teacher-forced outputs; without, free
        running (previous output fed back, ``T_out`` steps). With "zeros", ys only sets T_out.
        """
        pe, pd = self.split(params)
        xs, ys, squeeze = self._batch(xs, ys)
        if ys is None and T_out is None:
            raise ValueError("give ys or T_out")
        T = len(ys) if ys is not None else int(T_out)
        s = self.bridge(self.encoder.final_state(pe, xs, state0), xs.shape[1])
        if self.decoder_input == "zeros" or ys is not None:
            inp = self.decoder_inputs(ys if ys is not None else np.zeros((T, xs.shape[1], self.n_outputs)))
            y = self.decoder.forward(pd, inp, s)[1]
        else:
            y = generate(self.decoder, pd, np.zeros((xs.shape[1], self.n_outputs)), T, state0=s, feedback=True)
        return y[:, 0] if squeeze else y
