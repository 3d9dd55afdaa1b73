r"""Many independent Gibbs chains of one Boltzmann machine at once (numba, with a numpy twin).

For a machine with energy E(s) = -b.s - 1/2 s^T W s (0/1 units, W symmetric, zero
diagonal; :mod:`nets.boltzmann`), C chains are swept together: a *sweep* visits the units
in index order (the ``sequential`` schedule of :func:`sim.simulate`) and sets

    s_c,i <- [u_c,i < sigma(beta (b_i + sum_j w_ij s_c,j))],   beta = 1 / T_k in sweep k,

for every chain c before moving to the next unit. Each chain is an ordinary sequential
Gibbs chain; the chains share nothing but the machine. This is the fast path for sampling
many chains (the per-chain rollout of :meth:`BoltzmannMachine.rollout` reads a row of W
per flip and per chain); the algorithm (decision without ``math.exp``, blocked field
updates) is described in :mod:`nets._kernels.boltzmann_chains`.

Entry point: :func:`gibbs_chains` (draws its uniforms from ``rng``); lower level:
:func:`gibbs_sweeps` (caller's uniforms; kernel) and :func:`gibbs_sweeps_reference` (its
numpy twin: same operations, same order, numpy's BLAS for the block product).

Reference: D. H. Ackley, G. E. Hinton, T. J. Sejnowski, "A learning algorithm for
Boltzmann machines", Cognitive Science 9:147-169 (1985) [paper] (the heat-bath rule).
"""
from __future__ import annotations

import numpy as np

from ._kernels import boltzmann_chains as _k
from ._kernels import vecmath as _vm

__all__ = ["GibbsChains", "gibbs_chains", "gibbs_sweeps", "gibbs_sweeps_reference", "DEFAULT_BLOCK", "DEFAULT_GROUP"]

#: units per block of the blocked field update (a machine of at most this many units is
#: swept with flip updates only)
DEFAULT_BLOCK = 128
#: chains per group (groups run one after the other; see nets._kernels.boltzmann_chains)
DEFAULT_GROUP = 64


def _prepare(W, b, S, U, beta, block):
    W = np.ascontiguousarray(W, dtype=np.float64)
    N = W.shape[0]
    if W.shape != (N, N):
        raise ValueError(f"W must be square, got shape {W.shape}")
    b = np.ascontiguousarray(np.zeros(N) if b is None else b, dtype=np.float64)
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[1] != N or b.shape != (N,):
        raise ValueError(f"S must be (C, {N}) and b ({N},), got {S.shape} and {b.shape}")
    if not np.all((S == 0) | (S == 1)):
        raise ValueError("S must hold 0/1 states")
    U = np.ascontiguousarray(U, dtype=np.float64)
    if U.ndim != 3 or U.shape[1:] != (N, S.shape[0]):
        raise ValueError(f"U must be (sweeps, {N}, {S.shape[0]}) (U[k, i, c]), got {U.shape}")
    beta = np.ascontiguousarray(np.broadcast_to(np.asarray(beta, dtype=np.float64), (U.shape[0],)))
    if not np.all(np.isfinite(beta)) or np.any(beta < 0):
        raise ValueError("beta = 1/T must be finite and >= 0")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    K = min(int(block), N)
    M = -(-N // K) * K
    Wp = np.zeros((M, N))
    Wp[:N] = W
    return Wp, b, S, U, beta, K


class GibbsChains:
    """C chains of one machine with their cached fields, advanced in place by :meth:`sweep`.

    Holding the padded weights and the fields H = S W between calls saves their O(N^2)
    and O(C N^2) set-up when a run is split into many short calls.

    Parameters
    ----------
    W, b, S : as :func:`gibbs_sweeps` (S is copied).
    block, group : int
        Block width and chains per group (see :func:`gibbs_sweeps`).
    """

    def __init__(self, W, b, S, *, block: int = DEFAULT_BLOCK, group: int = DEFAULT_GROUP):
        S = np.asarray(S)
        self.Wp, self.b, _, _, _, self.K = _prepare(W, b, S, np.zeros((0, np.shape(W)[0], S.shape[0] if S.ndim == 2 else 0)),
                                                    1.0, block)
        if group < 1:
            raise ValueError(f"group must be >= 1, got {group}")
        self.group = int(group)
        self.S = np.ascontiguousarray(S, dtype=np.int8).copy()                  # (C, N)
        self.H = self.S.astype(np.float64) @ self.Wp[:self.S.shape[1]]          # (C, N) fields

    def sweep(self, U, beta=1.0) -> np.ndarray:
        """Run ``U.shape[0]`` sweeps (U (n, N, C), beta scalar or (n,)); return the states (a view)."""
        C, N = self.S.shape
        if U.shape[1:] != (N, C) or U.dtype != np.float64 or not U.flags.c_contiguous:
            raise ValueError(f"U must be a C-contiguous float64 array (sweeps, {N}, {C}), got {U.shape}")
        beta = np.ascontiguousarray(np.broadcast_to(np.asarray(beta, dtype=np.float64), (U.shape[0],)))
        _k.gibbs_groups(self.Wp, self.b, self.S, self.H, U, beta, self.group, self.K)
        return self.S


def gibbs_sweeps(W, b, S, U, beta=1.0, *, block: int = DEFAULT_BLOCK, group: int = DEFAULT_GROUP) -> np.ndarray:
    """Run ``U.shape[0]`` sequential Gibbs sweeps of the chains S (numba); return the final states.

    Parameters
    ----------
    W : ndarray (N, N)
        Symmetric couplings, zero diagonal.
    b : ndarray (N,) or None
        Biases (None: zero).
    S : ndarray (C, N) of 0/1
        Start states of the C chains (not modified).
    U : ndarray (n, N, C)
        Uniforms in [0, 1): U[k, i, c] decides unit i of chain c in sweep k.
    beta : float or ndarray (n,)
        Inverse temperature 1/T of each sweep (0: every unit on with probability 1/2).
    block : int
        Block width K of the field updates (see :mod:`nets._kernels.boltzmann_chains`).
    group : int
        Chains per group (results do not depend on it).

    Returns
    -------
    ndarray (C, N) int8
    """
    _, _, S, U, beta, _ = _prepare(W, b, S, U, beta, block)
    return GibbsChains(W, b, S, block=block, group=group).sweep(U, beta).copy()


def _exp_neg(a: np.ndarray) -> np.ndarray:
    """Numpy twin of :func:`nets._kernels.vecmath.exp_neg` (same operations, same order)."""
    a = np.minimum(a, 350.0)
    y = a * -0.00390625
    c = (_vm._C2, _vm._C3, _vm._C4, _vm._C5, _vm._C6, _vm._C7, _vm._C8, _vm._C9, _vm._C10, _vm._C11)
    p = c[8] + y * c[9]
    for ck in c[7::-1]:
        p = ck + y * p
    p = 1.0 + y * p
    p = 1.0 + y * p
    for _ in range(8):
        p = p * p
    return p


def gibbs_sweeps_reference(W, b, S, U, beta=1.0, *, block: int = DEFAULT_BLOCK) -> np.ndarray:
    """Numpy twin of :func:`gibbs_sweeps` (same arguments but ``group``, same result)."""
    Wp, b, S, U, beta, K = _prepare(W, b, S, U, beta, block)
    S = np.array(S, dtype=np.int8, copy=True)
    C, N = S.shape
    H = S.astype(np.float64) @ Wp[:N]
    for k in range(U.shape[0]):
        for i0 in range(0, N, K):
            m = min(K, N - i0)
            D = np.zeros((C, K))
            for q in range(m):
                i = i0 + q
                x = (H[:, i] + b[i]) * beta[k]
                e = _exp_neg(np.abs(x))
                new = (U[k, i] * (1.0 + e) < np.where(x >= 0.0, 1.0, e)).astype(np.int8)
                D[:, q] = new - S[:, i]
                S[:, i] = new
                for c in np.flatnonzero(D[:, q]):
                    H[c, i0:i0 + m] += D[c, q] * Wp[i, i0:i0 + m]
            if m < N:
                P = D @ Wp[i0:i0 + K]
                H[:, :i0] += P[:, :i0]
                H[:, i0 + m:] += P[:, i0 + m:]
    return S


def gibbs_chains(net, S0, sweeps: int, *, T=1.0, rng: np.random.Generator,
                 block: int = DEFAULT_BLOCK, group: int = DEFAULT_GROUP, fast: bool = True) -> np.ndarray:
    """``sweeps`` sequential Gibbs sweeps of C independent chains of a Boltzmann machine.

    Parameters
    ----------
    net : BoltzmannMachine
        The machine (its W and b; no clamping: use :meth:`BoltzmannMachine.clamp` first,
        whose reduced machine carries the clamped units in its biases).
    S0 : ndarray (C, N) of 0/1
        Start states.
    sweeps : int
    T : float or ndarray (sweeps,)
        Temperature of each sweep, > 0.
    rng : Generator
        Source of the uniforms U (sweeps, N, C), drawn in one call.
    fast : bool
        The numba kernel (True) or its numpy twin.

    Returns
    -------
    ndarray (C, N) int8
        The states after the last sweep.
    """
    W, b = (np.asarray(a, dtype=np.float64) for a in net.params)
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), (int(sweeps),))
    if sweeps < 0 or not np.all(np.isfinite(T) & (T > 0)):
        raise ValueError("need sweeps >= 0 and finite temperatures T > 0")
    S0 = np.asarray(S0)
    U = rng.random((int(sweeps), W.shape[0], S0.shape[0]))
    if fast:
        return gibbs_sweeps(W, b, S0, U, 1.0 / T, block=block, group=group)
    return gibbs_sweeps_reference(W, b, S0, U, 1.0 / T, block=block)
