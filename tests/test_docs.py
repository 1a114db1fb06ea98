"""Docs generated from the code stay current."""

from __future__ import annotations

from xlsales.core.issues import NAMES, RULES, load_all_rules, rule_name, rules_markdown

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


def test_every_rule_has_a_name_in_words():
    """The summary and the Status block name rules in words, not ids such as commit_below_90."""
    load_all_rules()
    assert set(RULES) <= set(NAMES), sorted(set(RULES) - set(NAMES))
    assert rule_name("commit_below_90", "zh") == "承诺商机概率不足"
    assert rule_name("commit_below_90", "en") == "commit below the commit probability"
    for zh, en in NAMES.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), zh  # the zh name is Chinese, the en one English
        assert en.isascii(), en
