"""Text files from Chinese offices: UTF-8 (with or without BOM) or GB18030, the two encodings Excel and ERPs
write CSV in on the mainland."""

from __future__ import annotations

ENCODINGS = ("utf-8-sig", "gb18030")


def decode(raw: bytes) -> str | None:
    """``raw`` as text in the first encoding that reads it whole; None when none does."""
    for enc in ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return None
