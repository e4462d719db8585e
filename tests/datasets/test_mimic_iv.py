"""MIMIC-IV demo hosp tables and the MIMIC-IV-Note loader."""

from pathlib import Path

import pytest

from medai.datasets import mimic_iv
from medai.datasets.registry import DatasetNotFound, verify

FIXTURES = Path(__file__).parents[1] / "risk" / "readmission" / "fixtures" / "mimic"


def test_a_folder_in_the_hosp_layout_is_read_like_the_demo():
    admissions = mimic_iv.load_admissions(FIXTURES)
    assert [a.hadm_id for a in admissions[:3]] == [91000011, 91000012, 91000013]
    assert admissions[7].hospital_expire_flag and admissions[7].deathtime is not None
    assert mimic_iv.load_patients(FIXTURES)[90000003].gender == "M"
    assert mimic_iv.load_diagnoses(FIXTURES)[91000011] == [("4280", 9), ("25040", 9), ("5859", 9)]


def test_note_file_is_found_in_the_release_layouts(tmp_path):
    nested = tmp_path / "mimic-iv-note" / "2.2" / "note"
    nested.mkdir(parents=True)
    (nested / "discharge.csv.gz").write_bytes(b"")
    assert mimic_iv.find_note_file(tmp_path) == nested / "discharge.csv.gz"
    with pytest.raises(DatasetNotFound, match="PhysioNet credentials"):
        mimic_iv.find_note_file(tmp_path / "elsewhere")


def test_notes_stream_and_filter_by_admission():
    notes = list(mimic_iv.iter_discharge_notes(FIXTURES, hadm_ids={91000031, 91000041}))
    assert sorted(n.hadm_id for n in notes) == [91000031, 91000041]
    assert all(n.note_id.startswith(f"{n.subject_id}-DS-") for n in notes)


@pytest.mark.data
def test_reads_the_demo_zip(data_dir):
    assert verify("mimic_iv_demo", data_dir) == {"mimic-iv-clinical-database-demo-2.2.zip": True}
    admissions = mimic_iv.load_admissions(data_dir)
    assert len(admissions) == 275 and len({a.subject_id for a in admissions}) == 100
    assert sum(a.hospital_expire_flag for a in admissions) == 15
    assert all(a.dischtime >= a.admittime for a in admissions)
    assert len(mimic_iv.load_patients(data_dir)) == 100
    diagnoses = mimic_iv.load_diagnoses(data_dir)
    assert {version for codes in diagnoses.values() for _, version in codes} == {9, 10}
