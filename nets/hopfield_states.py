r"""The whole state space of a small Hopfield net: successor tables over all 2^N states.

States are coded as integers ``x`` in [0, 2^N): bit i of ``x`` is unit i, set when the
unit is on (s_i = 1) and clear when it is off (s_i = -1 for spins, 0 for 0/1 units).
For every state the local fields

    f_i(x) = scale * sum_j W_ij s_j(x) - theta_i                   (i = 0..N-1)

give the zero-temperature update of unit i exactly as :meth:`nets.hopfield.Hopfield.step`
does: on if f_i > 0, off if f_i < 0, unchanged if f_i = 0 (the tie keeps the state). Let
``flip[x, i]`` say whether that update changes unit i. Then

* synchronous (Little) dynamics: ``sync_next[x] = x XOR sum_i flip[x, i] 2^i``;
* single-unit (asynchronous) moves: ``async_next[x, i] = x XOR flip[x, i] 2^i``.

The tables are computed vectorised over blocks of states (memory O(block * N), not
O(2^N * N) temporaries). When the couplings are integer-valued (the Hebb rule keeps
them so, Hopfield 1982 Eq. 2) the sums ``sum_j W_ij s_j`` are exact integers in float32
(when every row sum of |W| is below 2^24) or float64, whatever the order of summation,
and ``scale * h - theta`` is then the very expression ``Hopfield.step`` evaluates: the
tables equal the reference bit for bit, ties included. For non-integer W the fields are
computed in float64; a state with a field within rounding error of 0 is recomputed with
``Hopfield.step`` itself, so the tables agree with the reference there too.

Sizes: the tables take 8 * 2^N * (N + 1) bytes (N = 16: 9 MB; N = 20: 176 MB), plus a
boolean table of 2^N * N bytes while they are built. See :mod:`sim.attractors` for the
attractor maps built on them.

References: J. J. Hopfield, PNAS 79:2554-2558 (1982) [paper] (the model, Eqs. 2, 7-8);
W. A. Little, Math. Biosci. 19:101 (1974) (synchronous dynamics).
"""
from __future__ import annotations

import numpy as np

__all__ = ["state_space", "flip_table", "decode", "encode", "MAX_UNITS"]

#: the largest net whose state space is enumerated (2^20 states, ~200 MB of tables)
MAX_UNITS = 20
_BLOCK = 1 << 15  # states per block
#: a float64 field within _TIE_TOL * N * eps * (scale sum_j |W_ij| + |theta_i|) of 0 is
#: recomputed by Hopfield.step (non-integer W only; far above any rounding error)
_TIE_TOL = 64.0


def decode(codes, n_units: int, *, off: int = -1) -> np.ndarray:
    """States of the integer codes ``codes`` (...,): shape (..., n_units) int8, 1 or ``off``."""
    codes = np.asarray(codes, dtype=np.int64)
    bits = (codes[..., None] >> np.arange(n_units, dtype=np.int64)) & 1
    return np.where(bits == 1, 1, off).astype(np.int8)


def encode(states) -> np.ndarray:
    """Integer codes of states (..., N) (bit i set where unit i is on, i.e. equals 1)."""
    s = np.asarray(states)
    N = s.shape[-1]
    if N > 62:
        raise ValueError(f"cannot code states of {N} units in an int64")
    return ((s == 1).astype(np.int64) << np.arange(N, dtype=np.int64)).sum(axis=-1)


def _integer_valued(W: np.ndarray) -> bool:
    if W.dtype.kind in "iu":
        return True
    return bool(np.all(W == np.round(W)))


def _check_size(net) -> int:
    N = net.n_units
    if N > MAX_UNITS:
        raise ValueError(f"the state space of {N} units has 2^{N} states; at most {MAX_UNITS} units are enumerated")
    return N


def _flip_blocks(net):
    """Yield (first state, flip block (B, N) bool) over consecutive blocks of states."""
    W, theta = net.params.W, net.params.theta
    N = _check_size(net)
    off = -1 if net.units == "spin" else 0
    integer = _integer_valued(W)
    if integer:
        rowsum = np.abs(W.astype(np.float64)).sum(axis=1).max(initial=0.0)
        if rowsum >= 2.0 ** 53:
            integer = False
        dtype = np.float32 if rowsum < 2.0 ** 24 else np.float64
    else:
        dtype = np.float64
    Wt = np.ascontiguousarray(W.T, dtype=dtype)                    # (N, N): h = S @ W^T
    # bound on the rounding error of a float64 field (only used for non-integer W)
    tol = _TIE_TOL * N * np.finfo(np.float64).eps * (net.scale * np.abs(W).sum(axis=1) + np.abs(theta))
    n = 1 << N
    units = np.arange(N, dtype=np.int64)
    for a in range(0, n, _BLOCK):
        x = np.arange(a, min(n, a + _BLOCK), dtype=np.int64)
        on = ((x[:, None] >> units) & 1).astype(bool)                      # (B, N)
        S = np.where(on, 1, off).astype(dtype)
        h = (S @ Wt).astype(np.float64)                                     # (B, N), exact if integer
        f = net.scale * h - theta                                           # as in Hopfield.step
        blk = (on & (f < 0)) | (~on & (f > 0))
        if not integer:
            near = np.flatnonzero(np.any(np.abs(f) <= tol, axis=1))
            for r in near:
                blk[r] = _reference_flips(net, S[r].astype(np.int8))
        yield a, blk


def flip_table(net) -> np.ndarray:
    """``flip[x, i]``: whether the zero-temperature update of unit i changes state x.

    Parameters
    ----------
    net : nets.Hopfield
        With ``n_units <= MAX_UNITS``.

    Returns
    -------
    flip : ndarray (2^N, N) bool
    """
    N = _check_size(net)
    flip = np.empty((1 << N, N), dtype=bool)
    for a, blk in _flip_blocks(net):
        flip[a:a + len(blk)] = blk
    return flip


def _reference_flips(net, s: np.ndarray) -> np.ndarray:
    """flip[x, :] from single-unit ``Hopfield.step`` calls (for near-tie states)."""
    from .hopfield import HopfieldState

    st = HopfieldState(s)
    return np.array([net.step(st, units=np.array([i]))[0][i] != s[i] for i in range(len(s))])


def state_space(net) -> tuple[np.ndarray, np.ndarray]:
    """Synchronous and single-unit successor tables of every state of ``net``.

    Parameters
    ----------
    net : nets.Hopfield
        A deterministic (T = 0) net with ``n_units <= MAX_UNITS``; any W (symmetric or
        not), thresholds, spin or 0/1 units.

    Returns
    -------
    sync_next : ndarray (2^N,) int64
        ``sync_next[x]``: the state after updating every unit of x at once.
    async_next : ndarray (2^N, N) int64
        ``async_next[x, i]``: the state after updating unit i alone (``x`` itself when
        the update does not change unit i).
    """
    N = _check_size(net)
    bit = np.int64(1) << np.arange(N, dtype=np.int64)                       # (N,)
    n = 1 << N
    sync_next = np.empty(n, dtype=np.int64)
    async_next = np.empty((n, N), dtype=np.int64)
    for a, blk in _flip_blocks(net):
        x = np.arange(a, a + len(blk), dtype=np.int64)
        d = blk * bit                                                       # (B, N) changed bits
        async_next[a:a + len(blk)] = x[:, None] ^ d
        sync_next[a:a + len(blk)] = x ^ d.sum(axis=1)                       # distinct bits: sum = OR
    return sync_next, async_next
