"""Turn the messy values reps type into Excel into canonical Python values.

Each ``to_*`` function takes one raw cell value as python-calamine returns it
(``float``, ``int``, ``str``, ``bool``, ``datetime.date``/``datetime``/``time``/
``timedelta``, or ``""`` for an empty cell) and returns a :class:`Parsed` with
the canonical value and, when the raw value had to be reinterpreted, a ``note``
of the form ``"original → result"`` so a report can show what was done.  A value
that cannot be read raises :class:`CoerceError` carrying a rule id of
:data:`xlsales.core.issues.RULES` and the parameters of its message (never
``column`` or ``value``: the caller adds those).

Blank cells are the caller's business (see :func:`is_blank`); Excel error
values (``#N/A`` …) are never coerced: every ``to_*`` raises ``excel_error``.

Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import TypeGuard

from xlsales.core.defaults import LEGACY_LABELS
from xlsales.core.issues import RULES
from xlsales.core.money import cents
from xlsales.core.periods import EXCEL_DAY_ZERO_1904, date_to_serial

__all__ = [
    "EXCEL_ERRORS", "FALSE_WORDS", "TRUE_WORDS", "Choices", "CoerceError", "Parsed", "date_to_serial", "excel_error",
    "is_blank", "serial_to_date", "to_amount", "to_bool", "to_choice", "to_date", "to_int", "to_month",
    "to_number", "to_percent",
]


class CoerceError(Exception):
    """A raw value that cannot be read; ``rule`` is an id of ``issues.RULES``, ``params`` fill its message."""

    def __init__(self, rule: str, **params: object) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}")
        self.rule = rule
        self.params: dict[str, object] = params
        detail = ", ".join(f"{k}={v!r}" for k, v in params.items())
        super().__init__(f"{rule}({detail})" if detail else rule)


@dataclass(frozen=True)
class Parsed:
    """A canonical value; ``note`` says how the raw value was reinterpreted (None: it was canonical)."""

    value: object
    note: str | None = None


# --- shared helpers ----------------------------------------------------------

EXCEL_ERRORS: frozenset[str] = frozenset({
    "#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA",
    "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!",
})

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-"})


def _clean(s: str) -> str:
    """NFKC (full width → ASCII), drop invisible characters, unify dashes, strip."""
    return unicodedata.normalize("NFKC", s).translate(_INVISIBLE).translate(_DASHES).strip()


def _shown(raw: object) -> str:
    """The raw value as the note shows it."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _is_number(raw: object) -> TypeGuard[int | float]:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _fmt(x: float, cents: bool = False) -> str:
    """1200000.0 → '1,200,000'; 1234.5 → '1,234.50' (cents) or '1,234.5'."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}" if cents else f"{x:,}"


def _pct(x: float) -> str:
    return f"{x * 100:.6g}%"


def _check_error(raw: object) -> None:
    if excel_error(raw) is not None:
        raise CoerceError("excel_error")


def is_blank(raw: object) -> bool:
    """None, NaN, "" or a string of whitespace only (full-width space and zero-width characters included)."""
    if raw is None:
        return True
    if isinstance(raw, float):
        return math.isnan(raw)
    if isinstance(raw, str):
        first = raw[:1]  # a text that starts with a visible character is not blank: most texts, without translate
        if first and not first.isspace() and ord(first) not in _INVISIBLE:
            return False
        return not raw.translate(_INVISIBLE).strip()
    return False


def excel_error(raw: object) -> str | None:
    """The Excel error text (``"#N/A"``, ``"#DIV/0!"`` …) when ``raw`` is one, else None."""
    if not isinstance(raw, str) or (_HASH not in raw and _SMALL_HASH not in raw and _WIDE_HASH not in raw):
        return None  # every error begins with "#", and only these characters normalise to one
    s = _clean(raw).upper()
    return s if s in EXCEL_ERRORS else None


_HASHES = ("#", "\ufe5f", "\uff03")  # "#", "﹟", "＃": the characters whose NFKC form holds a "#"
_HASH, _SMALL_HASH, _WIDE_HASH = _HASHES


# --- numbers -------------------------------------------------------------------

_UNITS: dict[str, Decimal] = {
    "亿": Decimal(100_000_000), "千万": Decimal(10_000_000), "百万": Decimal(1_000_000),
    "万": Decimal(10_000), "w": Decimal(10_000), "千": Decimal(1_000), "k": Decimal(1_000),
}
_NUMBER = re.compile(
    r"""^(?P<s1>[+-])?\s*(?:¥|rmb|cny|人民币)?\s*(?P<s2>[+-])?\s*
        (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        \s*(?P<unit>亿|千万|百万|万|w|千|k)?\s*(?:元|rmb|cny|人民币)?$""",
    re.IGNORECASE | re.VERBOSE,
)


def _parse_decimal(text: str) -> Decimal | None:
    """A number written as text: thousands commas, ¥/RMB/元, 万/亿/千/k/w, (1,000) accounting negatives."""
    s = _clean(text)
    negative = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        negative, s = True, s[1:-1].strip()
    m = _NUMBER.match(s)
    if not m or (m["s1"] and m["s2"]):
        return None
    sign = m["s1"] or m["s2"]
    if negative and sign:
        return None
    try:
        d = Decimal(m["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    if m["unit"]:
        d *= _UNITS[m["unit"].lower()]
    return -d if negative or sign == "-" else d


def _number(raw: object, rule: str) -> tuple[float, str | None]:
    """A finite float from a number or numeric text; the second item is the text shown in a note (None: a number)."""
    _check_error(raw)
    if _is_number(raw):
        x = float(raw)
        if not math.isfinite(x):
            raise CoerceError(rule)
        return x, None
    if isinstance(raw, str):
        d = _parse_decimal(raw)
        if d is not None and math.isfinite(float(d)):
            return float(d), raw.strip()
    raise CoerceError(rule)


def to_amount(raw: object) -> Parsed:
    """Money in yuan, rounded to cents: ``120万`` → 1200000.0, ``(1,000)`` → -1000.0, ``¥5,000`` → 5000.0.

    A number passes with note None unless rounding to cents changed it; numeric text always gets a note.
    """
    _check_error(raw)
    if isinstance(raw, str):
        d = _parse_decimal(raw)
        if d is None or not math.isfinite(float(d)):  # 10^400 typed as text is no amount
            raise CoerceError("bad_number")
        with localcontext() as ctx:
            ctx.prec = 400  # a finite float has at most 309 integer digits: cents always fit
            value = float(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        return Parsed(value, f"{raw.strip()} → {_fmt(value, cents=True)}")
    x, _ = _number(raw, "bad_number")
    value = cents(x)
    note = None if abs(value - x) <= 1e-9 * max(1.0, abs(x)) else f"{_shown(raw)} → {_fmt(value, cents=True)}"
    return Parsed(value, note)


def to_number(raw: object) -> Parsed:
    """A plain float; text is read like an amount (commas, 万/亿/k …) but not rounded."""
    x, text = _number(raw, "bad_number")
    return Parsed(x, None if text is None else f"{text} → {_fmt(x)}")


def to_int(raw: object) -> Parsed:
    """A whole number as ``int``; 3.0 is 3 (note None), ``"1.2万"`` is 12000, 1.5 raises ``not_integer``."""
    x, text = _number(raw, "bad_number")
    n = round(x)
    if abs(x - n) > 1e-9 * max(1.0, abs(x)):
        raise CoerceError("not_integer")
    return Parsed(int(n), None if text is None else f"{text} → {n:,}")


# --- percentages ---------------------------------------------------------------

_PERCENT = re.compile(r"^(?P<num>[+-]?(?:\d+(?:\.\d+)?|\.\d+))\s*%$")
_PLAIN = re.compile(r"^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$")


def _percent(raw: object) -> tuple[float, bool] | None:
    """(ratio, reinterpreted?) or None when ``raw`` is not a percentage."""
    if _is_number(raw):
        x = float(raw)
        if not math.isfinite(x):
            return None
        if abs(x) <= 1:
            return x, False
        if not x.is_integer() and abs(x) < 10:
            return x, False  # what a percent-formatted cell stores for 130%: a ratio, not 1.3 points
        return x / 100, True
    if isinstance(raw, str):
        s = _clean(raw)
        if m := _PERCENT.match(s):
            x = float(Decimal(m["num"]) / 100)
        elif _PLAIN.match(s):
            d = Decimal(s)
            x = float(d / 100 if abs(d) > 1 else d)
        else:
            return None
        return (x, True) if math.isfinite(x) else None
    return None


def to_percent(raw: object) -> Parsed:
    """A ratio: ``90%``, ``"90"``, 90 and 0.9 all give 0.9.

    A cell number above 1 is read as percent points (90 → 90%) when it is whole or
    at least 10; a fraction below 10 (1.3) is what a percent-formatted cell holds
    for 130% and stays a ratio.

    Values above 100% come through (130 → 1.3): range checks are the caller's job.
    """
    _check_error(raw)
    got = _percent(raw)
    if got is None:
        raise CoerceError("bad_percent")
    value, changed = got
    return Parsed(value, f"{_shown(raw)} → {_pct(value)}" if changed else None)


# --- dates -----------------------------------------------------------------------

SANE_FIRST = dt.date(1990, 1, 1)
SANE_LAST = dt.date(2100, 12, 31)

_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for m in names}
_TIME = r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<sec>\d{2})(?:\.\d+)?)?)?"
_YMD = re.compile(r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _TIME + "$")
_YMD_ZH = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME + "$")
_YMD_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_XXY = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _TIME + "$")
_DMY_NAME = re.compile(r"^(?P<d>\d{1,2})[- ]+(?P<mon>[a-z]+)\.?[- ,]+(?P<y>\d{4})$", re.IGNORECASE)
_MDY_NAME = re.compile(r"^(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})$", re.IGNORECASE)
_SERIAL_TEXT = re.compile(r"^\d{1,6}(?:\.\d+)?$")


def serial_to_date(serial: float, epoch1904: bool = False) -> dt.date:
    """The date of an Excel serial number (its fraction, the time of day, is dropped); no range check.

    In the 1900 system serial 1 is 1900-01-01 and serial 60 is Excel's phantom 1900-02-29 (a ``bad_date``);
    in the 1904 system serial 0 is 1904-01-01.  A serial no calendar can hold (negative, NaN, infinite,
    past 9999-12-31) is a ``bad_date``, never an exception.  The arithmetic is openpyxl's ``from_excel``.
    """
    if not math.isfinite(serial):
        raise CoerceError("bad_date")
    days = math.floor(serial)
    if days < 0 or (not epoch1904 and days in (0, 60)):
        raise CoerceError("bad_date")
    if epoch1904 and days == 0:
        return EXCEL_DAY_ZERO_1904  # from_excel reads a serial below 1 as a time of day
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel  # here: most reads need none

    try:
        got = from_excel(days, MAC_EPOCH if epoch1904 else WINDOWS_EPOCH)
    except (OverflowError, ValueError):  # beyond datetime's year 9999
        raise CoerceError("bad_date") from None
    if not isinstance(got, dt.datetime):  # pragma: no cover - from_excel returns a datetime for whole days >= 1
        raise CoerceError("bad_date")
    return got.date()


def _sane(d: dt.date) -> bool:
    return SANE_FIRST <= d <= SANE_LAST


def _make_date(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise CoerceError("bad_date") from None


def _check_time(m: re.Match[str]) -> None:
    if m["h"] is not None and (int(m["h"]) > 23 or int(m["mi"]) > 59 or int(m["sec"] or 0) > 59):
        raise CoerceError("bad_date")


def _yyyymmdd(n: int) -> dt.date | None:
    """An 8-digit number typed as YYYYMMDD (e.g. 20261130) when it is a sane date."""
    if not 10_000_000 <= n <= 99_999_999:
        return None
    try:
        d = dt.date(n // 10_000, n // 100 % 100, n % 100)
    except ValueError:
        return None
    return d if _sane(d) else None


def _serial_date(x: float, epoch1904: bool) -> dt.date:
    if not math.isfinite(x):
        raise CoerceError("bad_date")
    if x.is_integer() and (d := _yyyymmdd(int(x))) is not None:
        return d
    d = serial_to_date(x, epoch1904)
    if not _sane(d):
        raise CoerceError("bad_date")
    return d


def _text_date(text: str, epoch1904: bool) -> dt.date:
    s = _clean(text)
    for pattern in (_YMD, _YMD_ZH):
        if m := pattern.match(s):
            _check_time(m)
            return _make_date(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _YMD_COMPACT.match(s):
        return _make_date(int(m["y"]), int(m["m"]), int(m["d"]))
    if m := _XXY.match(s):
        _check_time(m)
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        if a <= 12 and b <= 12 and a != b:
            raise CoerceError("ambiguous_date")
        if a > 12 and b > 12:
            raise CoerceError("bad_date")
        return _make_date(y, b, a) if a > 12 else _make_date(y, a, b)
    for pattern in (_DMY_NAME, _MDY_NAME):
        if (m := pattern.match(s)) and (mon := _MONTHS.get(m["mon"].lower())):
            return _make_date(int(m["y"]), mon, int(m["d"]))
    if _SERIAL_TEXT.match(s):
        return _serial_date(float(s), epoch1904)
    raise CoerceError("bad_date")


def _date(raw: object, epoch1904: bool) -> tuple[dt.date, bool]:
    """(date, reinterpreted?) for any raw value; raises ``bad_date``/``ambiguous_date``/``excel_error``."""
    _check_error(raw)
    if isinstance(raw, dt.datetime):
        return raw.date(), False
    if isinstance(raw, dt.date):
        return raw, False
    if isinstance(raw, dt.timedelta):  # a duration-formatted cell: its days are the serial
        return _serial_date(raw.total_seconds() / 86_400, epoch1904), True
    if _is_number(raw):
        return _serial_date(float(raw), epoch1904), True
    if isinstance(raw, str):
        return _text_date(raw, epoch1904), True
    raise CoerceError("bad_date")


def to_date(raw: object, epoch1904: bool = False) -> Parsed:
    """A ``datetime.date`` from a date/datetime, an Excel serial (1990–2100 only) or date text.

    Text forms: 2026-11-30, 2026/11/30, 2026.11.30, 2026年11月30日, 20261130, with an optional time;
    11/30/2026 and 30/11/2026 when one part exceeds 12 (03/04/2026 raises ``ambiguous_date``).
    """
    d, changed = _date(raw, epoch1904)
    return Parsed(d, f"{_shown(raw)} → {d.isoformat()}" if changed else None)


_YM = re.compile(r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:月份?)?$")
_YM_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$")
_MY = re.compile(r"^(?P<m>\d{1,2})[-/.](?P<y>\d{4})$")
_MON_Y = re.compile(r"^(?P<mon>[a-z]+)\.?[- ,]+(?P<y>\d{4})$", re.IGNORECASE)


def _month_of(y: int, m: int) -> dt.date:
    if not 1 <= m <= 12:
        raise CoerceError("bad_date")
    return _make_date(y, m, 1)


def _text_month(text: str) -> dt.date | None:
    s = _clean(text)
    for pattern in (_YM, _YM_COMPACT, _MY):
        if m := pattern.match(s):
            return _month_of(int(m["y"]), int(m["m"]))
    if (m := _MON_Y.match(s)) and (mon := _MONTHS.get(m["mon"].lower())):
        return _month_of(int(m["y"]), mon)
    return None


def to_month(raw: object, epoch1904: bool = False) -> Parsed:
    """The first day of a month: 2026-11, 2026/11, 2026年11月, 202611, Nov 2026, or any :func:`to_date` input.

    Note None only for a date object that already is the first of a month.
    """
    _check_error(raw)
    first: dt.date | None = None
    if isinstance(raw, str):
        first = _text_month(raw)
    elif _is_number(raw) and float(raw).is_integer() and 199_001 <= raw <= 210_012:
        n = int(raw)
        first = _month_of(n // 100, n % 100)
    if first is None:
        d, changed = _date(raw, epoch1904)
        first = d.replace(day=1)
        if not changed and d == first:
            return Parsed(first)
    return Parsed(first, f"{_shown(raw)} → {first:%Y-%m}")


# --- yes/no -----------------------------------------------------------------------

TRUE_WORDS: frozenset[str] = frozenset({
    "是", "是的", "y", "yes", "true", "1", "√", "✓", "✔", "☑", "对", "有", "已完成",
})
FALSE_WORDS: frozenset[str] = frozenset({
    "否", "不是", "n", "no", "false", "0", "×", "✗", "✘", "☒", "错", "无", "没有", "未完成",
})
_CANONICAL_BOOL = {"是", "否", "yes", "no", "Yes", "No"}


def to_bool(raw: object) -> Parsed:
    """True/False from a bool, 1/0, or a word of :data:`TRUE_WORDS`/:data:`FALSE_WORDS` (case-insensitive).

    ASCII ``x``/``X`` is rejected (``bad_bool``): a cross means "no" to some and "ticked" to others.
    Note None for a bool and for 是/否/Yes/No; anything else read gets a note.
    """
    _check_error(raw)
    if isinstance(raw, bool):
        return Parsed(raw)
    value: bool | None = None
    if _is_number(raw) and raw in (0, 1):
        value = raw == 1
    elif isinstance(raw, str):
        s = _clean(raw).casefold()
        value = True if s in TRUE_WORDS else False if s in FALSE_WORDS else None
    if value is None:
        raise CoerceError("bad_bool")
    if isinstance(raw, str) and raw.strip() in _CANONICAL_BOOL:
        return Parsed(value)
    return Parsed(value, f"{_shown(raw)} → {'是/Yes' if value else '否/No'}")


# --- choices ---------------------------------------------------------------------

Numbers = Mapping[float, str | Sequence[str]] | Iterable[tuple[float, str]]


def _key(text: str) -> str:
    """Match key: NFKC, case-folded, all whitespace removed."""
    return "".join(_clean(text).casefold().split())


def _label(zh: str, en: str) -> str:
    return zh if zh == en else f"{zh}/{en}"


def _number_pairs(numbers: Numbers) -> list[tuple[float, str]]:
    if isinstance(numbers, Mapping):
        out: list[tuple[float, str]] = []
        for p, codes in numbers.items():
            out.extend((p, c) for c in ([codes] if isinstance(codes, str) else codes))
        return out
    return list(numbers)


_LEGACY = {_key(label): code for labels in LEGACY_LABELS.values() for label, code in labels.items()}


@dataclass(frozen=True)
class Choices:
    """A list's options indexed once, so that reading a cell normalises the cell and never every option again.

    ``by_key``: match key → the codes it names (options order); ``exact``: code → its code, zh and en as typed;
    ``typed``: an option's exact text → its code, when that text names one code only (the cell a dropdown wrote).
    """

    labels: dict[str, str]
    by_key: dict[str, list[str]]
    exact: dict[str, set[str]]
    typed: dict[str, str]

    @classmethod
    def of(cls, options: list[tuple[str, str, str]]) -> Choices:
        labels = {code: _label(zh, en) for code, zh, en in options}
        by_key: dict[str, list[str]] = {}
        exact: dict[str, set[str]] = {}
        for code, zh, en in options:
            for k in dict.fromkeys((_key(code), _key(zh), _key(en), _key(f"{zh}/{en}"))):
                codes = by_key.setdefault(k, [])
                if code not in codes:
                    codes.append(code)
            exact.setdefault(code, set()).update((code, zh, en))
        typed = {t: code for code, texts in exact.items() for t in texts if by_key.get(_key(t)) == [code]}
        return cls(labels, by_key, exact, typed)

    def find(self, raw: object, numbers: Numbers | None = None) -> Parsed:
        """:func:`to_choice` over these options."""
        _check_error(raw)
        text = _shown(raw) if isinstance(raw, str) or _is_number(raw) else None
        if text:
            if text in self.typed:
                return Parsed(self.typed[text])
            hits = self.by_key.get(_key(text), [])
            if len(hits) > 1:
                raise CoerceError("ambiguous_choice", allowed=", ".join(self.labels[c] for c in hits))
            if hits:
                code = hits[0]
                return Parsed(code, None if text in self.exact[code] else f"{text} → {self.labels[code]}")
            old = _LEGACY.get(_key(text))
            if old in self.labels:  # a label of an earlier version (通路, 导入): the same choice
                return Parsed(old, None)
        if numbers is not None and (got := _percent(raw)) is not None:
            p = got[0]
            hits = list(dict.fromkeys(c for q, c in _number_pairs(numbers) if abs(q - p) < 1e-9))
            if len(hits) > 1:
                raise CoerceError("ambiguous_choice", allowed=", ".join(self.labels.get(c, c) for c in hits))
            if hits:
                return Parsed(hits[0], f"{_shown(raw)} → {self.labels.get(hits[0], hits[0])}")
        raise CoerceError("bad_choice", allowed=", ".join(self.labels.values()))


def to_choice(raw: object, options: list[tuple[str, str, str]] | Choices, numbers: Numbers | None = None) -> Parsed:
    """The code of the option ``raw`` names: its code, zh or en label, or ``zh/en`` (case/width/space-insensitive).

    ``numbers`` maps a probability to a code (``{0.25: "Met"}``), or to several codes, or is a sequence of
    ``(probability, code)`` pairs; then 25%, "25%", 0.25 and 25 select "Met".  A text or probability that
    names several codes raises ``ambiguous_choice``; anything else ``bad_choice`` — both with ``allowed``.
    Note None when ``raw`` is exactly a code or label (surrounding spaces aside).  ``options`` may be
    :class:`Choices` built once for many cells.
    """
    return (options if isinstance(options, Choices) else Choices.of(options)).find(raw, numbers)
