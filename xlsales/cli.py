"""The ``xlsales`` command: a thin layer over the library.

Exit codes: 0 done; 1 ``--strict`` and error-level issues exist; 2 usage or
setup error (with a message in zh and en, never a traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

from . import __version__, schema
from .issues import Issue

EXIT_OK, EXIT_ISSUES, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem the user can fix; printed as a message, exit 2."""


def say(zh: str, en: str, *, err: bool = False) -> None:
    print(f"{zh}\n  {en}", file=sys.stderr if err else sys.stdout)


# --- init ------------------------------------------------------------------------

def read_roster_csv(path: Path) -> list[dict]:
    """Roster rows from a CSV whose headers are the Roster table's (zh, en or aliases)."""
    import csv

    from .intake import context
    from .reader import Book, Sheet, read_table
    from .setup import Setup

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")
    except OSError as e:
        raise UsageError(f"无法读取名单 {path}: {e}") from e
    rows = [list(r) for r in csv.reader(text.splitlines())]
    book = Book(path, path.name, ["roster"], lambda _n: Sheet("roster", rows))
    tr = read_table(book, schema.ROSTER, context(Setup.default()))
    errors = [i for i in tr.issues if i.severity == "error"]
    if errors:
        raise UsageError("名单有错误 The roster has errors:\n" + "\n".join(f"  {i}" for i in errors[:20]))
    return [{k: r[k] for k in schema.ROSTER.keys} for r in tr.accepted.to_dict("records")]


def do_init(folder: Path, lang: str, roster: Path | None, force: bool, period: dt.date | None) -> dict:
    """Create the manager's folder; return what was written."""
    from .setup import Setup, monday
    from .templates import build_manager_workbook, build_rep_workbook

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise UsageError(f"文件夹 {folder} 已存在且非空;如需覆盖请加 --force。\n"
                         f"  {folder} exists and is not empty; add --force to overwrite.")
    rows = read_roster_csv(roster) if roster else None
    setup = Setup.default(rows, period or monday(dt.date.today()))
    setup.tables["settings"].loc[setup.tables["settings"]["key"] == "language", "value"] = lang
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    manager = build_manager_workbook(folder / "manager.xlsx", setup, lang)  # type: ignore[arg-type]
    templates = [build_rep_workbook(folder / "templates" / f"{r['rep_id']}.xlsx", setup, r, lang)  # type: ignore
                 for r in setup.active_reps().to_dict("records")]
    return {"setup": setup, "manager": manager, "templates": templates, "inbox": folder / "inbox"}


def cmd_init(a: argparse.Namespace) -> int:
    out = do_init(Path(a.dir), a.lang, Path(a.roster) if a.roster else None, a.force, a.period)
    say(f"已创建 {a.dir}:主管工作簿 {out['manager']},{len(out['templates'])} 份业务员模板在 "
        f"{Path(a.dir) / 'templates'},收件箱 {out['inbox']}",
        f"Created {a.dir}: manager workbook, {len(out['templates'])} rep templates, empty inbox.")
    return EXIT_OK


# --- demo ------------------------------------------------------------------------

def cmd_demo(a: argparse.Namespace) -> int:
    from . import synth

    folder = Path(a.dir)
    if folder.exists() and any(folder.iterdir()):
        if not a.force:
            raise UsageError(f"文件夹 {folder} 已存在且非空;如需重建请加 --force。\n"
                             f"  {folder} exists and is not empty; add --force to rebuild it.")
        if not any((folder / n).exists() for n in ("manager.xlsx", "manager.xlsm")):
            raise UsageError(f"{folder} 不像 xlsales 文件夹(没有 manager.xlsx),不会删除它。\n"
                             f"  {folder} does not look like an xlsales folder (no manager.xlsx); not removing it.")
        shutil.rmtree(folder)
    out = do_init(folder, a.lang, None, False, a.period)
    setup = out["setup"]
    fills = synth.generate(setup, seed=a.seed, reps=a.reps, mistakes=True)
    submitted = fills[:-1] if len(fills) > 2 else fills  # one rep forgets to submit: a missing submission
    paths = synth.write_fills(setup, submitted, out["inbox"], a.lang)
    say(f"演示数据:{len(paths)} 份业务员工作簿已放入收件箱 {out['inbox']}"
        f"(其中 {sum(1 for f in submitted if f.mistakes)} 份含故意错误,{len(fills) - len(submitted)} 人未提交)",
        f"Demo data: {len(paths)} rep workbooks in the inbox, "
        f"{sum(1 for f in submitted if f.mistakes)} with deliberate mistakes, "
        f"{len(fills) - len(submitted)} rep(s) not submitted.")
    for stage in DEMO_STAGES:
        stage(folder, a)
    say(f"完成。主管工作簿:{out['manager']}\n模板:{folder / 'templates'}\n收件箱:{out['inbox']}",
        f"Done. Manager workbook: {out['manager']}; templates: {folder / 'templates'}; inbox: {out['inbox']}")
    return EXIT_OK


def _demo_targets(folder: Path, a: argparse.Namespace) -> None:
    try:
        from .targets_book import run
    except ImportError:
        return
    run(folder, None, False)


DEMO_STAGES = [_demo_targets]


# --- build-workbooks -------------------------------------------------------------

def build_workbooks(out: Path) -> list[Path]:
    """Rebuild the committed reference workbooks (sample setup, fixed period)."""
    from .setup import Setup
    from .templates import build_manager_workbook, build_rep_workbook

    setup = Setup.default()
    rep = setup.rows("roster")[0]
    out.mkdir(parents=True, exist_ok=True)
    paths = [build_manager_workbook(out / "manager.xlsx", setup, "zh"),
             build_rep_workbook(out / "rep_template_zh.xlsx", setup, rep, "zh"),
             build_rep_workbook(out / "rep_template_en.xlsx", setup, rep, "en")]
    return paths


def cmd_build(a: argparse.Namespace) -> int:
    for p in build_workbooks(Path(a.out)):
        print(p)
    return EXIT_OK


def cmd_targets(a: argparse.Namespace) -> int:
    from .targets_book import run

    return run(Path(a.dir), Path(a.out) if a.out else None, a.json)


# --- parser ----------------------------------------------------------------------

def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD / date must be YYYY-MM-DD: {s}") from e


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xlsales", description="xlsales — Excel 销售流程 / an Excel-native sales process")
    p.add_argument("--version", action="version", version=f"xlsales {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("init", help="创建主管文件夹 / create the manager's folder")
    s.add_argument("dir")
    s.add_argument("--lang", choices=schema.LANGS, default="zh")
    s.add_argument("--roster", help="名单 CSV / roster CSV")
    s.add_argument("--period", type=_date, help="本期周一 / the Monday of the period (default: this week)")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("demo", help="示例数据全流程 / the whole flow on built-in sample data")
    s.add_argument("dir")
    s.add_argument("--reps", type=int)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--lang", choices=schema.LANGS, default="zh")
    s.add_argument("--period", type=_date)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("targets", help="目标分解 / decompose targets")
    s.add_argument("dir")
    s.add_argument("--out")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_targets)

    s = sub.add_parser("build-workbooks", help="重建 workbooks/ / rebuild the reference workbooks")
    s.add_argument("--out", default="workbooks")
    s.set_defaults(func=cmd_build)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    a = p.parse_args(argv)
    if not getattr(a, "func", None):
        p.print_help()
        return EXIT_USAGE
    try:
        return a.func(a)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def print_issues(issues: list[Issue], limit: int = 20) -> None:
    for i in issues[:limit]:
        print(f"  {i}", file=sys.stderr)
    if len(issues) > limit:
        print(f"  … +{len(issues) - limit}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
