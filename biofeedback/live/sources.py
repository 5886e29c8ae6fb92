"""Pick a heart-rate source from options (injected, never monkeypatched).

The options are plain values; turning command-line flags into them is the CLI's job
(:func:`biofeedback.cli.options.source_options`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from biofeedback.errors import InputError

if TYPE_CHECKING:
    from devices.simulator import ArtifactRates, SimConfig
    from devices.source import HeartRateSource


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What the user asked for: one of ``simulate``, ``device`` or ``replay``."""

    simulate: str | None = None
    device: str | None = None
    replay: str | None = None
    profile: str = "responder"
    seed: int = 0
    speed: float = 1.0
    segments: str = "baseline:300"
    duration_s: float | None = None
    artifacts: str = ""
    latency_s: float = 0.0
    strap: str = "hr"
    """The simulated strap's kind: ``hr`` (the Heart Rate Service only) or ``h10`` (a Polar H10:
    also raw ECG and chest acceleration over PMD, in process or through the fake BlueZ)."""


def parse_artifact_rates(spec: str) -> ArtifactRates:
    """``"ectopic=0.01,missed=0.005"`` to :class:`ArtifactRates`; errors name the bad item."""
    from devices.simulator import ArtifactRates

    known = {f.name for f in fields(ArtifactRates)}
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, text = item.partition("=")
        if not sep or key not in known:
            raise InputError(f"--artifacts: {item!r}: expected one of {', '.join(sorted(known))}=N")
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"--artifacts: {item!r}: {text!r} is not a number") from None
        if value < 0:
            raise InputError(f"--artifacts: {item!r}: a rate cannot be negative")
        values[key] = value
    try:
        return ArtifactRates(**values)
    except ValueError as exc:
        raise InputError(f"--artifacts: {exc}") from exc


def simulator_config(opts: SourceOptions) -> SimConfig:
    from devices.simulator import SimConfig, load_profile, parse_segments

    try:
        segments = parse_segments(opts.segments)
    except ValueError as exc:
        raise InputError(f"--segments: {exc}") from exc
    profile = load_profile(opts.profile)
    artifacts = parse_artifact_rates(opts.artifacts)
    try:
        return SimConfig(
            seed=opts.seed,
            profile=profile,
            segments=segments,
            duration_s=opts.duration_s,
            artifacts=artifacts,
            latency_max_s=opts.latency_s,
        )
    except ValueError as exc:
        raise InputError(f"simulator: {exc}") from exc


def open_source(opts: SourceOptions, *, fast: bool = False) -> HeartRateSource:
    """The source the options name. ``fast`` runs a simulation without sleeping."""
    chosen = [o for o in (opts.simulate, opts.device, opts.replay) if o is not None]
    if len(chosen) > 1:
        raise InputError("choose one source: --simulate, --device or --replay")
    if opts.replay is not None:
        from pathlib import Path

        from biofeedback.live.replay import open_replay

        return open_replay(Path(opts.replay), speed=None if fast else opts.speed)
    if opts.simulate == "ble":
        from biofeedback.live.simulated_ble import SimulatedBleSource

        return SimulatedBleSource(simulator_config(opts), speed=opts.speed, h10=opts.strap == "h10")
    if opts.simulate is not None:
        from devices.simulator import SimulatedSource, SimulatedStrap

        strap = SimulatedStrap(simulator_config(opts))
        return SimulatedSource(strap, speed=None if fast else opts.speed)
    if opts.device is not None:
        from devices.ble_pmd import BleH10Source

        # The heart-rate service as from any strap; ECG and ACC too when it has PMD (an H10).
        return BleH10Source(opts.device)
    raise InputError("no source: give --simulate, --device ADDR|NAME or --replay FILE")
