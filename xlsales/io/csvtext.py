"""Text files from Chinese offices: UTF-8 (with or without BOM) or GB18030, the two encodings Excel and ERPs
write CSV in on the mainland."""

from __future__ import annotations

from pathlib import Path

ENCODINGS = ("utf-8-sig", "gb18030")


def decode(raw: bytes) -> str | None:
    """``raw`` as text in the first encoding that reads it whole; None when none does."""
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def read_text(path: Path) -> str | None:
    """The text of the file at ``path`` (:func:`decode`); None when it cannot be read or decoded."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    return decode(raw)
