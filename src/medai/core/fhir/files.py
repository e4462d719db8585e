"""FHIR Bundle files on disk: one JSON file, a folder of them, or a zip.

Zip members are read in memory, never extracted, so a member named ``../../x.json`` cannot write
anywhere; members larger than ``MAX_MEMBER_BYTES`` once inflated (zip bombs) are refused before reading.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from medai.errors import InvalidInput, Problem

MAX_MEMBER_BYTES = 1024 * 1024 * 1024


def bundle_files(path: Path) -> list[tuple[str, Path | zipfile.ZipFile]]:
    """Every bundle in a file, folder or zip as (name, source).

    Bundles of shared reference resources come first (Synthea names them ``*Information*``),
    so the patient bundles that point at those Organizations and Practitioners resolve.
    """
    if path.is_file() and path.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise InvalidInput(Problem(str(path), f"not a readable zip archive ({error})")) from None
        names = [(n, archive) for n in archive.namelist() if n.endswith(".json")]
    elif path.is_dir():
        names = [(str(p), p) for p in sorted(path.rglob("*.json"))]
    else:
        names = [(str(path), path)]
    return sorted(names, key=lambda item: ("Information" not in Path(item[0]).name, item[0]))


def _member_bytes(name: str, archive: zipfile.ZipFile) -> bytes:
    size = archive.getinfo(name).file_size
    if size > MAX_MEMBER_BYTES:
        raise InvalidInput(Problem(name, f"inflates to {size} bytes, over the limit of {MAX_MEMBER_BYTES}", "too-costly"))
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as error:
        raise InvalidInput(Problem(name, f"cannot be read from the zip ({error})")) from None


def read_bundle(name: str, source: Path | zipfile.ZipFile) -> dict:
    """Parse one bundle from a zip member or a file; ``InvalidInput`` naming the file when it is not a JSON object."""
    data = _member_bytes(name, source) if isinstance(source, zipfile.ZipFile) else Path(source).read_bytes()
    try:
        bundle = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidInput(Problem(name, f"is not UTF-8 text ({error.reason} at byte {error.start})")) from None
    except json.JSONDecodeError as error:
        raise InvalidInput(Problem(name, f"malformed JSON: {error}")) from None
    except RecursionError:
        raise InvalidInput(Problem(name, "JSON nested too deeply")) from None
    if not isinstance(bundle, dict):
        raise InvalidInput(Problem(name, f"a FHIR Bundle must be a JSON object, not {type(bundle).__name__}"))
    return bundle
