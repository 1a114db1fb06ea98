"""LibreOffice headless as an independent spreadsheet engine.

Every figure xlsales writes is a live formula whose cached value is the number
Python computed.  :func:`check_formulas` recalculates a workbook in LibreOffice
and compares each formula's cached value with LibreOffice's result, so a report
whose formulas disagree with Python fails its tests.

LibreOffice trusts cached xlsx values on load by default (OOXMLRecalcMode = 1,
"never recalculate").  Every run here uses a private user profile whose
``registrymodifications.xcu`` sets ``/org.openoffice.Office.Calc/Formula/Load``
``OOXMLRecalcMode`` and ``ODFRecalcMode`` to 0 ("always recalculate"), so each
formula is recomputed when LibreOffice loads the file.

One profile is made per process (first start with a new profile is slow) and
removed at exit; runs within a process are serialised, since two soffice
processes sharing a profile would hand work to each other.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import glob
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FormulaCheck",
    "LibreOfficeError",
    "check_formulas",
    "convert",
    "recalculate",
    "render_png",
    "soffice",
]

#: Recalculation on load written into the profile: 0 = always, 1 = never (LibreOffice's default), 2 = ask.
RECALC_MODE = 0

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
</oor:items>
"""

_CANDIDATES = (
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
)

_lock = threading.Lock()
_profile: tuple[int, Path] | None = None  # (pid that made it, directory)


class LibreOfficeError(RuntimeError):
    """soffice or pdftoppm is missing, failed, timed out or produced no output."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(f"{message}\n{stderr}".rstrip())
        self.stderr = stderr


@dataclass
class FormulaCheck:
    """Result of :func:`check_formulas`: formula cells compared, and one line per disagreement."""

    cells: int
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def soffice() -> str | None:
    """Path of LibreOffice's ``soffice`` (``$XLSALES_SOFFICE``, then PATH, then usual places), or None."""
    env = os.environ.get("XLSALES_SOFFICE")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((c for c in _CANDIDATES if Path(c).is_file()), None)


def _profile_dir() -> Path:
    """This process's private LibreOffice profile, with recalculation on load forced to "always"."""
    global _profile
    if _profile is None or _profile[0] != os.getpid() or not _profile[1].is_dir():
        root = Path(tempfile.mkdtemp(prefix="xlsales-lo-profile-"))
        (root / "user").mkdir()
        (root / "user" / "registrymodifications.xcu").write_text(_XCU.format(mode=RECALC_MODE), encoding="utf-8")
        _profile = (os.getpid(), root)
        atexit.register(shutil.rmtree, root, True)
    return _profile[1]


def _drop_profile() -> None:
    """Forget (and delete) the profile, e.g. after a killed run that may have left it locked."""
    global _profile
    if _profile is not None and _profile[0] == os.getpid():
        shutil.rmtree(_profile[1], ignore_errors=True)
    _profile = None


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group; on timeout kill the whole group and raise."""
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):  # soffice is a wrapper: kill oosplash and soffice.bin with it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a child that left the group still holds the pipes
            proc.kill()
            out, err = "", ""
        raise LibreOfficeError(f"timed out after {timeout:g}s: {' '.join(cmd)}", f"{out}\n{err}".strip()) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 120) -> Path:
    """Convert ``src`` with headless LibreOffice; return ``outdir/<stem>.<ext>``.

    ``fmt`` is soffice's ``--convert-to`` argument: ``"pdf"``, ``"xlsx"``, ``"ods"``,
    or ``"ext:Filter Name"``.  Raises :class:`LibreOfficeError` (with soffice's
    output) when soffice is absent, fails, times out or writes nothing.
    """
    exe = soffice()
    if exe is None:
        raise LibreOfficeError("LibreOffice (soffice) not found; install libreoffice-calc")
    src = Path(src).resolve()
    if not src.is_file():
        raise FileNotFoundError(src)
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{src.stem}.{fmt.split(':', 1)[0]}"
    if target == src:
        raise ValueError(f"converting {src} into {outdir} would overwrite it")
    with _lock, tempfile.TemporaryDirectory(prefix=".lo-", dir=outdir) as tmp:
        profile = _profile_dir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--nofirststartwizard",
            "--nolockcheck",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            res = _run(cmd, timeout)
        except LibreOfficeError:
            _drop_profile()
            raise
        made = [p for p in Path(tmp).iterdir() if p.is_file()]
        if res.returncode != 0 or len(made) != 1:
            raise LibreOfficeError(
                f"soffice --convert-to {fmt} {src.name} failed (exit {res.returncode}, {len(made)} files written)",
                f"{res.stdout}\n{res.stderr}".strip(),
            )
        shutil.move(made[0], target)
    return target


def recalculate(src: Path, outdir: Path, timeout: float = 300) -> Path:
    """Return ``outdir/<stem>.xlsx``: ``src`` re-saved by LibreOffice after recomputing every formula on load.

    Large SUMIFS grids are slow to recompute (about a minute for 2,700 five-criteria
    SUMIFS over 23,000 rows here), hence the longer default timeout.
    """
    return convert(src, "xlsx:Calc MS Excel 2007 XML", outdir, timeout=timeout)


def _formula_text(value: object) -> str | None:
    """The formula of an openpyxl cell value, or None if it holds no formula."""
    if isinstance(value, str):
        return value if value.startswith("=") else None
    text = getattr(value, "text", None)  # ArrayFormula
    if isinstance(text, str):
        return text
    if type(value).__name__ == "DataTableFormula":
        return "{=TABLE()}"
    return None


def _same(a: object, b: object, rel: float, money: float) -> bool:
    """Whether a cached value ``a`` and a recalculated value ``b`` agree.

    Numbers: ``|a-b| <= max(money if max(|a|,|b|) >= 1 else 0, rel*max(|a|,|b|))``
    (half a cent absolute on amounts, relative otherwise).  Strings exactly;
    "" equals None.  Booleans only equal booleans.  Dates and times within 1 ms.
    """
    a = None if a == "" else a
    b = None if b == "" else b
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        scale = max(abs(x), abs(y))
        return abs(x - y) <= max(money if scale >= 1 else 0.0, rel * scale)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs(a - b) <= dt.timedelta(milliseconds=1)
    if isinstance(a, dt.timedelta) and isinstance(b, dt.timedelta):
        return abs(a - b) <= dt.timedelta(milliseconds=1)
    return type(a) is type(b) and a == b


def check_formulas(
    src: Path, workdir: Path, rel: float = 1e-9, money: float = 0.005, timeout: float = 300
) -> FormulaCheck:
    """Recalculate ``src`` in LibreOffice and compare every formula cell's cached value with the result.

    ``workdir`` receives the recalculated copy.  See :func:`_same` for the
    tolerance.  Each mismatch reads ``Sheet!A1 =FORMULA: cached=… recalculated=…``.
    """
    import openpyxl  # heavy; only needed here

    src = Path(src)
    formulas = openpyxl.load_workbook(src)
    cached = openpyxl.load_workbook(src, data_only=True)
    recalc = openpyxl.load_workbook(recalculate(src, Path(workdir), timeout), data_only=True)
    cells = 0
    mismatches: list[str] = []
    for ws in formulas.worksheets:
        if ws.title not in recalc.sheetnames:
            mismatches.append(f"{ws.title}: sheet missing after LibreOffice recalculation")
            continue
        cws, rws = cached[ws.title], recalc[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                formula = _formula_text(cell.value)
                if formula is None:
                    continue
                cells += 1
                a = cws[cell.coordinate].value
                b = rws[cell.coordinate].value
                if not _same(a, b, rel, money):
                    mismatches.append(f"{ws.title}!{cell.coordinate} {formula}: cached={a!r} recalculated={b!r}")
    return FormulaCheck(cells, mismatches)


def render_png(src: Path, outdir: Path, dpi: int = 80) -> list[Path]:
    """Render ``src`` to PDF with LibreOffice, then to one PNG per page with pdftoppm."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise LibreOfficeError("pdftoppm not found; install poppler-utils")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pdf-", dir=outdir) as tmp:
        pdf = convert(Path(src), "pdf", Path(tmp))
        stem = Path(src).stem
        for old in _pages(outdir, stem):
            old.unlink()
        res = _run([exe, "-png", "-r", str(dpi), str(pdf), str(outdir / stem)], timeout=120)
        if res.returncode != 0:
            raise LibreOfficeError(f"pdftoppm failed on {pdf.name} (exit {res.returncode})", res.stderr)
    pages = _pages(outdir, stem)
    if not pages:
        raise LibreOfficeError(f"pdftoppm wrote no pages for {pdf.name}", res.stderr)
    return pages


def _pages(outdir: Path, stem: str) -> list[Path]:
    """pdftoppm's ``<stem>-<n>.png`` files in ``outdir``, in page order."""
    found = [
        (m, p)
        for p in outdir.glob(f"{glob.escape(stem)}-*.png")
        if (m := re.fullmatch(r"\d+", p.stem[len(stem) + 1 :]))
    ]
    return [p for m, p in sorted(found, key=lambda mp: int(mp[0].group()))]
