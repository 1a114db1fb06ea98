"""Signed identity and a defined "latest" (issue #16 §3).

Every workbook here is a real one: templates and rep fills built by ``xlsales demo``/``init``, copied,
renamed and edited with openpyxl the way reps and sync clients do it, some saved by LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import needs_soffice
from xlsales.cli import main
from xlsales.core.combine import Consolidation
from xlsales.core.identity import IDENTITY_SHEET, KEY_NAME
from xlsales.core.issues import Issue
from xlsales.io.inbox import consolidate
from xlsales.report.templates import load_key
from xlsales.run import consolidate_folder, load_folder_setup, refresh_folder

PERIOD = "2026-11-23"
LAST_WEEK = "2026-11-16"
OLD, NEW = 1_795_000_000, 1_795_003_600  # two file times an hour apart


def run(folder: Path, inbox: Path | None = None) -> Consolidation:
    setup, _, _ = load_folder_setup(folder)
    return consolidate(inbox or folder / "inbox", setup, key=load_key(folder))


def rules(c: Consolidation, file: str | None = None) -> list[str]:
    return sorted(i.rule for i in c.issues if file is None or i.file == file)


def the(c: Consolidation, rule: str) -> Issue:
    got = [i for i in c.issues if i.rule == rule]
    assert len(got) == 1, (rule, [str(i) for i in c.issues])
    return got[0]


def status(c: Consolidation) -> dict[str, str]:
    return {f.display: f.status for f in c.files}


def edit(path: Path, changes: dict[tuple[str, str], object], drop: str | None = None) -> Path:
    """openpyxl edits of a real workbook: {(sheet, cell): value}; ``drop`` removes a sheet. Saved now."""
    wb = openpyxl.load_workbook(path)
    for (sheet, cell), value in changes.items():
        wb[sheet][cell] = value
    if drop:
        wb.remove(wb[drop])
    wb.save(path)
    return path


def saved_at(path: Path, when: dt.datetime) -> Path:
    """Set the workbook's own saved time (docProps/core.xml dcterms:modified), as Excel does on save."""
    src = path.with_suffix(".tmp")
    path.rename(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/core.xml":
                text = data.decode()
                start = text.index("<dcterms:modified")
                end = text.index("</dcterms:modified>")
                head = text[start:text.index(">", start) + 1]
                text = text[:start] + head + when.strftime("%Y-%m-%dT%H:%M:%SZ") + text[end:]
                data = text.encode()
            zout.writestr(info, data)
    src.unlink()
    return path


def touch(path: Path, t: int) -> Path:
    os.utime(path, (t, t))
    return path


def amount_cell(path: Path) -> object:
    return openpyxl.load_workbook(path)["商机"]["D3"].value


# --- the key and the signature -------------------------------------------------------------------------


def test_init_keeps_a_private_key_beside_the_manager_workbook_never_in_a_rep_file(demo):
    key = demo / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_text().strip()
    assert len(bytes.fromhex(secret)) == 32
    for rep in [*demo.glob("templates/*.xlsx"), *demo.glob("inbox/*.xlsx")]:
        with zipfile.ZipFile(rep) as z:
            assert all(secret.encode() not in z.read(n) for n in z.namelist()), rep
        wb = openpyxl.load_workbook(rep)
        assert wb[IDENTITY_SHEET].sheet_state == "veryHidden" and wb[IDENTITY_SHEET].protection.sheet
    assert main(["init", str(demo), "--force", "--period", PERIOD]) == 0
    assert key.read_text().strip() == secret  # a new set of templates, signed with the same key


def test_demo_workbooks_verify_and_a_new_rep_s_template_from_refresh_is_signed(demo):
    c = run(demo)
    assert [f.signature for f in c.files] == ["verified"] * 3
    assert not [r for r in rules(c) if r.startswith("identity")]
    (demo / "templates" / "R004.xlsx").unlink()
    res = refresh_folder(demo)  # the Refresh button rolls every rep forward; R004 sent nothing this week
    assert [p.name for p in res.paths] == ["R001.xlsx", "R002.xlsx", "R003.xlsx", "R004.xlsx"]
    assert [i.value for i in res.issues if i.rule == "roll_not_this_week"] == ["R004"]
    shutil.copy(demo / "templates" / "R004.xlsx", demo / "inbox" / "R004.xlsx")
    c = run(demo)
    assert {f.display: f.signature for f in c.files}["R004.xlsx"] == "verified"


@pytest.mark.libreoffice
def test_the_signature_survives_libreoffice_saving_as_xlsx_ods_and_xls(demo, tmp_path):
    needs_soffice()
    from xlsales.io.libreoffice import convert

    saved = tmp_path / "saved"
    convert(demo / "inbox" / "R001.xlsx", "xlsx:Calc MS Excel 2007 XML", saved)
    convert(demo / "inbox" / "R002.xlsx", "ods", saved)
    convert(demo / "inbox" / "R003.xlsx", "xls:MS Excel 97", saved)
    c = run(demo, saved)
    assert {f.display: (f.status, f.signature) for f in c.files} == {
        "R001.xlsx": ("accepted", "verified"), "R002.ods": ("accepted", "verified"),
        "R003.xls": ("accepted", "verified")}
    assert not [r for r in rules(c) if r.startswith("identity")]


# --- forged identities --------------------------------------------------------------------------------------


def test_a_copy_whose_rep_id_was_changed_to_another_rep_s_is_rejected_as_forged(demo):
    """R002 copies their workbook, changes the rep id to R003 and drops it where R003's real file is."""
    inbox = demo / "inbox"
    real = touch(shutil.copy(demo / "templates" / "R003.xlsx", inbox / "R003.xlsx"), OLD)
    shutil.copy(demo / "templates" / "R002.xlsx", inbox / "R002.xlsx")
    forged = edit(shutil.copy(demo / "templates" / "R002.xlsx", inbox / "R003 最新.xlsx"),
                  {("说明", "C3"): "R003", ("说明", "C4"): "李娜"})
    touch(forged, NEW)
    c = run(demo)
    i = the(c, "identity_forged")
    assert (i.severity, i.file, i.sheet, i.cell, i.value) == ("error", "R003 最新.xlsx", "说明", "C3", "R003")
    assert "R002" in i.zh and "R002" in i.en
    assert status(c)["R003 最新.xlsx"] == "rejected" and status(c)[real.name] == "accepted"
    assert status(c)["R002.xlsx"] == "accepted"
    assert "R003" not in c.missing and "superseded" not in rules(c)


def test_an_edited_signature_sheet_is_forged(demo):
    inbox = demo / "inbox"
    path = edit(inbox / "R002.xlsx", {(IDENTITY_SHEET, "B3"): "R003", ("说明", "C3"): "R003"})
    c = run(demo)
    i = the(c, "identity_forged")
    assert (i.file, i.sheet, i.cell) == (path.name, IDENTITY_SHEET, "B5")
    assert status(c)["R002.xlsx"] == "rejected"


def test_a_changed_period_is_forged(demo):
    path = edit(demo / "inbox" / "R001.xlsx", {("说明", "C7"): dt.datetime(2026, 11, 30)})
    c = run(demo)
    i = the(c, "identity_forged")
    assert (i.file, i.sheet, i.cell) == (path.name, "说明", "C7") and PERIOD in i.en


# --- unsigned workbooks -------------------------------------------------------------------------------------


def _setting(folder: Path, key: str, value: str) -> None:
    wb = openpyxl.load_workbook(folder / "manager.xlsm", keep_vba=True)
    ws = wb["设置"]
    ws.append([key, "未签名的业务员工作簿", value])
    wb.save(folder / "manager.xlsm")


@pytest.mark.parametrize(("policy", "severity", "counted"), [(None, "warning", True), ("警告", "warning", True),
                                                              ("accept", None, True), ("接受", None, True),
                                                              ("reject", "error", False), ("拒收", "error", False)])
def test_an_unsigned_workbook_is_a_warning_the_manager_can_accept_or_refuse(demo, policy, severity, counted):
    edit(demo / "inbox" / "R003.xlsx", {}, drop=IDENTITY_SHEET)  # an older template, or the data copied over
    if policy:
        _setting(demo, "unsigned_workbooks", policy)
    c = run(demo)
    got = [i for i in c.issues if i.rule.startswith("identity")]
    if severity is None:
        assert got == []
    else:
        assert [(i.severity, i.file) for i in got] == [(severity, "R003.xlsx")]
        assert "unsigned_workbooks" in got[0].zh and "unsigned_workbooks" in got[0].en
    assert status(c)["R003.xlsx"] == ("accepted" if counted else "rejected")
    assert {f.display: f.signature for f in c.files}["R003.xlsx"] == "unsigned"


def test_a_bad_unsigned_workbooks_setting_is_a_setup_error(demo, capsys):
    _setting(demo, "unsigned_workbooks", "也许")
    assert main(["consolidate", str(demo)]) == 2
    assert "unsigned_workbooks" in capsys.readouterr().err


def test_a_folder_without_its_key_says_so_once(demo):
    (demo / KEY_NAME).unlink()
    res = consolidate_folder(demo)
    assert [i.rule for i in res.consolidation.issues if i.rule.startswith("identity")] == ["identity_key_missing"]


# --- which file is the latest -------------------------------------------------------------------------------


def test_last_week_s_workbook_copied_in_later_never_beats_this_week_s(tmp_path):
    d = tmp_path / "d"
    assert main(["init", str(d), "--period", LAST_WEEK]) == 0
    last_week = shutil.copy(d / "templates" / "R001.xlsx", tmp_path / "R001-last.xlsx")
    assert main(["init", str(d), "--force", "--period", PERIOD]) == 0  # the same key signs this week's set
    inbox = d / "inbox"
    this = touch(edit(shutil.copy(d / "templates" / "R001.xlsx", inbox / "R001.xlsx"),
                      {("商机", "A3"): "O-1", ("商机", "B3"): "甲公司", ("商机", "D3"): 1000}), OLD)
    late = edit(shutil.copy(last_week, inbox / "R001 上周.xlsx"),
                {("商机", "A3"): "O-1", ("商机", "B3"): "甲公司", ("商机", "D3"): 9999})
    saved_at(this, dt.datetime(2026, 11, 22, 19, 0))
    saved_at(late, dt.datetime(2026, 11, 23, 8, 0))  # saved later too
    touch(late, NEW)
    c = run(d)
    assert status(c) == {"R001.xlsx": "accepted", "R001 上周.xlsx": "superseded"}
    i = the(c, "superseded")
    assert i.file == "R001 上周.xlsx" and LAST_WEEK in i.en and "R001.xlsx" in i.en
    deals = c.frames["opportunities"]
    assert deals["amount"].tolist() == [1000] and deals["_file"].tolist() == ["R001.xlsx"]


def test_the_workbook_s_own_saved_time_beats_the_file_time(demo):
    """A sync client drops an older version as 'R002 (2).xlsx': copied later (newer mtime), saved earlier."""
    inbox = demo / "inbox"
    older = shutil.copy(inbox / "R002.xlsx", inbox / "R002 (2).xlsx")
    saved_at(older, dt.datetime(2026, 11, 22, 10, 0))
    current = edit(inbox / "R002.xlsx", {("商机", "D3"): 777_777})
    saved_at(current, dt.datetime(2026, 11, 22, 19, 0))
    touch(current, OLD)
    touch(older, NEW)
    c = run(demo)
    assert status(c)["R002.xlsx"] == "accepted" and status(c)["R002 (2).xlsx"] == "superseded"
    i = the(c, "superseded")
    assert "2026-11-22 19:00" in i.en and "R002.xlsx" in i.en


def test_a_doctored_unsigned_copy_never_replaces_the_signed_file_even_saved_later(demo):
    inbox = demo / "inbox"
    doctored = edit(shutil.copy(inbox / "R002.xlsx", inbox / "R002 (2).xlsx"), {("商机", "D3"): 9_999_999},
                    drop=IDENTITY_SHEET)
    saved_at(doctored, dt.datetime(2026, 11, 23, 8, 0))
    saved_at(inbox / "R002.xlsx", dt.datetime(2026, 11, 22, 19, 0))
    touch(doctored, NEW)
    c = run(demo)
    assert status(c)["R002.xlsx"] == "accepted" and status(c)["R002 (2).xlsx"] == "superseded"
    assert {"identity_unsigned", "superseded"} <= set(rules(c, "R002 (2).xlsx"))
    assert 9_999_999 not in c.accepted("opportunities")["amount"].tolist()


def test_two_different_files_of_one_rep_with_the_same_times_are_a_tie_issue(demo):
    inbox = demo / "inbox"
    twin = edit(shutil.copy(inbox / "R001.xlsx", inbox / "R001 副本.xlsx"), {("商机", "D3"): 123})
    when = dt.datetime(2026, 11, 22, 19, 0)
    for p in (twin, inbox / "R001.xlsx"):
        saved_at(p, when)
        touch(p, OLD)
    c = run(demo)
    i = the(c, "latest_tie")
    assert i.severity == "warning" and "R001 副本.xlsx" in i.en and "R001.xlsx" in i.en
    assert sorted(status(c)[n] for n in ("R001.xlsx", "R001 副本.xlsx")) == ["accepted", "superseded"]


def test_an_identical_copy_is_superseded_without_a_tie(demo):
    inbox = demo / "inbox"
    shutil.copy2(inbox / "R001.xlsx", inbox / "R001 - 副本.xlsx")
    c = run(demo)
    assert "latest_tie" not in rules(c)
    assert "identical" in the(c, "superseded").en


# --- archives and links -------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["archive", "归档", "old", "旧", "backup", "备份", "Archive 2025", "旧文件",
                                    "历史/2026", "备份-11月"])
def test_files_in_archive_folders_are_listed_not_counted(demo, folder):
    inbox = demo / "inbox"
    stored = inbox / folder / "R001.xlsx"
    stored.parent.mkdir(parents=True)
    edit(shutil.copy(inbox / "R001.xlsx", stored), {("商机", "D3"): 5_555_555})
    touch(stored, NEW)
    c = run(demo)
    assert str(Path(folder) / "R001.xlsx") not in status(c)
    i = the(c, "file_in_archive")
    assert (i.file, i.severity) == (str(Path(folder) / "R001.xlsx"), "warning")
    assert status(c)["R001.xlsx"] == "accepted"
    assert 5_555_555 not in c.accepted("opportunities")["amount"].tolist()


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_link_to_a_file_outside_the_inbox_is_listed_not_counted(demo, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = shutil.copy(demo / "templates" / "R004.xlsx", outside / "R004.xlsx")
    (demo / "inbox" / "R004.xlsx").symlink_to(target)
    (demo / "inbox" / "R001-link.xlsx").symlink_to(demo / "inbox" / "R001.xlsx")  # inside: read, and a duplicate
    c = run(demo)
    assert "R004.xlsx" not in status(c) and "R004" in c.missing
    i = the(c, "file_link_outside")
    assert (i.file, i.severity) == ("R004.xlsx", "warning") and str(target) in i.en
    assert status(c)["R001-link.xlsx"] in ("accepted", "superseded")
