"""Data sets that ship inside optional packages (no download, ever).

* :func:`digits`: the 8x8 handwritten digits of scikit-learn's ``load_digits`` (1797
  images, 16 grey levels; the data ship inside the scikit-learn wheel). scikit-learn is an
  optional extra of rnnlab (``pip install "rnnlab[digits]"``); without it,
  :class:`MissingExtra` (a :class:`~sim.errors.UserError`: the command line prints the
  message and exits with status 2).
* :func:`split`: a seeded train/test split of the rows.

Reference: E. Alpaydin, C. Kaynak, "Optical recognition of handwritten digits", UCI
repository (1998) [the source of scikit-learn's copy].
"""
from __future__ import annotations

import importlib

import numpy as np

from .errors import UserError

__all__ = ["MissingExtra", "DIGITS_EXTRA", "require_sklearn", "digits", "split"]

#: the pip command that installs what the 8x8 digits need
DIGITS_EXTRA = 'pip install "rnnlab[digits]"'


class MissingExtra(UserError):
    """An optional dependency is not installed; the message names the extra that provides it."""


def require_sklearn(what: str = "the 8x8 digits"):
    """The ``sklearn.datasets`` module, or :class:`MissingExtra` naming the extra."""
    try:
        return importlib.import_module("sklearn.datasets")
    except ImportError:
        raise MissingExtra(f"{what} come from scikit-learn (its bundled copy, no download), which is not "
                           f"installed; it is an optional extra of rnnlab: {DIGITS_EXTRA}") from None


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits: X (1797, 64) float64 in [0, 1] (grey level / 16), y (1797,) int64 labels."""
    data = require_sklearn().load_digits()
    return np.asarray(data.data, dtype=np.float64) / 16.0, np.asarray(data.target, dtype=np.int64)


def split(n: int, test_fraction: float, *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random split of ``range(n)``: (train indices, test indices), the test set round(f n) rows."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n_test = int(round(test_fraction * n))
    if not 0 < n_test < n:
        raise ValueError(f"a split of {n} rows with test_fraction {test_fraction} leaves an empty side")
    perm = rng.permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])
