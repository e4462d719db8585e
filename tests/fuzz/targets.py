"""Fuzz targets: each parser with a strategy of malformed inputs and the one error type it may raise.

A target passes an input when the parser returns or raises its documented error (``InvalidInput`` or
``ImageReadError``, both naming the problem); any other exception is a crash. Used by
``tests/fuzz/test_parsers_fuzz.py`` (few examples) and ``benchmarks/reliability.py`` (many).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from medai.errors import InvalidInput

TRICKY_CELLS = ["", "NA", "NaN", "nan", "inf", "-inf", "1e309", "-0", "1,000", "\uff11", "\u0661\u0662", "\x00", "9" * 400, "2024-02-30",
                "2024-01-01", "\u00b2", "0001-01-01", "9999-12-31T99:99", "\"", "\"\"", "a|b", "\r", "\u202e", "\ud7ff", "-1", "0", "1", "72.5"]
cells = st.one_of(st.sampled_from(TRICKY_CELLS), st.text(max_size=20))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


@st.composite
def mutated_bytes(draw, seed: bytes) -> bytes:
    """``seed`` truncated, with bytes flipped, or with junk inserted."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "zero-run"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at + 64] = b"\x00" * len(data[at:at + 64])
    return bytes(data)


@st.composite
def delimited(draw, header: list[str], sep: str = ",", rows: int = 4) -> str:
    """A header (sometimes with columns dropped or repeated) and rows of tricky cells."""
    columns = list(header)
    if draw(st.integers(0, 3)) == 0:
        columns = draw(st.lists(st.sampled_from(header), min_size=0, max_size=len(header)))
    lines = [sep.join(columns)]
    for _ in range(draw(st.integers(0, rows))):
        width = len(columns) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        lines.append(sep.join(draw(st.lists(cells, min_size=max(width, 0), max_size=max(width, 0)))))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


@dataclass
class Target:
    """A parser under fuzzing."""

    name: str
    strategy: st.SearchStrategy
    run: Callable[[object], object]
    expected: tuple[type[BaseException], ...] = (InvalidInput,)


def _in_file(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="medai-fuzz-"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def _fhir_resource() -> st.SearchStrategy:
    from tests.conftest import make_bundle

    seeds = [entry["resource"] for entry in make_bundle(hours=1)["entry"]]

    @st.composite
    def mutate(draw):
        resource = json.loads(json.dumps(draw(st.sampled_from(seeds))))
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(sorted(resource) + ["extra"]))
            resource[key] = draw(json_values)
        return resource

    return mutate()


def _record_from_fhir(resource) -> object:
    """The path every stored resource takes: schema validation, then the record."""
    from medai.core.fhir import record_from_fhir, validate_resource

    validate_resource(resource)
    return record_from_fhir(resource)


_ENGINE = []


def _engine():
    if not _ENGINE:
        from medai.store.db import make_engine, migrate

        engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='medai-fuzz-')) / 'fuzz.db'}")
        migrate(engine)
        _ENGINE.append(engine)
    return _ENGINE[0]


def _stored_rows(engine) -> int:
    from sqlalchemy import func, select

    from medai.store.schema import resources

    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(resources)).scalar_one()


def _ingest(bundle) -> object:
    """A whole bundle into a real database: rejected bundles must leave nothing behind."""
    from medai.store.ingest import ingest_bundle

    engine = _engine()
    before = _stored_rows(engine)
    try:
        with engine.begin() as connection:
            return ingest_bundle(connection, bundle)
    except InvalidInput:
        assert _stored_rows(engine) == before, "a rejected bundle left resources behind (partial write)"
        raise


def _bundle_strategy() -> st.SearchStrategy:
    from tests.conftest import make_bundle

    @st.composite
    def mutate(draw):
        bundle = make_bundle(hours=1)
        entries = bundle["entry"]
        for _ in range(draw(st.integers(1, 3))):
            entry = entries[draw(st.integers(0, len(entries) - 1))]
            target = draw(st.sampled_from(["resource", "request", "entry"]))
            if target == "entry":
                entry[draw(st.sampled_from(["resource", "request", "fullUrl"]))] = draw(json_values)
            elif isinstance(entry.get(target), dict):
                entry[target][draw(st.sampled_from(sorted(entry[target]) + ["extra"]))] = draw(json_values)
        if draw(st.integers(0, 9)) == 0:
            bundle[draw(st.sampled_from(["type", "entry", "resourceType"]))] = draw(json_values)
        return bundle

    return mutate()


def _ndjson(data: bytes) -> list:
    from medai.core.fhir.ndjson import read_ndjson_file

    return list(read_ndjson_file(_in_file(data, ".ndjson")))


def _ndjson_strategy() -> st.SearchStrategy:
    line = st.one_of(json_values.map(json.dumps), st.text(max_size=30), st.just('{"resourceType": "Patient", "id": "p1"}'))
    text = st.lists(line, max_size=5).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
    return st.one_of(text, st.binary(max_size=200), mutated_bytes(b'{"resourceType": "Patient", "id": "p1"}\n' * 3))


def _psv(text: str):
    from medai.datasets.physionet2019 import parse_psv

    return parse_psv(text, "p000001.psv")


def _psv_strategy() -> st.SearchStrategy:
    from medai.datasets.physionet2019 import COLUMNS, LABEL

    return st.one_of(delimited(COLUMNS + [LABEL], sep="|"), st.text(max_size=200))


def _census(text: str):
    from medai.forecast.census import parse_census_csv

    return parse_census_csv(text)


def _warfarin(data: bytes):
    from medai.datasets.warfarin_iwpc import read_rows
    from medai.treatment.warfarin.patient import from_iwpc_row

    _, rows = read_rows(data)
    return [from_iwpc_row(row) for row in rows]


def _warfarin_strategy() -> st.SearchStrategy:
    header = ["PharmGKB Subject ID", "Gender", "Race (OMB)", "Age", "Height (cm)", "Weight (kg)", "Amiodarone (Cordarone)",
              "Carbamazepine (Tegretol)", "Cyp2C9 genotypes", "VKORC1 genotype:   -1639 G>A (3673); chr16:31015190; rs9923231; C/T",
              "Therapeutic Dose of Warfarin"]
    text = delimited(header).map(lambda t: t.encode("utf-8", "surrogatepass"))
    return st.one_of(text, st.binary(max_size=200), text.flatmap(mutated_bytes))


def _readmission(text: str):
    from medai.datasets.diabetes130 import parse_csv

    return parse_csv(text)


def _readmission_strategy() -> st.SearchStrategy:
    from medai.datasets.diabetes130 import REQUIRED

    return st.one_of(delimited(list(REQUIRED), rows=2), st.text(max_size=200))


def _image(data: bytes):
    from medai.imaging.io import read_image

    return read_image(_in_file(data, ""))


def _dicom_strategy() -> st.SearchStrategy:
    from pydicom.data import get_testdata_file

    seeds = [Path(get_testdata_file(name)).read_bytes() for name in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm")]
    corpus = sorted((Path(__file__).parent / "corpus").glob("*.dcm"))
    return st.sampled_from(seeds + [p.read_bytes() for p in corpus]).flatmap(
        lambda seed: st.one_of(st.just(seed), mutated_bytes(seed)))


def _nifti_strategy() -> st.SearchStrategy:
    import nibabel.testing

    root = Path(nibabel.testing.data_path)
    seeds = [(root / name).read_bytes() for name in ("anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz")]
    corpus = sorted((Path(__file__).parent / "corpus").glob("*.nii*"))
    return st.sampled_from(seeds + [p.read_bytes() for p in corpus]).flatmap(
        lambda seed: st.one_of(st.just(seed), mutated_bytes(seed)))


def _rules_deid(text: str):
    from medai.privacy.rules import RuleDetector

    return RuleDetector().find(text)


def _note_extract(text: str):
    from medai.notes.extract import default_extractor

    return default_extractor().extract(text)


note_text = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace")),
    st.sampled_from(["No fever. Denies chest pain.", "Pt w/ h/o CHF, DM2; r/o PE.", "Dr. Smith 01/02/2020 MRN 123456"]).flatmap(
        lambda s: st.text(max_size=50).map(lambda junk: s + junk + s * 3)),
)


def targets() -> list[Target]:
    """Every fuzz target; image targets expect ``ImageReadError``."""
    from medai.imaging.image import ImageReadError

    return [
        Target("fhir-json-resource", _fhir_resource(), _record_from_fhir),
        Target("fhir-bundle-ingest", _bundle_strategy(), _ingest),
        Target("fhir-ndjson", _ndjson_strategy(), _ndjson),
        Target("psv-physionet2019", _psv_strategy(), _psv),
        Target("csv-forecast-census", st.one_of(delimited(["date", "location", "unit", "census", "capacity", "admissions"]),
                                                st.text(max_size=200)), _census),
        Target("csv-warfarin-iwpc", _warfarin_strategy(), _warfarin),
        Target("csv-readmission", _readmission_strategy(), _readmission),
        Target("dicom", _dicom_strategy(), _image, (ImageReadError,)),
        Target("nifti", _nifti_strategy(), _image, (ImageReadError,)),
        Target("note-rules-deid", note_text, _rules_deid, ()),
        Target("note-extract", note_text, _note_extract, ()),
    ]
