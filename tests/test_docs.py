"""Docs generated from the code stay current."""

from __future__ import annotations

from xlsales.issues import RULES, load_all_rules, rules_markdown

from .conftest import ROOT


def test_rules_doc_is_current():
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == rules_markdown(), "run `xlsales rules --markdown > docs/rules.md`"


def test_every_rule_has_both_languages_and_a_known_severity():
    load_all_rules()
    assert len(RULES) > 40
    for r in RULES.values():
        assert r.severity in ("error", "warning")
        assert r.zh and r.en and r.zh != r.en, r.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.zh), f"{r.id}: the zh message has no Chinese"
