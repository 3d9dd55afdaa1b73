"""Run storage: atomic writes, JSON without NaN, npz without pickles."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.store import atomic_write_bytes, new_run_dir, write_json, write_npz


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "a" / "x.json"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"
    assert [q.name for q in p.parent.iterdir()] == ["x.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "m.json"
    write_json(p, {"a": 1})
    with pytest.raises(TypeError):
        write_json(p, {"a": object()})
    assert json.loads(p.read_text()) == {"a": 1}
    assert [q.name for q in tmp_path.iterdir()] == ["m.json"]


def test_json_nan_becomes_null(tmp_path):
    p = write_json(tmp_path / "m.json", {"x": math.nan, "y": np.float64(2.5), "z": np.arange(3)})
    assert json.loads(p.read_text()) == {"x": None, "y": 2.5, "z": [0, 1, 2]}


def test_npz_refuses_objects(tmp_path):
    write_npz(tmp_path / "t.npz", {"a": np.arange(4)})
    with np.load(tmp_path / "t.npz", allow_pickle=False) as z:
        assert z["a"].tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="object"):
        write_npz(tmp_path / "u.npz", {"a": np.array([{}, 1], dtype=object)})


def test_run_dirs_are_unique(tmp_path):
    a = new_run_dir(tmp_path, "s", seed=1, smoke=False)
    b = new_run_dir(tmp_path, "s", seed=1, smoke=False)
    assert a != b and a.is_dir() and b.is_dir()
