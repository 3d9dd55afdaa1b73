"""``rnnlab reproduce``: report, figures, exit codes, and resuming after a hard kill."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main
from sim.reproduce import render_report

ROOT = Path(__file__).resolve().parent.parent
H4, P2 = "hopfield_1982_recall", "mcculloch_pitts_1943_gates"
TINY = [H4, P2, "perceptron_1958_gates"]  # the order reproduce runs them in (by name); < 1 s each in smoke


@pytest.fixture
def sdir(tmp_path):
    d = tmp_path / "scenarios"
    d.mkdir()
    for stem in TINY:
        shutil.copy(ROOT / "scenarios" / f"{stem}.toml", d)
    return d


def _argv(sdir, out, *extra):
    return ["reproduce", "--smoke", "--scenarios", str(sdir), "--out", str(out), "--figures", str(out / "figs"),
            *extra]


def _table(report: Path, drop_runtime: bool = False) -> list[str]:
    rows = [ln for ln in report.read_text().splitlines() if ln.startswith("|")]
    if drop_runtime:
        rows = [ln.rsplit("|", 2)[0] for ln in rows]
    return rows


def _state(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "state").glob("*.json"))}


def _run_dirs(out: Path, stem: str) -> list[Path]:
    d = out / "runs" / stem
    return sorted(d.iterdir()) if d.is_dir() else []


def test_report_figures_and_state(sdir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_argv(sdir, out)) == 0
    text = capsys.readouterr().out
    assert "[3/3] perceptron_1958_gates" in text and "3/3 scenarios passed" in text
    report = out / "figs" / "REPORT.md"
    rows = _table(report)
    assert rows[0].startswith("| id | scenario | reference | metric | published | measured | expected | result")
    h4 = next(r for r in rows if "exact_recall[n_memories=10]" in r)
    assert "| 0.6 |" in h4 and "[0.5, 0.85]" in h4 and "pass" in h4  # published value and interval
    assert any(r.startswith("| H4 | [`hopfield_1982_recall`](hopfield_1982_recall/) |") for r in rows)
    state = _state(out)
    assert set(state) == set(TINY)
    measured = {r["metric"]: r["measured"] for r in state["hopfield_1982_recall"]["rows"]}
    assert f"{measured['exact_recall[n_memories=10]']:.4g}" in h4  # the table shows what was measured
    n_rows = sum(len(e["rows"]) for e in state.values())
    assert f"expectations: {n_rows} checked: {n_rows} passed, 0 failed" in report.read_text()
    for stem, e in state.items():  # figures copied per scenario, from its stored run
        assert e["figures"] and e["mode"] == "smoke"
        for name in e["figures"]:
            assert (out / "figs" / stem / name).read_bytes() == (Path(e["run_dir"]) / "figures" / name).read_bytes()


def test_resume_after_hard_kill_runs_only_the_rest(sdir, tmp_path, capsys):
    out = tmp_path / "out"
    # A child process that dies (os._exit: no cleanup, like SIGKILL) in the middle of the
    # second scenario's run, after its run directory was created.
    code = textwrap.dedent(f"""
        import os, sys
        import sim.sweep
        real, calls = sim.sweep.run_scenario, []
        def dying(*a, **k):
            calls.append(1)
            if len(calls) == 2:
                os._exit(9)
            return real(*a, **k)
        sim.sweep.run_scenario = dying
        from sim.cli import main
        sys.exit(main({_argv(sdir, out)!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 9, proc.stderr
    first = _state(out)
    assert list(first) == [TINY[0]]  # only the finished scenario is recorded
    assert len(_run_dirs(out, TINY[1])) == 1 and not (_run_dirs(out, TINY[1])[0] / "metrics.json").exists()
    assert not (out / "figs" / "REPORT.md").exists()

    assert main(_argv(sdir, out)) == 0
    text = capsys.readouterr().out
    assert f"[1/3] {TINY[0]}: pass (stored" in text and "1 resumed" in text
    resumed = _state(out)
    assert resumed[TINY[0]] == first[TINY[0]]  # not re-executed: same entry, same run directory
    assert len(_run_dirs(out, TINY[0])) == 1 and len(_run_dirs(out, TINY[2])) == 1
    assert len(_run_dirs(out, TINY[1])) == 2  # the killed attempt and the completed one

    # An uninterrupted run gives the same table (runtimes aside: they are measured times).
    ref = tmp_path / "ref"
    assert main(_argv(sdir, ref)) == 0
    assert _table(out / "figs" / "REPORT.md", True) == _table(ref / "figs" / "REPORT.md", True)
    # A third start does nothing new and reproduces the report exactly, stored runtimes included.
    before = _table(out / "figs" / "REPORT.md")
    capsys.readouterr()
    assert main(_argv(sdir, out)) == 0
    assert "3 resumed" in capsys.readouterr().out
    assert _table(out / "figs" / "REPORT.md") == before and _state(out) == resumed
    assert all(len(_run_dirs(out, s)) == n for s, n in zip(TINY, (1, 2, 1)))


def test_changed_file_mode_or_fresh_invalidates(sdir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_argv(sdir, out, "--only", "P2", "H4")) == 0  # --only takes [meta] ids or stems
    assert set(_state(out)) == {P2, H4}
    old = _state(out)
    f = sdir / f"{H4}.toml"
    f.write_text(f.read_text() + "\n# edited\n")
    capsys.readouterr()
    assert main(_argv(sdir, out, "--only", P2, H4)) == 0
    text = capsys.readouterr().out
    assert f"{P2}: pass (stored" in text and f"{H4}: pass (stored" not in text
    new = _state(out)
    assert new[P2] == old[P2] and new[H4]["run_dir"] != old[H4]["run_dir"]
    assert new[H4]["rows"] == old[H4]["rows"]  # a comment changes the hash, not the result

    full = ["reproduce", "--scenarios", str(sdir), "--out", str(out), "--figures", str(out / "figs"), "--only", "P2"]
    assert main(full) == 0  # same out dir, full mode: the smoke result is not reused
    assert "(stored" not in capsys.readouterr().out and _state(out)[P2]["mode"] == "full"
    assert main(full + ["--fresh"]) == 0
    assert "(stored" not in capsys.readouterr().out
    assert len(_run_dirs(out, P2)) == 3 and len(_run_dirs(out, H4)) == 2


def test_failures_and_errors_exit_1_and_are_reported(sdir, tmp_path, capsys):
    p2 = sdir / f"{P2}.toml"
    p2.write_text(p2.read_text().replace('"held_ticks[gate=latch]" = { min = 40, max = 40',
                                         '"held_ticks[gate=latch]" = { min = 41, max = 50'))
    (sdir / "zz_broken.toml").write_text((ROOT / "scenarios" / "mcculloch_pitts_1943_gates.toml").read_text()
                                         .replace('gate = "AND"', 'gate = "NAND-ish"'))
    out = tmp_path / "out"
    assert main(_argv(sdir, out, "--only", "P2", "zz_broken")) == 1
    report = (out / "figs" / "REPORT.md").read_text()
    assert "| held_ticks[gate=latch] |  | 40 | [41, 50] | FAIL |" in report
    assert "ERROR: " in report and "1 failed, 1 errored" in report and "NAND-ish" in report
    assert set(_state(out)) == {P2}  # the errored scenario is retried next time, not stored


@pytest.mark.parametrize("argv, words", [
    (["reproduce", "--only", "NOPE"], "--only NOPE"),
    (["reproduce", "--workers", "0"], "--workers"),
    (["reproduce", "--scenarios", "/nonexistent/dir"], "no such directory"),
])
def test_user_errors_exit_2(argv, words, tmp_path, capsys):
    assert main(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "o" / "runs").exists()


def test_report_escapes_pipes_and_lists_unchecked():
    entries = [{"scenario": "s", "id": "X", "reference": "ref", "runtime_s": 1.5, "passed": True,
                "rows": [{"metric": "|m|", "measured": 0.5, "expected": "<= 1", "published": None, "passed": True}],
                "unchecked": [{"metric": "m[n=9]", "expected": ">= 0", "published": 1}]}]
    text = render_report(entries, smoke=True)
    assert r"| X | `s` | ref | \|m\| |  | 0.5 | <= 1 | pass | 1.5 |" in text
    assert "| m[n=9] | 1 |  | >= 0 | not run in this mode |" in text and "1 not run in this mode" in text


def test_report_says_when_rows_come_from_several_code_revisions():
    e = {"scenario": "s", "runtime_s": 1.0, "passed": True, "rows": [], "git": "a" * 40}
    assert "code revisions" not in render_report([e, {**e, "scenario": "t"}], smoke=False)
    text = render_report([e, {**e, "scenario": "t", "git": "b" * 40}], smoke=False)
    assert "results come from 2 code revisions (aaaaaaaaaaaa, bbbbbbbbbbbb)" in text
    dirty = render_report([e, {**e, "scenario": "t", "git": "a" * 40 + "+dirty"}], smoke=False)
    assert "2 code revisions (aaaaaaaaaaaa, aaaaaaaaaaaa+dirty)" in dirty


def test_git_revision_ignores_the_gallery_reproduce_rewrites(tmp_path):
    import subprocess

    from sim.store import git_revision

    def git(*a):
        subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "REPORT.md").write_text("old\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    clean = git_revision(tmp_path)
    (tmp_path / "figures" / "REPORT.md").write_text("new\n")
    assert git_revision(tmp_path) == clean and not clean.endswith("+dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_revision(tmp_path) == clean + "+dirty"
