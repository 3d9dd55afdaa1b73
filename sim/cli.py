"""The ``rnnlab`` command line.

    rnnlab run FILE [--set k=v ...] [--smoke] [--seed N] [--workers N] [--out DIR] [--no-figures]
    rnnlab list [DIR]
    rnnlab reproduce [--smoke] [--out DIR] [--only ID ...] [--workers N] [--fresh]
    rnnlab compare [--scenarios FILE ...] [--runs DIR ...] [--arch NAME ...] [--metric raw|normalised]
                   [--seeds N ...] [--smoke] [--out DIR] [--save-figure] [--all-curves]

``run`` validates the scenario, runs every trial of every sweep point (a progress bar on
a terminal), writes the run directory (``runs/<scenario>/<run-id>/`` by default) and
prints a closing table: metric, measured, expected, published, pass/fail.

Exit status: 0 when every expectation holds, 1 when one fails (or the run diverged),
2 for a user error (bad file, key, value or flag): a one-paragraph message on stderr and
no traceback.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from .errors import UserError
from .scenario import format_value

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # exit 2 with a message, like every user error
        self.print_usage(sys.stderr)
        raise UserError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnnlab", description="Simulation lab for the classic recurrent neural networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run a scenario file")
    r.add_argument("file", help="scenario TOML file, e.g. scenarios/hopfield_1982_recall.toml")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set run.trials=5 (repeatable)")
    r.add_argument("--smoke", action="store_true", help="apply the file's [smoke] settings (fast)")
    r.add_argument("--seed", type=_nonneg_int, help="replace run.seed")
    r.add_argument("--workers", type=_pos_int, default=1, help="processes for trials (results do not change)")
    r.add_argument("--out", default="runs", help="root directory for run directories (default: runs)")
    r.add_argument("--no-figures", action="store_true", help="skip drawing figures")
    ls = sub.add_parser("list", help="list the scenario files in a directory")
    ls.add_argument("dir", nargs="?", default=None, help="directory (default: ./scenarios or the lab's own)")
    rp = sub.add_parser("reproduce", help="run every scenario, regenerate figures/ and write REPORT.md (resumable)")
    rp.add_argument("--smoke", action="store_true", help="the scenarios' [smoke] settings; figures go to OUT/figures")
    rp.add_argument("--out", default=None, help="runs and resume state (default: runs/reproduce[-smoke])")
    rp.add_argument("--only", nargs="+", metavar="ID", help="only these scenarios (file stem or [meta] id)")
    rp.add_argument("--workers", type=_pos_int, default=1, help="processes for trials (results do not change)")
    rp.add_argument("--fresh", action="store_true", help="ignore stored results and run everything again")
    rp.add_argument("--scenarios", default=None, metavar="DIR", help="scenario directory (default: as for list)")
    rp.add_argument("--figures", default=None, metavar="DIR",
                    help="where figures and REPORT.md go (default: figures/ when full, OUT/figures with --smoke)")
    cp = sub.add_parser("compare", help="memory retention of every architecture on shared axes")
    cp.add_argument("--scenarios", nargs="+", metavar="FILE", help="retention scenarios to run "
                    "(default: scenarios/retention_*.toml)")
    cp.add_argument("--runs", nargs="+", metavar="DIR", help="read stored runs (run directories, retention.json "
                    "files or directories holding them) instead of running")
    cp.add_argument("--arch", nargs="+", metavar="NAME", help="only these architectures")
    cp.add_argument("--metric", choices=("normalised", "raw"), default="normalised",
                    help="y axis: normalised fidelity (0 chance, 1 perfect; default) or each curve's raw metric")
    cp.add_argument("--seeds", nargs="+", type=_nonneg_int, metavar="N", help="run each scenario at these seeds "
                    "(curves of one architecture are pooled over seeds)")
    cp.add_argument("--smoke", action="store_true", help="run the scenarios with their [smoke] settings")
    cp.add_argument("--workers", type=_pos_int, default=1, help="processes for trials (results do not change)")
    cp.add_argument("--out", default="runs", help="root for run directories and the figure (default: runs)")
    cp.add_argument("--save-figure", action="store_true", help="also write figures/retention_compare.png")
    cp.add_argument("--bins", type=int, default=12, metavar="N",
                    help="average each curve over N geometric age bins in the figure (0: every age; default 12)")
    cp.add_argument("--all-curves", action="store_true", help="every curve of every architecture (default: the "
                    "first, headline curve of each architecture per scenario)")
    return p


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v


def _pos_int(text: str) -> int:
    v = _nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.4g}"
    return format_value(v)


def _cmd_run(args) -> int:
    from .scenario import load_scenario
    from .store import new_run_dir, save_run
    from .sweep import run_scenario

    scenario = load_scenario(args.file, overrides=args.overrides, smoke=args.smoke, seed=args.seed)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        run_dir = new_run_dir(args.out, scenario.name, seed=scenario.config["run"]["seed"], smoke=args.smoke)
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot create a run directory: {exc}") from None
    meta = scenario.meta
    print(f"{meta['id'] + ' ' if meta['id'] else ''}{meta['title']}\n  {meta['reference']}")
    result = run_scenario(scenario, workers=args.workers, figures=not args.no_figures)
    save_run(run_dir, scenario, result, started=started)

    rows = [[c.expectation.metric, _fmt(c.value), c.expectation.describe(), _fmt(c.expectation.published),
             "pass" if c.passed else "FAIL"] for c in result.checks]
    expected = {c.expectation.metric for c in result.checks}
    others = [[k, _fmt(v), "", "", ""] for k, v in result.metrics.items() if k not in expected]
    print()
    print(_table(rows + others, ["metric", "measured", "expected", "published", "result"]))
    if scenario.unchecked:
        print(f"\n{len(scenario.unchecked)} expectation(s) not checked: their sweep points are not in this run "
              f"({', '.join(e.metric for e in scenario.unchecked)})")
    n_fail = sum(not c.passed for c in result.checks)
    print(f"\n{len(result.checks) - n_fail} passed, {n_fail} failed  ({result.runtime:.1f} s)  -> {run_dir}")
    return 0 if n_fail == 0 else 1


def _scenario_dir(arg: str | None) -> Path:
    if arg:
        d = Path(arg)
    else:
        d = Path("scenarios")
        if not d.is_dir():
            d = Path(__file__).resolve().parent.parent / "scenarios"
    if not d.is_dir():
        raise UserError(f"{d}: no such directory of scenarios")
    return d


def _cmd_list(args) -> int:
    import tomllib

    d = _scenario_dir(args.dir)
    rows = []
    for f in sorted(d.glob("*.toml")):
        try:
            meta = tomllib.loads(f.read_text()).get("meta", {})
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            rows.append([f.name, "", f"(unreadable: {exc.__class__.__name__})", "", ""])
            continue
        rows.append([str(f), meta.get("id", ""), meta.get("protocol", ""), meta.get("title", ""),
                     meta.get("reference", "")])
    if not rows:
        print(f"no scenario files in {d}")
        return 0
    print(_table(rows, ["file", "id", "protocol", "title", "reference"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "reproduce":
            from .reproduce import cmd_reproduce
            return cmd_reproduce(args)
        if args.command == "compare":
            from .compare import cmd_compare
            return cmd_compare(args)
        return {"run": _cmd_run, "list": _cmd_list}[args.command](args)
    except UserError as exc:
        print(f"rnnlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
