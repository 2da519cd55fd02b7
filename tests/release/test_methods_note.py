"""The methods note keeps its promises and speaks in sentences."""

from __future__ import annotations

import re

import pytest
from bundle_fixtures import bundle

from fivesafes.release import methods


def _note(out) -> str:
    return (out / "methods.md").read_text() + (out / "methods.html").read_text()


@pytest.mark.parametrize("withheld_by", ["area policy", "publisher"])
def test_withheld_thresholds_leave_no_parameter_in_the_note(tmp_path, withheld_by):
    out = bundle(tmp_path / "b", withhold_thresholds=True, withheld_by=withheld_by)
    note = _note(out)
    # the old note printed "dominance(1,50), dominance(2,85), p%(10)"
    for leak in ("dominance(", "p%(", "50", "85", "10%", "fewer than 7", "25%", "(1, 50)"):
        assert leak not in note, leak
    assert "dominance rules" in note and "the p% rule" in note and "threshold rule" in note
    assert "are withheld " + methods.withheld_by_text(withheld_by) in note
    # the attacker's a priori knowledge is a parameter too: said to be withheld
    assert "how closely is withheld with the thresholds" in note
    for f in out.iterdir():  # nor anywhere else in the bundle
        if f.suffix in (".csv", ".json", ".html", ".md"):
            assert "dominance(" not in f.read_text(), f.name


def test_stated_rules_are_sentences_not_lists(tmp_path):
    note = _note(bundle(tmp_path / "b"))
    assert "A cell is confidential when fewer than 7 contributors make it up" in note
    assert "its largest contributor accounts for more than 50% of its total" in note
    assert "its 2 largest contributors together account for more than 85%" in note
    assert "to within 10% (the p% rule)" in note
    assert "must not be estimable to within 10% of its value" in note
    for raw in ("[[", "]]", "False", "True", "None", "_percent", "= 7"):
        assert raw not in note, raw


def test_choices_made_come_from_the_spec_and_contact_from_the_settings(tmp_path):
    md = (bundle(tmp_path / "b") / "methods.md").read_text()
    choices = md.split("## Choices made")[1].split("## Review")[0]
    items = [line for line in choices.splitlines() if line.startswith("- ")]
    assert len(items) >= 4
    assert any("published as 0" in c for c in items)
    assert any("total value of the hidden cells as small as possible" in c for c in items)
    assert any("to within 25%" in c for c in items)  # [suppression] a_priori_percent
    assert "Contact: statistics@example.gov.uk." in md.split("## Contact")[1]


def test_no_contact_names_the_organisation(tmp_path):
    md = (bundle(tmp_path / "b", contact=None) / "methods.md").read_text()
    contact = md.split("## Contact")[1].strip()
    assert contact == "For questions about these statistics, contact Example Department."


def test_the_check_against_earlier_releases_names_them_only_when_there_were_some():
    first = methods.earlier_text({"safe": True}, ())
    assert "first release" in first and "published before" not in first
    later = methods.earlier_text({"safe": True}, ("REL-0001", "REL-0003"))
    assert "the 2 earlier releases from the same source (REL-0001 and REL-0003)" in later
    assert re.search(r"no hidden cell can be worked out", later)


def test_join_reads_as_english():
    assert methods.join([]) == ""
    assert methods.join(["a"]) == "a"
    assert methods.join(["a", "b", "c"]) == "a, b and c"
