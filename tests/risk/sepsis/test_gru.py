"""The sepsis GRU: causal inputs and outputs, streaming == batch, save/load, ONNX step (tiny synthetic stays)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from medai.datasets.physionet2019 import COLUMNS, PatientStay  # noqa: E402
from medai.errors import InvalidInput  # noqa: E402
from medai.risk.sepsis.gru import SepsisGRU, load_safetensors  # noqa: E402
from medai.risk.sepsis.sequence import (  # noqa: E402
    N_FEATURES,
    ONNX_FILE,
    USED,
    WEIGHTS_FILE,
    GRUStream,
    StreamFeaturizer,
    fit_input_stats,
    sequence_inputs,
)

HR, LACTATE, AGE, ICULOS = (COLUMNS.index(name) for name in ("HR", "Lactate", "Age", "ICULOS"))


def synthetic_stay(rng: np.random.Generator, index: int, hours: int | None = None) -> PatientStay:
    """A stay of 40 columns: vitals mostly measured, labs sparse, septic stays with rising HR and lactate."""
    hours = hours or int(rng.integers(8, 40))
    values = rng.normal(loc=np.linspace(50, 120, len(COLUMNS)), scale=5.0, size=(hours, len(COLUMNS)))
    values[rng.random(values.shape) < 0.6] = np.nan
    values[:, COLUMNS.index("EtCO2")] = np.nan  # a variable never measured in these stays
    values[:, AGE] = rng.integers(20, 90)
    values[:, COLUMNS.index("Gender")] = rng.integers(0, 2)
    values[:, COLUMNS.index("Unit1")] = np.nan
    values[:, COLUMNS.index("HospAdmTime")] = -rng.random() * 10
    values[:, ICULOS] = np.arange(1, hours + 1)
    labels = np.zeros(hours, dtype=np.int8)
    if index % 4 == 0 and hours > 10:
        onset = int(rng.integers(5, hours - 2))
        labels[onset:] = 1
        values[onset:, HR] = 130 + rng.normal(size=hours - onset)
        values[onset:, LACTATE] = 5 + rng.random(hours - onset)
    return PatientStay(f"p{index:05d}", values, list(COLUMNS), labels)


@pytest.fixture(scope="module")
def stays() -> list[PatientStay]:
    rng = np.random.default_rng(7)
    return [synthetic_stay(rng, i) for i in range(48)]


@pytest.fixture(scope="module")
def model(stays) -> SepsisGRU:
    return SepsisGRU(hidden_size=8, num_layers=2, epochs=2, batch_size=16, max_train_seconds=None).fit(stays[:36], stays[36:])


def test_inputs_are_forward_filled_standardised_and_never_measured_is_zero(stays):
    stats = fit_input_stats(s.values for s in stays[:36])
    values = stays[0].values.copy()
    values[:, LACTATE] = np.nan
    values[3, LACTATE] = 4.0
    x = sequence_inputs(values, stats)
    assert x.shape == (len(values), N_FEATURES) and x.dtype == np.float32
    j = USED.index("Lactate")
    expected = np.clip((4.0 - stats.center[j]) / stats.scale[j], -stats.clip, stats.clip)
    assert np.all(x[:3, j] == 0.0)  # never measured yet: the training median
    assert np.allclose(x[3:, j], expected)  # forward-filled
    mask = x[:, len(USED) + j]
    assert mask.tolist() == [1.0 if t == 3 else 0.0 for t in range(len(values))]
    delta = x[:, len(USED) + 34 + j]
    assert np.all(delta[:3] == 1.0) and delta[3] == 0.0 and np.all(np.diff(delta[3:]) > 0)
    assert not np.isnan(x).any()
    assert "Unit1" not in USED and "HospAdmTime" not in USED


def test_stream_featurizer_equals_batch_inputs(stays):
    stats = fit_input_stats(s.values for s in stays[:36])
    for stay in stays[36:40]:
        featurizer = StreamFeaturizer(stats)
        stepped = np.stack([featurizer.step(row) for row in stay.values])
        assert np.array_equal(stepped, sequence_inputs(stay.values, stats))


def test_outputs_are_causal(model, stays):
    values = stays[40].values
    base = model.predict_proba(values)
    assert base.shape == (len(values),) and np.all((base > 0) & (base < 1))
    rng = np.random.default_rng(1)
    for t in (0, 4, len(values) - 2):
        changed = values.copy()
        changed[t + 1:] = rng.normal(100, 50, size=changed[t + 1:].shape)
        changed[t + 1:, HR] = np.nan
        after = model.predict_proba(changed)
        assert np.array_equal(after[:t + 1], base[:t + 1])
    # a prefix of the stay gives the same outputs as the whole stay up to that hour
    assert np.allclose(model.predict_proba(values[:6]), base[:6], atol=1e-6)


def test_stream_equals_batch(model, stays):
    for stay in stays[36:42]:
        stream = model.stream()
        streamed = np.array([stream.update(row) for row in stay.values])
        assert np.allclose(streamed, model.predict_proba(stay.values), atol=1e-5, rtol=0)
        assert stream.hours_seen == len(stay.values)


def test_save_load_round_trip_and_onnx_stream(model, stays, tmp_path):
    folder = model.save(tmp_path / "gru")
    assert (folder / WEIGHTS_FILE).exists() and (folder / ONNX_FILE).exists()
    config = json.loads((folder / "config.json").read_text())
    assert config["params"]["hidden_size"] == 8 and len(config["input_stats"]["center"]) == len(USED)
    raw = (folder / WEIGHTS_FILE).read_bytes()  # the safetensors layout: u64 header size, JSON header, data
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert header["head.weight"] == {"dtype": "F32", "shape": [1, 8], "data_offsets": header["head.weight"]["data_offsets"]}
    weights = load_safetensors(folder / WEIGHTS_FILE)
    assert set(weights) == set(model.net_.state_dict())
    loaded = SepsisGRU.load(folder)
    batch = model.predict_proba_stays([s.values for s in stays[36:]])
    for stay, expected in zip(stays[36:], batch, strict=True):
        assert np.array_equal(loaded.predict_proba(stay.values), model.predict_proba(stay.values))
        assert np.allclose(expected, model.predict_proba(stay.values), atol=1e-6)
    for stay in stays[36:40]:
        for backend in ("auto", "torch"):  # auto = onnxruntime when gru_step.onnx exists
            stream = GRUStream.from_dir(folder, backend=backend)
            streamed = np.array([stream.update(row) for row in stay.values])
            assert np.allclose(streamed, model.predict_proba(stay.values), atol=1e-5, rtol=0)


def test_onnx_step_matches_torch_step(model, tmp_path):
    import onnxruntime as ort

    from medai.risk.sepsis.gru import export_onnx_step

    path = export_onnx_step(model, tmp_path / "step.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    step = model.step_module()
    for batch in (1, 3):
        x = rng.normal(size=(batch, N_FEATURES)).astype(np.float32)
        h = rng.normal(size=(model.num_layers, batch, model.hidden_size)).astype(np.float32)
        logit, h_next = session.run(None, {"x_t": x, "h_prev": h})
        with torch.inference_mode():
            t_logit, t_h = step(torch.from_numpy(x), torch.from_numpy(h))
        assert np.allclose(logit, t_logit.numpy(), atol=1e-5) and np.allclose(h_next, t_h.numpy(), atol=1e-5)


def test_tampered_weights_are_refused(model, tmp_path):
    folder = model.save(tmp_path / "gru", export_onnx=False)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 0xFF
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="sha256"):
        SepsisGRU.load(folder)


def test_estimator_contract_and_explain(model, stays):
    fresh = SepsisGRU(hidden_size=8)
    assert not [name for name in vars(fresh) if name.endswith("_")]
    assert fresh.get_params()["hidden_size"] == 8
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        fresh.predict_proba(stays[0].values)
    with pytest.raises(InvalidInput, match="40 columns"):
        model.predict_proba(stays[0].values[:, :39])
    assert len(model.history_) >= 1 and 0.0 <= model.validation_auroc_ <= 1.0
    explanation = model.explain(stays[40].values, hour=5)
    assert explanation.summary.startswith("Sepsis risk") and explanation.contributions
    assert "EtCO2" not in {c.feature for c in explanation.contributions}  # never measured: nothing to attribute
