"""The crisis lexicon file: the shipped one validates, broken ones are refused naming the field."""

from importlib import resources

import pytest
import yaml

from medai.assistant.safety.knowledge import KnowledgeError
from medai.assistant.safety.lexicon import load_lexicon
from medai.assistant.safety.types import CATEGORIES


def test_shipped_lexicon_covers_every_category_with_citations():
    lexicon = load_lexicon()
    assert lexicon.id == f"crisis-lexicon-{lexicon.version}"
    assert {r.category for r in lexicon.rules} == set(CATEGORIES)
    assert all(r.citation.source for r in lexicon.rules)
    assert {"plan", "means", "time", "act"} <= {r.kind for r in lexicon.rules}
    assert not any(r.negatable for r in lexicon.rules if r.kind in ("plan", "means", "time", "act"))


def _write(tmp_path, mutate):
    data = yaml.safe_load(resources.files("medai.assets").joinpath(
        "knowledge/assistant/safety/crisis_lexicon.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["rules"][0]["patterns"].append("(unclosed"), "rules.0.patterns"),
    (lambda d: d["rules"][1].update(id=d["rules"][0]["id"]), "rules"),
    (lambda d: d["rules"][0].update(category="sadness"), "rules.0.category"),
    (lambda d: d["rules"][0].update(risk="none"), "rules.0.risk"),
    (lambda d: d["rules"][0].pop("citation"), "rules.0.citation"),
    (lambda d: d["rules"][0].update(colour="red"), "rules.0.colour"),
])
def test_broken_lexicon_names_the_field(tmp_path, mutate, field):
    with pytest.raises(KnowledgeError) as error:
        load_lexicon(_write(tmp_path, mutate))
    assert field in str(error.value)


def test_contexts_may_not_touch_firm_rules(tmp_path):
    def point_at_plans(data):
        data["contexts"][0]["rules"] = ["si.plan"]
    with pytest.raises(KnowledgeError) as error:
        load_lexicon(_write(tmp_path, point_at_plans))
    assert "contexts.0.rules" in str(error.value)


def test_context_naming_no_rule_is_refused(tmp_path):
    with pytest.raises(KnowledgeError) as error:
        load_lexicon(_write(tmp_path, lambda d: d["contexts"][0].update(rules=["xx.none"])))
    assert "contexts.0.rules" in str(error.value)
