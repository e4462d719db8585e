"""Section detection: normalised names, assertion defaults, unknown headers, the rule file."""

from __future__ import annotations

import pytest
import yaml

from medai.notes.sections import SectionDetector, SectionRules, detect, load_rules, section_at

NOTE = """CHIEF COMPLAINT: Cough.

History of present illness: Three days of cough.
PAST MEDICAL HISTORY:
Asthma.
FAMILY HISTORY: Mother with breast cancer.
HEENT: Normal.
ASSESSMENT AND PLAN: Bronchitis.
RECOMMENDATIONS: Return if worse.
ZEBRA STRIPES: unusual header.
"""


def test_detects_headers_with_normalised_names_and_defaults():
    sections = detect(NOTE)
    assert [s.name for s in sections] == ["chief_complaint", "history_of_present_illness", "past_medical_history",
                                          "family_history", "physical_exam", "assessment_and_plan", "recommendations",
                                          "other"]
    by_name = {s.name: s for s in sections}
    assert by_name["family_history"].assertion == "family"
    assert by_name["past_medical_history"].assertion == "historical"
    assert by_name["chief_complaint"].assertion is None
    family = by_name["family_history"]
    assert NOTE[family.header_start:family.header_end] == "FAMILY HISTORY"
    assert NOTE[family.start:family.end].strip() == "Mother with breast cancer."


def test_section_at_and_text_before_the_first_header():
    text = "Seen today.\nIMPRESSION: Pneumonia."
    sections = detect(text)
    assert section_at(sections, 2) is None
    assert section_at(sections, text.index("Pneumonia")).name == "impression"


def test_headers_only_count_at_line_start():
    assert detect("The patient has no family history: none relevant.") == []


def test_rule_file_validates_and_rejects_duplicate_headers():
    rules = load_rules()
    assert all(s.source in rules.sources for s in rules.sections)
    assert {"family_history", "past_medical_history", "impression", "assessment_and_plan", "recommendations"} <= {
        s.name for s in rules.sections}
    data = yaml.safe_load(rules.model_dump_json())
    data["sections"][0]["headers"].append("FAMILY HISTORY")
    with pytest.raises(ValueError):
        SectionRules.model_validate(data)


def test_custom_rules():
    data = yaml.safe_load(load_rules().model_dump_json())
    data["sections"].append({"name": "zebra", "source": "mtsamples", "headers": ["ZEBRA STRIPES"]})
    detector = SectionDetector(SectionRules.model_validate(data))
    assert detector.detect(NOTE)[-1].name == "zebra"
