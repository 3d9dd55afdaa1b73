"""R2 support: the 8x8 digits (optional scikit-learn), the message when it is missing,
the seeded split, and the one-bit pseudo-likelihood as an unbiased estimate of the exact one."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nets.rbm import RBM, pseudo_likelihood
from sim import datasets
from sim.cli import main

R2 = Path(__file__).resolve().parent.parent / "scenarios" / "rbm_digits_pseudo_ll.toml"


def _hide_sklearn(monkeypatch):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)   # "import sklearn..." now raises ImportError


def test_missing_scikit_learn_is_a_user_error_naming_the_extra(monkeypatch, tmp_path, capsys):
    _hide_sklearn(monkeypatch)
    with pytest.raises(datasets.MissingExtra, match=r'pip install "rnnlab\[digits\]"'):
        datasets.digits()
    code = main(["run", str(R2), "--smoke", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert 'pip install "rnnlab[digits]"' in err and "rbm_digits_pseudo_ll.toml" in err
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir())                  # stopped before any run directory was made


def test_digits_and_split():
    pytest.importorskip("sklearn")
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0 and np.all(np.isin(np.round(X * 16), np.arange(17)))
    tr, te = datasets.split(len(X), 0.2, rng=np.random.default_rng(0))
    assert len(te) == 359 and len(tr) == 1438
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(1797))
    tr2, te2 = datasets.split(len(X), 0.2, rng=np.random.default_rng(0))
    assert np.array_equal(te, te2)
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.split(10, 1.0, rng=np.random.default_rng(0))


def test_one_bit_pseudo_likelihood_is_unbiased_for_the_exact_one():
    """E over the flipped bit of V log sigma(F(v~) - F(v)) = sum_i log P(v_i | v_-i)."""
    rng = np.random.default_rng(1)
    rbm = RBM(rng.normal(scale=0.5, size=(12, 7)), rng.normal(size=12), rng.normal(size=7))
    X = (rng.random((40, 12)) < 0.4).astype(np.float64)
    exact = pseudo_likelihood(rbm.params, X)
    draws = np.array([pseudo_likelihood(rbm.params, X, rng=rng) for _ in range(3000)])
    se = draws.std(ddof=1) / np.sqrt(len(draws))
    assert abs(draws.mean() - exact) < 5 * se
    # the exact value against its definition, bit by bit, by brute force
    from nets.rbm import free_energy

    F = free_energy(rbm.params, X)
    brute = np.zeros(len(X))
    for i in range(12):
        Xi = X.copy()
        Xi[:, i] = 1 - Xi[:, i]
        brute += -np.logaddexp(0.0, -(free_energy(rbm.params, Xi) - F))
    assert abs(exact - brute.mean()) < 1e-12
