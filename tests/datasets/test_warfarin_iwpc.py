"""IWPC warfarin loader: the CS234 file quirks (BOM, CRLF, empty trailing columns, NA), ids, the split."""

import pytest

from medai.datasets import warfarin_iwpc as w
from medai.datasets.registry import verify
from medai.errors import InvalidInput

HEADER = "\ufeffPharmGKB Subject ID,Gender,Race,Age,Therapeutic Dose of Warfarin,,,\r\n"


def _write(tmp_path, body: str):
    path = tmp_path / "warfarin.csv"
    path.write_bytes((HEADER + body).encode("utf-8"))
    return path


def test_reads_bom_crlf_na_and_drops_empty_columns(tmp_path):
    path = _write(tmp_path, "PA1,male,White,60 - 69,28.00,,,\r\nPA2,NA,Unknown,NA,NA,,,\r\n,,,,,,,\r\n")
    header, rows = w.read_rows(path)
    assert header == ["PharmGKB Subject ID", "Gender", "Race", "Age", "Therapeutic Dose of Warfarin"]
    assert [r[w.ID] for r in rows] == ["PA1", "PA2"]
    assert rows[1]["Gender"] is None and rows[1]["Age"] is None
    assert w.stable_dose(rows[0]) == 28.0 and w.stable_dose(rows[1]) is None
    assert w.with_dose(rows) == rows[:1]


def test_duplicate_or_missing_ids_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="appears twice"):
        w.read_rows(_write(tmp_path, "PA1,male,White,60 - 69,28\r\nPA1,male,White,60 - 69,30\r\n"))
    with pytest.raises(InvalidInput, match="subject id is empty"):
        w.read_rows(_write(tmp_path, ",male,White,60 - 69,28\r\n"))
    (tmp_path / "other.csv").write_text("id,dose\n1,2\n")
    with pytest.raises(InvalidInput, match="PharmGKB Subject ID"):
        w.read_rows(tmp_path / "other.csv")


def test_split_is_by_patient_stable_and_about_one_fifth():
    rows = [{w.ID: f"PA{i}"} for i in range(5000)]
    train, validation = w.split(rows)
    assert {r[w.ID] for r in train}.isdisjoint({r[w.ID] for r in validation})
    assert len(train) + len(validation) == 5000
    assert 0.17 < len(validation) / 5000 < 0.23
    assert w.split(list(reversed(rows)))[1] == list(reversed(validation))


@pytest.mark.data
def test_real_file_counts_and_checksum(data_dir):
    assert verify("warfarin_iwpc", data_dir) == {"warfarin.csv": True, "metadata.xls": True}
    header, rows = w.read_rows(data_dir / "warfarin_iwpc" / "warfarin.csv")
    assert len(header) == 63 and header[0] == w.ID
    assert len(rows) == 4560 and len(w.with_dose(rows)) == 4423
