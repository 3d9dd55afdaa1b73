r"""Numba kernel: sequential Gibbs sweeps of C independent chains of one Boltzmann machine.

States and fields are stored unit-major: St (N, C) of 0/1 units and Ht (N, C) fields
(W S^T, biases not included), so that every loop over the chains of one unit is a
contiguous, branch-free loop that LLVM vectorises. A sweep visits the units in index
order; unit i is updated in all C chains before unit i + 1, with the heat-bath rule at
inverse temperature beta = 1/T:

    x = beta (h_i,c + b_i),   s_i,c <- [u_i,c < sigma(x)].

**Decision without division or ``math.exp``** (DESIGN.md section 7). With
e = exp(-|x|) computed by :func:`nets._kernels.vecmath.exp_neg` (branch-free plain arithmetic: exp(-|x|/256) by
a degree-11 Taylor polynomial, then eight squarings; relative error < 1e-13 for
|x| <= 40; |x| is clamped at 350), sigma(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, so

    u < sigma(x)   <=>   u (1 + e) < (1 if x >= 0 else e).

**Field updates in three levels** (d = s_new - s_old in {-1, 0, 1}; about half the units
flip per sweep at N = 1000, T = 1, so the work is dense):

1. *sub-block* (ks units, default 16): a unit's flips are added at once, dense over the
   chains, to the fields of its own sub-block (H[j, :] += w_ij d, ks rows);
2. *block* (K units, default 128): after a sub-block, one small matrix product adds its
   flips to the other fields of the block (Wt tile (K, ks) @ D (ks, C));
3. *other blocks, lazily*: Dt (N, C) keeps every unit's flip at its latest decision. When
   block r comes up, its fields lack exactly the flips decided since its own latest
   visit, i.e. the latest flips of every other unit, so one product
   H[block r] += Wr[r] (K, N) @ Dt (N, C) brings them in (Wr[r] = the rows of block r
   with the diagonal tile zeroed, as level 1-2 already counted those). This is ~C N
   multiply-adds per unit like numpy's per-unit product, but one BLAS call per block
   whose output is only K x C (an eager product per block would write C x N).

**float32 products** (``product="float32"``): Wr, Wt, Dt and the products of levels 2-3
in float32 (the float32 GEMM is twice as fast; the ternary Dt is exact), decisions,
level-1 updates and H in float64. Rounding drifts H from S W by ~1e-6 (N = 1000), so
after every ``refresh`` sweeps the pending flips are flushed, H is recomputed exactly
(float64 product W S^T) and the largest |H - S W| seen is recorded (bound:
:func:`nets.boltzmann_chains.field_error_bound`). In float64 mode nothing is refreshed.

**Chains in groups** (:func:`gibbs_groups`): the chains run in fixed groups of G, one
group after the other (the fields of a group stay in cache). Not in parallel: a
``prange`` over groups that each call BLAS nests numba's threads inside OpenBLAS's and
ran 10x *slower* than one thread on the shared 2-core machine [measured: 226 against
2,900 chain-sweeps/s of numpy at N = 1000, C = 128, 2 threads].

Measured (benchmarks/boltzmann.py, one thread, 3 runs on the shared machine at load ~7):
against numpy vectorised over C = 64 chains, float64 2.40-2.50x at N = 1000 and 8.0-8.5x
at N = 100. At N = 1000 both sides do 2 C N^2 flops per sweep: numpy ~5.4 GFLOP/s (one
matrix-vector product per unit), this kernel ~13.5 effective, of which the block products
take ~85 % at the float64 GEMM rate of these shapes on the loaded machine (18-24 GFLOP/s
measured alone): the float64 ceiling is that GEMM/GEMV ratio, ~3x, not 4x. Float32
products: 4.15-4.26x at N = 1000 and 9.1-9.8x at N = 100. Earlier designs, for the
record: an eager product per block (C x N output + add loop) and branchy per-chain flip updates
(chain-major layout) gave 2.4x / 3.1x (float64 / float32) at N = 1000; 2-D indexing
``H[j, c0 + c]`` in the chain loops did not vectorise (1-D views do: 2x at N = 100).

Twin: :func:`nets.boltzmann_chains.gibbs_sweeps_reference` (numpy, the same operations
in the same order; its matrix products are numpy's BLAS, so fields agree to rounding, and
identical uniforms give identical states unless a uniform lies within ~1e-15 (float32:
~1e-7) of its probability). The exact check: tests/test_boltzmann_chains.py compares the
visible distribution of many chains with the enumerated one, in both modes.
"""
from __future__ import annotations

import numpy as np

from sim.jit import kernel

from .vecmath import exp_neg


@kernel
def _decide(x, u, so, d):
    """d[c] = s_new - s_old for the C chains of one unit: contiguous loops that vectorise."""
    for c in range(x.shape[0]):
        xc = x[c]
        e = exp_neg(abs(xc))
        rhs = 1.0 if xc >= 0.0 else e
        d[c] = (1.0 if u[c] * (1.0 + e) < rhs else 0.0) - so[c]


@kernel
def _add(h, t):
    """h[c] += t[c] for c < len(h) (t may be longer, and float32)."""
    for c in range(h.shape[0]):
        h[c] += t[c]


@kernel
def gibbs_sweeps(Wp, Wr, Wt, b, St, Ht, Dt, U, beta, c0, work, k0, refresh, err):
    """``U.shape[0]`` sequential Gibbs sweeps of one group of chains, in place on St, Ht, Dt.

    The layout is unit-major (row i holds unit i of every chain of the group), so that
    every loop over the chains of a unit is contiguous and branch-free.

    Parameters
    ----------
    Wp : (M, N) float64
        Symmetric couplings W (zero diagonal) padded with zero rows to M = K ceil(N / K).
    Wr : (M / K, K, N) float64 or float32
        Row blocks W[r K .. r K + K - 1, :] with their diagonal K x K tile set to zero
        (zero-padded), of the block products' dtype.
    Wt : (M / K, Kd / ks, K, ks) of Wr's dtype
        Sub-block tiles: Wt[r, t, j, q] = w(r K + t ks + q, r K + j) (zero-padded;
        Kd = ks ceil(K / ks)).
    b : (N,) float64
        Biases.
    St : (N, C_all) int8
        States in {0, 1}, unit-major (in/out; columns c0 .. c0 + G' - 1 are swept).
    Ht : (N, C_all) float64
        Fields W S^T without the pending flips (in/out), see ``Dt``.
    Dt : (N, G) of Wr's dtype
        Each unit's flip at its latest decision, for this group (in/out; columns >= G'
        stay zero). Block r's fields lack exactly the flips of the units decided since its
        own latest visit, which are the rows of the later blocks.
    U : (n, N, C_all) float64
        Uniforms: U[k, i, c] for unit i of chain c in sweep k.
    beta : (n,) float64
        Inverse temperature of each sweep.
    c0 : int
        First chain of this group.
    work : (tmpb (K, G), tmp (K, G), x, so, d (G',), Sf, Hn)
        Scratch: the sub-block and block products (Wr's dtype), one unit's fields, old
        states and flips (float64), and the float64 buffers of the exact refresh ((N, G'),
        or (0, 0) without refresh).
    k0 : int
        Sweeps run before this call (the refresh counts sweeps from the first call).
    refresh : int
        Recompute the fields exactly (float64 product W S^T) and clear Dt after every
        sweep whose count k0 + k + 1 is a multiple of ``refresh`` (0: never).
    err : (1,) float64
        Running maximum of |H - S W| found at the refreshes (in/out).
    """
    tmpb, tmp, x, so, d, Sf, Hn = work
    G = x.shape[0]
    N = St.shape[0]
    K = tmp.shape[0]
    ks = Wt.shape[3]
    for k in range(U.shape[0]):
        bt = beta[k]
        for i0 in range(0, N, K):
            m = min(K, N - i0)
            r = i0 // K
            if m < N:  # the flips of the other blocks since this block's latest visit
                np.dot(Wr[r], Dt, tmp)
                for q in range(m):
                    _add(Ht[i0 + q, c0:c0 + G], tmp[q])
            for s0 in range(i0, i0 + m, ks):
                ms = min(ks, i0 + m - s0)
                for i in range(s0, s0 + ms):
                    bi = b[i]
                    Hi = Ht[i, c0:c0 + G]   # 1-D views: the loops over chains vectorise (2-D indexing did not)
                    Si = St[i, c0:c0 + G]
                    Di = Dt[i]
                    for c in range(G):
                        x[c] = (Hi[c] + bi) * bt
                        so[c] = Si[c]
                    _decide(x, U[k, i, c0:c0 + G], so, d)
                    for c in range(G):
                        Di[c] = d[c]
                        Si[c] = np.int8(so[c] + d[c])
                    for j in range(s0, s0 + ms):  # flips to the sub-block's fields: dense over chains
                        w = Wp[i, j]
                        Hj = Ht[j, c0:c0 + G]
                        for c in range(G):
                            Hj[c] += w * d[c]
                if ms < m:  # the sub-block's flips to the rest of the block's fields
                    np.dot(Wt[r, (s0 - i0) // ks], Dt[s0:s0 + ks], tmpb)
                    for j in range(i0, s0):
                        _add(Ht[j, c0:c0 + G], tmpb[j - i0])
                    for j in range(s0 + ms, i0 + m):
                        _add(Ht[j, c0:c0 + G], tmpb[j - i0])
        if refresh > 0 and (k0 + k + 1) % refresh == 0:
            _flush(Wr, Ht, Dt, c0, G, tmp)
            for j in range(N):
                for c in range(G):
                    Sf[j, c] = St[j, c0 + c]
            np.dot(Wp[:N], Sf, Hn)
            e = err[0]
            for j in range(N):
                for c in range(G):
                    e = max(e, abs(Ht[j, c0 + c] - Hn[j, c]))
                    Ht[j, c0 + c] = Hn[j, c]
            err[0] = e


@kernel
def _flush(Wr, Ht, Dt, c0, G, tmp):
    """Add the pending flips to the fields (block r gets those of blocks r + 1, ...) and clear Dt.

    Ht then holds the complete fields W S^T (to rounding).
    """
    N = Ht.shape[0]
    K = tmp.shape[0]
    for i0 in range(0, N, K):
        m = min(K, N - i0)
        if i0 + m < N:
            np.dot(Wr[i0 // K], Dt, tmp)   # Dt holds no rows of blocks < r any more; r's own tile is zero
            for q in range(m):
                _add(Ht[i0 + q, c0:c0 + G], tmp[q])
        for q in range(m):
            for c in range(Dt.shape[1]):
                Dt[i0 + q, c] = 0.0


@kernel
def gibbs_groups(Wp, Wr, Wt, b, St, Ht, Dt, U, beta, k0, refresh, err):
    """:func:`gibbs_sweeps` on groups of G chains (columns g G .. g G + G - 1 of St; Dt[g]), one after the other.

    Scratch is allocated per group, outside the sweeps.
    """
    N, C = St.shape
    G = Dt.shape[2]
    K = Wr.shape[1]
    nr = N if refresh > 0 else 0
    for g in range(Dt.shape[0]):
        c0 = g * G
        Cg = min(C, c0 + G) - c0
        nf = Cg if refresh > 0 else 0
        dt = Wr.dtype
        work = (np.zeros((K, G), dt), np.zeros((K, G), dt), np.zeros(Cg), np.zeros(Cg), np.zeros(Cg),
                np.zeros((nr, nf)), np.zeros((nr, nf)))
        gibbs_sweeps(Wp, Wr, Wt, b, St, Ht, Dt[g], U, beta, c0, work, k0, refresh, err)
