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
from dataclasses import dataclass, field, fields, replace
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
    """Day-to-day SD of the resting vagal tone (ln ms). The shipped profiles set 0.25: daily
    lnRMSSD varies by a few up to ~10 % within a person (Plews et al. 2012-2013; Flatt & Esco
    2015, IJSPP 10:994), 0.1-0.4 ln ms at lnRMSSD 3.5-4 (FACTS.md §7)."""
    session_sd_breathing_hz: float = 0.01
    # The nuisances below are off by default (a quiet person for unit tests); the shipped
    # profiles switch them on with the values and sources given there (FACTS.md §7).
    settle_ln_rmssd: float = 0.0
    """The session starts this far below its level of vagal tone and settles exponentially (time
    constant ``settle_s``): people relax as they sit (Bourdillon et al. 2017)."""
    settle_s: float = 300.0
    drift_sd_ln_rmssd_per_h: float = 0.0
    """Session-to-session SD of a linear within-session trend of vagal tone (ln ms per hour)."""
    vagal_noise_sd_ln_rmssd: float = 0.0
    """SD of slow Ornstein-Uhlenbeck fluctuations of vagal tone (time constant
    ``vagal_noise_time_s``): the block-to-block variability a response has beyond the
    measurement's own error."""
    vagal_noise_time_s: float = 120.0
    slow_breathing_share: float = 0.0
    """Probability that a segment is breathed slowly, at ``slow_breathing_hz``, which raises vagal
    tone by ``slow_breathing_ln_rmssd`` (RSA grows at slow breathing, Hirsch & Bishop 1981)."""
    slow_breathing_hz: float = 0.1
    slow_breathing_ln_rmssd: float = 0.15
    carryover_share: float = 0.0
    """Share of every trigger response that builds and decays slowly (time constant
    ``carryover_s``) instead of with the onset and recovery time constants: carry-over into the
    washout and the next block."""
    carryover_s: float = 300.0


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
    session_sd_ln_rmssd: float = 0.0
    """Session-to-session SD of the response (ln ms), added to the ``session_cv`` scaling; unlike
    it, a trigger with no mean effect varies too."""
    habituation_per_session: float = 0.0
    """The response shrinks by this share per session: × (1 − h)^session_index."""


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


NUISANCES: Final = (
    "session_sd_ln_rmssd",
    "session_sd_breathing_hz",
    "breathing_cv",
    "settle_ln_rmssd",
    "drift_sd_ln_rmssd_per_h",
    "vagal_noise_sd_ln_rmssd",
    "slow_breathing_share",
    "carryover_share",
)
"""The person's fields that :func:`ideal` resets to their (quiet) defaults."""


def ideal(profile: Profile) -> Profile:
    """``profile`` without its realistic nuisances: the quiet person that unit tests of the beat
    generator use (the shipped profiles and ``biofeedback demo`` keep the nuisances)."""
    quiet = Person()
    person = replace(profile.person, **{k: getattr(quiet, k) for k in NUISANCES})
    triggers = tuple(
        (name, replace(r, session_sd_ln_rmssd=0.0, habituation_per_session=0.0))
        for name, r in profile.triggers
    )
    return replace(profile, person=person, triggers=triggers)


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
    "settle_s": (1.0, 3600.0),
    "vagal_noise_time_s": (1.0, 3600.0),
    "slow_breathing_share": (0.0, 1.0),
    "slow_breathing_hz": (0.05, 0.3),
    "carryover_share": (0.0, 1.0),
    "carryover_s": (1.0, 3600.0),
    "habituation_per_session": (0.0, 0.5),
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
