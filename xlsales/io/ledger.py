"""The ledger 台账: every consolidation kept as an immutable snapshot (SQLite by default, PostgreSQL shared).

A **snapshot** is what one consolidation saw and concluded: the files (name, SHA-256, rep, period, saved
time — the file's modified time — and received time — when it arrived in the inbox, its status-change time —,
on time), every row as submitted (canonical values, file/sheet/row, accepted or
rejected), the issues, the figures of the weekly and monthly reviews per level/key/region, and the
adjustments and targets in force.  Snapshots are only ever inserted — one transaction each — so a
process killed half-way leaves the ledger as it was, and two consolidations at once never interleave.

* **Idempotent** — a snapshot carries a content hash over its inputs (period, as-of date, scope, each
  file's name, hash and saved time, the roster, adjustments, targets and actuals in force); recording
  the same inputs again adds nothing and says which snapshot already holds them.
* **Superseded, never changed** — a resubmission gives a new snapshot for the same period; the latest
  snapshot of a period is the one in force, the older ones stay readable.
* **Where** — the 设置 Settings ``ledger`` key: a file name (``ledger.sqlite``, relative to the manager's
  folder) or a database URL (``postgresql://user@host/db``: the regions of a company share one ledger);
  ``xlsales consolidate --ledger URL`` overrides it.  Schema migrations (Alembic, ``xlsales/io/migrations``)
  run on every open, under a lock.
* **When it cannot be opened** (locked, corrupt, a newer schema, the server unreachable) the
  consolidation still writes its report, marked not recorded, with a zh/en message naming the ledger
  (its URL without the password) and what to do: :class:`LedgerError`.

SQLAlchemy Core only; the history figures read from here live in :mod:`xlsales.core.history`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from xlsales import __version__
from xlsales.core.history import (
    DEAL_COLUMNS,
    HISTORY_FIGURES,
    HISTORY_REVIEW,
    MONTHS,
    PATH_WEEKS,
    WEEKS,
    History,
    Point,
    assemble,
    deals_of,
)
from xlsales.core.records import columns_of, rows_of

if TYPE_CHECKING:
    from xlsales.core.combine import Consolidation
    from xlsales.core.setup import Setup
    from xlsales.report.book import Previous

#: Seconds to wait for another consolidation's snapshot (a lock) or for a server, before giving up.
LOCK_TIMEOUT = 30.0
MIGRATIONS = Path(__file__).with_name("migrations")
ROW_TABLES = ("opportunities", "visits", "forecast", "weekly", "customers", "attendance")
#: the review figures kept per snapshot (every figure of the weekly and monthly review grids is kept)
REVIEWS = ("weekly", "monthly")
_ADVISORY_KEY = 74_110_014  # PostgreSQL advisory lock taken while migrating and while deciding idempotency

# --- the schema as the code reads and writes it (the migrations create it) ---------------------------------

META = sa.MetaData()


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _snap() -> sa.Column:
    return sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False)


SNAPSHOTS = sa.Table(
    "snapshots", META, _id(),
    sa.Column("created", sa.DateTime), sa.Column("as_of", sa.Date), sa.Column("period", sa.Date),
    sa.Column("content_hash", sa.String(64)), sa.Column("company", sa.Text), sa.Column("lang", sa.String(2)),
    sa.Column("version", sa.String(20)), sa.Column("report", sa.Text), sa.Column("files", sa.Integer),
    sa.Column("rows_read", sa.Integer), sa.Column("rows_accepted", sa.Integer), sa.Column("errors", sa.Integer),
    sa.Column("warnings", sa.Integer), sa.Column("scope", sa.String(16)))
SUBMISSIONS = sa.Table(
    "submissions", META, _id(), _snap(),
    sa.Column("file", sa.Text), sa.Column("sha256", sa.String(64)), sa.Column("rep_id", sa.String(64)),
    sa.Column("team", sa.Text), sa.Column("region", sa.Text), sa.Column("period", sa.Date),
    sa.Column("status", sa.String(12)), sa.Column("modified", sa.DateTime), sa.Column("received", sa.DateTime),
    sa.Column("on_time", sa.Boolean), sa.Column("rows_read", sa.Integer), sa.Column("rows_accepted", sa.Integer),
    sa.Column("rows_rejected", sa.Integer), sa.Column("rows_superseded", sa.Integer),
    sa.Column("errors", sa.Integer), sa.Column("warnings", sa.Integer))
ROWS = sa.Table(
    "rows", META, _id(), _snap(),
    sa.Column("tbl", sa.String(20)), sa.Column("rep_id", sa.String(64)), sa.Column("file", sa.Text),
    sa.Column("sheet", sa.Text), sa.Column("row", sa.Integer), sa.Column("ok", sa.Boolean), sa.Column("data", sa.Text))
ISSUES = sa.Table(
    "issues", META, _id(), _snap(),
    *(sa.Column(c, sa.Text) for c in ("severity", "rule", "file", "sheet", "cell", "value", "zh", "en")))
FIGURES = sa.Table(
    "figures", META, _id(), _snap(),
    sa.Column("review", sa.String(16)), sa.Column("level", sa.String(10)), sa.Column("key", sa.Text),
    sa.Column("region", sa.Text), sa.Column("name", sa.String(40)), sa.Column("value", sa.Float))
ADJUSTMENTS = sa.Table(
    "adjustments", META, _id(), _snap(),
    sa.Column("level", sa.String(10)), sa.Column("key", sa.Text), sa.Column("region", sa.Text),
    sa.Column("week", sa.Date), sa.Column("commit", sa.Float), sa.Column("reason", sa.Text), sa.Column("by", sa.Text))
TARGETS = sa.Table(
    "targets", META, _id(), _snap(),
    sa.Column("rep_id", sa.String(64)), sa.Column("team", sa.Text), sa.Column("region", sa.Text),
    sa.Column("month", sa.Date), sa.Column("target", sa.Float))
SNAPSHOT_REGIONS = sa.Table(
    "snapshot_regions", META, sa.Column("snapshot_id", sa.Integer, primary_key=True),
    sa.Column("region", sa.String(200), primary_key=True))


# --- errors ----------------------------------------------------------------------------------------------

ADVICE = {
    "locked": ("台账正被另一次汇总占用(等待 {wait:.0f} 秒后仍未释放)。请等对方完成后重新汇总;如没有其他汇总在运行,"
               "请关闭打开该台账的程序。",
               "The ledger is held by another consolidation (still busy after {wait:.0f} s). Consolidate again once "
               "it has finished; if none is running, close whatever program has the ledger open."),
    "corrupt": ("台账文件已损坏或不是 xlsales 台账。请从备份恢复它,或在「设置」表的 ledger 中指定新的文件名后重新汇总"
                "(旧文件请保留以便排查)。",
                "The ledger file is damaged or is not an xlsales ledger. Restore it from a backup, or name a new file "
                "in 'ledger' on the Settings sheet and consolidate again (keep the old file for inspection)."),
    "newer": ("台账由更新版本的 xlsales 创建(数据库版本 {revision})。请升级本机的 xlsales 后重新汇总。",
              "The ledger was written by a newer xlsales (schema revision {revision}). Upgrade xlsales on this "
              "computer, then consolidate again."),
    "unreachable": ("无法连接台账数据库({reason})。请检查网络、服务器地址、用户名和密码后重新汇总。",
                    "Cannot reach the ledger database ({reason}). Check the network, the server address, the user "
                    "name and password, then consolidate again."),
    "failed": ("写入台账时出错({reason}),本次汇总未记入台账,台账保持原样。请重新汇总;如仍失败,请把此消息转交 xlsales "
               "维护人员。",
               "Writing to the ledger failed ({reason}); this consolidation was not recorded and the ledger is as it "
               "was. Consolidate again; if it fails again, pass this message to whoever maintains xlsales."),
    "bad_url": ("台账地址「{reason}」无效。请在「设置」表的 ledger 中填写文件名(如 ledger.sqlite)或数据库地址"
                "(如 postgresql://用户@服务器/库名)。",
                "The ledger address '{reason}' is not valid. Put a file name (e.g. ledger.sqlite) or a database URL "
                "(e.g. postgresql://user@server/db) in 'ledger' on the Settings sheet."),
}


class LedgerError(Exception):
    """The ledger could not be opened or written: ``kind`` (a key of :data:`ADVICE`), the ledger, zh and en."""

    def __init__(self, kind: str, url: str, **params: object) -> None:
        zh, en = ADVICE[kind]
        self.kind, self.url = kind, url
        self.zh = f"台账 {url}:" + zh.format(**params)
        self.en = f"Ledger {url}: " + en.format(**params)
        super().__init__(f"{self.zh}\n  {self.en}")


# --- where the ledger is --------------------------------------------------------------------------------

def ledger_url(folder: Path, setup: Setup | None = None, override: str | None = None) -> str | None:
    """The ledger's SQLAlchemy URL: ``override`` (``--ledger``), else the setup's ``ledger`` setting; a plain
    name is a SQLite file relative to ``folder``.  None when the setting is empty or ``none``/``off``."""
    value = (override if override is not None else (setup.setting("ledger", "ledger.sqlite") if setup else
                                                     "ledger.sqlite")) or ""
    value = str(value).strip()
    if not value or value.lower() in ("none", "off", "无", "否"):
        return None
    if "://" in value:
        return value
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = Path(folder) / p
    return f"sqlite:///{p.resolve()}"


def not_made_yet(url: str) -> bool:
    """A SQLite ledger whose file does not exist yet: nothing to read from it (opening it would create it)."""
    return url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file()


def safe_url(url: str) -> str:
    """The URL as it may be shown and printed: without its password."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as typed, minus anything after a colon before @
        head, at, tail = url.rpartition("@")
        return (head.split(":")[0] + ":" + head.split(":")[1] + at + tail) if at and head.count(":") >= 2 else url
    if u.get_backend_name() == "sqlite":  # a file: its path as the user wrote it, not percent-encoded
        return f"sqlite:///{u.database}" if u.database else "sqlite://"
    u = URL.create(u.drivername, u.username, None, u.host, u.port, u.database, u.query)
    return u.render_as_string(hide_password=False)


def _driver_url(url: str) -> URL:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


# --- values in and out of JSON -----------------------------------------------------------------------------

def encode(v: object) -> object:
    """A cell value as JSON: dates and times tagged, NaN and NaT as null, numpy scalars as Python's."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, dt.datetime):
        return {"$t": v.isoformat()}
    if isinstance(v, dt.date):
        return {"$d": v.isoformat()}
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()  # numpy scalar
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if isinstance(v, int | str):
        return v
    return str(v)


def encode_all(values: list[Any]) -> list[Any]:
    """:func:`encode` of each value, its commonest values (texts, numbers, blanks) taken as they are in one pass."""
    return [v if (t := type(v)) is str or t is int else v if t is float and v == v else
            None if v is None or t is float else encode(v) for v in values]


def decode(v: object) -> object:
    if isinstance(v, dict):
        if "$d" in v:
            return dt.date.fromisoformat(str(v["$d"]))
        if "$t" in v:
            return dt.datetime.fromisoformat(str(v["$t"]))
    return v


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)  # one encoder for every row (json.dumps makes one a call)


def dumps(record: dict) -> str:
    return _JSON.encode({k: encode(v) for k, v in record.items()})


def loads(text: str, keys: list[str] | None = None) -> dict:
    """A row's data decoded; with ``keys``, only those (the row has): a reader of a few columns decodes no others."""
    got = json.loads(text)
    if keys is None:
        return {k: decode(v) for k, v in got.items()}
    return {k: decode(got[k]) for k in keys if k in got}


# --- a snapshot to record ------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """Everything one consolidation records; :func:`snapshot_of` builds it."""

    as_of: dt.date
    period: dt.date
    content_hash: str
    meta: dict
    regions: list[str]
    submissions: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    adjustments: list[dict] = field(default_factory=list)
    targets: list[dict] = field(default_factory=list)
    scope: str = "folder"


def _records(df: pd.DataFrame | None) -> list[dict]:
    if df is None or df.empty:
        return []
    return [{k: encode(v) for k, v in r.items()} for r in rows_of(df)]


def content_hash(c: Consolidation, setup: Setup, frames: dict[str, pd.DataFrame], scope: str) -> str:
    """SHA-256 over the inputs of a consolidation (never over its outputs or the time it ran)."""
    files = sorted((f.display, f.sha256, f.modified.isoformat() if f.modified else "") for f in c.files)
    roster = sorted((str(r["rep_id"]), str(r.get("team")), str(r.get("region")), str(r.get("active")))
                    for r in setup.rows("roster"))
    payload = {"scope": scope, "period": c.period.isoformat(), "as_of": c.as_of.isoformat(), "files": files,
               "roster": roster, **{k: _records(frames.get(k)) for k in ("adjust", "targets", "actuals")}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def snapshot_of(c: Consolidation, setup: Setup, figures: dict, report: Path | None = None,
                scope: str = "folder") -> Snapshot:
    """The snapshot of a consolidation and its report's figures (``full_report``'s second value)."""
    from xlsales.report.book import entities

    d = figures["data"]
    frames = d.frames
    cal = d.cal
    roster = {str(r["rep_id"]): r for r in setup.rows("roster")}
    subs = []
    for f in c.files:
        r = roster.get(str(f.rep_id), {}) if f.rep_id else {}
        received = None
        with contextlib.suppress(OSError):
            received = dt.datetime.fromtimestamp(f.path.stat().st_ctime).replace(microsecond=0)
        on_time = None
        if f.status == "accepted":
            on_time = f.period == cal.period and f.modified is not None and f.modified <= cal.deadline
        subs.append({"file": f.display, "sha256": f.sha256 or "", "rep_id": f.rep_id, "team": r.get("team"),
                     "region": r.get("region"), "period": f.period, "status": f.status, "modified": f.modified,
                     "received": received, "on_time": on_time, "rows_read": f.rows_read,
                     "rows_accepted": f.rows_accepted, "rows_rejected": f.rows_rejected,
                     "rows_superseded": f.rows_superseded, "errors": f.errors, "warnings": f.warnings})
    for rep_id in c.missing:
        r = roster.get(rep_id, {})
        subs.append({"file": "", "sha256": "", "rep_id": rep_id, "team": r.get("team"), "region": r.get("region"),
                     "period": None, "status": "missing", "modified": None, "received": None, "on_time": False,
                     "rows_read": 0, "rows_accepted": 0, "rows_rejected": 0, "rows_superseded": 0, "errors": 1,
                     "warnings": 0})
    rows = []
    for tbl in ROW_TABLES:
        df = c.frames.get(tbl)
        if df is None or df.empty:
            continue
        data_cols = [k for k in df.columns if k not in ("_ok", "_file", "_sheet", "_row")]
        cols = columns_of(df)  # each column's values encoded in one pass, then each row's joined as JSON
        data = zip(*(encode_all(cols.column(k)) for k in data_cols), strict=True) if data_cols else \
            ((),) * len(df)
        for rep_id, file, sheet, row, ok, values in zip(*(cols.column(k) for k in ("rep_id", "_file", "_sheet",
                                                                                  "_row", "_ok")), data, strict=True):
            rows.append({"tbl": tbl, "rep_id": None if rep_id is None else str(rep_id),
                         "file": str(file or ""), "sheet": str(sheet or ""),
                         "row": int(row) if row is not None and row == row else None, "ok": bool(ok),
                         "data": _JSON.encode(dict(zip(data_cols, values, strict=True)))})
    ents = entities(setup)
    figs = []
    for review in REVIEWS:
        g = figures["grids"].get(review)
        if g is None:
            continue
        for key in g.values:
            for e, v in zip(ents, g.column(key), strict=False):
                if v is None:
                    continue
                figs.append({"review": review, "level": e.level, "key": e.key, "region": e.region,
                             "name": key, "value": float(v)})
    adjust = [{"level": a.get("level"), "key": str(a.get("key") or ""), "region": str(a.get("region") or ""),
               "week": a.get("week"), "commit": _float(a.get("commit")), "reason": str(a.get("reason") or ""),
               "by": str(a.get("by") or "")} for a in setup.rows("adjustments") if a.get("week") == cal.period]
    targets = [{"rep_id": str(t["rep_id"]), "team": t.get("team"), "region": t.get("region"),
                "month": t.get("month"), "target": _float(t.get("target"))}
               for t in rows_of(frames["targets"])]
    regions = sorted({str(r.get("region")) for r in setup.rows("roster")
                      if r.get("active") in (True, None) and r.get("region")})
    issues = [i.as_dict() for i in c.issues]
    meta = {"company": setup.setting("company", "") or "", "lang": d.lang, "version": __version__,
            "report": str(report or ""), "files": len(c.files), "rows_read": c.rows["read"],
            "rows_accepted": c.rows["accepted"], "errors": sum(1 for i in c.issues if i.severity == "error"),
            "warnings": sum(1 for i in c.issues if i.severity == "warning")}
    return Snapshot(c.as_of, c.period, content_hash(c, setup, frames, scope), meta, regions, subs, rows, issues,
                    figs, adjust, targets, scope)


def _float(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


# --- the ledger -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    """The outcome of :meth:`Ledger.record`: the snapshot holding these inputs, and whether it is new."""

    snapshot: int
    new: bool
    supersedes: int | None = None  # the earlier snapshot of the same period and scope, if any


class Ledger:
    """An open ledger.  Use :func:`open_ledger`; close with :meth:`close` (or ``with``)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine, self.url = engine, url

    @property
    def shown(self) -> str:
        return safe_url(self.url)

    @property
    def place(self) -> str:
        """Where the ledger is, as a person reads it: a SQLite file's path, else the URL without its password."""
        u = make_url(self.url)
        return u.database if u.get_backend_name() == "sqlite" and u.database else self.shown

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------------------
    def record(self, snap: Snapshot, step: Callable[[str], None] | None = None) -> Recorded:
        """Insert ``snap`` in one transaction, unless a snapshot with the same content hash exists.

        ``step(table)`` is called after each table's rows are inserted, inside the transaction (the
        tests kill a process there, to show a half-written snapshot never stays).
        """
        try:
            with self.engine.begin() as conn:
                if self.postgres:  # decide "is it new?" one consolidation at a time
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY + 1})
                have = conn.execute(sa.select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.content_hash == snap.content_hash)
                                    ).scalar()
                if have is not None:
                    return Recorded(int(have), False)
                before = self._current_id(conn, snap.period, snap.scope, snap.regions)
                key = conn.execute(SNAPSHOTS.insert().values(
                    created=dt.datetime.now().replace(microsecond=0), as_of=snap.as_of, period=snap.period,
                    content_hash=snap.content_hash, scope=snap.scope, **snap.meta)).inserted_primary_key
                assert key is not None  # an INSERT always has one
                sid = key[0]
                for table, rows in ((SNAPSHOT_REGIONS, [{"region": g} for g in snap.regions]),
                                    (SUBMISSIONS, snap.submissions), (ROWS, snap.rows), (ISSUES, snap.issues),
                                    (FIGURES, snap.figures), (ADJUSTMENTS, snap.adjustments),
                                    (TARGETS, snap.targets)):
                    if rows:
                        conn.execute(table.insert(), [{**r, "snapshot_id": sid} for r in rows])
                    if step:
                        step(table.name)
                return Recorded(int(sid), True, before)
        except sa.exc.IntegrityError:  # the same inputs recorded by another process a moment ago
            with self.engine.connect() as conn:
                have = conn.execute(sa.select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.content_hash == snap.content_hash)
                                    ).scalar()
            if have is None:
                raise
            return Recorded(int(have), False)
        except sa.exc.DBAPIError as e:
            raise _classify(e, self.shown) from e

    # --- reading -----------------------------------------------------------------------------------------
    def snapshots(self, scope: str | None = None) -> list[dict]:
        """Every snapshot, oldest first, with its regions and whether a later one of its period supersedes it."""
        with self.engine.connect() as conn:
            q = sa.select(SNAPSHOTS).order_by(SNAPSHOTS.c.id)
            if scope is not None:
                q = q.where(SNAPSHOTS.c.scope == scope)
            snaps = [dict(r._mapping) for r in conn.execute(q)]
            regions: dict[int, list[str]] = {}
            for sid, g in conn.execute(sa.select(SNAPSHOT_REGIONS.c.snapshot_id, SNAPSHOT_REGIONS.c.region)):
                regions.setdefault(int(sid), []).append(str(g))
        latest: dict[tuple, int] = {}
        for s in snaps:
            s["regions"] = sorted(regions.get(int(s["id"]), []))
            latest[(s["period"], s["scope"], tuple(s["regions"]))] = int(s["id"])
        for s in snaps:
            now = latest[(s["period"], s["scope"], tuple(s["regions"]))]
            s["superseded_by"] = None if now == s["id"] else now
        return snaps

    def current(self, scope: str = "folder", regions: Iterable[str] | None = None) -> dict[dt.date, dict]:
        """The snapshot in force of every period (the latest one), for ``scope`` and these regions."""
        want = None if regions is None else tuple(sorted(regions))
        out: dict[dt.date, dict] = {}
        for s in self.snapshots(scope):
            if want is not None and tuple(s["regions"]) != want:
                continue
            out[s["period"]] = s  # later ids overwrite earlier ones
        return dict(sorted(out.items()))

    def _current_id(self, conn: Connection, period: dt.date, scope: str, regions: list[str]) -> int | None:
        ids = conn.execute(sa.select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.period == period,
                                                           SNAPSHOTS.c.scope == scope).order_by(SNAPSHOTS.c.id.desc())
                           ).scalars().all()
        for sid in ids:
            have = sorted(str(g) for g in conn.execute(sa.select(SNAPSHOT_REGIONS.c.region).where(
                SNAPSHOT_REGIONS.c.snapshot_id == sid)).scalars())
            if have == sorted(regions):
                return int(sid)
        return None

    def table(self, table: sa.Table, snapshot: int | Iterable[int], *where: sa.ColumnElement[bool]) -> pd.DataFrame:
        """The rows of ``table`` in snapshot(s) (and meeting every condition of ``where``)."""
        ids = [snapshot] if isinstance(snapshot, int) else list(snapshot)
        with self.engine.connect() as conn:
            got = conn.execute(sa.select(table).where(table.c.snapshot_id.in_(ids), *where))
            columns = list(got.keys())
            rows = got.all()
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def rows(self, snapshot: int | Iterable[int], tbl: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """The rows of a rep table in snapshot(s), decoded: the data columns (only ``columns``, when given) plus
        ``_ok``, ``_file``, ``_sheet``, ``_row`` and ``_snapshot``."""
        ids = [snapshot] if isinstance(snapshot, int) else list(snapshot)
        with self.engine.connect() as conn:
            got = conn.execute(sa.select(ROWS.c.snapshot_id, ROWS.c.file, ROWS.c.sheet, ROWS.c.row, ROWS.c.ok,
                                         ROWS.c.data).where(ROWS.c.snapshot_id.in_(ids), ROWS.c.tbl == tbl)
                               .order_by(ROWS.c.id)).all()
        keep = None if columns is None else list(columns)
        recs = [{**loads(data, keep), "_ok": bool(ok), "_file": file, "_sheet": sheet, "_row": row,
                 "_snapshot": int(sid)} for sid, file, sheet, row, ok, data in got]
        return pd.DataFrame(recs)

    def figures(self, snapshot: int | Iterable[int], *, level: str | None = None, review: str | None = None,
                names: Iterable[str] | None = None) -> pd.DataFrame:
        """The review figures of snapshot(s): all of them, or those of this level, review and names."""
        where = []
        if level is not None:
            where.append(FIGURES.c.level == level)
        if review is not None:
            where.append(FIGURES.c.review == review)
        if names is not None:
            where.append(FIGURES.c.name.in_(list(names)))
        return self.table(FIGURES, snapshot, *where)

    def previous(self, snap: dict, label: str = "") -> Previous:
        """A snapshot's review figures as :class:`xlsales.book.Previous` (what the weekly and monthly reviews
        read of last week and last month)."""
        from xlsales.report.book import Previous

        f = self.figures(int(snap["id"]))
        want = {("weekly", "commit_adj"): "commit_adj", ("monthly", "open_pipe"): "pipeline_open",
                ("monthly", "commit_open"): "commit_total"}
        out: dict[tuple[str, str, str], dict] = {}
        for r in rows_of(f):
            col = want.get((r["review"], r["name"]))
            if col is None:
                continue
            d = out.setdefault((r["level"], r["key"], r["region"]),
                               {"level": r["level"], "key": r["key"], "region": r["region"]})
            d[col] = float(r["value"])
        frame = pd.DataFrame(list(out.values()), columns=["level", "key", "region", "commit_adj", "pipeline_open",
                                                           "commit_total"]).fillna(0.0)
        return Previous(frame, snap["period"], label or f"ledger #{snap['id']}")


def open_ledger(url: str, timeout: float | None = None) -> Ledger:
    """Open (creating it when new) and migrate the ledger at ``url``; :class:`LedgerError` when it cannot be."""
    wait = LOCK_TIMEOUT if timeout is None else timeout
    shown = safe_url(url)
    try:
        u = _driver_url(url)
    except Exception as e:  # noqa: BLE001 - any unparsable address
        raise LedgerError("bad_url", shown, reason=shown) from e
    try:
        if u.get_backend_name() == "sqlite":
            db = u.database or ""
            if db and db != ":memory:" and not Path(db).parent.is_dir():
                raise LedgerError("unreachable", shown, reason=f"no folder {Path(db).parent}")
            engine = sa.create_engine(u, connect_args={"timeout": wait}, poolclass=sa.pool.NullPool)
            _sqlite_transactions(engine)
        else:
            engine = sa.create_engine(u, connect_args={"connect_timeout": max(1, int(min(wait, 10)))},
                                      poolclass=sa.pool.NullPool)
    except LedgerError:
        raise
    except Exception as e:  # noqa: BLE001 - unknown driver, bad options
        raise LedgerError("bad_url", shown, reason=f"{shown}: {type(e).__name__}") from e
    ledger = Ledger(engine, url)
    try:
        _migrate(ledger, wait)
    except LedgerError:
        engine.dispose()
        raise
    except sa.exc.DBAPIError as e:
        engine.dispose()
        raise _classify(e, shown, wait) from e
    return ledger


def _sqlite_transactions(engine: Engine) -> None:
    """SQLite: every transaction takes the write lock at its start (``BEGIN IMMEDIATE``), so two writers wait
    for each other instead of failing half-way; pysqlite's own transaction handling is switched off."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: object) -> None:
        dbapi_conn.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    return str(ScriptDirectory.from_config(cfg).get_current_head())


HEAD_REVISION = "0002"  # the newest migration's revision (the tests check it is Alembic's head)


def _at_head(ledger: Ledger) -> bool:
    """Whether the ledger's schema is already :data:`HEAD_REVISION`, read with plain SQL: the ledger of every run
    after the first, opened without importing Alembic (a third of a second).  A ledger that cannot be read
    (locked, corrupt, unreachable) raises here, once, as it would in the migration."""
    with ledger.engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return False
        return bool(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION)


def _migrate(ledger: Ledger, wait: float, target: str = "head") -> None:
    if target == "head" and _at_head(ledger):
        return
    from alembic import command
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with ledger.engine.begin() as conn:
        if ledger.postgres:
            conn.execute(sa.text("SELECT set_config('lock_timeout', :t, true)"), {"t": f"{int(wait * 1000)}ms"})
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        cfg = _alembic_config(conn)
        script = ScriptDirectory.from_config(cfg)
        have = MigrationContext.configure(conn).get_current_revision()
        if have is not None and have not in {s.revision for s in script.walk_revisions()}:
            raise LedgerError("newer", ledger.shown, revision=have)
        if have is None and _has_foreign_tables(conn):
            raise LedgerError("corrupt", ledger.shown)
        if have != (script.get_current_head() if target == "head" else target):
            command.upgrade(cfg, target)


def migrate_to(url: str, revision: str) -> None:
    """Bring a ledger to ``revision`` (the tests build a schema-1 ledger with it)."""
    engine = sa.create_engine(_driver_url(url), poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    try:
        _migrate(Ledger(engine, url), LOCK_TIMEOUT, revision)
    finally:
        engine.dispose()


def _has_foreign_tables(conn: Connection) -> bool:
    """A database with tables but no migration history is someone else's: never write into it."""
    names = set(sa.inspect(conn).get_table_names())
    return bool(names - {"alembic_version"}) and "snapshots" not in names


def _classify(e: BaseException, shown: str, wait: float | None = None) -> LedgerError:
    text = str(getattr(e, "orig", e) or e)
    low = text.lower()
    reason = text.strip().splitlines()[0][:200] if text.strip() else type(e).__name__
    if "locked" in low or "lock timeout" in low or "canceling statement due to lock" in low:
        return LedgerError("locked", shown, wait=LOCK_TIMEOUT if wait is None else wait)
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        return LedgerError("corrupt", shown)
    if isinstance(e, sa.exc.OperationalError) and ("connect" in low or "connection" in low or "unable to open" in low
                                                   or "could not translate host" in low or "timeout" in low
                                                   or "password" in low or "does not exist" in low):
        return LedgerError("unreachable", shown, reason=reason)
    return LedgerError("failed", shown, reason=reason)


__all__ = ["Ledger", "LedgerError", "Recorded", "Snapshot", "ledger_url", "open_ledger", "safe_url", "snapshot_of"]


# --- the history, read from the snapshots (the rules are pure: xlsales.core.history) -----------------------

def points_of(ledger: Ledger, snaps: list[dict]) -> list[Point]:
    """Snapshots as points (their deals, submissions and figures), in the order given."""
    if not snaps:
        return []
    ids = [int(s["id"]) for s in snaps]
    rows = ledger.rows(ids, "opportunities", DEAL_COLUMNS)
    subs = ledger.table(SUBMISSIONS, ids)
    figs = ledger.figures(ids, level="rep", review=HISTORY_REVIEW, names=HISTORY_FIGURES)
    out = []
    for s in snaps:
        sid = int(s["id"])
        mine = rows[rows["_snapshot"] == sid] if not rows.empty else rows
        sub = subs[subs["snapshot_id"] == sid]
        counted = {str(r) for r, st in zip(sub["rep_id"], sub["status"], strict=True) if st == "accepted" and r}
        on_time: dict[str, bool] = {}
        for r, st, ok in zip(sub["rep_id"], sub["status"], sub["on_time"], strict=True):
            if r:
                on_time[str(r)] = on_time.get(str(r), False) or (st == "accepted" and bool(ok))
        out.append(Point(s["period"], s["as_of"], deals_of(mine), counted, on_time,
                         figs[figs["snapshot_id"] == sid], sid))
    return out


# --- deal changes --------------------------------------------------------------------------------------------


def build(ledger: Ledger, now: Point, setup: Setup, scope: str = "folder", regions: list[str] | None = None,
          weeks: int = WEEKS, months: int = MONTHS) -> History:
    """The history of ``now`` from the ledger's snapshots in force of earlier periods (same scope and regions)."""
    current = ledger.current(scope, regions)
    horizon = now.period - dt.timedelta(days=7 * max(PATH_WEEKS, weeks, months * 5))
    snaps = [s for p, s in current.items() if horizon <= p < now.period]
    points = points_of(ledger, snaps)
    return assemble(points, now, setup, weeks, months, snaps)
