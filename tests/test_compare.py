"""retention.json format (sim.retention) and ``rnnlab compare``."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.retention import (RETENTION_FILE, RetentionFormatError, normalise, read_retention, retention_curve,
                           validate_retention, write_retention)


def _curve(arch="lstm", family="sequence", x=(1, 2, 4, 8), y=(0.9, 0.7, 0.4, 0.0), half=0.05, **kw):
    y = np.asarray(y, float)
    return retention_curve(arch, family, x, y, y - half, y + half, 0.25 + 0.75 * y,
                           raw_label=kw.pop("raw_label", "accuracy"), n=kw.pop("n", 5), detail=kw or None)


def test_normalise_maps_chance_to_zero_and_perfect_to_one():
    assert normalise(0.25, 0.25) == 0.0 and normalise(1.0, 0.25) == 1.0
    assert normalise(0.625, 0.25) == pytest.approx(0.5)
    np.testing.assert_allclose(normalise([0.5, 1.0], 0.5), [0.0, 1.0])
    with pytest.raises(ValueError):
        normalise(0.3, 1.0, 1.0)


def test_write_read_round_trip_with_nan(tmp_path):
    c = _curve(y=(1.0, float("nan"), 0.2, 0.0), H=16)
    path = write_retention(tmp_path / "run", [c, _curve("hopfield-hebb", "attractor", x=(0, 5, 10), y=(1, 1, 0),
                                                        raw_label="overlap m")], scenario="RT")
    assert path == tmp_path / "run" / RETENTION_FILE
    assert "NaN" not in path.read_text()  # strict JSON: NaN stored as null
    doc = read_retention(tmp_path / "run")  # a run directory or the file itself
    assert read_retention(path)["curves"][0]["x"] == doc["curves"][0]["x"]
    assert doc["scenario"] == "RT" and len(doc["curves"]) == 2
    got = doc["curves"][0]
    assert got["arch"] == "lstm" and got["detail"] == {"H": 16} and got["n"] == 5
    assert math.isnan(got["y"][1]) and got["y"][2] == pytest.approx(0.2)
    assert doc["curves"][1]["x"] == [0.0, 5.0, 10.0]


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c.update(family="gated"), "family"),
    (lambda c: c.update(y=c["y"][:-1]), ".y"),
    (lambda c: c.update(x=[1, 1, 2, 3]), ".x"),
    (lambda c: c.update(x=[-1, 1, 2, 3]), ".x"),
    (lambda c: c.update(n=0), ".n"),
    (lambda c: c.update(lo=[0.95, 0, 0, 0]), "lo/hi[0]"),
    (lambda c: c.update(colour="red"), ".colour"),
    (lambda c: c.pop("raw_label"), ".raw_label"),
    (lambda c: c.update(raw=["a", 1, 2, 3]), ".raw[0]"),
])
def test_schema_errors_name_the_key(mutate, key):
    c = _curve()
    mutate(c)
    with pytest.raises(RetentionFormatError, match=key.replace("[", r"\[").replace("]", r"\]")) as err:
        validate_retention({"scenario": "RT", "x_label": "a", "y_label": "b", "curves": [c]}, source="f.json")
    assert "f.json" in str(err.value)


def test_read_rejects_bad_files(tmp_path):
    with pytest.raises(RetentionFormatError, match="cannot read"):
        read_retention(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RetentionFormatError, match="not valid JSON"):
        read_retention(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text(json.dumps({"scenario": "x", "x_label": "a", "y_label": "b",
                                                     "curves": []}))
    with pytest.raises(RetentionFormatError, match="curves"):
        read_retention(tmp_path / "empty.json")


def test_save_run_writes_retention_json_for_a_protocol_with_curves(tmp_path, monkeypatch):
    from sim.protocols import PROTOCOLS
    from sim.scenario import load_scenario
    from sim.store import save_run
    from sim.sweep import run_scenario

    sc = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "mcculloch_pitts_1943_gates.toml",
                       smoke=True)
    result = run_scenario(sc, figures=False, progress=False)
    save_run(tmp_path / "plain", sc, result, started="now")
    assert not (tmp_path / "plain" / RETENTION_FILE).exists()  # no retention() -> no file

    def retention(self, scenario, points):
        return [_curve("mp-latch", x=range(len(points)), y=np.linspace(1, 0, len(points)), half=0.0)]

    monkeypatch.setattr(type(PROTOCOLS["gates"]), "retention", retention, raising=False)
    save_run(tmp_path / "with", sc, result, started="now")
    doc = read_retention(tmp_path / "with")
    assert doc["scenario"] == "P2" and doc["curves"][0]["arch"] == "mp-latch"
    assert len(doc["curves"][0]["x"]) == len(result.points)
