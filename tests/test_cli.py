"""The command line: init, demo, build-workbooks, --help and --version."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from xlsales import __version__
from xlsales.cli import main
from xlsales.io.manager import load_setup

ROOT = Path(__file__).resolve().parents[1]


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("init", "demo", "build-workbooks"):
        assert cmd in out


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "xlsales.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and __version__ in r.stdout


def test_the_program_leaves_its_garbage_to_the_os_and_a_caller_in_process_keeps_its_collector():
    """``xlsales`` is :func:`xlsales.cli.command`: it freezes what is left when the work is done, so Python's exit
    does not walk it; :func:`main`, which the tests and the Excel buttons call and go on after, freezes nothing."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["xlsales"] == "xlsales.cli:command"
    probe = ("import gc; from xlsales.cli import command, main; "
             "a = main(['rules']), gc.get_freeze_count(); b = command(['rules']), gc.get_freeze_count() > 0; "
             "print(a, b)")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "(0, 0) (0, True)"


def test_init_creates_folder_and_refuses_to_overwrite(tmp_path, capsys):
    d = tmp_path / "team"
    assert main(["init", str(d), "--period", "2026-11-23"]) == 0
    assert (d / "manager.xlsm").exists() and not (d / "manager.xlsx").exists() and (d / "inbox").is_dir()
    assert sorted(p.name for p in (d / "templates").iterdir()) == [f"R{i:03d}.xlsx" for i in range(1, 13)]
    assert main(["init", str(d)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["init", str(d), "--force", "--lang", "en"]) == 0
    setup, issues = load_setup(d)
    assert issues == [] and setup.lang == "en"


def test_init_with_roster_csv(tmp_path):
    csv = tmp_path / "roster.csv"
    csv.write_text("Rep ID,Name,Team,Region,Active\nA1,Ann,North,N,yes\nA2,Bob,North,N,否\nA3,Cy,South,S,\n",
                   encoding="utf-8")
    d = tmp_path / "team"
    assert main(["init", str(d), "--roster", str(csv)]) == 0
    assert sorted(p.name for p in (d / "templates").iterdir()) == ["A1.xlsx", "A3.xlsx"]


def test_bad_roster_is_a_usage_error_naming_the_cell(tmp_path, capsys):
    csv = tmp_path / "roster.csv"
    csv.write_text("业务员编号,姓名,团队,大区\nA1,,North,N\n", encoding="utf-8")
    assert main(["init", str(tmp_path / "t"), "--roster", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "B2" in err and "required" in err


def test_demo_refuses_foreign_folder(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("mine")
    assert main(["demo", str(tmp_path), "--force"]) == 2
    assert (tmp_path / "x.txt").exists()


def test_demo_fills_the_inbox(tmp_path):
    d = tmp_path / "demo"
    assert main(["demo", str(d), "--reps", "4", "--period", "2026-11-23"]) == 0
    assert sorted(p.name for p in (d / "inbox").iterdir()) == ["R001.xlsx", "R002.xlsx", "R003.xlsx"]
