r"""Exact Boltzmann distributions of small 0/1 machines by enumerating all 2^N states.

For a quadratic energy over units s in {0, 1}^N (a :class:`nets.boltzmann.BoltzmannMachine`,
or any W, b),

    E(s) = -b.s - 1/2 s^T W s + c,        P_T(s) = exp(-E(s)/T) / Z,
    log Z = logsumexp_s(-E(s)/T)          (shifted by the maximum: no overflow),

this module gives the partition function, the distribution over all 2^N states (state k
has s_i = bit i of k, see :func:`all_states`), exact marginals <s_i>, pairwise
statistics <s_i s_j>, conditional distributions, and the two phases of Boltzmann
learning (Ackley, Hinton & Sejnowski 1985, Sec. 3) for visible data vectors v^d with
weights q_d (an empirical data distribution):

    p_ij  = sum_d q_d <s_i s_j>_{P(h | v^d)}        (clamped phase: visible units clamped)
    p'_ij = <s_i s_j>_{P}                            (free phase)
    L     = sum_d q_d log P(v^d),    P(v) = sum_h P(v, h),
    dL/dw_ij = (p_ij - p'_ij) / T,   dL/db_i = (p_i - p'_i) / T,

which is minus the gradient of G = KL(q || P_visible) of the 1985 paper (Eq. 5).
:func:`log_likelihood_gradient` computes it from the joint distribution (weights
q_d P(s) / P(v^d) on the states consistent with v^d); :func:`two_phase_statistics`
computes p_ij by clamping (:meth:`BoltzmannMachine.clamp`) and enumerating each
conditional machine, the procedure the sampler imitates; tests check the two against each
other and against finite differences of :func:`log_likelihood`.

For samples s^(1..n) with empirical distribution p_hat, G = 2 n KL(p_hat || P) is the
likelihood-ratio (G-) statistic, asymptotically chi^2 with K - 1 degrees of freedom for K
states of positive probability; hence E[KL] ~ (K - 1) / (2 n) and
:func:`kl_bound` = chi^2_{K-1}(1 - alpha) / (2 n) for independent samples
(:func:`chi_square` is Pearson's test of the same hypothesis, sparse bins pooled).

Why here and not in ``sim/``: enumeration needs the energy vectorised over all states,
which the quadratic 0/1 form gives as two matrix products per chunk of states; calling a
generic ``net.energy`` 2^N times would be ~10^3 times slower. Any binary net with a
quadratic energy (a 0/1 Hopfield net: W -> scale W, b -> -theta) can use
:func:`exact_distribution` directly with its arrays.

Cost: O(2^N N^2) time and O(2^N) memory; limited to N <= :data:`MAX_UNITS`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_UNITS", "ExactDistribution", "all_states", "state_index", "exact", "exact_distribution",
           "log_likelihood", "log_likelihood_gradient", "two_phase_statistics", "empirical",
           "kl_divergence", "kl_bound", "chi_square"]

MAX_UNITS = 22
_CHUNK = 1 << 15  # states per block in energy and moment sums


def all_states(n: int) -> np.ndarray:
    """Every 0/1 state of ``n`` units, (2^n, n) int8; row k has s_i = (k >> i) & 1."""
    if not 0 <= n <= MAX_UNITS:
        raise ValueError(f"exact enumeration is limited to {MAX_UNITS} units, got {n}")
    k = np.arange(1 << n, dtype=np.int64)
    return ((k[:, None] >> np.arange(n)) & 1).astype(np.int8)


def state_index(S: np.ndarray) -> np.ndarray:
    """Row index in :func:`all_states` of 0/1 states (..., n) -> (...,) int64."""
    S = np.asarray(S)
    return (S.astype(np.int64) << np.arange(S.shape[-1], dtype=np.int64)).sum(axis=-1)


def _sub_index(N: int, units: np.ndarray) -> np.ndarray:
    """For every state k of N units, the index of its restriction to ``units``, (2^N,) int64."""
    k = np.arange(1 << N, dtype=np.int64)
    out = np.zeros(1 << N, dtype=np.int64)
    for j, u in enumerate(np.asarray(units, dtype=np.int64)):
        out |= ((k >> u) & 1) << j
    return out


def _energies(W: np.ndarray, b: np.ndarray, offset: float) -> np.ndarray:
    N = len(b)
    K = 1 << N
    E = np.empty(K)
    k = np.arange(K, dtype=np.int64)
    for a in range(0, K, _CHUNK):
        S = ((k[a:a + _CHUNK, None] >> np.arange(N)) & 1).astype(np.float64)  # (chunk, N)
        E[a:a + _CHUNK] = -(S @ b) - 0.5 * np.einsum("ki,ki->k", S @ W, S) + offset
    return E


@dataclass(frozen=True)
class ExactDistribution:
    """The Boltzmann distribution of a machine at temperature T over all 2^N states.

    Attributes
    ----------
    T : float
    log_Z : float
        log sum_s exp(-E(s)/T).
    log_p : ndarray (2^N,)
        log P(s_k), states ordered as in :func:`all_states`.
    """

    T: float
    log_Z: float
    log_p: np.ndarray

    @property
    def n_units(self) -> int:
        return int(np.log2(len(self.log_p)) + 0.5)

    @property
    def p(self) -> np.ndarray:
        """P(s_k), (2^N,)."""
        return np.exp(self.log_p)

    def entropy(self) -> float:
        """H = -sum_s P log P (nats); N ln 2 for the uniform distribution."""
        p = self.p
        return float(-(p[p > 0] @ self.log_p[p > 0]))

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact <s_i> (N,) and <s_i s_j> (N, N) (diagonal = <s_i>)."""
        return _moments(self.p, self.n_units)

    def means(self) -> np.ndarray:
        """<s_i>, (N,)."""
        return self.moments()[0]

    def pairwise(self) -> np.ndarray:
        """<s_i s_j>, (N, N)."""
        return self.moments()[1]

    def marginal(self, units) -> np.ndarray:
        """P(s_units) over the 2^len(units) states of ``units`` (bit k = units[k]), shape (2^k,)."""
        units = np.asarray(units, dtype=np.int64)
        return np.bincount(_sub_index(self.n_units, units), weights=self.p, minlength=1 << len(units))

    def condition(self, units, values) -> "ExactDistribution":
        """P(s_free | s_units = values): a distribution over the free units in increasing order."""
        units = np.asarray(units, dtype=np.int64)
        values = np.asarray(values).astype(np.int8)
        N = self.n_units
        free = np.setdiff1d(np.arange(N), units)
        S = np.empty((1 << len(free), N), dtype=np.int8)
        S[:, free] = all_states(len(free))
        S[:, units] = values
        lp = self.log_p[state_index(S)]
        m = lp.max()
        if not np.isfinite(m):
            raise ValueError("the conditioning event has probability zero")
        log_pc = m + np.log(np.exp(lp - m).sum())
        return ExactDistribution(self.T, float(self.log_Z + log_pc), lp - log_pc)


def _moments(p: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray]:
    K = len(p)
    k = np.arange(K, dtype=np.int64)
    C = np.zeros((N, N))
    for a in range(0, K, _CHUNK):
        S = ((k[a:a + _CHUNK, None] >> np.arange(N)) & 1).astype(np.float64)  # (chunk, N)
        C += S.T @ (S * p[a:a + _CHUNK, None])
    return np.diag(C).copy(), C


def exact_distribution(W: np.ndarray, b: np.ndarray, T: float = 1.0, *, offset: float = 0.0) -> ExactDistribution:
    """The exact distribution for couplings W (N, N) (symmetric, zero diagonal) and biases b (N,)."""
    W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"the Boltzmann distribution needs a temperature T > 0, got {T!r}")
    if len(b) > MAX_UNITS:
        raise ValueError(f"exact enumeration is limited to {MAX_UNITS} units, got {len(b)}")
    a = -_energies(W, b, offset) / T
    m = a.max()
    log_Z = float(m + np.log(np.exp(a - m).sum()))
    return ExactDistribution(float(T), log_Z, a - log_Z)


def exact(net, T: float = 1.0) -> ExactDistribution:
    """The exact distribution of a :class:`~nets.boltzmann.BoltzmannMachine` at T (its offset included)."""
    return exact_distribution(net.params.W, net.params.b, T, offset=getattr(net, "energy_offset", 0.0))


def _data(net, data, weights):
    V = np.atleast_2d(np.asarray(data))
    if V.shape[1] != net.n_visible or not np.all((V == 0) | (V == 1)):
        raise ValueError(f"data must be 0/1 vectors over the {net.n_visible} visible units, got shape {V.shape}")
    q = np.ones(len(V)) if weights is None else np.asarray(weights, dtype=np.float64)
    if q.shape != (len(V),) or np.any(q < 0) or q.sum() <= 0:
        raise ValueError("weights must be one non-negative number per data vector, not all zero")
    return V.astype(np.int8), q / q.sum()


def log_likelihood(net, data, T: float = 1.0, *, weights=None) -> float:
    """L = sum_d q_d log P(v^d), the visible marginal summed over the hidden units exactly.

    Parameters
    ----------
    data : ndarray (D, n_visible) of 0/1, in the order of ``net.visible``
    weights : ndarray (D,), optional
        Data frequencies q_d (normalised; uniform by default).
    """
    V, q = _data(net, data, weights)
    P_v = exact(net, T).marginal(net.visible)  # (2^n_visible,)
    with np.errstate(divide="ignore"):
        return float(q @ np.log(P_v[state_index(V)]))


def log_likelihood_gradient(net, data, T: float = 1.0, *, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact dL/dW (N, N) (symmetric, zero diagonal; entry ij = dL/dw_ij for the shared
    weight w_ij = w_ji) and dL/db (N,), from the joint distribution.

    The clamped-phase distribution is Q(s) = sum_d q_d 1[v(s) = v^d] P(s) / P(v^d);
    dL/dW = (<s s^T>_Q - <s s^T>_P) / T off the diagonal, dL/db = (<s>_Q - <s>_P) / T.
    Couplings outside ``net.mask`` get 0 (they are not parameters).
    """
    V, q = _data(net, data, weights)
    dist = exact(net, T)
    p = dist.p
    v_idx = _sub_index(net.n_units, net.visible)   # (2^N,) visible pattern of each state
    P_v = np.bincount(v_idx, weights=p, minlength=1 << net.n_visible)
    q_v = np.bincount(state_index(V), weights=q, minlength=1 << net.n_visible)  # data distribution
    if np.any((q_v > 0) & (P_v == 0)):
        raise ValueError("a data vector has probability zero under the machine")
    ratio = np.divide(q_v, P_v, out=np.zeros_like(q_v), where=q_v > 0)
    Q = p * ratio[v_idx]
    mQ, CQ = _moments(Q, net.n_units)
    mP, CP = dist.moments()
    gW = (CQ - CP) / T
    np.fill_diagonal(gW, 0.0)
    if getattr(net, "mask", None) is not None:
        gW = np.where(net.mask, gW, 0.0)
    return gW, (mQ - mP) / T


def two_phase_statistics(net, data, T: float = 1.0, *, weights=None):
    """The statistics of Boltzmann learning by clamping and enumerating, as the 1985 procedure.

    Returns
    -------
    p_ij : ndarray (N, N)
        sum_d q_d <s_i s_j> with the visible units clamped to v^d (diagonal: p_i).
    pf_ij : ndarray (N, N)
        <s_i s_j> of the free-running machine (diagonal: p'_i).
    """
    V, q = _data(net, data, weights)
    N = net.n_units
    clamped = np.zeros((N, N))
    for v, qd in zip(V, q):
        if qd == 0:
            continue
        if net.n_hidden == 0:
            s = np.zeros(N)
            s[net.visible] = v
            clamped += qd * np.outer(s, s)
            continue
        cond = net.clamp(net.visible, v)
        pc = exact(cond, T).p
        S = cond.clamping.full(all_states(cond.n_units)).astype(np.float64)  # (2^H, N)
        clamped += qd * (S.T @ (S * pc[:, None]))
    return clamped, exact(net, T).pairwise()


def empirical(states: np.ndarray) -> np.ndarray:
    """Frequencies of the 2^N states among samples (n, N) of 0/1, shape (2^N,)."""
    states = np.asarray(states)
    return np.bincount(state_index(states), minlength=1 << states.shape[1]) / len(states)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) = sum_{p > 0} p log(p / q) in nats (inf where q = 0 < p)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    on = p > 0
    if np.any(q[on] <= 0):
        return float("inf")
    return float(p[on] @ (np.log(p[on]) - np.log(q[on])))


def kl_bound(n: int, K: int, alpha: float = 1e-3) -> float:
    """The (1 - alpha) quantile of KL(p_hat || P) for n independent samples over K states.

    From the G-test: 2 n KL ~ chi^2_{K-1} asymptotically, so the bound is
    chi^2_{K-1}(1 - alpha) / (2 n); its mean is (K - 1) / (2 n).
    """
    from scipy.special import chdtri

    return float(chdtri(K - 1, alpha)) / (2.0 * n)


def chi_square(counts: np.ndarray, p: np.ndarray, *, min_expected: float = 5.0) -> tuple[float, int, float]:
    """Pearson's chi-square test of counts (K,) against probabilities p (K,).

    Bins with expected count below ``min_expected`` are pooled into one (merged into the
    smallest other bin if the pool itself stays below it). Returns (statistic, degrees of freedom, p-value).
    """
    from scipy.special import chdtrc

    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    e = n * np.asarray(p, dtype=np.float64)
    small = e < min_expected
    obs = list(counts[~small])
    exp = list(e[~small])
    if small.any():
        obs.append(counts[small].sum())
        exp.append(e[small].sum())
    obs, exp = np.array(obs), np.array(exp)
    if len(exp) > 1 and exp[-1] < min_expected and small.any():  # a pool still too small joins a bin
        k = int(np.argmin(exp[:-1]))
        obs[k] += obs[-1]
        exp[k] += exp[-1]
        obs, exp = obs[:-1], exp[:-1]
    stat = float(((obs - exp) ** 2 / exp).sum())
    dof = len(obs) - 1
    return stat, dof, float(chdtrc(dof, stat))
