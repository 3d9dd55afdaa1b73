"""``rnnlab reproduce``: run every scenario, regenerate the figures, write ``REPORT.md`` (issue 7).

For each scenario file (sorted by name) the command runs the scenario (its ``[smoke]``
settings with ``--smoke``), stores the run directory under ``OUT/runs/``, copies the
run's figures to ``FIGURES/<scenario-stem>/<plot-kind>.png`` and records the outcome in
``OUT/state/<scenario-stem>.json`` (written atomically). ``FIGURES`` is the lab's
``figures/`` for a full run and ``OUT/figures/`` for a smoke run (smoke figures never
replace the committed gallery); ``FIGURES/REPORT.md`` gets one row per expectation:
id, reference, metric, published value, measured value, expected interval, pass/fail
and the scenario's runtime, plus totals.

Resuming: a state entry is reused when its scenario file has the same SHA-256 and the
same mode (smoke/full); otherwise, or with ``--fresh``, the scenario runs again. Code
changes do not invalidate stored entries (each records its git revision, and the report
says when its rows come from more than one revision). A run
killed midway and started again runs only the unfinished scenarios and ends with the
same table (resumed entries keep their stored runtimes). A scenario that raises is
reported as ``ERROR`` and is not stored, so the next run retries it.

Exit status: 0 when every expectation of every scenario holds, 1 when any fails or a
scenario errors, 2 for a user error (bad flag, unknown ``--only`` id).
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import UserError
from .store import atomic_write_bytes, git_revision, write_json

__all__ = ["STATE_VERSION", "scenario_files", "select", "state_key", "reproduce", "render_report"]

STATE_VERSION = 1
_MAX_ERROR = 300  # characters of an error message kept in the progress line and the report


def scenario_files(scenario_dir: str | Path) -> list[Path]:
    """Every ``*.toml`` in ``scenario_dir``, sorted by name."""
    return sorted(Path(scenario_dir).glob("*.toml"))


def _meta(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        meta = tomllib.loads(path.read_text()).get("meta", {})
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def select(files: list[Path], only: list[str] | None) -> list[Path]:
    """The files whose stem or ``[meta] id`` is in ``only`` (all when ``only`` is empty).

    Raises
    ------
    UserError
        When a name in ``only`` matches no file.
    """
    if not only:
        return list(files)
    wanted = set(only)
    keys = {f: {f.stem, f.name, str(_meta(f).get("id", "")) or f.stem} for f in files}
    unknown = sorted(w for w in wanted if not any(w in k for k in keys.values()))
    if unknown:
        ids = sorted({str(_meta(f).get("id", "")) for f in files} - {""})
        raise UserError(f"--only {' '.join(unknown)}: no such scenario; give a file stem "
                        f"(e.g. {files[0].stem if files else 'hopfield_1982_recall'}) or an id ({', '.join(ids)})")
    return [f for f in files if keys[f] & wanted]


def state_key(path: Path, smoke: bool) -> dict[str, Any]:
    """What a stored result must match to be reused: file hash and mode."""
    return {"version": STATE_VERSION, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "mode": "smoke" if smoke else "full"}


def _load_state(state_file: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        entry = json.loads(state_file.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in key.items()):
        return None
    return entry


def _copy_figures(run_dir: Path, dest: Path) -> list[str]:
    """Replace ``dest/*.png`` by the run's figures; return their names."""
    dest.mkdir(parents=True, exist_ok=True)
    src = sorted((run_dir / "figures").glob("*.png"))
    names = {p.name for p in src}
    for old in dest.glob("*.png"):
        if old.name not in names:
            old.unlink()
    for p in src:
        atomic_write_bytes(dest / p.name, p.read_bytes())
    return [p.name for p in src]


def _run_one(path: Path, *, smoke: bool, out: Path, figures_dir: Path, workers: int) -> dict[str, Any]:
    """Run one scenario, store it, copy its figures; return its state entry (not yet saved)."""
    from .scenario import load_scenario
    from .store import new_run_dir, save_run
    from .sweep import run_scenario

    key = state_key(path, smoke)  # hash before running: an edit during the run invalidates it next time
    scenario = load_scenario(path, smoke=smoke)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_dir = new_run_dir(out / "runs", scenario.name, seed=scenario.config["run"]["seed"], smoke=smoke)
    result = run_scenario(scenario, workers=workers, figures=True)
    save_run(run_dir, scenario, result, started=started)
    figs = _copy_figures(run_dir, figures_dir / scenario.name)
    meta = scenario.meta
    return {**key, "scenario": scenario.name, "file": str(path), "id": meta["id"], "title": meta["title"],
            "reference": meta["reference"], "seed": scenario.config["run"]["seed"],
            "rows": [{"metric": c.expectation.metric, "measured": c.value, "expected": c.expectation.describe(),
                      "published": c.expectation.published, "passed": bool(c.passed)} for c in result.checks],
            "unchecked": [{"metric": e.metric, "expected": e.describe(), "published": e.published}
                          for e in scenario.unchecked],
            "passed": bool(result.passed), "runtime_s": round(result.runtime, 2), "run_dir": str(run_dir),
            "figures": figs, "git": git_revision(),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _fmt(v: Any) -> str:
    from .scenario import format_value

    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.4g}"
    return format_value(v)


def _cell(v: Any) -> str:
    return _fmt(v).replace("|", r"\|").replace("\n", " ")


def _status(entry: dict[str, Any]) -> str:
    if "error" in entry:
        return "ERROR"
    return "pass" if entry["passed"] else "FAIL"


def render_report(entries: list[dict[str, Any]], *, smoke: bool) -> str:
    """The Markdown report: one row per expectation, then totals (a pure function of ``entries``)."""
    header = ["id", "scenario", "reference", "metric", "published", "measured", "expected", "result",
              "runtime (s)"]
    lines = ["# rnnlab reproduce: measured against published", "",
             f"Mode: **{'smoke' if smoke else 'full'}** "
             f"({'the scenarios’ [smoke] settings: fast, not the published protocol' if smoke else 'full settings'}). "
             "One row per `[expect]` entry; `runtime` is the scenario's run time (stored time for resumed "
             "entries). Figures of each scenario are in `<scenario>/` next to this file.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    n_exp = n_pass = n_unchecked = 0
    for e in entries:
        name = f"`{e['scenario']}`"
        first = [e.get("id", ""), f"[{name}]({e['scenario']}/)" if e.get("figures") else name,
                 e.get("reference", ""), "", "", "", "", "",
                 f"{e['runtime_s']:.1f}" if "runtime_s" in e else ""]
        rows = []
        if "error" in e:
            rows.append(["", None, None, None, "ERROR: " + e["error"]])
        for r in e.get("rows", []):
            n_exp += 1
            n_pass += r["passed"]
            rows.append([r["metric"], r["published"], r["measured"], r["expected"],
                         "pass" if r["passed"] else "FAIL"])
        for r in e.get("unchecked", []):
            n_unchecked += 1
            rows.append([r["metric"], r["published"], None, r["expected"], "not run in this mode"])
        if "error" not in e and not rows:
            rows.append(["(no expectations)", None, None, None, "pass"])
        for i, r in enumerate(rows):  # scenario columns on its first row only
            cells = (first[:3] if i == 0 else ["", "", ""]) + r + ([first[8]] if i == 0 else [""])
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    n_sc = len(entries)
    sc_pass = sum(_status(e) == "pass" for e in entries)
    sc_err = sum(_status(e) == "ERROR" for e in entries)
    total = sum(e.get("runtime_s", 0.0) for e in entries)
    lines += ["", "## Totals", "",
              f"- scenarios: {n_sc}: {sc_pass} passed, {n_sc - sc_pass - sc_err} failed, {sc_err} errored",
              f"- expectations: {n_exp} checked: {n_pass} passed, {n_exp - n_pass} failed"
              + (f"; {n_unchecked} not run in this mode" if n_unchecked else ""),
              f"- summed scenario runtime: {total:.1f} s"]
    revs = sorted({e["git"] for e in entries if e.get("git")})
    if len(revs) > 1:  # the state is keyed by scenario file and mode, not by the code that ran it
        lines.append(f"- results come from {len(revs)} code revisions ({', '.join(r[:12] + ('+dirty' if r.endswith('+dirty') else '') for r in revs)}); "
                     "`rnnlab reproduce --fresh` reruns everything at one")
    lines.append("")
    return "\n".join(lines)


def reproduce(scenario_dir: str | Path, *, out: str | Path, figures_dir: str | Path, smoke: bool = False,
              only: list[str] | None = None, workers: int = 1, fresh: bool = False,
              stream=None) -> tuple[int, list[dict[str, Any]], Path]:
    """Run (or resume) the scenarios; write the report. Returns (exit status, entries, report path)."""
    stream = stream or sys.stdout
    files = scenario_files(scenario_dir)
    if not files:
        raise UserError(f"{scenario_dir}: no scenario files (*.toml)")
    chosen = select(files, only)
    out, figures_dir = Path(out), Path(figures_dir)
    try:
        (out / "state").mkdir(parents=True, exist_ok=True)
        figures_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the output directories ({out}, {figures_dir}): {exc}") from None
    t0 = time.perf_counter()
    entries, n_resumed = [], 0
    for i, path in enumerate(chosen, 1):
        state_file = out / "state" / f"{path.stem}.json"
        prefix = f"[{i}/{len(chosen)}] {path.stem}"
        entry = None if fresh else _load_state(state_file, state_key(path, smoke))
        if entry is not None:
            n_resumed += 1
            print(f"{prefix}: {_status(entry)} (stored, {entry['runtime_s']:.1f} s)", file=stream, flush=True)
        else:
            print(f"{prefix} ...", file=stream, flush=True)
            try:
                entry = _run_one(path, smoke=smoke, out=out, figures_dir=figures_dir, workers=workers)
            except Exception as exc:  # a broken scenario must not stop the others; it is reported, not stored
                detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
                if len(detail) > _MAX_ERROR:  # the full message: rnnlab run FILE
                    detail = detail[:_MAX_ERROR] + f" ... (truncated; rnnlab run {path} shows it all)"
                print(f"{prefix}: ERROR {detail}", file=stream, flush=True)
                meta = _meta(path)
                entry = {"scenario": path.stem, "id": str(meta.get("id", "")),
                         "reference": str(meta.get("reference", "")), "error": detail, "passed": False}
            else:
                write_json(state_file, entry)
                print(f"{prefix}: {_status(entry)} ({entry['runtime_s']:.1f} s)", file=stream, flush=True)
        entries.append(entry)
    report = figures_dir / "REPORT.md"
    text = render_report(entries, smoke=smoke)
    rev = git_revision()
    atomic_write_bytes(report, (text + (f"\nGenerated from rnnlab {rev}.\n" if rev else "")).encode())
    n_ok = sum(_status(e) == "pass" for e in entries)
    print(f"\n{n_ok}/{len(entries)} scenarios passed ({n_resumed} resumed from {out / 'state'}); "
          f"{time.perf_counter() - t0:.1f} s wall  -> {report}", file=stream, flush=True)
    return (0 if n_ok == len(entries) else 1), entries, report


def cmd_reproduce(args) -> int:
    """The ``rnnlab reproduce`` subcommand (arguments parsed in :mod:`sim.cli`)."""
    from .cli import _scenario_dir

    sdir = _scenario_dir(args.scenarios)
    out = Path(args.out) if args.out else Path("runs") / ("reproduce-smoke" if args.smoke else "reproduce")
    if args.figures:
        figures_dir = Path(args.figures)
    else:
        figures_dir = out / "figures" if args.smoke else sdir.resolve().parent / "figures"
    status, _, _ = reproduce(sdir, out=out, figures_dir=figures_dir, smoke=args.smoke, only=args.only,
                             workers=args.workers, fresh=args.fresh)
    return status
