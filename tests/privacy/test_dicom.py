"""DICOM de-identification: the basic profile removes names, IDs and dates, keeps pixels, re-maps UIDs consistently."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from medai.errors import InvalidInput
from medai.privacy.dicom import DicomDeidentifier, basic_profile


@pytest.fixture(scope="module")
def ct():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientName = "Przybylo^Edwin"
    ds.PatientBirthDate = "19500602"
    ds.InstitutionName = "Mass General"
    ds.ReferringPhysicianName = "Jones^Anne"
    ds.add_new(0x00091001, "LO", "private secret")
    return ds


def test_patient_identity_and_dates_are_removed(ct):
    out = DicomDeidentifier("key").deidentify(ct)
    assert str(out.PatientName) == "" and out.PatientBirthDate == "" and out.StudyDate == ""
    assert out.PatientID not in ("", ct.PatientID)
    assert str(out.get("InstitutionName", "")) == "" and str(out.get("ReferringPhysicianName", "")) == ""
    assert not any(el.tag.is_private for el in out)
    assert out.PatientIdentityRemoved == "YES"
    assert str(ct.PatientName) == "Przybylo^Edwin"  # the input is not modified


def test_pixels_are_kept_and_file_round_trips(ct, tmp_path):
    out = DicomDeidentifier("key").deidentify(ct)
    assert np.array_equal(out.pixel_array, ct.pixel_array)
    path = tmp_path / "out.dcm"
    out.save_as(path)
    again = pydicom.dcmread(path)
    assert np.array_equal(again.pixel_array, ct.pixel_array)
    assert again.file_meta.MediaStorageSOPInstanceUID == again.SOPInstanceUID


def test_uids_are_remapped_consistently(ct):
    deid = DicomDeidentifier("key")
    first, second = deid.deidentify(ct), deid.deidentify(ct)
    other_slice = ct.copy()
    other_slice.SOPInstanceUID = ct.SOPInstanceUID + ".2"
    third = deid.deidentify(other_slice)
    assert first.StudyInstanceUID != ct.StudyInstanceUID and first.StudyInstanceUID.startswith("2.25.")
    assert first.StudyInstanceUID == second.StudyInstanceUID == third.StudyInstanceUID
    assert first.SeriesInstanceUID == third.SeriesInstanceUID and first.SOPInstanceUID != third.SOPInstanceUID
    assert len(first.StudyInstanceUID) <= 64
    assert DicomDeidentifier("other").deidentify(ct).StudyInstanceUID != first.StudyInstanceUID


def test_modified_dates_option_shifts_dates(ct):
    out = DicomDeidentifier("key", shift_dates=True).deidentify(ct)
    assert out.get("ContentDate", "") != ct.get("ContentDate", "") or "ContentDate" not in ct


def test_profile_is_the_standard_table():
    profile = basic_profile()
    assert profile.action(0x00100010) == "Z"  # PatientName
    assert profile.action(0x0020000D) == "U"  # StudyInstanceUID
    assert profile.action(0x50001000) == "X"  # curves (50xx,xxxx)
    assert profile.action(0x7FE00010) is None  # pixel data is not in the table
    assert len(profile.exact) > 500


def test_not_a_dataset_or_not_dicom_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="expected a pydicom Dataset"):
        DicomDeidentifier("k").deidentify({"PatientName": "x"})
    bad = tmp_path / "bad.dcm"
    bad.write_text("not dicom")
    with pytest.raises(InvalidInput, match="not a readable DICOM file"):
        DicomDeidentifier("k").deidentify_file(bad, tmp_path / "out.dcm")
