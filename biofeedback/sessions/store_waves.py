"""Raw waveforms in the store and in bundles: the H10's ECG (µV) and chest acceleration (mg).

A waveform is stored in *chunks*, one row of the ``waveforms`` table each (schema version 3; the
chunk being recorded is in ``waveforms_open`` as pieces, see :data:`MIGRATION`):
``stream`` (``ecg`` or ``acc``), ``segment`` (the PMD stream's continuity segment: nothing joins
samples across two), ``t0_s`` (the first sample's session time), ``fs_hz`` (the chunk's sample
rate: sample ``k`` is at ``t0_s + k / fs_hz``), ``n`` (samples), ``channels`` (1 for ECG; 3 for
ACC: x, y, z) and ``data``, the samples in the compact encoding below. A recorder starts a new
chunk every :data:`CHUNK_VALUES` sample values, at a new segment, and wherever the frames'
times leave the chunk's line by more than :data:`MAX_TIME_ERROR_S` (the PMD clock fit slewing),
so every sample's time comes back within that of the time the live pipeline gave it.

Encoding ``delta-zigzag-planes-zlib`` (the only one): per channel, the first differences of the
integer samples (the first sample's difference from 0), zigzag-mapped to unsigned
(``(d << 1) ^ (d >> 63)``: small differences of either sign become small numbers), as
little-endian uint32 in channel-major order, the four bytes of each value split into four planes
(all lowest bytes, then all second bytes, ...; the upper planes of small differences are runs of
zeros), compressed with zlib level 6. A day of simulated 130-Hz ECG is about 11 MB
(``bench/bench_store.py``; 4 bytes a sample would be 45 MB). Samples must lie within
±2**30 (the H10's ECG is 24-bit, its ACC 16-bit).

Decoding is bounded: the zlib stream may inflate to exactly ``4 * n * channels`` bytes, no more,
and must end there; anything else is :class:`WaveformDamagedError` (a damaged chunk in the store,
exit status 1) or an :class:`~biofeedback.errors.InputError` for an imported bundle.

numpy is imported only where samples are encoded or decoded: opening a store does not pay for it.
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from biofeedback.errors import BiofeedbackError, InputError
from biofeedback.sessions import formats_limits as lim

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

ENCODING: Final = "delta-zigzag-planes-zlib"
STREAMS: Final = {"ecg": (1, "uV"), "acc": (3, "mg")}
"""stream -> (channels, unit)."""
CHUNK_VALUES: Final = 7800
"""A recorder's chunk size in sample values (samples x channels): a minute of 130-Hz ECG, 13 s
of 200-Hz ACC, 104 s of 25-Hz ACC. Measured on the simulated H10 (bench/bench_store.py): zlib
compresses 1-s chunks 18 % worse than 10-s ones and 60-s ones 6 % better; and rows well over a
4-KiB page keep the file near the data (with 10-s chunks, 1.3 kB rows, whole rows fit only
two to a page and the file was 1.6 times the data, with 60-s ones 1.1 times)."""
MAX_TIME_ERROR_S: Final = 0.002
"""How far a stored sample's time may be from the time the pipeline gave it."""
SAMPLE_LIMIT: Final = 2**30
_ZLIB_LEVEL: Final = 6

MIGRATION: Final = """
    CREATE TABLE waveforms (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        stream TEXT NOT NULL CHECK (stream IN ('ecg', 'acc')),
        segment INTEGER NOT NULL,
        t0_s REAL NOT NULL,
        fs_hz REAL NOT NULL,
        n INTEGER NOT NULL,
        channels INTEGER NOT NULL,
        encoding TEXT NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX waveforms_session ON waveforms(session_id, stream, t0_s);
    CREATE TABLE waveforms_open (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        stream TEXT NOT NULL CHECK (stream IN ('ecg', 'acc')),
        segment INTEGER NOT NULL,
        t0_s REAL NOT NULL,
        fs_hz REAL NOT NULL,
        n INTEGER NOT NULL,
        channels INTEGER NOT NULL,
        encoding TEXT NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX waveforms_open_session ON waveforms_open(session_id)
"""
"""Schema 2 -> 3: waveform chunks (new tables only: an open connection of a v2 program keeps
working, and a session's delete cascades to its chunks). ``waveforms`` holds complete chunks,
only ever appended, so its pages stay full. ``waveforms_open`` holds the chunk a recorder is
filling, as pieces (the samples of one commit each, rows of the same form): a complete chunk
replaces its pieces in one transaction, and the recovery of a session a killed recorder left
moves its pieces over as they are. (Rewriting the open chunk in place at every commit split
pages and left the file 1.7 times the data, and re-encoded it 20 times.)"""


COLUMNS: Final = ("stream", "segment", "t0_s", "fs_hz", "n", "channels", "encoding", "data")
BUNDLE_KEYS: Final = ("stream", "segment", "t0_s", "fs_hz", "n", "channels", "unit", "encoding")
"""A bundle's waveform record: these keys plus ``samples`` (base64 of the encoded bytes, or a
plain list of integers: ``[v, ...]`` for ECG, ``[[x, y, z], ...]`` for ACC)."""


class WaveformDamagedError(BiofeedbackError):
    """A stored waveform chunk does not decode (exit status 1; the rest of the session is
    readable)."""


def encode(samples: NDArray[Any]) -> bytes:
    """Integer samples, shape (n,) or (n, channels), in :data:`ENCODING`."""
    import numpy as np

    a = np.asarray(samples)
    if a.dtype.kind not in "iu":
        raise ValueError(f"waveform samples must be integers, not {a.dtype}")
    a = (a[:, None] if a.ndim == 1 else a).astype(np.int64)
    if a.ndim != 2:
        raise ValueError(f"waveform samples must be of shape (n,) or (n, channels): {a.shape}")
    if a.size and (a.min() < -SAMPLE_LIMIT or a.max() >= SAMPLE_LIMIT):
        raise ValueError(f"a waveform sample is beyond ±2**30: {a.min()}..{a.max()}")
    d = np.diff(a.T, axis=1, prepend=0)
    zz = ((d << 1) ^ (d >> 63)).astype("<u4").ravel()
    planes = zz.view(np.uint8).reshape(-1, 4).T
    return zlib.compress(planes.tobytes(), _ZLIB_LEVEL)


def decode(data: bytes, n: int, channels: int) -> NDArray[np.int32]:
    """The samples of one chunk, shape (n, channels); ValueError if ``data`` is not ``n``
    samples of ``channels`` in :data:`ENCODING` (never inflating more than that)."""
    import numpy as np

    size = 4 * n * channels
    z = zlib.decompressobj()
    try:
        raw = z.decompress(bytes(data), size)
    except zlib.error as exc:
        raise ValueError(f"not a zlib stream ({exc})") from None
    if len(raw) != size or not z.eof or z.unconsumed_tail or z.unused_data:
        raise ValueError(f"does not hold {n} samples of {channels} channel(s)")
    zz = np.frombuffer(raw, np.uint8).reshape(4, -1).T.copy().view("<u4").ravel()
    d = (zz >> 1).astype(np.int64) ^ -(zz & 1).astype(np.int64)
    values = np.cumsum(d.reshape(channels, n), axis=1)
    if values.size and (values.min() < -SAMPLE_LIMIT or values.max() >= SAMPLE_LIMIT):
        raise ValueError("decodes to samples beyond ±2**30")
    out: NDArray[np.int32] = values.T.astype(np.int32)
    return out


@dataclass(frozen=True, slots=True)
class Chunk:
    """One stored chunk (a row of ``waveforms`` without its session)."""

    stream: str
    segment: int
    t0_s: float
    fs_hz: float
    n: int
    channels: int
    encoding: str
    data: bytes

    def row(self, session_id: int) -> tuple[Any, ...]:
        return (session_id, *(getattr(self, c) for c in COLUMNS))

    def to_json(self) -> dict[str, Any]:
        """The bundle's record: exact (the encoded bytes as they are stored)."""
        doc: dict[str, Any] = {k: getattr(self, k) for k in BUNDLE_KEYS if k != "unit"}
        doc["unit"] = STREAMS[self.stream][1] if self.stream in STREAMS else None
        doc["samples"] = base64.b64encode(self.data).decode("ascii")
        return doc

    def samples(self, where: str = "") -> NDArray[np.int32]:
        """The decoded samples; :class:`WaveformDamagedError` if the chunk is damaged."""
        if self.encoding != ENCODING:
            raise WaveformDamagedError(f"{where}unknown waveform encoding {self.encoding!r}")
        try:
            return decode(self.data, self.n, self.channels)
        except ValueError as exc:
            raise WaveformDamagedError(
                f"{where}the {self.stream} chunk at t={self.t0_s:g} s is damaged: {exc}"
            ) from None

    def times(self) -> NDArray[np.float64]:
        import numpy as np

        out: NDArray[np.float64] = self.t0_s + np.arange(self.n) / self.fs_hz
        return out


def chunk_from_row(row: tuple[Any, ...]) -> Chunk:
    stream, segment, t0, fs, n, channels, encoding, data = row
    return Chunk(stream, segment, t0, fs, n, channels, encoding, bytes(data))


def canonical_records(records: object, origin: str) -> list[dict[str, Any]]:
    """A bundle's ``waveforms``, each checked (decoded once, bounded) and in the form the store
    gives back: base64 samples, every key of :data:`BUNDLE_KEYS`. InputError if one is bad."""
    if not isinstance(records, list):
        raise InputError(f"{origin}: waveforms: expected a list of objects")
    lim.check_count(len(records), lim.MAX_WAVE_CHUNKS, "waveform chunks", f"{origin}: waveforms")
    total = 0
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InputError(f"{origin}: waveforms[{i}]: expected an object")
        samples, stream = record.get("samples"), record.get("stream")
        count = len(samples) if isinstance(samples, list) else record.get("n")
        channels = STREAMS[stream][0] if isinstance(stream, str) and stream in STREAMS else 1
        if type(count) is int and count > 0:
            total += count * channels
        if total > lim.MAX_WAVE_VALUES:
            raise InputError(
                f"{origin}: waveforms[{i}]: over {lim.MAX_WAVE_VALUES} sample values in all"
            )
    return [
        chunk_from_json(record, f"{origin}: waveforms[{i}]").to_json()
        for i, record in enumerate(records)
    ]


def chunk_from_json(record: object, where: str) -> Chunk:
    """A bundle's waveform record, checked (and decoded once, bounded): InputError if not."""
    if not isinstance(record, Mapping):
        raise InputError(f"{where}: expected an object")
    stream = record.get("stream")
    if stream not in STREAMS:
        raise InputError(f"{where}.stream: expected one of {', '.join(STREAMS)}")
    channels, unit = STREAMS[stream]
    if record.get("channels", channels) != channels:
        raise InputError(f"{where}.channels: a {stream} chunk has {channels} channel(s)")
    if record.get("unit", unit) != unit:
        raise InputError(f"{where}.unit: {stream} samples are in {unit}")
    small = lim.MAX_SMALL_INT
    segment = _int(record.get("segment", 0), -small - 1, small, f"{where}.segment")
    t0 = _real(record.get("t0_s"), lim.MAX_ABS_T_S, f"{where}.t0_s")
    fs = _real(record.get("fs_hz"), lim.MAX_FS_HZ, f"{where}.fs_hz")
    if not fs > 0:
        raise InputError(f"{where}.fs_hz: must be positive")
    samples = record.get("samples")
    encoding = record.get("encoding", ENCODING if isinstance(samples, str) else None)
    if isinstance(samples, str):
        if encoding != ENCODING:
            raise InputError(f"{where}.encoding: expected {ENCODING!r}, got {encoding!r}")
        if len(samples) > lim.MAX_CHUNK_BYTES * 4 // 3 + 4:
            raise InputError(f"{where}.samples: over {lim.MAX_CHUNK_BYTES} encoded bytes")
        n = _int(record.get("n"), 0, lim.MAX_CHUNK_SAMPLES, f"{where}.n")
        try:
            data = base64.b64decode(samples, validate=True)
            decode(data, n, channels)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"{where}.samples: {exc}") from None
    elif isinstance(samples, list):
        if encoding is not None:
            raise InputError(f"{where}.encoding: a list of samples has no encoding")
        data, n = _encode_list(samples, channels, lim.MAX_CHUNK_SAMPLES, f"{where}.samples")
        if record.get("n", n) != n:
            raise InputError(f"{where}.n: {record.get('n')!r} but {n} samples are given")
    else:
        raise InputError(f"{where}.samples: expected base64 text or a list of integers")
    return Chunk(stream, segment, t0, fs, n, channels, ENCODING, data)


def chunk_of_record(record: Mapping[str, Any]) -> Chunk:
    """A canonical record (from :func:`canonical_records` or the store) as a chunk, unchecked."""
    return Chunk(
        record["stream"],
        record["segment"],
        record["t0_s"],
        record["fs_hz"],
        record["n"],
        record["channels"],
        record["encoding"],
        base64.b64decode(record["samples"]),
    )


def _encode_list(
    values: list[Any], channels: int, max_samples: int, where: str
) -> tuple[bytes, int]:
    import numpy as np

    if len(values) > max_samples:
        raise InputError(f"{where}: {len(values)} samples is over the limit of {max_samples}")
    ok = all(
        (type(v) is int)
        if channels == 1
        else (isinstance(v, list) and len(v) == channels and all(type(x) is int for x in v))
        for v in values
    )
    if not ok:
        what = "integers" if channels == 1 else f"lists of {channels} integers"
        raise InputError(f"{where}: expected {what}")
    try:
        array = np.asarray(values, dtype=np.int64).reshape(len(values), channels)
        return encode(array), len(values)
    except (ValueError, OverflowError) as exc:
        raise InputError(f"{where}: {exc}") from None


def _int(value: object, low: int, high: int, where: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InputError(f"{where}: expected an integer from {low} to {high}")
    return value


def _real(value: object, bound: float, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number")
    if not (math.isfinite(value) and abs(value) <= bound):
        raise InputError(f"{where}: {value!r} is out of range")
    return float(value)
