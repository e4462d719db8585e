"""The text-aware MIMIC-IV variant on synthetic discharge notes written in the MIMIC-IV-Note layout."""

import gzip
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from medai.datasets.mimic_iv import (Admission, iter_discharge_notes, load_admissions, load_diagnoses, load_patients,
                                     notes_by_admission)
from medai.risk.readmission.text import (STRUCTURED, MiniLMEmbedder, TextAwareReadmission, chunk_spans, join_examples,
                                         mimic_icd9, readmission_labels, structured_features)

FIXTURES = Path(__file__).parent / "fixtures" / "mimic"
SYNTHETIC_LABELS = {91000011: 1, 91000012: 1, 91000013: 0, 91000021: 0, 91000022: 0, 91000031: 1, 91000032: 1, 91000041: 0}


@pytest.fixture(scope="module")
def synthetic_examples():
    admissions = load_admissions(FIXTURES)
    notes = notes_by_admission(iter_discharge_notes(FIXTURES))
    return join_examples(admissions, load_patients(FIXTURES), notes, load_diagnoses(FIXTURES))


def test_labels_follow_the_30_day_window_and_exclusions():
    labels = readmission_labels(load_admissions(FIXTURES))
    assert labels == SYNTHETIC_LABELS  # 91000033 died in hospital, 91000051 went to hospice: excluded


def test_structured_features_use_only_earlier_admissions():
    admissions = load_admissions(FIXTURES)
    rows = dict(zip((a.hadm_id for a in admissions), structured_features(admissions, load_patients(FIXTURES),
                                                                         load_diagnoses(FIXTURES))))
    column = {name: k for k, name in enumerate(STRUCTURED)}
    assert rows[91000011][column["prior_admissions"]] == 0 and np.isnan(rows[91000011][column["days_since_last_discharge"]])
    assert rows[91000013][column["prior_admissions"]] == 2
    assert rows[91000012][column["days_since_last_discharge"]] == pytest.approx(11 + 10.67 / 24, abs=1e-3)
    assert rows[91000011][column["charlson_index"]] == 5  # CHF 1 + diabetes with complications 2 + renal 2
    assert rows[91000031][column["charlson_index"]] == 3  # varices (severe liver) supersede cirrhosis (mild)
    assert rows[91000013][column["charlson_index"]] == 0 and rows[91000013][column["n_diagnoses"]] == 1  # ICD-10 only
    assert rows[91000011][column["age"]] == 78 and rows[91000011][column["female"]] == 1
    assert mimic_icd9("25040") == "250.40" and mimic_icd9("E8889") == "E888.9" and mimic_icd9("V707") == "V70.7"


def test_notes_join_admissions_with_addenda_after_the_summary(synthetic_examples):
    assert dict(zip(synthetic_examples.hadm_ids.tolist(), synthetic_examples.y.tolist())) == SYNTHETIC_LABELS
    text = synthetic_examples.texts[list(synthetic_examples.hadm_ids).index(91000012)]
    assert text.index("Readmitted within two weeks") < text.index("Addendum: rehabilitation bed")
    assert all(t.startswith("SYNTHETIC TEST NOTE") for t in synthetic_examples.texts)


def test_the_gzipped_release_layout_loads(tmp_path):
    (tmp_path / "note").mkdir()
    with (FIXTURES / "note" / "discharge.csv").open("rb") as source, gzip.open(tmp_path / "note" / "discharge.csv.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    notes = list(iter_discharge_notes(tmp_path, hadm_ids=[91000012]))
    assert [(n.note_id, n.note_type, n.note_seq) for n in notes] == [("90000001-DS-2", "DS", 2), ("90000001-AD-3", "AD", 3)]
    assert notes[0].charttime == datetime(2150, 1, 27) and notes[0].storetime == datetime(2150, 1, 27, 13, 5)
    assert '"Patient states he cannot afford torsemide."' in notes[0].text  # quoted text with commas and newlines survives


def test_bad_note_rows_name_the_line_and_column(tmp_path):
    (tmp_path / "note").mkdir()
    lines = (FIXTURES / "note" / "discharge.csv").read_text().split("\n")
    (tmp_path / "note" / "discharge.csv").write_text("\n".join([lines[0], "1-XX-1,1,2,XX,1,2150-01-01 00:00:00,,text"]))
    with pytest.raises(ValueError, match="line 2, column note_type"):
        list(iter_discharge_notes(tmp_path))
    (tmp_path / "note" / "discharge.csv").write_text("note_id,subject_id,text\n1-DS-1,1,x\n")
    with pytest.raises(ValueError, match="column hadm_id: is missing"):
        list(iter_discharge_notes(tmp_path))


def test_chunks_cover_the_text():
    text = " ".join(f"w{i}" for i in range(300))
    spans = chunk_spans(text, words=128)
    assert len(spans) == 3 and spans[0][0] == 0 and spans[-1][1] == len(text)
    assert text[spans[1][0]:spans[1][1]].split()[0] == "w128"


def _synthetic_cohort(n: int, seed: int):
    """Admissions whose only readmission signal is in the note (structured features are alike)."""
    rng = np.random.default_rng(seed)
    start = datetime(2150, 1, 1)
    admissions, texts, y = [], [], []
    for i in range(n):
        label = int(rng.random() < 0.4)
        admit = start + timedelta(days=int(rng.integers(0, 900)))
        admissions.append(Admission(80000000 + i, 81000000 + i, admit, admit + timedelta(days=3), None, "EW EMER.", "",
                                    "HOME", "Medicare", "WHITE", False))
        words = (["lives alone", "missed follow-up", "ran out of medications", "recurrent admissions"] if label else
                 ["good family support", "stable", "tolerating diet", "follow-up booked"])
        texts.append("SYNTHETIC TEST NOTE. " + ". ".join(rng.choice(words, 3)) + ". Discharged home.")
        y.append(label)
    return admissions, texts, np.array(y)


def test_text_carries_signal_with_tfidf():
    from sklearn.metrics import roc_auc_score

    admissions, texts, y = _synthetic_cohort(80, seed=0)
    X = structured_features(admissions, {}, {})
    model = TextAwareReadmission(embedder="tfidf").fit(X[:50], texts[:50], y[:50])
    assert roc_auc_score(y[50:], model.predict_proba(X[50:], texts[50:])) > 0.9
    explanation = model.explain(X[60], texts[60])
    assert explanation.contributions[-1].feature == "discharge summary text"


def test_minilm_path_on_the_fixture_notes(synthetic_examples):
    """MiniLM (offline) embeds mean-pooled chunks; the model trains and explains with an evidence span."""
    embedder = MiniLMEmbedder()
    vectors = embedder.transform(synthetic_examples.texts[:2])
    assert vectors.shape == (2, 384) and np.all(np.isfinite(vectors))
    model = TextAwareReadmission(embedder="minilm").fit(synthetic_examples.structured, synthetic_examples.texts,
                                                        synthetic_examples.y)
    p = model.predict_proba(synthetic_examples.structured, synthetic_examples.texts)
    assert p.shape == (8,) and ((p > 0) & (p < 1)).all()
    long_text = synthetic_examples.texts[0] + " " + " ".join(["stable"] * 200)
    explanation = model.explain(synthetic_examples.structured[0], long_text)
    for span in explanation.evidence:
        assert long_text[span.start:span.end].startswith(span.text[:50])


@pytest.mark.data
def test_fixture_notes_join_the_real_demo_admissions(data_dir):
    admissions = load_admissions(data_dir)
    assert len(admissions) == 275
    notes = notes_by_admission(iter_discharge_notes(FIXTURES))
    examples = join_examples(admissions, load_patients(data_dir), notes, load_diagnoses(data_dir))
    expected = {22595853: 0, 22841357: 1, 29079034: 1, 24597018: 1, 27703517: 0, 25563031: 0, 25797028: 0, 28662225: 1,
                20321825: 1}  # 25742920 was discharged to hospice
    assert dict(zip(examples.hadm_ids.tolist(), examples.y.tolist())) == expected
    assert examples.structured.shape == (9, len(STRUCTURED)) and (examples.structured[:, STRUCTURED.index("n_diagnoses")] > 0).all()
