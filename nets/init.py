r"""Weight initialisations for trainable nets (the course notes' list, and modern practice).

For a matrix W of shape (n_out, n_in) (fan_in = n_in, fan_out = n_out):

* ``uniform``:   W_ij ~ U(-r, r) with r = ``init_range`` (the historical papers: Elman 1990
  and Hochreiter & Schmidhuber 1997 use r = 0.1 .. 0.5);
* ``normal``:    W_ij ~ N(0, 1 / fan_in) (LeCun et al. 1998, "Efficient backprop");
* ``xavier``:    W_ij ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), so that
  Var W = 2 / (fan_in + fan_out) (Glorot & Bengio 2010, AISTATS);
* ``he``:        W_ij ~ N(0, 2 / fan_in) (He, Zhang, Ren & Sun 2015, ICCV), for ReLU units;
* ``orthogonal``: W = Q from the QR decomposition of a standard normal matrix, with the
  signs of diag(R) folded into Q so that Q is Haar-distributed (Saxe, McClelland &
  Ganguli 2014; Mezzadri 2007); for non-square shapes the rows or columns are orthonormal;
* ``identity``:  W = I (square only; Le, Jaitly & Hinton 2015, the IRNN);
* ``torch``:     W_ij ~ U(-1/sqrt(H), 1/sqrt(H)) with H the hidden size passed as ``hidden``
  (PyTorch's default for nn.RNN/LSTM/GRU, biases included).

Biases are initialised by the nets themselves (zero, or U(-r, r) for ``uniform``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["INITS", "init_matrix"]

INITS = ("uniform", "normal", "xavier", "he", "orthogonal", "identity", "torch")


def init_matrix(scheme: str, shape: tuple[int, int], *, rng: np.random.Generator,
                init_range: float = 0.1, hidden: int | None = None) -> np.ndarray:
    """A float64 matrix of ``shape`` = (n_out, n_in) drawn by ``scheme`` (see the module doc).

    Parameters
    ----------
    scheme : one of :data:`INITS`
    shape : (n_out, n_in)
    rng : numpy Generator (the only source of randomness)
    init_range : float >= 0, the r of ``uniform``
    hidden : int, the hidden size for ``torch`` (defaults to n_out)
    """
    if scheme not in INITS:
        raise ValueError(f"unknown init {scheme!r}; expected one of {', '.join(INITS)}")
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (n_out, n_in) with both >= 1, got {shape}")
    n_out, n_in = shape
    if scheme == "uniform":
        if not init_range >= 0:
            raise ValueError(f"init_range must be >= 0, got {init_range}")
        return rng.uniform(-init_range, init_range, size=shape)
    if scheme == "normal":
        return rng.normal(0.0, np.sqrt(1.0 / n_in), size=shape)
    if scheme == "xavier":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, size=shape)
    if scheme == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), size=shape)
    if scheme == "torch":
        k = 1.0 / np.sqrt(n_out if hidden is None else hidden)
        return rng.uniform(-k, k, size=shape)
    if scheme == "identity":
        if n_out != n_in:
            raise ValueError(f"the identity init needs a square matrix, got {shape}")
        return np.eye(n_out)
    big, small = max(shape), min(shape)
    q, r = np.linalg.qr(rng.normal(size=(big, small)))
    q = q * np.sign(np.where(np.diag(r) == 0, 1.0, np.diag(r)))
    return q if n_out >= n_in else q.T
