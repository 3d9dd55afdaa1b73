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

__all__ = ["GibbsChains", "gibbs_chains", "gibbs_sweeps", "gibbs_sweeps_reference", "field_error_bound",
           "DEFAULT_BLOCK", "DEFAULT_SUB", "DEFAULT_GROUP", "DEFAULT_REFRESH", "PRODUCTS"]

#: units per block of the blocked field update (a machine of at most this many units is
#: swept with flip updates only)
DEFAULT_BLOCK = 128
#: units per sub-block: flips update the fields of their sub-block only; a small product
#: per sub-block updates the rest of the block (see nets._kernels.boltzmann_chains)
DEFAULT_SUB = 16
#: chains per group (groups run one after the other; see nets._kernels.boltzmann_chains)
DEFAULT_GROUP = 64
#: sweeps between exact float64 recomputations of the fields in the ``float32`` product mode
DEFAULT_REFRESH = 64
#: arithmetic of the blocked field product: exact float64, or float32 with an exact refresh
PRODUCTS = ("float64", "float32")


def _product(product, refresh):
    """Check ``product`` / ``refresh``; return the refresh period (0: never) actually used."""
    if product not in PRODUCTS:
        raise ValueError(f"product must be one of {PRODUCTS}, got {product!r}")
    if refresh is None:
        return DEFAULT_REFRESH if product == "float32" else 0
    if int(refresh) != refresh or refresh < 0:
        raise ValueError(f"refresh must be an integer >= 0 (0: never), got {refresh!r}")
    return int(refresh)


def field_error_bound(W, block: int, refresh: int) -> np.ndarray:
    """Bound on |H - S W| in the float32 product mode, per unit j (N,).

    Between two refreshes (``refresh`` sweeps) the field of unit j receives the flip d_i
    in {-1, 0, 1} of each unit i at most once per sweep, plus once at the flush before the
    refresh: exactly (float64, same sub-block) or inside one float32 product (a sub-block
    product, or the block product over all N units), a sum of at most N terms d_i w32_ij.
    Rounding w to float32 costs u |w| (u = 2^-24), summing n <= N terms in float32 at most
    gamma_N = N u / (1 - N u) of the sum of their magnitudes, so each row i of W adds at
    most (u + gamma_N (1 + u)) |w_ij| per sweep:

        |H_j - (S W)_j| <= (refresh + 1) (u + gamma_N (1 + u)) sum_i |w_ij|,

    plus float64 rounding (included): at most K + 2 additions into H_j per sweep and the
    float64 product S W that the refresh compares with, each within 2^-52 N sum_i |w_ij|.
    A worst case: the measured drift is a random walk, ~1e-6 at N = 1000 (bound ~1e-2).
    A field error delta changes a decision's probability sigma(beta (h + b)) by at most
    beta |delta| / 4.
    """
    W = np.abs(np.asarray(W, dtype=np.float64))
    N = W.shape[0]
    K = min(int(block), N)
    u = 2.0 ** -24
    g = N * u / (1.0 - N * u)
    col = W.sum(axis=0)
    f64 = ((refresh + 1) * (K + 2) + N) * N * 2.0 ** -52
    return ((refresh + 1) * (u + g * (1.0 + u)) + f64) * col


def _blocks(Wq, K, ks):
    """Row blocks Wr (M / K, K, Nd) and transposed sub-block tiles Wt (M / K, Kd / ks, K, ks) of Wq (M, N).

    Wr[r] = W[r K .. r K + K - 1, :] with its diagonal K x K tile zeroed and Nd - N zero
    columns (Nd = (M / K - 1) K + Kd rows of the pending flips, Kd = ks ceil(K / ks));
    Wt[r, t, j, q] = w(r K + t ks + q, r K + j), zero-padded. See
    :func:`nets._kernels.boltzmann_chains.gibbs_sweeps`.
    """
    M, N = Wq.shape
    nb = M // K
    Kd = -(-K // ks) * ks
    Nd = (nb - 1) * K + Kd
    Wr = np.zeros((nb, K, Nd), dtype=Wq.dtype)
    Wt = np.zeros((nb, Kd // ks, K, ks), dtype=Wq.dtype)
    for r in range(nb):
        i0 = r * K
        m = min(K, N - i0)
        Wr[r, :, :N] = Wq[i0:i0 + K]
        Wr[r, :, i0:i0 + m] = 0.0
        tile = np.zeros((Kd, K), dtype=Wq.dtype)          # tile[q, j] = w(i0 + q, i0 + j)
        tile[:m, :m] = Wq[i0:i0 + m, i0:i0 + m]
        Wt[r] = tile.reshape(Kd // ks, ks, K).transpose(0, 2, 1)
    return Wr, Wt


def _pending(Wp, K, Dt):
    """The flips not yet in the fields, as a field correction (N, C): block r gets W[r, later blocks] Dt[later]."""
    N = Wp.shape[1]
    out = np.zeros((N, Dt.shape[1]))
    for i0 in range(0, N, K):
        out[i0:i0 + K] = Wp[i0:min(i0 + K, N), i0 + K:N] @ Dt[i0 + K:N].astype(np.float64)
    return out


def _sub(sub, K):
    if int(sub) != sub or sub < 1:
        raise ValueError(f"sub must be an integer >= 1, got {sub!r}")
    return min(int(sub), K)


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
    block, sub, group, product, refresh : as :func:`gibbs_sweeps`.

    Attributes
    ----------
    S : (C, N) int8
        The states (a view of the unit-major St (N, C) that the kernel works on).
    H : (C, N) float64
        The fields S W (to rounding): the kernel's Ht (N, C) plus the flips it has not yet
        added (Dt, each unit's latest flip), computed on access.
    sweeps_done : int
        Sweeps run so far (the refresh period counts from the first call, so splitting a
        run into calls does not change it).
    max_field_error : float
        Largest |H - S W| found at a refresh so far (0 without refreshes); in the float32
        mode below :func:`field_error_bound`.
    """

    def __init__(self, W, b, S, *, block: int = DEFAULT_BLOCK, sub: int = DEFAULT_SUB, group: int = DEFAULT_GROUP,
                 product: str = "float64", refresh: int | None = None):
        S = np.asarray(S)
        self.Wp, self.b, _, _, _, self.K = _prepare(W, b, S, np.zeros((0, np.shape(W)[0], S.shape[0] if S.ndim == 2 else 0)),
                                                    1.0, block)
        if group < 1:
            raise ValueError(f"group must be >= 1, got {group}")
        self.group = int(group)
        self.product = product
        self.refresh = _product(product, refresh)
        Wq = self.Wp if product == "float64" else self.Wp.astype(np.float32)
        self.Wr, self.Wt = _blocks(Wq, self.K, _sub(sub, self.K))
        self.St = np.ascontiguousarray(np.asarray(S, dtype=np.int8).T)        # (N, C) states, unit-major
        self.Ht = self.Wp[:self.St.shape[0]] @ self.St.astype(np.float64)      # (N, C) fields W S^T
        n_groups = -(-self.St.shape[1] // self.group)
        G = min(self.group, self.St.shape[1])
        self.Dt = np.zeros((n_groups, self.Wr.shape[2], G), dtype=Wq.dtype)   # pending flips, per group
        self.sweeps_done = 0
        self._err = np.zeros(1)

    @property
    def max_field_error(self) -> float:
        return float(self._err[0])

    @property
    def S(self) -> np.ndarray:
        return self.St.T

    @property
    def H(self) -> np.ndarray:
        C = self.St.shape[1]
        D = np.concatenate(list(self.Dt), axis=1)[:, :C]
        return (self.Ht + _pending(self.Wp, self.K, D)).T

    def sweep(self, U, beta=1.0) -> np.ndarray:
        """Run ``U.shape[0]`` sweeps (U (n, N, C), beta scalar or (n,)); return the states (a view)."""
        C, N = self.S.shape
        if U.shape[1:] != (N, C) or U.dtype != np.float64 or not U.flags.c_contiguous:
            raise ValueError(f"U must be a C-contiguous float64 array (sweeps, {N}, {C}), got {U.shape}")
        beta = np.ascontiguousarray(np.broadcast_to(np.asarray(beta, dtype=np.float64), (U.shape[0],)))
        _k.gibbs_groups(self.Wp, self.Wr, self.Wt, self.b, self.St, self.Ht, self.Dt, U, beta,
                        self.sweeps_done, self.refresh, self._err)
        self.sweeps_done += U.shape[0]
        return self.S


def gibbs_sweeps(W, b, S, U, beta=1.0, *, block: int = DEFAULT_BLOCK, sub: int = DEFAULT_SUB,
                 group: int = DEFAULT_GROUP, product: str = "float64", refresh: int | None = None) -> np.ndarray:
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
    sub : int
        Sub-block width inside a block (results do not depend on it beyond rounding).
    group : int
        Chains per group (results do not depend on it).
    product : {"float64", "float32"}
        Arithmetic of the blocked field product (machines of more than ``block`` units).
        ``float32`` halves its cost (float32 matrix product of the flips with W rounded to
        float32; decisions, flip updates inside a block and the fields stay float64) and
        recomputes the fields exactly every ``refresh`` sweeps; the fields then differ
        from S W by at most :func:`field_error_bound` (measured: ~1e-6 at N = 1000).
    refresh : int or None
        Sweeps between exact recomputations H = S W (float64 product); None: 64 for
        float32, never for float64; 0: never.

    Returns
    -------
    ndarray (C, N) int8
    """
    _, _, S, U, beta, _ = _prepare(W, b, S, U, beta, block)
    return GibbsChains(W, b, S, block=block, sub=sub, group=group, product=product,
                       refresh=refresh).sweep(U, beta).copy()


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


def gibbs_sweeps_reference(W, b, S, U, beta=1.0, *, block: int = DEFAULT_BLOCK, sub: int = DEFAULT_SUB,
                           product: str = "float64", refresh: int | None = None) -> np.ndarray:
    """Numpy twin of :func:`gibbs_sweeps` (same arguments but ``group``, same result)."""
    Wp, b, S, U, beta, K = _prepare(W, b, S, U, beta, block)
    refresh = _product(product, refresh)
    Wq = Wp if product == "float64" else Wp.astype(np.float32)
    ks = _sub(sub, K)
    Wr, Wt = _blocks(Wq, K, ks)
    St = np.array(S, dtype=np.int8).T.copy()           # (N, C), unit-major as the kernel
    N, C = St.shape
    Ht = Wp[:N] @ St.astype(np.float64)
    Dt = np.zeros((Wr.shape[2], C), dtype=Wq.dtype)    # each unit's latest flip

    def flush():
        for i0 in range(0, N, K):
            if i0 + K < N:
                Ht[i0:i0 + K] += Wr[i0 // K] @ Dt
            Dt[i0:i0 + K] = 0.0

    for k in range(U.shape[0]):
        for i0 in range(0, N, K):
            m = min(K, N - i0)
            r = i0 // K
            if m < N:
                Ht[i0:i0 + m] += (Wr[r] @ Dt)[:m]
            for s0 in range(i0, i0 + m, ks):
                ms = min(ks, i0 + m - s0)
                for i in range(s0, s0 + ms):
                    x = (Ht[i] + b[i]) * beta[k]
                    e = _exp_neg(np.abs(x))
                    new = (U[k, i] * (1.0 + e) < np.where(x >= 0.0, 1.0, e)).astype(np.int8)
                    d = (new - St[i]).astype(np.float64)
                    Dt[i] = d
                    St[i] = new
                    Ht[s0:s0 + ms] += np.outer(Wp[i, s0:s0 + ms], d)
                if ms < m:
                    P = Wt[r, (s0 - i0) // ks] @ Dt[s0:s0 + ks]
                    Ht[i0:s0] += P[:s0 - i0]
                    Ht[s0 + ms:i0 + m] += P[s0 + ms - i0:m]
        if refresh > 0 and (k + 1) % refresh == 0:
            flush()
            Ht = Wp[:N] @ St.astype(np.float64)
    return St.T.copy()


def gibbs_chains(net, S0, sweeps: int, *, T=1.0, rng: np.random.Generator,
                 block: int = DEFAULT_BLOCK, sub: int = DEFAULT_SUB, group: int = DEFAULT_GROUP, fast: bool = True,
                 product: str = "float64", refresh: int | None = None) -> np.ndarray:
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
    block, sub, group, product, refresh :
        As :func:`gibbs_sweeps`.

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
        return gibbs_sweeps(W, b, S0, U, 1.0 / T, block=block, sub=sub, group=group, product=product,
                            refresh=refresh)
    return gibbs_sweeps_reference(W, b, S0, U, 1.0 / T, block=block, sub=sub, product=product, refresh=refresh)
