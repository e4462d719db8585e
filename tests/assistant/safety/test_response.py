"""Crisis response: locale resources, hand-off, FHIR Flag/Communication validity, audit record."""

import pytest
from sqlalchemy import select

from medai.assistant.safety.resources import load_resources
from medai.assistant.safety.response import audit_crisis, crisis_response
from medai.assistant.safety.rules import rule_screen
from medai.core.fhir.validate import validate_resource
from medai.store.schema import audit_log


def test_default_locale_is_us_with_988_911_and_crisis_text_line():
    response = crisis_response(rule_screen("I want to kill myself"))
    contacts = {r["contact"] for r in response.resources}
    assert response.locale == "US" and {"911", "988", "741741"} <= contacts
    assert response.stop_flow and "care team" in response.handoff_offer
    assert any("HOME to 741741" in r["action"] for r in response.resources)


@pytest.mark.parametrize(("locale", "expected"), [("en-GB", {"999", "116 123", "85258"}), ("uk", {"999", "116 123"}),
                                                  ("fr-CA", {"911", "988"}), ("de-DE", {"911", "988"})])
def test_resources_per_locale(locale, expected):
    response = crisis_response(rule_screen("I'm going to end my life"), locale)
    assert expected <= {r["contact"] for r in response.resources}


def test_resources_follow_the_category():
    abuse = crisis_response(rule_screen("my husband beats me"))
    assert "1-800-799-7233" in {r["contact"] for r in abuse.resources}
    overdose = crisis_response(rule_screen("I just took a bottle of pills"))
    assert "1-800-222-1222" in {r["contact"] for r in overdose.resources}
    assert overdose.message.startswith("It sounds like you may be in danger right now. Please call 911")


def test_imminent_message_uses_the_locale_emergency_number():
    assert "Please call 999" in crisis_response(rule_screen("I'm going to kill myself tonight"), "GB").message


def test_low_risk_shows_resources_without_stopping_or_alerting():
    response = crisis_response(rule_screen("I feel hopeless"))
    assert not response.stop_flow and response.flag is None and response.resources


def test_alert_is_valid_fhir_r4_flag_and_communication():
    response = crisis_response(rule_screen("I have a plan to kill myself and I bought a rope"), patient_id="p-1")
    assert validate_resource(response.flag) == "Flag" and validate_resource(response.communication) == "Communication"
    assert response.flag["subject"] == {"reference": "Patient/p-1"}
    assert response.flag["code"]["coding"][0]["code"] == "225444004"
    assert response.communication["priority"] == "stat"
    assert response.communication["about"] == [{"reference": f"Flag/{response.flag['id']}"}]
    assert "bought a rope" in response.communication["payload"][0]["contentString"]
    anonymous = crisis_response(rule_screen("my wife hits me"))
    assert validate_resource(anonymous.flag) == "Flag" and "reference" not in anonymous.flag["subject"]


def test_audit_record_has_rules_but_no_message_text(engine):
    text = "I want to die and I have saved up my pills"
    response = crisis_response(rule_screen(text), patient_id="p-9")
    audit_crisis(engine, response, actor="assistant", role="service", patient_id="p-9",
                 identity={"lexicon": "crisis-lexicon-1.0.0"})
    with engine.connect() as connection:
        row = connection.execute(select(audit_log).where(audit_log.c.action == "assistant.crisis")).mappings().one()
    assert row["patient_id"] == "p-9" and '"imminent"' in row["detail"] and "si.means" in row["detail"]
    assert "pills" not in row["detail"]


def test_resources_file_validation(tmp_path):
    path = tmp_path / "resources.yaml"
    path.write_text("version: '1'\ndescription: x\ndefault_locale: FR\nlocales: {}\nmessages: {}\n", encoding="utf-8")
    with pytest.raises(Exception, match="locales"):
        load_resources(path)
