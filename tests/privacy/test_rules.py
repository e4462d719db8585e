"""Rules: every HIPAA identifier type on crafted sentences, validation of the rule file, clinical words kept."""

from __future__ import annotations

import pytest
import yaml

from medai.errors import InvalidInput
from medai.privacy.lexicons import knowledge_dir
from medai.privacy.phi import PHIType
from medai.privacy.rules import RuleDetector, read_rules
from medai.privacy.text import Deidentifier

CASES = [
    ("Seen by Dr. Jones in clinic.", "Jones", PHIType.NAME),
    ("Mrs. Nicholson slept well.", "Nicholson", PHIType.NAME),
    ("Transferred to Mass General Hospital today.", "Mass General", PHIType.LOCATION),
    ("Lives at 12 Elm Street with wife.", "12 Elm Street", PHIType.LOCATION),
    ("Address: Boston, MA 02114.", "02114", PHIType.LOCATION),
    ("Admitted 03/14/2019 with chest pain.", "03/14/2019", PHIType.DATE),
    ("Surgery on March 5, 2019 went well.", "March 5, 2019", PHIType.DATE),
    ("S/P CABG 1957 and AVR.", "1957", PHIType.DATE),
    ("Home for Christmas per daughter.", "Christmas", PHIType.DATE),
    ("A 92 yo woman with CHF.", "92", PHIType.AGE),
    ("Call daughter at 410-322-1419 tonight.", "410-322-1419", PHIType.PHONE),
    ("Fax: 617-555-0100 for records.", "617-555-0100", PHIType.FAX),
    ("Email jane.doe@example.org for results.", "jane.doe@example.org", PHIType.EMAIL),
    ("SSN 123-45-6789 on file.", "123-45-6789", PHIType.SSN),
    ("MRN: 00123456 confirmed.", "00123456", PHIType.MRN),
    ("Medicare ID 1EG4TE5MK73 verified.", "1EG4TE5MK73", PHIType.HEALTH_PLAN),
    ("Billing acct # 55512345 updated.", "55512345", PHIType.ACCOUNT),
    ("Prescriber DEA # AB1234563.", "AB1234563", PHIType.LICENSE),
    ("Car license plate 7ABC123 in lot.", "7ABC123", PHIType.VEHICLE),
    ("Pacemaker serial # PJN123456 interrogated.", "PJN123456", PHIType.DEVICE),
    ("Portal https://portal.example.org/pt?id=7 shared.", "https://portal.example.org/pt?id=7", PHIType.URL),
    ("Logged in from 192.168.10.4 at home.", "192.168.10.4", PHIType.IP),
    ("Patient ID: X55-2210 on wristband.", "X55-2210", PHIType.ID),
]


@pytest.fixture(scope="module")
def rules_only():
    return Deidentifier(mode="mask", use_tagger=False)


@pytest.mark.parametrize(("sentence", "phi", "kind"), CASES, ids=[c[2].value + ":" + c[1] for c in CASES])
def test_each_identifier_type_is_found_by_rules(rules_only, sentence, phi, kind):
    spans = rules_only.detect(sentence)
    start = sentence.index(phi)
    covering = [s for s in spans if s.start <= start and s.end >= start + len(phi)]
    assert covering, f"{phi!r} not redacted in {sentence!r}: {spans}"
    assert covering[0].type is kind
    assert covering[0].source.startswith(("rule:", "propagated:"))
    assert sentence[covering[0].start:covering[0].end] == covering[0].text


def test_every_hipaa_text_type_has_a_rule():
    detector = RuleDetector()
    covered = {r.type for r in detector.rules.rules} | {r.type for r in detector.rules.context_rules}
    assert set(PHIType) - covered == {PHIType.BIOMETRIC}  # biometrics do not occur as text patterns


@pytest.mark.parametrize("sentence", [
    "History of Parkinson disease, Foley draining clear urine.",
    "BP 120/80, HR 88, on 2L NC at 2000, sats 98%.",
    "Swan-Ganz catheter removed; Doppler pulses present; Babinski negative.",
    "Pt may go home; AUG 0-12, DEC BS at bases.",
])
def test_clinical_text_is_not_redacted(rules_only, sentence):
    assert rules_only.detect(sentence) == []


def test_ambiguous_patterns_redact_without_the_tagger_only(rules_only):
    text = "Admitted 8/23 to CCU."
    assert [s.text for s in rules_only.detect(text)] == ["8/23"]
    detector = RuleDetector()
    hit = next(h for h in detector.find(text) if h.text == "8/23")
    assert not detector.is_standalone(hit, with_tagger=True) and detector.is_standalone(hit, with_tagger=False)


def test_mask_output_keeps_the_rest_of_the_text(rules_only):
    result = rules_only.deidentify("Seen by Dr. Jones on 03/14/2019.")
    assert result.text == "Seen by Dr. [NAME] on [DATE]."
    assert [(r.span.text, r.replacement) for r in result.replacements] == [("Jones", "[NAME]"), ("03/14/2019", "[DATE]")]


def test_rule_file_validation_names_the_broken_rule(tmp_path):
    data = yaml.safe_load((knowledge_dir() / "rules.yaml").read_text())
    data["rules"][0]["examples"] = ["nothing to see"]
    data["rules"][1]["pattern"] = "(unclosed"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInput) as info:
        read_rules(path)
    message = str(info.value)
    assert data["rules"][0]["id"] in message and "examples not matched" in message
    assert data["rules"][1]["id"] in message and "does not compile" in message


def test_rules_need_a_citation(tmp_path):
    data = yaml.safe_load((knowledge_dir() / "rules.yaml").read_text())
    del data["rules"][0]["citation"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInput, match="rules.0.citation"):
        read_rules(path)


def test_non_text_input_is_a_clear_error(rules_only):
    with pytest.raises(InvalidInput, match="text: expected a string"):
        rules_only.detect(b"bytes")
