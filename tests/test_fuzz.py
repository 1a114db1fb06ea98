"""Fuzz (issue #16 §5): hundreds of byte- and XML-level mutations of real rep workbooks, consolidated as inboxes.

Seeded, so a failure replays: each round mutates the signed workbooks ``xlsales demo`` sent into a fresh inbox
and runs the whole pipeline (read, check, combine, report) in a child process with a generous timeout.
Required: no traceback and no hang; every file in the inbox is in the counts; per file and overall,
rows read = accepted + rejected + superseded, with accepted counted from the combined tables, not derived.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from xlsales.cli import main

from .conftest import ROOT

SEED = 20261123
ROUNDS = 6  # inboxes, each consolidated once (and reported)
PER_ROUND = 52  # mutated workbooks per inbox: 6 × 52 = 312 mutations
PERIOD = "2026-11-23"

# --- byte-level mutations ----------------------------------------------------------------------------------


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 2, 8, 64])):
        i = rng.randrange(len(b))
        b[i] = rng.randrange(256)
    return bytes(b)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(1, len(data))]


def insert_junk(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + rng.randbytes(rng.choice([1, 7, 512, 4096])) + data[i:]


def blank_range(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    n = rng.choice([4, 64, 1024])
    return data[:i] + bytes([rng.choice([0, 0xFF])]) * n + data[i + n:]


def duplicate_chunk(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    n = rng.choice([16, 256, 2048])
    return data[:i] + data[i:i + n] * rng.choice([2, 3]) + data[i:]


BYTE_MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [flip_bytes, truncate, insert_junk, blank_range,
                                                                  duplicate_chunk]

# --- XML-level mutations (one part of the package, then zipped again) ---------------------------------------


def _sub_one(rng: random.Random, pattern: str, text: str, repl: Callable[[re.Match[str]], str]) -> str:
    hits = list(re.finditer(pattern, text, re.S))
    if not hits:
        return text + " "
    m = rng.choice(hits)
    return text[:m.start()] + repl(m) + text[m.end():]


WEIRD_NUMBERS = ["1e400", "-1e308", "NaN", "INF", "-0", "1" * 400, "abc", "", "3500000", "-5", "0x1F", "１２３"]


def xml_value(rng: random.Random, name: str, text: str) -> str:
    return _sub_one(rng, r"<v>[^<]*</v>", text, lambda m: f"<v>{rng.choice(WEIRD_NUMBERS)}</v>")


def xml_cell_ref(rng: random.Random, name: str, text: str) -> str:
    refs = ["XFD1048576", "A0", "ZZZZ1", "", "A1048577", "B2", "A1"]
    return _sub_one(rng, r'<c r="[A-Z]+\d+"', text, lambda m: f'<c r="{rng.choice(refs)}"')


def xml_cell_type(rng: random.Random, name: str, text: str) -> str:
    kinds = ['t="s"><v>999999</v>', 't="e"><v>#REF!</v>', 't="b"><v>2</v>', 't="str"><v></v>',
             't="inlineStr"><is><t>' + "长" * 40_000 + "</t></is>", 't="d"><v>2026-02-30</v>', 't="n"><v>x</v>']
    return _sub_one(rng, r'<c r="([A-Z]+\d+)"[^>]*>(<f>[^<]*</f>)?<v>[^<]*</v>', text,
                    lambda m: f'<c r="{m.group(1)}" ' + rng.choice(kinds))


def xml_drop_element(rng: random.Random, name: str, text: str) -> str:
    return _sub_one(rng, rng.choice([r"<c [^>]*>.*?</c>", r"<row [^>]*>.*?</row>", r"<si>.*?</si>",
                                     r"<sheet [^>]*/>", r"<mergeCell [^>]*/>", r"<definedName [^>]*>.*?</definedName>"]),
                    text, lambda m: "")


def xml_duplicate_element(rng: random.Random, name: str, text: str) -> str:
    return _sub_one(rng, rng.choice([r"<row [^>]*>.*?</row>", r"<si>.*?</si>", r"<c [^>]*>.*?</c>"]), text,
                    lambda m: m.group(0) * rng.choice([2, 50]))


def xml_truncate(rng: random.Random, name: str, text: str) -> str:
    return text[:rng.randrange(len(text))] if text else text


def xml_dimension(rng: random.Random, name: str, text: str) -> str:
    refs = ["A1:XFD1048576", "A1", "B2:A1", "A1:ZZZZ99999999", ""]
    out = _sub_one(rng, r'<dimension ref="[^"]*"/>', text, lambda m: f'<dimension ref="{rng.choice(refs)}"/>')
    return _sub_one(rng, r'<mergeCell ref="[^"]*"/>', out,
                    lambda m: f'<mergeCell ref="{rng.choice(["A1:XFD1048576", "A3:A1048576", "Z9:A1"])}"/>')


def xml_text(rng: random.Random, name: str, text: str) -> str:
    """A shared string (a rep id, a stage, a header, a signature value) becomes something else."""
    others = ["R999", "R002", "", "=1+1", "2026-13-45", "承诺", "Commit", "合计", "xlsales.signature",
              "v1:000000000000:" + "0" * 64, "\u0000", "😀" * 10, "长" * 33_000]
    return _sub_one(rng, r"<t( [^>]*)?>[^<]*</t>", text, lambda m: f"<t>{rng.choice(others)}</t>")


def xml_entities(rng: random.Random, name: str, text: str) -> str:
    return re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
                  text, count=1)


XML_MUTATIONS = [xml_value, xml_cell_ref, xml_cell_type, xml_drop_element, xml_duplicate_element, xml_truncate,
                 xml_dimension, xml_text, xml_entities]


def mutate_package(rng: random.Random, data: bytes) -> bytes:
    """One XML part changed (or one part dropped), zipped again — deflated or stored."""
    with zipfile.ZipFile(_bytes_io(data)) as z:
        parts = [(i, z.read(i)) for i in z.infolist()]
    xml = [k for k, (i, _) in enumerate(parts) if i.filename.endswith(".xml") or i.filename.endswith(".rels")]
    k = rng.choice(xml)
    info, body = parts[k]
    if rng.random() < 0.08:
        del parts[k]
    else:
        text = body.decode("utf-8", "replace")
        parts[k] = (info, rng.choice(XML_MUTATIONS)(rng, info.filename, text).encode("utf-8"))
    out = _bytes_io(b"")
    method = zipfile.ZIP_STORED if rng.random() < 0.2 else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as z:
        for i, b in parts:
            z.writestr(i.filename, b)
    return out.getvalue()


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    if rng.random() < 0.6:
        return "xml", mutate_package(rng, data)
    f = rng.choice(BYTE_MUTATIONS)
    return f.__name__, f(rng, data)


# --- the run ------------------------------------------------------------------------------------------------

DRIVER = r"""
import json, sys
from pathlib import Path
from xlsales.run import consolidate_folder

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
rounds = []
for inbox in sys.argv[3:]:
    res = consolidate_folder(folder, inbox=Path(inbox), out=out / (Path(inbox).name + ".xlsx"))
    c = res.consolidation
    rounds.append({
        "inbox": inbox,
        "files": {f.display: [f.status, f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_superseded,
                              f.signature] for f in c.files},
        "rows": c.rows,
        "ok_rows": sum(int(df["_ok"].sum()) for df in c.frames.values()),
        "rules": sorted({i.rule for i in c.issues}),
        "failed": [str(i) for i in c.issues if i.rule == "file_read_failed"],
        "report": res.report.is_file(),
    })
print(json.dumps(rounds, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz") / "d"
    assert main(["demo", str(d), "--reps", "6", "--period", PERIOD]) == 0
    return d


def test_mutated_workbooks_never_stop_the_report_and_every_row_is_counted(demo, tmp_path):
    rng = random.Random(SEED)
    seeds = sorted((demo / "inbox").glob("*.xlsx"))
    assert len(seeds) == 5
    inboxes, made, kinds = [], 0, {}
    for r in range(ROUNDS):
        inbox = tmp_path / f"inbox{r}"
        inbox.mkdir()
        for s in seeds:  # the clean files too: mutated copies compete with them
            shutil.copy2(s, inbox / s.name)
        for n in range(PER_ROUND):
            src = rng.choice(seeds)
            kind, data = mutate(rng, src.read_bytes())
            (inbox / f"{src.stem}-m{n:02d}.xlsx").write_bytes(data)
            kinds[kind] = kinds.get(kind, 0) + 1
            made += 1
        inboxes.append(inbox)
    assert made >= 300 and kinds.get("xml", 0) >= 150 and len(kinds) == 1 + len(BYTE_MUTATIONS), kinds
    out = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-c", DRIVER, str(demo), str(out), *map(str, inboxes)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-4000:]
    rounds = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(rounds) == ROUNDS
    for got, inbox in zip(rounds, inboxes, strict=True):
        on_disk = sorted(p.name for p in inbox.iterdir())
        assert sorted(got["files"]) == on_disk, "every file in the inbox is in the counts"
        for name, (st, read, accepted, rejected, superseded, signature) in got["files"].items():
            assert st in ("accepted", "rejected", "superseded"), name
            assert read == accepted + rejected + superseded, (name, st, read, accepted, rejected, superseded)
            if st != "accepted":
                assert accepted == 0, name
            if signature == "forged":
                assert st == "rejected", name  # a workbook whose identity does not verify never counts
        rows = got["rows"]
        assert rows["read"] == rows["accepted"] + rows["rejected"] + rows["superseded"]
        assert rows["accepted"] == got["ok_rows"], "accepted rows are counted in the combined tables"
        assert got["failed"] == [], got["failed"]  # no unexpected exception even inside a file's guard
        assert got["report"]
    statuses = [st for g in rounds for st, *_ in g["files"].values()]
    assert {"accepted", "rejected", "superseded"} <= set(statuses)  # the mutations reach every outcome
    signatures = {f[-1] for g in rounds for f in g["files"].values()}
    assert {"verified", "forged"} <= signatures, signatures
