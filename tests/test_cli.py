"""The rnnlab command line: exit codes, messages, run directories, worker invariance."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.sweep import run_scenario

ROOT = Path(__file__).resolve().parent.parent
H4 = ROOT / "scenarios" / "hopfield_1982_recall.toml"


@pytest.mark.parametrize("argv, words", [
    (["run", "nowhere.toml"], "no such scenario file"),
    (["run", str(H4), "--set", "run.trials=-3"], "run.trials"),
    (["run", str(H4), "--set", "net.n_unitz=5"], "net.n_unitz"),
    (["run", str(H4), "--set", "net.n_units='x'"], "net.n_units"),
    (["run", str(H4), "--set", "oops"], "key=value"),
    (["run", str(H4), "--seed", "-1"], "--seed"),
    (["run", str(H4), "--workers", "0"], "--workers"),
    (["frobnicate"], "invalid choice"),
])
def test_user_errors_exit_2_with_a_message(argv, words, capsys, tmp_path):
    assert main(argv + (["--out", str(tmp_path)] if argv[0] == "run" else [])) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_console_script_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(H4.read_text().replace("n_units = 100", "n_units = -100"))
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "net.n_units" in proc.stderr and "bad.toml" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "bad").exists()  # nothing was run or written


def test_run_smoke_writes_run_directory(tmp_path, capsys):
    assert main(["run", str(H4), "--smoke", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "exact_recall[n_memories=10]" in out and "pass" in out
    (run_dir,) = (tmp_path / "hopfield_1982_recall").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 1982 and manifest["smoke"] is True
    assert manifest["resolved"]["net"]["n_units"] == 100
    assert "numpy" in manifest["versions"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["passed"] is True
    with np.load(run_dir / "trace.npz", allow_pickle=False) as z:
        assert z["point0.errors"].shape == (40, 5)
        assert z["demo.state.s"].shape[1] == 100
    figs = sorted(p.name for p in (run_dir / "figures").iterdir())
    assert figs == ["energy.png", "overlap.png", "raster.png", "recall_curve.png", "snapshots.png"]
    assert not list(run_dir.rglob("*.tmp"))


def test_failed_expectation_exits_1(tmp_path, capsys):
    # +-1 units store twice as much (Hopfield 1982): exact recall at n=10 is ~0.96, above
    # the [0.50, 0.85] interval written for 0/1 units
    code = main(["run", str(H4), "--smoke", "--out", str(tmp_path), "--no-figures", "--set", "net.units=spin"])
    assert code == 1
    assert "FAIL" in capsys.readouterr().out


def test_workers_do_not_change_results():
    sc = load_scenario(H4, smoke=True, overrides=["run.trials=6"])
    one = run_scenario(sc, workers=1, figures=False, progress=False)
    two = run_scenario(sc, workers=2, figures=False, progress=False)
    assert one.metrics == two.metrics
    for p1, p2 in zip(one.points, two.points):
        for t1, t2 in zip(p1["trials"], p2["trials"]):
            assert all(np.array_equal(t1[k], t2[k]) for k in t1)


def test_seed_changes_results_and_same_seed_repeats():
    a = run_scenario(load_scenario(H4, smoke=True, seed=5), figures=False, progress=False)
    b = run_scenario(load_scenario(H4, smoke=True, seed=5), figures=False, progress=False)
    c = run_scenario(load_scenario(H4, smoke=True, seed=6), figures=False, progress=False)
    errs = lambda r: np.concatenate([t["errors"] for p in r.points for t in p["trials"]])  # noqa: E731
    assert np.array_equal(errs(a), errs(b))
    assert not np.array_equal(errs(a), errs(c))


def test_adding_a_sweep_point_keeps_the_others():
    a = run_scenario(load_scenario(H4, overrides=["sweep.data.n_memories=[5]", "run.trials=3"]),
                     figures=False, progress=False)
    b = run_scenario(load_scenario(H4, overrides=["sweep.data.n_memories=[7, 5]", "run.trials=3"]),
                     figures=False, progress=False)
    assert a.metrics["exact_recall[n_memories=5]"] == b.metrics["exact_recall[n_memories=5]"]
    assert np.array_equal(a.points[0]["trials"][2]["errors"], b.points[1]["trials"][2]["errors"])


def test_list_shows_the_catalogue(capsys):
    assert main(["list", str(ROOT / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert "hopfield_1982_recall.toml" in out and "H4" in out
