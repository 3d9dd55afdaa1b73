r"""Exact attractor maps of small deterministic binary networks, by enumerating states.

Nothing here knows a specific net: the input is a successor table over the 2^N states
coded as integers ``x`` (bit i = unit i, set when the unit is on), e.g. from
:func:`nets.hopfield_states.state_space`.

**Synchronous dynamics** x -> F(x) (``sync_next``, shape (n,)). Its functional graph has
one out-edge per state; every orbit ends in a cycle. :func:`sync_map` finds every cycle
(fixed points are cycles of length 1), its length, and its basin: the in-tree of states
whose orbit enters it. With symmetric couplings only lengths 1 and 2 occur (Goles &
Olivos 1980; Goles, Fogelman-Soulie & Pellegrin, Discrete Appl. Math. 12:261 (1985))
[definition].

**Single-unit dynamics** (``async_next``, shape (n, N): the state after updating unit
i alone). The state-transition graph has an edge x -> y when updating some unit moves x
to y != x. Its attractors are its *closed* strongly connected components (no edge
leaves them): fixed points (absorbing states) and, for general W, cyclic attracting
sets. For symmetric W with a zero diagonal every move lowers the energy (Hopfield 1982,
Eq. 8: dE = -ds_i f_i < 0), so the graph is acyclic and every attractor is a fixed point.

Under *random-site* updates (each update picks unit i uniformly at random, with
replacement, independently of the past) the state is a Markov chain with
P(x -> x XOR 2^i) = 1/N for each unit i that would flip, and P(x -> x) = 1 - k(x)/N,
k(x) the number of such units. Self-loops only delay it, so the absorption
probabilities are those of the jump chain J(x -> y) = 1/k(x). With Q the jump chain
among transient states and R[x, a] its probability to enter attractor a in one step,

    B = (I - Q)^{-1} R,      B[x, a] = P(the chain from x ends in attractor a),

solved exactly (a sparse LU; a triangular solve when the transient states form a DAG,
ordered topologically). States of an attractor have B = 1 for it. The *basin* of a is
sum_x B[x, a], so the basins sum to 2^N exactly (every row of B sums to 1). Without
forming B they are the attractor's own states plus the column sums
``1^T (I - Q)^{-1} R = y^T R``, y from one adjoint solve (I - Q)^T y = 1 (y[x] is the
expected number of visits to x of the jump chain started uniformly over the transient
states). The *reachable-from* set of
a holds the states with a path to a (B[x, a] > 0), found exactly by Boolean propagation;
its *strict basin* holds the states from which a is the only reachable attractor.

:func:`classify` labels attractors of a net storing patterns: ``stored`` (equal to a
stored pattern), ``reversed`` (its complement: -xi for spins, 1 - V for 0/1 units),
``mixture`` (the majority vote sign(sum_{mu in S} eps_mu xi^mu) of an odd set S of
>= 3 patterns with signs eps, the mixture states of Amit, Gutfreund & Sompolinsky,
PRA 32:1007 (1985) [abstract]), ``spurious`` (any other fixed point), ``cycle`` (a
non-singleton attractor), with the overlaps m_mu = 1 - 2 d_H(x, xi^mu) / N.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.sparse.csgraph import connected_components

__all__ = ["SyncMap", "AsyncMap", "sync_map", "async_map", "transition_graph", "functional_graph",
           "classify", "overlaps", "CLASSES", "MAX_MIXTURE_PATTERNS"]

#: attractor classes of :func:`classify`, in the order of their integer codes
CLASSES = ("stored", "reversed", "mixture", "spurious", "cycle")
#: mixtures are looked for among at most this many patterns (3^P sign combinations)
MAX_MIXTURE_PATTERNS = 9
#: above this many floats, async_map computes basins without the full (n, A) matrix
_MAX_ABSORB_FLOATS = 1 << 24


def _check_table(table: np.ndarray, ndim: int, name: str) -> np.ndarray:
    t = np.asarray(table)
    if t.ndim != ndim or t.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array with {ndim} dimension(s), got {t.dtype} {t.shape}")
    n = t.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"{name} must have 2^N rows (one per state), got {n}")
    if t.size and (t.min() < 0 or t.max() >= n):
        raise ValueError(f"{name} holds codes outside [0, {n})")
    return t.astype(np.int64, copy=False)


# --- synchronous dynamics: a functional graph ------------------------------------------
@dataclass(eq=False)
class SyncMap:
    """The functional graph of x -> F(x).

    Attributes
    ----------
    next : ndarray (n,) int64
        F.
    rep : ndarray (A,) int64
        Each cycle's smallest state, attractors sorted by it.
    length : ndarray (A,) int64
        Cycle lengths (1 = fixed point).
    label : ndarray (n,) int64
        The attractor each state's orbit ends in.
    basin : ndarray (A,) int64
        States whose orbit ends in each cycle (cycle states included); sums to n.
    """

    next: np.ndarray
    rep: np.ndarray
    length: np.ndarray
    label: np.ndarray
    basin: np.ndarray

    @property
    def n_attractors(self) -> int:
        return len(self.rep)

    def cycle(self, a: int) -> np.ndarray:
        """The states of cycle ``a`` in orbit order, from its smallest state."""
        out = [int(self.rep[a])]
        for _ in range(int(self.length[a]) - 1):
            out.append(int(self.next[out[-1]]))
        return np.array(out, dtype=np.int64)


def sync_map(sync_next: np.ndarray) -> SyncMap:
    """Cycles, cycle lengths and basins of the map x -> ``sync_next[x]``.

    Parameters
    ----------
    sync_next : ndarray (n,) int
        n = 2^N.
    """
    F = _check_table(sync_next, 1, "sync_next")
    n = len(F)
    # states on cycles: peel off states with no predecessor until none is left
    indeg = np.bincount(F, minlength=n)
    alive = np.ones(n, dtype=bool)
    leaves = np.flatnonzero(indeg == 0)
    while len(leaves):
        alive[leaves] = False
        indeg -= np.bincount(F[leaves], minlength=n)
        leaves = np.flatnonzero(alive & (indeg == 0))
    on_cycle = np.flatnonzero(alive)
    # smallest state of each cycle by pointer doubling: m <- min(m, m[g]), g <- g o g
    m = np.arange(n, dtype=np.int64)
    g = F.copy()
    span = 1
    while span < n:
        m[on_cycle] = np.minimum(m[on_cycle], m[g[on_cycle]])
        g[on_cycle] = g[g[on_cycle]]
        span *= 2
    reps, which = np.unique(m[on_cycle], return_inverse=True)
    length = np.bincount(which, minlength=len(reps)).astype(np.int64)
    label = np.full(n, -1, dtype=np.int64)
    label[on_cycle] = which
    g = F.copy()                      # g = F^(2^r) after r rounds
    todo = np.flatnonzero(label < 0)
    while len(todo):  # a state is labelled once F^(2^r)(x) lies on its cycle
        label[todo] = label[g[todo]]
        g = g[g]
        todo = todo[label[todo] < 0]
    basin = np.bincount(label, minlength=len(reps)).astype(np.int64)
    return SyncMap(next=F, rep=reps.astype(np.int64), length=length, label=label, basin=basin)


# --- single-unit dynamics: a Markov chain on the state-transition graph ----------------
@dataclass(eq=False)
class AsyncMap:
    """Attractors of single-unit dynamics and their basins under random-site updates.

    Attributes
    ----------
    next : ndarray (n, N) int64
        ``next[x, i]``: the state after updating unit i of x.
    attractors : list of ndarray
        The states of each closed class (sorted codes), ordered by smallest state.
    member : ndarray (n,) int64
        The attractor a state belongs to, -1 for transient states.
    absorb : ndarray (n, A) float64 or None
        ``absorb[x, a]``: probability that random-site dynamics from x ends in a.
    basin : ndarray (A,) float64
        ``sum_x absorb[x, a]``: sums to n.
    reach_size : ndarray (A,) int64
        States from which a is reachable.
    strict_basin : ndarray (A,) int64
        States from which a is the only reachable attractor.
    n_reachable : ndarray (n,) int64
        How many attractors each state can reach.
    acyclic : bool
        Whether the transient part of the transition graph has no cycle.
    """

    next: np.ndarray
    attractors: list
    member: np.ndarray
    absorb: np.ndarray | None
    basin: np.ndarray
    reach_size: np.ndarray
    strict_basin: np.ndarray
    n_reachable: np.ndarray
    acyclic: bool

    @property
    def n_attractors(self) -> int:
        return len(self.attractors)

    @property
    def is_fixed(self) -> np.ndarray:
        """(A,) bool: attractors that are single (absorbing) states."""
        return np.array([len(a) == 1 for a in self.attractors], dtype=bool)

    @property
    def n_states(self) -> int:
        return self.next.shape[0]


def _graph(nxt: np.ndarray):
    """Out-degrees k (n,) and the transition graph as CSR (rows: states, entries: successors)."""
    n, N = nxt.shape
    x = np.arange(n, dtype=np.int64)
    moves = nxt != x[:, None]                              # (n, N)
    k = moves.sum(axis=1).astype(np.int64)                 # (n,) units that would flip
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(k, out=indptr[1:])
    idx_t = np.int32 if n < 2**31 else np.int64
    G = sp.csr_matrix((np.ones(int(indptr[-1]), dtype=np.int8), nxt[moves].astype(idx_t), indptr), shape=(n, n))
    return k, G


def _rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of the entries of CSR ``rows`` (grouped by row, in order) and their counts."""
    start = indptr[rows]
    cnt = indptr[rows + 1] - start
    offs = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(cnt, out=offs[1:])
    flat = np.arange(offs[-1], dtype=np.int64) + np.repeat(start - offs[:-1], cnt)
    return flat, cnt


def async_map(async_next: np.ndarray, *, absorb: bool | None = None) -> AsyncMap:
    """Attractors, absorption probabilities, basins and reachability of single-unit moves.

    Parameters
    ----------
    async_next : ndarray (n, N) int
        n = 2^N; ``async_next[x, i]`` may differ from x in bit i only.
    absorb : bool, optional
        Keep the (n, A) absorption matrix. Default: when it holds at most 2^24 numbers.
        Basins are exact either way (from one adjoint solve when it is not kept).
    """
    nxt = _check_table(async_next, 2, "async_next")
    n, N = nxt.shape
    x = np.arange(n, dtype=np.int64)
    for i in range(N):  # column by column: no (n, N) temporaries
        if np.any((nxt[:, i] ^ x) & ~np.int64(1 << i)):
            raise ValueError("async_next[x, i] must differ from x in bit i only (a single-unit update)")
    k, G = _graph(nxt)
    _, comp = connected_components(G, directed=True, connection="strong")
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    leaving = comp[src] != comp[G.indices]
    open_comp = np.zeros(comp.max() + 1, dtype=bool)
    open_comp[comp[src[leaving]]] = True
    del src, leaving
    closed_states = np.flatnonzero(~open_comp[comp])        # ascending codes
    closed_ids, first = np.unique(comp[closed_states], return_index=True)
    order = np.argsort(closed_states[first], kind="stable")  # attractors by smallest state
    attr_of_comp = np.full(len(open_comp), -1, dtype=np.int64)
    attr_of_comp[closed_ids[order]] = np.arange(len(order))
    member = attr_of_comp[comp]
    A = len(order)
    attractors = [np.empty(0, dtype=np.int64)] * A
    grouped = np.argsort(member[closed_states], kind="stable")
    bounds = np.searchsorted(member[closed_states][grouped], np.arange(A + 1))
    for a in range(A):
        attractors[a] = closed_states[grouped[bounds[a]:bounds[a + 1]]]

    trans = np.flatnonzero(member < 0)
    # transient SCCs larger than one state make (I - Q) non-triangular
    acyclic = bool(np.all(np.bincount(comp[trans], minlength=len(open_comp)) <= 1)) if len(trans) else True
    if absorb is None:
        absorb = n * A <= _MAX_ABSORB_FLOATS
    B, basin = _absorption(G, k, comp, member, trans, A, absorb)
    reach_size, strict, n_reach = _reachability(G, member, A)
    return AsyncMap(next=nxt, attractors=attractors, member=member, absorb=B, basin=basin,
                    reach_size=reach_size, strict_basin=strict, n_reachable=n_reach, acyclic=acyclic)


def _csr_rows(rows, cols, data, shape, *, unit_diag: bool = False):
    """CSR matrix from entries given row by row (``rows`` non-decreasing).

    With ``unit_diag`` a 1 is appended to every row at column = row (square matrices
    whose other entries lie left of the diagonal keep sorted indices).
    """
    per_row = np.bincount(rows, minlength=shape[0])
    ptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(per_row + unit_diag, out=ptr[1:])
    if not unit_diag:
        return sp.csr_matrix((data, cols, ptr), shape=shape)
    at = np.arange(len(cols)) + np.repeat(np.arange(shape[0]), per_row)   # shifted by earlier diagonals
    diag_at = ptr[1:] - 1
    full_cols = np.empty(ptr[-1], dtype=cols.dtype)
    full_data = np.empty(ptr[-1])
    full_cols[at], full_data[at] = cols, data
    full_cols[diag_at], full_data[diag_at] = np.arange(shape[0]), 1.0
    return sp.csr_matrix((full_data, full_cols, ptr), shape=shape)


def _absorption(G, k, comp, member, trans, A, keep):
    """(B or None, basins) from the jump chain among transient states."""
    n = G.shape[0]
    basin = np.bincount(member[member >= 0], minlength=A).astype(np.float64)
    B = None
    if keep:
        B = np.zeros((n, A))
        rec = np.flatnonzero(member >= 0)
        B[rec, member[rec]] = 1.0
    if len(trans) == 0:
        return B, basin
    # scipy numbers strongly connected components sinks first: when the transient states
    # form a DAG, ordering them by component makes (I - Q) lower triangular (checked)
    order = trans[np.argsort(comp[trans], kind="stable")]
    m = len(order)
    idx_t = G.indices.dtype                                   # int32 up to 2^31 states: less memory
    pos = np.full(n, -1, dtype=idx_t)
    pos[order] = np.arange(m)
    flat, cnt = _rows(G.indptr, order)                        # out-edges of row r = order[r]
    d = G.indices[flat]
    w = np.repeat(1.0 / k[order], cnt)                        # jump-chain probabilities
    r = np.repeat(np.arange(m, dtype=idx_t), cnt)
    to_t = member[d] < 0
    del flat

    cols_q = pos[d[to_t]]
    M = _csr_rows(r[to_t], cols_q, -w[to_t], (m, m), unit_diag=True)   # I - Q
    R = _csr_rows(r[~to_t], member[d[~to_t]], w[~to_t], (m, A))
    triangular = bool(np.all(cols_q < r[to_t]))
    del d, w, r, to_t, cols_q
    if triangular:
        if keep:
            B[order] = sla.spsolve_triangular(M, R.toarray(), lower=True, unit_diagonal=True)
        # y^T = 1^T (I - Q)^-1: the transpose of a CSR matrix is a CSC (upper) view
        y = sla.spsolve_triangular(M.T, np.ones(m), lower=False, unit_diagonal=True)
    else:
        lu = sla.splu(M.tocsc())
        if keep:
            B[order] = lu.solve(R.toarray())
        y = lu.solve(np.ones(m), trans="T")
    basin += R.T @ y
    return B, basin


def _reachability(G, member: np.ndarray, A: int):
    """Per attractor: how many states reach it, and reach it only; per state: how many it reaches.

    Bit a of ``reach[x]`` says whether attractor a is reachable from x (64 attractors at
    a time). Starting from the attractors' own states, ``reach[x] = OR of reach[y]`` over
    the successors y of x is re-evaluated only for the predecessors of states that just
    changed, until nothing changes: the least fixed point, i.e. exact reachability.
    """
    n = G.shape[0]
    Gt = G.tocsc()                                             # column x: the predecessors of x
    reach_size = np.zeros(A, dtype=np.int64)
    n_reach = np.zeros(n, dtype=np.int64)
    only = np.full(n, -1, dtype=np.int64)
    transient = member < 0
    mark = np.zeros(n, dtype=bool)
    for w0 in range(0, A, 64):
        reach = np.zeros(n, dtype=np.uint64)
        changed = np.flatnonzero((member >= w0) & (member < w0 + 64))
        reach[changed] = np.uint64(1) << (member[changed] - w0).astype(np.uint64)
        while len(changed):
            mark[Gt.indices[_rows(Gt.indptr, changed)[0]]] = True
            mark &= transient                                  # an attractor reaches only itself
            pred = np.flatnonzero(mark)
            mark[pred] = False
            if not len(pred):
                break
            flat, cnt = _rows(G.indptr, pred)                  # every transient state has a successor
            starts = np.zeros(len(pred), dtype=np.int64)
            np.cumsum(cnt[:-1], out=starts[1:])
            new = np.bitwise_or.reduceat(reach[G.indices[flat]], starts)
            diff = new != reach[pred]
            changed = pred[diff]
            reach[changed] = new[diff]
        cnt = np.bitwise_count(reach).astype(np.int64)
        single = cnt == 1
        only[single] = w0 + np.log2(reach[single].astype(np.float64)).astype(np.int64)
        n_reach += cnt
        bits = np.unpackbits(reach.view(np.uint8).reshape(n, 8), axis=1, bitorder="little")  # (n, 64)
        reach_size[w0:w0 + 64] = bits.sum(axis=0, dtype=np.int64)[:min(64, A - w0)]
    strict_states = only[n_reach == 1]
    strict = np.bincount(strict_states, minlength=A).astype(np.int64)
    return reach_size, strict, n_reach


# --- networkx views ---------------------------------------------------------------------
def transition_graph(async_next: np.ndarray, *, self_loops: bool = False):
    """The state-transition graph of single-unit moves as a ``networkx.DiGraph``.

    Nodes are the state codes 0..n-1; an edge x -> y (y != x) for each unit whose update
    moves x to y, with attributes ``unit`` (i) and ``p`` (1/N, its random-site
    probability). With ``self_loops``, states with a unit that stays get an edge x -> x
    with ``p = 1 - k(x)/N``.
    """
    import networkx as nx

    nxt = _check_table(async_next, 2, "async_next")
    n, N = nxt.shape
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    x, i = np.nonzero(nxt != np.arange(n)[:, None])
    g.add_edges_from((int(a), int(nxt[a, b]), {"unit": int(b), "p": 1.0 / N}) for a, b in zip(x, i))
    if self_loops:
        k = np.count_nonzero(nxt != np.arange(n)[:, None], axis=1)
        g.add_edges_from((int(a), int(a), {"p": 1.0 - k[a] / N}) for a in np.flatnonzero(k < N))
    return g


def functional_graph(sync_next: np.ndarray):
    """The synchronous map as a ``networkx.DiGraph``: one edge x -> F(x) per state (loops at fixed points)."""
    import networkx as nx

    F = _check_table(sync_next, 1, "sync_next")
    g = nx.DiGraph()
    g.add_nodes_from(range(len(F)))
    g.add_edges_from((int(a), int(b)) for a, b in enumerate(F))
    return g


# --- classification against stored patterns ------------------------------------------
def overlaps(codes: np.ndarray, patterns: np.ndarray, n_units: int) -> np.ndarray:
    """m = 1 - 2 d_H / N between state codes (A,) and pattern codes (P,): shape (A, P)."""
    codes = np.asarray(codes, dtype=np.int64)
    patterns = np.asarray(patterns, dtype=np.int64)
    d = np.bitwise_count(codes[:, None] ^ patterns[None, :]).astype(np.float64)
    return 1.0 - 2.0 * d / n_units


def _mixture_codes(patterns: np.ndarray, n_units: int) -> np.ndarray:
    """Codes of sign(sum_{mu in S} eps_mu xi^mu) for odd S, |S| >= 3: bitwise majorities."""
    from itertools import combinations, product

    full = np.int64((1 << n_units) - 1)
    P = len(patterns)
    out = []
    bits = np.arange(n_units, dtype=np.int64)
    for size in range(3, P + 1, 2):
        for S in combinations(range(P), size):
            for eps in product((0, 1), repeat=size):
                cols = np.array([patterns[mu] ^ (full if e else 0) for mu, e in zip(S, eps)], dtype=np.int64)
                ones = ((cols[:, None] >> bits) & 1).sum(axis=0)     # (N,) votes for "on"
                out.append(int(((ones * 2 > size).astype(np.int64) << bits).sum()))
    return np.unique(np.array(out, dtype=np.int64))


def classify(attractors: Sequence[np.ndarray], patterns: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Class of each attractor (index into :data:`CLASSES`) and its overlaps with the patterns.

    Parameters
    ----------
    attractors : sequence of A arrays of state codes
        Fixed points are arrays of one code.
    patterns : ndarray (P,) int
        Codes of the stored patterns.
    n_units : int

    Returns
    -------
    cls : ndarray (A,) int64
        ``stored`` > ``reversed`` > ``mixture`` > ``spurious`` for single states (the
        first that applies); ``cycle`` for attractors of several states. Mixtures are
        looked for when P <= :data:`MAX_MIXTURE_PATTERNS`.
    m : ndarray (A, P) float64
        Overlaps, averaged over the states of a cyclic attractor.
    """
    patterns = np.asarray(patterns, dtype=np.int64).reshape(-1)
    full = np.int64((1 << n_units) - 1)
    stored = set(patterns.tolist())
    rev = set((patterns ^ full).tolist())
    mix = set(_mixture_codes(patterns, n_units).tolist()) if 3 <= len(patterns) <= MAX_MIXTURE_PATTERNS else set()
    cls = np.empty(len(attractors), dtype=np.int64)
    m = np.empty((len(attractors), len(patterns)))
    for a, states in enumerate(attractors):
        states = np.asarray(states, dtype=np.int64).reshape(-1)
        m[a] = overlaps(states, patterns, n_units).mean(axis=0) if len(patterns) else 0.0
        if len(states) > 1:
            cls[a] = CLASSES.index("cycle")
            continue
        x = int(states[0])
        cls[a] = CLASSES.index("stored" if x in stored else "reversed" if x in rev
                               else "mixture" if x in mix else "spurious")
    return cls, m
