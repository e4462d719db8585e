"""File uploads: a multipart form read under the body-size limit, and the file saved under a safe name.

The limit (``settings.max_upload_bytes``, else ``max_body_bytes``) is enforced while the body streams in, so an oversized
upload is refused with 413 before it is written anywhere; a declared ``Content-Length`` over the
limit is refused before reading at all.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from medai.service.security.limits import upload_limit

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class SavedUpload:
    """An uploaded file on disk: ``path`` is ours (a fixed safe name), ``filename`` the client's, sanitised."""

    filename: str
    path: Path
    size: int


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise HTTPException(413, f"upload exceeds the limit of {limit} bytes")
        yield chunk


async def read_multipart(request: Request, max_files: int = 1, max_fields: int = 10) -> FormData:
    """The request's ``multipart/form-data`` body: 415 for another content type, 413 when too large,
    400 when malformed or holding more than ``max_files`` files."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise HTTPException(415, f"content type {content_type or '(none)'!r} is not supported; "
                                 "send multipart/form-data with the image in the 'file' field")
    limit = upload_limit(request.app.state.settings)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"upload of {declared} bytes exceeds the limit of {limit} bytes")
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=max_files, max_fields=max_fields)
    try:
        return await parser.parse()
    except MultiPartException as error:
        raise HTTPException(400, f"malformed multipart body: {error.message}") from None


def safe_filename(name: str | None) -> str:
    """The last path component of a client's file name, restricted to harmless characters (for display only)."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "upload"


def save_upload(upload: UploadFile, folder: Path, suffix: str = "") -> SavedUpload:
    """Copy ``upload`` into ``folder`` as ``upload<suffix>`` (the client's name never becomes a path)."""
    if not re.fullmatch(r"(\.[a-z0-9]{1,5}){0,2}", suffix):
        raise ValueError(f"unsafe suffix {suffix!r}")
    path = folder / f"upload{suffix}"
    upload.file.seek(0)
    with path.open("wb") as handle:
        shutil.copyfileobj(upload.file, handle)
    return SavedUpload(filename=safe_filename(upload.filename), path=path, size=path.stat().st_size)
