"""Weight initialisations (nets/init.py): moments, orthogonality, errors."""
import numpy as np
import pytest

from nets.init import INITS, init_matrix


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("scheme,shape,var", [
    ("normal", (400, 100), 1 / 100),
    ("he", (400, 100), 2 / 100),
    ("xavier", (300, 100), 2 / 400),
    ("uniform", (300, 100), 0.3 ** 2 / 3),
    ("torch", (300, 100), (1 / np.sqrt(300)) ** 2 / 3),
])
def test_variance_matches_the_definition(scheme, shape, var):
    W = init_matrix(scheme, shape, rng=_rng(), init_range=0.3)
    n = W.size
    # the sample variance of n iid draws has relative sd ~ sqrt(2/n) (normal) or less
    assert abs(W.var() / var - 1) < 5 * np.sqrt(2 / n)
    assert abs(W.mean()) < 5 * np.sqrt(var / n)


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7)])
def test_orthogonal_rows_or_columns(shape):
    W = init_matrix("orthogonal", shape, rng=_rng(1))
    G = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(G, np.eye(min(shape)), atol=1e-12)


def test_identity_and_bounds():
    np.testing.assert_array_equal(init_matrix("identity", (4, 4), rng=_rng()), np.eye(4))
    a = np.sqrt(6 / 30)
    W = init_matrix("xavier", (20, 10), rng=_rng())
    assert np.all(np.abs(W) <= a)


def test_same_rng_same_matrix():
    for s in INITS:
        shape = (4, 4)
        np.testing.assert_array_equal(init_matrix(s, shape, rng=_rng(3)), init_matrix(s, shape, rng=_rng(3)))


def test_errors():
    with pytest.raises(ValueError, match="unknown init"):
        init_matrix("glorot", (2, 2), rng=_rng())
    with pytest.raises(ValueError, match="square"):
        init_matrix("identity", (2, 3), rng=_rng())
    with pytest.raises(ValueError, match="shape"):
        init_matrix("normal", (0, 3), rng=_rng())
