"""Shared fixtures: the default setup, built workbooks, the corpus and LibreOffice."""

from __future__ import annotations

import os
import shutil
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


def needs_soffice() -> None:
    """Skip when LibreOffice is absent — unless XLSALES_REQUIRE_LO is set, then fail."""
    if shutil.which("soffice") or shutil.which("libreoffice"):
        return
    if os.environ.get("XLSALES_REQUIRE_LO"):
        pytest.fail("LibreOffice (soffice) is required (XLSALES_REQUIRE_LO is set) but not installed")
    pytest.skip("LibreOffice (soffice) not installed")


@pytest.fixture
def soffice_required() -> None:
    needs_soffice()
