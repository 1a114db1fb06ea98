"""Building the rep workbook and the manager workbook from the schema and the setup.

The rep workbook (``.xlsx``, no macros) has 说明 Instructions with the locked
identity block, then 拜访 Visits, 商机 Opportunities, 预测 Forecast and 客户
Customers, and a hidden 列表 Lists sheet carrying the setup lists the dropdowns
and the probability formula use.  The manager workbook holds the setup tables.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlsales import __version__
from xlsales.core import schema
from xlsales.core.identity import IDENTITY_SHEET, KEY_NAME, SIGNED_FIELDS, sign_identity
from xlsales.core.issues import col_letter
from xlsales.core.money import cents
from xlsales.core.periods import forecast_months
from xlsales.core.roll import PRINT_SPARE, capacity
from xlsales.core.schema import Lang
from xlsales.core.setup import DROPDOWN_LISTS, Setup, list_labels
from xlsales.report.writer import Formats, WriteError, atomic, new_workbook, print_setup, protect, write_table

REP_SHEETS = ("visits", "opportunities", "forecast", "customers", "attendance")
WEEKDAYS = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
            "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
LIST_SHEET = {"zh": "列表", "en": "Lists"}
INSTR_SHEET = {"zh": "说明", "en": "Instructions"}

INSTRUCTIONS = {
    "zh": [
        "如何填写本工作簿",
        "1. 每天在「拜访」表登记拜访计划(状态选「计划」),拜访后改为「完成」并填写结果、订单、收款和费用;在「出勤」表选当天的出勤情况。",
        "2. 每个商机在「商机」表占一行:编号唯一;阶段从下拉列表选择,概率和加权金额自动计算(灰色列,勿改)。",
        "3. 承诺 = 本期保证签下的单;必须达到 90% 以上,且五项承诺检查全部为「是」。有望 = 可能签但不承诺,不计入承诺。",
        "4. 每月在「预测」表填写未来 12 个月的预测和有望金额(12 个月都要填);每周日填写本周承诺与有望。",
        "5. 「客户」表登记客户等级 A(重点)/B(次要)/C(一般)。一个客户只归一位业务员。",
        "6. 带 * 的列必填。金额单位为元。请勿改动表头、删除工作表或修改身份信息;需要更多行时请联系主管。",
        "7. 每周日把本文件放入主管指定的文件夹(收件箱),文件名保持为 业务员编号.xlsx。",
    ],
    "en": [
        "How to fill in this workbook",
        "1. Log every planned visit on Visits (status Planned); after the visit set Done and fill in result, order, "
        "collection and cost; pick the day's entry on Attendance.",
        "2. One row per deal on Opportunities: a unique id; pick the stage — probability and weighted amount are "
        "computed (grey columns, do not edit).",
        "3. Commit = deals you promise to book this period: 90% or more and all five commit checks Yes. Upside = may "
        "close but not promised; never counted in commit.",
        "4. Every month fill in the 12-month forecast and upside on Forecast (all 12 months); every Sunday fill in "
        "this week's commit and upside.",
        "5. Customers: class A (key) / B (secondary) / C (other). One customer belongs to one rep.",
        "6. Columns marked * are required. Amounts are in yuan. Keep the headers, sheets and identity as they are; "
        "ask your manager for more rows.",
        "7. Every Sunday drop this file into your manager's inbox folder, named <rep id>.xlsx.",
    ],
}

BANNERS = {
    "visits": ("每日拜访计划与报告:先计划,后完成", "Daily visit plan and report: plan first, then mark done"),
    "opportunities": ("商机清单:阶段决定概率,承诺须过检查清单", "Opportunity list: the stage sets the probability; "
                      "commit must pass the checklist"),
    "customers": ("客户名册:等级决定跟进频率", "Customer list: the class sets the follow-up frequency"),
}


def write_lists_sheet(wb, fm: Formats, setup: Setup, lang: Lang, sheet_name: str, hidden: bool = True
                      ) -> dict[str, str]:
    """A sheet with one column per list (labels in lang) and defined names; returns {list: defined name}."""
    ws = wb.add_worksheet(sheet_name)
    labels = list_labels(setup, lang)
    names: dict[str, str] = {}
    stages = setup.stages
    cols: list[tuple[str, str, list]] = [
        ("xs_stage_name", "阶段 Stage", [labels["stage"][c] for c, _, _ in setup.choices("stage")]),
        ("xs_stage_prob", "概率 Probability", [float(p) for p in stages["probability"]]),
    ]
    # headed by the defined name, never by a word a rep table's header could match (purpose, market_signal …)
    cols += [(f"xs_{n}", f"xs_{n}", list(labels[n].values())) for n in DROPDOWN_LISTS]
    for ci, (name, head, values) in enumerate(cols):
        ws.write_string(0, ci, head, fm.header())
        ws.set_column(ci, ci, 16)
        for ri, v in enumerate(values, start=1):
            if isinstance(v, float):
                ws.write_number(ri, ci, v, fm.get("percent"))
            else:
                ws.write_string(ri, ci, str(v))
        last = max(len(values), 1)
        col = chr(65 + ci)
        wb.define_name(name, f"='{sheet_name}'!${col}$2:${col}${last + 1}")
        names[name.removeprefix("xs_")] = name
    names["stage"] = "xs_stage_name"
    names["bool"] = "xs_yesno"
    protect(ws)
    if hidden:
        ws.hide()
    return names


# --- the identity signature ---------------------------------------------------------------

_SIGNING: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("xlsales_signing_key", default=None)


def create_key(folder: Path) -> bytes:
    """The folder's signing key (``folder/.xlsales-key``), created with mode 0600 when there is none yet."""
    path = Path(folder) / KEY_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        key = load_key(folder)
        if key is None:
            raise WriteError(path, ValueError(f"{KEY_NAME} exists but holds no key")) from None
        return key
    except OSError as e:
        raise WriteError(path, e) from e
    key = secrets.token_bytes(32)
    try:
        os.write(fd, key.hex().encode() + b"\n")
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        os.unlink(path)
        raise WriteError(path, e) from e
    os.close(fd)
    return key


def load_key(folder: Path) -> bytes | None:
    """The signing key kept in ``folder``, or None (no key file, or not a key)."""
    try:
        text = (Path(folder) / KEY_NAME).read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError):
        return None
    return key if len(key) >= 16 else None


@contextlib.contextmanager
def signing_key(key: bytes | None) -> Iterator[None]:
    """Rep workbooks built within it are signed with ``key`` (for builders that do not pass one)."""
    token = _SIGNING.set(key)
    try:
        yield
    finally:
        _SIGNING.reset(token)


def _write_identity_sheet(wb: Workbook, key: bytes, rep_id: str, period: dt.date) -> None:
    """The very hidden, protected sheet: template id, rep id, period and their signature (cells B2:B5)."""
    template_id = uuid.uuid4().hex
    values = {"template": template_id, "rep": rep_id, "period": period.isoformat()}
    values["signature"] = sign_identity(key, rep_id, values["period"], template_id)
    ws = wb.add_worksheet(IDENTITY_SHEET)
    ws.write_string(0, 0, "xlsales 身份签名,请勿修改 / identity signature, do not edit")
    for i, (k, label) in enumerate(SIGNED_FIELDS, start=1):
        ws.write_string(i, 0, label)
        ws.write_string(i, 1, values[k])
    ws.protect(secrets.token_hex(8))
    ws.very_hidden()


def build_rep_workbook(path: Path, setup: Setup, rep: dict, lang: Lang = "zh",
                       data: dict[str, list[dict]] | None = None, *, key: bytes | None = None,
                       period: dt.date | None = None, before: Callable[[Workbook, Formats], None] | None = None,
                       after: Callable[[Workbook, Formats, dict], None] | None = None) -> Path:
    """Write one rep's workbook to ``path`` (atomically) and return the path.

    ``rep`` is a roster row (rep_id, name, team, region); ``data`` optionally
    pre-fills tables by key (``visits``, ``opportunities``, ``forecast``,
    ``weekly``, ``customers``) with rows of canonical values — codes for list
    columns, dates, numbers — or raw strings to write as typed.  ``key`` (or the
    one of an enclosing :func:`signing_key`) signs the workbook's identity.
    ``period``: the Monday the workbook is for (default: the setup's period).
    Each table holds its template's rows or the data plus headroom (:func:`xlsales.core.roll.capacity`),
    and its print area ends a few rows below the data.  ``before(wb, fm)`` may add sheets in front (a returned
    workbook's issue list); ``after(wb, fm, sheets)`` runs last with the data sheets by table key (its comments).
    """
    data = data or {}
    period = period or setup.period
    sizes = {k: capacity(schema.rep_table(k), len(data.get(k, []))) for k in ("visits", "opportunities", "customers")}
    free = {k: sizes[k] - len(data.get(k, [])) for k in sizes}
    signer = key if key is not None else _SIGNING.get()
    with atomic(path) as tmp:
        wb = new_workbook(tmp, f"xlsales {rep.get('rep_id', '')}")
        fm = Formats(wb)
        if before:
            before(wb, fm)
        labels = list_labels(setup, lang)
        instr = wb.add_worksheet(INSTR_SHEET[lang])
        sheets = {k: wb.add_worksheet(schema.rep_table(k).sheet(lang)) for k in REP_SHEETS}
        list_names = write_lists_sheet(wb, fm, setup, lang, LIST_SHEET[lang])
        list_names[schema.LIST_YESNO] = "xs_yesno"
        list_names[schema.LIST_MY_CUSTOMERS] = _my_customers(wb, lang, sizes["customers"])
        _rule_cells(wb, setup, lang, labels)
        _write_instructions(wb, instr, fm, setup, rep, lang, period, free)
        probs = setup.stage_probability()
        for k in ("visits", "opportunities", "customers"):
            table = schema.rep_table(k)
            ws = sheets[k]
            zh, en = BANNERS[k]
            ws.write_string(0, 0, zh if lang == "zh" else en, fm.title())
            rows = [_with_formulas(r, probs) for r in data.get(k, [])] if k == "opportunities" else \
                data.get(k, [])
            write_table(wb, ws, fm, table, lang, rows, labels=labels, list_names=list_names, capacity=sizes[k])
            ws.print_area(0, 0, table.first_row + min(sizes[k], len(rows) + PRINT_SPARE),
                          table.first_col + len(table.columns) - 1)
            if k == "opportunities":
                live_checks(wb, ws, sizes[k])
            ws.freeze_panes(table.first_row + 1, 0)
            protect(ws)
        ws = sheets["forecast"]
        months = forecast_months(period, int(setup.threshold("forecast_months")))
        given = {r.get("month"): r for r in data.get("forecast", [])}
        frows = [{**given.get(m, {}), "month": m} for m in months]
        write_table(wb, ws, fm, schema.FORECAST, lang, frows, labels=labels, list_names=list_names,
                    capacity=len(months))
        wrow = (data.get("weekly") or [{}])[0]
        write_table(wb, ws, fm, schema.WEEKLY, lang, [{**wrow, "week": period}], labels=labels,
                    list_names=list_names, capacity=1)
        ws.freeze_panes(schema.FORECAST.first_row + 1, 0)
        protect(ws)
        _write_attendance(wb, sheets["attendance"], fm, lang, period, data.get("attendance", []), labels, list_names)
        if signer:
            _write_identity_sheet(wb, signer, str(rep.get("rep_id", "")), period)
        instr.activate()
        if after:
            after(wb, fm, sheets)
        wb.close()
    return path


def attendance_days(period: dt.date) -> list[dt.date]:
    """The seven days a workbook for ``period`` reports attendance for: the week before it (SPEC §7)."""
    return [period - dt.timedelta(days=7 - i) for i in range(7)]


def _write_attendance(wb: Workbook, ws: Worksheet, fm: Formats, lang: Lang, period: dt.date, given: list[dict],
                      labels: dict[str, dict[str, str]], list_names: dict[str, str]) -> None:
    """出勤: one row per day of the week reported, the day and its weekday written and locked; ``given`` rows
    (by date) fill in the rep's entries."""
    t = schema.ATTENDANCE
    by_day = {(d.date() if isinstance(d, dt.datetime) else d): r for r in given
              if isinstance(d := r.get("date"), dt.date)}
    rows = [{**by_day.get(d, {}), "date": d, "weekday": WEEKDAYS[lang][i]}
            for i, d in enumerate(attendance_days(period))]
    write_table(wb, ws, fm, t, lang, rows, labels=labels, list_names=list_names, capacity=len(rows))
    ws.print_area(0, 0, t.first_row + len(rows), t.first_col + len(t.columns) - 1)
    ws.freeze_panes(t.first_row + 1, 0)
    protect(ws)


# --- the templates folder, replaced whole ----------------------------------------------

TEMPLATES = "templates"
_NEW, _OLD = ".templates-new-", ".templates-old-"


def staging_folder(folder: Path) -> Path:
    """A new hidden folder beside ``templates/`` to build a whole set of templates in (then :func:`swap_templates`)."""
    recover_templates(folder)
    try:
        return Path(tempfile.mkdtemp(prefix=_NEW, dir=folder))
    except OSError as e:
        raise WriteError(Path(folder) / TEMPLATES, e) from e


def swap_templates(folder: Path, staging: Path) -> Path:
    """Put the finished set in ``staging`` in place of ``templates/`` by two renames; the old set is then removed.

    ``templates/`` holds one whole set at every moment (old or new, never a mix); a run killed between
    the two renames is put right by :func:`recover_templates` on the next run.
    """
    folder = Path(folder)
    target, old = folder / TEMPLATES, folder / f"{_OLD}{os.getpid()}"
    try:
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as e:
        raise WriteError(target, e) from e
    shutil.rmtree(old, ignore_errors=True)
    return target


def recover_templates(folder: Path) -> None:
    """Finish or undo a template swap a killed run left, and remove its half-built sets.

    Killed between the two renames of :func:`swap_templates` (no ``templates/``), the finished new set
    (or else the old one) goes back in place; every other leftover folder is removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    target = folder / TEMPLATES
    new, old = sorted(folder.glob(f"{_NEW}*")), sorted(folder.glob(f"{_OLD}*"))
    if not target.exists() and old:
        # the old set is moved aside only once the new one is complete: put the new one in place, else the old
        os.replace(new[-1] if new else old[-1], target)
    for p in [*new, *old]:
        if p.exists():
            shutil.rmtree(p, ignore_errors=True)


# --- checks while the rep types (conditional formats reading the setup through defined names) -------------

RULE_CELLS = "xs_rule_"  # defined names of the setup values the live checks read: xs_rule_commit, …
LIVE = {"bad": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
        "warn": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
        "idle": {"bg_color": "#EDEDED", "font_color": "#A6A6A6"}}


def _my_customers(wb: Workbook, lang: Lang, rows: int) -> str:
    """The defined name of the rep's own customer names (the 客户 sheet's first column), for the dropdowns."""
    t = schema.CUSTOMERS
    col = col_letter(t.first_col + t.keys.index("customer"))
    wb.define_name("xs_my_customers", f"='{t.sheet(lang)}'!${col}${t.first_row + 2}:${col}${t.first_row + 1 + rows}")
    return "xs_my_customers"


def _rule_cells(wb: Workbook, setup: Setup, lang: Lang, labels: dict[str, dict[str, str]]) -> None:
    """The setup values the live checks compare with, on the hidden lists sheet, each under a defined name."""
    ws = wb.get_worksheet_by_name(LIST_SHEET[lang])
    values = {
        "commit": labels["category"].get("commit", "commit"), "closed": labels["category"].get("closed", "closed"),
        "lost": labels["category"].get("lost", "lost"), "won_stage": labels["stage"].get("Won", "Won"),
        "lost_stage": labels["stage"].get("Lost", "Lost"), "yes": labels["yesno"].get("yes", "yes"),
        "commit_min": setup.threshold("commit_min_probability"),
    }
    col = 26  # column AA, clear of the lists
    for i, (name, v) in enumerate(values.items()):
        ws.write_string(i, col, name)
        if isinstance(v, float):
            ws.write_number(i, col + 1, v)
        else:
            ws.write_string(i, col + 1, str(v))
        wb.define_name(f"{RULE_CELLS}{name}", f"='{ws.name}'!${col_letter(col + 1)}${i + 1}")


def live_checks(wb: Workbook, ws: Worksheet, rows: int) -> None:
    """Conditional formats on the deal list (SPEC §2, §3), red before amber before grey:

    * red row: stage and category contradict (won not closed, lost not lost, and the other way round) or a
      commit deal below the commit probability;
    * amber row: a commit deal whose checklist has an item not Yes;
    * grey checklist cells on every row that is not commit (they are asked of commit rows only).
    """
    t = schema.OPPORTUNITIES
    r0 = t.first_row + 1
    last = t.first_row + rows
    at = {c.key: f"${col_letter(t.first_col + i)}{r0 + 1}" for i, c in enumerate(t.columns)}
    chk = [t.first_col + t.keys.index(k) for k in schema.CHECKLIST]
    n = RULE_CELLS
    stage, cat, prob = at["stage"], at["category"], at["probability"]
    first_chk, last_chk = at[schema.CHECKLIST[0]], at[schema.CHECKLIST[-1]]
    contradiction = (f"=AND({stage}<>\"\",{cat}<>\"\",OR(({stage}={n}won_stage)<>({cat}={n}closed),"
                     f"({stage}={n}lost_stage)<>({cat}={n}lost)))")
    below = f"=AND({cat}={n}commit,ISNUMBER({prob}),{prob}<{n}commit_min)"
    unchecked = f"=AND({cat}={n}commit,COUNTIFS({first_chk}:{last_chk},{n}yes)<{len(schema.CHECKLIST)})"
    idle = f"={cat}<>{n}commit"
    width = t.first_col + len(t.columns) - 1
    fmt = {k: wb.add_format(v) for k, v in LIVE.items()}
    for formula, style, cols in ((contradiction, "bad", (t.first_col, width)), (below, "bad", (t.first_col, width)),
                                 (unchecked, "warn", (t.first_col, width)), (idle, "idle", (chk[0], chk[-1]))):
        ws.conditional_format(r0, cols[0], last, cols[1], {"type": "formula", "criteria": formula,
                                                            "format": fmt[style]})


def free_rows_line(free: dict[str, int], lang: Lang) -> str:
    """The instructions' line saying how many empty rows each table still has."""
    if lang == "zh":
        return (f"本工作簿还可填写:商机 {free['opportunities']} 行、拜访 {free['visits']} 行、客户 {free['customers']} 行。"
                "不够时请联系主管。")
    return (f"Rows still free in this workbook: {free['opportunities']} deals, {free['visits']} visits, "
            f"{free['customers']} customers. Ask your manager when you need more.")


def _with_formulas(row: dict, probs: dict[str, float]) -> dict:
    """A deal row with the cached values of its probability and weighted-amount formulas (``probs``: each stage's
    probability, :meth:`Setup.stage_probability`)."""
    p = probs.get(str(row.get("stage")))
    amount = row.get("amount")
    out = dict(row)
    out["probability"] = p if p is not None else ""
    out["weighted"] = cents(amount * p) if p is not None and isinstance(amount, int | float) else ""
    return out


def _write_instructions(wb, ws, fm: Formats, setup: Setup, rep: dict, lang: Lang, period: dt.date,
                        free: dict[str, int] | None = None) -> None:
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 60)
    company = setup.setting("company", "") or ""
    title = f"{company} 销售周报 · 业务员工作簿" if lang == "zh" else f"{company} weekly sales workbook"
    ws.write_string(0, 1, title, fm.get("text", bold=True, font_size=16, font_color="#1F4E78"))
    values = {
        "rep_id": rep.get("rep_id", ""), "rep_name": rep.get("name", ""), "team": rep.get("team", ""),
        "region": rep.get("region", ""), "period": period, "lang": lang,
    }
    label_fmt = fm.get("text", bold=True, fill="#DDEBF7", border=1, border_color="#BFBFBF")
    value_fmt = fm.get("text", fill="#F2F2F2", border=1, border_color="#BFBFBF")
    date_fmt = fm.get("date", fill="#F2F2F2", border=1, border_color="#BFBFBF", align="left")
    for i, f in enumerate(schema.IDENTITY):
        r = 2 + i
        ws.write_string(r, 1, f.label(lang), label_fmt)
        v = values[f.key]
        if isinstance(v, dt.date):
            ws.write_datetime(r, 2, dt.datetime(v.year, v.month, v.day), date_fmt)
        else:
            ws.write_string(r, 2, str(v), value_fmt)
        wb.define_name(f"xs_{f.key}", f"='{ws.name}'!$C${r + 1}")
    r = 3 + len(schema.IDENTITY)
    for j, line in enumerate(INSTRUCTIONS[lang]):
        ws.write_string(r + j, 1 if j == 0 else 2, line, fm.get("text", bold=True) if j == 0 else
                        fm.get("text", text_wrap=True))
        if j:
            ws.set_row(r + j, 30)
    below = r + len(INSTRUCTIONS[lang])
    if free:
        ws.write_string(below, 2, free_rows_line(free, lang), fm.get("text", text_wrap=True, bold=True))
        ws.set_row(below, 30)
        below += 1
    foot = f"xlsales {__version__}"
    ws.write_string(below + 1, 2, foot, fm.note())
    ws.hide_gridlines(2)
    print_setup(ws)
    ws.set_portrait()
    protect(ws)


# --- the manager workbook ----------------------------------------------------

SETUP_BANNERS = {
    "settings": ("设置:收件箱、台账、语言、取整单位、本期", "Settings: inbox, ledger, language, rounding unit, period"),
    "roster": ("名单:每位业务员一行;在职=否 的不生成模板", "Roster: one row per rep; inactive reps get no template"),
    "stages": ("销售阶段与概率(可按公司流程修改)", "Sales stages and probabilities (adapt to your process)"),
    "lists": ("下拉列表:代码不变,中英文名称可改", "Dropdown lists: keep the codes, edit the labels"),
    "thresholds": ("阈值:周度承诺与月度预测的健康区间", "Thresholds: healthy bands of the weekly and monthly reviews"),
    "holidays": ("节假日(目标按工作日分解时排除)", "Holidays (excluded when targets are split by working day)"),
    "targets": ("年度目标:计划目标与调高目标", "Annual targets: plan and raised"),
    "region_weights": ("大区权重:公司目标按此分到大区", "Region weights: the company target is split by these"),
    "class_weights": ("等级权重:大区目标按 A/B/C 区域等级分配", "Class weights: a region's target by area class A/B/C"),
    "area_weights": ("区域:所属大区、等级及等级内权重(空=平均)", "Areas: region, class and weight within the class"),
    "seasonality": ("旺淡季指数:年度目标按月分解", "Seasonality: the annual target split by month"),
    "adjustments": ("主管调整:覆盖业务员或团队某周的承诺,须写明原因;业务员自己的数字保留不变",
                    "Manager adjustments: override a rep's or team's commit for a week, with a reason; "
                    "the rep's own number is kept"),
}


def build_manager_workbook(path: Path, setup: Setup, lang: Lang = "zh",
                           before: Callable[[Workbook, Formats], None] | None = None,
                           after: Callable[[Workbook, Formats], None] | None = None) -> Path:
    """Write the manager workbook holding every setup table (atomically).

    ``before`` runs first (it may add sheets that come before the setup, such
    as the Control sheet); ``after`` runs last, before the file is closed (e.g.
    to add the VBA project of ``manager.xlsm``).
    """
    with atomic(path) as tmp:
        wb = new_workbook(tmp, "xlsales manager")
        fm = Formats(wb)
        if before:
            before(wb, fm)
        labels = list_labels(setup, lang)
        sheets: dict[str, object] = {}
        for t in schema.SETUP_TABLES:
            name = t.sheet(lang)
            if name not in sheets:
                ws = wb.add_worksheet(name)
                sheets[name] = ws
                zh, en = SETUP_BANNERS.get(t.key, ("", ""))
                if zh and not t.title(lang):
                    ws.write_string(0, 0, zh if lang == "zh" else en, fm.title())
                ws.freeze_panes(t.first_row + 1, 0)
        list_names = write_lists_sheet(wb, fm, setup, lang, "_lists" if lang == "en" else "_列表")
        for t in schema.SETUP_TABLES:
            rows = setup.rows(t.key)
            write_table(wb, sheets[t.sheet(lang)], fm, t, lang, rows, labels=labels, list_names=list_names,
                        capacity=max(t.rows, len(rows) + 5))
        if after:
            after(wb, fm)
        wb.close()
    return path
