"""DICOM header de-identification: PS3.15 Basic Application Level Confidentiality Profile.

The attribute list and actions are data (``assets/knowledge/privacy/dicom_basic_profile.csv``,
Table E.1-1). Actions: ``X`` remove, ``Z`` empty, ``D`` dummy value, ``U`` new UID, ``K`` keep,
``C`` clean (done as a dummy); compound actions take the least destructive choice that keeps the
file valid (``X/Z`` -> Z, ``X/D`` and ``Z/D`` -> D, ``X/Z/D`` -> Z, ``X/Z/U*`` -> U). Private
attributes, curves (50xx) and overlay data/comments (60xx) are removed. Pixel data is kept as is:
text burned into the pixels is **not** removed (check ``BurnedInAnnotation``).

UIDs are re-mapped with a keyed hash (``2.25.<integer>``), so the same key maps a study's
UIDs the same way in every file and series stay linked. ``PatientID`` becomes a keyed pseudonym.
With ``shift_dates=True`` (the Retain Longitudinal Temporal Information with Modified Dates
option) dates are shifted by the patient's keyed offset instead of emptied.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medai.errors import InvalidInput, Problem
from medai.privacy.lexicons import knowledge_dir
from medai.privacy.surrogates import SurrogateGenerator

PROFILE_FILE = "dicom_basic_profile.csv"
ACTIONS = {"X": "X", "Z": "Z", "D": "D", "U": "U", "K": "K", "C": "D", "X/Z": "Z", "X/D": "D", "Z/D": "D",
           "X/Z/D": "Z", "X/Z/U*": "U"}
_NUMERIC_VRS = ("US", "UL", "SS", "SL", "FL", "FD")
_TEXT_DUMMY = {"PN": "ANONYMOUS", "DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y", "IS": "0",
               "DS": "0", "CS": "ANONYMOUS", "UI": "2.25.0"}


class ProfileRow(BaseModel):
    """One row of Table E.1-1 (basic profile column)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tag: str = Field(pattern=r"^([0-9A-FX]{8}|private)$", description="GGGGEEEE; X stands for any hex digit.")
    keyword: str
    action: str = Field(pattern=r"^(X|Z|D|U|K|C|X/Z|X/D|Z/D|X/Z/D|X/Z/U\*)$")


@dataclass(frozen=True)
class Profile:
    """Actions by exact tag, and the repeating-group patterns (e.g. ``(50XX,XXXX)``)."""

    exact: dict[int, str]
    groups: list[tuple[str, str]]

    def action(self, tag: int) -> str | None:
        """The (simplified) action for a tag, or None when the profile does not list it."""
        if tag in self.exact:
            return ACTIONS[self.exact[tag]]
        text = f"{tag:08X}"
        for pattern, action in self.groups:
            if all(p in ("X", c) for p, c in zip(pattern, text)):
                return ACTIONS[action]
        return None


def read_profile(path: Path) -> Profile:
    """Validate and load the profile CSV (``#`` lines are its citation header)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    exact, groups, problems = {}, [], []
    for number, row in enumerate(csv.DictReader(lines), start=2):
        try:
            item = ProfileRow.model_validate(row)
        except ValidationError as exc:
            problems.append(Problem(f"{path.name}: row {number}", str(exc.errors()[0]["msg"])))
            continue
        if item.tag == "private":
            continue
        digits = item.tag
        if "X" in digits:
            groups.append((digits, item.action))
        else:
            exact[int(digits, 16)] = item.action
    if problems:
        raise InvalidInput(problems[:20])
    return Profile(exact, groups)


@lru_cache(maxsize=2)
def basic_profile(path: str | None = None) -> Profile:
    """The shipped Basic Profile (Table E.1-1)."""
    return read_profile(Path(path) if path else knowledge_dir() / PROFILE_FILE)


class DicomDeidentifier:
    """Applies the basic profile to pydicom datasets; one key keeps UIDs and pseudonyms consistent."""

    def __init__(self, key: str, shift_dates: bool = False, profile: Profile | None = None):
        if not key:
            raise ValueError("DICOM de-identification needs a key (any secret string)")
        self.key = key
        self.shift_dates = shift_dates
        self.profile = profile or basic_profile()

    def new_uid(self, uid: str) -> str:
        """The keyed replacement of a UID (``2.25.`` + a 128-bit integer, at most 64 characters)."""
        digest = hmac.new(self.key.encode(), f"uid\x1f{uid}".encode(), hashlib.sha256).digest()[:16]
        return f"2.25.{int.from_bytes(digest, 'big')}"

    def pseudonym(self, value: str) -> str:
        """Keyed pseudonym for PatientID and other identifiers kept as dummies (16 hex characters)."""
        return hmac.new(self.key.encode(), f"id\x1f{value}".encode(), hashlib.sha256).hexdigest()[:16].upper()

    def deidentify(self, dataset):
        """A de-identified copy of a pydicom ``Dataset`` (pixel data untouched)."""
        import pydicom

        if not isinstance(dataset, pydicom.Dataset):
            raise InvalidInput(Problem("dataset", f"expected a pydicom Dataset, got {type(dataset).__name__}"))
        ds = copy.deepcopy(dataset)
        patient = str(ds.get("PatientID", ""))
        generator = SurrogateGenerator(self.key, patient)
        ds.remove_private_tags()
        self._apply(ds, generator)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "SOPInstanceUID" in ds and "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "medai PS3.15 E.1-1 Basic Profile" + (" + Modified Dates" if self.shift_dates else "")
        return ds

    def _apply(self, ds, generator: SurrogateGenerator) -> None:
        for element in list(ds):
            tag = int(element.tag)
            action = self.profile.action(tag)
            if element.VR == "SQ" and action in (None, "K", "U"):
                for item in element.value:
                    self._apply(item, generator)
                continue
            if action is None or action == "K":
                continue
            if action == "X":
                del ds[element.tag]
            elif action == "Z":
                element.value = [] if element.VR == "SQ" else None if element.VR in _NUMERIC_VRS else ""
            elif action == "U":
                element.value = self._uids(element.value)
            elif action == "D":
                self._surrogate_value(ds, element, generator)

    def _uids(self, value):
        from pydicom.multival import MultiValue

        if isinstance(value, (list, MultiValue)):
            return [self.new_uid(str(v)) for v in value]
        return self.new_uid(str(value)) if value else value

    def _surrogate_value(self, ds, element, generator: SurrogateGenerator) -> None:
        vr = element.VR
        if element.keyword == "PatientID":
            element.value = self.pseudonym(str(element.value))
        elif vr in ("DA", "DT") and self.shift_dates and element.value:
            element.value = _shift_da(str(element.value), generator.date_offset_days)
        elif vr == "SQ":
            element.value = []
        elif vr in _TEXT_DUMMY:
            element.value = _TEXT_DUMMY[vr]
        elif vr in ("LO", "SH", "LT", "ST", "UT", "UC", "UR", "AE"):
            element.value = "ANONYMOUS"[: 16 if vr in ("SH", "AE") else 64]
        elif vr in _NUMERIC_VRS:
            element.value = 0
        else:
            element.value = b""

    def deidentify_file(self, source: str | Path, target: str | Path) -> Path:
        """Read ``source``, de-identify, write ``target``; ``InvalidInput`` names a file that is not DICOM."""
        import pydicom
        from pydicom.errors import InvalidDicomError

        try:
            dataset = pydicom.dcmread(str(source))
        except (InvalidDicomError, OSError) as exc:
            raise InvalidInput(Problem(str(source), f"not a readable DICOM file ({exc})")) from None
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.deidentify(dataset).save_as(str(target))
        return target


def _shift_da(value: str, days: int) -> str:
    """Shift a DA (YYYYMMDD) or the date part of a DT value by ``days``."""
    try:
        shifted = date(int(value[:4]), int(value[4:6]), int(value[6:8])) + timedelta(days=days)
    except (ValueError, IndexError):
        return "19000101"
    return shifted.strftime("%Y%m%d") + value[8:]
