"""Shared fixtures: the default setup, built workbooks, the corpus and LibreOffice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlsales.setup import Setup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup() -> Setup:
    return Setup.default()


@pytest.fixture(scope="session")
def session_setup() -> Setup:
    return Setup.default()


def lo_required() -> bool:
    """XLSALES_REQUIRE_LO set (and not 0): LibreOffice tests must run, never skip (scripts/test.sh sets it)."""
    return os.environ.get("XLSALES_REQUIRE_LO", "") not in ("", "0")


def needs_soffice() -> None:
    """Skip when LibreOffice is absent — unless XLSALES_REQUIRE_LO is set, then fail."""
    from xlsales.libreoffice import soffice

    if soffice() is not None:
        return
    if lo_required():
        pytest.fail("LibreOffice (soffice) is required (XLSALES_REQUIRE_LO is set) but not installed")
    pytest.skip("LibreOffice (soffice) not installed")


@pytest.fixture
def soffice_required() -> None:
    needs_soffice()
