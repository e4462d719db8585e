"""The PhysioNet 2019 loader reads the real hospital-A files and names problems in bad ones."""

import pytest

from medai.datasets import physionet2019
from medai.datasets.registry import verify
from medai.errors import InvalidInput, Problem

HEADER = "|".join(physionet2019.COLUMNS + [physionet2019.LABEL])


@pytest.mark.data
def test_reads_real_hospital_a_files(data_dir):
    stays = list(physionet2019.load(data_dir, limit=300))
    assert len(stays) == 300
    first = stays[0]
    assert first.patient_id == "p000001" and first.values.shape[1] == 40
    assert set(first.labels) <= {0, 1}


@pytest.mark.data
def test_dataset_files_match_their_sha256(data_dir):
    assert verify("physionet2019", data_dir) == {"training_setA.zip": True}
    assert verify("synthea_fhir_r4", data_dir) == {"R4_SYNTHEA.zip": True}


def _row(hour, hr="80"):
    values = ["NaN"] * 41
    values[0], values[39], values[40] = hr, str(hour), "0"
    return "|".join(values)


@pytest.mark.parametrize("text,fragment", [
    ("HR|O2Sat\n1|2", "missing columns"),
    (f"{HEADER}\n{_row(1, 'abc')}", "row 2, field HR"),
    (f"{HEADER}\n{_row(2)}\n{_row(1)}", "row 3, field ICULOS"),
    (f"{HEADER}\n1|2|3", "row 2"),
])
def test_bad_files_name_row_and_field(text, fragment):
    with pytest.raises(InvalidInput, match=fragment):
        physionet2019.parse_psv(text, "p999.psv")


def test_one_bad_patient_does_not_stop_a_batch(tmp_path):
    (tmp_path / "p1.psv").write_text(f"{HEADER}\n{_row(1)}\n")
    (tmp_path / "p2.psv").write_text(f"{HEADER}\n{_row(1, 'x')}\n")
    (tmp_path / "p3.psv").write_text(f"{HEADER}\n{_row(1)}\n{_row(2)}\n")
    errors: list[Problem] = []
    stays = list(physionet2019.iter_patients(tmp_path, errors))
    assert [s.patient_id for s in stays] == ["p1", "p3"]
    assert len(errors) == 1 and "p2.psv" in errors[0].location
