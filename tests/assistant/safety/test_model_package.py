"""The shipped crisis model package: hash-checked load, thresholds, tampering refused, one real screen."""

import shutil

import numpy as np
import pytest

from medai.assistant.safety.model import CONFIG_FILE, WEIGHTS_FILE, CrisisModel, LinearProbe, load_crisis_model
from medai.assistant.safety.screen import CrisisScreener
from medai.models import ModelPackageError
from medai.models.registry import ModelRegistry


def test_shipped_package_loads_with_its_card():
    model = load_crisis_model()
    assert model.id == "crisis-screen-1.0.0" and model.probe.coef_.shape == (1, 384)
    assert 0 < model.threshold <= model.moderate_threshold < 1
    card = model.package.card
    recall = next(m for m in card.metrics if m.name.startswith("Recall"))
    assert recall.value >= 0.98 and card.operating_point.threshold == pytest.approx(model.threshold)
    assert ModelRegistry().get("crisis-screen").version == "1.0.0"


def test_altered_weights_are_refused(tmp_path):
    copy = tmp_path / "crisis"
    shutil.copytree(load_crisis_model().package.path, copy)
    data = bytearray((copy / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 0xFF
    (copy / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelPackageError, match="altered"):
        load_crisis_model(copy)
    assert (copy / CONFIG_FILE).is_file()


def test_risk_levels_of_probabilities():
    probe = LinearProbe.from_tensors({"coef": np.zeros((1, 384)), "intercept": np.zeros(1)}, [0, 1])
    model = CrisisModel(probe, threshold=0.4, moderate_threshold=0.7)
    assert [model.risk_of(p) for p in (0.1, 0.4, 0.69, 0.7)] == ["none", "low", "low", "moderate"]
    assert model.screen("   ").risk == "none"


def test_linear_probe_fits_and_round_trips():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + 0.1 * rng.normal(size=200) > 0).astype(int)
    probe = LinearProbe(C=10).fit(X, y)
    assert (probe.predict(X) == y).mean() > 0.9
    again = LinearProbe.from_tensors(probe.tensors(), list(probe.classes_))
    assert np.allclose(again.predict_proba(X), probe.predict_proba(X), atol=1e-5)
    assert probe.explain(X[:1])[0]["probability"] > 0.5


def test_combined_screen_takes_the_higher_of_rules_and_model():
    screener = CrisisScreener(model=load_crisis_model())
    result = screener.screen("I want to kill myself")
    assert result.risk == "high"
    assert {e.source for e in result.evidence} <= {"rule", "model"} and "rule" in {e.source for e in result.evidence}
    assert screener.identity()["model_id"] == "crisis-screen"


def test_probe_tensors_survive_safetensors_for_fortran_ordered_weights():
    from safetensors.numpy import load, save

    probe = LinearProbe.from_tensors({"coef": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
                                      "intercept": np.zeros(3)}, ["a", "b", "c"])
    restored = load(save(probe.tensors()))
    assert np.array_equal(restored["coef"], np.arange(12.0).reshape(3, 4))


@pytest.mark.data
def test_ordinary_training_texts_hold_no_crisis_words(data_dir):
    from medai.assistant.safety.train import CRISIS_WORDS, ordinary_texts

    texts = ordinary_texts(data_dir, ["I had a lovely walk today."])
    assert len(texts.train["cognitive_distortions"]) > 500 and len(texts.train["counsel_chat"]) > 200
    assert texts.train["everyday"] == ["I had a lovely walk today."]
    for part in (texts.train, texts.held_out):
        for source, items in part.items():
            if source != "everyday":
                assert not [t for t in items if CRISIS_WORDS.search(t)]
    assert not set(texts.train["counsel_chat"]) & set(texts.held_out["counsel_chat"])


def test_topic_stage_separates_forum_posts_from_ordinary_texts():
    from medai.assistant.safety.train import fit_probe, fit_topic

    rng = np.random.default_rng(1)
    forum = [rng.normal(1.0, 1.0, size=(n, 8)) for n in (1, 5, 20)]
    ordinary = {"a": rng.normal(-1.0, 1.0, size=(30, 8)), "b": rng.normal(-1.0, 1.0, size=(5, 8))}
    chat = rng.normal(1.0, 1.0, size=(4, 8))
    topic = fit_topic(forum, ordinary, crisis_chat=chat)
    assert topic.predict_proba(np.full((1, 8), 1.0))[0, 1] > 0.9 > topic.predict_proba(np.full((1, 8), -1.0))[0, 1]
    users = [type("U", (), {"at_risk": r})() for r in (True, False, True)]
    risk = fit_probe(users, forum, at_risk=chat, not_at_risk=ordinary["b"])
    assert risk.coef_.shape == (1, 8)
