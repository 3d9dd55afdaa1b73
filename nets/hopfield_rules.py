r"""Storage rules for Hopfield nets: patterns -> couplings W (zero diagonal) and a gain.

Every rule takes the patterns as +-1 spins ``X`` of shape (P, N) (0/1 patterns are mapped
by ``xi = 2V - 1`` before) and returns ``(W, scale)``: the field of unit i is
``scale * sum_j W_ij s_j``. A pattern xi is *strictly stable* when every unit's field has
the pattern's sign, xi_i f_i > 0 (see :mod:`sim.protocols.stability`).

* ``hebb`` (Hopfield 1982, Eq. 2) [paper]: W = X^T X with W_ii = 0 and scale = 1/N, so
  that ``scale * W`` is the normalisation (1/N) sum_mu xi^mu xi^mu^T of Amit, Gutfreund &
  Sompolinsky. W is integer-valued: it is exact in float64, int32 or int16 (|W_ij| <= P),
  so local fields are computed exactly and ties are resolved identically everywhere.
  Incremental: storing one more pattern adds xi xi^T (:func:`store`). Capacity (McEliece,
  Posner, Rodemich & Venkatesh 1987, IEEE Trans. IT 33:461) [abstract]: n/(2 ln n) for
  most memories, n/(4 ln n) for all of them to be exactly recoverable (natural log
  [recalled, unverified]; 10.9 and 5.4 at n = 100).

* ``storkey`` (Storkey 1997, ICANN'97, LNCS 1327) [abstract, partial; rule in its
  standard form]: local, incremental and immediate. Storing pattern nu changes, for
  i != j,

      w_ij^nu = w_ij^{nu-1} + (1/n) xi_i xi_j - (1/n) xi_i h_ji - (1/n) h_ij xi_j,
      h_ij = sum_{k != i, j} w_ik^{nu-1} xi_k,

  starting from W = 0, with n = N and scale = 1; the diagonal is kept at zero (it never
  enters h_ij for i != j, so zeroing it changes no other weight). Vectorised with the full
  field H_i = sum_{k != i} w_ik xi_k: h_ij = H_i - w_ij xi_j, hence (using xi_j^2 = 1)
  dW = (xi xi^T - xi H^T - H xi^T + W + W^T) / n off the diagonal. Capacity
  n / sqrt(2 ln n) (33.0 at n = 100) [recalled, unverified].

* ``pseudo_inverse`` (projection rule; Personnaz, Guyon & Dreyfus 1985, J. Phys. Lett.
  46:L359; Kanter & Sompolinsky 1987, PRA 35:380 [abstract]): W = X^T (X X^T)^{-1} X,
  the orthogonal projector onto the span of the patterns, then W_ii = 0; scale = 1.
  Since W_full xi = xi, the zero-diagonal field of a stored pattern is
  f_i = (1 - W_ii) xi_i with W_ii = ||W_full e_i||^2 in [0, 1]: every stored pattern is
  strictly stable unless a unit vector e_i lies in the patterns' span (W_ii = 1, a tie
  f_i = 0, still a fixed point of the tie-keeping dynamics). For P <= N - 1 independent
  random patterns this does not happen in practice, so every pattern is a fixed point
  up to p = N - 1 (Kanter-Sompolinsky: capacity alpha = 1). At rank N the projector is
  the identity and the zero-diagonal couplings vanish. The projector is computed from the
  SVD of X (no inverse of the possibly ill-conditioned Gram matrix X X^T): W = V_r V_r^T
  with the r right singular vectors whose singular values exceed
  ``max(P, N) * eps * s_max`` (numpy's rank tolerance). Linearly dependent patterns are
  therefore allowed: W is the projector onto their span, i.e. Xi^T (Xi Xi^T)^+ Xi, and
  every pattern still satisfies W_full xi = xi. Not incremental in zero-diagonal form (the
  projector's diagonal is lost).

* ``perceptron`` (the iterative perceptron rule for attractor nets; Gardner 1988,
  J. Phys. A 21:257, with her learning algorithm and its convergence proof
  [recalled, unverified]): each unit i learns its own row w_i (w_ii = 0) so that every
  pattern has a stability

      gamma_i^mu = xi_i^mu h_i^mu / ||w_i||,     h_i^mu = sum_j w_ij xi_j^mu,

  above ``margin`` (kappa). This is Gardner's kappa: with the normalisation
  sum_j J_ij^2 = N it reads xi_i sum_j J_ij xi_j / sqrt(N). Patterns are visited in a
  fixed order (mu = 1..P, epoch after epoch); whenever xi_i^mu h_i^mu <= margin ||w_i||
  (always true at w_i = 0) the row is updated, w_ij += (lr / N) xi_i^mu xi_j^mu for
  j != i. Training stops after an epoch with no update (every stability then exceeds the
  margin) or after ``max_epochs``. Rows are independent, so all units learn in lockstep.
  Starting from W = 0 with this normalised criterion, ``lr`` only rescales W. The
  capacity for margin 0 is alpha = 2 (Gardner). W is in general asymmetric: the net then
  has no energy function (asynchronous dynamics may cycle), but the stored patterns are
  still fixed points. scale = 1. Deterministic: no random numbers are drawn.
  :func:`perceptron_train` also reports whether it converged and after how many epochs.

* ``clipped_hebb`` (bounded synapses, "a memory which forgets": G. Parisi 1986, J. Phys.
  A 19:L617 [abstract; rule in its usual form]): each new pattern is added Hebb-wise and
  every coupling is then clipped to a maximum strength,

      J_ij <- clip(J_ij + xi_i xi_j / sqrt(N), -A, A),      J_ii = 0,

  starting from J = 0. The couplings are kept as W = sqrt(N) J (integer increments,
  clipped at K = A sqrt(N)) with scale = 1/N, so the field scale * W s equals
  (1/sqrt(N)) J s; while no coupling has reached the bound (K >= P) W is *exactly* the
  Hebb matrix, field for field, tie for tie. The bound turns the catastrophic blackout
  of Hebb past alpha_c ~ 0.138 into a palimpsest: old patterns are overwritten and only
  the most recent ones are retrieved, at any number stored. The retrievable number of
  recent patterns is ~0.04 N at the best bound, A ~ 0.4 in these units [recalled,
  unverified; Parisi 1986 and the analysis of J. L. van Hemmen, G. Keller & R. Kuehn 1988
  Europhys. Lett. 5:663]; :mod:`sim.protocols.retention` measures it (scenario
  ``retention_attractor``). Incremental (:func:`store`).

* ``decay_hebb`` (the "marginalist" / exponential-forgetting palimpsest: J. P. Nadal,
  G. Toulouse, J. P. Changeux & S. Dehaene 1986, Europhys. Lett. 1:535; M. Mezard,
  J. P. Nadal & G. Toulouse 1986, J. Physique 47:1457 [abstracts; rule in its usual
  form]): before each new pattern the old couplings decay by a factor lambda,

      W <- lambda W + xi xi^T,      lambda = exp(-1 / (tau N)),      scale = 1/N,

  so a pattern of age a carries weight lambda^a: memories fade over ~tau N patterns and
  the net never blacks out. lambda = 1 (tau = inf) is Hebb exactly. The stationary
  capacity is ~0.05 N at the best tau [recalled, unverified]. Incremental.

:data:`RULES` maps a rule name to a :class:`Rule`: the function, the schema of its
``[train]`` keys, and whether its weights are integer-valued (then ``weights = "int16"``
or ``"int32"`` may store them exactly in less memory).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from sim.schema import Key

__all__ = ["Rule", "RULES", "hebb_weights", "storkey_weights", "clipped_hebb_weights", "decay_hebb_weights", "pseudo_inverse_weights",
           "perceptron_weights", "perceptron_train", "PerceptronResult", "store"]

_BLOCK = 2048  # tile side when building large integer weight matrices (a 16 MB float32 tile)


@dataclass(frozen=True)
class Rule:
    """A storage rule: ``fn(X, **keys) -> (W, scale)`` with X (P, N) int8 spins."""

    fn: Callable[..., tuple[np.ndarray, float]]
    keys: dict[str, Key] = field(default_factory=dict)
    integer: bool = False
    doc: str = ""


def _spins(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"patterns must have shape (P, N) with N >= 1, got {X.shape}")
    if not np.all((X == 1) | (X == -1)):
        raise ValueError("patterns must be +-1 spins (map 0/1 patterns by 2V - 1)")
    return X


def hebb_weights(X: np.ndarray, *, dtype=np.float64) -> tuple[np.ndarray, float]:
    """Hebbian couplings W = X^T X (zero diagonal) of +-1 patterns X (P, N), and 1/N.

    Parameters
    ----------
    X : ndarray (P, N) of +-1
    dtype : float64, int32 or int16
        Integer dtypes hold the weights exactly (|W_ij| <= P must fit: P <= 32767 for
        int16). They are built tile by tile: each _BLOCK x _BLOCK tile of the upper
        triangle is a float product of two column slices of X (exact: every partial sum
        is an integer of magnitude <= P < 2^24), cast, and mirrored, so the only large
        array is W itself (N = 20,000 in int16: 800 MB).
    """
    X = np.asarray(X)
    P, N = X.shape
    dtype = np.dtype(dtype)
    if dtype.kind == "i" and P > np.iinfo(dtype).max:
        raise ValueError(f"{P} patterns overflow {dtype.name} Hebbian weights (at most {np.iinfo(dtype).max})")
    if dtype == np.float64:
        Xf = X.astype(np.float64)
        W = Xf.T @ Xf
    else:
        ftype = np.float32 if P < 2**24 else np.float64
        W = np.empty((N, N), dtype=dtype)
        for a in range(0, N, _BLOCK):
            Xa = X[:, a:a + _BLOCK].astype(ftype)                    # (P, <= B)
            for c in range(a, N, _BLOCK):
                tile = Xa.T @ X[:, c:c + _BLOCK].astype(ftype)       # (<= B, <= B)
                W[a:a + _BLOCK, c:c + _BLOCK] = tile
                if c != a:
                    W[c:c + _BLOCK, a:a + _BLOCK] = tile.T
    np.fill_diagonal(W, 0)
    return W, 1.0 / N


# --- incremental rules -------------------------------------------------------------------
def _hebb_add(W: np.ndarray, xi: np.ndarray) -> np.ndarray:
    if W.dtype.kind == "i":
        lim = np.iinfo(W.dtype).max
        if W.size and int(np.abs(W).max()) >= lim:
            raise ValueError(f"one more pattern overflows {W.dtype.name} Hebbian weights")
        out = W + np.outer(xi, xi).astype(W.dtype)
    else:
        x = xi.astype(np.float64)
        out = W + np.outer(x, x)
    np.fill_diagonal(out, 0)
    return out


def _storkey_add(W: np.ndarray, xi: np.ndarray) -> np.ndarray:
    x = xi.astype(np.float64)                      # (N,)
    n = x.size
    d = np.diagonal(W)
    H = W @ x - d * x                              # (N,) H_i = sum_{k != i} w_ik x_k
    h = H[:, None] - W * x[None, :]                # (N, N) h_ij = sum_{k != i,j} w_ik x_k (i != j)
    A = x[:, None] * h.T                           # (N, N) A_ij = x_i h_ji, so A^T_ij = h_ij x_j
    out = W + (np.outer(x, x) - (A + A.T)) / n     # A + A^T: symmetric W stays bit-exactly symmetric
    np.fill_diagonal(out, 0.0)
    return out


def _clip_bound(N: int, bound: float) -> float:
    if not (np.isfinite(bound) and bound > 0):
        raise ValueError(f"clipped_hebb: bound A must be a finite number > 0, got {bound!r}")
    return float(bound) * np.sqrt(N)  # K: the bound A in units of the integer increments (W = sqrt(N) J)


def _clipped_add(W: np.ndarray, xi: np.ndarray, *, bound: float = 0.4) -> np.ndarray:
    K = _clip_bound(xi.size, bound)
    x = xi.astype(np.float64)
    out = np.clip(W + np.outer(x, x), -K, K)       # integer-valued below the bound: exact
    np.fill_diagonal(out, 0.0)
    return out


def _decay_lambda(N: int, tau: float) -> float:
    if not (tau > 0):
        raise ValueError(f"decay_hebb: tau must be > 0 (inf for Hebb), got {tau!r}")
    return float(np.exp(-1.0 / (tau * N)))


def _decay_add(W: np.ndarray, xi: np.ndarray, *, tau: float = 0.2) -> np.ndarray:
    lam = _decay_lambda(xi.size, tau)
    x = xi.astype(np.float64)
    out = (W * lam if lam != 1.0 else W) + np.outer(x, x)
    np.fill_diagonal(out, 0.0)
    return out


_INCREMENTAL = {"hebb": _hebb_add, "storkey": _storkey_add, "clipped_hebb": _clipped_add, "decay_hebb": _decay_add}


def store(W: np.ndarray, xi: np.ndarray, rule: str = "hebb", **keys) -> np.ndarray:
    """Couplings after storing one more pattern ``xi`` into ``W`` by an incremental rule.

    Parameters
    ----------
    W : ndarray (N, N)
        The rule's couplings so far (as returned by the rule, before its ``scale``);
        ``np.zeros((N, N))`` for an empty memory. Not modified.
    xi : ndarray (N,) of +-1
    rule : {"hebb", "storkey", "clipped_hebb", "decay_hebb"}
    keys
        The rule's options (``bound`` for clipped_hebb, ``tau`` for decay_hebb).

    Returns
    -------
    ndarray (N, N)
        New couplings with a zero diagonal (integer W stays integer for Hebb). Storing
        patterns one by one from zero equals the batch rule (exactly for Hebb; Storkey's
        batch rule is this loop).
    """
    if rule not in _INCREMENTAL:
        raise ValueError(f"no incremental form of rule {rule!r}; incremental rules: {', '.join(_INCREMENTAL)}")
    W = np.asarray(W)
    xi = _spins(np.atleast_2d(xi))[0]
    if W.ndim != 2 or W.shape != (xi.size, xi.size):
        raise ValueError(f"W must have shape ({xi.size}, {xi.size}), got {W.shape}")
    if rule in ("storkey", "clipped_hebb", "decay_hebb"):
        W = W.astype(np.float64, copy=False)
    return _INCREMENTAL[rule](W, xi, **keys)


def clipped_hebb_weights(X: np.ndarray, *, bound: float = 0.4) -> tuple[np.ndarray, float]:
    """Parisi's (1986) bounded Hebb couplings of +-1 patterns X (P, N), stored in order.

    Parameters
    ----------
    X : ndarray (P, N) of +-1
        Row 0 is stored first (the oldest memory).
    bound : float > 0
        A: the maximum |J_ij| with J = W / sqrt(N) (increments of 1/sqrt(N) per pattern).

    Returns
    -------
    W : ndarray (N, N) float64
        sqrt(N) J: symmetric, zero diagonal, |W_ij| <= A sqrt(N); integer-valued (= Hebb)
        while no coupling has reached the bound.
    scale : float
        1/N.
    """
    X = _spins(X)
    N = X.shape[1]
    _clip_bound(N, bound)
    W = np.zeros((N, N))
    for xi in X:
        W = _clipped_add(W, xi, bound=bound)
    return W, 1.0 / N


def decay_hebb_weights(X: np.ndarray, *, tau: float = 0.2) -> tuple[np.ndarray, float]:
    """Exponentially forgetting Hebb couplings W = sum_mu lambda^(P-1-mu) xi^mu xi^mu^T, lambda = exp(-1/(tau N)).

    Parameters
    ----------
    X : ndarray (P, N) of +-1
        Row 0 is stored first (the oldest memory, weight lambda^(P-1)).
    tau : float > 0
        Forgetting time in units of N patterns (``inf``: Hebb).

    Returns
    -------
    W : ndarray (N, N) float64, symmetric, zero diagonal
    scale : float
        1/N.
    """
    X = _spins(X)
    N = X.shape[1]
    _decay_lambda(N, tau)
    W = np.zeros((N, N))
    for xi in X:
        W = _decay_add(W, xi, tau=tau)
    return W, 1.0 / N


def storkey_weights(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Storkey (1997) couplings of +-1 patterns X (P, N), stored in order; scale 1.

    Returns
    -------
    W : ndarray (N, N) float64, zero diagonal, symmetric
    scale : float
        1.0
    """
    X = _spins(X)
    N = X.shape[1]
    W = np.zeros((N, N))
    for xi in X:
        W = _storkey_add(W, xi)
    return W, 1.0


def pseudo_inverse_weights(X: np.ndarray) -> tuple[np.ndarray, float]:
    """Projection-rule couplings: the projector onto span(X) with a zeroed diagonal; scale 1.

    Parameters
    ----------
    X : ndarray (P, N) of +-1

    Returns
    -------
    W : ndarray (N, N) float64
        ``X^T (X X^T)^+ X`` computed as ``V_r V_r^T`` from the SVD of X (rank r by
        numpy's tolerance), exactly symmetric, zero diagonal.
    scale : float
        1.0
    """
    X = _spins(X).astype(np.float64)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)       # Vt (min(P, N), N)
    tol = s[0] * max(X.shape) * np.finfo(np.float64).eps
    V = Vt[s > tol]                                        # (r, N) orthonormal rows
    W = V.T @ V
    W = 0.5 * (W + W.T)  # bit-exact symmetry (BLAS need not return it)
    np.fill_diagonal(W, 0.0)
    return W, 1.0


class PerceptronResult(NamedTuple):
    """Outcome of :func:`perceptron_train`."""

    W: np.ndarray            # (N, N) float64 couplings, zero diagonal, in general asymmetric
    converged: bool          # every stability exceeds the margin
    epochs: int              # epochs run (the last one had no update when converged)
    updates: int             # row updates made
    min_stability: float     # min over (mu, i) of xi_i h_i / ||w_i|| (-inf for a zero row)


def perceptron_train(X: np.ndarray, *, margin: float = 0.0, lr: float = 1.0,
                     max_epochs: int = 100) -> PerceptronResult:
    """Train every row of W by the perceptron rule with margin (Gardner 1988).

    Parameters
    ----------
    X : ndarray (P, N) of +-1
    margin : float >= 0
        Required stability kappa: training ends when xi_i h_i > margin ||w_i|| for all
        patterns and units.
    lr : float > 0
        Step: w_i += (lr / N) xi_i xi (w_ii stays 0).
    max_epochs : int >= 1

    Returns
    -------
    PerceptronResult
    """
    X = _spins(X)
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(max_epochs, bool) or int(max_epochs) != max_epochs or max_epochs < 1:
        raise ValueError(f"max_epochs must be an integer >= 1, got {max_epochs!r}")
    Xf = X.astype(np.float64)
    P, N = Xf.shape
    # W = (lr / N) K with K integer-valued: fields K xi and squared norms are exact integers
    # in float64, so ties (xi_i h_i = 0) are seen as ties, never as +-1e-16 rounding noise.
    K = np.zeros((N, N))
    diag = np.arange(N)
    updates, epochs, converged = 0, 0, False
    while epochs < max_epochs and not converged:
        epochs += 1
        changed = 0
        for xi in Xf:
            h = K @ xi                                    # (N,)
            norm = np.sqrt(np.einsum("ij,ij->i", K, K))   # (N,) ||w_i|| N / lr
            need = xi * h <= margin * norm                # rows to update
            k = int(np.count_nonzero(need))
            if k:
                K[need] += xi[need][:, None] * xi[None, :]
                K[diag[need], diag[need]] = 0.0
                changed += k
        updates += changed
        converged = changed == 0
    norm = np.sqrt(np.einsum("ij,ij->i", K, K))
    G = Xf * (Xf @ K.T)                                   # (P, N) xi_i^mu h_i^mu, in units lr / N
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.where(norm > 0, G / np.where(norm > 0, norm, 1.0), -np.inf)
    W = K * (lr / N)
    return PerceptronResult(W, bool(np.all(G > margin * norm)), epochs, updates, float(gamma.min()))


def perceptron_weights(X: np.ndarray, *, margin: float = 0.0, lr: float = 1.0,
                       max_epochs: int = 100) -> tuple[np.ndarray, float]:
    """The registry form of :func:`perceptron_train`: ``(W, 1.0)``."""
    return perceptron_train(X, margin=margin, lr=lr, max_epochs=max_epochs).W, 1.0


RULES: dict[str, Rule] = {
    "hebb": Rule(lambda X: hebb_weights(X), integer=True, doc="Hopfield 1982, Eq. 2"),
    "storkey": Rule(storkey_weights, doc="Storkey 1997: local, incremental, capacity ~ n / sqrt(2 ln n)"),
    "pseudo_inverse": Rule(pseudo_inverse_weights,
                           doc="projection rule (Personnaz-Guyon-Dreyfus 1985; Kanter-Sompolinsky 1987)"),
    "clipped_hebb": Rule(clipped_hebb_weights, keys={
        "bound": Key("float", default=0.4, min=1e-9, doc="maximum |J_ij|, J = W / sqrt(N) (Parisi 1986)"),
    }, doc="bounded Hebb palimpsest (Parisi 1986): recent patterns kept, old ones forgotten"),
    "decay_hebb": Rule(decay_hebb_weights, keys={
        "tau": Key("float", default=0.2, min=1e-9, doc="forgetting time in units of N patterns: lambda = exp(-1/(tau N))"),
    }, doc="exponentially forgetting Hebb palimpsest (Nadal-Toulouse-Changeux-Dehaene; Mezard-Nadal-Toulouse 1986)"),
    "perceptron": Rule(perceptron_weights, keys={
        "margin": Key("float", default=0.0, min=0.0, doc="required stability kappa = xi_i h_i / ||w_i||"),
        "lr": Key("float", default=1.0, min=1e-12, doc="step lr / N per update (> 0)"),
        "max_epochs": Key("int", default=100, min=1, doc="passes over the patterns at most"),
    }, doc="perceptron rule with margin (Gardner 1988); asymmetric W"),
}
