r"""Theory of the Hopfield network: capacity, retrieval overlaps, noise estimates.

Pure numpy/scipy; no simulation. These are the oracles the Hopfield scenarios and tests
are checked against (SCENARIOS.md sections 1.1-1.4; provenance tags as there).

**Hopfield (1982), Eq. 10** [paper]. With 0/1 units, Hebbian couplings
T_ij = sum_s (2V_i^s - 1)(2V_j^s - 1) and n stored memories, the field of a unit at a
stored state is a signal N/2 plus a Gaussian noise of rms

    sigma = sqrt((n - 1) N / 2),

so the probability that one bit is unstable and the probability that a memory of N bits
has no unstable bit are

    P = 1/2 erfc( (N/2) / (sigma sqrt 2) ),        P_no_error = (1 - P)^N  (~ e^{-N P}).

N = 100, n = 10: P = 0.00921, (1 - P)^100 = 0.396 [computed]; the paper prints
P = 0.0091 and "about e^{-0.91} = 0.40" (and measured 0.6 in its Fig. 2).

**Amit, Gutfreund & Sompolinsky (1987), Ann. Phys. 173:30** [abstract + computed]. For
p = alpha N random patterns, +-1 units, W = (1/N) sum_mu xi^mu xi^mu^T, the
replica-symmetric (RS) retrieval state at T = 0 has overlap m with the retrieved pattern,

    m = erf(y),    y = m / sqrt(2 alpha r),
    C = sqrt(2 / (pi alpha r)) exp(-y^2),    r = (1 - C)^{-2},

which reduce to one equation in y (Hertz, Krogh & Palmer, ch. 2):

    sqrt(2 alpha) = g(y),    g(y) = erf(y)/y - (2/sqrt(pi)) exp(-y^2).

g rises from g(0+) = 0 to a maximum at y_c and decays as 1/y; a retrieval solution exists
only for alpha <= alpha_c = g(y_c)^2 / 2, and the retrieval branch is the root y >= y_c.
[computed]: alpha_c = 0.13791, y_c = 1.511, m_c = erf(y_c) = 0.96742 (error fraction
(1 - m_c)/2 = 1.63 %; the abstract says "less than 1.5%" and alpha_c = 0.14);
m(0.05) = 0.999992, m(0.10) = 0.99800, m(0.12) = 0.99322, m(0.13) = 0.98721,
m(0.135) = 0.98079.

**Finite temperature, alpha -> 0** (AGS 1985, PRA 32:1007) [computed]. With the same
normalisation T_c = 1 and the mean-field retrieval overlap is the largest root of

    m = tanh(m / T)        (m = 0 for T >= 1);

T = 0.3 -> 0.9974, 0.5 -> 0.9575, 0.7 -> 0.8286, 0.9 -> 0.5254, 0.95 -> 0.3795.

For one stored pattern (p = 1) the net is a Curie-Weiss magnet in the gauge s_i -> xi_i s_i
and its Boltzmann distribution at finite N is known exactly: with zero diagonal,
E(s) = -(N m^2 - 1)/2 and C(N, k) states have overlap m = (2k - N)/N, so

    P(k) = C(N, k) exp(N m_k^2 / (2T)) / Z          [definition, exact enumeration].

:func:`finite_n_overlap` returns E|m| under it, the finite-size oracle for Glauber runs.

**Capacity bounds.** McEliece, Posner, Rodemich & Venkatesh (1987), IEEE Trans. IT
33:461 [abstract]: most memories exactly recoverable up to n/(2 ln n), all of them up to
n/(4 ln n) (natural log: [recalled, unverified]). Storkey (1997), ICANN'97: capacity of
his rule n/sqrt(2 ln n) **[recalled, unverified]** (not a test oracle).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

__all__ = ["rs_gap", "rs_equations", "rs_overlap", "rs_capacity", "rs_branches", "mean_field_overlap",
           "finite_n_overlap", "mceliece_bounds", "storkey_capacity", "hopfield_noise"]

_SQRT_PI = math.sqrt(math.pi)


# --- AGS replica-symmetric T = 0 retrieval ----------------------------------------------
def rs_gap(y):
    """g(y) = erf(y)/y - (2/sqrt(pi)) exp(-y^2), the right-hand side of sqrt(2 alpha) = g(y).

    Parameters
    ----------
    y : float or ndarray, > 0

    Returns
    -------
    float or ndarray, same shape as ``y``
    """
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = special.erf(y) / y - 2.0 / _SQRT_PI * np.exp(-y * y)
    # series at small y (erf(y)/y = 2/sqrt(pi) (1 - y^2/3 + ...)): g = (4/(3 sqrt(pi))) y^2 + O(y^4)
    small = np.abs(y) < 1e-4
    g = np.where(small, 4.0 / (3.0 * _SQRT_PI) * y * y, g)
    return g[()] if g.ndim == 0 else g


def rs_capacity() -> tuple[float, float, float]:
    """The AGS critical load: (alpha_c, y_c, m_c).

    y_c maximises g(y) (bounded scalar maximisation, then polished to the root of g'(y)),
    alpha_c = g(y_c)^2 / 2 and m_c = erf(y_c).

    Returns
    -------
    alpha_c, y_c, m_c : float
        0.13791, 1.511, 0.96742 [computed].
    """
    res = optimize.minimize_scalar(lambda y: -rs_gap(y), bounds=(0.5, 3.0), method="bounded",
                                   options={"xatol": 1e-10})
    # g'(y) = (2/sqrt(pi)) e^{-y^2} (1/y + 2y) - erf(y)/y^2; its root is the maximum
    dg = lambda y: 2.0 / _SQRT_PI * math.exp(-y * y) * (1.0 / y + 2.0 * y) - math.erf(y) / (y * y)  # noqa: E731
    y_c = optimize.brentq(dg, res.x - 0.05, res.x + 0.05, xtol=1e-14)
    g_c = float(rs_gap(y_c))
    return 0.5 * g_c * g_c, float(y_c), math.erf(y_c)


def _rs_y(alpha: float, y_c: float, g_c: float) -> float:
    """The retrieval-branch root y >= y_c of g(y) = sqrt(2 alpha) (nan above alpha_c)."""
    if alpha < 0 or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    if alpha == 0:
        return math.inf
    target = math.sqrt(2.0 * alpha)
    if target > g_c:
        return math.nan
    if target == g_c:
        return y_c
    hi = max(2.0 * y_c, 2.0 / target + 2.0)       # g(y) < 1/y < target there
    return optimize.brentq(lambda y: float(rs_gap(y)) - target, y_c, hi, xtol=1e-14, rtol=1e-15)


def rs_overlap(alpha):
    """RS retrieval overlap m(alpha) at T = 0 (AGS 1987).

    Parameters
    ----------
    alpha : float or array_like, >= 0
        Load p / N.

    Returns
    -------
    float or ndarray, same shape as ``alpha``
        m = erf(y) on the retrieval branch (1 at alpha = 0); nan where alpha > alpha_c
        (no retrieval solution).
    """
    _, y_c, _ = rs_capacity()
    g_c = float(rs_gap(y_c))
    a = np.asarray(alpha, dtype=np.float64)
    ys = [_rs_y(float(x), y_c, g_c) for x in a.ravel()]
    out = np.array([math.nan if math.isnan(y) else math.erf(y) for y in ys]).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def rs_equations(alpha: float) -> dict[str, float]:
    """The full RS solution (m, y, C, r) at load ``alpha`` on the retrieval branch.

    ``C`` and ``r`` are recovered from y and m by the original equations
    C = (2/sqrt(pi)) e^{-y^2} y / m and r = (1 - C)^{-2}, so that the caller can check
    m = erf(y), y = m / sqrt(2 alpha r) and C = sqrt(2/(pi alpha r)) e^{-y^2} independently.

    Parameters
    ----------
    alpha : float, 0 < alpha <= alpha_c

    Returns
    -------
    dict with keys ``m``, ``y``, ``C``, ``r`` (floats)
    """
    _, y_c, _ = rs_capacity()
    y = _rs_y(float(alpha), y_c, float(rs_gap(y_c)))
    if not math.isfinite(y):
        raise ValueError(f"no RS retrieval solution at alpha = {alpha} (alpha must be in (0, alpha_c])")
    m = math.erf(y)
    C = 2.0 / _SQRT_PI * math.exp(-y * y) * y / m
    return {"m": m, "y": y, "C": C, "r": (1.0 - C) ** -2}


def rs_branches(alpha_max: float, n: int = 400) -> dict[str, np.ndarray]:
    """Both roots of sqrt(2 alpha) = g(y) as curves, for figures.

    Parameters
    ----------
    alpha_max : float
        The retrieval branch is cut at this load.
    n : int
        Points per branch.

    Returns
    -------
    dict of ndarray
        ``alpha``, ``m`` (retrieval branch y >= y_c, from alpha_c down to about 1e-5)
        and ``alpha_other``, ``m_other`` (the root y < y_c, from 0 to alpha_c).
    """
    _, y_c, _ = rs_capacity()
    y_hi = np.concatenate([np.linspace(y_c, 4.0, n), np.geomspace(4.0, 200.0, n // 4)[1:]])   # (K,)
    y_lo = np.linspace(1e-3, y_c, n)
    a_hi, a_lo = rs_gap(y_hi) ** 2 / 2, rs_gap(y_lo) ** 2 / 2
    keep = a_hi <= alpha_max
    return {"alpha": a_hi[keep], "m": special.erf(y_hi[keep]), "alpha_other": a_lo, "m_other": special.erf(y_lo)}


# --- finite temperature ----------------------------------------------------------------
def mean_field_overlap(T):
    """Largest root of m = tanh(m / T) (alpha -> 0 retrieval overlap; 0 for T >= 1).

    Parameters
    ----------
    T : float or array_like, >= 0

    Returns
    -------
    float or ndarray, same shape as ``T``
    """
    def one(t: float) -> float:
        if t < 0 or not math.isfinite(t):
            raise ValueError(f"T must be a finite number >= 0, got {t}")
        if t >= 1.0:
            return 0.0
        if t == 0.0:
            return 1.0
        # with x = m/T the root solves tanh(x)/x = T; tanh(x)/x falls from 1 (x = 0) to
        # T tanh(1/T) < T (x = 1/T), a bracket that stays well conditioned as T -> 1
        x = optimize.brentq(lambda x: (math.tanh(x) / x if x > 1e-8 else 1.0 - x * x / 3.0) - t,
                            0.0, 1.0 / t, xtol=1e-15, rtol=1e-15)
        return t * x

    a = np.asarray(T, dtype=np.float64)
    out = np.array([one(float(x)) for x in a.ravel()]).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def finite_n_overlap(N: int, T: float) -> float:
    """Exact equilibrium E|m| of a Hebbian net storing ONE pattern, N units, temperature T.

    Enumerates the N + 1 overlap classes: P(k) ∝ C(N, k) exp(N m_k^2 / (2T)) with
    m_k = (2k - N)/N (Boltzmann distribution of E = -(N m^2 - 1)/2, the zero-diagonal
    Hebb energy of one pattern, which Glauber dynamics at temperature T samples).

    Parameters
    ----------
    N : int >= 1
    T : float > 0

    Returns
    -------
    float
        E|m|; tends to :func:`mean_field_overlap` as N grows.
    """
    if N < 1 or T <= 0:
        raise ValueError(f"need N >= 1 and T > 0, got N={N}, T={T}")
    k = np.arange(N + 1)
    m = (2.0 * k - N) / N                                                    # (N+1,)
    logw = special.gammaln(N + 1) - special.gammaln(k + 1) - special.gammaln(N - k + 1) + N * m * m / (2.0 * T)
    w = np.exp(logw - logw.max())
    return float(np.sum(w * np.abs(m)) / np.sum(w))


# --- capacity bounds and Hopfield's noise estimate --------------------------------------
def mceliece_bounds(N):
    """McEliece et al. (1987) asymptotic capacities: (N / (4 ln N), N / (2 ln N)).

    The first: all memories exactly recoverable; the second: most of them [abstract].
    N = 100 -> (5.43, 10.86).
    """
    N = np.asarray(N, dtype=np.float64)
    if np.any(N <= 1):
        raise ValueError("N must be > 1")
    lo, hi = N / (4.0 * np.log(N)), N / (2.0 * np.log(N))
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def storkey_capacity(N):
    """Storkey (1997) rule capacity N / sqrt(2 ln N) -- [recalled, unverified]; N = 100 -> 33.0.

    Not checked against the paper; use only as a qualitative anchor, never as a test oracle.
    """
    N = np.asarray(N, dtype=np.float64)
    if np.any(N <= 1):
        raise ValueError("N must be > 1")
    out = N / np.sqrt(2.0 * np.log(N))
    return float(out) if out.ndim == 0 else out


def hopfield_noise(N, n) -> dict[str, float | np.ndarray]:
    """Hopfield (1982) Eq. 10: single-bit error probability and no-error probability.

    Parameters
    ----------
    N : int or array_like
        Number of units.
    n : int or array_like, >= 1
        Number of stored memories (broadcast against ``N``).

    Returns
    -------
    dict with keys
        ``sigma`` = sqrt((n-1) N / 2), ``p_bit_error`` = 1/2 erfc((N/2)/(sigma sqrt 2)),
        ``p_no_error`` = (1 - P)^N and ``p_no_error_poisson`` = exp(-N P) (the paper's
        approximation); floats for scalar input. N = 100, n = 10 -> 0.00921, 0.396.
    """
    N = np.asarray(N, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(N < 1) or np.any(n < 1):
        raise ValueError("N and n must be >= 1")
    sigma = np.sqrt((n - 1.0) * N / 2.0)
    with np.errstate(divide="ignore"):
        z = (N / 2.0) / (sigma * math.sqrt(2.0))                    # inf for n = 1: no noise
    P = 0.5 * special.erfc(z)
    out = {"sigma": sigma, "p_bit_error": P, "p_no_error": (1.0 - P) ** N, "p_no_error_poisson": np.exp(-N * P)}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}
