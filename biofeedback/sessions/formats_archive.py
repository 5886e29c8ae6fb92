"""ZIP archives around one recording: Garmin Connect's "Export Original" (a ``.zip`` holding
the activity's ``.fit``), a phone app's share sheet. The one file inside is read as if it had
been given alone, under its own name (an Elite HRV name still gives the start time).

An archive of several files (Elite HRV's export of every reading, an account export) is
refused with the advice to unzip it and analyse or import the folder; an archive is never
extracted to disk, and its member is bounded like any input file before it is inflated.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Final

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim

ZIP_MAGIC: Final = b"PK\x03\x04"
_ENCRYPTED: Final = 0x1


def is_zip(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def only_member(path: Path, data: bytes) -> tuple[Path, bytes]:
    """The path (``ARCHIVE/NAME``, for messages) and bytes of the archive's one file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if _is_data(info)]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable ZIP archive: {exc}") from None
    if not members:
        raise InputError(f"{path}: a ZIP archive with no files in it")
    if len(members) > 1:
        names = ", ".join(PurePosixPath(m.filename).name for m in members[:3])
        more = ", ..." if len(members) > 3 else ""
        raise InputError(
            f"{path}: a ZIP archive of {len(members)} files ({names}{more}): unzip it and "
            "analyze or import the folder"
        )
    info = members[0]
    inner = path / PurePosixPath(info.filename).name
    if info.flag_bits & _ENCRYPTED:
        raise InputError(f"{inner}: encrypted in its ZIP archive: unzip it first")
    if info.file_size > lim.MAX_FILE_BYTES:
        raise InputError(
            f"{inner}: {info.file_size / 2**20:.1f} MiB once unzipped is over the "
            f"{lim.MAX_FILE_BYTES / 2**20:.1f} MiB limit for an input file"
        )
    try:
        with archive.open(info) as member:
            content = member.read(lim.MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError) as exc:
        raise InputError(f"{inner}: cannot unzip it: {exc}") from None
    if len(content) > lim.MAX_FILE_BYTES:
        raise InputError(f"{inner}: larger unzipped than its archive says: not read")
    if is_zip(content):
        raise InputError(f"{inner}: a ZIP archive inside a ZIP archive: unzip it first")
    if not content.strip():
        raise InputError(f"{inner}: empty file")
    return inner, content


def _is_data(info: zipfile.ZipInfo) -> bool:
    """A file, not a folder or the resource forks macOS adds (``__MACOSX/``, ``._name``)."""
    parts = PurePosixPath(info.filename).parts
    return not info.is_dir() and not any(p.startswith((".", "__MACOSX")) for p in parts)
