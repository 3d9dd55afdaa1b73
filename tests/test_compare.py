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


# --- rnnlab compare ---------------------------------------------------------------------
from sim.cli import main  # noqa: E402
from sim.compare import find_runs, pool_curves, retention_span, table_ages  # noqa: E402
from sim.store import write_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _fake_run(root, name, seed, curves, *, finished="2026-01-01T00:00:00+00:00", passed=True, stamp="a"):
    d = root / name / f"{stamp}-s{seed}"
    write_retention(d, curves, scenario=name.upper())
    write_json(d / "manifest.json", {"name": name, "seed": seed, "smoke": True, "finished": finished})
    write_json(d / "metrics.json", {"passed": passed})
    return d


def _seq(arch, y, seed, half=0.1, n=5):
    return _curve(arch, "sequence", x=(1, 2, 4, 8, 16), y=y, half=half, n=n, seed=seed, H=8)


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for seed, shift in ((1, 0.0), (2, 0.1)):
        _fake_run(root, "retention_sequence", seed,
                  [_seq("lstm", np.array([1.0, 0.9, 0.8, 0.7, 0.5]) - shift, seed),
                   _seq("rnn", np.array([0.9, 0.5, 0.1, 0.0, 0.0]) + shift, seed)])
    _fake_run(root, "retention_attractor", 0, [
        _curve("hopfield-hebb", "attractor", x=range(0, 40), y=np.r_[np.ones(20), np.zeros(20)], half=0.0,
               raw_label="overlap m", load=0.2),
        _curve("hopfield-hebb", "attractor", x=range(0, 10), y=np.ones(10), half=0.0, raw_label="overlap m",
               load=0.05)])
    return root


def test_pooling_two_seeds_is_the_n_weighted_mean_with_combined_interval():
    a, b = _seq("lstm", [0.8] * 5, 1, half=0.1, n=5), _seq("lstm", [0.4] * 5, 2, half=0.2, n=15)
    docs = [{"scenario": "S", "curves": [a]}, {"scenario": "S", "curves": [b]}]
    (p,) = pool_curves(docs)
    assert p["n"] == 20 and p["seeds"] == 2 and "seed" not in p["detail"] and p["detail"]["H"] == 8
    y = 0.25 * 0.8 + 0.75 * 0.4
    half = np.sqrt((0.25 * 0.1) ** 2 + (0.75 * 0.2) ** 2)  # s_i = half_i / 1.96; the 1.96 cancels
    np.testing.assert_allclose(p["y"], y)
    np.testing.assert_allclose(np.array(p["hi"]) - p["y"], half, rtol=1e-12)
    np.testing.assert_allclose(p["raw"], 0.25 + 0.75 * y)
    # different ages or details are not pooled
    c = _curve("lstm", "sequence", x=(1, 2, 3, 8, 16), y=[0.5] * 5, seed=3, H=8)
    assert len(pool_curves(docs + [{"scenario": "S", "curves": [c]}])) == 2


def test_span_and_table_ages():
    assert retention_span([1, 2, 4, 8], [0.9, 0.6, 0.4, 0.8]) == "2"  # stops at the first drop
    assert retention_span([1, 2], [0.9, 0.7]) == ">= 2" and retention_span([0, 5], [0.1, 0.9]) == "< 0"
    ages = table_ages([{"x": list(range(0, 100))}])
    assert len(ages) <= 6 and ages[0] == 0 and ages[-1] == 99 and all(float(a).is_integer() for a in ages)


def test_find_runs_keeps_the_newest_run_per_scenario_and_seed(runs):
    old = _fake_run(runs, "retention_sequence", 1, [_seq("gru", [0.1] * 5, 1)], finished="2025-01-01T00:00:00+00:00",
                    stamp="0old")
    found = find_runs([runs])
    assert len(found) == 3 and str(old) not in {info["run_dir"] for info, _ in found}
    assert [info["seed"] for info, _ in find_runs([runs], seeds=[2])] == [2]
    assert len(find_runs([old])) == 1  # a run directory given explicitly


def test_compare_reads_runs_prints_table_and_draws(runs, tmp_path, capsys, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    monkeypatch.chdir(tmp_path)  # --save-figure writes ./figures/ next to ./scenarios
    assert main(["compare", "--runs", str(runs), "--out", str(tmp_path / "out"), "--save-figure"]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.split() and ln.split()[0] in ("lstm", "rnn")}
    assert "0.95 [" in lines["lstm"] and "10" in lines["lstm"].split()[2]  # pooled: (1.0 + 0.9) / 2, n = 5 + 5
    assert lines["rnn"].split()[3] == "2"  # span: 1.0, 0.6 then 0.2
    assert "hopfield-hebb" in out and "load=0.05" not in out  # headline curve only by default
    (dest,) = (tmp_path / "out" / "compare").iterdir()
    assert (dest / "retention_compare.png").stat().st_size > 10_000
    assert (tmp_path / "figures" / "retention_compare.png").read_bytes() == (dest / "retention_compare.png").read_bytes()
    saved = json.loads((dest / "retention_compare.json").read_text())
    assert {c["label"] for c in saved["curves"]} == {"lstm", "rnn", "hopfield-hebb"}

    assert main(["compare", "--runs", str(runs), "--out", str(tmp_path / "o2"), "--arch", "LSTM", "hopfield-hebb",
                 "--all-curves", "--metric", "raw"]) == 0
    out = capsys.readouterr().out
    assert "rnn " not in out and "hopfield-hebb (load=0.05)" in out and "raw recall metric" in out
    assert "0.963" in out  # raw of the pooled lstm at age 1: 0.25 + 0.75 * 0.95


@pytest.mark.parametrize("extra, words", [
    (["--arch", "transformer"], "--arch transformer"),
    (["--smoke"], "--runs reads stored runs"),
    (["--metric", "best"], "--metric"),
])
def test_compare_user_errors_exit_2(runs, tmp_path, capsys, extra, words):
    assert main(["compare", "--runs", str(runs), "--out", str(tmp_path / "o"), *extra]) == 2
    assert words in capsys.readouterr().err


def test_compare_missing_and_failed_runs(runs, tmp_path, capsys):
    assert main(["compare", "--runs", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["compare", "--runs", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no retention.json" in capsys.readouterr().err
    _fake_run(runs, "retention_sequence", 3, [_seq("gru", [0.3] * 5, 3)], passed=False)
    assert main(["compare", "--runs", str(runs), "--out", str(tmp_path / "o")]) == 1
    assert "1 run(s) failed an expectation" in capsys.readouterr().out


def test_compare_runs_scenarios_at_several_seeds(tmp_path, capsys, monkeypatch):
    from sim.protocols import PROTOCOLS

    p2 = ROOT / "scenarios" / "mcculloch_pitts_1943_gates.toml"
    assert main(["compare", "--scenarios", str(p2), "--out", str(tmp_path / "o")]) == 2  # not a retention protocol
    assert "writes no retention curves" in capsys.readouterr().err

    monkeypatch.setattr(type(PROTOCOLS["gates"]), "retention", lambda self, sc, pts: [], raising=False)
    assert main(["compare", "--scenarios", str(p2), "--out", str(tmp_path / "none")]) == 2  # ran, but no curves
    assert "wrote retention curves" in capsys.readouterr().err

    def retention(self, scenario, points):  # a stand-in retention protocol: curve depends on the seed
        s = scenario.config["run"]["seed"]
        y = np.array([1.0, 0.5, 0.0]) * (1 if s == 1 else 0.5)
        return [_curve("mp", "sequence", x=(1, 2, 3), y=y, half=0.0, n=2, seed=s)]

    monkeypatch.setattr(type(PROTOCOLS["gates"]), "retention", retention, raising=False)
    assert main(["compare", "--scenarios", str(p2), "--seeds", "1", "2", "--smoke", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert len(list((tmp_path / "o" / "mcculloch_pitts_1943_gates").iterdir())) == 2  # one stored run per seed
    row = next(ln for ln in out.splitlines() if ln.startswith("mp "))
    assert row.split()[2] == "4" and "0.75 [0.75,0.75]" in row  # pooled over the two seeds


def test_figure_styles_families_and_keeps_colours_distinct():
    from sim.plots.retention import retention_compare_figure

    curves = [dict(_curve(f"arch{i}", "attractor" if i < 6 else "sequence"), label=f"arch{i}") for i in range(12)]
    fig = retention_compare_figure(curves, x_label="age", y_label="fidelity")
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("arch")]
    assert len(lines) == 12 and len({ln.get_color() for ln in lines}) == 12
    assert {ln.get_linestyle() for ln in lines[:6]} == {"-"} and {ln.get_linestyle() for ln in lines[6:]} == {"--"}
    assert fig.axes[0].get_xscale() == "symlog" and len(fig.axes[0].collections) == 12  # one band per curve
    with pytest.raises(ValueError, match="metric"):
        retention_compare_figure(curves, metric="best", x_label="a", y_label="b")


def test_bin_ages_averages_geometric_bins_and_shrinks_intervals():
    from sim.compare import bin_ages
    x = list(range(100))
    c = {"arch": "a", "family": "attractor", "x": x, "y": [0.5] * 100, "lo": [0.3] * 100, "hi": [0.7] * 100,
         "raw": [0.5] * 100, "raw_label": "m", "n": 4, "detail": {}}
    b = bin_ages(c, 12)
    assert 3 <= len(b["x"]) <= 12
    assert b["x"][:2] == [0.0, 1.0]  # ages 0 and 1 keep their own bins
    assert np.all(np.diff(b["x"]) > 0) and np.allclose(b["y"], 0.5)
    # a bin of m ages with equal half-widths h has half-width h / sqrt(m)
    halves = np.asarray(b["hi"]) - np.asarray(b["y"])
    assert np.isclose(halves[0], 0.2)  # age 0 alone
    assert np.all(halves[2:] < 0.2) and halves[-1] < halves[2]  # wider bins at larger ages
    assert bin_ages(c, 0) is c and bin_ages({**c, "x": x[:10]}, 12)["x"] == x[:10]
