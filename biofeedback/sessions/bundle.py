"""The session bundle: one JSON file that holds a whole session and round-trips exactly.

Columnar arrays keep a day of beats compact; Python's float ``repr`` makes JSON numbers
round-trip bit for bit. The layout is documented in the README ("Data formats").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from biofeedback import __version__
from biofeedback.errors import InputError
from biofeedback.safe_io import read_limited, write_private
from biofeedback.sessions.formats_bundle import check_bundle, parse_json
from biofeedback.sessions.formats_limits import MAX_FILE_BYTES

FORMAT_NAME: Final = "biofeedback-session"
FORMAT_VERSION: Final = 1

BEAT_COLUMNS: Final = ("t_s", "rr_ms", "rr_raw", "segment", "flags")
PACKET_COLUMNS: Final = ("t_s", "wall_s", "hex")


@dataclass(slots=True)
class SessionBundle:
    """Everything recorded in one session. Columns are plain lists, one entry per row."""

    session: dict[str, Any]
    device: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    segments: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    packets: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in PACKET_COLUMNS})
    beats: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in BEAT_COLUMNS})
    truth: dict[str, Any] | None = None
    program_version: str = __version__
    waveforms: list[dict[str, Any]] = field(default_factory=list)
    """Raw ECG and ACC chunks (:mod:`~biofeedback.sessions.store_waves`), oldest first."""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "program": {"name": "biofeedback", "version": self.program_version},
            "session": self.session,
            "device": self.device,
            "settings": self.settings,
            "segments": self.segments,
            "markers": self.markers,
            "packets": self.packets,
            "beats": self.beats,
        }
        if self.truth is not None:
            doc["truth"] = self.truth
        if self.waveforms:  # absent, not empty, when there are none: old bundles hash the same
            doc["waveforms"] = self.waveforms
        return doc

    @classmethod
    def from_json(cls, doc: object, origin: str = "bundle") -> SessionBundle:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
            raise InputError(f"{origin}: not a {FORMAT_NAME} file")
        if doc.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{origin}: unsupported format_version {doc.get('format_version')!r}")
        beats = _columns(doc.get("beats"), BEAT_COLUMNS, f"{origin}: beats")
        packets = _columns(doc.get("packets"), PACKET_COLUMNS, f"{origin}: packets")
        truth = doc.get("truth")
        program = doc.get("program")
        bundle = cls(
            session=_mapping(doc.get("session"), f"{origin}: session"),
            device=_mapping(doc.get("device"), f"{origin}: device"),
            settings=_mapping(doc.get("settings", {}), f"{origin}: settings"),
            segments=_records(doc.get("segments", []), f"{origin}: segments"),
            markers=_records(doc.get("markers", []), f"{origin}: markers"),
            packets=packets,
            beats=beats,
            truth=truth if isinstance(truth, dict) else None,
            program_version=str(program.get("version", "")) if isinstance(program, dict) else "",
            waveforms=_records(doc.get("waveforms", []), f"{origin}: waveforms"),
        )
        check_bundle(bundle, origin)
        return bundle


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected an object")
    return value


def _records(value: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{where}: expected a list of objects")
    return value


def _columns(value: object, names: tuple[str, ...], where: str) -> dict[str, list[Any]]:
    table = _mapping(value, where)
    missing = [n for n in names if not isinstance(table.get(n), list)]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")
    lengths = {len(table[n]) for n in names}
    if len(lengths) > 1:
        raise InputError(f"{where}: columns differ in length")
    return table


def write_bundle(path: Path, bundle: SessionBundle) -> None:
    """Write atomically, mode 0600, never through a symlink (:mod:`biofeedback.safe_io`)."""
    text = json.dumps(bundle.to_json(), separators=(",", ":"))
    write_private(path, text + "\n")


def read_bundle(path: Path) -> SessionBundle:
    """A bundle file, read within the import bounds and checked field by field."""
    return parse_bundle(read_limited(path, MAX_FILE_BYTES), str(path))


def parse_bundle(data: bytes, origin: str) -> SessionBundle:
    """A bundle from a file's bytes (see :mod:`~biofeedback.sessions.formats_bundle`)."""
    return SessionBundle.from_json(parse_json(data, origin), origin=origin)
