"""Simulator profiles: a person at rest and how each ASMR trigger moves them.

A profile is a TOML file in ``seeds/profiles/``. Every key is optional (the defaults describe an
average young adult at rest); unknown keys are errors so that a typo is not silently ignored::

    name = "responder"
    [person]
    resting_hr_bpm = 66.0
    ln_rmssd = 3.7                      # vagal tone as ln(RMSSD / 1 ms)
    breathing_rate_hz = 0.25
    [triggers.whispering]
    delta_hr_bpm = -4.0                 # change of mean heart rate once the response has settled
    delta_ln_rmssd = 0.35               # change of vagal tone
    delta_breathing_hz = -0.03
    onset_s = 25.0                      # first-order time constant of the response
    session_cv = 0.2                    # session-to-session coefficient of variation of the size
    tingles_per_min = 0.0               # transient sympathetic HR accelerations (FACTS.md §1.6)
    tingle_hr_bpm = 0.0                 # their peak size
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from devices.errors import ProfileError

PROFILES_DIR: Final = Path(__file__).resolve().parents[2] / "seeds" / "profiles"


@dataclass(frozen=True, slots=True)
class Person:
    """The resting state and the noise sources of the beat generator (units in the names)."""

    resting_hr_bpm: float = 66.0
    ln_rmssd: float = 3.7
    """Resting vagal tone, ln(RMSSD/ms); 3.7 is an RMSSD of about 40 ms."""
    breathing_rate_hz: float = 0.25
    mayer_amplitude_ms: float = 22.0
    """Amplitude of the ~0.1 Hz baroreflex (Mayer) oscillation of RR."""
    mayer_freq_hz: float = 0.1
    beat_noise_ms: float = 5.0
    """Standard deviation of the white beat-to-beat RR noise."""
    vlf_sd_bpm: float = 2.2
    vlf_time_s: float = 12.0
    drift_sd_bpm: float = 0.8
    drift_time_s: float = 300.0
    breathing_cv: float = 0.03
    """Breath-to-breath variability of the breathing rate (relative SD, time constant 30 s)."""
    recovery_s: float = 60.0
    """Time constant of the return to baseline in washout and baseline segments."""
    session_sd_hr_bpm: float = 3.0
    session_sd_ln_rmssd: float = 0.12
    session_sd_breathing_hz: float = 0.01


@dataclass(frozen=True, slots=True)
class TriggerResponse:
    """How one trigger moves the person; deltas are relative to the session's baseline."""

    delta_hr_bpm: float = 0.0
    delta_ln_rmssd: float = 0.0
    delta_breathing_hz: float = 0.0
    onset_s: float = 30.0
    session_cv: float = 0.2
    tingles_per_min: float = 0.0
    tingle_hr_bpm: float = 0.0
    tingle_rise_s: float = 1.0
    tingle_decay_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Profile:
    """A person and the responses to named triggers. Unknown triggers give no response."""

    name: str = "default"
    description: str = ""
    person: Person = field(default_factory=Person)
    triggers: tuple[tuple[str, TriggerResponse], ...] = ()

    def response(self, label: str) -> TriggerResponse | None:
        """The response to a segment label, or ``None`` (baseline state) for unknown labels."""
        for name, response in self.triggers:
            if name == label:
                return response
        return None


_LIMITS: Final[dict[str, tuple[float, float]]] = {
    "resting_hr_bpm": (30.0, 200.0),
    "ln_rmssd": (1.0, 6.0),
    "breathing_rate_hz": (0.05, 0.7),
    "mayer_freq_hz": (0.04, 0.15),
    "onset_s": (0.1, 3600.0),
    "recovery_s": (0.1, 3600.0),
    "vlf_time_s": (0.5, 3600.0),
    "drift_time_s": (0.5, 86400.0),
    "tingle_rise_s": (0.1, 60.0),
    "tingle_decay_s": (0.2, 600.0),
}


def _build(cls: type[Any], table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: expected a table")
    known = {f.name for f in fields(cls)}
    values: dict[str, float] = {}
    for key, value in table.items():
        if key not in known:
            raise ProfileError(f"{where}: unknown key {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProfileError(f"{where}.{key}: expected a number, got {value!r}")
        low, high = _LIMITS.get(key, (-math.inf, math.inf))
        if not math.isfinite(value) or not low <= value <= high:
            raise ProfileError(f"{where}.{key}: {value!r} is outside [{low}, {high}]")
        if (key.endswith(("_sd_bpm", "_cv", "_per_min")) or "_sd_" in key) and value < 0:
            raise ProfileError(f"{where}.{key}: must not be negative")
        values[key] = float(value)
    return cls(**values)


def profile_from_dict(doc: dict[str, Any], default_name: str = "custom") -> Profile:
    """Build a :class:`Profile` from a parsed TOML document; raises :class:`ProfileError`."""
    unknown = set(doc) - {"name", "description", "person", "triggers"}
    if unknown:
        raise ProfileError(f"unknown top-level key {sorted(unknown)[0]!r}")
    name = doc.get("name", default_name)
    description = doc.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ProfileError("name and description must be strings")
    person = _build(Person, doc.get("person", {}), "person")
    triggers_table = doc.get("triggers", {})
    if not isinstance(triggers_table, dict):
        raise ProfileError("triggers: expected a table of trigger tables")
    triggers = tuple(
        (label, _build(TriggerResponse, table, f"triggers.{label}"))
        for label, table in triggers_table.items()
    )
    return Profile(name, description, person, triggers)


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``seeds/profiles/<name>.toml``) or from a TOML file path.

    Raises :class:`ProfileError` with a one-line message when the file is missing or invalid.
    """
    looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
    path = Path(name_or_path) if looks_like_path else PROFILES_DIR / f"{name_or_path}.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))
        hint = f" (known profiles: {', '.join(known)})" if not looks_like_path else ""
        raise ProfileError(f"profile {name_or_path!r} not found{hint}") from None
    except OSError as exc:
        raise ProfileError(f"cannot read profile {str(path)!r}: {exc.strerror}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {str(path)!r} is not valid TOML: {exc}") from exc
    try:
        return profile_from_dict(doc, default_name=path.stem)
    except ProfileError as exc:
        raise ProfileError(f"profile {str(path)!r}: {exc}") from None
