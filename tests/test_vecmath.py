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


@numba.njit(error_model="numpy")  # not cached: a test helper
def _apply_t(code, x, out):
    """The type-dispatched pair, as the kernels call them."""
    for i in range(x.shape[0]):
        out[i] = vm.sigmoid_t(x[i]) if code == 1 else vm.tanh_t(x[i])


def _grid32():
    rng = np.random.default_rng(1)
    return np.concatenate([rng.normal(0.0, 4.0, 100000), rng.uniform(-86.0, 86.0, 100000),
                           np.logspace(-30, 1.93, 4000), -np.logspace(-30, 1.93, 4000),
                           [0.0, -0.0, 1e-45, -1e-45]]).astype(np.float32)


def _ulp32(got, exact):
    """|got - exact| in float32 ulps of the exact value (computed in float64)."""
    return np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)


def test_float32_sigmoid_and_tanh_are_within_three_ulp():
    """float32 arithmetic end to end, against float64 references of the same float32 arguments."""
    x = _grid32()
    xd = x.astype(np.float64)
    out = np.empty_like(x)
    _apply_t(1, x, out)
    assert out.dtype == np.float32
    e = np.exp(-np.abs(xd))
    assert _ulp32(out, np.where(xd >= 0, 1.0, e) / (1.0 + e)).max() <= 3.0
    _apply_t(2, x, out)
    assert _ulp32(out, np.tanh(xd)).max() <= 3.0
    # numpy's own float32 formulas, for scale: sigma 1 / (1 + exp(-x)) reaches ~3 ulp, np.tanh ~1.3
    big = np.array([87.5, 1e4, -87.5, -1e4, 9.5, -9.5, 3e38, -3e38], np.float32)
    o = np.empty_like(big)
    _apply_t(1, big, o)
    np.testing.assert_array_equal(o[:4], [1.0, 1.0, 0.0, 0.0])  # exact saturation beyond |x| = 87
    _apply_t(2, big, o)
    np.testing.assert_array_equal(o, np.sign(big))


def test_type_dispatch_keeps_float64_on_the_float64_functions():
    x = _grid()
    a, b = np.empty_like(x), np.empty_like(x)
    for code in (1, 2):
        _apply(code, x, a)
        _apply_t(code, x, b)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("B", [1, 3, 7, 8, 9])
@pytest.mark.parametrize("K", [1, 4, 6, 13])
def test_product_matches_matmul(B, K):
    rng = np.random.default_rng(B * 100 + K)
    X, M = rng.normal(size=(B, K)), rng.normal(size=(K, 11))
    out = np.full((B, 11), np.nan)
    vm.product(X, M, out)
    np.testing.assert_allclose(out, X @ M, rtol=1e-13, atol=1e-13)
