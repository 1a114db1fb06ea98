"""Reading finance's actuals from a file: an ERP export (.csv, .xlsx, .xls, .ods), columns found by header."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..core import schema
from ..core.actuals import normalize
from ..core.issues import Issue
from ..core.setup import Setup
from .csvtext import read_text

CSV_SUFFIXES = (".csv", ".txt")


def read_actuals(path: Path, setup: Setup | None = None) -> tuple[pd.DataFrame, list[Issue]]:
    """Read an actuals export (.csv or any workbook) by its headers; rows with errors are reported and left out.

    Raises :class:`~xlsales.io.reader.BookError` when the file cannot be opened at all.
    """
    from .intake import context
    from .reader import Book, BookError, Sheet, open_book, read_table

    setup = setup or Setup.default()
    path = Path(path)
    if path.suffix.lower() in CSV_SUFFIXES:
        rows = _csv_rows(path)
        if rows is None:
            from ..core.issues import make
            raise BookError(make("file_corrupt", path.name, "", "", path.suffix))
        book = Book(path, path.name, ["actuals"], lambda _n: Sheet("actuals", rows))
    else:
        book = open_book(path, path.name)
    tr = read_table(book, schema.ACTUALS, context(setup))
    return normalize(tr.frame), tr.issues


def _csv_rows(path: Path) -> list[list] | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(text.splitlines(), dialect)]


