r"""The Reber grammar, the embedded Reber grammar (ERG) and its continual version (CERG).

Reber (1967), J. Verbal Learning and Verbal Behavior 6:855-863; as used by Cleeremans,
Servan-Schreiber & McClelland (1989), Neural Computation 1:372-381, by Hochreiter &
Schmidhuber (1997) Exp. 1 and by Gers, Schmidhuber & Cummins (2000) [definition,
SCENARIOS.md 7.1]. Symbols B, T, P, S, X, V, E; both choices at a branch equally likely:

    start -B-> 0;  0 -T-> 1, 0 -P-> 2;  1 -S-> 1, 1 -X-> 3;  2 -T-> 2, 2 -V-> 4;
    3 -X-> 2, 3 -S-> 5;  4 -P-> 3, 4 -V-> 5;  5 -E-> end

ERG: B, then T or P, a complete Reber string, the same T or P, then E; predicting the
second-to-last symbol needs the second across the inner string (without memory a coin
flip). CERG: ERG strings concatenated without resets.

:func:`reber_string`, :func:`embedded_reber_string`, legality checks :func:`is_reber` and
:func:`is_embedded_reber`, :func:`reber_next_sets` (the legal next symbols after each
prefix), :func:`encode_reber` and :func:`embedded_reber` (one-hot inputs; target = the set of
legal next symbols, multi-hot), :func:`continual_embedded_reber` (one CERG stream),
:class:`ContinualReberStream` (B such streams read chunk by chunk, for truncated BPTT:
task ``continual_reber``) and :func:`outer_steps` (the outer T/P predictions). Re-exported
by :mod:`sim.sequence_tasks`.
"""
from __future__ import annotations

import collections
import functools

import numpy as np

__all__ = ["REBER_SYMBOLS", "reber_string", "embedded_reber_string", "is_reber", "is_embedded_reber",
           "reber_next_sets", "encode_reber", "embedded_reber", "continual_embedded_reber",
           "ContinualReberStream", "outer_steps"]


def _check_batch(batch: int) -> None:
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")


REBER_SYMBOLS = "BTPSXVE"
#: state -> ((symbol, next state), ...) of the Reber grammar (SCENARIOS.md 7.1)
_REBER = {0: (("T", 1), ("P", 2)), 1: (("S", 1), ("X", 3)), 2: (("T", 2), ("V", 4)),
          3: (("X", 2), ("S", 5)), 4: (("P", 3), ("V", 5)), 5: (("E", -1),)}


def reber_string(rng: np.random.Generator) -> str:
    """A Reber string B...E, both choices at a branch equally likely."""
    out, state = ["B"], 0
    while state != -1:
        arcs = _REBER[state]
        sym, state = arcs[int(rng.integers(len(arcs)))] if len(arcs) > 1 else arcs[0]
        out.append(sym)
    return "".join(out)


def embedded_reber_string(rng: np.random.Generator) -> str:
    """An embedded Reber string: B, T or P, a Reber string, the same T or P, E."""
    s = "TP"[int(rng.integers(2))]
    return "B" + s + reber_string(rng) + s + "E"


def _reber_sets(s: str) -> list[frozenset] | None:
    """Legal next symbols after each prefix s[:i+1] of a Reber string (None if illegal)."""
    if not s or s[0] != "B":
        return None
    sets, state = [], 0
    sets.append(frozenset(a for a, _ in _REBER[0]))
    for ch in s[1:]:
        if state == -1:
            return None
        arcs = dict(_REBER[state])
        if ch not in arcs:
            return None
        state = arcs[ch]
        sets.append(frozenset(a for a, _ in _REBER[state]) if state != -1 else frozenset())
    return sets if state == -1 else None


def is_reber(s: str) -> bool:
    """Whether ``s`` is a complete legal Reber string."""
    return _reber_sets(s) is not None


def is_embedded_reber(s: str) -> bool:
    """Whether ``s`` is a complete legal embedded Reber string."""
    return (len(s) >= 4 and s[0] == "B" and s[1] in "TP" and s[-2] == s[1] and s[-1] == "E"
            and is_reber(s[2:-2]))


def reber_next_sets(s: str) -> list[frozenset]:
    """For an embedded Reber string: the set of legal next symbols after each symbol but the last.

    Raises ValueError for a string that is not a legal ERG string.
    """
    if not is_embedded_reber(s):
        raise ValueError(f"{s!r} is not an embedded Reber string")
    inner = _reber_sets(s[2:-2])
    sets = [frozenset("TP"), frozenset("B")] + inner[:-1] + [frozenset(s[1]), frozenset("E")]
    return sets


def encode_reber(strings: list[str]):
    """One-hot inputs and multi-hot legal-next targets of equal-length ERG strings.

    Returns
    -------
    xs : ndarray (L - 1, B, 7): the symbols but the last
    ys : ndarray (L - 1, B, 7): 1 for every legal next symbol
    """
    L = len(strings[0])
    if any(len(s) != L for s in strings):
        raise ValueError("encode_reber needs strings of one length")
    idx = {c: i for i, c in enumerate(REBER_SYMBOLS)}
    xs = np.zeros((L - 1, len(strings), 7))
    ys = np.zeros((L - 1, len(strings), 7))
    for b, s in enumerate(strings):
        for t, (ch, nxt) in enumerate(zip(s[:-1], reber_next_sets(s))):
            xs[t, b, idx[ch]] = 1.0
            ys[t, b, [idx[c] for c in nxt]] = 1.0
    return xs, ys


def embedded_reber(batch: int, *, rng: np.random.Generator, max_tries: int = 100_000):
    """A batch of ERG strings of one length (the first string's; see the module docstring).

    Returns
    -------
    xs, ys : ndarray (L - 1, B, 7) (:func:`encode_reber`)
    """
    _check_batch(batch)
    first = embedded_reber_string(rng)
    out = [first]
    for _ in range(max_tries):
        if len(out) == batch:
            break
        s = embedded_reber_string(rng)
        if len(s) == len(first):
            out.append(s)
    else:
        if len(out) < batch:
            raise RuntimeError("could not draw a batch of equal-length ERG strings")
    return encode_reber(out)


def continual_embedded_reber(n_strings: int, *, rng: np.random.Generator):
    """The continual ERG stream (Gers, Schmidhuber & Cummins 2000): strings without resets.

    Returns
    -------
    xs : ndarray (L, 7) every symbol of the stream but the last
    ys : ndarray (L, 7) the legal next symbols (after an E: the next string's B)
    outer : ndarray (L,) bool, True at the steps whose target is the remembered outer T/P
    """
    if n_strings < 1:
        raise ValueError("n_strings must be >= 1")
    strings = [embedded_reber_string(rng) for _ in range(n_strings)]
    idx = {c: i for i, c in enumerate(REBER_SYMBOLS)}
    stream = "".join(strings)
    L = len(stream) - 1
    xs = np.zeros((L, 7))
    ys = np.zeros((L, 7))
    outer = np.zeros(L, dtype=bool)
    t = 0
    for s in strings:
        for nxt_i, nxt in enumerate(reber_next_sets(s) + [frozenset("B")]):
            if t >= L:
                break
            xs[t, idx[stream[t]]] = 1.0
            ys[t, [idx[c] for c in nxt]] = 1.0
            outer[t] = nxt_i == len(s) - 3  # after the inner E: predict the outer symbol
            t += 1
    return xs, ys, outer


_REBER_INDEX = {c: i for i, c in enumerate(REBER_SYMBOLS)}


@functools.lru_cache(maxsize=4096)
def _stream_piece(s: str) -> tuple[np.ndarray, np.ndarray]:
    """One ERG string inside a continual stream: input indices (n,) and legal-next multi-hot
    targets (n, 7), the last target being the next string's B (read-only, cached)."""
    x = np.array([_REBER_INDEX[c] for c in s], dtype=np.int64)
    y = np.zeros((len(s), 7))
    for t, nxt in enumerate(reber_next_sets(s) + [frozenset("B")]):
        y[t, [_REBER_INDEX[c] for c in nxt]] = 1.0
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def outer_steps(ys: np.ndarray) -> np.ndarray:
    """The steps of an (C)ERG target array whose target is the remembered outer T or P.

    In the grammar a single legal next symbol T or P occurs only there (after the inner E);
    every inner branch offers two symbols and the only other single targets are E and B.

    Parameters
    ----------
    ys : ndarray (..., 7) multi-hot legal-next targets

    Returns
    -------
    ndarray (...,) bool
    """
    ys = np.asarray(ys)
    one = ys.sum(axis=-1) == 1
    return one & ((ys[..., _REBER_INDEX["T"]] == 1) | (ys[..., _REBER_INDEX["P"]] == 1))


class ContinualReberStream:
    """``batch`` independent continual ERG streams (Gers, Schmidhuber & Cummins 2000), read
    chunk by chunk: consecutive chunks continue the same streams (no resets anywhere).

    Strings are drawn with ``embedded_reber_string(rng)`` as a stream needs them, so with
    one stream the steps read equal :func:`continual_embedded_reber` of as many strings.

    Parameters
    ----------
    batch : int >= 1, number of parallel streams
    rng : numpy Generator
    """

    def __init__(self, batch: int, *, rng: np.random.Generator):
        _check_batch(batch)
        self.batch = int(batch)
        self._rng = rng
        self._pieces = [collections.deque() for _ in range(self.batch)]
        self._offset = [0] * self.batch
        self.steps_read = 0

    def _ensure(self, b: int, n_pieces: int) -> None:
        while len(self._pieces[b]) < n_pieces:
            self._pieces[b].append(_stream_piece(embedded_reber_string(self._rng)))

    def _take(self, b: int, L: int) -> tuple[np.ndarray, np.ndarray]:
        xs, ys, need = [], [], L
        while need:
            self._ensure(b, 1)
            x, y = self._pieces[b][0]
            off = self._offset[b]
            n = min(need, len(x) - off)
            xs.append(x[off:off + n])
            ys.append(y[off:off + n])
            need -= n
            off += n
            if off == len(x):
                self._pieces[b].popleft()
                off = 0
            self._offset[b] = off
        return np.concatenate(xs), np.concatenate(ys)

    def chunk(self, *, strings: int = 0, steps: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The next chunk of every stream: ``steps`` steps, or (``strings`` = k) as many steps as
        stream 0 needs to finish its current string and k - 1 more (the other streams are
        cut at the same length, anywhere in a string).

        Returns
        -------
        xs : ndarray (L, B, 7) one-hot symbols
        ys : ndarray (L, B, 7) legal next symbols (multi-hot)
        """
        if (strings > 0) == (steps > 0):
            raise ValueError(f"give exactly one of strings >= 1 or steps >= 1, got strings={strings}, steps={steps}")
        if strings:
            self._ensure(0, strings)
            p = self._pieces[0]
            L = len(p[0][0]) - self._offset[0] + sum(len(p[i][0]) for i in range(1, strings))
        else:
            L = int(steps)
        xs = np.zeros((L, self.batch, 7))
        ys = np.zeros((L, self.batch, 7))
        for b in range(self.batch):
            x, y = self._take(b, L)
            xs[np.arange(L), b, x] = 1.0
            ys[:, b] = y
        self.steps_read += L
        return xs, ys
