r"""Storage rules for Hopfield nets: patterns -> couplings W (zero diagonal) and a gain.

Every rule takes the patterns as +-1 spins ``X`` of shape (P, N) (0/1 patterns are mapped
by ``xi = 2V - 1`` before) and returns ``(W, scale)``: the field of unit i is
``scale * sum_j W_ij s_j``.

* ``hebb`` (Hopfield 1982, Eq. 2): W = X^T X with W_ii = 0 and scale = 1/N, so that
  ``scale * W`` is the normalisation (1/N) sum_mu xi^mu xi^mu^T of Amit, Gutfreund &
  Sompolinsky. W is integer-valued: it is exact in float64, int32 or int16 (|W_ij| <= P),
  so local fields are computed exactly and ties are resolved identically everywhere.
  Incremental: storing one more pattern adds xi xi^T.

:data:`RULES` maps a rule name to a :class:`Rule`: the function, the schema of its
``[train]`` keys, and whether its weights are integer-valued (then ``weights = "int16"``
or ``"int32"`` may store them exactly in less memory).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sim.schema import Key

__all__ = ["Rule", "RULES", "hebb_weights"]

_BLOCK = 2048  # rows per block when building large integer weight matrices


@dataclass(frozen=True)
class Rule:
    """A storage rule: ``fn(X, **keys) -> (W, scale)`` with X (P, N) int8 spins."""

    fn: Callable[..., tuple[np.ndarray, float]]
    keys: dict[str, Key] = field(default_factory=dict)
    integer: bool = False
    doc: str = ""


def hebb_weights(X: np.ndarray, *, dtype=np.float64) -> tuple[np.ndarray, float]:
    """Hebbian couplings W = X^T X (zero diagonal) of +-1 patterns X (P, N), and 1/N.

    Parameters
    ----------
    X : ndarray (P, N) of +-1
    dtype : float64, int32 or int16
        Integer dtypes hold the weights exactly (|W_ij| <= P must fit: P <= 32767 for
        int16). Large matrices are built in row blocks of float products (exact: every
        partial sum is an integer below 2^24) and cast, so no N x N float temporary is made.
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
        Xf = X.astype(np.float32 if P < 2**24 else np.float64)
        W = np.empty((N, N), dtype=dtype)
        for a in range(0, N, _BLOCK):
            W[a:a + _BLOCK] = (Xf[:, a:a + _BLOCK].T @ Xf).astype(dtype)
    np.fill_diagonal(W, 0)
    return W, 1.0 / N


RULES: dict[str, Rule] = {
    "hebb": Rule(lambda X: hebb_weights(X), integer=True, doc="Hopfield 1982, Eq. 2"),
}
