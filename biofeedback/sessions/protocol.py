"""Session protocols: TOML files in ``seeds/protocols/``, validated before anything starts.

A protocol is settling, a resting baseline, then trigger blocks separated by washouts,
repeated ``repetitions`` times in a ``fixed``, ``randomised`` (seeded) or ``counterbalanced``
order. Counterbalancing uses a Williams balanced Latin square across sessions (Williams 1949,
doi:10.1071/CH9490149): every block appears in every position, and follows every other block
equally often. Keys are listed in ``seeds/protocols/default.toml``; errors name file and line.

Media are checked when the protocol is loaded (:func:`resolve_media`): a block may play a local
file (relative to the protocol's folder, or absolute; ``file:///path`` is read as that path) or
an ``http://`` / ``https://`` URL, nothing else. mpv and FFmpeg open many other "protocols"
(``av://lavfi:`` runs filter graphs that write files and open sockets, ``fd://``, ``edl://``,
``memory://``, ...), so every other scheme is refused, and so are the entries of a local
playlist that are not local files or http(s) URLs, EDL files and empty playlists.
"""

from __future__ import annotations

import math
import os
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from biofeedback.sessions.protocol_toml import TomlSource, check_keys

SEEDS_DIR: Final = Path(__file__).resolve().parents[2] / "seeds"
PROTOCOLS_DIR: Final = SEEDS_DIR / "protocols"
TRIGGERS_PATH: Final = SEEDS_DIR / "triggers.toml"
ORDERS: Final = ("fixed", "randomised", "counterbalanced")
UNTIL_MEDIA_ENDS: Final = "until-media-ends"
MAX_PHASE_S: Final = 4 * 3600.0
MAX_TOTAL_S: Final = 24 * 3600.0
MAX_REPETITIONS: Final = 50
MAX_BLOCKS: Final = 10_000
"""Most ``[[block]]`` tables in one protocol, and most trigger blocks a session may plan
(blocks × repetitions)."""
URL_SCHEMES: Final = ("http", "https")
PLAYLIST_SUFFIXES: Final = (".m3u", ".m3u8", ".pls")
MAX_PLAYLIST_BYTES: Final = 1024 * 1024
MAX_PLAYLIST_ENTRIES: Final = 100_000
"""Most playlist entries checked while loading one protocol (all its playlists together)."""
MAX_PLAYLIST_DEPTH: Final = 4
TOP_KEYS: Final = (
    "name",
    "description",
    "settling_s",
    "baseline_s",
    "washout_s",
    "repetitions",
    "order",
    "seed",
    "self_report",
    "block",
)
BLOCK_KEYS: Final = ("label", "category", "media", "duration_s")


@dataclass(frozen=True, slots=True)
class TriggerBlock:
    """One trigger block. ``media``: ``"manual"``, a URL, or an absolute file path.
    ``duration_s`` None means until the media ends."""

    label: str
    category: str
    media: str
    duration_s: float | None


@dataclass(frozen=True, slots=True)
class PlannedSegment:
    """One step of a session plan, in seconds; ``duration_s`` None: until the media ends."""

    label: str
    kind: str
    """``settling``, ``baseline``, ``trigger`` or ``washout``."""
    category: str | None
    media: str | None
    duration_s: float | None
    self_report: bool = False
    """Ask for 0-10 relaxation and tingle ratings after this block."""


@dataclass(frozen=True, slots=True)
class ProtocolPlan:
    """The segments of one session and the block order used (indices into ``blocks``)."""

    segments: tuple[PlannedSegment, ...]
    order: tuple[int, ...]
    order_method: str
    seed: int | None
    session_index: int

    def to_json(self) -> dict[str, object]:
        """What is stored with the session as ``order_used``."""
        return {
            "method": self.order_method,
            "seed": self.seed,
            "session_index": self.session_index,
            "blocks": list(self.order),
            "labels": [s.label for s in self.segments if s.kind == "trigger"],
        }


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    description: str
    settling_s: float
    baseline_s: float
    washout_s: float
    repetitions: int
    order: str
    seed: int | None
    self_report: bool
    blocks: tuple[TriggerBlock, ...]
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        """The protocol as stored with a session."""
        return {
            "name": self.name,
            "path": self.path,
            "settling_s": self.settling_s,
            "baseline_s": self.baseline_s,
            "washout_s": self.washout_s,
            "repetitions": self.repetitions,
            "order": self.order,
            "seed": self.seed,
            "self_report": self.self_report,
            "blocks": [
                {
                    "label": b.label,
                    "category": b.category,
                    "media": b.media,
                    "duration_s": b.duration_s,
                }
                for b in self.blocks
            ],
        }

    def plan(self, session_index: int = 0, seed: int | None = None) -> ProtocolPlan:
        """The session's segments. ``seed`` overrides the protocol's; a randomised protocol
        with neither draws one, and the plan records it."""
        n = len(self.blocks)
        used_seed = seed if seed is not None else self.seed
        if self.order == "randomised" and used_seed is None:
            used_seed = random.SystemRandom().randrange(2**32)
        rng = random.Random(used_seed)
        order: list[int] = []
        for rep in range(self.repetitions):
            if self.order == "fixed":
                order += range(n)
            elif self.order == "randomised":
                order += rng.sample(range(n), n)
            else:
                order += williams_row(n, session_index * self.repetitions + rep)
        segments: list[PlannedSegment] = []
        if self.settling_s > 0:
            segments.append(PlannedSegment("settling", "settling", None, None, self.settling_s))
        if self.baseline_s > 0:
            segments.append(PlannedSegment("baseline", "baseline", None, None, self.baseline_s))
        for i, index in enumerate(order):
            if i and self.washout_s > 0:
                segments.append(PlannedSegment("washout", "washout", None, None, self.washout_s))
            b = self.blocks[index]
            segments.append(
                PlannedSegment(
                    b.label, "trigger", b.category, b.media, b.duration_s, self.self_report
                )
            )
        return ProtocolPlan(
            tuple(segments),
            tuple(order),
            self.order,
            used_seed if self.order == "randomised" else None,
            session_index,
        )


def williams_square(n: int) -> list[list[int]]:
    """Rows of a balanced Latin square for ``n`` conditions (2n rows when n is odd).

    Quadratic in ``n``: a session needs one row, :func:`williams_row`.

    >>> williams_square(4)
    [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]]
    """
    return [williams_row(n, r) for r in range(2 * n if n % 2 else n)]


def williams_row(n: int, r: int) -> list[int]:
    """Row ``r`` (taken modulo the square's row count) of :func:`williams_square`, in O(n).

    >>> williams_row(3, 4)
    [0, 2, 1]
    """
    rows = 2 * n if n % 2 else n
    r %= rows
    first = [0]
    for k in range(1, n):
        first.append((k + 1) // 2 if k % 2 else n - k // 2)
    row = [(x + r % n) % n for x in first]
    return row[::-1] if r >= n else row


def load_triggers(path: Path = TRIGGERS_PATH) -> dict[str, str]:
    """Trigger name → category, from the catalogue."""
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    return {str(t["name"]): str(t["category"]) for t in doc.get("trigger", [])}


def protocol_path(name_or_path: str | Path) -> Path:
    """A file path, or the name of a shipped protocol (``seeds/protocols/<name>.toml``)."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and len(path.parts) == 1:
        shipped = PROTOCOLS_DIR / f"{path.name}.toml"
        if shipped.is_file():
            return shipped
    return path


def load_protocol(name_or_path: str | Path, *, triggers_path: Path = TRIGGERS_PATH) -> Protocol:
    """Read and validate a protocol; every problem is an InputError naming file and line."""
    path = protocol_path(name_or_path)
    src = TomlSource.read(path)
    doc = src.doc
    check_keys(src, doc, TOP_KEYS)
    triggers = load_triggers(triggers_path)
    raw_blocks = doc.get("block")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        raise src.error("at least one [[block]] is required", "block")
    if len(raw_blocks) > MAX_BLOCKS:
        raise src.error(
            f"{len(raw_blocks)} blocks: a protocol may have at most {MAX_BLOCKS}", "block"
        )
    media = MediaChecker(path.parent)
    blocks = tuple(_block(src, i, b, triggers, media) for i, b in enumerate(raw_blocks))
    order = doc.get("order", "fixed")
    if order not in ORDERS:
        raise src.error(f"order must be one of {', '.join(ORDERS)}, not {order!r}", "order")
    seed = doc.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise src.error("seed must be an integer", "seed")
    repetitions = doc.get("repetitions", 1)
    if isinstance(repetitions, bool) or not isinstance(repetitions, int):
        raise src.error("repetitions must be an integer", "repetitions")
    if not 1 <= repetitions <= MAX_REPETITIONS:
        raise src.error(f"repetitions must be 1 to {MAX_REPETITIONS}", "repetitions")
    if len(blocks) * repetitions > MAX_BLOCKS:
        raise src.error(
            f"{len(blocks)} blocks × {repetitions} repetitions: a session may plan at most "
            f"{MAX_BLOCKS} trigger blocks",
            "repetitions",
        )
    self_report = doc.get("self_report", False)
    if not isinstance(self_report, bool):
        raise src.error("self_report must be true or false", "self_report")
    protocol = Protocol(
        name=_text(src, doc, "name", None, path.stem),
        description=_text(src, doc, "description", None, "", allow_empty=True),
        settling_s=_seconds(src, doc, "settling_s", None, 60.0, allow_zero=True),
        baseline_s=_seconds(src, doc, "baseline_s", None, 180.0, allow_zero=True),
        washout_s=_seconds(src, doc, "washout_s", None, 60.0, allow_zero=True),
        repetitions=repetitions,
        order=order,
        seed=seed,
        self_report=self_report,
        blocks=blocks,
        path=str(path),
    )
    fixed = sum(b.duration_s or 0.0 for b in blocks) * repetitions
    washouts = (len(blocks) * repetitions - 1) * protocol.washout_s
    if protocol.settling_s + protocol.baseline_s + fixed + washouts > MAX_TOTAL_S:
        raise src.error("the protocol lasts more than 24 h", "block")
    return protocol


def _block(
    src: TomlSource, index: int, raw: object, triggers: dict[str, str], media_checker: MediaChecker
) -> TriggerBlock:
    if not isinstance(raw, dict):
        raise src.error("each block must be a table", "block")
    check_keys(src, raw, BLOCK_KEYS, index)
    label = _text(src, raw, "label", index, None)
    category = raw.get("category", triggers.get(label))
    known = sorted(set(triggers.values()))
    if category is None:
        raise src.error(
            f"block {label!r} is not in the trigger catalogue: give a category "
            f"({', '.join(known)})",
            "label",
            index,
        )
    if category not in known:
        raise src.error(
            f"unknown category {category!r} (one of {', '.join(known)})", "category", index
        )
    media = _text(src, raw, "media", index, "manual")
    if media != "manual":
        try:
            media = media_checker.resolve(media)
        except MediaRefused as exc:
            raise src.error(str(exc), "media", index) from None
    if raw.get("duration_s") == UNTIL_MEDIA_ENDS:
        if media == "manual":
            raise src.error(
                f"duration_s {UNTIL_MEDIA_ENDS!r} needs a media file or URL, not manual",
                "duration_s",
                index,
            )
        duration_s: float | None = None
    else:
        duration_s = _seconds(src, raw, "duration_s", index, None, allow_zero=False)
    return TriggerBlock(label, str(category), media, duration_s)


def _text(
    src: TomlSource,
    table: dict[str, Any],
    key: str,
    index: int | None,
    default: str | None,
    *,
    allow_empty: bool = False,
) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not (allow_empty or value.strip()):
        raise src.error(f"{key} must be a non-empty string", key, index)
    return value


def _seconds(
    src: TomlSource,
    table: dict[str, Any],
    key: str,
    index: int | None,
    default: float | None,
    *,
    allow_zero: bool,
) -> float:
    value = table.get(key, default)
    if value is None:
        raise src.error(f"{key} is required (seconds)", key, index)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise src.error(f"{key} must be a number of seconds, not {value!r}", key, index)
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or value > MAX_PHASE_S:
        bound = "≥ 0" if allow_zero else "> 0"
        raise src.error(f"{key} = {value} is impossible (must be {bound} and ≤ 4 h)", key, index)
    return float(value)


# -- media --------------------------------------------------------------------------------------
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PLS_ENTRY = re.compile(r"^\s*file\d+\s*=(.*)$", re.IGNORECASE)
_SHOWN_CHARS = 120


class MediaRefused(ValueError):
    """A media value that may not be played; the message (one line) names it and says why."""


def resolve_media(value: str, base: Path) -> str:
    """The value a player may be given for ``value``: an absolute local path or an http(s) URL.

    Relative paths are resolved against ``base`` (the protocol's folder); ``file:///path`` is
    read as ``/path``. Raises :class:`MediaRefused` for anything else (see the module doc).

    >>> resolve_media("https://example.org/a.mp3", Path("."))
    'https://example.org/a.mp3'
    """
    return MediaChecker(base).resolve(value)


@dataclass(slots=True)
class MediaChecker:
    """Checks the media of one protocol, sharing a budget of playlist entries between them."""

    base: Path
    entries_left: int = MAX_PLAYLIST_ENTRIES
    _checked: set[Path] = field(default_factory=set)
    _opening: set[Path] = field(default_factory=set)

    def resolve(self, value: str, base: Path | None = None, depth: int = 0) -> str:
        where = self.base if base is None else base
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise _refused(value, "control characters are not allowed")
        if not value.strip():
            raise _refused(value, "it is empty")
        if value.startswith("-"):
            raise _refused(value, "a value starting with '-' is not allowed (write ./NAME)")
        scheme = _SCHEME.match(value)
        if scheme is not None:
            name = scheme.group(1).lower()
            if name in URL_SCHEMES:
                return name + _url(value)[len(name) :]
            if name != "file":
                raise _refused(
                    value,
                    f"scheme {name!r} is not allowed (only local files, http:// and https:// "
                    "URLs; write ./NAME for a file whose name has a colon)",
                )
            path = _file_url_path(value)
        elif "://" in value:
            raise _refused(value, "'://' is allowed only in http:// and https:// URLs")
        else:
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = where / path
        return self._local(path, depth)

    def _local(self, path: Path, depth: int) -> str:
        if not path.is_file():
            raise MediaRefused(f"media file not found: {path}")
        resolved = path.resolve()
        try:
            with open(resolved, "rb") as fh:
                head = fh.read(64)
        except OSError as exc:
            raise MediaRefused(f"cannot read media {resolved}: {exc.strerror or exc}") from None
        suffix = resolved.suffix.lower()
        if head.startswith(b"# mpv EDL") or suffix == ".edl":
            raise MediaRefused(f"{resolved} is an mpv EDL file; EDL files are not allowed")
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if (
            suffix in PLAYLIST_SUFFIXES
            or stripped.startswith(b"#extm3u")
            or stripped.startswith(b"[playlist]")
        ):
            self._playlist(resolved, depth)
        return str(resolved)

    def _playlist(self, path: Path, depth: int) -> None:
        if path in self._checked:
            return
        if path in self._opening:
            raise MediaRefused(f"playlist {path} includes itself")
        if depth >= MAX_PLAYLIST_DEPTH:
            raise MediaRefused(f"playlists nested more than {MAX_PLAYLIST_DEPTH} deep at {path}")
        with open(path, "rb") as fh:
            data = fh.read(MAX_PLAYLIST_BYTES + 1)
        if len(data) > MAX_PLAYLIST_BYTES:
            raise MediaRefused(f"playlist {path} is larger than 1 MiB")
        entries = _playlist_entries(data.decode("utf-8", errors="replace"), path.suffix.lower())
        if not entries:
            raise MediaRefused(f"playlist {path} has no entries")
        self._opening.add(path)
        for entry in entries:
            self.entries_left -= 1
            if self.entries_left < 0:
                raise MediaRefused(f"playlists list more than {MAX_PLAYLIST_ENTRIES} entries")
            try:
                self.resolve(entry, path.parent, depth + 1)
            except MediaRefused as exc:
                message = str(exc)
                if not message.startswith("playlist "):
                    message = f"playlist {path}: {message}"
                raise MediaRefused(message) from None
        self._opening.discard(path)
        self._checked.add(path)


def _playlist_entries(text: str, suffix: str) -> list[str]:
    """The entries of an M3U (lines that are not ``#`` comments) or PLS (``FileN=``) playlist."""
    lines = text.lstrip("\ufeff").splitlines()
    is_pls = suffix == ".pls" or next((ln.strip() for ln in lines if ln.strip()), "").lower() == (
        "[playlist]"
    )
    if is_pls:
        matches = (_PLS_ENTRY.match(line) for line in lines)
        return [m.group(1).strip() for m in matches if m is not None and m.group(1).strip()]
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _url(value: str) -> str:
    if any(c.isspace() for c in value):
        raise _refused(value, "a URL may not contain spaces")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise _refused(value, f"not a valid URL ({exc})") from None
    if not value[len(parts.scheme) :].startswith("://") or not host:
        raise _refused(value, "an http(s) URL needs a host (http://HOST/...)")
    return value


def _file_url_path(value: str) -> Path:
    """The local path of ``file:///path`` (host empty or ``localhost``)."""
    parts = urlsplit(value)
    path = unquote(parts.path)
    local = value[5:].startswith("//") and parts.netloc in ("", "localhost")
    if not local or not path.startswith("/") or "\0" in path or parts.query or parts.fragment:
        raise _refused(value, "a file:// URL must name a local absolute path (file:///path)")
    return Path(os.path.normpath(path))


def _refused(value: str, reason: str) -> MediaRefused:
    return MediaRefused(f"media {_shown(value)} refused: {reason}")


def _shown(value: str) -> str:
    """``value`` as a one-line repr, shortened."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 4] + "...'"
