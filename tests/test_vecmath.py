"""The shared branch-free math of nets/_kernels/vecmath.py against numpy."""
import numpy as np
import pytest

from nets._kernels import vecmath as vm
import numba


@numba.njit(error_model="numpy")  # not cached: a test helper
def _apply(code, x, out):
    for i in range(x.shape[0]):
        if code == 0:
            out[i] = vm.exp_neg(abs(x[i]))
        elif code == 1:
            out[i] = vm.sigmoid(x[i])
        else:
            out[i] = vm.tanh(x[i])


def _grid():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0.0, 4.0, 20000), rng.uniform(-1e-9, 1e-9, 1000),
                           np.linspace(-40.0, 40.0, 8001), [0.0, -0.0, 5e-324, -1e-300]])


def test_tanh_is_within_a_few_ulp_of_numpy():
    x = _grid()
    out = np.empty_like(x)
    _apply(2, x, out)
    t = np.tanh(x)
    ulp = np.abs(out - t) / np.spacing(np.maximum(np.abs(t), 1e-300))
    assert ulp.max() <= 16
    big = np.array([19.5, 100.0, 1e300, -25.0, -1e300])  # finite x only (inf: nan)
    o = np.empty_like(big)
    _apply(2, big, o)
    np.testing.assert_array_equal(o, np.sign(big))  # exact saturation


def test_sigmoid_and_exp_neg_are_accurate_and_saturate_exactly():
    x = _grid()
    out = np.empty_like(x)
    _apply(1, x, out)
    ref = 1.0 / (1.0 + np.exp(-x))
    assert np.max(np.abs(out - ref) / ref) < 1e-13
    _apply(0, x, out)
    assert np.max(np.abs(out - np.exp(-np.abs(x))) / np.exp(-np.abs(x))) < 1e-13
    big = np.array([709.0, 1000.0, -709.0, -1000.0, 0.0])
    o = np.empty_like(big)
    _apply(1, big, o)
    np.testing.assert_array_equal(o, [1.0, 1.0, 0.0, 0.0, 0.5])


@pytest.mark.parametrize("B", [1, 3, 7, 8, 9])
@pytest.mark.parametrize("K", [1, 4, 6, 13])
def test_product_matches_matmul(B, K):
    rng = np.random.default_rng(B * 100 + K)
    X, M = rng.normal(size=(B, K)), rng.normal(size=(K, 11))
    out = np.full((B, 11), np.nan)
    vm.product(X, M, out)
    np.testing.assert_allclose(out, X @ M, rtol=1e-13, atol=1e-13)
