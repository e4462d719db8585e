"""Diabetes 130 reader: layout checks, clear errors naming column and line, and the real shared copy."""

import pytest

from medai.datasets import diabetes130
from medai.datasets.diabetes130 import REQUIRED, parse_csv
from medai.errors import InvalidInput
from tests.risk.readmission.conftest import HEADER, encounter, to_csv


def test_parses_types_and_missing_values():
    table = parse_csv(to_csv([encounter(12, 34, race="?", diag_3="?", A1Cresult=">8", readmitted="<30"),
                              encounter(13, 34, diag_1="V57", diag_2="E909", diag_3="38")]))
    assert len(table) == 2 and table["encounter_id"].tolist() == [12, 13] and table["number_inpatient"].dtype.kind == "i"
    assert table["race"][0] == "" and table["diag_3"][0] == "" and table["A1Cresult"][0] == ">8"
    assert table.readmitted_within_30_days().tolist() == [1, 0]
    assert table.lines.tolist() == [2, 3]


def test_label_column_is_optional_for_scoring():
    table = parse_csv(to_csv([encounter(1, 2)], [c for c in HEADER if c not in ("readmitted", "weight")]))
    assert not table.has_labels
    with pytest.raises(InvalidInput, match="readmitted: the column is missing"):
        table.readmitted_within_30_days()


def test_missing_columns_are_named():
    header = [c for c in HEADER if c not in ("number_inpatient", "diag_2")]
    with pytest.raises(InvalidInput) as error:
        parse_csv(to_csv([encounter(1, 2)], header))
    assert {p.location for p in error.value.problems} == {"column number_inpatient", "column diag_2"}


@pytest.mark.parametrize(("column", "value", "message"), [
    ("number_inpatient", "two", "'two' is not a whole number"),
    ("time_in_hospital", "-3", "'-3' is not a whole number"),
    ("A1Cresult", "9.1", "'9.1' is not one of"),
    ("insulin", "Maybe", "'Maybe' is not one of Down, No, Steady, Up"),
    ("diag_1", "heart failure", "is not an ICD-9-CM code"),
    ("age", "71", "is not one of [0-10)"),
    ("readmitted", "?", "'?' is not one of <30, >30, NO"),
])
def test_bad_values_name_the_column_and_line(column, value, message):
    rows = [encounter(1, 2), encounter(2, 2), encounter(3, 5, **{column: value})]
    with pytest.raises(InvalidInput) as error:
        parse_csv(to_csv(rows))
    (problem,) = error.value.problems
    assert problem.location == f"line 4, column {column}" and message in problem.message


def test_duplicate_encounters_and_ragged_rows_are_rejected():
    with pytest.raises(InvalidInput, match="line 3, column encounter_id: encounter 1 appears more than once"):
        parse_csv(to_csv([encounter(1, 2), encounter(1, 3)]))
    text = to_csv([encounter(1, 2)]).rstrip() + ",extra\r\n"
    with pytest.raises(InvalidInput, match="line 2: has 51 fields"):
        parse_csv(text)
    with pytest.raises(InvalidInput, match="no encounters"):
        parse_csv(",".join(HEADER) + "\r\n")


def test_required_columns_leave_out_only_weight_and_the_label():
    assert set(HEADER) - set(REQUIRED) == {"weight", "readmitted"}


@pytest.mark.data
def test_reads_the_shared_copy(data_dir):
    table = diabetes130.load(data_dir)
    assert len(table) == 81351 and len(set(table["patient_nbr"].tolist())) == 57214
    assert int(table.readmitted_within_30_days().sum()) == 9027
    assert (table["encounter_id"] > 0).all() and set(table["gender"]) <= {"Female", "Male", "Unknown/Invalid"}
