"""The sepsis model: streaming equals batch scoring, explanations in words, package round trip."""

import numpy as np

from medai.models import ModelCard, load_package, save_package
from medai.risk.sepsis.model import SepsisModel


def _card() -> ModelCard:
    return ModelCard.model_validate({
        "name": "sepsis-ews", "version": "0.0.1", "task": "test", "summary": "test", "intended_use": "tests",
        "out_of_scope_use": [], "training_data": [], "evaluation_data": [{"name": "synthetic", "citation": "tests", "licence": "CC0", "n": 30}],
        "metrics": [{"name": "AUROC", "value": 0.9, "ci_low": 0.8, "ci_high": 0.95, "dataset": "synthetic", "split": "all"}],
        "limitations": ["synthetic"], "ethical_considerations": "none", "authors": ["tests"], "licence": "Apache-2.0",
        "created": "2026-11-30T00:00:00+00:00", "medai_version": "0.1.0"})


def test_septic_stays_score_higher(tiny_model, synthetic_stays):
    septic = [tiny_model.predict_stay(s.values)[-1] for s in synthetic_stays[60:] if s.labels.any()]
    stable = [tiny_model.predict_stay(s.values)[-1] for s in synthetic_stays[60:] if not s.labels.any()]
    assert np.mean(septic) > np.mean(stable) + 0.2


def test_streaming_matches_batch(tiny_model, synthetic_stays):
    stay = synthetic_stays[6]
    stream = tiny_model.stream()
    streamed = np.array([stream.update(row) for row in stay.values])
    np.testing.assert_allclose(streamed, tiny_model.predict_stay(stay.values), rtol=1e-9)


def test_peek_does_not_commit(tiny_model, synthetic_stays):
    stream = tiny_model.stream()
    rows = synthetic_stays[0].values
    stream.update(rows[0])
    peeked = stream.peek(rows[1])
    assert stream.state.hours == 1
    assert stream.update(rows[1]) == peeked


def test_explanation_names_measurements_in_clinical_words(tiny_model, synthetic_stays):
    stay = next(s for s in synthetic_stays[60:] if s.labels.any())
    stream = tiny_model.stream()
    risk = [stream.update(row) for row in stay.values][-1]
    explanation = stream.explain(risk)
    assert explanation.summary.startswith(f"Sepsis risk {risk:.0%}")
    notes = " ".join(c.note for c in explanation.contributions)
    assert any(word in notes for word in ("Heart rate", "Lactate", "Respiratory rate", "Systolic BP", "Temperature"))
    assert any("/min" in c.note or "mmol/L" in c.note or "mmHg" in c.note or "°C" in c.note for c in explanation.contributions)


def test_package_round_trip(tiny_model, synthetic_stays, tmp_path):
    card = _card()
    save_package(tmp_path / "pkg", card, tiny_model.save(tmp_path))
    loaded = SepsisModel.from_package(load_package(tmp_path / "pkg"))
    values = synthetic_stays[2].values
    np.testing.assert_allclose(loaded.predict_stay(values), tiny_model.predict_stay(values))
    assert loaded.threshold == tiny_model.threshold and len(loaded.identity.weights_sha256) == 64


def test_blended_model_streams_like_batch_and_packages(blended_model, synthetic_stays, tmp_path):
    model, gru_dir = blended_model
    stay = synthetic_stays[7]
    stream = model.stream()
    streamed = np.array([stream.update(row) for row in stay.values])
    batch = model.predict_stay(stay.values)
    np.testing.assert_allclose(streamed, batch, rtol=1e-6)
    assert not np.allclose(batch, SepsisModel(model.lgbm, model.calibration, model.policy).predict_stay(stay.values))
    peek_stream = model.stream()
    peek_stream.update(stay.values[0])
    first = peek_stream.peek(stay.values[1])
    assert peek_stream.peek(stay.values[1]) == first and peek_stream.update(stay.values[1]) == first
    files = model.save(tmp_path) | {f"gru/{n}": (gru_dir / n).read_bytes() for n in ("weights.safetensors", "config.json", "gru_step.onnx")}
    card = _card()
    save_package(tmp_path / "pkg", card, files)
    loaded = SepsisModel.from_package(load_package(tmp_path / "pkg"))
    assert loaded.gru_weight == 0.3
    np.testing.assert_allclose(loaded.predict_stay(stay.values), batch, rtol=1e-6)
