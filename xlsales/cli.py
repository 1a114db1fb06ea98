"""The ``xlsales`` command: a thin layer over the library.

Exit codes: 0 done; 1 ``--strict`` and error-level issues exist; 2 usage or
setup error, or an output refused because it would replace an input or a file
xlsales did not write; 3 an output could not be written (disk full, read-only
folder, a file held open, a size limit) — the previous file is untouched;
130 interrupted.  Each with a message in zh and en, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import shutil
import sys
from pathlib import Path

from xlsales import __version__
from xlsales.console import EXIT_ISSUES, EXIT_OK, EXIT_USAGE, EXIT_WRITE, UsageError, say
from xlsales.core import schema
from xlsales.core.issues import Issue

# --- init ------------------------------------------------------------------------

ROSTER_BOOKS = (".xlsx", ".xlsm", ".xls", ".ods")


def read_roster(path: Path) -> list[dict]:
    """Roster rows from a workbook (read by the sandboxed safe reader) or a CSV (UTF-8 or GB18030).

    The headers are the Roster table's (zh, en or aliases); any problem is a :class:`UsageError` naming the file.
    """
    from xlsales.core.setup import Setup
    from xlsales.io.intake import context
    from xlsales.io.reader import Book, BookError, Sheet, open_book, read_table

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"找不到名单文件 {path}。\n  No such roster file: {path}")
    if path.suffix.lower() in ROSTER_BOOKS:
        try:
            book = open_book(path, path.name)
        except BookError as e:
            raise UsageError(f"无法读取名单 {path}:{e.issue.zh}\n  Cannot read the roster {path}: {e.issue.en}") from e
    else:
        rows = _csv_rows(path)
        book = Book(path, path.name, ["roster"], lambda _n: Sheet("roster", rows))
    tr = read_table(book, schema.ROSTER, context(Setup.default()))
    errors = [i for i in tr.issues if i.severity == "error"]
    if errors:
        raise UsageError("名单有错误 The roster has errors:\n" + "\n".join(f"  {i}" for i in errors[:20]))
    out = [{k: r[k] for k in schema.ROSTER.keys} for r in tr.accepted.to_dict("records")]
    if not out:
        raise UsageError(f"名单 {path} 中没有任何业务员。请每位业务员填一行(业务员编号、姓名、团队、大区)。\n"
                         f"  The roster {path} lists no rep. Give one row per rep (rep id, name, team, region).")
    return out


read_roster_csv = read_roster  # the former name


def _csv_rows(path: Path) -> list[list[str]]:
    """The cells of a CSV file in UTF-8 (with or without BOM) or GB18030; anything else is a UsageError."""
    import csv
    import io

    from xlsales.io.csvtext import decode

    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"无法读取名单 {path}:{e.strerror or e}\n  Cannot read the roster {path}: {e.strerror or e}"
                         ) from e
    text = decode(raw)
    if text is None:
        raise UsageError(f"名单 {path} 既不是 Excel 工作簿,也不是 UTF-8 或 GB18030 编码的 CSV。请在 Excel 中另存为"
                         f" .xlsx 或「CSV UTF-8」后重试。\n  The roster {path} is neither a workbook nor a CSV in UTF-8 "
                         "or GB18030. Save it from Excel as .xlsx or 'CSV UTF-8' and retry.")
    reader = csv.reader(io.StringIO(text))
    try:
        return [list(r) for r in reader]
    except csv.Error as e:
        raise UsageError(f"名单 {path} 第 {reader.line_num} 行不是有效的 CSV({e})。请在 Excel 中另存为 .xlsx 后重试。\n"
                         f"  Line {reader.line_num} of the roster {path} is not valid CSV ({e}). Save it from Excel "
                         "as .xlsx and retry.") from e


def do_init(folder: Path, lang: str, roster: Path | None, force: bool, period: dt.date | None, setup=None) -> dict:
    """Create the manager's folder (with ``setup`` when given, else the default one); return what was written."""
    from xlsales.core.setup import DATE_MAX, DATE_MIN, Setup, in_calendar, monday
    from xlsales.excel.workbook import build_manager_xlsm
    from xlsales.io.aside import in_halves
    from xlsales.report.templates import build_rep_workbook, create_key, staging_folder, swap_templates
    from xlsales.report.writer import WriteError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"「{folder}」是一个文件,不是文件夹;xlsales init 要的是主管文件夹(其中会有 manager.xlsm),"
                         f"如 xlsales init {folder.parent}。\n  '{folder}' is a file, not a folder: xlsales init "
                         f"takes the manager's folder (which holds manager.xlsm), e.g. xlsales init {folder.parent}.")
    if period is not None and not in_calendar(period):
        raise UsageError(f"本期(--period){period} 超出 xlsales 能处理的日期范围 {DATE_MIN} 至 {DATE_MAX}。"
                         f"请给出本期的周一,如 2026-11-23。\n  The period (--period) {period} is outside the dates "
                         f"xlsales handles, {DATE_MIN} to {DATE_MAX}. Give the period's Monday, e.g. 2026-11-23.")
    try:
        busy = folder.exists() and any(folder.iterdir())
    except OSError as e:
        raise UsageError(f"无法读取文件夹 {folder}({e.strerror or e})。\n  Cannot read the folder {folder} "
                         f"({e.strerror or e}).") from e
    if busy and not force:
        raise UsageError(f"文件夹 {folder} 已存在且非空;如需覆盖请加 --force。\n"
                         f"  {folder} exists and is not empty; add --force to overwrite.")
    if setup is None:
        rows = read_roster(roster) if roster else None
        setup = Setup.default(rows, period or monday(dt.date.today()))
    setup.tables["settings"].loc[setup.tables["settings"]["key"] == "language", "value"] = lang
    try:
        (folder / "inbox").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(folder / "inbox", e) from e
    key = create_key(folder)  # kept across init --force: templates already sent out still verify
    staging = staging_folder(folder)  # the new templates are built beside templates/, then swapped in whole
    try:
        built = in_halves([functools.partial(build_rep_workbook, staging / f"{r['rep_id']}.xlsx", setup, r, lang,  # type: ignore[arg-type]
                                             key=key) for r in setup.active_reps().to_dict("records")])
        stale = folder / "manager.xlsx"  # an older init's macro-free workbook would be shadowed; replace it
        if stale.exists():
            stale.unlink()
        manager = build_manager_xlsm(folder / "manager.xlsm", setup, lang)  # type: ignore[arg-type]
        target = swap_templates(folder, staging)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    templates = [target / p.name for p in built]
    return {"setup": setup, "manager": manager, "templates": templates, "inbox": folder / "inbox", "key": key}


def cmd_init(a: argparse.Namespace) -> int:
    out = do_init(Path(a.dir), a.lang, Path(a.roster) if a.roster else None, a.force, a.period)
    say(f"已创建 {a.dir}:主管工作簿 {out['manager']},{len(out['templates'])} 份业务员模板在 "
        f"{Path(a.dir) / 'templates'},收件箱 {out['inbox']}",
        f"Created {a.dir}: manager workbook, {len(out['templates'])} rep templates, empty inbox.")
    return EXIT_OK


# --- demo ------------------------------------------------------------------------

def cmd_demo(a: argparse.Namespace) -> int:
    from xlsales import synth
    from xlsales.core.setup import monday
    from xlsales.report.templates import signing_key

    try:
        org = None if a.reps is None else synth.demo_setup(a.reps, a.period or monday(dt.date.today()), a.seed)
    except ValueError as e:
        raise UsageError(str(e)) from e
    folder = Path(a.dir).resolve()
    if folder.exists() and any(folder.iterdir()):
        if not a.force:
            raise UsageError(f"文件夹 {folder} 已存在且非空;如需重建请加 --force。\n"
                             f"  {folder} exists and is not empty; add --force to rebuild it.")
        if not any((folder / n).exists() for n in ("manager.xlsx", "manager.xlsm")):
            raise UsageError(f"{folder} 不像 xlsales 文件夹(没有 manager.xlsm),不会删除它。\n"
                             f"  {folder} does not look like an xlsales folder (no manager.xlsm); not removing it.")
        shutil.rmtree(folder)
    out = do_init(folder, a.lang, None, False, a.period, org)
    setup = out["setup"]
    fills = synth.generate(setup, seed=a.seed, reps=a.reps, mistakes=True)
    weeks = getattr(a, "weeks", None)
    if weeks is None:  # the sample organisation gets a history; a large generated one only when asked
        from xlsales.demo_history import WEEKS

        weeks = WEEKS if a.reps is None or a.reps <= 12 else 0
    if weeks > 0:  # the weeks before, consolidated in order: the ledger's history
        from xlsales.demo_history import consolidate_past

        past = consolidate_past(folder, setup, fills, a.lang, weeks, a.seed)
        say(f"历史:已按顺序汇总此前 {weeks} 周(共 {len(past)} 次汇总,含一次重新提交)并记入台账",
            f"History: the {weeks} weeks before were consolidated in order ({len(past)} consolidations, one "
            "resubmission) into the ledger.")
    submitted = fills[:-1] if len(fills) > 2 else fills  # one rep forgets to submit: a missing submission
    with signing_key(out["key"]):  # the demo's reps send the signed templates they were given
        paths = synth.write_fills(setup, submitted, out["inbox"], a.lang, submitted=True)
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
    from xlsales.run import targets_folder

    targets_folder(folder)


def _demo_consolidate(folder: Path, a: argparse.Namespace) -> None:
    from xlsales.run import consolidate_folder

    say_consolidation(consolidate_folder(folder), per_file=False)


def _demo_roll(folder: Path, a: argparse.Namespace) -> None:
    from xlsales.run import roll_folder

    say_roll(roll_folder(folder))


DEMO_STAGES = [_demo_consolidate, _demo_targets, _demo_roll]


# --- roll ------------------------------------------------------------------------

def say_roll(res) -> None:
    """What rolling forward wrote, per rep, and its issues (zh, en)."""
    say(f"已为 {len(res.written)} 位业务员写出 {res.period} 这一周的工作簿(templates/,原工作簿按日期另存):",
        f"Wrote the workbooks of the week of {res.period} for {len(res.written)} rep(s) in templates/ (the previous "
        "ones kept under dated names):")
    for w in res.written:
        print(f"  {w.rep}: 商机 deals {w.deals} · 客户 customers {w.customers} · 预测月 forecast months "
              f"{w.forecast_months} · 计划拜访 planned visits {w.visits} ← {w.source or '空白 blank'}")
    if res.issues:
        print_issues(res.issues)


def cmd_roll(a: argparse.Namespace) -> int:
    import json

    from xlsales.run import roll_folder

    res = roll_folder(Path(a.dir), period=a.period, reps=a.rep or None, ledger=a.ledger)
    if a.json:
        print(json.dumps(res.summary(), ensure_ascii=False))
    else:
        say_roll(res)
    return EXIT_OK


# --- consolidate -----------------------------------------------------------------

def _progress(enabled: bool):
    if not enabled:
        return None

    def show(i: int, n: int, name: str) -> None:
        width = 24
        done = int(width * i / max(n, 1))
        end = "\n" if i >= n else ""
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {name[:40]:<40}{end}")
        sys.stderr.flush()

    return show


def say_consolidation(res, per_file: bool = True) -> None:
    """The consolidation's counts, this month's and all open deals, and where the inputs came from (zh, en)."""
    s = res.summary()
    c = res.consolidation
    f, r, i, t = s["files"], s["rows"], s["issues"], s["totals"]
    say(f"汇总完成:{f['read']} 个文件(计入 {f['accepted']},拒收 {f['rejected']},被替代 {f['superseded']}),"
        f"未提交 {f['missing']} 人;读取 {r['read']} 行 = 有效 {r['accepted']} + 拒绝 {r['rejected']} + 被替代 "
        f"{r['superseded']};问题:错误 {i['error']},警告 {i['warning']}。",
        f"Consolidated {f['read']} files ({f['accepted']} counted, {f['rejected']} rejected, "
        f"{f['superseded']} superseded), {f['missing']} missing; rows read {r['read']} = accepted "
        f"{r['accepted']} + rejected {r['rejected']} + superseded {r['superseded']}; issues: {i['error']} errors, "
        f"{i['warning']} warnings.")
    m, a, (m0, m1) = t["month"], t["all_open"], t["windows"]["month"]
    say(f"本月 {m0}–{m1}:已成交 {m['closed']:,.0f} · 承诺 {m['commit']:,.0f} · 有望 {m['upside']:,.0f} · 管道 "
        f"{m['pipeline']:,.0f};全部未结:承诺 {a['commit']:,.0f} · 有望 {a['upside']:,.0f} · 管道 "
        f"{a['pipeline']:,.0f} · 加权 {a['weighted']:,.0f}",
        f"Month {m0}–{m1}: closed {m['closed']:,.0f} · commit {m['commit']:,.0f} · upside {m['upside']:,.0f} · "
        f"pipeline {m['pipeline']:,.0f}; all open: commit {a['commit']:,.0f} · upside {a['upside']:,.0f} · "
        f"pipeline {a['pipeline']:,.0f} · weighted {a['weighted']:,.0f}")
    if per_file:
        print("各文件行数 rows per file (read = accepted + rejected + superseded):\n"
              + "\n".join(f"  {x.display}: {x.rows_read} = {x.rows_accepted} + {x.rows_rejected} + "
                          f"{x.rows_superseded} ({x.status})" for x in c.files))
    src = res.targets_source
    say(f"目标来源:{'分解自设置' if src == 'setup' else src}",
        f"Targets from: {'the setup (decomposed)' if src == 'setup' else src}")
    week, month = res.last_week_source, res.last_month_source
    say(f"上周:{week or '无(没有更早的报告或台账快照)'};上月:{month or '无'}",
        f"Last week: {week or 'none (no earlier report or ledger snapshot)'}; last month: {month or 'none'}")
    say(f"实际数:{res.actuals_label('zh')}", f"Actuals: {res.actuals_label('en')}")
    if res.ledger is not None:
        say(res.ledger.zh, res.ledger.en, err=not res.ledger.recorded and res.ledger.reason != "disabled")
    say(f"报告:{res.report}", f"Report: {res.report}")
    took = run_facts(res)
    steps, reused = took["steps"], took["files_from_cache"]
    parts = [(zh, en, steps[k]) for k, zh, en in (("read", "读取与校验", "reading and checking"),
                                                   ("build", "生成报表", "building the report"),
                                                   ("write", "写入", "writing")) if k in steps]
    say(f"用时 {took['seconds']:.1f} 秒(" + " · ".join(f"{zh} {v:.1f} 秒" for zh, _, v in parts) + ")"
        + (f";{reused} 个文件与上次相同,沿用了上次的读取结果" if reused else ""),
        f"Took {took['seconds']:.1f} s (" + " · ".join(f"{en} {v:.1f} s" for _, en, v in parts) + ")"
        + (f"; {reused} files unchanged since a run before: their reads were reused" if reused else ""))


def run_facts(res) -> dict:
    """How the run went, apart from its result: seconds in all and by step, and the files whose reads came from
    the read cache.  Not in the summary, which is the same however the run went."""
    return {"seconds": round(res.seconds, 3), "steps": {k: round(v, 3) for k, v in res.steps.items()},
            "files_from_cache": res.consolidation.files_from_cache}


def cmd_consolidate(a: argparse.Namespace) -> int:
    from xlsales.run import consolidate_folder

    if getattr(a, "scope", "folder") == "company":  # the national report from the regions' snapshots
        from xlsales.company import consolidate_company

        national = consolidate_company(Path(a.dir), as_of=a.as_of, out=Path(a.out) if a.out else None,
                                       ledger=a.ledger)
        if national.missing_regions:
            say(f"以下大区本周尚未汇总:{'、'.join(national.missing_regions)}(其业务员按未提交计)",
                f"Regions not consolidated this week: {', '.join(national.missing_regions)} (their reps count as "
                "missing)", err=True)
        return _finish(a, national)
    res = consolidate_folder(Path(a.dir), as_of=a.as_of, inbox=Path(a.inbox) if a.inbox else None,
                             out=Path(a.out) if a.out else None,
                             previous=Path(a.previous) if a.previous else None,
                             actuals=Path(a.actuals) if getattr(a, "actuals", None) else None,
                             progress=_progress(sys.stderr.isatty() and not a.json),
                             ledger=getattr(a, "ledger", None), cache=not getattr(a, "no_cache", False))
    errors_shown(res.actuals_issues, "实际数文件中有错误,这些行未计入 / rows with errors in the actuals file were left out:")
    return _finish(a, res)


def _finish(a: argparse.Namespace, res) -> int:
    import json

    if getattr(res, "output_issues", None):
        print("写入报告时 / while writing the report:", file=sys.stderr)
        print_issues(res.output_issues)
    s = res.summary()
    if a.json:
        print(json.dumps({**s, "run": run_facts(res)}, ensure_ascii=False))
    else:
        say_consolidation(res, per_file=not getattr(a, "quiet", False))
    if a.strict and s["issues"]["error"]:
        return EXIT_ISSUES
    return EXIT_OK


# --- build-workbooks -------------------------------------------------------------

def build_workbooks(out: Path) -> list[Path]:
    """Rebuild the committed reference workbooks (sample setup, fixed period)."""
    from xlsales.core.setup import Setup
    from xlsales.excel.workbook import build_manager_xlsm
    from xlsales.report.templates import build_rep_workbook

    setup = Setup.default()
    rep = setup.rows("roster")[0]
    out.mkdir(parents=True, exist_ok=True)
    old = out / "manager.xlsx"  # replaced by manager.xlsm
    if old.exists():
        old.unlink()
    paths = [build_manager_xlsm(out / "manager.xlsm", setup, "zh"),
             build_rep_workbook(out / "rep_template_zh.xlsx", setup, rep, "zh"),
             build_rep_workbook(out / "rep_template_en.xlsx", setup, rep, "en")]
    return paths


def cmd_build(a: argparse.Namespace) -> int:
    for p in build_workbooks(Path(a.out)):
        print(p)
    return EXIT_OK


def cmd_rules(a: argparse.Namespace) -> int:
    from xlsales.core.issues import load_all_rules, rules_markdown

    if a.markdown:
        print(rules_markdown(), end="")
        return EXIT_OK
    for r in load_all_rules().values():
        print(f"{r.id:<28} {r.severity:<8} {r.zh}\n{'':<37} {r.en}")
    return EXIT_OK


def cmd_targets(a: argparse.Namespace) -> int:
    import json

    from xlsales.run import targets_folder

    res = targets_folder(Path(a.dir), out=Path(a.out) if a.out else None)
    for i in res.issues:
        print(f"  {i}", file=sys.stderr)
    if a.json:
        print(json.dumps(res.summary(), ensure_ascii=False))
        return EXIT_OK
    say(f"目标分解表已写入 {res.workbook}", f"Targets workbook written to {res.workbook}")
    for kind, v in res.kinds.items():
        if v["target"] is None:
            continue
        ok = all(s == v["target"] for s in v["levels"].values())
        print(f"  {res.setup.label('target_kind', kind, 'zh')} {kind}: {v['target']:,}"
              f"{'(各层合计一致 every level adds up)' if ok else '(合计不一致! levels differ)'}")
    return EXIT_OK


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
    s.add_argument("--roster", help="名单 xlsx/xls/ods 或 CSV / roster workbook or CSV (UTF-8 or GB18030)")
    s.add_argument("--period", type=_date, help="本期周一 / the Monday of the period (default: this week)")
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("demo", help="示例数据全流程 / the whole flow on built-in sample data")
    s.add_argument("dir")
    s.add_argument("--reps", type=int, help="业务员人数 1-5000(默认:12 人示例组织)/ reps in the organisation, "
                   "1-5000 (default: the 12-rep sample)")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--weeks", type=int, help="此前几周的历史(默认:12 人以内 4 周,更大的组织 0)/ weeks of history "
                   "consolidated before the demo week (default 4 up to 12 reps, else 0)")
    s.add_argument("--lang", choices=schema.LANGS, default="zh")
    s.add_argument("--period", type=_date)
    s.add_argument("--force", action="store_true")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("consolidate", help="汇总收件箱 / consolidate the inbox")
    s.add_argument("dir", help="主管文件夹 / the manager's folder (holds manager.xlsm)")
    s.add_argument("--inbox", help="收件箱 / inbox folder (default: from the setup)")
    s.add_argument("--out", help="报告路径 / report path")
    s.add_argument("--as-of", dest="as_of", type=_date, help="截至日期 / as-of date YYYY-MM-DD")
    s.add_argument("--json", action="store_true", help="输出 JSON 摘要 / print a JSON summary")
    s.add_argument("--strict", action="store_true", help="有错误时退出码 1 / exit 1 when errors exist")
    s.add_argument("--previous", help="上周的汇总报告 / last week's consolidated report (for last week's commit)")
    s.add_argument("--actuals", help="财务实际数 xlsx/csv(业务员编号、月份、类型、金额)/ "
                   "finance actuals from an ERP export (rep, month, kind, amount)")
    s.add_argument("--ledger", help="台账:SQLite 文件或数据库地址(默认:设置中的 ledger)/ the ledger: a SQLite file or "
                   "a database URL such as postgresql://user@host/db (default: 'ledger' in the setup)")
    s.add_argument("--no-cache", action="store_true", help="重新读取每个文件,不用 .xlsales-cache 中的缓存 / read "
                   "every file again instead of reusing the reads cached in DIR/.xlsales-cache")
    s.add_argument("--scope", choices=("folder", "company"), default="folder",
                   help="company:由共享台账中各大区本周的快照生成全国报告(不读业务员文件)/ company: the national report "
                   "from every region's snapshot of the week in the shared ledger (no rep file is read)")
    s.set_defaults(func=cmd_consolidate)

    s = sub.add_parser("roll", help="写出下一周预填好的业务员工作簿 / write next week's pre-filled rep workbooks")
    s.add_argument("dir", help="主管文件夹 / the manager's folder (holds manager.xlsm)")
    s.add_argument("--period", type=_date, help="要写出的那一周中的某一天(默认:最近汇总那一周的下一周)/ a day of the "
                   "week to write (default: the week after the newest one consolidated)")
    s.add_argument("--rep", action="append", metavar="ID", help="只写这位业务员(可重复)/ only this rep (repeatable)")
    s.add_argument("--ledger", help="台账(默认:设置中的 ledger)/ the ledger (default: 'ledger' in the setup)")
    s.add_argument("--json", action="store_true", help="输出 JSON 摘要 / print a JSON summary")
    s.set_defaults(func=cmd_roll)

    from xlsales.history_cli import add_parser as add_history

    add_history(sub)

    s = sub.add_parser("targets", help="目标分解 / decompose targets")
    s.add_argument("dir")
    s.add_argument("--out")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_targets)

    s = sub.add_parser("rules", help="列出所有校验规则 / list every validation rule")
    s.add_argument("--markdown", action="store_true", help="输出 Markdown 表格 / print a Markdown table")
    s.set_defaults(func=cmd_rules)

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
    from xlsales.report.writer import WriteError
    from xlsales.run import RunError, write_failed

    try:
        return a.func(a)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except WriteError as e:
        print(str(write_failed(e)), file=sys.stderr)
        return EXIT_WRITE
    except RunError as e:
        print(str(e), file=sys.stderr)
        if e.issues:
            errors_shown(e.issues, "问题 Issues:")
        return e.code
    except KeyboardInterrupt:
        return 130


def errors_shown(issues: list[Issue], header: str) -> bool:
    """Print the error-level issues under ``header`` on stderr; True when there were any."""
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        print(header, file=sys.stderr)
        print_issues(errors)
    return bool(errors)


def print_issues(issues: list[Issue], limit: int = 20) -> None:
    for i in issues[:limit]:
        print(f"  {i}", file=sys.stderr)
    if len(issues) > limit:
        print(f"  … +{len(issues) - limit}", file=sys.stderr)


def command(argv: list[str] | None = None) -> int:
    """The ``xlsales`` program: :func:`main`, then an exit that does not walk what the run left behind.

    A consolidation leaves reference cycles (hundreds of thousands of objects at 200 reps) for the collector, and
    Python's shutdown runs one last full collection over them: 0.3 s after a 200-rep run, 0.9 s after a realistic
    one (docs/benchmarks.md).  The process is ending and every output is written and closed, so that pass is
    skipped: what is left is frozen, out of the collector's reach, and the operating system takes the memory back.
    Only for the program itself: a process that goes on (tests, the Excel buttons) calls :func:`main`.
    """
    code = main(argv)
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(command())
